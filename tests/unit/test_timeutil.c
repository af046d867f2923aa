#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "support.h"
#include "timeutil.h"

#define SEC CL_USEC_PER_SEC

static ClTime
parse_ok(const char *s)
{
	ClTime t = 0;

	if (!time_parse_rfc3339(s, &t))
		fail_msg("time_parse_rfc3339 rejected \"%s\"", s);
	return t;
}

static void
assert_rfc3339_rejected(const char *s)
{
	ClTime t = 12345;

	if (time_parse_rfc3339(s, &t))
		fail_msg("time_parse_rfc3339 accepted \"%s\"", s);
	assert_int_equal(t, 12345);     /* untouched on failure */
}

static void
test_timeutil_parse_rfc3339_utc(void **state)
{
	(void) state;
	assert_int_equal(parse_ok("1970-01-01T00:00:00Z"), 0);
	assert_int_equal(parse_ok("2026-03-04T05:06:07Z"), INT64_C(1772600767) * SEC);
	assert_int_equal(parse_ok("2026-03-04t05:06:07z"), INT64_C(1772600767) * SEC);
	assert_int_equal(parse_ok("1969-12-31T23:59:59Z"), -SEC);
	assert_int_equal(parse_ok("2024-02-29T12:00:00Z"),
					 (INT64_C(1709208000)) * SEC);
	assert_int_equal(parse_ok("0000-01-01T00:00:00Z"),
					 INT64_C(-62167219200) * SEC);
	assert_int_equal(parse_ok("9999-12-31T23:59:59Z"),
					 INT64_C(253402300799) * SEC);
}

static void
test_timeutil_parse_rfc3339_offsets(void **state)
{
	ClTime want = INT64_C(1772600767) * SEC;

	(void) state;
	assert_int_equal(parse_ok("2026-03-04T08:06:07+03:00"), want);
	assert_int_equal(parse_ok("2026-03-03T23:36:07-05:30"), want);
	assert_int_equal(parse_ok("2026-03-04T05:06:07+00:00"), want);
	assert_int_equal(parse_ok("2026-03-04T05:06:07-00:00"), want);
	assert_int_equal(parse_ok("2026-03-05T05:05:07+23:59"), want);
	assert_int_equal(parse_ok("2026-03-03T05:07:07-23:59"), want);
	/* the offset can move the instant across a year boundary */
	assert_int_equal(parse_ok("2025-12-31T22:00:00-02:00"),
					 parse_ok("2026-01-01T00:00:00Z"));
}

static void
test_timeutil_parse_rfc3339_fractions(void **state)
{
	ClTime base = INT64_C(1772600767) * SEC;

	(void) state;
	assert_int_equal(parse_ok("2026-03-04T05:06:07.1Z"), base + 100000);
	assert_int_equal(parse_ok("2026-03-04T05:06:07.000001Z"), base + 1);
	assert_int_equal(parse_ok("2026-03-04T05:06:07.123456Z"), base + 123456);
	assert_int_equal(parse_ok("2026-03-04T05:06:07.123456000Z"), base + 123456);
	assert_int_equal(parse_ok("2026-03-04T05:06:07.5+01:00"),
					 base - 3600 * SEC + 500000);
	assert_int_equal(parse_ok("1969-12-31T23:59:59.5Z"), -500000);

	/* precision beyond microseconds must not be silently dropped */
	assert_rfc3339_rejected("2026-03-04T05:06:07.1234567Z");
	assert_rfc3339_rejected("2026-03-04T05:06:07.123456001Z");
	/* at most 9 digits, even zeros */
	assert_rfc3339_rejected("2026-03-04T05:06:07.1234560000Z");
	assert_rfc3339_rejected("2026-03-04T05:06:07.Z");
	assert_rfc3339_rejected("2026-03-04T05:06:07,5Z");
}

