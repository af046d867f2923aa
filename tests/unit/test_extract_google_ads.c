/*
 * test_extract_google_ads.c: the Google Ads vendor on the saved
 * searchStream and error payloads (shared/fixtures/vendors/google_ads) and
 * on a complete stream in tests/data/extract.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <microhttpd.h>

#include "support.h"
#include "test_extract_support.h"

#include "http.h"

#include "registry.h"

static const char ads_ini[] =
	"[ads.google_ads]\nenabled = true\nbase_url = http://127.0.0.1:9\n"
	"token_url = http://127.0.0.1:9/token\nclient_id = cid\nclient_secret = csecret\n"
	"refresh_token = rtoken\ndeveloper_token = devtoken\n"
	"customer_ids = 123-456-7890, 1112223333\n";

static void
open_window(ExtractFixture *f, const char *from, const char *to, const char *extra)
{
	char ini[1024];
	ClError err;

	snprintf(ini, sizeof(ini), "%s%s", ads_ini, extra);
	tx_cli_window(f, from, to);
	assert_true(tx_open(f, &vendor_google_ads, ini, &err));
}


static void
test_extract_google_ads_saved_stream_lacks_currency(void **state)
{
	ExtractFixture f = { 0 };
	SourceStream st;
	PageState ps;
	ClError err;
	RowSet spend;

	(void) state;
	open_window(&f, "2024-06-01", "2024-06-07", "");
	tx_next_stream(&f, &st);
	page_state_init(&ps);
	/* The saved capture selected no customer.currency_code (and no
	 * campaign): cost cannot be converted, so the page is refused rather
	 * than guessed. */
	assert_false(tx_feed_fixture(&f, &st, &ps, "vendors/google_ads/searchstream_customer_daily.json",
								 &err));
	assert_int_equal(err, CL_ERR_DATA);
	page_state_free(&ps);
	tx_commit(&f);
	tx_read(&f, "spend", &spend);
	assert_int_equal(spend.count, 0);
	tx_rows_free(&spend);
	tx_close(&f);
}


static void
test_extract_google_ads_saved_stream_outside_window(void **state)
{
	ExtractFixture f = { 0 };
	SourceStream st;
	PageState ps;
	ClError err;

	(void) state;
	/* every saved row (June 1-7) is outside the window: dropped and
	 * counted, not mapped */
	open_window(&f, "2024-07-01", "2024-07-14", "");
	tx_next_stream(&f, &st);
	page_state_init(&ps);
	assert_true(tx_feed_fixture(&f, &st, &ps, "vendors/google_ads/searchstream_customer_daily.json",
								&err));
	assert_true(ps.done);
	assert_int_equal(ps.records, 7);
	assert_int_equal(f.run.dropped, 7);
	page_state_free(&ps);
	tx_close(&f);
}


static void
test_extract_google_ads_complete_stream(void **state)
{
	ExtractFixture f = { 0 };
	SourceStream st;
	PageState ps;
	ClError err;
	RowSet spend;
	const JsonValue *row;
	ClDate date;

	(void) state;
	open_window(&f, "2024-06-01", "2024-06-01", "utm_source = adwords\n");
	tx_next_stream(&f, &st);
	assert_string_equal(st.label, "customer 1234567890");
	page_state_init(&ps);
	assert_true(tx_feed_data(&f, &st, &ps, "google_ads_searchstream.json", &err));
	assert_int_equal(ps.records, 3);
	/* the June 2 row is a day past the window */
	assert_int_equal(f.run.dropped, 1);
	page_state_free(&ps);
	tx_commit(&f);

	tx_read(&f, "spend", &spend);
	assert_int_equal(spend.count, 2);
	row = tx_find(&spend, "campaign_id", "111", &date);
	assert_int_equal(date, tx_date("2024-06-01"));
	assert_string_equal(tx_str(row, "date"), "2024-06-01");
	assert_string_equal(tx_str(row, "platform"), "google_ads");
	assert_string_equal(tx_str(row, "account_id"), "1234567890");
	assert_string_equal(tx_str(row, "campaign_name"), "Brand - Search");
	assert_string_equal(tx_str(row, "campaign"), "Brand - Search");
	assert_string_equal(tx_str(row, "source"), "adwords");
	assert_string_equal(tx_str(row, "medium"), "cpc");
	assert_int_equal(tx_int(row, "clicks"), 204);
	assert_int_equal(tx_int(row, "impressions"), 3120);
	/* 1061083620 micros = 1061.08362 USD */
	assert_int_equal(tx_int(row, "cost_minor"), 106108);
	assert_string_equal(tx_str(row, "currency"), "USD");
	/* metrics left out (zero in proto3 JSON) are 0 */
	row = tx_find(&spend, "campaign_id", "222", NULL);
	assert_int_equal(tx_int(row, "clicks"), 0);
	assert_int_equal(tx_int(row, "cost_minor"), 0);
	assert_int_equal(tx_int(row, "impressions"), 57);
	tx_rows_free(&spend);
	tx_close(&f);
}


