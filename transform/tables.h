/*
 * tables.h: the cleaned-entity tables and attribution_daily, written in
 * the column order of docs/DATA_MODEL.md and sorted so that equal inputs
 * give equal bytes:
 *
 *   leads              (source_system, lead_id)
 *   deals              (source_system, deal_id)
 *   touches            (source_system, touch_id)
 *   spend_daily        (date, platform, account_id, campaign_id, adgroup_id,
 *                       ad_id), absent ids first
 *   attribution_daily  (date, model, channel, source, medium, campaign)
 *
 * Strings compare byte-wise (strcmp), never by locale. Deleted entities are
 * not written.
 */
#ifndef CL_TABLES_H
#define CL_TABLES_H

#include <stdbool.h>
#include <stdint.h>

#include "aggregate.h"
#include "copy_writer.h"
#include "currency.h"
#include "dataset.h"
#include "identity.h"
#include "journeys.h"
#include "localdate.h"
#include "models.h"

/*
 * The first touch of each lead: the earliest touch of its person in
 * [created_at - lookback_days, created_at]. It is known only when that
 * whole range lies inside the touches this run read; created_date is the
 * local creation date.
 */
typedef struct LeadFacts
{
	const Touch **first;    /* owned array (per lead) of borrowed touches */
	bool *known;            /* owned, per lead */
	ClDate *created_date;   /* owned, per lead; INT32_MIN without created_at */
} LeadFacts;

bool lead_facts_build(const Dataset *ds, const Identity *id, LocalDates *local,
					  int lookback_days, LeadFacts *out);
void lead_facts_free(LeadFacts *f);

typedef struct TableContext
{
	const Dataset *ds;          /* all borrowed */
	const Journeys *journeys;
	const LeadFacts *leads;
	const Converter *converter;
	LocalDates *local;
	const ModelSet *models;
	const int64_t *spend_reporting;     /* per spend row */
	const char *channel_none;
	const Daily *daily;                 /* sorted */
} TableContext;

/* Each writes its rows to w; false on error (logged, *err set). */
bool tables_write_leads(const TableContext *tc, CopyWriter *w, ClError *err);
bool tables_write_deals(const TableContext *tc, CopyWriter *w, ClError *err);
bool tables_write_touches(const TableContext *tc, CopyWriter *w, ClError *err);
bool tables_write_spend(const TableContext *tc, CopyWriter *w, ClError *err);
bool tables_write_daily(const TableContext *tc, CopyWriter *w, ClError *err);

/* spend_order: the spend_daily sort order. */
int spend_order(const Spend *a, const Spend *b);

#endif
