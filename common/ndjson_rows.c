/*
 * ndjson_rows.c: yajl callbacks that build row trees in an arena.
 *
 * Children of an open container are collected on a scratch stack and copied
 * into exactly sized arena arrays when the container closes, so nothing is
 * ever reallocated inside the arena.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

#include "ndjson_rows.h"

#define BLOCK_SIZE (1024 * 1024)
#define MAX_DEPTH 64

typedef struct Block
{
	struct Block *next;
	size_t used;
	size_t cap;
	_Alignas(max_align_t) unsigned char data[];
} Block;

typedef struct Frame
{
	JsonValue *node;
	size_t first;           /* its first child on the scratch stack */
} Frame;

struct RowBatch
{
	Block *blocks;          /* owned list; blocks[0..current] are in use */
	Block *current;
	size_t bytes;

	const JsonValue **rows; /* owned array of arena trees */
	size_t n_rows;
	size_t cap_rows;

	/* parse state, only meaningful inside row_batch_parse */
	Frame frames[MAX_DEPTH];
	int depth;
	JsonValue **scratch;    /* owned */
	char **scratch_keys;    /* owned */
	size_t n_scratch;
	size_t cap_scratch;
	char *pending_key;      /* arena */
	size_t not_object;      /* 1-based index in this parse of a non-object row, or 0 */
	size_t parsed;          /* rows completed or started in this parse */
	bool oom;
	bool too_deep;

	/* line checking: every row starts and ends on its own line */
	yajl_handle yajl;
	const char *data;
	size_t scan_pos;        /* newlines before scan_pos are counted */
	size_t line;            /* 0-based line of scan_pos */
	size_t bad_line;        /* 1-based line index of a misplaced row, or 0 */
};

RowBatch *
row_batch_new(void)
{
	return calloc(1, sizeof(RowBatch));
}

void
row_batch_free(RowBatch *b)
{
	if (b == NULL)
		return;
	while (b->blocks != NULL)
	{
		Block *next = b->blocks->next;

		free(b->blocks);
		b->blocks = next;
	}
	free(b->rows);
	free(b->scratch);
	free(b->scratch_keys);
	free(b);
}

void
row_batch_reset(RowBatch *b)
{
	for (Block *k = b->blocks; k != NULL; k = k->next)
		k->used = 0;
	b->current = b->blocks;
	b->n_rows = 0;
}

size_t
row_batch_count(const RowBatch *b)
{
	return b->n_rows;
}

const JsonValue *
row_batch_row(const RowBatch *b, size_t i)
{
	return i < b->n_rows ? b->rows[i] : NULL;
}

size_t
row_batch_bytes(const RowBatch *b)
{
	return b->bytes;
}

/*
 * arena_alloc: size bytes aligned to align (a power of two) from the
 * current block or the next one that fits; a block is added when none
 * does. A block that is too small for a request is skipped for the rest of
 * this batch, not reused: waste stays below one request per block.
 */
static void *
arena_alloc(RowBatch *b, size_t size, size_t align)
{
	Block *k = b->current;

	while (k != NULL)
	{
		size_t at = (k->used + align - 1) & ~(align - 1);

		if (at + size <= k->cap)
		{
			k->used = at + size;
			b->current = k;
			return k->data + at;
		}
		k = k->next;
	}

	size_t cap = size + align > BLOCK_SIZE ? size + align : BLOCK_SIZE;

	k = malloc(sizeof(Block) + cap);
	if (k == NULL)
	{
		b->oom = true;
		return NULL;
	}
	k->cap = cap;
	k->used = size;
	/* append after current so blocks in use stay in front of free ones */
	if (b->current == NULL)
	{
		k->next = b->blocks;
		b->blocks = k;
	}
	else
	{
		k->next = b->current->next;
		b->current->next = k;
	}
	b->current = k;
	b->bytes += sizeof(Block) + cap;
	return k->data;
}

static JsonValue *
new_value(RowBatch *b, JsonType type)
{
	JsonValue *v = arena_alloc(b, sizeof(JsonValue), _Alignof(JsonValue));

	if (v == NULL)
		return NULL;
	memset(v, 0, sizeof(*v));
	v->type = type;
	return v;
}

static char *
new_text(RowBatch *b, const char *s, size_t len)
{
	char *t = arena_alloc(b, len + 1, 1);

	if (t == NULL)
		return NULL;
	memcpy(t, s, len);
	t[len] = '\0';
	return t;
}

