/*
 * email_stats.c: email campaigns with their engagement and the revenue the
 * attribution models credit to their touches.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "credit.h"
#include "email_stats.h"
#include "log.h"
#include "txutil.h"

typedef struct RowKey
{
	const char *platform;
	const char *campaign_id;
} RowKey;

static uint64_t
row_hash(const char *platform, const char *campaign_id)
{
	uint64_t h = tx_hash_u64(TX_HASH_SEED, (uint64_t) (uintptr_t) platform);

	return tx_hash_u64(h, (uint64_t) (uintptr_t) campaign_id);
}

/* row_eq compares pointers: both values are interned in the dataset's pool. */
static bool
row_eq(const void *ctx, uint32_t index, const void *k)
{
	const EmailStatsRow *r = &((const EmailStats *) ctx)->rows[index];
	const RowKey *key = k;

	return r->platform == key->platform && r->campaign_id == key->campaign_id;
}

/*
 * find_or_add returns the row of (platform, campaign_id) in *out, adding
 * it (with zero credits) when missing. false when out of memory (logged).
 */
static bool
find_or_add(EmailStats *es, const char *platform, const char *campaign_id,
			const EmailCampaign *campaign, EmailStatsRow **out)
{
	RowKey key = { platform, campaign_id };
	uint64_t h = row_hash(platform, campaign_id);
	uint32_t index = 0;
	EmailStatsRow *items;
	EmailStatsRow *r;

	if (indexmap_find(&es->index, h, row_eq, es, &key, &index))
	{
		*out = &es->rows[index];
		return true;
	}
	items = tx_grow(es->rows, &es->cap, es->n + 1, sizeof(EmailStatsRow));
	if (items == NULL)
		return false;   /* errors have already been logged */
	es->rows = items;
	r = &es->rows[es->n];
	memset(r, 0, sizeof(*r));
	r->platform = platform;
	r->campaign_id = campaign_id;
	r->campaign = campaign;
	r->deals = calloc(es->n_models + 1, sizeof(int64_t));
	r->revenue = calloc(es->n_models + 1, sizeof(int64_t));
	/* counted as a row before the index insert, so email_stats_free frees its arrays */
	es->n++;
	if (r->deals == NULL || r->revenue == NULL
		|| !indexmap_insert(&es->index, h, (uint32_t) (es->n - 1)))
	{
		log_error("out of memory collecting email campaign statistics");
		return false;
	}
	*out = r;
	return true;
}

/*
 * find_campaign: the email_campaign row of (platform, campaign_id), or
 * NULL. The campaigns are few (one per send), so a scan is enough, and it
 * runs once per campaign, not per credit.
 */
static const EmailCampaign *
find_campaign(const Dataset *ds, const char *platform, const char *campaign_id)
{
	for (size_t i = 0; i < ds->n_email_campaigns; i++)
	{
		const EmailCampaign *c = &ds->email_campaigns[i];

		if (c->platform == platform && c->campaign_id == campaign_id)
			return c;
	}
	return NULL;
}

/*
 * email_stats_init starts from the sends of the window so that a campaign
 * nobody engaged with still shows, with zero attributed revenue.
 */
bool
email_stats_init(EmailStats *es, const Dataset *ds, LocalDates *local, ClDate from, ClDate to,
				 uint32_t n_models)
{
	memset(es, 0, sizeof(*es));
	es->ds = ds;
	es->n_models = n_models;
	for (size_t i = 0; i < ds->n_email_campaigns; i++)
	{
		const EmailCampaign *c = &ds->email_campaigns[i];
		EmailStatsRow *r;
		ClDate sent;

		if (c->sent_at == TX_TIME_NONE)
			continue;
		if (!localdate_get(local, c->sent_at, &sent))
			return false;
		if (sent < from || sent > to)
			continue;
		if (!find_or_add(es, c->platform, c->campaign_id, c, &r))
			return false;
	}
	return true;
}

/* is_email_touch: the touch kinds the email extractors write for a campaign. */
static bool
is_email_touch(const Touch *t)
{
	return t->kind != NULL && t->campaign_id != NULL
		&& (strcmp(t->kind, "email_click") == 0 || strcmp(t->kind, "email_open") == 0);
}

/*
 * email_stats_add_credit looks the campaign's email_campaign row up only
 * when its row is new here, so the per-credit cost is one hash lookup.
 */
