#!/usr/bin/env bash
# test_extract_salesforce.sh: cl-extract-crm --vendor salesforce against
# cl-fixture-server (routes in tests/data/extract/salesforce, records made by
# its gen_data.py). Multi-page queryAll runs commit exactly the expected
# rows; calls go to the instance_url of the token response; watermarks are
# written only after a commit and the next run's windows start there, so
# after records change (many sharing one SystemModstamp) the next run reads
# exactly the changed ones and a run after it reads none; --from/--to
# leaves the watermarks alone; 429, 500 and 503 are recovered and an
# expired session is refreshed without duplicates; QUERY_TIMEOUT halves the
# window; the daily quota (an error body, or Sforce-Limit-Info at
# quota_percent) stops the run with 75; malformed JSON (65) and a
# truncation that persists (75) commit nothing; a run killed with SIGKILL
# and run again commits the same rows as an uninterrupted run.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BIN="$CL_BINARY_DIR/extract/cl-extract-crm"
DATA="$CL_SOURCE_DIR/tests/data/extract/salesforce"
tmp=$(cl_tmpdir)
root="$tmp/root"

python3 "$DATA/gen_data.py" "$root"

# start_server [ARGS...]: (re)start the fixture server on $root; the token
# response names it as the instance.
start_server()
{
	if [ -n "${FIXTURE_PID:-}" ]; then
		cl_fixture_stop
	fi
	cl_fixture_start "$DATA/routes.txt" --root "$root" "$@"
	printf '{"access_token":"sf-access","instance_url":"%s","token_type":"Bearer"}\n' \
		"$FIXTURE_URL" >"$root/salesforce/token.json"
}
start_server

# write_config FILE STAGING: Salesforce enabled and pointed at the server,
# pages of 200 rows, fast retries; watermarks in $state (shared by the runs,
# each of which gets its own staging directory); then the lines of $EXTRA.
state="$tmp/state"
EXTRA=
write_config()
{
	{
		echo "[pipeline]"
		echo "staging_dir = $2"
		echo "state_dir = $state"
		echo "reporting_currency = USD"
		echo "[http]"
		echo "max_attempts = 4"
		echo "retry_base_ms = 20"
		echo "retry_max_sleep_ms = 200"
		echo "retry_max_total_seconds = 30"
		echo "[crm.salesforce]"
		echo "enabled = true"
		echo "base_url = $FIXTURE_URL"
		echo "client_id = sf-client"
		echo "client_secret = \${TEST_SF_SECRET}"
		echo "refresh_token = \${TEST_SF_REFRESH}"
		echo "page_size = 200"
		if [ -n "$EXTRA" ]; then
			echo "$EXTRA"
		fi
	} >"$1"
}
export TEST_SF_SECRET=sf-secret TEST_SF_REFRESH=sf-refresh

# run STAGING ARGS...: one run with its own configuration; exit code in rc.
run()
{
	local staging=$1
	shift
	write_config "$tmp/sf.ini" "$staging"
	rc=0
	"$BIN" --config "$tmp/sf.ini" --vendor salesforce "$@" >"$tmp/out.log" 2>"$tmp/err.log" || rc=$?
}

expect_rc()
{
	if [ "$rc" != "$1" ]; then
		cat "$tmp/err.log" >&2
		cl_fail "$2: expected exit $1, got $rc"
	fi
}

# rows STAGING ENTITY: rows in the committed files of one entity.
rows()
{
	local dir="$1/crm/salesforce/$2" n=0 m
	if [ -d "$dir" ]; then
		while IFS= read -r m; do
			n=$((n + $(wc -l <"${m%.manifest.json}.ndjson")))
		done < <(find "$dir" -name '*.manifest.json')
	fi
	echo "$n"
}

# content STAGING: every committed row, sorted: what a run delivered,
# whatever its run id and file names.
content()
{
	local m
	find "$1/crm/salesforce" -name '*.manifest.json' 2>/dev/null | sort |
		while IFS= read -r m; do
			cat "${m%.manifest.json}.ndjson"
		done | sort
}

# manifests STAGING: committed files under STAGING.
manifests()
{
	find "$1" -name '*.manifest.json' 2>/dev/null | wc -l
}

# queries OBJECT: the decoded SOQL of every first page the server answered
# for OBJECT, one per line.
queries()
{
	cl_fixture_requests | python3 -c '
import json, sys, urllib.parse
obj = sys.argv[1]
for line in sys.stdin:
    r = json.loads(line)
    if not r["path"].endswith("/queryAll") or r["status"] != 200:
        continue
    q = urllib.parse.parse_qs(r["query"]).get("q", [""])[0]
    if " FROM %s " % obj in q + " " and "(SELECT" not in q.split(" FROM %s" % obj)[1]:
        print(q)
' "$1"
}

