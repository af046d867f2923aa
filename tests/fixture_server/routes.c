/*
 * routes.c: the routes file, path matching, credential checks and the
 * resolution of a route's data file for one request.
 *
 * Routes file: one route per line, whitespace-separated, '#' starts a
 * comment (at the start of a line or after whitespace):
 *
 *   METHOD  PATH-PATTERN  AUTH  MODE  DATAFILE  [KEY]
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yajl/yajl_tree.h>

#include "fixture.h"

#define ROUTES_MAX_BYTES ((size_t) 4 << 20)
#define ROUTE_MAX_FIELDS 6
#define DATAFILE_VALUE_MAX 200

static const struct
{
	const char *name;
	RouteMode mode;
} route_modes[] = {
	{ "file", MODE_FILE },
	{ "cursor", MODE_CURSOR },
	{ "offset", MODE_OFFSET },
	{ "nexturl", MODE_NEXTURL },
	{ "stream", MODE_STREAM },
	{ "graph", MODE_GRAPH },
	{ "async", MODE_ASYNC },
	{ "search", MODE_SEARCH },
};

const char *
route_mode_name(RouteMode mode)
{
	size_t i;

	for (i = 0; i < sizeof(route_modes) / sizeof(route_modes[0]); i++)
	{
		if (route_modes[i].mode == mode)
		{
			return route_modes[i].name;
		}
	}
	return "?";
}

/*
 * route_clear frees what one route owns. NULL-safe.
 */
static void
route_clear(Route *r)
{
	size_t i;

	if (r == NULL)
	{
		return;
	}
	for (i = 0; i < r->nauth; i++)
	{
		free(r->auth[i].name);
		free(r->auth[i].value);
	}
	free(r->auth);
	free(r->method);
	free(r->pattern);
	free(r->datafile);
	free(r->key);
	memset(r, 0, sizeof(*r));
}

/*
 * routes_free releases the table; NULL-safe and idempotent.
 */
void
routes_free(RouteTable *table)
{
	size_t i;

	if (table == NULL)
	{
		return;
	}
	for (i = 0; i < table->count; i++)
	{
		route_clear(&table->routes[i]);
	}
	free(table->routes);
	table->routes = NULL;
	table->count = 0;
}

/*
 * dup_range returns an ALLOCATED copy of len bytes (caller frees with
 * free()), or NULL on out of memory.
 */
static char *
dup_range(const char *s, size_t len)
{
	char *d = malloc(len + 1);

	if (d == NULL)
	{
		return NULL;
	}
	memcpy(d, s, len);
	d[len] = '\0';
	return d;
}

/*
 * check_template validates {name} placeholders in a path pattern or a data
 * file name: names are [A-Za-z0-9_]+, braces balance, and two placeholders
 * never touch (where one ends and the next begins would be ambiguous).
 */
static bool
check_template(const char *s, const char *what, const char *file, int line,
			   size_t *nvars)
{
	const char *p = s;
	size_t n = 0;

	while (*p != '\0')
	{
		const char *q;

		if (*p == '}')
		{
			fprintf(stderr, "%s:%d: %s has an unmatched '}': %s\n", file, line, what, s);
			return false;
		}
		if (*p != '{')
		{
			p++;
			continue;
		}
		q = p + 1;
		while (isalnum((unsigned char) *q) || *q == '_')
		{
			q++;
		}
		if (*q != '}' || q == p + 1)
		{
			fprintf(stderr, "%s:%d: %s has a bad placeholder (want {name}): %s\n",
					file, line, what, s);
			return false;
		}
		if (q[1] == '{')
		{
			fprintf(stderr, "%s:%d: %s has two adjacent placeholders: %s\n",
					file, line, what, s);
			return false;
		}
		n++;
		p = q + 1;
	}
	*nvars = n;
	return true;
}

/*
 * parse_auth turns "none" or "bearer:T,basic:U:P,header:N=V,query:N=V" into
 * the route's requirement list. A value cannot contain ','.
 */
