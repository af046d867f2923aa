-- 006_reporting_views: the KPIs every team reads, defined once.
--
-- Each view computes its ratios from sums (never an average of daily
-- ratios), divides by NULLIF(..., 0) so that a month without spend shows
-- NULL rather than failing, and keeps the currency as a column so that
-- amounts in different currencies are never added up.
--
-- Months of timestamps (leads.created_at, deals.closed_at) are taken in the
-- session's TimeZone: give the BI role the pipeline's time zone
-- (ALTER ROLE metabase SET timezone = 'Europe/Berlin'). Dates that the
-- transform wrote (attribution_daily.date, attribution_credit.close_date)
-- are already in it.

--------------------------------------------------------------------------
-- channel_roi_monthly
--------------------------------------------------------------------------
CREATE VIEW attribution.channel_roi_monthly AS
SELECT date_trunc('month', d.date)::date AS month,
	   d.model,
	   d.channel,
	   d.currency,
	   sum(d.leads) AS leads,
	   sum(d.deals) AS deals,
	   sum(d.revenue) AS revenue,
	   sum(d.spend) AS spend,
	   sum(d.clicks) AS clicks,
	   sum(d.impressions) AS impressions,
	   round(sum(d.revenue) / nullif(sum(d.spend), 0), 4) AS roas,
	   round((sum(d.revenue) - sum(d.spend)) / nullif(sum(d.spend), 0), 4) AS roi,
	   round(sum(d.spend) / nullif(sum(d.deals), 0), 2) AS cac,
	   round(sum(d.spend) / nullif(sum(d.leads), 0), 2) AS cpl
  FROM attribution.attribution_daily d
 GROUP BY 1, 2, 3, 4;

COMMENT ON VIEW attribution.channel_roi_monthly IS
	'Channel ROI by attribution model and month: leads, deals, revenue, spend and the ratios '
	'ROAS, ROI, CAC and CPL, from attribution_daily. Compare channels within one model.';
COMMENT ON COLUMN attribution.channel_roi_monthly.month IS 'First day of the month.';
COMMENT ON COLUMN attribution.channel_roi_monthly.model IS 'Attribution model.';
COMMENT ON COLUMN attribution.channel_roi_monthly.channel IS 'Channel by the channel grouping rules.';
COMMENT ON COLUMN attribution.channel_roi_monthly.currency IS
	'ISO 4217 code of the reporting currency of revenue, spend, CAC and CPL.';
COMMENT ON COLUMN attribution.channel_roi_monthly.leads IS
	'Leads created in the month whose first touch is in the channel.';
COMMENT ON COLUMN attribution.channel_roi_monthly.deals IS
	'Won deals closed in the month, fractional by the model''s weights.';
COMMENT ON COLUMN attribution.channel_roi_monthly.revenue IS 'Revenue the model credits to the channel.';
COMMENT ON COLUMN attribution.channel_roi_monthly.spend IS 'Ad spend of the channel in the month.';
COMMENT ON COLUMN attribution.channel_roi_monthly.clicks IS 'Ad clicks of the channel in the month.';
COMMENT ON COLUMN attribution.channel_roi_monthly.impressions IS 'Ad impressions of the channel in the month.';
COMMENT ON COLUMN attribution.channel_roi_monthly.roas IS
	'Return on ad spend: revenue / spend; NULL without spend.';
COMMENT ON COLUMN attribution.channel_roi_monthly.roi IS
	'Return on investment: (revenue - spend) / spend; NULL without spend.';
COMMENT ON COLUMN attribution.channel_roi_monthly.cac IS
	'Customer acquisition cost: spend / deals; NULL without deals.';
COMMENT ON COLUMN attribution.channel_roi_monthly.cpl IS 'Cost per lead: spend / leads; NULL without leads.';

