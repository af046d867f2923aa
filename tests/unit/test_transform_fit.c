/*
 * test_transform_fit.c: the data-driven models (pathfit.c, datadriven.c).
 *
 * Conformance: the shared fixtures of two peer tools.
 * - fractribution/: from snowplow's path summary, the per-channel
 *   conversions and revenue of its report table under "shapley" (its
 *   fractribution model) and last_touch, to 1e-9.
 * - channelattribution_paths.csv: first, last and linear per channel and
 *   the exact first-order markov removal effects, against
 *   tests/data/transform/channelattribution_expected.tsv, which
 *   conformance_expected.py computed with exact rationals.
 * Hand-computed cases for markov, shapley and fractribution, and
 * properties over random journeys: weights >= 0 summing to 1, cents
 * summing to the amount, fits and weights invariant under input order.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "credit.h"
#include "log.h"
#include "models.h"
#include "pathfit.h"
#include "support.h"
#include "txutil.h"

#define MAX_STEPS 128

/* split_in_place splits s at sep into at most max items; returns count. */
static int
split_in_place(char *s, const char *sep, char **items, int max)
{
	int n = 0;
	size_t seplen = strlen(sep);

	for (;;)
	{
		char *p = strstr(s, sep);

		assert_true(n < max);
		items[n++] = s;
		if (p == NULL)
			return n;
		*p = '\0';
		s = p + seplen;
	}
}

static double
parse_double(const char *s)
{
	char *end;
	double v;

	if (s[0] == '\0')
		return 0.0;     /* the fixtures leave revenue empty for none */
	v = strtod(s, &end);
	assert_true(end != s && (*end == '\0' || *end == '\r'));
	return v;
}

static int64_t
parse_count(const char *s)
{
	char *end;
	long long v = strtoll(s, &end, 10);

	assert_true(end != s && (*end == '\0' || *end == '\r'));
	return (int64_t) v;
}

/* next_line: the next line of *cursor (NUL-terminated in place), NULL at end. */
static char *
next_line(char **cursor)
{
	char *line = *cursor;
	char *nl;

	if (line == NULL || *line == '\0')
		return NULL;
	nl = strchr(line, '\n');
	if (nl != NULL)
	{
		*nl = '\0';
		*cursor = nl + 1;
	}
	else
		*cursor = line + strlen(line);
	return line;
}

/* An expected figure: model, channel, statistic, value. */
typedef struct Expected
{
	char model[32];
	char channel[64];
	char statistic[32];
	double value;
} Expected;

static void
assert_close(const char *what, const char *channel, double got, double want, double tol)
{
	if (!(fabs(got - want) <= tol))
		fail_msg("%s %s: %.17g, expected %.17g (difference %.3g, tolerance %.3g)", what, channel,
				 got, want, got - want, tol);
}

/* ---- fractribution fixture ---- */

/*
 * The path summary (transformed_path,conversions,non_conversions,revenue)
 * goes into a path table as published; the report table's rows of each
 * model are then compared channel by channel.
 */
