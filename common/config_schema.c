/*
 * config_schema.c: every section and key closedloop reads, with its type,
 * default and range (docs/CONFIG_KEYS.txt). config.example.ini documents
 * the same keys; a unit test checks that the two agree.
 *
 * A NULL default means "absent unless set": config_get returns NULL and the
 * consumer decides (usually: derived from another key, or not used).
 */
#include "config.h"

#include <stddef.h>

#ifndef CLOSEDLOOP_SQL_DIR
#error "CLOSEDLOOP_SQL_DIR must be defined by the build (the installed sql/ directory)"
#endif

#define STR(sec, key, def)          { sec, key, CONFIG_STRING, def, 0, 0, false }
#define SECRET(sec, key)            { sec, key, CONFIG_STRING, NULL, 0, 0, true }
#define INT(sec, key, def, lo, hi)  { sec, key, CONFIG_INT, def, lo, hi, false }
#define BOOL(sec, key, def)         { sec, key, CONFIG_BOOL, def, 0, 0, false }
#define DATE(sec, key)              { sec, key, CONFIG_DATE, NULL, 0, 0, false }
#define LIST(sec, key, def)         { sec, key, CONFIG_LIST, def, 0, 0, false }

const ConfigKey config_schema[] = {
	STR("pipeline", "staging_dir", "/var/lib/closedloop/staging"),
	STR("pipeline", "state_dir", ""),
	STR("pipeline", "reporting_currency", "USD"),
	STR("pipeline", "timezone", "UTC"),
	STR("pipeline", "rates_file", NULL),
	DATE("pipeline", "start_date"),

	STR("database", "conninfo", "service=closedloop"),
	STR("database", "migrations_dir", CLOSEDLOOP_SQL_DIR),
	STR("database", "application_name", "closedloop"),
	INT("database", "statement_timeout_ms", "0", 0, 86400000),
	INT("database", "lock_timeout_ms", "0", 0, 86400000),
	INT("database", "lock_wait_seconds", "300", 0, 86400),
	INT("database", "connect_retries", "5", 1, 100),
	STR("database", "reader_role", "closedloop_reader"),

	LIST("attribution", "models",
		 "first_touch,last_touch,last_non_direct,linear,position_based,time_decay,w_shaped,"
		 "full_path,markov"),
	INT("attribution", "lookback_days", "90", 1, 3650),
	INT("attribution", "time_decay_half_life_days", "7", 1, 365),
	STR("attribution", "pb_first", "0.4"),
	STR("attribution", "pb_last", "0.4"),
	STR("attribution", "output_dir", ""),

	STR("channels", "rules_file", NULL),
	BOOL("channels", "defaults", "true"),

	INT("http", "connect_timeout_seconds", "10", 1, 600),
	INT("http", "timeout_seconds", "300", 1, 86400),
	INT("http", "max_attempts", "6", 1, 100),
	INT("http", "retry_base_ms", "500", 1, 600000),
	INT("http", "retry_max_sleep_ms", "30000", 1, 3600000),
	INT("http", "retry_max_total_seconds", "300", 0, 86400),
	STR("http", "ca_file", NULL),

	BOOL("crm.hubspot", "enabled", "false"),
	STR("crm.hubspot", "base_url", "https://api.hubapi.com"),
	SECRET("crm.hubspot", "token"),
	STR("crm.hubspot", "client_id", NULL),
	SECRET("crm.hubspot", "client_secret"),
	SECRET("crm.hubspot", "refresh_token"),
	INT("crm.hubspot", "page_size", "100", 1, 100),
	STR("crm.hubspot", "product_group_property", ""),
	DATE("crm.hubspot", "start_date"),
	INT("crm.hubspot", "search_max_results", "10000", 10, 10000),
	BOOL("crm.hubspot", "form_submissions", "true"),
	BOOL("crm.hubspot", "utm_properties", "false"),
	STR("crm.hubspot", "source_map_file", ""),

	BOOL("crm.salesforce", "enabled", "false"),
	STR("crm.salesforce", "base_url", "https://login.salesforce.com"),
	STR("crm.salesforce", "client_id", NULL),
	SECRET("crm.salesforce", "client_secret"),
	SECRET("crm.salesforce", "refresh_token"),
	STR("crm.salesforce", "api_version", "v63.0"),
	INT("crm.salesforce", "quota_percent", "80", 1, 100),
	INT("crm.salesforce", "page_size", "2000", 200, 2000),
	LIST("crm.salesforce", "objects",
		 "Campaign,Lead,Contact,Opportunity,OpportunityContactRole,CampaignMember"),
	DATE("crm.salesforce", "start_date"),
	BOOL("crm.salesforce", "multi_currency", "false"),
	STR("crm.salesforce", "currency", ""),
	STR("crm.salesforce", "product_group_field", ""),
	STR("crm.salesforce", "campaign_source_field", ""),
	STR("crm.salesforce", "campaign_medium_field", ""),
	STR("crm.salesforce", "campaign_utm_field", ""),

	BOOL("ads.google_ads", "enabled", "false"),
	STR("ads.google_ads", "base_url", "https://googleads.googleapis.com"),
	STR("ads.google_ads", "token_url", "https://oauth2.googleapis.com/token"),
	STR("ads.google_ads", "client_id", NULL),
	SECRET("ads.google_ads", "client_secret"),
	SECRET("ads.google_ads", "refresh_token"),
	SECRET("ads.google_ads", "developer_token"),
	LIST("ads.google_ads", "customer_ids", NULL),
	STR("ads.google_ads", "login_customer_id", NULL),
	STR("ads.google_ads", "api_version", "v17"),
	INT("ads.google_ads", "lookback_days", "14", 0, 365),
	STR("ads.google_ads", "utm_source", "google"),
	STR("ads.google_ads", "utm_medium", "cpc"),
	LIST("ads.google_ads", "account_utm", NULL),
	STR("ads.google_ads", "level", "campaign"),
	INT("ads.google_ads", "retry_delay_cap_seconds", "600", 0, 86400),

	BOOL("ads.meta", "enabled", "false"),
	STR("ads.meta", "base_url", "https://graph.facebook.com"),
	SECRET("ads.meta", "access_token"),
	LIST("ads.meta", "account_ids", NULL),
	STR("ads.meta", "api_version", "v21.0"),
	INT("ads.meta", "lookback_days", "28", 0, 365),
	STR("ads.meta", "level", "ad"),
	INT("ads.meta", "page_size", "500", 1, 5000),
	STR("ads.meta", "utm_source", "facebook"),
	STR("ads.meta", "utm_medium", "cpc"),
	INT("ads.meta", "async_threshold_days", "7", 0, 3650),
	INT("ads.meta", "job_days", "7", 1, 365),
	INT("ads.meta", "job_start_timeout_seconds", "300", 1, 86400),
	INT("ads.meta", "job_finish_timeout_seconds", "1800", 1, 86400),
	INT("ads.meta", "job_poll_initial_ms", "10000", 1, 600000),
	INT("ads.meta", "job_poll_max_ms", "300000", 1, 3600000),
	INT("ads.meta", "throttle_percent", "75", 1, 100),
	INT("ads.meta", "throttle_max_pause_seconds", "300", 0, 3600),

	BOOL("email.mailchimp", "enabled", "false"),
	STR("email.mailchimp", "base_url", ""),
	SECRET("email.mailchimp", "api_key"),
	INT("email.mailchimp", "max_connections", "4", 1, 10),
	INT("email.mailchimp", "page_size", "1000", 1, 1000),
	BOOL("email.mailchimp", "opens_as_touches", "false"),
	DATE("email.mailchimp", "start_date"),

	{ NULL, NULL, CONFIG_STRING, NULL, 0, 0, false }
};