--------------------------------------------------------------------------
-- model_comparison_monthly
--------------------------------------------------------------------------
CREATE VIEW attribution.model_comparison_monthly AS
SELECT date_trunc('month', d.date)::date AS month,
	   d.channel,
	   d.currency,
	   sum(d.revenue) FILTER (WHERE d.model = 'first_touch') AS first_touch,
	   sum(d.revenue) FILTER (WHERE d.model = 'last_touch') AS last_touch,
	   sum(d.revenue) FILTER (WHERE d.model = 'last_non_direct') AS last_non_direct,
	   sum(d.revenue) FILTER (WHERE d.model = 'linear') AS linear,
	   sum(d.revenue) FILTER (WHERE d.model = 'position_based') AS position_based,
	   sum(d.revenue) FILTER (WHERE d.model = 'u_shaped') AS u_shaped,
	   sum(d.revenue) FILTER (WHERE d.model = 'w_shaped') AS w_shaped,
	   sum(d.revenue) FILTER (WHERE d.model = 'full_path') AS full_path,
	   sum(d.revenue) FILTER (WHERE d.model = 'time_decay') AS time_decay,
	   sum(d.revenue) FILTER (WHERE d.model = 'markov') AS markov,
	   sum(d.revenue) FILTER (WHERE d.model = 'shapley') AS shapley,
	   sum(d.revenue) FILTER (WHERE d.model = 'fractribution') AS fractribution,
	   min(d.revenue_sum) AS min_revenue,
	   max(d.revenue_sum) AS max_revenue
  FROM (SELECT x.*, sum(x.revenue) OVER (PARTITION BY date_trunc('month', x.date), x.channel,
											  x.currency, x.model) AS revenue_sum
		  FROM attribution.attribution_daily x) d
 GROUP BY 1, 2, 3;

COMMENT ON VIEW attribution.model_comparison_monthly IS
	'The revenue each attribution model credits to each channel per month, side by side, with '
	'the spread between the models: a wide spread means the channel''s value depends on the '
	'model chosen. A model that was not run shows NULL.';
COMMENT ON COLUMN attribution.model_comparison_monthly.month IS 'First day of the month.';
COMMENT ON COLUMN attribution.model_comparison_monthly.channel IS 'Channel by the channel grouping rules.';
COMMENT ON COLUMN attribution.model_comparison_monthly.currency IS
	'ISO 4217 code of the reporting currency of the revenue columns.';
COMMENT ON COLUMN attribution.model_comparison_monthly.first_touch IS 'Revenue credited by first_touch.';
COMMENT ON COLUMN attribution.model_comparison_monthly.last_touch IS 'Revenue credited by last_touch.';
COMMENT ON COLUMN attribution.model_comparison_monthly.last_non_direct IS
	'Revenue credited by last_non_direct.';
COMMENT ON COLUMN attribution.model_comparison_monthly.linear IS 'Revenue credited by linear.';
COMMENT ON COLUMN attribution.model_comparison_monthly.position_based IS
	'Revenue credited by position_based.';
COMMENT ON COLUMN attribution.model_comparison_monthly.u_shaped IS 'Revenue credited by u_shaped.';
COMMENT ON COLUMN attribution.model_comparison_monthly.w_shaped IS 'Revenue credited by w_shaped.';
COMMENT ON COLUMN attribution.model_comparison_monthly.full_path IS 'Revenue credited by full_path.';
COMMENT ON COLUMN attribution.model_comparison_monthly.time_decay IS 'Revenue credited by time_decay.';
COMMENT ON COLUMN attribution.model_comparison_monthly.markov IS 'Revenue credited by markov.';
COMMENT ON COLUMN attribution.model_comparison_monthly.shapley IS 'Revenue credited by shapley.';
COMMENT ON COLUMN attribution.model_comparison_monthly.fractribution IS
	'Revenue credited by fractribution.';
COMMENT ON COLUMN attribution.model_comparison_monthly.min_revenue IS
	'The lowest revenue any model that was run credits to the channel in the month.';
COMMENT ON COLUMN attribution.model_comparison_monthly.max_revenue IS
	'The highest revenue any model that was run credits to the channel in the month.';

