-- 005_model_stats_targets: the fitted statistics of the data-driven models
-- (a transform output, docs/DATA_MODEL.md) and the plan that users enter.

--------------------------------------------------------------------------
-- attribution_model_stats: one row per (window, model, channel, statistic)
--------------------------------------------------------------------------
CREATE TABLE attribution.attribution_model_stats
(
	window_from date    NOT NULL,
	window_to   date    NOT NULL,
	model       text    NOT NULL,
	channel     text    NOT NULL,
	statistic   text    NOT NULL,
	value       numeric NOT NULL,
	CONSTRAINT attribution_model_stats_pkey
		PRIMARY KEY (window_from, window_to, model, channel, statistic),
	CONSTRAINT attribution_model_stats_window_check CHECK (window_from <= window_to)
);

COMMENT ON TABLE attribution.attribution_model_stats IS
	'The fitted statistics of the data-driven models (removal effects of markov, Shapley '
	'values, ...) per channel, one set per transform window. Loaded by exact window: a load '
	'replaces the rows whose window_from and window_to equal its own window; fits over other '
	'windows are other facts and are kept.';
COMMENT ON COLUMN attribution.attribution_model_stats.window_from IS
	'First day of the window the model was fitted on (inclusive).';
COMMENT ON COLUMN attribution.attribution_model_stats.window_to IS
	'Last day of the window the model was fitted on (inclusive).';
COMMENT ON COLUMN attribution.attribution_model_stats.model IS 'markov, shapley or fractribution.';
COMMENT ON COLUMN attribution.attribution_model_stats.channel IS 'Channel by the channel grouping rules.';
COMMENT ON COLUMN attribution.attribution_model_stats.statistic IS
	'What value measures: removal_effect, shapley_value, conversion_share, ...';
COMMENT ON COLUMN attribution.attribution_model_stats.value IS 'The statistic''s value, 12 decimals.';

--------------------------------------------------------------------------
-- targets: the plan, entered by people (cl-load never writes it)
--------------------------------------------------------------------------
CREATE TABLE attribution.targets
(
	month           date    NOT NULL,
	channel         text    NOT NULL,
	product_group   text    NOT NULL DEFAULT '',
	leads_target    numeric,
	revenue_target  numeric,
	currency        text,
	note            text,
	updated_at      timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT targets_pkey PRIMARY KEY (month, channel, product_group),
	CONSTRAINT targets_month_check CHECK (month = date_trunc('month', month)::date),
	CONSTRAINT targets_values_check CHECK (leads_target >= 0 AND revenue_target >= 0),
	CONSTRAINT targets_currency_check CHECK ((revenue_target IS NULL) OR (currency IS NOT NULL))
);

COMMENT ON TABLE attribution.targets IS
	'The plan: leads and revenue targets per month, channel and product group, entered by '
	'people (a spreadsheet import, a BI tool''s write-back). cl-load never writes it. '
	'attribution.plan_vs_fact sets it against the loaded facts. Grant INSERT, UPDATE and '
	'DELETE on it to the role of whoever maintains the plan.';
COMMENT ON COLUMN attribution.targets.month IS 'First day of the planned month.';
COMMENT ON COLUMN attribution.targets.channel IS
	'Channel as the channel grouping rules name it (Paid Search, Email, ...).';
COMMENT ON COLUMN attribution.targets.product_group IS
	'Product group as the CRM names it; empty for leads and deals without one.';
COMMENT ON COLUMN attribution.targets.leads_target IS 'Leads planned to be created in the month.';
COMMENT ON COLUMN attribution.targets.revenue_target IS
	'Won revenue planned for the month, in currency (the reporting currency for the view to '
	'compare like with like).';
COMMENT ON COLUMN attribution.targets.currency IS 'ISO 4217 code of revenue_target.';
COMMENT ON COLUMN attribution.targets.note IS 'Free text: the source or reasoning of the figure.';
COMMENT ON COLUMN attribution.targets.updated_at IS 'When the row was entered.';