static void
test_extract_google_ads_currency_exponent(void **state)
{
	ExtractFixture f = { 0 };
	SourceStream st;
	PageState ps;
	ClError err;
	RowSet spend;
	const JsonValue *row;

	(void) state;
	open_window(&f, "2024-06-01", "2024-06-30", "");
	tx_next_stream(&f, &st);
	tx_next_stream(&f, &st);
	assert_string_equal(st.label, "customer 1112223333");
	page_state_init(&ps);
	/* JPY has no minor unit; the account id comes from the stream when the
	 * row does not carry it */
	assert_true(tx_feed_text(&f, &st, &ps,
							 "[{\"results\":[{\"customer\":{\"currencyCode\":\"JPY\"},"
							 "\"campaign\":{\"id\":\"9\",\"name\":\"Tokyo\"},"
							 "\"metrics\":{\"costMicros\":\"1500500000\",\"clicks\":\"3\"},"
							 "\"segments\":{\"date\":\"2024-06-10\"}}]}]",
							 &err));
	page_state_free(&ps);
	tx_commit(&f);
	tx_read(&f, "spend", &spend);
	assert_int_equal(spend.count, 1);
	row = tx_find(&spend, "campaign_id", "9", NULL);
	assert_string_equal(tx_str(row, "account_id"), "1112223333");
	assert_int_equal(tx_int(row, "cost_minor"), 1501);
	assert_string_equal(tx_str(row, "currency"), "JPY");
	tx_rows_free(&spend);
	tx_close(&f);
}


static void
test_extract_google_ads_stream_errors(void **state)
{
	ExtractFixture f = { 0 };
	SourceStream st;
	PageState ps;
	ClError err;
	static const char quota[] =
		"[{\"results\":[{\"customer\":{\"id\":\"1\",\"currencyCode\":\"USD\"},"
		"\"campaign\":{\"id\":\"5\"},\"segments\":{\"date\":\"2024-06-02\"}}]},"
		"{\"error\":{\"code\":429,\"message\":\"Resource has been exhausted (e.g. check quota).\","
		"\"status\":\"RESOURCE_EXHAUSTED\"}}]";
	static const char invalid[] =
		"[{\"error\":{\"code\":400,\"message\":\"Request contains an invalid argument.\","
		"\"status\":\"INVALID_ARGUMENT\",\"details\":[{\"errors\":[{\"errorCode\":"
		"{\"queryError\":\"UNRECOGNIZED_FIELD\"},\"message\":\"Unrecognized field\"}]}]}}]";

	(void) state;
	open_window(&f, "2024-06-01", "2024-06-30", "");
	tx_next_stream(&f, &st);
	page_state_init(&ps);
	assert_false(tx_feed_text(&f, &st, &ps, quota, &err));
	assert_int_equal(err, CL_ERR_TEMPORARY);
	page_state_free(&ps);
	page_state_init(&ps);
	assert_false(tx_feed_text(&f, &st, &ps, invalid, &err));
	assert_int_equal(err, CL_ERR_DATA);
	page_state_free(&ps);
	/* an object where the batches belong */
	page_state_init(&ps);
	assert_false(tx_feed_text(&f, &st, &ps, "{\"results\":[]}", &err));
	assert_int_equal(err, CL_ERR_DATA);
	page_state_free(&ps);
	/* a stream cut off in the middle */
	page_state_init(&ps);
	assert_false(tx_feed_text(&f, &st, &ps, "[{\"results\":[{\"customer\":", &err));
	assert_int_equal(err, CL_ERR_DATA);
	page_state_free(&ps);
	tx_close(&f);
}


