/*
 * vendor_mailchimp.c: Mailchimp Marketing API 3.0 (family email),
 * docs/vendors/mailchimp.md.
 *
 * Streams, in order:
 *   campaigns       GET {base}/campaigns?status=sent, offset paging: an
 *                   email_campaign per campaign
 *   email-activity  GET {base}/reports/{id}/email-activity, offset paging,
 *                   for each campaign sent in the window (every campaign on
 *                   --full-refresh): an email_event per open, click and
 *                   bounce, and a touch per click (and per open when
 *                   opens_as_touches)
 *
 * Auth: HTTP basic with the API key as password. The API host comes from
 * the key's data-centre suffix ("...-us5") unless base_url is set.
 *
 * The activity streams run one after the other here; each carries its
 * campaign in SourceStream.data, so a bounded parallel fetch over
 * max_connections can take them as they are.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "record.h"
#include "registry.h"
#include "sha256.h"
#include "source.h"
#include "urlquery.h"

enum
{
	MAILCHIMP_CAMPAIGNS,
	MAILCHIMP_ACTIVITY
};

/* Without a start date, the first run reaches back this far. */
#define MAILCHIMP_DEFAULT_DAYS 30

#define MAILCHIMP_MAX_WARNED 8

/* A campaign whose activity is fetched. */
typedef struct MailchimpCampaign
{
	char *id;                   /* owned */
	char *campaign;             /* owned: utm_campaign when a link has none */
} MailchimpCampaign;

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
	size_t next;                /* next campaign whose activity to fetch */
	char *warned[MAILCHIMP_MAX_WARNED];     /* owned: unknown actions seen */
	int nwarned;
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
	}
	free(mc->campaigns);
	for (int i = 0; i < mc->nwarned; i++)
		free(mc->warned[i]);
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
	return source_run_window(run, default_from(run), run->today, err);
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
 * mailchimp_next_stream: the campaign list first, then the activity of
 * each campaign it selected.
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
	if (mc->next == 0)
		log_info("mailchimp: %zu campaigns %s; fetching their email activity",
				 mc->ncampaigns, mc->all_campaigns ? "in all (full refresh)" : "sent in the window");
	if (mc->next >= mc->ncampaigns)
	{
		*more = false;
		return true;
	}
	c = &mc->campaigns[mc->next++];
	stream->kind = MAILCHIMP_ACTIVITY;
	stream->name = "email-activity";
	stream->entities = "email_event,touch";
	stream->record_path = "emails[]";
	stream->data = c;
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
	else
	{
		tb_append(&req->url, "/reports/");
		tb_append_query_value(&req->url, c->id);
		tb_printf(&req->url, "/email-activity?count=%lld&offset=%lld",
				  (long long) mc->page_size, (long long) page->offset);
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
 * campaign_upsert keeps a campaign whose activity is to be fetched, once
 * per id: a retried page, or offset paging over a list that grew, repeats
 * campaigns.
 */
static bool
campaign_upsert(Mailchimp *mc, const char *id, const char *campaign)
{
	MailchimpCampaign *c = NULL;
	char *value = NULL;

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
		mc->ncampaigns++;
	}
	free(c->campaign);
	c->campaign = value;
	return true;
}


/*
 * map_campaign writes a campaign's row and keeps it for the activity
 * streams when it was sent in the window (or on a full refresh).
 */
static bool
map_campaign(Mailchimp *mc, SourceRun *run, const JsonValue *rec,
			 const RecordRef *ref, ClError *err)
{
	StagingWriter *w = source_run_writer(run, "email_campaign");
	const char *send_time = text_nonempty(json_string(json_member(rec, "send_time")));
	const char *title = text_nonempty(json_string(json_path(rec, "settings.title")));
	const char *ga = text_nonempty(json_string(json_path(rec, "tracking.google_analytics")));
	const char *campaign = ga != NULL ? ga : title;
	const JsonValue *sent = json_member(rec, "emails_sent");
	int64_t recipients = -1;
	ClTime sent_at;
	ClDate sent_day;
	JsonGen *g;

	if (w == NULL)
	{
		*err = CL_ERR_INTERNAL;
		return false;
	}
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

	g = staging_row_begin(w, run->today);
	jgen_string(g, "campaign_id", ref->id);
	jgen_string(g, "platform", "mailchimp");
	row_string(g, "name", title);
	row_string(g, "subject", json_string(json_path(rec, "settings.subject_line")));
	jgen_time(g, "sent_at", sent_at);
	if (recipients >= 0)
		jgen_int(g, "recipients", recipients);
	jgen_string(g, "source", "mailchimp");
	jgen_string(g, "medium", "email");
	row_string(g, "campaign", campaign);
	if (!staging_row_end(w))
	{
		*err = CL_ERR_OUTPUT;
		return false;
	}

	sent_day = time_utc_date(sent_at);
	if (!mc->all_campaigns && (sent_day < run->window.from || sent_day > run->window.to))
		return true;
	if (!campaign_upsert(mc, ref->id, campaign))
	{
		log_error("mailchimp: out of memory keeping campaigns");
		*err = CL_ERR_INTERNAL;
		return false;
	}
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
	char *copy;

	run->dropped++;
	for (int i = 0; i < mc->nwarned; i++)
	{
		if (strcmp(mc->warned[i], action) == 0)
			return;
	}
	if (mc->nwarned == MAILCHIMP_MAX_WARNED)
		return;
	copy = strdup(action);
	if (copy != NULL)
		mc->warned[mc->nwarned++] = copy;
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
	.check_envelope = NULL,
	.classify = NULL,
	.explain_error = mailchimp_explain,
};
