/*
 * json.c: the JsonValue tree and the streaming record splitter on yajl's
 * callback parser (see json.h).
 *
 * The stream keeps a stack of the containers that are open. Each frame knows
 * how many steps of the record path it has matched, so deciding whether a
 * new value is a record is one comparison at the value's start. Records are
 * built in a tree of their own that is handed to the callback and freed when
 * the record's last byte arrives; everything else is attached to the
 * envelope tree.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

#include "json.h"

/* Nesting beyond this is refused: no vendor document is anywhere near it,
 * and it bounds the frame stack and the recursion of json_free. */
#define JSON_MAX_DEPTH 64

/* Context kept for error snippets: bytes before the failing chunk. */
#define JSON_TAIL_SIZE 32

#define JSON_ERROR_SIZE 512

typedef enum JsonStepKind
{
	JSON_STEP_MEMBER,           /* the value of an object member */
	JSON_STEP_ELEMENT           /* an element of an array */
} JsonStepKind;

typedef struct JsonStep
{
	JsonStepKind kind;
	char *name;                 /* owned: MEMBER only */
} JsonStep;

typedef struct JsonFrame
{
	JsonValue *node;            /* borrowed from the envelope or the record */
	int match;                  /* path steps matched by node, -1 off the path */
	bool in_record;
} JsonFrame;

struct JsonStream
{
	yajl_handle yajl;
	JsonRecordFn fn;
	void *ctx;

	bool records_enabled;       /* false: the whole document is the envelope */
	bool multiple_values;       /* "" path: NDJSON */
	JsonStep *steps;            /* owned */
	int nsteps;

	JsonFrame frames[JSON_MAX_DEPTH];
	int depth;
	char *pending_key;          /* owned: key whose value comes next */

	JsonValue *envelope;        /* owned */
	JsonValue *record;          /* owned: the record being built */

	size_t records;
	uint64_t offset;            /* bytes fed before the current chunk */
	bool saw_content;           /* a non-whitespace byte was fed */
	bool failed;                /* sticky until reset */
	bool aborted;
	bool internal_error;        /* our callbacks refused (depth, memory) */
	char error[JSON_ERROR_SIZE];
	char tail[JSON_TAIL_SIZE];
	size_t tail_len;
};

/*
 * json_free releases v and everything below it. Depth is bounded by the
 * parser's limit, so the recursion is too.
 */
void
json_free(JsonValue *v)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < v->count; i++)
	{
		if (v->keys != NULL)
			free(v->keys[i]);
		json_free(v->items[i]);
	}
	free(v->keys);
	free(v->items);
	free(v->text);
	free(v);
}

/* json_new_value: returns an ALLOCATED empty value of type; caller frees
 * with json_free(). NULL when out of memory. */
static JsonValue *
json_new_value(JsonType type)
{
	JsonValue *v = calloc(1, sizeof(JsonValue));
	if (v == NULL)
		return NULL;
	v->type = type;
	return v;
}

/* json_new_text: a NUMBER or STRING holding a NUL-terminated copy of text. */
static JsonValue *
json_new_text(JsonType type, const char *text, size_t len)
{
	JsonValue *v = json_new_value(type);
	if (v == NULL)
		return NULL;
	v->text = malloc(len + 1);
	if (v->text == NULL)
	{
		free(v);
		return NULL;
	}
	memcpy(v->text, text, len);
	v->text[len] = '\0';
	v->len = len;
	return v;
}

/*
 * json_container_add appends child to an array, or to an object under key.
 * On success the container owns child and key (key must be malloc'ed, or
 * NULL for arrays); on failure nothing changes hands.
 */
static bool
json_container_add(JsonValue *container, char *key, JsonValue *child)
{
	if (container->count == container->capacity)
	{
		size_t cap = container->capacity == 0 ? 4 : container->capacity * 2;
		JsonValue **items = realloc(container->items, cap * sizeof(JsonValue *));
		if (items == NULL)
			return false;
		container->items = items;
		if (container->type == JSON_OBJECT)
		{
			char **keys = realloc(container->keys, cap * sizeof(char *));
			if (keys == NULL)
				return false;
			container->keys = keys;
		}
		container->capacity = cap;
	}
	if (container->type == JSON_OBJECT)
		container->keys[container->count] = key;
	container->items[container->count] = child;
	container->count++;
	return true;
}

