/*
 * retry.h: the one retry policy of closedloop: exponential backoff with
 * decorrelated jitter (sleep = min(cap, random(base, previous * 3))),
 * bounded in attempts and in total time, honouring a server's Retry-After.
 */
#ifndef CL_RETRY_H
#define CL_RETRY_H

#include <stdbool.h>
#include <stdint.h>

typedef struct RetryPolicy
{
	int max_attempts;       /* total tries including the first; >= 1 */
	int64_t base_ms;        /* first sleep lower bound */
	int64_t max_sleep_ms;   /* cap of one sleep */
	int64_t max_total_ms;   /* cap of the sum of sleeps */
} RetryPolicy;

typedef struct RetryState
{
	int attempt;            /* tries made so far */
	int64_t slept_ms;       /* total slept */
	int64_t last_sleep_ms;
	uint64_t rng;           /* xorshift state; seeded by retry_start */
} RetryState;

void retry_start(RetryState *st, uint64_t seed);

/*
 * retry_next decides whether another attempt may follow the one that just
 * failed. server_delay_ms >= 0 is the delay the server asked for
 * (Retry-After); it is honoured exactly, without jitter, when it fits in
 * the remaining total budget, otherwise retry_next returns false. On true,
 * *sleep_ms is how long to wait before the next try.
 */
bool retry_next(const RetryPolicy *p, RetryState *st, int64_t server_delay_ms,
				int64_t *sleep_ms);

/* Sleep, waking early (returning false) when a stop was requested. */
bool retry_sleep_ms(int64_t ms);

/* Process-wide stop flag, set from SIGINT/SIGTERM handlers. */
void cl_request_stop(void);
bool cl_stop_requested(void);

/*
 * retry_after_parse: the HTTP Retry-After value, either delta-seconds or an
 * HTTP-date (IMF-fixdate "Sun, 06 Nov 1994 08:49:37 GMT"), relative to
 * now_us. Returns the delay in ms (0 for a date in the past), or -1 when
 * the value is malformed.
 */
int64_t retry_after_parse(const char *value, int64_t now_us);

#endif
