#!/usr/bin/env bash
# End to end: a generated company served by the fixture server is pulled by
# the three extractors, attributed by cl-transform and loaded by cl-load into
# a real PostgreSQL; the loaded totals must equal the ground truth that
# cl-datagen computed on its own (expected.json), to the cent. A rerun of
# transform and load over the same window must leave identical tables.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

from=2026-01-01
to=2026-03-31
work=$(cl_tmpdir e2e)
bin=$CL_BINARY_DIR

"$CL_DATAGEN" --out "$work/vendors" --seed 7 --leads 800 --from "$from" --to "$to"
cl_fixture_start "$work/vendors/routes.txt"

cl_pg_env
db=closedloop_e2e
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
export PGDATABASE=$db

eval "$("$CL_SOURCE_DIR/scripts/write-demo-config.sh" "$work/closedloop.ini" "$work/staging" \
	"$FIXTURE_URL" "$CL_PG_CONNINFO dbname=$db" "$CL_SOURCE_DIR/sql" "$work/vendors")"
export CLOSEDLOOP_CONFIG="$work/closedloop.ini"

"$bin/extract/cl-extract-crm"
"$bin/extract/cl-extract-ads" --from "$from" --to "$to"
"$bin/extract/cl-extract-email" --from "$from" --to "$to"
"$bin/transform/cl-transform" --from "$from" --to "$to"
"$bin/load/cl-load"
echo "ok: pipeline ran"

q()
{
	psql -X -q -At -v ON_ERROR_STOP=1 -v expected="$(cat "$work/vendors/expected.json")" -c "$1"
}
# With -c, psql does not interpolate variables, so feed statements on stdin.
qs()
{
	psql -X -q -At -v ON_ERROR_STOP=1 -v expected="$(cat "$work/vendors/expected.json")" <<<"$1"
}

