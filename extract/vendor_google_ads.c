/*
 * vendor_google_ads.c: Google Ads REST searchStream (family ads),
 * docs/vendors/google_ads.md.
 *
 * One stream per customer: POST {base_url}/{api_version}/customers/{cid}/
 * googleAds:searchStream with a GAQL query for the window's daily metrics
 * at campaign, ad group or ad level. The body is a JSON array of batches
 * ({"results":[...]}), parsed row by row; an error can arrive as a batch
 * of its own after others. Rows become `spend`, partitioned by
 * segments.date. With customer_ids = all, a first stream asks
 * customers:listAccessibleCustomers which customers there are, and a
 * customer query per listed customer whether it is a manager (MCC)
 * account: managers have no metrics of their own and are skipped.
 *
 * Each row carries the utm source, medium and campaign that the clicks it
 * paid for carry: read from the final URL suffix or tracking template of
 * the ad, ad group, campaign or account (the most specific one that sets
 * the tag with a value that can be resolved), else the account's
 * configured fallback, else utm_source/utm_medium and the campaign name.
 *
 * The window defaults to [today - lookback_days, today - 1]: every run
 * re-pulls the recent days the platform may still restate.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "money.h"
#include "oauth.h"
#include "record.h"
#include "registry.h"
#include "source.h"
#include "urlquery.h"

#define GOOGLE_ADS_MAX_CUSTOMERS 64

/* SourceStream.kind of the customers:listAccessibleCustomers stream; the
 * searchStream of customer i has kind i. */
#define GOOGLE_ADS_LIST_STREAM (-1)

/* SourceStream.kind of the customer query of one listed customer (is it a
 * manager?); its data is the customer id. */
#define GOOGLE_ADS_CUSTOMER_STREAM (-2)

/* What customer_ids = all asks each listed customer before its metrics. */
#define GOOGLE_ADS_CUSTOMER_QUERY \
	"SELECT customer.id, customer.manager, customer.currency_code FROM customer"

typedef enum GoogleAdsLevel
{
	GOOGLE_ADS_LEVEL_CAMPAIGN,
	GOOGLE_ADS_LEVEL_AD_GROUP,
	GOOGLE_ADS_LEVEL_AD
} GoogleAdsLevel;

/* A per-account fallback of source and medium ([ads.google_ads] account_utm). */
typedef struct GoogleAdsUtm
{
	char customer[32];
	char source[64];
	char medium[64];
} GoogleAdsUtm;

typedef struct GoogleAds
{
	char *base_url;             /* owned, without trailing slash */
	char *token_url;            /* owned */
	const char *api_version;    /* borrowed from the configuration */
	const char *developer_token;
	char login_customer_id[32]; /* digits only, "" when unset */
	char customers[GOOGLE_ADS_MAX_CUSTOMERS][32];   /* digits only */
	int ncustomers;
	OAuthGrant grant;
	OAuthToken access;
	const char *utm_source;
	const char *utm_medium;
	GoogleAdsUtm account_utm[GOOGLE_ADS_MAX_CUSTOMERS];
	int naccount_utm;
	GoogleAdsLevel level;
	bool discover;              /* customer_ids = all */
	bool listed;                /* the list stream was handed out */
	int checked;                /* customers whose customer query was handed out */
	bool described[GOOGLE_ADS_MAX_CUSTOMERS];   /* its customer query answered */
	bool manager[GOOGLE_ADS_MAX_CUSTOMERS];     /* ... that it is a manager */
	int64_t retry_delay_cap_ms; /* longest retryDelay waited for */
	char query[1024];           /* the GAQL of the window */
	int next;                   /* next customer to hand out */
	int64_t dropped_before;     /* run->dropped when the stream started */
} GoogleAds;

static const char *const google_ads_entities[] = { "spend", NULL };


static void
google_ads_close(void *state)
{
	GoogleAds *ga = state;

	if (ga == NULL)
		return;
	oauth_token_reset(&ga->access);
	free(ga->token_url);
	free(ga->base_url);
	free(ga);
}


/*
 * customer_digits copies a customer id without its dashes ("123-456-7890"
 * as the UI shows it) into out; false when anything but digits remains.
 */
static bool
customer_digits(const char *id, size_t len, char *out, size_t outsize)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
	{
		if (id[i] == '-')
			continue;
		if (id[i] < '0' || id[i] > '9' || n + 1 >= outsize)
			return false;
		out[n++] = id[i];
	}
	out[n] = '\0';
	return n > 0;
}


/*
 * parse_customers splits customer_ids (a normalised comma list).
 */
static bool
parse_customers(GoogleAds *ga, const char *list, ClError *err)
{
	const char *p = list;

	if (strcmp(list, "all") == 0)
	{
		ga->discover = true;
		return true;
	}
	while (*p != '\0')
	{
		size_t len = strcspn(p, ",");

		if (ga->ncustomers == GOOGLE_ADS_MAX_CUSTOMERS)
		{
			log_error("google_ads: [ads.google_ads] customer_ids lists more than %d customers",
					  GOOGLE_ADS_MAX_CUSTOMERS);
			*err = CL_ERR_CONFIG;
			return false;
		}
		if (!customer_digits(p, len, ga->customers[ga->ncustomers],
							 sizeof(ga->customers[0])))
		{
			log_error("google_ads: [ads.google_ads] customer_ids: \"%.*s\" is not a customer "
					  "id (digits, dashes allowed: 123-456-7890)", (int) len, p);
			*err = CL_ERR_CONFIG;
			return false;
		}
		ga->ncustomers++;
		p += len;
		if (*p == ',')
			p++;
	}
	return true;
}


