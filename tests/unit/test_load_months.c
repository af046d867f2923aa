/*
 * test_load_months.c: how a load window is cut into the monthly partitions
 * of attribution_credit (load/loader.c plan_months): which months, the
 * part of each that the window covers, and whether it covers all of it
 * (then the old month is dropped whole; otherwise its rows outside the
 * window are carried over). Also the line number read from a COPY error.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../load/loader.c"

static ClDate
day(const char *text)
{
	ClDate d = 0;

	assert_true(date_parse(text, &d));
	return d;
}

static void
assert_month(const MonthPart *p, const char *suffix, const char *month_from,
			 const char *month_to, const char *load_from, const char *load_to, bool whole)
{
	assert_string_equal(p->suffix, suffix);
	assert_string_equal(p->month_from, month_from);
	assert_string_equal(p->month_to, month_to);
	assert_string_equal(p->load_from, load_from);
	assert_string_equal(p->load_to, load_to);
	assert_int_equal(p->whole, whole);
}

static void
test_load_months_partial_window(void **state)
{
	const LoadTable *t = catalog_find("attribution_credit");
	MonthPart *parts = NULL;
	size_t n = 0;

	(void) state;
	assert_true(plan_months(t, day("2026-01-16"), day("2026-02-14"), &parts, &n));
	assert_int_equal(n, 2);
	assert_month(&parts[0], "2026_01", "2026-01-01", "2026-02-01", "2026-01-16", "2026-02-01", false);
	assert_month(&parts[1], "2026_02", "2026-02-01", "2026-03-01", "2026-02-01", "2026-02-15", false);
	assert_ptr_equal(parts[0].table, t);
	free(parts);
}

static void
test_load_months_whole_months_across_a_year(void **state)
{
	const LoadTable *t = catalog_find("attribution_credit");
	MonthPart *parts = NULL;
	size_t n = 0;

	(void) state;
	assert_true(plan_months(t, day("2025-12-01"), day("2026-02-28"), &parts, &n));
	assert_int_equal(n, 3);
	assert_month(&parts[0], "2025_12", "2025-12-01", "2026-01-01", "2025-12-01", "2026-01-01", true);
	assert_month(&parts[1], "2026_01", "2026-01-01", "2026-02-01", "2026-01-01", "2026-02-01", true);
	assert_month(&parts[2], "2026_02", "2026-02-01", "2026-03-01", "2026-02-01", "2026-03-01", true);
	free(parts);

	/* a leap February ends on the 29th: the 28th leaves one day uncovered */
	assert_true(plan_months(t, day("2028-02-01"), day("2028-02-28"), &parts, &n));
	assert_int_equal(n, 1);
	assert_month(&parts[0], "2028_02", "2028-02-01", "2028-03-01", "2028-02-01", "2028-02-29", false);
	free(parts);
}

static void
test_load_months_single_day_and_limit(void **state)
{
	const LoadTable *t = catalog_find("attribution_credit");
	MonthPart *parts = NULL;
	size_t n = 0;

	(void) state;
	assert_true(plan_months(t, day("2026-03-31"), day("2026-03-31"), &parts, &n));
	assert_int_equal(n, 1);
	assert_month(&parts[0], "2026_03", "2026-03-01", "2026-04-01", "2026-03-31", "2026-04-01", false);
	free(parts);

	/* a hundred years fit, a window of more is refused rather than planned */
	assert_true(plan_months(t, day("1950-01-01"), day("2049-12-31"), &parts, &n));
	assert_int_equal(n, MONTHS_MAX);
	free(parts);
	assert_false(plan_months(t, day("1950-01-01"), day("2050-01-01"), &parts, &n));
	assert_null(parts);
	assert_int_equal(n, 0);
}

static void
test_load_months_context_line(void **state)
{
	(void) state;
	assert_int_equal(loader_context_line("COPY attribution_credit_load, line 2: \"linear\t...\""), 2);
	assert_int_equal(loader_context_line("COPY load_deals, line 17, column amount: \"x\""), 17);
	assert_int_equal(loader_context_line("SQL statement \"...\""), 0);
	assert_int_equal(loader_context_line("COPY load_deals, line 0"), 0);
	assert_int_equal(loader_context_line(NULL), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_months_partial_window),
		cmocka_unit_test(test_load_months_whole_months_across_a_year),
		cmocka_unit_test(test_load_months_single_day_and_limit),
		cmocka_unit_test(test_load_months_context_line),
	};

	log_set_level(LOG_FATAL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
