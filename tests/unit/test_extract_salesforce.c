/*
 * test_extract_salesforce.c: the Salesforce vendor on the saved Salesforce
 * payloads (shared/fixtures/vendors/salesforce), on query pages of the six
 * objects in the REST shape (tests/data/extract/salesforce_*.json), and the
 * watermark state it keeps (extract/state.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/stat.h>
#include <microhttpd.h>

#include "support.h"
#include "test_extract_support.h"

#include "registry.h"
#include "state.h"
#include "urlquery.h"

static const char base_ini[] =
	"[crm.salesforce]\nenabled = true\nclient_id = cid\nclient_secret = csecret\n"
	"refresh_token = rtoken\npage_size = 200\n";

/*
 * A login host on loopback: the refresh-token grant answers with an
 * access token and an instance_url on the same server, and with a new
 * refresh token when rotate is set. It counts the grants and keeps the
 * last form.
 */
typedef struct LoginServer
{
	struct MHD_Daemon *daemon;
	unsigned short port;
	bool rotate;
	int grants;
	char form[1024];
	size_t formlen;
	int marker;
} LoginServer;

static enum MHD_Result
login_handler(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
			  const char *version, const char *upload_data, size_t *upload_data_size,
			  void **con_cls)
{
	LoginServer *ls = cls;
	char body[512];
	struct MHD_Response *resp;
	enum MHD_Result ret;

	(void) version;
	(void) method;
	if (*con_cls == NULL)
	{
		*con_cls = &ls->marker;
		ls->formlen = 0;
		ls->form[0] = '\0';
		return MHD_YES;
	}
	if (*upload_data_size > 0)
	{
		size_t take = *upload_data_size;

		if (take > sizeof(ls->form) - 1 - ls->formlen)
			take = sizeof(ls->form) - 1 - ls->formlen;
		memcpy(ls->form + ls->formlen, upload_data, take);
		ls->formlen += take;
		ls->form[ls->formlen] = '\0';
		*upload_data_size = 0;
		return MHD_YES;
	}
	assert_string_equal(url, "/services/oauth2/token");
	ls->grants++;
	snprintf(body, sizeof(body),
			 "{\"access_token\":\"00Dtest!access-%d\",\"instance_url\":\"http://127.0.0.1:%u/\","
			 "\"id\":\"https://login.salesforce.com/id/00D/005\",\"token_type\":\"Bearer\","
			 "\"issued_at\":\"1764100000000\",\"signature\":\"sig\"%s}",
			 ls->grants, (unsigned) ls->port,
			 ls->rotate ? ",\"refresh_token\":\"rotated-refresh-2\"" : "");
	resp = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_COPY);
	MHD_add_response_header(resp, "Content-Type", "application/json");
	ret = MHD_queue_response(conn, 200, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void
login_start(LoginServer *ls)
{
	const union MHD_DaemonInfo *info;

	memset(ls, 0, sizeof(*ls));
	ls->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL,
								  login_handler, ls, MHD_OPTION_SOCK_ADDR, NULL, MHD_OPTION_END);
	assert_non_null(ls->daemon);
	info = MHD_get_daemon_info(ls->daemon, MHD_DAEMON_INFO_BIND_PORT);
	assert_non_null(info);
	ls->port = info->port;
}

/*
 * sf_open opens Salesforce on base_ini plus extra, with base_url on ls
 * when given, and an HTTP client that does not retry.
 */
static bool
sf_open(ExtractFixture *f, LoginServer *ls, const char *extra, ClError *err)
{
	char ini[2048];
	HttpOptions opts;
	bool ok;

	snprintf(ini, sizeof(ini), "%sbase_url = http://127.0.0.1:%u/\n%s", base_ini,
			 ls != NULL ? (unsigned) ls->port : 9u, extra);
	ok = tx_open(f, &vendor_salesforce, ini, err);
	http_options_default(&opts);
	opts.retry.max_attempts = 1;
	f->run.http = http_client_new(&opts);
	assert_non_null(f->run.http);
	return ok;
}

static void
sf_close(ExtractFixture *f)
{
	http_client_free(f->run.http);
	f->run.http = NULL;
	tx_close(f);
}

/* next_named advances to the stream called name. */
static void
next_named(ExtractFixture *f, const char *name, SourceStream *st)
{
	for (;;)
	{
		tx_next_stream(f, st);
		if (strcmp(st->name, name) == 0)
			return;
	}
}

/* feed_named advances to stream name and maps one page file of it. */
static void
feed_named(ExtractFixture *f, const char *name, const char *file, SourceStream *st)
{
	PageState ps;
	ClError err;

	next_named(f, name, st);
	page_state_init(&ps);
	assert_true(tx_feed_data(f, st, &ps, file, &err));
	assert_true(ps.done);
	page_state_free(&ps);
}

/*
 * request_soql builds the first request of st and returns the decoded
 * SOQL of its q parameter (ALLOCATED, caller frees); *url receives a copy
 * of the URL without the query when url is not NULL.
 */
static char *
request_soql(ExtractFixture *f, const SourceStream *st, char **url)
{
	SourceRequest req;
	SourcePage page = { 1, 0, NULL };
	char *q = NULL;

	tx_request(f, st, &page, &req);
	assert_true(url_query_param(tb_text(&req.url), "q", &q));
	assert_non_null(q);
	if (url != NULL)
	{
		*url = strndup(tb_text(&req.url), strcspn(tb_text(&req.url), "?"));
		assert_non_null(*url);
	}
	assert_true(tx_has_header(&req, "Sforce-Query-Options: batchSize=200"));
	tx_request_free(&req);
	return q;
}