/*
 * json_member: a linear scan; vendor objects have tens of members, where a
 * hash would cost more to build than it saves. The first match wins for
 * documents that repeat a key.
 */
const JsonValue *
json_member(const JsonValue *v, const char *key)
{
	if (v == NULL || key == NULL || v->type != JSON_OBJECT)
		return NULL;
	for (size_t i = 0; i < v->count; i++)
	{
		if (strcmp(v->keys[i], key) == 0)
			return v->items[i];
	}
	return NULL;
}

/*
 * json_member_from scans cyclically from *pos and leaves *pos just after
 * the key found, so reading the fields of many objects written in the same
 * key order costs about one comparison per field instead of a scan each.
 */
const JsonValue *
json_member_from(const JsonValue *v, const char *key, size_t *pos)
{
	size_t n;
	size_t i;

	if (v == NULL || key == NULL || v->type != JSON_OBJECT || v->count == 0)
		return NULL;
	n = v->count;
	i = *pos < n ? *pos : 0;
	for (size_t tried = 0; tried < n; tried++)
	{
		const char *k = v->keys[i];

		if (k[0] == key[0] && strcmp(k, key) == 0)
		{
			*pos = i + 1;
			return v->items[i];
		}
		i = i + 1 < n ? i + 1 : 0;
	}
	return NULL;
}

/*
 * json_member_len looks up a key given by pointer and length (a segment of
 * a path), without copying it.
 */
static const JsonValue *
json_member_len(const JsonValue *v, const char *key, size_t len)
{
	if (v == NULL || v->type != JSON_OBJECT)
		return NULL;
	for (size_t i = 0; i < v->count; i++)
	{
		if (strncmp(v->keys[i], key, len) == 0 && v->keys[i][len] == '\0')
			return v->items[i];
	}
	return NULL;
}

/*
 * json_path walks "a.b[2].c". A malformed path (unclosed bracket, a
 * non-digit index) finds nothing rather than guessing.
 */
const JsonValue *
json_path(const JsonValue *v, const char *path)
{
	const char *p = path;

	if (v == NULL || path == NULL)
		return NULL;
	while (*p != '\0' && v != NULL)
	{
		if (*p == '[')
		{
			size_t index = 0;
			const char *digits = ++p;

			while (*p >= '0' && *p <= '9')
			{
				if (index > (SIZE_MAX - 9) / 10)
					return NULL;
				index = index * 10 + (size_t) (*p - '0');
				p++;
			}
			if (p == digits || *p != ']')
				return NULL;
			p++;
			if (v->type != JSON_ARRAY || index >= v->count)
				return NULL;
			v = v->items[index];
		}
		else
		{
			size_t n = strcspn(p, ".[");
			if (n == 0)
				return NULL;
			v = json_member_len(v, p, n);
			p += n;
		}
		if (*p == '.')
		{
			p++;
			if (*p == '\0' || *p == '.' || *p == '[')
				return NULL;
		}
	}
	return v;
}

const char *
json_string(const JsonValue *v)
{
	if (v == NULL || v->type != JSON_STRING)
		return NULL;
	return v->text;
}

const char *
json_text(const JsonValue *v)
{
	if (v == NULL || (v->type != JSON_STRING && v->type != JSON_NUMBER))
		return NULL;
	return v->text;
}

bool
json_is_null(const JsonValue *v)
{
	return v == NULL || v->type == JSON_NULL;
}

bool
json_bool(const JsonValue *v, bool *out)
{
	if (v == NULL || v->type != JSON_BOOL)
		return false;
	*out = v->boolean;
	return true;
}

/*
 * json_int64 accepts an optional minus, digits, and a fraction of zeros
 * only ("12.0" is integral; "12.5", "1e3", " 12" and "+12" are not), with
 * overflow detected. Parsed by hand because strtoll would accept leading
 * blanks and signs that a vendor id string must not have.
 */