static bool
push_scratch(RowBatch *b, JsonValue *v, char *key)
{
	if (b->n_scratch == b->cap_scratch)
	{
		size_t cap = b->cap_scratch == 0 ? 64 : b->cap_scratch * 2;
		JsonValue **items = realloc(b->scratch, cap * sizeof(*items));

		if (items == NULL)
			return false;
		b->scratch = items;
		char **keys = realloc(b->scratch_keys, cap * sizeof(*keys));

		if (keys == NULL)
			return false;
		b->scratch_keys = keys;
		b->cap_scratch = cap;
	}
	b->scratch[b->n_scratch] = v;
	b->scratch_keys[b->n_scratch] = key;
	b->n_scratch++;
	return true;
}

static bool
push_row(RowBatch *b, const JsonValue *v)
{
	if (b->n_rows == b->cap_rows)
	{
		size_t cap = b->cap_rows == 0 ? 1024 : b->cap_rows * 2;
		const JsonValue **rows = realloc(b->rows, cap * sizeof(*rows));

		if (rows == NULL)
			return false;
		b->rows = rows;
		b->cap_rows = cap;
	}
	b->rows[b->n_rows++] = v;
	return true;
}

/*
 * line_now: the 0-based line of the token yajl has just read. Offsets only
 * grow within a parse, so the newlines are counted once in all.
 */
static size_t
line_now(RowBatch *b)
{
	size_t at = yajl_get_bytes_consumed(b->yajl);
	const char *p = b->data + b->scan_pos;
	const char *end = b->data + at;

	while (p < end && (p = memchr(p, '\n', (size_t) (end - p))) != NULL)
	{
		b->line++;
		p++;
	}
	b->scan_pos = at;
	return b->line;
}

/*
 * check_row_line: row k of this parse (0-based) must be on line k, which
 * holds nothing else. Checked when a row starts and when it ends, so a
 * blank line, two values on one line and a value over two lines are all
 * caught at the first line that breaks the rule.
 */
static int
check_row_line(RowBatch *b, size_t row)
{
	size_t line = line_now(b);

	if (line == row)
		return 1;
	b->bad_line = (line < row ? line : row) + 1;
	return 0;
}

/* place: a new value goes into its parent, or becomes a row at the top. */
static int
place(RowBatch *b, JsonValue *v, bool container)
{
	if (v == NULL)
		return 0;
	if (b->depth == 0)
	{
		if (!check_row_line(b, b->parsed))
			return 0;
		b->parsed++;
		if (v->type != JSON_OBJECT && b->not_object == 0)
			b->not_object = b->parsed;
		if (!push_row(b, v))
		{
			b->oom = true;
			return 0;
		}
	}
	else
	{
		const Frame *f = &b->frames[b->depth - 1];
		char *key = f->node->type == JSON_OBJECT ? b->pending_key : NULL;

		b->pending_key = NULL;
		if (!push_scratch(b, v, key))
		{
			b->oom = true;
			return 0;
		}
	}
	if (container)
	{
		if (b->depth == MAX_DEPTH)
		{
			b->too_deep = true;
			return 0;
		}
		b->frames[b->depth].node = v;
		b->frames[b->depth].first = b->n_scratch;
		b->depth++;
	}
	return 1;
}

static int
cb_null(void *ctx)
{
	RowBatch *b = ctx;

	return place(b, new_value(b, JSON_NULL), false);
}

static int
cb_boolean(void *ctx, int boolean)
{
	RowBatch *b = ctx;
	JsonValue *v = new_value(b, JSON_BOOL);

	if (v != NULL)
		v->boolean = boolean != 0;
	return place(b, v, false);
}

static int
text_value(RowBatch *b, JsonType type, const char *text, size_t len)
{
	JsonValue *v = new_value(b, type);

	if (v == NULL)
		return 0;
	v->text = new_text(b, text, len);
	if (v->text == NULL)
		return 0;
	v->len = len;
	return place(b, v, false);
}

/* Numbers keep their text, as json.c does: ids and money never pass
 * through a double. */
static int
cb_number(void *ctx, const char *text, size_t len)
{
	return text_value(ctx, JSON_NUMBER, text, len);
}

static int
cb_string(void *ctx, const unsigned char *text, size_t len)
{
	return text_value(ctx, JSON_STRING, (const char *) text, len);
}

static int
cb_start_map(void *ctx)
{
	RowBatch *b = ctx;

	return place(b, new_value(b, JSON_OBJECT), true);
}

static int
cb_start_array(void *ctx)
{
	RowBatch *b = ctx;

	return place(b, new_value(b, JSON_ARRAY), true);
}

static int
cb_map_key(void *ctx, const unsigned char *key, size_t len)
{
	RowBatch *b = ctx;

	b->pending_key = new_text(b, (const char *) key, len);
	return b->pending_key != NULL;
}