--------------------------------------------------------------------------
-- lead_funnel
--------------------------------------------------------------------------
CREATE VIEW attribution.lead_funnel AS
WITH deal_first_touch AS (
	-- the earliest credited touch of each won deal's journey: the same for every model
	SELECT DISTINCT ON (c.deal_source_system, c.deal_id)
		   c.deal_source_system, c.deal_id, c.source, c.lead_id
	  FROM attribution.attribution_credit c
	 ORDER BY c.deal_source_system, c.deal_id, c.touch_position NULLS LAST, c.model
),
lead_side AS (
	SELECT date_trunc('month', l.created_at)::date AS month,
		   coalesce(nullif(l.first_source, ''), '(none)') AS source,
		   coalesce(l.product_group, '') AS product_group,
		   count(*) AS leads
	  FROM attribution.leads l
	 GROUP BY 1, 2, 3
),
deal_side AS (
	SELECT date_trunc('month', d.closed_at)::date AS month,
		   coalesce(nullif(f.source, ''), '(none)') AS source,
		   coalesce(d.product_group, '') AS product_group,
		   d.reporting_currency AS currency,
		   count(*) AS deals_won,
		   sum(d.amount_reporting) AS revenue_won,
		   avg(extract(epoch FROM d.closed_at - coalesce(l.created_at, d.created_at)) / 86400.0)
			   AS days_to_close
	  FROM attribution.deals d
	  LEFT JOIN deal_first_touch f
		ON f.deal_source_system = d.source_system AND f.deal_id = d.deal_id
	  LEFT JOIN attribution.leads l
		ON l.source_system = d.source_system AND l.lead_id = f.lead_id
	 WHERE d.is_won AND d.closed_at IS NOT NULL
	 GROUP BY 1, 2, 3, 4
)
SELECT coalesce(ls.month, ds.month) AS month,
	   coalesce(ls.source, ds.source) AS source,
	   coalesce(ls.product_group, ds.product_group) AS product_group,
	   coalesce(ls.leads, 0) AS leads,
	   coalesce(ds.deals_won, 0) AS deals_won,
	   round(coalesce(ds.deals_won, 0)::numeric / nullif(ls.leads, 0), 4) AS conversion_rate,
	   ds.revenue_won,
	   ds.currency,
	   round(ds.days_to_close::numeric, 1) AS avg_days_to_close
  FROM lead_side ls
  FULL JOIN deal_side ds
	ON ds.month = ls.month AND ds.source = ls.source AND ds.product_group = ls.product_group;

COMMENT ON VIEW attribution.lead_funnel IS
	'Lead-to-deal funnel by month, source and product group: leads created, deals won, the '
	'conversion rate between them and the days from lead to close. A lead''s source is its '
	'first touch''s; a deal''s is the first touch of its attributed journey.';
COMMENT ON COLUMN attribution.lead_funnel.month IS
	'First day of the month: of lead creation for leads, of the close for deals (session time zone).';
COMMENT ON COLUMN attribution.lead_funnel.source IS 'utm_source of the first touch; (none) without one.';
COMMENT ON COLUMN attribution.lead_funnel.product_group IS 'Product group; empty when unknown.';
COMMENT ON COLUMN attribution.lead_funnel.leads IS 'Leads created in the month.';
COMMENT ON COLUMN attribution.lead_funnel.deals_won IS 'Deals won (closed) in the month.';
COMMENT ON COLUMN attribution.lead_funnel.conversion_rate IS
	'deals_won / leads of the same month, source and product group; NULL without leads.';
COMMENT ON COLUMN attribution.lead_funnel.revenue_won IS
	'Amount of the won deals in the reporting currency.';
COMMENT ON COLUMN attribution.lead_funnel.currency IS 'ISO 4217 code of revenue_won.';
COMMENT ON COLUMN attribution.lead_funnel.avg_days_to_close IS
	'Average days from the creation of the deal''s lead (the deal''s own creation when no lead '
	'is known) to its close.';

