/*
 * attribute.c: the credit pass. Credits are streamed to the output as they
 * are computed; only the daily sums are kept in memory.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "attribute.h"
#include "credit.h"
#include "log.h"
#include "money.h"
#include "txutil.h"

typedef struct Scratch
{
	int64_t *weights;       /* all owned, n_cap elements each */
	int64_t *revenue;
	int64_t *reporting;
	size_t cap;
	ModelContext model;
	SplitScratch split;
} Scratch;

static void
scratch_free(Scratch *s)
{
	free(s->weights);
	free(s->revenue);
	free(s->reporting);
	model_context_free(&s->model);
	split_scratch_free(&s->split);
}

/*
 * scratch_reserve grows the three per-journey arrays together; one journey
 * at a time is in flight, so the longest journey sets the size.
 */
static bool
scratch_reserve(Scratch *s, size_t n)
{
	size_t cap;
	int64_t *p;

	if (n <= s->cap)
		return true;
	cap = s->cap;
	p = tx_grow(s->weights, &cap, n, sizeof(int64_t));
	if (p == NULL)
		return false;
	s->weights = p;
	cap = s->cap;
	p = tx_grow(s->revenue, &cap, n, sizeof(int64_t));
	if (p == NULL)
		return false;
	s->revenue = p;
	cap = s->cap;
	p = tx_grow(s->reporting, &cap, n, sizeof(int64_t));
	if (p == NULL)
		return false;
	s->reporting = p;
	s->cap = cap;
	return true;
}

static const char *
or_empty(const Dataset *ds, const char *s)
{
	return s != NULL ? s : ds->empty;
}

/*
 * write_credit writes one attribution_credit row; t is NULL for the (none)
 * credit of a conversion without touches.
 */
static void
write_credit(const AttributionRun *run, CopyWriter *w, const char *model, const Conversion *c,
			 const Touch *t, uint32_t position, int64_t weight, int64_t revenue,
			 int64_t reporting)
{
	const Deal *d = c->deal;
	const Dataset *ds = run->ds;
	const Lead *lead = t != NULL ? identity_touch_lead(run->id, t) : NULL;

	copy_text(w, model);
	copy_text(w, d->deal_id);
	copy_text(w, d->source_system);
	copy_text(w, t != NULL ? t->touch_id : NULL);
	copy_text(w, t != NULL ? t->source_system : NULL);
	copy_text(w, lead != NULL ? lead->lead_id : NULL);
	if (t != NULL)
		copy_time(w, t->at);
	else
		copy_null(w);
	copy_date(w, c->close_date);
	copy_text(w, t != NULL ? t->channel : run->channel_none);
	copy_text(w, t != NULL ? or_empty(ds, t->source) : ds->empty);
	copy_text(w, t != NULL ? or_empty(ds, t->medium) : ds->empty);
	copy_text(w, t != NULL ? or_empty(ds, t->campaign) : ds->empty);
	if (t != NULL)
		copy_int(w, position);
	else
		copy_null(w);
	copy_int(w, c->n);
	copy_decimal(w, weight, CREDIT_WEIGHT_DIGITS);
	copy_money(w, revenue, currency_exponent(c->currency));
	copy_text(w, c->currency);
	copy_money(w, reporting, run->reporting_exponent);
	copy_text(w, run->reporting);
	copy_end_row(w);
}

/*
 * credit_conversion: one model's credits for one conversion. The two money
 * splits use the same weights, so both columns sum to their totals.
 */
