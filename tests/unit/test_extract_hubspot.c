/*
 * test_extract_hubspot.c: the HubSpot vendor on the saved HubSpot payloads
 * (shared/fixtures/vendors/hubspot) and on cases they do not cover.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "support.h"
#include "test_extract_support.h"

#include "registry.h"
#include "state.h"

static const char token_ini[] =
	"[crm.hubspot]\nenabled = true\nbase_url = http://127.0.0.1:9/api/\ntoken = pat-test-token\n"
	"page_size = 2\n";

/*
 * open_at opens HubSpot with token_ini plus extra and advances to the
 * stream called name ("pipelines", "contacts", "deals").
 */
static void
open_at(ExtractFixture *f, const char *extra, const char *name, SourceStream *st)
{
	char ini[1024];
	ClError err;

	snprintf(ini, sizeof(ini), "%s%s", token_ini, extra);
	assert_true(tx_open(f, &vendor_hubspot, ini, &err));
	for (;;)
	{
		tx_next_stream(f, st);
		if (strcmp(st->name, name) == 0)
			return;
	}
}


static void
feed_pipelines(ExtractFixture *f)
{
	SourceStream st;
	PageState ps;
	ClError err;

	tx_next_stream(f, &st);
	assert_string_equal(st.name, "pipelines");
	page_state_init(&ps);
	assert_true(tx_feed_data(f, &st, &ps, "hubspot_pipelines.json", &err));
	assert_true(ps.done);
	page_state_free(&ps);
}


static void
test_extract_hubspot_contacts_list(void **state)
{
	ExtractFixture f = { 0 };
	SourceStream st;
	PageState ps;
	ClError err;
	RowSet leads;
	RowSet touches;
	const JsonValue *lead;
	ClDate date;

	(void) state;
	open_at(&f, "", "contacts", &st);
	page_state_init(&ps);
	assert_true(tx_feed_fixture(&f, &st, &ps, "vendors/hubspot/contacts_list_v3.json", &err));
	/* the saved page has no paging member: it is the last one */
	assert_true(ps.done);
	assert_int_equal(ps.records, 2);
	page_state_free(&ps);
	tx_commit(&f);

	tx_read(&f, "lead", &leads);
	assert_int_equal(leads.count, 2);
	lead = tx_find(&leads, "lead_id", "1", &date);
	assert_int_equal(date, f.run.today);
	assert_string_equal(tx_str(lead, "source_system"), "hubspot");
	assert_string_equal(tx_str(lead, "crm_contact_id"), "1");
	assert_string_equal(tx_str(lead, "email"), "emailmaria@hubspot.com");
	assert_string_equal(tx_str(lead, "created_at"), "2023-02-24T03:00:13.460000Z");
	assert_string_equal(tx_str(lead, "updated_at"), "2023-02-24T14:07:59.929000Z");
	assert_false(tx_bool(lead, "is_deleted"));
	/* not in the saved page, so absent rather than empty */
	assert_null(json_member(lead, "lifecycle_stage"));
	assert_null(json_member(lead, "owner"));
	assert_null(json_member(lead, "product_group"));

	lead = tx_find(&leads, "lead_id", "51", NULL);
	assert_string_equal(tx_str(lead, "email"), "bh@hubspot.com");
	assert_string_equal(tx_str(lead, "created_at"), "2023-02-24T03:00:13.789000Z");
	assert_string_equal(tx_str(lead, "updated_at"), "2023-02-24T03:00:25.112000Z");

	/* neither contact has hs_analytics_source: no touch */
	tx_read(&f, "touch", &touches);
	assert_int_equal(touches.count, 0);

	tx_rows_free(&leads);
	tx_rows_free(&touches);
	tx_close(&f);
}


static void
test_extract_hubspot_contacts_original_source(void **state)
{
	ExtractFixture f = { 0 };
	SourceStream st;
	PageState ps;
	ClError err;
	RowSet leads;
	RowSet touches;
	const JsonValue *lead;
	const JsonValue *touch;
	ClDate date;

	(void) state;
	open_at(&f, "", "contacts", &st);
	page_state_init(&ps);
	assert_true(tx_feed_fixture(&f, &st, &ps,
								"vendors/hubspot/contacts_with_property_history_v3.json", &err));
	page_state_free(&ps);
	tx_commit(&f);

	tx_read(&f, "lead", &leads);
	assert_int_equal(leads.count, 2);
	lead = tx_find(&leads, "lead_id", "1", NULL);
	assert_string_equal(tx_str(lead, "created_at"), "2023-06-28T13:55:47.572000Z");
	/* lastmodifieddate is null in this payload: updatedAt stands in */
	assert_string_equal(tx_str(lead, "updated_at"), "2023-07-01T21:28:22.147000Z");
	lead = tx_find(&leads, "lead_id", "51", NULL);
	assert_string_equal(tx_str(lead, "email"), "thisisnewemail@hubspot.com");
	assert_string_equal(tx_str(lead, "updated_at"), "2023-07-01T23:34:57.865000Z");

	/* contact 1 came from OFFLINE (API, sample-contact); 51 has no source */
	tx_read(&f, "touch", &touches);
	assert_int_equal(touches.count, 1);
	touch = tx_find(&touches, "touch_id", "contact-1-original", &date);
	assert_int_equal(date, tx_date("2023-06-28"));
	assert_string_equal(tx_str(touch, "source_system"), "hubspot");
	assert_string_equal(tx_str(touch, "person.email"), "emailmaria@hubspot.com");
	assert_string_equal(tx_str(touch, "person.crm_id"), "1");
	assert_string_equal(tx_str(touch, "at"), "2023-06-28T13:55:47.572000Z");
	assert_string_equal(tx_str(touch, "kind"), "offline");
	assert_string_equal(tx_str(touch, "source"), "offline");
	assert_string_equal(tx_str(touch, "medium"), "offline");
	assert_string_equal(tx_str(touch, "campaign"), "sample-contact");

	tx_rows_free(&leads);
	tx_rows_free(&touches);
	tx_close(&f);
}


/* One row of the documented source table (docs/vendors/hubspot.md). */
typedef struct SourceCase
{
	const char *value;
	const char *data_1;
	const char *source;
	const char *medium;
	const char *kind;
} SourceCase;

static void
test_extract_hubspot_source_table(void **state)
{
	static const SourceCase cases[] = {
		{ "ORGANIC_SEARCH", "Bing", "bing", "organic", "page_view" },
		{ "ORGANIC_SEARCH", NULL, "google", "organic", "page_view" },
		{ "PAID_SEARCH", "Google", "google", "cpc", "ad_click" },
		{ "PAID_SEARCH", NULL, "google", "cpc", "ad_click" },
		{ "EMAIL_MARKETING", "Newsletter", "newsletter", "email", "email_click" },
		{ "EMAIL_MARKETING", NULL, "hubspot", "email", "email_click" },
		{ "SOCIAL_MEDIA", "LinkedIn", "linkedin", "social", "page_view" },
		{ "SOCIAL_MEDIA", NULL, "social", "social", "page_view" },
		{ "PAID_SOCIAL", "Instagram", "instagram", "paid_social", "ad_click" },
		{ "PAID_SOCIAL", NULL, "facebook", "paid_social", "ad_click" },
		{ "REFERRALS", "partner.example.com", "partner.example.com", "referral", "page_view" },
		{ "REFERRALS", NULL, "referral", "referral", "page_view" },
		{ "DIRECT_TRAFFIC", "ignored", "(direct)", "(none)", "page_view" },
		{ "OFFLINE", "IMPORT", "offline", "offline", "offline" },
		{ "OTHER_CAMPAIGNS", "Webinar", "webinar", "other", "page_view" },
		{ "OTHER_CAMPAIGNS", NULL, "other", "other", "page_view" },
		{ "PODCASTS", NULL, "podcasts", "other", "page_view" },
		{ "PODCASTS", "Spotify", "spotify", "other", "page_view" },
	};
	size_t ncases = sizeof(cases) / sizeof(cases[0]);
	ExtractFixture f = { 0 };
	SourceStream st;
	PageState ps;
	ClError err;
	RowSet touches;
	char body[1024];

	(void) state;
	open_at(&f, "", "contacts", &st);
	for (size_t i = 0; i < ncases; i++)
	{
		char data_1[128] = "null";

		if (cases[i].data_1 != NULL)
			snprintf(data_1, sizeof(data_1), "\"%s\"", cases[i].data_1);
		snprintf(body, sizeof(body),
				 "{\"results\":[{\"id\":\"%zu\",\"properties\":{\"email\":\"p%zu@example.com\","
				 "\"createdate\":\"2024-03-0%zuT10:00:00Z\",\"lastmodifieddate\":\"2024-03-10T00:00:00Z\","
				 "\"hs_analytics_source\":\"%s\",\"hs_analytics_source_data_1\":%s,"
				 "\"hs_analytics_source_data_2\":\"camp-%zu\"},\"archived\":false}]}",
				 i + 100, i, i % 9 + 1, cases[i].value, data_1, i);
		page_state_init(&ps);
		assert_true(tx_feed_text(&f, &st, &ps, body, &err));
		page_state_free(&ps);
	}
	tx_commit(&f);
	tx_read(&f, "touch", &touches);
	assert_int_equal(touches.count, ncases);
	for (size_t i = 0; i < ncases; i++)
	{
		char id[64];
		char campaign[32];
		ClDate date;
		const JsonValue *t;

		snprintf(id, sizeof(id), "contact-%zu-original", i + 100);
		snprintf(campaign, sizeof(campaign), "camp-%zu", i);
		t = tx_find(&touches, "touch_id", id, &date);
		assert_string_equal(tx_str(t, "source"), cases[i].source);
		assert_string_equal(tx_str(t, "medium"), cases[i].medium);
		assert_string_equal(tx_str(t, "kind"), cases[i].kind);
		assert_string_equal(tx_str(t, "campaign"), campaign);
		assert_int_equal(date, tx_date("2024-03-01") + (ClDate) (i % 9));
	}
	tx_rows_free(&touches);
	tx_close(&f);
}