static void
test_extract_google_ads_error_body(void **state)
{
	HttpResponse resp;
	char msg[1024];
	int64_t delay = -1;

	(void) state;
	tx_error_response(&resp, 429, "vendors/google_ads/error_429_resource_exhausted.json");
	assert_int_equal(vendor_google_ads.classify(NULL, &resp, &delay), HTTP_VERDICT_RETRY);
	assert_int_equal(delay, INT64_C(40591000));
	assert_int_equal(vendor_google_ads.explain_error(&resp, msg, sizeof(msg)), CL_ERR_TEMPORARY);
	assert_non_null(strstr(msg, "RESOURCE_EXHAUSTED"));
	assert_non_null(strstr(msg, "Too many requests. Retry in 40591 seconds."));
	assert_non_null(strstr(msg, "DEVELOPER"));
	assert_non_null(strstr(msg, "40591s"));
	assert_non_null(strstr(msg, "xN_KaZRHZuU6Rlgt3cM2uQ"));
	http_response_reset(&resp);

	/* an expired access token is refreshed */
	memset(&resp, 0, sizeof(resp));
	resp.status = 401;
	assert_int_equal(vendor_google_ads.classify(NULL, &resp, &delay), HTTP_VERDICT_REAUTH);
}


/*
 * A token endpoint on loopback: it grants an access token for the refresh
 * token "rtoken" and refuses anything else the way Google does (400
 * invalid_grant). It keeps the last form it was sent.
 */
typedef struct TokenServer
{
	struct MHD_Daemon *daemon;
	unsigned short port;
	char form[1024];
	size_t formlen;
	int marker;
} TokenServer;

static enum MHD_Result
token_handler(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
			  const char *version, const char *upload_data, size_t *upload_data_size,
			  void **con_cls)
{
	TokenServer *ts = cls;
	const char *ok_body = "{\"access_token\":\"ya29.test-access\",\"expires_in\":3599,"
		"\"token_type\":\"Bearer\"}";
	const char *refused = "{\"error\":\"invalid_grant\",\"error_description\":\"Bad Request\"}";
	const char *body;
	struct MHD_Response *resp;
	enum MHD_Result ret;
	unsigned status;

	(void) url;
	(void) version;
	if (*con_cls == NULL)
	{
		*con_cls = &ts->marker;
		ts->formlen = 0;
		ts->form[0] = '\0';
		return MHD_YES;
	}
	if (*upload_data_size > 0)
	{
		size_t take = *upload_data_size;

		if (take > sizeof(ts->form) - 1 - ts->formlen)
			take = sizeof(ts->form) - 1 - ts->formlen;
		memcpy(ts->form + ts->formlen, upload_data, take);
		ts->formlen += take;
		ts->form[ts->formlen] = '\0';
		*upload_data_size = 0;
		return MHD_YES;
	}
	status = strcmp(method, "POST") == 0 && strstr(ts->form, "refresh_token=rtoken") != NULL
		? 200 : 400;
	body = status == 200 ? ok_body : refused;
	resp = MHD_create_response_from_buffer(strlen(body), (void *) body, MHD_RESPMEM_PERSISTENT);
	MHD_add_response_header(resp, "Content-Type", "application/json");
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void
token_server_start(TokenServer *ts)
{
	const union MHD_DaemonInfo *info;

	memset(ts, 0, sizeof(*ts));
	ts->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL,
								  token_handler, ts,
								  MHD_OPTION_SOCK_ADDR, NULL, MHD_OPTION_END);
	assert_non_null(ts->daemon);
	info = MHD_get_daemon_info(ts->daemon, MHD_DAEMON_INFO_BIND_PORT);
	assert_non_null(info);
	ts->port = info->port;
}

static void
token_server_stop(TokenServer *ts)
{
	MHD_stop_daemon(ts->daemon);
}

/*
 * open_with_token_server opens the vendor with token_url on ts and an
 * HTTP client that does not retry.
 */
static void
open_with_token_server(ExtractFixture *f, TokenServer *ts, const char *refresh_token,
					   const char *extra)
{
	char ini[1024];
	HttpOptions opts;
	ClError err;

	snprintf(ini, sizeof(ini),
			 "[ads.google_ads]\nenabled = true\nbase_url = http://127.0.0.1:9/\n"
			 "token_url = http://127.0.0.1:%u/token\nclient_id = cid\nclient_secret = cs&ecret\n"
			 "refresh_token = %s\ndeveloper_token = devtoken\ncustomer_ids = 123-456-7890\n%s",
			 (unsigned) ts->port, refresh_token, extra);
	tx_cli_window(f, "2024-06-01", "2024-06-07");
	assert_true(tx_open(f, &vendor_google_ads, ini, &err));
	http_options_default(&opts);
	opts.retry.max_attempts = 1;
	f->run.http = http_client_new(&opts);
	assert_non_null(f->run.http);
}

