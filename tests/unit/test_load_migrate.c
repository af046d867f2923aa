/*
 * test_load_migrate.c: migration file names, listing, ordering, checksums
 * and the plan against etl.schema_migrations (load/migrate.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "migrate.h"
#include "support.h"

/* sha256 of "SELECT 1;\n", computed independently */
#define SELECT1_SHA256 "b4e0497804e46e0a0b0b8c31975b062152d551bac49c3c2e80932567b4085dcd"

static void
put(const char *dir, const char *name, const char *text)
{
	char path[4096];

	(void) snprintf(path, sizeof(path), "%s/%s", dir, name);
	ts_write_file(path, text);
}

static void
test_load_migrate_parses_names(void **state)
{
	long v = -1;

	(void) state;
	assert_true(migration_parse_name("001_etl.sql", &v));
	assert_int_equal(v, 1);
	assert_true(migration_parse_name("010_views-v2.sql", &v));
	assert_int_equal(v, 10);
	assert_true(migration_parse_name("7_x.sql", &v));
	assert_int_equal(v, 7);
	assert_true(migration_parse_name("123456789_max.sql", &v));
	assert_int_equal(v, 123456789);

	assert_false(migration_parse_name("1234567890_too_long.sql", &v));
	assert_false(migration_parse_name("001_.sql", &v));
	assert_false(migration_parse_name("001.sql", &v));
	assert_false(migration_parse_name("_etl.sql", &v));
	assert_false(migration_parse_name("01a_etl.sql", &v));
	assert_false(migration_parse_name("001 etl.sql", &v));
	assert_false(migration_parse_name("001_etl.sql.orig", &v));
	assert_false(migration_parse_name("001_etl.SQL", &v));
	assert_false(migration_parse_name("001_e.tl.sql", &v));
	assert_false(migration_parse_name("views.sql", &v));
	assert_false(migration_parse_name(".sql", &v));
}

static void
test_load_migrate_lists_in_version_order(void **state)
{
	char *dir = ts_make_tmpdir("load-migrations");
	MigrationList list = { 0 };
	ClError err = CL_OK;

	(void) state;
	put(dir, "10_ten.sql", "SELECT 10;\n");
	put(dir, "2_two.sql", "SELECT 2;\n");
	put(dir, "001_one.sql", "SELECT 1;\n");
	put(dir, "README", "not a migration\n");
	put(dir, ".001_hidden.sql", "SELECT 'editor swap file';\n");
	assert_true(migrations_list(dir, &list, &err));
	assert_int_equal(list.count, 3);
	assert_int_equal(list.items[0].version, 1);
	assert_string_equal(list.items[0].name, "001_one.sql");
	assert_string_equal(list.items[0].sql, "SELECT 1;\n");
	assert_string_equal(list.items[0].checksum, SELECT1_SHA256);
	assert_int_equal(list.items[1].version, 2);
	assert_int_equal(list.items[2].version, 10);
	assert_string_equal(list.items[2].name, "10_ten.sql");
	migrations_free(&list);
	assert_null(list.items);
	assert_int_equal(list.count, 0);
	ts_rmdir_r(dir);
	free(dir);
}

static void
test_load_migrate_rejects_bad_directories(void **state)
{
	char *dir = NULL;
	MigrationList list = { 0 };
	ClError err = CL_OK;

	(void) state;
	/* two files with one version */
	dir = ts_make_tmpdir("load-migrations-dup");
	put(dir, "001_a.sql", "SELECT 1;\n");
	put(dir, "1_b.sql", "SELECT 2;\n");
	assert_false(migrations_list(dir, &list, &err));
	assert_int_equal(err, CL_ERR_CONFIG);
	assert_null(list.items);
	ts_rmdir_r(dir);
	free(dir);

	/* a .sql file that is not named like a migration */
	dir = ts_make_tmpdir("load-migrations-name");
	put(dir, "001_a.sql", "SELECT 1;\n");
	put(dir, "views.sql", "SELECT 2;\n");
	err = CL_OK;
	assert_false(migrations_list(dir, &list, &err));
	assert_int_equal(err, CL_ERR_CONFIG);
	ts_rmdir_r(dir);
	free(dir);

	/* no migrations at all */
	dir = ts_make_tmpdir("load-migrations-empty");
	err = CL_OK;
	assert_false(migrations_list(dir, &list, &err));
	assert_int_equal(err, CL_ERR_CONFIG);

	/* no such directory */
	ts_rmdir_r(dir);
	err = CL_OK;
	assert_false(migrations_list(dir, &list, &err));
	assert_int_equal(err, CL_ERR_CONFIG);
	free(dir);
}

