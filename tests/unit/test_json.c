/*
 * test_json.c: the JsonValue tree and the streaming record splitter.
 *
 * The streaming tests compare what a document yields when fed whole with
 * what it yields when fed in every other way (one byte at a time, uneven
 * chunks): the parser must not care where the network splits a response.
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
#include "support.h"

/* ALLOCATED canonical text of v; caller frees. */
static char *
canon_str(const JsonValue *v)
{
	TestBuf b = {0};
	ts_json_canon(&b, v);
	return b.data;
}

/* Collects every record in canonical form, one per line. */
typedef struct Collector
{
	TestBuf out;
	size_t calls;
	size_t abort_at;        /* return false on this call (1-based); 0 never */
} Collector;

static bool
collect_record(void *ctx, const JsonValue *record)
{
	Collector *c = ctx;
	c->calls++;
	ts_json_canon(&c->out, record);
	tb_puts(&c->out, "\n");
	return c->abort_at == 0 || c->calls != c->abort_at;
}

/* The result of streaming one document: records, envelope, outcome. */
typedef struct StreamResult
{
	bool ok;
	char *records;          /* owned */
	char *envelope;         /* owned */
	size_t count;
	char error[512];
} StreamResult;

static void
stream_result_free(StreamResult *r)
{
	free(r->records);
	free(r->envelope);
	memset(r, 0, sizeof(*r));
}

/*
 * run_stream feeds text in chunks of the sizes given by chunk(i) (cycling
 * through a pattern), then finishes.
 */
static StreamResult
run_stream(const char *path, const char *text, size_t len, const size_t *pattern,
		   size_t npattern)
{
	StreamResult r = {0};
	Collector c = {0};
	JsonStream *s = json_stream_new(path, collect_record, &c);
	size_t pos = 0;
	size_t i = 0;

	assert_non_null(s);
	r.ok = true;
	while (pos < len && r.ok)
	{
		size_t n = pattern[i++ % npattern];
		if (n > len - pos)
			n = len - pos;
		r.ok = json_stream_feed(s, text + pos, n);
		pos += n;
	}
	if (r.ok)
		r.ok = json_stream_finish(s);
	snprintf(r.error, sizeof(r.error), "%s", json_stream_error(s));
	r.records = c.out.data != NULL ? c.out.data : strdup("");
	r.envelope = canon_str(json_stream_envelope(s));
	r.count = json_stream_records(s);
	assert_int_equal(r.count, c.calls);
	json_stream_free(s);
	return r;
}

static StreamResult
run_whole(const char *path, const char *text)
{
	size_t whole = strlen(text) + 1;
	return run_stream(path, text, strlen(text), &whole, 1);
}

/*
 * assert_split_invariant: feeding one byte at a time and in uneven chunks
 * yields exactly what feeding the whole document yields.
 */
static void
assert_split_invariant(const char *path, const char *text, size_t len)
{
	static const size_t one[] = {1};
	static const size_t uneven[] = {3, 1, 7, 2, 64, 5, 13};
	size_t whole_len = len + 1;
	StreamResult whole = run_stream(path, text, len, &whole_len, 1);
	StreamResult bytes = run_stream(path, text, len, one, 1);
	StreamResult chunks = run_stream(path, text, len, uneven, 7);

	assert_true(whole.ok);
	assert_true(bytes.ok);
	assert_true(chunks.ok);
	assert_string_equal(whole.records, bytes.records);
	assert_string_equal(whole.records, chunks.records);
	assert_string_equal(whole.envelope, bytes.envelope);
	assert_string_equal(whole.envelope, chunks.envelope);
	assert_int_equal(whole.count, bytes.count);
	stream_result_free(&whole);
	stream_result_free(&bytes);
	stream_result_free(&chunks);
}

