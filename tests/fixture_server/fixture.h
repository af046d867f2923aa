/*
 * fixture.h: the pieces of cl-fixture-server, a loopback HTTP server that
 * plays the vendor APIs (HubSpot, Salesforce, Google Ads, Meta, Mailchimp)
 * from data files, so that the extractors can be tested and the demo can run
 * without the network. README.md next to this file describes the routes
 * file, the paging modes and the admin endpoints.
 *
 * Threading: libmicrohttpd runs one thread per connection. Everything shared
 * between requests (fault queue, request log, continuation cursors, loaded
 * data sets) lives in the Server and is guarded by its mutexes; the routes
 * table is read-only once loaded.
 */
#ifndef CL_FIXTURE_H
#define CL_FIXTURE_H

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <microhttpd.h>

/* ------------------------------------------------------------------ buf.c */

/* A response body is never allowed to grow past this (a sticky failure). */
#define BUF_MAX_BYTES ((size_t) 1 << 30)

/*
 * Buf is a growable byte buffer with a sticky failure flag: append many
 * pieces, check failed once at the end.
 */
typedef struct Buf
{
	char *data;         /* owned, malloc'ed, always NUL-terminated when non-NULL */
	size_t len;
	size_t cap;
	size_t max;         /* cap on len */
	bool failed;        /* out of memory or over max */
} Buf;