static ClTime
run_upper(const ExtractFixture *f)
{
	return f->run.started_at - f->run.started_at % CL_USEC_PER_SEC;
}


static void
test_extract_salesforce_leads_and_contacts(void **state)
{
	ExtractFixture f = { 0 };
	SourceStream st;
	PageState ps;
	ClError err;
	RowSet leads;
	const JsonValue *lead;
	ClDate date;

	(void) state;
	assert_true(sf_open(&f, NULL, "", &err));
	next_named(&f, "Lead", &st);
	assert_string_equal(st.record_path, "records[]");
	page_state_init(&ps);
	assert_true(tx_feed_data(&f, &st, &ps, "salesforce_leads.json", &err));
	/* done:false: the next page is the nextRecordsUrl */
	assert_false(ps.done);
	assert_int_equal(ps.records, 3);
	assert_string_equal(ps.page.cursor, "/services/data/v63.0/query/01gD0000002HU6KIAW-2000");
	page_state_free(&ps);
	feed_named(&f, "Contact", "salesforce_contacts.json", &st);
	tx_commit(&f);

	tx_read(&f, "lead", &leads);
	assert_int_equal(leads.count, 4);
	lead = tx_find(&leads, "lead_id", "00QD000000LEAD1IAA", &date);
	assert_int_equal(date, f.run.today);
	assert_string_equal(tx_str(lead, "source_system"), "salesforce");
	assert_string_equal(tx_str(lead, "email"), "ana.lima@example.com");
	assert_string_equal(tx_str(lead, "created_at"), "2026-03-01T09:15:00Z");
	assert_string_equal(tx_str(lead, "updated_at"), "2026-03-02T11:00:00Z");
	assert_string_equal(tx_str(lead, "lifecycle_stage"), "Open - Not Contacted");
	assert_string_equal(tx_str(lead, "owner"), "005D000000OWNR1IAA");
	assert_string_equal(tx_str(lead, "lead_source"), "Web");
	assert_string_equal(tx_str(lead, "object"), "Lead");
	assert_false(tx_bool(lead, "is_deleted"));
	assert_null(json_member(lead, "crm_contact_id"));
	assert_null(json_member(lead, "is_converted"));

	/* converted: linked to its contact and opportunity */
	lead = tx_find(&leads, "lead_id", "00QD000000LEAD2IAA", NULL);
	assert_string_equal(tx_str(lead, "crm_contact_id"), "003D000000CONT2IAA");
	assert_true(tx_bool(lead, "is_converted"));
	assert_string_equal(tx_str(lead, "converted_at"), "2026-03-05T00:00:00Z");
	assert_string_equal(tx_str(lead, "converted_opportunity_id"), "006D000000OPP02IAA");

	/* deleted (queryAll): kept and marked; no email is omitted, not "" */
	lead = tx_find(&leads, "lead_id", "00QD000000LEAD3IAA", NULL);
	assert_true(tx_bool(lead, "is_deleted"));
	assert_null(json_member(lead, "email"));
	assert_string_equal(tx_str(lead, "updated_at"), "2026-03-04T00:00:01Z");

	/* a contact is a lead of its own id */
	lead = tx_find(&leads, "lead_id", "003D000000CONT2IAA", NULL);
	assert_string_equal(tx_str(lead, "crm_contact_id"), "003D000000CONT2IAA");
	assert_string_equal(tx_str(lead, "email"), "bo@example.com");
	assert_string_equal(tx_str(lead, "object"), "Contact");
	assert_null(json_member(lead, "lifecycle_stage"));

	tx_rows_free(&leads);
	sf_close(&f);
}


static void
test_extract_salesforce_opportunities_and_roles(void **state)
{
	ExtractFixture f = { 0 };
	LoginServer ls;
	SourceStream st;
	ClError err;
	RowSet deals;
	const JsonValue *deal;
	const JsonValue *ids;
	PageState ps;
	char *soql;

	(void) state;
	login_start(&ls);
	/* a lower bound: the role changes are read (see the windows test) */
	assert_true(sf_open(&f, &ls, "start_date = 2026-01-01\n", &err));
	assert_true(vendor_salesforce.authenticate(f.state, &f.run, false, &err));

	/* roles changed on OPP02 and OPP07 */
	feed_named(&f, "OpportunityContactRole", "salesforce_contact_roles.json", &st);
	tx_next_stream(&f, &st);
	assert_string_equal(st.name, "Opportunity");
	page_state_init(&ps);
	assert_true(tx_feed_data(&f, &st, &ps, "salesforce_opportunities.json", &err));
	page_state_free(&ps);
	soql = request_soql(&f, &st, NULL);
	/* the contact roles come along as a subquery */
	assert_non_null(strstr(soql, ",(SELECT ContactId,IsDeleted FROM OpportunityContactRoles) "
						   "FROM Opportunity WHERE SystemModstamp >= 2026-01-01T00:00:00Z AND "));
	free(soql);

	/* OPP02 was returned by the Opportunity query; only OPP07 is read again */
	tx_next_stream(&f, &st);
	assert_string_equal(st.name, "Opportunity (roles changed)");
	soql = request_soql(&f, &st, NULL);
	assert_non_null(strstr(soql, " FROM Opportunity WHERE Id IN ('006D000000OPP07IAA')"));
	assert_null(strstr(soql, "SystemModstamp >="));
	free(soql);
	tx_next_stream(&f, &st);
	assert_string_equal(st.name, "CampaignMember");
	tx_commit(&f);

	tx_read(&f, "deal", &deals);
	assert_int_equal(deals.count, 2);
	deal = tx_find(&deals, "deal_id", "006D000000OPP02IAA", NULL);
	assert_string_equal(tx_str(deal, "source_system"), "salesforce");
	assert_string_equal(tx_str(deal, "name"), "Bo - Annual");
	assert_int_equal(tx_int(deal, "amount_minor"), 1250050);
	assert_string_equal(tx_str(deal, "currency"), "USD");
	assert_string_equal(tx_str(deal, "stage"), "Closed Won");
	assert_true(tx_bool(deal, "is_closed"));
	assert_true(tx_bool(deal, "is_won"));
	assert_string_equal(tx_str(deal, "created_at"), "2026-03-05T16:30:00Z");
	assert_string_equal(tx_str(deal, "closed_at"), "2026-03-20T00:00:00Z");
	assert_string_equal(tx_str(deal, "updated_at"), "2026-03-20T12:00:00Z");
	assert_false(tx_bool(deal, "is_deleted"));
	/* the duplicate role counts once, the deleted one not at all */
	ids = json_member(deal, "contact_ids");
	assert_non_null(ids);
	assert_int_equal(ids->count, 1);
	assert_string_equal(json_string(ids->items[0]), "003D000000CONT2IAA");

	deal = tx_find(&deals, "deal_id", "006D000000OPP03IAA", NULL);
	assert_false(tx_bool(deal, "is_closed"));
	/* the CloseDate of an open opportunity is a forecast */
	assert_null(json_member(deal, "closed_at"));
	assert_null(json_member(deal, "amount_minor"));
	assert_int_equal(json_member(deal, "contact_ids")->count, 0);

	tx_rows_free(&deals);
	sf_close(&f);
	MHD_stop_daemon(ls.daemon);
}


