/*
 * emit.c: writes the vendor payloads, routes.txt, expected.json and
 * README.txt of a generated world (mailchimp activity files are written by
 * mail.c as they are generated).
 *
 * Records are shaped like the saved vendor payloads in
 * shared/fixtures/vendors: HubSpot CRM v3 objects, Google Ads searchStream
 * result rows, Mailchimp campaigns. Ids are strings and int64 metrics are
 * strings where the vendor sends them so.
 */
#include <inttypes.h>
#include <string.h>

#include "datagen.h"

static const char *const stage_ids[] = {
	"appointmentscheduled", "qualifiedtobuy", "presentationscheduled",
	"decisionmakerboughtin", "contractsent", "closedwon", "closedlost"
};
static const char *const stage_labels[] = {
	"Appointment Scheduled", "Qualified To Buy", "Presentation Scheduled",
	"Decision Maker Bought-In", "Contract Sent", "Closed Won", "Closed Lost"
};
static const char *const stage_probability[] = {"0.2", "0.4", "0.6", "0.8", "0.9", "1.0", "0.0"};

/* ------------------------------------------------------------------ */
/* HubSpot                                                             */
/* ------------------------------------------------------------------ */

static void
write_contact(DgOut *o, const DgWorld *w, const DgContact *c, bool old)
{
	const DgCompany *co = &w->companies[c->company];
	DgTime modified = old ? c->old_modified : c->modified;
	char created[DG_TIME_BUFSIZE];
	char updated[DG_TIME_BUFSIZE];
	char email[DG_EMAIL_SIZE + 8];

	dg_format_hubspot(c->created, created);
	dg_format_hubspot(modified, updated);
	dg_contact_email_display(c, email, sizeof(email));

	dg_out_printf(o, "{\"id\":\"%" PRId64 "\",\"properties\":{\"createdate\":\"%s\",\"email\":",
				  c->id, created);
	dg_out_str(o, c->email[0] != '\0' ? email : NULL);
	dg_out_printf(o, ",\"firstname\":");
	dg_out_str(o, dg_first_name(c->first_name));
	dg_out_printf(o, ",\"lastname\":");
	dg_out_str(o, dg_last_name(c->last_name));
	dg_out_printf(o, ",\"company\":");
	dg_out_str(o, co->name);
	dg_out_printf(o, ",\"hs_object_id\":\"%" PRId64 "\",\"lastmodifieddate\":\"%s\","
				  "\"lifecyclestage\":\"%s\",\"hubspot_owner_id\":\"%s\","
				  "\"hs_analytics_source\":\"%s\",\"hs_analytics_source_data_1\":",
				  c->id, updated, old ? c->old_lifecycle : c->lifecycle,
				  dg_owner_ids[c->owner], dg_source_names[c->source]);
	dg_out_str(o, c->data1);
	dg_out_printf(o, ",\"hs_analytics_source_data_2\":");
	dg_out_str(o, c->data2);
	dg_out_printf(o, ",\"product_group\":\"%s\"},\"createdAt\":\"%s\",\"updatedAt\":\"%s\","
				  "\"archived\":false}\n", dg_product_names[c->product], created, updated);
}

/*
 * write_contacts lists every contact once at its place in id order; the
 * other version of a contact with two is appended at the end, the way a
 * record changed during paging shows up again on a later page.
 */
static bool
write_contacts(const DgWorld *w)
{
	DgOut o;

	if (!dg_out_open(&o, w->p.out_dir, "hubspot/contacts.ndjson"))
	{
		/* errors have already been logged */
		return false;
	}
	for (int i = 0; i < w->n_contacts; i++)
	{
		const DgContact *c = &w->contacts[i];

		write_contact(&o, w, c, c->has_old && !c->old_last);
	}
	for (int i = 0; i < w->n_contacts; i++)
	{
		const DgContact *c = &w->contacts[i];

		if (c->has_old)
		{
			write_contact(&o, w, c, c->old_last);
		}
	}
	return dg_out_close(&o);
}

/* HubSpot amounts are decimal strings as typed: "12500", "4999.99". */
static void
format_amount(int64_t cents, int style, char *buf, size_t size)
{
	if (cents % 100 == 0)
	{
		(void) snprintf(buf, size, style == 1 ? "%" PRId64 ".00" : "%" PRId64, cents / 100);
	}
	else
	{
		(void) snprintf(buf, size, "%" PRId64 ".%02" PRId64, cents / 100, cents % 100);
	}
}

