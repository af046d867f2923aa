/*
 * state.h: the extractors' watermarks (DESIGN §6): one small JSON file per
 * (vendor, object) under [pipeline] state_dir, by default
 * <staging_dir>/state:
 *
 *   <state_dir>/<vendor>/<object>.json
 *   {"vendor":"salesforce","object":"Lead","watermark":"2026-11-25T20:00:00Z",
 *    "run_id":"...","written_at":"..."}
 *
 * The watermark is the exclusive upper bound of the last incremental run
 * whose staging files were committed: the next run reads from it. Files are
 * written under a temporary name, fsynced and renamed, so a crash leaves
 * the old watermark or the new one, never a torn file. Vendors write them
 * only from their after_commit hook, so a failed or killed run repeats its
 * window instead of skipping it.
 *
 * The same directory keeps other small secrets a vendor must carry from
 * run to run (a rotated OAuth refresh token): state_write_text.
 */
#ifndef CL_STATE_H
#define CL_STATE_H

#include <stdbool.h>

#include "config.h"
#include "exitcode.h"
#include "timeutil.h"

/*
 * state_dir_path: [pipeline] state_dir, or <staging_dir>/state when it is
 * empty. Returns an ALLOCATED path (caller frees), NULL when out of memory
 * (logged).
 */
char *state_dir_path(const Config *cfg);

/*
 * state_read_watermark reads <dir>/<vendor>/<object>.json. *found is false
 * when there is no file (a first run). A file that exists but cannot be
 * read or parsed is CL_ERR_CONFIG (logged with its path and how to repair
 * it: delete it, or run with --full-refresh).
 */
bool state_read_watermark(const char *dir, const char *vendor, const char *object,
						  bool *found, ClTime *watermark, ClError *err);

/*
 * state_write_watermark replaces <dir>/<vendor>/<object>.json atomically
 * (directories are created as needed). CL_ERR_OUTPUT (logged) on an I/O
 * error; the old file is then untouched.
 */
bool state_write_watermark(const char *dir, const char *vendor, const char *object,
						   ClTime watermark, const char *run_id, ClError *err);

/*
 * state_read_text reads <dir>/<vendor>/<name> (a secret, trailing white
 * space removed). *out is ALLOCATED (caller frees) or NULL when the file
 * does not exist. CL_ERR_CONFIG (logged) when it exists but is unreadable
 * or empty.
 */
bool state_read_text(const char *dir, const char *vendor, const char *name,
					 char **out, ClError *err);

/*
 * state_write_text replaces <dir>/<vendor>/<name> atomically with text and
 * a newline, readable by the owner only. CL_ERR_OUTPUT (logged) on error.
 */
bool state_write_text(const char *dir, const char *vendor, const char *name,
					  const char *text, ClError *err);

#endif