static void
test_extract_salesforce_campaign_members(void **state)
{
	ExtractFixture f = { 0 };
	SourceStream st;
	ClError err;
	RowSet touches;
	const JsonValue *t;
	ClDate date;

	(void) state;
	assert_true(sf_open(&f, NULL, "campaign_source_field = UTM_Source__c\n", &err));
	feed_named(&f, "Campaign", "salesforce_campaigns.json", &st);
	feed_named(&f, "CampaignMember", "salesforce_campaign_members.json", &st);
	tx_commit(&f);

	/* not responded (MEM02) and deleted (MEM04) members are no touch */
	tx_read(&f, "touch", &touches);
	assert_int_equal(touches.count, 2);
	t = tx_find(&touches, "touch_id", "campaign-member-00vD000000MEM01IAA", &date);
	assert_int_equal(date, tx_date("2026-02-12"));
	assert_string_equal(tx_str(t, "source_system"), "salesforce");
	assert_string_equal(tx_str(t, "person.email"), "bo@example.com");
	assert_string_equal(tx_str(t, "person.crm_id"), "003D000000CONT2IAA");
	assert_string_equal(tx_str(t, "at"), "2026-02-12T00:00:00Z");
	assert_string_equal(tx_str(t, "kind"), "campaign_member");
	/* the campaign has no UTM_Source__c value: the defaults */
	assert_string_equal(tx_str(t, "source"), "salesforce");
	assert_string_equal(tx_str(t, "medium"), "webinar");
	assert_string_equal(tx_str(t, "campaign"), "Spring Webinar");
	assert_string_equal(tx_str(t, "campaign_id"), "701D000000AAA01IAA");
	assert_string_equal(tx_str(t, "campaign_type"), "Webinar");
	assert_string_equal(tx_str(t, "member_status"), "Attended");
	assert_string_equal(tx_str(t, "updated_at"), "2026-03-05T16:30:05Z");

	/* a Type outside the table: lower-cased, '_' for spaces; a lead member */
	t = tx_find(&touches, "touch_id", "campaign-member-00vD000000MEM03IAA", NULL);
	assert_string_equal(tx_str(t, "medium"), "customer_event");
	assert_string_equal(tx_str(t, "person.crm_id"), "00QD000000LEAD1IAA");

	tx_rows_free(&touches);
	sf_close(&f);
}


static void
test_extract_salesforce_campaign_utm_fields(void **state)
{
	ExtractFixture f = { 0 };
	SourceStream st;
	PageState ps;
	ClError err;
	RowSet touches;
	const JsonValue *t;
	const char *campaign =
		"{\"totalSize\":1,\"done\":true,\"records\":[{\"attributes\":{\"type\":\"Campaign\"},"
		"\"Id\":\"701X\",\"Name\":\"Spring\",\"Type\":\"Email\",\"UTM_Source__c\":\"newsletter\","
		"\"UTM_Medium__c\":\"email\",\"UTM_Campaign__c\":\"spring-2026\"}]}";
	const char *member =
		"{\"totalSize\":1,\"done\":true,\"records\":[{\"attributes\":{\"type\":\"CampaignMember\"},"
		"\"Id\":\"00vX\",\"CampaignId\":\"701X\",\"LeadId\":\"00QX\",\"HasResponded\":true,"
		"\"FirstRespondedDate\":\"2026-04-01\",\"SystemModstamp\":\"2026-04-01T10:00:00.000+0000\"}]}";

	(void) state;
	assert_true(sf_open(&f, NULL, "campaign_source_field = UTM_Source__c\n"
						"campaign_medium_field = UTM_Medium__c\ncampaign_utm_field = UTM_Campaign__c\n",
						&err));
	next_named(&f, "Campaign", &st);
	page_state_init(&ps);
	assert_true(tx_feed_text(&f, &st, &ps, campaign, &err));
	page_state_free(&ps);
	next_named(&f, "CampaignMember", &st);
	page_state_init(&ps);
	assert_true(tx_feed_text(&f, &st, &ps, member, &err));
	page_state_free(&ps);
	tx_commit(&f);
	tx_read(&f, "touch", &touches);
	assert_int_equal(touches.count, 1);
	t = tx_find(&touches, "touch_id", "campaign-member-00vX", NULL);
	assert_string_equal(tx_str(t, "source"), "newsletter");
	assert_string_equal(tx_str(t, "medium"), "email");
	assert_string_equal(tx_str(t, "campaign"), "spring-2026");
	assert_string_equal(tx_str(t, "person.crm_id"), "00QX");
	assert_null(json_member(t, "person.email"));
	tx_rows_free(&touches);
	sf_close(&f);
}


