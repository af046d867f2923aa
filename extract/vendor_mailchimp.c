/*
 * vendor_mailchimp.c: Mailchimp Marketing API 3.0 (family email),
 * docs/vendors/mailchimp.md.
 *
 * Streams, in order:
 *   campaigns       GET {base}/campaigns?status=sent, offset paging: keeps
 *                   each campaign sent in the window (every campaign on
 *                   --full-refresh) with its settings and utm tracking
 *   reports         GET {base}/reports/{id}, one document per kept
 *                   campaign: its email_campaign row, settings plus the
 *                   report's counts (sends, opens, clicks, bounces,
 *                   unsubscribes)
 *   email-activity  GET {base}/reports/{id}/email-activity, offset paging,
 *                   since the campaign's watermark: an email_event per
 *                   open, click and bounce, and a touch per click (and per
 *                   open when opens_as_touches)
 *
 * Auth: HTTP basic with the API key as password. The API host comes from
 * the key's data-centre suffix ("...-us5") unless base_url is set.
 *
 * Reports and activity streams are parallel streams (source.h): the engine
 * fetches them over up to max_connections connections. Their mappers touch
 * only their own campaign (SourceStream.data), except for the list of
 * unknown activity kinds, which a mutex guards.
 *
 * Incremental runs: every campaign whose activity was fetched gets a
 * watermark, the start of the run, in one state file,
 * <state_dir>/mailchimp/email_activity.json, written after the staging
 * commit; the next run asks for activity since the watermark minus
 * MAILCHIMP_OVERLAP_S. --from/--to backfills neither read nor move it.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "record.h"
#include "registry.h"
#include "sha256.h"
#include "source.h"
#include "state.h"
#include "urlquery.h"

enum
{
	MAILCHIMP_CAMPAIGNS,
	MAILCHIMP_REPORT,
	MAILCHIMP_ACTIVITY
};

/* The state file of the per-campaign activity watermarks. */
#define MAILCHIMP_STATE_FILE "email_activity.json"

/* Activity is asked for since the watermark minus this: events Mailchimp
 * records a little late are not lost. The repeated events are identical
 * rows (the touch ids are stable), which the transform deduplicates. */
#define MAILCHIMP_OVERLAP_S 3600

/* The members of a report the email_campaign row uses (fields= keeps the
 * response small: a full report carries time series and industry stats). */
#define MAILCHIMP_REPORT_FIELDS "id,emails_sent,unsubscribed,opens.opens_total," \
	"opens.unique_opens,clicks.clicks_total,clicks.unique_clicks," \
	"clicks.unique_subscriber_clicks,bounces.hard_bounces,bounces.soft_bounces"

/* Without a start date, the first run reaches back this far. */
#define MAILCHIMP_DEFAULT_DAYS 30


/* A campaign whose report and activity are fetched. */
typedef struct MailchimpCampaign
{
	char *id;                   /* owned */
	char *campaign;             /* owned: utm_campaign when a link has none */
	char *title;                /* owned or NULL: settings.title */
	char *subject;              /* owned or NULL: settings.subject_line */
	ClTime sent_at;
	int64_t recipients;         /* -1 unknown */
	bool has_since;             /* incremental: activity since "since" */
	ClTime since;
	bool reported;              /* its report was mapped (report stream) */
} MailchimpCampaign;

/* A watermark read from the state file. */
typedef struct MailchimpMark
{
	char *id;                   /* owned */
	ClTime at;
} MailchimpMark;

typedef struct Mailchimp
{
	char *base_url;             /* owned, without trailing slash */
	const char *api_key;        /* borrowed from the configuration */
	int64_t page_size;
	bool opens_as_touches;
	bool all_campaigns;         /* --full-refresh */
	MailchimpCampaign *campaigns;   /* owned */
	size_t ncampaigns;
	size_t cap;
	bool listed;                /* the campaigns stream was handed out */
	size_t next;                /* next campaign whose streams to hand out */
	bool next_is_activity;      /* its report was handed out, its activity next */
	bool backfill;              /* --from/--to: watermarks neither read nor moved */
	char *state_dir;            /* owned */
	MailchimpMark *marks;       /* owned: the state file's watermarks */
	size_t nmarks;
	WarnOnce warned;            /* unknown actions already named */
} Mailchimp;

static const char *const mailchimp_entities[] = { "email_campaign", "email_event", "touch", NULL };


/*
 * mailchimp_close frees the state, partial or complete (NULL-safe).
 */
