/*
 * test_extract_mailchimp.c: the Mailchimp vendor on the saved Mailchimp
 * payloads (shared/fixtures/vendors/mailchimp), a campaign report shaped
 * like the API's (tests/data/extract/mailchimp_report.json), activity kinds
 * the payloads do not show (clicks with and without utm tags, bounces) and
 * the per-campaign activity watermarks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "support.h"
#include "test_extract_support.h"

#include "registry.h"

static const char mc_ini[] =
	"[email.mailchimp]\nenabled = true\nbase_url = http://127.0.0.1:9/3.0/\n"
	"api_key = 0123456789abcdef-us5\npage_size = 500\n";

/* The saved campaign was sent on 2016-10-10. */
static void
open_window(ExtractFixture *f, const char *from, const char *to, const char *extra)
{
	char ini[1024];
	ClError err;

	snprintf(ini, sizeof(ini), "%s%s", mc_ini, extra);
	tx_cli_window(f, from, to);
	assert_true(tx_open(f, &vendor_mailchimp, ini, &err));
}


/* feed_campaigns maps the saved campaign list. */
static void
feed_campaigns(ExtractFixture *f)
{
	SourceStream st;
	PageState ps;
	ClError err;

	tx_next_stream(f, &st);
	assert_string_equal(st.name, "campaigns");
	page_state_init(&ps);
	assert_true(tx_feed_fixture(f, &st, &ps, "vendors/mailchimp/campaigns_list.json", &err));
	/* one campaign of total_items 148 was in the page: more follow */
	assert_false(ps.done);
	assert_int_equal(ps.total, 148);
	assert_int_equal(ps.page.offset, 1);
	page_state_free(&ps);
}


/* next_report: the next stream must be the report of the saved campaign. */
static void
next_report(ExtractFixture *f, SourceStream *st)
{
	tx_next_stream(f, st);
	assert_string_equal(st->name, "reports");
	assert_string_equal(st->label, "report of campaign xxxxxxxxx");
	assert_true(st->parallel);
	assert_int_equal(st->paging, SOURCE_PAGING_NONE);
}


/* feed_report maps the report of the saved campaign. */
static void
feed_report(ExtractFixture *f)
{
	SourceStream st;
	PageState ps;
	ClError err;

	next_report(f, &st);
	page_state_init(&ps);
	assert_true(tx_feed_data(f, &st, &ps, "mailchimp_report.json", &err));
	assert_true(ps.done);
	page_state_free(&ps);
}


/* skip_report hands out the report stream without mapping it. */
static void
skip_report(ExtractFixture *f)
{
	SourceStream st;

	next_report(f, &st);
}


