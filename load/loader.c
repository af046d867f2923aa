/*
 * loader.c: the one transaction that makes a transform output visible.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fileio.h"
#include "loader.h"
#include "log.h"
#include "retry.h"

#define COPY_CHUNK (64 * 1024)      /* bytes per PQputCopyData */
#define COPY_PROGRESS_EVERY (10 * CL_USEC_PER_SEC)     /* a log line this often */
#define SQL_MAX 16384               /* the longest statement (touches' upsert) is ~3 KiB */

/* A statement under construction; overflow is sticky and checked once. */
typedef struct SqlBuf
{
	char text[SQL_MAX];
	size_t len;
	bool overflow;
} SqlBuf;

static void
sql_init(SqlBuf *b)
{
	b->text[0] = '\0';
	b->len = 0;
	b->overflow = false;
}

static void sql_append(SqlBuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
sql_append(SqlBuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->overflow)
	{
		return;
	}
	va_start(ap, fmt);
	n = vsnprintf(b->text + b->len, sizeof(b->text) - b->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t) n >= sizeof(b->text) - b->len)
	{
		b->overflow = true;
		b->text[b->len] = '\0';
		return;
	}
	b->len += (size_t) n;
}

/*
 * sql_columns appends a column list, each column quoted and, with
 * qualifier, qualified ("t"."deal_id"). The catalog's names are plain
 * lower-case words; quoting keeps names such as "at" and "date" safe from
 * any future keyword.
 */
static void
sql_columns(SqlBuf *b, const char *qualifier, const char *const *columns)
{
	for (size_t i = 0; columns[i] != NULL; i++)
	{
		sql_append(b, "%s%s%s%s\"%s\"", i > 0 ? ", " : "", qualifier != NULL ? "\"" : "",
				   qualifier != NULL ? qualifier : "", qualifier != NULL ? "\"." : "",
				   columns[i]);
	}
}

static bool
sql_ready(const SqlBuf *b)
{
	if (b->overflow)
	{
		log_error("BUG: a load statement is longer than %d bytes", SQL_MAX);
		return false;
	}
	return true;
}

static void set_failure(LoadStats *stats, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
set_failure(LoadStats *stats, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void) vsnprintf(stats->failure, sizeof(stats->failure), fmt, ap);
	va_end(ap);
}

/*
 * loader_context_line reads the server's own line number: it counts lines as
 * COPY saw them, which is what a person opening the file needs.
 */
long
loader_context_line(const char *context)
{
	const char *p = NULL;
	char *end = NULL;
	long line;

	if (context == NULL || strncmp(context, "COPY ", 5) != 0)
	{
		return 0;
	}
	p = strstr(context, ", line ");
	if (p == NULL)
	{
		return 0;
	}
	p += strlen(", line ");
	errno = 0;
	line = strtol(p, &end, 10);
	if (errno != 0 || end == p || line <= 0)
	{
		return 0;
	}
	return line;
}

/*
 * fail_sql logs the error recorded in pg for a step of one table and fills
 * the failure line for etl.runs: what failed, where, and the server's own
 * words. The server's line number (COPY errors) is turned into file:line.
 */
static void
fail_sql(PgConn *pg, const ManifestTable *mt, const char *path, const char *step,
		 LoadStats *stats, ClError *err)
{
	char what[1024];
	char where[1024] = "";
	long line = loader_context_line(pg->context);

	if (mt != NULL)
	{
		(void) snprintf(what, sizeof(what), "table %s: %s failed (file %s)", mt->table->name,
						step, path);
		if (line > 0)
		{
			(void) snprintf(where, sizeof(where), " (table %s, file %s, line %ld)",
							mt->table->name, path, line);
		}
		else
		{
			(void) snprintf(where, sizeof(where), " (table %s, file %s)", mt->table->name, path);
		}
	}
	else
	{
		(void) snprintf(what, sizeof(what), "%s failed", step);
	}
	pgconn_log_error(pg, what);
	if (line > 0)
	{
		log_error("table %s: the rejected row is line %ld of %s", mt->table->name, line, path);
	}
	if (pg->sqlstate[0] != '\0')
	{
		set_failure(stats, "SQLSTATE %s: %s%s%s%s", pg->sqlstate, pg->message,
					pg->detail[0] != '\0' ? "; " : "", pg->detail, where);
	}
	else
	{
		set_failure(stats, "%s: %s%s", step, pg->message, where);
	}
	*err = pgconn_error_class(pg);
}

static bool
parse_count(const char *text, int64_t *out)
{
	char *end = NULL;
	long long v;

	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || v < 0)
	{
		return false;
	}
	*out = (int64_t) v;
	return true;
}

/*
 * exec_counted runs a statement that reports a row count (DELETE, INSERT)
 * and returns the count.
 */
static bool
exec_counted(PgConn *pg, const char *sql, int nparams, const char *const *params, int64_t *count)
{
	PGresult *res = NULL;
	bool ok;

	if (!pgconn_query(pg, sql, nparams, params, &res))
	{
		return false;
	}
	ok = parse_count(PQcmdTuples(res), count);
	if (!ok)
	{
		log_error("BUG: no row count from \"%.60s\"", sql);
		*count = 0;
		ok = true;
	}
	PQclear(res);
	return ok;
}

/*
 * copy_stream sends the file to a COPY ... FROM STDIN that is in progress,
 * hashing it on the way: the bytes loaded are the bytes verified, even if
 * the file was replaced in between. On return the COPY is finished (ended
 * or aborted) and every result consumed. *abort_reason is set when we
 * aborted the COPY ourselves; otherwise a false return means the server or
 * the connection failed and the error is recorded in pg.
 */
