/*
 * staging.c: writing and reading the staging area (DESIGN §3, staging.h).
 *
 * A writer keeps one temporary NDJSON file per date partition. Every line
 * passes through a running SHA-256 and byte/row counters, so the manifest
 * is written at commit without reading the file back, and a mark is just a
 * copy of those counters: rewinding truncates the file to the remembered
 * length and restores the hash state.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <yajl/yajl_gen.h>

#include "log.h"
#include "ndjson_rows.h"
#include "sha256.h"
#include "staging.h"

/* Partitions kept open at once; a long backfill has more partitions than a
 * process may have open files, so the least recently used ones are closed
 * and reopened on demand. */
#define STAGING_MAX_OPEN 64

/* A manifest is a few hundred bytes; anything larger is not one of ours. */
#define STAGING_MANIFEST_MAX (1024 * 1024)

#define MANIFEST_SUFFIX ".manifest.json"
#define DATA_SUFFIX ".ndjson"

struct JsonGen
{
	yajl_gen gen;
	bool failed;                /* sticky until the row ends */
	yajl_gen_status status;     /* the first failure */
	const char *failed_key;     /* borrowed: the key being written then */
};

typedef struct StagingPartition
{
	ClDate date;
	char *dir;                  /* owned: .../<entity>/<YYYY-MM-DD> */
	char *tmp_path;             /* owned: <dir>/.<run_id>.ndjson.tmp */
	FILE *fp;                   /* NULL while parked (closed to save fds) */
	uint64_t last_use;
	int64_t bytes;
	int64_t rows;
	Sha256 sha;
	bool marked;                /* existed at the last mark */
	int64_t mark_bytes;
	int64_t mark_rows;
	Sha256 mark_sha;
	bool committed;
} StagingPartition;

struct StagingWriter
{
	char *staging_dir;          /* owned */
	char *family;               /* owned */
	char *vendor;               /* owned */
	char *entity;               /* owned */
	char *run_id;               /* owned */
	char *tool;                 /* owned */
	StagingWindow window;

	JsonGen gen;
	StagingPartition **parts;   /* owned, sorted by date */
	size_t nparts;
	size_t capparts;
	StagingPartition *current;  /* partition of the open row, borrowed */
	bool row_open;

	int64_t rows;
	uint64_t clock;             /* use counter for closing idle files */
	int open_files;
	int max_open;               /* 0: STAGING_MAX_OPEN */
	bool failed;                /* an I/O failure happened: never commit */
	bool committed;
};

/* staging_strerror formats errnum now, before anything can change it. */
static const char *
staging_strerror(int errnum, char *buf, size_t size)
{
	if (strerror_r(errnum, buf, size) != 0)
		snprintf(buf, size, "error %d", errnum);
	return buf;
}

/* staging_join: ALLOCATED "a/b"; caller frees with free(). */
static char *
staging_join(const char *a, const char *b)
{
	size_t n = strlen(a) + strlen(b) + 2;
	char *p = malloc(n);
	if (p == NULL)
		return NULL;
	snprintf(p, n, "%s/%s", a, b);
	return p;
}

/* staging_has_suffix: s ends with suffix and has something before it. */
static bool
staging_has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s);
	size_t m = strlen(suffix);
	return n > m && strcmp(s + n - m, suffix) == 0;
}

/* ---------------------------------------------------------------------
 * JsonGen
 * --------------------------------------------------------------------- */

/* jgen_check remembers the first failure of the row. */
static void
jgen_check(JsonGen *g, yajl_gen_status st, const char *key)
{
	if (st != yajl_gen_status_ok && !g->failed)
	{
		g->failed = true;
		g->status = st;
		g->failed_key = key;
	}
}

/* jgen_prefix writes the member key, if any; false once the row failed. */
static bool
jgen_prefix(JsonGen *g, const char *key)
{
	if (g->failed)
		return false;
	if (key != NULL)
		jgen_check(g, yajl_gen_string(g->gen, (const unsigned char *) key, strlen(key)), key);
	return !g->failed;
}

static const char *
jgen_status_text(yajl_gen_status st)
{
	switch (st)
	{
		case yajl_gen_status_ok: return "ok";
		case yajl_gen_keys_must_be_strings: return "a member without a key";
		case yajl_max_depth_exceeded: return "nesting too deep";
		case yajl_gen_in_error_state: return "generator in error state";
		case yajl_gen_generation_complete: return "value after the end of the row";
		case yajl_gen_invalid_number: return "invalid number";
		case yajl_gen_no_buf: return "no buffer";
		case yajl_gen_invalid_string: return "string is not valid UTF-8";
	}
	return "unknown generator error";
}

void
jgen_key(JsonGen *g, const char *key)
{
	if (key == NULL)
	{
		jgen_check(g, yajl_gen_keys_must_be_strings, NULL);
		return;
	}
	(void) jgen_prefix(g, key);
}

void
jgen_string(JsonGen *g, const char *key, const char *value)
{
	if (value == NULL)
	{
		jgen_null(g, key);
		return;
	}
	jgen_string_len(g, key, value, strlen(value));
}

void
jgen_string_len(JsonGen *g, const char *key, const char *value, size_t len)
{
	if (!jgen_prefix(g, key))
		return;
	if (value == NULL)
		jgen_check(g, yajl_gen_null(g->gen), key);
	else
		jgen_check(g, yajl_gen_string(g->gen, (const unsigned char *) value, len), key);
}

void
jgen_int(JsonGen *g, const char *key, int64_t value)
{
	if (jgen_prefix(g, key))
		jgen_check(g, yajl_gen_integer(g->gen, (long long) value), key);
}

void
jgen_bool(JsonGen *g, const char *key, bool value)
{
	if (jgen_prefix(g, key))
		jgen_check(g, yajl_gen_bool(g->gen, value ? 1 : 0), key);
}

void
jgen_null(JsonGen *g, const char *key)
{
	if (jgen_prefix(g, key))
		jgen_check(g, yajl_gen_null(g->gen), key);
}

void
jgen_time(JsonGen *g, const char *key, ClTime t)
{
	char buf[CL_TIME_BUFSIZE];
	jgen_string(g, key, time_format_rfc3339(t, buf));
}

void
jgen_date(JsonGen *g, const char *key, ClDate d)
{
	char buf[CL_DATE_BUFSIZE];
	jgen_string(g, key, date_format(d, buf));
}

void
jgen_object_begin(JsonGen *g, const char *key)
{
	if (jgen_prefix(g, key))
		jgen_check(g, yajl_gen_map_open(g->gen), key);
}

void
jgen_object_end(JsonGen *g)
{
	if (!g->failed)
		jgen_check(g, yajl_gen_map_close(g->gen), NULL);
}

void
jgen_array_begin(JsonGen *g, const char *key)
{
	if (jgen_prefix(g, key))
		jgen_check(g, yajl_gen_array_open(g->gen), key);
}

void
jgen_array_end(JsonGen *g)
{
	if (!g->failed)
		jgen_check(g, yajl_gen_array_close(g->gen), NULL);
}

/*
 * jgen_value copies a parsed value; numbers keep their original text, so a
 * vendor's 20-digit id is written exactly as it came.
 */
void
jgen_value(JsonGen *g, const char *key, const JsonValue *v)
{
	if (v == NULL)
	{
		jgen_null(g, key);
		return;
	}
	switch (v->type)
	{
		case JSON_NULL:
			jgen_null(g, key);
			break;
		case JSON_BOOL:
			jgen_bool(g, key, v->boolean);
			break;
		case JSON_NUMBER:
			if (jgen_prefix(g, key))
				jgen_check(g, yajl_gen_number(g->gen, v->text, v->len), key);
			break;
		case JSON_STRING:
			jgen_string_len(g, key, v->text, v->len);
			break;
		case JSON_ARRAY:
			jgen_array_begin(g, key);
			for (size_t i = 0; i < v->count && !g->failed; i++)
				jgen_value(g, NULL, v->items[i]);
			jgen_array_end(g);
			break;
		case JSON_OBJECT:
			jgen_object_begin(g, key);
			for (size_t i = 0; i < v->count && !g->failed; i++)
				jgen_value(g, v->keys[i], v->items[i]);
			jgen_object_end(g);
			break;
	}
}

/* jgen_restart prepares the generator for the next row. */
static void
jgen_restart(JsonGen *g)
{
	yajl_gen_reset(g->gen, NULL);
	yajl_gen_clear(g->gen);
	g->failed = false;
	g->status = yajl_gen_status_ok;
	g->failed_key = NULL;
}

