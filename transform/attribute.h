/*
 * attribute.h: applying every model to every journey.
 *
 * For each model (by name) and each conversion (by close date, deal
 * source_system, deal_id), the model's weights split the deal amount and
 * its reporting-currency amount by largest remainder; each touch with a
 * weight above zero becomes one attribution_credit row, in journey order,
 * and is added to the attribution_daily sums. A conversion without touches is one row for the
 * channel (none) with weight 1 and the whole amount.
 */
#ifndef CL_ATTRIBUTE_H
#define CL_ATTRIBUTE_H

#include <stdbool.h>
#include <stdint.h>

#include "aggregate.h"
#include "copy_writer.h"
#include "dataset.h"
#include "exitcode.h"
#include "identity.h"
#include "journeys.h"
#include "models.h"

typedef struct ModelTotals
{
	int64_t revenue_reporting;  /* credited, minor units of the reporting currency */
	int64_t deals;              /* credited, units of 10^-12 deals */
	int64_t rows;               /* attribution_credit rows */
} ModelTotals;

/*
 * A CreditSink is told every credit of a touch (the (none) credit of a
 * deal without touches has no touch and is not passed): the model's index,
 * the touch, its weight in 10^-12 and its reporting-currency credit. It
 * returns false to stop the run (it logs why). Tables keyed by something
 * of the touch other than the attribution_daily grain collect their sums
 * through it, so every table adds up the same credit rows.
 */
typedef bool (*CreditSinkFn)(void *ctx, uint32_t model, const Touch *t, int64_t weight,
							 int64_t reporting);

typedef struct AttributionRun
{
	const Dataset *ds;          /* all borrowed */
	const Identity *id;
	const Journeys *journeys;
	const ModelSet *models;
	const char *reporting;      /* reporting currency code */
	int reporting_exponent;
	const char *channel_none;   /* interned "(none)" */
	const ModelParams *params;  /* position_based and time_decay settings */
	const ModelFits *fits;      /* NULL when no model is data-driven */
	CreditSinkFn sink;          /* optional; NULL: nobody else collects credits */
	void *sink_ctx;
} AttributionRun;

/*
 * attribute_run writes the attribution_credit rows to w, adds credits to
 * daily and fills totals[models->n]. Afterwards it checks, per model, that
 * the credited revenue equals the revenue won and the credited deals the
 * number of deals: a difference is a BUG (CL_ERR_INTERNAL). Other failures
 * are CL_ERR_INTERNAL too (out of memory), logged.
 */
bool attribute_run(const AttributionRun *run, CopyWriter *w, Daily *daily, ModelTotals *totals,
				   ClError *err);

#endif
