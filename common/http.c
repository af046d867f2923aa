/*
 * http.c: the shared HTTP engine on libcurl (see http.h).
 *
 * One easy handle per client: curl keeps the connection (and TLS session)
 * of the handle alive between transfers, so a run's pages reuse it.
 * curl_easy_reset() before each request clears the options of the previous
 * one but, by curl's contract, keeps live connections and caches.
 *
 * A 2xx body goes straight from curl's write callback to the sink; nothing
 * here buffers it. Any other body is kept, capped, for the error message and
 * the vendor's classify hook.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "http.h"
#include "log.h"
#include "timeutil.h"

/* Length of the error body excerpt in messages. */
#define HTTP_EXCERPT_LEN 300

struct HttpClient
{
	CURL *curl;                     /* owned */
	HttpOptions opts;               /* strings point to the owned copies below */
	char *user_agent;               /* owned */
	char *ca_file;                  /* owned, NULL when not set */
	char *rate_names[4];            /* owned, NULL when not set */
	char errbuf[CURL_ERROR_SIZE];
	HttpStats stats;
	uint64_t seq;                   /* requests made: varies the retry seed */

	/* State of the attempt in progress, read by the callbacks. */
	HttpResponse *resp;             /* borrowed */
	const HttpSink *sink;           /* borrowed, may be NULL */
	bool sink_failed;
	int64_t attempt_bytes;
};

/* Headers whose value identifies a request to the vendor's support. */
static const char *const http_request_id_headers[] = {
	"X-Request-Id", "Request-Id", "X-Correlation-Id", "X-HubSpot-Correlation-Id",
	"X-Fb-Trace-Id", NULL
};

