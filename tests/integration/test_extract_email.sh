#!/usr/bin/env bash
# test_extract_email.sh: cl-extract-email against cl-fixture-server on a
# generated account (mailchimp_dataset.py): campaigns, reports and
# activity paged by offset/count; the reports and activity of many
# campaigns fetched in parallel stage exactly what one connection stages;
# a server that allows fewer simultaneous requests (429) is recovered from
# by lowering the parallelism; truncated and malformed bodies are retried
# or rejected cleanly (nothing committed, no scratch files left); the
# per-campaign watermarks move after incremental runs only, and the next
# run asks for activity since them.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cl_need python3

BIN="$CL_BINARY_DIR/extract"
tmp=$(cl_tmpdir)
CAMPAIGNS=24
RECIPIENTS=5
python3 "$CL_SOURCE_DIR/tests/integration/mailchimp_dataset.py" "$tmp/data" "$CAMPAIGNS" "$RECIPIENTS"
export TEST_MC_KEY=mc-key-us9

# write_config FILE STAGING CONNECTIONS: the fixture server as Mailchimp,
# pages of 2 recipients, fast retries.
write_config()
{
	{
		echo "[pipeline]"
		echo "staging_dir = $2"
		echo "reporting_currency = USD"
		echo "[http]"
		echo "max_attempts = 8"
		echo "retry_base_ms = 20"
		echo "retry_max_sleep_ms = 200"
		echo "retry_max_total_seconds = 60"
		echo "[email.mailchimp]"
		echo "enabled = true"
		echo "base_url = $FIXTURE_URL/3.0"
		echo "api_key = \${TEST_MC_KEY}"
		echo "page_size = 2"
		echo "max_connections = $3"
		echo "start_date = 2026-01-01"
	} >"$1"
}

# run ARGS...: cl-extract-email; its stderr in $tmp/err.log, exit in rc.
run()
{
	rc=0
	"$BIN/cl-extract-email" "$@" >"$tmp/out.log" 2>"$tmp/err.log" || rc=$?
}

expect_rc()
{
	if [ "$rc" != "$1" ]; then
		cat "$tmp/err.log" >&2
		cl_fail "$2: expected exit $1, got $rc"
	fi
}

# content STAGING ENTITY: the committed rows of ENTITY, partition by
# partition in date order (file names hold the run id, so compare this),
# without updated_at (the time of the run).
content()
{
	local m
	find "$1/email/mailchimp/$2" -name '*.manifest.json' | sort | while IFS= read -r m; do
		echo "== $(basename "$(dirname "$m")")"
		sed 's/,"updated_at":"[^"]*"//' "${m%.manifest.json}.ndjson"
	done
}

rows()
{
	content "$1" "$2" | grep -vc '^== ' || true
}

# requests STATUS [PATH-PREFIX]: requests answered with STATUS.
requests()
{
	cl_fixture_requests | grep -F "\"status\":$1," | grep -cF "\"path\":\"${2:-/3.0/}" || true
}

# leftovers STAGING: uncommitted or scratch files.
leftovers()
{
	find "$1" \( -name '.*.tmp' -o -name '.parallel-*' \) 2>/dev/null | wc -l
}

EVENTS=$((CAMPAIGNS * RECIPIENTS * 2 + CAMPAIGNS * (RECIPIENTS / 5)))
CLICKS=$((CAMPAIGNS * RECIPIENTS))

# --- one connection versus many: the same rows, in the same order
cl_fixture_start "$tmp/data/routes.txt" --root "$tmp/data" --latency-ms 5
write_config "$tmp/seq.ini" "$tmp/seq" 1
run --config "$tmp/seq.ini" --from 2026-02-01 --to 2026-02-28
expect_rc 0 "one connection"
cl_assert_eq "$CAMPAIGNS" "$(rows "$tmp/seq" email_campaign)" "campaign rows"
cl_assert_eq "$EVENTS" "$(rows "$tmp/seq" email_event)" "email events"
cl_assert_eq "$CLICKS" "$(rows "$tmp/seq" touch)" "click touches"
# 5 recipients in pages of 2: 3 activity pages per campaign
cl_assert_eq 3 "$(requests 200 /3.0/reports/c007/email-activity)" "activity pages of c007"
cl_assert_eq 1 "$(cl_fixture_requests | grep -F '"path":"/3.0/reports/c007"' | grep -c 'fields=')" \
	"one report request of c007, with fields="
