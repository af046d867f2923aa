/*
 * journeys.c: conversions and their journeys, stored as one array of
 * touches with a slice per conversion.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "journeys.h"
#include "log.h"
#include "txutil.h"

int
deal_order(const Deal *a, const Deal *b)
{
	int c = strcmp(a->source_system, b->source_system);

	return c != 0 ? c : strcmp(a->deal_id, b->deal_id);
}

static int
conversion_cmp(const void *a, const void *b)
{
	const Conversion *x = a;
	const Conversion *y = b;
	int c = TX_CMP(x->close_date, y->close_date);

	return c != 0 ? c : deal_order(x->deal, y->deal);
}

/*
 * find_conversions collects the won deals closed in the window, sorted;
 * sorting before the journeys are collected makes the touches array come
 * out in output order too.
 */
static bool
find_conversions(const Dataset *ds, LocalDates *local, ClDate from, ClDate to,
				 const char *reporting, Journeys *out)
{
	size_t cap = 0;

	for (size_t i = 0; i < ds->n_deals; i++)
	{
		const Deal *d = &ds->deals[i];
		Conversion c = { 0 };
		Conversion *grown;

		if (d->is_deleted || !d->is_won)
			continue;
		if (d->closed_at == TX_TIME_NONE)
		{
			log_warn("won deal %s/%s has no closed_at: not attributed", d->source_system,
					 d->deal_id);
			out->won_without_close++;
			continue;
		}
		if (!localdate_get(local, d->closed_at, &c.close_date))
			return false;
		if (c.close_date < from || c.close_date > to)
			continue;
		c.deal = d;
		c.amount_minor = d->has_amount ? d->amount_minor : 0;
		c.currency = d->currency != NULL ? d->currency : reporting;
		if (!d->has_amount)
			out->without_amount++;
		grown = tx_grow(out->items, &cap, out->n + 1, sizeof(Conversion));
		if (grown == NULL)
			return false;
		out->items = grown;
		out->items[out->n++] = c;
	}
	if (out->n > 1)
		qsort(out->items, out->n, sizeof(Conversion), conversion_cmp);
	return true;
}

/*
 * journeys_build reuses one touch list for all deals; the journeys are
 * copied into one array in conversion order, which is the order credits are
 * written.
 */
bool
journeys_build(const Dataset *ds, const Identity *id, LocalDates *local, ClDate from,
			   ClDate to, int lookback_days, const char *reporting, Journeys *out)
{
	TouchList list = { 0 };
	size_t cap = 0;
	bool ok = false;

	if (!find_conversions(ds, local, from, to, reporting, out))
		goto cleanup;   /* errors have already been logged */
	for (size_t i = 0; i < out->n; i++)
	{
		Conversion *c = &out->items[i];
		const Deal *d = c->deal;
		ClTime lo = d->closed_at - (ClTime) lookback_days * CL_USEC_PER_DAY;
		const Touch **grown;

		if (!identity_touches(id, d->contact_ids, d->n_contacts, NULL, lo, d->closed_at, &list))
			goto cleanup;
		c->first = out->n_touches;
		c->n = (uint32_t) list.n;
		if (list.n == 0)
		{
			out->without_touches++;
			continue;
		}
		grown = tx_grow(out->touches, &cap, out->n_touches + list.n, sizeof(const Touch *));
		if (grown == NULL)
			goto cleanup;
		out->touches = grown;
		memcpy(out->touches + out->n_touches, list.items, list.n * sizeof(const Touch *));
		out->n_touches += list.n;
	}
	log_info("journeys: %zu won deals closed in the window, %zu touches in their journeys, "
			 "%" PRId64 " without touches", out->n, out->n_touches, out->without_touches);
	ok = true;

cleanup:
	touchlist_free(&list);
	return ok;
}

void
journeys_free(Journeys *j)
{
	free(j->items);
	free(j->touches);
	memset(j, 0, sizeof(*j));
}
