#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "copy_writer.h"
#include "money.h"
#include "sha256.h"
#include "support.h"

/* An in-memory stream the writer is attached to. */
typedef struct MemOut
{
	char *data;
	size_t len;
	FILE *fp;
	CopyWriter w;
} MemOut;

static void
mem_open(MemOut *m)
{
	memset(m, 0, sizeof(*m));
	m->fp = open_memstream(&m->data, &m->len);
	assert_non_null(m->fp);
	copy_writer_attach(&m->w, m->fp);
}

/* mem_close closes the writer, then the stream; returns the close result. */
static bool
mem_close(MemOut *m)
{
	bool ok = copy_writer_close(&m->w);

	assert_int_equal(fclose(m->fp), 0);
	m->fp = NULL;
	return ok;
}

/*
 * A decoded COPY field. The decoder accepts only what COPY FROM would read
 * back as the same value and fails the test on any other escape, so it
 * also checks that the writer emits nothing unexpected.
 */
typedef struct Field
{
	bool is_null;
	char *data;
	size_t len;
} Field;

typedef struct Row
{
	Field *fields;
	size_t nfields;
} Row;

static void
row_add(Row *r, bool is_null, const char *data, size_t len)
{
	r->fields = realloc(r->fields, (r->nfields + 1) * sizeof(Field));
	assert_non_null(r->fields);
	r->fields[r->nfields].is_null = is_null;
	r->fields[r->nfields].data = malloc(len + 1);
	assert_non_null(r->fields[r->nfields].data);
	memcpy(r->fields[r->nfields].data, data, len);
	r->fields[r->nfields].data[len] = '\0';
	r->fields[r->nfields].len = len;
	r->nfields++;
}

/*
 * decode_copy splits text into rows of fields following PostgreSQL's COPY
 * text rules: TAB between fields, LF after each row, a field that is
 * exactly \N is NULL, and \\ \t \n \r stand for their characters.
 */
static Row *
decode_copy(const char *text, size_t len, size_t *nrows)
{
	Row *rows = NULL;
	size_t n = 0;
	size_t i = 0;
	char *buf = malloc(len + 1);

	assert_non_null(buf);
	while (i < len)
	{
		Row row = {NULL, 0};

		for (;;)
		{
			size_t start = i;
			size_t blen = 0;

			while (i < len && text[i] != '\t' && text[i] != '\n')
			{
				if (text[i] == '\r')
					fail_msg("raw CR at offset %zu", i);
				if (text[i] != '\\')
				{
					buf[blen++] = text[i++];
					continue;
				}
				if (i + 1 >= len)
					fail_msg("dangling backslash at offset %zu", i);
				switch (text[i + 1])
				{
					case '\\': buf[blen++] = '\\'; break;
					case 't': buf[blen++] = '\t'; break;
					case 'n': buf[blen++] = '\n'; break;
					case 'r': buf[blen++] = '\r'; break;
					case 'N':
						if (i != start || (i + 2 < len && text[i + 2] != '\t' &&
										   text[i + 2] != '\n'))
							fail_msg("\\N inside a field at offset %zu", i);
						buf[blen++] = '\0';     /* marker, replaced below */
						break;
					default:
						fail_msg("unexpected escape \\%c at offset %zu",
								 text[i + 1], i);
				}
				i += 2;
			}
			if (i - start == 2 && text[start] == '\\' && text[start + 1] == 'N')
				row_add(&row, true, "", 0);
			else
				row_add(&row, false, buf, blen);
			if (i >= len)
				fail_msg("last row not terminated by LF");
			if (text[i++] == '\n')
				break;
		}
		rows = realloc(rows, (n + 1) * sizeof(Row));
		assert_non_null(rows);
		rows[n++] = row;
	}
	free(buf);
	*nrows = n;
	return rows;
}

static void
free_rows(Row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
	{
		for (size_t j = 0; j < rows[i].nfields; j++)
			free(rows[i].fields[j].data);
		free(rows[i].fields);
	}
	free(rows);
}

