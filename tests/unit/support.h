/*
 * support.h: small helpers shared by the cmocka unit tests.
 * Include after <stdarg.h>, <stddef.h>, <setjmp.h>, <stdint.h>, <cmocka.h>.
 */
#ifndef CL_SUPPORT_H
#define CL_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>

/* $CL_SHARED_DIR/fixtures/<rel>: ALLOCATED path, caller frees. Fails the
 * test when CL_SHARED_DIR is unset (the shared fixtures are required). */
char *ts_shared_fixture(const char *rel);

/* $CL_SOURCE_DIR/<rel>: ALLOCATED, caller frees. */
char *ts_source_path(const char *rel);

/* Read a whole file: ALLOCATED, NUL-terminated, caller frees; fails the
 * test when unreadable. *len may be NULL. */
char *ts_read_file(const char *path, size_t *len);

/* Write text to path (creating it); fails the test on error. */
void ts_write_file(const char *path, const char *text);

/* A fresh empty directory under $CL_TEST_TMP (or /tmp): ALLOCATED path,
 * caller frees; remove it with ts_rmdir_r(). */
char *ts_make_tmpdir(const char *prefix);
void ts_rmdir_r(const char *path);

/* A growable NUL-terminated string; data is ALLOCATED, the test frees it. */
typedef struct TestBuf
{
	char *data;
	size_t len;
	size_t cap;
} TestBuf;

void tb_put(TestBuf *b, const char *s, size_t n);
void tb_puts(TestBuf *b, const char *s);

/*
 * ts_json_canon appends a type-tagged rendering of v to b (numbers as
 * #text, every unprintable string byte as \xNN, members in order, NULL as
 * <absent>), failing the test when the tree breaks json.h's invariants.
 */
struct JsonValue;
void ts_json_canon(TestBuf *b, const struct JsonValue *v);

#endif
