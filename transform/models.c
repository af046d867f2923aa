/*
 * models.c: the rule-based models and the registry.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "models.h"
#include "txutil.h"

/* The channel last_non_direct passes over, as named by the default rules. */
#define CHANNEL_DIRECT "Direct"

void
model_context_free(ModelContext *ctx)
{
	free(ctx->shares);
	free(ctx->real);
	free(ctx->per_channel);
	free(ctx->ids);
	free(ctx->pos);
	ctx->shares = NULL;
	ctx->cap_shares = 0;
	ctx->real = NULL;
	ctx->cap_real = 0;
	ctx->per_channel = NULL;
	ctx->cap_per_channel = 0;
	ctx->ids = NULL;
	ctx->cap_ids = 0;
	ctx->pos = NULL;
	ctx->cap_pos = 0;
	split_scratch_free(&ctx->split);
}

/*
 * model_reserve grows every per-touch scratch array at once; one journey
 * is weighed at a time, so the longest journey sets the size.
 */
bool
model_reserve(ModelContext *ctx, uint32_t n)
{
	int64_t *shares = tx_grow(ctx->shares, &ctx->cap_shares, n, sizeof(int64_t));
	double *real;
	uint32_t *ids;
	uint32_t *pos;

	if (shares == NULL)
		return false;
	ctx->shares = shares;
	real = tx_grow(ctx->real, &ctx->cap_real, n, sizeof(double));
	if (real == NULL)
		return false;
	ctx->real = real;
	ids = tx_grow(ctx->ids, &ctx->cap_ids, n, sizeof(uint32_t));
	if (ids == NULL)
		return false;
	ctx->ids = ids;
	pos = tx_grow(ctx->pos, &ctx->cap_pos, n, sizeof(uint32_t));
	if (pos == NULL)
		return false;
	ctx->pos = pos;
	return true;
}

static const ModelParams default_params = MODEL_PARAMS_DEFAULT;

static const ModelParams *
params_of(const ModelContext *ctx)
{
	return ctx->params != NULL ? ctx->params : &default_params;
}

/*
 * model_weights_from_real scales relative to the largest share so that
 * the integer shares keep about 40 significant bits whatever the
 * magnitudes; the scale shrinks for journeys so long that n * 2^40 would
 * not fit in 62 bits. The weights then are within about 10^-12 of the
 * exact ratios, and sum to 1 exactly.
 */
bool
model_weights_from_real(ModelContext *ctx, const double *x, uint32_t n, int64_t *weights,
						bool *all_zero)
{
	double max = 0.0;
	int bits = 40;
	int64_t total = 0;
	int64_t *shares;

	*all_zero = false;
	for (uint32_t i = 0; i < n; i++)
	{
		if (!(x[i] >= 0.0) || isinf(x[i]))
		{
			log_error("BUG: real share %u of %u is %g", i + 1, n, x[i]);
			return false;
		}
		max = x[i] > max ? x[i] : max;
	}
	if (max <= 0.0)
	{
		*all_zero = true;
		return true;
	}
	/* only the shares grow here: x may be ctx->real, which must not move */
	shares = tx_grow(ctx->shares, &ctx->cap_shares, n, sizeof(int64_t));
	if (shares == NULL)
		return false;
	ctx->shares = shares;
	while (bits > 1 && ((uint64_t) n << bits) > (UINT64_C(1) << 62))
		bits--;
	for (uint32_t i = 0; i < n; i++)
	{
		ctx->shares[i] = (int64_t) llround(ldexp(x[i] / max, bits));
		total += ctx->shares[i];
	}
	return credit_split(CREDIT_WEIGHT_SCALE, ctx->shares, n, total, weights, &ctx->split);
}

/* one_hot: the whole weight on touch k. */
static void
one_hot(const Journey *j, uint32_t k, int64_t *weights)
{
	for (uint32_t i = 0; i < j->n; i++)
		weights[i] = i == k ? CREDIT_WEIGHT_SCALE : 0;
}

/* model_first_touch: w1 = 1. */
static bool
model_first_touch(ModelContext *ctx, const Journey *j, int64_t *weights)
{
	(void) ctx;
	one_hot(j, 0, weights);
	return true;
}

