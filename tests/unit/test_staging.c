/*
 * test_staging.c: the staging writer and reader (DESIGN §3).
 *
 * Every test works in a fresh directory and checks what is on disk, not
 * only what the API says: the contract between extract and transform is
 * the files.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "json.h"
#include "log.h"
#include "sha256.h"
#include "staging.h"
#include "support.h"

#define RUN_A "20260304T050607Z-aaaaaa"
#define RUN_B "20260304T050607Z-bbbbbb"

typedef struct Fixture
{
	char *dir;
} Fixture;

static int
setup(void **state)
{
	Fixture *f = calloc(1, sizeof(Fixture));
	assert_non_null(f);
	f->dir = ts_make_tmpdir("staging");
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	Fixture *f = *state;
	ts_rmdir_r(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

static ClDate
day(const char *s)
{
	ClDate d = 0;
	assert_true(date_parse(s, &d));
	return d;
}

static StagingWindow
window(const char *from, const char *to)
{
	StagingWindow w = {day(from), day(to)};
	return w;
}

/* ALLOCATED "<dir>/<rel>"; caller frees. */
static char *
path_in(const char *dir, const char *rel)
{
	size_t n = strlen(dir) + strlen(rel) + 2;
	char *p = malloc(n);
	assert_non_null(p);
	snprintf(p, n, "%s/%s", dir, rel);
	return p;
}

static bool
exists(const char *dir, const char *rel)
{
	char *p = path_in(dir, rel);
	struct stat st;
	bool ok = stat(p, &st) == 0;
	free(p);
	return ok;
}

static long long
file_size(const char *dir, const char *rel)
{
	char *p = path_in(dir, rel);
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	free(p);
	return (long long) st.st_size;
}

/* Counting the regular files of a tree with nftw needs a global. */
static int files_seen;

static int
count_file(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void) path;
	(void) sb;
	(void) ftw;
	if (flag == FTW_F)
		files_seen++;
	return 0;
}

static int
count_files(const char *dir)
{
	files_seen = 0;
	assert_int_equal(nftw(dir, count_file, 16, FTW_PHYS), 0);
	return files_seen;
}

/* Writes one lead row with a few field types. */
static void
write_lead(StagingWriter *w, const char *date, const char *id)
{
	JsonGen *g = staging_row_begin(w, day(date));
	assert_non_null(g);
	jgen_string(g, "lead_id", id);
	jgen_string(g, "source_system", "hubspot");
	jgen_string(g, "date", date);
	assert_true(staging_row_end(w));
}

/* Collects rows read back as "family/vendor/date/run_id id" lines. */
typedef struct Reader
{
	char out[16384];
	size_t len;
	int rows;
	int stop_after;         /* return false on this row; 0 never */
} Reader;

static bool
read_row(void *ctx, const JsonValue *row, const StagingFile *file)
{
	Reader *r = ctx;
	char date[CL_DATE_BUFSIZE];
	const char *id = json_path_text(row, "lead_id");

	r->rows++;
	r->len += (size_t) snprintf(r->out + r->len, sizeof(r->out) - r->len,
								"%s/%s/%s/%s %s\n", file->family, file->vendor,
								date_format(file->date, date), file->run_id,
								id != NULL ? id : "?");
	assert_true(r->len < sizeof(r->out));
	assert_non_null(strstr(file->path, file->run_id));
	return r->stop_after == 0 || r->rows != r->stop_after;
}

static void
test_staging_round_trip(void **state)
{
	Fixture *f = *state;
	StagingWriter *w = staging_writer_new(f->dir, "crm", "hubspot", "lead", RUN_A,
										  window("2026-03-01", "2026-03-04"), "cl-extract-crm");
	const char *extra_text = "{\"big\":12345678901234567890,\"list\":[1,\"two\",null],"
		"\"nested\":{\"ok\":true}}";
	JsonValue *extra = json_parse(extra_text, strlen(extra_text), NULL, 0);
	ClTime t = 0;
	ClError err = CL_OK;
	JsonGen *g;
	char *data;
	char *manifest_text;
	JsonValue *manifest;
	size_t data_len = 0;
	Sha256 sha;
	char hex[SHA256_HEX_SIZE];
	int64_t n = 0;
	Reader r = {0};

	(void) state;
	assert_non_null(w);
	assert_non_null(extra);
	assert_true(time_parse_rfc3339("2026-03-04T05:06:07Z", &t));
	/* nothing exists before the first row */
	assert_false(exists(f->dir, "crm"));

	g = staging_row_begin(w, day("2026-03-04"));
	jgen_string(g, "lead_id", "1");
	jgen_string(g, "email", "a@example.com");
	jgen_int(g, "amount_minor", -123450);
	jgen_bool(g, "is_deleted", false);
	jgen_null(g, "owner");
	jgen_string(g, "missing", NULL);
	jgen_time(g, "created_at", t);
	jgen_date(g, "day", day("2026-03-04"));
	jgen_string_len(g, "bytes", "a\0b", 3);
	jgen_object_begin(g, "person");
	jgen_string(g, "email", "\xc3\xa9t\xc3\xa9@example.com");
	jgen_object_end(g);
	jgen_array_begin(g, "contact_ids");
	jgen_string(g, NULL, "c1");
	jgen_int(g, NULL, 2);
	jgen_array_end(g);
	jgen_value(g, "extra", extra);
	jgen_key(g, "raw");
	jgen_value(g, NULL, json_path(extra, "nested"));
	assert_true(staging_row_end(w));
	write_lead(w, "2026-03-04", "2");
	assert_int_equal(staging_writer_rows(w), 2);
	/* rows are in a hidden temporary file until commit */
	assert_true(exists(f->dir, "crm/hubspot/lead/2026-03-04/." RUN_A ".ndjson.tmp"));
	assert_false(exists(f->dir, "crm/hubspot/lead/2026-03-04/" RUN_A ".ndjson"));

	assert_true(staging_writer_commit(w, "2026-03-04T05:00:00Z", -1, &err));
	staging_writer_free(w);
	json_free(extra);

	assert_false(exists(f->dir, "crm/hubspot/lead/2026-03-04/." RUN_A ".ndjson.tmp"));
	data = path_in(f->dir, "crm/hubspot/lead/2026-03-04/" RUN_A ".ndjson");
	free(data);
	{
		char *p = path_in(f->dir, "crm/hubspot/lead/2026-03-04/" RUN_A ".ndjson");
		data = ts_read_file(p, &data_len);
		free(p);
	}
	assert_string_equal(data,
		"{\"lead_id\":\"1\",\"email\":\"a@example.com\",\"amount_minor\":-123450,"
		"\"is_deleted\":false,\"owner\":null,\"missing\":null,"
		"\"created_at\":\"2026-03-04T05:06:07Z\",\"day\":\"2026-03-04\",\"bytes\":\"a\\u0000b\","
		"\"person\":{\"email\":\"\xc3\xa9t\xc3\xa9@example.com\"},\"contact_ids\":[\"c1\",2],"
		"\"extra\":{\"big\":12345678901234567890,\"list\":[1,\"two\",null],"
		"\"nested\":{\"ok\":true}},\"raw\":{\"ok\":true}}\n"
		"{\"lead_id\":\"2\",\"source_system\":\"hubspot\",\"date\":\"2026-03-04\"}\n");

	{
		char *p = path_in(f->dir, "crm/hubspot/lead/2026-03-04/" RUN_A ".manifest.json");
		manifest_text = ts_read_file(p, NULL);
		free(p);
	}
	manifest = json_parse(manifest_text, strlen(manifest_text), NULL, 0);
	assert_non_null(manifest);
	assert_string_equal(json_path_text(manifest, "run_id"), RUN_A);
	assert_string_equal(json_path_text(manifest, "family"), "crm");
	assert_string_equal(json_path_text(manifest, "vendor"), "hubspot");
	assert_string_equal(json_path_text(manifest, "entity"), "lead");
	assert_string_equal(json_path_text(manifest, "date"), "2026-03-04");
	assert_string_equal(json_path_text(manifest, "file"), RUN_A ".ndjson");
	assert_true(json_int64(json_member(manifest, "rows"), &n));
	assert_int_equal(n, 2);
	assert_true(json_int64(json_member(manifest, "bytes"), &n));
	assert_int_equal(n, (int64_t) data_len);
	sha256_init(&sha);
	sha256_update(&sha, data, data_len);
	sha256_final_hex(&sha, hex);
	assert_string_equal(json_path_text(manifest, "sha256"), hex);
	assert_string_equal(json_path_text(manifest, "window.from"), "2026-03-01");
	assert_string_equal(json_path_text(manifest, "window.to"), "2026-03-04");
	assert_string_equal(json_path_text(manifest, "watermark"), "2026-03-04T05:00:00Z");
	assert_true(time_parse_rfc3339(json_path_text(manifest, "extracted_at"), &t));
	assert_string_equal(json_path_text(manifest, "tool"), "cl-extract-crm");
	assert_string_equal(json_path_text(manifest, "version"), CLOSEDLOOP_VERSION);
	json_free(manifest);
	free(manifest_text);
	free(data);

	assert_true(staging_read(f->dir, "lead", INT32_MIN, INT32_MAX, read_row, &r, &err));
	assert_int_equal(r.rows, 2);
	assert_string_equal(r.out, "crm/hubspot/2026-03-04/" RUN_A " 1\n"
						"crm/hubspot/2026-03-04/" RUN_A " 2\n");
	/* another entity has nothing */
	memset(&r, 0, sizeof(r));
	assert_true(staging_read(f->dir, "deal", INT32_MIN, INT32_MAX, read_row, &r, &err));
	assert_int_equal(r.rows, 0);
}

