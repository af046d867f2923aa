/*
 * mail.c: the Mailchimp side: one list, a weekly newsletter plus a monthly
 * product update, and each recipient's email activity.
 *
 * The activity files are the largest output, so they are written while
 * they are generated; only the clicks of known contacts (the touches of
 * journeys) and per-campaign totals stay in memory.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "datagen.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static const char *const newsletter_subjects[] = {
	"This week: closing the loop between marketing and sales",
	"5 workflows our customers automated this month",
	"Your pipeline, minus the spreadsheets",
	"Webinar: attribution that finance believes",
	"What changed in Q1 for revenue teams",
	"New templates for onboarding and approvals",
	"How Cedar Health cut handoffs by 40%",
	"The \"single source of truth\" myth, revisited"
};

static const char *const update_subjects[] = {
	"Product update: integrations, audit log and faster reports",
	"Product update: SSO for every plan",
	"Product update: the new workflow builder is here"
};

static const char *const click_pages[] = {
	"pricing", "blog/attribution-for-b2b", "webinars/q1-roadmap",
	"product/integrations", "customers/case-studies", "demo"
};

static const char *const free_mail[] = {
	"gmail.com", "outlook.com", "yahoo.com", "proton.me", "icloud.com"
};

static const char *const plain_first[] = {
	"alex", "sam", "robin", "kim", "jordan", "taylor", "casey", "morgan", "jamie", "riley"
};

/* A list member: a CRM contact or an address the CRM does not know. */
typedef struct Subscriber
{
	int contact;				/* index into contacts, or -1 */
	int unknown;				/* numbering of unknown members, or -1 */
	DgTime joined;
} Subscriber;

typedef enum EventKind
{
	EV_OPEN = 0,
	EV_CLICK,
	EV_BOUNCE
} EventKind;

typedef struct Event
{
	DgTime at;
	int kind;					/* EventKind */
	int page;
} Event;

/*
 * dg_email_id gives a stable 32-hex-digit member id for an address, like
 * Mailchimp's (which is the MD5 of the lower-cased address). buf: 33 bytes.
 */
void
dg_email_id(const char *email, char *buf)
{
	uint64_t a = dg_hash64(email, UINT64_C(0x6D61696C));
	uint64_t b = dg_hash64(email, UINT64_C(0x63686D70));

	(void) snprintf(buf, 33, "%016" PRIx64 "%016" PRIx64, a, b);
}

static void
unknown_email(int k, char *buf, size_t size)
{
	uint64_t h = dg_hash64("unknown-member", (uint64_t) k);

	(void) snprintf(buf, size, "%s.%c%d@%s", plain_first[h % N_ELEMS(plain_first)],
					(char) ('a' + (h >> 8) % 26), k + 1, free_mail[(h >> 16) % N_ELEMS(free_mail)]);
}

static void
member_ip(const char *email, char *buf, size_t size)
{
	uint64_t h = dg_hash64(email, UINT64_C(0x6970));

	/* documentation ranges (RFC 5737): never a real host */
	(void) snprintf(buf, size, "%s.%d", (h & 1) ? "198.51.100" : "203.0.113",
					(int) ((h >> 1) % 254) + 1);
}

static int
subscriber_cmp(const void *a, const void *b)
{
	const Subscriber *x = a;
	const Subscriber *y = b;

	if (x->joined != y->joined)
	{
		return x->joined < y->joined ? -1 : 1;
	}
	if (x->contact != y->contact)
	{
		return x->contact < y->contact ? -1 : 1;
	}
	return (x->unknown > y->unknown) - (x->unknown < y->unknown);
}

static int
mail_cmp(const void *a, const void *b)
{
	const DgMailCampaign *x = a;
	const DgMailCampaign *y = b;

	if (x->sent != y->sent)
	{
		return x->sent < y->sent ? -1 : 1;
	}
	return (int) x->kind - (int) y->kind;
}

static int
click_cmp(const void *a, const void *b)
{
	const DgClick *x = a;
	const DgClick *y = b;

	if (x->contact != y->contact)
	{
		return x->contact < y->contact ? -1 : 1;
	}
	if (x->at != y->at)
	{
		return x->at < y->at ? -1 : 1;
	}
	return (x->campaign > y->campaign) - (x->campaign < y->campaign);
}

static void
random_hex(DgRng *rng, char *buf, int digits)
{
	static const char hex[] = "0123456789abcdef";

	for (int i = 0; i < digits; i++)
	{
		buf[i] = hex[dg_rng_below(rng, 16)];
	}
	buf[digits] = '\0';
}