/*
 * copy_part copies [s, s + len) into out (outsize bytes); false when it
 * is empty or does not fit.
 */
static bool
copy_part(const char *s, size_t len, char *out, size_t outsize)
{
	if (len == 0 || len >= outsize)
		return false;
	memcpy(out, s, len);
	out[len] = '\0';
	return true;
}


/*
 * parse_account_utm reads account_utm: "<customer>=<source>/<medium>"
 * items, the fallbacks of accounts whose ads do not tag their links.
 */
static bool
parse_account_utm(GoogleAds *ga, const char *list, ClError *err)
{
	const char *p = list;

	while (p != NULL && *p != '\0')
	{
		size_t len = strcspn(p, ",");
		const char *eq = memchr(p, '=', len);
		const char *slash = eq != NULL ? memchr(eq, '/', len - (size_t) (eq - p)) : NULL;
		GoogleAdsUtm *u = &ga->account_utm[ga->naccount_utm];

		if (ga->naccount_utm == GOOGLE_ADS_MAX_CUSTOMERS || eq == NULL || slash == NULL ||
			!customer_digits(p, (size_t) (eq - p), u->customer, sizeof(u->customer)) ||
			!copy_part(eq + 1, (size_t) (slash - eq - 1), u->source, sizeof(u->source)) ||
			!copy_part(slash + 1, len - (size_t) (slash - p) - 1, u->medium, sizeof(u->medium)))
		{
			log_error("google_ads: [ads.google_ads] account_utm: \"%.*s\" is not "
					  "<customer id>=<source>/<medium> (at most %d of them)", (int) len, p,
					  GOOGLE_ADS_MAX_CUSTOMERS);
			*err = CL_ERR_CONFIG;
			return false;
		}
		ga->naccount_utm++;
		p += len;
		if (*p == ',')
			p++;
	}
	return true;
}


/*
 * write_query writes the GAQL of the window at the configured level. The
 * tracking templates and final URL suffixes of every level above the rows
 * come along, so that the utm tags can be read from the most specific one.
 */
static bool
write_query(GoogleAds *ga, const SourceRun *run, ClError *err)
{
	char from[CL_DATE_BUFSIZE];
	char to[CL_DATE_BUFSIZE];
	const char *fields;
	const char *resource;
	int n;

	switch (ga->level)
	{
		case GOOGLE_ADS_LEVEL_AD_GROUP:
			fields = ", ad_group.id, ad_group.name, ad_group.tracking_url_template, "
				"ad_group.final_url_suffix";
			resource = "ad_group";
			break;
		case GOOGLE_ADS_LEVEL_AD:
			fields = ", ad_group.id, ad_group.name, ad_group.tracking_url_template, "
				"ad_group.final_url_suffix, ad_group_ad.ad.id, "
				"ad_group_ad.ad.tracking_url_template, ad_group_ad.ad.final_url_suffix";
			resource = "ad_group_ad";
			break;
		default:
			fields = "";
			resource = "campaign";
			break;
	}
	n = snprintf(ga->query, sizeof(ga->query),
				 "SELECT customer.id, customer.currency_code, customer.tracking_url_template, "
				 "customer.final_url_suffix, campaign.id, campaign.name, "
				 "campaign.tracking_url_template, campaign.final_url_suffix%s, "
				 "metrics.cost_micros, metrics.clicks, metrics.impressions, segments.date "
				 "FROM %s WHERE segments.date BETWEEN '%s' AND '%s'", fields, resource,
				 date_format(run->window.from, from), date_format(run->window.to, to));
	if (n < 0 || (size_t) n >= sizeof(ga->query))
	{
		log_error("BUG: google_ads query does not fit");
		*err = CL_ERR_INTERNAL;
		return false;
	}
	return true;
}


/*
 * google_ads_open reads [ads.google_ads], the window, and writes the GAQL
 * query once for all customers.
 */
