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
#define _GNU_SOURCE             /* sync_file_range */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "copy_writer.h"
#include "log.h"

/* copy_decimal and copy_money print at most this many fraction digits;
 * money_format's limit, and more than any numeric column here uses. */
#define COPY_MAX_SCALE 18

/*
 * Writeback of a file is started every this many bytes, so that the disk
 * works while rows are still being formatted and the fsync at close has
 * little left to wait for.
 */
#define COPY_WRITEBACK_STEP (32 * 1024 * 1024)

/* Slots of the day cache: more than the days a year of touches spans. */
#define DAY_CACHE_SLOTS 1024

/*
 * Formatted dates, by day number modulo DAY_CACHE_SLOTS. Rows carry a few
 * hundred distinct days, so date_format runs a few hundred times per file
 * instead of once per field, and stays the one definition of the format.
 */
struct CopyDayCache
{
	ClDate day[DAY_CACHE_SLOTS];
	uint8_t len[DAY_CACHE_SLOTS];       /* 0: empty */
	char text[DAY_CACHE_SLOTS][CL_DATE_BUFSIZE];
};

/*
 * escapes[c] is the letter that follows the backslash when byte c must be
 * escaped, 0 when c is written as is; NUL is marked 1 because text cannot
 * carry it at all.
 */
static const char escapes[256] = {
	[0] = 1,
	['\\'] = '\\',
	['\t'] = 't',
	['\n'] = 'n',
	['\r'] = 'r',
};

/*
 * escape_letter gives the letter that follows the backslash when byte c
 * must be escaped, or 0 when c is written as is.
 */
