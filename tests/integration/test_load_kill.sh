#!/usr/bin/env bash
# test_load_kill.sh: cl-load killed with SIGKILL at several points of a load
# leaves the database as it was before the load (the previous run's data,
# no half-built partitions, no etl.runs row, no lock), readers see the
# previous data while the load runs, and a rerun then succeeds.
#
# The points are reached by polling the server's own progress views, not by
# sleeping: during COPY (pg_stat_progress_copy), while the new month
# partitions are indexed (pg_stat_progress_create_index), and while the
# partitions are swapped in just before COMMIT (held there by a reader's
# lock, the way a long dashboard query would hold it).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cl_pg_env
cl_need awk sha256sum

LOAD="$CL_BINARY_DIR/load/cl-load"
SQL="$CL_SOURCE_DIR/sql"
DATA="$CL_SOURCE_DIR/tests/data/load/out"
RUN1=20260201T010000Z-aaaaaa            # window 2026-01-01..2026-01-31
BIG=20260401T000000Z-kill01             # window 2026-01-01..2026-03-31, credit only
BIG_ROWS=400000
tmp=$(cl_tmpdir)
DB=cl_load_kill
TABLES="leads deals touches spend_daily attribution_credit attribution_daily attribution_model_stats"
load_pid=""
reader_pid=""

q() { cl_psql -d "$DB" -c "$@"; }
quiet() { cl_psql -d postgres -c "SET client_min_messages = warning" -c "$1"; }

stop_background()
{
	local pid
	for pid in $load_pid $reader_pid; do
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
}
cl_on_exit stop_background

# big_output DIR RUN ROWS: a transform output with only attribution_credit
big_output()
{
	local dir=$1/$2 sum
	mkdir -p "$dir"
	awk -v rows="$3" -v from=2026-01-01 -v days=90 -f "$CL_SOURCE_DIR/bench/load_gen.awk" \
		>"$dir/attribution_credit.copy"
	sum=$(sha256sum "$dir/attribution_credit.copy" | cut -d' ' -f1)
	cat >"$dir/manifest.json" <<-JSON
		{"run_id": "$2", "window": {"from": "2026-01-01", "to": "2026-03-31"},
		 "tables": [{"name": "attribution_credit", "file": "attribution_credit.copy",
		             "rows": $3, "sha256": "$sum", "load": "window"}]}
	JSON
}

# state: every table's rows, the partitions, etl.runs and the advisory locks
state()
{
	local t out=""
	for t in $TABLES; do
		out+="$t=$(q "SELECT count(*) || ':' || coalesce(md5(string_agg(x::text, E'\n' ORDER BY x::text)), '-')
			FROM attribution.$t x") "
	done
	out+="parts=$(q "SELECT string_agg(relname, ',' ORDER BY relname) FROM pg_class
		WHERE relnamespace = 'attribution_part'::regnamespace AND relkind IN ('r', 'p')") "
	out+="runs=$(q "SELECT string_agg(run_id || ':' || status, ',' ORDER BY run_id) FROM etl.runs") "
	out+="locks=$(q "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = 1668050800")"
	echo "$out"
}

# start_load APPNAME: cl-load --run BIG in the background
start_load()
{
	sed "s/^application_name = .*/application_name = $1/" "$tmp/db.ini" >"$tmp/$1.ini"
	"$LOAD" --config "$tmp/$1.ini" --run "$BIG" >/dev/null 2>"$tmp/$1.log" &
	load_pid=$!
}

# wait_for WHAT SQL: poll (every 20 ms, up to 30 s) until SQL prints t,
# failing early when the loader exits
wait_for()
{
	local what=$1 sql=$2 i
	for ((i = 0; i < 1500; i++)); do
		[ "$(q "$sql")" = t ] && return 0
		kill -0 "$load_pid" 2>/dev/null || cl_fail "cl-load exited before $what: $(cat "$tmp"/*.log)"
		sleep 0.02
	done
	cl_fail "cl-load did not reach $what within 30 s"
}

# kill_load APPNAME: SIGKILL cl-load, then wait until the server has ended
# its session (the server notices the dead client at its next read or write)
kill_load()
{
	local i
	kill -KILL "$load_pid"
	wait "$load_pid" 2>/dev/null || true
	load_pid=""
	for ((i = 0; i < 1500; i++)); do
		[ "$(q "SELECT count(*) FROM pg_stat_activity WHERE application_name = '$1'")" = 0 ] && return 0
		sleep 0.02
	done
	cl_fail "the session of the killed cl-load did not end"
}

backend_of() { echo "SELECT pid FROM pg_stat_activity WHERE application_name = '$1'"; }

quiet "DROP DATABASE IF EXISTS $DB WITH (FORCE)"
cl_psql -d postgres -c "CREATE DATABASE $DB"
mkdir -p "$tmp/out"
cp -r "$DATA/$RUN1" "$tmp/out/"
big_output "$tmp/out" "$BIG" "$BIG_ROWS"
cat >"$tmp/db.ini" <<INI
[pipeline]
staging_dir = $tmp/staging
[database]
conninfo = $CL_PG_CONNINFO dbname=$DB
migrations_dir = $SQL
application_name = cl-load
lock_wait_seconds = 30
connect_retries = 1
[attribution]
output_dir = $tmp/out
INI
"$LOAD" --config "$tmp/db.ini" --run "$RUN1" 2>"$tmp/run1.log" || cl_fail "loading $RUN1: $(cat "$tmp/run1.log")"
before=$(state)
credit_before=$(q "SELECT count(*) FROM attribution.attribution_credit")