/*
 * plan_campaigns fills w->mails: newsletters every Tuesday 15:00 UTC and a
 * product update on each month's second Thursday 16:30 UTC inside the
 * window. Allocates w->mails (dg_world_free).
 */
static bool
plan_campaigns(DgWorld *w, DgRng *rng)
{
	int span = w->p.to - w->p.from + 1;
	size_t cap = (size_t) span / 7 + (size_t) span / 28 + 4;
	DgDate first_tuesday = w->p.from + (1 - dg_weekday(w->p.from) + 7) % 7;

	w->mails = calloc(cap, sizeof(DgMailCampaign));
	if (w->mails == NULL)
	{
		fprintf(stderr, "cl-datagen: out of memory for campaigns\n");
		return false;
	}
	for (DgDate d = first_tuesday; d <= w->p.to; d += 7)
	{
		DgMailCampaign *m = &w->mails[w->n_mails++];

		m->kind = 0;
		m->sent = dg_date_start(d) + 15 * DG_MS_PER_HOUR;
	}
	for (DgDate d = w->p.from; d <= w->p.to; d++)
	{
		int y;
		int mo;
		int dd;

		dg_date_to_ymd(d, &y, &mo, &dd);
		if (dd >= 8 && dd <= 14 && dg_weekday(d) == 3 && (size_t) w->n_mails < cap)
		{
			DgMailCampaign *m = &w->mails[w->n_mails++];

			m->kind = 1;
			m->sent = dg_date_start(d) + 16 * DG_MS_PER_HOUR + 30 * DG_MS_PER_MIN;
		}
	}
	qsort(w->mails, (size_t) w->n_mails, sizeof(DgMailCampaign), mail_cmp);
	for (int i = 0; i < w->n_mails; i++)
	{
		DgMailCampaign *m = &w->mails[i];
		char date[DG_DATE_BUFSIZE];
		bool unique;

		do
		{
			random_hex(rng, m->id, 10);
			unique = true;
			for (int k = 0; k < i; k++)
			{
				unique = unique && strcmp(w->mails[k].id, m->id) != 0;
			}
		} while (!unique);
		m->web_id = dg_rng_range(rng, 1000000, 9999999);
		m->created = m->sent - dg_rng_range(rng, DG_MS_PER_DAY, 4 * DG_MS_PER_DAY) -
			dg_rng_range(rng, 0, DG_MS_PER_HOUR - 1);
		m->subject = (uint8_t) (m->kind == 0 ? (size_t) i % N_ELEMS(newsletter_subjects)
								: (size_t) i % N_ELEMS(update_subjects));
		dg_format_date(dg_time_date(m->sent), date);
		date[4] = '_';
		date[7] = '_';
		(void) snprintf(m->utm, sizeof(m->utm), "%s_%s",
						m->kind == 0 ? "newsletter" : "product_update", date);
	}
	return true;
}

const char *
dg_mail_subject(const DgMailCampaign *m)
{
	return m->kind == 0 ? newsletter_subjects[m->subject] : update_subjects[m->subject];
}

/*
 * build_subscribers lists the members: subscribed contacts from their
 * creation, and people the CRM does not know (most joined long ago).
 * Returns an ALLOCATED array sorted by join time; caller frees with free().
 */
static Subscriber *
build_subscribers(DgWorld *w, DgRng *rng, size_t *count)
{
	int span = w->p.to - w->p.from + 1;
	size_t n = 0;
	Subscriber *subs;

	w->n_unknown = w->p.leads / 4 > 5 ? w->p.leads / 4 : 5;
	subs = calloc((size_t) w->n_contacts + (size_t) w->n_unknown, sizeof(Subscriber));
	if (subs == NULL)
	{
		fprintf(stderr, "cl-datagen: out of memory for list members\n");
		return NULL;
	}
	for (int i = 0; i < w->n_contacts; i++)
	{
		if (w->contacts[i].subscribed)
		{
			subs[n].contact = i;
			subs[n].unknown = -1;
			subs[n].joined = w->contacts[i].created;
			n++;
		}
	}
	for (int k = 0; k < w->n_unknown; k++)
	{
		subs[n].contact = -1;
		subs[n].unknown = k;
		if (dg_rng_permille(rng, 700))
		{
			subs[n].joined = w->window_start - dg_rng_range(rng, DG_MS_PER_DAY, 700 * DG_MS_PER_DAY);
		}
		else
		{
			subs[n].joined = w->window_start + dg_rng_range(rng, 0, (DgTime) span * DG_MS_PER_DAY - 1);
		}
		n++;
	}
	qsort(subs, n, sizeof(Subscriber), subscriber_cmp);
	*count = n;
	return subs;
}

