/*
 * test_extract_support.h: what the vendor tests share. A vendor is opened
 * on a configuration in a fresh staging directory, payloads are fed
 * through engine_map_body() (the path every fetched page takes), the
 * writers are committed, and the rows are read back with staging_read().
 *
 * Include after the cmocka headers and support.h. The functions are
 * static inline so that each test binary keeps only what it uses.
 */
#ifndef CL_TEST_EXTRACT_SUPPORT_H
#define CL_TEST_EXTRACT_SUPPORT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "config.h"
#include "engine.h"
#include "json.h"
#include "source.h"
#include "staging.h"

typedef struct ExtractFixture
{
	char *dir;                  /* owned: the staging directory */
	Config *cfg;                /* owned */
	CliOptions cli;
	SourceRun run;
	void *state;                /* the vendor's */
	bool opened;
} ExtractFixture;

/* Rows read back from staging: deep copies, with their partition. */
typedef struct RowSet
{
	JsonValue **rows;           /* owned */
	ClDate *dates;
	size_t count;
} RowSet;

/*
 * tx_open loads "[pipeline] staging_dir=<tmp>" plus ini and opens vendor v
 * on it. f must start zeroed; f->cli may be set first (tx_cli_window).
 * Returns the vendor's open() result; *err holds its class.
 */
static inline bool
tx_open(ExtractFixture *f, const SourceVendor *v, const char *ini, ClError *err)
{
	char *text;
	size_t n;

	f->dir = ts_make_tmpdir("extract");
	n = strlen(f->dir) + strlen(ini) + 128;
	text = malloc(n);
	assert_non_null(text);
	snprintf(text, n, "[pipeline]\nstaging_dir = %s\nreporting_currency = USD\n%s", f->dir, ini);
	assert_true(config_load_string(text, "test.ini", &f->cfg));
	free(text);
	assert_true(source_run_init(&f->run, v, f->cfg, &f->cli, f->dir, "20260101T000000Z-abcdef",
								"cl-extract-test"));
	*err = CL_OK;
	f->opened = true;
	if (!v->open(&f->run, &f->state, err))
		return false;
	assert_true(source_run_open_writers(&f->run));
	return true;
}

/* tx_cli_window sets --from/--to; call it before tx_open. */
static inline void
tx_cli_window(ExtractFixture *f, const char *from, const char *to)
{
	assert_true(date_parse(from, &f->cli.from));
	assert_true(date_parse(to, &f->cli.to));
	f->cli.has_from = true;
	f->cli.has_to = true;
}

static inline void
tx_close(ExtractFixture *f)
{
	if (f->opened && f->state != NULL)
		f->run.vendor->close(f->state);
	if (f->opened)
		source_run_free(&f->run);
	config_free(f->cfg);
	if (f->dir != NULL)
	{
		ts_rmdir_r(f->dir);
		free(f->dir);
	}
	memset(f, 0, sizeof(*f));
}

/* tx_stream: the vendor's next stream, which must exist. */
static inline void
tx_next_stream(ExtractFixture *f, SourceStream *st)
{
	bool more = false;
	ClError err = CL_OK;

	memset(st, 0, sizeof(*st));
	assert_true(f->run.vendor->next_stream(f->state, &f->run, st, &more, &err));
	assert_true(more);
}

/* tx_feed_text maps one response body of stream st; page state in *ps. */
static inline bool
tx_feed_text(ExtractFixture *f, const SourceStream *st, PageState *ps,
			 const char *body, ClError *err)
{
	*err = CL_OK;
	return engine_map_body(&f->run, f->state, st, ps, body, strlen(body), err);
}

/* tx_feed_fixture maps a saved vendor payload under shared/fixtures/. */
static inline bool
tx_feed_fixture(ExtractFixture *f, const SourceStream *st, PageState *ps,
				const char *rel, ClError *err)
{
	char *path = ts_shared_fixture(rel);
	size_t len = 0;
	char *body = ts_read_file(path, &len);
	bool ok;

	*err = CL_OK;
	ok = engine_map_body(&f->run, f->state, st, ps, body, len, err);
	free(body);
	free(path);
	return ok;
}

/* tx_feed_data maps a payload of tests/data/extract/. */
static inline bool
tx_feed_data(ExtractFixture *f, const SourceStream *st, PageState *ps,
			 const char *name, ClError *err)
{
	char rel[256];
	char *path;
	size_t len = 0;
	char *body;
	bool ok;

	snprintf(rel, sizeof(rel), "tests/data/extract/%s", name);
	path = ts_source_path(rel);
	body = ts_read_file(path, &len);
	*err = CL_OK;
	ok = engine_map_body(&f->run, f->state, st, ps, body, len, err);
	free(body);
	free(path);
	return ok;
}

static inline void
tx_commit(ExtractFixture *f)
{
	ClError err = CL_OK;

	assert_true(source_run_commit(&f->run, &err));
	assert_int_equal(err, CL_OK);
}