grep -q '"sends":5' "$tmp/seq/email/mailchimp/email_campaign"/*/*.ndjson ||
	cl_fail "the report's counts are not in the email_campaign rows"
cl_ok "one connection: $CAMPAIGNS campaigns with reports, $EVENTS events, $CLICKS touches, paged by 2"

cl_fixture_reset
write_config "$tmp/par.ini" "$tmp/par" 6
run --config "$tmp/par.ini" --from 2026-02-01 --to 2026-02-28
expect_rc 0 "six connections"
grep -q "fetching $((CAMPAIGNS * 2)) streams over up to 6 connections" "$tmp/err.log" ||
	cl_fail "the parallel fetch does not say what it does"
for e in email_campaign email_event touch; do
	content "$tmp/seq" $e >"$tmp/seq.$e"
	content "$tmp/par" $e >"$tmp/par.$e"
	cmp -s "$tmp/seq.$e" "$tmp/par.$e" || cl_fail "$e differs between one and six connections"
done
cl_assert_eq 0 "$(leftovers "$tmp/par")" "scratch files after a parallel run"
cl_fixture_stop
cl_ok "six connections stage byte for byte what one connection stages"

# --- a server that allows 2 requests at a time: 429, fewer connections,
# recovered; one connection never sees a 429 there
cl_fixture_start "$tmp/data/routes.txt" --root "$tmp/data" --latency-ms 20 --max-inflight 2
write_config "$tmp/one.ini" "$tmp/one" 1
run --config "$tmp/one.ini" --from 2026-02-01 --to 2026-02-28
expect_rc 0 "one connection against a limit of 2"
cl_assert_eq 0 "$(requests 429)" "429s for one connection"
cl_fixture_reset
write_config "$tmp/lim.ini" "$tmp/lim" 8
run --config "$tmp/lim.ini" --from 2026-02-01 --to 2026-02-28
expect_rc 0 "eight connections against a limit of 2"
n429=$(requests 429)
[ "$n429" -gt 0 ] || cl_fail "eight connections never exceeded a limit of 2 (not parallel?)"
grep -q "parallel requests lowered to" "$tmp/err.log" || cl_fail "a 429 did not lower the parallelism"
for e in email_campaign email_event touch; do
	content "$tmp/lim" $e >"$tmp/lim.$e"
	cmp -s "$tmp/seq.$e" "$tmp/lim.$e" || cl_fail "$e differs after 429s"
done
cl_fixture_stop
cl_ok "$n429 answers 429 (too many connections) lowered the parallelism; the run recovered with the same rows"

# --- broken bodies
cl_fixture_start "$tmp/data/routes.txt" --root "$tmp/data"
write_config "$tmp/brk.ini" "$tmp/brk" 4
cl_fixture_fault /3.0/reports/c005/email-activity truncate times=1
run --config "$tmp/brk.ini" --from 2026-02-01 --to 2026-02-28
expect_rc 0 "a body cut off once"
content "$tmp/brk" email_event >"$tmp/brk.email_event"
cmp -s "$tmp/seq.email_event" "$tmp/brk.email_event" || cl_fail "a retried page duplicated or lost rows"
cl_ok "a truncated activity page is fetched again, without duplicates, while other streams run"

cl_fixture_reset
write_config "$tmp/trunc.ini" "$tmp/trunc" 4
cl_fixture_fault /3.0/reports/c011/email-activity truncate times=1000
run --config "$tmp/trunc.ini" --from 2026-02-01 --to 2026-02-28
expect_rc 75 "a body cut off on every attempt"
cl_assert_eq 0 "$(find "$tmp/trunc" -name '*.manifest.json' 2>/dev/null | wc -l)" "committed files"
cl_assert_eq 0 "$(leftovers "$tmp/trunc")" "scratch files after a failed parallel run"
grep -q "email activity of campaign c011" "$tmp/err.log" || cl_fail "the failed campaign is not named"
cl_ok "a truncation that persists exits 75, names the campaign and commits nothing"

cl_fixture_reset
write_config "$tmp/mal.ini" "$tmp/mal" 4
# the fault's path is a prefix: the report or the activity of c017,
# whichever the workers ask for first, gets the broken body
cl_fixture_fault /3.0/reports/c017 malformed times=1
run --config "$tmp/mal.ini" --from 2026-02-01 --to 2026-02-28
expect_rc 65 "a malformed body"
cl_assert_eq 0 "$(find "$tmp/mal" -name '*.manifest.json' 2>/dev/null | wc -l)" "committed files"
cl_assert_eq 0 "$(leftovers "$tmp/mal")" "scratch files after a malformed body"
grep -q "campaign c017 page 1: the response" "$tmp/err.log" || cl_fail "the malformed page is not named"
cl_ok "a malformed body exits 65, names the campaign's page and commits nothing"

# --- watermarks: incremental runs move them, backfills do not
cl_fixture_reset
write_config "$tmp/inc.ini" "$tmp/inc" 4
state="$tmp/inc/state/mailchimp/email_activity.json"
run --config "$tmp/inc.ini"
expect_rc 0 "a first incremental run"
[ -f "$state" ] || cl_fail "no watermark file after an incremental run"
cl_assert_eq "$CAMPAIGNS" "$(cl_json 'len(d["campaigns"])' "$state")" "campaign watermarks"
cl_assert_eq 0 "$(cl_fixture_requests | grep -F email-activity | grep -c 'since=' || true)" \
	"activity requests with since= on a first run"
wm=$(cl_json 'd["campaigns"]["c001"]' "$state")
cl_fixture_reset
run --config "$tmp/inc.ini" --from 2026-02-01 --to 2026-02-28
expect_rc 0 "a backfill"
cl_assert_eq "$wm" "$(cl_json 'd["campaigns"]["c001"]' "$state")" "the watermark after a backfill"
cl_assert_eq 0 "$(cl_fixture_requests | grep -F email-activity | grep -c 'since=' || true)" \
	"activity requests with since= in a backfill"
cl_fixture_reset
sleep 1
run --config "$tmp/inc.ini"
expect_rc 0 "a second incremental run"
since=$(python3 -c 'import datetime,sys
t = datetime.datetime.strptime(sys.argv[1], "%Y-%m-%dT%H:%M:%SZ") - datetime.timedelta(hours=1)
print(t.strftime("%Y-%m-%dT%H%%3A%M%%3A%SZ"))' "$wm")
cl_assert_eq 1 "$(cl_fixture_requests | grep -F '/3.0/reports/c001/email-activity' |
	grep -F 'offset=0' | grep -cF "since=$since" || true)" "c001's first activity page since the watermark"
[ "$(cl_json 'd["campaigns"]["c001"]' "$state")" != "$wm" ] ||
	cl_fail "the watermark did not move after an incremental run"
cl_ok "watermarks per campaign: saved after commit, sent as since= (less an hour), kept by backfills"
