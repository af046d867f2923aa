/*
 * config.c: load the INI configuration against the schema (config_schema.c).
 *
 * inih splits lines into section, key and value. It is fed through our own
 * line reader because the packaged inih calls its handler without a line
 * number, does not report section headers, treats indented lines as
 * continuations and splits lines longer than its fixed buffer; the reader
 * counts lines, checks section headers, removes comments and leading
 * indentation, and rejects what inih would silently misread.
 *
 * Loading is two passes: the parse records each key's raw text and line;
 * then values are expanded (${VAR}), type-checked and defaulted. The
 * "enabled" keys are resolved first so that a disabled vendor's unset
 * credentials variables are not an error.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "log.h"
#include "timeutil.h"

/* A configuration file is a few kilobytes; a huge one is a mistake (a data
 * file passed to --config). */
#define CONFIG_MAX_BYTES (1024 * 1024)

#define CONFIG_DEFAULT_PATH "./closedloop.ini"

typedef struct ConfigValue
{
	char *raw;              /* owned: text from the file, until expanded */
	char *value;            /* owned: expanded and normalised; NULL = absent */
	int line;               /* 0: not set in the file */
	char *source;           /* owned: "file:line"; NULL = default */
	int64_t ival;
	bool bval;
} ConfigValue;

typedef struct ConfigSection
{
	const char *name;       /* borrowed from config_schema */
	int line;
} ConfigSection;

struct Config
{
	char *name;             /* owned: file name used in messages */
	size_t nkeys;
	ConfigValue *values;    /* owned: one per config_schema entry */
	size_t nsections;
	ConfigSection *sections; /* owned: the [section] headers seen */
};

/* State of one parse, shared by the line reader and the inih handler. */
typedef struct ParseCtx
{
	Config *cfg;
	const char *text;
	size_t len;
	size_t pos;
	int lineno;             /* the line last handed to inih */
	bool section_ok;        /* keys of the current section are checked */
	int errors;
} ParseCtx;


/*
 * config_error logs one configuration error in the shape
 * "<file>:<line>: [section] key: reason". line 0 omits the line, a NULL
 * section or key omits that part.
 */
static void config_error(const char *file, int line, const char *section,
						 const char *key, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void
config_error(const char *file, int line, const char *section, const char *key,
			 const char *fmt, ...)
{
	char reason[1024];
	char where[512];
	va_list ap;

	va_start(ap, fmt);
	(void) vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);

	if (line > 0)
		(void) snprintf(where, sizeof(where), "%s:%d:", file, line);
	else
		(void) snprintf(where, sizeof(where), "%s:", file);

	if (section != NULL && key != NULL)
		log_error("%s [%s] %s: %s", where, section, key, reason);
	else if (section != NULL)
		log_error("%s [%s]: %s", where, section, reason);
	else if (key != NULL)
		log_error("%s %s: %s", where, key, reason);
	else
		log_error("%s %s", where, reason);
}


/* schema_find returns the schema index of section/key, or -1. */
static int
schema_find(const char *section, const char *key)
{
	for (int i = 0; config_schema[i].section != NULL; i++)
	{
		if (strcmp(config_schema[i].section, section) == 0 &&
			strcmp(config_schema[i].name, key) == 0)
			return i;
	}
	return -1;
}


/* schema_section returns the schema's own copy of a section name, or NULL
 * when the schema has no such section. */
static const char *
schema_section(const char *section)
{
	for (int i = 0; config_schema[i].section != NULL; i++)
	{
		if (strcmp(config_schema[i].section, section) == 0)
			return config_schema[i].section;
	}
	return NULL;
}


static size_t
schema_count(void)
{
	size_t n = 0;

	while (config_schema[n].section != NULL)
		n++;
	return n;
}


/*
 * list_append adds ", item" (or "item" first) to a fixed buffer; a list
 * that does not fit ends in "..." rather than failing, since it only feeds
 * a hint in an error message.
 */
static void
list_append(char *buf, size_t size, const char *item)
{
	size_t len = strlen(buf);
	int n;

	if (len + 4 >= size)
		return;
	n = snprintf(buf + len, size - len, "%s%s", len > 0 ? ", " : "", item);
	if (n < 0 || (size_t) n >= size - len)
		(void) snprintf(buf + size - 4, 4, "...");
}


