#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "support.h"

/* The log of each test goes to a memory stream so messages can be checked. */
typedef struct Fixture
{
	FILE *fp;
	char *buf;
	size_t len;
	char *tmpdir;
} Fixture;

static int
setup(void **state)
{
	Fixture *f = calloc(1, sizeof(Fixture));

	assert_non_null(f);
	f->fp = open_memstream(&f->buf, &f->len);
	assert_non_null(f->fp);
	log_set_fp(f->fp);
	log_set_level(LOG_INFO);
	log_use_json(false);
	log_init("test_config", NULL);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	Fixture *f = *state;

	log_set_fp(NULL);
	log_forget_secrets();
	fclose(f->fp);
	free(f->buf);
	if (f->tmpdir != NULL)
	{
		ts_rmdir_r(f->tmpdir);
		free(f->tmpdir);
	}
	free(f);
	return 0;
}

/* logged returns what was logged so far (borrowed). */
static const char *
logged(Fixture *f)
{
	fflush(f->fp);
	return f->buf == NULL ? "" : f->buf;
}

/* expect_error loads text, which must fail, with a message containing
 * every one of the given fragments. */
static void
expect_error(Fixture *f, const char *text, const char *fragment1, const char *fragment2)
{
	Config *cfg = NULL;

	if (config_load_string(text, "test.ini", &cfg))
	{
		config_free(cfg);
		fail_msg("loaded, but should have failed with '%s'", fragment1);
	}
	assert_null(cfg);
	if (strstr(logged(f), fragment1) == NULL)
		fail_msg("'%s' not in log: %s", fragment1, logged(f));
	if (fragment2 != NULL && strstr(logged(f), fragment2) == NULL)
		fail_msg("'%s' not in log: %s", fragment2, logged(f));
}

static Config *
load_ok(Fixture *f, const char *text)
{
	Config *cfg = NULL;

	if (!config_load_string(text, "test.ini", &cfg))
		fail_msg("load failed: %s", logged(f));
	assert_non_null(cfg);
	return cfg;
}

static void
test_config_defaults_apply(void **state)
{
	Fixture *f = *state;
	Config *cfg = load_ok(f, "");

	assert_string_equal(config_get(cfg, "pipeline", "staging_dir"), "/var/lib/closedloop/staging");
	assert_string_equal(config_get(cfg, "pipeline", "state_dir"), "");
	assert_null(config_get(cfg, "pipeline", "rates_file"));
	assert_null(config_get(cfg, "crm.hubspot", "token"));
	assert_string_equal(config_get(cfg, "database", "migrations_dir"), CLOSEDLOOP_SQL_DIR);
	assert_string_equal(config_get(cfg, "database", "conninfo"), "service=closedloop");
	assert_int_equal(config_get_int(cfg, "attribution", "lookback_days"), 90);
	assert_int_equal(config_get_int(cfg, "http", "retry_max_sleep_ms"), 30000);
	assert_true(config_get_bool(cfg, "channels", "defaults"));
	assert_false(config_get_bool(cfg, "crm.hubspot", "enabled"));
	assert_string_equal(config_get(cfg, "attribution", "models"),
						"first_touch,last_touch,last_non_direct,linear,position_based,time_decay,"
						"w_shaped,full_path,markov");
	assert_string_equal(config_source(cfg, "http", "timeout_seconds"), "default");
	assert_false(config_has_section(cfg, "http"));
	config_free(cfg);
}

