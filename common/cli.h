/*
 * cli.h: the command line every binary shares (DESIGN §8):
 *   --config FILE, --from/--to YYYY-MM-DD, --dry-run, --log-format text|json,
 *   -v/-q (repeatable), --help, --version,
 * plus a few options that only some binaries enable (CliSpec.extras).
 */
#ifndef CL_CLI_H
#define CL_CLI_H

#include <stdbool.h>

#include "config.h"
#include "timeutil.h"

enum
{
	CLI_EXTRA_RUN = 1 << 0,            /* --run ID */
	CLI_EXTRA_FULL_REFRESH = 1 << 1,   /* --full-refresh */
	CLI_EXTRA_VENDOR = 1 << 2,         /* --vendor NAME (repeatable list) */
	CLI_EXTRA_MIGRATE_ONLY = 1 << 3    /* --migrate-only */
};

typedef struct CliSpec
{
	const char *program;        /* "cl-extract-crm" */
	const char *summary;        /* one line for --help */
	const char *usage_extra;    /* extra lines for --help, or NULL */
	unsigned extras;            /* CLI_EXTRA_* */
} CliSpec;

typedef struct CliOptions
{
	const char *config_path;    /* borrowed from argv or environment */
	bool has_from;
	bool has_to;
	ClDate from;
	ClDate to;
	bool dry_run;
	bool log_json;
	bool log_format_set;        /* --log-format given: overrides CLOSEDLOOP_LOG_JSON */
	int verbosity;              /* +1 per -v, -1 per -q */
	const char *run;            /* --run */
	bool full_refresh;
	const char *vendor;         /* --vendor (comma-separated) */
	bool migrate_only;
	char vendor_buf[256];       /* repeated --vendor values joined; vendor
								 * points here then (do not copy CliOptions
								 * by value after parsing) */
} CliOptions;

typedef enum CliResult
{
	CLI_CONTINUE = 0,
	CLI_DONE,           /* --help or --version printed: exit 0 */
	CLI_USAGE           /* bad usage, message printed: exit 64 */
} CliResult;

CliResult cli_parse(const CliSpec *spec, int argc, char **argv, CliOptions *out);

/*
 * cli_start does what every main() does next: creates the run id (buf of
 * CL_RUN_ID_SIZE), starts logging with it, applies -v/-q and
 * --log-format (or CLOSEDLOOP_LOG_JSON), installs SIGINT/SIGTERM handlers
 * that request a stop, and loads the configuration. On failure returns
 * false with *exit_code set (78 for configuration errors).
 * *cfg is ALLOCATED; the caller frees it with config_free().
 */
bool cli_start(const CliSpec *spec, const CliOptions *opts, char *run_id,
			   Config **cfg, int *exit_code);

/* The window of a run: --from/--to when given, else defaults supplied by
 * the caller. Validates from <= to. */
bool cli_window(const CliOptions *opts, ClDate default_from, ClDate default_to,
				ClDate *from, ClDate *to);

#endif
