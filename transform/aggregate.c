/*
 * aggregate.c: a hash map of daily rows with overflow-checked sums.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate.h"
#include "log.h"
#include "txutil.h"

void
daily_init(Daily *d, uint32_t n_models)
{
	memset(d, 0, sizeof(*d));
	d->n_models = n_models;
}

void
daily_free(Daily *d)
{
	free(d->rows);
	indexmap_free(&d->index);
	memset(d, 0, sizeof(*d));
}

static uint64_t
key_hash(const DailyKey *k)
{
	uint64_t h = tx_hash_u64(TX_HASH_SEED, (uint64_t) (int64_t) k->date);

	h = tx_hash_u64(h, k->model);
	h = tx_hash_u64(h, (uint64_t) (uintptr_t) k->channel);
	h = tx_hash_u64(h, (uint64_t) (uintptr_t) k->source);
	h = tx_hash_u64(h, (uint64_t) (uintptr_t) k->medium);
	return tx_hash_u64(h, (uint64_t) (uintptr_t) k->campaign);
}

static bool
key_eq(const void *ctx, uint32_t index, const void *key)
{
	const DailyKey *a = &((const Daily *) ctx)->rows[index].key;
	const DailyKey *b = key;

	return a->date == b->date && a->model == b->model && a->channel == b->channel
		&& a->source == b->source && a->medium == b->medium && a->campaign == b->campaign;
}

/* row_for: the row of key, created (zeroed) when new; NULL when out of
 * memory (logged). */
static DailyRow *
row_for(Daily *d, const DailyKey *key)
{
	uint64_t h = key_hash(key);
	uint32_t index;
	DailyRow *grown;

	if (key->channel == NULL || key->source == NULL || key->medium == NULL
		|| key->campaign == NULL)
	{
		log_error("BUG: a daily key with a NULL part");
		return NULL;
	}
	if (indexmap_find(&d->index, h, key_eq, d, key, &index))
		return &d->rows[index];
	grown = tx_grow(d->rows, &d->cap, d->n + 1, sizeof(DailyRow));
	if (grown == NULL)
		return NULL;
	d->rows = grown;
	if (!indexmap_insert(&d->index, h, (uint32_t) d->n))
		return NULL;
	memset(&d->rows[d->n], 0, sizeof(DailyRow));
	d->rows[d->n].key = *key;
	return &d->rows[d->n++];
}

static bool
add(int64_t *sum, int64_t v, const char *what)
{
	if (__builtin_add_overflow(*sum, v, sum))
	{
		log_error("attribution_daily: the sum of %s overflows 64 bits", what);
		return false;
	}
	return true;
}

bool
daily_add_credit(Daily *d, const DailyKey *key, int64_t weight, int64_t revenue)
{
	DailyRow *r = row_for(d, key);

	return r != NULL && add(&r->deals, weight, "deals") && add(&r->revenue, revenue, "revenue");
}

bool
daily_add_leads(Daily *d, const DailyKey *key, int64_t leads)
{
	DailyKey k = *key;

	for (k.model = 0; k.model < d->n_models; k.model++)
	{
		DailyRow *r = row_for(d, &k);

		if (r == NULL || !add(&r->leads, leads, "leads"))
			return false;
	}
	return true;
}

/*
 * daily_add_spend repeats spend on every model's row: a model redistributes
 * revenue, never cost, and ROAS is read within one model.
 */
bool
daily_add_spend(Daily *d, const DailyKey *key, int64_t spend, int64_t clicks,
				int64_t impressions)
{
	DailyKey k = *key;

	for (k.model = 0; k.model < d->n_models; k.model++)
	{
		DailyRow *r = row_for(d, &k);

		if (r == NULL || !add(&r->spend, spend, "spend") || !add(&r->clicks, clicks, "clicks")
			|| !add(&r->impressions, impressions, "impressions"))
			return false;
	}
	return true;
}

/*
 * row_cmp: the model index follows the ModelSet, which is sorted by name, so
 * comparing indexes orders by model name.
 */
static int
row_cmp(const void *a, const void *b)
{
	const DailyKey *x = &((const DailyRow *) a)->key;
	const DailyKey *y = &((const DailyRow *) b)->key;
	int c = TX_CMP(x->date, y->date);

	if (c == 0)
		c = TX_CMP(x->model, y->model);
	if (c == 0)
		c = strcmp(x->channel, y->channel);
	if (c == 0)
		c = strcmp(x->source, y->source);
	if (c == 0)
		c = strcmp(x->medium, y->medium);
	if (c == 0)
		c = strcmp(x->campaign, y->campaign);
	return c;
}

void
daily_sort(Daily *d)
{
	indexmap_free(&d->index);
	if (d->n > 1)
		qsort(d->rows, d->n, sizeof(DailyRow), row_cmp);
}
