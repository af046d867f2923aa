/*
 * test_extract_meta.c: the Meta Marketing API vendor on every saved
 * payload of shared/fixtures/vendors/meta (insights, paging, rate-limit
 * and error bodies, the usage header), on the requests it builds, and on
 * the async report run sequence (start, polls, results).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "support.h"
#include "test_extract_support.h"

#include "http.h"
#include "registry.h"

static const char meta_ini[] =
	"[ads.meta]\nenabled = true\nbase_url = http://127.0.0.1:9/graph/\n"
	"access_token = meta-secret\napi_version = v21.0\njob_poll_initial_ms = 1\n"
	"job_poll_max_ms = 2\n";

static void
open_meta(ExtractFixture *f, const char *from, const char *to, const char *extra)
{
	char ini[2048];
	ClError err;

	/* two accounts unless the test names its own */
	snprintf(ini, sizeof(ini), "%s%s%s", meta_ini, extra,
			 strstr(extra, "account_ids") != NULL ? ""
			 : "account_ids = act_798085168510957, 4242\n");
	tx_cli_window(f, from, to);
	assert_true(tx_open(f, &vendor_meta, ini, &err));
}


/* next_is: the next stream exists and has this label. */
static void
next_is(ExtractFixture *f, SourceStream *st, const char *label)
{
	tx_next_stream(f, st);
	assert_string_equal(st->label, label);
}


/* request_of builds the first page's request of st; returns its URL. */
static char *
request_of(ExtractFixture *f, const SourceStream *st, const char *cursor, char **body)
{
	SourceRequest req;
	SourcePage page = { 1, 0, cursor };
	char *url;

	tx_request(f, st, &page, &req);
	url = strdup(tb_text(&req.url));
	assert_non_null(url);
	assert_true(tx_has_header(&req, "Authorization: Bearer meta-secret"));
	if (body != NULL)
	{
		*body = strdup(tb_text(&req.body));
		assert_non_null(*body);
	}
	tx_request_free(&req);
	return url;
}


static void
test_extract_meta_saved_insights_ad_level(void **state)
{
	ExtractFixture f = { 0 };
	SourceStream st;
	PageState ps;
	ClError err;
	RowSet spend;
	ClDate date;
	const JsonValue *row;

	(void) state;
	open_meta(&f, "2023-06-01", "2023-06-02", "");
	next_is(&f, &st, "act_798085168510957 2023-06-01 .. 2023-06-02");
	assert_int_equal(st.paging, SOURCE_PAGING_CURSOR);
	page_state_init(&ps);
	assert_true(tx_feed_fixture(&f, &st, &ps, "vendors/meta/insights_level_ad_daily.airbyte-fixture.json",
								&err));
	assert_int_equal(ps.records, 2);
	/* cursors but no paging.next: this was the last page */
	assert_true(ps.done);
	page_state_free(&ps);
	tx_commit(&f);

	tx_read(&f, "spend", &spend);
	assert_int_equal(spend.count, 2);
	/* the first row, field by field (two rows of one ad: the capture was
	 * broken down by product_id) */
	row = spend.rows[0];
	date = spend.dates[0];
	if (tx_int(row, "clicks") != 9)
	{
		row = spend.rows[1];
		date = spend.dates[1];
	}
	assert_int_equal(date, tx_date("2023-06-01"));
	assert_string_equal(tx_str(row, "date"), "2023-06-01");
	assert_string_equal(tx_str(row, "platform"), "meta");
	assert_string_equal(tx_str(row, "account_id"), "798085168510957");
	assert_string_equal(tx_str(row, "campaign_id"), "23854404676180548");
	assert_string_equal(tx_str(row, "campaign_name"), "zzzzzNew - AIA - Advertised Offers");
	assert_string_equal(tx_str(row, "campaign"), "zzzzzNew - AIA - Advertised Offers");
	assert_string_equal(tx_str(row, "adgroup_id"), "23854404706320548");
	assert_string_equal(tx_str(row, "ad_id"), "23854695759200548");
	assert_string_equal(tx_str(row, "source"), "facebook");
	assert_string_equal(tx_str(row, "medium"), "cpc");
	assert_int_equal(tx_int(row, "clicks"), 9);
	assert_int_equal(tx_int(row, "impressions"), 185);
	/* "14.35" USD */
	assert_int_equal(tx_int(row, "cost_minor"), 1435);
	assert_string_equal(tx_str(row, "currency"), "USD");
	/* the second row */
	row = row == spend.rows[0] ? spend.rows[1] : spend.rows[0];
	assert_int_equal(tx_int(row, "clicks"), 7);
	assert_int_equal(tx_int(row, "impressions"), 171);
	assert_int_equal(tx_int(row, "cost_minor"), 853);
	assert_string_equal(tx_str(row, "ad_id"), "23854695759200548");
	tx_rows_free(&spend);
	tx_close(&f);
}


