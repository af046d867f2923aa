#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "retry.h"
#include "timeutil.h"

static int64_t
mono_ms(void)
{
	struct timespec ts;

	assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &ts), 0);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
test_retry_sleeps_within_bounds(void **state)
{
	RetryPolicy p = {1000, 100, 20000, INT64_MAX};

	(void) state;
	for (uint64_t seed = 1; seed <= 20; seed++)
	{
		RetryState st;
		int64_t prev = 0;
		int64_t total = 0;
		int64_t sleep = -1;

		retry_start(&st, seed);
		for (int i = 0; i < 200; i++)
		{
			int64_t upper = (prev > p.base_ms ? prev : p.base_ms) * 3;

			assert_true(retry_next(&p, &st, -1, &sleep));
			assert_true(sleep >= p.base_ms);
			assert_true(sleep <= p.max_sleep_ms);
			assert_true(sleep <= upper);
			total += sleep;
			prev = sleep;
		}
		assert_int_equal(st.attempt, 200);
		assert_int_equal(st.slept_ms, total);
		assert_int_equal(st.last_sleep_ms, prev);
	}
}

static int
cmp_int64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *) a;
	int64_t y = *(const int64_t *) b;

	return (x > y) - (x < y);
}

static void
test_retry_sleeps_grow(void **state)
{
	enum { NSEEDS = 201, NSTEPS = 16 };
	RetryPolicy p = {100, 100, INT64_C(1000000000), INT64_MAX};
	static int64_t sleeps[NSTEPS][NSEEDS];
	int64_t median[NSTEPS];

	(void) state;
	for (int s = 0; s < NSEEDS; s++)
	{
		RetryState st;

		retry_start(&st, (uint64_t) s + 1000);
		for (int k = 0; k < NSTEPS; k++)
		{
			assert_true(retry_next(&p, &st, -1, &sleeps[k][s]));
			if (k == 0)
				assert_true(sleeps[0][s] <= 3 * p.base_ms);
		}
	}
	for (int k = 0; k < NSTEPS; k++)
	{
		qsort(sleeps[k], NSEEDS, sizeof(int64_t), cmp_int64);
		median[k] = sleeps[k][NSEEDS / 2];
	}
	/* each sleep is drawn from [base, 3 * previous]: the typical sleep
	 * keeps growing (medians about 200, 800, 2500, 7000 at steps 0, 4, 9,
	 * 15), and sleeps far beyond the first window appear */
	assert_true(median[0] >= 150 && median[0] <= 250);
	assert_true(median[4] > 2 * median[0]);
	assert_true(median[9] > 2 * median[4]);
	assert_true(median[15] > median[9] * 3 / 2);
	assert_true(sleeps[15][NSEEDS - 1] > 100 * p.base_ms);
}

static void
test_retry_sleep_capped(void **state)
{
	RetryPolicy p = {100, 100, 500, INT64_MAX};
	RetryState st;
	int64_t sleep = 0;
	int at_cap = 0;

	(void) state;
	retry_start(&st, 42);
	for (int i = 0; i < 60; i++)
	{
		assert_true(retry_next(&p, &st, -1, &sleep));
		assert_true(sleep <= 500);
		at_cap += sleep == 500;
	}
	/* with cap < 3 * cap, half the draws or so land beyond it */
	assert_true(at_cap >= 10);

	/* a cap below base wins: every sleep is the cap */
	RetryPolicy q = {10, 100, 50, INT64_MAX};

	retry_start(&st, 1);
	for (int i = 0; i < 9; i++)
	{
		assert_true(retry_next(&q, &st, -1, &sleep));
		assert_int_equal(sleep, 50);
	}
}

static void
test_retry_deterministic_seed(void **state)
{
	RetryPolicy p = {30, 100, 100000, INT64_MAX};
	RetryState a;
	RetryState b;
	RetryState c;
	bool differs = false;

	(void) state;
	retry_start(&a, 7);
	retry_start(&b, 7);
	retry_start(&c, 8);
	for (int i = 0; i < 29; i++)
	{
		int64_t sa = 0;
		int64_t sb = 0;
		int64_t sc = 0;

		assert_true(retry_next(&p, &a, -1, &sa));
		assert_true(retry_next(&p, &b, -1, &sb));
		assert_true(retry_next(&p, &c, -1, &sc));
		assert_int_equal(sa, sb);
		differs |= sa != sc;
	}
	assert_true(differs);

	/* seed 0 is a valid seed too (xorshift must not start at 0) */
	retry_start(&a, 0);
	assert_int_not_equal(a.rng, 0);
}

