/*
 * vendor_salesforce.c: Salesforce REST API (family crm),
 * docs/vendors/salesforce.md.
 *
 * Every object is read with GET /services/data/<version>/queryAll?q=<SOQL>
 * (queryAll, unlike query, returns deleted rows: IsDeleted becomes
 * is_deleted) and paged through nextRecordsUrl. Streams, in order:
 *
 *   Campaign               always in full (few rows): name, type and UTM
 *                          fields for the member touches (memory, no rows)
 *   Lead                   a lead per lead; converted leads carry their
 *                          contact and opportunity
 *   Contact                a lead per contact (crm_contact_id = its id)
 *   OpportunityContactRole roles changed in the window (no rows): their
 *                          opportunities that the Opportunity query does
 *                          not return are read again by id afterwards, so
 *                          that a changed role is never missed
 *   Opportunity            a deal, with its contact roles (a subquery) as
 *                          the deal's contacts
 *   CampaignMember         a touch per member that responded, at
 *                          FirstRespondedDate
 *
 * Incremental: each object's query covers [watermark, run start) on
 * SystemModstamp; the upper bound is frozen when the run starts and becomes
 * the object's watermark once the staging files are committed (state.h).
 * Consecutive runs therefore read adjoining windows. --from/--to reads the
 * given days and leaves the watermarks alone; --full-refresh reads
 * everything up to the run start and then sets them.
 *
 * Auth: the OAuth refresh-token grant at {base_url}/services/oauth2/token;
 * every API call goes to the instance_url of the token response. A rotated
 * refresh token is saved in the state directory and used from then on.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "money.h"
#include "oauth.h"
#include "record.h"
#include "registry.h"
#include "source.h"
#include "state.h"

/* What a stream does. */
typedef enum SfKind
{
	SF_CAMPAIGN,
	SF_LEAD,
	SF_CONTACT,
	SF_CONTACT_ROLE,
	SF_OPPORTUNITY,
	SF_CAMPAIGN_MEMBER,
	SF_OPPORTUNITY_BY_ID,       /* opportunities whose roles changed */
	SF_NKINDS
} SfKind;

/* Opportunities re-read by id go this many to a query (the SOQL text stays
 * far below the 100,000-character limit of a query). */
#define SF_IDS_PER_QUERY 100

/* A window cannot be halved below this (QUERY_TIMEOUT on one second of
 * changes is not a window problem). */
#define SF_MIN_WINDOW_USEC (2 * CL_USEC_PER_SEC)

/* A window without a lower bound is halved from here: no Salesforce org
 * has records older than the company. */
#define SF_EPOCH_YEAR 1999


/* One query to run: an object over a window, or opportunities by id. */
typedef struct SfTask
{
	SfKind kind;
	bool has_lo;
	ClTime lo;                  /* inclusive; whole seconds */
	ClTime hi;                  /* exclusive; whole seconds; 0: none */
	size_t id_from;             /* SF_OPPORTUNITY_BY_ID: range of refetch ids */
	size_t id_to;
} SfTask;

/* A campaign as the member touches need it. */
typedef struct SfCampaign
{
	char *id;                   /* owned */
	char *name;                 /* owned or NULL */
	char *type;                 /* owned or NULL */
	char *source;               /* owned or NULL: the UTM source field */
	char *medium;               /* owned or NULL: the UTM medium field */
	char *utm_campaign;         /* owned or NULL */
} SfCampaign;

/*
 * The opportunities whose contact roles changed in the window. Ids are
 * appended while the role query runs (a retried page appends them again),
 * then sorted and made unique once ("sealed") before the Opportunity query,
 * which marks the ones it returns; the rest are read again by id. Its size
 * follows the role changes of the window, not the number of opportunities.
 */
typedef struct SfRoleChanges
{
	char **ids;                 /* owned strings */
	bool *read;                 /* owned: sealed only, the query returned it */
	size_t count;
	size_t cap;
	bool sealed;
} SfRoleChanges;

typedef struct Salesforce
{
	char *login_url;            /* owned, without trailing slash */
	char *token_url;            /* owned */
	char *instance_url;         /* owned: from the token response */
	char *state_dir;            /* owned */
	char *stored_refresh;       /* owned or NULL: a rotated refresh token */
	const char *api_version;    /* borrowed from the configuration */
	const char *currency;       /* the org's currency when not multi-currency */
	const char *product_group;  /* field name or NULL */
	const char *utm_source;     /* Campaign field names, or NULL */
	const char *utm_medium;
	const char *utm_campaign;
	bool multi_currency;
	int64_t batch_size;
	int64_t quota_percent;
	bool enabled[SF_NKINDS];
	OAuthGrant grant;
	OAuthToken access;

	bool incremental;           /* watermarks are read and written */
	ClTime upper;               /* the frozen upper bound of this run */

	SfTask **tasks;             /* owned: the queue; tasks[pos] is next */
	size_t ntasks;
	size_t task_cap;
	size_t pos;
	bool refetch_scheduled;
	bool campaigns_sorted;      /* by id, for bsearch; once Campaign is read */

	SfCampaign *campaigns;      /* owned */
	size_t ncampaigns;
	size_t campaign_cap;
	SfRoleChanges roles;        /* after scheduling: the ids to re-read */

	bool query_timeout;         /* the last failure was QUERY_TIMEOUT */
	int64_t api_used;           /* last Sforce-Limit-Info, -1: none yet */
	int64_t api_max;
	WarnOnce warned;            /* values already warned about */
} Salesforce;

/* The SOQL object name, the stream name and the staging entities. */
static const struct
{
	const char *object;
	const char *entities;
	const char *fields;
} sf_objects[SF_NKINDS] = {
	[SF_CAMPAIGN] = { "Campaign", "-", "Id,Name,Type,IsDeleted,SystemModstamp" },
	[SF_LEAD] = { "Lead", "lead",
				  "Id,Email,Status,OwnerId,LeadSource,CreatedDate,SystemModstamp,IsDeleted,"
				  "IsConverted,ConvertedDate,ConvertedContactId,ConvertedOpportunityId" },
	[SF_CONTACT] = { "Contact", "lead",
					 "Id,Email,OwnerId,LeadSource,CreatedDate,SystemModstamp,IsDeleted" },
	[SF_OPPORTUNITY] = { "Opportunity", "deal",
						 "Id,Name,Amount,StageName,IsClosed,IsWon,CloseDate,CreatedDate,"
						 "SystemModstamp,IsDeleted" },
	[SF_CONTACT_ROLE] = { "OpportunityContactRole", "-",
						  "Id,OpportunityId,ContactId,IsDeleted,SystemModstamp" },
	[SF_CAMPAIGN_MEMBER] = { "CampaignMember", "touch",
							 "Id,CampaignId,LeadId,ContactId,Email,Status,HasResponded,"
							 "FirstRespondedDate,IsDeleted,SystemModstamp" },
	[SF_OPPORTUNITY_BY_ID] = { "Opportunity", "deal", NULL },
};

/* The subquery that brings an opportunity's contact roles along. */
static const char sf_roles_subquery[] =
	"(SELECT ContactId,IsDeleted FROM OpportunityContactRoles)";

/*
 * How a campaign's Type becomes the medium of its member touches when the
 * campaign has no UTM medium field; documented in docs/vendors/salesforce.md.
 * Salesforce's default picklist values; others are lower-cased with '_' for
 * spaces.
 */
static const struct
{
	const char *type;
	const char *medium;
} sf_type_media[] = {
	{ "Email", "email" },
	{ "Advertisement", "display" },
	{ "Banner Ads", "display" },
	{ "Webinar", "webinar" },
	{ "Conference", "event" },
	{ "Trade Show", "event" },
	{ "Seminar / Conference", "event" },
	{ "Direct Mail", "direct_mail" },
	{ "Telemarketing", "telemarketing" },
	{ "Public Relations", "pr" },
	{ "Partners", "partner" },
	{ "Referral Program", "referral" },
	{ "Other", "other" },
};

