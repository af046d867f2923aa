/*
 * aggregate.h: the attribution_daily grain, (date, model, channel, source,
 * medium, campaign), and its sums.
 *
 * Credits add deals and revenue to one model's row; leads and spend do not
 * depend on the model and are added to the row of every model, so that
 * ratios such as ROAS work within one model. Keys are interned strings
 * (never NULL: '' stands for unknown), compared by pointer.
 */
#ifndef CL_AGGREGATE_H
#define CL_AGGREGATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "indexmap.h"
#include "timeutil.h"

typedef struct DailyKey
{
	ClDate date;
	uint32_t model;         /* index in the run's ModelSet (sorted by name) */
	const char *channel;
	const char *source;
	const char *medium;
	const char *campaign;
} DailyKey;

typedef struct DailyRow
{
	DailyKey key;
	int64_t leads;
	int64_t deals;          /* units of 10^-12 deals */
	int64_t revenue;        /* minor units of the reporting currency */
	int64_t spend;          /* minor units of the reporting currency */
	int64_t clicks;
	int64_t impressions;
} DailyRow;

typedef struct Daily
{
	DailyRow *rows;         /* owned */
	size_t n;
	size_t cap;
	IndexMap index;
	uint32_t n_models;
} Daily;

void daily_init(Daily *d, uint32_t n_models);
void daily_free(Daily *d);

/* daily_add_credit: a touch's weight and revenue credit of one model. */
bool daily_add_credit(Daily *d, const DailyKey *key, int64_t weight, int64_t revenue);

/* daily_add_leads / daily_add_spend: key.model is ignored; the values go to
 * every model's row. */
bool daily_add_leads(Daily *d, const DailyKey *key, int64_t leads);
bool daily_add_spend(Daily *d, const DailyKey *key, int64_t spend, int64_t clicks,
					 int64_t impressions);

/*
 * daily_sort orders the rows by (date, model, channel, source, medium,
 * campaign), strings byte-wise; the index is dropped (no adds after).
 */
void daily_sort(Daily *d);

#endif
