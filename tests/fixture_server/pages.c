/*
 * pages.c: the response bodies of the six route modes. Paged modes cut
 * their pages from a Dataset (one NDJSON record per line); their cursors are
 * plain offsets in the data set, so a page can be fetched again and the same
 * records come back.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#include "fixture.h"

#define FILE_MAX_BYTES ((size_t) 1 << 30)
#define SF_DEFAULT_BATCH 2000
#define SF_MAX_BATCH 2000

/*
 * query_count reads a numeric query parameter: absent gives def, above max
 * is clamped to max (as the vendors do), anything else that is not a whole
 * number >= min is refused with a 400 naming the parameter.
 */
static bool
query_count(const PageRequest *req, const char *name, unsigned long def,
			unsigned long min, unsigned long max, unsigned long *out, Reply *reply)
{
	const char *v = MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
	unsigned long n;

	if (v == NULL)
	{
		*out = def;
		return true;
	}
	if (!parse_ulong(v, min, (unsigned long) -1, &n))
	{
		reply->status = 400;
		reply->content_type = "application/json";
		buf_reset(&reply->body);
		buf_printf(&reply->body,
				   "{\"status\":\"error\",\"message\":\"invalid value for %s (want a whole number >= %lu)\"}",
				   name, min);
		return false;
	}
	*out = n > max ? max : n;
	return true;
}

/*
 * append_records writes records [from, to) of d, comma-separated.
 */
static void
append_records(Buf *b, const Dataset *d, size_t from, size_t to)
{
	size_t i;

	for (i = from; i < to; i++)
	{
		if (i > from)
		{
			buf_append(b, ",", 1);
		}
		buf_append(b, d->records[i], d->lens[i]);
	}
}

/*
 * next_url builds the absolute URL of the next page: the same request with
 * its `after` parameter replaced. The host is the one the client used, so
 * the link works behind whatever name the test chose.
 */
static void
next_url(const PageRequest *req, const char *after, Buf *url)
{
	const char *host = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
												   MHD_HTTP_HEADER_HOST);
	const char *q = req->raw_query;
	bool first = true;

	if (host != NULL && host[0] != '\0')
	{
		buf_printf(url, "http://%s", host);
	}
	else
	{
		buf_printf(url, "http://127.0.0.1:%u", (unsigned) req->srv->port);
	}
	buf_puts(url, req->raw_path);
	buf_puts(url, "?");
	while (*q != '\0')
	{
		size_t len = strcspn(q, "&");

		if (len > 0 && !(len >= 5 && strncmp(q, "after", 5) == 0 && (len == 5 || q[5] == '=')))
		{
			if (!first)
			{
				buf_puts(url, "&");
			}
			buf_append(url, q, len);
			first = false;
		}
		q += len;
		if (*q == '&')
		{
			q++;
		}
	}
	if (!first)
	{
		buf_puts(url, "&");
	}
	buf_printf(url, "after=%s", after);
}

/*
 * render_cursor: HubSpot CRM v3 list endpoints.
 */
static void
render_cursor(const PageRequest *req, const Dataset *d, Reply *reply)
{
	unsigned long limit;
	unsigned long after;
	size_t from;
	size_t to;
	Buf url;
	char next[32];

	if (!query_count(req, "limit", 10, 1, 100, &limit, reply) ||
		!query_count(req, "after", 0, 0, (unsigned long) -1, &after, reply))
	{
		return;
	}
	from = after < d->count ? (size_t) after : d->count;
	to = d->count - from > limit ? from + limit : d->count;
	buf_puts(&reply->body, "{\"results\":[");
	append_records(&reply->body, d, from, to);
	buf_puts(&reply->body, "]");
	if (to < d->count)
	{
		(void) snprintf(next, sizeof(next), "%zu", to);
		buf_init(&url, 1 << 16);
		next_url(req, next, &url);
		buf_printf(&reply->body, ",\"paging\":{\"next\":{\"after\":\"%s\",\"link\":", next);
		buf_json_string(&reply->body, url.data != NULL ? url.data : "", url.len);
		buf_puts(&reply->body, "}}");
		if (url.failed)
		{
			reply->body.failed = true;
		}
		buf_free(&url);
	}
	buf_puts(&reply->body, "}");
}

