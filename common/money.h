/*
 * money.h: money as integer minor units of an ISO 4217 currency.
 * No floating point is used anywhere in this module.
 */
#ifndef CL_MONEY_H
#define CL_MONEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* currency_exponent: the number of minor-unit digits (USD 2, JPY 0, KWD 3).
 * Returns -1 for a code that is not three upper-case ASCII letters;
 * codes not in the exception table have exponent 2. */
int currency_exponent(const char *code);
bool currency_valid(const char *code);

/*
 * money_parse converts a plain decimal string ("1234.5", "-0.05", "17")
 * into minor units of currency. Rejected: exponents ("1e3"), leading '+',
 * spaces, empty strings, thousands separators, more fraction digits than
 * the currency has (unless the extra digits are zeros), overflow of int64.
 */
bool money_parse(const char *s, const char *currency, int64_t *minor);

/*
 * money_parse_rounded is money_parse that rounds surplus fraction digits
 * half away from zero instead of rejecting them (vendors that report
 * computed amounts such as "12.3456").
 */
bool money_parse_rounded(const char *s, const char *currency, int64_t *minor);

/* money_from_micros: micro-units (Google Ads cost_micros) to minor units,
 * rounded half away from zero. */
bool money_from_micros(int64_t micros, const char *currency, int64_t *minor);

/* money_format writes minor units as a decimal with the currency's
 * digits ("1234.50", "-0.05", "1500" for JPY) into buf (at least
 * CL_MONEY_BUFSIZE bytes). Returns buf. */
#define CL_MONEY_BUFSIZE 32
char *money_format(int64_t minor, int exponent, char *buf);

/* Checked arithmetic: false on overflow. */
bool money_add(int64_t a, int64_t b, int64_t *out);
bool money_mul(int64_t a, int64_t b, int64_t *out);

#endif