bool
email_stats_add_credit(void *ctx, uint32_t model, const Touch *t, int64_t weight,
					   int64_t reporting)
{
	EmailStats *es = ctx;
	EmailStatsRow *r;

	if (!is_email_touch(t))
		return true;
	if (!find_or_add(es, t->source_system, t->campaign_id, NULL, &r))
		return false;
	if (r->campaign == NULL && !r->looked_up)
	{
		r->campaign = find_campaign(es->ds, t->source_system, t->campaign_id);
		r->looked_up = true;
	}
	r->deals[model] += weight;
	r->revenue[model] += reporting;
	return true;
}

typedef struct EventRef
{
	uint32_t row;
	const EmailEvent *e;
} EventRef;

static int
event_ref_cmp(const void *a, const void *b)
{
	const EventRef *x = a;
	const EventRef *y = b;
	int c = TX_CMP(x->row, y->row);

	if (c == 0)
		c = strcmp(x->e->type, y->e->type);
	if (c == 0)
		c = tx_strcmp_null(x->e->email, y->e->email);
	return c;
}

/*
 * count_events fills the counts of the rows without a report from the
 * email events: opens, clicks and bounces are events of those types,
 * unique_opens and unique_clicks the distinct addresses among them. Sends
 * and unsubscribes are no events and stay unknown.
 */
static bool
count_events(EmailStats *es)
{
	const Dataset *ds = es->ds;
	EventRef *refs = malloc((ds->n_email_events + 1) * sizeof(EventRef));
	size_t n = 0;

	if (refs == NULL)
	{
		log_error("out of memory counting email events");
		return false;
	}
	for (size_t i = 0; i < ds->n_email_events; i++)
	{
		const EmailEvent *e = &ds->email_events[i];
		RowKey key = { e->platform, e->campaign_id };
		uint32_t index;

		if (indexmap_find(&es->index, row_hash(e->platform, e->campaign_id), row_eq, es, &key,
						  &index) && !es->rows[index].counts.from_report)
		{
			refs[n].row = index;
			refs[n].e = e;
			n++;
		}
	}
	if (n > 1)
		qsort(refs, n, sizeof(EventRef), event_ref_cmp);
	for (size_t i = 0; i < n; i++)
	{
		EmailCounts *c = &es->rows[refs[i].row].counts;
		const char *type = refs[i].e->type;
		/* sorted: an address is new unless the previous event has the same row, type and address */
		bool first = refs[i].e->email != NULL
			&& (i == 0 || event_ref_cmp(&refs[i - 1], &refs[i]) != 0);

		if (strcmp(type, "open") == 0)
		{
			c->opens++;
			c->unique_opens += first;
		}
		else if (strcmp(type, "click") == 0)
		{
			c->clicks++;
			c->unique_clicks += first;
		}
		else if (strcmp(type, "bounce") == 0)
			c->bounces++;
	}
	free(refs);
	return true;
}

static int
row_cmp(const void *a, const void *b)
{
	const EmailStatsRow *x = a;
	const EmailStatsRow *y = b;
	int c = strcmp(x->platform, y->platform);

	return c != 0 ? c : strcmp(x->campaign_id, y->campaign_id);
}

/*
 * email_stats_finish takes the report's counts whole or not at all: a row
 * that mixed reported and counted values would compare numbers of
 * different scope (the campaign's lifetime against the window's events).
 */
bool
email_stats_finish(EmailStats *es)
{
	for (size_t i = 0; i < es->n; i++)
	{
		EmailStatsRow *r = &es->rows[i];
		const EmailCampaign *c = r->campaign;

		if (c != NULL && c->has_report)
		{
			r->counts.sends = c->sends;
			r->counts.opens = c->opens;
			r->counts.unique_opens = c->unique_opens;
			r->counts.clicks = c->clicks;
			r->counts.unique_clicks = c->unique_clicks;
			r->counts.bounces = c->bounces;
			r->counts.unsubscribes = c->unsubscribes;
			r->counts.from_report = true;
		}
		else
		{
			memset(&r->counts, 0, sizeof(r->counts));
			r->counts.sends = -1;
			r->counts.unsubscribes = -1;
		}
	}
	if (!count_events(es))
		return false;
	indexmap_free(&es->index);
	if (es->n > 1)
		qsort(es->rows, es->n, sizeof(EmailStatsRow), row_cmp);
	return true;
}

/* pow10_i64: 10^digits for the few digits of the rates (at most 18). */
static int64_t
pow10_i64(int digits)
{
	int64_t p = 1;

	for (int i = 0; i < digits; i++)
		p *= 10;
	return p;
}