static void
mailchimp_close(void *state)
{
	Mailchimp *mc = state;

	if (mc == NULL)
		return;
	for (size_t i = 0; i < mc->ncampaigns; i++)
	{
		free(mc->campaigns[i].id);
		free(mc->campaigns[i].campaign);
		free(mc->campaigns[i].title);
		free(mc->campaigns[i].subject);
	}
	free(mc->campaigns);
	for (size_t i = 0; i < mc->nmarks; i++)
		free(mc->marks[i].id);
	free(mc->marks);
	warn_once_free(&mc->warned);
	free(mc->state_dir);
	free(mc->base_url);
	free(mc);
}


/*
 * base_from_key derives https://<dc>.api.mailchimp.com/3.0 from the
 * data-centre suffix of an API key ("0123...-us5"). *out is ALLOCATED.
 */
static bool
base_from_key(const char *key, char **out, ClError *err)
{
	const char *dash = strrchr(key, '-');
	const char *dc = dash != NULL ? dash + 1 : NULL;
	size_t n;

	*out = NULL;
	if (dc == NULL || *dc == '\0' || strlen(dc) > 16)
	{
		log_error("mailchimp: [email.mailchimp] api_key has no data-centre suffix (such as "
				  "-us5), so the API host is unknown; use the full key or set base_url");
		*err = CL_ERR_CONFIG;
		return false;
	}
	for (const char *p = dc; *p != '\0'; p++)
	{
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')))
		{
			log_error("mailchimp: [email.mailchimp] api_key ends in an invalid data-centre "
					  "suffix; use the full key or set base_url");
			*err = CL_ERR_CONFIG;
			return false;
		}
	}
	n = strlen(dc) + sizeof("https://.api.mailchimp.com/3.0");
	*out = malloc(n);
	if (*out == NULL)
	{
		log_error("mailchimp: out of memory");
		*err = CL_ERR_INTERNAL;
		return false;
	}
	(void) snprintf(*out, n, "https://%s.api.mailchimp.com/3.0", dc);
	return true;
}


/*
 * default_from: the vendor's start_date, else the pipeline's, else
 * MAILCHIMP_DEFAULT_DAYS before today.
 */
static ClDate
default_from(const SourceRun *run)
{
	const char *start = source_config_text(run, "start_date");
	ClDate d;

	if (start == NULL)
		start = config_get(run->cfg, "pipeline", "start_date");
	if (start != NULL && date_parse(start, &d) && d <= run->today)
		return d;
	return run->today - MAILCHIMP_DEFAULT_DAYS;
}


/*
 * read_marks loads the per-campaign activity watermarks of the last
 * incremental run; a missing file is a first run. A file that cannot be
 * used is CL_ERR_CONFIG, naming it and the cure.
 */
static bool
read_marks(Mailchimp *mc, ClError *err)
{
	char *text = NULL;
	JsonValue *doc = NULL;
	const JsonValue *map;
	char perr[160];
	bool ok = false;

	if (!state_read_text(mc->state_dir, "mailchimp", MAILCHIMP_STATE_FILE, &text, err))
		return false;   /* errors have already been logged */
	if (text == NULL)
		return true;
	doc = json_parse(text, strlen(text), perr, sizeof(perr));
	map = json_member(doc, "campaigns");
	if (map == NULL || map->type != JSON_OBJECT)
	{
		log_error("mailchimp: %s/mailchimp/%s is not a watermark file (%s); delete it or "
				  "run with --full-refresh", mc->state_dir, MAILCHIMP_STATE_FILE,
				  doc == NULL ? perr : "no \"campaigns\" object");
		*err = CL_ERR_CONFIG;
		goto cleanup;
	}
	mc->marks = calloc(map->count > 0 ? map->count : 1, sizeof(MailchimpMark));
	if (mc->marks == NULL)
	{
		log_error("mailchimp: out of memory reading the watermarks");
		*err = CL_ERR_INTERNAL;
		goto cleanup;
	}
	for (size_t i = 0; i < map->count; i++)
	{
		const char *at = json_string(map->items[i]);
		MailchimpMark *m = &mc->marks[mc->nmarks];

		if (at == NULL || !time_parse_rfc3339(at, &m->at))
		{
			log_error("mailchimp: %s/mailchimp/%s: campaign %s has no valid watermark; "
					  "delete the file or run with --full-refresh", mc->state_dir,
					  MAILCHIMP_STATE_FILE, map->keys[i]);
			*err = CL_ERR_CONFIG;
			goto cleanup;
		}
		m->id = strdup(map->keys[i]);
		if (m->id == NULL)
		{
			log_error("mailchimp: out of memory reading the watermarks");
			*err = CL_ERR_INTERNAL;
			goto cleanup;
		}
		mc->nmarks++;
	}
	log_info("mailchimp: %zu campaign watermarks read; activity is fetched since them",
			 mc->nmarks);
	ok = true;

cleanup:
	json_free(doc);
	free(text);
	return ok;
}


