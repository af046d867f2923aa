/*
 * migrate.c: list, plan and apply the sql/NNN_name.sql migrations.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "log.h"
#include "migrate.h"
#include "retry.h"
#include "timeutil.h"

/* A migration is DDL written by hand; anything bigger is a mistake. */
#define MIGRATION_MAX_BYTES (16 * 1024 * 1024)
#define MIGRATION_MAX_DIGITS 9      /* versions fit in a long and an int4 */

static const char *const bootstrap_sql =
	"CREATE SCHEMA IF NOT EXISTS etl;\n"
	"CREATE TABLE IF NOT EXISTS etl.schema_migrations\n"
	"(\n"
	"\tversion    integer     PRIMARY KEY,\n"
	"\tname       text        NOT NULL,\n"
	"\tchecksum   text        NOT NULL,\n"
	"\tapplied_at timestamptz NOT NULL DEFAULT now()\n"
	");\n";

/*
 * migration_parse_name accepts NNN_name.sql only. Anything looser would let
 * a file such as "2_fix.sql.orig" or "010 views.sql" be applied (or be
 * skipped) by accident.
 */
bool
migration_parse_name(const char *filename, long *version)
{
	size_t len = strlen(filename);
	size_t digits = 0;
	size_t i;
	long v = 0;

	if (len < 4 || len >= MIGRATION_NAME_SIZE || strcmp(filename + len - 4, ".sql") != 0)
	{
		return false;
	}
	while (isdigit((unsigned char) filename[digits]))
	{
		v = v * 10 + (filename[digits] - '0');
		digits++;
		if (digits > MIGRATION_MAX_DIGITS)
		{
			return false;
		}
	}
	if (digits == 0 || filename[digits] != '_')
	{
		return false;
	}
	/* the name between '_' and ".sql": at least one character */
	if (digits + 1 >= len - 4)
	{
		return false;
	}
	for (i = digits + 1; i < len - 4; i++)
	{
		unsigned char c = (unsigned char) filename[i];

		if (!isalnum(c) && c != '_' && c != '-')
		{
			return false;
		}
	}
	*version = v;
	return true;
}

void
migrations_free(MigrationList *list)
{
	if (list == NULL)
	{
		return;
	}
	for (size_t i = 0; i < list->count; i++)
	{
		free(list->items[i].sql);
	}
	free(list->items);
	list->items = NULL;
	list->count = 0;
}

static int
compare_migrations(const void *a, const void *b)
{
	const Migration *ma = a;
	const Migration *mb = b;

	if (ma->version != mb->version)
	{
		return ma->version < mb->version ? -1 : 1;
	}
	return strcmp(ma->name, mb->name);
}

/*
 * load_migration reads one file into m. The text is handed to PQexec as a
 * C string, so a NUL byte inside would silently cut the migration short:
 * refuse it. The checksum is taken over the same bytes that are executed.
 */
static bool
load_migration(const char *dir, const char *filename, long version, Migration *m)
{
	char path[4096];
	size_t len = 0;
	Sha256 h;

	memset(m, 0, sizeof(*m));
	if (!fileio_join(path, sizeof(path), dir, filename))
	{
		log_error("migration path too long: %s/%s", dir, filename);
		return false;
	}
	if (!fileio_read_all(path, MIGRATION_MAX_BYTES, &m->sql, &len))
	{
		/* errors have already been logged */
		return false;
	}
	if (strlen(m->sql) != len)
	{
		log_error("migration \"%s\" contains a NUL byte", path);
		free(m->sql);
		m->sql = NULL;
		return false;
	}
	m->version = version;
	(void) snprintf(m->name, sizeof(m->name), "%s", filename);
	sha256_init(&h);
	sha256_update(&h, m->sql, len);
	sha256_final_hex(&h, m->checksum);
	return true;
}

/*
 * migrations_list: see migrate.h. Directory order is arbitrary, so the
 * list is sorted; equal versions are refused because their order (and so
 * the schema) would depend on the names.
 */
