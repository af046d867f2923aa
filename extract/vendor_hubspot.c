/*
 * vendor_hubspot.c: HubSpot CRM v3 (family crm), docs/vendors/hubspot.md.
 *
 * Streams, in order:
 *   pipelines  GET /crm/v3/pipelines/deals: which deal stages are closed
 *              and which are won (kept in memory, no rows)
 *   contacts   GET /crm/v3/objects/contacts, cursor paging: a lead per
 *              contact, and a touch for the source it was created from;
 *              or, on incremental runs and backfills, POST
 *              /crm/v3/objects/contacts/search over a lastmodifieddate window
 *   form submissions
 *              GET /contacts/v1/contact/vid/{id}/profile for each contact
 *              the contacts stream read ([crm.hubspot] form_submissions):
 *              a touch per submission, with the UTM tags of its page URL
 *   deals      GET /crm/v3/objects/deals with their associated contacts;
 *              or, on incremental runs and backfills, POST
 *              /crm/v3/objects/deals/search over an hs_lastmodifieddate
 *              window (kept in memory, no rows yet)
 *   deal associations
 *              POST /crm/v4/associations/deals/contacts/batch/read for the
 *              searched deals, 100 per request; each batch's deal rows are
 *              written once the batch is complete
 *   archived contacts, archived deals
 *              GET ...?archived=true on incremental runs, backfills and
 *              --full-refresh: what was deleted (in the window) becomes a
 *              row with is_deleted
 *
 * Auth: a private-app token, or the OAuth refresh-token grant at
 * {base_url}/oauth/v1/token.
 *
 * Contacts incrementally: the search reads lastmodifieddate in [lo, hi),
 * hi frozen at the run's start, sorted by hs_object_id; because search
 * pages end at search_max_results (HubSpot: 10,000), the query is started
 * again above the highest id read so far instead of paging further (this
 * also gets through any number of contacts sharing one timestamp). The
 * contacts watermark (state.h) is hi, saved after the commit. Deals are
 * searched the same way on hs_lastmodifieddate with their own watermark;
 * because the search API returns no associations, the changed deals'
 * contacts come from the v4 associations batch read.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "money.h"
#include "oauth.h"
#include "record.h"
#include "registry.h"
#include "source.h"
#include "state.h"
#include "urlquery.h"

enum
{
	HUBSPOT_PIPELINES,
	HUBSPOT_CONTACTS,
	HUBSPOT_FORM_SUBMISSIONS,   /* one stream per contact read */
	HUBSPOT_DEALS,
	HUBSPOT_DEAL_ASSOCIATIONS,  /* searched deals only: batches of ids */
	HUBSPOT_ARCHIVED_CONTACTS,  /* incremental runs and --full-refresh */
	HUBSPOT_ARCHIVED_DEALS,
	HUBSPOT_DONE
};

/* Warnings about one value (an unknown stage, an unknown source) are
 * logged once each, for this many distinct values. */

typedef struct HubspotStage
{
	char *pipeline;             /* owned */
	char *id;                   /* owned */
	bool is_closed;
	bool is_won;
} HubspotStage;

/* The contacts search of one run: its window and its id segments. */
typedef struct HubspotSearch
{
	bool has_lo;
	ClTime lo;                  /* inclusive, whole milliseconds */
	ClTime hi;                  /* exclusive, whole milliseconds */
	int64_t base_id;            /* the segment reads ids above this (0: all) */
	int64_t max_id;             /* the highest contact id mapped so far */
	int64_t segment_page;       /* the page number that began the segment */
	int64_t cap;                /* search_max_results */
} HubspotSearch;

/* A contact read in this run, whose form submissions are read after the
 * contacts stream. */
typedef struct HubspotContact
{
	char *id;                   /* owned */
	char *email;                /* owned: normalized, or NULL */
} HubspotContact;

/* The v4 associations batch read takes at most this many ids. */
#define HUBSPOT_ASSOCIATION_BATCH 100

/*
 * A deal read by the search, waiting for its associated contacts: its row
 * is written when the associations batch it belongs to is complete.
 */
typedef struct HubspotDeal
{
	int64_t id;
	JsonValue *rec;             /* owned copy of the search record */
	char **contacts;            /* owned: associated contact ids, each once */
	size_t ncontacts;
} HubspotDeal;

typedef struct Hubspot
{
	char *base_url;             /* owned, without trailing slash */
	char *token_url;            /* owned: OAuth only */
	const char *static_token;   /* borrowed from the configuration */
	bool oauth;
	OAuthGrant grant;
	OAuthToken access;
	int64_t page_size;
	const char *product_group;  /* property name, or NULL */
	const char *currency;       /* default deal currency */
	HubspotStage *stages;       /* owned */
	size_t nstages;
	size_t stage_cap;
	WarnOnce warned;            /* values already warned about */
	int next;                   /* the next stream to hand out */
	char *state_dir;            /* owned */
	bool search;                /* contacts through the search API */
	bool incremental;           /* save the contacts watermark after commit */
	bool archived;              /* read the archived objects too */
	HubspotSearch contacts;
	bool deal_search;           /* deals through the search API */
	HubspotSearch deals_q;
	HubspotDeal *deals;         /* owned: the searched deals, in id order */
	size_t ndeals;
	size_t deal_cap;
	size_t assoc_lo;            /* the associations batch handed out last: */
	size_t assoc_hi;            /* deals[assoc_lo, assoc_hi) */
	size_t deals_written;       /* deals[0, deals_written) have rows (freed) */
	bool forms;                 /* read the contacts' form submissions */
	HubspotContact *read;       /* owned: the contacts read, for their forms */
	size_t nread;
	size_t read_cap;
	size_t form_next;           /* read[form_next] is the next to hand out */
	size_t form_current;        /* whose submissions the stream reads */
	size_t profiles_read;       /* profile pages read in this run */
	size_t profiles_gone;       /* contacts deleted since the list was read */
	bool last_404;              /* the last failed response was HTTP 404 */
	bool utm;                   /* request the utm_* contact properties */
	struct HubspotSourceRule *rules;    /* owned: the built-in table with
										 * source_map_file applied, or NULL */
	size_t nrules;
	char **rule_text;           /* owned: the file's lines the rules point into */
	size_t nrule_text;
} Hubspot;

/*
 * The contact properties requested; the configured product-group property
 * is appended.
 */
static const char hubspot_contact_properties[] =
	"email,createdate,lastmodifieddate,lifecyclestage,hubspot_owner_id,"
	"hs_analytics_source,hs_analytics_source_data_1,hs_analytics_source_data_2,"
	"hs_latest_source,hs_latest_source_data_1,hs_latest_source_data_2,"
	"hs_latest_source_timestamp";

/* A latest source this close to the creation, and the same as the original
 * source, is the visit that created the contact: no second touch. */
#define HUBSPOT_SAME_VISIT_USEC (INT64_C(60) * CL_USEC_PER_SEC)

static const char hubspot_deal_properties[] =
	"dealname,amount,deal_currency_code,dealstage,pipeline,closedate,createdate,"
	"hs_lastmodifieddate";

/*
 * How a contact's original source (hs_analytics_source, with its drill-downs
 * data_1 and data_2) becomes a touch; documented in docs/vendors/hubspot.md.
 * With use_data_1 the lower-cased drill-down 1 is the source when present,
 * else the fixed source. The campaign is always drill-down 2.
 */
typedef struct HubspotSourceRule
{
	const char *value;
	bool use_data_1;
	const char *source;
	const char *medium;
	const char *kind;
} HubspotSourceRule;

static const HubspotSourceRule hubspot_source_rules[] = {
	{ "ORGANIC_SEARCH", true, "google", "organic", "page_view" },
	{ "PAID_SEARCH", true, "google", "cpc", "ad_click" },
	{ "EMAIL_MARKETING", true, "hubspot", "email", "email_click" },
	{ "SOCIAL_MEDIA", true, "social", "social", "page_view" },
	{ "PAID_SOCIAL", true, "facebook", "paid_social", "ad_click" },
	{ "REFERRALS", true, "referral", "referral", "page_view" },
	{ "DIRECT_TRAFFIC", false, "(direct)", "(none)", "page_view" },
	{ "OFFLINE", false, "offline", "offline", "offline" },
	{ "OTHER_CAMPAIGNS", true, "other", "other", "page_view" },
};

/* A value HubSpot adds after this table was written: its drill-down 1 (or
 * the value itself) with medium "other", so the touch is kept and the
 * channel grouping puts it in Other. */
static const HubspotSourceRule hubspot_unknown_source = {
	NULL, true, NULL, "other", "page_view"
};

/* The custom contact properties requested with utm_properties: when set,
 * they override the original-source touch's fields of the same name. */
static const char *const hubspot_utm_properties[] = {
	"utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term"
};
static const char *const hubspot_utm_fields[] = {
	"source", "medium", "campaign", "content", "term"
};

static const char *const hubspot_entities[] = { "lead", "touch", "deal", NULL };


/* deal_forget frees what a pending deal owns (its slot stays). */
static void
deal_forget(HubspotDeal *d)
{
	json_free(d->rec);
	d->rec = NULL;
	for (size_t i = 0; i < d->ncontacts; i++)
		free(d->contacts[i]);
	free(d->contacts);
	d->contacts = NULL;
	d->ncontacts = 0;
}


/*
 * hubspot_close frees the state, partial or complete (NULL-safe).
 */