/*
 * mailchimp_open reads [email.mailchimp]: the key, the API host (base_url
 * or the key's data centre), paging and the window.
 */
static bool
mailchimp_open(SourceRun *run, void **state, ClError *err)
{
	Mailchimp *mc = calloc(1, sizeof(Mailchimp));

	*state = mc;
	if (mc == NULL)
	{
		log_error("mailchimp: out of memory");
		*err = CL_ERR_INTERNAL;
		return false;
	}
	warn_once_init(&mc->warned);
	if (!source_config_required(run, "api_key", "HTTP basic authentication", &mc->api_key, err))
	{
		/* errors have already been logged */
		return false;
	}
	if (source_config_text(run, "base_url") != NULL)
	{
		if (!source_config_url(run, "base_url", &mc->base_url, err))
		{
			/* errors have already been logged */
			return false;
		}
	}
	else if (!base_from_key(mc->api_key, &mc->base_url, err))
	{
		/* errors have already been logged */
		return false;
	}
	mc->page_size = config_get_int(run->cfg, run->vendor->section, "page_size");
	mc->opens_as_touches = config_get_bool(run->cfg, run->vendor->section, "opens_as_touches");
	mc->all_campaigns = run->cli != NULL && run->cli->full_refresh;
	mc->backfill = run->cli != NULL && (run->cli->has_from || run->cli->has_to);
	run->max_connections = (int) config_get_int(run->cfg, run->vendor->section,
												"max_connections");
	if (!source_run_window(run, default_from(run), run->today, err))
		return false;   /* errors have already been logged */
	mc->state_dir = state_dir_path(run->cfg);
	if (mc->state_dir == NULL)
	{
		*err = CL_ERR_INTERNAL;
		return false;
	}
	/* a backfill or a full refresh reads everything: no watermarks */
	if (mc->backfill || mc->all_campaigns)
		return true;
	return read_marks(mc, err);
}


static bool
mailchimp_authenticate(void *state, SourceRun *run, bool force, ClError *err)
{
	/* basic auth with a static key: nothing to refresh */
	(void) state;
	(void) run;
	(void) force;
	(void) err;
	return true;
}


/*
 * mailchimp_next_stream: the campaign list first, then for each campaign it
 * kept its report and its activity, all parallel streams.
 */
static bool
mailchimp_next_stream(void *state, SourceRun *run, SourceStream *stream,
					  bool *more, ClError *err)
{
	Mailchimp *mc = state;
	const MailchimpCampaign *c;

	(void) run;
	(void) err;
	*more = true;
	stream->paging = SOURCE_PAGING_OFFSET;
	stream->total_path = "total_items";
	if (!mc->listed)
	{
		mc->listed = true;
		stream->kind = MAILCHIMP_CAMPAIGNS;
		stream->name = "campaigns";
		stream->entities = "email_campaign";
		stream->record_path = "campaigns[]";
		(void) snprintf(stream->label, sizeof(stream->label), "campaigns");
		return true;
	}
	if (mc->next == 0 && !mc->next_is_activity)
		log_info("mailchimp: %zu campaigns %s; fetching their reports and email activity",
				 mc->ncampaigns, mc->all_campaigns ? "in all (full refresh)" : "sent in the window");
	if (mc->next >= mc->ncampaigns)
	{
		*more = false;
		return true;
	}
	c = &mc->campaigns[mc->next];
	stream->data = c;
	stream->parallel = true;
	if (!mc->next_is_activity)
	{
		mc->next_is_activity = true;
		stream->kind = MAILCHIMP_REPORT;
		stream->name = "reports";
		stream->entities = "email_campaign";
		stream->paging = SOURCE_PAGING_NONE;
		stream->total_path = NULL;
		stream->record_path = "";
		(void) snprintf(stream->label, sizeof(stream->label), "report of campaign %s", c->id);
		return true;
	}
	mc->next_is_activity = false;
	mc->next++;
	stream->kind = MAILCHIMP_ACTIVITY;
	stream->name = "email-activity";
	stream->entities = "email_event,touch";
	stream->record_path = "emails[]";
	(void) snprintf(stream->label, sizeof(stream->label), "email activity of campaign %s", c->id);
	return true;
}


/*
 * mailchimp_build_request: the GET of one page, authenticated with basic
 * auth (the key travels in the header, never in the URL).
 */
