#!/usr/bin/env bash
# test_fixture_server.sh: cl-fixture-server end to end with curl: every
# paging mode walked to its last page, credentials, every fault kind, the
# request log, concurrency under latency, and its command-line errors.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cl_need python3

DATA="$CL_SOURCE_DIR/tests/data/fixture_server"
ROUTES="$DATA/routes.txt"
TMP=$(cl_tmpdir)
HS=(-H 'Authorization: Bearer hs-token')
SF=(-H 'Authorization: Bearer sf-token' -H 'Sforce-Query-Options: batchSize=2')
GA=(-H 'Authorization: Bearer ga-token' -H 'developer-token: dev1')

# ids FILE KEY: the values of KEY in an NDJSON data file, one per line.
ids()
{
	python3 -c '
import json, sys
for line in open(sys.argv[1]):
    if line.strip():
        print(json.loads(line)[sys.argv[2]])
' "$1" "$2"
}

# fetch OUT ARGS...: curl into OUT, print the HTTP status.
fetch()
{
	local out=$1
	shift
	curl -sS -o "$out" -w '%{http_code}' "$@"
}

# check_401 WHAT CURL-ARGS...: the request must fail its credentials.
expect_401='{"status":"error","message":"missing or invalid credentials"}'
check_401()
{
	local what=$1
	shift
	code=$(fetch "$TMP/page" "$@")
	cl_assert_eq "401 $expect_401" "$code $(cat "$TMP/page")" "$what"
}

cl_fixture_start "$ROUTES" --stream-batch 2 --log "$TMP/requests.log"

# --- cursor (HubSpot): follow paging.next.link until it is absent ---------
url="$FIXTURE_URL/crm/v3/objects/contacts?limit=10&properties=email"
pages=0
: >"$TMP/got"
while [ -n "$url" ]; do
	code=$(fetch "$TMP/page" "${HS[@]}" "$url")
	cl_assert_eq 200 "$code" "cursor page $pages status"
	cl_json '"\n".join(r["id"] for r in d["results"])' "$TMP/page" >>"$TMP/got"
	url=$(cl_json 'd.get("paging", {}).get("next", {}).get("link")' "$TMP/page")
	if [ -n "$url" ]; then
		case "$url" in
			"$FIXTURE_URL/crm/v3/objects/contacts?"*properties=email*after=*) ;;
			*) cl_fail "cursor next link is not an absolute URL of the same query: $url" ;;
		esac
	fi
	pages=$((pages + 1))
done
cl_assert_eq 3 "$pages" "cursor pages for 25 records at limit 10"
cl_assert_eq "$(ids "$DATA/hubspot/contacts.ndjson" id)" "$(cat "$TMP/got")" "cursor records"
code=$(fetch "$TMP/page" "${HS[@]}" "$FIXTURE_URL/crm/v3/objects/contacts?after=20&limit=100")
cl_assert_eq "5 none" "$(cl_json '"%d %s" % (len(d["results"]), d.get("paging", "none"))' "$TMP/page")" \
	"cursor last page has no paging"
code=$(fetch "$TMP/page" "${HS[@]}" "$FIXTURE_URL/crm/v3/objects/contacts")
cl_assert_eq "10 10" "$(cl_json '"%d %s" % (len(d["results"]), d["paging"]["next"]["after"])' "$TMP/page")" \
	"cursor default limit"
code=$(fetch "$TMP/page" "${HS[@]}" "$FIXTURE_URL/crm/v3/objects/contacts?after=x")
cl_assert_eq 400 "$code" "cursor with a bad after"
cl_ok "cursor mode pages 25 HubSpot records in order and ends without paging"

# --- offset (Mailchimp): count/offset, total_items, any basic user --------
: >"$TMP/got"
for offset in 0 3 6; do
	code=$(fetch "$TMP/page" -u "someone:mc-key-us6" \
		"$FIXTURE_URL/3.0/campaigns?count=3&offset=$offset")
	cl_assert_eq 200 "$code" "offset page $offset status"
	cl_assert_eq 7 "$(cl_json 'd["total_items"]' "$TMP/page")" "offset total_items"
	cl_json '"\n".join(r["id"] for r in d["campaigns"])' "$TMP/page" >>"$TMP/got"
