/*
 * journeys.h: the won deals of the window and the touches that led to them.
 *
 * A conversion is a won deal (is_won, not deleted) whose close date, the
 * local date of closed_at in [pipeline] timezone, is in the window. Its
 * journey is the touches of its contacts (identity.h) at or after
 * closed_at - lookback_days and at or before closed_at, ordered by
 * (at, touch_id, source_system), each (source_system, touch_id) once.
 */
#ifndef CL_JOURNEYS_H
#define CL_JOURNEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dataset.h"
#include "identity.h"
#include "localdate.h"

typedef struct Conversion
{
	const Deal *deal;           /* borrowed */
	ClDate close_date;
	int64_t amount_minor;       /* 0 when the deal has no amount */
	const char *currency;       /* the deal's, or the reporting currency */
	int64_t amount_reporting;   /* set by the caller after conversion */
	size_t first;               /* journey: touches[first .. first + n) */
	uint32_t n;
} Conversion;

typedef struct Journeys
{
	Conversion *items;          /* owned; sorted by (close_date,
								 * deal source_system, deal_id) */
	size_t n;
	const Touch **touches;      /* owned array of borrowed touches */
	size_t n_touches;
	int64_t won_without_close;  /* won deals skipped: no closed_at */
	int64_t without_touches;    /* conversions with an empty journey */
	int64_t without_amount;     /* conversions whose deal has no amount */
} Journeys;

/*
 * journeys_build finds the conversions of [from, to] and their journeys;
 * reporting is the currency of deals that have no amount and none.
 * false when out of memory or a date cannot be converted (logged).
 */
bool journeys_build(const Dataset *ds, const Identity *id, LocalDates *local, ClDate from,
					ClDate to, int lookback_days, const char *reporting, Journeys *out);
void journeys_free(Journeys *j);

/* deal_order: (source_system, deal_id). */
int deal_order(const Deal *a, const Deal *b);

#endif
