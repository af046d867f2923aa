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

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
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
	const atomic_bool *stop;            /* NULL, or set to give up early */
} TableContext;

/*
 * Each writes its rows to w; false on error (logged, *err set).
 * tables_write_touches also returns false, without a message, once
 * tc->stop is set: it runs on a thread of its own, started as soon as the
 * touches have their channels, and the run may fail elsewhere meanwhile.
 */
bool tables_write_leads(const TableContext *tc, CopyWriter *w, ClError *err);
bool tables_write_deals(const TableContext *tc, CopyWriter *w, ClError *err);
bool tables_write_touches(const TableContext *tc, CopyWriter *w, ClError *err);
bool tables_write_spend(const TableContext *tc, CopyWriter *w, ClError *err);
bool tables_write_daily(const TableContext *tc, CopyWriter *w, ClError *err);

/*
 * tables_pair_order sorts the n rows of size bytes at base by two string
 * fields, at byte offsets group_off and id_off (neither NULL), as strcmp
 * orders them: group first, then id, the row index breaking ties.
 * *order is ALLOCATED, the row indexes in that order; the caller frees it.
 * false when out of memory or given more than UINT32_MAX rows (logged).
 */
bool tables_pair_order(const void *base, size_t n, size_t size, size_t group_off,
					   size_t id_off, uint32_t **order);

/* spend_order: the spend_daily sort order. */
int spend_order(const Spend *a, const Spend *b);

#endif
