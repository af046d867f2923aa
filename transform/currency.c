/*
 * currency.c: the rates table and exact conversion.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "currency.h"
#include "log.h"
#include "money.h"
#include "txutil.h"

__extension__ typedef unsigned __int128 u128;

#define RATE_MAX_DIGITS 18

/*
 * rates_parse_decimal keeps the rate as an exact decimal (mantissa, scale);
 * a double would make conversions depend on binary rounding.
 */
bool
rates_parse_decimal(const char *s, int64_t *mantissa, int *scale)
{
	int64_t m = 0;
	int digits = 0;
	int sc = 0;
	bool point = false;
	bool any = false;

	for (const char *p = s; *p != '\0'; p++)
	{
		if (*p == '.')
		{
			if (point)
				return false;
			point = true;
			continue;
		}
		if (*p < '0' || *p > '9')
			return false;
		any = true;
		if (m == 0 && *p == '0' && !point)
			continue;   /* leading zeros carry nothing */
		if (++digits > RATE_MAX_DIGITS)
			return false;
		m = m * 10 + (*p - '0');
		if (point)
			sc++;
	}
	if (!any || m <= 0 || (point && s[strlen(s) - 1] == '.') || s[0] == '.')
		return false;
	*mantissa = m;
	*scale = sc;
	return true;
}

static int
rate_cmp(const void *a, const void *b)
{
	const Rate *x = a;
	const Rate *y = b;
	int c = strcmp(x->currency, y->currency);

	return c != 0 ? c : TX_CMP(x->date, y->date);
}

/*
 * split_csv splits line into exactly n comma-separated, trimmed fields in
 * place. false when the count differs.
 */
