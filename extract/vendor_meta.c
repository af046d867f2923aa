/*
 * vendor_meta.c: Meta Marketing API insights (family ads),
 * docs/vendors/meta.md.
 *
 * For each ad account, the daily insights (time_increment=1) of the
 * window at the configured level (campaign, adset or ad) become `spend`
 * rows, partitioned by date_start. Two ways to get them:
 *
 *   sync   GET {base}/{version}/act_{id}/insights?level=..&fields=..
 *          &time_range={"since":..,"until":..}, Graph cursor paging.
 *   async  for windows longer than async_threshold_days, in report runs of
 *          at most job_days days: POST act_{id}/insights with the same
 *          parameters gives a report_run_id; GET /{report_run_id} is
 *          polled (async_status) with a doubling interval until "Job
 *          Completed", within the start and finish timeouts; the rows are
 *          then paged from GET /{report_run_id}/insights.
 *
 * The async job is a sequence of streams (start, status polls, results)
 * handed out by next_stream, so the engine does all HTTP, retries and
 * statistics; only the waiting between polls happens here. A synchronous
 * request that Meta refuses as too much data is replaced by report runs.
 *
 * Rate limits: error codes 4, 17, 32, 613, 80000..80014 (and the transient
 * 1, 2, 341) are retried, after estimated_time_to_regain_access when the
 * X-Business-Use-Case-Usage header names it. Every successful response's
 * usage headers are read, and when usage reaches throttle_percent the next
 * request waits, so that the run slows down before it is refused.
 *
 * The window defaults to [today - lookback_days, today - 1]: every run
 * re-pulls the days whose attributed numbers Meta may still revise.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "money.h"
#include "record.h"
#include "registry.h"
#include "retry.h"
#include "source.h"

#define META_MAX_ACCOUNTS 64

/* The kinds of stream (SourceStream.kind). */
enum
{
	META_STREAM_SYNC,           /* GET act_X/insights, paged */
	META_STREAM_JOB_START,      /* POST act_X/insights: report_run_id */
	META_STREAM_JOB_STATUS,     /* GET /{report_run_id}: async_status */
	META_STREAM_JOB_RESULTS     /* GET /{report_run_id}/insights, paged */
};

typedef enum MetaLevel
{
	META_LEVEL_CAMPAIGN,
	META_LEVEL_ADSET,
	META_LEVEL_AD
} MetaLevel;

/* Where the run is between streams. */
typedef enum MetaPhase
{
	META_PHASE_NEXT_UNIT,       /* hand out the next (account, days) */
	META_PHASE_STARTED,         /* the start answered: poll */
	META_PHASE_POLLED           /* a status answered: poll again or fetch */
} MetaPhase;

/* The usage header names, in HttpResponse.rate_headers order. */
enum
{
	META_HDR_BUSINESS,
	META_HDR_AD_ACCOUNT,
	META_HDR_APP,
	META_HDR_INSIGHTS_THROTTLE
};

static const char *const meta_usage_headers[] = {
	"X-Business-Use-Case-Usage",
	"X-Ad-Account-Usage",
	"X-App-Usage",
	"X-FB-Ads-Insights-Throttle",
	NULL
};

/* One unit of work: one account over [from, to]. */
typedef struct MetaUnit
{
	const char *account;        /* digits, borrowed from Meta.accounts */
	ClDate from;
	ClDate to;
	bool async;
} MetaUnit;

typedef struct Meta
{
	char *base_url;             /* owned, without trailing slash */
	const char *api_version;    /* borrowed from the configuration */
	const char *access_token;
	char accounts[META_MAX_ACCOUNTS][32];   /* digits, without act_ */
	int naccounts;
	MetaLevel level;
	const char *level_name;     /* "ad" */
	const char *utm_source;
	const char *utm_medium;
	int64_t page_size;
	int64_t async_threshold_days;
	int64_t job_days;
	int64_t start_timeout_ms;
	int64_t finish_timeout_ms;
	int64_t poll_initial_ms;
	int64_t poll_max_ms;
	int64_t throttle_percent;
	int64_t throttle_max_pause_ms;

	/* the walk over accounts and day ranges */
	int next_account;
	ClDate next_from;           /* first day of the account's next unit */
	MetaUnit unit;              /* the unit in progress */
	MetaPhase phase;
	char label[72];             /* "act_1 2026-01-01 .. 2026-01-07" */

	/* the async job of the unit in progress */
	char run_id[48];            /* report_run_id, "" before the start */
	char status[64];            /* async_status of the last poll */
	int64_t percent;            /* async_percent_completion, -1 unknown */
	ClTime job_started;
	int64_t poll_ms;            /* the next wait between polls */
	int polls;

	int async_account;          /* index of the account whose window is fetched
								 * through report runs because a synchronous
								 * request asked for too much data; -1 none */
	bool too_much_data;         /* the last failed answer said so */
	ClTime pause_until;         /* no request before this (usage headers) */
	int64_t dropped_before;     /* run->dropped when the unit started */
} Meta;

static const char *const meta_entities[] = { "spend", NULL };


/* meta_close frees the state of meta_open (NULL-safe). */
static void
meta_close(void *state)
{
	Meta *m = state;

	if (m == NULL)
		return;
	free(m->base_url);
	free(m);
}


/*
 * account_digits copies an ad account id into out without its "act_"
 * prefix; false when anything but digits remains.
 */