static void
test_extract_meta_saved_insights_campaign_level(void **state)
{
	ExtractFixture f = { 0 };
	SourceStream st;
	PageState ps;
	ClError err;
	RowSet spend;

	(void) state;
	open_meta(&f, "2023-06-01", "2023-06-01",
			  "level = campaign\nutm_source = fb\nutm_medium = paid_social\n");
	next_is(&f, &st, "act_798085168510957 2023-06-01 .. 2023-06-01");
	page_state_init(&ps);
	assert_true(tx_feed_fixture(&f, &st, &ps, "vendors/meta/insights_level_ad_daily.airbyte-fixture.json",
								&err));
	page_state_free(&ps);
	tx_commit(&f);
	tx_read(&f, "spend", &spend);
	assert_int_equal(spend.count, 2);
	/* at campaign level the ad set and ad ids are not part of the row */
	assert_null(json_member(spend.rows[0], "adgroup_id"));
	assert_null(json_member(spend.rows[0], "ad_id"));
	assert_string_equal(tx_str(spend.rows[0], "source"), "fb");
	assert_string_equal(tx_str(spend.rows[0], "medium"), "paid_social");
	tx_rows_free(&spend);
	tx_close(&f);
}


static void
test_extract_meta_saved_insights_outside_window(void **state)
{
	ExtractFixture f = { 0 };
	SourceStream st;
	PageState ps;
	ClError err;

	(void) state;
	open_meta(&f, "2023-07-01", "2023-07-02", "");
	tx_next_stream(&f, &st);
	page_state_init(&ps);
	assert_true(tx_feed_fixture(&f, &st, &ps, "vendors/meta/insights_level_ad_daily.airbyte-fixture.json",
								&err));
	assert_int_equal(ps.records, 2);
	assert_int_equal(f.run.dropped, 2);
	page_state_free(&ps);
	tx_close(&f);
}


static void
test_extract_meta_saved_paging_cursors(void **state)
{
	ExtractFixture f = { 0 };
	SourceStream st;
	PageState ps;
	ClError err;
	RowSet spend;

	(void) state;
	open_meta(&f, "2023-06-01", "2023-06-01", "");
	tx_next_stream(&f, &st);
	page_state_init(&ps);
	/* the saved Graph edge holds a user, not an insights row: refused,
	 * naming the field, instead of becoming spend of an unknown day */
	assert_false(tx_feed_fixture(&f, &st, &ps, "vendors/meta/paging_cursors_example.json", &err));
	assert_int_equal(err, CL_ERR_DATA);
	page_state_free(&ps);

	/* the same envelope around an insights row: after is the cursor only
	 * when paging.next says another page follows */
	page_state_init(&ps);
	assert_true(tx_feed_text(&f, &st, &ps,
							 "{\"data\":[{\"account_id\":\"798085168510957\","
							 "\"account_currency\":\"EUR\",\"campaign_id\":\"1\","
							 "\"adset_id\":\"2\",\"ad_id\":\"3\",\"spend\":\"1.005\","
							 "\"clicks\":\"1\",\"impressions\":\"10\",\"date_start\":\"2023-06-01\","
							 "\"date_stop\":\"2023-06-01\"}],\"paging\":{\"cursors\":"
							 "{\"after\":\"ODA5Mzg5NTEyNDI4MTI3\",\"before\":\"ODA5Mzg5NTEyNDI4MTI3\"},"
							 "\"next\":\"https://graph.facebook.com/v21.0/act_1/insights?after=x\"}}",
							 &err));
	assert_false(ps.done);
	assert_string_equal(ps.page.cursor, "ODA5Mzg5NTEyNDI4MTI3");
	assert_int_equal(ps.page.number, 2);
	{
		char *url = request_of(&f, &st, ps.page.cursor, NULL);

		assert_non_null(strstr(url, "&after=ODA5Mzg5NTEyNDI4MTI3"));
		free(url);
	}
	page_state_free(&ps);
	tx_commit(&f);
	tx_read(&f, "spend", &spend);
	assert_int_equal(spend.count, 1);
	/* 1.005 EUR rounds half away from zero */
	assert_int_equal(tx_int(spend.rows[0], "cost_minor"), 101);
	assert_string_equal(tx_str(spend.rows[0], "currency"), "EUR");
	tx_rows_free(&spend);
	tx_close(&f);
}


