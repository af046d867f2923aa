/*
 * strpool.h: the strings of one transform run.
 *
 * A run holds millions of touches whose source, medium, campaign, kind and
 * source_system repeat endlessly, and ids that do not repeat at all. The
 * pool stores both kinds in large chunks: strpool_intern() returns the same
 * pointer for equal strings (so values can be compared and hashed by
 * pointer, and are stored once), strpool_copy() stores a string without
 * looking for an equal one. Every string stays valid until strpool_free();
 * nothing is freed individually.
 */
#ifndef CL_STRPOOL_H
#define CL_STRPOOL_H

#include <stdbool.h>
#include <stddef.h>

typedef struct StrPool StrPool;

/* Returns an ALLOCATED pool; free with strpool_free(). NULL when out of
 * memory (logged). */
StrPool *strpool_new(void) __attribute__((warn_unused_result));
void strpool_free(StrPool *p);     /* NULL-safe */

/*
 * strpool_intern returns the pool's copy of s (len bytes; a NUL inside ends
 * the string), the same pointer for every equal string. strpool_copy
 * returns a fresh copy. Both return NULL only when out of memory (logged);
 * the strings are owned by the pool.
 */
const char *strpool_intern(StrPool *p, const char *s, size_t len);
const char *strpool_intern_cstr(StrPool *p, const char *s);
const char *strpool_copy(StrPool *p, const char *s, size_t len);

/* strpool_alloc: size bytes aligned for any pointer or integer, owned by
 * the pool (small per-row arrays such as a deal's contact ids). */
void *strpool_alloc(StrPool *p, size_t size);

/* Bytes held, for the run summary. */
size_t strpool_bytes(const StrPool *p);

#endif
