/*
 * dataset.c: NDJSON data files, loaded into memory on first use and kept
 * for the life of the server, so that every page of a run is cut from the
 * same records and paging stays consistent.
 */
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>
#include <yajl/yajl_tree.h>

#include "fixture.h"

/* Data sets are generated (cl-datagen) and may be large, but not this large. */
#define DATASET_MAX_BYTES ((size_t) 2 << 30)

void
datacache_init(DataCache *cache)
{
	(void) pthread_mutex_init(&cache->lock, NULL);
	cache->head = NULL;
}

/*
 * dataset_free releases one data set and everything it owns. NULL-safe.
 */
static void
dataset_free(Dataset *d)
{
	if (d == NULL)
	{
		return;
	}
	free(d->path);
	free(d->text);
	free(d->records);
	free(d->lens);
	free(d->field_mask);
	free(d);
}

void
datacache_free(DataCache *cache)
{
	Dataset *d = cache->head;

	while (d != NULL)
	{
		Dataset *next = d->next;

		dataset_free(d);
		d = next;
	}
	cache->head = NULL;
	(void) pthread_mutex_destroy(&cache->lock);
}

/*
 * json_valid runs yajl over one record without building a tree: cheap
 * enough for millions of lines, and a broken line is reported at load time
 * instead of surfacing as a puzzling client-side parse error.
 */
static bool
json_valid(const char *text, size_t len)
{
	yajl_handle h = yajl_alloc(NULL, NULL, NULL);
	bool ok;

	if (h == NULL)
	{
		return false;
	}
	ok = yajl_parse(h, (const unsigned char *) text, len) == yajl_status_ok &&
		yajl_complete_parse(h) == yajl_status_ok;
	yajl_free(h);
	return ok;
}

/*
 * mask_walk appends the dotted paths of the leaves under v (objects are
 * descended, everything else is a leaf), comma-separated, like the
 * fieldMask Google Ads returns for the selected fields.
 */
static void
mask_walk(yajl_val v, Buf *prefix, Buf *out)
{
	size_t i;

	if (!YAJL_IS_OBJECT(v) || v->u.object.len == 0)
	{
		if (prefix->len == 0)
		{
			return;
		}
		if (out->len > 0)
		{
			buf_puts(out, ",");
		}
		buf_append(out, prefix->data, prefix->len);
		return;
	}
	for (i = 0; i < v->u.object.len; i++)
	{
		size_t saved = prefix->len;

		if (saved > 0)
		{
			buf_puts(prefix, ".");
		}
		buf_puts(prefix, v->u.object.keys[i]);
		mask_walk(v->u.object.values[i], prefix, out);
		prefix->len = saved;
		if (prefix->data != NULL)
		{
			prefix->data[saved] = '\0';
		}
	}
}

/*
 * field_mask_of returns an ALLOCATED mask for one record (caller frees with
 * free()), or NULL when the record is not an object.
 */
static char *
field_mask_of(const char *record)
{
	yajl_val tree = yajl_tree_parse(record, NULL, 0);
	Buf prefix;
	Buf out;
	char *mask = NULL;
	size_t len = 0;

	if (tree == NULL)
	{
		return NULL;
	}
	buf_init(&prefix, 1 << 16);
	buf_init(&out, 1 << 20);
	mask_walk(tree, &prefix, &out);
	if (out.len > 0)
	{
		mask = buf_steal(&out, &len);
	}
	buf_free(&prefix);
	buf_free(&out);
	yajl_tree_free(tree);
	return mask;
}

/*
 * dataset_load reads and validates one NDJSON file. Returns DATA_OK with an
 * ALLOCATED *out (freed by dataset_free), or why not.
 */
static DataStatus
dataset_load(const char *path, Dataset **out)
{
	Dataset *d = NULL;
	size_t len = 0;
	bool missing = false;
	size_t n = 0;
	size_t i;
	char *p;
	DataStatus status = DATA_INVALID;
	long line = 0;

	d = calloc(1, sizeof(Dataset));
	if (d == NULL)
	{
		fprintf(stderr, "cl-fixture-server: out of memory\n");
		goto cleanup;
	}
	d->path = strdup(path);
	if (d->path == NULL)
	{
		fprintf(stderr, "cl-fixture-server: out of memory\n");
		goto cleanup;
	}
	if (!read_file(path, DATASET_MAX_BYTES, &d->text, &len, &missing))
	{
		status = missing ? DATA_MISSING : DATA_INVALID;
		goto cleanup;
	}
	for (i = 0; i < len; i++)
	{
		if (d->text[i] == '\n')
		{
			n++;
		}
	}
	n++;
	d->records = calloc(n, sizeof(char *));
	d->lens = calloc(n, sizeof(size_t));
	if (d->records == NULL || d->lens == NULL)
	{
		fprintf(stderr, "cl-fixture-server: out of memory loading %s\n", path);
		goto cleanup;
	}
	p = d->text;
	while (p < d->text + len)
	{
		char *nl = memchr(p, '\n', (size_t) (d->text + len - p));
		char *end = nl != NULL ? nl : d->text + len;
		char *start = p;

		line++;
		p = nl != NULL ? nl + 1 : d->text + len;
		*end = '\0';
		while (end > start && (end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
		{
			end--;
			*end = '\0';
		}
		while (*start == ' ' || *start == '\t')
		{
			start++;
		}
		if (start == end)
		{
			continue;
		}
		if (!json_valid(start, (size_t) (end - start)))
		{
			fprintf(stderr, "cl-fixture-server: %s:%ld: not a JSON value\n", path, line);
			goto cleanup;
		}
		d->records[d->count] = start;
		d->lens[d->count] = (size_t) (end - start);
		d->count++;
	}
	if (d->count > 0)
	{
		d->field_mask = field_mask_of(d->records[0]);
	}
	*out = d;
	d = NULL;
	status = DATA_OK;

cleanup:
	dataset_free(d);
	return status;
}

/*
 * datacache_get loads under the cache lock: first use of a large file makes
 * concurrent first requests wait for one load instead of loading it twice.
 * A missing file is not cached, so a test may create it later.
 */
DataStatus
datacache_get(DataCache *cache, const char *path, const Dataset **out)
{
	Dataset *d;
	DataStatus status = DATA_OK;

	(void) pthread_mutex_lock(&cache->lock);
	for (d = cache->head; d != NULL; d = d->next)
	{
		if (strcmp(d->path, path) == 0)
		{
			break;
		}
	}
	if (d == NULL)
	{
		status = dataset_load(path, &d);
		if (status == DATA_OK)
		{
			d->next = cache->head;
			cache->head = d;
		}
	}
	(void) pthread_mutex_unlock(&cache->lock);
	if (status == DATA_OK)
	{
		*out = d;
	}
	return status;
}
