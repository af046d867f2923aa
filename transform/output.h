/*
 * output.h: the transform's output directory (docs/DATA_MODEL.md).
 *
 * <root>/<run_id>/ receives one <table>.copy file per table, each written
 * under a temporary name and renamed when complete, then manifest.json,
 * written last and atomically: a directory without a manifest is not an
 * output. In a dry run the rows go to /dev/null, so that row counts are
 * still known and nothing is created.
 */
#ifndef CL_OUTPUT_H
#define CL_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "copy_writer.h"
#include "exitcode.h"
#include "models.h"
#include "sha256.h"
#include "timeutil.h"

typedef enum OutputTableId
{
	OUT_ATTRIBUTION_CREDIT = 0,
	OUT_ATTRIBUTION_DAILY,
	OUT_LEADS,
	OUT_DEALS,
	OUT_TOUCHES,
	OUT_SPEND_DAILY,
	OUT_ATTRIBUTION_MODEL_STATS,    /* only with a data-driven model */
	OUT_EMAIL_CAMPAIGN_STATS,
	OUT_N_TABLES
} OutputTableId;

typedef struct OutputFile
{
	int64_t rows;
	char sha256[SHA256_HEX_SIZE];
	bool done;
	bool omitted;           /* not part of this output (output_omit) */
} OutputFile;

typedef struct Output
{
	char *dir;              /* owned: <root>/<run_id> */
	bool dry_run;
	FILE *devnull;          /* owned, dry run only */
	CopyWriter writer;      /* the table being written */
	int current;            /* its OutputTableId, -1 when none */
	OutputFile files[OUT_N_TABLES];
} Output;

/* The table's name ("attribution_credit") and load mode ("window"). */
const char *output_table_name(OutputTableId t);
const char *output_table_load(OutputTableId t);

/*
 * output_open prepares <root>/<run_id> (created unless dry_run). An
 * existing directory with a manifest is refused. CL_ERR_OUTPUT on failure
 * (logged). Free with output_free() either way.
 */
bool output_open(Output *o, const char *root, const char *run_id, bool dry_run, ClError *err);

/* output_begin starts table t and returns its writer (borrowed). */
CopyWriter *output_begin(Output *o, OutputTableId t, ClError *err);

/* output_end commits the current table and records its rows and sha256. */
bool output_end(Output *o, ClError *err);

/*
 * output_omit leaves table t out of this output: no file, no manifest
 * entry. attribution_model_stats is omitted from runs without a
 * data-driven model, which have no statistics to replace.
 */
void output_omit(Output *o, OutputTableId t);

typedef struct ManifestInfo
{
	const char *run_id;
	ClDate from;
	ClDate to;
	const char *reporting_currency;
	const ModelSet *models;
	ClTime created_at;
} ManifestInfo;

/* output_manifest writes manifest.json (every table must be done). */
bool output_manifest(Output *o, const ManifestInfo *info, ClError *err);

/*
 * output_free releases the output. Unless the manifest was written, the
 * files of the run are removed, so that a failed run leaves nothing behind.
 */
void output_free(Output *o, bool committed);

#endif
