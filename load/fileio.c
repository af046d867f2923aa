/*
 * fileio.c: see fileio.h.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fileio.h"
#include "log.h"

/*
 * fileio_read_all sizes the buffer from fstat; a file that changes size
 * while it is read is refused rather than read half-way.
 */
bool
fileio_read_all(const char *path, size_t max_bytes, char **data, size_t *len)
{
	FILE *fp = NULL;
	struct stat st;
	char *buf = NULL;
	size_t size = 0;
	size_t n = 0;
	bool ok = false;

	*data = NULL;
	fp = fopen(path, "rb");
	if (fp == NULL)
	{
		log_error("cannot open \"%s\": %s", path, strerror(errno));
		goto cleanup;
	}
	if (fstat(fileno(fp), &st) != 0)
	{
		log_error("cannot stat \"%s\": %s", path, strerror(errno));
		goto cleanup;
	}
	if (!S_ISREG(st.st_mode))
	{
		log_error("\"%s\" is not a regular file", path);
		goto cleanup;
	}
	if ((uint64_t) st.st_size > (uint64_t) max_bytes)
	{
		log_error("\"%s\" is %lld bytes, more than the %zu allowed", path,
				  (long long) st.st_size, max_bytes);
		goto cleanup;
	}
	size = (size_t) st.st_size;
	buf = malloc(size + 1);
	if (buf == NULL)
	{
		log_error("out of memory reading \"%s\"", path);
		goto cleanup;
	}
	while (n < size)
	{
		size_t got = fread(buf + n, 1, size - n, fp);

		if (got == 0)
		{
			break;
		}
		n += got;
	}
	if (ferror(fp))
	{
		log_error("cannot read \"%s\": %s", path, strerror(errno));
		goto cleanup;
	}
	if (n != size || fgetc(fp) != EOF)
	{
		log_error("\"%s\" changed size while it was read", path);
		goto cleanup;
	}
	buf[n] = '\0';
	*data = buf;
	buf = NULL;
	if (len != NULL)
	{
		*len = n;
	}
	ok = true;

cleanup:
	free(buf);
	if (fp != NULL)
	{
		(void) fclose(fp);
	}
	return ok;
}

bool
fileio_is_regular(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

bool
fileio_join(char *buf, size_t size, const char *dir, const char *name)
{
	int n = snprintf(buf, size, "%s/%s", dir, name);

	return n >= 0 && (size_t) n < size;
}
