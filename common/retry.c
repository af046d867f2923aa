/*
 * retry.c: the retry policy (decorrelated jitter), an interruptible sleep,
 * the process-wide stop flag and the Retry-After parser.
 *
 * Decorrelated jitter (from the AWS Architecture Blog article "Exponential
 * Backoff And Jitter"): sleep = min(cap, random_between(base, previous * 3)).
 * It spreads clients apart better than full jitter while still growing
 * roughly geometrically. The random generator is a seeded xorshift64*, so a
 * given seed always produces the same schedule (tests rely on that; callers
 * seed it from the clock and pid).
 *
 * Nothing here logs: the caller knows what is being retried and logs the
 * first retry (WARN) and the recovery (INFO).
 */
#include <signal.h>
#include <string.h>
#include <time.h>

#include "retry.h"
#include "timeutil.h"

/* One sleep slice: the longest delay before a stop request is noticed. */
#define RETRY_SLICE_MS 100

/* RFC 9111 1.2.2: delta-seconds too large to represent are taken as 2^31. */
#define RETRY_AFTER_MAX_SECONDS INT64_C(2147483648)

/* Longest Retry-After value looked at; the longest valid form (an rfc850
 * date on a Wednesday) has 33 bytes. */
#define RETRY_AFTER_MAX_LEN 64

static volatile sig_atomic_t stop_flag = 0;

/*
 * splitmix64 turns any seed, 0 included, into a well-mixed 64-bit value, so
 * that nearby seeds do not start xorshift with nearby states.
 */
static uint64_t
splitmix64(uint64_t x)
{
	x += UINT64_C(0x9e3779b97f4a7c15);
	x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
	return x ^ (x >> 31);
}

/*
 * rng_next advances the xorshift64* generator (Vigna) and returns its next
 * output; the multiplication hides xorshift's weak low bits.
 */
static uint64_t
rng_next(RetryState *st)
{
	uint64_t x = st->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	st->rng = x;
	return x * UINT64_C(0x2545f4914f6cdd1d);
}

/*
 * random_between returns a value in [lo, hi] (both >= 0, lo <= hi). The
 * modulo bias is below 2^-30 for any span a sleep can have, which does not
 * matter for jitter.
 */
static int64_t
random_between(RetryState *st, int64_t lo, int64_t hi)
{
	uint64_t span = (uint64_t) (hi - lo) + 1;

	return lo + (int64_t) (rng_next(st) % span);
}

/*
 * retry_start resets the state before the first try of an operation.
 */
void
retry_start(RetryState *st, uint64_t seed)
{
	memset(st, 0, sizeof(*st));
	st->rng = splitmix64(seed);
	if (st->rng == 0)
		st->rng = UINT64_C(0x9e3779b97f4a7c15);    /* xorshift's fixed point */
}

static int64_t
max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

static int64_t
min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/*
 * retry_next counts the try that just failed and plans the next one. The
 * policy comes from validated configuration; negative values are read as 0
 * and max_attempts below 1 as 1 so that a bad policy never loops.
 *
 * A requested stop (cl_request_stop) ends retrying too: there is no point
 * in waiting for a try the process will not make.
 *
 * The total budget is checked before sleeping: a sleep that would cross
 * max_total_ms is not shortened to fit, the operation gives up instead, so
 * the caller learns of the failure now rather than after a useless wait.
 */
bool
retry_next(const RetryPolicy *p, RetryState *st, int64_t server_delay_ms,
		   int64_t *sleep_ms)
{
	int max_attempts = p->max_attempts < 1 ? 1 : p->max_attempts;
	int64_t base = max64(p->base_ms, 0);
	int64_t cap = max64(p->max_sleep_ms, 0);
	int64_t total = max64(p->max_total_ms, 0);
	int64_t remaining;
	int64_t sleep;

	if (st->attempt < max_attempts)
		st->attempt++;
	if (st->attempt >= max_attempts || cl_stop_requested())
		return false;
	remaining = total - st->slept_ms;

	if (server_delay_ms >= 0)
	{
		if (server_delay_ms > remaining)
			return false;
		sleep = server_delay_ms;
	}
	else
	{
		int64_t prev = max64(st->last_sleep_ms, base);
		int64_t hi = prev > INT64_MAX / 3 ? INT64_MAX : prev * 3;

		sleep = min64(cap, random_between(st, base, hi));
		if (sleep > remaining)
			return false;
	}

	st->slept_ms += sleep;
	st->last_sleep_ms = sleep;
	*sleep_ms = sleep;
	return true;
}

