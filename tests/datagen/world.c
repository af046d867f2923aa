/*
 * world.c: the demo company's CRM: accounts, contacts, deals, and the edge
 * cases that the end-to-end test must get right.
 *
 * The shape follows a mid-market B2B SaaS vendor: leads arrive on weekdays
 * in business hours from a realistic channel mix, a fifth of them become
 * deals, larger products have longer sales cycles and lower win rates, and
 * bigger accounts bring several contacts into one deal.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "datagen.h"

const char *const dg_source_names[DG_SRC_COUNT] = {
	"ORGANIC_SEARCH", "PAID_SEARCH", "EMAIL_MARKETING", "SOCIAL_MEDIA",
	"PAID_SOCIAL", "REFERRALS", "DIRECT_TRAFFIC", "OFFLINE"
};

const char *const dg_product_names[DG_PRODUCT_COUNT] = {
	"Starter", "Pro", "Enterprise"
};

const char *const dg_owner_ids[] = {
	"52550153", "61203344", "70455821", "83310967", "90127735", "104528817"
};
#define N_OWNERS ((int) (sizeof(dg_owner_ids) / sizeof(dg_owner_ids[0])))

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* Display names carry accents and apostrophes on purpose (JSON escaping,
 * UTF-8); addresses use the ASCII spelling as people do. */
typedef struct NamePair
{
	const char *display;
	const char *ascii;
} NamePair;

static const NamePair first_names[] = {
	{"Maria", "maria"}, {"James", "james"}, {"Zoë", "zoe"}, {"José", "jose"},
	{"Aisha", "aisha"}, {"Chen", "chen"}, {"Priya", "priya"}, {"Lars", "lars"},
	{"Fatima", "fatima"}, {"Lukas", "lukas"}, {"Emma", "emma"}, {"Noah", "noah"},
	{"Olivia", "olivia"}, {"Liam", "liam"}, {"Sofia", "sofia"}, {"Mateo", "mateo"},
	{"Hannah", "hannah"}, {"Ethan", "ethan"}, {"Yuki", "yuki"}, {"Kwame", "kwame"},
	{"Ingrid", "ingrid"}, {"Rafael", "rafael"}, {"Amelia", "amelia"}, {"Oliver", "oliver"},
	{"Nina", "nina"}, {"Tomasz", "tomasz"}, {"Chloé", "chloe"}, {"Daniel", "daniel"},
	{"Grace", "grace"}, {"Arjun", "arjun"}, {"Mia", "mia"}, {"Lucas", "lucas"},
	{"Elena", "elena"}, {"Samuel", "samuel"}, {"Ava", "ava"}, {"Björn", "bjorn"},
	{"Leila", "leila"}, {"Omar", "omar"}, {"Sara", "sara"}, {"David", "david"}
};

static const NamePair last_names[] = {
	{"Johnson", "johnson"}, {"Smith", "smith"}, {"Müller", "muller"}, {"García", "garcia"},
	{"O'Brien", "obrien"}, {"Nguyen", "nguyen"}, {"Kowalski", "kowalski"}, {"Rossi", "rossi"},
	{"Tanaka", "tanaka"}, {"Okafor", "okafor"}, {"Andersson", "andersson"}, {"Patel", "patel"},
	{"Dubois", "dubois"}, {"Silva", "silva"}, {"Kim", "kim"}, {"Novak", "novak"},
	{"Schmidt", "schmidt"}, {"Brown", "brown"}, {"Williams", "williams"}, {"Jensen", "jensen"},
	{"Martin", "martin"}, {"López", "lopez"}, {"Cohen", "cohen"}, {"Wright", "wright"},
	{"Ivanova", "ivanova"}, {"Fischer", "fischer"}, {"Singh", "singh"}, {"Costa", "costa"},
	{"Hughes", "hughes"}, {"Larsen", "larsen"}, {"Murphy", "murphy"}, {"Yilmaz", "yilmaz"},
	{"Dvořák", "dvorak"}, {"Haddad", "haddad"}, {"Walker", "walker"}, {"Bianchi", "bianchi"},
	{"Sato", "sato"}, {"Mensah", "mensah"}, {"Clarke", "clarke"}, {"Berg", "berg"}
};

static const char *const company_prefixes[] = {
	"north", "blue", "bright", "apex", "cedar", "harbor", "summit", "lumen",
	"vector", "quartz", "maple", "orbit", "pioneer", "silver", "granite", "coral",
	"falcon", "nimbus", "river", "atlas", "beacon", "crescent", "delta", "ember",
	"fjord", "helix", "iron", "juniper", "kestrel", "lattice", "meridian", "nova",
	"oak", "prism", "quill", "redwood", "sable", "tidal", "umbra", "willow"
};

static const char *const company_suffixes[] = {
	"labs", "works", "systems", "logistics", "health", "analytics", "foods",
	"robotics", "capital", "energy", "media", "software", "freight", "bio",
	"retail", "cloud", "security", "dynamics", "partners", "industries"
};

static const char *const company_tlds[] = {".com", ".io", ".de", ".co.uk"};
static const char *const company_legal[] = {"", "", " GmbH", " Ltd"};

/* Lead channel mix (per mille): search-heavy inbound with paid social and
 * referrals; pre-window accounts came more through sales and partners. */
static const int window_source_mix[DG_SRC_COUNT] = {240, 200, 80, 80, 110, 90, 130, 70};
static const int legacy_source_mix[DG_SRC_COUNT] = {200, 150, 60, 40, 50, 180, 120, 200};

/* How often a lead of each origin becomes a deal (per mille). */
static const int deal_permille[DG_SRC_COUNT] = {200, 190, 160, 110, 100, 320, 240, 380};