static void
test_extract_google_ads_request(void **state)
{
	ExtractFixture f = { 0 };
	TokenServer ts;
	SourceStream st;
	SourceRequest req;
	SourcePage page = { 1, 0, NULL };
	ClError err = CL_OK;
	JsonValue *body;

	(void) state;
	token_server_start(&ts);
	open_with_token_server(&f, &ts, "rtoken", "login_customer_id = 999-888-7777\napi_version = v18\n");
	assert_true(vendor_google_ads.authenticate(f.state, &f.run, false, &err));
	assert_string_equal(ts.form, "grant_type=refresh_token&client_id=cid&client_secret=cs%26ecret"
						"&refresh_token=rtoken");

	tx_next_stream(&f, &st);
	tx_request(&f, &st, &page, &req);
	assert_string_equal(req.method, "POST");
	assert_string_equal(tb_text(&req.url),
						"http://127.0.0.1:9/v18/customers/1234567890/googleAds:searchStream");
	assert_true(tx_has_header(&req, "Authorization: Bearer ya29.test-access"));
	assert_true(tx_has_header(&req, "developer-token: devtoken"));
	assert_true(tx_has_header(&req, "login-customer-id: 9998887777"));
	assert_true(tx_has_header(&req, "Content-Type: application/json"));
	body = json_parse(tb_text(&req.body), req.body.len, NULL, 0);
	assert_non_null(body);
	assert_string_equal(json_string(json_member(body, "query")),
						"SELECT customer.id, customer.currency_code, customer.tracking_url_template, "
						"customer.final_url_suffix, campaign.id, campaign.name, "
						"campaign.tracking_url_template, campaign.final_url_suffix, "
						"metrics.cost_micros, metrics.clicks, metrics.impressions, segments.date "
						"FROM campaign WHERE segments.date BETWEEN '2024-06-01' AND '2024-06-07'");
	json_free(body);
	tx_request_free(&req);

	/* a fresh token is not fetched again; a forced refresh is */
	ts.form[0] = '\0';
	assert_true(vendor_google_ads.authenticate(f.state, &f.run, false, &err));
	assert_string_equal(ts.form, "");
	assert_true(vendor_google_ads.authenticate(f.state, &f.run, true, &err));
	assert_non_null(strstr(ts.form, "grant_type=refresh_token"));

	http_client_free(f.run.http);
	tx_close(&f);
	token_server_stop(&ts);
}


static void
test_extract_google_ads_refused_grant(void **state)
{
	ExtractFixture f = { 0 };
	TokenServer ts;
	SourceStream st;
	ClError err = CL_OK;

	(void) state;
	token_server_start(&ts);
	open_with_token_server(&f, &ts, "revoked", "");
	tx_next_stream(&f, &st);
	/* a refused refresh token is the operator's to fix: 78, not a retry */
	assert_false(vendor_google_ads.authenticate(f.state, &f.run, false, &err));
	assert_int_equal(err, CL_ERR_CONFIG);
	http_client_free(f.run.http);
	tx_close(&f);
	token_server_stop(&ts);
}


static void
test_extract_google_ads_config(void **state)
{
	ExtractFixture f = { 0 };
	ClError err;
	char ini[1024];

	(void) state;
	snprintf(ini, sizeof(ini), "%s", "[ads.google_ads]\nenabled = true\ncustomer_ids = 1\n");
	assert_false(tx_open(&f, &vendor_google_ads, ini, &err));
	assert_int_equal(err, CL_ERR_CONFIG);
	tx_close(&f);

	memset(&f, 0, sizeof(f));
	snprintf(ini, sizeof(ini), "%s", "[ads.google_ads]\nenabled = true\nclient_id = c\n"
			 "client_secret = s\nrefresh_token = r\ndeveloper_token = d\ncustomer_ids = 12a-3\n");
	assert_false(tx_open(&f, &vendor_google_ads, ini, &err));
	assert_int_equal(err, CL_ERR_CONFIG);
	tx_close(&f);

	/* the default window re-pulls the last lookback_days, ending yesterday */
	memset(&f, 0, sizeof(f));
	snprintf(ini, sizeof(ini), "%slookback_days = 3\n", ads_ini);
	assert_true(tx_open(&f, &vendor_google_ads, ini, &err));
	assert_int_equal(f.run.window.from, f.run.today - 3);
	assert_int_equal(f.run.window.to, f.run.today - 1);
	tx_close(&f);
}



