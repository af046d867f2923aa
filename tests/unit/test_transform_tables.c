#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"
#include "tables.h"

/* A row shaped like the entities: the two strings among other fields. */
typedef struct PairRow
{
	int64_t before;
	const char *group;
	double between;
	const char *id;
} PairRow;

static const PairRow *ref_rows;

/* ref_cmp is the order tables_pair_order promises, spelled out with strcmp. */
static int
ref_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *) a;
	uint32_t y = *(const uint32_t *) b;
	int c = strcmp(ref_rows[x].group, ref_rows[y].group);

	if (c == 0)
		c = strcmp(ref_rows[x].id, ref_rows[y].id);
	if (c == 0)
		c = x < y ? -1 : x > y;
	return c;
}

/* check_order sorts rows both ways and requires the same permutation. */
static void
check_order(const PairRow *rows, size_t n)
{
	uint32_t *order = NULL;
	uint32_t *want = malloc((n + 1) * sizeof(uint32_t));

	assert_non_null(want);
	for (size_t i = 0; i < n; i++)
		want[i] = (uint32_t) i;
	ref_rows = rows;
	qsort(want, n, sizeof(uint32_t), ref_cmp);
	assert_true(tables_pair_order(rows, n, sizeof(PairRow), offsetof(PairRow, group),
								  offsetof(PairRow, id), &order));
	assert_non_null(order);
	for (size_t i = 0; i < n; i++)
	{
		if (order[i] != want[i])
			fail_msg("position %zu: row %u (%s/%s), expected row %u (%s/%s)", i,
					 order[i], rows[order[i]].group, rows[order[i]].id, want[i],
					 rows[want[i]].group, rows[want[i]].id);
	}
	free(order);
	free(want);
}

static uint64_t
next_rand(uint64_t *x)
{
	*x = *x * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
	return *x >> 33;
}

/* Hand-picked ids: shared 8- and 16-byte prefixes, one id a prefix of
 * another, an empty id, bytes above 0x7f (strcmp compares them unsigned). */
static void
test_pair_order_prefixes(void **state)
{
	static const char *const ids[] = {
		"gclk0000920001", "gclk0000920000", "gclk0000", "gclk000", "gclk00000",
		"gclk0000920000a", "", "a", "gclk0000\x80", "gclk0000\x7f", "gclk0000\xff\x01",
		"0123456789abcdef", "0123456789abcdef0", "0123456789abcdeg", "0123456789abcdee",
		"0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdeg",
		"0123456789abcdef0123456789abcdef!", "0123456789abcdef0123456789abcde",
		"\xc3\xa9t\xc3\xa9", "Z", "z", "12", "2", "10",
	};
	enum { N = sizeof(ids) / sizeof(ids[0]) };
	PairRow rows[N];

	(void) state;
	for (size_t i = 0; i < N; i++)
	{
		rows[i].group = "hubspot";
		rows[i].id = ids[i];
	}
	check_order(rows, N);
	/* the same ids under two groups, interleaved */
	for (size_t i = 0; i < N; i++)
		rows[i].group = i % 2 == 0 ? "salesforce" : "google_ads";
	check_order(rows, N);
}

/*
 * Groups compare by their strings, not their addresses: equal group strings
 * at different addresses are one group, and a group that is a prefix of
 * another sorts first whatever the ids say.
 */
static void
test_pair_order_group_tiebreak(void **state)
{
	char hub_a[] = "hubspot";
	char hub_b[] = "hubspot";
	char hub_long[] = "hubspot2";
	PairRow rows[] = {
		{ 0, hub_long, 0, "a" },
		{ 0, hub_a, 0, "zzz" },
		{ 0, hub_b, 0, "b" },
		{ 0, "google_ads", 0, "zzzz" },
		{ 0, hub_b, 0, "zzz" },     /* equal to row 1: the row index decides */
		{ 0, hub_a, 0, "a" },
		{ 0, "", 0, "m" },
	};
	static const uint32_t want[] = { 6, 3, 5, 2, 1, 4, 0 };
	uint32_t *order = NULL;

	(void) state;
	assert_true(tables_pair_order(rows, 7, sizeof(PairRow), offsetof(PairRow, group),
								  offsetof(PairRow, id), &order));
	assert_memory_equal(order, want, sizeof(want));
	free(order);
	check_order(rows, 7);
}

static void
test_pair_order_empty_and_one(void **state)
{
	PairRow row = { 0, "g", 0, "x" };
	uint32_t *order = NULL;

	(void) state;
	assert_true(tables_pair_order(&row, 0, sizeof(PairRow), offsetof(PairRow, group),
								  offsetof(PairRow, id), &order));
	assert_non_null(order);
	free(order);
	assert_true(tables_pair_order(&row, 1, sizeof(PairRow), offsetof(PairRow, group),
								  offsetof(PairRow, id), &order));
	assert_int_equal(order[0], 0);
	free(order);
}

/*
 * Random ids built from a small alphabet with long common prefixes, so
 * that many ids tie on their first 8, 16 and 24 bytes, some are prefixes
 * of others and some repeat; large enough to exercise the quicksort, not
 * only the insertion sort.
 */
static void
test_pair_order_random(void **state)
{
	enum { N = 60000, MAXLEN = 40 };
	static const char *const groups[] = { "hubspot", "salesforce", "google_ads", "meta",
										  "mailchimp" };
	static const char *const stems[] = { "", "gclk0000", "gclk00009200", "0123456789abcdef",
										 "0123456789abcdef01234567", "\xff\xfe" };
	PairRow *rows = calloc(N, sizeof(PairRow));
	char *text = malloc((size_t) N * (MAXLEN + 1));
	uint64_t x = 42;

	(void) state;
	assert_non_null(rows);
	assert_non_null(text);
	for (size_t i = 0; i < N; i++)
	{
		char *id = text + i * (MAXLEN + 1);
		const char *stem = stems[next_rand(&x) % 6];
		size_t len = strlen(stem);
		size_t tail = next_rand(&x) % 6;

		memcpy(id, stem, len);
		for (size_t k = 0; k < tail && len < MAXLEN; k++)
			id[len++] = "019a\x80"[next_rand(&x) % 5];
		id[len] = '\0';
		rows[i].id = id;
		rows[i].group = groups[next_rand(&x) % 5];
	}
	check_order(rows, N);
	/* already sorted and reversed inputs are the quicksort's classic traps */
	{
		uint32_t *order = NULL;
		PairRow *sorted = malloc(N * sizeof(PairRow));

		assert_non_null(sorted);
		assert_true(tables_pair_order(rows, N, sizeof(PairRow), offsetof(PairRow, group),
									  offsetof(PairRow, id), &order));
		for (size_t i = 0; i < N; i++)
			sorted[i] = rows[order[i]];
		check_order(sorted, N);
		for (size_t i = 0; i < N; i++)
			sorted[i] = rows[order[N - 1 - i]];
		check_order(sorted, N);
		free(order);
		free(sorted);
	}
	free(rows);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pair_order_prefixes),
		cmocka_unit_test(test_pair_order_group_tiebreak),
		cmocka_unit_test(test_pair_order_empty_and_one),
		cmocka_unit_test(test_pair_order_random),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
