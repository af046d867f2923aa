#!/usr/bin/env bash
# transform_bench.sh: cl-transform at scale against its input's limit and
# against the SQL a data engineer would write instead (bench/README.md).
#
# It builds Release in build/bench, generates seeded canonical staging with
# cl-gen-staging at two scales (the full one and 1/RATIO of it; reused from
# build/bench-data/ when the parameters and the generator are unchanged),
# and for each scale measures, in one run:
#   - the input: bytes of the committed staging files, and the time yajl
#     alone takes to parse them (cl-bench-parse, 1 and 2 threads, and with
#     SHA-256 as the transform verifies it);
#   - cl-transform: wall time and peak RSS (cl-bench-measure, wait4);
#   - cl-load of the credits (attribution_credit only) into a throwaway
#     PostgreSQL (scripts/pg-harness.sh);
#   - the SQL peer: the raw rows \copy-loaded and indexed
#     (bench/peer_load.sql; flattening the JSON first is not timed), then the
#     same rule-based attribution as one SQL statement with window functions
#     writing a credit table (bench/peer_query.sql), timed apart; its credits
#     are compared row by row with cl-transform's.
# Then it prints one table, the goals as ratios of the full-scale run, and
# the 1/RATIO -> full scaling exponent of the transform's time.
#
#   bench/transform_bench.sh [--small] [--touches N] [--leads N] [--won-deals N]
#                            [--ratio R] [--seed N] [--from D] [--to D]
#                            [--lookback DAYS] [--no-peer] [--profile] [--keep-pg]
#     --small      1/10 of the default sizes (1M touches, 100k leads, 10k won)
#     --touches, --leads, --won-deals   the full scale
#                  (default 10000000, 1000000, 100000)
#     --ratio R    the smaller scale is the full one divided by R (default 10)
#     --no-peer    skip PostgreSQL (cl-load and the SQL peer)
#     --profile    also record cl-transform at full scale with perf and print
#                  its hottest functions (not part of the timings)
#     --keep-pg    leave the PostgreSQL cluster running afterwards
#
# Runtime on 2 cores: --small about 2 minutes; the default sizes about 15
# minutes the first time (generating and flattening 10M touches take about 4
# of them), about 10 when the staging is reused; more on a busy machine.
# Disk at the default sizes: about 4 GB of staging, 2.7 GB of flattened rows,
# 2.6 GB of transform output and a database of about 8 GB, all under build/.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
touches=10000000
leads=1000000
won=100000
ratio=10
seed=42
from=2025-01-01
to=2025-12-31
lookback=90
small=0
peer=1
profile=0
keep_pg=0

die()
{
	echo "transform_bench.sh: $*" >&2
	exit 1
}

while [ $# -gt 0 ]; do
	case "$1" in
		--small) small=1; shift ;;
		--touches) touches=$2; shift 2 ;;
		--leads) leads=$2; shift 2 ;;
		--won-deals) won=$2; shift 2 ;;
		--ratio) ratio=$2; shift 2 ;;
		--seed) seed=$2; shift 2 ;;
		--from) from=$2; shift 2 ;;
		--to) to=$2; shift 2 ;;
		--lookback) lookback=$2; shift 2 ;;
		--no-peer) peer=0; shift ;;
		--profile) profile=1; shift ;;
		--keep-pg) keep_pg=1; shift ;;
		-h|--help) sed -n '2,39p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
		*) echo "transform_bench.sh: unknown argument $1 (try --help)" >&2; exit 64 ;;
	esac
done
for v in "$touches" "$leads" "$won" "$ratio" "$seed" "$lookback"; do
	case "$v" in
		''|*[!0-9]*) die "sizes, --ratio, --seed and --lookback must be whole numbers" ;;
	esac
done
[ "$ratio" -ge 2 ] || die "--ratio must be at least 2"
if [ "$small" -eq 1 ]; then
	touches=$((touches / 10))
	leads=$((leads / 10))
	won=$((won / 10))