static void
test_extract_google_ads_ad_level_utm(void **state)
{
	ExtractFixture f = { 0 };
	SourceStream st;
	PageState ps;
	ClError err;
	RowSet spend;
	const JsonValue *row;

	(void) state;
	open_window(&f, "2024-06-01", "2024-06-30",
				"level = ad\naccount_utm = 123-456-7890=adwords/ppc\n");
	tx_next_stream(&f, &st);
	/* an ad-level row without its ad is refused */
	page_state_init(&ps);
	assert_false(tx_feed_text(&f, &st, &ps,
		"[{\"results\":[{\"customer\":{\"currencyCode\":\"USD\"},\"campaign\":{\"id\":\"1\"},"
		"\"adGroup\":{\"id\":\"2\"},\"segments\":{\"date\":\"2024-06-04\"}}]}]", &err));
	assert_int_equal(err, CL_ERR_DATA);
	page_state_free(&ps);
	page_state_init(&ps);
	assert_true(tx_feed_text(&f, &st, &ps,
		"[{\"results\":["
		/* the ad's suffix tags everything; {campaignid} is resolved */
		"{\"customer\":{\"id\":\"1234567890\",\"currencyCode\":\"USD\","
		"\"finalUrlSuffix\":\"utm_source=acct\"},"
		"\"campaign\":{\"id\":\"11\",\"name\":\"Brand\",\"trackingUrlTemplate\":"
		"\"{lpurl}?utm_source=tmpl&utm_medium=cpc&utm_campaign=brand_{campaignid}\"},"
		"\"adGroup\":{\"id\":\"21\",\"finalUrlSuffix\":\"utm_medium=paidsearch\"},"
		"\"adGroupAd\":{\"ad\":{\"id\":\"31\",\"finalUrlSuffix\":"
		"\"utm_source=google&utm_content={creative}\"}},"
		"\"metrics\":{\"costMicros\":\"2500000\",\"clicks\":\"2\",\"impressions\":\"40\"},"
		"\"segments\":{\"date\":\"2024-06-03\"}},"
		/* a custom parameter cannot be resolved: the next level's value is
		 * used, then the account fallback, then the campaign name */
		"{\"customer\":{\"id\":\"1234567890\",\"currencyCode\":\"USD\"},"
		"\"campaign\":{\"id\":\"12\",\"name\":\"Generic Terms\",\"finalUrlSuffix\":"
		"\"utm_campaign={_campaign}\"},"
		"\"adGroup\":{\"id\":\"22\"},\"adGroupAd\":{\"ad\":{\"id\":\"32\"}},"
		"\"metrics\":{\"costMicros\":\"1000000\"},\"segments\":{\"date\":\"2024-06-04\"}}"
		"]}]", &err));
	page_state_free(&ps);
	tx_commit(&f);
	tx_read(&f, "spend", &spend);
	assert_int_equal(spend.count, 2);
	row = tx_find(&spend, "ad_id", "31", NULL);
	assert_string_equal(tx_str(row, "adgroup_id"), "21");
	assert_string_equal(tx_str(row, "campaign_id"), "11");
	assert_string_equal(tx_str(row, "source"), "google");
	assert_string_equal(tx_str(row, "medium"), "paidsearch");
	assert_string_equal(tx_str(row, "campaign"), "brand_11");
	assert_string_equal(tx_str(row, "campaign_name"), "Brand");
	assert_int_equal(tx_int(row, "cost_minor"), 250);
	row = tx_find(&spend, "ad_id", "32", NULL);
	assert_string_equal(tx_str(row, "source"), "adwords");
	assert_string_equal(tx_str(row, "medium"), "ppc");
	assert_string_equal(tx_str(row, "campaign"), "Generic Terms");
	tx_rows_free(&spend);

	tx_close(&f);
}