bool
migrations_list(const char *dir, MigrationList *list, ClError *err)
{
	DIR *d = NULL;
	struct dirent *entry = NULL;
	size_t cap = 0;
	bool ok = false;

	list->items = NULL;
	list->count = 0;
	d = opendir(dir);
	if (d == NULL)
	{
		log_error("cannot open the migrations directory \"%s\" ([database] migrations_dir): %s",
				  dir, strerror(errno));
		goto cleanup;
	}
	for (;;)
	{
		long version = 0;
		size_t len;

		errno = 0;
		entry = readdir(d);
		if (entry == NULL)
		{
			if (errno != 0)
			{
				log_error("cannot read the migrations directory \"%s\": %s", dir, strerror(errno));
				goto cleanup;
			}
			break;
		}
		len = strlen(entry->d_name);
		if (entry->d_name[0] == '.' || len < 4 || strcmp(entry->d_name + len - 4, ".sql") != 0)
		{
			continue;
		}
		if (!migration_parse_name(entry->d_name, &version))
		{
			log_error("\"%s\" in %s is not a migration name: expected NNN_name.sql "
					  "(digits, '_', then letters, digits, '_' or '-')", entry->d_name, dir);
			goto cleanup;
		}
		if (list->count == cap)
		{
			size_t newcap = cap == 0 ? 16 : cap * 2;
			Migration *bigger = realloc(list->items, newcap * sizeof(Migration));

			if (bigger == NULL)
			{
				log_error("out of memory listing migrations");
				goto cleanup;
			}
			list->items = bigger;
			cap = newcap;
		}
		if (!load_migration(dir, entry->d_name, version, &list->items[list->count]))
		{
			/* errors have already been logged */
			goto cleanup;
		}
		list->count++;
	}
	if (list->count == 0)
	{
		log_error("no migrations (NNN_name.sql) in \"%s\": check [database] migrations_dir", dir);
		goto cleanup;
	}
	qsort(list->items, list->count, sizeof(Migration), compare_migrations);
	for (size_t i = 1; i < list->count; i++)
	{
		if (list->items[i].version == list->items[i - 1].version)
		{
			log_error("migrations \"%s\" and \"%s\" in %s have the same version %ld",
					  list->items[i - 1].name, list->items[i].name, dir, list->items[i].version);
			goto cleanup;
		}
	}
	ok = true;

cleanup:
	if (d != NULL)
	{
		(void) closedir(d);
	}
	if (!ok)
	{
		migrations_free(list);
		*err = CL_ERR_CONFIG;
	}
	return ok;
}

/*
 * migrations_plan: see migrate.h. Both lists are short (tens of files), so
 * the quadratic lookup keeps the code obvious.
 */
bool
migrations_plan(const MigrationList *list, const AppliedMigration *applied, size_t napplied,
				size_t *pending, size_t *npending, ClError *err)
{
	long max_applied = -1;
	bool ok = true;

	*npending = 0;
	for (size_t a = 0; a < napplied; a++)
	{
		const Migration *file = NULL;

		if (applied[a].version > max_applied)
		{
			max_applied = applied[a].version;
		}
		for (size_t i = 0; i < list->count; i++)
		{
			if (list->items[i].version == applied[a].version)
			{
				file = &list->items[i];
				break;
			}
		}
		if (file == NULL)
		{
			log_warn("migration %ld (%s) is applied to the database but not among the files: "
					 "was it migrated by a newer cl-load?", applied[a].version, applied[a].name);
			continue;
		}
		if (strcmp(file->checksum, applied[a].checksum) != 0)
		{
			log_error("migration \"%s\" has changed since it was applied%s%s%s (checksum now %s, "
					  "applied %s): restore the file and put the change in a new migration",
					  file->name,
					  strcmp(file->name, applied[a].name) != 0 ? " as \"" : "",
					  strcmp(file->name, applied[a].name) != 0 ? applied[a].name : "",
					  strcmp(file->name, applied[a].name) != 0 ? "\"" : "",
					  file->checksum, applied[a].checksum);
			ok = false;
		}
		else if (strcmp(file->name, applied[a].name) != 0)
		{
			log_warn("migration %ld was applied as \"%s\" and is now named \"%s\"",
					 file->version, applied[a].name, file->name);
		}
	}
	if (!ok)
	{
		*err = CL_ERR_CONFIG;
		return false;
	}
	for (size_t i = 0; i < list->count; i++)
	{
		bool done = false;

		for (size_t a = 0; a < napplied && !done; a++)
		{
			done = applied[a].version == list->items[i].version;
		}
		if (done)
		{
			continue;
		}
		if (list->items[i].version < max_applied)
		{
			log_warn("migration \"%s\" is older than migration %ld, which is already applied; "
					 "applying it now", list->items[i].name, max_applied);
		}
		pending[(*npending)++] = i;
	}
	return true;
}

