/*
 * output_manifest.h: a transform output, <output_dir>/<run_id>/, as
 * cl-load sees it: manifest.json (docs/DATA_MODEL.md) naming the window and
 * one <table>.copy file per table with its row count and SHA-256.
 *
 * The manifest is validated against the catalog before anything is loaded:
 * every table must be one cl-load knows, loaded the way the catalog says,
 * at most once, from a plain file name inside the output directory.
 */
#ifndef CL_LOAD_OUTPUT_MANIFEST_H
#define CL_LOAD_OUTPUT_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "exitcode.h"
#include "sha256.h"
#include "timeutil.h"

#define MANIFEST_FILE "manifest.json"
#define MANIFEST_MAX_BYTES (1024 * 1024)
#define MANIFEST_MAX_TABLES 16
#define MANIFEST_RUN_ID_SIZE 128    /* run ids are ~24 characters; longer ones are refused */
#define MANIFEST_FILE_SIZE 256

typedef struct ManifestTable
{
	const LoadTable *table;         /* borrowed from load_catalog */
	char file[MANIFEST_FILE_SIZE];  /* plain name inside the output directory */
	int64_t rows;
	char sha256[SHA256_HEX_SIZE];   /* lower-case hex */
} ManifestTable;

typedef struct OutputManifest
{
	char run_id[MANIFEST_RUN_ID_SIZE];
	ClDate window_from;             /* inclusive */
	ClDate window_to;               /* inclusive */
	char reporting_currency[16];    /* "" when the manifest has none */
	ManifestTable tables[MANIFEST_MAX_TABLES];  /* in catalog (load) order */
	size_t table_count;
} OutputManifest;

/*
 * manifest_run_id_valid: a run id is also a directory name and a key in
 * etl.runs: letters, digits, '.', '_', ':' and '-', not starting with '.',
 * shorter than MANIFEST_RUN_ID_SIZE.
 */
bool manifest_run_id_valid(const char *run_id);

/*
 * manifest_parse validates the manifest text (len bytes); origin names it
 * in messages. Errors are logged; the caller exits 65.
 */
bool manifest_parse(const char *text, size_t len, const char *origin, OutputManifest *out)
	__attribute__((warn_unused_result));

/*
 * manifest_load reads <dir>/manifest.json and parses it. When run_id is
 * not NULL the manifest's run_id must equal it (the directory name).
 * On failure *err is CL_ERR_DATA (logged).
 */
bool manifest_load(const char *dir, const char *run_id, OutputManifest *out, ClError *err)
	__attribute__((warn_unused_result));

/*
 * manifest_verify_files hashes every file of m in dir and counts its
 * lines (a COPY text row is one line: newlines inside values are escaped),
 * comparing both with the manifest. A missing file or a mismatch fails
 * with *err = CL_ERR_DATA naming the file. *bytes (may be NULL) receives
 * the total size.
 */
bool manifest_verify_files(const char *dir, const OutputManifest *m, int64_t *bytes,
						   ClError *err)
	__attribute__((warn_unused_result));

/* manifest_find: the entry of table name, or NULL. */
const ManifestTable *manifest_find(const OutputManifest *m, const char *name);

/*
 * manifest_count_rows counts the rows in a chunk of COPY text: call it for
 * each chunk with the same *last (initially '\n'); after the last chunk,
 * add one when *last is not '\n' (a final row without its newline).
 */
int64_t manifest_count_rows(const char *data, size_t len, char *last);

#endif