done
cl_assert_eq "$(ids "$DATA/mailchimp/campaigns.ndjson" id)" "$(cat "$TMP/got")" "offset records"
code=$(fetch "$TMP/page" -u "other:mc-key-us6" "$FIXTURE_URL/3.0/campaigns?offset=9")
cl_assert_eq "0" "$(cl_json 'len(d["campaigns"])' "$TMP/page")" "offset past the end"
cl_ok "offset mode pages 7 Mailchimp campaigns with total_items"

# --- nexturl (Salesforce): batchSize header, nextRecordsUrl, {from} -------
code=$(fetch "$TMP/page" "${SF[@]}" -G \
	--data-urlencode "q=SELECT Id, Email FROM Lead WHERE IsDeleted = false" \
	"$FIXTURE_URL/services/data/v63.0/query")
cl_assert_eq 200 "$code" "nexturl first page status"
: >"$TMP/got"
pages=0
while :; do
	cl_assert_eq 5 "$(cl_json 'd["totalSize"]' "$TMP/page")" "nexturl totalSize"
	cl_json '"\n".join(r["Id"] for r in d["records"])' "$TMP/page" >>"$TMP/got"
	pages=$((pages + 1))
	next=$(cl_json 'd.get("nextRecordsUrl")' "$TMP/page")
	done_flag=$(cl_json 'd["done"]' "$TMP/page")
	if [ -z "$next" ]; then
		cl_assert_eq true "$done_flag" "nexturl done without nextRecordsUrl"
		break
	fi
	cl_assert_eq false "$done_flag" "nexturl not done while nextRecordsUrl is given"
	case "$next" in
		/services/data/v63.0/query/*-*) ;;
		*) cl_fail "nextRecordsUrl is not <query path>/<locator>-<offset>: $next" ;;
	esac
	code=$(fetch "$TMP/page" "${SF[@]}" "$FIXTURE_URL$next")
	cl_assert_eq 200 "$code" "nexturl continuation status"
done
cl_assert_eq 3 "$pages" "nexturl pages for 5 records at batchSize 2"
cl_assert_eq "$(ids "$DATA/salesforce/Lead.ndjson" Id)" "$(cat "$TMP/got")" "nexturl records"
code=$(fetch "$TMP/page" -H 'Authorization: Bearer sf-token' -G \
	--data-urlencode "q=select Id, Amount from Opportunity" \
	"$FIXTURE_URL/services/data/v63.0/query")
cl_assert_eq "1 true None" \
	"$(cl_json '"%d %s %s" % (d["totalSize"], str(d["done"]).lower(), d.get("nextRecordsUrl"))' "$TMP/page")" \
	"nexturl single page for another object"
code=$(fetch "$TMP/page" -H 'Authorization: Bearer sf-token' \
	"$FIXTURE_URL/services/data/v63.0/query/01gFX9999999999999-2")
cl_assert_eq 404 "$code" "an unregistered query locator"
code=$(fetch "$TMP/page" -H 'Authorization: Bearer sf-token' -G \
	--data-urlencode "q=SELECT Id FROM Account" "$FIXTURE_URL/services/data/v63.0/query")
cl_assert_eq 404 "$code" "a SOQL object without a data file"
cl_ok "nexturl mode follows Salesforce nextRecordsUrl over 3 pages and picks the file by FROM"

# --- stream (Google Ads): batches of --stream-batch, last one consumes ----
code=$(fetch "$TMP/page" "${GA[@]}" -X POST -H 'Content-Type: application/json' \
	-d '{"query":"SELECT campaign.id, metrics.clicks, segments.date FROM campaign"}' \
	"$FIXTURE_URL/v17/customers/1234567890/googleAds:searchStream")
cl_assert_eq 200 "$code" "stream status"
cl_assert_eq "[2,2,1]" "$(cl_json '[len(b["results"]) for b in d]' "$TMP/page")" "stream batch sizes"
cl_assert_eq "[false,false,true]" \
	"$(cl_json '["queryResourceConsumption" in b for b in d]' "$TMP/page")" \
	"queryResourceConsumption only on the last batch"
cl_assert_eq true "$(cl_json '"segments.date" in d[0]["fieldMask"].split(",") and all(b["requestId"] for b in d)' "$TMP/page")" \
	"stream fieldMask and requestId"
code=$(fetch "$TMP/page" "${GA[@]}" -X POST -d '{}' \
	"$FIXTURE_URL/v17/customers/5550000000/googleAds:searchStream")
cl_assert_eq "200 []" "$code $(cat "$TMP/page")" "stream of an empty data file"
code=$(fetch "$TMP/page" "${GA[@]}" -X POST -d '{}' \
	"$FIXTURE_URL/v17/customers/999/googleAds:searchStream")
cl_assert_eq "404 not found" "$code $(cl_json 'd["error"]' "$TMP/page")" "stream for a customer without data"
cl_ok "stream mode sends Google Ads batches and [] for an empty file"

# --- graph (Meta): limit/after cursors, next until the end ----------------
url="$FIXTURE_URL/v19.0/act_4242/insights?access_token=meta-token&limit=3&level=campaign"
: >"$TMP/got"
pages=0
while [ -n "$url" ]; do
	code=$(fetch "$TMP/page" "$url")
	cl_assert_eq 200 "$code" "graph page status"
	cl_json '"\n".join(r["campaign_id"] for r in d["data"])' "$TMP/page" >>"$TMP/got"
	cl_assert_eq true "$(cl_json 'bool(d["paging"]["cursors"]["before"] and d["paging"]["cursors"]["after"])' "$TMP/page")" \
		"graph cursors on a non-empty page"
	url=$(cl_json 'd["paging"].get("next")' "$TMP/page")
	pages=$((pages + 1))
done
cl_assert_eq 3 "$pages" "graph pages for 7 records at limit 3"
cl_assert_eq "$(ids "$DATA/meta/insights_4242.ndjson" campaign_id)" "$(cat "$TMP/got")" "graph records"
code=$(fetch "$TMP/page" "$FIXTURE_URL/v19.0/act_4242/insights?access_token=meta-token")
cl_assert_eq "7 None" "$(cl_json '"%d %s" % (len(d["data"]), d["paging"].get("next"))' "$TMP/page")" \
	"graph default limit 25 takes all 7"
cl_ok "graph mode pages Meta insights with cursors and next"

# --- async (Meta report runs): start, poll to completion, page results ----
code=$(fetch "$TMP/page" -X POST \
	"$FIXTURE_URL/v19.0/act_4242/insights?access_token=meta-token&level=campaign")
cl_assert_eq 200 "$code" "async start status"
run=$(cl_json 'd["report_run_id"]' "$TMP/page")
[ -n "$run" ] || cl_fail "async start without report_run_id"
statuses=
for poll in 1 2 3 4; do
	code=$(fetch "$TMP/page" "$FIXTURE_URL/v19.0/$run?access_token=meta-token")
	cl_assert_eq 200 "$code" "async poll $poll status"
	statuses="$statuses$(cl_json 'd["async_status"]' "$TMP/page");"
done
cl_assert_eq "Job Not Started;Job Running;Job Completed;Job Completed;" "$statuses" \
	"async status over polls (polls=3)"
check_401 "async poll without access_token" "$FIXTURE_URL/v19.0/$run"
url="$FIXTURE_URL/v19.0/$run/insights?access_token=meta-token&limit=3"
: >"$TMP/got"
pages=0
while [ -n "$url" ]; do
	code=$(fetch "$TMP/page" "$url")
	cl_assert_eq 200 "$code" "async results page status"
	cl_json '"\n".join(r["campaign_id"] for r in d["data"])' "$TMP/page" >>"$TMP/got"
	url=$(cl_json 'd["paging"].get("next")' "$TMP/page")
	pages=$((pages + 1))
done
cl_assert_eq 3 "$pages" "async result pages for 7 records at limit 3"
cl_assert_eq "$(ids "$DATA/meta/insights_4242.ndjson" campaign_id)" "$(cat "$TMP/got")" "async records"
cl_ok "async mode runs a Meta report: Not Started, Running, Completed, then paged results"

# --- file mode ------------------------------------------------------------
code=$(fetch "$TMP/page" -X POST -d 'grant_type=refresh_token&refresh_token=x' \
	"$FIXTURE_URL/oauth/v1/token")
cl_assert_eq 200 "$code" "file mode status"
cmp -s "$TMP/page" "$DATA/hubspot/token.json" || cl_fail "file mode did not serve the file verbatim"
cl_ok "file mode serves the data file verbatim"

# --- credentials and unknown routes ---------------------------------------
check_401 "no bearer token" "$FIXTURE_URL/crm/v3/objects/contacts"
check_401 "wrong bearer token" -H 'Authorization: Bearer nope' "$FIXTURE_URL/crm/v3/objects/contacts"
check_401 "basic with the wrong key" -u "u:wrong" "$FIXTURE_URL/3.0/campaigns"
check_401 "bearer instead of basic" -H 'Authorization: Bearer mc-key-us6' "$FIXTURE_URL/3.0/campaigns"
check_401 "missing developer-token" -X POST -H 'Authorization: Bearer ga-token' \
	"$FIXTURE_URL/v17/customers/1234567890/googleAds:searchStream"
check_401 "missing access_token" "$FIXTURE_URL/v19.0/act_4242/insights"
code=$(fetch "$TMP/page" "${HS[@]}" "$FIXTURE_URL/crm/v3/objects/companies")
cl_assert_eq '404 {"error":"not found"}' "$code $(cat "$TMP/page")" "placeholder without a data file"
code=$(fetch "$TMP/page" "$FIXTURE_URL/no/such/route")
cl_assert_eq 404 "$code" "unknown route"
code=$(fetch "$TMP/page" "${HS[@]}" -X DELETE "$FIXTURE_URL/crm/v3/objects/contacts")
cl_assert_eq 404 "$code" "known path with another method"
cl_ok "failed credentials get 401 with the JSON error; unknown routes and files 404"

# --- faults ---------------------------------------------------------------
DEALS="$FIXTURE_URL/crm/v3/objects/deals"
cl_fixture_fault /crm/ 429 times=2 "retry_after=Wed, 21 Oct 2026 07:28:00 GMT"
for i in 1 2; do
	curl -sS -D "$TMP/headers" -o "$TMP/page" "${HS[@]}" "$DEALS"
	head -n 1 "$TMP/headers" | grep -q ' 429' || cl_fail "429 fault, request $i: $(head -n 1 "$TMP/headers")"
	grep -qi '^Retry-After: Wed, 21 Oct 2026 07:28:00 GMT' "$TMP/headers" ||
		cl_fail "429 fault without the Retry-After date"
	cl_assert_eq RATE_LIMIT "$(cl_json 'd["errorType"]' "$TMP/page")" "429 body"
done
code=$(fetch "$TMP/page" "${HS[@]}" "$DEALS")
cl_assert_eq 200 "$code" "after times=2 the third request is served"
cl_fixture_fault /crm/v3/objects/deals 429 retry_after=2
curl -sS -D "$TMP/headers" -o /dev/null "${HS[@]}" "$DEALS"
grep -qi '^Retry-After: 2' "$TMP/headers" || cl_fail "429 fault without Retry-After seconds"
cl_ok "429 fault answers N times with Retry-After (seconds or HTTP date), then recovers"

for kind in 500 503; do
	cl_fixture_fault /crm/ "$kind"
	code=$(fetch "$TMP/page" "${HS[@]}" "$DEALS")
	cl_assert_eq "$kind" "$code" "$kind fault"
done
cl_fixture_fault /crm/ status status=418
code=$(fetch "$TMP/page" "${HS[@]}" "$DEALS")
cl_assert_eq 418 "$code" "status fault"
cl_assert_eq error "$(cl_json 'd["status"]' "$TMP/page")" "status fault body is JSON"
cl_fixture_fault /crm/ expire
code=$(fetch "$TMP/page" "${HS[@]}" "$DEALS")
cl_assert_eq "401 EXPIRED_AUTHENTICATION" "$code $(cl_json 'd["category"]' "$TMP/page")" "expire fault"
cl_ok "500, 503, status and expire faults"

# a fault only hits paths under its prefix
cl_fixture_fault /3.0/ 500
code=$(fetch "$TMP/page" "${HS[@]}" "$DEALS")
cl_assert_eq 200 "$code" "a fault for another prefix"
code=$(fetch "$TMP/page" -u "x:mc-key-us6" "$FIXTURE_URL/3.0/campaigns")
cl_assert_eq 500 "$code" "the fault hits its own prefix"
cl_ok "faults match by path prefix"

cl_fixture_fault /crm/ slow delay_ms=400
t0=$(cl_now_ms)
code=$(fetch "$TMP/page" "${HS[@]}" "$DEALS")
t1=$(cl_now_ms)
cl_assert_eq 200 "$code" "slow fault still answers"
[ $((t1 - t0)) -ge 400 ] || cl_fail "slow fault answered in $((t1 - t0)) ms, want >= 400"
cl_ok "slow fault delays the answer"

full=$(curl -sS "${HS[@]}" "$FIXTURE_URL/crm/v3/objects/contacts" | wc -c)
cl_fixture_fault /crm/ truncate
rc=0
got=$(curl -sS -o "$TMP/page" -w '%{size_download}' "${HS[@]}" \
	"$FIXTURE_URL/crm/v3/objects/contacts" 2>/dev/null) || rc=$?
cl_assert_eq 18 "$rc" "truncate fault: curl reports a partial transfer"
if [ "$got" -le 0 ] || [ "$got" -ge "$full" ]; then
	cl_fail "truncate fault delivered $got of $full bytes"
fi
cl_ok "truncate fault cuts the body after $got of $full bytes"

cl_fixture_fault /crm/ malformed
code=$(fetch "$TMP/page" "${HS[@]}" "$DEALS")
cl_assert_eq 200 "$code" "malformed fault status"
if python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$TMP/page" 2>/dev/null; then
	cl_fail "malformed fault body parses as JSON"
fi
cl_ok "malformed fault sends a 200 with broken JSON"

cl_fixture_fault /crm/ drop
rc=0
curl -sS -o /dev/null "${HS[@]}" "$DEALS" 2>/dev/null || rc=$?
cl_assert_eq 52 "$rc" "drop fault: curl gets an empty reply"
code=$(fetch "$TMP/page" "${HS[@]}" "$DEALS")
cl_assert_eq 200 "$code" "the server keeps serving after a drop"
cl_ok "drop fault closes the connection without a response"

cl_fixture_fault /crm/ header "header=X-HubSpot-RateLimit-Remaining: 0"
curl -sS -D "$TMP/headers" -o "$TMP/page" "${HS[@]}" "$DEALS"
head -n 1 "$TMP/headers" | grep -q ' 200' || cl_fail "header fault changed the status"
grep -qi '^X-HubSpot-RateLimit-Remaining: 0' "$TMP/headers" || cl_fail "header fault without its header"
cl_assert_eq 3 "$(cl_json 'len(d["results"])' "$TMP/page")" "header fault keeps the normal body"
cl_ok "header fault adds a header to a normal answer"

cl_fixture_fault /v19.0/ status status=400 body=errors/meta_rate_limit.json
code=$(fetch "$TMP/page" "$FIXTURE_URL/v19.0/act_4242/insights?access_token=meta-token")
cl_assert_eq 400 "$code" "status fault with body="
cmp -s "$TMP/page" "$DATA/errors/meta_rate_limit.json" || cl_fail "body= did not send the file"
code=$(curl -sS -o "$TMP/page" -w '%{http_code}' -G -X POST --data-urlencode "path=/x" \
	--data-urlencode "kind=500" --data-urlencode "body=../etc/passwd" "$FIXTURE_URL/_fixture/fault")
cl_assert_eq 400 "$code" "body= outside the root"
cl_ok "body= sends a vendor's own error document"

# kind=status with a 2xx status serves body= as well, once
cl_fixture_fault /v19.0/ status status=200 body=errors/meta_rate_limit.json
code=$(fetch "$TMP/page" "$FIXTURE_URL/v19.0/act_4242/insights?access_token=meta-token")
cl_assert_eq 200 "$code" "status=200 fault with body="
cmp -s "$TMP/page" "$DATA/errors/meta_rate_limit.json" || cl_fail "status=200 body= did not send the file"
fetch "$TMP/page" "$FIXTURE_URL/v19.0/act_4242/insights?access_token=meta-token" >/dev/null
cmp -s "$TMP/page" "$DATA/errors/meta_rate_limit.json" && cl_fail "status=200 body= served more than once"
cl_ok "kind=status with status=200 and body= serves the file once as a successful answer"

code=$(curl -sS -o "$TMP/page" -w '%{http_code}' -X POST "$FIXTURE_URL/_fixture/fault?path=/x&kind=nope")
cl_assert_eq 400 "$code" "unknown fault kind"
code=$(curl -sS -o "$TMP/page" -w '%{http_code}' -X POST "$FIXTURE_URL/_fixture/fault?kind=500")
cl_assert_eq 400 "$code" "fault without a path"
code=$(curl -sS -o "$TMP/page" -w '%{http_code}' -X POST "$FIXTURE_URL/_fixture/fault?path=/x&kind=status")
cl_assert_eq 400 "$code" "status fault without a status"
cl_ok "bad fault requests get 400"

# --- request log and X-Request-Id -----------------------------------------
cl_fixture_fault /crm/ 500
cl_fixture_reset
code=$(fetch "$TMP/page" "${HS[@]}" "$DEALS?limit=2")
cl_assert_eq 200 "$code" "reset clears queued faults"
curl -sS -o /dev/null "$FIXTURE_URL/crm/v3/objects/contacts?limit=1"
curl -sS -D "$TMP/headers" -o /dev/null "$FIXTURE_URL/nowhere"
grep -qi '^X-Request-Id: fx-' "$TMP/headers" || cl_fail "no X-Request-Id on a data response"
cl_fixture_requests >"$TMP/log"
cl_assert_eq 3 "$(wc -l <"$TMP/log" | tr -d ' ')" "request log lines after reset"
python3 - "$TMP/log" <<'EOF' || cl_fail "request log content"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
want = [("GET", "/crm/v3/objects/deals", "limit=2", 200, True),
        ("GET", "/crm/v3/objects/contacts", "limit=1", 401, False),
        ("GET", "/nowhere", "", 404, True)]
got = [(r["method"], r["path"], r["query"], r["status"], r["auth_ok"]) for r in rows]
assert got == want, got
assert all(isinstance(r["ms"], int) and r["ms"] >= 0 for r in rows), rows
EOF
grep -qF '"path":"/crm/v3/objects/deals","query":"limit=2"' "$TMP/requests.log" ||
	cl_fail "--log file lacks the request"
[ "$(wc -l <"$TMP/requests.log")" -gt 3 ] || cl_fail "--log file should keep requests from before the reset"
cl_ok "request log records method, path, query, status, auth_ok and ms; reset clears it"

cl_fixture_stop
cl_ok "server stops cleanly on SIGTERM"

# --- concurrency: 10 requests under --latency-ms 300 overlap --------------
cl_fixture_start "$ROUTES" --latency-ms 300
t0=$(cl_now_ms)
for i in 1 2 3 4 5 6 7 8 9 10; do
	curl -sS -o /dev/null -f "${HS[@]}" "$FIXTURE_URL/crm/v3/objects/deals"
done
serial=$(($(cl_now_ms) - t0))
pids=()
t0=$(cl_now_ms)
for i in 1 2 3 4 5 6 7 8 9 10; do
	curl -sS -o "$TMP/par.$i" -f "${HS[@]}" "$FIXTURE_URL/crm/v3/objects/deals" &
	pids+=($!)
done
for p in "${pids[@]}"; do
	wait "$p" || cl_fail "a parallel request failed"
done
parallel=$(($(cl_now_ms) - t0))
[ "$serial" -ge 3000 ] || cl_fail "10 serial requests at 300 ms latency took only $serial ms"
[ $((parallel * 3)) -lt "$serial" ] ||
	cl_fail "10 parallel requests took $parallel ms against $serial ms serial: no overlap"
cl_ok "10 parallel requests overlap their latency ($parallel ms vs $serial ms serial)"
cl_fixture_stop

# --- --max-inflight: requests beyond N in progress get Mailchimp's 429 -----
cl_fixture_start "$ROUTES" --latency-ms 1000 --max-inflight 2
pids=()
for i in 1 2 3 4 5; do
	curl -sS -o "$TMP/mi.$i" -D "$TMP/mi.$i.h" -u "u:mc-key-us6" "$FIXTURE_URL/3.0/campaigns" &
	pids+=($!)
done
for p in "${pids[@]}"; do
	wait "$p" || cl_fail "a request under --max-inflight failed"
done
ok200=$(grep -l '^HTTP/1.1 200' "$TMP"/mi.*.h | wc -l)
ok429=$(grep -l '^HTTP/1.1 429' "$TMP"/mi.*.h | wc -l)
if [ "$ok200" -lt 2 ] || [ "$ok429" -lt 1 ] || [ $((ok200 + ok429)) -ne 5 ]; then
	cl_fail "--max-inflight 2 with 5 parallel requests: $ok200 answered, $ok429 refused"
fi
f=$(grep -l '^HTTP/1.1 429' "$TMP"/mi.*.h | head -n 1)
grep -qi '^Content-Type: application/problem+json' "$f" || cl_fail "--max-inflight 429 is not a problem document"
cl_assert_eq 429 "$(cl_json 'd["status"]' "${f%.h}")" "--max-inflight problem status"
cl_ok "--max-inflight 2 answers the first 2 of 5 parallel requests and refuses the rest ($ok429)"
cl_fixture_stop

# --- command line and routes file errors ----------------------------------
cl_assert_exit 64 "$CL_FIXTURE_SERVER" 2>/dev/null
cl_assert_exit 64 "$CL_FIXTURE_SERVER" --routes "$ROUTES" --port 70000 2>/dev/null
printf 'GET /x none sideways data.ndjson\n' >"$TMP/bad-mode.routes"
cl_assert_exit 78 "$CL_FIXTURE_SERVER" --routes "$TMP/bad-mode.routes" 2>/dev/null
printf 'GET /x none offset data.ndjson\n' >"$TMP/no-key.routes"
cl_assert_exit 78 "$CL_FIXTURE_SERVER" --routes "$TMP/no-key.routes" 2>/dev/null
printf '{"a":1}\n{"a":\n' >"$TMP/broken.ndjson"
printf 'GET /x none cursor broken.ndjson\n' >"$TMP/broken.routes"
cl_assert_exit 78 "$CL_FIXTURE_SERVER" --routes "$TMP/broken.routes" 2>/dev/null
cl_ok "bad command lines exit 64; bad routes or data files exit 78"
