/*
 * cl-load: apply pending migrations, then load one transform output into
 * schema attribution in one transaction (DESIGN §5).
 */
#include <stdio.h>

#include "cli.h"
#include "config.h"
#include "exitcode.h"
#include "load_run.h"
#include "output_manifest.h"
#include "staging.h"

int main(int argc, char **argv);

int
main(int argc, char **argv)
{
	static const CliSpec spec = {
		.program = "cl-load",
		.summary = "apply migrations and load a transform output into PostgreSQL",
		.usage_extra =
			"Without --run, cl-load loads the newest complete output under\n"
			"[attribution] output_dir (default <staging_dir>/out) that etl.runs does not\n"
			"record as succeeded; with nothing left to load it exits 0. --dry-run verifies\n"
			"the output's files and prints what would be loaded, writing nothing.",
		.extras = CLI_EXTRA_RUN | CLI_EXTRA_MIGRATE_ONLY
	};
	CliOptions opts;
	LoadRunSettings settings;
	LoadRequest req;
	Config *cfg = NULL;
	char run_id[CL_RUN_ID_SIZE];
	int exit_code = EXIT_CODE_SOFTWARE;
	ClError err = CL_OK;

	switch (cli_parse(&spec, argc, argv, &opts))
	{
		case CLI_CONTINUE:
			break;
		case CLI_DONE:
			return EXIT_CODE_OK;
		case CLI_USAGE:
			return EXIT_CODE_USAGE;
	}
	if (opts.has_from || opts.has_to)
	{
		fprintf(stderr, "cl-load: --from/--to do not apply: the window is the output's own "
				"(manifest.json); use --run ID to pick an output\n");
		return EXIT_CODE_USAGE;
	}
	if (opts.run != NULL && !manifest_run_id_valid(opts.run))
	{
		fprintf(stderr, "cl-load: --run: \"%s\" is not a run id (letters, digits, . _ : -)\n",
				opts.run);
		return EXIT_CODE_USAGE;
	}
	if (opts.run != NULL && opts.migrate_only)
	{
		fprintf(stderr, "cl-load: --run and --migrate-only exclude each other\n");
		return EXIT_CODE_USAGE;
	}
	if (!cli_start(&spec, &opts, run_id, &cfg, &exit_code))
	{
		return exit_code;
	}
	if (!load_settings_from_config(cfg, &settings, &err))
	{
		config_free(cfg);
		return cl_error_exit_code(err);
	}
	req.run = opts.run;
	req.migrate_only = opts.migrate_only;
	req.dry_run = opts.dry_run;
	exit_code = load_run(&settings, &req, &err) ? EXIT_CODE_OK : cl_error_exit_code(err);
	config_free(cfg);
	return exit_code;
}