static void
test_timeutil_parse_rfc3339_rejects(void **state)
{
	static const char *const bad[] = {
		"",
		"2026-03-04T05:06:07",          /* no offset */
		"2026-03-04 05:06:07Z",         /* space separator */
		"2026-03-04T05:06:07Zjunk",
		"2026-03-04T05:06:07Z ",
		" 2026-03-04T05:06:07Z",
		"2026-03-04T05:06:07+03:00x",
		"2023-02-29T00:00:00Z",         /* not a leap year */
		"1900-02-29T00:00:00Z",         /* century, not a leap year */
		"2026-04-31T00:00:00Z",
		"2026-13-01T00:00:00Z",
		"2026-00-01T00:00:00Z",
		"2026-01-00T00:00:00Z",
		"2026-01-01T24:00:00Z",
		"2026-01-01T23:60:00Z",
		"2026-12-31T23:59:60Z",         /* leap seconds are rejected */
		"2026-01-01T00:00:00+24:00",
		"2026-01-01T00:00:00+23:60",
		"2026-01-01T00:00:00+0300",
		"2026-01-01T00:00:00+03",
		"2026-01-01T00:00:00UTC",
		"2026-1-01T00:00:00Z",
		"26-01-01T00:00:00Z",
		"+2026-01-01T00:00:00Z",
		"2026-01-01T0:00:00Z",
		"2026-01-01T00:00Z",
		"2026/01/01T00:00:00Z",
		"2026-01-01T00:00:0aZ",
	};

	(void) state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_rfc3339_rejected(bad[i]);
	assert_false(time_parse_rfc3339(NULL, &(ClTime) {0}));
}

static void
test_timeutil_parse_epoch_ms(void **state)
{
	ClTime t = 0;
	static const char *const bad[] = {
		"", "-", "+1", " 1", "1 ", "1.5", "0x10", "1e3", "--1", "1-",
		"9223372036854776",             /* * 1000 overflows int64 */
		"-9223372036854776",
		"99999999999999999999999999",
	};

	(void) state;
	assert_true(time_parse_epoch_ms("1700000000123", &t));
	assert_int_equal(t, INT64_C(1700000000123000));
	assert_true(time_parse_epoch_ms("0", &t));
	assert_int_equal(t, 0);
	assert_true(time_parse_epoch_ms("-1", &t));
	assert_int_equal(t, -1000);
	assert_true(time_parse_epoch_ms("000042", &t));
	assert_int_equal(t, 42000);
	assert_true(time_parse_epoch_ms("9223372036854775", &t));
	assert_int_equal(t, INT64_C(9223372036854775000));
	assert_true(time_parse_epoch_ms("-9223372036854775", &t));
	assert_int_equal(t, INT64_C(-9223372036854775000));

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		t = 7;
		if (time_parse_epoch_ms(bad[i], &t))
			fail_msg("time_parse_epoch_ms accepted \"%s\"", bad[i]);
		assert_int_equal(t, 7);
	}
	assert_false(time_parse_epoch_ms(NULL, &t));
}

static void
test_timeutil_date_parse(void **state)
{
	ClDate d = 0;
	static const char *const bad[] = {
		"", "2023-02-29", "2024-13-01", "2024-00-10", "2024-01-00",
		"2024-01-32", "2024-1-01", "2024-01-1", "2024-01-01x",
		"2024-01-01T00:00:00Z", " 2024-01-01", "2024/01/01", "20240101",
		"-001-01-01",
	};

	(void) state;
	assert_true(date_parse("1970-01-01", &d));
	assert_int_equal(d, 0);
	assert_true(date_parse("2000-03-01", &d));
	assert_int_equal(d, 11017);
	assert_true(date_parse("1969-12-31", &d));
	assert_int_equal(d, -1);
	assert_true(date_parse("2024-02-29", &d));
	assert_true(date_parse("2000-02-29", &d));
	assert_true(date_parse("0001-01-01", &d));
	assert_int_equal(d, -719162);
	assert_true(date_parse("9999-12-31", &d));
	assert_int_equal(d, 2932896);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		d = 99;
		if (date_parse(bad[i], &d))
			fail_msg("date_parse accepted \"%s\"", bad[i]);
		assert_int_equal(d, 99);
	}
	assert_false(date_parse(NULL, &d));
}

