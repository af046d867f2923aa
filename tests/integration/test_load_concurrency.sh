#!/usr/bin/env bash
# test_load_concurrency.sh: two cl-load at once, and a connection dropped in
# the middle of COPY.
#
# - While one cl-load holds the load lock, a second one waits up to
#   lock_wait_seconds, then exits 75 naming the holder; with a longer wait
#   it loads after the first has committed.
# - The server ends the loader's session during COPY (pg_terminate_backend):
#   with connect_retries = 1 cl-load exits 75 and nothing is applied; with
#   retries it runs the whole load again and succeeds.
# States are reached by polling the server's views, never by sleeping.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cl_pg_env
cl_need awk sha256sum

LOAD="$CL_BINARY_DIR/load/cl-load"
SQL="$CL_SOURCE_DIR/sql"
DATA="$CL_SOURCE_DIR/tests/data/load/out"
RUN1=20260201T010000Z-aaaaaa            # window 2026-01-01..2026-01-31
RUN2=20260215T010000Z-bbbbbb            # window 2026-01-16..2026-02-14
BIG=20260401T000000Z-conc01             # window 2026-01-01..2026-03-31, credit only
BIG_ROWS=400000
tmp=$(cl_tmpdir)
DB=cl_load_concurrency
TABLES="leads deals touches spend_daily attribution_credit attribution_daily attribution_model_stats"
pids=()

q() { cl_psql -d "$DB" -c "$@"; }
quiet() { cl_psql -d postgres -c "SET client_min_messages = warning" -c "$1"; }

stop_background()
{
	local pid
	for pid in "${pids[@]}"; do
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
}
cl_on_exit stop_background

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

fingerprint()
{
	local t out=""
	for t in $TABLES; do
		out+="$t=$(q "SELECT count(*) || ':' || coalesce(md5(string_agg(x::text, E'\n' ORDER BY x::text)), '-')
			FROM attribution.$t x") "
	done
	echo "$out"
}

# config NAME [key=value ...]: $tmp/NAME.ini with application_name NAME
config()
{
	local name=$1 kv
	shift
	{
		echo "[pipeline]"
		echo "staging_dir = $tmp/staging"
		echo "[database]"
		echo "conninfo = $CL_PG_CONNINFO dbname=$DB"
		echo "migrations_dir = $SQL"
		echo "application_name = $name"
		for kv in "$@"; do
			echo "${kv%%=*} = ${kv#*=}"
		done
		echo "[attribution]"
		echo "output_dir = $tmp/out"
	} >"$tmp/$name.ini"
}

# poll WHAT SQL: until SQL prints t (every 20 ms, up to 30 s)
poll()
{
	local i
	for ((i = 0; i < 1500; i++)); do
		[ "$(q "$2")" = t ] && return 0
		sleep 0.02
	done
	cl_fail "$1 did not happen within 30 s"
}

# finish PID: wait for a background cl-load; sets rc
finish()
{
	set +e
	wait "$1"
	rc=$?
	set -e
}

quiet "DROP DATABASE IF EXISTS $DB WITH (FORCE)"
cl_psql -d postgres -c "CREATE DATABASE $DB"
mkdir -p "$tmp/out"
cp -r "$DATA/$RUN1" "$DATA/$RUN2" "$tmp/out/"
big_output "$tmp/out" "$BIG" "$BIG_ROWS"
config base "lock_wait_seconds=30" "connect_retries=1"
"$LOAD" --config "$tmp/base.ini" --run "$RUN1" 2>"$tmp/base.log" || cl_fail "loading $RUN1: $(cat "$tmp/base.log")"
baseline=$(fingerprint)

# --- two loaders: A holds the lock (kept in its last step by a reader's
#     lock); B with a short wait gives up with 75, C with a long one waits
PGAPPNAME=cl_test_reader psql -X -q -d "$DB" -c "BEGIN" \
	-c "SELECT count(*) FROM attribution.attribution_credit" -c "SELECT pg_sleep(120)" >/dev/null 2>&1 &
reader_pid=$!
pids+=("$reader_pid")
poll "the reader's transaction" "SELECT count(*) = 1 FROM pg_stat_activity
	WHERE application_name = 'cl_test_reader' AND query LIKE '%pg_sleep%'"
config cl_test_a "lock_wait_seconds=30" "connect_retries=1"
"$LOAD" --config "$tmp/cl_test_a.ini" --run "$BIG" 2>"$tmp/a.log" &
a_pid=$!
pids+=("$a_pid")
for _ in $(seq 1 1500); do
	grep -q 'waiting for readers to let go' "$tmp/a.log" && break
	sleep 0.02
done
grep -q 'waiting for readers to let go' "$tmp/a.log" || cl_fail "loader A did not reach its swap: $(cat "$tmp/a.log")"
cl_assert_eq t "$(q "SELECT EXISTS (SELECT 1 FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid
	AND l.locktype = 'advisory' AND l.granted AND l.objid = 2 WHERE a.application_name = 'cl_test_a')")" \
	"loader A holds the load lock"

