/*
 * output.c: COPY files, their checksums and the manifest.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <yajl/yajl_gen.h>

#include "log.h"
#include "output.h"
#include "staging.h"

#define MANIFEST_NAME "manifest.json"

static const struct
{
	const char *name;
	const char *load;
} tables[OUT_N_TABLES] = {
	[OUT_ATTRIBUTION_CREDIT] = { "attribution_credit", "window" },
	[OUT_ATTRIBUTION_DAILY] = { "attribution_daily", "window" },
	[OUT_LEADS] = { "leads", "upsert" },
	[OUT_DEALS] = { "deals", "upsert" },
	[OUT_TOUCHES] = { "touches", "upsert" },
	[OUT_SPEND_DAILY] = { "spend_daily", "window" },
	[OUT_ATTRIBUTION_MODEL_STATS] = { "attribution_model_stats", "window_exact" },
	[OUT_EMAIL_CAMPAIGN_STATS] = { "email_campaign_stats", "window_exact" },
};

const char *
output_table_name(OutputTableId t)
{
	return tables[t].name;
}

const char *
output_table_load(OutputTableId t)
{
	return tables[t].load;
}

/* join: ALLOCATED "dir/name", caller frees; NULL when out of memory. */
static char *
join(const char *dir, const char *name, const char *suffix)
{
	size_t n = strlen(dir) + strlen(name) + strlen(suffix) + 2;
	char *p = malloc(n);

	if (p == NULL)
	{
		log_error("out of memory building an output path");
		return NULL;
	}
	(void) snprintf(p, n, "%s/%s%s", dir, name, suffix);
	return p;
}

/*
 * output_open refuses a directory that already has a manifest: overwriting a
 * complete output under the same run id could hand the loader mixed files.
 */
bool
output_open(Output *o, const char *root, const char *run_id, bool dry_run, ClError *err)
{
	char *manifest = NULL;
	bool ok = false;

	memset(o, 0, sizeof(*o));
	atomic_init(&o->stop, false);
	atomic_init(&o->job_failed, false);
	o->dry_run = dry_run;
	*err = CL_ERR_OUTPUT;
	o->dir = join(root, run_id, "");
	if (o->dir == NULL)
	{
		*err = CL_ERR_INTERNAL;
		return false;
	}
	if (dry_run)
	{
		o->devnull = fopen("/dev/null", "w");
		if (o->devnull == NULL)
		{
			log_error("cannot open /dev/null for a dry run: %s", strerror(errno));
			return false;
		}
		*err = CL_OK;
		return true;
	}
	manifest = join(o->dir, MANIFEST_NAME, "");
	if (manifest == NULL)
	{
		*err = CL_ERR_INTERNAL;
		return false;
	}
	if (access(manifest, F_OK) == 0)
	{
		log_error("output %s already exists; a run id is used once", o->dir);
		goto cleanup;
	}
	if (!fs_mkdir_p(o->dir))
	{
		log_error("cannot create the output directory %s; check [attribution] output_dir "
				  "and its permissions", o->dir);
		goto cleanup;
	}
	*err = CL_OK;
	ok = true;

cleanup:
	free(manifest);
	return ok;
}

/*
 * output_begin: a dry run writes to /dev/null through the same writer, so its
 * row counts are those a real run would write.
 */
CopyWriter *
output_begin(Output *o, OutputTableId t, ClError *err)
{
	OutputFile *f = &o->files[t];
	char *path;
	bool ok;

	if (f->open || f->done || f->omitted)
	{
		log_error("BUG: output table %s begun twice", tables[t].name);
		*err = CL_ERR_INTERNAL;
		return NULL;
	}
	if (o->dry_run)
	{
		copy_writer_attach(&f->writer, o->devnull);
		f->open = true;
		return &f->writer;
	}
	path = join(o->dir, tables[t].name, ".copy");
	if (path == NULL)
	{
		*err = CL_ERR_INTERNAL;
		return NULL;
	}
	ok = copy_writer_open(&f->writer, path);
	free(path);
	if (!ok)
	{
		*err = CL_ERR_OUTPUT;
		return NULL;    /* errors have already been logged */
	}
	f->open = true;
	return &f->writer;
}

/*
 * output_end takes the checksum from the writer, which hashed every byte
 * it wrote to the file: the manifest describes exactly the bytes on disk
 * without reading them back.
 */
