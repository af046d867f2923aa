#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "sha256.h"

static void
hash_hex(const void *data, size_t len, char hex[SHA256_HEX_SIZE])
{
	Sha256 h;

	sha256_init(&h);
	sha256_update(&h, data, len);
	sha256_final_hex(&h, hex);
}

static void
test_sha256_fips_vectors(void **state)
{
	char hex[SHA256_HEX_SIZE];

	(void) state;
	hash_hex("", 0, hex);
	assert_string_equal(hex,
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	hash_hex("abc", 3, hex);
	assert_string_equal(hex,
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	hash_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, hex);
	assert_string_equal(hex,
		"248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	hash_hex("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
			 "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu", 112, hex);
	assert_string_equal(hex,
		"cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

static void
test_sha256_million_a_streamed(void **state)
{
	/* odd chunk sizes so updates straddle block boundaries in every way */
	static const size_t chunks[] = {1, 7, 63, 64, 65, 127, 1000, 4093};
	char *buf = malloc(4093);
	size_t done = 0;
	size_t i = 0;
	Sha256 h;
	char hex[SHA256_HEX_SIZE];

	(void) state;
	assert_non_null(buf);
	memset(buf, 'a', 4093);
	sha256_init(&h);
	while (done < 1000000)
	{
		size_t n = chunks[i++ % (sizeof(chunks) / sizeof(chunks[0]))];

		if (n > 1000000 - done)
			n = 1000000 - done;
		sha256_update(&h, buf, n);
		done += n;
	}
	assert_int_equal(h.length, 1000000);
	sha256_final_hex(&h, hex);
	assert_string_equal(hex,
		"cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	free(buf);
}

static void
test_sha256_padding_boundaries(void **state)
{
	/* lengths around the 55/56-byte point where the length field no
	 * longer fits the last block */
	static const struct
	{
		size_t len;
		const char *hex;
	} cases[] = {
		{55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"},
		{56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"},
		{63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"},
		{64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"},
		{65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0"},
		{119, "31eba51c313a5c08226adf18d4a359cfdfd8d2e816b13f4af952f7ea6584dcfb"},
		{120, "2f3d335432c70b580af0e8e1b3674a7c020d683aa5f73aaaedfdc55af904c21c"},
	};
	char data[128];
	char hex[SHA256_HEX_SIZE];

	(void) state;
	memset(data, 'a', sizeof(data));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		hash_hex(data, cases[i].len, hex);
		assert_string_equal(hex, cases[i].hex);

		/* the same bytes one at a time */
		Sha256 h;

		sha256_init(&h);
		for (size_t j = 0; j < cases[i].len; j++)
			sha256_update(&h, data + j, 1);
		sha256_update(&h, NULL, 0);
		sha256_final_hex(&h, hex);
		assert_string_equal(hex, cases[i].hex);
	}
}

static void
test_sha256_binary_digest(void **state)
{
	Sha256 h;
	uint8_t digest[32];
	static const uint8_t want[4] = {0xba, 0x78, 0x16, 0xbf};

	(void) state;
	sha256_init(&h);
	sha256_update(&h, "ab", 2);
	sha256_update(&h, "c", 1);
	sha256_final(&h, digest);
	assert_memory_equal(digest, want, sizeof(want));
	assert_int_equal(digest[31], 0xad);

	/* a context is reusable after sha256_init */
	char hex[SHA256_HEX_SIZE];

	sha256_init(&h);
	sha256_final_hex(&h, hex);
	assert_string_equal(hex,
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

/* digest_with: the digest of buf fed in pseudo-random chunks (seeded),
 * using the SHA extensions or not. */
static void
digest_with(bool hardware, const uint8_t *buf, size_t len, uint32_t seed,
			char hex[SHA256_HEX_SIZE])
{
	Sha256 h;
	size_t done = 0;

	(void) sha256_hardware(hardware);
	sha256_init(&h);
	while (done < len)
	{
		size_t n;

		seed = seed * 1103515245u + 12345u;
		n = (seed >> 8) % 300;
		if (n > len - done)
			n = len - done;
		sha256_update(&h, buf + done, n);
		done += n;
	}
	sha256_final_hex(&h, hex);
}

/*
 * The SHA extensions and the portable code agree on every length from 0 to
 * 2,100 bytes and on long inputs, whatever the chunking: the multi-block
 * path keeps its state in registers across blocks, so both single blocks
 * and long runs are covered.
 */
static void
test_sha256_hardware_matches_portable(void **state)
{
	size_t cap = 1 << 20;
	uint8_t *buf = malloc(cap);
	char a[SHA256_HEX_SIZE];
	char b[SHA256_HEX_SIZE];
	uint32_t x = 42;

	(void) state;
	assert_non_null(buf);
	for (size_t i = 0; i < cap; i++)
	{
		x = x * 1664525u + 1013904223u;
		buf[i] = (uint8_t) (x >> 24);
	}
	if (!sha256_hardware(true))
	{
		free(buf);
		skip();     /* this CPU has no SHA extensions: nothing to compare */
	}
	for (size_t len = 0; len <= 2100; len++)
	{
		digest_with(false, buf, len, (uint32_t) len, a);
		digest_with(true, buf, len, (uint32_t) len * 7u, b);
		assert_string_equal(a, b);
	}
	digest_with(false, buf, cap, 1, a);
	digest_with(true, buf, cap, 2, b);
	assert_string_equal(a, b);
	(void) sha256_hardware(true);
	free(buf);
}

static int
use_portable(void **state)
{
	(void) state;
	(void) sha256_hardware(false);
	return 0;
}

static int
use_default(void **state)
{
	(void) state;
	(void) sha256_hardware(true);
	return 0;
}

int
main(void)
{
	/* The known-answer tests run on the code this CPU uses by default, then
	 * on the portable code, so both are pinned to FIPS 180-4's vectors. */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256_fips_vectors),
		cmocka_unit_test(test_sha256_million_a_streamed),
		cmocka_unit_test(test_sha256_padding_boundaries),
		cmocka_unit_test(test_sha256_binary_digest),
		cmocka_unit_test(test_sha256_hardware_matches_portable),
	};
	const struct CMUnitTest portable[] = {
		cmocka_unit_test(test_sha256_fips_vectors),
		cmocka_unit_test(test_sha256_million_a_streamed),
		cmocka_unit_test(test_sha256_padding_boundaries),
		cmocka_unit_test(test_sha256_binary_digest),
	};
	int failed = cmocka_run_group_tests_name("sha256_default", tests, use_default, NULL);

	failed += cmocka_run_group_tests_name("sha256_portable", portable, use_portable, use_default);
	return failed;
}
