/*
 * timeutil.c: timestamps and dates without libc time zone state.
 *
 * UTC work is pure integer arithmetic on the proleptic Gregorian calendar
 * (the days-from-civil algorithms published by Howard Hinnant), so results
 * never depend on the process's TZ, locale or on timegm() being available.
 * Only time_local_date() consults the system zone database, because DST
 * rules cannot be derived arithmetically.
 *
 * Parsers do not log: they return false and the caller, which knows the
 * file, record and field, reports the bad value.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "log.h"
#include "timeutil.h"

#define SECS_PER_DAY INT64_C(86400)

/* The system zone database, when $TZDIR does not name another one. */
#define CL_ZONEINFO_DIR "/usr/share/zoneinfo"

/* Longest zone name accepted; real IANA names are under 40 bytes. */
#define CL_TZ_NAME_MAX 128

/*
 * Serialises every TZ change in the process: setenv("TZ") + tzset() +
 * localtime_r() is a critical section because the zone is global state.
 */
static pthread_mutex_t tz_mutex = PTHREAD_MUTEX_INITIALIZER;

/*
 * days_from_ymd counts days from 1970-01-01 to y-m-d (Hinnant's
 * days_from_civil). Eras of 400 years make the leap rule exact; the year is
 * shifted to start in March so that February's length only matters at the
 * end of the shifted year.
 */
static int64_t
days_from_ymd(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;                                /* [0, 399] */
	int64_t mp = (m + 9) % 12;                                  /* March = 0 */
	int64_t doy = (153 * mp + 2) / 5 + d - 1;                   /* [0, 365] */
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;        /* [0, 146096] */

	return era * 146097 + doe - 719468;
}

/*
 * ymd_from_days is the inverse of days_from_ymd (Hinnant's
 * civil_from_days).
 */
static void
ymd_from_days(int64_t z, int64_t *year, int *month, int *day)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;                             /* [0, 146096] */
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);      /* [0, 365] */
	int64_t mp = (5 * doy + 2) / 153;                           /* [0, 11] */
	int64_t d = doy - (153 * mp + 2) / 5 + 1;
	int64_t m = mp < 10 ? mp + 3 : mp - 9;

	*year = yoe + era * 400 + (m <= 2);
	*month = (int) m;
	*day = (int) d;
}

