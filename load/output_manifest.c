/*
 * output_manifest.c: parse, validate and verify a transform output.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "json.h"
#include "log.h"
#include "output_manifest.h"

#define VERIFY_CHUNK (64 * 1024)

bool
manifest_run_id_valid(const char *run_id)
{
	size_t len;

	if (run_id == NULL)
	{
		return false;
	}
	len = strlen(run_id);
	if (len == 0 || len >= MANIFEST_RUN_ID_SIZE || run_id[0] == '.')
	{
		return false;
	}
	for (size_t i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) run_id[i];

		if (!isalnum(c) && c != '.' && c != '_' && c != ':' && c != '-')
		{
			return false;
		}
	}
	return true;
}

/*
 * file_name_valid keeps every data file inside the output directory: no
 * path separators, no hidden or parent entries.
 */
static bool
file_name_valid(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len >= MANIFEST_FILE_SIZE || name[0] == '.')
	{
		return false;
	}
	for (size_t i = 0; i < len; i++)
	{
		if (name[i] == '/' || name[i] == '\\' || (unsigned char) name[i] < 0x20)
		{
			return false;
		}
	}
	return true;
}

/*
 * sha256_hex_normalize copies a 64-digit hex checksum in lower case; the
 * manifest writer may use either case.
 */
static bool
sha256_hex_normalize(const char *src, char dst[SHA256_HEX_SIZE])
{
	if (src == NULL || strlen(src) != SHA256_HEX_SIZE - 1)
	{
		return false;
	}
	for (size_t i = 0; i < SHA256_HEX_SIZE - 1; i++)
	{
		if (!isxdigit((unsigned char) src[i]))
		{
			return false;
		}
		dst[i] = (char) tolower((unsigned char) src[i]);
	}
	dst[SHA256_HEX_SIZE - 1] = '\0';
	return true;
}

/*
 * parse_table validates one element of "tables". index is 0-based; the
 * messages count from 1 as people do.
 */
static bool
parse_table(const JsonValue *t, size_t index, const char *origin, ManifestTable *out)
{
	const char *name = json_string(json_member(t, "name"));
	const char *file = json_string(json_member(t, "file"));
	const char *load = json_string(json_member(t, "load"));
	const char *sha = json_string(json_member(t, "sha256"));
	const LoadTable *table = NULL;
	LoadMode mode;

	memset(out, 0, sizeof(*out));
	if (t == NULL || t->type != JSON_OBJECT)
	{
		log_error("%s: tables[%zu] is not an object", origin, index + 1);
		return false;
	}
	if (name == NULL)
	{
		log_error("%s: tables[%zu] has no \"name\"", origin, index + 1);
		return false;
	}
	table = catalog_find(name);
	if (table == NULL)
	{
		log_error("%s: table \"%s\" is not one cl-load loads (docs/DATA_MODEL.md): "
				  "is cl-load older than cl-transform?", origin, name);
		return false;
	}
	out->table = table;
	if (file == NULL || !file_name_valid(file))
	{
		log_error("%s: table %s: \"file\" must be a plain file name in the output directory",
				  origin, name);
		return false;
	}
	(void) snprintf(out->file, sizeof(out->file), "%s", file);
	if (!json_int64(json_member(t, "rows"), &out->rows) || out->rows < 0)
	{
		log_error("%s: table %s: \"rows\" must be a non-negative integer", origin, name);
		return false;
	}
	if (!sha256_hex_normalize(sha, out->sha256))
	{
		log_error("%s: table %s: \"sha256\" must be 64 hexadecimal digits", origin, name);
		return false;
	}
	if (!load_mode_parse(load, &mode))
	{
		log_error("%s: table %s: \"load\" must be \"window\", \"window_exact\" or \"upsert\"",
				  origin, name);
		return false;
	}
	if (mode != table->mode)
	{
		if (table->mode == LOAD_MODE_WINDOW)
		{
			log_error("%s: table %s: the manifest says load \"%s\", but the table is loaded "
					  "by window on %s", origin, name, load, table->window_column);
		}
		else if (table->mode == LOAD_MODE_WINDOW_EXACT)
		{
			log_error("%s: table %s: the manifest says load \"%s\", but the table is loaded "
					  "by exact window on (%s, %s)", origin, name, load, table->window_column,
					  table->window_to_column);
		}
		else
		{
			log_error("%s: table %s: the manifest says load \"%s\", but the table is upserted "
					  "by key", origin, name, load);
		}
		return false;
	}
	return true;
}

