/*
 * pathfit.h: the data-driven models' fits over aggregated channel paths.
 *
 * A path is the channel sequence of a journey with consecutive repeats of
 * a channel collapsed ("Email > Email > Direct" is "Email > Direct"), with
 * how many journeys on it converted, how many did not, and (for the
 * conformance tests) their revenue. The fits are pure functions of such a
 * table, so the pipeline feeds them the window's journeys and the tests
 * feed them published path summaries:
 *
 *   markov         exact first-order removal effects (a linear solve)
 *   shapley        Shapley values of each converting channel set
 *   fractribution  google/fractribution's leave-one-out path fractions
 *
 * Statistics are doubles: they are estimates, not money. Money is split
 * later from integer weights (credit.h). Every computation walks the table
 * in its sorted order, so the results do not depend on the order in which
 * paths were added, bit for bit.
 */
#ifndef CL_PATHFIT_H
#define CL_PATHFIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Shapley enumerates subsets: limits on channels per window and per set. */
#define SHAPLEY_MAX_CHANNELS 64
#define SHAPLEY_MAX_SET 20

typedef struct PathRow
{
	const uint32_t *seq;        /* borrowed from the table: channel ids */
	uint32_t n;                 /* collapsed length, >= 1 */
	int64_t conversions;
	int64_t nulls;              /* journeys on the path that did not convert */
	double revenue;
	size_t first;               /* offset of seq in the table's steps */
} PathRow;

/*
 * A table is built by pathtable_add() calls and pathtable_finish(); after
 * that it is read-only. Channel names are borrowed: they must outlive the
 * table.
 */
typedef struct PathTable
{
	const char **channels;      /* owned array, sorted by strcmp, distinct */
	uint32_t n_channels;
	uint32_t *steps;            /* owned: the paths' channel ids */
	size_t n_steps;
	PathRow *paths;             /* owned: sorted by sequence, distinct */
	size_t n_paths;
	const char **raw;           /* owned while building: step names */
	size_t cap_raw;
	size_t cap_paths;
	bool finished;
} PathTable;

void pathtable_free(PathTable *t);

/*
 * pathtable_add adds one path of n channel names (collapsing consecutive
 * repeats, compared by strcmp) with its counts; n == 0 adds nothing.
 * false when out of memory or called after finish (logged).
 */
bool pathtable_add(PathTable *t, const char *const *names, uint32_t n, int64_t conversions,
				   int64_t nulls, double revenue);

/* pathtable_finish numbers the channels and merges equal paths. */
bool pathtable_finish(PathTable *t);

/* pathtable_channel: the id of a channel name; false when unknown. */
bool pathtable_channel(const PathTable *t, const char *name, uint32_t *id);

/* pathtable_find: the row of a collapsed sequence, NULL when none. */
const PathRow *pathtable_find(const PathTable *t, const uint32_t *seq, uint32_t n);

/*
 * Markov: states start, the channels, conversion and null. P(conversion)
 * is the absorption probability in conversion from start; removing a
 * channel sends every transition into it to null. removal[c] = 1 -
 * P(conversion without c) / P(conversion), 0 for all when nothing
 * converts.
 */
typedef struct MarkovFit
{
	double p_conversion;
	double *removal;            /* owned, n_channels */
	uint32_t n_channels;
} MarkovFit;

bool fit_markov(const PathTable *t, MarkovFit *out);
void markov_fit_free(MarkovFit *f);

/*
 * Shapley: v(S) = conversions / journeys of the paths whose channel set is
 * exactly S (0 when no journey has that set). For each channel set S of a
 * converting path, phi[c] (c in S) is c's Shapley value in the game of the
 * subsets of S; the members' values sum to v(S).
 */
typedef struct ShapleySet
{
	uint64_t mask;              /* bit c: channel id c */
	int64_t conversions;
	int64_t journeys;
	double *phi;                /* owned, n_channels (0 outside the set) */
} ShapleySet;

typedef struct ShapleyFit
{
	ShapleySet *sets;           /* owned, converting sets sorted by mask */
	size_t n_sets;
	uint32_t n_channels;
	double *value;              /* owned: conversion-weighted mean of phi */
} ShapleyFit;

/*
 * fit_shapley: false with a logged message beyond the limits above
 * (*over_limit true) or when out of memory (false).
 */
bool fit_shapley(const PathTable *t, ShapleyFit *out, bool *over_limit);
void shapley_fit_free(ShapleyFit *f);

/* shapley_find: the converting set of mask, NULL when none. */
const ShapleySet *shapley_find(const ShapleyFit *f, uint64_t mask);

/*
 * Fractribution: for each position i of a converting path,
 * max(0, P(path) - P(path without position i)) normalised over the path
 * (P of a path not in the table is 0; the shortened path is looked up as
 * it is, without collapsing again); all zero: 1 on the last position.
 * fraction[] is parallel to the table's steps (0 on paths without
 * conversions). conversions[c] and revenue[c] sum the paths' conversions
 * and revenue times c's fractions.
 */
typedef struct FracFit
{
	double *fraction;           /* owned, n_steps */
	double *conversions;        /* owned, n_channels */
	double *revenue;            /* owned, n_channels */
	uint32_t n_channels;
} FracFit;

bool fit_fractribution(const PathTable *t, FracFit *out);
void frac_fit_free(FracFit *f);

#endif
