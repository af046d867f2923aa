#!/usr/bin/env bash
# load_bench.sh: how long cl-load takes to load a big attribution_credit
# output, against psql \copy of the same file into the same table with the
# same indexes, in one run on one server.
#
#   bench/load_bench.sh [ROWS]          (default 10000000)
#
# Environment:
#   CL_BUILD_DIR   build tree holding load/cl-load (default: build)
#   BENCH_DIR      scratch directory for the output and the cluster
#                  (default: a fresh one under ${TMPDIR:-/tmp}); ~170 bytes a row
#   BENCH_PG_ENV   a pg.env (as scripts/pg-harness.sh writes it) of a server
#                  to use instead of a throwaway cluster started here
#   BENCH_DAYS     days the close dates spread over (default 90, three months)
#
# Both sides load into an empty attribution.attribution_credit of a freshly
# migrated database (its three indexes; \copy gets the month partitions it
# needs created beforehand). cl-load also does everything it always does:
# verifies the file's SHA-256 and row count, migrations check, advisory lock,
# window check, etl.runs, one transaction. Then cl-load loads the same
# output again (replacing the window it loaded), which \copy cannot do.
# Not part of ctest: at 10M rows it takes minutes and ~4 GB of disk.
set -euo pipefail

ROWS=${1:-10000000}
DAYS=${BENCH_DAYS:-90}
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${CL_BUILD_DIR:-$SRC/build}
LOAD=$BUILD/load/cl-load
RUN=20260401T000000Z-bench1
FROM=2026-01-01

[ -x "$LOAD" ] || { echo "load_bench.sh: no $LOAD (build first, or set CL_BUILD_DIR)" >&2; exit 1; }
command -v psql >/dev/null || { echo "load_bench.sh: psql is needed" >&2; exit 1; }

if [ -z "${BENCH_DIR:-}" ]; then
	BENCH_DIR=$(mktemp -d "${TMPDIR:-/tmp}/closedloop-load-bench.XXXXXX")
fi
mkdir -p "$BENCH_DIR"
started_pg=""
cleanup()
{
	if [ -n "$started_pg" ]; then
		"$SRC/scripts/pg-harness.sh" stop "$BENCH_DIR/pg" >/dev/null 2>&1 || true
	fi
}
trap cleanup EXIT

if [ -n "${BENCH_PG_ENV:-}" ]; then
	# shellcheck disable=SC1090
	. "$BENCH_PG_ENV"
else
	"$SRC/scripts/pg-harness.sh" start "$BENCH_DIR/pg" >/dev/null
	started_pg=1
	# shellcheck disable=SC1091
	. "$BENCH_DIR/pg/pg.env"
	# the test cluster is tuned small; give both sides room for 10M rows
	psql -X -q -d postgres -c "ALTER SYSTEM SET max_wal_size = '8GB'" \
		-c "ALTER SYSTEM SET checkpoint_timeout = '30min'" -c "SELECT pg_reload_conf()" >/dev/null
fi

psql_q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
now_ms() { local ns; ns=$(date +%s%N); echo $((ns / 1000000)); }

# --- the output: attribution_credit.copy and its manifest
out="$BENCH_DIR/out/$RUN"
mkdir -p "$out"
file="$out/attribution_credit.copy"
if [ ! -s "$file" ] || [ "$(cat "$out/rows" 2>/dev/null)" != "$ROWS $DAYS" ]; then
	echo "generating $ROWS rows over $DAYS days ..."
	awk -v rows="$ROWS" -v from="$FROM" -v days="$DAYS" -f "$SRC/bench/load_gen.awk" >"$file"
	echo "$ROWS $DAYS" >"$out/rows"
fi
TO=$(date -u -d "$FROM + $((DAYS - 1)) days" +%F)
sum=$(sha256sum "$file" | cut -d' ' -f1)
cat >"$out/manifest.json" <<JSON
{"run_id": "$RUN", "window": {"from": "$FROM", "to": "$TO"}, "reporting_currency": "USD",
 "tool": "load_bench.sh", "version": "0", "created_at": "2026-04-01T00:00:00Z",
 "tables": [{"name": "attribution_credit", "file": "attribution_credit.copy", "rows": $ROWS,
             "sha256": "$sum", "load": "window"}]}
