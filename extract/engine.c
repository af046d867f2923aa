/*
 * engine.c: the paging engine (see engine.h).
 */
#include "engine.h"

#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "progress.h"
#include "retry.h"

/* One page in flight: the parser its body streams into. */
typedef struct PageParser
{
	SourceRun *run;
	void *state;
	const SourceStream *stream;
	JsonStream *json;
	char what[224];             /* "hubspot contacts page 3" */
	ClError err;                /* why the sink rejected the body */
	bool throttled;             /* the page's last attempt got 429 */
} PageParser;

/* A parallel page whose HTTP retries all got 429 is tried again this many
 * times, each after waiting for a permit at the lowered limit. */
#define POOL_THROTTLE_RETRIES 3

/* The engine's classify hook around the vendor's: it notices REAUTH. */
typedef struct ClassifyCtx
{
	const SourceVendor *vendor;
	void *state;
	bool reauth;
	struct EnginePool *pool;    /* parallel streams: told about 429s */
	uint64_t epoch;             /* the pool's epoch when the page began */
	bool throttled;             /* the last failed attempt was a 429 */
} ClassifyCtx;

static uint64_t pool_throttled(struct EnginePool *pool, uint64_t epoch);
static void pool_lock(struct EnginePool *pool);
static void pool_unlock(struct EnginePool *pool);
static bool pool_page_begin(struct EnginePool *pool, uint64_t *epoch);
static void pool_page_end(struct EnginePool *pool, bool ok);
static void http_options_from_config(const Config *cfg, HttpOptions *opts);


void
page_state_init(PageState *ps)
{
	memset(ps, 0, sizeof(*ps));
	ps->page.number = 1;
	ps->total = -1;
}


void
page_state_free(PageState *ps)
{
	free(ps->cursor);
	ps->cursor = NULL;
	ps->page.cursor = NULL;
}


/*
 * on_record hands one complete record to the vendor's mapper. A mapper
 * failure stops the stream; the mapper has logged it.
 */
static bool
on_record(void *ctx, const JsonValue *record)
{
	PageParser *pp = ctx;
	ClError err = CL_ERR_DATA;

	if (!pp->run->vendor->map_record(pp->state, pp->run, pp->stream, record, &err))
	{
		pp->err = err;
		return false;
	}
	return true;
}


/*
 * parser_init prepares the parser of one stream; it is reset per attempt.
 */
static bool
parser_init(PageParser *pp, SourceRun *run, void *state, const SourceStream *stream)
{
	memset(pp, 0, sizeof(*pp));
	pp->run = run;
	pp->state = state;
	pp->stream = stream;
	pp->json = json_stream_new(stream->record_path, on_record, pp);
	if (pp->json == NULL)
	{
		log_error("out of memory creating the JSON parser of %s %s",
				  run->vendor->name, stream->label);
		return false;
	}
	return true;
}


static void
parser_free(PageParser *pp)
{
	json_stream_free(pp->json);
	pp->json = NULL;
}


/*
 * sink_begin starts an attempt: whatever an earlier attempt of this page
 * wrote is rolled back to the mark taken before the page.
 */
static bool
sink_begin(void *ctx)
{
	PageParser *pp = ctx;

	pp->err = CL_OK;
	if (!source_run_rewind(pp->run))
	{
		/* errors have already been logged */
		pp->err = CL_ERR_OUTPUT;
		return false;
	}
	if (!json_stream_reset(pp->json))
	{
		log_error("%s: cannot reset the JSON parser", pp->what);
		pp->err = CL_ERR_INTERNAL;
		return false;
	}
	return true;
}


/*
 * sink_write feeds the parser as bytes arrive; a syntax error stops the
 * transfer at once instead of downloading the rest of a broken body.
 */
static bool
sink_write(void *ctx, const char *data, size_t len)
{
	PageParser *pp = ctx;

	if (json_stream_feed(pp->json, data, len))
		return true;
	if (!json_stream_aborted(pp->json))
	{
		log_error("%s: the response is not valid JSON: %s", pp->what,
				  json_stream_error(pp->json));
		pp->err = CL_ERR_DATA;
	}
	return false;
}


/*
 * sink_finish: the transfer ended cleanly, but the document must have
 * ended too (a server may close a body early without an error).
 */
static bool
sink_finish(void *ctx)
{
	PageParser *pp = ctx;

	if (json_stream_finish(pp->json))
		return true;
	if (!json_stream_aborted(pp->json))
	{
		log_error("%s: the response body is incomplete or invalid JSON: %s",
				  pp->what, json_stream_error(pp->json));
		pp->err = CL_ERR_DATA;
	}
	return false;
}


/*
 * advance_page checks the envelope of the page just parsed and moves *ps
 * to the page after it, by the stream's paging style.
 */