/*
 * The saved query page holds Account records, an object closedloop does
 * not read: mapped on the Lead query it is refused as data of the wrong
 * object, and nothing is written.
 */
static void
test_extract_salesforce_saved_query_page(void **state)
{
	ExtractFixture f = { 0 };
	SourceStream st;
	PageState ps;
	ClError err;
	RowSet leads;

	(void) state;
	assert_true(sf_open(&f, NULL, "", &err));
	next_named(&f, "Lead", &st);
	page_state_init(&ps);
	assert_false(tx_feed_fixture(&f, &st, &ps, "vendors/salesforce/query_response_page1.json", &err));
	assert_int_equal(err, CL_ERR_DATA);
	page_state_free(&ps);

	/* the documentation's sample elides records with "...": not JSON */
	page_state_init(&ps);
	assert_false(tx_feed_fixture(&f, &st, &ps, "vendors/salesforce/query_response.doc-verbatim.txt",
								 &err));
	assert_int_equal(err, CL_ERR_DATA);
	page_state_free(&ps);
	tx_commit(&f);
	tx_read(&f, "lead", &leads);
	assert_int_equal(leads.count, 0);
	tx_rows_free(&leads);
	sf_close(&f);
}


static void
test_extract_salesforce_bad_records(void **state)
{
	ExtractFixture f = { 0 };
	SourceStream st;
	PageState ps;
	ClError err;

	(void) state;
	assert_true(sf_open(&f, NULL, "", &err));
	next_named(&f, "Opportunity", &st);
	page_state_init(&ps);
	assert_false(tx_feed_text(&f, &st, &ps,
							  "{\"done\":true,\"records\":[{\"attributes\":{\"type\":\"Opportunity\"},"
							  "\"Name\":\"no id\"}]}", &err));
	assert_int_equal(err, CL_ERR_DATA);
	assert_false(tx_feed_text(&f, &st, &ps,
							  "{\"done\":true,\"records\":[{\"Id\":\"006A\",\"Amount\":\"abc\","
							  "\"CreatedDate\":\"2026-03-05T16:30:00.000+0000\","
							  "\"SystemModstamp\":\"2026-03-05T16:30:00.000+0000\"}]}", &err));
	assert_int_equal(err, CL_ERR_DATA);
	assert_false(tx_feed_text(&f, &st, &ps,
							  "{\"done\":true,\"records\":[{\"Id\":\"006A\",\"Amount\":1,"
							  "\"CreatedDate\":\"05/03/2026\","
							  "\"SystemModstamp\":\"2026-03-05T16:30:00.000+0000\"}]}", &err));
	assert_int_equal(err, CL_ERR_DATA);
	page_state_free(&ps);
	sf_close(&f);

	/* ids go into SOQL: an OpportunityId that is not an id is refused */
	memset(&f, 0, sizeof(f));
	assert_true(sf_open(&f, NULL, "start_date = 2026-01-01\n", &err));
	next_named(&f, "OpportunityContactRole", &st);
	page_state_init(&ps);
	assert_false(tx_feed_text(&f, &st, &ps,
							  "{\"done\":true,\"records\":[{\"Id\":\"00KD000000ROLE4IAA\","
							  "\"OpportunityId\":\"006') OR Name != ('\"}]}", &err));
	assert_int_equal(err, CL_ERR_DATA);
	page_state_free(&ps);
	sf_close(&f);
}


/*
 * Multi-currency orgs send CurrencyIsoCode; amounts are rounded to the
 * currency's digits through the money module.
 */
static void
test_extract_salesforce_multi_currency(void **state)
{
	ExtractFixture f = { 0 };
	SourceStream st;
	PageState ps;
	ClError err;
	RowSet deals;
	const JsonValue *deal;

	(void) state;
	assert_true(sf_open(&f, NULL, "multi_currency = true\nproduct_group_field = Product_Group__c\n",
						&err));
	next_named(&f, "Opportunity", &st);
	page_state_init(&ps);
	assert_true(tx_feed_text(&f, &st, &ps,
							 "{\"done\":true,\"records\":[{\"Id\":\"006J\",\"Amount\":150000.4,"
							 "\"CurrencyIsoCode\":\"JPY\",\"IsClosed\":true,\"IsWon\":true,"
							 "\"CloseDate\":\"2026-01-31\",\"Product_Group__c\":\"Cloud\","
							 "\"CreatedDate\":\"2026-01-05T16:30:00.000+0900\","
							 "\"SystemModstamp\":\"2026-02-01T00:00:00.000Z\"}]}", &err));
	page_state_free(&ps);
	tx_commit(&f);
	tx_read(&f, "deal", &deals);
	deal = tx_find(&deals, "deal_id", "006J", NULL);
	assert_int_equal(tx_int(deal, "amount_minor"), 150000);
	assert_string_equal(tx_str(deal, "currency"), "JPY");
	assert_string_equal(tx_str(deal, "product_group"), "Cloud");
	assert_string_equal(tx_str(deal, "created_at"), "2026-01-05T07:30:00Z");
	tx_rows_free(&deals);
	sf_close(&f);
}