static bool
copy_stream(PgConn *pg, FILE *fp, const ManifestTable *mt, char *buf, int64_t *copied,
			const char **abort_reason, ClError *abort_class)
{
	Sha256 h;
	char hex[SHA256_HEX_SIZE];
	bool sent = true;
	bool done = false;
	bool recorded = false;
	PGresult *res = NULL;
	struct stat st;
	int64_t total = 0;
	int64_t sent_bytes = 0;
	ClTime next_report = time_now() + COPY_PROGRESS_EVERY;

	*abort_reason = NULL;
	if (fstat(fileno(fp), &st) == 0)
	{
		total = (int64_t) st.st_size;
	}
	sha256_init(&h);
	for (;;)
	{
		size_t n = fread(buf, 1, COPY_CHUNK, fp);
		ClTime now;

		if (n == 0)
		{
			if (ferror(fp))
			{
				*abort_reason = "the file could not be read";
				*abort_class = CL_ERR_DATA;
			}
			break;
		}
		sha256_update(&h, buf, n);
		if (PQputCopyData(pg->conn, buf, (int) n) != 1)
		{
			sent = false;
			break;
		}
		sent_bytes += (int64_t) n;
		now = time_now();
		if (now >= next_report)
		{
			/* a big file takes minutes: say how far it got (DESIGN §8) */
			log_info("%s: %.1f of %.1f MiB sent (%.0f%%)", mt->table->name,
					 (double) sent_bytes / 1048576.0, (double) total / 1048576.0,
					 total > 0 ? 100.0 * (double) sent_bytes / (double) total : 0.0);
			next_report = now + COPY_PROGRESS_EVERY;
		}
		if (cl_stop_requested())
		{
			*abort_reason = "cl-load was asked to stop";
			*abort_class = CL_ERR_TEMPORARY;
			break;
		}
	}
	if (sent && *abort_reason == NULL)
	{
		sha256_final_hex(&h, hex);
		if (strcmp(hex, mt->sha256) != 0)
		{
			*abort_reason = "the file changed after it was verified (sha256 differs)";
			*abort_class = CL_ERR_DATA;
		}
	}
	if (sent && PQputCopyEnd(pg->conn, *abort_reason) != 1)
	{
		sent = false;
	}
	if (!sent)
	{
		pgconn_record_client_error(pg);
		recorded = true;
	}
	for (;;)
	{
		ExecStatusType status;

		res = PQgetResult(pg->conn);
		if (res == NULL)
		{
			break;
		}
		status = PQresultStatus(res);

		if (status == PGRES_COMMAND_OK && !recorded)
		{
			done = parse_count(PQcmdTuples(res), copied);
		}
		else if (!recorded)
		{
			pgconn_record_result(pg, res);
			recorded = true;
		}
		PQclear(res);
		if (status == PGRES_COPY_IN || status == PGRES_COPY_OUT)
		{
			/* only after a failed send: libpq cannot leave COPY mode on its own */
			break;
		}
	}
	if (!done && !recorded)
	{
		pgconn_record_client_error(pg);
	}
	return done && *abort_reason == NULL;
}

/*
 * unique_keys refuses an upsert file with two rows of one key. ON CONFLICT
 * alone would fail on some of them ("cannot affect row a second time") and
 * silently keep others, depending on what the table already holds; a
 * primary key built in bulk on the staged rows fails the same way every
 * time and names the key.
 */
static bool
unique_keys(PgConn *pg, const char *path, const ManifestTable *mt, LoadStats *stats, ClError *err)
{
	SqlBuf sql;

	sql_init(&sql);
	sql_append(&sql, "ALTER TABLE pg_temp.\"load_%s\" ADD PRIMARY KEY (", mt->table->name);
	sql_columns(&sql, NULL, mt->table->key_columns);
	sql_append(&sql, ")");
	if (!sql_ready(&sql))
	{
		*err = CL_ERR_INTERNAL;
		return false;
	}
	if (!pgconn_exec(pg, sql.text))
	{
		fail_sql(pg, mt, path, "checking that keys are unique", stats, err);
		return false;
	}
	return true;
}

/*
 * copy_into copies the file of mt into target (an SQL name, already
 * quoted) and checks that COPY read the manifest's number of rows. window
 * is set when target routes rows by the window (a partitioned staging
 * table): a row outside it then fails inside COPY, and the failure says so.
 */
static bool
copy_into(PgConn *pg, const char *path, const ManifestTable *mt, const char *target,
		  const char *const *window, char *buf, TableStats *ts, LoadStats *stats, ClError *err)
{
	SqlBuf sql;
	FILE *fp = NULL;
	PGresult *res = NULL;
	const char *abort_reason = NULL;
	ClError abort_class = CL_ERR_INTERNAL;
	bool ok = false;

	fp = fopen(path, "rb");
	if (fp == NULL)
	{
		log_error("table %s: cannot open %s: %s", mt->table->name, path, strerror(errno));
		set_failure(stats, "cannot open %s: %s (table %s)", path, strerror(errno),
					mt->table->name);
		*err = CL_ERR_DATA;
		goto cleanup;
	}

	sql_init(&sql);
	sql_append(&sql, "COPY %s (", target);
	sql_columns(&sql, NULL, mt->table->columns);
	sql_append(&sql, ") FROM STDIN");
	if (!sql_ready(&sql))
	{
		*err = CL_ERR_INTERNAL;
		goto cleanup;
	}
	log_sql("[%s] %s", pg->target, sql.text);
	res = PQexec(pg->conn, sql.text);
	if (PQresultStatus(res) != PGRES_COPY_IN)
	{
		pgconn_record_result(pg, res);
		fail_sql(pg, mt, path, "COPY", stats, err);
		goto cleanup;
	}
	PQclear(res);
	res = NULL;

	if (!copy_stream(pg, fp, mt, buf, &ts->copied, &abort_reason, &abort_class))
	{
		if (abort_reason != NULL)
		{
			log_error("table %s: COPY from %s aborted: %s", mt->table->name, path, abort_reason);
			set_failure(stats, "COPY aborted: %s (table %s, file %s)", abort_reason,
						mt->table->name, path);
			*err = abort_class;
		}
		else
		{
			fail_sql(pg, mt, path, "COPY", stats, err);
			if (window != NULL && strcmp(pg->sqlstate, "23514") == 0)
			{
				/* "no partition of relation ... found for row": the row's date is not ours */
				long line = loader_context_line(pg->context);

				log_error("table %s: line %ld of %s has %s outside the window %s..%s: the "
						  "transform wrote rows it does not own", mt->table->name, line, path,
						  mt->table->window_column, window[0], window[1]);
				set_failure(stats, "a row with %s outside the window %s..%s (table %s, file %s, "
							"line %ld)", mt->table->window_column, window[0], window[1],
							mt->table->name, path, line);
			}
		}
		goto cleanup;
	}
	if (ts->copied != mt->rows)
	{
		log_error("table %s: COPY read %" PRId64 " rows from %s, the manifest says %" PRId64,
				  mt->table->name, ts->copied, path, mt->rows);
		set_failure(stats, "COPY read %" PRId64 " rows, the manifest says %" PRId64
					" (table %s, file %s)", ts->copied, mt->rows, mt->table->name, path);
		*err = CL_ERR_DATA;
		goto cleanup;
	}
	ok = true;

cleanup:
	PQclear(res);
	if (fp != NULL)
	{
		(void) fclose(fp);
	}
	return ok;
}

