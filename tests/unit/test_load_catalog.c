/*
 * test_load_catalog.c: the loader's catalog (load/catalog.c) against the
 * two documents it must agree with: docs/DATA_MODEL.md (the contract with
 * cl-transform) and sql/002_attribution.sql (the tables it loads into).
 * Columns, their order, the load mode, the window column and the key.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "log.h"
#include "support.h"

#define MAX_COLUMNS 64
#define MAX_NAME 64

typedef struct ColumnList
{
	char names[MAX_COLUMNS][MAX_NAME];
	size_t count;
} ColumnList;

static void
add_column(ColumnList *l, const char *start, size_t len)
{
	while (len > 0 && isspace((unsigned char) *start))
	{
		start++;
		len--;
	}
	while (len > 0 && isspace((unsigned char) start[len - 1]))
	{
		len--;
	}
	assert_true(len > 0 && len < MAX_NAME);
	assert_true(l->count < MAX_COLUMNS);
	(void) snprintf(l->names[l->count], MAX_NAME, "%.*s", (int) len, start);
	l->count++;
}

static void
assert_same_columns(const ColumnList *l, const LoadTable *t, const char *where)
{
	size_t n = catalog_column_count(t->columns);

	if (l->count != n)
	{
		fail_msg("%s: table %s has %zu columns, the catalog %zu", where, t->name, l->count, n);
	}
	for (size_t i = 0; i < n; i++)
	{
		if (strcmp(l->names[i], t->columns[i]) != 0)
		{
			fail_msg("%s: table %s column %zu is \"%s\", the catalog says \"%s\"", where,
					 t->name, i + 1, l->names[i], t->columns[i]);
		}
	}
}

/* next_line: the line after p, or NULL at the end. */
static const char *
next_line(const char *p)
{
	const char *nl = strchr(p, '\n');

	return nl == NULL ? NULL : nl + 1;
}

/*
 * model_columns reads the columns of one "### <name> — load: ..." section
 * of DATA_MODEL.md: either its "| # | column | ..." table (which prose may
 * precede) or its comma-separated paragraph, where "(...)" is an
 * explanation.
 */
static void
model_columns(const char *doc, const LoadTable *t, ColumnList *out, char *heading, size_t hsize)
{
	char marker[128];
	const char *p = NULL;
	const char *eol = NULL;

	memset(out, 0, sizeof(*out));
	(void) snprintf(marker, sizeof(marker), "\n### %s ", t->name);
	p = strstr(doc, marker);
	if (p == NULL)
	{
		fail_msg("docs/DATA_MODEL.md has no section \"### %s\"", t->name);
		return;
	}
	p++;
	eol = strchr(p, '\n');
	assert_non_null(eol);
	(void) snprintf(heading, hsize, "%.*s", (int) (eol - p), p);
	p = eol + 1;

	while (p != NULL && (*p == '\n' || *p == '\r'))
	{
		p++;
	}
	assert_non_null(p);
	if (*p != '|')
	{
		/* prose may explain the table before its column table: skip to that table */
		const char *table = strstr(p, "\n| # |");
		const char *next_heading = strstr(p, "\n#");

		if (table != NULL && (next_heading == NULL || table < next_heading))
		{
			p = table + 1;
		}
	}
	if (*p == '|')
	{
		/* | # | column | type | meaning |, then |---|, then rows */
		p = next_line(p);
		p = p != NULL ? next_line(p) : NULL;
		while (p != NULL && *p == '|')
		{
			const char *c1 = strchr(p + 1, '|');
			const char *c2 = c1 != NULL ? strchr(c1 + 1, '|') : NULL;

			assert_non_null(c2);
			add_column(out, c1 + 1, (size_t) (c2 - c1 - 1));
			p = next_line(p);
		}
		return;
	}
	for (;;)
	{
		const char *item = p;
		int depth = 0;

		while (*p != '\0' && !(depth == 0 && (*p == ',' || (*p == '\n' && p[1] == '\n'))))
		{
			if (*p == '(')
			{
				if (depth == 0)
				{
					add_column(out, item, (size_t) (p - item));
					item = NULL;
				}
				depth++;
			}
			else if (*p == ')')
			{
				depth--;
			}
			p++;
		}
		if (item != NULL)
		{
			add_column(out, item, (size_t) (p - item));
		}
		if (*p != ',')
		{
			return;
		}
		p++;
	}
}

