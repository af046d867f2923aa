/*
 * test_transform_models.c: model weights and largest-remainder splitting.
 *
 * Cases come from tests/data/transform/model_weights.cases,
 * rule_weights.cases (milestones, position_based, time_decay, with touch
 * times and the lead and deal creation times) and credit_split.cases (one
 * runner each); a seeded property test checks the
 * contract on many random journeys: weights >= 0 summing to 1, money parts
 * summing to the deal amount, each part within one minor unit of its exact
 * share.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "credit.h"
#include "log.h"
#include "models.h"
#include "settings.h"
#include "support.h"
#include "txutil.h"

#define MAX_TOUCHES 64

__extension__ typedef __int128 i128;

/* split_list splits s in place at sep into at most max items. */
static int
split_list(char *s, char sep, char **items, int max)
{
	int n = 0;

	for (;;)
	{
		char *p = strchr(s, sep);

		assert_true(n < max);
		items[n++] = s;
		if (p == NULL)
			return n;
		*p = '\0';
		s = p + 1;
	}
}

/* parse_weight: "0.333333333334" in units of 10^-12. */
static int64_t
parse_weight(const char *s)
{
	const char *dot = strchr(s, '.');
	int64_t units = 0;

	assert_non_null(dot);
	assert_int_equal(strlen(dot + 1), CREDIT_WEIGHT_DIGITS);
	for (const char *p = s; *p != '\0'; p++)
	{
		if (*p == '.')
			continue;
		assert_true(*p >= '0' && *p <= '9');
		units = units * 10 + (*p - '0');
	}
	return units;
}

static int64_t
parse_int(const char *s)
{
	char *end;
	int64_t v = strtoll(s, &end, 10);

	assert_true(end != s && *end == '\0');
	return v;
}

/* read_cases: ALLOCATED text of a data file under tests/data/transform. */
static char *
read_cases(const char *name)
{
	char rel[256];
	char *path;
	char *text;

	snprintf(rel, sizeof(rel), "tests/data/transform/%s", name);
	path = ts_source_path(rel);
	text = ts_read_file(path, NULL);
	free(path);
	return text;
}

static void
test_transform_models_weight_cases(void **state)
{
	char *text = read_cases("model_weights.cases");
	char *save = NULL;
	ModelContext ctx = { 0 };
	int cases = 0;

	(void) state;
	for (char *line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save))
	{
		char *fields[3];
		char *channels[MAX_TOUCHES];
		char *expected[MAX_TOUCHES];
		Touch touches[MAX_TOUCHES];
		const Touch *journey[MAX_TOUCHES];
		int64_t weights[MAX_TOUCHES];
		const AttributionModel *m;
		Journey j = { 0 };
		int n;

		if (line[0] == '#')
			continue;
		assert_int_equal(split_list(line, '\t', fields, 3), 3);
		n = split_list(fields[1], ',', channels, MAX_TOUCHES);
		assert_int_equal(split_list(fields[2], ',', expected, MAX_TOUCHES), n);
		m = model_find(fields[0]);
		if (m == NULL)
			fail_msg("unknown model %s in model_weights.cases", fields[0]);
		memset(touches, 0, sizeof(touches));
		for (int i = 0; i < n; i++)
		{
			touches[i].channel = channels[i];
			touches[i].at = i;
			journey[i] = &touches[i];
		}
		j.touches = journey;
		j.n = (uint32_t) n;
		assert_true(model_weights(m, &ctx, &j, weights));
		for (int i = 0; i < n; i++)
		{
			if (weights[i] != parse_weight(expected[i]))
				fail_msg("%s over %d touches: weight %d is %" PRId64 "e-12, expected %s",
						 m->name, n, i + 1, weights[i], expected[i]);
		}
		cases++;
	}
	assert_true(cases >= 36);
	model_context_free(&ctx);
	free(text);
}

/* parse_hours: "-" is no event, else hours since the epoch. */
static ClTime
parse_hours(const char *s)
{
	if (strcmp(s, "-") == 0)
		return TX_TIME_NONE;
	return parse_int(s) * 3600 * CL_USEC_PER_SEC;
}

/*
 * rule_weights.cases: model, touch times, lead created, deal created,
 * expected weights; the conversion is at the last touch.
 */
