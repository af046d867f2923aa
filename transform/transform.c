/*
 * transform.c: the transform's steps in order, DESIGN §4: read and dedupe
 * staging, resolve people, classify channels, build journeys, convert
 * currencies, apply the models, aggregate, write.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate.h"
#include "attribute.h"
#include "channels.h"
#include "currency.h"
#include "dataset.h"
#include "email_stats.h"
#include "identity.h"
#include "journeys.h"
#include "localdate.h"
#include "log.h"
#include "money.h"
#include "output.h"
#include "settings.h"
#include "tables.h"
#include "transform.h"
#include "txutil.h"

/* Everything one run owns; released by run_free(). */
typedef struct Run
{
	const TransformOptions *opts;   /* borrowed */
	TransformSettings settings;
	LocalDates local;
	Dataset ds;
	ChannelRules *rules;
	RateTable *rates;
	Converter converter;
	Identity id;
	Journeys journeys;
	LeadFacts leads;
	int64_t *spend_reporting;       /* per spend row */
	Daily daily;
	EmailStats email;               /* email_campaign_stats, collected with the credits */
	Output out;
	bool out_open;
	TableContext touches_tc;        /* the touches table's, read by its thread */
	bool committed;
	ModelTotals totals[MODELS_MAX];
	const char *channel_none;
	ModelFits fits;
	bool has_fits;
} Run;

/*
 * run_free releases in reverse order of creation; every part is NULL-safe, so
 * it serves every failure point.
 */
static void
run_free(Run *r)
{
	if (r->out_open)
		output_free(&r->out, r->committed);
	daily_free(&r->daily);
	email_stats_free(&r->email);
	model_fits_free(&r->fits);
	free(r->spend_reporting);
	lead_facts_free(&r->leads);
	journeys_free(&r->journeys);
	identity_free(&r->id);
	rates_free(r->rates);
	channels_free(r->rules);
	dataset_free(&r->ds);
	localdate_free(&r->local);
	settings_free(&r->settings);
}

/*
 * prepare reads the settings and the rules and rates files before any
 * staging data, so that configuration mistakes fail fast.
 */
static bool
prepare(Run *r, ClError *err)
{
	const TransformOptions *o = r->opts;

	if (o->from > o->to)
	{
		log_error("BUG: transform window ends before it starts");
		*err = CL_ERR_INTERNAL;
		return false;
	}
	if (!settings_load(o->cfg, o->config_dir, &r->settings, err))
		return false;   /* errors have already been logged */
	if (!localdate_init(&r->local, r->settings.timezone))
	{
		*err = CL_ERR_CONFIG;
		return false;
	}
	if (!dataset_init(&r->ds))
	{
		*err = CL_ERR_INTERNAL;
		return false;
	}
	r->channel_none = strpool_intern_cstr(r->ds.pool, CHANNEL_NONE);
	if (r->channel_none == NULL)
	{
		*err = CL_ERR_INTERNAL;
		return false;
	}
	if (!channels_load(r->settings.rules_file, r->settings.channel_defaults, r->ds.pool,
					   &r->rules, err))
		return false;
	if (r->settings.rates_file != NULL && !rates_load(r->settings.rates_file, &r->rates, err))
		return false;
	r->converter.rates = r->rates;
	r->converter.reporting = r->settings.reporting;
	r->converter.reporting_exponent = r->settings.reporting_exponent;
	return true;
}

/* convert_amounts: conversions by close date, spend by spend date. */
static bool
convert_amounts(Run *r, ClError *err)
{
	for (size_t i = 0; i < r->journeys.n; i++)
	{
		Conversion *c = &r->journeys.items[i];

		if (!currency_convert(&r->converter, c->amount_minor, c->currency, c->close_date,
							  &c->amount_reporting, err))
			return false;
	}
	r->spend_reporting = calloc(r->ds.n_spend + 1, sizeof(int64_t));
	if (r->spend_reporting == NULL)
	{
		log_error("out of memory converting spend");
		*err = CL_ERR_INTERNAL;
		return false;
	}
	for (size_t i = 0; i < r->ds.n_spend; i++)
	{
		const Spend *s = &r->ds.spend[i];

		if (s->currency == NULL)
			continue;   /* no cost */
		if (!currency_convert(&r->converter, s->cost_minor, s->currency, s->date,
							  &r->spend_reporting[i], err))
			return false;
	}
	return true;
}

