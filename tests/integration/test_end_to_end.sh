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

# A rerun over the same window leaves the tables exactly as they were.
snapshot()
{
	qs "SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM attribution.attribution_credit t;
	    SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM attribution.attribution_daily t;
	    SELECT count(*) FROM attribution.deals; SELECT count(*) FROM attribution.leads;"
}
before=$(snapshot)
"$bin/transform/cl-transform" --from "$from" --to "$to"
"$bin/load/cl-load"
after=$(snapshot)
cl_assert_eq "$before" "$after" "tables after a rerun of the same window"
cl_assert_eq "2" "$(qs "SELECT count(*) FROM etl.runs WHERE status = 'succeeded'")" "recorded runs"
echo "ok: a rerun leaves identical tables"
