/*
 * test_transform_email.c: the email_campaign_stats table of cl-transform,
 * through transform_run(): which campaigns get rows, their counts and
 * rates, the deduplication of email events and the credits of email
 * touches under each model.
 *
 * email_campaign_stats fields (0-based): 0 window_from, 1 window_to,
 * 2 platform, 3 campaign_id, 4 model, 5 name, 8 sent_at, 9 send_date,
 * 10 recipients, 11 sends, 12 opens, 13 unique_opens, 14 open_rate,
 * 15 clicks, 16 unique_clicks, 17 click_rate, 18 bounces,
 * 19 unsubscribes, 20 counts_source, 21 attributed_deals,
 * 22 attributed_revenue, 23 revenue_per_recipient, 24 reporting_currency.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "email_stats.h"
#include "money.h"
#include "support.h"
#include "test_transform_support.h"

#define R1 "20260401T000000Z-aaaaaa"
#define R2 "20260402T000000Z-bbbbbb"

enum
{
	F_PLATFORM = 2, F_CAMPAIGN_ID = 3, F_MODEL = 4, F_NAME = 5, F_SEND_DATE = 9,
	F_RECIPIENTS = 10, F_SENDS = 11, F_OPENS = 12, F_UNIQUE_OPENS = 13, F_OPEN_RATE = 14,
	F_CLICKS = 15, F_UNIQUE_CLICKS = 16, F_CLICK_RATE = 17, F_BOUNCES = 18,
	F_UNSUBSCRIBES = 19, F_COUNTS = 20, F_DEALS = 21, F_REVENUE = 22, F_PER_RECIPIENT = 23,
	F_CURRENCY = 24
};

/* attribution_credit fields: model, touch_source_system, revenue_reporting */
enum
{
	C_MODEL = 0, C_TOUCH_SYSTEM = 4, C_REPORTING = 17
};

static int
setup(void **state)
{
	*state = tt_env_new("transform-email");
	return 0;
}

static int
teardown(void **state)
{
	tt_env_free(*state);
	return 0;
}

/*
 * stage_email: two people, two won deals, five Mailchimp campaigns.
 *   D1 alice (C1), USD 90.00, won 2026-03-20: TA1 click MC0 (03-01),
 *      TA2 click MC1 (03-06), TA3 hubspot google/cpc (03-15)
 *   D2 bob (C2), USD 50.00, won 2026-03-25: TB1 open MC2 (03-09),
 *      TB2 click MC1 (03-10)
 *   MC0 sent 02-10 (before the window, credited), report
 *   MC1 sent 03-05, 200 recipients, report
 *   MC2 sent 03-08, 100 recipients, no report: counted from its events,
 *      one of which a second, overlapping extraction repeats
 *   MC3 sent 03-12, 40 recipients, report without clicks
 *   MC4 sent 04-02, after the window: no row
 */
