/*
 * textbuf.c: see textbuf.h.
 */
#include "textbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * tb_init prepares an empty buffer that may grow to max bytes.
 */
void
tb_init(TextBuf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
	b->failed = false;
}


/*
 * tb_reserve makes room for extra more bytes plus the terminator, or marks
 * the buffer failed.
 */
static bool
tb_reserve(TextBuf *b, size_t extra)
{
	size_t need;
	size_t cap;
	char *p;

	if (b->failed)
		return false;
	if (extra > b->max - b->len)
	{
		b->failed = true;
		return false;
	}
	need = b->len + extra + 1;
	if (need <= b->cap)
		return true;
	cap = b->cap == 0 ? 256 : b->cap;
	while (cap < need)
		cap *= 2;
	p = realloc(b->data, cap);
	if (p == NULL)
	{
		b->failed = true;
		return false;
	}
	b->data = p;
	b->cap = cap;
	return true;
}


void
tb_append_len(TextBuf *b, const char *s, size_t n)
{
	if (!tb_reserve(b, n))
		return;
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}


void
tb_append(TextBuf *b, const char *s)
{
	tb_append_len(b, s, strlen(s));
}


/*
 * tb_printf appends formatted text; vsnprintf runs twice only when the
 * first guess of the room was too small.
 */
void
tb_printf(TextBuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!tb_reserve(b, 64))
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0)
	{
		b->failed = true;
		return;
	}
	if ((size_t) n >= b->cap - b->len)
	{
		if (!tb_reserve(b, (size_t) n))
			return;
		va_start(ap, fmt);
		(void) vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t) n;
}


/*
 * tb_append_query_value: see textbuf.h. Everything outside the unreserved
 * set is encoded, ',' included, so a value cannot split a list parameter.
 */
void
tb_append_query_value(TextBuf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *) s; *p != '\0'; p++)
	{
		char enc[3];

		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
			(*p >= '0' && *p <= '9') || *p == '-' || *p == '.' ||
			*p == '_' || *p == '~')
		{
			tb_append_len(b, (const char *) p, 1);
			continue;
		}
		enc[0] = '%';
		enc[1] = hex[*p >> 4];
		enc[2] = hex[*p & 0x0f];
		tb_append_len(b, enc, 3);
	}
}


/*
 * tb_append_json_string escapes what JSON requires (quote, backslash,
 * control characters); other bytes, UTF-8 included, pass through.
 */
void
tb_append_json_string(TextBuf *b, const char *s)
{
	tb_append_len(b, "\"", 1);
	for (const unsigned char *p = (const unsigned char *) s; *p != '\0'; p++)
	{
		if (*p == '"' || *p == '\\')
		{
			char esc[2] = { '\\', (char) *p };

			tb_append_len(b, esc, 2);
		}
		else if (*p < 0x20)
			tb_printf(b, "\\u%04x", (unsigned) *p);
		else
			tb_append_len(b, (const char *) p, 1);
	}
	tb_append_len(b, "\"", 1);
}


bool
tb_ok(const TextBuf *b)
{
	return !b->failed;
}


const char *
tb_text(const TextBuf *b)
{
	return b->data == NULL ? "" : b->data;
}


void
tb_reset(TextBuf *b)
{
	b->len = 0;
	b->failed = false;
	if (b->data != NULL)
		b->data[0] = '\0';
}


void
tb_free(TextBuf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->failed = false;
}
