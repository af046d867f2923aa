/*
 * tables.c: entity tables and attribution_daily.
 */
#include <inttypes.h>
#include <stddef.h>
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

/*
 * The (group, id) sort of tables_pair_order. Comparing two rows with strcmp
 * twice chases two pointers per comparison, which dominated writing ten
 * million touches. Instead each row carries the rank of its group among the
 * distinct group strings and eight bytes of its id as a big-endian
 * integer, so that integer order is strcmp order (unsigned bytes, a string
 * ending before another's byte compares lower since it is padded with
 * zeros). Rows whose eight bytes tie and go on are sorted again on the
 * next eight: a multikey quicksort with 8-byte characters. (Sixteen bytes
 * a key saved a pass over ids with long common prefixes but made the keys
 * of ten million touches 80 MB larger, at the moment of the run's peak
 * memory.)
 */
typedef struct PairKey
{
	uint64_t k0;            /* id bytes [depth, depth + 8) */
	uint32_t group;         /* rank of the group string */
	uint32_t row;
} PairKey;                  /* 16 bytes: at ten million touches, memory counts */

typedef struct PairSort
{
	const char *base;
	size_t size;
	size_t id_off;
} PairSort;

/* Runs shorter than this are finished by insertion sort. */
#define PAIR_INSERTION_MAX 16

static const char *
pair_id(const PairSort *ps, uint32_t row)
{
	return *(const char *const *) (ps->base + (size_t) row * ps->size + ps->id_off);
}

/* chunk8: up to 8 bytes of s, stopping at its NUL, big-endian and zero
 * padded; *len is how many bytes were taken. */
static inline uint64_t
chunk8(const char *s, size_t *len)
{
	uint64_t k = 0;
	size_t i;

	for (i = 0; i < 8 && s[i] != '\0'; i++)
		k |= (uint64_t) (unsigned char) s[i] << (56 - 8 * i);
	*len = i;
	return k;
}

/* pair_load fills k0 from id bytes [depth, depth + 8); the caller knows
 * that the id does not end before depth. */
static inline void
pair_load(PairKey *k, const char *id, size_t depth)
{
	size_t len;

	k->k0 = chunk8(id + depth, &len);
	(void) len;
}

/* pair_ended: the id ends within the eight bytes of the key (its last
 * byte is the padding or the NUL), so equal keys mean equal ids. */
static inline bool
pair_ended(const PairKey *k)
{
	return (k->k0 & 0xff) == 0;
}

static inline int
pair_key_cmp(const PairKey *a, const PairKey *b)
{
	if (a->group != b->group)
		return a->group < b->group ? -1 : 1;
	if (a->k0 != b->k0)
		return a->k0 < b->k0 ? -1 : 1;
	return 0;
}

/*
 * pair_full_cmp is the whole order for rows whose ids agree on their first
 * depth bytes: key, then the rest of the ids, then the row number, which
 * makes the order total and so independent of the algorithm.
 */
static int
pair_full_cmp(const PairSort *ps, const PairKey *a, const PairKey *b, size_t depth)
{
	int c = pair_key_cmp(a, b);

	if (c == 0 && !pair_ended(a))
		c = strcmp(pair_id(ps, a->row) + depth + 8, pair_id(ps, b->row) + depth + 8);
	if (c == 0)
		c = a->row < b->row ? -1 : a->row > b->row;
	return c;
}

static void
pair_insertion_sort(const PairSort *ps, PairKey *a, size_t n, size_t depth)
{
	for (size_t i = 1; i < n; i++)
	{
		PairKey x = a[i];
		size_t j = i;

		while (j > 0 && pair_full_cmp(ps, &a[j - 1], &x, depth) > 0)
		{
			a[j] = a[j - 1];
			j--;
		}
		a[j] = x;
	}
}

static inline void
pair_swap(PairKey *a, PairKey *b)
{
	PairKey t = *a;

	*a = *b;
	*b = t;
}