static void
hubspot_close(void *state)
{
	Hubspot *hs = state;

	if (hs == NULL)
		return;
	for (size_t i = 0; i < hs->nstages; i++)
	{
		free(hs->stages[i].pipeline);
		free(hs->stages[i].id);
	}
	free(hs->stages);
	for (size_t i = 0; i < hs->ndeals; i++)
		deal_forget(&hs->deals[i]);
	free(hs->deals);
	for (size_t i = 0; i < hs->nread; i++)
	{
		free(hs->read[i].id);
		free(hs->read[i].email);
	}
	free(hs->read);
	free(hs->rules);
	for (size_t i = 0; i < hs->nrule_text; i++)
		free(hs->rule_text[i]);
	free(hs->rule_text);
	warn_once_free(&hs->warned);
	oauth_token_reset(&hs->access);
	free(hs->state_dir);
	free(hs->token_url);
	free(hs->base_url);
	free(hs);
}


/*
 * valid_property_name: HubSpot internal property names are lower-case
 * letters, digits and underscores; anything else would break the query.
 */
static bool
valid_property_name(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
	{
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
			  (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	}
	return true;
}


/* whole_ms drops the sub-millisecond part: HubSpot compares milliseconds. */
static ClTime
whole_ms(ClTime t)
{
	ClTime r = t % 1000;

	return r < 0 ? t - r - 1000 : t - r;
}


/*
 * plan_incremental decides whether an incremental run searches object
 * (contacts or deals) and from where: from its saved watermark, or from
 * start_date on its first run; without either *search stays false and
 * every object is listed. q->hi and q->cap are already set.
 */
static bool
plan_incremental(Hubspot *hs, SourceRun *run, const char *object, HubspotSearch *q,
				 bool *search, ClError *err)
{
	const char *start = config_get(run->cfg, run->vendor->section, "start_date");
	ClDate start_date;
	bool found = false;
	ClTime wm = 0;

	*search = false;
	if (!state_read_watermark(hs->state_dir, "hubspot", object, &found, &wm, err))
	{
		/* errors have already been logged */
		return false;
	}
	if (start == NULL || start[0] == '\0')
		start = config_get(run->cfg, "pipeline", "start_date");
	if (found)
	{
		*search = true;
		q->has_lo = true;
		q->lo = whole_ms(wm);
	}
	else if (start != NULL && start[0] != '\0' && date_parse(start, &start_date))
	{
		*search = true;
		q->has_lo = true;
		q->lo = date_start_utc(start_date);
	}
	return true;
}


/*
 * plan_contacts decides how contacts and deals are read: --from/--to
 * searches those days (the watermarks stay); --full-refresh lists all;
 * otherwise each object's search starts at its saved watermark, or at
 * start_date on a first run, and without either every object is listed.
 * The watermarks are saved after every committed run that is not a
 * backfill or a dry run.
 */
static bool
plan_contacts(Hubspot *hs, SourceRun *run, ClError *err)
{
	const CliOptions *cli = run->cli;
	bool backfill = cli != NULL && (cli->has_from || cli->has_to);
	HubspotSearch *q = &hs->contacts;

	hs->state_dir = state_dir_path(run->cfg);
	if (hs->state_dir == NULL)
	{
		*err = CL_ERR_INTERNAL;
		return false;
	}
	if (backfill && cli->full_refresh)
	{
		log_error("hubspot: --full-refresh reads everything; it cannot be combined with "
				  "--from/--to");
		*err = CL_ERR_USAGE;
		return false;
	}
	memset(q, 0, sizeof(*q));
	q->hi = whole_ms(run->started_at);
	q->cap = config_get_int(run->cfg, run->vendor->section, "search_max_results");
	q->segment_page = -1;
	hs->incremental = !backfill && !(cli != NULL && cli->dry_run);
	hs->archived = true;
	if (backfill)
	{
		hs->search = true;
		if (cli->has_from)
		{
			q->has_lo = true;
			q->lo = date_start_utc(cli->from);
		}
		if (cli->has_to && date_start_utc(cli->to + 1) < q->hi)
			q->hi = date_start_utc(cli->to + 1);
		/* a backfill reads the deals of the same days */
		hs->deal_search = true;
		hs->deals_q = *q;
		return true;
	}
	hs->deals_q = *q;
	if (cli != NULL && cli->full_refresh)
		return true;
	/* A first run lists what exists; nothing it could mark deleted was
	 * ever staged. */
	if (!plan_incremental(hs, run, "contacts", q, &hs->search, err) ||
		!plan_incremental(hs, run, "deals", &hs->deals_q, &hs->deal_search, err))
	{
		/* errors have already been logged */
		return false;
	}
	hs->archived = hs->search;
	return true;
}


/*
 * map_path: the source map file's path; a relative one is taken relative
 * to the configuration file that set it, as the transform takes its rules
 * file. Returns an ALLOCATED path (caller frees), NULL when out of memory.
 */
static char *
map_path(const SourceRun *run, const char *value)
{
	const char *where = config_source(run->cfg, run->vendor->section, "source_map_file");
	const char *colon = where != NULL ? strrchr(where, ':') : NULL;
	const char *slash = NULL;
	char *out;
	size_t n;

	for (const char *p = where; colon != NULL && p < colon; p++)
	{
		if (*p == '/')
			slash = p;
	}
	if (value[0] == '/' || slash == NULL)
		return strdup(value);
	n = (size_t) (slash - where) + strlen(value) + 2;
	out = malloc(n);
	if (out != NULL)
		(void) snprintf(out, n, "%.*s/%s", (int) (slash - where), where, value);
	return out;
}


/*
 * apply_map_line applies one line of the source map (its text is kept in
 * hs->rule_text; the rule points into it): it replaces the built-in row of
 * its hs_analytics_source value, or adds a row for a value the table does
 * not know (drill-down 1 as the source when present, kind page_view). A
 * later line for the same value wins. false with *why on a bad line.
 */
static bool
apply_map_line(Hubspot *hs, char *line, const char **why)
{
	char *fields[3];
	int n = 0;
	HubspotSourceRule *r = NULL;

	for (char *p = line; n < 3; n++)
	{
		char *tab = strchr(p, '\t');

		fields[n] = p;
		if (tab == NULL)
		{
			n++;
			break;
		}
		*tab = '\0';
		p = tab + 1;
		if (n == 2)
		{
			*why = "more than 3 TAB-separated fields";
			return false;
		}
	}
	if (n != 3)
	{
		*why = "expected 3 TAB-separated fields: hs_analytics_source, medium, default source";
		return false;
	}
	for (int i = 0; i < 3; i++)
	{
		if (fields[i][0] == '\0' || strchr(fields[i], ' ') != NULL)
		{
			*why = "a field is empty or contains a space";
			return false;
		}
	}
	for (size_t i = 0; i < hs->nrules && r == NULL; i++)
	{
		if (strcmp(hs->rules[i].value, fields[0]) == 0)
			r = &hs->rules[i];
	}
	if (r == NULL)
	{
		/* room was made for every line of the file */
		r = &hs->rules[hs->nrules++];
		r->use_data_1 = true;
		r->kind = "page_view";
	}
	r->value = fields[0];
	r->medium = fields[1];
	r->source = fields[2];
	return true;
}


/*
 * load_source_map reads [crm.hubspot] source_map_file, TAB-separated
 * "hs_analytics_source, medium, default source" lines (blank lines and
 * lines starting with # are skipped) over a copy of the built-in table.
 * CL_ERR_CONFIG (logged with file and line) on a bad file.
 */
static bool
load_source_map(Hubspot *hs, SourceRun *run, ClError *err)
{
	const char *value = source_config_text(run, "source_map_file");
	size_t builtin = sizeof(hubspot_source_rules) / sizeof(hubspot_source_rules[0]);
	char *path = NULL;
	FILE *f = NULL;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	long lineno = 0;
	bool ok = false;

	if (value == NULL)
		return true;
	path = map_path(run, value);
	if (path == NULL)
		goto oom;
	f = fopen(path, "r");
	if (f == NULL)
	{
		log_error("hubspot: cannot open [crm.hubspot] source_map_file %s: %s", path,
				  strerror(errno));
		*err = CL_ERR_CONFIG;
		goto cleanup;
	}
	hs->rules = malloc(builtin * sizeof(HubspotSourceRule));
	if (hs->rules == NULL)
		goto oom;
	memcpy(hs->rules, hubspot_source_rules, sizeof(hubspot_source_rules));
	hs->nrules = builtin;
	while ((len = getline(&line, &cap, f)) >= 0)
	{
		const char *why = NULL;
		HubspotSourceRule *grown;
		char **texts;

		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0 || line[0] == '#')
			continue;
		/* the rules keep pointers into the line: it stays allocated */
		grown = realloc(hs->rules, (hs->nrules + 1) * sizeof(HubspotSourceRule));
		if (grown == NULL)
			goto oom;
		hs->rules = grown;
		texts = realloc(hs->rule_text, (hs->nrule_text + 1) * sizeof(char *));
		if (texts == NULL)
			goto oom;
		hs->rule_text = texts;
		hs->rule_text[hs->nrule_text++] = line;
		line = NULL;
		cap = 0;
		if (!apply_map_line(hs, hs->rule_text[hs->nrule_text - 1], &why))
		{
			log_error("hubspot: %s:%ld: %s; fix the line in [crm.hubspot] source_map_file",
					  path, lineno, why);
			*err = CL_ERR_CONFIG;
			goto cleanup;
		}
	}
	if (ferror(f))
	{
		log_error("hubspot: cannot read [crm.hubspot] source_map_file %s: %s", path,
				  strerror(errno));
		*err = CL_ERR_CONFIG;
		goto cleanup;
	}
	ok = true;
	goto cleanup;

oom:
	log_error("hubspot: out of memory reading the source map");
	*err = CL_ERR_INTERNAL;

cleanup:
	free(line);
	if (f != NULL)
		(void) fclose(f);
	free(path);
	return ok;
}


