/*
 * copy_writer.h: rows in PostgreSQL COPY text format.
 *
 * Fields are separated by TAB, rows end with LF, NULL is \N, and backslash,
 * TAB, LF and CR inside values are escaped as \\, \t, \n, \r. Writers keep
 * a sticky failure flag: append many fields, check once at close.
 *
 * Every byte passes through the writer's own buffer and a running SHA-256
 * on its way out, so the checksum of a file is known when it is closed,
 * without reading the file back.
 */
#ifndef CL_COPY_WRITER_H
#define CL_COPY_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sha256.h"
#include "timeutil.h"

/* Bytes buffered before one write(2). */
#define COPY_WRITER_BUFSIZE (256 * 1024)

struct CopyDayCache;

typedef struct CopyWriter
{
	int fd;                 /* owned when opened by copy_writer_open, else -1 */
	FILE *fp;               /* attached stream (copy_writer_attach), not owned */
	char *path;             /* owned: final path */
	char *tmp_path;         /* owned: temporary path while writing */
	char *buf;              /* owned: COPY_WRITER_BUFSIZE bytes not yet written */
	size_t used;            /* bytes pending in buf */
	struct CopyDayCache *days;  /* owned: dates already formatted */
	Sha256 hash;            /* of every byte handed to the file or stream */
	int64_t flushed;        /* bytes handed to the file or stream */
	int64_t writeback;      /* bytes whose writeback has been started */
	int64_t rows;
	int64_t bytes;          /* bytes written; final after close */
	int field;              /* fields written in the current row */
	bool failed;
	char sha256[SHA256_HEX_SIZE];   /* of the whole output, set by a successful close */
} CopyWriter;

/* Open path for writing (under a temporary name until close). false on
 * error (logged). */
bool copy_writer_open(CopyWriter *w, const char *path);
/* Attach to an existing stream (tests, dry runs); the stream is flushed
 * but not closed. A writer that cannot allocate its buffer is failed. */
void copy_writer_attach(CopyWriter *w, FILE *fp);

void copy_text(CopyWriter *w, const char *s);           /* NULL -> \N */
void copy_text_len(CopyWriter *w, const char *s, size_t len);
void copy_null(CopyWriter *w);
void copy_int(CopyWriter *w, int64_t v);
void copy_money(CopyWriter *w, int64_t minor, int exponent);  /* 1234.50 */
void copy_time(CopyWriter *w, ClTime t);                /* RFC 3339 UTC */
void copy_date(CopyWriter *w, ClDate d);
void copy_bool(CopyWriter *w, bool b);                  /* t / f */
/* A fixed-point decimal with scale digits, value = num / 10^scale. */
void copy_decimal(CopyWriter *w, int64_t num, int scale);
void copy_end_row(CopyWriter *w);

/* Flush, fsync and rename into place; w->sha256 then holds the checksum
 * of the bytes written. false if anything failed (logged with the path).
 * Always releases the writer's resources. */
bool copy_writer_close(CopyWriter *w);
/* Drop an unfinished file. */
void copy_writer_abort(CopyWriter *w);

/* Escape one value into dst (COPY text rules); returns bytes written, or
 * the size needed when dst is too small (nothing written then). */
size_t copy_escape(const char *src, size_t len, char *dst, size_t dstsize);

#endif
