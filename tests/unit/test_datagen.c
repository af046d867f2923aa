/*
 * test_datagen.c: the building blocks of cl-datagen (tests/datagen),
 * reached by including its sources (main.c aside): the channel grouping its
 * ground truth uses, the calendar, JSON escaping, the PRNG, and a small
 * generation run twice to prove the output is byte-identical.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

#include "../datagen/rng.c"
#include "../datagen/calendar.c"
#include "../datagen/out.c"
#include "../datagen/world.c"
#include "../datagen/mail.c"
#include "../datagen/ads.c"
#include "../datagen/truth.c"
#include "../datagen/emit.c"
#include "../datagen/run.c"

/* One row per rule of DESIGN §4's default grouping, plus the orderings
 * between rules that a careless implementation gets wrong. */
static const struct
{
	const char *source;
	const char *medium;
	const char *channel;
} channel_cases[] = {
	{"newsletter", "email", "Email"},
	{"hubspot", " E-Mail ", "Email"},
	{"facebook", "newsletter", "Email"},
	{"partner", "affiliate", "Affiliates"},
	{"google", "display", "Display"},
	{"google", "banner", "Display"},
	{"facebook", "paid_social", "Paid Social"},
	{"LinkedIn", "cpc", "Paid Social"},
	{"google", "cpc", "Paid Search"},
	{"bing", "PPC", "Paid Search"},
	{"g2.com", "paid", "Paid Search"},
	{" LinkedIn ", "social", "Organic Social"},
	{"twitter", "referral", "Organic Social"},
	{"YouTube", "(none)", "Organic Social"},
	{"google", "organic", "Organic Search"},
	{"duckduckgo", "Organic", "Organic Search"},
	{"g2.com", "referral", "Referral"},
	{"(direct)", "(none)", "Direct"},
	{"", "", "Direct"},
	{NULL, "(not set)", "Direct"},
	{"offline", "offline", "Other"},
	{"linkedin", "social_media", "Other"},
	{"(direct)", "email", "Email"},
};

static void
test_datagen_channel_rules(void **state)
{
	(void) state;
	for (size_t i = 0; i < sizeof(channel_cases) / sizeof(channel_cases[0]); i++)
	{
		int ch = dg_channel_of(channel_cases[i].source, channel_cases[i].medium);

		assert_string_equal(dg_channel_names[ch], channel_cases[i].channel);
	}
}

static void
test_datagen_contact_channels(void **state)
{
	/* every HubSpot original source lands in the channel docs/DEMO_DATA.md names */
	static const char *const want[DG_SRC_COUNT] = {
		"Organic Search", "Paid Search", "Email", "Organic Social",
		"Paid Social", "Referral", "Direct", "Other"
	};
	DgContact c;
	const char *source;
	const char *medium;

	(void) state;
	memset(&c, 0, sizeof(c));
	for (int s = 0; s < DG_SRC_COUNT; s++)
	{
		c.source = (uint8_t) s;
		c.data1 = s == DG_SRC_SOCIAL_MEDIA ? "LinkedIn" : s == DG_SRC_PAID_SEARCH ? "google"
			: s == DG_SRC_PAID_SOCIAL ? "facebook" : s == DG_SRC_REFERRALS ? "g2.com" : NULL;
		dg_contact_source_medium(&c, &source, &medium);
		assert_string_equal(dg_channel_names[dg_channel_of(source, medium)], want[s]);
	}
}

static void
test_datagen_calendar(void **state)
{
	DgDate d;
	char buf[DG_TIME_BUFSIZE];

	(void) state;
	assert_true(dg_date_parse("2026-01-01", &d));
	assert_int_equal(d, 20454);
	assert_int_equal(dg_weekday(d), 3);
	assert_true(dg_date_parse("2024-02-29", &d));
	assert_string_equal(dg_format_date(d, buf), "2024-02-29");
	assert_false(dg_date_parse("2026-02-29", &d));
	assert_false(dg_date_parse("2026-1-01", &d));
	assert_false(dg_date_parse("2026-01-01x", &d));
	assert_false(dg_date_parse("2026-13-01", &d));
	assert_string_equal(dg_format_hubspot(INT64_C(1772600767123), buf), "2026-03-04T05:06:07.123Z");
	assert_string_equal(dg_format_mailchimp(INT64_C(1772600767000), buf), "2026-03-04T05:06:07+00:00");
	assert_int_equal(dg_time_date(dg_date_start(20454) - 1), 20453);
}

