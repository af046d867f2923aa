#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "exitcode.h"
#include "log.h"
#include "retry.h"
#include "staging.h"
#include "support.h"

static const CliSpec plain_spec = {
	"cl-test", "Test the shared command line.", NULL, 0
};

static const CliSpec full_spec = {
	"cl-full", "Every extra enabled.", "Extra help line.",
	CLI_EXTRA_RUN | CLI_EXTRA_FULL_REFRESH | CLI_EXTRA_VENDOR | CLI_EXTRA_MIGRATE_ONLY
};

/*
 * A captured file descriptor: output of fd goes to a temporary file until
 * capture_end, which returns it (ALLOCATED, caller frees).
 */
typedef struct FdCapture
{
	int fd;
	int saved;
	char path[256];
} FdCapture;

static void
capture_begin(FdCapture *c, int fd)
{
	int tmp;
	char *dir = ts_make_tmpdir("cli");

	fflush(stdout);
	fflush(stderr);
	snprintf(c->path, sizeof(c->path), "%s/capture-XXXXXX", dir);
	free(dir);
	tmp = mkstemp(c->path);
	assert_true(tmp >= 0);
	c->fd = fd;
	c->saved = dup(fd);
	assert_true(c->saved >= 0);
	assert_true(dup2(tmp, fd) >= 0);
	close(tmp);
}

static char *
capture_end(FdCapture *c)
{
	char *text;
	char *slash;

	fflush(stdout);
	fflush(stderr);
	assert_true(dup2(c->saved, c->fd) >= 0);
	close(c->saved);
	text = ts_read_file(c->path, NULL);
	slash = strrchr(c->path, '/');
	assert_non_null(slash);
	*slash = '\0';
	ts_rmdir_r(c->path);
	return text;
}

/*
 * parse runs cli_parse on a NULL-terminated list of arguments after the
 * program name; stderr is captured into *err (ALLOCATED, caller frees)
 * when err is not NULL.
 */
static CliResult
parse_v(const CliSpec *spec, CliOptions *out, char **err, va_list ap)
{
	char *argv[32];
	int argc = 0;
	const char *a;
	CliResult r;
	FdCapture cap;

	argv[argc++] = (char *) spec->program;
	for (a = va_arg(ap, const char *); a != NULL; a = va_arg(ap, const char *))
	{
		assert_true(argc < 31);
		argv[argc++] = (char *) a;
	}
	argv[argc] = NULL;

	if (err != NULL)
		capture_begin(&cap, STDERR_FILENO);
	r = cli_parse(spec, argc, argv, out);
	if (err != NULL)
		*err = capture_end(&cap);
	return r;
}

static CliResult
parse(const CliSpec *spec, CliOptions *out, ...)
{
	va_list ap;
	CliResult r;

	va_start(ap, out);
	r = parse_v(spec, out, NULL, ap);
	va_end(ap);
	return r;
}

/* parse_usage expects CLI_USAGE and returns the stderr text (ALLOCATED). */
static char *
parse_usage(const CliSpec *spec, ...)
{
	va_list ap;
	CliOptions opts;
	char *err = NULL;
	CliResult r;

	va_start(ap, spec);
	r = parse_v(spec, &opts, &err, ap);
	va_end(ap);
	assert_int_equal(r, CLI_USAGE);
	return err;
}

static int
setup(void **state)
{
	(void) state;
	unsetenv("CLOSEDLOOP_CONFIG");
	unsetenv("CLOSEDLOOP_LOG_JSON");
	return 0;
}

static void
test_cli_defaults(void **state)
{
	CliOptions o;

	(void) state;
	assert_int_equal(parse(&plain_spec, &o, NULL), CLI_CONTINUE);
	assert_false(o.has_from);
	assert_false(o.has_to);
	assert_false(o.dry_run);
	assert_false(o.log_json);
	assert_false(o.log_format_set);
	assert_int_equal(o.verbosity, 0);
	assert_null(o.run);
	assert_null(o.vendor);
	assert_string_equal(o.config_path, "./closedloop.ini");
}

