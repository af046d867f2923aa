/*
 * load_run.h: what one cl-load invocation does, from connecting to the
 * exit status: migrate, pick the output, verify it, load it (retrying the
 * whole load when the connection drops), record the outcome.
 */
#ifndef CL_LOAD_LOAD_RUN_H
#define CL_LOAD_LOAD_RUN_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "exitcode.h"
#include "pgconn.h"

#define LOAD_PATH_SIZE 4096

typedef struct LoadRunSettings
{
	PgConnSettings db;                  /* strings borrowed from the Config */
	const char *migrations_dir;         /* borrowed */
	const char *reader_role;            /* borrowed */
	int lock_wait_seconds;
	char output_dir[LOAD_PATH_SIZE];    /* resolved: output_dir or <staging_dir>/out */
	char loaded_by[256];                /* "cl-load 0.1.0 on <host>" */
} LoadRunSettings;

typedef struct LoadRequest
{
	const char *run;            /* --run ID, or NULL for "newest not loaded" */
	bool migrate_only;
	bool dry_run;
} LoadRequest;

/*
 * load_settings_from_config fills s from [database], [pipeline] and
 * [attribution]. The strings stay borrowed from cfg: keep cfg alive while
 * s is used. false (logged) with *err = CL_ERR_CONFIG on a bad value.
 */
bool load_settings_from_config(const Config *cfg, LoadRunSettings *s, ClError *err)
	__attribute__((warn_unused_result));

/*
 * load_run does the work of cl-load; on failure everything is logged and
 * *err says which exit code applies. "Nothing to load" is a success.
 */
bool load_run(const LoadRunSettings *s, const LoadRequest *req, ClError *err)
	__attribute__((warn_unused_result));

#endif
