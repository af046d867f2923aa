/*
 * output_select.c: list complete outputs and pick the one to load.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "log.h"
#include "output_manifest.h"
#include "output_select.h"

void
output_list_free(char **names, size_t count)
{
	if (names == NULL)
	{
		return;
	}
	for (size_t i = 0; i < count; i++)
	{
		free(names[i]);
	}
	free(names);
}

static int
compare_names(const void *a, const void *b)
{
	return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/*
 * output_list: a directory without manifest.json is an output still being
 * written (or abandoned by a failed transform); it is skipped, never
 * loaded half-way.
 */
bool
output_list(const char *out_dir, char ***names, size_t *count, ClError *err)
{
	DIR *d = NULL;
	struct dirent *entry = NULL;
	char **list = NULL;
	size_t n = 0;
	size_t cap = 0;
	bool ok = false;

	*names = NULL;
	*count = 0;
	d = opendir(out_dir);
	if (d == NULL)
	{
		if (errno == ENOENT)
		{
			log_info("the output directory %s does not exist yet", out_dir);
			return true;
		}
		log_error("cannot open the output directory %s: %s", out_dir, strerror(errno));
		*err = CL_ERR_CONFIG;
		return false;
	}
	for (;;)
	{
		char dir[4096];
		char manifest[4096];

		errno = 0;
		entry = readdir(d);
		if (entry == NULL)
		{
			if (errno != 0)
			{
				log_error("cannot read the output directory %s: %s", out_dir, strerror(errno));
				*err = CL_ERR_CONFIG;
				goto cleanup;
			}
			break;
		}
		if (!manifest_run_id_valid(entry->d_name))
		{
			continue;
		}
		if (!fileio_join(dir, sizeof(dir), out_dir, entry->d_name) ||
			!fileio_join(manifest, sizeof(manifest), dir, MANIFEST_FILE))
		{
			continue;
		}
		if (!fileio_is_regular(manifest))
		{
			log_debug("skipping %s: no %s (incomplete output)", dir, MANIFEST_FILE);
			continue;
		}
		if (n == cap)
		{
			size_t newcap = cap == 0 ? 32 : cap * 2;
			char **bigger = realloc(list, newcap * sizeof(char *));

			if (bigger == NULL)
			{
				log_error("out of memory listing %s", out_dir);
				*err = CL_ERR_INTERNAL;
				goto cleanup;
			}
			list = bigger;
			cap = newcap;
		}
		list[n] = strdup(entry->d_name);
		if (list[n] == NULL)
		{
			log_error("out of memory listing %s", out_dir);
			*err = CL_ERR_INTERNAL;
			goto cleanup;
		}
		n++;
	}
	if (n > 0)
	{
		qsort(list, n, sizeof(char *), compare_names);
	}
	*names = list;
	*count = n;
	list = NULL;
	n = 0;
	ok = true;

cleanup:
	output_list_free(list, n);
	(void) closedir(d);
	return ok;
}

/*
 * output_select_newest walks from the newest candidate down; both lists
 * hold one entry per nightly run, so a linear lookup is plenty.
 */
long
output_select_newest(const char *const *candidates, size_t ncandidates,
					 const char *const *succeeded, size_t nsucceeded)
{
	for (size_t i = ncandidates; i > 0; i--)
	{
		bool loaded = false;

		for (size_t s = 0; s < nsucceeded && !loaded; s++)
		{
			loaded = strcmp(candidates[i - 1], succeeded[s]) == 0;
		}
		if (!loaded)
		{
			return (long) (i - 1);
		}
	}
	return -1;
}
