#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#include "log.h"
#include "support.h"

#define RUN_ID "20261125T203000Z-abc123"

/* Each test logs into a memory stream; buf/len follow it after fflush. */
typedef struct Capture
{
	FILE *fp;
	char *buf;
	size_t len;
} Capture;

static int
setup(void **state)
{
	Capture *c = calloc(1, sizeof(Capture));

	assert_non_null(c);
	c->fp = open_memstream(&c->buf, &c->len);
	assert_non_null(c->fp);
	log_set_fp(c->fp);
	log_init("cl-test", RUN_ID);
	log_set_level(LOG_INFO);
	log_use_json(false);
	log_forget_secrets();
	*state = c;
	return 0;
}

static int
teardown(void **state)
{
	Capture *c = *state;

	log_set_fp(NULL);
	log_forget_secrets();
	log_use_json(false);
	log_set_level(LOG_INFO);
	fclose(c->fp);
	free(c->buf);
	free(c);
	return 0;
}

/* captured returns everything logged so far (borrowed). */
static const char *
captured(Capture *c)
{
	fflush(c->fp);
	return c->buf;
}

static void
assert_matches(const char *text, const char *pattern)
{
	regex_t re;

	assert_int_equal(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB), 0);
	if (regexec(&re, text, 0, NULL, 0) != 0)
	{
		regfree(&re);
		fail_msg("'%s' does not match /%s/", text, pattern);
	}
	regfree(&re);
}

/* mask is log_mask_secrets into a fresh static buffer. */
static const char *
mask(const char *src)
{
	static char out[1024];

	log_mask_secrets(src, out, sizeof(out));
	return out;
}

static void
test_log_levels_filter(void **state)
{
	Capture *c = *state;

	log_set_level(LOG_WARN);
	assert_int_equal(log_get_level(), LOG_WARN);
	log_info("info-hidden");
	log_notice("notice-hidden");
	log_warn("warn-shown");
	log_error("error-shown");
	assert_null(strstr(captured(c), "info-hidden"));
	assert_null(strstr(captured(c), "notice-hidden"));
	assert_non_null(strstr(captured(c), "WARN  cl-test"));
	assert_non_null(strstr(captured(c), "warn-shown"));
	assert_non_null(strstr(captured(c), "ERROR cl-test"));

	log_set_level(LOG_TRACE);
	log_trace("trace-shown");
	log_sql("sql-shown");
	assert_non_null(strstr(captured(c), "TRACE cl-test"));
	assert_non_null(strstr(captured(c), "SQL   cl-test"));

	log_set_level(LOG_INFO);
	log_debug("debug-hidden");
	log_sql("sql-hidden");
	assert_null(strstr(captured(c), "debug-hidden"));
	assert_null(strstr(captured(c), "sql-hidden"));
}

static void
test_log_text_format(void **state)
{
	Capture *c = *state;

	log_info("hello %s %d", "world", 42);
	assert_matches(captured(c),
				   "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z "
				   "INFO  cl-test\\[run " RUN_ID "\\] hello world 42\n$");
}

static void
test_log_text_location_at_debug(void **state)
{
	Capture *c = *state;

	log_set_level(LOG_DEBUG);
	log_info("where am I");
	assert_matches(captured(c), "INFO  cl-test\\[run " RUN_ID "\\] where am I "
				   "\\(test_log\\.c:[0-9]+\\)\n$");
}

static void
test_log_without_run_id(void **state)
{
	Capture *c = *state;

	log_init("cl-other", NULL);
	log_info("before the run starts");
	assert_matches(captured(c), "Z INFO  cl-other before the run starts\n$");

	log_use_json(true);
	log_info("json too");
	{
		const char *line = strstr(captured(c), "{");
		char err[256];
		yajl_val tree;
		const char *run_path[] = { "run_id", NULL };

		assert_non_null(line);
		tree = yajl_tree_parse(line, err, sizeof(err));
		assert_non_null(tree);
		assert_true(YAJL_IS_NULL(yajl_tree_get(tree, run_path, yajl_t_any)));
		yajl_tree_free(tree);
	}
}

/* json_field returns the string at key of a parsed line (borrowed). */
static const char *
json_field(yajl_val tree, const char *key)
{
	const char *path[] = { key, NULL };
	yajl_val v = yajl_tree_get(tree, path, yajl_t_string);

	assert_non_null(v);
	return YAJL_GET_STRING(v);
}