static void
test_extract_hubspot_contact_values(void **state)
{
	ExtractFixture f = { 0 };
	SourceStream st;
	PageState ps;
	ClError err;
	RowSet leads;
	RowSet touches;
	const JsonValue *lead;

	(void) state;
	open_at(&f, "product_group_property = product_line\n", "contacts", &st);
	page_state_init(&ps);
	/* epoch milliseconds, an email to normalise, the optional fields, and
	 * a cursor to the next page */
	assert_true(tx_feed_text(&f, &st, &ps,
							 "{\"results\":[{\"id\":\"7\",\"properties\":{"
							 "\"email\":\"  Mixed.Case@Example.COM \",\"createdate\":\"1677207613460\","
							 "\"lastmodifieddate\":\"1677250079929\",\"lifecyclestage\":\"salesqualifiedlead\","
							 "\"hubspot_owner_id\":\"3141\",\"product_line\":\"Enterprise\"},"
							 "\"archived\":true},"
							 "{\"id\":\"8\",\"properties\":{\"email\":\"   \",\"createdate\":null},"
							 "\"createdAt\":\"2024-01-02T03:04:05Z\",\"updatedAt\":\"2024-01-03T03:04:05Z\"}],"
							 "\"paging\":{\"next\":{\"after\":\"MTA=\",\"link\":\"ignored\"}}}",
							 &err));
	assert_false(ps.done);
	assert_string_equal(ps.page.cursor, "MTA=");
	assert_int_equal(ps.page.number, 2);
	page_state_free(&ps);
	tx_commit(&f);

	tx_read(&f, "lead", &leads);
	lead = tx_find(&leads, "lead_id", "7", NULL);
	assert_string_equal(tx_str(lead, "email"), "mixed.case@example.com");
	assert_string_equal(tx_str(lead, "created_at"), "2023-02-24T03:00:13.460000Z");
	assert_string_equal(tx_str(lead, "updated_at"), "2023-02-24T14:47:59.929000Z");
	assert_string_equal(tx_str(lead, "lifecycle_stage"), "salesqualifiedlead");
	assert_string_equal(tx_str(lead, "owner"), "3141");
	assert_string_equal(tx_str(lead, "product_group"), "Enterprise");
	assert_true(tx_bool(lead, "is_deleted"));
	/* a blank email is absent, and createdAt stands in for a null createdate */
	lead = tx_find(&leads, "lead_id", "8", NULL);
	assert_null(json_member(lead, "email"));
	assert_string_equal(tx_str(lead, "created_at"), "2024-01-02T03:04:05Z");
	tx_read(&f, "touch", &touches);
	assert_int_equal(touches.count, 0);
	tx_rows_free(&leads);
	tx_rows_free(&touches);
	tx_close(&f);
}


static void
test_extract_hubspot_contact_bad_timestamp(void **state)
{
	ExtractFixture f = { 0 };
	SourceStream st;
	PageState ps;
	ClError err;
	RowSet leads;

	(void) state;
	open_at(&f, "", "contacts", &st);
	page_state_init(&ps);
	/* present but unparseable: an error, not a silent fallback to createdAt */
	assert_false(tx_feed_text(&f, &st, &ps,
							  "{\"results\":[{\"id\":\"9\",\"properties\":{\"createdate\":\"24/02/2023\"},"
							  "\"createdAt\":\"2023-02-24T03:00:13Z\",\"updatedAt\":\"2023-02-24T03:00:13Z\"}]}",
							  &err));
	assert_int_equal(err, CL_ERR_DATA);
	page_state_free(&ps);

	/* no timestamp at all */
	page_state_init(&ps);
	assert_false(tx_feed_text(&f, &st, &ps, "{\"results\":[{\"id\":\"10\",\"properties\":{}}]}",
							  &err));
	assert_int_equal(err, CL_ERR_DATA);
	page_state_free(&ps);

	/* a record without an id */
	page_state_init(&ps);
	assert_false(tx_feed_text(&f, &st, &ps, "{\"results\":[{\"properties\":{}}]}", &err));
	assert_int_equal(err, CL_ERR_DATA);
	page_state_free(&ps);

	/* each refused record was the first of its page: no row was written */
	tx_commit(&f);
	tx_read(&f, "lead", &leads);
	assert_int_equal(leads.count, 0);
	tx_rows_free(&leads);
	tx_close(&f);
}


static void
test_extract_hubspot_deals_list(void **state)
{
	ExtractFixture f = { 0 };
	SourceStream st;
	PageState ps;
	ClError err;
	RowSet deals;
	const JsonValue *deal;
	const JsonValue *contacts;
	ClDate date;

	(void) state;
	assert_true(tx_open(&f, &vendor_hubspot, token_ini, &err));
	feed_pipelines(&f);
	tx_next_stream(&f, &st);
	tx_next_stream(&f, &st);
	assert_string_equal(st.name, "deals");
	page_state_init(&ps);
	assert_true(tx_feed_fixture(&f, &st, &ps, "vendors/hubspot/deals_list_v3.json", &err));
	assert_true(ps.done);
	page_state_free(&ps);
	tx_commit(&f);

	tx_read(&f, "deal", &deals);
	assert_int_equal(deals.count, 2);
	deal = tx_find(&deals, "deal_id", "6744192456", &date);
	assert_int_equal(date, f.run.today);
	assert_string_equal(tx_str(deal, "source_system"), "hubspot");
	assert_string_equal(tx_str(deal, "name"), "With Atul");
	/* no deal_currency_code: the reporting currency */
	assert_int_equal(tx_int(deal, "amount_minor"), 50000);
	assert_string_equal(tx_str(deal, "currency"), "USD");
	assert_string_equal(tx_str(deal, "stage"), "qualifiedtobuy");
	assert_string_equal(tx_str(deal, "pipeline"), "default");
	assert_false(tx_bool(deal, "is_closed"));
	assert_false(tx_bool(deal, "is_won"));
	assert_string_equal(tx_str(deal, "created_at"), "2023-02-24T03:01:01.147000Z");
	assert_string_equal(tx_str(deal, "updated_at"), "2023-02-24T03:01:01.711000Z");
	/* closedate is null in the payload: an open deal has none */
	assert_null(json_member(deal, "closed_at"));
	/* the saved page was fetched without associations */
	contacts = json_member(deal, "contact_ids");
	assert_non_null(contacts);
	assert_int_equal(contacts->type, JSON_ARRAY);
	assert_int_equal(contacts->count, 0);
	assert_false(tx_bool(deal, "is_deleted"));

	deal = tx_find(&deals, "deal_id", "6744457152", NULL);
	assert_int_equal(tx_int(deal, "amount_minor"), 323300);
	assert_string_equal(tx_str(deal, "name"), "Yodoo Deal (2021-11-25)");
	tx_rows_free(&deals);
	tx_close(&f);
}


/*
 * deal_body: one deal in stage/pipeline with an amount and currency, won
 * or not by the pipelines.
 */
static void
deal_body(char *buf, size_t size, const char *id, const char *pipeline, const char *stage,
		  const char *amount, const char *currency)
{
	char cur[64] = "null";

	if (currency != NULL)
		snprintf(cur, sizeof(cur), "\"%s\"", currency);
	snprintf(buf, size,
			 "{\"results\":[{\"id\":\"%s\",\"properties\":{\"dealname\":\"D%s\",\"amount\":\"%s\","
			 "\"deal_currency_code\":%s,\"dealstage\":\"%s\",\"pipeline\":\"%s\","
			 "\"closedate\":\"2024-05-31T16:00:00Z\",\"createdate\":\"2024-04-01T09:00:00Z\","
			 "\"hs_lastmodifieddate\":\"2024-05-31T16:05:00Z\"},"
			 "\"associations\":{\"contacts\":{\"results\":[{\"id\":\"51\",\"type\":\"deal_to_contact\"},"
			 "{\"id\":\"51\",\"type\":\"deal_to_contact_unlabeled\"},{\"id\":\"77\",\"type\":\"deal_to_contact\"}]}},"
			 "\"archived\":false}]}",
			 id, id, amount, cur, stage, pipeline);
}