watermark()
{
	cl_json 'd["watermark"]' "$state/salesforce/$1.json"
}

# --- a first incremental run: every page, every object -------------------
staging="$tmp/s1"
run "$staging"
expect_rc 0 "first run"
cl_assert_eq 475 "$(rows "$staging" lead)" "leads and contacts"
cl_assert_eq 250 "$(rows "$staging" deal)" "opportunities"
cl_assert_eq 150 "$(rows "$staging" touch)" "responded campaign members"
# Lead: 450 rows in pages of 200, so the only query with a third page
cl_assert_eq 1 "$(cl_fixture_requests | grep -F '"path":"/services/data/v63.0/queryAll/' |
	grep -c -- '-400"')" "Lead has a third page"
cl_assert_eq 9 "$(cl_fixture_requests | grep -F '/services/data/v63.0/queryAll' |
	grep -c '"status":200')" "queryAll pages (no role query without a lower bound)"
cl_assert_eq 1 "$(cl_fixture_requests | grep -c '"path":"/services/oauth2/token"')" "one token grant"
python3 "$DATA/check_rows.py" "$staging" || cl_fail "row values"
wm1=$(watermark Lead)
[ -n "$wm1" ] || cl_fail "no Lead watermark after a committed run"
for obj in Contact Opportunity OpportunityContactRole CampaignMember; do
	cl_assert_eq "$wm1" "$(watermark "$obj")" "$obj watermark"
done
[ ! -e "$state/salesforce/Campaign.json" ] || cl_fail "Campaign (always whole) has a watermark"

# --- records change: one lead edited, 250 new ones sharing one timestamp ---
sleep 1.1
python3 "$DATA/change_leads.py" "$root/salesforce/Lead.ndjson"
sleep 1.1
start_server
staging="$tmp/s2"
run "$staging"
expect_rc 0 "second run"
q=$(queries Lead)
case "$q" in
	*"WHERE SystemModstamp >= $wm1 AND SystemModstamp < "*) ;;
	*) cl_fail "second run's Lead query does not start at the watermark $wm1: $q" ;;
esac
wm2=$(watermark Lead)
case "$q" in
	*"SystemModstamp < $wm2") ;;
	*) cl_fail "the new watermark $wm2 is not the second run's upper bound: $q" ;;
esac
[ "$wm2" \> "$wm1" ] || cl_fail "the watermark did not advance ($wm1 -> $wm2)"
# exactly the changed records, each once, over two pages
cl_assert_eq 251 "$(rows "$staging" lead)" "changed leads"
cl_assert_eq 251 "$(content "$staging" | python3 -c '
import json, sys
print(len({json.loads(l)["lead_id"] for l in sys.stdin}))')" "distinct changed leads"
grep -q '"email":"changed5@example.com"' <(content "$staging") || cl_fail "the edited lead"
cl_assert_eq 0 "$(rows "$staging" deal)" "unchanged opportunities"
cl_assert_eq 0 "$(rows "$staging" touch)" "unchanged members"
# and a run after it finds nothing new
sleep 1.1
staging="$tmp/s3"
run "$staging"
expect_rc 0 "third run"
cl_assert_eq 0 "$(rows "$staging" lead)" "leads of a run without changes"

# --- a backfill reads its days and leaves the watermarks ------------------
cp "$state/salesforce/Lead.json" "$tmp/lead-before.json"
cl_fixture_reset
run "$tmp/s-backfill" --from 2026-03-01 --to 2026-03-02
expect_rc 0 "backfill"
case "$(queries Lead)" in
	*"WHERE SystemModstamp >= 2026-03-01T00:00:00Z AND SystemModstamp < 2026-03-03T00:00:00Z") ;;
	*) cl_fail "backfill window: $(queries Lead)" ;;
esac
# lead i was modified on 2026-03-(2 + i % 20): i % 20 == 0 is day 2
cl_assert_eq 23 "$(rows "$tmp/s-backfill" lead)" "leads modified on the backfill days"
cmp -s "$tmp/lead-before.json" "$state/salesforce/Lead.json" ||
	cl_fail "--from/--to moved the watermark"

# --- the reference: an uninterrupted full refresh --------------------------
run "$tmp/s-full" --full-refresh
expect_rc 0 "full refresh"
good=$(content "$tmp/s-full")
cl_assert_eq 725 "$(rows "$tmp/s-full" lead)" "leads of the full refresh"
cp "$state/salesforce/Lead.json" "$tmp/lead-before.json"