static bool
advance_page(SourceRun *run, void *state, const SourceStream *stream,
			 PageState *ps, const JsonStream *json, ClError *err)
{
	const JsonValue *env = json_stream_envelope(json);
	const SourceVendor *v = run->vendor;
	const char *cursor;
	int64_t total;

	ps->records = (int64_t) json_stream_records(json);
	if (v->check_envelope != NULL && !v->check_envelope(state, stream, env, err))
	{
		/* errors have already been logged */
		return false;
	}

	switch (stream->paging)
	{
		case SOURCE_PAGING_NONE:
		case SOURCE_PAGING_STREAM:
			ps->done = true;
			return true;

		case SOURCE_PAGING_CURSOR:
			cursor = json_text(json_path(env, stream->cursor_path));
			if (cursor == NULL || cursor[0] == '\0' ||
				(stream->more_path != NULL && json_path(env, stream->more_path) == NULL))
			{
				ps->done = true;
				return true;
			}
			if (ps->cursor != NULL && strcmp(cursor, ps->cursor) == 0)
			{
				log_error("%s %s page %lld: the next-page cursor %s did not advance; "
						  "stopping rather than fetching the same page forever",
						  v->name, stream->label, (long long) ps->page.number,
						  stream->cursor_path);
				*err = CL_ERR_DATA;
				return false;
			}
			free(ps->cursor);
			ps->cursor = strdup(cursor);
			ps->page.cursor = ps->cursor;
			if (ps->cursor == NULL)
			{
				log_error("out of memory keeping a paging cursor");
				*err = CL_ERR_INTERNAL;
				return false;
			}
			ps->page.number++;
			return true;

		case SOURCE_PAGING_OFFSET:
			if (!json_int64(json_path(env, stream->total_path), &total) || total < 0)
			{
				log_error("%s %s page %lld: the response has no valid %s, so the "
						  "number of pages is unknown",
						  v->name, stream->label, (long long) ps->page.number,
						  stream->total_path);
				*err = CL_ERR_DATA;
				return false;
			}
			ps->total = total;
			ps->page.offset += ps->records;
			/* An empty page ends the stream even if the total (which may
			 * shrink while we page) promises more. */
			ps->done = ps->records == 0 || ps->page.offset >= total;
			ps->page.number++;
			return true;
	}
	log_error("BUG: %s %s has unknown paging style %d", v->name, stream->label,
			  (int) stream->paging);
	*err = CL_ERR_INTERNAL;
	return false;
}


/*
 * engine_map_body: see engine.h. The mark/begin/feed/finish sequence is the
 * one an HTTP attempt runs, minus the network.
 */
bool
engine_map_body(SourceRun *run, void *state, const SourceStream *stream,
				PageState *ps, const char *body, size_t len, ClError *err)
{
	PageParser pp;
	bool ok = false;

	if (!parser_init(&pp, run, state, stream))
	{
		*err = CL_ERR_INTERNAL;
		return false;
	}
	(void) snprintf(pp.what, sizeof(pp.what), "%s %s page %lld", run->vendor->name,
					stream->label, (long long) ps->page.number);
	if (!source_run_mark(run))
	{
		*err = CL_ERR_OUTPUT;
		goto cleanup;
	}
	if (!sink_begin(&pp) || !sink_write(&pp, body, len) || !sink_finish(&pp))
	{
		*err = pp.err != CL_OK ? pp.err : CL_ERR_DATA;
		goto cleanup;
	}
	ok = advance_page(run, state, stream, ps, pp.json, err);

cleanup:
	parser_free(&pp);
	return ok;
}


/*
 * engine_classify asks the vendor and remembers a REAUTH verdict, which
 * http_request reports only as a failure.
 */
static HttpVerdict
engine_classify(void *ctx, const HttpResponse *resp, int64_t *delay_ms)
{
	ClassifyCtx *cc = ctx;
	HttpVerdict verdict = HTTP_VERDICT_DEFAULT;

	if (cc->vendor->classify != NULL)
		verdict = cc->vendor->classify(cc->state, resp, delay_ms);
	if (verdict == HTTP_VERDICT_REAUTH)
		cc->reauth = true;
	/* a 429 on a parallel stream (Mailchimp: too many connections of one
	 * user) is cured by fewer parallel requests, not only by a later retry:
	 * the page waits for a permit at the lowered limit before its retry */
	cc->throttled = resp->status == 429;
	if (cc->pool != NULL && resp->status == 429)
		cc->epoch = pool_throttled(cc->pool, cc->epoch);
	return verdict;
}


/*
 * request_reset empties the request for the next build, keeping the
 * buffers' memory.
 */
static void
request_reset(SourceRequest *req)
{
	for (int i = 0; i < HTTP_MAX_HEADERS; i++)
	{
		free(req->headers[i]);
		req->headers[i] = NULL;
	}
	tb_reset(&req->url);
	tb_reset(&req->body);
	req->method = NULL;
	req->basic_user = NULL;
	req->basic_password = NULL;
}


/*
 * fetch_page fetches one page into the parser, with the engine's retries
 * inside http_request and one re-authentication when the vendor says the
 * token expired. The writers were marked by the caller.
 */
static bool
fetch_page(SourceRun *run, void *state, const SourceStream *stream,
		   PageState *ps, PageParser *pp, SourceRequest *req,
		   struct EnginePool *pool, uint64_t epoch, ClError *err)
{
	const SourceVendor *v = run->vendor;
	bool reauthed = false;
	HttpSink sink = { sink_begin, sink_write, sink_finish, pp };

