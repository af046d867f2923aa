#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "exitcode.h"

static void
test_exitcode_maps_every_class(void **state)
{
	(void) state;
	assert_int_equal(cl_error_exit_code(CL_OK), 0);
	assert_int_equal(cl_error_exit_code(CL_ERR_USAGE), 64);
	assert_int_equal(cl_error_exit_code(CL_ERR_DATA), 65);
	assert_int_equal(cl_error_exit_code(CL_ERR_UNAVAILABLE), 69);
	assert_int_equal(cl_error_exit_code(CL_ERR_INTERNAL), 70);
	assert_int_equal(cl_error_exit_code(CL_ERR_OUTPUT), 73);
	assert_int_equal(cl_error_exit_code(CL_ERR_TEMPORARY), 75);
	assert_int_equal(cl_error_exit_code(CL_ERR_CONFIG), 78);
	assert_string_equal(cl_error_name(CL_ERR_TEMPORARY), "temporary failure");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exitcode_maps_every_class),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
