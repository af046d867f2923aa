/*
 * oauth.c: see oauth.h.
 */
#include "oauth.h"

#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "log.h"
#include "textbuf.h"

/* Token responses are a few hundred bytes; anything near this is wrong. */
#define OAUTH_MAX_RESPONSE (64 * 1024)

bool
oauth_token_fresh(const OAuthToken *tok, ClTime now)
{
	if (tok->access_token == NULL)
		return false;
	if (tok->expires_at == 0)
		return true;
	return now + OAUTH_EXPIRY_MARGIN_USEC < tok->expires_at;
}


void
oauth_token_reset(OAuthToken *tok)
{
	free(tok->access_token);
	tok->access_token = NULL;
	tok->expires_at = 0;
	free(tok->instance_url);
	tok->instance_url = NULL;
	free(tok->refresh_token);
	tok->refresh_token = NULL;
}


/*
 * keep_optional copies the optional string member key of doc into *slot
 * (replacing it; NULL when absent or equal to same). false: out of memory.
 */
static bool
keep_optional(const JsonValue *doc, const char *key, const char *same, char **slot)
{
	const char *v = json_string(json_member(doc, key));
	char *copy = NULL;

	if (v != NULL && v[0] != '\0' && (same == NULL || strcmp(v, same) != 0))
	{
		copy = strdup(v);
		if (copy == NULL)
			return false;
	}
	free(*slot);
	*slot = copy;
	return true;
}


/*
 * explain_refusal logs why the token endpoint refused the grant, from the
 * RFC 6749 §5.2 error body when there is one.
 */
static void
explain_refusal(const OAuthGrant *g, const HttpResponse *resp)
{
	JsonValue *body = NULL;
	const char *code = NULL;
	const char *desc = NULL;

	if (resp->error_body != NULL)
		body = json_parse(resp->error_body, resp->error_body_len, NULL, 0);
	code = json_string(json_member(body, "error"));
	desc = json_string(json_member(body, "error_description"));
	log_error("%s: the token endpoint refused the refresh token (HTTP %ld%s%s%s%s); "
			  "check client_id, client_secret and refresh_token in [%s]",
			  g->vendor, resp->status,
			  code != NULL ? ": " : "", code != NULL ? code : "",
			  desc != NULL ? ", " : "", desc != NULL ? desc : "",
			  g->section);
	json_free(body);
}


/*
 * oauth_refresh: see oauth.h. The new token is registered with the log
 * masker before anything could print it.
 */
bool
oauth_refresh(HttpClient *http, const OAuthGrant *g, OAuthToken *tok,
			  ClError *err)
{
	TextBuf form;
	HttpRequest req;
	HttpResponse resp;
	char *body = NULL;
	size_t bodylen = 0;
	JsonValue *doc = NULL;
	const char *access;
	int64_t expires_in = 0;
	char what[128];
	char parse_err[256];
	char *copy = NULL;
	bool ok = false;

	memset(&req, 0, sizeof(req));
	memset(&resp, 0, sizeof(resp));
	tb_init(&form, TEXTBUF_DEFAULT_MAX);
	tb_append(&form, "grant_type=refresh_token&client_id=");
	tb_append_query_value(&form, g->client_id);
	tb_append(&form, "&client_secret=");
	tb_append_query_value(&form, g->client_secret);
	tb_append(&form, "&refresh_token=");
	tb_append_query_value(&form, g->refresh_token);
	if (!tb_ok(&form))
	{
		log_error("%s: out of memory building the token request", g->vendor);
		*err = CL_ERR_INTERNAL;
		goto cleanup;
	}

	(void) snprintf(what, sizeof(what), "%s token refresh", g->vendor);
	req.method = "POST";
	req.url = g->token_url;
	req.headers[0] = "Content-Type: application/x-www-form-urlencoded";
	req.headers[1] = "Accept: application/json";
	req.body = tb_text(&form);
	req.body_len = form.len;
	req.what = what;

	if (!http_request_small(http, &req, OAUTH_MAX_RESPONSE, &body, &bodylen,
							&resp, err))
	{
		if (resp.status == 400 || resp.status == 401)
		{
			explain_refusal(g, &resp);
			*err = CL_ERR_CONFIG;
		}
		goto cleanup;
	}

	doc = json_parse(body, bodylen, parse_err, sizeof(parse_err));
	if (doc == NULL)
	{
		log_error("%s: the token endpoint %s answered with invalid JSON: %s",
				  g->vendor, g->token_url, parse_err);
		*err = CL_ERR_DATA;
		goto cleanup;
	}
	access = json_string(json_member(doc, "access_token"));
	if (access == NULL || access[0] == '\0')
	{
		log_error("%s: the token endpoint %s answered without an access_token",
				  g->vendor, g->token_url);
		*err = CL_ERR_DATA;
		goto cleanup;
	}
	if (!json_is_null(json_member(doc, "expires_in")) &&
		(!json_int64(json_member(doc, "expires_in"), &expires_in) || expires_in < 0))
	{
		log_error("%s: the token endpoint %s answered with an invalid expires_in",
				  g->vendor, g->token_url);
		*err = CL_ERR_DATA;
		goto cleanup;
	}
	copy = strdup(access);
	if (copy == NULL)
	{
		log_error("%s: out of memory keeping the access token", g->vendor);
		*err = CL_ERR_INTERNAL;
		goto cleanup;
	}
	log_register_secret(copy);
	oauth_token_reset(tok);
	tok->access_token = copy;
	copy = NULL;
	if (!keep_optional(doc, "instance_url", NULL, &tok->instance_url) ||
		!keep_optional(doc, "refresh_token", g->refresh_token, &tok->refresh_token))
	{
		log_error("%s: out of memory keeping the token response", g->vendor);
		*err = CL_ERR_INTERNAL;
		goto cleanup;
	}
	if (tok->refresh_token != NULL)
		log_register_secret(tok->refresh_token);
	tok->expires_at = expires_in > 0 ? time_now() + expires_in * CL_USEC_PER_SEC : 0;
	tok->refreshes++;
	log_debug("%s: access token refreshed (expires in %lld s)", g->vendor,
			  (long long) expires_in);
	ok = true;

cleanup:
	free(copy);
	json_free(doc);
	free(body);
	http_response_reset(&resp);
	tb_free(&form);
	return ok;
}