/*
 * hubspot_open reads [crm.hubspot]. A token wins over OAuth credentials;
 * neither is a configuration error that names both ways.
 */
static bool
hubspot_open(SourceRun *run, void **state, ClError *err)
{
	Hubspot *hs = calloc(1, sizeof(Hubspot));
	const char *client_id = source_config_text(run, "client_id");
	const char *client_secret = source_config_text(run, "client_secret");
	const char *refresh_token = source_config_text(run, "refresh_token");
	size_t n;

	*state = hs;
	if (hs == NULL)
	{
		log_error("hubspot: out of memory");
		*err = CL_ERR_INTERNAL;
		return false;
	}
	warn_once_init(&hs->warned);
	if (!source_config_url(run, "base_url", &hs->base_url, err))
	{
		/* errors have already been logged */
		return false;
	}
	hs->static_token = source_config_text(run, "token");
	if (hs->static_token == NULL)
	{
		if (client_id == NULL || client_secret == NULL || refresh_token == NULL)
		{
			log_error("hubspot: no credentials in [crm.hubspot]: set token (a private-app "
					  "token), or client_id, client_secret and refresh_token (an OAuth app)");
			*err = CL_ERR_CONFIG;
			return false;
		}
		n = strlen(hs->base_url) + sizeof("/oauth/v1/token");
		hs->token_url = malloc(n);
		if (hs->token_url == NULL)
		{
			log_error("hubspot: out of memory");
			*err = CL_ERR_INTERNAL;
			return false;
		}
		(void) snprintf(hs->token_url, n, "%s/oauth/v1/token", hs->base_url);
		hs->oauth = true;
		hs->grant.vendor = "hubspot";
		hs->grant.section = run->vendor->section;
		hs->grant.token_url = hs->token_url;
		hs->grant.client_id = client_id;
		hs->grant.client_secret = client_secret;
		hs->grant.refresh_token = refresh_token;
	}
	else if (client_id != NULL || refresh_token != NULL)
		log_notice("hubspot: both token and OAuth credentials are set in [crm.hubspot]; using token");

	hs->page_size = config_get_int(run->cfg, run->vendor->section, "page_size");
	hs->forms = config_get_bool(run->cfg, run->vendor->section, "form_submissions");
	hs->utm = config_get_bool(run->cfg, run->vendor->section, "utm_properties");
	if (!load_source_map(hs, run, err))
	{
		/* errors have already been logged */
		return false;
	}
	hs->product_group = source_config_text(run, "product_group_property");
	if (hs->product_group != NULL && !valid_property_name(hs->product_group))
	{
		log_error("hubspot: [crm.hubspot] product_group_property = %s is not a HubSpot "
				  "property name (letters, digits, _)", hs->product_group);
		*err = CL_ERR_CONFIG;
		return false;
	}
	hs->currency = config_get(run->cfg, "pipeline", "reporting_currency");
	if (hs->currency == NULL || !currency_valid(hs->currency))
	{
		log_error("hubspot: [pipeline] reporting_currency = %s is not an ISO 4217 code",
				  hs->currency != NULL ? hs->currency : "(unset)");
		*err = CL_ERR_CONFIG;
		return false;
	}
	if (!plan_contacts(hs, run, err))
	{
		/* errors have already been logged */
		return false;
	}
	/* A snapshot of mutable objects: the window is the extraction day
	 * unless the command line names one. */
	return source_run_window(run, run->today, run->today, err);
}


static bool
hubspot_authenticate(void *state, SourceRun *run, bool force, ClError *err)
{
	Hubspot *hs = state;

	if (!hs->oauth)
		return true;
	if (!force && oauth_token_fresh(&hs->access, time_now()))
		return true;
	return oauth_refresh(run->http, &hs->grant, &hs->access, err);
}


static bool write_searched_deals(Hubspot *hs, SourceRun *run, ClError *err);


/*
 * hubspot_next_stream: pipelines first (the deals need their stages),
 * then contacts, then deals, then (searched deals) their associations in
 * batches. The rows of a batch's deals are written here, when the engine
 * asks for the stream after it: the batch has then been fetched and
 * mapped for good, so a retried attempt cannot write them twice.
 */
static bool
hubspot_next_stream(void *state, SourceRun *run, SourceStream *stream,
					bool *more, ClError *err)
{
	Hubspot *hs = state;

	*more = true;
	stream->record_path = "results[]";
	if (hs->next == HUBSPOT_FORM_SUBMISSIONS)
	{
		if (hs->forms && hs->form_next < hs->nread)
		{
			hs->form_current = hs->form_next++;
			stream->kind = HUBSPOT_FORM_SUBMISSIONS;
			stream->name = "form submissions";
			stream->entities = "touch";
			stream->paging = SOURCE_PAGING_NONE;
			stream->record_path = "form-submissions[]";
			(void) snprintf(stream->label, sizeof(stream->label),
							"form submissions of contact %.64s", hs->read[hs->form_current].id);
			return true;
		}
		if (hs->profiles_gone > 0)
			log_info("hubspot: %zu of %zu contacts were deleted while this run read them; "
					 "their form submissions are left out", hs->profiles_gone, hs->nread);
		hs->next++;
	}
	if (hs->next == HUBSPOT_DEAL_ASSOCIATIONS)
	{
		if (!write_searched_deals(hs, run, err))
		{
			/* errors have already been logged */
			return false;
		}
		if (hs->deal_search && hs->assoc_hi < hs->ndeals)
		{
			hs->assoc_lo = hs->assoc_hi;
			hs->assoc_hi = hs->assoc_lo + HUBSPOT_ASSOCIATION_BATCH < hs->ndeals
				? hs->assoc_lo + HUBSPOT_ASSOCIATION_BATCH : hs->ndeals;
			stream->kind = HUBSPOT_DEAL_ASSOCIATIONS;
			stream->name = "deal associations";
			stream->entities = "deal";
			stream->paging = SOURCE_PAGING_NONE;
			(void) snprintf(stream->label, sizeof(stream->label),
							"contacts of changed deals %zu..%zu of %zu", hs->assoc_lo + 1,
							hs->assoc_hi, hs->ndeals);
			return true;
		}
		hs->next++;
	}
	stream->kind = hs->next;
	switch (hs->next++)
	{
		case HUBSPOT_PIPELINES:
			stream->name = "pipelines";
			stream->entities = "-";
			stream->paging = SOURCE_PAGING_NONE;
			(void) snprintf(stream->label, sizeof(stream->label), "deal pipelines");
			return true;

		case HUBSPOT_CONTACTS:
			if (hs->nstages == 0)
				log_warn("hubspot: the deal pipelines name no stages; only the stage ids "
						 "closedwon and closedlost will count as closed");
			stream->name = "contacts";
			stream->entities = "lead,touch";
			stream->paging = SOURCE_PAGING_CURSOR;
			stream->cursor_path = "paging.next.after";
			if (hs->search)
			{
				char lo[CL_TIME_BUFSIZE];
				char hi[CL_TIME_BUFSIZE];

				stream->data = &hs->contacts;
				(void) snprintf(stream->label, sizeof(stream->label),
								"contacts modified %s .. %s",
								hs->contacts.has_lo ? time_format_rfc3339(hs->contacts.lo, lo)
								: "start", time_format_rfc3339(hs->contacts.hi, hi));
			}
			else
				(void) snprintf(stream->label, sizeof(stream->label), "contacts");
			return true;

		case HUBSPOT_DEALS:
			stream->name = "deals";
			stream->entities = "deal";
			stream->paging = SOURCE_PAGING_CURSOR;
			stream->cursor_path = "paging.next.after";
			if (hs->deal_search)
			{
				char lo[CL_TIME_BUFSIZE];
				char hi[CL_TIME_BUFSIZE];

				stream->data = &hs->deals_q;
				(void) snprintf(stream->label, sizeof(stream->label),
								"deals modified %s .. %s",
								hs->deals_q.has_lo ? time_format_rfc3339(hs->deals_q.lo, lo)
								: "start", time_format_rfc3339(hs->deals_q.hi, hi));
			}
			else
				(void) snprintf(stream->label, sizeof(stream->label), "deals");
			return true;

		case HUBSPOT_ARCHIVED_CONTACTS:
		case HUBSPOT_ARCHIVED_DEALS:
			if (!hs->archived)
			{
				*more = false;
				return true;
			}
			stream->name = stream->kind == HUBSPOT_ARCHIVED_CONTACTS ? "archived contacts"
				: "archived deals";
			stream->entities = stream->kind == HUBSPOT_ARCHIVED_CONTACTS ? "lead" : "deal";
			stream->paging = SOURCE_PAGING_CURSOR;
			stream->cursor_path = "paging.next.after";
			(void) snprintf(stream->label, sizeof(stream->label), "%s", stream->name);
			return true;

		default:
			*more = false;
			return true;
	}
}


/*
 * build_search writes the POST of one search page of object ("contacts",
 * "deals"): modified (its last-modified property) in q's window, the
 * properties of the comma-separated list. A cursor that
 * would page past q->cap starts a new segment instead: the same window
 * over the ids above the highest one read, from its first page. A retried
 * page keeps its segment (segment_page), since the ids its failed attempt
 * mapped may have raised max_id.
 */