static void
test_log_json_is_valid_and_escaped(void **state)
{
	Capture *c = *state;
	char err[256];
	yajl_val tree;
	const char *out;

	log_use_json(true);
	log_warn("quote \" backslash \\ newline \n tab \t ctl \x01 del \x7f "
			 "bad \xff utf8 \xc3\xa9 end");
	out = captured(c);
	assert_int_equal(out[strlen(out) - 1], '\n');
	assert_null(strchr(out, '\t'));
	assert_int_equal(strchr(out, '\n'), out + strlen(out) - 1);

	tree = yajl_tree_parse(out, err, sizeof(err));
	if (tree == NULL)
		fail_msg("not JSON (%s): %s", err, out);
	assert_true(YAJL_IS_OBJECT(tree));
	assert_string_equal(json_field(tree, "level"), "WARN");
	assert_string_equal(json_field(tree, "program"), "cl-test");
	assert_string_equal(json_field(tree, "run_id"), RUN_ID);
	assert_string_equal(json_field(tree, "msg"),
						"quote \" backslash \\ newline \n tab \t ctl \x01 del \x7f "
						"bad \xef\xbf\xbd utf8 \xc3\xa9 end");
	assert_matches(json_field(tree, "ts"),
				   "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$");
	yajl_tree_free(tree);
}

static void
test_log_masks_registered_secret(void **state)
{
	Capture *c = *state;

	log_register_secret("s3cr3t-value-123");
	log_register_secret("abc");         /* too short to mask */
	log_info("sending s3cr3t-value-123 to abc");
	assert_null(strstr(captured(c), "s3cr3t"));
	assert_non_null(strstr(captured(c), "sending *** to abc"));

	/* longest first: a secret that contains another is masked whole */
	log_register_secret("s3cr3t");
	assert_string_equal(mask("x s3cr3t-value-123 y s3cr3t z"), "x *** y *** z");

	log_forget_secrets();
	assert_string_equal(mask("s3cr3t-value-123"), "s3cr3t-value-123");
}

static void
test_log_masks_authorization_header(void **state)
{
	(void) state;
	assert_string_equal(mask("Authorization: Bearer eyJhbGciOi.J9.abc"),
						"Authorization: Bearer ***");
	assert_string_equal(mask("header authorization: basic dXNlcjpwYXNz, next"),
						"header authorization: basic *** next");
	assert_string_equal(mask("Proxy-Authorization: Bearer tok123 done"),
						"Proxy-Authorization: Bearer *** done");
	assert_string_equal(mask("Authorization: rawtoken123"), "Authorization: ***");
	assert_string_equal(mask("{\"Authorization\": \"Bearer abc123\"}"),
						"{\"Authorization\": \"Bearer ***\"}");
}

static void
test_log_masks_query_and_kv_params(void **state)
{
	(void) state;
	assert_string_equal(mask("GET https://x.test/v1?access_token=AAA111&limit=10&API_KEY=BBB"),
						"GET https://x.test/v1?access_token=***&limit=10&API_KEY=***");
	assert_string_equal(mask("refresh_token=R1 client_secret=C1 developer_token=D1"),
						"refresh_token=*** client_secret=*** developer_token=***");
	assert_string_equal(mask("?apikey=K1&key=K2&token=T1&password=P1"),
						"?apikey=***&key=***&token=***&password=***");
	assert_string_equal(mask("host=db password=hunter22 dbname=x"),
						"host=db password=*** dbname=x");
	assert_string_equal(mask("password='p w d' user=u"), "password='***' user=u");
	assert_string_equal(mask("url=\"https://a/?Token=XYZ\" next"),
						"url=\"https://a/?Token=***\" next");
	assert_string_equal(mask("developer-token: DEVTOK1 ok"), "developer-token: *** ok");
	/* names inside other words are not secret carriers */
	assert_string_equal(mask("monkey=banana keyword=k tokens=5 my_token=x"),
						"monkey=banana keyword=k tokens=5 my_token=x");
	/* prose with a colon after a short name stays readable */
	assert_string_equal(mask("duplicate key: timeout"), "duplicate key: timeout");
	assert_string_equal(mask("[ads.meta] access_token: variable X is not set"),
						"[ads.meta] access_token: variable X is not set");
	assert_string_equal(mask("token="), "token=");
}

static void
test_log_masks_json_bodies(void **state)
{
	(void) state;
	assert_string_equal(mask("{\"access_token\":\"ya29.a0Af\",\"expires_in\":3599}"),
						"{\"access_token\":\"***\",\"expires_in\":3599}");
	assert_string_equal(mask("{\"refresh_token\" : \"1//0g\", \"token\": \"t\\\"x\"}"),
						"{\"refresh_token\" : \"***\", \"token\": \"***\"}");
	assert_string_equal(mask("{\"key\": 12}"), "{\"key\": 12}");
}

static void
test_log_masks_url_userinfo(void **state)
{
	(void) state;
	assert_string_equal(mask("connecting to postgresql://etl:hunter2@db:5432/x"),
						"connecting to postgresql://etl:***@db:5432/x");
	assert_string_equal(mask("https://anystring:k-us21@us21.api.test/3.0/"),
						"https://anystring:***@us21.api.test/3.0/");
	assert_string_equal(mask("https://user@host.test/path"), "https://user@host.test/path");
	assert_string_equal(mask("https://host.test/a@b"), "https://host.test/a@b");
}