/*
 * fit_models fits the data-driven models once per run, after the amounts
 * are converted (the converting paths carry their revenue), and only when
 * one is configured.
 */
static bool
fit_models(Run *r, ClError *err)
{
	int64_t non_converting = 0;

	if (!models_need_fit(&r->settings.models))
		return true;
	*err = CL_ERR_INTERNAL;
	if (!journeys_fit_paths(&r->ds, &r->id, &r->local, &r->journeys, r->opts->to,
							r->settings.lookback_days, &r->fits.paths, &non_converting))
		return false;   /* errors have already been logged */
	if (!model_fits_run(&r->settings.models, &r->fits, err))
		return false;
	r->has_fits = true;
	return true;
}

/* fill_touches: tables_write_touches as an OutputFillFn. */
static bool
fill_touches(const void *arg, CopyWriter *w, const atomic_bool *stop, ClError *err)
{
	TableContext tc = *(const TableContext *) arg;

	tc.stop = stop;
	return tables_write_touches(&tc, w, err);
}

/*
 * start_output opens the output and starts writing the touches table on a
 * thread of its own. That table is most of the output's bytes and needs
 * nothing but the touches and their channels, which no later step changes,
 * so it is written while the main thread resolves people, attributes and
 * writes the other tables.
 */
static bool
start_output(Run *r, ClError *err)
{
	if (!output_open(&r->out, r->settings.output_root, r->opts->run_id, r->opts->dry_run, err))
		return false;   /* errors have already been logged */
	r->out_open = true;
	r->touches_tc.ds = &r->ds;
	return output_start(&r->out, OUT_TOUCHES, fill_touches, &r->touches_tc, err);
}

/*
 * compute: the error class changes with the step, so each failure maps to the
 * exit code that tells the operator what to fix.
 */
static bool
compute(Run *r, ClError *err)
{
	const TransformOptions *o = r->opts;
	DatasetScope scope = {
		r->settings.staging_dir, o->from, o->to, r->settings.lookback_days, &r->local
	};

	if (!dataset_load(&scope, &r->ds, err))
		return false;   /* errors have already been logged */
	*err = CL_ERR_INTERNAL;
	if (!channels_classify_dataset(r->rules, &r->ds))
		return false;
	if (!start_output(r, err))
		return false;
	*err = CL_ERR_INTERNAL;
	if (!identity_build(&r->ds, &r->id))
		return false;
	*err = CL_ERR_DATA;
	if (!journeys_build(&r->ds, &r->id, &r->local, o->from, o->to, r->settings.lookback_days,
						r->settings.reporting, &r->journeys)
		|| !lead_facts_build(&r->ds, &r->id, &r->local, r->settings.lookback_days, &r->leads))
		return false;
	if (!convert_amounts(r, err))
		return false;
	return fit_models(r, err);
}

/*
 * add_leads_and_spend: the model-independent measures of attribution_daily.
 * A lead counts on its local creation day for its first touch's channel
 * and UTM values, or (none).
 */
