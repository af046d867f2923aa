#!/usr/bin/env bash
# test_extract_hubspot_incremental.sh: cl-extract-crm --vendor hubspot over
# several runs against cl-fixture-server (routes in
# tests/data/extract/hubspot_incremental, records made by its gen_data.py).
# A first run lists every contact (and no archived ones) and saves the
# contacts watermark after its commit; after contacts change (one edited,
# 130 created with one lastmodifieddate, more than the search may page
# through, one archived, and a deal archived) the next run searches from
# the watermark and commits exactly the changed contacts, each once,
# starting the search again above the highest id it read, plus the contact
# and deal archived in its window as is_deleted rows; a run after it finds
# none; --from/--to leaves the watermark alone; a failing run neither
# commits nor moves it.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BIN="$CL_BINARY_DIR/extract/cl-extract-crm"
DATA="$CL_SOURCE_DIR/tests/data/extract/hubspot_incremental"
tmp=$(cl_tmpdir)
root="$tmp/root"
state="$tmp/state"
python3 "$DATA/gen_data.py" "$root"

start_server()
{
	if [ -n "${FIXTURE_PID:-}" ]; then
		cl_fixture_stop
	fi
	cl_fixture_start "$DATA/routes.txt" --root "$root"
}
start_server

# run STAGING ARGS...: one run; pages of 10, a search cap of 50 (the
# server's); watermarks in $state for every run; exit code in rc.
run()
{
	local staging=$1
	shift
	{
		echo "[pipeline]"
		echo "staging_dir = $staging"
		echo "state_dir = $state"
		echo "reporting_currency = USD"
		echo "[http]"
		echo "max_attempts = 3"
		echo "retry_base_ms = 20"
		echo "retry_max_sleep_ms = 100"
		echo "[crm.hubspot]"
		echo "enabled = true"
		echo "base_url = $FIXTURE_URL"
		echo "token = \${TEST_HS_TOKEN}"
		echo "page_size = 10"
		echo "search_max_results = 50"
	} >"$tmp/hs.ini"
	rc=0
	"$BIN" --config "$tmp/hs.ini" --vendor hubspot "$@" >"$tmp/out.log" 2>"$tmp/err.log" || rc=$?
}
export TEST_HS_TOKEN=hs-token

expect_rc()
{
	if [ "$rc" != "$1" ]; then
		cat "$tmp/err.log" >&2
		cl_fail "$2: expected exit $1, got $rc"
	fi
}

# leads STAGING [ENTITY]: the committed rows of ENTITY (default lead).
leads()
{
	local m
	find "$1/crm/hubspot/${2:-lead}" -name '*.manifest.json' 2>/dev/null |
		while IFS= read -r m; do
			cat "${m%.manifest.json}.ndjson"
		done
}

count()
{
	leads "$1" | wc -l
}

distinct()
{
	leads "$1" | python3 -c '
import json, sys
print(len({json.loads(l)["lead_id"] for l in sys.stdin}))'
}

searches()
{
	cl_fixture_requests | grep -c '"path":"/crm/v3/objects/contacts/search"' || true
}

# --- a first run lists everything and saves the watermark -----------------
run "$tmp/s1"
expect_rc 0 "first run"
cl_assert_eq 120 "$(count "$tmp/s1")" "contacts of the first run"
cl_assert_eq 0 "$(searches)" "searches of a first run"
cl_assert_eq 0 "$(cl_fixture_requests | grep -c 'archived=true' || true)" \
	"archived lists read by a first run"
cl_assert_eq 3 "$(leads "$tmp/s1" deal | wc -l)" "deals of the first run"
wm1=$(cl_json 'd["watermark"]' "$state/hubspot/contacts.json")
[ -n "$wm1" ] || cl_fail "no watermark after the first run"

# --- contacts change, more of them than one search may page through -------
sleep 0.2
python3 "$DATA/gen_data.py" --change "$root"
sleep 0.2
start_server
run "$tmp/s2"
expect_rc 0 "second run"
# 131 changed, and contact 108 archived (99, archived long ago, is not)
cl_assert_eq 132 "$(count "$tmp/s2")" "changed contacts"
cl_assert_eq 132 "$(distinct "$tmp/s2")" "distinct changed contacts"
leads "$tmp/s2" | grep -q '"email":"changed7@example.com"' || cl_fail "the edited contact"
cl_assert_eq '108' "$(leads "$tmp/s2" | grep '"is_deleted":true' | cl_json 'd["lead_id"]')" \
	"the archived contact"
# deals are listed whole (2 left) plus deal 901, archived in the window
cl_assert_eq 3 "$(leads "$tmp/s2" deal | wc -l)" "deals of the second run"
cl_assert_eq '901' "$(leads "$tmp/s2" deal | grep '"is_deleted":true' | cl_json 'd["deal_id"]')" \
	"the archived deal"
grep -q "search results reached; continuing with the ids above" "$tmp/err.log" ||
	cl_fail "the search did not start again above the highest id"
# 131 results in pages of 10, restarted at 50: 14 pages plus the restarts
[ "$(searches)" -ge 14 ] || cl_fail "only $(searches) search requests"
cl_assert_eq 0 "$(cl_fixture_requests | grep '"path":"/crm/v3/objects/contacts/search"' |
	grep -vc '"status":200' || true)" "refused searches (paging past the cap)"
wm2=$(cl_json 'd["watermark"]' "$state/hubspot/contacts.json")
[ "$wm2" \> "$wm1" ] || cl_fail "the watermark did not advance ($wm1 -> $wm2)"

# --- a run without changes reads none --------------------------------------
sleep 0.2
run "$tmp/s3"
expect_rc 0 "third run"
cl_assert_eq 0 "$(count "$tmp/s3")" "contacts of a run without changes"
cl_assert_eq 0 "$(leads "$tmp/s3" deal | grep -c '"is_deleted":true' || true)" \
	"deals archived before the window"

# --- a backfill searches its days and keeps the watermark ------------------
cp "$state/hubspot/contacts.json" "$tmp/wm-before.json"
run "$tmp/s4" --from 2026-03-02 --to 2026-03-02
expect_rc 0 "backfill"
# contact i was modified on 2026-03-(2 + i % 20)
cl_assert_eq 6 "$(count "$tmp/s4")" "contacts modified on the backfill day"
cmp -s "$tmp/wm-before.json" "$state/hubspot/contacts.json" ||
	cl_fail "--from/--to moved the watermark"

# --- a failing run commits nothing and keeps the watermark ----------------
cl_fixture_reset
cl_fixture_fault /crm/v3/objects/contacts/search malformed times=1
run "$tmp/s5"
expect_rc 65 "malformed search page"
cl_assert_eq 0 "$(find "$tmp/s5" -name '*.manifest.json' 2>/dev/null | wc -l)" \
	"files committed by a failed run"
cmp -s "$tmp/wm-before.json" "$state/hubspot/contacts.json" ||
	cl_fail "a failed run moved the watermark"

cl_ok