static bool
google_ads_open(SourceRun *run, void **state, ClError *err)
{
	GoogleAds *ga = calloc(1, sizeof(GoogleAds));
	const char *customers;
	const char *login;
	const char *level;
	int64_t lookback;

	*state = ga;
	if (ga == NULL)
	{
		log_error("google_ads: out of memory");
		*err = CL_ERR_INTERNAL;
		return false;
	}
	ga->grant.vendor = "google_ads";
	ga->grant.section = run->vendor->section;
	if (!source_config_url(run, "base_url", &ga->base_url, err) ||
		!source_config_url(run, "token_url", &ga->token_url, err) ||
		!source_config_required(run, "client_id", "the OAuth client", &ga->grant.client_id, err) ||
		!source_config_required(run, "client_secret", "the OAuth client",
								&ga->grant.client_secret, err) ||
		!source_config_required(run, "refresh_token", "the OAuth grant",
								&ga->grant.refresh_token, err) ||
		!source_config_required(run, "developer_token", "every Google Ads API call",
								&ga->developer_token, err) ||
		!source_config_required(run, "customer_ids", "the accounts to read", &customers, err) ||
		!source_config_required(run, "api_version", "the API path, such as v17",
								&ga->api_version, err))
	{
		/* errors have already been logged */
		return false;
	}
	ga->grant.token_url = ga->token_url;
	if (!parse_customers(ga, customers, err))
	{
		/* errors have already been logged */
		return false;
	}
	login = source_config_text(run, "login_customer_id");
	if (login != NULL && !customer_digits(login, strlen(login), ga->login_customer_id,
										  sizeof(ga->login_customer_id)))
	{
		log_error("google_ads: [ads.google_ads] login_customer_id = %s is not a customer id",
				  login);
		*err = CL_ERR_CONFIG;
		return false;
	}
	ga->utm_source = source_config_text(run, "utm_source");
	ga->utm_medium = source_config_text(run, "utm_medium");
	if (ga->utm_source == NULL || ga->utm_medium == NULL)
	{
		log_error("google_ads: [ads.google_ads] utm_source and utm_medium must not be empty");
		*err = CL_ERR_CONFIG;
		return false;
	}
	if (!parse_account_utm(ga, source_config_text(run, "account_utm"), err))
	{
		/* errors have already been logged */
		return false;
	}
	level = source_config_text(run, "level");
	if (level == NULL || strcmp(level, "campaign") == 0)
		ga->level = GOOGLE_ADS_LEVEL_CAMPAIGN;
	else if (strcmp(level, "ad_group") == 0)
		ga->level = GOOGLE_ADS_LEVEL_AD_GROUP;
	else if (strcmp(level, "ad") == 0)
		ga->level = GOOGLE_ADS_LEVEL_AD;
	else
	{
		log_error("google_ads: [ads.google_ads] level = %s: use campaign, ad_group or ad", level);
		*err = CL_ERR_CONFIG;
		return false;
	}
	ga->retry_delay_cap_ms = config_get_int(run->cfg, run->vendor->section,
											"retry_delay_cap_seconds") * 1000;

	/* Yesterday is the last complete day; lookback 0 still re-pulls it. */
	lookback = config_get_int(run->cfg, run->vendor->section, "lookback_days");
	if (lookback < 1)
		lookback = 1;
	if (!source_run_window(run, run->today - (ClDate) lookback, run->today - 1, err))
	{
		/* errors have already been logged */
		return false;
	}
	return write_query(ga, run, err);
}


static bool
google_ads_authenticate(void *state, SourceRun *run, bool force, ClError *err)
{
	GoogleAds *ga = state;

	if (!force && oauth_token_fresh(&ga->access, time_now()))
		return true;
	return oauth_refresh(run->http, &ga->grant, &ga->access, err);
}


/*
 * log_dropped reports the rows of the finished customer whose date fell
 * outside the window (the API should not send them; a proxy or a changed
 * query might).
 */
static void
log_dropped(GoogleAds *ga, SourceRun *run)
{
	char from[CL_DATE_BUFSIZE];
	char to[CL_DATE_BUFSIZE];

	if (ga->next > 0 && run->dropped > ga->dropped_before)
		log_warn("google_ads customer %s: %lld rows dated outside the window %s .. %s dropped",
				 ga->customers[ga->next - 1], (long long) (run->dropped - ga->dropped_before),
				 date_format(run->window.from, from), date_format(run->window.to, to));
	ga->dropped_before = run->dropped;
}


/*
 * google_ads_next_stream hands out one stream per customer, after
 * reporting the previous customer's dropped rows.
 */
static bool
google_ads_next_stream(void *state, SourceRun *run, SourceStream *stream,
					   bool *more, ClError *err)
{
	GoogleAds *ga = state;

	if (ga->discover && !ga->listed)
	{
		ga->listed = true;
		*more = true;
		stream->kind = GOOGLE_ADS_LIST_STREAM;
		stream->name = "customers";
		stream->entities = "-";
		stream->paging = SOURCE_PAGING_NONE;
		stream->record_path = "resourceNames[]";
		(void) snprintf(stream->label, sizeof(stream->label), "accessible customers");
		return true;
	}
	log_dropped(ga, run);
	while (ga->next < ga->ncustomers && ga->discover)
	{
		const char *cid = ga->customers[ga->next];

		if (ga->checked == ga->next)
		{
			/* a listed customer may be a manager: ask before its metrics */
			ga->checked++;
			*more = true;
			stream->kind = GOOGLE_ADS_CUSTOMER_STREAM;
			stream->name = "customers";
			stream->entities = "-";
			stream->paging = SOURCE_PAGING_STREAM;
			stream->record_path = "[]results[]";
			stream->data = cid;
			(void) snprintf(stream->label, sizeof(stream->label), "customer %s (manager?)",
							cid);
			return true;
		}
		if (!ga->described[ga->next])
		{
			log_error("google_ads customer %s: the customer query answered no row for it, so "
					  "whether it is a manager account is unknown", cid);
			*err = CL_ERR_DATA;
			return false;
		}
		if (!ga->manager[ga->next])
			break;
		/* a manager's own metrics query fails: its clients are accounts
		 * of their own, listed when the credentials reach them */
		log_info("google_ads customer %s: a manager (MCC) account; skipped", cid);
		ga->next++;
	}
	if (ga->next >= ga->ncustomers)
	{
		if (ga->discover && ga->ncustomers == 0)
			log_warn("google_ads: customers:listAccessibleCustomers named no customer: "
					 "nothing to extract");
		*more = false;
		return true;
	}
	*more = true;
	stream->kind = ga->next;
	stream->name = "spend";
	stream->entities = "spend";
	stream->paging = SOURCE_PAGING_STREAM;
	stream->record_path = "[]results[]";
	stream->data = ga->customers[ga->next];
	(void) snprintf(stream->label, sizeof(stream->label), "customer %s",
					ga->customers[ga->next]);
	ga->next++;
	return true;
}