static const int product_mix[DG_PRODUCT_COUNT] = {50, 35, 15};
static const int multi_contact_permille[DG_PRODUCT_COUNT] = {80, 250, 600};
static const int win_permille[DG_PRODUCT_COUNT] = {620, 540, 440};
static const int cycle_days_lo[DG_PRODUCT_COUNT] = {3, 10, 25};
static const int cycle_days_hi[DG_PRODUCT_COUNT] = {25, 50, 90};

/* Leads and emails arrive in office hours, UTC being close enough for a
 * transatlantic company. */
static const int hour_weights[24] = {
	2, 1, 1, 1, 1, 2, 4, 8, 14, 18, 20, 19, 16, 18, 19, 18, 15, 11, 8, 6, 5, 4, 3, 2
};

static const char *const open_stages[] = {
	"appointmentscheduled", "qualifiedtobuy", "presentationscheduled",
	"decisionmakerboughtin", "contractsent"
};

static const char *const organic_engines[] = {"google", "bing", "duckduckgo"};
static const int organic_engine_weights[] = {84, 12, 4};
static const char *const social_networks[] = {"LinkedIn", "Facebook", "Twitter", "YouTube", "Reddit"};
static const int social_weights[] = {45, 25, 15, 10, 5};
static const char *const referrers[] = {
	"g2.com", "capterra.com", "producthunt.com", "techcrunch.com", "zapier.com", "getapp.com"
};
static const char *const paid_social_campaigns[][2] = {
	{"linkedin", "linkedin_lead_gen_q1"},
	{"linkedin", "linkedin_abm_enterprise"},
	{"facebook", "facebook_retargeting"},
	{"facebook", "facebook_lookalike_trials"}
};
static const char *const offline_kinds[] = {"IMPORT", "CRM_UI", "INTEGRATION"};

const char *
dg_first_name(int i)
{
	return first_names[i].display;
}

const char *
dg_last_name(int i)
{
	return last_names[i].display;
}

bool
dg_deal_is_won(const DgDealVersion *v)
{
	return strcmp(v->stage, "closedwon") == 0;
}

bool
dg_deal_is_closed(const DgDealVersion *v)
{
	return dg_deal_is_won(v) || strcmp(v->stage, "closedlost") == 0;
}

/* A time of day drawn from office hours, to the millisecond. */
static DgTime
office_time(DgRng *rng, DgDate day)
{
	size_t hour = dg_rng_weighted(rng, hour_weights, 24);

	return dg_date_start(day) + (DgTime) hour * DG_MS_PER_HOUR +
		dg_rng_range(rng, 0, DG_MS_PER_HOUR - 1);
}

static void
capitalise(char *dst, size_t size, const char *word)
{
	int n = snprintf(dst, size, "%s", word);

	if (n > 0 && dst[0] >= 'a' && dst[0] <= 'z')
	{
		dst[0] = (char) (dst[0] - 'a' + 'A');
	}
}

/*
 * build_companies names the accounts: every (prefix, suffix, tld)
 * combination once in a seeded order, numbered when a very large run
 * exhausts them. Allocates w->companies (freed by dg_world_free).
 */
static bool
build_companies(DgWorld *w, DgRng *rng)
{
	int n_pre = (int) N_ELEMS(company_prefixes);
	int n_suf = (int) N_ELEMS(company_suffixes);
	int n_tld = (int) N_ELEMS(company_tlds);
	int combos = n_pre * n_suf * n_tld;
	int *perm = NULL;
	int n = w->p.leads * 2 / 5;
	bool ok = false;

	if (n < 12)
	{
		n = 12;
	}
	w->companies = calloc((size_t) n, sizeof(DgCompany));
	perm = malloc((size_t) combos * sizeof(int));
	if (w->companies == NULL || perm == NULL)
	{
		fprintf(stderr, "cl-datagen: out of memory for %d companies\n", n);
		goto cleanup;
	}
	w->n_companies = n;
	for (int i = 0; i < combos; i++)
	{
		perm[i] = i;
	}
	for (int i = combos - 1; i > 0; i--)
	{
		int j = (int) dg_rng_below(rng, (uint64_t) i + 1);
		int tmp = perm[i];

		perm[i] = perm[j];
		perm[j] = tmp;
	}
	for (int i = 0; i < n; i++)
	{
		DgCompany *co = &w->companies[i];
		int k = perm[i % combos];
		int round = i / combos;
		const char *pre = company_prefixes[k % n_pre];
		const char *suf = company_suffixes[k / n_pre % n_suf];
		int tld = k / (n_pre * n_suf);
		char a[24];
		char b[24];
		char num[16] = "";

		if (round > 0)
		{
			(void) snprintf(num, sizeof(num), "%d", round + 1);
		}
		capitalise(a, sizeof(a), pre);
		capitalise(b, sizeof(b), suf);
		(void) snprintf(co->name, sizeof(co->name), "%s %s%s%s%s", a, b,
						round > 0 ? " " : "", num, company_legal[tld]);
		(void) snprintf(co->domain, sizeof(co->domain), "%s%s%s%s",
						pre, suf, num, company_tlds[tld]);
		co->product = (uint8_t) dg_rng_weighted(rng, product_mix, DG_PRODUCT_COUNT);
	}
	ok = true;

cleanup:
	free(perm);
	return ok;
}

/* ------------------------------------------------------------------ */
/* Unique addresses                                                    */
/* ------------------------------------------------------------------ */

/* An open-addressing set of borrowed strings; only for building contacts. */
typedef struct StrSet
{
	const char **slots;			/* owned array; the strings are borrowed */
	size_t mask;
} StrSet;

