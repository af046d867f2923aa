-- peer_query.sql: the SQL peer's attribution over the raw tables of
-- peer_load.sql, writing one row per (model, won deal, credited touch) into
-- peer.credit, with the columns of attribution.attribution_credit.
--
-- It does what cl-transform does for the rule-based models (DESIGN §4):
--   - keeps the newest version of each (source_system, id) by updated_at
--     (missing first), then run id, partition date and line;
--   - normalises emails, source and medium (trimmed, lower-cased) and
--     campaigns (trimmed), and classifies channels by the default rules;
--   - files each touch under one person: its crm_id when that is a known
--     contact, else its email when that is a live lead's email;
--   - builds each won deal's journey (closed in the window, UTC) from the
--     touches of its contacts (by contact id, or by the email of one of the
--     contact's leads) in [closed_at - lookback, closed_at], each touch once,
--     ordered by (at, touch_id, source_system), with row_number()/count()
--     windows;
--   - weighs it per model in units of 1e-12 split by largest remainder (the
--     earlier touch wins ties), splits the amount by those weights the same
--     way (sum() and row_number() windows), and credits a deal without
--     touches whole to "(none)".
-- Revenue columns assume two-decimal currencies (the generated data is USD).
--
-- It is a script of a few statements, each step a temporary table that is
-- analysed before the next step uses it: written as one statement with
-- CTEs, the planner has no statistics for the deduplicated rows, misjudges
-- the won deals and joins every deal contact to every touch (still running
-- after 15 minutes at 10 million touches). This is the shape a data
-- engineer ends up with.
--
-- psql variables: from, to (YYYY-MM-DD), lookback (days), models (a
-- comma-separated list of first_touch, last_touch, linear, position_based).
\set ON_ERROR_STOP on
SET work_mem = '512MB';
SET temp_buffers = '1GB';

-- Newest version of every lead, normalised.
CREATE TEMP TABLE live_lead AS
SELECT lead_id, source_system, email, crm_contact_id, created_at
FROM (
	SELECT DISTINCT ON (source_system, lead_id)
		lead_id, source_system,
		nullif(lower(btrim(email)), '') AS email,
		nullif(btrim(crm_contact_id), '') AS crm_contact_id,
		created_at,
		coalesce(is_deleted, false) AS is_deleted
	FROM peer.raw_lead
	ORDER BY source_system, lead_id, updated_at DESC NULLS LAST, run_id DESC,
		partition_date DESC, line DESC
) l
WHERE NOT is_deleted;
ANALYZE live_lead;

-- Newest version of every deal; the won ones closed in the window.
CREATE TEMP TABLE deal AS
SELECT DISTINCT ON (source_system, deal_id)
	deal_id, source_system, amount_minor, currency, is_won, closed_at, contact_ids,
	coalesce(is_deleted, false) AS is_deleted
FROM peer.raw_deal
ORDER BY source_system, deal_id, updated_at DESC NULLS LAST, run_id DESC,
	partition_date DESC, line DESC;
ANALYZE deal;

CREATE TEMP TABLE conv AS
SELECT deal_id, source_system AS deal_system, coalesce(amount_minor, 0) AS amount,
	coalesce(currency, 'USD') AS currency, closed_at,
	(closed_at AT TIME ZONE 'UTC')::date AS close_date, contact_ids
FROM deal
WHERE is_won AND NOT is_deleted AND closed_at IS NOT NULL
	AND (closed_at AT TIME ZONE 'UTC')::date BETWEEN :'from'::date AND :'to'::date;
ANALYZE conv;

-- People: known contacts, lead emails, and the lead that stands for each.
CREATE TEMP TABLE contact AS
SELECT crm_contact_id AS contact FROM live_lead WHERE crm_contact_id IS NOT NULL
UNION
SELECT nullif(btrim(c), '') FROM deal, unnest(contact_ids) AS c
WHERE NOT is_deleted AND nullif(btrim(c), '') IS NOT NULL;
ANALYZE contact;

CREATE TEMP TABLE person_lead AS
SELECT DISTINCT ON (crm_contact_id) 'c:' || crm_contact_id AS pkey, lead_id
FROM live_lead WHERE crm_contact_id IS NOT NULL
ORDER BY crm_contact_id, created_at NULLS LAST, source_system, lead_id;
INSERT INTO person_lead
SELECT DISTINCT ON (email) 'e:' || email, lead_id
FROM live_lead WHERE email IS NOT NULL
ORDER BY email, created_at NULLS LAST, source_system, lead_id;
ANALYZE person_lead;

-- Newest version of every touch of the partitions the window reaches,
-- normalised and filed under its person key.
CREATE TEMP TABLE person_touch AS
SELECT t.touch_id, t.source_system, t.at, t.source, t.medium, t.campaign,
	CASE WHEN c.contact IS NOT NULL THEN 'c:' || t.crm_id
		 WHEN l.email IS NOT NULL THEN 'e:' || t.email END AS pkey
FROM (
	SELECT DISTINCT ON (source_system, touch_id)
		touch_id, source_system, at,
		nullif(lower(btrim(email)), '') AS email,
		nullif(btrim(crm_id), '') AS crm_id,
		nullif(lower(btrim(source)), '') AS source,
		nullif(lower(btrim(medium)), '') AS medium,
		nullif(btrim(campaign), '') AS campaign
	FROM peer.raw_touch
	WHERE partition_date BETWEEN :'from'::date - :lookback - 1 AND :'to'::date + 1
	ORDER BY source_system, touch_id, updated_at DESC NULLS LAST, run_id DESC,
		partition_date DESC, line DESC
) t
LEFT JOIN contact c ON c.contact = t.crm_id
LEFT JOIN (SELECT DISTINCT email FROM live_lead WHERE email IS NOT NULL) l
	ON c.contact IS NULL AND l.email = t.email;
ANALYZE person_touch;

-- The person keys of each won deal: its contacts, and their leads' emails.
CREATE TEMP TABLE deal_key AS
SELECT DISTINCT dc.deal_id, dc.deal_system, dc.closed_at, k.pkey
FROM (
	SELECT conv.deal_id, conv.deal_system, conv.closed_at, nullif(btrim(c), '') AS contact
	FROM conv, unnest(conv.contact_ids) AS c
) dc
JOIN (
	SELECT contact, 'c:' || contact AS pkey FROM contact
	UNION ALL
	SELECT crm_contact_id, 'e:' || email FROM live_lead
	WHERE crm_contact_id IS NOT NULL AND email IS NOT NULL
) k ON k.contact = dc.contact;
ANALYZE deal_key;

-- Journeys: each touch once, in order, with its position and the length.
CREATE TEMP TABLE journey AS
SELECT jt.*,
	row_number() OVER (PARTITION BY deal_system, deal_id
					   ORDER BY at, touch_id, source_system) AS pos,
	count(*) OVER (PARTITION BY deal_system, deal_id) AS n
FROM (
	SELECT DISTINCT dk.deal_id, dk.deal_system, pt.touch_id, pt.source_system, pt.at,
		pt.pkey, pt.source, pt.medium, pt.campaign
	FROM deal_key dk
	JOIN person_touch pt ON pt.pkey = dk.pkey
	WHERE pt.at BETWEEN dk.closed_at - make_interval(days => :lookback) AND dk.closed_at
) jt;
ANALYZE journey;

-- Credits.
DROP TABLE IF EXISTS peer.credit;
CREATE TABLE peer.credit AS
WITH
model AS (
	SELECT m FROM unnest(string_to_array(:'models', ',')) AS m
),
weighted AS (
	SELECT 'first_touch' AS model, j.*,
		CASE WHEN pos = 1 THEN 1000000000000 ELSE 0 END AS w
	FROM journey j WHERE 'first_touch' IN (SELECT m FROM model)
	UNION ALL
	SELECT 'last_touch', j.*, CASE WHEN pos = n THEN 1000000000000 ELSE 0 END
	FROM journey j WHERE 'last_touch' IN (SELECT m FROM model)
	UNION ALL
	SELECT 'linear', j.*,
		1000000000000 / n + CASE WHEN pos <= 1000000000000 % n THEN 1 ELSE 0 END
	FROM journey j WHERE 'linear' IN (SELECT m FROM model)
	UNION ALL
	SELECT 'position_based', j.*,
		CASE WHEN n = 1 THEN 1000000000000
			 WHEN n = 2 THEN 500000000000
			 WHEN pos = 1 OR pos = n THEN 400000000000
			 ELSE 200000000000 / (n - 2)
				+ CASE WHEN pos - 1 <= 200000000000 % (n - 2) THEN 1 ELSE 0 END END
	FROM journey j WHERE 'position_based' IN (SELECT m FROM model)
),
split AS (
	SELECT w.*, conv.amount, conv.currency, conv.close_date,
		floor(conv.amount::numeric * w.w / 1000000000000) AS base,
		mod(conv.amount::numeric * w.w, 1000000000000) AS rem
	FROM weighted w
	JOIN conv ON conv.deal_id = w.deal_id AND conv.deal_system = w.deal_system
	WHERE w.w > 0
),
ranked AS (
	SELECT s.*,
		s.amount - sum(s.base) OVER deal_model AS leftover,
		row_number() OVER (PARTITION BY s.model, s.deal_system, s.deal_id
						   ORDER BY s.rem DESC, s.pos) AS rk
	FROM split s
	WINDOW deal_model AS (PARTITION BY s.model, s.deal_system, s.deal_id)
)
SELECT r.model, r.deal_id, r.deal_system AS deal_source_system, r.touch_id,
	r.source_system AS touch_source_system, pl.lead_id, r.at AS touch_at, r.close_date,
	CASE
		WHEN r.medium IN ('email', 'e-mail', 'newsletter') THEN 'Email'
		WHEN r.medium = 'affiliate' THEN 'Affiliates'
		WHEN r.medium IN ('display', 'banner', 'interstitial') THEN 'Display'
		WHEN r.medium IN ('paid_social', 'paidsocial', 'social_paid')
			OR (r.medium IN ('cpc', 'ppc', 'cpm', 'paid', 'paidsearch', 'paid_search', 'sem')
				AND r.source IN ('facebook', 'instagram', 'meta', 'linkedin', 'twitter', 'x',
								 'tiktok', 'vk', 'pinterest', 'reddit', 'snapchat', 'youtube'))
			THEN 'Paid Social'
		WHEN r.medium IN ('cpc', 'ppc', 'cpm', 'paid', 'paidsearch', 'paid_search', 'sem')
			THEN 'Paid Search'
		WHEN r.source IN ('facebook', 'instagram', 'meta', 'linkedin', 'twitter', 'x', 'tiktok',
						  'vk', 'pinterest', 'reddit', 'snapchat', 'youtube')
			AND coalesce(r.medium, '') IN ('social', 'sm', 'referral', 'none', '(none)', '')
			THEN 'Organic Social'
		WHEN r.medium = 'organic' THEN 'Organic Search'
		WHEN r.medium = 'referral' THEN 'Referral'
		WHEN coalesce(r.source, '') IN ('(direct)', '')
			AND coalesce(r.medium, '') IN ('(none)', '(not set)', '') THEN 'Direct'
		ELSE 'Other'
	END AS channel,
	coalesce(r.source, '') AS source, coalesce(r.medium, '') AS medium,
	coalesce(r.campaign, '') AS campaign,
	r.pos::integer AS touch_position, r.n::integer AS journey_length,
	round(r.w::numeric / 1000000000000, 12) AS weight,
	(r.base + CASE WHEN r.rk <= r.leftover THEN 1 ELSE 0 END) / 100.0 AS revenue,
	r.currency,
	(r.base + CASE WHEN r.rk <= r.leftover THEN 1 ELSE 0 END) / 100.0 AS revenue_reporting,
	'USD'::text AS reporting_currency
FROM ranked r
LEFT JOIN person_lead pl ON pl.pkey = r.pkey
UNION ALL
SELECT m.m, c.deal_id, c.deal_system, NULL, NULL, NULL, NULL, c.close_date, '(none)', '', '',
	'', NULL, 0, 1.000000000000, c.amount / 100.0, c.currency, c.amount / 100.0, 'USD'
FROM conv c CROSS JOIN (SELECT m FROM unnest(string_to_array(:'models', ',')) AS m) m
WHERE NOT EXISTS (SELECT 1 FROM journey j
				  WHERE j.deal_id = c.deal_id AND j.deal_system = c.deal_system);