/*
 * stage_table creates the temporary table of one manifest table and
 * copies its file into it. INCLUDING CONSTRAINTS (NOT NULL is always
 * copied) makes a bad row fail inside COPY, where the server names its
 * line, instead of later in the INSERT.
 */
static bool
stage_table(PgConn *pg, const char *path, const ManifestTable *mt, char *buf, TableStats *ts,
			LoadStats *stats, ClError *err)
{
	SqlBuf sql;
	char target[128];

	sql_init(&sql);
	sql_append(&sql, "CREATE TEMP TABLE \"load_%s\" (LIKE attribution.\"%s\" "
			   "INCLUDING DEFAULTS INCLUDING CONSTRAINTS) ON COMMIT DROP",
			   mt->table->name, mt->table->name);
	if (!sql_ready(&sql))
	{
		*err = CL_ERR_INTERNAL;
		return false;
	}
	if (!pgconn_exec(pg, sql.text))
	{
		fail_sql(pg, mt, path, "creating the temporary table", stats, err);
		return false;
	}
	(void) snprintf(target, sizeof(target), "pg_temp.\"load_%s\"", mt->table->name);
	if (!copy_into(pg, path, mt, target, NULL, buf, ts, stats, err))
	{
		/* errors have already been logged */
		return false;
	}
	if (mt->table->mode == LOAD_MODE_UPSERT && !unique_keys(pg, path, mt, stats, err))
	{
		/* errors have already been logged */
		return false;
	}
	return true;
}

/*
 * check_window refuses rows outside the manifest's window: the next load of
 * that window would not delete them, and reloads would pile them up. For
 * an exact-window table every row must carry the window itself.
 */
static bool
check_window(PgConn *pg, const char *path, const ManifestTable *mt, const char *const *window,
			 LoadStats *stats, ClError *err)
{
	SqlBuf sql;
	PGresult *res = NULL;
	int64_t outside = 0;
	bool ok = false;
	const char *col = mt->table->window_column;
	const char *col_to = mt->table->window_to_column;
	bool exact = mt->table->mode == LOAD_MODE_WINDOW_EXACT;

	sql_init(&sql);
	if (exact)
	{
		sql_append(&sql, "SELECT count(*), coalesce(min(\"%s\")::text, 'NULL'), "
				   "coalesce(max(\"%s\")::text, 'NULL') FROM pg_temp.\"load_%s\" "
				   "WHERE \"%s\" IS DISTINCT FROM $1::date OR \"%s\" IS DISTINCT FROM $2::date",
				   col, col_to, mt->table->name, col, col_to);
	}
	else
	{
		sql_append(&sql, "SELECT count(*), coalesce(min(\"%s\")::text, 'NULL'), "
				   "coalesce(max(\"%s\")::text, 'NULL') FROM pg_temp.\"load_%s\" "
				   "WHERE \"%s\" IS NULL OR \"%s\" NOT BETWEEN $1::date AND $2::date",
				   col, col, mt->table->name, col, col);
	}
	if (!sql_ready(&sql))
	{
		*err = CL_ERR_INTERNAL;
		return false;
	}
	if (!pgconn_query(pg, sql.text, 2, window, &res))
	{
		fail_sql(pg, mt, path, "checking the window", stats, err);
		return false;
	}
	if (!parse_count(PQgetvalue(res, 0, 0), &outside))
	{
		outside = 0;
	}
	if (outside > 0 && exact)
	{
		log_error("table %s: %" PRId64 " rows of %s have (%s, %s) other than the window "
				  "(%s, %s): the transform wrote rows it does not own", mt->table->name,
				  outside, path, col, col_to, window[0], window[1]);
		set_failure(stats, "%" PRId64 " rows with (%s, %s) other than the window %s..%s "
					"(table %s, file %s)", outside, col, col_to, window[0], window[1],
					mt->table->name, path);
		*err = CL_ERR_DATA;
		goto cleanup;
	}
	if (outside > 0)
	{
		log_error("table %s: %" PRId64 " rows of %s have %s outside the window %s..%s "
				  "(from %s to %s): the transform wrote rows it does not own",
				  mt->table->name, outside, path, col, window[0], window[1],
				  PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2));
		set_failure(stats, "%" PRId64 " rows with %s outside the window %s..%s (table %s, file %s)",
					outside, col, window[0], window[1], mt->table->name, path);
		*err = CL_ERR_DATA;
		goto cleanup;
	}
	ok = true;

cleanup:
	PQclear(res);
	return ok;
}

/*
 * merge_window replaces the window's rows: DELETE then INSERT in the same
 * transaction, so readers see the old rows until COMMIT and the new ones
 * after, never a mix. An exact-window table loses only the rows of this
 * very window: a fit over another window is another fact.
 */
