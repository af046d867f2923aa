/*
 * test_ndjson_rows.c: RowBatch, whole NDJSON lines parsed into arena trees.
 *
 * Rows are compared in a canonical, type-tagged rendering so that a number
 * that turned into a string, a lost escape or a reordered key shows up as a
 * text difference. Error cases use a first_row other than 1 so that a
 * message counting from the wrong place is caught.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "ndjson_rows.h"
#include "support.h"

/* ALLOCATED canonical text of every row of b, one per line; caller frees. */
static char *
canon_rows(const RowBatch *b)
{
	TestBuf t = {0};

	tb_puts(&t, "");
	for (size_t i = 0; i < row_batch_count(b); i++)
	{
		ts_json_canon(&t, row_batch_row(b, i));
		tb_puts(&t, "\n");
	}
	return t.data;
}

/* Parses text into a fresh batch and checks the canonical rows. */
static void
assert_rows(const char *text, size_t first_row, const char *want, size_t want_rows)
{
	RowBatch *b = row_batch_new();
	char err[256];
	char *got;

	assert_non_null(b);
	if (!row_batch_parse(b, text, strlen(text), first_row, err, sizeof(err)))
		fail_msg("row_batch_parse refused %s: %s", text, err);
	assert_string_equal(err, "");
	assert_int_equal(row_batch_count(b), want_rows);
	got = canon_rows(b);
	assert_string_equal(got, want);
	free(got);
	row_batch_free(b);
}

/* Parses text into a fresh batch, expects a refusal whose message holds
 * every string of want (NULL-terminated). */
static void
assert_refused(const char *text, size_t len, size_t first_row, ...)
{
	RowBatch *b = row_batch_new();
	char err[512];
	va_list ap;
	const char *want;

	assert_non_null(b);
	if (row_batch_parse(b, text, len, first_row, err, sizeof(err)))
	{
		size_t rows = row_batch_count(b);

		row_batch_free(b);
		fail_msg("row_batch_parse accepted %.*s (%zu rows)", (int) (len > 200 ? 200 : len),
				 text, rows);
	}
	row_batch_free(b);
	va_start(ap, first_row);
	while ((want = va_arg(ap, const char *)) != NULL)
	{
		if (strstr(err, want) == NULL)
		{
			va_end(ap);
			fail_msg("error for %.*s is \"%s\", which does not hold \"%s\"",
					 (int) (len > 200 ? 200 : len), text, err, want);
		}
	}
	va_end(ap);
}

static void
test_rows_round_trip(void **state)
{
	(void) state;
	/* strings: escapes, \u escapes incl. a surrogate pair, a NUL, raw UTF-8 */
	assert_rows("{\"s\":\"a\\\"b\\\\c\\/d\\n\\t\\r\\b\\f\",\"u\":\"\\u00e9\\u20ac\\ud83d\\ude00\","
				"\"nul\":\"x\\u0000y\",\"raw\":\"\xc3\xa9t\xc3\xa9 \xe2\x82\xac\","
				"\"k\\u00e9y\":1}\n",
				1,
				"{s:\"a\\x22b\\x5cc/d\\x0a\\x09\\x0d\\x08\\x0c\","
				"u:\"\\xc3\\xa9\\xe2\\x82\\xac\\xf0\\x9f\\x98\\x80\","
				"nul:\"x\\x00y\",raw:\"\\xc3\\xa9t\\xc3\\xa9 \\xe2\\x82\\xac\","
				"k\xc3\xa9y:#1}\n", 1);
	/* numbers keep their text: big ints, exponents out of double range */
	assert_rows("{\"big\":12345678901234567890123,\"neg\":-9223372036854775809,"
				"\"huge\":1e400,\"tiny\":-2.50E-400,\"zero\":0,\"frac\":0.10}\n",
				7,
				"{big:#12345678901234567890123,neg:#-9223372036854775809,"
				"huge:#1e400,tiny:#-2.50E-400,zero:#0,frac:#0.10}\n", 1);
	/* every type, nesting, empty containers, whitespace inside a line */
	assert_rows("{\"t\":true,\"f\":false,\"n\":null,\"o\":{\"a\":{\"b\":[1,[2,[]],{}]}},"
				"\"e\":{},\"ea\":[]}\n"
				"{}\n"
				"  { \"a\" : [ 1 , \"two\" , null ] }  \n",
				1,
				"{t:true,f:false,n:null,o:{a:{b:[#1,[#2,[]],{}]}},e:{},ea:[]}\n"
				"{}\n"
				"{a:[#1,\"two\",null]}\n", 3);
	/* duplicate keys keep both entries, in order */
	assert_rows("{\"a\":1,\"b\":2,\"a\":3}\n", 1, "{a:#1,b:#2,a:#3}\n", 1);

	/* the accessors of json.h work on arena rows */
	{
		const char *text = "{\"id\":\"x1\",\"n\":42,\"deep\":{\"list\":[{\"v\":\"w\"}]}}\n";
		RowBatch *b = row_batch_new();
		char err[128];
		int64_t n = 0;
		size_t pos = 0;

		assert_non_null(b);
		assert_true(row_batch_parse(b, text, strlen(text), 1, err, sizeof(err)));
		assert_string_equal(json_path_text(row_batch_row(b, 0), "id"), "x1");
		assert_true(json_int64(json_member(row_batch_row(b, 0), "n"), &n));
		assert_int_equal(n, 42);
		assert_string_equal(json_path_text(row_batch_row(b, 0), "deep.list[0].v"), "w");
		assert_string_equal(json_text(json_member_from(row_batch_row(b, 0), "n", &pos)), "42");
		assert_int_equal(pos, 2);
		row_batch_free(b);
	}
}