static void
deal_name(const DgWorld *w, const DgDeal *d, char *buf, size_t size)
{
	const char *company = w->companies[d->company].name;
	const char *product = dg_product_names[d->product];

	if (d->name_style == 255)
	{
		(void) snprintf(buf, size, "%s renewal", company);
	}
	else if (d->name_style == 0)
	{
		(void) snprintf(buf, size, "%s - %s \"pilot\"", company, product);
	}
	else if (d->name_style < 16)
	{
		(void) snprintf(buf, size, "%s - %s", company, product);
	}
	else if (d->name_style < 28)
	{
		(void) snprintf(buf, size, "%s \xE2\x80\x93 %s (annual)", company, product);
	}
	else
	{
		(void) snprintf(buf, size, "%s %s expansion", company, product);
	}
}

static void
write_deal(DgOut *o, const DgWorld *w, const DgDeal *d, bool old)
{
	const DgDealVersion *v = old ? &d->old : &d->cur;
	char created[DG_TIME_BUFSIZE];
	char updated[DG_TIME_BUFSIZE];
	char closed[DG_TIME_BUFSIZE];
	char amount[32];
	char name[160];

	dg_format_hubspot(d->created, created);
	dg_format_hubspot(v->modified, updated);
	format_amount(v->amount, d->amount_style, amount, sizeof(amount));
	deal_name(w, d, name, sizeof(name));

	dg_out_printf(o, "{\"id\":\"%" PRId64 "\",\"properties\":{\"amount\":\"%s\",\"closedate\":",
				  d->id, amount);
	dg_out_str(o, v->closed != DG_NO_TIME ? dg_format_hubspot(v->closed, closed) : NULL);
	dg_out_printf(o, ",\"createdate\":\"%s\",\"deal_currency_code\":\"USD\",\"dealname\":", created);
	dg_out_str(o, name);
	dg_out_printf(o, ",\"dealstage\":\"%s\",\"hs_lastmodifieddate\":\"%s\","
				  "\"hs_object_id\":\"%" PRId64 "\",\"hubspot_owner_id\":\"%s\","
				  "\"pipeline\":\"default\",\"product_group\":\"%s\"}",
				  v->stage, updated, d->id, dg_owner_ids[d->owner], dg_product_names[d->product]);
	if (d->n_contacts > 0)
	{
		dg_out_printf(o, ",\"associations\":{\"contacts\":{\"results\":[");
		for (int j = 0; j < d->n_contacts; j++)
		{
			dg_out_printf(o, "%s{\"id\":\"%" PRId64 "\",\"type\":\"deal_to_contact\"}",
						  j > 0 ? "," : "", w->contacts[d->contacts[j]].id);
		}
		dg_out_printf(o, "]}}");
	}
	dg_out_printf(o, ",\"createdAt\":\"%s\",\"updatedAt\":\"%s\",\"archived\":%s}\n",
				  created, updated, v->archived ? "true" : "false");
}

/* write_deals orders versions like write_contacts. */
static bool
write_deals(const DgWorld *w)
{
	DgOut o;

	if (!dg_out_open(&o, w->p.out_dir, "hubspot/deals.ndjson"))
	{
		/* errors have already been logged */
		return false;
	}
	for (int i = 0; i < w->n_deals; i++)
	{
		const DgDeal *d = &w->deals[i];

		write_deal(&o, w, d, d->has_old && !d->old_last);
	}
	for (int i = 0; i < w->n_deals; i++)
	{
		const DgDeal *d = &w->deals[i];

		if (d->has_old)
		{
			write_deal(&o, w, d, d->old_last);
		}
	}
	return dg_out_close(&o);
}

