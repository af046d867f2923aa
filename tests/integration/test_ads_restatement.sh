#!/usr/bin/env bash
# test_ads_restatement.sh: ad platforms revise recent days, so every run
# re-pulls a lookback. Two cl-extract-ads runs whose windows overlap (March
# 1-10, then March 5-12 after the platform restated March 5-10) followed by
# cl-transform and cl-load must leave in attribution_daily and spend_daily
# exactly the second pull's numbers for the overlapping days and the first
# pull's for the others: re-pulled days replace the earlier ones, they never
# add to them. A third run that pulls the same days again changes nothing.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

cl_need python3 psql
work=$(cl_tmpdir)
bin=$CL_BINARY_DIR

# data VERSION FROM TO DIR: one Meta ad account's daily ad rows (USD, two
# ads) for the days FROM..TO, cost depending on VERSION, written as the data
# set of the fixture server rooted at DIR.
data()
{
	mkdir -p "$4/meta"
	python3 - "$1" "$2" "$3" "$4/meta/insights_5005.ndjson" <<'PY'
import datetime, json, sys
version, lo, hi, out = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
d = datetime.date.fromisoformat(lo)
with open(out, "w") as fp:
    while d <= datetime.date.fromisoformat(hi):
        for ad in (1, 2):
            cents = 1000 * d.day + 10 * ad + version     # restated: other cents
            fp.write(json.dumps({
                "account_id": "5005", "account_currency": "USD",
                "campaign_id": "77", "campaign_name": "spring_launch",
                "adset_id": "78", "ad_id": str(790 + ad),
                "spend": "%d.%02d" % divmod(cents, 100),
                "clicks": str(d.day + version), "impressions": str(100 * d.day + version),
                "date_start": d.isoformat(), "date_stop": d.isoformat()}) + "\n")
        d += datetime.timedelta(days=1)
PY
	printf '%s\n' \
		"GET /v21.0/act_{account}/insights bearer:meta-token graph meta/insights_{account}.ndjson" \
		>"$4/routes.txt"
}

# expected_cents FROM TO VERSION: the cost and clicks of days FROM..TO in
# VERSION of the data, computed the same way as data() writes them.
expected()
{
	python3 - "$@" <<'PY'
import datetime, sys
lo, hi, version = sys.argv[1], sys.argv[2], int(sys.argv[3])
d = datetime.date.fromisoformat(lo)
cost = clicks = 0
while d <= datetime.date.fromisoformat(hi):
    for ad in (1, 2):
        cost += 1000 * d.day + 10 * ad + version
        clicks += d.day + version
    d += datetime.timedelta(days=1)
print(cost, clicks)
PY
}

cl_pg_env
db=closedloop_restatement
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
export PGDATABASE=$db TEST_META_TOKEN=meta-token

# config URL: Meta at the fixture server URL, synchronous pages of 5 rows.
config()
{
	cat >"$work/closedloop.ini" <<INI
[pipeline]
staging_dir = $work/staging
reporting_currency = USD
timezone = UTC
[database]
conninfo = $CL_PG_CONNINFO dbname=$db
migrations_dir = $CL_SOURCE_DIR/sql
[attribution]
models = first_touch,linear
[ads.meta]
enabled = true
base_url = $1
access_token = \${TEST_META_TOKEN}
account_ids = act_5005
page_size = 5
async_threshold_days = 30
INI
}
export CLOSEDLOOP_CONFIG="$work/closedloop.ini"

# first pull: March 1-10 as first reported
data 0 2026-03-01 2026-03-10 "$work/v0"
cl_fixture_start "$work/v0/routes.txt" --root "$work/v0"
config "$FIXTURE_URL"
"$bin/extract/cl-extract-ads" --from 2026-03-01 --to 2026-03-10
# run ids order runs by their second: the second pull must be a later one
sleep 1.1

# second pull, the lookback overlapping the first: March 5-10 restated
data 3 2026-03-05 2026-03-12 "$work/v3"
cl_fixture_start "$work/v3/routes.txt" --root "$work/v3"
config "$FIXTURE_URL"
"$bin/extract/cl-extract-ads" --from 2026-03-05 --to 2026-03-12
# staging keeps both pulls of March 5-10 (20 + 16 rows): the replacing is
# downstream's job, and this is what it has to get right
cl_assert_eq 36 "$(cat "$work"/staging/ads/meta/spend/*/*.ndjson | wc -l)" "staged spend rows"
cl_ok "two overlapping pulls staged, March 5-10 twice"

"$bin/transform/cl-transform" --from 2026-03-01 --to 2026-03-12
"$bin/load/cl-load"

read -r c_old k_old <<<"$(expected 2026-03-01 2026-03-04 0)"
read -r c_new k_new <<<"$(expected 2026-03-05 2026-03-12 3)"
read -r c_sum _ <<<"$(expected 2026-03-05 2026-03-10 0)"
want_cost=$((c_old + c_new))
want_clicks=$((k_old + k_new))

q()
{
	cl_psql -c "$1"
}
for model in first_touch linear; do
	cl_assert_eq "$want_cost" \
		"$(q "SELECT (sum(spend) * 100)::bigint FROM attribution.attribution_daily WHERE model = '$model'")" \
		"$model spend in cents (an added re-pull would give $((want_cost + c_sum)))"
	cl_assert_eq "$want_clicks" \
		"$(q "SELECT sum(clicks) FROM attribution.attribution_daily WHERE model = '$model'")" \
		"$model clicks"
done
# day by day: an overlapping day carries the restated numbers only
cl_assert_eq "$(expected 2026-03-07 2026-03-07 3 | cut -d' ' -f1)" \
	"$(q "SELECT (sum(spend) * 100)::bigint FROM attribution.attribution_daily WHERE model = 'linear' AND date = '2026-03-07'")" \
	"spend of a restated day"
cl_assert_eq "$(expected 2026-03-02 2026-03-02 0 | cut -d' ' -f1)" \
	"$(q "SELECT (sum(spend) * 100)::bigint FROM attribution.attribution_daily WHERE model = 'linear' AND date = '2026-03-02'")" \
	"spend of a day only the first pull had"
cl_assert_eq "$want_cost" "$(q "SELECT (sum(cost) * 100)::bigint FROM attribution.spend_daily")" \
	"spend_daily cost in cents"
cl_assert_eq 24 "$(q "SELECT count(*) FROM attribution.spend_daily")" "spend_daily rows (12 days, 2 ads)"
cl_ok "restated days replace the earlier pull in attribution_daily and spend_daily, never add to it"

# the same days pulled once more: nothing changes
before=$(q "SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM attribution.attribution_daily t")
sleep 1.1
"$bin/extract/cl-extract-ads" --from 2026-03-05 --to 2026-03-12
"$bin/transform/cl-transform" --from 2026-03-01 --to 2026-03-12
"$bin/load/cl-load"
after=$(q "SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM attribution.attribution_daily t")
cl_assert_eq "$before" "$after" "attribution_daily after pulling the same days again"
cl_ok "pulling the same days again leaves attribution_daily exactly as it was"
