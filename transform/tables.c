/*
 * tables.c: entity tables and attribution_daily.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "money.h"
#include "tables.h"
#include "txutil.h"

/*
 * lead_facts_build bounds the search by the lookback so a lead's first touch
 * does not depend on how far back this run's window happened to read.
 */
bool
lead_facts_build(const Dataset *ds, const Identity *id, LocalDates *local, int lookback_days,
				 LeadFacts *out)
{
	TouchList list = { 0 };
	ClTime lookback = (ClTime) lookback_days * CL_USEC_PER_DAY;
	size_t n = ds->n_leads + 1;
	bool ok = false;

	out->first = calloc(n, sizeof(const Touch *));
	out->known = calloc(n, sizeof(bool));
	out->created_date = calloc(n, sizeof(ClDate));
	if (out->first == NULL || out->known == NULL || out->created_date == NULL)
	{
		log_error("out of memory finding the first touches of leads");
		goto cleanup;
	}
	for (size_t i = 0; i < ds->n_leads; i++)
	{
		const Lead *l = &ds->leads[i];

		out->created_date[i] = INT32_MIN;
		if (l->is_deleted || l->created_at == TX_TIME_NONE)
			continue;
		if (!localdate_get(local, l->created_at, &out->created_date[i]))
			goto cleanup;
		if (l->created_at - lookback < ds->touches_from || l->created_at >= ds->touches_to)
			continue;
		out->known[i] = true;
		if (!identity_lead_touches(id, l, l->created_at - lookback, l->created_at, &list))
			goto cleanup;
		out->first[i] = list.n > 0 ? list.items[0] : NULL;
	}
	ok = true;

cleanup:
	touchlist_free(&list);
	return ok;
}

void
lead_facts_free(LeadFacts *f)
{
	free(f->first);
	free(f->known);
	free(f->created_date);
	memset(f, 0, sizeof(*f));
}

/* sorted_pointers: an ALLOCATED array of pointers to the n elements (of
 * size bytes) at base, sorted by cmp; the caller frees it with free().
 * NULL when out of memory (logged). */