fi

build="$root/build/bench"
data="$root/build/bench-data"
mkdir -p "$data"
bin_gen="$build/bench/gen_staging/cl-gen-staging"
bin_parse="$build/bench/cl-bench-parse"
bin_flat="$build/bench/cl-bench-flatten"
bin_measure="$build/bench/cl-bench-measure"
bin_transform="$build/transform/cl-transform"
bin_load="$build/load/cl-load"

log()
{
	echo "==> $(date -u +%H:%M:%S) $*" >&2
}

# field KEY FILE prints the value of KEY=VALUE in a one-line report.
field()
{
	tr ' ' '\n' <"$2" | sed -n "s/^$1=//p" | head -n 1
}

# calc EXPR evaluates a floating point expression with awk.
calc()
{
	awk "BEGIN { printf \"%s\", $1 }" </dev/null
}

log "building Release in build/bench"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCLOSEDLOOP_TESTS=OFF \
	-DCLOSEDLOOP_BENCH=ON >"$data/configure.log" 2>&1 ||
	{ cat "$data/configure.log"; die "cmake configure failed"; }
cmake --build "$build" -j"$(nproc 2>/dev/null || echo 2)" --target cl-transform cl-load \
	cl-gen-staging cl-bench-parse cl-bench-flatten cl-bench-measure >"$data/build.log" 2>&1 ||
	{ tail -n 40 "$data/build.log"; die "build failed"; }

