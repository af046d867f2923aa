#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "json.h"
#include "log.h"
#include "output.h"
#include "sha256.h"
#include "support.h"

/* What a fill function writes: rows rows of a few fields. */
typedef struct FillSpec
{
	int rows;
	bool fail_at_end;       /* log an error and fail after the rows */
	bool until_stopped;     /* write until *stop is set (2M rows at most), then give up */
	bool *saw_stop;         /* NULL, or set when the stop was seen */
} FillSpec;

static bool
fill_rows(const void *arg, CopyWriter *w, const atomic_bool *stop, ClError *err)
{
	const FillSpec *spec = arg;

	for (int r = 0; r < spec->rows || (spec->until_stopped && r < 2000000); r++)
	{
		if (atomic_load(stop))
		{
			if (spec->saw_stop != NULL)
				*spec->saw_stop = true;
			*err = CL_ERR_INTERNAL;
			return false;
		}
		copy_int(w, r);
		copy_text(w, "touch\twith a tab");
		copy_time(w, (ClTime) r * 1000003);
		copy_end_row(w);
		if (spec->until_stopped && r % 1000 == 999)
		{
			struct timespec ms = { 0, 1000000 };

			(void) nanosleep(&ms, NULL);
		}
	}
	if (spec->fail_at_end)
	{
		log_error("test: the table failed on purpose");
		*err = CL_ERR_DATA;
		return false;
	}
	return true;
}

static bool
path_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* write_small writes table t on the calling thread. */
static void
write_small(Output *o, OutputTableId t, int rows)
{
	FillSpec spec = { rows, false, false, NULL };
	ClError err = CL_OK;
	atomic_bool never;
	CopyWriter *w = output_begin(o, t, &err);

	atomic_init(&never, false);
	assert_non_null(w);
	assert_true(fill_rows(&spec, w, &never, &err));
	assert_true(output_end(o, t, &err));
}

static const ModelSet no_models = { { NULL }, 0 };

/*
 * Every table of the manifest, the one written on a thread of its own
 * included, carries the row count and the SHA-256 of its file as read
 * back from disk.
 */
static void
test_output_manifest_checksums(void **state)
{
	char *root = ts_make_tmpdir("output");
	Output o;
	ClError err = CL_OK;
	FillSpec big = { 300000, false, false, NULL };   /* several writer buffers */
	ManifestInfo mi = { "run1", 20000, 20030, "USD", &no_models, 0 };
	char path[1024];
	char msg[128];
	char *text;
	JsonValue *m;
	const JsonValue *tables;

	(void) state;
	assert_true(output_open(&o, root, "run1", false, &err));
	assert_true(output_start(&o, OUT_TOUCHES, fill_rows, &big, &err));
	for (int t = 0; t < OUT_N_TABLES; t++)
	{
		if (t == OUT_TOUCHES)
			continue;
		if (t == OUT_ATTRIBUTION_MODEL_STATS)
			output_omit(&o, (OutputTableId) t);
		else
			write_small(&o, (OutputTableId) t, t * 7);
	}
	assert_false(output_job_failed(&o));
	assert_true(output_wait(&o, &err));
	assert_true(output_manifest(&o, &mi, &err));
	output_free(&o, true);

	snprintf(path, sizeof(path), "%s/run1/manifest.json", root);
	text = ts_read_file(path, NULL);
	m = json_parse(text, strlen(text), msg, sizeof(msg));
	assert_non_null(m);
	tables = json_member(m, "tables");
	assert_non_null(tables);
	assert_int_equal(tables->count, OUT_N_TABLES - 1);
	for (size_t i = 0; i < tables->count; i++)
	{
		const JsonValue *t = tables->items[i];
		const char *name = json_path_text(t, "name");
		size_t len = 0;
		char *copy;
		char hex[SHA256_HEX_SIZE];
		Sha256 h;
		int64_t rows = -1;
		int64_t lines = 0;

		snprintf(path, sizeof(path), "%s/run1/%s.copy", root, name);
		copy = ts_read_file(path, &len);
		sha256_init(&h);
		sha256_update(&h, copy, len);
		sha256_final_hex(&h, hex);
		assert_string_equal(json_path_text(t, "sha256"), hex);
		for (size_t k = 0; k < len; k++)
			lines += copy[k] == '\n';
		assert_true(json_int64(json_member(t, "rows"), &rows));
		assert_int_equal(rows, lines);
		if (strcmp(name, "touches") == 0)
			assert_int_equal(rows, big.rows);
		free(copy);
	}
	assert_string_equal(json_path_text(m, "tables[4].name"), "touches");
	json_free(m);
	free(text);
	ts_rmdir_r(root);
	free(root);
}