static void
test_transform_models_rule_cases(void **state)
{
	char *text = read_cases("rule_weights.cases");
	char *save = NULL;
	ModelContext ctx = { 0 };
	int cases = 0;

	(void) state;
	for (char *line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save))
	{
		char *fields[5];
		char *times[MAX_TOUCHES];
		char *expected[MAX_TOUCHES];
		Touch touches[MAX_TOUCHES];
		const Touch *journey[MAX_TOUCHES];
		int64_t weights[MAX_TOUCHES];
		const AttributionModel *m;
		Journey j = { 0 };
		int n;

		if (line[0] == '#')
			continue;
		assert_int_equal(split_list(line, '\t', fields, 5), 5);
		n = split_list(fields[1], ',', times, MAX_TOUCHES);
		assert_int_equal(split_list(fields[4], ',', expected, MAX_TOUCHES), n);
		m = model_find(fields[0]);
		if (m == NULL)
			fail_msg("unknown model %s in rule_weights.cases", fields[0]);
		memset(touches, 0, sizeof(touches));
		for (int i = 0; i < n; i++)
		{
			touches[i].channel = i % 2 == 0 ? "Email" : "Direct";
			touches[i].at = parse_hours(times[i]);
			journey[i] = &touches[i];
		}
		j.touches = journey;
		j.n = (uint32_t) n;
		j.conversion_at = touches[n - 1].at;
		j.lead_created_at = parse_hours(fields[2]);
		j.deal_created_at = parse_hours(fields[3]);
		assert_true(model_weights(m, &ctx, &j, weights));
		for (int i = 0; i < n; i++)
		{
			if (weights[i] != parse_weight(expected[i]))
				fail_msg("%s over %d touches (LC %s, OC %s): weight %d is %" PRId64
						 "e-12, expected %s", m->name, n, fields[2], fields[3], i + 1,
						 weights[i], expected[i]);
		}
		cases++;
	}
	assert_true(cases >= 54);
	model_context_free(&ctx);
	free(text);
}

/* position_based's shares are settings: J-shaped and inverse J. */
static void
test_transform_models_position_based_settings(void **state)
{
	static const struct
	{
		int64_t first;
		int64_t last;
		uint32_t n;
		int64_t expected[4];
	} cases[] = {
		{ INT64_C(200000000000), INT64_C(600000000000), 3,
		  { INT64_C(200000000000), INT64_C(200000000000), INT64_C(600000000000) } },
		{ INT64_C(600000000000), INT64_C(200000000000), 4,
		  { INT64_C(600000000000), INT64_C(100000000000), INT64_C(100000000000),
			INT64_C(200000000000) } },
		{ INT64_C(200000000000), INT64_C(600000000000), 2,
		  { INT64_C(300000000000), INT64_C(700000000000) } },
		{ INT64_C(500000000000), INT64_C(500000000000), 4,
		  { INT64_C(500000000000), 0, 0, INT64_C(500000000000) } },
	};
	ModelContext ctx = { 0 };

	(void) state;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++)
	{
		ModelParams p = MODEL_PARAMS_DEFAULT;
		Touch touches[4];
		const Touch *journey[4];
		int64_t weights[4];
		Journey j = { 0 };

		p.pb_first = cases[c].first;
		p.pb_last = cases[c].last;
		ctx.params = &p;
		memset(touches, 0, sizeof(touches));
		for (uint32_t i = 0; i < cases[c].n; i++)
		{
			touches[i].channel = "Email";
			journey[i] = &touches[i];
		}
		j.touches = journey;
		j.n = cases[c].n;
		assert_true(model_weights(model_find("position_based"), &ctx, &j, weights));
		for (uint32_t i = 0; i < cases[c].n; i++)
			assert_int_equal(weights[i], cases[c].expected[i]);
	}
	model_context_free(&ctx);
}

/* Shares are read exactly, and what cannot be a share is refused. */
static void
test_transform_models_share_setting(void **state)
{
	int64_t v = -1;

	(void) state;
	assert_true(settings_share("0.4", &v));
	assert_int_equal(v, INT64_C(400000000000));
	assert_true(settings_share("1", &v));
	assert_int_equal(v, CREDIT_WEIGHT_SCALE);
	assert_true(settings_share("0.000000000001", &v));
	assert_int_equal(v, 1);
	assert_true(settings_share(".25", &v));
	assert_int_equal(v, INT64_C(250000000000));
	assert_false(settings_share("1.5", &v));
	assert_false(settings_share("-0.1", &v));
	assert_false(settings_share("0.4x", &v));
	assert_false(settings_share("0.0000000000001", &v));
	assert_false(settings_share("", &v));
	assert_false(settings_share(".", &v));
	assert_false(settings_share("0.4.1", &v));
}