static int64_t
http_monotonic_ms(void)
{
	struct timespec ts;
	(void) clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
http_options_default(HttpOptions *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->connect_timeout_ms = 10 * 1000;
	opts->total_timeout_ms = 300 * 1000;
	opts->low_speed_bytes = 1;
	opts->low_speed_seconds = 60;
	opts->max_error_body = 64 * 1024;
	opts->retry.max_attempts = 6;
	opts->retry.base_ms = 500;
	opts->retry.max_sleep_ms = 30 * 1000;
	opts->retry.max_total_ms = 5 * 60 * 1000;
	opts->user_agent = NULL;
	opts->ca_file = NULL;
}

bool
http_global_init(void)
{
	CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
	if (rc != CURLE_OK)
	{
		log_error("cannot initialise libcurl: %s", curl_easy_strerror(rc));
		return false;
	}
	return true;
}

void
http_global_cleanup(void)
{
	curl_global_cleanup();
}

void
http_client_free(HttpClient *c)
{
	if (c == NULL)
		return;
	if (c->curl != NULL)
		curl_easy_cleanup(c->curl);
	free(c->user_agent);
	free(c->ca_file);
	for (int i = 0; i < 4; i++)
		free(c->rate_names[i]);
	free(c);
}

/*
 * http_client_new copies every string of opts, so the caller's options may
 * go away (a config freed after setup).
 */
HttpClient *
http_client_new(const HttpOptions *opts)
{
	HttpClient *c = calloc(1, sizeof(HttpClient));
	HttpOptions defaults;

	if (c == NULL)
	{
		log_error("out of memory creating an HTTP client");
		return NULL;
	}
	if (opts == NULL)
	{
		http_options_default(&defaults);
		opts = &defaults;
	}
	c->opts = *opts;
	c->user_agent = strdup(opts->user_agent != NULL ? opts->user_agent
						   : "closedloop/" CLOSEDLOOP_VERSION);
	if (c->user_agent == NULL)
		goto oom;
	c->opts.user_agent = c->user_agent;
	if (opts->ca_file != NULL)
	{
		c->ca_file = strdup(opts->ca_file);
		if (c->ca_file == NULL)
			goto oom;
	}
	c->opts.ca_file = c->ca_file;
	for (int i = 0; i < 4; i++)
	{
		if (opts->rate_header_names[i] != NULL)
		{
			c->rate_names[i] = strdup(opts->rate_header_names[i]);
			if (c->rate_names[i] == NULL)
				goto oom;
		}
		c->opts.rate_header_names[i] = c->rate_names[i];
	}
	c->curl = curl_easy_init();
	if (c->curl == NULL)
	{
		log_error("cannot create a libcurl handle (was http_global_init called?)");
		http_client_free(c);
		return NULL;
	}
	return c;

oom:
	log_error("out of memory creating an HTTP client");
	http_client_free(c);
	return NULL;
}

void
http_client_stats(const HttpClient *c, HttpStats *out)
{
	*out = c->stats;
}

void
http_response_reset(HttpResponse *resp)
{
	if (resp == NULL)
		return;
	free(resp->error_body);
	memset(resp, 0, sizeof(*resp));
}

/* http_clear_headers forgets the headers of an earlier response. */
static void
http_clear_headers(HttpResponse *resp)
{
	resp->content_type[0] = '\0';
	resp->retry_after[0] = '\0';
	resp->request_id[0] = '\0';
	for (int i = 0; i < 4; i++)
		resp->rate_headers[i][0] = '\0';
}

/*
 * http_header_cb sees every header line of every response of the transfer,
 * interim ones (100 Continue) included: a status line starts a new response,
 * so what an earlier one said is dropped.
 */
static size_t
http_header_cb(char *buffer, size_t size, size_t nitems, void *userdata)
{
	HttpClient *c = userdata;
	HttpResponse *resp = c->resp;
	size_t len = size * nitems;
	size_t name_len;
	const char *value;
	size_t value_len;
	const char *colon;

	if (len >= 5 && strncmp(buffer, "HTTP/", 5) == 0)
	{
		const char *p = memchr(buffer, ' ', len);
		long status = 0;

		http_clear_headers(resp);
		if (p != NULL)
		{
			const char *end = buffer + len;
			p++;
			while (p < end && *p >= '0' && *p <= '9' && status < 1000)
			{
				status = status * 10 + (*p - '0');
				p++;
			}
		}
		resp->status = status;
		return len;
	}
	colon = memchr(buffer, ':', len);
	if (colon == NULL)
		return len;
	name_len = (size_t) (colon - buffer);
	value = colon + 1;
	value_len = len - name_len - 1;
	while (value_len > 0 && (*value == ' ' || *value == '\t'))
	{
		value++;
		value_len--;
	}
	while (value_len > 0 && (value[value_len - 1] == '\r' || value[value_len - 1] == '\n'
							 || value[value_len - 1] == ' ' || value[value_len - 1] == '\t'))
		value_len--;

#define HTTP_NAME_IS(name) (strlen(name) == name_len && strncasecmp(buffer, (name), name_len) == 0)
#define HTTP_KEEP(field) snprintf((field), sizeof(field), "%.*s", (int) value_len, value)
	if (HTTP_NAME_IS("Content-Type"))
		HTTP_KEEP(resp->content_type);
	else if (HTTP_NAME_IS("Retry-After"))
		HTTP_KEEP(resp->retry_after);
	else
	{
		for (int i = 0; http_request_id_headers[i] != NULL; i++)
		{
			if (HTTP_NAME_IS(http_request_id_headers[i]) && resp->request_id[0] == '\0')
				HTTP_KEEP(resp->request_id);
		}
	}
	for (int i = 0; i < 4; i++)
	{
		if (c->opts.rate_header_names[i] != NULL && HTTP_NAME_IS(c->opts.rate_header_names[i]))
			HTTP_KEEP(resp->rate_headers[i]);
	}
#undef HTTP_KEEP
#undef HTTP_NAME_IS
	return len;
}

/*
 * http_write_cb: a 2xx body streams to the sink; returning less than len
 * makes curl abort the transfer with CURLE_WRITE_ERROR. Other bodies are
 * kept up to max_error_body and the rest is read and dropped, so that the
 * connection stays usable.
 */
static size_t
http_write_cb(char *data, size_t size, size_t nmemb, void *userdata)
{
	HttpClient *c = userdata;
	HttpResponse *resp = c->resp;
	size_t len = size * nmemb;

	c->attempt_bytes += (int64_t) len;
	if (resp->status >= 200 && resp->status < 300)
	{
		if (c->sink != NULL && c->sink->write != NULL && !c->sink->write(c->sink->ctx, data, len))
		{
			c->sink_failed = true;
			return 0;
		}
		return len;
	}
	if (resp->error_body_len < c->opts.max_error_body)
	{
		size_t room = c->opts.max_error_body - resp->error_body_len;
		size_t take = len < room ? len : room;
		char *grown = realloc(resp->error_body, resp->error_body_len + take + 1);

		if (grown == NULL)
			return len;     /* the message loses its excerpt, nothing else */
		resp->error_body = grown;
		memcpy(resp->error_body + resp->error_body_len, data, take);
		resp->error_body_len += take;
		resp->error_body[resp->error_body_len] = '\0';
	}
	return len;
}

/*
 * http_setup sets every option of req on the (reset) handle. The request
 * body is not copied by curl: req outlives the transfer.
 */
static bool
http_setup(HttpClient *c, const HttpRequest *req, const char *method,
		   struct curl_slist *headers)
{
	CURL *h = c->curl;
	CURLcode rc = CURLE_OK;

#define HTTP_SETOPT(opt, val) \
	do { \
		CURLcode rc_ = curl_easy_setopt(h, (opt), (val)); \
		if (rc_ != CURLE_OK && rc == CURLE_OK) \
			rc = rc_; \
	} while (0)

	curl_easy_reset(h);
	HTTP_SETOPT(CURLOPT_URL, req->url);
	HTTP_SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
	HTTP_SETOPT(CURLOPT_NOSIGNAL, 1L);
	HTTP_SETOPT(CURLOPT_ERRORBUFFER, c->errbuf);
	HTTP_SETOPT(CURLOPT_FAILONERROR, 0L);
	HTTP_SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
	HTTP_SETOPT(CURLOPT_ACCEPT_ENCODING, "");
	HTTP_SETOPT(CURLOPT_TCP_KEEPALIVE, 1L);
	HTTP_SETOPT(CURLOPT_CONNECTTIMEOUT_MS, c->opts.connect_timeout_ms);
	HTTP_SETOPT(CURLOPT_TIMEOUT_MS, c->opts.total_timeout_ms);
	if (c->opts.low_speed_bytes > 0 && c->opts.low_speed_seconds > 0)
	{
		HTTP_SETOPT(CURLOPT_LOW_SPEED_LIMIT, c->opts.low_speed_bytes);
		HTTP_SETOPT(CURLOPT_LOW_SPEED_TIME, c->opts.low_speed_seconds);
	}
	/* verification is the default; set it anyway so that no earlier
	 * option can have turned it off */
	HTTP_SETOPT(CURLOPT_SSL_VERIFYPEER, 1L);
	HTTP_SETOPT(CURLOPT_SSL_VERIFYHOST, 2L);
	if (c->opts.ca_file != NULL)
		HTTP_SETOPT(CURLOPT_CAINFO, c->opts.ca_file);
	HTTP_SETOPT(CURLOPT_USERAGENT, c->opts.user_agent);
	HTTP_SETOPT(CURLOPT_HEADERFUNCTION, http_header_cb);
	HTTP_SETOPT(CURLOPT_HEADERDATA, c);
	HTTP_SETOPT(CURLOPT_WRITEFUNCTION, http_write_cb);
	HTTP_SETOPT(CURLOPT_WRITEDATA, c);
	if (headers != NULL)
		HTTP_SETOPT(CURLOPT_HTTPHEADER, headers);
	if (req->basic_user != NULL)
	{
		HTTP_SETOPT(CURLOPT_HTTPAUTH, (long) CURLAUTH_BASIC);
		HTTP_SETOPT(CURLOPT_USERNAME, req->basic_user);
		HTTP_SETOPT(CURLOPT_PASSWORD, req->basic_password != NULL ? req->basic_password : "");
	}

	if (req->body != NULL || strcmp(method, "POST") == 0)
	{
		HTTP_SETOPT(CURLOPT_POSTFIELDSIZE_LARGE,
					(curl_off_t) (req->body != NULL ? req->body_len : 0));
		HTTP_SETOPT(CURLOPT_POSTFIELDS, req->body != NULL ? req->body : "");
		if (strcmp(method, "POST") != 0)
			HTTP_SETOPT(CURLOPT_CUSTOMREQUEST, method);
	}
	else if (strcmp(method, "HEAD") == 0)
		HTTP_SETOPT(CURLOPT_NOBODY, 1L);
	else if (strcmp(method, "GET") == 0)
		HTTP_SETOPT(CURLOPT_HTTPGET, 1L);
	else
		HTTP_SETOPT(CURLOPT_CUSTOMREQUEST, method);
#undef HTTP_SETOPT

	if (rc != CURLE_OK)
	{
		log_error("%s: cannot prepare %s %s: %s", req->what != NULL ? req->what : "HTTP request",
				  method, req->url, curl_easy_strerror(rc));
		return false;
	}
	return true;
}

/*
 * http_curl_transient: failures of the network or of the server mid-way,
 * which a later try may not meet. Everything else (a malformed URL, a
 * certificate that does not verify, a host that does not resolve) will fail
 * the same way again.
 */
static bool
http_curl_transient(CURLcode rc)
{
	switch (rc)
	{
		case CURLE_OPERATION_TIMEDOUT:
		case CURLE_COULDNT_CONNECT:
		case CURLE_SEND_ERROR:
		case CURLE_RECV_ERROR:
		case CURLE_PARTIAL_FILE:
		case CURLE_GOT_NOTHING:
		case CURLE_HTTP2:
		case CURLE_HTTP2_STREAM:
			return true;
		default:
			return false;
	}
}

/* 501 Not Implemented is the one 5xx that says "never". */
static bool
http_status_transient(long status)
{
	return status == 429 || (status >= 500 && status <= 599 && status != 501);
}

/*
 * http_excerpt flattens the start of an error body onto one line for a log
 * message: newlines, tabs and other control bytes become spaces, runs of
 * spaces collapse, and a cut is marked.
 */
static void
http_excerpt(const HttpResponse *resp, char *buf, size_t size)
{
	size_t j = 0;
	bool space = false;

	if (resp->error_body == NULL || resp->error_body_len == 0)
	{
		snprintf(buf, size, "(empty body)");
		return;
	}
	for (size_t i = 0; i < resp->error_body_len && i < HTTP_EXCERPT_LEN && j + 1 < size; i++)
	{
		unsigned char ch = (unsigned char) resp->error_body[i];
		if (ch < 0x20 || ch == 0x7f || ch == ' ')
		{
			if (!space && j > 0)
				buf[j++] = ' ';
			space = true;
			continue;
		}
		buf[j++] = (char) ch;
		space = false;
	}
	while (j > 0 && buf[j - 1] == ' ')
		j--;
	buf[j] = '\0';
	if (resp->error_body_len > HTTP_EXCERPT_LEN && j + 4 < size)
		snprintf(buf + j, size - j, " ...");
}

/*
 * http_what_failed describes one failed attempt: the HTTP status, or the
 * transport error with curl's detail.
 */
static void
http_what_failed(const HttpClient *c, CURLcode rc, long status, char *buf, size_t size)
{
	if (rc == CURLE_OK)
		snprintf(buf, size, "HTTP %ld", status);
	else if (status > 0)
		snprintf(buf, size, "HTTP %ld then transfer error \"%s\" (curl %d%s%s)", status,
				 curl_easy_strerror(rc), (int) rc, c->errbuf[0] != '\0' ? ": " : "", c->errbuf);
	else
		snprintf(buf, size, "%s (curl %d%s%s)", curl_easy_strerror(rc), (int) rc,
				 c->errbuf[0] != '\0' ? ": " : "", c->errbuf);
}

/* http_hint: what the operator can do about a final failure. */
static const char *
http_hint(CURLcode rc, long status, bool temporary)
{
	if (temporary)
		return "the service is temporarily unavailable; the scheduler may retry later";
	if (rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL)
		return "check base_url in the configuration";
	if (rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_COULDNT_RESOLVE_PROXY)
		return "check the host name in base_url and the DNS or proxy settings";
	if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE
		|| rc == CURLE_SSL_CONNECT_ERROR)
		return "the TLS connection could not be verified; check base_url, the system CA "
			"certificates or ca_file";
	if (rc != CURLE_OK)
		return "check base_url and the network";
	if (status == 401 || status == 403)
		return "check the token or credentials in the configuration and their permissions";
	if (status == 404)
		return "check base_url and the ids (account, customer) in the configuration";
	if (status >= 300 && status < 400)
		return "the service redirected the request; check base_url";
	return "the service rejected the request; see its message";
}