static void
test_timeutil_format(void **state)
{
	char buf[CL_TIME_BUFSIZE];
	char dbuf[CL_DATE_BUFSIZE];

	(void) state;
	assert_string_equal(time_format_rfc3339(0, buf), "1970-01-01T00:00:00Z");
	assert_string_equal(time_format_rfc3339(INT64_C(1772600767) * SEC, buf),
						"2026-03-04T05:06:07Z");
	assert_string_equal(time_format_rfc3339(INT64_C(1772600767) * SEC + 500000,
											buf),
						"2026-03-04T05:06:07.500000Z");
	assert_string_equal(time_format_rfc3339(1, buf),
						"1970-01-01T00:00:00.000001Z");
	assert_string_equal(time_format_rfc3339(-1, buf),
						"1969-12-31T23:59:59.999999Z");
	assert_string_equal(time_format_rfc3339(-CL_USEC_PER_DAY, buf),
						"1969-12-31T00:00:00Z");
	/* the extremes still fit the buffer */
	assert_string_equal(time_format_rfc3339(INT64_MAX, buf),
						"294247-01-10T04:00:54.775807Z");
	assert_string_equal(time_format_rfc3339(INT64_MIN, buf),
						"-290308-12-21T19:59:05.224192Z");

	assert_string_equal(date_format(0, dbuf), "1970-01-01");
	assert_string_equal(date_format(-1, dbuf), "1969-12-31");
	assert_string_equal(date_format(11017, dbuf), "2000-03-01");
	assert_string_equal(date_format(INT32_MAX, dbuf), "5881580-07-11");
	assert_string_equal(date_format(INT32_MIN, dbuf), "-5877641-06-23");
}

static void
test_timeutil_format_parse_round_trip(void **state)
{
	char buf[CL_TIME_BUFSIZE];
	/* a fixed LCG: reproducible spread over years 0000..9999 */
	uint64_t x = 0x1234567;
	ClTime lo = INT64_C(-62167219200) * SEC;
	ClTime hi = INT64_C(253402300799) * SEC;

	(void) state;
	for (int i = 0; i < 20000; i++)
	{
		x = x * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
		ClTime t = lo + (ClTime) ((x >> 1) % (uint64_t) (hi - lo));
		ClTime back = 0;

		if (i % 2 == 0)
			t -= t % SEC;       /* exercise the form without fraction */
		(void) time_format_rfc3339(t, buf);
		if (!time_parse_rfc3339(buf, &back) || back != t)
			fail_msg("round trip of %lld via \"%s\" failed", (long long) t, buf);
	}
}

static void
test_timeutil_civil_matches_libc(void **state)
{
	uint64_t x = 99;

	(void) state;
	/* gmtime_r is an independent implementation of the same calendar */
	for (int i = 0; i < 20000; i++)
	{
		x = x * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
		int64_t secs = (int64_t) ((x >> 1) % UINT64_C(600000000000)) -
			INT64_C(300000000000);
		time_t tt = (time_t) secs;
		struct tm tm;
		int y;
		int m;
		int d;

		assert_non_null(gmtime_r(&tt, &tm));
		ClDate date = time_utc_date(secs * SEC + 999999);

		date_to_ymd(date, &y, &m, &d);
		assert_int_equal(y, tm.tm_year + 1900);
		assert_int_equal(m, tm.tm_mon + 1);
		assert_int_equal(d, tm.tm_mday);
		assert_int_equal(date_from_ymd(y, m, d), date);
		assert_int_equal(date_start_utc(date),
						 (secs - (int64_t) (tm.tm_hour * 3600 + tm.tm_min * 60 +
											tm.tm_sec)) * SEC);
	}
}

