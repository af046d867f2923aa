-- 002_attribution: the tables BI tools read, one per transform output file.
--
-- Columns and their order are the contract of docs/DATA_MODEL.md: cl-load
-- copies each <table>.copy file into a temporary table LIKE the target and
-- names these columns in that order. Money is numeric in the currency's
-- own decimals, never float. docs/SCHEMA.md describes the load semantics.
--
-- Window tables (attribution_credit, attribution_daily, spend_daily) have
-- their rows of a load's window deleted and re-inserted, so they are
-- indexed on the window column. Entity tables (leads, deals, touches) are
-- upserted by their primary key.

CREATE SCHEMA IF NOT EXISTS attribution;

COMMENT ON SCHEMA attribution IS
	'closedloop reporting: attributed revenue, daily BI grain and the cleaned entities '
	'every team reads. Written only by cl-load; read through the closedloop_reader role.';

--------------------------------------------------------------------------
-- attribution_credit: one row per (model, won deal, touch of its journey)
--------------------------------------------------------------------------
CREATE TABLE attribution.attribution_credit
(
	model               text        NOT NULL,
	deal_id             text        NOT NULL,
	deal_source_system  text        NOT NULL,
	touch_id            text,
	touch_source_system text,
	lead_id             text,
	touch_at            timestamptz,
	close_date          date        NOT NULL,
	channel             text        NOT NULL,
	source              text,
	medium              text,
	campaign            text,
	touch_position      integer,
	journey_length      integer     NOT NULL,
	weight              numeric     NOT NULL,
	revenue             numeric     NOT NULL,
	currency            text        NOT NULL,
	revenue_reporting   numeric     NOT NULL,
	reporting_currency  text        NOT NULL,
	CONSTRAINT attribution_credit_weight_check CHECK (weight >= 0 AND weight <= 1),
	CONSTRAINT attribution_credit_position_check
		CHECK (touch_position IS NULL OR touch_position BETWEEN 1 AND journey_length),
	CONSTRAINT attribution_credit_journey_check CHECK (journey_length >= 0)
);

CREATE INDEX attribution_credit_close_date_idx
	ON attribution.attribution_credit (close_date);
CREATE INDEX attribution_credit_model_channel_idx
	ON attribution.attribution_credit (model, channel, close_date);
CREATE INDEX attribution_credit_deal_idx
	ON attribution.attribution_credit (deal_source_system, deal_id);

COMMENT ON TABLE attribution.attribution_credit IS
	'Drill-down grain: the credit each attribution model gives each touch of a won deal''s '
	'journey. Per model and deal the weights sum to 1 and the revenue to the deal amount. '
	'Loaded by window on close_date: a load replaces every row of its window.';
COMMENT ON COLUMN attribution.attribution_credit.model IS
	'Attribution model (first_touch, last_touch, linear, position_based, markov, ...).';
COMMENT ON COLUMN attribution.attribution_credit.deal_id IS 'The won deal''s id in its CRM.';
COMMENT ON COLUMN attribution.attribution_credit.deal_source_system IS
	'The CRM the deal comes from (hubspot, salesforce).';
COMMENT ON COLUMN attribution.attribution_credit.touch_id IS
	'The credited touch; NULL for the (none) credit of a deal without touches.';
COMMENT ON COLUMN attribution.attribution_credit.touch_source_system IS
	'The system that recorded the touch; NULL with touch_id.';
COMMENT ON COLUMN attribution.attribution_credit.lead_id IS
	'The lead of the touch''s person, if there is one.';
COMMENT ON COLUMN attribution.attribution_credit.touch_at IS 'When the touch happened.';
COMMENT ON COLUMN attribution.attribution_credit.close_date IS
	'The deal''s close date in the configured time zone; the window column.';
COMMENT ON COLUMN attribution.attribution_credit.channel IS
	'Channel of the touch by the channel grouping rules; (none) for a deal without touches.';
COMMENT ON COLUMN attribution.attribution_credit.source IS 'utm_source of the touch.';
COMMENT ON COLUMN attribution.attribution_credit.medium IS 'utm_medium of the touch.';
COMMENT ON COLUMN attribution.attribution_credit.campaign IS 'utm_campaign of the touch.';
COMMENT ON COLUMN attribution.attribution_credit.touch_position IS
	'1-based position of the touch in the journey; NULL for (none).';
COMMENT ON COLUMN attribution.attribution_credit.journey_length IS
	'Number of touches in the journey; 0 for (none).';
COMMENT ON COLUMN attribution.attribution_credit.weight IS
	'The model''s weight for this touch, 12 decimals; a deal''s weights sum to 1 per model.';
