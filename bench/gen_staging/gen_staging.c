/*
 * gen_staging.c: the generator behind cl-gen-staging (gen_staging.h).
 *
 * Everything is decided in memory first, in a fixed order of random draws
 * (people and their touches, deals, spend), then written sorted by vendor
 * and partition date, so that each StagingWriter has one partition file
 * open at a time. The in-memory form is small: 24 bytes per touch, so ten
 * million touches cost about 250 MB.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen_staging.h"
#include "log.h"
#include "staging.h"

#define GEN_TOOL "cl-gen-staging"
#define SECS_PER_DAY INT64_C(86400)
#define MAX_JOURNEY 30
#define NO_PERSON UINT32_MAX
#define NO_CAMPAIGN UINT16_MAX

/* Id bases: HubSpot contact and deal ids are numbers, Salesforce ids 15 characters. */
#define HUBSPOT_CONTACT_BASE INT64_C(1000000000)
#define HUBSPOT_DEAL_BASE INT64_C(5000000000)
#define CAMPAIGN_ID_BASE 7100000

/* Systems of people and touches. */
enum
{
	SYS_HUBSPOT = 0,
	SYS_SALESFORCE = 1,
	SYS_MAILCHIMP = 2,
	SYS_GOOGLE_ADS = 3,
	SYS_N = 4
};

static const char *const sys_family[SYS_N] = { "crm", "crm", "email", "ads" };
static const char *const sys_vendor[SYS_N] = { "hubspot", "salesforce", "mailchimp", "google_ads" };
static const char *const sys_touch_prefix[SYS_N] = { "hs-t", "sf-cm", "mc-c", "gclk" };

/* Touch kinds. */
enum
{
	KIND_PAGE_VIEW,
	KIND_FORM_SUBMIT,
	KIND_EMAIL_CLICK,
	KIND_AD_CLICK,
	KIND_CAMPAIGN_MEMBER,
	KIND_OFFLINE
};

static const char *const kind_names[] = {
	"page_view", "form_submit", "email_click", "ad_click", "campaign_member", "offline"
};

/* Touch flags. */
#define T_OLD 0x01      /* an older version of the touch (superseded) */
#define T_MESSY 0x02    /* source/medium/email with stray case and spaces */

/*
 * A source/medium combination; the weights are per mille-ish relative
 * frequencies for a journey's first touch and for the later ones. Paid
 * combinations have campaigns with daily spend on platform.
 */
typedef struct Combo
{
	const char *source;
	const char *medium;
	const char *messy_source;   /* how a sloppy UTM tag writes it */
	const char *messy_medium;
	int w_first;
	int w_later;
	int n_campaigns;
	const char *prefix;         /* campaign name prefix; NULL: none */
	const char *platform;       /* spend vendor; NULL: unpaid */
	const char *account;
	bool terms;                 /* search keywords */
	int kind;                   /* kind on the CRM */
} Combo;

/* Every default channel of DESIGN §4 appears at least once. */
static const Combo combos[] = {
	{ "google", "cpc", " Google", "CPC", 180, 110, 12, "gs", "google_ads", "123-456-7890", true, KIND_PAGE_VIEW },
	{ "bing", "cpc", "Bing ", "CPC", 30, 20, 4, "ms", "microsoft_ads", "F1234567", true, KIND_PAGE_VIEW },
	{ "facebook", "paid_social", "Facebook", "Paid_Social", 60, 40, 8, "fb", "meta", "act_1029384756", false, KIND_PAGE_VIEW },
	{ "linkedin", "cpc", "LinkedIn", "CPC ", 50, 40, 6, "li", "linkedin_ads", "508123456", false, KIND_PAGE_VIEW },
	{ "google", "display", "google", "Display", 30, 30, 5, "gd", "google_ads", "123-456-7890", false, KIND_PAGE_VIEW },
	{ "mailchimp", "email", "MailChimp", "Email", 20, 180, 52, "nl", NULL, NULL, false, KIND_EMAIL_CLICK },
	{ "google", "organic", "Google", "Organic", 160, 80, 0, NULL, NULL, NULL, false, KIND_PAGE_VIEW },
	{ "bing", "organic", "bing", "organic ", 20, 10, 0, NULL, NULL, NULL, false, KIND_PAGE_VIEW },
	{ "linkedin", "social", "LinkedIn", "Social", 30, 20, 0, NULL, NULL, NULL, false, KIND_PAGE_VIEW },
	{ "twitter", "social", "Twitter", "social", 10, 10, 0, NULL, NULL, NULL, false, KIND_PAGE_VIEW },
	{ "g2.com", "referral", "G2.com", "Referral", 20, 20, 0, NULL, NULL, NULL, false, KIND_PAGE_VIEW },
	{ "partner-blog.com", "referral", "Partner-Blog.com", "referral", 20, 20, 0, NULL, NULL, NULL, false, KIND_PAGE_VIEW },
	{ "(direct)", "(none)", "(direct)", "(None)", 100, 150, 0, NULL, NULL, NULL, false, KIND_PAGE_VIEW },
	{ "partnerstack", "affiliate", "PartnerStack", "Affiliate", 20, 10, 3, "aff", NULL, NULL, false, KIND_PAGE_VIEW },
	{ "webinar", "event", "Webinar", "Event", 20, 50, 6, "web", NULL, NULL, false, KIND_OFFLINE },
	{ "newsletter-swap", "sponsored", "Newsletter-Swap", "Sponsored", 10, 10, 2, "spn", NULL, NULL, false, KIND_PAGE_VIEW },
};

