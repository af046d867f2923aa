/*
 * textbuf.h: a growable, capped text buffer with a sticky failure flag, for
 * building request URLs, query strings and JSON bodies. Append many pieces,
 * check tb_ok() once (the PktBuf pattern of the house style).
 */
#ifndef CL_TEXTBUF_H
#define CL_TEXTBUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct TextBuf
{
	char *data;             /* owned, NUL-terminated once anything was added */
	size_t len;
	size_t cap;
	size_t max;             /* hard cap of len; exceeding it fails the buffer */
	bool failed;            /* sticky: out of memory or over max */
} TextBuf;

/* Request URLs and bodies stay far below this; a larger one is a bug. */
#define TEXTBUF_DEFAULT_MAX (1024 * 1024)

void tb_init(TextBuf *b, size_t max);
void tb_append(TextBuf *b, const char *s);
void tb_append_len(TextBuf *b, const char *s, size_t n);
void tb_printf(TextBuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Percent-encode s as a URL query value (RFC 3986 unreserved kept). */
void tb_append_query_value(TextBuf *b, const char *s);

/* Append s as a JSON string literal, quotes included. */
void tb_append_json_string(TextBuf *b, const char *s);

bool tb_ok(const TextBuf *b);

/* The text so far ("" when empty); borrowed, valid until the next append. */
const char *tb_text(const TextBuf *b);

/* Empty the buffer, keeping its memory and clearing the failure flag. */
void tb_reset(TextBuf *b);

/* Release the memory; the buffer may be reused after tb_init(). */
void tb_free(TextBuf *b);

#endif
