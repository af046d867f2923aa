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

#include <pthread.h>
#include <stdatomic.h>
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

struct Output;

/*
 * An OutputFillFn writes table rows from arg to w; false on error (logged,
 * *err set). It returns false early, without logging, once *stop is set.
 */
typedef bool (*OutputFillFn)(const void *arg, CopyWriter *w, const atomic_bool *stop,
							 ClError *err);

/* A table written on a thread of its own (output_start). */
typedef struct OutputJob
{
	struct Output *out;     /* borrowed */
	OutputTableId table;
	OutputFillFn fn;
	const void *arg;        /* borrowed */
	pthread_t thread;
	bool running;           /* the thread is started and not joined */
	bool finished;          /* fn has run and the result below is set */
	bool ok;
	ClError err;
} OutputJob;

typedef struct OutputFile
{
	CopyWriter writer;      /* while the table is being written */
	OutputJob job;          /* with output_start */
	int64_t rows;
	char sha256[SHA256_HEX_SIZE];
	bool open;              /* begun and not ended */
	bool done;
	bool omitted;           /* not part of this output (output_omit) */
} OutputFile;

/*
 * Different tables may be written by different threads at the same time:
 * output_begin/output_end of table t touch only files[t]. Opening,
 * output_manifest and output_free belong to one thread, after the others
 * have finished.
 */
typedef struct Output
{
	char *dir;              /* owned: <root>/<run_id> */
	bool dry_run;
	FILE *devnull;          /* owned, dry run only */
	atomic_bool stop;       /* asks the threads of output_start to give up */
	atomic_bool job_failed; /* one of them failed (and logged why) */
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

/* output_begin starts table t and returns its writer (borrowed until
 * output_end). */
CopyWriter *output_begin(Output *o, OutputTableId t, ClError *err);

/* output_end commits table t and records its rows and sha256. */
bool output_end(Output *o, OutputTableId t, ClError *err);

/*
 * output_start writes table t on a thread of its own: output_begin, fn,
 * output_end, as the caller would. arg must stay valid and unchanged until
 * output_wait or output_free. When no thread can be started, the table is
 * written before output_start returns, which is slower but the same.
 * false on a failure to start (logged).
 */
bool output_start(Output *o, OutputTableId t, OutputFillFn fn, const void *arg, ClError *err);

/* output_job_failed: a table of output_start has failed already; the
 * caller can stop early and learn the error from output_wait. */
bool output_job_failed(const Output *o);

/*
 * output_wait waits for the tables of output_start. false with *err of the
 * first one that failed (each logged its failure).
 */
bool output_wait(Output *o, ClError *err);

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
 * output_free releases the output, first stopping and waiting for the
 * threads of output_start. Unless the manifest was written, the files of
 * the run are removed, so that a failed run leaves nothing behind.
 */
void output_free(Output *o, bool committed);

#endif
