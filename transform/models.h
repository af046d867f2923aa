/*
 * models.h: attribution models behind one small interface.
 *
 * A model computes, for one journey (the touches of a won deal, oldest
 * first), exact weights: integers in units of 10^-12 (CREDIT_WEIGHT_SCALE)
 * that are >= 0 and sum to exactly CREDIT_WEIGHT_SCALE. Models whose
 * weights are ratios of integers (linear's 1/n) produce them from integer
 * shares with credit_split(), so rounding is by largest remainder with
 * ties to the earlier touch; the deal's money is then split by these
 * weights the same way (see credit.h and docs/MODELS.md).
 *
 * Adding a model is adding one ModelWeightsFn and one row of the registry
 * in models.c. Models that learn from all journeys of the window (markov,
 * shapley) will add a fit step that runs before the weights.
 */
#ifndef CL_MODELS_H
#define CL_MODELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "credit.h"
#include "dataset.h"
#include "exitcode.h"

/* One journey: the touches a model weighs. */
typedef struct Journey
{
	const Touch *const *touches;    /* borrowed, oldest first; n >= 1 */
	uint32_t n;
	ClTime conversion_at;           /* the deal's closed_at */
	const Deal *deal;               /* borrowed */
} Journey;

/* Working memory shared by the models of a run. */
typedef struct ModelContext
{
	int64_t *shares;        /* owned scratch for integer shares */
	size_t cap_shares;
	SplitScratch split;
} ModelContext;

void model_context_free(ModelContext *ctx);

/* weights: n values, >= 0, summing to CREDIT_WEIGHT_SCALE. false on error
 * (logged). */
typedef bool (*ModelWeightsFn)(ModelContext *ctx, const Journey *j, int64_t *weights);

typedef struct AttributionModel
{
	const char *name;       /* as in [attribution] models */
	ModelWeightsFn weights;
} AttributionModel;

/* model_find: the implemented model of that name, NULL when none. */
const AttributionModel *model_find(const char *name);

/* The models of a run, sorted by name (the output order). */
#define MODELS_MAX 32
typedef struct ModelSet
{
	const AttributionModel *models[MODELS_MAX];     /* borrowed, static */
	size_t n;
} ModelSet;

/*
 * models_parse reads the comma-separated [attribution] models value (where
 * names its origin for messages). An unknown or not yet implemented name
 * is CL_ERR_CONFIG, logged with the supported names; a name listed twice
 * is used once.
 */
bool models_parse(const char *list, const char *where, ModelSet *set, ClError *err);

/*
 * model_weights runs a model and checks its contract (non-negative weights
 * summing to CREDIT_WEIGHT_SCALE); a violation is a BUG, logged, false.
 */
bool model_weights(const AttributionModel *m, ModelContext *ctx, const Journey *j,
				   int64_t *weights);

#endif
