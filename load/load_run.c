/*
 * load_run.c: the steps of cl-load in order; each one lives in its own
 * module (migrate.c, output_select.c, output_manifest.c, loader.c).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "load_run.h"
#include "loader.h"
#include "log.h"
#include "migrate.h"
#include "output_manifest.h"
#include "output_select.h"
#include "retry.h"
#include "timeutil.h"

#ifndef CLOSEDLOOP_VERSION
#define CLOSEDLOOP_VERSION "unknown"
#endif

/*
 * load_settings_from_config reads the keys once, so that the rest of
 * cl-load never looks at the Config and can be driven by tests directly.
 */
bool
load_settings_from_config(const Config *cfg, LoadRunSettings *s, ClError *err)
{
	const char *output_dir = config_get(cfg, "attribution", "output_dir");
	const char *staging_dir = config_get(cfg, "pipeline", "staging_dir");
	const char *migrations_dir = config_get(cfg, "database", "migrations_dir");
	char host[128];
	int n;

	memset(s, 0, sizeof(*s));
	s->db.conninfo = config_get(cfg, "database", "conninfo");
	s->db.application_name = config_get(cfg, "database", "application_name");
	s->db.statement_timeout_ms = config_get_int(cfg, "database", "statement_timeout_ms");
	s->db.lock_timeout_ms = config_get_int(cfg, "database", "lock_timeout_ms");
	s->db.connect_retries = (int) config_get_int(cfg, "database", "connect_retries");
	s->lock_wait_seconds = (int) config_get_int(cfg, "database", "lock_wait_seconds");
	s->reader_role = config_get(cfg, "database", "reader_role");
	s->migrations_dir = migrations_dir != NULL && migrations_dir[0] != '\0'
						? migrations_dir : CLOSEDLOOP_SQL_DIR;

	if (output_dir != NULL && output_dir[0] != '\0')
	{
		n = snprintf(s->output_dir, sizeof(s->output_dir), "%s", output_dir);
	}
	else if (staging_dir != NULL && staging_dir[0] != '\0')
	{
		n = snprintf(s->output_dir, sizeof(s->output_dir), "%s/out", staging_dir);
	}
	else
	{
		log_error("neither [attribution] output_dir nor [pipeline] staging_dir is set: "
				  "cl-load does not know where the transform outputs are");
		*err = CL_ERR_CONFIG;
		return false;
	}
	if (n < 0 || (size_t) n >= sizeof(s->output_dir))
	{
		log_error("the output directory path is longer than %zu bytes", sizeof(s->output_dir));
		*err = CL_ERR_CONFIG;
		return false;
	}
	if (gethostname(host, sizeof(host)) != 0)
	{
		(void) snprintf(host, sizeof(host), "unknown host");
	}
	host[sizeof(host) - 1] = '\0';
	(void) snprintf(s->loaded_by, sizeof(s->loaded_by), "cl-load %s on %s", CLOSEDLOOP_VERSION,
					host);
	return true;
}

/*
 * fetch_succeeded reads the run ids etl.runs records as loaded into an
 * ALLOCATED array of ALLOCATED strings (free with output_list_free). A
 * database without etl.runs (a dry run before the first migration) has
 * loaded nothing.
 */
static bool
fetch_succeeded(PgConn *pg, char ***ids, size_t *count, ClError *err)
{
	PGresult *res = NULL;
	char **list = NULL;
	int rows = 0;
	bool ok = false;

	*ids = NULL;
	*count = 0;
	if (!pgconn_query(pg, "SELECT to_regclass('etl.runs') IS NOT NULL", 0, NULL, &res))
	{
		goto failed;
	}
	if (strcmp(PQgetvalue(res, 0, 0), "t") != 0)
	{
		PQclear(res);
		return true;
	}
	PQclear(res);
	res = NULL;
	if (!pgconn_query(pg, "SELECT run_id FROM etl.runs WHERE status = 'succeeded'", 0, NULL,
					  &res))
	{
		goto failed;
	}
	rows = PQntuples(res);
	list = calloc((size_t) rows + 1, sizeof(char *));
	if (list == NULL)
	{
		log_error("out of memory reading etl.runs");
		*err = CL_ERR_INTERNAL;
		goto cleanup;
	}
	for (int r = 0; r < rows; r++)
	{
		list[r] = strdup(PQgetvalue(res, r, 0));
		if (list[r] == NULL)
		{
			log_error("out of memory reading etl.runs");
			*err = CL_ERR_INTERNAL;
			goto cleanup;
		}
	}
	*ids = list;
	*count = (size_t) rows;
	list = NULL;
	ok = true;
	goto cleanup;

failed:
	pgconn_log_error(pg, "cannot read etl.runs");
	*err = pgconn_error_class(pg);

cleanup:
	PQclear(res);
	output_list_free(list, (size_t) rows);
	return ok;
}

