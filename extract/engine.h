/*
 * engine.h: the paging engine that runs one vendor (DESIGN §6).
 *
 * For every stream the vendor names, page after page: authenticate, build
 * the request, mark the staging writers, stream the body through a
 * JsonStream whose record callback calls the vendor's mapper, and find the
 * next page from the envelope. A retried attempt first rewinds the writers
 * to the mark, so a page is never written twice. An expired token
 * (HTTP_VERDICT_REAUTH) is refreshed once per page. The staging files are
 * committed only when every stream succeeded.
 *
 * Streams a vendor marks parallel are fetched by a bounded pool of worker
 * threads, one HTTP connection each, at most SourceRun.max_connections;
 * a 429 halves the requests allowed in flight, successes raise it again
 * (source.h says what this asks of the vendor).
 */
#ifndef CL_ENGINE_H
#define CL_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "cli.h"
#include "config.h"
#include "exitcode.h"
#include "source.h"

#define ENGINE_MAX_STREAM_STATS 16

/* What one stream name cost: the run summary's grain. */
typedef struct StreamStats
{
	char name[32];
	char entities[48];
	int64_t streams;            /* stream instances (customers, campaigns) */
	int64_t records;
	int64_t rows;
	int64_t pages;
	int64_t requests;
	int64_t retries;
	int64_t bytes;
	int64_t elapsed_ms;
} StreamStats;

typedef struct VendorResult
{
	const SourceVendor *vendor;
	bool ok;
	ClError err;                /* CL_OK when ok */
	bool committed;             /* false on failure and on --dry-run */
	int nentities;
	const char *entity[SOURCE_MAX_ENTITIES];
	int64_t entity_rows[SOURCE_MAX_ENTITIES];
	int nstats;
	StreamStats stats[ENGINE_MAX_STREAM_STATS];
	int64_t dropped;
	int64_t elapsed_ms;
} VendorResult;

typedef struct EngineOptions
{
	const Config *cfg;
	const CliOptions *cli;
	const char *run_id;
	const char *tool;           /* "cl-extract-crm" */
} EngineOptions;

/*
 * engine_run_vendor runs vendor v completely and fills *res. With
 * --dry-run everything is fetched and mapped into a scratch directory that
 * is removed afterwards. Returns res->ok; failures are logged and
 * classified in res->err.
 */
bool engine_run_vendor(const SourceVendor *v, const EngineOptions *o,
					   VendorResult *res);

/* Paging state of one stream between pages. */
typedef struct PageState
{
	SourcePage page;            /* the page to fetch next */
	char *cursor;               /* owned: storage behind page.cursor */
	int64_t total;              /* OFFSET: the last announced total, or -1 */
	int64_t records;            /* records in the last page */
	bool done;                  /* no page follows */
} PageState;

void page_state_init(PageState *ps);
void page_state_free(PageState *ps);

/*
 * engine_map_body maps one complete response body of stream exactly as a
 * page fetched over HTTP is mapped (same parser, mapper, envelope check
 * and paging), then advances *ps to the page after it. Unit tests feed
 * saved vendor payloads through it.
 */
bool engine_map_body(SourceRun *run, void *state, const SourceStream *stream,
					 PageState *ps, const char *body, size_t len, ClError *err);

#endif
