/*
 * main.c: cl-transform. Parses the command line, loads the configuration,
 * runs transform_run() and maps its result to an exit code.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "config.h"
#include "exitcode.h"
#include "log.h"
#include "staging.h"
#include "transform.h"
#include "txutil.h"

static const CliSpec spec = {
	"cl-transform",
	"attribute the deals won in a window to the touches that led to them",
	"Reads [pipeline] staging_dir, writes <output_dir>/<run id>/ (COPY files and\n"
	"manifest.json). The default window is the 30 days ending yesterday in\n"
	"[pipeline] timezone.\n",
	0
};

/*
 * main: the default window depends on the configured time zone, so it is
 * computed only after the configuration is loaded.
 */
int
main(int argc, char **argv)
{
	CliOptions opts;
	char run_id[CL_RUN_ID_SIZE];
	Config *cfg = NULL;
	char *config_dir = NULL;
	const char *config_path;
	TransformOptions topts = { 0 };
	TransformSummary *summary = NULL;
	ClDate default_from;
	ClDate default_to;
	ClError err = CL_OK;
	int exit_code = EXIT_CODE_OK;

	switch (cli_parse(&spec, argc, argv, &opts))
	{
		case CLI_CONTINUE:
			break;
		case CLI_DONE:
			return EXIT_CODE_OK;
		case CLI_USAGE:
			return EXIT_CODE_USAGE;
	}
	if (!cli_start(&spec, &opts, run_id, &cfg, &exit_code))
		goto cleanup;   /* errors have already been logged */
	if (!transform_default_window(config_get(cfg, "pipeline", "timezone"), time_now(),
								  &default_from, &default_to))
	{
		exit_code = EXIT_CODE_CONFIG;
		goto cleanup;
	}
	if (!cli_window(&opts, default_from, default_to, &topts.from, &topts.to))
	{
		exit_code = EXIT_CODE_USAGE;
		goto cleanup;
	}
	config_path = opts.config_path != NULL ? opts.config_path : config_path_default(NULL);
	config_dir = tx_dirname(config_path);
	summary = malloc(sizeof(TransformSummary));
	if (config_dir == NULL || summary == NULL)
	{
		log_error("out of memory");
		exit_code = EXIT_CODE_SOFTWARE;
		goto cleanup;
	}
	topts.cfg = cfg;
	topts.config_dir = config_dir;
	topts.run_id = run_id;
	topts.dry_run = opts.dry_run;
	topts.summary = stdout;
	if (!transform_run(&topts, summary, &err))
		exit_code = cl_error_exit_code(err);

cleanup:
	free(summary);
	free(config_dir);
	config_free(cfg);
	return exit_code;
}