static void
test_extract_hubspot_deal_stages(void **state)
{
	ExtractFixture f = { 0 };
	SourceStream st;
	PageState ps;
	ClError err;
	RowSet deals;
	const JsonValue *deal;
	const JsonValue *contacts;
	char body[2048];

	(void) state;
	assert_true(tx_open(&f, &vendor_hubspot, token_ini, &err));
	feed_pipelines(&f);
	tx_next_stream(&f, &st);
	tx_next_stream(&f, &st);

	/* a custom pipeline's won stage (isClosed true, probability 1.0) */
	deal_body(body, sizeof(body), "1", "75e28846-ad0d-4be2-a027-5e1da6590b98", "1467052",
			  "1200.50", "EUR");
	page_state_init(&ps);
	assert_true(tx_feed_text(&f, &st, &ps, body, &err));
	page_state_free(&ps);
	/* closed but lost */
	deal_body(body, sizeof(body), "2", "75e28846-ad0d-4be2-a027-5e1da6590b98", "1467053",
			  "99", "JPY");
	page_state_init(&ps);
	assert_true(tx_feed_text(&f, &st, &ps, body, &err));
	page_state_free(&ps);
	/* the default pipeline's closedwon, an amount with surplus digits */
	deal_body(body, sizeof(body), "3", "default", "closedwon", "10.005", NULL);
	page_state_init(&ps);
	assert_true(tx_feed_text(&f, &st, &ps, body, &err));
	page_state_free(&ps);
	/* a stage the pipelines do not name: open */
	deal_body(body, sizeof(body), "4", "default", "mystery", "1", NULL);
	page_state_init(&ps);
	assert_true(tx_feed_text(&f, &st, &ps, body, &err));
	page_state_free(&ps);
	tx_commit(&f);

	tx_read(&f, "deal", &deals);
	assert_int_equal(deals.count, 4);
	deal = tx_find(&deals, "deal_id", "1", NULL);
	assert_true(tx_bool(deal, "is_closed"));
	assert_true(tx_bool(deal, "is_won"));
	assert_int_equal(tx_int(deal, "amount_minor"), 120050);
	assert_string_equal(tx_str(deal, "currency"), "EUR");
	assert_string_equal(tx_str(deal, "closed_at"), "2024-05-31T16:00:00Z");
	contacts = json_member(deal, "contact_ids");
	assert_int_equal(contacts->count, 2);
	assert_string_equal(json_string(contacts->items[0]), "51");
	assert_string_equal(json_string(contacts->items[1]), "77");

	deal = tx_find(&deals, "deal_id", "2", NULL);
	assert_true(tx_bool(deal, "is_closed"));
	assert_false(tx_bool(deal, "is_won"));
	assert_int_equal(tx_int(deal, "amount_minor"), 99);
	assert_string_equal(tx_str(deal, "currency"), "JPY");

	deal = tx_find(&deals, "deal_id", "3", NULL);
	assert_true(tx_bool(deal, "is_won"));
	assert_int_equal(tx_int(deal, "amount_minor"), 1001);

	deal = tx_find(&deals, "deal_id", "4", NULL);
	assert_false(tx_bool(deal, "is_closed"));
	assert_false(tx_bool(deal, "is_won"));
	tx_rows_free(&deals);
	tx_close(&f);
}


static void
test_extract_hubspot_deal_fallback_stages(void **state)
{
	ExtractFixture f = { 0 };
	SourceStream st;
	PageState ps;
	ClError err;
	RowSet deals;
	const JsonValue *deal;
	char body[2048];

	(void) state;
	assert_true(tx_open(&f, &vendor_hubspot, token_ini, &err));
	/* the pipelines call answered without stages */
	tx_next_stream(&f, &st);
	page_state_init(&ps);
	assert_true(tx_feed_text(&f, &st, &ps, "{\"results\":[]}", &err));
	page_state_free(&ps);
	tx_next_stream(&f, &st);
	tx_next_stream(&f, &st);
	deal_body(body, sizeof(body), "5", "default", "closedwon", "5", NULL);
	page_state_init(&ps);
	assert_true(tx_feed_text(&f, &st, &ps, body, &err));
	page_state_free(&ps);
	deal_body(body, sizeof(body), "6", "default", "closedlost", "5", NULL);
	page_state_init(&ps);
	assert_true(tx_feed_text(&f, &st, &ps, body, &err));
	page_state_free(&ps);
	tx_commit(&f);

	tx_read(&f, "deal", &deals);
	deal = tx_find(&deals, "deal_id", "5", NULL);
	assert_true(tx_bool(deal, "is_closed"));
	assert_true(tx_bool(deal, "is_won"));
	deal = tx_find(&deals, "deal_id", "6", NULL);
	assert_true(tx_bool(deal, "is_closed"));
	assert_false(tx_bool(deal, "is_won"));
	tx_rows_free(&deals);
	tx_close(&f);
}


static void
test_extract_hubspot_deal_bad_values(void **state)
{
	ExtractFixture f = { 0 };
	SourceStream st;
	PageState ps;
	ClError err;
	char body[2048];

	(void) state;
	assert_true(tx_open(&f, &vendor_hubspot, token_ini, &err));
	feed_pipelines(&f);
	tx_next_stream(&f, &st);
	tx_next_stream(&f, &st);
	deal_body(body, sizeof(body), "7", "default", "closedwon", "1,200", NULL);
	page_state_init(&ps);
	assert_false(tx_feed_text(&f, &st, &ps, body, &err));
	assert_int_equal(err, CL_ERR_DATA);
	page_state_free(&ps);
	deal_body(body, sizeof(body), "8", "default", "closedwon", "12", "dollars");
	page_state_init(&ps);
	assert_false(tx_feed_text(&f, &st, &ps, body, &err));
	assert_int_equal(err, CL_ERR_DATA);
	page_state_free(&ps);
	tx_close(&f);
}


static void
test_extract_hubspot_requests(void **state)
{
	ExtractFixture f = { 0 };
	SourceStream st;
	SourceRequest req;
	SourcePage page = { 1, 0, NULL };
	ClError err;

	(void) state;
	assert_true(tx_open(&f, &vendor_hubspot,
						"[crm.hubspot]\nenabled = true\nbase_url = http://127.0.0.1:9/api/\n"
						"token = pat-test-token\npage_size = 50\nproduct_group_property = product_line\n",
						&err));
	tx_next_stream(&f, &st);
	tx_request(&f, &st, &page, &req);
	assert_null(req.method);
	assert_string_equal(tb_text(&req.url), "http://127.0.0.1:9/api/crm/v3/pipelines/deals");
	assert_true(tx_has_header(&req, "Authorization: Bearer pat-test-token"));
	tx_request_free(&req);

	tx_next_stream(&f, &st);
	tx_request(&f, &st, &page, &req);
	assert_string_equal(tb_text(&req.url),
						"http://127.0.0.1:9/api/crm/v3/objects/contacts?limit=50&archived=false"
						"&properties=email,createdate,lastmodifieddate,lifecyclestage,hubspot_owner_id,"
						"hs_analytics_source,hs_analytics_source_data_1,hs_analytics_source_data_2,"
						"hs_latest_source,hs_latest_source_data_1,hs_latest_source_data_2,"
						"hs_latest_source_timestamp,product_line");
	tx_request_free(&req);

	tx_next_stream(&f, &st);
	page.number = 2;
	page.cursor = "a+b/c=";
	tx_request(&f, &st, &page, &req);
	assert_string_equal(tb_text(&req.url),
						"http://127.0.0.1:9/api/crm/v3/objects/deals?limit=50&archived=false"
						"&properties=dealname,amount,deal_currency_code,dealstage,pipeline,closedate,"
						"createdate,hs_lastmodifieddate,product_line&associations=contacts"
						"&after=a%2Bb%2Fc%3D");
	assert_int_equal(req.body.len, 0);
	tx_request_free(&req);
	tx_close(&f);
}


/*
 * search_body builds the request of contacts page (number, cursor) and
 * returns its parsed JSON body (json_free); the request must be a POST to
 * the search endpoint.
 */
