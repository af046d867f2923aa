/*
 * record.h: helpers the vendor mappers share: reading values of a vendor
 * record, errors that name vendor, object, record and field, and writing
 * optional staging fields.
 */
#ifndef CL_RECORD_H
#define CL_RECORD_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "exitcode.h"
#include "json.h"
#include "staging.h"
#include "timeutil.h"

/* Which record a message is about. */
typedef struct RecordRef
{
	const char *vendor;     /* "hubspot" */
	const char *object;     /* "deal" */
	const char *id;         /* the record's id, or "?" before it is known */
} RecordRef;

/* record_error logs "<vendor> <object> <id>: field <field>: <message>". */
void record_error(const RecordRef *ref, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * record_time parses a vendor timestamp: RFC 3339, or epoch milliseconds
 * when the text is all digits (HubSpot sends both). CL_ERR_DATA (logged
 * with ref and field) when it is neither.
 */
bool record_time(const RecordRef *ref, const char *field, const char *text,
				 ClTime *out, ClError *err);

/*
 * record_int64 reads an integer sent as a JSON number or a decimal string
 * (Google Ads int64 fields). Absent or null gives 0 when zero_if_absent
 * (proto3 JSON omits zero values), CL_ERR_DATA otherwise.
 */
bool record_int64(const RecordRef *ref, const char *field, const JsonValue *v,
				  bool zero_if_absent, int64_t *out, ClError *err);

/*
 * email_normalize trims ASCII white space and lower-cases ASCII letters:
 * the form in which emails are compared (DESIGN §3). *out is ALLOCATED
 * (caller frees), or NULL when s is NULL or blank. false: out of memory.
 */
bool email_normalize(const char *s, char **out);

/*
 * text_nonempty: s unless it is NULL or empty (vendors send "" for unset
 * properties as often as null).
 */
const char *text_nonempty(const char *s);

/* row_string writes key only when value is a non-empty string: absent
 * values are omitted from staging rows (DATA_MODEL.md). */
void row_string(JsonGen *g, const char *key, const char *value);

/*
 * WarnOnce remembers which values a vendor has already warned about, so
 * that an unknown stage or action is logged once per run instead of once
 * per record. Thread-safe: parallel streams map records concurrently.
 * At most WARN_ONCE_MAX values are kept; past that nothing more is logged.
 */
#define WARN_ONCE_MAX 32

typedef struct WarnOnce
{
	pthread_mutex_t lock;
	char *seen[WARN_ONCE_MAX];  /* owned copies */
	int count;
} WarnOnce;

void warn_once_init(WarnOnce *w);
/* warn_once: true the first time value is seen (the caller logs then). */
bool warn_once(WarnOnce *w, const char *value);
void warn_once_free(WarnOnce *w);

#endif
