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

/*
 * RECENT_SLOTS: a direct-mapped cache of recently interned strings in front
 * of the table. Most fields of a touch (kind, source, medium, campaign,
 * URL) take a few hundred distinct values across millions of rows; at that
 * scale the table and the strings it points to are far out of the CPU
 * caches, and three cache misses per lookup were the largest cost of
 * reading staging. The cache (96 KiB) stays in L2.
 */
#define RECENT_SLOTS 4096

/* A string with its hash bits and length side by side: one cache line per
 * probe, and a hit is confirmed with one memcmp. */
typedef struct InternSlot
{
	const char *s;          /* NULL when empty */
	uint32_t hash;
	uint32_t len;           /* UINT32_MAX for longer strings: compared in full */
} InternSlot;

typedef struct Recent
{
	const char *s;          /* interned, or NULL */
	uint32_t hash;
	uint32_t len;
} Recent;

struct StrPool
{
	Chunk *chunks;          /* owned list; the head is being filled */
	size_t bytes;
	InternSlot *slots;      /* owned: open-addressing intern table */
	size_t nslots;          /* power of two */
	size_t count;
	Recent recent[RECENT_SLOTS];
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
	p->slots = calloc(p->nslots, sizeof(InternSlot));
	if (p->slots == NULL)
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
	InternSlot *slots = calloc(nslots, sizeof(InternSlot));

	if (slots == NULL)
	{
		log_error("out of memory growing the string intern table to %zu slots", nslots);
		return false;
	}
	for (size_t i = 0; i < p->nslots; i++)
	{
		size_t j;

		if (p->slots[i].s == NULL)
			continue;
		j = p->slots[i].hash & (nslots - 1);
		while (slots[j].s != NULL)
			j = (j + 1) & (nslots - 1);
		slots[j] = p->slots[i];
	}
	free(p->slots);
	p->slots = slots;
	p->nslots = nslots;
	return true;
}

/*
 * strpool_intern compares lengths before bytes: the probe is not
 * NUL-terminated at len.
 */
const char *
strpool_intern(StrPool *p, const char *s, size_t len)
{
	uint32_t h;
	size_t i;
	const char *out;
	Recent *r;

	len = strnlen(s, len);
	h = (uint32_t) tx_hash_bytes(TX_HASH_SEED, s, len);
	r = &p->recent[(h >> 7) & (RECENT_SLOTS - 1)];
	if (r->s != NULL && r->hash == h && r->len == len && memcmp(r->s, s, len) == 0)
		return r->s;
	i = h & (p->nslots - 1);
	while (p->slots[i].s != NULL)
	{
		const InternSlot *e = &p->slots[i];

		if (e->hash == h
			&& (e->len != UINT32_MAX ? e->len == len : strlen(e->s) == len)
			&& memcmp(e->s, s, len) == 0)
		{
			out = p->slots[i].s;
			goto found;
		}
		i = (i + 1) & (p->nslots - 1);
	}
	out = strpool_copy(p, s, len);
	if (out == NULL)
		return NULL;
	p->slots[i].s = out;
	p->slots[i].hash = h;
	p->slots[i].len = len < UINT32_MAX ? (uint32_t) len : UINT32_MAX;
	p->count++;
	if (p->count * 4 > p->nslots * 3 && !grow_table(p))
		return NULL;
found:
	if (len < UINT32_MAX)
	{
		r->s = out;
		r->hash = h;
		r->len = (uint32_t) len;
	}
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
	return p->bytes + p->nslots * sizeof(InternSlot);
}