static bool
mailchimp_build_request(void *state, const SourceStream *stream,
						const SourcePage *page, SourceRequest *req, ClError *err)
{
	Mailchimp *mc = state;
	const MailchimpCampaign *c = stream->data;

	tb_append(&req->url, mc->base_url);
	if (stream->kind == MAILCHIMP_CAMPAIGNS)
		tb_printf(&req->url, "/campaigns?count=%lld&offset=%lld&status=sent",
				  (long long) mc->page_size, (long long) page->offset);
	else if (stream->kind == MAILCHIMP_REPORT)
	{
		tb_append(&req->url, "/reports/");
		tb_append_query_value(&req->url, c->id);
		tb_append(&req->url, "?fields=");
		tb_append_query_value(&req->url, MAILCHIMP_REPORT_FIELDS);
	}
	else
	{
		tb_append(&req->url, "/reports/");
		tb_append_query_value(&req->url, c->id);
		tb_printf(&req->url, "/email-activity?count=%lld&offset=%lld",
				  (long long) mc->page_size, (long long) page->offset);
		if (c->has_since)
		{
			char since[CL_TIME_BUFSIZE];

			tb_append(&req->url, "&since=");
			tb_append_query_value(&req->url, time_format_rfc3339(c->since, since));
		}
	}
	req->basic_user = "closedloop";
	req->basic_password = mc->api_key;
	if (!source_request_header(req, "Accept: application/json"))
	{
		*err = CL_ERR_INTERNAL;
		return false;
	}
	return true;
}


/*
 * dup_or_null: an ALLOCATED copy of s, or NULL for NULL. *ok turns false
 * when out of memory.
 */
static char *
dup_or_null(const char *s, bool *ok)
{
	char *copy;

	if (s == NULL)
		return NULL;
	copy = strdup(s);
	if (copy == NULL)
		*ok = false;
	return copy;
}


/*
 * campaign_upsert keeps a campaign whose report and activity are to be
 * fetched, once per id: a retried page, or offset paging over a list that
 * grew, repeats campaigns. Its settings are replaced by the latest seen.
 */
static bool
campaign_upsert(Mailchimp *mc, const char *id, const char *campaign, const char *title,
				const char *subject, ClTime sent_at, int64_t recipients)
{
	MailchimpCampaign *c = NULL;
	char *value = NULL;
	bool ok = true;
	char *t;
	char *sub;

	for (size_t i = 0; i < mc->ncampaigns && c == NULL; i++)
	{
		if (strcmp(mc->campaigns[i].id, id) == 0)
			c = &mc->campaigns[i];
	}
	if (campaign != NULL)
	{
		value = strdup(campaign);
		if (value == NULL)
			return false;
	}
	if (c == NULL)
	{
		if (mc->ncampaigns == mc->cap)
		{
			size_t cap = mc->cap == 0 ? 64 : mc->cap * 2;
			MailchimpCampaign *grown = realloc(mc->campaigns, cap * sizeof(MailchimpCampaign));

			if (grown == NULL)
			{
				free(value);
				return false;
			}
			mc->campaigns = grown;
			mc->cap = cap;
		}
		c = &mc->campaigns[mc->ncampaigns];
		c->id = strdup(id);
		if (c->id == NULL)
		{
			free(value);
			return false;
		}
		c->campaign = NULL;
		c->title = NULL;
		c->subject = NULL;
		c->has_since = false;
		c->reported = false;
		/* the watermark of the last incremental run, if any */
		for (size_t i = 0; i < mc->nmarks; i++)
		{
			if (strcmp(mc->marks[i].id, id) == 0)
			{
				c->has_since = true;
				c->since = mc->marks[i].at - (ClTime) MAILCHIMP_OVERLAP_S * CL_USEC_PER_SEC;
				break;
			}
		}
		mc->ncampaigns++;
	}
	t = dup_or_null(title, &ok);
	sub = dup_or_null(subject, &ok);
	if (!ok)
	{
		free(t);
		free(sub);
		free(value);
		return false;
	}
	free(c->campaign);
	c->campaign = value;
	free(c->title);
	c->title = t;
	free(c->subject);
	c->subject = sub;
	c->sent_at = sent_at;
	c->recipients = recipients;
	return true;
}


/*
 * map_campaign checks a sent campaign and keeps it, with the settings its
 * email_campaign row needs, for the report and activity streams when it
 * was sent in the window (or on a full refresh). The row itself is written
 * with the report's counts (map_report).
 */
