#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json.h"
#include "support.h"

static char *
join_env_path(const char *env, const char *rel)
{
	const char *base = getenv(env);
	if (base == NULL || base[0] == '\0')
	{
		fail_msg("%s is not set: run the tests through ctest", env);
		return NULL;
	}
	size_t n = strlen(base) + strlen(rel) + 2;
	char *p = malloc(n);
	assert_non_null(p);
	snprintf(p, n, "%s/%s", base, rel);
	return p;
}

char *
ts_shared_fixture(const char *rel)
{
	char buf[1024];
	snprintf(buf, sizeof(buf), "fixtures/%s", rel);
	return join_env_path("CL_SHARED_DIR", buf);
}

char *
ts_source_path(const char *rel)
{
	return join_env_path("CL_SOURCE_DIR", rel);
}

char *
ts_read_file(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	if (fp == NULL)
	{
		fail_msg("cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	size_t cap = 4096;
	size_t n = 0;
	char *buf = malloc(cap);
	assert_non_null(buf);
	for (;;)
	{
		if (n + 1 >= cap)
		{
			cap *= 2;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		size_t got = fread(buf + n, 1, cap - n - 1, fp);
		n += got;
		if (got == 0)
			break;
	}
	fclose(fp);
	buf[n] = '\0';
	if (len != NULL)
		*len = n;
	return buf;
}

void
ts_write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "wb");
	if (fp == NULL)
		fail_msg("cannot create %s: %s", path, strerror(errno));
	assert_int_equal(fwrite(text, 1, strlen(text), fp), strlen(text));
	assert_int_equal(fclose(fp), 0);
}

char *
ts_make_tmpdir(const char *prefix)
{
	const char *base = getenv("CL_TEST_TMP");
	if (base == NULL || base[0] == '\0')
		base = "/tmp";
	(void) mkdir(base, 0755);
	size_t n = strlen(base) + strlen(prefix) + 16;
	char *p = malloc(n);
	assert_non_null(p);
	snprintf(p, n, "%s/%s.XXXXXX", base, prefix);
	if (mkdtemp(p) == NULL)
		fail_msg("mkdtemp %s: %s", p, strerror(errno));
	return p;
}

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void) sb;
	(void) flag;
	(void) ftw;
	return remove(path);
}

void
ts_rmdir_r(const char *path)
{
	(void) nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

void
tb_put(TestBuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap)
	{
		size_t cap = b->cap == 0 ? 256 : b->cap;
		while (cap < b->len + n + 1)
			cap *= 2;
		b->data = realloc(b->data, cap);
		assert_non_null(b->data);
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
tb_puts(TestBuf *b, const char *s)
{
	tb_put(b, s, strlen(s));
}

/* ts_json_canon (support.h): numbers must have NUL-free text of length
 * len, strings a terminator at len, objects a key per member. */
void
ts_json_canon(TestBuf *b, const JsonValue *v)
{
	char tmp[8];

	if (v == NULL)
	{
		tb_puts(b, "<absent>");
		return;
	}
	switch (v->type)
	{
		case JSON_NULL:
			tb_puts(b, "null");
			break;
		case JSON_BOOL:
			tb_puts(b, v->boolean ? "true" : "false");
			break;
		case JSON_NUMBER:
			assert_non_null(v->text);
			assert_int_equal(strlen(v->text), v->len);
			tb_puts(b, "#");
			tb_put(b, v->text, v->len);
			break;
		case JSON_STRING:
			assert_non_null(v->text);
			assert_int_equal(v->text[v->len], '\0');
			tb_puts(b, "\"");
			for (size_t i = 0; i < v->len; i++)
			{
				unsigned char c = (unsigned char) v->text[i];
				if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
				{
					snprintf(tmp, sizeof(tmp), "\\x%02x", c);
					tb_puts(b, tmp);
				}
				else
					tb_put(b, (const char *) &v->text[i], 1);
			}
			tb_puts(b, "\"");
			break;
		case JSON_ARRAY:
			tb_puts(b, "[");
			for (size_t i = 0; i < v->count; i++)
			{
				if (i > 0)
					tb_puts(b, ",");
				ts_json_canon(b, v->items[i]);
			}
			tb_puts(b, "]");
			break;
		case JSON_OBJECT:
			tb_puts(b, "{");
			for (size_t i = 0; i < v->count; i++)
			{
				if (i > 0)
					tb_puts(b, ",");
				assert_non_null(v->keys[i]);
				tb_puts(b, v->keys[i]);
				tb_puts(b, ":");
				ts_json_canon(b, v->items[i]);
			}
			tb_puts(b, "}");
			break;
	}
}