static bool
merge_window(PgConn *pg, const char *path, const ManifestTable *mt, const char *const *window,
			 TableStats *ts, LoadStats *stats, ClError *err)
{
	SqlBuf sql;
	const LoadTable *t = mt->table;

	sql_init(&sql);
	if (t->mode == LOAD_MODE_WINDOW_EXACT)
	{
		sql_append(&sql, "DELETE FROM attribution.\"%s\" WHERE \"%s\" = $1::date "
				   "AND \"%s\" = $2::date", t->name, t->window_column, t->window_to_column);
	}
	else
	{
		sql_append(&sql, "DELETE FROM attribution.\"%s\" WHERE \"%s\" BETWEEN $1::date "
				   "AND $2::date", t->name, t->window_column);
	}
	if (!sql_ready(&sql))
	{
		*err = CL_ERR_INTERNAL;
		return false;
	}
	if (!exec_counted(pg, sql.text, 2, window, &ts->deleted))
	{
		fail_sql(pg, mt, path, "deleting the window's rows", stats, err);
		return false;
	}

	sql_init(&sql);
	sql_append(&sql, "INSERT INTO attribution.\"%s\" (", t->name);
	sql_columns(&sql, NULL, t->columns);
	sql_append(&sql, ") SELECT ");
	sql_columns(&sql, NULL, t->columns);
	sql_append(&sql, " FROM pg_temp.\"load_%s\"", t->name);
	if (!sql_ready(&sql))
	{
		*err = CL_ERR_INTERNAL;
		return false;
	}
	if (!exec_counted(pg, sql.text, 0, NULL, &ts->written))
	{
		fail_sql(pg, mt, path, "inserting the window's rows", stats, err);
		return false;
	}
	log_info("%s: replaced %" PRId64 " rows of %s..%s with %" PRId64, t->name, ts->deleted,
			 window[0], window[1], ts->written);
	return true;
}

static bool
is_key_column(const LoadTable *t, const char *column)
{
	for (size_t i = 0; t->key_columns[i] != NULL; i++)
	{
		if (strcmp(t->key_columns[i], column) == 0)
		{
			return true;
		}
	}
	return false;
}

/*
 * merge_upsert inserts new entities and updates known ones. The WHERE
 * clause skips rows that did not change, so a nightly reload of mostly
 * unchanged entities writes (and bloats) only what changed. Two rows with
 * the same key in one file fail with SQLSTATE 21000: a data error.
 */
static bool
merge_upsert(PgConn *pg, const char *path, const ManifestTable *mt, TableStats *ts,
			 LoadStats *stats, ClError *err)
{
	SqlBuf sql;
	const LoadTable *t = mt->table;
	bool first = true;

	sql_init(&sql);
	sql_append(&sql, "INSERT INTO attribution.\"%s\" AS t (", t->name);
	sql_columns(&sql, NULL, t->columns);
	sql_append(&sql, ") SELECT ");
	sql_columns(&sql, NULL, t->columns);
	sql_append(&sql, " FROM pg_temp.\"load_%s\" ON CONFLICT (", t->name);
	sql_columns(&sql, NULL, t->key_columns);
	sql_append(&sql, ") DO UPDATE SET ");
	for (size_t i = 0; t->columns[i] != NULL; i++)
	{
		if (is_key_column(t, t->columns[i]))
		{
			continue;
		}
		sql_append(&sql, "%s\"%s\" = EXCLUDED.\"%s\"", first ? "" : ", ", t->columns[i],
				   t->columns[i]);
		first = false;
	}
	if (first)
	{
		log_error("BUG: table %s has only key columns", t->name);
		*err = CL_ERR_INTERNAL;
		return false;
	}
	sql_append(&sql, " WHERE (");
	sql_columns(&sql, "t", t->columns);
	sql_append(&sql, ") IS DISTINCT FROM (");
	sql_columns(&sql, "excluded", t->columns);
	sql_append(&sql, ")");
	if (!sql_ready(&sql))
	{
		*err = CL_ERR_INTERNAL;
		return false;
	}
	if (!exec_counted(pg, sql.text, 0, NULL, &ts->written))
	{
		fail_sql(pg, mt, path, "upserting", stats, err);
		return false;
	}
	log_info("%s: upserted %" PRId64 " rows, %" PRId64 " of them new or changed", t->name,
			 ts->copied, ts->written);
	return true;
}

/*
 * One month of a table partitioned by month (sql/004): the partition that
 * a load builds as attribution_part.<table>_<YYYY_MM>_load and swaps in
 * for attribution_part.<table>_<YYYY_MM> just before COMMIT.
 */
typedef struct MonthPart
{
	const LoadTable *table;                 /* borrowed from load_catalog */
	char suffix[16];                        /* "2026_01" */
	char month_from[CL_DATE_BUFSIZE];       /* first day of the month */
	char month_to[CL_DATE_BUFSIZE];         /* first day of the next month (exclusive) */
	char load_from[CL_DATE_BUFSIZE];        /* the window's part of it, inclusive */
	char load_to[CL_DATE_BUFSIZE];          /* ... exclusive */
	bool whole;                             /* the window covers the whole month */
	bool replaces;                          /* the month has a partition already */
} MonthPart;

#define MONTHS_MAX 1200     /* a century of months per load is plenty */

/*
 * plan_months lists the months of [from, to] for table t into an
 * ALLOCATED array (*out; caller frees with free()) of *count entries.
 */
static bool
plan_months(const LoadTable *t, ClDate from, ClDate to, MonthPart **out, size_t *count)
{
	int y;
	int mo;
	int d;
	size_t n = 0;
	MonthPart *parts = NULL;
	ClDate first;

	*out = NULL;
	*count = 0;
	date_to_ymd(from, &y, &mo, &d);
	first = date_from_ymd(y, mo, 1);
	parts = calloc(MONTHS_MAX, sizeof(*parts));
	if (parts == NULL)
	{
		log_error("out of memory planning the partitions of %s", t->name);
		return false;
	}
	while (first <= to)
	{
		ClDate next = mo == 12 ? date_from_ymd(y + 1, 1, 1) : date_from_ymd(y, mo + 1, 1);
		MonthPart *p = NULL;

		if (n == MONTHS_MAX)
		{
			log_error("table %s: the window spans more than %d months", t->name, MONTHS_MAX);
			free(parts);
			return false;
		}
		p = &parts[n];
		p->table = t;
		(void) snprintf(p->suffix, sizeof(p->suffix), "%04d_%02d", y, mo);
		(void) date_format(first, p->month_from);
		(void) date_format(next, p->month_to);
		(void) date_format(from > first ? from : first, p->load_from);
		(void) date_format(to + 1 < next ? to + 1 : next, p->load_to);
		p->whole = from <= first && to + 1 >= next;
		n++;
		first = next;
		date_to_ymd(next, &y, &mo, &d);
	}
	*out = parts;
	*count = n;
	return true;
}