static bool
map_campaign(Mailchimp *mc, SourceRun *run, const JsonValue *rec,
			 const RecordRef *ref, ClError *err)
{
	const char *send_time = text_nonempty(json_string(json_member(rec, "send_time")));
	const char *title = text_nonempty(json_string(json_path(rec, "settings.title")));
	const char *ga = text_nonempty(json_string(json_path(rec, "tracking.google_analytics")));
	const char *campaign = ga != NULL ? ga : title;
	const JsonValue *sent = json_member(rec, "emails_sent");
	int64_t recipients = -1;
	ClTime sent_at;
	ClDate sent_day;

	if (send_time == NULL)
	{
		record_error(ref, "send_time", "missing on a sent campaign");
		*err = CL_ERR_DATA;
		return false;
	}
	if (!record_time(ref, "send_time", send_time, &sent_at, err))
	{
		/* errors have already been logged */
		return false;
	}
	if (json_is_null(sent))
		sent = json_path(rec, "recipients.recipient_count");
	if (!json_is_null(sent) &&
		!record_int64(ref, "emails_sent", sent, false, &recipients, err))
	{
		/* errors have already been logged */
		return false;
	}

	sent_day = time_utc_date(sent_at);
	if (!mc->all_campaigns && (sent_day < run->window.from || sent_day > run->window.to))
		return true;
	if (!campaign_upsert(mc, ref->id, campaign, title,
						 text_nonempty(json_string(json_path(rec, "settings.subject_line"))),
						 sent_at, recipients))
	{
		log_error("mailchimp: out of memory keeping campaigns");
		*err = CL_ERR_INTERNAL;
		return false;
	}
	return true;
}


/* A count of a report: its staging key and where the report has it. */
typedef struct ReportCount
{
	const char *key;
	const char *path;
} ReportCount;

static const ReportCount report_counts[] = {
	{ "sends", "emails_sent" },
	{ "opens", "opens.opens_total" },
	{ "unique_opens", "opens.unique_opens" },
	{ "clicks", "clicks.clicks_total" },
	{ "unique_clicks", "clicks.unique_clicks" },
	{ "unique_subscriber_clicks", "clicks.unique_subscriber_clicks" },
	{ "hard_bounces", "bounces.hard_bounces" },
	{ "soft_bounces", "bounces.soft_bounces" },
	{ "unsubscribes", "unsubscribed" },
};

#define REPORT_NCOUNTS (sizeof(report_counts) / sizeof(report_counts[0]))


/*
 * map_report writes the campaign's email_campaign row: the settings kept
 * from the campaign list and the report's counts as of this run
 * (updated_at). A count the report leaves out is omitted from the row; one
 * that is not a non-negative integer is CL_ERR_DATA. bounces is hard plus
 * soft bounces when the report has both.
 */
static bool
map_report(SourceRun *run, const SourceStream *stream, const JsonValue *rec,
		   const RecordRef *ref, ClError *err)
{
	MailchimpCampaign *c = (MailchimpCampaign *) stream->data;
	StagingWriter *w = source_run_writer(run, "email_campaign");
	int64_t value[REPORT_NCOUNTS];
	bool present[REPORT_NCOUNTS];
	JsonGen *g;

	if (w == NULL)
	{
		*err = CL_ERR_INTERNAL;
		return false;
	}
	if (strcmp(ref->id, c->id) != 0)
	{
		record_error(ref, "id", "the report of campaign %s names another campaign", c->id);
		*err = CL_ERR_DATA;
		return false;
	}
	for (size_t i = 0; i < REPORT_NCOUNTS; i++)
	{
		const JsonValue *v = json_path(rec, report_counts[i].path);

		present[i] = !json_is_null(v);
		value[i] = 0;
		if (present[i] &&
			!record_int64(ref, report_counts[i].path, v, false, &value[i], err))
		{
			/* errors have already been logged */
			return false;
		}
		if (value[i] < 0)
		{
			record_error(ref, report_counts[i].path, "negative count %lld",
						 (long long) value[i]);
			*err = CL_ERR_DATA;
			return false;
		}
	}

	g = staging_row_begin(w, run->today);
	jgen_string(g, "campaign_id", c->id);
	jgen_string(g, "platform", "mailchimp");
	row_string(g, "name", c->title);
	row_string(g, "subject", c->subject);
	jgen_time(g, "sent_at", c->sent_at);
	if (c->recipients >= 0)
		jgen_int(g, "recipients", c->recipients);
	jgen_string(g, "source", "mailchimp");
	jgen_string(g, "medium", "email");
	row_string(g, "campaign", c->campaign);
	for (size_t i = 0; i < REPORT_NCOUNTS; i++)
	{
		if (present[i])
			jgen_int(g, report_counts[i].key, value[i]);
	}
	/* hard_bounces and soft_bounces are the 7th and 8th counts */
	if (present[6] && present[7])
		jgen_int(g, "bounces", value[6] + value[7]);
	jgen_time(g, "updated_at", run->started_at);
	if (!staging_row_end(w))
	{
		*err = CL_ERR_OUTPUT;
		return false;
	}
	c->reported = true;
	return true;
}