/*
 * render_offset: Mailchimp list endpoints; key names the array.
 */
static void
render_offset(const PageRequest *req, const Dataset *d, Reply *reply)
{
	unsigned long count;
	unsigned long offset;
	size_t from;
	size_t to;

	if (!query_count(req, "count", 10, 1, 1000, &count, reply) ||
		!query_count(req, "offset", 0, 0, (unsigned long) -1, &offset, reply))
	{
		return;
	}
	from = offset < d->count ? (size_t) offset : d->count;
	to = d->count - from > count ? from + count : d->count;
	buf_puts(&reply->body, "{");
	buf_json_string(&reply->body, req->route->key, strlen(req->route->key));
	buf_puts(&reply->body, ":[");
	append_records(&reply->body, d, from, to);
	buf_printf(&reply->body, "],\"total_items\":%zu}", d->count);
}

/*
 * sf_batch_size reads "Sforce-Query-Options: batchSize=N" (other options
 * may share the header, comma-separated).
 */
static unsigned long
sf_batch_size(const PageRequest *req)
{
	const char *v = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND,
												"Sforce-Query-Options");
	const char *p;
	char num[24];
	size_t len;
	unsigned long n;

	if (v == NULL)
	{
		return SF_DEFAULT_BATCH;
	}
	p = strstr(v, "batchSize=");
	if (p == NULL)
	{
		return SF_DEFAULT_BATCH;
	}
	p += strlen("batchSize=");
	len = strcspn(p, ", ;");
	if (len == 0 || len >= sizeof(num))
	{
		return SF_DEFAULT_BATCH;
	}
	memcpy(num, p, len);
	num[len] = '\0';
	if (!parse_ulong(num, 1, (unsigned long) -1, &n))
	{
		return SF_DEFAULT_BATCH;
	}
	return n > SF_MAX_BATCH ? SF_MAX_BATCH : n;
}

/*
 * sf_seconds turns the start of a Salesforce datetime, a SOQL literal
 * ("2026-03-04T05:06:07Z") or a record value ("2026-03-04T05:06:07.000+0000"),
 * into seconds since the epoch; fractions are ignored, offsets applied.
 */
static bool
sf_seconds(const char *s, long long *out)
{
	int y, mo, d, h, mi, se;
	long long days;
	const char *p = s + 19;
	int sign;

	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &se) != 6 ||
		strlen(s) < 19)
	{
		return false;
	}
	/* days from civil (proleptic Gregorian), as in timeutil.c */
	y -= mo <= 2;
	{
		long long era = (y >= 0 ? y : y - 399) / 400;
		long long yoe = y - era * 400;
		long long doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
		long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

		days = era * 146097 + doe - 719468;
	}
	*out = days * 86400 + h * 3600 + mi * 60 + se;
	if (*p == '.')
	{
		p += 1 + strspn(p + 1, "0123456789");
	}
	if (*p == '+' || *p == '-')
	{
		int oh = 0;
		int om = 0;

		sign = *p == '+' ? 1 : -1;
		if (sscanf(p + 1, "%2d", &oh) != 1)
		{
			return false;
		}
		p += 3;
		if (*p == ':')
		{
			p++;
		}
		if (sscanf(p, "%2d", &om) != 1)
		{
			return false;
		}
		*out -= sign * (oh * 3600 + om * 60);
	}
	return true;
}

/*
 * sf_bound copies the literal after "SystemModstamp <op> " in the SOQL q
 * into out (empty when the query has no such condition).
 */
static void
sf_bound(const char *q, const char *op, char *out, size_t outsize)
{
	char pat[32];
	const char *p;
	size_t len;

	out[0] = '\0';
	(void) snprintf(pat, sizeof(pat), "SystemModstamp %s ", op);
	p = q != NULL ? strstr(q, pat) : NULL;
	if (p == NULL)
	{
		return;
	}
	p += strlen(pat);
	len = strcspn(p, " )");
	if (len < outsize)
	{
		memcpy(out, p, len);
		out[len] = '\0';
	}
}

/*
 * sf_in_window: the record's SystemModstamp is within [lo, hi) (either
 * bound may be empty: open). Records without the field always match.
 */