static void
test_extract_meta_row_checks(void **state)
{
	ExtractFixture f = { 0 };
	SourceStream st;
	PageState ps;
	ClError err;
	RowSet spend;

	(void) state;
	open_meta(&f, "2023-06-01", "2023-06-05", "");
	tx_next_stream(&f, &st);

	/* a row over two days is not a daily row */
	page_state_init(&ps);
	assert_false(tx_feed_text(&f, &st, &ps,
							  "{\"data\":[{\"account_currency\":\"USD\",\"campaign_id\":\"1\","
							  "\"adset_id\":\"2\",\"ad_id\":\"3\",\"spend\":\"1\","
							  "\"date_start\":\"2023-06-01\",\"date_stop\":\"2023-06-02\"}]}", &err));
	assert_int_equal(err, CL_ERR_DATA);
	page_state_free(&ps);
	/* without the account currency spend cannot be converted */
	page_state_init(&ps);
	assert_false(tx_feed_text(&f, &st, &ps,
							  "{\"data\":[{\"campaign_id\":\"1\",\"adset_id\":\"2\",\"ad_id\":\"3\","
							  "\"spend\":\"1\",\"date_start\":\"2023-06-01\"}]}", &err));
	assert_int_equal(err, CL_ERR_DATA);
	page_state_free(&ps);
	/* an ad-level row without its ad */
	page_state_init(&ps);
	assert_false(tx_feed_text(&f, &st, &ps,
							  "{\"data\":[{\"account_currency\":\"USD\",\"campaign_id\":\"1\","
							  "\"adset_id\":\"2\",\"spend\":\"1\",\"date_start\":\"2023-06-01\"}]}",
							  &err));
	assert_int_equal(err, CL_ERR_DATA);
	page_state_free(&ps);
	/* spend that is not an amount */
	page_state_init(&ps);
	assert_false(tx_feed_text(&f, &st, &ps,
							  "{\"data\":[{\"account_currency\":\"USD\",\"campaign_id\":\"1\","
							  "\"adset_id\":\"2\",\"ad_id\":\"3\",\"spend\":\"1,5\","
							  "\"date_start\":\"2023-06-01\"}]}", &err));
	assert_int_equal(err, CL_ERR_DATA);
	page_state_free(&ps);
	/* JPY has no minor unit; absent metrics are 0; the account comes from
	 * the request when the row leaves it out */
	page_state_init(&ps);
	assert_true(tx_feed_text(&f, &st, &ps,
							 "{\"data\":[{\"account_currency\":\"JPY\",\"campaign_id\":\"1\","
							 "\"adset_id\":\"2\",\"ad_id\":\"3\",\"spend\":\"1500\","
							 "\"date_start\":\"2023-06-03\",\"date_stop\":\"2023-06-03\"}]}", &err));
	assert_true(ps.done);
	page_state_free(&ps);
	tx_commit(&f);
	tx_read(&f, "spend", &spend);
	assert_int_equal(spend.count, 1);
	assert_string_equal(tx_str(spend.rows[0], "account_id"), "798085168510957");
	assert_int_equal(tx_int(spend.rows[0], "cost_minor"), 1500);
	assert_string_equal(tx_str(spend.rows[0], "currency"), "JPY");
	assert_int_equal(tx_int(spend.rows[0], "clicks"), 0);
	assert_int_equal(tx_int(spend.rows[0], "impressions"), 0);
	tx_rows_free(&spend);
	tx_close(&f);
}


