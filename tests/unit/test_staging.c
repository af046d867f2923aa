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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
