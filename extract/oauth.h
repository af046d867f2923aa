/*
 * oauth.h: the OAuth 2 refresh-token grant (RFC 6749 §6) that HubSpot apps,
 * Google Ads and Salesforce use to turn a long-lived refresh token into a
 * short-lived access token.
 */
#ifndef CL_OAUTH_H
#define CL_OAUTH_H

#include <stdbool.h>

#include "exitcode.h"
#include "http.h"
#include "timeutil.h"

typedef struct OAuthGrant
{
	const char *vendor;         /* "hubspot": messages */
	const char *section;        /* "crm.hubspot": where to fix credentials */
	const char *token_url;
	const char *client_id;
	const char *client_secret;
	const char *refresh_token;
} OAuthGrant;

typedef struct OAuthToken
{
	char *access_token;         /* owned; registered with the log masker */
	ClTime expires_at;          /* 0: the server named no lifetime */
	int refreshes;              /* how many grants this run made */
	char *instance_url;         /* owned or NULL: Salesforce's API host */
	char *refresh_token;        /* owned or NULL: a new refresh token when
								 * the server rotated it (differs from the
								 * grant's); registered with the log masker */
} OAuthToken;

/* Refresh this long before the announced expiry, so that a page started
 * just before it does not fail half-way. */
#define OAUTH_EXPIRY_MARGIN_USEC (INT64_C(60) * CL_USEC_PER_SEC)

/* oauth_token_fresh: there is a token, and it does not expire within the
 * margin. */
bool oauth_token_fresh(const OAuthToken *tok, ClTime now);

/*
 * oauth_refresh POSTs the form grant_type=refresh_token, client_id,
 * client_secret, refresh_token to g->token_url and keeps the access_token
 * (and expires_in) of the JSON answer in *tok, replacing an older token.
 * The optional instance_url and a rotated refresh_token of the answer are
 * kept too (tok->refresh_token stays NULL when it equals the grant's).
 * A refusal by the endpoint (400/401: invalid_grant, invalid_client) is
 * CL_ERR_CONFIG with the endpoint's error and description; an answer
 * without access_token is CL_ERR_DATA; transport failures are classified
 * by http_request. Logged in every case.
 */
bool oauth_refresh(HttpClient *http, const OAuthGrant *g, OAuthToken *tok,
				   ClError *err);

/* Release the token; NULL-safe, idempotent. */
void oauth_token_reset(OAuthToken *tok);

#endif