static int64_t
monotonic_ms(void)
{
	struct timespec ts;

	(void) clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * retry_sleep_ms sleeps in slices of at most RETRY_SLICE_MS, checking the
 * stop flag between them, against a monotonic deadline so that signals
 * (EINTR) and clock changes neither lengthen nor shorten the wait. Returns
 * false as soon as a stop is requested, including one that arrives during
 * the last slice.
 */
bool
retry_sleep_ms(int64_t ms)
{
	/* about 290 million years: keeps deadline arithmetic in range */
	const int64_t longest = INT64_MAX / 1000000;
	int64_t deadline;

	if (ms < 0)
		ms = 0;
	if (ms > longest)
		ms = longest;
	deadline = monotonic_ms() + ms;

	for (;;)
	{
		int64_t now;
		int64_t slice;
		struct timespec req;

		if (cl_stop_requested())
			return false;
		now = monotonic_ms();
		if (now >= deadline)
			return true;
		slice = min64(deadline - now, RETRY_SLICE_MS);
		req.tv_sec = (time_t) (slice / 1000);
		req.tv_nsec = (long) (slice % 1000) * 1000000L;
		(void) nanosleep(&req, NULL);   /* EINTR: the loop re-checks */
	}
}

/*
 * cl_request_stop is async-signal-safe: it only stores to a volatile
 * sig_atomic_t.
 */
void
cl_request_stop(void)
{
	stop_flag = 1;
}

bool
cl_stop_requested(void)
{
	return stop_flag != 0;
}

static const char *const day_short[7] = {
	"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"
};
static const char *const day_long[7] = {
	"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"
};
static const char *const month_names[12] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};

static bool
digits_at(const char *s, int n, int *out)
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
 * day_name_at checks the spelling of a day name (HTTP-date names are
 * case-sensitive) but not that it matches the date: a wrong weekday does
 * not make the instant ambiguous.
 */
static bool
day_name_at(const char *s, size_t len, const char *const names[7])
{
	for (int i = 0; i < 7; i++)
	{
		if (strlen(names[i]) == len && memcmp(s, names[i], len) == 0)
			return true;
	}
	return false;
}

static bool
month_at(const char *s, int *month)
{
	for (int i = 0; i < 12; i++)
	{
		if (memcmp(s, month_names[i], 3) == 0)
		{
			*month = i + 1;
			return true;
		}
	}
	return false;
}

/*
 * time_of_day_at reads "HH:MM:SS" as seconds since midnight. RFC 9110
 * allows second 60 (a leap second), which simply counts as the first
 * second of the next minute here.
 */
static bool
time_of_day_at(const char *s, int *secs)
{
	int h;
	int m;
	int sec;

	if (!digits_at(s, 2, &h) || s[2] != ':' || !digits_at(s + 3, 2, &m) ||
		s[5] != ':' || !digits_at(s + 6, 2, &sec))
		return false;
	if (h > 23 || m > 59 || sec > 60)
		return false;
	*secs = h * 3600 + m * 60 + sec;
	return true;
}

/*
 * civil_to_us validates the calendar date by a round trip through the day
 * count (an impossible date such as Feb 30 comes back as another day) and
 * returns the instant.
 */
static bool
civil_to_us(int year, int month, int day, int secs, int64_t *out)
{
	ClDate d;
	int y2;
	int m2;
	int d2;

	if (month < 1 || month > 12 || day < 1 || day > 31)
		return false;
	d = date_from_ymd(year, month, day);
	date_to_ymd(d, &y2, &m2, &d2);
	if (y2 != year || m2 != month || d2 != day)
		return false;
	*out = date_start_utc(d) + (int64_t) secs * CL_USEC_PER_SEC;
	return true;
}