/* known_sections lists the schema's sections, for "unknown section". */
static void
known_sections(char *buf, size_t size)
{
	buf[0] = '\0';
	for (int i = 0; config_schema[i].section != NULL; i++)
	{
		if (i == 0 || strcmp(config_schema[i - 1].section, config_schema[i].section) != 0)
			list_append(buf, size, config_schema[i].section);
	}
}


/* known_keys lists the keys of one section, for "unknown key". */
static void
known_keys(const char *section, char *buf, size_t size)
{
	buf[0] = '\0';
	for (int i = 0; config_schema[i].section != NULL; i++)
	{
		if (strcmp(config_schema[i].section, section) == 0)
			list_append(buf, size, config_schema[i].name);
	}
}


/*
 * strip_inline_comment cuts line at the first ';' that follows a space or
 * tab, then trims the spaces before it. "a;b" is a value, "a ;b" is "a"
 * with a comment, as in inih and Python's configparser.
 */
static void
strip_inline_comment(char *line)
{
	for (char *p = line + 1; *p != '\0'; p++)
	{
		if (*p == ';' && (p[-1] == ' ' || p[-1] == '\t'))
		{
			*p = '\0';
			break;
		}
	}
}


static void
rtrim(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && isspace((unsigned char) s[n - 1]))
		s[--n] = '\0';
}


/*
 * check_section_header validates a "[name]" line, records the section and
 * rewrites the line as "[name]" for inih. Returns false (after logging)
 * when the header is malformed, unknown or repeated.
 */
static bool
check_section_header(ParseCtx *ctx, char *line, size_t linesize)
{
	Config *cfg = ctx->cfg;
	char name[128];
	char *close = strchr(line, ']');
	char *start = line + 1;
	const char *known;
	size_t n;

	if (close == NULL)
	{
		config_error(cfg->name, ctx->lineno, NULL, NULL,
					 "section header without a closing ']'; write [section]");
		return false;
	}
	if (close[1] != '\0')
	{
		config_error(cfg->name, ctx->lineno, NULL, NULL,
					 "unexpected text after the section header; put comments on their own line or after ' ;'");
		return false;
	}
	while (*start == ' ' || *start == '\t')
		start++;
	n = (size_t) (close - start);
	while (n > 0 && (start[n - 1] == ' ' || start[n - 1] == '\t'))
		n--;
	if (n >= sizeof(name))
		n = sizeof(name) - 1;
	memcpy(name, start, n);
	name[n] = '\0';

	known = schema_section(name);
	if (known == NULL)
	{
		char list[1024];

		known_sections(list, sizeof(list));
		config_error(cfg->name, ctx->lineno, name, NULL,
					 "unknown section; the sections are: %s", list);
		return false;
	}
	for (size_t i = 0; i < cfg->nsections; i++)
	{
		if (strcmp(cfg->sections[i].name, known) == 0)
		{
			config_error(cfg->name, ctx->lineno, known, NULL,
						 "duplicate section (first at line %d); merge the two into one",
						 cfg->sections[i].line);
			return false;
		}
	}
	cfg->sections[cfg->nsections].name = known;
	cfg->sections[cfg->nsections].line = ctx->lineno;
	cfg->nsections++;

	(void) snprintf(line, linesize, "[%s]", known);
	return true;
}


/*
 * config_reader hands inih one line at a time, fgets-style (buffer str of
 * num bytes). Comment lines become empty lines, so inih's line count and
 * ours stay equal. A line inih would misread is reported here and replaced
 * by an empty line.
 */