static bool
sf_in_window(const char *rec, size_t len, const char *lo, const char *hi)
{
	static const char key[] = "\"SystemModstamp\":\"";
	const char *p = NULL;
	char value[40];
	size_t vlen;
	long long t;
	long long b;

	for (size_t i = 0; i + sizeof(key) - 1 <= len && p == NULL; i++)
	{
		if (memcmp(rec + i, key, sizeof(key) - 1) == 0)
		{
			p = rec + i + sizeof(key) - 1;
		}
	}
	if (p == NULL)
	{
		return true;
	}
	vlen = strcspn(p, "\"");
	if (vlen >= sizeof(value))
	{
		return true;
	}
	memcpy(value, p, vlen);
	value[vlen] = '\0';
	if (!sf_seconds(value, &t))
	{
		return true;
	}
	if (lo[0] != '\0' && sf_seconds(lo, &b) && t < b)
	{
		return false;
	}
	if (hi[0] != '\0' && sf_seconds(hi, &b) && t >= b)
	{
		return false;
	}
	return true;
}

/*
 * The last Salesforce selection (data file and window), so that the pages
 * of one query do not each scan the whole file again: a 1,000-page run
 * would otherwise cost the server quadratic time. Data sets live until the
 * server exits, so the pointer identifies one.
 */
static pthread_mutex_t sf_cache_lock = PTHREAD_MUTEX_INITIALIZER;
static char *sf_cache_key;          /* owned: "<datafile>\t<lo>\t<hi>" */
static const Dataset *sf_cache_data;
static size_t *sf_cache_sel;        /* owned */
static size_t sf_cache_n;

/*
 * sf_select fills *sel (ALLOCATED, caller frees) with the indexes of the
 * records of d in [lo, hi), from the cache when the same selection was
 * made last. false when out of memory.
 */
static bool
sf_select(const Dataset *d, const char *datafile, const char *lo, const char *hi,
		  size_t **sel, size_t *n)
{
	size_t keylen = strcspn(datafile, "\t") + strlen(lo) + strlen(hi) + 3;
	char *key = malloc(keylen);
	bool ok = false;

	*sel = malloc((d->count > 0 ? d->count : 1) * sizeof(size_t));
	*n = 0;
	if (key == NULL || *sel == NULL)
	{
		free(key);
		free(*sel);
		*sel = NULL;
		return false;
	}
	(void) snprintf(key, keylen, "%.*s\t%s\t%s", (int) strcspn(datafile, "\t"), datafile, lo, hi);
	(void) pthread_mutex_lock(&sf_cache_lock);
	if (sf_cache_key != NULL && sf_cache_data == d && strcmp(sf_cache_key, key) == 0)
	{
		memcpy(*sel, sf_cache_sel, sf_cache_n * sizeof(size_t));
		*n = sf_cache_n;
		(void) pthread_mutex_unlock(&sf_cache_lock);
		free(key);
		return true;
	}
	(void) pthread_mutex_unlock(&sf_cache_lock);
	for (size_t i = 0; i < d->count; i++)
	{
		if (sf_in_window(d->records[i], d->lens[i], lo, hi))
		{
			(*sel)[(*n)++] = i;
		}
	}
	(void) pthread_mutex_lock(&sf_cache_lock);
	free(sf_cache_key);
	free(sf_cache_sel);
	sf_cache_key = key;
	sf_cache_data = d;
	sf_cache_n = *n;
	sf_cache_sel = malloc((*n > 0 ? *n : 1) * sizeof(size_t));
	if (sf_cache_sel != NULL)
	{
		memcpy(sf_cache_sel, *sel, *n * sizeof(size_t));
		ok = true;
	}
	else
	{
		sf_cache_key = NULL;
		free(key);
		ok = true;      /* the selection is right, only not cached */
	}
	(void) pthread_mutex_unlock(&sf_cache_lock);
	return ok;
}

/*
 * render_nexturl: Salesforce REST query. The first page registers a query
 * locator; its continuation URLs are <first page path>/<locator>-<offset>.
 * A window on SystemModstamp in the SOQL (">= lo", "< hi", as incremental
 * extractors send it) selects the records; the locator keeps the window
 * (after a TAB in its data file key), so continuation pages cut the same
 * selection. Offsets count selected records.
 */
