/*
 * sha256.c: SHA-256 as specified in FIPS 180-4, section 6.2.
 *
 * The portable compression function is byte-order independent: words are
 * assembled from bytes explicitly, so the same code is right on big- and
 * little-endian hosts. On x86-64 processors with the SHA extensions the
 * compression runs on them instead (about 6x faster here): every staging
 * file is hashed when written, again when read, and every transform output
 * once more, so at millions of rows the checksum was the largest single cost
 * of reading staging. Both paths are checked against each other in tests.
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SHA256_HAVE_X86_SHA 1
#include <cpuid.h>
#include <immintrin.h>
#endif

#include "sha256.h"

/* FIPS 180-4 4.2.2: the first 32 bits of the fractional parts of the cube
 * roots of the first 64 primes. */
static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
	0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
	0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
	0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
	0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
	0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
	0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t
rotr(uint32_t x, unsigned n)
{
	return (x >> n) | (x << (32 - n));
}

/*
 * block_portable applies the compression function to one 64-byte block.
 */
static void
block_portable(uint32_t state[8], const uint8_t block[64])
{
	uint32_t w[64];
	uint32_t a = state[0];
	uint32_t b = state[1];
	uint32_t c = state[2];
	uint32_t d = state[3];
	uint32_t e = state[4];
	uint32_t f = state[5];
	uint32_t g = state[6];
	uint32_t h = state[7];

	for (int t = 0; t < 16; t++)
	{
		w[t] = (uint32_t) block[4 * t] << 24 |
			(uint32_t) block[4 * t + 1] << 16 |
			(uint32_t) block[4 * t + 2] << 8 |
			(uint32_t) block[4 * t + 3];
	}
	for (int t = 16; t < 64; t++)
	{
		uint32_t s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
		uint32_t s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);

		w[t] = w[t - 16] + s0 + w[t - 7] + s1;
	}

	for (int t = 0; t < 64; t++)
	{
		uint32_t S1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
		uint32_t ch = (e & f) ^ (~e & g);
		uint32_t t1 = h + S1 + ch + K[t] + w[t];
		uint32_t S0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
		uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
		uint32_t t2 = S0 + maj;

		h = g;
		g = f;
		f = e;
		e = d + t1;
		d = c;
		c = b;
		b = a;
		a = t1 + t2;
	}

	state[0] += a;
	state[1] += b;
	state[2] += c;
	state[3] += d;
	state[4] += e;
	state[5] += f;
	state[6] += g;
	state[7] += h;
}

#ifdef SHA256_HAVE_X86_SHA
/*
 * blocks_x86_sha compresses n consecutive blocks with the SHA-NI
 * instructions. The state lives in two registers in the order the
 * instructions want (ABEF, CDGH) for the whole run of blocks; each group of
 * four rounds takes four message words, computed from the previous sixteen
 * with sha256msg1/msg2 as FIPS 180-4 6.2.2 step 1 does one word at a time.
 */
__attribute__((target("sha,sse4.1,ssse3")))
static void
blocks_x86_sha(uint32_t state[8], const uint8_t *data, size_t n)
{
	const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
	__m128i tmp = _mm_loadu_si128((const __m128i *) &state[0]);    /* DCBA */
	__m128i st1 = _mm_loadu_si128((const __m128i *) &state[4]);    /* HGFE */
	__m128i st0;

	tmp = _mm_shuffle_epi32(tmp, 0xB1);         /* CDAB */
	st1 = _mm_shuffle_epi32(st1, 0x1B);         /* EFGH */
	st0 = _mm_alignr_epi8(tmp, st1, 8);         /* ABEF */
	st1 = _mm_blend_epi16(st1, tmp, 0xF0);      /* CDGH */

	for (; n > 0; n--, data += 64)
	{
		__m128i save0 = st0;
		__m128i save1 = st1;
		__m128i w[4];

		for (int g = 0; g < 16; g++)
		{
			__m128i m;
			__m128i k;

			if (g < 4)
				m = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *) (data + 16 * g)), bswap);
			else
			{
				/* w[g & 3] still holds the words of group g - 4 */
				m = _mm_sha256msg1_epu32(w[g & 3], w[(g - 3) & 3]);
				m = _mm_add_epi32(m, _mm_alignr_epi8(w[(g - 1) & 3], w[(g - 2) & 3], 4));
				m = _mm_sha256msg2_epu32(m, w[(g - 1) & 3]);
			}
			w[g & 3] = m;
			k = _mm_add_epi32(m, _mm_loadu_si128((const __m128i *) &K[4 * g]));
			st1 = _mm_sha256rnds2_epu32(st1, st0, k);
			k = _mm_shuffle_epi32(k, 0x0E);
			st0 = _mm_sha256rnds2_epu32(st0, st1, k);
		}
		st0 = _mm_add_epi32(st0, save0);
		st1 = _mm_add_epi32(st1, save1);
	}

	tmp = _mm_shuffle_epi32(st0, 0x1B);         /* FEBA */
	st1 = _mm_shuffle_epi32(st1, 0xB1);         /* DCHG */
	st0 = _mm_blend_epi16(tmp, st1, 0xF0);      /* DCBA */
	st1 = _mm_alignr_epi8(st1, tmp, 8);         /* HGFE */
	_mm_storeu_si128((__m128i *) &state[0], st0);
	_mm_storeu_si128((__m128i *) &state[4], st1);
}