static void
stage_email(TxEnv *e)
{
	const char *leads[] = {
		"{\"lead_id\":\"L1\",\"source_system\":\"hubspot\",\"email\":\"alice@example.com\","
		"\"crm_contact_id\":\"C1\",\"created_at\":\"2026-02-01T10:00:00Z\","
		"\"updated_at\":\"2026-02-01T10:00:00Z\"}",
		"{\"lead_id\":\"L2\",\"source_system\":\"hubspot\",\"email\":\"bob@example.com\","
		"\"crm_contact_id\":\"C2\",\"created_at\":\"2026-02-01T10:00:00Z\","
		"\"updated_at\":\"2026-02-01T10:00:00Z\"}",
		NULL
	};
	const char *deals[] = {
		"{\"deal_id\":\"D1\",\"source_system\":\"hubspot\",\"amount_minor\":9000,"
		"\"currency\":\"USD\",\"stage\":\"closedwon\",\"is_closed\":true,\"is_won\":true,"
		"\"created_at\":\"2026-03-02T00:00:00Z\",\"closed_at\":\"2026-03-20T12:00:00Z\","
		"\"updated_at\":\"2026-03-20T12:00:00Z\",\"contact_ids\":[\"C1\"]}",
		"{\"deal_id\":\"D2\",\"source_system\":\"hubspot\",\"amount_minor\":5000,"
		"\"currency\":\"USD\",\"stage\":\"closedwon\",\"is_closed\":true,\"is_won\":true,"
		"\"created_at\":\"2026-03-02T00:00:00Z\",\"closed_at\":\"2026-03-25T12:00:00Z\","
		"\"updated_at\":\"2026-03-25T12:00:00Z\",\"contact_ids\":[\"C2\"]}",
		NULL
	};
	const char *crm_touches[] = {
		"{\"touch_id\":\"TA3\",\"source_system\":\"hubspot\",\"person\":{\"crm_id\":\"C1\"},"
		"\"at\":\"2026-03-15T09:00:00Z\",\"kind\":\"ad_click\",\"source\":\"google\","
		"\"medium\":\"cpc\"}",
		NULL
	};
	const char *email_touches[] = {
		"{\"touch_id\":\"TA1\",\"source_system\":\"mailchimp\","
		"\"person\":{\"email\":\"alice@example.com\"},\"at\":\"2026-03-01T10:00:00Z\","
		"\"kind\":\"email_click\",\"source\":\"mailchimp\",\"medium\":\"email\","
		"\"campaign\":\"feb\",\"campaign_id\":\"MC0\"}",
		"{\"touch_id\":\"TA2\",\"source_system\":\"mailchimp\","
		"\"person\":{\"email\":\"alice@example.com\"},\"at\":\"2026-03-06T10:00:00Z\","
		"\"kind\":\"email_click\",\"source\":\"mailchimp\",\"medium\":\"email\","
		"\"campaign\":\"march\",\"campaign_id\":\"MC1\"}",
		"{\"touch_id\":\"TB1\",\"source_system\":\"mailchimp\","
		"\"person\":{\"email\":\"bob@example.com\"},\"at\":\"2026-03-09T11:00:00Z\","
		"\"kind\":\"email_open\",\"source\":\"mailchimp\",\"medium\":\"email\","
		"\"campaign\":\"promo\",\"campaign_id\":\"MC2\"}",
		"{\"touch_id\":\"TB2\",\"source_system\":\"mailchimp\","
		"\"person\":{\"email\":\"bob@example.com\"},\"at\":\"2026-03-10T10:00:00Z\","
		"\"kind\":\"email_click\",\"source\":\"mailchimp\",\"medium\":\"email\","
		"\"campaign\":\"march\",\"campaign_id\":\"MC1\"}",
		NULL
	};
	const char *campaigns[] = {
		"{\"campaign_id\":\"MC0\",\"platform\":\"mailchimp\",\"name\":\"February\","
		"\"sent_at\":\"2026-02-10T08:00:00Z\",\"recipients\":300,\"campaign\":\"feb\","
		"\"updated_at\":\"2026-03-31T00:00:00Z\",\"sends\":300,\"opens\":100,"
		"\"unique_opens\":60,\"clicks\":20,\"unique_clicks\":15,\"bounces\":3,"
		"\"unsubscribes\":1}",
		"{\"campaign_id\":\"MC1\",\"platform\":\"mailchimp\",\"name\":\"March\","
		"\"subject\":\"Spring\",\"sent_at\":\"2026-03-05T08:00:00Z\",\"recipients\":200,"
		"\"campaign\":\"march\",\"updated_at\":\"2026-03-31T00:00:00Z\",\"sends\":200,"
		"\"opens\":90,\"unique_opens\":50,\"clicks\":30,\"unique_clicks\":20,"
		"\"hard_bounces\":1,\"soft_bounces\":3,\"bounces\":4,\"unsubscribes\":2}",
		"{\"campaign_id\":\"MC2\",\"platform\":\"mailchimp\",\"name\":\"Promo\","
		"\"sent_at\":\"2026-03-08T08:00:00Z\",\"recipients\":100,\"campaign\":\"promo\","
		"\"updated_at\":\"2026-03-31T00:00:00Z\"}",
		"{\"campaign_id\":\"MC3\",\"platform\":\"mailchimp\",\"name\":\"Quiet\","
		"\"sent_at\":\"2026-03-12T08:00:00Z\",\"recipients\":40,"
		"\"updated_at\":\"2026-03-31T00:00:00Z\",\"sends\":40,\"opens\":10,"
		"\"unique_opens\":8,\"clicks\":0,\"unique_clicks\":0,\"bounces\":0,"
		"\"unsubscribes\":0}",
		"{\"campaign_id\":\"MC4\",\"platform\":\"mailchimp\",\"name\":\"April\","
		"\"sent_at\":\"2026-04-02T08:00:00Z\",\"recipients\":500,"
		"\"updated_at\":\"2026-04-02T09:00:00Z\",\"sends\":500}",
		NULL
	};
	const char *events[] = {
		"{\"campaign_id\":\"MC2\",\"platform\":\"mailchimp\",\"email\":\"alice@example.com\","
		"\"type\":\"open\",\"at\":\"2026-03-08T10:00:00Z\"}",
		"{\"campaign_id\":\"MC2\",\"platform\":\"mailchimp\",\"email\":\"alice@example.com\","
		"\"type\":\"open\",\"at\":\"2026-03-09T10:00:00Z\"}",
		"{\"campaign_id\":\"MC2\",\"platform\":\"mailchimp\",\"email\":\"bob@example.com\","
		"\"type\":\"open\",\"at\":\"2026-03-09T11:00:00Z\"}",
		"{\"campaign_id\":\"MC2\",\"platform\":\"mailchimp\",\"email\":\"alice@example.com\","
		"\"type\":\"click\",\"at\":\"2026-03-08T10:05:00Z\",\"url\":\"https://example.com/a\"}",
		"{\"campaign_id\":\"MC2\",\"platform\":\"mailchimp\",\"email\":\"alice@example.com\","
		"\"type\":\"click\",\"at\":\"2026-03-08T10:05:00Z\",\"url\":\"https://example.com/b\"}",
		"{\"campaign_id\":\"MC2\",\"platform\":\"mailchimp\",\"email\":\"carol@example.com\","
		"\"type\":\"bounce\",\"at\":\"2026-03-08T08:01:00Z\"}",
		NULL
	};
	/* the next extraction overlaps the first: the same open and click again */
	const char *events_again[] = {
		"{\"campaign_id\":\"MC2\",\"platform\":\"mailchimp\",\"email\":\"alice@example.com\","
		"\"type\":\"open\",\"at\":\"2026-03-09T10:00:00Z\"}",
		"{\"campaign_id\":\"MC2\",\"platform\":\"mailchimp\",\"email\":\"alice@example.com\","
		"\"type\":\"click\",\"at\":\"2026-03-08T10:05:00Z\",\"url\":\"https://example.com/b\"}",
		NULL
	};

	tt_stage(e, "crm", "hubspot", "lead", R1, "2026-03-31", leads);
	tt_stage(e, "crm", "hubspot", "deal", R1, "2026-03-31", deals);
	tt_stage(e, "crm", "hubspot", "touch", R1, NULL, crm_touches);
	tt_stage(e, "email", "mailchimp", "touch", R1, NULL, email_touches);
	tt_stage(e, "email", "mailchimp", "email_campaign", R1, "2026-03-31", campaigns);
	tt_stage(e, "email", "mailchimp", "email_event", R1, NULL, events);
	tt_stage(e, "email", "mailchimp", "email_event", R2, NULL, events_again);
}