/* The deal pipeline in the shape of GET /crm/v3/pipelines/deals. */
static bool
write_pipelines(const DgWorld *w)
{
	char stamp[DG_TIME_BUFSIZE];
	DgOut o;

	if (!dg_out_open(&o, w->p.out_dir, "hubspot/pipelines.json"))
	{
		/* errors have already been logged */
		return false;
	}
	/* the pipeline was set up long before the window */
	dg_format_hubspot(w->window_start - 400 * DG_MS_PER_DAY + 9 * DG_MS_PER_HOUR, stamp);
	dg_out_printf(&o, "{\"results\":[{\"label\":\"Sales Pipeline\",\"displayOrder\":0,"
				  "\"id\":\"default\",\"stages\":[");
	for (size_t i = 0; i < sizeof(stage_ids) / sizeof(stage_ids[0]); i++)
	{
		dg_out_printf(&o, "%s{\"label\":\"%s\",\"displayOrder\":%zu,\"metadata\":"
					  "{\"isClosed\":\"%s\",\"probability\":\"%s\"},\"id\":\"%s\","
					  "\"createdAt\":\"%s\",\"updatedAt\":\"%s\",\"archived\":false}",
					  i > 0 ? "," : "", stage_labels[i], i, i >= 5 ? "true" : "false",
					  stage_probability[i], stage_ids[i], stamp, stamp);
	}
	dg_out_printf(&o, "],\"createdAt\":\"%s\",\"updatedAt\":\"%s\",\"archived\":false}]}\n",
				  stamp, stamp);
	return dg_out_close(&o);
}

/*
 * The contacts v1 profile that every contact's form-submissions request
 * gets: the demo company's contacts submitted no forms, so the ground
 * truth (truth.c) has no form touches.
 */
static bool
write_profile(const DgWorld *w)
{
	DgOut o;

	if (!dg_out_open(&o, w->p.out_dir, "hubspot/contact_profile.json"))
	{
		/* errors have already been logged */
		return false;
	}
	dg_out_printf(&o, "{\"form-submissions\":[]}\n");
	return dg_out_close(&o);
}

/* ------------------------------------------------------------------ */
/* Google Ads                                                          */
/* ------------------------------------------------------------------ */

static bool
write_google(const DgWorld *w)
{
	DgOut o;

	if (!dg_out_open(&o, w->p.out_dir, "google_ads/token.json"))
	{
		/* errors have already been logged */
		return false;
	}
	dg_out_printf(&o, "{\"access_token\":\"demo-google-access\",\"expires_in\":3599,"
				  "\"scope\":\"https://www.googleapis.com/auth/adwords\",\"token_type\":\"Bearer\"}\n");
	if (!dg_out_close(&o))
	{
		return false;
	}
	for (int c = 0; c < w->p.customers; c++)
	{
		int64_t cid = w->customer_ids[c];
		char rel[64];

		(void) snprintf(rel, sizeof(rel), "google_ads/%" PRId64 ".ndjson", cid);
		if (!dg_out_open(&o, w->p.out_dir, rel))
		{
			return false;
		}
		for (size_t r = 0; r < w->n_ad_rows; r++)
		{
			const DgAdRow *row = &w->ad_rows[r];
			const DgAdCampaign *a = &w->ads[row->campaign];
			char date[DG_DATE_BUFSIZE];

			if (a->customer != c)
			{
				continue;
			}
			dg_out_printf(&o, "{\"customer\":{\"resourceName\":\"customers/%" PRId64 "\","
						  "\"id\":\"%" PRId64 "\",\"currencyCode\":\"USD\"},"
						  "\"campaign\":{\"resourceName\":\"customers/%" PRId64 "/campaigns/%" PRId64 "\","
						  "\"id\":\"%" PRId64 "\",\"name\":\"%s\"},"
						  "\"metrics\":{\"clicks\":\"%" PRId64 "\",\"costMicros\":\"%" PRId64 "\","
						  "\"impressions\":\"%" PRId64 "\"},\"segments\":{\"date\":\"%s\"}}\n",
						  cid, cid, cid, a->id, a->id, a->name, row->clicks, row->cost_micros,
						  row->impressions, dg_format_date(row->date, date));
		}
		if (!dg_out_close(&o))
		{
			return false;
		}
	}
	return true;
}

/* ------------------------------------------------------------------ */
/* Mailchimp                                                           */
/* ------------------------------------------------------------------ */

/*
 * format_ratio writes num/den as a JSON number with up to 10 decimals,
 * like Mailchimp's reported rates, using integers only so the digits are
 * the same everywhere.
 */
