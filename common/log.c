/*
 * log.c: leveled logging to stderr (or a test's FILE), as text or JSON lines.
 *
 * One mutex serialises the secret list and the write of a line, because the
 * HTTP engine logs from worker threads and a line must never interleave
 * with another or escape the masker while a secret is being registered.
 *
 * When the level is DEBUG or more verbose, every line also names its source
 * location (" (file.c:123)" in text, "file" and "line" in JSON): whoever
 * asked for that much detail is debugging.
 */
#include "log.h"

#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A message longer than this (after masking) is cut, and says so. */
#define LOG_MSG_MAX 8192

/* Formatting a message larger than this is refused outright: such a line is
 * a bug (a whole payload passed to the log), and the cut is marked. */
#define LOG_FORMAT_MAX (4 * 1024 * 1024)

#define LOG_MASK "***"
#define LOG_TRUNCATED_MARK " ...[truncated]"

static pthread_mutex_t log_mutex = PTHREAD_MUTEX_INITIALIZER;

static atomic_int log_level = LOG_INFO;
static atomic_bool log_json = false;

/* Guarded by log_mutex. */
static FILE *log_fp = NULL;             /* NULL: stderr */
static char log_program[64] = "closedloop";
static char log_run_id[64] = "";
static char **log_secrets = NULL;       /* owned; sorted longest first */
static size_t log_nsecrets = 0;

static const char *const log_level_names[] = {
	"TRACE", "DEBUG", "SQL", "NOTICE", "INFO", "WARN", "ERROR", "FATAL"
};


/*
 * copy_bounded copies src into a fixed buffer, cutting silently: program
 * names and run ids are short by construction, and a cut one is still
 * useful in a log line.
 */
static void
copy_bounded(char *dst, size_t size, const char *src)
{
	(void) snprintf(dst, size, "%s", src == NULL ? "" : src);
}


/*
 * log_init records the program name and run id that prefix every line.
 * Level, format and output are left as they are.
 */
void
log_init(const char *program, const char *run_id)
{
	pthread_mutex_lock(&log_mutex);
	copy_bounded(log_program, sizeof(log_program),
				 program == NULL || program[0] == '\0' ? "closedloop" : program);
	copy_bounded(log_run_id, sizeof(log_run_id), run_id);
	pthread_mutex_unlock(&log_mutex);
}


void
log_set_level(LogLevel level)
{
	if ((int) level < (int) LOG_TRACE)
		level = LOG_TRACE;
	if ((int) level > (int) LOG_FATAL)
		level = LOG_FATAL;
	atomic_store(&log_level, (int) level);
}


LogLevel
log_get_level(void)
{
	return (LogLevel) atomic_load(&log_level);
}


void
log_use_json(bool json)
{
	atomic_store(&log_json, json);
}


/*
 * log_set_fp redirects the log; NULL restores stderr. The stream is
 * borrowed: the caller keeps it open while it is in use and closes it.
 */
void
log_set_fp(FILE *fp)
{
	pthread_mutex_lock(&log_mutex);
	log_fp = fp;
	pthread_mutex_unlock(&log_mutex);
}


/*
 * log_register_secret adds a copy of value to the masked strings. The list
 * stays sorted longest first so that a secret containing another one is
 * masked whole rather than leaving its remainder visible.
 */
void
log_register_secret(const char *value)
{
	char **grown = NULL;
	char *copy = NULL;
	size_t len;
	size_t pos;

	if (value == NULL)
		return;
	len = strlen(value);
	if (len < 4)
		return;

	pthread_mutex_lock(&log_mutex);
	for (size_t i = 0; i < log_nsecrets; i++)
	{
		if (strcmp(log_secrets[i], value) == 0)
			goto cleanup;
	}

	copy = strdup(value);
	if (copy == NULL)
		goto cleanup;
	grown = realloc(log_secrets, (log_nsecrets + 1) * sizeof(char *));
	if (grown == NULL)
	{
		free(copy);
		goto cleanup;
	}
	log_secrets = grown;

	pos = 0;
	while (pos < log_nsecrets && strlen(log_secrets[pos]) >= len)
		pos++;
	memmove(&log_secrets[pos + 1], &log_secrets[pos],
			(log_nsecrets - pos) * sizeof(char *));
	log_secrets[pos] = copy;
	log_nsecrets++;

cleanup:
	pthread_mutex_unlock(&log_mutex);
}