static void
test_json_parse_document(void **state)
{
	const char *text = "{\"paging\":{\"next\":{\"after\":\"abc\"}},\"results\":[{\"id\":\"7\","
		"\"n\":42},{\"id\":8,\"flag\":true,\"none\":null}],\"empty\":{}}";
	char err[256] = "";
	JsonValue *doc = json_parse(text, strlen(text), err, sizeof(err));
	int64_t n = 0;
	bool b = false;

	(void) state;
	assert_non_null(doc);
	assert_int_equal(doc->type, JSON_OBJECT);
	assert_string_equal(json_path_text(doc, "paging.next.after"), "abc");
	assert_string_equal(json_path_text(doc, "results[0].id"), "7");
	assert_string_equal(json_path_text(doc, "results[1].id"), "8");
	assert_null(json_string(json_path(doc, "results[1].id")));   /* a number */
	assert_true(json_int64(json_path(doc, "results[0].n"), &n));
	assert_int_equal(n, 42);
	assert_true(json_int64(json_path(doc, "results[0].id"), &n));  /* numeric string */
	assert_int_equal(n, 7);
	assert_true(json_bool(json_path(doc, "results[1].flag"), &b));
	assert_true(b);
	assert_false(json_bool(json_path(doc, "results[1].id"), &b));
	assert_true(json_is_null(json_path(doc, "results[1].none")));
	assert_true(json_is_null(json_path(doc, "results[1].missing")));
	assert_false(json_is_null(json_path(doc, "results[1].flag")));
	assert_null(json_path(doc, "results[2]"));
	assert_null(json_path(doc, "results[x]"));
	assert_null(json_path(doc, "paging..next"));
	assert_null(json_path(doc, "paging.next.after.deeper"));
	assert_non_null(json_path(doc, "empty"));
	assert_int_equal(json_path(doc, "empty")->count, 0);
	assert_null(json_member(json_path(doc, "results"), "id"));  /* not an object */
	json_free(doc);

	/* trailing garbage and empty input are errors */
	doc = json_parse("{} x", 4, err, sizeof(err));
	assert_null(doc);
	assert_non_null(strstr(err, "byte"));
	doc = json_parse("", 0, err, sizeof(err));
	assert_null(doc);
	doc = json_parse("  ", 2, err, sizeof(err));
	assert_null(doc);
	json_free(NULL);
}

/* Duplicate keys: the first wins, and lookup is by whole key. */
static void
test_json_member_lookup(void **state)
{
	const char *text = "{\"ab\":1,\"a\":2,\"a\":3,\"abc\":4}";
	JsonValue *doc = json_parse(text, strlen(text), NULL, 0);

	(void) state;
	assert_non_null(doc);
	assert_string_equal(json_text(json_member(doc, "a")), "2");
	assert_string_equal(json_text(json_member(doc, "ab")), "1");
	assert_string_equal(json_text(json_path(doc, "abc")), "4");
	assert_null(json_member(doc, "b"));
	assert_null(json_member(NULL, "a"));
	json_free(doc);
}