/* run_email stages the data set, runs March and returns the table (ALLOCATED). */
static char *
run_email(TxEnv *e)
{
	stage_email(e);
	tt_configure(e, NULL);
	assert_true(tt_run(e, "2026-03-01", "2026-03-31"));
	return tt_read_table(e, "email_campaign_stats");
}

#define ROWS(campaign) "2026-03-01\t2026-03-31\tmailchimp\t" campaign "\t"
#define ROW(campaign, model) ROWS(campaign) model "\t"

/* Campaigns sent in the window and campaigns credited in it, each under every model. */
static void
test_email_stats_rows(void **state)
{
	TxEnv *e = *state;
	char *t = run_email(e);

	assert_int_equal(tt_count_lines(t, ""), 12);
	assert_int_equal(tt_count_lines(t, ROWS("MC0")), 3);
	assert_int_equal(tt_count_lines(t, ROWS("MC1")), 3);
	assert_int_equal(tt_count_lines(t, ROWS("MC2")), 3);
	assert_int_equal(tt_count_lines(t, ROWS("MC3")), 3);
	assert_int_equal(tt_count_lines(t, ROWS("MC4")), 0);
	/* sorted by campaign, then model by name */
	tt_assert_field(t, "", 0, F_CAMPAIGN_ID, "MC0");
	tt_assert_field(t, "", 0, F_MODEL, "first_touch");
	tt_assert_field(t, "", 1, F_MODEL, "last_touch");
	tt_assert_field(t, "", 2, F_MODEL, "linear");
	tt_assert_field(t, "", 3, F_CAMPAIGN_ID, "MC1");
	tt_assert_field(t, "", 11, F_CAMPAIGN_ID, "MC3");
	tt_assert_field(t, ROW("MC0", "linear"), 0, F_PLATFORM, "mailchimp");
	tt_assert_field(t, ROW("MC0", "linear"), 0, F_NAME, "February");
	tt_assert_field(t, ROW("MC0", "linear"), 0, F_SEND_DATE, "2026-02-10");
	tt_assert_field(t, ROW("MC1", "linear"), 0, F_CURRENCY, "USD");
	free(t);
}

