/*
 * main.c: cl-fixture-server's command line, the libmicrohttpd daemon and
 * the per-request dispatch (admin endpoints, routes, auth, faults).
 *
 *   cl-fixture-server --routes FILE [--root DIR] [--port N] [--port-file F]
 *                     [--latency-ms N] [--log FILE] [--stream-batch N]
 *                     [--max-inflight N]
 *
 * It binds 127.0.0.1 only and runs until SIGTERM or SIGINT.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "exitcode.h"
#include "fixture.h"

#define REQUEST_BODY_MAX ((size_t) 1 << 20)
#define CONNECTION_TIMEOUT_S 120
#define TRUNCATE_BLOCK 1024

/* Per-request state, created when the request line arrives. */
typedef struct Request
{
	char *raw_uri;          /* owned: the URI as sent, with its query */
	struct timespec start;
	bool started;           /* the access handler has seen the headers */
	Buf body;               /* request body, first REQUEST_BODY_MAX bytes */
} Request;

/* The body of a truncated response and where to cut it. */
typedef struct Truncated
{
	char *data;             /* owned, malloc'ed */
	size_t len;
	size_t cut;
} Truncated;

static void
usage(FILE *fp)
{
	fprintf(fp,
			"usage: cl-fixture-server --routes FILE [--root DIR] [--port N]\n"
			"                         [--port-file F] [--latency-ms N] [--log FILE]\n"
			"                         [--stream-batch N] [--max-inflight N]\n"
			"Serves vendor-shaped API pages from data files on 127.0.0.1 until\n"
			"SIGTERM or SIGINT. See tests/fixture_server/README.md.\n");
}

/*
 * sleep_ms sleeps the whole duration even when a signal interrupts it.
 */
static void
sleep_ms(unsigned long ms)
{
	struct timespec ts;

	ts.tv_sec = (time_t) (ms / 1000);
	ts.tv_nsec = (long) (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
	{
	}
}

static unsigned long
elapsed_ms(const struct timespec *start)
{
	struct timespec now;
	long long ms;

	(void) clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (long long) (now.tv_sec - start->tv_sec) * 1000LL +
		(now.tv_nsec - start->tv_nsec) / 1000000L;
	return ms < 0 ? 0 : (unsigned long) ms;
}

/*
 * request_begin runs when the request line has been read; it is the one
 * place that sees the URI with its query string exactly as the client sent
 * it. Returns an ALLOCATED Request that MHD hands to every later callback;
 * request_end frees it.
 */
static void *
request_begin(void *cls, const char *uri, struct MHD_Connection *conn)
{
	Request *req = calloc(1, sizeof(Request));

	if (req == NULL)
	{
		return NULL;
	}
	req->raw_uri = strdup(uri);
	if (req->raw_uri == NULL)
	{
		free(req);
		return NULL;
	}
	(void) clock_gettime(CLOCK_MONOTONIC, &req->start);
	buf_init(&req->body, REQUEST_BODY_MAX);
	return req;
}

static void
request_end(void *cls, struct MHD_Connection *conn, void **con_cls,
			enum MHD_RequestTerminationCode toe)
{
	Request *req = *con_cls;

	if (req == NULL)
	{
		return;
	}
	buf_free(&req->body);
	free(req->raw_uri);
	free(req);
	*con_cls = NULL;
}

static ssize_t
truncated_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	Truncated *t = cls;
	size_t n;

	if (pos >= t->cut)
	{
		return MHD_CONTENT_READER_END_WITH_ERROR;
	}
	n = t->cut - (size_t) pos;
	if (n > max)
	{
		n = max;
	}
	memcpy(buf, t->data + pos, n);
	return (ssize_t) n;
}

static void
truncated_free(void *cls)
{
	Truncated *t = cls;

	free(t->data);
	free(t);
}

/*
 * send_reply queues reply on the connection. A truncated reply announces
 * the full Content-Length but the stream errors out half-way, which is what
 * a connection reset mid-body looks like to the client.
 */
