/*
 * test_transform_run.c: cl-transform end to end through transform_run():
 * staging written with the common StagingWriter, the output tables read
 * back as COPY text.
 *
 * attribution_credit fields (0-based): 0 model, 1 deal_id, 3 touch_id,
 * 5 lead_id, 7 close_date, 8 channel, 9 source, 12 touch_position,
 * 13 journey_length, 14 weight, 15 revenue, 16 currency,
 * 17 revenue_reporting.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "support.h"
#include "test_transform_support.h"

#define R1 "20260401T000000Z-aaaaaa"
#define R2 "20260402T000000Z-bbbbbb"

enum
{
	F_MODEL = 0, F_DEAL = 1, F_TOUCH = 3, F_LEAD = 5, F_CLOSE = 7, F_CHANNEL = 8,
	F_SOURCE = 9, F_POSITION = 12, F_LENGTH = 13, F_WEIGHT = 14, F_REVENUE = 15,
	F_CURRENCY = 16, F_REPORTING = 17
};

static int
setup(void **state)
{
	*state = tt_env_new("transform-run");
	return 0;
}

static int
teardown(void **state)
{
	tt_env_free(*state);
	return 0;
}

/*
 * stage_journey: one won deal D1 of contact C1 (USD 100.00, closed
 * 2026-03-20T12:00Z) and touches around it, with a 30-day lookback:
 *   T5 2026-02-18T11:59:59Z  one second before the lookback: out
 *   T4 2026-02-18T12:00:00Z  exactly closed_at - 30 days: in
 *   T1 2026-03-01 crm_id C1, google/cpc
 *   T2 2026-03-10 email of C1's lead (different case, spaces), no crm_id
 *   T6 2026-03-20T12:00:00Z  exactly at closed_at: in
 *   T3 2026-03-25 after closed_at: out
 */
static void
stage_journey(TxEnv *e)
{
	const char *leads[] = {
		"{\"lead_id\":\"L1\",\"source_system\":\"hubspot\",\"email\":\" Alice@Example.COM \","
		"\"crm_contact_id\":\"C1\",\"created_at\":\"2026-03-05T10:00:00Z\","
		"\"updated_at\":\"2026-03-05T10:00:00Z\"}",
		NULL
	};
	const char *deals[] = {
		"{\"deal_id\":\"D1\",\"source_system\":\"hubspot\",\"name\":\"First\","
		"\"amount_minor\":10000,\"currency\":\"USD\",\"stage\":\"closedwon\",\"is_closed\":true,"
		"\"is_won\":true,\"created_at\":\"2026-03-02T00:00:00Z\","
		"\"closed_at\":\"2026-03-20T12:00:00Z\",\"updated_at\":\"2026-03-20T12:00:00Z\","
		"\"contact_ids\":[\"C1\"]}",
		NULL
	};
	const char *touches[] = {
		"{\"touch_id\":\"T5\",\"source_system\":\"hubspot\",\"person\":{\"crm_id\":\"C1\"},"
		"\"at\":\"2026-02-18T11:59:59Z\",\"kind\":\"form_submit\",\"source\":\"bing\","
		"\"medium\":\"cpc\"}",
		"{\"touch_id\":\"T4\",\"source_system\":\"hubspot\",\"person\":{\"crm_id\":\"C1\"},"
		"\"at\":\"2026-02-18T12:00:00Z\",\"kind\":\"form_submit\",\"source\":\"newsletter\","
		"\"medium\":\"email\",\"campaign\":\"feb\"}",
		"{\"touch_id\":\"T1\",\"source_system\":\"hubspot\",\"person\":{\"crm_id\":\"C1\"},"
		"\"at\":\"2026-03-01T09:00:00Z\",\"kind\":\"ad_click\",\"source\":\"Google\","
		"\"medium\":\"CPC\",\"campaign\":\"brand\"}",
		"{\"touch_id\":\"T2\",\"source_system\":\"hubspot\","
		"\"person\":{\"email\":\"ALICE@example.com\"},\"at\":\"2026-03-10T08:00:00Z\","
		"\"kind\":\"page_view\",\"source\":\"facebook\",\"medium\":\"social\"}",
		"{\"touch_id\":\"T6\",\"source_system\":\"hubspot\",\"person\":{\"crm_id\":\"C1\"},"
		"\"at\":\"2026-03-20T12:00:00Z\",\"kind\":\"page_view\"}",
		"{\"touch_id\":\"T3\",\"source_system\":\"hubspot\",\"person\":{\"crm_id\":\"C1\"},"
		"\"at\":\"2026-03-25T08:00:00Z\",\"kind\":\"page_view\",\"source\":\"x\","
		"\"medium\":\"paid\"}",
		NULL
	};

	tt_stage(e, "crm", "hubspot", "lead", R1, "2026-03-31", leads);
	tt_stage(e, "crm", "hubspot", "deal", R1, "2026-03-31", deals);
	tt_stage(e, "crm", "hubspot", "touch", R1, NULL, touches);
}