static void
test_cli_each_option(void **state)
{
	CliOptions o;

	(void) state;
	assert_int_equal(parse(&plain_spec, &o, "--config", "/etc/cl.ini", "--from", "2026-01-01",
						   "--to=2026-01-31", "--dry-run", "--log-format", "json", NULL),
					 CLI_CONTINUE);
	assert_string_equal(o.config_path, "/etc/cl.ini");
	assert_true(o.has_from);
	assert_true(o.has_to);
	assert_int_equal(o.from, date_from_ymd(2026, 1, 1));
	assert_int_equal(o.to, date_from_ymd(2026, 1, 31));
	assert_true(o.dry_run);
	assert_true(o.log_json);
	assert_true(o.log_format_set);

	assert_int_equal(parse(&plain_spec, &o, "--log-format=text", NULL), CLI_CONTINUE);
	assert_false(o.log_json);
	assert_true(o.log_format_set);

	/* from == to is a one-day window */
	assert_int_equal(parse(&plain_spec, &o, "--from", "2026-03-05", "--to", "2026-03-05", NULL),
					 CLI_CONTINUE);
	assert_int_equal(o.from, o.to);
}

static void
test_cli_verbosity_repeats(void **state)
{
	CliOptions o;

	(void) state;
	assert_int_equal(parse(&plain_spec, &o, "-v", NULL), CLI_CONTINUE);
	assert_int_equal(o.verbosity, 1);
	assert_int_equal(parse(&plain_spec, &o, "-vvv", "--verbose", NULL), CLI_CONTINUE);
	assert_int_equal(o.verbosity, 4);
	assert_int_equal(parse(&plain_spec, &o, "-q", "--quiet", NULL), CLI_CONTINUE);
	assert_int_equal(o.verbosity, -2);
	assert_int_equal(parse(&plain_spec, &o, "-v", "-q", NULL), CLI_CONTINUE);
	assert_int_equal(o.verbosity, 0);
}

static void
test_cli_config_path_from_environment(void **state)
{
	CliOptions o;

	(void) state;
	setenv("CLOSEDLOOP_CONFIG", "/srv/env.ini", 1);
	assert_int_equal(parse(&plain_spec, &o, NULL), CLI_CONTINUE);
	assert_string_equal(o.config_path, "/srv/env.ini");
	assert_int_equal(parse(&plain_spec, &o, "--config", "cli.ini", NULL), CLI_CONTINUE);
	assert_string_equal(o.config_path, "cli.ini");
	unsetenv("CLOSEDLOOP_CONFIG");
}

static void
test_cli_unknown_option(void **state)
{
	char *err;

	(void) state;
	err = parse_usage(&plain_spec, "--bogus", NULL);
	assert_string_equal(err, "cl-test: unrecognized option '--bogus'\nTry 'cl-test --help'.\n");
	free(err);

	err = parse_usage(&plain_spec, "--dry-run", "-z", NULL);
	assert_string_equal(err, "cl-test: invalid option -- 'z'\nTry 'cl-test --help'.\n");
	free(err);

	err = parse_usage(&plain_spec, "--dry-run=yes", NULL);
	assert_string_equal(err, "cl-test: option '--dry-run' doesn't allow an argument\n"
						"Try 'cl-test --help'.\n");
	free(err);
}

static void
test_cli_stray_argument(void **state)
{
	char *err;

	(void) state;
	err = parse_usage(&plain_spec, "--dry-run", "extra", NULL);
	assert_string_equal(err, "cl-test: unexpected argument 'extra'\nTry 'cl-test --help'.\n");
	free(err);

	err = parse_usage(&plain_spec, "--", "after", NULL);
	assert_non_null(strstr(err, "unexpected argument 'after'"));
	free(err);
}

static void
test_cli_missing_argument(void **state)
{
	char *err;

	(void) state;
	err = parse_usage(&plain_spec, "--from", NULL);
	assert_string_equal(err, "cl-test: option '--from' requires an argument\n"
						"Try 'cl-test --help'.\n");
	free(err);
}

static void
test_cli_bad_dates(void **state)
{
	char *err;

	(void) state;
	err = parse_usage(&plain_spec, "--from", "2026-02-30", NULL);
	assert_non_null(strstr(err, "cl-test: --from: '2026-02-30' is not a valid date"));
	free(err);

	err = parse_usage(&plain_spec, "--to", "yesterday", NULL);
	assert_non_null(strstr(err, "--to: 'yesterday' is not a valid date"));
	free(err);

	err = parse_usage(&plain_spec, "--from", "2026-02-02", "--to", "2026-02-01", NULL);
	assert_string_equal(err, "cl-test: --from 2026-02-02 is after --to 2026-02-01\n"
						"Try 'cl-test --help'.\n");
	free(err);
}