/*
 * google_ads_build_request: the searchStream POST of one customer; the
 * query is sent as a JSON string, escaped.
 */
static bool
google_ads_build_request(void *state, const SourceStream *stream,
						 const SourcePage *page, SourceRequest *req, ClError *err)
{
	GoogleAds *ga = state;
	const char *cid = stream->data;

	(void) page;
	if (ga->access.access_token == NULL)
	{
		log_error("BUG: google_ads request without an access token");
		*err = CL_ERR_INTERNAL;
		return false;
	}
	if (stream->kind == GOOGLE_ADS_LIST_STREAM)
	{
		/* the customers the credentials reach directly; no login-customer-id */
		tb_printf(&req->url, "%s/%s/customers:listAccessibleCustomers", ga->base_url,
				  ga->api_version);
		if (!source_request_header(req, "Authorization: Bearer %s", ga->access.access_token) ||
			!source_request_header(req, "developer-token: %s", ga->developer_token) ||
			!source_request_header(req, "Accept: application/json"))
		{
			*err = CL_ERR_INTERNAL;
			return false;
		}
		return true;
	}
	req->method = "POST";
	tb_printf(&req->url, "%s/%s/customers/%s/googleAds:searchStream", ga->base_url,
			  ga->api_version, cid);
	tb_append(&req->body, "{\"query\":");
	tb_append_json_string(&req->body, stream->kind == GOOGLE_ADS_CUSTOMER_STREAM
						  ? GOOGLE_ADS_CUSTOMER_QUERY : ga->query);
	tb_append(&req->body, "}");
	if (!source_request_header(req, "Authorization: Bearer %s", ga->access.access_token) ||
		!source_request_header(req, "developer-token: %s", ga->developer_token) ||
		!source_request_header(req, "Content-Type: application/json") ||
		!source_request_header(req, "Accept: application/json") ||
		(ga->login_customer_id[0] != '\0' &&
		 !source_request_header(req, "login-customer-id: %s", ga->login_customer_id)))
	{
		*err = CL_ERR_INTERNAL;
		return false;
	}
	return true;
}


/*
 * map_customer keeps one customer of customers:listAccessibleCustomers
 * ("customers/1234567890"), once: a retried attempt maps it again.
 */
static bool
map_customer(GoogleAds *ga, const JsonValue *record, ClError *err)
{
	const char *name = json_string(record);
	char cid[32];

	if (name == NULL || strncmp(name, "customers/", 10) != 0 ||
		!customer_digits(name + 10, strlen(name + 10), cid, sizeof(cid)))
	{
		log_error("google_ads accessible customers: \"%s\" is not a customer resource name",
				  name != NULL ? name : "(not a string)");
		*err = CL_ERR_DATA;
		return false;
	}
	for (int i = 0; i < ga->ncustomers; i++)
	{
		if (strcmp(ga->customers[i], cid) == 0)
			return true;
	}
	if (ga->ncustomers == GOOGLE_ADS_MAX_CUSTOMERS)
	{
		log_error("google_ads: more than %d accessible customers; list the ones to extract "
				  "in [ads.google_ads] customer_ids", GOOGLE_ADS_MAX_CUSTOMERS);
		*err = CL_ERR_CONFIG;
		return false;
	}
	(void) snprintf(ga->customers[ga->ncustomers++], sizeof(ga->customers[0]), "%s", cid);
	return true;
}


/*
 * map_customer_row reads the row of the customer query of a listed
 * customer: whether it is a manager (proto3 JSON leaves false out).
 * Keyed by the customer, so a retried attempt maps it again harmlessly.
 */
static bool
map_customer_row(GoogleAds *ga, const SourceStream *stream, const JsonValue *record,
				 ClError *err)
{
	const char *cid = stream->data;
	const char *id = json_text(json_path(record, "customer.id"));
	const JsonValue *manager = json_path(record, "customer.manager");
	bool is_manager = false;

	if (id == NULL || strcmp(id, cid) != 0 ||
		(manager != NULL && !json_bool(manager, &is_manager)))
	{
		log_error("google_ads customer %s: the customer query answered a row %s", cid,
				  id == NULL || strcmp(id, cid) != 0 ? "of another customer (customer.id)"
				  : "whose customer.manager is not a boolean");
		*err = CL_ERR_DATA;
		return false;
	}
	for (int i = 0; i < ga->ncustomers; i++)
	{
		if (strcmp(ga->customers[i], cid) == 0)
		{
			ga->described[i] = true;
			ga->manager[i] = is_manager;
		}
	}
	return true;
}


/* The ids a ValueTrack parameter of a utm value may stand for. */
typedef struct RowIds
{
	const char *campaign;
	const char *ad_group;
	const char *ad;
} RowIds;