static void
test_transform_run_journey_window_and_order(void **state)
{
	TxEnv *e = *state;
	char *credit;

	stage_journey(e);
	tt_configure(e, NULL);
	assert_true(tt_run(e, "2026-03-01", "2026-03-31"));
	credit = tt_read_table(e, "attribution_credit");

	/* T5 (before the lookback) and T3 (after the close) are not in it */
	assert_int_equal(tt_count_lines(credit, "linear\tD1\t"), 4);
	assert_int_equal(tt_count_lines(credit, ""), 6);
	tt_assert_field(credit, "linear\tD1\t", 0, F_TOUCH, "T4");
	tt_assert_field(credit, "linear\tD1\t", 1, F_TOUCH, "T1");
	tt_assert_field(credit, "linear\tD1\t", 2, F_TOUCH, "T2");
	tt_assert_field(credit, "linear\tD1\t", 3, F_TOUCH, "T6");
	tt_assert_field(credit, "linear\tD1\t", 2, F_POSITION, "3");
	tt_assert_field(credit, "linear\tD1\t", 2, F_LENGTH, "4");
	tt_assert_field(credit, "linear\tD1\t", 0, F_CLOSE, "2026-03-20");

	/* 100.00 over four touches is exact */
	for (int i = 0; i < 4; i++)
	{
		tt_assert_field(credit, "linear\tD1\t", i, F_WEIGHT, "0.250000000000");
		tt_assert_field(credit, "linear\tD1\t", i, F_REVENUE, "25.00");
		tt_assert_field(credit, "linear\tD1\t", i, F_REPORTING, "25.00");
		tt_assert_field(credit, "linear\tD1\t", i, F_CURRENCY, "USD");
	}
	tt_assert_field(credit, "first_touch\tD1\t", 0, F_TOUCH, "T4");
	tt_assert_field(credit, "first_touch\tD1\t", 0, F_CHANNEL, "Email");
	tt_assert_field(credit, "first_touch\tD1\t", 0, F_REVENUE, "100.00");
	tt_assert_field(credit, "last_touch\tD1\t", 0, F_TOUCH, "T6");
	tt_assert_field(credit, "last_touch\tD1\t", 0, F_CHANNEL, "Direct");
	tt_assert_field(credit, "last_touch\tD1\t", 0, F_WEIGHT, "1.000000000000");

	/* values are normalised; the email touch found the lead by its email */
	tt_assert_field(credit, "linear\tD1\t", 1, F_SOURCE, "google");
	tt_assert_field(credit, "linear\tD1\t", 1, F_CHANNEL, "Paid Search");
	tt_assert_field(credit, "linear\tD1\t", 2, F_CHANNEL, "Organic Social");
	tt_assert_field(credit, "linear\tD1\t", 2, F_LEAD, "L1");

	/* the files are sorted by model first */
	tt_assert_field(credit, "", 0, F_MODEL, "first_touch");
	tt_assert_field(credit, "", 1, F_MODEL, "last_touch");
	tt_assert_field(credit, "", 5, F_MODEL, "linear");
	assert_int_equal(e->summary.conversions, 1);
	assert_int_equal(e->summary.revenue_won, 10000);
	free(credit);
}

static void
test_transform_run_same_time_orders_by_touch_id(void **state)
{
	TxEnv *e = *state;
	const char *deals[] = {
		"{\"deal_id\":\"D9\",\"source_system\":\"salesforce\",\"amount_minor\":100,"
		"\"currency\":\"USD\",\"is_won\":true,\"closed_at\":\"2026-03-10T00:00:00Z\","
		"\"contact_ids\":[\"C9\"]}",
		NULL
	};
	const char *touches[] = {
		"{\"touch_id\":\"b\",\"source_system\":\"salesforce\",\"person\":{\"crm_id\":\"C9\"},"
		"\"at\":\"2026-03-05T00:00:00Z\",\"source\":\"bing\",\"medium\":\"cpc\"}",
		"{\"touch_id\":\"a\",\"source_system\":\"salesforce\",\"person\":{\"crm_id\":\"C9\"},"
		"\"at\":\"2026-03-05T00:00:00Z\",\"source\":\"google\",\"medium\":\"organic\"}",
		"{\"touch_id\":\"c\",\"source_system\":\"salesforce\",\"person\":{\"crm_id\":\"C9\"},"
		"\"at\":\"2026-03-04T00:00:00Z\",\"medium\":\"referral\",\"source\":\"blog.example\"}",
		NULL
	};
	char *credit;

	tt_stage(e, "crm", "salesforce", "deal", R1, "2026-03-31", deals);
	tt_stage(e, "crm", "salesforce", "touch", R1, NULL, touches);
	tt_configure(e, NULL);
	assert_true(tt_run(e, "2026-03-01", "2026-03-31"));
	credit = tt_read_table(e, "attribution_credit");
	tt_assert_field(credit, "linear\tD9\t", 0, F_TOUCH, "c");
	tt_assert_field(credit, "linear\tD9\t", 1, F_TOUCH, "a");
	tt_assert_field(credit, "linear\tD9\t", 2, F_TOUCH, "b");
	/* 1.00 over three: the extra cent goes to the earliest touch */
	tt_assert_field(credit, "linear\tD9\t", 0, F_REVENUE, "0.34");
	tt_assert_field(credit, "linear\tD9\t", 1, F_REVENUE, "0.33");
	tt_assert_field(credit, "linear\tD9\t", 2, F_REVENUE, "0.33");
	tt_assert_field(credit, "linear\tD9\t", 0, F_WEIGHT, "0.333333333334");
	tt_assert_field(credit, "linear\tD9\t", 1, F_WEIGHT, "0.333333333333");
	tt_assert_field(credit, "linear\tD9\t", 0, F_CHANNEL, "Referral");
	tt_assert_field(credit, "linear\tD9\t", 1, F_CHANNEL, "Organic Search");
	free(credit);
}

/*
 * Versions: the newest updated_at wins even from an older run; equal
 * updated_at goes to the later run; a newest version that is deleted hides
 * the older ones.
 */
