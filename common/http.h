/*
 * http.h: the shared HTTP engine on libcurl.
 *
 * One HttpClient owns one CURL easy handle, so connections are kept alive
 * and reused across the pages of a run. TLS verification is always on;
 * gzip/deflate are accepted; connect, total and low-speed timeouts apply.
 *
 * A successful (2xx) body is streamed to an HttpSink as it arrives, so
 * memory does not grow with the response. Error bodies (non-2xx) are kept
 * in a capped buffer for the message and for vendor classification.
 *
 * Retries: http_request() retries 429, 5xx (except 501) and transport
 * failures (timeouts, resets, truncated transfers) with the RetryPolicy,
 * honouring Retry-After (seconds or HTTP date). Before every new attempt the
 * sink's begin() is called again, so the sink must discard what the failed
 * attempt delivered. A vendor may add its own classification with the
 * classify hook (rate-limit bodies sent with status 400, say).
 */
#ifndef CL_HTTP_H
#define CL_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "exitcode.h"
#include "retry.h"

typedef struct HttpSink
{
	/* A new attempt starts: reset all state of an earlier attempt. */
	bool (*begin)(void *ctx);
	/* Bytes of a 2xx body; return false to abort (the sink logged why). */
	bool (*write)(void *ctx, const char *data, size_t len);
	/* The 2xx body is complete; return false if it is not acceptable. */
	bool (*finish)(void *ctx);
	void *ctx;
} HttpSink;

#define HTTP_MAX_HEADERS 16

typedef struct HttpRequest
{
	const char *method;             /* "GET" (default when NULL), "POST", ... */
	const char *url;                /* full URL */
	const char *headers[HTTP_MAX_HEADERS]; /* "Name: value", NULL-terminated */
	const char *body;               /* request body or NULL */
	size_t body_len;
	const char *basic_user;         /* HTTP basic auth, or NULL */
	const char *basic_password;
	const char *what;               /* context for messages: "hubspot contacts page 3" */
} HttpRequest;

/* What a vendor says about a failed response. */
typedef enum HttpVerdict
{
	HTTP_VERDICT_DEFAULT = 0,   /* use the engine's rules */
	HTTP_VERDICT_RETRY,         /* transient: retry (after *delay_ms if >= 0) */
	HTTP_VERDICT_FAIL,          /* permanent */
	HTTP_VERDICT_REAUTH         /* credentials expired: refresh and retry once */
} HttpVerdict;

typedef struct HttpResponse
{
	long status;                    /* 0 when no HTTP response came */
	char *error_body;               /* owned: non-2xx body, capped, NUL-terminated */
	size_t error_body_len;
	char content_type[128];
	char retry_after[128];          /* raw Retry-After header, "" if none */
	char request_id[128];           /* X-Request-Id or similar, "" if none */
	/* Rate-limit and usage headers a vendor may read, raw ("" if none). */
	char rate_headers[4][512];
	int64_t elapsed_ms;
	int attempts;
} HttpResponse;

/* Called after each failed attempt with the response; may set *delay_ms. */
typedef HttpVerdict (*HttpClassifyFn)(void *ctx, const HttpResponse *resp,
									  int64_t *delay_ms);

typedef struct HttpOptions
{
	long connect_timeout_ms;        /* default 10 s */
	long total_timeout_ms;          /* one attempt; default 300 s */
	long low_speed_bytes;           /* abort below this rate ... */
	long low_speed_seconds;         /* ... for this long; default 1 B/s for 60 s */
	size_t max_error_body;          /* cap of error_body; default 64 KiB */
	RetryPolicy retry;              /* default 6 attempts, 500 ms .. 30 s, 5 min */
	const char *user_agent;         /* default "closedloop/<version>" */
	const char *rate_header_names[4]; /* headers to capture into rate_headers */
	const char *ca_file;            /* extra CA bundle (tests); NULL: system */
} HttpOptions;

void http_options_default(HttpOptions *opts);

typedef struct HttpClient HttpClient;

/* Call once per process from main() before any client exists (curl needs
 * it), and http_global_cleanup() at exit. */
bool http_global_init(void);
void http_global_cleanup(void);

/* Returns an ALLOCATED client; free with http_client_free() (NULL-safe). */
HttpClient *http_client_new(const HttpOptions *opts);
void http_client_free(HttpClient *c);

/*
 * http_request performs req with retries, streaming a 2xx body into sink.
 * resp is filled in all cases (caller frees with http_response_reset()).
 * On failure the error is logged with the URL (secrets masked), the
 * status, the body's message and the attempts, and *err is set:
 * CL_ERR_TEMPORARY after retries of a transient failure ran out,
 * CL_ERR_DATA when the sink rejected the body, CL_ERR_CONFIG for 401/403,
 * CL_ERR_UNAVAILABLE for other permanent HTTP errors.
 * classify may be NULL.
 */
bool http_request(HttpClient *c, const HttpRequest *req, const HttpSink *sink,
				  HttpClassifyFn classify, void *classify_ctx,
				  HttpResponse *resp, ClError *err);

/* A convenience sink that collects a small body into memory (token
 * responses): body is ALLOCATED in *out (caller frees), capped at max. */
bool http_request_small(HttpClient *c, const HttpRequest *req, size_t max,
						char **out, size_t *outlen, HttpResponse *resp,
						ClError *err);

void http_response_reset(HttpResponse *resp);

/* Statistics of the client's life, for the run summary. */
typedef struct HttpStats
{
	int64_t requests;
	int64_t retries;
	int64_t bytes;
	int64_t connections;   /* new connections opened (reuse keeps this low) */
} HttpStats;

void http_client_stats(const HttpClient *c, HttpStats *out);

/* URL-encode s: ALLOCATED result, caller frees with free(). */
char *http_url_encode(const char *s);

#endif
