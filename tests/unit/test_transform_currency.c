/*
 * test_transform_currency.c: the rates file and exact conversion into the
 * reporting currency.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "currency.h"
#include "log.h"
#include "support.h"

typedef struct Fixture
{
	char *dir;
	char *path;
	RateTable *rates;
} Fixture;

static int
setup(void **state)
{
	Fixture *f = calloc(1, sizeof(Fixture));
	size_t n;

	assert_non_null(f);
	log_set_level(LOG_FATAL);
	f->dir = ts_make_tmpdir("transform-currency");
	n = strlen(f->dir) + 16;
	f->path = malloc(n);
	assert_non_null(f->path);
	snprintf(f->path, n, "%s/rates.csv", f->dir);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	Fixture *f = *state;

	rates_free(f->rates);
	ts_rmdir_r(f->dir);
	free(f->dir);
	free(f->path);
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

static void
test_transform_currency_parse_decimal(void **state)
{
	int64_t m = 0;
	int scale = 0;

	(void) state;
	assert_true(rates_parse_decimal("1.0835", &m, &scale));
	assert_int_equal(m, 10835);
	assert_int_equal(scale, 4);
	assert_true(rates_parse_decimal("0.0066", &m, &scale));
	assert_int_equal(m, 66);
	assert_int_equal(scale, 4);
	assert_true(rates_parse_decimal("150", &m, &scale));
	assert_int_equal(m, 150);
	assert_int_equal(scale, 0);
	assert_true(rates_parse_decimal("0.000000000000000001", &m, &scale));
	assert_int_equal(m, 1);
	assert_int_equal(scale, 18);
	assert_false(rates_parse_decimal("", &m, &scale));
	assert_false(rates_parse_decimal("0", &m, &scale));
	assert_false(rates_parse_decimal("0.000", &m, &scale));
	assert_false(rates_parse_decimal("-1.2", &m, &scale));
	assert_false(rates_parse_decimal("+1.2", &m, &scale));
	assert_false(rates_parse_decimal("1e3", &m, &scale));
	assert_false(rates_parse_decimal("1.", &m, &scale));
	assert_false(rates_parse_decimal(".5", &m, &scale));
	assert_false(rates_parse_decimal("1.2.3", &m, &scale));
	assert_false(rates_parse_decimal("1,5", &m, &scale));
	assert_false(rates_parse_decimal("1234567890.123456789", &m, &scale));
}

/* Exact products, rounded half away from zero once, at the end. */
static void
test_transform_currency_convert_exact(void **state)
{
	int64_t out = 0;

	(void) state;
	/* 1000 JPY at 0.0066 USD = 6.60 USD */
	assert_true(currency_convert_at(1000, 0, 66, 4, 2, &out));
	assert_int_equal(out, 660);
	/* 1.000 KWD at 3.25 = 3.25 USD */
	assert_true(currency_convert_at(1000, 3, 325, 2, 2, &out));
	assert_int_equal(out, 325);
	/* 1.00 USD at 150 JPY per USD = 150 JPY (a reporting currency without decimals) */
	assert_true(currency_convert_at(100, 2, 150, 0, 0, &out));
	assert_int_equal(out, 150);
	/* 12 JPY at 0.0067 = 0.0804 USD: rounds to 0.08 */
	assert_true(currency_convert_at(12, 0, 67, 4, 2, &out));
	assert_int_equal(out, 8);
	/* 0.01 EUR at 1.5 = 0.015: half away from zero, both signs */
	assert_true(currency_convert_at(1, 2, 15, 1, 2, &out));
	assert_int_equal(out, 2);
	assert_true(currency_convert_at(-1, 2, 15, 1, 2, &out));
	assert_int_equal(out, -2);
	/* 0.0149 -> 0.01 */
	assert_true(currency_convert_at(1, 2, 149, 2, 2, &out));
	assert_int_equal(out, 1);
	/* 1 JPY at 1 USD per JPY into KWD-like 3 decimals: multiply, no rounding */
	assert_true(currency_convert_at(1, 0, 1, 0, 3, &out));
	assert_int_equal(out, 1000);
	/* too large for 64 bits */
	assert_false(currency_convert_at(INT64_MAX, 0, 1000, 0, 2, &out));
	assert_false(currency_convert_at(100, 2, 0, 0, 2, &out));
}

