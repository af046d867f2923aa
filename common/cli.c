/*
 * cli.c: the command line every closedloop binary shares (DESIGN §8).
 *
 * Parsing happens before logging starts, so usage errors go to stderr in
 * the usual GNU shape ("prog: unrecognized option '--x'" and a hint to
 * --help) and --help/--version go to stdout. cli_start then sets up what
 * every binary needs: run id, logging, signal handlers and the config.
 */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "exitcode.h"
#include "log.h"
#include "retry.h"
#include "staging.h"

#ifndef CLOSEDLOOP_VERSION
#error "CLOSEDLOOP_VERSION must be defined by the build"
#endif

/* Long-only option ids: above any character so that getopt's optopt tells
 * a long option apart from an unknown short one. */
enum
{
	OPT_CONFIG = 256,
	OPT_FROM,
	OPT_TO,
	OPT_DRY_RUN,
	OPT_LOG_FORMAT,
	OPT_VERBOSE,
	OPT_QUIET,
	OPT_HELP,
	OPT_VERSION,
	OPT_RUN,
	OPT_FULL_REFRESH,
	OPT_VENDOR,
	OPT_MIGRATE_ONLY
};

#define CLI_MAX_OPTIONS 16


/*
 * build_options fills opts (CLI_MAX_OPTIONS entries) with the shared
 * options plus the extras this binary enables; an extra that is not
 * enabled is simply unknown to getopt.
 */
static void
build_options(unsigned extras, struct option *opts)
{
	static const struct option shared[] = {
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "from", required_argument, NULL, OPT_FROM },
		{ "to", required_argument, NULL, OPT_TO },
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ "log-format", required_argument, NULL, OPT_LOG_FORMAT },
		{ "verbose", no_argument, NULL, OPT_VERBOSE },
		{ "quiet", no_argument, NULL, OPT_QUIET },
		{ "help", no_argument, NULL, OPT_HELP },
		{ "version", no_argument, NULL, OPT_VERSION },
	};
	size_t n = 0;

	for (size_t i = 0; i < sizeof(shared) / sizeof(shared[0]); i++)
		opts[n++] = shared[i];
	if (extras & CLI_EXTRA_RUN)
		opts[n++] = (struct option) { "run", required_argument, NULL, OPT_RUN };
	if (extras & CLI_EXTRA_FULL_REFRESH)
		opts[n++] = (struct option) { "full-refresh", no_argument, NULL, OPT_FULL_REFRESH };
	if (extras & CLI_EXTRA_VENDOR)
		opts[n++] = (struct option) { "vendor", required_argument, NULL, OPT_VENDOR };
	if (extras & CLI_EXTRA_MIGRATE_ONLY)
		opts[n++] = (struct option) { "migrate-only", no_argument, NULL, OPT_MIGRATE_ONLY };
	opts[n] = (struct option) { NULL, 0, NULL, 0 };
}


/* long_name_of finds the name of a long option id, for messages. */
static const char *
long_name_of(const struct option *opts, int id)
{
	for (size_t i = 0; opts[i].name != NULL; i++)
	{
		if (opts[i].val == id)
			return opts[i].name;
	}
	return "?";
}


/*
 * usage_error prints "<program>: <message>" and the --help hint to
 * stderr, and returns CLI_USAGE for the caller to pass on.
 */
static CliResult usage_error(const CliSpec *spec, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static CliResult
usage_error(const CliSpec *spec, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", spec->program);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help'.\n", spec->program);
	return CLI_USAGE;
}


/* print_help writes the --help text to stdout. */
static void
print_help(const CliSpec *spec)
{
	printf("Usage: %s [OPTION]...\n", spec->program);
	if (spec->summary != NULL)
		printf("%s\n", spec->summary);
	printf("\nOptions:\n"
		   "      --config FILE        configuration file (default: $CLOSEDLOOP_CONFIG,\n"
		   "                           else ./closedloop.ini)\n"
		   "      --from YYYY-MM-DD    first day of the window (inclusive)\n"
		   "      --to YYYY-MM-DD      last day of the window (inclusive)\n"
		   "      --dry-run            do the work but write no results\n"
		   "      --log-format FORMAT  text (default) or json; CLOSEDLOOP_LOG_JSON=1\n"
		   "                           also selects json\n"
		   "  -v, --verbose            more log detail; repeat for NOTICE, SQL, DEBUG, TRACE\n"
		   "  -q, --quiet              less log detail: WARN, repeat for ERROR only\n");
	if (spec->extras & CLI_EXTRA_RUN)
		printf("      --run ID             work on this run id\n");
	if (spec->extras & CLI_EXTRA_FULL_REFRESH)
		printf("      --full-refresh       ignore saved watermarks and extract everything\n");
	if (spec->extras & CLI_EXTRA_VENDOR)
		printf("      --vendor LIST        only these vendors (comma-separated, repeatable)\n");
	if (spec->extras & CLI_EXTRA_MIGRATE_ONLY)
		printf("      --migrate-only       apply pending migrations, then stop\n");
	printf("  -h, --help               show this help and exit\n"
		   "      --version            show the version and exit\n");
	if (spec->usage_extra != NULL)
		printf("\n%s\n", spec->usage_extra);
	printf("\nExit status: 0 ok, 64 usage, 65 bad input data, 69 service unavailable,\n"
		   "70 internal error, 73 cannot write output, 75 temporary failure (retry later),\n"
		   "78 configuration error.\n");
	fflush(stdout);
}