/* run_sql runs one built statement of a step of mt; failures are logged. */
static bool
run_sql(PgConn *pg, const SqlBuf *sql, const ManifestTable *mt, const char *path,
		const char *step, LoadStats *stats, ClError *err)
{
	if (!sql_ready(sql))
	{
		*err = CL_ERR_INTERNAL;
		return false;
	}
	if (!pgconn_exec(pg, sql->text))
	{
		fail_sql(pg, mt, path, step, stats, err);
		return false;
	}
	return true;
}

/*
 * build_indexes gives the new month table p the indexes of the partitioned
 * parent, built in bulk on the loaded rows (a sort per index, far cheaper
 * than maintaining them row by row). ATTACH PARTITION then finds them and
 * only links them, so the swap before COMMIT does not build anything. They
 * are named <parent index>_<YYYY_MM>_load until the swap drops the old
 * month's indexes and renames them to <parent index>_<YYYY_MM>.
 */
static bool
build_indexes(PgConn *pg, const MonthPart *p, const ManifestTable *mt, const char *path,
			  LoadStats *stats, ClError *err)
{
	char target[160];
	char parent[160];
	const char *params[3];
	PGresult *res = NULL;
	bool ok = false;

	(void) snprintf(target, sizeof(target), "attribution_part.\"%s_%s_load\"", p->table->name,
					p->suffix);
	(void) snprintf(parent, sizeof(parent), "attribution.\"%s\"", p->table->name);
	params[0] = target;
	params[1] = parent;
	params[2] = p->suffix;
	if (!pgconn_query(pg,
					  "SELECT regexp_replace(pg_catalog.pg_get_indexdef(i.indexrelid), "
					  "'^CREATE (UNIQUE )?INDEX \\S+ ON ONLY \\S+ ', "
					  "'CREATE \\1INDEX ' || quote_ident(c.relname || '_' || $3 || '_load') || "
					  "' ON ' || $1 || ' ') "
					  "FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid "
					  "WHERE i.indrelid = $2::regclass ORDER BY i.indexrelid",
					  3, params, &res))
	{
		fail_sql(pg, mt, path, "reading the partitioned indexes", stats, err);
		goto cleanup;
	}
	for (int r = 0; r < PQntuples(res); r++)
	{
		const char *def = PQgetvalue(res, r, 0);

		if (strncmp(def, "CREATE ", 7) != 0 || strstr(def, " ON ONLY ") != NULL)
		{
			log_error("BUG: unexpected index definition on %s: %s", parent, def);
			*err = CL_ERR_INTERNAL;
			goto cleanup;
		}
		if (!pgconn_exec(pg, def))
		{
			fail_sql(pg, mt, path, "building an index of the new partition", stats, err);
			goto cleanup;
		}
	}
	ok = true;

cleanup:
	PQclear(res);
	return ok;
}

/*
 * carry_over copies the rows of the old partition of a month that lie
 * outside the window into the new one: a window that covers part of a month
 * replaces only that part. Also counts the old rows the load replaces.
 */
static bool
carry_over(PgConn *pg, MonthPart *p, const ManifestTable *mt, const char *path,
		   TableStats *ts, LoadStats *stats, ClError *err)
{
	SqlBuf sql;
	PGresult *res = NULL;
	const char *params[2];
	const LoadTable *t = p->table;
	int64_t old_rows = 0;
	int64_t kept = 0;
	bool exists;

	params[0] = p->load_from;
	params[1] = p->load_to;
	sql_init(&sql);
	sql_append(&sql, "SELECT to_regclass('attribution_part.\"%s_%s\"') IS NOT NULL", t->name,
			   p->suffix);
	if (!sql_ready(&sql))
	{
		*err = CL_ERR_INTERNAL;
		return false;
	}
	if (!pgconn_query(pg, sql.text, 0, NULL, &res))
	{
		fail_sql(pg, mt, path, "looking for the month's partition", stats, err);
		return false;
	}
	exists = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	p->replaces = exists;
	if (!exists)
	{
		return true;
	}
	sql_init(&sql);
	sql_append(&sql, "SELECT count(*) FROM attribution_part.\"%s_%s\"", t->name, p->suffix);
	if (!sql_ready(&sql) || !pgconn_query(pg, sql.text, 0, NULL, &res))
	{
		fail_sql(pg, mt, path, "counting the month's rows", stats, err);
		return false;
	}
	if (!parse_count(PQgetvalue(res, 0, 0), &old_rows))
	{
		old_rows = 0;
	}
	PQclear(res);
	if (!p->whole)
	{
		sql_init(&sql);
		sql_append(&sql, "INSERT INTO attribution_part.\"%s_%s_load\" SELECT * FROM "
				   "attribution_part.\"%s_%s\" WHERE \"%s\" < $1::date OR \"%s\" >= $2::date",
				   t->name, p->suffix, t->name, p->suffix, t->window_column, t->window_column);
		if (!sql_ready(&sql))
		{
			*err = CL_ERR_INTERNAL;
			return false;
		}
		if (!exec_counted(pg, sql.text, 2, params, &kept))
		{
			fail_sql(pg, mt, path, "keeping the month's rows outside the window", stats, err);
			return false;
		}
	}
	ts->deleted += old_rows - kept;
	return true;
}

/*
 * stage_months loads a table partitioned by month: a partitioned staging
 * table whose partitions are the new month tables, each bounded to its part
 * of the window, takes the COPY (so a row outside the window fails there,
 * with its line); then each month table is detached, completed with the
 * old month's rows outside the window, and indexed. The month tables carry
 * a CHECK of their whole month, so that attaching them to the real table
 * (swap_months) needs no scan. Nothing is visible to readers until COMMIT.
 */
