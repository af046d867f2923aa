#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "money.h"

static int64_t
parse_ok(const char *s, const char *cur)
{
	int64_t v = 0;

	if (!money_parse(s, cur, &v))
		fail_msg("money_parse rejected \"%s\" %s", s, cur);
	return v;
}

static int64_t
rounded_ok(const char *s, const char *cur)
{
	int64_t v = 0;

	if (!money_parse_rounded(s, cur, &v))
		fail_msg("money_parse_rounded rejected \"%s\" %s", s, cur);
	return v;
}

static void
assert_parse_rejected(const char *s, const char *cur)
{
	int64_t v = 777;

	if (money_parse(s, cur, &v))
		fail_msg("money_parse accepted \"%s\" %s", s != NULL ? s : "(null)",
				 cur != NULL ? cur : "(null)");
	assert_int_equal(v, 777);
}

static void
assert_rounded_rejected(const char *s, const char *cur)
{
	int64_t v = 777;

	if (money_parse_rounded(s, cur, &v))
		fail_msg("money_parse_rounded accepted \"%s\" %s", s, cur);
	assert_int_equal(v, 777);
}

static void
test_money_currency_exponent(void **state)
{
	static const char *const zero[] = {
		"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG",
		"RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF",
	};
	static const char *const three[] = {
		"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND",
	};

	(void) state;
	for (size_t i = 0; i < sizeof(zero) / sizeof(zero[0]); i++)
		assert_int_equal(currency_exponent(zero[i]), 0);
	for (size_t i = 0; i < sizeof(three) / sizeof(three[0]); i++)
		assert_int_equal(currency_exponent(three[i]), 3);
	assert_int_equal(currency_exponent("CLF"), 4);
	assert_int_equal(currency_exponent("UYW"), 4);
	assert_int_equal(currency_exponent("USD"), 2);
	assert_int_equal(currency_exponent("EUR"), 2);
	assert_int_equal(currency_exponent("GBP"), 2);
	assert_int_equal(currency_exponent("ZZZ"), 2);

	assert_int_equal(currency_exponent("usd"), -1);
	assert_int_equal(currency_exponent("Usd"), -1);
	assert_int_equal(currency_exponent("US"), -1);
	assert_int_equal(currency_exponent("USDX"), -1);
	assert_int_equal(currency_exponent("US1"), -1);
	assert_int_equal(currency_exponent(""), -1);
	assert_int_equal(currency_exponent(NULL), -1);
	assert_true(currency_valid("JPY"));
	assert_false(currency_valid("jpy"));
	assert_false(currency_valid(NULL));
}

static void
test_money_parse_valid(void **state)
{
	(void) state;
	assert_int_equal(parse_ok("1234.5", "USD"), 123450);
	assert_int_equal(parse_ok("1234.50", "USD"), 123450);
	assert_int_equal(parse_ok("-0.05", "USD"), -5);
	assert_int_equal(parse_ok("17", "USD"), 1700);
	assert_int_equal(parse_ok("0", "USD"), 0);
	assert_int_equal(parse_ok("-0", "USD"), 0);
	assert_int_equal(parse_ok("0.00", "EUR"), 0);
	assert_int_equal(parse_ok("007.10", "USD"), 710);
	/* surplus fraction digits are fine when they are zeros */
	assert_int_equal(parse_ok("12.340000", "USD"), 1234);
	assert_int_equal(parse_ok("1500", "JPY"), 1500);
	assert_int_equal(parse_ok("1500.000", "JPY"), 1500);
	assert_int_equal(parse_ok("1.234", "KWD"), 1234);
	assert_int_equal(parse_ok("-1.2", "KWD"), -1200);
	assert_int_equal(parse_ok("1.2345", "CLF"), 12345);
	/* the int64 limits themselves */
	assert_int_equal(parse_ok("92233720368547758.07", "USD"), INT64_MAX);
	assert_int_equal(parse_ok("-92233720368547758.08", "USD"), INT64_MIN);
	assert_int_equal(parse_ok("9223372036854775807", "JPY"), INT64_MAX);
	assert_int_equal(parse_ok("-9223372036854775808", "JPY"), INT64_MIN);
}