bool
json_int64(const JsonValue *v, int64_t *out)
{
	const char *p;
	bool negative = false;
	uint64_t magnitude = 0;
	uint64_t limit;

	if (v == NULL || (v->type != JSON_NUMBER && v->type != JSON_STRING))
		return false;
	p = v->text;
	if (v->len != strlen(p))
		return false;
	if (*p == '-')
	{
		negative = true;
		p++;
	}
	if (*p < '0' || *p > '9')
		return false;
	limit = negative ? (uint64_t) INT64_MAX + 1 : (uint64_t) INT64_MAX;
	while (*p >= '0' && *p <= '9')
	{
		uint64_t digit = (uint64_t) (*p - '0');
		if (magnitude > (limit - digit) / 10)
			return false;
		magnitude = magnitude * 10 + digit;
		p++;
	}
	if (*p == '.')
	{
		p++;
		if (*p == '\0')
			return false;
		while (*p == '0')
			p++;
	}
	if (*p != '\0')
		return false;
	if (negative)
		*out = magnitude == (uint64_t) INT64_MAX + 1 ? INT64_MIN : -(int64_t) magnitude;
	else
		*out = (int64_t) magnitude;
	return true;
}

const char *
json_path_text(const JsonValue *v, const char *path)
{
	return json_text(json_path(v, path));
}

/*
 * stream_fail records why the stream stopped (the first reason wins) and
 * tells yajl to stop by the caller returning 0.
 */
static int
stream_fail(JsonStream *s, const char *message)
{
	if (!s->failed)
	{
		s->failed = true;
		s->internal_error = true;
		snprintf(s->error, sizeof(s->error), "%s", message);
	}
	return 0;
}

/*
 * stream_deliver hands a finished record to the callback and frees it.
 */
static int
stream_deliver(JsonStream *s, JsonValue *record)
{
	bool ok = true;

	s->record = NULL;
	s->records++;
	if (s->fn != NULL)
		ok = s->fn(s->ctx, record);
	json_free(record);
	if (!ok)
	{
		s->aborted = true;
		return stream_fail(s, "aborted by callback");
	}
	return 1;
}

/*
 * stream_value places a new value (owned by the call from here on) where it
 * belongs: inside the record being built, as a new record, or in the
 * envelope. Containers get a frame so that their contents follow them.
 */
static int
stream_value(JsonStream *s, JsonValue *v)
{
	bool container = v->type == JSON_ARRAY || v->type == JSON_OBJECT;
	char *key = s->pending_key;
	JsonFrame *parent = s->depth > 0 ? &s->frames[s->depth - 1] : NULL;
	int match = -1;
	bool in_record = false;

	s->pending_key = NULL;
	if (container && s->depth >= JSON_MAX_DEPTH)
	{
		free(key);
		json_free(v);
		char msg[96];
		snprintf(msg, sizeof(msg), "nesting deeper than %d levels", JSON_MAX_DEPTH);
		return stream_fail(s, msg);
	}

	if (parent != NULL && parent->in_record)
		in_record = true;
	else if (s->records_enabled)
	{
		if (parent == NULL)
			match = 0;
		else if (parent->match >= 0 && parent->match < s->nsteps)
		{
			const JsonStep *step = &s->steps[parent->match];
			if (parent->node->type == JSON_ARRAY && step->kind == JSON_STEP_ELEMENT)
				match = parent->match + 1;
			else if (parent->node->type == JSON_OBJECT && step->kind == JSON_STEP_MEMBER
					 && key != NULL && strcmp(step->name, key) == 0)
				match = parent->match + 1;
		}
	}

	if (!in_record && s->records_enabled && match == s->nsteps)
	{
		/* a record root: never attached to the envelope */
		free(key);
		if (!container)
			return stream_deliver(s, v);
		s->record = v;
		in_record = true;
	}
	else if (parent != NULL)
	{
		if (!json_container_add(parent->node, key, v))
		{
			free(key);
			json_free(v);
			return stream_fail(s, "out of memory");
		}
	}
	else
	{
		/* a top-level envelope value; with multiple values only the
		 * last one is kept */
		free(key);
		json_free(s->envelope);
		s->envelope = v;
	}

	if (container)
	{
		s->frames[s->depth].node = v;
		s->frames[s->depth].match = in_record ? -1 : match;
		s->frames[s->depth].in_record = in_record;
		s->depth++;
	}
	return 1;
}

/* stream_end closes the innermost container; a record root is delivered. */
static int
stream_end(JsonStream *s)
{
	if (s->depth == 0)
		return stream_fail(s, "BUG: container end without a start");
	s->depth--;
	if (s->record != NULL && s->frames[s->depth].node == s->record)
		return stream_deliver(s, s->record);
	return 1;
}