static bool
push_click(DgWorld *w, int contact, int campaign, DgTime at)
{
	if (w->n_clicks == w->cap_clicks)
	{
		size_t cap = w->cap_clicks ? w->cap_clicks * 2 : 1024;
		DgClick *grown = realloc(w->clicks, cap * sizeof(DgClick));

		if (grown == NULL)
		{
			fprintf(stderr, "cl-datagen: out of memory for clicks\n");
			return false;
		}
		w->clicks = grown;
		w->cap_clicks = cap;
	}
	w->clicks[w->n_clicks].contact = contact;
	w->clicks[w->n_clicks].campaign = campaign;
	w->clicks[w->n_clicks].at = at;
	w->n_clicks++;
	return true;
}

/*
 * member_events draws one recipient's activity: a rare bounce, else often
 * an open or three, and sometimes one or two clicks shortly after the first
 * open. People with a deal engage more, which is what gives deals their
 * email touches. Returns the number of events in ev (at most 6), sorted,
 * none after the snapshot.
 */
static int
member_events(const DgWorld *w, const DgMailCampaign *m, const Subscriber *s,
			  DgRng *rng, Event *ev)
{
	bool engaged = s->contact >= 0 && w->contacts[s->contact].in_deal;
	int open_p = s->contact < 0 ? 250 : engaged ? 500 : 300;
	int click_p = engaged ? 300 : 110;
	int n = 0;
	int kept = 0;
	DgTime first_open;
	DgTime t;
	int opens;

	if (dg_rng_permille(rng, 8))
	{
		ev[n].at = m->sent + dg_rng_range(rng, 1, 300) * DG_MS_PER_SEC;
		ev[n].kind = EV_BOUNCE;
		n++;
	}
	else if (dg_rng_permille(rng, open_p))
	{
		static const int bucket_weights[] = {50, 30, 20};
		static const int64_t bucket_hi[] = {2 * 3600, 24 * 3600, 96 * 3600};
		size_t b = dg_rng_weighted(rng, bucket_weights, 3);

		first_open = m->sent + dg_rng_range(rng, 30, bucket_hi[b]) * DG_MS_PER_SEC;
		opens = 1 + (dg_rng_permille(rng, 300) ? 1 : 0) + (dg_rng_permille(rng, 100) ? 1 : 0);
		t = first_open;
		for (int k = 0; k < opens; k++)
		{
			ev[n].at = t;
			ev[n].kind = EV_OPEN;
			n++;
			t += dg_rng_range(rng, 600, 48 * 3600) * DG_MS_PER_SEC;
		}
		if (dg_rng_permille(rng, click_p))
		{
			/* clicks of one member are whole seconds apart: the touch id
			 * contains the second, so equal seconds would be one touch */
			t = first_open + dg_rng_range(rng, 3, 900) * DG_MS_PER_SEC;
			ev[n].at = t;
			ev[n].kind = EV_CLICK;
			ev[n].page = (int) dg_rng_below(rng, N_ELEMS(click_pages));
			n++;
			if (dg_rng_permille(rng, 200))
			{
				ev[n].at = t + dg_rng_range(rng, 5, 3 * 3600) * DG_MS_PER_SEC;
				ev[n].kind = EV_CLICK;
				ev[n].page = (int) dg_rng_below(rng, N_ELEMS(click_pages));
				n++;
			}
		}
	}
	/* insertion sort by (time, kind) and drop what happens after the snapshot */
	for (int i = 1; i < n; i++)
	{
		Event x = ev[i];
		int j = i - 1;

		while (j >= 0 && (ev[j].at > x.at || (ev[j].at == x.at && ev[j].kind > x.kind)))
		{
			ev[j + 1] = ev[j];
			j--;
		}
		ev[j + 1] = x;
	}
	for (int i = 0; i < n; i++)
	{
		if (ev[i].at <= w->snapshot_end)
		{
			ev[kept++] = ev[i];
		}
	}
	return kept;
}

/*
 * write_activity writes mailchimp/activity_<id>.ndjson for campaign ci and
 * keeps its totals and the clicks of known contacts.
 */