static bool
is_leap_year(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
days_in_month(int64_t y, int m)
{
	static const int len[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (m == 2 && is_leap_year(y))
		return 29;
	return len[m - 1];
}

static bool
ymd_valid(int64_t y, int m, int d)
{
	return m >= 1 && m <= 12 && d >= 1 && d <= days_in_month(y, m);
}

/*
 * parse_digits reads exactly n ASCII digits at s into *out. isdigit() is
 * avoided on purpose: it is locale dependent and undefined for negative
 * chars.
 */
static bool
parse_digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++)
	{
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

/*
 * parse_date_prefix reads "YYYY-MM-DD" at the start of s and validates it
 * against the calendar.
 */
static bool
parse_date_prefix(const char *s, ClDate *out)
{
	int y;
	int m;
	int d;

	if (!parse_digits(s, 4, &y) || s[4] != '-' ||
		!parse_digits(s + 5, 2, &m) || s[7] != '-' ||
		!parse_digits(s + 8, 2, &d))
		return false;
	if (!ymd_valid(y, m, d))
		return false;
	*out = date_from_ymd(y, m, d);
	return true;
}

/*
 * time_parse_rfc3339 accepts exactly the RFC 3339 date-time production.
 * A leap second (":60") is rejected rather than folded into the next
 * minute: vendors never emit one on purpose, and accepting it would make
 * two distinct strings map to one instant.
 */
bool
time_parse_rfc3339(const char *s, ClTime *out)
{
	ClDate date;
	int hh;
	int mi;
	int ss;
	int64_t frac_us = 0;
	int64_t offset_s = 0;
	const char *p;

	if (s == NULL || out == NULL)
		return false;
	if (strlen(s) < 20)
		return false;
	if (!parse_date_prefix(s, &date))
		return false;
	if (s[10] != 'T' && s[10] != 't')
		return false;
	if (!parse_digits(s + 11, 2, &hh) || s[13] != ':' ||
		!parse_digits(s + 14, 2, &mi) || s[16] != ':' ||
		!parse_digits(s + 17, 2, &ss))
		return false;
	if (hh > 23 || mi > 59 || ss > 59)
		return false;

	p = s + 19;
	if (*p == '.')
	{
		int ndigits = 0;

		p++;
		while (*p >= '0' && *p <= '9')
		{
			if (ndigits >= 9)
				return false;
			if (ndigits < 6)
				frac_us = frac_us * 10 + (*p - '0');
			else if (*p != '0')
				return false;   /* sub-microsecond precision would be lost */
			ndigits++;
			p++;
		}
		if (ndigits == 0)
			return false;
		for (int i = ndigits; i < 6; i++)
			frac_us *= 10;
	}

	if (*p == 'Z' || *p == 'z')
	{
		p++;
	}
	else if (*p == '+' || *p == '-')
	{
		int oh;
		int om;
		int sign = *p == '-' ? -1 : 1;

		if (!parse_digits(p + 1, 2, &oh) || p[3] != ':' ||
			!parse_digits(p + 4, 2, &om))
			return false;
		if (oh > 23 || om > 59)
			return false;
		offset_s = sign * ((int64_t) oh * 3600 + om * 60);
		p += 6;
	}
	else
	{
		return false;           /* a local time without offset is ambiguous */
	}
	if (*p != '\0')
		return false;

	/* Four-digit years keep this far inside int64 microseconds. */
	int64_t secs = (int64_t) date * SECS_PER_DAY + hh * 3600 + mi * 60 + ss -
		offset_s;
	*out = secs * CL_USEC_PER_SEC + frac_us;
	return true;
}

/*
 * time_parse_epoch_ms accepts an optional '-' and one or more ASCII digits,
 * nothing else (strtoll would also take spaces, '+' and "0x"). The value
 * must fit in ClTime once scaled to microseconds.
 */
bool
time_parse_epoch_ms(const char *s, ClTime *out)
{
	const int64_t limit = INT64_MAX / 1000;
	int64_t mag = 0;
	bool negative = false;
	const char *p = s;

	if (s == NULL || out == NULL)
		return false;
	if (*p == '-')
	{
		negative = true;
		p++;
	}
	if (*p == '\0')
		return false;
	for (; *p != '\0'; p++)
	{
		if (*p < '0' || *p > '9')
			return false;
		/* INT64_MIN / 1000 has the same magnitude as limit: one check serves
		 * both signs. */
		if (mag > (limit - (*p - '0')) / 10)
			return false;
		mag = mag * 10 + (*p - '0');
	}
	*out = (negative ? -mag : mag) * 1000;
	return true;
}

/*
 * date_parse accepts exactly "YYYY-MM-DD" naming a real calendar day.
 */
bool
date_parse(const char *s, ClDate *out)
{
	ClDate d;

	if (s == NULL || out == NULL)
		return false;
	if (strlen(s) != 10)
		return false;
	if (!parse_date_prefix(s, &d))
		return false;
	*out = d;
	return true;
}

/*
 * time_format_rfc3339 writes t in UTC. Every int64 value has a
 * representation (years up to six digits and a sign), which fits
 * CL_TIME_BUFSIZE.
 */
char *
time_format_rfc3339(ClTime t, char *buf)
{
	int64_t days = t / CL_USEC_PER_DAY;
	int64_t rem = t % CL_USEC_PER_DAY;
	int64_t year;
	int month;
	int day;
	int n;

	if (rem < 0)
	{
		rem += CL_USEC_PER_DAY;
		days--;
	}
	ymd_from_days(days, &year, &month, &day);

	int64_t secs = rem / CL_USEC_PER_SEC;
	int64_t frac = rem % CL_USEC_PER_SEC;
	int hh = (int) (secs / 3600);
	int mi = (int) (secs / 60 % 60);
	int ss = (int) (secs % 60);

	if (frac != 0)
		n = snprintf(buf, CL_TIME_BUFSIZE,
					 "%04" PRId64 "-%02d-%02dT%02d:%02d:%02d.%06" PRId64 "Z",
					 year, month, day, hh, mi, ss, frac);
	else
		n = snprintf(buf, CL_TIME_BUFSIZE,
					 "%04" PRId64 "-%02d-%02dT%02d:%02d:%02dZ",
					 year, month, day, hh, mi, ss);
	if (n < 0 || n >= CL_TIME_BUFSIZE)
		buf[0] = '\0';          /* unreachable for int64 input, see above */
	return buf;
}

/*
 * date_format writes d as "YYYY-MM-DD"; any int32 day count fits
 * CL_DATE_BUFSIZE (years up to seven digits and a sign).
 */
char *
date_format(ClDate d, char *buf)
{
	int64_t year;
	int month;
	int day;
	int n;

	ymd_from_days(d, &year, &month, &day);
	n = snprintf(buf, CL_DATE_BUFSIZE, "%04" PRId64 "-%02d-%02d",
				 year, month, day);
	if (n < 0 || n >= CL_DATE_BUFSIZE)
		buf[0] = '\0';          /* unreachable for int32 input, see above */
	return buf;
}

/*
 * date_from_ymd converts a valid calendar date. The caller guarantees
 * month 1..12 and a day that exists; years beyond about +-5.8 million do
 * not fit a ClDate.
 */
ClDate
date_from_ymd(int year, int month, int day)
{
	return (ClDate) days_from_ymd(year, month, day);
}

/*
 * date_to_ymd splits d into its calendar fields. Every ClDate has a year
 * that fits an int.
 */
void
date_to_ymd(ClDate d, int *year, int *month, int *day)
{
	int64_t y;

	ymd_from_days(d, &y, month, day);
	*year = (int) y;
}

/*
 * time_utc_date floors towards minus infinity so that 1969-12-31T23:59Z
 * belongs to 1969-12-31, not to 1970-01-01. Every int64 timestamp gives a
 * day count that fits a ClDate.
 */
ClDate
time_utc_date(ClTime t)
{
	int64_t days = t / CL_USEC_PER_DAY;

	if (t % CL_USEC_PER_DAY < 0)
		days--;
	return (ClDate) days;
}

/*
 * date_start_utc gives midnight UTC of d. Only days within about
 * +-292000 years of 1970 are representable; beyond that the result
 * saturates at INT64_MIN / INT64_MAX instead of overflowing.
 */
ClTime
date_start_utc(ClDate d)
{
	if (d > INT64_MAX / CL_USEC_PER_DAY)
		return INT64_MAX;
	if (d < INT64_MIN / CL_USEC_PER_DAY)
		return INT64_MIN;
	return (int64_t) d * CL_USEC_PER_DAY;
}

/*
 * time_now reads the wall clock in microseconds.
 */
ClTime
time_now(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return 0;               /* CLOCK_REALTIME always exists on POSIX */
	return (int64_t) ts.tv_sec * CL_USEC_PER_SEC + ts.tv_nsec / 1000;
}

static bool
tz_is_utc(const char *tz)
{
	return strcmp(tz, "UTC") == 0 || strcmp(tz, "Etc/UTC") == 0;
}

/*
 * tz_name_ok restricts zone names to the IANA character set. Dots are not
 * allowed at all, so no ".." component can climb out of the zone
 * directory; a leading, trailing or doubled '/' is refused for the same
 * reason and because no real zone has one.
 */
static bool
tz_name_ok(const char *tz)
{
	size_t len = strlen(tz);

	if (len == 0 || len > CL_TZ_NAME_MAX)
		return false;
	if (tz[0] == '/' || tz[len - 1] == '/' || strstr(tz, "//") != NULL)
		return false;
	if (strstr(tz, "..") != NULL)
		return false;
	for (const char *p = tz; *p != '\0'; p++)
	{
		char c = *p;
		bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			(c >= '0' && c <= '9') || c == '/' || c == '_' || c == '-' ||
			c == '+';

		if (!ok)
			return false;
	}
	return true;
}

/*
 * tz_file_ok checks that path is a regular TZif file: the zone directory
 * also holds directories ("America") and text files ("leapseconds",
 * "tzdata.zi") whose names pass tz_name_ok.
 */
static bool
tz_file_ok(const char *path)
{
	struct stat st;
	char magic[4];
	FILE *fp;
	bool ok;

	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return false;
	fp = fopen(path, "rb");
	if (fp == NULL)
		return false;
	ok = fread(magic, 1, sizeof(magic), fp) == sizeof(magic) &&
		memcmp(magic, "TZif", 4) == 0;
	(void) fclose(fp);
	return ok;
}

/*
 * tz_find_file looks tz up in $TZDIR, then in the system directory, and
 * writes the absolute path of its TZif file to path. Call it with tz_mutex
 * held: getenv() must not run while another thread's setenv("TZ") may be
 * reallocating the environment.
 */
static bool
tz_find_file(const char *tz, char *path, size_t pathsize)
{
	const char *dirs[2];
	int ndirs = 0;
	const char *env = getenv("TZDIR");

	if (!tz_name_ok(tz))
		return false;
	if (env != NULL && env[0] == '/')
		dirs[ndirs++] = env;
	dirs[ndirs++] = CL_ZONEINFO_DIR;

	for (int i = 0; i < ndirs; i++)
	{
		int n = snprintf(path, pathsize, "%s/%s", dirs[i], tz);

		if (n < 0 || (size_t) n >= pathsize)
			continue;
		if (tz_file_ok(path))
			return true;
	}
	return false;
}

/*
 * time_zone_valid tells whether tz names a zone time_local_date() can use.
 */
bool
time_zone_valid(const char *tz)
{
	char path[4096];
	bool found;

	if (tz == NULL)
		return false;
	if (tz_is_utc(tz))
		return true;
	(void) pthread_mutex_lock(&tz_mutex);
	found = tz_find_file(tz, path, sizeof(path));
	(void) pthread_mutex_unlock(&tz_mutex);
	return found;
}

/*
 * restore_tz puts back the TZ value saved by time_local_date (NULL: it was
 * unset).
 */
static bool
restore_tz(const char *saved)
{
	int rc = saved != NULL ? setenv("TZ", saved, 1) : unsetenv("TZ");

	tzset();
	return rc == 0;
}

/*
 * time_local_date converts through localtime_r() with TZ pointing at the
 * zone's file. glibc has no reentrant per-zone conversion (no tzalloc /
 * localtime_rz), so the zone is process-global state: the switch happens
 * under tz_mutex and the previous TZ is restored before unlocking. Every
 * environment access of this module happens under the same lock. Other
 * threads that read the environment or call localtime() without it may
 * observe the temporary TZ; closedloop converts local dates only here.
 *
 * TZ is set to ":<absolute path>" so that glibc loads exactly the file that
 * was validated and never parses the name as a POSIX rule string.
 */
bool
time_local_date(ClTime t, const char *tz, ClDate *out)
{
	char path[4096];
	char tzvalue[4096 + 2];
	char *saved = NULL;
	const char *old;
	struct tm tm;
	struct tm *res;
	time_t secs;
	int64_t whole;
	bool ok = false;
	int n;

	if (tz == NULL || out == NULL)
		return false;
	if (tz_is_utc(tz))
	{
		*out = time_utc_date(t);
		return true;
	}

	/* whole seconds, floored like time_utc_date */
	whole = t / CL_USEC_PER_SEC;
	if (t % CL_USEC_PER_SEC < 0)
		whole--;
	secs = (time_t) whole;

	(void) pthread_mutex_lock(&tz_mutex);
	if (!tz_find_file(tz, path, sizeof(path)))
		goto unlock;            /* unknown zone: the caller reports it */
	n = snprintf(tzvalue, sizeof(tzvalue), ":%s", path);
	if (n < 0 || (size_t) n >= sizeof(tzvalue))
		goto unlock;
	old = getenv("TZ");
	if (old != NULL)
	{
		/* setenv may free the string getenv returned: keep a copy */
		saved = strdup(old);
		if (saved == NULL)
		{
			log_error("time zone %s: out of memory saving TZ", tz);
			goto unlock;
		}
	}
	if (setenv("TZ", tzvalue, 1) != 0)
	{
		log_error("time zone %s: setenv(TZ) failed: %s", tz, strerror(errno));
		goto unlock;
	}
	tzset();
	res = localtime_r(&secs, &tm);
	if (!restore_tz(saved))
		log_error("time zone %s: could not restore TZ: %s", tz,
				  strerror(errno));
	if (res == NULL)
	{
		log_error("time zone %s: timestamp %" PRId64 " out of range", tz, t);
		goto unlock;
	}
	*out = date_from_ymd(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
	ok = true;

unlock:
	(void) pthread_mutex_unlock(&tz_mutex);
	free(saved);
	return ok;
}