void
log_forget_secrets(void)
{
	pthread_mutex_lock(&log_mutex);
	for (size_t i = 0; i < log_nsecrets; i++)
		free(log_secrets[i]);
	free(log_secrets);
	log_secrets = NULL;
	log_nsecrets = 0;
	pthread_mutex_unlock(&log_mutex);
}


/* A bounded output cursor for the masker: writes stop at the end of the
 * buffer and set truncated, the buffer is always terminated. */
typedef struct MaskOut
{
	char *buf;
	size_t size;
	size_t len;
	bool truncated;
} MaskOut;

/* mask_put appends n bytes, or as many as still fit. */
static void
mask_put(MaskOut *o, const char *s, size_t n)
{
	size_t room;

	if (o->size == 0)
		return;
	room = o->size - 1 - o->len;
	if (n > room)
	{
		n = room;
		o->truncated = true;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}


/*
 * match_secret returns the length of the registered secret starting at s,
 * or 0. Called with log_mutex held.
 */
static size_t
match_secret(const char *s)
{
	for (size_t i = 0; i < log_nsecrets; i++)
	{
		const char *sec = log_secrets[i];

		if (s[0] == sec[0])
		{
			size_t n = strlen(sec);

			if (strncmp(s, sec, n) == 0)
				return n;
		}
	}
	return 0;
}


/* Names whose value is a secret wherever it appears as name=value. The
 * header form (name: value) is only trusted for the compound names written
 * with '-' as HTTP headers are: plain "key", "token" or "password" followed
 * by a colon is ordinary prose far more often than a credential. */
typedef struct SecretName
{
	const char *name;
	bool header_form;
} SecretName;

static const SecretName secret_names[] = {
	{ "access_token", true },
	{ "refresh_token", true },
	{ "developer_token", true },
	{ "client_secret", true },
	{ "api_key", true },
	{ "apikey", true },
	{ "password", false },
	{ "token", false },
	{ "key", false },
	{ NULL, false }
};


/*
 * name_at compares a secret name at s, case-insensitively, treating '-'
 * and '_' alike (the Google Ads header is "developer-token"). Returns the
 * matched length or 0; the character after the name must not continue a
 * word, so "keyword=" is not "key=".
 */
static size_t
name_at(const char *s, const char *name)
{
	size_t i = 0;

	for (; name[i] != '\0'; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (c == '\0')
			return 0;
		if (name[i] == '_')
		{
			if (c != '_' && c != '-')
				return 0;
		}
		else if (tolower(c) != (unsigned char) name[i])
			return 0;
	}
	if (isalnum((unsigned char) s[i]) || s[i] == '_' || s[i] == '-')
		return 0;
	return i;
}


/* is_name_boundary: a name only starts after something that is not part
 * of a word, so that "monkey=1" and "x_token=1" are left alone. */
static bool
is_name_boundary(const char *src, size_t i)
{
	unsigned char prev;

	if (i == 0)
		return true;
	prev = (unsigned char) src[i - 1];
	return !(isalnum(prev) || prev == '_' || prev == '-' || prev == '.');
}


/* bare_value_len: a bare value ends at the next &, whitespace or quote. */
static size_t
bare_value_len(const char *v)
{
	size_t n = 0;

	while (v[n] != '\0' && v[n] != '&' && v[n] != '"' && v[n] != '\'' &&
		   !isspace((unsigned char) v[n]))
		n++;
	return n;
}


/* quoted_value_len: a value that opens with a quote runs to the matching
 * quote, which is kept; backslash escapes are skipped over. */
static size_t
quoted_value_len(const char *v, char quote)
{
	size_t n = 0;

	while (v[n] != '\0' && v[n] != quote)
	{
		if (v[n] == '\\' && v[n + 1] != '\0')
			n++;
		n++;
	}
	return n;
}


/*
 * match_carrier recognises a secret-carrying name at src[i]: name=value
 * (query strings, conninfo, key=value text), "name": "value" (JSON bodies,
 * such as an OAuth token response) and, for compound names, name: value
 * (HTTP headers). On a match *keep is how many bytes to copy unchanged and
 * *vlen how many to mask after them.
 */
static bool
match_carrier(const char *src, size_t i, size_t *keep, size_t *vlen)
{
	bool quoted_name = i > 0 && src[i - 1] == '"';

	if (!is_name_boundary(src, i))
		return false;

	for (const SecretName *sn = secret_names; sn->name != NULL; sn++)
	{
		size_t n = name_at(src + i, sn->name);
		size_t j;

		if (n == 0)
			continue;
		j = i + n;

		if (quoted_name && src[j] == '"')
		{
			j++;
			while (src[j] == ' ' || src[j] == '\t')
				j++;
			if (src[j] != ':')
				return false;
			j++;
			while (src[j] == ' ' || src[j] == '\t')
				j++;
			if (src[j] != '"')
				return false;      /* a number or null is not a secret */
			j++;
			*keep = j - i;
			*vlen = quoted_value_len(src + j, '"');
			return true;
		}

		if (src[j] == '=')
		{
			j++;
			*keep = j - i;
			if (src[j] == '\'' || src[j] == '"')
			{
				*keep += 1;
				*vlen = quoted_value_len(src + j + 1, src[j]);
			}
			else
				*vlen = bare_value_len(src + j);
			return true;
		}

		/* Only the HTTP header spelling (developer-token: ...): with an
		 * underscore, "access_token: ..." is how our own messages name a
		 * config key, and masking there would hide the reason. */
		if (sn->header_form && src[j] == ':' && memchr(src + i, '-', n) != NULL)
		{
			j++;
			while (src[j] == ' ' || src[j] == '\t')
				j++;
			*keep = j - i;
			*vlen = bare_value_len(src + j);
			return true;
		}
		return false;
	}
	return false;
}


/*
 * match_authorization recognises "Authorization: <scheme> <credentials>"
 * (and Proxy-Authorization, which ends the same way) and keeps the scheme
 * so that a reader still sees Bearer or Basic. A lone token with no scheme
 * is masked itself.
 */
static bool
match_authorization(const char *src, size_t i, size_t *keep, size_t *vlen)
{
	static const char name[] = "authorization";
	size_t j = i;
	size_t scheme;

	/* '-' may precede: Proxy-Authorization carries credentials too. */
	if (!is_name_boundary(src, i) && src[i - 1] != '-')
		return false;
	for (size_t k = 0; name[k] != '\0'; k++)
	{
		if (tolower((unsigned char) src[j]) != (unsigned char) name[k])
			return false;
		j++;
	}
	if (src[j] == '"')
		j++;
	while (src[j] == ' ' || src[j] == '\t')
		j++;
	if (src[j] != ':' && src[j] != '=')
		return false;
	j++;
	while (src[j] == ' ' || src[j] == '\t' || src[j] == '"')
		j++;

	scheme = 0;
	while (isalnum((unsigned char) src[j + scheme]) || src[j + scheme] == '-')
		scheme++;
	if (scheme > 0 && (src[j + scheme] == ' ' || src[j + scheme] == '\t'))
	{
		size_t k = j + scheme;

		while (src[k] == ' ' || src[k] == '\t')
			k++;
		if (src[k] != '\0' && !isspace((unsigned char) src[k]) && src[k] != '"')
		{
			*keep = k - i;
			*vlen = bare_value_len(src + k);
			return true;
		}
	}
	*keep = j - i;
	*vlen = bare_value_len(src + j);
	return true;
}


/*
 * match_userinfo recognises scheme://user:password@host at src[i] (the
 * "://") and reports where the password starts and how long it is. A user
 * without a password is not a secret and is left alone.
 */
static bool
match_userinfo(const char *src, size_t i, size_t *keep, size_t *vlen)
{
	size_t start = i + 3;
	size_t end = start;
	size_t at = 0;
	size_t colon = 0;
	bool have_at = false;

	if (strncmp(src + i, "://", 3) != 0)
		return false;
	while (src[end] != '\0' && src[end] != '/' && src[end] != '?' &&
		   src[end] != '#' && src[end] != '"' && src[end] != '\'' &&
		   !isspace((unsigned char) src[end]))
	{
		if (src[end] == '@')
		{
			at = end;
			have_at = true;
		}
		end++;
	}
	if (!have_at)
		return false;
	for (size_t k = start; k < at; k++)
	{
		if (src[k] == ':')
		{
			colon = k;
			break;
		}
	}
	if (colon == 0)
		return false;
	*keep = colon + 1 - i;
	*vlen = at - (colon + 1);
	return true;
}


/*
 * mask_into is log_mask_secrets without the lock; the caller holds
 * log_mutex. Returns true when the output had to be cut.
 */
static bool
mask_into(const char *src, char *dst, size_t dstsize)
{
	MaskOut o = { dst, dstsize, 0, false };
	size_t i = 0;

	if (dstsize == 0)
		return true;
	dst[0] = '\0';
	if (src == NULL)
		return false;

	while (src[i] != '\0' && !o.truncated)
	{
		size_t keep = 0;
		size_t vlen = 0;
		size_t n = match_secret(src + i);

		if (n > 0)
		{
			mask_put(&o, LOG_MASK, strlen(LOG_MASK));
			i += n;
			continue;
		}
		if (match_authorization(src, i, &keep, &vlen) ||
			match_carrier(src, i, &keep, &vlen) ||
			match_userinfo(src, i, &keep, &vlen))
		{
			/* The kept part is copied byte by byte through the loop so a
			 * registered secret inside it is still caught; only the value
			 * is replaced here. */
			size_t stop = i + keep;

			while (i < stop && !o.truncated)
			{
				n = match_secret(src + i);
				if (n > 0 && i + n <= stop)
				{
					mask_put(&o, LOG_MASK, strlen(LOG_MASK));
					i += n;
					continue;
				}
				mask_put(&o, src + i, 1);
				i++;
			}
			if (vlen > 0)
				mask_put(&o, LOG_MASK, strlen(LOG_MASK));
			i = stop + vlen;
			continue;
		}
		mask_put(&o, src + i, 1);
		i++;
	}
	if (src[i] != '\0')
		o.truncated = true;

	if (o.truncated)
	{
		/* Never end inside a UTF-8 sequence: find the lead byte of the
		 * last character and drop it when its sequence is incomplete. */
		size_t lead = o.len;
		size_t back = 0;

		while (lead > 0 && back < 4 && ((unsigned char) dst[lead - 1] & 0xC0) == 0x80)
		{
			lead--;
			back++;
		}
		if (lead > 0 && ((unsigned char) dst[lead - 1] & 0xC0) == 0xC0)
		{
			unsigned char b = (unsigned char) dst[lead - 1];
			size_t need = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2;

			if (back + 1 < need)
				dst[lead - 1] = '\0';
		}
	}
	return o.truncated;
}


void
log_mask_secrets(const char *src, char *dst, size_t dstsize)
{
	pthread_mutex_lock(&log_mutex);
	(void) mask_into(src, dst, dstsize);
	pthread_mutex_unlock(&log_mutex);
}


/*
 * format_timestamp writes the current UTC time as
 * YYYY-MM-DDTHH:MM:SS.mmmZ into buf (128 bytes leave room for any
 * int the compiler cannot bound).
 */
static void
format_timestamp(char *buf, size_t size)
{
	struct timespec ts;
	struct tm tm;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0 ||
		gmtime_r(&ts.tv_sec, &tm) == NULL)
	{
		(void) snprintf(buf, size, "0000-00-00T00:00:00.000Z");
		return;
	}
	(void) snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
					tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
					tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000L);
}