/*
 * add_vendor appends one --vendor value. The first value is borrowed from
 * argv; a second one makes both live in out->vendor_buf.
 */
static bool
add_vendor(CliOptions *out, const char *value)
{
	size_t len;
	int n;

	if (out->vendor == NULL)
	{
		out->vendor = value;
		return true;
	}
	if (out->vendor != out->vendor_buf)
	{
		n = snprintf(out->vendor_buf, sizeof(out->vendor_buf), "%s", out->vendor);
		if (n < 0 || (size_t) n >= sizeof(out->vendor_buf))
			return false;
		out->vendor = out->vendor_buf;
	}
	len = strlen(out->vendor_buf);
	n = snprintf(out->vendor_buf + len, sizeof(out->vendor_buf) - len, ",%s", value);
	return n >= 0 && (size_t) n < sizeof(out->vendor_buf) - len;
}


/*
 * cli_parse parses argv into out (zeroed first). Returns CLI_CONTINUE, or
 * CLI_DONE after printing --help/--version, or CLI_USAGE after printing
 * the problem to stderr. out->config_path is resolved (--config, else
 * $CLOSEDLOOP_CONFIG, else ./closedloop.ini).
 */
CliResult
cli_parse(const CliSpec *spec, int argc, char **argv, CliOptions *out)
{
	struct option longopts[CLI_MAX_OPTIONS];
	const char *config_arg = NULL;
	char datebuf_from[CL_DATE_BUFSIZE];
	char datebuf_to[CL_DATE_BUFSIZE];

	memset(out, 0, sizeof(*out));
	build_options(spec->extras, longopts);

	/* glibc: 0 rescans from scratch, so a second parse (tests, a wrapper)
	 * starts clean. */
	optind = 0;
	opterr = 0;

	for (;;)
	{
		int c = getopt_long(argc, argv, ":vqh", longopts, NULL);

		if (c == -1)
			break;
		switch (c)
		{
			case OPT_CONFIG:
				if (optarg[0] == '\0')
					return usage_error(spec, "--config needs a file name");
				config_arg = optarg;
				break;

			case OPT_FROM:
			case OPT_TO:
			{
				ClDate d;

				if (!date_parse(optarg, &d))
					return usage_error(spec, "--%s: '%s' is not a valid date; expected YYYY-MM-DD",
									   c == OPT_FROM ? "from" : "to", optarg);
				if (c == OPT_FROM)
				{
					out->from = d;
					out->has_from = true;
				}
				else
				{
					out->to = d;
					out->has_to = true;
				}
				break;
			}

			case OPT_DRY_RUN:
				out->dry_run = true;
				break;

			case OPT_LOG_FORMAT:
				if (strcmp(optarg, "text") == 0)
					out->log_json = false;
				else if (strcmp(optarg, "json") == 0)
					out->log_json = true;
				else
					return usage_error(spec, "--log-format: expected text or json, not '%s'", optarg);
				out->log_format_set = true;
				break;

			case 'v':
			case OPT_VERBOSE:
				out->verbosity++;
				break;

			case 'q':
			case OPT_QUIET:
				out->verbosity--;
				break;

			case 'h':
			case OPT_HELP:
				print_help(spec);
				return CLI_DONE;

			case OPT_VERSION:
				printf("%s (closedloop) %s\n", spec->program, CLOSEDLOOP_VERSION);
				fflush(stdout);
				return CLI_DONE;

			case OPT_RUN:
				if (optarg[0] == '\0')
					return usage_error(spec, "--run needs a run id");
				out->run = optarg;
				break;

			case OPT_FULL_REFRESH:
				out->full_refresh = true;
				break;

			case OPT_VENDOR:
				if (optarg[0] == '\0')
					return usage_error(spec, "--vendor needs a vendor name");
				if (!add_vendor(out, optarg))
					return usage_error(spec, "--vendor: the list is longer than %zu characters",
									   sizeof(out->vendor_buf) - 1);
				break;

			case OPT_MIGRATE_ONLY:
				out->migrate_only = true;
				break;

			case ':':
				if (optopt >= OPT_CONFIG)
					return usage_error(spec, "option '--%s' requires an argument",
									   long_name_of(longopts, optopt));
				return usage_error(spec, "option requires an argument -- '%c'", optopt);

			case '?':
			default:
				if (optopt >= OPT_CONFIG)
					return usage_error(spec, "option '--%s' doesn't allow an argument",
									   long_name_of(longopts, optopt));
				if (optopt != 0)
					return usage_error(spec, "invalid option -- '%c'", optopt);
				return usage_error(spec, "unrecognized option '%s'", argv[optind - 1]);
		}
	}

	if (optind < argc)
		return usage_error(spec, "unexpected argument '%s'", argv[optind]);

	if (out->has_from && out->has_to && out->from > out->to)
		return usage_error(spec, "--from %s is after --to %s",
						   date_format(out->from, datebuf_from),
						   date_format(out->to, datebuf_to));

	out->config_path = config_path_default(config_arg);
	return CLI_CONTINUE;
}


