/*
 * state.c: see state.h.
 */
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json.h"
#include "log.h"
#include "staging.h"
#include "textbuf.h"

/* A watermark file is a few hundred bytes; a secret far less. */
#define STATE_MAX_FILE 65536


/*
 * state_dir_path: see state.h.
 */
char *
state_dir_path(const Config *cfg)
{
	const char *dir = config_get(cfg, "pipeline", "state_dir");
	const char *staging = config_get(cfg, "pipeline", "staging_dir");
	char *out;
	size_t n;

	if (dir != NULL && dir[0] != '\0')
	{
		out = strdup(dir);
		if (out == NULL)
			log_error("out of memory");
		return out;
	}
	n = strlen(staging) + sizeof("/state");
	out = malloc(n);
	if (out == NULL)
	{
		log_error("out of memory");
		return NULL;
	}
	(void) snprintf(out, n, "%s/state", staging);
	return out;
}


/*
 * join3 builds "<a>/<b>/<c>" (c may be NULL for "<a>/<b>"). Returns an
 * ALLOCATED string (caller frees), NULL when out of memory (logged).
 */
static char *
join3(const char *a, const char *b, const char *c)
{
	size_t n = strlen(a) + strlen(b) + (c != NULL ? strlen(c) : 0) + 3;
	char *out = malloc(n);

	if (out == NULL)
	{
		log_error("out of memory");
		return NULL;
	}
	if (c != NULL)
		(void) snprintf(out, n, "%s/%s/%s", a, b, c);
	else
		(void) snprintf(out, n, "%s/%s", a, b);
	return out;
}


/*
 * safe_name: vendor and object names become file names; only letters,
 * digits, '_', '-' and '.' (not leading) are allowed, so that no name can
 * leave the state directory.
 */
static bool
safe_name(const char *s)
{
	if (s == NULL || s[0] == '\0' || s[0] == '.')
		return false;
	for (; *s != '\0'; s++)
	{
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
			  (*s >= '0' && *s <= '9') || *s == '_' || *s == '-' || *s == '.'))
			return false;
	}
	return true;
}


/*
 * read_small reads a whole small file. *missing is set when it does not
 * exist. *out is ALLOCATED (caller frees) and NUL-terminated.
 */
static bool
read_small(const char *path, char **out, size_t *len, bool *missing)
{
	FILE *fp = fopen(path, "rb");
	char *buf = NULL;
	size_t n;

	*out = NULL;
	*len = 0;
	*missing = false;
	if (fp == NULL)
	{
		if (errno == ENOENT)
		{
			*missing = true;
			return true;
		}
		log_error("cannot open %s: %s", path, strerror(errno));
		return false;
	}
	buf = malloc(STATE_MAX_FILE + 1);
	if (buf == NULL)
	{
		log_error("out of memory reading %s", path);
		(void) fclose(fp);
		return false;
	}
	n = fread(buf, 1, STATE_MAX_FILE + 1, fp);
	if (ferror(fp) || n > STATE_MAX_FILE)
	{
		log_error("cannot read %s: %s", path, ferror(fp) ? "read error" : "file too large");
		free(buf);
		(void) fclose(fp);
		return false;
	}
	(void) fclose(fp);
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return true;
}


/*
 * state_read_watermark: see state.h.
 */
bool
state_read_watermark(const char *dir, const char *vendor, const char *object,
					 bool *found, ClTime *watermark, ClError *err)
{
	char *vdir = NULL;
	char name[160];
	char *path = NULL;
	char *text = NULL;
	size_t len = 0;
	bool missing = false;
	JsonValue *doc = NULL;
	const char *wm;
	char perr[256];
	bool ok = false;

	*found = false;
	*watermark = 0;
	if (!safe_name(vendor) || !safe_name(object))
	{
		log_error("BUG: state name %s/%s is not a plain file name", vendor, object);
		*err = CL_ERR_INTERNAL;
		return false;
	}
	vdir = join3(dir, vendor, NULL);
	(void) snprintf(name, sizeof(name), "%s.json", object);
	if (vdir != NULL)
		path = join3(vdir, name, NULL);
	if (path == NULL)
	{
		*err = CL_ERR_INTERNAL;
		goto cleanup;
	}
	if (!read_small(path, &text, &len, &missing))
	{
		*err = CL_ERR_CONFIG;
		goto cleanup;
	}
	if (missing)
	{
		ok = true;
		goto cleanup;
	}
	doc = json_parse(text, len, perr, sizeof(perr));
	wm = json_string(json_member(doc, "watermark"));
	if (doc == NULL || wm == NULL || !time_parse_rfc3339(wm, watermark))
	{
		log_error("the watermark file %s is damaged (%s); delete it or run with "
				  "--full-refresh to read %s %s from the start",
				  path, doc == NULL ? perr : "no valid \"watermark\" timestamp",
				  vendor, object);
		*err = CL_ERR_CONFIG;
		goto cleanup;
	}
	*found = true;
	ok = true;

cleanup:
	json_free(doc);
	free(text);
	free(path);
	free(vdir);
	return ok;
}


/*
 * write_file_atomic writes data to path through a temporary file of the
 * given mode in the same directory, fsyncs it, renames it over path and
 * syncs the directory, so a reader sees the old file or the new one.
 */
