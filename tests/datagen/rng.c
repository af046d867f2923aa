/*
 * rng.c: the generator's own PRNG, xoshiro256** seeded through splitmix64.
 *
 * rand() differs between C libraries and time() differs between runs; this
 * one gives the same sequence everywhere, which is what makes the output
 * byte-identical for the same seed.
 */
#include "datagen.h"

/*
 * splitmix64 spreads a seed over all 64 bits; xoshiro must not start from a
 * state with few bits set.
 */
static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z;

	*x += UINT64_C(0x9E3779B97F4A7C15);
	z = *x;
	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

static uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/*
 * dg_rng_init derives the stream's state from (seed, stream), so each
 * generation stage draws from its own sequence.
 */
void
dg_rng_init(DgRng *rng, uint64_t seed, uint64_t stream)
{
	uint64_t x = seed ^ (stream * UINT64_C(0xD1B54A32D192ED03));

	for (int i = 0; i < 4; i++)
	{
		rng->s[i] = splitmix64(&x);
	}
}

uint64_t
dg_rng_next(DgRng *rng)
{
	uint64_t *s = rng->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

/*
 * dg_rng_below returns a uniform value in [0, n). Plain modulo would favour
 * small values; draws below the threshold are rejected instead.
 */
uint64_t
dg_rng_below(DgRng *rng, uint64_t n)
{
	uint64_t threshold;
	uint64_t r;

	if (n <= 1)
	{
		return 0;
	}
	threshold = (0 - n) % n;
	do
	{
		r = dg_rng_next(rng);
	} while (r < threshold);
	return r % n;
}

/* dg_rng_range: uniform in [lo, hi], both inclusive; lo when hi < lo. */
int64_t
dg_rng_range(DgRng *rng, int64_t lo, int64_t hi)
{
	if (hi <= lo)
	{
		return lo;
	}
	return lo + (int64_t) dg_rng_below(rng, (uint64_t) (hi - lo) + 1);
}

/* dg_rng_permille: true with probability permille / 1000. */
bool
dg_rng_permille(DgRng *rng, int permille)
{
	return (int) dg_rng_below(rng, 1000) < permille;
}

/*
 * dg_rng_weighted picks an index with probability proportional to its
 * weight (non-negative integers, at least one positive).
 */
size_t
dg_rng_weighted(DgRng *rng, const int *weights, size_t n)
{
	uint64_t total = 0;
	uint64_t r;

	for (size_t i = 0; i < n; i++)
	{
		total += (uint64_t) weights[i];
	}
	r = dg_rng_below(rng, total);
	for (size_t i = 0; i < n; i++)
	{
		if (r < (uint64_t) weights[i])
		{
			return i;
		}
		r -= (uint64_t) weights[i];
	}
	return n - 1;
}

/*
 * dg_hash64 is FNV-1a finished with a splitmix round: stable ids derived
 * from a string (Mailchimp email ids, IP addresses) that do not depend on
 * the seed, the way the vendor's own ids do not.
 */
uint64_t
dg_hash64(const char *s, uint64_t salt)
{
	uint64_t h = UINT64_C(0xCBF29CE484222325) ^ salt;

	for (const unsigned char *p = (const unsigned char *) s; *p; p++)
	{
		h ^= *p;
		h *= UINT64_C(0x100000001B3);
	}
	return splitmix64(&h);
}