/* json_member_from: cyclic lookup from a position, left after the hit. */
static void
test_json_member_from(void **state)
{
	const char *text = "{\"a\":1,\"b\":2,\"c\":3,\"ab\":4,\"d\":{\"x\":5}}";
	JsonValue *doc = json_parse(text, strlen(text), NULL, 0);
	JsonValue *empty = json_parse("{}", 2, NULL, 0);
	JsonValue *arr = json_parse("[\"a\",1]", 7, NULL, 0);
	JsonValue *dup = json_parse("{\"k\":1,\"z\":0,\"k\":2}", 19, NULL, 0);
	size_t pos = 0;

	(void) state;
	assert_non_null(doc);
	assert_non_null(empty);
	assert_non_null(arr);
	assert_non_null(dup);

	/* in key order: each hit leaves pos just after it */
	assert_string_equal(json_text(json_member_from(doc, "a", &pos)), "1");
	assert_int_equal(pos, 1);
	assert_string_equal(json_text(json_member_from(doc, "b", &pos)), "2");
	assert_int_equal(pos, 2);
	assert_string_equal(json_text(json_member_from(doc, "c", &pos)), "3");
	assert_int_equal(pos, 3);
	assert_string_equal(json_text(json_member_from(doc, "ab", &pos)), "4");
	assert_int_equal(pos, 4);
	assert_ptr_equal(json_member_from(doc, "d", &pos), json_member(doc, "d"));
	assert_int_equal(pos, 5);
	/* pos == count wraps to the start */
	assert_string_equal(json_text(json_member_from(doc, "a", &pos)), "1");
	assert_int_equal(pos, 1);

	/* out of order: wraps around past the end */
	pos = 3;
	assert_string_equal(json_text(json_member_from(doc, "b", &pos)), "2");
	assert_int_equal(pos, 2);
	pos = 4;
	assert_string_equal(json_text(json_member_from(doc, "a", &pos)), "1");
	assert_int_equal(pos, 1);
	/* a key right at pos, and one just before it (a full lap) */
	pos = 2;
	assert_string_equal(json_text(json_member_from(doc, "c", &pos)), "3");
	assert_int_equal(pos, 3);
	pos = 3;
	assert_string_equal(json_text(json_member_from(doc, "c", &pos)), "3");
	assert_int_equal(pos, 3);
	/* keys that share a first byte or a prefix are not confused */
	pos = 0;
	assert_string_equal(json_text(json_member_from(doc, "ab", &pos)), "4");
	assert_int_equal(pos, 4);
	pos = 4;
	assert_string_equal(json_text(json_member_from(doc, "a", &pos)), "1");
	assert_int_equal(pos, 1);

	/* absent keys: NULL, pos untouched, from any start */
	for (size_t start = 0; start < 7; start++)
	{
		pos = start;
		assert_null(json_member_from(doc, "e", &pos));
		assert_int_equal(pos, start);
		assert_null(json_member_from(doc, "", &pos));
		assert_null(json_member_from(doc, "abc", &pos));
		assert_null(json_member_from(doc, "x", &pos));  /* nested, not a member */
		assert_int_equal(pos, start);
	}

	/* pos beyond count starts over at the beginning */
	pos = 99;
	assert_string_equal(json_text(json_member_from(doc, "c", &pos)), "3");
	assert_int_equal(pos, 3);
	pos = SIZE_MAX;
	assert_string_equal(json_text(json_member_from(doc, "a", &pos)), "1");
	assert_int_equal(pos, 1);

	/* not objects, empty objects, NULL: NULL and pos untouched */
	pos = 1;
	assert_null(json_member_from(arr, "a", &pos));
	assert_int_equal(pos, 1);
	assert_null(json_member_from(json_member(doc, "a"), "a", &pos));
	assert_null(json_member_from(empty, "a", &pos));
	assert_null(json_member_from(NULL, "a", &pos));
	assert_null(json_member_from(doc, NULL, &pos));
	assert_int_equal(pos, 1);

	/* nested objects have their own positions */
	pos = 0;
	assert_string_equal(json_text(json_member_from(json_member(doc, "d"), "x", &pos)), "5");
	assert_int_equal(pos, 1);

	/* a repeated key: one of its values, and pos after that one */
	pos = 0;
	assert_string_equal(json_text(json_member_from(dup, "k", &pos)), "1");
	assert_int_equal(pos, 1);
	assert_string_equal(json_text(json_member_from(dup, "k", &pos)), "2");
	assert_int_equal(pos, 3);
	assert_string_equal(json_text(json_member_from(dup, "z", &pos)), "0");
	assert_int_equal(pos, 2);

	json_free(doc);
	json_free(empty);
	json_free(arr);
	json_free(dup);
}

static void
test_json_path_results(void **state)
{
	const char *text = "{\"total\":2,\"results\":[{\"id\":\"1\"},{\"id\":\"2\",\"tags\":[1,2]}],"
		"\"paging\":{\"next\":{\"after\":\"2\"}}}";
	StreamResult r = run_whole("results[]", text);

	(void) state;
	assert_true(r.ok);
	assert_int_equal(r.count, 2);
	assert_string_equal(r.records, "{id:\"1\"}\n{id:\"2\",tags:[#1,#2]}\n");
	/* the records are not kept in the envelope */
	assert_string_equal(r.envelope, "{total:#2,results:[],paging:{next:{after:\"2\"}}}");
	stream_result_free(&r);
	assert_split_invariant("results[]", text, strlen(text));
}

static void
test_json_path_batches(void **state)
{
	const char *text = "[{\"results\":[{\"a\":1},{\"a\":2}],\"fieldMask\":\"a\"},"
		"{\"results\":[{\"a\":3}],\"requestId\":\"r1\"}]";
	StreamResult r = run_whole("[]results[]", text);

	(void) state;
	assert_true(r.ok);
	assert_int_equal(r.count, 3);
	assert_string_equal(r.records, "{a:#1}\n{a:#2}\n{a:#3}\n");
	assert_string_equal(r.envelope, "[{results:[],fieldMask:\"a\"},{results:[],requestId:\"r1\"}]");
	stream_result_free(&r);
	assert_split_invariant("[]results[]", text, strlen(text));
}

