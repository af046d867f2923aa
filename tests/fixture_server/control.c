/*
 * control.c: the state tests steer and inspect through /_fixture/...:
 * the fault queue, the request log and the Salesforce query locators.
 */
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

#define REQUEST_LOG_MAX_BYTES ((size_t) 256 << 20)
#define DEFAULT_SLOW_MS 1000

static const struct
{
	const char *name;
	FaultKind kind;
} fault_kinds[] = {
	{ "429", FAULT_429 },
	{ "500", FAULT_500 },
	{ "503", FAULT_503 },
	{ "status", FAULT_STATUS },
	{ "slow", FAULT_SLOW },
	{ "truncate", FAULT_TRUNCATE },
	{ "malformed", FAULT_MALFORMED },
	{ "expire", FAULT_EXPIRE },
	{ "drop", FAULT_DROP },
	{ "header", FAULT_HEADER },
};

const char *
fault_kind_name(FaultKind kind)
{
	size_t i;

	for (i = 0; i < sizeof(fault_kinds) / sizeof(fault_kinds[0]); i++)
	{
		if (fault_kinds[i].kind == kind)
		{
			return fault_kinds[i].name;
		}
	}
	return "none";
}

void
reply_init(Reply *reply)
{
	reply->status = 200;
	buf_init(&reply->body, BUF_MAX_BYTES);
	reply->content_type = "application/json";
	reply->retry_after[0] = '\0';
	reply->extra_header[0] = '\0';
}

void
reply_free(Reply *reply)
{
	buf_free(&reply->body);
}

/*
 * reply_json replaces whatever the reply held with a small JSON body.
 */
void
reply_json(Reply *reply, unsigned status, const char *json)
{
	buf_reset(&reply->body);
	buf_puts(&reply->body, json);
	reply->status = status;
	reply->content_type = "application/json";
}

/*
 * fault_clear releases the strings of a fault (a queued one or a copy).
 */
void
fault_clear(Fault *fault)
{
	free(fault->prefix);
	free(fault->retry_after);
	free(fault->body);
	free(fault->header);
	fault->prefix = NULL;
	fault->retry_after = NULL;
	fault->body = NULL;
	fault->header = NULL;
	fault->kind = FAULT_NONE;
}

/*
 * faults_free empties a fault list. Caller holds the lock.
 */
static void
faults_free(Server *srv)
{
	Fault *f = srv->faults;

	while (f != NULL)
	{
		Fault *next = f->next;

		fault_clear(f);
		free(f);
		f = next;
	}
	srv->faults = NULL;
}

void
control_init(Server *srv)
{
	(void) pthread_mutex_init(&srv->lock, NULL);
	srv->faults = NULL;
	buf_init(&srv->request_log, REQUEST_LOG_MAX_BYTES);
	srv->cursors = NULL;
	srv->next_cursor = 1;
}

void
control_free(Server *srv)
{
	Cursor *c = srv->cursors;

	faults_free(srv);
	while (c != NULL)
	{
		Cursor *next = c->next;

		free(c->base);
		free(c->datafile);
		free(c);
		c = next;
	}
	srv->cursors = NULL;
	buf_free(&srv->request_log);
	(void) pthread_mutex_destroy(&srv->lock);
}

/*
 * control_take_fault consumes one use of the oldest queued fault whose
 * prefix matches, so that faults queued for the same path fire in order.
 */
bool
control_take_fault(Server *srv, const char *path, Fault *fault)
{
	Fault **link;
	bool found = false;

	memset(fault, 0, sizeof(*fault));
	(void) pthread_mutex_lock(&srv->lock);
	for (link = &srv->faults; *link != NULL; link = &(*link)->next)
	{
		Fault *f = *link;

		if (strncmp(path, f->prefix, strlen(f->prefix)) != 0)
		{
			continue;
		}
		*fault = *f;
		fault->next = NULL;
		fault->prefix = strdup(f->prefix);
		fault->retry_after = f->retry_after != NULL ? strdup(f->retry_after) : NULL;
		fault->body = f->body != NULL ? strdup(f->body) : NULL;
		fault->header = f->header != NULL ? strdup(f->header) : NULL;
		f->remaining--;
		if (f->remaining == 0)
		{
			*link = f->next;
			fault_clear(f);
			free(f);
		}
		found = true;
		break;
	}
	(void) pthread_mutex_unlock(&srv->lock);
	return found;
}

/*
 * control_log_request appends one JSON line to the in-memory log (served by
 * /_fixture/requests) and to the --log file.
 */
