/*
 * summary.c: see summary.h.
 */
#include "summary.h"

#include <stdio.h>

#include "log.h"

/*
 * log_committed writes one vendor's outcome: the rows per entity and
 * whether they were committed, or why not.
 */
static void
log_committed(const VendorResult *r, const char *run_id, bool dry_run)
{
	char rows[256];
	size_t len = 0;

	rows[0] = '\0';
	for (int i = 0; i < r->nentities; i++)
	{
		int n = snprintf(rows + len, sizeof(rows) - len, "%s%s %lld",
						 i > 0 ? ", " : "", r->entity[i],
						 (long long) r->entity_rows[i]);

		if (n < 0 || (size_t) n >= sizeof(rows) - len)
			break;
		len += (size_t) n;
	}
	if (!r->ok)
		log_info("summary: %-10s FAILED (%s) after %.1f s; nothing committed",
				 r->vendor->name, cl_error_name(r->err), (double) r->elapsed_ms / 1000.0);
	else if (dry_run)
		log_info("summary: %-10s dry run, not committed: %s", r->vendor->name, rows);
	else
		log_info("summary: %-10s committed run %s: %s%s", r->vendor->name, run_id, rows,
				 r->dropped > 0 ? " (some records dropped, see above)" : "");
}


/*
 * summary_log: one line per vendor and stream name, then one per vendor
 * with what was committed.
 */
void
summary_log(const VendorResult *results, int nresults, const char *run_id,
			bool dry_run)
{
	log_info("summary: %-10s %-16s %-20s %9s %6s %8s %7s %12s %8s", "vendor", "stream",
			 "entities", "rows", "pages", "requests", "retries", "bytes", "seconds");
	for (int v = 0; v < nresults; v++)
	{
		const VendorResult *r = &results[v];

		for (int i = 0; i < r->nstats; i++)
		{
			const StreamStats *s = &r->stats[i];

			log_info("summary: %-10s %-16s %-20s %9lld %6lld %8lld %7lld %12lld %8.1f",
					 r->vendor->name, s->name, s->entities, (long long) s->rows,
					 (long long) s->pages, (long long) s->requests,
					 (long long) s->retries, (long long) s->bytes,
					 (double) s->elapsed_ms / 1000.0);
		}
	}
	for (int v = 0; v < nresults; v++)
		log_committed(&results[v], run_id, dry_run);
}