static void
test_config_values_types_and_comments(void **state)
{
	Fixture *f = *state;
	Config *cfg = load_ok(f,
		"; a comment\n"
		"# another comment\n"
		"[pipeline]\n"
		"staging_dir = /srv/staging   ; inline comment\n"
		"timezone=Europe/Berlin\n"
		"start_date = 2026-01-31\n"
		"\n"
		"  [attribution]  \n"
		"  models =  linear , markov,first_touch \n"
		"lookback_days = 30\n"
		"pb_first = 0.2;0.3\n"
		"[channels]\n"
		"defaults = OFF\n"
		"[crm.hubspot]\n"
		"enabled = Yes\n"
		"token = literal-token-value\n"
		"page_size = +50\n"
		"[http]\r\n"
		"retry_max_total_seconds = 0\r\n");

	assert_string_equal(config_get(cfg, "pipeline", "staging_dir"), "/srv/staging");
	assert_string_equal(config_get(cfg, "pipeline", "timezone"), "Europe/Berlin");
	assert_string_equal(config_get(cfg, "pipeline", "start_date"), "2026-01-31");
	assert_string_equal(config_get(cfg, "attribution", "models"), "linear,markov,first_touch");
	assert_int_equal(config_get_int(cfg, "attribution", "lookback_days"), 30);
	assert_string_equal(config_get(cfg, "attribution", "pb_first"), "0.2;0.3");
	assert_false(config_get_bool(cfg, "channels", "defaults"));
	assert_string_equal(config_get(cfg, "channels", "defaults"), "false");
	assert_true(config_get_bool(cfg, "crm.hubspot", "enabled"));
	assert_string_equal(config_get(cfg, "crm.hubspot", "enabled"), "true");
	assert_int_equal(config_get_int(cfg, "crm.hubspot", "page_size"), 50);
	assert_int_equal(config_get_int(cfg, "http", "retry_max_total_seconds"), 0);

	assert_string_equal(config_source(cfg, "pipeline", "staging_dir"), "test.ini:4");
	assert_string_equal(config_source(cfg, "attribution", "models"), "test.ini:9");
	assert_string_equal(config_source(cfg, "http", "retry_max_total_seconds"), "test.ini:19");
	assert_string_equal(config_source(cfg, "pipeline", "reporting_currency"), "default");
	assert_true(config_has_section(cfg, "attribution"));
	assert_true(config_has_section(cfg, "crm.hubspot"));
	assert_false(config_has_section(cfg, "ads.meta"));
	config_free(cfg);
}

static void
test_config_bool_spellings(void **state)
{
	Fixture *f = *state;
	static const char *const yes[] = { "true", "TRUE", "yes", "on", "1" };
	static const char *const no[] = { "false", "No", "off", "0" };
	char text[128];

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
	{
		Config *cfg;

		snprintf(text, sizeof(text), "[channels]\ndefaults = %s\n[ads.meta]\nenabled=%s\n",
				 yes[i], yes[i]);
		cfg = load_ok(f, text);
		assert_true(config_get_bool(cfg, "channels", "defaults"));
		assert_true(config_get_bool(cfg, "ads.meta", "enabled"));
		config_free(cfg);
	}
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
	{
		Config *cfg;

		snprintf(text, sizeof(text), "[channels]\ndefaults = %s\n", no[i]);
		cfg = load_ok(f, text);
		assert_false(config_get_bool(cfg, "channels", "defaults"));
		config_free(cfg);
	}
}

static void
test_config_empty_value_means_default(void **state)
{
	Fixture *f = *state;
	Config *cfg = load_ok(f,
		"[http]\ntimeout_seconds =\nca_file =\n[pipeline]\nstart_date =\n");

	assert_int_equal(config_get_int(cfg, "http", "timeout_seconds"), 300);
	assert_null(config_get(cfg, "http", "ca_file"));
	assert_null(config_get(cfg, "pipeline", "start_date"));
	assert_string_equal(config_source(cfg, "http", "timeout_seconds"), "test.ini:2");
	config_free(cfg);
}

static void
test_config_env_expansion(void **state)
{
	Fixture *f = *state;
	Config *cfg;

	setenv("CL_TEST_DIR", "/data", 1);
	setenv("CL_TEST_DAYS", "45", 1);
	setenv("CL_TEST_TOKEN", "pat-na1-0123456789", 1);
	cfg = load_ok(f,
		"[pipeline]\nstaging_dir = ${CL_TEST_DIR}/staging\n"
		"rates_file = $${CL_TEST_DIR}/literal\n"
		"[attribution]\nlookback_days = ${CL_TEST_DAYS}\n"
		"[crm.hubspot]\nenabled = true\ntoken = ${CL_TEST_TOKEN}\n");

	assert_string_equal(config_get(cfg, "pipeline", "staging_dir"), "/data/staging");
	assert_string_equal(config_get(cfg, "pipeline", "rates_file"), "${CL_TEST_DIR}/literal");
	assert_int_equal(config_get_int(cfg, "attribution", "lookback_days"), 45);
	assert_string_equal(config_get(cfg, "crm.hubspot", "token"), "pat-na1-0123456789");

	/* secret keys are registered with the log masker */
	log_info("sending %s", config_get(cfg, "crm.hubspot", "token"));
	assert_null(strstr(logged(f), "pat-na1-0123456789"));
	assert_non_null(strstr(logged(f), "sending ***"));
	config_free(cfg);
	unsetenv("CL_TEST_DIR");
	unsetenv("CL_TEST_DAYS");
	unsetenv("CL_TEST_TOKEN");
}