/*
 * valuetrack_expand writes value into out with the ValueTrack parameters
 * that name ids of the row ({campaignid}, {adgroupid}, {creative})
 * replaced. Any other {...} (a custom parameter, {keyword}) has no value
 * known here: false, and the value is not used.
 */
static bool
valuetrack_expand(const char *value, const RowIds *ids, char *out, size_t outsize)
{
	size_t n = 0;

	while (*value != '\0')
	{
		const char *sub = NULL;
		size_t len;

		if (*value != '{')
		{
			if (n + 1 >= outsize)
				return false;
			out[n++] = *value++;
			continue;
		}
		len = strcspn(value, "}");
		if (value[len] != '}')
			return false;
		if (len == 11 && strncmp(value, "{campaignid", 11) == 0)
			sub = ids->campaign;
		else if (len == 10 && strncmp(value, "{adgroupid", 10) == 0)
			sub = ids->ad_group;
		else if (len == 9 && strncmp(value, "{creative", 9) == 0)
			sub = ids->ad;
		if (sub == NULL || n + strlen(sub) >= outsize)
			return false;
		memcpy(out + n, sub, strlen(sub));
		n += strlen(sub);
		value += len + 1;
	}
	out[n] = '\0';
	return n > 0;
}


/*
 * utm_from_row finds the utm tag name in the row's final URL suffixes and
 * tracking templates, most specific level first, and writes its resolved
 * value into out. false when no level sets it to a usable value; *err is
 * set (and logged) only when out of memory.
 */
static bool
utm_from_row(const JsonValue *record, const RowIds *ids, const char *name, char *out,
			 size_t outsize, bool *oom)
{
	static const char *const paths[] = {
		"adGroupAd.ad.finalUrlSuffix", "adGroupAd.ad.trackingUrlTemplate",
		"adGroup.finalUrlSuffix", "adGroup.trackingUrlTemplate",
		"campaign.finalUrlSuffix", "campaign.trackingUrlTemplate",
		"customer.finalUrlSuffix", "customer.trackingUrlTemplate",
		NULL
	};

	*oom = false;
	for (int i = 0; paths[i] != NULL; i++)
	{
		const char *text = text_nonempty(json_string(json_path(record, paths[i])));
		char *url = NULL;
		char *value = NULL;
		bool found;
		size_t n;

		if (text == NULL)
			continue;
		/* a suffix is a bare query string ("utm_source=google&..."); a
		 * template is a URL ("{lpurl}?utm_source=google&...") */
		n = strlen(text) + 2;
		url = malloc(n);
		if (url == NULL)
		{
			*oom = true;
			return false;
		}
		(void) snprintf(url, n, "%s%s", strstr(paths[i], "Suffix") != NULL ? "?" : "", text);
		if (!url_query_param(url, name, &value))
		{
			free(url);
			*oom = true;
			return false;
		}
		found = value != NULL && valuetrack_expand(value, ids, out, outsize);
		free(value);
		free(url);
		if (found)
			return true;
	}
	return false;
}


/*
 * account_fallback: the account_utm entry of customer, or NULL.
 */
static const GoogleAdsUtm *
account_fallback(const GoogleAds *ga, const char *customer)
{
	for (int i = 0; i < ga->naccount_utm; i++)
	{
		if (strcmp(ga->account_utm[i].customer, customer) == 0)
			return &ga->account_utm[i];
	}
	return NULL;
}


/*
 * google_ads_map_record turns one searchStream row into a spend row.
 * Checks run before anything is written, so a refused row leaves nothing.
 */