/* error_response: a response with status and body text. */
static void
error_response(HttpResponse *resp, long status, const char *body)
{
	memset(resp, 0, sizeof(*resp));
	resp->status = status;
	resp->error_body = strdup(body);
	assert_non_null(resp->error_body);
	resp->error_body_len = strlen(body);
}


static void
test_extract_salesforce_error_classes(void **state)
{
	ExtractFixture f = { 0 };
	SourceStream st;
	HttpResponse resp;
	int64_t delay = -1;
	char msg[1024];
	ClError err;

	(void) state;
	assert_true(sf_open(&f, NULL, "", &err));

	/* the saved body: a transaction security policy; the admin must act */
	tx_error_response(&resp, 403, "vendors/salesforce/error_array_txn_security.json");
	assert_int_equal(vendor_salesforce.classify(f.state, &resp, &delay), HTTP_VERDICT_DEFAULT);
	assert_int_equal(vendor_salesforce.explain_error(&resp, msg, sizeof(msg)), CL_ERR_CONFIG);
	assert_non_null(strstr(msg, "HTTP 403: TXN_SECURITY_METERING_ERROR: We can't complete"));
	assert_non_null(strstr(msg, "ask the Salesforce admin"));
	http_response_reset(&resp);

	/* an expired session is refreshed */
	error_response(&resp, 401, "[{\"message\":\"Session expired or invalid\","
				   "\"errorCode\":\"INVALID_SESSION_ID\"}]");
	assert_int_equal(vendor_salesforce.classify(f.state, &resp, &delay), HTTP_VERDICT_REAUTH);
	http_response_reset(&resp);

	/* the daily quota: no retry, a temporary failure of the run (75) */
	error_response(&resp, 403, "[{\"message\":\"TotalRequests Limit exceeded.\","
				   "\"errorCode\":\"REQUEST_LIMIT_EXCEEDED\"}]");
	assert_int_equal(vendor_salesforce.classify(f.state, &resp, &delay), HTTP_VERDICT_FAIL);
	assert_int_equal(vendor_salesforce.explain_error(&resp, msg, sizeof(msg)), CL_ERR_TEMPORARY);
	http_response_reset(&resp);

	/* the concurrency limit clears: retried */
	error_response(&resp, 403, "[{\"message\":\"ConcurrentPerOrgLongTxn Limit exceeded.\","
				   "\"errorCode\":\"REQUEST_LIMIT_EXCEEDED\"}]");
	assert_int_equal(vendor_salesforce.classify(f.state, &resp, &delay), HTTP_VERDICT_RETRY);
	http_response_reset(&resp);

	/* a field the org does not have: configuration (78) */
	error_response(&resp, 400, "[{\"message\":\"No such column 'CurrencyIsoCode'\","
				   "\"errorCode\":\"INVALID_FIELD\"}]");
	assert_int_equal(vendor_salesforce.classify(f.state, &resp, &delay), HTTP_VERDICT_DEFAULT);
	assert_int_equal(vendor_salesforce.explain_error(&resp, msg, sizeof(msg)), CL_ERR_CONFIG);
	assert_non_null(strstr(msg, "multi_currency"));
	http_response_reset(&resp);

	/* a body that is not Salesforce's: the HTTP class stands */
	error_response(&resp, 502, "<html>bad gateway</html>");
	assert_int_equal(vendor_salesforce.classify(f.state, &resp, &delay), HTTP_VERDICT_DEFAULT);
	assert_int_equal(vendor_salesforce.explain_error(&resp, msg, sizeof(msg)), CL_OK);
	assert_non_null(strstr(msg, "HTTP 502"));
	http_response_reset(&resp);

	/* QUERY_TIMEOUT on a window: replaced by its two halves */
	next_named(&f, "Lead", &st);
	error_response(&resp, 400, "[{\"message\":\"Your query request was running for too long.\","
				   "\"errorCode\":\"QUERY_TIMEOUT\"}]");
	assert_int_equal(vendor_salesforce.classify(f.state, &resp, &delay), HTTP_VERDICT_FAIL);
	http_response_reset(&resp);
	assert_true(vendor_salesforce.replace_stream(f.state, &st, CL_ERR_UNAVAILABLE));
	{
		SourceStream a;
		SourceStream b;
		char fmt[CL_TIME_BUFSIZE];
		char want[128];
		ClTime upper = run_upper(&f);
		ClTime lo = date_start_utc(date_from_ymd(1999, 1, 1));
		ClTime mid = lo + (upper - lo) / 2;

		mid -= mid % CL_USEC_PER_SEC;
		tx_next_stream(&f, &a);
		tx_next_stream(&f, &b);
		assert_string_equal(a.name, "Lead");
		assert_string_equal(b.name, "Lead");
		snprintf(want, sizeof(want), "Lead start .. %s", time_format_rfc3339(mid, fmt));
		assert_string_equal(a.label, want);
		snprintf(want, sizeof(want), "Lead %s .. ", time_format_rfc3339(mid, fmt));
		assert_memory_equal(b.label, want, strlen(want));
		/* another failure than QUERY_TIMEOUT is not answered by halving */
		assert_false(vendor_salesforce.replace_stream(f.state, &a, CL_ERR_UNAVAILABLE));
	}
	sf_close(&f);
}