static bool
build_search(Hubspot *hs, HubspotSearch *q, const char *object, const char *modified,
			 const char *properties, const SourcePage *page, SourceRequest *req,
			 const char *token, ClError *err)
{
	int64_t after = 0;
	char *end = NULL;
	const char *p;
	bool first = true;

	if (page->cursor != NULL)
	{
		long long v = strtoll(page->cursor, &end, 10);

		if (end == page->cursor || *end != '\0' || v < 0)
		{
			log_error("hubspot %s search page %lld: the cursor \"%.40s\" is not an offset",
					  object, (long long) page->number, page->cursor);
			*err = CL_ERR_DATA;
			return false;
		}
		after = v;
	}
	if (page->number == q->segment_page)
		after = 0;
	else if (after + hs->page_size > q->cap)
	{
		q->base_id = q->max_id;
		q->segment_page = page->number;
		after = 0;
		log_info("hubspot %s: %lld search results reached; continuing with the ids above %lld",
				 object, (long long) q->cap, (long long) q->base_id);
	}
	tb_printf(&req->url, "%s/crm/v3/objects/%s/search", hs->base_url, object);
	req->method = "POST";
	tb_append(&req->body, "{\"filterGroups\":[{\"filters\":[");
	if (q->has_lo)
	{
		tb_printf(&req->body, "{\"propertyName\":\"%s\",\"operator\":\"GTE\","
				  "\"value\":\"%lld\"},", modified, (long long) (q->lo / 1000));
	}
	tb_printf(&req->body, "{\"propertyName\":\"%s\",\"operator\":\"LT\","
			  "\"value\":\"%lld\"}", modified, (long long) (q->hi / 1000));
	if (q->base_id > 0)
		tb_printf(&req->body, ",{\"propertyName\":\"hs_object_id\",\"operator\":\"GT\","
				  "\"value\":\"%lld\"}", (long long) q->base_id);
	tb_append(&req->body, "]}],\"sorts\":[{\"propertyName\":\"hs_object_id\","
			  "\"direction\":\"ASCENDING\"}],\"properties\":[");
	for (p = properties; *p != '\0'; )
	{
		size_t len = strcspn(p, ",");

		tb_printf(&req->body, "%s\"%.*s\"", first ? "" : ",", (int) len, p);
		first = false;
		p += len;
		if (*p == ',')
			p++;
	}
	if (hs->product_group != NULL)
		tb_printf(&req->body, ",\"%s\"", hs->product_group);
	for (size_t i = 0; hs->utm && strcmp(object, "contacts") == 0 && i < 5; i++)
		tb_printf(&req->body, ",\"%s\"", hubspot_utm_properties[i]);
	tb_printf(&req->body, "],\"limit\":%lld", (long long) hs->page_size);
	if (after > 0)
		tb_printf(&req->body, ",\"after\":\"%lld\"", (long long) after);
	tb_append(&req->body, "}");
	if (!source_request_header(req, "Authorization: Bearer %s", token) ||
		!source_request_header(req, "Accept: application/json") ||
		!source_request_header(req, "Content-Type: application/json"))
	{
		*err = CL_ERR_INTERNAL;
		return false;
	}
	return true;
}


/*
 * build_associations writes the POST of the v4 associations batch read of
 * the deals handed out last (their ids are digits: map_record checked).
 */
static bool
build_associations(Hubspot *hs, SourceRequest *req, const char *token, ClError *err)
{
	tb_printf(&req->url, "%s/crm/v4/associations/deals/contacts/batch/read", hs->base_url);
	req->method = "POST";
	tb_append(&req->body, "{\"inputs\":[");
	for (size_t i = hs->assoc_lo; i < hs->assoc_hi; i++)
		tb_printf(&req->body, "%s{\"id\":\"%lld\"}", i > hs->assoc_lo ? "," : "",
				  (long long) hs->deals[i].id);
	tb_append(&req->body, "]}");
	if (!source_request_header(req, "Authorization: Bearer %s", token) ||
		!source_request_header(req, "Accept: application/json") ||
		!source_request_header(req, "Content-Type: application/json"))
	{
		*err = CL_ERR_INTERNAL;
		return false;
	}
	return true;
}


/*
 * hubspot_build_request: the GET of one page. Property lists keep their
 * commas literal, as HubSpot documents them; the cursor is encoded.
 */
static bool
hubspot_build_request(void *state, const SourceStream *stream,
					  const SourcePage *page, SourceRequest *req, ClError *err)
{
	Hubspot *hs = state;
	const char *token = hs->oauth ? hs->access.access_token : hs->static_token;

	if (token == NULL)
	{
		log_error("BUG: hubspot request without an access token");
		*err = CL_ERR_INTERNAL;
		return false;
	}
	if (stream->kind == HUBSPOT_CONTACTS && hs->search)
		return build_search(hs, &hs->contacts, "contacts", "lastmodifieddate",
							hubspot_contact_properties, page, req, token, err);
	if (stream->kind == HUBSPOT_DEALS && hs->deal_search)
		return build_search(hs, &hs->deals_q, "deals", "hs_lastmodifieddate",
							hubspot_deal_properties, page, req, token, err);
	if (stream->kind == HUBSPOT_DEAL_ASSOCIATIONS)
		return build_associations(hs, req, token, err);
	tb_append(&req->url, hs->base_url);
	if (stream->kind == HUBSPOT_FORM_SUBMISSIONS)
	{
		/* the v1 profile: the CRM v3 contact object lists no submissions */
		tb_append(&req->url, "/contacts/v1/contact/vid/");
		tb_append_query_value(&req->url, hs->read[hs->form_current].id);
		tb_append(&req->url, "/profile?formSubmissionMode=all&propertyMode=value_only"
				  "&showListMemberships=false");
	}
	switch (stream->kind)
	{
		case HUBSPOT_PIPELINES:
			tb_append(&req->url, "/crm/v3/pipelines/deals");
			break;

		case HUBSPOT_FORM_SUBMISSIONS:
			break;

		case HUBSPOT_CONTACTS:
		case HUBSPOT_ARCHIVED_CONTACTS:
			tb_printf(&req->url, "/crm/v3/objects/contacts?limit=%lld&archived=%s&properties=%s",
					  (long long) hs->page_size,
					  stream->kind == HUBSPOT_CONTACTS ? "false" : "true",
					  hubspot_contact_properties);
			break;

		case HUBSPOT_DEALS:
		case HUBSPOT_ARCHIVED_DEALS:
			tb_printf(&req->url, "/crm/v3/objects/deals?limit=%lld&archived=%s&properties=%s",
					  (long long) hs->page_size,
					  stream->kind == HUBSPOT_DEALS ? "false" : "true",
					  hubspot_deal_properties);
			break;

		default:
			log_error("BUG: hubspot has no stream %d", stream->kind);
			*err = CL_ERR_INTERNAL;
			return false;
	}
	if (stream->kind != HUBSPOT_PIPELINES && stream->kind != HUBSPOT_FORM_SUBMISSIONS)
	{
		if (hs->product_group != NULL)
			tb_printf(&req->url, ",%s", hs->product_group);
		for (size_t i = 0; hs->utm && i < 5 && (stream->kind == HUBSPOT_CONTACTS ||
											   stream->kind == HUBSPOT_ARCHIVED_CONTACTS); i++)
			tb_printf(&req->url, ",%s", hubspot_utm_properties[i]);
		if (stream->kind == HUBSPOT_DEALS || stream->kind == HUBSPOT_ARCHIVED_DEALS)
			tb_append(&req->url, "&associations=contacts");
		if (page->cursor != NULL)
		{
			tb_append(&req->url, "&after=");
			tb_append_query_value(&req->url, page->cursor);
		}
	}
	if (token == NULL)
	{
		log_error("BUG: hubspot request without an access token");
		*err = CL_ERR_INTERNAL;
		return false;
	}
	if (!source_request_header(req, "Authorization: Bearer %s", token) ||
		!source_request_header(req, "Accept: application/json"))
	{
		*err = CL_ERR_INTERNAL;
		return false;
	}
	return true;
}


/* prop: a property's text, NULL when absent, null or empty. */
static const char *
prop(const JsonValue *rec, const char *name)
{
	return text_nonempty(json_text(json_member(json_member(rec, "properties"), name)));
}


/*
 * object_time reads a timestamp from a property, or when the property is
 * absent from the object's own member (createdAt, updatedAt). A value that
 * is present but unparseable is an error, not a reason to fall back.
 */
static bool
object_time(const RecordRef *ref, const JsonValue *rec, const char *property,
			const char *member, ClTime *out, ClError *err)
{
	const char *text = prop(rec, property);

	if (text != NULL)
		return record_time(ref, property, text, out, err);
	text = text_nonempty(json_string(json_member(rec, member)));
	if (text != NULL)
		return record_time(ref, member, text, out, err);
	record_error(ref, property, "missing, and so is %s", member);
	*err = CL_ERR_DATA;
	return false;
}


/*
 * stage_upsert records one stage of a pipeline, replacing an earlier entry
 * for the same (pipeline, stage): a retried page maps its records again.
 */
static bool
stage_upsert(Hubspot *hs, const char *pipeline, const char *id, bool is_closed,
			 bool is_won)
{
	HubspotStage *s = NULL;

	for (size_t i = 0; i < hs->nstages; i++)
	{
		if (strcmp(hs->stages[i].pipeline, pipeline) == 0 &&
			strcmp(hs->stages[i].id, id) == 0)
			s = &hs->stages[i];
	}
	if (s == NULL)
	{
		if (hs->nstages == hs->stage_cap)
		{
			size_t cap = hs->stage_cap == 0 ? 32 : hs->stage_cap * 2;
			HubspotStage *grown = realloc(hs->stages, cap * sizeof(HubspotStage));

			if (grown == NULL)
				return false;
			hs->stages = grown;
			hs->stage_cap = cap;
		}
		s = &hs->stages[hs->nstages];
		s->pipeline = strdup(pipeline);
		s->id = strdup(id);
		if (s->pipeline == NULL || s->id == NULL)
		{
			free(s->pipeline);
			free(s->id);
			return false;
		}
		hs->nstages++;
	}
	s->is_closed = is_closed;
	s->is_won = is_won;
	return true;
}


