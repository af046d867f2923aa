-- 007_email_campaign_stats: email campaigns with their sends, opens and
-- clicks next to the revenue each attribution model credits them (a
-- transform output, docs/DATA_MODEL.md), and email_campaign_revenue with
-- rates per recipient.
--
-- The reader role needs no grant here: 003 set default privileges in schema
-- attribution for the tables and views that this same user creates later.

--------------------------------------------------------------------------
-- email_campaign_stats: one row per (window, platform, campaign, model)
--------------------------------------------------------------------------
CREATE TABLE attribution.email_campaign_stats
(
	window_from           date        NOT NULL,
	window_to             date        NOT NULL,
	platform              text        NOT NULL,
	campaign_id           text        NOT NULL,
	model                 text        NOT NULL,
	name                  text,
	subject               text,
	campaign              text,
	sent_at               timestamptz,
	send_date             date,
	recipients            bigint,
	sends                 bigint,
	opens                 bigint,
	unique_opens          bigint,
	open_rate             numeric,
	clicks                bigint,
	unique_clicks         bigint,
	click_rate            numeric,
	bounces               bigint,
	unsubscribes          bigint,
	counts_source         text        NOT NULL,
	attributed_deals      numeric     NOT NULL,
	attributed_revenue    numeric     NOT NULL,
	revenue_per_recipient numeric,
	reporting_currency    text        NOT NULL,
	CONSTRAINT email_campaign_stats_pkey
		PRIMARY KEY (window_from, window_to, platform, campaign_id, model),
	CONSTRAINT email_campaign_stats_window_check CHECK (window_from <= window_to),
	CONSTRAINT email_campaign_stats_counts_source_check
		CHECK (counts_source IN ('report', 'events'))
);

-- BI tools look a campaign up across windows (its latest row, its history)
CREATE INDEX email_campaign_stats_campaign_idx
	ON attribution.email_campaign_stats (platform, campaign_id, window_to);
-- and list a period's sends
CREATE INDEX email_campaign_stats_send_date_idx
	ON attribution.email_campaign_stats (send_date);

COMMENT ON TABLE attribution.email_campaign_stats IS
	'Email campaigns by the revenue each attribution model credits them, next to their sends, '
	'opens and clicks: one row per campaign and model of one transform window (campaigns sent '
	'in the window and campaigns credited for deals won in it). Attributed = credits of the '
	'campaign''s email_click and email_open touches (touches.campaign_id). Loaded by exact '
	'window: a load replaces the rows whose window_from and window_to equal its own window, '
	'so read one window''s rows; summing overlapping windows counts deals twice.';
COMMENT ON COLUMN attribution.email_campaign_stats.window_from IS
	'First day of the transform window (inclusive).';
COMMENT ON COLUMN attribution.email_campaign_stats.window_to IS
	'Last day of the transform window (inclusive).';
COMMENT ON COLUMN attribution.email_campaign_stats.platform IS 'Email platform (mailchimp).';
COMMENT ON COLUMN attribution.email_campaign_stats.campaign_id IS
	'The platform''s campaign id; touches.campaign_id of its email touches.';
COMMENT ON COLUMN attribution.email_campaign_stats.model IS 'Attribution model.';
COMMENT ON COLUMN attribution.email_campaign_stats.name IS
	'Campaign name; NULL when only credited touches name the campaign.';
COMMENT ON COLUMN attribution.email_campaign_stats.subject IS 'Subject line.';
COMMENT ON COLUMN attribution.email_campaign_stats.campaign IS
	'utm_campaign of the campaign''s links, as in attribution_daily.campaign.';
COMMENT ON COLUMN attribution.email_campaign_stats.sent_at IS 'When the campaign was sent.';
COMMENT ON COLUMN attribution.email_campaign_stats.send_date IS
	'sent_at in the pipeline''s time zone.';
COMMENT ON COLUMN attribution.email_campaign_stats.recipients IS
	'Addresses the campaign was sent to; the base of the rates.';
COMMENT ON COLUMN attribution.email_campaign_stats.sends IS
	'Emails sent, from the platform''s report; NULL when counted from events.';
COMMENT ON COLUMN attribution.email_campaign_stats.opens IS 'Opens, repeated opens included.';
COMMENT ON COLUMN attribution.email_campaign_stats.unique_opens IS 'Addresses that opened.';
COMMENT ON COLUMN attribution.email_campaign_stats.open_rate IS
	'unique_opens / recipients (sends when recipients is unknown), 6 decimals.';
COMMENT ON COLUMN attribution.email_campaign_stats.clicks IS 'Link clicks, repeated clicks included.';
COMMENT ON COLUMN attribution.email_campaign_stats.unique_clicks IS 'Addresses that clicked.';
COMMENT ON COLUMN attribution.email_campaign_stats.click_rate IS
	'unique_clicks / recipients (sends when recipients is unknown), 6 decimals.';
