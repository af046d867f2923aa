/*
 * settings.c: reading cl-transform's configuration keys.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "money.h"
#include "settings.h"
#include "timeutil.h"
#include "txutil.h"

/*
 * optional_path treats an empty value as unset, so a key can be blanked in an
 * override without deleting it.
 */
static bool
optional_path(const Config *cfg, const char *section, const char *key, const char *config_dir,
			  char **out, ClError *err)
{
	const char *v = config_get(cfg, section, key);

	*out = NULL;
	if (v == NULL || v[0] == '\0')
		return true;
	*out = tx_resolve_path(config_dir, v);
	if (*out == NULL)
	{
		*err = CL_ERR_INTERNAL;
		return false;
	}
	return true;
}

/*
 * settings_load checks the currency and zone here, before any data is read,
 * so a configuration mistake costs seconds, not a whole read of staging.
 */
bool
settings_load(const Config *cfg, const char *config_dir, TransformSettings *s, ClError *err)
{
	const char *output_dir;

	memset(s, 0, sizeof(*s));
	*err = CL_ERR_CONFIG;
	s->staging_dir = config_get(cfg, "pipeline", "staging_dir");
	s->reporting = config_get(cfg, "pipeline", "reporting_currency");
	s->timezone = config_get(cfg, "pipeline", "timezone");
	if (s->staging_dir == NULL || s->staging_dir[0] == '\0')
	{
		log_error("[pipeline] staging_dir is empty (%s)",
				  config_source(cfg, "pipeline", "staging_dir"));
		return false;
	}
	if (s->reporting == NULL || !currency_valid(s->reporting))
	{
		log_error("%s: [pipeline] reporting_currency \"%s\" is not an ISO 4217 code such as USD",
				  config_source(cfg, "pipeline", "reporting_currency"),
				  s->reporting != NULL ? s->reporting : "");
		return false;
	}
	s->reporting_exponent = currency_exponent(s->reporting);
	if (s->timezone == NULL || !time_zone_valid(s->timezone))
	{
		log_error("%s: [pipeline] timezone \"%s\" is not a known IANA time zone such as "
				  "Europe/Berlin", config_source(cfg, "pipeline", "timezone"),
				  s->timezone != NULL ? s->timezone : "");
		return false;
	}
	s->lookback_days = (int) config_get_int(cfg, "attribution", "lookback_days");
	s->channel_defaults = config_get_bool(cfg, "channels", "defaults");
	if (!models_parse(config_get(cfg, "attribution", "models"),
					  config_source(cfg, "attribution", "models"), &s->models, err))
		return false;   /* errors have already been logged */
	if (!optional_path(cfg, "pipeline", "rates_file", config_dir, &s->rates_file, err)
		|| !optional_path(cfg, "channels", "rules_file", config_dir, &s->rules_file, err))
		return false;
	output_dir = config_get(cfg, "attribution", "output_dir");
	if (output_dir != NULL && output_dir[0] != '\0')
		s->output_root = strdup(output_dir);
	else
		s->output_root = tx_resolve_path(s->staging_dir, "out");
	if (s->output_root == NULL)
	{
		log_error("out of memory reading the configuration");
		*err = CL_ERR_INTERNAL;
		return false;
	}
	*err = CL_OK;
	return true;
}

void
settings_free(TransformSettings *s)
{
	free(s->output_root);
	free(s->rates_file);
	free(s->rules_file);
	memset(s, 0, sizeof(*s));
}
