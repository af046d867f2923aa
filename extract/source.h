/*
 * source.h: the vendor interface of the extractors (DESIGN §6).
 *
 * A vendor is one file, vendor_<name>.c, that fills a SourceVendor: how to
 * read its configuration, how to authenticate, which streams to fetch, how
 * to build the request for one page of a stream, and how to map one JSON
 * record to canonical staging rows. Where a stream's next page starts is
 * declared in its SourceStream (cursor_path, total_path). The paging engine
 * (engine.c) does everything else: HTTP with retries, streaming the body
 * into the JSON parser, paging, rewinding the staging writers when an
 * attempt is retried, re-authentication, progress and statistics.
 *
 * Streams are produced one at a time by next_stream(), after the previous
 * one has been fetched completely, so a vendor can derive later streams
 * from earlier records (HubSpot deal stages before deals, Mailchimp
 * campaigns before their activity). Each stream carries all of its own
 * state (SourceStream.data), so the engine may fetch several at once.
 *
 * Parallel streams: when open() sets run->max_connections above 1, the
 * engine collects the consecutive streams next_stream marks parallel
 * (without fetching any of them in between, so none may depend on
 * another's records) and fetches them on up to max_connections worker
 * threads, each with its own HTTP connection. For such streams the
 * vendor's authenticate, build_request and map_record run concurrently:
 * they may change only state reached through stream->data (one stream's
 * own) and must guard anything else they share. Each parallel stream gets
 * a SourceRun of its own (own writers, dropped count, HTTP client) whose
 * rows are appended to the run's writers in the order next_stream handed
 * the streams out, so the staged files do not depend on thread timing.
 * replace_stream is not offered for parallel streams.
 */
#ifndef CL_SOURCE_H
#define CL_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli.h"
#include "config.h"
#include "exitcode.h"
#include "http.h"
#include "json.h"
#include "staging.h"
#include "textbuf.h"
#include "timeutil.h"

typedef enum SourceFamily
{
	SOURCE_FAMILY_CRM,
	SOURCE_FAMILY_ADS,
	SOURCE_FAMILY_EMAIL
} SourceFamily;

/* "crm", "ads", "email": the staging directory level and the CLI name. */
const char *source_family_name(SourceFamily family);

typedef enum SourcePaging
{
	SOURCE_PAGING_NONE,     /* one request, one document */
	SOURCE_PAGING_CURSOR,   /* the envelope names the next page's cursor at
							 * cursor_path (HubSpot paging.next.after); the
							 * stream ends when it is absent */
	SOURCE_PAGING_OFFSET,   /* offset/count; the envelope gives the total at
							 * total_path (Mailchimp total_items); the stream
							 * ends when the offset reaches it */
	SOURCE_PAGING_STREAM    /* one request whose body streams batches of
							 * records (Google Ads searchStream) */
} SourcePaging;

typedef struct SourceStream
{
	int kind;                   /* the vendor's own discriminator */
	const char *name;           /* "contacts": the summary groups by it */
	const char *entities;       /* "lead,touch": what it writes (summary) */
	char label[160];            /* "email-activity of campaign 42" (messages) */
	SourcePaging paging;
	const char *record_path;    /* JsonStream record path: "results[]" */
	const char *cursor_path;    /* CURSOR: "paging.next.after" */
	const char *more_path;      /* CURSOR, optional: the stream ends unless
								 * this member is present, even with a cursor
								 * (Meta Graph sends paging.cursors.after on
								 * its last page too, paging.next only when
								 * another page follows) */
	const char *total_path;     /* OFFSET: "total_items" */
	const void *data;           /* the vendor's: which customer, campaign */
	bool parallel;              /* may be fetched at the same time as the
								 * other parallel streams next_stream hands
								 * out before the next sequential one (see
								 * SourceRun.max_connections) */
} SourceStream;

/* Where a page starts. Strings are borrowed from the engine. */
typedef struct SourcePage
{
	int64_t number;             /* 1-based, within the stream */
	int64_t offset;             /* OFFSET: index of the first record */
	const char *cursor;         /* CURSOR: NULL on the first page */
} SourcePage;

/*
 * A request a vendor builds for one page. The engine owns the buffers and
 * resets them before each build; the vendor appends to url and body and
 * adds headers.
 */
