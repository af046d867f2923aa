/*
 * buf.c: byte buffers, JSON string escaping, base64 and small parsing
 * helpers for the fixture server.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

/*
 * buf_init prepares an empty buffer that refuses to grow past max bytes.
 */
void
buf_init(Buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
	b->failed = false;
}

/*
 * buf_free releases the bytes; the buffer can be reused after buf_init.
 * NULL-safe and idempotent.
 */
void
buf_free(Buf *b)
{
	if (b == NULL)
	{
		return;
	}
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

/*
 * buf_reset empties the buffer but keeps its memory for the next use.
 */
void
buf_reset(Buf *b)
{
	b->len = 0;
	b->failed = false;
	if (b->data != NULL)
	{
		b->data[0] = '\0';
	}
}

/*
 * buf_reserve makes room for extra more bytes plus the terminating NUL,
 * doubling so that appending byte by byte stays linear.
 */
static bool
buf_reserve(Buf *b, size_t extra)
{
	size_t need;
	size_t cap;
	char *data;

	if (b->failed)
	{
		return false;
	}
	if (extra > b->max - b->len)
	{
		b->failed = true;
		return false;
	}
	need = b->len + extra + 1;
	if (need <= b->cap)
	{
		return true;
	}
	cap = b->cap == 0 ? 256 : b->cap;
	while (cap < need)
	{
		cap *= 2;
	}
	data = realloc(b->data, cap);
	if (data == NULL)
	{
		b->failed = true;
		return false;
	}
	b->data = data;
	b->cap = cap;
	return true;
}

void
buf_append(Buf *b, const char *data, size_t len)
{
	if (!buf_reserve(b, len))
	{
		return;
	}
	if (len > 0)
	{
		memcpy(b->data + b->len, data, len);
	}
	b->len += len;
	b->data[b->len] = '\0';
}

void
buf_puts(Buf *b, const char *s)
{
	buf_append(b, s, strlen(s));
}

/*
 * buf_printf formats in place: one vsnprintf to measure, one to write.
 */
void
buf_printf(Buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
	{
		b->failed = true;
		return;
	}
	if (!buf_reserve(b, (size_t) n))
	{
		return;
	}
	va_start(ap, fmt);
	(void) vsnprintf(b->data + b->len, (size_t) n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t) n;
}

/*
 * buf_json_string writes s as a JSON string literal. Bytes >= 0x80 pass
 * through unchanged: the data files are UTF-8 already and the request
 * parts we echo (paths, queries) are percent-encoded ASCII in practice.
 */
void
buf_json_string(Buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;
	size_t run = 0;

	buf_append(b, "\"", 1);
	for (i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) s[i];
		char esc[6];

		if (c >= 0x20 && c != '"' && c != '\\')
		{
			continue;
		}
		buf_append(b, s + run, i - run);
		run = i + 1;
		esc[0] = '\\';
		switch (c)
		{
			case '"':
			case '\\':
				esc[1] = (char) c;
				buf_append(b, esc, 2);
				break;
			case '\n':
				buf_append(b, "\\n", 2);
				break;
			case '\r':
				buf_append(b, "\\r", 2);
				break;
			case '\t':
				buf_append(b, "\\t", 2);
				break;
			default:
				esc[1] = 'u';
				esc[2] = '0';
				esc[3] = '0';
				esc[4] = hex[c >> 4];
				esc[5] = hex[c & 0xf];
				buf_append(b, esc, 6);
				break;
		}
	}
	buf_append(b, s + run, len - run);
	buf_append(b, "\"", 1);
}

/*
 * buf_steal hands the bytes to the caller. An empty, never-grown buffer
 * still yields an allocated empty string so that callers can free blindly.
 * Returns an ALLOCATED buffer the caller frees with free(), or NULL when the
 * buffer had failed (it is freed then).
 */
char *
buf_steal(Buf *b, size_t *len)
{
	char *data;

	if (b->failed)
	{
		buf_free(b);
		return NULL;
	}
	if (b->data == NULL && !buf_reserve(b, 0))
	{
		return NULL;
	}
	data = b->data;
	*len = b->len;
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	return data;
}