static void
test_transform_models_credit_split_cases(void **state)
{
	char *text = read_cases("credit_split.cases");
	char *save = NULL;
	SplitScratch scratch = { 0 };
	int cases = 0;

	(void) state;
	for (char *line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save))
	{
		char *fields[3];
		char *shares_s[MAX_TOUCHES];
		char *expected[MAX_TOUCHES];
		int64_t shares[MAX_TOUCHES];
		int64_t parts[MAX_TOUCHES];
		int64_t total;
		int64_t share_total = 0;
		int n;

		if (line[0] == '#')
			continue;
		assert_int_equal(split_list(line, '\t', fields, 3), 3);
		total = parse_int(fields[0]);
		n = split_list(fields[1], ',', shares_s, MAX_TOUCHES);
		assert_int_equal(split_list(fields[2], ',', expected, MAX_TOUCHES), n);
		for (int i = 0; i < n; i++)
		{
			shares[i] = parse_int(shares_s[i]);
			share_total += shares[i];
		}
		assert_true(credit_split(total, shares, (size_t) n, share_total, parts, &scratch));
		for (int i = 0; i < n; i++)
		{
			if (parts[i] != parse_int(expected[i]))
				fail_msg("%" PRId64 " split: part %d is %" PRId64 ", expected %s", total, i + 1,
						 parts[i], expected[i]);
		}
		cases++;
	}
	assert_true(cases >= 10);
	split_scratch_free(&scratch);
	free(text);
}

/* Preconditions are checked, not assumed. */
static void
test_transform_models_credit_split_rejects_bad_shares(void **state)
{
	SplitScratch scratch = { 0 };
	int64_t parts[3];
	int64_t negative[3] = { 2, -1, 1 };
	int64_t ok[3] = { 1, 1, 1 };

	(void) state;
	log_set_level(LOG_FATAL);
	assert_false(credit_split(100, negative, 3, 2, parts, &scratch));
	assert_false(credit_split(100, ok, 3, 4, parts, &scratch));
	assert_false(credit_split(100, ok, 0, 3, parts, &scratch));
	assert_false(credit_split(INT64_MIN, ok, 3, 3, parts, &scratch));
	log_set_level(LOG_WARN);
	split_scratch_free(&scratch);
}

/* A small deterministic generator (xorshift64*), so failures reproduce. */
static uint64_t
next_random(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * UINT64_C(2685821657736338717);
}