static JsonValue *
search_body(ExtractFixture *f, const SourceStream *st, int64_t number, const char *cursor)
{
	SourceRequest req;
	SourcePage page = { number, 0, cursor };
	JsonValue *body;

	tx_request(f, st, &page, &req);
	assert_string_equal(req.method, "POST");
	assert_string_equal(tb_text(&req.url), "http://127.0.0.1:9/api/crm/v3/objects/contacts/search");
	assert_true(tx_has_header(&req, "Content-Type: application/json"));
	body = json_parse(tb_text(&req.body), req.body.len, NULL, 0);
	assert_non_null(body);
	tx_request_free(&req);
	return body;
}


/* filter_value: the value of the filter on prop with op, or NULL. */
static const char *
filter_value(const JsonValue *body, const char *prop, const char *op)
{
	const JsonValue *filters = json_path(body, "filterGroups");

	filters = filters != NULL && filters->count > 0 ? json_member(filters->items[0], "filters") : NULL;
	for (size_t i = 0; filters != NULL && i < filters->count; i++)
	{
		const JsonValue *f = filters->items[i];

		if (strcmp(json_string(json_member(f, "propertyName")), prop) == 0 &&
			strcmp(json_string(json_member(f, "operator")), op) == 0)
			return json_string(json_member(f, "value"));
	}
	return NULL;
}


/*
 * Incremental contacts: a first run with start_date searches from it up to
 * the frozen run start, sorted by id; the watermark is saved only by
 * after_commit; the next run searches from the watermark. Past
 * search_max_results the query starts again above the highest id read.
 */
static void
test_extract_hubspot_search_incremental(void **state)
{
	ExtractFixture f = { 0 };
	SourceStream st;
	PageState ps;
	ClError err = CL_OK;
	JsonValue *body;
	char *statedir;
	char hi[32];
	bool found = true;
	ClTime wm = 0;
	ClTime upper;

	(void) state;
	open_at(&f, "start_date = 2026-01-15\nsearch_max_results = 10\n", "contacts", &st);
	upper = f.run.started_at - f.run.started_at % 1000;
	snprintf(hi, sizeof(hi), "%lld", (long long) (upper / 1000));
	body = search_body(&f, &st, 1, NULL);
	assert_string_equal(filter_value(body, "lastmodifieddate", "GTE"), "1768435200000");
	assert_string_equal(filter_value(body, "lastmodifieddate", "LT"), hi);
	assert_null(filter_value(body, "hs_object_id", "GT"));
	assert_string_equal(json_string(json_member(json_member(body, "sorts")->items[0],
												"propertyName")), "hs_object_id");
	assert_string_equal(json_string(json_member(body, "properties")->items[0]), "email");
	assert_int_equal(tx_int(body, "limit"), 2);
	assert_null(json_member(body, "after"));
	json_free(body);

	/* a page of the search: its records map as listed contacts do */
	page_state_init(&ps);
	assert_true(tx_feed_text(&f, &st, &ps,
							 "{\"total\":30,\"results\":[{\"id\":\"5\",\"properties\":"
							 "{\"email\":\"a@example.com\",\"createdate\":\"2026-02-01T00:00:00Z\","
							 "\"lastmodifieddate\":\"2026-02-02T00:00:00Z\"}},{\"id\":\"17\","
							 "\"properties\":{\"createdate\":\"2026-02-01T00:00:00Z\","
							 "\"lastmodifieddate\":\"2026-02-02T00:00:00Z\"}}],"
							 "\"paging\":{\"next\":{\"after\":\"2\"}}}", &err));
	assert_string_equal(ps.page.cursor, "2");
	body = search_body(&f, &st, ps.page.number, ps.page.cursor);
	assert_string_equal(json_string(json_member(body, "after")), "2");
	json_free(body);
	page_state_free(&ps);

	/* after 8 + 2 would pass the cap of 10: ids above 17, from the start */
	body = search_body(&f, &st, 5, "8");
	assert_string_equal(json_string(json_member(body, "after")), "8");
	json_free(body);
	body = search_body(&f, &st, 6, "10");
	assert_string_equal(filter_value(body, "hs_object_id", "GT"), "17");
	assert_string_equal(filter_value(body, "lastmodifieddate", "GTE"), "1768435200000");
	assert_null(json_member(body, "after"));
	json_free(body);
	/* the same page again (a retry) stays in its segment */
	page_state_init(&ps);
	assert_true(tx_feed_text(&f, &st, &ps,
							 "{\"total\":1,\"results\":[{\"id\":\"40\",\"properties\":"
							 "{\"createdate\":\"2026-02-01T00:00:00Z\","
							 "\"lastmodifieddate\":\"2026-02-02T00:00:00Z\"}}]}", &err));
	page_state_free(&ps);
	body = search_body(&f, &st, 6, "10");
	assert_string_equal(filter_value(body, "hs_object_id", "GT"), "17");
	json_free(body);

	/* nothing is saved before the commit, the upper bound after it */
	statedir = state_dir_path(f.cfg);
	assert_non_null(statedir);
	assert_true(state_read_watermark(statedir, "hubspot", "contacts", &found, &wm, &err));
	assert_false(found);
	tx_commit(&f);
	assert_true(vendor_hubspot.after_commit(f.state, &f.run, &err));
	assert_true(state_read_watermark(statedir, "hubspot", "contacts", &found, &wm, &err));
	assert_true(found);
	assert_true(wm == upper);

	/* the next run starts at the watermark */
	vendor_hubspot.close(f.state);
	f.state = NULL;
	source_run_free(&f.run);
	assert_true(source_run_init(&f.run, &vendor_hubspot, f.cfg, &f.cli, f.dir,
								"20260101T000001Z-abcdef", "cl-extract-test"));
	assert_true(vendor_hubspot.open(&f.run, &f.state, &err));
	assert_true(source_run_open_writers(&f.run));
	tx_next_stream(&f, &st);
	tx_next_stream(&f, &st);
	assert_string_equal(st.name, "contacts");
	body = search_body(&f, &st, 1, NULL);
	assert_string_equal(filter_value(body, "lastmodifieddate", "GTE"), hi);
	json_free(body);
	free(statedir);
	tx_close(&f);
}


/*
 * Incremental deals: the search on hs_lastmodifieddate keeps the deals
 * (a retried page replaces them), their contacts come from the v4
 * associations batch read in batches of 100 (each contact once, a deal
 * not asked for ignored, a deal left out of the answer without contacts),
 * and the rows are written when a batch is complete; the deals watermark
 * is saved after the commit.
 */
