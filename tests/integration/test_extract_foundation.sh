#!/usr/bin/env bash
# test_extract_foundation.sh: cl-extract-crm, -ads and -email against
# cl-fixture-server (routes and data in tests/data/extract/fixture): paged
# runs commit exactly the expected rows; 429 with Retry-After, 500, 503, a
# body cut off once and an expired OAuth token are recovered without
# duplicates; malformed JSON (65) and a truncation that persists (75) commit
# nothing; --dry-run commits nothing; the command line and configuration
# errors exit 0/64/78 as DESIGN §8 says.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BIN="$CL_BINARY_DIR/extract"
DATA="$CL_SOURCE_DIR/tests/data/extract/fixture"
tmp=$(cl_tmpdir)

cl_fixture_start "$DATA/routes.txt" --root "$DATA"

# write_config FILE STAGING [HUBSPOT_AUTH]: every vendor enabled and pointed
# at the fixture server, small pages, fast retries. HUBSPOT_AUTH is "token"
# (default) or "oauth".
write_config()
{
	local file=$1 staging=$2 auth=${3:-token}
	{
		echo "[pipeline]"
		echo "staging_dir = $staging"
		echo "reporting_currency = USD"
		echo "[http]"
		echo "max_attempts = 4"
		echo "retry_base_ms = 20"
		echo "retry_max_sleep_ms = 200"
		echo "retry_max_total_seconds = 30"
		echo "[crm.hubspot]"
		echo "enabled = true"
		echo "base_url = $FIXTURE_URL"
		if [ "$auth" = oauth ]; then
			echo "client_id = hs-client"
			echo "client_secret = \${TEST_HS_CLIENT_SECRET}"
			echo "refresh_token = \${TEST_HS_REFRESH_TOKEN}"
		else
			echo "token = \${TEST_HS_TOKEN}"
		fi
		echo "page_size = 2"
		echo "[ads.google_ads]"
		echo "enabled = true"
		echo "base_url = $FIXTURE_URL"
		echo "token_url = $FIXTURE_URL/google/token"
		echo "client_id = ga-client"
		echo "client_secret = ga-secret"
		echo "refresh_token = ga-refresh"
		echo "developer_token = dev-token"
		echo "customer_ids = 123-456-7890, 555-000-1111"
		echo "[email.mailchimp]"
		echo "enabled = true"
		echo "base_url = $FIXTURE_URL/3.0"
		echo "api_key = \${TEST_MC_KEY}"
		echo "page_size = 2"
	} >"$file"
}
export TEST_HS_TOKEN=hs-token TEST_HS_CLIENT_SECRET=hs-secret TEST_HS_REFRESH_TOKEN=hs-refresh
export TEST_MC_KEY=mc-key-us9

# run PROGRAM ARGS...: run an extractor; stderr in $tmp/err.log, exit in rc.
run()
{
	local prog=$1
	shift
	rc=0
	"$BIN/$prog" "$@" >"$tmp/out.log" 2>"$tmp/err.log" || rc=$?
}

# expect_rc CODE WHAT: the last run exited CODE, else show its log and fail.
expect_rc()
{
	if [ "$rc" != "$1" ]; then
		cat "$tmp/err.log" >&2
		cl_fail "$2: expected exit $1, got $rc"
	fi
}

# rows STAGING FAMILY VENDOR ENTITY: rows in the committed files (those
# with a manifest) of one entity.
rows()
{
	local dir="$1/$2/$3/$4" n=0 m
	if [ -d "$dir" ]; then
		while IFS= read -r m; do
			n=$((n + $(wc -l <"${m%.manifest.json}.ndjson")))
		done < <(find "$dir" -name '*.manifest.json')
	fi
	echo "$n"
}

# files STAGING: every file under STAGING (committed or not).
files()
{
	if [ -d "$1" ]; then
		find "$1" -type f | wc -l
	else
		echo 0
	fi
}

# requests PATH [STATUS]: requests the server answered for PATH (with STATUS).
requests()
{
	cl_fixture_requests |
		grep -F "\"path\":\"$1\"" |
		{ if [ -n "${2:-}" ]; then grep -F "\"status\":$2,"; else cat; fi; } |
		wc -l
}