static void
test_staging_several_partitions(void **state)
{
	Fixture *f = *state;
	StagingWriter *w = staging_writer_new(f->dir, "ads", "google_ads", "lead", RUN_A,
										  window("2026-01-01", "2026-01-03"), "cl-extract-ads");
	ClError err = CL_OK;
	Reader r = {0};

	assert_non_null(w);
	write_lead(w, "2026-01-03", "c1");
	write_lead(w, "2026-01-01", "a1");
	write_lead(w, "2026-01-02", "b1");
	write_lead(w, "2026-01-01", "a2");
	write_lead(w, "2026-01-03", "c2");
	assert_int_equal(staging_writer_rows(w), 5);
	assert_true(staging_writer_commit(w, NULL, -1, &err));
	staging_writer_free(w);

	assert_true(exists(f->dir, "ads/google_ads/lead/2026-01-01/" RUN_A ".manifest.json"));
	assert_true(exists(f->dir, "ads/google_ads/lead/2026-01-02/" RUN_A ".manifest.json"));
	assert_true(exists(f->dir, "ads/google_ads/lead/2026-01-03/" RUN_A ".manifest.json"));
	assert_int_equal(count_files(f->dir), 6);

	/* rows come back by date, in written order within a file */
	assert_true(staging_read(f->dir, "lead", INT32_MIN, INT32_MAX, read_row, &r, &err));
	assert_string_equal(r.out,
		"ads/google_ads/2026-01-01/" RUN_A " a1\n"
		"ads/google_ads/2026-01-01/" RUN_A " a2\n"
		"ads/google_ads/2026-01-02/" RUN_A " b1\n"
		"ads/google_ads/2026-01-03/" RUN_A " c1\n"
		"ads/google_ads/2026-01-03/" RUN_A " c2\n");

	/* the date range selects partitions */
	memset(&r, 0, sizeof(r));
	assert_true(staging_read(f->dir, "lead", day("2026-01-02"), day("2026-01-03"), read_row,
							 &r, &err));
	assert_int_equal(r.rows, 3);
	assert_null(strstr(r.out, "a1"));
	memset(&r, 0, sizeof(r));
	assert_true(staging_read(f->dir, "lead", day("2026-01-02"), day("2026-01-02"), read_row,
							 &r, &err));
	assert_string_equal(r.out, "ads/google_ads/2026-01-02/" RUN_A " b1\n");
}

/* More partitions than the writer keeps open: files are parked and
 * reopened at their end without losing or reordering a row. */
static void
test_staging_many_partitions(void **state)
{
	Fixture *f = *state;
	StagingWriter *w = staging_writer_new(f->dir, "ads", "meta", "lead", RUN_A,
										  window("2025-01-01", "2025-12-31"), "cl-extract-ads");
	ClError err = CL_OK;
	Reader r = {0};
	ClDate first = day("2025-01-01");
	char date[CL_DATE_BUFSIZE];
	char id[32];
	char line[128];

	assert_non_null(w);
	for (int round = 0; round < 3; round++)
	{
		for (int d = 0; d < 150; d++)
		{
			JsonGen *g = staging_row_begin(w, first + d);
			snprintf(id, sizeof(id), "%d-%d", d, round);
			jgen_string(g, "lead_id", id);
			assert_true(staging_row_end(w));
		}
		if (round == 1)
			assert_true(staging_writer_mark(w));
	}
	/* the third round is rewound from every partition, parked or open */
	assert_true(staging_writer_rewind(w));
	assert_int_equal(staging_writer_rows(w), 300);
	assert_true(staging_writer_commit(w, NULL, -1, &err));
	staging_writer_free(w);
	assert_int_equal(count_files(f->dir), 300);

	assert_true(staging_read(f->dir, "lead", INT32_MIN, INT32_MAX, read_row, &r, &err));
	assert_int_equal(r.rows, 300);
	assert_null(strstr(r.out, "-2\n"));
	snprintf(line, sizeof(line), "ads/meta/%s/" RUN_A " 149-0\n", date_format(first + 149, date));
	assert_non_null(strstr(r.out, line));
	snprintf(line, sizeof(line), "ads/meta/%s/" RUN_A " 7-1\n", date_format(first + 7, date));
	assert_non_null(strstr(r.out, line));
}

static void
test_staging_rewind_after_mark(void **state)
{
	Fixture *f = *state;
	StagingWriter *w = staging_writer_new(f->dir, "crm", "hubspot", "lead", RUN_A,
										  window("2026-03-01", "2026-03-04"), "cl-extract-crm");
	ClError err = CL_OK;
	Reader r = {0};
	long long size_at_mark;

	assert_non_null(w);
	write_lead(w, "2026-03-01", "kept1");
	write_lead(w, "2026-03-01", "kept2");
	assert_true(staging_writer_mark(w));
	/* what the two kept rows take on disk (stdio may not have written them
	 * yet, so the size is computed, not measured) */
	size_at_mark = 2 * (long long) strlen("{\"lead_id\":\"kept1\",\"source_system\":\"hubspot\","
										 "\"date\":\"2026-03-01\"}\n");

	/* a page that fails half-way: rows in the old partition and a new one */
	write_lead(w, "2026-03-01", "dropped1");
	write_lead(w, "2026-03-02", "dropped2");
	{
		/* and a row left open when the failure hit */
		JsonGen *g = staging_row_begin(w, day("2026-03-01"));
		jgen_string(g, "lead_id", "half");
	}
	assert_int_equal(staging_writer_rows(w), 4);
	assert_true(exists(f->dir, "crm/hubspot/lead/2026-03-02/." RUN_A ".ndjson.tmp"));

	assert_true(staging_writer_rewind(w));
	assert_int_equal(staging_writer_rows(w), 2);
	assert_false(exists(f->dir, "crm/hubspot/lead/2026-03-02/." RUN_A ".ndjson.tmp"));
	assert_false(exists(f->dir, "crm/hubspot/lead/2026-03-02"));
	assert_int_equal(file_size(f->dir, "crm/hubspot/lead/2026-03-01/." RUN_A ".ndjson.tmp"),
					 size_at_mark);

	/* the retried page writes again; the hash covers only what is kept */
	write_lead(w, "2026-03-01", "retried");
	write_lead(w, "2026-03-02", "retried2");
	/* a second rewind to the same mark works too */
	assert_true(staging_writer_rewind(w));
	write_lead(w, "2026-03-01", "retried");
	assert_true(staging_writer_commit(w, NULL, -1, &err));
	staging_writer_free(w);

	assert_true(staging_read(f->dir, "lead", INT32_MIN, INT32_MAX, read_row, &r, &err));
	assert_string_equal(r.out,
		"crm/hubspot/2026-03-01/" RUN_A " kept1\n"
		"crm/hubspot/2026-03-01/" RUN_A " kept2\n"
		"crm/hubspot/2026-03-01/" RUN_A " retried\n");
	assert_false(exists(f->dir, "crm/hubspot/lead/2026-03-02"));
}

