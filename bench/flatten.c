/*
 * flatten.c: cl-bench-flatten, staging rows as COPY text files for the SQL
 * peer of the benchmark.
 *
 *   cl-bench-flatten STAGING_DIR OUT_DIR
 *
 * Writes OUT_DIR/{lead,deal,touch,spend}.copy: every committed row of every
 * partition, values exactly as staged (no trimming, no lower-casing, no
 * dedupe: that is the peer's work), plus where each row came from (run id,
 * partition date, line in its file), which the peer needs to pick the
 * newest version the way the transform does. contact_ids becomes a
 * PostgreSQL text[] literal. Column lists: bench/peer_load.sql.
 *
 * This is the "a data engineer exports the JSON to CSV" step; the
 * benchmark does not time it. Exit codes: 0 ok, 64 usage, 65 bad staging,
 * 73 cannot write.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "copy_writer.h"
#include "exitcode.h"
#include "json.h"
#include "log.h"
#include "staging.h"

typedef struct FlatCtx
{
	CopyWriter w;
	char path[4096];            /* file of the previous row */
	int64_t line;
	char *array;                /* owned scratch for contact_ids */
	size_t array_cap;
	bool oom;
} FlatCtx;

/* put_text: a string or number member as staged; NULL when absent or null. */
static void
put_text(FlatCtx *c, const JsonValue *row, const char *path)
{
	const JsonValue *v = json_path(row, path);

	if (v == NULL || (v->type != JSON_STRING && v->type != JSON_NUMBER))
		copy_null(&c->w);
	else
		copy_text_len(&c->w, v->text, v->len);
}

static void
put_bool(FlatCtx *c, const JsonValue *row, const char *name)
{
	bool b;

	if (json_bool(json_member(row, name), &b))
		copy_bool(&c->w, b);
	else
		copy_null(&c->w);
}

/* put_origin: run id, partition date and 1-based line of the row in its file. */
static void
put_origin(FlatCtx *c, const StagingFile *f)
{
	if (strcmp(c->path, f->path) != 0)
	{
		snprintf(c->path, sizeof(c->path), "%s", f->path);
		c->line = 0;
	}
	c->line++;
	copy_text(&c->w, f->run_id);
	copy_date(&c->w, f->date);
	copy_int(&c->w, c->line);
	copy_end_row(&c->w);
}

/* array_append adds len bytes to the scratch literal; false when out of memory. */
static bool
array_append(FlatCtx *c, size_t *used, const char *s, size_t len)
{
	if (*used + len + 1 > c->array_cap)
	{
		size_t cap = (*used + len + 1) * 2;
		char *grown = realloc(c->array, cap);

		if (grown == NULL)
			return false;
		c->array = grown;
		c->array_cap = cap;
	}
	memcpy(c->array + *used, s, len);
	*used += len;
	c->array[*used] = '\0';
	return true;
}

/*
 * put_text_array writes a JSON array of strings as a text[] literal
 * {"a","b"}, with '"' and '\' escaped inside the elements.
 */
static bool
put_text_array(FlatCtx *c, const JsonValue *row, const char *name)
{
	const JsonValue *v = json_member(row, name);
	size_t used = 0;

	if (v == NULL || v->type != JSON_ARRAY)
	{
		copy_null(&c->w);
		return true;
	}
	if (!array_append(c, &used, "{", 1))
		return false;
	for (size_t i = 0; i < v->count; i++)
	{
		const JsonValue *e = v->items[i];

		if (i > 0 && !array_append(c, &used, ",", 1))
			return false;
		if (e->type != JSON_STRING && e->type != JSON_NUMBER)
		{
			if (!array_append(c, &used, "NULL", 4))
				return false;
			continue;
		}
		if (!array_append(c, &used, "\"", 1))
			return false;
		for (size_t k = 0; k < e->len; k++)
		{
			if ((e->text[k] == '"' || e->text[k] == '\\') && !array_append(c, &used, "\\", 1))
				return false;
			if (!array_append(c, &used, e->text + k, 1))
				return false;
		}
		if (!array_append(c, &used, "\"", 1))
			return false;
	}
	if (!array_append(c, &used, "}", 1))
		return false;
	copy_text_len(&c->w, c->array, used);
	return true;
}

