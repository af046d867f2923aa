/*
 * config.h: the INI configuration every binary reads (DESIGN §7).
 *
 * The file is parsed with inih. Every section and key must be declared in
 * the schema (config_schema.c); an unknown section or key, a value of the
 * wrong type or out of range, or a ${VAR} naming an unset environment
 * variable is rejected with file, line and key, and the caller exits 78.
 * Defaults come from the schema, so a key read here always has a value or is
 * explicitly absent.
 *
 * Vendor sections are named <family>.<vendor> ([crm.hubspot]); the schema
 * lists them one by one, so a typo in a section name is caught too.
 */
#ifndef CL_CONFIG_H
#define CL_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

typedef enum ConfigType
{
	CONFIG_STRING,
	CONFIG_INT,
	CONFIG_BOOL,
	CONFIG_DATE,        /* YYYY-MM-DD */
	CONFIG_LIST         /* comma-separated strings */
} ConfigType;

typedef struct ConfigKey
{
	const char *section;
	const char *name;
	ConfigType type;
	const char *default_value;  /* NULL: no default (absent unless set) */
	int64_t min;                /* CONFIG_INT only */
	int64_t max;
	bool secret;                /* value is registered with the log masker */
} ConfigKey;

/* The schema: one entry per key, terminated by an entry with section NULL. */
extern const ConfigKey config_schema[];

typedef struct Config Config;

/*
 * config_load parses path against the schema. On success *out is an
 * ALLOCATED Config that the caller frees with config_free(). On failure it
 * logs file, line, key and the reason, and returns false.
 */
bool config_load(const char *path, Config **out) __attribute__((warn_unused_result));

/* config_load_string parses INI text (for tests); name is used in messages. */
bool config_load_string(const char *text, const char *name, Config **out)
	__attribute__((warn_unused_result));

void config_free(Config *cfg);

/* config_path_default: --config, else $CLOSEDLOOP_CONFIG, else ./closedloop.ini.
 * Returns a borrowed string. */
const char *config_path_default(const char *cli_value);

/* Accessors. Section and key must exist in the schema (a BUG otherwise).
 * Strings are borrowed from cfg, NULL when absent without default. */
const char *config_get(const Config *cfg, const char *section, const char *key);
int64_t config_get_int(const Config *cfg, const char *section, const char *key);
bool config_get_bool(const Config *cfg, const char *section, const char *key);

/* config_has_section: the file had a [section] header. */
bool config_has_section(const Config *cfg, const char *section);

/* config_source: "file:line" where a key was set, or "default"; borrowed. */
const char *config_source(const Config *cfg, const char *section, const char *key);

/*
 * config_expand_env expands ${VAR} in value. Returns an ALLOCATED string the
 * caller frees with free(), or NULL with *missing set to an ALLOCATED copy of
 * the unset variable's name (caller frees) when a variable is not set.
 * "$${" escapes a literal "${".
 */
char *config_expand_env(const char *value, char **missing);

#endif