/* model_last_touch: wn = 1. */
static bool
model_last_touch(ModelContext *ctx, const Journey *j, int64_t *weights)
{
	(void) ctx;
	one_hot(j, j->n - 1, weights);
	return true;
}

/*
 * model_last_non_direct: 1 to the last touch whose channel is not Direct; a
 * journey of Direct touches only gives wn = 1.
 */
static bool
model_last_non_direct(ModelContext *ctx, const Journey *j, int64_t *weights)
{
	uint32_t k = j->n - 1;

	(void) ctx;
	for (uint32_t i = j->n; i-- > 0;)
	{
		if (strcmp(j->touches[i]->channel, CHANNEL_DIRECT) != 0)
		{
			k = i;
			break;
		}
	}
	one_hot(j, k, weights);
	return true;
}

/*
 * model_linear: wi = 1/n exactly as the shares 1, ..., 1 of n; the 10^-12 units
 * that do not divide evenly go to the earliest touches.
 */
static bool
model_linear(ModelContext *ctx, const Journey *j, int64_t *weights)
{
	int64_t *grown = tx_grow(ctx->shares, &ctx->cap_shares, j->n, sizeof(int64_t));

	if (grown == NULL)
		return false;
	ctx->shares = grown;
	for (uint32_t i = 0; i < j->n; i++)
		ctx->shares[i] = 1;
	return credit_split(CREDIT_WEIGHT_SCALE, ctx->shares, j->n, (int64_t) j->n, weights,
						&ctx->split);
}

/*
 * model_position_based: pb_first on t1, pb_last on tn, the rest evenly
 * over the middle touches; with two touches the rest is split between
 * them, with one touch it is all t1's. The middle share is split with
 * largest remainder, so the sum is exact.
 */
static bool
model_position_based(ModelContext *ctx, const Journey *j, int64_t *weights)
{
	const ModelParams *p = params_of(ctx);
	int64_t middle = CREDIT_WEIGHT_SCALE - p->pb_first - p->pb_last;
	uint32_t n = j->n;

	if (n == 1)
	{
		weights[0] = CREDIT_WEIGHT_SCALE;
		return true;
	}
	if (p->pb_first < 0 || p->pb_last < 0 || middle < 0)
	{
		log_error("BUG: position_based shares %" PRId64 " and %" PRId64 " out of range",
				  p->pb_first, p->pb_last);
		return false;
	}
	if (!model_reserve(ctx, n))
		return false;
	for (uint32_t i = 0; i < n; i++)
		ctx->shares[i] = 1;
	if (n == 2)
	{
		if (!credit_split(middle, ctx->shares, 2, 2, weights, &ctx->split))
			return false;
		weights[0] += p->pb_first;
		weights[1] += p->pb_last;
		return true;
	}
	if (!credit_split(middle, ctx->shares, n - 2, (int64_t) (n - 2), weights + 1, &ctx->split))
		return false;
	weights[0] = p->pb_first;
	weights[n - 1] = p->pb_last;
	return true;
}

/*
 * last_at_or_before: the index of the last touch at or before event; t1
 * (0) when no touch is, or when the event is unknown.
 */
static uint32_t
last_at_or_before(const Journey *j, ClTime event)
{
	uint32_t k = 0;

	if (event == TX_TIME_NONE)
		return 0;
	for (uint32_t i = 0; i < j->n; i++)
	{
		if (j->touches[i]->at <= event)
			k = i;
	}
	return k;
}

/* Milestones, in DESIGN's order. */
enum { MS_FT, MS_LC, MS_OC, MS_CW, MS_N };

/*
 * milestone_weights: share[m] of each milestone (0: not one of this
 * model's milestones) on its touch, coinciding milestones adding up;
 * other_share evenly over the touches that carry no milestone. Exact in
 * integers: with k other touches a milestone touch has the share
 * share * k and each other touch other_share, out of (sum + other) * k;
 * without other touches the milestone shares are scaled up to 1.
 */