static void
test_staging_append_writer(void **state)
{
	Fixture *f = *state;
	char *scratch = path_in(f->dir, ".scratch");
	StagingWriter *w = staging_writer_new(f->dir, "email", "mailchimp", "lead", RUN_A,
										  window("2026-03-01", "2026-03-04"), "cl-extract-email");
	StagingWriter *s1 = staging_writer_new(scratch, "email", "mailchimp", "lead", RUN_A ".p0",
										   window("2026-03-01", "2026-03-04"), "cl-extract-email");
	StagingWriter *s2 = staging_writer_new(scratch, "email", "mailchimp", "lead", RUN_A ".p1",
										   window("2026-03-01", "2026-03-04"), "cl-extract-email");
	StagingWriter *other = staging_writer_new(scratch, "email", "mailchimp", "deal", RUN_B,
											  window("2026-03-01", "2026-03-04"), "x");
	ClError err = CL_OK;
	Reader r = {0};

	assert_non_null(w);
	assert_non_null(s1);
	assert_non_null(s2);
	assert_non_null(other);
	/* few open files: partitions are parked and reopened as rows come */
	staging_writer_limit_files(s1, 1);
	write_lead(w, "2026-03-02", "own");
	write_lead(s1, "2026-03-03", "s1-a");
	write_lead(s1, "2026-03-01", "s1-b");
	write_lead(s1, "2026-03-03", "s1-c");
	/* a retried page of s2: rewound rows do not travel */
	assert_true(staging_writer_mark(s2));
	write_lead(s2, "2026-03-02", "s2-dropped");
	assert_true(staging_writer_rewind(s2));
	write_lead(s2, "2026-03-02", "s2-a");

	/* appended in this order, whatever order they were written in */
	assert_true(staging_writer_append(w, s1));
	assert_true(staging_writer_append(w, s2));
	assert_int_equal(staging_writer_rows(w), 5);
	assert_int_equal(staging_writer_rows(s1), 0);
	assert_false(exists(scratch, "email/mailchimp/lead/2026-03-03/." RUN_A ".p0.ndjson.tmp"));
	/* another entity is refused */
	assert_false(staging_writer_append(w, other));
	staging_writer_free(other);
	/* the emptied writer stays usable */
	write_lead(s1, "2026-03-04", "s1-late");
	assert_true(staging_writer_append(w, s1));
	staging_writer_free(s1);
	staging_writer_free(s2);
	assert_true(staging_writer_commit(w, NULL, -1, &err));
	staging_writer_free(w);

	/* the manifests' counts and checksums hold over the appended bytes */
	assert_true(staging_read(f->dir, "lead", INT32_MIN, INT32_MAX, read_row, &r, &err));
	assert_string_equal(r.out,
		"email/mailchimp/2026-03-01/" RUN_A " s1-b\n"
		"email/mailchimp/2026-03-02/" RUN_A " own\n"
		"email/mailchimp/2026-03-02/" RUN_A " s2-a\n"
		"email/mailchimp/2026-03-03/" RUN_A " s1-a\n"
		"email/mailchimp/2026-03-03/" RUN_A " s1-c\n"
		"email/mailchimp/2026-03-04/" RUN_A " s1-late\n");
	free(scratch);
}

static void
test_staging_rewind_without_mark(void **state)
{
	Fixture *f = *state;
	StagingWriter *w = staging_writer_new(f->dir, "crm", "hubspot", "lead", RUN_A,
										  window("2026-03-01", "2026-03-04"), "cl-extract-crm");
	ClError err = CL_OK;

	assert_non_null(w);
	write_lead(w, "2026-03-01", "x");
	write_lead(w, "2026-03-03", "y");
	assert_true(staging_writer_rewind(w));
	assert_int_equal(staging_writer_rows(w), 0);
	assert_int_equal(count_files(f->dir), 0);
	assert_true(staging_writer_commit(w, NULL, -1, &err));
	staging_writer_free(w);
	assert_int_equal(count_files(f->dir), 0);
}

/* Commits one row of vendor/run on date; returns the data file path
 * (ALLOCATED). */
static char *
commit_one(const char *dir, const char *family, const char *vendor, const char *run_id,
		   const char *date, const char *id)
{
	StagingWriter *w = staging_writer_new(dir, family, vendor, "lead", run_id,
										  window(date, date), "test");
	ClError err = CL_OK;
	char rel[256];

	assert_non_null(w);
	write_lead(w, date, id);
	assert_true(staging_writer_commit(w, NULL, -1, &err));
	staging_writer_free(w);
	snprintf(rel, sizeof(rel), "%s/%s/lead/%s/%s.ndjson", family, vendor, date, run_id);
	return path_in(dir, rel);
}

static void
test_staging_tampered_file_refused(void **state)
{
	Fixture *f = *state;
	char *path = commit_one(f->dir, "crm", "hubspot", RUN_A, "2026-03-01", "abc");
	char *text = ts_read_file(path, NULL);
	char *p;
	ClError err = CL_OK;
	Reader r = {0};

	/* same size, one byte changed: only the hash can tell */
	p = strstr(text, "abc");
	assert_non_null(p);
	p[0] = 'x';
	ts_write_file(path, text);
	assert_false(staging_read(f->dir, "lead", INT32_MIN, INT32_MAX, read_row, &r, &err));
	assert_int_equal(err, CL_ERR_DATA);

	/* a row appended: refused before any row is passed on */
	p[0] = 'a';
	{
		size_t n = strlen(text);
		char *longer = malloc(n + 32);
		assert_non_null(longer);
		snprintf(longer, n + 32, "%s{\"lead_id\":\"extra\"}\n", text);
		ts_write_file(path, longer);
		free(longer);
	}
	memset(&r, 0, sizeof(r));
	err = CL_OK;
	assert_false(staging_read(f->dir, "lead", INT32_MIN, INT32_MAX, read_row, &r, &err));
	assert_int_equal(err, CL_ERR_DATA);
	assert_int_equal(r.rows, 0);

	/* restored, it reads again */
	ts_write_file(path, text);
	memset(&r, 0, sizeof(r));
	assert_true(staging_read(f->dir, "lead", INT32_MIN, INT32_MAX, read_row, &r, &err));
	assert_int_equal(r.rows, 1);

	/* a manifest whose row count lies is refused too */
	{
		char *mpath = path_in(f->dir, "crm/hubspot/lead/2026-03-01/" RUN_A ".manifest.json");
		char *m = ts_read_file(mpath, NULL);
		char *rows = strstr(m, "\"rows\":1");
		assert_non_null(rows);
		rows[7] = '2';
		ts_write_file(mpath, m);
		memset(&r, 0, sizeof(r));
		assert_false(staging_read(f->dir, "lead", INT32_MIN, INT32_MAX, read_row, &r, &err));
		assert_int_equal(err, CL_ERR_DATA);
		free(m);
		free(mpath);
	}
	free(text);
	free(path);
}

static void
test_staging_file_without_manifest_ignored(void **state)
{
	Fixture *f = *state;
	char *path = commit_one(f->dir, "crm", "hubspot", RUN_A, "2026-03-01", "committed");
	char *orphan = path_in(f->dir, "crm/hubspot/lead/2026-03-01/" RUN_B ".ndjson");
	char *tmp = path_in(f->dir, "crm/hubspot/lead/2026-03-01/." RUN_B ".ndjson.tmp");
	ClError err = CL_OK;
	Reader r = {0};

	/* an uncommitted (or abandoned) run beside a committed one */
	ts_write_file(orphan, "{\"lead_id\":\"orphan\"}\n");
	ts_write_file(tmp, "{\"lead_id\":\"in-progress\"}\n");
	assert_true(staging_read(f->dir, "lead", INT32_MIN, INT32_MAX, read_row, &r, &err));
	assert_string_equal(r.out, "crm/hubspot/2026-03-01/" RUN_A " committed\n");

	/* a manifest whose data file is gone is an error, not silence */
	assert_int_equal(unlink(path), 0);
	memset(&r, 0, sizeof(r));
	assert_false(staging_read(f->dir, "lead", INT32_MIN, INT32_MAX, read_row, &r, &err));
	assert_int_equal(err, CL_ERR_DATA);
	free(orphan);
	free(tmp);
	free(path);
}

static void
test_staging_free_without_commit_leaves_nothing(void **state)
{
	Fixture *f = *state;
	StagingWriter *w = staging_writer_new(f->dir, "email", "mailchimp", "lead", RUN_A,
										  window("2026-03-01", "2026-03-04"),
										  "cl-extract-email");

	assert_non_null(w);
	write_lead(w, "2026-03-01", "a");
	write_lead(w, "2026-03-02", "b");
	assert_true(staging_writer_mark(w));
	write_lead(w, "2026-03-03", "c");
	assert_int_equal(count_files(f->dir), 3);
	staging_writer_free(w);
	assert_int_equal(count_files(f->dir), 0);
	assert_false(exists(f->dir, "email/mailchimp/lead/2026-03-01"));
	staging_writer_free(NULL);
}

