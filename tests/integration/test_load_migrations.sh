#!/usr/bin/env bash
# test_load_migrations.sh: cl-load --migrate-only against the throwaway
# PostgreSQL: migrations are applied once, recorded with their checksums,
# a rerun changes nothing, a changed file is refused (exit 78), two
# loaders starting together do not collide, and the reader role migration
# works for a loader role that may not create roles.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cl_pg_env

LOAD="$CL_BINARY_DIR/load/cl-load"
SQL="$CL_SOURCE_DIR/sql"
tmp=$(cl_tmpdir)
DB=cl_load_migrations
DB2=cl_load_migrations_race
DB3=cl_load_migrations_nocr

q() { local db=$1; shift; cl_psql -d "$db" -c "$@"; }
quiet() { q postgres "SET client_min_messages = warning" -c "$1"; }
recreate_db() { quiet "DROP DATABASE IF EXISTS $1 WITH (FORCE)"; q postgres "CREATE DATABASE $1 ${2:-}"; }

# write_config FILE DB SQLDIR [database-key=value ...]
write_config()
{
	local file=$1 db=$2 sqldir=$3
	shift 3
	{
		echo "[pipeline]"
		echo "staging_dir = $tmp/staging"
		echo "[database]"
		echo "conninfo = $CL_PG_CONNINFO dbname=$db"
		echo "migrations_dir = $sqldir"
		echo "lock_wait_seconds = 30"
		echo "connect_retries = 1"
		for kv in "$@"; do
			echo "${kv%%=*} = ${kv#*=}"
		done
	} >"$file"
}

# run_load CONFIG ARGS...: runs cl-load, stderr to $tmp/err.log; sets rc
run_load()
{
	local config=$1
	shift
	set +e
	"$LOAD" --config "$config" "$@" >"$tmp/out.log" 2>"$tmp/err.log"
	rc=$?
	set -e
}

recreate_db "$DB"
write_config "$tmp/a.ini" "$DB" "$SQL"

# --- a dry run on an empty database lists the migrations and creates nothing
run_load "$tmp/a.ini" --migrate-only --dry-run
cl_assert_eq 0 "$rc" "dry-run exit status"
grep -q '001_etl.sql: pending' "$tmp/out.log" || cl_fail "dry run does not list 001_etl.sql"
grep -q '003_reader_role.sql: pending' "$tmp/out.log" || cl_fail "dry run does not list 003"
cl_assert_eq "" "$(q "$DB" "SELECT nspname FROM pg_namespace WHERE nspname IN ('etl', 'attribution')")" \
	"the dry run created a schema"
cl_ok "a dry run lists the pending migrations and creates nothing"

# --- first run applies every file once, with its checksum
run_load "$tmp/a.ini" --migrate-only
cl_assert_eq 0 "$rc" "first --migrate-only"
expected=""
for f in "$SQL"/[0-9]*_*.sql; do
	name=$(basename "$f")
	sum=$(sha256sum "$f" | cut -d' ' -f1)
	expected+="$((10#${name%%_*}))|$name|$sum"$'\n'
done
actual=$(q "$DB" "SELECT version || '|' || name || '|' || checksum FROM etl.schema_migrations ORDER BY version")
cl_assert_eq "${expected%$'\n'}" "$actual" "etl.schema_migrations after the first run"
applied_before=$(q "$DB" "SELECT string_agg(applied_at::text, ',' ORDER BY version) FROM etl.schema_migrations")