static bool
stage_months(PgConn *pg, const char *path, const ManifestTable *mt, const char *const *window,
			 MonthPart *parts, size_t nparts, char *buf, TableStats *ts,
			 LoadStats *stats, ClError *err)
{
	SqlBuf sql;
	const LoadTable *t = mt->table;
	const char *col = t->window_column;
	char target[160];

	sql_init(&sql);
	sql_append(&sql, "CREATE TABLE attribution_part.\"%s_load\" (LIKE attribution.\"%s\" "
			   "INCLUDING DEFAULTS) PARTITION BY RANGE (\"%s\")", t->name, t->name, col);
	if (!run_sql(pg, &sql, mt, path, "creating the staging table", stats, err))
	{
		return false;
	}
	for (size_t i = 0; i < nparts; i++)
	{
		const MonthPart *p = &parts[i];

		sql_init(&sql);
		sql_append(&sql, "CREATE TABLE attribution_part.\"%s_%s_load\" (LIKE attribution.\"%s\" "
				   "INCLUDING DEFAULTS INCLUDING CONSTRAINTS, CONSTRAINT \"%s_%s_month\" "
				   "CHECK (\"%s\" >= '%s' AND \"%s\" < '%s'))",
				   t->name, p->suffix, t->name, t->name, p->suffix, col, p->month_from, col,
				   p->month_to);
		sql_append(&sql, "; ALTER TABLE attribution_part.\"%s_load\" ATTACH PARTITION "
				   "attribution_part.\"%s_%s_load\" FOR VALUES FROM ('%s') TO ('%s')",
				   t->name, t->name, p->suffix, p->load_from, p->load_to);
		if (!run_sql(pg, &sql, mt, path, "creating a month's table", stats, err))
		{
			return false;
		}
	}
	(void) snprintf(target, sizeof(target), "attribution_part.\"%s_load\"", t->name);
	if (!copy_into(pg, path, mt, target, window, buf, ts, stats, err))
	{
		/* errors have already been logged */
		return false;
	}
	for (size_t i = 0; i < nparts; i++)
	{
		sql_init(&sql);
		sql_append(&sql, "ALTER TABLE attribution_part.\"%s_load\" DETACH PARTITION "
				   "attribution_part.\"%s_%s_load\"", t->name, t->name, parts[i].suffix);
		if (!run_sql(pg, &sql, mt, path, "detaching a month's table", stats, err))
		{
			return false;
		}
	}
	sql_init(&sql);
	sql_append(&sql, "DROP TABLE attribution_part.\"%s_load\"", t->name);
	if (!run_sql(pg, &sql, mt, path, "dropping the staging table", stats, err))
	{
		return false;
	}
	for (size_t i = 0; i < nparts; i++)
	{
		if (!carry_over(pg, &parts[i], mt, path, ts, stats, err) ||
			!build_indexes(pg, &parts[i], mt, path, stats, err))
		{
			/* errors have already been logged */
			return false;
		}
	}
	ts->written = ts->copied;
	log_info("%s: staged %" PRId64 " rows of %s..%s in %zu month%s", t->name, ts->copied,
			 window[0], window[1], nparts, nparts == 1 ? "" : "s");
	return true;
}

#define SWAP_LOCK_TRY_MS 100     /* how long one attempt may make readers queue */
#define SWAP_LOCK_PAUSE_MS 250   /* between attempts, readers run freely */

/*
 * lock_for_swap takes the ACCESS EXCLUSIVE lock that dropping and attaching
 * partitions needs, without making readers wait behind it: a lock request
 * that waits queues every later reader behind it, so a dashboard query
 * running for minutes would stall all the others. Each attempt waits at
 * most SWAP_LOCK_TRY_MS (lock_timeout, in a savepoint), then lets readers
 * run for a while; after wait_seconds the load gives up as temporary (75).
 */
static bool
lock_for_swap(PgConn *pg, const LoadTable *t, int wait_seconds, LoadStats *stats, ClError *err)
{
	ClTime deadline = time_now() + (ClTime) wait_seconds * CL_USEC_PER_SEC;
	bool announced = false;
	SqlBuf sql;

	sql_init(&sql);
	sql_append(&sql, "SAVEPOINT cl_swap; SET LOCAL lock_timeout = %d; "
			   "LOCK TABLE attribution.\"%s\" IN ACCESS EXCLUSIVE MODE; RESET lock_timeout; "
			   "RELEASE SAVEPOINT cl_swap", SWAP_LOCK_TRY_MS, t->name);
	if (!sql_ready(&sql))
	{
		*err = CL_ERR_INTERNAL;
		return false;
	}
	for (;;)
	{
		if (pgconn_exec(pg, sql.text))
		{
			return true;
		}
		if (strcmp(pg->sqlstate, "55P03") != 0)
		{
			fail_sql(pg, NULL, NULL, "locking the table to swap in its partitions", stats, err);
			return false;
		}
		if (!pgconn_exec(pg, "ROLLBACK TO SAVEPOINT cl_swap; RELEASE SAVEPOINT cl_swap"))
		{
			fail_sql(pg, NULL, NULL, "ROLLBACK TO SAVEPOINT", stats, err);
			return false;
		}
		if (time_now() >= deadline)
		{
			log_error("%s: readers kept the table busy for %d s ([database] lock_wait_seconds); "
					  "the new partitions were not swapped in", t->name, wait_seconds);
			set_failure(stats, "readers kept attribution.%s busy for %d s: the new partitions "
						"were not swapped in", t->name, wait_seconds);
			*err = CL_ERR_TEMPORARY;
			return false;
		}
		if (!announced)
		{
			log_info("%s: waiting for readers to let go of the table to swap in the new "
					 "partitions (up to %d s)", t->name, wait_seconds);
			announced = true;
		}
		if (!retry_sleep_ms(SWAP_LOCK_PAUSE_MS))
		{
			log_error("stop requested while waiting to swap in the partitions of %s", t->name);
			set_failure(stats, "stopped while waiting to swap in the partitions of %s", t->name);
			*err = CL_ERR_TEMPORARY;
			return false;
		}
	}
}