static const char *const salesforce_entities[] = { "lead", "touch", "deal", NULL };

static const char *const salesforce_headers[] = { "Sforce-Limit-Info", NULL };



static void
roles_free(SfRoleChanges *rc)
{
	for (size_t i = 0; i < rc->count; i++)
		free(rc->ids[i]);
	free(rc->ids);
	free(rc->read);
	memset(rc, 0, sizeof(*rc));
}


/* roles_add appends id (duplicates are removed by roles_seal). */
static bool
roles_add(SfRoleChanges *rc, const char *id)
{
	char *copy;

	if (rc->count == rc->cap)
	{
		size_t cap = rc->cap == 0 ? 64 : rc->cap * 2;
		char **grown = realloc(rc->ids, cap * sizeof(char *));

		if (grown == NULL)
			return false;
		rc->ids = grown;
		rc->cap = cap;
	}
	copy = strdup(id);
	if (copy == NULL)
		return false;
	rc->ids[rc->count++] = copy;
	return true;
}


static int
compare_ids(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}


static int
compare_campaigns(const void *a, const void *b)
{
	return strcmp(((const SfCampaign *) a)->id, ((const SfCampaign *) b)->id);
}


/* roles_seal sorts the ids, drops duplicates and clears the read marks. */
static bool
roles_seal(SfRoleChanges *rc)
{
	size_t kept = 0;

	if (rc->sealed)
		return true;
	if (rc->count > 0)
		qsort(rc->ids, rc->count, sizeof(char *), compare_ids);
	for (size_t i = 0; i < rc->count; i++)
	{
		if (kept > 0 && strcmp(rc->ids[kept - 1], rc->ids[i]) == 0)
			free(rc->ids[i]);
		else
			rc->ids[kept++] = rc->ids[i];
	}
	rc->count = kept;
	rc->read = calloc(kept > 0 ? kept : 1, sizeof(bool));
	if (rc->read == NULL)
		return false;
	rc->sealed = true;
	return true;
}


/* roles_mark notes that the Opportunity query returned id. */
static void
roles_mark(SfRoleChanges *rc, const char *id)
{
	char **hit;

	if (!rc->sealed || rc->count == 0)
		return;
	hit = bsearch(&id, rc->ids, rc->count, sizeof(char *), compare_ids);
	if (hit != NULL)
		rc->read[hit - rc->ids] = true;
}


/*
 * salesforce_id: Salesforce record ids are 15 or 18 letters and digits;
 * they go into SOQL literals, so nothing else is accepted.
 */
static bool
salesforce_id(const char *s)
{
	size_t n = strlen(s);

	return (n == 15 || n == 18) && strspn(s, "abcdefghijklmnopqrstuvwxyz"
										  "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") == n;
}


static void
campaign_clear(SfCampaign *c)
{
	free(c->id);
	free(c->name);
	free(c->type);
	free(c->source);
	free(c->medium);
	free(c->utm_campaign);
	memset(c, 0, sizeof(*c));
}


/*
 * salesforce_close frees the state, partial or complete (NULL-safe).
 */
static void
salesforce_close(void *state)
{
	Salesforce *sf = state;

	if (sf == NULL)
		return;
	for (size_t i = 0; i < sf->ntasks; i++)
		free(sf->tasks[i]);
	free(sf->tasks);
	for (size_t i = 0; i < sf->ncampaigns; i++)
		campaign_clear(&sf->campaigns[i]);
	free(sf->campaigns);
	roles_free(&sf->roles);
	warn_once_free(&sf->warned);
	oauth_token_reset(&sf->access);
	free(sf->stored_refresh);
	free(sf->instance_url);
	free(sf->state_dir);
	free(sf->token_url);
	free(sf->login_url);
	free(sf);
}


/*
 * task_insert puts a copy of t at position at of the queue.
 */
static bool
task_insert(Salesforce *sf, size_t at, const SfTask *t)
{
	SfTask *copy = malloc(sizeof(SfTask));

	if (copy == NULL)
		return false;
	*copy = *t;
	if (sf->ntasks == sf->task_cap)
	{
		size_t cap = sf->task_cap == 0 ? 16 : sf->task_cap * 2;
		SfTask **grown = realloc(sf->tasks, cap * sizeof(SfTask *));

		if (grown == NULL)
		{
			free(copy);
			return false;
		}
		sf->tasks = grown;
		sf->task_cap = cap;
	}
	memmove(&sf->tasks[at + 1], &sf->tasks[at], (sf->ntasks - at) * sizeof(SfTask *));
	sf->tasks[at] = copy;
	sf->ntasks++;
	return true;
}


/*
 * valid_field_name: Salesforce API names are letters, digits and
 * underscores (custom ones end in __c); anything else would break SOQL.
 */