static void
render_nexturl(const PageRequest *req, const Dataset *d, Reply *reply)
{
	unsigned long batch = sf_batch_size(req);
	size_t from = 0;
	size_t to;
	size_t n = 0;
	size_t *sel = NULL;
	char token[32];
	char lo[40];
	char hi[40];
	const char *tab = strchr(req->datafile, '\t');
	Buf key;

	if (tab != NULL)
	{
		const char *tab2 = strchr(tab + 1, '\t');
		size_t lolen = tab2 != NULL ? (size_t) (tab2 - tab - 1) : 0;

		(void) snprintf(lo, sizeof(lo), "%.*s", (int) lolen, tab + 1);
		(void) snprintf(hi, sizeof(hi), "%s", tab2 != NULL ? tab2 + 1 : "");
	}
	else
	{
		const char *q = MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, "q");

		sf_bound(q, ">=", lo, sizeof(lo));
		sf_bound(q, "<", hi, sizeof(hi));
	}
	if (!sf_select(d, req->datafile, lo, hi, &sel, &n))
	{
		reply_json(reply, 500, "{\"error\":\"out of memory\"}");
		return;
	}
	if (req->is_continuation)
	{
		from = req->continuation < n ? (size_t) req->continuation : n;
	}
	to = n - from > batch ? from + batch : n;
	buf_printf(&reply->body, "{\"totalSize\":%zu,\"done\":%s", n,
			   to < n ? "false" : "true");
	if (to < n)
	{
		buf_init(&key, 1 << 16);
		if (tab != NULL || (lo[0] == '\0' && hi[0] == '\0'))
		{
			buf_puts(&key, req->datafile);
		}
		else
		{
			buf_printf(&key, "%s\t%s\t%s", req->datafile, lo, hi);
		}
		if (key.failed || !control_cursor_token(req->srv, req->route_index, req->base_path,
												key.data, token, sizeof(token)))
		{
			buf_free(&key);
			free(sel);
			reply_json(reply, 500, "{\"error\":\"out of memory\"}");
			return;
		}
		buf_free(&key);
		buf_puts(&reply->body, ",\"nextRecordsUrl\":");
		{
			Buf url;

			buf_init(&url, 1 << 16);
			buf_printf(&url, "%s/%s-%zu", req->base_path, token, to);
			buf_json_string(&reply->body, url.data != NULL ? url.data : "", url.len);
			if (url.failed)
			{
				reply->body.failed = true;
			}
			buf_free(&url);
		}
	}
	buf_puts(&reply->body, ",\"records\":[");
	for (size_t i = from; i < to; i++)
	{
		append_records(&reply->body, d, sel[i], sel[i] + 1);
		if (i + 1 < to)
		{
			buf_append(&reply->body, ",", 1);
		}
	}
	buf_puts(&reply->body, "]}");
	free(sel);
}

#define SEARCH_DEFAULT_CAP 10000
#define SEARCH_MAX_FILTERS 8
#define SEARCH_DEFAULT_LIMIT 10
#define SEARCH_MAX_LIMIT 200

/* One condition of a HubSpot search filterGroup. */
typedef struct SearchFilter
{
	char prop[64];
	char op[8];
	char value[64];
} SearchFilter;

/*
 * search_number reads a value the search compares: digits are a number
 * (ids, epoch milliseconds), a datetime becomes epoch milliseconds.
 */
static bool
search_number(const char *s, double *out)
{
	long long sec;
	const char *frac;

	if (s == NULL || *s == '\0')
	{
		return false;
	}
	if (strspn(s, "0123456789") == strlen(s))
	{
		*out = strtod(s, NULL);
		return true;
	}
	if (!sf_seconds(s, &sec))
	{
		return false;
	}
	*out = (double) sec * 1000.0;
	frac = strchr(s, '.');
	if (frac != NULL && frac > s + 18)
	{
		int ms = 0;
		int digits = 0;

		for (frac++; *frac >= '0' && *frac <= '9' && digits < 3; frac++, digits++)
		{
			ms = ms * 10 + (*frac - '0');
		}
		while (digits++ < 3)
		{
			ms *= 10;
		}
		*out += ms;
	}
	return true;
}