config cl_test_b "lock_wait_seconds=1" "connect_retries=1"
set +e
"$LOAD" --config "$tmp/cl_test_b.ini" --run "$RUN2" 2>"$tmp/b.log"
rc=$?
set -e
cl_assert_eq 75 "$rc" "loader B while A holds the lock ($(cat "$tmp/b.log"))"
grep -q 'another cl-load holds the lock' "$tmp/b.log" || cl_fail "B does not say why: $(cat "$tmp/b.log")"
grep -q "application_name 'cl_test_a'" "$tmp/b.log" || cl_fail "B does not name A: $(cat "$tmp/b.log")"
cl_assert_eq "$baseline" "$(fingerprint)" "tables while A has not committed"
cl_ok "a second loader waits lock_wait_seconds for the first, then exits 75 naming it"

config cl_test_c "lock_wait_seconds=60" "connect_retries=1"
"$LOAD" --config "$tmp/cl_test_c.ini" --run "$RUN2" 2>"$tmp/c.log" &
c_pid=$!
pids+=("$c_pid")
poll "loader C waiting for the lock" "SELECT count(*) = 1 FROM pg_stat_activity
	WHERE application_name = 'cl_test_c' AND query LIKE '%pg_try_advisory_xact_lock%'"
q "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'cl_test_reader'" >/dev/null
finish "$a_pid"
cl_assert_eq 0 "$rc" "loader A ($(cat "$tmp/a.log"))"
finish "$c_pid"
cl_assert_eq 0 "$rc" "loader C ($(cat "$tmp/c.log"))"
grep -q 'holds the lock; waiting' "$tmp/c.log" || cl_fail "C did not wait: $(cat "$tmp/c.log")"
# C committed after A: its window (2026-01-16..2026-02-14) holds its rows, the rest of A's window A's
cl_assert_eq "$RUN1:succeeded,$RUN2:succeeded,$BIG:succeeded" \
	"$(q "SELECT string_agg(run_id || ':' || status, ',' ORDER BY run_id) FROM etl.runs")" "etl.runs"
cl_assert_eq "t" "$(q "SELECT (SELECT finished_at FROM etl.runs WHERE run_id = '$RUN2') >
	(SELECT finished_at FROM etl.runs WHERE run_id = '$BIG')")" "C finished after A"
expect=$(awk -F'\t' '$8 < "2026-01-16" || $8 > "2026-02-14"' "$tmp/out/$BIG/attribution_credit.copy" | wc -l)
expect=$((expect + $(wc -l <"$tmp/out/$RUN2/attribution_credit.copy")))
cl_assert_eq "$expect" "$(q "SELECT count(*) FROM attribution.attribution_credit")" "credit rows after A then C"
cl_ok "a loader with a longer wait loads after the first commits"

# --- the connection dropped during COPY, no retries: 75, nothing applied
before=$(fingerprint)
runs_before=$(q "SELECT string_agg(run_id || ':' || status, ',' ORDER BY run_id) FROM etl.runs")
config cl_test_drop1 "lock_wait_seconds=30" "connect_retries=1"
"$LOAD" --config "$tmp/cl_test_drop1.ini" --run "$BIG" 2>"$tmp/drop1.log" &
d_pid=$!
pids+=("$d_pid")
poll "COPY of loader drop1" "SELECT EXISTS (SELECT 1 FROM pg_stat_progress_copy p JOIN pg_stat_activity a USING (pid)
	WHERE a.application_name = 'cl_test_drop1' AND p.tuples_processed > 0)"
q "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'cl_test_drop1'" >/dev/null
finish "$d_pid"
cl_assert_eq 75 "$rc" "a connection dropped during COPY without retries ($(cat "$tmp/drop1.log"))"
grep -q 'connection' "$tmp/drop1.log" || cl_fail "no word of the lost connection: $(cat "$tmp/drop1.log")"
cl_assert_eq "$before" "$(fingerprint)" "tables after the dropped load"
cl_assert_eq "$runs_before" "$(q "SELECT string_agg(run_id || ':' || status, ',' ORDER BY run_id) FROM etl.runs")" \
	"etl.runs keeps the earlier success of $BIG"
cl_assert_eq "" "$(q "SELECT string_agg(relname, ',') FROM pg_class
	WHERE relnamespace = 'attribution_part'::regnamespace AND relname LIKE '%load%'")" "no half-built partition"
cl_ok "a connection dropped during COPY without retries exits 75 with nothing applied"

# --- with retries: the whole load runs again and succeeds
config cl_test_drop3 "lock_wait_seconds=30" "connect_retries=3"
"$LOAD" --config "$tmp/cl_test_drop3.ini" --run "$BIG" 2>"$tmp/drop3.log" &
d_pid=$!
pids+=("$d_pid")
poll "COPY of loader drop3" "SELECT EXISTS (SELECT 1 FROM pg_stat_progress_copy p JOIN pg_stat_activity a USING (pid)
	WHERE a.application_name = 'cl_test_drop3' AND p.tuples_processed > 0)"
q "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'cl_test_drop3'" >/dev/null
finish "$d_pid"
cl_assert_eq 0 "$rc" "a connection dropped during COPY with retries ($(cat "$tmp/drop3.log"))"
grep -q 'connection was lost during the load' "$tmp/drop3.log" || cl_fail "no retry logged: $(cat "$tmp/drop3.log")"
cl_assert_eq "$BIG_ROWS" "$(q "SELECT count(*) FROM attribution.attribution_credit")" "credit rows after the retried load"
cl_ok "a connection dropped during COPY is retried as a whole and the load succeeds"

quiet "DROP DATABASE IF EXISTS $DB WITH (FORCE)"
rm -rf "$tmp"
echo "test_load_concurrency: ok"