static void
format_ratio(int64_t num, int64_t den, char *buf, size_t size)
{
	const int64_t scale = INT64_C(10000000000);
	int64_t q;
	int64_t frac;
	int len;

	if (den <= 0 || num <= 0)
	{
		(void) snprintf(buf, size, "0");
		return;
	}
	q = (num * scale * 2 + den) / (den * 2);
	frac = q % scale;
	if (frac == 0)
	{
		(void) snprintf(buf, size, "%" PRId64, q / scale);
		return;
	}
	len = snprintf(buf, size, "%" PRId64 ".%010" PRId64, q / scale, frac);
	while (len > 0 && buf[len - 1] == '0')
	{
		buf[--len] = '\0';
	}
}

static bool
write_mail_campaigns(const DgWorld *w)
{
	DgOut o;

	if (!dg_out_open(&o, w->p.out_dir, "mailchimp/campaigns.ndjson"))
	{
		/* errors have already been logged */
		return false;
	}
	for (int i = 0; i < w->n_mails; i++)
	{
		const DgMailCampaign *m = &w->mails[i];
		int64_t delivered = m->emails_sent - m->bounces;
		char created[DG_TIME_BUFSIZE];
		char sent[DG_TIME_BUFSIZE];
		char date[DG_DATE_BUFSIZE];
		char title[96];
		char open_rate[32];
		char click_rate[32];

		dg_format_mailchimp(m->created, created);
		dg_format_mailchimp(m->sent, sent);
		(void) snprintf(title, sizeof(title), "%s %s", m->kind == 0 ? "Newsletter" : "Product update",
						dg_format_date(dg_time_date(m->sent), date));
		format_ratio(m->unique_opens, delivered, open_rate, sizeof(open_rate));
		format_ratio(m->subscriber_clicks, delivered, click_rate, sizeof(click_rate));

		dg_out_printf(&o, "{\"id\":\"%s\",\"web_id\":%" PRId64 ",\"type\":\"regular\","
					  "\"create_time\":\"%s\",\"archive_url\":\"http://eepurl.com/%s\","
					  "\"long_archive_url\":\"https://us1.campaign-archive.com/?u=%s&id=%s\","
					  "\"status\":\"sent\",\"emails_sent\":%" PRId64 ",\"send_time\":\"%s\","
					  "\"content_type\":\"template\",\"recipients\":{\"list_id\":\"%s\","
					  "\"list_is_active\":true,\"list_name\":\"Example Company Newsletter\","
					  "\"segment_text\":\"\",\"recipient_count\":%" PRId64 "},"
					  "\"settings\":{\"subject_line\":",
					  m->id, m->web_id, created, m->id, w->list_id, m->id, m->emails_sent, sent,
					  w->list_id, m->emails_sent);
		dg_out_str(&o, dg_mail_subject(m));
		dg_out_printf(&o, ",\"preview_text\":\"\",\"title\":");
		dg_out_str(&o, title);
		dg_out_printf(&o, ",\"from_name\":\"Example Company\",\"reply_to\":\"news@example-company.com\","
					  "\"use_conversation\":false,\"to_name\":\"*|FNAME|*\",\"folder_id\":\"\","
					  "\"authenticate\":true,\"auto_footer\":false,\"inline_css\":false,"
					  "\"auto_tweet\":false,\"fb_comments\":false,\"timewarp\":false,"
					  "\"template_id\":10001,\"drag_and_drop\":true},"
					  "\"tracking\":{\"opens\":true,\"html_clicks\":true,\"text_clicks\":false,"
					  "\"goal_tracking\":false,\"ecomm360\":false,\"google_analytics\":\"%s\","
					  "\"clicktale\":\"\"},"
					  "\"report_summary\":{\"opens\":%" PRId64 ",\"unique_opens\":%" PRId64 ","
					  "\"open_rate\":%s,\"clicks\":%" PRId64 ",\"subscriber_clicks\":%" PRId64 ","
					  "\"click_rate\":%s,\"ecommerce\":{\"total_orders\":0,\"total_spent\":0,"
					  "\"total_revenue\":0}},"
					  "\"delivery_status\":{\"enabled\":false}}\n",
					  m->utm, m->opens, m->unique_opens, open_rate, m->clicks,
					  m->subscriber_clicks, click_rate);
	}
	return dg_out_close(&o);
}

/*
 * write_mail_reports writes mailchimp/report_<id>.json, what GET
 * /reports/{id} answers for each campaign: the counts of its report
 * summary, every bounce counted as hard, no unsubscribes.
 */
