/*
 * pgconn.c: connect with retries, run commands, record and classify errors.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "pgconn.h"
#include "retry.h"
#include "timeutil.h"

/* First backoff sleep and the cap of one sleep and of all of them. */
#define PGCONN_RETRY_BASE_MS      1000
#define PGCONN_RETRY_MAX_SLEEP_MS 30000
#define PGCONN_RETRY_MAX_TOTAL_MS 300000

void
pgconn_init(PgConn *pg)
{
	memset(pg, 0, sizeof(*pg));
}

/*
 * copy_trimmed copies src into a fixed field, dropping the trailing
 * newline that libpq puts at the end of its messages.
 */
static void
copy_trimmed(char *dst, size_t size, const char *src)
{
	size_t len;

	(void) snprintf(dst, size, "%s", src != NULL ? src : "");
	len = strlen(dst);
	while (len > 0 && (dst[len - 1] == '\n' || dst[len - 1] == ' '))
	{
		dst[--len] = '\0';
	}
}

void
pgconn_clear_error(PgConn *pg)
{
	pg->sqlstate[0] = '\0';
	pg->connection_lost = false;
	pg->message[0] = '\0';
	pg->detail[0] = '\0';
	pg->hint[0] = '\0';
	pg->context[0] = '\0';
}

/*
 * pgconn_state_is_connection_error: besides class 08 (connection
 * exception), a server that is shutting down or restarting ends the session
 * with 57P01..57P03; both mean "reconnect and try again".
 */
bool
pgconn_state_is_connection_error(const char *sqlstate)
{
	if (sqlstate == NULL || strlen(sqlstate) != 5)
	{
		return false;
	}
	if (strncmp(sqlstate, "08", 2) == 0)
	{
		return true;
	}
	return strcmp(sqlstate, "57P01") == 0 || strcmp(sqlstate, "57P02") == 0 ||
		   strcmp(sqlstate, "57P03") == 0;
}

/*
 * pgconn_classify: what a scheduler should do about an error. Temporary
 * means the same load is expected to succeed later (the lock is free
 * again, the server is back, the serialization conflict is gone); data
 * means the output itself is wrong and rerunning cannot help.
 */
ClError
pgconn_classify(const char *sqlstate, bool connection_lost)
{
	if (connection_lost || pgconn_state_is_connection_error(sqlstate))
	{
		return CL_ERR_TEMPORARY;
	}
	if (sqlstate == NULL || strlen(sqlstate) != 5)
	{
		return CL_ERR_INTERNAL;
	}
	if (strcmp(sqlstate, "40002") == 0)
	{
		/* a deferred constraint failed at commit: the data is wrong */
		return CL_ERR_DATA;
	}
	if (strncmp(sqlstate, "40", 2) == 0 ||     /* serialization failure, deadlock */
		strncmp(sqlstate, "53", 2) == 0 ||     /* disk full, out of memory, too many connections */
		strcmp(sqlstate, "55P03") == 0 ||      /* lock_timeout */
		strcmp(sqlstate, "57014") == 0)        /* statement_timeout, cancel */
	{
		return CL_ERR_TEMPORARY;
	}
	if (strncmp(sqlstate, "21", 2) == 0 ||     /* duplicate keys within one upsert */
		strncmp(sqlstate, "22", 2) == 0 ||     /* bad value */
		strncmp(sqlstate, "23", 2) == 0)       /* constraint violation */
	{
		return CL_ERR_DATA;
	}
	return CL_ERR_INTERNAL;
}

ClError
pgconn_error_class(const PgConn *pg)
{
	return pgconn_classify(pg->sqlstate, pg->connection_lost);
}

/*
 * pgconn_record_result copies the fields out of res, so that the error
 * outlives PQclear and can be logged by the caller that knows the table
 * and file. Without a result (libpq failed before the server answered)
 * the connection's message is what there is.
 */
