/*
 * truth.c: the ground truth in expected.json, computed from the
 * generator's own records with the rules of DESIGN §4, independently of
 * cl-transform. docs/DEMO_DATA.md states the rules; keep the two in step.
 */
#include <inttypes.h>
#include <string.h>

#include "datagen.h"

/* Sorted by byte order, so expected.json lists channels deterministically. */
const char *const dg_channel_names[DG_N_CHANNELS] = {
	"(none)", "Affiliates", "Direct", "Display", "Email", "Organic Search",
	"Organic Social", "Other", "Paid Search", "Paid Social", "Referral"
};

enum
{
	CH_NONE = 0,
	CH_AFFILIATES,
	CH_DIRECT,
	CH_DISPLAY,
	CH_EMAIL,
	CH_ORGANIC_SEARCH,
	CH_ORGANIC_SOCIAL,
	CH_OTHER,
	CH_PAID_SEARCH,
	CH_PAID_SOCIAL,
	CH_REFERRAL
};

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static const char *const social_sources[] = {
	"facebook", "instagram", "meta", "linkedin", "twitter", "x", "tiktok", "vk",
	"pinterest", "reddit", "snapchat", "youtube"
};
static const char *const paid_media[] = {
	"cpc", "ppc", "cpm", "paid", "paidsearch", "paid_search", "sem"
};
static const char *const email_media[] = {"email", "e-mail", "newsletter"};
static const char *const display_media[] = {"display", "banner", "interstitial"};
static const char *const paid_social_media[] = {"paid_social", "paidsocial", "social_paid"};
static const char *const organic_social_media[] = {"social", "sm", "referral", "none", "(none)", ""};
static const char *const direct_media[] = {"(none)", "(not set)", ""};

static bool
in_list(const char *v, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
	{
		if (strcmp(v, list[i]) == 0)
		{
			return true;
		}
	}
	return false;
}

/* Trimmed, lower-cased copy of s (NULL reads as empty) into buf. */
static void
normalise(const char *s, char *buf, size_t size)
{
	size_t len;
	size_t n = 0;

	if (s == NULL)
	{
		s = "";
	}
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
	{
		s++;
	}
	len = strlen(s);
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' ||
					   s[len - 1] == '\n' || s[len - 1] == '\r'))
	{
		len--;
	}
	for (size_t i = 0; i < len && n + 1 < size; i++)
	{
		char c = s[i];

		buf[n++] = (c >= 'A' && c <= 'Z') ? (char) (c - 'A' + 'a') : c;
	}
	buf[n] = '\0';
}

/*
 * dg_channel_of applies DESIGN §4's default channel grouping, first match
 * wins, to a (source, medium) pair. Returns an index into dg_channel_names.
 */
int
dg_channel_of(const char *source, const char *medium)
{
	char s[128];
	char m[128];
	bool social;
	bool paid;

	normalise(source, s, sizeof(s));
	normalise(medium, m, sizeof(m));
	social = in_list(s, social_sources, N_ELEMS(social_sources));
	paid = in_list(m, paid_media, N_ELEMS(paid_media));

	if (in_list(m, email_media, N_ELEMS(email_media)))
	{
		return CH_EMAIL;
	}
	if (strcmp(m, "affiliate") == 0)
	{
		return CH_AFFILIATES;
	}
	if (in_list(m, display_media, N_ELEMS(display_media)))
	{
		return CH_DISPLAY;
	}
	if (in_list(m, paid_social_media, N_ELEMS(paid_social_media)) || (paid && social))
	{
		return CH_PAID_SOCIAL;
	}
	if (paid)
	{
		return CH_PAID_SEARCH;
	}
	if (social && in_list(m, organic_social_media, N_ELEMS(organic_social_media)))
	{
		return CH_ORGANIC_SOCIAL;
	}
	if (strcmp(m, "organic") == 0)
	{
		return CH_ORGANIC_SEARCH;
	}
	if (strcmp(m, "referral") == 0)
	{
		return CH_REFERRAL;
	}
	if ((strcmp(s, "(direct)") == 0 || s[0] == '\0') &&
		in_list(m, direct_media, N_ELEMS(direct_media)))
	{
		return CH_DIRECT;
	}
	return CH_OTHER;
}

/*
 * dg_contact_source_medium maps the contact's hs_analytics_source and
 * data_1 to (source, medium) with the table the HubSpot extractor uses.
 * The strings are static or owned by the world.
 */
void
dg_contact_source_medium(const DgContact *c, const char **source, const char **medium)
{
	switch ((DgSource) c->source)
	{
		case DG_SRC_ORGANIC_SEARCH:
			*source = c->data1 ? c->data1 : "google";
			*medium = "organic";
			break;
		case DG_SRC_PAID_SEARCH:
			*source = c->data1;
			*medium = "cpc";
			break;
		case DG_SRC_EMAIL_MARKETING:
			*source = c->data1 ? c->data1 : "hubspot";
			*medium = "email";
			break;
		case DG_SRC_SOCIAL_MEDIA:
			*source = c->data1;
			*medium = "social";
			break;
		case DG_SRC_PAID_SOCIAL:
			*source = c->data1;
			*medium = "paid_social";
			break;
		case DG_SRC_REFERRALS:
			*source = c->data1;
			*medium = "referral";
			break;
		case DG_SRC_DIRECT_TRAFFIC:
			*source = "(direct)";
			*medium = "(none)";
			break;
		case DG_SRC_OFFLINE:
		default:
			*source = "offline";
			*medium = "offline";
			break;
	}
}

