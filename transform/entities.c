/*
 * entities.c: reading staging rows into the dataset, deduplicating as they
 * arrive.
 *
 * The version of a row is decided from its key and updated_at before any of
 * its other fields are copied, so that the many older copies an overlapping
 * extraction leaves behind cost a hash lookup and nothing else.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "json.h"
#include "log.h"
#include "money.h"
#include "staging.h"
#include "txutil.h"

/* Values longer than this are normalised in a heap buffer. */
#define SMALL_VALUE 512

enum
{
	V_COPY = 0,         /* stored as is (trimmed), not interned */
	V_INTERN = 1 << 0,  /* interned: equal values share a pointer */
	V_LOWER = 1 << 1    /* ASCII lower-cased */
};

typedef struct LoadCtx
{
	Dataset *ds;
	const DatasetScope *scope;
	const char *entity;
	const StagingFile *file;    /* the file of the previous row */
	uint32_t file_no;       /* its entry in ds->files */
	uint32_t line;
	size_t member_pos;      /* where the next member lookup starts */
	ClError err;
} LoadCtx;

/* The key of a mutable entity: an interned system and a borrowed id. */
typedef struct RowKey
{
	const char *system;
	const char *id;
	size_t id_len;
	uint64_t hash;
} RowKey;

static void row_error(LoadCtx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * row_error logs a bad row with its file and line once, and marks the load
 * as failed on bad data.
 */
static void
row_error(LoadCtx *ctx, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	(void) vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_error("staging file %s line %" PRIu32 " (%s): %s; fix the extractor's output or "
			  "re-run the extract for this partition", ctx->file != NULL ? ctx->file->path : "",
			  ctx->line, ctx->entity, msg);
	ctx->err = CL_ERR_DATA;
}

static void
oom(LoadCtx *ctx)
{
	log_error("out of memory reading %s rows (%s line %" PRIu32 ")", ctx->entity,
			  ctx->file != NULL ? ctx->file->path : "", ctx->line);
	ctx->err = CL_ERR_INTERNAL;
}

/*
 * next_line counts lines per file: the callback is called for each row in
 * file order, and a new path starts a new file.
 */
/* add_version_file records a new file's run id and partition for the
 * versions of its rows. */
static bool
add_version_file(LoadCtx *ctx, const StagingFile *file)
{
	Dataset *ds = ctx->ds;
	VersionFile *grown;
	const char *run_id;

	if (ds->n_files >= UINT32_MAX)
	{
		log_error("more than %u staging files in one run", UINT32_MAX);
		ctx->err = CL_ERR_INTERNAL;
		return false;
	}
	run_id = strpool_intern_cstr(ds->pool, file->run_id);
	grown = tx_grow(ds->files, &ds->cap_files, ds->n_files + 1, sizeof(VersionFile));
	if (run_id == NULL || grown == NULL)
	{
		oom(ctx);
		return false;
	}
	ds->files = grown;
	ds->files[ds->n_files].run_id = run_id;
	ds->files[ds->n_files].partition = file->date;
	ctx->file_no = (uint32_t) ds->n_files++;
	return true;
}

static bool
next_line(LoadCtx *ctx, const StagingFile *file)
{
	ctx->member_pos = 0;
	if (ctx->file != file)
	{
		ctx->file = file;
		ctx->line = 0;
		ctx->ds->counts.files++;
		if (!add_version_file(ctx, file))
			return false;
	}
	ctx->line++;
	ctx->ds->counts.rows_read++;
	return true;
}

/*
 * member: the rows of a file share their key order, and the loaders ask for
 * fields in nearly that order, so each lookup starts where the last ended.
 */
static const JsonValue *
member(LoadCtx *ctx, const JsonValue *row, const char *name)
{
	return json_member_from(row, name, &ctx->member_pos);
}

/*
 * value_text reads a string (or a number, as ids arrive as either) and
 * stores its normalised form in the pool; absent, null or empty after
 * trimming gives NULL. Other JSON types are bad data.
 */
static bool
value_text(LoadCtx *ctx, const JsonValue *v, const char *name, unsigned flags,
		   const char **out)
{
	char small[SMALL_VALUE];
	char *heap = NULL;
	const char *s;
	size_t start;
	size_t len;

	*out = NULL;
	if (json_is_null(v))
		return true;
	if (v->type != JSON_STRING && v->type != JSON_NUMBER)
	{
		row_error(ctx, "%s must be a string", name);
		return false;
	}
	s = v->text;
	tx_trim(s, strnlen(s, v->len), &start, &len);
	if (len == 0)
		return true;
	s += start;
	if (flags & V_LOWER)
	{
		char *buf = small;

		if (len + 1 > sizeof(small))
		{
			heap = malloc(len + 1);
			if (heap == NULL)
			{
				oom(ctx);
				return false;
			}
			buf = heap;
		}
		(void) tx_lower_trim(s, len, buf, len + 1);
		s = buf;
	}
	if (flags & V_INTERN)
		*out = strpool_intern(ctx->ds->pool, s, len);
	else
		*out = strpool_copy(ctx->ds->pool, s, len);
	free(heap);
	if (*out == NULL)
	{
		oom(ctx);
		return false;
	}
	return true;
}

static bool
field_text(LoadCtx *ctx, const JsonValue *row, const char *name, unsigned flags,
		   const char **out)
{
	return value_text(ctx, member(ctx, row, name), name, flags, out);
}

/* field_time: absent or null gives TX_TIME_NONE, unless required. */
static bool
field_time(LoadCtx *ctx, const JsonValue *row, const char *name, bool required, ClTime *out)
{
	const JsonValue *v = member(ctx, row, name);

	*out = TX_TIME_NONE;
	if (json_is_null(v))
	{
		if (required)
		{
			row_error(ctx, "%s is missing", name);
			return false;
		}
		return true;
	}
	if (v->type != JSON_STRING || !time_parse_rfc3339(v->text, out))
	{
		row_error(ctx, "%s is not an RFC 3339 timestamp: \"%.64s\"", name,
				  v->text != NULL ? v->text : "");
		return false;
	}
	return true;
}

/* field_bool: absent or null is false. */
static bool
field_bool(LoadCtx *ctx, const JsonValue *row, const char *name, bool *out)
{
	const JsonValue *v = member(ctx, row, name);

	*out = false;
	if (json_is_null(v))
		return true;
	if (!json_bool(v, out))
	{
		row_error(ctx, "%s must be true or false", name);
		return false;
	}
	return true;
}

/* field_int: *present tells whether the row had the field. */
static bool
field_int(LoadCtx *ctx, const JsonValue *row, const char *name, int64_t *out, bool *present)
{
	const JsonValue *v = member(ctx, row, name);

	*out = 0;
	*present = false;
	if (json_is_null(v))
		return true;
	if (!json_int64(v, out))
	{
		row_error(ctx, "%s must be an integer: \"%.64s\"", name, v->text != NULL ? v->text : "");
		return false;
	}
	*present = true;
	return true;
}

/* field_currency: an ISO 4217 code, interned; NULL when absent. */
static bool
field_currency(LoadCtx *ctx, const JsonValue *row, const char *name, const char **out)
{
	if (!field_text(ctx, row, name, V_INTERN, out))
		return false;
	if (*out != NULL && !currency_valid(*out))
	{
		row_error(ctx, "%s \"%s\" is not an ISO 4217 currency code", name, *out);
		return false;
	}
	return true;
}

/*
 * read_key: a mutable entity's key. The system is interned right away (a
 * handful of values); the id is only borrowed from the row until the row
 * turns out to be the newest version.
 */
static bool
read_key(LoadCtx *ctx, const JsonValue *row, const char *id_name,
		 const char *system_name, RowKey *key)
{
	const JsonValue *v = member(ctx, row, id_name);
	size_t start;

	if (!field_text(ctx, row, system_name, V_INTERN, &key->system))
		return false;
	if (key->system == NULL)
	{
		row_error(ctx, "%s is missing", system_name);
		return false;
	}
	if (json_is_null(v) || (v->type != JSON_STRING && v->type != JSON_NUMBER))
	{
		row_error(ctx, "%s is missing or not a string", id_name);
		return false;
	}
	tx_trim(v->text, strnlen(v->text, v->len), &start, &key->id_len);
	if (key->id_len == 0)
	{
		row_error(ctx, "%s is empty", id_name);
		return false;
	}
	key->id = v->text + start;
	key->hash = tx_hash_bytes(tx_hash_u64(TX_HASH_SEED, (uint64_t) (uintptr_t) key->system),
							  key->id, key->id_len);
	return true;
}

static bool
id_equals(const char *stored, const RowKey *key)
{
	return strncmp(stored, key->id, key->id_len) == 0 && stored[key->id_len] == '\0';
}

static bool
read_version(LoadCtx *ctx, const JsonValue *row, RowVersion *ver)
{
	ver->file = ctx->file_no;
	ver->line = ctx->line;
	return field_time(ctx, row, "updated_at", false, &ver->updated_at);
}

/*
 * version_newer: the order that decides which version of a row is kept.
 * Rows without updated_at sort before every timestamp, so the run decides
 * between them.
 */
static bool
version_newer(const Dataset *ds, const RowVersion *a, const RowVersion *b)
{
	int c = TX_CMP(a->updated_at, b->updated_at);

	if (c == 0 && a->file != b->file)
	{
		const VersionFile *fa = &ds->files[a->file];
		const VersionFile *fb = &ds->files[b->file];

		c = strcmp(fa->run_id, fb->run_id);
		if (c == 0)
			c = TX_CMP(fa->partition, fb->partition);
	}
	if (c == 0)
		c = TX_CMP(a->line, b->line);
	return c > 0;
}

/*
 * place finds the slot of a row: *index of the version to replace (*found)
 * or of a new element. Returns false to skip the row (an older version) or
 * on error (ctx->err set).
 */
static bool
place(LoadCtx *ctx, void **items, size_t *n, size_t *cap, size_t size, bool found,
	  uint32_t *index)
{
	void *grown;

	if (found)
		return true;
	grown = tx_grow(*items, cap, *n + 1, size);
	if (grown == NULL)
	{
		oom(ctx);
		return false;
	}
	*items = grown;
	*index = (uint32_t) *n;
	return true;
}

static bool
lead_eq(const void *c, uint32_t index, const void *k)
{
	const Dataset *ds = c;
	const RowKey *key = k;

	return ds->leads[index].source_system == key->system && id_equals(ds->leads[index].lead_id, key);
}

/*
 * load_lead keeps an older lead's id string when a newer version replaces
 * it: the index compares against it.
 */
static bool
load_lead(void *vctx, const JsonValue *row, const StagingFile *file)
{
	LoadCtx *ctx = vctx;
	Dataset *ds = ctx->ds;
	RowKey key;
	RowVersion ver;
	Lead l = {0};
	uint32_t index = 0;
	bool found;
	void *items = ds->leads;

	if (!next_line(ctx, file))
		return false;
	if (!read_key(ctx, row, "lead_id", "source_system", &key) || !read_version(ctx, row, &ver))
		return false;
	found = indexmap_find(&ds->lead_index, key.hash, lead_eq, ds, &key, &index);
	if (found)
	{
		ds->counts.rows_superseded++;
		if (!version_newer(ds, &ver, &ds->leads[index].version))
			return true;
		l.lead_id = ds->leads[index].lead_id;
	}
	else
	{
		l.lead_id = strpool_copy(ds->pool, key.id, key.id_len);
		if (l.lead_id == NULL)
		{
			oom(ctx);
			return false;
		}
	}
	l.source_system = key.system;
	l.version = ver;
	if (!field_text(ctx, row, "email", V_INTERN | V_LOWER, &l.email)
		|| !field_text(ctx, row, "crm_contact_id", V_INTERN, &l.crm_contact_id)
		|| !field_time(ctx, row, "created_at", false, &l.created_at)
		|| !field_text(ctx, row, "lifecycle_stage", V_INTERN, &l.lifecycle_stage)
		|| !field_text(ctx, row, "product_group", V_INTERN, &l.product_group)
		|| !field_text(ctx, row, "owner", V_INTERN, &l.owner)
		|| !field_bool(ctx, row, "is_deleted", &l.is_deleted))
		return false;
	if (!place(ctx, &items, &ds->n_leads, &ds->cap_leads, sizeof(Lead), found, &index))
		return false;
	ds->leads = items;
	ds->leads[index] = l;
	if (!found)
	{
		if (!indexmap_insert(&ds->lead_index, key.hash, index))
		{
			oom(ctx);
			return false;
		}
		ds->n_leads++;
	}
	return true;
}

static bool
touch_eq(const void *c, uint32_t index, const void *k)
{
	const Dataset *ds = c;
	const RowKey *key = k;

	return ds->touches[index].source_system == key->system
		&& id_equals(ds->touches[index].touch_id, key);
}

/*
 * load_touch: touches are the bulk of a run, so fields are copied only for
 * the version that wins. Landing-page URLs repeat (one per campaign and
 * creative) and were the largest item of memory at ten million touches, so
 * they are interned; click ids are unique and copied.
 */
static bool
load_touch(void *vctx, const JsonValue *row, const StagingFile *file)
{
	LoadCtx *ctx = vctx;
	Dataset *ds = ctx->ds;
	RowKey key;
	RowVersion ver;
	Touch t = {0};
	const JsonValue *person;
	uint32_t index = 0;
	bool found;
	void *items = ds->touches;

	if (!next_line(ctx, file))
		return false;
	if (!read_key(ctx, row, "touch_id", "source_system", &key) || !read_version(ctx, row, &ver))
		return false;
	found = indexmap_find(&ds->touch_index, key.hash, touch_eq, ds, &key, &index);
	if (found)
	{
		ds->counts.rows_superseded++;
		if (!version_newer(ds, &ver, &ds->touch_versions[index]))
			return true;
		t.touch_id = ds->touches[index].touch_id;
	}
	else
	{
		t.touch_id = strpool_copy(ds->pool, key.id, key.id_len);
		if (t.touch_id == NULL)
		{
			oom(ctx);
			return false;
		}
	}
	t.source_system = key.system;
	person = member(ctx, row, "person");
	if (!value_text(ctx, json_member(person, "email"), "person.email", V_INTERN | V_LOWER,
					&t.email)
		|| !value_text(ctx, json_member(person, "crm_id"), "person.crm_id", V_INTERN, &t.crm_id)
		|| !field_time(ctx, row, "at", true, &t.at)
		|| !field_text(ctx, row, "kind", V_INTERN, &t.kind)
		|| !field_text(ctx, row, "source", V_INTERN | V_LOWER, &t.source)
		|| !field_text(ctx, row, "medium", V_INTERN | V_LOWER, &t.medium)
		|| !field_text(ctx, row, "campaign", V_INTERN, &t.campaign)
		|| !field_text(ctx, row, "content", V_INTERN, &t.content)
		|| !field_text(ctx, row, "term", V_INTERN, &t.term)
		|| !field_text(ctx, row, "campaign_id", V_INTERN, &t.campaign_id)
		|| !field_text(ctx, row, "click_id", V_COPY, &t.click_id)
		|| !field_text(ctx, row, "url", V_INTERN, &t.url))
		return false;
	if (!place(ctx, &items, &ds->n_touches, &ds->cap_touches, sizeof(Touch), found, &index))
		return false;
	ds->touches = items;
	if (ds->cap_touch_versions < ds->cap_touches)
	{
		void *grown = realloc(ds->touch_versions, ds->cap_touches * sizeof(RowVersion));

		if (grown == NULL)
		{
			oom(ctx);
			return false;
		}
		ds->touch_versions = grown;
		ds->cap_touch_versions = ds->cap_touches;
	}
	ds->touches[index] = t;
	ds->touch_versions[index] = ver;
	if (!found)
	{
		if (!indexmap_insert(&ds->touch_index, key.hash, index))
		{
			oom(ctx);
			return false;
		}
		ds->n_touches++;
	}
	return true;
}

static bool
deal_eq(const void *c, uint32_t index, const void *k)
{
	const Dataset *ds = c;
	const RowKey *key = k;

	return ds->deals[index].source_system == key->system && id_equals(ds->deals[index].deal_id, key);
}

/*
 * read_contacts: a deal's contact ids, trimmed, interned and distinct (a
 * CRM may list a contact under two roles).
 */
static bool
read_contacts(LoadCtx *ctx, const JsonValue *row, Deal *d)
{
	const JsonValue *v = member(ctx, row, "contact_ids");
	const char **ids;

	d->contact_ids = NULL;
	d->n_contacts = 0;
	if (json_is_null(v))
		return true;
	if (v->type != JSON_ARRAY)
	{
		row_error(ctx, "contact_ids must be an array");
		return false;
	}
	if (v->count == 0)
		return true;
	ids = strpool_alloc(ctx->ds->pool, v->count * sizeof(const char *));
	if (ids == NULL)
	{
		oom(ctx);
		return false;
	}
	for (size_t i = 0; i < v->count; i++)
	{
		const char *id;
		bool seen = false;

		if (!value_text(ctx, v->items[i], "contact_ids[]", V_INTERN, &id))
			return false;
		if (id == NULL)
			continue;
		for (uint32_t j = 0; j < d->n_contacts && !seen; j++)
			seen = ids[j] == id;
		if (!seen)
			ids[d->n_contacts++] = id;
	}
	d->contact_ids = ids;
	return true;
}

/*
 * load_deal refuses an amount without a currency: there is no safe guess
 * for money.
 */
static bool
load_deal(void *vctx, const JsonValue *row, const StagingFile *file)
{
	LoadCtx *ctx = vctx;
	Dataset *ds = ctx->ds;
	RowKey key;
	RowVersion ver;
	Deal d = {0};
	uint32_t index = 0;
	bool found;
	void *items = ds->deals;

	if (!next_line(ctx, file))
		return false;
	if (!read_key(ctx, row, "deal_id", "source_system", &key) || !read_version(ctx, row, &ver))
		return false;
	found = indexmap_find(&ds->deal_index, key.hash, deal_eq, ds, &key, &index);
	if (found)
	{
		ds->counts.rows_superseded++;
		if (!version_newer(ds, &ver, &ds->deals[index].version))
			return true;
		d.deal_id = ds->deals[index].deal_id;
	}
	else
	{
		d.deal_id = strpool_copy(ds->pool, key.id, key.id_len);
		if (d.deal_id == NULL)
		{
			oom(ctx);
			return false;
		}
	}
	d.source_system = key.system;
	d.version = ver;
	if (!field_text(ctx, row, "name", V_COPY, &d.name)
		|| !field_int(ctx, row, "amount_minor", &d.amount_minor, &d.has_amount)
		|| !field_currency(ctx, row, "currency", &d.currency)
		|| !field_text(ctx, row, "stage", V_INTERN, &d.stage)
		|| !field_bool(ctx, row, "is_closed", &d.is_closed)
		|| !field_bool(ctx, row, "is_won", &d.is_won)
		|| !field_time(ctx, row, "created_at", false, &d.created_at)
		|| !field_time(ctx, row, "closed_at", false, &d.closed_at)
		|| !field_text(ctx, row, "product_group", V_INTERN, &d.product_group)
		|| !field_bool(ctx, row, "is_deleted", &d.is_deleted)
		|| !read_contacts(ctx, row, &d))
		return false;
	if (d.has_amount && d.currency == NULL)
	{
		row_error(ctx, "deal %s has amount_minor but no currency", d.deal_id);
		return false;
	}
	if (!place(ctx, &items, &ds->n_deals, &ds->cap_deals, sizeof(Deal), found, &index))
		return false;
	ds->deals = items;
	ds->deals[index] = d;
	if (!found)
	{
		if (!indexmap_insert(&ds->deal_index, key.hash, index))
		{
			oom(ctx);
			return false;
		}
		ds->n_deals++;
	}
	return true;
}

static uint64_t
spend_hash(const Spend *s)
{
	uint64_t h = tx_hash_u64(TX_HASH_SEED, (uint64_t) (int64_t) s->date);

	h = tx_hash_u64(h, (uint64_t) (uintptr_t) s->platform);
	h = tx_hash_u64(h, (uint64_t) (uintptr_t) s->account_id);
	h = tx_hash_u64(h, (uint64_t) (uintptr_t) s->campaign_id);
	h = tx_hash_u64(h, (uint64_t) (uintptr_t) s->adgroup_id);
	return tx_hash_u64(h, (uint64_t) (uintptr_t) s->ad_id);
}

/* spend_eq: all key parts are interned, so pointers compare values. */
static bool
spend_eq(const void *c, uint32_t index, const void *k)
{
	const Spend *a = &((const Dataset *) c)->spend[index];
	const Spend *b = k;

	return a->date == b->date && a->platform == b->platform && a->account_id == b->account_id
		&& a->campaign_id == b->campaign_id && a->adgroup_id == b->adgroup_id
		&& a->ad_id == b->ad_id;
}

/*
 * load_spend: spend rows have no updated_at; the newest run's row of a key
 * wins, so a day the platform restated and the extractor re-pulled
 * replaces the earlier pull.
 */
static bool
load_spend(void *vctx, const JsonValue *row, const StagingFile *file)
{
	LoadCtx *ctx = vctx;
	Dataset *ds = ctx->ds;
	const JsonValue *v;
	Spend s = {0};
	uint32_t index = 0;
	uint64_t hash;
	bool found;
	bool present;
	void *items = ds->spend;

	if (!next_line(ctx, file))
		return false;
	v = member(ctx, row, "date");
	if (json_is_null(v) || v->type != JSON_STRING || !date_parse(v->text, &s.date))
	{
		row_error(ctx, "date is missing or not YYYY-MM-DD");
		return false;
	}
	if (s.date < ctx->scope->from || s.date > ctx->scope->to)
	{
		ds->counts.rows_out_of_window++;
		return true;
	}
	if (!field_text(ctx, row, "platform", V_INTERN, &s.platform)
		|| !field_text(ctx, row, "account_id", V_INTERN, &s.account_id)
		|| !field_text(ctx, row, "campaign_id", V_INTERN, &s.campaign_id)
		|| !field_text(ctx, row, "adgroup_id", V_INTERN, &s.adgroup_id)
		|| !field_text(ctx, row, "ad_id", V_INTERN, &s.ad_id))
		return false;
	if (s.platform == NULL)
	{
		row_error(ctx, "platform is missing");
		return false;
	}
	s.version.updated_at = TX_TIME_NONE;
	s.version.file = ctx->file_no;
	s.version.line = ctx->line;
	hash = spend_hash(&s);
	found = indexmap_find(&ds->spend_index, hash, spend_eq, ds, &s, &index);
	if (found)
	{
		ds->counts.rows_superseded++;
		if (!version_newer(ds, &s.version, &ds->spend[index].version))
			return true;
	}
	if (!field_text(ctx, row, "campaign_name", V_INTERN, &s.campaign_name)
		|| !field_text(ctx, row, "source", V_INTERN | V_LOWER, &s.source)
		|| !field_text(ctx, row, "medium", V_INTERN | V_LOWER, &s.medium)
		|| !field_text(ctx, row, "campaign", V_INTERN, &s.campaign)
		|| !field_int(ctx, row, "impressions", &s.impressions, &present)
		|| !field_int(ctx, row, "clicks", &s.clicks, &present)
		|| !field_int(ctx, row, "cost_minor", &s.cost_minor, &present)
		|| !field_currency(ctx, row, "currency", &s.currency))
		return false;
	if (s.currency == NULL && s.cost_minor != 0)
	{
		row_error(ctx, "cost_minor without currency");
		return false;
	}
	if (s.impressions < 0 || s.clicks < 0)
	{
		row_error(ctx, "negative impressions or clicks");
		return false;
	}
	if (!place(ctx, &items, &ds->n_spend, &ds->cap_spend, sizeof(Spend), found, &index))
		return false;
	ds->spend = items;
	ds->spend[index] = s;
	if (!found)
	{
		if (!indexmap_insert(&ds->spend_index, hash, index))
		{
			oom(ctx);
			return false;
		}
		ds->n_spend++;
	}
	return true;
}

/*
 * report_counts reads the report's counts of an email_campaign row; an
 * absent count is -1 so that "not reported" never reads as zero.
 */
static bool
report_counts(LoadCtx *ctx, const JsonValue *row, EmailCampaign *e)
{
	static const char *const names[] = {
		"sends", "opens", "unique_opens", "clicks", "unique_clicks", "bounces", "unsubscribes"
	};
	int64_t *values[] = {
		&e->sends, &e->opens, &e->unique_opens, &e->clicks, &e->unique_clicks, &e->bounces,
		&e->unsubscribes
	};

	e->has_report = false;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
	{
		bool present = false;

		if (!field_int(ctx, row, names[i], values[i], &present))
			return false;
		if (!present)
			*values[i] = -1;
		else if (*values[i] < 0)
		{
			row_error(ctx, "%s must not be negative", names[i]);
			return false;
		}
		e->has_report = e->has_report || present;
	}
	return true;
}

static bool
email_campaign_eq(const void *c, uint32_t index, const void *k)
{
	const Dataset *ds = c;
	const RowKey *key = k;

	return ds->email_campaigns[index].platform == key->system
		&& id_equals(ds->email_campaigns[index].campaign_id, key);
}

/*
 * load_email_campaign: campaign ids repeat across runs and events, so they
 * are interned rather than copied.
 */
static bool
load_email_campaign(void *vctx, const JsonValue *row, const StagingFile *file)
{
	LoadCtx *ctx = vctx;
	Dataset *ds = ctx->ds;
	RowKey key;
	RowVersion ver;
	EmailCampaign e = {0};
	uint32_t index = 0;
	bool found;
	bool present;
	void *items = ds->email_campaigns;

	if (!next_line(ctx, file))
		return false;
	if (!read_key(ctx, row, "campaign_id", "platform", &key) || !read_version(ctx, row, &ver))
		return false;
	found = indexmap_find(&ds->email_campaign_index, key.hash, email_campaign_eq, ds, &key, &index);
	if (found)
	{
		ds->counts.rows_superseded++;
		if (!version_newer(ds, &ver, &ds->email_campaigns[index].version))
			return true;
	}
	e.campaign_id = strpool_intern(ds->pool, key.id, key.id_len);
	if (e.campaign_id == NULL)
	{
		oom(ctx);
		return false;
	}
	e.platform = key.system;
	e.version = ver;
	if (!field_text(ctx, row, "name", V_COPY, &e.name)
		|| !field_text(ctx, row, "subject", V_COPY, &e.subject)
		|| !field_time(ctx, row, "sent_at", false, &e.sent_at)
		|| !field_int(ctx, row, "recipients", &e.recipients, &present)
		|| !field_text(ctx, row, "source", V_INTERN | V_LOWER, &e.source)
		|| !field_text(ctx, row, "medium", V_INTERN | V_LOWER, &e.medium)
		|| !field_text(ctx, row, "campaign", V_INTERN, &e.campaign)
		|| !report_counts(ctx, row, &e))
		return false;
	if (!present)
		e.recipients = -1;
	if (!place(ctx, &items, &ds->n_email_campaigns, &ds->cap_email_campaigns,
			   sizeof(EmailCampaign), found, &index))
		return false;
	ds->email_campaigns = items;
	ds->email_campaigns[index] = e;
	if (!found)
	{
		if (!indexmap_insert(&ds->email_campaign_index, key.hash, index))
		{
			oom(ctx);
			return false;
		}
		ds->n_email_campaigns++;
	}
	return true;
}

static uint64_t
email_event_hash(const EmailEvent *e)
{
	uint64_t h = tx_hash_u64(TX_HASH_SEED, (uint64_t) e->at);

	h = tx_hash_u64(h, (uint64_t) (uintptr_t) e->campaign_id);
	h = tx_hash_u64(h, (uint64_t) (uintptr_t) e->platform);
	h = tx_hash_u64(h, (uint64_t) (uintptr_t) e->email);
	h = tx_hash_u64(h, (uint64_t) (uintptr_t) e->url);
	return tx_hash_u64(h, (uint64_t) (uintptr_t) e->type);
}

static bool
email_event_eq(const void *c, uint32_t index, const void *k)
{
	const EmailEvent *a = &((const Dataset *) c)->email_events[index];
	const EmailEvent *b = k;

	return a->at == b->at && a->campaign_id == b->campaign_id && a->platform == b->platform
		&& a->email == b->email && a->type == b->type && a->url == b->url;
}

/*
 * load_email_event: an event repeated by an overlapping extraction is the
 * same fact (every field equal, the url included: interned, so pointers
 * compare); rows without a platform take the vendor of their folder.
 */
static bool
load_email_event(void *vctx, const JsonValue *row, const StagingFile *file)
{
	LoadCtx *ctx = vctx;
	Dataset *ds = ctx->ds;
	EmailEvent e = {0};
	ClDate local;
	uint32_t index;
	uint64_t hash;
	void *items;

	if (!next_line(ctx, file))
		return false;
	if (!field_time(ctx, row, "at", true, &e.at))
		return false;
	if (!localdate_get(ctx->scope->local, e.at, &local))
	{
		ctx->err = CL_ERR_DATA;
		return false;
	}
	if (local < ctx->scope->from || local > ctx->scope->to)
	{
		ds->counts.rows_out_of_window++;
		return true;
	}
	if (!field_text(ctx, row, "campaign_id", V_INTERN, &e.campaign_id)
		|| !field_text(ctx, row, "platform", V_INTERN, &e.platform)
		|| !field_text(ctx, row, "email", V_INTERN | V_LOWER, &e.email)
		|| !field_text(ctx, row, "type", V_INTERN | V_LOWER, &e.type)
		|| !field_text(ctx, row, "url", V_INTERN, &e.url))
		return false;
	if (e.campaign_id == NULL || e.type == NULL)
	{
		row_error(ctx, "campaign_id and type are required");
		return false;
	}
	if (e.platform == NULL)
	{
		e.platform = strpool_intern_cstr(ds->pool, file->vendor);
		if (e.platform == NULL)
		{
			oom(ctx);
			return false;
		}
	}
	hash = email_event_hash(&e);
	if (indexmap_find(&ds->email_event_index, hash, email_event_eq, ds, &e, &index))
	{
		ds->counts.rows_superseded++;
		return true;
	}
	items = tx_grow(ds->email_events, &ds->cap_email_events, ds->n_email_events + 1,
					sizeof(EmailEvent));
	if (items == NULL)
	{
		oom(ctx);
		return false;
	}
	ds->email_events = items;
	if (!indexmap_insert(&ds->email_event_index, hash, (uint32_t) ds->n_email_events))
	{
		oom(ctx);
		return false;
	}
	ds->email_events[ds->n_email_events++] = e;
	return true;
}

/*
 * read_entity runs staging_read for one entity over the partitions
 * [from, to] and keeps the more precise error of the row callback.
 */
static bool
read_entity(const DatasetScope *scope, Dataset *ds, const char *entity, ClDate from,
			ClDate to, StagingRowFn fn, ClError *err)
{
	LoadCtx *ctx = calloc(1, sizeof(LoadCtx));
	bool ok;

	if (ctx == NULL)
	{
		log_error("out of memory reading %s rows", entity);
		*err = CL_ERR_INTERNAL;
		return false;
	}
	ctx->ds = ds;
	ctx->scope = scope;
	ctx->entity = entity;
	ctx->err = CL_OK;
	ok = staging_read(scope->staging_dir, entity, from, to, fn, ctx, err);
	if (!ok && ctx->err != CL_OK)
		*err = ctx->err;
	free(ctx);
	return ok;
}

/*
 * dataset_load: the partitions read follow from the window. Mutable
 * entities (leads, deals, email campaigns) are read whole, because their
 * partition is the day they were extracted, not a day of the data. Touches
 * reach back lookback_days before the window plus a day, and one day past
 * it, because partitions are UTC days and the window is in local time.
 * Spend and email events are read one UTC day either side of the window
 * and kept when their (local) date is inside it.
 */
bool
dataset_init(Dataset *ds)
{
	ds->pool = strpool_new();
	if (ds->pool == NULL)
		return false;
	ds->empty = strpool_intern(ds->pool, "", 0);
	return ds->empty != NULL;
}

/*
 * dataset_release_load_state frees what only deduplication needs: every
 * later step works on the arrays.
 */
static void
dataset_release_load_state(Dataset *ds)
{
	free(ds->touch_versions);
	ds->touch_versions = NULL;
	ds->cap_touch_versions = 0;
	indexmap_free(&ds->lead_index);
	indexmap_free(&ds->touch_index);
	indexmap_free(&ds->deal_index);
	indexmap_free(&ds->spend_index);
	indexmap_free(&ds->email_campaign_index);
	indexmap_free(&ds->email_event_index);
}

bool
dataset_load(const DatasetScope *scope, Dataset *ds, ClError *err)
{
	ClDate touch_from = scope->from - scope->lookback_days - 1;

	*err = CL_OK;
	ds->touches_from = date_start_utc(touch_from);
	ds->touches_to = date_start_utc(scope->to + 2);

	if (!read_entity(scope, ds, "lead", INT32_MIN, INT32_MAX, load_lead, err)
		|| !read_entity(scope, ds, "deal", INT32_MIN, INT32_MAX, load_deal, err)
		|| !read_entity(scope, ds, "email_campaign", INT32_MIN, INT32_MAX,
						load_email_campaign, err)
		|| !read_entity(scope, ds, "touch", touch_from, scope->to + 1, load_touch, err)
		|| !read_entity(scope, ds, "spend", scope->from - 1, scope->to + 1, load_spend, err)
		|| !read_entity(scope, ds, "email_event", scope->from - 1, scope->to + 1,
						load_email_event, err))
		return false;   /* errors have already been logged */
	dataset_release_load_state(ds);
	log_info("read %" PRId64 " rows from %" PRId64 " staging files: %zu leads, %zu deals, "
			 "%zu touches, %zu spend rows, %zu email campaigns, %zu email events "
			 "(%" PRId64 " older versions or repeats dropped)",
			 ds->counts.rows_read, ds->counts.files, ds->n_leads, ds->n_deals, ds->n_touches,
			 ds->n_spend, ds->n_email_campaigns, ds->n_email_events, ds->counts.rows_superseded);
	return true;
}

/*
 * dataset_free releases the indexes with the arrays they point into.
 */
void
dataset_free(Dataset *ds)
{
	if (ds == NULL)
		return;
	dataset_release_load_state(ds);
	free(ds->leads);
	free(ds->touches);
	free(ds->deals);
	free(ds->spend);
	free(ds->email_campaigns);
	free(ds->email_events);
	free(ds->files);
	strpool_free(ds->pool);
	memset(ds, 0, sizeof(*ds));
}
