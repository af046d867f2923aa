/*
 * catalog.h: the tables cl-load knows, as docs/DATA_MODEL.md fixes them.
 *
 * The catalog is the file format: a <table>.copy file holds exactly these
 * columns in this order, and cl-load names them in its COPY and INSERT
 * statements. The target tables are created by sql/002_attribution.sql;
 * a later migration may add columns (with defaults) without breaking the
 * files of older transform versions.
 */
#ifndef CL_LOAD_CATALOG_H
#define CL_LOAD_CATALOG_H

#include <stdbool.h>
#include <stddef.h>

typedef enum LoadMode
{
	LOAD_MODE_WINDOW,       /* rows whose window column is in the window are replaced */
	LOAD_MODE_UPSERT,       /* rows are inserted or updated by key */
	LOAD_MODE_WINDOW_EXACT  /* rows whose (from, to) columns equal the window are replaced */
} LoadMode;

typedef struct LoadTable
{
	const char *name;               /* in schema attribution, and the manifest's name */
	LoadMode mode;
	const char *window_column;      /* WINDOW: a date column; WINDOW_EXACT: the "from" column */
	const char *window_to_column;   /* WINDOW_EXACT: the "to" column; NULL otherwise */
	bool monthly_partitions;        /* WINDOW: partitioned by month of window_column (sql/004) */
	const char *const *key_columns; /* LOAD_MODE_UPSERT: NULL-terminated */
	const char *const *columns;     /* file order, NULL-terminated */
} LoadTable;

/* The tables in load order (facts after the entities they refer to). */
extern const LoadTable load_catalog[];
extern const size_t load_catalog_count;

/* catalog_find: the entry named name, or NULL. */
const LoadTable *catalog_find(const char *name);

/* "window" / "upsert" / "window_exact", as the manifest spells them. */
const char *load_mode_name(LoadMode mode);
bool load_mode_parse(const char *text, LoadMode *out);

/* Number of columns (or key columns) of a NULL-terminated list. */
size_t catalog_column_count(const char *const *columns);

#endif