static bool
google_ads_map_record(void *state, SourceRun *run, const SourceStream *stream,
					  const JsonValue *record, ClError *err)
{
	GoogleAds *ga = state;
	const char *cid = stream->data;
	const char *date_text = json_string(json_path(record, "segments.date"));
	const char *account = text_nonempty(json_text(json_path(record, "customer.id")));
	const char *campaign_id = text_nonempty(json_text(json_path(record, "campaign.id")));
	const char *campaign_name = text_nonempty(json_string(json_path(record, "campaign.name")));
	const char *currency = text_nonempty(json_string(json_path(record, "customer.currencyCode")));
	const char *ad_group_id = text_nonempty(json_text(json_path(record, "adGroup.id")));
	const char *ad_id = text_nonempty(json_text(json_path(record, "adGroupAd.ad.id")));
	const GoogleAdsUtm *fallback;
	RowIds ids;
	char utm_source[128];
	char utm_medium[128];
	char utm_campaign[256];
	bool oom = false;
	char id[160];
	RecordRef ref = { "google_ads", "searchStream row", id };
	StagingWriter *w = source_run_writer(run, "spend");
	ClDate date;
	int64_t micros;
	int64_t clicks;
	int64_t impressions;
	int64_t cost_minor;
	JsonGen *g;

	if (stream->kind == GOOGLE_ADS_LIST_STREAM)
		return map_customer(ga, record, err);
	if (stream->kind == GOOGLE_ADS_CUSTOMER_STREAM)
		return map_customer_row(ga, stream, record, err);
	if (w == NULL)
	{
		*err = CL_ERR_INTERNAL;
		return false;
	}
	if (account == NULL)
		account = cid;
	(void) snprintf(id, sizeof(id), "customer %s campaign %s%s%s%s%s date %s", account,
					campaign_id != NULL ? campaign_id : "?",
					ad_group_id != NULL ? " ad group " : "", ad_group_id != NULL ? ad_group_id : "",
					ad_id != NULL ? " ad " : "", ad_id != NULL ? ad_id : "",
					date_text != NULL ? date_text : "?");
	if (date_text == NULL || !date_parse(date_text, &date))
	{
		record_error(&ref, "segments.date", "missing or not YYYY-MM-DD");
		*err = CL_ERR_DATA;
		return false;
	}
	if (date < run->window.from || date > run->window.to)
	{
		run->dropped++;
		return true;
	}
	if (currency == NULL || !currency_valid(currency))
	{
		record_error(&ref, "customer.currencyCode",
					 "%s; without the account currency cost_micros cannot be converted "
					 "(the query selects customer.currency_code)",
					 currency == NULL ? "missing" : "not an ISO 4217 code");
		*err = CL_ERR_DATA;
		return false;
	}
	if (campaign_id == NULL)
	{
		record_error(&ref, "campaign.id", "missing (the query selects campaign.id)");
		*err = CL_ERR_DATA;
		return false;
	}
	if ((ga->level != GOOGLE_ADS_LEVEL_CAMPAIGN && ad_group_id == NULL) ||
		(ga->level == GOOGLE_ADS_LEVEL_AD && ad_id == NULL))
	{
		record_error(&ref, ad_group_id == NULL ? "adGroup.id" : "adGroupAd.ad.id",
					 "missing (the query at this level selects it)");
		*err = CL_ERR_DATA;
		return false;
	}

	/* the utm tags the paid clicks carry; what the ads do not tag comes
	 * from the account's fallback, then from the defaults */
	ids.campaign = campaign_id;
	ids.ad_group = ad_group_id;
	ids.ad = ad_id;
	fallback = account_fallback(ga, account);
	if (!utm_from_row(record, &ids, "utm_source", utm_source, sizeof(utm_source), &oom) && !oom)
		(void) snprintf(utm_source, sizeof(utm_source), "%s",
						fallback != NULL ? fallback->source : ga->utm_source);
	if (!oom && !utm_from_row(record, &ids, "utm_medium", utm_medium, sizeof(utm_medium), &oom) &&
		!oom)
		(void) snprintf(utm_medium, sizeof(utm_medium), "%s",
						fallback != NULL ? fallback->medium : ga->utm_medium);
	if (!oom && !utm_from_row(record, &ids, "utm_campaign", utm_campaign, sizeof(utm_campaign),
							  &oom) && !oom)
		(void) snprintf(utm_campaign, sizeof(utm_campaign), "%s",
						campaign_name != NULL ? campaign_name : "");
	if (oom)
	{
		log_error("google_ads: out of memory reading the utm tags of %s", id);
		*err = CL_ERR_INTERNAL;
		return false;
	}
	/* proto3 JSON leaves out zero values: an absent metric is 0 */
	if (!record_int64(&ref, "metrics.costMicros", json_path(record, "metrics.costMicros"),
					  true, &micros, err) ||
		!record_int64(&ref, "metrics.clicks", json_path(record, "metrics.clicks"),
					  true, &clicks, err) ||
		!record_int64(&ref, "metrics.impressions", json_path(record, "metrics.impressions"),
					  true, &impressions, err))
	{
		/* errors have already been logged */
		return false;
	}
	if (!money_from_micros(micros, currency, &cost_minor))
	{
		record_error(&ref, "metrics.costMicros", "%lld micros of %s cannot be converted",
					 (long long) micros, currency);
		*err = CL_ERR_DATA;
		return false;
	}

	g = staging_row_begin(w, date);
	jgen_date(g, "date", date);
	jgen_string(g, "platform", "google_ads");
	jgen_string(g, "account_id", account);
	jgen_string(g, "campaign_id", campaign_id);
	row_string(g, "campaign_name", campaign_name);
	if (ga->level != GOOGLE_ADS_LEVEL_CAMPAIGN)
		jgen_string(g, "adgroup_id", ad_group_id);
	if (ga->level == GOOGLE_ADS_LEVEL_AD)
		jgen_string(g, "ad_id", ad_id);
	jgen_string(g, "source", utm_source);
	jgen_string(g, "medium", utm_medium);
	row_string(g, "campaign", utm_campaign);
	jgen_int(g, "impressions", impressions);
	jgen_int(g, "clicks", clicks);
	jgen_int(g, "cost_minor", cost_minor);
	jgen_string(g, "currency", currency);
	if (!staging_row_end(w))
	{
		*err = CL_ERR_OUTPUT;
		return false;
	}
	return true;
}


/*
 * google_error: the error object of a Google API error body, which is
 * {"error":{...}} on the wire and the inner object in some logs.
 */
static const JsonValue *
google_error(const JsonValue *body)
{
	const JsonValue *inner = json_member(body, "error");

	if (inner != NULL && inner->type == JSON_OBJECT)
		return inner;
	if (json_member(body, "status") != NULL || json_member(body, "code") != NULL)
		return body;
	return NULL;
}


/*
 * duration_ms parses a protobuf Duration in JSON ("40591s", "1.5s") into
 * milliseconds; -1 when it is not one.
 */