/*
 * parse_version reads etl.schema_migrations.version (an integer column;
 * checked anyway, the table may have been edited by hand).
 */
static bool
parse_version(const char *text, long *out)
{
	char *end = NULL;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || v < 0)
	{
		return false;
	}
	*out = v;
	return true;
}

/*
 * fetch_applied reads etl.schema_migrations into an ALLOCATED array that
 * the caller frees with free() (*applied is NULL when there are no rows,
 * or no table yet).
 */
static bool
fetch_applied(PgConn *pg, AppliedMigration **applied, size_t *napplied, ClError *err)
{
	PGresult *res = NULL;
	int rows;
	bool ok = false;

	*applied = NULL;
	*napplied = 0;
	if (!pgconn_query(pg, "SELECT to_regclass('etl.schema_migrations') IS NOT NULL", 0, NULL,
					  &res))
	{
		goto failed;
	}
	if (strcmp(PQgetvalue(res, 0, 0), "t") != 0)
	{
		ok = true;
		goto cleanup;
	}
	PQclear(res);
	res = NULL;
	if (!pgconn_query(pg, "SELECT version, name, checksum FROM etl.schema_migrations "
					  "ORDER BY version", 0, NULL, &res))
	{
		goto failed;
	}
	rows = PQntuples(res);
	if (rows > 0)
	{
		*applied = calloc((size_t) rows, sizeof(AppliedMigration));
		if (*applied == NULL)
		{
			log_error("out of memory reading etl.schema_migrations");
			*err = CL_ERR_INTERNAL;
			goto cleanup;
		}
	}
	for (int r = 0; r < rows; r++)
	{
		AppliedMigration *a = &(*applied)[r];

		if (!parse_version(PQgetvalue(res, r, 0), &a->version))
		{
			log_error("etl.schema_migrations has an invalid version \"%s\"", PQgetvalue(res, r, 0));
			*err = CL_ERR_CONFIG;
			goto cleanup;
		}
		(void) snprintf(a->name, sizeof(a->name), "%s", PQgetvalue(res, r, 1));
		(void) snprintf(a->checksum, sizeof(a->checksum), "%s", PQgetvalue(res, r, 2));
	}
	*napplied = (size_t) rows;
	ok = true;
	goto cleanup;

failed:
	pgconn_log_error(pg, "cannot read etl.schema_migrations");
	*err = pgconn_error_class(pg);

cleanup:
	PQclear(res);
	if (!ok)
	{
		free(*applied);
		*applied = NULL;
		*napplied = 0;
	}
	return ok;
}

/*
 * migration_error_class: a migration has no input data, so a data-class
 * SQLSTATE means the migration is wrong (70); missing privileges are the
 * operator's to fix (78); a lost connection is worth a retry (75).
 */
static ClError
migration_error_class(const PgConn *pg)
{
	ClError cls = pgconn_error_class(pg);

	if (strcmp(pg->sqlstate, "42501") == 0)
	{
		return CL_ERR_CONFIG;
	}
	return cls == CL_ERR_DATA ? CL_ERR_INTERNAL : cls;
}

/*
 * apply_one runs one migration and records it in the same transaction, so
 * a migration is either applied and recorded or neither.
 */