void buf_init(Buf *b, size_t max);
void buf_free(Buf *b);
void buf_reset(Buf *b);
void buf_append(Buf *b, const char *data, size_t len);
void buf_puts(Buf *b, const char *s);
void buf_printf(Buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s (len bytes) as a quoted JSON string. */
void buf_json_string(Buf *b, const char *s, size_t len);
/* Hands over the bytes: returns an ALLOCATED buffer (never NULL unless the
 * Buf failed), which the caller frees with free(); the Buf is left empty. */
char *buf_steal(Buf *b, size_t *len);

/* base64url without padding (Meta cursors). */
void buf_base64url(Buf *b, const char *data, size_t len);
/* Standard or url alphabet, padding optional. Writes at most outsize - 1
 * bytes and a NUL; false when the input is not base64 or does not fit. */
bool base64_decode(const char *in, size_t inlen, char *out, size_t outsize,
				   size_t *outlen);

/* Strict decimal parse of a whole string into [min, max]. */
bool parse_ulong(const char *s, unsigned long min, unsigned long max,
				 unsigned long *out);

/* Reads a whole file. On success *out is ALLOCATED (caller frees with
 * free()) and NUL-terminated. *missing tells ENOENT/ENOTDIR apart from
 * other failures, which are reported on stderr. */
bool read_file(const char *path, size_t max, char **out, size_t *len, bool *missing);

/* --------------------------------------------------------------- routes.c */

typedef enum RouteMode
{
	MODE_FILE,
	MODE_CURSOR,        /* HubSpot CRM v3: limit/after, paging.next */
	MODE_OFFSET,        /* Mailchimp: count/offset, total_items */
	MODE_NEXTURL,       /* Salesforce: nextRecordsUrl */
	MODE_STREAM,        /* Google Ads searchStream: array of batches */
	MODE_GRAPH,         /* Meta Graph: limit/after, paging.cursors */
	MODE_ASYNC,         /* Meta async report runs: POST starts a job whose
	                     * status and results are GET <base>/<id>[/insights] */
	MODE_SEARCH         /* HubSpot CRM search: POST body filters, sorts,
	                     * limit/after, a cap on after (KEY) */
} RouteMode;

typedef enum AuthKind
{
	AUTH_BEARER,        /* Authorization: Bearer <value> */
	AUTH_BASIC,         /* Authorization: Basic, user <name> ("*" any), password <value> */
	AUTH_HEADER,        /* request header <name> equals <value> */
	AUTH_QUERY          /* query parameter <name> equals <value> */
} AuthKind;

typedef struct AuthReq
{
	AuthKind kind;
	char *name;         /* owned; NULL for bearer */
	char *value;        /* owned */
} AuthReq;

typedef struct Route
{
	char *method;       /* owned */
	char *pattern;      /* owned: path with {name} placeholders */
	AuthReq *auth;      /* owned array of nauth */
	size_t nauth;
	RouteMode mode;
	char *datafile;     /* owned: relative to the root, may hold {name} */
	char *key;          /* owned or NULL: offset array key, stream fieldMask */
	int line;           /* line in the routes file, for messages */
} Route;

typedef struct RouteTable
{
	Route *routes;      /* owned array */
	size_t count;
} RouteTable;

#define ROUTE_MAX_VARS 8

/* A placeholder bound by a match; both strings point into borrowed memory
 * (the route pattern and the request path). */
typedef struct RouteVar
{
	const char *name;
	size_t name_len;
	const char *value;
	size_t value_len;
} RouteVar;

typedef struct RouteVars
{
	RouteVar vars[ROUTE_MAX_VARS];
	size_t count;
} RouteVars;

bool routes_load(const char *path, RouteTable *table);
void routes_free(RouteTable *table);
const char *route_mode_name(RouteMode mode);
bool route_match(const Route *route, const char *method, const char *path,
				 RouteVars *vars);
bool route_auth_ok(const Route *route, struct MHD_Connection *conn);
/*
 * route_datafile resolves the route's DATAFILE for one request: each {name}
 * becomes the path placeholder of that name, else the query parameter, else
 * (for {from}) the object after FROM in the SOQL `q` parameter or the GAQL
 * "query" of a JSON request body. Values must be plain file name parts.
 * Returns an ALLOCATED path under root (caller frees with free()), or NULL
 * when a value is missing or unsafe: the request is then answered 404.
 */
char *route_datafile(const Route *route, const RouteVars *vars, const char *root,
					 struct MHD_Connection *conn, const char *body, size_t body_len);

/* -------------------------------------------------------------- dataset.c */

/* One NDJSON file loaded into memory, one record per non-empty line. */
typedef struct Dataset
{
	char *path;         /* owned: the resolved file path (cache key) */
	char *text;         /* owned: the file; records point into it */
	const char **records;   /* owned array; the strings are in text */
	size_t *lens;       /* owned array */
	size_t count;
	char *field_mask;   /* owned or NULL: dotted leaf paths of record 0 */
	struct Dataset *next;
} Dataset;

typedef struct DataCache
{
	pthread_mutex_t lock;
	Dataset *head;      /* owned list; entries live until datacache_free */
} DataCache;

typedef enum DataStatus
{
	DATA_OK,
	DATA_MISSING,       /* no such file: 404 */
	DATA_INVALID        /* unreadable or not NDJSON: reported on stderr */
} DataStatus;

void datacache_init(DataCache *cache);
void datacache_free(DataCache *cache);
/* The data set of path, loaded on first use. *out is borrowed from the
 * cache and stays valid until datacache_free. */
DataStatus datacache_get(DataCache *cache, const char *path, const Dataset **out);

/* -------------------------------------------------------------- control.c */

typedef enum FaultKind
{
	FAULT_NONE = 0,
	FAULT_429,
	FAULT_500,
	FAULT_503,
	FAULT_STATUS,
	FAULT_SLOW,
	FAULT_TRUNCATE,
	FAULT_MALFORMED,
	FAULT_EXPIRE,
	FAULT_DROP,
	FAULT_HEADER        /* a normal response with Fault.header added */
} FaultKind;

typedef struct Fault
{
	FaultKind kind;
	char *prefix;       /* owned: applies to paths starting with it */
	unsigned long remaining;
	char *retry_after;  /* owned or NULL: Retry-After value for 429 */
	unsigned long delay_ms;
	unsigned status;    /* FAULT_STATUS */
	char *body;         /* owned or NULL: FAULT_STATUS/429 body, a file under
	                     * the root (a vendor's own error document) */
	char *header;       /* owned or NULL: "Name: value" added to the response
	                     * (any kind; FAULT_HEADER adds it to a normal one) */
	struct Fault *next;
} Fault;

/* A registered Salesforce query locator: GET <base>/<token>-<offset>. */
typedef struct Cursor
{
	char token[32];
	char *base;         /* owned: the path of the first page */
	char *datafile;     /* owned: resolved data file */
	size_t route;       /* index in the route table */
	struct Cursor *next;
} Cursor;

typedef struct Server
{
	RouteTable routes;
	char *root;                 /* owned: directory DATAFILEs are relative to */
	unsigned long latency_ms;
	unsigned long stream_batch;
	unsigned long max_inflight;     /* --max-inflight: 0 = no limit */
	atomic_ulong inflight;          /* vendor requests being answered */
	uint16_t port;
	FILE *log_fp;               /* owned or NULL: --log */
	DataCache data;
	atomic_ulong request_seq;

	pthread_mutex_t lock;       /* guards everything below */
	Fault *faults;              /* owned list, in queue order */
	Buf request_log;            /* NDJSON of the requests so far */
	Cursor *cursors;            /* owned list */
	unsigned long next_cursor;
	struct Job *jobs;           /* owned list (jobs.c) */
	unsigned long next_job;
} Server;

/* What one request answered; filled by the handlers, logged at the end. */
typedef struct Reply
{
	unsigned status;
	Buf body;
	const char *content_type;   /* static string */
	char retry_after[128];      /* Retry-After header value, "" when none */
	char extra_header[1024];    /* "Name: value" of a fault, "" when none */
} Reply;

void reply_init(Reply *reply);
void reply_free(Reply *reply);
/* A small JSON body with a status. */
void reply_json(Reply *reply, unsigned status, const char *json);

void control_init(Server *srv);
void control_free(Server *srv);
/* Takes one use of the first queued fault matching path. *fault receives a
 * copy whose strings are ALLOCATED (release with fault_clear). */
bool control_take_fault(Server *srv, const char *path, Fault *fault);
void fault_clear(Fault *fault);
const char *fault_kind_name(FaultKind kind);
void control_log_request(Server *srv, const char *method, const char *path,
						 const char *query, unsigned status, bool auth_ok,
						 unsigned long ms, const char *request_id, FaultKind fault);
/* Returns the query locator token for (route, base, datafile), registering
 * it on first use; false on out of memory. */
bool control_cursor_token(Server *srv, size_t route, const char *base,
						  const char *datafile, char *token, size_t tokensize);
/* Looks up a token registered for base. On success *datafile is ALLOCATED
 * (caller frees with free()). */
bool control_cursor_lookup(Server *srv, const char *base, const char *token,
						   size_t *route, char **datafile);
/* /_fixture/... requests. */
void control_admin(Server *srv, struct MHD_Connection *conn, const char *method,
				   const char *path, Reply *reply);

/* ---------------------------------------------------------------- pages.c */

/* Everything a paged mode needs to know about one request. */
typedef struct PageRequest
{
	Server *srv;
	const Route *route;
	size_t route_index;
	struct MHD_Connection *conn;
	const char *raw_path;       /* as sent, still percent-encoded */
	const char *raw_query;      /* as sent, without '?', "" when none */
	const char *request_id;
	const char *datafile;       /* resolved */
	unsigned long continuation; /* nexturl: offset of a continuation page */
	bool is_continuation;
	const char *base_path;      /* nexturl: path of the first page */
	const struct Job *job;      /* async: the job of a status or results
	                             * request (a copy), NULL for the start */
	bool job_results;           /* async: GET <base>/<id>/insights */
	const char *body;           /* search: the request body (borrowed) */
	size_t body_len;
} PageRequest;

void pages_render(const PageRequest *req, Reply *reply);

/* ----------------------------------------------------------------- jobs.c */

/*
 * A Meta async report run (AdReportRun). The route's KEY says how it ends:
 * "polls=N" (default 2): "Job Not Started", then "Job Running", and
 * "Job Completed" from the Nth status poll on; "fail=N": "Job Failed" from
 * the Nth poll on; "stuck": "Job Not Started" forever.
 */
typedef struct Job
{
	char id[32];
	char *base;         /* owned: the API version prefix, "/v21.0" */
	char *datafile;     /* owned: resolved data file of the results */
	size_t route;       /* the starting route: auth and KEY */
	unsigned long polls;    /* status requests so far */
	struct Job *next;
} Job;

/* Registers a job for the start request req; answers {"report_run_id"}. */
void jobs_start(const PageRequest *req, Reply *reply);
/* Recognises GET <base>/<id> and GET <base>/<id>/insights of a started
 * job. On success *job is a copy whose strings are ALLOCATED (release with
 * job_clear); a status request counts as one poll. */
bool jobs_lookup(Server *srv, const char *method, const char *path, Job *job,
				 bool *results);
void job_clear(Job *job);
/* The status document of a job (a copy from jobs_lookup). */
void jobs_render_status(const PageRequest *req, Reply *reply);
void jobs_free(Server *srv);

#endif
