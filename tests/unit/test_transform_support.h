/*
 * test_transform_support.h: helpers shared by the test_transform_* tests.
 *
 * Header-only (static inline), because every tests/unit/test_*.c file is a
 * test binary of its own. A TxEnv is a temporary directory with a staging
 * tree written through the common StagingWriter, a configuration loaded
 * with config_load_string(), and the output of transform_run() read back
 * as text.
 *
 * Include after <cmocka.h> and support.h.
 */
#ifndef CL_TEST_TRANSFORM_SUPPORT_H
#define CL_TEST_TRANSFORM_SUPPORT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "json.h"
#include "log.h"
#include "staging.h"
#include "transform.h"

typedef struct TxConfig
{
	const char *timezone;       /* NULL: UTC */
	const char *reporting;      /* NULL: USD */
	const char *models;         /* NULL: first_touch,last_touch,linear */
	int lookback_days;          /* 0: 30 */
	const char *rates_file;     /* NULL: not set */
	const char *rules_file;     /* NULL: not set */
	const char *defaults;       /* NULL: not set (true) */
	const char *attribution;    /* NULL: nothing; else more [attribution] lines */
} TxConfig;

typedef struct TxEnv
{
	char *dir;                  /* owned: the temporary root */
	char *staging;              /* owned: <dir>/staging */
	char *out;                  /* owned: <dir>/out */
	Config *cfg;                /* owned */
	char run_id[CL_RUN_ID_SIZE];
	int runs;
	TransformSummary summary;
	ClError err;
} TxEnv;

/* tt_path: ALLOCATED "<a>/<b>", caller frees. */
static inline char *
tt_path(const char *a, const char *b)
{
	size_t n = strlen(a) + strlen(b) + 2;
	char *p = malloc(n);

	assert_non_null(p);
	snprintf(p, n, "%s/%s", a, b);
	return p;
}

static inline ClDate
tt_day(const char *s)
{
	ClDate d = 0;

	assert_true(date_parse(s, &d));
	return d;
}

static inline ClTime
tt_time(const char *s)
{
	ClTime t = 0;

	assert_true(time_parse_rfc3339(s, &t));
	return t;
}

/* tt_env_new: ALLOCATED; free with tt_env_free(), which removes the tree. */
static inline TxEnv *
tt_env_new(const char *name)
{
	TxEnv *e = calloc(1, sizeof(TxEnv));

	assert_non_null(e);
	log_set_level(LOG_WARN);
	e->dir = ts_make_tmpdir(name);
	e->staging = tt_path(e->dir, "staging");
	e->out = tt_path(e->dir, "out");
	return e;
}

static inline void
tt_env_free(TxEnv *e)
{
	if (e == NULL)
		return;
	config_free(e->cfg);
	ts_rmdir_r(e->dir);
	free(e->dir);
	free(e->staging);
	free(e->out);
	free(e);
}

/* tt_configure loads a configuration for e from c (NULL: all defaults). */
static inline void
tt_configure(TxEnv *e, const TxConfig *c)
{
	static const TxConfig none = { 0 };
	char text[8192];
	int n;

	if (c == NULL)
		c = &none;
	n = snprintf(text, sizeof(text),
				 "[pipeline]\nstaging_dir = %s\ntimezone = %s\nreporting_currency = %s\n%s%s%s"
				 "[attribution]\noutput_dir = %s\nmodels = %s\nlookback_days = %d\n%s"
				 "[channels]\n%s%s%s%s%s%s",
				 e->staging, c->timezone != NULL ? c->timezone : "UTC",
				 c->reporting != NULL ? c->reporting : "USD",
				 c->rates_file != NULL ? "rates_file = " : "",
				 c->rates_file != NULL ? c->rates_file : "", c->rates_file != NULL ? "\n" : "",
				 e->out, c->models != NULL ? c->models : "first_touch,last_touch,linear",
				 c->lookback_days > 0 ? c->lookback_days : 30,
				 c->attribution != NULL ? c->attribution : "",
				 c->rules_file != NULL ? "rules_file = " : "",
				 c->rules_file != NULL ? c->rules_file : "", c->rules_file != NULL ? "\n" : "",
				 c->defaults != NULL ? "defaults = " : "",
				 c->defaults != NULL ? c->defaults : "", c->defaults != NULL ? "\n" : "");
	assert_true(n > 0 && (size_t) n < sizeof(text));
	config_free(e->cfg);
	e->cfg = NULL;
	assert_true(config_load_string(text, "test.ini", &e->cfg));
}

/*
 * tt_partition: the partition of a fact row, the UTC date of "at" or its
 * "date"; mutable entities pass their extraction date instead.
 */
static inline ClDate
tt_partition(const JsonValue *row)
{
	const char *at = json_string(json_member(row, "at"));
	const char *date = json_string(json_member(row, "date"));

	if (at != NULL)
		return time_utc_date(tt_time(at));
	assert_non_null(date);
	return tt_day(date);
}

