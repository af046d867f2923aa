-- peer_load.sql: the SQL peer's load step. The raw staging rows, flattened
-- by cl-bench-flatten into COPY text files in psql's working directory, are
-- \copy-loaded into raw tables as they are (duplicates, deleted rows and
-- unnormalised values included), then indexed and analysed the way a data
-- engineer prepares them for the attribution query (peer_query.sql).
--
-- The raw tables are UNLOGGED: they are rebuilt from staging every night,
-- which is the usual choice for ELT landing tables and the fastest load the
-- peer can have.
\set ON_ERROR_STOP on
SET maintenance_work_mem = '1GB';

DROP SCHEMA IF EXISTS peer CASCADE;
CREATE SCHEMA peer;

CREATE UNLOGGED TABLE peer.raw_lead
(
	lead_id         text,
	source_system   text,
	email           text,
	crm_contact_id  text,
	created_at      timestamptz,
	updated_at      timestamptz,
	lifecycle_stage text,
	product_group   text,
	owner           text,
	is_deleted      boolean,
	run_id          text,
	partition_date  date,
	line            bigint
);

CREATE UNLOGGED TABLE peer.raw_deal
(
	deal_id         text,
	source_system   text,
	name            text,
	amount_minor    bigint,
	currency        text,
	stage           text,
	is_closed       boolean,
	is_won          boolean,
	created_at      timestamptz,
	closed_at       timestamptz,
	updated_at      timestamptz,
	contact_ids     text[],
	product_group   text,
	is_deleted      boolean,
	run_id          text,
	partition_date  date,
	line            bigint
);

CREATE UNLOGGED TABLE peer.raw_touch
(
	touch_id        text,
	source_system   text,
	email           text,
	crm_id          text,
	at              timestamptz,
	kind            text,
	source          text,
	medium          text,
	campaign        text,
	content         text,
	term            text,
	campaign_id     text,
	click_id        text,
	url             text,
	updated_at      timestamptz,
	run_id          text,
	partition_date  date,
	line            bigint
);

CREATE UNLOGGED TABLE peer.raw_spend
(
	date            date,
	platform        text,
	account_id      text,
	campaign_id     text,
	campaign_name   text,
	adgroup_id      text,
	ad_id           text,
	source          text,
	medium          text,
	campaign        text,
	impressions     bigint,
	clicks          bigint,
	cost_minor      bigint,
	currency        text,
	run_id          text,
	partition_date  date,
	line            bigint
);

\copy peer.raw_lead from 'lead.copy'
\copy peer.raw_deal from 'deal.copy'
\copy peer.raw_touch from 'touch.copy'
\copy peer.raw_spend from 'spend.copy'

-- Version lookups (newest per key) and the person joins of the journeys.
CREATE INDEX raw_lead_key ON peer.raw_lead (source_system, lead_id, updated_at DESC);
CREATE INDEX raw_lead_contact ON peer.raw_lead (crm_contact_id);
CREATE INDEX raw_deal_key ON peer.raw_deal (source_system, deal_id, updated_at DESC);
CREATE INDEX raw_deal_closed ON peer.raw_deal (closed_at) WHERE is_won;
CREATE INDEX raw_touch_key ON peer.raw_touch (source_system, touch_id, updated_at DESC);
CREATE INDEX raw_touch_crm ON peer.raw_touch (crm_id, at);
CREATE INDEX raw_touch_email ON peer.raw_touch ((lower(btrim(email))), at);
CREATE INDEX raw_spend_key ON peer.raw_spend (date, platform, campaign_id);

ANALYZE peer.raw_lead;
ANALYZE peer.raw_deal;
ANALYZE peer.raw_touch;
ANALYZE peer.raw_spend;
