/*
 * transform.h: cl-transform as a library call (DESIGN §4).
 *
 * transform_run reads staging, attributes the deals won in [from, to] with
 * every configured model and writes the output tables and their manifest
 * into <output_dir or staging_dir/out>/<run_id>/. main.c only parses the
 * command line and maps the result to an exit code; tests call this
 * directly.
 */
#ifndef CL_TRANSFORM_H
#define CL_TRANSFORM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "attribute.h"
#include "config.h"
#include "exitcode.h"
#include "models.h"
#include "output.h"
#include "timeutil.h"

typedef struct TransformOptions
{
	const Config *cfg;          /* borrowed */
	const char *config_dir;     /* relative rules_file/rates_file; NULL: cwd */
	const char *run_id;
	ClDate from;
	ClDate to;
	bool dry_run;               /* compute and summarise, write nothing */
	FILE *summary;              /* the run summary goes here; NULL: nowhere */
} TransformOptions;

typedef struct TransformSummary
{
	char output_dir[4096];
	char reporting[4];
	int reporting_exponent;
	int64_t leads;              /* not deleted */
	int64_t leads_created;      /* created in the window */
	int64_t deals;              /* not deleted */
	int64_t conversions;        /* won deals closed in the window */
	int64_t conversions_without_touches;
	int64_t revenue_won;        /* reporting currency, minor units */
	int64_t touches;
	int64_t journey_touches;
	int64_t spend_rows;
	int64_t spend_reporting;    /* reporting currency, minor units */
	int64_t email_campaigns;
	int64_t email_events;
	size_t n_models;
	const char *model_names[MODELS_MAX];    /* static strings */
	ModelTotals models[MODELS_MAX];
	int64_t table_rows[OUT_N_TABLES];
} TransformSummary;

/*
 * transform_run: on failure *err classifies it (CL_ERR_CONFIG 78 for a bad
 * setting or rules file, CL_ERR_DATA 65 for bad staging data or a missing
 * exchange rate, CL_ERR_OUTPUT 73 when the output cannot be written,
 * CL_ERR_INTERNAL 70 for a bug such as credits that do not add up), and
 * no output directory is left behind.
 */
bool transform_run(const TransformOptions *opts, TransformSummary *summary, ClError *err);

/* transform_print_summary writes the end-of-run summary to fp. */
void transform_print_summary(FILE *fp, const TransformOptions *opts, const TransformSummary *s);

/*
 * transform_default_window: the 30 days ending yesterday in time zone tz,
 * as of now. false when the zone is unknown (logged).
 */
bool transform_default_window(const char *tz, ClTime now, ClDate *from, ClDate *to);

#endif
