/*
 * pgconn.h: the libpq connection wrapper of cl-load.
 *
 * A PgConn owns one PGconn and remembers the last error in classified
 * form: the SQLSTATE (class 08 and a closed socket mean the connection was
 * lost, which is worth a retry), the server's primary message, detail,
 * hint and context (COPY puts the failing line there). Callers that know
 * the table and file log the error once with pgconn_log_error().
 */
#ifndef CL_LOAD_PGCONN_H
#define CL_LOAD_PGCONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "exitcode.h"

#define PGCONN_MESSAGE_SIZE 1024    /* longer server texts are truncated */

typedef struct PgConn
{
	PGconn *conn;                   /* owned; NULL when closed */
	char sqlstate[6];               /* last error's SQLSTATE, "" if none or client-side */
	bool connection_lost;           /* the last error closed the connection */
	char message[PGCONN_MESSAGE_SIZE];  /* primary message of the last error */
	char detail[PGCONN_MESSAGE_SIZE];
	char hint[PGCONN_MESSAGE_SIZE];
	char context[PGCONN_MESSAGE_SIZE];
	char target[256];               /* "user@host:port/dbname" for messages, no secrets */
} PgConn;

typedef struct PgConnSettings
{
	const char *conninfo;           /* any libpq conninfo or URI; authoritative */
	const char *application_name;   /* used unless conninfo sets one */
	int64_t statement_timeout_ms;   /* 0: no timeout */
	int64_t lock_timeout_ms;        /* 0: no timeout */
	int connect_retries;            /* attempts in total, >= 1 */
} PgConnSettings;

void pgconn_init(PgConn *pg);

/*
 * pgconn_open connects, retrying with backoff (common/retry.h) while the
 * server cannot be reached, up to connect_retries attempts. On failure the
 * reason is logged and *err is CL_ERR_TEMPORARY, or CL_ERR_CONFIG when
 * retrying cannot help (a conninfo that does not parse, a missing password).
 */
bool pgconn_open(PgConn *pg, const PgConnSettings *settings, ClError *err)
	__attribute__((warn_unused_result));

/* pgconn_close: NULL-safe and idempotent; resets pg->conn. */
void pgconn_close(PgConn *pg);

/*
 * pgconn_exec runs one command (or a multi-statement script) without
 * parameters. On failure the error is recorded in pg, not logged.
 */
bool pgconn_exec(PgConn *pg, const char *sql) __attribute__((warn_unused_result));

/*
 * pgconn_query runs sql with text parameters. On success *result (when
 * not NULL) receives the PGresult, which the caller frees with PQclear();
 * on failure *result is NULL and the error is recorded in pg.
 */
bool pgconn_query(PgConn *pg, const char *sql, int nparams,
				  const char *const *params, PGresult **result)
	__attribute__((warn_unused_result));

/* pgconn_record_result: record the error of res (which may be NULL) in pg.
 * Does not clear res. */
void pgconn_record_result(PgConn *pg, const PGresult *res);

/* pgconn_record_client_error: a failure without a server result
 * (PQputCopyData and friends): message from PQerrorMessage. */
void pgconn_record_client_error(PgConn *pg);

void pgconn_clear_error(PgConn *pg);

/*
 * pgconn_log_error logs the recorded error once, prefixed by what (the
 * caller's context: "loading attribution_credit from ... .copy"), with
 * SQLSTATE and the detail, hint and context lines.
 */
void pgconn_log_error(const PgConn *pg, const char *what);

/* pgconn_error_class: the ClError of the recorded error. */
ClError pgconn_error_class(const PgConn *pg);

/*
 * pgconn_classify maps a SQLSTATE to a ClError: class 08, lost
 * connections, serialization failures, deadlocks, lock and statement
 * timeouts, shutdowns and exhausted resources are temporary; classes 21,
 * 22 and 23 (bad data, constraint violations) are data errors; anything
 * else is internal.
 */
ClError pgconn_classify(const char *sqlstate, bool connection_lost);

/* pgconn_state_is_connection_error: class 08, or a server shutting the
 * session down (57P01..57P03). */
bool pgconn_state_is_connection_error(const char *sqlstate);

/*
 * pgconn_build_options: the "options" connection parameter: $PGOPTIONS
 * (kept, since passing options disables the variable) followed by the
 * timeouts. Writes into buf (size bytes); false when it does not fit.
 */
bool pgconn_build_options(const char *pgoptions, int64_t statement_timeout_ms,
						  int64_t lock_timeout_ms, char *buf, size_t size);

/*
 * pgconn_advisory_wait takes the advisory lock (CL_LOCK_CLASS, object),
 * at session level or, with transaction_level, until the current
 * transaction ends, polling until wait_seconds pass. On timeout it logs
 * "another <holder> holds the lock" with the holder's pid and fails with
 * *err = CL_ERR_TEMPORARY; a failing query fails with its class.
 */
bool pgconn_advisory_wait(PgConn *pg, bool transaction_level, int object,
						  int wait_seconds, const char *holder, ClError *err)
	__attribute__((warn_unused_result));

/* pgconn_advisory_unlock releases a session-level lock (best effort: the
 * session's end releases it too). */
void pgconn_advisory_unlock(PgConn *pg, int object);

/* The advisory locks of closedloop: (CL_LOCK_CLASS, CL_LOCK_*) pairs. */
#define CL_LOCK_CLASS       1668050800  /* 'clop' */
#define CL_LOCK_MIGRATE     1           /* session lock while migrating */
#define CL_LOCK_LOAD        2           /* transaction lock of a load */

#endif