static bool
split_csv(char *line, char **fields, int n)
{
	int nf = 0;
	char *p = line;

	for (;;)
	{
		char *comma = strchr(p, ',');
		size_t start;
		size_t len;

		if (nf == n)
			return false;
		if (comma != NULL)
			*comma = '\0';
		tx_trim(p, strlen(p), &start, &len);
		p[start + len] = '\0';
		fields[nf++] = p + start;
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	return nf == n;
}

/* parse_rate_line: one data line; msg says what is wrong. */
static bool
parse_rate_line(char *line, Rate *r, char *msg, size_t msgsize)
{
	char *f[3];

	if (!split_csv(line, f, 3))
	{
		(void) snprintf(msg, msgsize, "expected 3 comma-separated fields: date,currency,rate");
		return false;
	}
	if (!date_parse(f[0], &r->date))
	{
		(void) snprintf(msg, msgsize, "date \"%.32s\" is not YYYY-MM-DD", f[0]);
		return false;
	}
	if (!currency_valid(f[1]))
	{
		(void) snprintf(msg, msgsize, "currency \"%.32s\" is not an ISO 4217 code", f[1]);
		return false;
	}
	memcpy(r->currency, f[1], 4);
	if (!rates_parse_decimal(f[2], &r->mantissa, &r->scale))
	{
		(void) snprintf(msg, msgsize, "rate \"%.40s\" is not a positive decimal such as 1.0835",
						f[2]);
		return false;
	}
	return true;
}

/*
 * rates_load sorts by (currency, date) so a lookup is one binary search,
 * and refuses two rates for one day rather than pick one silently.
 */
bool
rates_load(const char *path, RateTable **out, ClError *err)
{
	RateTable *t = calloc(1, sizeof(RateTable));
	FILE *fp = NULL;
	char *line = NULL;
	size_t linecap = 0;
	size_t cap = 0;
	ssize_t n;
	long lineno = 0;
	bool header = false;

	*out = NULL;
	*err = CL_ERR_INTERNAL;
	if (t == NULL || (t->path = strdup(path)) == NULL)
	{
		log_error("out of memory loading rates");
		goto fail;
	}
	fp = fopen(path, "r");
	if (fp == NULL)
	{
		log_error("cannot open [pipeline] rates_file %s: %s", path, strerror(errno));
		*err = CL_ERR_CONFIG;
		goto fail;
	}
	while ((n = getline(&line, &linecap, fp)) >= 0)
	{
		char msg[256];
		size_t start;
		size_t len;
		Rate r = { { 0 }, 0, 0, 0 };
		Rate *grown;

		lineno++;
		tx_trim(line, (size_t) n, &start, &len);
		line[start + len] = '\0';
		if (len == 0)
			continue;
		if (!header)
		{
			char *f[3];

			if (!split_csv(line + start, f, 3) || strcmp(f[0], "date") != 0
				|| strcmp(f[1], "currency") != 0 || strcmp(f[2], "rate") != 0)
			{
				log_error("%s:%ld: the first line must be the header date,currency,rate", path,
						  lineno);
				*err = CL_ERR_DATA;
				goto fail;
			}
			header = true;
			continue;
		}
		if (!parse_rate_line(line + start, &r, msg, sizeof(msg)))
		{
			log_error("%s:%ld: %s", path, lineno, msg);
			*err = CL_ERR_DATA;
			goto fail;
		}
		grown = tx_grow(t->rates, &cap, t->n + 1, sizeof(Rate));
		if (grown == NULL)
			goto fail;
		t->rates = grown;
		t->rates[t->n++] = r;
	}
	if (ferror(fp))
	{
		log_error("cannot read [pipeline] rates_file %s: %s", path, strerror(errno));
		*err = CL_ERR_CONFIG;
		goto fail;
	}
	if (t->n > 1)
		qsort(t->rates, t->n, sizeof(Rate), rate_cmp);
	for (size_t i = 1; i < t->n; i++)
	{
		char d[CL_DATE_BUFSIZE];

		if (rate_cmp(&t->rates[i - 1], &t->rates[i]) == 0)
		{
			log_error("%s: %s has two rates for %s; keep one line per currency and date", path,
					  t->rates[i].currency, date_format(t->rates[i].date, d));
			*err = CL_ERR_DATA;
			goto fail;
		}
	}
	free(line);
	(void) fclose(fp);
	log_info("rates: %zu rates from %s", t->n, path);
	*err = CL_OK;
	*out = t;
	return true;

fail:
	free(line);
	if (fp != NULL)
		(void) fclose(fp);
	rates_free(t);
	return false;
}

void
rates_free(RateTable *t)
{
	if (t == NULL)
		return;
	free(t->path);
	free(t->rates);
	free(t);
}

static u128
pow10_u128(int k)
{
	u128 p = 1;

	for (int i = 0; i < k; i++)
		p *= 10;
	return p;
}

/*
 * currency_convert_at computes minor * rate * 10^to / 10^from exactly:
 * the product fits 128 bits (63 + 60 bits), the power of ten is applied by
 * dividing when the scales allow and multiplying (with an overflow check)
 * when not, and the quotient is rounded half away from zero.
 */
bool
currency_convert_at(int64_t minor, int from_exponent, int64_t mantissa, int scale,
					int to_exponent, int64_t *out)
{
	bool negative = minor < 0;
	u128 magnitude = negative ? (u128) (-(minor + 1)) + 1 : (u128) minor;
	u128 num = magnitude * (u128) mantissa;
	int k = from_exponent + scale - to_exponent;
	u128 q;

	if (mantissa <= 0 || from_exponent < 0 || to_exponent < 0 || scale < 0)
		return false;
	if (k >= 0)
	{
		u128 den = pow10_u128(k);
		u128 r;

		q = num / den;
		r = num % den;
		if (r * 2 >= den)
			q++;
	}
	else
	{
		u128 f = pow10_u128(-k);

		if (num != 0 && num > ((u128) INT64_MAX + 1) / f + 1)
			return false;
		q = num * f;
	}
	if (q > (u128) INT64_MAX)
		return false;
	*out = negative ? -(int64_t) q : (int64_t) q;
	return true;
}

/* find_rate: the rate of currency with the latest date <= date. */
static const Rate *
find_rate(const RateTable *t, const char *currency, ClDate date)
{
	size_t lo = 0;
	size_t hi;
	const Rate *best = NULL;

	if (t == NULL)
		return NULL;
	hi = t->n;
	/* the first entry greater than (currency, date) */
	while (lo < hi)
	{
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(t->rates[mid].currency, currency);

		if (c < 0 || (c == 0 && t->rates[mid].date <= date))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo > 0 && strcmp(t->rates[lo - 1].currency, currency) == 0)
		best = &t->rates[lo - 1];
	return best;
}

/*
 * currency_try_convert: a zero amount needs no rate, so deals without an
 * amount never fail a run for a missing rate.
 */
bool
currency_try_convert(const Converter *c, int64_t minor, const char *currency, ClDate date,
					 bool *found, int64_t *out, ClError *err)
{
	const Rate *r;
	int exponent;
	char d[CL_DATE_BUFSIZE];

	*found = true;
	if (strcmp(currency, c->reporting) == 0 || minor == 0)
	{
		*out = minor;
		return true;
	}
	exponent = currency_exponent(currency);
	r = find_rate(c->rates, currency, date);
	if (r == NULL)
	{
		*found = false;
		return true;
	}
	if (exponent < 0
		|| !currency_convert_at(minor, exponent, r->mantissa, r->scale, c->reporting_exponent, out))
	{
		log_error("cannot convert %lld minor units of %s on %s to %s: the result does not fit",
				  (long long) minor, currency, date_format(date, d), c->reporting);
		*err = CL_ERR_DATA;
		return false;
	}
	return true;
}

/*
 * currency_convert words its error for the two ways to fix it: add a line to
 * the rates file, or configure one.
 */
bool
currency_convert(const Converter *c, int64_t minor, const char *currency, ClDate date,
				 int64_t *out, ClError *err)
{
	bool found;
	char d[CL_DATE_BUFSIZE];

	if (!currency_try_convert(c, minor, currency, date, &found, out, err))
		return false;
	if (!found)
	{
		date_format(date, d);
		if (c->rates == NULL)
			log_error("no exchange rate for %s on or before %s: amounts in %s need "
					  "[pipeline] rates_file with a line \"%s,%s,<%s per %s>\"", currency, d,
					  currency, d, currency, c->reporting, currency);
		else
			log_error("no exchange rate for %s on or before %s in %s; add a line "
					  "\"%s,%s,<%s per %s>\"", currency, d, c->rates->path, d, currency,
					  c->reporting, currency);
		*err = CL_ERR_DATA;
		return false;
	}
	return true;
}