static char *
config_reader(char *str, int num, void *stream)
{
	ParseCtx *ctx = stream;
	Config *cfg = ctx->cfg;
	const char *begin;
	const char *eol;
	char *line = NULL;
	char *p;
	size_t n;
	size_t linesize;
	bool ok = true;

	if (ctx->pos >= ctx->len || num < 3)
		return NULL;

	begin = ctx->text + ctx->pos;
	eol = memchr(begin, '\n', ctx->len - ctx->pos);
	n = eol == NULL ? ctx->len - ctx->pos : (size_t) (eol - begin);
	ctx->pos += n + (eol == NULL ? 0 : 1);
	ctx->lineno++;

	/* Room for a rewritten section header ("[]") even when the line is
	 * just "[". */
	linesize = n + 3;
	line = malloc(linesize);
	if (line == NULL)
	{
		config_error(cfg->name, ctx->lineno, NULL, NULL, "out of memory");
		ctx->errors++;
		return NULL;
	}
	memcpy(line, begin, n);
	line[n] = '\0';
	if (memchr(line, '\0', n) != NULL)
	{
		config_error(cfg->name, ctx->lineno, NULL, NULL,
					 "NUL byte in the file; is this really a configuration file?");
		ok = false;
		goto emit;
	}

	/* Leading indentation is dropped: inih would take an indented line for
	 * the continuation of the previous value. */
	p = line;
	if (ctx->lineno == 1 && strncmp(p, "\xEF\xBB\xBF", 3) == 0)
		p += 3;
	while (*p == ' ' || *p == '\t')
		p++;
	memmove(line, p, strlen(p) + 1);
	rtrim(line);

	if (line[0] == '\0' || line[0] == ';' || line[0] == '#')
	{
		line[0] = '\0';
		goto emit;
	}
	strip_inline_comment(line);
	rtrim(line);

	if (line[0] == '[')
	{
		ok = check_section_header(ctx, line, linesize);
		ctx->section_ok = ok;
		if (!ok)
		{
			/* Keys up to the next header belong to a section that was
			 * already reported; keep them from inih's previous section. */
			(void) snprintf(line, linesize, "[%s]", "");
		}
		goto emit;
	}
	if (strpbrk(line, "=:") == NULL)
	{
		config_error(cfg->name, ctx->lineno, NULL, NULL,
					 "expected 'key = value', a [section] header or a comment");
		ok = false;
		goto emit;
	}
	if (strlen(line) + 2 > (size_t) num)
	{
		config_error(cfg->name, ctx->lineno, NULL, NULL,
					 "line is longer than %d characters, which the INI parser cannot read; "
					 "shorten it or move the value into an environment variable and write ${VAR}",
					 num - 2);
		ok = false;
		goto emit;
	}

emit:
	if (!ok)
	{
		ctx->errors++;
		line[0] = '\0';
	}
	(void) snprintf(str, (size_t) num, "%s\n", line);
	free(line);
	return str;
}


/*
 * config_handler is inih's callback for each key = value. It always
 * returns 1: errors are counted and logged here with our line numbers.
 */
static int
config_handler(void *user, const char *section, const char *name,
			   const char *value)
{
	ParseCtx *ctx = user;
	Config *cfg = ctx->cfg;
	ConfigValue *v;
	int idx;

	if (section[0] == '\0')
	{
		/* Either no header yet, or the last header was rejected. */
		if (ctx->section_ok)
		{
			config_error(cfg->name, ctx->lineno, NULL, name,
						 "key outside any section; put it under its [section] header");
			ctx->errors++;
		}
		return 1;
	}
	if (!ctx->section_ok)
		return 1;

	idx = schema_find(section, name);
	if (idx < 0)
	{
		char list[1024];

		known_keys(section, list, sizeof(list));
		config_error(cfg->name, ctx->lineno, section, name,
					 "unknown key; the keys of [%s] are: %s", section, list);
		ctx->errors++;
		return 1;
	}

	v = &cfg->values[idx];
	if (v->line != 0)
	{
		config_error(cfg->name, ctx->lineno, section, name,
					 "duplicate key (first set at line %d); keep only one", v->line);
		ctx->errors++;
		return 1;
	}
	v->line = ctx->lineno;
	v->raw = strdup(value == NULL ? "" : value);
	if (v->raw == NULL)
	{
		config_error(cfg->name, ctx->lineno, section, name, "out of memory");
		ctx->errors++;
	}
	return 1;
}


/* is_env_name_char: the characters of a ${VAR} name (POSIX shell names). */
static bool
is_env_name_char(char c, bool first)
{
	if (c == '_' || isalpha((unsigned char) c))
		return true;
	return !first && isdigit((unsigned char) c);
}


