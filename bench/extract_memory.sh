#!/usr/bin/env bash
# extract_memory.sh [BUILD_DIR]: peak memory of cl-extract-crm over long
# Salesforce runs, against cl-fixture-server on loopback.
#
# The same Lead query is run over 100 and over 1,000 pages of 200 records
# (20,000 and 200,000 leads); the pages stream through the JSON parser into
# the staging writer, so the peak resident set size must not grow with the
# number of pages. Prints pages, rows, seconds and peak RSS of each run and
# fails (exit 1) when the 1,000-page peak exceeds the 100-page peak by more
# than 25 % plus 2 MiB (allocator noise).
#
# BUILD_DIR defaults to ./build; it must hold extract/cl-extract-crm and
# tests/fixture_server/cl-fixture-server.
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
crm="$build/extract/cl-extract-crm"
server="$build/tests/fixture_server/cl-fixture-server"
data="$src/tests/data/extract/salesforce"
for f in "$crm" "$server"; do
	[ -x "$f" ] || { echo "extract_memory: $f is not built" >&2; exit 2; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/cl-extract-memory.XXXXXX")
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

# measure PAGES: one run over PAGES pages of Lead; prints "pages rows secs kib".
measure()
{
	local pages=$1 root="$work/root-$1" staging="$work/staging-$1" port i
	python3 "$data/gen_data.py" "$root" $((pages * 200))
	"$server" --routes "$data/routes.txt" --root "$root" --port 0 \
		--port-file "$work/port" 2>"$work/server.err" &
	server_pid=$!
	for ((i = 0; i < 200; i++)); do
		[ -s "$work/port" ] && break
		sleep 0.05
	done
	port=$(cat "$work/port")
	rm -f "$work/port"
	printf '{"access_token":"sf-access","instance_url":"http://127.0.0.1:%s"}\n' "$port" \
		>"$root/salesforce/token.json"
	cat >"$work/bench.ini" <<EOF
[pipeline]
staging_dir = $staging
reporting_currency = USD
[crm.salesforce]
enabled = true
base_url = http://127.0.0.1:$port
client_id = bench
client_secret = bench-secret
refresh_token = bench-refresh
page_size = 200
objects = Lead
EOF
	python3 - "$crm" "$work/bench.ini" "$staging" "$pages" <<'EOF'
import glob, os, subprocess, sys, time
crm, ini, staging, pages = sys.argv[1:5]
t0 = time.monotonic()
with open(os.devnull, "w") as null:
    p = subprocess.Popen([crm, "--config", ini, "--vendor", "salesforce", "--full-refresh", "-q"],
                         stdout=null, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(p.pid, 0)
secs = time.monotonic() - t0
if status != 0:
    sys.stderr.write(p.stderr.read().decode())
    sys.exit("cl-extract-crm failed (wait status %d)" % status)
rows = sum(sum(1 for _ in open(f)) for f in glob.glob(staging + "/crm/salesforce/lead/*/*.ndjson"))
# ru_maxrss is in KiB on Linux
print(pages, rows, "%.2f" % secs, usage.ru_maxrss)
EOF
	kill -TERM "$server_pid"
	wait "$server_pid" 2>/dev/null || true
	server_pid=
	rm -rf "$root" "$staging"
}

read -r p1 r1 s1 k1 < <(measure 100)
read -r p2 r2 s2 k2 < <(measure 1000)
printf '%-8s %-8s %-8s %s\n' pages rows seconds peak_rss_kib
printf '%-8s %-8s %-8s %s\n' "$p1" "$r1" "$s1" "$k1" "$p2" "$r2" "$s2" "$k2"
[ "$r1" = 20000 ] && [ "$r2" = 200000 ] || { echo "extract_memory: wrong row counts" >&2; exit 1; }
limit=$((k1 + k1 / 4 + 2048))
if [ "$k2" -gt "$limit" ]; then
	echo "extract_memory: peak RSS grew from $k1 KiB (100 pages) to $k2 KiB (1,000 pages)" >&2
	exit 1
fi
echo "peak RSS flat: 1,000 pages use $k2 KiB, 100 pages $k1 KiB (limit $limit KiB)"