static void
test_extract_google_ads_ad_level_query(void **state)
{
	ExtractFixture f = { 0 };
	TokenServer ts;
	SourceStream st;
	SourceRequest req;
	SourcePage page = { 1, 0, NULL };
	ClError err = CL_OK;
	JsonValue *body;
	const char *query;

	(void) state;
	token_server_start(&ts);
	open_with_token_server(&f, &ts, "rtoken", "level = ad\n");
	assert_true(vendor_google_ads.authenticate(f.state, &f.run, false, &err));
	tx_next_stream(&f, &st);
	tx_request(&f, &st, &page, &req);
	body = json_parse(tb_text(&req.body), req.body.len, NULL, 0);
	assert_non_null(body);
	query = json_string(json_member(body, "query"));
	/* the ad, its ad group and the tracking settings of every level */
	assert_non_null(strstr(query, "customer.tracking_url_template, customer.final_url_suffix, "
						   "campaign.id, campaign.name, campaign.tracking_url_template, "
						   "campaign.final_url_suffix, ad_group.id, ad_group.name, "
						   "ad_group.tracking_url_template, ad_group.final_url_suffix, "
						   "ad_group_ad.ad.id, ad_group_ad.ad.tracking_url_template, "
						   "ad_group_ad.ad.final_url_suffix, metrics.cost_micros"));
	assert_non_null(strstr(query, " FROM ad_group_ad WHERE segments.date BETWEEN "
						   "'2024-06-01' AND '2024-06-07'"));
	json_free(body);
	tx_request_free(&req);
	http_client_free(f.run.http);
	tx_close(&f);
	token_server_stop(&ts);
}


static void
test_extract_google_ads_accessible_customers(void **state)
{
	ExtractFixture f = { 0 };
	SourceStream st;
	PageState ps;
	ClError err = CL_OK;
	bool more = true;
	char ini[512];

	(void) state;
	snprintf(ini, sizeof(ini), "%s",
			 "[ads.google_ads]\nenabled = true\nbase_url = http://127.0.0.1:9\n"
			 "token_url = http://127.0.0.1:9/token\nclient_id = cid\nclient_secret = cs\n"
			 "refresh_token = rt\ndeveloper_token = devtoken\ncustomer_ids = all\n"
			 "level = ad_group\n");
	tx_cli_window(&f, "2024-06-01", "2024-06-02");
	assert_true(tx_open(&f, &vendor_google_ads, ini, &err));
	tx_next_stream(&f, &st);
	assert_string_equal(st.label, "accessible customers");
	page_state_init(&ps);
	/* a retried attempt maps the list again: each customer is kept once */
	assert_true(tx_feed_text(&f, &st, &ps, "{\"resourceNames\":[\"customers/1234567890\","
							 "\"customers/5550001111\",\"customers/1234567890\","
							 "\"customers/7770002222\"]}", &err));
	page_state_free(&ps);
	/* each listed customer is asked whether it is a manager before its
	 * metrics; proto3 JSON leaves out manager = false */
	tx_next_stream(&f, &st);
	assert_string_equal(st.label, "customer 1234567890 (manager?)");
	assert_int_equal(st.paging, SOURCE_PAGING_STREAM);
	page_state_init(&ps);
	assert_true(tx_feed_text(&f, &st, &ps, "[{\"results\":[{\"customer\":{\"id\":"
							 "\"1234567890\",\"currencyCode\":\"USD\"}}]}]", &err));
	page_state_free(&ps);
	tx_next_stream(&f, &st);
	assert_string_equal(st.label, "customer 1234567890");
	/* a manager (MCC) account is skipped: no metrics stream */
	tx_next_stream(&f, &st);
	assert_string_equal(st.label, "customer 5550001111 (manager?)");
	page_state_init(&ps);
	assert_true(tx_feed_text(&f, &st, &ps, "[{\"results\":[{\"customer\":{\"id\":"
							 "\"5550001111\",\"manager\":true,\"currencyCode\":\"USD\"}}]}]",
							 &err));
	page_state_free(&ps);
	tx_next_stream(&f, &st);
	assert_string_equal(st.label, "customer 7770002222 (manager?)");
	page_state_init(&ps);
	assert_true(tx_feed_text(&f, &st, &ps, "[{\"results\":[{\"customer\":{\"id\":"
							 "\"7770002222\",\"manager\":false,\"currencyCode\":\"EUR\"}}]}]",
							 &err));
	page_state_free(&ps);
	tx_next_stream(&f, &st);
	assert_string_equal(st.label, "customer 7770002222");
	assert_true(vendor_google_ads.next_stream(f.state, &f.run, &st, &more, &err));
	assert_false(more);
	tx_close(&f);

	/* a customer query without the customer's row: whether it is a
	 * manager is unknown, so the run stops rather than guess */
	memset(&f, 0, sizeof(f));
	tx_cli_window(&f, "2024-06-01", "2024-06-02");
	assert_true(tx_open(&f, &vendor_google_ads, ini, &err));
	tx_next_stream(&f, &st);
	page_state_init(&ps);
	assert_true(tx_feed_text(&f, &st, &ps, "{\"resourceNames\":[\"customers/1234567890\"]}",
							 &err));
	page_state_free(&ps);
	tx_next_stream(&f, &st);
	page_state_init(&ps);
	assert_true(tx_feed_text(&f, &st, &ps, "[]", &err));
	page_state_free(&ps);
	err = CL_OK;
	assert_false(vendor_google_ads.next_stream(f.state, &f.run, &st, &more, &err));
	assert_int_equal(err, CL_ERR_DATA);
	tx_close(&f);

	/* a row of another customer is refused */
	memset(&f, 0, sizeof(f));
	tx_cli_window(&f, "2024-06-01", "2024-06-02");
	assert_true(tx_open(&f, &vendor_google_ads, ini, &err));
	tx_next_stream(&f, &st);
	page_state_init(&ps);
	assert_true(tx_feed_text(&f, &st, &ps, "{\"resourceNames\":[\"customers/1234567890\"]}",
							 &err));
	page_state_free(&ps);
	tx_next_stream(&f, &st);
	page_state_init(&ps);
	assert_false(tx_feed_text(&f, &st, &ps, "[{\"results\":[{\"customer\":{\"id\":"
							  "\"9999999999\"}}]}]", &err));
	assert_int_equal(err, CL_ERR_DATA);
	page_state_free(&ps);
	tx_close(&f);

	/* a name that is not a customer's */
	memset(&f, 0, sizeof(f));
	tx_cli_window(&f, "2024-06-01", "2024-06-02");
	assert_true(tx_open(&f, &vendor_google_ads, ini, &err));
	tx_next_stream(&f, &st);
	page_state_init(&ps);
	assert_false(tx_feed_text(&f, &st, &ps, "{\"resourceNames\":[\"campaigns/1\"]}", &err));
	assert_int_equal(err, CL_ERR_DATA);
	page_state_free(&ps);
	tx_close(&f);
}