COMMENT ON COLUMN attribution.email_campaign_stats.bounces IS 'Hard and soft bounces.';
COMMENT ON COLUMN attribution.email_campaign_stats.unsubscribes IS
	'Unsubscribes, from the report; NULL when counted from events.';
COMMENT ON COLUMN attribution.email_campaign_stats.counts_source IS
	'report: the platform''s report as of its last extraction (the campaign''s lifetime); '
	'events: counted from the window''s deduplicated email events.';
COMMENT ON COLUMN attribution.email_campaign_stats.attributed_deals IS
	'Won deals of the window credited to the campaign''s touches, fractional by the model''s '
	'weights.';
COMMENT ON COLUMN attribution.email_campaign_stats.attributed_revenue IS
	'Revenue of those credits in reporting_currency; per model it sums to the credits of '
	'email touches in attribution_credit for the window.';
COMMENT ON COLUMN attribution.email_campaign_stats.revenue_per_recipient IS
	'attributed_revenue / recipients (sends when recipients is unknown); NULL without either.';
COMMENT ON COLUMN attribution.email_campaign_stats.reporting_currency IS
	'ISO 4217 code of attributed_revenue and revenue_per_recipient.';

--------------------------------------------------------------------------
-- email_campaign_revenue, redefined with rates per recipient
--------------------------------------------------------------------------
-- The columns of 006 keep their names, types and order (CREATE OR REPLACE
-- VIEW may only add columns at the end), so queries written against it
-- still work. The recipients and the unique opens and clicks per recipient
-- come from each campaign's latest row in email_campaign_stats, summed
-- over the sends of a utm_campaign; a send whose count is unknown is left
-- out of that rate's numerator and denominator alike.
CREATE OR REPLACE VIEW attribution.email_campaign_revenue AS
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
latest_send AS (
	SELECT DISTINCT ON (s.platform, s.campaign_id)
		   coalesce(s.campaign, '') AS campaign, s.recipients, s.unique_opens, s.unique_clicks
	  FROM attribution.email_campaign_stats s
	 WHERE s.recipients IS NOT NULL
	 ORDER BY s.platform, s.campaign_id, s.window_to DESC, s.window_from DESC
),
sends AS (
	SELECT l.campaign,
		   sum(l.recipients) AS recipients,
		   sum(l.unique_opens) AS unique_opens,
		   sum(l.recipients) FILTER (WHERE l.unique_opens IS NOT NULL) AS open_base,
		   sum(l.unique_clicks) AS unique_clicks,
		   sum(l.recipients) FILTER (WHERE l.unique_clicks IS NOT NULL) AS click_base
	  FROM latest_send l
	 GROUP BY 1
),
campaigns AS (
	SELECT c.campaign FROM credit c
	UNION
	SELECT e.campaign FROM engagement e
	UNION
	SELECT s.campaign FROM sends s
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
	   round(c.attributed_revenue / nullif(e.unique_clicks, 0), 2) AS revenue_per_unique_click,
	   s.recipients,
	   round(s.unique_opens::numeric / nullif(s.open_base, 0), 4) AS open_rate,
	   round(s.unique_clicks::numeric / nullif(s.click_base, 0), 4) AS click_rate,
	   round(coalesce(c.attributed_revenue, 0) / nullif(s.recipients, 0), 4) AS revenue_per_recipient
  FROM campaigns k
 CROSS JOIN models m
  LEFT JOIN credit c ON c.campaign = k.campaign AND c.model = m.model
  LEFT JOIN engagement e ON e.campaign = k.campaign
  LEFT JOIN sends s ON s.campaign = k.campaign;

COMMENT ON VIEW attribution.email_campaign_revenue IS
	'Email campaigns (utm_campaign of the Email channel) by the revenue each attribution model '
	'credits them, next to their opens and clicks counted from the email touches and, from '
	'email_campaign_stats, their recipients and the open and click rates per recipient. For '
	'one send (a platform campaign id) read email_campaign_stats.';
COMMENT ON COLUMN attribution.email_campaign_revenue.recipients IS
	'Recipients of the campaign''s sends (each send''s latest email_campaign_stats row); NULL '
	'when no send of the campaign is known.';
COMMENT ON COLUMN attribution.email_campaign_revenue.open_rate IS
	'Unique opens per recipient over the sends whose unique opens are known; NULL without.';
COMMENT ON COLUMN attribution.email_campaign_revenue.click_rate IS
	'Unique clicks per recipient over the sends whose unique clicks are known; NULL without.';
COMMENT ON COLUMN attribution.email_campaign_revenue.revenue_per_recipient IS
	'attributed_revenue / recipients, in currency; NULL without recipients.';