/*
 * url_tag: the utm tag name of url, or fallback. *owned receives the
 * ALLOCATED decoded value when the URL had one (caller frees).
 */
static bool
url_tag(const char *url, const char *name, const char *fallback,
		const char **value, char **owned)
{
	*owned = NULL;
	*value = fallback;
	if (url == NULL)
		return true;
	if (!url_query_param(url, name, owned))
	{
		log_error("mailchimp: out of memory reading a link's %s", name);
		return false;
	}
	if (*owned != NULL)
		*value = *owned;
	return true;
}


/*
 * write_touch writes the touch of one click (or open): the link's utm tags
 * win over the campaign's own, as in web analytics.
 */
static bool
write_touch(SourceRun *run, const MailchimpCampaign *c, const char *campaign_id,
			const char *email_id, const char *email, const char *action,
			ClTime at, const char *url, ClError *err)
{
	StagingWriter *w = source_run_writer(run, "touch");
	char stamp[CL_TIME_BUFSIZE];
	char touch_id[320];
	char *tags[5] = { NULL, NULL, NULL, NULL, NULL };
	const char *source;
	const char *medium;
	const char *campaign;
	const char *content;
	const char *term;
	JsonGen *g;
	bool ok = false;

	if (w == NULL)
	{
		*err = CL_ERR_INTERNAL;
		return false;
	}
	if (!url_tag(url, "utm_source", "mailchimp", &source, &tags[0]) ||
		!url_tag(url, "utm_medium", "email", &medium, &tags[1]) ||
		!url_tag(url, "utm_campaign", c != NULL ? c->campaign : NULL, &campaign, &tags[2]) ||
		!url_tag(url, "utm_content", NULL, &content, &tags[3]) ||
		!url_tag(url, "utm_term", NULL, &term, &tags[4]))
	{
		*err = CL_ERR_INTERNAL;
		goto cleanup;
	}

	/* Stable across runs: one recipient's action at one second, and for
	 * clicks the link (two links clicked in the same second are two
	 * touches). */
	(void) time_format_rfc3339(at, stamp);
	if (url != NULL)
	{
		Sha256 h;
		char hex[SHA256_HEX_SIZE];

		sha256_init(&h);
		sha256_update(&h, url, strlen(url));
		sha256_final_hex(&h, hex);
		(void) snprintf(touch_id, sizeof(touch_id), "%s-%s-%s-%s-%.8s", campaign_id,
						email_id, action, stamp, hex);
	}
	else
		(void) snprintf(touch_id, sizeof(touch_id), "%s-%s-%s-%s", campaign_id, email_id,
						action, stamp);

	g = staging_row_begin(w, time_utc_date(at));
	jgen_string(g, "touch_id", touch_id);
	jgen_string(g, "source_system", "mailchimp");
	jgen_object_begin(g, "person");
	jgen_string(g, "email", email);
	jgen_object_end(g);
	jgen_time(g, "at", at);
	jgen_string(g, "kind", strcmp(action, "click") == 0 ? "email_click" : "email_open");
	jgen_string(g, "source", source);
	jgen_string(g, "medium", medium);
	row_string(g, "campaign", campaign);
	row_string(g, "content", content);
	row_string(g, "term", term);
	jgen_string(g, "campaign_id", campaign_id);
	row_string(g, "url", url);
	if (!staging_row_end(w))
	{
		*err = CL_ERR_OUTPUT;
		goto cleanup;
	}
	ok = true;

cleanup:
	for (int i = 0; i < 5; i++)
		free(tags[i]);
	return ok;
}


/* known_action: the activity kinds that are email events. */
static bool
known_action(const char *action)
{
	return strcmp(action, "open") == 0 || strcmp(action, "click") == 0 ||
		strcmp(action, "bounce") == 0;
}


/*
 * skip_action counts an activity of a kind staging has no place for, and
 * names the kind once.
 */
static void
skip_action(Mailchimp *mc, SourceRun *run, const char *action)
{
	run->dropped++;
	if (warn_once(&mc->warned, action))
		log_warn("mailchimp: email activity \"%s\" is not an open, click or bounce; skipped",
				 action);
}