static enum MHD_Result
send_reply(struct MHD_Connection *conn, Reply *reply, const char *request_id,
		   bool truncate)
{
	struct MHD_Response *resp = NULL;
	char *data;
	size_t len = 0;
	enum MHD_Result ret;

	data = buf_steal(&reply->body, &len);
	if (data == NULL)
	{
		static const char oom[] = "{\"error\":\"out of memory\"}";

		reply->status = 500;
		resp = MHD_create_response_from_buffer(sizeof(oom) - 1, (void *) oom,
											   MHD_RESPMEM_PERSISTENT);
	}
	else if (truncate)
	{
		Truncated *t = calloc(1, sizeof(Truncated));

		if (t == NULL)
		{
			free(data);
			return MHD_NO;
		}
		t->data = data;
		t->len = len;
		t->cut = len / 2;
		resp = MHD_create_response_from_callback(len, TRUNCATE_BLOCK, truncated_read, t,
												 truncated_free);
		if (resp == NULL)
		{
			truncated_free(t);
		}
	}
	else
	{
		resp = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
		if (resp == NULL)
		{
			free(data);
		}
	}
	if (resp == NULL)
	{
		return MHD_NO;
	}
	(void) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, reply->content_type);
	if (request_id != NULL)
	{
		(void) MHD_add_response_header(resp, "X-Request-Id", request_id);
	}
	if (reply->retry_after[0] != '\0')
	{
		(void) MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, reply->retry_after);
	}
	if (reply->extra_header[0] != '\0')
	{
		/* "Name: value", checked when the fault was queued */
		char *colon = strchr(reply->extra_header, ':');

		*colon = '\0';
		(void) MHD_add_response_header(resp, reply->extra_header, colon + 1 + strspn(colon + 1, " "));
	}
	ret = MHD_queue_response(conn, reply->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/*
 * fault_reply fills reply for the faults that replace the response
 * outright. Returns false for the kinds that shape a normal response.
 */
static bool
fault_reply(const Fault *fault, const char *request_id, Reply *reply)
{
	switch (fault->kind)
	{
		case FAULT_429:
			reply->status = 429;
			buf_puts(&reply->body, "{\"status\":\"error\",\"message\":\"You have reached your "
					 "secondly limit.\",\"errorType\":\"RATE_LIMIT\",\"policyName\":\"SECONDLY\","
					 "\"correlationId\":\"");
			buf_puts(&reply->body, request_id);
			buf_puts(&reply->body, "\"}");
			if (fault->retry_after != NULL)
			{
				(void) snprintf(reply->retry_after, sizeof(reply->retry_after), "%s",
								fault->retry_after);
			}
			return true;
		case FAULT_500:
			reply_json(reply, 500, "{\"status\":\"error\",\"message\":\"internal server error\"}");
			return true;
		case FAULT_503:
			reply_json(reply, 503, "{\"status\":\"error\",\"message\":\"service unavailable\"}");
			return true;
		case FAULT_STATUS:
			reply->status = fault->status;
			buf_printf(&reply->body, "{\"status\":\"error\",\"message\":\"injected status %u\"}",
					   fault->status);
			return true;
		case FAULT_EXPIRE:
			reply_json(reply, 401, "{\"status\":\"error\",\"category\":\"EXPIRED_AUTHENTICATION\","
					   "\"message\":\"The OAuth token used to make this call expired\"}");
			return true;
		case FAULT_NONE:
		case FAULT_SLOW:
		case FAULT_TRUNCATE:
		case FAULT_MALFORMED:
		case FAULT_DROP:
		case FAULT_HEADER:
			break;
	}
	return false;
}

/*
 * find_continuation recognises GET <base>/<token>-<offset> for a query
 * locator registered by an earlier nexturl page. On success *datafile is
 * ALLOCATED (caller frees with free()).
 */
static bool
find_continuation(Server *srv, const char *method, const char *path, size_t *route,
				  char **datafile, unsigned long *offset, char **base)
{
	const char *slash = strrchr(path, '/');
	const char *dash;
	char token[32];
	size_t tlen;

	if (strcmp(method, "GET") != 0 || slash == NULL || slash == path)
	{
		return false;
	}
	dash = strrchr(slash, '-');
	if (dash == NULL || !parse_ulong(dash + 1, 0, (unsigned long) -1, offset))
	{
		return false;
	}
	tlen = (size_t) (dash - slash - 1);
	if (tlen == 0 || tlen >= sizeof(token))
	{
		return false;
	}
	memcpy(token, slash + 1, tlen);
	token[tlen] = '\0';
	*base = strndup(path, (size_t) (slash - path));
	if (*base == NULL)
	{
		return false;
	}
	if (!control_cursor_lookup(srv, *base, token, route, datafile))
	{
		free(*base);
		*base = NULL;
		return false;
	}
	return true;
}

/*
 * fault_body replaces an injected error's body by a file under the root
 * (a vendor's own error document, such as a Graph rate-limit error). A
 * file that cannot be read turns the answer into a 500 that says so.
 */
static void
fault_body(Server *srv, const char *rel, Reply *reply)
{
	size_t n = strlen(srv->root) + strlen(rel) + 2;
	char *path = malloc(n);
	char *text = NULL;
	size_t len = 0;
	bool missing = false;

	buf_reset(&reply->body);
	if (path == NULL)
	{
		reply_json(reply, 500, "{\"error\":\"out of memory\"}");
		return;
	}
	(void) snprintf(path, n, "%s/%s", srv->root, rel);
	if (!read_file(path, REQUEST_BODY_MAX, &text, &len, &missing))
	{
		reply_json(reply, 500, "{\"error\":\"cannot read the fault's body= file\"}");
		free(path);
		return;
	}
	buf_append(&reply->body, text, len);
	reply->content_type = "application/json";
	free(text);
	free(path);
}

/*
 * handle_data answers one request for a vendor route: route match, auth,
 * queued fault, latency, then the page. The request is logged with the
 * status it got.
 */
static enum MHD_Result
handle_data(Server *srv, Request *req, struct MHD_Connection *conn, const char *url,
			const char *method)
{
	char request_id[32];
	char *raw_path = NULL;
	const char *raw_query;
	const char *qmark;
	const Route *route = NULL;
	size_t route_index = 0;
	RouteVars vars;
	char *datafile = NULL;
	char *base = NULL;
	unsigned long cont_offset = 0;
	bool is_cont;
	bool is_job = false;
	bool job_results = false;
	Job job;
	bool auth_ok = true;
	Fault fault;
	Reply reply;
	enum MHD_Result ret = MHD_NO;
	size_t i;
	unsigned status;
	bool too_many = false;

	reply_init(&reply);
	memset(&fault, 0, sizeof(fault));
	memset(&job, 0, sizeof(job));
	(void) snprintf(request_id, sizeof(request_id), "fx-%08lx",
					atomic_fetch_add(&srv->request_seq, 1) + 1);
	qmark = strchr(req->raw_uri, '?');
	raw_query = qmark != NULL ? qmark + 1 : "";
	raw_path = strndup(req->raw_uri, qmark != NULL ? (size_t) (qmark - req->raw_uri)
					   : strlen(req->raw_uri));
	if (raw_path == NULL)
	{
		goto cleanup;
	}

	vars.count = 0;
	is_cont = find_continuation(srv, method, url, &route_index, &datafile, &cont_offset, &base);
	if (!is_cont)
	{
		is_job = jobs_lookup(srv, method, url, &job, &job_results);
	}
	if (is_job)
	{
		route_index = job.route;
		route = &srv->routes.routes[route_index];
	}
	else if (is_cont)
	{
		route = &srv->routes.routes[route_index];
	}
	else
	{
		for (i = 0; i < srv->routes.count; i++)
		{
			if (route_match(&srv->routes.routes[i], method, url, &vars))
			{
				route = &srv->routes.routes[i];
				route_index = i;
				break;
			}
		}
	}
	if (route != NULL)
	{
		auth_ok = route_auth_ok(route, conn);
	}

	/* Mailchimp's limit of simultaneous connections: requests beyond
	 * --max-inflight get its 429 problem document at once */
	if (srv->max_inflight > 0)
	{
		too_many = atomic_fetch_add(&srv->inflight, 1) + 1 > srv->max_inflight;
	}
	if (too_many)
	{
		reply.status = 429;
		reply.content_type = "application/problem+json";
		buf_printf(&reply.body, "{\"type\":\"https://mailchimp.com/developer/marketing/docs/"
				   "errors/\",\"title\":\"Too Many Requests\",\"status\":429,\"detail\":"
				   "\"You have exceeded the limit of %lu simultaneous connections.\","
				   "\"instance\":\"%s\"}", srv->max_inflight, request_id);
		status = reply.status;
		ret = send_reply(conn, &reply, request_id, false);
		control_log_request(srv, method, url, raw_query, status, auth_ok,
							elapsed_ms(&req->start), request_id, FAULT_429);
		goto cleanup;
	}
	(void) control_take_fault(srv, url, &fault);
	if (srv->latency_ms > 0)
	{
		sleep_ms(srv->latency_ms);
	}
	if (fault.kind == FAULT_SLOW)
	{
		sleep_ms(fault.delay_ms);
	}
	if (fault.kind == FAULT_DROP)
	{
		/* MHD_NO makes libmicrohttpd close the socket without answering */
		control_log_request(srv, method, url, raw_query, 0, auth_ok,
							elapsed_ms(&req->start), request_id, fault.kind);
		goto cleanup;
	}

	if (!fault_reply(&fault, request_id, &reply))
	{
		if (route == NULL)
		{
			reply_json(&reply, 404, "{\"error\":\"not found\"}");
		}
		else if (!auth_ok)
		{
			reply_json(&reply, 401,
					   "{\"status\":\"error\",\"message\":\"missing or invalid credentials\"}");
		}
		else
		{
			PageRequest page;

			if (is_job)
			{
				datafile = strdup(job.datafile);
			}
			else if (!is_cont)
			{
				datafile = route_datafile(route, &vars, srv->root, conn,
										  req->body.data, req->body.len);
			}
			if (datafile == NULL)
			{
				reply_json(&reply, 404, "{\"error\":\"not found\"}");
			}
			else
			{
				memset(&page, 0, sizeof(page));
				page.srv = srv;
				page.route = route;
				page.route_index = route_index;
				page.conn = conn;
				page.raw_path = raw_path;
				page.raw_query = raw_query;
				page.request_id = request_id;
				page.datafile = datafile;
				page.is_continuation = is_cont;
				page.continuation = cont_offset;
				page.base_path = is_cont ? base : url;
				page.job = is_job ? &job : NULL;
				page.job_results = job_results;
				page.body = req->body.data;
				page.body_len = req->body.len;
				pages_render(&page, &reply);
			}
		}
		if (fault.kind == FAULT_MALFORMED && !reply.body.failed)
		{
			/* ",,," is invalid wherever it lands, even inside a string that
			 * then never closes */
			if (reply.body.len >= 5)
			{
				reply.body.len -= 5;
			}
			buf_puts(&reply.body, ",,,}]");
		}
	}
	/* kind=status also serves body= with a 2xx status: a 200 whose body
	 * carries the vendor's error (an error batch inside a stream) */
	if (fault.body != NULL && (reply.status >= 300 || fault.kind == FAULT_STATUS))
	{
		fault_body(srv, fault.body, &reply);
	}
	if (fault.header != NULL)
	{
		(void) snprintf(reply.extra_header, sizeof(reply.extra_header), "%s", fault.header);
	}
	status = reply.status;
	ret = send_reply(conn, &reply, request_id, fault.kind == FAULT_TRUNCATE);
	control_log_request(srv, method, url, raw_query, status, auth_ok,
						elapsed_ms(&req->start), request_id, fault.kind);

cleanup:
	if (srv->max_inflight > 0 && raw_path != NULL)
	{
		(void) atomic_fetch_sub(&srv->inflight, 1);
	}
	fault_clear(&fault);
	job_clear(&job);
	reply_free(&reply);
	free(raw_path);
	free(datafile);
	free(base);
	return ret;
}

/*
 * handle is libmicrohttpd's access handler: called once when the headers
 * are in, once per chunk of request body, and once more when the body is
 * complete. Only that last call answers.
 */
static enum MHD_Result
handle(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
	   const char *version, const char *upload_data, size_t *upload_data_size,
	   void **con_cls)
{
	Server *srv = cls;
	Request *req = *con_cls;
	Reply reply;
	enum MHD_Result ret;

	if (req == NULL)
	{
		return MHD_NO;
	}
	if (!req->started)
	{
		req->started = true;
		return MHD_YES;
	}
	if (*upload_data_size > 0)
	{
		/* the body only matters for {from}; beyond the cap it is ignored */
		if (req->body.len + *upload_data_size <= req->body.max)
		{
			buf_append(&req->body, upload_data, *upload_data_size);
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (strncmp(url, "/_fixture/", strlen("/_fixture/")) != 0)
	{
		return handle_data(srv, req, conn, url, method);
	}
	reply_init(&reply);
	control_admin(srv, conn, method, url, &reply);
	ret = send_reply(conn, &reply, NULL, false);
	reply_free(&reply);
	return ret;
}

/*
 * write_port_file publishes the bound port atomically (temporary file, then
 * rename), so a waiting test never reads a half-written number.
 */
static bool
write_port_file(const char *path, unsigned port)
{
	char tmp[4096];
	FILE *fp;
	int n;

	n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long) getpid());
	if (n < 0 || (size_t) n >= sizeof(tmp))
	{
		fprintf(stderr, "cl-fixture-server: port file path too long: %s\n", path);
		return false;
	}
	fp = fopen(tmp, "w");
	if (fp == NULL)
	{
		fprintf(stderr, "cl-fixture-server: cannot write %s: %s\n", tmp, strerror(errno));
		return false;
	}
	fprintf(fp, "%u\n", port);
	if (fclose(fp) != 0)
	{
		fprintf(stderr, "cl-fixture-server: cannot write %s: %s\n", tmp, strerror(errno));
		(void) unlink(tmp);
		return false;
	}
	if (rename(tmp, path) != 0)
	{
		fprintf(stderr, "cl-fixture-server: cannot rename %s to %s: %s\n", tmp, path,
				strerror(errno));
		(void) unlink(tmp);
		return false;
	}
	return true;
}

/*
 * preload loads the data sets whose file name has no placeholder, so that a
 * broken data file stops the server at start instead of failing one page.
 */
static bool
preload(Server *srv)
{
	size_t i;

	for (i = 0; i < srv->routes.count; i++)
	{
		const Route *r = &srv->routes.routes[i];
		const Dataset *d = NULL;
		RouteVars none;
		char *path;
		DataStatus st;

		if (r->mode == MODE_FILE || strchr(r->datafile, '{') != NULL)
		{
			continue;
		}
		none.count = 0;
		path = route_datafile(r, &none, srv->root, NULL, NULL, 0);
		if (path == NULL)
		{
			fprintf(stderr, "cl-fixture-server: out of memory\n");
			return false;
		}
		st = datacache_get(&srv->data, path, &d);
		if (st == DATA_MISSING)
		{
			fprintf(stderr, "cl-fixture-server: warning: line %d: no data file %s "
					"(requests will get 404)\n", r->line, path);
		}
		free(path);
		if (st == DATA_INVALID)
		{
			return false;
		}
	}
	return true;
}

/*
 * default_root is the directory of the routes file. Returns an ALLOCATED
 * string (caller frees with free()).
 */
static char *
default_root(const char *routes)
{
	const char *slash = strrchr(routes, '/');

	if (slash == NULL)
	{
		return strdup(".");
	}
	if (slash == routes)
	{
		return strdup("/");
	}
	return strndup(routes, (size_t) (slash - routes));
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "routes", required_argument, NULL, 'r' },
		{ "root", required_argument, NULL, 'd' },
		{ "port", required_argument, NULL, 'p' },
		{ "port-file", required_argument, NULL, 'f' },
		{ "latency-ms", required_argument, NULL, 'l' },
		{ "log", required_argument, NULL, 'L' },
		{ "stream-batch", required_argument, NULL, 'b' },
		{ "max-inflight", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	Server srv;
	const char *routes_path = NULL;
	const char *root = NULL;
	const char *port_file = NULL;
	const char *log_path = NULL;
	unsigned long port = 0;
	struct MHD_Daemon *daemon = NULL;
	const union MHD_DaemonInfo *info;
	struct sockaddr_in addr;
	struct sigaction sa;
	sigset_t stop;
	int sig = 0;
	int opt;
	int code = EXIT_CODE_SOFTWARE;

	memset(&srv, 0, sizeof(srv));
	srv.stream_batch = 10000;
	atomic_init(&srv.request_seq, 0);
	atomic_init(&srv.inflight, 0);
	datacache_init(&srv.data);
	control_init(&srv);

	for (;;)
	{
		opt = getopt_long(argc, argv, "", longopts, NULL);
		if (opt == -1)
		{
			break;
		}
		switch (opt)
		{
			case 'r':
				routes_path = optarg;
				break;
			case 'd':
				root = optarg;
				break;
			case 'p':
				if (!parse_ulong(optarg, 0, 65535, &port))
				{
					fprintf(stderr, "cl-fixture-server: --port wants 0..65535\n");
					code = EXIT_CODE_USAGE;
					goto cleanup;
				}
				break;
			case 'f':
				port_file = optarg;
				break;
			case 'l':
				if (!parse_ulong(optarg, 0, 600000, &srv.latency_ms))
				{
					fprintf(stderr, "cl-fixture-server: --latency-ms wants 0..600000\n");
					code = EXIT_CODE_USAGE;
					goto cleanup;
				}
				break;
			case 'L':
				log_path = optarg;
				break;
			case 'm':
				if (!parse_ulong(optarg, 1, 100000, &srv.max_inflight))
				{
					fprintf(stderr, "cl-fixture-server: --max-inflight wants 1..100000\n");
					code = EXIT_CODE_USAGE;
					goto cleanup;
				}
				break;
			case 'b':
				if (!parse_ulong(optarg, 1, 100000000, &srv.stream_batch))
				{
					fprintf(stderr, "cl-fixture-server: --stream-batch wants a number >= 1\n");
					code = EXIT_CODE_USAGE;
					goto cleanup;
				}
				break;
			case 'h':
				usage(stdout);
				code = EXIT_CODE_OK;
				goto cleanup;
			default:
				usage(stderr);
				code = EXIT_CODE_USAGE;
				goto cleanup;
		}
	}
	if (routes_path == NULL || optind != argc)
	{
		usage(stderr);
		code = EXIT_CODE_USAGE;
		goto cleanup;
	}
	srv.root = root != NULL ? strdup(root) : default_root(routes_path);
	if (srv.root == NULL)
	{
		fprintf(stderr, "cl-fixture-server: out of memory\n");
		goto cleanup;
	}
	if (!routes_load(routes_path, &srv.routes) || !preload(&srv))
	{
		code = EXIT_CODE_CONFIG;
		goto cleanup;
	}
	if (log_path != NULL)
	{
		srv.log_fp = fopen(log_path, "a");
		if (srv.log_fp == NULL)
		{
			fprintf(stderr, "cl-fixture-server: cannot open %s: %s\n", log_path,
					strerror(errno));
			code = EXIT_CODE_CANTCREAT;
			goto cleanup;
		}
	}

	/* Block the stop signals before MHD starts its threads so that they
	 * inherit the mask and only sigwait() below ever sees them. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	(void) pthread_sigmask(SIG_BLOCK, &stop, NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	(void) sigaction(SIGPIPE, &sa, NULL);

	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t) port);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	daemon = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL_INTERNAL_THREAD |
							  MHD_USE_ERROR_LOG,
							  (uint16_t) port, NULL, NULL, handle, &srv,
							  MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &addr,
							  MHD_OPTION_URI_LOG_CALLBACK, request_begin, &srv,
							  MHD_OPTION_NOTIFY_COMPLETED, request_end, &srv,
							  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) CONNECTION_TIMEOUT_S,
							  MHD_OPTION_END);
	if (daemon == NULL)
	{
		fprintf(stderr, "cl-fixture-server: cannot listen on 127.0.0.1:%lu\n", port);
		code = EXIT_CODE_UNAVAILABLE;
		goto cleanup;
	}
	info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
	if (info == NULL || info->port == 0)
	{
		fprintf(stderr, "cl-fixture-server: cannot tell which port was bound\n");
		goto cleanup;
	}
	srv.port = info->port;
	if (port_file != NULL && !write_port_file(port_file, srv.port))
	{
		code = EXIT_CODE_CANTCREAT;
		goto cleanup;
	}
	fprintf(stderr, "cl-fixture-server: listening on 127.0.0.1:%u (%zu routes, root %s)\n",
			(unsigned) srv.port, srv.routes.count, srv.root);

	for (;;)
	{
		if (sigwait(&stop, &sig) == 0)
		{
			break;
		}
	}
	fprintf(stderr, "cl-fixture-server: %s, stopping\n", strsignal(sig));
	code = EXIT_CODE_OK;

cleanup:
	if (daemon != NULL)
	{
		MHD_stop_daemon(daemon);
	}
	if (srv.log_fp != NULL)
	{
		(void) fclose(srv.log_fp);
	}
	routes_free(&srv.routes);
	datacache_free(&srv.data);
	jobs_free(&srv);
	control_free(&srv);
	free(srv.root);
	return code;
}