static void
test_config_expand_env_function(void **state)
{
	char *missing = NULL;
	char *out;

	(void) state;
	setenv("CL_TEST_A", "alpha", 1);
	setenv("CL_TEST_EMPTY", "", 1);
	unsetenv("CL_TEST_UNSET");

	out = config_expand_env("x${CL_TEST_A}y${CL_TEST_EMPTY}z$HOME $${CL_TEST_A}", &missing);
	assert_non_null(out);
	assert_null(missing);
	assert_string_equal(out, "xalphayz$HOME ${CL_TEST_A}");
	free(out);

	out = config_expand_env("a ${CL_TEST_UNSET} b", &missing);
	assert_null(out);
	assert_non_null(missing);
	assert_string_equal(missing, "CL_TEST_UNSET");
	free(missing);

	static const char *const malformed[] = { "${", "${CL_TEST_A", "${}", "${A B}", "${1A}" };
	for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++)
	{
		missing = NULL;
		out = config_expand_env(malformed[i], &missing);
		assert_null(out);
		assert_null(missing);
	}
	unsetenv("CL_TEST_A");
	unsetenv("CL_TEST_EMPTY");
}

static void
test_config_error_unknown_section(void **state)
{
	expect_error(*state, "[pipeline]\nstaging_dir = /x\n[crm.hubsport]\ntoken = t\n",
				 "test.ini:3: [crm.hubsport]: unknown section",
				 "crm.hubspot");
}

static void
test_config_error_unknown_key(void **state)
{
	expect_error(*state, "[http]\ntimeoutz = 5\n",
				 "test.ini:2: [http] timeoutz: unknown key",
				 "timeout_seconds");
}

static void
test_config_error_duplicate_key(void **state)
{
	expect_error(*state, "[http]\ntimeout_seconds = 5\n; again\ntimeout_seconds = 6\n",
				 "test.ini:4: [http] timeout_seconds: duplicate key (first set at line 2)",
				 NULL);
}

static void
test_config_error_duplicate_section(void **state)
{
	expect_error(*state, "[http]\ntimeout_seconds = 5\n[http]\nmax_attempts = 2\n",
				 "test.ini:3: [http]: duplicate section (first at line 1)", NULL);
}

static void
test_config_error_bad_int(void **state)
{
	expect_error(*state, "[attribution]\n\nlookback_days = 12days\n",
				 "test.ini:3: [attribution] lookback_days: '12days' is not an integer",
				 "1..3650");
}

static void
test_config_error_int_overflow(void **state)
{
	expect_error(*state, "[database]\nstatement_timeout_ms = 99999999999999999999\n",
				 "test.ini:2: [database] statement_timeout_ms:", "is not an integer");
}

static void
test_config_error_out_of_range(void **state)
{
	Fixture *f = *state;

	expect_error(f, "[http]\ntimeout_seconds = 0\n",
				 "test.ini:2: [http] timeout_seconds: 0 is out of range", "1..86400");
	expect_error(f, "[crm.hubspot]\npage_size = 101\n",
				 "test.ini:2: [crm.hubspot] page_size: 101 is out of range", "1..100");
	expect_error(f, "[http]\nmax_attempts = -1\n",
				 "test.ini:2: [http] max_attempts: -1 is out of range", NULL);
}

static void
test_config_error_bad_bool(void **state)
{
	expect_error(*state, "[email.mailchimp]\nopens_as_touches = maybe\n",
				 "test.ini:2: [email.mailchimp] opens_as_touches: 'maybe' is not a boolean",
				 "true/false");
}