static bool
valid_field_name(const char *s)
{
	if (s == NULL || *s == '\0')
		return false;
	for (; *s != '\0'; s++)
	{
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
			  (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	}
	return true;
}


/* floor_second drops the fraction: SOQL datetime literals are whole
 * seconds. */
static ClTime
floor_second(ClTime t)
{
	ClTime r = t % CL_USEC_PER_SEC;

	return r < 0 ? t - r - CL_USEC_PER_SEC : t - r;
}


/*
 * read_objects applies [crm.salesforce] objects: which queries run. A name
 * that is not one of the six is a configuration error.
 */
static bool
read_objects(Salesforce *sf, SourceRun *run, ClError *err)
{
	const char *list = config_get(run->cfg, run->vendor->section, "objects");
	const char *p = list != NULL ? list : "";

	while (*p != '\0')
	{
		const char *end = strchr(p, ',');
		size_t len = end != NULL ? (size_t) (end - p) : strlen(p);
		bool known = false;

		while (len > 0 && (*p == ' ' || *p == '\t'))
		{
			p++;
			len--;
		}
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		for (int k = 0; k < SF_OPPORTUNITY_BY_ID && len > 0; k++)
		{
			if (strlen(sf_objects[k].object) == len &&
				strncmp(sf_objects[k].object, p, len) == 0)
			{
				sf->enabled[k] = true;
				known = true;
			}
		}
		if (len > 0 && !known)
		{
			log_error("salesforce: [crm.salesforce] objects: \"%.*s\" is not one of Campaign, "
					  "Lead, Contact, Opportunity, OpportunityContactRole, CampaignMember",
					  (int) len, p);
			*err = CL_ERR_CONFIG;
			return false;
		}
		if (end == NULL)
			break;
		p = end + 1;
	}
	if (sf->enabled[SF_CAMPAIGN_MEMBER] && !sf->enabled[SF_CAMPAIGN])
	{
		log_error("salesforce: [crm.salesforce] objects: CampaignMember needs Campaign (the "
				  "touches take their source and medium from the campaign)");
		*err = CL_ERR_CONFIG;
		return false;
	}
	if (sf->enabled[SF_CONTACT_ROLE] && !sf->enabled[SF_OPPORTUNITY])
	{
		log_error("salesforce: [crm.salesforce] objects: OpportunityContactRole needs "
				  "Opportunity (a changed role re-reads its opportunity)");
		*err = CL_ERR_CONFIG;
		return false;
	}
	return true;
}


/*
 * task_window sets the window of object k's query: --from/--to days; else
 * --full-refresh (no lower bound); else from the object's watermark, or
 * from start_date on a first run. The upper bound is the frozen run start.
 */
static bool
task_window(Salesforce *sf, SourceRun *run, SfKind k, SfTask *t, ClError *err)
{
	const CliOptions *cli = run->cli;
	const char *start = config_get(run->cfg, run->vendor->section, "start_date");
	ClDate start_date = 0;
	bool found = false;
	ClTime wm = 0;

	memset(t, 0, sizeof(*t));
	t->kind = k;
	t->hi = sf->upper;
	if (k == SF_CAMPAIGN)
		return true;    /* always whole: members of any window may point to any campaign */
	if (cli != NULL && (cli->has_from || cli->has_to))
	{
		if (cli->has_from)
		{
			t->has_lo = true;
			t->lo = date_start_utc(cli->from);
		}
		if (cli->has_to && date_start_utc(cli->to + 1) < t->hi)
			t->hi = date_start_utc(cli->to + 1);
		return true;
	}
	if (cli != NULL && cli->full_refresh)
		return true;
	if (!state_read_watermark(sf->state_dir, "salesforce", sf_objects[k].object,
							  &found, &wm, err))
	{
		/* errors have already been logged */
		return false;
	}
	if (start == NULL || start[0] == '\0')
		start = config_get(run->cfg, "pipeline", "start_date");
	if (found)
	{
		t->has_lo = true;
		t->lo = floor_second(wm);
	}
	else if (start != NULL && start[0] != '\0' && date_parse(start, &start_date))
	{
		t->has_lo = true;
		t->lo = date_start_utc(start_date);
	}
	return true;
}


/*
 * plan_tasks queues one query per enabled object (task_window), in the
 * order of SfKind.
 */
static bool
plan_tasks(Salesforce *sf, SourceRun *run, ClError *err)
{
	const CliOptions *cli = run->cli;
	bool backfill = cli != NULL && (cli->has_from || cli->has_to);

	if (backfill && cli->full_refresh)
	{
		log_error("salesforce: --full-refresh reads everything; it cannot be combined with "
				  "--from/--to");
		*err = CL_ERR_USAGE;
		return false;
	}
	sf->upper = floor_second(run->started_at);
	sf->incremental = !backfill && !(cli != NULL && cli->dry_run);
	for (int k = 0; k < SF_OPPORTUNITY_BY_ID; k++)
	{
		SfTask t;

		if (!sf->enabled[k])
			continue;
		if (!task_window(sf, run, (SfKind) k, &t, err))
		{
			/* errors have already been logged */
			return false;
		}
		/* Without a lower bound on the Opportunity query every opportunity
		 * is read with its current roles: reading role changes would only
		 * cost requests. */
		if (k == SF_CONTACT_ROLE)
		{
			SfTask opp;

			if (!task_window(sf, run, SF_OPPORTUNITY, &opp, err))
			{
				/* errors have already been logged */
				return false;
			}
			if (!opp.has_lo)
				continue;
		}
		if (t.has_lo && t.lo >= t.hi)
		{
			char a[CL_TIME_BUFSIZE];

			log_notice("salesforce %s: nothing to read, the window starts at %s, not before "
					   "the run", sf_objects[k].object, time_format_rfc3339(t.lo, a));
			continue;
		}
		if (!task_insert(sf, sf->ntasks, &t))
		{
			log_error("salesforce: out of memory");
			*err = CL_ERR_INTERNAL;
			return false;
		}
	}
	return true;
}


/*
 * salesforce_open reads [crm.salesforce], finds a saved rotated refresh
 * token and plans the queries.
 */
static bool
salesforce_open(SourceRun *run, void **state, ClError *err)
{
	Salesforce *sf = calloc(1, sizeof(Salesforce));
	const char *client_id = NULL;
	const char *client_secret = NULL;
	const char *refresh_token = NULL;
	size_t n;
	ClDate from;
	ClDate to;

	*state = sf;
	if (sf == NULL)
	{
		log_error("salesforce: out of memory");
		*err = CL_ERR_INTERNAL;
		return false;
	}
	warn_once_init(&sf->warned);
	sf->api_used = -1;
	if (!source_config_url(run, "base_url", &sf->login_url, err) ||
		!source_config_required(run, "client_id", "the connected app's consumer key",
								&client_id, err) ||
		!source_config_required(run, "client_secret", "the connected app's consumer secret",
								&client_secret, err) ||
		!source_config_required(run, "refresh_token",
								"the integration user's OAuth refresh token", &refresh_token, err))
	{
		/* errors have already been logged */
		return false;
	}
	sf->api_version = config_get(run->cfg, run->vendor->section, "api_version");
	if (sf->api_version == NULL || sf->api_version[0] != 'v' || sf->api_version[1] < '0' ||
		sf->api_version[1] > '9' || strspn(sf->api_version + 1, "0123456789.") !=
		strlen(sf->api_version + 1))
	{
		log_error("salesforce: [crm.salesforce] api_version = %s is not a version such as v63.0",
				  sf->api_version != NULL ? sf->api_version : "(unset)");
		*err = CL_ERR_CONFIG;
		return false;
	}
	sf->batch_size = config_get_int(run->cfg, run->vendor->section, "page_size");
	sf->quota_percent = config_get_int(run->cfg, run->vendor->section, "quota_percent");
	sf->multi_currency = config_get_bool(run->cfg, run->vendor->section, "multi_currency");
	sf->currency = source_config_text(run, "currency");
	if (sf->currency == NULL)
		sf->currency = config_get(run->cfg, "pipeline", "reporting_currency");
	if (sf->currency == NULL || !currency_valid(sf->currency))
	{
		log_error("salesforce: the org currency %s ([crm.salesforce] currency, else [pipeline] "
				  "reporting_currency) is not an ISO 4217 code",
				  sf->currency != NULL ? sf->currency : "(unset)");
		*err = CL_ERR_CONFIG;
		return false;
	}
	sf->product_group = source_config_text(run, "product_group_field");
	sf->utm_source = source_config_text(run, "campaign_source_field");
	sf->utm_medium = source_config_text(run, "campaign_medium_field");
	sf->utm_campaign = source_config_text(run, "campaign_utm_field");
	{
		const char *names[] = { sf->product_group, sf->utm_source, sf->utm_medium,
								sf->utm_campaign };
		const char *keys[] = { "product_group_field", "campaign_source_field",
							   "campaign_medium_field", "campaign_utm_field" };

		for (int i = 0; i < 4; i++)
		{
			if (names[i] != NULL && !valid_field_name(names[i]))
			{
				log_error("salesforce: [crm.salesforce] %s = %s is not a Salesforce field API "
						  "name (letters, digits, _)", keys[i], names[i]);
				*err = CL_ERR_CONFIG;
				return false;
			}
		}
	}
	if (!read_objects(sf, run, err))
	{
		/* errors have already been logged */
		return false;
	}

	n = strlen(sf->login_url) + sizeof("/services/oauth2/token");
	sf->token_url = malloc(n);
	sf->state_dir = state_dir_path(run->cfg);
	if (sf->token_url == NULL || sf->state_dir == NULL)
	{
		log_error("salesforce: out of memory");
		*err = CL_ERR_INTERNAL;
		return false;
	}
	(void) snprintf(sf->token_url, n, "%s/services/oauth2/token", sf->login_url);
	if (!state_read_text(sf->state_dir, "salesforce", "refresh_token", &sf->stored_refresh, err))
	{
		/* errors have already been logged */
		return false;
	}
	if (sf->stored_refresh != NULL)
	{
		log_register_secret(sf->stored_refresh);
		log_info("salesforce: using the rotated refresh token saved in %s/salesforce",
				 sf->state_dir);
		refresh_token = sf->stored_refresh;
	}
	sf->grant.vendor = "salesforce";
	sf->grant.section = run->vendor->section;
	sf->grant.token_url = sf->token_url;
	sf->grant.client_id = client_id;
	sf->grant.client_secret = client_secret;
	sf->grant.refresh_token = refresh_token;

	if (!plan_tasks(sf, run, err))
	{
		/* errors have already been logged */
		return false;
	}
	/* The manifests' window: the days the queries reach. */
	to = time_utc_date(sf->upper);
	from = to;
	for (size_t i = 0; i < sf->ntasks; i++)
	{
		ClDate d = sf->tasks[i]->has_lo ? time_utc_date(sf->tasks[i]->lo) : to;

		if (d < from)
			from = d;
	}
	return source_run_window(run, from, to, err);
}


/*
 * strip_url copies url without trailing slashes. Returns an ALLOCATED
 * string (caller frees), NULL when out of memory.
 */
static char *
strip_url(const char *url)
{
	size_t len = strlen(url);

	while (len > 0 && url[len - 1] == '/')
		len--;
	return strndup(url, len);
}


/*
 * salesforce_authenticate gets an access token when there is none or the
 * server said it expired (Salesforce names no lifetime), adopts the
 * instance_url, and saves a rotated refresh token before anything else can
 * fail: the old one may already be revoked.
 */
static bool
salesforce_authenticate(void *state, SourceRun *run, bool force, ClError *err)
{
	Salesforce *sf = state;
	const char *inst;

	if (!force && oauth_token_fresh(&sf->access, time_now()))
		return true;
	if (!oauth_refresh(run->http, &sf->grant, &sf->access, err))
	{
		/* errors have already been logged */
		return false;
	}
	if (sf->access.refresh_token != NULL)
	{
		if (!state_write_text(sf->state_dir, "salesforce", "refresh_token",
							  sf->access.refresh_token, err))
		{
			log_error("salesforce: Salesforce rotated the refresh token but it could not be "
					  "saved; put the new token into [crm.salesforce] refresh_token before "
					  "the next run");
			return false;
		}
		free(sf->stored_refresh);
		sf->stored_refresh = strdup(sf->access.refresh_token);
		if (sf->stored_refresh == NULL)
		{
			log_error("salesforce: out of memory");
			*err = CL_ERR_INTERNAL;
			return false;
		}
		sf->grant.refresh_token = sf->stored_refresh;
		log_info("salesforce: the refresh token was rotated; the new one is saved in %s/salesforce",
				 sf->state_dir);
	}
	inst = sf->access.instance_url;
	if (inst == NULL || (strncmp(inst, "https://", 8) != 0 && strncmp(inst, "http://", 7) != 0))
	{
		log_error("salesforce: the token endpoint %s answered without a valid instance_url, "
				  "so there is no API host to call", sf->token_url);
		*err = CL_ERR_DATA;
		return false;
	}
	free(sf->instance_url);
	sf->instance_url = strip_url(inst);
	if (sf->instance_url == NULL)
	{
		log_error("salesforce: out of memory");
		*err = CL_ERR_INTERNAL;
		return false;
	}
	return true;
}


/*
 * schedule_refetch queues the re-reads of opportunities whose contact
 * roles changed but which the Opportunity query did not return, in
 * batches of SF_IDS_PER_QUERY, at the current position of the queue.
 */
static bool
schedule_refetch(Salesforce *sf)
{
	SfRoleChanges *rc = &sf->roles;
	size_t kept = 0;
	size_t at = sf->pos;

	if (!roles_seal(rc))
		return false;
	/* Drop the ones already read: their rows carry the current roles. */
	for (size_t i = 0; i < rc->count; i++)
	{
		if (rc->read[i])
			free(rc->ids[i]);
		else
			rc->ids[kept++] = rc->ids[i];
	}
	rc->count = kept;
	for (size_t i = 0; i < kept; i += SF_IDS_PER_QUERY)
	{
		SfTask t;

		memset(&t, 0, sizeof(t));
		t.kind = SF_OPPORTUNITY_BY_ID;
		t.id_from = i;
		t.id_to = i + SF_IDS_PER_QUERY < kept ? i + SF_IDS_PER_QUERY : kept;
		if (!task_insert(sf, at++, &t))
			return false;
	}
	if (kept > 0)
		log_info("salesforce: %zu opportunities have changed contact roles only; reading them again",
				 kept);
	return true;
}


/*
 * remaining: a task of kind is still queued at or after the position.
 */
static bool
remaining(const Salesforce *sf, SfKind kind)
{
	for (size_t i = sf->pos; i < sf->ntasks; i++)
	{
		if (sf->tasks[i]->kind == kind)
			return true;
	}
	return false;
}


/*
 * salesforce_next_stream hands out the queued tasks in order. The role
 * changes are sealed before the first Opportunity query (which marks what
 * it returns), and the re-reads are queued when no role or Opportunity
 * query (halves included) is left.
 */
static bool
salesforce_next_stream(void *state, SourceRun *run, SourceStream *stream,
					   bool *more, ClError *err)
{
	Salesforce *sf = state;
	const SfTask *t;
	char lo[CL_TIME_BUFSIZE];
	char hi[CL_TIME_BUFSIZE];

	(void) run;
	if (sf->pos < sf->ntasks && sf->tasks[sf->pos]->kind == SF_OPPORTUNITY &&
		!roles_seal(&sf->roles))
	{
		log_error("salesforce: out of memory");
		*err = CL_ERR_INTERNAL;
		return false;
	}
	if (!sf->refetch_scheduled && sf->roles.count > 0 &&
		!remaining(sf, SF_CONTACT_ROLE) && !remaining(sf, SF_OPPORTUNITY))
	{
		sf->refetch_scheduled = true;
		if (!schedule_refetch(sf))
		{
			log_error("salesforce: out of memory");
			*err = CL_ERR_INTERNAL;
			return false;
		}
	}
	if (sf->pos == sf->ntasks)
	{
		*more = false;
		return true;
	}
	t = sf->tasks[sf->pos++];
	if (t->kind != SF_CAMPAIGN && !sf->campaigns_sorted)
	{
		if (sf->ncampaigns > 0)
			qsort(sf->campaigns, sf->ncampaigns, sizeof(SfCampaign), compare_campaigns);
		sf->campaigns_sorted = true;
	}
	*more = true;
	stream->kind = (int) t->kind;
	stream->data = t;
	stream->name = t->kind == SF_OPPORTUNITY_BY_ID ? "Opportunity (roles changed)"
		: sf_objects[t->kind].object;
	stream->entities = sf_objects[t->kind].entities;
	stream->paging = SOURCE_PAGING_CURSOR;
	stream->cursor_path = "nextRecordsUrl";
	stream->record_path = "records[]";
	if (t->kind == SF_OPPORTUNITY_BY_ID)
		(void) snprintf(stream->label, sizeof(stream->label),
						"Opportunity (roles changed, %zu..%zu)", t->id_from + 1, t->id_to);
	else if (t->kind == SF_CAMPAIGN)
		(void) snprintf(stream->label, sizeof(stream->label), "Campaign");
	else
		(void) snprintf(stream->label, sizeof(stream->label), "%s %s .. %s",
						sf_objects[t->kind].object,
						t->has_lo ? time_format_rfc3339(t->lo, lo) : "start",
						time_format_rfc3339(t->hi, hi));
	return true;
}


/*
 * append_fields writes the SELECT list of a task, with the configured
 * extra fields.
 */
static void
append_fields(const Salesforce *sf, SfKind kind, TextBuf *q)
{
	SfKind base = kind == SF_OPPORTUNITY_BY_ID ? SF_OPPORTUNITY : kind;

	tb_append(q, sf_objects[base].fields);
	switch (base)
	{
		case SF_CAMPAIGN:
			if (sf->utm_source != NULL)
				tb_printf(q, ",%s", sf->utm_source);
			if (sf->utm_medium != NULL)
				tb_printf(q, ",%s", sf->utm_medium);
			if (sf->utm_campaign != NULL)
				tb_printf(q, ",%s", sf->utm_campaign);
			break;
		case SF_LEAD:
			if (sf->product_group != NULL)
				tb_printf(q, ",%s", sf->product_group);
			break;
		case SF_OPPORTUNITY:
			if (sf->multi_currency)
				tb_append(q, ",CurrencyIsoCode");
			if (sf->product_group != NULL)
				tb_printf(q, ",%s", sf->product_group);
			tb_printf(q, ",%s", sf_roles_subquery);
			break;
		default:
			break;
	}
}


/*
 * build_soql writes the query of a task. Windows are half-open on
 * SystemModstamp, so adjoining windows neither overlap nor leave a gap.
 */
static void
build_soql(const Salesforce *sf, const SfTask *t, TextBuf *q)
{
	char lo[CL_TIME_BUFSIZE];
	char hi[CL_TIME_BUFSIZE];

	tb_append(q, "SELECT ");
	append_fields(sf, t->kind, q);
	tb_printf(q, " FROM %s", sf_objects[t->kind].object);
	if (t->kind == SF_OPPORTUNITY_BY_ID)
	{
		tb_append(q, " WHERE Id IN (");
		for (size_t i = t->id_from; i < t->id_to; i++)
			tb_printf(q, "%s'%s'", i > t->id_from ? "," : "", sf->roles.ids[i]);
		tb_append(q, ")");
		return;
	}
	if (t->kind == SF_CAMPAIGN)
		return;
	tb_append(q, " WHERE ");
	if (t->has_lo)
		tb_printf(q, "SystemModstamp >= %s AND ", time_format_rfc3339(t->lo, lo));
	tb_printf(q, "SystemModstamp < %s", time_format_rfc3339(t->hi, hi));
}


/*
 * salesforce_build_request: the first page is the queryAll of the task;
 * later pages are the nextRecordsUrl path on the same instance.
 */
static bool
salesforce_build_request(void *state, const SourceStream *stream,
						 const SourcePage *page, SourceRequest *req, ClError *err)
{
	Salesforce *sf = state;
	const SfTask *t = stream->data;
	TextBuf q;

	if (sf->instance_url == NULL || sf->access.access_token == NULL)
	{
		log_error("BUG: salesforce request before authentication");
		*err = CL_ERR_INTERNAL;
		return false;
	}
	tb_append(&req->url, sf->instance_url);
	if (page->cursor != NULL)
	{
		/* A path on the instance; anything else (another host) is refused
		 * rather than sent our token. */
		if (strncmp(page->cursor, "/services/data/", 15) != 0)
		{
			log_error("salesforce %s: nextRecordsUrl \"%.200s\" is not a path under "
					  "/services/data/", stream->label, page->cursor);
			*err = CL_ERR_DATA;
			return false;
		}
		tb_append(&req->url, page->cursor);
	}
	else
	{
		tb_init(&q, TEXTBUF_DEFAULT_MAX);
		build_soql(sf, t, &q);
		tb_printf(&req->url, "/services/data/%s/queryAll?q=", sf->api_version);
		tb_append_query_value(&req->url, tb_text(&q));
		if (!tb_ok(&q))
			req->url.failed = true;
		log_debug("salesforce %s: %s", stream->label, tb_text(&q));
		tb_free(&q);
	}
	if (!source_request_header(req, "Authorization: Bearer %s", sf->access.access_token) ||
		!source_request_header(req, "Accept: application/json") ||
		!source_request_header(req, "Sforce-Query-Options: batchSize=%lld",
							   (long long) sf->batch_size))
	{
		*err = CL_ERR_INTERNAL;
		return false;
	}
	return true;
}


/* field: a record field's text, NULL when absent, null or empty. */
static const char *
field(const JsonValue *rec, const char *name)
{
	return text_nonempty(json_text(json_member(rec, name)));
}


static bool
flag(const JsonValue *rec, const char *name)
{
	bool b = false;

	(void) json_bool(json_member(rec, name), &b);
	return b;
}


/*
 * sf_time parses a Salesforce datetime ("2026-03-04T05:06:07.000+0000":
 * the offset has no colon, which RFC 3339 wants) or a date
 * ("2026-03-04", taken as its midnight UTC).
 */
static bool
sf_time(const RecordRef *ref, const char *name, const char *text, ClTime *out,
		ClError *err)
{
	char buf[64];
	size_t len = strlen(text);
	ClDate d;

	if (len == 10 && date_parse(text, &d))
	{
		*out = date_start_utc(d);
		return true;
	}
	if (len >= 5 && len + 2 < sizeof(buf) && (text[len - 5] == '+' || text[len - 5] == '-') &&
		strspn(text + len - 4, "0123456789") == 4)
	{
		(void) snprintf(buf, sizeof(buf), "%.*s:%s", (int) (len - 2), text, text + len - 2);
		text = buf;
	}
	return record_time(ref, name, text, out, err);
}


/*
 * required_time reads a datetime field that every row of the object has.
 */
static bool
required_time(const RecordRef *ref, const JsonValue *rec, const char *name, ClTime *out,
			  ClError *err)
{
	const char *text = field(rec, name);

	if (text == NULL)
	{
		record_error(ref, name, "missing");
		*err = CL_ERR_DATA;
		return false;
	}
	return sf_time(ref, name, text, out, err);
}


/*
 * campaign_upsert keeps one campaign's touch attributes, replacing an
 * earlier entry of the same id (a retried page maps its records again).
 */
static bool
campaign_upsert(Salesforce *sf, const JsonValue *rec, const char *id)
{
	SfCampaign *c = NULL;
	SfCampaign fresh;
	const char *vals[5];

	memset(&fresh, 0, sizeof(fresh));
	vals[0] = field(rec, "Name");
	vals[1] = field(rec, "Type");
	vals[2] = sf->utm_source != NULL ? field(rec, sf->utm_source) : NULL;
	vals[3] = sf->utm_medium != NULL ? field(rec, sf->utm_medium) : NULL;
	vals[4] = sf->utm_campaign != NULL ? field(rec, sf->utm_campaign) : NULL;
	fresh.id = strdup(id);
	fresh.name = vals[0] != NULL ? strdup(vals[0]) : NULL;
	fresh.type = vals[1] != NULL ? strdup(vals[1]) : NULL;
	fresh.source = vals[2] != NULL ? strdup(vals[2]) : NULL;
	fresh.medium = vals[3] != NULL ? strdup(vals[3]) : NULL;
	fresh.utm_campaign = vals[4] != NULL ? strdup(vals[4]) : NULL;
	if (fresh.id == NULL || (vals[0] != NULL && fresh.name == NULL) ||
		(vals[1] != NULL && fresh.type == NULL) || (vals[2] != NULL && fresh.source == NULL) ||
		(vals[3] != NULL && fresh.medium == NULL) ||
		(vals[4] != NULL && fresh.utm_campaign == NULL))
	{
		campaign_clear(&fresh);
		return false;
	}
	for (size_t i = 0; i < sf->ncampaigns; i++)
	{
		if (strcmp(sf->campaigns[i].id, id) == 0)
			c = &sf->campaigns[i];
	}
	if (c == NULL)
	{
		if (sf->ncampaigns == sf->campaign_cap)
		{
			size_t cap = sf->campaign_cap == 0 ? 32 : sf->campaign_cap * 2;
			SfCampaign *grown = realloc(sf->campaigns, cap * sizeof(SfCampaign));

			if (grown == NULL)
			{
				campaign_clear(&fresh);
				return false;
			}
			sf->campaigns = grown;
			sf->campaign_cap = cap;
		}
		c = &sf->campaigns[sf->ncampaigns++];
		memset(c, 0, sizeof(*c));
	}
	campaign_clear(c);
	*c = fresh;
	sf->campaigns_sorted = false;
	return true;
}


/*
 * campaign_find looks a campaign up by id: by bisection once the Campaign
 * query is complete (members are many, campaigns can be thousands).
 */
static const SfCampaign *
campaign_find(const Salesforce *sf, const char *id)
{
	SfCampaign key;

	if (sf->campaigns_sorted)
	{
		memset(&key, 0, sizeof(key));
		key.id = (char *) id;
		return bsearch(&key, sf->campaigns, sf->ncampaigns, sizeof(SfCampaign),
					   compare_campaigns);
	}
	for (size_t i = 0; i < sf->ncampaigns; i++)
	{
		if (strcmp(sf->campaigns[i].id, id) == 0)
			return &sf->campaigns[i];
	}
	return NULL;
}


/*
 * type_medium: the medium of a campaign Type (sf_type_media), else the type
 * lower-cased with '_' for spaces, into buf.
 */
static const char *
type_medium(const char *type, char *buf, size_t size)
{
	size_t i;

	if (type == NULL)
		return "other";
	for (i = 0; i < sizeof(sf_type_media) / sizeof(sf_type_media[0]); i++)
	{
		if (strcmp(sf_type_media[i].type, type) == 0)
			return sf_type_media[i].medium;
	}
	for (i = 0; type[i] != '\0' && i + 1 < size; i++)
	{
		char ch = type[i];

		if (ch >= 'A' && ch <= 'Z')
			ch = (char) (ch - 'A' + 'a');
		else if (ch == ' ' || ch == '/')
			ch = '_';
		buf[i] = ch;
	}
	buf[i] = '\0';
	return buf;
}


/*
 * map_lead writes a lead row of a Lead (object "Lead") or a Contact. A
 * converted lead names its contact as crm_contact_id, so the transform
 * joins it to the contact's deals.
 */
static bool
map_lead(Salesforce *sf, SourceRun *run, const JsonValue *rec, const RecordRef *ref,
		 bool is_contact, ClError *err)
{
	StagingWriter *w = source_run_writer(run, "lead");
	ClTime created;
	ClTime updated;
	ClTime converted = 0;
	const char *converted_date = field(rec, "ConvertedDate");
	const char *contact = is_contact ? ref->id : field(rec, "ConvertedContactId");
	char *email = NULL;
	JsonGen *g;

	if (w == NULL)
	{
		*err = CL_ERR_INTERNAL;
		return false;
	}
	if (!required_time(ref, rec, "CreatedDate", &created, err) ||
		!required_time(ref, rec, "SystemModstamp", &updated, err) ||
		(converted_date != NULL && !sf_time(ref, "ConvertedDate", converted_date, &converted, err)))
	{
		/* errors have already been logged */
		return false;
	}
	if (!email_normalize(field(rec, "Email"), &email))
	{
		*err = CL_ERR_INTERNAL;
		return false;
	}
	g = staging_row_begin(w, run->today);
	jgen_string(g, "lead_id", ref->id);
	jgen_string(g, "source_system", "salesforce");
	row_string(g, "email", email);
	row_string(g, "crm_contact_id", contact);
	jgen_time(g, "created_at", created);
	jgen_time(g, "updated_at", updated);
	if (!is_contact)
		row_string(g, "lifecycle_stage", field(rec, "Status"));
	if (!is_contact && sf->product_group != NULL)
		row_string(g, "product_group", field(rec, sf->product_group));
	row_string(g, "owner", field(rec, "OwnerId"));
	jgen_bool(g, "is_deleted", flag(rec, "IsDeleted"));
	jgen_string(g, "object", is_contact ? "Contact" : "Lead");
	row_string(g, "lead_source", field(rec, "LeadSource"));
	if (!is_contact && flag(rec, "IsConverted"))
	{
		jgen_bool(g, "is_converted", true);
		if (converted_date != NULL)
			jgen_time(g, "converted_at", converted);
		row_string(g, "converted_opportunity_id", field(rec, "ConvertedOpportunityId"));
	}
	free(email);
	if (!staging_row_end(w))
	{
		*err = CL_ERR_OUTPUT;
		return false;
	}
	return true;
}


/*
 * write_contact_roles writes the opportunity's contacts from its role
 * subquery, each once, leaving out deleted roles.
 */
static void
write_contact_roles(Salesforce *sf, JsonGen *g, const JsonValue *rec, const char *id)
{
	const JsonValue *roles = json_member(rec, "OpportunityContactRoles");
	const JsonValue *records = json_member(roles, "records");
	bool done = true;

	jgen_array_begin(g, "contact_ids");
	for (size_t i = 0; records != NULL && records->type == JSON_ARRAY && i < records->count; i++)
	{
		const JsonValue *r = records->items[i];
		const char *cid = field(r, "ContactId");
		bool seen = false;

		if (cid == NULL || flag(r, "IsDeleted"))
			continue;
		for (size_t j = 0; j < i && !seen; j++)
		{
			const char *prev = field(records->items[j], "ContactId");

			seen = prev != NULL && !flag(records->items[j], "IsDeleted") && strcmp(prev, cid) == 0;
		}
		if (!seen)
			jgen_string(g, NULL, cid);
	}
	jgen_array_end(g);
	if (json_bool(json_member(roles, "done"), &done) && !done && warn_once(&sf->warned, "roles-paging"))
		log_warn("salesforce: opportunity %s has more contact roles than one subquery page "
				 "holds; only the first page is used (docs/vendors/salesforce.md)", id);
}


/*
 * map_opportunity writes one deal row. Every check runs before the row is
 * begun, so a refused opportunity writes nothing.
 */
static bool
map_opportunity(Salesforce *sf, SourceRun *run, const JsonValue *rec, const RecordRef *ref,
				ClError *err)
{
	StagingWriter *w = source_run_writer(run, "deal");
	const char *amount = field(rec, "Amount");
	const char *currency = sf->multi_currency ? field(rec, "CurrencyIsoCode") : NULL;
	const char *closedate = field(rec, "CloseDate");
	bool is_closed = flag(rec, "IsClosed");
	bool is_won = flag(rec, "IsWon");
	ClTime created;
	ClTime updated;
	ClTime closed = 0;
	int64_t minor = 0;
	JsonGen *g;

	if (w == NULL)
	{
		*err = CL_ERR_INTERNAL;
		return false;
	}
	if (!required_time(ref, rec, "CreatedDate", &created, err) ||
		!required_time(ref, rec, "SystemModstamp", &updated, err) ||
		(closedate != NULL && !sf_time(ref, "CloseDate", closedate, &closed, err)))
	{
		/* errors have already been logged */
		return false;
	}
	if (currency == NULL)
		currency = sf->currency;
	else if (!currency_valid(currency))
	{
		record_error(ref, "CurrencyIsoCode", "\"%.16s\" is not an ISO 4217 code", currency);
		*err = CL_ERR_DATA;
		return false;
	}
	if (amount != NULL && !money_parse_rounded(amount, currency, &minor))
	{
		record_error(ref, "Amount", "\"%.64s\" is not an amount in %s", amount, currency);
		*err = CL_ERR_DATA;
		return false;
	}
	roles_mark(&sf->roles, ref->id);

	g = staging_row_begin(w, run->today);
	jgen_string(g, "deal_id", ref->id);
	jgen_string(g, "source_system", "salesforce");
	row_string(g, "name", field(rec, "Name"));
	if (amount != NULL)
		jgen_int(g, "amount_minor", minor);
	jgen_string(g, "currency", currency);
	row_string(g, "stage", field(rec, "StageName"));
	jgen_bool(g, "is_closed", is_closed);
	jgen_bool(g, "is_won", is_won);
	jgen_time(g, "created_at", created);
	/* CloseDate of an open opportunity is a forecast, not a close */
	if (is_closed && closedate != NULL)
		jgen_time(g, "closed_at", closed);
	jgen_time(g, "updated_at", updated);
	write_contact_roles(sf, g, rec, ref->id);
	if (sf->product_group != NULL)
		row_string(g, "product_group", field(rec, sf->product_group));
	jgen_bool(g, "is_deleted", flag(rec, "IsDeleted"));
	if (!staging_row_end(w))
	{
		*err = CL_ERR_OUTPUT;
		return false;
	}
	if (is_won && closedate == NULL && warn_once(&sf->warned, "won-without-closedate"))
		log_warn("salesforce: won opportunity %s has no CloseDate; it cannot be dated for "
				 "attribution (further ones are not logged)", ref->id);
	return true;
}


/*
 * map_campaign_member writes the touch of a member that responded: at
 * FirstRespondedDate (a date: its midnight UTC), with the source and medium
 * of the campaign's UTM fields, else "salesforce" and the medium of its
 * Type. Members that did not respond and deleted members are no touch.
 */
static bool
map_campaign_member(Salesforce *sf, SourceRun *run, const JsonValue *rec,
					const RecordRef *ref, ClError *err)
{
	StagingWriter *w = source_run_writer(run, "touch");
	const char *responded = field(rec, "FirstRespondedDate");
	const char *campaign_id = field(rec, "CampaignId");
	const char *person = field(rec, "ContactId");
	const SfCampaign *c;
	char touch_id[160];
	char mbuf[64];
	ClTime at;
	ClTime updated;
	char *email = NULL;
	JsonGen *g;

	if (w == NULL)
	{
		*err = CL_ERR_INTERNAL;
		return false;
	}
	if (flag(rec, "IsDeleted") || !flag(rec, "HasResponded") || responded == NULL)
		return true;
	if (campaign_id == NULL)
	{
		record_error(ref, "CampaignId", "missing");
		*err = CL_ERR_DATA;
		return false;
	}
	if (!sf_time(ref, "FirstRespondedDate", responded, &at, err) ||
		!required_time(ref, rec, "SystemModstamp", &updated, err))
	{
		/* errors have already been logged */
		return false;
	}
	if (person == NULL)
		person = field(rec, "LeadId");
	c = campaign_find(sf, campaign_id);
	if (c == NULL && warn_once(&sf->warned, campaign_id))
		log_warn("salesforce: campaign %s of campaign member %s was not returned by the "
				 "Campaign query; its touches get source \"salesforce\", medium \"other\"",
				 campaign_id, ref->id);
	if (!email_normalize(field(rec, "Email"), &email))
	{
		*err = CL_ERR_INTERNAL;
		return false;
	}

	(void) snprintf(touch_id, sizeof(touch_id), "campaign-member-%s", ref->id);
	g = staging_row_begin(w, time_utc_date(at));
	jgen_string(g, "touch_id", touch_id);
	jgen_string(g, "source_system", "salesforce");
	jgen_object_begin(g, "person");
	row_string(g, "email", email);
	row_string(g, "crm_id", person);
	jgen_object_end(g);
	jgen_time(g, "at", at);
	jgen_string(g, "kind", "campaign_member");
	jgen_string(g, "source", c != NULL && c->source != NULL ? c->source : "salesforce");
	jgen_string(g, "medium", c != NULL && c->medium != NULL ? c->medium
				: type_medium(c != NULL ? c->type : NULL, mbuf, sizeof(mbuf)));
	if (c != NULL)
		row_string(g, "campaign", c->utm_campaign != NULL ? c->utm_campaign : c->name);
	jgen_string(g, "campaign_id", campaign_id);
	if (c != NULL)
		row_string(g, "campaign_type", c->type);
	row_string(g, "member_status", field(rec, "Status"));
	jgen_time(g, "updated_at", updated);
	free(email);
	if (!staging_row_end(w))
	{
		*err = CL_ERR_OUTPUT;
		return false;
	}
	return true;
}


/*
 * salesforce_map_record checks that the record is of the queried object
 * and has an Id, then hands it to the mapper of its stream.
 */
static bool
salesforce_map_record(void *state, SourceRun *run, const SourceStream *stream,
					  const JsonValue *record, ClError *err)
{
	Salesforce *sf = state;
	const SfTask *t = stream->data;
	const char *object = sf_objects[t->kind].object;
	const char *type = json_string(json_path(record, "attributes.type"));
	RecordRef ref = { "salesforce", object, "?" };

	if (record->type != JSON_OBJECT)
	{
		record_error(&ref, "records[]", "a record that is not an object");
		*err = CL_ERR_DATA;
		return false;
	}
	if (type != NULL && strcmp(type, object) != 0)
	{
		record_error(&ref, "attributes.type", "the %s query returned a record of object %s",
					 object, type);
		*err = CL_ERR_DATA;
		return false;
	}
	ref.id = field(record, "Id");
	if (ref.id == NULL)
	{
		ref.id = "?";
		record_error(&ref, "Id", "a record without an Id");
		*err = CL_ERR_DATA;
		return false;
	}
	switch (t->kind)
	{
		case SF_CAMPAIGN:
			if (!campaign_upsert(sf, record, ref.id))
			{
				log_error("salesforce: out of memory keeping campaigns");
				*err = CL_ERR_INTERNAL;
				return false;
			}
			return true;
		case SF_LEAD:
			return map_lead(sf, run, record, &ref, false, err);
		case SF_CONTACT:
			return map_lead(sf, run, record, &ref, true, err);
		case SF_OPPORTUNITY:
		case SF_OPPORTUNITY_BY_ID:
			return map_opportunity(sf, run, record, &ref, err);
		case SF_CONTACT_ROLE:
		{
			const char *opp = field(record, "OpportunityId");

			if (opp == NULL)
				return true;
			if (!salesforce_id(opp))
			{
				record_error(&ref, "OpportunityId", "\"%.40s\" is not a Salesforce id", opp);
				*err = CL_ERR_DATA;
				return false;
			}
			if (!roles_add(&sf->roles, opp))
			{
				log_error("salesforce: out of memory");
				*err = CL_ERR_INTERNAL;
				return false;
			}
			return true;
		}
		case SF_CAMPAIGN_MEMBER:
			return map_campaign_member(sf, run, record, &ref, err);
		case SF_NKINDS:
			break;
	}
	log_error("BUG: salesforce has no stream %d", stream->kind);
	*err = CL_ERR_INTERNAL;
	return false;
}


/*
 * first_error reads the errorCode and message of Salesforce's error body,
 * a JSON array of {errorCode, message} (an object is accepted too).
 * Strings are copied into code and msg (empty when absent).
 */
static void
first_error(const HttpResponse *resp, char *code, size_t codesize, char *msg, size_t msgsize)
{
	JsonValue *body = NULL;
	const JsonValue *e;

	code[0] = '\0';
	msg[0] = '\0';
	if (resp->error_body == NULL)
		return;
	body = json_parse(resp->error_body, resp->error_body_len, NULL, 0);
	e = body;
	if (body != NULL && body->type == JSON_ARRAY)
		e = body->count > 0 ? body->items[0] : NULL;
	if (json_string(json_member(e, "errorCode")) != NULL)
		(void) snprintf(code, codesize, "%s", json_string(json_member(e, "errorCode")));
	if (json_string(json_member(e, "message")) != NULL)
		(void) snprintf(msg, msgsize, "%s", json_string(json_member(e, "message")));
	json_free(body);
}


/*
 * daily_limit: REQUEST_LIMIT_EXCEEDED means the org's 24-hour quota when
 * the message says TotalRequests; otherwise it is the limit of concurrent
 * long-running requests, which clears in seconds.
 */
static bool
daily_limit(const char *msg)
{
	return strstr(msg, "TotalRequests") != NULL;
}


/*
 * salesforce_classify: an expired session is refreshed; the concurrency
 * limit and row locks are retried; the daily quota and QUERY_TIMEOUT are
 * not (the latter is answered by smaller windows, see
 * salesforce_replace_stream).
 */
static HttpVerdict
salesforce_classify(void *state, const HttpResponse *resp, int64_t *delay_ms)
{
	Salesforce *sf = state;
	char code[64];
	char msg[512];

	(void) delay_ms;
	if (sf != NULL)
		sf->query_timeout = false;
	if (resp->status == 401)
		return HTTP_VERDICT_REAUTH;
	first_error(resp, code, sizeof(code), msg, sizeof(msg));
	if (strcmp(code, "QUERY_TIMEOUT") == 0)
	{
		if (sf != NULL)
			sf->query_timeout = true;
		return HTTP_VERDICT_FAIL;
	}
	if (strcmp(code, "REQUEST_LIMIT_EXCEEDED") == 0)
		return daily_limit(msg) ? HTTP_VERDICT_FAIL : HTTP_VERDICT_RETRY;
	if (strcmp(code, "UNABLE_TO_LOCK_ROW") == 0 || strcmp(code, "SERVER_UNAVAILABLE") == 0)
		return HTTP_VERDICT_RETRY;
	return HTTP_VERDICT_DEFAULT;
}


/*
 * The documented error codes and what the run does about them: a class
 * and advice for the operator.
 */
static const struct
{
	const char *code;
	ClError cls;
	const char *advice;
} sf_error_advice[] = {
	{ "REQUEST_LIMIT_EXCEEDED", CL_ERR_TEMPORARY,
	  "the org's API request limit is used up; run again when it has recovered "
	  "(it is a rolling 24-hour limit)" },
	{ "QUERY_TIMEOUT", CL_ERR_TEMPORARY,
	  "the query ran too long even on a small window; run again later" },
	{ "INVALID_QUERY_LOCATOR", CL_ERR_TEMPORARY,
	  "the query cursor expired or too many were open; run again" },
	{ "TXN_SECURITY_METERING_ERROR", CL_ERR_CONFIG,
	  "a transaction security policy of the org blocks the integration user; ask the "
	  "Salesforce admin to exempt it" },
	{ "INVALID_FIELD", CL_ERR_CONFIG,
	  "a field is missing or hidden from the integration user: check multi_currency, "
	  "product_group_field and the campaign_*_field keys in [crm.salesforce] and the "
	  "user's field-level security" },
	{ "INVALID_TYPE", CL_ERR_CONFIG,
	  "an object is not available to the integration user: check [crm.salesforce] objects "
	  "and the user's profile" },
	{ "MALFORMED_QUERY", CL_ERR_CONFIG,
	  "check api_version and the field names in [crm.salesforce]" },
	{ "INSUFFICIENT_ACCESS", CL_ERR_CONFIG,
	  "the integration user lacks a permission (API Enabled, View All Data)" },
	{ "API_DISABLED_FOR_ORG", CL_ERR_CONFIG,
	  "the org's edition has no API access" },
	{ "API_CURRENTLY_DISABLED", CL_ERR_CONFIG,
	  "the API is disabled for this user or org" },
	{ "INVALID_SESSION_ID", CL_ERR_CONFIG,
	  "the session was refused even after a new token; check the connected app's "
	  "session policies and IP restrictions" },
	{ "NOT_FOUND", CL_ERR_CONFIG,
	  "check api_version in [crm.salesforce] (the instance does not know it)" },
};


/*
 * salesforce_explain turns the error array into one line with the
 * errorCode, the message and what to do, and the class the code deserves.
 */
static ClError
salesforce_explain(const HttpResponse *resp, char *msg, size_t msgsize)
{
	char code[64];
	char text[512];
	const char *advice = NULL;
	ClError cls = CL_OK;

	first_error(resp, code, sizeof(code), text, sizeof(text));
	for (size_t i = 0; i < sizeof(sf_error_advice) / sizeof(sf_error_advice[0]); i++)
	{
		if (strcmp(code, sf_error_advice[i].code) == 0)
		{
			cls = sf_error_advice[i].cls;
			advice = sf_error_advice[i].advice;
		}
	}
	(void) snprintf(msg, msgsize, "Salesforce answered HTTP %ld: %s%s%s%s%s", resp->status,
					code[0] != '\0' ? code : "(no errorCode)",
					text[0] != '\0' ? ": " : "", text,
					advice != NULL ? "; " : "", advice != NULL ? advice : "");
	return cls;
}


/*
 * parse_limit_info reads "api-usage=123/15000" (other items may follow,
 * "per-app-api-usage=..."). false when the header is absent or malformed.
 */
static bool
parse_limit_info(const char *header, int64_t *used, int64_t *max)
{
	const char *p = strstr(header, "api-usage=");
	char *end;
	long long u;
	long long m;

	if (p == NULL || (p != header && p[-1] != ' ' && p[-1] != ','))
		return false;
	p += strlen("api-usage=");
	u = strtoll(p, &end, 10);
	if (end == p || *end != '/')
		return false;
	p = end + 1;
	m = strtoll(p, &end, 10);
	if (end == p || u < 0 || m <= 0)
		return false;
	*used = u;
	*max = m;
	return true;
}


/*
 * salesforce_check_response reads Sforce-Limit-Info on every page and stops
 * the run cleanly (nothing is committed, exit 75) once the org has used the
 * configured share of its daily quota, so other integrations keep theirs.
 */
static bool
salesforce_check_response(void *state, SourceRun *run, const HttpResponse *resp, ClError *err)
{
	Salesforce *sf = state;
	int64_t used;
	int64_t max;

	(void) run;
	if (!parse_limit_info(resp->rate_headers[0], &used, &max))
		return true;
	sf->api_used = used;
	sf->api_max = max;
	if (used * 100 >= max * sf->quota_percent)
	{
		log_error("salesforce: the org has used %lld of its %lld daily API requests, at or above "
				  "[crm.salesforce] quota_percent = %lld%%; stopping without committing so that "
				  "other integrations keep their share; run again later",
				  (long long) used, (long long) max, (long long) sf->quota_percent);
		*err = CL_ERR_TEMPORARY;
		return false;
	}
	return true;
}


/*
 * salesforce_replace_stream answers QUERY_TIMEOUT on the first page of a
 * windowed query with two queries over the halves of its window, placed
 * where the failed one was (tap-salesforce does the same).
 */
static bool
salesforce_replace_stream(void *state, const SourceStream *stream, ClError err)
{
	Salesforce *sf = state;
	const SfTask *t = stream->data;
	SfTask a;
	SfTask b;
	ClTime lo;
	ClTime mid;

	(void) err;
	if (!sf->query_timeout || t->kind == SF_CAMPAIGN || t->kind == SF_OPPORTUNITY_BY_ID)
		return false;
	sf->query_timeout = false;
	lo = t->has_lo ? t->lo : date_start_utc(date_from_ymd(SF_EPOCH_YEAR, 1, 1));
	if (t->hi - lo < SF_MIN_WINDOW_USEC)
		return false;
	mid = floor_second(lo + (t->hi - lo) / 2);
	a = *t;
	a.hi = mid;
	b = *t;
	b.has_lo = true;
	b.lo = mid;
	if (!task_insert(sf, sf->pos, &b) || !task_insert(sf, sf->pos, &a))
	{
		log_error("salesforce: out of memory");
		return false;
	}
	log_warn("salesforce %s: QUERY_TIMEOUT; querying the two halves of the window instead",
			 stream->label);
	return true;
}


/*
 * salesforce_after_commit saves each incremental object's watermark: the
 * run's frozen upper bound, the start of the next run's window.
 */
static bool
salesforce_after_commit(void *state, SourceRun *run, ClError *err)
{
	Salesforce *sf = state;

	if (!sf->incremental)
		return true;
	/* every windowed object, also one whose query was left out (an empty
	 * window, or roles on a run without a lower bound): the run covered it
	 * up to the upper bound all the same */
	for (int k = 0; k < SF_OPPORTUNITY_BY_ID; k++)
	{
		if (k == SF_CAMPAIGN || !sf->enabled[k])
			continue;
		if (!state_write_watermark(sf->state_dir, "salesforce", sf_objects[k].object,
								   sf->upper, run->run_id, err))
		{
			/* errors have already been logged */
			return false;
		}
	}
	if (sf->api_used >= 0)
		log_info("salesforce: the org has used %lld of %lld daily API requests",
				 (long long) sf->api_used, (long long) sf->api_max);
	return true;
}


const SourceVendor vendor_salesforce = {
	.name = "salesforce",
	.family = SOURCE_FAMILY_CRM,
	.section = "crm.salesforce",
	.entities = salesforce_entities,
	.open = salesforce_open,
	.close = salesforce_close,
	.authenticate = salesforce_authenticate,
	.next_stream = salesforce_next_stream,
	.build_request = salesforce_build_request,
	.map_record = salesforce_map_record,
	.check_envelope = NULL,
	.classify = salesforce_classify,
	.explain_error = salesforce_explain,
	.response_headers = salesforce_headers,
	.check_response = salesforce_check_response,
	.replace_stream = salesforce_replace_stream,
	.after_commit = salesforce_after_commit,
};