static bool
write_mail_reports(const DgWorld *w)
{
	for (int i = 0; i < w->n_mails; i++)
	{
		const DgMailCampaign *m = &w->mails[i];
		char rel[64];
		char sent[DG_TIME_BUFSIZE];
		DgOut o;

		(void) snprintf(rel, sizeof(rel), "mailchimp/report_%s.json", m->id);
		if (!dg_out_open(&o, w->p.out_dir, rel))
		{
			/* errors have already been logged */
			return false;
		}
		dg_format_mailchimp(m->sent, sent);
		dg_out_printf(&o, "{\"id\":\"%s\",\"type\":\"regular\",\"list_id\":\"%s\","
					  "\"emails_sent\":%" PRId64 ",\"abuse_reports\":0,\"unsubscribed\":0,"
					  "\"send_time\":\"%s\",\"bounces\":{\"hard_bounces\":%" PRId64 ","
					  "\"soft_bounces\":0,\"syntax_errors\":0},\"opens\":{\"opens_total\":%" PRId64
					  ",\"unique_opens\":%" PRId64 "},\"clicks\":{\"clicks_total\":%" PRId64 ","
					  "\"unique_clicks\":%" PRId64 ",\"unique_subscriber_clicks\":%" PRId64 "}}\n",
					  m->id, w->list_id, m->emails_sent, sent, m->bounces, m->opens,
					  m->unique_opens, m->clicks, m->subscriber_clicks, m->subscriber_clicks);
		if (!dg_out_close(&o))
		{
			/* errors have already been logged */
			return false;
		}
	}
	return true;
}

/* ------------------------------------------------------------------ */
/* Routes, truth, README                                               */
/* ------------------------------------------------------------------ */

static bool
write_routes(const DgWorld *w)
{
	DgOut o;

	if (!dg_out_open(&o, w->p.out_dir, "routes.txt"))
	{
		/* errors have already been logged */
		return false;
	}
	dg_out_printf(&o,
				  "GET  /crm/v3/objects/contacts  bearer:demo-hubspot-token  cursor  hubspot/contacts.ndjson\n"
				  "GET  /crm/v3/objects/deals  bearer:demo-hubspot-token  cursor  hubspot/deals.ndjson\n"
				  "GET  /crm/v3/pipelines/deals  bearer:demo-hubspot-token  file  hubspot/pipelines.json\n"
				  "GET  /contacts/v1/contact/vid/{id}/profile  bearer:demo-hubspot-token  file  "
				  "hubspot/contact_profile.json\n"
				  "POST  /google/token  none  file  google_ads/token.json\n"
				  "POST  /v17/customers/{cid}/googleAds:searchStream  "
				  "bearer:demo-google-access,header:developer-token=demo-developer-token  "
				  "stream  google_ads/{cid}.ndjson\n"
				  "GET  /3.0/campaigns  basic:*:demo-mailchimp-key-us1  offset  "
				  "mailchimp/campaigns.ndjson  campaigns\n"
				  "GET  /3.0/reports/{id}/email-activity  basic:*:demo-mailchimp-key-us1  offset  "
				  "mailchimp/activity_{id}.ndjson  emails\n"
				  "GET  /3.0/reports/{id}  basic:*:demo-mailchimp-key-us1  file  "
				  "mailchimp/report_{id}.json\n");
	return dg_out_close(&o);
}

static void
money(int64_t cents, char *buf, size_t size)
{
	(void) snprintf(buf, size, "%" PRId64 ".%02" PRId64, cents / 100, cents % 100);
}

static void
write_model(DgOut *o, const char *model, const DgChannelCredit *credit, bool last)
{
	bool first = true;

	dg_out_printf(o, "    \"%s\": {", model);
	for (int c = 0; c < DG_N_CHANNELS; c++)
	{
		if (credit[c].deals == 0)
		{
			continue;
		}
		dg_out_printf(o, "%s\n      \"%s\": {\"revenue_minor\": %" PRId64 ", \"deals\": %" PRId64 "}",
					  first ? "" : ",", dg_channel_names[c], credit[c].revenue, credit[c].deals);
		first = false;
	}
	dg_out_printf(o, "%s}%s\n", first ? "" : "\n    ", last ? "" : ",");
}