	for (;;)
	{
		HttpRequest hr;
		HttpResponse resp;
		ClassifyCtx cc = { v, state, false, pool, epoch, false };
		ClError herr = CL_OK;
		bool ok;

		if (!v->authenticate(state, run, reauthed, err))
		{
			/* errors have already been logged */
			return false;
		}
		request_reset(req);
		if (!v->build_request(state, stream, &ps->page, req, err))
		{
			/* errors have already been logged */
			return false;
		}
		if (!tb_ok(&req->url) || !tb_ok(&req->body))
		{
			log_error("%s: out of memory building the request", pp->what);
			*err = CL_ERR_INTERNAL;
			return false;
		}

		memset(&hr, 0, sizeof(hr));
		memset(&resp, 0, sizeof(resp));
		hr.method = req->method;
		hr.url = tb_text(&req->url);
		for (int i = 0; i < HTTP_MAX_HEADERS; i++)
			hr.headers[i] = req->headers[i];
		if (req->body.len > 0)
		{
			hr.body = tb_text(&req->body);
			hr.body_len = req->body.len;
		}
		hr.basic_user = req->basic_user;
		hr.basic_password = req->basic_password;
		hr.what = pp->what;

		ok = http_request(run->http, &hr, &sink, engine_classify, &cc, &resp, &herr);
		pp->throttled = !ok && cc.throttled;
		if (ok)
		{
			if (v->check_response != NULL && !v->check_response(state, run, &resp, err))
			{
				/* errors have already been logged */
				http_response_reset(&resp);
				return false;
			}
			http_response_reset(&resp);
			return true;
		}
		if (pp->err != CL_OK)
		{
			/* the body was rejected: logged by the sink or the mapper */
			*err = pp->err;
			http_response_reset(&resp);
			return false;
		}
		if (cc.reauth && !reauthed)
		{
			log_info("%s: the server says the access token expired; refreshing it and retrying",
					 pp->what);
			reauthed = true;
			http_response_reset(&resp);
			continue;
		}
		/* the vendor's error body exists only for an HTTP error status, not
		 * for a transfer that broke off after 200 */
		if (v->explain_error != NULL && resp.status >= 300)
		{
			char msg[1024];
			ClError cls = v->explain_error(&resp, msg, sizeof(msg));

			log_error("%s: %s", pp->what, msg);
			if (cls != CL_OK)
				herr = cls;
		}
		*err = herr != CL_OK ? herr : CL_ERR_UNAVAILABLE;
		http_response_reset(&resp);
		return false;
	}
}


/*
 * retry_body asks the vendor whether the page just fetched carries an
 * error in its body after which the same page may succeed later
 * (retry_envelope). When it does and the page's tries (*rs, under the
 * [http] retry policy) allow another, the page's rows are rewound, the
 * wait is slept and *again is set: the caller fetches the page again.
 * Otherwise *again stays false and check_envelope gives the verdict.
 * false (logged, *err set) only when the rewind fails or a stop was
 * requested during the wait.
 */
static bool
retry_body(SourceRun *run, void *state, const SourceStream *stream, PageParser *pp,
		   const RetryPolicy *policy, RetryState *rs, bool *again, ClError *err)
{
	const SourceVendor *v = run->vendor;
	int64_t delay = -1;
	int64_t sleep_ms = 0;

	*again = false;
	if (v->retry_envelope == NULL ||
		!v->retry_envelope(state, stream, json_stream_envelope(pp->json), &delay))
		return true;
	if (!retry_next(policy, rs, delay, &sleep_ms))
	{
		if (delay >= 0 && rs->attempt < policy->max_attempts && !cl_stop_requested())
			log_error("%s: the answer asks to try again in %.1f s, beyond the retry budget",
					  pp->what, (double) delay / 1000.0);
		else
			log_error("%s: the answer still carries an error after %d attempts",
					  pp->what, rs->attempt);
		return true;
	}
	log_info("%s: the answer carries an error worth retrying; its %lld records are "
			 "discarded and the page is fetched again in %.1f s", pp->what,
			 (long long) json_stream_records(pp->json), (double) sleep_ms / 1000.0);
	if (!source_run_rewind(run))
	{
		/* errors have already been logged */
		*err = CL_ERR_OUTPUT;
		return false;
	}
	if (!retry_sleep_ms(sleep_ms))
	{
		log_error("%s: stopped by a signal while waiting to try again; nothing is committed",
				  pp->what);
		*err = CL_ERR_TEMPORARY;
		return false;
	}
	*again = true;
	return true;
}


/*
 * stats_for finds the summary row of a stream name, adding it if new.
 */
static StreamStats *
stats_for(VendorResult *res, const SourceStream *stream)
{
	StreamStats *s;

	for (int i = 0; i < res->nstats; i++)
	{
		if (strcmp(res->stats[i].name, stream->name) == 0)
			return &res->stats[i];
	}
	if (res->nstats == ENGINE_MAX_STREAM_STATS)
	{
		/* The summary only; fold the surplus into the last row. */
		return &res->stats[ENGINE_MAX_STREAM_STATS - 1];
	}
	s = &res->stats[res->nstats++];
	(void) snprintf(s->name, sizeof(s->name), "%s", stream->name);
	(void) snprintf(s->entities, sizeof(s->entities), "%s",
					stream->entities != NULL ? stream->entities : "-");
	return s;
}