/* utf8_seq_len returns the length of the valid UTF-8 sequence at s, or 0
 * when the bytes there are not one (overlong forms and surrogates
 * included). */
static size_t
utf8_seq_len(const unsigned char *s)
{
	size_t n;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
	{
		n = 2;
		cp = s[0] & 0x1F;
	}
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
	{
		n = 3;
		cp = s[0] & 0x0F;
	}
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
	{
		n = 4;
		cp = s[0] & 0x07;
	}
	else
		return 0;

	for (size_t k = 1; k < n; k++)
	{
		if ((s[k] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[k] & 0x3F);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
		(cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return n;
}


/*
 * json_escape writes s as the body of a JSON string into fp. Invalid UTF-8
 * becomes U+FFFD so that every line stays parseable whatever bytes a
 * vendor sent us.
 */
static void
json_escape(FILE *fp, const char *s)
{
	const unsigned char *p = (const unsigned char *) s;

	while (*p != '\0')
	{
		size_t n;

		switch (*p)
		{
			case '"':
				fputs("\\\"", fp);
				p++;
				continue;
			case '\\':
				fputs("\\\\", fp);
				p++;
				continue;
			case '\n':
				fputs("\\n", fp);
				p++;
				continue;
			case '\r':
				fputs("\\r", fp);
				p++;
				continue;
			case '\t':
				fputs("\\t", fp);
				p++;
				continue;
			default:
				break;
		}
		if (*p < 0x20 || *p == 0x7F)
		{
			fprintf(fp, "\\u%04x", (unsigned) *p);
			p++;
			continue;
		}
		n = utf8_seq_len(p);
		if (n == 0)
		{
			fputs("\\ufffd", fp);
			p++;
			continue;
		}
		fwrite(p, 1, n, fp);
		p += n;
	}
}


/* base_name strips the directories from __FILE__: CMake passes absolute
 * paths, which say nothing useful in a log line. */
static const char *
base_name(const char *file)
{
	const char *slash;

	if (file == NULL)
		return "?";
	slash = strrchr(file, '/');
	return slash == NULL ? file : slash + 1;
}


/*
 * format_message formats fmt into stackbuf, or into an ALLOCATED buffer
 * when it does not fit (returned in *heap; the caller frees it with
 * free()). Returns the formatted text; *cut is set when even the heap
 * buffer was capped at LOG_FORMAT_MAX.
 */
static const char *
format_message(char *stackbuf, size_t stacksize, char **heap, bool *cut,
			   const char *fmt, va_list ap)
{
	va_list ap2;
	int n;
	size_t need;

	*heap = NULL;
	*cut = false;

	va_copy(ap2, ap);
	n = vsnprintf(stackbuf, stacksize, fmt, ap);
	if (n < 0)
	{
		va_end(ap2);
		(void) snprintf(stackbuf, stacksize, "(unformattable log message: %s)", fmt);
		return stackbuf;
	}
	if ((size_t) n < stacksize)
	{
		va_end(ap2);
		return stackbuf;
	}

	need = (size_t) n + 1;
	if (need > LOG_FORMAT_MAX)
	{
		need = LOG_FORMAT_MAX;
		*cut = true;
	}
	*heap = malloc(need);
	if (*heap == NULL)
	{
		/* The stack copy is already a valid, cut prefix. */
		va_end(ap2);
		*cut = true;
		return stackbuf;
	}
	(void) vsnprintf(*heap, need, fmt, ap2);
	va_end(ap2);
	return *heap;
}


/*
 * log_log formats, masks and writes one line if level passes the filter.
 * The whole message is masked before it is cut to LOG_MSG_MAX, so a secret
 * straddling the cut is still recognised whole.
 */
void
log_log(LogLevel level, const char *file, int line, const char *fmt, ...)
{
	char stackbuf[LOG_MSG_MAX];
	char masked[LOG_MSG_MAX];
	char ts[128];
	char *heap = NULL;
	const char *msg;
	bool cut = false;
	bool truncated;
	bool json;
	bool show_where;
	int threshold = atomic_load(&log_level);
	va_list ap;
	FILE *fp;

	if ((int) level < threshold)
		return;
	if ((int) level < (int) LOG_TRACE || (int) level > (int) LOG_FATAL)
		level = LOG_ERROR;

	va_start(ap, fmt);
	msg = format_message(stackbuf, sizeof(stackbuf), &heap, &cut, fmt, ap);
	va_end(ap);

	format_timestamp(ts, sizeof(ts));
	json = atomic_load(&log_json);
	show_where = threshold <= LOG_DEBUG;

	pthread_mutex_lock(&log_mutex);
	truncated = mask_into(msg, masked, sizeof(masked) - strlen(LOG_TRUNCATED_MARK)) || cut;
	if (truncated)
	{
		size_t len = strlen(masked);

		(void) snprintf(masked + len, sizeof(masked) - len, "%s", LOG_TRUNCATED_MARK);
	}

	fp = log_fp == NULL ? stderr : log_fp;
	if (json)
	{
		fprintf(fp, "{\"ts\":\"%s\",\"level\":\"%s\",\"program\":\"", ts,
				log_level_names[level]);
		json_escape(fp, log_program);
		fputs("\",\"run_id\":", fp);
		if (log_run_id[0] == '\0')
			fputs("null", fp);
		else
		{
			fputc('"', fp);
			json_escape(fp, log_run_id);
			fputc('"', fp);
		}
		fputs(",\"msg\":\"", fp);
		json_escape(fp, masked);
		fputc('"', fp);
		if (show_where)
		{
			fputs(",\"file\":\"", fp);
			json_escape(fp, base_name(file));
			fprintf(fp, "\",\"line\":%d", line);
		}
		fputs("}\n", fp);
	}
	else
	{
		fprintf(fp, "%s %-5s %s", ts, log_level_names[level], log_program);
		if (log_run_id[0] != '\0')
			fprintf(fp, "[run %s]", log_run_id);
		fprintf(fp, " %s", masked);
		if (show_where)
			fprintf(fp, " (%s:%d)", base_name(file), line);
		fputc('\n', fp);
	}
	fflush(fp);
	pthread_mutex_unlock(&log_mutex);

	free(heap);
}
