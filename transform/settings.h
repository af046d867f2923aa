/*
 * settings.h: the configuration keys cl-transform reads, validated once.
 *
 * [pipeline] staging_dir, reporting_currency, timezone, rates_file;
 * [attribution] models, lookback_days, output_dir, pb_first, pb_last,
 * time_decay_half_life_days; [channels] rules_file,
 * defaults. rules_file and rates_file, when relative, are taken from the
 * configuration file's directory; staging_dir and output_dir are used as
 * given, like every other tool does.
 */
#ifndef CL_SETTINGS_H
#define CL_SETTINGS_H

#include <stdbool.h>

#include "config.h"
#include "exitcode.h"
#include "models.h"

typedef struct TransformSettings
{
	const char *staging_dir;    /* borrowed from the Config */
	char *output_root;          /* owned: output_dir or <staging_dir>/out */
	const char *reporting;      /* borrowed */
	int reporting_exponent;
	const char *timezone;       /* borrowed */
	char *rates_file;           /* owned, resolved; NULL when not set */
	char *rules_file;           /* owned, resolved; NULL when not set */
	bool channel_defaults;
	int lookback_days;
	ModelSet models;
	ModelParams params;
} TransformSettings;

/*
 * settings_share parses a share such as "0.4" or "1" (at most 12
 * decimals, between 0 and 1) into units of 10^-12, exactly. false when it
 * is not one.
 */
bool settings_share(const char *s, int64_t *out);

/*
 * settings_load reads and validates the keys; config_dir resolves relative
 * file names (NULL: the working directory). A bad value is CL_ERR_CONFIG,
 * logged with where it was set. Free with settings_free() either way.
 */
bool settings_load(const Config *cfg, const char *config_dir, TransformSettings *s,
				   ClError *err);
void settings_free(TransformSettings *s);

#endif