/*
 * choose_output resolves which run to load into run_id (size bytes);
 * *found is false when there is nothing to load.
 */
static bool
choose_output(PgConn *pg, const LoadRunSettings *s, const LoadRequest *req, char *run_id,
			  size_t size, bool *found, ClError *err)
{
	char **outputs = NULL;
	size_t noutputs = 0;
	char **loaded = NULL;
	size_t nloaded = 0;
	long pick = -1;
	bool ok = false;

	*found = false;
	if (req->run != NULL)
	{
		(void) snprintf(run_id, size, "%s", req->run);
		*found = true;
		return true;
	}
	if (!output_list(s->output_dir, &outputs, &noutputs, err) ||
		!fetch_succeeded(pg, &loaded, &nloaded, err))
	{
		/* errors have already been logged */
		goto cleanup;
	}
	pick = output_select_newest((const char *const *) outputs, noutputs,
								(const char *const *) loaded, nloaded);
	if (pick < 0)
	{
		log_info("nothing to load: %s has %zu complete output%s, all loaded", s->output_dir,
				 noutputs, noutputs == 1 ? "" : "s");
	}
	else
	{
		(void) snprintf(run_id, size, "%s", outputs[pick]);
		*found = true;
		if ((size_t) pick + 1 < noutputs)
		{
			log_warn("loading %s, which is older than the loaded output %s", outputs[pick],
					 outputs[noutputs - 1]);
		}
	}
	ok = true;

cleanup:
	output_list_free(outputs, noutputs);
	output_list_free(loaded, nloaded);
	return ok;
}

/*
 * print_plan is the dry run's report, on stdout: it is the command's
 * output, not a log line.
 */
static void
print_plan(const char *dir, const OutputManifest *m, int64_t bytes)
{
	char from[CL_DATE_BUFSIZE];
	char to[CL_DATE_BUFSIZE];

	printf("run %s: window %s..%s, %s\n", m->run_id, date_format(m->window_from, from),
		   date_format(m->window_to, to), dir);
	for (size_t i = 0; i < m->table_count; i++)
	{
		const ManifestTable *mt = &m->tables[i];
		const LoadTable *t = mt->table;

		if (t->mode == LOAD_MODE_WINDOW)
		{
			printf("  %-20s %10" PRId64 " rows  replace rows with %s in %s..%s\n", t->name,
				   mt->rows, t->window_column, from, to);
		}
		else if (t->mode == LOAD_MODE_WINDOW_EXACT)
		{
			printf("  %-20s %10" PRId64 " rows  replace rows with (%s, %s) = (%s, %s)\n",
				   t->name, mt->rows, t->window_column, t->window_to_column, from, to);
		}
		else
		{
			printf("  %-20s %10" PRId64 " rows  upsert by (", t->name, mt->rows);
			for (size_t k = 0; t->key_columns[k] != NULL; k++)
			{
				printf("%s%s", k > 0 ? ", " : "", t->key_columns[k]);
			}
			printf(")\n");
		}
	}
	for (size_t c = 0; c < load_catalog_count; c++)
	{
		if (manifest_find(m, load_catalog[c].name) == NULL)
		{
			printf("  %-20s not in this output, left as it is\n", load_catalog[c].name);
		}
	}
	printf("files verified: %zu, %" PRId64 " bytes; dry run, nothing written\n", m->table_count,
		   bytes);
}

/*
 * load_with_retries runs the load transaction, and runs it again from the
 * start when the connection dropped: nothing of a transaction without its
 * COMMIT is kept, and a load whose COMMIT did arrive is idempotent.
 */
static bool
load_with_retries(PgConn *pg, const LoadRunSettings *s, const char *dir, const OutputManifest *m,
				  const LoaderSettings *ls, LoadStats *stats, ClTime *started, ClError *err)
{
	RetryPolicy policy = {
		.max_attempts = s->db.connect_retries > 0 ? s->db.connect_retries : 1,
		.base_ms = 1000,
		.max_sleep_ms = 30000,
		.max_total_ms = 300000
	};
	RetryState state;
	int attempt = 1;

	retry_start(&state, (uint64_t) time_now() ^ (uint64_t) getpid());
	for (;;)
	{
		int64_t sleep_ms = 0;

		*started = time_now();
		if (loader_load(pg, dir, m, ls, *started, stats, err))
		{
			return true;
		}
		if (*err != CL_ERR_TEMPORARY || !pg->connection_lost)
		{
			return false;
		}
		if (cl_stop_requested() || !retry_next(&policy, &state, -1, &sleep_ms))
		{
			log_error("the connection was lost during the load %d time%s; giving up", attempt,
					  attempt == 1 ? "" : "s");
			return false;
		}
		log_warn("the connection was lost during the load; nothing was committed, loading "
				 "again in %" PRId64 " ms (attempt %d of %d)", sleep_ms, attempt + 1,
				 policy.max_attempts);
		pgconn_close(pg);
		if (!retry_sleep_ms(sleep_ms))
		{
			log_error("stop requested while waiting to load again");
			*err = CL_ERR_TEMPORARY;
			return false;
		}
		if (!pgconn_open(pg, &s->db, err))
		{
			/* errors have already been logged */
			return false;
		}
		attempt++;
	}
}

