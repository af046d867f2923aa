#!/usr/bin/env bash
# test_load_errors.sh: what cl-load does with bad outputs and an unhelpful
# database. Every refused load exits with the documented status, names
# what is wrong (table, file, line), changes nothing in schema attribution
# and records the failed attempt in etl.runs; a connection lost during the
# load is retried.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cl_pg_env

LOAD="$CL_BINARY_DIR/load/cl-load"
SQL="$CL_SOURCE_DIR/sql"
DATA="$CL_SOURCE_DIR/tests/data/load/out"
RUN1=20260201T010000Z-aaaaaa
tmp=$(cl_tmpdir)
DB=cl_load_errors
TABLES="leads deals touches spend_daily attribution_credit attribution_daily attribution_model_stats"
holder_pid=""
load_pid=""

q() { local db=$1; shift; cl_psql -d "$db" -c "$@"; }
quiet() { q postgres "SET client_min_messages = warning" -c "$1"; }

# stop_background ends the lock holder and loader this test started, if
# they are still running when it exits
stop_background()
{
	local pid
	for pid in $holder_pid $load_pid; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
}
cl_on_exit stop_background

# write_config FILE OUTDIR [database-key=value ...]
write_config()
{
	local file=$1 outdir=$2
	shift 2
	{
		echo "[pipeline]"
		echo "staging_dir = $tmp/staging"
		echo "[database]"
		echo "conninfo = $CL_PG_CONNINFO dbname=$DB"
		echo "migrations_dir = $SQL"
		for kv in "$@"; do
			echo "${kv%%=*} = ${kv#*=}"
		done
		echo "[attribution]"
		echo "output_dir = $outdir"
	} >"$file"
}

run_load()
{
	local config=$1
	shift
	set +e
	"$LOAD" --config "$config" "$@" >"$tmp/out.log" 2>"$tmp/err.log"
	rc=$?
	set -e
}

fingerprint()
{
	local t out=""
	for t in $TABLES; do
		out+="$t=$(q "$DB" "SELECT count(*) || ':' || coalesce(md5(string_agg(x::text, E'\n' ORDER BY x::text)), '-')
			FROM attribution.$t x") "
	done
	echo "$out"
}

# variant RUN_ID: a copy of RUN1 under $tmp/bad/RUN_ID, renamed; prints its path
variant()
{
	local dir="$tmp/bad/$1"
	rm -rf "$dir"
	mkdir -p "$tmp/bad"
	cp -r "$DATA/$RUN1" "$dir"
	sed -i "s/\"run_id\": \"$RUN1\"/\"run_id\": \"$1\"/" "$dir/manifest.json"
	echo "$dir"
}

# set_field DIR TABLE FIELD VALUE: edit the table's entry in the manifest
set_field()
{
	sed -i "/\"name\": \"$2\"/,/}/ s/\"$3\": [^,]*\(,\{0,1\}\)\$/\"$3\": $4\1/" "$1/manifest.json"
}

# reseal DIR TABLE: the manifest's sha256 and rows follow the edited file
reseal()
{
	local sum rows
	sum=$(sha256sum "$1/$2.copy" | cut -d' ' -f1)
	rows=$(wc -l <"$1/$2.copy")
	set_field "$1" "$2" sha256 "\"$sum\""
	set_field "$1" "$2" rows "$rows"
}

# expect_refused RUN_ID STATUS PATTERN...: cl-load --run RUN_ID exits with
# STATUS, its log matches every PATTERN, the tables are unchanged and the
# attempt is recorded as failed
expect_refused()
{
	local run=$1 status=$2 pattern
	shift 2
	run_load "$tmp/bad.ini" --run "$run"
	cl_assert_eq "$status" "$rc" "exit status of $run ($(cat "$tmp/err.log"))"
	for pattern in "$@"; do
		grep -q -- "$pattern" "$tmp/err.log" || cl_fail "$run: the log lacks '$pattern': $(cat "$tmp/err.log")"
	done
	cl_assert_eq "$baseline" "$(fingerprint)" "tables after the refused $run"
	cl_assert_eq "failed|t" "$(q "$DB" "SELECT status, error <> '' FROM etl.runs WHERE run_id = '$run'")" \
		"etl.runs row of $run"
	cl_ok "$run: exit $status, the log names what is wrong, nothing changed, the attempt is in etl.runs"
}

quiet "DROP DATABASE IF EXISTS $DB WITH (FORCE)"
q postgres "CREATE DATABASE $DB"
write_config "$tmp/good.ini" "$DATA" "connect_retries=1" "lock_wait_seconds=30"
write_config "$tmp/bad.ini" "$tmp/bad" "connect_retries=1" "lock_wait_seconds=30"
run_load "$tmp/good.ini" --run "$RUN1"
cl_assert_eq 0 "$rc" "loading the baseline ($(cat "$tmp/err.log"))"
baseline=$(fingerprint)
cl_ok "baseline $RUN1 loaded"

# --- the manifest's row count disagrees with the file
d=$(variant 20260301T000000Z-rows)
set_field "$d" leads rows 4
expect_refused 20260301T000000Z-rows 65 "table leads" "has 3 rows, the manifest says 4"