/*
 * search_value: the text of a record's property (properties.<name>); the
 * object's id stands for hs_object_id.
 */
static const char *
search_value(yajl_val rec, const char *prop)
{
	const char *props_path[] = { "properties", prop, NULL };
	const char *id_path[] = { "id", NULL };
	yajl_val v = yajl_tree_get(rec, props_path, yajl_t_any);

	if ((v == NULL || YAJL_IS_NULL(v)) && strcmp(prop, "hs_object_id") == 0)
	{
		v = yajl_tree_get(rec, id_path, yajl_t_any);
	}
	if (v != NULL && YAJL_IS_STRING(v))
	{
		return YAJL_GET_STRING(v);
	}
	if (v != NULL && YAJL_IS_NUMBER(v))
	{
		return YAJL_GET_NUMBER(v);
	}
	return NULL;
}

/* search_match: the record satisfies every filter. */
static bool
search_match(yajl_val rec, const SearchFilter *f, size_t nf)
{
	for (size_t i = 0; i < nf; i++)
	{
		const char *text = search_value(rec, f[i].prop);
		double a;
		double b;

		if (text == NULL || !search_number(text, &a) || !search_number(f[i].value, &b))
		{
			if (text == NULL || strcmp(f[i].op, "EQ") != 0 || strcmp(text, f[i].value) != 0)
			{
				return false;
			}
			continue;
		}
		if ((strcmp(f[i].op, "GTE") == 0 && !(a >= b)) || (strcmp(f[i].op, "GT") == 0 && !(a > b)) ||
			(strcmp(f[i].op, "LTE") == 0 && !(a <= b)) || (strcmp(f[i].op, "LT") == 0 && !(a < b)) ||
			(strcmp(f[i].op, "EQ") == 0 && a != b))
		{
			return false;
		}
	}
	return true;
}

/* A selected record and its sort key. */
typedef struct SearchHit
{
	size_t index;
	double key;
} SearchHit;

static int
compare_hits(const void *a, const void *b)
{
	const SearchHit *x = a;
	const SearchHit *y = b;

	if (x->key != y->key)
	{
		return x->key < y->key ? -1 : 1;
	}
	return x->index < y->index ? -1 : x->index > y->index;
}

/* search_error answers a request the real search API would refuse. */
static void
search_error(Reply *reply, const char *message)
{
	reply->status = 400;
	reply->content_type = "application/json";
	buf_reset(&reply->body);
	buf_puts(&reply->body, "{\"status\":\"error\",\"message\":");
	buf_json_string(&reply->body, message, strlen(message));
	buf_puts(&reply->body, ",\"category\":\"VALIDATION_ERROR\"}");
}

/*
 * render_search: HubSpot CRM search (POST /crm/v3/objects/{object}/search).
 * The JSON body's first filterGroup (GTE, GT, LTE, LT, EQ on properties,
 * hs_object_id being the id; datetimes compare as epoch milliseconds), its
 * first sort, limit (default 10, capped at 200) and after (an offset into
 * the selection) decide the page: {"total":N,"results":[…],"paging":
 * {"next":{"after":"N"}}}. An after at or beyond the cap (KEY, default
 * 10000, as HubSpot's) is refused with a 400, as HubSpot does.
 */