static const void **
sorted_pointers(const void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	const void **p = malloc((n + 1) * sizeof(const void *));

	if (p == NULL)
	{
		log_error("out of memory sorting an output table");
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		p[i] = (const char *) base + i * size;
	if (n > 1)
		qsort(p, n, sizeof(const void *), cmp);
	return p;
}

static int
lead_ptr_cmp(const void *a, const void *b)
{
	const Lead *x = *(const Lead *const *) a;
	const Lead *y = *(const Lead *const *) b;
	int c = strcmp(x->source_system, y->source_system);

	return c != 0 ? c : strcmp(x->lead_id, y->lead_id);
}

static void
copy_time_or_null(CopyWriter *w, ClTime t)
{
	if (t == TX_TIME_NONE)
		copy_null(w);
	else
		copy_time(w, t);
}

static const char *
or_empty(const Dataset *ds, const char *s)
{
	return s != NULL ? s : ds->empty;
}

/*
 * tables_write_leads writes NULL first_* values when the first touch cannot
 * be known from the touches read, rather than a wrong (none).
 */
bool
tables_write_leads(const TableContext *tc, CopyWriter *w, ClError *err)
{
	const Dataset *ds = tc->ds;
	const void **order = sorted_pointers(ds->leads, ds->n_leads, sizeof(Lead), lead_ptr_cmp);

	if (order == NULL)
	{
		*err = CL_ERR_INTERNAL;
		return false;
	}
	for (size_t k = 0; k < ds->n_leads; k++)
	{
		const Lead *l = order[k];
		size_t i = (size_t) (l - ds->leads);
		const Touch *t = tc->leads->first[i];

		if (l->is_deleted)
			continue;
		copy_text(w, l->lead_id);
		copy_text(w, l->source_system);
		copy_text(w, l->email);
		copy_text(w, l->crm_contact_id);
		copy_time_or_null(w, l->created_at);
		copy_time_or_null(w, l->version.updated_at);
		copy_text(w, l->lifecycle_stage);
		copy_text(w, l->product_group);
		copy_text(w, l->owner);
		if (!tc->leads->known[i])
		{
			copy_null(w);
			copy_null(w);
			copy_null(w);
			copy_null(w);
		}
		else
		{
			copy_text(w, t != NULL ? t->channel : tc->channel_none);
			copy_text(w, t != NULL ? or_empty(ds, t->source) : ds->empty);
			copy_text(w, t != NULL ? or_empty(ds, t->medium) : ds->empty);
			copy_text(w, t != NULL ? or_empty(ds, t->campaign) : ds->empty);
		}
		copy_end_row(w);
	}
	free(order);
	return true;
}

static int
deal_ptr_cmp(const void *a, const void *b)
{
	return deal_order(*(const Deal *const *) a, *(const Deal *const *) b);
}

/*
 * deal_reporting: amount_reporting of a deal that is not attributed in
 * this run: converted at the rate of its close date, else its creation
 * date, when a rate exists; NULL (*has false) otherwise. Only attributed
 * deals require a rate.
 */
static bool
deal_reporting(const TableContext *tc, const Deal *d, bool *has, int64_t *out, ClError *err)
{
	ClTime ref = d->closed_at != TX_TIME_NONE ? d->closed_at : d->created_at;
	ClDate date;

	*has = false;
	if (!d->has_amount || ref == TX_TIME_NONE)
		return true;
	if (!localdate_get(tc->local, ref, &date))
	{
		*err = CL_ERR_DATA;
		return false;
	}
	return currency_try_convert(tc->converter, d->amount_minor, d->currency, date, has, out, err);
}

/*
 * tables_write_deals takes attributed amounts from the conversions, so the
 * deals table and the credits agree to the cent.
 */
bool
tables_write_deals(const TableContext *tc, CopyWriter *w, ClError *err)
{
	const Dataset *ds = tc->ds;
	const void **order = NULL;
	int32_t *conv = NULL;
	bool ok = false;

	*err = CL_ERR_INTERNAL;
	order = sorted_pointers(ds->deals, ds->n_deals, sizeof(Deal), deal_ptr_cmp);
	conv = malloc((ds->n_deals + 1) * sizeof(int32_t));
	if (order == NULL || conv == NULL)
	{
		log_error("out of memory writing deals");
		goto cleanup;
	}
	for (size_t i = 0; i < ds->n_deals; i++)
		conv[i] = -1;
	for (size_t c = 0; c < tc->journeys->n; c++)
		conv[tc->journeys->items[c].deal - ds->deals] = (int32_t) c;
	for (size_t k = 0; k < ds->n_deals; k++)
	{
		const Deal *d = order[k];
		int32_t ci = conv[d - ds->deals];
		const Conversion *c = ci >= 0 ? &tc->journeys->items[ci] : NULL;
		bool has_reporting = false;
		int64_t reporting = 0;

		if (d->is_deleted)
			continue;
		if (c != NULL)
		{
			has_reporting = d->has_amount;
			reporting = c->amount_reporting;
		}
		else if (!deal_reporting(tc, d, &has_reporting, &reporting, err))
			goto cleanup;
		copy_text(w, d->deal_id);
		copy_text(w, d->source_system);
		copy_text(w, d->name);
		if (d->has_amount)
			copy_money(w, d->amount_minor, currency_exponent(d->currency));
		else
			copy_null(w);
		copy_text(w, d->currency);
		if (has_reporting)
			copy_money(w, reporting, tc->converter->reporting_exponent);
		else
			copy_null(w);
		copy_text(w, tc->converter->reporting);
		copy_text(w, d->stage);
		copy_bool(w, d->is_closed);
		copy_bool(w, d->is_won);
		copy_time_or_null(w, d->created_at);
		copy_time_or_null(w, d->closed_at);
		copy_time_or_null(w, d->version.updated_at);
		copy_text(w, d->product_group);
		if (c != NULL)
			copy_int(w, c->n);
		else
			copy_null(w);
		copy_end_row(w);
	}
	*err = CL_OK;
	ok = true;

cleanup:
	free(order);
	free(conv);
	return ok;
}

static int
touch_id_ptr_cmp(const void *a, const void *b)
{
	const Touch *x = *(const Touch *const *) a;
	const Touch *y = *(const Touch *const *) b;
	int c = strcmp(x->source_system, y->source_system);

	return c != 0 ? c : strcmp(x->touch_id, y->touch_id);
}

/*
 * tables_write_touches writes every touch read, matched to a person or not:
 * the table is the cleaned fact, not only what was attributed.
 */
bool
tables_write_touches(const TableContext *tc, CopyWriter *w, ClError *err)
{
	const Dataset *ds = tc->ds;
	const void **order = sorted_pointers(ds->touches, ds->n_touches, sizeof(Touch),
										 touch_id_ptr_cmp);

	if (order == NULL)
	{
		*err = CL_ERR_INTERNAL;
		return false;
	}
	for (size_t k = 0; k < ds->n_touches; k++)
	{
		const Touch *t = order[k];

		copy_text(w, t->touch_id);
		copy_text(w, t->source_system);
		copy_text(w, t->email);
		copy_text(w, t->crm_id);
		copy_time(w, t->at);
		copy_text(w, t->kind);
		copy_text(w, t->channel);
		copy_text(w, t->source);
		copy_text(w, t->medium);
		copy_text(w, t->campaign);
		copy_text(w, t->content);
		copy_text(w, t->term);
		copy_text(w, t->campaign_id);
		copy_text(w, t->click_id);
		copy_text(w, t->url);
		copy_end_row(w);
	}
	free(order);
	return true;
}

/*
 * spend_order sorts absent ids first so rows without an ad group still have
 * a fixed place.
 */
int
spend_order(const Spend *a, const Spend *b)
{
	int c = TX_CMP(a->date, b->date);

	if (c == 0)
		c = tx_strcmp_null(a->platform, b->platform);
	if (c == 0)
		c = tx_strcmp_null(a->account_id, b->account_id);
	if (c == 0)
		c = tx_strcmp_null(a->campaign_id, b->campaign_id);
	if (c == 0)
		c = tx_strcmp_null(a->adgroup_id, b->adgroup_id);
	if (c == 0)
		c = tx_strcmp_null(a->ad_id, b->ad_id);
	return c;
}

static int
spend_ptr_cmp(const void *a, const void *b)
{
	return spend_order(*(const Spend *const *) a, *(const Spend *const *) b);
}

/*
 * tables_write_spend shows a cost without currency in the reporting
 * currency; such rows only exist with a zero cost.
 */
bool
tables_write_spend(const TableContext *tc, CopyWriter *w, ClError *err)
{
	const Dataset *ds = tc->ds;
	const void **order = sorted_pointers(ds->spend, ds->n_spend, sizeof(Spend), spend_ptr_cmp);
	const Converter *cv = tc->converter;

	if (order == NULL)
	{
		*err = CL_ERR_INTERNAL;
		return false;
	}
	for (size_t k = 0; k < ds->n_spend; k++)
	{
		const Spend *s = order[k];
		const char *currency = s->currency != NULL ? s->currency : cv->reporting;

		copy_date(w, s->date);
		copy_text(w, s->platform);
		copy_text(w, s->account_id);
		copy_text(w, s->campaign_id);
		copy_text(w, s->campaign_name);
		copy_text(w, s->adgroup_id);
		copy_text(w, s->ad_id);
		copy_text(w, s->channel);
		copy_text(w, s->source);
		copy_text(w, s->medium);
		copy_text(w, s->campaign);
		copy_int(w, s->impressions);
		copy_int(w, s->clicks);
		copy_money(w, s->cost_minor, currency_exponent(currency));
		copy_text(w, currency);
		copy_money(w, tc->spend_reporting[s - ds->spend], cv->reporting_exponent);
		copy_text(w, cv->reporting);
		copy_end_row(w);
	}
	free(order);
	return true;
}

/*
 * tables_write_daily expects the rows sorted by daily_sort().
 */
bool
tables_write_daily(const TableContext *tc, CopyWriter *w, ClError *err)
{
	const Converter *cv = tc->converter;
	const Daily *daily = tc->daily;

	(void) err;
	for (size_t i = 0; i < daily->n; i++)
	{
		const DailyRow *r = &daily->rows[i];

		copy_date(w, r->key.date);
		copy_text(w, tc->models->models[r->key.model]->name);
		copy_text(w, r->key.channel);
		copy_text(w, r->key.source);
		copy_text(w, r->key.medium);
		copy_text(w, r->key.campaign);
		copy_int(w, r->leads);
		copy_decimal(w, r->deals, CREDIT_WEIGHT_DIGITS);
		copy_money(w, r->revenue, cv->reporting_exponent);
		copy_money(w, r->spend, cv->reporting_exponent);
		copy_int(w, r->clicks);
		copy_int(w, r->impressions);
		copy_text(w, cv->reporting);
		copy_end_row(w);
	}
	return true;
}