static bool
account_digits(const char *id, size_t len, char *out, size_t outsize)
{
	if (len > 4 && strncmp(id, "act_", 4) == 0)
	{
		id += 4;
		len -= 4;
	}
	if (len == 0 || len >= outsize)
		return false;
	for (size_t i = 0; i < len; i++)
	{
		if (id[i] < '0' || id[i] > '9')
			return false;
	}
	memcpy(out, id, len);
	out[len] = '\0';
	return true;
}


/*
 * parse_accounts splits account_ids (a normalised comma list).
 */
static bool
parse_accounts(Meta *m, const char *list, ClError *err)
{
	const char *p = list;

	while (*p != '\0')
	{
		size_t len = strcspn(p, ",");

		if (m->naccounts == META_MAX_ACCOUNTS)
		{
			log_error("meta: [ads.meta] account_ids lists more than %d accounts",
					  META_MAX_ACCOUNTS);
			*err = CL_ERR_CONFIG;
			return false;
		}
		if (!account_digits(p, len, m->accounts[m->naccounts], sizeof(m->accounts[0])))
		{
			log_error("meta: [ads.meta] account_ids: \"%.*s\" is not an ad account id "
					  "(act_ followed by digits, such as act_1234567890)", (int) len, p);
			*err = CL_ERR_CONFIG;
			return false;
		}
		m->naccounts++;
		p += len;
		if (*p == ',')
			p++;
	}
	return true;
}


/*
 * parse_level reads [ads.meta] level: the grain of the rows.
 */
static bool
parse_level(Meta *m, const char *level, ClError *err)
{
	if (level == NULL || strcmp(level, "ad") == 0)
		m->level = META_LEVEL_AD;
	else if (strcmp(level, "adset") == 0)
		m->level = META_LEVEL_ADSET;
	else if (strcmp(level, "campaign") == 0)
		m->level = META_LEVEL_CAMPAIGN;
	else
	{
		log_error("meta: [ads.meta] level = %s: use campaign, adset or ad", level);
		*err = CL_ERR_CONFIG;
		return false;
	}
	m->level_name = m->level == META_LEVEL_AD ? "ad"
		: m->level == META_LEVEL_ADSET ? "adset" : "campaign";
	return true;
}


/*
 * meta_open reads [ads.meta] and the window.
 */
static bool
meta_open(SourceRun *run, void **state, ClError *err)
{
	Meta *m = calloc(1, sizeof(Meta));
	const char *sec = run->vendor->section;
	const char *accounts;
	int64_t lookback;

	*state = m;
	if (m == NULL)
	{
		log_error("meta: out of memory");
		*err = CL_ERR_INTERNAL;
		return false;
	}
	if (!source_config_url(run, "base_url", &m->base_url, err) ||
		!source_config_required(run, "access_token", "every Marketing API call",
								&m->access_token, err) ||
		!source_config_required(run, "account_ids", "the ad accounts to read", &accounts, err) ||
		!source_config_required(run, "api_version", "the API path, such as v21.0",
								&m->api_version, err) ||
		!parse_accounts(m, accounts, err) ||
		!parse_level(m, source_config_text(run, "level"), err))
	{
		/* errors have already been logged */
		return false;
	}
	m->utm_source = source_config_text(run, "utm_source");
	m->utm_medium = source_config_text(run, "utm_medium");
	if (m->utm_source == NULL || m->utm_medium == NULL)
	{
		log_error("meta: [ads.meta] utm_source and utm_medium must not be empty");
		*err = CL_ERR_CONFIG;
		return false;
	}
	m->page_size = config_get_int(run->cfg, sec, "page_size");
	m->async_threshold_days = config_get_int(run->cfg, sec, "async_threshold_days");
	m->job_days = config_get_int(run->cfg, sec, "job_days");
	m->start_timeout_ms = config_get_int(run->cfg, sec, "job_start_timeout_seconds") * 1000;
	m->finish_timeout_ms = config_get_int(run->cfg, sec, "job_finish_timeout_seconds") * 1000;
	m->poll_initial_ms = config_get_int(run->cfg, sec, "job_poll_initial_ms");
	m->poll_max_ms = config_get_int(run->cfg, sec, "job_poll_max_ms");
	m->throttle_percent = config_get_int(run->cfg, sec, "throttle_percent");
	m->throttle_max_pause_ms = config_get_int(run->cfg, sec, "throttle_max_pause_seconds") * 1000;
	if (m->poll_max_ms < m->poll_initial_ms)
		m->poll_max_ms = m->poll_initial_ms;

	/* Yesterday is the last complete day; lookback 0 still re-pulls it. */
	lookback = config_get_int(run->cfg, sec, "lookback_days");
	if (lookback < 1)
		lookback = 1;
	if (!source_run_window(run, run->today - (ClDate) lookback, run->today - 1, err))
	{
		/* errors have already been logged */
		return false;
	}
	m->next_from = run->window.from;
	m->phase = META_PHASE_NEXT_UNIT;
	m->async_account = -1;
	return true;
}


/*
 * meta_authenticate: the access token is static, so there is nothing to
 * refresh (an invalid one is a configuration error, code 190, and
 * meta_classify never asks for a refresh, so force is never set). This
 * hook runs right before every request, which makes it the place to
 * honour a pause that the usage headers of the previous response asked for.
 */