JSON
bytes=$(stat -c %s "$file")

write_config()
{
	cat >"$BENCH_DIR/$1.ini" <<INI
[pipeline]
staging_dir = $BENCH_DIR/staging
[database]
conninfo = $CL_PG_CONNINFO dbname=$1
migrations_dir = $SRC/sql
lock_wait_seconds = 10
connect_retries = 1
[attribution]
output_dir = $BENCH_DIR/out
INI
}

fresh_db()
{
	psql_q -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)"
	psql_q -d postgres -c "CREATE DATABASE $1"
	write_config "$1"
	"$LOAD" --config "$BENCH_DIR/$1.ini" --migrate-only --quiet
}

# --- psql \copy into the same table, its month partitions made beforehand
fresh_db bench_copy
psql_q -d bench_copy -c "DO \$\$
DECLARE m date;
BEGIN
	FOR m IN SELECT generate_series(date_trunc('month', '$FROM'::date), '$TO'::date, interval '1 month')::date
	LOOP
		EXECUTE format('CREATE TABLE attribution_part.%I PARTITION OF attribution.attribution_credit FOR VALUES FROM (%L) TO (%L)',
			'attribution_credit_' || to_char(m, 'YYYY_MM'), m, (m + interval '1 month')::date);
	END LOOP;
END \$\$"
psql_q -d bench_copy -c "CHECKPOINT"
t0=$(now_ms)
psql_q -d bench_copy -c "\\copy attribution.attribution_credit FROM '$file'"
t1=$(now_ms)
copy_ms=$((t1 - t0))
copy_rows=$(psql_q -d bench_copy -c "SELECT count(*) FROM attribution.attribution_credit")
psql_q -d postgres -c "DROP DATABASE bench_copy WITH (FORCE)"

# --- cl-load of the same output into an empty table
fresh_db bench_load
psql_q -d bench_load -c "CHECKPOINT"
t0=$(now_ms)
"$LOAD" --config "$BENCH_DIR/bench_load.ini" --run "$RUN" --quiet
t1=$(now_ms)
load_ms=$((t1 - t0))
load_rows=$(psql_q -d bench_load -c "SELECT count(*) FROM attribution.attribution_credit")

# --- and again: the same window replaced
psql_q -d bench_load -c "CHECKPOINT"
t0=$(now_ms)
"$LOAD" --config "$BENCH_DIR/bench_load.ini" --run "$RUN" --quiet
t1=$(now_ms)
reload_ms=$((t1 - t0))
reload_rows=$(psql_q -d bench_load -c "SELECT count(*) FROM attribution.attribution_credit")
psql_q -d postgres -c "DROP DATABASE bench_load WITH (FORCE)"

[ "$copy_rows" = "$ROWS" ] && [ "$load_rows" = "$ROWS" ] && [ "$reload_rows" = "$ROWS" ] ||
	{ echo "load_bench.sh: row counts differ: \\copy $copy_rows, cl-load $load_rows, reload $reload_rows" >&2; exit 1; }

server=$(psql_q -d postgres -c "SHOW server_version")
echo
echo "attribution_credit: $ROWS rows, $((bytes / 1048576)) MiB, $DAYS days; PostgreSQL $server, $(nproc) cores"
printf '  %-34s %9.1f s\n' "psql \\copy (3 indexes)" "$(echo "$copy_ms / 1000" | bc -l)"
printf '  %-34s %9.1f s   %.2fx \\copy\n' "cl-load, empty table" "$(echo "$load_ms / 1000" | bc -l)" \
	"$(echo "$load_ms / $copy_ms" | bc -l)"
printf '  %-34s %9.1f s   %.2fx \\copy\n' "cl-load, replacing the same window" "$(echo "$reload_ms / 1000" | bc -l)" \
	"$(echo "$reload_ms / $copy_ms" | bc -l)"