/*
 * A table that fails on its thread is reported by output_wait with its
 * error class, and the run's files are gone after output_free.
 */
static void
test_output_thread_failure(void **state)
{
	char *root = ts_make_tmpdir("output");
	Output o;
	ClError err = CL_OK;
	FillSpec failing = { 5000, true, false, NULL };
	char dir[1024];

	(void) state;
	snprintf(dir, sizeof(dir), "%s/run2", root);
	assert_true(output_open(&o, root, "run2", false, &err));
	assert_true(output_start(&o, OUT_TOUCHES, fill_rows, &failing, &err));
	write_small(&o, OUT_LEADS, 10);
	assert_false(output_wait(&o, &err));
	assert_int_equal(err, CL_ERR_DATA);
	assert_true(output_job_failed(&o));
	assert_true(o.files[OUT_LEADS].done);
	assert_false(o.files[OUT_TOUCHES].done);
	output_free(&o, false);
	assert_false(path_exists(dir));
	ts_rmdir_r(root);
	free(root);
}

/*
 * output_free stops a table still being written on its thread (the main
 * thread failed meanwhile) and leaves nothing behind.
 */
static void
test_output_free_stops_thread(void **state)
{
	char *root = ts_make_tmpdir("output");
	Output o;
	ClError err = CL_OK;
	bool saw_stop = false;
	FillSpec endless = { 0, false, true, &saw_stop };
	char dir[1024];

	(void) state;
	snprintf(dir, sizeof(dir), "%s/run3", root);
	assert_true(output_open(&o, root, "run3", false, &err));
	assert_true(output_start(&o, OUT_TOUCHES, fill_rows, &endless, &err));
	write_small(&o, OUT_DEALS, 3);
	output_free(&o, false);
	assert_true(saw_stop);      /* output_free has joined the thread */
	assert_false(path_exists(dir));
	ts_rmdir_r(root);
	free(root);
}

/* A dry run counts the rows of a threaded table and creates nothing. */
static void
test_output_dry_run_thread(void **state)
{
	char *root = ts_make_tmpdir("output");
	Output o;
	ClError err = CL_OK;
	FillSpec spec = { 20000, false, false, NULL };
	char dir[1024];

	(void) state;
	snprintf(dir, sizeof(dir), "%s/run4", root);
	assert_true(output_open(&o, root, "run4", true, &err));
	assert_true(output_start(&o, OUT_TOUCHES, fill_rows, &spec, &err));
	write_small(&o, OUT_LEADS, 10);
	assert_true(output_wait(&o, &err));
	assert_int_equal(o.files[OUT_TOUCHES].rows, 20000);
	assert_int_equal(o.files[OUT_LEADS].rows, 10);
	output_free(&o, false);
	assert_false(path_exists(dir));
	ts_rmdir_r(root);
	free(root);
}

/* Beginning a table twice is a bug the output refuses. */
static void
test_output_begin_twice(void **state)
{
	char *root = ts_make_tmpdir("output");
	Output o;
	ClError err = CL_OK;

	(void) state;
	assert_true(output_open(&o, root, "run5", false, &err));
	assert_non_null(output_begin(&o, OUT_DEALS, &err));
	assert_null(output_begin(&o, OUT_DEALS, &err));
	assert_int_equal(err, CL_ERR_INTERNAL);
	assert_false(output_end(&o, OUT_LEADS, &err));
	output_free(&o, false);
	ts_rmdir_r(root);
	free(root);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_output_manifest_checksums),
		cmocka_unit_test(test_output_thread_failure),
		cmocka_unit_test(test_output_free_stops_thread),
		cmocka_unit_test(test_output_dry_run_thread),
		cmocka_unit_test(test_output_begin_twice),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