static bool
meta_authenticate(void *state, SourceRun *run, bool force, ClError *err)
{
	Meta *m = state;
	ClTime now = time_now();

	(void) run;
	(void) force;
	if (m->pause_until > now)
	{
		int64_t ms = (m->pause_until - now) / 1000;

		m->pause_until = 0;
		if (!retry_sleep_ms(ms))
		{
			log_error("meta: stopped by a signal while pausing for the rate limit");
			*err = CL_ERR_TEMPORARY;
			return false;
		}
	}
	return true;
}


/*
 * log_dropped reports the rows of the finished unit whose date fell
 * outside the days it asked for.
 */
static void
log_dropped(Meta *m, SourceRun *run)
{
	char from[CL_DATE_BUFSIZE];
	char to[CL_DATE_BUFSIZE];

	if (run->dropped > m->dropped_before)
		log_warn("meta %s: %lld rows dated outside %s .. %s dropped", m->label,
				 (long long) (run->dropped - m->dropped_before),
				 date_format(m->unit.from, from), date_format(m->unit.to, to));
	m->dropped_before = run->dropped;
}


/*
 * next_unit picks the next (account, days) to fetch: the whole window
 * synchronously when it is short, else async report runs of job_days days.
 * false when every account is done.
 */
static bool
next_unit(Meta *m, SourceRun *run)
{
	int64_t days = (int64_t) run->window.to - run->window.from + 1;
	bool async;
	char from[CL_DATE_BUFSIZE];
	char to[CL_DATE_BUFSIZE];

	if (m->next_account < m->naccounts && m->next_from > run->window.to)
	{
		m->next_account++;
		m->next_from = run->window.from;
	}
	if (m->next_account >= m->naccounts)
		return false;
	async = days > m->async_threshold_days || m->async_account == m->next_account;
	m->unit.account = m->accounts[m->next_account];
	m->unit.async = async;
	m->unit.from = m->next_from;
	m->unit.to = async && m->next_from + m->job_days - 1 < run->window.to
		? (ClDate) (m->next_from + m->job_days - 1) : run->window.to;
	m->next_from = m->unit.to + 1;
	(void) snprintf(m->label, sizeof(m->label), "act_%s %s .. %s", m->unit.account,
					date_format(m->unit.from, from), date_format(m->unit.to, to));
	m->run_id[0] = '\0';
	m->status[0] = '\0';
	m->percent = -1;
	m->polls = 0;
	m->poll_ms = m->poll_initial_ms;
	return true;
}


/*
 * stream_set fills *stream for the unit in progress.
 */
static void
stream_set(Meta *m, SourceStream *stream, int kind)
{
	stream->kind = kind;
	stream->data = m;
	stream->entities = "spend";
	switch (kind)
	{
		case META_STREAM_SYNC:
		case META_STREAM_JOB_RESULTS:
			stream->name = "insights";
			stream->paging = SOURCE_PAGING_CURSOR;
			stream->record_path = "data[]";
			stream->cursor_path = "paging.cursors.after";
			stream->more_path = "paging.next";
			(void) snprintf(stream->label, sizeof(stream->label), "%s%s", m->label,
							kind == META_STREAM_JOB_RESULTS ? " (report run results)" : "");
			break;
		case META_STREAM_JOB_START:
			stream->name = "report-start";
			stream->entities = "-";
			stream->paging = SOURCE_PAGING_NONE;
			stream->record_path = "";
			(void) snprintf(stream->label, sizeof(stream->label), "%s (report run start)",
							m->label);
			break;
		case META_STREAM_JOB_STATUS:
			stream->name = "report-status";
			stream->entities = "-";
			stream->paging = SOURCE_PAGING_NONE;
			stream->record_path = "";
			(void) snprintf(stream->label, sizeof(stream->label),
							"%s (report run %s, poll %d)", m->label, m->run_id, m->polls + 1);
			break;
	}
}


/*
 * job_next decides what follows a status poll: the results, another
 * poll after a wait, or a failure (a failed or skipped job, a timeout).
 * *kind is the next stream's kind.
 */
static bool
job_next(Meta *m, int *kind, ClError *err)
{
	int64_t elapsed_ms = (time_now() - m->job_started) / 1000;
	bool started = strcmp(m->status, "Job Not Started") != 0 && m->status[0] != '\0';

	if (strcmp(m->status, "Job Completed") == 0 && (m->percent < 0 || m->percent >= 100))
	{
		log_info("meta %s: report run %s completed after %d polls in %.1f s", m->label,
				 m->run_id, m->polls, (double) elapsed_ms / 1000.0);
		*kind = META_STREAM_JOB_RESULTS;
		return true;
	}
	if (strcmp(m->status, "Job Failed") == 0 || strcmp(m->status, "Job Skipped") == 0)
	{
		log_error("meta %s: report run %s ended with \"%s\"; Meta gives no reason: run "
				  "again later, or lower [ads.meta] job_days or level", m->label, m->run_id,
				  m->status);
		*err = CL_ERR_UNAVAILABLE;
		return false;
	}
	if (!started && elapsed_ms >= m->start_timeout_ms)
	{
		log_error("meta %s: report run %s has not started within %lld s "
				  "(job_start_timeout_seconds); Meta's queue is busy: run again later",
				  m->label, m->run_id, (long long) (m->start_timeout_ms / 1000));
		*err = CL_ERR_TEMPORARY;
		return false;
	}
	if (elapsed_ms >= m->finish_timeout_ms)
	{
		log_error("meta %s: report run %s has not finished within %lld s "
				  "(job_finish_timeout_seconds), last status \"%s\" %lld%%: run again later, "
				  "or lower [ads.meta] job_days", m->label, m->run_id,
				  (long long) (m->finish_timeout_ms / 1000), m->status, (long long) m->percent);
		*err = CL_ERR_TEMPORARY;
		return false;
	}
	/* never sleep past the deadline that applies */
	{
		int64_t left = (started ? m->finish_timeout_ms : m->start_timeout_ms) - elapsed_ms;
		int64_t wait = m->poll_ms < left ? m->poll_ms : left;

		if (!retry_sleep_ms(wait))
		{
			log_error("meta %s: stopped by a signal while waiting for report run %s",
					  m->label, m->run_id);
			*err = CL_ERR_TEMPORARY;
			return false;
		}
	}
	m->poll_ms = m->poll_ms * 2 < m->poll_max_ms ? m->poll_ms * 2 : m->poll_max_ms;
	*kind = META_STREAM_JOB_STATUS;
	return true;
}


