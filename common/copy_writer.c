/*
 * copy_writer.c: PostgreSQL COPY text format rows.
 *
 * Only backslash, TAB, LF and CR are escaped. That is all COPY FROM needs
 * with the default delimiter: every other byte, UTF-8 included, stands for
 * itself, and since a backslash in data always becomes "\\", neither the
 * NULL marker "\N" nor the end-of-data line "\." can be produced by a value.
 *
 * Failures are sticky (w->failed) and logged once, with the file name, at
 * the point where errno is still meaningful; later field calls are no-ops
 * and copy_writer_close() reports the failure by returning false.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "copy_writer.h"
#include "log.h"
#include "money.h"

/* copy_decimal and copy_money print at most this many fraction digits;
 * money_format's limit, and more than any numeric column here uses. */
#define COPY_MAX_SCALE 18

/*
 * escape_letter gives the letter that follows the backslash when byte c
 * must be escaped, or 0 when c is written as is.
 */
static char
escape_letter(unsigned char c)
{
	switch (c)
	{
		case '\\': return '\\';
		case '\t': return 't';
		case '\n': return 'n';
		case '\r': return 'r';
		default: return 0;
	}
}

static const char *
cw_name(const CopyWriter *w)
{
	return w->path != NULL ? w->path : "(attached stream)";
}

/*
 * cw_fail marks the writer failed, logging only the first failure: the
 * ones after it are consequences.
 */
static void
cw_fail(CopyWriter *w, const char *what)
{
	if (!w->failed)
		log_error("COPY output %s: %s", cw_name(w), what);
	w->failed = true;
}

/*
 * cw_fail_errno is cw_fail with the text of errno err.
 */
static void
cw_fail_errno(CopyWriter *w, const char *what, int err)
{
	if (!w->failed)
		log_error("COPY output %s: %s: %s", cw_name(w), what, strerror(err));
	w->failed = true;
}

/*
 * cw_write appends raw bytes and counts them; it does nothing once the
 * writer has failed, so a broken file is not written to any further.
 */
static void
cw_write(CopyWriter *w, const void *data, size_t len)
{
	if (w->failed || len == 0)
		return;
	if (w->fp == NULL)
	{
		cw_fail(w, "BUG: write to a writer that is not open");
		return;
	}
	if (fwrite(data, 1, len, w->fp) != len)
	{
		cw_fail_errno(w, "write failed", errno);
		return;
	}
	w->bytes += (int64_t) len;
}

/* cw_begin_field writes the delimiter that separates a field from the
 * previous one in the row. */
static void
cw_begin_field(CopyWriter *w)
{
	if (w->field > 0)
		cw_write(w, "\t", 1);
	w->field++;
}

/*
 * copy_writer_open creates "<path>.tmp" for writing; copy_writer_close()
 * renames it to path. The parent directory must exist. On failure the
 * writer is left released and failed.
 */