/*
 * tt_stage commits rows (JSON object texts, NULL-terminated) as one run of
 * family/vendor/entity. partition is the extraction date of mutable
 * entities, or NULL to take each fact row's own date.
 */
static inline void
tt_stage(TxEnv *e, const char *family, const char *vendor, const char *entity,
		 const char *run_id, const char *partition, const char *const *rows)
{
	StagingWindow window = { tt_day("2026-01-01"), tt_day("2026-12-31") };
	StagingWriter *w = staging_writer_new(e->staging, family, vendor, entity, run_id, window,
										  "test");
	ClError err = CL_OK;

	assert_non_null(w);
	for (size_t i = 0; rows[i] != NULL; i++)
	{
		char msg[256];
		JsonValue *row = json_parse(rows[i], strlen(rows[i]), msg, sizeof(msg));
		JsonGen *g;

		if (row == NULL)
			fail_msg("bad test row %s: %s", rows[i], msg);
		g = staging_row_begin(w, partition != NULL ? tt_day(partition) : tt_partition(row));
		assert_non_null(g);
		for (size_t k = 0; k < row->count; k++)
			jgen_value(g, row->keys[k], row->items[k]);
		assert_true(staging_row_end(w));
		json_free(row);
	}
	assert_true(staging_writer_commit(w, NULL, -1, &err));
	staging_writer_free(w);
}

/* tt_run runs the transform over [from, to] with a fresh run id. */
static inline bool
tt_run(TxEnv *e, const char *from, const char *to)
{
	TransformOptions o = { 0 };

	e->runs++;
	snprintf(e->run_id, sizeof(e->run_id), "20260101T000000Z-%06d", e->runs);
	o.cfg = e->cfg;
	o.config_dir = e->dir;
	o.run_id = e->run_id;
	o.from = tt_day(from);
	o.to = tt_day(to);
	o.summary = NULL;
	e->err = CL_OK;
	return transform_run(&o, &e->summary, &e->err);
}

/* tt_read_table: ALLOCATED text of <out>/<run_id>/<table>.copy. */
static inline char *
tt_read_table(const TxEnv *e, const char *table)
{
	char rel[256];
	char *path;
	char *text;

	snprintf(rel, sizeof(rel), "%s/%s.copy", e->run_id, table);
	path = tt_path(e->out, rel);
	text = ts_read_file(path, NULL);
	free(path);
	return text;
}

/* tt_count_lines: lines of text starting with prefix ("" counts all). */
static inline int
tt_count_lines(const char *text, const char *prefix)
{
	int n = 0;
	size_t plen = strlen(prefix);

	for (const char *p = text; *p != '\0';)
	{
		const char *nl = strchr(p, '\n');

		if (strncmp(p, prefix, plen) == 0)
			n++;
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	return n;
}

/* tt_line: ALLOCATED copy (no newline) of the nth (0-based) line starting
 * with prefix; fails the test when there is none. */
static inline char *
tt_line(const char *text, const char *prefix, int nth)
{
	size_t plen = strlen(prefix);

	for (const char *p = text; *p != '\0';)
	{
		const char *nl = strchr(p, '\n');
		size_t len = nl != NULL ? (size_t) (nl - p) : strlen(p);

		if (strncmp(p, prefix, plen) == 0 && nth-- == 0)
		{
			char *line = malloc(len + 1);

			assert_non_null(line);
			memcpy(line, p, len);
			line[len] = '\0';
			return line;
		}
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	fail_msg("no line %d starting with \"%s\" in:\n%s", nth, prefix, text);
	return NULL;
}

/* tt_field: ALLOCATED copy of TAB-separated field k (0-based) of line. */
static inline char *
tt_field(const char *line, int k)
{
	const char *p = line;
	const char *end;
	char *out;

	for (int i = 0; i < k; i++)
	{
		p = strchr(p, '\t');
		assert_non_null(p);
		p++;
	}
	end = strchr(p, '\t');
	if (end == NULL)
		end = p + strlen(p);
	out = malloc((size_t) (end - p) + 1);
	assert_non_null(out);
	memcpy(out, p, (size_t) (end - p));
	out[end - p] = '\0';
	return out;
}

/* tt_assert_field checks field k of the nth line starting with prefix. */
#define tt_assert_field(text, prefix, nth, k, expected) \
	do { \
		char *tt_l_ = tt_line((text), (prefix), (nth)); \
		char *tt_f_ = tt_field(tt_l_, (k)); \
		if (strcmp(tt_f_, (expected)) != 0) \
			fail_msg("field %d of \"%s\": \"%s\", expected \"%s\"", (k), tt_l_, tt_f_, \
					 (expected)); \
		free(tt_f_); \
		free(tt_l_); \
	} while (0)

#endif