void
control_log_request(Server *srv, const char *method, const char *path,
					const char *query, unsigned status, bool auth_ok,
					unsigned long ms, const char *request_id, FaultKind fault)
{
	Buf line;

	buf_init(&line, 1 << 20);
	buf_puts(&line, "{\"method\":");
	buf_json_string(&line, method, strlen(method));
	buf_puts(&line, ",\"path\":");
	buf_json_string(&line, path, strlen(path));
	buf_puts(&line, ",\"query\":");
	buf_json_string(&line, query, strlen(query));
	buf_printf(&line, ",\"status\":%u,\"auth_ok\":%s,\"ms\":%lu,\"request_id\":",
			   status, auth_ok ? "true" : "false", ms);
	buf_json_string(&line, request_id, strlen(request_id));
	if (fault != FAULT_NONE)
	{
		const char *name = fault_kind_name(fault);

		buf_puts(&line, ",\"fault\":");
		buf_json_string(&line, name, strlen(name));
	}
	buf_puts(&line, "}\n");
	if (line.failed)
	{
		fprintf(stderr, "cl-fixture-server: request log line too long, dropped\n");
		buf_free(&line);
		return;
	}
	(void) pthread_mutex_lock(&srv->lock);
	buf_append(&srv->request_log, line.data, line.len);
	if (srv->log_fp != NULL)
	{
		(void) fwrite(line.data, 1, line.len, srv->log_fp);
		(void) fflush(srv->log_fp);
	}
	(void) pthread_mutex_unlock(&srv->lock);
	buf_free(&line);
}

/*
 * control_cursor_token gives one stable token per (route, first-page path,
 * data file): the token only has to find the records again, and reusing it
 * keeps the registry from growing with every query.
 */
bool
control_cursor_token(Server *srv, size_t route, const char *base,
					 const char *datafile, char *token, size_t tokensize)
{
	Cursor *c;
	bool ok = false;

	(void) pthread_mutex_lock(&srv->lock);
	for (c = srv->cursors; c != NULL; c = c->next)
	{
		if (c->route == route && strcmp(c->base, base) == 0 &&
			strcmp(c->datafile, datafile) == 0)
		{
			break;
		}
	}
	if (c == NULL)
	{
		c = calloc(1, sizeof(Cursor));
		if (c == NULL)
		{
			goto cleanup;
		}
		c->base = strdup(base);
		c->datafile = strdup(datafile);
		if (c->base == NULL || c->datafile == NULL)
		{
			free(c->base);
			free(c->datafile);
			free(c);
			goto cleanup;
		}
		c->route = route;
		/* shaped like a Salesforce query locator: 18 characters, 01g... */
		(void) snprintf(c->token, sizeof(c->token), "01gFX%013lu", srv->next_cursor++);
		c->next = srv->cursors;
		srv->cursors = c;
	}
	(void) snprintf(token, tokensize, "%s", c->token);
	ok = true;

cleanup:
	(void) pthread_mutex_unlock(&srv->lock);
	return ok;
}

bool
control_cursor_lookup(Server *srv, const char *base, const char *token,
					  size_t *route, char **datafile)
{
	Cursor *c;
	bool ok = false;

	(void) pthread_mutex_lock(&srv->lock);
	for (c = srv->cursors; c != NULL; c = c->next)
	{
		if (strcmp(c->token, token) == 0 && strcmp(c->base, base) == 0)
		{
			*datafile = strdup(c->datafile);
			*route = c->route;
			ok = *datafile != NULL;
			break;
		}
	}
	(void) pthread_mutex_unlock(&srv->lock);
	return ok;
}

/*
 * admin_fault queues a fault from the query of POST /_fixture/fault.
 */