bool
copy_writer_open(CopyWriter *w, const char *path)
{
	int fd = -1;
	size_t n;
	int written;

	memset(w, 0, sizeof(*w));
	w->failed = true;           /* until the stream is open */
	if (path == NULL)
	{
		log_error("BUG: copy_writer_open called without a path");
		return false;
	}

	w->path = strdup(path);
	n = strlen(path) + sizeof(".tmp");
	w->tmp_path = malloc(n);
	if (w->path == NULL || w->tmp_path == NULL)
	{
		log_error("COPY output %s: out of memory", path);
		goto cleanup;
	}
	written = snprintf(w->tmp_path, n, "%s.tmp", path);
	if (written < 0 || (size_t) written >= n)
	{
		log_error("BUG: COPY output %s: temporary name truncated", path);
		goto cleanup;
	}

	fd = open(w->tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
	{
		log_error("COPY output %s: cannot create %s: %s", path, w->tmp_path,
				  strerror(errno));
		goto cleanup;
	}
	w->fp = fdopen(fd, "wb");
	if (w->fp == NULL)
	{
		log_error("COPY output %s: fdopen failed: %s", path, strerror(errno));
		goto cleanup;
	}
	w->failed = false;
	return true;

cleanup:
	if (fd >= 0)
	{
		(void) close(fd);
		(void) unlink(w->tmp_path);
	}
	free(w->path);
	free(w->tmp_path);
	w->path = NULL;
	w->tmp_path = NULL;
	return false;
}

/*
 * copy_writer_attach writes to a stream the caller owns (tests, stdout);
 * copy_writer_close() flushes it but neither closes nor renames anything.
 */
void
copy_writer_attach(CopyWriter *w, FILE *fp)
{
	memset(w, 0, sizeof(*w));
	w->fp = fp;
}

void
copy_text(CopyWriter *w, const char *s)
{
	if (s == NULL)
	{
		copy_null(w);
		return;
	}
	copy_text_len(w, s, strlen(s));
}

/*
 * copy_text_len writes one escaped text field (NULL s: a NULL field).
 * Unescaped runs go out in one fwrite each. A NUL byte fails the writer:
 * PostgreSQL text cannot hold one, and dropping it would silently change
 * the value.
 */
void
copy_text_len(CopyWriter *w, const char *s, size_t len)
{
	size_t run = 0;

	if (s == NULL)
	{
		copy_null(w);
		return;
	}
	cw_begin_field(w);
	for (size_t i = 0; i < len; i++)
	{
		char letter = escape_letter((unsigned char) s[i]);

		if (s[i] == '\0')
		{
			cw_fail(w, "text value contains a NUL byte");
			return;
		}
		if (letter == 0)
			continue;

		char esc[2] = {'\\', letter};

		cw_write(w, s + run, i - run);
		cw_write(w, esc, sizeof(esc));
		run = i + 1;
	}
	cw_write(w, s + run, len - run);
}

void
copy_null(CopyWriter *w)
{
	cw_begin_field(w);
	cw_write(w, "\\N", 2);
}

void
copy_int(CopyWriter *w, int64_t v)
{
	char buf[24];
	int n = snprintf(buf, sizeof(buf), "%" PRId64, v);

	cw_begin_field(w);
	if (n < 0 || (size_t) n >= sizeof(buf))
	{
		cw_fail(w, "BUG: integer formatting truncated");
		return;
	}
	cw_write(w, buf, (size_t) n);
}

/*
 * cw_fixed_point writes num / 10^scale; a scale out of range is a caller
 * bug (an unknown currency's -1, say) and fails the writer rather than
 * printing a wrong amount.
 */
static void
cw_fixed_point(CopyWriter *w, int64_t num, int scale)
{
	char buf[CL_MONEY_BUFSIZE];

	cw_begin_field(w);
	if (scale < 0 || scale > COPY_MAX_SCALE)
	{
		if (!w->failed)
			log_error("BUG: COPY output %s: decimal scale %d out of range 0..%d",
					  cw_name(w), scale, COPY_MAX_SCALE);
		w->failed = true;
		return;
	}
	(void) money_format(num, scale, buf);
	cw_write(w, buf, strlen(buf));
}

void
copy_money(CopyWriter *w, int64_t minor, int exponent)
{
	cw_fixed_point(w, minor, exponent);
}

void
copy_decimal(CopyWriter *w, int64_t num, int scale)
{
	cw_fixed_point(w, num, scale);
}

void
copy_time(CopyWriter *w, ClTime t)
{
	char buf[CL_TIME_BUFSIZE];

	cw_begin_field(w);
	(void) time_format_rfc3339(t, buf);
	cw_write(w, buf, strlen(buf));
}

void
copy_date(CopyWriter *w, ClDate d)
{
	char buf[CL_DATE_BUFSIZE];

	cw_begin_field(w);
	(void) date_format(d, buf);
	cw_write(w, buf, strlen(buf));
}

void
copy_bool(CopyWriter *w, bool b)
{
	cw_begin_field(w);
	cw_write(w, b ? "t" : "f", 1);
}

void
copy_end_row(CopyWriter *w)
{
	cw_write(w, "\n", 1);
	w->rows++;
	w->field = 0;
}

/*
 * fsync_parent_dir makes a rename in path's directory durable. EINVAL and
 * EBADF mean the file system cannot sync directories at all (as
 * PostgreSQL's fsync_fname also assumes); that is not an error.
 */
static bool
fsync_parent_dir(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	int fd;
	bool ok = true;

	if (slash == NULL)
	{
		dir[0] = '.';
		dir[1] = '\0';
	}
	else if (slash == path)
	{
		dir[0] = '/';
		dir[1] = '\0';
	}
	else
	{
		size_t len = (size_t) (slash - path);

		if (len >= sizeof(dir))
		{
			log_error("COPY output %s: directory name too long", path);
			return false;
		}
		memcpy(dir, path, len);
		dir[len] = '\0';
	}

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
	{
		log_error("COPY output %s: cannot open directory %s: %s", path, dir,
				  strerror(errno));
		return false;
	}
	if (fsync(fd) != 0 && errno != EINVAL && errno != EBADF)
	{
		log_error("COPY output %s: fsync of directory %s failed: %s", path,
				  dir, strerror(errno));
		ok = false;
	}
	(void) close(fd);
	return ok;
}

/*
 * cw_release frees what copy_writer_open allocated; counters and the
 * failure flag stay readable after close.
 */
static void
cw_release(CopyWriter *w)
{
	free(w->path);
	free(w->tmp_path);
	w->path = NULL;
	w->tmp_path = NULL;
	w->fp = NULL;
	w->field = 0;
}

/*
 * copy_writer_close commits the file: flush, fsync, close, rename to the
 * final name, fsync the directory. On any failure the temporary file is
 * removed, so a reader never sees a partial output under the final name.
 * Calling it again after it returned is harmless.
 */
bool
copy_writer_close(CopyWriter *w)
{
	bool owned = w->path != NULL;

	if (w->fp == NULL)
	{
		cw_release(w);
		return !w->failed;
	}
	if (w->field != 0)
		cw_fail(w, "BUG: closed in the middle of a row");
	if (!w->failed && fflush(w->fp) != 0)
		cw_fail_errno(w, "flush failed", errno);
	if (!owned)
	{
		cw_release(w);
		return !w->failed;
	}

	if (!w->failed && fsync(fileno(w->fp)) != 0)
		cw_fail_errno(w, "fsync failed", errno);
	if (fclose(w->fp) != 0)
		cw_fail_errno(w, "close failed", errno);
	w->fp = NULL;
	if (!w->failed && rename(w->tmp_path, w->path) != 0)
		cw_fail_errno(w, "rename from temporary file failed", errno);
	if (w->failed)
		(void) unlink(w->tmp_path);
	else if (!fsync_parent_dir(w->path))
		w->failed = true;

	cw_release(w);
	return !w->failed;
}

/*
 * copy_writer_abort discards the output: the temporary file is removed and
 * the writer released and marked failed, so a later close returns false.
 */
void
copy_writer_abort(CopyWriter *w)
{
	if (w->fp != NULL && w->path != NULL)
	{
		(void) fclose(w->fp);
		(void) unlink(w->tmp_path);
	}
	cw_release(w);
	w->failed = true;
}

/*
 * copy_escape escapes len bytes of src into dst. The return value is the
 * escaped length; when it exceeds dstsize nothing is written. A NUL is
 * appended only when dstsize leaves room for it, and is not counted.
 */
size_t
copy_escape(const char *src, size_t len, char *dst, size_t dstsize)
{
	size_t need = 0;
	size_t pos = 0;

	if (src == NULL)
		len = 0;
	for (size_t i = 0; i < len; i++)
		need += escape_letter((unsigned char) src[i]) != 0 ? 2 : 1;
	if (dst == NULL || need > dstsize)
		return need;

	for (size_t i = 0; i < len; i++)
	{
		char letter = escape_letter((unsigned char) src[i]);

		if (letter != 0)
		{
			dst[pos++] = '\\';
			dst[pos++] = letter;
		}
		else
		{
			dst[pos++] = src[i];
		}
	}
	if (pos < dstsize)
		dst[pos] = '\0';
	return need;
}
