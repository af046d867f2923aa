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
#include "pathfit.h"

typedef struct Conversion
{
	const Deal *deal;           /* borrowed */
	ClDate close_date;
	int64_t amount_minor;       /* 0 when the deal has no amount */
	const char *currency;       /* the deal's, or the reporting currency */
	int64_t amount_reporting;   /* set by the caller after conversion */
	ClTime lead_created_at;     /* earliest created_at of the deal's contacts'
								 * leads, TX_TIME_NONE when none has one */
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

/*
 * journeys_fit_paths fills paths (empty, not finished) with the window's
 * channel paths for the data-driven models and finishes it:
 *
 * - converting: the journey of every conversion with touches (1
 *   conversion, its reporting amount as revenue);
 * - non-converting: one per person (contact, or email of a lead without
 *   contact id) none of whose contacts is a contact of a conversion of the
 *   window, whose first lead is not deleted and was created on or before
 *   `to` (local date), with the person's touches whose local date is in
 *   [to - lookback_days, to]; a person without such touches is no path.
 *
 * *non_converting counts the latter. false when out of memory (logged).
 */
bool journeys_fit_paths(const Dataset *ds, const Identity *id, LocalDates *local,
						const Journeys *js, ClDate to, int lookback_days, PathTable *paths,
						int64_t *non_converting);

/* deal_order: (source_system, deal_id). */
int deal_order(const Deal *a, const Deal *b);

#endif
