/*
 * dataset.h: the cleaned entities of one transform run.
 *
 * Rows are read from staging (DESIGN §3) and deduplicated while they are
 * read: each (source_system, id) keeps its newest version by updated_at,
 * then run_id, then partition date, then line (a later line of the same
 * run and timestamp is the same version written again). A deleted newest
 * version stays in the arrays, flagged, so that it hides older versions;
 * every consumer skips is_deleted rows.
 *
 * Every string of the dataset lives in its StrPool. Values that repeat
 * (source_system, source, medium, campaign, currency, contact ids, emails,
 * ...) are interned, so equal values have equal pointers; the code relies
 * on that for grouping. Source and medium are trimmed and lower-cased,
 * emails trimmed and lower-cased, campaign and ids trimmed; a value that is
 * absent or empty after trimming is NULL.
 */
#ifndef CL_DATASET_H
#define CL_DATASET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "exitcode.h"
#include "indexmap.h"
#include "localdate.h"
#include "strpool.h"
#include "timeutil.h"

/* Where a version of a row came from: decides which version is newest. */
/*
 * RowVersion orders the versions of one row: updated_at, then the run id
 * and partition of its file, then its line. The file is a number into the
 * dataset's table of files read, which keeps the struct at 16 bytes: one
 * is held per touch while loading.
 */
typedef struct RowVersion
{
	ClTime updated_at;      /* TX_TIME_NONE when the row has none */
	uint32_t file;          /* index into Dataset.files */
	uint32_t line;          /* 1-based line in its file */
} RowVersion;

/* A staging file read: what a version's order needs of it. */
typedef struct VersionFile
{
	const char *run_id;     /* interned */
	ClDate partition;
} VersionFile;

typedef struct Lead
{
	const char *lead_id;
	const char *source_system;
	const char *email;
	const char *crm_contact_id;
	ClTime created_at;      /* TX_TIME_NONE when absent */
	const char *lifecycle_stage;
	const char *product_group;
	const char *owner;
	bool is_deleted;
	RowVersion version;
} Lead;

typedef struct Touch
{
	const char *touch_id;
	const char *source_system;
	const char *email;
	const char *crm_id;
	ClTime at;
	const char *kind;
	const char *source;
	const char *medium;
	const char *campaign;
	const char *content;
	const char *term;
	const char *campaign_id;
	const char *click_id;
	const char *url;
	const char *channel;    /* set by channels_classify_dataset() */
} Touch;

typedef struct Deal
{
	const char *deal_id;
	const char *source_system;
	const char *name;
	bool has_amount;
	int64_t amount_minor;
	const char *currency;   /* NULL only when the deal has no amount */
	const char *stage;
	bool is_closed;
	bool is_won;
	ClTime created_at;
	ClTime closed_at;
	const char *product_group;
	const char **contact_ids;   /* pool-owned array, distinct ids */
	uint32_t n_contacts;
	bool is_deleted;
	RowVersion version;
} Deal;

/* A spend row: the grain of the ad platforms' daily reports. */
typedef struct Spend
{
	ClDate date;
	const char *platform;
	const char *account_id;
	const char *campaign_id;
	const char *campaign_name;
	const char *adgroup_id;
	const char *ad_id;
	const char *source;
	const char *medium;
	const char *campaign;
	int64_t impressions;
	int64_t clicks;
	int64_t cost_minor;
	const char *currency;   /* NULL only when cost_minor is 0 and absent */
	RowVersion version;
	const char *channel;    /* set by channels_classify_dataset() */
} Spend;

typedef struct EmailCampaign
{
	const char *campaign_id;
	const char *platform;
	const char *name;
	const char *subject;
	ClTime sent_at;
	int64_t recipients;     /* -1 when absent */
	const char *source;
	const char *medium;
	const char *campaign;
	/*
	 * The report's counts as of updated_at (DATA_MODEL.md), -1 each when
	 * the platform did not report it; has_report tells whether any was.
	 */
	int64_t sends;
	int64_t opens;
	int64_t unique_opens;
	int64_t clicks;
	int64_t unique_clicks;
	int64_t bounces;
	int64_t unsubscribes;
	bool has_report;
	RowVersion version;
} EmailCampaign;

/*
 * An email event is a fact without id: it is its own key, all of
 * (campaign_id, platform, email, type, at, url), so that the same click
 * read from overlapping extractions counts once and two clicks on
 * different links of the same second count twice.
 */
typedef struct EmailEvent
{
	const char *campaign_id;
	const char *platform;
	const char *email;
	const char *type;
	ClTime at;
	const char *url;        /* interned; NULL when the event has none */
} EmailEvent;

typedef struct DatasetCounts
{
	int64_t rows_read;          /* every row of every entity */
	int64_t rows_superseded;    /* older versions and repeated facts dropped */
	int64_t rows_out_of_window; /* spend and email events outside [from, to] */
	int64_t files;
} DatasetCounts;

typedef struct Dataset
{
	StrPool *pool;              /* owned */

	Lead *leads;                /* owned arrays, in first-seen order */
	size_t n_leads;
	size_t cap_leads;
	Touch *touches;
	size_t n_touches;
	size_t cap_touches;
	Deal *deals;
	size_t n_deals;
	size_t cap_deals;
	Spend *spend;
	size_t n_spend;
	size_t cap_spend;
	EmailCampaign *email_campaigns;
	size_t n_email_campaigns;
	size_t cap_email_campaigns;
	EmailEvent *email_events;
	size_t n_email_events;
	size_t cap_email_events;

	/*
	 * Used only while loading, freed when dataset_load returns: at ten
	 * million touches the touch versions and the dedupe indexes were a
	 * fifth of the transform's memory.
	 */
	VersionFile *files;         /* owned: every file read, by RowVersion.file */
	size_t n_files;
	size_t cap_files;
	RowVersion *touch_versions; /* owned, parallel to touches */
	size_t cap_touch_versions;
	IndexMap lead_index;        /* dedupe indexes, by key */
	IndexMap touch_index;
	IndexMap deal_index;
	IndexMap spend_index;
	IndexMap email_campaign_index;
	IndexMap email_event_index;

	ClTime touches_from;        /* the touch partitions read: [from, to) */
	ClTime touches_to;

	const char *empty;          /* the interned "" */
	DatasetCounts counts;
} Dataset;

/* What to read: the transform window and how far touches reach back. */
typedef struct DatasetScope
{
	const char *staging_dir;
	ClDate from;
	ClDate to;
	int lookback_days;
	LocalDates *local;          /* borrowed: dates in the configured zone */
} DatasetScope;

/*
 * dataset_init prepares a zeroed ds: its string pool, which other modules
 * may intern into before the load. false when out of memory (logged).
 */
bool dataset_init(Dataset *ds);

/*
 * dataset_load reads every entity the transform uses (DESIGN §3 and the
 * partitions of docs/MODELS.md) into ds, prepared by dataset_init(). On
 * failure *err is CL_ERR_DATA for a bad row or file (file and line logged),
 * CL_ERR_INTERNAL when out of memory. Free with dataset_free() either way.
 */
bool dataset_load(const DatasetScope *scope, Dataset *ds, ClError *err);

/* Release everything the dataset owns; NULL-safe, leaves it zeroed. */
void dataset_free(Dataset *ds);

#endif