static void
test_copy_writer_escapes_text(void **state)
{
	MemOut m;

	(void) state;
	mem_open(&m);
	copy_text(&m.w, "back\\slash");
	copy_text(&m.w, "tab\there");
	copy_text(&m.w, "line1\nline2");
	copy_text(&m.w, "cr\r\nlf");
	copy_text(&m.w, "\\N");
	copy_text(&m.w, NULL);
	copy_text(&m.w, "");
	copy_text(&m.w, "Z\xc3\xbcrich \xe2\x80\x93 \xe6\x9d\xb1\xe4\xba\xac");
	copy_end_row(&m.w);
	copy_text(&m.w, "\\.");
	copy_end_row(&m.w);
	assert_true(mem_close(&m));

	assert_string_equal(m.data,
		"back\\\\slash\ttab\\there\tline1\\nline2\tcr\\r\\nlf\t\\\\N\t\\N\t\t"
		"Z\xc3\xbcrich \xe2\x80\x93 \xe6\x9d\xb1\xe4\xba\xac\n"
		"\\\\.\n");
	assert_int_equal(m.w.rows, 2);
	assert_int_equal(m.w.bytes, (int64_t) m.len);
	free(m.data);
}

static void
test_copy_writer_typed_fields(void **state)
{
	MemOut m;
	ClTime t = 0;
	ClDate d = 0;

	(void) state;
	assert_true(time_parse_rfc3339("2026-03-04T05:06:07.25Z", &t));
	assert_true(date_parse("2026-03-04", &d));
	mem_open(&m);
	copy_int(&m.w, -42);
	copy_int(&m.w, INT64_MIN);
	copy_money(&m.w, 123450, 2);
	copy_money(&m.w, -5, 2);
	copy_money(&m.w, 1500, 0);
	copy_time(&m.w, t);
	copy_time(&m.w, t - 250000);
	copy_date(&m.w, d);
	copy_bool(&m.w, true);
	copy_bool(&m.w, false);
	copy_null(&m.w);
	copy_end_row(&m.w);
	assert_true(mem_close(&m));

	assert_string_equal(m.data,
		"-42\t-9223372036854775808\t1234.50\t-0.05\t1500\t"
		"2026-03-04T05:06:07.250000Z\t2026-03-04T05:06:07Z\t2026-03-04\tt\tf\t\\N\n");
	free(m.data);
}

static void
test_copy_writer_decimal(void **state)
{
	MemOut m;

	(void) state;
	mem_open(&m);
	copy_decimal(&m.w, 333333333333, 12);
	copy_decimal(&m.w, -333333333333, 12);
	copy_decimal(&m.w, INT64_C(1000000000000), 12);
	copy_decimal(&m.w, -5, 12);
	copy_decimal(&m.w, 0, 12);
	copy_decimal(&m.w, 42, 0);
	copy_decimal(&m.w, -42, 0);
	copy_decimal(&m.w, 12345, 2);
	copy_decimal(&m.w, INT64_MIN, 18);
	copy_end_row(&m.w);
	assert_true(mem_close(&m));
	assert_string_equal(m.data,
		"0.333333333333\t-0.333333333333\t1.000000000000\t-0.000000000005\t"
		"0.000000000000\t42\t-42\t123.45\t-9.223372036854775808\n");
	free(m.data);
}

static void
test_copy_writer_bad_scale_fails(void **state)
{
	MemOut m;

	(void) state;
	mem_open(&m);
	copy_decimal(&m.w, 1, 19);
	copy_end_row(&m.w);
	assert_true(m.w.failed);
	assert_false(mem_close(&m));
	free(m.data);

	mem_open(&m);
	copy_money(&m.w, 100, -1);      /* currency_exponent() of a bad code */
	copy_end_row(&m.w);
	assert_false(mem_close(&m));
	free(m.data);
}

static void
test_copy_writer_nul_byte_fails(void **state)
{
	MemOut m;

	(void) state;
	mem_open(&m);
	copy_text_len(&m.w, "a\0b", 3);
	copy_end_row(&m.w);
	assert_false(mem_close(&m));
	free(m.data);
}