/* http_err_class: the ClError of a permanent failure. */
static ClError
http_err_class(CURLcode rc, long status)
{
	if (rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL)
		return CL_ERR_CONFIG;
	if (rc == CURLE_OK && (status == 401 || status == 403))
		return CL_ERR_CONFIG;
	return CL_ERR_UNAVAILABLE;
}

/*
 * http_build_headers: ALLOCATED list for curl (caller frees with
 * curl_slist_free_all), or NULL with *ok false when out of memory. A body
 * disables "Expect: 100-continue", which would only add a round trip.
 */
static struct curl_slist *
http_build_headers(const HttpRequest *req, bool *ok)
{
	struct curl_slist *list = NULL;

	*ok = true;
	for (int i = 0; i < HTTP_MAX_HEADERS && req->headers[i] != NULL; i++)
	{
		struct curl_slist *next = curl_slist_append(list, req->headers[i]);
		if (next == NULL)
			goto oom;
		list = next;
	}
	if (req->body != NULL)
	{
		struct curl_slist *next = curl_slist_append(list, "Expect:");
		if (next == NULL)
			goto oom;
		list = next;
	}
	return list;

oom:
	curl_slist_free_all(list);
	*ok = false;
	return NULL;
}

/*
 * http_request: the loop makes one attempt per turn; every way out sets
 * ok or *err and goes through cleanup, so the headers list is freed once.
 * resp is reset first, so it must be zero-initialised or a response of an
 * earlier request (whose error body is freed here).
 */