static void
test_config_error_bad_date(void **state)
{
	Fixture *f = *state;

	expect_error(f, "[pipeline]\nstart_date = 2026-02-30\n",
				 "test.ini:2: [pipeline] start_date: '2026-02-30' is not a valid date",
				 "YYYY-MM-DD");
	expect_error(f, "[crm.hubspot]\nstart_date = 31/01/2026\n",
				 "test.ini:2: [crm.hubspot] start_date: '31/01/2026' is not a valid date", NULL);
}

static void
test_config_error_unset_variable(void **state)
{
	Fixture *f = *state;

	unsetenv("CL_TEST_NOT_SET");
	expect_error(f, "[pipeline]\nstaging_dir = ${CL_TEST_NOT_SET}/x\n",
				 "test.ini:2: [pipeline] staging_dir: environment variable CL_TEST_NOT_SET is not set",
				 NULL);
	expect_error(f, "[ads.meta]\nenabled = true\naccess_token = ${CL_TEST_NOT_SET}\n",
				 "test.ini:3: [ads.meta] access_token: environment variable CL_TEST_NOT_SET is not set",
				 NULL);
}

static void
test_config_disabled_vendor_tolerates_unset_variable(void **state)
{
	Fixture *f = *state;
	Config *cfg;

	unsetenv("CL_TEST_NOT_SET");
	cfg = load_ok(f, "[ads.meta]\naccess_token = ${CL_TEST_NOT_SET}\nenabled = false\n");
	assert_null(config_get(cfg, "ads.meta", "access_token"));
	assert_false(config_get_bool(cfg, "ads.meta", "enabled"));
	config_free(cfg);
}

static void
test_config_error_malformed_reference(void **state)
{
	expect_error(*state, "[pipeline]\nstaging_dir = ${BROKEN\n",
				 "test.ini:2: [pipeline] staging_dir: malformed ${...} reference", NULL);
}

static void
test_config_error_empty_list_item(void **state)
{
	expect_error(*state, "[attribution]\nmodels = linear,,markov\n",
				 "test.ini:2: [attribution] models: empty item", NULL);
}

static void
test_config_error_syntax(void **state)
{
	Fixture *f = *state;

	expect_error(f, "timezone = UTC\n",
				 "test.ini:1: timezone: key outside any section", NULL);
	expect_error(f, "[pipeline]\njust some words\n",
				 "test.ini:2: expected 'key = value'", NULL);
	expect_error(f, "[pipeline\nx = 1\n",
				 "test.ini:1: section header without a closing ']'", NULL);
	expect_error(f, "[pipeline] junk\n",
				 "test.ini:1: unexpected text after the section header", NULL);
}

static void
test_config_indented_line_is_not_a_continuation(void **state)
{
	Fixture *f = *state;
	Config *cfg = load_ok(f, "[pipeline]\ntimezone = UTC\n    reporting_currency = EUR\n");

	assert_string_equal(config_get(cfg, "pipeline", "timezone"), "UTC");
	assert_string_equal(config_get(cfg, "pipeline", "reporting_currency"), "EUR");
	config_free(cfg);

	expect_error(f, "[pipeline]\ntimezone = UTC\n    Europe/Berlin\n",
				 "test.ini:3: expected 'key = value'", NULL);
}

static void
test_config_error_line_too_long(void **state)
{
	Fixture *f = *state;
	char text[1024];
	char value[400];
	Config *cfg;

	memset(value, 'a', sizeof(value) - 1);
	value[sizeof(value) - 1] = '\0';
	snprintf(text, sizeof(text), "[pipeline]\nstaging_dir = /%s\n", value);
	expect_error(f, text, "test.ini:2: line is longer than", "${VAR}");

	/* a long comment is fine: comments never reach the parser */
	snprintf(text, sizeof(text), "; %s\n[pipeline]\nstaging_dir = /x ; %s\n", value, value);
	cfg = load_ok(f, text);
	assert_string_equal(config_get(cfg, "pipeline", "staging_dir"), "/x");
	config_free(cfg);
}

static void
test_config_error_reports_every_problem(void **state)
{
	Fixture *f = *state;

	expect_error(f, "[http]\ntimeout_seconds = x\nmax_attempts = 0\n[nope]\n",
				 "test.ini:2: [http] timeout_seconds:", "test.ini:3: [http] max_attempts:");
	assert_non_null(strstr(logged(f), "test.ini:4: [nope]: unknown section"));
}