# every documented table exists, and every table and column has a comment
tables=$(q "$DB" "SELECT string_agg(relname, ',' ORDER BY relname) FROM pg_class
	WHERE relnamespace = 'attribution'::regnamespace AND relkind IN ('r', 'p')")
cl_assert_eq "attribution_credit,attribution_daily,attribution_model_stats,deals,email_campaign_stats,leads,spend_daily,targets,touches" \
	"$tables" "tables in schema attribution"
views=$(q "$DB" "SELECT string_agg(relname, ',' ORDER BY relname) FROM pg_class
	WHERE relnamespace = 'attribution'::regnamespace AND relkind = 'v'")
cl_assert_eq "channel_roi_monthly,email_campaign_revenue,lead_funnel,model_comparison_monthly,plan_vs_fact" \
	"$views" "views in schema attribution"
cl_assert_eq "p" "$(q "$DB" "SELECT relkind FROM pg_class WHERE oid = 'attribution.attribution_credit'::regclass")" \
	"attribution_credit is partitioned"
uncommented=$(q "$DB" "SELECT count(*) FROM pg_class c
	JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
	WHERE c.relnamespace IN ('attribution'::regnamespace, 'etl'::regnamespace) AND c.relkind IN ('r', 'p', 'v')
	  AND col_description(c.oid, a.attnum) IS NULL")
cl_assert_eq 0 "$uncommented" "columns without a comment"
uncommented=$(q "$DB" "SELECT count(*) FROM pg_class c
	WHERE c.relnamespace IN ('attribution'::regnamespace, 'etl'::regnamespace) AND c.relkind IN ('r', 'p', 'v')
	  AND obj_description(c.oid, 'pg_class') IS NULL")
cl_assert_eq 0 "$uncommented" "tables without a comment"
cl_assert_eq "t" "$(q "$DB" "SELECT NOT rolcanlogin FROM pg_roles WHERE rolname = 'closedloop_reader'")" \
	"closedloop_reader exists and is NOLOGIN"
cl_assert_eq "t|t|t|t" "$(q "$DB" "SELECT has_table_privilege('closedloop_reader', 'attribution.plan_vs_fact', 'SELECT'),
	has_table_privilege('closedloop_reader', 'attribution.attribution_model_stats', 'SELECT'),
	has_table_privilege('closedloop_reader', 'attribution.attribution_credit', 'SELECT'),
	has_table_privilege('closedloop_reader', 'attribution.email_campaign_stats', 'SELECT')")" \
	"the reader role reads the tables and views of later migrations"
cl_ok "migrations applied once, recorded with their sha256; every table, view and column commented"

# --- a rerun is a no-op
run_load "$tmp/a.ini" --migrate-only
cl_assert_eq 0 "$rc" "second --migrate-only"
applied_after=$(q "$DB" "SELECT string_agg(applied_at::text, ',' ORDER BY version) FROM etl.schema_migrations")
cl_assert_eq "$applied_before" "$applied_after" "a rerun changed etl.schema_migrations"
if grep -q 'applied migration' "$tmp/err.log"; then
	cl_fail "a rerun applied a migration again: $(cat "$tmp/err.log")"
fi
cl_ok "a rerun is a no-op"

# --- an applied migration that changed is a configuration error naming the file
cp -r "$SQL" "$tmp/sql-changed"
echo "-- an edit after the fact" >>"$tmp/sql-changed/002_attribution.sql"
write_config "$tmp/changed.ini" "$DB" "$tmp/sql-changed"
run_load "$tmp/changed.ini" --migrate-only
cl_assert_eq 78 "$rc" "exit status with a changed migration"
grep -q '002_attribution.sql' "$tmp/err.log" || cl_fail "the error does not name the file: $(cat "$tmp/err.log")"
# ... also when loading, not only when migrating
run_load "$tmp/changed.ini"
cl_assert_eq 78 "$rc" "exit status of a load with a changed migration"
cl_ok "a changed migration is refused with 78, naming the file"

# --- a new migration is applied after the others, in its own transaction
cp -r "$SQL" "$tmp/sql-new"
cat >"$tmp/sql-new/900_test_extra.sql" <<'SQL'
CREATE TABLE attribution.test_extra (id integer PRIMARY KEY);
COMMENT ON TABLE attribution.test_extra IS 'made by test_load_migrations.sh';
SQL
cat >"$tmp/sql-new/901_test_broken.sql" <<'SQL'
CREATE TABLE attribution.test_broken (id integer);
SELECT no_such_function();
SQL
write_config "$tmp/new.ini" "$DB" "$tmp/sql-new"
run_load "$tmp/new.ini" --migrate-only
cl_assert_eq 70 "$rc" "exit status with a broken migration"
grep -q '901_test_broken.sql' "$tmp/err.log" || cl_fail "the error does not name the broken file"
cl_assert_eq "900" "$(q "$DB" "SELECT max(version) FROM etl.schema_migrations")" \
	"900 is recorded, 901 is not"
cl_assert_eq "t|f" "$(q "$DB" "SELECT to_regclass('attribution.test_extra') IS NOT NULL,
	to_regclass('attribution.test_broken') IS NOT NULL")" "the broken migration left nothing behind"
cl_assert_eq "t" "$(q "$DB" "SELECT has_table_privilege('closedloop_reader', 'attribution.test_extra', 'SELECT')")" \
	"default privileges give the reader role the tables of later migrations"
cl_ok "new migrations apply in order, a broken one rolls back alone (70)"

# --- two loaders on a fresh database at once: the lock serialises them
recreate_db "$DB2"
write_config "$tmp/race.ini" "$DB2" "$SQL"
set +e
"$LOAD" --config "$tmp/race.ini" --migrate-only 2>"$tmp/race1.log" &
p1=$!
"$LOAD" --config "$tmp/race.ini" --migrate-only 2>"$tmp/race2.log" &
p2=$!
wait "$p1"
rc1=$?
wait "$p2"
rc2=$?
set -e
cl_assert_eq "0 0" "$rc1 $rc2" "exit statuses of two concurrent migrations ($(cat "$tmp/race1.log" "$tmp/race2.log"))"
cl_assert_eq "$(ls "$SQL"/[0-9]*_*.sql | wc -l)" "$(q "$DB2" "SELECT count(*) FROM etl.schema_migrations")" \
	"migrations recorded after the race"
cl_ok "two loaders migrating a fresh database at once both succeed"

# --- a loader role without CREATEROLE
quiet "DROP ROLE IF EXISTS cl_test_loader_nocr"
q postgres "CREATE ROLE cl_test_loader_nocr LOGIN NOCREATEROLE NOSUPERUSER"
recreate_db "$DB3" "OWNER cl_test_loader_nocr"
base_conninfo=$CL_PG_CONNINFO
CL_PG_CONNINFO="$base_conninfo user=cl_test_loader_nocr"
# the role does not exist and may not be created: a NOTICE, no failure
write_config "$tmp/nocr.ini" "$DB3" "$SQL" "reader_role=cl_test_reader_absent"
run_load "$tmp/nocr.ini" --migrate-only -v
cl_assert_eq 0 "$rc" "migrating without CREATEROLE ($(cat "$tmp/err.log"))"
grep -q 'cl_test_reader_absent does not exist' "$tmp/err.log" ||
	cl_fail "no notice about the missing role: $(cat "$tmp/err.log")"
cl_assert_eq 0 "$(q postgres "SELECT count(*) FROM pg_roles WHERE rolname = 'cl_test_reader_absent'")" \
	"the role was created after all"
cl_ok "without CREATEROLE a missing reader role is a NOTICE, not a failure"
# the role exists (an administrator made it): the grants are made
quiet "DROP ROLE IF EXISTS cl_test_reader_given"
q postgres "CREATE ROLE cl_test_reader_given NOLOGIN"
recreate_db "$DB3" "OWNER cl_test_loader_nocr"
write_config "$tmp/nocr2.ini" "$DB3" "$SQL" "reader_role=cl_test_reader_given"
run_load "$tmp/nocr2.ini" --migrate-only
cl_assert_eq 0 "$rc" "migrating with a given reader role ($(cat "$tmp/err.log"))"
cl_assert_eq "t|t|f" "$(q "$DB3" "SELECT has_schema_privilege('cl_test_reader_given', 'attribution', 'USAGE'),
	has_table_privilege('cl_test_reader_given', 'attribution.deals', 'SELECT'),
	has_table_privilege('cl_test_reader_given', 'attribution.deals', 'INSERT')")" \
	"privileges of the given reader role"
cl_ok "without CREATEROLE an existing reader role gets its grants"
# ... and that role loads outputs, partitions included, without superuser
{
	echo "[attribution]"
	echo "output_dir = $CL_SOURCE_DIR/tests/data/load/out"
} >>"$tmp/nocr2.ini"
for pass in first second; do
	run_load "$tmp/nocr2.ini" --run 20260201T010000Z-aaaaaa
	cl_assert_eq 0 "$rc" "the $pass load as a role without superuser ($(cat "$tmp/err.log"))"
	cl_assert_eq "attribution_credit_close_date_idx_2026_01,attribution_credit_deal_idx_2026_01,attribution_credit_model_channel_idx_2026_01" \
		"$(q "$DB3" "SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes
			WHERE schemaname = 'attribution_part' AND tablename = 'attribution_credit_2026_01'")" \
		"the partition's indexes after the $pass load"
done
cl_assert_eq "f|cl_test_loader_nocr" "$(q "$DB3" "SELECT r.rolsuper, t.tableowner FROM pg_roles r, pg_tables t
	WHERE r.rolname = 'cl_test_loader_nocr' AND t.schemaname = 'attribution_part'
	  AND t.tablename = 'attribution_credit_2026_01'")" "the partition was made by the loader role, no superuser"
cl_ok "a loader role without superuser or CREATEROLE loads and replaces partitions"
CL_PG_CONNINFO=$base_conninfo

# --- 004 moves rows loaded before the partitioning into their months
DB4=cl_load_migrations_part
recreate_db "$DB4"
mkdir -p "$tmp/sql-003"
cp "$SQL"/00[123]_*.sql "$tmp/sql-003/"
write_config "$tmp/p3.ini" "$DB4" "$tmp/sql-003"
run_load "$tmp/p3.ini" --migrate-only
cl_assert_eq 0 "$rc" "migrating to 003"
q "$DB4" "INSERT INTO attribution.attribution_credit (model, deal_id, deal_source_system, close_date, channel,
	journey_length, weight, revenue, currency, revenue_reporting, reporting_currency)
	VALUES ('linear', 'D1', 'hubspot', '2026-01-05', 'Email', 0, 1, 10, 'USD', 10, 'USD'),
	       ('linear', 'D2', 'hubspot', '2026-02-05', 'Email', 0, 1, 20, 'USD', 20, 'USD')"
write_config "$tmp/p.ini" "$DB4" "$SQL"
run_load "$tmp/p.ini" --migrate-only
cl_assert_eq 0 "$rc" "migrating a database with credit rows ($(cat "$tmp/err.log"))"
cl_assert_eq "D1|attribution_part.attribution_credit_2026_01,D2|attribution_part.attribution_credit_2026_02" \
	"$(q "$DB4" "SELECT string_agg(deal_id || '|' || tableoid::regclass, ',' ORDER BY deal_id)
		FROM attribution.attribution_credit")" "rows in their month partitions"
cl_assert_eq "" "$(q "$DB4" "SELECT to_regclass('attribution.attribution_credit_unpartitioned')")" \
	"the unpartitioned table is gone"
cl_ok "004 moves existing credit rows into month partitions"
quiet "DROP DATABASE IF EXISTS $DB4 WITH (FORCE)"

quiet "DROP DATABASE IF EXISTS $DB WITH (FORCE)"
quiet "DROP DATABASE IF EXISTS $DB2 WITH (FORCE)"
quiet "DROP DATABASE IF EXISTS $DB3 WITH (FORCE)"
quiet "DROP ROLE IF EXISTS cl_test_loader_nocr"
q postgres "DROP ROLE cl_test_reader_given"
rm -rf "$tmp"
echo "test_load_migrations: ok"