static void
test_transform_run_dedupe_and_deleted(void **state)
{
	TxEnv *e = *state;
	const char *run1[] = {
		"{\"deal_id\":\"A\",\"source_system\":\"hubspot\",\"amount_minor\":1000,"
		"\"currency\":\"USD\",\"is_won\":true,\"closed_at\":\"2026-03-10T00:00:00Z\","
		"\"updated_at\":\"2026-03-12T00:00:00Z\"}",
		"{\"deal_id\":\"B\",\"source_system\":\"hubspot\",\"amount_minor\":2000,"
		"\"currency\":\"USD\",\"is_won\":true,\"closed_at\":\"2026-03-10T00:00:00Z\","
		"\"updated_at\":\"2026-03-11T00:00:00Z\"}",
		"{\"deal_id\":\"C\",\"source_system\":\"hubspot\",\"amount_minor\":3000,"
		"\"currency\":\"USD\",\"is_won\":true,\"closed_at\":\"2026-03-10T00:00:00Z\","
		"\"updated_at\":\"2026-03-11T00:00:00Z\"}",
		NULL
	};
	const char *run2[] = {
		/* older updated_at: loses although its run is newer */
		"{\"deal_id\":\"A\",\"source_system\":\"hubspot\",\"amount_minor\":1111,"
		"\"currency\":\"USD\",\"is_won\":true,\"closed_at\":\"2026-03-10T00:00:00Z\","
		"\"updated_at\":\"2026-03-11T00:00:00Z\"}",
		/* same updated_at: the newer run wins */
		"{\"deal_id\":\"B\",\"source_system\":\"hubspot\",\"amount_minor\":2222,"
		"\"currency\":\"USD\",\"is_won\":true,\"closed_at\":\"2026-03-10T00:00:00Z\","
		"\"updated_at\":\"2026-03-11T00:00:00Z\"}",
		/* deleted now */
		"{\"deal_id\":\"C\",\"source_system\":\"hubspot\",\"amount_minor\":3000,"
		"\"currency\":\"USD\",\"is_won\":true,\"closed_at\":\"2026-03-10T00:00:00Z\","
		"\"updated_at\":\"2026-03-13T00:00:00Z\",\"is_deleted\":true}",
		/* same id in another system is another deal */
		"{\"deal_id\":\"A\",\"source_system\":\"salesforce\",\"amount_minor\":500,"
		"\"currency\":\"USD\",\"is_won\":false,\"updated_at\":\"2026-03-11T00:00:00Z\"}",
		NULL
	};
	const char *leads1[] = {
		"{\"lead_id\":\"L1\",\"source_system\":\"hubspot\",\"email\":\"a@x.io\","
		"\"updated_at\":\"2026-03-01T00:00:00Z\"}",
		"{\"lead_id\":\"L2\",\"source_system\":\"hubspot\",\"email\":\"b@x.io\","
		"\"updated_at\":\"2026-03-01T00:00:00Z\"}",
		NULL
	};
	const char *leads2[] = {
		"{\"lead_id\":\"L1\",\"source_system\":\"hubspot\",\"email\":\"a@x.io\","
		"\"updated_at\":\"2026-03-02T00:00:00Z\",\"is_deleted\":true}",
		NULL
	};
	char *deals;
	char *credit;
	char *leads;

	tt_stage(e, "crm", "hubspot", "deal", R1, "2026-03-12", run1);
	tt_stage(e, "crm", "hubspot", "deal", R2, "2026-03-13", run2);
	tt_stage(e, "crm", "hubspot", "lead", R1, "2026-03-12", leads1);
	tt_stage(e, "crm", "hubspot", "lead", R2, "2026-03-13", leads2);
	tt_configure(e, NULL);
	assert_true(tt_run(e, "2026-03-01", "2026-03-31"));

	deals = tt_read_table(e, "deals");
	assert_int_equal(tt_count_lines(deals, ""), 3);
	tt_assert_field(deals, "A\thubspot\t", 0, 3, "10.00");
	tt_assert_field(deals, "B\thubspot\t", 0, 3, "22.22");
	tt_assert_field(deals, "A\tsalesforce\t", 0, 3, "5.00");
	tt_assert_field(deals, "A\thubspot\t", 0, 14, "0");     /* journey length */
	tt_assert_field(deals, "A\tsalesforce\t", 0, 14, "\\N");
	assert_int_equal(tt_count_lines(deals, "C\t"), 0);

	credit = tt_read_table(e, "attribution_credit");
	assert_int_equal(tt_count_lines(credit, "linear\t"), 2);
	assert_int_equal(tt_count_lines(credit, "linear\tC\t"), 0);
	/* deals without touches: (none), weight 1, the whole amount */
	tt_assert_field(credit, "linear\tB\t", 0, F_CHANNEL, "(none)");
	tt_assert_field(credit, "linear\tB\t", 0, F_TOUCH, "\\N");
	tt_assert_field(credit, "linear\tB\t", 0, F_POSITION, "\\N");
	tt_assert_field(credit, "linear\tB\t", 0, F_LENGTH, "0");
	tt_assert_field(credit, "linear\tB\t", 0, F_WEIGHT, "1.000000000000");
	tt_assert_field(credit, "linear\tB\t", 0, F_REVENUE, "22.22");
	tt_assert_field(credit, "linear\tB\t", 0, F_SOURCE, "");

	leads = tt_read_table(e, "leads");
	assert_int_equal(tt_count_lines(leads, ""), 1);
	assert_int_equal(tt_count_lines(leads, "L2\t"), 1);
	assert_int_equal(e->summary.revenue_won, 1000 + 2222);
	free(deals);
	free(credit);
	free(leads);
}

/*
 * Identity: crm_id takes precedence over email; a touch whose crm_id is no
 * known contact still counts through a deal contact's email; a deal with
 * two contacts gets both people's touches.
 */
static void
test_transform_run_identity(void **state)
{
	TxEnv *e = *state;
	const char *leads[] = {
		"{\"lead_id\":\"LA\",\"source_system\":\"hubspot\",\"email\":\"ann@x.io\","
		"\"crm_contact_id\":\"CA\",\"created_at\":\"2026-03-01T00:00:00Z\"}",
		"{\"lead_id\":\"LB\",\"source_system\":\"hubspot\",\"email\":\"ben@x.io\","
		"\"crm_contact_id\":\"CB\",\"created_at\":\"2026-03-01T00:00:00Z\"}",
		"{\"lead_id\":\"LC\",\"source_system\":\"hubspot\",\"email\":\"cat@x.io\","
		"\"crm_contact_id\":\"CC\",\"created_at\":\"2026-03-01T00:00:00Z\"}",
		NULL
	};
	const char *deals[] = {
		"{\"deal_id\":\"DA\",\"source_system\":\"hubspot\",\"amount_minor\":900,"
		"\"currency\":\"USD\",\"is_won\":true,\"closed_at\":\"2026-03-20T00:00:00Z\","
		"\"contact_ids\":[\"CA\",\"CB\"]}",
		NULL
	};
	const char *touches[] = {
		/* by crm_id */
		"{\"touch_id\":\"t1\",\"source_system\":\"hubspot\",\"person\":{\"crm_id\":\"CA\"},"
		"\"at\":\"2026-03-02T00:00:00Z\"}",
		/* by email of the second contact's lead */
		"{\"touch_id\":\"t2\",\"source_system\":\"mailchimp\",\"person\":{\"email\":\"BEN@x.io\"},"
		"\"at\":\"2026-03-03T00:00:00Z\",\"source\":\"mailchimp\",\"medium\":\"email\"}",
		/* unknown crm_id, email of a deal contact: counts */
		"{\"touch_id\":\"t3\",\"source_system\":\"google_ads\","
		"\"person\":{\"crm_id\":\"nobody\",\"email\":\"ann@x.io\"},"
		"\"at\":\"2026-03-04T00:00:00Z\",\"source\":\"google\",\"medium\":\"cpc\"}",
		/* a known other contact's crm_id wins over a deal contact's email */
		"{\"touch_id\":\"t4\",\"source_system\":\"hubspot\","
		"\"person\":{\"crm_id\":\"CC\",\"email\":\"ann@x.io\"},\"at\":\"2026-03-05T00:00:00Z\"}",
		/* nobody's */
		"{\"touch_id\":\"t5\",\"source_system\":\"hubspot\",\"person\":{\"email\":\"zed@x.io\"},"
		"\"at\":\"2026-03-06T00:00:00Z\"}",
		NULL
	};
	char *credit;

	tt_stage(e, "crm", "hubspot", "lead", R1, "2026-03-31", leads);
	tt_stage(e, "crm", "hubspot", "deal", R1, "2026-03-31", deals);
	tt_stage(e, "crm", "hubspot", "touch", R1, NULL, touches);
	tt_configure(e, NULL);
	assert_true(tt_run(e, "2026-03-01", "2026-03-31"));
	credit = tt_read_table(e, "attribution_credit");
	assert_int_equal(tt_count_lines(credit, "linear\tDA\t"), 3);
	tt_assert_field(credit, "linear\tDA\t", 0, F_TOUCH, "t1");
	tt_assert_field(credit, "linear\tDA\t", 0, F_LEAD, "LA");
	tt_assert_field(credit, "linear\tDA\t", 1, F_TOUCH, "t2");
	tt_assert_field(credit, "linear\tDA\t", 1, F_LEAD, "LB");
	tt_assert_field(credit, "linear\tDA\t", 2, F_TOUCH, "t3");
	tt_assert_field(credit, "linear\tDA\t", 2, F_LEAD, "LA");
	tt_assert_field(credit, "linear\tDA\t", 0, F_REVENUE, "3.00");
	free(credit);
}