# --- the file has as many lines as the manifest says, but COPY stops at an
#     end-of-data marker: the server's own row count catches it
d=$(variant 20260301T000000Z-eod)
sed -i '2s/.*/\\./' "$d/leads.copy"
reseal "$d" leads
expect_refused 20260301T000000Z-eod 65 "table leads: COPY read 1 rows" "the manifest says 3"

# --- a bad value: the error names the table, the file and the line
d=$(variant 20260301T000000Z-value)
sed -i '3s/2026-01-12/2026-13-45/' "$d/attribution_credit.copy"
reseal "$d" attribution_credit
expect_refused 20260301T000000Z-value 65 "SQLSTATE 22008" "table attribution_credit" \
	"line 3 of $d/attribution_credit.copy" "column close_date"
q "$DB" "SELECT error FROM etl.runs WHERE run_id = '20260301T000000Z-value'" | grep -q "attribution_credit.copy, line 3" ||
	cl_fail "etl.runs.error does not name the line"

# --- a missing required value
d=$(variant 20260301T000000Z-null)
sed -i '1s/\tUSD$/\t\\N/' "$d/attribution_daily.copy"
reseal "$d" attribution_daily
expect_refused 20260301T000000Z-null 65 "SQLSTATE 23502" "table attribution_daily" "line 1 of"

# --- a file changed after the manifest was written
d=$(variant 20260301T000000Z-sha)
sed -i 's/1200.50/1200.51/' "$d/deals.copy"
expect_refused 20260301T000000Z-sha 65 "table deals" "sha256"

# --- a row outside the output's window would never be replaced again
d=$(variant 20260301T000000Z-window)
sed -i '1s/^2026-01-02/2026-02-05/' "$d/spend_daily.copy"
reseal "$d" spend_daily
expect_refused 20260301T000000Z-window 65 "table spend_daily" "outside the window 2026-01-01..2026-01-31"

# --- ... also in the partitioned attribution_credit, where COPY itself catches it
d=$(variant 20260301T000000Z-window2)
sed -i '2s/2026-01-12/2026-02-12/g' "$d/attribution_credit.copy"
reseal "$d" attribution_credit
expect_refused 20260301T000000Z-window2 65 "table attribution_credit" \
	"line 2 of $d/attribution_credit.copy has close_date outside the window 2026-01-01..2026-01-31"
cl_assert_eq "" "$(q "$DB" "SELECT string_agg(relname, ',') FROM pg_class
	WHERE relnamespace = 'attribution_part'::regnamespace AND relname LIKE '%load%'")" "no half-built partition"

# --- an exact-window table with a row of another window
d=$(variant 20260301T000000Z-exact)
sed -i '1s/^2026-01-01\t2026-01-31/2026-01-01\t2026-01-30/' "$d/attribution_model_stats.copy"
reseal "$d" attribution_model_stats
expect_refused 20260301T000000Z-exact 65 "table attribution_model_stats" \
	"(window_from, window_to) other than the window"

# --- two rows with one key in an upsert file
d=$(variant 20260301T000000Z-dupkey)
head -n 1 "$d/leads.copy" >>"$d/leads.copy"
reseal "$d" leads
expect_refused 20260301T000000Z-dupkey 65 "SQLSTATE 23505" "table leads" "is duplicated"

# --- a duplicate grain in a window table
d=$(variant 20260301T000000Z-dupgrain)
head -n 1 "$d/attribution_daily.copy" >>"$d/attribution_daily.copy"
reseal "$d" attribution_daily
expect_refused 20260301T000000Z-dupgrain 65 "SQLSTATE 23505" "table attribution_daily"

# --- a table cl-load does not know, a mode that is not the table's
d=$(variant 20260301T000000Z-table)
sed -i 's/"name": "touches"/"name": "email_campaign_stats"/' "$d/manifest.json"
run_load "$tmp/bad.ini" --run 20260301T000000Z-table
cl_assert_eq 65 "$rc" "unknown table"
grep -q 'email_campaign_stats' "$tmp/err.log" || cl_fail "the unknown table is not named"
d=$(variant 20260301T000000Z-mode)
set_field "$d" deals load '"window"'
run_load "$tmp/bad.ini" --run 20260301T000000Z-mode
cl_assert_eq 65 "$rc" "wrong load mode"
cl_assert_eq "$baseline" "$(fingerprint)" "tables after refused manifests"
cl_ok "unknown tables and wrong load modes are refused (65)"

# --- an output that does not exist, or is not complete
run_load "$tmp/bad.ini" --run 20260301T000000Z-absent
cl_assert_eq 65 "$rc" "absent output"
d=$(variant 20260301T000000Z-incomplete)
rm "$d/manifest.json"
run_load "$tmp/bad.ini" --run 20260301T000000Z-incomplete
cl_assert_eq 65 "$rc" "output without manifest"
cl_ok "an absent or incomplete output is refused (65)"