static bool
write_file_atomic(const char *path, const char *data, size_t len, mode_t mode)
{
	size_t n = strlen(path) + 32;
	char *tmp = malloc(n);
	int fd = -1;
	bool ok = false;

	if (tmp == NULL)
	{
		log_error("out of memory writing %s", path);
		return false;
	}
	(void) snprintf(tmp, n, "%s.%ld.tmp", path, (long) getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
	{
		log_error("cannot create %s: %s", tmp, strerror(errno));
		goto cleanup;
	}
	while (len > 0)
	{
		ssize_t w = write(fd, data, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
		{
			log_error("cannot write %s: %s", tmp, strerror(errno));
			goto cleanup;
		}
		data += w;
		len -= (size_t) w;
	}
	if (fsync(fd) != 0)
	{
		log_error("cannot sync %s: %s", tmp, strerror(errno));
		goto cleanup;
	}
	if (close(fd) != 0)
	{
		fd = -1;
		log_error("cannot close %s: %s", tmp, strerror(errno));
		goto cleanup;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
	{
		log_error("cannot rename %s to %s: %s", tmp, path, strerror(errno));
		goto cleanup;
	}
	if (!fs_fsync_parent(path))
		goto cleanup;   /* errors have already been logged */
	ok = true;

cleanup:
	if (fd >= 0)
		(void) close(fd);
	if (!ok)
		(void) unlink(tmp);
	free(tmp);
	return ok;
}


/*
 * state_file prepares <dir>/<vendor>/ and returns the ALLOCATED path of
 * <dir>/<vendor>/<file> (caller frees), NULL on failure (logged).
 */
static char *
state_file(const char *dir, const char *vendor, const char *file)
{
	char *vdir = join3(dir, vendor, NULL);
	char *path = NULL;

	if (vdir == NULL)
		return NULL;
	if (fs_mkdir_p(vdir))
		path = join3(vdir, file, NULL);
	free(vdir);
	return path;
}


/*
 * state_write_watermark: see state.h.
 */
bool
state_write_watermark(const char *dir, const char *vendor, const char *object,
					  ClTime watermark, const char *run_id, ClError *err)
{
	char file[160];
	char wm[CL_TIME_BUFSIZE];
	char now[CL_TIME_BUFSIZE];
	char *path = NULL;
	TextBuf b;
	bool ok = false;

	if (!safe_name(vendor) || !safe_name(object))
	{
		log_error("BUG: state name %s/%s is not a plain file name", vendor, object);
		*err = CL_ERR_INTERNAL;
		return false;
	}
	(void) snprintf(file, sizeof(file), "%s.json", object);
	tb_init(&b, STATE_MAX_FILE);
	tb_printf(&b, "{\"vendor\":");
	tb_append_json_string(&b, vendor);
	tb_append(&b, ",\"object\":");
	tb_append_json_string(&b, object);
	tb_printf(&b, ",\"watermark\":\"%s\",\"run_id\":",
			  time_format_rfc3339(watermark, wm));
	tb_append_json_string(&b, run_id != NULL ? run_id : "");
	tb_printf(&b, ",\"written_at\":\"%s\"}\n", time_format_rfc3339(time_now(), now));
	if (!tb_ok(&b))
	{
		log_error("out of memory writing the %s %s watermark", vendor, object);
		*err = CL_ERR_INTERNAL;
		goto cleanup;
	}
	path = state_file(dir, vendor, file);
	if (path == NULL || !write_file_atomic(path, tb_text(&b), b.len, 0644))
	{
		log_error("%s %s: the watermark %s could not be saved in %s; the staging files "
				  "are committed, so the next run repeats this window", vendor, object, wm, dir);
		*err = CL_ERR_OUTPUT;
		goto cleanup;
	}
	log_debug("%s %s: watermark %s saved", vendor, object, wm);
	ok = true;

cleanup:
	free(path);
	tb_free(&b);
	return ok;
}


/*
 * state_read_text: see state.h.
 */
bool
state_read_text(const char *dir, const char *vendor, const char *name,
				char **out, ClError *err)
{
	char *vdir = join3(dir, vendor, NULL);
	char *path = vdir != NULL ? join3(vdir, name, NULL) : NULL;
	char *text = NULL;
	size_t len = 0;
	bool missing = false;
	bool ok = false;

	*out = NULL;
	if (path == NULL)
	{
		*err = CL_ERR_INTERNAL;
		goto cleanup;
	}
	if (!read_small(path, &text, &len, &missing))
	{
		*err = CL_ERR_CONFIG;
		goto cleanup;
	}
	if (missing)
	{
		ok = true;
		goto cleanup;
	}
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' ||
					   text[len - 1] == ' ' || text[len - 1] == '\t'))
		text[--len] = '\0';
	if (len == 0)
	{
		log_error("%s is empty; delete it so that the configured value is used", path);
		*err = CL_ERR_CONFIG;
		goto cleanup;
	}
	*out = text;
	text = NULL;
	ok = true;

cleanup:
	free(text);
	free(path);
	free(vdir);
	return ok;
}


/*
 * state_write_text: see state.h. Mode 0600 from the start, so the secret
 * is never readable by others, not even for a moment.
 */
bool
state_write_text(const char *dir, const char *vendor, const char *name,
				 const char *text, ClError *err)
{
	char *path = state_file(dir, vendor, name);
	TextBuf b;
	bool ok = false;

	tb_init(&b, STATE_MAX_FILE);
	tb_printf(&b, "%s\n", text);
	if (path == NULL || !tb_ok(&b) || !write_file_atomic(path, tb_text(&b), b.len, 0600))
	{
		log_error("%s: cannot save %s in %s", vendor, name, dir);
		*err = CL_ERR_OUTPUT;
		goto cleanup;
	}
	ok = true;

cleanup:
	tb_free(&b);
	free(path);
	return ok;
}