static void
test_fit_fractribution_conformance(void **state)
{
	char *path = ts_shared_fixture("attribution/fractribution/"
								   "snowplow_fractribution_path_summary_expected.csv");
	char *report_path = ts_shared_fixture("attribution/fractribution/"
										  "snowplow_fractribution_report_table_expected.csv");
	char *text = ts_read_file(path, NULL);
	char *report = ts_read_file(report_path, NULL);
	char *cur = text;
	char *line;
	PathTable t = { 0 };
	FracFit f;
	double last_conv[16] = { 0 };
	double last_rev[16] = { 0 };
	int checked = 0;

	(void) state;
	line = next_line(&cur);
	assert_string_equal(line, "transformed_path,conversions,non_conversions,revenue");
	while ((line = next_line(&cur)) != NULL)
	{
		char *fields[4];
		char *steps[MAX_STEPS];
		int n;

		assert_int_equal(split_in_place(line, ",", fields, 4), 4);
		n = split_in_place(fields[0], " > ", steps, MAX_STEPS);
		assert_true(pathtable_add(&t, (const char *const *) steps, (uint32_t) n,
								  parse_count(fields[1]), parse_count(fields[2]),
								  parse_double(fields[3])));
	}
	assert_true(pathtable_finish(&t));
	assert_int_equal(t.n_paths, 9);
	assert_true(t.n_channels <= 16);
	assert_true(fit_fractribution(&t, &f));
	/* last touch: the whole path's conversions and revenue on its last channel */
	for (size_t p = 0; p < t.n_paths; p++)
	{
		const PathRow *r = &t.paths[p];

		last_conv[r->seq[r->n - 1]] += (double) r->conversions;
		last_rev[r->seq[r->n - 1]] += r->revenue;
	}

	cur = report;
	line = next_line(&cur);
	assert_string_equal(line, "CHANNEL,CONVERSION_WINDOW_START_DATE,CONVERSION_WINDOW_END_DATE,"
						"CONVERSIONS,REVENUE,SPEND,ROAS,ATTRIBUTION_TYPE");
	while ((line = next_line(&cur)) != NULL)
	{
		char *fields[8];
		uint32_t c;
		double conv;
		double rev;

		assert_int_equal(split_in_place(line, ",", fields, 8), 8);
		assert_true(pathtable_channel(&t, fields[0], &c));
		if (strcmp(fields[7], "shapley") == 0)
		{
			conv = f.conversions[c];
			rev = f.revenue[c];
		}
		else
		{
			assert_string_equal(fields[7], "last_touch");
			conv = last_conv[c];
			rev = last_rev[c];
		}
		print_message("fractribution fixture %-10s %-18s conversions %.15f revenue %.13f\n",
					  fields[7], fields[0], conv, rev);
		assert_close("conversions", fields[0], conv, parse_double(fields[3]), 1e-9);
		assert_close("revenue", fields[0], rev, parse_double(fields[4]), 1e-9);
		checked++;
	}
	assert_int_equal(checked, 12);
	frac_fit_free(&f);
	pathtable_free(&t);
	free(text);
	free(report);
	free(path);
	free(report_path);
}

/* ---- ChannelAttribution fixture ---- */

static Expected *
read_expected(const char *name, size_t *n)
{
	char rel[256];
	char *path;
	char *text;
	char *cur;
	char *line;
	Expected *e = NULL;
	size_t cap = 0;

	snprintf(rel, sizeof(rel), "tests/data/transform/%s", name);
	path = ts_source_path(rel);
	text = ts_read_file(path, NULL);
	cur = text;
	*n = 0;
	while ((line = next_line(&cur)) != NULL)
	{
		char *fields[4];

		if (line[0] == '#')
			continue;
		assert_int_equal(split_in_place(line, "\t", fields, 4), 4);
		if (*n == cap)
		{
			cap = cap == 0 ? 64 : cap * 2;
			e = realloc(e, cap * sizeof(Expected));
			assert_non_null(e);
		}
		snprintf(e[*n].model, sizeof(e[*n].model), "%s", fields[0]);
		snprintf(e[*n].channel, sizeof(e[*n].channel), "%s", fields[1]);
		snprintf(e[*n].statistic, sizeof(e[*n].statistic), "%s", fields[2]);
		e[*n].value = parse_double(fields[3]);
		(*n)++;
	}
	free(text);
	free(path);
	return e;
}

/* Per channel (by fitted id) conversions and value of one rule model. */
typedef struct RuleSums
{
	const char *model;
	double conversions[16];
	double value[16];
} RuleSums;

/*
 * test_fit_channelattribution_conformance: markov from the path table;
 * first, last and linear through the models themselves (model_weights on
 * each path as a journey), so the rule models are what is checked.
 */
