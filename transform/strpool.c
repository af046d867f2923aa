/*
 * strpool.c: chunked string storage with an intern table.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "strpool.h"
#include "txutil.h"

#define CHUNK_SIZE (256 * 1024)
#define ALIGNMENT 16

typedef struct Chunk
{
	struct Chunk *next;
	size_t used;
	size_t cap;
	_Alignas(ALIGNMENT) unsigned char data[];
} Chunk;

struct StrPool
{
	Chunk *chunks;          /* owned list; the head is being filled */
	size_t bytes;
	const char **slots;     /* owned: open-addressing intern table */
	uint32_t *hashes;       /* owned: low bits of each slot's hash */
	size_t nslots;          /* power of two */
	size_t count;
};

/*
 * strpool_new starts small; the intern table doubles as values arrive.
 */
StrPool *
strpool_new(void)
{
	StrPool *p = calloc(1, sizeof(StrPool));

	if (p == NULL)
	{
		log_error("out of memory creating a string pool");
		return NULL;
	}
	p->nslots = 1024;
	p->slots = calloc(p->nslots, sizeof(const char *));
	p->hashes = calloc(p->nslots, sizeof(uint32_t));
	if (p->slots == NULL || p->hashes == NULL)
	{
		log_error("out of memory creating a string pool");
		strpool_free(p);
		return NULL;
	}
	return p;
}

/*
 * strpool_free releases every string at once: nothing in a run outlives it.
 */
void
strpool_free(StrPool *p)
{
	if (p == NULL)
		return;
	while (p->chunks != NULL)
	{
		Chunk *next = p->chunks->next;

		free(p->chunks);
		p->chunks = next;
	}
	free(p->slots);
	free(p->hashes);
	free(p);
}

/*
 * strpool_alloc carves from the head chunk; a request larger than a chunk
 * gets a chunk of its own, linked behind the head so that the head keeps
 * its free space.
 */
static void *
carve(StrPool *p, size_t size, size_t align)
{
	Chunk *c = p->chunks;
	size_t at = c != NULL ? (c->used + align - 1) & ~(align - 1) : 0;
	size_t need = size;
	void *out;

	if (need > SIZE_MAX - sizeof(Chunk))
	{
		log_error("string pool request of %zu bytes is too large", size);
		return NULL;
	}
	if (c == NULL || at > c->cap || c->cap - at < need)
	{
		size_t cap = need > CHUNK_SIZE ? need : CHUNK_SIZE;
		Chunk *n = malloc(sizeof(Chunk) + cap);

		if (n == NULL)
		{
			log_error("out of memory in the string pool (%zu bytes held)", p->bytes);
			return NULL;
		}
		n->used = 0;
		n->cap = cap;
		p->bytes += cap;
		if (c != NULL && need > CHUNK_SIZE)
		{
			n->next = c->next;
			c->next = n;
		}
		else
		{
			n->next = c;
			p->chunks = n;
		}
		if (p->chunks != n)
		{
			n->used = need;     /* a chunk of its own, behind the head */
			return n->data;
		}
		c = n;
		at = 0;
	}
	out = c->data + at;
	c->used = at + need;
	return out;
}

void *
strpool_alloc(StrPool *p, size_t size)
{
	return carve(p, size, ALIGNMENT);
}

const char *
strpool_copy(StrPool *p, const char *s, size_t len)
{
	char *out;

	len = strnlen(s, len);
	out = carve(p, len + 1, 1);     /* strings need no alignment */
	if (out == NULL)
		return NULL;
	memcpy(out, s, len);
	out[len] = '\0';
	return out;
}

/*
 * grow_table doubles the intern table when it is three-quarters full; the
 * stored hash bits make rehashing free of string reads and keep probes
 * cheap at that load.
 */
static bool
grow_table(StrPool *p)
{
	size_t nslots = p->nslots * 2;
	const char **slots = calloc(nslots, sizeof(const char *));
	uint32_t *hashes = calloc(nslots, sizeof(uint32_t));

	if (slots == NULL || hashes == NULL)
	{
		free(slots);
		free(hashes);
		log_error("out of memory growing the string intern table to %zu slots", nslots);
		return false;
	}
	for (size_t i = 0; i < p->nslots; i++)
	{
		size_t j;

		if (p->slots[i] == NULL)
			continue;
		j = p->hashes[i] & (nslots - 1);
		while (slots[j] != NULL)
			j = (j + 1) & (nslots - 1);
		slots[j] = p->slots[i];
		hashes[j] = p->hashes[i];
	}
	free(p->slots);
	free(p->hashes);
	p->slots = slots;
	p->hashes = hashes;
	p->nslots = nslots;
	return true;
}

/*
 * strpool_intern compares with strncmp plus the terminator check because the
 * probe is not NUL-terminated at len.
 */
const char *
strpool_intern(StrPool *p, const char *s, size_t len)
{
	uint32_t h;
	size_t i;
	const char *out;

	len = strnlen(s, len);
	h = (uint32_t) tx_hash_bytes(TX_HASH_SEED, s, len);
	i = h & (p->nslots - 1);
	while (p->slots[i] != NULL)
	{
		if (p->hashes[i] == h && strncmp(p->slots[i], s, len) == 0
			&& p->slots[i][len] == '\0')
			return p->slots[i];
		i = (i + 1) & (p->nslots - 1);
	}
	out = strpool_copy(p, s, len);
	if (out == NULL)
		return NULL;
	p->slots[i] = out;
	p->hashes[i] = h;
	p->count++;
	if (p->count * 4 > p->nslots * 3 && !grow_table(p))
		return NULL;
	return out;
}

const char *
strpool_intern_cstr(StrPool *p, const char *s)
{
	return strpool_intern(p, s, strlen(s));
}

size_t
strpool_bytes(const StrPool *p)
{
	return p->bytes + p->nslots * (sizeof(const char *) + sizeof(uint32_t));
}