# row_field STAGING FAMILY VENDOR ENTITY KEY VALUE FIELD: FIELD of the first
# row whose KEY is VALUE (KEY and FIELD may be dotted: person.email).
row_field()
{
	cat "$1/$2/$3/$4"/*/*.ndjson | python3 -c '
import json, sys
key, value, field = sys.argv[1:4]
def get(row, path):
    for part in path.split("."):
        if not isinstance(row, dict) or part not in row:
            return None
        row = row[part]
    return row
for line in sys.stdin:
    row = json.loads(line)
    if str(get(row, key)) == value:
        v = get(row, field)
        print(json.dumps(v, separators=(",", ":")) if isinstance(v, (list, dict, bool)) else v)
        break
' "$5" "$6" "$7"
}

# --- command line: help, version, usage errors
for fam in crm ads email; do
	run "cl-extract-$fam" --help
	expect_rc 0 "cl-extract-$fam --help"
	grep -q "^Usage: cl-extract-$fam" "$tmp/out.log" || cl_fail "--help of cl-extract-$fam has no usage line"
	run "cl-extract-$fam" --version
	expect_rc 0 "cl-extract-$fam --version"
	grep -q "^cl-extract-$fam (closedloop) " "$tmp/out.log" || cl_fail "--version of cl-extract-$fam"
	run "cl-extract-$fam" --no-such-flag
	expect_rc 64 "cl-extract-$fam with an unknown flag"
done
grep -q "unrecognized option '--no-such-flag'" "$tmp/err.log" || cl_fail "the unknown flag is not named"
run cl-extract-crm --vendor google_ads
expect_rc 64 "cl-extract-crm --vendor google_ads (a vendor of another family)"
grep -q "unknown vendor 'google_ads'" "$tmp/err.log" || cl_fail "the unknown vendor is not named"
cl_ok "--help, --version exit 0; an unknown flag or vendor exits 64"

# --- configuration errors exit 78
printf '[pipeline]\nstaging_dir = %s\n[crm.hubspot]\nenabled = true\ntokn = x\n' "$tmp/s0" >"$tmp/badkey.ini"
run cl-extract-crm --config "$tmp/badkey.ini"
expect_rc 78 "a config with a misspelt key"
grep -q "tokn" "$tmp/err.log" || cl_fail "the bad key is not named"
printf '[pipeline]\nstaging_dir = %s\n' "$tmp/s0" >"$tmp/none.ini"
run cl-extract-ads --config "$tmp/none.ini"
expect_rc 78 "no ads vendor enabled"
grep -q "no ads vendor is enabled" "$tmp/err.log" || cl_fail "nothing enabled is not said"
printf '[pipeline]\nstaging_dir = %s\n[email.mailchimp]\nenabled = true\napi_key = nodatacentre\n' \
	"$tmp/s0" >"$tmp/nodc.ini"
run cl-extract-email --config "$tmp/nodc.ini"
expect_rc 78 "a Mailchimp key without a data centre"
grep -q "api_key" "$tmp/err.log" || cl_fail "the Mailchimp key is not named"
[ "$(files "$tmp/s0")" = 0 ] || cl_fail "a configuration error wrote staging files"
cl_ok "a bad key, nothing enabled, a key without data centre exit 78 and write nothing"

# --- CRM: three contact pages, two deal pages, committed once
staging="$tmp/crm"
write_config "$tmp/crm.ini" "$staging"
cl_fixture_reset
run cl-extract-crm --config "$tmp/crm.ini"
expect_rc 0 "cl-extract-crm"
cl_assert_eq 5 "$(rows "$staging" crm hubspot lead)" "leads"
cl_assert_eq 4 "$(rows "$staging" crm hubspot touch)" "original-source touches"
cl_assert_eq 3 "$(rows "$staging" crm hubspot deal)" "deals"
cl_assert_eq 1 "$(requests /crm/v3/pipelines/deals 200)" "pipeline requests"
cl_assert_eq 3 "$(requests /crm/v3/objects/contacts 200)" "contact pages"
cl_assert_eq 2 "$(requests /crm/v3/objects/deals 200)" "deal pages"
cl_assert_eq ada@example.com "$(row_field "$staging" crm hubspot lead lead_id 201 email)" "normalised email"
cl_assert_eq 1200050 "$(row_field "$staging" crm hubspot deal deal_id 9001 amount_minor)" "amount in cents"
cl_assert_eq true "$(row_field "$staging" crm hubspot deal deal_id 9003 is_won)" "custom won stage"
cl_assert_eq '["201","202"]' "$(row_field "$staging" crm hubspot deal deal_id 9001 contact_ids)" "contact ids"
cl_assert_eq cpc "$(row_field "$staging" crm hubspot touch touch_id contact-202-original medium)" "PAID_SEARCH medium"
grep -q "summary: hubspot    committed run" "$tmp/err.log" || cl_fail "no run summary"
cl_ok "cl-extract-crm pages contacts and deals and commits 5 leads, 4 touches, 3 deals"

# --- CRM: 429 with Retry-After, 500, a body cut off once: recovered, no duplicates
staging="$tmp/crm-faults"
write_config "$tmp/crm-faults.ini" "$staging"
cl_fixture_reset
cl_fixture_fault /crm/v3/objects/contacts 429 times=1 retry_after=1
cl_fixture_fault /crm/v3/objects/deals 500 times=1
cl_fixture_fault /crm/v3/pipelines/deals truncate times=1
start=$(cl_now_ms)
run cl-extract-crm --config "$tmp/crm-faults.ini"
elapsed=$(($(cl_now_ms) - start))
expect_rc 0 "cl-extract-crm with transient faults"
[ "$elapsed" -ge 900 ] || cl_fail "Retry-After: 1 was not honoured (${elapsed} ms)"
cl_assert_eq 1 "$(requests /crm/v3/objects/contacts 429)" "the 429 was served"
cl_assert_eq 1 "$(requests /crm/v3/objects/deals 500)" "the 500 was served"
cl_assert_eq 5 "$(rows "$staging" crm hubspot lead)" "leads after retries"
cl_assert_eq 3 "$(rows "$staging" crm hubspot deal)" "deals after retries"
cl_ok "a 429 with Retry-After, a 500 and a truncated body are retried; rows are not duplicated"

# A cut-off page whose first records were already mapped: the retry must
# not write them twice (the writers are rewound to the page's mark).
staging="$tmp/crm-rewind"
write_config "$tmp/crm-rewind.ini" "$staging"
cl_fixture_reset
cl_fixture_fault /crm/v3/objects/contacts truncate times=2
run cl-extract-crm --config "$tmp/crm-rewind.ini"
expect_rc 0 "cl-extract-crm with a truncated contacts page"
cl_assert_eq 5 "$(rows "$staging" crm hubspot lead)" "leads after a truncated page"
cl_assert_eq 4 "$(rows "$staging" crm hubspot touch)" "touches after a truncated page"
cl_ok "a page cut off half-way is fetched again without duplicate rows"

# --- CRM: malformed JSON is bad data (65), nothing committed
staging="$tmp/crm-malformed"
write_config "$tmp/crm-malformed.ini" "$staging"
cl_fixture_reset
cl_fixture_fault /crm/v3/objects/deals malformed times=1
run cl-extract-crm --config "$tmp/crm-malformed.ini"
expect_rc 65 "malformed JSON"
grep -q "not valid JSON\|incomplete or invalid JSON" "$tmp/err.log" || cl_fail "the JSON error is not reported"
cl_assert_eq 0 "$(files "$staging")" "files after malformed JSON"
cl_ok "malformed JSON exits 65 and commits nothing"

# --- CRM: a truncation that persists is temporary (75), nothing committed
staging="$tmp/crm-truncated"
write_config "$tmp/crm-truncated.ini" "$staging"
cl_fixture_reset
cl_fixture_fault /crm/v3/objects/contacts truncate times=50
run cl-extract-crm --config "$tmp/crm-truncated.ini"
expect_rc 75 "a truncation on every attempt"
cl_assert_eq 4 "$(requests /crm/v3/objects/contacts)" "attempts (max_attempts)"
cl_assert_eq 0 "$(files "$staging")" "files after a persistent truncation"
cl_ok "a body cut off on every attempt exits 75 and commits nothing"

# --- CRM over OAuth: an expired access token is refreshed once
staging="$tmp/crm-oauth"
write_config "$tmp/crm-oauth.ini" "$staging" oauth
cl_fixture_reset
cl_fixture_fault /crm/v3/objects/deals expire times=1
run cl-extract-crm --config "$tmp/crm-oauth.ini"
expect_rc 0 "cl-extract-crm over OAuth with an expired token"
cl_assert_eq 2 "$(requests /oauth/v1/token 200)" "token grants (start, after the 401)"
cl_assert_eq 1 "$(requests /crm/v3/objects/deals 401)" "the 401"
cl_assert_eq 3 "$(rows "$staging" crm hubspot deal)" "deals over OAuth"
grep -q "hs-secret\|hs-refresh" "$tmp/err.log" && cl_fail "a secret reached the log"
cl_ok "OAuth: the refresh-token grant runs, and again after an expired token"

# --- ads: two customers, a 503 recovered, rows outside the window dropped
staging="$tmp/ads"
write_config "$tmp/ads.ini" "$staging"
cl_fixture_reset
cl_fixture_fault /v17/customers/5550001111/googleAds:searchStream 503 times=1
run cl-extract-ads --config "$tmp/ads.ini" --from 2026-02-01 --to 2026-02-03
expect_rc 0 "cl-extract-ads"
cl_assert_eq 1 "$(requests /google/token 200)" "Google token grants"
cl_assert_eq 1 "$(requests /v17/customers/1234567890/googleAds:searchStream 200)" "stream of customer 1"
cl_assert_eq 1 "$(requests /v17/customers/5550001111/googleAds:searchStream 503)" "the 503"
cl_assert_eq 5 "$(rows "$staging" ads google_ads spend)" "spend rows"
cl_assert_eq 3 "$(find "$staging/ads/google_ads/spend" -name '*.manifest.json' | wc -l)" "one partition per day"
grep -q "1 rows dated outside the window" "$tmp/err.log" || cl_fail "the dropped row is not reported"
cl_assert_eq 1235 "$(row_field "$staging" ads google_ads spend campaign_id 50 cost_minor)" "cost in cents"
cl_assert_eq EUR "$(row_field "$staging" ads google_ads spend campaign_id 70 currency)" "account currency"
cl_ok "cl-extract-ads streams two customers into 5 spend rows over 3 days"

# --- email: offset paging, activity of the window's campaigns
staging="$tmp/email"
write_config "$tmp/email.ini" "$staging"
cl_fixture_reset
run cl-extract-email --config "$tmp/email.ini" --from 2026-02-01 --to 2026-02-28
expect_rc 0 "cl-extract-email"
cl_assert_eq 2 "$(requests /3.0/campaigns 200)" "campaign pages"
cl_assert_eq 2 "$(requests /3.0/reports/c1/email-activity 200)" "activity pages of c1"
cl_assert_eq 1 "$(requests /3.0/reports/c2/email-activity 200)" "activity pages of c2"
cl_assert_eq 0 "$(requests /3.0/reports/c3/email-activity)" "activity of a campaign sent before the window"
cl_assert_eq 0 "$(requests /3.0/reports/c3)" "report of a campaign sent before the window"
cl_assert_eq 2 "$(rows "$staging" email mailchimp email_campaign)" "campaigns of the window, with their reports"
cl_assert_eq 7 "$(rows "$staging" email mailchimp email_event)" "email events"
cl_assert_eq 3 "$(rows "$staging" email mailchimp touch)" "click touches"
cl_assert_eq feb "$(row_field "$staging" email mailchimp touch person.email ada@example.com campaign)" \
	"utm_campaign of the link"
cl_assert_eq "Spring sale" "$(row_field "$staging" email mailchimp touch person.email cy@example.com campaign)" \
	"the campaign value of an untagged link"
cl_ok "cl-extract-email pages campaigns and the window's reports and activity: 2 campaigns, 7 events, 3 touches"

# --- email: --full-refresh reads every campaign's activity
staging="$tmp/email-full"
write_config "$tmp/email-full.ini" "$staging"
cl_fixture_reset
run cl-extract-email --config "$tmp/email-full.ini" --from 2026-02-01 --to 2026-02-28 --full-refresh
expect_rc 0 "cl-extract-email --full-refresh"
cl_assert_eq 1 "$(requests /3.0/reports/c3/email-activity 200)" "activity of c3 on a full refresh"
cl_assert_eq 8 "$(rows "$staging" email mailchimp email_event)" "events on a full refresh"
cl_assert_eq 3 "$(rows "$staging" email mailchimp email_campaign)" "campaigns on a full refresh"
cl_ok "--full-refresh reads the activity of every campaign"

# --- email: --dry-run fetches and maps, commits nothing
staging="$tmp/email-dry"
write_config "$tmp/email-dry.ini" "$staging"
cl_fixture_reset
run cl-extract-email --config "$tmp/email-dry.ini" --from 2026-02-01 --to 2026-02-28 --dry-run
expect_rc 0 "cl-extract-email --dry-run"
grep -q "dry run: 12 rows fetched and mapped; nothing committed" "$tmp/err.log" ||
	cl_fail "the dry run does not say what it did"
cl_assert_eq 2 "$(requests /3.0/campaigns 200)" "campaign pages of the dry run"
cl_assert_eq 2 "$(requests /3.0/reports/c1/email-activity 200)" "activity pages of the dry run"
cl_assert_eq 0 "$(files "$staging")" "files after a dry run"
cl_ok "--dry-run fetches and maps everything and writes nothing"
