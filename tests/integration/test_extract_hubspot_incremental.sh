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
# and deal archived in its window as is_deleted rows; deals are searched
# from their own watermark the same way, and the changed ones (one edited,
# two created) get their contacts from one v4 associations batch read,
# each deal and each contact once; a run after it finds none; --from/--to
# leaves the watermarks alone; a failing run neither commits nor moves
# them. The form submissions of every contact a run reads (and of no
# other) become touches with the UTM tags of their page URLs.
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
cl_assert_eq "$wm1" "$(cl_json 'd["watermark"]' "$state/hubspot/deals.json")" \
	"the deals watermark of the first run"

# batch_reads: the v4 associations requests of the last run.
batch_reads()
{
	cl_fixture_requests | grep -c '"path":"/crm/v4/associations/deals/contacts/batch/read"' ||
		true
}

# contact_ids STAGING DEAL: the committed deal's contact ids, comma-separated.
contact_ids()
{
	leads "$1" deal | python3 -c '
import json, sys
for l in sys.stdin:
    d = json.loads(l)
    if d["deal_id"] == sys.argv[1]:
        print(",".join(d["contact_ids"]))' "$2"
}
cl_assert_eq 0 "$(batch_reads)" "associations batch reads of a first run"

profiles()
{
	cl_fixture_requests | grep -c '"path":"/contacts/v1/contact/vid/[0-9]*/profile"' || true
}

# form_touches STAGING: the form-submission touches, one line each:
# touch_id source medium campaign content term (- for absent).
form_touches()
{
	leads "$1" touch | python3 -c '
import json, sys
for l in sys.stdin:
    t = json.loads(l)
    if t["kind"] == "form_submit":
        print(" ".join([t["touch_id"]] + [t.get(k, "-").replace(" ", "_")
                       for k in ("source", "medium", "campaign", "content", "term")]))' | sort
}
cl_assert_eq 120 "$(profiles)" "profiles read by the first run (one per contact)"
cl_assert_eq "contact-100-form-1772532000000 - - - - -
contact-100-form-conv-a newsletter email spring_launch - -" "$(form_touches "$tmp/s1")" \
	"form-submission touches of the first run"
cl_assert_eq 2026-03-02 "$(leads "$tmp/s1" touch | grep '"touch_id":"contact-100-form-conv-a"' |
	cl_json 'd["at"][:10]')" "a submission's time"
cl_assert_eq 100 "$(contact_ids "$tmp/s1" 900)" "a listed deal's own associations"

# --- contacts change, more of them than one search may page through -------
sleep 0.2
python3 "$DATA/gen_data.py" --change "$root"
# contact 5077 is deleted between the contact search and its profile
# request: its profile answers 404, and the run goes on without it
mv "$root/hubspot/profile-5077.json" "$tmp/profile-5077.json"
sleep 0.2
start_server
run "$tmp/s2"
expect_rc 0 "second run (a contact deleted during it)"
mv "$tmp/profile-5077.json" "$root/hubspot/profile-5077.json"
grep -q "form submissions of contact 5077: HTTP 404, the contact was deleted" "$tmp/err.log" ||
	cl_fail "no warning for the contact deleted during the run"
grep -Eq "hubspot: 1 of [0-9]+ contacts were deleted while this run read them" "$tmp/err.log" ||
	cl_fail "no count of the contacts deleted during the run"
# 131 changed, and contact 108 archived (99, archived long ago, is not)
cl_assert_eq 132 "$(count "$tmp/s2")" "changed contacts"
cl_assert_eq 132 "$(distinct "$tmp/s2")" "distinct changed contacts"
leads "$tmp/s2" | grep -q '"email":"changed7@example.com"' || cl_fail "the edited contact"
cl_assert_eq '108' "$(leads "$tmp/s2" | grep '"is_deleted":true' | cl_json 'd["lead_id"]')" \
	"the archived contact"
# the changed deals (902 edited, 903 and 904 created) plus deal 901,
# archived in the window; deal 900 did not change
cl_assert_eq 4 "$(leads "$tmp/s2" deal | wc -l)" "deals of the second run"
cl_assert_eq '901 902 903 904' "$(leads "$tmp/s2" deal | python3 -c '
import json, sys
print(" ".join(sorted(json.loads(l)["deal_id"] for l in sys.stdin)))')" "each changed deal once"
cl_assert_eq '901' "$(leads "$tmp/s2" deal | grep '"is_deleted":true' | cl_json 'd["deal_id"]')" \
	"the archived deal"