static void
test_load_migrate_repository_sql(void **state)
{
	char *dir = ts_source_path("sql");
	MigrationList list = { 0 };
	ClError err = CL_OK;

	(void) state;
	assert_true(migrations_list(dir, &list, &err));
	assert_true(list.count >= 3);
	assert_string_equal(list.items[0].name, "001_etl.sql");
	assert_string_equal(list.items[1].name, "002_attribution.sql");
	assert_string_equal(list.items[2].name, "003_reader_role.sql");
	for (size_t i = 0; i < list.count; i++)
	{
		/* executed with PQexec, one transaction per file: no psql, no own transactions */
		assert_null(strstr(list.items[i].sql, "\n\\"));
		assert_null(strstr(list.items[i].sql, "BEGIN;"));
		assert_null(strstr(list.items[i].sql, "COMMIT;"));
		assert_int_equal(strlen(list.items[i].checksum), SHA256_HEX_SIZE - 1);
	}
	migrations_free(&list);
	free(dir);
}

/* make_list builds n migrations 1..n with checksums "c1".."cn". */
static void
make_list(MigrationList *list, Migration *items, size_t n)
{
	for (size_t i = 0; i < n; i++)
	{
		memset(&items[i], 0, sizeof(items[i]));
		items[i].version = (long) i + 1;
		(void) snprintf(items[i].name, sizeof(items[i].name), "%03zu_m.sql", i + 1);
		(void) snprintf(items[i].checksum, sizeof(items[i].checksum), "c%zu", i + 1);
	}
	list->items = items;
	list->count = n;
}

static void
applied_row(AppliedMigration *a, long version, const char *name, const char *checksum)
{
	memset(a, 0, sizeof(*a));
	a->version = version;
	(void) snprintf(a->name, sizeof(a->name), "%s", name);
	(void) snprintf(a->checksum, sizeof(a->checksum), "%s", checksum);
}

static void
test_load_migrate_plans_pending(void **state)
{
	Migration items[4];
	MigrationList list;
	AppliedMigration applied[3];
	size_t pending[4];
	size_t npending = 99;
	ClError err = CL_OK;

	(void) state;
	make_list(&list, items, 4);

	/* a fresh database: everything, in order */
	assert_true(migrations_plan(&list, NULL, 0, pending, &npending, &err));
	assert_int_equal(npending, 4);
	for (size_t i = 0; i < 4; i++)
	{
		assert_int_equal(pending[i], i);
	}

	/* up to date: nothing */
	for (size_t i = 0; i < 3; i++)
	{
		applied_row(&applied[i], (long) i + 1, items[i].name, items[i].checksum);
	}
	assert_true(migrations_plan(&list, applied, 3, pending, &npending, &err));
	assert_int_equal(npending, 1);
	assert_int_equal(pending[0], 3);

	/* a gap (2 not applied, 3 applied): 2 is still applied, after a warning */
	applied_row(&applied[1], 3, items[2].name, items[2].checksum);
	assert_true(migrations_plan(&list, applied, 2, pending, &npending, &err));
	assert_int_equal(npending, 2);
	assert_int_equal(pending[0], 1);
	assert_int_equal(pending[1], 3);

	/* applied rows without a file (a newer cl-load migrated): only a warning */
	applied_row(&applied[0], 1, items[0].name, items[0].checksum);
	applied_row(&applied[1], 9, "009_newer.sql", "c9");
	assert_true(migrations_plan(&list, applied, 2, pending, &npending, &err));
	assert_int_equal(npending, 3);

	/* a renamed file with the same content is the same migration */
	applied_row(&applied[0], 1, "001_old_name.sql", items[0].checksum);
	assert_true(migrations_plan(&list, applied, 1, pending, &npending, &err));
	assert_int_equal(npending, 3);
}

static void
test_load_migrate_changed_checksum_is_config_error(void **state)
{
	Migration items[3];
	MigrationList list;
	AppliedMigration applied[2];
	size_t pending[3];
	size_t npending = 0;
	ClError err = CL_OK;
	char *logpath = NULL;
	char *logtext = NULL;
	FILE *fp = NULL;
	char *dir = ts_make_tmpdir("load-migrate-log");

	(void) state;
	make_list(&list, items, 3);
	applied_row(&applied[0], 1, items[0].name, items[0].checksum);
	applied_row(&applied[1], 2, items[1].name, "c2-as-applied");

	logpath = malloc(strlen(dir) + 16);
	assert_non_null(logpath);
	(void) snprintf(logpath, strlen(dir) + 16, "%s/log.txt", dir);
	fp = fopen(logpath, "w");
	assert_non_null(fp);
	log_set_level(LOG_ERROR);
	log_set_fp(fp);
	assert_false(migrations_plan(&list, applied, 2, pending, &npending, &err));
	log_set_fp(NULL);
	log_set_level(LOG_FATAL);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(err, CL_ERR_CONFIG);

	/* the message names the file */
	logtext = ts_read_file(logpath, NULL);
	assert_non_null(strstr(logtext, "002_m.sql"));
	assert_null(strstr(logtext, "001_m.sql"));
	free(logtext);
	free(logpath);
	ts_rmdir_r(dir);
	free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_migrate_parses_names),
		cmocka_unit_test(test_load_migrate_lists_in_version_order),
		cmocka_unit_test(test_load_migrate_rejects_bad_directories),
		cmocka_unit_test(test_load_migrate_repository_sql),
		cmocka_unit_test(test_load_migrate_plans_pending),
		cmocka_unit_test(test_load_migrate_changed_checksum_is_config_error),
	};

	log_set_level(LOG_FATAL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
