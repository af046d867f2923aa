#!/usr/bin/env bash
# test_extract_ads.sh: cl-extract-ads against cl-fixture-server (routes and
# data in tests/data/extract/ads). Meta: Graph cursor paging ends on the page
# without paging.next; an async report run goes from start through polls to
# paged results and gives exactly the rows of the paged requests, also when
# a paged request is refused as too much data; a run that
# fails (69), never starts or never finishes (75) commits nothing; rate-limit errors (17,
# 80004) are retried and recovered; high usage headers slow the next request
# down; a time to regain access beyond the retry budget exits 75; an invalid
# token exits 78. Google Ads: customers:listAccessibleCustomers without
# the manager accounts among them, ad-group rows with the utm tags of the
# final URL suffix; an error batch after rows exits 75 and commits nothing;
# a RESOURCE_EXHAUSTED retryDelay within retry_delay_cap_seconds is waited
# for, a longer one exits 75 at once, both for HTTP 429 and for an error
# batch inside the stream (whose rows so far are discarded on the retry).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BIN="$CL_BINARY_DIR/extract"
DATA="$CL_SOURCE_DIR/tests/data/extract/ads"
tmp=$(cl_tmpdir)

cl_need python3
cl_fixture_start "$DATA/routes.txt" --root "$DATA"
export TEST_META_TOKEN=meta-token

# write_config FILE STAGING ACCOUNTS [EXTRA...]: Meta enabled at the fixture
# server for ACCOUNTS, pages of 7 rows (unless EXTRA sets page_size), fast
# retries and polls; EXTRA lines are appended to [ads.meta].
write_config()
{
	local file=$1 staging=$2 accounts=$3 line
	shift 3
	{
		echo "[pipeline]"
		echo "staging_dir = $staging"
		echo "reporting_currency = USD"
		echo "[http]"
		echo "max_attempts = 4"
		echo "retry_base_ms = 20"
		echo "retry_max_sleep_ms = 200"
		echo "retry_max_total_seconds = 30"
		echo "[ads.meta]"
		echo "enabled = true"
		echo "base_url = $FIXTURE_URL"
		echo "access_token = \${TEST_META_TOKEN}"
		echo "account_ids = $accounts"
		case " $* " in
			*" page_size = "*) ;;
			*) echo "page_size = 7" ;;
		esac
		echo "job_poll_initial_ms = 20"
		echo "job_poll_max_ms = 80"
		for line in "$@"; do
			echo "$line"
		done
	} >"$file"
}

# run ARGS...: cl-extract-ads; stderr in $tmp/err.log, exit in rc.
run()
{
	rc=0
	"$BIN/cl-extract-ads" "$@" >"$tmp/out.log" 2>"$tmp/err.log" || rc=$?
}

# expect_rc CODE WHAT: the last run exited CODE, else show its log and fail.
expect_rc()
{
	if [ "$rc" != "$1" ]; then
		cat "$tmp/err.log" >&2
		cl_fail "$2: expected exit $1, got $rc"
	fi
}

# spend STAGING VENDOR: "rows cost_minor_sum sha" of the committed spend rows
# (data files with a manifest), rows sorted so that runs compare.
spend()
{
	python3 - "$1" "$2" <<'PY'
import glob, hashlib, json, os, sys
rows = []
for f in glob.glob(os.path.join(sys.argv[1], "ads", sys.argv[2], "spend", "*", "*.ndjson")):
    if not os.path.exists(f[:-len(".ndjson")] + ".manifest.json"):
        continue
    with open(f) as fp:
        rows += [json.loads(l) for l in fp if l.strip()]
canon = sorted(json.dumps(r, sort_keys=True) for r in rows)
print(len(rows), sum(r["cost_minor"] for r in rows),
      hashlib.sha256("\n".join(canon).encode()).hexdigest()[:16])
PY
}

# expected SPEC...: "rows cost_minor_sum" of data files, each SPEC being
# FILE:FROM:TO (days kept), computed independently from the NDJSON.
expected()
{
	python3 - "$DATA" "$@" <<'PY'
import json, sys
from decimal import Decimal
n = total = 0
for spec in sys.argv[2:]:
    name, lo, hi = spec.split(":")
    for line in open(f"{sys.argv[1]}/meta/{name}"):
        r = json.loads(line)
        if lo <= r["date_start"] <= hi:
            n += 1
            total += int(Decimal(r["spend"]) * 100)
print(n, total)
PY
}