/*
 * attribution_daily: leads on their creation day credited whole to their
 * first touch, deals fractional, revenue, and spend repeated on every
 * model's row of its (date, channel, source, medium, campaign).
 */
static void
test_transform_run_daily_sums(void **state)
{
	TxEnv *e = *state;
	const char *leads[] = {
		/* first touch: google/cpc/brand (the earlier of two) */
		"{\"lead_id\":\"L1\",\"source_system\":\"hubspot\",\"email\":\"a@x.io\","
		"\"crm_contact_id\":\"C1\",\"created_at\":\"2026-03-05T10:00:00Z\"}",
		/* no touch before creation: (none) */
		"{\"lead_id\":\"L2\",\"source_system\":\"hubspot\",\"email\":\"b@x.io\","
		"\"created_at\":\"2026-03-05T11:00:00Z\"}",
		/* created outside the window: not counted */
		"{\"lead_id\":\"L3\",\"source_system\":\"hubspot\",\"email\":\"c@x.io\","
		"\"created_at\":\"2026-02-05T11:00:00Z\"}",
		NULL
	};
	const char *deals[] = {
		"{\"deal_id\":\"D1\",\"source_system\":\"hubspot\",\"amount_minor\":30000,"
		"\"currency\":\"USD\",\"is_won\":true,\"closed_at\":\"2026-03-06T00:00:00Z\","
		"\"contact_ids\":[\"C1\"]}",
		NULL
	};
	const char *touches[] = {
		"{\"touch_id\":\"t1\",\"source_system\":\"hubspot\",\"person\":{\"crm_id\":\"C1\"},"
		"\"at\":\"2026-03-04T00:00:00Z\",\"source\":\"google\",\"medium\":\"cpc\","
		"\"campaign\":\"brand\"}",
		"{\"touch_id\":\"t2\",\"source_system\":\"hubspot\",\"person\":{\"crm_id\":\"C1\"},"
		"\"at\":\"2026-03-05T00:00:00Z\",\"source\":\"google\",\"medium\":\"cpc\","
		"\"campaign\":\"brand\"}",
		"{\"touch_id\":\"t3\",\"source_system\":\"hubspot\",\"person\":{\"crm_id\":\"C1\"},"
		"\"at\":\"2026-03-05T12:00:00Z\",\"source\":\"newsletter\",\"medium\":\"email\"}",
		"{\"touch_id\":\"t4\",\"source_system\":\"hubspot\",\"person\":{\"email\":\"b@x.io\"},"
		"\"at\":\"2026-03-05T12:00:00Z\",\"source\":\"google\",\"medium\":\"organic\"}",
		NULL
	};
	const char *spend[] = {
		"{\"date\":\"2026-03-06\",\"platform\":\"google_ads\",\"account_id\":\"1\","
		"\"campaign_id\":\"11\",\"ad_id\":\"a1\",\"source\":\"google\",\"medium\":\"cpc\","
		"\"campaign\":\"brand\",\"impressions\":1000,\"clicks\":50,\"cost_minor\":12345,"
		"\"currency\":\"USD\"}",
		"{\"date\":\"2026-03-06\",\"platform\":\"google_ads\",\"account_id\":\"1\","
		"\"campaign_id\":\"11\",\"ad_id\":\"a2\",\"source\":\"google\",\"medium\":\"cpc\","
		"\"campaign\":\"brand\",\"impressions\":500,\"clicks\":5,\"cost_minor\":655,"
		"\"currency\":\"USD\"}",
		/* outside the window */
		"{\"date\":\"2026-04-01\",\"platform\":\"google_ads\",\"account_id\":\"1\","
		"\"campaign_id\":\"11\",\"ad_id\":\"a1\",\"source\":\"google\",\"medium\":\"cpc\","
		"\"campaign\":\"brand\",\"impressions\":1,\"clicks\":1,\"cost_minor\":1,"
		"\"currency\":\"USD\"}",
		NULL
	};
	char *daily;
	char *leadtab;
	TxConfig c = { 0 };

	c.models = "linear,first_touch";
	tt_stage(e, "crm", "hubspot", "lead", R1, "2026-03-31", leads);
	tt_stage(e, "crm", "hubspot", "deal", R1, "2026-03-31", deals);
	tt_stage(e, "crm", "hubspot", "touch", R1, NULL, touches);
	tt_stage(e, "ads", "google_ads", "spend", R1, NULL, spend);
	tt_configure(e, &c);
	assert_true(tt_run(e, "2026-03-01", "2026-03-31"));
	daily = tt_read_table(e, "attribution_daily");

	/* date model channel source medium campaign leads deals revenue spend clicks impr cur */
	assert_non_null(strstr(daily, "2026-03-05\tfirst_touch\t(none)\t\t\t\t1\t0.000000000000\t"
							"0.00\t0.00\t0\t0\tUSD\n"));
	assert_non_null(strstr(daily, "2026-03-05\tfirst_touch\tPaid Search\tgoogle\tcpc\tbrand\t1\t"
							"0.000000000000\t0.00\t0.00\t0\t0\tUSD\n"));
	assert_non_null(strstr(daily, "2026-03-05\tlinear\tPaid Search\tgoogle\tcpc\tbrand\t1\t"
							"0.000000000000\t0.00\t0.00\t0\t0\tUSD\n"));
	assert_non_null(strstr(daily, "2026-03-06\tfirst_touch\tPaid Search\tgoogle\tcpc\tbrand\t0\t"
							"1.000000000000\t300.00\t130.00\t55\t1500\tUSD\n"));
	assert_non_null(strstr(daily, "2026-03-06\tlinear\tPaid Search\tgoogle\tcpc\tbrand\t0\t"
							"0.666666666667\t200.00\t130.00\t55\t1500\tUSD\n"));
	assert_non_null(strstr(daily, "2026-03-06\tlinear\tEmail\tnewsletter\temail\t\t0\t"
							"0.333333333333\t100.00\t0.00\t0\t0\tUSD\n"));
	assert_int_equal(tt_count_lines(daily, ""), 7);
	/* a touch without weight adds no row */
	assert_int_equal(tt_count_lines(daily, "2026-03-06\tfirst_touch\tEmail"), 0);
	assert_non_null(strstr(daily, "2026-03-05\tlinear\t(none)\t\t\t\t1\t0.000000000000\t"
							"0.00\t0.00\t0\t0\tUSD\n"));
	assert_int_equal(tt_count_lines(daily, "2026-04"), 0);

	leadtab = tt_read_table(e, "leads");
	tt_assert_field(leadtab, "L1\t", 0, 9, "Paid Search");
	tt_assert_field(leadtab, "L1\t", 0, 12, "brand");
	tt_assert_field(leadtab, "L2\t", 0, 9, "(none)");
	/* L3 is older than the touches read: its first touch is unknown */
	tt_assert_field(leadtab, "L3\t", 0, 9, "\\N");
	assert_int_equal(e->summary.leads_created, 2);
	assert_int_equal(e->summary.spend_rows, 2);
	assert_int_equal(e->summary.spend_reporting, 13000);
	free(daily);
	free(leadtab);
}