static bool
write_activity(DgWorld *w, int ci, const Subscriber *subs, size_t n_subs, DgRng *rng)
{
	DgMailCampaign *m = &w->mails[ci];
	char rel[64];
	DgOut out;
	bool ok = true;

	(void) snprintf(rel, sizeof(rel), "mailchimp/activity_%s.ndjson", m->id);
	if (!dg_out_open(&out, w->p.out_dir, rel))
	{
		/* errors have already been logged */
		return false;
	}
	for (size_t i = 0; i < n_subs && subs[i].joined < m->sent; i++)
	{
		const Subscriber *s = &subs[i];
		char email[DG_EMAIL_SIZE];
		char email_id[33];
		char ip[24];
		char ts[DG_TIME_BUFSIZE];
		Event ev[6];
		int n = member_events(w, m, s, rng, ev);
		bool opened = false;
		bool clicked = false;

		if (s->contact >= 0)
		{
			(void) snprintf(email, sizeof(email), "%s", w->contacts[s->contact].email);
		}
		else
		{
			unknown_email(s->unknown, email, sizeof(email));
		}
		dg_email_id(email, email_id);
		member_ip(email, ip, sizeof(ip));
		m->emails_sent++;
		w->activity_rows++;

		dg_out_printf(&out, "{\"campaign_id\":\"%s\",\"list_id\":\"%s\",\"email_id\":\"%s\","
					  "\"email_address\":", m->id, w->list_id, email_id);
		dg_out_str(&out, email);
		dg_out_printf(&out, ",\"activity\":[");
		for (int k = 0; k < n; k++)
		{
			dg_format_mailchimp(ev[k].at, ts);
			if (k > 0)
			{
				dg_out_printf(&out, ",");
			}
			switch (ev[k].kind)
			{
				case EV_BOUNCE:
					dg_out_printf(&out, "{\"action\":\"bounce\",\"type\":\"hard\",\"timestamp\":\"%s\"}", ts);
					m->bounces++;
					w->bounce_events++;
					break;
				case EV_OPEN:
					dg_out_printf(&out, "{\"action\":\"open\",\"timestamp\":\"%s\",\"ip\":\"%s\"}", ts, ip);
					m->opens++;
					w->open_events++;
					opened = true;
					break;
				default:
					dg_out_printf(&out, "{\"action\":\"click\",\"timestamp\":\"%s\","
								  "\"url\":\"https://www.example-company.com/%s"
								  "?utm_source=newsletter&utm_medium=email&utm_campaign=%s\","
								  "\"ip\":\"%s\"}", ts, click_pages[ev[k].page], m->utm, ip);
					m->clicks++;
					w->click_events++;
					clicked = true;
					if (s->contact >= 0 && !push_click(w, s->contact, ci, ev[k].at))
					{
						ok = false;
					}
					break;
			}
		}
		dg_out_printf(&out, "]}\n");
		m->unique_opens += opened ? 1 : 0;
		m->subscriber_clicks += clicked ? 1 : 0;
	}
	if (!dg_out_close(&out))
	{
		ok = false;
	}
	return ok;
}

/*
 * dg_mail_generate plans the campaigns, writes every activity file and
 * leaves w->clicks sorted by (contact, time, campaign), indexed from each
 * contact's click_first/click_count.
 */
bool
dg_mail_generate(DgWorld *w)
{
	DgRng rng;
	Subscriber *subs = NULL;
	size_t n_subs = 0;
	bool ok = false;

	dg_rng_init(&rng, w->p.seed, DG_STREAM_MAIL);
	random_hex(&rng, w->list_id, 10);
	if (!plan_campaigns(w, &rng))
	{
		/* errors have already been logged */
		goto cleanup;
	}
	subs = build_subscribers(w, &rng, &n_subs);
	if (subs == NULL)
	{
		goto cleanup;
	}
	for (int i = 0; i < w->n_mails; i++)
	{
		if (!write_activity(w, i, subs, n_subs, &rng))
		{
			goto cleanup;
		}
	}
	if (w->n_clicks > 0)
	{
		qsort(w->clicks, w->n_clicks, sizeof(DgClick), click_cmp);
	}
	for (size_t k = 0; k < w->n_clicks; k++)
	{
		DgContact *c = &w->contacts[w->clicks[k].contact];

		if (c->click_count == 0)
		{
			c->click_first = k;
		}
		c->click_count++;
	}
	ok = true;

cleanup:
	free(subs);
	return ok;
}