/*
 * config_expand_env expands ${VAR} references. Returns an ALLOCATED string
 * (caller frees with free()). Returns NULL with *missing set to an
 * ALLOCATED variable name (caller frees) when a variable is unset, or NULL
 * with *missing NULL when a reference is malformed ("${", "${}", "${A B}")
 * or memory ran out.
 */
char *
config_expand_env(const char *value, char **missing)
{
	char *out = NULL;
	size_t cap;
	size_t len = 0;
	size_t i = 0;

	if (missing != NULL)
		*missing = NULL;
	if (value == NULL)
		return NULL;

	cap = strlen(value) + 1;
	out = malloc(cap);
	if (out == NULL)
		return NULL;

	while (value[i] != '\0')
	{
		const char *piece = value + i;
		size_t piece_len = 1;
		size_t advance = 1;

		if (value[i] == '$' && value[i + 1] == '$' && value[i + 2] == '{')
		{
			piece = "${";
			piece_len = 2;
			advance = 3;
		}
		else if (value[i] == '$' && value[i + 1] == '{')
		{
			size_t start = i + 2;
			size_t end = start;
			char name[256];
			const char *env;

			while (value[end] != '\0' && value[end] != '}')
			{
				if (!is_env_name_char(value[end], end == start))
					goto malformed;
				end++;
			}
			if (value[end] != '}' || end == start || end - start >= sizeof(name))
				goto malformed;
			memcpy(name, value + start, end - start);
			name[end - start] = '\0';

			env = getenv(name);
			if (env == NULL)
			{
				if (missing != NULL)
					*missing = strdup(name);
				free(out);
				return NULL;
			}
			piece = env;
			piece_len = strlen(env);
			advance = end + 1 - i;
		}

		if (len + piece_len + 1 > cap)
		{
			size_t newcap = (len + piece_len + 1) * 2;
			char *grown = realloc(out, newcap);

			if (grown == NULL)
			{
				free(out);
				return NULL;
			}
			out = grown;
			cap = newcap;
		}
		memcpy(out + len, piece, piece_len);
		len += piece_len;
		i += advance;
	}
	out[len] = '\0';
	return out;

malformed:
	free(out);
	return NULL;
}


/* parse_bool accepts true/false, yes/no, on/off, 1/0 in any case. */
static bool
parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "true", "yes", "on", "1", NULL };
	static const char *const no[] = { "false", "no", "off", "0", NULL };

	for (int i = 0; yes[i] != NULL; i++)
	{
		if (strcasecmp(s, yes[i]) == 0)
		{
			*out = true;
			return true;
		}
		if (strcasecmp(s, no[i]) == 0)
		{
			*out = false;
			return true;
		}
	}
	return false;
}


/* parse_int accepts a whole decimal number, sign allowed, nothing else. */
static bool
parse_int(const char *s, int64_t *out)
{
	char *end = NULL;
	long long v;

	if (s[0] == '\0' || isspace((unsigned char) s[0]))
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0')
		return false;
	*out = (int64_t) v;
	return true;
}


/*
 * normalize_list trims each comma-separated item and joins them with ","
 * in place. Returns false when an item is empty ("a,,b", "a,").
 */