static void
test_copy_writer_unfinished_row_fails(void **state)
{
	MemOut m;

	(void) state;
	mem_open(&m);
	copy_text(&m.w, "complete");
	copy_end_row(&m.w);
	copy_text(&m.w, "half");
	assert_false(mem_close(&m));
	free(m.data);
}

static void
test_copy_writer_round_trip(void **state)
{
	/* bytes that stress the escaping, plus UTF-8 and high bytes */
	static const char *const pieces[] = {
		"\\", "\t", "\n", "\r", "N", ".", "\\N", "\\.", "a", " ", "\"", "'",
		"\xc3\xa9", "\xf0\x9f\x98\x80", "\x01", "\x7f", "\xff", "|", ",",
	};
	const size_t npieces = sizeof(pieces) / sizeof(pieces[0]);
	enum { NROWS = 400, MAXF = 6 };
	char *vals[NROWS][MAXF];
	size_t lens[NROWS][MAXF];
	int nf[NROWS];
	uint64_t x = 2024;
	MemOut m;
	size_t nrows = 0;
	Row *rows;

	(void) state;
	mem_open(&m);
	for (int r = 0; r < NROWS; r++)
	{
		x = x * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
		nf[r] = 1 + (int) ((x >> 33) % MAXF);
		for (int f = 0; f < nf[r]; f++)
		{
			char tmp[256];
			size_t len = 0;
			int parts;

			x = x * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
			parts = (int) ((x >> 33) % 12);
			for (int k = 0; k < parts; k++)
			{
				x = x * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
				const char *piece = pieces[(x >> 33) % npieces];

				memcpy(tmp + len, piece, strlen(piece));
				len += strlen(piece);
			}
			/* about one field in seven is NULL */
			if ((x >> 20) % 7 == 0)
			{
				vals[r][f] = NULL;
				lens[r][f] = 0;
				copy_text(&m.w, NULL);
				continue;
			}
			vals[r][f] = malloc(len + 1);
			assert_non_null(vals[r][f]);
			memcpy(vals[r][f], tmp, len);
			vals[r][f][len] = '\0';
			lens[r][f] = len;
			copy_text_len(&m.w, vals[r][f], len);
		}
		copy_end_row(&m.w);
	}
	assert_true(mem_close(&m));
	assert_int_equal(m.w.rows, NROWS);
	assert_int_equal(m.w.bytes, (int64_t) m.len);

	rows = decode_copy(m.data, m.len, &nrows);
	assert_int_equal(nrows, NROWS);
	for (int r = 0; r < NROWS; r++)
	{
		assert_int_equal(rows[r].nfields, nf[r]);
		for (int f = 0; f < nf[r]; f++)
		{
			Field *fd = &rows[r].fields[f];

			if (vals[r][f] == NULL)
			{
				assert_true(fd->is_null);
				continue;
			}
			assert_false(fd->is_null);
			assert_int_equal(fd->len, lens[r][f]);
			assert_memory_equal(fd->data, vals[r][f], lens[r][f]);
			free(vals[r][f]);
		}
	}
	free_rows(rows, nrows);
	free(m.data);
}

static void
test_copy_writer_escape_buffer(void **state)
{
	char dst[32];
	const char *src = "a\\b\tc\n";         /* 6 bytes, 9 escaped */

	(void) state;
	memset(dst, 'x', sizeof(dst));
	/* too small: the size needed, nothing written */
	assert_int_equal(copy_escape(src, 6, dst, 8), 9);
	assert_int_equal(dst[0], 'x');
	/* exact fit: no room for a terminator, none written */
	assert_int_equal(copy_escape(src, 6, dst, 9), 9);
	assert_memory_equal(dst, "a\\\\b\\tc\\n", 9);
	assert_int_equal(dst[9], 'x');
	/* with room: terminated */
	assert_int_equal(copy_escape(src, 6, dst, sizeof(dst)), 9);
	assert_string_equal(dst, "a\\\\b\\tc\\n");
	assert_int_equal(copy_escape("\r", 1, dst, sizeof(dst)), 2);
	assert_string_equal(dst, "\\r");
	assert_int_equal(copy_escape("\xe6\x9d\xb1", 3, dst, sizeof(dst)), 3);
	assert_string_equal(dst, "\xe6\x9d\xb1");
	assert_int_equal(copy_escape("", 0, dst, sizeof(dst)), 0);
	assert_string_equal(dst, "");
	assert_int_equal(copy_escape(src, 6, NULL, 0), 9);
}