/* A spend day pulled again by a newer run replaces the earlier pull. */
static void
test_transform_run_spend_newest_run(void **state)
{
	TxEnv *e = *state;
	const char *first[] = {
		"{\"date\":\"2026-03-06\",\"platform\":\"meta\",\"account_id\":\"act_1\","
		"\"campaign_id\":\"c\",\"adgroup_id\":\"g\",\"ad_id\":\"a\",\"source\":\"facebook\","
		"\"medium\":\"paid_social\",\"impressions\":10,\"clicks\":1,\"cost_minor\":100,"
		"\"currency\":\"USD\"}",
		NULL
	};
	const char *again[] = {
		"{\"date\":\"2026-03-06\",\"platform\":\"meta\",\"account_id\":\"act_1\","
		"\"campaign_id\":\"c\",\"adgroup_id\":\"g\",\"ad_id\":\"a\",\"source\":\"facebook\","
		"\"medium\":\"paid_social\",\"impressions\":12,\"clicks\":2,\"cost_minor\":150,"
		"\"currency\":\"USD\"}",
		NULL
	};
	char *spend;

	tt_stage(e, "ads", "meta", "spend", R2, NULL, again);
	tt_stage(e, "ads", "meta", "spend", R1, NULL, first);
	tt_configure(e, NULL);
	assert_true(tt_run(e, "2026-03-01", "2026-03-31"));
	spend = tt_read_table(e, "spend_daily");
	assert_int_equal(tt_count_lines(spend, ""), 1);
	assert_string_equal(spend, "2026-03-06\tmeta\tact_1\tc\t\\N\tg\ta\tPaid Social\tfacebook\t"
						"paid_social\t\\N\t12\t2\t1.50\tUSD\t1.50\tUSD\n");
	free(spend);
}

/* A local close date decides the window, not the UTC one. */
static void
test_transform_run_local_close_date(void **state)
{
	TxEnv *e = *state;
	const char *deals[] = {
		/* 2026-03-31 23:30 in New York, 2026-04-01 in UTC */
		"{\"deal_id\":\"NY\",\"source_system\":\"hubspot\",\"amount_minor\":700,"
		"\"currency\":\"USD\",\"is_won\":true,\"closed_at\":\"2026-04-01T03:30:00Z\"}",
		/* 2026-02-28 in New York */
		"{\"deal_id\":\"OUT\",\"source_system\":\"hubspot\",\"amount_minor\":700,"
		"\"currency\":\"USD\",\"is_won\":true,\"closed_at\":\"2026-03-01T03:30:00Z\"}",
		NULL
	};
	TxConfig c = { 0 };
	char *credit;

	c.timezone = "America/New_York";
	tt_stage(e, "crm", "hubspot", "deal", R1, "2026-04-01", deals);
	tt_configure(e, &c);
	assert_true(tt_run(e, "2026-03-01", "2026-03-31"));
	credit = tt_read_table(e, "attribution_credit");
	assert_int_equal(tt_count_lines(credit, "linear\t"), 1);
	tt_assert_field(credit, "linear\tNY\t", 0, F_CLOSE, "2026-03-31");
	free(credit);
}

static void
write_text(TxEnv *e, const char *name, const char *text)
{
	char *path = tt_path(e->dir, name);

	ts_write_file(path, text);
	free(path);
}

/*
 * Currencies: JPY has no decimals and KWD three; EUR is converted at the
 * rate of the latest date on or before the close date.
 */
