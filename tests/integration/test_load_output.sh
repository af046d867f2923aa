#!/usr/bin/env bash
# test_load_output.sh: loading transform outputs (tests/data/load/out)
# into the throwaway PostgreSQL: the tables are populated as the files say,
# a reload leaves identical tables, an overlapping window replaces exactly
# its window, the default run is the newest output not yet loaded, a dry
# run writes nothing, and closedloop_reader may read but not write.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cl_pg_env

LOAD="$CL_BINARY_DIR/load/cl-load"
SQL="$CL_SOURCE_DIR/sql"
DATA="$CL_SOURCE_DIR/tests/data/load/out"
RUN1=20260201T010000Z-aaaaaa      # window 2026-01-01..2026-01-31
RUN2=20260215T010000Z-bbbbbb      # window 2026-01-16..2026-02-14
tmp=$(cl_tmpdir)
DB=cl_load_output           # RUN1 then RUN2
DB1=cl_load_output_run1     # RUN1 only
DB2=cl_load_output_run2     # RUN2 only
TABLES="leads deals touches spend_daily attribution_credit attribution_daily attribution_model_stats email_campaign_stats"

q() { local db=$1; shift; cl_psql -d "$db" -c "$@"; }
quiet() { q postgres "SET client_min_messages = warning" -c "$1"; }
recreate_db() { quiet "DROP DATABASE IF EXISTS $1 WITH (FORCE)"; q postgres "CREATE DATABASE $1"; }

write_config()
{
	local file=$1 db=$2 outdir=$3
	cat >"$file" <<-INI
		[pipeline]
		staging_dir = $tmp/staging
		[database]
		conninfo = $CL_PG_CONNINFO dbname=$db
		migrations_dir = $SQL
		lock_wait_seconds = 30
		connect_retries = 1
		[attribution]
		output_dir = $outdir
	INI
}

run_load()
{
	local config=$1
	shift
	set +e
	"$LOAD" --config "$config" "$@" >"$tmp/out.log" 2>"$tmp/err.log"
	rc=$?
	set -e
}

# table_md5 DB TABLE [WHERE]: a fingerprint of the table's rows, in any order
table_md5()
{
	q "$1" "SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, E'\n' ORDER BY t::text)), '-')
		FROM attribution.$2 t ${3:-}"
}

all_md5()
{
	local t out=""
	for t in $TABLES; do
		out+="$t=$(table_md5 "$1" "$t") "
	done
	echo "$out"
}

manifest_rows()
{
	sed -n "/\"name\": \"$2\"/,/}/s/.*\"rows\": \([0-9]*\).*/\1/p" "$DATA/$1/manifest.json"
}

mkdir -p "$tmp/out"
cp -r "$DATA/$RUN1" "$DATA/$RUN2" "$tmp/out/"
for db in "$DB" "$DB1" "$DB2"; do
	recreate_db "$db"
	write_config "$tmp/$db.ini" "$db" "$tmp/out"
done

# --- RUN1 populates every table as its files say
run_load "$tmp/$DB.ini" --run "$RUN1"
cl_assert_eq 0 "$rc" "loading $RUN1 ($(cat "$tmp/err.log"))"
for t in $TABLES; do
	cl_assert_eq "$(manifest_rows "$RUN1" "$t")" "$(q "$DB" "SELECT count(*) FROM attribution.$t")" "rows of $t"
done
# values survive the trip: escapes, UTF-8, NULL, numeric scale, time zones, booleans
cl_assert_eq $'Acme \\ Corp\tEMEA|1200.50|t' \
	"$(q "$DB" "SELECT name, amount, is_won FROM attribution.deals WHERE deal_id = 'D1'")" "deal D1"
cl_assert_eq "Zürich GmbH|1500|JPY|10.12" \
	"$(q "$DB" "SELECT name, amount, currency, amount_reporting FROM attribution.deals WHERE deal_id = 'D2'")" "deal D2"
cl_assert_eq "t|t" "$(q "$DB" "SELECT closed_at IS NULL, touches IS NULL FROM attribution.deals WHERE deal_id = 'D3'")" \
	"NULLs of the open deal D3"