static void
test_extract_meta_sync_request(void **state)
{
	ExtractFixture f = { 0 };
	SourceStream st;
	bool more = true;
	ClError err = CL_OK;
	char *url;

	(void) state;
	open_meta(&f, "2026-02-01", "2026-02-07", "page_size = 50\nlevel = adset\n");
	next_is(&f, &st, "act_798085168510957 2026-02-01 .. 2026-02-07");
	url = request_of(&f, &st, NULL, NULL);
	assert_string_equal(url,
						"http://127.0.0.1:9/graph/v21.0/act_798085168510957/insights?level=adset"
						"&time_increment=1&fields=account_id%2Caccount_currency%2Ccampaign_id%2C"
						"campaign_name%2Cadset_id%2Cadset_name%2Cspend%2Cclicks%2Cimpressions%2C"
						"date_start%2Cdate_stop&time_range=%7B%22since%22%3A%222026-02-01%22%2C"
						"%22until%22%3A%222026-02-07%22%7D&limit=50");
	/* the token is never part of a URL */
	assert_null(strstr(url, "meta-secret"));
	free(url);
	next_is(&f, &st, "act_4242 2026-02-01 .. 2026-02-07");
	assert_true(vendor_meta.next_stream(f.state, &f.run, &st, &more, &err));
	assert_false(more);
	tx_close(&f);
}


static void
test_extract_meta_config_errors(void **state)
{
	static const char *const bad[] = {
		"[ads.meta]\naccess_token = t\naccount_ids = 123abc\n",
		"[ads.meta]\naccess_token = t\naccount_ids = act_\n",
		"[ads.meta]\naccess_token = t\naccount_ids = act_1\nlevel = keyword\n",
		"[ads.meta]\naccount_ids = act_1\n",
		"[ads.meta]\naccess_token = t\n",
		NULL
	};

	(void) state;
	for (int i = 0; bad[i] != NULL; i++)
	{
		ExtractFixture f = { 0 };
		ClError err = CL_OK;

		assert_false(tx_open(&f, &vendor_meta, bad[i], &err));
		assert_int_equal(err, CL_ERR_CONFIG);
		tx_close(&f);
	}
}