# --- a failed reload keeps the earlier success of the same run
d=$(variant "$RUN1")
sed -i '3s/2026-01-12/2026-13-45/' "$d/attribution_credit.copy"
reseal "$d" attribution_credit
run_load "$tmp/bad.ini" --run "$RUN1"
cl_assert_eq 65 "$rc" "broken reload of $RUN1"
cl_assert_eq "succeeded" "$(q "$DB" "SELECT status FROM etl.runs WHERE run_id = '$RUN1'")" \
	"the success of $RUN1 is kept"
cl_assert_eq "$baseline" "$(fingerprint)" "tables after the broken reload"
cl_ok "a failed reload keeps the earlier success in etl.runs"

# --- usage
run_load "$tmp/good.ini" --from 2026-01-01
cl_assert_eq 64 "$rc" "--from"
run_load "$tmp/good.ini" --run ../x
cl_assert_eq 64 "$rc" "--run ../x"
cl_ok "usage errors exit 64"

# --- the database cannot be reached: temporary (75), after the retries
write_config "$tmp/down.ini" "$DATA" "connect_retries=2"
sed -i "s|^conninfo = .*|conninfo = host=$tmp/no-such-socket-dir port=1 dbname=$DB|" "$tmp/down.ini"
run_load "$tmp/down.ini" --run "$RUN1"
cl_assert_eq 75 "$rc" "unreachable database"
grep -q 'after 2 attempts' "$tmp/err.log" || cl_fail "no retry: $(cat "$tmp/err.log")"
# ... but a conninfo that does not parse is a configuration error (78)
sed -i "s|^conninfo = .*|conninfo = host=/tmp no_such_keyword=1|" "$tmp/down.ini"
run_load "$tmp/down.ini" --run "$RUN1"
cl_assert_eq 78 "$rc" "invalid conninfo"
cl_ok "an unreachable database is temporary (75) after the retries, a bad conninfo is 78"

# hold_load_lock: another session takes the load lock and keeps it
hold_load_lock()
{
	PGAPPNAME=cl_test_holder psql -X -q -d "$DB" -c "SELECT pg_advisory_lock(1668050800, 2)" \
		-c "SELECT pg_sleep(120)" >/dev/null 2>&1 &
	holder_pid=$!
	for _ in $(seq 1 100); do
		[ "$(q "$DB" "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted
			AND classid = 1668050800 AND objid = 2")" = 1 ] && return 0
		sleep 0.1
	done
	cl_fail "the lock holder did not get the lock"
}

release_load_lock()
{
	q "$DB" "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'cl_test_holder'" >/dev/null
	wait "$holder_pid" 2>/dev/null || true
	holder_pid=""
}

# --- another cl-load holds the lock: wait lock_wait_seconds, then 75
hold_load_lock
write_config "$tmp/busy.ini" "$tmp/bad" "connect_retries=1" "lock_wait_seconds=1"
d=$(variant 20260301T000000Z-busy)
run_load "$tmp/busy.ini" --run 20260301T000000Z-busy
cl_assert_eq 75 "$rc" "lock held elsewhere"
grep -q 'another cl-load holds the lock' "$tmp/err.log" || cl_fail "no lock message: $(cat "$tmp/err.log")"
grep -q "application_name 'cl_test_holder'" "$tmp/err.log" || cl_fail "the holder is not named: $(cat "$tmp/err.log")"
cl_assert_eq "$baseline" "$(fingerprint)" "tables after the lock timeout"
cl_ok "a held load lock ends in 75 after lock_wait_seconds, naming the holder"

# --- the connection drops during the load: the whole load runs again
write_config "$tmp/retry.ini" "$tmp/bad" "connect_retries=3" "lock_wait_seconds=60" \
	"application_name=cl_test_retry"
"$LOAD" --config "$tmp/retry.ini" --run 20260301T000000Z-busy >"$tmp/retry.out" 2>"$tmp/retry.log" &
load_pid=$!
for _ in $(seq 1 100); do
	grep -q 'holds the lock; waiting' "$tmp/retry.log" && break
	sleep 0.1
done
grep -q 'holds the lock; waiting' "$tmp/retry.log" || cl_fail "cl-load is not waiting for the lock: $(cat "$tmp/retry.log")"
cl_assert_eq 1 "$(q "$DB" "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
	WHERE application_name = 'cl_test_retry'")" "terminating the loader's session"
release_load_lock
set +e
wait "$load_pid"
rc=$?
set -e
load_pid=""
cl_assert_eq 0 "$rc" "the retried load ($(cat "$tmp/retry.log"))"
grep -q 'connection was lost during the load' "$tmp/retry.log" || cl_fail "no retry logged: $(cat "$tmp/retry.log")"
cl_assert_eq "succeeded" "$(q "$DB" "SELECT status FROM etl.runs WHERE run_id = '20260301T000000Z-busy'")" \
	"etl.runs after the retried load"
cl_assert_eq "$baseline" "$(fingerprint)" "the retried load of a copy of $RUN1 gives the same tables"
cl_ok "a connection lost during the load is retried and the load succeeds"

quiet "DROP DATABASE IF EXISTS $DB WITH (FORCE)"
rm -rf "$tmp"
echo "test_load_errors: ok"
