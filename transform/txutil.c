/*
 * txutil.c: helpers shared by the transform modules.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "txutil.h"

/*
 * tx_grow doubles rather than adding a fixed step so that loading n rows
 * costs O(n) copies in total.
 */
void *
tx_grow(void *items, size_t *cap, size_t need, size_t size)
{
	size_t ncap;
	void *p;

	if (need <= *cap && items != NULL)
		return items;
	ncap = *cap < 16 ? 16 : *cap;
	while (ncap < need)
	{
		if (ncap > SIZE_MAX / 2)
		{
			log_error("array of %zu elements is too large", need);
			return NULL;
		}
		ncap *= 2;
	}
	if (ncap > SIZE_MAX / size)
	{
		log_error("array of %zu elements of %zu bytes is too large", ncap, size);
		return NULL;
	}
	p = realloc(items, ncap * size);
	if (p == NULL)
	{
		log_error("out of memory growing an array to %zu elements", ncap);
		return NULL;
	}
	*cap = ncap;
	return p;
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/*
 * tx_trim only knows ASCII whitespace: vendors pad values with spaces and
 * stray newlines, not with Unicode spaces.
 */
void
tx_trim(const char *s, size_t len, size_t *start, size_t *out_len)
{
	size_t b = 0;
	size_t e = len;

	while (b < e && is_space(s[b]))
		b++;
	while (e > b && is_space(s[e - 1]))
		e--;
	*start = b;
	*out_len = e - b;
}

/*
 * tx_lower_trim lower-cases ASCII only, so that the result does not depend
 * on the process locale.
 */
size_t
tx_lower_trim(const char *s, size_t len, char *buf, size_t bufsize)
{
	size_t b;
	size_t n;

	tx_trim(s, len, &b, &n);
	if (n + 1 > bufsize)
		return SIZE_MAX;
	for (size_t i = 0; i < n; i++)
	{
		char c = s[b + i];

		if (c >= 'A' && c <= 'Z')
			c = (char) (c - 'A' + 'a');
		buf[i] = c;
	}
	buf[n] = '\0';
	return n;
}

/*
 * tx_resolve_path: relative paths in the configuration are taken from the
 * configuration file's directory, so that a scheduled run does not depend
 * on its working directory.
 */
char *
tx_resolve_path(const char *base_dir, const char *path)
{
	size_t nb;
	size_t np = strlen(path);
	char *out;

	if (path[0] == '/' || base_dir == NULL || base_dir[0] == '\0')
	{
		out = strdup(path);
		if (out == NULL)
			log_error("out of memory resolving path %s", path);
		return out;
	}
	nb = strlen(base_dir);
	out = malloc(nb + np + 2);
	if (out == NULL)
	{
		log_error("out of memory resolving path %s", path);
		return NULL;
	}
	memcpy(out, base_dir, nb);
	out[nb] = '/';
	memcpy(out + nb + 1, path, np + 1);
	return out;
}

/*
 * tx_dirname does not use dirname(3), which may modify its argument and
 * return static storage.
 */
char *
tx_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *out;
	size_t n;

	if (slash == NULL)
		return strdup(".");
	n = (size_t) (slash - path);
	if (n == 0)
		n = 1;  /* "/file" lives in "/" */
	out = malloc(n + 1);
	if (out == NULL)
		return NULL;
	memcpy(out, path, n);
	out[n] = '\0';
	return out;
}

int
tx_strcmp_null(const char *a, const char *b)
{
	if (a == b)
		return 0;
	if (a == NULL)
		return -1;
	if (b == NULL)
		return 1;
	return strcmp(a, b);
}