static void
test_retry_attempts_bound(void **state)
{
	RetryPolicy p = {4, 10, 100, INT64_MAX};
	RetryPolicy once = {1, 10, 100, INT64_MAX};
	RetryState st;
	int64_t sleep = 0;

	(void) state;
	retry_start(&st, 3);
	assert_int_equal(st.attempt, 0);
	assert_true(retry_next(&p, &st, -1, &sleep));   /* after try 1 */
	assert_true(retry_next(&p, &st, -1, &sleep));   /* after try 2 */
	assert_true(retry_next(&p, &st, -1, &sleep));   /* after try 3 */
	assert_false(retry_next(&p, &st, -1, &sleep));  /* try 4 was the last */
	assert_int_equal(st.attempt, 4);
	assert_false(retry_next(&p, &st, -1, &sleep));
	assert_false(retry_next(&p, &st, 0, &sleep));
	assert_int_equal(st.attempt, 4);

	retry_start(&st, 3);
	assert_false(retry_next(&once, &st, -1, &sleep));
	assert_false(retry_next(&once, &st, 0, &sleep));
}

static void
test_retry_total_budget(void **state)
{
	/* base == cap makes every jittered sleep exactly 100 */
	RetryPolicy p = {100, 100, 100, 350};
	RetryPolicy none = {100, 1, 1000, 0};
	RetryState st;
	int64_t sleep = 0;

	(void) state;
	retry_start(&st, 5);
	assert_true(retry_next(&p, &st, -1, &sleep));
	assert_int_equal(sleep, 100);
	assert_true(retry_next(&p, &st, -1, &sleep));
	assert_true(retry_next(&p, &st, -1, &sleep));
	assert_int_equal(st.slept_ms, 300);
	/* 300 + 100 would exceed 350: give up now instead of sleeping 50 */
	assert_false(retry_next(&p, &st, -1, &sleep));
	assert_int_equal(st.slept_ms, 300);

	/* random schedules never exceed the budget either */
	for (uint64_t seed = 1; seed <= 50; seed++)
	{
		RetryPolicy q = {1000, 50, 2000, 7000};
		int n = 0;

		retry_start(&st, seed);
		while (retry_next(&q, &st, -1, &sleep))
			n++;
		assert_true(st.slept_ms <= 7000);
		assert_true(n > 0 && n < 999);
	}

	retry_start(&st, 5);
	assert_false(retry_next(&none, &st, -1, &sleep));
}

static void
test_retry_after_honoured(void **state)
{
	RetryPolicy p = {10, 100, 1000, 10000};
	RetryState st;
	int64_t sleep = -1;

	(void) state;
	retry_start(&st, 9);
	/* beyond the per-sleep cap, but within the budget: exactly as asked */
	assert_true(retry_next(&p, &st, 2500, &sleep));
	assert_int_equal(sleep, 2500);
	assert_true(retry_next(&p, &st, 0, &sleep));
	assert_int_equal(sleep, 0);
	assert_true(retry_next(&p, &st, 7500, &sleep));     /* fits exactly */
	assert_int_equal(sleep, 7500);
	assert_int_equal(st.slept_ms, 10000);
	/* nothing left */
	assert_false(retry_next(&p, &st, 1, &sleep));
}

static void
test_retry_after_too_long(void **state)
{
	RetryPolicy p = {10, 100, 1000, 60000};
	RetryState st;
	int64_t sleep = -1;

	(void) state;
	retry_start(&st, 9);
	assert_false(retry_next(&p, &st, 60001, &sleep));
	assert_int_equal(sleep, -1);

	retry_start(&st, 9);
	assert_true(retry_next(&p, &st, 30000, &sleep));
	assert_false(retry_next(&p, &st, 30001, &sleep));
}