static bool
add_leads_and_spend(Run *r, int64_t *leads_created)
{
	const Dataset *ds = &r->ds;

	*leads_created = 0;
	for (size_t i = 0; i < ds->n_leads; i++)
	{
		const Touch *t = r->leads.first[i];
		ClDate d = r->leads.created_date[i];
		DailyKey key = { d, 0, r->channel_none, ds->empty, ds->empty, ds->empty };

		if (ds->leads[i].is_deleted || d < r->opts->from || d > r->opts->to)
			continue;
		if (t != NULL)
		{
			key.channel = t->channel;
			key.source = t->source != NULL ? t->source : ds->empty;
			key.medium = t->medium != NULL ? t->medium : ds->empty;
			key.campaign = t->campaign != NULL ? t->campaign : ds->empty;
		}
		if (!daily_add_leads(&r->daily, &key, 1))
			return false;
		(*leads_created)++;
	}
	for (size_t i = 0; i < ds->n_spend; i++)
	{
		const Spend *s = &ds->spend[i];
		DailyKey key = {
			s->date, 0, s->channel,
			s->source != NULL ? s->source : ds->empty,
			s->medium != NULL ? s->medium : ds->empty,
			s->campaign != NULL ? s->campaign : ds->empty
		};

		if (!daily_add_spend(&r->daily, &key, r->spend_reporting[i], s->clicks, s->impressions))
			return false;
	}
	return true;
}

typedef bool (*TableFn)(const TableContext *tc, CopyWriter *w, ClError *err);

/*
 * write_table stops before the table when the touches thread has failed:
 * that failure is the run's error, and the rest of the work is wasted.
 */
static bool
write_table(Run *r, OutputTableId t, const TableContext *tc, TableFn fn, ClError *err)
{
	CopyWriter *w;

	if (output_job_failed(&r->out))
		return output_wait(&r->out, err);   /* false, with the thread's error */
	w = output_begin(&r->out, t, err);
	if (w == NULL)
		return false;   /* errors have already been logged */
	if (!fn(tc, w, err))
		return false;
	return output_end(&r->out, t, err);
}

/*
 * write_outputs writes attribution_credit first because the daily sums and
 * the email campaigns' credits are collected while its rows stream out.
 */
static bool
write_outputs(Run *r, TransformSummary *s, ClError *err)
{
	const TransformOptions *o = r->opts;
	AttributionRun ar = {
		&r->ds, &r->id, &r->journeys, &r->settings.models, r->settings.reporting,
		r->settings.reporting_exponent, r->channel_none, &r->settings.params,
		r->has_fits ? &r->fits : NULL, email_stats_add_credit, &r->email
	};
	TableContext tc = {
		&r->ds, &r->journeys, &r->leads, &r->converter, &r->local, &r->settings.models,
		r->spend_reporting, r->channel_none, &r->daily, NULL
	};
	ManifestInfo mi = {
		o->run_id, o->from, o->to, r->settings.reporting, &r->settings.models,
		time_now() / CL_USEC_PER_SEC * CL_USEC_PER_SEC
	};
	EmailStatsOut esout = {
		o->from, o->to, &r->settings.models, r->settings.reporting,
		r->settings.reporting_exponent, &r->local
	};
	CopyWriter *w;

	(void) snprintf(s->output_dir, sizeof(s->output_dir), "%s", r->out.dir);
	if (output_job_failed(&r->out))
		return output_wait(&r->out, err);   /* false, with the thread's error */

	daily_init(&r->daily, (uint32_t) r->settings.models.n);
	*err = CL_ERR_DATA;
	if (!email_stats_init(&r->email, &r->ds, &r->local, o->from, o->to,
						  (uint32_t) r->settings.models.n))
		return false;   /* errors have already been logged */
	w = output_begin(&r->out, OUT_ATTRIBUTION_CREDIT, err);
	if (w == NULL || !attribute_run(&ar, w, &r->daily, r->totals, err)
		|| !output_end(&r->out, OUT_ATTRIBUTION_CREDIT, err))
		return false;
	*err = CL_ERR_INTERNAL;
	if (!add_leads_and_spend(r, &s->leads_created))
		return false;
	daily_sort(&r->daily);
	if (!write_table(r, OUT_ATTRIBUTION_DAILY, &tc, tables_write_daily, err)
		|| !write_table(r, OUT_LEADS, &tc, tables_write_leads, err)
		|| !write_table(r, OUT_DEALS, &tc, tables_write_deals, err)
		|| !write_table(r, OUT_SPEND_DAILY, &tc, tables_write_spend, err))
		return false;
	if (r->has_fits)
	{
		w = output_begin(&r->out, OUT_ATTRIBUTION_MODEL_STATS, err);
		if (w == NULL)
			return false;
		model_fits_write_stats(&r->settings.models, &r->fits, o->from, o->to, w);
		if (!output_end(&r->out, OUT_ATTRIBUTION_MODEL_STATS, err))
			return false;
	}
	else
		output_omit(&r->out, OUT_ATTRIBUTION_MODEL_STATS);
	*err = CL_ERR_INTERNAL;
	if (!email_stats_finish(&r->email))
		return false;
	w = output_begin(&r->out, OUT_EMAIL_CAMPAIGN_STATS, err);
	if (w == NULL)
		return false;
	*err = CL_ERR_DATA;
	if (!email_stats_write(&r->email, &esout, w))
		return false;
	if (!output_end(&r->out, OUT_EMAIL_CAMPAIGN_STATS, err))
		return false;
	if (!output_wait(&r->out, err))
		return false;   /* the touches thread's error, logged there */
	if (!output_manifest(&r->out, &mi, err))
		return false;
	r->committed = !o->dry_run;
	return true;
}

