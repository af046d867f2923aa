/*
 * localdate.c: a direct-mapped cache in front of time_local_date().
 */
#include <inttypes.h>
#include <stdlib.h>

#include "localdate.h"
#include "log.h"

#define BUCKET_USEC (INT64_C(900) * CL_USEC_PER_SEC)
#define NSLOTS 16384    /* 170 days of quarter hours: a lookback window */

/*
 * localdate_init validates the zone up front so a typo is a configuration
 * error, not a failure in the middle of the data.
 */
bool
localdate_init(LocalDates *c, const char *tz)
{
	c->tz = tz;
	c->slots = NULL;
	if (!time_zone_valid(tz))
	{
		log_error("unknown time zone \"%s\" in [pipeline] timezone; use an IANA name such "
				  "as Europe/Berlin", tz);
		return false;
	}
	c->slots = calloc(NSLOTS, sizeof(LocalDateSlot));
	if (c->slots == NULL)
	{
		log_error("out of memory for the local date cache");
		return false;
	}
	return true;
}

void
localdate_free(LocalDates *c)
{
	free(c->slots);
	c->slots = NULL;
}

static bool
convert(const LocalDates *c, ClTime t, ClDate *out)
{
	if (!time_local_date(t, c->tz, out))
	{
		log_error("cannot convert timestamp %" PRId64 " to a date in time zone %s", t, c->tz);
		return false;
	}
	return true;
}

/*
 * localdate_get: floor division, so that timestamps before 1970 land in the
 * right bucket too.
 */
bool
localdate_get(LocalDates *c, ClTime t, ClDate *out)
{
	int64_t bucket = t / BUCKET_USEC;
	LocalDateSlot *s;

	if (t % BUCKET_USEC < 0)
		bucket--;
	s = &c->slots[(uint64_t) bucket % NSLOTS];
	if (!s->used || s->bucket != bucket)
	{
		ClDate first;
		ClDate last;
		ClTime start = bucket * BUCKET_USEC;

		if (!convert(c, start, &first) || !convert(c, start + BUCKET_USEC - 1, &last))
			return false;
		s->used = true;
		s->bucket = bucket;
		s->valid = first == last;
		s->date = first;
	}
	if (s->valid)
	{
		*out = s->date;
		return true;
	}
	return convert(c, t, out);
}