/*
 * email_ratio splits num into quotient and remainder so that a large
 * numerator does not overflow before the division.
 */
bool
email_ratio(int64_t num, int64_t den, int digits, int64_t *out)
{
	int64_t scale = pow10_i64(digits);
	int64_t q;
	int64_t r;
	bool negative = num < 0;

	if (den <= 0 || num == INT64_MIN || den > INT64_MAX / scale)
		return false;
	if (negative)
		num = -num;
	q = num / den;
	r = num % den;
	if (q > (INT64_MAX - scale) / scale)
		return false;
	*out = q * scale + (r * scale + den / 2) / den;
	if (negative)
		*out = -*out;
	return true;
}

static void
copy_count(CopyWriter *w, int64_t v)
{
	if (v < 0)
		copy_null(w);
	else
		copy_int(w, v);
}

static void
copy_ratio(CopyWriter *w, int64_t num, int64_t den, int digits)
{
	int64_t v;

	if (num >= 0 && email_ratio(num, den, digits, &v))
		copy_decimal(w, v, digits);
	else
		copy_null(w);
}

/*
 * denominator: the people the campaign went to, the rates' base. The
 * campaign's recipients when known, else the report's sends; -1 when
 * neither is (a credited campaign that no email_campaign row describes).
 */
static int64_t
denominator(const EmailStatsRow *r)
{
	if (r->campaign != NULL && r->campaign->recipients >= 0)
		return r->campaign->recipients;
	return r->counts.sends;
}

/*
 * email_stats_write repeats the campaign's facts on each model's row, in
 * model order, so that filtering on one model gives whole rows.
 */
bool
email_stats_write(const EmailStats *es, const EmailStatsOut *o, CopyWriter *w)
{
	for (size_t i = 0; i < es->n; i++)
	{
		const EmailStatsRow *r = &es->rows[i];
		const EmailCampaign *c = r->campaign;
		bool has_date = c != NULL && c->sent_at != TX_TIME_NONE;
		ClDate sent = 0;
		int64_t den = denominator(r);

		if (has_date && !localdate_get(o->local, c->sent_at, &sent))
			return false;
		for (uint32_t m = 0; m < o->models->n; m++)
		{
			int64_t per_recipient;

			copy_date(w, o->from);
			copy_date(w, o->to);
			copy_text(w, r->platform);
			copy_text(w, r->campaign_id);
			copy_text(w, o->models->models[m]->name);
			copy_text(w, c != NULL ? c->name : NULL);
			copy_text(w, c != NULL ? c->subject : NULL);
			copy_text(w, c != NULL ? c->campaign : NULL);
			if (has_date)
			{
				copy_time(w, c->sent_at);
				copy_date(w, sent);
			}
			else
			{
				copy_null(w);
				copy_null(w);
			}
			copy_count(w, c != NULL ? c->recipients : -1);
			copy_count(w, r->counts.sends);
			copy_count(w, r->counts.opens);
			copy_count(w, r->counts.unique_opens);
			copy_ratio(w, r->counts.unique_opens, den, EMAIL_RATE_DIGITS);
			copy_count(w, r->counts.clicks);
			copy_count(w, r->counts.unique_clicks);
			copy_ratio(w, r->counts.unique_clicks, den, EMAIL_RATE_DIGITS);
			copy_count(w, r->counts.bounces);
			copy_count(w, r->counts.unsubscribes);
			copy_text(w, r->counts.from_report ? "report" : "events");
			copy_decimal(w, r->deals[m], CREDIT_WEIGHT_DIGITS);
			copy_money(w, r->revenue[m], o->reporting_exponent);
			if (email_ratio(r->revenue[m], den, EMAIL_PER_RECIPIENT_DIGITS, &per_recipient))
				copy_decimal(w, per_recipient,
							 o->reporting_exponent + EMAIL_PER_RECIPIENT_DIGITS);
			else
				copy_null(w);
			copy_text(w, o->reporting);
			copy_end_row(w);
		}
	}
	return true;
}

/* email_stats_free is NULL-safe for a zeroed EmailStats and leaves it zeroed. */
void
email_stats_free(EmailStats *es)
{
	for (size_t i = 0; i < es->n; i++)
	{
		free(es->rows[i].deals);
		free(es->rows[i].revenue);
	}
	free(es->rows);
	indexmap_free(&es->index);
	memset(es, 0, sizeof(*es));
}