static void
test_staging_deterministic_order(void **state)
{
	Fixture *f = *state;
	ClError err = CL_OK;
	Reader r = {0};
	Reader again = {0};

	/* written in an order that is none of the read orders */
	free(commit_one(f->dir, "crm", "salesforce", RUN_B, "2026-02-01", "sf-b"));
	free(commit_one(f->dir, "email", "mailchimp", RUN_A, "2026-01-15", "mc-a"));
	free(commit_one(f->dir, "crm", "salesforce", RUN_A, "2026-02-01", "sf-a"));
	free(commit_one(f->dir, "crm", "hubspot", RUN_B, "2026-01-01", "hs-b-jan"));
	free(commit_one(f->dir, "crm", "hubspot", RUN_A, "2026-02-01", "hs-a-feb"));
	free(commit_one(f->dir, "ads", "google_ads", RUN_A, "2026-03-01", "ga"));

	/* outputs and state beside the data are not data, even if they look
	 * like it; neither are dot folders or folders that are not dates */
	{
		char *src = path_in(f->dir, "crm/hubspot/lead/2026-02-01");
		const char *names[] = {RUN_A ".ndjson", RUN_A ".manifest.json"};
		const char *dirs[] = {"out/x/lead/2026-02-01", "state/x/lead/2026-02-01",
							  ".hidden/x/lead/2026-02-01"};
		for (size_t d = 0; d < 3; d++)
		{
			char *dst = path_in(f->dir, dirs[d]);
			assert_true(fs_mkdir_p(dst));
			for (size_t i = 0; i < 2; i++)
			{
				char *from = path_in(src, names[i]);
				char *to = path_in(dst, names[i]);
				char *text = ts_read_file(from, NULL);
				ts_write_file(to, text);
				free(text);
				free(from);
				free(to);
			}
			free(dst);
		}
		free(src);
		src = path_in(f->dir, "crm/hubspot/lead/not-a-date");
		assert_true(fs_mkdir_p(src));
		free(src);
	}

	assert_true(staging_read(f->dir, "lead", INT32_MIN, INT32_MAX, read_row, &r, &err));
	assert_string_equal(r.out,
		"ads/google_ads/2026-03-01/" RUN_A " ga\n"
		"crm/hubspot/2026-01-01/" RUN_B " hs-b-jan\n"
		"crm/hubspot/2026-02-01/" RUN_A " hs-a-feb\n"
		"crm/salesforce/2026-02-01/" RUN_A " sf-a\n"
		"crm/salesforce/2026-02-01/" RUN_B " sf-b\n"
		"email/mailchimp/2026-01-15/" RUN_A " mc-a\n");
	assert_true(staging_read(f->dir, "lead", INT32_MIN, INT32_MAX, read_row, &again, &err));
	assert_string_equal(r.out, again.out);

	/* a callback that says stop stops the read */
	memset(&r, 0, sizeof(r));
	r.stop_after = 2;
	assert_false(staging_read(f->dir, "lead", INT32_MIN, INT32_MAX, read_row, &r, &err));
	assert_int_equal(r.rows, 2);

	/* a missing staging directory is a configuration problem */
	{
		char *missing = path_in(f->dir, "does-not-exist");
		assert_false(staging_read(missing, "lead", INT32_MIN, INT32_MAX, read_row, &r, &err));
		assert_int_equal(err, CL_ERR_CONFIG);
		free(missing);
	}
}