#define N_COMBOS ((int) (sizeof(combos) / sizeof(combos[0])))
#define COMBO_GOOGLE_CPC 0
#define COMBO_GOOGLE_DISPLAY 4
#define COMBO_EMAIL 5

static const char *const terms[] = {
	"crm software", "lead attribution", "marketing analytics", "b2b pipeline",
	"revenue reporting", "sales forecasting"
};
static const char *const pages[] = { "", "pricing", "demo", "features", "blog/post-", "customers" };
static const char *const lead_stages[] = { "lead", "mql", "sql", "opportunity", "customer" };
static const char *const products[] = { "core", "analytics", "enterprise" };
static const char *const owners[] = { "ana", "ben", "chloe", "david", "emma", "felix", "gina", "hugo" };

typedef struct Rng
{
	uint64_t s[4];
} Rng;

/* A person: one lead (with maybe an older version) and the slice of its touches. */
typedef struct GPerson
{
	int64_t start;              /* seconds: first touch no earlier */
	int64_t created;
	int64_t updated;
	uint32_t company;
	uint32_t first;             /* touches[first .. first + n) in person order */
	uint8_t n;
	uint8_t system;             /* SYS_HUBSPOT or SYS_SALESFORCE */
	uint8_t stage;
	bool deleted;
	bool has_old;
} GPerson;

typedef struct GTouch
{
	int64_t at;                 /* seconds since the epoch */
	uint32_t person;            /* NO_PERSON: anonymous */
	uint32_t seq;               /* unique per touch; its id */
	uint16_t campaign;
	uint8_t combo;
	uint8_t system;
	uint8_t kind;
	uint8_t flags;
} GTouch;

enum
{
	DEAL_WON,
	DEAL_LOST,
	DEAL_OPEN
};

typedef struct GDeal
{
	int64_t created;
	int64_t closed;             /* 0 when open */
	int64_t updated;
	int64_t amount_minor;
	uint32_t contacts[4];
	uint8_t n_contacts;
	uint8_t status;
	uint8_t product;
	bool deleted;
	bool has_old;
} GDeal;

/* A row to write: which object, which version, in which partition. */
typedef struct RowRef
{
	int32_t date;
	uint32_t index;
	uint8_t old;
} RowRef;

typedef struct Gen
{
	const GenParams *p;
	Rng rng;
	int64_t t0;                 /* first second of the span */
	int64_t t1;                 /* first second after it */
	GPerson *people;            /* owned */
	GTouch *touches;            /* owned, person order, then anonymous, then old versions */
	size_t n_touches;           /* rows, old versions included */
	GDeal *deals;               /* owned */
	size_t n_deals;
	int64_t rows[4];            /* lead, deal, touch, spend rows written */
} Gen;

/* ---------------------------------------------------------------------
 * Random numbers: xoshiro256** seeded through splitmix64, the same
 * sequence on every platform.
 * --------------------------------------------------------------------- */

/* splitmix64 spreads a seed over all 64 bits. */
static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z;

	*x += UINT64_C(0x9E3779B97F4A7C15);
	z = *x;
	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

static uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* rng_init derives a stream from (seed, stream): each stage draws its own sequence. */
static void
rng_init(Rng *r, uint64_t seed, uint64_t stream)
{
	uint64_t x = seed ^ (stream * UINT64_C(0xD1B54A32D192ED03));

	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

static uint64_t
rng_next(Rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

/* rng_below: uniform in [0, n) by rejection, 0 when n <= 1. */
static uint64_t
rng_below(Rng *r, uint64_t n)
{
	uint64_t threshold;
	uint64_t v;

	if (n <= 1)
		return 0;
	threshold = (0 - n) % n;
	do
		v = rng_next(r);
	while (v < threshold);
	return v % n;
}

/* rng_unit: uniform in [0, 1) with 53 bits. */
static double
rng_unit(Rng *r)
{
	return (double) (rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* rng_percent: true with probability pct/100. */
static bool
rng_percent(Rng *r, unsigned pct)
{
	return rng_below(r, 100) < pct;
}

/* ---------------------------------------------------------------------
 * Planning
 * --------------------------------------------------------------------- */

/* pick_combo draws a combination by the first-touch or later-touch weights. */
static int
pick_combo(Rng *r, bool first)
{
	int total = 0;
	int x;

	for (int i = 0; i < N_COMBOS; i++)
		total += first ? combos[i].w_first : combos[i].w_later;
	x = (int) rng_below(r, (uint64_t) total);
	for (int i = 0; i < N_COMBOS; i++)
	{
		x -= first ? combos[i].w_first : combos[i].w_later;
		if (x < 0)
			return i;
	}
	return N_COMBOS - 1;
}

/* pick_campaign: a few campaigns of a combination carry most touches. */
static uint16_t
pick_campaign(Rng *r, int combo)
{
	double u;

	if (combos[combo].n_campaigns == 0)
		return NO_CAMPAIGN;
	u = rng_unit(r);
	return (uint16_t) (combos[combo].n_campaigns * u * u);
}

/*
 * plan_counts sets each person's number of touches so that they add up to
 * exactly assigned: 1 + floor(29 u^e) with the exponent chosen for the
 * mean (skewed to short journeys), then nudged one touch at a time. When
 * there are fewer touches than people, counts are 0 or 1.
 */
static void
plan_counts(Gen *g, int64_t assigned)
{
	int64_t n = g->p->leads;
	double mean = (double) assigned / (double) n;
	int lo = mean < 1.0 ? 0 : 1;
	double e = mean > 1.5 ? 29.0 / (mean - 0.5) - 1.0 : 1.0;
	int64_t sum = 0;

	if (e < 0.05)
		e = 0.05;
	for (int64_t i = 0; i < n; i++)
	{
		int k;

		if (lo == 0)
			k = rng_unit(&g->rng) < mean ? 1 : 0;
		else
			k = 1 + (int) (29.0 * pow(rng_unit(&g->rng), e));
		g->people[i].n = (uint8_t) k;
		sum += k;
	}
	while (sum != assigned)
	{
		GPerson *pp = &g->people[rng_below(&g->rng, (uint64_t) n)];

		if (sum > assigned && pp->n > lo)
		{
			pp->n--;
			sum--;
		}
		else if (sum < assigned && pp->n < MAX_JOURNEY)
		{
			pp->n++;
			sum++;
		}
	}
}

/* touch_kind: what the system records for a touch of this combination. */
static uint8_t
touch_kind(int combo, uint8_t system, bool creating)
{
	if (system == SYS_MAILCHIMP)
		return KIND_EMAIL_CLICK;
	if (creating)
		return KIND_FORM_SUBMIT;
	if (system == SYS_SALESFORCE)
		return KIND_CAMPAIGN_MEMBER;
	return (uint8_t) combos[combo].kind;
}

/*
 * plan_people: companies of 1..8 people, a start time uniform in the span,
 * journeys spread over 1..151 days from it, the lead created at one of its
 * first three touches.
 */
static void
plan_people(Gen *g, size_t *next)
{
	int64_t span = g->t1 - g->t0;
	uint32_t company = 0;
	uint32_t left_in_company = 0;
	int64_t times[MAX_JOURNEY];

	for (int64_t i = 0; i < g->p->leads; i++)
	{
		GPerson *pp = &g->people[i];
		int64_t len;
		uint32_t creating;

		if (left_in_company == 0)
		{
			company++;
			left_in_company = 1 + (uint32_t) rng_below(&g->rng, 8);
		}
		left_in_company--;
		pp->company = company;
		pp->system = rng_percent(&g->rng, 6) ? SYS_SALESFORCE : SYS_HUBSPOT;
		pp->start = g->t0 + (int64_t) rng_below(&g->rng, (uint64_t) (span - SECS_PER_DAY));
		len = (1 + (int64_t) rng_below(&g->rng, 151)) * SECS_PER_DAY;
		if (pp->start + len > g->t1 - 1)
			len = g->t1 - 1 - pp->start;
		for (int j = 0; j < pp->n; j++)
		{
			int64_t t = pp->start + (int64_t) rng_below(&g->rng, (uint64_t) len + 1);
			int k = j;

			while (k > 0 && times[k - 1] > t)
			{
				times[k] = times[k - 1];
				k--;
			}
			times[k] = t;
		}
		creating = pp->n == 0 ? 0 : (uint32_t) rng_below(&g->rng, pp->n < 3 ? pp->n : 3);
		pp->created = pp->n == 0 ? pp->start : times[creating];
		pp->first = (uint32_t) *next;
		for (int j = 0; j < pp->n; j++)
		{
			GTouch *t = &g->touches[(*next)++];
			int combo = pick_combo(&g->rng, j == 0);

			t->at = times[j];
			t->person = (uint32_t) i;
			t->seq = (uint32_t) (*next - 1);
			t->combo = (uint8_t) combo;
			t->system = combo == COMBO_EMAIL ? SYS_MAILCHIMP : pp->system;
			t->kind = touch_kind(combo, t->system, (uint32_t) j == creating);
			t->campaign = pick_campaign(&g->rng, combo);
			t->flags = rng_percent(&g->rng, 3) ? T_MESSY : 0;
		}
		pp->updated = pp->created + (int64_t) rng_below(&g->rng, 90 * SECS_PER_DAY);
		if (pp->updated > g->t1 + SECS_PER_DAY - 1)
			pp->updated = g->t1 + SECS_PER_DAY - 1;
		pp->stage = (uint8_t) rng_below(&g->rng, 5);
		pp->has_old = rng_percent(&g->rng, 5) && pp->updated > pp->created;
		pp->deleted = rng_percent(&g->rng, 1);
	}
}

/* plan_anonymous: ad clicks the ad platform reports without a person. */
static void
plan_anonymous(Gen *g, int64_t count, size_t *next)
{
	for (int64_t i = 0; i < count; i++)
	{
		GTouch *t = &g->touches[(*next)++];
		int combo = rng_percent(&g->rng, 80) ? COMBO_GOOGLE_CPC : COMBO_GOOGLE_DISPLAY;

		t->at = g->t0 + (int64_t) rng_below(&g->rng, (uint64_t) (g->t1 - g->t0));
		t->person = NO_PERSON;
		t->seq = (uint32_t) (*next - 1);
		t->combo = (uint8_t) combo;
		t->system = SYS_GOOGLE_ADS;
		t->kind = KIND_AD_CLICK;
		t->campaign = pick_campaign(&g->rng, combo);
		t->flags = 0;
	}
}

/* plan_old_touches: about 1% of touches were first extracted without campaign. */
static void
plan_old_touches(Gen *g, size_t distinct, size_t *next)
{
	for (size_t i = 0; i < distinct; i++)
	{
		if (rng_below(&g->rng, 100) != 0)
			continue;
		g->touches[*next] = g->touches[i];
		g->touches[*next].flags |= T_OLD;
		(*next)++;
	}
}

/*
 * pick_primary: a HubSpot person, with touches when one can be found in a
 * few draws (most won deals have a journey; a few do not).
 */
static uint32_t
pick_primary(Gen *g)
{
	uint32_t best = NO_PERSON;

	for (int attempt = 0; attempt < 20; attempt++)
	{
		uint32_t i = (uint32_t) rng_below(&g->rng, (uint64_t) g->p->leads);
		const GPerson *pp = &g->people[i];

		if (pp->system != SYS_HUBSPOT)
			continue;
		best = i;
		if (pp->n > 0)
			break;
	}
	return best;
}

/* add_colleagues: more contacts of the deal from the primary's company. */
static void
add_colleagues(Gen *g, GDeal *d, uint32_t primary)
{
	static const unsigned cumulative[] = { 60, 85, 95, 100 };
	unsigned x = (unsigned) rng_below(&g->rng, 100);
	int want = 1;

	while (want < 4 && x >= cumulative[want - 1])
		want++;
	d->contacts[0] = primary;
	d->n_contacts = 1;
	for (int64_t off = 1; off < 8 && d->n_contacts < want; off++)
	{
		for (int sign = 1; sign >= -1 && d->n_contacts < want; sign -= 2)
		{
			int64_t j = (int64_t) primary + sign * off;

			if (j < 0 || j >= g->p->leads)
				continue;
			if (g->people[j].company != g->people[primary].company
				|| g->people[j].system != SYS_HUBSPOT)
				continue;
			d->contacts[d->n_contacts++] = (uint32_t) j;
		}
	}
}

/*
 * plan_deal: won and lost deals close after one of the primary's touches
 * (a late one, mostly), within the span; open deals have no close.
 */
static void
plan_deal(Gen *g, GDeal *d, uint8_t status)
{
	uint32_t primary = pick_primary(g);
	const GPerson *pp;
	double u;

	memset(d, 0, sizeof(*d));
	d->status = status;
	if (primary == NO_PERSON)
		primary = 0;
	pp = &g->people[primary];
	add_colleagues(g, d, primary);
	if (status == DEAL_OPEN)
	{
		d->created = pp->created + (int64_t) rng_below(&g->rng, 30 * SECS_PER_DAY);
		if (d->created > g->t1 - 1)
			d->created = g->t1 - 1;
		d->updated = d->created + (int64_t) rng_below(&g->rng, 30 * SECS_PER_DAY);
	}
	else
	{
		if (pp->n > 0)
		{
			u = rng_unit(&g->rng);
			d->closed = g->touches[pp->first + pp->n - 1 - (uint32_t) (pp->n * u * u)].at;
		}
		else
			d->closed = pp->start;
		d->closed += 3600 + (int64_t) rng_below(&g->rng, 14 * SECS_PER_DAY);
		if (d->closed > g->t1 - 1)
			d->closed = g->t1 - 1;
		d->created = d->closed - (7 + (int64_t) rng_below(&g->rng, 114)) * SECS_PER_DAY;
		d->updated = d->closed + (int64_t) rng_below(&g->rng, 3 * SECS_PER_DAY);
	}
	if (d->updated > g->t1 + SECS_PER_DAY - 1)
		d->updated = g->t1 + SECS_PER_DAY - 1;
	u = rng_unit(&g->rng);
	d->amount_minor = (int64_t) (exp(log(500.0) + u * (log(150000.0) - log(500.0))) * 100.0);
	d->product = (uint8_t) rng_below(&g->rng, 3);
	d->has_old = rng_percent(&g->rng, 10) && d->updated > d->created;
	d->deleted = rng_percent(&g->rng, 1);
}

/* plan_deals: the won deals, as many lost ones, half as many open ones. */
static bool
plan_deals(Gen *g)
{
	int64_t won = g->p->won_deals;

	g->n_deals = (size_t) (won * 2 + won / 2);
	g->deals = calloc(g->n_deals + 1, sizeof(GDeal));
	if (g->deals == NULL)
	{
		log_error("out of memory planning %zu deals", g->n_deals);
		return false;
	}
	if (g->p->leads == 0)
	{
		g->n_deals = 0;
		return true;
	}
	rng_init(&g->rng, g->p->seed, 2);
	for (size_t i = 0; i < g->n_deals; i++)
	{
		uint8_t status = (int64_t) i < won ? DEAL_WON : (int64_t) i < 2 * won ? DEAL_LOST : DEAL_OPEN;

		plan_deal(g, &g->deals[i], status);
	}
	return true;
}

/* plan: people and touches, then deals (which look at the touch times). */
static bool
plan(Gen *g)
{
	int64_t anonymous = g->p->leads > 0 ? g->p->touches * 8 / 100 : g->p->touches;
	int64_t assigned = g->p->touches - anonymous;
	size_t cap;
	size_t next = 0;

	if (assigned > (int64_t) MAX_JOURNEY * g->p->leads)
	{
		anonymous += assigned - (int64_t) MAX_JOURNEY * g->p->leads;
		assigned = (int64_t) MAX_JOURNEY * g->p->leads;
	}
	cap = (size_t) g->p->touches + (size_t) g->p->touches / 50 + 16;
	g->people = calloc((size_t) g->p->leads + 1, sizeof(GPerson));
	g->touches = malloc(cap * sizeof(GTouch));
	if (g->people == NULL || g->touches == NULL)
	{
		log_error("out of memory planning %" PRId64 " touches", g->p->touches);
		return false;
	}
	rng_init(&g->rng, g->p->seed, 1);
	if (g->p->leads > 0)
	{
		plan_counts(g, assigned);
		plan_people(g, &next);
	}
	plan_anonymous(g, anonymous, &next);
	plan_old_touches(g, next, &next);
	g->n_touches = next;
	return plan_deals(g);
}

/* ---------------------------------------------------------------------
 * Writing
 * --------------------------------------------------------------------- */

static ClDate
day_of(int64_t secs)
{
	return (ClDate) (secs >= 0 ? secs / SECS_PER_DAY : (secs - SECS_PER_DAY + 1) / SECS_PER_DAY);
}

static void
gen_time(JsonGen *j, const char *key, int64_t secs)
{
	jgen_time(j, key, (ClTime) secs * CL_USEC_PER_SEC);
}

/*
 * open_writer: one writer per (vendor, entity); the run id is derived from
 * the seed and the writer number, so the file names repeat too. Returns an
 * ALLOCATED writer (staging_writer_free) or NULL (logged).
 */
static StagingWriter *
open_writer(Gen *g, const char *family, const char *vendor, const char *entity, int number)
{
	StagingWindow window = { g->p->from, g->p->to };
	char id[CL_RUN_ID_SIZE];
	uint64_t x = g->p->seed + (uint64_t) number;
	int y;
	int m;
	int d;

	date_to_ymd(g->p->to + 1, &y, &m, &d);
	snprintf(id, sizeof(id), "%04d%02d%02dT020000Z-%06" PRIx64, y, m, d,
			 splitmix64(&x) & UINT64_C(0xffffff));
	return staging_writer_new(g->p->out_dir, family, vendor, entity, id, window, GEN_TOOL);
}

/* commit_writer commits and frees w; false on failure (logged). */
static bool
commit_writer(StagingWriter *w)
{
	ClError err = CL_OK;
	bool ok = staging_writer_commit(w, NULL, -1, &err);

	staging_writer_free(w);
	return ok;
}

static int
rowref_cmp(const void *a, const void *b)
{
	const RowRef *x = a;
	const RowRef *y = b;

	if (x->date != y->date)
		return x->date < y->date ? -1 : 1;
	if (x->index != y->index)
		return x->index < y->index ? -1 : 1;
	return (int) y->old - (int) x->old;
}

/*
 * lead_email writes a person's email into buf; messy gives the form a
 * careless user types.
 */
static void
lead_email(uint32_t i, uint32_t company, bool messy, char *buf, size_t size)
{
	if (messy)
		snprintf(buf, size, " Lead%" PRIu32 "@Company%" PRIu32 ".com ", i, company);
	else
		snprintf(buf, size, "lead%" PRIu32 "@company%" PRIu32 ".com", i, company);
}

/* person_id: the lead id; HubSpot's is also the contact id. */
static void
person_id(uint32_t i, uint8_t system, char *buf, size_t size)
{
	if (system == SYS_HUBSPOT)
		snprintf(buf, size, "%" PRId64, HUBSPOT_CONTACT_BASE + (int64_t) i);
	else
		snprintf(buf, size, "00Q%012" PRIu32, i);
}

/* write_lead writes one version of lead i. */
static bool
write_lead(Gen *g, StagingWriter *w, uint32_t i, bool old, ClDate partition)
{
	const GPerson *pp = &g->people[i];
	JsonGen *j = staging_row_begin(w, partition);
	char id[32];
	char email[96];

	person_id(i, pp->system, id, sizeof(id));
	lead_email(i, pp->company, false, email, sizeof(email));
	jgen_string(j, "lead_id", id);
	jgen_string(j, "source_system", sys_vendor[pp->system]);
	jgen_string(j, "email", email);
	if (pp->system == SYS_HUBSPOT)
		jgen_string(j, "crm_contact_id", id);
	gen_time(j, "created_at", pp->created);
	gen_time(j, "updated_at", old ? pp->created : pp->updated);
	jgen_string(j, "lifecycle_stage", old ? "subscriber" : lead_stages[pp->stage]);
	jgen_string(j, "product_group", products[i % 3]);
	jgen_string(j, "owner", owners[pp->company % 8]);
	jgen_bool(j, "is_deleted", !old && pp->deleted);
	return staging_row_end(w);
}

/*
 * write_leads: one writer per system, rows sorted by partition (the day of
 * updated_at, i.e. the extraction that saw the version).
 */
static bool
write_leads(Gen *g)
{
	RowRef *refs = NULL;
	size_t n = 0;
	bool ok = false;

	refs = malloc(((size_t) g->p->leads * 2 + 1) * sizeof(RowRef));
	if (refs == NULL)
	{
		log_error("out of memory writing leads");
		return false;
	}
	for (int sys = SYS_HUBSPOT; sys <= SYS_SALESFORCE; sys++)
	{
		StagingWriter *w;

		n = 0;
		for (int64_t i = 0; i < g->p->leads; i++)
		{
			const GPerson *pp = &g->people[i];

			if (pp->system != sys)
				continue;
			refs[n++] = (RowRef) { day_of(pp->updated), (uint32_t) i, 0 };
			if (pp->has_old)
				refs[n++] = (RowRef) { day_of(pp->created), (uint32_t) i, 1 };
		}
		if (n == 0)
			continue;
		qsort(refs, n, sizeof(RowRef), rowref_cmp);
		w = open_writer(g, "crm", sys_vendor[sys], "lead", sys);
		if (w == NULL)
			goto cleanup;
		for (size_t k = 0; k < n; k++)
		{
			if (!write_lead(g, w, refs[k].index, refs[k].old, refs[k].date))
			{
				staging_writer_free(w);
				goto cleanup;
			}
		}
		if (!commit_writer(w))
			goto cleanup;
		g->rows[0] += (int64_t) n;
	}
	ok = true;

cleanup:
	free(refs);
	return ok;
}

/* write_deal writes one version of deal i; the older one was not yet won or lost. */
static bool
write_deal(Gen *g, StagingWriter *w, uint32_t i, bool old, ClDate partition)
{
	const GDeal *d = &g->deals[i];
	JsonGen *j = staging_row_begin(w, partition);
	bool closed = !old && d->status != DEAL_OPEN;
	char id[32];
	char name[64];

	snprintf(id, sizeof(id), "%" PRId64, HUBSPOT_DEAL_BASE + (int64_t) i);
	snprintf(name, sizeof(name), "Company%" PRIu32 " %s", g->people[d->contacts[0]].company,
			 products[d->product]);
	jgen_string(j, "deal_id", id);
	jgen_string(j, "source_system", "hubspot");
	jgen_string(j, "name", name);
	jgen_int(j, "amount_minor", d->amount_minor);
	jgen_string(j, "currency", "USD");
	jgen_string(j, "stage", !closed ? (d->status == DEAL_OPEN ? "qualifiedtobuy" : "contractsent")
				: d->status == DEAL_WON ? "closedwon" : "closedlost");
	jgen_bool(j, "is_closed", closed);
	jgen_bool(j, "is_won", closed && d->status == DEAL_WON);
	gen_time(j, "created_at", d->created);
	if (closed)
		gen_time(j, "closed_at", d->closed);
	gen_time(j, "updated_at", old ? d->created + (d->updated - d->created) / 2 : d->updated);
	jgen_array_begin(j, "contact_ids");
	for (uint8_t c = 0; c < d->n_contacts; c++)
	{
		char cid[32];

		person_id(d->contacts[c], SYS_HUBSPOT, cid, sizeof(cid));
		jgen_string(j, NULL, cid);
	}
	jgen_array_end(j);
	jgen_string(j, "product_group", products[d->product]);
	jgen_bool(j, "is_deleted", !old && d->deleted);
	return staging_row_end(w);
}

/* write_deals: HubSpot deals, sorted by the day of their version's updated_at. */
static bool
write_deals(Gen *g)
{
	RowRef *refs = NULL;
	StagingWriter *w = NULL;
	size_t n = 0;
	bool ok = false;

	if (g->n_deals == 0)
		return true;
	refs = malloc((g->n_deals * 2 + 1) * sizeof(RowRef));
	if (refs == NULL)
	{
		log_error("out of memory writing deals");
		return false;
	}
	for (size_t i = 0; i < g->n_deals; i++)
	{
		const GDeal *d = &g->deals[i];

		refs[n++] = (RowRef) { day_of(d->updated), (uint32_t) i, 0 };
		if (d->has_old)
			refs[n++] = (RowRef) { day_of(d->created + (d->updated - d->created) / 2),
								   (uint32_t) i, 1 };
	}
	qsort(refs, n, sizeof(RowRef), rowref_cmp);
	w = open_writer(g, "crm", "hubspot", "deal", 2);
	if (w == NULL)
		goto cleanup;
	for (size_t k = 0; k < n; k++)
	{
		if (!write_deal(g, w, refs[k].index, refs[k].old, refs[k].date))
			goto cleanup;
	}
	ok = commit_writer(w);
	w = NULL;
	g->rows[1] += (int64_t) n;

cleanup:
	staging_writer_free(w);
	free(refs);
	return ok;
}

static int
touch_cmp(const void *a, const void *b)
{
	const GTouch *x = a;
	const GTouch *y = b;

	if (x->system != y->system)
		return x->system < y->system ? -1 : 1;
	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return (int) (y->flags & T_OLD) - (int) (x->flags & T_OLD);
}

/* campaign_name: "<prefix>_<nn>"; email campaigns are weekly newsletters. */
static void
campaign_name(int combo, uint16_t c, char *buf, size_t size)
{
	snprintf(buf, size, "%s_%02u", combos[combo].prefix, (unsigned) c);
}

/*
 * write_touch writes one version of a touch. The older version lacks the
 * campaign (a tag fixed later); its updated_at is earlier.
 */
static bool
write_touch(Gen *g, StagingWriter *w, const GTouch *t)
{
	const Combo *c = &combos[t->combo];
	JsonGen *j = staging_row_begin(w, day_of(t->at));
	bool messy = (t->flags & T_MESSY) != 0;
	bool old = (t->flags & T_OLD) != 0;
	char buf[256];
	char camp[32] = "";

	snprintf(buf, sizeof(buf), "%s%010" PRIu32, sys_touch_prefix[t->system], t->seq);
	jgen_string(j, "touch_id", buf);
	jgen_string(j, "source_system", sys_vendor[t->system]);
	if (t->person != NO_PERSON)
	{
		const GPerson *pp = &g->people[t->person];

		jgen_object_begin(j, "person");
		lead_email(t->person, pp->company, messy, buf, sizeof(buf));
		jgen_string(j, "email", buf);
		if (t->system == SYS_HUBSPOT)
		{
			person_id(t->person, SYS_HUBSPOT, buf, sizeof(buf));
			jgen_string(j, "crm_id", buf);
		}
		jgen_object_end(j);
	}
	gen_time(j, "at", t->at);
	jgen_string(j, "kind", kind_names[t->kind]);
	jgen_string(j, "source", messy ? c->messy_source : c->source);
	jgen_string(j, "medium", messy ? c->messy_medium : c->medium);
	if (t->campaign != NO_CAMPAIGN)
	{
		campaign_name(t->combo, t->campaign, camp, sizeof(camp));
		if (!old)
			jgen_string(j, "campaign", camp);
		if (c->platform != NULL)
		{
			snprintf(buf, sizeof(buf), "ad-%u", (unsigned) (t->seq % 5));
			jgen_string(j, "content", buf);
		}
		if (c->terms)
			jgen_string(j, "term", terms[t->seq % 6]);
		snprintf(buf, sizeof(buf), "%d", CAMPAIGN_ID_BASE + t->combo * 100 + t->campaign);
		jgen_string(j, "campaign_id", buf);
	}
	if (c->platform != NULL && (t->system == SYS_GOOGLE_ADS || t->seq % 2 == 0))
	{
		snprintf(buf, sizeof(buf), "Cj0KCQiA%08" PRIx32 "BhD%06" PRIx32, t->seq * 2654435761U,
				 t->seq & 0xffffffU);
		jgen_string(j, "click_id", buf);
	}
	if (t->system != SYS_GOOGLE_ADS)
	{
		const char *page = pages[t->seq % 6];
		int n = snprintf(buf, sizeof(buf), "https://www.example.com/%s", page);

		if (strcmp(page, "blog/post-") == 0)
			n += snprintf(buf + n, sizeof(buf) - (size_t) n, "%u", (unsigned) (t->seq % 400));
		if (camp[0] != '\0')
			(void) snprintf(buf + n, sizeof(buf) - (size_t) n,
							"?utm_source=%s&utm_medium=%s&utm_campaign=%s", c->source, c->medium,
							camp);
		jgen_string(j, "url", buf);
	}
	gen_time(j, "updated_at", old ? t->at + 30 : t->at + 60 + (int64_t) (t->seq % 3600));
	return staging_row_end(w);
}

/* write_touches: sorted by (system, time), one writer per system. */
static bool
write_touches(Gen *g)
{
	StagingWriter *w = NULL;
	int current = -1;
	bool ok = false;

	qsort(g->touches, g->n_touches, sizeof(GTouch), touch_cmp);
	for (size_t i = 0; i < g->n_touches; i++)
	{
		const GTouch *t = &g->touches[i];

		if (t->system != current)
		{
			if (w != NULL && !commit_writer(w))
			{
				w = NULL;
				goto cleanup;
			}
			current = t->system;
			w = open_writer(g, sys_family[current], sys_vendor[current], "touch", 3 + current);
			if (w == NULL)
				goto cleanup;
		}
		if (!write_touch(g, w, t))
			goto cleanup;
		g->rows[2]++;
	}
	ok = w == NULL || commit_writer(w);
	w = NULL;

cleanup:
	staging_writer_free(w);
	return ok;
}

/*
 * write_spend_platform writes the daily rows of every paid campaign of one
 * platform; about 2% of days are restated and appear twice (the later row
 * wins).
 */
static bool
write_spend_platform(Gen *g, const char *platform, int number)
{
	StagingWriter *w = open_writer(g, "ads", platform, "spend", number);
	bool ok = false;

	if (w == NULL)
		return false;
	for (ClDate d = g->p->from; d <= g->p->to; d++)
	{
		for (int ci = 0; ci < N_COMBOS; ci++)
		{
			const Combo *c = &combos[ci];

			if (c->platform == NULL || strcmp(c->platform, platform) != 0)
				continue;
			for (uint16_t k = 0; k < c->n_campaigns; k++)
			{
				int copies = rng_percent(&g->rng, 2) ? 2 : 1;

				for (int copy = 0; copy < copies; copy++)
				{
					JsonGen *j = staging_row_begin(w, d);
					int64_t impressions = 200 + (int64_t) rng_below(&g->rng, 8000);
					int64_t clicks = impressions * (1 + (int64_t) rng_below(&g->rng, 5)) / 100;
					char buf[64];

					jgen_date(j, "date", d);
					jgen_string(j, "platform", platform);
					jgen_string(j, "account_id", c->account);
					snprintf(buf, sizeof(buf), "%d", CAMPAIGN_ID_BASE + ci * 100 + k);
					jgen_string(j, "campaign_id", buf);
					campaign_name(ci, k, buf, sizeof(buf));
					jgen_string(j, "campaign_name", buf);
					jgen_string(j, "source", c->source);
					jgen_string(j, "medium", c->medium);
					jgen_string(j, "campaign", buf);
					jgen_int(j, "impressions", impressions);
					jgen_int(j, "clicks", clicks);
					jgen_int(j, "cost_minor", clicks * (50 + (int64_t) rng_below(&g->rng, 350)));
					jgen_string(j, "currency", "USD");
					if (!staging_row_end(w))
						goto cleanup;
					g->rows[3]++;
				}
			}
		}
	}
	ok = commit_writer(w);
	w = NULL;

cleanup:
	staging_writer_free(w);
	return ok;
}

static bool
write_spend(Gen *g)
{
	static const char *const platforms[] = {
		"google_ads", "microsoft_ads", "meta", "linkedin_ads"
	};

	rng_init(&g->rng, g->p->seed, 3);
	for (int i = 0; i < 4; i++)
	{
		if (!write_spend_platform(g, platforms[i], 7 + i))
			return false;
	}
	return true;
}

bool
gen_run(const GenParams *p)
{
	Gen *g = calloc(1, sizeof(Gen));
	bool ok = false;

	if (g == NULL)
	{
		log_error("out of memory");
		return false;
	}
	g->p = p;
	g->t0 = (int64_t) p->from * SECS_PER_DAY;
	g->t1 = ((int64_t) p->to + 1) * SECS_PER_DAY;
	if (!plan(g))
		goto cleanup;
	log_info("planned %zu touch rows, %" PRId64 " leads, %zu deals", g->n_touches, p->leads,
			 g->n_deals);
	if (!write_leads(g) || !write_deals(g) || !write_spend(g) || !write_touches(g))
		goto cleanup;   /* errors have already been logged */
	printf("cl-gen-staging: wrote %" PRId64 " lead, %" PRId64 " deal, %" PRId64 " touch and %"
		   PRId64 " spend rows into %s\n", g->rows[0], g->rows[1], g->rows[2], g->rows[3],
		   p->out_dir);
	ok = true;

cleanup:
	free(g->people);
	free(g->touches);
	free(g->deals);
	free(g);
	return ok;
}
