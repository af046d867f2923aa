/*
 * fileio.h: whole-file reads for the small control files cl-load reads
 * (migrations, manifests). Data files are streamed, never read whole.
 */
#ifndef CL_LOAD_FILEIO_H
#define CL_LOAD_FILEIO_H

#include <stdbool.h>
#include <stddef.h>

/*
 * fileio_read_all reads path into an ALLOCATED, NUL-terminated buffer that
 * the caller frees with free(); *len (may be NULL) is its size without the
 * terminator. Files larger than max_bytes, and anything but a regular file,
 * are refused. On failure the reason (with strerror) is logged.
 */
bool fileio_read_all(const char *path, size_t max_bytes, char **data, size_t *len)
	__attribute__((warn_unused_result));

/* fileio_is_regular: path exists and is a regular file (after symlinks). */
bool fileio_is_regular(const char *path);

/* fileio_join writes dir/name into buf; false when it does not fit. */
bool fileio_join(char *buf, size_t size, const char *dir, const char *name);

#endif