static void
test_transform_currency_latest_rate_on_or_before(void **state)
{
	Fixture *f = *state;
	Converter c = { NULL, "USD", 2 };
	ClError err = CL_OK;
	int64_t out = 0;
	bool found = false;

	ts_write_file(f->path, "date,currency,rate\r\n"
				  "2026-03-09,EUR,1.0835\n"
				  "\n"
				  " 2026-03-01 , EUR , 1.05 \n"
				  "2026-03-11,EUR,2\n"
				  "2026-03-01,GBP,1.25\n");
	assert_true(rates_load(f->path, &f->rates, &err));
	assert_int_equal(f->rates->n, 4);
	c.rates = f->rates;

	assert_true(currency_convert(&c, 10000, "EUR", day("2026-03-01"), &out, &err));
	assert_int_equal(out, 10500);
	assert_true(currency_convert(&c, 10000, "EUR", day("2026-03-10"), &out, &err));
	assert_int_equal(out, 10835);
	assert_true(currency_convert(&c, 10000, "EUR", day("2026-03-11"), &out, &err));
	assert_int_equal(out, 20000);
	assert_true(currency_convert(&c, 10000, "GBP", day("2030-01-01"), &out, &err));
	assert_int_equal(out, 12500);
	/* the reporting currency needs no rate */
	assert_true(currency_convert(&c, 123, "USD", day("2000-01-01"), &out, &err));
	assert_int_equal(out, 123);

	/* before the first rate, and a currency without rates */
	assert_true(currency_try_convert(&c, 100, "EUR", day("2026-02-28"), &found, &out, &err));
	assert_false(found);
	assert_false(currency_convert(&c, 100, "EUR", day("2026-02-28"), &out, &err));
	assert_int_equal(err, CL_ERR_DATA);
	err = CL_OK;
	assert_false(currency_convert(&c, 100, "CHF", day("2026-03-10"), &out, &err));
	assert_int_equal(err, CL_ERR_DATA);
}

static void
load_fails(Fixture *f, const char *text, ClError expected)
{
	ClError err = CL_OK;
	RateTable *t = NULL;

	ts_write_file(f->path, text);
	assert_false(rates_load(f->path, &t, &err));
	assert_null(t);
	assert_int_equal(err, expected);
}

static void
test_transform_currency_bad_rates_files(void **state)
{
	Fixture *f = *state;
	ClError err = CL_OK;
	RateTable *t = NULL;

	load_fails(f, "currency,date,rate\n2026-03-01,EUR,1.1\n", CL_ERR_DATA);
	load_fails(f, "date,currency,rate\n2026-03-01,EUR\n", CL_ERR_DATA);
	load_fails(f, "date,currency,rate\n2026-02-30,EUR,1.1\n", CL_ERR_DATA);
	load_fails(f, "date,currency,rate\n2026-03-01,eur,1.1\n", CL_ERR_DATA);
	load_fails(f, "date,currency,rate\n2026-03-01,EUR,-1.1\n", CL_ERR_DATA);
	load_fails(f, "date,currency,rate\n2026-03-01,EUR,1.1\n2026-03-01,EUR,1.2\n", CL_ERR_DATA);
	assert_false(rates_load("/nonexistent/rates.csv", &t, &err));
	assert_int_equal(err, CL_ERR_CONFIG);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transform_currency_parse_decimal),
		cmocka_unit_test(test_transform_currency_convert_exact),
		cmocka_unit_test_setup_teardown(test_transform_currency_latest_rate_on_or_before, setup,
										teardown),
		cmocka_unit_test_setup_teardown(test_transform_currency_bad_rates_files, setup,
										teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