static void
test_money_parse_rejects(void **state)
{
	static const char *const bad[] = {
		"", ".", "-", "+1", " 1", "1 ", "1,000", "1,5", "0x10", "1e3", "1E3",
		"--1", "-+1", "1-", "1.2.3", ".5", "5.", "-.5", "1..2", "1.-2", "NaN",
		"inf", "\xd9\xa1",      /* ARABIC-INDIC DIGIT ONE */
		"12.345",               /* more digits than USD has */
		"0.001",
		"92233720368547758.08", /* INT64_MAX + 1 */
		"-92233720368547758.09",
		"100000000000000000000",
		"99999999999999999999999999999999.99",
	};

	(void) state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_parse_rejected(bad[i], "USD");
	assert_parse_rejected("1500.5", "JPY");
	assert_parse_rejected("1.2345", "KWD");
	assert_parse_rejected("9223372036854775808", "JPY");
	assert_parse_rejected("1", "usd");
	assert_parse_rejected("1", NULL);
	assert_parse_rejected(NULL, "USD");
}

static void
test_money_parse_rounded_half_away_from_zero(void **state)
{
	(void) state;
	assert_int_equal(rounded_ok("12.345", "USD"), 1235);
	assert_int_equal(rounded_ok("12.344999", "USD"), 1234);
	assert_int_equal(rounded_ok("12.3456", "USD"), 1235);
	assert_int_equal(rounded_ok("0.005", "USD"), 1);
	assert_int_equal(rounded_ok("0.004999", "USD"), 0);
	assert_int_equal(rounded_ok("-0.005", "USD"), -1);
	assert_int_equal(rounded_ok("-0.0049", "USD"), 0);
	assert_int_equal(rounded_ok("-12.345", "USD"), -1235);
	assert_int_equal(rounded_ok("0.995", "USD"), 100);
	assert_int_equal(rounded_ok("1234.5", "USD"), 123450);
	assert_int_equal(rounded_ok("1500.5", "JPY"), 1501);
	assert_int_equal(rounded_ok("1500.49", "JPY"), 1500);
	assert_int_equal(rounded_ok("-1500.5", "JPY"), -1501);
	assert_int_equal(rounded_ok("1.2345", "KWD"), 1235);
	/* the limits: rounding must not overflow either */
	assert_int_equal(rounded_ok("92233720368547758.074", "USD"), INT64_MAX);
	assert_rounded_rejected("92233720368547758.075", "USD");
	assert_int_equal(rounded_ok("-92233720368547758.084", "USD"), INT64_MIN);
	assert_rounded_rejected("-92233720368547758.085", "USD");
	/* rounding does not relax the grammar */
	assert_rounded_rejected("1e3", "USD");
	assert_rounded_rejected("+1.005", "USD");
	assert_rounded_rejected(" 1.005", "USD");
	assert_rounded_rejected("1.", "USD");
	assert_rounded_rejected("", "USD");
	assert_rounded_rejected("1.005", "XX");
}

static void
test_money_from_micros(void **state)
{
	int64_t v = 0;

	(void) state;
	assert_true(money_from_micros(1061083620, "USD", &v));
	assert_int_equal(v, 106108);
	assert_true(money_from_micros(1005000, "USD", &v));     /* 100.5 cents */
	assert_int_equal(v, 101);
	assert_true(money_from_micros(1004999, "USD", &v));
	assert_int_equal(v, 100);
	assert_true(money_from_micros(-1005000, "USD", &v));
	assert_int_equal(v, -101);
	assert_true(money_from_micros(-1004999, "USD", &v));
	assert_int_equal(v, -100);
	assert_true(money_from_micros(0, "USD", &v));
	assert_int_equal(v, 0);
	assert_true(money_from_micros(4999, "USD", &v));
	assert_int_equal(v, 0);
	assert_true(money_from_micros(1500500000, "JPY", &v));
	assert_int_equal(v, 1501);
	assert_true(money_from_micros(1500499999, "JPY", &v));
	assert_int_equal(v, 1500);
	assert_true(money_from_micros(1234500, "KWD", &v));
	assert_int_equal(v, 1235);
	assert_true(money_from_micros(1234549, "CLF", &v));
	assert_int_equal(v, 12345);
	assert_true(money_from_micros(1234550, "CLF", &v));
	assert_int_equal(v, 12346);
	/* the extremes stay exact: no intermediate overflow */
	assert_true(money_from_micros(INT64_MAX, "USD", &v));
	assert_int_equal(v, INT64_C(922337203685478));      /* ...4775807 / 10^4 */
	assert_true(money_from_micros(INT64_MIN, "USD", &v));
	assert_int_equal(v, INT64_C(-922337203685478));
	assert_true(money_from_micros(INT64_MIN, "JPY", &v));
	assert_int_equal(v, INT64_C(-9223372036855));       /* .775808 rounds away */

	v = 9;
	assert_false(money_from_micros(1, "usd", &v));
	assert_int_equal(v, 9);
}