COMMENT ON COLUMN attribution.attribution_credit.revenue IS
	'Credited revenue in the deal currency (largest-remainder rounded to the minor unit).';
COMMENT ON COLUMN attribution.attribution_credit.currency IS 'ISO 4217 code of the deal currency.';
COMMENT ON COLUMN attribution.attribution_credit.revenue_reporting IS
	'Credited revenue converted to the reporting currency.';
COMMENT ON COLUMN attribution.attribution_credit.reporting_currency IS
	'ISO 4217 code of the reporting currency.';

--------------------------------------------------------------------------
-- attribution_daily: the BI grain
--------------------------------------------------------------------------
CREATE TABLE attribution.attribution_daily
(
	date        date    NOT NULL,
	model       text    NOT NULL,
	channel     text    NOT NULL,
	source      text    NOT NULL DEFAULT '',
	medium      text    NOT NULL DEFAULT '',
	campaign    text    NOT NULL DEFAULT '',
	leads       numeric NOT NULL DEFAULT 0,
	deals       numeric NOT NULL DEFAULT 0,
	revenue     numeric NOT NULL DEFAULT 0,
	spend       numeric NOT NULL DEFAULT 0,
	clicks      bigint  NOT NULL DEFAULT 0,
	impressions bigint  NOT NULL DEFAULT 0,
	currency    text    NOT NULL,
	CONSTRAINT attribution_daily_pkey
		PRIMARY KEY (date, model, channel, source, medium, campaign)
);

-- The primary key leads with date, which serves the window replace.
CREATE INDEX attribution_daily_model_channel_idx
	ON attribution.attribution_daily (model, channel, date);

COMMENT ON TABLE attribution.attribution_daily IS
	'BI grain: per day, model, channel, source, medium and campaign, the leads, fractional '
	'won deals, credited revenue, spend, clicks and impressions. CPL, CAC, ROAS and ROI are '
	'computed from it within one model. Loaded by window on date.';
COMMENT ON COLUMN attribution.attribution_daily.date IS
	'Day in the configured time zone: the close date for deals and revenue, the creation '
	'date for leads, the spend date for spend; the window column.';
COMMENT ON COLUMN attribution.attribution_daily.model IS 'Attribution model.';
COMMENT ON COLUMN attribution.attribution_daily.channel IS 'Channel by the channel grouping rules.';
COMMENT ON COLUMN attribution.attribution_daily.source IS 'utm_source; empty when unknown, never NULL.';
COMMENT ON COLUMN attribution.attribution_daily.medium IS 'utm_medium; empty when unknown, never NULL.';
COMMENT ON COLUMN attribution.attribution_daily.campaign IS 'utm_campaign; empty when unknown, never NULL.';
COMMENT ON COLUMN attribution.attribution_daily.leads IS
	'Leads created that day, credited whole to their first touch''s channel, source, medium '
	'and campaign ((none) without a touch).';
COMMENT ON COLUMN attribution.attribution_daily.deals IS
	'Won deals closed that day, fractional by the model''s weights, 12 decimals.';
COMMENT ON COLUMN attribution.attribution_daily.revenue IS
	'Credited revenue in the reporting currency.';
COMMENT ON COLUMN attribution.attribution_daily.spend IS
	'Ad spend in the reporting currency; the same on every model''s row of the grain.';
COMMENT ON COLUMN attribution.attribution_daily.clicks IS
	'Ad clicks; the same on every model''s row of the grain.';
COMMENT ON COLUMN attribution.attribution_daily.impressions IS
	'Ad impressions; the same on every model''s row of the grain.';
COMMENT ON COLUMN attribution.attribution_daily.currency IS
	'ISO 4217 code of the reporting currency of revenue and spend.';

--------------------------------------------------------------------------
-- leads
--------------------------------------------------------------------------
CREATE TABLE attribution.leads
(
	lead_id         text NOT NULL,
	source_system   text NOT NULL,
	email           text,
	crm_contact_id  text,
	created_at      timestamptz,
	updated_at      timestamptz,
	lifecycle_stage text,
	product_group   text,
	owner           text,
	first_channel   text,
	first_source    text,
	first_medium    text,
	first_campaign  text,
	CONSTRAINT leads_pkey PRIMARY KEY (source_system, lead_id)
);

CREATE INDEX leads_created_at_idx ON attribution.leads (created_at);
CREATE INDEX leads_first_channel_idx ON attribution.leads (first_channel, created_at);

COMMENT ON TABLE attribution.leads IS
	'Cleaned leads (newest version of each), with the channel of their first touch. '
	'Upserted by (source_system, lead_id): a load inserts new leads and updates known ones.';
