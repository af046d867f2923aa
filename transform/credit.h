/*
 * credit.h: exact splitting of an integer total by largest remainder.
 *
 * Used twice per journey: a model's exact shares become weights in units
 * of 10^-12 (CREDIT_WEIGHT_SCALE, summing to exactly 1), and a deal's
 * amount in minor units is split by those weights into credits that sum
 * to exactly the amount. No floating point is involved.
 *
 * Largest remainder: every part first gets the floor of its exact
 * quotient; the units left over (fewer than the number of parts) go one
 * each to the parts with the largest remainders, and among equal
 * remainders to the earlier part, i.e. the earlier touch of the journey.
 * 100.00 over three equal shares is 33.34, 33.33, 33.33.
 */
#ifndef CL_CREDIT_H
#define CL_CREDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CREDIT_WEIGHT_DIGITS 12
#define CREDIT_WEIGHT_SCALE INT64_C(1000000000000)

typedef struct SplitItem
{
	uint64_t rem;
	size_t index;
} SplitItem;

/* Reusable working memory of credit_split. */
typedef struct SplitScratch
{
	SplitItem *items;       /* owned */
	size_t cap;
} SplitScratch;

void split_scratch_free(SplitScratch *s);

/*
 * credit_split writes into out[0..n) the parts of total proportional to
 * shares[0..n), which must be >= 0 and sum to share_total > 0. A negative
 * total is split as its magnitude and negated, so the rounding is
 * symmetric. The parts sum to total exactly. false on a violated
 * precondition (logged as a BUG) or out of memory.
 */
bool credit_split(int64_t total, const int64_t *shares, size_t n, int64_t share_total,
				  int64_t *out, SplitScratch *scratch);

#endif