/* One touch of a journey, as far as ordering and crediting need it. */
typedef struct Touch
{
	DgTime at;
	char id[160];
	int channel;
} Touch;

/* Journey order: by time, then by touch id compared byte for byte. */
static int
touch_cmp(const Touch *a, const Touch *b)
{
	if (a->at != b->at)
	{
		return a->at < b->at ? -1 : 1;
	}
	return strcmp(a->id, b->id);
}

/* Keep t as the first and/or last touch seen so far. */
static void
consider(const Touch *t, Touch *first, Touch *last, int64_t *n)
{
	if (*n == 0 || touch_cmp(t, first) < 0)
	{
		*first = *t;
	}
	if (*n == 0 || touch_cmp(t, last) > 0)
	{
		*last = *t;
	}
	(*n)++;
}

/*
 * deal_journey finds the first and last touch of a won deal: the touches
 * of all its contacts (original source at creation, email clicks) with
 * close - 90 days <= at <= close. Returns the number of touches.
 */
static int64_t
deal_journey(const DgWorld *w, const DgDeal *d, Touch *first, Touch *last)
{
	DgTime hi = d->cur.closed;
	DgTime lo = hi - DG_LOOKBACK_DAYS * DG_MS_PER_DAY;
	int email_channel = dg_channel_of("newsletter", "email");
	int64_t n = 0;

	for (int j = 0; j < d->n_contacts; j++)
	{
		const DgContact *c = &w->contacts[d->contacts[j]];
		char email_id[33];
		Touch t;

		if (c->created >= lo && c->created <= hi)
		{
			const char *source;
			const char *medium;

			dg_contact_source_medium(c, &source, &medium);
			t.at = c->created;
			t.channel = dg_channel_of(source, medium);
			(void) snprintf(t.id, sizeof(t.id), "contact-%" PRId64 "-original", c->id);
			consider(&t, first, last, &n);
		}
		if (c->click_count == 0)
		{
			continue;
		}
		dg_email_id(c->email, email_id);
		for (size_t k = c->click_first; k < c->click_first + c->click_count; k++)
		{
			const DgClick *ck = &w->clicks[k];
			char ts[DG_TIME_BUFSIZE];

			if (ck->at < lo || ck->at > hi)
			{
				continue;
			}
			t.at = ck->at;
			t.channel = email_channel;
			(void) snprintf(t.id, sizeof(t.id), "%s-%s-click-%s",
							w->mails[ck->campaign].id, email_id,
							dg_format_mailchimp(ck->at, ts));
			consider(&t, first, last, &n);
		}
	}
	return n;
}

/*
 * dg_truth_compute fills t from the final world. Returns false (a bug) when
 * the credits of a model do not add up to the won revenue.
 */
bool
dg_truth_compute(const DgWorld *w, DgTruth *t)
{
	int64_t sum_first = 0;
	int64_t sum_last = 0;

	memset(t, 0, sizeof(*t));
	for (int i = 0; i < w->n_contacts; i++)
	{
		DgDate day = dg_time_date(w->contacts[i].created);

		if (day >= w->p.from && day <= w->p.to)
		{
			t->leads++;
		}
	}
	for (int i = 0; i < w->n_deals; i++)
	{
		const DgDeal *d = &w->deals[i];
		Touch first;
		Touch last;
		int64_t n;
		int cf;
		int cl;

		if (!dg_won_in_window(w, d))
		{
			continue;
		}
		t->won_deals++;
		t->revenue += d->cur.amount;
		n = deal_journey(w, d, &first, &last);
		t->journey_touches += n;
		cf = n > 0 ? first.channel : CH_NONE;
		cl = n > 0 ? last.channel : CH_NONE;
		if (n == 0)
		{
			t->deals_without_touches++;
		}
		t->first_touch[cf].revenue += d->cur.amount;
		t->first_touch[cf].deals++;
		t->last_touch[cl].revenue += d->cur.amount;
		t->last_touch[cl].deals++;
	}
	for (size_t r = 0; r < w->n_ad_rows; r++)
	{
		const DgAdRow *row = &w->ad_rows[r];

		/* micros to cents, half away from zero (costs are never negative) */
		t->spend += (row->cost_micros + 5000) / 10000;
		t->clicks += row->clicks;
		t->impressions += row->impressions;
	}
	for (int c = 0; c < DG_N_CHANNELS; c++)
	{
		sum_first += t->first_touch[c].revenue;
		sum_last += t->last_touch[c].revenue;
	}
	if (sum_first != t->revenue || sum_last != t->revenue)
	{
		fprintf(stderr, "cl-datagen: BUG: credits (%" PRId64 ", %" PRId64
				") do not add up to the revenue %" PRId64 "\n", sum_first, sum_last, t->revenue);
		return false;
	}
	return true;
}
