/*
 * indexmap.c: open addressing with linear probing, grown at three-quarters load.
 */
#include <stdlib.h>

#include "indexmap.h"
#include "log.h"
#include "txutil.h"

void
indexmap_free(IndexMap *m)
{
	free(m->slots);
	m->slots = NULL;
	m->nslots = 0;
	m->count = 0;
}

/*
 * indexmap_find compares stored hash bits before calling eq, so most misses
 * never touch the caller's array.
 */
bool
indexmap_find(const IndexMap *m, uint64_t hash, IndexMapEq eq,
			  const void *ctx, const void *key, uint32_t *index)
{
	uint32_t h = (uint32_t) (hash ^ (hash >> 32));
	size_t i;

	if (m->nslots == 0)
		return false;
	i = h & (m->nslots - 1);
	while (m->slots[i].index1 != 0)
	{
		if (m->slots[i].hash == h && eq(ctx, m->slots[i].index1 - 1, key))
		{
			*index = m->slots[i].index1 - 1;
			return true;
		}
		i = (i + 1) & (m->nslots - 1);
	}
	return false;
}

/*
 * rehash moves every slot into tables of nslots; the stored hash bits make
 * this independent of the caller's keys.
 */
static bool
rehash(IndexMap *m, size_t nslots)
{
	IndexSlot *slots = calloc(nslots, sizeof(IndexSlot));

	if (slots == NULL)
	{
		log_error("out of memory growing an index to %zu slots", nslots);
		return false;
	}
	for (size_t i = 0; i < m->nslots; i++)
	{
		size_t j;

		if (m->slots[i].index1 == 0)
			continue;
		j = m->slots[i].hash & (nslots - 1);
		while (slots[j].index1 != 0)
			j = (j + 1) & (nslots - 1);
		slots[j] = m->slots[i];
	}
	free(m->slots);
	m->slots = slots;
	m->nslots = nslots;
	return true;
}

/*
 * indexmap_insert grows at three-quarters load: the stored hash bits keep
 * the longer probes cheap, and at ten million touches the index is the
 * largest table of the load (8 bytes a slot), so a fuller one matters.
 */
bool
indexmap_insert(IndexMap *m, uint64_t hash, uint32_t index)
{
	uint32_t h = (uint32_t) (hash ^ (hash >> 32));
	size_t i;

	if (index == UINT32_MAX)
	{
		log_error("an index holds at most %u elements", UINT32_MAX - 1);
		return false;
	}
	if ((m->count + 1) * 4 > m->nslots * 3)
	{
		size_t nslots = m->nslots == 0 ? 64 : m->nslots * 2;

		if (!rehash(m, nslots))
			return false;
	}
	i = h & (m->nslots - 1);
	while (m->slots[i].index1 != 0)
		i = (i + 1) & (m->nslots - 1);
	m->slots[i].index1 = index + 1;
	m->slots[i].hash = h;
	m->count++;
	return true;
}

void
ptrindex_free(PtrIndex *p)
{
	indexmap_free(&p->map);
	free(p->keys);
	p->keys = NULL;
	p->count = 0;
	p->cap = 0;
}

static bool
ptr_eq(const void *ctx, uint32_t index, const void *key)
{
	const PtrIndex *p = ctx;

	return p->keys[index] == key;
}

bool
ptrindex_find(const PtrIndex *p, const void *key, uint32_t *id)
{
	uint64_t h = tx_hash_u64(TX_HASH_SEED, (uint64_t) (uintptr_t) key);

	return indexmap_find(&p->map, h, ptr_eq, p, key, id);
}

/*
 * ptrindex_add hands out ids in first-seen order; callers never depend on
 * the order, only on the ids being dense.
 */
bool
ptrindex_add(PtrIndex *p, const void *key, uint32_t *id)
{
	uint64_t h = tx_hash_u64(TX_HASH_SEED, (uint64_t) (uintptr_t) key);
	const void **keys;

	if (indexmap_find(&p->map, h, ptr_eq, p, key, id))
		return true;
	keys = tx_grow(p->keys, &p->cap, p->count + 1, sizeof(const void *));
	if (keys == NULL)
		return false;
	p->keys = keys;
	if (!indexmap_insert(&p->map, h, (uint32_t) p->count))
		return false;
	p->keys[p->count] = key;
	*id = (uint32_t) p->count;
	p->count++;
	return true;
}