static bool
strset_init(StrSet *set, size_t expected)
{
	size_t cap = 64;

	while (cap < expected * 2)
	{
		cap *= 2;
	}
	set->slots = calloc(cap, sizeof(const char *));
	set->mask = cap - 1;
	return set->slots != NULL;
}

static bool
strset_contains(const StrSet *set, const char *s)
{
	size_t i = (size_t) dg_hash64(s, 0) & set->mask;

	while (set->slots[i] != NULL)
	{
		if (strcmp(set->slots[i], s) == 0)
		{
			return true;
		}
		i = (i + 1) & set->mask;
	}
	return false;
}

/* strset_add keeps a pointer to s, which must outlive the set. */
static void
strset_add(StrSet *set, const char *s)
{
	size_t i = (size_t) dg_hash64(s, 0) & set->mask;

	while (set->slots[i] != NULL)
	{
		i = (i + 1) & set->mask;
	}
	set->slots[i] = s;
}

static void
strset_free(StrSet *set)
{
	free(set->slots);
	set->slots = NULL;
}

/*
 * make_email writes a unique normalised address for the contact into
 * c->email, in one of the usual corporate formats, numbering on collision.
 */
static void
make_email(const DgWorld *w, DgContact *c, DgRng *rng, StrSet *seen)
{
	static const int pattern_weights[] = {55, 20, 10, 10, 5};
	const char *f = first_names[c->first_name].ascii;
	const char *l = last_names[c->last_name].ascii;
	const char *domain = w->companies[c->company].domain;
	char local[32];

	switch (dg_rng_weighted(rng, pattern_weights, N_ELEMS(pattern_weights)))
	{
		case 0:
			(void) snprintf(local, sizeof(local), "%s.%s", f, l);
			break;
		case 1:
			(void) snprintf(local, sizeof(local), "%c%s", f[0], l);
			break;
		case 2:
			(void) snprintf(local, sizeof(local), "%s", f);
			break;
		case 3:
			(void) snprintf(local, sizeof(local), "%s%c", f, l[0]);
			break;
		default:
			(void) snprintf(local, sizeof(local), "%s_%s", f, l);
			break;
	}
	(void) snprintf(c->email, sizeof(c->email), "%s@%s", local, domain);
	for (int k = 2; strset_contains(seen, c->email); k++)
	{
		(void) snprintf(c->email, sizeof(c->email), "%s%d@%s", local, k, domain);
	}
	strset_add(seen, c->email);
}

/*
 * assign_origin sets the contact's original source and its data_1/data_2
 * as HubSpot reports them. PAID_SEARCH names a Google Ads campaign, picked
 * by the campaigns' lead shares.
 */
static void
assign_origin(DgWorld *w, DgContact *c, DgRng *rng, bool legacy)
{
	const int *mix = legacy ? legacy_source_mix : window_source_mix;
	int ad_weights[DG_MAX_CUSTOMERS * DG_AD_KIND_COUNT];
	size_t k;

	c->source = (uint8_t) dg_rng_weighted(rng, mix, DG_SRC_COUNT);
	c->data1 = NULL;
	c->data2 = NULL;
	c->ad_campaign = -1;
	switch ((DgSource) c->source)
	{
		case DG_SRC_ORGANIC_SEARCH:
			/* a few without data_1: the extractor falls back to google */
			if (!dg_rng_permille(rng, 40))
			{
				c->data1 = organic_engines[dg_rng_weighted(rng, organic_engine_weights,
														   N_ELEMS(organic_engine_weights))];
			}
			break;
		case DG_SRC_PAID_SEARCH:
			for (int i = 0; i < w->n_ads; i++)
			{
				ad_weights[i] = w->ads[i].weight;
			}
			c->ad_campaign = (int) dg_rng_weighted(rng, ad_weights, (size_t) w->n_ads);
			c->data1 = "google";
			c->data2 = w->ads[c->ad_campaign].name;
			w->ads[c->ad_campaign].leads++;
			break;
		case DG_SRC_EMAIL_MARKETING:
			c->data1 = dg_rng_permille(rng, 400) ? "newsletter" : NULL;
			break;
		case DG_SRC_SOCIAL_MEDIA:
			c->data1 = social_networks[dg_rng_weighted(rng, social_weights,
													   N_ELEMS(social_weights))];
			break;
		case DG_SRC_PAID_SOCIAL:
			k = (size_t) dg_rng_below(rng, N_ELEMS(paid_social_campaigns));
			c->data1 = paid_social_campaigns[k][0];
			c->data2 = paid_social_campaigns[k][1];
			break;
		case DG_SRC_REFERRALS:
			c->data1 = referrers[dg_rng_below(rng, N_ELEMS(referrers))];
			break;
		case DG_SRC_DIRECT_TRAFFIC:
			break;
		case DG_SRC_OFFLINE:
		default:
			c->data1 = offline_kinds[dg_rng_below(rng, N_ELEMS(offline_kinds))];
			break;
	}
}

/* Contacts sort by creation; the generation index (kept in id until ids
 * are assigned) makes the order total and so deterministic. */
static int
contact_cmp(const void *a, const void *b)
{
	const DgContact *x = a;
	const DgContact *y = b;

	if (x->created != y->created)
	{
		return x->created < y->created ? -1 : 1;
	}
	return (x->id > y->id) - (x->id < y->id);
}

/*
 * build_contacts creates the leads of the window plus a few older contacts
 * (legacy: created before the window, they bring deals that close inside
 * it and show touches that fall outside the lookback). Allocates
 * w->contacts (freed by dg_world_free).
 */