static void
test_extract_mailchimp_campaigns(void **state)
{
	ExtractFixture f = { 0 };
	RowSet rows;
	const JsonValue *c;
	ClDate date;

	(void) state;
	open_window(&f, "2016-10-01", "2016-10-31", "");
	/* parallel streams over [email.mailchimp] max_connections (default 4) */
	assert_int_equal(f.run.max_connections, 4);
	feed_campaigns(&f);
	/* the row is written with the report's counts */
	feed_report(&f);
	tx_commit(&f);

	tx_read(&f, "email_campaign", &rows);
	assert_int_equal(rows.count, 1);
	c = tx_find(&rows, "campaign_id", "xxxxxxxxx", &date);
	assert_int_equal(date, f.run.today);
	assert_string_equal(tx_str(c, "platform"), "mailchimp");
	assert_string_equal(tx_str(c, "name"),
						"AYCLR 10/10/16 - Now Available - Story First: Crafting Products That Engage");
	assert_string_equal(tx_str(c, "subject"),
						"Now Available - Story First: Crafting Products That Engage");
	assert_string_equal(tx_str(c, "sent_at"), "2016-10-10T19:00:00Z");
	assert_int_equal(tx_int(c, "recipients"), 14592);
	assert_string_equal(tx_str(c, "source"), "mailchimp");
	assert_string_equal(tx_str(c, "medium"), "email");
	/* tracking.google_analytics is "" in the payload: the title stands in */
	assert_string_equal(tx_str(c, "campaign"),
						"AYCLR 10/10/16 - Now Available - Story First: Crafting Products That Engage");
	/* the report: emails_sent, opens, clicks, bounces, unsubscribed */
	assert_int_equal(tx_int(c, "sends"), 14592);
	assert_int_equal(tx_int(c, "opens"), 5231);
	assert_int_equal(tx_int(c, "unique_opens"), 3301);
	assert_int_equal(tx_int(c, "clicks"), 688);
	assert_int_equal(tx_int(c, "unique_clicks"), 412);
	assert_int_equal(tx_int(c, "unique_subscriber_clicks"), 377);
	assert_int_equal(tx_int(c, "hard_bounces"), 17);
	assert_int_equal(tx_int(c, "soft_bounces"), 45);
	assert_int_equal(tx_int(c, "bounces"), 62);
	assert_int_equal(tx_int(c, "unsubscribes"), 31);
	/* the counts are as of this run */
	{
		char at[CL_TIME_BUFSIZE];

		assert_string_equal(tx_str(c, "updated_at"), time_format_rfc3339(f.run.started_at, at));
	}
	/* nothing else: time series and rates stay behind */
	assert_int_equal(c->count, 20);
	tx_rows_free(&rows);
	tx_close(&f);
}


static void
test_extract_mailchimp_bad_report(void **state)
{
	ExtractFixture f = { 0 };
	SourceStream st;
	PageState ps;
	ClError err;
	RowSet rows;

	(void) state;
	open_window(&f, "2016-10-01", "2016-10-31", "");
	feed_campaigns(&f);
	next_report(&f, &st);
	/* another campaign's report */
	page_state_init(&ps);
	assert_false(tx_feed_text(&f, &st, &ps, "{\"id\":\"yyy\",\"emails_sent\":1}", &err));
	assert_int_equal(err, CL_ERR_DATA);
	page_state_free(&ps);
	/* a count that is not an integer, or negative */
	page_state_init(&ps);
	assert_false(tx_feed_text(&f, &st, &ps,
							  "{\"id\":\"xxxxxxxxx\",\"opens\":{\"opens_total\":\"many\"}}", &err));
	assert_int_equal(err, CL_ERR_DATA);
	page_state_free(&ps);
	page_state_init(&ps);
	assert_false(tx_feed_text(&f, &st, &ps, "{\"id\":\"xxxxxxxxx\",\"unsubscribed\":-1}", &err));
	assert_int_equal(err, CL_ERR_DATA);
	page_state_free(&ps);
	/* an empty body is not a report */
	page_state_init(&ps);
	assert_false(tx_feed_text(&f, &st, &ps, "", &err));
	assert_int_equal(err, CL_ERR_DATA);
	page_state_free(&ps);
	/* counts the report leaves out are omitted, not zero */
	page_state_init(&ps);
	assert_true(tx_feed_text(&f, &st, &ps,
							 "{\"id\":\"xxxxxxxxx\",\"emails_sent\":5,\"bounces\":{\"hard_bounces\":1}}",
							 &err));
	page_state_free(&ps);
	tx_commit(&f);
	tx_read(&f, "email_campaign", &rows);
	assert_int_equal(rows.count, 1);
	assert_int_equal(tx_int(rows.rows[0], "sends"), 5);
	assert_int_equal(tx_int(rows.rows[0], "hard_bounces"), 1);
	assert_null(json_member(rows.rows[0], "bounces"));
	assert_null(json_member(rows.rows[0], "opens"));
	tx_rows_free(&rows);
	tx_close(&f);
}