static bool
milestone_weights(ModelContext *ctx, const Journey *j, const int64_t share[MS_N],
				  int64_t other_share, int64_t *weights)
{
	uint32_t at[MS_N];
	int64_t msum = 0;
	int64_t others = 0;
	int64_t total;

	if (!model_reserve(ctx, j->n))
		return false;
	at[MS_FT] = 0;
	at[MS_LC] = last_at_or_before(j, j->lead_created_at);
	at[MS_OC] = last_at_or_before(j, j->deal_created_at);
	at[MS_CW] = j->n - 1;
	for (uint32_t i = 0; i < j->n; i++)
		ctx->shares[i] = -1;    /* -1: no milestone on this touch */
	for (int m = 0; m < MS_N; m++)
	{
		if (share[m] == 0)
			continue;
		if (ctx->shares[at[m]] < 0)
			ctx->shares[at[m]] = 0;
		ctx->shares[at[m]] += share[m];
		msum += share[m];
	}
	for (uint32_t i = 0; i < j->n; i++)
		others += ctx->shares[i] < 0;
	if (others == 0)
		return credit_split(CREDIT_WEIGHT_SCALE, ctx->shares, j->n, msum, weights, &ctx->split);
	for (uint32_t i = 0; i < j->n; i++)
		ctx->shares[i] = ctx->shares[i] < 0 ? other_share : ctx->shares[i] * others;
	total = (msum + other_share) * others;
	return credit_split(CREDIT_WEIGHT_SCALE, ctx->shares, j->n, total, weights, &ctx->split);
}

/* model_u_shaped: FT 0.4, LC 0.4, 0.2 over the others (tenths). */
static bool
model_u_shaped(ModelContext *ctx, const Journey *j, int64_t *weights)
{
	static const int64_t share[MS_N] = { 4, 4, 0, 0 };

	return milestone_weights(ctx, j, share, 2, weights);
}

/* model_w_shaped: FT, LC, OC 0.3 each, 0.1 over the others (tenths). */
static bool
model_w_shaped(ModelContext *ctx, const Journey *j, int64_t *weights)
{
	static const int64_t share[MS_N] = { 3, 3, 3, 0 };

	return milestone_weights(ctx, j, share, 1, weights);
}

/* model_full_path: FT, LC, OC, CW 0.225 each, 0.1 over the others (thousandths). */
static bool
model_full_path(ModelContext *ctx, const Journey *j, int64_t *weights)
{
	static const int64_t share[MS_N] = { 225, 225, 225, 225 };

	return milestone_weights(ctx, j, share, 100, weights);
}

/*
 * model_time_decay: wi proportional to 2^(-age_i / H), age in fractional
 * days before the conversion. Ages are taken relative to the youngest
 * touch, which leaves the ratios unchanged and keeps the largest share at
 * 1, so no share underflows before the old ones that truly are below
 * 10^-12.
 */
static bool
model_time_decay(ModelContext *ctx, const Journey *j, int64_t *weights)
{
	double h = (double) params_of(ctx)->half_life_days;
	ClTime youngest = j->touches[0]->at;
	bool all_zero;

	if (!model_reserve(ctx, j->n))
		return false;
	for (uint32_t i = 0; i < j->n; i++)
		youngest = j->touches[i]->at > youngest ? j->touches[i]->at : youngest;
	for (uint32_t i = 0; i < j->n; i++)
	{
		double age = (double) (youngest - j->touches[i]->at) / (double) CL_USEC_PER_DAY;

		ctx->real[i] = exp2(-age / h);
	}
	if (!model_weights_from_real(ctx, ctx->real, j->n, weights, &all_zero))
		return false;
	if (all_zero)
	{
		log_error("BUG: time_decay shares all zero");
		return false;
	}
	return true;
}

static const AttributionModel registry[] = {
	{ "first_touch", model_first_touch, MODEL_FIT_NONE },
	{ "fractribution", model_fractribution, MODEL_FIT_FRACTRIBUTION },
	{ "full_path", model_full_path, MODEL_FIT_NONE },
	{ "last_non_direct", model_last_non_direct, MODEL_FIT_NONE },
	{ "last_touch", model_last_touch, MODEL_FIT_NONE },
	{ "linear", model_linear, MODEL_FIT_NONE },
	{ "markov", model_markov, MODEL_FIT_MARKOV },
	{ "position_based", model_position_based, MODEL_FIT_NONE },
	{ "shapley", model_shapley, MODEL_FIT_SHAPLEY },
	{ "time_decay", model_time_decay, MODEL_FIT_NONE },
	{ "u_shaped", model_u_shaped, MODEL_FIT_NONE },
	{ "w_shaped", model_w_shaped, MODEL_FIT_NONE },
};