static bool
build_contacts(DgWorld *w, DgRng *rng)
{
	int span = w->p.to - w->p.from + 1;
	int n_legacy = w->p.leads / 40 > 0 ? w->p.leads / 40 : 1;
	int n = w->p.leads + n_legacy;
	int64_t *day_cumulative = NULL;
	StrSet seen = {0};
	int64_t next_id;
	bool ok = false;

	w->contacts = calloc((size_t) n, sizeof(DgContact));
	day_cumulative = malloc((size_t) span * sizeof(int64_t));
	if (w->contacts == NULL || day_cumulative == NULL || !strset_init(&seen, (size_t) n))
	{
		fprintf(stderr, "cl-datagen: out of memory for %d contacts\n", n);
		goto cleanup;
	}
	w->n_contacts = n;
	w->n_legacy = n_legacy;

	/* weekends are quiet and the business grows through the window;
	 * cumulative weights keep the day draw logarithmic for long windows */
	for (int i = 0; i < span; i++)
	{
		int wd = dg_weekday(w->p.from + i);
		int base = wd == 5 ? 35 : wd == 6 ? 30 : 100;

		day_cumulative[i] = (i > 0 ? day_cumulative[i - 1] : 0) + base * (400 + 100 * i / span);
	}

	for (int i = 0; i < n; i++)
	{
		DgContact *c = &w->contacts[i];
		bool legacy = i >= w->p.leads;
		DgDate day;
		int hot = w->n_companies / 7 > 0 ? w->n_companies / 7 : 1;

		c->id = i;				/* generation order until real ids below */
		c->legacy = legacy;
		if (legacy)
		{
			day = w->p.from - (DgDate) dg_rng_range(rng, 15, 240);
		}
		else
		{
			int64_t r = (int64_t) dg_rng_below(rng, (uint64_t) day_cumulative[span - 1]);
			int lo = 0;
			int hi = span - 1;

			while (lo < hi)
			{
				int mid = lo + (hi - lo) / 2;

				if (day_cumulative[mid] > r)
				{
					hi = mid;
				}
				else
				{
					lo = mid + 1;
				}
			}
			day = w->p.from + (DgDate) lo;
		}
		c->created = office_time(rng, day);

		/* a seventh of the accounts are active buyers with several people */
		if (dg_rng_permille(rng, 400))
		{
			c->company = (int) dg_rng_below(rng, (uint64_t) hot);
		}
		else
		{
			c->company = (int) dg_rng_below(rng, (uint64_t) w->n_companies);
		}
		c->first_name = (int) dg_rng_below(rng, N_ELEMS(first_names));
		c->last_name = (int) dg_rng_below(rng, N_ELEMS(last_names));
		assign_origin(w, c, rng, legacy);
		c->product = dg_rng_permille(rng, 800) ? w->companies[c->company].product
			: (uint8_t) dg_rng_weighted(rng, product_mix, DG_PRODUCT_COUNT);
		c->owner = (uint8_t) dg_rng_below(rng, (uint64_t) N_OWNERS);

		/* a few leads have no address (a booth scan, a phone call) */
		if (!legacy && dg_rng_permille(rng, 20))
		{
			c->email[0] = '\0';
		}
		else
		{
			make_email(w, c, rng, &seen);
			if (dg_rng_permille(rng, 30))
			{
				c->email_style = (uint8_t) dg_rng_range(rng, 1, 4);
			}
			c->subscribed = dg_rng_permille(rng, c->source == DG_SRC_EMAIL_MARKETING ? 950
											: legacy ? 700 : 600);
		}
	}
	/* the set points into the array that qsort moves */
	strset_free(&seen);

	qsort(w->contacts, (size_t) n, sizeof(DgContact), contact_cmp);
	next_id = 1201;
	for (int i = 0; i < n; i++)
	{
		w->contacts[i].id = next_id;
		next_id += dg_rng_range(rng, 1, 40);
	}
	ok = true;

cleanup:
	strset_free(&seen);
	free(day_cumulative);
	return ok;
}

/* Cents: Starter is per seat at 29.99 a month, Pro 79, Enterprise quoted. */
static int64_t
deal_amount(DgRng *rng, int product)
{
	switch (product)
	{
		case DG_PRODUCT_STARTER:
			return dg_rng_range(rng, 3, 30) * 35988;
		case DG_PRODUCT_PRO:
			return dg_rng_range(rng, 10, 80) * 94800;
		default:
			return dg_rng_range(rng, 40, 240) * 50000;
	}
}

/* Members of each company, for picking a deal's other contacts. */
typedef struct CompanyIndex
{
	int *start;					/* owned; n_companies + 1 offsets */
	int *members;				/* owned; contact indexes, creation order */
} CompanyIndex;

static bool
company_index_build(const DgWorld *w, CompanyIndex *ix)
{
	ix->start = calloc((size_t) w->n_companies + 1, sizeof(int));
	ix->members = malloc((size_t) w->n_contacts * sizeof(int));
	if (ix->start == NULL || ix->members == NULL)
	{
		return false;
	}
	for (int i = 0; i < w->n_contacts; i++)
	{
		ix->start[w->contacts[i].company + 1]++;
	}
	for (int k = 0; k < w->n_companies; k++)
	{
		ix->start[k + 1] += ix->start[k];
	}
	for (int i = 0; i < w->n_contacts; i++)
	{
		int k = w->contacts[i].company;

		ix->members[ix->start[k]++] = i;
	}
	/* the fill pass advanced every start to the next company's start */
	for (int k = w->n_companies; k > 0; k--)
	{
		ix->start[k] = ix->start[k - 1];
	}
	ix->start[0] = 0;
	return true;
}