static void
test_fit_channelattribution_conformance(void **state)
{
	char *path = ts_shared_fixture("attribution/channelattribution_paths.csv");
	char *text = ts_read_file(path, NULL);
	char *cur = text;
	char *line;
	PathTable t = { 0 };
	MarkovFit mf;
	ModelContext ctx = { 0 };
	RuleSums sums[3] = { { "first_touch", { 0 }, { 0 } }, { "last_touch", { 0 }, { 0 } },
						 { "linear", { 0 }, { 0 } } };
	Expected *e;
	size_t n_e;
	int64_t conversions = 0;
	size_t rows = 0;
	int checked = 0;
	const char **steps_all = NULL;
	size_t n_steps_all = 0;
	size_t cap_steps = 0;
	size_t *first = NULL;
	uint32_t *len = NULL;
	double *conv = NULL;
	double *value = NULL;

	(void) state;
	line = next_line(&cur);
	assert_string_equal(line, "path;total_conversions;total_conversion_value;total_null");
	first = calloc(10000, sizeof(size_t));
	len = calloc(10000, sizeof(uint32_t));
	conv = calloc(10000, sizeof(double));
	value = calloc(10000, sizeof(double));
	assert_true(first != NULL && len != NULL && conv != NULL && value != NULL);
	while ((line = next_line(&cur)) != NULL)
	{
		char *fields[4];
		char *steps[MAX_STEPS];
		int n;

		assert_true(rows < 10000);
		assert_int_equal(split_in_place(line, ";", fields, 4), 4);
		n = split_in_place(fields[0], " > ", steps, MAX_STEPS);
		assert_true(pathtable_add(&t, (const char *const *) steps, (uint32_t) n,
								  parse_count(fields[1]), parse_count(fields[3]),
								  parse_double(fields[2])));
		conversions += parse_count(fields[1]);
		if (n_steps_all + (size_t) n > cap_steps)
		{
			cap_steps = (n_steps_all + (size_t) n) * 2;
			steps_all = realloc(steps_all, cap_steps * sizeof(const char *));
			assert_non_null(steps_all);
		}
		first[rows] = n_steps_all;
		len[rows] = (uint32_t) n;
		conv[rows] = parse_double(fields[1]);
		value[rows] = parse_double(fields[2]);
		for (int k = 0; k < n; k++)
			steps_all[n_steps_all++] = steps[k];
		rows++;
	}
	assert_int_equal(rows, 10000);
	assert_int_equal(conversions, 19785);
	assert_true(pathtable_finish(&t));
	assert_int_equal(t.n_channels, 12);
	assert_true(fit_markov(&t, &mf));

	/* the rule models over the raw paths, repeats included */
	for (size_t i = 0; i < rows; i++)
	{
		const char *const *steps = steps_all + first[i];
		Touch touches[MAX_STEPS];
		const Touch *jt[MAX_STEPS];
		int64_t weights[MAX_STEPS];
		uint32_t n = len[i];
		Journey j = { 0 };

		for (uint32_t k = 0; k < n; k++)
		{
			memset(&touches[k], 0, sizeof(Touch));
			touches[k].channel = steps[k];
			touches[k].at = k;
			jt[k] = &touches[k];
		}
		j.touches = jt;
		j.n = n;
		for (int m = 0; m < 3; m++)
		{
			assert_true(model_weights(model_find(sums[m].model), &ctx, &j, weights));
			for (uint32_t k = 0; k < n; k++)
			{
				uint32_t c;
				double w = (double) weights[k] / (double) CREDIT_WEIGHT_SCALE;

				assert_true(pathtable_channel(&t, steps[k], &c));
				sums[m].conversions[c] += conv[i] * w;
				sums[m].value[c] += value[i] * w;
			}
		}
	}

	e = read_expected("channelattribution_expected.tsv", &n_e);
	for (size_t i = 0; i < n_e; i++)
	{
		uint32_t c = 0;

		if (strcmp(e[i].statistic, "p_conversion") == 0)
		{
			assert_close("markov P(conversion)", "", mf.p_conversion, e[i].value, 1e-12);
			checked++;
			continue;
		}
		assert_true(pathtable_channel(&t, e[i].channel, &c));
		if (strcmp(e[i].model, "markov") == 0)
		{
			print_message("channelattribution markov %-8s removal_effect %.17g\n", e[i].channel,
						  mf.removal[c]);
			assert_close("markov removal effect", e[i].channel, mf.removal[c], e[i].value, 1e-9);
			checked++;
			continue;
		}
		for (int m = 0; m < 3; m++)
		{
			double got;

			if (strcmp(e[i].model, sums[m].model) != 0)
				continue;
			got = strcmp(e[i].statistic, "value") == 0 ? sums[m].value[c]
				: sums[m].conversions[c];
			/* relative: weights are exact to 10^-12 each, summed over 10,000 paths */
			assert_close(e[i].model, e[i].channel, got, e[i].value,
						 1e-9 * (fabs(e[i].value) > 1 ? fabs(e[i].value) : 1));
			checked++;
		}
	}
	assert_int_equal(checked, 1 + 12 + 3 * 12 * 2);
	free(e);
	free(steps_all);
	free(first);
	free(len);
	free(conv);
	free(value);
	model_context_free(&ctx);
	markov_fit_free(&mf);
	pathtable_free(&t);
	free(text);
	free(path);
}