static void
test_extract_mailchimp_activity_window(void **state)
{
	ExtractFixture f = { 0 };
	SourceStream st;
	bool more = true;
	ClError err = CL_OK;

	(void) state;
	/* sent before the window: its activity is not fetched */
	open_window(&f, "2016-11-01", "2016-11-30", "");
	feed_campaigns(&f);
	assert_true(vendor_mailchimp.next_stream(f.state, &f.run, &st, &more, &err));
	assert_false(more);
	tx_close(&f);

	/* --full-refresh fetches every campaign's activity */
	memset(&f, 0, sizeof(f));
	f.cli.full_refresh = true;
	open_window(&f, "2016-11-01", "2016-11-30", "");
	feed_campaigns(&f);
	skip_report(&f);
	tx_next_stream(&f, &st);
	assert_string_equal(st.name, "email-activity");
	assert_true(st.parallel);
	assert_string_equal(st.label, "email activity of campaign xxxxxxxxx");
	assert_true(vendor_mailchimp.next_stream(f.state, &f.run, &st, &more, &err));
	assert_false(more);
	tx_close(&f);
}


static void
test_extract_mailchimp_email_activity(void **state)
{
	ExtractFixture f = { 0 };
	SourceStream st;
	PageState ps;
	ClError err;
	RowSet events;
	RowSet touches;
	const JsonValue *e;
	ClDate date;

	(void) state;
	open_window(&f, "2016-10-01", "2016-10-31", "");
	feed_campaigns(&f);
	skip_report(&f);
	tx_next_stream(&f, &st);
	page_state_init(&ps);
	assert_true(tx_feed_fixture(&f, &st, &ps, "vendors/mailchimp/reports_email_activity.json", &err));
	assert_int_equal(ps.total, 14592);
	assert_false(ps.done);
	page_state_free(&ps);
	tx_commit(&f);

	tx_read(&f, "email_event", &events);
	assert_int_equal(events.count, 1);
	e = tx_find(&events, "type", "open", &date);
	assert_int_equal(date, tx_date("2016-10-10"));
	assert_string_equal(tx_str(e, "campaign_id"), "xxxxxxxxx");
	assert_string_equal(tx_str(e, "platform"), "mailchimp");
	assert_string_equal(tx_str(e, "email"), "xxxxxxxxx@example.com");
	assert_string_equal(tx_str(e, "at"), "2016-10-10T19:09:38Z");
	assert_null(json_member(e, "url"));
	/* opens are not touches unless opens_as_touches */
	tx_read(&f, "touch", &touches);
	assert_int_equal(touches.count, 0);
	tx_rows_free(&events);
	tx_rows_free(&touches);
	tx_close(&f);
}


static void
test_extract_mailchimp_opens_as_touches(void **state)
{
	ExtractFixture f = { 0 };
	SourceStream st;
	PageState ps;
	ClError err;
	RowSet touches;
	const JsonValue *t;

	(void) state;
	open_window(&f, "2016-10-01", "2016-10-31", "opens_as_touches = true\n");
	feed_campaigns(&f);
	skip_report(&f);
	tx_next_stream(&f, &st);
	page_state_init(&ps);
	assert_true(tx_feed_fixture(&f, &st, &ps, "vendors/mailchimp/reports_email_activity.json", &err));
	page_state_free(&ps);
	tx_commit(&f);

	tx_read(&f, "touch", &touches);
	assert_int_equal(touches.count, 1);
	t = tx_find(&touches, "touch_id", "xxxxxxxxx-xxxxxxxxx-open-2016-10-10T19:09:38Z", NULL);
	assert_string_equal(tx_str(t, "source_system"), "mailchimp");
	assert_string_equal(tx_str(t, "kind"), "email_open");
	assert_string_equal(tx_str(t, "person.email"), "xxxxxxxxx@example.com");
	assert_string_equal(tx_str(t, "at"), "2016-10-10T19:09:38Z");
	assert_string_equal(tx_str(t, "source"), "mailchimp");
	assert_string_equal(tx_str(t, "medium"), "email");
	assert_string_equal(tx_str(t, "campaign"),
						"AYCLR 10/10/16 - Now Available - Story First: Crafting Products That Engage");
	assert_string_equal(tx_str(t, "campaign_id"), "xxxxxxxxx");
	tx_rows_free(&touches);
	tx_close(&f);
}