static bool
parse_auth(Route *r, const char *spec, const char *file, int line)
{
	const char *p = spec;
	size_t n = 1;
	const char *c;

	if (strcmp(spec, "none") == 0)
	{
		return true;
	}
	for (c = spec; *c != '\0'; c++)
	{
		if (*c == ',')
		{
			n++;
		}
	}
	r->auth = calloc(n, sizeof(AuthReq));
	if (r->auth == NULL)
	{
		fprintf(stderr, "cl-fixture-server: out of memory\n");
		return false;
	}
	while (*p != '\0')
	{
		size_t len = strcspn(p, ",");
		AuthReq *a = &r->auth[r->nauth];
		const char *sep;
		const char *arg;
		size_t arglen;

		if (len > 7 && strncmp(p, "bearer:", 7) == 0)
		{
			a->kind = AUTH_BEARER;
			a->value = dup_range(p + 7, len - 7);
		}
		else if (len > 6 && strncmp(p, "basic:", 6) == 0)
		{
			arg = p + 6;
			arglen = len - 6;
			sep = memchr(arg, ':', arglen);
			if (sep == NULL || sep == arg)
			{
				fprintf(stderr, "%s:%d: want basic:USER:PASS (USER * for any): %.*s\n",
						file, line, (int) len, p);
				return false;
			}
			a->kind = AUTH_BASIC;
			a->name = dup_range(arg, (size_t) (sep - arg));
			a->value = dup_range(sep + 1, arglen - (size_t) (sep - arg) - 1);
		}
		else if ((len > 7 && strncmp(p, "header:", 7) == 0) ||
				 (len > 6 && strncmp(p, "query:", 6) == 0))
		{
			bool header = p[0] == 'h';

			arg = p + (header ? 7 : 6);
			arglen = len - (header ? 7 : 6);
			sep = memchr(arg, '=', arglen);
			if (sep == NULL || sep == arg)
			{
				fprintf(stderr, "%s:%d: want %s:NAME=VALUE: %.*s\n",
						file, line, header ? "header" : "query", (int) len, p);
				return false;
			}
			a->kind = header ? AUTH_HEADER : AUTH_QUERY;
			a->name = dup_range(arg, (size_t) (sep - arg));
			a->value = dup_range(sep + 1, arglen - (size_t) (sep - arg) - 1);
		}
		else
		{
			fprintf(stderr, "%s:%d: unknown auth requirement '%.*s' (want none, "
					"bearer:T, basic:U:P, header:N=V or query:N=V)\n",
					file, line, (int) len, p);
			return false;
		}
		r->nauth++;
		if (a->value == NULL || (a->kind != AUTH_BEARER && a->name == NULL))
		{
			fprintf(stderr, "cl-fixture-server: out of memory\n");
			return false;
		}
		p += len;
		if (*p == ',')
		{
			p++;
		}
	}
	return true;
}

/*
 * parse_route fills r from the fields of one line. On failure the caller
 * clears r.
 */
static bool
parse_route(Route *r, char **fields, size_t nfields, const char *file, int line)
{
	size_t i;
	size_t nvars;
	bool found = false;

	if (nfields < 5 || nfields > ROUTE_MAX_FIELDS)
	{
		fprintf(stderr, "%s:%d: want METHOD PATH AUTH MODE DATAFILE [KEY], got %zu fields\n",
				file, line, nfields);
		return false;
	}
	r->line = line;
	r->method = strdup(fields[0]);
	r->pattern = strdup(fields[1]);
	r->datafile = strdup(fields[4]);
	r->key = nfields > 5 ? strdup(fields[5]) : NULL;
	if (r->method == NULL || r->pattern == NULL || r->datafile == NULL ||
		(nfields > 5 && r->key == NULL))
	{
		fprintf(stderr, "cl-fixture-server: out of memory\n");
		return false;
	}
	if (r->pattern[0] != '/')
	{
		fprintf(stderr, "%s:%d: the path must start with '/': %s\n", file, line, r->pattern);
		return false;
	}
	if (!check_template(r->pattern, "the path", file, line, &nvars))
	{
		return false;
	}
	if (nvars > ROUTE_MAX_VARS)
	{
		fprintf(stderr, "%s:%d: at most %d placeholders per path\n", file, line,
				ROUTE_MAX_VARS);
		return false;
	}
	if (!check_template(r->datafile, "the data file", file, line, &nvars))
	{
		return false;
	}
	if (!parse_auth(r, fields[2], file, line))
	{
		return false;
	}
	for (i = 0; i < sizeof(route_modes) / sizeof(route_modes[0]); i++)
	{
		if (strcmp(fields[3], route_modes[i].name) == 0)
		{
			r->mode = route_modes[i].mode;
			found = true;
		}
	}
	if (!found)
	{
		fprintf(stderr, "%s:%d: unknown mode '%s' (want file, cursor, offset, nexturl, "
				"stream, graph or async)\n", file, line, fields[3]);
		return false;
	}
	if (r->mode == MODE_OFFSET && r->key == NULL)
	{
		fprintf(stderr, "%s:%d: offset mode needs a KEY column (the array's name)\n",
				file, line);
		return false;
	}
	return true;
}

/*
 * routes_load reads the routes file into table (which the caller later
 * releases with routes_free, also after a failure). Errors name file and
 * line on stderr.
 */
