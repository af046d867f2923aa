/*
 * test_transform_determinism.c: the same inputs give byte-identical COPY
 * files, whatever the order of staging files and rows.
 *
 * A seeded generator makes leads, deals, touches (several versions of many
 * of them, some deleted), spend with re-pulled days and email data. The
 * rows are staged twice: once in generation order in one run per entity,
 * once shuffled and scattered over several runs and extraction dates.
 * Versions carry distinct updated_at values, so which run holds a row does
 * not change which version is newest; spend re-pulls stay in the newer
 * run, as an extractor writes them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"
#include "test_transform_support.h"

#define ROW_MAX 512

typedef struct GenRow
{
	char json[ROW_MAX];
	const char *family;
	const char *vendor;
	const char *entity;
	bool mutable_entity;
	int spend_run;          /* spend: 0 first pull, 1 re-pull */
	int run;                /* assigned per staging variant */
	int partition;          /* mutable entities: extraction date index */
} GenRow;

typedef struct Gen
{
	GenRow *rows;
	size_t n;
	size_t cap;
	uint64_t seed;
} Gen;

static uint64_t
rnd(Gen *g)
{
	g->seed ^= g->seed >> 12;
	g->seed ^= g->seed << 25;
	g->seed ^= g->seed >> 27;
	return g->seed * UINT64_C(2685821657736338717);
}

static int
pick(Gen *g, int n)
{
	return (int) (rnd(g) % (uint64_t) n);
}

static GenRow *
add_row(Gen *g, const char *family, const char *vendor, const char *entity, bool mutable_entity)
{
	GenRow *r;

	if (g->n == g->cap)
	{
		g->cap = g->cap == 0 ? 256 : g->cap * 2;
		g->rows = realloc(g->rows, g->cap * sizeof(GenRow));
		assert_non_null(g->rows);
	}
	r = &g->rows[g->n++];
	memset(r, 0, sizeof(*r));
	r->family = family;
	r->vendor = vendor;
	r->entity = entity;
	r->mutable_entity = mutable_entity;
	return r;
}

/* A timestamp between 2026-01-01 and 2026-04-02, on a whole second. */
static void
random_time(Gen *g, char *buf, size_t size, int first_day, int days)
{
	ClTime t = date_start_utc(tt_day("2026-01-01") + first_day + pick(g, days))
		+ (ClTime) pick(g, 86400) * CL_USEC_PER_SEC;

	(void) size;
	time_format_rfc3339(t, buf);
}

static const char *const crms[] = { "hubspot", "salesforce" };
static const char *const sources[] = {
	"google", "Bing", " facebook ", "linkedin", "newsletter", "(direct)", "", "partner",
	"blog.example"
};
static const char *const media[] = {
	"cpc", "organic", "social", "email", "referral", "(none)", "affiliate", "display", "CPM"
};
static const char *const currencies[] = { "USD", "EUR", "JPY", "KWD" };