static void
test_extract_mailchimp_clicks(void **state)
{
	ExtractFixture f = { 0 };
	SourceStream st;
	PageState ps;
	ClError err;
	RowSet events;
	RowSet touches;
	const JsonValue *t = NULL;
	const JsonValue *untagged = NULL;
	ClDate date = 0;

	(void) state;
	open_window(&f, "2024-05-01", "2024-05-31", "");
	tx_next_stream(&f, &st);
	page_state_init(&ps);
	assert_true(tx_feed_text(&f, &st, &ps,
							 "{\"campaigns\":[{\"id\":\"c42\",\"send_time\":\"2024-05-02T08:00:00+00:00\","
							 "\"emails_sent\":0,\"recipients\":{\"recipient_count\":250},"
							 "\"settings\":{\"title\":\"May newsletter\",\"subject_line\":\"News\"},"
							 "\"tracking\":{\"google_analytics\":\"may_newsletter\"}}],\"total_items\":1}",
							 &err));
	assert_true(ps.done);
	page_state_free(&ps);
	tx_next_stream(&f, &st);
	page_state_init(&ps);
	assert_true(tx_feed_text(&f, &st, &ps, "{\"id\":\"c42\",\"emails_sent\":0}", &err));
	page_state_free(&ps);
	tx_next_stream(&f, &st);
	page_state_init(&ps);
	assert_true(tx_feed_text(&f, &st, &ps,
							 "{\"emails\":[{\"campaign_id\":\"c42\",\"email_id\":\"e1\","
							 "\"email_address\":\" Ann@Example.com\",\"activity\":["
							 "{\"action\":\"open\",\"timestamp\":\"2024-05-02T09:00:00+00:00\"},"
							 "{\"action\":\"click\",\"timestamp\":\"2024-05-02T09:01:00+00:00\","
							 "\"url\":\"https://shop.example.com/p?utm_source=newsletter&utm_medium=email"
							 "&utm_campaign=spring%20sale&utm_content=hero+image#top\"},"
							 "{\"action\":\"click\",\"timestamp\":\"2024-05-03T23:59:59-02:00\","
							 "\"url\":\"https://shop.example.com/about\"},"
							 "{\"action\":\"bounce\",\"timestamp\":\"2024-05-02T08:00:05+00:00\"},"
							 "{\"action\":\"forward\",\"timestamp\":\"2024-05-02T10:00:00+00:00\"}]}],"
							 "\"campaign_id\":\"c42\",\"total_items\":1}",
							 &err));
	assert_true(ps.done);
	/* the forward has no place in staging: counted and skipped */
	assert_int_equal(f.run.dropped, 1);
	page_state_free(&ps);
	tx_commit(&f);

	tx_read(&f, "email_campaign", &events);
	/* emails_sent 0 is a count, not an absent value */
	assert_int_equal(tx_int(tx_find(&events, "campaign_id", "c42", NULL), "recipients"), 0);
	assert_string_equal(tx_str(events.rows[0], "campaign"), "may_newsletter");
	tx_rows_free(&events);

	tx_read(&f, "email_event", &events);
	assert_int_equal(events.count, 4);
	assert_string_equal(tx_str(tx_find(&events, "type", "bounce", NULL), "email"), "ann@example.com");
	tx_rows_free(&events);

	tx_read(&f, "touch", &touches);
	assert_int_equal(touches.count, 2);
	for (size_t i = 0; i < touches.count; i++)
	{
		if (strstr(tx_str(touches.rows[i], "url"), "utm_source") != NULL)
			t = touches.rows[i];
		else
		{
			untagged = touches.rows[i];
			date = touches.dates[i];
		}
	}
	assert_non_null(t);
	assert_non_null(untagged);
	/* the link's utm tags win */
	assert_string_equal(tx_str(t, "kind"), "email_click");
	assert_string_equal(tx_str(t, "source"), "newsletter");
	assert_string_equal(tx_str(t, "medium"), "email");
	assert_string_equal(tx_str(t, "campaign"), "spring sale");
	assert_string_equal(tx_str(t, "content"), "hero image");
	assert_string_equal(tx_str(t, "person.email"), "ann@example.com");
	assert_string_equal(tx_str(t, "at"), "2024-05-02T09:01:00Z");
	assert_int_equal(strncmp(tx_str(t, "touch_id"), "c42-e1-click-2024-05-02T09:01:00Z-", 34), 0);
	assert_int_equal(strlen(tx_str(t, "touch_id")), 34 + 8);
	/* without tags: mailchimp / email / the campaign's google_analytics,
	 * dated by the UTC day of the click */
	assert_string_equal(tx_str(untagged, "source"), "mailchimp");
	assert_string_equal(tx_str(untagged, "medium"), "email");
	assert_string_equal(tx_str(untagged, "campaign"), "may_newsletter");
	assert_string_equal(tx_str(untagged, "at"), "2024-05-04T01:59:59Z");
	assert_int_equal(date, tx_date("2024-05-04"));
	assert_null(json_member(untagged, "content"));
	tx_rows_free(&touches);
	tx_close(&f);
}