static void
test_extract_hubspot_deal_search(void **state)
{
	ExtractFixture f = { 0 };
	SourceStream st;
	SourceRequest req;
	SourcePage page = { 1, 0, NULL };
	PageState ps;
	ClError err = CL_OK;
	TextBuf page_text;
	JsonValue *body;
	RowSet deals;
	const JsonValue *d;
	const JsonValue *ids;
	char *statedir;
	bool found = false;
	ClTime wm = 0;
	static const char answer[] =
		"{\"status\":\"COMPLETE\",\"results\":[{\"from\":{\"id\":\"1\"},\"to\":["
		"{\"toObjectId\":11,\"associationTypes\":[{\"typeId\":3}]},{\"toObjectId\":12},"
		"{\"toObjectId\":11,\"associationTypes\":[{\"typeId\":7,\"label\":\"Buyer\"}]}]},"
		"{\"from\":{\"id\":\"555\"},\"to\":[{\"toObjectId\":9}]}]}";

	(void) state;
	open_at(&f, "start_date = 2026-01-15\n", "deals", &st);
	tx_request(&f, &st, &page, &req);
	assert_string_equal(req.method, "POST");
	assert_string_equal(tb_text(&req.url), "http://127.0.0.1:9/api/crm/v3/objects/deals/search");
	body = json_parse(tb_text(&req.body), req.body.len, NULL, 0);
	assert_non_null(body);
	assert_string_equal(filter_value(body, "hs_lastmodifieddate", "GTE"), "1768435200000");
	assert_non_null(filter_value(body, "hs_lastmodifieddate", "LT"));
	assert_null(filter_value(body, "lastmodifieddate", "GTE"));
	assert_string_equal(json_string(json_member(body, "properties")->items[0]), "dealname");
	json_free(body);
	tx_request_free(&req);

	/* 101 deals on one page, mapped twice (a retried attempt) */
	tb_init(&page_text, TEXTBUF_DEFAULT_MAX);
	tb_append(&page_text, "{\"total\":101,\"results\":[");
	for (int i = 1; i <= 101; i++)
		tb_printf(&page_text, "%s{\"id\":\"%d\",\"properties\":{\"dealname\":\"D%d\","
				  "\"amount\":\"10\",\"dealstage\":\"closedwon\",\"createdate\":"
				  "\"2026-02-01T00:00:00Z\",\"hs_lastmodifieddate\":\"2026-02-02T00:00:00Z\"}%s}",
				  i > 1 ? "," : "", i, i,
				  i == 1 ? ",\"associations\":{\"contacts\":{\"results\":[{\"id\":\"77\"}]}}" : "");
	tb_append(&page_text, "]}");
	assert_true(tb_ok(&page_text));
	for (int attempt = 0; attempt < 2; attempt++)
	{
		page_state_init(&ps);
		assert_true(tx_feed_text(&f, &st, &ps, tb_text(&page_text), &err));
		assert_int_equal(ps.records, 101);
		page_state_free(&ps);
	}
	tb_free(&page_text);

	/* the first batch: 100 ids */
	tx_next_stream(&f, &st);
	assert_string_equal(st.name, "deal associations");
	tx_request(&f, &st, &page, &req);
	assert_string_equal(req.method, "POST");
	assert_string_equal(tb_text(&req.url),
						"http://127.0.0.1:9/api/crm/v4/associations/deals/contacts/batch/read");
	assert_true(tx_has_header(&req, "Content-Type: application/json"));
	body = json_parse(tb_text(&req.body), req.body.len, NULL, 0);
	assert_non_null(body);
	assert_int_equal(json_member(body, "inputs")->count, 100);
	assert_string_equal(json_path_text(body, "inputs[0].id"), "1");
	assert_string_equal(json_path_text(body, "inputs[99].id"), "100");
	json_free(body);
	tx_request_free(&req);
	for (int attempt = 0; attempt < 2; attempt++)
	{
		page_state_init(&ps);
		assert_true(tx_feed_text(&f, &st, &ps, answer, &err));
		page_state_free(&ps);
	}

	/* the second batch: the last deal; an answer without from.id is refused */
	tx_next_stream(&f, &st);
	assert_string_equal(st.name, "deal associations");
	tx_request(&f, &st, &page, &req);
	assert_string_equal(tb_text(&req.body), "{\"inputs\":[{\"id\":\"101\"}]}");
	tx_request_free(&req);
	page_state_init(&ps);
	assert_false(tx_feed_text(&f, &st, &ps, "{\"results\":[{\"to\":[]}]}", &err));
	assert_int_equal(err, CL_ERR_DATA);
	page_state_free(&ps);
	page_state_init(&ps);
	assert_true(tx_feed_text(&f, &st, &ps,
							 "{\"results\":[{\"from\":{\"id\":\"101\"},\"to\":[{\"toObjectId\":"
							 "\"5\"}]}]}", &err));
	page_state_free(&ps);
	tx_next_stream(&f, &st);
	assert_string_equal(st.name, "archived contacts");

	statedir = state_dir_path(f.cfg);
	assert_non_null(statedir);
	tx_commit(&f);
	assert_true(state_read_watermark(statedir, "hubspot", "deals", &found, &wm, &err));
	assert_false(found);
	assert_true(vendor_hubspot.after_commit(f.state, &f.run, &err));
	assert_true(state_read_watermark(statedir, "hubspot", "deals", &found, &wm, &err));
	assert_true(found);
	assert_true(wm == f.run.started_at - f.run.started_at % 1000);
	free(statedir);

	tx_read(&f, "deal", &deals);
	assert_int_equal(deals.count, 101);
	d = tx_find(&deals, "deal_id", "1", NULL);
	ids = json_member(d, "contact_ids");
	assert_int_equal(ids->count, 2);
	assert_string_equal(json_string(ids->items[0]), "11");
	assert_string_equal(json_string(ids->items[1]), "12");
	assert_int_equal(tx_int(d, "amount_minor"), 1000);
	assert_true(tx_bool(d, "is_won"));
	d = tx_find(&deals, "deal_id", "2", NULL);
	assert_int_equal(json_member(d, "contact_ids")->count, 0);
	d = tx_find(&deals, "deal_id", "101", NULL);
	assert_string_equal(json_string(json_member(d, "contact_ids")->items[0]), "5");
	tx_rows_free(&deals);
	tx_close(&f);
}


/*
 * Form submissions: each contact the contacts stream read gets a stream of
 * its v1 profile's form-submissions[]; a submission is a form_submit touch
 * at its timestamp with the utm_* tags of its page URL (none: no source or
 * medium), keyed by its conversion-id or else its timestamp. A retried
 * contacts page does not read a contact twice; form_submissions = false
 * reads none.
 */
static void
test_extract_hubspot_form_submissions(void **state)
{
	ExtractFixture f = { 0 };
	SourceStream st;
	SourceRequest req;
	SourcePage page = { 1, 0, NULL };
	PageState ps;
	ClError err = CL_OK;
	RowSet touches;
	const JsonValue *t;
	ClDate date;
	bool more = true;
	static const char contacts[] =
		"{\"results\":[{\"id\":\"5\",\"properties\":{\"email\":\" A@Example.com\","
		"\"createdate\":\"2026-02-01T00:00:00Z\",\"lastmodifieddate\":\"2026-02-02T00:00:00Z\"}},"
		"{\"id\":\"6\",\"properties\":{\"createdate\":\"2026-02-01T00:00:00Z\","
		"\"lastmodifieddate\":\"2026-02-02T00:00:00Z\"}}]}";

	(void) state;
	open_at(&f, "", "contacts", &st);
	for (int attempt = 0; attempt < 2; attempt++)
	{
		page_state_init(&ps);
		assert_true(tx_feed_text(&f, &st, &ps, contacts, &err));
		page_state_free(&ps);
	}

	tx_next_stream(&f, &st);
	assert_string_equal(st.name, "form submissions");
	tx_request(&f, &st, &page, &req);
	assert_null(req.method);
	assert_string_equal(tb_text(&req.url), "http://127.0.0.1:9/api/contacts/v1/contact/vid/5/"
						"profile?formSubmissionMode=all&propertyMode=value_only"
						"&showListMemberships=false");
	assert_true(tx_has_header(&req, "Authorization: Bearer pat-test-token"));
	tx_request_free(&req);
	page_state_init(&ps);
	assert_true(tx_feed_text(&f, &st, &ps,
							 "{\"vid\":5,\"form-submissions\":[{\"conversion-id\":\"c-1\","
							 "\"timestamp\":1770710400123,\"form-id\":\"f\",\"title\":\"Demo\","
							 "\"page-url\":\"https://x.example/p?utm_source=linkedin&utm_medium="
							 "paid_social&utm_campaign=q1%20launch&utm_content=v2&utm_term=crm+app"
							 "#top\"},{\"timestamp\":1770796800000,\"page-url\":"
							 "\"https://x.example/contact\"},{\"timestamp\":1770883200000}],"
							 "\"properties\":{}}", &err));
	assert_int_equal(ps.records, 3);
	page_state_free(&ps);

	/* contact 6 (mapped twice, read once); a submission without a time is
	 * refused */
	tx_next_stream(&f, &st);
	assert_string_equal(st.name, "form submissions");
	assert_non_null(strstr(st.label, "contact 6"));
	page_state_init(&ps);
	assert_false(tx_feed_text(&f, &st, &ps, "{\"form-submissions\":[{\"page-url\":\"u\"}]}",
							  &err));
	assert_int_equal(err, CL_ERR_DATA);
	page_state_free(&ps);
	page_state_init(&ps);
	assert_true(tx_feed_text(&f, &st, &ps, "{\"form-submissions\":[]}", &err));
	page_state_free(&ps);
	tx_next_stream(&f, &st);
	assert_string_equal(st.name, "deals");
	tx_commit(&f);

	tx_read(&f, "touch", &touches);
	assert_int_equal(touches.count, 3);
	t = tx_find(&touches, "touch_id", "contact-5-form-c-1", &date);
	assert_int_equal(date, tx_date("2026-02-10"));
	assert_string_equal(tx_str(t, "kind"), "form_submit");
	assert_string_equal(tx_str(t, "at"), "2026-02-10T08:00:00.123000Z");
	assert_string_equal(tx_str(t, "source"), "linkedin");
	assert_string_equal(tx_str(t, "medium"), "paid_social");
	assert_string_equal(tx_str(t, "campaign"), "q1 launch");
	assert_string_equal(tx_str(t, "content"), "v2");
	assert_string_equal(tx_str(t, "term"), "crm app");
	assert_string_equal(tx_str(t, "person.email"), "a@example.com");
	assert_string_equal(tx_str(t, "person.crm_id"), "5");
	assert_non_null(strstr(tx_str(t, "url"), "utm_source=linkedin"));
	t = tx_find(&touches, "touch_id", "contact-5-form-1770796800000", NULL);
	assert_null(json_member(t, "source"));
	assert_null(json_member(t, "medium"));
	assert_string_equal(tx_str(t, "url"), "https://x.example/contact");
	t = tx_find(&touches, "touch_id", "contact-5-form-1770883200000", NULL);
	assert_null(json_member(t, "url"));
	tx_rows_free(&touches);
	tx_close(&f);

	/* switched off: no profile streams */
	memset(&f, 0, sizeof(f));
	open_at(&f, "form_submissions = false\n", "contacts", &st);
	page_state_init(&ps);
	assert_true(tx_feed_text(&f, &st, &ps, contacts, &err));
	page_state_free(&ps);
	tx_next_stream(&f, &st);
	assert_string_equal(st.name, "deals");
	/* a first run reads no archived objects: the run is complete */
	memset(&st, 0, sizeof(st));
	assert_true(vendor_hubspot.next_stream(f.state, &f.run, &st, &more, &err));
	assert_false(more);
	tx_close(&f);
}