static void
test_log_every_line_is_masked(void **state)
{
	Capture *c = *state;

	log_register_secret("registered-9f8e7d");
	log_use_json(true);
	log_error("GET https://api.test/x?api_key=QQQ999 with registered-9f8e7d");
	log_use_json(false);
	log_error("Authorization: Bearer ZZZ888");
	assert_null(strstr(captured(c), "QQQ999"));
	assert_null(strstr(captured(c), "registered-9f8e7d"));
	assert_null(strstr(captured(c), "ZZZ888"));
	assert_non_null(strstr(captured(c), "api_key=***"));
}

static void
test_log_mask_truncates_safely(void **state)
{
	char small[8];
	char tiny[1] = { 'x' };

	(void) state;
	log_register_secret("SECRETSECRET");
	log_mask_secrets("ab SECRETSECRET cd", small, sizeof(small));
	assert_true(strlen(small) < sizeof(small));
	assert_null(strstr(small, "SEC"));
	assert_string_equal(small, "ab *** ");

	/* never ends in the middle of a UTF-8 sequence */
	log_mask_secrets("abcde\xc3\xa9xyz", small, 7);
	assert_string_equal(small, "abcde");
	log_mask_secrets("abcd\xc3\xa9xyz", small, 7);
	assert_string_equal(small, "abcd\xc3\xa9");

	log_mask_secrets("anything", tiny, sizeof(tiny));
	assert_int_equal(tiny[0], '\0');

	log_mask_secrets(NULL, small, sizeof(small));
	assert_string_equal(small, "");
}

static void
test_log_long_message_truncated(void **state)
{
	Capture *c = *state;
	size_t big = 20000;
	char *msg = malloc(big + 1);
	const char *out;
	char err[256];
	yajl_val tree;

	assert_non_null(msg);
	/* a secret straddling the cut must not leak its first bytes */
	memset(msg, 'x', big);
	memcpy(msg + 8170, "ABCDEFGHIJKLMNOPQRSTUVWX", 24);
	msg[big] = '\0';
	log_register_secret("ABCDEFGHIJKLMNOPQRSTUVWX");

	log_info("%s", msg);
	out = captured(c);
	assert_true(strlen(out) < 8192 + 200);
	assert_non_null(strstr(out, "[truncated]\n"));
	assert_null(strstr(out, "ABCD"));

	log_use_json(true);
	log_info("%s", msg);
	out = strchr(captured(c), '{');
	assert_non_null(out);
	tree = yajl_tree_parse(out, err, sizeof(err));
	if (tree == NULL)
		fail_msg("truncated JSON line does not parse: %s", err);
	assert_non_null(strstr(json_field(tree, "msg"), "[truncated]"));
	yajl_tree_free(tree);
	free(msg);
}

typedef struct ThreadArg
{
	int id;
} ThreadArg;

static void *
log_from_thread(void *p)
{
	ThreadArg *a = p;

	for (int i = 0; i < 200; i++)
		log_info("thread %d line %d token=T%dL%d padding padding padding", a->id, i, a->id, i);
	return NULL;
}

static void
test_log_thread_safe_lines(void **state)
{
	Capture *c = *state;
	pthread_t th[4];
	ThreadArg args[4];
	const char *p;
	int lines = 0;

	log_use_json(true);
	for (int i = 0; i < 4; i++)
	{
		args[i].id = i;
		assert_int_equal(pthread_create(&th[i], NULL, log_from_thread, &args[i]), 0);
	}
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);

	p = captured(c);
	while (*p != '\0')
	{
		const char *nl = strchr(p, '\n');
		char line[1024];
		char err[256];
		yajl_val tree;

		assert_non_null(nl);
		assert_true((size_t) (nl - p) < sizeof(line));
		memcpy(line, p, (size_t) (nl - p));
		line[nl - p] = '\0';
		tree = yajl_tree_parse(line, err, sizeof(err));
		if (tree == NULL)
			fail_msg("interleaved or broken line: %s", line);
		assert_non_null(strstr(json_field(tree, "msg"), "token=***"));
		yajl_tree_free(tree);
		lines++;
		p = nl + 1;
	}
	assert_int_equal(lines, 800);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_log_levels_filter, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_text_format, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_text_location_at_debug, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_without_run_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_json_is_valid_and_escaped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_masks_registered_secret, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_masks_authorization_header, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_masks_query_and_kv_params, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_masks_json_bodies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_masks_url_userinfo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_every_line_is_masked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_mask_truncates_safely, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_long_message_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_thread_safe_lines, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