/*
 * metadata_flag reads metadata.isClosed, which HubSpot sends as the string
 * "true"/"false" (a JSON boolean is accepted too).
 */
static bool
metadata_flag(const JsonValue *v, bool *out)
{
	const char *s = json_string(v);

	if (json_bool(v, out))
		return true;
	if (s != NULL && strcmp(s, "true") == 0)
		*out = true;
	else if (s != NULL && strcmp(s, "false") == 0)
		*out = false;
	else
		return false;
	return true;
}


/*
 * probability_is_one: metadata.probability of a won stage is "1.0"; any
 * spelling of exactly one counts ("1", "1.00").
 */
static bool
probability_is_one(const JsonValue *v)
{
	const char *s = json_text(v);

	if (s == NULL || s[0] != '1')
		return false;
	s++;
	if (*s == '\0')
		return true;
	if (*s != '.')
		return false;
	for (s++; *s != '\0'; s++)
	{
		if (*s != '0')
			return false;
	}
	return true;
}


/*
 * map_pipeline records the closed/won meaning of every stage of one
 * pipeline.
 */
static bool
map_pipeline(Hubspot *hs, const JsonValue *rec, const RecordRef *ref, ClError *err)
{
	const JsonValue *stages = json_member(rec, "stages");

	if (stages == NULL || stages->type != JSON_ARRAY)
	{
		record_error(ref, "stages", "missing or not an array");
		*err = CL_ERR_DATA;
		return false;
	}
	for (size_t i = 0; i < stages->count; i++)
	{
		const JsonValue *st = stages->items[i];
		const char *id = text_nonempty(json_text(json_member(st, "id")));
		const JsonValue *meta = json_member(st, "metadata");
		bool closed;

		if (id == NULL)
		{
			record_error(ref, "stages[].id", "a stage has no id");
			*err = CL_ERR_DATA;
			return false;
		}
		if (!metadata_flag(json_member(meta, "isClosed"), &closed))
		{
			record_error(ref, "stages[].metadata.isClosed",
						 "stage %s: expected \"true\" or \"false\"", id);
			*err = CL_ERR_DATA;
			return false;
		}
		if (!stage_upsert(hs, ref->id, id, closed,
						  closed && probability_is_one(json_member(meta, "probability"))))
		{
			log_error("hubspot: out of memory keeping deal stages");
			*err = CL_ERR_INTERNAL;
			return false;
		}
	}
	return true;
}


/*
 * source_rule finds the rule for an hs_analytics_source value; an unknown
 * value gets the documented default and one warning.
 */
static const HubspotSourceRule *
source_rule(Hubspot *hs, const char *value)
{
	const HubspotSourceRule *rules = hs->rules != NULL ? hs->rules : hubspot_source_rules;
	size_t n = hs->rules != NULL ? hs->nrules
		: sizeof(hubspot_source_rules) / sizeof(hubspot_source_rules[0]);

	for (size_t i = 0; i < n; i++)
	{
		if (strcmp(rules[i].value, value) == 0)
			return &rules[i];
	}
	if (warn_once(&hs->warned, value))
		log_warn("hubspot: unknown hs_analytics_source %s; its touches get medium \"other\" "
				 "(see docs/vendors/hubspot.md)", value);
	return &hubspot_unknown_source;
}


/*
 * lower_copy: an ALLOCATED lower-cased copy of s (caller frees), NULL when
 * out of memory.
 */
static char *
lower_copy(const char *s)
{
	char *out = strdup(s);

	if (out == NULL)
		return NULL;
	for (char *p = out; *p != '\0'; p++)
	{
		if (*p >= 'A' && *p <= 'Z')
			*p = (char) (*p - 'A' + 'a');
	}
	return out;
}


/*
 * write_source_touch writes the touch of one source property group of a
 * contact (hs_analytics_source or hs_latest_source, with its drill-downs
 * <prefix>_data_1 and _data_2) at time at, for its email and contact id.
 * With utm_properties, the original source's fields are overridden by the
 * contact's utm_* properties that are set: a portal that records them
 * knows the tagged campaign better than HubSpot's classification.
 */
static bool
write_source_touch(Hubspot *hs, SourceRun *run, const JsonValue *rec, const char *prefix,
				   const char *touch_id, const char *id, const char *email, ClTime at,
				   ClTime updated, ClError *err)
{
	char name[64];
	const char *value = prop(rec, prefix);
	const char *data_1;
	const char *data_2;
	const HubspotSourceRule *rule;
	StagingWriter *w = source_run_writer(run, "touch");
	char *source = NULL;
	JsonGen *g;

	(void) snprintf(name, sizeof(name), "%s_data_1", prefix);
	data_1 = prop(rec, name);
	(void) snprintf(name, sizeof(name), "%s_data_2", prefix);
	data_2 = prop(rec, name);
	if (value == NULL)
		return true;
	if (w == NULL)
	{
		*err = CL_ERR_INTERNAL;
		return false;
	}
	rule = source_rule(hs, value);
	if (rule->use_data_1 && data_1 != NULL)
		source = lower_copy(data_1);
	else if (rule->source != NULL)
		source = strdup(rule->source);
	else
		source = lower_copy(value);
	if (source == NULL)
	{
		log_error("hubspot: out of memory");
		*err = CL_ERR_INTERNAL;
		return false;
	}

	g = staging_row_begin(w, time_utc_date(at));
	jgen_string(g, "touch_id", touch_id);
	jgen_string(g, "source_system", "hubspot");
	jgen_object_begin(g, "person");
	row_string(g, "email", email);
	jgen_string(g, "crm_id", id);
	jgen_object_end(g);
	jgen_time(g, "at", at);
	jgen_string(g, "kind", rule->kind);
	if (hs->utm && strcmp(prefix, "hs_analytics_source") == 0)
	{
		const char *given[5];

		given[0] = source;
		given[1] = rule->medium;
		given[2] = data_2;
		given[3] = NULL;
		given[4] = NULL;
		for (size_t i = 0; i < 5; i++)
		{
			const char *utm = prop(rec, hubspot_utm_properties[i]);

			row_string(g, hubspot_utm_fields[i], utm != NULL ? utm : given[i]);
		}
	}
	else
	{
		jgen_string(g, "source", source);
		jgen_string(g, "medium", rule->medium);
		row_string(g, "campaign", data_2);
	}
	jgen_time(g, "updated_at", updated);
	free(source);
	if (!staging_row_end(w))
	{
		*err = CL_ERR_OUTPUT;
		return false;
	}
	return true;
}


/* same_prop: two properties are both absent or equal. */
static bool
same_prop(const JsonValue *rec, const char *a, const char *b)
{
	const char *x = prop(rec, a);
	const char *y = prop(rec, b);

	return (x == NULL && y == NULL) || (x != NULL && y != NULL && strcmp(x, y) == 0);
}


/*
 * write_contact_touches writes the original source at the contact's
 * creation, and the latest source at hs_latest_source_timestamp (keyed by
 * that time, so each new latest source is a touch of its own and one seen
 * again is the same touch), unless it is the creating visit again.
 */
static bool
write_contact_touches(Hubspot *hs, SourceRun *run, const JsonValue *rec, const RecordRef *ref,
					  const char *email, ClTime created, ClTime updated, ClError *err)
{
	const char *latest_at = prop(rec, "hs_latest_source_timestamp");
	char touch_id[160];
	ClTime at;

	(void) snprintf(touch_id, sizeof(touch_id), "contact-%s-original", ref->id);
	if (!write_source_touch(hs, run, rec, "hs_analytics_source", touch_id, ref->id, email,
							created, updated, err))
		return false;
	if (prop(rec, "hs_latest_source") == NULL || latest_at == NULL)
		return true;
	if (!record_time(ref, "hs_latest_source_timestamp", latest_at, &at, err))
		return false;
	if (at - created < HUBSPOT_SAME_VISIT_USEC && at - created > -HUBSPOT_SAME_VISIT_USEC &&
		same_prop(rec, "hs_latest_source", "hs_analytics_source") &&
		same_prop(rec, "hs_latest_source_data_1", "hs_analytics_source_data_1") &&
		same_prop(rec, "hs_latest_source_data_2", "hs_analytics_source_data_2"))
		return true;
	(void) snprintf(touch_id, sizeof(touch_id), "contact-%s-latest-%lld", ref->id,
					(long long) (at / 1000));
	return write_source_touch(hs, run, rec, "hs_latest_source", touch_id, ref->id, email, at,
							  updated, err);
}


static bool
archived_flag(const JsonValue *rec)
{
	bool archived = false;

	(void) json_bool(json_member(rec, "archived"), &archived);
	return archived;
}


/*
 * deleted_time: an archived object's archivedAt is its last change, so the
 * deleted version is the newest one the transform sees (*updated is
 * raised to it).
 */
static bool
deleted_time(const RecordRef *ref, const JsonValue *rec, ClTime *updated, ClError *err)
{
	const char *text = text_nonempty(json_string(json_member(rec, "archivedAt")));
	ClTime at;

	if (!archived_flag(rec) || text == NULL)
		return true;
	if (!record_time(ref, "archivedAt", text, &at, err))
		return false;
	if (at > *updated)
		*updated = at;
	return true;
}