# --- 429, 500, 503 on continuation pages, and an expired session ----------
cont=/services/data/v63.0/queryAll/
staging="$tmp/s-faults"
cl_fixture_reset
cl_fixture_fault "$cont" 429 times=1 retry_after=0
cl_fixture_fault "$cont" 500 times=1
cl_fixture_fault "$cont" 503 times=1
cl_fixture_fault /services/data/v63.0/queryAll expire times=1
run "$staging" --full-refresh
expect_rc 0 "run with faults"
cl_assert_eq "$good" "$(content "$staging")" "rows after recovered faults"
cl_assert_eq 2 "$(cl_fixture_requests | grep -c '"path":"/services/oauth2/token"')" \
	"a new token after the expired session"
grep -q "access token expired" "$tmp/err.log" || cl_fail "the refresh is not logged"

# --- QUERY_TIMEOUT: the window is halved, nothing is read twice ------------
printf '[{"message":"Your query request was running for too long.","errorCode":"QUERY_TIMEOUT"}]\n' \
	>"$root/salesforce/query_timeout.json"
cl_fixture_reset
cl_fixture_fault /services/data/v63.0/queryAll status times=1 status=400 \
	body=salesforce/query_timeout.json
EXTRA="objects = Lead"
run "$tmp/s-timeout" --full-refresh
EXTRA=
expect_rc 0 "run after QUERY_TIMEOUT"
cl_assert_eq 2 "$(queries Lead | wc -l)" "Lead queries over the two halves"
cl_assert_eq "$(grep -F '"lead_id":"00Q' <<<"$good" | grep -F '"object":"Lead"')" \
	"$(content "$tmp/s-timeout")" "Lead rows after halving"
grep -q "QUERY_TIMEOUT; querying the two halves" "$tmp/err.log" || cl_fail "halving is not logged"

# --- the daily quota -------------------------------------------------------
cp "$state/salesforce/Lead.json" "$tmp/lead-before.json"
printf '[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]\n' \
	>"$root/salesforce/limit.json"
cl_fixture_reset
cl_fixture_fault /services/data/v63.0/queryAll status times=1 status=403 body=salesforce/limit.json
run "$tmp/s-limit"
expect_rc 75 "daily request limit"
cl_assert_eq 0 "$(manifests "$tmp/s-limit")" "files committed at the daily limit"
grep -q "REQUEST_LIMIT_EXCEEDED.*run again" "$tmp/err.log" || cl_fail "no advice at the daily limit"
cl_fixture_reset
cl_fixture_fault /services/data/v63.0/queryAll header times=1 \
	"header=Sforce-Limit-Info: api-usage=8500/10000"
run "$tmp/s-quota"
expect_rc 75 "quota_percent reached"
cl_assert_eq 0 "$(manifests "$tmp/s-quota")" "files committed at quota_percent"
grep -q "used 8500 of its 10000 daily API requests" "$tmp/err.log" || cl_fail "no quota message"
cmp -s "$tmp/lead-before.json" "$state/salesforce/Lead.json" ||
	cl_fail "a stopped run moved the watermark"

# --- malformed JSON: 65, nothing committed ---------------------------------
staging="$tmp/s-malformed"
cl_fixture_reset
cl_fixture_fault "$cont" malformed times=1
run "$staging" --full-refresh
expect_rc 65 "malformed page"
cl_assert_eq 0 "$(manifests "$staging")" "files committed after malformed JSON"
grep -q "not valid JSON" "$tmp/err.log" || cl_fail "no clear message for malformed JSON"

# --- a body cut off on every attempt: 75, nothing committed ----------------
cl_fixture_reset
cl_fixture_fault "$cont" truncate times=100
run "$staging" --full-refresh
expect_rc 75 "truncated page"
cl_assert_eq 0 "$(manifests "$staging")" "files committed after truncation"
cmp -s "$tmp/lead-before.json" "$state/salesforce/Lead.json" ||
	cl_fail "a failed run moved the watermark"

# --- SIGKILL in the middle, then a rerun -----------------------------------
start_server --latency-ms 150
staging="$tmp/s-kill"
write_config "$tmp/sf.ini" "$staging"
"$BIN" --config "$tmp/sf.ini" --vendor salesforce --full-refresh >"$tmp/kill.log" 2>&1 &
pid=$!
for ((i = 0; i < 250; i++)); do
	if [ "$(cl_fixture_requests | grep -c '/queryAll')" -ge 4 ]; then
		break
	fi
	sleep 0.02
done
kill -KILL "$pid"
wait "$pid" 2>/dev/null || true
cl_assert_eq 0 "$(manifests "$staging")" "files committed by the killed run"
cmp -s "$tmp/lead-before.json" "$state/salesforce/Lead.json" ||
	cl_fail "the killed run moved the watermark"
run "$staging" --full-refresh
expect_rc 0 "rerun after SIGKILL"
cl_assert_eq "$good" "$(content "$staging")" "rows of the rerun"
cl_assert_eq 725 "$(rows "$staging" lead)" "leads after the rerun"

cl_ok
