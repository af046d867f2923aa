/*
 * test_load_manifest.c: manifest.json parsing and validation, and the
 * verification of an output's files against it (load/output_manifest.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "output_manifest.h"
#include "sha256.h"
#include "support.h"

#define RUN1 "20260201T010000Z-aaaaaa"

/* A valid manifest with one table of each mode, in reverse catalog order. */
static const char *const good_manifest =
	"{\"run_id\": \"r1\", \"window\": {\"from\": \"2026-01-01\", \"to\": \"2026-01-31\"},"
	" \"reporting_currency\": \"USD\", \"future_member\": [1, 2],"
	" \"tables\": ["
	"  {\"name\": \"attribution_daily\", \"file\": \"daily.copy\", \"rows\": 2,"
	"   \"sha256\": \"E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855\","
	"   \"load\": \"window\"},"
	"  {\"name\": \"leads\", \"file\": \"leads.copy\", \"rows\": 0,"
	"   \"sha256\": \"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\","
	"   \"load\": \"upsert\"}]}";

static bool
parse(const char *text, OutputManifest *m)
{
	return manifest_parse(text, strlen(text), "test manifest", m);
}

/*
 * replace_once returns an ALLOCATED copy of text with the first "from"
 * replaced by "to" (caller frees); the test fails if from is absent.
 */
static char *
replace_once(const char *text, const char *from, const char *to)
{
	const char *at = strstr(text, from);
	size_t n;
	char *out;

	assert_non_null(at);
	n = strlen(text) - strlen(from) + strlen(to) + 1;
	out = malloc(n);
	assert_non_null(out);
	(void) snprintf(out, n, "%.*s%s%s", (int) (at - text), text, to, at + strlen(from));
	return out;
}

