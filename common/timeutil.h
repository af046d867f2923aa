/*
 * timeutil.h: timestamps and dates as vendors send them and as staging
 * stores them. No libc time zone state is consulted for UTC work.
 *
 * A timestamp is int64 microseconds since 1970-01-01T00:00:00Z (ClTime).
 * A date is int32 days since 1970-01-01 (ClDate).
 */
#ifndef CL_TIMEUTIL_H
#define CL_TIMEUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef int64_t ClTime;   /* microseconds since the epoch, UTC */
typedef int32_t ClDate;   /* days since 1970-01-01 */

#define CL_USEC_PER_SEC  INT64_C(1000000)
#define CL_USEC_PER_DAY  (INT64_C(86400) * CL_USEC_PER_SEC)

/* RFC 3339: "2026-03-04T05:06:07Z", "...07.123456+03:00", "t" and "z"
 * accepted, lower-case; a space instead of T is rejected. Fractions beyond
 * microseconds are truncated only if the extra digits are zero, else
 * rejected. Returns false on anything else (never guesses). */
bool time_parse_rfc3339(const char *s, ClTime *out);

/* Epoch milliseconds as a decimal string ("1700000000123"). */
bool time_parse_epoch_ms(const char *s, ClTime *out);

/* "YYYY-MM-DD", validated against the calendar. */
bool date_parse(const char *s, ClDate *out);

/* Format as "YYYY-MM-DDTHH:MM:SSZ", or with ".ffffff" when the fraction is
 * not zero. buf must hold CL_TIME_BUFSIZE bytes. Returns buf. */
#define CL_TIME_BUFSIZE 32
char *time_format_rfc3339(ClTime t, char *buf);

/* Format "YYYY-MM-DD"; buf must hold CL_DATE_BUFSIZE bytes. Returns buf. */
#define CL_DATE_BUFSIZE 16
char *date_format(ClDate d, char *buf);

/* Civil calendar conversions (proleptic Gregorian). */
ClDate date_from_ymd(int year, int month, int day);
void date_to_ymd(ClDate d, int *year, int *month, int *day);

/* The UTC date of a timestamp (floor division, correct before 1970). */
ClDate time_utc_date(ClTime t);
ClTime date_start_utc(ClDate d);

/* Current time. */
ClTime time_now(void);

/*
 * time_local_date gives the calendar date of t in the IANA time zone tz
 * ("UTC", "Europe/Berlin"). Returns false when the zone is unknown.
 */
bool time_local_date(ClTime t, const char *tz, ClDate *out);
bool time_zone_valid(const char *tz);

#endif