static bool
file_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static void
test_copy_writer_file_commit(void **state)
{
	char *dir = ts_make_tmpdir("copyw");
	char path[1024];
	char tmp[1024];
	CopyWriter w;
	size_t len = 0;
	char *text;

	(void) state;
	snprintf(path, sizeof(path), "%s/table.copy", dir);
	snprintf(tmp, sizeof(tmp), "%s/table.copy.tmp", dir);
	assert_true(copy_writer_open(&w, path));
	copy_text(&w, "x");
	copy_int(&w, 1);
	copy_end_row(&w);
	copy_text(&w, "y\tz");
	copy_null(&w);
	copy_end_row(&w);
	/* nothing under the final name until the commit */
	assert_true(file_exists(tmp));
	assert_false(file_exists(path));
	assert_true(copy_writer_close(&w));
	assert_false(file_exists(tmp));
	assert_true(file_exists(path));
	assert_null(w.fp);
	assert_null(w.path);
	assert_null(w.tmp_path);
	assert_int_equal(w.rows, 2);

	text = ts_read_file(path, &len);
	assert_string_equal(text, "x\t1\ny\\tz\t\\N\n");
	assert_int_equal(w.bytes, (int64_t) len);
	free(text);
	/* closing twice is harmless */
	assert_true(copy_writer_close(&w));

	ts_rmdir_r(dir);
	free(dir);
}

static void
test_copy_writer_abort_removes_file(void **state)
{
	char *dir = ts_make_tmpdir("copyw");
	char path[1024];
	char tmp[1024];
	CopyWriter w;

	(void) state;
	snprintf(path, sizeof(path), "%s/t.copy", dir);
	snprintf(tmp, sizeof(tmp), "%s/t.copy.tmp", dir);
	assert_true(copy_writer_open(&w, path));
	copy_text(&w, "x");
	copy_end_row(&w);
	copy_writer_abort(&w);
	assert_false(file_exists(tmp));
	assert_false(file_exists(path));
	assert_false(copy_writer_close(&w));
	copy_writer_abort(&w);      /* idempotent */

	/* a failed writer does not replace an existing file either */
	ts_write_file(path, "old\n");
	assert_true(copy_writer_open(&w, path));
	copy_text_len(&w, "bad\0", 4);
	copy_end_row(&w);
	assert_false(copy_writer_close(&w));
	assert_false(file_exists(tmp));
	char *text = ts_read_file(path, NULL);

	assert_string_equal(text, "old\n");
	free(text);

	ts_rmdir_r(dir);
	free(dir);
}

static void
test_copy_writer_open_failure(void **state)
{
	char *dir = ts_make_tmpdir("copyw");
	char path[1024];
	CopyWriter w;

	(void) state;
	snprintf(path, sizeof(path), "%s/missing/t.copy", dir);
	assert_false(copy_writer_open(&w, path));
	assert_null(w.fp);
	assert_null(w.path);
	copy_text(&w, "ignored");
	copy_end_row(&w);
	assert_false(copy_writer_close(&w));
	ts_rmdir_r(dir);
	free(dir);
}

static void
test_copy_writer_write_error_detected(void **state)
{
	/* /dev/full fails every write with ENOSPC once the buffer is flushed */
	FILE *fp = fopen("/dev/full", "w");
	CopyWriter w;
	char big[8192];

	(void) state;
	assert_non_null(fp);
	memset(big, 'a', sizeof(big));
	copy_writer_attach(&w, fp);
	for (int i = 0; i < 16; i++)
	{
		copy_text_len(&w, big, sizeof(big));
		copy_end_row(&w);
	}
	assert_false(copy_writer_close(&w));
	(void) fclose(fp);
}