static bool
flat_lead(void *ctx, const JsonValue *row, const StagingFile *f)
{
	static const char *const cols[] = {
		"lead_id", "source_system", "email", "crm_contact_id", "created_at", "updated_at",
		"lifecycle_stage", "product_group", "owner", NULL
	};
	FlatCtx *c = ctx;

	for (int i = 0; cols[i] != NULL; i++)
		put_text(c, row, cols[i]);
	put_bool(c, row, "is_deleted");
	put_origin(c, f);
	return !c->w.failed;
}

static bool
flat_touch(void *ctx, const JsonValue *row, const StagingFile *f)
{
	static const char *const cols[] = {
		"touch_id", "source_system", "person.email", "person.crm_id", "at", "kind", "source",
		"medium", "campaign", "content", "term", "campaign_id", "click_id", "url", "updated_at",
		NULL
	};
	FlatCtx *c = ctx;

	for (int i = 0; cols[i] != NULL; i++)
		put_text(c, row, cols[i]);
	put_origin(c, f);
	return !c->w.failed;
}

static bool
flat_deal(void *ctx, const JsonValue *row, const StagingFile *f)
{
	static const char *const head[] = {
		"deal_id", "source_system", "name", "amount_minor", "currency", "stage", NULL
	};
	static const char *const times[] = { "created_at", "closed_at", "updated_at", NULL };
	FlatCtx *c = ctx;

	for (int i = 0; head[i] != NULL; i++)
		put_text(c, row, head[i]);
	put_bool(c, row, "is_closed");
	put_bool(c, row, "is_won");
	for (int i = 0; times[i] != NULL; i++)
		put_text(c, row, times[i]);
	if (!put_text_array(c, row, "contact_ids"))
	{
		c->oom = true;
		log_error("out of memory flattening contact_ids");
		return false;
	}
	put_text(c, row, "product_group");
	put_bool(c, row, "is_deleted");
	put_origin(c, f);
	return !c->w.failed;
}

static bool
flat_spend(void *ctx, const JsonValue *row, const StagingFile *f)
{
	static const char *const cols[] = {
		"date", "platform", "account_id", "campaign_id", "campaign_name", "adgroup_id", "ad_id",
		"source", "medium", "campaign", "impressions", "clicks", "cost_minor", "currency", NULL
	};
	FlatCtx *c = ctx;

	for (int i = 0; cols[i] != NULL; i++)
		put_text(c, row, cols[i]);
	put_origin(c, f);
	return !c->w.failed;
}

/* flatten_entity writes OUT_DIR/<entity>.copy; false on failure (logged). */
static bool
flatten_entity(const char *staging, const char *out, const char *entity, StagingRowFn fn,
			   ClError *err)
{
	FlatCtx *c = calloc(1, sizeof(FlatCtx));
	char path[4096];
	bool ok = false;

	if (c == NULL)
	{
		log_error("out of memory");
		*err = CL_ERR_INTERNAL;
		return false;
	}
	snprintf(path, sizeof(path), "%s/%s.copy", out, entity);
	if (!copy_writer_open(&c->w, path))
	{
		*err = CL_ERR_OUTPUT;
		goto cleanup;
	}
	if (!staging_read(staging, entity, INT32_MIN, INT32_MAX, fn, c, err))
	{
		copy_writer_abort(&c->w);
		goto cleanup;   /* errors have already been logged */
	}
	if (!copy_writer_close(&c->w))
	{
		*err = CL_ERR_OUTPUT;
		goto cleanup;
	}
	ok = true;

cleanup:
	free(c->array);
	free(c);
	return ok;
}

int
main(int argc, char **argv)
{
	ClError err = CL_OK;

	if (argc != 3)
	{
		fprintf(stderr, "usage: cl-bench-flatten STAGING_DIR OUT_DIR\n");
		return EXIT_CODE_USAGE;
	}
	log_init("cl-bench-flatten", NULL);
	if (!fs_mkdir_p(argv[2]))
		return EXIT_CODE_CANTCREAT;
	if (!flatten_entity(argv[1], argv[2], "lead", flat_lead, &err)
		|| !flatten_entity(argv[1], argv[2], "deal", flat_deal, &err)
		|| !flatten_entity(argv[1], argv[2], "touch", flat_touch, &err)
		|| !flatten_entity(argv[1], argv[2], "spend", flat_spend, &err))
		return cl_error_exit_code(err);
	return EXIT_CODE_OK;
}
