/*
 * datadriven.c: the markov, shapley and fractribution models: their fits
 * over the window's paths, their per-journey weights and their
 * attribution_model_stats rows.
 *
 * A journey's weights come from the fit as real shares per touch and
 * become exact integer weights through model_weights_from_real(): the
 * money itself is never a float.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "models.h"
#include "txutil.h"

void
model_fits_free(ModelFits *f)
{
	pathtable_free(&f->paths);
	markov_fit_free(&f->markov);
	shapley_fit_free(&f->shapley);
	frac_fit_free(&f->frac);
	memset(f, 0, sizeof(*f));
}

/*
 * model_fits_run fits only what the configured models use: the fits cost
 * time (shapley enumerates subsets) and have limits of their own.
 */
bool
model_fits_run(const ModelSet *set, ModelFits *f, ClError *err)
{
	bool over_limit = false;

	*err = CL_ERR_INTERNAL;
	for (size_t i = 0; i < set->n; i++)
	{
		switch (set->models[i]->fit)
		{
			case MODEL_FIT_MARKOV:
				if (!fit_markov(&f->paths, &f->markov))
					return false;
				f->has_markov = true;
				break;
			case MODEL_FIT_SHAPLEY:
				if (!fit_shapley(&f->paths, &f->shapley, &over_limit))
				{
					/* beyond its limits the remedy is the configuration */
					if (over_limit)
						*err = CL_ERR_CONFIG;
					return false;
				}
				f->has_shapley = true;
				break;
			case MODEL_FIT_FRACTRIBUTION:
				if (!fit_fractribution(&f->paths, &f->frac))
					return false;
				f->has_frac = true;
				break;
			case MODEL_FIT_NONE:
				break;
		}
	}
	*err = CL_OK;
	return true;
}

/*
 * journey_ids maps each touch's channel to its fitted id. Every journey
 * with touches was added to the paths, so an unknown channel is a bug.
 */
static bool
journey_ids(ModelContext *ctx, const char *model, const Journey *j)
{
	const PathTable *t = &ctx->fits->paths;

	if (!model_reserve(ctx, j->n))
		return false;
	for (uint32_t i = 0; i < j->n; i++)
	{
		if (!pathtable_channel(t, j->touches[i]->channel, &ctx->ids[i]))
		{
			log_error("BUG: %s: channel %s of a journey is not in the window's fit", model,
					  j->touches[i]->channel);
			return false;
		}
	}
	return true;
}

/*
 * per_channel_counts: how many touches of the journey each of its channels
 * has, in ctx->per_channel[id]. Only the journey's own channels are reset
 * and read, so counts left from earlier journeys never matter.
 */
static bool
per_channel_counts(ModelContext *ctx, const Journey *j)
{
	uint32_t k = ctx->fits->paths.n_channels;
	double *grown = tx_grow(ctx->per_channel, &ctx->cap_per_channel, (size_t) k + 1,
							sizeof(double));

	if (grown == NULL)
		return false;
	ctx->per_channel = grown;
	for (uint32_t i = 0; i < j->n; i++)
		ctx->per_channel[ctx->ids[i]] = 0.0;
	for (uint32_t i = 0; i < j->n; i++)
		ctx->per_channel[ctx->ids[i]] += 1.0;
	return true;
}

/* last_touch_weights: the fallback when a model gives no touch any credit. */
static void
last_touch_weights(const Journey *j, int64_t *weights)
{
	for (uint32_t i = 0; i < j->n; i++)
		weights[i] = i + 1 == j->n ? CREDIT_WEIGHT_SCALE : 0;
}

/*
 * split_by_channel_value: each touch gets value[channel] divided by the
 * number of touches of its channel in the journey, so a channel's share is
 * in proportion to its value and evenly spread over its touches; all
 * values zero: last touch.
 */
static bool
split_by_channel_value(ModelContext *ctx, const Journey *j, const double *value,
					   int64_t *weights)
{
	bool all_zero;

	if (!per_channel_counts(ctx, j))
		return false;
	for (uint32_t i = 0; i < j->n; i++)
	{
		double v = value[ctx->ids[i]];

		ctx->real[i] = v > 0 ? v / ctx->per_channel[ctx->ids[i]] : 0.0;
	}
	if (!model_weights_from_real(ctx, ctx->real, j->n, weights, &all_zero))
		return false;
	if (all_zero)
		last_touch_weights(j, weights);
	return true;
}

static bool
need_fit(const ModelContext *ctx, const char *model, bool has)
{
	if (ctx->fits == NULL || !has)
	{
		log_error("BUG: model %s weighed a journey before it was fitted", model);
		return false;
	}
	return true;
}

/*
 * model_markov: the deal's amount over the journey's channels in
 * proportion to their removal effects, within a channel evenly over its
 * touches.
 */
bool
model_markov(ModelContext *ctx, const Journey *j, int64_t *weights)
{
	if (!need_fit(ctx, "markov", ctx->fits != NULL && ctx->fits->has_markov)
		|| !journey_ids(ctx, "markov", j))
		return false;
	return split_by_channel_value(ctx, j, ctx->fits->markov.removal, weights);
}

/*
 * model_shapley: like markov with the Shapley values of the journey's
 * channel set; a negative value (a channel whose presence lowered the
 * conversion rate of smaller sets) gives no credit rather than a negative
 * one.
 */
bool
model_shapley(ModelContext *ctx, const Journey *j, int64_t *weights)
{
	const ShapleySet *set;
	uint64_t mask = 0;

	if (!need_fit(ctx, "shapley", ctx->fits != NULL && ctx->fits->has_shapley)
		|| !journey_ids(ctx, "shapley", j))
		return false;
	for (uint32_t i = 0; i < j->n; i++)
		mask |= UINT64_C(1) << ctx->ids[i];
	set = shapley_find(&ctx->fits->shapley, mask);
	if (set == NULL)
	{
		log_error("BUG: shapley: the channel set of a converting journey was not fitted");
		return false;
	}
	return split_by_channel_value(ctx, j, set->phi, weights);
}

