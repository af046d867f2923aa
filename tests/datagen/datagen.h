/*
 * datagen.h: cl-datagen, the seeded generator of a B2B company's vendor
 * data (HubSpot CRM, Google Ads, Mailchimp) and of the attribution ground
 * truth that the end-to-end test compares with the database.
 *
 * The generator deliberately shares no code with the pipeline: its truth
 * (truth.c) is an independent second implementation of the journey rules,
 * so a bug in the transform cannot hide behind the same bug here.
 *
 * All arithmetic is integer and every random choice comes from one seeded
 * PRNG, so the same arguments give byte-identical files on every platform.
 * docs/DEMO_DATA.md describes the data and how expected.json is computed.
 */
#ifndef CL_DATAGEN_H
#define CL_DATAGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Timestamps are milliseconds (HubSpot's precision), dates are days. */
typedef int64_t DgTime;		/* milliseconds since 1970-01-01T00:00:00Z */
typedef int32_t DgDate;		/* days since 1970-01-01 */

#define DG_MS_PER_SEC  INT64_C(1000)
#define DG_MS_PER_MIN  (INT64_C(60) * DG_MS_PER_SEC)
#define DG_MS_PER_HOUR (INT64_C(60) * DG_MS_PER_MIN)
#define DG_MS_PER_DAY  (INT64_C(24) * DG_MS_PER_HOUR)
#define DG_NO_TIME     INT64_MIN	/* an absent timestamp (JSON null) */

#define DG_LOOKBACK_DAYS  90	/* DESIGN §7 attribution.lookback_days default */
#define DG_MAX_CUSTOMERS  8		/* one per sales region, see ads.c */
#define DG_MAX_LEADS      1000000
#define DG_MAX_SPAN_DAYS  3660
#define DG_EMAIL_SIZE     96	/* longest generated address is well below */
#define DG_PATH_SIZE      4096

/* For functions whose failure must not be ignored (STYLE §6.5). */
#define DG_MUSTCHECK __attribute__((warn_unused_result))

/* ------------------------------------------------------------------ */
/* Options                                                             */
/* ------------------------------------------------------------------ */

typedef struct DgParams
{
	const char *out_dir;		/* borrowed from argv */
	uint64_t seed;
	int leads;					/* contacts created inside the window */
	DgDate from;
	DgDate to;
	int customers;				/* Google Ads accounts */
} DgParams;

/* ------------------------------------------------------------------ */
/* PRNG: xoshiro256** seeded through splitmix64 (rng.c)                */
/* ------------------------------------------------------------------ */

typedef struct DgRng
{
	uint64_t s[4];
} DgRng;

/* Independent streams per generation stage keep one stage's draws from
 * shifting every later stage when it changes. */
enum DgStream
{
	DG_STREAM_COMPANIES = 1,
	DG_STREAM_CONTACTS,
	DG_STREAM_DEALS,
	DG_STREAM_MAIL,
	DG_STREAM_EDGES,
	DG_STREAM_FINISH,
	DG_STREAM_ADS,
	DG_STREAM_IDS
};

void dg_rng_init(DgRng *rng, uint64_t seed, uint64_t stream);
uint64_t dg_rng_next(DgRng *rng);
uint64_t dg_rng_below(DgRng *rng, uint64_t n);
int64_t dg_rng_range(DgRng *rng, int64_t lo, int64_t hi);
bool dg_rng_permille(DgRng *rng, int permille);
size_t dg_rng_weighted(DgRng *rng, const int *weights, size_t n);
uint64_t dg_hash64(const char *s, uint64_t salt);

/* ------------------------------------------------------------------ */
/* Calendar (calendar.c): proleptic Gregorian, UTC only                */
/* ------------------------------------------------------------------ */

#define DG_DATE_BUFSIZE 16
#define DG_TIME_BUFSIZE 40

DgDate dg_date_from_ymd(int year, int month, int day);
void dg_date_to_ymd(DgDate d, int *year, int *month, int *day);
bool dg_date_parse(const char *s, DgDate *out);
int dg_weekday(DgDate d);		/* 0 = Monday .. 6 = Sunday */
DgTime dg_date_start(DgDate d);
DgDate dg_time_date(DgTime t);
char *dg_format_date(DgDate d, char *buf);
char *dg_format_hubspot(DgTime t, char *buf);	/* ...T05:06:07.123Z */
char *dg_format_mailchimp(DgTime t, char *buf);	/* ...T05:06:07+00:00 */

/* ------------------------------------------------------------------ */
/* Output files (out.c)                                                */
/* ------------------------------------------------------------------ */

/*
 * DgOut is one output file. Write errors are sticky (failed) and reported
 * once by dg_out_close, so emitters need not check every printf.
 */