static void
test_datagen_json_escape(void **state)
{
	char *text = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&text, &len);

	(void) state;
	assert_non_null(fp);
	dg_out_json_string(fp, "a\"b\\c\nd\x01 Zo\xC3\xAB");
	assert_int_equal(fclose(fp), 0);
	assert_string_equal(text, "\"a\\\"b\\\\c\\nd\\u0001 Zo\xC3\xAB\"");
	free(text);
}

static void
test_datagen_rng_streams(void **state)
{
	DgRng a;
	DgRng b;
	DgRng c;
	bool lo_seen = false;
	bool hi_seen = false;

	(void) state;
	dg_rng_init(&a, 42, DG_STREAM_CONTACTS);
	dg_rng_init(&b, 42, DG_STREAM_CONTACTS);
	dg_rng_init(&c, 42, DG_STREAM_DEALS);
	for (int i = 0; i < 100; i++)
	{
		uint64_t x = dg_rng_next(&a);

		assert_true(x == dg_rng_next(&b));
		assert_true(x != dg_rng_next(&c));
	}
	for (int i = 0; i < 1000; i++)
	{
		int64_t v = dg_rng_range(&a, -3, 3);

		assert_true(v >= -3 && v <= 3);
		lo_seen = lo_seen || v == -3;
		hi_seen = hi_seen || v == 3;
	}
	assert_true(lo_seen && hi_seen);
}

static void
test_datagen_email_display_normalises(void **state)
{
	DgContact c;
	char shown[DG_EMAIL_SIZE + 8];

	(void) state;
	memset(&c, 0, sizeof(c));
	(void) snprintf(c.email, sizeof(c.email), "maria.johnson@north-labs.co.uk");
	for (int style = 0; style <= 4; style++)
	{
		char norm[DG_EMAIL_SIZE + 8];

		c.email_style = (uint8_t) style;
		dg_contact_email_display(&c, shown, sizeof(shown));
		normalise(shown, norm, sizeof(norm));
		assert_string_equal(norm, c.email);
		if (style != 0)
		{
			assert_string_not_equal(shown, c.email);
		}
	}
}

static void
assert_same_file(const char *dir_a, const char *dir_b, const char *rel, bool same)
{
	char pa[DG_PATH_SIZE];
	char pb[DG_PATH_SIZE];
	size_t la;
	size_t lb;
	char *a;
	char *b;

	(void) snprintf(pa, sizeof(pa), "%s/%s", dir_a, rel);
	(void) snprintf(pb, sizeof(pb), "%s/%s", dir_b, rel);
	a = ts_read_file(pa, &la);
	b = ts_read_file(pb, &lb);
	if (same)
	{
		assert_int_equal(la, lb);
		assert_memory_equal(a, b, la);
	}
	else
	{
		assert_true(la != lb || memcmp(a, b, la) != 0);
	}
	free(a);
	free(b);
}

static void
test_datagen_run_is_deterministic(void **state)
{
	static const char *const files[] = {
		"routes.txt", "README.txt", "expected.json", "hubspot/contacts.ndjson",
		"hubspot/deals.ndjson", "hubspot/pipelines.json", "google_ads/token.json",
		"mailchimp/campaigns.ndjson"
	};
	char *tmp = ts_make_tmpdir("datagen");
	char d1[DG_PATH_SIZE];
	char d2[DG_PATH_SIZE];
	char d3[DG_PATH_SIZE];
	DgParams p;

	(void) state;
	(void) snprintf(d1, sizeof(d1), "%s/one", tmp);
	(void) snprintf(d2, sizeof(d2), "%s/two", tmp);
	(void) snprintf(d3, sizeof(d3), "%s/other-seed", tmp);
	p.seed = 42;
	p.leads = 300;
	p.from = dg_date_from_ymd(2026, 1, 1);
	p.to = dg_date_from_ymd(2026, 3, 31);
	p.customers = 2;
	p.out_dir = d1;
	assert_int_equal(dg_run(&p), DG_EXIT_OK);
	p.out_dir = d2;
	assert_int_equal(dg_run(&p), DG_EXIT_OK);
	p.out_dir = d3;
	p.seed = 43;
	assert_int_equal(dg_run(&p), DG_EXIT_OK);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
	{
		assert_same_file(d1, d2, files[i], true);
	}
	assert_same_file(d1, d3, "expected.json", false);
	assert_same_file(d1, d3, "hubspot/contacts.ndjson", false);
	ts_rmdir_r(tmp);
	free(tmp);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_datagen_channel_rules),
		cmocka_unit_test(test_datagen_contact_channels),
		cmocka_unit_test(test_datagen_calendar),
		cmocka_unit_test(test_datagen_json_escape),
		cmocka_unit_test(test_datagen_rng_streams),
		cmocka_unit_test(test_datagen_email_display_normalises),
		cmocka_unit_test(test_datagen_run_is_deterministic),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