static void
test_rows_line_ends(void **state)
{
	(void) state;
	/* the last line may lack its newline */
	assert_rows("{\"a\":1}\n{\"a\":2}", 1, "{a:#1}\n{a:#2}\n", 2);
	/* ... after nested containers, or as the only line */
	assert_rows("{\"a\":1}\n{\"n\":{\"m\":[1]}}", 1, "{a:#1}\n{n:{m:[#1]}}\n", 2);
	assert_rows("{\"only\":true}", 1, "{only:true}\n", 1);
}

static void
test_rows_crlf_and_blank_input(void **state)
{
	(void) state;
	/* pinned: CRLF line ends are accepted; the \r is whitespace */
	assert_rows("{\"a\":\"x\"}\r\n{\"a\":2}\r\n", 1, "{a:\"x\"}\n{a:#2}\n", 2);
	assert_rows("{\"a\":1}\r\n{\"a\":2}", 1, "{a:#1}\n{a:#2}\n", 2);
	/* trailing whitespace after the last line end is no row */
	assert_rows("{}\n \t\r", 1, "{}\n", 1);
	/* a blank CRLF line is still a blank line */
	{
		RowBatch *b = row_batch_new();
		char err[256];

		assert_non_null(b);
		assert_false(row_batch_parse(b, "{}\r\n\r\n{}\r\n", 10, 1, err, sizeof(err)));
		assert_true(err[0] != '\0');
		row_batch_free(b);
	}
}

static void
test_rows_errors_name_the_row(void **state)
{
	char nested[512];

	(void) state;
	/* a syntax error on the third line */
	{
		const char *t = "{\"a\":1}\n{\"a\":2}\n{\"a\":,}\n{\"a\":4}\n";
		assert_refused(t, strlen(t), 41, "row 43", NULL);
	}
	/* a stray character after the object */
	{
		const char *t = "{}\n{} x\n{}\n";
		assert_refused(t, strlen(t), 10, "row 11", NULL);
	}
	/* a value that is not an object: array, number, string, null */
	{
		const char *t = "{}\n{}\n[1,2]\n{}\n";
		assert_refused(t, strlen(t), 100, "row 102", "not a JSON object", NULL);
		t = "{}\n7\n";
		assert_refused(t, strlen(t), 5, "row 6", "not a JSON object", NULL);
		t = "\"s\"\n{}\n";
		assert_refused(t, strlen(t), 5, "row 5", "not a JSON object", NULL);
		t = "{}\n{}\n{}\nnull";
		assert_refused(t, strlen(t), 5, "row 8", "not a JSON object", NULL);
	}
	/* invalid UTF-8 inside a string */
	{
		const char *t = "{}\n{\"a\":\"caf\xe9\"}\n";
		assert_refused(t, strlen(t), 20, "row 21", NULL);
	}
	/* nesting too deep, on the second line: 1 object + 64 arrays */
	{
		size_t n = (size_t) snprintf(nested, sizeof(nested), "{}\n{\"a\":");
		for (int i = 0; i < 64; i++)
			nested[n++] = '[';
		for (int i = 0; i < 64; i++)
			nested[n++] = ']';
		nested[n++] = '}';
		nested[n++] = '\n';
		assert_refused(nested, n, 30, "row 31", "nested deeper than 64", NULL);
	}
}

