/*
 * migrate.h: the numbered migrations of sql/ and their bookkeeping in
 * etl.schema_migrations.
 *
 * A migration is a file NNN_name.sql (NNN: its version, one or more
 * digits; name: letters, digits, '_' and '-'). Files are applied in version
 * order, each in its own transaction, with the SHA-256 of its bytes
 * recorded. An applied file that has changed since is a configuration
 * error: the database and the code no longer agree on the schema.
 */
#ifndef CL_LOAD_MIGRATE_H
#define CL_LOAD_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>

#include "exitcode.h"
#include "pgconn.h"
#include "sha256.h"

#define MIGRATION_NAME_SIZE 256     /* longer file names are refused */

typedef struct Migration
{
	long version;
	char name[MIGRATION_NAME_SIZE];     /* the file name, "001_etl.sql" */
	char checksum[SHA256_HEX_SIZE];     /* of the file's bytes */
	char *sql;                          /* owned: the file's text */
} Migration;

typedef struct MigrationList
{
	Migration *items;           /* owned, sorted by version */
	size_t count;
} MigrationList;

/* One row of etl.schema_migrations. */
typedef struct AppliedMigration
{
	long version;
	char name[MIGRATION_NAME_SIZE];
	char checksum[SHA256_HEX_SIZE];
} AppliedMigration;

/*
 * migration_parse_name: true when filename is a migration's name; the
 * version is stored in *version. Other names are not migrations.
 */
bool migration_parse_name(const char *filename, long *version);

/*
 * migrations_list reads every *.sql file of dir. A .sql file whose name is
 * not a migration's, two files with the same version, or an unreadable
 * file fail with *err = CL_ERR_CONFIG (logged). Other files (README) are
 * ignored. On success list owns the migrations; free it with
 * migrations_free().
 */
bool migrations_list(const char *dir, MigrationList *list, ClError *err)
	__attribute__((warn_unused_result));

void migrations_free(MigrationList *list);

/*
 * migrations_plan compares the files with the applied rows: a changed
 * checksum fails with *err = CL_ERR_CONFIG naming the file. On success
 * pending[] (capacity list->count) receives the indexes of the files not
 * yet applied, in order, and *npending their number. Applied versions
 * without a file are only warned about (a newer cl-load migrated this
 * database).
 */
bool migrations_plan(const MigrationList *list, const AppliedMigration *applied,
					 size_t napplied, size_t *pending, size_t *npending, ClError *err);

typedef struct MigrateSettings
{
	const char *dir;            /* [database] migrations_dir */
	const char *reader_role;    /* [database] reader_role, for 003 */
	int lock_wait_seconds;      /* wait for a concurrent migrator */
	bool dry_run;               /* plan and report, change nothing */
} MigrateSettings;

/*
 * migrate_run brings the database up to date: it takes the migration
 * advisory lock (session level, waiting up to lock_wait_seconds), creates
 * etl.schema_migrations when it is missing, and applies the pending files.
 * With dry_run it only reports the pending files. *err on failure.
 * Does not manage the lifetime of pg.
 */
bool migrate_run(PgConn *pg, const MigrateSettings *settings, ClError *err)
	__attribute__((warn_unused_result));

#endif
