/*
 * ndjson_rows.h: whole lines of NDJSON parsed into JsonValue trees that live
 * in one arena, for reading staging at volume.
 *
 * JsonStream (json.h) builds each record with malloc and frees it after its
 * callback: right for network responses, but at ten million staging rows
 * the allocator dominated. A RowBatch instead holds the trees of a run of
 * complete lines in blocks it reuses; the trees stay valid until the batch
 * is reset, which also lets one thread parse a batch while another reads
 * the previous one (staging_read).
 *
 * Rows are the same JsonValue trees as elsewhere, so every json_member /
 * json_text accessor works on them; they must never be passed to
 * json_free().
 */
#ifndef CL_NDJSON_ROWS_H
#define CL_NDJSON_ROWS_H

#include <stdbool.h>
#include <stddef.h>

#include "json.h"

typedef struct RowBatch RowBatch;

/* row_batch_new: an ALLOCATED empty batch, freed with row_batch_free();
 * NULL when out of memory. */
RowBatch *row_batch_new(void);
void row_batch_free(RowBatch *b);       /* NULL-safe */

/* row_batch_reset forgets the rows and keeps the memory for the next lines. */
void row_batch_reset(RowBatch *b);

/*
 * row_batch_parse appends the rows of data, which must end at a line end
 * (or at the end of the input): each line holds exactly one JSON object.
 * first_row is the 1-based number of the first line, for messages. On a
 * syntax error, a value that is not an object, or a line that does not hold
 * exactly one value, returns false with a message naming the row in err
 * (errsize bytes); rows before it may have been appended.
 */
bool row_batch_parse(RowBatch *b, const char *data, size_t len, size_t first_row,
					 char *err, size_t errsize);

size_t row_batch_count(const RowBatch *b);
const JsonValue *row_batch_row(const RowBatch *b, size_t i);    /* borrowed */

/* Bytes the batch holds for its arena, for memory accounting. */
size_t row_batch_bytes(const RowBatch *b);

#endif
