/*
 * localdate.h: the calendar date of a timestamp in the configured time zone,
 * cached.
 *
 * time_local_date() switches the process time zone for every call, which is
 * far too slow for the millions of touches and email events of a run. Every
 * zone in use today has offsets and transitions on quarter hours, so the
 * local date is constant within a UTC quarter hour; the cache remembers the
 * date of each quarter hour whose first and last microsecond give the same
 * date, and asks time_local_date() for every timestamp of a quarter hour
 * that does not (a date change inside it), so results stay exact.
 */
#ifndef CL_LOCALDATE_H
#define CL_LOCALDATE_H

#include <stdbool.h>
#include <stdint.h>

#include "timeutil.h"

typedef struct LocalDateSlot
{
	int64_t bucket;         /* quarter hours since the epoch */
	ClDate date;
	bool valid;             /* the bucket has one date throughout */
	bool used;
} LocalDateSlot;

typedef struct LocalDates
{
	const char *tz;         /* borrowed zone name */
	LocalDateSlot *slots;   /* owned, direct-mapped */
} LocalDates;

/* localdate_init: false when tz is unknown or out of memory (logged). */
bool localdate_init(LocalDates *c, const char *tz);
void localdate_free(LocalDates *c);

/* localdate_get: the date of t in the zone; false only when the zone
 * database cannot convert t (logged). */
bool localdate_get(LocalDates *c, ClTime t, ClDate *out);

#endif