static void
test_extract_meta_async_job(void **state)
{
	ExtractFixture f = { 0 };
	SourceStream st;
	PageState ps;
	ClError err = CL_OK;
	bool more = true;
	char *url;
	char *body;
	RowSet spend;

	(void) state;
	/* 10 days over the threshold of 7: report runs of 4 days */
	open_meta(&f, "2026-01-01", "2026-01-10", "job_days = 4\naccount_ids = act_4242\n");
	next_is(&f, &st, "act_4242 2026-01-01 .. 2026-01-04 (report run start)");
	assert_int_equal(st.paging, SOURCE_PAGING_NONE);
	url = request_of(&f, &st, NULL, &body);
	assert_string_equal(url, "http://127.0.0.1:9/graph/v21.0/act_4242/insights");
	assert_non_null(strstr(body, "level=ad&time_increment=1&fields="));
	assert_non_null(strstr(body, "time_range=%7B%22since%22%3A%222026-01-01%22%2C%22until%22%3A"
						   "%222026-01-04%22%7D"));
	free(url);
	free(body);
	page_state_init(&ps);
	assert_true(tx_feed_text(&f, &st, &ps, "{\"report_run_id\":\"6120000000001\"}", &err));
	page_state_free(&ps);

	/* polls until completed; the percentage must reach 100 too */
	next_is(&f, &st, "act_4242 2026-01-01 .. 2026-01-04 (report run 6120000000001, poll 1)");
	url = request_of(&f, &st, NULL, NULL);
	assert_string_equal(url, "http://127.0.0.1:9/graph/v21.0/6120000000001"
						"?fields=id,async_status,async_percent_completion");
	free(url);
	page_state_init(&ps);
	assert_true(tx_feed_text(&f, &st, &ps, "{\"id\":\"6120000000001\",\"async_status\":"
							 "\"Job Not Started\",\"async_percent_completion\":0}", &err));
	page_state_free(&ps);
	next_is(&f, &st, "act_4242 2026-01-01 .. 2026-01-04 (report run 6120000000001, poll 2)");
	page_state_init(&ps);
	assert_true(tx_feed_text(&f, &st, &ps, "{\"id\":\"6120000000001\",\"async_status\":"
							 "\"Job Completed\",\"async_percent_completion\":90}", &err));
	page_state_free(&ps);
	next_is(&f, &st, "act_4242 2026-01-01 .. 2026-01-04 (report run 6120000000001, poll 3)");
	page_state_init(&ps);
	assert_true(tx_feed_text(&f, &st, &ps, "{\"id\":\"6120000000001\",\"async_status\":"
							 "\"Job Completed\",\"async_percent_completion\":100}", &err));
	page_state_free(&ps);

	next_is(&f, &st, "act_4242 2026-01-01 .. 2026-01-04 (report run results)");
	assert_string_equal(st.name, "insights");
	url = request_of(&f, &st, NULL, NULL);
	assert_string_equal(url, "http://127.0.0.1:9/graph/v21.0/6120000000001/insights?limit=500");
	free(url);
	page_state_init(&ps);
	assert_true(tx_feed_text(&f, &st, &ps,
							 "{\"data\":[{\"account_id\":\"4242\",\"account_currency\":\"USD\","
							 "\"campaign_id\":\"1\",\"adset_id\":\"2\",\"ad_id\":\"3\","
							 "\"spend\":\"2.50\",\"clicks\":\"4\",\"impressions\":\"99\","
							 "\"date_start\":\"2026-01-02\",\"date_stop\":\"2026-01-02\"}]}", &err));
	assert_true(ps.done);
	page_state_free(&ps);

	/* the next job: days 5..8; it fails */
	next_is(&f, &st, "act_4242 2026-01-05 .. 2026-01-08 (report run start)");
	page_state_init(&ps);
	assert_true(tx_feed_text(&f, &st, &ps, "{\"report_run_id\":\"6120000000002\"}", &err));
	page_state_free(&ps);
	next_is(&f, &st, "act_4242 2026-01-05 .. 2026-01-08 (report run 6120000000002, poll 1)");
	page_state_init(&ps);
	assert_true(tx_feed_text(&f, &st, &ps, "{\"id\":\"6120000000002\",\"async_status\":"
							 "\"Job Failed\",\"async_percent_completion\":30}", &err));
	page_state_free(&ps);
	assert_false(vendor_meta.next_stream(f.state, &f.run, &st, &more, &err));
	assert_int_equal(err, CL_ERR_UNAVAILABLE);

	tx_commit(&f);
	tx_read(&f, "spend", &spend);
	assert_int_equal(spend.count, 1);
	assert_int_equal(tx_int(spend.rows[0], "cost_minor"), 250);
	tx_rows_free(&spend);
	tx_close(&f);
}