/* tx_clone: an ALLOCATED deep copy of v (json_free). */
static inline JsonValue *
tx_clone(const JsonValue *v)
{
	JsonValue *c = calloc(1, sizeof(JsonValue));

	assert_non_null(c);
	c->type = v->type;
	c->boolean = v->boolean;
	c->len = v->len;
	if (v->text != NULL)
	{
		c->text = malloc(v->len + 1);
		assert_non_null(c->text);
		memcpy(c->text, v->text, v->len + 1);
	}
	if (v->count > 0)
	{
		c->items = calloc(v->count, sizeof(JsonValue *));
		assert_non_null(c->items);
		if (v->keys != NULL)
		{
			c->keys = calloc(v->count, sizeof(char *));
			assert_non_null(c->keys);
		}
		for (size_t i = 0; i < v->count; i++)
		{
			if (v->keys != NULL)
			{
				c->keys[i] = strdup(v->keys[i]);
				assert_non_null(c->keys[i]);
			}
			c->items[i] = tx_clone(v->items[i]);
		}
		c->count = v->count;
		c->capacity = v->count;
	}
	return c;
}

static inline bool
tx_collect(void *ctx, const JsonValue *row, const StagingFile *file)
{
	RowSet *rs = ctx;

	rs->rows = realloc(rs->rows, (rs->count + 1) * sizeof(JsonValue *));
	rs->dates = realloc(rs->dates, (rs->count + 1) * sizeof(ClDate));
	assert_non_null(rs->rows);
	assert_non_null(rs->dates);
	rs->rows[rs->count] = tx_clone(row);
	rs->dates[rs->count] = file->date;
	rs->count++;
	return true;
}

/* tx_read reads every committed row of entity. */
static inline void
tx_read(ExtractFixture *f, const char *entity, RowSet *rs)
{
	ClError err = CL_OK;

	memset(rs, 0, sizeof(*rs));
	assert_true(staging_read(f->dir, entity, INT32_MIN, INT32_MAX, tx_collect, rs, &err));
	assert_int_equal(err, CL_OK);
}

static inline void
tx_rows_free(RowSet *rs)
{
	for (size_t i = 0; i < rs->count; i++)
		json_free(rs->rows[i]);
	free(rs->rows);
	free(rs->dates);
	memset(rs, 0, sizeof(*rs));
}

/* tx_find: the row whose key has value (string), or a test failure. */
static inline const JsonValue *
tx_find(const RowSet *rs, const char *key, const char *value, ClDate *date)
{
	for (size_t i = 0; i < rs->count; i++)
	{
		const char *v = json_text(json_member(rs->rows[i], key));

		if (v != NULL && strcmp(v, value) == 0)
		{
			if (date != NULL)
				*date = rs->dates[i];
			return rs->rows[i];
		}
	}
	fail_msg("no row with %s = %s", key, value);
	return NULL;
}

/* tx_str: a string field of row; fails the test when it is not one. */
static inline const char *
tx_str(const JsonValue *row, const char *path)
{
	const char *s = json_string(json_path(row, path));

	if (s == NULL)
		fail_msg("field %s is not a string", path);
	return s;
}

static inline int64_t
tx_int(const JsonValue *row, const char *path)
{
	int64_t v = 0;
	const JsonValue *j = json_path(row, path);

	if (j == NULL || j->type != JSON_NUMBER || !json_int64(j, &v))
		fail_msg("field %s is not an integer", path);
	return v;
}

static inline bool
tx_bool(const JsonValue *row, const char *path)
{
	bool b = false;

	if (!json_bool(json_path(row, path), &b))
		fail_msg("field %s is not a boolean", path);
	return b;
}

static inline ClDate
tx_date(const char *s)
{
	ClDate d = 0;

	assert_true(date_parse(s, &d));
	return d;
}

/*
 * tx_request builds the request of page (cursor or offset) of stream st
 * and returns its URL; *req must be released with tx_request_free.
 */
static inline void
tx_request(ExtractFixture *f, const SourceStream *st, const SourcePage *page,
		   SourceRequest *req)
{
	ClError err = CL_OK;

	memset(req, 0, sizeof(*req));
	tb_init(&req->url, TEXTBUF_DEFAULT_MAX);
	tb_init(&req->body, TEXTBUF_DEFAULT_MAX);
	assert_true(f->run.vendor->build_request(f->state, st, page, req, &err));
	assert_true(tb_ok(&req->url));
}

static inline void
tx_request_free(SourceRequest *req)
{
	for (int i = 0; i < HTTP_MAX_HEADERS; i++)
		free(req->headers[i]);
	tb_free(&req->url);
	tb_free(&req->body);
}

/* tx_has_header: the request carries exactly this header line. */
static inline bool
tx_has_header(const SourceRequest *req, const char *line)
{
	for (int i = 0; i < HTTP_MAX_HEADERS && req->headers[i] != NULL; i++)
	{
		if (strcmp(req->headers[i], line) == 0)
			return true;
	}
	return false;
}

/* tx_error_response fills resp with a saved error body and status. */
static inline void
tx_error_response(HttpResponse *resp, long status, const char *rel)
{
	char *path = ts_shared_fixture(rel);
	size_t len = 0;

	memset(resp, 0, sizeof(*resp));
	resp->status = status;
	resp->error_body = ts_read_file(path, &len);
	resp->error_body_len = len;
	free(path);
}

#endif