static void
test_timeutil_civil_every_day(void **state)
{
	int py;
	int pm;
	int pd;

	(void) state;
	/* consecutive day numbers must give consecutive calendar days */
	date_to_ymd(-800000, &py, &pm, &pd);
	for (ClDate d = -799999; d <= 800000; d++)
	{
		int y;
		int m;
		int dd;

		date_to_ymd(d, &y, &m, &dd);
		if (dd == pd + 1)
		{
			assert_int_equal(m, pm);
			assert_int_equal(y, py);
		}
		else
		{
			assert_int_equal(dd, 1);
			assert_true((m == pm + 1 && y == py) || (m == 1 && pm == 12 && y == py + 1));
		}
		if (date_from_ymd(y, m, dd) != d)
			fail_msg("date_from_ymd(%d, %d, %d) != %d", y, m, dd, (int) d);
		py = y;
		pm = m;
		pd = dd;
	}
}

static void
test_timeutil_utc_date_floors(void **state)
{
	(void) state;
	assert_int_equal(time_utc_date(0), 0);
	assert_int_equal(time_utc_date(CL_USEC_PER_DAY - 1), 0);
	assert_int_equal(time_utc_date(CL_USEC_PER_DAY), 1);
	assert_int_equal(time_utc_date(-1), -1);
	assert_int_equal(time_utc_date(-CL_USEC_PER_DAY), -1);
	assert_int_equal(time_utc_date(-CL_USEC_PER_DAY - 1), -2);
	assert_int_equal(date_start_utc(-1), -CL_USEC_PER_DAY);
	/* out of ClTime range: saturates instead of overflowing */
	assert_int_equal(date_start_utc(INT32_MAX), INT64_MAX);
	assert_int_equal(date_start_utc(INT32_MIN), INT64_MIN);
}

static int64_t
realtime_us(void)
{
	struct timespec ts;

	assert_int_equal(clock_gettime(CLOCK_REALTIME, &ts), 0);
	return (int64_t) ts.tv_sec * SEC + ts.tv_nsec / 1000;
}

static void
test_timeutil_now_is_current(void **state)
{
	/* time() reads a coarser clock that may lag by a tick: compare with
	 * the precise one */
	int64_t before = realtime_us();
	ClTime now = time_now();
	int64_t after = realtime_us();

	(void) state;
	assert_true(now >= before);
	assert_true(now <= after);
	assert_true(now > parse_ok("2024-01-01T00:00:00Z"));
}

static ClDate
local_date(const char *rfc3339, const char *tz)
{
	ClDate d = -999999;

	if (!time_local_date(parse_ok(rfc3339), tz, &d))
		fail_msg("time_local_date(%s, %s) failed: is tzdata installed?",
				 rfc3339, tz);
	return d;
}

static ClDate
ymd(const char *s)
{
	ClDate d = 0;

	assert_true(date_parse(s, &d));
	return d;
}

static void
test_timeutil_local_date_utc(void **state)
{
	(void) state;
	assert_int_equal(local_date("2024-03-31T23:59:59Z", "UTC"), ymd("2024-03-31"));
	assert_int_equal(local_date("2024-04-01T00:00:00Z", "Etc/UTC"),
					 ymd("2024-04-01"));
	assert_int_equal(local_date("1969-12-31T23:59:59.999999Z", "UTC"),
					 ymd("1969-12-31"));
}

