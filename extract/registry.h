/*
 * registry.h: every vendor the extractors know, by family.
 */
#ifndef CL_REGISTRY_H
#define CL_REGISTRY_H

#include <stddef.h>

#include "source.h"

extern const SourceVendor vendor_hubspot;
extern const SourceVendor vendor_salesforce;
extern const SourceVendor vendor_google_ads;
extern const SourceVendor vendor_meta;
extern const SourceVendor vendor_mailchimp;

/* Every vendor, NULL-terminated, in the order runs process them. */
extern const SourceVendor *const source_vendors[];

/* registry_find: the vendor called name in family, or NULL. */
const SourceVendor *registry_find(SourceFamily family, const char *name);

/* registry_names writes the family's vendor names, comma-separated, into
 * buf (size bytes, always terminated): for messages and --help. */
void registry_names(SourceFamily family, char *buf, size_t size);

#endif