/* ---- hand-computed cases ---- */

/* add: one path given as a "A>B>C" string (split on a copy kept by the caller). */
static void
add(PathTable *t, char *spec, int64_t conv, int64_t nulls)
{
	char *steps[MAX_STEPS];
	int n = split_in_place(spec, ">", steps, MAX_STEPS);

	assert_true(pathtable_add(t, (const char *const *) steps, (uint32_t) n, conv, nulls, 0.0));
}

/* weigh: the weights of model over a journey of channel names. */
static void
weigh(const char *model, ModelFits *fits, const char *const *channels, uint32_t n,
	  int64_t *weights)
{
	Touch touches[MAX_STEPS];
	const Touch *jt[MAX_STEPS];
	Journey j = { 0 };
	ModelContext ctx = { 0 };

	for (uint32_t i = 0; i < n; i++)
	{
		memset(&touches[i], 0, sizeof(Touch));
		touches[i].channel = channels[i];
		touches[i].at = i;
		jt[i] = &touches[i];
	}
	j.touches = jt;
	j.n = n;
	ctx.fits = fits;
	assert_true(model_weights(model_find(model), &ctx, &j, weights));
	model_context_free(&ctx);
}

/*
 * Markov by hand: A > B converts once, A fails once, B converts once.
 * start -> A 2/3, B 1/3; A -> B 1/2, null 1/2; B -> conversion 1.
 * P = 2/3 * 1/2 + 1/3 = 2/3; without A: 1/3, removal 1/2; without B: 0,
 * removal 1. Journey A, A, B: A 1/3 over two touches, B 2/3.
 */
static void
test_fit_markov_by_hand(void **state)
{
	char s1[] = "A>B", s2[] = "A", s3[] = "B";
	static const char *const journey[] = { "A", "A", "B" };
	ModelFits fits = { 0 };
	ModelSet set;
	ClError err;
	int64_t w[3];

	(void) state;
	add(&fits.paths, s1, 1, 0);
	add(&fits.paths, s2, 0, 1);
	add(&fits.paths, s3, 1, 0);
	assert_true(pathtable_finish(&fits.paths));
	assert_true(models_parse("markov", "test", &set, &err));
	assert_true(model_fits_run(&set, &fits, &err));
	assert_close("P", "", fits.markov.p_conversion, 2.0 / 3.0, 1e-15);
	assert_close("removal", "A", fits.markov.removal[0], 0.5, 1e-15);
	assert_close("removal", "B", fits.markov.removal[1], 1.0, 1e-15);
	weigh("markov", &fits, journey, 3, w);
	/* 1/6, 1/6, 2/3: 166666666666.67 twice and 666666666666.67: two units left */
	assert_int_equal(w[0], INT64_C(166666666667));
	assert_int_equal(w[1], INT64_C(166666666667));
	assert_int_equal(w[2], INT64_C(666666666666));
	model_fits_free(&fits);
}