void
pgconn_record_result(PgConn *pg, const PGresult *res)
{
	const char *primary = NULL;

	pgconn_clear_error(pg);
	if (res != NULL)
	{
		copy_trimmed(pg->sqlstate, sizeof(pg->sqlstate),
					 PQresultErrorField(res, PG_DIAG_SQLSTATE));
		primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
		if (primary == NULL || primary[0] == '\0')
		{
			primary = PQresultErrorMessage(res);
		}
		copy_trimmed(pg->detail, sizeof(pg->detail),
					 PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL));
		copy_trimmed(pg->hint, sizeof(pg->hint),
					 PQresultErrorField(res, PG_DIAG_MESSAGE_HINT));
		copy_trimmed(pg->context, sizeof(pg->context),
					 PQresultErrorField(res, PG_DIAG_CONTEXT));
	}
	if ((primary == NULL || primary[0] == '\0') && pg->conn != NULL)
	{
		primary = PQerrorMessage(pg->conn);
	}
	copy_trimmed(pg->message, sizeof(pg->message),
				 primary != NULL && primary[0] != '\0' ? primary : "unknown error");
	pg->connection_lost = pg->conn == NULL || PQstatus(pg->conn) == CONNECTION_BAD ||
						  pgconn_state_is_connection_error(pg->sqlstate);
}

void
pgconn_record_client_error(PgConn *pg)
{
	pgconn_record_result(pg, NULL);
}

/*
 * pgconn_log_error prints each part of the server's report on its own
 * line: the context line of a COPY error is the one that names the row.
 */
void
pgconn_log_error(const PgConn *pg, const char *what)
{
	if (pg->sqlstate[0] != '\0')
	{
		log_error("%s: %s (SQLSTATE %s)", what, pg->message, pg->sqlstate);
	}
	else
	{
		log_error("%s: %s", what, pg->message);
	}
	if (pg->detail[0] != '\0')
	{
		log_error("detail: %s", pg->detail);
	}
	if (pg->hint[0] != '\0')
	{
		log_error("hint: %s", pg->hint);
	}
	if (pg->context[0] != '\0')
	{
		log_error("context: %s", pg->context);
	}
	if (pg->connection_lost)
	{
		log_error("the connection to %s was lost", pg->target);
	}
}

/*
 * notice_receiver routes the server's NOTICE and WARNING messages (a
 * migration reporting what it could not do) into our log instead of
 * libpq's default of printing them raw to stderr.
 */
static void
notice_receiver(void *arg, const PGresult *res)
{
	const char *severity = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
	char message[PGCONN_MESSAGE_SIZE];

	(void) arg;
	copy_trimmed(message, sizeof(message), PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY));
	if (severity != NULL && strcmp(severity, "WARNING") == 0)
	{
		log_warn("server: %s", message);
	}
	else if (severity != NULL && strcmp(severity, "NOTICE") == 0)
	{
		log_info("server: %s", message);
	}
	else
	{
		log_debug("server: %s", message);
	}
}

/*
 * pgconn_build_options: the timeouts are always sent, also when 0, so that
 * a role or database default (ALTER ROLE ... SET statement_timeout) cannot
 * cut a long load short unless [database] asks for it.
 */
bool
pgconn_build_options(const char *pgoptions, int64_t statement_timeout_ms,
					 int64_t lock_timeout_ms, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s%s-c statement_timeout=%" PRId64 " -c lock_timeout=%" PRId64,
					 pgoptions != NULL ? pgoptions : "",
					 pgoptions != NULL && pgoptions[0] != '\0' ? " " : "",
					 statement_timeout_ms, lock_timeout_ms);

	return n >= 0 && (size_t) n < size;
}

/*
 * looks_like_conninfo mirrors libpq's own test for "is this dbname a
 * connection string": an URI prefix or an '=' anywhere.
 */
static bool
looks_like_conninfo(const char *s)
{
	return strncmp(s, "postgresql://", 13) == 0 || strncmp(s, "postgres://", 11) == 0 ||
		   strchr(s, '=') != NULL;
}

/*
 * check_conninfo parses the configured conninfo once before connecting,
 * so that a typo is reported as a configuration error (exit 78) instead of
 * being retried as if the server were down.
 */