static void
test_extract_salesforce_quota(void **state)
{
	ExtractFixture f = { 0 };
	HttpResponse resp;
	ClError err = CL_OK;

	(void) state;
	assert_true(sf_open(&f, NULL, "quota_percent = 80\n", &err));
	assert_string_equal(vendor_salesforce.response_headers[0], "Sforce-Limit-Info");
	memset(&resp, 0, sizeof(resp));
	resp.status = 200;
	/* no header (a proxy dropped it): no verdict */
	assert_true(vendor_salesforce.check_response(f.state, &f.run, &resp, &err));
	snprintf(resp.rate_headers[0], sizeof(resp.rate_headers[0]), "api-usage=11999/15000");
	assert_true(vendor_salesforce.check_response(f.state, &f.run, &resp, &err));
	snprintf(resp.rate_headers[0], sizeof(resp.rate_headers[0]),
			 "api-usage=12000/15000, per-app-api-usage=17/250(appName=closedloop)");
	assert_false(vendor_salesforce.check_response(f.state, &f.run, &resp, &err));
	assert_int_equal(err, CL_ERR_TEMPORARY);
	sf_close(&f);
}


/*
 * Authentication: calls go to the instance_url of the token response; a
 * rotated refresh token is saved (owner-only) and used by the next run.
 */
static void
test_extract_salesforce_auth_and_rotation(void **state)
{
	ExtractFixture f = { 0 };
	LoginServer ls;
	SourceStream st;
	SourceRequest req;
	SourcePage page = { 2, 0, "/services/data/v63.0/query/01gD0000002HU6KIAW-2000" };
	ClError err = CL_OK;
	char want[256];
	char path[1024];
	char *saved;
	struct stat sb;

	(void) state;
	login_start(&ls);
	ls.rotate = true;
	assert_true(sf_open(&f, &ls, "api_version = v61.0\n", &err));
	assert_true(vendor_salesforce.authenticate(f.state, &f.run, false, &err));
	assert_int_equal(ls.grants, 1);
	assert_string_equal(ls.form, "grant_type=refresh_token&client_id=cid&client_secret=csecret"
						"&refresh_token=rtoken");
	snprintf(path, sizeof(path), "%s/state/salesforce/refresh_token", f.dir);
	saved = ts_read_file(path, NULL);
	assert_string_equal(saved, "rotated-refresh-2\n");
	free(saved);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);

	next_named(&f, "Lead", &st);
	{
		char *url = NULL;
		char *soql = request_soql(&f, &st, &url);

		snprintf(want, sizeof(want), "http://127.0.0.1:%u/services/data/v61.0/queryAll",
				 (unsigned) ls.port);
		assert_string_equal(url, want);
		free(url);
		free(soql);
	}
	tx_request(&f, &st, &page, &req);
	snprintf(want, sizeof(want),
			 "http://127.0.0.1:%u/services/data/v63.0/query/01gD0000002HU6KIAW-2000",
			 (unsigned) ls.port);
	assert_string_equal(tb_text(&req.url), want);
	assert_true(tx_has_header(&req, "Authorization: Bearer 00Dtest!access-1"));
	tx_request_free(&req);

	/* a nextRecordsUrl elsewhere would be sent our token: refused */
	page.cursor = "https://evil.example/services/data/v63.0/query/x-2000";
	memset(&req, 0, sizeof(req));
	tb_init(&req.url, TEXTBUF_DEFAULT_MAX);
	tb_init(&req.body, TEXTBUF_DEFAULT_MAX);
	assert_false(vendor_salesforce.build_request(f.state, &st, &page, &req, &err));
	assert_int_equal(err, CL_ERR_DATA);
	tx_request_free(&req);

	/* the server said the token expired: a new one, with the saved token */
	assert_true(vendor_salesforce.authenticate(f.state, &f.run, true, &err));
	assert_int_equal(ls.grants, 2);
	assert_non_null(strstr(ls.form, "&refresh_token=rotated-refresh-2"));

	sf_close(&f);
	MHD_stop_daemon(ls.daemon);
}


/*
 * The next run uses a saved rotated refresh token instead of the
 * configured one.
 */
static void
test_extract_salesforce_uses_saved_token(void **state)
{
	ExtractFixture f = { 0 };
	LoginServer ls;
	ClError err = CL_OK;
	char statedir[1024];
	char *tmp = ts_make_tmpdir("sfstate");

	(void) state;
	snprintf(statedir, sizeof(statedir), "%s", tmp);
	assert_true(state_write_text(statedir, "salesforce", "refresh_token", "saved-refresh-9", &err));
	login_start(&ls);
	/* tx_open writes its own [pipeline] section; this run needs state_dir
	 * in it, so the configuration is built here */
	{
		char ini[2048];
		char *text;
		size_t n;
		Config *cfg = NULL;

		f.dir = ts_make_tmpdir("extract");
		snprintf(ini, sizeof(ini), "[pipeline]\nstaging_dir = %s\nstate_dir = %s\n"
				 "reporting_currency = USD\n%sbase_url = http://127.0.0.1:%u/\n",
				 f.dir, statedir, base_ini, (unsigned) ls.port);
		n = strlen(ini) + 1;
		text = malloc(n);
		assert_non_null(text);
		memcpy(text, ini, n);
		assert_true(config_load_string(text, "test.ini", &cfg));
		free(text);
		f.cfg = cfg;
		assert_true(source_run_init(&f.run, &vendor_salesforce, f.cfg, &f.cli, f.dir,
									"20260101T000000Z-abcdef", "cl-extract-test"));
		f.opened = true;
		assert_true(vendor_salesforce.open(&f.run, &f.state, &err));
		assert_true(source_run_open_writers(&f.run));
	}
	{
		HttpOptions opts;

		http_options_default(&opts);
		opts.retry.max_attempts = 1;
		f.run.http = http_client_new(&opts);
	}
	assert_true(vendor_salesforce.authenticate(f.state, &f.run, false, &err));
	assert_non_null(strstr(ls.form, "&refresh_token=saved-refresh-9"));
	sf_close(&f);
	MHD_stop_daemon(ls.daemon);
	ts_rmdir_r(tmp);
	free(tmp);
}