static void
test_load_manifest_parses_valid(void **state)
{
	OutputManifest m;
	char from[CL_DATE_BUFSIZE];
	char to[CL_DATE_BUFSIZE];

	(void) state;
	assert_true(parse(good_manifest, &m));
	assert_string_equal(m.run_id, "r1");
	assert_string_equal(date_format(m.window_from, from), "2026-01-01");
	assert_string_equal(date_format(m.window_to, to), "2026-01-31");
	assert_string_equal(m.reporting_currency, "USD");
	assert_int_equal(m.table_count, 2);
	/* sorted into catalog order: entities before facts */
	assert_string_equal(m.tables[0].table->name, "leads");
	assert_int_equal(m.tables[0].table->mode, LOAD_MODE_UPSERT);
	assert_int_equal(m.tables[0].rows, 0);
	assert_string_equal(m.tables[1].table->name, "attribution_daily");
	assert_string_equal(m.tables[1].file, "daily.copy");
	assert_int_equal(m.tables[1].rows, 2);
	/* upper-case hex is accepted and normalized */
	assert_string_equal(m.tables[1].sha256,
						"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	assert_non_null(manifest_find(&m, "leads"));
	assert_null(manifest_find(&m, "deals"));
}

static void
test_load_manifest_parses_fixture(void **state)
{
	char *path = ts_source_path("tests/data/load/out/" RUN1);
	OutputManifest m;
	ClError err = CL_OK;
	int64_t bytes = 0;

	(void) state;
	assert_true(manifest_load(path, RUN1, &m, &err));
	assert_int_equal(m.table_count, load_catalog_count);
	for (size_t i = 0; i < m.table_count; i++)
	{
		assert_ptr_equal(m.tables[i].table, &load_catalog[i]);
	}
	assert_true(manifest_verify_files(path, &m, &bytes, &err));
	assert_true(bytes > 0);
	/* the directory name must be the run id */
	assert_false(manifest_load(path, "20260201T010000Z-bbbbbb", &m, &err));
	assert_int_equal(err, CL_ERR_DATA);
	free(path);
}

typedef struct BadCase
{
	const char *from;
	const char *to;
} BadCase;

static void
test_load_manifest_rejects_invalid(void **state)
{
	static const BadCase cases[] = {
		{ "\"run_id\": \"r1\"", "\"run_id\": \"../r1\"" },
		{ "\"run_id\": \"r1\"", "\"run_id\": 7" },
		{ "\"run_id\": \"r1\"", "\"run\": \"r1\"" },
		{ "\"from\": \"2026-01-01\"", "\"from\": \"2026-02-01\"" },          /* from > to */
		{ "\"to\": \"2026-01-31\"", "\"to\": \"2026-02-30\"" },              /* no such day */
		{ "\"window\"", "\"windows\"" },
		{ "\"name\": \"leads\"", "\"name\": \"email_campaigns\"" },          /* unknown table */
		{ "\"name\": \"leads\"", "\"name\": \"attribution_daily\"" },        /* listed twice */
		{ "\"file\": \"leads.copy\"", "\"file\": \"daily.copy\"" },          /* same file */
		{ "\"file\": \"leads.copy\"", "\"file\": \"../leads.copy\"" },
		{ "\"file\": \"leads.copy\"", "\"file\": \"sub/leads.copy\"" },
		{ "\"file\": \"leads.copy\"", "\"file\": \".leads.copy\"" },
		{ "\"rows\": 0", "\"rows\": -1" },
		{ "\"rows\": 0", "\"rows\": 1.5" },
		{ "\"rows\": 0", "\"rows\": \"many\"" },
		{ "\"load\": \"upsert\"", "\"load\": \"window\"" },                  /* wrong mode */
		{ "\"load\": \"upsert\"", "\"load\": \"append\"" },
		{ "\"load\": \"upsert\"", "\"load\": \"window_exact\"" },           /* wrong mode */
		{ "\"load\": \"window\"", "\"load\": \"window_exact\"" },
		{ "\"load\": \"upsert\"", "\"mode\": \"upsert\"" },
		{ "\"sha256\": \"e3b0", "\"sha256\": \"x3b0" },
		{ "\"tables\": [", "\"tables\": [], \"x\": [" },
		{ "{\"run_id\"", "[{\"run_id\"" },
	};
	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		OutputManifest m;
		char *text = replace_once(good_manifest, cases[i].from, cases[i].to);

		if (parse(text, &m))
		{
			fail_msg("case %zu was accepted: %s", i, text);
		}
		free(text);
	}
	{
		OutputManifest m;

		assert_false(parse("{\"run_id\": ", &m));
		assert_false(parse("", &m));
	}
}

static void
test_load_manifest_short_sha_is_rejected(void **state)
{
	OutputManifest m;
	char *text = replace_once(good_manifest, "7852b855\"", "7852b85\"");

	(void) state;
	assert_false(parse(text, &m));
	free(text);
}