static bool
check_conninfo(const char *conninfo)
{
	char *errmsg = NULL;
	PQconninfoOption *parsed = NULL;
	char reason[PGCONN_MESSAGE_SIZE];

	if (!looks_like_conninfo(conninfo))
	{
		return true;
	}
	parsed = PQconninfoParse(conninfo, &errmsg);
	if (parsed == NULL)
	{
		copy_trimmed(reason, sizeof(reason), errmsg != NULL ? errmsg : "out of memory");
		log_error("[database] conninfo is not a valid libpq connection string: %s", reason);
		PQfreemem(errmsg);
		return false;
	}
	PQconninfoFree(parsed);
	return true;
}

/*
 * connect_failure_is_permanent tells a connection failure that no retry can
 * cure (the server's certificate does not verify against sslrootcert or
 * does not name the host, sslrootcert or the service is missing, the
 * password or pg_hba.conf rejects us) from a server that is down or
 * starting: retrying those for minutes only delays the alert that someone
 * must fix the configuration or the certificate, so they are configuration
 * errors (exit 78). libpq reports no SQLSTATE for a failed connection, so
 * this matches its (and OpenSSL's) English messages; a translated message
 * is retried as before, which is slow but not wrong.
 */
static bool
connect_failure_is_permanent(const char *reason)
{
	static const char *const permanent[] = {
		"certificate verify failed",        /* OpenSSL: not signed by sslrootcert, expired */
		"does not match host name",         /* libpq: verify-full, name not in the cert */
		"could not get server's host name from server certificate",
		"root certificate file",            /* sslrootcert missing or unreadable */
		"service file",                     /* PGSERVICEFILE names no file */
		"definition of service",            /* service=NAME not in the service file */
		"password authentication failed",   /* SQLSTATE 28P01 */
		"no pg_hba.conf entry",             /* SQLSTATE 28000 */
	};

	for (size_t i = 0; i < sizeof(permanent) / sizeof(permanent[0]); i++)
	{
		if (strstr(reason, permanent[i]) != NULL)
		{
			return true;
		}
	}
	return false;
}

static void
describe_target(PgConn *pg)
{
	const char *host = PQhost(pg->conn);

	(void) snprintf(pg->target, sizeof(pg->target), "%s@%s:%s/%s",
					PQuser(pg->conn) != NULL ? PQuser(pg->conn) : "?",
					host != NULL && host[0] != '\0' ? host : "localhost",
					PQport(pg->conn) != NULL ? PQport(pg->conn) : "?",
					PQdb(pg->conn) != NULL ? PQdb(pg->conn) : "?");
}

/*
 * pgconn_open connects with the keyword/value API. The fixed parameters
 * come before dbname, which is expanded from the user's conninfo, so that
 * anything the conninfo sets (including application_name and options)
 * wins; libpq still applies service files, the passfile and PG* variables
 * to whatever neither sets. client_encoding comes after it: the transform
 * writes UTF-8 by contract, whatever the session default would be.
 */
