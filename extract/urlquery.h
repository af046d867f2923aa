/*
 * urlquery.h: read parameters from the query string of a URL, such as the
 * utm_* tags of a link clicked in an email.
 */
#ifndef CL_URLQUERY_H
#define CL_URLQUERY_H

#include <stdbool.h>

/*
 * url_query_param finds the first parameter called name in url's query
 * (between '?' and '#') and percent-decodes its value ('+' is a space).
 * *value is ALLOCATED (caller frees with free()), or NULL when the
 * parameter is absent or empty. Returns false only when out of memory.
 * Names match exactly, so "utm_source" does not match "UTM_SOURCE".
 */
bool url_query_param(const char *url, const char *name, char **value);

#endif