COMMENT ON COLUMN attribution.leads.lead_id IS 'The lead''s id in its CRM.';
COMMENT ON COLUMN attribution.leads.source_system IS 'The CRM the lead comes from.';
COMMENT ON COLUMN attribution.leads.email IS
	'Normalized (trimmed, lower-cased) email, or its hash when the transform hashes emails.';
COMMENT ON COLUMN attribution.leads.crm_contact_id IS 'The CRM contact the lead belongs to.';
COMMENT ON COLUMN attribution.leads.created_at IS 'When the lead was created in the CRM.';
COMMENT ON COLUMN attribution.leads.updated_at IS 'When the CRM last changed the lead.';
COMMENT ON COLUMN attribution.leads.lifecycle_stage IS 'CRM lifecycle stage (lead, mql, sql, ...).';
COMMENT ON COLUMN attribution.leads.product_group IS 'Product group the lead is interested in.';
COMMENT ON COLUMN attribution.leads.owner IS 'The CRM owner (sales rep) of the lead.';
COMMENT ON COLUMN attribution.leads.first_channel IS
	'Channel of the lead''s first touch; (none) without a touch.';
COMMENT ON COLUMN attribution.leads.first_source IS 'utm_source of the first touch.';
COMMENT ON COLUMN attribution.leads.first_medium IS 'utm_medium of the first touch.';
COMMENT ON COLUMN attribution.leads.first_campaign IS 'utm_campaign of the first touch.';

--------------------------------------------------------------------------
-- deals
--------------------------------------------------------------------------
CREATE TABLE attribution.deals
(
	deal_id            text NOT NULL,
	source_system      text NOT NULL,
	name               text,
	amount             numeric,
	currency           text,
	amount_reporting   numeric,
	reporting_currency text,
	stage              text,
	is_closed          boolean,
	is_won             boolean,
	created_at         timestamptz,
	closed_at          timestamptz,
	updated_at         timestamptz,
	product_group      text,
	touches            integer,
	CONSTRAINT deals_pkey PRIMARY KEY (source_system, deal_id)
);

CREATE INDEX deals_closed_at_idx ON attribution.deals (closed_at);
CREATE INDEX deals_created_at_idx ON attribution.deals (created_at);

COMMENT ON TABLE attribution.deals IS
	'Cleaned deals (newest version of each), open and closed. '
	'Upserted by (source_system, deal_id).';
COMMENT ON COLUMN attribution.deals.deal_id IS 'The deal''s id in its CRM.';
COMMENT ON COLUMN attribution.deals.source_system IS 'The CRM the deal comes from.';
COMMENT ON COLUMN attribution.deals.name IS 'Deal name.';
COMMENT ON COLUMN attribution.deals.amount IS 'Deal amount in the deal currency.';
COMMENT ON COLUMN attribution.deals.currency IS 'ISO 4217 code of the deal currency.';
COMMENT ON COLUMN attribution.deals.amount_reporting IS
	'Deal amount converted to the reporting currency.';
COMMENT ON COLUMN attribution.deals.reporting_currency IS 'ISO 4217 code of the reporting currency.';
COMMENT ON COLUMN attribution.deals.stage IS 'CRM pipeline stage.';
COMMENT ON COLUMN attribution.deals.is_closed IS 'The deal is closed (won or lost).';
COMMENT ON COLUMN attribution.deals.is_won IS 'The deal is closed won.';
COMMENT ON COLUMN attribution.deals.created_at IS 'When the deal was created in the CRM.';
COMMENT ON COLUMN attribution.deals.closed_at IS 'When the deal was closed; NULL while open.';
COMMENT ON COLUMN attribution.deals.updated_at IS 'When the CRM last changed the deal.';
COMMENT ON COLUMN attribution.deals.product_group IS 'Product group of the deal.';
COMMENT ON COLUMN attribution.deals.touches IS
	'Length of the won deal''s journey (touches attributed); NULL when not won.';

--------------------------------------------------------------------------
-- touches
--------------------------------------------------------------------------
CREATE TABLE attribution.touches
(
	touch_id      text NOT NULL,
	source_system text NOT NULL,
	email         text,
	crm_id        text,
	at            timestamptz,
	kind          text,
	channel       text,
	source        text,
	medium        text,
	campaign      text,
	content       text,
	term          text,
	campaign_id   text,
	click_id      text,
	url           text,
	CONSTRAINT touches_pkey PRIMARY KEY (source_system, touch_id)
);

CREATE INDEX touches_at_idx ON attribution.touches (at);
CREATE INDEX touches_channel_idx ON attribution.touches (channel, at);