bool
output_end(Output *o, OutputTableId t, ClError *err)
{
	OutputFile *f = &o->files[t];
	bool ok;

	if (!f->open)
	{
		log_error("BUG: output_end of table %s, which is not begun", tables[t].name);
		*err = CL_ERR_INTERNAL;
		return false;
	}
	f->rows = f->writer.rows;
	ok = copy_writer_close(&f->writer);
	f->open = false;
	if (!ok)
	{
		*err = CL_ERR_OUTPUT;
		return false;   /* errors have already been logged */
	}
	memcpy(f->sha256, f->writer.sha256, sizeof(f->sha256));
	f->done = true;     /* on disk now: removed by output_free on failure */
	return true;
}

/*
 * job_run writes one table as the main thread would; a table whose fn
 * stopped on request is dropped without a message, as the failure that
 * asked for the stop has been logged already.
 */
static void
job_run(OutputJob *job)
{
	Output *o = job->out;
	CopyWriter *w = output_begin(o, job->table, &job->err);

	job->ok = w != NULL;
	if (job->ok)
	{
		job->ok = job->fn(job->arg, w, &o->stop, &job->err);
		if (job->ok)
			job->ok = output_end(o, job->table, &job->err);
		else
		{
			copy_writer_abort(w);
			o->files[job->table].open = false;
		}
	}
	job->finished = true;
	if (!job->ok)
		atomic_store(&o->job_failed, true);
}

static void *
job_main(void *arg)
{
	job_run(arg);
	return NULL;
}

bool
output_start(Output *o, OutputTableId t, OutputFillFn fn, const void *arg, ClError *err)
{
	OutputJob *job = &o->files[t].job;
	int rc;

	if (job->running || job->finished)
	{
		log_error("BUG: output table %s started twice", tables[t].name);
		*err = CL_ERR_INTERNAL;
		return false;
	}
	job->out = o;
	job->table = t;
	job->fn = fn;
	job->arg = arg;
	job->err = CL_OK;
	rc = pthread_create(&job->thread, NULL, job_main, job);
	if (rc != 0)
	{
		log_warn("cannot start a thread for %s (%s); writing it now instead",
				 tables[t].name, strerror(rc));
		job_run(job);
		return true;
	}
	job->running = true;
	return true;
}

bool
output_job_failed(const Output *o)
{
	return atomic_load(&o->job_failed);
}

/*
 * output_wait reports the failure of the lowest table when several failed:
 * with one table on a thread, which is what transform.c does, that is the
 * first failure.
 */
bool
output_wait(Output *o, ClError *err)
{
	bool ok = true;

	for (int t = 0; t < OUT_N_TABLES; t++)
	{
		OutputJob *job = &o->files[t].job;

		if (job->running)
		{
			(void) pthread_join(job->thread, NULL);
			job->running = false;
		}
		if (job->finished && !job->ok && ok)
		{
			*err = job->err;
			ok = false;
		}
	}
	return ok;
}

void
output_omit(Output *o, OutputTableId t)
{
	o->files[t].omitted = true;
}

/* gen_str: yajl's status is checked once, through the sticky ok flag. */
static void
gen_str(yajl_gen g, bool *ok, const char *s)
{
	if (yajl_gen_string(g, (const unsigned char *) s, strlen(s)) != yajl_gen_status_ok)
		*ok = false;
}

static void
gen_pair(yajl_gen g, bool *ok, const char *key, const char *value)
{
	gen_str(g, ok, key);
	gen_str(g, ok, value);
}

static void
gen_check(bool *ok, yajl_gen_status st)
{
	if (st != yajl_gen_status_ok)
		*ok = false;
}

/*
 * output_manifest uses yajl's generator for correct escaping and writes the
 * file atomically: its presence is what marks the output complete.
 */
