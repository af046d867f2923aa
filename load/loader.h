/*
 * loader.h: the load transaction (DESIGN §5).
 *
 * In ONE transaction, under the load advisory lock: for each table of the
 * manifest, COPY its file into a temporary table, check the row count,
 * then replace the window's rows (window and exact-window tables) or
 * upsert by key (entity tables). attribution_credit, partitioned by month,
 * is COPYed into new month tables that are indexed in bulk and swapped in
 * for the old months at the end. Then record the run in etl.runs; COMMIT.
 * Either all of it becomes visible or none. Every step is idempotent, so a
 * load that lost its connection (even during COMMIT) can simply be run
 * again.
 */
#ifndef CL_LOAD_LOADER_H
#define CL_LOAD_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "exitcode.h"
#include "output_manifest.h"
#include "pgconn.h"
#include "timeutil.h"

#define LOADER_FAILURE_SIZE 2048

typedef struct LoaderSettings
{
	int lock_wait_seconds;      /* [database] lock_wait_seconds: the load lock, and readers at the swap */
	const char *loaded_by;      /* "cl-load 0.1.0 on host": etl.runs.loaded_by after the user */
} LoaderSettings;

typedef struct TableStats
{
	int64_t copied;             /* rows COPY read from the file */
	int64_t deleted;            /* window tables: rows of the window removed */
	int64_t written;            /* rows inserted, or upserted and changed */
} TableStats;

typedef struct LoadStats
{
	TableStats tables[MANIFEST_MAX_TABLES];  /* indexed like manifest->tables */
	int64_t rows;               /* total rows copied */
	int64_t duration_ms;
	/* on failure: one line for etl.runs.error (SQLSTATE, message, table, file, line) */
	char failure[LOADER_FAILURE_SIZE];
} LoadStats;

/*
 * loader_load loads the output in dir described by m (already verified).
 * started is when this attempt began (etl.runs.started_at). On failure the
 * error is logged, the transaction rolled back (if the connection still
 * works), stats->failure filled and *err classified: CL_ERR_DATA for bad
 * data, CL_ERR_TEMPORARY for a lost connection, the lock or a
 * serialization failure (pg->connection_lost tells the first apart),
 * CL_ERR_INTERNAL otherwise. Does not manage the lifetime of pg.
 */
bool loader_load(PgConn *pg, const char *dir, const OutputManifest *m,
				 const LoaderSettings *settings, ClTime started, LoadStats *stats, ClError *err)
	__attribute__((warn_unused_result));

/*
 * loader_record_failure writes the failed attempt to etl.runs in its own
 * short transaction. Best effort: a failure to record is logged as a
 * warning and otherwise ignored. An earlier success of the same run is
 * kept (its data is still what the tables hold).
 */
void loader_record_failure(PgConn *pg, const OutputManifest *m, const LoaderSettings *settings,
						   ClTime started, const char *failure);

/*
 * loader_context_line extracts N from a COPY error's context ("COPY
 * load_deals, line N, column amount: ..."); 0 when there is none.
 */
long loader_context_line(const char *context);

#endif
