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
		c->lead_created_at = identity_contacts_first_created(id, d->contact_ids, d->n_contacts);
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

/*
 * add_path appends the channel names of touches to names (grown as needed)
 * and adds them as one path.
 */
static bool
add_path(PathTable *paths, const Touch *const *touches, size_t n, const char ***names,
		 size_t *cap, int64_t conversions, int64_t nulls, double revenue)
{
	const char **grown;

	if (n == 0)
		return true;
	grown = tx_grow(*names, cap, n, sizeof(const char *));
	if (grown == NULL)
		return false;
	*names = grown;
	for (size_t i = 0; i < n; i++)
		grown[i] = touches[i]->channel;
	return pathtable_add(paths, grown, (uint32_t) n, conversions, nulls, revenue);
}

/*
 * journeys_fit_paths walks leads in dataset order; the path table sorts
 * its rows, so the fit does not depend on that order.
 */
bool
journeys_fit_paths(const Dataset *ds, const Identity *id, LocalDates *local,
				   const Journeys *js, ClDate to, int lookback_days, PathTable *paths,
				   int64_t *non_converting)
{
	TouchList list = { 0 };
	const char **names = NULL;
	size_t cap = 0;
	bool *converted = NULL;
	ClDate lo_date = to - lookback_days;
	/* UTC bounds wide enough for any zone; local dates decide */
	ClTime lo = date_start_utc(lo_date - 1);
	ClTime hi = date_start_utc(to + 2) - 1;
	bool ok = false;

	*non_converting = 0;
	converted = calloc((size_t) identity_n_person_keys(id) + 1, sizeof(bool));
	if (converted == NULL)
	{
		log_error("out of memory collecting the paths of the window");
		goto cleanup;
	}
	for (size_t i = 0; i < js->n; i++)
	{
		const Conversion *c = &js->items[i];
		const Deal *d = c->deal;
		uint32_t key;

		for (uint32_t k = 0; k < d->n_contacts; k++)
		{
			if (identity_contact_key(id, d->contact_ids[k], &key))
				converted[key] = true;
		}
		if (!add_path(paths, js->touches + c->first, c->n, &names, &cap, 1, 0,
					  (double) c->amount_reporting))
			goto cleanup;
	}
	for (size_t i = 0; i < ds->n_leads; i++)
	{
		const Lead *l = &ds->leads[i];
		uint32_t key;
		bool first;
		size_t w = 0;
		ClDate created;

		if (!identity_person_key(id, l, &key, &first) || !first || converted[key])
			continue;
		if (l->created_at != TX_TIME_NONE)
		{
			if (!localdate_get(local, l->created_at, &created))
				goto cleanup;
			if (created > to)
				continue;
		}
		if (!identity_lead_touches(id, l, lo, hi, &list))
			goto cleanup;
		for (size_t k = 0; k < list.n; k++)
		{
			ClDate d;

			if (!localdate_get(local, list.items[k]->at, &d))
				goto cleanup;
			if (d >= lo_date && d <= to)
				list.items[w++] = list.items[k];
		}
		if (w == 0)
			continue;
		if (!add_path(paths, list.items, w, &names, &cap, 0, 1, 0.0))
			goto cleanup;
		(*non_converting)++;
	}
	if (!pathtable_finish(paths))
		goto cleanup;
	log_info("paths: %zu conversions and %" PRId64 " non-converting people give %zu distinct "
			 "paths over %" PRIu32 " channels", js->n - (size_t) js->without_touches,
			 *non_converting, paths->n_paths, paths->n_channels);
	ok = true;

cleanup:
	touchlist_free(&list);
	free(names);
	free(converted);
	return ok;
}

void
journeys_free(Journeys *j)
{
	free(j->items);
	free(j->touches);
	memset(j, 0, sizeof(*j));
}
