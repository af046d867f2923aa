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
 * in models.c. The data-driven models (markov, shapley, fractribution)
 * learn from all journeys of the window first: model_fits_run() fits them
 * over a PathTable (pathfit.h), and their weight functions read the fit
 * through the ModelContext.
 */
#ifndef CL_MODELS_H
#define CL_MODELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "copy_writer.h"
#include "credit.h"
#include "dataset.h"
#include "exitcode.h"
#include "pathfit.h"

/* One journey: the touches a model weighs. */
typedef struct Journey
{
	const Touch *const *touches;    /* borrowed, oldest first; n >= 1 */
	uint32_t n;
	ClTime conversion_at;           /* the deal's closed_at */
	ClTime lead_created_at;         /* LC event: the earliest created_at of the
									 * deal's leads; TX_TIME_NONE when none */
	ClTime deal_created_at;         /* OC event; TX_TIME_NONE when absent */
	const Deal *deal;               /* borrowed; may be NULL in tests */
} Journey;

/* The settings of the parameterised models. */
typedef struct ModelParams
{
	int64_t pb_first;       /* position_based shares, units of 10^-12 */
	int64_t pb_last;
	int half_life_days;     /* time_decay */
} ModelParams;

/* [attribution] defaults: pb_first = pb_last = 0.4, half-life 7 days. */
#define MODEL_PARAMS_DEFAULT { INT64_C(400000000000), INT64_C(400000000000), 7 }

/* The fits of the data-driven models over one window's paths. */
typedef struct ModelFits
{
	PathTable paths;        /* owned */
	MarkovFit markov;       /* owned; valid when has_markov */
	ShapleyFit shapley;
	FracFit frac;
	bool has_markov;
	bool has_shapley;
	bool has_frac;
} ModelFits;

void model_fits_free(ModelFits *f);

/* Working memory shared by the models of a run. */
typedef struct ModelContext
{
	const ModelParams *params;  /* borrowed; NULL: MODEL_PARAMS_DEFAULT */
	const ModelFits *fits;      /* borrowed; needed by data-driven models */
	int64_t *shares;        /* owned scratch for integer shares */
	size_t cap_shares;
	double *real;           /* owned scratch: real-valued shares */
	size_t cap_real;
	double *per_channel;    /* owned scratch: one value per fitted channel */
	size_t cap_per_channel;
	uint32_t *ids;          /* owned scratch: channel ids of the touches */
	size_t cap_ids;
	uint32_t *pos;          /* owned scratch: collapsed position of each touch */
	size_t cap_pos;
	SplitScratch split;
} ModelContext;

void model_context_free(ModelContext *ctx);

/*
 * model_weights_from_real turns real shares x[0..n) (>= 0) into weights by
 * scaling them to integers (relative to the largest, with 2^40 units or
 * fewer for very long journeys) and splitting CREDIT_WEIGHT_SCALE by
 * largest remainder. *all_zero (and true) when no share is positive:
 * weights are not written then.
 */
bool model_weights_from_real(ModelContext *ctx, const double *x, uint32_t n, int64_t *weights,
							 bool *all_zero);

/* model_reserve grows ctx's per-touch scratch arrays to n. */
bool model_reserve(ModelContext *ctx, uint32_t n);

/* weights: n values, >= 0, summing to CREDIT_WEIGHT_SCALE. false on error
 * (logged). */
typedef bool (*ModelWeightsFn)(ModelContext *ctx, const Journey *j, int64_t *weights);

typedef enum ModelFitKind
{
	MODEL_FIT_NONE = 0,     /* a rule over the journey alone */
	MODEL_FIT_MARKOV,
	MODEL_FIT_SHAPLEY,
	MODEL_FIT_FRACTRIBUTION
} ModelFitKind;

typedef struct AttributionModel
{
	const char *name;       /* as in [attribution] models */
	ModelWeightsFn weights;
	ModelFitKind fit;
} AttributionModel;

/* The data-driven models' weight functions (datadriven.c). */
bool model_markov(ModelContext *ctx, const Journey *j, int64_t *weights);
bool model_shapley(ModelContext *ctx, const Journey *j, int64_t *weights);
bool model_fractribution(ModelContext *ctx, const Journey *j, int64_t *weights);

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

/* models_need_fit: whether some model of the set is data-driven. */
bool models_need_fit(const ModelSet *set);

/*
 * model_fits_run fits the data-driven models of set over f->paths, which
 * the caller has filled and finished. false on error (logged; *err
 * CL_ERR_CONFIG beyond the shapley limits, else CL_ERR_INTERNAL).
 */
bool model_fits_run(const ModelSet *set, ModelFits *f, ClError *err);

/*
 * model_fits_write_stats writes the attribution_model_stats rows of the
 * window (docs/MODELS.md): by model, channel, statistic.
 */
void model_fits_write_stats(const ModelSet *set, const ModelFits *f, ClDate from, ClDate to,
							CopyWriter *w);

#endif
