/*
 * parse_only.c: cl-bench-parse, the input's limit for the transform.
 *
 *   cl-bench-parse [--threads N] [--hash] STAGING_DIR
 *
 * Finds every committed staging file (a <run>.ndjson beside its
 * <run>.manifest.json, under <family>/<vendor>/<entity>/<date>/, not under
 * out/ or state/) and runs it through yajl with callbacks that accept every
 * event and do nothing: the lexing, UTF-8 checking, string unescaping and
 * structure checking every consumer pays, and nothing else. With --hash the
 * bytes also go through SHA-256, as staging_read verifies them. Files are
 * spread over N threads, largest first to the least loaded thread.
 *
 * Prints one line: threads=N files=F bytes=B seconds=S mb_per_s=X.
 * Exit codes: 0 ok, 64 usage, 65 a file is unreadable or not valid NDJSON.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <yajl/yajl_parse.h>

#include "exitcode.h"
#include "sha256.h"

#define PARSE_CHUNK (256 * 1024)
#define MAX_THREADS 64
#define MANIFEST_SUFFIX ".manifest.json"

typedef struct ParseFile
{
	char *path;                 /* owned: the data file */
	int64_t bytes;
	int thread;
} ParseFile;

typedef struct FileList
{
	ParseFile *items;           /* owned */
	size_t n;
	size_t cap;
} FileList;

typedef struct Worker
{
	pthread_t tid;
	const FileList *files;      /* borrowed */
	int index;
	bool hash;
	bool ok;
	int64_t bytes;
} Worker;

/* ---------------------------------------------------------------------
 * yajl callbacks: accept everything, keep nothing.
 * --------------------------------------------------------------------- */

static int
cb_null(void *ctx)
{
	(void) ctx;
	return 1;
}

static int
cb_bool(void *ctx, int v)
{
	(void) ctx;
	(void) v;
	return 1;
}

static int
cb_number(void *ctx, const char *s, size_t len)
{
	(void) ctx;
	(void) s;
	(void) len;
	return 1;
}

static int
cb_string(void *ctx, const unsigned char *s, size_t len)
{
	(void) ctx;
	(void) s;
	(void) len;
	return 1;
}

static const yajl_callbacks callbacks = {
	cb_null, cb_bool, NULL, NULL, cb_number, cb_string,
	cb_null, cb_string, cb_null, cb_null, cb_null
};

/* ---------------------------------------------------------------------
 * Finding the committed files
 * --------------------------------------------------------------------- */

/* list_add takes ownership of path (ALLOCATED by the caller). */
static bool
list_add(FileList *l, char *path, int64_t bytes)
{
	if (l->n == l->cap)
	{
		size_t cap = l->cap == 0 ? 256 : l->cap * 2;
		ParseFile *grown = realloc(l->items, cap * sizeof(ParseFile));

		if (grown == NULL)
		{
			free(path);
			return false;
		}
		l->items = grown;
		l->cap = cap;
	}
	l->items[l->n].path = path;
	l->items[l->n].bytes = bytes;
	l->items[l->n].thread = 0;
	l->n++;
	return true;
}

static void
list_free(FileList *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->items[i].path);
	free(l->items);
}

/*
 * add_committed: name is a manifest in dir; its data file is added when it
 * exists (the writer names it <run>.ndjson).
 */
static bool
add_committed(FileList *l, const char *dir, const char *name)
{
	size_t idlen = strlen(name) - strlen(MANIFEST_SUFFIX);
	size_t n = strlen(dir) + idlen + 16;
	char *path = malloc(n);
	struct stat st;

	if (path == NULL)
		return false;
	snprintf(path, n, "%s/%.*s.ndjson", dir, (int) idlen, name);
	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
	{
		free(path);
		return true;
	}
	return list_add(l, path, (int64_t) st.st_size);
}

/*
 * walk descends family/vendor/entity/date (depth 0..3) and collects the
 * manifests of depth 4; the transform's out/ and the extractors' state/ are
 * not staging data.
 */
static bool
walk(FileList *l, const char *dir, int depth)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	bool ok = true;

	if (d == NULL)
	{
		fprintf(stderr, "cl-bench-parse: cannot read %s: %s\n", dir, strerror(errno));
		return false;
	}
	while (ok && (de = readdir(d)) != NULL)
	{
		const char *name = de->d_name;
		size_t len = strlen(name);

		if (name[0] == '.')
			continue;
		if (depth == 0 && (strcmp(name, "out") == 0 || strcmp(name, "state") == 0))
			continue;
		if (depth == 4)
		{
			if (len > strlen(MANIFEST_SUFFIX)
				&& strcmp(name + len - strlen(MANIFEST_SUFFIX), MANIFEST_SUFFIX) == 0)
				ok = add_committed(l, dir, name);
		}
		else
		{
			size_t n = strlen(dir) + len + 2;
			char *sub = malloc(n);
			struct stat st;

			if (sub == NULL)
			{
				ok = false;
				break;
			}
			snprintf(sub, n, "%s/%s", dir, name);
			if (stat(sub, &st) == 0 && S_ISDIR(st.st_mode))
				ok = walk(l, sub, depth + 1);
			free(sub);
		}
	}
	(void) closedir(d);
	return ok;
}

static int
size_desc(const void *a, const void *b)
{
	const ParseFile *x = a;
	const ParseFile *y = b;

	if (x->bytes != y->bytes)
		return x->bytes > y->bytes ? -1 : 1;
	return strcmp(x->path, y->path);
}

