/*
 * progress.h: how long extraction work shows that it is alive (DESIGN §8).
 * On a terminal a live line on stderr (pages, records, rate, and where a
 * stream announces its total, how far it is and an ETA); otherwise an INFO
 * log line every PROGRESS_LOG_EVERY pages. Counts are cumulative over one
 * vendor's run; the label names the stream being fetched.
 */
#ifndef CL_PROGRESS_H
#define CL_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

#include "timeutil.h"

#define PROGRESS_LOG_EVERY 25

typedef struct Progress
{
	char vendor[64];
	char label[160];
	bool live;                  /* stderr is a terminal and -q is not set */
	bool drawn;                 /* the live line is on screen */
	int64_t pages;
	int64_t records;
	int64_t stream_done;        /* records of the current stream so far */
	int64_t stream_total;       /* announced total, -1 unknown */
	ClTime started;
	ClTime last_draw;
} Progress;

void progress_start(Progress *p, const char *vendor);
void progress_stream(Progress *p, const char *label);

/* One page arrived with records records; stream_total is the stream's
 * announced total, or -1. */
void progress_page(Progress *p, int64_t records, int64_t stream_total);

/* Erase the live line (before the summary or an error). */
void progress_end(Progress *p);

#endif