/*
 * fill_summary copies totals out of the run, which is freed before the
 * caller reads them.
 */
static void
fill_summary(const Run *r, TransformSummary *s)
{
	const Dataset *ds = &r->ds;

	(void) snprintf(s->reporting, sizeof(s->reporting), "%s", r->settings.reporting);
	s->reporting_exponent = r->settings.reporting_exponent;
	for (size_t i = 0; i < ds->n_leads; i++)
		s->leads += !ds->leads[i].is_deleted;
	for (size_t i = 0; i < ds->n_deals; i++)
		s->deals += !ds->deals[i].is_deleted;
	s->conversions = (int64_t) r->journeys.n;
	s->conversions_without_touches = r->journeys.without_touches;
	for (size_t i = 0; i < r->journeys.n; i++)
		s->revenue_won += r->journeys.items[i].amount_reporting;
	s->touches = (int64_t) ds->n_touches;
	s->journey_touches = (int64_t) r->journeys.n_touches;
	s->spend_rows = (int64_t) ds->n_spend;
	for (size_t i = 0; i < ds->n_spend; i++)
		s->spend_reporting += r->spend_reporting[i];
	s->email_campaigns = (int64_t) ds->n_email_campaigns;
	s->email_events = (int64_t) ds->n_email_events;
	s->n_models = r->settings.models.n;
	for (size_t m = 0; m < s->n_models; m++)
	{
		s->model_names[m] = r->settings.models.models[m]->name;
		s->models[m] = r->totals[m];
	}
	for (int t = 0; t < OUT_N_TABLES; t++)
		s->table_rows[t] = r->out.files[t].rows;
}

/*
 * first_error: the main thread failed; when the touches thread had failed
 * before it (both have logged), its error is the run's. A thread still
 * running is stopped by output_free and its giving up does not count; only
 * a failure of its own in the instant since the main thread's could be
 * taken for the first.
 */
static void
first_error(Run *r, ClError *err)
{
	if (r->out_open && output_job_failed(&r->out))
		(void) output_wait(&r->out, err);
}

/*
 * transform_run prints the summary only after every check passed, so a
 * printed summary always describes a consistent output.
 */