/* The report's counts and the rates per recipient. */
static void
test_email_stats_report_rates(void **state)
{
	TxEnv *e = *state;
	char *t = run_email(e);

	tt_assert_field(t, ROW("MC1", "first_touch"), 0, F_RECIPIENTS, "200");
	tt_assert_field(t, ROW("MC1", "first_touch"), 0, F_SENDS, "200");
	tt_assert_field(t, ROW("MC1", "first_touch"), 0, F_OPENS, "90");
	tt_assert_field(t, ROW("MC1", "first_touch"), 0, F_UNIQUE_OPENS, "50");
	tt_assert_field(t, ROW("MC1", "first_touch"), 0, F_OPEN_RATE, "0.250000");
	tt_assert_field(t, ROW("MC1", "first_touch"), 0, F_CLICKS, "30");
	tt_assert_field(t, ROW("MC1", "first_touch"), 0, F_UNIQUE_CLICKS, "20");
	tt_assert_field(t, ROW("MC1", "first_touch"), 0, F_CLICK_RATE, "0.100000");
	tt_assert_field(t, ROW("MC1", "first_touch"), 0, F_BOUNCES, "4");
	tt_assert_field(t, ROW("MC1", "first_touch"), 0, F_UNSUBSCRIBES, "2");
	tt_assert_field(t, ROW("MC1", "first_touch"), 0, F_COUNTS, "report");
	/* the counts do not depend on the model */
	tt_assert_field(t, ROW("MC1", "linear"), 0, F_OPEN_RATE, "0.250000");
	/* a campaign without clicks: zero clicks, a zero rate, nothing credited */
	tt_assert_field(t, ROW("MC3", "linear"), 0, F_CLICKS, "0");
	tt_assert_field(t, ROW("MC3", "linear"), 0, F_UNIQUE_CLICKS, "0");
	tt_assert_field(t, ROW("MC3", "linear"), 0, F_CLICK_RATE, "0.000000");
	tt_assert_field(t, ROW("MC3", "linear"), 0, F_OPEN_RATE, "0.200000");
	tt_assert_field(t, ROW("MC3", "linear"), 0, F_DEALS, "0.000000000000");
	tt_assert_field(t, ROW("MC3", "linear"), 0, F_REVENUE, "0.00");
	tt_assert_field(t, ROW("MC3", "linear"), 0, F_PER_RECIPIENT, "0.000000");
	free(t);
}

/* Without a report the counts come from the events, each event once. */
static void
test_email_stats_events_deduplicated(void **state)
{
	TxEnv *e = *state;
	char *t = run_email(e);

	/* 8 rows staged, 2 of them repeated by the overlapping extraction */
	assert_int_equal(e->summary.email_events, 6);
	tt_assert_field(t, ROW("MC2", "last_touch"), 0, F_COUNTS, "events");
	tt_assert_field(t, ROW("MC2", "last_touch"), 0, F_OPENS, "3");
	tt_assert_field(t, ROW("MC2", "last_touch"), 0, F_UNIQUE_OPENS, "2");
	/* two links clicked in the same second are two clicks of one person */
	tt_assert_field(t, ROW("MC2", "last_touch"), 0, F_CLICKS, "2");
	tt_assert_field(t, ROW("MC2", "last_touch"), 0, F_UNIQUE_CLICKS, "1");
	tt_assert_field(t, ROW("MC2", "last_touch"), 0, F_BOUNCES, "1");
	tt_assert_field(t, ROW("MC2", "last_touch"), 0, F_SENDS, "\\N");
	tt_assert_field(t, ROW("MC2", "last_touch"), 0, F_UNSUBSCRIBES, "\\N");
	tt_assert_field(t, ROW("MC2", "last_touch"), 0, F_OPEN_RATE, "0.020000");
	tt_assert_field(t, ROW("MC2", "last_touch"), 0, F_CLICK_RATE, "0.010000");
	free(t);
}

/* sum_field: the sum, in hundredths, of field k over lines starting with prefix */
static int64_t
sum_field(const char *text, const char *prefix, int k, int system_field, const char *system)
{
	int64_t sum = 0;
	int n = tt_count_lines(text, prefix);

	for (int i = 0; i < n; i++)
	{
		char *line = tt_line(text, prefix, i);
		char *v = tt_field(line, k);
		int64_t minor = 0;

		if (system != NULL)
		{
			char *s = tt_field(line, system_field);
			bool match = strcmp(s, system) == 0;

			free(s);
			if (!match)
			{
				free(v);
				free(line);
				continue;
			}
		}
		if (!money_parse(v, "USD", &minor))
			fail_msg("not an amount: \"%s\"", v);
		sum += minor;
		free(v);
		free(line);
	}
	return sum;
}