bool
http_request(HttpClient *c, const HttpRequest *req, const HttpSink *sink,
			 HttpClassifyFn classify, void *classify_ctx,
			 HttpResponse *resp, ClError *err)
{
	const char *method = req->method != NULL ? req->method : "GET";
	const char *what = req->what != NULL ? req->what : "HTTP request";
	struct curl_slist *headers = NULL;
	RetryState st;
	int64_t start_ms = http_monotonic_ms();
	bool headers_ok = true;
	bool ok = false;

	http_response_reset(resp);
	if (req->url == NULL)
	{
		log_error("BUG: %s without a URL", what);
		*err = CL_ERR_INTERNAL;
		return false;
	}
	headers = http_build_headers(req, &headers_ok);
	if (!headers_ok)
	{
		log_error("%s: out of memory preparing %s %s", what, method, req->url);
		*err = CL_ERR_INTERNAL;
		goto cleanup;
	}
	if (!http_setup(c, req, method, headers))
	{
		*err = CL_ERR_INTERNAL;
		goto cleanup;   /* errors have already been logged */
	}
	c->seq++;
	retry_start(&st, (uint64_t) time_now() ^ ((uint64_t) getpid() << 32) ^ c->seq);

	for (;;)
	{
		CURLcode rc;
		long status;
		long connects = 0;
		int64_t attempt_start = http_monotonic_ms();
		int64_t attempt_ms;
		int64_t server_delay = -1;
		int64_t sleep_ms = 0;
		int64_t classify_delay = -1;
		HttpVerdict verdict = HTTP_VERDICT_DEFAULT;
		bool transient;
		char failed[CURL_ERROR_SIZE + 128];
		char excerpt[HTTP_EXCERPT_LEN + 8];
		char reqid[160] = "";

		resp->attempts++;
		resp->status = 0;
		free(resp->error_body);
		resp->error_body = NULL;
		resp->error_body_len = 0;
		http_clear_headers(resp);
		c->errbuf[0] = '\0';
		c->resp = resp;
		c->sink = sink;
		c->sink_failed = false;
		c->attempt_bytes = 0;
		if (sink != NULL && sink->begin != NULL && !sink->begin(sink->ctx))
		{
			log_error("%s: cannot prepare for the response of %s %s (attempt %d)", what,
					  method, req->url, resp->attempts);
			*err = CL_ERR_DATA;
			goto cleanup;
		}

		rc = curl_easy_perform(c->curl);

		if (resp->status == 0)
			(void) curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &resp->status);
		(void) curl_easy_getinfo(c->curl, CURLINFO_NUM_CONNECTS, &connects);
		status = resp->status;
		attempt_ms = http_monotonic_ms() - attempt_start;
		resp->elapsed_ms = http_monotonic_ms() - start_ms;
		c->stats.requests++;
		c->stats.connections += connects;
		c->stats.bytes += c->attempt_bytes;
		if (resp->request_id[0] != '\0')
			snprintf(reqid, sizeof(reqid), " (request id %s)", resp->request_id);
		log_debug("%s %s: HTTP %ld, %lld bytes in %lld ms%s%s", method, req->url, status,
				  (long long) c->attempt_bytes, (long long) attempt_ms,
				  rc != CURLE_OK ? ", curl: " : "", rc != CURLE_OK ? curl_easy_strerror(rc) : "");

		if (c->sink_failed)
		{
			log_error("%s: the response body of %s %s was rejected (HTTP %ld, attempt %d)%s",
					  what, method, req->url, status, resp->attempts, reqid);
			*err = CL_ERR_DATA;
			goto cleanup;
		}
		if (rc == CURLE_OK && status >= 200 && status < 300)
		{
			if (sink != NULL && sink->finish != NULL && !sink->finish(sink->ctx))
			{
				log_error("%s: the response body of %s %s is incomplete or invalid "
						  "(HTTP %ld, attempt %d)%s", what, method, req->url, status,
						  resp->attempts, reqid);
				*err = CL_ERR_DATA;
				goto cleanup;
			}
			if (resp->attempts > 1)
				log_info("%s: %s succeeded after %d attempts in %.1f s", what, req->url,
						 resp->attempts, (double) resp->elapsed_ms / 1000.0);
			ok = true;
			goto cleanup;
		}

		http_what_failed(c, rc, status, failed, sizeof(failed));
		transient = rc != CURLE_OK ? http_curl_transient(rc) : http_status_transient(status);
		if (classify != NULL)
			verdict = classify(classify_ctx, resp, &classify_delay);
		switch (verdict)
		{
			case HTTP_VERDICT_DEFAULT:
				break;
			case HTTP_VERDICT_RETRY:
				transient = true;
				if (classify_delay >= 0)
					server_delay = classify_delay;
				break;
			case HTTP_VERDICT_FAIL:
				transient = false;
				break;
			case HTTP_VERDICT_REAUTH:
				/* the caller refreshes the credentials and asks again: not
				 * an error yet, so not logged as one */
				log_warn("%s: %s from %s %s: the credentials were not accepted%s",
						 what, failed, method, req->url, reqid);
				*err = CL_ERR_CONFIG;
				goto cleanup;
		}
		if (transient && server_delay < 0 && resp->retry_after[0] != '\0')
			server_delay = retry_after_parse(resp->retry_after, time_now());

		http_excerpt(resp, excerpt, sizeof(excerpt));
		if (!transient)
		{
			*err = http_err_class(rc, status);
			log_error("%s: %s %s failed: %s after %d attempt%s in %.1f s%s: %s; %s", what,
					  method, req->url, failed, resp->attempts, resp->attempts == 1 ? "" : "s",
					  (double) resp->elapsed_ms / 1000.0, reqid, excerpt,
					  http_hint(rc, status, false));
			goto cleanup;
		}
		if (!retry_next(&c->opts.retry, &st, server_delay, &sleep_ms))
		{
			char why[128] = "";

			if (cl_stop_requested())
				snprintf(why, sizeof(why), " (stop requested)");
			else if (server_delay >= 0 && resp->attempts < c->opts.retry.max_attempts)
				snprintf(why, sizeof(why), " (the server asked to wait %.1f s, beyond the "
						 "retry budget)", (double) server_delay / 1000.0);
			*err = CL_ERR_TEMPORARY;
			log_error("%s: %s %s failed: %s after %d attempt%s in %.1f s%s%s: %s; %s", what,
					  method, req->url, failed, resp->attempts, resp->attempts == 1 ? "" : "s",
					  (double) resp->elapsed_ms / 1000.0, why, reqid, excerpt,
					  http_hint(rc, status, true));
			goto cleanup;
		}
		c->stats.retries++;
		log_warn("%s: %s from %s, retry %d/%d in %.1f s%s", what, failed, req->url,
				 resp->attempts + 1, c->opts.retry.max_attempts, (double) sleep_ms / 1000.0,
				 reqid);
		if (!retry_sleep_ms(sleep_ms))
		{
			log_error("%s: stop requested while waiting to retry %s %s (%s)", what, method,
					  req->url, failed);
			*err = CL_ERR_TEMPORARY;
			goto cleanup;
		}
	}