static void
test_load_catalog_matches_data_model(void **state)
{
	char *path = ts_source_path("docs/DATA_MODEL.md");
	char *doc = ts_read_file(path, NULL);

	(void) state;
	for (size_t i = 0; i < load_catalog_count; i++)
	{
		const LoadTable *t = &load_catalog[i];
		ColumnList cols;
		char heading[256];
		char expect[256];

		model_columns(doc, t, &cols, heading, sizeof(heading));
		assert_same_columns(&cols, t, "docs/DATA_MODEL.md");
		if (t->mode == LOAD_MODE_WINDOW)
		{
			(void) snprintf(expect, sizeof(expect), "load: window on `%s`", t->window_column);
		}
		else if (t->mode == LOAD_MODE_WINDOW_EXACT)
		{
			(void) snprintf(expect, sizeof(expect), "load: window_exact on (`%s`, `%s`)",
							t->window_column, t->window_to_column);
		}
		else
		{
			size_t n = (size_t) snprintf(expect, sizeof(expect), "load: upsert on (");

			for (size_t k = 0; t->key_columns[k] != NULL; k++)
			{
				n += (size_t) snprintf(expect + n, sizeof(expect) - n, "%s%s", k > 0 ? ", " : "",
									   t->key_columns[k]);
			}
			(void) snprintf(expect + n, sizeof(expect) - n, ")");
		}
		if (strstr(heading, expect) == NULL)
		{
			fail_msg("docs/DATA_MODEL.md \"%s\" does not say \"%s\"", heading, expect);
		}
	}
	free(doc);
	free(path);
}

/*
 * table_block returns the text after the last "CREATE TABLE
 * attribution.<name>" of the migrations up to their end (its indexes and
 * comments follow it): a later migration may recreate a table (004
 * partitions attribution_credit), and the last definition is the one that
 * counts.
 */
static const char *
table_block(const char *sql, const char *name)
{
	char marker[128];
	const char *p;
	const char *last = NULL;

	(void) snprintf(marker, sizeof(marker), "CREATE TABLE attribution.%s\n(\n", name);
	for (p = strstr(sql, marker); p != NULL; p = strstr(p + 1, marker))
	{
		last = p;
	}
	if (last == NULL)
	{
		fail_msg("no migration in sql/ creates attribution.%s", name);
	}
	return last + strlen(marker);
}

static int
compare_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/*
 * read_migrations returns the text of every sql/NNN_*.sql file in version
 * (name) order, ALLOCATED; the caller frees it with free().
 */
static char *
read_migrations(void)
{
	char *dir = ts_source_path("sql");
	DIR *d = opendir(dir);
	char *names[64];
	size_t count = 0;
	char *all = NULL;
	size_t len = 0;
	struct dirent *e;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
	{
		size_t n = strlen(e->d_name);

		if (isdigit((unsigned char) e->d_name[0]) && n > 4 && strcmp(e->d_name + n - 4, ".sql") == 0)
		{
			assert_true(count < 64);
			names[count] = strdup(e->d_name);
			assert_non_null(names[count]);
			count++;
		}
	}
	(void) closedir(d);
	qsort(names, count, sizeof(names[0]), compare_names);
	for (size_t i = 0; i < count; i++)
	{
		char path[1024];
		size_t flen = 0;
		char *text = NULL;

		(void) snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		text = ts_read_file(path, &flen);
		all = realloc(all, len + flen + 1);
		assert_non_null(all);
		memcpy(all + len, text, flen);
		len += flen;
		all[len] = '\0';
		free(text);
		free(names[i]);
	}
	free(dir);
	assert_non_null(all);
	return all;
}