/*
 * record_failure reconnects once if needed: the failure is worth a row in
 * etl.runs even when it was the connection that failed.
 */
static void
record_failure(PgConn *pg, const LoadRunSettings *s, const OutputManifest *m,
			   const LoaderSettings *ls, ClTime started, const char *failure)
{
	if (pg->conn == NULL || PQstatus(pg->conn) != CONNECTION_OK)
	{
		PgConnSettings once = s->db;
		ClError ignored = CL_OK;

		once.connect_retries = 1;
		pgconn_close(pg);
		if (!pgconn_open(pg, &once, &ignored))
		{
			log_warn("the failed run %s is not recorded in etl.runs: cannot reconnect",
					 m->run_id);
			return;
		}
	}
	loader_record_failure(pg, m, ls, started, failure);
}

/*
 * load_run: migrations come first, even for a dry run's report, because
 * the load and its checks depend on the schema they create. A failure
 * after the manifest was read is recorded in etl.runs; before that there
 * is no run to record.
 */
bool
load_run(const LoadRunSettings *s, const LoadRequest *req, ClError *err)
{
	PgConn pg;
	MigrateSettings ms = {
		.dir = s->migrations_dir,
		.reader_role = s->reader_role,
		.lock_wait_seconds = s->lock_wait_seconds,
		.dry_run = req->dry_run
	};
	LoaderSettings ls = {
		.lock_wait_seconds = s->lock_wait_seconds,
		.loaded_by = s->loaded_by
	};
	OutputManifest *m = NULL;
	LoadStats *stats = NULL;
	char run_id[MANIFEST_RUN_ID_SIZE];
	char dir[LOAD_PATH_SIZE];
	char manifest_path[LOAD_PATH_SIZE];
	bool found = false;
	bool have_manifest = false;
	int64_t bytes = 0;
	ClTime started = time_now();
	bool ok = false;

	pgconn_init(&pg);
	m = calloc(1, sizeof(*m));
	stats = calloc(1, sizeof(*stats));
	if (m == NULL || stats == NULL)
	{
		log_error("out of memory");
		*err = CL_ERR_INTERNAL;
		goto cleanup;
	}
	if (!pgconn_open(&pg, &s->db, err) || !migrate_run(&pg, &ms, err))
	{
		/* errors have already been logged */
		goto cleanup;
	}
	if (req->migrate_only)
	{
		ok = true;
		goto cleanup;
	}

	if (!choose_output(&pg, s, req, run_id, sizeof(run_id), &found, err))
	{
		/* errors have already been logged */
		goto cleanup;
	}
	if (!found)
	{
		ok = true;
		goto cleanup;
	}
	if (!fileio_join(dir, sizeof(dir), s->output_dir, run_id) ||
		!fileio_join(manifest_path, sizeof(manifest_path), dir, MANIFEST_FILE))
	{
		log_error("the output path of run %s is too long", run_id);
		*err = CL_ERR_CONFIG;
		goto cleanup;
	}
	if (!fileio_is_regular(manifest_path))
	{
		log_error("run %s has no complete output: %s does not exist", run_id, manifest_path);
		*err = CL_ERR_DATA;
		goto cleanup;
	}
	if (!manifest_load(dir, run_id, m, err))
	{
		/* errors have already been logged */
		goto cleanup;
	}
	have_manifest = true;
	if (!manifest_verify_files(dir, m, &bytes, err))
	{
		(void) snprintf(stats->failure, sizeof(stats->failure),
						"the output's files do not match its manifest (see the log)");
		goto cleanup;
	}
	log_info("run %s: %zu files verified (%" PRId64 " bytes)", run_id, m->table_count, bytes);
	if (req->dry_run)
	{
		print_plan(dir, m, bytes);
		ok = true;
		goto cleanup;
	}

	if (!load_with_retries(&pg, s, dir, m, &ls, stats, &started, err))
	{
		/* errors have already been logged */
		goto cleanup;
	}
	{
		char from[CL_DATE_BUFSIZE];
		char to[CL_DATE_BUFSIZE];

		log_info("loaded run %s (window %s..%s): %" PRId64 " rows from %zu files in %" PRId64
				 " ms", m->run_id, date_format(m->window_from, from),
				 date_format(m->window_to, to), stats->rows, m->table_count, stats->duration_ms);
	}
	ok = true;

cleanup:
	if (!ok && have_manifest && !req->dry_run)
	{
		record_failure(&pg, s, m, &ls, started, stats->failure);
	}
	pgconn_close(&pg);
	free(stats);
	free(m);
	return ok;
}