/* The line-shape errors: blank lines, two values on a line, a value that
 * spans lines. Each is refused, and the message must name the offending
 * row; all cases are checked before failing so one run shows them all. */
static void
test_rows_line_shape_errors(void **state)
{
	static const struct
	{
		const char *text;
		const char *row;
	} cases[] = {
		/* a blank line in the middle: row 11 of rows 10..13 */
		{"{}\n\n{}\n{}\n", "row 11"},
		/* a blank first line, a whitespace-only line */
		{"\n{}\n{}\n", "row 10"},
		{"{}\n  \t\n{}\n", "row 11"},
		/* two objects on one line */
		{"{}\n{}\n{\"a\":1}{\"b\":2}\n{}\n", "row 12"},
		{"{\"a\":1} {\"b\":2}\n{}\n", "row 10"},
		/* one object spanning two lines, starting on row 11 */
		{"{}\n{\"a\":\n1}\n{}\n", "row 11"},
	};
	char report[4096];
	size_t used = 0;

	(void) state;
	report[0] = '\0';
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		RowBatch *b = row_batch_new();
		char err[512];
		const char *t = cases[i].text;

		assert_non_null(b);
		if (row_batch_parse(b, t, strlen(t), 10, err, sizeof(err)))
		{
			row_batch_free(b);
			fail_msg("case %zu accepted: %s", i, t);
		}
		assert_true(err[0] != '\0');
		if (strstr(err, cases[i].row) == NULL)
			used += (size_t) snprintf(report + used, sizeof(report) - used,
									  "case %zu: want \"%s\", got \"%.90s\"\n", i,
									  cases[i].row, err);
		row_batch_free(b);
	}
	if (used > 0)
		fail_msg("line-shape errors that do not name their row:\n%s", report);
}

/* check_refusals parses each text with first_row 10 and fails, listing
 * every case, when one is accepted or its message lacks its row. */
static void
check_refusals(const char *const *texts, const char *const *rows, size_t n)
{
	char report[4096];
	size_t used = 0;

	report[0] = '\0';
	for (size_t i = 0; i < n; i++)
	{
		RowBatch *b = row_batch_new();
		char err[512];

		assert_non_null(b);
		if (row_batch_parse(b, texts[i], strlen(texts[i]), 10, err, sizeof(err)))
			used += (size_t) snprintf(report + used, sizeof(report) - used,
									  "case %zu: accepted as %zu rows\n", i, row_batch_count(b));
		else if (strstr(err, rows[i]) == NULL)
			used += (size_t) snprintf(report + used, sizeof(report) - used,
									  "case %zu: want \"%s\", got \"%.90s\"\n", i, rows[i], err);
		row_batch_free(b);
	}
	if (used > 0)
		fail_msg("%s", report);
}

/* Errors of different shapes must not cancel out in a count of values
 * against a count of lines. */
static void
test_rows_line_shape_errors_compensating(void **state)
{
	static const char *const texts[] = {
		/* two values on row 10, a blank row 11: 2 values, 2 lines */
		"{\"a\":1}{\"b\":2}\n\n",
		/* a value spanning rows 10-11, a second value on row 11 */
		"{\"a\":\n1}{\"b\":2}\n",
	};
	static const char *const rows[] = {"row 10", "row 1"};

	(void) state;
	check_refusals(texts, rows, 2);
}

/* A row cut short at the end of the input names its own row, not the
 * first row of the input. */
static void
test_rows_truncated_last_row(void **state)
{
	static const char *const texts[] = {
		"{}\n{}\n{\"a\":",
		"{}\n{}\n{\"a\":[1,2\n",
		"{\"a\":",
	};
	static const char *const rows[] = {"row 12", "row 12", "row 10"};

	(void) state;
	check_refusals(texts, rows, 3);
}