static void
test_extract_google_ads_retry_delay_cap(void **state)
{
	ExtractFixture f = { 0 };
	HttpResponse resp;
	int64_t delay = -1;

	(void) state;
	/* the saved error asks for 40591 s: beyond a cap of 600 s, no retry */
	open_window(&f, "2024-06-01", "2024-06-02", "retry_delay_cap_seconds = 600\n");
	tx_error_response(&resp, 429, "vendors/google_ads/error_429_resource_exhausted.json");
	assert_int_equal(vendor_google_ads.classify(f.state, &resp, &delay), HTTP_VERDICT_FAIL);
	http_response_reset(&resp);
	tx_close(&f);
	/* within a cap of a day it is waited for (the retry budget decides) */
	memset(&f, 0, sizeof(f));
	open_window(&f, "2024-06-01", "2024-06-02", "retry_delay_cap_seconds = 86400\n");
	tx_error_response(&resp, 429, "vendors/google_ads/error_429_resource_exhausted.json");
	assert_int_equal(vendor_google_ads.classify(f.state, &resp, &delay), HTTP_VERDICT_RETRY);
	assert_int_equal(delay, INT64_C(40591000));
	http_response_reset(&resp);
	tx_close(&f);
}


/*
 * stream_quota_error: a searchStream answer whose second batch is a
 * RESOURCE_EXHAUSTED error naming retry_delay (none when NULL), parsed.
 * The tree is ALLOCATED (json_free).
 */
static JsonValue *
stream_quota_error(const char *status, const char *retry_delay)
{
	char text[1024];
	char details[256] = "";
	JsonValue *v;

	if (retry_delay != NULL)
		snprintf(details, sizeof(details),
				 ",\"details\":[{\"errors\":[{\"errorCode\":{\"quotaError\":"
				 "\"RESOURCE_EXHAUSTED\"},\"message\":\"Too many requests.\",\"details\":"
				 "{\"quotaErrorDetails\":{\"rateScope\":\"ACCOUNT\",\"retryDelay\":\"%s\"}}}]}]",
				 retry_delay);
	snprintf(text, sizeof(text),
			 "[{\"results\":[{\"customer\":{\"id\":\"1\",\"currencyCode\":\"USD\"},"
			 "\"campaign\":{\"id\":\"5\"},\"segments\":{\"date\":\"2024-06-02\"}}]},"
			 "{\"error\":{\"code\":429,\"message\":\"Resource has been exhausted.\","
			 "\"status\":\"%s\"%s}}]", status, details);
	v = json_parse(text, strlen(text), NULL, 0);
	assert_non_null(v);
	return v;
}