static void
test_load_manifest_run_id_rule(void **state)
{
	char longid[MANIFEST_RUN_ID_SIZE + 1];

	(void) state;
	assert_true(manifest_run_id_valid("20260201T010000Z-aaaaaa"));
	assert_true(manifest_run_id_valid("backfill_2026.01:x-1"));
	assert_false(manifest_run_id_valid(NULL));
	assert_false(manifest_run_id_valid(""));
	assert_false(manifest_run_id_valid("."));
	assert_false(manifest_run_id_valid(".."));
	assert_false(manifest_run_id_valid(".hidden"));
	assert_false(manifest_run_id_valid("a/b"));
	assert_false(manifest_run_id_valid("a b"));
	assert_false(manifest_run_id_valid("a'b"));
	memset(longid, 'a', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	assert_false(manifest_run_id_valid(longid));
	longid[MANIFEST_RUN_ID_SIZE - 1] = '\0';
	assert_true(manifest_run_id_valid(longid));
}

static void
test_load_manifest_counts_rows_across_chunks(void **state)
{
	char last = '\n';
	int64_t rows = 0;

	(void) state;
	rows += manifest_count_rows("a\tb\nc", 5, &last);
	rows += manifest_count_rows("\td\n", 3, &last);
	assert_int_equal(rows, 2);
	assert_int_equal(last, '\n');

	/* a last row without its newline still counts, an empty file has none */
	last = '\n';
	rows = manifest_count_rows("x\ny", 3, &last);
	assert_int_equal(rows + (last != '\n' ? 1 : 0), 2);
	last = '\n';
	rows = manifest_count_rows("", 0, &last);
	assert_int_equal(rows + (last != '\n' ? 1 : 0), 0);
	/* an escaped newline inside a value is not a row break */
	last = '\n';
	rows = manifest_count_rows("a\\nb\n", 5, &last);
	assert_int_equal(rows, 1);
}

/* write_output makes dir/<file> with text and returns its manifest entry. */
static void
write_table(const char *dir, const char *file, const char *text)
{
	char path[4096];

	(void) snprintf(path, sizeof(path), "%s/%s", dir, file);
	ts_write_file(path, text);
}

static void
hex_of(const char *text, char hex[SHA256_HEX_SIZE])
{
	Sha256 h;

	sha256_init(&h);
	sha256_update(&h, text, strlen(text));
	sha256_final_hex(&h, hex);
}

static void
test_load_manifest_verifies_files(void **state)
{
	char *dir = ts_make_tmpdir("load-verify");
	OutputManifest m;
	ClError err = CL_OK;
	const char *leads = "L1\thubspot\n";
	const char *daily = "2026-01-02\tlinear\n2026-01-03\tlinear";    /* no final newline */
	int64_t bytes = 0;

	(void) state;
	assert_true(parse(good_manifest, &m));
	write_table(dir, "leads.copy", leads);
	write_table(dir, "daily.copy", daily);
	hex_of(leads, m.tables[0].sha256);
	m.tables[0].rows = 1;
	hex_of(daily, m.tables[1].sha256);
	m.tables[1].rows = 2;
	assert_true(manifest_verify_files(dir, &m, &bytes, &err));
	assert_int_equal(bytes, (int64_t) (strlen(leads) + strlen(daily)));

	/* the right checksum but another row count */
	m.tables[1].rows = 3;
	err = CL_OK;
	assert_false(manifest_verify_files(dir, &m, NULL, &err));
	assert_int_equal(err, CL_ERR_DATA);
	m.tables[1].rows = 2;

	/* a changed file */
	write_table(dir, "daily.copy", "2026-01-02\tlinear\n2026-01-04\tlinear");
	err = CL_OK;
	assert_false(manifest_verify_files(dir, &m, NULL, &err));
	assert_int_equal(err, CL_ERR_DATA);

	/* a missing file */
	(void) snprintf(m.tables[0].file, sizeof(m.tables[0].file), "absent.copy");
	err = CL_OK;
	assert_false(manifest_verify_files(dir, &m, NULL, &err));
	assert_int_equal(err, CL_ERR_DATA);

	ts_rmdir_r(dir);
	free(dir);
}

static void
test_load_manifest_missing_file_is_data_error(void **state)
{
	char *dir = ts_make_tmpdir("load-nomanifest");
	OutputManifest m;
	ClError err = CL_OK;

	(void) state;
	assert_false(manifest_load(dir, NULL, &m, &err));
	assert_int_equal(err, CL_ERR_DATA);
	write_table(dir, MANIFEST_FILE, "{\"run_id\": \"r1\"}");
	err = CL_OK;
	assert_false(manifest_load(dir, NULL, &m, &err));
	assert_int_equal(err, CL_ERR_DATA);
	ts_rmdir_r(dir);
	free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_manifest_parses_valid),
		cmocka_unit_test(test_load_manifest_parses_fixture),
		cmocka_unit_test(test_load_manifest_rejects_invalid),
		cmocka_unit_test(test_load_manifest_short_sha_is_rejected),
		cmocka_unit_test(test_load_manifest_run_id_rule),
		cmocka_unit_test(test_load_manifest_counts_rows_across_chunks),
		cmocka_unit_test(test_load_manifest_verifies_files),
		cmocka_unit_test(test_load_manifest_missing_file_is_data_error),
	};

	log_set_level(LOG_FATAL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