bool
pgconn_open(PgConn *pg, const PgConnSettings *settings, ClError *err)
{
	const char *keywords[5];
	const char *values[5];
	int n = 0;
	char options[1024];
	char reason[PGCONN_MESSAGE_SIZE];
	RetryPolicy policy = {
		.max_attempts = settings->connect_retries > 0 ? settings->connect_retries : 1,
		.base_ms = PGCONN_RETRY_BASE_MS,
		.max_sleep_ms = PGCONN_RETRY_MAX_SLEEP_MS,
		.max_total_ms = PGCONN_RETRY_MAX_TOTAL_MS
	};
	RetryState state;
	int attempts = 0;
	const char *conninfo = settings->conninfo != NULL ? settings->conninfo : "";

	pgconn_close(pg);
	pgconn_clear_error(pg);

	if (!check_conninfo(conninfo))
	{
		*err = CL_ERR_CONFIG;
		return false;
	}
	if (!pgconn_build_options(getenv("PGOPTIONS"), settings->statement_timeout_ms,
							  settings->lock_timeout_ms, options, sizeof(options)))
	{
		log_error("PGOPTIONS is too long to pass on with the timeouts (%zu bytes at most)",
				  sizeof(options) - 64);
		*err = CL_ERR_CONFIG;
		return false;
	}
	if (settings->application_name != NULL && settings->application_name[0] != '\0')
	{
		keywords[n] = "application_name";
		values[n++] = settings->application_name;
	}
	keywords[n] = "options";
	values[n++] = options;
	keywords[n] = "dbname";
	values[n++] = conninfo;
	keywords[n] = "client_encoding";
	values[n++] = "UTF8";
	keywords[n] = NULL;
	values[n] = NULL;

	retry_start(&state, (uint64_t) time_now() ^ ((uint64_t) getpid() << 32));
	for (;;)
	{
		int64_t sleep_ms = 0;

		attempts++;
		pg->conn = PQconnectdbParams(keywords, values, 1);
		if (pg->conn == NULL)
		{
			log_error("cannot allocate a PostgreSQL connection: out of memory");
			*err = CL_ERR_INTERNAL;
			return false;
		}
		if (PQstatus(pg->conn) == CONNECTION_OK)
		{
			break;
		}
		copy_trimmed(reason, sizeof(reason), PQerrorMessage(pg->conn));
		if (PQconnectionNeedsPassword(pg->conn))
		{
			log_error("cannot connect to PostgreSQL: %s; put the password in the passfile "
					  "(~/.pgpass or PGPASSFILE) or a ${VAR} in [database] conninfo", reason);
			pgconn_close(pg);
			*err = CL_ERR_CONFIG;
			return false;
		}
		if (connect_failure_is_permanent(reason))
		{
			log_error("cannot connect to PostgreSQL: %s; not retrying: retries cannot fix "
					  "[database] conninfo or what it names (service file, passfile, "
					  "sslrootcert), nor the server's certificate or pg_hba.conf", reason);
			pgconn_close(pg);
			*err = CL_ERR_CONFIG;
			return false;
		}
		pgconn_close(pg);
		if (cl_stop_requested() || !retry_next(&policy, &state, -1, &sleep_ms))
		{
			log_error("cannot connect to PostgreSQL after %d attempt%s: %s", attempts,
					  attempts == 1 ? "" : "s", reason);
			*err = CL_ERR_TEMPORARY;
			return false;
		}
		if (attempts == 1)
		{
			log_warn("cannot connect to PostgreSQL: %s; retrying (up to %d attempts)",
					 reason, policy.max_attempts);
		}
		else
		{
			log_debug("connection attempt %d failed: %s", attempts, reason);
		}
		if (!retry_sleep_ms(sleep_ms))
		{
			log_error("stop requested while waiting to reconnect to PostgreSQL");
			*err = CL_ERR_TEMPORARY;
			return false;
		}
	}

	describe_target(pg);
	if (PQpass(pg->conn) != NULL)
	{
		log_register_secret(PQpass(pg->conn));
	}
	(void) PQsetNoticeReceiver(pg->conn, notice_receiver, NULL);
	if (attempts > 1)
	{
		log_info("connected to %s after %d attempts", pg->target, attempts);
	}
	else
	{
		log_debug("connected to %s (server %d)", pg->target, PQserverVersion(pg->conn));
	}
	return true;
}

void
pgconn_close(PgConn *pg)
{
	if (pg == NULL || pg->conn == NULL)
	{
		return;
	}
	PQfinish(pg->conn);
	pg->conn = NULL;
}

/*
 * pgconn_exec logs only the head of the statement: migrations pass whole
 * files, which belong in the repository, not in the log.
 */
bool
pgconn_exec(PgConn *pg, const char *sql)
{
	PGresult *res = NULL;
	ExecStatusType status;

	log_sql("[%s] %.200s", pg->target, sql);
	res = PQexec(pg->conn, sql);
	status = PQresultStatus(res);
	/* a script of only comments (a migration kept as a placeholder) is empty, not wrong */
	if (res != NULL && (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK ||
						status == PGRES_EMPTY_QUERY))
	{
		PQclear(res);
		pgconn_clear_error(pg);
		return true;
	}
	pgconn_record_result(pg, res);
	PQclear(res);
	return false;
}

/*
 * pgconn_query uses the extended protocol even without parameters: one
 * statement per call, never a script, whatever the text holds.
 */
