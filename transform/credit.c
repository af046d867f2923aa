/*
 * credit.c: largest-remainder splitting in 128-bit integer arithmetic.
 *
 * A total of up to 2^63 minor units times a share of up to 10^12 needs more
 * than 64 bits; GCC and Clang provide unsigned __int128 on every 64-bit
 * target closedloop builds for.
 */
#include <inttypes.h>
#include <stdlib.h>

#include "credit.h"
#include "log.h"
#include "txutil.h"

__extension__ typedef unsigned __int128 u128;

void
split_scratch_free(SplitScratch *s)
{
	free(s->items);
	s->items = NULL;
	s->cap = 0;
}

/* Larger remainder first; equal remainders keep the earlier part first. */
static int
item_cmp(const void *a, const void *b)
{
	const SplitItem *x = a;
	const SplitItem *y = b;

	if (x->rem != y->rem)
		return x->rem > y->rem ? -1 : 1;
	return TX_CMP(x->index, y->index);
}

/*
 * credit_split validates the shares itself: weights come from models that
 * will be added later, and a wrong share must fail loudly, not skew money.
 */
bool
credit_split(int64_t total, const int64_t *shares, size_t n, int64_t share_total,
			 int64_t *out, SplitScratch *scratch)
{
	bool negative = total < 0;
	uint64_t magnitude = negative ? (uint64_t) (-(total + 1)) + 1 : (uint64_t) total;
	uint64_t assigned = 0;
	uint64_t left;
	int64_t check = 0;
	SplitItem *grown;

	if (n == 0 || share_total <= 0 || total == INT64_MIN)
	{
		log_error("BUG: credit_split of %" PRId64 " over %zu parts with share total %" PRId64,
				  total, n, share_total);
		return false;
	}
	for (size_t i = 0; i < n; i++)
	{
		if (shares[i] < 0 || shares[i] > share_total - check)
		{
			log_error("BUG: credit_split share %zu is %" PRId64 " (total %" PRId64 ")", i,
					  shares[i], share_total);
			return false;
		}
		check += shares[i];
	}
	if (check != share_total)
	{
		log_error("BUG: credit_split shares sum to %" PRId64 ", not %" PRId64, check, share_total);
		return false;
	}
	grown = tx_grow(scratch->items, &scratch->cap, n, sizeof(SplitItem));
	if (grown == NULL)
		return false;
	scratch->items = grown;

	for (size_t i = 0; i < n; i++)
	{
		u128 product = (u128) magnitude * (uint64_t) shares[i];
		u128 q = product / (uint64_t) share_total;

		/* q <= magnitude because shares[i] <= share_total */
		out[i] = (int64_t) (uint64_t) q;
		assigned += (uint64_t) q;
		scratch->items[i].rem = (uint64_t) (product % (uint64_t) share_total);
		scratch->items[i].index = i;
	}
	left = magnitude - assigned;
	if (left >= n)
	{
		log_error("BUG: credit_split left %" PRIu64 " units over %zu parts", left, n);
		return false;
	}
	if (left > 0)
	{
		qsort(scratch->items, n, sizeof(SplitItem), item_cmp);
		for (uint64_t k = 0; k < left; k++)
			out[scratch->items[k].index]++;
	}
	if (negative)
	{
		for (size_t i = 0; i < n; i++)
			out[i] = -out[i];
	}
	return true;
}
