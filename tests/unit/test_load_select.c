/*
 * test_load_select.c: which output cl-load picks without --run
 * (load/output_select.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"
#include "output_select.h"
#include "support.h"

#define A "20260101T010000Z-aaaaaa"
#define B "20260102T010000Z-bbbbbb"
#define C "20260103T010000Z-cccccc"

static void
test_load_select_newest_not_loaded(void **state)
{
	const char *const outputs[] = { A, B, C };
	const char *const none_loaded[] = { "x" };
	const char *const c_loaded[] = { C };
	const char *const b_c_loaded[] = { C, B };      /* any order */
	const char *const all_loaded[] = { B, A, C };
	const char *const a_loaded[] = { A };

	(void) state;
	assert_int_equal(output_select_newest(outputs, 3, NULL, 0), 2);
	assert_int_equal(output_select_newest(outputs, 3, none_loaded, 1), 2);
	assert_int_equal(output_select_newest(outputs, 3, a_loaded, 1), 2);
	assert_int_equal(output_select_newest(outputs, 3, c_loaded, 1), 1);
	assert_int_equal(output_select_newest(outputs, 3, b_c_loaded, 2), 0);
	assert_int_equal(output_select_newest(outputs, 3, all_loaded, 3), -1);
	assert_int_equal(output_select_newest(outputs, 0, NULL, 0), -1);
}

static void
make_output(const char *base, const char *name, bool complete)
{
	char path[4096];

	(void) snprintf(path, sizeof(path), "%s/%s", base, name);
	assert_int_equal(mkdir(path, 0755), 0);
	if (complete)
	{
		(void) snprintf(path, sizeof(path), "%s/%s/manifest.json", base, name);
		ts_write_file(path, "{}");
	}
}

static void
test_load_select_lists_complete_outputs(void **state)
{
	char *base = ts_make_tmpdir("load-outputs");
	char path[4096];
	char **names = NULL;
	size_t count = 0;
	ClError err = CL_OK;

	(void) state;
	make_output(base, C, false);            /* still being written */
	make_output(base, B, true);
	make_output(base, A, true);
	make_output(base, ".tmp-x", true);      /* hidden: a writer's scratch */
	make_output(base, "bad name", true);    /* not a run id */
	(void) snprintf(path, sizeof(path), "%s/%s", base, "20260104T010000Z-dddddd");
	ts_write_file(path, "a file, not an output");

	assert_true(output_list(base, &names, &count, &err));
	assert_int_equal(count, 2);
	assert_string_equal(names[0], A);
	assert_string_equal(names[1], B);
	output_list_free(names, count);

	ts_rmdir_r(base);
	/* nothing transformed yet: an empty list, not an error */
	assert_true(output_list(base, &names, &count, &err));
	assert_int_equal(count, 0);
	assert_null(names);
	free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_select_newest_not_loaded),
		cmocka_unit_test(test_load_select_lists_complete_outputs),
	};

	log_set_level(LOG_FATAL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