--------------------------------------------------------------------------
-- plan_vs_fact
--------------------------------------------------------------------------
CREATE VIEW attribution.plan_vs_fact AS
WITH models AS (
	SELECT DISTINCT d.model FROM attribution.attribution_daily d
),
fact_leads AS (
	SELECT date_trunc('month', l.created_at)::date AS month,
		   coalesce(l.first_channel, '(none)') AS channel,
		   coalesce(l.product_group, '') AS product_group,
		   count(*) AS leads
	  FROM attribution.leads l
	 WHERE l.created_at IS NOT NULL
	 GROUP BY 1, 2, 3
),
fact_revenue AS (
	SELECT date_trunc('month', c.close_date)::date AS month,
		   c.model,
		   c.channel,
		   coalesce(d.product_group, '') AS product_group,
		   c.reporting_currency AS currency,
		   sum(c.revenue_reporting) AS revenue
	  FROM attribution.attribution_credit c
	  LEFT JOIN attribution.deals d
		ON d.source_system = c.deal_source_system AND d.deal_id = c.deal_id
	 GROUP BY 1, 2, 3, 4, 5
),
grid AS (
	SELECT t.month, t.channel, t.product_group FROM attribution.targets t
	UNION
	SELECT f.month, f.channel, f.product_group FROM fact_leads f
	UNION
	SELECT f.month, f.channel, f.product_group FROM fact_revenue f
)
SELECT g.month,
	   m.model,
	   g.channel,
	   g.product_group,
	   t.leads_target,
	   coalesce(fl.leads, 0) AS leads_actual,
	   round(coalesce(fl.leads, 0) / nullif(t.leads_target, 0), 4) AS leads_attainment,
	   t.revenue_target,
	   t.currency AS target_currency,
	   coalesce(fr.revenue, 0) AS revenue_actual,
	   fr.currency AS actual_currency,
	   CASE WHEN fr.currency IS NULL OR t.currency = fr.currency
			THEN round(coalesce(fr.revenue, 0) / nullif(t.revenue_target, 0), 4)
	   END AS revenue_attainment
  FROM grid g
 CROSS JOIN models m
  LEFT JOIN attribution.targets t
	ON t.month = g.month AND t.channel = g.channel AND t.product_group = g.product_group
  LEFT JOIN fact_leads fl
	ON fl.month = g.month AND fl.channel = g.channel AND fl.product_group = g.product_group
  LEFT JOIN fact_revenue fr
	ON fr.month = g.month AND fr.model = m.model AND fr.channel = g.channel
   AND fr.product_group = g.product_group;

COMMENT ON VIEW attribution.plan_vs_fact IS
	'Plan against fact per month, channel and product group, for each attribution model: the '
	'targets people entered in attribution.targets next to the leads created and the revenue '
	'the model credits. Leads do not depend on the model and repeat on each model''s row.';
COMMENT ON COLUMN attribution.plan_vs_fact.month IS 'First day of the month.';
COMMENT ON COLUMN attribution.plan_vs_fact.model IS 'Attribution model of revenue_actual.';
COMMENT ON COLUMN attribution.plan_vs_fact.channel IS 'Channel by the channel grouping rules.';
COMMENT ON COLUMN attribution.plan_vs_fact.product_group IS 'Product group; empty when unknown.';
COMMENT ON COLUMN attribution.plan_vs_fact.leads_target IS 'Planned leads (targets.leads_target).';
COMMENT ON COLUMN attribution.plan_vs_fact.leads_actual IS
	'Leads created in the month whose first touch is in the channel.';
COMMENT ON COLUMN attribution.plan_vs_fact.leads_attainment IS
	'leads_actual / leads_target; NULL without a target.';
COMMENT ON COLUMN attribution.plan_vs_fact.revenue_target IS 'Planned revenue (targets.revenue_target).';
COMMENT ON COLUMN attribution.plan_vs_fact.target_currency IS 'ISO 4217 code of revenue_target.';
COMMENT ON COLUMN attribution.plan_vs_fact.revenue_actual IS
	'Revenue of deals closed in the month that the model credits to the channel, in the '
	'reporting currency.';
COMMENT ON COLUMN attribution.plan_vs_fact.actual_currency IS 'ISO 4217 code of revenue_actual.';
COMMENT ON COLUMN attribution.plan_vs_fact.revenue_attainment IS
	'revenue_actual / revenue_target; NULL without a target or when the currencies differ.';