/*
 * map_activity writes one recipient's events, and touches for clicks
 * (and opens when configured).
 */
static bool
map_activity(Mailchimp *mc, SourceRun *run, const SourceStream *stream,
			 const JsonValue *rec, const RecordRef *ref, ClError *err)
{
	const MailchimpCampaign *c = stream->data;
	StagingWriter *w = source_run_writer(run, "email_event");
	const char *campaign_id = text_nonempty(json_text(json_member(rec, "campaign_id")));
	const JsonValue *activity = json_member(rec, "activity");
	char *email = NULL;
	bool ok = false;

	if (w == NULL)
	{
		*err = CL_ERR_INTERNAL;
		return false;
	}
	if (campaign_id == NULL)
		campaign_id = c->id;
	if (!email_normalize(json_string(json_member(rec, "email_address")), &email))
	{
		*err = CL_ERR_INTERNAL;
		return false;
	}
	if (email == NULL)
	{
		record_error(ref, "email_address", "missing");
		*err = CL_ERR_DATA;
		goto cleanup;
	}
	if (!json_is_null(activity) && activity->type != JSON_ARRAY)
	{
		record_error(ref, "activity", "not an array");
		*err = CL_ERR_DATA;
		goto cleanup;
	}

	for (size_t i = 0; activity != NULL && i < activity->count; i++)
	{
		const JsonValue *item = activity->items[i];
		const char *action = text_nonempty(json_string(json_member(item, "action")));
		const char *stamp = text_nonempty(json_string(json_member(item, "timestamp")));
		const char *url = text_nonempty(json_string(json_member(item, "url")));
		ClTime at;
		JsonGen *g;

		if (action == NULL)
		{
			record_error(ref, "activity[].action", "missing");
			*err = CL_ERR_DATA;
			goto cleanup;
		}
		if (!known_action(action))
		{
			skip_action(mc, run, action);
			continue;
		}
		if (stamp == NULL)
		{
			record_error(ref, "activity[].timestamp", "missing on a %s", action);
			*err = CL_ERR_DATA;
			goto cleanup;
		}
		if (!record_time(ref, "activity[].timestamp", stamp, &at, err))
		{
			/* errors have already been logged */
			goto cleanup;
		}

		g = staging_row_begin(w, time_utc_date(at));
		jgen_string(g, "campaign_id", campaign_id);
		jgen_string(g, "platform", "mailchimp");
		jgen_string(g, "email", email);
		jgen_string(g, "type", action);
		jgen_time(g, "at", at);
		row_string(g, "url", url);
		if (!staging_row_end(w))
		{
			*err = CL_ERR_OUTPUT;
			goto cleanup;
		}
		if ((strcmp(action, "click") == 0 ||
			 (strcmp(action, "open") == 0 && mc->opens_as_touches)) &&
			!write_touch(run, c, campaign_id, ref->id, email, action, at,
						 strcmp(action, "click") == 0 ? url : NULL, err))
		{
			/* errors have already been logged */
			goto cleanup;
		}
	}
	ok = true;

cleanup:
	free(email);
	return ok;
}


/*
 * mailchimp_map_record checks the record's id and hands it to the mapper
 * of its stream.
 */
static bool
mailchimp_map_record(void *state, SourceRun *run, const SourceStream *stream,
					 const JsonValue *record, ClError *err)
{
	Mailchimp *mc = state;
	RecordRef ref = { "mailchimp", NULL, NULL };

	if (stream->kind == MAILCHIMP_CAMPAIGNS)
	{
		ref.object = "campaign";
		ref.id = text_nonempty(json_text(json_member(record, "id")));
		if (ref.id == NULL)
		{
			record_error(&ref, "id", "a campaign without an id (or not an object)");
			*err = CL_ERR_DATA;
			return false;
		}
		return map_campaign(mc, run, record, &ref, err);
	}
	if (stream->kind == MAILCHIMP_REPORT)
	{
		ref.object = "report";
		ref.id = text_nonempty(json_text(json_member(record, "id")));
		if (ref.id == NULL)
		{
			record_error(&ref, "id", "a report without an id (or not an object)");
			*err = CL_ERR_DATA;
			return false;
		}
		return map_report(run, stream, record, &ref, err);
	}
	ref.object = "email activity";
	ref.id = text_nonempty(json_text(json_member(record, "email_id")));
	if (ref.id == NULL)
	{
		record_error(&ref, "email_id", "a recipient without an email_id (or not an object)");
		*err = CL_ERR_DATA;
		return false;
	}
	return map_activity(mc, run, stream, record, &ref, err);
}