cl_assert_eq "2026-01-02 08:00:00" \
	"$(q "$DB" "SELECT (at AT TIME ZONE 'UTC')::text FROM attribution.touches WHERE touch_id = 'T1'")" "touch T1 time"
cl_assert_eq "0.500000000000|600.25" \
	"$(q "$DB" "SELECT weight, revenue FROM attribution.attribution_credit
		WHERE model = 'linear' AND deal_id = 'D1' AND touch_id = 'T2'")" "linear credit of T2"
cl_assert_eq "2401.00" "$(q "$DB" "SELECT sum(revenue) FROM attribution.attribution_credit WHERE deal_id = 'D1'")" \
	"D1 revenue over two models"
cl_assert_eq "|||" "$(q "$DB" "SELECT source || '|' || medium || '|' || campaign || '|' FROM attribution.attribution_daily
	WHERE date = '2026-01-20' AND model = 'linear' AND channel = '(none)'")" "empty strings stay empty strings"
runs=$(q "$DB" "SELECT run_id, window_from, window_to, status, error IS NULL, (rows->>'attribution_daily')::int,
	finished_at >= started_at, loaded_by LIKE '%cl-load%' FROM etl.runs")
cl_assert_eq "$RUN1|2026-01-01|2026-01-31|succeeded|t|$(manifest_rows "$RUN1" attribution_daily)|t|t" "$runs" "etl.runs"
cl_ok "$RUN1 populates every table with the values of its files, recorded in etl.runs"

# --- the reporting views over RUN1 (figures worked out by hand from the files)
cl_assert_eq "1|1.000000000000|1200.50|155.25|7.7327|6.7327|155.25|155.25" \
	"$(q "$DB" "SELECT leads, deals, revenue, spend, roas, roi, cac, cpl FROM attribution.channel_roi_monthly
		WHERE month = '2026-01-01' AND model = 'first_touch' AND channel = 'Paid Search'")" "ROI of Paid Search, first_touch"
cl_assert_eq "0.500000000000|600.25|3.8663|2.8663|310.50" \
	"$(q "$DB" "SELECT deals, revenue, roas, roi, cac FROM attribution.channel_roi_monthly
		WHERE month = '2026-01-01' AND model = 'linear' AND channel = 'Paid Search'")" "ROI of Paid Search, linear"
cl_assert_eq "0|0.500000000000|600.25||0.00" \
	"$(q "$DB" "SELECT spend, deals, revenue, roas, cac FROM attribution.channel_roi_monthly
		WHERE month = '2026-01-01' AND model = 'linear' AND channel = 'Email'")" "no spend, no ratio"
cl_assert_eq "1200.50|600.25||600.25|1200.50" \
	"$(q "$DB" "SELECT first_touch, linear, last_touch, min_revenue, max_revenue FROM attribution.model_comparison_monthly
		WHERE month = '2026-01-01' AND channel = 'Paid Search'")" "models side by side"
cl_assert_eq "(none)|addon|1|0|0.0000,(none)|core|0|1|10.12,google|core|1|1|1.0000|1200.50,newsletter|core|1|0|0.0000" \
	"$(q "$DB" "SELECT string_agg(concat_ws('|', source, product_group, leads, deals_won, conversion_rate, revenue_won), ','
		ORDER BY source, product_group) FROM attribution.lead_funnel WHERE month = '2026-01-01'")" "lead funnel"
q "$DB" "INSERT INTO attribution.targets (month, channel, product_group, leads_target, revenue_target, currency)
	VALUES ('2026-01-01', 'Paid Search', 'core', 2, 2000, 'USD'), ('2026-02-01', 'Email', 'core', 5, NULL, NULL)"
cl_assert_eq "first_touch|2|1|0.5000|2000|1200.50|0.6003,linear|2|1|0.5000|2000|600.25|0.3001" \
	"$(q "$DB" "SELECT string_agg(concat_ws('|', model, leads_target, leads_actual, leads_attainment, revenue_target,
		revenue_actual, revenue_attainment), ',' ORDER BY model) FROM attribution.plan_vs_fact
		WHERE month = '2026-01-01' AND channel = 'Paid Search' AND product_group = 'core'")" "plan against fact"
cl_assert_eq "first_touch|5|0|0.0000,linear|5|0|0.0000" \
	"$(q "$DB" "SELECT string_agg(concat_ws('|', model, leads_target, leads_actual, leads_attainment), ',' ORDER BY model)
		FROM attribution.plan_vs_fact WHERE month = '2026-02-01' AND channel = 'Email'")" "a target without facts"
cl_assert_eq "linear|jan_news|600.25|0.500000000000|2|2|2,first_touch|jan_news|0|0|2|2|2" \
	"$(q "$DB" "SELECT string_agg(concat_ws('|', model, campaign, attributed_revenue, attributed_deals, clicks, unique_clicks,
		opens + 2, click_to_open_rate), ',' ORDER BY model DESC) FROM attribution.email_campaign_revenue
		WHERE campaign = 'jan_news'")" \
	"email campaigns by attributed revenue"
# rates per recipient come from email_campaign_stats; a sent campaign without touches is listed
cl_assert_eq "linear|jan_news|1000|0.3000|0.0400|0.6003,first_touch|jan_news|1000|0.3000|0.0400|0.0000,linear|quiet|500|0.0300|0.0000|0.0000,first_touch|quiet|500|0.0300|0.0000|0.0000" \
	"$(q "$DB" "SELECT string_agg(concat_ws('|', model, campaign, recipients, open_rate,
		click_rate, revenue_per_recipient), ',' ORDER BY campaign, model DESC) FROM attribution.email_campaign_revenue")" \
	"email campaigns by rates per recipient"
cl_assert_eq "0.300000|0.040000|0.500000000000|600.25|0.600250|report" \
	"$(q "$DB" "SELECT concat_ws('|', open_rate, click_rate, attributed_deals, attributed_revenue, revenue_per_recipient,
		counts_source) FROM attribution.email_campaign_stats WHERE campaign_id = 'mc-1' AND model = 'linear'")" \
	"email_campaign_stats of mc-1 under linear"
cl_assert_eq "t|t|events" \
	"$(q "$DB" "SELECT sends IS NULL, subject IS NULL, counts_source FROM attribution.email_campaign_stats
		WHERE campaign_id = 'mc-2' AND model = 'first_touch'")" "NULL counts of a campaign counted from events"
cl_assert_eq "t" "$(q "$DB" "SELECT sum(value) = 1.25 AND count(*) = 3 FROM attribution.attribution_model_stats
	WHERE window_from = '2026-01-01' AND window_to = '2026-01-31'")" "model stats of RUN1"
cl_ok "the reporting views compute ROI, model comparison, funnel, plan against fact and email revenue"

# --- the same output again: identical tables
before=$(all_md5 "$DB")
run_load "$tmp/$DB.ini" --run "$RUN1"
cl_assert_eq 0 "$rc" "reloading $RUN1"
cl_assert_eq "$before" "$(all_md5 "$DB")" "tables after loading $RUN1 twice"
cl_assert_eq 1 "$(q "$DB" "SELECT count(*) FROM etl.runs")" "one etl.runs row per run"
cl_ok "loading the same output twice leaves identical tables"

# --- an overlapping window replaces exactly its window
run_load "$tmp/$DB.ini" --run "$RUN2"
cl_assert_eq 0 "$rc" "loading $RUN2"
run_load "$tmp/$DB1.ini" --run "$RUN1"
cl_assert_eq 0 "$rc" "loading $RUN1 alone"
run_load "$tmp/$DB2.ini" --run "$RUN2"
cl_assert_eq 0 "$rc" "loading $RUN2 alone"
for spec in spend_daily:date attribution_credit:close_date attribution_daily:date; do
	t=${spec%%:*}
	col=${spec#*:}
	inside="WHERE $col BETWEEN '2026-01-16' AND '2026-02-14'"
	outside="WHERE $col NOT BETWEEN '2026-01-16' AND '2026-02-14'"
	cl_assert_eq "$(table_md5 "$DB2" "$t")" "$(table_md5 "$DB" "$t" "$inside")" "$t inside $RUN2's window is $RUN2's"
	cl_assert_eq "$(table_md5 "$DB1" "$t" "$outside")" "$(table_md5 "$DB" "$t" "$outside")" \
		"$t outside $RUN2's window is still $RUN1's"
done
# the window held rows that RUN2 no longer has: they are gone
cl_assert_eq 0 "$(q "$DB" "SELECT count(*) FROM attribution.spend_daily WHERE date = '2026-01-25'")" \
	"the spend row of 2026-01-25 (only in $RUN1) was replaced"
cl_assert_eq "(none)" "$(q "$DB1" "SELECT DISTINCT channel FROM attribution.attribution_credit WHERE deal_id = 'D2'")" \
	"D2 before"
cl_assert_eq "Paid Social" "$(q "$DB" "SELECT DISTINCT channel FROM attribution.attribution_credit WHERE deal_id = 'D2'")" \
	"D2 re-attributed"
# entities: updated by key, new ones added, others kept
cl_assert_eq "L1|customer,L2|customer,L3|mql,L4|lead" \
	"$(q "$DB" "SELECT string_agg(lead_id || '|' || lifecycle_stage, ',' ORDER BY lead_id) FROM attribution.leads")" \
	"leads after both runs"
cl_assert_eq "D1|2,D2|1,D3|1" \
	"$(q "$DB" "SELECT string_agg(deal_id || '|' || touches, ',' ORDER BY deal_id) FROM attribution.deals")" \
	"deals after both runs"
cl_assert_eq "2026-02-01 16:45:00.5" \
	"$(q "$DB" "SELECT (created_at AT TIME ZONE 'UTC')::text FROM attribution.leads WHERE lead_id = 'L4'")" \
	"fractional seconds"
cl_assert_eq 5 "$(q "$DB" "SELECT count(*) FROM attribution.touches")" "touches after both runs"
# exact windows: each window's fit is kept, a reload replaces only its own
cl_assert_eq "2026-01-01|2026-01-31|3,2026-01-16|2026-02-14|2" \
	"$(q "$DB" "SELECT string_agg(window_from || '|' || window_to || '|' || n, ',' ORDER BY window_from)
		FROM (SELECT window_from, window_to, count(*) n FROM attribution.attribution_model_stats GROUP BY 1, 2) s")" \
	"model stats of both windows"
cl_assert_eq "$(table_md5 "$DB2" attribution_model_stats)" \
	"$(table_md5 "$DB" attribution_model_stats "WHERE window_from = '2026-01-16'")" "the second window's stats"
cl_assert_eq "2026-01-01:4,2026-01-16:2" \
	"$(q "$DB" "SELECT string_agg(window_from || ':' || n, ',' ORDER BY window_from)
		FROM (SELECT window_from, count(*) n FROM attribution.email_campaign_stats GROUP BY 1) s")" \
	"email campaign stats of both windows"
cl_assert_eq "$(table_md5 "$DB2" email_campaign_stats)" \
	"$(table_md5 "$DB" email_campaign_stats "WHERE window_from = '2026-01-16'")" "the second window's email stats"
cl_assert_eq "0.0360" "$(q "$DB" "SELECT DISTINCT open_rate FROM attribution.email_campaign_revenue WHERE campaign = 'quiet'")" \
	"email_campaign_revenue reads each send's latest window"
cl_assert_eq 2 "$(q "$DB" "SELECT count(*) FROM attribution.targets")" "targets are never touched by a load"
cl_ok "an overlapping window replaces exactly its window; entities are upserted by key"

# --- without --run: the newest complete output not yet loaded
recreate_db "$DB1"
mkdir "$tmp/out/20260301T010000Z-cccccc"       # newer, but not complete (no manifest)
run_load "$tmp/$DB1.ini" --dry-run
cl_assert_eq 0 "$rc" "dry run"
grep -q "^run $RUN2" "$tmp/out.log" || cl_fail "the dry run does not pick $RUN2: $(cat "$tmp/out.log")"
grep -q "attribution_credit .* 4 rows  replace rows with close_date in 2026-01-16..2026-02-14" "$tmp/out.log" ||
	cl_fail "the dry run does not report the credit table: $(cat "$tmp/out.log")"
cl_assert_eq "" "$(q "$DB1" "SELECT nspname FROM pg_namespace WHERE nspname IN ('etl', 'attribution')")" \
	"the dry run wrote to the database"
run_load "$tmp/$DB1.ini"
cl_assert_eq 0 "$rc" "default load"
cl_assert_eq "$RUN2|succeeded" "$(q "$DB1" "SELECT run_id || '|' || status FROM etl.runs")" "default picks the newest"
run_load "$tmp/$DB1.ini"
cl_assert_eq 0 "$rc" "default load, second time"
cl_assert_eq "$RUN1|succeeded,$RUN2|succeeded" \
	"$(q "$DB1" "SELECT string_agg(run_id || '|' || status, ',' ORDER BY run_id) FROM etl.runs")" \
	"then the older output"
run_load "$tmp/$DB1.ini"
cl_assert_eq 0 "$rc" "default load with everything loaded"
grep -q "nothing to load" "$tmp/err.log" || cl_fail "no 'nothing to load': $(cat "$tmp/err.log")"
cl_assert_eq 2 "$(q "$DB1" "SELECT count(*) FROM etl.runs")" "nothing loaded the third time"
# a dry run of a loaded database reports the pending work only
before=$(all_md5 "$DB1")
run_load "$tmp/$DB1.ini" --dry-run --run "$RUN1"
cl_assert_eq 0 "$rc" "dry run with --run"
cl_assert_eq "$before" "$(all_md5 "$DB1")" "tables after a dry run"
cl_ok "without --run the newest unloaded complete output is loaded; dry runs write nothing"

# --- the read-only role: SELECT yes, INSERT/UPDATE no
cl_assert_eq 4 "$(q "$DB" "SET ROLE closedloop_reader; SELECT count(*) FROM attribution.leads")" \
	"closedloop_reader reads leads"
cl_assert_eq 2 "$(q "$DB" "SET ROLE closedloop_reader; SELECT count(*) FROM etl.runs")" \
	"closedloop_reader reads etl.runs"
for v in channel_roi_monthly model_comparison_monthly lead_funnel plan_vs_fact email_campaign_revenue \
	attribution_model_stats email_campaign_stats targets; do
	q "$DB" "SET ROLE closedloop_reader; SELECT count(*) FROM attribution.$v" >/dev/null ||
		cl_fail "closedloop_reader cannot read attribution.$v"
done
for stmt in "INSERT INTO attribution.leads (lead_id, source_system) VALUES ('X', 'x')" \
	"INSERT INTO attribution.targets (month, channel) VALUES ('2026-03-01', 'Email')" \
	"DELETE FROM attribution.attribution_model_stats" \
	"TRUNCATE attribution.attribution_credit" \
	"CREATE TABLE attribution.mine (x int)" \
	"UPDATE attribution.attribution_daily SET revenue = 0" \
	"DELETE FROM etl.runs" \
	"SELECT count(*) FROM etl.schema_migrations"; do
	set +e
	psql -X -q -At -v ON_ERROR_STOP=1 -d "$DB" -c "SET ROLE closedloop_reader" -c "$stmt" 2>"$tmp/role.log"
	prc=$?
	set -e
	[ "$prc" -ne 0 ] || cl_fail "closedloop_reader could run: $stmt"
	grep -q "permission denied" "$tmp/role.log" || cl_fail "not a permission error for '$stmt': $(cat "$tmp/role.log")"
done
cl_ok "closedloop_reader can SELECT every table and view and cannot write"

for db in "$DB" "$DB1" "$DB2"; do
	quiet "DROP DATABASE IF EXISTS $db WITH (FORCE)"
done
rm -rf "$tmp"
echo "test_load_output: ok"