bool
transform_run(const TransformOptions *opts, TransformSummary *summary, ClError *err)
{
	Run *r = calloc(1, sizeof(Run));
	char from[CL_DATE_BUFSIZE];
	char to[CL_DATE_BUFSIZE];
	bool ok = false;

	memset(summary, 0, sizeof(*summary));
	*err = CL_ERR_INTERNAL;
	if (r == NULL)
	{
		log_error("out of memory starting the transform");
		return false;
	}
	r->opts = opts;
	log_info("transform %s: window %s .. %s%s", opts->run_id, date_format(opts->from, from),
			 date_format(opts->to, to), opts->dry_run ? " (dry run)" : "");
	if (!prepare(r, err) || !compute(r, err) || !write_outputs(r, summary, err))
	{
		first_error(r, err);
		goto cleanup;   /* errors have already been logged */
	}
	fill_summary(r, summary);
	if (opts->summary != NULL)
		transform_print_summary(opts->summary, opts, summary);
	*err = CL_OK;
	ok = true;

cleanup:
	run_free(r);
	free(r);
	return ok;
}

/*
 * transform_print_summary writes to the data stream (stdout), not the log:
 * it is the run's result, and logs may be JSON.
 */
void
transform_print_summary(FILE *fp, const TransformOptions *opts, const TransformSummary *s)
{
	char from[CL_DATE_BUFSIZE];
	char to[CL_DATE_BUFSIZE];
	char money[CL_MONEY_BUFSIZE];
	int e = s->reporting_exponent;

	fprintf(fp, "cl-transform %s: window %s .. %s%s\n", opts->run_id,
			date_format(opts->from, from), date_format(opts->to, to),
			opts->dry_run ? " (dry run: nothing written)" : "");
	if (!opts->dry_run)
		fprintf(fp, "  output      %s\n", s->output_dir);
	fprintf(fp, "  leads       %" PRId64 " (%" PRId64 " created in the window)\n", s->leads,
			s->leads_created);
	fprintf(fp, "  deals       %" PRId64 " (%" PRId64 " won in the window, %" PRId64
			" of them without touches)\n", s->deals, s->conversions,
			s->conversions_without_touches);
	fprintf(fp, "  revenue     %s %s won in the window\n", money_format(s->revenue_won, e, money),
			s->reporting);
	fprintf(fp, "  touches     %" PRId64 " (%" PRId64 " in %" PRId64 " journeys)\n", s->touches,
			s->journey_touches, s->conversions - s->conversions_without_touches);
	fprintf(fp, "  spend       %s %s in %" PRId64 " rows\n",
			money_format(s->spend_reporting, e, money), s->reporting, s->spend_rows);
	fprintf(fp, "  email       %" PRId64 " campaigns, %" PRId64 " events in the window\n",
			s->email_campaigns, s->email_events);
	fprintf(fp, "  %-18s %18s %22s %12s\n", "model", "revenue", "deals", "credit rows");
	for (size_t m = 0; m < s->n_models; m++)
	{
		const ModelTotals *t = &s->models[m];

		fprintf(fp, "  %-18s %18s %8" PRId64 ".%012" PRId64 " %12" PRId64 "\n",
				s->model_names[m], money_format(t->revenue_reporting, e, money),
				t->deals / CREDIT_WEIGHT_SCALE, t->deals % CREDIT_WEIGHT_SCALE, t->rows);
	}
	fprintf(fp, "  every model credits exactly the revenue won\n");
	fprintf(fp, "  tables     ");
	for (int t = 0; t < OUT_N_TABLES; t++)
	{
		if (t == OUT_ATTRIBUTION_MODEL_STATS && s->table_rows[t] == 0)
			continue;   /* omitted from runs without a data-driven model */
		fprintf(fp, "%s %s %" PRId64, t > 0 ? "," : "", output_table_name((OutputTableId) t),
				s->table_rows[t]);
	}
	fprintf(fp, "\n");
}

/*
 * transform_default_window ends yesterday because today's data is still
 * arriving.
 */
bool
transform_default_window(const char *tz, ClTime now, ClDate *from, ClDate *to)
{
	ClDate today;

	if (tz == NULL || !time_local_date(now, tz, &today))
	{
		log_error("unknown time zone \"%s\" in [pipeline] timezone; use an IANA name such as "
				  "Europe/Berlin", tz != NULL ? tz : "");
		return false;
	}
	*to = today - 1;
	*from = *to - 29;
	return true;
}
