/*
 * progress.c: see progress.h.
 */
#include "progress.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

/* A terminal redraw more often than this is flicker, not information. */
#define PROGRESS_REDRAW_USEC (INT64_C(200000))

void
progress_start(Progress *p, const char *vendor)
{
	memset(p, 0, sizeof(*p));
	(void) snprintf(p->vendor, sizeof(p->vendor), "%s", vendor);
	p->live = isatty(STDERR_FILENO) == 1 && log_get_level() <= LOG_INFO;
	p->stream_total = -1;
	p->started = time_now();
}


void
progress_stream(Progress *p, const char *label)
{
	(void) snprintf(p->label, sizeof(p->label), "%s", label);
	p->stream_done = 0;
	p->stream_total = -1;
}


/*
 * format_status writes "12 pages, 1200 records, 340 records/s" and, when
 * the stream's total is known, its completion and an ETA.
 */
static void
format_status(const Progress *p, ClTime now, char *buf, size_t size)
{
	double secs = (double) (now - p->started) / (double) CL_USEC_PER_SEC;
	double rate = secs > 0.0 ? (double) p->records / secs : 0.0;
	int n;

	n = snprintf(buf, size, "%s %s: %lld pages, %lld records, %.0f records/s",
				 p->vendor, p->label, (long long) p->pages,
				 (long long) p->records, rate);
	if (n < 0 || (size_t) n >= size)
		return;
	if (p->stream_total > 0)
	{
		int64_t left = p->stream_total - p->stream_done;

		if (left < 0)
			left = 0;
		(void) snprintf(buf + n, size - (size_t) n, " (%lld/%lld, ETA %.0f s)",
						(long long) p->stream_done, (long long) p->stream_total,
						rate > 0.0 ? (double) left / rate : 0.0);
	}
}


/*
 * progress_page counts one page and redraws the live line (at most every
 * PROGRESS_REDRAW_USEC) or logs every PROGRESS_LOG_EVERY pages.
 */
void
progress_page(Progress *p, int64_t records, int64_t stream_total)
{
	ClTime now = time_now();
	char line[512];

	p->pages++;
	p->records += records;
	p->stream_done += records;
	p->stream_total = stream_total;
	if (p->live)
	{
		if (now - p->last_draw < PROGRESS_REDRAW_USEC)
			return;
		p->last_draw = now;
		format_status(p, now, line, sizeof(line));
		(void) fprintf(stderr, "\r%s\033[K", line);
		(void) fflush(stderr);
		p->drawn = true;
		return;
	}
	if (p->pages % PROGRESS_LOG_EVERY == 0)
	{
		format_status(p, now, line, sizeof(line));
		log_info("%s", line);
	}
}


void
progress_end(Progress *p)
{
	if (p->drawn)
	{
		(void) fputs("\r\033[K", stderr);
		(void) fflush(stderr);
		p->drawn = false;
	}
}