static void
test_transform_models_property_random_journeys(void **state)
{
	static const char *const channels[] = { "Direct", "Email", "Paid Search", "Referral" };
	static const char *const names[] = {
		"first_touch", "last_touch", "last_non_direct", "linear", "position_based", "u_shaped",
		"w_shaped", "full_path", "time_decay"
	};
	const size_t n_names = sizeof(names) / sizeof(names[0]);
	uint64_t seed = UINT64_C(0x5eed2026);
	ModelContext ctx = { 0 };
	SplitScratch scratch = { 0 };
	Touch touches[MAX_TOUCHES];
	const Touch *journey[MAX_TOUCHES];
	int64_t weights[MAX_TOUCHES];
	int64_t parts[MAX_TOUCHES];

	(void) state;
	for (int round = 0; round < 20000; round++)
	{
		uint32_t n = 1 + (uint32_t) (next_random(&seed) % MAX_TOUCHES);
		int64_t amount = (int64_t) (next_random(&seed) % UINT64_C(100000000000000));
		const AttributionModel *m = model_find(names[next_random(&seed) % n_names]);
		Journey j = { 0 };
		int64_t wsum = 0;
		int64_t psum = 0;

		assert_non_null(m);
		if (round % 7 == 0)
			amount = (int64_t) (next_random(&seed) % 5);   /* a few cents over many touches */
		if (round % 11 == 0)
			amount = -amount;
		for (uint32_t i = 0; i < n; i++)
		{
			memset(&touches[i], 0, sizeof(Touch));
			touches[i].channel = channels[next_random(&seed) % 4];
			/* in time order, some touches at the same time, up to a year apart */
			touches[i].at = (i > 0 ? touches[i - 1].at : 0)
				+ (ClTime) (next_random(&seed) % 3) * (ClTime) (next_random(&seed) % 120)
				* 3600 * CL_USEC_PER_SEC;
			journey[i] = &touches[i];
		}
		j.touches = journey;
		j.n = n;
		j.conversion_at = touches[n - 1].at;
		j.lead_created_at = round % 5 == 0 ? TX_TIME_NONE
			: (ClTime) (next_random(&seed) % 20000) * 3600 * CL_USEC_PER_SEC;
		j.deal_created_at = round % 3 == 0 ? TX_TIME_NONE
			: (ClTime) (next_random(&seed) % 20000) * 3600 * CL_USEC_PER_SEC;
		assert_true(model_weights(m, &ctx, &j, weights));
		assert_true(credit_split(amount, weights, n, CREDIT_WEIGHT_SCALE, parts, &scratch));
		for (uint32_t i = 0; i < n; i++)
		{
			i128 exact = (i128) amount * weights[i];
			i128 mine = (i128) parts[i] * CREDIT_WEIGHT_SCALE;
			i128 diff = mine - exact;

			assert_true(weights[i] >= 0);
			wsum += weights[i];
			psum += parts[i];
			/* within one minor unit of the exact share, and on its side of zero */
			assert_true(diff < (i128) CREDIT_WEIGHT_SCALE && diff > -(i128) CREDIT_WEIGHT_SCALE);
			assert_true(amount >= 0 ? parts[i] >= 0 : parts[i] <= 0);
			if (weights[i] == 0)
				assert_int_equal(parts[i], 0);
		}
		if (wsum != CREDIT_WEIGHT_SCALE || psum != amount)
			fail_msg("round %d: %s over %u touches: weights sum %" PRId64 ", parts sum %" PRId64
					 " for %" PRId64, round, m->name, n, wsum, psum, amount);
		/* linear: equal weights, so the extra units sit on the earliest touches */
		if (strcmp(m->name, "linear") == 0)
		{
			for (uint32_t i = 1; i < n; i++)
				assert_true(amount >= 0 ? parts[i] <= parts[i - 1] : parts[i] >= parts[i - 1]);
		}
	}
	model_context_free(&ctx);
	split_scratch_free(&scratch);
}

static void
test_transform_models_parse(void **state)
{
	ModelSet set;
	ClError err = CL_OK;

	(void) state;
	assert_true(models_parse("linear, first_touch,last_touch,linear", "test", &set, &err));
	assert_int_equal(set.n, 3);
	assert_string_equal(set.models[0]->name, "first_touch");
	assert_string_equal(set.models[1]->name, "last_touch");
	assert_string_equal(set.models[2]->name, "linear");

	assert_true(models_parse("markov,time_decay,shapley,u_shaped,fractribution,position_based,"
							 "w_shaped,full_path", "test", &set, &err));
	assert_int_equal(set.n, 8);
	assert_string_equal(set.models[0]->name, "fractribution");
	assert_string_equal(set.models[7]->name, "w_shaped");
	assert_true(models_need_fit(&set));
	assert_true(models_parse("linear,time_decay", "test", &set, &err));
	assert_false(models_need_fit(&set));

	log_set_level(LOG_FATAL);
	assert_false(models_parse("linear,markov_chain", "test", &set, &err));
	assert_int_equal(err, CL_ERR_CONFIG);
	err = CL_OK;
	assert_false(models_parse("Linear", "test", &set, &err));
	assert_int_equal(err, CL_ERR_CONFIG);
	err = CL_OK;
	assert_false(models_parse("", "test", &set, &err));
	assert_int_equal(err, CL_ERR_CONFIG);
	log_set_level(LOG_WARN);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transform_models_weight_cases),
		cmocka_unit_test(test_transform_models_rule_cases),
		cmocka_unit_test(test_transform_models_position_based_settings),
		cmocka_unit_test(test_transform_models_share_setting),
		cmocka_unit_test(test_transform_models_credit_split_cases),
		cmocka_unit_test(test_transform_models_credit_split_rejects_bad_shares),
		cmocka_unit_test(test_transform_models_property_random_journeys),
		cmocka_unit_test(test_transform_models_parse),
	};

	log_set_level(LOG_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