static void
test_extract_meta_async_answers_checked(void **state)
{
	ExtractFixture f = { 0 };
	SourceStream st;
	PageState ps;
	ClError err = CL_OK;

	(void) state;
	/* async_threshold_days = 0: every window goes through report runs */
	open_meta(&f, "2026-01-01", "2026-01-01", "async_threshold_days = 0\n");
	next_is(&f, &st, "act_798085168510957 2026-01-01 .. 2026-01-01 (report run start)");
	page_state_init(&ps);
	/* a report_run_id that would change the path is refused */
	assert_false(tx_feed_text(&f, &st, &ps, "{\"report_run_id\":\"../me\"}", &err));
	assert_int_equal(err, CL_ERR_DATA);
	page_state_free(&ps);
	page_state_init(&ps);
	assert_true(tx_feed_text(&f, &st, &ps, "{\"report_run_id\":612}", &err));
	page_state_free(&ps);
	next_is(&f, &st, "act_798085168510957 2026-01-01 .. 2026-01-01 (report run 612, poll 1)");
	page_state_init(&ps);
	assert_false(tx_feed_text(&f, &st, &ps, "{\"id\":\"612\"}", &err));
	assert_int_equal(err, CL_ERR_DATA);
	page_state_free(&ps);
	tx_close(&f);
}


/* error_response: a saved Graph error body with status, and optionally a
 * usage header as the engine captures it (X-Business-Use-Case-Usage). */
static void
error_response(HttpResponse *resp, long status, const char *rel, const char *buc)
{
	tx_error_response(resp, status, rel);
	if (buc != NULL)
		snprintf(resp->rate_headers[0], sizeof(resp->rate_headers[0]), "%s", buc);
}


static void
test_extract_meta_rate_limit_bodies(void **state)
{
	static const char *const saved[] = {
		"vendors/meta/error_80000_rate_limit_airbyte_test.json",
		"vendors/meta/error_80004_rate_limit.json",
		NULL
	};
	char *path = ts_shared_fixture("vendors/meta/x-business-use-case-usage.header.json");
	char *buc = ts_read_file(path, NULL);
	HttpResponse resp;
	char msg[1024];

	(void) state;
	for (int i = 0; saved[i] != NULL; i++)
	{
		int64_t delay = -1;

		/* without a usage header: retried with the engine's backoff */
		error_response(&resp, 400, saved[i], NULL);
		assert_int_equal(vendor_meta.classify(NULL, &resp, &delay), HTTP_VERDICT_RETRY);
		assert_int_equal(delay, -1);
		assert_int_equal(vendor_meta.explain_error(&resp, msg, sizeof(msg)), CL_ERR_TEMPORARY);
		assert_non_null(strstr(msg, "Meta answered HTTP 400: (#800"));
		assert_non_null(strstr(msg, "subcode 2446079"));
		assert_non_null(strstr(msg, "OAuthException"));
		assert_non_null(strstr(msg, "rate limited"));
		http_response_reset(&resp);

		/* with the saved header: estimated_time_to_regain_access is 10
		 * minutes */
		error_response(&resp, 400, saved[i], buc);
		assert_int_equal(vendor_meta.classify(NULL, &resp, &delay), HTTP_VERDICT_RETRY);
		assert_int_equal(delay, INT64_C(600000));
		http_response_reset(&resp);
	}
	error_response(&resp, 400, "vendors/meta/error_80004_rate_limit.json", NULL);
	assert_int_equal(vendor_meta.explain_error(&resp, msg, sizeof(msg)), CL_ERR_TEMPORARY);
	assert_non_null(strstr(msg, "code 80004"));
	assert_non_null(strstr(msg, "fbtrace_id AFm-w0VSqFxoRyuKXJgg48H"));
	http_response_reset(&resp);
	free(buc);
	free(path);
}