/* "{" * depth + "}" * depth with a member at each level: depth levels. */
static char *
nested_objects(int depth)
{
	size_t cap = (size_t) depth * 8 + 16;
	char *s = malloc(cap);
	size_t n = 0;

	assert_non_null(s);
	for (int i = 0; i < depth - 1; i++)
		n += (size_t) snprintf(s + n, cap - n, "{\"k\":");
	n += (size_t) snprintf(s + n, cap - n, "{\"k\":1");
	for (int i = 0; i < depth; i++)
		s[n++] = '}';
	s[n++] = '\n';
	s[n] = '\0';
	return s;
}

static void
test_rows_depth_limit(void **state)
{
	RowBatch *b = row_batch_new();
	char err[256];
	char *ok64 = nested_objects(64);
	char *bad65 = nested_objects(65);
	const JsonValue *v;
	int levels = 0;

	(void) state;
	assert_non_null(b);
	assert_true(row_batch_parse(b, ok64, strlen(ok64), 1, err, sizeof(err)));
	assert_int_equal(row_batch_count(b), 1);
	for (v = row_batch_row(b, 0); v != NULL && v->type == JSON_OBJECT; v = json_member(v, "k"))
		levels++;
	assert_int_equal(levels, 64);
	assert_non_null(v);
	assert_string_equal(json_text(v), "1");

	/* arrays count as levels too: an object holding 63 arrays is 64 */
	{
		char text[256];
		size_t n;

		for (int arrays = 63; arrays <= 64; arrays++)
		{
			n = 0;
			memcpy(text, "{\"a\":", 5);
			n = 5;
			for (int i = 0; i < arrays; i++)
				text[n++] = '[';
			for (int i = 0; i < arrays; i++)
				text[n++] = ']';
			text[n++] = '}';
			text[n++] = '\n';
			row_batch_reset(b);
			if (arrays == 63)
				assert_true(row_batch_parse(b, text, n, 1, err, sizeof(err)));
			else
			{
				assert_false(row_batch_parse(b, text, n, 1, err, sizeof(err)));
				assert_non_null(strstr(err, "nested deeper than 64"));
			}
		}
	}

	row_batch_reset(b);
	assert_false(row_batch_parse(b, bad65, strlen(bad65), 3, err, sizeof(err)));
	assert_non_null(strstr(err, "row 3"));
	assert_non_null(strstr(err, "nested deeper than 64"));
	/* the batch is usable after a refusal */
	row_batch_reset(b);
	assert_true(row_batch_parse(b, "{\"x\":1}\n", 8, 1, err, sizeof(err)));
	assert_int_equal(row_batch_count(b), 1);
	assert_string_equal(json_path_text(row_batch_row(b, 0), "x"), "1");
	free(ok64);
	free(bad65);
	row_batch_free(b);
}

static void
test_rows_huge_string(void **state)
{
	size_t big = 3 * 1024 * 1024 + 17;
	size_t len = big + 64;
	char *text = malloc(len);
	RowBatch *b = row_batch_new();
	char err[256];
	size_t n = 0;
	const JsonValue *s;
	size_t bytes_first;

	(void) state;
	assert_non_null(text);
	assert_non_null(b);
	n += (size_t) snprintf(text + n, len - n, "{\"a\":1}\n{\"s\":\"");
	for (size_t i = 0; i < big; i++)
		text[n++] = (char) ('a' + i % 26);
	n += (size_t) snprintf(text + n, len - n, "\",\"z\":2}\n{\"b\":3}\n");
	assert_true(row_batch_parse(b, text, n, 1, err, sizeof(err)));
	assert_int_equal(row_batch_count(b), 3);
	s = json_member(row_batch_row(b, 1), "s");
	assert_non_null(s);
	assert_int_equal(s->type, JSON_STRING);
	assert_int_equal(s->len, big);
	for (size_t i = 0; i < big; i++)
	{
		if (s->text[i] != (char) ('a' + i % 26))
			fail_msg("byte %zu of the long string is %c", i, s->text[i]);
	}
	assert_string_equal(json_path_text(row_batch_row(b, 1), "z"), "2");
	assert_string_equal(json_path_text(row_batch_row(b, 0), "a"), "1");
	assert_string_equal(json_path_text(row_batch_row(b, 2), "b"), "3");
	bytes_first = row_batch_bytes(b);
	assert_true(bytes_first >= big);
	/* the same input again after a reset takes no more memory */
	row_batch_reset(b);
	assert_int_equal(row_batch_count(b), 0);
	assert_true(row_batch_parse(b, text, n, 1, err, sizeof(err)));
	assert_int_equal(row_batch_count(b), 3);
	assert_int_equal(json_member(row_batch_row(b, 1), "s")->len, big);
	assert_int_equal(row_batch_bytes(b), bytes_first);
	free(text);
	row_batch_free(b);
}