cleanup:
	resp->elapsed_ms = http_monotonic_ms() - start_ms;
	c->resp = NULL;
	c->sink = NULL;
	curl_slist_free_all(headers);
	/* the slist is gone: make sure the handle no longer points to it */
	if (c->curl != NULL)
		(void) curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
	if (ok)
		*err = CL_OK;
	return ok;
}

/* The in-memory sink of http_request_small. */
typedef struct HttpSmallSink
{
	char *buf;                  /* owned until handed to the caller */
	size_t len;
	size_t cap;
	size_t max;
	const char *what;
	const char *url;
} HttpSmallSink;

static bool
http_small_begin(void *ctx)
{
	HttpSmallSink *s = ctx;
	s->len = 0;
	return true;
}

static bool
http_small_write(void *ctx, const char *data, size_t len)
{
	HttpSmallSink *s = ctx;

	if (len > s->max - s->len)
	{
		log_error("%s: the response of %s is larger than %zu bytes", s->what, s->url, s->max);
		return false;
	}
	if (s->len + len + 1 > s->cap)
	{
		size_t cap = s->cap == 0 ? 1024 : s->cap;
		char *grown;

		while (cap < s->len + len + 1)
			cap *= 2;
		grown = realloc(s->buf, cap);
		if (grown == NULL)
		{
			log_error("%s: out of memory reading the response of %s", s->what, s->url);
			return false;
		}
		s->buf = grown;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, data, len);
	s->len += len;
	s->buf[s->len] = '\0';
	return true;
}