static const char b64url[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void
buf_base64url(Buf *b, const char *data, size_t len)
{
	const unsigned char *p = (const unsigned char *) data;
	size_t i;
	char out[4];

	for (i = 0; i + 2 < len; i += 3)
	{
		out[0] = b64url[p[i] >> 2];
		out[1] = b64url[((p[i] & 0x03) << 4) | (p[i + 1] >> 4)];
		out[2] = b64url[((p[i + 1] & 0x0f) << 2) | (p[i + 2] >> 6)];
		out[3] = b64url[p[i + 2] & 0x3f];
		buf_append(b, out, 4);
	}
	if (len - i == 1)
	{
		out[0] = b64url[p[i] >> 2];
		out[1] = b64url[(p[i] & 0x03) << 4];
		buf_append(b, out, 2);
	}
	else if (len - i == 2)
	{
		out[0] = b64url[p[i] >> 2];
		out[1] = b64url[((p[i] & 0x03) << 4) | (p[i + 1] >> 4)];
		out[2] = b64url[(p[i + 1] & 0x0f) << 2];
		buf_append(b, out, 3);
	}
}

/*
 * base64_value maps one character of either alphabet; -1 for anything else.
 */
static int
base64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
	{
		return c - 'A';
	}
	if (c >= 'a' && c <= 'z')
	{
		return c - 'a' + 26;
	}
	if (c >= '0' && c <= '9')
	{
		return c - '0' + 52;
	}
	if (c == '+' || c == '-')
	{
		return 62;
	}
	if (c == '/' || c == '_')
	{
		return 63;
	}
	return -1;
}

/*
 * base64_decode accepts both alphabets so that one decoder serves Basic
 * credentials (standard, padded) and our own cursors (url, unpadded).
 */
bool
base64_decode(const char *in, size_t inlen, char *out, size_t outsize, size_t *outlen)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t n = 0;
	size_t i;

	while (inlen > 0 && in[inlen - 1] == '=')
	{
		inlen--;
	}
	for (i = 0; i < inlen; i++)
	{
		int v = base64_value(in[i]);

		if (v < 0)
		{
			return false;
		}
		acc = (acc << 6) | (uint32_t) v;
		bits += 6;
		if (bits >= 8)
		{
			bits -= 8;
			if (n + 1 >= outsize)
			{
				return false;
			}
			out[n++] = (char) ((acc >> bits) & 0xff);
		}
	}
	if (outsize == 0)
	{
		return false;
	}
	out[n] = '\0';
	*outlen = n;
	return true;
}

/*
 * parse_ulong accepts only a whole, plain decimal number within [min, max]:
 * no sign, no spaces, no trailing text.
 */
bool
parse_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end = NULL;
	unsigned long v;

	if (s == NULL || *s < '0' || *s > '9')
	{
		return false;
	}
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
	{
		return false;
	}
	*out = v;
	return true;
}

/*
 * read_file slurps a file, refusing anything larger than max bytes.
 */
bool
read_file(const char *path, size_t max, char **out, size_t *len, bool *missing)
{
	FILE *fp = NULL;
	Buf b;
	char chunk[65536];
	size_t n;
	bool ok = false;

	buf_init(&b, max);
	*missing = false;
	fp = fopen(path, "rb");
	if (fp == NULL)
	{
		if (errno == ENOENT || errno == ENOTDIR)
		{
			*missing = true;
		}
		else
		{
			fprintf(stderr, "cl-fixture-server: cannot open %s: %s\n", path,
					strerror(errno));
		}
		goto cleanup;
	}
	for (;;)
	{
		n = fread(chunk, 1, sizeof(chunk), fp);
		if (n == 0)
		{
			break;
		}
		buf_append(&b, chunk, n);
	}
	if (ferror(fp))
	{
		fprintf(stderr, "cl-fixture-server: cannot read %s: %s\n", path, strerror(errno));
		goto cleanup;
	}
	if (b.failed)
	{
		fprintf(stderr, "cl-fixture-server: %s is larger than %zu bytes or memory ran out\n",
				path, max);
		goto cleanup;
	}
	*out = buf_steal(&b, len);
	ok = *out != NULL;

cleanup:
	if (fp != NULL)
	{
		(void) fclose(fp);
	}
	buf_free(&b);
	return ok;
}
