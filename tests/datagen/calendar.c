/*
 * calendar.c: dates and timestamps in UTC without libc's time zone state,
 * so the output cannot depend on TZ or the C library.
 */
#include <inttypes.h>
#include <stdio.h>

#include "datagen.h"

/*
 * dg_date_from_ymd counts days since 1970-01-01 in the proleptic Gregorian
 * calendar (H. Hinnant's days_from_civil): exact for every year, no tables.
 */
DgDate
dg_date_from_ymd(int year, int month, int day)
{
	int y = year - (month <= 2 ? 1 : 0);
	int era = (y >= 0 ? y : y - 399) / 400;
	int yoe = y - era * 400;
	int mp = month > 2 ? month - 3 : month + 9;
	int doy = (153 * mp + 2) / 5 + day - 1;
	int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return (DgDate) (era * 146097 + doe - 719468);
}

/* dg_date_to_ymd is the inverse of dg_date_from_ymd. */
void
dg_date_to_ymd(DgDate d, int *year, int *month, int *day)
{
	int z = d + 719468;
	int era = (z >= 0 ? z : z - 146096) / 146097;
	int doe = z - era * 146097;
	int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int mp = (5 * doy + 2) / 153;
	int m = mp < 10 ? mp + 3 : mp - 9;

	*day = doy - (153 * mp + 2) / 5 + 1;
	*month = m;
	*year = yoe + era * 400 + (m <= 2 ? 1 : 0);
}

static int
digit(char c)
{
	return (c >= '0' && c <= '9') ? c - '0' : -1;
}

/*
 * dg_date_parse accepts exactly YYYY-MM-DD (years 1971..9998, so a window
 * and its lookback stay after the epoch) and rejects impossible dates.
 */
bool
dg_date_parse(const char *s, DgDate *out)
{
	int v[8];
	static const int pos[8] = {0, 1, 2, 3, 5, 6, 8, 9};
	int year;
	int month;
	int day;
	int y2;
	int m2;
	int d2;

	for (int i = 0; i < 10; i++)
	{
		if (s[i] == '\0')
		{
			return false;
		}
	}
	if (s[4] != '-' || s[7] != '-' || s[10] != '\0')
	{
		return false;
	}
	for (int i = 0; i < 8; i++)
	{
		v[i] = digit(s[pos[i]]);
		if (v[i] < 0)
		{
			return false;
		}
	}
	year = v[0] * 1000 + v[1] * 100 + v[2] * 10 + v[3];
	month = v[4] * 10 + v[5];
	day = v[6] * 10 + v[7];
	if (year < 1971 || year > 9998 || month < 1 || month > 12 || day < 1 || day > 31)
	{
		return false;
	}
	*out = dg_date_from_ymd(year, month, day);

	/* a round trip rejects 2026-02-30 and friends */
	dg_date_to_ymd(*out, &y2, &m2, &d2);
	return y2 == year && m2 == month && d2 == day;
}

int
dg_weekday(DgDate d)
{
	/* 1970-01-01 was a Thursday (3 when Monday is 0) */
	int r = (d + 3) % 7;

	return r < 0 ? r + 7 : r;
}

DgTime
dg_date_start(DgDate d)
{
	return (DgTime) d * DG_MS_PER_DAY;
}

DgDate
dg_time_date(DgTime t)
{
	DgTime q = t / DG_MS_PER_DAY;

	if (t % DG_MS_PER_DAY < 0)
	{
		q--;
	}
	return (DgDate) q;
}

/* dg_format_date writes YYYY-MM-DD into buf (DG_DATE_BUFSIZE). */
char *
dg_format_date(DgDate d, char *buf)
{
	int y;
	int m;
	int dd;

	dg_date_to_ymd(d, &y, &m, &dd);
	(void) snprintf(buf, DG_DATE_BUFSIZE, "%04d-%02d-%02d", y % 10000, (m % 100 + 100) % 100, (dd % 100 + 100) % 100);
	return buf;
}

static void
split_time(DgTime t, DgDate *d, int *h, int *mi, int *s, int *ms)
{
	DgTime rem;

	*d = dg_time_date(t);
	rem = t - dg_date_start(*d);
	*h = (int) (rem / DG_MS_PER_HOUR);
	*mi = (int) (rem % DG_MS_PER_HOUR / DG_MS_PER_MIN);
	*s = (int) (rem % DG_MS_PER_MIN / DG_MS_PER_SEC);
	*ms = (int) (rem % DG_MS_PER_SEC);
}

/* dg_format_hubspot: 2026-03-04T05:06:07.123Z into buf (DG_TIME_BUFSIZE). */
char *
dg_format_hubspot(DgTime t, char *buf)
{
	char date[DG_DATE_BUFSIZE];
	DgDate d;
	int h;
	int mi;
	int s;
	int ms;

	split_time(t, &d, &h, &mi, &s, &ms);
	(void) snprintf(buf, DG_TIME_BUFSIZE, "%sT%02d:%02d:%02d.%03dZ",
					dg_format_date(d, date), h, mi, s, ms);
	return buf;
}

/*
 * dg_format_mailchimp: 2026-03-04T05:06:07+00:00 into buf (DG_TIME_BUFSIZE).
 * Mailchimp reports whole seconds; the milliseconds of t are dropped, and
 * the generator only ever passes whole seconds.
 */
char *
dg_format_mailchimp(DgTime t, char *buf)
{
	char date[DG_DATE_BUFSIZE];
	DgDate d;
	int h;
	int mi;
	int s;
	int ms;

	split_time(t, &d, &h, &mi, &s, &ms);
	(void) snprintf(buf, DG_TIME_BUFSIZE, "%sT%02d:%02d:%02d+00:00",
					dg_format_date(d, date), h, mi, s);
	return buf;
}