static int
catalog_index(const LoadTable *t)
{
	return (int) (t - load_catalog);
}

static int
compare_tables(const void *a, const void *b)
{
	return catalog_index(((const ManifestTable *) a)->table) -
		   catalog_index(((const ManifestTable *) b)->table);
}

/*
 * manifest_parse: see output_manifest.h. Unknown top-level members are
 * ignored, so that a newer transform may add some; unknown tables are
 * refused, since ignoring them would silently drop data.
 */
bool
manifest_parse(const char *text, size_t len, const char *origin, OutputManifest *out)
{
	char jerr[256];
	JsonValue *doc = NULL;
	const JsonValue *tables = NULL;
	const char *run_id = NULL;
	const char *from = NULL;
	const char *to = NULL;
	const char *currency = NULL;
	bool ok = false;

	memset(out, 0, sizeof(*out));
	doc = json_parse(text, len, jerr, sizeof(jerr));
	if (doc == NULL)
	{
		log_error("%s: not valid JSON: %s", origin, jerr);
		goto cleanup;
	}
	if (doc->type != JSON_OBJECT)
	{
		log_error("%s: not a JSON object", origin);
		goto cleanup;
	}
	run_id = json_string(json_member(doc, "run_id"));
	if (!manifest_run_id_valid(run_id))
	{
		log_error("%s: \"run_id\" is missing or not a run id (letters, digits, . _ : -)", origin);
		goto cleanup;
	}
	(void) snprintf(out->run_id, sizeof(out->run_id), "%s", run_id);

	from = json_path_text(doc, "window.from");
	to = json_path_text(doc, "window.to");
	if (from == NULL || !date_parse(from, &out->window_from) ||
		to == NULL || !date_parse(to, &out->window_to))
	{
		log_error("%s: \"window\" must have \"from\" and \"to\" dates (YYYY-MM-DD)", origin);
		goto cleanup;
	}
	if (out->window_from > out->window_to)
	{
		log_error("%s: the window ends (%s) before it starts (%s)", origin, to, from);
		goto cleanup;
	}
	currency = json_string(json_member(doc, "reporting_currency"));
	if (currency != NULL)
	{
		(void) snprintf(out->reporting_currency, sizeof(out->reporting_currency), "%s", currency);
	}

	tables = json_member(doc, "tables");
	if (tables == NULL || tables->type != JSON_ARRAY || tables->count == 0)
	{
		log_error("%s: \"tables\" must be a non-empty array", origin);
		goto cleanup;
	}
	if (tables->count > MANIFEST_MAX_TABLES)
	{
		log_error("%s: %zu tables, more than the %d cl-load knows", origin, tables->count,
				  MANIFEST_MAX_TABLES);
		goto cleanup;
	}
	for (size_t i = 0; i < tables->count; i++)
	{
		ManifestTable *t = &out->tables[i];

		if (!parse_table(tables->items[i], i, origin, t))
		{
			/* errors have already been logged */
			goto cleanup;
		}
		for (size_t j = 0; j < i; j++)
		{
			if (out->tables[j].table == t->table)
			{
				log_error("%s: table %s is listed twice", origin, t->table->name);
				goto cleanup;
			}
			if (strcmp(out->tables[j].file, t->file) == 0)
			{
				log_error("%s: tables %s and %s name the same file %s", origin,
						  out->tables[j].table->name, t->table->name, t->file);
				goto cleanup;
			}
		}
		out->table_count++;
	}
	qsort(out->tables, out->table_count, sizeof(ManifestTable), compare_tables);
	ok = true;

cleanup:
	json_free(doc);
	return ok;
}

/*
 * manifest_load: a manifest whose run_id differs from its directory would
 * record the load under another name than the one the selection rule
 * looks for, and the output would be loaded again and again.
 */