static int
cb_null(void *ctx)
{
	JsonStream *s = ctx;
	JsonValue *v = json_new_value(JSON_NULL);
	if (v == NULL)
		return stream_fail(s, "out of memory");
	return stream_value(s, v);
}

static int
cb_boolean(void *ctx, int boolean)
{
	JsonStream *s = ctx;
	JsonValue *v = json_new_value(JSON_BOOL);
	if (v == NULL)
		return stream_fail(s, "out of memory");
	v->boolean = boolean != 0;
	return stream_value(s, v);
}

/* Numbers arrive as the document's text, so big ids and money survive. */
static int
cb_number(void *ctx, const char *text, size_t len)
{
	JsonStream *s = ctx;
	JsonValue *v = json_new_text(JSON_NUMBER, text, len);
	if (v == NULL)
		return stream_fail(s, "out of memory");
	return stream_value(s, v);
}

static int
cb_string(void *ctx, const unsigned char *text, size_t len)
{
	JsonStream *s = ctx;
	JsonValue *v = json_new_text(JSON_STRING, (const char *) text, len);
	if (v == NULL)
		return stream_fail(s, "out of memory");
	return stream_value(s, v);
}

static int
cb_start_map(void *ctx)
{
	JsonStream *s = ctx;
	JsonValue *v = json_new_value(JSON_OBJECT);
	if (v == NULL)
		return stream_fail(s, "out of memory");
	return stream_value(s, v);
}

static int
cb_map_key(void *ctx, const unsigned char *key, size_t len)
{
	JsonStream *s = ctx;

	free(s->pending_key);
	s->pending_key = malloc(len + 1);
	if (s->pending_key == NULL)
		return stream_fail(s, "out of memory");
	memcpy(s->pending_key, key, len);
	s->pending_key[len] = '\0';
	return 1;
}

static int
cb_end(void *ctx)
{
	return stream_end(ctx);
}

static int
cb_start_array(void *ctx)
{
	JsonStream *s = ctx;
	JsonValue *v = json_new_value(JSON_ARRAY);
	if (v == NULL)
		return stream_fail(s, "out of memory");
	return stream_value(s, v);
}

static const yajl_callbacks json_callbacks = {
	.yajl_null = cb_null,
	.yajl_boolean = cb_boolean,
	.yajl_integer = NULL,
	.yajl_double = NULL,
	.yajl_number = cb_number,
	.yajl_string = cb_string,
	.yajl_start_map = cb_start_map,
	.yajl_map_key = cb_map_key,
	.yajl_end_map = cb_end,
	.yajl_start_array = cb_start_array,
	.yajl_end_array = cb_end,
};

/*
 * json_parse_record_path turns "[]results[]" or "data.items[]" into steps.
 * An empty path has no steps: every top-level value is a record.
 */
static bool
json_parse_record_path(JsonStream *s, const char *path)
{
	size_t n = strlen(path);
	const char *p = path;

	/* at most one step per byte */
	s->steps = calloc(n + 1, sizeof(JsonStep));
	if (s->steps == NULL)
		return false;
	while (*p != '\0')
	{
		if (p[0] == '[')
		{
			if (p[1] != ']')
				return false;
			s->steps[s->nsteps++].kind = JSON_STEP_ELEMENT;
			p += 2;
		}
		else
		{
			size_t len = strcspn(p, ".[");
			if (len == 0)
				return false;
			s->steps[s->nsteps].kind = JSON_STEP_MEMBER;
			s->steps[s->nsteps].name = strndup(p, len);
			if (s->steps[s->nsteps].name == NULL)
				return false;
			s->nsteps++;
			p += len;
		}
		if (*p == '.')
		{
			p++;
			if (*p == '\0' || *p == '.' || *p == '[')
				return false;
		}
	}
	return true;
}

/*
 * json_stream_open_parser (re)creates the yajl handle; yajl has no reset of
 * its own.
 */
static bool
json_stream_open_parser(JsonStream *s)
{
	if (s->yajl != NULL)
		yajl_free(s->yajl);
	s->yajl = yajl_alloc(&json_callbacks, NULL, s);
	if (s->yajl == NULL)
		return false;
	if (s->multiple_values)
		yajl_config(s->yajl, yajl_allow_multiple_values, 1);
	return true;
}

/*
 * json_stream_create is json_stream_new with the choice of not splitting
 * records at all (json_parse). Returns an ALLOCATED stream or NULL.
 */