static void
test_extract_google_ads_stream_quota_retry(void **state)
{
	ExtractFixture f = { 0 };
	SourceStream st;
	JsonValue *env;
	int64_t delay = -7;
	ClError err = CL_OK;

	(void) state;
	open_window(&f, "2024-06-01", "2024-06-30", "retry_delay_cap_seconds = 60\n");
	tx_next_stream(&f, &st);
	assert_non_null(vendor_google_ads.retry_envelope);

	/* a short retryDelay inside the stream: fetch the stream again then */
	env = stream_quota_error("RESOURCE_EXHAUSTED", "1s");
	assert_true(vendor_google_ads.retry_envelope(f.state, &st, env, &delay));
	assert_int_equal(delay, 1000);
	json_free(env);
	/* none named: the retry policy's back-off */
	env = stream_quota_error("RESOURCE_EXHAUSTED", NULL);
	assert_true(vendor_google_ads.retry_envelope(f.state, &st, env, &delay));
	assert_int_equal(delay, -1);
	json_free(env);
	/* beyond retry_delay_cap_seconds: no retry, and the error batch still
	 * ends the run as temporary (exit 75) */
	env = stream_quota_error("RESOURCE_EXHAUSTED", "40591s");
	assert_false(vendor_google_ads.retry_envelope(f.state, &st, env, &delay));
	assert_false(vendor_google_ads.check_envelope(f.state, &st, env, &err));
	assert_int_equal(err, CL_ERR_TEMPORARY);
	json_free(env);
	/* other errors inside the stream are not retried */
	env = stream_quota_error("UNAVAILABLE", "1s");
	assert_false(vendor_google_ads.retry_envelope(f.state, &st, env, &delay));
	json_free(env);
	env = stream_quota_error("INVALID_ARGUMENT", NULL);
	assert_false(vendor_google_ads.retry_envelope(f.state, &st, env, &delay));
	json_free(env);
	/* a stream without an error batch */
	env = json_parse("[{\"results\":[]}]", strlen("[{\"results\":[]}]"), NULL, 0);
	assert_non_null(env);
	assert_false(vendor_google_ads.retry_envelope(f.state, &st, env, &delay));
	json_free(env);
	tx_close(&f);
}


static void
test_extract_google_ads_bad_level(void **state)
{
	ExtractFixture f = { 0 };
	ClError err = CL_OK;
	char ini[1024];

	(void) state;
	snprintf(ini, sizeof(ini), "%slevel = keyword\n", ads_ini);
	assert_false(tx_open(&f, &vendor_google_ads, ini, &err));
	assert_int_equal(err, CL_ERR_CONFIG);
	tx_close(&f);
	memset(&f, 0, sizeof(f));
	snprintf(ini, sizeof(ini), "%saccount_utm = 123=google\n", ads_ini);
	assert_false(tx_open(&f, &vendor_google_ads, ini, &err));
	assert_int_equal(err, CL_ERR_CONFIG);
	tx_close(&f);
}

int
main(void)
{
	int failed;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_extract_google_ads_saved_stream_lacks_currency),
		cmocka_unit_test(test_extract_google_ads_saved_stream_outside_window),
		cmocka_unit_test(test_extract_google_ads_complete_stream),
		cmocka_unit_test(test_extract_google_ads_currency_exponent),
		cmocka_unit_test(test_extract_google_ads_stream_errors),
		cmocka_unit_test(test_extract_google_ads_error_body),
		cmocka_unit_test(test_extract_google_ads_request),
		cmocka_unit_test(test_extract_google_ads_refused_grant),
		cmocka_unit_test(test_extract_google_ads_config),
		cmocka_unit_test(test_extract_google_ads_ad_level_utm),
		cmocka_unit_test(test_extract_google_ads_ad_level_query),
		cmocka_unit_test(test_extract_google_ads_accessible_customers),
		cmocka_unit_test(test_extract_google_ads_retry_delay_cap),
		cmocka_unit_test(test_extract_google_ads_stream_quota_retry),
		cmocka_unit_test(test_extract_google_ads_bad_level),
	};
	assert_true(http_global_init());
	failed = cmocka_run_group_tests(tests, NULL, NULL);
	http_global_cleanup();
	return failed;
}