/*
 * The writer formats numbers, dates and times itself; these must stay
 * exactly what snprintf, money_format, date_format and time_format_rfc3339
 * produce, for edge values and for many random ones.
 */
static uint64_t
next_rand(uint64_t *x)
{
	*x = *x * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
	return *x ^ (*x >> 29);
}

/* A random int64 of random magnitude: small values and long ones both. */
static int64_t
rand_int64(uint64_t *x)
{
	uint64_t v = next_rand(x);
	int bits = (int) (next_rand(x) % 64);

	v = bits == 0 ? v : v >> (64 - bits);
	return next_rand(x) % 2 == 0 ? (int64_t) v : -(int64_t) v;
}

/* EXPECT_FIELD writes one row holding the field that call writes (to the
 * writer m_.w) and requires exactly the text want. */
#define EXPECT_FIELD(call, want) \
	do { \
		MemOut m_; \
		mem_open(&m_); \
		call; \
		copy_end_row(&m_.w); \
		assert_true(mem_close(&m_)); \
		assert_int_equal(m_.len, strlen(want) + 1); \
		assert_memory_equal(m_.data, want, strlen(want)); \
		free(m_.data); \
	} while (0)

static void
test_copy_writer_int_format(void **state)
{
	static const int64_t edges[] = {
		0, 1, -1, 9, 10, -10, 99, 100, 999999999, 1000000000, -1000000000,
		INT64_MAX, INT64_MIN, INT64_MIN + 1, INT64_MAX - 1, INT32_MAX, INT32_MIN,
	};
	uint64_t x = 7;
	char want[32];

	(void) state;
	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
	{
		snprintf(want, sizeof(want), "%" PRId64, edges[i]);
		EXPECT_FIELD(copy_int(&m_.w, edges[i]), want);
	}
	for (int i = 0; i < 2000; i++)
	{
		int64_t v = rand_int64(&x);

		snprintf(want, sizeof(want), "%" PRId64, v);
		EXPECT_FIELD(copy_int(&m_.w, v), want);
	}
}

static void
test_copy_writer_fixed_format(void **state)
{
	static const int64_t edges[] = {
		0, 1, -1, 5, -5, 99, -99, 100, -100, 123450, -123450, INT64_MAX, INT64_MIN,
		INT64_MIN + 1, 999999999999999999, -999999999999999999, 1000000000000000000,
	};
	uint64_t x = 11;
	char want[CL_MONEY_BUFSIZE];

	(void) state;
	for (int scale = 0; scale <= 18; scale++)
	{
		for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
		{
			money_format(edges[i], scale, want);
			EXPECT_FIELD(copy_decimal(&m_.w, edges[i], scale), want);
			EXPECT_FIELD(copy_money(&m_.w, edges[i], scale), want);
		}
		for (int i = 0; i < 200; i++)
		{
			int64_t v = rand_int64(&x);

			money_format(v, scale, want);
			EXPECT_FIELD(copy_money(&m_.w, v, scale), want);
		}
	}
}