/*
 * swap_months puts the new month tables in place of the old ones. It runs
 * last, just before COMMIT: from the lock on, readers of the table wait
 * until COMMIT, so nothing slow may follow it.
 */
static bool
swap_months(PgConn *pg, const MonthPart *parts, size_t nparts, int wait_seconds,
			LoadStats *stats, ClError *err)
{
	SqlBuf sql;

	if (nparts > 0 && !lock_for_swap(pg, parts[0].table, wait_seconds, stats, err))
	{
		/* errors have already been logged */
		return false;
	}
	for (size_t i = 0; i < nparts; i++)
	{
		const MonthPart *p = &parts[i];
		const char *name = p->table->name;

		sql_init(&sql);
		if (p->replaces)
		{
			sql_append(&sql, "DROP TABLE attribution_part.\"%s_%s\"; ", name, p->suffix);
		}
		sql_append(&sql, "ALTER TABLE attribution.\"%s\" ATTACH PARTITION "
				   "attribution_part.\"%s_%s_load\" FOR VALUES FROM ('%s') TO ('%s'); ",
				   name, name, p->suffix, p->month_from, p->month_to);
		sql_append(&sql, "DO $swap$ DECLARE r record; BEGIN FOR r IN SELECT c.relname "
				   "FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid "
				   "WHERE i.indrelid = 'attribution_part.\"%s_%s_load\"'::regclass "
				   "AND c.relname LIKE '%%\\_load' LOOP EXECUTE format('ALTER INDEX "
				   "attribution_part.%%I RENAME TO %%I', r.relname, left(r.relname, -5)); "
				   "END LOOP; END $swap$; ", name, p->suffix);
		sql_append(&sql, "ALTER TABLE attribution_part.\"%s_%s_load\" RENAME TO \"%s_%s\"",
				   name, p->suffix, name, p->suffix);
		if (!run_sql(pg, &sql, NULL, NULL, "swapping in a month's partition", stats, err))
		{
			log_error("table %s: the partition of %s could not be swapped in", name, p->suffix);
			return false;
		}
	}
	return true;
}

/*
 * record_success writes the etl.runs row inside the load transaction: it
 * becomes visible exactly when the data does.
 */
static bool
record_success(PgConn *pg, const OutputManifest *m, const LoaderSettings *settings,
			   const char *const *window, const char *started, LoadStats *stats, ClError *err)
{
	SqlBuf rows;
	const char *params[6];

	sql_init(&rows);
	sql_append(&rows, "{");
	for (size_t i = 0; i < m->table_count; i++)
	{
		sql_append(&rows, "%s\"%s\": %" PRId64, i > 0 ? ", " : "", m->tables[i].table->name,
				   stats->tables[i].copied);
	}
	sql_append(&rows, "}");
	if (!sql_ready(&rows))
	{
		*err = CL_ERR_INTERNAL;
		return false;
	}
	params[0] = m->run_id;
	params[1] = window[0];
	params[2] = window[1];
	params[3] = rows.text;
	params[4] = started;
	params[5] = settings->loaded_by != NULL ? settings->loaded_by : "cl-load";
	if (!pgconn_query(pg,
					  "INSERT INTO etl.runs AS r (run_id, window_from, window_to, status, rows, "
					  "started_at, finished_at, error, loaded_by) "
					  "VALUES ($1, $2::date, $3::date, 'succeeded', $4::jsonb, $5::timestamptz, "
					  "clock_timestamp(), NULL, session_user || ' via ' || $6) "
					  "ON CONFLICT (run_id) DO UPDATE SET window_from = EXCLUDED.window_from, "
					  "window_to = EXCLUDED.window_to, status = EXCLUDED.status, "
					  "rows = EXCLUDED.rows, started_at = EXCLUDED.started_at, "
					  "finished_at = EXCLUDED.finished_at, error = NULL, "
					  "loaded_by = EXCLUDED.loaded_by",
					  6, params, NULL))
	{
		fail_sql(pg, NULL, NULL, "recording the run in etl.runs", stats, err);
		return false;
	}
	return true;
}

/*
 * loader_load: see loader.h. The advisory lock is transaction-level, so
 * it is released by COMMIT, ROLLBACK or a dropped connection alike: a
 * killed cl-load never leaves it behind.
 */