static void
test_cli_bad_log_format(void **state)
{
	char *err;

	(void) state;
	err = parse_usage(&plain_spec, "--log-format", "xml", NULL);
	assert_non_null(strstr(err, "--log-format: expected text or json, not 'xml'"));
	free(err);
}

static void
test_cli_extras_only_when_enabled(void **state)
{
	char *err;

	(void) state;
	err = parse_usage(&plain_spec, "--run", "R1", NULL);
	assert_non_null(strstr(err, "unrecognized option '--run'"));
	free(err);
	err = parse_usage(&plain_spec, "--full-refresh", NULL);
	assert_non_null(strstr(err, "unrecognized option '--full-refresh'"));
	free(err);
	err = parse_usage(&plain_spec, "--vendor", "hubspot", NULL);
	assert_non_null(strstr(err, "unrecognized option '--vendor'"));
	free(err);
	err = parse_usage(&plain_spec, "--migrate-only", NULL);
	assert_non_null(strstr(err, "unrecognized option '--migrate-only'"));
	free(err);
}

static void
test_cli_extras_parse(void **state)
{
	CliOptions o;
	char *err;

	(void) state;
	assert_int_equal(parse(&full_spec, &o, "--run", "20261125T203000Z-abc123", "--full-refresh",
						   "--vendor", "hubspot", "--migrate-only", NULL),
					 CLI_CONTINUE);
	assert_string_equal(o.run, "20261125T203000Z-abc123");
	assert_true(o.full_refresh);
	assert_true(o.migrate_only);
	assert_string_equal(o.vendor, "hubspot");

	assert_int_equal(parse(&full_spec, &o, "--vendor", "hubspot,salesforce", "--vendor", "meta",
						   "--vendor=mailchimp", NULL),
					 CLI_CONTINUE);
	assert_string_equal(o.vendor, "hubspot,salesforce,meta,mailchimp");

	err = parse_usage(&full_spec, "--vendor", "", NULL);
	assert_non_null(strstr(err, "--vendor needs a vendor name"));
	free(err);
}

static void
test_cli_help_to_stdout(void **state)
{
	CliOptions o;
	FdCapture cap;
	char *out;

	(void) state;
	capture_begin(&cap, STDOUT_FILENO);
	assert_int_equal(parse(&plain_spec, &o, "--dry-run", "--help", "--bogus", NULL), CLI_DONE);
	out = capture_end(&cap);
	assert_non_null(strstr(out, "Usage: cl-test [OPTION]...\nTest the shared command line.\n"));
	assert_non_null(strstr(out, "--config FILE"));
	assert_non_null(strstr(out, "--log-format"));
	assert_non_null(strstr(out, "78 configuration error"));
	assert_null(strstr(out, "--run ID"));
	assert_null(strstr(out, "--vendor"));
	free(out);

	capture_begin(&cap, STDOUT_FILENO);
	assert_int_equal(parse(&full_spec, &o, "-h", NULL), CLI_DONE);
	out = capture_end(&cap);
	assert_non_null(strstr(out, "--run ID"));
	assert_non_null(strstr(out, "--full-refresh"));
	assert_non_null(strstr(out, "--vendor LIST"));
	assert_non_null(strstr(out, "--migrate-only"));
	assert_non_null(strstr(out, "\nExtra help line.\n"));
	free(out);
}

static void
test_cli_version_to_stdout(void **state)
{
	CliOptions o;
	FdCapture cap;
	char *out;

	(void) state;
	capture_begin(&cap, STDOUT_FILENO);
	assert_int_equal(parse(&plain_spec, &o, "--version", NULL), CLI_DONE);
	out = capture_end(&cap);
	assert_string_equal(out, "cl-test (closedloop) " CLOSEDLOOP_VERSION "\n");
	free(out);
}