# --- 1: during COPY
start_load cl_test_kill_copy
wait_for "COPY" "SELECT EXISTS (SELECT 1 FROM pg_stat_progress_copy WHERE pid = ($(backend_of cl_test_kill_copy))
	AND tuples_processed > 0)"
cl_assert_eq "$credit_before" "$(q "SELECT count(*) FROM attribution.attribution_credit")" \
	"a reader during the COPY sees the previous rows"
kill_load cl_test_kill_copy
cl_assert_eq "$before" "$(state)" "the database after SIGKILL during COPY"
cl_ok "SIGKILL during COPY leaves the previous state"

# --- 2: while the new partitions are indexed
start_load cl_test_kill_index
wait_for "the index build" "SELECT EXISTS (SELECT 1 FROM pg_stat_progress_create_index
	WHERE pid = ($(backend_of cl_test_kill_index)))"
cl_assert_eq "$credit_before" "$(q "SELECT count(*) FROM attribution.attribution_credit")" \
	"a reader during the index build sees the previous rows"
kill_load cl_test_kill_index
cl_assert_eq "$before" "$(state)" "the database after SIGKILL during the index build"
cl_ok "SIGKILL while the new partitions are indexed leaves the previous state"

# --- 3: after COPY and the index builds, before COMMIT: about to swap the
#     partitions in. A reader in an open transaction holds the table, so the
#     swap waits for it (in short tries that let other readers pass).
PGAPPNAME=cl_test_reader psql -X -q -d "$DB" -c "BEGIN" \
	-c "SELECT count(*) FROM attribution.attribution_credit" -c "SELECT pg_sleep(120)" >/dev/null 2>&1 &
reader_pid=$!
for _ in $(seq 1 500); do
	[ "$(q "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'cl_test_reader'
		AND query LIKE '%pg_sleep%'")" = 1 ] && break
	sleep 0.02
done
start_load cl_test_kill_swap
for _ in $(seq 1 1500); do
	grep -q 'waiting for readers to let go' "$tmp/cl_test_kill_swap.log" && break
	kill -0 "$load_pid" 2>/dev/null || cl_fail "cl-load exited before the swap: $(cat "$tmp/cl_test_kill_swap.log")"
	sleep 0.02
done
grep -q 'waiting for readers to let go' "$tmp/cl_test_kill_swap.log" || cl_fail "cl-load did not reach the swap"
cl_assert_eq "$credit_before" "$(q "SELECT count(*) FROM attribution.attribution_credit")" \
	"a reader while cl-load waits to swap sees the previous rows, without waiting behind it"
kill_load_then_release()
{
	kill -KILL "$load_pid"
	wait "$load_pid" 2>/dev/null || true
	load_pid=""
	q "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'cl_test_reader'" >/dev/null
	wait "$reader_pid" 2>/dev/null || true
	reader_pid=""
	for _ in $(seq 1 1500); do
		[ "$(q "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'cl_test_kill_swap'")" = 0 ] && return 0
		sleep 0.02
	done
	cl_fail "the session of the killed cl-load did not end"
}
kill_load_then_release
cl_assert_eq "$before" "$(state)" "the database after SIGKILL during the swap"
cl_ok "SIGKILL after COPY, waiting to swap the partitions in before COMMIT, leaves the previous state"

# --- a rerun succeeds and replaces the window
"$LOAD" --config "$tmp/db.ini" --run "$BIG" 2>"$tmp/rerun.log" || cl_fail "the rerun failed: $(cat "$tmp/rerun.log")"
cl_assert_eq "$BIG_ROWS" "$(q "SELECT count(*) FROM attribution.attribution_credit")" "credit rows after the rerun"
cl_assert_eq "attribution_credit_2026_01,attribution_credit_2026_02,attribution_credit_2026_03" \
	"$(q "SELECT string_agg(relname, ',' ORDER BY relname) FROM pg_class
		WHERE relnamespace = 'attribution_part'::regnamespace AND relkind = 'r'")" "partitions after the rerun"
cl_assert_eq "$BIG:succeeded,$RUN1:succeeded" \
	"$(q "SELECT string_agg(run_id || ':' || status, ',' ORDER BY run_id DESC) FROM etl.runs")" "etl.runs after the rerun"
cl_assert_eq 3 "$(q "SELECT count(*) FROM pg_indexes WHERE schemaname = 'attribution_part'
	AND tablename = 'attribution_credit_2026_02'")" "indexes of a new partition"
cl_ok "after the kills a rerun loads the output"

quiet "DROP DATABASE IF EXISTS $DB WITH (FORCE)"
rm -rf "$tmp"
echo "test_load_kill: ok"