static void
test_timeutil_local_date_berlin_dst(void **state)
{
	const char *tz = "Europe/Berlin";

	(void) state;
	assert_true(time_zone_valid(tz));
	/* CET (+01:00) before 2024-03-31T01:00Z, CEST (+02:00) after */
	assert_int_equal(local_date("2024-03-30T22:59:59Z", tz), ymd("2024-03-30"));
	assert_int_equal(local_date("2024-03-30T23:00:00Z", tz), ymd("2024-03-31"));
	/* 22:30Z is 00:30 CEST on April 1; at +01:00 it would still be March */
	assert_int_equal(local_date("2024-03-31T22:30:00Z", tz), ymd("2024-04-01"));
	assert_int_equal(local_date("2024-03-31T21:59:59Z", tz), ymd("2024-03-31"));
	/* back to CET at 2024-10-27T01:00Z */
	assert_int_equal(local_date("2024-10-26T22:30:00Z", tz), ymd("2024-10-27"));
	assert_int_equal(local_date("2024-10-27T22:30:00Z", tz), ymd("2024-10-27"));
	assert_int_equal(local_date("2024-10-27T23:00:00Z", tz), ymd("2024-10-28"));
	/* winter, before 1970 */
	assert_int_equal(local_date("1960-01-01T23:30:00Z", tz), ymd("1960-01-02"));
}

static void
test_timeutil_local_date_new_york_dst(void **state)
{
	const char *tz = "America/New_York";

	(void) state;
	assert_true(time_zone_valid(tz));
	/* EST (-05:00) until 2024-03-10T07:00Z, EDT (-04:00) after */
	assert_int_equal(local_date("2024-03-10T04:59:59Z", tz), ymd("2024-03-09"));
	assert_int_equal(local_date("2024-03-10T05:00:00Z", tz), ymd("2024-03-10"));
	/* 04:30Z is 00:30 EDT on the 11th; at -05:00 it would be the 10th */
	assert_int_equal(local_date("2024-03-11T04:30:00Z", tz), ymd("2024-03-11"));
	assert_int_equal(local_date("2024-03-11T03:59:59Z", tz), ymd("2024-03-10"));
	/* EST again from 2024-11-03T06:00Z */
	assert_int_equal(local_date("2024-11-03T03:59:59Z", tz), ymd("2024-11-02"));
	assert_int_equal(local_date("2024-11-04T04:30:00Z", tz), ymd("2024-11-03"));
	assert_int_equal(local_date("2024-11-04T05:00:00Z", tz), ymd("2024-11-04"));
}

static void
test_timeutil_local_date_restores_tz(void **state)
{
	const char *after;

	(void) state;
	assert_int_equal(setenv("TZ", "Asia/Tokyo", 1), 0);
	(void) local_date("2024-06-01T12:00:00Z", "Europe/Berlin");
	after = getenv("TZ");
	assert_non_null(after);
	assert_string_equal(after, "Asia/Tokyo");

	assert_int_equal(unsetenv("TZ"), 0);
	(void) local_date("2024-06-01T12:00:00Z", "America/New_York");
	assert_null(getenv("TZ"));
}

static void
test_timeutil_zone_names(void **state)
{
	static const char *const good[] = {
		"UTC", "Etc/UTC", "Europe/Berlin", "America/New_York",
		"America/Argentina/Buenos_Aires", "Etc/GMT+5", "Etc/GMT-14",
		"America/Port-au-Prince",
	};
	static const char *const bad[] = {
		"", "Not/AZone", "America", "America/", "/Europe/Berlin",
		"Europe//Berlin", "../zoneinfo/UTC", "Europe/../Europe/Berlin",
		"/etc/passwd", "Europe/Berlin ", "Europe/Berlin\n", "leapseconds",
		"zone.tab", "Europe/Berlin;rm", "CET\\", "Europe/Berlin.",
	};
	ClDate d = 5;

	(void) state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
	{
		if (!time_zone_valid(good[i]))
			fail_msg("zone %s not found: the system zone database (tzdata) "
					 "is required", good[i]);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		if (time_zone_valid(bad[i]))
			fail_msg("time_zone_valid accepted \"%s\"", bad[i]);
		assert_false(time_local_date(0, bad[i], &d));
		assert_int_equal(d, 5);
	}
	assert_false(time_zone_valid(NULL));
	assert_false(time_local_date(0, NULL, &d));
}