/*
 * A contact deleted between the contact list and its profile request
 * answers HTTP 404: once a profile has been read in the run its form
 * submissions are left out and the run goes on; a 404 on the first profile
 * (a wrong base_url) and other failures still fail the stream.
 */
static void
test_extract_hubspot_deleted_contact_profile(void **state)
{
	ExtractFixture f = { 0 };
	SourceStream st;
	PageState ps;
	ClError err = CL_OK;
	HttpResponse gone = { 0 };
	HttpResponse unavailable = { 0 };
	RowSet touches;
	int64_t delay = -1;
	static const char contacts[] =
		"{\"results\":[{\"id\":\"5\",\"properties\":{\"createdate\":\"2026-02-01T00:00:00Z\","
		"\"lastmodifieddate\":\"2026-02-02T00:00:00Z\"}},"
		"{\"id\":\"6\",\"properties\":{\"createdate\":\"2026-02-01T00:00:00Z\","
		"\"lastmodifieddate\":\"2026-02-02T00:00:00Z\"}},"
		"{\"id\":\"7\",\"properties\":{\"createdate\":\"2026-02-01T00:00:00Z\","
		"\"lastmodifieddate\":\"2026-02-02T00:00:00Z\"}}]}";

	(void) state;
	gone.status = 404;
	unavailable.status = 503;
	open_at(&f, "", "contacts", &st);
	page_state_init(&ps);
	assert_true(tx_feed_text(&f, &st, &ps, contacts, &err));
	page_state_free(&ps);

	/* contact 5: a 404 before any profile was read is not explained away */
	tx_next_stream(&f, &st);
	assert_non_null(strstr(st.label, "contact 5"));
	(void) vendor_hubspot.classify(f.state, &gone, &delay);
	assert_false(vendor_hubspot.replace_stream(f.state, &st, CL_ERR_UNAVAILABLE));
	/* its retry succeeds */
	page_state_init(&ps);
	assert_true(tx_feed_text(&f, &st, &ps,
							 "{\"form-submissions\":[{\"conversion-id\":\"c-1\","
							 "\"timestamp\":1770710400123}]}", &err));
	page_state_free(&ps);

	/* contact 6: deleted meanwhile, skipped */
	tx_next_stream(&f, &st);
	assert_non_null(strstr(st.label, "contact 6"));
	(void) vendor_hubspot.classify(f.state, &gone, &delay);
	assert_true(vendor_hubspot.replace_stream(f.state, &st, CL_ERR_UNAVAILABLE));

	/* contact 7: unavailable is not a deletion */
	tx_next_stream(&f, &st);
	assert_non_null(strstr(st.label, "contact 7"));
	(void) vendor_hubspot.classify(f.state, &unavailable, &delay);
	assert_false(vendor_hubspot.replace_stream(f.state, &st, CL_ERR_UNAVAILABLE));
	page_state_init(&ps);
	assert_true(tx_feed_text(&f, &st, &ps, "{\"form-submissions\":[]}", &err));
	page_state_free(&ps);

	tx_next_stream(&f, &st);
	assert_string_equal(st.name, "deals");
	tx_commit(&f);
	tx_read(&f, "touch", &touches);
	assert_non_null(tx_find(&touches, "touch_id", "contact-5-form-c-1", NULL));
	tx_rows_free(&touches);
	tx_close(&f);
}


/*
 * utm_properties: the utm_* properties are requested, and those set
 * override the original-source touch's fields (the others keep the
 * mapped values); the latest-source touch is not affected.
 */
static void
test_extract_hubspot_utm_properties(void **state)
{
	ExtractFixture f = { 0 };
	SourceStream st;
	SourceRequest req;
	SourcePage page = { 1, 0, NULL };
	PageState ps;
	ClError err = CL_OK;
	RowSet touches;
	const JsonValue *t;

	(void) state;
	open_at(&f, "utm_properties = true\nform_submissions = false\n", "contacts", &st);
	tx_request(&f, &st, &page, &req);
	assert_non_null(strstr(tb_text(&req.url),
						   ",utm_source,utm_medium,utm_campaign,utm_content,utm_term"));
	tx_request_free(&req);
	page_state_init(&ps);
	assert_true(tx_feed_text(&f, &st, &ps,
							 "{\"results\":[{\"id\":\"1\",\"properties\":{\"createdate\":"
							 "\"2026-02-01T00:00:00Z\",\"lastmodifieddate\":\"2026-02-02T00:00:00Z\","
							 "\"hs_analytics_source\":\"PAID_SEARCH\",\"hs_analytics_source_data_1\":"
							 "\"Google\",\"hs_analytics_source_data_2\":\"hs-camp\",\"utm_source\":"
							 "\"bing\",\"utm_campaign\":\"spring\",\"utm_term\":\"crm\",\"utm_medium\":"
							 "\"\",\"hs_latest_source\":\"ORGANIC_SEARCH\",\"hs_latest_source_timestamp\":"
							 "\"2026-02-02T00:00:00Z\"}},{\"id\":\"2\",\"properties\":{\"createdate\":"
							 "\"2026-02-01T00:00:00Z\",\"lastmodifieddate\":\"2026-02-02T00:00:00Z\","
							 "\"hs_analytics_source\":\"REFERRALS\"}}]}", &err));
	page_state_free(&ps);
	tx_commit(&f);
	tx_read(&f, "touch", &touches);
	assert_int_equal(touches.count, 3);
	t = tx_find(&touches, "touch_id", "contact-1-original", NULL);
	assert_string_equal(tx_str(t, "source"), "bing");
	assert_string_equal(tx_str(t, "medium"), "cpc");
	assert_string_equal(tx_str(t, "campaign"), "spring");
	assert_null(json_member(t, "content"));
	assert_string_equal(tx_str(t, "term"), "crm");
	assert_string_equal(tx_str(t, "kind"), "ad_click");
	t = tx_find(&touches, "touch_id", "contact-1-latest-1769990400000", NULL);
	assert_string_equal(tx_str(t, "source"), "google");
	assert_null(json_member(t, "term"));
	t = tx_find(&touches, "touch_id", "contact-2-original", NULL);
	assert_string_equal(tx_str(t, "source"), "referral");
	assert_string_equal(tx_str(t, "medium"), "referral");
	tx_rows_free(&touches);
	tx_close(&f);

	/* off (the default): not requested */
	memset(&f, 0, sizeof(f));
	open_at(&f, "", "contacts", &st);
	tx_request(&f, &st, &page, &req);
	assert_null(strstr(tb_text(&req.url), "utm_source"));
	tx_request_free(&req);
	tx_close(&f);
}


/*
 * source_map_file: its lines replace the built-in rows they name (keeping
 * their kind and drill-down use) or add rows; a bad line or a missing
 * file is a configuration error.
 */