/* Fills b with parses of `chunks` chunks of `per` rows; row r is
 * {"r":r,"name":"row-r","tags":[r,"t"],"o":{"x":null}}. */
static void
fill(RowBatch *b, int chunks, int per)
{
	char *text = malloc((size_t) per * 96 + 1);
	char err[256];

	assert_non_null(text);
	for (int c = 0; c < chunks; c++)
	{
		size_t n = 0;

		for (int i = 0; i < per; i++)
		{
			int r = c * per + i;
			n += (size_t) snprintf(text + n, (size_t) per * 96 + 1 - n,
								   "{\"r\":%d,\"name\":\"row-%d\",\"tags\":[%d,\"t\"],"
								   "\"o\":{\"x\":null}}\n", r, r, r);
		}
		if (!row_batch_parse(b, text, n, (size_t) c * (size_t) per + 1, err, sizeof(err)))
			fail_msg("chunk %d refused: %s", c, err);
		assert_int_equal(row_batch_count(b), (size_t) (c + 1) * (size_t) per);
	}
	free(text);
}

static void
assert_filled(const RowBatch *b, int rows)
{
	char want[96];
	TestBuf t = {0};

	assert_int_equal(row_batch_count(b), (size_t) rows);
	for (int r = 0; r < rows; r++)
	{
		t.len = 0;
		ts_json_canon(&t, row_batch_row(b, (size_t) r));
		snprintf(want, sizeof(want), "{r:#%d,name:\"row-%d\",tags:[#%d,\"t\"],o:{x:null}}",
				 r, r, r);
		if (strcmp(t.data, want) != 0)
			fail_msg("row %d is %s, want %s", r, t.data, want);
	}
	free(t.data);
}

static void
test_rows_reset_and_reuse(void **state)
{
	RowBatch *b = row_batch_new();
	size_t bytes_first;
	char err[64];

	(void) state;
	assert_non_null(b);
	assert_int_equal(row_batch_count(b), 0);
	assert_null(row_batch_row(b, 0));
	/* 40 parses of 1,000 rows: several arena blocks */
	fill(b, 40, 1000);
	assert_filled(b, 40000);
	bytes_first = row_batch_bytes(b);
	assert_true(bytes_first > 2 * 1024 * 1024);
	assert_null(row_batch_row(b, 40000));
	assert_null(row_batch_row(b, SIZE_MAX));

	row_batch_reset(b);
	assert_int_equal(row_batch_count(b), 0);
	assert_null(row_batch_row(b, 0));
	/* reuse: right rows, no new memory */
	fill(b, 40, 1000);
	assert_filled(b, 40000);
	assert_int_equal(row_batch_bytes(b), bytes_first);
	/* a smaller fill after a reset fits in what is there */
	row_batch_reset(b);
	fill(b, 3, 10);
	assert_filled(b, 30);
	assert_null(row_batch_row(b, 30));
	assert_int_equal(row_batch_bytes(b), bytes_first);
	/* a failed parse keeps the rows of earlier parses */
	assert_false(row_batch_parse(b, "{\"r\":\n", 6, 31, err, sizeof(err)));
	assert_string_equal(json_path_text(row_batch_row(b, 29), "name"), "row-29");
	row_batch_free(b);
	row_batch_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows_round_trip),
		cmocka_unit_test(test_rows_line_ends),
		cmocka_unit_test(test_rows_crlf_and_blank_input),
		cmocka_unit_test(test_rows_errors_name_the_row),
		cmocka_unit_test(test_rows_line_shape_errors),
		cmocka_unit_test(test_rows_line_shape_errors_compensating),
		cmocka_unit_test(test_rows_truncated_last_row),
		cmocka_unit_test(test_rows_depth_limit),
		cmocka_unit_test(test_rows_huge_string),
		cmocka_unit_test(test_rows_reset_and_reuse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