static void
test_transform_run_currencies(void **state)
{
	TxEnv *e = *state;
	const char *deals[] = {
		"{\"deal_id\":\"JP\",\"source_system\":\"hubspot\",\"amount_minor\":1000,"
		"\"currency\":\"JPY\",\"is_won\":true,\"closed_at\":\"2026-03-10T00:00:00Z\","
		"\"contact_ids\":[\"C1\"]}",
		"{\"deal_id\":\"KW\",\"source_system\":\"hubspot\",\"amount_minor\":1000,"
		"\"currency\":\"KWD\",\"is_won\":true,\"closed_at\":\"2026-03-10T00:00:00Z\","
		"\"contact_ids\":[\"C1\"]}",
		"{\"deal_id\":\"EU\",\"source_system\":\"hubspot\",\"amount_minor\":10001,"
		"\"currency\":\"EUR\",\"is_won\":true,\"closed_at\":\"2026-03-10T00:00:00Z\"}",
		NULL
	};
	const char *touches[] = {
		"{\"touch_id\":\"a\",\"source_system\":\"hubspot\",\"person\":{\"crm_id\":\"C1\"},"
		"\"at\":\"2026-03-01T00:00:00Z\"}",
		"{\"touch_id\":\"b\",\"source_system\":\"hubspot\",\"person\":{\"crm_id\":\"C1\"},"
		"\"at\":\"2026-03-02T00:00:00Z\"}",
		"{\"touch_id\":\"c\",\"source_system\":\"hubspot\",\"person\":{\"crm_id\":\"C1\"},"
		"\"at\":\"2026-03-03T00:00:00Z\"}",
		NULL
	};
	TxConfig c = { 0 };
	char *credit;
	char *deal;

	write_text(e, "rates.csv",
			   "date,currency,rate\n"
			   "2026-03-01,JPY,0.0066\n"
			   "2026-03-01,KWD,3.25\n"
			   "2026-03-01,EUR,1.05\n"
			   "2026-03-09,EUR,1.0835\n"
			   "2026-03-11,EUR,2\n");
	c.rates_file = "rates.csv";
	tt_stage(e, "crm", "hubspot", "deal", R1, "2026-03-31", deals);
	tt_stage(e, "crm", "hubspot", "touch", R1, NULL, touches);
	tt_configure(e, &c);
	assert_true(tt_run(e, "2026-03-01", "2026-03-31"));
	credit = tt_read_table(e, "attribution_credit");

	/* 1000 JPY over 3: 334, 333, 333; 6.60 USD over 3: 2.20 each */
	tt_assert_field(credit, "linear\tJP\t", 0, F_REVENUE, "334");
	tt_assert_field(credit, "linear\tJP\t", 1, F_REVENUE, "333");
	tt_assert_field(credit, "linear\tJP\t", 0, F_CURRENCY, "JPY");
	tt_assert_field(credit, "linear\tJP\t", 0, F_REPORTING, "2.20");
	/* 1.000 KWD over 3: 0.334, 0.333, 0.333; 3.25 USD: 1.09, 1.08, 1.08 */
	tt_assert_field(credit, "linear\tKW\t", 0, F_REVENUE, "0.334");
	tt_assert_field(credit, "linear\tKW\t", 2, F_REVENUE, "0.333");
	tt_assert_field(credit, "linear\tKW\t", 0, F_REPORTING, "1.09");
	tt_assert_field(credit, "linear\tKW\t", 1, F_REPORTING, "1.08");
	/* 100.01 EUR * 1.0835 = 108.360835 -> 108.36 USD (the 2026-03-09 rate) */
	tt_assert_field(credit, "linear\tEU\t", 0, F_REPORTING, "108.36");
	tt_assert_field(credit, "linear\tEU\t", 0, F_REVENUE, "100.01");

	deal = tt_read_table(e, "deals");
	tt_assert_field(deal, "KW\t", 0, 3, "1.000");
	tt_assert_field(deal, "KW\t", 0, 5, "3.25");
	tt_assert_field(deal, "JP\t", 0, 3, "1000");
	assert_int_equal(e->summary.revenue_won, 660 + 325 + 10836);
	free(credit);
	free(deal);
}

static void
test_transform_run_missing_rate_is_data_error(void **state)
{
	TxEnv *e = *state;
	const char *deals[] = {
		"{\"deal_id\":\"EU\",\"source_system\":\"hubspot\",\"amount_minor\":100,"
		"\"currency\":\"EUR\",\"is_won\":true,\"closed_at\":\"2026-03-10T00:00:00Z\"}",
		NULL
	};
	TxConfig c = { 0 };
	char *out;
	struct stat st;

	write_text(e, "rates.csv", "date,currency,rate\n2026-03-11,EUR,1.1\n2026-03-01,GBP,1.3\n");
	c.rates_file = "rates.csv";
	tt_stage(e, "crm", "hubspot", "deal", R1, "2026-03-31", deals);
	tt_configure(e, &c);
	assert_false(tt_run(e, "2026-03-01", "2026-03-31"));
	assert_int_equal(cl_error_exit_code(e->err), 65);

	/* nothing is left behind */
	out = tt_path(e->out, e->run_id);
	assert_int_not_equal(stat(out, &st), 0);
	free(out);

	/* without any rates file the same deal is the same error */
	tt_configure(e, NULL);
	assert_false(tt_run(e, "2026-03-01", "2026-03-31"));
	assert_int_equal(cl_error_exit_code(e->err), 65);
}

static void
test_transform_run_config_errors(void **state)
{
	TxEnv *e = *state;
	TxConfig c = { 0 };

	c.models = "linear,markov_chain";
	tt_configure(e, &c);
	assert_false(tt_run(e, "2026-03-01", "2026-03-31"));
	assert_int_equal(cl_error_exit_code(e->err), 78);

	/* position_based shares that leave less than nothing for the middle */
	c.models = "position_based";
	c.attribution = "pb_first = 0.7\npb_last = 0.5\n";
	tt_configure(e, &c);
	assert_false(tt_run(e, "2026-03-01", "2026-03-31"));
	assert_int_equal(cl_error_exit_code(e->err), 78);
	c.attribution = "pb_first = 40%\n";
	tt_configure(e, &c);
	assert_false(tt_run(e, "2026-03-01", "2026-03-31"));
	assert_int_equal(cl_error_exit_code(e->err), 78);
	c.attribution = NULL;

	c.models = "linear,nonsense";
	tt_configure(e, &c);
	assert_false(tt_run(e, "2026-03-01", "2026-03-31"));
	assert_int_equal(cl_error_exit_code(e->err), 78);

	c.models = NULL;
	c.rules_file = "channels.tsv";
	write_text(e, "channels.tsv", "Partners\tpartner.*\t(\n");
	tt_configure(e, &c);
	assert_false(tt_run(e, "2026-03-01", "2026-03-31"));
	assert_int_equal(cl_error_exit_code(e->err), 78);
}