static void
company_index_free(CompanyIndex *ix)
{
	free(ix->start);
	free(ix->members);
	ix->start = NULL;
	ix->members = NULL;
}

/*
 * add_colleagues brings other people of the account into the deal: only
 * people who existed before the deal closed (or before the snapshot).
 */
static void
add_colleagues(DgWorld *w, DgDeal *d, const CompanyIndex *ix, DgRng *rng)
{
	int first = ix->start[d->company];
	int count = ix->start[d->company + 1] - first;
	int want = 1;
	DgTime limit = d->cur.closed != DG_NO_TIME ? d->cur.closed : w->snapshot_end;

	if (!dg_rng_permille(rng, multi_contact_permille[d->product]))
	{
		return;
	}
	if (d->product == DG_PRODUCT_ENTERPRISE && dg_rng_permille(rng, 400))
	{
		want = 2;
	}
	for (int attempt = 0; attempt < 12 && want > 0 && count > 1; attempt++)
	{
		int m = ix->members[first + (int) dg_rng_below(rng, (uint64_t) count)];
		bool dup = false;

		for (int j = 0; j < d->n_contacts; j++)
		{
			dup = dup || d->contacts[j] == m;
		}
		if (dup || w->contacts[m].created >= limit)
		{
			continue;
		}
		d->contacts[d->n_contacts++] = m;
		want--;
	}
}

/*
 * plan_deal sets the timeline and outcome of a contact's deal. Returns
 * false when the deal would only start after the snapshot.
 */
static bool
plan_deal(DgWorld *w, DgDeal *d, const DgContact *c, DgRng *rng)
{
	int span = w->p.to - w->p.from + 1;
	DgTime planned_close;

	d->cur.closed = DG_NO_TIME;
	if (c->legacy)
	{
		static const int outcome[] = {550, 300, 150};
		size_t o = dg_rng_weighted(rng, outcome, 3);

		d->created = w->window_start - dg_rng_range(rng, 10, 150) * DG_MS_PER_DAY -
			dg_rng_range(rng, 0, DG_MS_PER_DAY - 1);
		if (d->created < c->created + 3 * DG_MS_PER_DAY)
		{
			d->created = c->created + 3 * DG_MS_PER_DAY + dg_rng_range(rng, 0, DG_MS_PER_DAY - 1);
		}
		if (o == 2)
		{
			d->cur.stage = open_stages[dg_rng_range(rng, 2, 4)];
			return true;
		}
		d->cur.closed = office_time(rng, w->p.from + (DgDate) dg_rng_below(rng, (uint64_t) span));
		d->cur.stage = o == 0 ? "closedwon" : "closedlost";
		return true;
	}

	/* most deals open within days of the lead, some weeks later */
	d->created = c->created + (dg_rng_permille(rng, 600)
							   ? dg_rng_range(rng, 2 * DG_MS_PER_HOUR, 7 * DG_MS_PER_DAY)
							   : dg_rng_range(rng, 2 * DG_MS_PER_HOUR, 21 * DG_MS_PER_DAY));
	if (d->created > w->snapshot_end)
	{
		return false;
	}
	planned_close = d->created +
		dg_rng_range(rng, cycle_days_lo[d->product], cycle_days_hi[d->product]) * DG_MS_PER_DAY +
		dg_rng_range(rng, 0, 10 * DG_MS_PER_HOUR);
	if (planned_close > w->snapshot_end)
	{
		/* still in the pipeline: the stage follows the elapsed share */
		int64_t done = (w->snapshot_end - d->created) * 5 / (planned_close - d->created);

		d->cur.stage = open_stages[done > 4 ? 4 : done];
		return true;
	}
	d->cur.closed = planned_close;
	d->cur.stage = dg_rng_permille(rng, win_permille[d->product]) ? "closedwon" : "closedlost";
	return true;
}

static int
deal_cmp(const void *a, const void *b)
{
	const DgDeal *x = a;
	const DgDeal *y = b;

	if (x->created != y->created)
	{
		return x->created < y->created ? -1 : 1;
	}
	return (x->id > y->id) - (x->id < y->id);
}

/*
 * build_deals gives some contacts a deal (primary contact first, colleagues
 * after) and adds a few won deals that sales entered without any contact.
 * Allocates w->deals (freed by dg_world_free).
 */
