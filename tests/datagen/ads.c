/*
 * ads.c: the Google Ads side: accounts (one per sales region), search
 * campaigns, and daily spend rows.
 *
 * Spend is set from the revenue the campaign's leads closed, divided by a
 * return on ad spend typical of the campaign type (brand terms pay back
 * most, competitor terms least), so ROAS in the demo lands between about 1
 * and 6 instead of being noise.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "datagen.h"

static const char *const kind_names[DG_AD_KIND_COUNT] = {
	"brand_search", "competitor_search", "generic_workflow_automation",
	"category_project_management", "remarketing_search"
};
static const int kind_weights[DG_AD_KIND_COUNT] = {30, 15, 25, 15, 15};

/* Region suffixes: the first account is the home market. */
static const char *const regions[DG_MAX_CUSTOMERS] = {
	"", "emea", "apac", "latam", "uk", "dach", "nordics", "anz"
};

/* Per campaign type: ROAS (per mille), cost per click (micros) and
 * click-through rate (per mille), each a range. */
static const int roas_lo[DG_AD_KIND_COUNT] = {3500, 1100, 1800, 1500, 2500};
static const int roas_hi[DG_AD_KIND_COUNT] = {6000, 2200, 3500, 3000, 4500};
static const int64_t cpc_lo[DG_AD_KIND_COUNT] = {1500000, 7000000, 4500000, 5000000, 2000000};
static const int64_t cpc_hi[DG_AD_KIND_COUNT] = {4000000, 15000000, 10000000, 11000000, 5000000};
static const int ctr_lo[DG_AD_KIND_COUNT] = {120, 25, 30, 25, 8};
static const int ctr_hi[DG_AD_KIND_COUNT] = {200, 45, 60, 50, 20};

/*
 * dg_ads_catalogue creates the accounts and their campaigns: all five
 * campaign types in the home account, brand, competitor and generic in each
 * regional one. Names are unique over accounts because PAID_SEARCH contacts
 * name their campaign by name only. Allocates w->ads (dg_world_free).
 */
bool
dg_ads_catalogue(DgWorld *w)
{
	DgRng rng;
	int customers = w->p.customers;

	dg_rng_init(&rng, w->p.seed, DG_STREAM_IDS);
	w->ads = calloc((size_t) customers * DG_AD_KIND_COUNT, sizeof(DgAdCampaign));
	if (w->ads == NULL)
	{
		fprintf(stderr, "cl-datagen: out of memory for campaigns\n");
		return false;
	}
	for (int c = 0; c < customers; c++)
	{
		int kinds = c == 0 ? DG_AD_KIND_COUNT : 3;
		int share = c == 0 ? (customers == 1 ? 1 : 60 * (customers - 1)) : 40;
		int64_t next_id = 21000000000 + dg_rng_range(&rng, 0, 999999999);
		bool unique;

		do
		{
			w->customer_ids[c] = dg_rng_range(&rng, 1000000000, 9999999999);
			unique = true;
			for (int k = 0; k < c; k++)
			{
				unique = unique && w->customer_ids[k] != w->customer_ids[c];
			}
		} while (!unique);

		for (int k = 0; k < kinds; k++)
		{
			DgAdCampaign *a = &w->ads[w->n_ads++];

			a->customer = c;
			a->kind = (uint8_t) k;
			a->id = next_id;
			next_id += dg_rng_range(&rng, 1, 5000000);
			a->weight = kind_weights[k] * share;
			(void) snprintf(a->name, sizeof(a->name), "%s%s%s", kind_names[k],
							c == 0 ? "" : "_", regions[c]);
		}
	}
	return true;
}

/*
 * dg_ads_generate writes no file: it fills w->ad_rows, one row per
 * campaign and day, ordered by date then campaign (customer files are cut
 * from it by emit.c). Runs after dg_world_finish, since spend follows the
 * final won revenue.
 */
bool
dg_ads_generate(DgWorld *w)
{
	DgRng rng;
	int span = w->p.to - w->p.from + 1;
	int64_t *day_weight = NULL;
	int64_t total_weight = 0;
	int64_t cpc[DG_MAX_CUSTOMERS * DG_AD_KIND_COUNT];
	int ctr[DG_MAX_CUSTOMERS * DG_AD_KIND_COUNT];
	bool ok = false;

	dg_rng_init(&rng, w->p.seed, DG_STREAM_ADS);
	for (int i = 0; i < w->n_deals; i++)
	{
		const DgDeal *d = &w->deals[i];
		int ad;

		if (d->n_contacts == 0 || !dg_won_in_window(w, d))
		{
			continue;
		}
		ad = w->contacts[d->contacts[0]].ad_campaign;
		if (ad >= 0)
		{
			w->ads[ad].revenue += d->cur.amount;
		}
	}
	for (int a = 0; a < w->n_ads; a++)
	{
		DgAdCampaign *ac = &w->ads[a];
		int64_t cents;

		ac->roas_permille = (int) dg_rng_range(&rng, roas_lo[ac->kind], roas_hi[ac->kind]);
		if (ac->revenue > 0)
		{
			cents = ac->revenue * 1000 / ac->roas_permille;
		}
		else
		{
			/* nothing closed yet: spend follows the leads it bought */
			cents = (int64_t) ac->leads * dg_rng_range(&rng, 8000, 20000) + 50000;
		}
		ac->spend_target = cents * 10000 + dg_rng_range(&rng, 0, 9999);
		cpc[a] = dg_rng_range(&rng, cpc_lo[ac->kind], cpc_hi[ac->kind]);
		ctr[a] = (int) dg_rng_range(&rng, ctr_lo[ac->kind], ctr_hi[ac->kind]);
	}

	day_weight = malloc((size_t) span * sizeof(int64_t));
	w->ad_rows = calloc((size_t) span * (size_t) w->n_ads, sizeof(DgAdRow));
	if (day_weight == NULL || w->ad_rows == NULL)
	{
		fprintf(stderr, "cl-datagen: out of memory for ad rows\n");
		goto cleanup;
	}
	for (int i = 0; i < span; i++)
	{
		int wd = dg_weekday(w->p.from + i);

		day_weight[i] = (wd >= 5 ? 55 : 100) * dg_rng_range(&rng, 850, 1150);
		total_weight += day_weight[i];
	}
	for (int i = 0; i < span; i++)
	{
		for (int a = 0; a < w->n_ads; a++)
		{
			const DgAdCampaign *ac = &w->ads[a];
			DgAdRow *row = &w->ad_rows[w->n_ad_rows++];
			int64_t day_cpc = cpc[a] * dg_rng_range(&rng, 85, 115) / 100;
			int64_t day_ctr = ctr[a] * dg_rng_range(&rng, 80, 120) / 100;

			/* split without overflow: quotient and remainder parts */
			row->campaign = a;
			row->date = w->p.from + i;
			row->cost_micros = ac->spend_target / total_weight * day_weight[i] +
				ac->spend_target % total_weight * day_weight[i] / total_weight +
				dg_rng_range(&rng, 0, 9999);
			row->clicks = row->cost_micros / day_cpc;
			if (row->clicks == 0)
			{
				row->clicks = 1;
			}
			if (day_ctr < 1)
			{
				day_ctr = 1;
			}
			row->impressions = row->clicks * 1000 / day_ctr + dg_rng_range(&rng, 0, row->clicks);
		}
	}
	ok = true;

cleanup:
	free(day_weight);
	return ok;
}