#define N_REGISTRY (sizeof(registry) / sizeof(registry[0]))

const AttributionModel *
model_find(const char *name)
{
	for (size_t i = 0; i < N_REGISTRY; i++)
	{
		if (strcmp(registry[i].name, name) == 0)
			return &registry[i];
	}
	return NULL;
}

/*
 * supported_list builds the list from the registry, so the error message
 * never goes stale.
 */
static void
supported_list(char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < N_REGISTRY && used < size; i++)
	{
		int n = snprintf(buf + used, size - used, "%s%s", i > 0 ? ", " : "", registry[i].name);

		if (n < 0)
			break;
		used += (size_t) n;
	}
}

static int
model_name_cmp(const void *a, const void *b)
{
	const AttributionModel *const *x = a;
	const AttributionModel *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

/*
 * models_parse sorts the models by name: that is the output order, and it
 * must not depend on how the configuration lists them.
 */
bool
models_parse(const char *list, const char *where, ModelSet *set, ClError *err)
{
	char supported[512];
	const char *p = list != NULL ? list : "";

	set->n = 0;
	supported_list(supported, sizeof(supported));
	while (*p != '\0')
	{
		const char *item = p;
		const char *comma = strchr(p, ',');
		size_t len = comma != NULL ? (size_t) (comma - p) : strlen(p);
		size_t start;
		size_t n;
		char name[64];
		const AttributionModel *m;
		bool seen = false;

		p = comma != NULL ? comma + 1 : p + len;
		tx_trim(item, len, &start, &n);
		if (n == 0)
			continue;
		if (n >= sizeof(name))
			n = sizeof(name) - 1;   /* no model name is this long: reported as unknown */
		memcpy(name, item + start, n);
		name[n] = '\0';
		m = model_find(name);
		if (m == NULL)
		{
			log_error("%s: attribution model \"%s\" in [attribution] models is unknown; "
					  "supported models: %s", where, name, supported);
			*err = CL_ERR_CONFIG;
			return false;
		}
		for (size_t i = 0; i < set->n && !seen; i++)
			seen = set->models[i] == m;
		if (!seen)
			set->models[set->n++] = m;
	}
	if (set->n == 0)
	{
		log_error("%s: [attribution] models names no model; supported models: %s", where,
				  supported);
		*err = CL_ERR_CONFIG;
		return false;
	}
	qsort(set->models, set->n, sizeof(set->models[0]), model_name_cmp);
	return true;
}

/*
 * model_weights checks every model's result against the contract, so a new
 * model with a rounding slip is caught on its first journey.
 */
bool
model_weights(const AttributionModel *m, ModelContext *ctx, const Journey *j, int64_t *weights)
{
	int64_t sum = 0;

	if (j->n == 0)
	{
		log_error("BUG: model %s called for an empty journey", m->name);
		return false;
	}
	if (!m->weights(ctx, j, weights))
		return false;
	for (uint32_t i = 0; i < j->n; i++)
	{
		if (weights[i] < 0 || weights[i] > CREDIT_WEIGHT_SCALE - sum)
		{
			log_error("BUG: model %s gave weight %" PRId64 " to touch %" PRIu32 " of %" PRIu32,
					  m->name, weights[i], i + 1, j->n);
			return false;
		}
		sum += weights[i];
	}
	if (sum != CREDIT_WEIGHT_SCALE)
	{
		log_error("BUG: model %s weights sum to %" PRId64 " / 10^12 for a journey of %" PRIu32,
				  m->name, sum, j->n);
		return false;
	}
	return true;
}

bool
models_need_fit(const ModelSet *set)
{
	for (size_t i = 0; i < set->n; i++)
	{
		if (set->models[i]->fit != MODEL_FIT_NONE)
			return true;
	}
	return false;
}