static void
test_json_path_top_array(void **state)
{
	const char *text = "[{\"x\":[{\"y\":1}]}, 5, \"s\", null, [1, [2]]]";
	StreamResult r = run_whole("[]", text);

	(void) state;
	assert_true(r.ok);
	assert_int_equal(r.count, 5);
	assert_string_equal(r.records, "{x:[{y:#1}]}\n#5\n\"s\"\nnull\n[#1,[#2]]\n");
	assert_string_equal(r.envelope, "[]");
	stream_result_free(&r);
	assert_split_invariant("[]", text, strlen(text));

	/* the path does not match: everything is envelope, no records */
	r = run_whole("[]", "{\"results\":[1,2]}");
	assert_true(r.ok);
	assert_int_equal(r.count, 0);
	assert_string_equal(r.envelope, "{results:[#1,#2]}");
	stream_result_free(&r);
}

static void
test_json_path_dotted(void **state)
{
	const char *text = "{\"data\":{\"items\":[{\"id\":1}],\"items2\":[9]},\"items\":[7]}";
	StreamResult r = run_whole("data.items[]", text);

	(void) state;
	assert_true(r.ok);
	assert_string_equal(r.records, "{id:#1}\n");
	assert_string_equal(r.envelope, "{data:{items:[],items2:[#9]},items:[#7]}");
	stream_result_free(&r);

	/* malformed record paths are refused */
	assert_null(json_stream_new("results[", collect_record, NULL));
	assert_null(json_stream_new("a..b[]", collect_record, NULL));
	assert_null(json_stream_new(".a", collect_record, NULL));
}

static void
test_json_ndjson(void **state)
{
	const char *text = "{\"a\":1}\n{\"a\":2,\"b\":[true,false]}\n\n7\n\"x\"\n{}\n";
	StreamResult r = run_whole("", text);

	(void) state;
	assert_true(r.ok);
	assert_int_equal(r.count, 5);
	assert_string_equal(r.records, "{a:#1}\n{a:#2,b:[true,false]}\n#7\n\"x\"\n{}\n");
	assert_string_equal(r.envelope, "<absent>");
	stream_result_free(&r);
	assert_split_invariant("", text, strlen(text));

	/* a number at the very end needs finish to be complete */
	r = run_whole("", "{\"a\":1}\n12");
	assert_true(r.ok);
	assert_string_equal(r.records, "{a:#1}\n#12\n");
	stream_result_free(&r);

	/* an empty file is zero rows, not an error */
	r = run_whole("", "");
	assert_true(r.ok);
	assert_int_equal(r.count, 0);
	stream_result_free(&r);
	r = run_whole("", " \n\n");
	assert_true(r.ok);
	assert_int_equal(r.count, 0);
	stream_result_free(&r);

	/* a cut last line is not */
	r = run_whole("", "{\"a\":1}\n{\"a\":");
	assert_false(r.ok);
	assert_int_equal(r.count, 1);
	assert_non_null(strstr(r.error, "incomplete"));
	stream_result_free(&r);
}

static void
test_json_truncated_input(void **state)
{
	const char *text = "{\"results\":[{\"id\":\"1\"},{\"id\":\"2\"}]}";
	size_t len = strlen(text);

	(void) state;
	/* every proper prefix is incomplete; records seen so far were delivered */
	for (size_t cut = 0; cut < len; cut++)
	{
		size_t whole = len;
		StreamResult r = run_stream("results[]", text, cut, &whole, 1);
		assert_false(r.ok);
		assert_true(r.error[0] != '\0');
		assert_true(r.count <= 2);
		stream_result_free(&r);
	}
	{
		StreamResult r = run_whole("results[]", "{\"results\":[{\"id\":\"1\"}");
		assert_false(r.ok);
		assert_int_equal(r.count, 1);
		assert_non_null(strstr(r.error, "incomplete"));
		stream_result_free(&r);
	}
	/* and an empty body is not a document */
	{
		StreamResult r = run_whole("results[]", "");
		assert_false(r.ok);
		assert_non_null(strstr(r.error, "empty"));
		stream_result_free(&r);
	}
}

