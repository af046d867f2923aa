/*
 * output_select.h: which transform output cl-load loads when --run is not
 * given (DESIGN §7): the newest complete output (its manifest.json exists)
 * whose run id is not recorded in etl.runs as succeeded. Run ids sort by
 * the time their transform started, so "newest" is "greatest name".
 */
#ifndef CL_LOAD_OUTPUT_SELECT_H
#define CL_LOAD_OUTPUT_SELECT_H

#include <stdbool.h>
#include <stddef.h>

#include "exitcode.h"

/*
 * output_list collects the complete outputs under out_dir: subdirectories
 * with a valid run id as name that hold a manifest.json. *names is an
 * ALLOCATED array of ALLOCATED strings, sorted ascending; free it with
 * output_list_free(). A missing out_dir is an empty list (nothing was
 * transformed yet); an unreadable one fails with *err = CL_ERR_CONFIG.
 */
bool output_list(const char *out_dir, char ***names, size_t *count, ClError *err)
	__attribute__((warn_unused_result));

void output_list_free(char **names, size_t count);

/*
 * output_select_newest: the index in candidates (sorted ascending) of the
 * newest one that is not in succeeded (any order), or -1 when every
 * candidate was loaded.
 */
long output_select_newest(const char *const *candidates, size_t ncandidates,
						  const char *const *succeeded, size_t nsucceeded);

#endif
