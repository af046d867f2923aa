/*
 * extract_cli.c: see extract_cli.h.
 */
#include "extract_cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "engine.h"
#include "exitcode.h"
#include "http.h"
#include "log.h"
#include "registry.h"
#include "retry.h"
#include "staging.h"
#include "summary.h"

#define EXTRACT_MAX_VENDORS 8

static const char *
family_summary(SourceFamily family)
{
	switch (family)
	{
		case SOURCE_FAMILY_CRM:
			return "Extract CRM contacts (leads and their original source) and deals into staging.";
		case SOURCE_FAMILY_ADS:
			return "Extract daily ad spend, clicks and impressions per campaign into staging.";
		case SOURCE_FAMILY_EMAIL:
			return "Extract email campaigns and their opens, clicks and bounces into staging.";
	}
	return "";
}


/*
 * pick_named resolves the --vendor list against the family. An unknown
 * name is a usage error, reported before anything else happens.
 */
static bool
pick_named(SourceFamily family, const char *program, const char *list,
		   const SourceVendor **picked, int *npicked)
{
	char names[256];
	const char *p = list;

	registry_names(family, names, sizeof(names));
	while (*p != '\0')
	{
		size_t len = strcspn(p, ",");
		char name[64];
		const SourceVendor *v;
		bool dup = false;

		if (len == 0 || len >= sizeof(name))
		{
			fprintf(stderr, "%s: --vendor: invalid list '%s'\nTry '%s --help'.\n",
					program, list, program);
			return false;
		}
		memcpy(name, p, len);
		name[len] = '\0';
		v = registry_find(family, name);
		if (v == NULL)
		{
			fprintf(stderr, "%s: --vendor: unknown vendor '%s' (this binary runs: %s)\n"
					"Try '%s --help'.\n", program, name, names, program);
			return false;
		}
		for (int i = 0; i < *npicked; i++)
			dup = dup || picked[i] == v;
		if (!dup && *npicked < EXTRACT_MAX_VENDORS)
			picked[(*npicked)++] = v;
		p += len;
		if (*p == ',')
			p++;
	}
	return true;
}


/*
 * pick_enabled selects the family's vendors whose section says enabled.
 */
static void
pick_enabled(SourceFamily family, const Config *cfg, const SourceVendor **picked,
			 int *npicked)
{
	for (int i = 0; source_vendors[i] != NULL; i++)
	{
		const SourceVendor *v = source_vendors[i];

		if (v->family == family && config_get_bool(cfg, v->section, "enabled") &&
			*npicked < EXTRACT_MAX_VENDORS)
			picked[(*npicked)++] = v;
	}
}


/*
 * family_sections writes "[crm.hubspot] or [crm.salesforce]" for the
 * message that says nothing is enabled.
 */
static void
family_sections(SourceFamily family, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (int i = 0; source_vendors[i] != NULL; i++)
	{
		int n;

		if (source_vendors[i]->family != family)
			continue;
		n = snprintf(buf + len, size - len, "%s[%s]", len > 0 ? " or " : "",
					 source_vendors[i]->section);
		if (n < 0 || (size_t) n >= size - len)
			return;
		len += (size_t) n;
	}
}


/*
 * extract_main: see extract_cli.h. Vendors named by --vendor are checked
 * before the configuration is read, so a typo costs nothing.
 */
int
extract_main(SourceFamily family, int argc, char **argv)
{
	char program[32];
	char names[256];
	char usage[512];
	CliSpec spec;
	CliOptions opts;
	char run_id[CL_RUN_ID_SIZE];
	Config *cfg = NULL;
	const SourceVendor *picked[EXTRACT_MAX_VENDORS];
	int npicked = 0;
	VendorResult *results = NULL;
	int nresults = 0;
	int exit_code = EXIT_CODE_SOFTWARE;
	bool http_ready = false;

	(void) snprintf(program, sizeof(program), "cl-extract-%s", source_family_name(family));
	registry_names(family, names, sizeof(names));
	(void) snprintf(usage, sizeof(usage),
					"Vendors: %s. Without --vendor, every vendor enabled in the\n"
					"configuration runs. A vendor's staging files are committed only after\n"
					"all of its requests succeeded; --dry-run fetches and maps but commits\n"
					"nothing.", names);
	memset(&spec, 0, sizeof(spec));
	spec.program = program;
	spec.summary = family_summary(family);
	spec.usage_extra = usage;
	spec.extras = CLI_EXTRA_FULL_REFRESH | CLI_EXTRA_VENDOR;

	switch (cli_parse(&spec, argc, argv, &opts))
	{
		case CLI_CONTINUE:
			break;
		case CLI_DONE:
			return EXIT_CODE_OK;
		case CLI_USAGE:
			return EXIT_CODE_USAGE;
	}
	if (opts.vendor != NULL &&
		!pick_named(family, program, opts.vendor, picked, &npicked))
		return EXIT_CODE_USAGE;

	if (!cli_start(&spec, &opts, run_id, &cfg, &exit_code))
	{
		/* errors have already been logged */
		return exit_code;
	}
	if (!http_global_init())
	{
		log_error("cannot initialise the HTTP library");
		exit_code = EXIT_CODE_SOFTWARE;
		goto cleanup;
	}
	http_ready = true;

	if (opts.vendor == NULL)
		pick_enabled(family, cfg, picked, &npicked);
	else
	{
		for (int i = 0; i < npicked; i++)
		{
			if (!config_get_bool(cfg, picked[i]->section, "enabled"))
				log_notice("%s: running although [%s] enabled = false, because --vendor names it",
						   picked[i]->name, picked[i]->section);
		}
	}
	if (npicked == 0)
	{
		char sections[256];

		family_sections(family, sections, sizeof(sections));
		log_error("no %s vendor is enabled in %s: set enabled = true in %s",
				  source_family_name(family), opts.config_path, sections);
		exit_code = EXIT_CODE_CONFIG;
		goto cleanup;
	}

	results = calloc((size_t) npicked, sizeof(VendorResult));
	if (results == NULL)
	{
		log_error("out of memory");
		exit_code = EXIT_CODE_SOFTWARE;
		goto cleanup;
	}
	exit_code = EXIT_CODE_OK;
	for (int i = 0; i < npicked; i++)
	{
		EngineOptions eo = { cfg, &opts, run_id, program };

		if (cl_stop_requested())
			break;
		/* Vendors are independent: one failing does not stop the others,
		 * but the process reports the first failure. */
		if (!engine_run_vendor(picked[i], &eo, &results[nresults]) &&
			exit_code == EXIT_CODE_OK)
			exit_code = cl_error_exit_code(results[nresults].err);
		nresults++;
	}
	if (cl_stop_requested() && exit_code == EXIT_CODE_OK)
		exit_code = EXIT_CODE_TEMPFAIL;
	summary_log(results, nresults, run_id, opts.dry_run);

cleanup:
	free(results);
	config_free(cfg);
	if (http_ready)
		http_global_cleanup();
	return exit_code;
}