/*
 * Windows: the first run reads from start_date, the next from the saved
 * watermark (the previous run's frozen upper bound); --from/--to reads
 * its days and does not move the watermark; --full-refresh reads all.
 */
static void
test_extract_salesforce_windows_and_watermarks(void **state)
{
	ExtractFixture f = { 0 };
	LoginServer ls;
	SourceStream st;
	ClError err = CL_OK;
	char *soql;
	char fmt[CL_TIME_BUFSIZE];
	char want[256];
	char *statedir;
	bool found;
	ClTime wm;
	ClTime upper;

	(void) state;
	login_start(&ls);

	/* first run: start_date .. run start; Campaign has no window */
	assert_true(sf_open(&f, &ls, "start_date = 2026-01-15\n", &err));
	assert_true(vendor_salesforce.authenticate(f.state, &f.run, false, &err));
	upper = run_upper(&f);
	assert_int_equal(f.run.window.from, tx_date("2026-01-15"));
	next_named(&f, "Campaign", &st);
	soql = request_soql(&f, &st, NULL);
	assert_string_equal(soql, "SELECT Id,Name,Type,IsDeleted,SystemModstamp FROM Campaign");
	free(soql);
	tx_next_stream(&f, &st);
	assert_string_equal(st.name, "Lead");
	soql = request_soql(&f, &st, NULL);
	snprintf(want, sizeof(want), " FROM Lead WHERE SystemModstamp >= 2026-01-15T00:00:00Z AND "
			 "SystemModstamp < %s", time_format_rfc3339(upper, fmt));
	assert_non_null(strstr(soql, want));
	free(soql);

	/* nothing is saved before the commit ... */
	statedir = state_dir_path(f.cfg);
	assert_non_null(statedir);
	assert_true(state_read_watermark(statedir, "salesforce", "Lead", &found, &wm, &err));
	assert_false(found);
	/* ... and after it each object's watermark is the upper bound */
	tx_commit(&f);
	assert_true(vendor_salesforce.after_commit(f.state, &f.run, &err));
	assert_true(state_read_watermark(statedir, "salesforce", "Lead", &found, &wm, &err));
	assert_true(found);
	assert_true(wm == upper);
	assert_true(state_read_watermark(statedir, "salesforce", "Campaign", &found, &wm, &err));
	assert_false(found);

	/* the next run continues at the watermark; start_date no longer counts */
	http_client_free(f.run.http);
	f.run.http = NULL;
	vendor_salesforce.close(f.state);
	f.state = NULL;
	source_run_free(&f.run);
	{
		char *dir = f.dir;
		Config *cfg = f.cfg;
		CliOptions cli;

		memset(&cli, 0, sizeof(cli));
		f.cli = cli;
		assert_true(source_run_init(&f.run, &vendor_salesforce, cfg, &f.cli, dir,
									"20260101T000001Z-abcdef", "cl-extract-test"));
		f.run.started_at = upper + 3600 * CL_USEC_PER_SEC;
		assert_true(vendor_salesforce.open(&f.run, &f.state, &err));
		assert_true(source_run_open_writers(&f.run));
		{
			HttpOptions opts;

			http_options_default(&opts);
			opts.retry.max_attempts = 1;
			f.run.http = http_client_new(&opts);
		}
	}
	assert_true(vendor_salesforce.authenticate(f.state, &f.run, false, &err));
	next_named(&f, "Opportunity", &st);
	soql = request_soql(&f, &st, NULL);
	{
		char a[CL_TIME_BUFSIZE];
		char b[CL_TIME_BUFSIZE];

		snprintf(want, sizeof(want), " WHERE SystemModstamp >= %s AND SystemModstamp < %s",
				 time_format_rfc3339(upper, a),
				 time_format_rfc3339(upper + 3600 * CL_USEC_PER_SEC, b));
	}
	assert_non_null(strstr(soql, want));
	free(soql);
	sf_close(&f);

	/* --from/--to: those days, and the watermark stays */
	memset(&f, 0, sizeof(f));
	tx_cli_window(&f, "2026-02-01", "2026-02-03");
	assert_true(sf_open(&f, &ls, "start_date = 2026-01-15\n", &err));
	assert_true(vendor_salesforce.authenticate(f.state, &f.run, false, &err));
	next_named(&f, "CampaignMember", &st);
	soql = request_soql(&f, &st, NULL);
	assert_non_null(strstr(soql, " FROM CampaignMember WHERE SystemModstamp >= "
						   "2026-02-01T00:00:00Z AND SystemModstamp < 2026-02-04T00:00:00Z"));
	free(soql);
	tx_commit(&f);
	assert_true(vendor_salesforce.after_commit(f.state, &f.run, &err));
	free(statedir);
	statedir = state_dir_path(f.cfg);
	assert_non_null(statedir);
	assert_true(state_read_watermark(statedir, "salesforce", "CampaignMember", &found, &wm, &err));
	assert_false(found);
	sf_close(&f);

	/* --full-refresh: no lower bound, and so no role query (every
	 * opportunity comes with its current roles) */
	memset(&f, 0, sizeof(f));
	f.cli.full_refresh = true;
	assert_true(sf_open(&f, &ls, "start_date = 2026-01-15\n", &err));
	assert_true(vendor_salesforce.authenticate(f.state, &f.run, false, &err));
	next_named(&f, "Contact", &st);
	soql = request_soql(&f, &st, NULL);
	assert_non_null(strstr(soql, " FROM Contact WHERE SystemModstamp < "));
	assert_null(strstr(soql, ">="));
	free(soql);
	tx_next_stream(&f, &st);
	assert_string_equal(st.name, "Opportunity");
	sf_close(&f);

	/* --full-refresh with --from is a usage error */
	memset(&f, 0, sizeof(f));
	f.cli.full_refresh = true;
	tx_cli_window(&f, "2026-02-01", "2026-02-03");
	assert_false(sf_open(&f, &ls, "", &err));
	assert_int_equal(err, CL_ERR_USAGE);
	sf_close(&f);

	free(statedir);
	MHD_stop_daemon(ls.daemon);
}