/* Bad staging data names the file and fails with 65. */
static void
test_transform_run_bad_row_is_data_error(void **state)
{
	TxEnv *e = *state;
	StagingWindow w = { tt_day("2026-03-01"), tt_day("2026-03-31") };
	StagingWriter *sw = staging_writer_new(e->staging, "crm", "hubspot", "touch", R1, w, "test");
	ClError err;
	JsonGen *g;

	assert_non_null(sw);
	g = staging_row_begin(sw, tt_day("2026-03-05"));
	jgen_string(g, "touch_id", "x");
	jgen_string(g, "source_system", "hubspot");
	jgen_string(g, "at", "yesterday");
	assert_true(staging_row_end(sw));
	assert_true(staging_writer_commit(sw, NULL, -1, &err));
	staging_writer_free(sw);
	tt_configure(e, NULL);
	assert_false(tt_run(e, "2026-03-01", "2026-03-31"));
	assert_int_equal(cl_error_exit_code(e->err), 65);
}

/* The manifest names every table with its row count and checksum. */
static void
test_transform_run_manifest(void **state)
{
	TxEnv *e = *state;
	char *path;
	char *text;
	JsonValue *m;
	const JsonValue *tables;
	char msg[128];
	char rel[128];

	stage_journey(e);
	tt_configure(e, NULL);
	assert_true(tt_run(e, "2026-03-01", "2026-03-31"));
	snprintf(rel, sizeof(rel), "%s/manifest.json", e->run_id);
	path = tt_path(e->out, rel);
	text = ts_read_file(path, NULL);
	m = json_parse(text, strlen(text), msg, sizeof(msg));
	assert_non_null(m);
	assert_string_equal(json_path_text(m, "run_id"), e->run_id);
	assert_string_equal(json_path_text(m, "window.from"), "2026-03-01");
	assert_string_equal(json_path_text(m, "window.to"), "2026-03-31");
	assert_string_equal(json_path_text(m, "reporting_currency"), "USD");
	assert_string_equal(json_path_text(m, "models[0]"), "first_touch");
	assert_string_equal(json_path_text(m, "tool"), "cl-transform");
	tables = json_member(m, "tables");
	assert_non_null(tables);
	/* the six tables and email_campaign_stats; no model_stats without a data-driven model */
	assert_int_equal(tables->count, 7);
	for (size_t i = 0; i < tables->count; i++)
	{
		const JsonValue *t = tables->items[i];
		const char *name = json_path_text(t, "name");
		char *copy = tt_read_table(e, name);
		char hex[SHA256_HEX_SIZE];
		Sha256 h;
		int64_t rows = -1;

		sha256_init(&h);
		sha256_update(&h, copy, strlen(copy));
		sha256_final_hex(&h, hex);
		assert_string_equal(json_path_text(t, "sha256"), hex);
		assert_true(json_int64(json_member(t, "rows"), &rows));
		assert_int_equal(rows, tt_count_lines(copy, ""));
		free(copy);
	}
	assert_string_equal(json_path_text(m, "tables[0].name"), "attribution_credit");
	assert_string_equal(json_path_text(m, "tables[0].load"), "window");
	assert_string_equal(json_path_text(m, "tables[2].load"), "upsert");
	assert_string_equal(json_path_text(m, "tables[6].name"), "email_campaign_stats");
	assert_string_equal(json_path_text(m, "tables[6].load"), "window_exact");
	json_free(m);
	free(text);
	free(path);
}

/*
 * Every model over the worked journey of stage_journey(), plus a
 * non-converting contact C2 with one Direct touch and a won deal D2
 * without touches. D1's journey: T4 Email (FT), T1 Paid Search (LC: the
 * last touch at or before the lead's creation on 03-05; OC: at or before
 * the deal's creation on 03-02), T2 Organic Social, T6 Direct (CW).
 *
 * The fits' paths: Email > Paid Search > Organic Social > Direct converts
 * once, Direct alone fails once. Markov: start -> Email 1/2, Direct 1/2,
 * Direct -> conversion 1/2, so P = 1/2; removing any of the first three
 * halves it (removal 1/2), removing Direct leaves nothing (removal 1):
 * weights 0.2, 0.2, 0.2, 0.4. Fractribution: no shortened path exists, so
 * every touch adds P = 1: 0.25 each. Shapley: only the whole set has a
 * positive value, so its four channels are symmetric: 0.25 each.
 */
