/*
 * currency.h: converting amounts into the reporting currency.
 *
 * Rates come from [pipeline] rates_file, a CSV file with the header
 * "date,currency,rate": rate is how many units of the reporting currency
 * one unit of currency bought on date, as a plain decimal string. An
 * amount is converted with the rate of the latest date on or before the
 * amount's date, in exact integer arithmetic, rounding the converted total
 * half away from zero to the reporting currency's minor unit. An amount
 * already in the reporting currency needs no rate.
 */
#ifndef CL_CURRENCY_H
#define CL_CURRENCY_H

#include <stdbool.h>
#include <stdint.h>

#include "exitcode.h"
#include "timeutil.h"

typedef struct Rate
{
	char currency[4];
	ClDate date;
	int64_t mantissa;       /* rate = mantissa / 10^scale, > 0 */
	int scale;
} Rate;

typedef struct RateTable
{
	char *path;             /* owned, for messages */
	Rate *rates;            /* owned, sorted by (currency, date) */
	size_t n;
} RateTable;

/*
 * rates_load reads path into *out (ALLOCATED; free with rates_free()).
 * An unreadable file is CL_ERR_CONFIG; a malformed line or a currency
 * listed twice for one date is CL_ERR_DATA, logged with file and line.
 */
bool rates_load(const char *path, RateTable **out, ClError *err);
void rates_free(RateTable *t);    /* NULL-safe */

/* rates_parse_decimal: a rate string such as "1.0835" (no sign, no
 * exponent, > 0, at most 18 digits). */
bool rates_parse_decimal(const char *s, int64_t *mantissa, int *scale);

typedef struct Converter
{
	const RateTable *rates; /* borrowed; NULL when no rates_file is set */
	const char *reporting;  /* borrowed currency code */
	int reporting_exponent;
} Converter;

/*
 * currency_convert: minor units of currency on date to minor units of the
 * reporting currency. No rate on or before date is CL_ERR_DATA, logged
 * with the currency and date; an amount too large for 64 bits likewise.
 */
bool currency_convert(const Converter *c, int64_t minor, const char *currency, ClDate date,
					  int64_t *out, ClError *err);

/* currency_try_convert: as currency_convert, but a missing rate only sets
 * *found = false. */
bool currency_try_convert(const Converter *c, int64_t minor, const char *currency, ClDate date,
						  bool *found, int64_t *out, ClError *err);

/* currency_convert_at: the conversion itself, exposed for tests. */
bool currency_convert_at(int64_t minor, int from_exponent, int64_t mantissa, int scale,
						 int to_exponent, int64_t *out);

#endif
