/*
 * source_run.c: the run context every vendor function receives, and its
 * staging writers (one per entity the vendor declares).
 */
#include "source.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

const char *
source_family_name(SourceFamily family)
{
	switch (family)
	{
		case SOURCE_FAMILY_CRM: return "crm";
		case SOURCE_FAMILY_ADS: return "ads";
		case SOURCE_FAMILY_EMAIL: return "email";
	}
	return "unknown";
}


/*
 * source_request_header formats one header into the request's table,
 * keeping the last slot for the terminating NULL.
 */
bool
source_request_header(SourceRequest *req, const char *fmt, ...)
{
	va_list ap;
	int n;
	int slot = 0;
	char *line;

	while (slot < HTTP_MAX_HEADERS - 1 && req->headers[slot] != NULL)
		slot++;
	if (slot >= HTTP_MAX_HEADERS - 1)
	{
		log_error("BUG: more than %d request headers", HTTP_MAX_HEADERS - 1);
		return false;
	}
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
	{
		log_error("BUG: cannot format a request header");
		return false;
	}
	line = malloc((size_t) n + 1);
	if (line == NULL)
	{
		log_error("out of memory building a request header");
		return false;
	}
	va_start(ap, fmt);
	(void) vsnprintf(line, (size_t) n + 1, fmt, ap);
	va_end(ap);
	req->headers[slot] = line;
	return true;
}


/*
 * source_run_init fills run for vendor v. "today" is the calendar date in
 * the pipeline's time zone, the same day an operator would name.
 */
bool
source_run_init(SourceRun *run, const SourceVendor *v, const Config *cfg,
				const CliOptions *cli, const char *staging_dir,
				const char *run_id, const char *tool)
{
	const char *tz = config_get(cfg, "pipeline", "timezone");

	memset(run, 0, sizeof(*run));
	run->vendor = v;
	run->cfg = cfg;
	run->cli = cli;
	run->staging_dir = staging_dir;
	run->run_id = run_id;
	run->tool = tool;
	run->started_at = time_now();
	if (!time_local_date(run->started_at, tz, &run->today))
	{
		log_error("[pipeline] timezone: unknown time zone \"%s\"; use an IANA name such as UTC or Europe/Berlin",
				  tz);
		return false;
	}
	run->window.from = run->today;
	run->window.to = run->today;
	return true;
}


/*
 * source_run_window applies --from/--to over the vendor's defaults. An
 * inverted window can only come from the command line (the defaults are
 * ordered), hence CL_ERR_USAGE.
 */
bool
source_run_window(SourceRun *run, ClDate default_from, ClDate default_to,
				  ClError *err)
{
	ClDate from = default_from;
	ClDate to = default_to;

	if (run->cli != NULL && run->cli->has_from)
		from = run->cli->from;
	if (run->cli != NULL && run->cli->has_to)
		to = run->cli->to;
	if (from > to)
	{
		char f[CL_DATE_BUFSIZE];
		char t[CL_DATE_BUFSIZE];

		log_error("%s: the window %s .. %s is empty; give --from on or before --to",
				  run->vendor->name, date_format(from, f), date_format(to, t));
		*err = CL_ERR_USAGE;
		return false;
	}
	run->window.from = from;
	run->window.to = to;
	return true;
}


const char *
source_config_text(const SourceRun *run, const char *key)
{
	const char *v = config_get(run->cfg, run->vendor->section, key);

	return (v == NULL || v[0] == '\0') ? NULL : v;
}


bool
source_config_required(const SourceRun *run, const char *key,
					   const char *purpose, const char **value, ClError *err)
{
	*value = source_config_text(run, key);
	if (*value != NULL)
		return true;
	log_error("%s: [%s] %s is not set; it is required (%s)", run->vendor->name,
			  run->vendor->section, key, purpose);
	*err = CL_ERR_CONFIG;
	return false;
}


/*
 * source_config_url: see source.h.
 */