static void
test_extract_salesforce_config_errors(void **state)
{
	ExtractFixture f = { 0 };
	ClError err = CL_OK;

	(void) state;
	assert_false(sf_open(&f, NULL, "objects = Lead,Account\n", &err));
	assert_int_equal(err, CL_ERR_CONFIG);
	sf_close(&f);
	memset(&f, 0, sizeof(f));
	assert_false(sf_open(&f, NULL, "objects = Lead,CampaignMember\n", &err));
	assert_int_equal(err, CL_ERR_CONFIG);
	sf_close(&f);
	memset(&f, 0, sizeof(f));
	assert_false(sf_open(&f, NULL, "product_group_field = a'b\n", &err));
	assert_int_equal(err, CL_ERR_CONFIG);
	sf_close(&f);
	memset(&f, 0, sizeof(f));
	assert_false(sf_open(&f, NULL, "api_version = 63\n", &err));
	assert_int_equal(err, CL_ERR_CONFIG);
	sf_close(&f);

	/* only the objects named run */
	memset(&f, 0, sizeof(f));
	{
		SourceStream st;
		bool more = true;

		assert_true(sf_open(&f, NULL, "objects = Opportunity , Lead\n", &err));
		tx_next_stream(&f, &st);
		assert_string_equal(st.name, "Lead");
		tx_next_stream(&f, &st);
		assert_string_equal(st.name, "Opportunity");
		assert_true(vendor_salesforce.next_stream(f.state, &f.run, &st, &more, &err));
		assert_false(more);
	}
	sf_close(&f);
}


static void
test_extract_salesforce_state_files(void **state)
{
	char *dir = ts_make_tmpdir("state");
	char path[1024];
	ClError err = CL_OK;
	bool found = true;
	ClTime wm = 0;
	ClTime t;
	char *text = NULL;

	(void) state;
	assert_true(time_parse_rfc3339("2026-03-04T05:06:07Z", &t));
	assert_true(state_read_watermark(dir, "salesforce", "Lead", &found, &wm, &err));
	assert_false(found);
	assert_true(state_write_watermark(dir, "salesforce", "Lead", t, "run-1", &err));
	assert_true(state_read_watermark(dir, "salesforce", "Lead", &found, &wm, &err));
	assert_true(found);
	assert_true(wm == t);
	/* replaced whole; no temporary file is left */
	assert_true(state_write_watermark(dir, "salesforce", "Lead", t + CL_USEC_PER_SEC, "run-2", &err));
	assert_true(state_read_watermark(dir, "salesforce", "Lead", &found, &wm, &err));
	assert_true(wm == t + CL_USEC_PER_SEC);
	snprintf(path, sizeof(path), "%s/salesforce/Lead.json", dir);
	text = ts_read_file(path, NULL);
	assert_non_null(strstr(text, "\"watermark\":\"2026-03-04T05:06:08Z\",\"run_id\":\"run-2\""));
	free(text);

	/* a damaged file is a configuration error, not a silent first run */
	ts_write_file(path, "{\"watermark\":\"yesterday\"}");
	assert_false(state_read_watermark(dir, "salesforce", "Lead", &found, &wm, &err));
	assert_int_equal(err, CL_ERR_CONFIG);
	ts_write_file(path, "{\"watermark\":");
	assert_false(state_read_watermark(dir, "salesforce", "Lead", &found, &wm, &err));
	assert_int_equal(err, CL_ERR_CONFIG);

	/* names cannot leave the directory */
	assert_false(state_write_watermark(dir, "salesforce", "../x", t, "r", &err));
	assert_int_equal(err, CL_ERR_INTERNAL);

	/* secrets: absent, written, read back without the newline */
	assert_true(state_read_text(dir, "salesforce", "refresh_token", &text, &err));
	assert_null(text);
	assert_true(state_write_text(dir, "salesforce", "refresh_token", "abc-123", &err));
	assert_true(state_read_text(dir, "salesforce", "refresh_token", &text, &err));
	assert_string_equal(text, "abc-123");
	free(text);
	ts_rmdir_r(dir);
	free(dir);
}


int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_extract_salesforce_leads_and_contacts),
		cmocka_unit_test(test_extract_salesforce_opportunities_and_roles),
		cmocka_unit_test(test_extract_salesforce_campaign_members),
		cmocka_unit_test(test_extract_salesforce_campaign_utm_fields),
		cmocka_unit_test(test_extract_salesforce_saved_query_page),
		cmocka_unit_test(test_extract_salesforce_bad_records),
		cmocka_unit_test(test_extract_salesforce_multi_currency),
		cmocka_unit_test(test_extract_salesforce_error_classes),
		cmocka_unit_test(test_extract_salesforce_quota),
		cmocka_unit_test(test_extract_salesforce_auth_and_rotation),
		cmocka_unit_test(test_extract_salesforce_uses_saved_token),
		cmocka_unit_test(test_extract_salesforce_windows_and_watermarks),
		cmocka_unit_test(test_extract_salesforce_config_errors),
		cmocka_unit_test(test_extract_salesforce_state_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
