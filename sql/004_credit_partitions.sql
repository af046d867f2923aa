-- 004_credit_partitions: attribution_credit becomes a table partitioned by
-- month of close_date, its partitions in schema attribution_part.
--
-- Why: attribution_credit is the one big table (models x won deals x
-- touches). Replacing a window row by row maintains three indexes for
-- every row and is several times slower than the COPY itself. Partitioned
-- by month, a load writes the months of its window into fresh tables,
-- builds their indexes in bulk and swaps them in for the old months, all
-- in the load's one transaction (docs/SCHEMA.md). BI tools keep querying
-- attribution.attribution_credit; the partitions are an implementation
-- detail and live in their own schema, out of the tool's table list.
--
-- The partition of a month is named attribution_part.attribution_credit_YYYY_MM
-- and covers [first day, first day of the next month). cl-load creates
-- and replaces them; nothing else should.
--
-- Rows loaded before this migration are moved into their months' partitions.

CREATE SCHEMA IF NOT EXISTS attribution_part;

COMMENT ON SCHEMA attribution_part IS
	'closedloop internals: the monthly partitions of attribution.attribution_credit, written '
	'only by cl-load. Query attribution.attribution_credit instead.';

DROP INDEX attribution.attribution_credit_close_date_idx;
DROP INDEX attribution.attribution_credit_model_channel_idx;
DROP INDEX attribution.attribution_credit_deal_idx;
ALTER TABLE attribution.attribution_credit RENAME TO attribution_credit_unpartitioned;

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
) PARTITION BY RANGE (close_date);

-- Partitioned indexes: each partition has its own, built by cl-load before
-- the partition is attached (attaching then only links them).
CREATE INDEX attribution_credit_close_date_idx
	ON attribution.attribution_credit (close_date);
CREATE INDEX attribution_credit_model_channel_idx
	ON attribution.attribution_credit (model, channel, close_date);
CREATE INDEX attribution_credit_deal_idx
	ON attribution.attribution_credit (deal_source_system, deal_id);

DO $migration$
DECLARE
	m date;
BEGIN
	FOR m IN SELECT DISTINCT date_trunc('month', close_date)::date
			   FROM attribution.attribution_credit_unpartitioned
	LOOP
		EXECUTE format('CREATE TABLE attribution_part.%I PARTITION OF attribution.attribution_credit '
					   'FOR VALUES FROM (%L) TO (%L)',
					   'attribution_credit_' || to_char(m, 'YYYY_MM'), m,
					   (m + interval '1 month')::date);
	END LOOP;
END
$migration$;

INSERT INTO attribution.attribution_credit SELECT * FROM attribution.attribution_credit_unpartitioned;
DROP TABLE attribution.attribution_credit_unpartitioned;

COMMENT ON TABLE attribution.attribution_credit IS
	'Drill-down grain: the credit each attribution model gives each touch of a won deal''s '
	'journey. Per model and deal the weights sum to 1 and the revenue to the deal amount. '
	'Loaded by window on close_date: a load replaces every row of its window. Partitioned by '
	'month of close_date (partitions in schema attribution_part).';
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
	'The deal''s close date in the configured time zone; the window column and partition key.';
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