static int64_t
duration_ms(const char *s)
{
	int64_t secs = 0;
	int64_t ms = 0;
	int digits = 0;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++)
	{
		if (secs > INT64_MAX / 10000)
			return -1;
		secs = secs * 10 + (*s - '0');
	}
	if (*s == '.')
	{
		for (s++; *s >= '0' && *s <= '9'; s++)
		{
			if (digits < 3)
				ms = ms * 10 + (*s - '0');
			digits++;
		}
		for (; digits < 3; digits++)
			ms *= 10;
	}
	if (s[0] != 's' || s[1] != '\0')
		return -1;
	return secs * 1000 + ms;
}


/*
 * google_detail finds the first GoogleAdsFailure error in details[]: its
 * error code (the one member of errorCode), message and quota details.
 */
static const JsonValue *
google_detail(const JsonValue *error)
{
	const JsonValue *details = json_member(error, "details");

	for (size_t i = 0; details != NULL && details->type == JSON_ARRAY && i < details->count; i++)
	{
		const JsonValue *errors = json_member(details->items[i], "errors");

		if (errors != NULL && errors->type == JSON_ARRAY && errors->count > 0)
			return errors->items[0];
	}
	return NULL;
}


/* The retryDelay a quota error asks for, in ms; -1 when there is none. */
static int64_t
google_retry_delay(const JsonValue *error)
{
	return duration_ms(json_string(json_path(google_detail(error),
											 "details.quotaErrorDetails.retryDelay")));
}


/*
 * google_describe writes "STATUS: message (errorCode value: detail; quota
 * scope/name, retry in D) requestId R" into b.
 */
static void
google_describe(const JsonValue *error, TextBuf *b)
{
	const JsonValue *detail = google_detail(error);
	const JsonValue *code = json_member(detail, "errorCode");
	const JsonValue *quota = json_path(detail, "details.quotaErrorDetails");
	const char *status = json_string(json_member(error, "status"));
	const char *message = json_string(json_member(error, "message"));
	const char *request_id = NULL;
	const JsonValue *details = json_member(error, "details");

	tb_printf(b, "%s: %s", status != NULL ? status : "(no status)",
			  message != NULL ? message : "(no message)");
	if (detail != NULL)
	{
		tb_append(b, " (");
		if (code != NULL && code->type == JSON_OBJECT && code->count > 0)
			tb_printf(b, "%s %s: ", code->keys[0],
					  json_text(code->items[0]) != NULL ? json_text(code->items[0]) : "?");
		tb_append(b, json_string(json_member(detail, "message")) != NULL
				  ? json_string(json_member(detail, "message")) : "(no detail)");
		if (quota != NULL)
			tb_printf(b, "; quota %s, %s, retry delay %s",
					  json_string(json_member(quota, "rateScope")) != NULL
					  ? json_string(json_member(quota, "rateScope")) : "?",
					  json_string(json_member(quota, "rateName")) != NULL
					  ? json_string(json_member(quota, "rateName")) : "?",
					  json_string(json_member(quota, "retryDelay")) != NULL
					  ? json_string(json_member(quota, "retryDelay")) : "none");
		tb_append(b, ")");
	}
	for (size_t i = 0; details != NULL && details->type == JSON_ARRAY && i < details->count; i++)
	{
		if (request_id == NULL)
			request_id = json_string(json_member(details->items[i], "requestId"));
	}
	if (request_id != NULL)
		tb_printf(b, " requestId %s", request_id);
}


/*
 * google_transient: statuses that say "later" rather than "never": quota,
 * and the server's own unavailability.
 */
static bool
google_transient(const JsonValue *error)
{
	const char *status = json_string(json_member(error, "status"));

	return status != NULL && (strcmp(status, "RESOURCE_EXHAUSTED") == 0 ||
							  strcmp(status, "UNAVAILABLE") == 0 ||
							  strcmp(status, "DEADLINE_EXCEEDED") == 0);
}


/*
 * stream_error: the error object of a searchStream answer, either an
 * error batch after others (*batch its 0-based index) or, from a proxy,
 * the whole answer; NULL when there is none. Borrowed from envelope.
 */
static const JsonValue *
stream_error(const JsonValue *envelope, size_t *batch)
{
	*batch = 0;
	if (envelope == NULL)
		return NULL;
	if (envelope->type != JSON_ARRAY)
		return google_error(envelope);
	for (size_t i = 0; i < envelope->count; i++)
	{
		const JsonValue *inner = json_member(envelope->items[i], "error");

		if (inner != NULL)
		{
			*batch = i;
			return inner;
		}
	}
	return NULL;
}


/*
 * quota_retry: error is RESOURCE_EXHAUSTED and may be waited for, after
 * *delay_ms (its retryDelay; -1 when it names none: the retry policy's
 * back-off). A retryDelay beyond retry_delay_cap_seconds is false and
 * logged: Basic access quotas ask for hours, and a run should give up at
 * once (exit 75) rather than hold on that long.
 */
static bool
quota_retry(const GoogleAds *ga, const JsonValue *error, int64_t *delay_ms)
{
	const char *status = json_string(json_member(error, "status"));
	int64_t delay;

	if (status == NULL || strcmp(status, "RESOURCE_EXHAUSTED") != 0)
		return false;
	delay = google_retry_delay(error);
	*delay_ms = delay;
	if (ga != NULL && delay > ga->retry_delay_cap_ms)
	{
		log_error("google_ads: the quota asks to wait %.0f s, more than "
				  "[ads.google_ads] retry_delay_cap_seconds = %lld",
				  (double) delay / 1000.0, (long long) (ga->retry_delay_cap_ms / 1000));
		return false;
	}
	return true;
}