/*
 * mailchimp_explain reads an RFC 7807 problem document
 * (application/problem+json): title, detail and instance, the instance
 * being the request id Mailchimp support asks for.
 */
static ClError
mailchimp_explain(const HttpResponse *resp, char *msg, size_t msgsize)
{
	JsonValue *body = NULL;
	const char *title;
	const char *detail;
	const char *instance;

	if (resp->error_body != NULL)
		body = json_parse(resp->error_body, resp->error_body_len, NULL, 0);
	title = json_string(json_member(body, "title"));
	detail = json_string(json_member(body, "detail"));
	instance = json_string(json_member(body, "instance"));
	if (instance == NULL && resp->request_id[0] != '\0')
		instance = resp->request_id;
	(void) snprintf(msg, msgsize, "Mailchimp answered HTTP %ld: %s: %s (instance %s)",
					resp->status, title != NULL ? title : "(no title)",
					detail != NULL ? detail : "(no detail)",
					instance != NULL ? instance : "unknown");
	json_free(body);
	return CL_OK;
}


/*
 * mailchimp_check_envelope: a report is exactly one document; an empty
 * 200 body would otherwise drop the campaign's row without a word.
 */
static bool
mailchimp_check_envelope(void *state, const SourceStream *stream,
						 const JsonValue *envelope, ClError *err)
{
	const MailchimpCampaign *c = stream->data;

	(void) state;
	(void) envelope;
	if (stream->kind != MAILCHIMP_REPORT || c->reported)
		return true;
	log_error("mailchimp: the report of campaign %s came back empty", c->id);
	*err = CL_ERR_DATA;
	return false;
}


/*
 * mailchimp_after_commit saves the activity watermarks once the staging
 * files are committed: the run's start for every campaign whose activity
 * was fetched (a full refresh included). Campaigns that left the window
 * are dropped from the file; they are not fetched incrementally any more.
 * A backfill leaves the file alone.
 */
static bool
mailchimp_after_commit(void *state, SourceRun *run, ClError *err)
{
	Mailchimp *mc = state;
	char at[CL_TIME_BUFSIZE];
	char now[CL_TIME_BUFSIZE];
	TextBuf b;
	bool ok = false;

	if (mc->backfill)
	{
		log_info("mailchimp: a --from/--to backfill leaves the activity watermarks as they were");
		return true;
	}
	/* whole seconds: the since parameter the next run sends is plain ISO 8601 */
	(void) time_format_rfc3339(run->started_at - run->started_at % CL_USEC_PER_SEC, at);
	tb_init(&b, TEXTBUF_DEFAULT_MAX);
	tb_append(&b, "{\"vendor\":\"mailchimp\",\"object\":\"email-activity\",\"run_id\":");
	tb_append_json_string(&b, run->run_id);
	tb_printf(&b, ",\"written_at\":\"%s\",\"campaigns\":{", time_format_rfc3339(time_now(), now));
	for (size_t i = 0; i < mc->ncampaigns; i++)
	{
		if (i > 0)
			tb_append(&b, ",");
		tb_append_json_string(&b, mc->campaigns[i].id);
		tb_printf(&b, ":\"%s\"", at);
	}
	tb_append(&b, "}}");
	if (!tb_ok(&b))
	{
		log_error("mailchimp: out of memory writing the activity watermarks");
		*err = CL_ERR_INTERNAL;
		goto cleanup;
	}
	if (!state_write_text(mc->state_dir, "mailchimp", MAILCHIMP_STATE_FILE, tb_text(&b), err))
	{
		log_error("mailchimp: the staging files are committed, so the next run fetches "
				  "their activity again from the old watermarks");
		goto cleanup;
	}
	log_info("mailchimp: activity watermarks of %zu campaigns saved (%s)", mc->ncampaigns, at);
	ok = true;

cleanup:
	tb_free(&b);
	return ok;
}


const SourceVendor vendor_mailchimp = {
	.name = "mailchimp",
	.family = SOURCE_FAMILY_EMAIL,
	.section = "email.mailchimp",
	.entities = mailchimp_entities,
	.open = mailchimp_open,
	.close = mailchimp_close,
	.authenticate = mailchimp_authenticate,
	.next_stream = mailchimp_next_stream,
	.build_request = mailchimp_build_request,
	.map_record = mailchimp_map_record,
	.check_envelope = mailchimp_check_envelope,
	.classify = NULL,
	.explain_error = mailchimp_explain,
	.after_commit = mailchimp_after_commit,
};