/*
 * in_deleted_window: an archived record of an incremental run counts when
 * it was archived within the run's window (the list of archived objects
 * has no filter); on a full refresh every one counts. A record without
 * archivedAt counts (better marked twice than never).
 */
static bool
in_deleted_window(const Hubspot *hs, const RecordRef *ref, const JsonValue *rec,
				  bool *inside, ClError *err)
{
	const char *text = text_nonempty(json_string(json_member(rec, "archivedAt")));
	bool deals = strcmp(ref->object, "archived deals") == 0;
	const HubspotSearch *q = deals ? &hs->deals_q : &hs->contacts;
	ClTime at;

	*inside = true;
	if (!(deals ? hs->deal_search : hs->search) || text == NULL)
		return true;
	if (!record_time(ref, "archivedAt", text, &at, err))
		return false;
	*inside = (!q->has_lo || at >= q->lo) && at < q->hi;
	return true;
}


/*
 * remember_contact keeps a live contact of the contacts stream for its
 * form submissions (when they are read). A retried page maps its records
 * again, and they were all appended since that page began: the last
 * page_size entries are searched before one is appended.
 */
static bool
remember_contact(Hubspot *hs, const char *id, const char *email, ClError *err)
{
	HubspotContact *c = NULL;
	char *email_copy = NULL;

	if (!hs->forms)
		return true;
	for (size_t i = hs->nread; i > 0 && hs->nread - i < (size_t) hs->page_size && c == NULL; i--)
	{
		if (strcmp(hs->read[i - 1].id, id) == 0)
			c = &hs->read[i - 1];
	}
	if (email != NULL && (email_copy = strdup(email)) == NULL)
		goto oom;
	if (c == NULL)
	{
		if (hs->nread == hs->read_cap)
		{
			size_t cap = hs->read_cap == 0 ? 256 : hs->read_cap * 2;
			HubspotContact *grown = realloc(hs->read, cap * sizeof(HubspotContact));

			if (grown == NULL)
				goto oom;
			hs->read = grown;
			hs->read_cap = cap;
		}
		c = &hs->read[hs->nread];
		c->id = strdup(id);
		c->email = NULL;
		if (c->id == NULL)
			goto oom;
		hs->nread++;
	}
	free(c->email);
	c->email = email_copy;
	return true;

oom:
	free(email_copy);
	log_error("hubspot: out of memory keeping the contacts read");
	*err = CL_ERR_INTERNAL;
	return false;
}


/*
 * map_form_submission writes the touch of one entry of a contact's v1
 * profile form-submissions[]: at its timestamp (epoch ms), keyed by its
 * conversion-id (else the timestamp), with the utm_* tags of its page URL;
 * without tags source and medium stay empty, which the channel rules
 * count as Direct.
 */
static bool
map_form_submission(Hubspot *hs, SourceRun *run, const JsonValue *rec, ClError *err)
{
	static const char *const tags[] = {
		"utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term"
	};
	static const char *const fields[] = { "source", "medium", "campaign", "content", "term" };
	const HubspotContact *c = &hs->read[hs->form_current];
	RecordRef ref = { "hubspot", "form submission of contact", c->id };
	const char *stamp = text_nonempty(json_text(json_member(rec, "timestamp")));
	const char *conversion = text_nonempty(json_text(json_member(rec, "conversion-id")));
	const char *url = text_nonempty(json_string(json_member(rec, "page-url")));
	StagingWriter *w = source_run_writer(run, "touch");
	char *values[5] = { NULL, NULL, NULL, NULL, NULL };
	char touch_id[200];
	JsonGen *g;
	ClTime at;
	bool ok = false;

	if (w == NULL)
	{
		*err = CL_ERR_INTERNAL;
		return false;
	}
	if (rec->type != JSON_OBJECT || stamp == NULL)
	{
		record_error(&ref, "form-submissions[].timestamp", "missing");
		*err = CL_ERR_DATA;
		return false;
	}
	if (!record_time(&ref, "form-submissions[].timestamp", stamp, &at, err))
		return false;
	for (size_t i = 0; url != NULL && i < 5; i++)
	{
		if (!url_query_param(url, tags[i], &values[i]))
		{
			log_error("hubspot: out of memory");
			*err = CL_ERR_INTERNAL;
			goto cleanup;
		}
	}
	(void) snprintf(touch_id, sizeof(touch_id), "contact-%s-form-%.80s", c->id,
					conversion != NULL ? conversion : stamp);

	g = staging_row_begin(w, time_utc_date(at));
	jgen_string(g, "touch_id", touch_id);
	jgen_string(g, "source_system", "hubspot");
	jgen_object_begin(g, "person");
	row_string(g, "email", c->email);
	jgen_string(g, "crm_id", c->id);
	jgen_object_end(g);
	jgen_time(g, "at", at);
	jgen_string(g, "kind", "form_submit");
	for (size_t i = 0; i < 5; i++)
		row_string(g, fields[i], values[i]);
	row_string(g, "url", url);
	/* a submission does not change once made */
	jgen_time(g, "updated_at", at);
	if (!staging_row_end(w))
	{
		*err = CL_ERR_OUTPUT;
		goto cleanup;
	}
	ok = true;

cleanup:
	for (size_t i = 0; i < 5; i++)
		free(values[i]);
	return ok;
}


/*
 * map_contact writes a contact's lead row and its original-source touch.
 */
static bool
map_contact(Hubspot *hs, SourceRun *run, const JsonValue *rec,
			const RecordRef *ref, ClError *err)
{
	StagingWriter *w = source_run_writer(run, "lead");
	ClTime created;
	ClTime updated;
	char *email = NULL;
	JsonGen *g;
	bool ok = false;

	if (w == NULL)
	{
		*err = CL_ERR_INTERNAL;
		return false;
	}
	if (!object_time(ref, rec, "createdate", "createdAt", &created, err) ||
		!object_time(ref, rec, "lastmodifieddate", "updatedAt", &updated, err) ||
		!deleted_time(ref, rec, &updated, err))
	{
		/* errors have already been logged */
		return false;
	}
	if (!email_normalize(prop(rec, "email"), &email))
	{
		*err = CL_ERR_INTERNAL;
		return false;
	}

	g = staging_row_begin(w, run->today);
	jgen_string(g, "lead_id", ref->id);
	jgen_string(g, "source_system", "hubspot");
	row_string(g, "email", email);
	jgen_string(g, "crm_contact_id", ref->id);
	jgen_time(g, "created_at", created);
	jgen_time(g, "updated_at", updated);
	row_string(g, "lifecycle_stage", prop(rec, "lifecyclestage"));
	if (hs->product_group != NULL)
		row_string(g, "product_group", prop(rec, hs->product_group));
	row_string(g, "owner", prop(rec, "hubspot_owner_id"));
	jgen_bool(g, "is_deleted", archived_flag(rec));
	if (!staging_row_end(w))
	{
		*err = CL_ERR_OUTPUT;
		goto cleanup;
	}
	/* a deleted contact's touches were staged while it existed */
	ok = archived_flag(rec) || (write_contact_touches(hs, run, rec, ref, email, created,
													 updated, err) &&
								remember_contact(hs, ref->id, email, err));

cleanup:
	free(email);
	return ok;
}


/*
 * find_stage: the stage of a deal, looked up in its own pipeline first,
 * then by id alone (ids of custom stages are unique in a portal).
 */
static const HubspotStage *
find_stage(const Hubspot *hs, const char *pipeline, const char *stage)
{
	const HubspotStage *any = NULL;

	for (size_t i = 0; i < hs->nstages; i++)
	{
		if (strcmp(hs->stages[i].id, stage) != 0)
			continue;
		if (pipeline != NULL && strcmp(hs->stages[i].pipeline, pipeline) == 0)
			return &hs->stages[i];
		if (any == NULL)
			any = &hs->stages[i];
	}
	return any;
}


/*
 * deal_outcome decides is_closed and is_won from the pipelines' stage
 * metadata; the default stage ids closedwon/closedlost are a fallback only
 * when the pipelines did not name the stage.
 */
static void
deal_outcome(Hubspot *hs, const char *pipeline, const char *stage,
			 bool *is_closed, bool *is_won)
{
	const HubspotStage *s;

	*is_closed = false;
	*is_won = false;
	if (stage == NULL)
		return;
	s = find_stage(hs, pipeline, stage);
	if (s != NULL)
	{
		*is_closed = s->is_closed;
		*is_won = s->is_won;
		return;
	}
	if (strcmp(stage, "closedwon") == 0 || strcmp(stage, "closedlost") == 0)
	{
		*is_closed = true;
		*is_won = strcmp(stage, "closedwon") == 0;
		if (warn_once(&hs->warned, stage))
			log_notice("hubspot: deal stage %s is not in the pipelines; taking the default "
					   "meaning of its id (closed, %s)", stage, *is_won ? "won" : "lost");
		return;
	}
	if (warn_once(&hs->warned, stage))
		log_warn("hubspot: deal stage %s (pipeline %s) is not in the pipelines; its deals "
				 "count as open", stage, pipeline != NULL ? pipeline : "?");
}


/*
 * write_contact_ids writes the deal's associated contacts, each once
 * (HubSpot lists a contact once per association label): those of a
 * searched deal's batch read (found, already unique), else the listed
 * deal's own associations member.
 */
