/*
 * sha256.h: FIPS 180-4 SHA-256, for staging manifests. Self-contained so
 * the common library needs no crypto dependency for a checksum; uses the
 * CPU's SHA extensions where it has them.
 */
#ifndef CL_SHA256_H
#define CL_SHA256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct Sha256
{
	uint32_t state[8];
	uint64_t length;        /* bytes hashed */
	uint8_t block[64];
	size_t used;
} Sha256;

#define SHA256_HEX_SIZE 65

void sha256_init(Sha256 *h);
void sha256_update(Sha256 *h, const void *data, size_t len);
void sha256_final(Sha256 *h, uint8_t digest[32]);
void sha256_final_hex(Sha256 *h, char hex[SHA256_HEX_SIZE]);

/*
 * sha256_hardware chooses the compression function for the whole process:
 * with allow, the CPU's SHA extensions when it has them (the default);
 * without, the portable code. Returns whether the extensions are in use.
 * For tests and benchmarks that compare the two; digests never differ.
 */
bool sha256_hardware(bool allow);

#endif
