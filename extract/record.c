/*
 * record.c: see record.h.
 */
#include "record.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

void
record_error(const RecordRef *ref, const char *field, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	(void) vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_error("%s %s %s: field %s: %s", ref->vendor, ref->object,
			  ref->id != NULL ? ref->id : "?", field, msg);
}


static bool
all_digits(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
	{
		if (*s < '0' || *s > '9')
			return false;
	}
	return true;
}


/*
 * record_time: see record.h. HubSpot mixes the two forms even within one
 * object, so the form is chosen per value.
 */
bool
record_time(const RecordRef *ref, const char *field, const char *text,
			ClTime *out, ClError *err)
{
	bool ok;

	if (all_digits(text))
		ok = time_parse_epoch_ms(text, out);
	else
		ok = time_parse_rfc3339(text, out);
	if (!ok)
	{
		record_error(ref, field,
					 "\"%.64s\" is not a timestamp (RFC 3339 or epoch milliseconds)",
					 text);
		*err = CL_ERR_DATA;
		return false;
	}
	return true;
}


/*
 * record_int64: see record.h.
 */
bool
record_int64(const RecordRef *ref, const char *field, const JsonValue *v,
			 bool zero_if_absent, int64_t *out, ClError *err)
{
	if (json_is_null(v))
	{
		if (zero_if_absent)
		{
			*out = 0;
			return true;
		}
		record_error(ref, field, "missing");
		*err = CL_ERR_DATA;
		return false;
	}
	if (!json_int64(v, out))
	{
		const char *text = json_text(v);

		record_error(ref, field, "\"%.64s\" is not an integer",
					 text != NULL ? text : "(not a number)");
		*err = CL_ERR_DATA;
		return false;
	}
	return true;
}


static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}


/*
 * email_normalize: see record.h. Only ASCII is folded: lower-casing UTF-8
 * needs locale data and no vendor sends non-ASCII domains in another case.
 */
bool
email_normalize(const char *s, char **out)
{
	size_t start = 0;
	size_t end;
	char *e;

	*out = NULL;
	if (s == NULL)
		return true;
	end = strlen(s);
	while (start < end && is_space(s[start]))
		start++;
	while (end > start && is_space(s[end - 1]))
		end--;
	if (end == start)
		return true;
	e = malloc(end - start + 1);
	if (e == NULL)
	{
		log_error("out of memory normalising an email address");
		return false;
	}
	for (size_t i = start; i < end; i++)
	{
		char c = s[i];

		e[i - start] = (c >= 'A' && c <= 'Z') ? (char) (c - 'A' + 'a') : c;
	}
	e[end - start] = '\0';
	*out = e;
	return true;
}


const char *
text_nonempty(const char *s)
{
	return (s == NULL || s[0] == '\0') ? NULL : s;
}


void
row_string(JsonGen *g, const char *key, const char *value)
{
	if (value != NULL && value[0] != '\0')
		jgen_string(g, key, value);
}


void
warn_once_init(WarnOnce *w)
{
	w->count = 0;
	(void) pthread_mutex_init(&w->lock, NULL);
}


/*
 * warn_once: true the first time value is seen (up to WARN_ONCE_MAX), so
 * the caller logs it once. Out of memory also gives true: a repeated
 * warning is better than a lost one.
 */
bool
warn_once(WarnOnce *w, const char *value)
{
	bool first = true;

	(void) pthread_mutex_lock(&w->lock);
	for (int i = 0; i < w->count && first; i++)
	{
		if (strcmp(w->seen[i], value) == 0)
			first = false;
	}
	if (first && w->count == WARN_ONCE_MAX)
		first = false;
	if (first)
	{
		char *copy = strdup(value);

		if (copy != NULL)
			w->seen[w->count++] = copy;
	}
	(void) pthread_mutex_unlock(&w->lock);
	return first;
}


void
warn_once_free(WarnOnce *w)
{
	for (int i = 0; i < w->count; i++)
		free(w->seen[i]);
	w->count = 0;
	(void) pthread_mutex_destroy(&w->lock);
}