static void
test_staging_empty_commit(void **state)
{
	Fixture *f = *state;
	StagingWriter *w;
	ClError err = CL_OK;
	Reader r = {0};
	char *manifest_path;
	char *text;
	JsonValue *m;
	int64_t n = -1;

	/* nothing extracted, nothing recorded */
	w = staging_writer_new(f->dir, "crm", "hubspot", "deal", RUN_A,
						   window("2026-03-01", "2026-03-04"), "cl-extract-crm");
	assert_non_null(w);
	assert_true(staging_writer_commit(w, NULL, -1, &err));
	staging_writer_free(w);
	assert_int_equal(count_files(f->dir), 0);

	/* nothing extracted, recorded as an empty partition */
	w = staging_writer_new(f->dir, "crm", "hubspot", "deal", RUN_B,
						   window("2026-03-01", "2026-03-04"), "cl-extract-crm");
	assert_non_null(w);
	assert_true(staging_writer_commit(w, "wm", day("2026-03-04"), &err));
	/* committing twice is a bug, reported */
	assert_false(staging_writer_commit(w, "wm", day("2026-03-04"), &err));
	assert_int_equal(err, CL_ERR_OUTPUT);
	staging_writer_free(w);
	assert_int_equal(file_size(f->dir, "crm/hubspot/deal/2026-03-04/" RUN_B ".ndjson"), 0);
	manifest_path = path_in(f->dir, "crm/hubspot/deal/2026-03-04/" RUN_B ".manifest.json");
	text = ts_read_file(manifest_path, NULL);
	m = json_parse(text, strlen(text), NULL, 0);
	assert_non_null(m);
	assert_true(json_int64(json_member(m, "rows"), &n));
	assert_int_equal(n, 0);
	assert_true(json_int64(json_member(m, "bytes"), &n));
	assert_int_equal(n, 0);
	assert_string_equal(json_path_text(m, "sha256"),
						"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	json_free(m);
	free(text);
	free(manifest_path);
	err = CL_OK;
	assert_true(staging_read(f->dir, "deal", INT32_MIN, INT32_MAX, read_row, &r, &err));
	assert_int_equal(r.rows, 0);

	/* rows that were all rewound count as nothing: partitions emptied by
	 * the rewind are dropped, the empty date is recorded */
	w = staging_writer_new(f->dir, "crm", "hubspot", "touch", RUN_A,
						   window("2026-03-01", "2026-03-04"), "cl-extract-crm");
	assert_non_null(w);
	write_lead(w, "2026-03-02", "x");
	assert_true(staging_writer_rewind(w));
	assert_true(staging_writer_commit(w, NULL, day("2026-03-04"), &err));
	staging_writer_free(w);
	assert_false(exists(f->dir, "crm/hubspot/touch/2026-03-02"));
	assert_true(exists(f->dir, "crm/hubspot/touch/2026-03-04/" RUN_A ".manifest.json"));
}

static void
test_staging_bad_row_dropped(void **state)
{
	Fixture *f = *state;
	StagingWriter *w = staging_writer_new(f->dir, "crm", "hubspot", "lead", RUN_A,
										  window("2026-03-01", "2026-03-04"), "cl-extract-crm");
	ClError err = CL_OK;
	Reader r = {0};
	JsonGen *g;

	assert_non_null(w);
	write_lead(w, "2026-03-01", "good1");
	/* invalid UTF-8 is refused by the generator: the row is dropped whole */
	g = staging_row_begin(w, day("2026-03-01"));
	jgen_string(g, "lead_id", "bad");
	jgen_string(g, "name", "caf\xe9");
	jgen_string(g, "after", "ignored");
	assert_false(staging_row_end(w));
	/* a value without a key inside an object is refused too */
	g = staging_row_begin(w, day("2026-03-01"));
	jgen_int(g, NULL, 5);
	assert_false(staging_row_end(w));
	/* the writer goes on */
	write_lead(w, "2026-03-01", "good2");
	assert_int_equal(staging_writer_rows(w), 2);
	assert_false(staging_row_end(w));   /* no row open */
	assert_true(staging_writer_commit(w, NULL, -1, &err));
	/* rows after commit are refused */
	g = staging_row_begin(w, day("2026-03-01"));
	assert_non_null(g);
	jgen_string(g, "lead_id", "late");
	assert_false(staging_row_end(w));
	staging_writer_free(w);

	assert_true(staging_read(f->dir, "lead", INT32_MIN, INT32_MAX, read_row, &r, &err));
	assert_string_equal(r.out, "crm/hubspot/2026-03-01/" RUN_A " good1\n"
						"crm/hubspot/2026-03-01/" RUN_A " good2\n");
}

static void
test_staging_invalid_names_refused(void **state)
{
	Fixture *f = *state;
	StagingWindow win = window("2026-03-01", "2026-03-04");

	assert_null(staging_writer_new(f->dir, "crm", "../etc", "lead", RUN_A, win, "t"));
	assert_null(staging_writer_new(f->dir, "crm", "hubspot", ".lead", RUN_A, win, "t"));
	assert_null(staging_writer_new(f->dir, "", "hubspot", "lead", RUN_A, win, "t"));
	assert_null(staging_writer_new(f->dir, "crm", "hubspot", "lead", NULL, win, "t"));
	assert_int_equal(count_files(f->dir), 0);
}

static void
test_staging_run_id_format(void **state)
{
	char a[CL_RUN_ID_SIZE];
	char b[CL_RUN_ID_SIZE];
	regex_t re;
	ClDate d;
	char date[11];

	(void) state;
	assert_int_equal(regcomp(&re, "^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{6}$", REG_EXTENDED | REG_NOSUB), 0);
	assert_ptr_equal(staging_new_run_id(a), a);
	assert_ptr_equal(staging_new_run_id(b), b);
	assert_int_equal(regexec(&re, a, 0, NULL, 0), 0);
	assert_int_equal(regexec(&re, b, 0, NULL, 0), 0);
	regfree(&re);
	/* the entropy separates runs started in the same second */
	assert_string_not_equal(a, b);
	/* the time part is today's UTC date */
	snprintf(date, sizeof(date), "%.4s-%.2s-%.2s", a, a + 4, a + 6);
	assert_true(date_parse(date, &d));
	assert_true(d >= time_utc_date(time_now()) - 1 && d <= time_utc_date(time_now()));
}

static void
test_staging_fs_helpers(void **state)
{
	Fixture *f = *state;
	char *nested = path_in(f->dir, "a/b//c/");
	char *file = path_in(f->dir, "a/b/c/file.json");
	char *blocked = path_in(f->dir, "a/b/c/file.json/sub");
	char *text;

	assert_true(fs_mkdir_p(nested));
	assert_true(fs_mkdir_p(nested));    /* existing is fine */
	assert_true(fs_write_atomic(file, "first", 5));
	assert_true(fs_write_atomic(file, "second\n", 7));
	text = ts_read_file(file, NULL);
	assert_string_equal(text, "second\n");
	free(text);
	assert_int_equal(count_files(f->dir), 1);  /* no temp file left */
	assert_true(fs_fsync_parent(file));
	/* a file in the way of a directory */
	assert_false(fs_mkdir_p(blocked));
	free(nested);
	free(file);
	free(blocked);
}

/* ---------------------------------------------------------------------
 * staging_read through the reading pipeline (producer thread, row batches)
 * --------------------------------------------------------------------- */

/* A growable text. */
typedef struct Text
{
	char *data;
	size_t len;
	size_t cap;
} Text;

static void
text_printf(Text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
text_printf(Text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;)
	{
		size_t room = t->cap - t->len;

		va_start(ap, fmt);
		n = vsnprintf(t->data == NULL ? NULL : t->data + t->len, room, fmt, ap);
		va_end(ap);
		assert_true(n >= 0);
		if ((size_t) n < room)
			break;
		t->cap = t->cap == 0 ? 4096 : t->cap * 2;
		while (t->cap - t->len <= (size_t) n)
			t->cap *= 2;
		t->data = realloc(t->data, t->cap);
		assert_non_null(t->data);
	}
	t->len += (size_t) n;
}

/*
 * put_file writes <family>/<vendor>/<entity>/<date>/<run_id>.ndjson with
 * exactly len bytes of data and a manifest that matches them (rows as
 * given), as a committed extract would. Returns the data path (ALLOCATED).
 */
static char *
put_file(const char *dir, const char *family, const char *vendor, const char *entity,
		 const char *date, const char *run_id, const char *data, size_t len, long long rows)
{
	char rel[512];
	char *part;
	char *data_path;
	char *manifest_path;
	char manifest[1024];
	char hex[SHA256_HEX_SIZE];
	Sha256 sha;
	FILE *fp;

	snprintf(rel, sizeof(rel), "%s/%s/%s/%s", family, vendor, entity, date);
	part = path_in(dir, rel);
	assert_true(fs_mkdir_p(part));
	snprintf(rel, sizeof(rel), "%s.ndjson", run_id);
	data_path = path_in(part, rel);
	snprintf(rel, sizeof(rel), "%s.manifest.json", run_id);
	manifest_path = path_in(part, rel);
	fp = fopen(data_path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
	sha256_init(&sha);
	sha256_update(&sha, data, len);
	sha256_final_hex(&sha, hex);
	snprintf(manifest, sizeof(manifest),
			 "{\"run_id\":\"%s\",\"family\":\"%s\",\"vendor\":\"%s\",\"entity\":\"%s\","
			 "\"date\":\"%s\",\"file\":\"%s.ndjson\",\"rows\":%lld,\"bytes\":%zu,"
			 "\"sha256\":\"%s\",\"window\":{\"from\":\"%s\",\"to\":\"%s\"},"
			 "\"watermark\":null,\"extracted_at\":\"2026-03-04T05:06:07Z\","
			 "\"tool\":\"test\",\"version\":\"test\"}\n",
			 run_id, family, vendor, entity, date, run_id, rows, len, hex, date, date);
	ts_write_file(manifest_path, manifest);
	free(manifest_path);
	free(part);
	return data_path;
}

/* Log capture: ERROR lines go to a temporary file while a test reads. */
static FILE *
capture_log(void)
{
	FILE *fp = tmpfile();

	assert_non_null(fp);
	log_set_fp(fp);
	return fp;
}

/* ALLOCATED text of what was logged since capture_log; restores stderr. */
static char *
captured_log(FILE *fp)
{
	long n;
	char *text;

	log_set_fp(NULL);
	assert_int_equal(fflush(fp), 0);
	n = ftell(fp);
	assert_true(n >= 0);
	text = malloc((size_t) n + 1);
	assert_non_null(text);
	rewind(fp);
	assert_int_equal(fread(text, 1, (size_t) n, fp), (size_t) n);
	text[n] = '\0';
	fclose(fp);
	return text;
}

static double
now_seconds(void)
{
	struct timespec ts;

	assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &ts), 0);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/*
 * Collects every row as "family/vendor/date/run_id rows id" and checks
 * that what the row says about its own file matches the StagingFile it
 * came with.
 */
typedef struct Collect
{
	Text out;
	long long rows;
	long long stop_at;          /* return false on this row (1-based); 0 never */
	unsigned stop_sleep_us;     /* sleep this long before stopping */
	double stopped_at;          /* now_seconds() when it said stop */
	long long after_stop;       /* calls after it said stop */
} Collect;

static bool
collect_row(void *ctx, const JsonValue *row, const StagingFile *file)
{
	Collect *c = ctx;
	char date[CL_DATE_BUFSIZE];
	char tail[256];
	const char *id = json_path_text(row, "lead_id");
	const char *own;

	if (c->stopped_at > 0)
		c->after_stop++;
	c->rows++;
	date_format(file->date, date);
	/* rows written by write_tagged carry their file's coordinates */
	own = json_path_text(row, "vendor");
	if (own != NULL)
	{
		assert_string_equal(own, file->vendor);
		assert_string_equal(json_path_text(row, "family"), file->family);
		assert_string_equal(json_path_text(row, "run"), file->run_id);
		assert_string_equal(json_path_text(row, "date"), date);
	}
	snprintf(tail, sizeof(tail), "%s/%s/lead/%s/%s.ndjson", file->family, file->vendor, date,
			 file->run_id);
	assert_true(strlen(file->path) > strlen(tail));
	assert_string_equal(file->path + strlen(file->path) - strlen(tail), tail);
	assert_string_equal(file->entity, "lead");
	text_printf(&c->out, "%s/%s/%s/%s %lld %s\n", file->family, file->vendor, date,
				file->run_id, (long long) file->rows, id != NULL ? id : "?");
	if (c->stop_at != 0 && c->rows == c->stop_at)
	{
		if (c->stop_sleep_us > 0)
			usleep(c->stop_sleep_us);
		c->stopped_at = now_seconds();
		return false;
	}
	return true;
}

/* One row that names its own file. */
static void
write_tagged(StagingWriter *w, const char *family, const char *vendor, const char *run,
			 const char *date, int i, const char *pad)
{
	JsonGen *g = staging_row_begin(w, day(date));
	char id[160];

	assert_non_null(g);
	snprintf(id, sizeof(id), "%s-%s-%s-%s-%d", family, vendor, run, date, i);
	jgen_string(g, "lead_id", id);
	jgen_string(g, "family", family);
	jgen_string(g, "vendor", vendor);
	jgen_string(g, "run", run);
	jgen_string(g, "date", date);
	jgen_int(g, "i", i);
	if (pad != NULL)
		jgen_string(g, "pad", pad);
	assert_true(staging_row_end(w));
}

/* The many-file layout of the pipeline tests: what is on disk and, in
 * read order, what staging_read must give (Collect lines). */
typedef struct Layout
{
	Text expected;
	long long rows;
	int files;
} Layout;

#define MANY_DATES 25

/* rows of (vendor v, date d, run r); 0 means an empty committed partition */
static int
rows_of(int v, int d, int r)
{
	if (v == 0 && d == 7 && r == 1)
		return 0;
	return 1 + (d * 3 + r + v) % 6;
}

/*
 * write_many commits, under lead: crm/hubspot and crm/salesforce with
 * MANY_DATES dates x 2 runs each, and ads/meta with 3 dates x 1 run: 103
 * files, one of them empty. Partitions are written in descending date
 * order and run B before run A, which is not the read order.
 */
static void
write_many(const char *dir, Layout *lay, const char *pad)
{
	static const char *const families[] = {"crm", "crm", "ads"};
	static const char *const vendors[] = {"hubspot", "salesforce", "meta"};
	static const char *const runs[] = {RUN_A, RUN_B};
	ClDate first = day("2026-01-01");
	char date[CL_DATE_BUFSIZE];
	ClError err = CL_OK;

	for (int v = 0; v < 3; v++)
	{
		int dates = v == 2 ? 3 : MANY_DATES;
		int nruns = v == 2 ? 1 : 2;

		for (int r = nruns - 1; r >= 0; r--)
		{
			StagingWriter *w = staging_writer_new(dir, families[v], vendors[v], "lead", runs[r],
												  (StagingWindow) {first, first + dates - 1},
												  "test");
			bool empty_day = false;

			assert_non_null(w);
			staging_writer_limit_files(w, 4);
			for (int d = dates - 1; d >= 0; d--)
			{
				date_format(first + d, date);
				for (int i = 0; i < rows_of(v, d, r); i++)
					write_tagged(w, families[v], vendors[v], runs[r], date, i, pad);
				empty_day = empty_day || rows_of(v, d, r) == 0;
			}
			assert_true(staging_writer_commit(w, NULL, -1, &err));
			staging_writer_free(w);
			if (empty_day)
			{
				/* the empty partition, committed as an extract of nothing */
				w = staging_writer_new(dir, families[v], vendors[v], "lead", runs[r],
									   (StagingWindow) {first + 7, first + 7}, "test");
				assert_non_null(w);
				assert_true(staging_writer_commit(w, NULL, first + 7, &err));
				staging_writer_free(w);
			}
		}
	}

	/* read order: family, vendor, date, run id */
	{
		static const int order[] = {2, 0, 1};   /* ads/meta, crm/hubspot, crm/salesforce */

		for (int o = 0; o < 3; o++)
		{
			int v = order[o];
			int dates = v == 2 ? 3 : MANY_DATES;
			int nruns = v == 2 ? 1 : 2;

			for (int d = 0; d < dates; d++)
			{
				date_format(first + d, date);
				for (int r = 0; r < nruns; r++)
				{
					lay->files++;
					for (int i = 0; i < rows_of(v, d, r); i++)
					{
						text_printf(&lay->expected, "%s/%s/%s/%s %d %s-%s-%s-%s-%d\n",
									families[v], vendors[v], date, runs[r], rows_of(v, d, r),
									families[v], vendors[v], runs[r], date, i);
						lay->rows++;
					}
				}
			}
		}
	}
}

static void
test_staging_read_many_files(void **state)
{
	Fixture *f = *state;
	Layout lay = {0};
	Collect c = {0};
	Collect again = {0};
	ClError err = CL_ERR_INTERNAL;

	write_many(f->dir, &lay, NULL);
	assert_int_equal(lay.files, 103);
	assert_int_equal(count_files(f->dir), 2 * 103);

	assert_true(staging_read(f->dir, "lead", INT32_MIN, INT32_MAX, collect_row, &c, &err));
	assert_int_equal(err, CL_OK);
	assert_int_equal(c.rows, lay.rows);
	/* the same lines in the same order: every row once, with its file */
	assert_string_equal(c.out.data, lay.expected.data);

	/* and again, identically */
	assert_true(staging_read(f->dir, "lead", INT32_MIN, INT32_MAX, collect_row, &again, &err));
	assert_string_equal(again.out.data, c.out.data);

	/* a date range: only those partitions, still in order */
	{
		Collect part = {0};
		char *line;
		size_t n = 0;

		assert_true(staging_read(f->dir, "lead", day("2026-01-03"), day("2026-01-03"),
								 collect_row, &part, &err));
		for (line = part.out.data; line != NULL && *line != '\0'; line = strchr(line, '\n') + 1)
		{
			assert_non_null(strstr(line, "/2026-01-03/"));
			n++;
		}
		assert_int_equal(n, (size_t) (rows_of(2, 2, 0) + rows_of(0, 2, 0) + rows_of(0, 2, 1)
									  + rows_of(1, 2, 0) + rows_of(1, 2, 1)));
		assert_int_equal(part.rows, (long long) n);
		free(part.out.data);
	}
	free(c.out.data);
	free(again.out.data);
	free(lay.expected.data);
}

/* Rows of a file written by hand: {"lead_id":"<prefix>-<n>","n":n,"pad":...}. */
static char *
make_rows(const char *prefix, long long rows, size_t pad, size_t *len)
{
	Text t = {0};
	char *padding = malloc(pad + 1);

	assert_non_null(padding);
	memset(padding, 'p', pad);
	padding[pad] = '\0';
	for (long long n = 0; n < rows; n++)
		text_printf(&t, "{\"lead_id\":\"%s-%lld\",\"n\":%lld,\"pad\":\"%s\"}\n", prefix, n, n,
					padding);
	free(padding);
	*len = t.len;
	return t.data;
}

/* Checks rows read from files made by make_rows. */
typedef struct Seq
{
	long long rows;
	long long next;             /* expected n of the next row of the file */
	char file[4096];            /* path of the file being read */
	long long files;
	long long file_rows[8];     /* rows seen per file, in read order */
	long long manifest_rows[8];
} Seq;

static bool
seq_row(void *ctx, const JsonValue *row, const StagingFile *file)
{
	Seq *s = ctx;
	int64_t n = -1;

	if (strcmp(s->file, file->path) != 0)
	{
		/* a new file: the previous one was complete */
		if (s->files > 0)
			assert_int_equal(s->file_rows[s->files - 1], s->manifest_rows[s->files - 1]);
		assert_true(s->files < 8);
		snprintf(s->file, sizeof(s->file), "%s", file->path);
		s->files++;
		s->next = 0;
	}
	assert_true(json_int64(json_member(row, "n"), &n));
	if (n != s->next)
		fail_msg("row %lld of %s has n %lld", s->next, file->path, (long long) n);
	s->next++;
	s->rows++;
	s->file_rows[s->files - 1]++;
	s->manifest_rows[s->files - 1] = file->rows;
	return true;
}

/* A file of several batches keeps its order, and line numbers in errors
 * count from the start of each file, across batches. */
static void
test_staging_read_big_file(void **state)
{
	Fixture *f = *state;
	size_t big_len = 0;
	size_t small_len = 0;
	const long long big_rows = 30000;
	char *big = make_rows("big", big_rows, 80, &big_len);
	char *small = make_rows("small", 5, 10, &small_len);
	char *big_path;
	char *small_path;
	Seq s = {0};
	ClError err = CL_OK;

	assert_true(big_len > 3 * 1024 * 1024);
	big_path = put_file(f->dir, "crm", "hubspot", "lead", "2026-02-01", RUN_A, big, big_len,
						big_rows);
	small_path = put_file(f->dir, "crm", "hubspot", "lead", "2026-02-02", RUN_A, small,
						  small_len, 5);
	assert_true(staging_read(f->dir, "lead", INT32_MIN, INT32_MAX, seq_row, &s, &err));
	assert_int_equal(s.files, 2);
	assert_int_equal(s.file_rows[0], big_rows);
	assert_int_equal(s.manifest_rows[0], big_rows);
	assert_int_equal(s.file_rows[1], 5);
	assert_int_equal(s.manifest_rows[1], 5);
	assert_int_equal(s.rows, big_rows + 5);

	/* a bad line late in the big file (in its third MiB) is named by its
	 * line number in that file */
	{
		char needle[64];
		char *at;
		FILE *log;
		char *logged;

		snprintf(needle, sizeof(needle), "{\"lead_id\":\"big-%lld\"", big_rows - 1001);
		at = strstr(big, needle);
		assert_non_null(at);
		assert_true((size_t) (at - big) > 2 * 1024 * 1024);
		at[0] = '[';    /* {"lead_id"... -> ["lead_id"...}: a syntax error */
		free(put_file(f->dir, "crm", "hubspot", "lead", "2026-02-01", RUN_A, big, big_len,
					  big_rows));
		memset(&s, 0, sizeof(s));
		log = capture_log();
		assert_false(staging_read(f->dir, "lead", INT32_MIN, INT32_MAX, seq_row, &s, &err));
		logged = captured_log(log);
		assert_int_equal(err, CL_ERR_DATA);
		if (strstr(logged, big_path) == NULL || strstr(logged, "row 29000:") == NULL)
			fail_msg("the error does not name %s, row 29000: %s", big_path, logged);
		/* rows of batches before the bad one may have been passed on, in
		 * order, none after it */
		assert_true(s.rows < big_rows - 1001);
		free(logged);
		at[0] = '{';
		free(put_file(f->dir, "crm", "hubspot", "lead", "2026-02-01", RUN_A, big, big_len,
					  big_rows));
	}

	/* the second file's line numbers start at 1 again */
	{
		FILE *log;
		char *logged;
		char *at = strstr(small, "{\"lead_id\":\"small-2\"");

		assert_non_null(at);
		at[0] = '[';
		free(put_file(f->dir, "crm", "hubspot", "lead", "2026-02-02", RUN_A, small, small_len,
					  5));
		memset(&s, 0, sizeof(s));
		log = capture_log();
		assert_false(staging_read(f->dir, "lead", INT32_MIN, INT32_MAX, seq_row, &s, &err));
		logged = captured_log(log);
		assert_int_equal(err, CL_ERR_DATA);
		if (strstr(logged, small_path) == NULL || strstr(logged, "row 3:") == NULL)
			fail_msg("the error does not name %s, row 3: %s", small_path, logged);
		/* the big file was verified and passed on whole, nothing of the
		 * small one */
		assert_int_equal(s.files, 1);
		assert_int_equal(s.rows, big_rows);
		free(logged);
	}
	free(big);
	free(small);
	free(big_path);
	free(small_path);
}

/* Rows longer than the 1 MiB read buffer make it grow. */
static void
test_staging_read_long_rows(void **state)
{
	Fixture *f = *state;
	size_t long_len = (size_t) 5 * 1024 * 1024 / 2 + 3;     /* 2.5 MiB */
	char *value = malloc(long_len + 1);
	StagingWriter *w = staging_writer_new(f->dir, "crm", "hubspot", "lead", RUN_A,
										  window("2026-03-01", "2026-03-02"), "test");
	ClError err = CL_OK;
	Collect c = {0};

	assert_non_null(value);
	assert_non_null(w);
	for (size_t i = 0; i < long_len; i++)
		value[i] = (char) ('A' + i % 23);
	value[long_len] = '\0';
	write_lead(w, "2026-03-01", "before");
	{
		JsonGen *g = staging_row_begin(w, day("2026-03-01"));
		jgen_string(g, "lead_id", "long");
		jgen_string(g, "value", value);
		jgen_int(g, "after_value", 7);
		assert_true(staging_row_end(w));
	}
	write_lead(w, "2026-03-01", "after");
	write_lead(w, "2026-03-02", "next-file");
	assert_true(staging_writer_commit(w, NULL, -1, &err));
	staging_writer_free(w);

	/* the last file ends in a long line without a newline */
	{
		Text t = {0};

		text_printf(&t, "{\"lead_id\":\"short\"}\n{\"lead_id\":\"tail\",\"value\":\"%s\"}", value);
		free(put_file(f->dir, "crm", "hubspot", "lead", "2026-03-03", RUN_A, t.data, t.len, 2));
		free(t.data);
	}

	assert_true(staging_read(f->dir, "lead", INT32_MIN, INT32_MAX, collect_row, &c, &err));
	assert_string_equal(c.out.data,
						"crm/hubspot/2026-03-01/" RUN_A " 3 before\n"
						"crm/hubspot/2026-03-01/" RUN_A " 3 long\n"
						"crm/hubspot/2026-03-01/" RUN_A " 3 after\n"
						"crm/hubspot/2026-03-02/" RUN_A " 1 next-file\n"
						"crm/hubspot/2026-03-03/" RUN_A " 2 short\n"
						"crm/hubspot/2026-03-03/" RUN_A " 2 tail\n");
	free(c.out.data);
	free(value);
}

/* A row callback that checks long values in place. */
typedef struct LongValues
{
	const char *value;
	size_t len;
	int seen;
	int rows;
} LongValues;

static bool
long_value_row(void *ctx, const JsonValue *row, const StagingFile *file)
{
	LongValues *lv = ctx;
	const JsonValue *v = json_member(row, "value");

	(void) file;
	lv->rows++;
	if (v != NULL)
	{
		assert_int_equal(v->type, JSON_STRING);
		assert_int_equal(v->len, lv->len);
		assert_memory_equal(v->text, lv->value, lv->len);
		lv->seen++;
	}
	return true;
}

static void
test_staging_read_long_row_values(void **state)
{
	Fixture *f = *state;
	size_t long_len = (size_t) 3 * 1024 * 1024 + 11;
	char *value = malloc(long_len + 1);
	Text t = {0};
	LongValues lv = {0};
	ClError err = CL_OK;

	assert_non_null(value);
	for (size_t i = 0; i < long_len; i++)
		value[i] = (char) ('a' + i % 26);
	value[long_len] = '\0';
	/* short, long, short, long: the grown buffer carries on */
	text_printf(&t, "{\"lead_id\":\"1\"}\n{\"lead_id\":\"2\",\"value\":\"%s\"}\n"
				"{\"lead_id\":\"3\"}\n{\"lead_id\":\"4\",\"value\":\"%s\"}\n", value, value);
	free(put_file(f->dir, "crm", "hubspot", "lead", "2026-03-01", RUN_A, t.data, t.len, 4));
	lv.value = value;
	lv.len = long_len;
	assert_true(staging_read(f->dir, "lead", INT32_MIN, INT32_MAX, long_value_row, &lv, &err));
	assert_int_equal(lv.rows, 4);
	assert_int_equal(lv.seen, 2);
	free(t.data);
	free(value);
}

/* Ends the process if a read hangs: a hang must fail, not stall the suite. */
static void
hang_guard(int seconds)
{
	alarm((unsigned) seconds);
}

/*
 * A callback that says stop while the producer is blocked waiting for a
 * free batch (it sleeps first, so the producer fills every batch): the read
 * ends promptly with CL_ERR_DATA and no further callbacks.
 */
static void
test_staging_read_stop_many_files(void **state)
{
	Fixture *f = *state;
	Layout lay = {0};
	Collect c = {0};
	ClError err = CL_OK;
	char pad[201];
	double start;
	double end;

	memset(pad, 'x', 200);
	pad[200] = '\0';
	write_many(f->dir, &lay, pad);
	c.stop_at = 9;                  /* the last row of the second file */
	c.stop_sleep_us = 100 * 1000;
	hang_guard(10);
	start = now_seconds();
	assert_false(staging_read(f->dir, "lead", INT32_MIN, INT32_MAX, collect_row, &c, &err));
	end = now_seconds();
	hang_guard(0);
	assert_int_equal(err, CL_ERR_DATA);
	assert_int_equal(c.rows, 9);
	assert_int_equal(c.after_stop, 0);
	/* the rows given were the first 9, in order */
	assert_true(c.out.len < lay.expected.len);
	assert_memory_equal(c.out.data, lay.expected.data, c.out.len);
	assert_int_equal(lay.expected.data[c.out.len - 1], '\n');
	if (end - c.stopped_at > 0.25 || end - start > 0.9)
		fail_msg("the read took %.3f s, %.3f s after the callback said stop", end - start,
				 end - c.stopped_at);

	/* stopping on the very first and on the very last row */
	free(c.out.data);
	memset(&c, 0, sizeof(c));
	c.stop_at = 1;
	hang_guard(10);
	assert_false(staging_read(f->dir, "lead", INT32_MIN, INT32_MAX, collect_row, &c, &err));
	hang_guard(0);
	assert_int_equal(err, CL_ERR_DATA);
	assert_int_equal(c.rows, 1);
	free(c.out.data);
	memset(&c, 0, sizeof(c));
	c.stop_at = lay.rows;
	hang_guard(10);
	assert_false(staging_read(f->dir, "lead", INT32_MIN, INT32_MAX, collect_row, &c, &err));
	hang_guard(0);
	assert_int_equal(err, CL_ERR_DATA);
	assert_int_equal(c.rows, lay.rows);
	assert_string_equal(c.out.data, lay.expected.data);
	free(c.out.data);
	free(lay.expected.data);
}

/* The same, with the producer blocked in the middle of one big file. */
static void
test_staging_read_stop_big_file(void **state)
{
	Fixture *f = *state;
	size_t len = 0;
	const long long rows = 60000;
	char *big = make_rows("big", rows, 180, &len);
	Collect c = {0};
	ClError err = CL_OK;
	double end;

	assert_true(len > 12 * 1024 * 1024);
	free(put_file(f->dir, "crm", "hubspot", "lead", "2026-02-01", RUN_A, big, len, rows));
	free(put_file(f->dir, "crm", "hubspot", "lead", "2026-02-02", RUN_A, big, len, rows));
	c.stop_at = 1000;
	c.stop_sleep_us = 300 * 1000;
	hang_guard(20);
	assert_false(staging_read(f->dir, "lead", INT32_MIN, INT32_MAX, collect_row, &c, &err));
	end = now_seconds();
	hang_guard(0);
	assert_int_equal(err, CL_ERR_DATA);
	assert_int_equal(c.rows, 1000);
	assert_int_equal(c.after_stop, 0);
	assert_non_null(strstr(c.out.data, " big-999\n"));
	if (end - c.stopped_at > 0.25)
		fail_msg("the read ended %.3f s after the callback said stop", end - c.stopped_at);
	free(c.out.data);
	free(big);
}

/* One byte changed in a middle file, same size: refused, and the error
 * names that file. */
static void
test_staging_read_corrupt_middle_file(void **state)
{
	Fixture *f = *state;
	Layout lay = {0};
	Collect c = {0};
	ClError err = CL_OK;
	char *path = path_in(f->dir, "crm/hubspot/lead/2026-01-10/" RUN_B ".ndjson");
	size_t len = 0;
	char *text;
	char *p;
	FILE *log;
	char *logged;
	long long size_before;

	write_many(f->dir, &lay, NULL);
	text = ts_read_file(path, &len);
	size_before = (long long) len;
	p = strstr(text, "-2026-01-10-0\"");
	assert_non_null(p);
	p[12] = '9';            /* ...-2026-01-10-9": still valid JSON */
	ts_write_file(path, text);
	assert_int_equal(file_size(f->dir, "crm/hubspot/lead/2026-01-10/" RUN_B ".ndjson"),
					 size_before);

	log = capture_log();
	assert_false(staging_read(f->dir, "lead", INT32_MIN, INT32_MAX, collect_row, &c, &err));
	logged = captured_log(log);
	assert_int_equal(err, CL_ERR_DATA);
	if (strstr(logged, path) == NULL || strstr(logged, "sha256") == NULL)
		fail_msg("the error does not name %s and its sha256: %s", path, logged);
	/* the files before it were passed on whole, nothing of it or after */
	assert_non_null(c.out.data);
	assert_null(strstr(c.out.data, "crm/hubspot/2026-01-10/" RUN_B));
	assert_null(strstr(c.out.data, "crm/hubspot/2026-01-11/"));
	assert_null(strstr(c.out.data, "crm/salesforce/"));
	assert_memory_equal(c.out.data, lay.expected.data, c.out.len);
	assert_non_null(strstr(lay.expected.data + c.out.len, "crm/hubspot/2026-01-10/" RUN_B));
	assert_ptr_equal(strstr(lay.expected.data + c.out.len, "crm/hubspot/2026-01-10/" RUN_B),
					 lay.expected.data + c.out.len);
	free(logged);
	free(c.out.data);
	free(lay.expected.data);
	free(text);
	free(path);
}

/* Data files whose lines are not one object each: refused, naming the
 * file, even with a manifest that matches them. */
static void
test_staging_read_bad_line_shapes(void **state)
{
	Fixture *f = *state;
	static const char *const bad[] = {
		"{\"lead_id\":\"a\"}\n\n{\"lead_id\":\"b\"}\n",            /* blank line */
		"{\"lead_id\":\"a\"}\n{\"lead_id\":\"b\"}{\"lead_id\":\"c\"}\n",  /* two on a line */
		"{\"lead_id\":\"a\"}\n{\"lead_id\":\n\"b\"}\n",            /* one over two lines */
		"{\"lead_id\":\"a\"}\n[\"b\"]\n",                          /* not an object */
	};
	static const long long rows[] = {2, 3, 2, 2};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		char *sub;
		char name[32];
		char *path;
		Collect c = {0};
		ClError err = CL_OK;
		FILE *log;
		char *logged;

		snprintf(name, sizeof(name), "case%zu", i);
		sub = path_in(f->dir, name);
		free(commit_one(sub, "crm", "hubspot", RUN_A, "2026-03-01", "good"));
		path = put_file(sub, "crm", "hubspot", "lead", "2026-03-02", RUN_A, bad[i],
						strlen(bad[i]), rows[i]);
		log = capture_log();
		if (staging_read(sub, "lead", INT32_MIN, INT32_MAX, collect_row, &c, &err))
			fail_msg("case %zu was read: %s", i, c.out.data);
		logged = captured_log(log);
		assert_int_equal(err, CL_ERR_DATA);
		if (strstr(logged, path) == NULL)
			fail_msg("case %zu: the error does not name %s: %s", i, path, logged);
		/* the good file before it was read, nothing of the bad one */
		assert_string_equal(c.out.data, "crm/hubspot/2026-03-01/" RUN_A " 1 good\n");
		free(logged);
		free(c.out.data);
		free(path);
		free(sub);
	}
}