COMMENT ON TABLE attribution.touches IS
	'Cleaned marketing touches (form submissions, ad and email clicks, campaign memberships, '
	'...) with their channel. Upserted by (source_system, touch_id).';
COMMENT ON COLUMN attribution.touches.touch_id IS 'The touch''s id in the system that recorded it.';
COMMENT ON COLUMN attribution.touches.source_system IS
	'The system that recorded the touch (hubspot, salesforce, google_ads, meta, mailchimp).';
COMMENT ON COLUMN attribution.touches.email IS
	'Normalized email of the person, or its hash when the transform hashes emails.';
COMMENT ON COLUMN attribution.touches.crm_id IS 'CRM contact id of the person.';
COMMENT ON COLUMN attribution.touches.at IS 'When the touch happened.';
COMMENT ON COLUMN attribution.touches.kind IS
	'form_submit, ad_click, email_click, email_open, campaign_member, page_view or offline.';
COMMENT ON COLUMN attribution.touches.channel IS 'Channel by the channel grouping rules.';
COMMENT ON COLUMN attribution.touches.source IS 'utm_source.';
COMMENT ON COLUMN attribution.touches.medium IS 'utm_medium.';
COMMENT ON COLUMN attribution.touches.campaign IS 'utm_campaign.';
COMMENT ON COLUMN attribution.touches.content IS 'utm_content.';
COMMENT ON COLUMN attribution.touches.term IS 'utm_term.';
COMMENT ON COLUMN attribution.touches.campaign_id IS 'The ad or email platform''s campaign id.';
COMMENT ON COLUMN attribution.touches.click_id IS 'Ad click id (gclid, fbclid, ...).';
COMMENT ON COLUMN attribution.touches.url IS 'Landing or clicked URL.';

--------------------------------------------------------------------------
-- spend_daily
--------------------------------------------------------------------------
CREATE TABLE attribution.spend_daily
(
	date               date    NOT NULL,
	platform           text    NOT NULL,
	account_id         text,
	campaign_id        text,
	campaign_name      text,
	adgroup_id         text,
	ad_id              text,
	channel            text,
	source             text,
	medium             text,
	campaign           text,
	impressions        bigint,
	clicks             bigint,
	cost               numeric NOT NULL,
	currency           text    NOT NULL,
	cost_reporting     numeric NOT NULL,
	reporting_currency text    NOT NULL
);

CREATE INDEX spend_daily_date_idx ON attribution.spend_daily (date);
CREATE INDEX spend_daily_platform_idx ON attribution.spend_daily (platform, date);
CREATE INDEX spend_daily_channel_idx ON attribution.spend_daily (channel, date);

COMMENT ON TABLE attribution.spend_daily IS
	'Ad spend per day, platform, account, campaign, ad group and ad, with its channel, for '
	'plan-against-fact and spend drill-down. Loaded by window on date.';
COMMENT ON COLUMN attribution.spend_daily.date IS
	'Spend date as the platform reports it; the window column.';
COMMENT ON COLUMN attribution.spend_daily.platform IS 'Ad platform (google_ads, meta).';
COMMENT ON COLUMN attribution.spend_daily.account_id IS 'The platform''s account (customer) id.';
COMMENT ON COLUMN attribution.spend_daily.campaign_id IS 'The platform''s campaign id.';
COMMENT ON COLUMN attribution.spend_daily.campaign_name IS 'The platform''s campaign name.';
COMMENT ON COLUMN attribution.spend_daily.adgroup_id IS 'Ad group (ad set) id, when reported.';
COMMENT ON COLUMN attribution.spend_daily.ad_id IS 'Ad id, when reported.';
COMMENT ON COLUMN attribution.spend_daily.channel IS 'Channel by the channel grouping rules.';
COMMENT ON COLUMN attribution.spend_daily.source IS 'utm_source the campaign''s clicks carry.';
COMMENT ON COLUMN attribution.spend_daily.medium IS 'utm_medium the campaign''s clicks carry.';
COMMENT ON COLUMN attribution.spend_daily.campaign IS 'utm_campaign the campaign''s clicks carry.';
COMMENT ON COLUMN attribution.spend_daily.impressions IS 'Impressions that day.';
COMMENT ON COLUMN attribution.spend_daily.clicks IS 'Clicks that day.';
COMMENT ON COLUMN attribution.spend_daily.cost IS 'Cost in the account currency.';
COMMENT ON COLUMN attribution.spend_daily.currency IS 'ISO 4217 code of the account currency.';
COMMENT ON COLUMN attribution.spend_daily.cost_reporting IS 'Cost converted to the reporting currency.';
COMMENT ON COLUMN attribution.spend_daily.reporting_currency IS
	'ISO 4217 code of the reporting currency.';
