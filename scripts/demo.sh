#!/usr/bin/env bash
# demo.sh: run closedloop end to end on a generated demo company.
#
# It builds the project, generates a seeded B2B company (HubSpot contacts and
# deals, Google Ads spend, Mailchimp campaigns and activity), serves it from
# the fixture HTTP server on 127.0.0.1, starts a throwaway PostgreSQL, runs
# the three extractors, the transform and the loader exactly as a nightly
# job would, and prints revenue, spend and ROAS by channel for each model.
# Everything lives under build/demo-run/ and the servers stop at the end.
#
#   scripts/demo.sh [--leads N] [--seed N] [--keep]
#     --keep   leave PostgreSQL running afterwards, for a look with psql
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
leads=3000
seed=42
keep=0
while [ $# -gt 0 ]; do
	case "$1" in
		--leads) leads=$2; shift 2 ;;
		--seed) seed=$2; shift 2 ;;
		--keep) keep=1; shift ;;
		-h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
		*) echo "demo.sh: unknown argument $1 (try --help)" >&2; exit 64 ;;
	esac
done

"$root/scripts/install-deps.sh"

build="$root/build/demo"
run="$root/build/demo-run"
from=2026-01-01
to=2026-03-31

mkdir -p "$root/build"
echo "==> building (Release) in build/demo"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >"$root/build/demo.configure.log" 2>&1 ||
	{ cat "$root/build/demo.configure.log"; exit 1; }
cmake --build "$build" -j"$(nproc 2>/dev/null || echo 2)" >"$root/build/demo.build.log" 2>&1 ||
	{ tail -50 "$root/build/demo.build.log"; exit 1; }

rm -rf "$run"
mkdir -p "$run"

echo "==> generating the demo company (seed $seed, $leads leads)"
"$build/tests/datagen/cl-datagen" --out "$run/vendors" --seed "$seed" --leads "$leads" \
	--from "$from" --to "$to"

server_pid=""
cleanup()
{
	if [ -n "$server_pid" ]; then
		kill "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	if [ "$keep" -eq 0 ]; then
		"$root/scripts/pg-harness.sh" stop "$run/pg" >/dev/null 2>&1 || true
	fi
}
trap cleanup EXIT

echo "==> starting the fixture vendor APIs on 127.0.0.1"
"$build/tests/fixture_server/cl-fixture-server" --routes "$run/vendors/routes.txt" \
	--port 0 --port-file "$run/fixture.port" --log "$run/fixture-requests.log" &
server_pid=$!
for _ in $(seq 1 100); do
	[ -s "$run/fixture.port" ] && break
	sleep 0.1
done
[ -s "$run/fixture.port" ] || { echo "demo.sh: the fixture server did not start" >&2; exit 69; }
api="http://127.0.0.1:$(cat "$run/fixture.port")"

echo "==> starting a throwaway PostgreSQL"
"$root/scripts/pg-harness.sh" start "$run/pg" >/dev/null
# shellcheck disable=SC1091
. "$run/pg/pg.env"

eval "$("$root/scripts/write-demo-config.sh" "$run/closedloop.ini" "$run/staging" "$api" \
	"$CL_PG_CONNINFO" "$root/sql" "$run/vendors")"
export CLOSEDLOOP_CONFIG="$run/closedloop.ini"

bin="$build"
echo "==> extract: CRM, ads, email ($from .. $to)"
"$bin/extract/cl-extract-crm" -q
"$bin/extract/cl-extract-ads" -q --from "$from" --to "$to"
"$bin/extract/cl-extract-email" -q --from "$from" --to "$to"
echo "==> transform"
"$bin/transform/cl-transform" -q --from "$from" --to "$to"
echo "==> load"
"$bin/load/cl-load" -q

echo
echo "Revenue, spend and ROAS by channel, $from .. $to (USD)"
psql -X -q -v ON_ERROR_STOP=1 -P footer=off <<SQL
SELECT model,
       channel,
       sum(deals)::numeric(12,2)                         AS deals,
       sum(revenue)::numeric(14,2)                       AS revenue,
       sum(spend)::numeric(14,2)                         AS spend,
       CASE WHEN sum(spend) > 0
            THEN (sum(revenue) / sum(spend))::numeric(10,2) END AS roas
  FROM attribution.attribution_daily
 WHERE date BETWEEN '$from' AND '$to'
 GROUP BY model, channel
 ORDER BY model, sum(revenue) DESC, channel;
SQL

if [ "$keep" -eq 1 ]; then
	echo
	echo "PostgreSQL is still running: . $run/pg/pg.env && psql"
	echo "stop it with: scripts/pg-harness.sh stop $run/pg"
fi