/* A blank line and two objects on one line in the same file: as many
 * values as lines, and a manifest that agrees. Still not staging. */
static void
test_staging_read_compensating_line_shapes(void **state)
{
	Fixture *f = *state;
	const char *data = "{\"lead_id\":\"a\"}{\"lead_id\":\"b\"}\n\n{\"lead_id\":\"c\"}\n";
	Collect c = {0};
	ClError err = CL_OK;
	FILE *log;
	char *logged;

	free(put_file(f->dir, "crm", "hubspot", "lead", "2026-03-02", RUN_A, data, strlen(data), 3));
	log = capture_log();
	if (staging_read(f->dir, "lead", INT32_MIN, INT32_MAX, collect_row, &c, &err))
	{
		char got[512];

		snprintf(got, sizeof(got), "%s", c.out.data != NULL ? c.out.data : "");
		free(c.out.data);
		free(captured_log(log));
		fail_msg("a file with a blank line and two objects on one line was read: %s", got);
	}
	logged = captured_log(log);
	assert_int_equal(err, CL_ERR_DATA);
	assert_int_equal(c.rows, 0);
	free(logged);
	free(c.out.data);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_staging_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_staging_several_partitions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_staging_many_partitions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_staging_rewind_after_mark, setup, teardown),
		cmocka_unit_test_setup_teardown(test_staging_rewind_without_mark, setup, teardown),
		cmocka_unit_test_setup_teardown(test_staging_append_writer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_staging_tampered_file_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_staging_file_without_manifest_ignored, setup,
										teardown),
		cmocka_unit_test_setup_teardown(test_staging_free_without_commit_leaves_nothing, setup,
										teardown),
		cmocka_unit_test_setup_teardown(test_staging_deterministic_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_staging_empty_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_staging_bad_row_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_staging_invalid_names_refused, setup, teardown),
		cmocka_unit_test(test_staging_run_id_format),
		cmocka_unit_test_setup_teardown(test_staging_fs_helpers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_staging_read_many_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_staging_read_big_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_staging_read_long_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_staging_read_long_row_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_staging_read_stop_many_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_staging_read_stop_big_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_staging_read_corrupt_middle_file, setup,
										teardown),
		cmocka_unit_test_setup_teardown(test_staging_read_bad_line_shapes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_staging_read_compensating_line_shapes, setup,
										teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