static void
test_extract_mailchimp_bad_activity(void **state)
{
	ExtractFixture f = { 0 };
	SourceStream st;
	PageState ps;
	ClError err;

	(void) state;
	f.cli.full_refresh = true;
	open_window(&f, "2016-10-01", "2016-10-31", "");
	feed_campaigns(&f);
	skip_report(&f);
	tx_next_stream(&f, &st);
	page_state_init(&ps);
	assert_false(tx_feed_text(&f, &st, &ps,
							  "{\"emails\":[{\"email_id\":\"e1\",\"email_address\":\"a@b.c\","
							  "\"activity\":[{\"action\":\"click\",\"timestamp\":\"yesterday\"}]}],"
							  "\"total_items\":1}", &err));
	assert_int_equal(err, CL_ERR_DATA);
	page_state_free(&ps);
	page_state_init(&ps);
	assert_false(tx_feed_text(&f, &st, &ps,
							  "{\"emails\":[{\"email_id\":\"e2\",\"activity\":[]}],\"total_items\":1}",
							  &err));
	assert_int_equal(err, CL_ERR_DATA);
	page_state_free(&ps);
	/* a page without total_items cannot be paged */
	page_state_init(&ps);
	assert_false(tx_feed_text(&f, &st, &ps, "{\"emails\":[]}", &err));
	assert_int_equal(err, CL_ERR_DATA);
	page_state_free(&ps);
	tx_close(&f);
}


static void
test_extract_mailchimp_requests(void **state)
{
	ExtractFixture f = { 0 };
	SourceStream st;
	SourceRequest req;
	SourcePage page = { 3, 1000, NULL };
	ClError err;

	(void) state;
	/* no base_url: the data centre of the key names the host */
	f.cli.full_refresh = true;
	assert_true(tx_open(&f, &vendor_mailchimp,
						"[email.mailchimp]\nenabled = true\napi_key = 0123456789abcdef-us5\n", &err));
	tx_next_stream(&f, &st);
	tx_request(&f, &st, &page, &req);
	assert_null(req.method);
	assert_string_equal(tb_text(&req.url),
						"https://us5.api.mailchimp.com/3.0/campaigns?count=1000&offset=1000&status=sent");
	assert_string_equal(req.basic_user, "closedloop");
	assert_string_equal(req.basic_password, "0123456789abcdef-us5");
	tx_request_free(&req);
	tx_close(&f);

	memset(&f, 0, sizeof(f));
	f.cli.full_refresh = true;
	open_window(&f, "2016-10-01", "2016-10-31", "");
	feed_campaigns(&f);
	tx_next_stream(&f, &st);
	page.offset = 0;
	tx_request(&f, &st, &page, &req);
	assert_string_equal(tb_text(&req.url),
						"http://127.0.0.1:9/3.0/reports/xxxxxxxxx?fields=id%2Cemails_sent%2C"
						"unsubscribed%2Copens.opens_total%2Copens.unique_opens%2Cclicks.clicks_total%2C"
						"clicks.unique_clicks%2Cclicks.unique_subscriber_clicks%2C"
						"bounces.hard_bounces%2Cbounces.soft_bounces");
	tx_request_free(&req);
	tx_next_stream(&f, &st);
	tx_request(&f, &st, &page, &req);
	assert_string_equal(tb_text(&req.url),
						"http://127.0.0.1:9/3.0/reports/xxxxxxxxx/email-activity?count=500&offset=0");
	tx_request_free(&req);
	tx_close(&f);
}