/*
 * meta_next_stream walks accounts and day ranges; an async unit is the
 * sequence start, status polls, results.
 */
static bool
meta_next_stream(void *state, SourceRun *run, SourceStream *stream, bool *more,
				 ClError *err)
{
	Meta *m = state;
	int kind;

	*more = true;
	switch (m->phase)
	{
		case META_PHASE_STARTED:
			if (m->run_id[0] == '\0')
			{
				log_error("meta %s: the report run start answered without a report_run_id",
						  m->label);
				*err = CL_ERR_DATA;
				return false;
			}
			m->job_started = time_now();
			log_info("meta %s: report run %s started", m->label, m->run_id);
			stream_set(m, stream, META_STREAM_JOB_STATUS);
			m->phase = META_PHASE_POLLED;
			return true;

		case META_PHASE_POLLED:
			if (m->status[0] != '\0' && m->polls > 0)
				log_info("meta %s: report run %s: %s, %lld%%", m->label, m->run_id,
						 m->status, (long long) (m->percent < 0 ? 0 : m->percent));
			if (!job_next(m, &kind, err))
			{
				/* errors have already been logged */
				return false;
			}
			stream_set(m, stream, kind);
			m->phase = kind == META_STREAM_JOB_RESULTS ? META_PHASE_NEXT_UNIT
				: META_PHASE_POLLED;
			return true;

		case META_PHASE_NEXT_UNIT:
			break;
	}

	if (m->label[0] != '\0')
		log_dropped(m, run);
	if (!next_unit(m, run))
	{
		*more = false;
		return true;
	}
	if (m->unit.async)
	{
		stream_set(m, stream, META_STREAM_JOB_START);
		m->phase = META_PHASE_STARTED;
	}
	else
		stream_set(m, stream, META_STREAM_SYNC);
	return true;
}


/*
 * fields_for: the insights fields of the level; account_currency makes
 * spend convertible, date_start/date_stop give the day.
 */
static const char *
fields_for(MetaLevel level)
{
	switch (level)
	{
		case META_LEVEL_CAMPAIGN:
			return "account_id,account_currency,campaign_id,campaign_name,"
				"spend,clicks,impressions,date_start,date_stop";
		case META_LEVEL_ADSET:
			return "account_id,account_currency,campaign_id,campaign_name,adset_id,adset_name,"
				"spend,clicks,impressions,date_start,date_stop";
		case META_LEVEL_AD:
			break;
	}
	return "account_id,account_currency,campaign_id,campaign_name,adset_id,adset_name,"
		"ad_id,ad_name,spend,clicks,impressions,date_start,date_stop";
}


/*
 * append_insights_params writes the insights parameters of the unit,
 * URL-encoded, as a query string or a form body.
 */
static void
append_insights_params(Meta *m, TextBuf *b)
{
	char from[CL_DATE_BUFSIZE];
	char to[CL_DATE_BUFSIZE];
	char range[64];

	(void) snprintf(range, sizeof(range), "{\"since\":\"%s\",\"until\":\"%s\"}",
					date_format(m->unit.from, from), date_format(m->unit.to, to));
	tb_printf(b, "level=%s&time_increment=1&fields=", m->level_name);
	tb_append_query_value(b, fields_for(m->level));
	tb_append(b, "&time_range=");
	tb_append_query_value(b, range);
}


/*
 * meta_build_request: the request of one stream page. The token goes in
 * the Authorization header, never in a URL that proxies might log.
 */
