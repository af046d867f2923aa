/*
 * models.c: the rule-based models and the registry.
 */
#include <inttypes.h>
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
	ctx->shares = NULL;
	ctx->cap_shares = 0;
	split_scratch_free(&ctx->split);
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

static const AttributionModel registry[] = {
	{ "first_touch", model_first_touch },
	{ "last_non_direct", model_last_non_direct },
	{ "last_touch", model_last_touch },
	{ "linear", model_linear },
};

#define N_REGISTRY (sizeof(registry) / sizeof(registry[0]))

/* DESIGN §4 models that this version does not compute yet. */
static const char *const planned[] = {
	"position_based", "u_shaped", "w_shaped", "full_path", "time_decay", "markov",
	"shapley", "fractribution", NULL
};

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
	char supported[256];
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
		bool planned_model = false;
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
			for (const char *const *q = planned; *q != NULL; q++)
				planned_model = planned_model || strcmp(*q, name) == 0;
			log_error("%s: attribution model \"%s\" in [attribution] models is %s; "
					  "supported models: %s", where, name,
					  planned_model ? "not implemented yet" : "unknown", supported);
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