static void
test_config_error_unreadable_file(void **state)
{
	Fixture *f = *state;
	Config *cfg = NULL;
	char path[1024];

	f->tmpdir = ts_make_tmpdir("config");
	snprintf(path, sizeof(path), "%s/missing.ini", f->tmpdir);
	assert_false(config_load(path, &cfg));
	assert_null(cfg);
	assert_non_null(strstr(logged(f), path));
	assert_non_null(strstr(logged(f), "No such file or directory"));
	assert_non_null(strstr(logged(f), "--config"));

	/* a directory opens but cannot be read */
	assert_false(config_load(f->tmpdir, &cfg));
	assert_non_null(strstr(logged(f), "Is a directory"));
}

static void
test_config_load_file(void **state)
{
	Fixture *f = *state;
	Config *cfg = NULL;
	char path[1024];

	f->tmpdir = ts_make_tmpdir("config");
	snprintf(path, sizeof(path), "%s/closedloop.ini", f->tmpdir);
	ts_write_file(path, "\xEF\xBB\xBF[pipeline]\nreporting_currency = EUR\n");
	if (!config_load(path, &cfg))
		fail_msg("load failed: %s", logged(f));
	assert_string_equal(config_get(cfg, "pipeline", "reporting_currency"), "EUR");
	{
		char expected[1100];

		snprintf(expected, sizeof(expected), "%s:2", path);
		assert_string_equal(config_source(cfg, "pipeline", "reporting_currency"), expected);
	}
	config_free(cfg);
	config_free(NULL);
}

static void
test_config_path_default(void **state)
{
	(void) state;
	setenv("CLOSEDLOOP_CONFIG", "/etc/closedloop/env.ini", 1);
	assert_string_equal(config_path_default("given.ini"), "given.ini");
	assert_string_equal(config_path_default(NULL), "/etc/closedloop/env.ini");
	assert_string_equal(config_path_default(""), "/etc/closedloop/env.ini");
	setenv("CLOSEDLOOP_CONFIG", "", 1);
	assert_string_equal(config_path_default(NULL), "./closedloop.ini");
	unsetenv("CLOSEDLOOP_CONFIG");
	assert_string_equal(config_path_default(NULL), "./closedloop.ini");
}

static void
test_config_accessor_misuse_is_a_bug(void **state)
{
	Fixture *f = *state;
	Config *cfg = load_ok(f, "");

	assert_null(config_get(cfg, "pipeline", "no_such_key"));
	assert_int_equal(config_get_int(cfg, "pipeline", "timezone"), 0);
	assert_false(config_get_bool(cfg, "http", "timeout_seconds"));
	assert_non_null(strstr(logged(f), "BUG: config key [pipeline] no_such_key is not in the schema"));
	assert_non_null(strstr(logged(f), "BUG: config key [pipeline] timezone is not an integer"));
	assert_non_null(strstr(logged(f), "BUG: config key [http] timeout_seconds is not a boolean"));
	config_free(cfg);
}

/*
 * for_each_env_ref calls fn with every ${NAME} referenced in text (escaped
 * "$${" excluded).
 */
static void
for_each_env_ref(const char *text, void (*fn)(const char *name))
{
	for (const char *p = strstr(text, "${"); p != NULL; p = strstr(p + 2, "${"))
	{
		char name[128];
		const char *end = strchr(p, '}');
		size_t n;

		if (p > text && p[-1] == '$')
			continue;
		assert_non_null(end);
		n = (size_t) (end - p - 2);
		assert_true(n > 0 && n < sizeof(name));
		memcpy(name, p + 2, n);
		name[n] = '\0';
		fn(name);
	}
}

static void
set_test_value(const char *name)
{
	char value[256];

	snprintf(value, sizeof(value), "example-secret-for-%s", name);
	setenv(name, value, 1);
}

static void
unset_value(const char *name)
{
	unsetenv(name);
}