/*
 * Shapley by hand: v(A) = 1/2 (A: 1 of 2), v(B) = 1/4 (B: 1 of 4),
 * v(AB) = 1/5 (A > B: 1 of 5). phi_A = (1/2 + (1/5 - 1/4)) / 2 = 0.225,
 * phi_B = (1/4 + (1/5 - 1/2)) / 2 = -0.025: B gets nothing in a journey
 * of {A, B}. Values over the converting sets, weighted by conversions:
 * A (1/2 + 0 + 0.225) / 3, B (0 + 1/4 - 0.025) / 3.
 */
static void
test_fit_shapley_by_hand(void **state)
{
	char s1[] = "A", s2[] = "B", s3[] = "A>B", s4[] = "B>A";
	static const char *const journey[] = { "A", "B", "A" };
	ModelFits fits = { 0 };
	ModelSet set;
	ClError err;
	const ShapleySet *ab;
	int64_t w[3];

	(void) state;
	add(&fits.paths, s1, 1, 1);
	add(&fits.paths, s2, 1, 3);
	add(&fits.paths, s3, 1, 3);
	add(&fits.paths, s4, 0, 1);
	assert_true(pathtable_finish(&fits.paths));
	assert_true(models_parse("shapley", "test", &set, &err));
	assert_true(model_fits_run(&set, &fits, &err));
	assert_int_equal(fits.shapley.n_sets, 3);
	ab = shapley_find(&fits.shapley, 3);
	assert_non_null(ab);
	assert_close("phi", "A", ab->phi[0], 0.225, 1e-15);
	assert_close("phi", "B", ab->phi[1], -0.025, 1e-15);
	assert_close("value", "A", fits.shapley.value[0], (0.5 + 0.225) / 3, 1e-15);
	assert_close("value", "B", fits.shapley.value[1], (0.25 - 0.025) / 3, 1e-15);
	weigh("shapley", &fits, journey, 3, w);
	assert_int_equal(w[0], CREDIT_WEIGHT_SCALE / 2);
	assert_int_equal(w[1], 0);
	assert_int_equal(w[2], CREDIT_WEIGHT_SCALE / 2);
	model_fits_free(&fits);
}

/*
 * Fractribution by hand: every path converts always, so no touch adds
 * anything over its counterfactual: last touch. And A > B (1 of 2) with
 * A (1 of 4) and B (0 of 1): A: 1/2 - 0 = 1/2, B: 1/2 - 1/4 = 1/4, so
 * A 2/3 and B 1/3; touches A, A, B share A's 2/3 evenly.
 */
static void
test_fit_fractribution_by_hand(void **state)
{
	char s1[] = "A>B", s2[] = "A", s3[] = "B";
	char t1[] = "A>B", t2[] = "A", t3[] = "B";
	static const char *const journey[] = { "A", "A", "B" };
	ModelFits fits = { 0 };
	ModelSet set;
	ClError err;
	int64_t w[3];

	(void) state;
	assert_true(models_parse("fractribution", "test", &set, &err));
	add(&fits.paths, s1, 1, 0);
	add(&fits.paths, s2, 1, 0);
	add(&fits.paths, s3, 1, 0);
	assert_true(pathtable_finish(&fits.paths));
	assert_true(model_fits_run(&set, &fits, &err));
	weigh("fractribution", &fits, journey, 3, w);
	assert_int_equal(w[0], 0);
	assert_int_equal(w[1], 0);
	assert_int_equal(w[2], CREDIT_WEIGHT_SCALE);
	model_fits_free(&fits);

	add(&fits.paths, t1, 1, 1);
	add(&fits.paths, t2, 1, 3);
	add(&fits.paths, t3, 0, 1);
	assert_true(pathtable_finish(&fits.paths));
	assert_true(model_fits_run(&set, &fits, &err));
	assert_close("conversions", "A", fits.frac.conversions[0], 2.0 / 3.0 + 1.0, 1e-15);
	assert_close("conversions", "B", fits.frac.conversions[1], 1.0 / 3.0, 1e-15);
	weigh("fractribution", &fits, journey, 3, w);
	assert_int_equal(w[0], INT64_C(333333333334));
	assert_int_equal(w[1], INT64_C(333333333333));
	assert_int_equal(w[2], INT64_C(333333333333));
	model_fits_free(&fits);
}

