/*
 * money.c: ISO 4217 minor units with exact integer arithmetic.
 *
 * Magnitudes are accumulated as uint64_t and the sign applied last, so that
 * INT64_MIN (whose magnitude has no int64 representation) parses and
 * formats like every other value.
 *
 * Parsers do not log: they return false and the caller, which knows the
 * vendor, record and field, reports the bad value.
 */
#include <string.h>

#include "money.h"

/* Formatting supports this many fraction digits: 10^18 is the largest
 * power of ten below INT64_MAX, and copy_decimal needs 12. */
#define MONEY_MAX_EXPONENT 18

/* |INT64_MIN|, the largest magnitude a negative amount may have. */
#define MAG_INT64_MIN ((uint64_t) INT64_MAX + 1)

typedef struct CurrencyExponent
{
	const char code[4];
	int exponent;
} CurrencyExponent;

/*
 * The ISO 4217 currencies whose minor unit is not 2 digits (list one,
 * current as of amendment 176). Every other well-formed code is taken as 2
 * digits: that is right for almost all currencies, and the few funds and
 * metals codes without a minor unit (XAU, XDR, ...) are not money that
 * vendors bill in.
 */
static const CurrencyExponent exponent_table[] = {
	{"BHD", 3}, {"BIF", 0}, {"CLF", 4}, {"CLP", 0}, {"DJF", 0},
	{"GNF", 0}, {"IQD", 3}, {"ISK", 0}, {"JOD", 3}, {"JPY", 0},
	{"KMF", 0}, {"KRW", 0}, {"KWD", 3}, {"LYD", 3}, {"OMR", 3},
	{"PYG", 0}, {"RWF", 0}, {"TND", 3}, {"UGX", 0}, {"UYI", 0},
	{"UYW", 4}, {"VND", 0}, {"VUV", 0}, {"XAF", 0}, {"XOF", 0},
	{"XPF", 0},
};

static const uint64_t pow10_table[MONEY_MAX_EXPONENT + 1] = {
	UINT64_C(1), UINT64_C(10), UINT64_C(100), UINT64_C(1000),
	UINT64_C(10000), UINT64_C(100000), UINT64_C(1000000),
	UINT64_C(10000000), UINT64_C(100000000), UINT64_C(1000000000),
	UINT64_C(10000000000), UINT64_C(100000000000),
	UINT64_C(1000000000000), UINT64_C(10000000000000),
	UINT64_C(100000000000000), UINT64_C(1000000000000000),
	UINT64_C(10000000000000000), UINT64_C(100000000000000000),
	UINT64_C(1000000000000000000),
};

/*
 * currency_exponent returns the minor-unit digits of code, or -1 when code
 * is not three upper-case ASCII letters.
 */
int
currency_exponent(const char *code)
{
	if (code == NULL)
		return -1;
	for (int i = 0; i < 3; i++)
	{
		if (code[i] < 'A' || code[i] > 'Z')
			return -1;
	}
	if (code[3] != '\0')
		return -1;
	for (size_t i = 0; i < sizeof(exponent_table) / sizeof(exponent_table[0]); i++)
	{
		if (memcmp(exponent_table[i].code, code, 3) == 0)
			return exponent_table[i].exponent;
	}
	return 2;
}

bool
currency_valid(const char *code)
{
	return currency_exponent(code) >= 0;
}

/*
 * mag_push_digit appends one decimal digit to *mag; false when the result
 * would exceed limit.
 */
static bool
mag_push_digit(uint64_t *mag, int digit, uint64_t limit)
{
	if (*mag > (limit - (uint64_t) digit) / 10)
		return false;
	*mag = *mag * 10 + (uint64_t) digit;
	return true;
}

/*
 * parse_amount implements money_parse and money_parse_rounded. The grammar
 * is '-'? DIGIT+ ('.' DIGIT+)?: no '+', no whitespace, no exponent, no
 * separators, and no bare "." / ".5" / "5." (vendors that send those send
 * something else we do not understand either). Surplus fraction digits are
 * accepted when they are zeros; otherwise they are rejected, or with round
 * set, rounded half away from zero, which for the magnitude means "round
 * up when the first surplus digit is 5 or more".
 */