static void
test_timeutil_zone_from_tzdir(void **state)
{
	char *dir = ts_make_tmpdir("tzdir");
	char sub[1024];
	char zone[1024];
	char junk[1024];
	size_t len = 0;
	char *tzif = ts_read_file("/usr/share/zoneinfo/America/New_York", &len);
	FILE *fp;
	ClDate d = 0;

	(void) state;
	snprintf(sub, sizeof(sub), "%s/Test", dir);
	snprintf(zone, sizeof(zone), "%s/Test/Zone", dir);
	snprintf(junk, sizeof(junk), "%s/Test/Junk", dir);
	assert_int_equal(mkdir(sub, 0755), 0);
	fp = fopen(zone, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(tzif, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
	ts_write_file(junk, "not a zone file\n");

	assert_false(time_zone_valid("Test/Zone"));
	assert_int_equal(setenv("TZDIR", dir, 1), 0);
	assert_true(time_zone_valid("Test/Zone"));
	assert_false(time_zone_valid("Test/Junk"));
	/* the file found in TZDIR is the one used */
	assert_true(time_local_date(parse_ok("2024-03-11T04:30:00Z"), "Test/Zone", &d));
	assert_int_equal(d, ymd("2024-03-11"));
	/* the system database is still searched */
	assert_true(time_zone_valid("Europe/Berlin"));
	assert_int_equal(unsetenv("TZDIR"), 0);

	free(tzif);
	ts_rmdir_r(dir);
	free(dir);
}

typedef struct ZoneCase
{
	const char *tz;
	ClTime t;
	ClDate want;
	int failures;
} ZoneCase;

static void *
zone_worker(void *arg)
{
	ZoneCase *c = arg;

	for (int i = 0; i < 300; i++)
	{
		ClDate d = 0;

		if (!time_local_date(c->t, c->tz, &d) || d != c->want)
			c->failures++;
	}
	return NULL;
}

static void
test_timeutil_local_date_threads(void **state)
{
	/* the same instant is on different dates in the two zones, so a TZ
	 * switch leaking between threads would show up as a wrong date */
	ZoneCase cases[4] = {
		{"Europe/Berlin", 0, 0, 0},
		{"America/New_York", 0, 0, 0},
		{"Europe/Berlin", 0, 0, 0},
		{"America/New_York", 0, 0, 0},
	};
	pthread_t th[4];

	(void) state;
	for (int i = 0; i < 4; i++)
	{
		cases[i].t = parse_ok("2024-07-01T23:30:00Z");
		cases[i].want = ymd(i % 2 == 0 ? "2024-07-02" : "2024-07-01");
		assert_int_equal(pthread_create(&th[i], NULL, zone_worker, &cases[i]), 0);
	}
	for (int i = 0; i < 4; i++)
	{
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(cases[i].failures, 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timeutil_parse_rfc3339_utc),
		cmocka_unit_test(test_timeutil_parse_rfc3339_offsets),
		cmocka_unit_test(test_timeutil_parse_rfc3339_fractions),
		cmocka_unit_test(test_timeutil_parse_rfc3339_rejects),
		cmocka_unit_test(test_timeutil_parse_epoch_ms),
		cmocka_unit_test(test_timeutil_date_parse),
		cmocka_unit_test(test_timeutil_format),
		cmocka_unit_test(test_timeutil_format_parse_round_trip),
		cmocka_unit_test(test_timeutil_civil_matches_libc),
		cmocka_unit_test(test_timeutil_civil_every_day),
		cmocka_unit_test(test_timeutil_utc_date_floors),
		cmocka_unit_test(test_timeutil_now_is_current),
		cmocka_unit_test(test_timeutil_local_date_utc),
		cmocka_unit_test(test_timeutil_local_date_berlin_dst),
		cmocka_unit_test(test_timeutil_local_date_new_york_dst),
		cmocka_unit_test(test_timeutil_local_date_restores_tz),
		cmocka_unit_test(test_timeutil_zone_names),
		cmocka_unit_test(test_timeutil_zone_from_tzdir),
		cmocka_unit_test(test_timeutil_local_date_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
