/*
 * catalog.c: the column lists of docs/DATA_MODEL.md. Keep them in step
 * with the tables of sql/ (002, 005, 007); the integration tests load
 * every table, so a column that exists on one side only fails there.
 */
#include <string.h>

#include "catalog.h"

static const char *const credit_columns[] = {
	"model", "deal_id", "deal_source_system", "touch_id", "touch_source_system",
	"lead_id", "touch_at", "close_date", "channel", "source", "medium", "campaign",
	"touch_position", "journey_length", "weight", "revenue", "currency",
	"revenue_reporting", "reporting_currency", NULL
};

static const char *const daily_columns[] = {
	"date", "model", "channel", "source", "medium", "campaign", "leads", "deals",
	"revenue", "spend", "clicks", "impressions", "currency", NULL
};

static const char *const leads_columns[] = {
	"lead_id", "source_system", "email", "crm_contact_id", "created_at",
	"updated_at", "lifecycle_stage", "product_group", "owner", "first_channel",
	"first_source", "first_medium", "first_campaign", NULL
};
static const char *const leads_key[] = { "source_system", "lead_id", NULL };

static const char *const deals_columns[] = {
	"deal_id", "source_system", "name", "amount", "currency", "amount_reporting",
	"reporting_currency", "stage", "is_closed", "is_won", "created_at",
	"closed_at", "updated_at", "product_group", "touches", NULL
};
static const char *const deals_key[] = { "source_system", "deal_id", NULL };

static const char *const touches_columns[] = {
	"touch_id", "source_system", "email", "crm_id", "at", "kind", "channel",
	"source", "medium", "campaign", "content", "term", "campaign_id", "click_id",
	"url", NULL
};
static const char *const touches_key[] = { "source_system", "touch_id", NULL };

static const char *const spend_columns[] = {
	"date", "platform", "account_id", "campaign_id", "campaign_name",
	"adgroup_id", "ad_id", "channel", "source", "medium", "campaign",
	"impressions", "clicks", "cost", "currency", "cost_reporting",
	"reporting_currency", NULL
};

static const char *const model_stats_columns[] = {
	"window_from", "window_to", "model", "channel", "statistic", "value", NULL
};

static const char *const email_stats_columns[] = {
	"window_from", "window_to", "platform", "campaign_id", "model", "name", "subject",
	"campaign", "sent_at", "send_date", "recipients", "sends", "opens", "unique_opens",
	"open_rate", "clicks", "unique_clicks", "click_rate", "bounces", "unsubscribes",
	"counts_source", "attributed_deals", "attributed_revenue", "revenue_per_recipient",
	"reporting_currency", NULL
};

/*
 * Entities first, then facts: every load takes its row locks in the same
 * order, so two loaders (which the advisory lock already serialises) or a
 * loader and a manual fix cannot deadlock on table order.
 */
const LoadTable load_catalog[] = {
	{ "leads", LOAD_MODE_UPSERT, NULL, NULL, false, leads_key, leads_columns },
	{ "deals", LOAD_MODE_UPSERT, NULL, NULL, false, deals_key, deals_columns },
	{ "touches", LOAD_MODE_UPSERT, NULL, NULL, false, touches_key, touches_columns },
	{ "spend_daily", LOAD_MODE_WINDOW, "date", NULL, false, NULL, spend_columns },
	{ "attribution_credit", LOAD_MODE_WINDOW, "close_date", NULL, true, NULL, credit_columns },
	{ "attribution_daily", LOAD_MODE_WINDOW, "date", NULL, false, NULL, daily_columns },
	{ "attribution_model_stats", LOAD_MODE_WINDOW_EXACT, "window_from", "window_to", false, NULL,
	  model_stats_columns },
	{ "email_campaign_stats", LOAD_MODE_WINDOW_EXACT, "window_from", "window_to", false, NULL,
	  email_stats_columns },
};

const size_t load_catalog_count = sizeof(load_catalog) / sizeof(load_catalog[0]);

/*
 * catalog_find returns the catalog entry of a table name, or NULL when the
 * name is not one cl-load loads.
 */
const LoadTable *
catalog_find(const char *name)
{
	if (name == NULL)
	{
		return NULL;
	}
	for (size_t i = 0; i < load_catalog_count; i++)
	{
		if (strcmp(load_catalog[i].name, name) == 0)
		{
			return &load_catalog[i];
		}
	}
	return NULL;
}

const char *
load_mode_name(LoadMode mode)
{
	switch (mode)
	{
		case LOAD_MODE_WINDOW:
			return "window";
		case LOAD_MODE_UPSERT:
			return "upsert";
		case LOAD_MODE_WINDOW_EXACT:
			return "window_exact";
	}
	return "?";
}

/*
 * load_mode_parse reads the manifest's "load" value; anything else than
 * the documented words is refused rather than guessed.
 */
bool
load_mode_parse(const char *text, LoadMode *out)
{
	if (text == NULL)
	{
		return false;
	}
	if (strcmp(text, "window") == 0)
	{
		*out = LOAD_MODE_WINDOW;
		return true;
	}
	if (strcmp(text, "upsert") == 0)
	{
		*out = LOAD_MODE_UPSERT;
		return true;
	}
	if (strcmp(text, "window_exact") == 0)
	{
		*out = LOAD_MODE_WINDOW_EXACT;
		return true;
	}
	return false;
}

size_t
catalog_column_count(const char *const *columns)
{
	size_t n = 0;

	while (columns != NULL && columns[n] != NULL)
	{
		n++;
	}
	return n;
}