static void
test_extract_hubspot_source_map(void **state)
{
	ExtractFixture f = { 0 };
	SourceStream st;
	PageState ps;
	ClError err = CL_OK;
	RowSet touches;
	const JsonValue *t;
	char *dir = ts_make_tmpdir("hsmap");
	char path[1024];
	char ini[1200];
	static const char *const bad[] = {
		"ORGANIC_SEARCH\tseo\n",
		"ORGANIC_SEARCH\tseo\tgoogle\textra\n",
		"ORGANIC_SEARCH\t\tgoogle\n",
		"# fine\n\nDIRECT_TRAFFIC\tnone\tdirect\nPAID SEARCH\tcpc\tgoogle\n",
	};

	(void) state;
	snprintf(path, sizeof(path), "%s/map.tsv", dir);
	ts_write_file(path, "# value\tmedium\tsource\nORGANIC_SEARCH\tseo\tduckduckgo\r\n\n"
				  "DIRECT_TRAFFIC\tnone\tdirect\nPODCASTS\taudio\tpodcast\n");
	snprintf(ini, sizeof(ini), "source_map_file = %s\n", path);
	open_at(&f, ini, "contacts", &st);
	page_state_init(&ps);
	assert_true(tx_feed_text(&f, &st, &ps,
							 "{\"results\":[{\"id\":\"1\",\"properties\":{\"createdate\":"
							 "\"2026-02-01T00:00:00Z\",\"lastmodifieddate\":\"2026-02-02T00:00:00Z\","
							 "\"hs_analytics_source\":\"ORGANIC_SEARCH\"}},{\"id\":\"2\",\"properties\":"
							 "{\"createdate\":\"2026-02-01T00:00:00Z\",\"lastmodifieddate\":"
							 "\"2026-02-02T00:00:00Z\",\"hs_analytics_source\":\"ORGANIC_SEARCH\","
							 "\"hs_analytics_source_data_1\":\"Bing\"}},{\"id\":\"3\",\"properties\":"
							 "{\"createdate\":\"2026-02-01T00:00:00Z\",\"lastmodifieddate\":"
							 "\"2026-02-02T00:00:00Z\",\"hs_analytics_source\":\"DIRECT_TRAFFIC\","
							 "\"hs_analytics_source_data_1\":\"x\"}},{\"id\":\"4\",\"properties\":"
							 "{\"createdate\":\"2026-02-01T00:00:00Z\",\"lastmodifieddate\":"
							 "\"2026-02-02T00:00:00Z\",\"hs_analytics_source\":\"PODCASTS\"}},"
							 "{\"id\":\"5\",\"properties\":{\"createdate\":\"2026-02-01T00:00:00Z\","
							 "\"lastmodifieddate\":\"2026-02-02T00:00:00Z\",\"hs_analytics_source\":"
							 "\"PAID_SEARCH\"}}]}", &err));
	page_state_free(&ps);
	tx_commit(&f);
	tx_read(&f, "touch", &touches);
	t = tx_find(&touches, "touch_id", "contact-1-original", NULL);
	assert_string_equal(tx_str(t, "source"), "duckduckgo");
	assert_string_equal(tx_str(t, "medium"), "seo");
	assert_string_equal(tx_str(t, "kind"), "page_view");
	t = tx_find(&touches, "touch_id", "contact-2-original", NULL);
	assert_string_equal(tx_str(t, "source"), "bing");
	t = tx_find(&touches, "touch_id", "contact-3-original", NULL);
	assert_string_equal(tx_str(t, "source"), "direct");
	assert_string_equal(tx_str(t, "medium"), "none");
	t = tx_find(&touches, "touch_id", "contact-4-original", NULL);
	assert_string_equal(tx_str(t, "source"), "podcast");
	assert_string_equal(tx_str(t, "medium"), "audio");
	t = tx_find(&touches, "touch_id", "contact-5-original", NULL);
	assert_string_equal(tx_str(t, "source"), "google");
	assert_string_equal(tx_str(t, "medium"), "cpc");
	tx_rows_free(&touches);
	tx_close(&f);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		ts_write_file(path, bad[i]);
		memset(&f, 0, sizeof(f));
		snprintf(ini, sizeof(ini), "%ssource_map_file = %s\n", token_ini, path);
		assert_false(tx_open(&f, &vendor_hubspot, ini, &err));
		assert_int_equal(err, CL_ERR_CONFIG);
		tx_close(&f);
	}
	memset(&f, 0, sizeof(f));
	snprintf(ini, sizeof(ini), "%ssource_map_file = %s/missing.tsv\n", token_ini, dir);
	assert_false(tx_open(&f, &vendor_hubspot, ini, &err));
	assert_int_equal(err, CL_ERR_CONFIG);
	tx_close(&f);
	ts_rmdir_r(dir);
	free(dir);
}


/*
 * --from/--to searches those days and saves no watermark; --full-refresh
 * and a first run without start_date list every contact.
 */
static void
test_extract_hubspot_search_modes(void **state)
{
	ExtractFixture f = { 0 };
	SourceStream st;
	SourceRequest req;
	SourcePage page = { 1, 0, NULL };
	ClError err = CL_OK;
	JsonValue *body;
	char *statedir;
	bool found = true;
	ClTime wm;

	(void) state;
	tx_cli_window(&f, "2026-02-01", "2026-02-02");
	open_at(&f, "", "contacts", &st);
	body = search_body(&f, &st, 1, NULL);
	assert_string_equal(filter_value(body, "lastmodifieddate", "GTE"), "1769904000000");
	assert_string_equal(filter_value(body, "lastmodifieddate", "LT"), "1770076800000");
	json_free(body);
	tx_commit(&f);
	assert_true(vendor_hubspot.after_commit(f.state, &f.run, &err));
	statedir = state_dir_path(f.cfg);
	assert_true(state_read_watermark(statedir, "hubspot", "contacts", &found, &wm, &err));
	assert_false(found);
	free(statedir);
	tx_close(&f);

	memset(&f, 0, sizeof(f));
	f.cli.full_refresh = true;
	open_at(&f, "start_date = 2026-01-15\n", "contacts", &st);
	tx_request(&f, &st, &page, &req);
	assert_null(req.method);
	assert_non_null(strstr(tb_text(&req.url), "/crm/v3/objects/contacts?limit=2"));
	tx_request_free(&req);
	tx_close(&f);

	memset(&f, 0, sizeof(f));
	open_at(&f, "", "contacts", &st);
	tx_request(&f, &st, &page, &req);
	assert_null(req.method);
	tx_request_free(&req);
	tx_close(&f);

	memset(&f, 0, sizeof(f));
	f.cli.full_refresh = true;
	tx_cli_window(&f, "2026-02-01", "2026-02-02");
	assert_false(tx_open(&f, &vendor_hubspot, token_ini, &err));
	assert_int_equal(err, CL_ERR_USAGE);
	tx_close(&f);
}


/*
 * Archived objects: read on incremental runs only, kept when archived in
 * the run's window, written as deleted rows dated by archivedAt, without
 * a new touch.
 */
static void
test_extract_hubspot_archived(void **state)
{
	ExtractFixture f = { 0 };
	SourceStream st;
	SourceRequest req;
	SourcePage page = { 1, 0, NULL };
	PageState ps;
	ClError err = CL_OK;
	RowSet leads;
	RowSet deals;
	RowSet touches;
	const JsonValue *row;
	bool more = true;

	(void) state;
	open_at(&f, "start_date = 2026-01-15\n", "archived contacts", &st);
	tx_request(&f, &st, &page, &req);
	assert_non_null(strstr(tb_text(&req.url), "/crm/v3/objects/contacts?limit=2&archived=true&"));
	tx_request_free(&req);
	page_state_init(&ps);
	assert_true(tx_feed_text(&f, &st, &ps,
							 "{\"results\":[{\"id\":\"31\",\"properties\":{\"email\":\"x@example.com\","
							 "\"createdate\":\"2026-01-20T00:00:00Z\",\"lastmodifieddate\":"
							 "\"2026-01-21T00:00:00Z\",\"hs_analytics_source\":\"OFFLINE\"},"
							 "\"archived\":true,\"archivedAt\":\"2026-02-01T09:00:00Z\"},"
							 "{\"id\":\"32\",\"properties\":{\"createdate\":\"2025-12-01T00:00:00Z\","
							 "\"lastmodifieddate\":\"2025-12-02T00:00:00Z\"},\"archived\":true,"
							 "\"archivedAt\":\"2026-01-01T00:00:00Z\"}]}", &err));
	assert_false(tx_feed_text(&f, &st, &ps,
							  "{\"results\":[{\"id\":\"33\",\"properties\":{\"createdate\":"
							  "\"2026-01-20T00:00:00Z\",\"lastmodifieddate\":\"2026-01-21T00:00:00Z\"},"
							  "\"archived\":false}]}", &err));
	assert_int_equal(err, CL_ERR_DATA);
	page_state_free(&ps);

	tx_next_stream(&f, &st);
	assert_string_equal(st.name, "archived deals");
	page_state_init(&ps);
	assert_true(tx_feed_text(&f, &st, &ps,
							 "{\"results\":[{\"id\":\"77\",\"properties\":{\"dealname\":\"Gone\","
							 "\"createdate\":\"2026-01-20T00:00:00Z\",\"hs_lastmodifieddate\":"
							 "\"2026-01-21T00:00:00Z\"},\"archived\":true,"
							 "\"archivedAt\":\"2026-02-03T00:00:00Z\"}]}", &err));
	page_state_free(&ps);
	assert_true(vendor_hubspot.next_stream(f.state, &f.run, &st, &more, &err));
	assert_false(more);
	tx_commit(&f);

	tx_read(&f, "lead", &leads);
	assert_int_equal(leads.count, 1);
	row = tx_find(&leads, "lead_id", "31", NULL);
	assert_true(tx_bool(row, "is_deleted"));
	assert_string_equal(tx_str(row, "updated_at"), "2026-02-01T09:00:00Z");
	tx_read(&f, "touch", &touches);
	assert_int_equal(touches.count, 0);
	tx_read(&f, "deal", &deals);
	row = tx_find(&deals, "deal_id", "77", NULL);
	assert_true(tx_bool(row, "is_deleted"));
	assert_string_equal(tx_str(row, "updated_at"), "2026-02-03T00:00:00Z");
	tx_rows_free(&leads);
	tx_rows_free(&touches);
	tx_rows_free(&deals);
	tx_close(&f);

	/* a first run (no watermark, no start_date) reads no archived list */
	memset(&f, 0, sizeof(f));
	open_at(&f, "", "deals", &st);
	assert_true(vendor_hubspot.next_stream(f.state, &f.run, &st, &more, &err));
	assert_false(more);
	tx_close(&f);
}