static void
test_load_catalog_matches_migration(void **state)
{
	char *sql = read_migrations();

	(void) state;
	for (size_t i = 0; i < load_catalog_count; i++)
	{
		const LoadTable *t = &load_catalog[i];
		const char *p = table_block(sql, t->name);
		ColumnList cols;
		char want[512];
		size_t n = 0;

		memset(&cols, 0, sizeof(cols));
		/* column lines come first: "\t<name> <type> ...", until a constraint or ");" */
		while (p != NULL && *p == '\t' && strncmp(p + 1, "CONSTRAINT", 10) != 0)
		{
			const char *end = p + 1;

			while (*end != '\0' && !isspace((unsigned char) *end))
			{
				end++;
			}
			add_column(&cols, p + 1, (size_t) (end - p - 1));
			p = next_line(p);
		}
		assert_same_columns(&cols, t, "sql/");

		if (t->mode == LOAD_MODE_UPSERT)
		{
			n = (size_t) snprintf(want, sizeof(want), "PRIMARY KEY (");
			for (size_t k = 0; t->key_columns[k] != NULL; k++)
			{
				n += (size_t) snprintf(want + n, sizeof(want) - n, "%s%s", k > 0 ? ", " : "",
									   t->key_columns[k]);
			}
			(void) snprintf(want + n, sizeof(want) - n, ")");
		}
		else
		{
			/* the window replace needs an index that leads with the window column */
			(void) snprintf(want, sizeof(want), "ON attribution.%s (%s)", t->name,
							t->window_column);
			if (strstr(p, want) == NULL)
			{
				(void) snprintf(want, sizeof(want), "PRIMARY KEY (%s,", t->window_column);
			}
		}
		if (strstr(p, want) == NULL)
		{
			fail_msg("sql/: attribution.%s lacks \"%s\"", t->name, want);
		}
		/* every table and column is commented for BI tools */
		(void) snprintf(want, sizeof(want), "COMMENT ON TABLE attribution.%s IS", t->name);
		if (strstr(sql, want) == NULL)
		{
			fail_msg("sql/: no %s", want);
		}
		for (size_t c = 0; t->columns[c] != NULL; c++)
		{
			(void) snprintf(want, sizeof(want), "COMMENT ON COLUMN attribution.%s.%s IS",
							t->name, t->columns[c]);
			if (strstr(sql, want) == NULL)
			{
				fail_msg("sql/: no %s", want);
			}
		}
	}
	free(sql);
}

static void
test_load_catalog_is_consistent(void **state)
{
	LoadMode mode;

	(void) state;
	for (size_t i = 0; i < load_catalog_count; i++)
	{
		const LoadTable *t = &load_catalog[i];

		assert_ptr_equal(catalog_find(t->name), t);
		if (t->mode == LOAD_MODE_WINDOW_EXACT)
		{
			size_t found = 0;

			assert_non_null(t->window_column);
			assert_non_null(t->window_to_column);
			assert_null(t->key_columns);
			assert_false(t->monthly_partitions);
			for (size_t c = 0; t->columns[c] != NULL; c++)
			{
				found += strcmp(t->columns[c], t->window_column) == 0 ||
						 strcmp(t->columns[c], t->window_to_column) == 0;
			}
			assert_int_equal(found, 2);
		}
		else if (t->mode == LOAD_MODE_WINDOW)
		{
			bool found = false;

			assert_non_null(t->window_column);
			assert_null(t->window_to_column);
			assert_null(t->key_columns);
			for (size_t c = 0; t->columns[c] != NULL; c++)
			{
				found = found || strcmp(t->columns[c], t->window_column) == 0;
			}
			assert_true(found);
		}
		else
		{
			assert_null(t->window_column);
			assert_false(t->monthly_partitions);
			assert_true(catalog_column_count(t->key_columns) > 0);
			for (size_t k = 0; t->key_columns[k] != NULL; k++)
			{
				bool found = false;

				for (size_t c = 0; t->columns[c] != NULL; c++)
				{
					found = found || strcmp(t->columns[c], t->key_columns[k]) == 0;
				}
				assert_true(found);
			}
		}
	}
	assert_int_equal(catalog_find("attribution_model_stats")->mode, LOAD_MODE_WINDOW_EXACT);
	assert_true(catalog_find("attribution_credit")->monthly_partitions);
	assert_int_equal(catalog_find("email_campaign_stats")->mode, LOAD_MODE_WINDOW_EXACT);
	assert_null(catalog_find("email_campaign"));
	assert_null(catalog_find(NULL));
	assert_true(load_mode_parse("window", &mode));
	assert_int_equal(mode, LOAD_MODE_WINDOW);
	assert_true(load_mode_parse("upsert", &mode));
	assert_int_equal(mode, LOAD_MODE_UPSERT);
	assert_true(load_mode_parse("window_exact", &mode));
	assert_int_equal(mode, LOAD_MODE_WINDOW_EXACT);
	assert_false(load_mode_parse("Window", &mode));
	assert_false(load_mode_parse("window_", &mode));
	assert_false(load_mode_parse(NULL, &mode));
	assert_string_equal(load_mode_name(LOAD_MODE_WINDOW), "window");
	assert_string_equal(load_mode_name(LOAD_MODE_UPSERT), "upsert");
	assert_string_equal(load_mode_name(LOAD_MODE_WINDOW_EXACT), "window_exact");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_catalog_is_consistent),
		cmocka_unit_test(test_load_catalog_matches_data_model),
		cmocka_unit_test(test_load_catalog_matches_migration),
	};

	log_set_level(LOG_FATAL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