static void
render_search(const PageRequest *req, const Dataset *d, Reply *reply)
{
	char err[256];
	char *text = NULL;
	yajl_val body = NULL;
	yajl_val *recs = NULL;
	SearchHit *hits = NULL;
	SearchFilter filters[SEARCH_MAX_FILTERS];
	size_t nf = 0;
	size_t n = 0;
	unsigned long limit = SEARCH_DEFAULT_LIMIT;
	unsigned long after = 0;
	unsigned long cap = SEARCH_DEFAULT_CAP;
	const char *sort_prop = NULL;
	bool descending = false;
	const char *groups_path[] = { "filterGroups", NULL };
	const char *sorts_path[] = { "sorts", NULL };
	const char *limit_path[] = { "limit", NULL };
	const char *after_path[] = { "after", NULL };
	yajl_val v;

	if (req->route->key != NULL && !parse_ulong(req->route->key, 1, (unsigned long) -1, &cap))
	{
		reply_json(reply, 500, "{\"error\":\"the search route's KEY must be the after cap\"}");
		return;
	}
	text = strndup(req->body != NULL ? req->body : "", req->body_len);
	if (text == NULL)
	{
		reply_json(reply, 500, "{\"error\":\"out of memory\"}");
		return;
	}
	body = yajl_tree_parse(text, err, sizeof(err));
	if (body == NULL || !YAJL_IS_OBJECT(body))
	{
		search_error(reply, "Invalid input JSON: the body is not a JSON object");
		goto cleanup;
	}
	v = yajl_tree_get(body, limit_path, yajl_t_any);
	if (v != NULL && YAJL_IS_INTEGER(v) && YAJL_GET_INTEGER(v) > 0)
	{
		limit = (unsigned long) YAJL_GET_INTEGER(v);
	}
	if (limit > SEARCH_MAX_LIMIT)
	{
		limit = SEARCH_MAX_LIMIT;
	}
	v = yajl_tree_get(body, after_path, yajl_t_any);
	if (v != NULL && !YAJL_IS_NULL(v) &&
		!parse_ulong(YAJL_IS_STRING(v) ? YAJL_GET_STRING(v) : YAJL_IS_NUMBER(v) ?
					 YAJL_GET_NUMBER(v) : "", 0, (unsigned long) -1, &after))
	{
		search_error(reply, "after must be a whole number");
		goto cleanup;
	}
	if (after >= cap)
	{
		char msg[128];

		(void) snprintf(msg, sizeof(msg), "Paging beyond %lu results is not allowed", cap);
		search_error(reply, msg);
		goto cleanup;
	}
	v = yajl_tree_get(body, groups_path, yajl_t_array);
	if (v != NULL && YAJL_GET_ARRAY(v)->len > 0)
	{
		const char *filters_path[] = { "filters", NULL };
		yajl_val list = yajl_tree_get(YAJL_GET_ARRAY(v)->values[0], filters_path, yajl_t_array);

		for (size_t i = 0; list != NULL && i < YAJL_GET_ARRAY(list)->len; i++)
		{
			yajl_val f = YAJL_GET_ARRAY(list)->values[i];
			const char *pp[] = { "propertyName", NULL };
			const char *op[] = { "operator", NULL };
			const char *vp[] = { "value", NULL };
			yajl_val pv = yajl_tree_get(f, pp, yajl_t_string);
			yajl_val ov = yajl_tree_get(f, op, yajl_t_string);
			yajl_val vv = yajl_tree_get(f, vp, yajl_t_any);

			if (nf == SEARCH_MAX_FILTERS || pv == NULL || ov == NULL || vv == NULL ||
				!(YAJL_IS_STRING(vv) || YAJL_IS_NUMBER(vv)))
			{
				search_error(reply, "a filter needs propertyName, operator and value");
				goto cleanup;
			}
			(void) snprintf(filters[nf].prop, sizeof(filters[nf].prop), "%s", YAJL_GET_STRING(pv));
			(void) snprintf(filters[nf].op, sizeof(filters[nf].op), "%s", YAJL_GET_STRING(ov));
			(void) snprintf(filters[nf].value, sizeof(filters[nf].value), "%s",
							YAJL_IS_STRING(vv) ? YAJL_GET_STRING(vv) : YAJL_GET_NUMBER(vv));
			nf++;
		}
	}
	v = yajl_tree_get(body, sorts_path, yajl_t_array);
	if (v != NULL && YAJL_GET_ARRAY(v)->len > 0)
	{
		const char *pp[] = { "propertyName", NULL };
		const char *dp[] = { "direction", NULL };
		yajl_val pv = yajl_tree_get(YAJL_GET_ARRAY(v)->values[0], pp, yajl_t_string);
		yajl_val dv = yajl_tree_get(YAJL_GET_ARRAY(v)->values[0], dp, yajl_t_string);

		const char *dir = dv != NULL ? YAJL_GET_STRING(dv) : NULL;

		sort_prop = pv != NULL ? YAJL_GET_STRING(pv) : NULL;
		descending = dir != NULL && strcmp(dir, "DESCENDING") == 0;
	}

	recs = calloc(d->count > 0 ? d->count : 1, sizeof(yajl_val));
	hits = calloc(d->count > 0 ? d->count : 1, sizeof(SearchHit));
	if (recs == NULL || hits == NULL)
	{
		reply_json(reply, 500, "{\"error\":\"out of memory\"}");
		goto cleanup;
	}
	for (size_t i = 0; i < d->count; i++)
	{
		char *line = strndup(d->records[i], d->lens[i]);

		recs[i] = line != NULL ? yajl_tree_parse(line, NULL, 0) : NULL;
		free(line);
		if (recs[i] != NULL && search_match(recs[i], filters, nf))
		{
			const char *k = sort_prop != NULL ? search_value(recs[i], sort_prop) : NULL;
			double key = 0;

			if (k == NULL || !search_number(k, &key))
			{
				key = 0;
			}
			hits[n].index = i;
			hits[n].key = sort_prop != NULL ? (descending ? -key : key) : (double) i;
			n++;
		}
	}
	qsort(hits, n, sizeof(SearchHit), compare_hits);
	{
		size_t from = after < n ? (size_t) after : n;
		size_t to = n - from > limit ? from + limit : n;

		buf_printf(&reply->body, "{\"total\":%zu,\"results\":[", n);
		for (size_t i = from; i < to; i++)
		{
			if (i > from)
			{
				buf_append(&reply->body, ",", 1);
			}
			append_records(&reply->body, d, hits[i].index, hits[i].index + 1);
		}
		buf_puts(&reply->body, "]");
		if (to < n)
		{
			buf_printf(&reply->body, ",\"paging\":{\"next\":{\"after\":\"%zu\"}}", to);
		}
		buf_puts(&reply->body, "}");
	}

cleanup:
	for (size_t i = 0; recs != NULL && i < d->count; i++)
	{
		yajl_tree_free(recs[i]);
	}
	free(recs);
	free(hits);
	yajl_tree_free(body);
	free(text);
}