/*
 * google_ads_retry_envelope: a RESOURCE_EXHAUSTED batch inside the stream
 * is the 429 of a stream that had begun: the engine discards the rows so
 * far and sends the same query again after the retryDelay, as for 429.
 * Other error batches are not worth another try (check_envelope).
 */
static bool
google_ads_retry_envelope(void *state, const SourceStream *stream,
						  const JsonValue *envelope, int64_t *delay_ms)
{
	GoogleAds *ga = state;
	size_t batch;
	const JsonValue *error;

	if (stream->kind == GOOGLE_ADS_LIST_STREAM)
		return false;
	error = stream_error(envelope, &batch);
	if (error == NULL || !quota_retry(ga, error, delay_ms))
		return false;
	log_warn("google_ads %s: batch %zu of the searchStream is RESOURCE_EXHAUSTED; "
			 "retrying the query", stream->label, batch + 1);
	return true;
}


/*
 * google_ads_check_envelope finds an error the stream sent as a batch of
 * its own (the rows before it were sent, but the answer is incomplete).
 */
static bool
google_ads_check_envelope(void *state, const SourceStream *stream,
						  const JsonValue *envelope, ClError *err)
{
	const JsonValue *error = NULL;
	size_t batch = 0;
	TextBuf b;

	(void) state;
	if (stream->kind == GOOGLE_ADS_LIST_STREAM)
		return true;
	if (envelope == NULL || (envelope->type != JSON_ARRAY && google_error(envelope) == NULL))
	{
		log_error("google_ads %s: the searchStream answer is not an array of batches",
				  stream->label);
		*err = CL_ERR_DATA;
		return false;
	}
	error = stream_error(envelope, &batch);
	if (error == NULL)
		return true;

	tb_init(&b, TEXTBUF_DEFAULT_MAX);
	google_describe(error, &b);
	*err = google_transient(error) ? CL_ERR_TEMPORARY : CL_ERR_DATA;
	log_error("google_ads %s: batch %zu of the searchStream is an error: %s%s",
			  stream->label, batch + 1, tb_text(&b),
			  *err == CL_ERR_TEMPORARY ? "; run again later" : "");
	tb_free(&b);
	return false;
}


/*
 * google_ads_classify: an expired token is refreshed; a quota error waits
 * for the retryDelay Google names when it is within retry_delay_cap_seconds
 * (and the retry budget decides whether that is within this run); a longer
 * one fails at once, which google_ads_explain makes exit 75.
 */
static HttpVerdict
google_ads_classify(void *state, const HttpResponse *resp, int64_t *delay_ms)
{
	GoogleAds *ga = state;
	JsonValue *body = NULL;
	const JsonValue *error;
	const char *status;
	HttpVerdict verdict = HTTP_VERDICT_DEFAULT;
	int64_t delay = -1;

	if (resp->status == 401)
		return HTTP_VERDICT_REAUTH;
	if (resp->error_body == NULL)
		return HTTP_VERDICT_DEFAULT;
	body = json_parse(resp->error_body, resp->error_body_len, NULL, 0);
	error = google_error(body);
	status = json_string(json_member(error, "status"));
	if (status != NULL && strcmp(status, "RESOURCE_EXHAUSTED") == 0)
	{
		/* beyond the cap: give up now (exit 75) instead of holding the run */
		verdict = quota_retry(ga, error, &delay) ? HTTP_VERDICT_RETRY : HTTP_VERDICT_FAIL;
		if (verdict == HTTP_VERDICT_RETRY && delay >= 0)
			*delay_ms = delay;
	}
	json_free(body);
	return verdict;
}


/*
 * google_ads_explain describes a Google API error body; quota and
 * unavailability are temporary (exit 75).
 */
static ClError
google_ads_explain(const HttpResponse *resp, char *msg, size_t msgsize)
{
	JsonValue *body = NULL;
	const JsonValue *error;
	TextBuf b;
	ClError cls = CL_OK;

	if (resp->error_body != NULL)
		body = json_parse(resp->error_body, resp->error_body_len, NULL, 0);
	error = google_error(body);
	tb_init(&b, TEXTBUF_DEFAULT_MAX);
	tb_printf(&b, "Google Ads answered HTTP %ld: ", resp->status);
	if (error != NULL)
		google_describe(error, &b);
	else
		tb_append(&b, "(no Google error body)");
	if (error != NULL && google_transient(error))
	{
		cls = CL_ERR_TEMPORARY;
		tb_append(&b, "; run again later");
	}
	(void) snprintf(msg, msgsize, "%s", tb_text(&b));
	tb_free(&b);
	json_free(body);
	return cls;
}


const SourceVendor vendor_google_ads = {
	.name = "google_ads",
	.family = SOURCE_FAMILY_ADS,
	.section = "ads.google_ads",
	.entities = google_ads_entities,
	.open = google_ads_open,
	.close = google_ads_close,
	.authenticate = google_ads_authenticate,
	.next_stream = google_ads_next_stream,
	.build_request = google_ads_build_request,
	.map_record = google_ads_map_record,
	.check_envelope = google_ads_check_envelope,
	.retry_envelope = google_ads_retry_envelope,
	.classify = google_ads_classify,
	.explain_error = google_ads_explain,
};