static void
test_cli_window(void **state)
{
	CliOptions o;
	ClDate from = 0;
	ClDate to = 0;
	ClDate d1 = date_from_ymd(2026, 1, 1);
	ClDate d31 = date_from_ymd(2026, 1, 31);
	FILE *logfp;
	char *logbuf = NULL;
	size_t loglen = 0;

	(void) state;
	assert_int_equal(parse(&plain_spec, &o, NULL), CLI_CONTINUE);
	assert_true(cli_window(&o, d1, d31, &from, &to));
	assert_int_equal(from, d1);
	assert_int_equal(to, d31);

	assert_int_equal(parse(&plain_spec, &o, "--from", "2026-01-10", NULL), CLI_CONTINUE);
	assert_true(cli_window(&o, d1, d31, &from, &to));
	assert_int_equal(from, date_from_ymd(2026, 1, 10));
	assert_int_equal(to, d31);

	assert_int_equal(parse(&plain_spec, &o, "--to", "2026-01-20", NULL), CLI_CONTINUE);
	assert_true(cli_window(&o, d1, d31, &from, &to));
	assert_int_equal(from, d1);
	assert_int_equal(to, date_from_ymd(2026, 1, 20));

	/* --from after the default end */
	logfp = open_memstream(&logbuf, &loglen);
	assert_non_null(logfp);
	log_set_fp(logfp);
	assert_int_equal(parse(&plain_spec, &o, "--from", "2026-02-15", NULL), CLI_CONTINUE);
	from = to = -1;
	assert_false(cli_window(&o, d1, d31, &from, &to));
	assert_int_equal(from, -1);
	fflush(logfp);
	assert_non_null(strstr(logbuf, "starts on 2026-02-15 (--from) but ends on 2026-01-31 (default)"));
	log_set_fp(NULL);
	fclose(logfp);
	free(logbuf);
}

/* A config file in a fresh directory; ALLOCATED path into *dir too. */
static char *
write_config(char **dir, const char *text)
{
	char *path;
	size_t n;

	*dir = ts_make_tmpdir("cli");
	n = strlen(*dir) + 32;
	path = malloc(n);
	assert_non_null(path);
	snprintf(path, n, "%s/closedloop.ini", *dir);
	ts_write_file(path, text);
	return path;
}

static void
test_cli_start_sets_up_the_run(void **state)
{
	CliOptions o;
	char run_id[CL_RUN_ID_SIZE];
	Config *cfg = NULL;
	int code = -1;
	char *dir = NULL;
	char *path = write_config(&dir, "[pipeline]\nreporting_currency = EUR\n");
	FILE *logfp;
	char *logbuf = NULL;
	size_t loglen = 0;
	regex_t re;

	(void) state;
	logfp = open_memstream(&logbuf, &loglen);
	assert_non_null(logfp);
	log_set_fp(logfp);

	assert_int_equal(parse(&plain_spec, &o, "--config", path, "-vv", NULL), CLI_CONTINUE);
	assert_true(cli_start(&plain_spec, &o, run_id, &cfg, &code));
	assert_int_equal(code, EXIT_CODE_OK);
	assert_non_null(cfg);
	assert_string_equal(config_get(cfg, "pipeline", "reporting_currency"), "EUR");
	assert_int_equal(log_get_level(), LOG_SQL);
	assert_int_equal(regcomp(&re, "^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{6}$", REG_EXTENDED | REG_NOSUB), 0);
	assert_int_equal(regexec(&re, run_id, 0, NULL, 0), 0);
	regfree(&re);
	config_free(cfg);

	/* the run id and program prefix every line */
	log_notice("marker line");
	fflush(logfp);
	{
		char expect[128];

		snprintf(expect, sizeof(expect), "NOTICE cl-test[run %s] marker line", run_id);
		assert_non_null(strstr(logbuf, expect));
	}

	/* -q, and JSON from the environment */
	setenv("CLOSEDLOOP_LOG_JSON", "1", 1);
	assert_int_equal(parse(&plain_spec, &o, "--config", path, "-q", NULL), CLI_CONTINUE);
	cfg = NULL;
	assert_true(cli_start(&plain_spec, &o, run_id, &cfg, &code));
	config_free(cfg);
	assert_int_equal(log_get_level(), LOG_WARN);
	log_warn("json marker");
	fflush(logfp);
	assert_non_null(strstr(logbuf, "\"msg\":\"json marker\""));

	/* --log-format text overrides the environment */
	assert_int_equal(parse(&plain_spec, &o, "--config", path, "--log-format", "text", NULL),
					 CLI_CONTINUE);
	cfg = NULL;
	assert_true(cli_start(&plain_spec, &o, run_id, &cfg, &code));
	config_free(cfg);
	log_warn("text marker");
	fflush(logfp);
	assert_null(strstr(logbuf, "\"msg\":\"text marker\""));
	assert_non_null(strstr(logbuf, "] text marker"));
	unsetenv("CLOSEDLOOP_LOG_JSON");

	log_set_fp(NULL);
	log_use_json(false);
	log_set_level(LOG_INFO);
	fclose(logfp);
	free(logbuf);
	ts_rmdir_r(dir);
	free(dir);
	free(path);
}