/*
 * fetch_stream fetches every page of one stream. With a pool (a parallel
 * stream on a worker thread) each page first waits for a permit, and the
 * shared progress and statistics are updated under the pool's lock.
 */
static bool
fetch_stream(SourceRun *run, void *state, const SourceStream *stream,
			 Progress *prog, VendorResult *res, struct EnginePool *pool,
			 ClError *err)
{
	const SourceVendor *v = run->vendor;
	PageState ps;
	PageParser pp;
	SourceRequest req;
	HttpStats before;
	HttpStats after;
	StreamStats *st;
	ClTime t0 = time_now();
	int64_t rows0 = source_run_rows(run);
	int64_t records = 0;
	int64_t pages = 0;
	int64_t body_retries = 0;
	HttpOptions hopts;
	RetryState body_retry;
	bool ok = false;

	page_state_init(&ps);
	/* a page retried for an error in its body (retry_envelope) is bounded
	 * by the same policy as the HTTP retries */
	http_options_from_config(run->cfg, &hopts);
	retry_start(&body_retry, (uint64_t) time_now() ^ (uint64_t) (uintptr_t) stream);
	memset(&req, 0, sizeof(req));
	tb_init(&req.url, TEXTBUF_DEFAULT_MAX);
	tb_init(&req.body, TEXTBUF_DEFAULT_MAX);
	http_client_stats(run->http, &before);
	pool_lock(pool);
	st = stats_for(res, stream);
	progress_stream(prog, stream->label);
	pool_unlock(pool);
	if (!parser_init(&pp, run, state, stream))
	{
		*err = CL_ERR_INTERNAL;
		goto cleanup;
	}

	while (!ps.done)
	{
		uint64_t epoch = 0;
		bool fetched;
		bool again = false;

		if (cl_stop_requested())
		{
			log_error("%s %s: stopped by a signal before page %lld; nothing is committed",
					  v->name, stream->label, (long long) ps.page.number);
			*err = CL_ERR_TEMPORARY;
			goto cleanup;
		}
		(void) snprintf(pp.what, sizeof(pp.what), "%s %s page %lld", v->name,
						stream->label, (long long) ps.page.number);
		if (!source_run_mark(run))
		{
			*err = CL_ERR_OUTPUT;
			goto cleanup;
		}
		for (int tries = 0;; tries++)
		{
			if (!pool_page_begin(pool, &epoch))
			{
				/* another stream failed: that one has been logged */
				*err = CL_ERR_TEMPORARY;
				goto cleanup;
			}
			fetched = fetch_page(run, state, stream, &ps, &pp, &req, pool, epoch, err);
			pool_page_end(pool, fetched);
			if (fetched || pool == NULL || !pp.throttled || tries == POOL_THROTTLE_RETRIES ||
				cl_stop_requested())
				break;
			/* the attempts went while other pages still held connections;
			 * the limit is lower now */
			log_info("%s: every attempt got 429; trying the page again when a connection "
					 "is free (%d of %d)", pp.what, tries + 1, POOL_THROTTLE_RETRIES);
		}
		if (!fetched)
		{
			/* The first page wrote nothing past the mark: a vendor may
			 * replace the stream by smaller ones instead of failing. */
			if (ps.page.number == 1 && pool == NULL && v->replace_stream != NULL &&
				v->replace_stream(state, stream, *err) && source_run_rewind(run))
			{
				log_notice("%s %s: dropped; the vendor has taken over its work (see above)",
						   v->name, stream->label);
				*err = CL_OK;
				break;
			}
			/* errors have already been logged */
			goto cleanup;
		}
		if (!retry_body(run, state, stream, &pp, &hopts.retry, &body_retry, &again, err))
		{
			/* errors have already been logged */
			goto cleanup;
		}
		if (again)
		{
			/* the same page: the writers are back at its mark */
			body_retries++;
			continue;
		}
		if (!advance_page(run, state, stream, &ps, pp.json, err))
		{
			/* errors have already been logged */
			goto cleanup;
		}
		retry_start(&body_retry, (uint64_t) time_now() ^ (uint64_t) ps.page.number);
		records += ps.records;
		pages++;
		pool_lock(pool);
		progress_page(prog, ps.records,
					  stream->paging == SOURCE_PAGING_OFFSET ? ps.total : -1);
		pool_unlock(pool);
	}
	ok = true;

cleanup:
	http_client_stats(run->http, &after);
	pool_lock(pool);
	st->streams++;
	st->pages += pages;
	st->records += records;
	st->rows += source_run_rows(run) - rows0;
	st->requests += after.requests - before.requests;
	st->retries += after.retries - before.retries + body_retries;
	st->bytes += after.bytes - before.bytes;
	st->elapsed_ms += (time_now() - t0) / 1000;
	pool_unlock(pool);
	if (ok)
		log_debug("%s %s: %lld pages, %lld records, %lld rows", v->name, stream->label,
				  (long long) pages, (long long) records,
				  (long long) (source_run_rows(run) - rows0));
	parser_free(&pp);
	request_reset(&req);
	tb_free(&req.url);
	tb_free(&req.body);
	page_state_free(&ps);
	return ok;
}


/*
 * http_options_from_config applies the [http] section to the defaults.
 */