/* assign: largest file first to the thread with the fewest bytes so far. */
static void
assign(FileList *l, int threads)
{
	int64_t load[MAX_THREADS] = { 0 };

	qsort(l->items, l->n, sizeof(ParseFile), size_desc);
	for (size_t i = 0; i < l->n; i++)
	{
		int best = 0;

		for (int t = 1; t < threads; t++)
		{
			if (load[t] < load[best])
				best = t;
		}
		l->items[i].thread = best;
		load[best] += l->items[i].bytes;
	}
}

/* ---------------------------------------------------------------------
 * Parsing
 * --------------------------------------------------------------------- */

/*
 * parse_file streams one file through a fresh parser (NDJSON: many top-level
 * values); false with a message on a read or syntax error.
 */
static bool
parse_file(const char *path, unsigned char *buf, bool hash, int64_t *bytes)
{
	yajl_handle h = yajl_alloc(&callbacks, NULL, NULL);
	Sha256 sha;
	int fd = -1;
	bool ok = false;

	if (h == NULL)
	{
		fprintf(stderr, "cl-bench-parse: out of memory\n");
		return false;
	}
	yajl_config(h, yajl_allow_multiple_values, 1);
	sha256_init(&sha);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
	{
		fprintf(stderr, "cl-bench-parse: cannot open %s: %s\n", path, strerror(errno));
		goto cleanup;
	}
	for (;;)
	{
		ssize_t n = read(fd, buf, PARSE_CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
		{
			fprintf(stderr, "cl-bench-parse: cannot read %s: %s\n", path, strerror(errno));
			goto cleanup;
		}
		if (n == 0)
			break;
		*bytes += n;
		if (hash)
			sha256_update(&sha, buf, (size_t) n);
		if (yajl_parse(h, buf, (size_t) n) != yajl_status_ok)
		{
			unsigned char *msg = yajl_get_error(h, 0, buf, (size_t) n);

			fprintf(stderr, "cl-bench-parse: %s: %s\n", path, (const char *) msg);
			yajl_free_error(h, msg);
			goto cleanup;
		}
	}
	if (yajl_complete_parse(h) != yajl_status_ok)
	{
		fprintf(stderr, "cl-bench-parse: %s: truncated JSON\n", path);
		goto cleanup;
	}
	if (hash)
	{
		char hex[SHA256_HEX_SIZE];

		sha256_final_hex(&sha, hex);
	}
	ok = true;

cleanup:
	if (fd >= 0)
		(void) close(fd);
	yajl_free(h);
	return ok;
}

/* worker_main parses the files assigned to one thread. */
static void *
worker_main(void *arg)
{
	Worker *w = arg;
	unsigned char *buf = malloc(PARSE_CHUNK);

	w->ok = buf != NULL;
	for (size_t i = 0; w->ok && i < w->files->n; i++)
	{
		if (w->files->items[i].thread == w->index)
			w->ok = parse_file(w->files->items[i].path, buf, w->hash, &w->bytes);
	}
	free(buf);
	return NULL;
}

static double
now_seconds(void)
{
	struct timespec ts;

	(void) clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	static const struct option options[] = {
		{"threads", required_argument, NULL, 'j'},
		{"hash", no_argument, NULL, 'H'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}
	};
	Worker workers[MAX_THREADS];
	FileList files = { 0 };
	int threads = 1;
	bool hash = false;
	int started = 0;
	int64_t bytes = 0;
	double t0;
	double secs;
	int opt;
	int rc = EXIT_CODE_DATAERR;

	while ((opt = getopt_long(argc, argv, "j:Hh", options, NULL)) != -1)
	{
		char *end = NULL;
		long v;

		switch (opt)
		{
			case 'j':
				errno = 0;
				v = strtol(optarg, &end, 10);
				if (errno != 0 || end == optarg || *end != '\0' || v < 1 || v > MAX_THREADS)
				{
					fprintf(stderr, "cl-bench-parse: --threads must be 1..%d\n", MAX_THREADS);
					return EXIT_CODE_USAGE;
				}
				threads = (int) v;
				break;
			case 'H':
				hash = true;
				break;
			case 'h':
				printf("usage: cl-bench-parse [--threads N] [--hash] STAGING_DIR\n");
				return EXIT_CODE_OK;
			default:
				fprintf(stderr, "usage: cl-bench-parse [--threads N] [--hash] STAGING_DIR\n");
				return EXIT_CODE_USAGE;
		}
	}
	if (optind + 1 != argc)
	{
		fprintf(stderr, "usage: cl-bench-parse [--threads N] [--hash] STAGING_DIR\n");
		return EXIT_CODE_USAGE;
	}
	if (!walk(&files, argv[optind], 0))
	{
		goto cleanup;   /* errors have already been printed */
	}
	assign(&files, threads);
	t0 = now_seconds();
	for (int t = 0; t < threads; t++)
	{
		workers[t] = (Worker) { .files = &files, .index = t, .hash = hash };
		if (pthread_create(&workers[t].tid, NULL, worker_main, &workers[t]) != 0)
		{
			fprintf(stderr, "cl-bench-parse: cannot start a thread\n");
			break;
		}
		started++;
	}
	rc = started == threads ? EXIT_CODE_OK : EXIT_CODE_SOFTWARE;
	for (int t = 0; t < started; t++)
	{
		(void) pthread_join(workers[t].tid, NULL);
		bytes += workers[t].bytes;
		if (!workers[t].ok)
			rc = EXIT_CODE_DATAERR;
	}
	secs = now_seconds() - t0;
	if (rc == EXIT_CODE_OK)
		printf("threads=%d files=%zu bytes=%" PRId64 " seconds=%.3f mb_per_s=%.1f%s\n", threads,
			   files.n, bytes, secs, secs > 0 ? (double) bytes / 1e6 / secs : 0.0,
			   hash ? " hash=sha256" : "");

cleanup:
	list_free(&files);
	return rc;
}