typedef struct SourceRequest
{
	const char *method;         /* NULL: GET */
	TextBuf url;
	TextBuf body;               /* empty: no body */
	char *headers[HTTP_MAX_HEADERS];    /* owned, NULL-terminated */
	const char *basic_user;     /* borrowed from the vendor state */
	const char *basic_password;
} SourceRequest;

/* source_request_header adds one "Name: value" header. false (logged) when
 * the header table is full or out of memory. */
bool source_request_header(SourceRequest *req, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

typedef struct SourceVendor SourceVendor;

#define SOURCE_MAX_ENTITIES 4

/*
 * SourceRun is what one vendor's run knows: the configuration, the command
 * line, the window, the HTTP client and one staging writer per entity. It
 * is created by the engine (or a unit test) and handed to every vendor
 * function; vendors read it and write rows through source_run_writer().
 */
typedef struct SourceRun
{
	const SourceVendor *vendor;
	const Config *cfg;          /* borrowed */
	const CliOptions *cli;      /* borrowed */
	const char *staging_dir;    /* borrowed: a scratch directory on --dry-run */
	const char *run_id;         /* borrowed */
	const char *tool;           /* "cl-extract-crm" */
	ClTime started_at;
	ClDate today;               /* in [pipeline] timezone; the partition of
								 * mutable entities (leads, deals, campaigns) */
	StagingWindow window;       /* set by the vendor's open() */
	HttpClient *http;           /* borrowed; NULL in unit tests */
	int nwriters;
	const char *writer_entity[SOURCE_MAX_ENTITIES];
	StagingWriter *writer[SOURCE_MAX_ENTITIES];     /* owned */
	int64_t dropped;            /* records the mappers skipped (they log why) */
	int64_t dropped_mark;       /* dropped at the last source_run_mark() */
	int max_connections;        /* set by open(): above 1, runs of parallel
								 * streams are fetched over up to this many
								 * connections (engine.h) */
} SourceRun;

struct SourceVendor
{
	const char *name;           /* "hubspot": source_system and directory */
	SourceFamily family;
	const char *section;        /* "crm.hubspot" */
	const char *const *entities;    /* NULL-terminated staging entities */

	/*
	 * open reads and checks the vendor's configuration and sets
	 * run->window (source_run_window). *state is ALLOCATED and released by
	 * close(). CL_ERR_CONFIG on a bad configuration (logged with the key).
	 */
	bool (*open)(SourceRun *run, void **state, ClError *err);
	void (*close)(void *state);

	/*
	 * authenticate makes the credentials usable before a request: nothing
	 * for a static token; a token request when there is none yet, when it
	 * is about to expire, or when force is set (the server said it expired).
	 */
	bool (*authenticate)(void *state, SourceRun *run, bool force, ClError *err);

	/* next_stream fills *stream with the next stream to fetch, or sets
	 * *more = false when the run is complete. */
	bool (*next_stream)(void *state, SourceRun *run, SourceStream *stream,
						bool *more, ClError *err);

	bool (*build_request)(void *state, const SourceStream *stream,
						  const SourcePage *page, SourceRequest *req,
						  ClError *err);

	/*
	 * map_record writes the staging rows of one record (or records what a
	 * later stream needs). A record that cannot be mapped is CL_ERR_DATA,
	 * logged with vendor, object, record id and field.
	 *
	 * When an attempt is retried, the records of the page are mapped again:
	 * the engine rewinds the writers and run->dropped, but state the vendor
	 * derives from records must be keyed (insert or replace), never
	 * appended. Offset paging over a list that changes meanwhile can repeat
	 * records for the same reason.
	 */
	bool (*map_record)(void *state, SourceRun *run, const SourceStream *stream,
					   const JsonValue *record, ClError *err);

	/* Optional: errors a vendor embeds in a 2xx body (Google Ads stream
	 * batches); called once per complete page with its envelope. */
	bool (*check_envelope)(void *state, const SourceStream *stream,
						   const JsonValue *envelope, ClError *err);

	/*
	 * Optional: an error a vendor embeds in a 2xx body after which the same
	 * page may well succeed later (a Google Ads RESOURCE_EXHAUSTED batch
	 * inside a searchStream). Called with each complete page's envelope
	 * before check_envelope; returning true asks the engine to discard the
	 * page's rows (the writers' rewind) and to fetch the page again after
	 * *delay_ms (-1: the back-off of the retry policy). The tries of one
	 * page are bounded by the [http] retry policy (max_attempts,
	 * retry_max_total_seconds); once it is spent, or when this returns
	 * false, check_envelope gives the verdict as usual.
	 */
	bool (*retry_envelope)(void *state, const SourceStream *stream,
						   const JsonValue *envelope, int64_t *delay_ms);

	/* Optional: the vendor's verdict on a failed attempt (ctx is state):
	 * its rate-limit bodies, expired tokens (HTTP_VERDICT_REAUTH). */
	HttpClassifyFn classify;

	/*
	 * Optional: the vendor's message for a failed response (its error body
	 * format) written into msg. Returns the ClError that better describes
	 * the failure than the HTTP class, or CL_OK to keep that.
	 */
	ClError (*explain_error)(const HttpResponse *resp, char *msg, size_t msgsize);

	/*
	 * Optional: response headers the vendor reads (at most 4, NULL-
	 * terminated), captured into HttpResponse.rate_headers in this order,
	 * and a check of every successful page's response (Salesforce's
	 * Sforce-Limit-Info quota). A false return stops the run with *err.
	 */
	const char *const *response_headers;
	bool (*check_response)(void *state, SourceRun *run, const HttpResponse *resp,
						   ClError *err);

	/*
	 * Optional: the first page of stream failed with err. Returning true
	 * means the vendor has queued replacement streams (the same query over
	 * halves of its window, after a Salesforce QUERY_TIMEOUT) that
	 * next_stream will hand out, or knows the stream's data is gone (a
	 * HubSpot contact deleted during the run); the engine then drops this
	 * stream, whose first page wrote nothing, and goes on.
	 */
	bool (*replace_stream)(void *state, const SourceStream *stream, ClError err);

	/*
	 * Optional: called once the run's staging files are committed (never
	 * on --dry-run or failure): the place to save watermarks, so that a
	 * failed run repeats its window instead of skipping it.
	 */
	bool (*after_commit)(void *state, SourceRun *run, ClError *err);
};

/*
 * source_run_init prepares a run of vendor v; writers are created later by
 * source_run_open_writers(), once open() has set the window. today is taken
 * in [pipeline] timezone. Returns false (logged) on a bad time zone.
 */
bool source_run_init(SourceRun *run, const SourceVendor *v, const Config *cfg,
					 const CliOptions *cli, const char *staging_dir,
					 const char *run_id, const char *tool);

/*
 * source_run_window sets run->window to --from/--to where given and to
 * the defaults otherwise. CL_ERR_USAGE (logged) when from > to.
 */
bool source_run_window(SourceRun *run, ClDate default_from, ClDate default_to,
					   ClError *err);

/*
 * source_config_text: the vendor section's key, or NULL when absent or
 * empty. Borrowed from the configuration.
 */
const char *source_config_text(const SourceRun *run, const char *key);

/*
 * source_config_required: like source_config_text, but an absent value is
 * CL_ERR_CONFIG, logged naming the section, the key and what it is for.
 */
bool source_config_required(const SourceRun *run, const char *key,
							const char *purpose, const char **value,
							ClError *err);

/*
 * source_config_url reads a URL key of the vendor section: it must start
 * with http:// or https://; trailing slashes are removed so paths can be
 * appended. *out is ALLOCATED (caller frees). CL_ERR_CONFIG when absent
 * or malformed (logged).
 */
bool source_config_url(const SourceRun *run, const char *key, char **out,
					   ClError *err);

/* One writer per entity of the vendor. false (logged) when out of memory. */
bool source_run_open_writers(SourceRun *run);

/* The writer of entity (borrowed); NULL and a BUG log for an entity the
 * vendor did not declare. */
StagingWriter *source_run_writer(SourceRun *run, const char *entity);

/* Mark every writer (and run->dropped) before a page; rewind to the mark
 * when an attempt of the page restarts. false (logged) on an I/O error. */
bool source_run_mark(SourceRun *run);
bool source_run_rewind(SourceRun *run);
int64_t source_run_rows(const SourceRun *run);

/* Commit every writer; an entity without rows records an empty partition
 * on run->today. On failure: logged, *err set. */
bool source_run_commit(SourceRun *run, ClError *err);

/* Free the writers (uncommitted files are removed). */
void source_run_free(SourceRun *run);

#endif