static void
test_retry_sleep_duration(void **state)
{
	int64_t t0;
	int64_t elapsed;

	(void) state;
	t0 = mono_ms();
	assert_true(retry_sleep_ms(0));
	assert_true(retry_sleep_ms(-5));
	assert_true(mono_ms() - t0 < 50);

	t0 = mono_ms();
	assert_true(retry_sleep_ms(250));
	elapsed = mono_ms() - t0;
	assert_true(elapsed >= 250);
	assert_true(elapsed < 2000);
}

static void
on_alarm(int sig)
{
	(void) sig;
	cl_request_stop();
}

/*
 * stop_child runs in a forked process because the stop flag cannot be
 * cleared: a SIGALRM handler requests the stop while the child sleeps.
 * Exit status 0 means every expectation held.
 */
static int
stop_child(void)
{
	struct sigaction sa;
	struct itimerval it;
	RetryPolicy p = {10, 10, 100, 100000};
	RetryState st;
	int64_t sleep = 0;
	int64_t t0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	if (sigaction(SIGALRM, &sa, NULL) != 0)
		return 10;
	if (cl_stop_requested())
		return 11;
	retry_start(&st, 1);
	if (!retry_next(&p, &st, -1, &sleep))
		return 12;

	memset(&it, 0, sizeof(it));
	it.it_value.tv_usec = 150000;
	if (setitimer(ITIMER_REAL, &it, NULL) != 0)
		return 13;
	t0 = mono_ms();
	if (retry_sleep_ms(30000))
		return 14;              /* must wake early */
	if (mono_ms() - t0 > 2000)
		return 15;              /* woke within a slice or so */
	if (!cl_stop_requested())
		return 16;
	if (retry_sleep_ms(1000))
		return 17;
	if (retry_next(&p, &st, -1, &sleep))
		return 18;              /* no more retries once stopping */
	return 0;
}

static void
test_retry_stop_interrupts_sleep(void **state)
{
	pid_t pid;
	int status = 0;

	(void) state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(stop_child());
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* the parent's flag is untouched */
	assert_false(cl_stop_requested());
}

static int64_t
imf_now(const char *rfc3339)
{
	ClTime t = 0;

	assert_true(time_parse_rfc3339(rfc3339, &t));
	return t;
}

static void
test_retry_after_parse_seconds(void **state)
{
	(void) state;
	assert_int_equal(retry_after_parse("120", 0), 120000);
	assert_int_equal(retry_after_parse("0", 0), 0);
	assert_int_equal(retry_after_parse("007", 0), 7000);
	assert_int_equal(retry_after_parse(" 5\t", 0), 5000);
	/* absurdly large values are clamped, not wrapped */
	assert_int_equal(retry_after_parse("99999999999999999999999", 0),
					 INT64_C(2147483648) * 1000);
	assert_int_equal(retry_after_parse("", 0), -1);
	assert_int_equal(retry_after_parse("   ", 0), -1);
	assert_int_equal(retry_after_parse("-5", 0), -1);
	assert_int_equal(retry_after_parse("+5", 0), -1);
	assert_int_equal(retry_after_parse("1.5", 0), -1);
	assert_int_equal(retry_after_parse("5s", 0), -1);
	assert_int_equal(retry_after_parse("5 5", 0), -1);
	assert_int_equal(retry_after_parse("0x10", 0), -1);
	assert_int_equal(retry_after_parse(NULL, 0), -1);
}