/* level_for_verbosity maps -v/-q counts onto log levels around INFO. */
static LogLevel
level_for_verbosity(int verbosity)
{
	if (verbosity >= 4)
		return LOG_TRACE;
	switch (verbosity)
	{
		case 3: return LOG_DEBUG;
		case 2: return LOG_SQL;
		case 1: return LOG_NOTICE;
		case 0: return LOG_INFO;
		case -1: return LOG_WARN;
		default: return LOG_ERROR;
	}
}


/* env_flag: the variable is set to 1, true, yes or on. */
static bool
env_flag(const char *name)
{
	const char *v = getenv(name);

	if (v == NULL)
		return false;
	return strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0 ||
		   strcasecmp(v, "yes") == 0 || strcasecmp(v, "on") == 0;
}


/* on_stop_signal only raises the stop flag: long loops check it between
 * pages and rows and wind down cleanly. */
static void
on_stop_signal(int signo)
{
	(void) signo;
	cl_request_stop();
}


/*
 * install_stop_handlers routes SIGINT and SIGTERM to the stop flag. The
 * handler is one-shot (SA_RESETHAND): a second Ctrl-C kills the process
 * the default way, for when a clean stop takes too long.
 */
static bool
install_stop_handlers(void)
{
	static const int signals[] = { SIGINT, SIGTERM };
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sa.sa_flags = SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
	{
		if (sigaction(signals[i], &sa, NULL) != 0)
		{
			int err = errno;

			log_error("cannot install the handler for signal %d: %s", signals[i], strerror(err));
			return false;
		}
	}
	return true;
}


/*
 * cli_start creates the run id (into run_id, CL_RUN_ID_SIZE bytes), starts
 * logging, installs the stop handlers and loads the configuration. *cfg is
 * ALLOCATED on success; the caller frees it with config_free().
 */
bool
cli_start(const CliSpec *spec, const CliOptions *opts, char *run_id,
		  Config **cfg, int *exit_code)
{
	const char *path;
	bool json;

	*cfg = NULL;
	*exit_code = EXIT_CODE_OK;

	if (staging_new_run_id(run_id) == NULL)
	{
		log_error("BUG: cannot create a run id");
		*exit_code = EXIT_CODE_SOFTWARE;
		return false;
	}
	log_init(spec->program, run_id);
	log_set_level(level_for_verbosity(opts->verbosity));
	json = opts->log_format_set ? opts->log_json : env_flag("CLOSEDLOOP_LOG_JSON");
	log_use_json(json);

	if (!install_stop_handlers())
	{
		/* errors have already been logged */
		*exit_code = EXIT_CODE_SOFTWARE;
		return false;
	}

	path = opts->config_path != NULL ? opts->config_path : config_path_default(NULL);
	if (!config_load(path, cfg))
	{
		/* errors have already been logged */
		*exit_code = EXIT_CODE_CONFIG;
		return false;
	}
	log_debug("%s %s, run %s, configuration %s%s", spec->program,
			  CLOSEDLOOP_VERSION, run_id, path, opts->dry_run ? ", dry run" : "");
	return true;
}


/*
 * cli_window picks the run's window: --from/--to where given, else the
 * caller's defaults, and refuses a window that ends before it starts.
 */
bool
cli_window(const CliOptions *opts, ClDate default_from, ClDate default_to,
		   ClDate *from, ClDate *to)
{
	ClDate f = opts->has_from ? opts->from : default_from;
	ClDate t = opts->has_to ? opts->to : default_to;
	char fbuf[CL_DATE_BUFSIZE];
	char tbuf[CL_DATE_BUFSIZE];

	if (f > t)
	{
		log_error("the window starts on %s (%s) but ends on %s (%s); pass --from on or before --to",
				  date_format(f, fbuf), opts->has_from ? "--from" : "default",
				  date_format(t, tbuf), opts->has_to ? "--to" : "default");
		return false;
	}
	*from = f;
	*to = t;
	return true;
}