static void
test_extract_meta_error_envelope(void **state)
{
	HttpResponse resp;
	char msg[1024];
	int64_t delay = -1;

	(void) state;
	/* code 190: the token is invalid; no retry, a configuration error */
	error_response(&resp, 400, "vendors/meta/error_envelope_example.json", NULL);
	assert_int_equal(vendor_meta.classify(NULL, &resp, &delay), HTTP_VERDICT_FAIL);
	assert_int_equal(vendor_meta.explain_error(&resp, msg, sizeof(msg)), CL_ERR_CONFIG);
	assert_non_null(strstr(msg, "Message describing the error (code 190, subcode 460, "
						   "OAuthException, fbtrace_id EJplcsCHuLu): A message"));
	assert_non_null(strstr(msg, "access_token"));
	http_response_reset(&resp);

	/* other codes keep the HTTP class; a transient flag is honoured */
	memset(&resp, 0, sizeof(resp));
	resp.status = 400;
	resp.error_body = strdup("{\"error\":{\"message\":\"Invalid parameter\",\"code\":100}}");
	resp.error_body_len = strlen(resp.error_body);
	assert_int_equal(vendor_meta.classify(NULL, &resp, &delay), HTTP_VERDICT_DEFAULT);
	assert_int_equal(vendor_meta.explain_error(&resp, msg, sizeof(msg)), CL_OK);
	http_response_reset(&resp);
	memset(&resp, 0, sizeof(resp));
	resp.status = 500;
	resp.error_body = strdup("{\"error\":{\"message\":\"Please retry\",\"code\":1,"
							 "\"is_transient\":true}}");
	resp.error_body_len = strlen(resp.error_body);
	assert_int_equal(vendor_meta.classify(NULL, &resp, &delay), HTTP_VERDICT_RETRY);
	assert_int_equal(vendor_meta.explain_error(&resp, msg, sizeof(msg)), CL_ERR_TEMPORARY);
	http_response_reset(&resp);
	/* a body that is not Graph's */
	memset(&resp, 0, sizeof(resp));
	resp.status = 502;
	resp.error_body = strdup("<html>bad gateway</html>");
	resp.error_body_len = strlen(resp.error_body);
	assert_int_equal(vendor_meta.classify(NULL, &resp, &delay), HTTP_VERDICT_DEFAULT);
	assert_int_equal(vendor_meta.explain_error(&resp, msg, sizeof(msg)), CL_OK);
	assert_non_null(strstr(msg, "no Graph error body"));
	http_response_reset(&resp);
}


/* paused_ms: how long the vendor waits before its next request after a
 * successful response with the usage header header (index idx). */
static int64_t
paused_ms(ExtractFixture *f, int idx, const char *header)
{
	HttpResponse resp;
	ClError err = CL_OK;
	ClTime t0;

	memset(&resp, 0, sizeof(resp));
	resp.status = 200;
	snprintf(resp.rate_headers[idx], sizeof(resp.rate_headers[idx]), "%s", header);
	assert_true(vendor_meta.check_response(f->state, &f->run, &resp, &err));
	t0 = time_now();
	assert_true(vendor_meta.authenticate(f->state, &f->run, false, &err));
	return (time_now() - t0) / 1000;
}


static void
test_extract_meta_usage_headers_slow_down(void **state)
{
	ExtractFixture f = { 0 };
	char *path = ts_shared_fixture("vendors/meta/x-business-use-case-usage.header.json");
	char *buc = ts_read_file(path, NULL);
	int64_t ms;

	(void) state;
	/* pauses of at most 1 s, from 50% usage */
	open_meta(&f, "2026-01-01", "2026-01-01",
			  "throttle_percent = 50\nthrottle_max_pause_seconds = 1\n");
	assert_int_equal(vendor_meta.response_headers[0] != NULL, 1);
	assert_string_equal(vendor_meta.response_headers[0], "X-Business-Use-Case-Usage");
	assert_string_equal(vendor_meta.response_headers[1], "X-Ad-Account-Usage");

	/* the saved header: call_count 100%, regain access in 10 minutes;
	 * capped at throttle_max_pause_seconds */
	ms = paused_ms(&f, 0, buc);
	assert_true(ms >= 950 && ms < 3000);
	/* 75% of the ad account's limit: half way from 50 to 100, half of 1 s */
	ms = paused_ms(&f, 1, "{\"acc_id_util_pct\":75,\"reset_time_duration\":0}");
	assert_true(ms >= 450 && ms < 2000);
	/* below the threshold, and headers that are not JSON: no pause */
	ms = paused_ms(&f, 2, "{\"call_count\":10,\"total_cputime\":3,\"total_time\":49.5}");
	assert_true(ms < 200);
	ms = paused_ms(&f, 3, "not json");
	assert_true(ms < 200);
	tx_close(&f);
	free(buc);
	free(path);
}