static char
escape_letter(unsigned char c)
{
	return c == 0 ? 0 : escapes[c];
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
 * cw_write_fd writes all of len bytes, resuming after signals and short
 * writes; false on error (logged).
 */
static bool
cw_write_fd(CopyWriter *w, const char *p, size_t len)
{
	while (len > 0)
	{
		ssize_t n = write(w->fd, p, len);

		if (n < 0)
		{
			if (errno == EINTR)
				continue;
			cw_fail_errno(w, errno == ENOSPC ? "write failed, the disk is full"
						  : "write failed", errno);
			return false;
		}
		if (n == 0)
		{
			cw_fail(w, "write failed: no progress (disk full?)");
			return false;
		}
		p += n;
		len -= (size_t) n;
	}
	return true;
}

/*
 * cw_start_writeback asks the kernel to begin writing what has
 * accumulated since the last call; only a hint, so its result is ignored:
 * the fsync at close is what reports write errors.
 */
static void
cw_start_writeback(CopyWriter *w)
{
#ifdef SYNC_FILE_RANGE_WRITE
	if (w->flushed - w->writeback < COPY_WRITEBACK_STEP)
		return;
	(void) sync_file_range(w->fd, (off_t) w->writeback, (off_t) (w->flushed - w->writeback),
						   SYNC_FILE_RANGE_WRITE);
	w->writeback = w->flushed;
#else
	(void) w;
#endif
}

/*
 * cw_flush hands the buffered bytes to the file or stream, hashing them
 * on the way: the writer is the file's only writer, so the hash describes
 * exactly the bytes on disk. false once the writer has failed.
 */
static bool
cw_flush(CopyWriter *w)
{
	if (w->failed)
		return false;
	if (w->buf == NULL)
	{
		cw_fail(w, "BUG: write to a writer that is not open");
		return false;
	}
	if (w->used == 0)
		return true;
	sha256_update(&w->hash, w->buf, w->used);
	if (w->fd >= 0)
	{
		if (!cw_write_fd(w, w->buf, w->used))
			return false;
	}
	else if (fwrite(w->buf, 1, w->used, w->fp) != w->used)
	{
		cw_fail_errno(w, "write failed", errno);
		return false;
	}
	w->flushed += (int64_t) w->used;
	w->bytes = w->flushed;
	w->used = 0;
	if (w->fd >= 0)
		cw_start_writeback(w);
	return true;
}

/*
 * cw_reserve returns room for n bytes (n <= COPY_WRITER_BUFSIZE) at the end
 * of the buffer, flushing it first when needed; NULL once the writer has
 * failed. A released writer has used == COPY_WRITER_BUFSIZE, so it always
 * takes the flushing path, which reports the misuse.
 */
static inline char *
cw_reserve(CopyWriter *w, size_t n)
{
	if (COPY_WRITER_BUFSIZE - w->used < n && !cw_flush(w))
		return NULL;
	return w->buf + w->used;
}

/*
 * cw_field reserves room for a field of at most n bytes and writes the
 * delimiter that separates it from the previous field of the row; NULL
 * once the writer has failed. The caller advances w->used.
 */
static inline char *
cw_field(CopyWriter *w, size_t n)
{
	char *d;

	if (w->failed)
		return NULL;
	d = cw_reserve(w, n + 1);
	if (d == NULL)
		return NULL;
	if (w->field > 0)
	{
		*d++ = '\t';
		w->used++;
	}
	w->field++;
	return d;
}

/*
 * cw_alloc gives a writer its buffer and day cache; false when out of
 * memory (logged).
 */
static bool
cw_alloc(CopyWriter *w, const char *name)
{
	w->buf = malloc(COPY_WRITER_BUFSIZE);
	w->days = malloc(sizeof(struct CopyDayCache));
	if (w->buf == NULL || w->days == NULL)
	{
		log_error("COPY output %s: out of memory", name);
		return false;
	}
	memset(w->days->len, 0, sizeof(w->days->len));
	sha256_init(&w->hash);
	return true;
}

/*
 * cw_release frees what the writer allocated; counters, the failure flag
 * and the checksum stay readable after close.
 */
static void
cw_release(CopyWriter *w)
{
	free(w->path);
	free(w->tmp_path);
	free(w->buf);
	free(w->days);
	w->path = NULL;
	w->tmp_path = NULL;
	w->buf = NULL;
	w->days = NULL;
	w->used = COPY_WRITER_BUFSIZE;  /* see cw_reserve */
	w->fd = -1;
	w->fp = NULL;
	w->field = 0;
}

/*
 * copy_writer_open creates "<path>.tmp" for writing; copy_writer_close()
 * renames it to path. The parent directory must exist. On failure the
 * writer is left released and failed.
 */
bool
copy_writer_open(CopyWriter *w, const char *path)
{
	size_t n;
	int written;

	memset(w, 0, sizeof(*w));
	w->fd = -1;
	w->failed = true;           /* until the file is open */
	if (path == NULL)
	{
		log_error("BUG: copy_writer_open called without a path");
		cw_release(w);
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
	if (!cw_alloc(w, path))
		goto cleanup;   /* errors have already been logged */
	written = snprintf(w->tmp_path, n, "%s.tmp", path);
	if (written < 0 || (size_t) written >= n)
	{
		log_error("BUG: COPY output %s: temporary name truncated", path);
		goto cleanup;
	}

	w->fd = open(w->tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (w->fd < 0)
	{
		log_error("COPY output %s: cannot create %s: %s", path, w->tmp_path,
				  strerror(errno));
		goto cleanup;
	}
	w->failed = false;
	return true;

cleanup:
	cw_release(w);
	return false;
}

/*
 * copy_writer_attach writes to a stream the caller owns (tests, dry runs);
 * copy_writer_close() flushes it but neither closes nor renames anything.
 */
void
copy_writer_attach(CopyWriter *w, FILE *fp)
{
	memset(w, 0, sizeof(*w));
	w->fd = -1;
	w->fp = fp;
	if (fp == NULL || !cw_alloc(w, "(attached stream)"))
	{
		if (fp == NULL)
			log_error("BUG: copy_writer_attach called without a stream");
		cw_release(w);
		w->failed = true;
	}
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
 * copy_text_len writes one escaped text field (NULL s: a NULL field),
 * straight into the buffer in pieces that fit even if every byte needs
 * escaping. A NUL byte fails the writer: PostgreSQL text cannot hold one,
 * and dropping it would silently change the value.
 */
void
copy_text_len(CopyWriter *w, const char *s, size_t len)
{
	const unsigned char *src = (const unsigned char *) s;

	if (s == NULL)
	{
		copy_null(w);
		return;
	}
	if (cw_field(w, 0) == NULL)
		return;
	while (len > 0)
	{
		size_t room = (COPY_WRITER_BUFSIZE - w->used) / 2;
		size_t take = len < room ? len : room;
		char *d = w->buf + w->used;

		if (take == 0)
		{
			if (!cw_flush(w))
				return;
			continue;
		}
		for (size_t i = 0; i < take; i++)
		{
			unsigned char c = src[i];
			char letter = escapes[c];

			if (letter == 0)
				*d++ = (char) c;
			else if (c == '\0')
			{
				cw_fail(w, "text value contains a NUL byte");
				return;
			}
			else
			{
				d[0] = '\\';
				d[1] = letter;
				d += 2;
			}
		}
		w->used = (size_t) (d - w->buf);
		src += take;
		len -= take;
	}
}

void
copy_null(CopyWriter *w)
{
	char *d = cw_field(w, 2);

	if (d == NULL)
		return;
	d[0] = '\\';
	d[1] = 'N';
	w->used += 2;
}

/*
 * put_fixed writes num / 10^scale (0 <= scale <= COPY_MAX_SCALE) at d in
 * money_format's notation: a sign only when negative, at least one digit
 * before the point, exactly scale digits after it. Returns the length, at
 * most 21 (sign, 19 digits, point).
 */
static size_t
put_fixed(char *d, int64_t num, int scale)
{
	char digits[24];
	int ndigits = 0;
	/* the magnitude of INT64_MIN does not fit int64_t; -(num + 1) + 1 does
	 * the negation in uint64_t instead */
	uint64_t mag = num < 0 ? (uint64_t) -(num + 1) + 1 : (uint64_t) num;
	size_t pos = 0;

	do
	{
		digits[ndigits++] = (char) ('0' + mag % 10);
		mag /= 10;
	} while (mag != 0);
	while (ndigits <= scale)
		digits[ndigits++] = '0';
	if (num < 0)
		d[pos++] = '-';
	for (int i = ndigits - 1; i >= 0; i--)
	{
		d[pos++] = digits[i];
		if (i == scale && scale > 0)
			d[pos++] = '.';
	}
	return pos;
}

void
copy_int(CopyWriter *w, int64_t v)
{
	char *d = cw_field(w, 24);

	if (d == NULL)
		return;
	w->used += put_fixed(d, v, 0);
}

/*
 * cw_fixed_point writes num / 10^scale; a scale out of range is a caller
 * bug (an unknown currency's -1, say) and fails the writer rather than
 * printing a wrong amount.
 */
static void
cw_fixed_point(CopyWriter *w, int64_t num, int scale)
{
	char *d = cw_field(w, 24);

	if (d == NULL)
		return;
	if (scale < 0 || scale > COPY_MAX_SCALE)
	{
		if (!w->failed)
			log_error("BUG: COPY output %s: decimal scale %d out of range 0..%d",
					  cw_name(w), scale, COPY_MAX_SCALE);
		w->failed = true;
		return;
	}
	w->used += put_fixed(d, num, scale);
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

/*
 * cw_day_text is date_format's text for day d, from the cache when the
 * day was seen before; *len is its length.
 */
static const char *
cw_day_text(CopyWriter *w, ClDate d, size_t *len)
{
	struct CopyDayCache *c = w->days;
	size_t slot = (uint32_t) d % DAY_CACHE_SLOTS;

	if (c->len[slot] == 0 || c->day[slot] != d)
	{
		(void) date_format(d, c->text[slot]);
		c->len[slot] = (uint8_t) strlen(c->text[slot]);
		c->day[slot] = d;
	}
	*len = c->len[slot];
	return c->text[slot];
}

static inline char *
put_2digits(char *d, int v)
{
	d[0] = (char) ('0' + v / 10);
	d[1] = (char) ('0' + v % 10);
	return d + 2;
}

/*
 * copy_time writes what time_format_rfc3339 writes (its tests pin the
 * format): the date as date_format has it, then "Thh:mm:ss", six fraction
 * digits only when the fraction is not zero, and "Z". Any int64 time is
 * within an int32 day count of the epoch.
 */
void
copy_time(CopyWriter *w, ClTime t)
{
	int64_t days = t / CL_USEC_PER_DAY;
	int64_t rem = t % CL_USEC_PER_DAY;
	char *start = cw_field(w, CL_TIME_BUFSIZE);
	char *d = start;
	const char *date;
	size_t len;
	int64_t secs;
	int64_t frac;

	if (d == NULL)
		return;
	if (rem < 0)
	{
		rem += CL_USEC_PER_DAY;
		days--;
	}
	date = cw_day_text(w, (ClDate) days, &len);
	memcpy(d, date, len);
	d += len;
	secs = rem / CL_USEC_PER_SEC;
	frac = rem % CL_USEC_PER_SEC;
	*d++ = 'T';
	d = put_2digits(d, (int) (secs / 3600));
	*d++ = ':';
	d = put_2digits(d, (int) (secs / 60 % 60));
	*d++ = ':';
	d = put_2digits(d, (int) (secs % 60));
	if (frac != 0)
	{
		*d++ = '.';
		for (int i = 5; i >= 0; i--)
		{
			d[i] = (char) ('0' + frac % 10);
			frac /= 10;
		}
		d += 6;
	}
	*d++ = 'Z';
	w->used += (size_t) (d - start);
}

void
copy_date(CopyWriter *w, ClDate day)
{
	char *d = cw_field(w, CL_DATE_BUFSIZE);
	const char *text;
	size_t len;

	if (d == NULL)
		return;
	text = cw_day_text(w, day, &len);
	memcpy(d, text, len);
	w->used += len;
}

void
copy_bool(CopyWriter *w, bool b)
{
	char *d = cw_field(w, 1);

	if (d == NULL)
		return;
	*d = b ? 't' : 'f';
	w->used++;
}

void
copy_end_row(CopyWriter *w)
{
	char *d;

	w->rows++;
	w->field = 0;
	if (w->failed)
		return;
	d = cw_reserve(w, 1);
	if (d == NULL)
		return;
	*d = '\n';
	w->used++;
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
 * copy_writer_close commits the file: flush, fsync, close, rename to the
 * final name, fsync the directory. On any failure the temporary file is
 * removed, so a reader never sees a partial output under the final name.
 * The checksum is final only once every byte has reached the file, which
 * is also when it is recorded. Calling it again after it returned is
 * harmless.
 */
bool
copy_writer_close(CopyWriter *w)
{
	if (w->fd < 0 && w->fp == NULL)
	{
		cw_release(w);
		return !w->failed;
	}
	if (w->field != 0)
		cw_fail(w, "BUG: closed in the middle of a row");
	(void) cw_flush(w);
	if (w->fd < 0)
	{
		if (!w->failed && fflush(w->fp) != 0)
			cw_fail_errno(w, "flush failed", errno);
		if (!w->failed)
			sha256_final_hex(&w->hash, w->sha256);
		cw_release(w);
		return !w->failed;
	}

	if (!w->failed && fsync(w->fd) != 0)
		cw_fail_errno(w, "fsync failed", errno);
	if (close(w->fd) != 0)
		cw_fail_errno(w, "close failed", errno);
	w->fd = -1;
	if (!w->failed && rename(w->tmp_path, w->path) != 0)
		cw_fail_errno(w, "rename from temporary file failed", errno);
	if (w->failed)
		(void) unlink(w->tmp_path);
	else if (!fsync_parent_dir(w->path))
		w->failed = true;
	if (!w->failed)
		sha256_final_hex(&w->hash, w->sha256);

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
	if (w->fd >= 0)
	{
		(void) close(w->fd);
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
