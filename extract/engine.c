/*
 * engine.c: the paging engine (see engine.h).
 */
#include "engine.h"

#include <errno.h>
#include <ftw.h>
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
} PageParser;

/* The engine's classify hook around the vendor's: it notices REAUTH. */
typedef struct ClassifyCtx
{
	const SourceVendor *vendor;
	void *state;
	bool reauth;
} ClassifyCtx;


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
			if (cursor == NULL || cursor[0] == '\0')
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
		   PageState *ps, PageParser *pp, SourceRequest *req, ClError *err)
{
	const SourceVendor *v = run->vendor;
	bool reauthed = false;
	HttpSink sink = { sink_begin, sink_write, sink_finish, pp };

	for (;;)
	{
		HttpRequest hr;
		HttpResponse resp;
		ClassifyCtx cc = { v, state, false };
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
		if (ok)
		{
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
 * fetch_stream fetches every page of one stream.
 */
static bool
fetch_stream(SourceRun *run, void *state, const SourceStream *stream,
			 Progress *prog, VendorResult *res, ClError *err)
{
	const SourceVendor *v = run->vendor;
	PageState ps;
	PageParser pp;
	SourceRequest req;
	HttpStats before;
	HttpStats after;
	StreamStats *st = stats_for(res, stream);
	ClTime t0 = time_now();
	int64_t rows0 = source_run_rows(run);
	int64_t records = 0;
	int64_t pages = 0;
	bool ok = false;

	page_state_init(&ps);
	memset(&req, 0, sizeof(req));
	tb_init(&req.url, TEXTBUF_DEFAULT_MAX);
	tb_init(&req.body, TEXTBUF_DEFAULT_MAX);
	http_client_stats(run->http, &before);
	progress_stream(prog, stream->label);
	if (!parser_init(&pp, run, state, stream))
	{
		*err = CL_ERR_INTERNAL;
		goto cleanup;
	}

	while (!ps.done)
	{
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
		if (!fetch_page(run, state, stream, &ps, &pp, &req, err))
		{
			/* errors have already been logged */
			goto cleanup;
		}
		if (!advance_page(run, state, stream, &ps, pp.json, err))
		{
			/* errors have already been logged */
			goto cleanup;
		}
		records += ps.records;
		pages++;
		progress_page(prog, ps.records,
					  stream->paging == SOURCE_PAGING_OFFSET ? ps.total : -1);
	}
	ok = true;

cleanup:
	http_client_stats(run->http, &after);
	st->streams++;
	st->pages += pages;
	st->records += records;
	st->rows += source_run_rows(run) - rows0;
	st->requests += after.requests - before.requests;
	st->retries += after.retries - before.retries;
	st->bytes += after.bytes - before.bytes;
	st->elapsed_ms += (time_now() - t0) / 1000;
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
	ClTime t0 = time_now();
	ClError err = CL_ERR_INTERNAL;
	char from[CL_DATE_BUFSIZE];
	char to[CL_DATE_BUFSIZE];

	memset(res, 0, sizeof(*res));
	res->vendor = v;
	progress_start(&prog, v->name);

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
		if (!more)
			break;
		if (!fetch_stream(&run, state, &stream, &prog, res, &err))
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
	}
	err = CL_OK;
	res->ok = true;

cleanup:
	progress_end(&prog);
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