static void
generate(Gen *g)
{
	char at[CL_TIME_BUFSIZE];
	char up[CL_TIME_BUFSIZE];

	for (int i = 0; i < 60; i++)
	{
		int versions = 1 + pick(g, 3);
		const char *crm = crms[i % 2];
		char contact[32] = "";
		char created[CL_TIME_BUFSIZE];

		if (i % 5 != 0)
			snprintf(contact, sizeof(contact), ",\"crm_contact_id\":\"C%d\"", pick(g, 40));
		random_time(g, created, sizeof(created), 31, 59);
		for (int v = 0; v < versions; v++)
		{
			GenRow *r = add_row(g, "crm", crm, "lead", true);
			bool deleted = v == versions - 1 && pick(g, 10) == 0;

			time_format_rfc3339(tt_time("2026-04-01T00:00:00Z") + (ClTime) v * 3600 * CL_USEC_PER_SEC,
								up);
			snprintf(r->json, sizeof(r->json),
					 "{\"lead_id\":\"L%d\",\"source_system\":\"%s\",\"email\":\"%sE%d@X.io\"%s,"
					 "\"created_at\":\"%s\",\"lifecycle_stage\":\"v%d\"%s%s%s%s}",
					 i, crm, v % 2 == 0 ? " " : "", i % 50, contact, created, v,
					 v > 0 ? ",\"updated_at\":\"" : "", v > 0 ? up : "", v > 0 ? "\"" : "",
					 deleted ? ",\"is_deleted\":true" : "");
		}
	}
	for (int i = 0; i < 40; i++)
	{
		int versions = 1 + pick(g, 2);
		const char *crm = crms[i % 2];
		const char *cur = currencies[pick(g, 4)];
		char closed[CL_TIME_BUFSIZE];
		char contacts[96];

		snprintf(contacts, sizeof(contacts), "[\"C%d\",\"C%d\"]", pick(g, 40), pick(g, 40));
		random_time(g, closed, sizeof(closed), 50, 42);
		for (int v = 0; v < versions; v++)
		{
			GenRow *r = add_row(g, "crm", crm, "deal", true);
			bool won = pick(g, 10) < 7;
			bool deleted = v == versions - 1 && pick(g, 12) == 0;

			time_format_rfc3339(tt_time("2026-04-01T00:00:00Z") + (ClTime) v * 60 * CL_USEC_PER_SEC,
								up);
			snprintf(r->json, sizeof(r->json),
					 "{\"deal_id\":\"D%d\",\"source_system\":\"%s\",\"amount_minor\":%d,"
					 "\"currency\":\"%s\",\"is_closed\":%s,\"is_won\":%s,\"closed_at\":\"%s\","
					 "\"updated_at\":\"%s\",\"contact_ids\":%s%s}",
					 i, crm, 1 + pick(g, 2000000), cur, won ? "true" : "false",
					 won ? "true" : "false", closed, up, contacts,
					 deleted ? ",\"is_deleted\":true" : "");
		}
	}
	for (int i = 0; i < 700; i++)
	{
		static const char *const systems[] = { "hubspot", "google_ads", "mailchimp" };
		static const char *const families[] = { "crm", "ads", "email" };
		int s = pick(g, 3);
		int versions = pick(g, 5) == 0 ? 2 : 1;
		char person[96];

		switch (pick(g, 3))
		{
			case 0:
				snprintf(person, sizeof(person), "{\"crm_id\":\"C%d\"}", pick(g, 45));
				break;
			case 1:
				snprintf(person, sizeof(person), "{\"email\":\"e%d@x.IO \"}", pick(g, 55));
				break;
			default:
				snprintf(person, sizeof(person), "{\"crm_id\":\"X%d\",\"email\":\"E%d@x.io\"}",
						 pick(g, 5), pick(g, 55));
				break;
		}
		random_time(g, at, sizeof(at), 0, 92);
		for (int v = 0; v < versions; v++)
		{
			GenRow *r = add_row(g, families[s], systems[s], "touch", false);

			time_format_rfc3339(tt_time("2026-04-02T00:00:00Z")
								+ (ClTime) (i * 2 + v) * CL_USEC_PER_SEC, up);
			/*
			 * ids repeat across systems and (i % 500) within one: (source_system,
			 * id) is the key, and the later i is the newer version
			 */
			snprintf(r->json, sizeof(r->json),
					 "{\"touch_id\":\"t%d\",\"source_system\":\"%s\",\"person\":%s,\"at\":\"%s\","
					 "\"source\":\"%s\",\"medium\":\"%s\",\"campaign\":\"c%d\","
					 "\"updated_at\":\"%s\"}",
					 i % 500, systems[s], person, at, sources[pick(g, 9)], media[pick(g, 9)],
					 pick(g, 4), up);
		}
	}
	for (int i = 0; i < 90; i++)
	{
		int repull = i % 4 == 0 ? 2 : 1;
		char date[CL_DATE_BUFSIZE];

		date_format(tt_day("2026-02-27") + pick(g, 36), date);
		for (int v = 0; v < repull; v++)
		{
			GenRow *r = add_row(g, "ads", "google_ads", "spend", false);

			r->spend_run = v;
			snprintf(r->json, sizeof(r->json),
					 "{\"date\":\"%s\",\"platform\":\"google_ads\",\"account_id\":\"1\","
					 "\"campaign_id\":\"k%d\",\"ad_id\":\"a%d\",\"source\":\"google\","
					 "\"medium\":\"cpc\",\"campaign\":\"c%d\",\"impressions\":%d,\"clicks\":%d,"
					 "\"cost_minor\":%d,\"currency\":\"%s\"}",
					 date, i % 4, i, i % 4, pick(g, 10000), pick(g, 100), pick(g, 100000),
					 i % 3 == 0 ? "EUR" : "USD");
		}
	}
	for (int i = 0; i < 30; i++)
	{
		GenRow *r = add_row(g, "email", "mailchimp", "email_event", false);

		random_time(g, at, sizeof(at), 55, 40);
		snprintf(r->json, sizeof(r->json),
				 "{\"campaign_id\":\"m%d\",\"email\":\"e%d@x.io\",\"type\":\"open\",\"at\":\"%s\"}",
				 pick(g, 3), pick(g, 20), at);
	}
}

static const char *const partitions[] = { "2026-04-01", "2026-03-15", "2026-04-02" };

/*
 * stage writes the rows grouped by (family, vendor, entity, run,
 * partition), in their current order.
 */