static void
http_options_from_config(const Config *cfg, HttpOptions *opts)
{
	http_options_default(opts);
	opts->connect_timeout_ms = config_get_int(cfg, "http", "connect_timeout_seconds") * 1000;
	opts->total_timeout_ms = config_get_int(cfg, "http", "timeout_seconds") * 1000;
	opts->retry.max_attempts = (int) config_get_int(cfg, "http", "max_attempts");
	opts->retry.base_ms = config_get_int(cfg, "http", "retry_base_ms");
	opts->retry.max_sleep_ms = config_get_int(cfg, "http", "retry_max_sleep_ms");
	opts->retry.max_total_ms = config_get_int(cfg, "http", "retry_max_total_seconds") * 1000;
	opts->ca_file = config_get(cfg, "http", "ca_file");
}


/*
 * remove_entry removes one file or directory of the dry-run scratch tree
 * (nftw callback, depth first); failures are only warned about.
 */
static int
remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void) sb;
	(void) flag;
	(void) ftw;
	if (remove(path) != 0)
		log_warn("cannot remove %s: %s", path, strerror(errno));
	return 0;
}


/*
 * make_scratch_dir creates the directory a dry run writes into, so that
 * the real staging tree is not touched at all.
 * Returns an ALLOCATED path (caller frees), NULL when it cannot (logged).
 */
static char *
make_scratch_dir(void)
{
	const char *tmp = getenv("TMPDIR");
	char *path;
	size_t n;

	if (tmp == NULL || tmp[0] == '\0')
		tmp = "/tmp";
	n = strlen(tmp) + sizeof("/closedloop-dry-run.XXXXXX");
	path = malloc(n);
	if (path == NULL)
	{
		log_error("out of memory creating the dry-run directory");
		return NULL;
	}
	(void) snprintf(path, n, "%s/closedloop-dry-run.XXXXXX", tmp);
	if (mkdtemp(path) == NULL)
	{
		log_error("cannot create a dry-run directory under %s: %s", tmp, strerror(errno));
		free(path);
		return NULL;
	}
	return path;
}


/*
 * Parallel streams (source.h): a bounded pool of worker threads, one HTTP
 * client each (a CURL easy handle must not be shared between threads),
 * takes the streams of a batch in order. Each stream writes into writers
 * of its own, in a scratch directory under the staging directory, so that
 * marking and rewinding a retried page stay per stream; the coordinating
 * thread appends a finished stream's rows to the run's writers strictly in
 * batch order, so the staged files do not depend on thread timing.
 *
 * Concurrency adapts (AIMD): pages need a permit; there are "limit"
 * permits, at most max_connections. A 429 halves the limit (once per
 * epoch, so that a burst of 429s answered to the same round of requests
 * counts once); every "limit" successful pages in a row raise it by one.
 */
typedef struct PoolStream
{
	SourceStream stream;
	SourceRun sub;              /* its own run; writers in the scratch dir */
	bool sub_open;              /* sub has writers to free */
	char run_id[64];            /* storage behind sub.run_id */
	bool done;                  /* the worker finished it (ok or not) */
	bool ok;
} PoolStream;

typedef struct EnginePool
{
	pthread_mutex_t lock;
	pthread_cond_t cond;        /* permits, finished streams, failure */
	SourceRun *run;             /* the vendor's run (borrowed) */
	SourceRun tmpl;             /* what the streams' runs start from: a copy
								 * taken before the workers start, without
								 * writers, since the coordinator changes
								 * run (dropped) while they copy */
	void *state;                /* the vendor's state (borrowed) */
	Progress *prog;             /* borrowed */
	VendorResult *res;          /* borrowed */
	char *scratch;              /* owned: where the streams' writers write */
	int max;                    /* max_connections */
	int limit;                  /* permits now, 1 .. max */
	int inflight;               /* permits taken */
	int successes;              /* successful pages since the limit changed */
	uint64_t epoch;             /* bumped whenever the limit is halved */
	int64_t halvings;
	PoolStream *streams;        /* owned array */
	size_t nstreams;
	size_t cap;
	size_t next_take;           /* the next stream a worker takes */
	size_t next_flush;          /* the next stream to append to the run */
	bool failed;                /* stop: a stream failed */
	ClError err;                /* the first failure's class */
} EnginePool;

typedef struct PoolWorker
{
	EnginePool *pool;
	HttpClient *http;           /* owned */
	pthread_t thread;
	bool started;
} PoolWorker;


/* pool_lock and pool_unlock are no-ops without a pool (sequential runs). */
static void
pool_lock(EnginePool *pool)
{
	if (pool != NULL)
		(void) pthread_mutex_lock(&pool->lock);
}


static void
pool_unlock(EnginePool *pool)
{
	if (pool != NULL)
		(void) pthread_mutex_unlock(&pool->lock);
}


/*
 * pool_page_begin waits for a permit to send a page's request. false when
 * the pool is stopping because a stream failed. *epoch receives the epoch
 * the page starts in.
 */