static bool
parse_amount(const char *s, const char *currency, bool round, int64_t *minor)
{
	int exponent = currency_exponent(currency);
	bool negative = false;
	uint64_t mag = 0;
	uint64_t limit;
	const char *p = s;
	int frac_digits = 0;
	bool round_up = false;

	if (s == NULL || minor == NULL || exponent < 0)
		return false;
	if (*p == '-')
	{
		negative = true;
		p++;
	}
	limit = negative ? MAG_INT64_MIN : (uint64_t) INT64_MAX;

	if (*p < '0' || *p > '9')
		return false;
	while (*p >= '0' && *p <= '9')
	{
		if (!mag_push_digit(&mag, *p - '0', limit))
			return false;
		p++;
	}

	if (*p == '.')
	{
		p++;
		if (*p < '0' || *p > '9')
			return false;
		while (*p >= '0' && *p <= '9')
		{
			if (frac_digits < exponent)
			{
				if (!mag_push_digit(&mag, *p - '0', limit))
					return false;
			}
			else if (frac_digits == exponent && round)
			{
				round_up = *p >= '5';
			}
			else if (*p != '0' && !round)
			{
				return false;
			}
			frac_digits++;
			p++;
		}
	}
	if (*p != '\0')
		return false;

	for (int i = frac_digits; i < exponent; i++)
	{
		if (!mag_push_digit(&mag, 0, limit))
			return false;
	}
	if (round_up)
	{
		if (mag == limit)
			return false;
		mag++;
	}

	if (negative)
		*minor = mag == MAG_INT64_MIN ? INT64_MIN : -(int64_t) mag;
	else
		*minor = (int64_t) mag;
	return true;
}

bool
money_parse(const char *s, const char *currency, int64_t *minor)
{
	return parse_amount(s, currency, false, minor);
}

bool
money_parse_rounded(const char *s, const char *currency, int64_t *minor)
{
	return parse_amount(s, currency, true, minor);
}

/*
 * money_from_micros scales micro-units (10^-6) to the currency's minor
 * units. With an exponent below 6 this is a division whose remainder
 * decides the rounding (C division truncates towards zero, so the quotient
 * only ever moves away from zero); above 6 it is a checked multiplication.
 */
bool
money_from_micros(int64_t micros, const char *currency, int64_t *minor)
{
	int exponent = currency_exponent(currency);

	if (exponent < 0 || minor == NULL)
		return false;
	if (exponent >= 6)
	{
		int64_t factor = (int64_t) pow10_table[exponent - 6];

		return money_mul(micros, factor, minor);
	}

	int64_t divisor = (int64_t) pow10_table[6 - exponent];
	int64_t q = micros / divisor;
	int64_t r = micros % divisor;

	/* |r| < divisor <= 10^6, so neither negation nor doubling overflows */
	if (r < 0 && -r * 2 >= divisor)
		q--;
	else if (r > 0 && r * 2 >= divisor)
		q++;
	*minor = q;
	return true;
}

/*
 * money_format writes minor / 10^exponent in plain decimal notation.
 * exponent comes from currency_exponent() (0..4) or a caller's fixed
 * scale; values outside 0..18 are clamped, which keeps the output within
 * CL_MONEY_BUFSIZE.
 */
char *
money_format(int64_t minor, int exponent, char *buf)
{
	char digits[24];
	int ndigits = 0;
	uint64_t mag;
	size_t pos = 0;

	if (exponent < 0)
		exponent = 0;
	if (exponent > MONEY_MAX_EXPONENT)
		exponent = MONEY_MAX_EXPONENT;

	mag = minor < 0 ? (uint64_t) -(minor + 1) + 1 : (uint64_t) minor;
	do
	{
		digits[ndigits++] = (char) ('0' + mag % 10);
		mag /= 10;
	} while (mag != 0);
	/* leading zeros so that at least one digit precedes the point */
	while (ndigits <= exponent)
		digits[ndigits++] = '0';

	/* ndigits <= 19 (|INT64_MIN| has 19 digits, exponent + 1 <= 19), so the
	 * output is at most sign, 19 digits, point and NUL: 22 bytes */
	if (minor < 0)
		buf[pos++] = '-';
	for (int i = ndigits - 1; i >= 0; i--)
	{
		buf[pos++] = digits[i];
		if (i == exponent && exponent > 0)
			buf[pos++] = '.';
	}
	buf[pos] = '\0';
	return buf;
}

/*
 * money_add and money_mul leave *out untouched on overflow, so a caller
 * that ignores the result cannot pick up a wrapped value by accident.
 */
bool
money_add(int64_t a, int64_t b, int64_t *out)
{
	int64_t r;

	if (__builtin_add_overflow(a, b, &r))
		return false;
	*out = r;
	return true;
}

bool
money_mul(int64_t a, int64_t b, int64_t *out)
{
	int64_t r;

	if (__builtin_mul_overflow(a, b, &r))
		return false;
	*out = r;
	return true;
}