static bool
build_deals(DgWorld *w, DgRng *rng)
{
	int span = w->p.to - w->p.from + 1;
	int n_orphans = w->p.leads / 1500 > 0 ? w->p.leads / 1500 : 1;
	CompanyIndex ix = {0};
	int64_t next_id;
	bool ok = false;

	w->deals = calloc((size_t) w->n_contacts + (size_t) n_orphans, sizeof(DgDeal));
	if (w->deals == NULL || !company_index_build(w, &ix))
	{
		fprintf(stderr, "cl-datagen: out of memory for deals\n");
		goto cleanup;
	}

	for (int ci = 0; ci < w->n_contacts; ci++)
	{
		DgContact *c = &w->contacts[ci];
		DgDeal *d = &w->deals[w->n_deals];

		if (c->in_deal || !dg_rng_permille(rng, c->legacy ? 1000 : deal_permille[c->source]))
		{
			continue;
		}
		memset(d, 0, sizeof(*d));
		d->id = w->n_deals;
		d->company = c->company;
		d->product = c->product;
		d->owner = c->owner;
		if (!plan_deal(w, d, c, rng))
		{
			continue;
		}
		d->cur.amount = deal_amount(rng, d->product);
		d->name_style = (uint8_t) dg_rng_below(rng, 40);
		d->amount_style = dg_rng_permille(rng, 50) ? 1 : 0;
		d->contacts[0] = ci;
		d->n_contacts = 1;
		add_colleagues(w, d, &ix, rng);
		for (int j = 0; j < d->n_contacts; j++)
		{
			w->contacts[d->contacts[j]].in_deal = true;
		}
		w->n_deals++;
	}

	/* renewals typed in by sales: won, no contact, credited to (none) */
	for (int k = 0; k < n_orphans; k++)
	{
		DgDeal *d = &w->deals[w->n_deals];

		memset(d, 0, sizeof(*d));
		d->id = w->n_deals;
		d->company = (int) dg_rng_below(rng, (uint64_t) w->n_companies);
		d->product = w->companies[d->company].product;
		d->owner = (uint8_t) dg_rng_below(rng, (uint64_t) N_OWNERS);
		d->created = office_time(rng, w->p.from + (DgDate) dg_rng_below(rng, (uint64_t) (span + 1) / 2));
		d->cur.closed = d->created + dg_rng_range(rng, 1, 20) * DG_MS_PER_DAY;
		if (d->cur.closed > w->snapshot_end)
		{
			d->cur.closed = w->snapshot_end - dg_rng_range(rng, 0, (w->snapshot_end - d->created) / 2);
		}
		d->cur.stage = "closedwon";
		d->cur.amount = deal_amount(rng, d->product);
		d->name_style = 255;	/* "renewal" */
		d->n_contacts = 0;
		w->n_deals++;
	}

	qsort(w->deals, (size_t) w->n_deals, sizeof(DgDeal), deal_cmp);
	next_id = 17340000000 + dg_rng_range(rng, 0, 999999);
	for (int i = 0; i < w->n_deals; i++)
	{
		w->deals[i].id = next_id;
		next_id += dg_rng_range(rng, 1000, 400000);
	}
	ok = true;

cleanup:
	company_index_free(&ix);
	return ok;
}

/*
 * dg_world_build generates the company's CRM and its Google Ads campaign
 * catalogue. On failure the caller still calls dg_world_free.
 */
bool
dg_world_build(DgWorld *w, const DgParams *p)
{
	DgRng rng;

	memset(w, 0, sizeof(*w));
	w->p = *p;
	w->window_start = dg_date_start(p->from);
	w->snapshot_end = dg_date_start(p->to + 1) - 1;

	dg_rng_init(&rng, p->seed, DG_STREAM_COMPANIES);
	if (!build_companies(w, &rng))
	{
		/* errors have already been logged */
		return false;
	}
	if (!dg_ads_catalogue(w))
	{
		return false;
	}
	dg_rng_init(&rng, p->seed, DG_STREAM_CONTACTS);
	if (!build_contacts(w, &rng))
	{
		return false;
	}
	dg_rng_init(&rng, p->seed, DG_STREAM_DEALS);
	return build_deals(w, &rng);
}

/* ------------------------------------------------------------------ */
/* Edge cases                                                          */
/* ------------------------------------------------------------------ */

bool
dg_won_in_window(const DgWorld *w, const DgDeal *d)
{
	DgDate day;

	if (!dg_deal_is_won(&d->cur) || d->cur.archived || d->cur.closed == DG_NO_TIME)
	{
		return false;
	}
	day = dg_time_date(d->cur.closed);
	return day >= w->p.from && day <= w->p.to;
}

/*
 * latest_click returns the latest click of contact ci in [lo, hi], or NULL.
 * order > 0 only takes clicks whose touch id sorts after the contact's own
 * touch id ("contact-..."), order < 0 only those sorting before it, 0 any.
 */
static const DgClick *
latest_click(const DgWorld *w, int ci, DgTime lo, DgTime hi, int order)
{
	const DgContact *c = &w->contacts[ci];
	const DgClick *best = NULL;

	for (size_t k = c->click_first; k < c->click_first + c->click_count; k++)
	{
		const DgClick *ck = &w->clicks[k];
		int cmp = strcmp(w->mails[ck->campaign].id, "contact-");

		if (ck->at < lo || ck->at > hi || (order > 0 && cmp < 0) || (order < 0 && cmp > 0))
		{
			continue;
		}
		if (best == NULL || ck->at > best->at)
		{
			best = ck;
		}
	}
	return best;
}

/*
 * edge_close_at_click: the deal closes at the very second its contact
 * clicked a newsletter. The lookback is inclusive at the conversion end,
 * so that click is the last touch.
 */
static void
edge_close_at_click(DgWorld *w, DgDeal *d)
{
	const DgClick *ck;

	if (d->n_contacts == 0)
	{
		return;
	}
	ck = latest_click(w, d->contacts[0], d->created + DG_MS_PER_HOUR, d->cur.closed - 1, 0);
	if (ck == NULL || ck->at < w->window_start)
	{
		return;
	}
	/* every contact of a deal existed before it closed */
	for (int j = 0; j < d->n_contacts; j++)
	{
		if (w->contacts[d->contacts[j]].created > ck->at)
		{
			return;
		}
	}
	d->cur.closed = ck->at;
	d->edge = true;
	w->edge_close_at_click++;
}

/*
 * edge_tie: a colleague without an address (so without email activity) is
 * created in the CRM at the same second as the primary contact's last
 * click before the close. The two touches tie on time and the touch id
 * decides their order; order picks which of the two sorts first (see
 * latest_click), so both ways are exercised.
 */