static bool
http_small_finish(void *ctx)
{
	HttpSmallSink *s = ctx;

	if (s->buf == NULL)
	{
		s->buf = malloc(1);
		if (s->buf == NULL)
		{
			log_error("%s: out of memory reading the response of %s", s->what, s->url);
			return false;
		}
		s->cap = 1;
		s->buf[0] = '\0';
	}
	return true;
}

bool
http_request_small(HttpClient *c, const HttpRequest *req, size_t max,
				   char **out, size_t *outlen, HttpResponse *resp,
				   ClError *err)
{
	HttpSmallSink small = {0};
	HttpSink sink = {0};

	small.max = max;
	small.what = req->what != NULL ? req->what : "HTTP request";
	small.url = req->url != NULL ? req->url : "";
	sink.begin = http_small_begin;
	sink.write = http_small_write;
	sink.finish = http_small_finish;
	sink.ctx = &small;
	*out = NULL;
	if (outlen != NULL)
		*outlen = 0;
	if (!http_request(c, req, &sink, NULL, NULL, resp, err))
	{
		free(small.buf);
		return false;   /* errors have already been logged */
	}
	*out = small.buf;
	if (outlen != NULL)
		*outlen = small.len;
	return true;
}

/*
 * http_url_encode: curl's escaping (RFC 3986 unreserved characters kept),
 * copied so that callers free with free() rather than curl_free().
 */
char *
http_url_encode(const char *s)
{
	char *escaped;
	char *copy;

	if (s == NULL)
		return NULL;
	escaped = curl_easy_escape(NULL, s, 0);
	if (escaped == NULL)
	{
		log_error("out of memory encoding a URL component");
		return NULL;
	}
	copy = strdup(escaped);
	curl_free(escaped);
	if (copy == NULL)
		log_error("out of memory encoding a URL component");
	return copy;
}