bool
manifest_load(const char *dir, const char *run_id, OutputManifest *out, ClError *err)
{
	char path[4096];
	char *text = NULL;
	size_t len = 0;
	bool ok = false;

	if (!fileio_join(path, sizeof(path), dir, MANIFEST_FILE))
	{
		log_error("output path too long: %s", dir);
		goto cleanup;
	}
	if (!fileio_read_all(path, MANIFEST_MAX_BYTES, &text, &len))
	{
		/* errors have already been logged */
		goto cleanup;
	}
	if (!manifest_parse(text, len, path, out))
	{
		/* errors have already been logged */
		goto cleanup;
	}
	if (run_id != NULL && strcmp(run_id, out->run_id) != 0)
	{
		log_error("%s: run_id \"%s\" does not match its directory \"%s\"", path, out->run_id,
				  run_id);
		goto cleanup;
	}
	ok = true;

cleanup:
	free(text);
	if (!ok)
	{
		*err = CL_ERR_DATA;
	}
	return ok;
}

/*
 * manifest_count_rows: in COPY text format a newline inside a value is written
 * as the two characters \n, so every LF ends a row.
 */
int64_t
manifest_count_rows(const char *data, size_t len, char *last)
{
	int64_t rows = 0;
	const char *p = data;
	const char *end = data + len;

	if (len == 0)
	{
		return 0;
	}
	while (p < end)
	{
		const char *nl = memchr(p, '\n', (size_t) (end - p));

		if (nl == NULL)
		{
			break;
		}
		rows++;
		p = nl + 1;
	}
	*last = data[len - 1];
	return rows;
}

/*
 * verify_one hashes and counts one file in 64 KiB chunks: memory does not
 * depend on the file's size.
 */
static bool
verify_one(const char *dir, const ManifestTable *t, char *buf, int64_t *bytes)
{
	char path[4096];
	FILE *fp = NULL;
	Sha256 h;
	char hex[SHA256_HEX_SIZE];
	int64_t rows = 0;
	char last = '\n';
	bool ok = false;

	if (!fileio_join(path, sizeof(path), dir, t->file))
	{
		log_error("output path too long: %s/%s", dir, t->file);
		goto cleanup;
	}
	fp = fopen(path, "rb");
	if (fp == NULL)
	{
		log_error("table %s: cannot open %s: %s", t->table->name, path, strerror(errno));
		goto cleanup;
	}
	sha256_init(&h);
	for (;;)
	{
		size_t n = fread(buf, 1, VERIFY_CHUNK, fp);

		if (n == 0)
		{
			break;
		}
		sha256_update(&h, buf, n);
		rows += manifest_count_rows(buf, n, &last);
		*bytes += (int64_t) n;
	}
	if (ferror(fp))
	{
		log_error("table %s: cannot read %s: %s", t->table->name, path, strerror(errno));
		goto cleanup;
	}
	if (last != '\n')
	{
		rows++;
	}
	sha256_final_hex(&h, hex);
	if (strcmp(hex, t->sha256) != 0)
	{
		log_error("table %s: %s has sha256 %s, the manifest says %s: the file was changed or "
				  "truncated after the transform wrote it", t->table->name, path, hex, t->sha256);
		goto cleanup;
	}
	if (rows != t->rows)
	{
		log_error("table %s: %s has %" PRId64 " rows, the manifest says %" PRId64,
				  t->table->name, path, rows, t->rows);
		goto cleanup;
	}
	ok = true;

cleanup:
	if (fp != NULL)
	{
		(void) fclose(fp);
	}
	return ok;
}

/*
 * manifest_verify_files checks every file before the transaction starts,
 * so that a broken output is refused without taking the lock and a dry
 * run can tell the same.
 */
bool
manifest_verify_files(const char *dir, const OutputManifest *m, int64_t *bytes, ClError *err)
{
	char *buf = malloc(VERIFY_CHUNK);
	int64_t total = 0;
	bool ok = true;

	if (buf == NULL)
	{
		log_error("out of memory verifying %s", dir);
		*err = CL_ERR_INTERNAL;
		return false;
	}
	for (size_t i = 0; i < m->table_count && ok; i++)
	{
		ok = verify_one(dir, &m->tables[i], buf, &total);
	}
	free(buf);
	if (!ok)
	{
		*err = CL_ERR_DATA;
		return false;
	}
	if (bytes != NULL)
	{
		*bytes = total;
	}
	return true;
}

const ManifestTable *
manifest_find(const OutputManifest *m, const char *name)
{
	for (size_t i = 0; i < m->table_count; i++)
	{
		if (strcmp(m->tables[i].table->name, name) == 0)
		{
			return &m->tables[i];
		}
	}
	return NULL;
}