static void
test_money_format(void **state)
{
	char buf[CL_MONEY_BUFSIZE];

	(void) state;
	assert_string_equal(money_format(123450, 2, buf), "1234.50");
	assert_string_equal(money_format(-5, 2, buf), "-0.05");
	assert_string_equal(money_format(0, 2, buf), "0.00");
	assert_string_equal(money_format(1500, 0, buf), "1500");
	assert_string_equal(money_format(-1500, 0, buf), "-1500");
	assert_string_equal(money_format(0, 0, buf), "0");
	assert_string_equal(money_format(1234, 3, buf), "1.234");
	assert_string_equal(money_format(5, 4, buf), "0.0005");
	assert_string_equal(money_format(-100, 2, buf), "-1.00");
	assert_string_equal(money_format(INT64_MAX, 2, buf), "92233720368547758.07");
	assert_string_equal(money_format(INT64_MIN, 2, buf), "-92233720368547758.08");
	assert_string_equal(money_format(INT64_MIN, 0, buf), "-9223372036854775808");
	assert_string_equal(money_format(INT64_MIN, 18, buf), "-9.223372036854775808");
	assert_string_equal(money_format(1, 18, buf), "0.000000000000000001");
	assert_string_equal(money_format(333333333333, 12, buf), "0.333333333333");
}

static void
test_money_format_parse_round_trip(void **state)
{
	static const char *const currencies[] = {"USD", "JPY", "KWD", "CLF"};
	char buf[CL_MONEY_BUFSIZE];
	uint64_t x = 7;

	(void) state;
	for (int i = 0; i < 40000; i++)
	{
		const char *cur = currencies[i % 4];
		int64_t v;
		int64_t back = 0;

		x = x * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
		/* vary the magnitude as well as the digits */
		v = (int64_t) (x >> (x % 64));
		if ((x & 1) && v != INT64_MIN)
			v = -v;
		(void) money_format(v, currency_exponent(cur), buf);
		if (!money_parse(buf, cur, &back) || back != v)
			fail_msg("round trip of %lld %s via \"%s\" failed", (long long) v,
					 cur, buf);
	}
}

static void
test_money_checked_arithmetic(void **state)
{
	int64_t v = 5;

	(void) state;
	assert_true(money_add(INT64_MAX - 1, 1, &v));
	assert_int_equal(v, INT64_MAX);
	v = 5;
	assert_false(money_add(INT64_MAX, 1, &v));
	assert_int_equal(v, 5);
	assert_false(money_add(INT64_MIN, -1, &v));
	assert_true(money_add(-3, 2, &v));
	assert_int_equal(v, -1);
	assert_true(money_mul(INT64_C(3037000499), INT64_C(3037000499), &v));
	assert_int_equal(v, INT64_C(9223372030926249001));
	v = 5;
	assert_false(money_mul(INT64_C(3037000500), INT64_C(3037000500), &v));
	assert_int_equal(v, 5);
	assert_false(money_mul(INT64_MIN, -1, &v));
	assert_true(money_mul(-4, 25, &v));
	assert_int_equal(v, -100);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_money_currency_exponent),
		cmocka_unit_test(test_money_parse_valid),
		cmocka_unit_test(test_money_parse_rejects),
		cmocka_unit_test(test_money_parse_rounded_half_away_from_zero),
		cmocka_unit_test(test_money_from_micros),
		cmocka_unit_test(test_money_format),
		cmocka_unit_test(test_money_format_parse_round_trip),
		cmocka_unit_test(test_money_checked_arithmetic),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