static void
write_contact_ids(Hubspot *hs, JsonGen *g, const JsonValue *rec, const char *id,
				  const HubspotDeal *found)
{
	const JsonValue *assoc = json_path(rec, "associations.contacts");
	const JsonValue *results = json_member(assoc, "results");

	jgen_array_begin(g, "contact_ids");
	if (found != NULL)
	{
		for (size_t i = 0; i < found->ncontacts; i++)
			jgen_string(g, NULL, found->contacts[i]);
		jgen_array_end(g);
		return;
	}
	for (size_t i = 0; results != NULL && results->type == JSON_ARRAY && i < results->count; i++)
	{
		const char *cid = text_nonempty(json_text(json_member(results->items[i], "id")));
		bool seen = false;

		if (cid == NULL)
			continue;
		for (size_t j = 0; j < i && !seen; j++)
		{
			const char *prev = json_text(json_member(results->items[j], "id"));

			seen = prev != NULL && strcmp(prev, cid) == 0;
		}
		if (!seen)
			jgen_string(g, NULL, cid);
	}
	jgen_array_end(g);
	if (json_path(assoc, "paging.next") != NULL && warn_once(&hs->warned, "associations-paging"))
		log_warn("hubspot: deal %s has more associated contacts than one list page holds; "
				 "only the first page of them is used (docs/vendors/hubspot.md)", id);
}


/*
 * map_deal writes one deal row; found holds the contacts of a searched
 * deal (NULL: the record's own associations). Every check runs before the
 * row is begun, so a refused deal writes nothing.
 */
static bool
map_deal(Hubspot *hs, SourceRun *run, const JsonValue *rec, const RecordRef *ref,
		 const HubspotDeal *found, ClError *err)
{
	StagingWriter *w = source_run_writer(run, "deal");
	const char *amount = prop(rec, "amount");
	const char *currency = prop(rec, "deal_currency_code");
	const char *closedate = prop(rec, "closedate");
	const char *stage = prop(rec, "dealstage");
	const char *pipeline = prop(rec, "pipeline");
	ClTime created;
	ClTime updated;
	ClTime closed = 0;
	int64_t minor = 0;
	bool is_closed;
	bool is_won;
	JsonGen *g;

	if (w == NULL)
	{
		*err = CL_ERR_INTERNAL;
		return false;
	}
	if (!object_time(ref, rec, "createdate", "createdAt", &created, err) ||
		!object_time(ref, rec, "hs_lastmodifieddate", "updatedAt", &updated, err) ||
		!deleted_time(ref, rec, &updated, err))
	{
		/* errors have already been logged */
		return false;
	}
	if (closedate != NULL && !record_time(ref, "closedate", closedate, &closed, err))
	{
		/* errors have already been logged */
		return false;
	}
	if (currency == NULL)
		currency = hs->currency;
	else if (!currency_valid(currency))
	{
		record_error(ref, "deal_currency_code", "\"%.16s\" is not an ISO 4217 code", currency);
		*err = CL_ERR_DATA;
		return false;
	}
	if (amount != NULL && !money_parse_rounded(amount, currency, &minor))
	{
		record_error(ref, "amount", "\"%.64s\" is not an amount in %s", amount, currency);
		*err = CL_ERR_DATA;
		return false;
	}
	deal_outcome(hs, pipeline, stage, &is_closed, &is_won);

	g = staging_row_begin(w, run->today);
	jgen_string(g, "deal_id", ref->id);
	jgen_string(g, "source_system", "hubspot");
	row_string(g, "name", prop(rec, "dealname"));
	if (amount != NULL)
		jgen_int(g, "amount_minor", minor);
	jgen_string(g, "currency", currency);
	row_string(g, "stage", stage);
	row_string(g, "pipeline", pipeline);
	jgen_bool(g, "is_closed", is_closed);
	jgen_bool(g, "is_won", is_won);
	jgen_time(g, "created_at", created);
	if (closedate != NULL)
		jgen_time(g, "closed_at", closed);
	jgen_time(g, "updated_at", updated);
	write_contact_ids(hs, g, rec, ref->id, found);
	if (hs->product_group != NULL)
		row_string(g, "product_group", prop(rec, hs->product_group));
	jgen_bool(g, "is_deleted", archived_flag(rec));
	if (!staging_row_end(w))
	{
		*err = CL_ERR_OUTPUT;
		return false;
	}
	if (is_won && closedate == NULL && warn_once(&hs->warned, "won-without-closedate"))
		log_warn("hubspot: won deal %s has no closedate; it cannot be dated for attribution "
				 "(further deals like it are not logged)", ref->id);
	return true;
}


/*
 * copy_json_value: an ALLOCATED deep copy of v (caller frees with
 * json_free()), NULL when out of memory.
 */
static JsonValue *
copy_json_value(const JsonValue *v)
{
	JsonValue *c = calloc(1, sizeof(JsonValue));

	if (c == NULL)
		return NULL;
	c->type = v->type;
	c->boolean = v->boolean;
	c->len = v->len;
	if (v->text != NULL)
	{
		/* strings may hold NUL: copy len bytes and the terminator */
		c->text = malloc(v->len + 1);
		if (c->text == NULL)
			goto fail;
		memcpy(c->text, v->text, v->len + 1);
	}
	if (v->count > 0)
	{
		c->items = calloc(v->count, sizeof(JsonValue *));
		if (c->items == NULL)
			goto fail;
		if (v->keys != NULL)
		{
			c->keys = calloc(v->count, sizeof(char *));
			if (c->keys == NULL)
				goto fail;
		}
		c->capacity = v->count;
		for (size_t i = 0; i < v->count; i++)
		{
			/* count follows the copied items, so json_free sees only those */
			c->count = i + 1;
			c->items[i] = copy_json_value(v->items[i]);
			if (c->items[i] == NULL)
				goto fail;
			if (c->keys != NULL && (c->keys[i] = strdup(v->keys[i])) == NULL)
				goto fail;
		}
	}
	return c;

fail:
	json_free(c);
	return NULL;
}


/*
 * keep_deal keeps a searched deal until its associations are read. The
 * search returns ids in ascending order, so a new deal is appended; an id
 * at or below the last one is a retried page's record, which replaces its
 * earlier copy.
 */
static bool
keep_deal(Hubspot *hs, const JsonValue *rec, const RecordRef *ref, ClError *err)
{
	HubspotDeal *d = NULL;
	char *end = NULL;
	long long id = strtoll(ref->id, &end, 10);
	JsonValue *copy;

	if (end == ref->id || *end != '\0' || id <= 0)
	{
		record_error(ref, "id", "\"%.40s\" is not a HubSpot object id", ref->id);
		*err = CL_ERR_DATA;
		return false;
	}
	if (id > hs->deals_q.max_id)
		hs->deals_q.max_id = id;
	for (size_t i = hs->ndeals; i > hs->deals_written && d == NULL; i--)
	{
		if (hs->deals[i - 1].id == id)
			d = &hs->deals[i - 1];
		else if (hs->deals[i - 1].id < id)
			break;
	}
	copy = copy_json_value(rec);
	if (copy == NULL)
		goto oom;
	if (d == NULL)
	{
		if (hs->ndeals == hs->deal_cap)
		{
			size_t cap = hs->deal_cap == 0 ? 64 : hs->deal_cap * 2;
			HubspotDeal *grown = realloc(hs->deals, cap * sizeof(HubspotDeal));

			if (grown == NULL)
			{
				json_free(copy);
				goto oom;
			}
			hs->deals = grown;
			hs->deal_cap = cap;
		}
		d = &hs->deals[hs->ndeals++];
		memset(d, 0, sizeof(*d));
		d->id = id;
	}
	json_free(d->rec);
	d->rec = copy;
	return true;

oom:
	log_error("hubspot: out of memory keeping the changed deals");
	*err = CL_ERR_INTERNAL;
	return false;
}


/*
 * map_associations records the contacts of one deal of the batch read,
 * {"from":{"id"},"to":[{"toObjectId"},...]}, replacing what an earlier
 * attempt recorded. Each contact is kept once (one entry per label is
 * possible); a deal that is not in the batch is ignored.
 */
static bool
map_associations(Hubspot *hs, const JsonValue *rec, ClError *err)
{
	RecordRef ref = { "hubspot", "deal associations", "?" };
	const char *from = text_nonempty(json_text(json_path(rec, "from.id")));
	const JsonValue *to = json_member(rec, "to");
	HubspotDeal *d = NULL;
	char *end = NULL;
	long long id;

	if (from == NULL)
	{
		record_error(&ref, "from.id", "missing");
		*err = CL_ERR_DATA;
		return false;
	}
	ref.id = from;
	id = strtoll(from, &end, 10);
	for (size_t i = hs->assoc_lo; i < hs->assoc_hi && end != from && *end == '\0'; i++)
	{
		if (hs->deals[i].id == id)
			d = &hs->deals[i];
	}
	if (d == NULL)
	{
		if (warn_once(&hs->warned, "associations-unknown-deal"))
			log_notice("hubspot: the associations batch read answered for deal %s, which it "
					   "was not asked for; ignored", from);
		return true;
	}
	if (to != NULL && to->type != JSON_ARRAY)
	{
		record_error(&ref, "to", "not an array");
		*err = CL_ERR_DATA;
		return false;
	}
	for (size_t i = 0; i < d->ncontacts; i++)
		free(d->contacts[i]);
	free(d->contacts);
	d->contacts = NULL;
	d->ncontacts = 0;
	if (to == NULL || to->count == 0)
		return true;
	d->contacts = calloc(to->count, sizeof(char *));
	if (d->contacts == NULL)
		goto oom;
	for (size_t i = 0; i < to->count; i++)
	{
		const char *cid = text_nonempty(json_text(json_member(to->items[i], "toObjectId")));
		bool seen = false;

		if (cid == NULL)
		{
			record_error(&ref, "to[].toObjectId", "missing");
			*err = CL_ERR_DATA;
			return false;
		}
		for (size_t j = 0; j < d->ncontacts && !seen; j++)
			seen = strcmp(d->contacts[j], cid) == 0;
		if (seen)
			continue;
		d->contacts[d->ncontacts] = strdup(cid);
		if (d->contacts[d->ncontacts] == NULL)
			goto oom;
		d->ncontacts++;
	}
	if (json_path(rec, "paging.next") != NULL && warn_once(&hs->warned, "associations-paging"))
		log_warn("hubspot: deal %s has more associated contacts than one batch answer holds; "
				 "only the first page of them is used (docs/vendors/hubspot.md)", from);
	return true;

oom:
	log_error("hubspot: out of memory keeping deal associations");
	*err = CL_ERR_INTERNAL;
	return false;
}