static JsonStream *
json_stream_create(const char *record_path, bool records_enabled,
				   JsonRecordFn fn, void *ctx)
{
	JsonStream *s = calloc(1, sizeof(JsonStream));
	if (s == NULL)
		return NULL;
	s->fn = fn;
	s->ctx = ctx;
	s->records_enabled = records_enabled;
	if (records_enabled)
	{
		if (record_path == NULL || !json_parse_record_path(s, record_path))
		{
			json_stream_free(s);
			return NULL;
		}
		s->multiple_values = s->nsteps == 0;
	}
	if (!json_stream_open_parser(s))
	{
		json_stream_free(s);
		return NULL;
	}
	return s;
}

/*
 * json_stream_new: NULL for a malformed record path or out of memory; the
 * path is a programming constant, so this is not logged here.
 */
JsonStream *
json_stream_new(const char *record_path, JsonRecordFn fn, void *ctx)
{
	return json_stream_create(record_path, true, fn, ctx);
}

/* json_stream_clear drops all document state (not the configuration). */
static void
json_stream_clear(JsonStream *s)
{
	free(s->pending_key);
	s->pending_key = NULL;
	json_free(s->record);
	s->record = NULL;
	json_free(s->envelope);
	s->envelope = NULL;
	s->depth = 0;
	s->records = 0;
	s->offset = 0;
	s->saw_content = false;
	s->failed = false;
	s->aborted = false;
	s->internal_error = false;
	s->error[0] = '\0';
	s->tail_len = 0;
}

void
json_stream_free(JsonStream *s)
{
	if (s == NULL)
		return;
	json_stream_clear(s);
	if (s->yajl != NULL)
		yajl_free(s->yajl);
	for (int i = 0; i < s->nsteps; i++)
		free(s->steps[i].name);
	free(s->steps);
	free(s);
}

bool
json_stream_reset(JsonStream *s)
{
	json_stream_clear(s);
	if (!json_stream_open_parser(s))
	{
		s->failed = true;
		snprintf(s->error, sizeof(s->error), "out of memory");
		return false;
	}
	return true;
}

/*
 * json_printable copies up to n bytes of src into dst for a message,
 * replacing control bytes so that a snippet stays on one line.
 */
static size_t
json_printable(char *dst, size_t dstsize, const char *src, size_t n)
{
	size_t j = 0;
	for (size_t i = 0; i < n && j + 1 < dstsize; i++)
	{
		unsigned char c = (unsigned char) src[i];
		dst[j++] = (c < 0x20 || c == 0x7f) ? ' ' : (char) c;
	}
	dst[j] = '\0';
	return j;
}

/*
 * json_stream_set_error writes the message for a failure at consumed bytes
 * into the current chunk: the byte offset in the whole document, the
 * reason, and the text around it (from the remembered tail of earlier
 * chunks when the error is near a chunk start).
 */
static void
json_stream_set_error(JsonStream *s, const char *data, size_t len, size_t consumed,
					  bool at_end)
{
	char reason[256];
	char before[JSON_TAIL_SIZE * 2 + 1];
	char after[JSON_TAIL_SIZE + 1];
	uint64_t at = s->offset + consumed;
	size_t nb = 0;

	if (consumed > len)
		consumed = len;
	if (s->internal_error)
		snprintf(reason, sizeof(reason), "%.200s", s->error);
	else
	{
		unsigned char *msg = yajl_get_error(s->yajl, 0, (const unsigned char *) data, len);
		const char *text = msg != NULL ? (const char *) msg : "parse error";
		if (strncmp(text, "parse error: ", 13) == 0)
			text += 13;
		snprintf(reason, sizeof(reason), "%s", text);
		reason[strcspn(reason, "\r\n")] = '\0';
		if (msg != NULL)
			yajl_free_error(s->yajl, msg);
	}

	/* up to JSON_TAIL_SIZE bytes before the error point */
	if (consumed < JSON_TAIL_SIZE)
	{
		size_t from_tail = JSON_TAIL_SIZE - consumed;
		if (from_tail > s->tail_len)
			from_tail = s->tail_len;
		nb = json_printable(before, sizeof(before),
							s->tail + s->tail_len - from_tail, from_tail);
		nb += json_printable(before + nb, sizeof(before) - nb, data, consumed);
	}
	else
		json_printable(before, sizeof(before), data + consumed - JSON_TAIL_SIZE,
					   JSON_TAIL_SIZE);
	json_printable(after, sizeof(after), data + consumed,
				   len - consumed < JSON_TAIL_SIZE ? len - consumed : JSON_TAIL_SIZE);

	if (s->aborted)
		snprintf(s->error, sizeof(s->error), "aborted by callback at byte %llu",
				 (unsigned long long) at);
	else
		snprintf(s->error, sizeof(s->error), "JSON %s at byte %llu: %s, near \"%s%s%s\"",
				 at_end ? "incomplete" : "error", (unsigned long long) at, reason,
				 before, at_end ? "" : " <-- ", after);
	s->failed = true;
}