bool
source_config_url(const SourceRun *run, const char *key, char **out, ClError *err)
{
	const char *url = source_config_text(run, key);
	size_t len;

	*out = NULL;
	if (url == NULL)
	{
		log_error("%s: [%s] %s is not set; give the service's URL", run->vendor->name,
				  run->vendor->section, key);
		*err = CL_ERR_CONFIG;
		return false;
	}
	if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
	{
		log_error("%s: [%s] %s = %s is not an http:// or https:// URL (%s)",
				  run->vendor->name, run->vendor->section, key, url,
				  config_source(run->cfg, run->vendor->section, key));
		*err = CL_ERR_CONFIG;
		return false;
	}
	len = strlen(url);
	while (len > 0 && url[len - 1] == '/')
		len--;
	*out = strndup(url, len);
	if (*out == NULL)
	{
		log_error("out of memory reading [%s] %s", run->vendor->section, key);
		*err = CL_ERR_INTERNAL;
		return false;
	}
	return true;
}


/*
 * source_run_open_writers creates every declared entity's writer up
 * front, so an entity without rows still commits an empty partition and
 * records that the extraction ran.
 */
bool
source_run_open_writers(SourceRun *run)
{
	const char *family = source_family_name(run->vendor->family);

	for (int i = 0; run->vendor->entities[i] != NULL; i++)
	{
		StagingWriter *w;

		if (i >= SOURCE_MAX_ENTITIES)
		{
			log_error("BUG: vendor %s declares more than %d entities",
					  run->vendor->name, SOURCE_MAX_ENTITIES);
			return false;
		}
		w = staging_writer_new(run->staging_dir, family, run->vendor->name,
							   run->vendor->entities[i], run->run_id,
							   run->window, run->tool);
		if (w == NULL)
		{
			log_error("out of memory creating the %s %s staging writer",
					  run->vendor->name, run->vendor->entities[i]);
			return false;
		}
		run->writer_entity[i] = run->vendor->entities[i];
		run->writer[i] = w;
		run->nwriters = i + 1;
	}
	return true;
}


StagingWriter *
source_run_writer(SourceRun *run, const char *entity)
{
	for (int i = 0; i < run->nwriters; i++)
	{
		if (strcmp(run->writer_entity[i], entity) == 0)
			return run->writer[i];
	}
	log_error("BUG: vendor %s wrote entity %s it did not declare (or writers are not open)",
			  run->vendor->name, entity);
	return NULL;
}


bool
source_run_mark(SourceRun *run)
{
	run->dropped_mark = run->dropped;
	for (int i = 0; i < run->nwriters; i++)
	{
		if (!staging_writer_mark(run->writer[i]))
		{
			/* errors have already been logged */
			return false;
		}
	}
	return true;
}


bool
source_run_rewind(SourceRun *run)
{
	run->dropped = run->dropped_mark;
	for (int i = 0; i < run->nwriters; i++)
	{
		if (!staging_writer_rewind(run->writer[i]))
		{
			/* errors have already been logged */
			return false;
		}
	}
	return true;
}


int64_t
source_run_rows(const SourceRun *run)
{
	int64_t rows = 0;

	for (int i = 0; i < run->nwriters; i++)
		rows += staging_writer_rows(run->writer[i]);
	return rows;
}


/*
 * source_run_commit commits every writer. Each entity commits on its own,
 * so a failure half-way leaves the entities before it committed; they are
 * complete and consistent by themselves, and the next run supersedes them.
 */
bool
source_run_commit(SourceRun *run, ClError *err)
{
	for (int i = 0; i < run->nwriters; i++)
	{
		if (!staging_writer_commit(run->writer[i], NULL, run->today, err))
		{
			/* errors have already been logged */
			return false;
		}
	}
	return true;
}


void
source_run_free(SourceRun *run)
{
	for (int i = 0; i < run->nwriters; i++)
	{
		staging_writer_free(run->writer[i]);
		run->writer[i] = NULL;
	}
	run->nwriters = 0;
}