/* jgen_alloc_yajl: a compact, UTF-8 validating generator, or NULL. */
static yajl_gen
jgen_alloc_yajl(void)
{
	yajl_gen y = yajl_gen_alloc(NULL);
	if (y == NULL)
		return NULL;
	yajl_gen_config(y, yajl_gen_beautify, 0);
	yajl_gen_config(y, yajl_gen_validate_utf8, 1);
	return y;
}

/* ---------------------------------------------------------------------
 * File system helpers
 * --------------------------------------------------------------------- */

/*
 * fs_mkdir_p creates each missing component; an existing directory is
 * fine, an existing non-directory is an error.
 */
bool
fs_mkdir_p(const char *path)
{
	char *copy = NULL;
	char eb[128];
	bool ok = false;
	struct stat st;

	if (path == NULL || path[0] == '\0')
	{
		log_error("BUG: fs_mkdir_p called with an empty path");
		return false;
	}
	copy = strdup(path);
	if (copy == NULL)
	{
		log_error("out of memory creating directory %s", path);
		return false;
	}
	for (char *p = copy + 1; ; p++)
	{
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;
		*p = '\0';
		if (mkdir(copy, 0755) != 0)
		{
			int e = errno;
			if (e != EEXIST)
			{
				log_error("cannot create directory %s: %s", copy,
						  staging_strerror(e, eb, sizeof(eb)));
				goto cleanup;
			}
			if (stat(copy, &st) != 0 || !S_ISDIR(st.st_mode))
			{
				log_error("cannot create directory %s: a file of that name exists", copy);
				goto cleanup;
			}
		}
		*p = saved;
		if (saved == '\0')
			break;
		while (p[1] == '/')
			p++;
		if (p[1] == '\0')
			break;
	}
	ok = true;

cleanup:
	free(copy);
	return ok;
}

/*
 * fs_fsync_parent makes a rename or create in the directory durable:
 * without it a crash can lose the new name even though the data is synced.
 */