static void
test_extract_meta_too_much_data_becomes_report_runs(void **state)
{
	ExtractFixture f = { 0 };
	SourceStream st;
	HttpResponse resp;
	char msg[1024];
	int64_t delay = -1;

	(void) state;
	open_meta(&f, "2026-02-01", "2026-02-05", "job_days = 3\naccount_ids = act_4242\n");
	next_is(&f, &st, "act_4242 2026-02-01 .. 2026-02-05");
	/* asking again cannot help: no retry, and the stream is replaced */
	memset(&resp, 0, sizeof(resp));
	resp.status = 500;
	resp.error_body = strdup("{\"error\":{\"code\":1,\"message\":\"Please reduce the amount of "
							 "data you're asking for, then retry your request\","
							 "\"type\":\"OAuthException\",\"fbtrace_id\":\"Fx1\"}}");
	resp.error_body_len = strlen(resp.error_body);
	assert_int_equal(vendor_meta.classify(f.state, &resp, &delay), HTTP_VERDICT_FAIL);
	assert_int_equal(vendor_meta.explain_error(&resp, msg, sizeof(msg)), CL_OK);
	assert_non_null(strstr(msg, "too much data for one request"));
	http_response_reset(&resp);
	assert_true(vendor_meta.replace_stream(f.state, &st, CL_ERR_UNAVAILABLE));
	next_is(&f, &st, "act_4242 2026-02-01 .. 2026-02-03 (report run start)");
	/* a later failure of another kind is not replaced */
	assert_false(vendor_meta.replace_stream(f.state, &st, CL_ERR_UNAVAILABLE));
	tx_close(&f);

	/* code 100 subcode 1487534 says the same; a plain code 1 is retried */
	memset(&f, 0, sizeof(f));
	open_meta(&f, "2026-02-01", "2026-02-05", "");
	next_is(&f, &st, "act_798085168510957 2026-02-01 .. 2026-02-05");
	memset(&resp, 0, sizeof(resp));
	resp.status = 400;
	resp.error_body = strdup("{\"error\":{\"code\":100,\"error_subcode\":1487534,"
							 "\"message\":\"Too much data\"}}");
	resp.error_body_len = strlen(resp.error_body);
	assert_int_equal(vendor_meta.classify(f.state, &resp, &delay), HTTP_VERDICT_FAIL);
	http_response_reset(&resp);
	memset(&resp, 0, sizeof(resp));
	resp.status = 500;
	resp.error_body = strdup("{\"error\":{\"code\":1,\"message\":\"An unknown error occurred\"}}");
	resp.error_body_len = strlen(resp.error_body);
	assert_int_equal(vendor_meta.classify(f.state, &resp, &delay), HTTP_VERDICT_RETRY);
	http_response_reset(&resp);
	/* the last answer decides: nothing to replace after a retried error */
	assert_false(vendor_meta.replace_stream(f.state, &st, CL_ERR_TEMPORARY));
	tx_close(&f);
}


int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_extract_meta_saved_insights_ad_level),
		cmocka_unit_test(test_extract_meta_saved_insights_campaign_level),
		cmocka_unit_test(test_extract_meta_saved_insights_outside_window),
		cmocka_unit_test(test_extract_meta_saved_paging_cursors),
		cmocka_unit_test(test_extract_meta_row_checks),
		cmocka_unit_test(test_extract_meta_sync_request),
		cmocka_unit_test(test_extract_meta_config_errors),
		cmocka_unit_test(test_extract_meta_async_job),
		cmocka_unit_test(test_extract_meta_async_answers_checked),
		cmocka_unit_test(test_extract_meta_rate_limit_bodies),
		cmocka_unit_test(test_extract_meta_error_envelope),
		cmocka_unit_test(test_extract_meta_usage_headers_slow_down),
		cmocka_unit_test(test_extract_meta_too_much_data_becomes_report_runs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