static bool
meta_build_request(void *state, const SourceStream *stream, const SourcePage *page,
				   SourceRequest *req, ClError *err)
{
	Meta *m = state;

	switch (stream->kind)
	{
		case META_STREAM_SYNC:
			tb_printf(&req->url, "%s/%s/act_%s/insights?", m->base_url, m->api_version,
					  m->unit.account);
			append_insights_params(m, &req->url);
			tb_printf(&req->url, "&limit=%lld", (long long) m->page_size);
			break;
		case META_STREAM_JOB_START:
			req->method = "POST";
			tb_printf(&req->url, "%s/%s/act_%s/insights", m->base_url, m->api_version,
					  m->unit.account);
			append_insights_params(m, &req->body);
			if (!source_request_header(req, "Content-Type: application/x-www-form-urlencoded"))
			{
				*err = CL_ERR_INTERNAL;
				return false;
			}
			break;
		case META_STREAM_JOB_STATUS:
			tb_printf(&req->url, "%s/%s/", m->base_url, m->api_version);
			tb_append_query_value(&req->url, m->run_id);
			tb_append(&req->url, "?fields=id,async_status,async_percent_completion");
			break;
		case META_STREAM_JOB_RESULTS:
			tb_printf(&req->url, "%s/%s/", m->base_url, m->api_version);
			tb_append_query_value(&req->url, m->run_id);
			tb_printf(&req->url, "/insights?limit=%lld", (long long) m->page_size);
			break;
		default:
			log_error("BUG: meta stream kind %d", stream->kind);
			*err = CL_ERR_INTERNAL;
			return false;
	}
	if (page->cursor != NULL)
	{
		tb_append(&req->url, "&after=");
		tb_append_query_value(&req->url, page->cursor);
	}
	if (!source_request_header(req, "Authorization: Bearer %s", m->access_token) ||
		!source_request_header(req, "Accept: application/json"))
	{
		*err = CL_ERR_INTERNAL;
		return false;
	}
	return true;
}


/*
 * map_job_start keeps the report_run_id of a start answer.
 */