static bool
pool_page_begin(EnginePool *pool, uint64_t *epoch)
{
	bool ok;

	if (pool == NULL)
		return true;
	(void) pthread_mutex_lock(&pool->lock);
	while (!pool->failed && pool->inflight >= pool->limit)
		(void) pthread_cond_wait(&pool->cond, &pool->lock);
	ok = !pool->failed;
	if (ok)
	{
		pool->inflight++;
		*epoch = pool->epoch;
	}
	(void) pthread_mutex_unlock(&pool->lock);
	return ok;
}


/*
 * pool_page_end returns the permit; a success counts towards raising the
 * limit again (additive increase, one per round of "limit" pages).
 */
static void
pool_page_end(EnginePool *pool, bool ok)
{
	if (pool == NULL)
		return;
	(void) pthread_mutex_lock(&pool->lock);
	pool->inflight--;
	if (ok && pool->limit < pool->max && ++pool->successes >= pool->limit)
	{
		pool->limit++;
		pool->successes = 0;
		log_debug("%s: parallel requests raised to %d", pool->run->vendor->name, pool->limit);
	}
	(void) pthread_cond_broadcast(&pool->cond);
	(void) pthread_mutex_unlock(&pool->lock);
}


/*
 * pool_throttled: a request of a page begun in epoch got 429
 * (multiplicative decrease, once per epoch). The page then gives back its
 * permit and waits for one at the lowered limit, so that the requests in
 * flight really fall to it, before the HTTP engine retries the request
 * after its back-off. Returns the epoch the retry runs in. The permit is
 * taken again even when the pool is stopping (without waiting), so that
 * pool_page_end stays balanced.
 */
static uint64_t
pool_throttled(EnginePool *pool, uint64_t epoch)
{
	uint64_t now;

	(void) pthread_mutex_lock(&pool->lock);
	if (epoch == pool->epoch)
	{
		pool->epoch++;
		pool->successes = 0;
		pool->halvings++;
		if (pool->limit > 1)
			pool->limit /= 2;
		log_info("%s: the server answered 429 (too many requests); parallel requests "
				 "lowered to %d of %d", pool->run->vendor->name, pool->limit, pool->max);
	}
	pool->inflight--;
	(void) pthread_cond_broadcast(&pool->cond);
	while (!pool->failed && pool->inflight >= pool->limit)
		(void) pthread_cond_wait(&pool->cond, &pool->lock);
	pool->inflight++;
	now = pool->epoch;
	(void) pthread_mutex_unlock(&pool->lock);
	return now;
}


/*
 * pool_add appends a copy of stream to the batch. false when out of
 * memory (logged).
 */
static bool
pool_add(EnginePool *pool, const SourceStream *stream)
{
	if (pool->nstreams == pool->cap)
	{
		size_t cap = pool->cap == 0 ? 64 : pool->cap * 2;
		PoolStream *grown = realloc(pool->streams, cap * sizeof(PoolStream));

		if (grown == NULL)
		{
			log_error("out of memory queueing %s streams", pool->run->vendor->name);
			return false;
		}
		pool->streams = grown;
		pool->cap = cap;
	}
	memset(&pool->streams[pool->nstreams], 0, sizeof(PoolStream));
	pool->streams[pool->nstreams].stream = *stream;
	pool->nstreams++;
	return true;
}


/*
 * pool_open_sub prepares the run of one stream: the vendor's run with
 * writers of its own (run id "<run_id>.p<index>") in the scratch directory
 * and the worker's HTTP client.
 */
static bool
pool_open_sub(EnginePool *pool, PoolStream *ps, size_t index, HttpClient *http)
{
	SourceRun *sub = &ps->sub;

	*sub = pool->tmpl;
	sub->http = http;
	sub->staging_dir = pool->scratch;
	(void) snprintf(ps->run_id, sizeof(ps->run_id), "%s.p%zu", pool->run->run_id, index);
	sub->run_id = ps->run_id;
	ps->sub_open = true;
	if (!source_run_open_writers(sub))
		return false;   /* errors have already been logged */
	/* many such writers are open at once: keep their files few */
	for (int i = 0; i < sub->nwriters; i++)
		staging_writer_limit_files(sub->writer[i], 2);
	return true;
}


/*
 * pool_worker takes streams in batch order until none is left or the pool
 * stops, fetching each completely.
 */
static void *
pool_worker(void *arg)
{
	PoolWorker *wk = arg;
	EnginePool *pool = wk->pool;

	for (;;)
	{
		PoolStream *ps;
		size_t index;
		ClError err = CL_ERR_INTERNAL;
		bool ok;

		(void) pthread_mutex_lock(&pool->lock);
		if (!pool->failed && pool->next_take < pool->nstreams && cl_stop_requested())
		{
			log_error("%s: stopped by a signal; nothing is committed", pool->run->vendor->name);
			pool->failed = true;
			pool->err = CL_ERR_TEMPORARY;
		}
		if (pool->failed || pool->next_take >= pool->nstreams)
		{
			(void) pthread_cond_broadcast(&pool->cond);
			(void) pthread_mutex_unlock(&pool->lock);
			break;
		}
		index = pool->next_take++;
		ps = &pool->streams[index];
		(void) pthread_mutex_unlock(&pool->lock);

		ok = pool_open_sub(pool, ps, index, wk->http) &&
			fetch_stream(&ps->sub, pool->state, &ps->stream, pool->prog, pool->res, pool, &err);

		(void) pthread_mutex_lock(&pool->lock);
		ps->done = true;
		ps->ok = ok;
		if (!ok && !pool->failed)
		{
			pool->failed = true;
			pool->err = err;
		}
		(void) pthread_cond_broadcast(&pool->cond);
		(void) pthread_mutex_unlock(&pool->lock);
	}
	return NULL;
}