/* cpu_has_x86_sha: CPUID leaf 7 EBX bit 29 (SHA), leaf 1 ECX bits 9 and 19
 * (SSSE3, SSE4.1), which the shuffles and blends need. */
static bool
cpu_has_x86_sha(void)
{
	unsigned a, b, c, d;

	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 9)) || !(c & (1u << 19)))
		return false;
	if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
		return false;
	return (b & (1u << 29)) != 0;
}
#endif

/* -1: not yet probed; 0: portable; 1: SHA extensions. Several threads hash
 * at once (staging reader, output writers); two of them probing at the same
 * time get the same answer, and the atomic makes that sharing well defined. */
static atomic_int use_hardware = -1;

static bool
hardware_enabled(void)
{
	int u = atomic_load_explicit(&use_hardware, memory_order_relaxed);

	if (u < 0)
	{
#ifdef SHA256_HAVE_X86_SHA
		u = cpu_has_x86_sha() ? 1 : 0;
#else
		u = 0;
#endif
		atomic_store_explicit(&use_hardware, u, memory_order_relaxed);
	}
	return u == 1;
}

bool
sha256_hardware(bool allow)
{
	if (!allow)
	{
		atomic_store_explicit(&use_hardware, 0, memory_order_relaxed);
		return false;
	}
	atomic_store_explicit(&use_hardware, -1, memory_order_relaxed);
	return hardware_enabled();
}

/* compress: n consecutive 64-byte blocks. */
static void
compress(uint32_t state[8], const uint8_t *data, size_t n)
{
#ifdef SHA256_HAVE_X86_SHA
	if (hardware_enabled())
	{
		blocks_x86_sha(state, data, n);
		return;
	}
#endif
	for (; n > 0; n--, data += 64)
		block_portable(state, data);
}

/*
 * sha256_init sets the FIPS 180-4 5.3.3 initial hash value.
 */
void
sha256_init(Sha256 *h)
{
	static const uint32_t H0[8] = {
		0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
		0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
	};

	memcpy(h->state, H0, sizeof(H0));
	h->length = 0;
	h->used = 0;
	memset(h->block, 0, sizeof(h->block));
}

/*
 * sha256_update hashes len more bytes; any split of the input into calls
 * gives the same digest.
 */
void
sha256_update(Sha256 *h, const void *data, size_t len)
{
	const uint8_t *p = data;

	if (len == 0)
		return;                 /* data may be NULL then */
	h->length += len;
	if (h->used > 0)
	{
		size_t take = sizeof(h->block) - h->used;

		if (take > len)
			take = len;
		memcpy(h->block + h->used, p, take);
		h->used += take;
		p += take;
		len -= take;
		if (h->used < sizeof(h->block))
			return;
		compress(h->state, h->block, 1);
		h->used = 0;
	}
	if (len >= sizeof(h->block))
	{
		size_t n = len / sizeof(h->block);

		compress(h->state, p, n);
		p += n * sizeof(h->block);
		len -= n * sizeof(h->block);
	}
	if (len > 0)
	{
		memcpy(h->block, p, len);
		h->used = len;
	}
}

/*
 * sha256_final pads the message (FIPS 180-4 5.1.1: a 1 bit, zeros, the
 * length in bits as a 64-bit big-endian number) and writes the digest. The
 * context must be re-initialised before it is used again.
 */
void
sha256_final(Sha256 *h, uint8_t digest[32])
{
	uint64_t bits = h->length * 8;

	h->block[h->used++] = 0x80;
	if (h->used > 56)
	{
		memset(h->block + h->used, 0, sizeof(h->block) - h->used);
		compress(h->state, h->block, 1);
		h->used = 0;
	}
	memset(h->block + h->used, 0, 56 - h->used);
	for (int i = 0; i < 8; i++)
		h->block[56 + i] = (uint8_t) (bits >> (56 - 8 * i));
	compress(h->state, h->block, 1);

	for (int i = 0; i < 8; i++)
	{
		digest[4 * i] = (uint8_t) (h->state[i] >> 24);
		digest[4 * i + 1] = (uint8_t) (h->state[i] >> 16);
		digest[4 * i + 2] = (uint8_t) (h->state[i] >> 8);
		digest[4 * i + 3] = (uint8_t) h->state[i];
	}
	memset(h->block, 0, sizeof(h->block));
	h->used = 0;
}

/*
 * sha256_final_hex is sha256_final with the digest as 64 lower-case hex
 * digits and a NUL.
 */
void
sha256_final_hex(Sha256 *h, char hex[SHA256_HEX_SIZE])
{
	static const char xdigits[] = "0123456789abcdef";
	uint8_t digest[32];

	sha256_final(h, digest);
	for (int i = 0; i < 32; i++)
	{
		hex[2 * i] = xdigits[digest[i] >> 4];
		hex[2 * i + 1] = xdigits[digest[i] & 0x0f];
	}
	hex[64] = '\0';
}