static void
edge_tie(DgWorld *w, DgDeal *d, int order, DgRng *rng)
{
	const DgClick *ck;
	int start = (int) dg_rng_below(rng, (uint64_t) w->n_contacts);

	if (d->n_contacts == 0 || d->n_contacts >= DG_DEAL_MAX_CONTACTS)
	{
		return;
	}
	ck = latest_click(w, d->contacts[0],
					  d->cur.closed - DG_LOOKBACK_DAYS * DG_MS_PER_DAY, d->cur.closed, order);
	if (ck == NULL || ck->at < w->window_start)
	{
		return;
	}
	for (int k = 0; k < w->n_contacts; k++)
	{
		int qi = (start + k) % w->n_contacts;
		DgContact *q = &w->contacts[qi];

		if (q->email[0] != '\0' || q->legacy || q->in_deal || q->edge ||
			q->source == DG_SRC_EMAIL_MARKETING)
		{
			continue;
		}
		q->created = ck->at;
		q->in_deal = true;
		q->edge = true;
		d->contacts[d->n_contacts++] = qi;
		d->edge = true;
		w->edge_ties++;
		return;
	}
}

/*
 * edge_lookback: an older contact is moved to exactly 90 days before its
 * deal's close (inside: the lookback is inclusive), or one millisecond
 * earlier (outside).
 */
static void
edge_lookback(DgWorld *w, DgDeal *d, DgTime offset_ms, DgRng *rng)
{
	DgContact *c;
	DgTime at;

	if (d->n_contacts != 1)
	{
		return;
	}
	c = &w->contacts[d->contacts[0]];
	at = d->cur.closed - DG_LOOKBACK_DAYS * DG_MS_PER_DAY - offset_ms;
	if (!c->legacy || c->edge || at >= w->window_start)
	{
		return;
	}
	c->created = at;
	c->edge = true;
	if (d->created <= at)
	{
		d->created = at + dg_rng_range(rng, DG_MS_PER_HOUR, (d->cur.closed - at) / 2);
	}
	d->edge = true;
	w->edge_lookback++;
}

/*
 * dg_world_edge_cases bends a few won deals into the boundary cases of the
 * journey rules. It runs after the email activity exists (it needs the
 * clicks) and before dg_world_finish (which stamps modification times).
 */
void
dg_world_edge_cases(DgWorld *w)
{
	DgRng rng;
	int start;
	int want_close = 2;
	int want_ties = 2;
	int want_lookback = 2;

	dg_rng_init(&rng, w->p.seed, DG_STREAM_EDGES);
	if (w->n_deals == 0)
	{
		return;
	}
	start = (int) dg_rng_below(&rng, (uint64_t) w->n_deals);
	for (int k = 0; k < w->n_deals; k++)
	{
		DgDeal *d = &w->deals[(start + k) % w->n_deals];
		int before_close = w->edge_close_at_click;
		int before_lookback = w->edge_lookback;

		if (!dg_won_in_window(w, d) || d->edge)
		{
			continue;
		}
		if (w->edge_lookback < want_lookback)
		{
			edge_lookback(w, d, w->edge_lookback == 0 ? 0 : 1, &rng);
		}
		if (w->edge_lookback == before_lookback && w->edge_close_at_click < want_close)
		{
			edge_close_at_click(w, d);
		}
		if (w->edge_lookback == before_lookback &&
			w->edge_close_at_click == before_close && w->edge_ties < want_ties)
		{
			edge_tie(w, d, w->edge_ties == 0 ? -1 : 1, &rng);
		}
		if (w->edge_close_at_click >= want_close && w->edge_ties >= want_ties &&
			w->edge_lookback >= want_lookback)
		{
			break;
		}
	}
}

/* ------------------------------------------------------------------ */
/* Versions and modification times                                     */
/* ------------------------------------------------------------------ */

static bool
archive_candidate(const DgWorld *w, const DgDeal *d)
{
	return !d->edge && !d->has_old && d->n_contacts > 0 && dg_won_in_window(w, d) &&
		d->cur.closed <= w->snapshot_end - 3 * DG_MS_PER_DAY;
}

static void
archive_deal(DgDeal *d, DgRng *rng)
{
	d->old = d->cur;
	d->cur.archived = true;
	d->cur.modified = d->old.modified + dg_rng_range(rng, DG_MS_PER_DAY, 2 * DG_MS_PER_DAY);
	d->has_old = true;
	d->old_last = dg_rng_permille(rng, 300);
}

/*
 * finish_deals stamps hs_lastmodifieddate and adds the older versions:
 * a deal seen open and again after it closed (possibly with a renegotiated
 * amount), and a won deal that was archived (deleted) afterwards.
 */
static void
finish_deals(DgWorld *w, DgRng *rng)
{
	int archived = 0;

	for (int i = 0; i < w->n_deals; i++)
	{
		DgDeal *d = &w->deals[i];

		if (d->cur.closed != DG_NO_TIME)
		{
			d->cur.modified = d->cur.closed + dg_rng_range(rng, 5 * DG_MS_PER_MIN, 6 * DG_MS_PER_HOUR);
		}
		else
		{
			d->cur.modified = d->created + dg_rng_range(rng, DG_MS_PER_HOUR,
														w->snapshot_end - d->created);
		}
		if (d->cur.modified > w->snapshot_end)
		{
			d->cur.modified = w->snapshot_end;
		}
		if (d->edge)
		{
			continue;
		}
		if (archive_candidate(w, d) && dg_rng_permille(rng, 15))
		{
			archive_deal(d, rng);
			archived++;
		}
		else if (d->cur.closed != DG_NO_TIME && d->cur.closed - d->created > 2 * DG_MS_PER_HOUR &&
				 dg_rng_permille(rng, 40))
		{
			DgTime back = dg_rng_range(rng, DG_MS_PER_HOUR, 5 * DG_MS_PER_DAY);

			d->old = d->cur;
			d->old.stage = "contractsent";
			d->old.closed = DG_NO_TIME;
			d->old.modified = d->cur.closed - back > d->created
				? d->cur.closed - back : d->created + (d->cur.closed - d->created) / 2;
			if (d->product != DG_PRODUCT_STARTER && dg_rng_permille(rng, 500))
			{
				/* quoted 5% higher, rounded up to 100 dollars */
				d->old.amount = (d->cur.amount * 105 / 100 + 9999) / 10000 * 10000;
			}
			d->has_old = true;
			d->old_last = dg_rng_permille(rng, 300);
		}
	}
	/* the rule "newest version, not archived" must always be exercised */
	for (int i = 0; i < w->n_deals && archived == 0; i++)
	{
		if (archive_candidate(w, &w->deals[i]))
		{
			archive_deal(&w->deals[i], rng);
			archived++;
		}
	}
}

