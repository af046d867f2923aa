/*
 * email_stats.h: the email_campaign_stats table (docs/DATA_MODEL.md), one
 * row per (platform, campaign_id, model) of a transform window.
 *
 * A campaign has a row when it was sent in the window (local send date in
 * [from, to]) or when a touch of it is credited for a deal won in the
 * window. The engagement counts do not depend on the model and repeat on
 * each model's row: the report's counts when the platform reported the
 * campaign, else counted from the window's deduplicated email events. The
 * attributed deals and revenue are the sums of the credits whose touch is
 * an email touch of the campaign: kind email_click or email_open, the
 * touch's source_system equal to the campaign's platform and its
 * campaign_id equal to the campaign's id.
 */
#ifndef CL_EMAIL_STATS_H
#define CL_EMAIL_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "copy_writer.h"
#include "dataset.h"
#include "indexmap.h"
#include "localdate.h"
#include "models.h"

/* Digits of open_rate and click_rate, and extra digits of revenue_per_recipient. */
#define EMAIL_RATE_DIGITS 6
#define EMAIL_PER_RECIPIENT_DIGITS 4

/* The engagement counts of one campaign; -1 where unknown. */
typedef struct EmailCounts
{
	int64_t sends;
	int64_t opens;
	int64_t unique_opens;
	int64_t clicks;
	int64_t unique_clicks;
	int64_t bounces;
	int64_t unsubscribes;
	bool from_report;       /* false: counted from the email events */
} EmailCounts;

typedef struct EmailStatsRow
{
	const char *platform;           /* interned */
	const char *campaign_id;        /* interned */
	const EmailCampaign *campaign;  /* borrowed; NULL when no email_campaign row names it */
	bool looked_up;                 /* campaign was searched for (credit-only rows) */
	EmailCounts counts;
	int64_t *deals;                 /* owned, per model: units of 10^-12 deals */
	int64_t *revenue;               /* owned, per model: reporting minor units */
} EmailStatsRow;

typedef struct EmailStats
{
	EmailStatsRow *rows;    /* owned */
	size_t n;
	size_t cap;
	IndexMap index;         /* by (platform, campaign_id) pointers */
	uint32_t n_models;
	const Dataset *ds;      /* borrowed */
} EmailStats;

/*
 * email_stats_init adds a row for each campaign of ds sent in [from, to]
 * (local dates of local). false when out of memory or a date cannot be
 * converted (logged); free with email_stats_free() either way.
 */
bool email_stats_init(EmailStats *es, const Dataset *ds, LocalDates *local, ClDate from,
					  ClDate to, uint32_t n_models);

/*
 * email_stats_add_credit is a CreditSinkFn (attribute.h): ctx is the
 * EmailStats. Credits of touches that are not email touches of a campaign
 * are ignored; a campaign first seen here gets its row.
 */
bool email_stats_add_credit(void *ctx, uint32_t model, const Touch *t, int64_t weight,
							int64_t reporting);

/*
 * email_stats_finish fills the counts of every row (report or events) and
 * sorts the rows by (platform, campaign_id). false when out of memory.
 */
bool email_stats_finish(EmailStats *es);

/* Context of email_stats_write: all borrowed. */
typedef struct EmailStatsOut
{
	ClDate from;
	ClDate to;
	const ModelSet *models;     /* sorted by name: the row order within a campaign */
	const char *reporting;
	int reporting_exponent;
	LocalDates *local;
} EmailStatsOut;

/* email_stats_write writes the finished rows to w; false when a date fails. */
bool email_stats_write(const EmailStats *es, const EmailStatsOut *o, CopyWriter *w);

/*
 * email_ratio: num / den rounded half up to digits decimals, as an integer
 * in units of 10^-digits. false (no value) when den <= 0, num < 0 or the
 * result does not fit.
 */
bool email_ratio(int64_t num, int64_t den, int digits, int64_t *out);

void email_stats_free(EmailStats *es);

#endif