static void
test_copy_writer_time_format(void **state)
{
	static const ClTime edges[] = {
		0, 1, -1, 999999, 1000000, -1000000, CL_USEC_PER_DAY - 1, CL_USEC_PER_DAY,
		-CL_USEC_PER_DAY, -CL_USEC_PER_DAY - 1, INT64_MAX, INT64_MIN, INT64_MIN + 1,
		/* 0000-01-01, 9999-12-31T23:59:59.999999, and either side */
		INT64_C(-62167219200000000), INT64_C(253402300799999999),
		INT64_C(-62167219200000001), INT64_C(253402300800000000),
		INT64_C(951782400000000),   /* 2000-02-29 */
	};
	static const ClDate date_edges[] = { INT32_MIN, INT32_MAX, 0, -1, -719528, 2932896 };
	uint64_t x = 3;
	char want[CL_TIME_BUFSIZE];
	char want_date[CL_DATE_BUFSIZE];

	(void) state;
	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
	{
		time_format_rfc3339(edges[i], want);
		EXPECT_FIELD(copy_time(&m_.w, edges[i]), want);
	}
	for (int i = 0; i < 3000; i++)
	{
		/* mostly around now, whole seconds half of the time; some anywhere */
		ClTime t = (ClTime) (next_rand(&x) % (UINT64_C(4000) * 86400 * 1000000))
			+ INT64_C(1600000000000000);

		if (i % 2 == 0)
			t -= t % CL_USEC_PER_SEC;
		if (i % 10 == 0)
			t = rand_int64(&x);
		time_format_rfc3339(t, want);
		EXPECT_FIELD(copy_time(&m_.w, t), want);
	}
	for (size_t i = 0; i < sizeof(date_edges) / sizeof(date_edges[0]); i++)
	{
		date_format(date_edges[i], want_date);
		EXPECT_FIELD(copy_date(&m_.w, date_edges[i]), want_date);
	}
	for (int i = 0; i < 3000; i++)
	{
		ClDate d = (ClDate) (int32_t) next_rand(&x);

		if (i % 2 == 0)
			d = (ClDate) (d % 4000) + 19000;    /* near now: the day cache reuses slots */
		date_format(d, want_date);
		EXPECT_FIELD(copy_date(&m_.w, d), want_date);
	}
	/* one writer for many days, so that days share slots of the cache */
	{
		MemOut m;
		char *expect = malloc(5000 * (CL_TIME_BUFSIZE + CL_DATE_BUFSIZE + 2));
		size_t len = 0;

		assert_non_null(expect);
		mem_open(&m);
		for (int i = 0; i < 5000; i++)
		{
			ClTime t = (ClTime) (next_rand(&x) % (UINT64_C(9000) * 86400 * 1000000));
			ClDate d = (ClDate) (next_rand(&x) % 9000);

			copy_time(&m.w, t);
			copy_date(&m.w, d);
			copy_end_row(&m.w);
			len += (size_t) snprintf(expect + len, CL_TIME_BUFSIZE + CL_DATE_BUFSIZE + 2,
									 "%s\t%s\n", time_format_rfc3339(t, want),
									 date_format(d, want_date));
		}
		assert_true(mem_close(&m));
		assert_int_equal(m.len, len);
		assert_memory_equal(m.data, expect, len);
		free(m.data);
		free(expect);
	}
}

/*
 * Many rows of every kind, some with fields longer than the buffer, all
 * through one writer: the bytes must equal the same rows formatted one at a
 * time, and the writer's checksum the SHA-256 of those bytes.
 */
static void
test_copy_writer_buffer_boundaries(void **state)
{
	size_t big_len = COPY_WRITER_BUFSIZE * 2 + 17;
	char *big = malloc(big_len);
	MemOut m;
	uint64_t x = 5;
	size_t nrows = 0;
	Row *rows;
	Sha256 h;
	char hex[SHA256_HEX_SIZE];

	(void) state;
	assert_non_null(big);
	for (size_t i = 0; i < big_len; i++)
		big[i] = "ab\\\tc\n\r"[i % 7];
	mem_open(&m);
	for (int r = 0; r < 30000; r++)
	{
		copy_int(&m.w, rand_int64(&x));
		copy_text(&m.w, r % 3 == 0 ? "tab\there" : "plain");
		copy_time(&m.w, (ClTime) (next_rand(&x) % INT64_C(2000000000000000)));
		copy_money(&m.w, rand_int64(&x), 2);
		if (r % 10000 == 5)
			copy_text_len(&m.w, big, big_len);
		else
			copy_null(&m.w);
		copy_end_row(&m.w);
	}
	assert_true(mem_close(&m));
	assert_int_equal(m.w.rows, 30000);
	assert_int_equal(m.w.bytes, (int64_t) m.len);
	sha256_init(&h);
	sha256_update(&h, m.data, m.len);
	sha256_final_hex(&h, hex);
	assert_string_equal(m.w.sha256, hex);
	rows = decode_copy(m.data, m.len, &nrows);
	assert_int_equal(nrows, 30000);
	for (size_t r = 0; r < nrows; r++)
	{
		assert_int_equal(rows[r].nfields, 5);
		if (r % 10000 == 5)
		{
			assert_int_equal(rows[r].fields[4].len, big_len);
			assert_memory_equal(rows[r].fields[4].data, big, big_len);
		}
		else
			assert_true(rows[r].fields[4].is_null);
	}
	free_rows(rows, nrows);
	free(m.data);
	free(big);
}

