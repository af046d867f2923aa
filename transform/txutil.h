/*
 * txutil.h: small helpers shared by the transform modules: hashing, array
 * growth, value normalisation, path resolution and NULL-aware comparison.
 */
#ifndef CL_TXUTIL_H
#define CL_TXUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "timeutil.h"

/* A timestamp that a row did not carry (created_at of an old lead, ...). */
#define TX_TIME_NONE INT64_MIN

/* FNV-1a, 64 bit: fast, and good enough for the in-memory indexes. */
#define TX_HASH_SEED UINT64_C(14695981039346656037)

/*
 * tx_hash_bytes folds n bytes into h; tx_hash_str a NUL-terminated string
 * (NULL hashes like a distinct marker, not like ""); tx_hash_u64 a number or
 * a pointer value.
 */
static inline uint64_t
tx_hash_bytes(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
	{
		h ^= b[i];
		h *= UINT64_C(1099511628211);
	}
	return h;
}

static inline uint64_t
tx_hash_u64(uint64_t h, uint64_t v)
{
	return tx_hash_bytes(h, &v, sizeof(v));
}

static inline uint64_t
tx_hash_str(uint64_t h, const char *s)
{
	if (s == NULL)
		return tx_hash_u64(h, UINT64_C(0x9e3779b97f4a7c15));
	for (; *s != '\0'; s++)
	{
		h ^= (unsigned char) *s;
		h *= UINT64_C(1099511628211);
	}
	/* a terminator, so that ("ab","c") and ("a","bc") differ */
	h ^= 0xff;
	h *= UINT64_C(1099511628211);
	return h;
}

/*
 * tx_grow makes room for at least need (>= 1) elements of size bytes in
 * items (capacity *cap, doubled as needed) and returns the array, which may
 * have moved; the caller stores it back. NULL on overflow or out of memory
 * (logged): items is still valid and owned by the caller then.
 */
void *tx_grow(void *items, size_t *cap, size_t need, size_t size);

/*
 * tx_trim returns the span of s (length len) without leading and trailing
 * ASCII whitespace, in *start / *out_len.
 */
void tx_trim(const char *s, size_t len, size_t *start, size_t *out_len);

/*
 * tx_lower_trim writes the trimmed, ASCII lower-cased form of s (length
 * len) into buf (bufsize bytes, NUL-terminated) and returns its length, or
 * SIZE_MAX when it does not fit.
 */
size_t tx_lower_trim(const char *s, size_t len, char *buf, size_t bufsize);

/*
 * tx_resolve_path: path itself when absolute or when base_dir is NULL or
 * empty, else base_dir/path. Returns an ALLOCATED string the caller frees
 * with free(), NULL when out of memory (logged).
 */
char *tx_resolve_path(const char *base_dir, const char *path);

/*
 * tx_dirname: the directory part of path ("." when it has none). Returns an
 * ALLOCATED string the caller frees with free(), NULL when out of memory.
 */
char *tx_dirname(const char *path);

/* strcmp where NULL sorts before every string, "" included. */
int tx_strcmp_null(const char *a, const char *b);

/* Three-way comparison of integers without overflow. */
#define TX_CMP(a, b) (((a) > (b)) - ((a) < (b)))

#endif