/* expected.json: see docs/DEMO_DATA.md for every field. */
static bool
write_expected(const DgWorld *w, const DgTruth *t)
{
	char from[DG_DATE_BUFSIZE];
	char to[DG_DATE_BUFSIZE];
	DgOut o;

	if (!dg_out_open(&o, w->p.out_dir, "expected.json"))
	{
		/* errors have already been logged */
		return false;
	}
	dg_format_date(w->p.from, from);
	dg_format_date(w->p.to, to);
	dg_out_printf(&o, "{\n  \"generator\": \"cl-datagen\",\n"
				  "  \"params\": {\"seed\": %" PRIu64 ", \"leads\": %d, \"customers\": %d},\n"
				  "  \"window\": {\"from\": \"%s\", \"to\": \"%s\"},\n"
				  "  \"currency\": \"USD\",\n  \"lookback_days\": %d,\n"
				  "  \"google_ads_customer_ids\": [",
				  w->p.seed, w->p.leads, w->p.customers, from, to, DG_LOOKBACK_DAYS);
	for (int c = 0; c < w->p.customers; c++)
	{
		dg_out_printf(&o, "%s\"%" PRId64 "\"", c > 0 ? ", " : "", w->customer_ids[c]);
	}
	dg_out_printf(&o, "],\n  \"totals\": {\n"
				  "    \"leads\": %" PRId64 ",\n    \"won_deals\": %" PRId64 ",\n"
				  "    \"revenue_minor\": %" PRId64 ",\n    \"spend_minor\": %" PRId64 ",\n"
				  "    \"clicks\": %" PRId64 ",\n    \"impressions\": %" PRId64 ",\n"
				  "    \"journey_touches\": %" PRId64 ",\n    \"deals_without_touches\": %" PRId64 "\n"
				  "  },\n  \"attribution\": {\n",
				  t->leads, t->won_deals, t->revenue, t->spend, t->clicks, t->impressions,
				  t->journey_touches, t->deals_without_touches);
	write_model(&o, "first_touch", t->first_touch, false);
	write_model(&o, "last_touch", t->last_touch, true);
	dg_out_printf(&o, "  }\n}\n");
	return dg_out_close(&o);
}

/* Counts for README.txt, from the newest version of each record. */
typedef struct Counts
{
	int contact_lines;
	int no_email;
	int messy_email;
	int contact_versions;
	int deal_lines;
	int won;
	int lost;
	int open;
	int archived;
	int deal_versions;
	int multi_contact;
	int no_contact;
	int known_clicks;
} Counts;

static void
count_world(const DgWorld *w, Counts *k)
{
	memset(k, 0, sizeof(*k));
	for (int i = 0; i < w->n_contacts; i++)
	{
		const DgContact *c = &w->contacts[i];

		k->contact_lines += c->has_old ? 2 : 1;
		k->contact_versions += c->has_old ? 1 : 0;
		k->no_email += c->email[0] == '\0' ? 1 : 0;
		k->messy_email += c->email_style != 0 ? 1 : 0;
	}
	for (int i = 0; i < w->n_deals; i++)
	{
		const DgDeal *d = &w->deals[i];

		k->deal_lines += d->has_old ? 2 : 1;
		if (d->cur.archived)
		{
			k->archived++;
		}
		else
		{
			k->deal_versions += d->has_old ? 1 : 0;
			if (dg_deal_is_won(&d->cur))
			{
				k->won++;
			}
			else if (dg_deal_is_closed(&d->cur))
			{
				k->lost++;
			}
			else
			{
				k->open++;
			}
		}
		k->multi_contact += d->n_contacts > 1 ? 1 : 0;
		k->no_contact += d->n_contacts == 0 ? 1 : 0;
	}
	k->known_clicks = (int) w->n_clicks;
}

