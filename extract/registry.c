/*
 * registry.c: see registry.h. A new vendor is one line here plus its file.
 */
#include "registry.h"

#include <stdio.h>
#include <string.h>

const SourceVendor *const source_vendors[] = {
	&vendor_hubspot,
	&vendor_salesforce,
	&vendor_google_ads,
	&vendor_meta,
	&vendor_mailchimp,
	NULL
};


const SourceVendor *
registry_find(SourceFamily family, const char *name)
{
	for (int i = 0; source_vendors[i] != NULL; i++)
	{
		if (source_vendors[i]->family == family &&
			strcmp(source_vendors[i]->name, name) == 0)
			return source_vendors[i];
	}
	return NULL;
}


/*
 * registry_names: see registry.h.
 */
void
registry_names(SourceFamily family, char *buf, size_t size)
{
	size_t len = 0;

	if (size == 0)
		return;
	buf[0] = '\0';
	for (int i = 0; source_vendors[i] != NULL; i++)
	{
		int n;

		if (source_vendors[i]->family != family)
			continue;
		n = snprintf(buf + len, size - len, "%s%s", len > 0 ? "," : "",
					 source_vendors[i]->name);
		if (n < 0 || (size_t) n >= size - len)
			return;
		len += (size_t) n;
	}
}