/*
 * pool_flush appends stream index's rows to the run's writers and frees
 * its writers. Called by the coordinating thread only, in batch order.
 */
static bool
pool_flush(EnginePool *pool, PoolStream *ps)
{
	SourceRun *run = pool->run;
	bool ok = true;

	for (int i = 0; i < ps->sub.nwriters && ok; i++)
	{
		StagingWriter *dst = source_run_writer(run, ps->sub.writer_entity[i]);

		if (dst == NULL || !staging_writer_append(dst, ps->sub.writer[i]))
			ok = false;     /* errors have already been logged */
	}
	run->dropped += ps->sub.dropped;
	source_run_free(&ps->sub);
	ps->sub_open = false;
	return ok;
}


/*
 * engine_run_pool fetches the batch of parallel streams in pool over up to
 * pool->max connections and appends their rows to the run in order. The
 * batch is emptied whatever happens. On failure *err is the first failed
 * stream's class (logged where it failed).
 */
static bool
engine_run_pool(EnginePool *pool, const HttpOptions *hopts, ClError *err)
{
	SourceRun *run = pool->run;
	PoolWorker *workers = NULL;
	size_t nworkers = pool->nstreams < (size_t) pool->max ? pool->nstreams : (size_t) pool->max;
	char *scratch = NULL;
	size_t n;
	bool ok = false;

	pool->next_take = 0;
	pool->next_flush = 0;
	pool->failed = false;
	pool->err = CL_OK;
	pool->inflight = 0;
	log_info("%s: fetching %zu streams over up to %d connections", run->vendor->name,
			 pool->nstreams, pool->max);

	n = strlen(run->staging_dir) + strlen(run->run_id) + sizeof("/.parallel-");
	scratch = malloc(n);
	workers = calloc(nworkers, sizeof(PoolWorker));
	if (scratch == NULL || workers == NULL)
	{
		log_error("out of memory starting the %s workers", run->vendor->name);
		*err = CL_ERR_INTERNAL;
		goto cleanup;
	}
	/* a dot directory: staging readers never look into it */
	(void) snprintf(scratch, n, "%s/.parallel-%s", run->staging_dir, run->run_id);
	if (!fs_mkdir_p(scratch))
	{
		*err = CL_ERR_OUTPUT;
		goto cleanup;
	}
	pool->scratch = scratch;
	pool->tmpl = *run;
	pool->tmpl.nwriters = 0;
	memset(pool->tmpl.writer, 0, sizeof(pool->tmpl.writer));
	memset(pool->tmpl.writer_entity, 0, sizeof(pool->tmpl.writer_entity));
	pool->tmpl.dropped = 0;
	pool->tmpl.dropped_mark = 0;
	pool->tmpl.http = NULL;

	for (size_t i = 0; i < nworkers; i++)
	{
		workers[i].pool = pool;
		workers[i].http = http_client_new(hopts);
		if (workers[i].http == NULL)
		{
			log_error("%s: cannot create the HTTP client of worker %zu", run->vendor->name, i);
			pool_lock(pool);
			pool->failed = true;
			pool->err = CL_ERR_INTERNAL;
			pool_unlock(pool);
			break;
		}
		if (pthread_create(&workers[i].thread, NULL, pool_worker, &workers[i]) != 0)
		{
			log_error("%s: cannot start worker thread %zu", run->vendor->name, i);
			pool_lock(pool);
			pool->failed = true;
			pool->err = CL_ERR_INTERNAL;
			pool_unlock(pool);
			break;
		}
		workers[i].started = true;
	}

	/* Append finished streams in order while the workers go on. */
	pool_lock(pool);
	for (;;)
	{
		while (!pool->failed && pool->next_flush < pool->nstreams &&
			   pool->streams[pool->next_flush].done)
		{
			PoolStream *ps = &pool->streams[pool->next_flush++];
			bool flushed;

			pool_unlock(pool);
			flushed = pool_flush(pool, ps);
			pool_lock(pool);
			if (!flushed && !pool->failed)
			{
				pool->failed = true;
				pool->err = CL_ERR_OUTPUT;
				(void) pthread_cond_broadcast(&pool->cond);
			}
		}
		if (pool->failed || pool->next_flush == pool->nstreams)
			break;
		(void) pthread_cond_wait(&pool->cond, &pool->lock);
	}
	ok = !pool->failed;
	if (!ok)
		*err = pool->err != CL_OK ? pool->err : CL_ERR_INTERNAL;
	pool_unlock(pool);

cleanup:
	for (size_t i = 0; workers != NULL && i < nworkers; i++)
	{
		if (workers[i].started)
			(void) pthread_join(workers[i].thread, NULL);
		http_client_free(workers[i].http);
	}
	free(workers);
	for (size_t i = 0; i < pool->nstreams; i++)
	{
		if (pool->streams[i].sub_open)
			source_run_free(&pool->streams[i].sub);
	}
	if (ok && pool->halvings > 0)
		log_info("%s: parallel fetch done; the limit was lowered %lld times after 429, "
				 "now %d of %d", run->vendor->name, (long long) pool->halvings, pool->limit,
				 pool->max);
	pool->nstreams = 0;
	pool->scratch = NULL;
	if (scratch != NULL)
	{
		(void) nftw(scratch, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
		free(scratch);
	}
	return ok;
}


/*
 * engine_run_vendor: see engine.h. Every resource is released on every
 * path; the writers remove their uncommitted files when freed.
 */
bool
engine_run_vendor(const SourceVendor *v, const EngineOptions *o, VendorResult *res)
{
	SourceRun run;
	bool run_ready = false;
	void *state = NULL;
	HttpClient *http = NULL;
	HttpOptions hopts;
	char *scratch = NULL;
	const char *staging_dir = config_get(o->cfg, "pipeline", "staging_dir");
	Progress prog;
	EnginePool pool;
	ClTime t0 = time_now();
	ClError err = CL_ERR_INTERNAL;
	char from[CL_DATE_BUFSIZE];
	char to[CL_DATE_BUFSIZE];

	memset(res, 0, sizeof(*res));
	res->vendor = v;
	progress_start(&prog, v->name);
	memset(&pool, 0, sizeof(pool));
	(void) pthread_mutex_init(&pool.lock, NULL);
	(void) pthread_cond_init(&pool.cond, NULL);

	if (o->cli->dry_run)
	{
		scratch = make_scratch_dir();
		if (scratch == NULL)
		{
			err = CL_ERR_OUTPUT;
			goto cleanup;
		}
		staging_dir = scratch;
	}
	if (!source_run_init(&run, v, o->cfg, o->cli, staging_dir, o->run_id, o->tool))
	{
		err = CL_ERR_CONFIG;
		goto cleanup;
	}
	run_ready = true;

	http_options_from_config(o->cfg, &hopts);
	for (int i = 0; v->response_headers != NULL && i < 4 && v->response_headers[i] != NULL; i++)
		hopts.rate_header_names[i] = v->response_headers[i];
	http = http_client_new(&hopts);
	if (http == NULL)
	{
		log_error("%s: cannot create the HTTP client", v->name);
		goto cleanup;
	}
	run.http = http;

	if (!v->open(&run, &state, &err))
	{
		/* errors have already been logged */
		goto cleanup;
	}
	if (!source_run_open_writers(&run))
	{
		err = CL_ERR_INTERNAL;
		goto cleanup;
	}
	log_info("%s: extracting, window %s .. %s%s", v->name,
			 date_format(run.window.from, from), date_format(run.window.to, to),
			 o->cli->dry_run ? " (dry run: nothing will be committed)" : "");
	pool.run = &run;
	pool.state = state;
	pool.prog = &prog;
	pool.res = res;
	pool.max = run.max_connections;
	pool.limit = pool.max;

	for (;;)
	{
		SourceStream stream;
		bool more = false;

		memset(&stream, 0, sizeof(stream));
		if (!v->next_stream(state, &run, &stream, &more, &err))
		{
			/* errors have already been logged */
			goto cleanup;
		}
		/* parallel streams gather into a batch until a sequential one (or
		 * the end) comes, which waits for the batch */
		if (more && stream.parallel && run.max_connections > 1)
		{
			if (!pool_add(&pool, &stream))
			{
				err = CL_ERR_INTERNAL;
				goto cleanup;
			}
			continue;
		}
		if (pool.nstreams > 0 && !engine_run_pool(&pool, &hopts, &err))
		{
			/* errors have already been logged */
			goto cleanup;
		}
		if (!more)
			break;
		if (!fetch_stream(&run, state, &stream, &prog, res, NULL, &err))
		{
			/* errors have already been logged */
			goto cleanup;
		}
	}

	if (o->cli->dry_run)
		log_info("%s: dry run: %lld rows fetched and mapped; nothing committed",
				 v->name, (long long) source_run_rows(&run));
	else
	{
		if (!source_run_commit(&run, &err))
		{
			/* errors have already been logged */
			goto cleanup;
		}
		res->committed = true;
		if (v->after_commit != NULL && !v->after_commit(state, &run, &err))
		{
			/* errors have already been logged */
			goto cleanup;
		}
	}
	err = CL_OK;
	res->ok = true;

cleanup:
	progress_end(&prog);
	free(pool.streams);
	(void) pthread_cond_destroy(&pool.cond);
	(void) pthread_mutex_destroy(&pool.lock);
	res->err = err;
	if (run_ready)
	{
		res->dropped = run.dropped;
		res->nentities = run.nwriters;
		for (int i = 0; i < run.nwriters; i++)
		{
			res->entity[i] = run.writer_entity[i];
			res->entity_rows[i] = staging_writer_rows(run.writer[i]);
		}
	}
	if (state != NULL)
		v->close(state);
	if (run_ready)
		source_run_free(&run);
	http_client_free(http);
	if (scratch != NULL)
	{
		(void) nftw(scratch, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
		free(scratch);
	}
	res->elapsed_ms = (time_now() - t0) / 1000;
	return res->ok;
}
