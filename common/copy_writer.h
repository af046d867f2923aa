/*
 * copy_writer.h: rows in PostgreSQL COPY text format.
 *
 * Fields are separated by TAB, rows end with LF, NULL is \N, and backslash,
 * TAB, LF and CR inside values are escaped as \\, \t, \n, \r. Writers keep
 * a sticky failure flag: append many fields, check once at close.
 */
#ifndef CL_COPY_WRITER_H
#define CL_COPY_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "timeutil.h"

typedef struct CopyWriter
{
	FILE *fp;               /* owned when opened by copy_writer_open */
	char *path;             /* owned: final path */
	char *tmp_path;         /* owned: temporary path while writing */
	int64_t rows;
	int64_t bytes;
	int field;              /* fields written in the current row */
	bool failed;
} CopyWriter;

/* Open path for writing (under a temporary name until close). false on
 * error (logged). */
bool copy_writer_open(CopyWriter *w, const char *path);
/* Attach to an existing stream (tests); the stream is not closed. */
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

/* Flush, fsync and rename into place. false if anything failed (logged
 * with the path). Always releases the writer's resources. */
bool copy_writer_close(CopyWriter *w);
/* Drop an unfinished file. */
void copy_writer_abort(CopyWriter *w);

/* Escape one value into dst (COPY text rules); returns bytes written, or
 * the size needed when dst is too small (nothing written then). */
size_t copy_escape(const char *src, size_t len, char *dst, size_t dstsize);

#endif
