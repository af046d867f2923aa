/*
 * json.h: a small JSON value tree and a streaming record splitter on yajl.
 *
 * Vendor responses can be large (a Google Ads searchStream of a year, a
 * Mailchimp activity page of 1,000 recipients). JsonStream feeds bytes to
 * yajl as they arrive from the network and builds a JsonValue only for one
 * record at a time: the elements of the array at record_path. Each complete
 * record is handed to a callback and freed. Everything outside the records
 * (paging cursors, totals) is kept in a small envelope tree. Memory is thus
 * bounded by the largest record, not by the response.
 *
 * Numbers are kept as their original text: money and ids never pass through
 * a double.
 */
#ifndef CL_JSON_H
#define CL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum JsonType
{
	JSON_NULL,
	JSON_BOOL,
	JSON_NUMBER,
	JSON_STRING,
	JSON_ARRAY,
	JSON_OBJECT
} JsonType;

typedef struct JsonValue JsonValue;

struct JsonValue
{
	JsonType type;
	bool boolean;
	char *text;             /* owned: NUMBER and STRING text, NUL-terminated */
	size_t len;             /* strlen of text (strings may hold NUL: use len) */
	size_t count;           /* ARRAY and OBJECT: number of items */
	size_t capacity;
	char **keys;            /* owned: OBJECT keys, count of them */
	JsonValue **items;      /* owned: ARRAY items or OBJECT values */
};

void json_free(JsonValue *v);   /* NULL-safe, frees the whole tree */

/*
 * json_parse parses one complete document (control documents, tests).
 * Returns an ALLOCATED tree the caller frees with json_free(), or NULL with
 * a message in err (errsize bytes).
 */
JsonValue *json_parse(const char *text, size_t len, char *err, size_t errsize);

/* Member lookup; NULL when v is not an object or has no such key. */
const JsonValue *json_member(const JsonValue *v, const char *key);

/* json_member_from: json_member that starts looking at *pos (cyclically)
 * and sets *pos after the member found; start each object with *pos = 0.
 * For objects with a repeated key it may find any of them, not the first. */
const JsonValue *json_member_from(const JsonValue *v, const char *key, size_t *pos);

/* json_path walks dotted members and [N] indexes: "paging.next.after",
 * "results[0].id". NULL when any step is missing. */
const JsonValue *json_path(const JsonValue *v, const char *path);

/* Typed views: NULL/false when absent, null, or of another type. The
 * returned strings are borrowed from the tree. json_text returns the text of
 * a STRING or NUMBER (ids arrive as either). */
const char *json_string(const JsonValue *v);
const char *json_text(const JsonValue *v);
bool json_is_null(const JsonValue *v);          /* absent or JSON null */
bool json_bool(const JsonValue *v, bool *out);
bool json_int64(const JsonValue *v, int64_t *out);  /* NUMBER or numeric STRING, integral */
const char *json_path_text(const JsonValue *v, const char *path);

/* Called once per complete record; return false to abort the stream (the
 * callback has logged why). The record is freed after the call returns. */
typedef bool (*JsonRecordFn)(void *ctx, const JsonValue *record);

typedef struct JsonStream JsonStream;

/*
 * json_stream_new: record_path names the arrays whose elements are records:
 *   "results[]"        elements of the top-level member "results"
 *   "[]results[]"      top level is an array of batches (Google Ads stream)
 *   "[]"               elements of a top-level array
 *   ""                 each top-level value is a record (NDJSON: multiple
 *                      values allowed)
 * Returns an ALLOCATED stream; free with json_stream_free().
 */
JsonStream *json_stream_new(const char *record_path, JsonRecordFn fn, void *ctx);
void json_stream_free(JsonStream *s);

/* Reset to parse a new document (a retried HTTP attempt). */
bool json_stream_reset(JsonStream *s);

/* Feed bytes; false on a syntax error or when the callback aborted. */
bool json_stream_feed(JsonStream *s, const char *data, size_t len);

/* End of input: false when the document is incomplete (truncated). */
bool json_stream_finish(JsonStream *s);

/* The envelope: the document without its records (borrowed; valid until
 * the next reset/free). NULL before anything was parsed. */
const JsonValue *json_stream_envelope(const JsonStream *s);

size_t json_stream_records(const JsonStream *s);

/* Why the last feed/finish failed: syntax error with byte offset, or
 * "aborted by callback". Borrowed. */
const char *json_stream_error(const JsonStream *s);
bool json_stream_aborted(const JsonStream *s);  /* the callback said stop */

#endif