# requests JQ-LIKE: count the request log lines for which the Python
# expression over r holds.
requests()
{
	cl_fixture_requests | python3 -c '
import json, sys
n = 0
for line in sys.stdin:
    r = json.loads(line)
    if eval(sys.argv[1]):
        n += 1
print(n)
' "$1"
}

# the fault options this test relies on refuse what they cannot honour
admin_status()
{
	curl -sS -o /dev/null -w '%{http_code}' -G -X POST "$@" "$FIXTURE_URL/_fixture/fault"
}
cl_assert_eq 400 "$(admin_status --data-urlencode path=/v21.0 --data-urlencode kind=header)" \
	"kind=header without header="
cl_assert_eq 400 "$(admin_status --data-urlencode path=/v21.0 --data-urlencode kind=status \
	--data-urlencode status=400 --data-urlencode body=../routes.txt)" "body= outside the root"
cl_assert_eq 400 "$(admin_status --data-urlencode path=/v21.0 --data-urlencode kind=header \
	--data-urlencode 'header=no colon')" "header= without a name"
cl_ok "fixture server: body= and header= faults are checked when queued"

# ---------------------------------------------------------------- Meta, paged
st="$tmp/paged"
write_config "$tmp/paged.ini" "$st" "act_1001, act_1002" "async_threshold_days = 30"
cl_fixture_reset
run --config "$tmp/paged.ini" --vendor meta --from 2026-03-01 --to 2026-03-10
expect_rc 0 "paged Meta run"
want=$(expected insights_1001.ndjson:2026-03-01:2026-03-10 insights_1002.ndjson:2026-03-01:2026-03-10)
got=$(spend "$st" meta)
cl_assert_eq "$want" "${got% *}" "paged Meta spend rows and cost"
paged_sha=${got##* }
# 30 rows at 7 a page are 5 pages, 5 rows 1 page: no request past the page
# without paging.next
cl_assert_eq 6 "$(requests 'r["method"] == "GET" and "/insights" in r["path"]')" "paged requests"
cl_assert_eq 4 "$(requests '"after=" in r["query"]')" "requests with a cursor"
cl_ok "Meta insights: Graph cursor paging ends with the last page, rows and cost as in the data"

# ---------------------------------------------------------------- Meta, async
st="$tmp/async"
write_config "$tmp/async.ini" "$st" "act_1001, act_1002" "async_threshold_days = 0" "job_days = 4"
cl_fixture_reset
run --config "$tmp/async.ini" --vendor meta --from 2026-03-01 --to 2026-03-10
expect_rc 0 "async Meta run"
got=$(spend "$st" meta)
cl_assert_eq "$want" "${got% *}" "async Meta spend rows and cost"
cl_assert_eq "$paged_sha" "${got##* }" "async rows equal the paged rows"
# 10 days in runs of 4: 3 report runs per account, each polled 3 times
cl_assert_eq 6 "$(requests 'r["method"] == "POST" and r["path"].endswith("/insights")')" "report runs started"
cl_assert_eq 18 "$(requests 'r["method"] == "GET" and r["path"].count("/") == 2')" "status polls"
grep -q 'report run 61200000000000: Job Not Started' "$tmp/err.log" ||
	cl_fail "the progress of a report run is not logged"
grep -q 'report run 61200000000000 completed after 3 polls' "$tmp/err.log" ||
	cl_fail "the completion of a report run is not logged"
cl_ok "Meta async report runs: start, polls with backoff, paged results equal the paged run"

# a synchronous request refused as too much data is replaced by report runs
st="$tmp/too-much"
write_config "$tmp/too-much.ini" "$st" "act_1001, act_1002" "async_threshold_days = 30" "job_days = 4"
cl_fixture_reset
cl_fixture_fault /v21.0/act_1001/insights status status=500 body=meta/error_too_much_data.json
run --config "$tmp/too-much.ini" --vendor meta --from 2026-03-01 --to 2026-03-10
expect_rc 0 "Meta run after too much data"
got=$(spend "$st" meta)
cl_assert_eq "$paged_sha" "${got##* }" "rows fetched through report runs instead"
# act_1001 through 3 report runs, act_1002 still paged
cl_assert_eq 3 "$(requests 'r["method"] == "POST"')" "report runs after too much data"
cl_assert_eq 1 "$(requests 'r["status"] == 500')" "requests refused (no retry of the same request)"
cl_ok "Meta: a request refused as too much data is replaced by report runs, same rows"

# a report run that fails: 69, nothing committed
st="$tmp/failed"
write_config "$tmp/failed.ini" "$st" "act_1001, act_1666" "async_threshold_days = 0" "job_days = 10"
run --config "$tmp/failed.ini" --vendor meta --from 2026-03-01 --to 2026-03-10
expect_rc 69 "failed report run"
grep -q 'ended with "Job Failed"' "$tmp/err.log" || cl_fail "the failed run is not explained"
cl_assert_eq "0 0" "$(spend "$st" meta | cut -d' ' -f1-2)" "rows after a failed report run"
cl_ok "Meta: a failed report run exits 69 and commits nothing"

# a report run that never starts: 75 after job_start_timeout_seconds
st="$tmp/stuck"
write_config "$tmp/stuck.ini" "$st" "act_1777" "async_threshold_days = 0" \
	"job_start_timeout_seconds = 1"
t0=$(cl_now_ms)
run --config "$tmp/stuck.ini" --vendor meta --from 2026-03-01 --to 2026-03-02
expect_rc 75 "report run that never starts"
t1=$(cl_now_ms)
grep -q 'has not started within 1 s (job_start_timeout_seconds)' "$tmp/err.log" ||
	cl_fail "the start timeout is not explained"
[ $((t1 - t0)) -ge 900 ] && [ $((t1 - t0)) -lt 10000 ] ||
	cl_fail "the start timeout took $((t1 - t0)) ms instead of about 1 s"
cl_assert_eq "0 0" "$(spend "$st" meta | cut -d' ' -f1-2)" "rows after a start timeout"
cl_ok "Meta: a report run that never starts exits 75 after the start timeout"

# a report run that starts and never finishes: 75 after
# job_finish_timeout_seconds, the last status named
st="$tmp/endless"
write_config "$tmp/endless.ini" "$st" "act_1888" "async_threshold_days = 0" \
	"job_finish_timeout_seconds = 1"
run --config "$tmp/endless.ini" --vendor meta --from 2026-03-01 --to 2026-03-02
expect_rc 75 "report run that never finishes"
grep -q 'has not finished within 1 s (job_finish_timeout_seconds), last status "Job Running"' \
	"$tmp/err.log" || cl_fail "the finish timeout is not explained"
cl_assert_eq "0 0" "$(spend "$st" meta | cut -d' ' -f1-2)" "rows after a finish timeout"
cl_ok "Meta: a report run that never finishes exits 75 after the finish timeout"

# ---------------------------------------------------------- Meta, rate limits
# codes 17 and 80004 (HTTP 400) are retried; the rows are those of one run
st="$tmp/limited"
write_config "$tmp/limited.ini" "$st" "act_1001, act_1002" "async_threshold_days = 30"
cl_fixture_reset
cl_fixture_fault /v21.0/act_1001/insights status status=400 body=meta/error_user_limit.json
cl_fixture_fault /v21.0/act_1002/insights status status=400 body=meta/error_ad_account_limit.json \
	"header=X-Business-Use-Case-Usage: {\"1001\":[{\"type\":\"ads_insights\",\"call_count\":100,\"total_cputime\":20,\"total_time\":30,\"estimated_time_to_regain_access\":0}]}"
run --config "$tmp/limited.ini" --vendor meta --from 2026-03-01 --to 2026-03-10
expect_rc 0 "rate-limited Meta run"
got=$(spend "$st" meta)
cl_assert_eq "$paged_sha" "${got##* }" "rows after rate limits"
cl_assert_eq 2 "$(requests 'r["status"] == 400')" "rate-limited answers"
grep -q 'User request limit reached' "$tmp/err.log" || cl_fail "code 17 is not reported"
cl_ok "Meta: rate-limit codes 17 and 80004 are retried and the run recovers without duplicates"

# usage headers: 95% of the ad account's limit slows the next request by
# (95 - 80) / 20 of throttle_max_pause_seconds
st="$tmp/slow"
write_config "$tmp/slow.ini" "$st" "act_1002" "async_threshold_days = 30" \
	"throttle_percent = 80" "throttle_max_pause_seconds = 2" "page_size = 2"
cl_fixture_reset
cl_fixture_fault /v21.0/act_1002/insights header \
	"header=X-Ad-Account-Usage: {\"acc_id_util_pct\":95,\"reset_time_duration\":120}"
t0=$(cl_now_ms)
run --config "$tmp/slow.ini" --vendor meta --from 2026-03-01 --to 2026-03-10
t1=$(cl_now_ms)
expect_rc 0 "Meta run at high usage"
grep -q 'usage at 95% (X-Ad-Account-Usage); pausing 1.5 s' "$tmp/err.log" ||
	{ cat "$tmp/err.log" >&2; cl_fail "high usage does not slow the run down"; }
[ $((t1 - t0)) -ge 1400 ] || cl_fail "the run paused only $((t1 - t0)) ms"
cl_assert_eq "$(expected insights_1002.ndjson:2026-03-01:2026-03-10)" \
	"$(spend "$st" meta | cut -d' ' -f1-2)" "rows at high usage"
# later pages came without the header: no more pauses
cl_assert_eq 1 "$(grep -c 'pausing' "$tmp/err.log")" "pauses once usage is low again"
cl_ok "Meta: high usage headers slow the next request down, and the run recovers"

# a time to regain access beyond the retry budget: 75 at once
st="$tmp/blocked"
write_config "$tmp/blocked.ini" "$st" "act_1002" "async_threshold_days = 30"
cl_fixture_reset
cl_fixture_fault /v21.0/act_1002/insights status status=400 body=meta/error_ad_account_limit.json \
	"header=X-Business-Use-Case-Usage: {\"1002\":[{\"type\":\"ads_management\",\"call_count\":118,\"total_cputime\":20,\"total_time\":30,\"estimated_time_to_regain_access\":47}]}"
t0=$(cl_now_ms)
run --config "$tmp/blocked.ini" --vendor meta --from 2026-03-01 --to 2026-03-10
t1=$(cl_now_ms)
expect_rc 75 "Meta run blocked for 47 minutes"
grep -q 'the server asked to wait 2820.0 s, beyond the retry budget' "$tmp/err.log" ||
	{ cat "$tmp/err.log" >&2; cl_fail "the regain-access wait is not explained"; }
[ $((t1 - t0)) -lt 10000 ] || cl_fail "the blocked run waited $((t1 - t0)) ms"
cl_assert_eq "0 0" "$(spend "$st" meta | cut -d' ' -f1-2)" "rows of a blocked run"
cl_ok "Meta: estimated_time_to_regain_access beyond the retry budget exits 75 without waiting"

# an invalid token: 78
cl_fixture_reset
cl_fixture_fault /v21.0/act_1002/insights status status=400 body=meta/error_token.json
run --config "$tmp/blocked.ini" --vendor meta --from 2026-03-01 --to 2026-03-10
expect_rc 78 "Meta run with an expired token"
grep -q 'Session has expired.*code 190' "$tmp/err.log" || cl_fail "code 190 is not explained"
cl_ok "Meta: an invalid access token (code 190) exits 78"

# ------------------------------------------------------------------ Google Ads
# write_ga_config FILE STAGING CUSTOMERS [EXTRA...]: Google Ads at the
# fixture server, ad-group rows; EXTRA lines go to [ads.google_ads].
write_ga_config()
{
	local file=$1 staging=$2 customers=$3 line
	shift 3
	{
		echo "[pipeline]"
		echo "staging_dir = $staging"
		echo "reporting_currency = USD"
		echo "[http]"
		echo "max_attempts = 4"
		echo "retry_base_ms = 20"
		echo "retry_max_sleep_ms = 200"
		echo "retry_max_total_seconds = 30"
		echo "[ads.google_ads]"
		echo "enabled = true"
		echo "base_url = $FIXTURE_URL"
		echo "token_url = $FIXTURE_URL/google/token"
		echo "client_id = ga-client"
		echo "client_secret = ga-secret"
		echo "refresh_token = ga-refresh"
		echo "developer_token = dev-token"
		echo "customer_ids = $customers"
		echo "level = ad_group"
		for line in "$@"; do
			echo "$line"
		done
	} >"$file"
}

# ga_rows STAGING: the committed Google Ads rows, one "date ad_group source
# medium campaign cost_minor" line each, sorted.
ga_rows()
{
	python3 - "$1" <<'PY'
import glob, json, os, sys
out = []
for f in glob.glob(os.path.join(sys.argv[1], "ads", "google_ads", "spend", "*", "*.ndjson")):
    if os.path.exists(f[:-len(".ndjson")] + ".manifest.json"):
        for l in open(f):
            r = json.loads(l)
            out.append(" ".join(str(r.get(k)) for k in
                                ("date", "adgroup_id", "source", "medium", "campaign", "cost_minor")))
print("\n".join(sorted(out)))
PY
}

st="$tmp/ga"
write_ga_config "$tmp/ga.ini" "$st" "all"
cl_fixture_reset
run --config "$tmp/ga.ini" --vendor google_ads --from 2026-03-01 --to 2026-03-03
expect_rc 0 "Google Ads run over the accessible customers"
got=$(ga_rows "$st")
cl_assert_eq 7 "$(echo "$got" | wc -l)" "Google Ads rows"
# the campaign's final URL suffix tags its rows ({campaignid} resolved);
# the untagged account falls back to utm_source/utm_medium and the name
echo "$got" | grep -qx '2026-03-01 801 google cpc shoes_701 1235' ||
	cl_fail "the utm tags of the final URL suffix are not on the rows: $got"
echo "$got" | grep -qx '2026-03-02 911 google cpc DE Brand 450' ||
	cl_fail "the fallback utm values are not on the untagged rows: $got"
cl_assert_eq 1 "$(requests 'r["path"] == "/v17/customers:listAccessibleCustomers"')" "customer listings"
# each listed customer is asked whether it is a manager; the manager
# 5550005555 gets only that query, no metrics query
cl_assert_eq 2 "$(requests 'r["path"] == "/v17/customers/1112223333/googleAds:searchStream"')" \
	"customer and metrics queries of a client account"
cl_assert_eq 1 "$(requests 'r["path"] == "/v17/customers/5550005555/googleAds:searchStream"')" \
	"queries of a manager account"
grep -q 'google_ads customer 5550005555: a manager (MCC) account; skipped' "$tmp/err.log" ||
	{ cat "$tmp/err.log" >&2; cl_fail "the skipped manager account is not logged"; }
cl_ok "Google Ads: accessible customers listed without managers, ad-group rows carry the utm tags of the final URL suffix"

# an error batch after rows: 75, nothing committed
st="$tmp/ga-stream-error"
write_ga_config "$tmp/ga-err.ini" "$st" "1112223333, 9990009999"
run --config "$tmp/ga-err.ini" --vendor google_ads --from 2026-03-01 --to 2026-03-03
expect_rc 75 "Google Ads stream with an error batch"
grep -q 'batch 2 of the searchStream is an error: RESOURCE_EXHAUSTED' "$tmp/err.log" ||
	cl_fail "the error batch is not explained"
cl_assert_eq "" "$(ga_rows "$st")" "rows after an error batch"
cl_ok "Google Ads: an error inside the stream exits 75 and commits nothing"

# RESOURCE_EXHAUSTED: a retryDelay of 1 s is waited for; 40591 s is beyond
# retry_delay_cap_seconds and exits 75 at once
st="$tmp/ga-quota"
write_ga_config "$tmp/ga-quota.ini" "$st" "1112223333" "retry_delay_cap_seconds = 60"
cl_fixture_reset
cl_fixture_fault /v17/customers/1112223333 status status=429 body=google_ads/error_quota_short.json
t0=$(cl_now_ms)
run --config "$tmp/ga-quota.ini" --vendor google_ads --from 2026-03-01 --to 2026-03-03
t1=$(cl_now_ms)
expect_rc 0 "Google Ads run after a short quota wait"
[ $((t1 - t0)) -ge 950 ] || cl_fail "the retryDelay of 1 s was not honoured ($((t1 - t0)) ms)"
cl_assert_eq 6 "$(ga_rows "$st" | wc -l)" "rows after a quota wait"
st="$tmp/ga-quota-long"
write_ga_config "$tmp/ga-quota-long.ini" "$st" "1112223333" "retry_delay_cap_seconds = 60"
cl_fixture_fault /v17/customers/1112223333 status status=429 body=google_ads/error_quota_long.json
t0=$(cl_now_ms)
run --config "$tmp/ga-quota-long.ini" --vendor google_ads --from 2026-03-01 --to 2026-03-03
t1=$(cl_now_ms)
expect_rc 75 "Google Ads run with a retryDelay of 11 hours"
grep -q 'the quota asks to wait 40591 s, more than \[ads.google_ads\] retry_delay_cap_seconds = 60' \
	"$tmp/err.log" || cl_fail "the retryDelay cap is not explained"
[ $((t1 - t0)) -lt 5000 ] || cl_fail "the capped run waited $((t1 - t0)) ms"
cl_assert_eq "" "$(ga_rows "$st")" "rows after a capped quota error"
cl_ok "Google Ads: a retryDelay within retry_delay_cap_seconds is honoured, a longer one exits 75 at once"

# RESOURCE_EXHAUSTED inside the stream (HTTP 200, an error batch after a
# batch of rows): the retryDelay of 1 s is waited for, the rows so far are
# discarded and the query is sent again; the rows are those of a clean run
st="$tmp/ga-clean"
write_ga_config "$tmp/ga-clean.ini" "$st" "1112223333" "retry_delay_cap_seconds = 60"
cl_fixture_reset
run --config "$tmp/ga-clean.ini" --vendor google_ads --from 2026-03-01 --to 2026-03-03
expect_rc 0 "clean Google Ads run"
clean=$(ga_rows "$st")
cl_assert_eq 6 "$(echo "$clean" | wc -l)" "rows of a clean run"
st="$tmp/ga-stream-quota"
write_ga_config "$tmp/ga-stream-quota.ini" "$st" "1112223333" "retry_delay_cap_seconds = 60"
cl_fixture_reset
cl_fixture_fault /v17/customers/1112223333 status status=200 body=google_ads/stream_quota_short.json
t0=$(cl_now_ms)
run --config "$tmp/ga-stream-quota.ini" --vendor google_ads --from 2026-03-01 --to 2026-03-03
t1=$(cl_now_ms)
expect_rc 0 "Google Ads run after a quota error inside the stream"
[ $((t1 - t0)) -ge 950 ] || cl_fail "the in-stream retryDelay of 1 s was not honoured ($((t1 - t0)) ms)"
grep -q 'batch 2 of the searchStream is RESOURCE_EXHAUSTED; retrying the query' "$tmp/err.log" ||
	{ cat "$tmp/err.log" >&2; cl_fail "the in-stream quota retry is not logged"; }
cl_assert_eq "$clean" "$(ga_rows "$st")" "rows after an in-stream quota wait (no duplicates)"
cl_assert_eq 2 "$(requests 'r["path"] == "/v17/customers/1112223333/googleAds:searchStream"')" \
	"searchStream requests after an in-stream quota error"
# beyond retry_delay_cap_seconds: 75 at once, nothing committed
st="$tmp/ga-stream-quota-long"
write_ga_config "$tmp/ga-stream-quota-long.ini" "$st" "1112223333" "retry_delay_cap_seconds = 60"
cl_fixture_reset
cl_fixture_fault /v17/customers/1112223333 status status=200 body=google_ads/stream_quota_long.json
t0=$(cl_now_ms)
run --config "$tmp/ga-stream-quota-long.ini" --vendor google_ads --from 2026-03-01 --to 2026-03-03
t1=$(cl_now_ms)
expect_rc 75 "Google Ads run with an in-stream retryDelay of 11 hours"
grep -q 'the quota asks to wait 40591 s, more than \[ads.google_ads\] retry_delay_cap_seconds = 60' \
	"$tmp/err.log" || { cat "$tmp/err.log" >&2; cl_fail "the in-stream retryDelay cap is not explained"; }
[ $((t1 - t0)) -lt 5000 ] || cl_fail "the capped in-stream run waited $((t1 - t0)) ms"
cl_assert_eq "" "$(ga_rows "$st")" "rows after a capped in-stream quota error"
cl_assert_eq 1 "$(requests 'r["path"] == "/v17/customers/1112223333/googleAds:searchStream"')" \
	"searchStream requests after a capped in-stream quota error"
cl_ok "Google Ads: an in-stream RESOURCE_EXHAUSTED is retried after its retryDelay without duplicates, beyond the cap exits 75 at once"