static bool
normalize_list(char *s)
{
	char *out = s;
	char *p = s;

	for (;;)
	{
		char *item = p;
		char *comma = strchr(p, ',');
		size_t n;

		if (comma != NULL)
			*comma = '\0';
		while (*item == ' ' || *item == '\t')
			item++;
		n = strlen(item);
		while (n > 0 && (item[n - 1] == ' ' || item[n - 1] == '\t'))
			n--;
		if (n == 0)
			return false;
		if (out != s)
			*out++ = ',';
		memmove(out, item, n);
		out += n;
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	*out = '\0';
	return true;
}


/*
 * convert_value type-checks v->value (already expanded, not empty) for
 * schema entry k and normalises it. Logs and returns false when invalid.
 */
static bool
convert_value(const Config *cfg, const ConfigKey *k, ConfigValue *v)
{
	ClDate date;

	switch (k->type)
	{
		case CONFIG_STRING:
			return true;

		case CONFIG_INT:
			if (!parse_int(v->value, &v->ival))
			{
				config_error(cfg->name, v->line, k->section, k->name,
							 "'%.64s' is not an integer; write a whole number in %" PRId64 "..%" PRId64,
							 v->value, k->min, k->max);
				return false;
			}
			if (v->ival < k->min || v->ival > k->max)
			{
				config_error(cfg->name, v->line, k->section, k->name,
							 "%" PRId64 " is out of range; use a value in %" PRId64 "..%" PRId64,
							 v->ival, k->min, k->max);
				return false;
			}
			return true;

		case CONFIG_BOOL:
			if (!parse_bool(v->value, &v->bval))
			{
				config_error(cfg->name, v->line, k->section, k->name,
							 "'%.64s' is not a boolean; write true/false, yes/no, on/off or 1/0",
							 v->value);
				return false;
			}
			/* Consumers reading the string see one spelling. */
			free(v->value);
			v->value = strdup(v->bval ? "true" : "false");
			if (v->value == NULL)
			{
				config_error(cfg->name, v->line, k->section, k->name, "out of memory");
				return false;
			}
			return true;

		case CONFIG_DATE:
			if (!date_parse(v->value, &date))
			{
				config_error(cfg->name, v->line, k->section, k->name,
							 "'%.64s' is not a valid date; write YYYY-MM-DD (for example 2026-01-31)",
							 v->value);
				return false;
			}
			return true;

		case CONFIG_LIST:
			if (!normalize_list(v->value))
			{
				config_error(cfg->name, v->line, k->section, k->name,
							 "empty item in the comma-separated list; remove the extra comma");
				return false;
			}
			return true;
	}
	log_error("BUG: config key [%s] %s has unknown type %d", k->section, k->name, (int) k->type);
	return false;
}


/*
 * apply_default gives an unset key its schema default (or leaves it
 * absent). The schema is ours, so a default that does not parse is a BUG.
 */
static bool
apply_default(const ConfigKey *k, ConfigValue *v)
{
	if (k->default_value == NULL)
		return true;
	v->value = strdup(k->default_value);
	if (v->value == NULL)
	{
		log_error("out of memory while loading the configuration");
		return false;
	}
	if (k->type == CONFIG_INT && !parse_int(v->value, &v->ival))
	{
		log_error("BUG: default of [%s] %s is not an integer", k->section, k->name);
		return false;
	}
	if (k->type == CONFIG_BOOL && !parse_bool(v->value, &v->bval))
	{
		log_error("BUG: default of [%s] %s is not a boolean", k->section, k->name);
		return false;
	}
	return true;
}


/*
 * section_disabled: the section has an "enabled" key and it resolved to
 * false. Only valid once the enabled keys have been resolved.
 */
static bool
section_disabled(const Config *cfg, const char *section)
{
	int idx = schema_find(section, "enabled");

	if (idx < 0 || config_schema[idx].type != CONFIG_BOOL)
		return false;
	return !cfg->values[idx].bval;
}


/*
 * resolve_key turns the raw text of one key into its final value: expands
 * ${VAR}, treats an empty result as "use the default", type-checks, and
 * registers secrets with the log masker. Logs and returns false on error.
 */
static bool
resolve_key(Config *cfg, int idx)
{
	const ConfigKey *k = &config_schema[idx];
	ConfigValue *v = &cfg->values[idx];
	char *missing = NULL;
	char source[512];
	bool ok = false;

	if (v->line == 0)
		return apply_default(k, v);

	(void) snprintf(source, sizeof(source), "%s:%d", cfg->name, v->line);
	v->source = strdup(source);
	if (v->source == NULL)
	{
		config_error(cfg->name, v->line, k->section, k->name, "out of memory");
		goto cleanup;
	}

	v->value = config_expand_env(v->raw, &missing);
	if (v->value == NULL)
	{
		if (missing == NULL)
		{
			config_error(cfg->name, v->line, k->section, k->name,
						 "malformed ${...} reference; write ${NAME} (letters, digits, _) or $${ for a literal ${");
			goto cleanup;
		}
		if (section_disabled(cfg, k->section))
		{
			/* A disabled vendor's credentials need not be in the
			 * environment; the key stays absent. */
			log_debug("%s:%d: [%s] %s: ${%s} is not set; ignored because the section is disabled",
					  cfg->name, v->line, k->section, k->name, missing);
			ok = apply_default(k, v);
			goto cleanup;
		}
		config_error(cfg->name, v->line, k->section, k->name,
					 "environment variable %s is not set; export it before running%s", missing,
					 schema_find(k->section, "enabled") >= 0
					 ? ", or set enabled = false if this vendor is not used" : "");
		goto cleanup;
	}

	if (v->value[0] == '\0')
	{
		/* "key =" means the default, the same as leaving the line out. */
		free(v->value);
		v->value = NULL;
		ok = apply_default(k, v);
		goto cleanup;
	}

	if (!convert_value(cfg, k, v))
		goto cleanup;
	if (k->secret)
		log_register_secret(v->value);
	ok = true;

cleanup:
	free(missing);
	free(v->raw);
	v->raw = NULL;
	return ok;
}


/*
 * config_free releases a Config and everything it owns; NULL is fine.
 */
void
config_free(Config *cfg)
{
	if (cfg == NULL)
		return;
	if (cfg->values != NULL)
	{
		for (size_t i = 0; i < cfg->nkeys; i++)
		{
			free(cfg->values[i].raw);
			free(cfg->values[i].value);
			free(cfg->values[i].source);
		}
	}
	free(cfg->values);
	free(cfg->sections);
	free(cfg->name);
	free(cfg);
}


/*
 * config_parse_text is the body of both loaders: text (len bytes) is the
 * whole file, name is how messages refer to it. On success *out is an
 * ALLOCATED Config (caller frees with config_free()).
 */
static bool
config_parse_text(const char *text, size_t len, const char *name, Config **out)
{
	ParseCtx ctx;
	Config *cfg = NULL;
	int rc;
	int errors;
	bool ok = false;

	*out = NULL;
	cfg = calloc(1, sizeof(Config));
	if (cfg == NULL)
		goto oom;
	cfg->name = strdup(name);
	cfg->nkeys = schema_count();
	cfg->values = calloc(cfg->nkeys, sizeof(ConfigValue));
	cfg->sections = calloc(cfg->nkeys, sizeof(ConfigSection));
	if (cfg->name == NULL || cfg->values == NULL || cfg->sections == NULL)
		goto oom;

	memset(&ctx, 0, sizeof(ctx));
	ctx.cfg = cfg;
	ctx.text = text;
	ctx.len = len;
	ctx.section_ok = true;

	rc = ini_parse_stream(config_reader, &ctx, config_handler, &ctx);
	if (rc == -2)
		goto oom;
	if (rc != 0 && ctx.errors == 0)
	{
		/* The reader lets through only lines inih accepts; this is a
		 * safety net, not an expected path. */
		config_error(name, rc, NULL, NULL, "syntax error");
		ctx.errors++;
	}
	errors = ctx.errors;

	/* enabled first: the other keys' handling of unset variables depends
	 * on it. */
	for (size_t i = 0; i < cfg->nkeys; i++)
	{
		if (strcmp(config_schema[i].name, "enabled") == 0 && !resolve_key(cfg, (int) i))
			errors++;
	}
	for (size_t i = 0; i < cfg->nkeys; i++)
	{
		if (strcmp(config_schema[i].name, "enabled") != 0 && !resolve_key(cfg, (int) i))
			errors++;
	}
	if (errors > 0)
		goto cleanup;

	*out = cfg;
	cfg = NULL;
	ok = true;
	goto cleanup;

oom:
	log_error("%s: out of memory while loading the configuration", name);

cleanup:
	config_free(cfg);
	return ok;
}


/*
 * errno_text formats err into buf (XSI strerror_r: thread-safe, unlike
 * strerror). Returns buf.
 */
static const char *
errno_text(int err, char *buf, size_t size)
{
	if (strerror_r(err, buf, size) != 0)
		(void) snprintf(buf, size, "error %d", err);
	return buf;
}


/*
 * config_load reads path whole (at most CONFIG_MAX_BYTES) and parses it.
 * *out is ALLOCATED on success; the caller frees it with config_free().
 */
bool
config_load(const char *path, Config **out)
{
	FILE *fp = NULL;
	char *text = NULL;
	char ebuf[256];
	size_t len = 0;
	bool ok = false;

	*out = NULL;
	if (path == NULL || path[0] == '\0')
		path = config_path_default(NULL);

	fp = fopen(path, "rb");
	if (fp == NULL)
	{
		int err = errno;

		log_error("%s: cannot open the configuration file: %s; "
				  "pass --config FILE or set CLOSEDLOOP_CONFIG (see config.example.ini)",
				  path, errno_text(err, ebuf, sizeof(ebuf)));
		goto cleanup;
	}
	text = malloc(CONFIG_MAX_BYTES + 1);
	if (text == NULL)
	{
		log_error("%s: out of memory while reading the configuration", path);
		goto cleanup;
	}
	len = fread(text, 1, CONFIG_MAX_BYTES + 1, fp);
	if (ferror(fp))
	{
		int err = errno;

		log_error("%s: cannot read the configuration file: %s", path,
				  errno_text(err, ebuf, sizeof(ebuf)));
		goto cleanup;
	}
	if (len > CONFIG_MAX_BYTES)
	{
		log_error("%s: larger than %d bytes; is this really the configuration file?",
				  path, CONFIG_MAX_BYTES);
		goto cleanup;
	}
	text[len] = '\0';

	ok = config_parse_text(text, len, path, out);

cleanup:
	if (fp != NULL)
		(void) fclose(fp);
	free(text);
	return ok;
}


bool
config_load_string(const char *text, const char *name, Config **out)
{
	*out = NULL;
	if (text == NULL)
	{
		log_error("BUG: config_load_string called without text");
		return false;
	}
	return config_parse_text(text, strlen(text), name == NULL ? "<string>" : name, out);
}


/*
 * config_path_default: --config, else $CLOSEDLOOP_CONFIG, else
 * ./closedloop.ini. The result is borrowed (argv, environment or a
 * literal).
 */
const char *
config_path_default(const char *cli_value)
{
	const char *env;

	if (cli_value != NULL && cli_value[0] != '\0')
		return cli_value;
	env = getenv("CLOSEDLOOP_CONFIG");
	if (env != NULL && env[0] != '\0')
		return env;
	return CONFIG_DEFAULT_PATH;
}


/* lookup finds a key's value slot; a key missing from the schema is a
 * programming error in the caller. */
static const ConfigValue *
lookup(const Config *cfg, const char *section, const char *key, int *idx_out)
{
	int idx;

	if (cfg == NULL || section == NULL || key == NULL)
	{
		log_error("BUG: config lookup without a config, section or key");
		return NULL;
	}
	idx = schema_find(section, key);
	if (idx < 0)
	{
		log_error("BUG: config key [%s] %s is not in the schema", section, key);
		return NULL;
	}
	if (idx_out != NULL)
		*idx_out = idx;
	return &cfg->values[idx];
}


const char *
config_get(const Config *cfg, const char *section, const char *key)
{
	const ConfigValue *v = lookup(cfg, section, key, NULL);

	return v == NULL ? NULL : v->value;
}


int64_t
config_get_int(const Config *cfg, const char *section, const char *key)
{
	int idx = -1;
	const ConfigValue *v = lookup(cfg, section, key, &idx);

	if (v == NULL)
		return 0;
	if (config_schema[idx].type != CONFIG_INT)
	{
		log_error("BUG: config key [%s] %s is not an integer", section, key);
		return 0;
	}
	return v->ival;
}


bool
config_get_bool(const Config *cfg, const char *section, const char *key)
{
	int idx = -1;
	const ConfigValue *v = lookup(cfg, section, key, &idx);

	if (v == NULL)
		return false;
	if (config_schema[idx].type != CONFIG_BOOL)
	{
		log_error("BUG: config key [%s] %s is not a boolean", section, key);
		return false;
	}
	return v->bval;
}


bool
config_has_section(const Config *cfg, const char *section)
{
	if (cfg == NULL || section == NULL)
		return false;
	for (size_t i = 0; i < cfg->nsections; i++)
	{
		if (strcmp(cfg->sections[i].name, section) == 0)
			return true;
	}
	return false;
}


const char *
config_source(const Config *cfg, const char *section, const char *key)
{
	const ConfigValue *v = lookup(cfg, section, key, NULL);

	if (v == NULL || v->source == NULL)
		return "default";
	return v->source;
}