/*
 * render_stream: Google Ads searchStream, one JSON array of batches. The
 * fieldMask is the route's KEY, else the leaf paths of the first record.
 */
static void
render_stream(const PageRequest *req, const Dataset *d, Reply *reply)
{
	size_t batch = (size_t) req->srv->stream_batch;
	const char *mask = req->route->key != NULL ? req->route->key : d->field_mask;
	size_t from;

	if (mask == NULL)
	{
		mask = "";
	}
	buf_puts(&reply->body, "[");
	for (from = 0; from < d->count; from += batch)
	{
		size_t to = d->count - from > batch ? from + batch : d->count;

		if (from > 0)
		{
			buf_puts(&reply->body, ",");
		}
		buf_puts(&reply->body, "{\"results\":[");
		append_records(&reply->body, d, from, to);
		buf_puts(&reply->body, "],\"fieldMask\":");
		buf_json_string(&reply->body, mask, strlen(mask));
		buf_printf(&reply->body, ",\"requestId\":\"%s\"", req->request_id);
		if (to == d->count)
		{
			buf_printf(&reply->body, ",\"queryResourceConsumption\":\"%zu\"", d->count);
		}
		buf_puts(&reply->body, "}");
	}
	buf_puts(&reply->body, "]");
}

/*
 * graph_cursor encodes an offset the way Graph cursors look: opaque
 * base64url text, so that clients cannot get away with doing arithmetic on
 * them.
 */
static void
graph_cursor(size_t offset, Buf *out)
{
	char num[32];
	int n = snprintf(num, sizeof(num), "%zu", offset);

	buf_base64url(out, num, (size_t) n);
}

/*
 * graph_offset decodes a cursor made by graph_cursor.
 */
static bool
graph_offset(const char *cursor, unsigned long *offset)
{
	char num[32];
	size_t len = 0;

	if (!base64_decode(cursor, strlen(cursor), num, sizeof(num), &len))
	{
		return false;
	}
	return parse_ulong(num, 0, (unsigned long) -1, offset);
}

/*
 * render_graph: Meta Graph API edges (insights, campaigns).
 */