/*
 * open_with_state opens the vendor like tx_open, but with [pipeline]
 * state_dir set, so that watermarks outlive one fixture.
 */
static bool
open_with_state(ExtractFixture *f, const char *state_dir, const char *extra, ClError *err)
{
	char text[2048];

	f->dir = ts_make_tmpdir("extract");
	snprintf(text, sizeof(text), "[pipeline]\nstaging_dir = %s\nstate_dir = %s\n"
			 "reporting_currency = USD\n%s%s", f->dir, state_dir, mc_ini, extra);
	assert_true(config_load_string(text, "test.ini", &f->cfg));
	assert_true(source_run_init(&f->run, &vendor_mailchimp, f->cfg, &f->cli, f->dir,
								"20260101T000000Z-abcdef", "cl-extract-test"));
	*err = CL_OK;
	f->opened = true;
	if (!vendor_mailchimp.open(&f->run, &f->state, err))
		return false;
	assert_true(source_run_open_writers(&f->run));
	return true;
}


/*
 * activity_url opens an incremental or backfill run on state_dir, maps the
 * saved campaign list and returns the ALLOCATED URL of the first activity
 * page (caller frees); the fixture stays open.
 */
static char *
activity_url(ExtractFixture *f, const char *state_dir, bool backfill)
{
	SourceStream st;
	SourcePage page = { 1, 0, NULL };
	SourceRequest req;
	ClError err;
	char *url;

	if (backfill)
		tx_cli_window(f, "2016-10-01", "2016-10-31");
	assert_true(open_with_state(f, state_dir, "start_date = 2016-10-01\n", &err));
	feed_campaigns(f);
	skip_report(f);
	tx_next_stream(f, &st);
	assert_string_equal(st.name, "email-activity");
	tx_request(f, &st, &page, &req);
	url = strdup(tb_text(&req.url));
	assert_non_null(url);
	tx_request_free(&req);
	return url;
}