static void
test_json_syntax_error_message(void **state)
{
	const char *text = "{\"results\":[{\"id\":1},{\"id\": x}]}";
	StreamResult r = run_whole("results[]", text);
	static const size_t one[] = {1};
	StreamResult r1;

	(void) state;
	assert_false(r.ok);
	assert_int_equal(r.count, 1);
	/* the offending byte is at offset 28: the message gives the offset
	 * where parsing stopped (just past it), yajl's reason and the text
	 * around it with a marker */
	assert_non_null(strstr(r.error, "at byte 29"));
	assert_non_null(strstr(r.error, "invalid char"));
	assert_non_null(strstr(r.error, "{\"id\": x <-- }]}"));

	/* fed byte by byte, the offset and the context are the same */
	r1 = run_stream("results[]", text, strlen(text), one, 1);
	assert_false(r1.ok);
	assert_non_null(strstr(r1.error, "at byte 29"));
	assert_non_null(strstr(r1.error, "{\"id\": x <-- "));
	stream_result_free(&r1);
	stream_result_free(&r);

	/* a failed stream stays failed */
	{
		Collector c = {0};
		JsonStream *s = json_stream_new("", collect_record, &c);
		assert_false(json_stream_feed(s, "{]", 2));
		assert_false(json_stream_feed(s, "{}", 2));
		assert_false(json_stream_finish(s));
		assert_false(json_stream_aborted(s));
		json_stream_free(s);
		free(c.out.data);
	}
}

static void
test_json_callback_abort(void **state)
{
	const char *text = "[{\"n\":1},{\"n\":2},{\"n\":3}]";
	Collector c = {0};
	JsonStream *s = json_stream_new("[]", collect_record, &c);

	(void) state;
	c.abort_at = 2;
	assert_false(json_stream_feed(s, text, strlen(text)));
	assert_true(json_stream_aborted(s));
	assert_non_null(strstr(json_stream_error(s), "aborted by callback"));
	assert_int_equal(c.calls, 2);
	assert_false(json_stream_finish(s));

	/* reset makes the stream usable for a new attempt */
	free(c.out.data);
	memset(&c, 0, sizeof(c));
	assert_true(json_stream_reset(s));
	assert_false(json_stream_aborted(s));
	assert_string_equal(json_stream_error(s), "");
	assert_null(json_stream_envelope(s));
	assert_true(json_stream_feed(s, text, strlen(text)));
	assert_true(json_stream_finish(s));
	assert_int_equal(json_stream_records(s), 3);
	assert_string_equal(c.out.data, "{n:#1}\n{n:#2}\n{n:#3}\n");
	json_stream_free(s);
	free(c.out.data);
	json_stream_free(NULL);
}

static void
test_json_big_numbers(void **state)
{
	const char *text = "{\"big\":12345678901234567890,\"neg\":-9223372036854775808,"
		"\"max\":9223372036854775807,\"over\":9223372036854775808,\"frac\":12.50,"
		"\"whole\":12.0,\"exp\":1.5e300,\"s\":\"42\",\"sp\":\" 42\",\"plus\":\"+42\","
		"\"sfrac\":\"3.000\",\"dot\":\"3.\",\"empty\":\"\",\"minus\":\"-\"}";
	JsonValue *doc = json_parse(text, strlen(text), NULL, 0);
	int64_t n = 0;

	(void) state;
	assert_non_null(doc);
	assert_string_equal(json_text(json_member(doc, "big")), "12345678901234567890");
	assert_int_equal(json_member(doc, "big")->type, JSON_NUMBER);
	assert_false(json_int64(json_member(doc, "big"), &n));
	assert_true(json_int64(json_member(doc, "neg"), &n));
	assert_true(n == INT64_MIN);
	assert_true(json_int64(json_member(doc, "max"), &n));
	assert_true(n == INT64_MAX);
	assert_false(json_int64(json_member(doc, "over"), &n));
	assert_string_equal(json_text(json_member(doc, "frac")), "12.50");
	assert_false(json_int64(json_member(doc, "frac"), &n));
	assert_true(json_int64(json_member(doc, "whole"), &n));
	assert_int_equal(n, 12);
	assert_string_equal(json_text(json_member(doc, "exp")), "1.5e300");
	assert_false(json_int64(json_member(doc, "exp"), &n));
	assert_true(json_int64(json_member(doc, "s"), &n));
	assert_int_equal(n, 42);
	assert_false(json_int64(json_member(doc, "sp"), &n));
	assert_false(json_int64(json_member(doc, "plus"), &n));
	assert_true(json_int64(json_member(doc, "sfrac"), &n));
	assert_int_equal(n, 3);
	assert_false(json_int64(json_member(doc, "dot"), &n));
	assert_false(json_int64(json_member(doc, "empty"), &n));
	assert_false(json_int64(json_member(doc, "minus"), &n));
	assert_false(json_int64(NULL, &n));
	json_free(doc);

	/* a big number split across feeds keeps every digit */
	{
		const char *nums = "[12345678901234567890, -0.000000000000000000001]";
		StreamResult r = run_whole("[]", nums);
		assert_string_equal(r.records, "#12345678901234567890\n#-0.000000000000000000001\n");
		stream_result_free(&r);
		assert_split_invariant("[]", nums, strlen(nums));
	}
}

