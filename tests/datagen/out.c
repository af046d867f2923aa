/*
 * out.c: output files and JSON string escaping for cl-datagen.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "datagen.h"

/*
 * dg_mkdirs creates path and its missing parents (mkdir -p). An existing
 * directory is fine: reruns overwrite the files they write.
 */
bool
dg_mkdirs(const char *path)
{
	char buf[DG_PATH_SIZE];
	size_t len = strlen(path);
	struct stat st;

	if (len == 0 || len >= sizeof(buf))
	{
		fprintf(stderr, "cl-datagen: output path is empty or too long\n");
		return false;
	}
	memcpy(buf, path, len + 1);
	for (size_t i = 1; i <= len; i++)
	{
		if (buf[i] != '/' && buf[i] != '\0')
		{
			continue;
		}
		buf[i] = '\0';
		if (mkdir(buf, 0755) != 0 && errno != EEXIST)
		{
			fprintf(stderr, "cl-datagen: cannot create directory \"%s\": %s\n",
					buf, strerror(errno));
			return false;
		}
		if (i < len)
		{
			buf[i] = '/';
		}
	}
	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
	{
		fprintf(stderr, "cl-datagen: \"%s\" is not a directory\n", path);
		return false;
	}
	return true;
}

/*
 * dg_out_open opens dir/rel for writing, creating the directories of rel.
 * On success the caller must finish with dg_out_close.
 */
bool
dg_out_open(DgOut *out, const char *dir, const char *rel)
{
	int n;
	char *slash;

	out->fp = NULL;
	out->failed = false;
	n = snprintf(out->path, sizeof(out->path), "%s/%s", dir, rel);
	if (n < 0 || (size_t) n >= sizeof(out->path))
	{
		fprintf(stderr, "cl-datagen: output path too long: %s/%s\n", dir, rel);
		return false;
	}
	slash = strrchr(out->path, '/');
	if (slash != NULL && slash != out->path)
	{
		*slash = '\0';
		if (!dg_mkdirs(out->path))
		{
			/* errors have already been logged */
			return false;
		}
		*slash = '/';
	}
	out->fp = fopen(out->path, "w");
	if (out->fp == NULL)
	{
		fprintf(stderr, "cl-datagen: cannot write \"%s\": %s\n",
				out->path, strerror(errno));
		return false;
	}
	return true;
}

void
dg_out_printf(DgOut *out, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (vfprintf(out->fp, fmt, ap) < 0)
	{
		out->failed = true;
	}
	va_end(ap);
}

/*
 * dg_out_json_string writes s as a JSON string literal. Quotes, backslashes
 * and control characters are escaped; other bytes (UTF-8) pass through,
 * which JSON allows.
 */
void
dg_out_json_string(FILE *fp, const char *s)
{
	putc('"', fp);
	for (const unsigned char *p = (const unsigned char *) s; *p; p++)
	{
		switch (*p)
		{
			case '"':
				fputs("\\\"", fp);
				break;
			case '\\':
				fputs("\\\\", fp);
				break;
			case '\n':
				fputs("\\n", fp);
				break;
			case '\r':
				fputs("\\r", fp);
				break;
			case '\t':
				fputs("\\t", fp);
				break;
			default:
				if (*p < 0x20)
				{
					fprintf(fp, "\\u%04x", (unsigned) *p);
				}
				else
				{
					putc(*p, fp);
				}
				break;
		}
	}
	putc('"', fp);
}

/* dg_out_str writes s as a JSON string, or null when s is NULL. */
void
dg_out_str(DgOut *out, const char *s)
{
	if (s == NULL)
	{
		fputs("null", out->fp);
	}
	else
	{
		dg_out_json_string(out->fp, s);
	}
}

/*
 * dg_out_close flushes and closes the file and reports any write error that
 * happened since dg_out_open (disk full shows up here, not at printf).
 */
bool
dg_out_close(DgOut *out)
{
	bool ok = !out->failed;

	if (out->fp == NULL)
	{
		return false;
	}
	if (ferror(out->fp))
	{
		ok = false;
	}
	if (fclose(out->fp) != 0)
	{
		ok = false;
	}
	out->fp = NULL;
	if (!ok)
	{
		fprintf(stderr, "cl-datagen: writing \"%s\" failed: %s\n",
				out->path, strerror(errno));
	}
	return ok;
}