static void
admin_fault(Server *srv, struct MHD_Connection *conn, Reply *reply)
{
	const char *path = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "path");
	const char *kind = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "kind");
	const char *times = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "times");
	const char *retry = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "retry_after");
	const char *delay = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "delay_ms");
	const char *status = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "status");
	const char *body = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "body");
	const char *header = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "header");
	Fault *f = NULL;
	Fault **tail;
	unsigned long v = 0;
	size_t i;

	f = calloc(1, sizeof(Fault));
	if (f == NULL)
	{
		reply_json(reply, 500, "{\"error\":\"out of memory\"}");
		return;
	}
	f->remaining = 1;
	f->delay_ms = DEFAULT_SLOW_MS;
	if (path == NULL || path[0] != '/')
	{
		reply_json(reply, 400, "{\"error\":\"path= must be a path prefix starting with /\"}");
		goto cleanup;
	}
	for (i = 0; kind != NULL && i < sizeof(fault_kinds) / sizeof(fault_kinds[0]); i++)
	{
		if (strcmp(kind, fault_kinds[i].name) == 0)
		{
			f->kind = fault_kinds[i].kind;
		}
	}
	if (f->kind == FAULT_NONE)
	{
		reply_json(reply, 400, "{\"error\":\"kind= must be one of 429, 500, 503, status, "
				   "slow, truncate, malformed, expire, drop, header\"}");
		goto cleanup;
	}
	if (times != NULL)
	{
		if (!parse_ulong(times, 1, 1000000, &v))
		{
			reply_json(reply, 400, "{\"error\":\"times= must be a whole number >= 1\"}");
			goto cleanup;
		}
		f->remaining = v;
	}
	if (delay != NULL)
	{
		if (!parse_ulong(delay, 0, 600000, &v))
		{
			reply_json(reply, 400, "{\"error\":\"delay_ms= must be 0..600000\"}");
			goto cleanup;
		}
		f->delay_ms = v;
	}
	if (f->kind == FAULT_STATUS)
	{
		if (status == NULL || !parse_ulong(status, 200, 599, &v))
		{
			reply_json(reply, 400, "{\"error\":\"kind=status needs status=200..599\"}");
			goto cleanup;
		}
		f->status = (unsigned) v;
	}
	if (retry != NULL)
	{
		if (strlen(retry) >= sizeof(reply->retry_after) || strpbrk(retry, "\r\n") != NULL)
		{
			reply_json(reply, 400, "{\"error\":\"retry_after= is too long or has a line break\"}");
			goto cleanup;
		}
		f->retry_after = strdup(retry);
		if (f->retry_after == NULL)
		{
			reply_json(reply, 500, "{\"error\":\"out of memory\"}");
			goto cleanup;
		}
	}
	/* body= names a file under the root: a plain relative path */
	if (body != NULL)
	{
		if (body[0] == '\0' || body[0] == '/' || strstr(body, "..") != NULL)
		{
			reply_json(reply, 400, "{\"error\":\"body= must be a file path relative to the root\"}");
			goto cleanup;
		}
		f->body = strdup(body);
		if (f->body == NULL)
		{
			reply_json(reply, 500, "{\"error\":\"out of memory\"}");
			goto cleanup;
		}
	}
	if (header != NULL)
	{
		if (strchr(header, ':') == NULL || header[0] == ':' || strpbrk(header, "\r\n") != NULL ||
			strlen(header) >= sizeof(reply->extra_header))
		{
			reply_json(reply, 400, "{\"error\":\"header= must be one Name: value line\"}");
			goto cleanup;
		}
		f->header = strdup(header);
		if (f->header == NULL)
		{
			reply_json(reply, 500, "{\"error\":\"out of memory\"}");
			goto cleanup;
		}
	}
	else if (f->kind == FAULT_HEADER)
	{
		reply_json(reply, 400, "{\"error\":\"kind=header needs header=Name: value\"}");
		goto cleanup;
	}
	f->prefix = strdup(path);
	if (f->prefix == NULL)
	{
		reply_json(reply, 500, "{\"error\":\"out of memory\"}");
		goto cleanup;
	}
	(void) pthread_mutex_lock(&srv->lock);
	tail = &srv->faults;
	while (*tail != NULL)
	{
		tail = &(*tail)->next;
	}
	*tail = f;
	(void) pthread_mutex_unlock(&srv->lock);
	reply->status = 200;
	buf_puts(&reply->body, "{\"queued\":true,\"path\":");
	buf_json_string(&reply->body, path, strlen(path));
	buf_printf(&reply->body, ",\"kind\":\"%s\",\"times\":%lu}", fault_kind_name(f->kind),
			   f->remaining);
	f = NULL;

cleanup:
	if (f != NULL)
	{
		fault_clear(f);
		free(f);
	}
}

/*
 * control_admin answers /_fixture/...; these requests are neither faulted
 * nor logged, so that steering a test never shows up in what it asserts.
 */
void
control_admin(Server *srv, struct MHD_Connection *conn, const char *method,
			  const char *path, Reply *reply)
{
	if (strcmp(path, "/_fixture/fault") == 0 && strcmp(method, "POST") == 0)
	{
		admin_fault(srv, conn, reply);
	}
	else if (strcmp(path, "/_fixture/requests") == 0 && strcmp(method, "GET") == 0)
	{
		(void) pthread_mutex_lock(&srv->lock);
		if (srv->request_log.len > 0)
		{
			buf_append(&reply->body, srv->request_log.data, srv->request_log.len);
		}
		(void) pthread_mutex_unlock(&srv->lock);
		reply->status = 200;
		reply->content_type = "application/x-ndjson";
	}
	else if (strcmp(path, "/_fixture/reset") == 0 && strcmp(method, "POST") == 0)
	{
		(void) pthread_mutex_lock(&srv->lock);
		faults_free(srv);
		buf_reset(&srv->request_log);
		(void) pthread_mutex_unlock(&srv->lock);
		reply_json(reply, 200, "{\"reset\":true}");
	}
	else if (strcmp(path, "/_fixture/fault") == 0 || strcmp(path, "/_fixture/requests") == 0 ||
			 strcmp(path, "/_fixture/reset") == 0)
	{
		reply_json(reply, 405, "{\"error\":\"method not allowed\"}");
	}
	else
	{
		reply_json(reply, 404, "{\"error\":\"not found\"}");
	}
}