bool
output_manifest(Output *o, const ManifestInfo *info, ClError *err)
{
	yajl_gen g = NULL;
	const unsigned char *buf;
	size_t len;
	char *text = NULL;
	char *path = NULL;
	char from[CL_DATE_BUFSIZE];
	char to[CL_DATE_BUFSIZE];
	char created[CL_TIME_BUFSIZE];
	bool ok = true;

	*err = CL_ERR_INTERNAL;
	for (int t = 0; t < OUT_N_TABLES; t++)
	{
		if (!o->files[t].done && !o->files[t].omitted)
		{
			log_error("BUG: manifest written before table %s", tables[t].name);
			return false;
		}
	}
	if (o->dry_run)
	{
		*err = CL_OK;
		return true;
	}
	g = yajl_gen_alloc(NULL);
	if (g == NULL)
	{
		log_error("out of memory writing the manifest");
		return false;
	}
	gen_check(&ok, yajl_gen_map_open(g));
	gen_pair(g, &ok, "run_id", info->run_id);
	gen_str(g, &ok, "window");
	gen_check(&ok, yajl_gen_map_open(g));
	gen_pair(g, &ok, "from", date_format(info->from, from));
	gen_pair(g, &ok, "to", date_format(info->to, to));
	gen_check(&ok, yajl_gen_map_close(g));
	gen_pair(g, &ok, "reporting_currency", info->reporting_currency);
	gen_str(g, &ok, "models");
	gen_check(&ok, yajl_gen_array_open(g));
	for (size_t i = 0; i < info->models->n; i++)
		gen_str(g, &ok, info->models->models[i]->name);
	gen_check(&ok, yajl_gen_array_close(g));
	gen_pair(g, &ok, "tool", "cl-transform");
	gen_pair(g, &ok, "version", CLOSEDLOOP_VERSION);
	gen_pair(g, &ok, "created_at", time_format_rfc3339(info->created_at, created));
	gen_str(g, &ok, "tables");
	gen_check(&ok, yajl_gen_array_open(g));
	for (int t = 0; t < OUT_N_TABLES; t++)
	{
		char file[64];

		if (o->files[t].omitted)
			continue;
		(void) snprintf(file, sizeof(file), "%s.copy", tables[t].name);
		gen_check(&ok, yajl_gen_map_open(g));
		gen_pair(g, &ok, "name", tables[t].name);
		gen_pair(g, &ok, "file", file);
		gen_str(g, &ok, "rows");
		gen_check(&ok, yajl_gen_integer(g, (long long) o->files[t].rows));
		gen_pair(g, &ok, "sha256", o->files[t].sha256);
		gen_pair(g, &ok, "load", tables[t].load);
		gen_check(&ok, yajl_gen_map_close(g));
	}
	gen_check(&ok, yajl_gen_array_close(g));
	gen_check(&ok, yajl_gen_map_close(g));
	if (!ok || yajl_gen_get_buf(g, &buf, &len) != yajl_gen_status_ok)
	{
		log_error("BUG: cannot generate the manifest JSON");
		goto cleanup;
	}
	text = malloc(len + 1);
	path = join(o->dir, MANIFEST_NAME, "");
	if (text == NULL || path == NULL)
	{
		log_error("out of memory writing the manifest");
		ok = false;
		goto cleanup;
	}
	memcpy(text, buf, len);
	text[len] = '\n';
	if (!fs_write_atomic(path, text, len + 1))
	{
		log_error("cannot write %s", path);
		*err = CL_ERR_OUTPUT;
		ok = false;
		goto cleanup;
	}
	*err = CL_OK;

cleanup:
	if (g != NULL)
		yajl_gen_free(g);
	free(text);
	free(path);
	return ok && *err == CL_OK;
}

/*
 * output_free removes the files of a run that did not commit, so a failed
 * run leaves no partial output for an operator to puzzle over.
 */
void
output_free(Output *o, bool committed)
{
	ClError ignored;

	atomic_store(&o->stop, true);
	(void) output_wait(o, &ignored);
	for (int t = 0; t < OUT_N_TABLES; t++)
	{
		if (o->files[t].open)
			copy_writer_abort(&o->files[t].writer);
	}
	if (!committed && !o->dry_run && o->dir != NULL)
	{
		for (int t = 0; t < OUT_N_TABLES; t++)
		{
			char *path;

			if (!o->files[t].done)
				continue;
			path = join(o->dir, tables[t].name, ".copy");
			if (path != NULL)
				(void) unlink(path);
			free(path);
		}
		(void) rmdir(o->dir);
	}
	if (o->devnull != NULL)
		(void) fclose(o->devnull);
	free(o->dir);
	memset(o, 0, sizeof(*o));
}