/* Shapley's limits are refused with a message, not run into. */
static void
test_fit_shapley_limits(void **state)
{
	char names[70][8];
	const char *path[70];
	PathTable t = { 0 };
	ShapleyFit f;
	bool over = false;

	(void) state;
	for (int i = 0; i < 70; i++)
	{
		snprintf(names[i], sizeof(names[i]), "c%02d", i);
		path[i] = names[i];
	}
	log_set_level(LOG_FATAL);
	/* 21 distinct channels in one converting journey */
	assert_true(pathtable_add(&t, path, 21, 1, 0, 0.0));
	assert_true(pathtable_finish(&t));
	assert_false(fit_shapley(&t, &f, &over));
	assert_true(over);
	pathtable_free(&t);
	/* 20 is fine */
	assert_true(pathtable_add(&t, path, 20, 1, 0, 0.0));
	assert_true(pathtable_finish(&t));
	assert_true(fit_shapley(&t, &f, &over));
	assert_false(over);
	assert_int_equal(f.n_sets, 1);
	shapley_fit_free(&f);
	pathtable_free(&t);
	/* 65 channels in the window, each on a path of its own */
	for (int i = 0; i < 65; i++)
		assert_true(pathtable_add(&t, path + i, 1, i % 2, 1, 0.0));
	assert_true(pathtable_finish(&t));
	over = false;
	assert_false(fit_shapley(&t, &f, &over));
	assert_true(over);
	pathtable_free(&t);
	log_set_level(LOG_WARN);
}

/* ---- properties over random journeys ---- */

static uint64_t
next_random(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * UINT64_C(2685821657736338717);
}

#define N_JOURNEYS 600
#define MAX_LEN 12

typedef struct RandomJourney
{
	const char *channels[MAX_LEN];
	uint32_t n;
	bool converts;
} RandomJourney;

/* fit_all builds the fits of the three data-driven models from journeys
 * taken in the order given by order[]. */
static void
fit_all(const RandomJourney *js, const size_t *order, ModelFits *fits)
{
	ModelSet set;
	ClError err;

	memset(fits, 0, sizeof(*fits));
	for (size_t i = 0; i < N_JOURNEYS; i++)
	{
		const RandomJourney *r = &js[order[i]];

		assert_true(pathtable_add(&fits->paths, r->channels, r->n, r->converts ? 1 : 0,
								  r->converts ? 0 : 1, r->converts ? 100.0 : 0.0));
	}
	assert_true(pathtable_finish(&fits->paths));
	assert_true(models_parse("markov,shapley,fractribution", "test", &set, &err));
	assert_true(model_fits_run(&set, fits, &err));
}

/*
 * Every model, on every converting random journey: weights >= 0 summing to
 * 1, cents summing to the amount; the data-driven fits and weights are the
 * same bits when the journeys come in another order.
 */