typedef struct DgOut
{
	FILE *fp;					/* owned; closed by dg_out_close */
	char path[DG_PATH_SIZE];
	bool failed;
} DgOut;

DG_MUSTCHECK bool dg_mkdirs(const char *path);
DG_MUSTCHECK bool dg_out_open(DgOut *out, const char *dir, const char *rel);
void dg_out_printf(DgOut *out, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void dg_out_str(DgOut *out, const char *s);
void dg_out_json_string(FILE *fp, const char *s);
DG_MUSTCHECK bool dg_out_close(DgOut *out);

/* ------------------------------------------------------------------ */
/* The company                                                         */
/* ------------------------------------------------------------------ */

/* HubSpot's hs_analytics_source values that the generator uses. */
typedef enum DgSource
{
	DG_SRC_ORGANIC_SEARCH = 0,
	DG_SRC_PAID_SEARCH,
	DG_SRC_EMAIL_MARKETING,
	DG_SRC_SOCIAL_MEDIA,
	DG_SRC_PAID_SOCIAL,
	DG_SRC_REFERRALS,
	DG_SRC_DIRECT_TRAFFIC,
	DG_SRC_OFFLINE,
	DG_SRC_COUNT
} DgSource;

typedef enum DgProduct
{
	DG_PRODUCT_STARTER = 0,
	DG_PRODUCT_PRO,
	DG_PRODUCT_ENTERPRISE,
	DG_PRODUCT_COUNT
} DgProduct;

typedef struct DgCompany
{
	char name[64];
	char domain[48];
	uint8_t product;			/* DgProduct most of its people ask about */
} DgCompany;

typedef struct DgContact
{
	int64_t id;					/* HubSpot contact id */
	DgTime created;
	DgTime modified;			/* newest version */
	DgTime old_modified;		/* older version, when has_old */
	int company;
	int first_name;				/* index into the name tables of world.c */
	int last_name;
	char email[DG_EMAIL_SIZE];	/* normalised; "" when the contact has none */
	uint8_t email_style;		/* 0: HubSpot shows email as is; else messy */
	uint8_t source;				/* DgSource */
	uint8_t product;			/* DgProduct */
	uint8_t owner;
	const char *data1;			/* static string or an ad campaign name */
	const char *data2;			/* NULL: JSON null */
	int ad_campaign;			/* PAID_SEARCH: index into ads, else -1 */
	const char *lifecycle;		/* static */
	const char *old_lifecycle;	/* static, when has_old */
	bool legacy;				/* created before the window */
	bool subscribed;			/* on the Mailchimp list */
	bool in_deal;
	bool has_old;				/* an older version is in the file too */
	bool old_last;				/* the older version comes later in the file */
	bool edge;					/* bent by an edge case; no older version */
	size_t click_first;			/* range in DgWorld.clicks */
	size_t click_count;
} DgContact;

typedef struct DgDealVersion
{
	const char *stage;			/* static dealstage id */
	int64_t amount;				/* USD cents */
	DgTime closed;				/* DG_NO_TIME for open deals */
	DgTime modified;
	bool archived;
} DgDealVersion;

#define DG_DEAL_MAX_CONTACTS 3

typedef struct DgDeal
{
	int64_t id;
	DgTime created;
	int contacts[DG_DEAL_MAX_CONTACTS];	/* indexes into contacts */
	int n_contacts;
	int company;
	uint8_t product;
	uint8_t owner;
	uint8_t name_style;
	uint8_t amount_style;		/* 1: whole amounts printed with ".00" */
	DgDealVersion cur;			/* newest version */
	DgDealVersion old;			/* when has_old */
	bool has_old;
	bool old_last;
	bool edge;
} DgDeal;

typedef enum DgAdKind
{
	DG_AD_BRAND = 0,
	DG_AD_COMPETITOR,
	DG_AD_GENERIC,
	DG_AD_CATEGORY,
	DG_AD_REMARKETING,
	DG_AD_KIND_COUNT
} DgAdKind;

typedef struct DgAdCampaign
{
	int customer;				/* index into customer_ids */
	int64_t id;
	char name[48];				/* lower-case snake, unique over customers */
	uint8_t kind;				/* DgAdKind */
	int weight;					/* share of paid-search leads */
	int leads;
	int64_t revenue;			/* won in-window revenue of its leads, cents */
	int roas_permille;
	int64_t spend_target;		/* micros */
} DgAdCampaign;

typedef struct DgAdRow
{
	int campaign;
	DgDate date;
	int64_t clicks;
	int64_t impressions;
	int64_t cost_micros;
} DgAdRow;

typedef struct DgMailCampaign
{
	char id[16];				/* 10 hex digits */
	int64_t web_id;
	DgTime created;
	DgTime sent;
	char utm[48];				/* tracking.google_analytics = utm_campaign */
	uint8_t kind;				/* 0 newsletter, 1 product update */
	uint8_t subject;
	int64_t emails_sent;
	int64_t bounces;
	int64_t opens;
	int64_t unique_opens;
	int64_t clicks;
	int64_t subscriber_clicks;
} DgMailCampaign;

/* An email click by a known contact: the touches of journeys. */
typedef struct DgClick
{
	int contact;
	int campaign;				/* index into mails */
	DgTime at;					/* whole seconds, as Mailchimp reports */
} DgClick;

typedef struct DgWorld
{
	DgParams p;
	DgTime window_start;		/* p.from 00:00:00.000 */
	DgTime snapshot_end;		/* p.to 23:59:59.999: nothing happens later */

	DgCompany *companies;		/* owned */
	int n_companies;
	DgContact *contacts;		/* owned; ids ascending (creation order, edge
								 * cases aside) */
	int n_contacts;
	int n_legacy;
	DgDeal *deals;				/* owned; ids ascending (creation order, edge
								 * cases aside) */
	int n_deals;

	int64_t customer_ids[DG_MAX_CUSTOMERS];
	DgAdCampaign *ads;			/* owned; never reallocated (names are borrowed) */
	int n_ads;
	DgAdRow *ad_rows;			/* owned */
	size_t n_ad_rows;

	char list_id[16];
	DgMailCampaign *mails;		/* owned */
	int n_mails;
	int n_unknown;				/* list members that are not CRM contacts */
	DgClick *clicks;			/* owned; sorted by (contact, at, campaign) */
	size_t n_clicks;
	size_t cap_clicks;

	/* counters for README.txt and the summary line */
	int64_t activity_rows;
	int64_t open_events;
	int64_t click_events;
	int64_t bounce_events;
	int edge_close_at_click;
	int edge_ties;
	int edge_lookback;
} DgWorld;

/* world.c */
extern const char *const dg_source_names[DG_SRC_COUNT];
extern const char *const dg_product_names[DG_PRODUCT_COUNT];
extern const char *const dg_owner_ids[];
const char *dg_first_name(int i);
const char *dg_last_name(int i);
DG_MUSTCHECK bool dg_world_build(DgWorld *w, const DgParams *p);
void dg_world_edge_cases(DgWorld *w);
DG_MUSTCHECK bool dg_world_finish(DgWorld *w);
void dg_world_free(DgWorld *w);
bool dg_deal_is_won(const DgDealVersion *v);
bool dg_deal_is_closed(const DgDealVersion *v);
void dg_contact_email_display(const DgContact *c, char *buf, size_t size);

/* mail.c: writes mailchimp/activity_<id>.ndjson while it generates */
DG_MUSTCHECK bool dg_mail_generate(DgWorld *w);
void dg_email_id(const char *email, char *buf);	/* buf: 33 bytes */
const char *dg_mail_subject(const DgMailCampaign *m);

/* ads.c */
DG_MUSTCHECK bool dg_ads_catalogue(DgWorld *w);
DG_MUSTCHECK bool dg_ads_generate(DgWorld *w);

/* truth.c */
#define DG_N_CHANNELS 11

typedef struct DgChannelCredit
{
	int64_t revenue;			/* cents */
	int64_t deals;
} DgChannelCredit;

typedef struct DgTruth
{
	int64_t leads;
	int64_t won_deals;
	int64_t revenue;
	int64_t spend;
	int64_t clicks;
	int64_t impressions;
	int64_t journey_touches;
	int64_t deals_without_touches;
	DgChannelCredit first_touch[DG_N_CHANNELS];
	DgChannelCredit last_touch[DG_N_CHANNELS];
} DgTruth;

extern const char *const dg_channel_names[DG_N_CHANNELS];
int dg_channel_of(const char *source, const char *medium);
void dg_contact_source_medium(const DgContact *c, const char **source,
							  const char **medium);
DG_MUSTCHECK bool dg_truth_compute(const DgWorld *w, DgTruth *t);
bool dg_won_in_window(const DgWorld *w, const DgDeal *d);

/* emit.c */
DG_MUSTCHECK bool dg_emit_all(const DgWorld *w, const DgTruth *t);

/* run.c: the whole generation; returns the process exit code */
#define DG_EXIT_OK        0
#define DG_EXIT_USAGE     64
#define DG_EXIT_SOFTWARE  70
#define DG_EXIT_CANTCREAT 73

DG_MUSTCHECK int dg_run(const DgParams *p);

#endif