static void
stage(TxEnv *e, Gen *g, const char *const *runs, int n_runs)
{
	const char **batch = malloc((g->n + 1) * sizeof(const char *));
	bool *done = calloc(g->n, sizeof(bool));

	assert_non_null(batch);
	assert_non_null(done);
	for (size_t i = 0; i < g->n; i++)
	{
		const GenRow *first = &g->rows[i];
		size_t k = 0;

		if (done[i])
			continue;
		for (size_t j = i; j < g->n; j++)
		{
			const GenRow *r = &g->rows[j];

			if (!done[j] && strcmp(r->vendor, first->vendor) == 0
				&& strcmp(r->entity, first->entity) == 0 && r->run == first->run
				&& r->partition == first->partition)
			{
				batch[k++] = r->json;
				done[j] = true;
			}
		}
		batch[k] = NULL;
		assert_true(first->run < n_runs);
		tt_stage(e, first->family, first->vendor, first->entity, runs[first->run],
				 first->mutable_entity ? partitions[first->partition] : NULL, batch);
	}
	free(batch);
	free(done);
}

static void
run_variant(TxEnv *e, Gen *g, const char *const *runs, int n_runs)
{
	TxConfig c = { 0 };
	char *path = tt_path(e->dir, "rates.csv");

	ts_write_file(path, "date,currency,rate\n2026-01-01,EUR,1.0835\n2026-03-15,EUR,1.1\n"
				  "2026-01-01,JPY,0.0066\n2026-01-01,KWD,3.2512\n");
	free(path);
	c.timezone = "Europe/Berlin";
	c.rates_file = "rates.csv";
	c.models = "linear,first_touch,last_touch,last_non_direct,position_based,u_shaped,w_shaped,"
		"full_path,time_decay,markov,shapley,fractribution";
	stage(e, g, runs, n_runs);
	tt_configure(e, &c);
	assert_true(tt_run(e, "2026-03-01", "2026-03-31"));
}

static void
test_transform_determinism_shuffled_inputs(void **state)
{
	static const char *const runs_a[] = { "20260402T000000Z-aaaaaa", "20260403T000000Z-aaaaaa" };
	static const char *const runs_b[] = {
		"20260402T000000Z-000001", "20260403T000000Z-000002", "20260301T120000Z-000003",
		"20260501T000000Z-000004"
	};
	static const char *const tables[] = {
		"attribution_credit", "attribution_daily", "leads", "deals", "touches", "spend_daily",
		"attribution_model_stats"
	};
	TxEnv *a = tt_env_new("transform-det-a");
	TxEnv *b = tt_env_new("transform-det-b");
	Gen g = { NULL, 0, 0, UINT64_C(0x0dd5eed) };

	(void) state;
	generate(&g);

	/* A: generation order; one run (the re-pulls in the next one) */
	for (size_t i = 0; i < g.n; i++)
	{
		g.rows[i].run = g.rows[i].spend_run;
		g.rows[i].partition = 0;
	}
	run_variant(a, &g, runs_a, 2);

	/* B: shuffled, scattered over runs and extraction dates */
	for (size_t i = g.n - 1; i > 0; i--)
	{
		size_t j = (size_t) (rnd(&g) % (i + 1));
		GenRow tmp = g.rows[i];

		g.rows[i] = g.rows[j];
		g.rows[j] = tmp;
	}
	for (size_t i = 0; i < g.n; i++)
	{
		GenRow *r = &g.rows[i];

		r->run = strcmp(r->entity, "spend") == 0 ? 1 + r->spend_run * 2 : pick(&g, 3);
		/* a fact's partition is its own date: one writer per run holds them all */
		r->partition = r->mutable_entity ? pick(&g, 3) : 0;
	}
	run_variant(b, &g, runs_b, 4);

	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
	{
		char *x = tt_read_table(a, tables[t]);
		char *y = tt_read_table(b, tables[t]);

		if (strcmp(x, y) != 0)
			fail_msg("%s differs between the two stagings", tables[t]);
		assert_true(tt_count_lines(x, "") > 0);
		free(x);
		free(y);
	}
	/* the data is rich enough to mean something */
	assert_true(a->summary.conversions >= 8);
	assert_true(a->summary.journey_touches >= 20);
	assert_true(a->summary.table_rows[OUT_ATTRIBUTION_CREDIT] >= 40);
	assert_true(a->summary.spend_rows >= 60);
	assert_int_equal(a->summary.email_events, b->summary.email_events);
	assert_true(a->summary.email_events > 0);

	free(g.rows);
	tt_env_free(a);
	tt_env_free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transform_determinism_shuffled_inputs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