static void
test_transform_run_all_models(void **state)
{
	TxEnv *e = *state;
	TxConfig c = { 0 };
	const char *leads[] = {
		"{\"lead_id\":\"L2\",\"source_system\":\"hubspot\",\"email\":\"bob@example.com\","
		"\"crm_contact_id\":\"C2\",\"created_at\":\"2026-03-06T10:00:00Z\"}",
		"{\"lead_id\":\"L3\",\"source_system\":\"hubspot\",\"email\":\"carol@example.com\","
		"\"crm_contact_id\":\"C3\",\"created_at\":\"2026-03-06T10:00:00Z\"}",
		NULL
	};
	const char *deals[] = {
		"{\"deal_id\":\"D2\",\"source_system\":\"hubspot\",\"amount_minor\":5000,"
		"\"currency\":\"USD\",\"is_closed\":true,\"is_won\":true,"
		"\"created_at\":\"2026-03-07T00:00:00Z\",\"closed_at\":\"2026-03-21T12:00:00Z\","
		"\"contact_ids\":[\"C3\"]}",
		NULL
	};
	const char *touches[] = {
		"{\"touch_id\":\"T9\",\"source_system\":\"hubspot\",\"person\":{\"crm_id\":\"C2\"},"
		"\"at\":\"2026-03-15T08:00:00Z\",\"kind\":\"page_view\"}",
		NULL
	};
	static const struct
	{
		const char *model;
		const char *weights[4];
	} expected[] = {
		{ "first_touch", { "1.000000000000", NULL, NULL, NULL } },
		{ "fractribution", { "0.250000000000", "0.250000000000", "0.250000000000",
							 "0.250000000000" } },
		{ "full_path", { "0.225000000000", "0.450000000000", "0.100000000000",
						 "0.225000000000" } },
		{ "markov", { "0.200000000000", "0.200000000000", "0.200000000000", "0.400000000000" } },
		{ "position_based", { "0.400000000000", "0.100000000000", "0.100000000000",
							  "0.400000000000" } },
		{ "shapley", { "0.250000000000", "0.250000000000", "0.250000000000", "0.250000000000" } },
		{ "u_shaped", { "0.400000000000", "0.400000000000", "0.100000000000", "0.100000000000" } },
		{ "w_shaped", { "0.300000000000", "0.600000000000", "0.050000000000", "0.050000000000" } },
	};
	char *credit;
	char *stats;
	char *manifest;
	char *path;
	char rel[128];
	char prefix[64];

	stage_journey(e);
	tt_stage(e, "crm", "hubspot", "lead", R2, "2026-03-31", leads);
	tt_stage(e, "crm", "hubspot", "deal", R2, "2026-03-31", deals);
	tt_stage(e, "crm", "hubspot", "touch", R2, NULL, touches);
	c.models = "first_touch,last_touch,last_non_direct,linear,position_based,u_shaped,"
		"w_shaped,full_path,time_decay,markov,shapley,fractribution";
	tt_configure(e, &c);
	assert_true(tt_run(e, "2026-03-01", "2026-03-31"));
	credit = tt_read_table(e, "attribution_credit");
	for (size_t m = 0; m < sizeof(expected) / sizeof(expected[0]); m++)
	{
		snprintf(prefix, sizeof(prefix), "%s\tD1\t", expected[m].model);
		for (int i = 0; i < 4 && expected[m].weights[i] != NULL; i++)
			tt_assert_field(credit, prefix, i, F_WEIGHT, expected[m].weights[i]);
		/* the deal without touches is credited whole to (none) by every model */
		snprintf(prefix, sizeof(prefix), "%s\tD2\t", expected[m].model);
		tt_assert_field(credit, prefix, 0, F_CHANNEL, "(none)");
		tt_assert_field(credit, prefix, 0, F_REVENUE, "50.00");
	}
	tt_assert_field(credit, "markov\tD1\t", 3, F_REVENUE, "40.00");
	tt_assert_field(credit, "markov\tD1\t", 3, F_CHANNEL, "Direct");
	/* time_decay: 9 days, 19 days 3 hours and 30 days 0 hours before T6 */
	assert_int_equal(tt_count_lines(credit, "time_decay\tD1\t"), 4);
	assert_int_equal(e->summary.models[10].revenue_reporting, 15000);

	stats = tt_read_table(e, "attribution_model_stats");
	/* 3 statistics x 4 channels x (markov 2 + shapley 2 + fractribution 1) */
	assert_int_equal(tt_count_lines(stats, ""), 4 * 5);
	tt_assert_field(stats, "2026-03-01\t2026-03-31\tmarkov\tDirect\tremoval_effect", 0, 5,
					"1.000000000000");
	tt_assert_field(stats, "2026-03-01\t2026-03-31\tmarkov\tEmail\tremoval_effect", 0, 5,
					"0.500000000000");
	tt_assert_field(stats, "2026-03-01\t2026-03-31\tmarkov\tEmail\tconversion_share", 0, 5,
					"0.200000000000");
	tt_assert_field(stats, "2026-03-01\t2026-03-31\tshapley\tDirect\tshapley_value", 0, 5,
					"0.250000000000");
	tt_assert_field(stats, "2026-03-01\t2026-03-31\tfractribution\tPaid Search\t", 0, 5,
					"0.250000000000");
	tt_assert_field(stats, "", 0, 2, "fractribution");

	snprintf(rel, sizeof(rel), "%s/manifest.json", e->run_id);
	path = tt_path(e->out, rel);
	manifest = ts_read_file(path, NULL);
	assert_non_null(strstr(manifest, "\"name\":\"attribution_model_stats\",\"file\":"
						   "\"attribution_model_stats.copy\",\"rows\":20"));
	assert_non_null(strstr(manifest, "\"load\":\"window_exact\""));
	free(manifest);
	free(path);
	free(stats);
	free(credit);
}

static void
test_transform_run_dry_run_writes_nothing(void **state)
{
	TxEnv *e = *state;
	TransformOptions o = { 0 };
	char *out;
	char *summary = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&summary, &len);
	struct stat st;

	assert_non_null(fp);
	stage_journey(e);
	tt_configure(e, NULL);
	o.cfg = e->cfg;
	o.run_id = "20260101T000000Z-dryrun";
	o.from = tt_day("2026-03-01");
	o.to = tt_day("2026-03-31");
	o.dry_run = true;
	o.summary = fp;
	assert_true(transform_run(&o, &e->summary, &e->err));
	assert_int_equal(fclose(fp), 0);
	out = tt_path(e->out, o.run_id);
	assert_int_not_equal(stat(out, &st), 0);
	assert_int_equal(e->summary.table_rows[OUT_ATTRIBUTION_CREDIT], 6);
	assert_non_null(strstr(summary, "dry run"));
	assert_non_null(strstr(summary, "100.00 USD won"));
	assert_non_null(strstr(summary, "linear"));
	free(out);
	free(summary);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_transform_run_journey_window_and_order, setup,
										teardown),
		cmocka_unit_test_setup_teardown(test_transform_run_same_time_orders_by_touch_id, setup,
										teardown),
		cmocka_unit_test_setup_teardown(test_transform_run_dedupe_and_deleted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transform_run_identity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transform_run_daily_sums, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transform_run_spend_newest_run, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transform_run_local_close_date, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transform_run_currencies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transform_run_missing_rate_is_data_error, setup,
										teardown),
		cmocka_unit_test_setup_teardown(test_transform_run_config_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transform_run_bad_row_is_data_error, setup,
										teardown),
		cmocka_unit_test_setup_teardown(test_transform_run_manifest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transform_run_all_models, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transform_run_dry_run_writes_nothing, setup,
										teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