static const PairKey *
pair_median3(const PairKey *a, const PairKey *b, const PairKey *c)
{
	if (pair_key_cmp(a, b) < 0)
	{
		if (pair_key_cmp(b, c) < 0)
			return b;
		return pair_key_cmp(a, c) < 0 ? c : a;
	}
	if (pair_key_cmp(a, c) < 0)
		return a;
	return pair_key_cmp(b, c) < 0 ? c : b;
}

static int
pair_row_cmp(const void *a, const void *b)
{
	uint32_t x = ((const PairKey *) a)->row;
	uint32_t y = ((const PairKey *) b)->row;

	return x < y ? -1 : x > y;
}

/*
 * pair_sort sorts rows whose ids agree on their first depth bytes and
 * whose keys hold the next eight. The range of keys equal to the pivot
 * goes one level deeper, the smaller unequal side is recursed into and the
 * larger one iterated, which bounds the stack by the log of n times the
 * id length / 8.
 */
static void
pair_sort(const PairSort *ps, PairKey *a, size_t n, size_t depth)
{
	while (n > PAIR_INSERTION_MAX)
	{
		PairKey pivot;
		size_t lt = 0;
		size_t i = 0;
		size_t gt = n;

		if (n > 128)
		{
			size_t s = n / 8;

			pivot = *pair_median3(pair_median3(&a[0], &a[s], &a[2 * s]),
								  pair_median3(&a[3 * s], &a[4 * s], &a[5 * s]),
								  pair_median3(&a[6 * s], &a[7 * s], &a[n - 1]));
		}
		else
			pivot = *pair_median3(&a[0], &a[n / 2], &a[n - 1]);
		while (i < gt)
		{
			int c = pair_key_cmp(&a[i], &pivot);

			if (c < 0)
				pair_swap(&a[lt++], &a[i++]);
			else if (c > 0)
				pair_swap(&a[i], &a[--gt]);
			else
				i++;
		}
		if (gt - lt > 1)
		{
			if (pair_ended(&pivot))
				qsort(a + lt, gt - lt, sizeof(PairKey), pair_row_cmp);
			else
			{
				for (size_t k = lt; k < gt; k++)
					pair_load(&a[k], pair_id(ps, a[k].row), depth + 8);
				pair_sort(ps, a + lt, gt - lt, depth + 8);
			}
		}
		if (lt < n - gt)
		{
			pair_sort(ps, a, lt, depth);
			a += gt;
			n -= gt;
		}
		else
		{
			pair_sort(ps, a + gt, n - gt, depth);
			n = lt;
		}
	}
	pair_insertion_sort(ps, a, n, depth);
}

/* A set of distinct group pointers, each numbered in order of appearance. */
typedef struct GroupSet
{
	const char **ptr;       /* owned, cap slots, NULL: free */
	uint32_t *num;          /* owned, cap slots */
	size_t cap;             /* a power of two */
	size_t n;
} GroupSet;

/* group_slot: the slot of g, or the free slot where it belongs. */
static size_t
group_slot(const GroupSet *gs, const char *g)
{
	size_t h = (size_t) ((uintptr_t) g * UINT64_C(0x9E3779B97F4A7C15) >> 24) & (gs->cap - 1);

	while (gs->ptr[h] != NULL && gs->ptr[h] != g)
		h = (h + 1) & (gs->cap - 1);
	return h;
}

/* group_set_init: false when out of memory; free with group_set_free(). */
static bool
group_set_init(GroupSet *gs, size_t cap)
{
	gs->ptr = calloc(cap, sizeof(const char *));
	gs->num = malloc(cap * sizeof(uint32_t));
	gs->cap = cap;
	gs->n = 0;
	return gs->ptr != NULL && gs->num != NULL;
}

static void
group_set_free(GroupSet *gs)
{
	free(gs->ptr);
	free(gs->num);
	memset(gs, 0, sizeof(*gs));
}