static void
test_fit_property_random_journeys(void **state)
{
	static const char *const channels[] = {
		"Direct", "Email", "Paid Search", "Referral", "Organic Search", "Display"
	};
	static const char *const names[] = {
		"first_touch", "last_touch", "last_non_direct", "linear", "position_based", "u_shaped",
		"w_shaped", "full_path", "time_decay", "markov", "shapley", "fractribution"
	};
	RandomJourney *js = calloc(N_JOURNEYS, sizeof(RandomJourney));
	size_t order[N_JOURNEYS];
	uint64_t seed = UINT64_C(0x2026fade);
	ModelFits a;
	ModelFits b;
	ModelContext ctx = { 0 };
	SplitScratch scratch = { 0 };

	(void) state;
	assert_non_null(js);
	for (size_t i = 0; i < N_JOURNEYS; i++)
	{
		js[i].n = 1 + (uint32_t) (next_random(&seed) % MAX_LEN);
		for (uint32_t k = 0; k < js[i].n; k++)
			js[i].channels[k] = channels[next_random(&seed) % 6];
		js[i].converts = next_random(&seed) % 3 == 0;
		order[i] = i;
	}
	fit_all(js, order, &a);
	for (size_t i = N_JOURNEYS; i-- > 1;)
	{
		size_t k = (size_t) (next_random(&seed) % (i + 1));
		size_t tmp = order[i];

		order[i] = order[k];
		order[k] = tmp;
	}
	fit_all(js, order, &b);
	assert_int_equal(a.paths.n_paths, b.paths.n_paths);
	assert_int_equal(a.paths.n_channels, b.paths.n_channels);
	assert_memory_equal(a.markov.removal, b.markov.removal, a.paths.n_channels * sizeof(double));
	assert_memory_equal(a.shapley.value, b.shapley.value, a.paths.n_channels * sizeof(double));
	assert_memory_equal(a.frac.fraction, b.frac.fraction, a.paths.n_steps * sizeof(double));
	assert_memory_equal(a.frac.revenue, b.frac.revenue, a.paths.n_channels * sizeof(double));
	for (uint32_t c = 0; c < a.paths.n_channels; c++)
		assert_true(a.markov.removal[c] >= 0 && a.markov.removal[c] <= 1);

	for (size_t i = 0; i < N_JOURNEYS; i++)
	{
		Touch touches[MAX_LEN];
		const Touch *jt[MAX_LEN];
		Journey j = { 0 };

		if (!js[i].converts)
			continue;
		for (uint32_t k = 0; k < js[i].n; k++)
		{
			memset(&touches[k], 0, sizeof(Touch));
			touches[k].channel = js[i].channels[k];
			touches[k].at = (ClTime) (next_random(&seed) % 1000) * 3600 * CL_USEC_PER_SEC;
			jt[k] = &touches[k];
		}
		/* journeys are ordered by time */
		for (uint32_t k = 1; k < js[i].n; k++)
		{
			if (touches[k].at < touches[k - 1].at)
				touches[k].at = touches[k - 1].at;
		}
		j.touches = jt;
		j.n = js[i].n;
		j.conversion_at = touches[js[i].n - 1].at;
		j.lead_created_at = (ClTime) (next_random(&seed) % 1000) * 3600 * CL_USEC_PER_SEC;
		j.deal_created_at = i % 5 == 0 ? TX_TIME_NONE : j.lead_created_at + 7200;
		for (size_t m = 0; m < sizeof(names) / sizeof(names[0]); m++)
		{
			int64_t wa[MAX_LEN];
			int64_t wb[MAX_LEN];
			int64_t parts[MAX_LEN];
			int64_t amount = (int64_t) (next_random(&seed) % UINT64_C(10000000000));
			int64_t wsum = 0;
			int64_t psum = 0;

			ctx.fits = &a;
			assert_true(model_weights(model_find(names[m]), &ctx, &j, wa));
			ctx.fits = &b;
			assert_true(model_weights(model_find(names[m]), &ctx, &j, wb));
			assert_memory_equal(wa, wb, j.n * sizeof(int64_t));
			assert_true(credit_split(amount, wa, j.n, CREDIT_WEIGHT_SCALE, parts, &scratch));
			for (uint32_t k = 0; k < j.n; k++)
			{
				assert_true(wa[k] >= 0 && parts[k] >= 0);
				wsum += wa[k];
				psum += parts[k];
			}
			if (wsum != CREDIT_WEIGHT_SCALE || psum != amount)
				fail_msg("%s journey %zu: weights sum %" PRId64 ", cents %" PRId64 " of %" PRId64,
						 names[m], i, wsum, psum, amount);
		}
	}
	model_context_free(&ctx);
	split_scratch_free(&scratch);
	model_fits_free(&a);
	model_fits_free(&b);
	free(js);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fit_fractribution_conformance),
		cmocka_unit_test(test_fit_channelattribution_conformance),
		cmocka_unit_test(test_fit_markov_by_hand),
		cmocka_unit_test(test_fit_shapley_by_hand),
		cmocka_unit_test(test_fit_fractribution_by_hand),
		cmocka_unit_test(test_fit_shapley_limits),
		cmocka_unit_test(test_fit_property_random_journeys),
	};

	log_set_level(LOG_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
