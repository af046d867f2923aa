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
 * settings_share reads the decimal digits itself: a share must be exact in
 * units of 10^-12, which strtod could not promise.
 */
bool
settings_share(const char *s, int64_t *out)
{
	int64_t units = 0;
	int decimals = -1;
	int digits = 0;

	if (s == NULL)
		return false;
	for (const char *p = s; *p != '\0'; p++)
	{
		if (*p == '.' && decimals < 0)
		{
			decimals = 0;
			continue;
		}
		if (*p < '0' || *p > '9' || digits >= 14)
			return false;
		if (decimals >= 0 && ++decimals > CREDIT_WEIGHT_DIGITS)
			return false;
		units = units * 10 + (*p - '0');
		digits++;
	}
	if (digits == 0)
		return false;
	for (int d = decimals < 0 ? 0 : decimals; d < CREDIT_WEIGHT_DIGITS; d++)
		units *= 10;
	if (units > CREDIT_WEIGHT_SCALE)
		return false;
	*out = units;
	return true;
}

/*
 * load_params: position_based shares must leave a non-negative middle
 * share, or its weights could not sum to 1.
 */
static bool
load_params(const Config *cfg, ModelParams *p)
{
	const char *first = config_get(cfg, "attribution", "pb_first");
	const char *last = config_get(cfg, "attribution", "pb_last");

	p->half_life_days = (int) config_get_int(cfg, "attribution", "time_decay_half_life_days");
	if (!settings_share(first, &p->pb_first))
	{
		log_error("%s: [attribution] pb_first \"%s\" is not a share between 0 and 1 such as 0.4",
				  config_source(cfg, "attribution", "pb_first"), first != NULL ? first : "");
		return false;
	}
	if (!settings_share(last, &p->pb_last))
	{
		log_error("%s: [attribution] pb_last \"%s\" is not a share between 0 and 1 such as 0.4",
				  config_source(cfg, "attribution", "pb_last"), last != NULL ? last : "");
		return false;
	}
	if (p->pb_first + p->pb_last > CREDIT_WEIGHT_SCALE)
	{
		log_error("%s: [attribution] pb_first %s and pb_last %s add up to more than 1",
				  config_source(cfg, "attribution", "pb_first"), first, last);
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
	if (!load_params(cfg, &s->params))
		return false;
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