/* group_number: g's number, added when new; UINT32_MAX when out of memory. */
static uint32_t
group_number(GroupSet *gs, const char *g)
{
	size_t h = group_slot(gs, g);

	if (gs->ptr[h] == g)
		return gs->num[h];
	if (2 * (gs->n + 1) > gs->cap)
	{
		GroupSet bigger;

		if (!group_set_init(&bigger, gs->cap * 2))
		{
			group_set_free(&bigger);
			return UINT32_MAX;
		}
		for (size_t k = 0; k < gs->cap; k++)
		{
			size_t j;

			if (gs->ptr[k] == NULL)
				continue;
			j = group_slot(&bigger, gs->ptr[k]);
			bigger.ptr[j] = gs->ptr[k];
			bigger.num[j] = gs->num[k];
		}
		bigger.n = gs->n;
		group_set_free(gs);
		*gs = bigger;
		h = group_slot(gs, g);
	}
	gs->ptr[h] = g;
	gs->num[h] = (uint32_t) gs->n++;
	return gs->num[h];
}

static int
str_ptr_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/*
 * pair_groups sets each key's group to the rank of its group string.
 * Groups are a few source systems, interned, so the distinct pointers are
 * few and each string is compared only while ranking them; equal strings
 * behind different pointers still share a rank. false when out of memory.
 */
static bool
pair_groups(const char *base, size_t n, size_t size, size_t group_off, PairKey *keys)
{
	GroupSet gs;
	const char **sorted = NULL;
	uint32_t *rank_of = NULL;
	uint32_t rank = 0;
	bool ok = false;

	if (!group_set_init(&gs, 16))
		goto cleanup;
	for (size_t r = 0; r < n; r++)
	{
		keys[r].group = group_number(&gs, *(const char *const *) (base + r * size + group_off));
		if (keys[r].group == UINT32_MAX)
			goto cleanup;
	}
	sorted = malloc((gs.n + 1) * sizeof(const char *));
	rank_of = malloc((gs.n + 1) * sizeof(uint32_t));
	if (sorted == NULL || rank_of == NULL)
		goto cleanup;
	for (size_t k = 0; k < gs.cap; k++)
	{
		if (gs.ptr[k] != NULL)
			sorted[gs.num[k]] = gs.ptr[k];
	}
	qsort(sorted, gs.n, sizeof(const char *), str_ptr_cmp);
	for (size_t k = 0; k < gs.n; k++)
	{
		if (k > 0 && strcmp(sorted[k - 1], sorted[k]) != 0)
			rank++;
		rank_of[gs.num[group_slot(&gs, sorted[k])]] = rank;
	}
	for (size_t r = 0; r < n; r++)
		keys[r].group = rank_of[keys[r].group];
	ok = true;

cleanup:
	group_set_free(&gs);
	free(sorted);
	free(rank_of);
	return ok;
}

/*
 * tables_pair_order: see tables.h. The keys take 24 bytes a row while
 * sorting; the order handed back takes 4.
 */
bool
tables_pair_order(const void *base, size_t n, size_t size, size_t group_off, size_t id_off,
				  uint32_t **order)
{
	PairSort ps = { base, size, id_off };
	PairKey *keys;

	*order = NULL;
	if (n > UINT32_MAX)
	{
		log_error("cannot sort %zu rows of an output table: at most %" PRIu32, n, UINT32_MAX);
		return false;
	}
	keys = malloc((n + 1) * sizeof(PairKey));
	if (keys == NULL || !pair_groups(base, n, size, group_off, keys))
	{
		log_error("out of memory sorting an output table");
		free(keys);
		return false;
	}
	for (size_t r = 0; r < n; r++)
	{
		keys[r].row = (uint32_t) r;
		pair_load(&keys[r], pair_id(&ps, (uint32_t) r), 0);
	}
	pair_sort(&ps, keys, n, 0);

	/*
	 * The order overwrites the keys' own memory: slot r (bytes 4r..4r+3)
	 * lies at or before key r, which has been read by then.
	 */
	uint32_t *rows = (uint32_t *) (void *) keys;

	for (size_t r = 0; r < n; r++)
	{
		uint32_t row = keys[r].row;

		rows[r] = row;
	}
	*order = realloc(rows, (n + 1) * sizeof(uint32_t));
	if (*order == NULL)
		*order = rows;  /* shrinking failed: the larger block serves as well */
	return true;
}

