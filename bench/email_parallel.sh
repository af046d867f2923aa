#!/usr/bin/env bash
# email_parallel.sh [BUILD_DIR]: how much faster cl-extract-email fetches
# the reports and activity of many Mailchimp campaigns over parallel
# connections than over one. A generated account of CAMPAIGNS campaigns
# (tests/integration/mailchimp_dataset.py) is served by cl-fixture-server
# with LATENCY_MS of simulated latency per request; the same extraction
# runs with max_connections = 1 and = CONNECTIONS, and the script prints
# both wall-clock times and their ratio (from the same run), and checks
# that both staged the same rows.
#
# Environment: CAMPAIGNS (200), RECIPIENTS (20), PAGE_SIZE (10),
# LATENCY_MS (20), CONNECTIONS (10, Mailchimp's limit per user).
# BUILD_DIR defaults to ./build under the source tree.
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$src/build}
CAMPAIGNS=${CAMPAIGNS:-200}
RECIPIENTS=${RECIPIENTS:-20}
PAGE_SIZE=${PAGE_SIZE:-10}
LATENCY_MS=${LATENCY_MS:-20}
CONNECTIONS=${CONNECTIONS:-10}
extract="$build/extract/cl-extract-email"
server="$build/tests/fixture_server/cl-fixture-server"
for p in "$extract" "$server"; do
	[ -x "$p" ] || { echo "email_parallel.sh: $p is missing; build first" >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/closedloop-bench.XXXXXX")
server_pid=
cleanup()
{
	if [ -n "$server_pid" ]; then
		kill -TERM "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

python3 "$src/tests/integration/mailchimp_dataset.py" "$work/data" "$CAMPAIGNS" "$RECIPIENTS"
"$server" --routes "$work/data/routes.txt" --root "$work/data" --port 0 \
	--port-file "$work/port" --latency-ms "$LATENCY_MS" 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 200); do
	[ -s "$work/port" ] && break
	sleep 0.05
done
[ -s "$work/port" ] || { cat "$work/server.log" >&2; echo "the fixture server did not start" >&2; exit 1; }
url="http://127.0.0.1:$(cat "$work/port")/3.0"

# extract NAME CONNECTIONS: one run; prints its wall-clock milliseconds.
extract()
{
	local name=$1 conns=$2 t0 t1
	cat >"$work/$name.ini" <<INI
[pipeline]
staging_dir = $work/$name
reporting_currency = USD
[email.mailchimp]
enabled = true
base_url = $url
api_key = \${BENCH_MC_KEY}
page_size = $PAGE_SIZE
max_connections = $conns
INI
	t0=$(date +%s%N)
	BENCH_MC_KEY=mc-key-us9 "$extract" --config "$work/$name.ini" -q \
		--from 2026-02-01 --to 2026-02-28 2>"$work/$name.log" ||
		{ cat "$work/$name.log" >&2; echo "the $name run failed" >&2; exit 1; }
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000000))
}

# rows NAME ENTITY: committed rows, without the run's updated_at.
rows()
{
	find "$work/$1/email/mailchimp/$2" -name '*.ndjson' | sort | xargs cat |
		sed 's/,"updated_at":"[^"]*"//'
}

one=$(extract one 1)
par=$(extract par "$CONNECTIONS")
for e in email_campaign email_event touch; do
	cmp -s <(rows one $e) <(rows par $e) || { echo "$e differs between the runs" >&2; exit 1; }
done
requests=$(curl -sS "http://127.0.0.1:$(cat "$work/port")/_fixture/requests" | wc -l)
echo "campaigns:              $CAMPAIGNS ($RECIPIENTS recipients, pages of $PAGE_SIZE)"
echo "latency per request:    $LATENCY_MS ms"
echo "requests (both runs):   $requests"
echo "rows staged per run:    $(rows one email_campaign | wc -l) campaigns," \
	"$(rows one email_event | wc -l) events, $(rows one touch | wc -l) touches (identical)"
echo "1 connection:           $one ms"
echo "$CONNECTIONS connections:         $par ms"
awk -v a="$one" -v b="$par" 'BEGIN { printf "speed-up:               %.2fx\n", a / b }'
