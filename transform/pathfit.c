/*
 * pathfit.c: path tables and the markov, shapley and fractribution fits.
 *
 * Precision: the fits use IEEE double. Markov solves a system of at most
 * n_channels unknowns by Gaussian elimination with partial pivoting; the
 * matrix I - Q of an absorbing chain is diagonally dominant by columns of
 * substochastic rows, so the solve is backward stable and the absorption
 * probabilities carry a relative error of a few units of 1e-16 times the
 * number of channels. The Shapley and fractribution fits are sums of
 * ratios of counts, accurate to a few ulps. These are statistics; the
 * money they steer is split from integer weights.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pathfit.h"
#include "txutil.h"

void
pathtable_free(PathTable *t)
{
	free(t->channels);
	free(t->steps);
	free(t->paths);
	free(t->raw);
	memset(t, 0, sizeof(*t));
}

/*
 * pathtable_add keeps the names until finish, when the channel ids can be
 * given in name order: ids then do not depend on the order of the input.
 */
bool
pathtable_add(PathTable *t, const char *const *names, uint32_t n, int64_t conversions,
			  int64_t nulls, double revenue)
{
	PathRow row = { 0 };
	const char **raw;
	PathRow *paths;

	if (t->finished)
	{
		log_error("BUG: path added to a finished path table");
		return false;
	}
	if (n == 0)
		return true;
	raw = tx_grow(t->raw, &t->cap_raw, t->n_steps + n, sizeof(const char *));
	if (raw == NULL)
		return false;
	t->raw = raw;
	paths = tx_grow(t->paths, &t->cap_paths, t->n_paths + 1, sizeof(PathRow));
	if (paths == NULL)
		return false;
	t->paths = paths;
	row.first = t->n_steps;
	for (uint32_t i = 0; i < n; i++)
	{
		if (row.n > 0 && strcmp(t->raw[t->n_steps - 1], names[i]) == 0)
			continue;   /* a repeat of the channel before: collapsed */
		t->raw[t->n_steps++] = names[i];
		row.n++;
	}
	row.conversions = conversions;
	row.nulls = nulls;
	row.revenue = revenue;
	t->paths[t->n_paths++] = row;
	return true;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* seq_cmp: lexicographic on the ids, a prefix first. */
static int
seq_cmp(const uint32_t *a, uint32_t na, const uint32_t *b, uint32_t nb)
{
	uint32_t n = na < nb ? na : nb;

	for (uint32_t i = 0; i < n; i++)
	{
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	}
	return TX_CMP(na, nb);
}

/*
 * row_cmp orders equal sequences by their counts and revenue too, so that
 * rows are merged in one order whatever the input order: the revenue sum
 * of doubles is then the same bits every time.
 */
static int
row_cmp(const void *a, const void *b)
{
	const PathRow *x = a;
	const PathRow *y = b;
	int c = seq_cmp(x->seq, x->n, y->seq, y->n);

	if (c == 0)
		c = TX_CMP(x->conversions, y->conversions);
	if (c == 0)
		c = TX_CMP(x->nulls, y->nulls);
	if (c == 0)
		c = TX_CMP(x->revenue, y->revenue);
	return c;
}

/*
 * pathtable_finish: channel ids are ranks of the sorted distinct names;
 * the merged rows keep their sequences in the steps array, which is
 * compacted so that a row's steps stay in sorted-row order.
 */
bool
pathtable_finish(PathTable *t)
{
	const char **names = NULL;
	uint32_t *ids = NULL;
	size_t k = 0;
	size_t w = 0;
	size_t at = 0;
	bool ok = false;

	if (t->finished)
		return true;
	names = malloc((t->n_steps + 1) * sizeof(const char *));
	ids = malloc((t->n_steps + 1) * sizeof(uint32_t));
	t->steps = malloc((t->n_steps + 1) * sizeof(uint32_t));
	if (names == NULL || ids == NULL || t->steps == NULL)
	{
		log_error("out of memory building the path table");
		goto cleanup;
	}
	if (t->n_steps > 0)
		memcpy(names, t->raw, t->n_steps * sizeof(const char *));
	if (t->n_steps > 1)
		qsort(names, t->n_steps, sizeof(const char *), name_cmp);
	for (size_t i = 0; i < t->n_steps; i++)
	{
		if (k == 0 || strcmp(names[k - 1], names[i]) != 0)
			names[k++] = names[i];
	}
	if (k > UINT32_MAX - 1)
	{
		log_error("too many channels in the path table");
		goto cleanup;
	}
	t->channels = names;
	names = NULL;
	t->n_channels = (uint32_t) k;
	for (size_t i = 0; i < t->n_steps; i++)
	{
		const char **hit = bsearch(&t->raw[i], t->channels, k, sizeof(const char *), name_cmp);

		ids[i] = (uint32_t) (hit - t->channels);
	}
	for (size_t p = 0; p < t->n_paths; p++)
		t->paths[p].seq = ids + t->paths[p].first;
	if (t->n_paths > 1)
		qsort(t->paths, t->n_paths, sizeof(PathRow), row_cmp);
	for (size_t p = 0; p < t->n_paths; p++)
	{
		PathRow *r = &t->paths[p];

		if (w > 0 && seq_cmp(t->paths[w - 1].seq, t->paths[w - 1].n, r->seq, r->n) == 0)
		{
			t->paths[w - 1].conversions += r->conversions;
			t->paths[w - 1].nulls += r->nulls;
			t->paths[w - 1].revenue += r->revenue;
			continue;
		}
		memcpy(t->steps + at, r->seq, r->n * sizeof(uint32_t));
		t->paths[w] = *r;
		t->paths[w].first = at;
		at += r->n;
		w++;
	}
	t->n_paths = w;
	t->n_steps = at;
	for (size_t p = 0; p < t->n_paths; p++)
		t->paths[p].seq = t->steps + t->paths[p].first;
	free(t->raw);
	t->raw = NULL;
	t->cap_raw = 0;
	t->finished = true;
	ok = true;

cleanup:
	free(names);
	free(ids);
	return ok;
}

bool
pathtable_channel(const PathTable *t, const char *name, uint32_t *id)
{
	const char **hit;

	if (t->n_channels == 0)
		return false;
	hit = bsearch(&name, t->channels, t->n_channels, sizeof(const char *), name_cmp);
	if (hit == NULL)
		return false;
	*id = (uint32_t) (hit - t->channels);
	return true;
}

const PathRow *
pathtable_find(const PathTable *t, const uint32_t *seq, uint32_t n)
{
	size_t lo = 0;
	size_t hi = t->n_paths;

	while (lo < hi)
	{
		size_t mid = lo + (hi - lo) / 2;
		int c = seq_cmp(t->paths[mid].seq, t->paths[mid].n, seq, n);

		if (c == 0)
			return &t->paths[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* ---- markov ---- */

void
markov_fit_free(MarkovFit *f)
{
	free(f->removal);
	memset(f, 0, sizeof(*f));
}

/*
 * solve_dense solves a x = b in place (a is n x n, row-major; b becomes
 * x) by Gaussian elimination with partial pivoting. false when a pivot
 * vanishes, which an absorbing chain's I - Q never gives.
 */
static bool
solve_dense(double *a, double *b, uint32_t n)
{
	for (uint32_t col = 0; col < n; col++)
	{
		uint32_t piv = col;

		for (uint32_t r = col + 1; r < n; r++)
		{
			if (fabs(a[(size_t) r * n + col]) > fabs(a[(size_t) piv * n + col]))
				piv = r;
		}
		if (fabs(a[(size_t) piv * n + col]) < 1e-300)
			return false;
		if (piv != col)
		{
			double tb = b[col];

			for (uint32_t k = 0; k < n; k++)
			{
				double tmp = a[(size_t) col * n + k];

				a[(size_t) col * n + k] = a[(size_t) piv * n + k];
				a[(size_t) piv * n + k] = tmp;
			}
			b[col] = b[piv];
			b[piv] = tb;
		}
		for (uint32_t r = col + 1; r < n; r++)
		{
			double f = a[(size_t) r * n + col] / a[(size_t) col * n + col];

			if (f == 0.0)
				continue;
			for (uint32_t k = col; k < n; k++)
				a[(size_t) r * n + k] -= f * a[(size_t) col * n + k];
			b[r] -= f * b[col];
		}
	}
	for (uint32_t r = n; r-- > 0;)
	{
		double s = b[r];

		for (uint32_t k = r + 1; k < n; k++)
			s -= a[(size_t) r * n + k] * b[k];
		b[r] = s / a[(size_t) r * n + r];
	}
	return true;
}

/*
 * absorption: P(conversion) from start with channel removed (UINT32_MAX:
 * none) blocked. A removed channel's row becomes x = 0: reaching it is
 * reaching null. q holds transition probabilities between channels, conv
 * the probabilities into conversion, start those out of start.
 */
static bool
absorption(const double *q, const double *conv, const double *start, uint32_t k,
		   uint32_t removed, double *a, double *x, double *out)
{
	double p = 0.0;

	for (uint32_t i = 0; i < k; i++)
	{
		for (uint32_t j = 0; j < k; j++)
			a[(size_t) i * k + j] = (i == j ? 1.0 : 0.0) - (i == removed ? 0.0 : q[(size_t) i * k + j]);
		x[i] = i == removed ? 0.0 : conv[i];
	}
	if (!solve_dense(a, x, k))
		return false;
	for (uint32_t j = 0; j < k; j++)
	{
		if (j != removed)
			p += start[j] * x[j];
	}
	*out = p;
	return true;
}

/*
 * fit_markov counts transitions over the collapsed paths (each path
 * weighted by its journeys), turns them into probabilities and solves the
 * absorption once for the full chain and once per removed channel.
 */
bool
fit_markov(const PathTable *t, MarkovFit *out)
{
	uint32_t k = t->n_channels;
	size_t kk = (size_t) k * k;
	double *q = NULL;
	double *conv = NULL;
	double *start = NULL;
	double *rowsum = NULL;
	double *a = NULL;
	double *x = NULL;
	double start_sum = 0.0;
	bool ok = false;

	memset(out, 0, sizeof(*out));
	out->n_channels = k;
	out->removal = calloc(k + 1, sizeof(double));
	q = calloc(kk + 1, sizeof(double));
	conv = calloc(k + 1, sizeof(double));
	start = calloc(k + 1, sizeof(double));
	rowsum = calloc(k + 1, sizeof(double));
	a = malloc((kk + 1) * sizeof(double));
	x = malloc((k + 1) * sizeof(double));
	if (out->removal == NULL || q == NULL || conv == NULL || start == NULL || rowsum == NULL
		|| a == NULL || x == NULL)
	{
		log_error("out of memory fitting the markov model");
		goto cleanup;
	}
	for (size_t p = 0; p < t->n_paths; p++)
	{
		const PathRow *r = &t->paths[p];
		double w = (double) r->conversions + (double) r->nulls;

		start[r->seq[0]] += w;
		for (uint32_t i = 0; i + 1 < r->n; i++)
			q[(size_t) r->seq[i] * k + r->seq[i + 1]] += w;
		conv[r->seq[r->n - 1]] += (double) r->conversions;
		rowsum[r->seq[r->n - 1]] += (double) r->nulls;
	}
	for (uint32_t i = 0; i < k; i++)
	{
		start_sum += start[i];
		rowsum[i] += conv[i];
		for (uint32_t j = 0; j < k; j++)
			rowsum[i] += q[(size_t) i * k + j];
	}
	for (uint32_t i = 0; i < k; i++)
	{
		/* a channel without journeys (counts 0) absorbs into null */
		for (uint32_t j = 0; j < k; j++)
			q[(size_t) i * k + j] = rowsum[i] > 0 ? q[(size_t) i * k + j] / rowsum[i] : 0.0;
		conv[i] = rowsum[i] > 0 ? conv[i] / rowsum[i] : 0.0;
		start[i] = start_sum > 0 ? start[i] / start_sum : 0.0;
	}
	if (k > 0 && !absorption(q, conv, start, k, UINT32_MAX, a, x, &out->p_conversion))
	{
		log_error("BUG: markov transition matrix is singular");
		goto cleanup;
	}
	for (uint32_t c = 0; c < k && out->p_conversion > 0; c++)
	{
		double without;

		if (!absorption(q, conv, start, k, c, a, x, &without))
		{
			log_error("BUG: markov transition matrix without %s is singular", t->channels[c]);
			goto cleanup;
		}
		out->removal[c] = 1.0 - without / out->p_conversion;
		/* removing a state cannot add conversions; only rounding goes below 0 */
		if (out->removal[c] < 0)
			out->removal[c] = 0;
	}
	ok = true;

cleanup:
	free(q);
	free(conv);
	free(start);
	free(rowsum);
	free(a);
	free(x);
	if (!ok)
		markov_fit_free(out);
	return ok;
}

/* ---- shapley ---- */

void
shapley_fit_free(ShapleyFit *f)
{
	for (size_t i = 0; i < f->n_sets; i++)
		free(f->sets[i].phi);
	free(f->sets);
	free(f->value);
	memset(f, 0, sizeof(*f));
}

typedef struct SetCount
{
	uint64_t mask;
	int64_t conversions;
	int64_t journeys;
} SetCount;

static int
setcount_cmp(const void *a, const void *b)
{
	const SetCount *x = a;
	const SetCount *y = b;

	return TX_CMP(x->mask, y->mask);
}

/* set_rate: v(mask), the conversion rate of the journeys of that exact set. */
static double
set_rate(const SetCount *sets, size_t n, uint64_t mask)
{
	SetCount key = { mask, 0, 0 };
	const SetCount *hit = n > 0 ? bsearch(&key, sets, n, sizeof(SetCount), setcount_cmp) : NULL;

	if (hit == NULL || hit->journeys == 0)
		return 0.0;
	return (double) hit->conversions / (double) hit->journeys;
}

/*
 * shapley_of_set: the Shapley values of the members of one set. v is
 * tabulated once for the 2^m subsets, then every subset T adds, for each
 * member c outside T, the weight |T|! (m - |T| - 1)! / m! times
 * v(T + c) - v(T).
 */
static bool
shapley_of_set(const SetCount *sets, size_t n_sets, uint64_t mask, uint32_t k, double *phi)
{
	uint32_t members[SHAPLEY_MAX_SET];
	uint32_t m = 0;
	size_t subsets;
	double *v;
	double coef[SHAPLEY_MAX_SET];

	for (uint32_t c = 0; c < k; c++)
	{
		if (mask & (UINT64_C(1) << c))
			members[m++] = c;
	}
	subsets = (size_t) 1 << m;
	v = malloc(subsets * sizeof(double));
	if (v == NULL)
	{
		log_error("out of memory computing Shapley values");
		return false;
	}
	for (size_t s = 0; s < subsets; s++)
	{
		uint64_t global = 0;

		for (uint32_t i = 0; i < m; i++)
		{
			if (s & ((size_t) 1 << i))
				global |= UINT64_C(1) << members[i];
		}
		v[s] = s == 0 ? 0.0 : set_rate(sets, n_sets, global);
	}
	/* coef[t] = t! (m-t-1)! / m! = 1 / (m * C(m-1, t)) */
	for (uint32_t tsz = 0; tsz < m; tsz++)
	{
		double binom = 1.0;

		for (uint32_t i = 1; i <= tsz; i++)
			binom = binom * (double) (m - 1 - tsz + i) / (double) i;
		coef[tsz] = 1.0 / ((double) m * binom);
	}
	for (uint32_t c = 0; c < k; c++)
		phi[c] = 0.0;
	for (size_t s = 0; s < subsets; s++)
	{
		uint32_t size = (uint32_t) __builtin_popcountll((unsigned long long) s);

		for (uint32_t i = 0; i < m; i++)
		{
			if (s & ((size_t) 1 << i))
				continue;
			phi[members[i]] += coef[size] * (v[s | ((size_t) 1 << i)] - v[s]);
		}
	}
	free(v);
	return true;
}

/*
 * fit_shapley groups the paths by channel set (order and repeats do not
 * matter to a set), then values every set that converted.
 */
bool
fit_shapley(const PathTable *t, ShapleyFit *out, bool *over_limit)
{
	uint32_t k = t->n_channels;
	SetCount *sets = NULL;
	size_t n = 0;
	int64_t total_conv = 0;
	bool ok = false;

	memset(out, 0, sizeof(*out));
	out->n_channels = k;
	*over_limit = false;
	if (k > SHAPLEY_MAX_CHANNELS)
	{
		*over_limit = true;
		log_error("shapley: %" PRIu32 " channels in the window, at most %d are supported; "
				  "group channels more coarsely or leave shapley out of [attribution] models",
				  k, SHAPLEY_MAX_CHANNELS);
		return false;
	}
	sets = malloc((t->n_paths + 1) * sizeof(SetCount));
	out->value = calloc(k + 1, sizeof(double));
	if (sets == NULL || out->value == NULL)
	{
		log_error("out of memory fitting the shapley model");
		goto cleanup;
	}
	for (size_t p = 0; p < t->n_paths; p++)
	{
		const PathRow *r = &t->paths[p];
		uint64_t mask = 0;

		for (uint32_t i = 0; i < r->n; i++)
			mask |= UINT64_C(1) << r->seq[i];
		sets[p].mask = mask;
		sets[p].conversions = r->conversions;
		sets[p].journeys = r->conversions + r->nulls;
	}
	if (t->n_paths > 1)
		qsort(sets, t->n_paths, sizeof(SetCount), setcount_cmp);
	for (size_t p = 0; p < t->n_paths; p++)
	{
		if (n > 0 && sets[n - 1].mask == sets[p].mask)
		{
			sets[n - 1].conversions += sets[p].conversions;
			sets[n - 1].journeys += sets[p].journeys;
			continue;
		}
		sets[n++] = sets[p];
	}
	for (size_t i = 0; i < n; i++)
	{
		if (sets[i].conversions > 0)
			out->n_sets++;
	}
	out->sets = calloc(out->n_sets + 1, sizeof(ShapleySet));
	if (out->sets == NULL)
	{
		log_error("out of memory fitting the shapley model");
		goto cleanup;
	}
	out->n_sets = 0;
	for (size_t i = 0; i < n; i++)
	{
		ShapleySet *s;

		if (sets[i].conversions <= 0)
			continue;
		if (__builtin_popcountll((unsigned long long) sets[i].mask) > SHAPLEY_MAX_SET)
		{
			log_error("shapley: a converting journey has %d distinct channels, at most %d are "
					  "supported; group channels more coarsely or leave shapley out of "
					  "[attribution] models", __builtin_popcountll((unsigned long long) sets[i].mask),
					  SHAPLEY_MAX_SET);
			*over_limit = true;
			goto cleanup;
		}
		s = &out->sets[out->n_sets++];
		s->mask = sets[i].mask;
		s->conversions = sets[i].conversions;
		s->journeys = sets[i].journeys;
		s->phi = calloc(k + 1, sizeof(double));
		if (s->phi == NULL)
		{
			log_error("out of memory fitting the shapley model");
			goto cleanup;
		}
		if (!shapley_of_set(sets, n, s->mask, k, s->phi))
			goto cleanup;
		total_conv += s->conversions;
		for (uint32_t c = 0; c < k; c++)
			out->value[c] += (double) s->conversions * s->phi[c];
	}
	for (uint32_t c = 0; c < k && total_conv > 0; c++)
		out->value[c] /= (double) total_conv;
	ok = true;

cleanup:
	free(sets);
	if (!ok)
		shapley_fit_free(out);
	return ok;
}

const ShapleySet *
shapley_find(const ShapleyFit *f, uint64_t mask)
{
	size_t lo = 0;
	size_t hi = f->n_sets;

	while (lo < hi)
	{
		size_t mid = lo + (hi - lo) / 2;

		if (f->sets[mid].mask == mask)
			return &f->sets[mid];
		if (f->sets[mid].mask < mask)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* ---- fractribution ---- */

void
frac_fit_free(FracFit *f)
{
	free(f->fraction);
	free(f->conversions);
	free(f->revenue);
	memset(f, 0, sizeof(*f));
}

static double
path_probability(const PathRow *r)
{
	int64_t journeys = r->conversions + r->nulls;

	return journeys > 0 ? (double) r->conversions / (double) journeys : 0.0;
}

/*
 * fit_fractribution follows google/fractribution: the counterfactual of a
 * position is the path with that position left out, looked up as it is
 * (Direct > Email > Direct without Email is Direct > Direct, which no
 * collapsed path equals: its probability is 0).
 */
bool
fit_fractribution(const PathTable *t, FracFit *out)
{
	uint32_t k = t->n_channels;
	uint32_t longest = 0;
	uint32_t *cf = NULL;
	bool ok = false;

	memset(out, 0, sizeof(*out));
	out->n_channels = k;
	for (size_t p = 0; p < t->n_paths; p++)
		longest = t->paths[p].n > longest ? t->paths[p].n : longest;
	out->fraction = calloc(t->n_steps + 1, sizeof(double));
	out->conversions = calloc(k + 1, sizeof(double));
	out->revenue = calloc(k + 1, sizeof(double));
	cf = malloc(((size_t) longest + 1) * sizeof(uint32_t));
	if (out->fraction == NULL || out->conversions == NULL || out->revenue == NULL || cf == NULL)
	{
		log_error("out of memory fitting the fractribution model");
		goto cleanup;
	}
	for (size_t p = 0; p < t->n_paths; p++)
	{
		const PathRow *r = &t->paths[p];
		double *frac = out->fraction + r->first;
		double prob = path_probability(r);
		double sum = 0.0;

		if (r->conversions <= 0)
			continue;
		for (uint32_t i = 0; i < r->n; i++)
		{
			const PathRow *other = NULL;
			double marginal = prob;

			if (r->n > 1)
			{
				memcpy(cf, r->seq, i * sizeof(uint32_t));
				memcpy(cf + i, r->seq + i + 1, (r->n - i - 1) * sizeof(uint32_t));
				other = pathtable_find(t, cf, r->n - 1);
			}
			if (other != NULL)
				marginal -= path_probability(other);
			frac[i] = marginal > 0 ? marginal : 0.0;
			sum += frac[i];
		}
		for (uint32_t i = 0; i < r->n; i++)
		{
			if (sum > 0)
				frac[i] /= sum;
			else
				frac[i] = i + 1 == r->n ? 1.0 : 0.0;
			out->conversions[r->seq[i]] += (double) r->conversions * frac[i];
			out->revenue[r->seq[i]] += r->revenue * frac[i];
		}
	}
	ok = true;

cleanup:
	free(cf);
	if (!ok)
		frac_fit_free(out);
	return ok;
}
