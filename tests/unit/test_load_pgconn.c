/*
 * test_load_pgconn.c: SQLSTATE classification, the connection options and
 * the COPY error context (load/pgconn.c, load/loader.c). No server needed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "loader.h"
#include "log.h"
#include "pgconn.h"

typedef struct StateCase
{
	const char *sqlstate;
	ClError expected;
} StateCase;

static void
test_load_pgconn_classifies_sqlstates(void **state)
{
	static const StateCase cases[] = {
		{ "08000", CL_ERR_TEMPORARY },      /* connection_exception */
		{ "08006", CL_ERR_TEMPORARY },      /* connection_failure */
		{ "08P01", CL_ERR_TEMPORARY },      /* protocol_violation */
		{ "57P01", CL_ERR_TEMPORARY },      /* admin_shutdown */
		{ "57P03", CL_ERR_TEMPORARY },      /* cannot_connect_now */
		{ "40001", CL_ERR_TEMPORARY },      /* serialization_failure */
		{ "40P01", CL_ERR_TEMPORARY },      /* deadlock_detected */
		{ "55P03", CL_ERR_TEMPORARY },      /* lock_not_available (lock_timeout) */
		{ "57014", CL_ERR_TEMPORARY },      /* query_canceled (statement_timeout) */
		{ "53100", CL_ERR_TEMPORARY },      /* disk_full */
		{ "53300", CL_ERR_TEMPORARY },      /* too_many_connections */
		{ "22P02", CL_ERR_DATA },           /* invalid_text_representation */
		{ "22008", CL_ERR_DATA },           /* datetime_field_overflow */
		{ "22003", CL_ERR_DATA },           /* numeric_value_out_of_range */
		{ "23505", CL_ERR_DATA },           /* unique_violation */
		{ "23502", CL_ERR_DATA },           /* not_null_violation */
		{ "23514", CL_ERR_DATA },           /* check_violation */
		{ "21000", CL_ERR_DATA },           /* cardinality_violation: a key twice in one upsert */
		{ "40002", CL_ERR_DATA },           /* integrity violation at commit */
		{ "42P01", CL_ERR_INTERNAL },       /* undefined_table */
		{ "42703", CL_ERR_INTERNAL },       /* undefined_column */
		{ "42501", CL_ERR_INTERNAL },       /* insufficient_privilege */
		{ "XX000", CL_ERR_INTERNAL },
		{ "", CL_ERR_INTERNAL },
		{ "0800", CL_ERR_INTERNAL },
	};

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		ClError got = pgconn_classify(cases[i].sqlstate, false);

		if (got != cases[i].expected)
		{
			fail_msg("SQLSTATE \"%s\": got %s, expected %s", cases[i].sqlstate,
					 cl_error_name(got), cl_error_name(cases[i].expected));
		}
	}
	/* a closed connection is temporary whatever the last SQLSTATE said */
	assert_int_equal(pgconn_classify("22P02", true), CL_ERR_TEMPORARY);
	assert_int_equal(pgconn_classify("", true), CL_ERR_TEMPORARY);
	assert_int_equal(pgconn_classify(NULL, false), CL_ERR_INTERNAL);
	assert_int_equal(cl_error_exit_code(pgconn_classify("08006", false)), 75);
	assert_int_equal(cl_error_exit_code(pgconn_classify("23505", false)), 65);
	assert_int_equal(cl_error_exit_code(pgconn_classify("42P01", false)), 70);

	assert_true(pgconn_state_is_connection_error("08003"));
	assert_true(pgconn_state_is_connection_error("57P02"));
	assert_false(pgconn_state_is_connection_error("57014"));
	assert_false(pgconn_state_is_connection_error(NULL));
}

static void
test_load_pgconn_error_class_uses_recorded_state(void **state)
{
	PgConn pg;

	(void) state;
	pgconn_init(&pg);
	/* no connection at all counts as lost */
	pgconn_record_client_error(&pg);
	assert_true(pg.connection_lost);
	assert_int_equal(pgconn_error_class(&pg), CL_ERR_TEMPORARY);
	pgconn_clear_error(&pg);
	assert_false(pg.connection_lost);
	assert_string_equal(pg.sqlstate, "");
	(void) memcpy(pg.sqlstate, "23505", 6);
	assert_int_equal(pgconn_error_class(&pg), CL_ERR_DATA);
	pgconn_close(&pg);
	pgconn_close(&pg);
}

static void
test_load_pgconn_builds_options(void **state)
{
	char buf[256];
	char tiny[16];

	(void) state;
	assert_true(pgconn_build_options(NULL, 0, 0, buf, sizeof(buf)));
	assert_string_equal(buf, "-c statement_timeout=0 -c lock_timeout=0");
	assert_true(pgconn_build_options("", 60000, 5000, buf, sizeof(buf)));
	assert_string_equal(buf, "-c statement_timeout=60000 -c lock_timeout=5000");
	/* the user's PGOPTIONS come first, so ours win where both set one */
	assert_true(pgconn_build_options("-c search_path=x", 1, 2, buf, sizeof(buf)));
	assert_string_equal(buf, "-c search_path=x -c statement_timeout=1 -c lock_timeout=2");
	assert_false(pgconn_build_options(NULL, 0, 0, tiny, sizeof(tiny)));
}

static void
test_load_pgconn_copy_context_line(void **state)
{
	(void) state;
	assert_int_equal(loader_context_line("COPY load_deals, line 3, column amount: \"x\""), 3);
	assert_int_equal(loader_context_line("COPY load_attribution_daily, line 12345"), 12345);
	assert_int_equal(loader_context_line("COPY load_leads, line 7: \"L1\thubspot\""), 7);
	assert_int_equal(loader_context_line("PL/pgSQL function f() line 3 at RAISE"), 0);
	assert_int_equal(loader_context_line("COPY load_leads"), 0);
	assert_int_equal(loader_context_line(""), 0);
	assert_int_equal(loader_context_line(NULL), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_pgconn_classifies_sqlstates),
		cmocka_unit_test(test_load_pgconn_error_class_uses_recorded_state),
		cmocka_unit_test(test_load_pgconn_builds_options),
		cmocka_unit_test(test_load_pgconn_copy_context_line),
	};

	log_set_level(LOG_FATAL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
