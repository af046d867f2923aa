/*
 * summary.h: the run summary every extractor logs at the end (STYLE §6.6):
 * per vendor and stream, rows, pages, requests, retries, bytes and time,
 * then what was committed.
 */
#ifndef CL_SUMMARY_H
#define CL_SUMMARY_H

#include <stdbool.h>

#include "engine.h"

void summary_log(const VendorResult *results, int nresults, const char *run_id,
				 bool dry_run);

#endif