static void
test_cli_start_bad_config_exits_78(void **state)
{
	CliOptions o;
	char run_id[CL_RUN_ID_SIZE];
	Config *cfg = NULL;
	int code = -1;
	char *dir = NULL;
	char *path = write_config(&dir, "[http]\ntimeout_seconds = never\n");
	FILE *logfp;
	char *logbuf = NULL;
	size_t loglen = 0;

	(void) state;
	logfp = open_memstream(&logbuf, &loglen);
	assert_non_null(logfp);
	log_set_fp(logfp);

	assert_int_equal(parse(&plain_spec, &o, "--config", path, NULL), CLI_CONTINUE);
	assert_false(cli_start(&plain_spec, &o, run_id, &cfg, &code));
	assert_int_equal(code, EXIT_CODE_CONFIG);
	assert_null(cfg);
	fflush(logfp);
	assert_non_null(strstr(logbuf, "[http] timeout_seconds: 'never' is not an integer"));

	/* a missing file is a configuration error too */
	ts_rmdir_r(dir);
	code = -1;
	assert_false(cli_start(&plain_spec, &o, run_id, &cfg, &code));
	assert_int_equal(code, EXIT_CODE_CONFIG);

	log_set_fp(NULL);
	log_set_level(LOG_INFO);
	fclose(logfp);
	free(logbuf);
	free(dir);
	free(path);
}

static void
test_cli_start_signal_requests_stop(void **state)
{
	CliOptions o;
	char run_id[CL_RUN_ID_SIZE];
	Config *cfg = NULL;
	int code = -1;
	char *dir = NULL;
	char *path = write_config(&dir, "");
	struct sigaction now;

	(void) state;
	assert_int_equal(parse(&plain_spec, &o, "--config", path, "-q", "-q", NULL), CLI_CONTINUE);
	assert_true(cli_start(&plain_spec, &o, run_id, &cfg, &code));
	config_free(cfg);

	assert_false(cl_stop_requested());
	assert_int_equal(raise(SIGTERM), 0);
	assert_true(cl_stop_requested());
	/* one-shot: a second signal would terminate the default way */
	assert_int_equal(sigaction(SIGTERM, NULL, &now), 0);
	assert_true(now.sa_handler == SIG_DFL);
	assert_int_equal(sigaction(SIGINT, NULL, &now), 0);
	assert_true(now.sa_handler != SIG_DFL);

	log_set_level(LOG_INFO);
	ts_rmdir_r(dir);
	free(dir);
	free(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_cli_defaults, setup),
		cmocka_unit_test_setup(test_cli_each_option, setup),
		cmocka_unit_test_setup(test_cli_verbosity_repeats, setup),
		cmocka_unit_test_setup(test_cli_config_path_from_environment, setup),
		cmocka_unit_test_setup(test_cli_unknown_option, setup),
		cmocka_unit_test_setup(test_cli_stray_argument, setup),
		cmocka_unit_test_setup(test_cli_missing_argument, setup),
		cmocka_unit_test_setup(test_cli_bad_dates, setup),
		cmocka_unit_test_setup(test_cli_bad_log_format, setup),
		cmocka_unit_test_setup(test_cli_extras_only_when_enabled, setup),
		cmocka_unit_test_setup(test_cli_extras_parse, setup),
		cmocka_unit_test_setup(test_cli_help_to_stdout, setup),
		cmocka_unit_test_setup(test_cli_version_to_stdout, setup),
		cmocka_unit_test_setup(test_cli_window, setup),
		cmocka_unit_test_setup(test_cli_start_sets_up_the_run, setup),
		cmocka_unit_test_setup(test_cli_start_bad_config_exits_78, setup),
		/* last: the stop flag cannot be cleared once raised */
		cmocka_unit_test_setup(test_cli_start_signal_requests_stop, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