/*
 * finish_contacts stamps lastmodifieddate (after the contact's deals moved)
 * and lifecyclestage, and gives a few contacts an older version.
 */
static bool
finish_contacts(DgWorld *w, DgRng *rng)
{
	static const char *const plain_stages[] = {"lead", "marketingqualifiedlead", "salesqualifiedlead"};
	static const int plain_weights[] = {60, 30, 10};
	DgTime *latest = NULL;
	uint8_t *status = NULL;		/* 0 none, 1 lost, 2 open, 3 won */

	latest = malloc((size_t) w->n_contacts * sizeof(DgTime));
	status = calloc((size_t) w->n_contacts, 1);
	if (latest == NULL || status == NULL)
	{
		free(latest);
		free(status);
		fprintf(stderr, "cl-datagen: out of memory\n");
		return false;
	}
	for (int i = 0; i < w->n_contacts; i++)
	{
		latest[i] = DG_NO_TIME;
	}
	for (int i = 0; i < w->n_deals; i++)
	{
		const DgDeal *d = &w->deals[i];
		const DgDealVersion *live = d->cur.archived ? &d->old : &d->cur;
		uint8_t st = dg_deal_is_won(live) ? 3 : dg_deal_is_closed(live) ? 1 : 2;

		for (int j = 0; j < d->n_contacts; j++)
		{
			int k = d->contacts[j];

			if (live->modified > latest[k])
			{
				latest[k] = live->modified;
			}
			if (st > status[k])
			{
				status[k] = st;
			}
		}
	}
	for (int i = 0; i < w->n_contacts; i++)
	{
		DgContact *c = &w->contacts[i];
		DgTime m = c->created + dg_rng_range(rng, 5 * DG_MS_PER_MIN, 2 * DG_MS_PER_DAY);

		if (latest[i] != DG_NO_TIME && latest[i] > m)
		{
			m = latest[i];
		}
		if (m > w->snapshot_end)
		{
			m = w->snapshot_end;
		}
		if (m < c->created)
		{
			m = c->created;
		}
		c->modified = m;
		c->lifecycle = status[i] == 3 ? "customer" : status[i] == 2 ? "opportunity"
			: status[i] == 1 ? "salesqualifiedlead"
			: plain_stages[dg_rng_weighted(rng, plain_weights, 3)];
		if (!c->edge && m - c->created >= 2 && dg_rng_permille(rng, 25))
		{
			c->has_old = true;
			c->old_lifecycle = strcmp(c->lifecycle, "lead") == 0 ? "subscriber" : "lead";
			c->old_modified = c->created + (m - c->created) / 2;
			c->old_last = dg_rng_permille(rng, 300);
		}
	}
	free(latest);
	free(status);
	return true;
}

/*
 * dg_world_finish stamps modification times and older versions once every
 * event time is final.
 */
bool
dg_world_finish(DgWorld *w)
{
	DgRng rng;

	dg_rng_init(&rng, w->p.seed, DG_STREAM_FINISH);
	finish_deals(w, &rng);
	return finish_contacts(w, &rng);
}

/*
 * dg_contact_email_display writes the address as HubSpot shows it: mostly
 * as typed in lower case, sometimes capitalised, shouted or padded with
 * spaces, which identity resolution must normalise.
 */
void
dg_contact_email_display(const DgContact *c, char *buf, size_t size)
{
	char tmp[DG_EMAIL_SIZE];
	bool up = true;

	(void) snprintf(tmp, sizeof(tmp), "%s", c->email);
	if (c->email_style != 0 && c->email_style != 4)
	{
		for (char *p = tmp; *p; p++)
		{
			bool letter = *p >= 'a' && *p <= 'z';

			if (letter && (up || c->email_style == 2))
			{
				*p = (char) (*p - 'a' + 'A');
			}
			up = *p == '.' || *p == '_' || *p == '@';
		}
	}
	switch (c->email_style)
	{
		case 3:
			(void) snprintf(buf, size, "  %s ", tmp);
			break;
		case 4:
			(void) snprintf(buf, size, " %s", tmp);
			break;
		default:
			(void) snprintf(buf, size, "%s", tmp);
			break;
	}
}

/* dg_world_free releases everything the world owns; safe to call twice. */
void
dg_world_free(DgWorld *w)
{
	free(w->companies);
	free(w->contacts);
	free(w->deals);
	free(w->ads);
	free(w->ad_rows);
	free(w->mails);
	free(w->clicks);
	w->companies = NULL;
	w->contacts = NULL;
	w->deals = NULL;
	w->ads = NULL;
	w->ad_rows = NULL;
	w->mails = NULL;
	w->clicks = NULL;
}