/*
 * write_searched_deals writes the rows of the searched deals whose
 * associations batch is complete (deals[deals_written, assoc_hi)) and
 * frees their copies. A deal the batch answer did not name has no
 * associated contacts (the batch read leaves such ids out of results).
 */
static bool
write_searched_deals(Hubspot *hs, SourceRun *run, ClError *err)
{
	for (; hs->deals_written < hs->assoc_hi; hs->deals_written++)
	{
		HubspotDeal *d = &hs->deals[hs->deals_written];
		RecordRef ref = { "hubspot", "deals", NULL };
		bool ok;

		ref.id = text_nonempty(json_text(json_member(d->rec, "id")));
		ok = map_deal(hs, run, d->rec, &ref, d, err);
		deal_forget(d);
		if (!ok)
		{
			/* errors have already been logged */
			return false;
		}
	}
	return true;
}


/*
 * hubspot_map_record checks what every HubSpot object has (an id) and
 * hands the record to the mapper of its stream.
 */
static bool
hubspot_map_record(void *state, SourceRun *run, const SourceStream *stream,
				   const JsonValue *record, ClError *err)
{
	Hubspot *hs = state;
	RecordRef ref = { "hubspot", stream->name, NULL };

	/* an associations answer is keyed by from.id, a submission by time */
	if (stream->kind == HUBSPOT_DEAL_ASSOCIATIONS)
		return map_associations(hs, record, err);
	if (stream->kind == HUBSPOT_FORM_SUBMISSIONS)
		return map_form_submission(hs, run, record, err);
	ref.id = text_nonempty(json_text(json_member(record, "id")));
	if (record->type != JSON_OBJECT || ref.id == NULL)
	{
		record_error(&ref, "id", "a record without an id (or not an object)");
		*err = CL_ERR_DATA;
		return false;
	}
	switch (stream->kind)
	{
		case HUBSPOT_PIPELINES:
			return map_pipeline(hs, record, &ref, err);
		case HUBSPOT_CONTACTS:
			if (hs->search)
			{
				char *end = NULL;
				long long id = strtoll(ref.id, &end, 10);

				/* the next id segment starts above the highest id read */
				if (end != ref.id && *end == '\0' && id > hs->contacts.max_id)
					hs->contacts.max_id = id;
			}
			return map_contact(hs, run, record, &ref, err);
		case HUBSPOT_DEALS:
			if (hs->deal_search)
				return keep_deal(hs, record, &ref, err);
			return map_deal(hs, run, record, &ref, NULL, err);
		case HUBSPOT_ARCHIVED_CONTACTS:
		case HUBSPOT_ARCHIVED_DEALS:
		{
			bool inside = true;

			if (!in_deleted_window(hs, &ref, record, &inside, err))
				return false;
			if (!inside)
				return true;
			if (!archived_flag(record))
			{
				record_error(&ref, "archived", "the list of archived objects returned one that "
							 "is not archived");
				*err = CL_ERR_DATA;
				return false;
			}
			return stream->kind == HUBSPOT_ARCHIVED_CONTACTS
				? map_contact(hs, run, record, &ref, err)
				: map_deal(hs, run, record, &ref, NULL, err);
		}
	}
	log_error("BUG: hubspot has no stream %d", stream->kind);
	*err = CL_ERR_INTERNAL;
	return false;
}


/*
 * hubspot_classify: an expired OAuth token is refreshed; the daily limit
 * is not worth retrying within this run (it resets at the portal's
 * midnight), the per-second limit is.
 */
static HttpVerdict
hubspot_classify(void *state, const HttpResponse *resp, int64_t *delay_ms)
{
	Hubspot *hs = state;
	HttpVerdict verdict = HTTP_VERDICT_DEFAULT;
	JsonValue *body = NULL;

	(void) delay_ms;
	if (hs != NULL)
		hs->last_404 = resp->status == 404;
	if (resp->status == 401 && hs != NULL && hs->oauth)
		return HTTP_VERDICT_REAUTH;
	if (resp->status != 429 || resp->error_body == NULL)
		return HTTP_VERDICT_DEFAULT;
	body = json_parse(resp->error_body, resp->error_body_len, NULL, 0);
	if (json_string(json_member(body, "policyName")) != NULL &&
		strcmp(json_string(json_member(body, "policyName")), "DAILY") == 0)
		verdict = HTTP_VERDICT_FAIL;
	json_free(body);
	return verdict;
}


/*
 * hubspot_explain turns HubSpot's error body ({"status":"error","message",
 * "category" or "errorType","policyName","correlationId"}) into one line.
 * The daily limit is a temporary failure of the whole run: the scheduler
 * should try again after the limit resets.
 */
static ClError
hubspot_explain(const HttpResponse *resp, char *msg, size_t msgsize)
{
	JsonValue *body = NULL;
	const char *message;
	const char *category;
	const char *policy;
	const char *correlation;
	TextBuf b;
	ClError cls = CL_OK;

	if (resp->error_body != NULL)
		body = json_parse(resp->error_body, resp->error_body_len, NULL, 0);
	message = json_string(json_member(body, "message"));
	category = json_string(json_member(body, "errorType"));
	if (category == NULL)
		category = json_string(json_member(body, "category"));
	policy = json_string(json_member(body, "policyName"));
	correlation = json_string(json_member(body, "correlationId"));

	tb_init(&b, TEXTBUF_DEFAULT_MAX);
	tb_printf(&b, "HubSpot answered HTTP %ld: %s", resp->status,
			  message != NULL ? message : "(no message)");
	if (category != NULL)
		tb_printf(&b, " (%s)", category);
	if (policy != NULL)
		tb_printf(&b, " policy %s", policy);
	if (correlation != NULL)
		tb_printf(&b, " correlationId %s", correlation);
	if (resp->status == 429 && policy != NULL && strcmp(policy, "DAILY") == 0)
	{
		cls = CL_ERR_TEMPORARY;
		tb_append(&b, "; the portal's daily API limit is used up: run again after "
				  "midnight in the portal's time zone");
	}
	(void) snprintf(msg, msgsize, "%s", tb_text(&b));
	tb_free(&b);
	json_free(body);
	return cls;
}


/*
 * hubspot_after_commit saves the contacts and deals watermarks (the run's
 * frozen upper bound) once the staging files are committed, so that the
 * next run's searches start where this run's window ended.
 */
static bool
hubspot_after_commit(void *state, SourceRun *run, ClError *err)
{
	Hubspot *hs = state;

	if (!hs->incremental)
		return true;
	return state_write_watermark(hs->state_dir, "hubspot", "contacts", hs->contacts.hi,
								 run->run_id, err) &&
		state_write_watermark(hs->state_dir, "hubspot", "deals", hs->deals_q.hi,
							  run->run_id, err);
}


/* hubspot_check_envelope counts the contact profiles read, which tells a
 * deleted contact from a profile endpoint that does not work at all. */
static bool
hubspot_check_envelope(void *state, const SourceStream *stream, const JsonValue *envelope,
					   ClError *err)
{
	Hubspot *hs = state;

	(void) envelope;
	(void) err;
	if (stream->kind == HUBSPOT_FORM_SUBMISSIONS)
		hs->profiles_read++;
	return true;
}

/*
 * hubspot_replace_stream: a contact deleted between the contact list and
 * its profile request answers HTTP 404. That is part of the CRM's normal
 * life, not a reason to fail the night's run, so the contact's form
 * submissions are left out (the next run no longer lists it). Only after
 * another profile has been read in this run, though: a 404 on every
 * profile means a wrong base_url or API, which must fail.
 */
static bool
hubspot_replace_stream(void *state, const SourceStream *stream, ClError err)
{
	Hubspot *hs = state;

	(void) err;
	if (stream->kind != HUBSPOT_FORM_SUBMISSIONS || !hs->last_404)
		return false;
	hs->last_404 = false;
	if (hs->profiles_read == 0)
	{
		log_error("hubspot %s: HTTP 404 on the first contact profile of the run; check "
				  "[crm.hubspot] base_url, or set form_submissions = false", stream->label);
		return false;
	}
	log_warn("hubspot %s: HTTP 404, the contact was deleted after the contact list was read; "
			 "its form submissions are left out of this run", stream->label);
	hs->profiles_gone++;
	return true;
}


const SourceVendor vendor_hubspot = {
	.name = "hubspot",
	.family = SOURCE_FAMILY_CRM,
	.section = "crm.hubspot",
	.entities = hubspot_entities,
	.open = hubspot_open,
	.close = hubspot_close,
	.authenticate = hubspot_authenticate,
	.next_stream = hubspot_next_stream,
	.build_request = hubspot_build_request,
	.map_record = hubspot_map_record,
	.check_envelope = hubspot_check_envelope,
	.classify = hubspot_classify,
	.explain_error = hubspot_explain,
	.replace_stream = hubspot_replace_stream,
	.after_commit = hubspot_after_commit,
};