# The generator's sources are part of the key: a changed generator
# regenerates.
gen_hash=$(cat "$root"/bench/gen_staging/*.c "$root"/bench/gen_staging/*.h | sha256sum | cut -c1-10)

# detect_models: position_based when this cl-transform knows it (probed with
# a dry run over an empty staging directory), else the three it always had.
detect_models()
{
	local probe="$data/probe"
	rm -rf "$probe"
	mkdir -p "$probe/staging"
	cat >"$probe/probe.ini" <<-INI
		[pipeline]
		staging_dir = $probe/staging
		reporting_currency = USD
		timezone = UTC
		[attribution]
		models = first_touch,last_touch,linear,position_based
		lookback_days = $lookback
		output_dir = $probe/out
	INI
	if "$bin_transform" -q --config "$probe/probe.ini" --dry-run --from "$from" --to "$to" \
		>"$probe/probe.out" 2>&1; then
		models=first_touch,last_touch,linear,position_based
		models_note="position_based is implemented in this cl-transform"
	else
		models=first_touch,last_touch,linear
		models_note="position_based is not available in this cl-transform ($(grep -m1 -o 'position_based[^;]*' "$probe/probe.out" || echo 'probe failed')); peer and transform run without it"
	fi
}

pg_dir="$data/pg"
pg_started=0
cleanup()
{
	if [ "$pg_started" -eq 1 ] && [ "$keep_pg" -eq 0 ]; then
		"$root/scripts/pg-harness.sh" stop "$pg_dir" >/dev/null 2>&1 || true
	fi
}
trap cleanup EXIT

# db_conninfo NAME: libpq keywords for database NAME of the harness.
db_conninfo()
{
	echo "host=$PGHOST port=$PGPORT user=$PGUSER dbname=$1"
}

# psql_db NAME ARGS...: psql on database NAME, stopping at the first error.
psql_db()
{
	local db=$1
	shift
	psql -X -q -v ON_ERROR_STOP=1 -d "$db" "$@"
}

# measure NAME DIR CMD...: run CMD under cl-bench-measure into DIR/NAME.measure.
measure()
{
	local name=$1 dir=$2
	shift 2
	"$bin_measure" --out "$dir/$name.measure" -- "$@"
}

# run_scale LABEL TOUCHES LEADS WON: every measurement of one scale, kept
# in DIR/*.measure and DIR/*.parse, summarised in DIR/results.
run_scale()
{
	local label=$1 t=$2 l=$3 w=$4
	local key="t$t-l$l-w$w-s$seed-$from-$to-g$gen_hash"
	local dir="$data/$key"
	local staging="$dir/staging"
	local run_id db

	if [ ! -f "$dir/staging.complete" ]; then
		log "[$label] generating staging: $t touches, $l leads, $w won deals (seed $seed)"
		rm -rf "$dir"
		mkdir -p "$dir"
		"$bin_gen" --out "$staging" --touches "$t" --leads "$l" --won-deals "$w" \
			--from "$from" --to "$to" --seed "$seed" >"$dir/gen.out" 2>"$dir/gen.log"
		touch "$dir/staging.complete"
	else
		log "[$label] reusing staging in build/bench-data/$key"
	fi
	rm -f "$dir"/*.measure "$dir"/*.parse "$dir/results"

	log "[$label] yajl alone over the staging files (a first pass warms the page cache)"
	"$bin_parse" --threads 2 "$staging" >/dev/null
	"$bin_parse" --threads 1 "$staging" >"$dir/parse1.parse"
	"$bin_parse" --threads 2 "$staging" >"$dir/parse2.parse"
	"$bin_parse" --threads 2 --hash "$staging" >"$dir/parse2h.parse"

	log "[$label] cl-transform ($models)"
	rm -rf "$dir/out" "$dir/credits-out"
	cat >"$dir/bench.ini" <<-INI
		[pipeline]
		staging_dir = $staging
		reporting_currency = USD
		timezone = UTC
		[attribution]
		models = $models
		lookback_days = $lookback
		output_dir = $dir/out
	INI
	measure transform "$dir" "$bin_transform" --config "$dir/bench.ini" --from "$from" \
		--to "$to" >"$dir/transform.summary" 2>"$dir/transform.log" ||
		{ tail -n 20 "$dir/transform.log"; die "cl-transform failed at $label"; }
	run_id=$(ls "$dir/out")
	grep -m1 '^attribution_credit' <(jq -r '.tables[] | "\(.name) \(.rows)"' \
		"$dir/out/$run_id/manifest.json") | awk '{ print "credit_rows=" $2 }' >"$dir/credits.measure"

	if [ "$peer" -eq 1 ]; then
		db="bench_$label"
		psql_db postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"

		log "[$label] cl-load of attribution_credit"
		mkdir -p "$dir/credits-out/$run_id"
		ln -f "$dir/out/$run_id/attribution_credit.copy" "$dir/credits-out/$run_id/"
		jq -c '.tables |= map(select(.name == "attribution_credit"))' \
			"$dir/out/$run_id/manifest.json" >"$dir/credits-out/$run_id/manifest.json"
		cat >"$dir/load.ini" <<-INI
			[pipeline]
			staging_dir = $staging
			[database]
			conninfo = $(db_conninfo "$db")
			migrations_dir = $root/sql
			[attribution]
			output_dir = $dir/credits-out
		INI
		"$bin_load" -q --config "$dir/load.ini" --migrate-only >"$dir/migrate.log" 2>&1 ||
			{ cat "$dir/migrate.log"; die "cl-load --migrate-only failed"; }
		psql_db "$db" -c "CHECKPOINT"
		measure load "$dir" "$bin_load" --config "$dir/load.ini" --run "$run_id" \
			>"$dir/load.log" 2>&1 || { tail -n 20 "$dir/load.log"; die "cl-load failed"; }

		if [ ! -f "$dir/flat.complete" ]; then
			log "[$label] flattening staging for the SQL peer (not timed)"
			rm -rf "$dir/flat"
			"$bin_flat" "$staging" "$dir/flat" 2>"$dir/flatten.log"
			touch "$dir/flat.complete"
		fi
		log "[$label] SQL peer: \\copy and index"
		psql_db "$db" -c "CHECKPOINT"
		(cd "$dir/flat" && measure peer_load "$dir" psql -X -q -v ON_ERROR_STOP=1 -d "$db" \
			-f "$root/bench/peer_load.sql") >"$dir/peer_load.log" 2>&1 ||
			{ cat "$dir/peer_load.log"; die "the peer's load failed"; }
		log "[$label] SQL peer: attribution query"
		psql_db "$db" -c "CHECKPOINT"
		measure peer_query "$dir" psql -X -q -v ON_ERROR_STOP=1 -d "$db" -v from="$from" \
			-v to="$to" -v lookback="$lookback" -v models="$models" \
			-f "$root/bench/peer_query.sql" >"$dir/peer_query.log" 2>&1 ||
			{ cat "$dir/peer_query.log"; die "the peer's query failed"; }
		psql_db "$db" -At -F ' ' -f "$root/bench/peer_compare.sql" >"$dir/compare.out"
		awk '{ print "only_transform=" $1 " only_peer=" $2 " differ=" $3 " total=" $4 }' \
			"$dir/compare.out" >"$dir/compare.measure"
		# Gone before the next scale is timed: autovacuum of its fresh tables
		# would run beside the next measurements.
		if [ "$keep_pg" -eq 0 ]; then
			psql_db postgres -c "DROP DATABASE $db"
		fi
	fi
	echo "$dir" >"$data/last-$label"
}

command -v jq >/dev/null 2>&1 || die "jq not found (it reads the transform's manifest)"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
log "load average before: $load_before"
detect_models
log "models: $models ($models_note)"
if [ "$peer" -eq 1 ]; then
	command -v psql >/dev/null 2>&1 || die "psql not found; run scripts/install-deps.sh"
	log "starting a throwaway PostgreSQL in build/bench-data/pg"
	"$root/scripts/pg-harness.sh" start "$pg_dir" >/dev/null
	pg_started=1
	# shellcheck disable=SC1091
	. "$pg_dir/pg.env"
fi

s_t=$((touches / ratio))
s_l=$((leads / ratio))
s_w=$((won / ratio))
run_scale small "$s_t" "$s_l" "$s_w"
run_scale full "$touches" "$leads" "$won"
small_dir=$(cat "$data/last-small")
full_dir=$(cat "$data/last-full")
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# value SCALE_DIR FILE KEY: one measured number, "-" when not measured.
value()
{
	if [ -f "$1/$2" ]; then
		field "$3" "$1/$2"
	else
		echo "-"
	fi
}

# row LABEL FILE KEY [SCALE]: a table row for both scales; SCALE divides.
row()
{
	local label=$1 file=$2 key=$3 scale=${4:-1} a b
	a=$(value "$small_dir" "$file" "$key")
	b=$(value "$full_dir" "$file" "$key")
	[ "$a" = "-" ] || a=$(calc "$a / $scale")
	[ "$b" = "-" ] || b=$(calc "$b / $scale")
	printf '  %-44s %14s %14s\n' "$label" "$a" "$b"
}

results="$data/results-$(date -u +%Y%m%dT%H%M%SZ).txt"
{
	echo
	echo "closedloop transform benchmark: Release build, $(nproc) cores, seed $seed,"
	echo "window $from .. $to, lookback $lookback days, models $models"
	echo "($models_note)"
	echo "load average (1, 5, 15 min) before: $load_before; after: $load_after"
	echo
	printf '  %-44s %14s %14s\n' "" "$s_t touches" "$touches touches"
	printf '  %-44s %14s %14s\n' "" "$s_l leads" "$leads leads"
	printf '  %-44s %14s %14s\n' "" "$s_w won" "$won won"
	row "staging input (MB)" parse1.parse bytes 1000000
	row "yajl parse, 1 thread (s)" parse1.parse seconds
	row "yajl parse, 2 threads (s)" parse2.parse seconds
	row "yajl parse + sha256, 2 threads (s)" parse2h.parse seconds
	row "cl-transform wall (s)" transform.measure wall_s
	row "cl-transform user CPU (s)" transform.measure user_s
	row "cl-transform sys CPU (s)" transform.measure sys_s
	row "cl-transform peak RSS (MiB)" transform.measure max_rss_kib 1024
	row "credit rows" credits.measure credit_rows
	if [ "$peer" -eq 1 ]; then
		row "cl-load of the credits (s)" load.measure wall_s
		row "SQL peer: \\copy + indexes + analyze (s)" peer_load.measure wall_s
		row "SQL peer: attribution query (s)" peer_query.measure wall_s
		row "peer credit rows" compare.measure total
		row "  rows only in cl-transform's output" compare.measure only_transform
		row "  rows only in the peer's" compare.measure only_peer
		row "  rows in both that differ" compare.measure differ
	fi
	echo
	tr_s=$(field wall_s "$full_dir/transform.measure")
	tr_small=$(field wall_s "$small_dir/transform.measure")
	p1=$(field seconds "$full_dir/parse1.parse")
	p2=$(field seconds "$full_dir/parse2.parse")
	rss=$(field max_rss_kib "$full_dir/transform.measure")
	verdict()
	{
		if [ "$(calc "($1) ? 1 : 0")" = 1 ]; then echo "met"; else echo "MISSED"; fi
	}
	echo "Goals, from the $touches-touch run:"
	if [ "$peer" -eq 1 ]; then
		ld_s=$(field wall_s "$full_dir/load.measure")
		pl_s=$(field wall_s "$full_dir/peer_load.measure")
		pq_s=$(field wall_s "$full_dir/peer_query.measure")
		r1=$(calc "$pq_s / $tr_s")
		r2=$(calc "($pl_s + $pq_s) / ($tr_s + $ld_s)")
		printf '  %-58s %7.2fx  goal >= 3x    %s\n' "SQL query / cl-transform" "$r1" \
			"$(verdict "$r1 >= 3")"
		printf '  %-58s %7.2fx  goal >= 3x    %s\n' \
			"(peer load + query) / (cl-transform + cl-load credits)" "$r2" \
			"$(verdict "$r2 >= 3")"
	fi
	r3=$(calc "$tr_s / $p2")
	printf '  %-58s %7.2fx  goal <= 1.5x  %s\n' "cl-transform / yajl parse on 2 threads" "$r3" \
		"$(verdict "$r3 <= 1.5")"
	printf '  %-58s %7.2fx  (1 thread: %.2fx)\n' "" "$r3" "$(calc "$tr_s / $p1")"
	printf '  %-58s %6.0f MiB goal < 2048  %s\n' "cl-transform peak RSS" \
		"$(calc "$rss / 1024")" "$(verdict "$rss < 2048 * 1024")"
	e=$(calc "log($tr_s / $tr_small) / log($touches / $s_t)")
	emax=$(calc "log(($touches * log($touches)) / ($s_t * log($s_t))) / log($touches / $s_t)")
	printf '  %-58s %8.3f  n log n: <= %.3f  %s\n' \
		"scaling exponent of cl-transform's wall time, $s_t -> $touches" "$e" "$emax" \
		"$(verdict "$e <= $emax")"
	echo
	echo "Raw measurements: $small_dir and $full_dir (*.measure, *.parse, transform.log)"
} | tee "$results"

if [ "$profile" -eq 1 ]; then
	command -v perf >/dev/null 2>&1 || die "--profile needs perf"
	log "profiling cl-transform at full scale with perf (not part of the timings)"
	rm -rf "$full_dir/out"
	perf record -F 499 -o "$full_dir/perf.data" -- "$bin_transform" -q \
		--config "$full_dir/bench.ini" --from "$from" --to "$to" >/dev/null 2>"$full_dir/perf.log"
	perf report -i "$full_dir/perf.data" --stdio --no-children --sort symbol 2>/dev/null |
		grep -E '^ +[0-9.]+%' | head -n 25 | tee "$full_dir/perf.top"
	rm -rf "$full_dir/out"
fi
echo "results: $results" >&2