static bool
map_job_start(Meta *m, const JsonValue *record, ClError *err)
{
	const char *id = text_nonempty(json_text(json_member(record, "report_run_id")));

	if (id == NULL || strlen(id) >= sizeof(m->run_id) ||
		strspn(id, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_-") !=
		strlen(id))
	{
		log_error("meta %s: the report run start answered without a usable report_run_id",
				  m->label);
		*err = CL_ERR_DATA;
		return false;
	}
	(void) snprintf(m->run_id, sizeof(m->run_id), "%s", id);
	return true;
}


/*
 * map_job_status keeps async_status and async_percent_completion of a
 * status answer (a retried attempt overwrites them: keyed, not appended).
 */
static bool
map_job_status(Meta *m, const JsonValue *record, ClError *err)
{
	const char *status = text_nonempty(json_string(json_member(record, "async_status")));
	int64_t percent = -1;

	if (status == NULL)
	{
		log_error("meta %s: the status of report run %s has no async_status", m->label,
				  m->run_id);
		*err = CL_ERR_DATA;
		return false;
	}
	if (!json_is_null(json_member(record, "async_percent_completion")) &&
		!json_int64(json_member(record, "async_percent_completion"), &percent))
		percent = -1;
	(void) snprintf(m->status, sizeof(m->status), "%s", status);
	m->percent = percent;
	m->polls++;
	return true;
}


/*
 * map_insight turns one daily insights row into a spend row. Checks run
 * before anything is written, so a refused row leaves nothing.
 */
static bool
map_insight(Meta *m, SourceRun *run, const JsonValue *record, ClError *err)
{
	const char *date_text = json_string(json_member(record, "date_start"));
	const char *date_stop = json_string(json_member(record, "date_stop"));
	const char *account = text_nonempty(json_text(json_member(record, "account_id")));
	const char *campaign_id = text_nonempty(json_text(json_member(record, "campaign_id")));
	const char *campaign_name = text_nonempty(json_string(json_member(record, "campaign_name")));
	const char *adset_id = text_nonempty(json_text(json_member(record, "adset_id")));
	const char *ad_id = text_nonempty(json_text(json_member(record, "ad_id")));
	const char *currency = text_nonempty(json_string(json_member(record, "account_currency")));
	const char *spend = json_text(json_member(record, "spend"));
	char id[192];
	RecordRef ref = { "meta", "insights row", id };
	StagingWriter *w = source_run_writer(run, "spend");
	ClDate date;
	ClDate stop;
	int64_t clicks;
	int64_t impressions;
	int64_t cost_minor = 0;
	JsonGen *g;

	if (w == NULL)
	{
		*err = CL_ERR_INTERNAL;
		return false;
	}
	if (account == NULL)
		account = m->unit.account;
	(void) snprintf(id, sizeof(id), "act_%s campaign %s%s%s%s%s date %s", account,
					campaign_id != NULL ? campaign_id : "?",
					adset_id != NULL ? " adset " : "", adset_id != NULL ? adset_id : "",
					ad_id != NULL ? " ad " : "", ad_id != NULL ? ad_id : "",
					date_text != NULL ? date_text : "?");
	if (date_text == NULL || !date_parse(date_text, &date))
	{
		record_error(&ref, "date_start", "missing or not YYYY-MM-DD");
		*err = CL_ERR_DATA;
		return false;
	}
	/* time_increment=1 rows cover one day; a longer row would spread one
	 * cost over days nobody can tell apart */
	if (date_stop != NULL && (!date_parse(date_stop, &stop) || stop != date))
	{
		record_error(&ref, "date_stop", "%s: a row of time_increment=1 must cover one day",
					 date_stop);
		*err = CL_ERR_DATA;
		return false;
	}
	/* a row outside the days asked for would be counted twice when the
	 * window is split into report runs: only the unit's days are kept */
	if (date < m->unit.from || date > m->unit.to)
	{
		run->dropped++;
		return true;
	}
	if (currency == NULL || !currency_valid(currency))
	{
		record_error(&ref, "account_currency",
					 "%s; without the account currency spend cannot be converted "
					 "(the request asks for account_currency)",
					 currency == NULL ? "missing" : "not an ISO 4217 code");
		*err = CL_ERR_DATA;
		return false;
	}
	if (campaign_id == NULL)
	{
		record_error(&ref, "campaign_id", "missing (the request asks for campaign_id)");
		*err = CL_ERR_DATA;
		return false;
	}
	if ((m->level != META_LEVEL_CAMPAIGN && adset_id == NULL) ||
		(m->level == META_LEVEL_AD && ad_id == NULL))
	{
		record_error(&ref, adset_id == NULL ? "adset_id" : "ad_id",
					 "missing in a row of level %s", m->level_name);
		*err = CL_ERR_DATA;
		return false;
	}
	/* Meta sends numbers as strings ("9", "14.35"); an absent metric is 0 */
	if (!record_int64(&ref, "clicks", json_member(record, "clicks"), true, &clicks, err) ||
		!record_int64(&ref, "impressions", json_member(record, "impressions"), true,
					  &impressions, err))
	{
		/* errors have already been logged */
		return false;
	}
	/* spend is in the account currency's major unit, sometimes with more
	 * digits than the currency has: rounded half away from zero */
	if (spend != NULL && !money_parse_rounded(spend, currency, &cost_minor))
	{
		record_error(&ref, "spend", "\"%s\" is not an amount of %s", spend, currency);
		*err = CL_ERR_DATA;
		return false;
	}

	g = staging_row_begin(w, date);
	jgen_date(g, "date", date);
	jgen_string(g, "platform", "meta");
	jgen_string(g, "account_id", account);
	jgen_string(g, "campaign_id", campaign_id);
	row_string(g, "campaign_name", campaign_name);
	if (m->level != META_LEVEL_CAMPAIGN)
		jgen_string(g, "adgroup_id", adset_id);
	if (m->level == META_LEVEL_AD)
		jgen_string(g, "ad_id", ad_id);
	jgen_string(g, "source", m->utm_source);
	jgen_string(g, "medium", m->utm_medium);
	row_string(g, "campaign", campaign_name);
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
 * meta_map_record: the answers of a report run's start and status polls are
 * one document each (record path ""); everything else is insights rows.
 */
static bool
meta_map_record(void *state, SourceRun *run, const SourceStream *stream,
				const JsonValue *record, ClError *err)
{
	Meta *m = state;

	switch (stream->kind)
	{
		case META_STREAM_JOB_START:
			return map_job_start(m, record, err);
		case META_STREAM_JOB_STATUS:
			return map_job_status(m, record, err);
		default:
			return map_insight(m, run, record, err);
	}
}


/*
 * meta_check_envelope: a Graph error may come with a 2xx status from
 * proxies and batch endpoints; an envelope that carries "error" is one.
 */
static bool
meta_check_envelope(void *state, const SourceStream *stream, const JsonValue *envelope,
					ClError *err)
{
	const JsonValue *error = json_member(envelope, "error");

	(void) state;
	if (error == NULL)
		return true;
	log_error("meta %s: the answer is an error: %s (code %s)", stream->label,
			  json_string(json_member(error, "message")) != NULL
			  ? json_string(json_member(error, "message")) : "(no message)",
			  json_text(json_member(error, "code")) != NULL
			  ? json_text(json_member(error, "code")) : "?");
	*err = CL_ERR_DATA;
	return false;
}


/*
 * meta_error_code: error.code of a Graph error body; -1 when there is
 * none.
 */
static int64_t
meta_error_code(const JsonValue *body)
{
	int64_t code = -1;

	if (!json_int64(json_path(body, "error.code"), &code))
		return -1;
	return code;
}


/*
 * meta_rate_limited: the codes of Graph's rate limiting: application (4),
 * user (17), pages (32), custom-level (613), ad account (341) and the
 * Business Use Case limits (80000..80014).
 */
static bool
meta_rate_limited(int64_t code)
{
	return code == 4 || code == 17 || code == 32 || code == 341 || code == 613 ||
		(code >= 80000 && code <= 80014);
}


/*
 * meta_too_much_data: the answer of a synchronous insights request that
 * covers more rows than Meta computes in one call (code 1 "Please reduce
 * the amount of data you're asking for", or code 100 subcode 1487534).
 * Asking again is useless; a report run is the way to get them.
 */
static bool
meta_too_much_data(const JsonValue *body)
{
	int64_t code = meta_error_code(body);
	int64_t subcode = -1;
	const char *message = json_string(json_path(body, "error.message"));

	(void) json_int64(json_path(body, "error.error_subcode"), &subcode);
	return (code == 100 && subcode == 1487534) ||
		(code == 1 && message != NULL && strstr(message, "reduce the amount of data") != NULL);
}


/*
 * meta_transient: rate limits, and the temporary "unknown" (1) and
 * "service" (2) errors; Meta also marks some errors is_transient.
 */
static bool
meta_transient(const JsonValue *body)
{
	int64_t code = meta_error_code(body);
	bool flag = false;

	if (meta_too_much_data(body))
		return false;
	if (meta_rate_limited(code) || code == 1 || code == 2)
		return true;
	return json_bool(json_path(body, "error.is_transient"), &flag) && flag;
}


/*
 * usage_number reads a percentage or count that Meta sends as a JSON
 * number, integral or not; -1 when absent or not a number.
 */
static double
usage_number(const JsonValue *v)
{
	const char *text = json_text(v);
	char *end = NULL;
	double d;

	if (text == NULL || v->type != JSON_NUMBER)
		return -1.0;
	errno = 0;
	d = strtod(text, &end);
	if (errno != 0 || end == text || *end != '\0' || d < 0.0)
		return -1.0;
	return d;
}


/* What the usage headers of one response say. */
typedef struct MetaUsage
{
	double percent;             /* the highest utilisation, 0..100+, -1 none */
	const char *which;          /* the header it came from */
	int64_t regain_ms;          /* estimated_time_to_regain_access, -1 none */
	int64_t reset_ms;           /* X-Ad-Account-Usage reset_time_duration */
} MetaUsage;


/* usage_max raises u->percent to v when higher. */
static void
usage_max(MetaUsage *u, double v, const char *which)
{
	if (v > u->percent)
	{
		u->percent = v;
		u->which = which;
	}
}


/*
 * usage_read: the highest utilisation and the longest wait named by the
 * usage headers of resp:
 *   X-Business-Use-Case-Usage  {"<business>":[{"type","call_count",
 *       "total_cputime","total_time","estimated_time_to_regain_access"
 *       (minutes)}]}
 *   X-Ad-Account-Usage         {"acc_id_util_pct","reset_time_duration" (s)}
 *   X-App-Usage                {"call_count","total_cputime","total_time"}
 *   X-FB-Ads-Insights-Throttle {"app_id_util_pct","acc_id_util_pct"}
 * A header that is not JSON is ignored (the request succeeded anyway).
 */
static void
usage_read(const HttpResponse *resp, MetaUsage *u)
{
	static const char *const pct_keys[] = {
		"call_count", "total_cputime", "total_time", "acc_id_util_pct", "app_id_util_pct", NULL
	};

	u->percent = -1.0;
	u->which = NULL;
	u->regain_ms = -1;
	u->reset_ms = -1;
	for (int h = 0; h < 4; h++)
	{
		const char *text = resp->rate_headers[h];
		JsonValue *doc;

		if (text[0] == '\0')
			continue;
		doc = json_parse(text, strlen(text), NULL, 0);
		if (doc == NULL || doc->type != JSON_OBJECT)
		{
			json_free(doc);
			continue;
		}
		if (h == META_HDR_BUSINESS)
		{
			/* one array of use-case entries per business id */
			for (size_t b = 0; b < doc->count; b++)
			{
				const JsonValue *arr = doc->items[b];

				for (size_t i = 0; arr->type == JSON_ARRAY && i < arr->count; i++)
				{
					double minutes;

					for (int k = 0; k < 3; k++)
						usage_max(u, usage_number(json_member(arr->items[i], pct_keys[k])),
								  meta_usage_headers[h]);
					minutes = usage_number(json_member(arr->items[i],
													   "estimated_time_to_regain_access"));
					if (minutes > 0.0 && (int64_t) (minutes * 60000.0) > u->regain_ms)
						u->regain_ms = (int64_t) (minutes * 60000.0);
				}
			}
		}
		else
		{
			double reset = usage_number(json_member(doc, "reset_time_duration"));

			for (int k = 0; pct_keys[k] != NULL; k++)
				usage_max(u, usage_number(json_member(doc, pct_keys[k])), meta_usage_headers[h]);
			if (reset > 0.0)
				u->reset_ms = (int64_t) (reset * 1000.0);
		}
		json_free(doc);
	}
}


/*
 * meta_pause_ms: how long to wait before the next request after a
 * successful response with usage u. Below throttle_percent: not at all.
 * Above it the pause grows linearly to throttle_max_pause_seconds at 100%;
 * a named time to regain access (or the ad account's reset time, when at
 * the limit) is waited for in full, up to the same cap.
 */
static int64_t
meta_pause_ms(const Meta *m, const MetaUsage *u)
{
	int64_t pause = 0;

	if (u->regain_ms > 0)
		pause = u->regain_ms;
	else if (u->percent >= (double) m->throttle_percent)
	{
		double span = 100.0 - (double) m->throttle_percent;
		double share = span > 0.0 ? (u->percent - (double) m->throttle_percent) / span : 1.0;

		if (share > 1.0)
			share = 1.0;
		pause = (int64_t) (share * (double) m->throttle_max_pause_ms);
		if (u->percent >= 100.0 && u->reset_ms > pause)
			pause = u->reset_ms;
	}
	return pause < m->throttle_max_pause_ms ? pause : m->throttle_max_pause_ms;
}


/*
 * meta_check_response reads the usage headers of a successful response
 * and schedules the pause (taken in meta_authenticate, before the next
 * request, so the last response of a run costs no wait).
 */
static bool
meta_check_response(void *state, SourceRun *run, const HttpResponse *resp, ClError *err)
{
	Meta *m = state;
	MetaUsage u;
	int64_t pause;

	(void) run;
	(void) err;
	usage_read(resp, &u);
	pause = meta_pause_ms(m, &u);
	if (pause > 0)
	{
		log_info("meta %s: usage at %.0f%% (%s)%s; pausing %.1f s before the next request",
				 m->label, u.percent < 0.0 ? 0.0 : u.percent,
				 u.which != NULL ? u.which : meta_usage_headers[META_HDR_BUSINESS],
				 u.regain_ms > 0 ? ", access to be regained later" : "",
				 (double) pause / 1000.0);
		m->pause_until = time_now() + pause * 1000;
	}
	return true;
}


/*
 * meta_classify: rate limits and transient errors are retried (after the
 * time to regain access the usage header names, if any; the retry budget
 * decides whether that fits in this run); an invalid token is not, nor a
 * request for too much data (remembered for meta_replace_stream).
 */
static HttpVerdict
meta_classify(void *state, const HttpResponse *resp, int64_t *delay_ms)
{
	JsonValue *body = NULL;
	HttpVerdict verdict = HTTP_VERDICT_DEFAULT;
	int64_t code;

	if (resp->error_body == NULL)
		return HTTP_VERDICT_DEFAULT;
	body = json_parse(resp->error_body, resp->error_body_len, NULL, 0);
	code = meta_error_code(body);
	if (state != NULL)
		((Meta *) state)->too_much_data = meta_too_much_data(body);
	if (meta_too_much_data(body))
		verdict = HTTP_VERDICT_FAIL;
	else if (meta_transient(body))
	{
		MetaUsage u;

		usage_read(resp, &u);
		verdict = HTTP_VERDICT_RETRY;
		if (u.regain_ms > 0)
			*delay_ms = u.regain_ms;
		else if (u.reset_ms > 0 && meta_rate_limited(code))
			*delay_ms = u.reset_ms;
		/* the engine's retry line names the status only: say why */
		log_warn("meta: Graph error %lld (%s)%s", (long long) code,
				 json_string(json_path(body, "error.message")) != NULL
				 ? json_string(json_path(body, "error.message")) : "no message",
				 meta_rate_limited(code) ? ": rate limited" : ": temporary");
	}
	else if (code == 190 || code == 102)
		verdict = HTTP_VERDICT_FAIL;
	json_free(body);
	return verdict;
}


/*
 * meta_explain describes a Graph error body: message, code, subcode, type
 * and fbtrace_id (which Meta's support asks for). Rate limits are
 * temporary (exit 75), a refused token is configuration (exit 78).
 */
static ClError
meta_explain(const HttpResponse *resp, char *msg, size_t msgsize)
{
	JsonValue *body = NULL;
	const JsonValue *error;
	int64_t code;
	ClError cls = CL_OK;
	TextBuf b;

	if (resp->error_body != NULL)
		body = json_parse(resp->error_body, resp->error_body_len, NULL, 0);
	error = json_member(body, "error");
	code = meta_error_code(body);
	tb_init(&b, TEXTBUF_DEFAULT_MAX);
	tb_printf(&b, "Meta answered HTTP %ld: ", resp->status);
	if (error == NULL)
		tb_append(&b, "(no Graph error body)");
	else
	{
		const char *message = json_string(json_member(error, "message"));
		const char *type = json_string(json_member(error, "type"));
		const char *subcode = json_text(json_member(error, "error_subcode"));
		const char *user_msg = json_string(json_member(error, "error_user_msg"));
		const char *trace = json_string(json_member(error, "fbtrace_id"));

		tb_printf(&b, "%s (code %lld", message != NULL ? message : "(no message)",
				  (long long) code);
		if (subcode != NULL)
			tb_printf(&b, ", subcode %s", subcode);
		if (type != NULL)
			tb_printf(&b, ", %s", type);
		if (trace != NULL)
			tb_printf(&b, ", fbtrace_id %s", trace);
		tb_append(&b, ")");
		if (user_msg != NULL)
			tb_printf(&b, ": %s", user_msg);
	}
	if (meta_rate_limited(code))
	{
		cls = CL_ERR_TEMPORARY;
		tb_append(&b, "; rate limited: run again later (the usage headers say when)");
	}
	else if (meta_transient(body))
	{
		cls = CL_ERR_TEMPORARY;
		tb_append(&b, "; a temporary error: run again later");
	}
	else if (meta_too_much_data(body))
		tb_append(&b, "; too much data for one request: a report run is needed "
				  "(lower [ads.meta] async_threshold_days)");
	else if (code == 190 || code == 102)
	{
		cls = CL_ERR_CONFIG;
		tb_append(&b, "; the access token is invalid or expired: renew [ads.meta] access_token");
	}
	(void) snprintf(msg, msgsize, "%s", tb_text(&b));
	tb_free(&b);
	json_free(body);
	return cls;
}


/*
 * meta_replace_stream: a synchronous insights request that asked for too
 * much data is replaced by report runs over the same account and days
 * (the engine drops the failed stream, which wrote nothing).
 */
static bool
meta_replace_stream(void *state, const SourceStream *stream, ClError err)
{
	Meta *m = state;

	(void) err;
	if (stream->kind != META_STREAM_SYNC || !m->too_much_data)
		return false;
	log_notice("meta %s: too much data for one request; fetching it through report runs "
			   "of at most %lld days", m->label, (long long) m->job_days);
	m->too_much_data = false;
	m->async_account = m->next_account;
	m->next_from = m->unit.from;
	m->phase = META_PHASE_NEXT_UNIT;
	return true;
}


const SourceVendor vendor_meta = {
	.name = "meta",
	.family = SOURCE_FAMILY_ADS,
	.section = "ads.meta",
	.entities = meta_entities,
	.open = meta_open,
	.close = meta_close,
	.authenticate = meta_authenticate,
	.next_stream = meta_next_stream,
	.build_request = meta_build_request,
	.map_record = meta_map_record,
	.check_envelope = meta_check_envelope,
	.classify = meta_classify,
	.explain_error = meta_explain,
	.response_headers = meta_usage_headers,
	.check_response = meta_check_response,
	.replace_stream = meta_replace_stream,
};