bool
fs_fsync_parent(const char *path)
{
	char *dir = NULL;
	char eb[128];
	const char *slash = strrchr(path, '/');
	int fd = -1;
	bool ok = false;

	if (slash == NULL)
		dir = strdup(".");
	else if (slash == path)
		dir = strdup("/");
	else
		dir = strndup(path, (size_t) (slash - path));
	if (dir == NULL)
	{
		log_error("out of memory syncing the directory of %s", path);
		return false;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
	{
		log_error("cannot open directory %s to sync it: %s", dir,
				  staging_strerror(errno, eb, sizeof(eb)));
		goto cleanup;
	}
	if (fsync(fd) != 0)
	{
		log_error("cannot sync directory %s: %s", dir,
				  staging_strerror(errno, eb, sizeof(eb)));
		goto cleanup;
	}
	ok = true;

cleanup:
	if (fd >= 0)
		(void) close(fd);
	free(dir);
	return ok;
}

/* fs_write_all writes len bytes to fd, riding out short writes and EINTR. */
static bool
fs_write_all(int fd, const char *data, size_t len)
{
	while (len > 0)
	{
		ssize_t n = write(fd, data, len);
		if (n < 0)
		{
			if (errno == EINTR)
				continue;
			return false;
		}
		data += n;
		len -= (size_t) n;
	}
	return true;
}

/*
 * fs_write_atomic: the temporary name carries the pid so that two
 * processes writing the same file cannot interleave in one temp file; the
 * rename makes the last writer win with a whole file.
 */
bool
fs_write_atomic(const char *path, const char *data, size_t len)
{
	char *tmp = NULL;
	char eb[128];
	const char *slash = strrchr(path, '/');
	size_t dirlen = slash == NULL ? 0 : (size_t) (slash - path) + 1;
	size_t n;
	int fd = -1;
	bool ok = false;

	n = strlen(path) + 32;
	tmp = malloc(n);
	if (tmp == NULL)
	{
		log_error("out of memory writing %s", path);
		return false;
	}
	snprintf(tmp, n, "%.*s.%s.%ld.tmp", (int) dirlen, path, path + dirlen, (long) getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
	{
		log_error("cannot create %s: %s", tmp, staging_strerror(errno, eb, sizeof(eb)));
		goto cleanup;
	}
	if (!fs_write_all(fd, data, len))
	{
		log_error("cannot write %s: %s", tmp, staging_strerror(errno, eb, sizeof(eb)));
		goto cleanup;
	}
	if (fsync(fd) != 0)
	{
		log_error("cannot sync %s: %s", tmp, staging_strerror(errno, eb, sizeof(eb)));
		goto cleanup;
	}
	if (close(fd) != 0)
	{
		fd = -1;
		log_error("cannot close %s: %s", tmp, staging_strerror(errno, eb, sizeof(eb)));
		goto cleanup;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
	{
		log_error("cannot rename %s to %s: %s", tmp, path,
				  staging_strerror(errno, eb, sizeof(eb)));
		goto cleanup;
	}
	if (!fs_fsync_parent(path))
		goto cleanup;   /* errors have already been logged */
	ok = true;

cleanup:
	if (fd >= 0)
		(void) close(fd);
	if (!ok && tmp != NULL)
		(void) unlink(tmp);
	free(tmp);
	return ok;
}

/* ---------------------------------------------------------------------
 * StagingWriter
 * --------------------------------------------------------------------- */

/*
 * staging_name_ok: a path component we are willing to create: not empty,
 * no slash, not hidden (readers skip dot files), within the size that
 * StagingFile can report back.
 */
static bool
staging_name_ok(const char *what, const char *name, size_t maxlen)
{
	if (name == NULL || name[0] == '\0' || name[0] == '.' || strchr(name, '/') != NULL
		|| strlen(name) >= maxlen)
	{
		log_error("BUG: invalid staging %s \"%s\"", what, name == NULL ? "(null)" : name);
		return false;
	}
	return true;
}

StagingWriter *
staging_writer_new(const char *staging_dir, const char *family,
				   const char *vendor, const char *entity,
				   const char *run_id, StagingWindow window,
				   const char *tool)
{
	StagingWriter *w = NULL;

	if (staging_dir == NULL || staging_dir[0] == '\0')
	{
		log_error("BUG: staging_writer_new without a staging directory");
		return NULL;
	}
	if (!staging_name_ok("family", family, sizeof(((StagingFile *) 0)->family))
		|| !staging_name_ok("vendor", vendor, sizeof(((StagingFile *) 0)->vendor))
		|| !staging_name_ok("entity", entity, sizeof(((StagingFile *) 0)->entity))
		|| !staging_name_ok("run id", run_id, sizeof(((StagingFile *) 0)->run_id)))
		return NULL;

	w = calloc(1, sizeof(StagingWriter));
	if (w == NULL)
		goto oom;
	w->window = window;
	w->staging_dir = strdup(staging_dir);
	w->family = strdup(family);
	w->vendor = strdup(vendor);
	w->entity = strdup(entity);
	w->run_id = strdup(run_id);
	w->tool = strdup(tool != NULL ? tool : "closedloop");
	w->gen.gen = jgen_alloc_yajl();
	if (w->staging_dir == NULL || w->family == NULL || w->vendor == NULL
		|| w->entity == NULL || w->run_id == NULL || w->tool == NULL || w->gen.gen == NULL)
		goto oom;
	return w;

oom:
	log_error("out of memory preparing the staging writer for %s/%s/%s", family, vendor, entity);
	staging_writer_free(w);
	return NULL;
}

/* staging_partition_close flushes and closes p's file; false on I/O error. */
static bool
staging_partition_close(StagingWriter *w, StagingPartition *p)
{
	char eb[128];
	bool ok = true;

	if (p->fp == NULL)
		return true;
	if (fflush(p->fp) != 0 || ferror(p->fp))
	{
		log_error("cannot write %s: %s", p->tmp_path, staging_strerror(errno, eb, sizeof(eb)));
		ok = false;
	}
	if (fclose(p->fp) != 0 && ok)
	{
		log_error("cannot close %s: %s", p->tmp_path, staging_strerror(errno, eb, sizeof(eb)));
		ok = false;
	}
	p->fp = NULL;
	w->open_files--;
	return ok;
}

/* staging_partition_discard removes an uncommitted partition's file and,
 * if nothing else is in it, its date directory. */
static void
staging_partition_discard(StagingWriter *w, StagingPartition *p)
{
	if (p->fp != NULL)
	{
		(void) fclose(p->fp);
		p->fp = NULL;
		w->open_files--;
	}
	if (!p->committed)
	{
		(void) unlink(p->tmp_path);
		(void) rmdir(p->dir);   /* fails harmlessly when other runs' files are there */
	}
}

static void
staging_partition_free(StagingPartition *p)
{
	if (p == NULL)
		return;
	free(p->dir);
	free(p->tmp_path);
	free(p);
}

void
staging_writer_free(StagingWriter *w)
{
	if (w == NULL)
		return;
	for (size_t i = 0; i < w->nparts; i++)
	{
		staging_partition_discard(w, w->parts[i]);
		staging_partition_free(w->parts[i]);
	}
	free(w->parts);
	if (w->gen.gen != NULL)
		yajl_gen_free(w->gen.gen);
	free(w->staging_dir);
	free(w->family);
	free(w->vendor);
	free(w->entity);
	free(w->run_id);
	free(w->tool);
	free(w);
}

/*
 * staging_park_idle closes the least recently used open partition, to stay
 * under STAGING_MAX_OPEN files.
 */
static bool
staging_park_idle(StagingWriter *w)
{
	StagingPartition *victim = NULL;

	for (size_t i = 0; i < w->nparts; i++)
	{
		StagingPartition *p = w->parts[i];
		if (p->fp != NULL && (victim == NULL || p->last_use < victim->last_use))
			victim = p;
	}
	if (victim == NULL)
		return true;
	if (!staging_partition_close(w, victim))
	{
		w->failed = true;
		return false;
	}
	return true;
}

/*
 * staging_partition_open opens p's temporary file for writing at its
 * current end: created on first use, reopened after it was parked.
 */
static bool
staging_partition_open(StagingWriter *w, StagingPartition *p, bool create)
{
	char eb[128];
	int fd;

	p->last_use = ++w->clock;
	if (p->fp != NULL)
		return true;
	if (w->open_files >= (w->max_open > 0 ? w->max_open : STAGING_MAX_OPEN) &&
		!staging_park_idle(w))
		return false;   /* errors have already been logged */
	if (create)
		fd = open(p->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	else
		fd = open(p->tmp_path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
	{
		log_error("cannot %s %s: %s", create ? "create" : "reopen", p->tmp_path,
				  staging_strerror(errno, eb, sizeof(eb)));
		w->failed = true;
		return false;
	}
	if (!create && lseek(fd, (off_t) p->bytes, SEEK_SET) < 0)
	{
		log_error("cannot seek in %s: %s", p->tmp_path, staging_strerror(errno, eb, sizeof(eb)));
		(void) close(fd);
		w->failed = true;
		return false;
	}
	p->fp = fdopen(fd, "wb");
	if (p->fp == NULL)
	{
		log_error("cannot open %s: %s", p->tmp_path, staging_strerror(errno, eb, sizeof(eb)));
		(void) close(fd);
		w->failed = true;
		return false;
	}
	w->open_files++;
	return true;
}

/*
 * staging_partition_get finds the partition of date, creating its
 * directory and temporary file on first use. Partitions are kept sorted by
 * date so that lookup is a binary search and commit order is stable.
 */
static StagingPartition *
staging_partition_get(StagingWriter *w, ClDate date)
{
	size_t lo = 0;
	size_t hi = w->nparts;
	StagingPartition *p = NULL;
	char datebuf[CL_DATE_BUFSIZE];
	char *entity_dir = NULL;
	char name[128];

	while (lo < hi)
	{
		size_t mid = lo + (hi - lo) / 2;
		if (w->parts[mid]->date == date)
			return w->parts[mid];
		if (w->parts[mid]->date < date)
			lo = mid + 1;
		else
			hi = mid;
	}

	if (w->nparts == w->capparts)
	{
		size_t cap = w->capparts == 0 ? 8 : w->capparts * 2;
		StagingPartition **parts = realloc(w->parts, cap * sizeof(*parts));
		if (parts == NULL)
			goto oom;
		w->parts = parts;
		w->capparts = cap;
	}
	p = calloc(1, sizeof(StagingPartition));
	if (p == NULL)
		goto oom;
	p->date = date;
	sha256_init(&p->sha);
	{
		size_t n = strlen(w->staging_dir) + strlen(w->family) + strlen(w->vendor)
			+ strlen(w->entity) + CL_DATE_BUFSIZE + 8;
		entity_dir = malloc(n);
		if (entity_dir == NULL)
			goto oom;
		snprintf(entity_dir, n, "%s/%s/%s/%s", w->staging_dir, w->family, w->vendor, w->entity);
	}
	p->dir = staging_join(entity_dir, date_format(date, datebuf));
	snprintf(name, sizeof(name), ".%s%s.tmp", w->run_id, DATA_SUFFIX);
	if (p->dir == NULL)
		goto oom;
	p->tmp_path = staging_join(p->dir, name);
	if (p->tmp_path == NULL)
		goto oom;
	if (!fs_mkdir_p(p->dir))
	{
		w->failed = true;
		goto fail;      /* errors have already been logged */
	}
	if (!staging_partition_open(w, p, true))
		goto fail;      /* errors have already been logged */

	memmove(&w->parts[lo + 1], &w->parts[lo], (w->nparts - lo) * sizeof(*w->parts));
	w->parts[lo] = p;
	w->nparts++;
	free(entity_dir);
	return p;

oom:
	log_error("out of memory adding a staging partition for %s/%s/%s", w->family,
			  w->vendor, w->entity);
	w->failed = true;
fail:
	free(entity_dir);
	staging_partition_free(p);
	return NULL;
}

/*
 * staging_row_begin never returns NULL for a valid writer: when the
 * partition cannot be opened the generator is put in its failed state, so
 * the caller's jgen_* calls do nothing and staging_row_end reports false.
 */
JsonGen *
staging_row_begin(StagingWriter *w, ClDate partition)
{
	if (w->row_open)
	{
		log_error("BUG: staging_row_begin for %s while a row is open", w->entity);
		jgen_restart(&w->gen);
	}
	w->row_open = true;
	w->current = NULL;
	if (w->committed)
	{
		log_error("BUG: staging row for %s/%s/%s after commit", w->family, w->vendor, w->entity);
		jgen_check(&w->gen, yajl_gen_in_error_state, NULL);
		return &w->gen;
	}
	if (w->failed)
	{
		jgen_check(&w->gen, yajl_gen_in_error_state, NULL);
		return &w->gen;
	}
	w->current = staging_partition_get(w, partition);
	if (w->current == NULL)
	{
		jgen_check(&w->gen, yajl_gen_in_error_state, NULL);
		return &w->gen;
	}
	jgen_object_begin(&w->gen, NULL);
	return &w->gen;
}

/*
 * staging_row_end: a row the generator refused (invalid UTF-8, unbalanced
 * objects) is dropped and reported; the writer stays usable. A failed
 * file write is sticky: the writer will not commit.
 */
bool
staging_row_end(StagingWriter *w)
{
	JsonGen *g = &w->gen;
	StagingPartition *p = w->current;
	const unsigned char *buf = NULL;
	size_t len = 0;
	char datebuf[CL_DATE_BUFSIZE];
	char eb[128];
	bool ok = false;

	if (!w->row_open)
	{
		log_error("BUG: staging_row_end for %s without staging_row_begin", w->entity);
		return false;
	}
	w->row_open = false;
	if (p == NULL)
		goto cleanup;   /* errors have already been logged */
	jgen_object_end(g);
	if (!g->failed)
		jgen_check(g, yajl_gen_get_buf(g->gen, &buf, &len), NULL);
	if (g->failed)
	{
		log_error("cannot stage a %s row of %s/%s for %s: %s%s%s%s", w->entity,
				  w->family, w->vendor, date_format(p->date, datebuf),
				  jgen_status_text(g->status), g->failed_key != NULL ? " (key \"" : "",
				  g->failed_key != NULL ? g->failed_key : "",
				  g->failed_key != NULL ? "\")" : "");
		goto cleanup;
	}
	if (!staging_partition_open(w, p, false))
		goto cleanup;   /* errors have already been logged */
	if (fwrite(buf, 1, len, p->fp) != len || putc('\n', p->fp) == EOF)
	{
		log_error("cannot write %s: %s", p->tmp_path, staging_strerror(errno, eb, sizeof(eb)));
		w->failed = true;
		goto cleanup;
	}
	sha256_update(&p->sha, buf, len);
	sha256_update(&p->sha, "\n", 1);
	p->bytes += (int64_t) len + 1;
	p->rows++;
	w->rows++;
	ok = true;

cleanup:
	jgen_restart(g);
	w->current = NULL;
	return ok;
}

bool
staging_writer_mark(StagingWriter *w)
{
	if (w->row_open)
	{
		log_error("BUG: staging_writer_mark for %s while a row is open", w->entity);
		return false;
	}
	for (size_t i = 0; i < w->nparts; i++)
	{
		StagingPartition *p = w->parts[i];
		p->marked = true;
		p->mark_bytes = p->bytes;
		p->mark_rows = p->rows;
		p->mark_sha = p->sha;
	}
	return true;
}

/*
 * staging_writer_rewind: without an earlier mark every partition is
 * "created after the mark" and goes. A partition is truncated through its
 * path, so parked (closed) partitions need no reopening.
 */
bool
staging_writer_rewind(StagingWriter *w)
{
	char eb[128];
	size_t kept = 0;
	bool ok = true;

	if (w->row_open)
	{
		jgen_restart(&w->gen);
		w->row_open = false;
		w->current = NULL;
	}
	if (w->committed)
	{
		log_error("BUG: staging_writer_rewind for %s after commit", w->entity);
		return false;
	}
	for (size_t i = 0; i < w->nparts; i++)
	{
		StagingPartition *p = w->parts[i];

		if (!p->marked)
		{
			staging_partition_discard(w, p);
			staging_partition_free(p);
			continue;
		}
		w->parts[kept++] = p;
		if (p->bytes == p->mark_bytes)
			continue;
		if (p->fp != NULL && !staging_partition_close(w, p))
			ok = false;     /* errors have already been logged */
		if (truncate(p->tmp_path, (off_t) p->mark_bytes) != 0)
		{
			log_error("cannot truncate %s to %lld bytes: %s", p->tmp_path,
					  (long long) p->mark_bytes, staging_strerror(errno, eb, sizeof(eb)));
			ok = false;
		}
		p->bytes = p->mark_bytes;
		p->rows = p->mark_rows;
		p->sha = p->mark_sha;
	}
	w->nparts = kept;
	w->rows = 0;
	for (size_t i = 0; i < w->nparts; i++)
		w->rows += w->parts[i]->rows;
	if (!ok)
		w->failed = true;
	return ok;
}

int64_t
staging_writer_rows(const StagingWriter *w)
{
	return w->rows;
}


/*
 * staging_writer_limit_files: see staging.h.
 */
void
staging_writer_limit_files(StagingWriter *w, int max_open)
{
	w->max_open = max_open > 0 ? max_open : 0;
}


/*
 * staging_copy_partition appends the bytes of src's partition sp to dst's
 * partition of the same date, updating the checksum and counts exactly as
 * if dst had written the rows itself. sp's file is closed first so that
 * every byte it holds is on disk.
 */
static bool
staging_copy_partition(StagingWriter *dst, StagingWriter *src, StagingPartition *sp)
{
	StagingPartition *dp;
	FILE *in = NULL;
	char buf[65536];
	char eb[128];
	int64_t copied = 0;
	size_t n;
	bool ok = false;

	if (!staging_partition_close(src, sp))
		return false;   /* errors have already been logged */
	dp = staging_partition_get(dst, sp->date);
	if (dp == NULL || !staging_partition_open(dst, dp, false))
		return false;   /* errors have already been logged */
	in = fopen(sp->tmp_path, "rb");
	if (in == NULL)
	{
		log_error("cannot open %s: %s", sp->tmp_path, staging_strerror(errno, eb, sizeof(eb)));
		goto cleanup;
	}
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
	{
		if (fwrite(buf, 1, n, dp->fp) != n)
		{
			log_error("cannot write %s: %s", dp->tmp_path, staging_strerror(errno, eb, sizeof(eb)));
			goto cleanup;
		}
		sha256_update(&dp->sha, buf, n);
		copied += (int64_t) n;
	}
	if (ferror(in) || copied != sp->bytes)
	{
		log_error("cannot read %s: %lld of %lld bytes", sp->tmp_path, (long long) copied,
				  (long long) sp->bytes);
		goto cleanup;
	}
	dp->bytes += copied;
	dp->rows += sp->rows;
	dst->rows += sp->rows;
	ok = true;

cleanup:
	if (in != NULL)
		(void) fclose(in);
	if (!ok)
		dst->failed = true;
	return ok;
}


/*
 * staging_writer_append: see staging.h. The source's files are unlinked
 * but their directories are left alone: another writer may be about to
 * create a file in them.
 */
bool
staging_writer_append(StagingWriter *dst, StagingWriter *src)
{
	bool ok = true;

	if (dst->row_open || src->row_open || dst->committed || src->committed ||
		strcmp(dst->entity, src->entity) != 0)
	{
		log_error("BUG: staging_writer_append %s into %s in a wrong state", src->entity,
				  dst->entity);
		return false;
	}
	if (dst->failed || src->failed)
		ok = false;
	for (size_t i = 0; i < src->nparts; i++)
	{
		StagingPartition *sp = src->parts[i];

		if (ok && sp->rows > 0 && !staging_copy_partition(dst, src, sp))
			ok = false;     /* errors have already been logged */
		if (sp->fp != NULL)
			(void) staging_partition_close(src, sp);
		(void) unlink(sp->tmp_path);
		staging_partition_free(sp);
	}
	src->nparts = 0;
	src->rows = 0;
	if (!ok)
	{
		dst->failed = true;
		src->failed = true;
	}
	return ok;
}

/*
 * staging_manifest_text: ALLOCATED manifest JSON ending in a newline;
 * caller frees with free(). NULL when generation failed.
 */
static char *
staging_manifest_text(const StagingWriter *w, const StagingPartition *p,
					  const char *watermark, const char *file, const char *sha_hex,
					  size_t *len)
{
	JsonGen g = {0};
	const unsigned char *buf = NULL;
	size_t n = 0;
	char *text = NULL;

	g.gen = jgen_alloc_yajl();
	if (g.gen == NULL)
		return NULL;
	jgen_object_begin(&g, NULL);
	jgen_string(&g, "run_id", w->run_id);
	jgen_string(&g, "family", w->family);
	jgen_string(&g, "vendor", w->vendor);
	jgen_string(&g, "entity", w->entity);
	jgen_date(&g, "date", p->date);
	jgen_string(&g, "file", file);
	jgen_int(&g, "rows", p->rows);
	jgen_int(&g, "bytes", p->bytes);
	jgen_string(&g, "sha256", sha_hex);
	jgen_object_begin(&g, "window");
	jgen_date(&g, "from", w->window.from);
	jgen_date(&g, "to", w->window.to);
	jgen_object_end(&g);
	jgen_string(&g, "watermark", watermark);
	jgen_time(&g, "extracted_at", time_now());
	jgen_string(&g, "tool", w->tool);
	jgen_string(&g, "version", CLOSEDLOOP_VERSION);
	jgen_object_end(&g);
	if (!g.failed)
		jgen_check(&g, yajl_gen_get_buf(g.gen, &buf, &n), NULL);
	if (!g.failed)
	{
		text = malloc(n + 2);
		if (text != NULL)
		{
			memcpy(text, buf, n);
			text[n] = '\n';
			text[n + 1] = '\0';
			*len = n + 1;
		}
	}
	else
		log_error("cannot generate the manifest of %s: %s", p->tmp_path,
				  jgen_status_text(g.status));
	yajl_gen_free(g.gen);
	return text;
}

/*
 * staging_partition_commit: data first (synced and renamed), manifest
 * last, so that a reader never sees a manifest without complete data. If
 * the manifest cannot be written the renamed data file is removed again:
 * without its manifest it would only be clutter.
 */
static bool
staging_partition_commit(StagingWriter *w, StagingPartition *p, const char *watermark)
{
	char name[128];
	char manifest_name[128];
	char sha_hex[SHA256_HEX_SIZE];
	char eb[128];
	char *data_path = NULL;
	char *manifest_path = NULL;
	char *manifest = NULL;
	size_t manifest_len = 0;
	Sha256 sha = p->sha;
	bool renamed = false;
	bool ok = false;

	snprintf(name, sizeof(name), "%s%s", w->run_id, DATA_SUFFIX);
	snprintf(manifest_name, sizeof(manifest_name), "%s%s", w->run_id, MANIFEST_SUFFIX);
	data_path = staging_join(p->dir, name);
	manifest_path = staging_join(p->dir, manifest_name);
	if (data_path == NULL || manifest_path == NULL)
	{
		log_error("out of memory committing %s", p->tmp_path);
		goto cleanup;
	}
	if (!staging_partition_open(w, p, false))
		goto cleanup;   /* errors have already been logged */
	if (fflush(p->fp) != 0 || fsync(fileno(p->fp)) != 0)
	{
		log_error("cannot sync %s: %s", p->tmp_path, staging_strerror(errno, eb, sizeof(eb)));
		goto cleanup;
	}
	if (!staging_partition_close(w, p))
		goto cleanup;   /* errors have already been logged */
	if (rename(p->tmp_path, data_path) != 0)
	{
		log_error("cannot rename %s to %s: %s", p->tmp_path, data_path,
				  staging_strerror(errno, eb, sizeof(eb)));
		goto cleanup;
	}
	renamed = true;
	if (!fs_fsync_parent(data_path))
		goto cleanup;   /* errors have already been logged */

	sha256_final_hex(&sha, sha_hex);
	manifest = staging_manifest_text(w, p, watermark, name, sha_hex, &manifest_len);
	if (manifest == NULL)
		goto cleanup;   /* errors have already been logged */
	if (!fs_write_atomic(manifest_path, manifest, manifest_len))
		goto cleanup;   /* errors have already been logged */
	p->committed = true;
	log_debug("staged %s: %lld rows, %lld bytes", data_path, (long long) p->rows,
			  (long long) p->bytes);
	ok = true;

cleanup:
	if (!ok && renamed)
		(void) unlink(data_path);
	free(manifest);
	free(data_path);
	free(manifest_path);
	return ok;
}

/*
 * staging_writer_commit: partitions left empty (every row rewound) carry
 * no information and are dropped, except the one that records an empty
 * extraction. Partitions already committed stay committed if a later one
 * fails: each is atomic on its own through its manifest.
 */
bool
staging_writer_commit(StagingWriter *w, const char *watermark,
					  ClDate commit_date_if_empty, ClError *err)
{
	StagingPartition *empty = NULL;
	size_t kept = 0;
	bool ok = false;

	if (w->committed)
	{
		log_error("BUG: staging writer for %s/%s/%s committed twice", w->family, w->vendor,
				  w->entity);
		goto cleanup;
	}
	if (w->row_open)
	{
		log_error("BUG: staging commit for %s while a row is open", w->entity);
		goto cleanup;
	}
	if (w->failed)
	{
		log_error("not committing %s/%s/%s of run %s: an earlier write failed", w->family,
				  w->vendor, w->entity, w->run_id);
		goto cleanup;
	}
	if (w->rows == 0 && commit_date_if_empty >= 0)
	{
		empty = staging_partition_get(w, commit_date_if_empty);
		if (empty == NULL)
			goto cleanup;   /* errors have already been logged */
	}
	for (size_t i = 0; i < w->nparts; i++)
	{
		StagingPartition *p = w->parts[i];
		if (p->rows == 0 && p != empty)
		{
			staging_partition_discard(w, p);
			staging_partition_free(p);
			continue;
		}
		w->parts[kept++] = p;
	}
	w->nparts = kept;
	for (size_t i = 0; i < w->nparts; i++)
	{
		if (!staging_partition_commit(w, w->parts[i], watermark))
			goto cleanup;   /* errors have already been logged */
	}
	w->committed = true;
	ok = true;

cleanup:
	if (!ok)
		*err = CL_ERR_OUTPUT;
	return ok;
}

/* ---------------------------------------------------------------------
 * Reading
 * --------------------------------------------------------------------- */

typedef struct StagingEntry
{
	StagingFile file;
	char *dir;                  /* owned: the date directory */
} StagingEntry;

typedef struct StagingList
{
	StagingEntry *items;        /* owned */
	size_t count;
	size_t capacity;
} StagingList;

static int
staging_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

static void
staging_names_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/*
 * staging_list_dir lists the visible entries of dir, sorted bytewise so the
 * order does not depend on the file system or the locale. *names is
 * ALLOCATED (free with staging_names_free). A missing directory is an empty
 * list when missing_ok.
 */
static bool
staging_list_dir(const char *dir, bool missing_ok, char ***names, size_t *count,
				 ClError *err)
{
	DIR *d = NULL;
	struct dirent *de;
	char **list = NULL;
	size_t n = 0;
	size_t cap = 0;
	char eb[128];
	bool ok = false;

	*names = NULL;
	*count = 0;
	d = opendir(dir);
	if (d == NULL)
	{
		int e = errno;

		if (missing_ok && e == ENOENT)
			return true;
		log_error("cannot read staging directory %s: %s", dir,
				  staging_strerror(e, eb, sizeof(eb)));
		*err = e == ENOENT ? CL_ERR_CONFIG : CL_ERR_DATA;
		return false;
	}
	for (;;)
	{
		errno = 0;
		de = readdir(d);
		if (de == NULL)
		{
			if (errno != 0)
			{
				log_error("cannot read staging directory %s: %s", dir,
						  staging_strerror(errno, eb, sizeof(eb)));
				*err = CL_ERR_DATA;
				goto cleanup;
			}
			break;
		}
		if (de->d_name[0] == '.')
			continue;
		if (n == cap)
		{
			size_t newcap = cap == 0 ? 16 : cap * 2;
			char **grown = realloc(list, newcap * sizeof(char *));
			if (grown == NULL)
				goto oom;
			list = grown;
			cap = newcap;
		}
		list[n] = strdup(de->d_name);
		if (list[n] == NULL)
			goto oom;
		n++;
	}
	if (n > 0)
		qsort(list, n, sizeof(char *), staging_name_cmp);
	*names = list;
	*count = n;
	list = NULL;
	n = 0;
	ok = true;
	goto cleanup;

oom:
	log_error("out of memory listing %s", dir);
	*err = CL_ERR_INTERNAL;
cleanup:
	staging_names_free(list, n);
	if (d != NULL)
		(void) closedir(d);
	return ok;
}

/* staging_is_dir: path is a directory (symlinks followed). */
static bool
staging_is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool
staging_list_add(StagingList *list, const char *family, const char *vendor,
				 const char *entity, ClDate date, const char *run_id, const char *dir)
{
	StagingEntry *e;

	if (list->count == list->capacity)
	{
		size_t cap = list->capacity == 0 ? 16 : list->capacity * 2;
		StagingEntry *items = realloc(list->items, cap * sizeof(StagingEntry));
		if (items == NULL)
			return false;
		list->items = items;
		list->capacity = cap;
	}
	e = &list->items[list->count];
	memset(e, 0, sizeof(*e));
	snprintf(e->file.family, sizeof(e->file.family), "%s", family);
	snprintf(e->file.vendor, sizeof(e->file.vendor), "%s", vendor);
	snprintf(e->file.entity, sizeof(e->file.entity), "%s", entity);
	snprintf(e->file.run_id, sizeof(e->file.run_id), "%s", run_id);
	e->file.date = date;
	e->dir = strdup(dir);
	if (e->dir == NULL)
		return false;
	list->count++;
	return true;
}

static void
staging_list_free(StagingList *list)
{
	for (size_t i = 0; i < list->count; i++)
		free(list->items[i].dir);
	free(list->items);
	list->items = NULL;
	list->count = 0;
}

/*
 * staging_scan_date adds the committed files of one date directory. A data
 * file whose manifest is missing is being written or was abandoned: it is
 * skipped, as the contract says.
 */
static bool
staging_scan_date(StagingList *list, const char *family, const char *vendor,
				  const char *entity, ClDate date, const char *dir, ClError *err)
{
	char **names = NULL;
	size_t n = 0;
	bool ok = false;

	if (!staging_list_dir(dir, true, &names, &n, err))
		return false;   /* errors have already been logged */
	for (size_t i = 0; i < n; i++)
	{
		const char *name = names[i];
		size_t len = strlen(name);

		if (staging_has_suffix(name, MANIFEST_SUFFIX))
		{
			char run_id[sizeof(list->items[0].file.run_id)];
			size_t idlen = len - strlen(MANIFEST_SUFFIX);

			if (idlen >= sizeof(run_id))
			{
				log_warn("skipping %s/%s: run id too long", dir, name);
				continue;
			}
			memcpy(run_id, name, idlen);
			run_id[idlen] = '\0';
			if (!staging_list_add(list, family, vendor, entity, date, run_id, dir))
			{
				log_error("out of memory scanning %s", dir);
				*err = CL_ERR_INTERNAL;
				goto cleanup;
			}
		}
		else if (staging_has_suffix(name, DATA_SUFFIX))
		{
			char manifest[512];
			int idlen = (int) (len - strlen(DATA_SUFFIX));
			struct stat st;

			snprintf(manifest, sizeof(manifest), "%s/%.*s%s", dir, idlen, name, MANIFEST_SUFFIX);
			if (stat(manifest, &st) != 0)
				log_debug("skipping %s/%s: no manifest (not committed)", dir, name);
		}
	}
	ok = true;

cleanup:
	staging_names_free(names, n);
	return ok;
}

/*
 * staging_scan collects every committed file of entity in [from, to].
 * Directory names are validated, not trusted: a stray folder that is not a
 * date is skipped with a warning rather than read.
 */
static bool
staging_scan(const char *staging_dir, const char *entity, ClDate from, ClDate to,
			 StagingList *list, ClError *err)
{
	char **families = NULL;
	size_t nfamilies = 0;
	char **vendors = NULL;
	size_t nvendors = 0;
	char **dates = NULL;
	size_t ndates = 0;
	char *path = NULL;
	bool ok = false;

	if (!staging_list_dir(staging_dir, false, &families, &nfamilies, err))
		return false;   /* errors have already been logged */
	for (size_t f = 0; f < nfamilies; f++)
	{
		const char *family = families[f];
		char *family_dir;

		/* transform outputs and extractor watermarks live beside the data */
		if (strcmp(family, "out") == 0 || strcmp(family, "state") == 0)
			continue;
		family_dir = staging_join(staging_dir, family);
		if (family_dir == NULL)
			goto oom;
		if (!staging_is_dir(family_dir)
			|| strlen(family) >= sizeof(list->items[0].file.family))
		{
			free(family_dir);
			continue;
		}
		if (!staging_list_dir(family_dir, true, &vendors, &nvendors, err))
		{
			free(family_dir);
			goto cleanup;   /* errors have already been logged */
		}
		for (size_t v = 0; v < nvendors; v++)
		{
			size_t n = strlen(family_dir) + strlen(vendors[v]) + strlen(entity) + 3;

			if (strlen(vendors[v]) >= sizeof(list->items[0].file.vendor))
				continue;
			free(path);
			path = malloc(n);
			if (path == NULL)
			{
				free(family_dir);
				goto oom;
			}
			snprintf(path, n, "%s/%s/%s", family_dir, vendors[v], entity);
			if (!staging_is_dir(path))
				continue;
			if (!staging_list_dir(path, true, &dates, &ndates, err))
			{
				free(family_dir);
				goto cleanup;   /* errors have already been logged */
			}
			for (size_t d = 0; d < ndates; d++)
			{
				ClDate date;
				char *date_dir;
				bool scanned;

				if (!date_parse(dates[d], &date))
				{
					log_warn("skipping %s/%s: not a YYYY-MM-DD partition", path, dates[d]);
					continue;
				}
				if (date < from || date > to)
					continue;
				date_dir = staging_join(path, dates[d]);
				if (date_dir == NULL)
				{
					free(family_dir);
					goto oom;
				}
				scanned = staging_scan_date(list, family, vendors[v], entity, date,
											date_dir, err);
				free(date_dir);
				if (!scanned)
				{
					free(family_dir);
					goto cleanup;   /* errors have already been logged */
				}
			}
			staging_names_free(dates, ndates);
			dates = NULL;
			ndates = 0;
		}
		staging_names_free(vendors, nvendors);
		vendors = NULL;
		nvendors = 0;
		free(family_dir);
	}
	ok = true;
	goto cleanup;

oom:
	log_error("out of memory scanning %s", staging_dir);
	*err = CL_ERR_INTERNAL;
cleanup:
	free(path);
	staging_names_free(dates, ndates);
	staging_names_free(vendors, nvendors);
	staging_names_free(families, nfamilies);
	return ok;
}

/* Order of the contract: family, vendor, date, run_id. */
static int
staging_entry_cmp(const void *a, const void *b)
{
	const StagingFile *x = &((const StagingEntry *) a)->file;
	const StagingFile *y = &((const StagingEntry *) b)->file;
	int c = strcmp(x->family, y->family);

	if (c != 0)
		return c;
	c = strcmp(x->vendor, y->vendor);
	if (c != 0)
		return c;
	if (x->date != y->date)
		return x->date < y->date ? -1 : 1;
	return strcmp(x->run_id, y->run_id);
}

/*
 * staging_read_small reads a whole small file: ALLOCATED, NUL-terminated,
 * caller frees with free(). Logs and returns NULL on failure.
 */
static char *
staging_read_small(const char *path, size_t max, size_t *len)
{
	FILE *fp = NULL;
	char *buf = NULL;
	char eb[128];
	size_t n = 0;
	bool ok = false;

	fp = fopen(path, "rb");
	if (fp == NULL)
	{
		log_error("cannot open %s: %s", path, staging_strerror(errno, eb, sizeof(eb)));
		return NULL;
	}
	buf = malloc(max + 1);
	if (buf == NULL)
	{
		log_error("out of memory reading %s", path);
		goto cleanup;
	}
	n = fread(buf, 1, max + 1, fp);
	if (ferror(fp))
	{
		log_error("cannot read %s: %s", path, staging_strerror(errno, eb, sizeof(eb)));
		goto cleanup;
	}
	if (n > max)
	{
		log_error("%s is larger than %zu bytes: not a staging manifest", path, max);
		goto cleanup;
	}
	buf[n] = '\0';
	*len = n;
	ok = true;

cleanup:
	(void) fclose(fp);
	if (!ok)
	{
		free(buf);
		buf = NULL;
	}
	return buf;
}

typedef struct StagingManifest
{
	int64_t rows;
	int64_t bytes;
	char sha256[SHA256_HEX_SIZE];
	char file[128];
} StagingManifest;

/*
 * staging_load_manifest checks that the manifest names the file it sits
 * beside and has the counters we verify; the data file name must be a plain
 * name in the same directory, never a path.
 */
static bool
staging_load_manifest(const char *path, const StagingFile *f, StagingManifest *m)
{
	char *text = NULL;
	size_t len = 0;
	JsonValue *doc = NULL;
	char perr[512];
	const char *run_id;
	const char *entity;
	const char *date;
	const char *sha;
	const char *file;
	ClDate mdate;
	bool ok = false;

	text = staging_read_small(path, STAGING_MANIFEST_MAX, &len);
	if (text == NULL)
		return false;   /* errors have already been logged */
	doc = json_parse(text, len, perr, sizeof(perr));
	if (doc == NULL)
	{
		log_error("staging manifest %s is not valid JSON: %s", path, perr);
		goto cleanup;
	}
	run_id = json_string(json_member(doc, "run_id"));
	entity = json_string(json_member(doc, "entity"));
	date = json_string(json_member(doc, "date"));
	sha = json_string(json_member(doc, "sha256"));
	file = json_string(json_member(doc, "file"));
	if (run_id == NULL || strcmp(run_id, f->run_id) != 0)
	{
		log_error("staging manifest %s: run_id \"%s\" does not match its file name", path,
				  run_id != NULL ? run_id : "");
		goto cleanup;
	}
	if (entity == NULL || strcmp(entity, f->entity) != 0)
	{
		log_error("staging manifest %s: entity \"%s\" does not match its directory", path,
				  entity != NULL ? entity : "");
		goto cleanup;
	}
	if (date == NULL || !date_parse(date, &mdate) || mdate != f->date)
	{
		log_error("staging manifest %s: date \"%s\" does not match its directory", path,
				  date != NULL ? date : "");
		goto cleanup;
	}
	if (!json_int64(json_member(doc, "rows"), &m->rows) || m->rows < 0
		|| !json_int64(json_member(doc, "bytes"), &m->bytes) || m->bytes < 0)
	{
		log_error("staging manifest %s: rows or bytes missing or invalid", path);
		goto cleanup;
	}
	if (sha == NULL || strlen(sha) != SHA256_HEX_SIZE - 1)
	{
		log_error("staging manifest %s: sha256 missing or invalid", path);
		goto cleanup;
	}
	if (file == NULL || file[0] == '\0' || file[0] == '.' || strchr(file, '/') != NULL
		|| strlen(file) >= sizeof(m->file))
	{
		log_error("staging manifest %s: file \"%s\" is not a plain file name", path,
				  file != NULL ? file : "");
		goto cleanup;
	}
	snprintf(m->sha256, sizeof(m->sha256), "%s", sha);
	snprintf(m->file, sizeof(m->file), "%s", file);
	ok = true;

cleanup:
	json_free(doc);
	free(text);
	return ok;
}

/*
 * Reading is a pipeline of two threads: a producer reads each file, hashes
 * it and parses whole lines into RowBatch trees; the calling thread hands
 * the rows to the row callback in file order. At ten million rows hashing
 * and parsing were half of reading, and the callback (deduplication,
 * interning) the other half, so the two halves overlap on two cores.
 *
 * READ_DEPTH batches circulate: the producer fills a free one while the
 * consumer empties a full one. A batch never holds rows of two files, so
 * each row is passed with its own file. Eight rather than four let the
 * producer run further ahead over small files (4% less reading time at ten
 * million touches, for about 20 MB).
 */
#define READ_DEPTH 8
#define READ_BATCH_BYTES (1024 * 1024)
/* A single row longer than this is refused: no extractor writes one, and
 * the line buffer would otherwise grow without bound on a file without
 * newlines. */
#define READ_MAX_LINE (256 * 1024 * 1024)

typedef struct ReadItem
{
	RowBatch *batch;
	const StagingFile *file;
} ReadItem;

typedef struct ReadPipe
{
	pthread_mutex_t mu;
	pthread_cond_t changed;
	ReadItem full[READ_DEPTH];  /* ring, in file order */
	size_t full_head;
	size_t n_full;
	RowBatch *free_batches[READ_DEPTH];
	size_t n_free;
	bool producer_done;
	bool cancelled;             /* the consumer stopped: the producer stops too */
	bool producer_failed;
	ClError producer_err;

	/* producer only */
	StagingList *list;
	char *buf;                  /* owned: lines read, not yet parsed */
	size_t buf_cap;
} ReadPipe;

static void
pipe_lock(ReadPipe *p)
{
	(void) pthread_mutex_lock(&p->mu);
}

static void
pipe_unlock(ReadPipe *p)
{
	(void) pthread_mutex_unlock(&p->mu);
}

/* pipe_take_free: a free batch for the producer; NULL once cancelled. */
static RowBatch *
pipe_take_free(ReadPipe *p)
{
	RowBatch *b = NULL;

	pipe_lock(p);
	while (p->n_free == 0 && !p->cancelled)
		(void) pthread_cond_wait(&p->changed, &p->mu);
	if (!p->cancelled)
		b = p->free_batches[--p->n_free];
	pipe_unlock(p);
	if (b != NULL)
		row_batch_reset(b);
	return b;
}

/* pipe_put_full hands a batch to the consumer; false once cancelled (the
 * batch then goes back to the free list). */
static bool
pipe_put_full(ReadPipe *p, RowBatch *b, const StagingFile *file)
{
	bool ok;

	pipe_lock(p);
	ok = !p->cancelled;
	if (ok)
	{
		ReadItem *it = &p->full[(p->full_head + p->n_full) % READ_DEPTH];

		it->batch = b;
		it->file = file;
		p->n_full++;
	}
	else
		p->free_batches[p->n_free++] = b;
	(void) pthread_cond_broadcast(&p->changed);
	pipe_unlock(p);
	return ok;
}

/* pipe_take_full: the next batch in file order; false when the producer
 * has finished and everything it produced was taken. */
static bool
pipe_take_full(ReadPipe *p, ReadItem *out)
{
	bool got = false;

	pipe_lock(p);
	while (p->n_full == 0 && !p->producer_done)
		(void) pthread_cond_wait(&p->changed, &p->mu);
	if (p->n_full > 0)
	{
		*out = p->full[p->full_head];
		p->full_head = (p->full_head + 1) % READ_DEPTH;
		p->n_full--;
		got = true;
	}
	pipe_unlock(p);
	return got;
}

static void
pipe_give_back(ReadPipe *p, RowBatch *b)
{
	pipe_lock(p);
	p->free_batches[p->n_free++] = b;
	(void) pthread_cond_broadcast(&p->changed);
	pipe_unlock(p);
}

static void
pipe_cancel(ReadPipe *p)
{
	pipe_lock(p);
	p->cancelled = true;
	(void) pthread_cond_broadcast(&p->changed);
	pipe_unlock(p);
}

/* FileRead: the producer's state for the file being read. */
typedef struct FileRead
{
	ReadPipe *pipe;
	StagingEntry *entry;
	const char *data_path;
	RowBatch *batch;            /* being filled; NULL when cancelled */
	size_t batch_bytes;         /* input bytes parsed into batch */
	size_t rows;                /* rows of the file parsed so far */
} FileRead;

/*
 * read_parse_lines parses len bytes of whole lines into the current batch,
 * handing it over first when it is full. False on bad data (logged) or
 * when the consumer cancelled (batch NULL, nothing logged).
 */
static bool
read_parse_lines(FileRead *fr, const char *data, size_t len)
{
	char msg[512];
	size_t before;

	if (fr->batch_bytes >= READ_BATCH_BYTES)
	{
		if (!pipe_put_full(fr->pipe, fr->batch, &fr->entry->file))
		{
			fr->batch = NULL;
			return false;
		}
		fr->batch = pipe_take_free(fr->pipe);
		fr->batch_bytes = 0;
		if (fr->batch == NULL)
			return false;
	}
	before = row_batch_count(fr->batch);
	if (!row_batch_parse(fr->batch, data, len, fr->rows + 1, msg, sizeof(msg)))
	{
		log_error("staging file %s is not valid NDJSON: %s", fr->data_path, msg);
		return false;
	}
	fr->rows += row_batch_count(fr->batch) - before;
	fr->batch_bytes += len;
	return true;
}

/* last_newline: the last '\n' of buf[0, len), or NULL (memrchr is a GNU
 * extension). Lines are short, so this looks at a few hundred bytes. */
static const char *
last_newline(const char *buf, size_t len)
{
	while (len > 0)
	{
		if (buf[--len] == '\n')
			return buf + len;
	}
	return NULL;
}

/* grow_line_buffer doubles the producer's buffer up to READ_MAX_LINE. */
static bool
grow_line_buffer(ReadPipe *p, const char *data_path)
{
	size_t cap = p->buf_cap * 2;
	char *grown;

	if (cap > READ_MAX_LINE)
	{
		log_error("staging file %s has a row longer than %d MiB: refusing it", data_path,
				  READ_MAX_LINE / (1024 * 1024));
		return false;
	}
	grown = realloc(p->buf, cap);
	if (grown == NULL)
	{
		log_error("out of memory reading %s", data_path);
		return false;
	}
	p->buf = grown;
	p->buf_cap = cap;
	return true;
}

/*
 * produce_file reads, hashes and parses one data file. The size is checked
 * before the first row is handed on, so a file cut short or appended to is
 * refused without passing on any of its rows; content changes of the same
 * size are caught by the hash at the end, which fails the whole read.
 * Returns false on failure (logged, *err set) or when cancelled.
 */
static bool
produce_file(ReadPipe *p, StagingEntry *e, RowBatch **batch, ClError *err)
{
	char manifest_name[128];
	char *manifest_path = NULL;
	char *data_path = NULL;
	StagingManifest m = {0};
	FileRead fr = {0};
	int fd = -1;
	Sha256 sha;
	char sha_hex[SHA256_HEX_SIZE];
	char eb[128];
	struct stat st;
	int64_t bytes = 0;
	size_t carry = 0;
	ClError fail = CL_ERR_DATA;
	bool ok = false;

	fr.pipe = p;
	fr.entry = e;
	fr.batch = *batch;
	snprintf(manifest_name, sizeof(manifest_name), "%s%s", e->file.run_id, MANIFEST_SUFFIX);
	manifest_path = staging_join(e->dir, manifest_name);
	if (manifest_path == NULL)
		goto oom;
	if (!staging_load_manifest(manifest_path, &e->file, &m))
		goto cleanup;   /* errors have already been logged */
	data_path = staging_join(e->dir, m.file);
	if (data_path == NULL)
		goto oom;
	fr.data_path = data_path;
	snprintf(e->file.path, sizeof(e->file.path), "%s", data_path);
	e->file.rows = m.rows;

	fd = open(data_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
	{
		log_error("cannot open staging file %s named by %s: %s", data_path, manifest_path,
				  staging_strerror(errno, eb, sizeof(eb)));
		goto cleanup;
	}
	if (fstat(fd, &st) != 0)
	{
		log_error("cannot stat %s: %s", data_path, staging_strerror(errno, eb, sizeof(eb)));
		goto cleanup;
	}
	if ((int64_t) st.st_size != m.bytes)
	{
		log_error("staging file %s has %lld bytes but its manifest says %lld: refusing it; "
				  "re-run the extract for this partition", data_path,
				  (long long) st.st_size, (long long) m.bytes);
		goto cleanup;
	}
	(void) posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);

	sha256_init(&sha);
	for (;;)
	{
		ssize_t n;
		const char *nl;

		if (carry == p->buf_cap && !grow_line_buffer(p, data_path))
			goto cleanup;
		n = read(fd, p->buf + carry, p->buf_cap - carry);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
		{
			log_error("cannot read %s: %s", data_path, staging_strerror(errno, eb, sizeof(eb)));
			goto cleanup;
		}
		if (n == 0)
			break;
		sha256_update(&sha, p->buf + carry, (size_t) n);
		bytes += n;
		carry += (size_t) n;
		nl = last_newline(p->buf, carry);
		if (nl == NULL)
			continue;   /* a line longer than what is buffered */

		size_t whole = (size_t) (nl - p->buf) + 1;

		if (!read_parse_lines(&fr, p->buf, whole))
			goto cleanup;
		memmove(p->buf, p->buf + whole, carry - whole);
		carry -= whole;
	}
	if (carry > 0 && !read_parse_lines(&fr, p->buf, carry))
		goto cleanup;
	sha256_final_hex(&sha, sha_hex);
	if (bytes != m.bytes)
	{
		log_error("staging file %s changed while being read: %lld bytes, manifest says %lld",
				  data_path, (long long) bytes, (long long) m.bytes);
		goto cleanup;
	}
	if ((int64_t) fr.rows != m.rows)
	{
		log_error("staging file %s has %zu rows but its manifest says %lld: refusing it; "
				  "re-run the extract for this partition", data_path,
				  fr.rows, (long long) m.rows);
		goto cleanup;
	}
	if (strcmp(sha_hex, m.sha256) != 0)
	{
		log_error("staging file %s has sha256 %s but its manifest says %s: the file was "
				  "modified after commit; re-run the extract for this partition",
				  data_path, sha_hex, m.sha256);
		goto cleanup;
	}
	/* The file is verified: its last rows go to the consumer now. */
	if (row_batch_count(fr.batch) > 0)
	{
		if (!pipe_put_full(p, fr.batch, &e->file))
		{
			fr.batch = NULL;
			goto cleanup;
		}
		fr.batch = pipe_take_free(p);
	}
	ok = fr.batch != NULL;
	goto cleanup;

oom:
	log_error("out of memory reading staging files of %s", e->dir);
	fail = CL_ERR_INTERNAL;
cleanup:
	*batch = fr.batch;
	if (!ok)
		*err = fail;
	if (fd >= 0)
		(void) close(fd);
	free(data_path);
	free(manifest_path);
	return ok;
}

/* producer_main reads every file of the list in order. */
static void *
producer_main(void *arg)
{
	ReadPipe *p = arg;
	RowBatch *batch = pipe_take_free(p);
	ClError err = CL_OK;
	bool ok = batch != NULL;

	for (size_t i = 0; ok && i < p->list->count; i++)
		ok = produce_file(p, &p->list->items[i], &batch, &err);
	pipe_lock(p);
	if (batch != NULL)
		p->free_batches[p->n_free++] = batch;
	if (!ok && !p->cancelled)
	{
		p->producer_failed = true;
		p->producer_err = err;
	}
	p->producer_done = true;
	(void) pthread_cond_broadcast(&p->changed);
	pipe_unlock(p);
	return NULL;
}

/*
 * read_files runs the producer on a second thread and feeds the rows to fn
 * here, in file order.
 */
static bool
read_files(StagingList *list, StagingRowFn fn, void *ctx, ClError *err)
{
	ReadPipe p = {0};
	pthread_t producer;
	bool started = false;
	bool ok = false;
	int rc;

	*err = CL_ERR_INTERNAL;
	p.list = list;
	p.buf_cap = READ_BATCH_BYTES;
	p.buf = malloc(p.buf_cap);
	if (p.buf == NULL)
	{
		log_error("out of memory reading staging files");
		return false;
	}
	(void) pthread_mutex_init(&p.mu, NULL);
	(void) pthread_cond_init(&p.changed, NULL);
	for (int i = 0; i < READ_DEPTH; i++)
	{
		p.free_batches[i] = row_batch_new();
		if (p.free_batches[i] == NULL)
		{
			log_error("out of memory reading staging files");
			goto cleanup;
		}
		p.n_free++;
	}
	rc = pthread_create(&producer, NULL, producer_main, &p);
	if (rc != 0)
	{
		log_error("cannot start the staging reader thread: %s", strerror(rc));
		goto cleanup;
	}
	started = true;

	ReadItem it;
	bool consumer_ok = true;

	while (consumer_ok && pipe_take_full(&p, &it))
	{
		size_t n = row_batch_count(it.batch);

		for (size_t i = 0; i < n && consumer_ok; i++)
			consumer_ok = fn(ctx, row_batch_row(it.batch, i), it.file);
		pipe_give_back(&p, it.batch);
	}
	if (!consumer_ok)
	{
		pipe_cancel(&p);
		*err = CL_ERR_DATA;     /* the callback has logged why */
	}
	(void) pthread_join(producer, NULL);
	started = false;
	if (consumer_ok && p.producer_failed)
		*err = p.producer_err;
	else if (consumer_ok)
		ok = true;

cleanup:
	if (started)
	{
		pipe_cancel(&p);
		(void) pthread_join(producer, NULL);
	}
	for (size_t i = 0; i < p.n_free; i++)
		row_batch_free(p.free_batches[i]);
	/* batches still queued when the consumer stopped early */
	for (size_t i = 0; i < p.n_full; i++)
		row_batch_free(p.full[(p.full_head + i) % READ_DEPTH].batch);
	(void) pthread_cond_destroy(&p.changed);
	(void) pthread_mutex_destroy(&p.mu);
	free(p.buf);
	if (ok)
		*err = CL_OK;
	return ok;
}

/*
 * staging_read: when the row callback returns false, reading stops and the
 * failure is reported as CL_ERR_DATA (the callback has logged why).
 */
bool
staging_read(const char *staging_dir, const char *entity, ClDate from,
			 ClDate to, StagingRowFn fn, void *ctx, ClError *err)
{
	StagingList list = {0};
	bool ok = false;

	if (entity == NULL || entity[0] == '\0' || entity[0] == '.' || strchr(entity, '/') != NULL)
	{
		log_error("BUG: staging_read of invalid entity \"%s\"", entity != NULL ? entity : "");
		*err = CL_ERR_INTERNAL;
		return false;
	}
	if (!staging_scan(staging_dir, entity, from, to, &list, err))
		goto cleanup;   /* errors have already been logged */
	if (list.count > 1)
		qsort(list.items, list.count, sizeof(StagingEntry), staging_entry_cmp);
	if (list.count > 0 && !read_files(&list, fn, ctx, err))
		goto cleanup;   /* errors have already been logged */
	log_debug("read %zu staging files of %s from %s", list.count, entity, staging_dir);
	ok = true;

cleanup:
	staging_list_free(&list);
	return ok;
}

/*
 * staging_new_run_id: the entropy only separates runs started in the same
 * second; if the kernel cannot give any, the clock's nanoseconds and the pid
 * still do that well enough.
 */
char *
staging_new_run_id(char *buf)
{
	unsigned char rnd[3] = {0};
	ClTime now = time_now();
	ClDate day = time_utc_date(now);
	int64_t secs = (now - date_start_utc(day)) / CL_USEC_PER_SEC;
	int y;
	int mo;
	int d;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t) sizeof(rnd))
	{
		uint32_t mix = (uint32_t) (now % CL_USEC_PER_SEC) ^ ((uint32_t) getpid() << 8);
		rnd[0] = (unsigned char) mix;
		rnd[1] = (unsigned char) (mix >> 8);
		rnd[2] = (unsigned char) (mix >> 16);
	}
	date_to_ymd(day, &y, &mo, &d);
	snprintf(buf, CL_RUN_ID_SIZE, "%04d%02d%02dT%02d%02d%02dZ-%02x%02x%02x", y, mo, d,
			 (int) (secs / 3600), (int) (secs / 60 % 60), (int) (secs % 60),
			 rnd[0], rnd[1], rnd[2]);
	return buf;
}