cl_assert_eq 25000 "$(leads "$tmp/s2" deal | grep '"deal_id":"902"' | cl_json 'd["amount_minor"]')" \
	"the edited deal's amount"
cl_assert_eq 102,5003 "$(contact_ids "$tmp/s2" 902)" "the edited deal's contacts (batch read)"
cl_assert_eq 5001,5002 "$(contact_ids "$tmp/s2" 903)" "the new deal's contacts, each once"
cl_assert_eq '' "$(contact_ids "$tmp/s2" 904)" "a deal without associations"
cl_assert_eq 1 "$(batch_reads)" "associations batch reads (3 deals, batches of 100)"
cl_assert_eq 131 "$(profiles)" "profiles read by the second run (the changed contacts)"
cl_assert_eq "contact-5000-form-conv-b google cpc brand ad_1 crm_tool" "$(form_touches "$tmp/s2")" \
	"form-submission touches of the second run"
cl_assert_eq 1 "$(cl_fixture_requests | grep -c '"path":"/crm/v3/objects/deals/search"' || true)" \
	"deal searches"
cl_assert_eq 0 "$(cl_fixture_requests | grep '"path":"/crm/v3/objects/deals"' |
	grep -c 'archived=false' || true)" "deal lists of an incremental run"
grep -q "search results reached; continuing with the ids above" "$tmp/err.log" ||
	cl_fail "the search did not start again above the highest id"
# 131 results in pages of 10, restarted at 50: 14 pages plus the restarts
[ "$(searches)" -ge 14 ] || cl_fail "only $(searches) search requests"
cl_assert_eq 0 "$(cl_fixture_requests | grep '"path":"/crm/v3/objects/contacts/search"' |
	grep -vc '"status":200' || true)" "refused searches (paging past the cap)"
wm2=$(cl_json 'd["watermark"]' "$state/hubspot/contacts.json")
[ "$wm2" \> "$wm1" ] || cl_fail "the watermark did not advance ($wm1 -> $wm2)"
cl_assert_eq "$wm2" "$(cl_json 'd["watermark"]' "$state/hubspot/deals.json")" \
	"the deals watermark of the second run"

# --- a run without changes reads none --------------------------------------
sleep 0.2
cl_fixture_reset
run "$tmp/s3"
expect_rc 0 "third run"
cl_assert_eq 0 "$(count "$tmp/s3")" "contacts of a run without changes"
cl_assert_eq 0 "$(leads "$tmp/s3" deal | wc -l)" "deals of a run without changes"
cl_assert_eq 0 "$(batch_reads)" "associations batch reads without changed deals"
cl_assert_eq 0 "$(profiles)" "profiles read without changed contacts"
cl_assert_eq 0 "$(leads "$tmp/s3" deal | grep -c '"is_deleted":true' || true)" \
	"deals archived before the window"

# --- a backfill searches its days and keeps the watermark ------------------
cp "$state/hubspot/contacts.json" "$tmp/wm-before.json"
cp "$state/hubspot/deals.json" "$tmp/deals-wm-before.json"
run "$tmp/s4" --from 2026-03-02 --to 2026-03-02
expect_rc 0 "backfill"
# contact i was modified on 2026-03-(2 + i % 20)
cl_assert_eq 6 "$(count "$tmp/s4")" "contacts modified on the backfill day"
cmp -s "$tmp/wm-before.json" "$state/hubspot/contacts.json" ||
	cl_fail "--from/--to moved the watermark"
cmp -s "$tmp/deals-wm-before.json" "$state/hubspot/deals.json" ||
	cl_fail "--from/--to moved the deals watermark"

# --- a failing run commits nothing and keeps the watermark ----------------
cl_fixture_reset
cl_fixture_fault /crm/v3/objects/contacts/search malformed times=1
run "$tmp/s5"
expect_rc 65 "malformed search page"
cl_assert_eq 0 "$(find "$tmp/s5" -name '*.manifest.json' 2>/dev/null | wc -l)" \
	"files committed by a failed run"
cmp -s "$tmp/wm-before.json" "$state/hubspot/contacts.json" ||
	cl_fail "a failed run moved the watermark"
cmp -s "$tmp/deals-wm-before.json" "$state/hubspot/deals.json" ||
	cl_fail "a failed run moved the deals watermark"

cl_ok