/* cb_end moves the children off the scratch stack into the container. */
static int
cb_end(void *ctx)
{
	RowBatch *b = ctx;
	Frame *f = &b->frames[--b->depth];
	JsonValue *v = f->node;
	size_t n = b->n_scratch - f->first;

	v->count = n;
	v->capacity = n;
	if (n > 0)
	{
		v->items = arena_alloc(b, n * sizeof(JsonValue *), _Alignof(JsonValue *));
		if (v->items == NULL)
			return 0;
		memcpy(v->items, b->scratch + f->first, n * sizeof(JsonValue *));
		if (v->type == JSON_OBJECT)
		{
			v->keys = arena_alloc(b, n * sizeof(char *), _Alignof(char *));
			if (v->keys == NULL)
				return 0;
			memcpy(v->keys, b->scratch_keys + f->first, n * sizeof(char *));
		}
	}
	b->n_scratch = f->first;
	if (b->depth == 0)
		return check_row_line(b, b->parsed - 1);
	return 1;
}

static const yajl_callbacks callbacks = {
	.yajl_null = cb_null,
	.yajl_boolean = cb_boolean,
	.yajl_number = cb_number,
	.yajl_string = cb_string,
	.yajl_start_map = cb_start_map,
	.yajl_map_key = cb_map_key,
	.yajl_end_map = cb_end,
	.yajl_start_array = cb_start_array,
	.yajl_end_array = cb_end,
};

/* line_of: the 0-based line of byte offset within data. */
static size_t
line_of(const char *data, size_t offset)
{
	size_t n = 0;

	for (size_t i = 0; i < offset; i++)
		n += data[i] == '\n';
	return n;
}

/* only_space_after: what follows the last row is its line end, if anything. */
static bool
only_space_after(const char *data, size_t from, size_t len)
{
	size_t newlines = 0;

	for (size_t i = from; i < len; i++)
	{
		if (data[i] == '\n')
		{
			if (++newlines > 1)
				return false;   /* a blank line after the last row */
		}
		else if (data[i] != ' ' && data[i] != '\t' && data[i] != '\r')
			return false;
	}
	return true;
}

bool
row_batch_parse(RowBatch *b, const char *data, size_t len, size_t first_row,
				char *err, size_t errsize)
{
	yajl_handle h;
	yajl_status st;
	bool completing = false;
	bool ok = false;

	err[0] = '\0';
	if (len == 0)
		return true;
	h = yajl_alloc(&callbacks, NULL, b);
	if (h == NULL)
	{
		(void) snprintf(err, errsize, "out of memory");
		return false;
	}
	yajl_config(h, yajl_allow_multiple_values, 1);
	b->depth = 0;
	b->n_scratch = 0;
	b->pending_key = NULL;
	b->not_object = 0;
	b->parsed = 0;
	b->oom = false;
	b->too_deep = false;
	b->yajl = h;
	b->data = data;
	b->scan_pos = 0;
	b->line = 0;
	b->bad_line = 0;
	if (b->current == NULL)
		b->current = b->blocks;

	st = yajl_parse(h, (const unsigned char *) data, len);
	if (st == yajl_status_ok)
	{
		/* yajl forgets its offset here: a failure is in the last row begun */
		completing = true;
		st = yajl_complete_parse(h);
	}
	if (b->oom)
		(void) snprintf(err, errsize, "out of memory");
	else if (b->bad_line != 0)
		(void) snprintf(err, errsize, "row %zu: staging holds exactly one JSON object per line "
						"(a blank line, two values on a line, or a value over two lines)",
						first_row + b->bad_line - 1);
	else if (b->too_deep)
		(void) snprintf(err, errsize, "row %zu: nested deeper than %d levels",
						first_row + line_of(data, yajl_get_bytes_consumed(h)), MAX_DEPTH);
	else if (st != yajl_status_ok)
	{
		unsigned char *msg = yajl_get_error(h, 0, NULL, 0);
		size_t at = yajl_get_bytes_consumed(h);
		size_t row;

		if (completing)
			row = b->parsed > 0 ? b->parsed - 1 : 0;
		else
			row = line_of(data, at < len ? at : len);
		(void) snprintf(err, errsize, "row %zu: %s", first_row + row,
						msg != NULL ? (const char *) msg : "syntax error");
		if (msg != NULL)
			yajl_free_error(h, msg);
	}
	else if (b->not_object != 0)
		(void) snprintf(err, errsize, "row %zu is not a JSON object",
						first_row + b->not_object - 1);
	else if (!only_space_after(data, b->scan_pos, len))
		(void) snprintf(err, errsize, "row %zu: staging holds exactly one JSON object per line "
						"(a blank line, two values on a line, or a value over two lines)",
						first_row + b->parsed);
	else
		ok = true;
	b->yajl = NULL;
	b->data = NULL;
	yajl_free(h);
	return ok;
}