/*
 * Rows are written in sorted order, which is not the order they (and their
 * strings) lie in memory, so nearly every row and every unshared string is
 * a cache miss; waiting for them one at a time dominated writing touches.
 * Rows PREFETCH_ROWS ahead have their strings fetched, rows twice as far
 * ahead the row itself, so both are in cache when their turn comes.
 * Prefetches never fault, so NULL strings need no test.
 */
#define PREFETCH_ROWS 8

/* How often a table written on a thread of its own looks at tc->stop. */
#define STOP_CHECK_ROWS 65536

#if defined(__GNUC__)
#define PREFETCH(p) __builtin_prefetch(p)
#else
#define PREFETCH(p) ((void) (p))
#endif

static inline void
prefetch_row(const void *row, size_t size)
{
	for (size_t off = 0; off < size; off += 64)
		PREFETCH((const char *) row + off);
}

static inline void
prefetch_touch_strings(const Touch *t)
{
	PREFETCH(t->touch_id);
	PREFETCH(t->email);
	PREFETCH(t->crm_id);
	PREFETCH(t->campaign);
	PREFETCH(t->content);
	PREFETCH(t->term);
	PREFETCH(t->campaign_id);
	PREFETCH(t->click_id);
	PREFETCH(t->url);
}

static inline void
prefetch_lead_strings(const Lead *l)
{
	PREFETCH(l->lead_id);
	PREFETCH(l->email);
	PREFETCH(l->crm_contact_id);
	PREFETCH(l->owner);
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
	uint32_t *order;

	if (!tables_pair_order(ds->leads, ds->n_leads, sizeof(Lead),
						   offsetof(Lead, source_system), offsetof(Lead, lead_id), &order))
	{
		*err = CL_ERR_INTERNAL;
		return false;
	}
	for (size_t k = 0; k < ds->n_leads; k++)
	{
		size_t i = order[k];
		const Lead *l = &ds->leads[i];
		const Touch *t = tc->leads->first[i];

		if (k + 2 * PREFETCH_ROWS < ds->n_leads)
			prefetch_row(&ds->leads[order[k + 2 * PREFETCH_ROWS]], sizeof(Lead));
		if (k + PREFETCH_ROWS < ds->n_leads)
			prefetch_lead_strings(&ds->leads[order[k + PREFETCH_ROWS]]);

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
	uint32_t *order = NULL;
	int32_t *conv = NULL;
	bool ok = false;

	*err = CL_ERR_INTERNAL;
	/* deal_order's order: (source_system, deal_id) */
	if (!tables_pair_order(ds->deals, ds->n_deals, sizeof(Deal),
						   offsetof(Deal, source_system), offsetof(Deal, deal_id), &order))
		goto cleanup;   /* errors have already been logged */
	conv = malloc((ds->n_deals + 1) * sizeof(int32_t));
	if (conv == NULL)
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
		const Deal *d = &ds->deals[order[k]];
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

/*
 * tables_write_touches writes every touch read, matched to a person or not:
 * the table is the cleaned fact, not only what was attributed. It reads
 * only the touches, which nothing changes once their channels are set.
 */
bool
tables_write_touches(const TableContext *tc, CopyWriter *w, ClError *err)
{
	const Dataset *ds = tc->ds;
	uint32_t *order;

	if (!tables_pair_order(ds->touches, ds->n_touches, sizeof(Touch),
						   offsetof(Touch, source_system), offsetof(Touch, touch_id), &order))
	{
		*err = CL_ERR_INTERNAL;
		return false;
	}
	for (size_t k = 0; k < ds->n_touches; k++)
	{
		const Touch *t = &ds->touches[order[k]];

		if (k % STOP_CHECK_ROWS == 0 && tc->stop != NULL && atomic_load(tc->stop))
		{
			free(order);
			*err = CL_ERR_INTERNAL;
			return false;
		}
		if (k + 2 * PREFETCH_ROWS < ds->n_touches)
			prefetch_row(&ds->touches[order[k + 2 * PREFETCH_ROWS]], sizeof(Touch));
		if (k + PREFETCH_ROWS < ds->n_touches)
			prefetch_touch_strings(&ds->touches[order[k + PREFETCH_ROWS]]);

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