/*
 * http_date_us parses the three HTTP-date forms of RFC 9110 5.6.7:
 *   IMF-fixdate  "Sun, 06 Nov 1994 08:49:37 GMT"
 *   rfc850-date  "Sunday, 06-Nov-94 08:49:37 GMT"
 *   asctime-date "Sun Nov  6 08:49:37 1994"
 * A two-digit rfc850 year is placed in now's century, or the one before
 * when that would be more than 50 years in the future (as RFC 9110
 * requires).
 */
static bool
http_date_us(const char *s, size_t len, int64_t now_us, int64_t *out)
{
	int year;
	int month;
	int day;
	int secs;
	const char *comma;

	if (len == 29 && s[3] == ',')
	{
		if (!day_name_at(s, 3, day_short) || s[4] != ' ' ||
			!digits_at(s + 5, 2, &day) || s[7] != ' ' ||
			!month_at(s + 8, &month) || s[11] != ' ' ||
			!digits_at(s + 12, 4, &year) || s[16] != ' ' ||
			!time_of_day_at(s + 17, &secs) || s[25] != ' ' ||
			memcmp(s + 26, "GMT", 3) != 0)
			return false;
		return civil_to_us(year, month, day, secs, out);
	}

	if (len == 24 && s[3] == ' ')
	{
		if (!day_name_at(s, 3, day_short) || !month_at(s + 4, &month) ||
			s[7] != ' ')
			return false;
		if (s[8] == ' ')
		{
			if (!digits_at(s + 9, 1, &day))
				return false;
		}
		else if (!digits_at(s + 8, 2, &day))
		{
			return false;
		}
		if (s[10] != ' ' || !time_of_day_at(s + 11, &secs) || s[19] != ' ' ||
			!digits_at(s + 20, 4, &year))
			return false;
		return civil_to_us(year, month, day, secs, out);
	}

	comma = memchr(s, ',', len);
	if (comma != NULL && len - (size_t) (comma - s) == 24)
	{
		const char *r = comma + 1;
		int yy;
		int now_year;
		int now_month;
		int now_day;

		if (!day_name_at(s, (size_t) (comma - s), day_long) || r[0] != ' ' ||
			!digits_at(r + 1, 2, &day) || r[3] != '-' ||
			!month_at(r + 4, &month) || r[7] != '-' ||
			!digits_at(r + 8, 2, &yy) || r[10] != ' ' ||
			!time_of_day_at(r + 11, &secs) || r[19] != ' ' ||
			memcmp(r + 20, "GMT", 3) != 0)
			return false;
		date_to_ymd(time_utc_date(now_us), &now_year, &now_month, &now_day);
		year = now_year - now_year % 100 + yy;
		if (year > now_year + 50)
			year -= 100;
		return civil_to_us(year, month, day, secs, out);
	}
	return false;
}

/*
 * retry_after_parse: surrounding spaces and tabs (optional whitespace in
 * the header grammar) are ignored; anything else that is not exactly
 * delta-seconds or an HTTP-date is malformed. A date delay is rounded up to
 * whole milliseconds so the retry never comes early.
 */
int64_t
retry_after_parse(const char *value, int64_t now_us)
{
	const char *start;
	const char *end;
	size_t len;
	int64_t when;
	int64_t diff;

	if (value == NULL)
		return -1;
	start = value;
	while (*start == ' ' || *start == '\t')
		start++;
	end = start + strlen(start);
	while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	len = (size_t) (end - start);
	if (len == 0 || len > RETRY_AFTER_MAX_LEN)
		return -1;

	if (start[0] >= '0' && start[0] <= '9')
	{
		int64_t secs = 0;

		for (const char *p = start; p < end; p++)
		{
			if (*p < '0' || *p > '9')
				return -1;
			if (secs < RETRY_AFTER_MAX_SECONDS)
				secs = secs * 10 + (*p - '0');
		}
		if (secs > RETRY_AFTER_MAX_SECONDS)
			secs = RETRY_AFTER_MAX_SECONDS;
		return secs * 1000;
	}

	if (!http_date_us(start, len, now_us, &when))
		return -1;
	if (when <= now_us)
		return 0;
	if (__builtin_sub_overflow(when, now_us, &diff))
		return INT64_MAX / 1000;
	return diff / 1000 + (diff % 1000 != 0);
}
