/*
 * staging.h: the staging contract between extract and transform (DESIGN §3).
 *
 * Layout: <staging_dir>/<family>/<vendor>/<entity>/<YYYY-MM-DD>/<run_id>.ndjson
 * plus <run_id>.manifest.json. Data is written under a temporary name
 * (".<run_id>.ndjson.tmp"), flushed, fsynced and renamed; the manifest is
 * written the same way, last, and is the commit marker. Readers ignore a data
 * file without a manifest and refuse one whose rows, bytes or sha256 do not
 * match its manifest.
 *
 * Rows are JSON objects generated with yajl's generator (JsonGen), one per
 * line.
 */
#ifndef CL_STAGING_H
#define CL_STAGING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "exitcode.h"
#include "json.h"
#include "timeutil.h"

/* A thin, sticky-failure wrapper over yajl_gen for building one row. */
typedef struct JsonGen JsonGen;

void jgen_key(JsonGen *g, const char *key);
void jgen_string(JsonGen *g, const char *key, const char *value); /* NULL -> null */
void jgen_string_len(JsonGen *g, const char *key, const char *value, size_t len);
void jgen_int(JsonGen *g, const char *key, int64_t value);
void jgen_bool(JsonGen *g, const char *key, bool value);
void jgen_null(JsonGen *g, const char *key);
void jgen_time(JsonGen *g, const char *key, ClTime t);     /* RFC 3339 UTC */
void jgen_date(JsonGen *g, const char *key, ClDate d);     /* YYYY-MM-DD */
void jgen_object_begin(JsonGen *g, const char *key);      /* key NULL inside arrays */
void jgen_object_end(JsonGen *g);
void jgen_array_begin(JsonGen *g, const char *key);
void jgen_array_end(JsonGen *g);
/* Copy a parsed JSON value verbatim (vendor "extra" fields). */
void jgen_value(JsonGen *g, const char *key, const JsonValue *v);

typedef struct StagingWindow
{
	ClDate from;            /* inclusive */
	ClDate to;              /* inclusive */
} StagingWindow;

typedef struct StagingWriter StagingWriter;

/*
 * staging_writer_new prepares writing one entity of one vendor for one run.
 * Nothing is created on disk until the first row. tool is the binary name
 * ("cl-extract-crm"). Returns an ALLOCATED writer; free it with
 * staging_writer_free(), which removes uncommitted temporary files.
 */
StagingWriter *staging_writer_new(const char *staging_dir, const char *family,
								  const char *vendor, const char *entity,
								  const char *run_id, StagingWindow window,
								  const char *tool);
void staging_writer_free(StagingWriter *w);

/*
 * staging_row_begin opens a row object in the partition of date (event date
 * for facts, extraction date for mutable entities) and returns the writer's
 * generator (borrowed), positioned inside the object. Finish with
 * staging_row_end(), which writes the line.
 */
JsonGen *staging_row_begin(StagingWriter *w, ClDate partition);
bool staging_row_end(StagingWriter *w);

/*
 * A mark records the current end of every partition; rewind truncates back
 * to it. The extract engine marks before each page and rewinds when an
 * attempt fails half-way, so a retried page is never written twice.
 */
bool staging_writer_mark(StagingWriter *w);
bool staging_writer_rewind(StagingWriter *w);

int64_t staging_writer_rows(const StagingWriter *w);

/*
 * staging_writer_limit_files caps the data files w keeps open at once
 * (0: the default); idle partitions are closed and reopened as needed.
 * Writers that exist many at a time (one per stream fetched in parallel)
 * keep few.
 */
void staging_writer_limit_files(StagingWriter *w, int max_open);

/*
 * staging_writer_append moves every row of src to the end of dst, the
 * same entity's writer of another run id: partition by partition, in
 * date order, each partition's rows in the order src wrote them. src must
 * be uncommitted; it is left empty (its files removed) and usable. Marks
 * of either writer are not carried over. On an I/O error both writers are
 * failed (they will not commit) and false is returned (logged).
 */
bool staging_writer_append(StagingWriter *dst, StagingWriter *src);

/*
 * staging_writer_commit fsyncs and renames every partition's data file,
 * then writes its manifest (watermark may be NULL). With no rows at all it
 * writes one empty partition on commit_date_if_empty (>= 0) so that a
 * successful extraction of nothing is recorded, or nothing when it is < 0.
 * On failure: logged, *err = CL_ERR_OUTPUT.
 */
bool staging_writer_commit(StagingWriter *w, const char *watermark,
						   ClDate commit_date_if_empty, ClError *err);

/* What a reader knows about the file a row came from. */
typedef struct StagingFile
{
	char family[32];
	char vendor[64];
	char entity[32];
	ClDate date;
	char run_id[64];
	char path[4096];
	int64_t rows;
} StagingFile;

typedef bool (*StagingRowFn)(void *ctx, const JsonValue *row,
							 const StagingFile *file);

/*
 * staging_read reads every committed file of entity under every
 * <family>/<vendor> whose date partition is in [from, to] (pass
 * INT32_MIN/INT32_MAX for all), in a deterministic order: family, vendor,
 * date, run_id. Each file is verified against its manifest while it is
 * read; a mismatch is CL_ERR_DATA naming the file. Files without a
 * manifest are skipped (logged at DEBUG).
 */
bool staging_read(const char *staging_dir, const char *entity, ClDate from,
				  ClDate to, StagingRowFn fn, void *ctx, ClError *err);

/* A run id: "YYYYMMDDTHHMMSSZ-xxxxxx" (UTC time, 6 hex digits of entropy),
 * sortable by start time. buf at least CL_RUN_ID_SIZE bytes. */
#define CL_RUN_ID_SIZE 32
char *staging_new_run_id(char *buf);

/* mkdir -p; false with errno-formatted log on failure. */
bool fs_mkdir_p(const char *path);
/* Write a whole file atomically: temp, fsync, rename, fsync dir. */
bool fs_write_atomic(const char *path, const char *data, size_t len);
/* fsync the directory containing path. */
bool fs_fsync_parent(const char *path);

#endif