static void
test_config_example_documents_every_key(void **state)
{
	Fixture *f = *state;
	char *path = ts_source_path("config.example.ini");
	char *text = ts_read_file(path, NULL);
	Config *cfg = NULL;
	for_each_env_ref(text, set_test_value);
	if (!config_load(path, &cfg))
		fail_msg("config.example.ini does not load: %s", logged(f));

	for (int i = 0; config_schema[i].section != NULL; i++)
	{
		const ConfigKey *k = &config_schema[i];
		const char *src = config_source(cfg, k->section, k->name);

		/* a key line of its own in the right section */
		if (strcmp(src, "default") == 0)
			fail_msg("config.example.ini has no line for [%s] %s", k->section, k->name);
		if (!config_has_section(cfg, k->section))
			fail_msg("config.example.ini has no [%s] section", k->section);

		/* the value shown is the default (or empty, which means it) */
		if (k->default_value != NULL && !k->secret)
		{
			const char *v = config_get(cfg, k->section, k->name);

			if (v == NULL || strcmp(v, k->default_value) != 0)
				fail_msg("config.example.ini: [%s] %s = %s, but the default is %s",
						 k->section, k->name, v == NULL ? "(unset)" : v, k->default_value);
		}
	}

	/* every vendor ships disabled */
	assert_false(config_get_bool(cfg, "crm.hubspot", "enabled"));
	assert_false(config_get_bool(cfg, "crm.salesforce", "enabled"));
	assert_false(config_get_bool(cfg, "ads.google_ads", "enabled"));
	assert_false(config_get_bool(cfg, "ads.meta", "enabled"));
	assert_false(config_get_bool(cfg, "email.mailchimp", "enabled"));
	assert_string_equal(config_get(cfg, "crm.hubspot", "token"),
						"example-secret-for-HUBSPOT_TOKEN");
	config_free(cfg);

	/* a copy of the example works before any credential is exported */
	for_each_env_ref(text, unset_value);
	cfg = NULL;
	if (!config_load(path, &cfg))
		fail_msg("config.example.ini needs credentials although every vendor is disabled: %s",
				 logged(f));
	assert_null(config_get(cfg, "crm.hubspot", "token"));
	config_free(cfg);

	free(text);
	free(path);
}

static void
test_config_example_secrets_come_from_env(void **state)
{
	char *path = ts_source_path("config.example.ini");
	char *text = ts_read_file(path, NULL);
	regex_t re;

	(void) state;
	/* every secret key's line is "key = ${VAR}" or empty */
	for (int i = 0; config_schema[i].section != NULL; i++)
	{
		const ConfigKey *k = &config_schema[i];
		char pattern[256];
		const char *sec = strstr(text, "\n[");

		if (!k->secret)
			continue;
		/* find the section, then the key's line within it */
		for (; sec != NULL; sec = strstr(sec + 1, "\n["))
		{
			if (strncmp(sec + 2, k->section, strlen(k->section)) == 0 &&
				sec[2 + strlen(k->section)] == ']')
				break;
		}
		assert_non_null(sec);
		snprintf(pattern, sizeof(pattern), "\n%s =( \\$\\{[A-Z0-9_]+\\})?\n", k->name);
		assert_int_equal(regcomp(&re, pattern, REG_EXTENDED), 0);
		{
			regmatch_t m;
			const char *next = strstr(sec + 1, "\n[");

			if (regexec(&re, sec, 1, &m, 0) != 0 ||
				(next != NULL && sec + m.rm_so > next))
				fail_msg("[%s] %s in config.example.ini is not '%s = ${VAR}' or empty",
						 k->section, k->name, k->name);
		}
		regfree(&re);
	}
	free(text);
	free(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_config_defaults_apply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_values_types_and_comments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_bool_spellings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_empty_value_means_default, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_env_expansion, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_expand_env_function, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_error_unknown_section, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_error_unknown_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_error_duplicate_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_error_duplicate_section, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_error_bad_int, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_error_int_overflow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_error_out_of_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_error_bad_bool, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_error_bad_date, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_error_unset_variable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_disabled_vendor_tolerates_unset_variable,
										setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_error_malformed_reference, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_error_empty_list_item, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_error_syntax, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_indented_line_is_not_a_continuation,
										setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_error_line_too_long, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_error_reports_every_problem, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_error_unreadable_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_load_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_path_default, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_accessor_misuse_is_a_bug, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_example_documents_every_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_example_secrets_come_from_env, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