static bool
apply_one(PgConn *pg, const Migration *m, ClError *err)
{
	char version[32];
	const char *params[3];
	ClTime started = time_now();
	char what[512];

	(void) snprintf(version, sizeof(version), "%ld", m->version);
	params[0] = version;
	params[1] = m->name;
	params[2] = m->checksum;
	(void) snprintf(what, sizeof(what), "migration \"%s\" failed", m->name);

	if (!pgconn_exec(pg, "BEGIN"))
	{
		goto failed;
	}
	log_sql("[%s] applying %s", pg->target, m->name);
	if (!pgconn_exec(pg, m->sql))
	{
		goto failed;
	}
	if (!pgconn_query(pg, "INSERT INTO etl.schema_migrations (version, name, checksum) "
					  "VALUES ($1::integer, $2, $3)", 3, params, NULL))
	{
		goto failed;
	}
	if (!pgconn_exec(pg, "COMMIT"))
	{
		goto failed;
	}
	log_info("applied migration %s (%lld ms)", m->name,
			 (long long) ((time_now() - started) / 1000));
	return true;

failed:
	pgconn_log_error(pg, what);
	*err = migration_error_class(pg);
	if (!pg->connection_lost && !pgconn_exec(pg, "ROLLBACK"))
	{
		log_debug("rollback after the failed migration failed too: %s", pg->message);
	}
	return false;
}

/*
 * migrate_run: see migrate.h. The session-level lock serialises two
 * cl-load processes that start together on a fresh database: without it
 * both would see migration 001 pending and the second would fail on
 * "relation already exists".
 */
bool
migrate_run(PgConn *pg, const MigrateSettings *settings, ClError *err)
{
	MigrationList list = { 0 };
	AppliedMigration *applied = NULL;
	size_t napplied = 0;
	size_t *pending = NULL;
	size_t npending = 0;
	bool locked = false;
	bool ok = false;
	const char *params[1];

	if (!migrations_list(settings->dir, &list, err))
	{
		/* errors have already been logged */
		goto cleanup;
	}
	pending = calloc(list.count, sizeof(size_t));
	if (pending == NULL)
	{
		log_error("out of memory planning migrations");
		*err = CL_ERR_INTERNAL;
		goto cleanup;
	}

	if (settings->dry_run)
	{
		if (!fetch_applied(pg, &applied, &napplied, err) ||
			!migrations_plan(&list, applied, napplied, pending, &npending, err))
		{
			/* errors have already been logged */
			goto cleanup;
		}
		for (size_t i = 0; i < npending; i++)
		{
			printf("migration %s: pending, would be applied\n", list.items[pending[i]].name);
		}
		log_info("dry run: %zu of %zu migrations pending", npending, list.count);
		ok = true;
		goto cleanup;
	}

	if (!pgconn_advisory_wait(pg, false, CL_LOCK_MIGRATE, settings->lock_wait_seconds,
							  "cl-load migrating this database", err))
	{
		/* errors have already been logged */
		goto cleanup;
	}
	locked = true;

	params[0] = settings->reader_role != NULL ? settings->reader_role : "";
	if (!pgconn_query(pg, "SELECT set_config('closedloop.reader_role', $1, false)", 1, params,
					  NULL))
	{
		pgconn_log_error(pg, "cannot pass reader_role to the migrations");
		*err = migration_error_class(pg);
		goto cleanup;
	}
	if (!fetch_applied(pg, &applied, &napplied, err))
	{
		/* errors have already been logged */
		goto cleanup;
	}
	if (napplied == 0 && !pgconn_exec(pg, bootstrap_sql))
	{
		pgconn_log_error(pg, "cannot create etl.schema_migrations");
		*err = migration_error_class(pg);
		goto cleanup;
	}
	if (!migrations_plan(&list, applied, napplied, pending, &npending, err))
	{
		/* errors have already been logged */
		goto cleanup;
	}
	for (size_t i = 0; i < npending; i++)
	{
		if (cl_stop_requested())
		{
			log_error("stop requested: %zu migrations not applied", npending - i);
			*err = CL_ERR_TEMPORARY;
			goto cleanup;
		}
		if (!apply_one(pg, &list.items[pending[i]], err))
		{
			/* errors have already been logged */
			goto cleanup;
		}
	}
	if (npending == 0)
	{
		log_debug("schema up to date (%zu migrations applied)", napplied);
	}
	ok = true;

cleanup:
	if (locked)
	{
		pgconn_advisory_unlock(pg, CL_LOCK_MIGRATE);
	}
	free(pending);
	free(applied);
	migrations_free(&list);
	return ok;
}