static void
render_graph(const PageRequest *req, const Dataset *d, Reply *reply)
{
	const char *after = MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, "after");
	unsigned long limit;
	unsigned long offset = 0;
	size_t from;
	size_t to;
	Buf before_c;
	Buf after_c;
	Buf url;

	if (!query_count(req, "limit", 25, 1, 5000, &limit, reply))
	{
		return;
	}
	if (after != NULL && !graph_offset(after, &offset))
	{
		reply_json(reply, 400, "{\"error\":{\"message\":\"Invalid cursor\",\"type\":"
				   "\"OAuthException\",\"code\":100}}");
		return;
	}
	from = offset < d->count ? (size_t) offset : d->count;
	to = d->count - from > limit ? from + limit : d->count;
	buf_puts(&reply->body, "{\"data\":[");
	append_records(&reply->body, d, from, to);
	buf_puts(&reply->body, "]");
	if (to > from)
	{
		buf_init(&before_c, 64);
		buf_init(&after_c, 64);
		graph_cursor(from, &before_c);
		graph_cursor(to, &after_c);
		buf_printf(&reply->body, ",\"paging\":{\"cursors\":{\"before\":\"%s\",\"after\":\"%s\"}",
				   before_c.data != NULL ? before_c.data : "",
				   after_c.data != NULL ? after_c.data : "");
		if (to < d->count)
		{
			buf_init(&url, 1 << 16);
			next_url(req, after_c.data != NULL ? after_c.data : "", &url);
			buf_puts(&reply->body, ",\"next\":");
			buf_json_string(&reply->body, url.data != NULL ? url.data : "", url.len);
			if (url.failed)
			{
				reply->body.failed = true;
			}
			buf_free(&url);
		}
		buf_puts(&reply->body, "}");
		if (before_c.failed || after_c.failed)
		{
			reply->body.failed = true;
		}
		buf_free(&before_c);
		buf_free(&after_c);
	}
	buf_puts(&reply->body, "}");
}

/*
 * pages_render fills reply for a matched, authorised request.
 */
void
pages_render(const PageRequest *req, Reply *reply)
{
	const Dataset *d = NULL;
	DataStatus st;

	reply->status = 200;
	if (req->route->mode == MODE_FILE)
	{
		char *text = NULL;
		size_t len = 0;
		bool missing = false;

		if (!read_file(req->datafile, FILE_MAX_BYTES, &text, &len, &missing))
		{
			if (missing)
			{
				reply_json(reply, 404, "{\"error\":\"not found\"}");
			}
			else
			{
				reply_json(reply, 500, "{\"error\":\"cannot read the data file\"}");
			}
			return;
		}
		buf_append(&reply->body, text, len);
		free(text);
		return;
	}
	if (req->route->mode == MODE_NEXTURL && strchr(req->datafile, '\t') != NULL)
	{
		/* a query locator's key: the data file, then the query's window */
		char *path = strndup(req->datafile, strcspn(req->datafile, "\t"));

		if (path == NULL)
		{
			reply_json(reply, 500, "{\"error\":\"out of memory\"}");
			return;
		}
		st = datacache_get(&req->srv->data, path, &d);
		free(path);
	}
	else
	{
		st = datacache_get(&req->srv->data, req->datafile, &d);
	}
	if (st == DATA_MISSING)
	{
		reply_json(reply, 404, "{\"error\":\"not found\"}");
		return;
	}
	if (st != DATA_OK)
	{
		reply_json(reply, 500, "{\"error\":\"the data file is not valid NDJSON\"}");
		return;
	}
	switch (req->route->mode)
	{
		case MODE_CURSOR:
			render_cursor(req, d, reply);
			break;
		case MODE_OFFSET:
			render_offset(req, d, reply);
			break;
		case MODE_NEXTURL:
			render_nexturl(req, d, reply);
			break;
		case MODE_STREAM:
			render_stream(req, d, reply);
			break;
		case MODE_GRAPH:
			render_graph(req, d, reply);
			break;
		case MODE_ASYNC:
			if (req->job == NULL)
			{
				jobs_start(req, reply);
			}
			else if (req->job_results)
			{
				render_graph(req, d, reply);
			}
			else
			{
				jobs_render_status(req, reply);
			}
			break;
		case MODE_SEARCH:
			render_search(req, d, reply);
			break;
		case MODE_FILE:
			break;
	}
	if (reply->body.failed)
	{
		reply_json(reply, 500, "{\"error\":\"response too large or out of memory\"}");
	}
}