/* Each model's credits of email touches land on their campaigns, to the cent. */
static void
test_email_stats_attributed(void **state)
{
	TxEnv *e = *state;
	char *t = run_email(e);
	char *credit = tt_read_table(e, "attribution_credit");
	static const char *const models[] = { "first_touch", "last_touch", "linear" };
	static const int64_t expect[] = { 14000, 5000, 11000 };

	/* first touch: D1 to MC0's click, D2 to MC2's open */
	tt_assert_field(t, ROW("MC0", "first_touch"), 0, F_REVENUE, "90.00");
	tt_assert_field(t, ROW("MC0", "first_touch"), 0, F_DEALS, "1.000000000000");
	tt_assert_field(t, ROW("MC2", "first_touch"), 0, F_REVENUE, "50.00");
	tt_assert_field(t, ROW("MC1", "first_touch"), 0, F_REVENUE, "0.00");
	/* last touch: D1 to the paid search click, D2 to MC1 */
	tt_assert_field(t, ROW("MC0", "last_touch"), 0, F_REVENUE, "0.00");
	tt_assert_field(t, ROW("MC1", "last_touch"), 0, F_REVENUE, "50.00");
	tt_assert_field(t, ROW("MC1", "last_touch"), 0, F_DEALS, "1.000000000000");
	/* linear: a third of D1 and half of D2 on MC1 */
	tt_assert_field(t, ROW("MC1", "linear"), 0, F_REVENUE, "55.00");
	tt_assert_field(t, ROW("MC2", "linear"), 0, F_REVENUE, "25.00");
	tt_assert_field(t, ROW("MC2", "linear"), 0, F_DEALS, "0.500000000000");
	tt_assert_field(t, ROW("MC0", "linear"), 0, F_REVENUE, "30.00");
	/* revenue per recipient, in the reporting currency with 4 more digits */
	tt_assert_field(t, ROW("MC1", "last_touch"), 0, F_PER_RECIPIENT, "0.250000");
	tt_assert_field(t, ROW("MC1", "linear"), 0, F_PER_RECIPIENT, "0.275000");
	tt_assert_field(t, ROW("MC2", "first_touch"), 0, F_PER_RECIPIENT, "0.500000");
	tt_assert_field(t, ROW("MC0", "first_touch"), 0, F_PER_RECIPIENT, "0.300000");
	for (size_t m = 0; m < 3; m++)
	{
		char credit_prefix[64];
		int64_t from_credits;
		int64_t from_stats = 0;

		(void) snprintf(credit_prefix, sizeof(credit_prefix), "%s\t", models[m]);
		from_credits = sum_field(credit, credit_prefix, C_REPORTING, C_TOUCH_SYSTEM, "mailchimp");
		for (int i = 0; i < 12; i++)
		{
			char *line = tt_line(t, "", i);
			char *model = tt_field(line, F_MODEL);

			if (strcmp(model, models[m]) == 0)
				from_stats += sum_field(line, "", F_REVENUE, 0, NULL);
			free(model);
			free(line);
		}
		assert_int_equal(from_stats, expect[m]);
		assert_int_equal(from_credits, expect[m]);
	}
	free(credit);
	free(t);
}

/* email_ratio rounds half up and refuses what has no value. */
static void
test_email_ratio(void **state)
{
	int64_t v = 0;

	(void) state;
	assert_true(email_ratio(1, 3, 6, &v));
	assert_int_equal(v, 333333);
	assert_true(email_ratio(2, 3, 6, &v));
	assert_int_equal(v, 666667);
	assert_true(email_ratio(5, 2, 0, &v));
	assert_int_equal(v, 3);
	assert_true(email_ratio(-5, 2, 1, &v));
	assert_int_equal(v, -25);
	assert_false(email_ratio(INT64_C(900000000000000000), 1, 2, &v));
	assert_true(email_ratio(INT64_C(900000000000), 7, 6, &v));
	assert_int_equal(v, INT64_C(128571428571428571));
	assert_false(email_ratio(1, 0, 6, &v));
	assert_false(email_ratio(1, -1, 6, &v));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_email_stats_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_email_stats_report_rates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_email_stats_events_deduplicated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_email_stats_attributed, setup, teardown),
		cmocka_unit_test(test_email_ratio),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
