/*
 * jobs.c: Meta async report runs (route mode "async"). The start request
 * (POST <base>/act_<id>/insights) registers a job and answers its
 * report_run_id; GET <base>/<report_run_id> answers the job's status, which
 * advances with every poll as the route's KEY says; GET
 * <base>/<report_run_id>/insights pages the results like a Graph edge.
 * <base> is the first path segment of the start request ("/v21.0").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

#define JOB_DEFAULT_POLLS 2

/* How a job ends, from the route's KEY. */
typedef struct JobPlan
{
	unsigned long polls;    /* the poll from which the end status shows */
	bool fail;              /* ends in "Job Failed" */
	bool stuck;             /* never starts */
} JobPlan;


/*
 * job_plan reads KEY: "polls=N", "fail=N" or "stuck"; absent or
 * unreadable gives the default (completed on the second poll).
 */
static void
job_plan(const char *key, JobPlan *plan)
{
	unsigned long n = 0;

	plan->polls = JOB_DEFAULT_POLLS;
	plan->fail = false;
	plan->stuck = false;
	if (key == NULL)
	{
		return;
	}
	if (strcmp(key, "stuck") == 0)
	{
		plan->stuck = true;
	}
	else if (strncmp(key, "polls=", 6) == 0 && parse_ulong(key + 6, 1, 1000000, &n))
	{
		plan->polls = n;
	}
	else if (strncmp(key, "fail=", 5) == 0 && parse_ulong(key + 5, 1, 1000000, &n))
	{
		plan->polls = n;
		plan->fail = true;
	}
}


/*
 * jobs_start registers the job of a start request and answers its id.
 * The id is numeric, as Meta's are.
 */
void
jobs_start(const PageRequest *req, Reply *reply)
{
	Server *srv = req->srv;
	const char *slash = strchr(req->base_path + 1, '/');
	Job *job = calloc(1, sizeof(Job));

	if (job == NULL || slash == NULL)
	{
		free(job);
		reply_json(reply, 500, "{\"error\":\"cannot start the report run\"}");
		return;
	}
	job->base = strndup(req->base_path, (size_t) (slash - req->base_path));
	job->datafile = strdup(req->datafile);
	job->route = req->route_index;
	if (job->base == NULL || job->datafile == NULL)
	{
		free(job->base);
		free(job->datafile);
		free(job);
		reply_json(reply, 500, "{\"error\":\"out of memory\"}");
		return;
	}
	(void) pthread_mutex_lock(&srv->lock);
	(void) snprintf(job->id, sizeof(job->id), "61200000%06lu", srv->next_job++);
	job->next = srv->jobs;
	srv->jobs = job;
	(void) pthread_mutex_unlock(&srv->lock);
	reply->status = 200;
	buf_printf(&reply->body, "{\"report_run_id\":\"%s\"}", job->id);
}


/* job_clear frees the strings of a job or of a copy (idempotent). */
void
job_clear(Job *job)
{
	free(job->base);
	free(job->datafile);
	job->base = NULL;
	job->datafile = NULL;
}


/*
 * jobs_lookup: see fixture.h. Only GET requests are jobs' requests.
 */
bool
jobs_lookup(Server *srv, const char *method, const char *path, Job *job, bool *results)
{
	Job *j;
	bool found = false;

	memset(job, 0, sizeof(*job));
	if (strcmp(method, "GET") != 0)
	{
		return false;
	}
	(void) pthread_mutex_lock(&srv->lock);
	for (j = srv->jobs; j != NULL && !found; j = j->next)
	{
		size_t blen = strlen(j->base);
		size_t ilen = strlen(j->id);
		const char *rest;

		if (strncmp(path, j->base, blen) != 0 || path[blen] != '/' ||
			strncmp(path + blen + 1, j->id, ilen) != 0)
		{
			continue;
		}
		rest = path + blen + 1 + ilen;
		if (strcmp(rest, "") != 0 && strcmp(rest, "/insights") != 0)
		{
			continue;
		}
		*results = rest[0] != '\0';
		if (!*results)
		{
			j->polls++;
		}
		*job = *j;
		job->next = NULL;
		job->base = strdup(j->base);
		job->datafile = strdup(j->datafile);
		found = true;
	}
	(void) pthread_mutex_unlock(&srv->lock);
	if (found && (job->base == NULL || job->datafile == NULL))
	{
		job_clear(job);
		return false;
	}
	return found;
}


/*
 * jobs_render_status answers GET <base>/<id>: the status that the job's
 * number of polls has reached.
 */
void
jobs_render_status(const PageRequest *req, Reply *reply)
{
	const Job *job = req->job;
	JobPlan plan;
	const char *status;
	unsigned long percent;

	job_plan(req->route->key, &plan);
	if (plan.stuck || (job->polls == 1 && plan.polls > 1))
	{
		status = "Job Not Started";
		percent = 0;
	}
	else if (job->polls >= plan.polls)
	{
		status = plan.fail ? "Job Failed" : "Job Completed";
		percent = plan.fail ? 100 * (job->polls - 1) / plan.polls : 100;
	}
	else
	{
		status = "Job Running";
		percent = 100 * (job->polls - 1) / plan.polls;
	}
	reply->status = 200;
	buf_printf(&reply->body, "{\"id\":\"%s\",\"async_status\":\"%s\","
			   "\"async_percent_completion\":%lu}", job->id, status, percent);
}


/* jobs_free frees every registered job; called once at shutdown. */
void
jobs_free(Server *srv)
{
	Job *j = srv->jobs;

	while (j != NULL)
	{
		Job *next = j->next;

		job_clear(j);
		free(j);
		j = next;
	}
	srv->jobs = NULL;
}
