/*
 * gen_staging.h: cl-gen-staging, a seeded generator of canonical staging
 * (DESIGN §3, docs/DATA_MODEL.md) for a company of any size, written
 * straight into <staging_dir>/<family>/<vendor>/<entity>/<date>/ with
 * committed manifests. It exists to measure the transform at scale; the
 * demo company with ground truth is tests/datagen.
 *
 * Shape of the data, per run of the same parameters identical:
 *  - leads: HubSpot contacts (lead_id = contact id) and a minority of
 *    Salesforce leads without a contact id (known by email only), grouped
 *    in companies of 1..8 people; some with an older version, some deleted;
 *  - touches: each person's journey of 1..30 touches (skewed to short),
 *    channels from source/medium combinations that cover every default
 *    channel of DESIGN §4, on HubSpot (crm_id and email), Salesforce (email),
 *    Mailchimp (email clicks, email only) and anonymous Google Ads clicks;
 *    a few with an older version, a few with unnormalised case and spaces;
 *  - deals: won, lost and open, with 1..4 contacts of one company, closing
 *    after one of the primary contact's touches; some older versions, some
 *    deleted;
 *  - spend: one row per day per paid campaign.
 *
 * Data files are byte-identical for the same parameters; manifests carry
 * the extraction time and differ.
 */
#ifndef CL_GEN_STAGING_H
#define CL_GEN_STAGING_H

#include <stdbool.h>
#include <stdint.h>

#include "timeutil.h"

typedef struct GenParams
{
	const char *out_dir;        /* the staging directory to write into */
	int64_t touches;            /* distinct touches */
	int64_t leads;              /* distinct leads */
	int64_t won_deals;          /* distinct won deals (a few of them deleted) */
	ClDate from;                /* data span, inclusive */
	ClDate to;
	uint64_t seed;
} GenParams;

/* gen_run writes everything; false on failure (logged). */
bool gen_run(const GenParams *p);

#endif