bool
routes_load(const char *path, RouteTable *table)
{
	char *text = NULL;
	size_t len = 0;
	bool missing = false;
	char *line;
	char *next;
	int lineno = 0;
	bool ok = false;

	table->routes = NULL;
	table->count = 0;
	if (!read_file(path, ROUTES_MAX_BYTES, &text, &len, &missing))
	{
		if (missing)
		{
			fprintf(stderr, "cl-fixture-server: no routes file %s\n", path);
		}
		goto cleanup;
	}
	for (line = text; line != NULL && *line != '\0'; line = next)
	{
		char *fields[ROUTE_MAX_FIELDS + 1];
		size_t nfields = 0;
		char *p = line;
		Route *grown;

		lineno++;
		next = strchr(line, '\n');
		if (next != NULL)
		{
			*next = '\0';
			next++;
		}
		for (;;)
		{
			while (*p == ' ' || *p == '\t' || *p == '\r')
			{
				p++;
			}
			if (*p == '\0' || *p == '#')
			{
				break;
			}
			if (nfields == ROUTE_MAX_FIELDS + 1)
			{
				break;
			}
			fields[nfields++] = p;
			while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\r')
			{
				p++;
			}
			if (*p != '\0')
			{
				*p = '\0';
				p++;
			}
		}
		if (nfields == 0)
		{
			continue;
		}
		grown = realloc(table->routes, (table->count + 1) * sizeof(Route));
		if (grown == NULL)
		{
			fprintf(stderr, "cl-fixture-server: out of memory\n");
			goto cleanup;
		}
		table->routes = grown;
		memset(&table->routes[table->count], 0, sizeof(Route));
		table->count++;
		if (!parse_route(&table->routes[table->count - 1], fields, nfields, path, lineno))
		{
			goto cleanup;
		}
	}
	if (table->count == 0)
	{
		fprintf(stderr, "%s: no routes\n", path);
		goto cleanup;
	}
	ok = true;

cleanup:
	free(text);
	return ok;
}

/*
 * match_at matches the rest of a pattern against the rest of a path. A
 * placeholder takes one or more characters of the current segment; the
 * longest choice that lets the remaining pattern match wins, so that
 * "act_{id}" and "{cid}/googleAds:searchStream" both bind as expected.
 */
static bool
match_at(const char *pat, const char *path, RouteVars *vars)
{
	while (*pat != '\0')
	{
		if (*pat == '{')
		{
			const char *close = strchr(pat, '}');
			size_t seg = strcspn(path, "/");
			size_t take;

			for (take = seg; take >= 1; take--)
			{
				RouteVar *v = &vars->vars[vars->count];

				v->name = pat + 1;
				v->name_len = (size_t) (close - pat - 1);
				v->value = path;
				v->value_len = take;
				vars->count++;
				if (match_at(close + 1, path + take, vars))
				{
					return true;
				}
				vars->count--;
			}
			return false;
		}
		if (*pat != *path)
		{
			return false;
		}
		pat++;
		path++;
	}
	return *path == '\0';
}

/*
 * route_match tells whether a request (method, decoded path) is served by
 * route, binding its placeholders into vars.
 */
bool
route_match(const Route *route, const char *method, const char *path, RouteVars *vars)
{
	vars->count = 0;
	if (strcmp(route->method, method) != 0)
	{
		return false;
	}
	return match_at(route->pattern, path, vars);
}

/*
 * auth_scheme_value returns the credentials after "<scheme> " in the
 * Authorization header (scheme compared case-insensitively), or NULL.
 */
static const char *
auth_scheme_value(struct MHD_Connection *conn, const char *scheme)
{
	const char *v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
												MHD_HTTP_HEADER_AUTHORIZATION);
	size_t n = strlen(scheme);

	if (v == NULL || strncasecmp(v, scheme, n) != 0 || v[n] != ' ')
	{
		return NULL;
	}
	v += n;
	while (*v == ' ')
	{
		v++;
	}
	return v;
}

/*
 * auth_one checks a single requirement against the request.
 */
static bool
auth_one(const AuthReq *a, struct MHD_Connection *conn)
{
	const char *v;
	char decoded[1024];
	size_t dlen = 0;
	const char *colon;
	size_t ulen;

	switch (a->kind)
	{
		case AUTH_BEARER:
			v = auth_scheme_value(conn, "Bearer");
			return v != NULL && strcmp(v, a->value) == 0;
		case AUTH_BASIC:
			v = auth_scheme_value(conn, "Basic");
			if (v == NULL ||
				!base64_decode(v, strlen(v), decoded, sizeof(decoded), &dlen))
			{
				return false;
			}
			colon = memchr(decoded, ':', dlen);
			if (colon == NULL)
			{
				return false;
			}
			ulen = (size_t) (colon - decoded);
			if (strcmp(a->name, "*") != 0 &&
				(strlen(a->name) != ulen || memcmp(a->name, decoded, ulen) != 0))
			{
				return false;
			}
			return strcmp(colon + 1, a->value) == 0;
		case AUTH_HEADER:
			v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, a->name);
			return v != NULL && strcmp(v, a->value) == 0;
		case AUTH_QUERY:
			v = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, a->name);
			return v != NULL && strcmp(v, a->value) == 0;
	}
	return false;
}