static bool
credit_conversion(const AttributionRun *run, uint32_t m, const Conversion *c, CopyWriter *w,
				  Daily *daily, ModelTotals *total, Scratch *s)
{
	const AttributionModel *model = run->models->models[m];
	const Dataset *ds = run->ds;
	DailyKey key = { c->close_date, m, run->channel_none, ds->empty, ds->empty, ds->empty };
	Journey j;
	int64_t sum_rev = 0;
	int64_t sum_rep = 0;

	if (c->n == 0)
	{
		write_credit(run, w, model->name, c, NULL, 0, CREDIT_WEIGHT_SCALE, c->amount_minor,
					 c->amount_reporting);
		total->rows++;
		total->deals += CREDIT_WEIGHT_SCALE;
		total->revenue_reporting += c->amount_reporting;
		return daily_add_credit(daily, &key, CREDIT_WEIGHT_SCALE, c->amount_reporting);
	}
	if (!scratch_reserve(s, c->n))
		return false;
	j.touches = run->journeys->touches + c->first;
	j.n = c->n;
	j.conversion_at = c->deal->closed_at;
	j.lead_created_at = c->lead_created_at;
	j.deal_created_at = c->deal->created_at;
	j.deal = c->deal;
	if (!model_weights(model, &s->model, &j, s->weights)
		|| !credit_split(c->amount_minor, s->weights, c->n, CREDIT_WEIGHT_SCALE, s->revenue,
						 &s->split)
		|| !credit_split(c->amount_reporting, s->weights, c->n, CREDIT_WEIGHT_SCALE,
						 s->reporting, &s->split))
		return false;   /* errors have already been logged */
	for (uint32_t i = 0; i < c->n; i++)
	{
		const Touch *t = j.touches[i];

		if (s->weights[i] == 0)
			continue;   /* no credit: position and journey_length still say where it was */
		write_credit(run, w, model->name, c, t, i + 1, s->weights[i], s->revenue[i],
					 s->reporting[i]);
		total->rows++;
		key.channel = t->channel;
		key.source = or_empty(ds, t->source);
		key.medium = or_empty(ds, t->medium);
		key.campaign = or_empty(ds, t->campaign);
		if (!daily_add_credit(daily, &key, s->weights[i], s->reporting[i]))
			return false;
		if (run->sink != NULL && !run->sink(run->sink_ctx, m, t, s->weights[i], s->reporting[i]))
			return false;
		sum_rev += s->revenue[i];
		sum_rep += s->reporting[i];
		total->deals += s->weights[i];
	}
	if (sum_rev != c->amount_minor || sum_rep != c->amount_reporting)
	{
		log_error("BUG: model %s credits deal %s/%s with %" PRId64 " and %" PRId64
				  " minor units for amounts %" PRId64 " and %" PRId64, model->name,
				  c->deal->source_system, c->deal->deal_id, sum_rev, sum_rep, c->amount_minor,
				  c->amount_reporting);
		return false;
	}
	total->revenue_reporting += sum_rep;
	return true;
}

/*
 * check_totals compares each model's credited totals with what was won,
 * computed independently from the conversions.
 */
static bool
check_totals(const AttributionRun *run, const ModelTotals *totals)
{
	const Journeys *js = run->journeys;
	int64_t won = 0;
	bool ok = true;

	for (size_t i = 0; i < js->n; i++)
		won += js->items[i].amount_reporting;
	for (size_t m = 0; m < run->models->n; m++)
	{
		const char *name = run->models->models[m]->name;

		if (totals[m].revenue_reporting != won)
		{
			log_error("BUG: model %s credits %" PRId64 " minor units of %s but %" PRId64
					  " were won", name, totals[m].revenue_reporting, run->reporting, won);
			ok = false;
		}
		if (totals[m].deals != (int64_t) js->n * CREDIT_WEIGHT_SCALE)
		{
			log_error("BUG: model %s credits %" PRId64 "e-12 deals for %zu won deals", name,
					  totals[m].deals, js->n);
			ok = false;
		}
	}
	return ok;
}

/*
 * attribute_run loops models outside and conversions inside because that is
 * the sort order of attribution_credit: rows stream out already sorted.
 */
bool
attribute_run(const AttributionRun *run, CopyWriter *w, Daily *daily, ModelTotals *totals,
			  ClError *err)
{
	Scratch s = { 0 };
	bool ok = false;

	*err = CL_ERR_INTERNAL;
	s.model.params = run->params;
	s.model.fits = run->fits;
	memset(totals, 0, run->models->n * sizeof(ModelTotals));
	for (uint32_t m = 0; m < run->models->n; m++)
	{
		for (size_t i = 0; i < run->journeys->n; i++)
		{
			if (!credit_conversion(run, m, &run->journeys->items[i], w, daily, &totals[m], &s))
				goto cleanup;   /* errors have already been logged */
		}
		log_info("model %s: %" PRId64 " credit rows", run->models->models[m]->name,
				 totals[m].rows);
	}
	if (!check_totals(run, totals))
		goto cleanup;
	*err = CL_OK;
	ok = true;

cleanup:
	scratch_free(&s);
	return ok;
}
