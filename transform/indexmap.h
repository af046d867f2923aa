/*
 * indexmap.h: hash indexes over arrays the caller owns.
 *
 * IndexMap maps a key to the position of an element in the caller's array;
 * it stores only positions and hash bits (8 bytes a slot), never keys, and
 * asks the caller's equality callback to compare a probe key with an
 * element. That keeps the dedupe index of ten million touches small.
 *
 * PtrIndex numbers distinct pointers densely (0, 1, 2, ...): the interned
 * strings of a StrPool (contact ids, emails) become small integers that
 * index the caller's arrays.
 */
#ifndef CL_INDEXMAP_H
#define CL_INDEXMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef bool (*IndexMapEq)(const void *ctx, uint32_t index, const void *key);

/* A slot: the element's index + 1 (0 = empty) and its hash bits, side by
 * side so that a probe reads one cache line, not two. */
typedef struct IndexSlot
{
	uint32_t index1;
	uint32_t hash;
} IndexSlot;

typedef struct IndexMap
{
	IndexSlot *slots;       /* owned */
	size_t nslots;          /* power of two, 0 before the first insert */
	size_t count;
} IndexMap;

/* Release the tables; the map is empty and reusable afterwards. */
void indexmap_free(IndexMap *m);

/* indexmap_find: true with *index when an element equal to key (by eq) is
 * indexed under hash. */
bool indexmap_find(const IndexMap *m, uint64_t hash, IndexMapEq eq,
				   const void *ctx, const void *key, uint32_t *index);

/* indexmap_insert adds index under hash (the caller has checked that no
 * equal element is indexed). false when out of memory (logged). */
bool indexmap_insert(IndexMap *m, uint64_t hash, uint32_t index);

typedef struct PtrIndex
{
	IndexMap map;
	const void **keys;      /* owned array: keys[id] */
	size_t count;
	size_t cap;
} PtrIndex;

void ptrindex_free(PtrIndex *p);

/* ptrindex_add: the id of key, added when new. false when out of memory
 * (logged). key must not be NULL. */
bool ptrindex_add(PtrIndex *p, const void *key, uint32_t *id);

/* ptrindex_find: true with *id when key has one. */
bool ptrindex_find(const PtrIndex *p, const void *key, uint32_t *id);

#endif