bool
pgconn_query(PgConn *pg, const char *sql, int nparams, const char *const *params,
			 PGresult **result)
{
	PGresult *res = NULL;
	ExecStatusType status;

	if (result != NULL)
	{
		*result = NULL;
	}
	log_sql("[%s] %.200s", pg->target, sql);
	res = PQexecParams(pg->conn, sql, nparams, NULL, params, NULL, NULL, 0);
	status = PQresultStatus(res);
	if (res != NULL && (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK))
	{
		pgconn_clear_error(pg);
		if (result != NULL)
		{
			*result = res;
		}
		else
		{
			PQclear(res);
		}
		return true;
	}
	pgconn_record_result(pg, res);
	PQclear(res);
	return false;
}

/*
 * log_lock_holder names the session that holds an advisory lock, so that
 * "another cl-load holds the lock" can be followed up (pg_stat_activity).
 */
static void
log_lock_holder(PgConn *pg, int object)
{
	PGresult *res = NULL;
	char classbuf[16];
	char objbuf[16];
	const char *params[2];

	(void) snprintf(classbuf, sizeof(classbuf), "%d", CL_LOCK_CLASS);
	(void) snprintf(objbuf, sizeof(objbuf), "%d", object);
	params[0] = classbuf;
	params[1] = objbuf;
	if (!pgconn_query(pg,
					  "SELECT l.pid, coalesce(a.application_name, ''), "
					  "       coalesce(a.xact_start::text, '') "
					  "  FROM pg_catalog.pg_locks l "
					  "  LEFT JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid "
					  " WHERE l.locktype = 'advisory' AND l.granted "
					  "   AND l.classid = $1::oid AND l.objid = $2::oid AND l.objsubid = 2",
					  2, params, &res))
	{
		log_debug("cannot tell who holds the lock: %s", pg->message);
		return;
	}
	if (PQntuples(res) > 0)
	{
		log_error("the lock is held by pid %s (application_name '%s', transaction since %s)",
				  PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2));
	}
	PQclear(res);
}

/*
 * pgconn_advisory_wait polls instead of blocking in pg_advisory_lock so
 * that the wait is bounded by our own setting (not statement_timeout) and
 * a stop request is noticed between two tries.
 */
bool
pgconn_advisory_wait(PgConn *pg, bool transaction_level, int object, int wait_seconds,
					 const char *holder, ClError *err)
{
	ClTime deadline = time_now() + (ClTime) wait_seconds * CL_USEC_PER_SEC;
	bool announced = false;
	char lock_sql[128];

	(void) snprintf(lock_sql, sizeof(lock_sql), "SELECT pg_try_advisory%s_lock(%d, %d)",
					transaction_level ? "_xact" : "", CL_LOCK_CLASS, object);

	for (;;)
	{
		PGresult *res = NULL;
		bool granted = false;
		ClTime now;
		int64_t sleep_ms = 500;

		if (!pgconn_query(pg, lock_sql, 0, NULL, &res))
		{
			pgconn_log_error(pg, "cannot take the advisory lock");
			*err = pgconn_error_class(pg);
			return false;
		}
		granted = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
		PQclear(res);
		if (granted)
		{
			return true;
		}
		now = time_now();
		if (now >= deadline)
		{
			log_error("another %s holds the lock; gave up after %d s "
					  "([database] lock_wait_seconds)", holder, wait_seconds);
			log_lock_holder(pg, object);
			*err = CL_ERR_TEMPORARY;
			return false;
		}
		if (!announced)
		{
			log_info("another %s holds the lock; waiting up to %d s", holder, wait_seconds);
			announced = true;
		}
		if ((deadline - now) / 1000 < sleep_ms)
		{
			sleep_ms = (deadline - now) / 1000 + 1;
		}
		if (!retry_sleep_ms(sleep_ms))
		{
			log_error("stop requested while waiting for the lock that another %s holds", holder);
			*err = CL_ERR_TEMPORARY;
			return false;
		}
	}
}

void
pgconn_advisory_unlock(PgConn *pg, int object)
{
	char sql[128];

	if (pg->conn == NULL || PQstatus(pg->conn) != CONNECTION_OK)
	{
		return;
	}
	(void) snprintf(sql, sizeof(sql), "SELECT pg_advisory_unlock(%d, %d)", CL_LOCK_CLASS, object);
	if (!pgconn_exec(pg, sql))
	{
		log_debug("cannot release advisory lock %d: %s", object, pg->message);
	}
}