/* json_stream_remember_tail keeps the last bytes fed for error snippets. */
static void
json_stream_remember_tail(JsonStream *s, const char *data, size_t len)
{
	if (len >= JSON_TAIL_SIZE)
	{
		memcpy(s->tail, data + len - JSON_TAIL_SIZE, JSON_TAIL_SIZE);
		s->tail_len = JSON_TAIL_SIZE;
		return;
	}
	if (s->tail_len + len > JSON_TAIL_SIZE)
	{
		size_t drop = s->tail_len + len - JSON_TAIL_SIZE;
		memmove(s->tail, s->tail + drop, s->tail_len - drop);
		s->tail_len -= drop;
	}
	memcpy(s->tail + s->tail_len, data, len);
	s->tail_len += len;
}

/*
 * json_stream_feed: once failed, a stream stays failed until reset, so a
 * caller that ignores one false cannot resume parsing mid-garbage.
 */
bool
json_stream_feed(JsonStream *s, const char *data, size_t len)
{
	yajl_status st;

	if (s->failed)
		return false;
	if (len == 0)
		return true;
	if (!s->saw_content)
	{
		for (size_t i = 0; i < len; i++)
		{
			if (data[i] != ' ' && data[i] != '\t' && data[i] != '\n' && data[i] != '\r')
			{
				s->saw_content = true;
				break;
			}
		}
	}
	st = yajl_parse(s->yajl, (const unsigned char *) data, len);
	if (st != yajl_status_ok)
	{
		json_stream_set_error(s, data, len, yajl_get_bytes_consumed(s->yajl), false);
		return false;
	}
	json_stream_remember_tail(s, data, len);
	s->offset += len;
	return true;
}

/*
 * json_stream_finish: an empty NDJSON input is a valid file of no rows; an
 * empty document anywhere else is truncated.
 */
bool
json_stream_finish(JsonStream *s)
{
	yajl_status st;

	if (s->failed)
		return false;
	if (!s->saw_content)
	{
		if (s->multiple_values)
			return true;
		s->failed = true;
		snprintf(s->error, sizeof(s->error), "JSON incomplete at byte %llu: empty document",
				 (unsigned long long) s->offset);
		return false;
	}
	st = yajl_complete_parse(s->yajl);
	if (st != yajl_status_ok)
	{
		json_stream_set_error(s, "", 0, 0, !s->internal_error);
		return false;
	}
	return true;
}

const JsonValue *
json_stream_envelope(const JsonStream *s)
{
	return s->envelope;
}

size_t
json_stream_records(const JsonStream *s)
{
	return s->records;
}

const char *
json_stream_error(const JsonStream *s)
{
	return s->error;
}

bool
json_stream_aborted(const JsonStream *s)
{
	return s->aborted;
}

/*
 * json_parse runs the stream without records, so the envelope is the whole
 * document; the tree is detached from the stream before it is freed.
 */
JsonValue *
json_parse(const char *text, size_t len, char *err, size_t errsize)
{
	JsonStream *s = json_stream_create(NULL, false, NULL, NULL);
	JsonValue *doc = NULL;

	if (s == NULL)
	{
		if (err != NULL && errsize > 0)
			snprintf(err, errsize, "out of memory");
		return NULL;
	}
	if (!json_stream_feed(s, text, len) || !json_stream_finish(s))
	{
		if (err != NULL && errsize > 0)
			snprintf(err, errsize, "%s", s->error);
		goto cleanup;
	}
	doc = s->envelope;
	s->envelope = NULL;

cleanup:
	json_stream_free(s);
	return doc;
}