static void
test_extract_mailchimp_watermarks(void **state)
{
	ExtractFixture f = { 0 };
	char *dir = ts_make_tmpdir("mailchimp-state");
	char path[4096];
	char want[512];
	char wm[CL_TIME_BUFSIZE];
	char since[CL_TIME_BUFSIZE];
	char *url;
	char *saved;
	char *after;
	ClTime started;
	ClError err = CL_OK;

	(void) state;
	snprintf(path, sizeof(path), "%s/mailchimp/email_activity.json", dir);

	/* a first incremental run: all activity, then a watermark per campaign */
	url = activity_url(&f, dir, false);
	assert_string_equal(url, "http://127.0.0.1:9/3.0/reports/xxxxxxxxx/email-activity"
						"?count=500&offset=0");
	free(url);
	tx_commit(&f);
	/* the watermark is the run's start, in whole seconds */
	started = f.run.started_at - f.run.started_at % CL_USEC_PER_SEC;
	assert_true(vendor_mailchimp.after_commit(f.state, &f.run, &err));
	tx_close(&f);
	saved = ts_read_file(path, NULL);
	snprintf(want, sizeof(want), "\"campaigns\":{\"xxxxxxxxx\":\"%s\"}}",
			 time_format_rfc3339(started, wm));
	assert_non_null(strstr(saved, want));

	/* the next run asks for activity since the watermark, less the overlap */
	url = activity_url(&f, dir, false);
	(void) time_format_rfc3339(started - 3600 * CL_USEC_PER_SEC, since);
	/* whole seconds, ':' escaped in the query value */
	assert_int_equal(strlen(since), 20);
	snprintf(want, sizeof(want), "http://127.0.0.1:9/3.0/reports/xxxxxxxxx/email-activity"
			 "?count=500&offset=0&since=%.13s%%3A%.2s%%3A%.3s", since, since + 14, since + 17);
	assert_string_equal(url, want);
	free(url);
	tx_close(&f);

	/* a backfill reads all activity and leaves the watermarks alone */
	url = activity_url(&f, dir, true);
	assert_null(strstr(url, "since="));
	free(url);
	tx_commit(&f);
	assert_true(vendor_mailchimp.after_commit(f.state, &f.run, &err));
	tx_close(&f);
	after = ts_read_file(path, NULL);
	assert_string_equal(after, saved);
	free(after);
	free(saved);

	/* a damaged file stops the run with a configuration error */
	ts_write_file(path, "{\"campaigns\":{\"xxxxxxxxx\":\"last tuesday\"}}\n");
	assert_false(open_with_state(&f, dir, "", &err));
	assert_int_equal(err, CL_ERR_CONFIG);
	tx_close(&f);
	ts_rmdir_r(dir);
	free(dir);
}


static void
test_extract_mailchimp_config(void **state)
{
	ExtractFixture f = { 0 };
	ClError err;

	(void) state;
	/* a key without its data centre and no base_url: nowhere to go */
	assert_false(tx_open(&f, &vendor_mailchimp,
						 "[email.mailchimp]\nenabled = true\napi_key = 0123456789abcdef\n", &err));
	assert_int_equal(err, CL_ERR_CONFIG);
	tx_close(&f);

	memset(&f, 0, sizeof(f));
	assert_false(tx_open(&f, &vendor_mailchimp, "[email.mailchimp]\nenabled = true\n", &err));
	assert_int_equal(err, CL_ERR_CONFIG);
	tx_close(&f);

	/* the default window starts at start_date */
	memset(&f, 0, sizeof(f));
	assert_true(tx_open(&f, &vendor_mailchimp,
						"[email.mailchimp]\nenabled = true\napi_key = k-us1\nstart_date = 2020-01-01\n",
						&err));
	assert_int_equal(f.run.window.from, tx_date("2020-01-01"));
	assert_int_equal(f.run.window.to, f.run.today);
	tx_close(&f);
}


static void
test_extract_mailchimp_problem_json(void **state)
{
	HttpResponse resp;
	char msg[1024];

	(void) state;
	tx_error_response(&resp, 405, "vendors/mailchimp/error_405_problem_json.json");
	assert_int_equal(vendor_mailchimp.explain_error(&resp, msg, sizeof(msg)), CL_OK);
	assert_string_equal(msg,
						"Mailchimp answered HTTP 405: Method Not Allowed: This list member cannot be "
						"removed. Can not archive a contact that is bounced, pending or archived "
						"(instance c116af38-54cd-7c91-efff-548d25d48699)");
	http_response_reset(&resp);
}


int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_extract_mailchimp_campaigns),
		cmocka_unit_test(test_extract_mailchimp_bad_report),
		cmocka_unit_test(test_extract_mailchimp_watermarks),
		cmocka_unit_test(test_extract_mailchimp_activity_window),
		cmocka_unit_test(test_extract_mailchimp_email_activity),
		cmocka_unit_test(test_extract_mailchimp_opens_as_touches),
		cmocka_unit_test(test_extract_mailchimp_clicks),
		cmocka_unit_test(test_extract_mailchimp_bad_activity),
		cmocka_unit_test(test_extract_mailchimp_requests),
		cmocka_unit_test(test_extract_mailchimp_config),
		cmocka_unit_test(test_extract_mailchimp_problem_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