/*
 * The latest source is a touch at hs_latest_source_timestamp; in the saved
 * payload it is the creating visit again (OFFLINE/API/sample-contact 68 ms
 * after createdate), which is not counted twice.
 */
static void
test_extract_hubspot_latest_source(void **state)
{
	ExtractFixture f = { 0 };
	SourceStream st;
	PageState ps;
	ClError err;
	RowSet touches;
	const JsonValue *t;
	ClDate date;

	(void) state;
	open_at(&f, "", "contacts", &st);
	page_state_init(&ps);
	assert_true(tx_feed_fixture(&f, &st, &ps,
								"vendors/hubspot/contacts_with_property_history_v3.json", &err));
	assert_true(tx_feed_text(&f, &st, &ps,
							 "{\"results\":[{\"id\":\"7\",\"properties\":{\"email\":\"g@example.com\","
							 "\"createdate\":\"2026-01-05T09:00:00Z\",\"lastmodifieddate\":"
							 "\"2026-02-10T09:00:00Z\",\"hs_analytics_source\":\"ORGANIC_SEARCH\","
							 "\"hs_analytics_source_data_1\":\"Bing\",\"hs_latest_source\":"
							 "\"PAID_SEARCH\",\"hs_latest_source_data_1\":\"Google\","
							 "\"hs_latest_source_data_2\":\"spring\",\"hs_latest_source_timestamp\":"
							 "\"2026-02-10T08:00:00.123Z\"}}]}", &err));
	page_state_free(&ps);
	tx_commit(&f);
	tx_read(&f, "touch", &touches);
	assert_int_equal(touches.count, 3);
	(void) tx_find(&touches, "touch_id", "contact-1-original", NULL);
	t = tx_find(&touches, "touch_id", "contact-7-original", NULL);
	assert_string_equal(tx_str(t, "source"), "bing");
	assert_string_equal(tx_str(t, "medium"), "organic");
	t = tx_find(&touches, "touch_id", "contact-7-latest-1770710400123", &date);
	assert_int_equal(date, tx_date("2026-02-10"));
	assert_string_equal(tx_str(t, "at"), "2026-02-10T08:00:00.123000Z");
	assert_string_equal(tx_str(t, "kind"), "ad_click");
	assert_string_equal(tx_str(t, "source"), "google");
	assert_string_equal(tx_str(t, "medium"), "cpc");
	assert_string_equal(tx_str(t, "campaign"), "spring");
	assert_string_equal(tx_str(t, "person.email"), "g@example.com");
	assert_string_equal(tx_str(t, "person.crm_id"), "7");
	assert_string_equal(tx_str(t, "updated_at"), "2026-02-10T09:00:00Z");
	tx_rows_free(&touches);
	tx_close(&f);
}


static void
test_extract_hubspot_cursor_must_advance(void **state)
{
	ExtractFixture f = { 0 };
	SourceStream st;
	PageState ps;
	ClError err;
	const char *body = "{\"results\":[],\"paging\":{\"next\":{\"after\":\"100\"}}}";

	(void) state;
	open_at(&f, "", "contacts", &st);
	page_state_init(&ps);
	assert_true(tx_feed_text(&f, &st, &ps, body, &err));
	assert_false(ps.done);
	assert_false(tx_feed_text(&f, &st, &ps, body, &err));
	assert_int_equal(err, CL_ERR_DATA);
	page_state_free(&ps);
	tx_close(&f);
}


static void
test_extract_hubspot_config(void **state)
{
	ExtractFixture f = { 0 };
	ClError err;

	(void) state;
	assert_false(tx_open(&f, &vendor_hubspot, "[crm.hubspot]\nenabled = true\n", &err));
	assert_int_equal(err, CL_ERR_CONFIG);
	tx_close(&f);

	memset(&f, 0, sizeof(f));
	assert_false(tx_open(&f, &vendor_hubspot,
						 "[crm.hubspot]\nenabled = true\nclient_id = c\nclient_secret = s\n", &err));
	assert_int_equal(err, CL_ERR_CONFIG);
	tx_close(&f);

	memset(&f, 0, sizeof(f));
	assert_false(tx_open(&f, &vendor_hubspot,
						 "[crm.hubspot]\nenabled = true\ntoken = t0ken\nbase_url = ftp://x\n", &err));
	assert_int_equal(err, CL_ERR_CONFIG);
	tx_close(&f);

	memset(&f, 0, sizeof(f));
	assert_false(tx_open(&f, &vendor_hubspot,
						 "[crm.hubspot]\nenabled = true\ntoken = t0ken\n"
						 "product_group_property = a&b\n", &err));
	assert_int_equal(err, CL_ERR_CONFIG);
	tx_close(&f);
}


static void
test_extract_hubspot_error_bodies(void **state)
{
	ExtractFixture f = { 0 };
	HttpResponse resp;
	ClError err;
	char msg[1024];
	int64_t delay = -1;
	static const char secondly[] =
		"{\"status\":\"error\",\"message\":\"You have reached your secondly limit.\","
		"\"errorType\":\"RATE_LIMIT\",\"policyName\":\"SECONDLY\"}";

	(void) state;
	/* the saved daily-limit body: no point retrying within the run, and a
	 * temporary failure for the scheduler */
	tx_error_response(&resp, 429, "vendors/hubspot/error_429_rate_limit.json");
	assert_int_equal(vendor_hubspot.classify(NULL, &resp, &delay), HTTP_VERDICT_FAIL);
	assert_int_equal(vendor_hubspot.explain_error(&resp, msg, sizeof(msg)), CL_ERR_TEMPORARY);
	assert_non_null(strstr(msg, "You have reached your daily limit."));
	assert_non_null(strstr(msg, "RATE_LIMIT"));
	assert_non_null(strstr(msg, "DAILY"));
	assert_non_null(strstr(msg, "c033cdaa-2c40-4a64-ae48-b4cec88dad24"));
	http_response_reset(&resp);

	/* the per-second limit is retried the engine's way */
	memset(&resp, 0, sizeof(resp));
	resp.status = 429;
	resp.error_body = strdup(secondly);
	resp.error_body_len = strlen(secondly);
	assert_int_equal(vendor_hubspot.classify(NULL, &resp, &delay), HTTP_VERDICT_DEFAULT);
	assert_int_equal(vendor_hubspot.explain_error(&resp, msg, sizeof(msg)), CL_OK);
	http_response_reset(&resp);

	/* an expired token is refreshed with OAuth, a config error with a token */
	memset(&resp, 0, sizeof(resp));
	resp.status = 401;
	assert_true(tx_open(&f, &vendor_hubspot,
						"[crm.hubspot]\nenabled = true\nclient_id = cid\nclient_secret = csecret\n"
						"refresh_token = rtoken\n", &err));
	assert_int_equal(vendor_hubspot.classify(f.state, &resp, &delay), HTTP_VERDICT_REAUTH);
	tx_close(&f);
	memset(&f, 0, sizeof(f));
	assert_true(tx_open(&f, &vendor_hubspot, token_ini, &err));
	assert_int_equal(vendor_hubspot.classify(f.state, &resp, &delay), HTTP_VERDICT_DEFAULT);
	tx_close(&f);
}


int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_extract_hubspot_contacts_list),
		cmocka_unit_test(test_extract_hubspot_contacts_original_source),
		cmocka_unit_test(test_extract_hubspot_source_table),
		cmocka_unit_test(test_extract_hubspot_contact_values),
		cmocka_unit_test(test_extract_hubspot_contact_bad_timestamp),
		cmocka_unit_test(test_extract_hubspot_deals_list),
		cmocka_unit_test(test_extract_hubspot_deal_stages),
		cmocka_unit_test(test_extract_hubspot_deal_fallback_stages),
		cmocka_unit_test(test_extract_hubspot_deal_bad_values),
		cmocka_unit_test(test_extract_hubspot_requests),
		cmocka_unit_test(test_extract_hubspot_search_incremental),
		cmocka_unit_test(test_extract_hubspot_search_modes),
		cmocka_unit_test(test_extract_hubspot_deal_search),
		cmocka_unit_test(test_extract_hubspot_form_submissions),
		cmocka_unit_test(test_extract_hubspot_deleted_contact_profile),
		cmocka_unit_test(test_extract_hubspot_utm_properties),
		cmocka_unit_test(test_extract_hubspot_source_map),
		cmocka_unit_test(test_extract_hubspot_archived),
		cmocka_unit_test(test_extract_hubspot_latest_source),
		cmocka_unit_test(test_extract_hubspot_cursor_must_advance),
		cmocka_unit_test(test_extract_hubspot_config),
		cmocka_unit_test(test_extract_hubspot_error_bodies),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