/* The checksum of a committed file is the SHA-256 of its bytes on disk. */
static void
test_copy_writer_file_checksum(void **state)
{
	char *dir = ts_make_tmpdir("copyw");
	char path[1024];
	CopyWriter w;
	size_t len = 0;
	char *text;
	Sha256 h;
	char hex[SHA256_HEX_SIZE];

	(void) state;
	snprintf(path, sizeof(path), "%s/sum.copy", dir);
	assert_true(copy_writer_open(&w, path));
	for (int r = 0; r < 100000; r++)
	{
		copy_int(&w, r);
		copy_text(&w, "a\\b");
		copy_date(&w, (ClDate) (r % 500));
		copy_end_row(&w);
	}
	assert_true(copy_writer_close(&w));
	text = ts_read_file(path, &len);
	assert_int_equal(w.bytes, (int64_t) len);
	assert_true(len > 3 * COPY_WRITER_BUFSIZE);
	sha256_init(&h);
	sha256_update(&h, text, len);
	sha256_final_hex(&h, hex);
	assert_string_equal(w.sha256, hex);
	free(text);
	ts_rmdir_r(dir);
	free(dir);
}

/*
 * A write(2) that fails (here EFBIG beyond the file size limit, as ENOSPC
 * would on a full disk) fails the writer, and close neither commits nor
 * leaves the temporary file.
 */
static void
test_copy_writer_fd_write_error(void **state)
{
	char *dir = ts_make_tmpdir("copyw");
	char path[1024];
	char tmp[1024];
	CopyWriter w;
	struct rlimit old;
	struct rlimit small;
	void (*old_handler)(int);

	(void) state;
	snprintf(path, sizeof(path), "%s/big.copy", dir);
	snprintf(tmp, sizeof(tmp), "%s/big.copy.tmp", dir);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	small = old;
	small.rlim_cur = 100000;
	old_handler = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	assert_true(copy_writer_open(&w, path));
	for (int r = 0; r < 20000 && !w.failed; r++)
	{
		copy_text(&w, "0123456789012345678901234567890123456789");
		copy_end_row(&w);
	}
	assert_false(copy_writer_close(&w));
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	(void) signal(SIGXFSZ, old_handler);
	assert_false(file_exists(path));
	assert_false(file_exists(tmp));
	ts_rmdir_r(dir);
	free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_copy_writer_escapes_text),
		cmocka_unit_test(test_copy_writer_typed_fields),
		cmocka_unit_test(test_copy_writer_decimal),
		cmocka_unit_test(test_copy_writer_bad_scale_fails),
		cmocka_unit_test(test_copy_writer_nul_byte_fails),
		cmocka_unit_test(test_copy_writer_unfinished_row_fails),
		cmocka_unit_test(test_copy_writer_round_trip),
		cmocka_unit_test(test_copy_writer_escape_buffer),
		cmocka_unit_test(test_copy_writer_file_commit),
		cmocka_unit_test(test_copy_writer_abort_removes_file),
		cmocka_unit_test(test_copy_writer_open_failure),
		cmocka_unit_test(test_copy_writer_write_error_detected),
		cmocka_unit_test(test_copy_writer_int_format),
		cmocka_unit_test(test_copy_writer_fixed_format),
		cmocka_unit_test(test_copy_writer_time_format),
		cmocka_unit_test(test_copy_writer_buffer_boundaries),
		cmocka_unit_test(test_copy_writer_file_checksum),
		cmocka_unit_test(test_copy_writer_fd_write_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