bool
loader_load(PgConn *pg, const char *dir, const OutputManifest *m, const LoaderSettings *settings,
			ClTime started, LoadStats *stats, ClError *err)
{
	char from[CL_DATE_BUFSIZE];
	char to[CL_DATE_BUFSIZE];
	char started_text[CL_TIME_BUFSIZE];
	const char *window[2];
	char *buf = NULL;
	MonthPart *months[MANIFEST_MAX_TABLES] = { NULL };     /* owned, free() */
	size_t nmonths[MANIFEST_MAX_TABLES] = { 0 };
	bool in_transaction = false;
	bool ok = false;
	ClTime t0 = time_now();

	memset(stats, 0, sizeof(*stats));
	window[0] = date_format(m->window_from, from);
	window[1] = date_format(m->window_to, to);
	(void) time_format_rfc3339(started, started_text);

	buf = malloc(COPY_CHUNK);
	if (buf == NULL)
	{
		log_error("out of memory for the COPY buffer");
		set_failure(stats, "out of memory");
		*err = CL_ERR_INTERNAL;
		goto cleanup;
	}
	if (!pgconn_exec(pg, "BEGIN"))
	{
		fail_sql(pg, NULL, NULL, "BEGIN", stats, err);
		goto cleanup;
	}
	in_transaction = true;
	if (!pgconn_advisory_wait(pg, true, CL_LOCK_LOAD, settings->lock_wait_seconds, "cl-load",
							  err))
	{
		if (pg->message[0] != '\0')
		{
			set_failure(stats, "cannot take the load lock: %s", pg->message);
		}
		else
		{
			set_failure(stats, "another cl-load holds the lock");
		}
		goto cleanup;
	}

	for (size_t i = 0; i < m->table_count; i++)
	{
		const ManifestTable *mt = &m->tables[i];
		TableStats *ts = &stats->tables[i];
		char path[4096];

		if (!fileio_join(path, sizeof(path), dir, mt->file))
		{
			log_error("output path too long: %s/%s", dir, mt->file);
			set_failure(stats, "output path too long (table %s)", mt->table->name);
			*err = CL_ERR_DATA;
			goto cleanup;
		}
		if (mt->table->mode == LOAD_MODE_WINDOW && mt->table->monthly_partitions)
		{
			if (!plan_months(mt->table, m->window_from, m->window_to, &months[i], &nmonths[i]))
			{
				set_failure(stats, "cannot plan the partitions (table %s)", mt->table->name);
				*err = CL_ERR_INTERNAL;
				goto cleanup;
			}
			if (!stage_months(pg, path, mt, window, months[i], nmonths[i], buf, ts, stats, err))
			{
				/* errors have already been logged */
				goto cleanup;
			}
		}
		else if (!stage_table(pg, path, mt, buf, ts, stats, err))
		{
			/* errors have already been logged */
			goto cleanup;
		}
		else if (mt->table->mode == LOAD_MODE_UPSERT)
		{
			if (!merge_upsert(pg, path, mt, ts, stats, err))
			{
				/* errors have already been logged */
				goto cleanup;
			}
		}
		else if (!check_window(pg, path, mt, window, stats, err) ||
				 !merge_window(pg, path, mt, window, ts, stats, err))
		{
			/* errors have already been logged */
			goto cleanup;
		}
		stats->rows += ts->copied;
	}

	/* the swaps lock out readers until COMMIT: only bookkeeping follows them */
	for (size_t i = 0; i < m->table_count; i++)
	{
		if (months[i] != NULL && !swap_months(pg, months[i], nmonths[i], settings->lock_wait_seconds,
												stats, err))
		{
			/* errors have already been logged */
			goto cleanup;
		}
		if (months[i] != NULL)
		{
			log_info("%s: replaced %" PRId64 " rows of %s..%s with %" PRId64,
					 m->tables[i].table->name, stats->tables[i].deleted, window[0], window[1],
					 stats->tables[i].written);
		}
	}

	if (!record_success(pg, m, settings, window, started_text, stats, err))
	{
		/* errors have already been logged */
		goto cleanup;
	}
	if (!pgconn_exec(pg, "COMMIT"))
	{
		fail_sql(pg, NULL, NULL, "COMMIT", stats, err);
		in_transaction = false;
		goto cleanup;
	}
	in_transaction = false;
	stats->duration_ms = (time_now() - t0) / 1000;
	ok = true;

cleanup:
	if (in_transaction && pg->conn != NULL && PQstatus(pg->conn) == CONNECTION_OK)
	{
		if (pgconn_exec(pg, "ROLLBACK"))
		{
			log_error("run %s rolled back: none of it was loaded", m->run_id);
		}
		else
		{
			log_warn("ROLLBACK failed: %s", pg->message);
		}
	}
	for (size_t i = 0; i < MANIFEST_MAX_TABLES; i++)
	{
		free(months[i]);
	}
	free(buf);
	return ok;
}

/*
 * loader_record_failure: see loader.h. The WHERE clause of the upsert is
 * what keeps an earlier success: a failed reload changes no data, so the
 * run's status must not say otherwise.
 */
void
loader_record_failure(PgConn *pg, const OutputManifest *m, const LoaderSettings *settings,
					  ClTime started, const char *failure)
{
	char from[CL_DATE_BUFSIZE];
	char to[CL_DATE_BUFSIZE];
	char started_text[CL_TIME_BUFSIZE];
	const char *params[6];

	if (pg->conn == NULL || PQstatus(pg->conn) != CONNECTION_OK)
	{
		log_warn("the failed run %s is not recorded in etl.runs: no connection", m->run_id);
		return;
	}
	params[0] = m->run_id;
	params[1] = date_format(m->window_from, from);
	params[2] = date_format(m->window_to, to);
	params[3] = time_format_rfc3339(started, started_text);
	params[4] = failure != NULL && failure[0] != '\0' ? failure : "unknown error";
	params[5] = settings->loaded_by != NULL ? settings->loaded_by : "cl-load";

	/*
	 * Short lock_timeout: a concurrent cl-load that is committing the same
	 * run holds its key, and this bookkeeping must not wait for it.
	 */
	if (!pgconn_exec(pg, "BEGIN") ||
		!pgconn_exec(pg, "SET LOCAL lock_timeout = '5s'") ||
		!pgconn_query(pg,
					  "INSERT INTO etl.runs AS r (run_id, window_from, window_to, status, rows, "
					  "started_at, finished_at, error, loaded_by) "
					  "VALUES ($1, $2::date, $3::date, 'failed', '{}'::jsonb, $4::timestamptz, "
					  "clock_timestamp(), $5, session_user || ' via ' || $6) "
					  "ON CONFLICT (run_id) DO UPDATE SET window_from = EXCLUDED.window_from, "
					  "window_to = EXCLUDED.window_to, status = EXCLUDED.status, "
					  "rows = EXCLUDED.rows, started_at = EXCLUDED.started_at, "
					  "finished_at = EXCLUDED.finished_at, error = EXCLUDED.error, "
					  "loaded_by = EXCLUDED.loaded_by "
					  "WHERE r.status <> 'succeeded'",
					  6, params, NULL) ||
		!pgconn_exec(pg, "COMMIT"))
	{
		log_warn("the failed run %s is not recorded in etl.runs: %s", m->run_id, pg->message);
		if (PQstatus(pg->conn) == CONNECTION_OK && !pgconn_exec(pg, "ROLLBACK"))
		{
			log_debug("ROLLBACK failed: %s", pg->message);
		}
		return;
	}
	log_info("recorded the failed run %s in etl.runs", m->run_id);
}