static void
test_json_escapes_and_utf8(void **state)
{
	const char *text = "[\"\\u00e9\\n\\t\\\"\\\\\\/\", \"\\ud83d\\ude00\", \"caf\xc3\xa9 \xe2\x82\xac\","
		" \"a\\u0000b\", {\"k\\u00fc\": \"\\u20ac\"}]";
	JsonValue *doc = json_parse(text, strlen(text), NULL, 0);
	char err[256];

	(void) state;
	assert_non_null(doc);
	assert_int_equal(doc->count, 5);
	assert_string_equal(json_string(doc->items[0]), "\xc3\xa9\n\t\"\\/");
	assert_string_equal(json_string(doc->items[1]), "\xf0\x9f\x98\x80");
	assert_string_equal(json_string(doc->items[2]), "caf\xc3\xa9 \xe2\x82\xac");
	/* an escaped NUL is kept: len tells the real length */
	assert_int_equal(doc->items[3]->len, 3);
	assert_memory_equal(doc->items[3]->text, "a\0b", 3);
	assert_string_equal(json_path_text(doc, "[4].k\xc3\xbc"), "\xe2\x82\xac");
	json_free(doc);
	assert_split_invariant("[]", text, strlen(text));

	/* invalid UTF-8 in a string is an error, not passed through */
	doc = json_parse("[\"\xff\xfe\"]", 6, err, sizeof(err));
	assert_null(doc);
	assert_non_null(strstr(err, "UTF8"));
	/* a control character must be escaped */
	doc = json_parse("[\"a\nb\"]", 7, err, sizeof(err));
	assert_null(doc);
}

static void
test_json_depth_limit(void **state)
{
	char deep[256];
	char err[256];
	JsonValue *doc;
	size_t n;

	(void) state;
	/* 64 levels are fine */
	n = 0;
	for (int i = 0; i < 64; i++)
		deep[n++] = '[';
	for (int i = 0; i < 64; i++)
		deep[n++] = ']';
	doc = json_parse(deep, n, err, sizeof(err));
	assert_non_null(doc);
	json_free(doc);

	/* 65 are refused with a reason */
	n = 0;
	for (int i = 0; i < 65; i++)
		deep[n++] = '[';
	for (int i = 0; i < 65; i++)
		deep[n++] = ']';
	doc = json_parse(deep, n, err, sizeof(err));
	assert_null(doc);
	assert_non_null(strstr(err, "nesting deeper than 64"));

	/* inside records too */
	{
		StreamResult r;
		char text[512];
		size_t m = (size_t) snprintf(text, sizeof(text), "{\"results\":[");
		for (int i = 0; i < 70; i++)
		{
			memcpy(text + m, "{\"a\":", 5);
			m += 5;
		}
		text[m++] = '1';
		text[m] = '\0';
		r = run_whole("results[]", text);
		assert_false(r.ok);
		assert_non_null(strstr(r.error, "nesting"));
		assert_false(r.error[0] == '\0');
		stream_result_free(&r);
	}
}

/* Reads a shared fixture and streams it both whole and byte by byte. */
static StreamResult
run_fixture(const char *rel, const char *path)
{
	char *file = ts_shared_fixture(rel);
	size_t len = 0;
	char *text = ts_read_file(file, &len);
	size_t whole = len + 1;
	StreamResult r = run_stream(path, text, len, &whole, 1);

	assert_split_invariant(path, text, len);
	free(text);
	free(file);
	return r;
}

