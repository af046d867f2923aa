/*
 * urlquery.c: see urlquery.h.
 */
#include "urlquery.h"

#include <stdlib.h>
#include <string.h>

static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}


/*
 * decode_component percent-decodes n bytes of s. A '%' not followed by
 * two hex digits is kept as it is: links in emails are often sloppy, and
 * the raw text is more useful than failing the whole page.
 * Returns an ALLOCATED string (caller frees), NULL when out of memory.
 */
static char *
decode_component(const char *s, size_t n)
{
	char *out = malloc(n + 1);
	size_t o = 0;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
	{
		if (s[i] == '+')
			out[o++] = ' ';
		else if (s[i] == '%' && i + 2 < n && hex_value(s[i + 1]) >= 0 &&
				 hex_value(s[i + 2]) >= 0)
		{
			out[o++] = (char) (hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
			i += 2;
		}
		else
			out[o++] = s[i];
	}
	out[o] = '\0';
	return out;
}


/*
 * url_query_param: see urlquery.h.
 */
bool
url_query_param(const char *url, const char *name, char **value)
{
	const char *q = strchr(url, '?');
	size_t namelen = strlen(name);

	*value = NULL;
	if (q == NULL)
		return true;
	q++;
	while (*q != '\0' && *q != '#')
	{
		size_t seglen = strcspn(q, "&#");
		const char *eq = memchr(q, '=', seglen);

		if (eq != NULL && (size_t) (eq - q) == namelen &&
			memcmp(q, name, namelen) == 0)
		{
			size_t vlen = seglen - namelen - 1;

			if (vlen == 0)
				return true;
			*value = decode_component(eq + 1, vlen);
			if (*value == NULL)
				return false;
			if ((*value)[0] == '\0')
			{
				free(*value);
				*value = NULL;
			}
			return true;
		}
		q += seglen;
		if (*q == '&')
			q++;
	}
	return true;
}