# Totals that do not depend on the model, read from one model's rows.
cl_assert_eq "$(qs "SELECT (:'expected'::jsonb #>> '{totals,leads}')")" \
	"$(qs "SELECT sum(leads)::bigint FROM attribution.attribution_daily WHERE model = 'first_touch'")" \
	"leads created in the window"
cl_assert_eq "$(qs "SELECT (:'expected'::jsonb #>> '{totals,spend_minor}')")" \
	"$(qs "SELECT (sum(spend) * 100)::bigint FROM attribution.attribution_daily WHERE model = 'first_touch'")" \
	"spend in cents"
cl_assert_eq "$(qs "SELECT (:'expected'::jsonb #>> '{totals,clicks}')")" \
	"$(qs "SELECT sum(clicks) FROM attribution.attribution_daily WHERE model = 'last_touch'")" \
	"clicks"
cl_assert_eq "$(qs "SELECT (:'expected'::jsonb #>> '{totals,impressions}')")" \
	"$(qs "SELECT sum(impressions) FROM attribution.attribution_daily WHERE model = 'linear'")" \
	"impressions"
cl_assert_eq "$(qs "SELECT (:'expected'::jsonb #>> '{totals,spend_minor}')")" \
	"$(qs "SELECT (sum(cost) * 100)::bigint FROM attribution.spend_daily")" \
	"spend_daily cost in cents"
echo "ok: leads, spend, clicks and impressions match the ground truth"

# Every model credits exactly the won revenue, and whole deals.
models=$(qs "SELECT string_agg(DISTINCT model, ' ' ORDER BY model) FROM attribution.attribution_daily")
cl_assert_eq "first_touch full_path last_non_direct last_touch linear markov position_based time_decay w_shaped" \
	"$models" "the default models all ran"
for model in $models; do
	cl_assert_eq "$(qs "SELECT (:'expected'::jsonb #>> '{totals,revenue_minor}')")" \
		"$(qs "SELECT (sum(revenue) * 100)::bigint FROM attribution.attribution_daily WHERE model = '$model'")" \
		"$model revenue in cents"
	cl_assert_eq "$(qs "SELECT (:'expected'::jsonb #>> '{totals,won_deals}')")" \
		"$(qs "SELECT round(sum(deals))::bigint FROM attribution.attribution_daily WHERE model = '$model'")" \
		"$model won deals"
	cl_assert_eq "0" \
		"$(qs "SELECT count(*) FROM (SELECT deal_id, sum(revenue) AS credited FROM attribution.attribution_credit WHERE model = '$model' GROUP BY deal_id) c JOIN attribution.deals d USING (deal_id) WHERE c.credited <> d.amount")" \
		"$model: deals whose credits do not sum to their amount"
done
echo "ok: every model credits the won revenue to the cent"

# Per channel, first and last touch agree with the generator's own journeys.
for model in first_touch last_touch; do
	diff_rows=$(qs "
		WITH want AS (
			SELECT key AS channel, (value ->> 'revenue_minor')::bigint AS cents
			  FROM jsonb_each(:'expected'::jsonb -> 'attribution' -> '$model')),
		     got AS (
			SELECT channel, (sum(revenue) * 100)::bigint AS cents
			  FROM attribution.attribution_daily
			 WHERE model = '$model'
			 GROUP BY channel HAVING sum(revenue) <> 0)
		SELECT coalesce(w.channel, g.channel) || ': want ' || coalesce(w.cents, 0) || ' got ' || coalesce(g.cents, 0)
		  FROM want w FULL JOIN got g USING (channel)
		 WHERE w.cents IS DISTINCT FROM g.cents")
	cl_assert_eq "" "$diff_rows" "$model revenue by channel"
done
echo "ok: first and last touch revenue by channel match the ground truth"

# email_campaign_stats: every campaign sent in the window (the demo's time zone is UTC) and
# every credited one has a row under each model, and per model the campaigns' attributed
# revenue is exactly the credit of Mailchimp's click and open touches.
sent=$(python3 - "$work/staging" "$from" "$to" <<'PY'
import glob, json, sys
root, lo, hi = sys.argv[1:4]
ids = set()
for path in glob.glob(root + "/email/mailchimp/email_campaign/*/*.ndjson"):
    for line in open(path):
        row = json.loads(line)
        if lo <= row.get("sent_at", "")[:10] <= hi:
            ids.add(row["campaign_id"])
print(len(ids))
PY
)
cl_assert_eq "1" "$([ "$sent" -gt 0 ] && echo 1 || echo 0)" "campaigns sent in the window ($sent)"
cl_assert_eq "$sent" \
	"$(qs "SELECT count(DISTINCT campaign_id) FROM attribution.email_campaign_stats
	        WHERE platform = 'mailchimp' AND send_date BETWEEN '$from' AND '$to'")" \
	"campaigns sent in the window in email_campaign_stats"
cl_assert_eq "$(qs "SELECT count(DISTINCT (platform, campaign_id)) * count(DISTINCT model) FROM attribution.email_campaign_stats")" \
	"$(qs "SELECT count(*) FROM attribution.email_campaign_stats WHERE window_from = '$from' AND window_to = '$to'")" \
	"one email_campaign_stats row per (campaign, model)"
cl_assert_eq "$models" \
	"$(qs "SELECT string_agg(DISTINCT model, ' ' ORDER BY model) FROM attribution.email_campaign_stats")" \
	"email_campaign_stats models"
email_diff=$(qs "
	WITH stats AS (
		SELECT model, sum(attributed_revenue) AS revenue
		  FROM attribution.email_campaign_stats GROUP BY model),
	     credits AS (
		SELECT c.model, sum(c.revenue_reporting) AS revenue
		  FROM attribution.attribution_credit c
		  JOIN attribution.touches t
		    ON t.source_system = c.touch_source_system AND t.touch_id = c.touch_id
		 WHERE c.touch_source_system = 'mailchimp' AND t.kind IN ('email_click', 'email_open')
		 GROUP BY c.model)
	SELECT coalesce(s.model, k.model) || ': stats ' || coalesce(s.revenue, 0) || ' credits ' || coalesce(k.revenue, 0)
	  FROM stats s FULL JOIN credits k USING (model)
	 WHERE coalesce(s.revenue, 0) <> coalesce(k.revenue, 0)")
cl_assert_eq "" "$email_diff" "email_campaign_stats revenue per model against the email touches' credits"
cl_assert_eq "t" "$(qs "SELECT sum(attributed_revenue) > 0 FROM attribution.email_campaign_stats WHERE model = 'linear'")" \
	"email campaigns are credited some revenue"
cl_assert_eq "t" "$(qs "SELECT count(*) > 0 FROM attribution.email_campaign_revenue WHERE open_rate IS NOT NULL AND click_rate IS NOT NULL")" \
	"email_campaign_revenue shows rates per recipient"
echo "ok: email_campaign_stats has every campaign under every model and the email touches' credits"

# A rerun over the same window leaves the tables exactly as they were.
snapshot()
{
	qs "SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM attribution.attribution_credit t;
	    SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM attribution.attribution_daily t;
	    SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM attribution.email_campaign_stats t;
	    SELECT count(*) FROM attribution.deals; SELECT count(*) FROM attribution.leads;"
}
before=$(snapshot)
"$bin/transform/cl-transform" --from "$from" --to "$to"
"$bin/load/cl-load"
after=$(snapshot)
cl_assert_eq "$before" "$after" "tables after a rerun of the same window"
cl_assert_eq "2" "$(qs "SELECT count(*) FROM etl.runs WHERE status = 'succeeded'")" "recorded runs"
echo "ok: a rerun leaves identical tables"