static void
test_json_fixture_hubspot(void **state)
{
	char *file = ts_shared_fixture("vendors/hubspot/contacts_list_v3.json");
	size_t len = 0;
	char *text = ts_read_file(file, &len);
	JsonValue *doc = json_parse(text, len, NULL, 0);
	StreamResult r = run_fixture("vendors/hubspot/contacts_list_v3.json", "results[]");

	(void) state;
	assert_true(r.ok);
	assert_int_equal(r.count, 2);
	assert_non_null(strstr(r.records, "email:\"emailmaria@hubspot.com\""));
	assert_non_null(strstr(r.records, "email:\"bh@hubspot.com\""));
	assert_string_equal(r.envelope, "{results:[]}");
	/* each streamed record equals the same record of the parsed tree */
	assert_non_null(doc);
	{
		char *first = canon_str(json_path(doc, "results[0]"));
		char *second = canon_str(json_path(doc, "results[1]"));
		TestBuf both = {0};
		tb_puts(&both, first);
		tb_puts(&both, "\n");
		tb_puts(&both, second);
		tb_puts(&both, "\n");
		assert_string_equal(r.records, both.data);
		free(both.data);
		free(first);
		free(second);
	}
	assert_string_equal(json_path_text(doc, "results[1].properties.firstname"), "Brian");
	json_free(doc);
	stream_result_free(&r);
	free(text);
	free(file);
}

static void
test_json_fixture_google_ads(void **state)
{
	StreamResult r = run_fixture("vendors/google_ads/searchstream_customer_daily.json",
								 "[]results[]");

	(void) state;
	assert_true(r.ok);
	assert_int_equal(r.count, 7);
	assert_non_null(strstr(r.records, "costMicros:\"1061083620\""));
	assert_non_null(strstr(r.records, "date:\"2024-06-01\""));
	/* the batch keeps its metadata, without the rows */
	assert_non_null(strstr(r.envelope, "[{results:[],fieldMask:"));
	assert_non_null(strstr(r.envelope, "requestId:"));
	stream_result_free(&r);
}

/* Checks the envelope fields of the Mailchimp page through a real tree. */
typedef struct EnvelopeCheck
{
	int64_t total_items;
	bool has_links;
	size_t records;
} EnvelopeCheck;

static bool
count_record(void *ctx, const JsonValue *record)
{
	EnvelopeCheck *e = ctx;
	assert_non_null(json_path_text(record, "id"));
	e->records++;
	return true;
}

static void
test_json_fixture_mailchimp(void **state)
{
	char *file = ts_shared_fixture("vendors/mailchimp/campaigns_list.json");
	size_t len = 0;
	char *text = ts_read_file(file, &len);
	EnvelopeCheck e = {0};
	JsonStream *s = json_stream_new("campaigns[]", count_record, &e);
	const JsonValue *env;
	StreamResult r;

	(void) state;
	for (size_t pos = 0; pos < len; pos += 100)
		assert_true(json_stream_feed(s, text + pos, len - pos < 100 ? len - pos : 100));
	assert_true(json_stream_finish(s));
	env = json_stream_envelope(s);
	assert_non_null(env);
	assert_true(json_int64(json_member(env, "total_items"), &e.total_items));
	assert_int_equal(e.total_items, 148);
	assert_non_null(json_member(env, "_links"));
	assert_int_equal(json_member(env, "campaigns")->count, 0);
	assert_int_equal(e.records, 1);
	assert_int_equal(json_stream_records(s), 1);
	json_stream_free(s);

	r = run_fixture("vendors/mailchimp/campaigns_list.json", "campaigns[]");
	assert_true(r.ok);
	assert_int_equal(r.count, 1);
	stream_result_free(&r);
	free(text);
	free(file);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_parse_document),
		cmocka_unit_test(test_json_member_lookup),
		cmocka_unit_test(test_json_member_from),
		cmocka_unit_test(test_json_path_results),
		cmocka_unit_test(test_json_path_batches),
		cmocka_unit_test(test_json_path_top_array),
		cmocka_unit_test(test_json_path_dotted),
		cmocka_unit_test(test_json_ndjson),
		cmocka_unit_test(test_json_truncated_input),
		cmocka_unit_test(test_json_syntax_error_message),
		cmocka_unit_test(test_json_callback_abort),
		cmocka_unit_test(test_json_big_numbers),
		cmocka_unit_test(test_json_escapes_and_utf8),
		cmocka_unit_test(test_json_depth_limit),
		cmocka_unit_test(test_json_fixture_hubspot),
		cmocka_unit_test(test_json_fixture_google_ads),
		cmocka_unit_test(test_json_fixture_mailchimp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