static void
test_retry_after_parse_dates(void **state)
{
	int64_t now = imf_now("1994-11-06T08:49:00Z");

	(void) state;
	assert_int_equal(retry_after_parse("Sun, 06 Nov 1994 08:49:37 GMT", now), 37000);
	assert_int_equal(retry_after_parse("Sunday, 06-Nov-94 08:49:37 GMT", now), 37000);
	assert_int_equal(retry_after_parse("Sun Nov  6 08:49:37 1994", now), 37000);
	assert_int_equal(retry_after_parse("Mon, 07 Nov 1994 08:49:00 GMT", now),
					 INT64_C(86400000));
	/* a partial second still waits until the date */
	assert_int_equal(retry_after_parse("Sun, 06 Nov 1994 08:49:37 GMT",
									   now + 36999500), 1);
	/* the past and the present mean "now" */
	assert_int_equal(retry_after_parse("Sun, 06 Nov 1994 08:49:00 GMT", now), 0);
	assert_int_equal(retry_after_parse("Sat, 05 Nov 1994 08:49:37 GMT", now), 0);
	assert_int_equal(retry_after_parse("Thu, 01 Jan 1970 00:00:00 GMT", now), 0);
	/* a leap second is allowed by the HTTP grammar */
	assert_int_equal(retry_after_parse("Sun, 06 Nov 1994 08:49:60 GMT", now), 60000);
	assert_int_equal(retry_after_parse("Sun Nov 16 08:49:00 1994", now),
					 INT64_C(10) * 86400000);

	static const char *const bad[] = {
		"Sun, 06 Nov 1994 08:49:37 UTC",
		"Sun, 06 Nov 1994 08:49:37 gmt",
		"Sun, 6 Nov 1994 08:49:37 GMT",
		"Sun, 06 nov 1994 08:49:37 GMT",
		"Sun, 06 Nov 94 08:49:37 GMT",
		"Sun, 31 Feb 1994 08:49:37 GMT",
		"Sun, 29 Feb 1993 08:49:37 GMT",
		"Sun, 06 Nov 1994 24:00:00 GMT",
		"Sun, 06 Nov 1994 08:60:00 GMT",
		"Sun, 06 Nov 1994 08:49:61 GMT",
		"Sun, 06 Nov 1994 08:49:37 GMT+1",
		"Sun, 06 Nov 1994 08:49:37",
		"Xyz, 06 Nov 1994 08:49:37 GMT",
		"Sunday, 06 Nov 1994 08:49:37 GMT",
		"Sun, 06-Nov-94 08:49:37 GMT",
		"Sonntag, 06-Nov-94 08:49:37 GMT",
		"Sun Nov 6 08:49:37 1994",
		"Sun Nov  6 08:49:37 94",
		"Sun Nov 06 08:49:37 1994 GMT",
		"1994-11-06T08:49:37Z",
		"tomorrow",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		if (retry_after_parse(bad[i], now) != -1)
			fail_msg("retry_after_parse accepted \"%s\"", bad[i]);
	}
}

static void
test_retry_after_parse_rfc850_century(void **state)
{
	(void) state;
	/* "94" seen from 2026 is 1994 (2094 would be > 50 years ahead) */
	assert_int_equal(retry_after_parse("Sunday, 06-Nov-94 08:49:37 GMT",
									   imf_now("2026-01-01T00:00:00Z")), 0);
	/* "27" seen from 2026 is 2027: within 50 years ahead */
	assert_int_equal(retry_after_parse("Friday, 01-Jan-27 00:00:00 GMT",
									   imf_now("2026-12-31T23:59:00Z")), 60000);
	/* "77" seen from 2026 would be 2077 (> 50 years ahead): 1977 */
	assert_int_equal(retry_after_parse("Saturday, 01-Jan-77 00:00:00 GMT",
									   imf_now("2026-01-01T00:00:00Z")), 0);
	/* and in the next century: "01" seen from 2100 is 2101 */
	assert_int_equal(retry_after_parse("Saturday, 01-Jan-01 00:00:10 GMT",
									   imf_now("2100-12-31T23:59:50Z")), 20000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_retry_sleeps_within_bounds),
		cmocka_unit_test(test_retry_sleeps_grow),
		cmocka_unit_test(test_retry_sleep_capped),
		cmocka_unit_test(test_retry_deterministic_seed),
		cmocka_unit_test(test_retry_attempts_bound),
		cmocka_unit_test(test_retry_total_budget),
		cmocka_unit_test(test_retry_after_honoured),
		cmocka_unit_test(test_retry_after_too_long),
		cmocka_unit_test(test_retry_sleep_duration),
		cmocka_unit_test(test_retry_stop_interrupts_sleep),
		cmocka_unit_test(test_retry_after_parse_seconds),
		cmocka_unit_test(test_retry_after_parse_dates),
		cmocka_unit_test(test_retry_after_parse_rfc850_century),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