/*
 * route_auth_ok: every requirement of the route must hold.
 */
bool
route_auth_ok(const Route *route, struct MHD_Connection *conn)
{
	size_t i;

	for (i = 0; i < route->nauth; i++)
	{
		if (!auth_one(&route->auth[i], conn))
		{
			return false;
		}
	}
	return true;
}

/*
 * soql_from finds the identifier after the first FROM keyword of a SOQL or
 * GAQL query, case-insensitively, outside parentheses: a SOQL relationship
 * subquery "(SELECT ... FROM OpportunityContactRoles)" in the field list
 * does not name the queried object. It points into text; *len is 0 when
 * there is none.
 */
static const char *
soql_from(const char *text, size_t *len)
{
	const char *p;
	int depth = 0;

	*len = 0;
	for (p = text; p != NULL && *p != '\0'; p++)
	{
		const char *id;

		if (*p == '(')
		{
			depth++;
		}
		else if (*p == ')' && depth > 0)
		{
			depth--;
		}
		if (depth > 0 || (p != text && !isspace((unsigned char) p[-1])) ||
			strncasecmp(p, "from", 4) != 0 || !isspace((unsigned char) p[4]))
		{
			continue;
		}
		id = p + 4;
		while (isspace((unsigned char) *id))
		{
			id++;
		}
		p = id;
		while (isalnum((unsigned char) *p) || *p == '_')
		{
			p++;
		}
		*len = (size_t) (p - id);
		return *len > 0 ? id : NULL;
	}
	return NULL;
}

/*
 * body_query returns an ALLOCATED copy of the "query" member of a JSON
 * request body (GAQL), or NULL (caller frees with free()).
 */
static char *
body_query(const char *body, size_t body_len)
{
	static const char *path[] = { "query", NULL };
	yajl_val tree;
	yajl_val q;
	char *copy = NULL;

	if (body == NULL || body_len == 0)
	{
		return NULL;
	}
	tree = yajl_tree_parse(body, NULL, 0);
	if (tree == NULL)
	{
		return NULL;
	}
	q = yajl_tree_get(tree, path, yajl_t_string);
	if (q != NULL && q->u.string != NULL)
	{
		copy = strdup(q->u.string);
	}
	yajl_tree_free(tree);
	return copy;
}

/*
 * safe_name_part: a value that goes into a file name must not climb out of
 * the root or name a hidden file.
 */
static bool
safe_name_part(const char *v, size_t len)
{
	size_t i;

	if (len == 0 || len > DATAFILE_VALUE_MAX || v[0] == '.')
	{
		return false;
	}
	for (i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) v[i];

		if (c < 0x20 || c == '/' || c == '\\' || c == 0x7f)
		{
			return false;
		}
	}
	return true;
}

char *
route_datafile(const Route *route, const RouteVars *vars, const char *root,
			   struct MHD_Connection *conn, const char *body, size_t body_len)
{
	Buf out;
	const char *p = route->datafile;
	char *gaql = NULL;
	char *result = NULL;
	size_t len = 0;

	buf_init(&out, 4096);
	if (route->datafile[0] != '/')
	{
		buf_puts(&out, root);
		buf_puts(&out, "/");
	}
	while (*p != '\0')
	{
		const char *close;
		const char *name;
		size_t nlen;
		const char *value = NULL;
		size_t vlen = 0;
		size_t i;

		if (*p != '{')
		{
			buf_append(&out, p, 1);
			p++;
			continue;
		}
		close = strchr(p, '}');
		name = p + 1;
		nlen = (size_t) (close - name);
		p = close + 1;
		for (i = 0; i < vars->count; i++)
		{
			if (vars->vars[i].name_len == nlen &&
				memcmp(vars->vars[i].name, name, nlen) == 0)
			{
				value = vars->vars[i].value;
				vlen = vars->vars[i].value_len;
				break;
			}
		}
		if (value == NULL && nlen == 4 && memcmp(name, "from", 4) == 0)
		{
			const char *q = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "q");

			if (q == NULL)
			{
				free(gaql);
				gaql = body_query(body, body_len);
				q = gaql;
			}
			value = soql_from(q, &vlen);
		}
		if (value == NULL)
		{
			char key[64];

			if (nlen < sizeof(key))
			{
				memcpy(key, name, nlen);
				key[nlen] = '\0';
				value = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, key);
				vlen = value != NULL ? strlen(value) : 0;
			}
		}
		if (value == NULL || !safe_name_part(value, vlen))
		{
			goto cleanup;
		}
		buf_append(&out, value, vlen);
	}
	result = buf_steal(&out, &len);

cleanup:
	free(gaql);
	buf_free(&out);
	return result;
}