static bool
write_readme(const DgWorld *w, const DgTruth *t)
{
	char from[DG_DATE_BUFSIZE];
	char to[DG_DATE_BUFSIZE];
	char revenue[32];
	char spend[32];
	Counts k;
	DgOut o;

	if (!dg_out_open(&o, w->p.out_dir, "README.txt"))
	{
		/* errors have already been logged */
		return false;
	}
	count_world(w, &k);
	money(t->revenue, revenue, sizeof(revenue));
	money(t->spend, spend, sizeof(spend));
	dg_out_printf(&o,
				  "Demo company generated by cl-datagen\n"
				  "====================================\n\n"
				  "seed %" PRIu64 ", window %s .. %s (UTC), %d Google Ads account(s)\n"
				  "Serve this directory with cl-fixture-server and routes.txt;\n"
				  "docs/DEMO_DATA.md in the closedloop sources describes every file.\n\n",
				  w->p.seed, dg_format_date(w->p.from, from), dg_format_date(w->p.to, to),
				  w->p.customers);
	dg_out_printf(&o,
				  "hubspot/contacts.ndjson     %d lines: %d contacts (%" PRId64 " created in the window,\n"
				  "                            %d before it), %d with an older version too,\n"
				  "                            %d without email, %d with a mixed-case or padded email\n"
				  "hubspot/deals.ndjson        %d lines: %d deals (%d won, %d lost, %d open, %d archived),\n"
				  "                            %d with an older version too, %d with several contacts,\n"
				  "                            %d without a contact\n"
				  "hubspot/pipelines.json      the deal pipeline (7 stages)\n"
				  "hubspot/contact_profile.json every contact's v1 profile: no form submissions\n",
				  k.contact_lines, w->n_contacts, t->leads, w->n_legacy, k.contact_versions,
				  k.no_email, k.messy_email, k.deal_lines, w->n_deals, k.won, k.lost, k.open,
				  k.archived, k.deal_versions, k.multi_contact, k.no_contact);
	dg_out_printf(&o, "google_ads/token.json       OAuth token response\n");
	for (int c = 0; c < w->p.customers; c++)
	{
		int campaigns = 0;
		size_t rows = 0;

		for (int a = 0; a < w->n_ads; a++)
		{
			campaigns += w->ads[a].customer == c ? 1 : 0;
		}
		for (size_t r = 0; r < w->n_ad_rows; r++)
		{
			rows += w->ads[w->ad_rows[r].campaign].customer == c ? 1 : 0;
		}
		dg_out_printf(&o, "google_ads/%" PRId64 ".ndjson  %zu daily rows of %d campaigns:",
					  w->customer_ids[c], rows, campaigns);
		for (int a = 0; a < w->n_ads; a++)
		{
			if (w->ads[a].customer == c)
			{
				dg_out_printf(&o, " %s", w->ads[a].name);
			}
		}
		dg_out_printf(&o, "\n");
	}
	dg_out_printf(&o,
				  "mailchimp/campaigns.ndjson  %d sent campaigns (weekly newsletter, monthly product update)\n"
				  "mailchimp/activity_*.ndjson %" PRId64 " recipient rows: %" PRId64 " opens, %" PRId64
				  " clicks (%d by CRM contacts), %" PRId64 " bounces;\n"
				  "                            %d list members are unknown to the CRM\n"
				  "mailchimp/report_*.json     each campaign's report (sends, opens, clicks, bounces)\n"
				  "routes.txt                  the routes for cl-fixture-server\n"
				  "expected.json               the ground truth for the end-to-end test\n\n",
				  w->n_mails, w->activity_rows, w->open_events, w->click_events, k.known_clicks,
				  w->bounce_events, w->n_unknown);
	dg_out_printf(&o,
				  "Ground truth for the window: %" PRId64 " leads, %" PRId64 " won deals, revenue %s USD,\n"
				  "spend %s USD (%" PRId64 " clicks, %" PRId64 " impressions), %" PRId64
				  " touches in journeys,\n%" PRId64 " won deals without a touch.\n"
				  "Edge cases: %d deal(s) closing at a click, %d touch-time tie(s), %d lookback boundary case(s).\n",
				  t->leads, t->won_deals, revenue, spend, t->clicks, t->impressions,
				  t->journey_touches, t->deals_without_touches, w->edge_close_at_click,
				  w->edge_ties, w->edge_lookback);
	return dg_out_close(&o);
}

/* dg_emit_all writes every file not written during generation. */
bool
dg_emit_all(const DgWorld *w, const DgTruth *t)
{
	return write_contacts(w) && write_deals(w) && write_pipelines(w) && write_profile(w) &&
		write_google(w) &&
		write_mail_campaigns(w) && write_mail_reports(w) && write_routes(w) &&
		write_expected(w, t) && write_readme(w, t);
}