--------------------------------------------------------------------------
-- email_campaign_revenue
--------------------------------------------------------------------------
-- Open and click rates need the recipients of each send, which
-- email_campaign_stats will carry; until a migration adds that table this
-- view counts opens and clicks from the email touches, so it shows the
-- click-to-open rate but not rates per recipient.
CREATE VIEW attribution.email_campaign_revenue AS
WITH models AS (
	SELECT DISTINCT d.model FROM attribution.attribution_daily d
),
credit AS (
	SELECT c.model,
		   coalesce(c.campaign, '') AS campaign,
		   c.reporting_currency AS currency,
		   sum(c.revenue_reporting) AS attributed_revenue,
		   sum(c.weight) AS attributed_deals,
		   count(DISTINCT (c.deal_source_system, c.deal_id)) AS deals_touched
	  FROM attribution.attribution_credit c
	 WHERE c.channel = 'Email'
	 GROUP BY 1, 2, 3
),
engagement AS (
	SELECT coalesce(t.campaign, '') AS campaign,
		   count(*) FILTER (WHERE t.kind = 'email_open') AS opens,
		   count(*) FILTER (WHERE t.kind = 'email_click') AS clicks,
		   count(DISTINCT t.email) FILTER (WHERE t.kind = 'email_open') AS unique_opens,
		   count(DISTINCT t.email) FILTER (WHERE t.kind = 'email_click') AS unique_clicks
	  FROM attribution.touches t
	 WHERE t.channel = 'Email'
	 GROUP BY 1
),
campaigns AS (
	SELECT c.campaign FROM credit c
	UNION
	SELECT e.campaign FROM engagement e
)
SELECT m.model,
	   k.campaign,
	   coalesce(c.attributed_revenue, 0) AS attributed_revenue,
	   c.currency,
	   coalesce(c.attributed_deals, 0) AS attributed_deals,
	   coalesce(c.deals_touched, 0) AS deals_touched,
	   coalesce(e.opens, 0) AS opens,
	   coalesce(e.clicks, 0) AS clicks,
	   coalesce(e.unique_opens, 0) AS unique_opens,
	   coalesce(e.unique_clicks, 0) AS unique_clicks,
	   round(e.unique_clicks::numeric / nullif(e.unique_opens, 0), 4) AS click_to_open_rate,
	   round(c.attributed_revenue / nullif(e.unique_clicks, 0), 2) AS revenue_per_unique_click
  FROM campaigns k
 CROSS JOIN models m
  LEFT JOIN credit c ON c.campaign = k.campaign AND c.model = m.model
  LEFT JOIN engagement e ON e.campaign = k.campaign;

COMMENT ON VIEW attribution.email_campaign_revenue IS
	'Email campaigns (utm_campaign of the Email channel) by the revenue each attribution model '
	'credits them, next to their opens and clicks counted from the email touches. Rates per '
	'recipient need email_campaign_stats, which a later migration adds.';
COMMENT ON COLUMN attribution.email_campaign_revenue.model IS 'Attribution model.';
COMMENT ON COLUMN attribution.email_campaign_revenue.campaign IS
	'utm_campaign of the email; empty when unknown.';
COMMENT ON COLUMN attribution.email_campaign_revenue.attributed_revenue IS
	'Revenue the model credits to the campaign''s touches, in the reporting currency.';
COMMENT ON COLUMN attribution.email_campaign_revenue.currency IS
	'ISO 4217 code of attributed_revenue; NULL when nothing is credited.';
COMMENT ON COLUMN attribution.email_campaign_revenue.attributed_deals IS
	'Won deals credited to the campaign, fractional by the model''s weights.';
COMMENT ON COLUMN attribution.email_campaign_revenue.deals_touched IS
	'Won deals with a credited touch of the campaign.';
COMMENT ON COLUMN attribution.email_campaign_revenue.opens IS 'Email opens recorded as touches.';
COMMENT ON COLUMN attribution.email_campaign_revenue.clicks IS 'Email clicks recorded as touches.';
COMMENT ON COLUMN attribution.email_campaign_revenue.unique_opens IS 'People who opened.';
COMMENT ON COLUMN attribution.email_campaign_revenue.unique_clicks IS 'People who clicked.';
COMMENT ON COLUMN attribution.email_campaign_revenue.click_to_open_rate IS
	'unique_clicks / unique_opens; NULL without opens.';
COMMENT ON COLUMN attribution.email_campaign_revenue.revenue_per_unique_click IS
	'attributed_revenue / unique_clicks; NULL without clicks.';