/*
 * model_fractribution: the fractions of the journey's collapsed path, each
 * position's fraction spread evenly over the touches that were collapsed
 * into it.
 */
bool
model_fractribution(ModelContext *ctx, const Journey *j, int64_t *weights)
{
	const PathTable *t;
	const PathRow *row;
	const double *frac;
	uint32_t n = 0;
	bool all_zero;
	double *runs;

	if (!need_fit(ctx, "fractribution", ctx->fits != NULL && ctx->fits->has_frac)
		|| !journey_ids(ctx, "fractribution", j))
		return false;
	t = &ctx->fits->paths;
	/* collapse in place: ids[0..n) becomes the path, pos[i] each touch's place */
	for (uint32_t i = 0; i < j->n; i++)
	{
		if (n == 0 || ctx->ids[n - 1] != ctx->ids[i])
			ctx->ids[n++] = ctx->ids[i];
		ctx->pos[i] = n - 1;
	}
	row = pathtable_find(t, ctx->ids, n);
	if (row == NULL || row->conversions <= 0)
	{
		log_error("BUG: fractribution: the path of a converting journey was not fitted");
		return false;
	}
	frac = ctx->fits->frac.fraction + row->first;
	/* run lengths, kept in the weights array until the weights are written */
	runs = ctx->real;
	for (uint32_t p = 0; p < n; p++)
		weights[p] = 0;
	for (uint32_t i = 0; i < j->n; i++)
		weights[ctx->pos[i]]++;
	for (uint32_t i = 0; i < j->n; i++)
		runs[i] = frac[ctx->pos[i]] / (double) weights[ctx->pos[i]];
	if (!model_weights_from_real(ctx, runs, j->n, weights, &all_zero))
		return false;
	if (all_zero)
		last_touch_weights(j, weights);
	return true;
}

/* write_stat: one attribution_model_stats row; value with 12 decimals. */
static void
write_stat(CopyWriter *w, ClDate from, ClDate to, const char *model, const char *channel,
		   const char *statistic, double value)
{
	copy_date(w, from);
	copy_date(w, to);
	copy_text(w, model);
	copy_text(w, channel);
	copy_text(w, statistic);
	copy_decimal(w, (int64_t) llround(value * 1e12), CREDIT_WEIGHT_DIGITS);
	copy_end_row(w);
}

/*
 * shapley_shares: each channel's share of the fit's conversions when every
 * converting set's conversions are split like a journey of that set (by
 * the positive Shapley values; none positive: not counted).
 */
static void
shapley_shares(const ShapleyFit *f, double *share)
{
	double total = 0.0;

	for (uint32_t c = 0; c < f->n_channels; c++)
		share[c] = 0.0;
	for (size_t i = 0; i < f->n_sets; i++)
	{
		const ShapleySet *s = &f->sets[i];
		double pos = 0.0;

		for (uint32_t c = 0; c < f->n_channels; c++)
			pos += s->phi[c] > 0 ? s->phi[c] : 0.0;
		total += (double) s->conversions;
		if (pos <= 0)
			continue;
		for (uint32_t c = 0; c < f->n_channels; c++)
		{
			if (s->phi[c] > 0)
				share[c] += (double) s->conversions * s->phi[c] / pos;
		}
	}
	for (uint32_t c = 0; c < f->n_channels && total > 0; c++)
		share[c] /= total;
}

/*
 * model_fits_write_stats: the models come sorted by name, the channels of
 * the table by name, and each channel's statistics are written in name
 * order, so the rows are sorted by (model, channel, statistic).
 */
void
model_fits_write_stats(const ModelSet *set, const ModelFits *f, ClDate from, ClDate to,
					   CopyWriter *w)
{
	const PathTable *t = &f->paths;
	double *share = calloc((size_t) t->n_channels + 1, sizeof(double));

	if (share == NULL)
	{
		log_error("out of memory writing attribution_model_stats");
		w->failed = true;
		return;
	}
	for (size_t m = 0; m < set->n; m++)
	{
		const char *name = set->models[m]->name;
		double sum = 0.0;

		switch (set->models[m]->fit)
		{
			case MODEL_FIT_MARKOV:
				for (uint32_t c = 0; c < t->n_channels; c++)
					sum += f->markov.removal[c];
				for (uint32_t c = 0; c < t->n_channels; c++)
				{
					write_stat(w, from, to, name, t->channels[c], "conversion_share",
							   sum > 0 ? f->markov.removal[c] / sum : 0.0);
					write_stat(w, from, to, name, t->channels[c], "removal_effect",
							   f->markov.removal[c]);
				}
				break;
			case MODEL_FIT_SHAPLEY:
				shapley_shares(&f->shapley, share);
				for (uint32_t c = 0; c < t->n_channels; c++)
				{
					write_stat(w, from, to, name, t->channels[c], "conversion_share", share[c]);
					write_stat(w, from, to, name, t->channels[c], "shapley_value",
							   f->shapley.value[c]);
				}
				break;
			case MODEL_FIT_FRACTRIBUTION:
				for (uint32_t c = 0; c < t->n_channels; c++)
					sum += f->frac.conversions[c];
				for (uint32_t c = 0; c < t->n_channels; c++)
					write_stat(w, from, to, name, t->channels[c], "conversion_share",
							   sum > 0 ? f->frac.conversions[c] / sum : 0.0);
				break;
			case MODEL_FIT_NONE:
				break;
		}
	}
	free(share);
}
