/*
 * test_transform_channels.c: the default channel grouping (DESIGN §4),
 * rules files with and without the defaults, and rules-file errors.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channels.h"
#include "log.h"
#include "strpool.h"
#include "support.h"

typedef struct Fixture
{
	char *dir;
	StrPool *pool;
	ChannelRules *rules;
} Fixture;

static int
setup(void **state)
{
	Fixture *f = calloc(1, sizeof(Fixture));

	assert_non_null(f);
	log_set_level(LOG_WARN);
	f->dir = ts_make_tmpdir("transform-channels");
	f->pool = strpool_new();
	assert_non_null(f->pool);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	Fixture *f = *state;

	channels_free(f->rules);
	strpool_free(f->pool);
	ts_rmdir_r(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

/* expect: the channel of (source, medium), given normalised. */
static void
expect(ChannelRules *r, const char *source, const char *medium, const char *channel)
{
	const char *got = channels_classify(r, source, medium);

	assert_non_null(got);
	if (strcmp(got, channel) != 0)
		fail_msg("(\"%s\", \"%s\") is %s, expected %s", source != NULL ? source : "(null)",
				 medium != NULL ? medium : "(null)", got, channel);
}

static char *
write_rules(Fixture *f, const char *text)
{
	size_t n = strlen(f->dir) + 32;
	char *path = malloc(n);

	assert_non_null(path);
	snprintf(path, n, "%s/channels.tsv", f->dir);
	ts_write_file(path, text);
	return path;
}

static void
test_transform_channels_default_rules(void **state)
{
	Fixture *f = *state;
	ClError err;
	ChannelRules *r;

	assert_true(channels_load(NULL, true, f->pool, &f->rules, &err));
	r = f->rules;

	/* 1 Email, whatever the source */
	expect(r, "mailchimp", "email", "Email");
	expect(r, "google", "e-mail", "Email");
	expect(r, "", "newsletter", "Email");
	/* 2 Affiliates */
	expect(r, "partner", "affiliate", "Affiliates");
	/* 3 Display */
	expect(r, "google", "display", "Display");
	expect(r, "adnet", "banner", "Display");
	expect(r, "adnet", "interstitial", "Display");
	/* 4 Paid Social: social media names, or a paid medium from a social source */
	expect(r, "anything", "paid_social", "Paid Social");
	expect(r, "meta", "paidsocial", "Paid Social");
	expect(r, "x", "social_paid", "Paid Social");
	expect(r, "facebook", "cpc", "Paid Social");
	expect(r, "linkedin", "paid", "Paid Social");
	expect(r, "tiktok", "cpm", "Paid Social");
	expect(r, "youtube", "ppc", "Paid Social");
	/* 5 Paid Search: a paid medium from any other source */
	expect(r, "google", "cpc", "Paid Search");
	expect(r, "bing", "ppc", "Paid Search");
	expect(r, "somesite", "sem", "Paid Search");
	expect(r, "yandex", "paidsearch", "Paid Search");
	expect(r, "baidu", "paid_search", "Paid Search");
	expect(r, "", "cpc", "Paid Search");
	/* 6 Organic Social: a social source with social, sm, referral or none */
	expect(r, "facebook", "social", "Organic Social");
	expect(r, "instagram", "sm", "Organic Social");
	expect(r, "linkedin", "referral", "Organic Social");
	expect(r, "reddit", "(none)", "Organic Social");
	expect(r, "vk", "none", "Organic Social");
	expect(r, "pinterest", "", "Organic Social");
	expect(r, "snapchat", NULL, "Organic Social");
	/* 7 Organic Search: medium organic, whatever the source */
	expect(r, "google", "organic", "Organic Search");
	expect(r, "ecosia", "organic", "Organic Search");
	expect(r, "duckduckgo", "organic", "Organic Search");
	/* 8 Referral */
	expect(r, "blog.example.com", "referral", "Referral");
	/* 9 Direct */
	expect(r, "(direct)", "(none)", "Direct");
	expect(r, "(direct)", "(not set)", "Direct");
	expect(r, "", "", "Direct");
	expect(r, NULL, NULL, "Direct");
	expect(r, "(direct)", "", "Direct");
	expect(r, "", "(none)", "Direct");
	/* 10 Other */
	expect(r, "google", "weird", "Other");
	expect(r, "facebook", "video", "Other");
	expect(r, "newsletter", "", "Other");
	expect(r, "(direct)", "organicish", "Other");
	assert_int_equal(channels_count(r), 9);
}

/* Equal names from the file and the defaults are one interned string. */
static void
test_transform_channels_rules_file_before_defaults(void **state)
{
	Fixture *f = *state;
	ClError err;
	char *path = write_rules(f,
							 "# channel\tsource\tmedium\n"
							 "\n"
							 "Partners\tpartner.*|aff\t\n"
							 "Brand Search\tGOOGLE\tCPC|PPC\r\n"
							 "   # indented comment\n"
							 "Paid Search\tduck.*\torganic\n"
							 "Empty Source\t^$\temail\n");

	assert_true(channels_load(path, true, f->pool, &f->rules, &err));
	assert_int_equal(channels_count(f->rules), 4 + 9);
	expect(f->rules, "partnerx", "anything", "Partners");
	expect(f->rules, "aff", "", "Partners");
	expect(f->rules, "xaff", "", "Other");                  /* whole value only */
	expect(f->rules, "google", "cpc", "Brand Search");      /* case-insensitive */
	expect(f->rules, "google", "ppc", "Brand Search");
	expect(f->rules, "mygoogle", "cpc", "Paid Search");     /* the defaults follow */
	expect(f->rules, "bing", "cpc", "Paid Search");
	expect(f->rules, "duckduckgo", "organic", "Paid Search");
	expect(f->rules, "", "email", "Empty Source");
	expect(f->rules, "mailchimp", "email", "Email");
	assert_ptr_equal(channels_classify(f->rules, "duckduckgo", "organic"),
					 channels_classify(f->rules, "bing", "cpc"));
	free(path);
}

static void
test_transform_channels_rules_file_without_defaults(void **state)
{
	Fixture *f = *state;
	ClError err;
	char *path = write_rules(f, "Search\tgoogle|bing\t.*\n");

	assert_true(channels_load(path, false, f->pool, &f->rules, &err));
	assert_int_equal(channels_count(f->rules), 1);
	expect(f->rules, "bing", "cpc", "Search");
	expect(f->rules, "facebook", "cpc", "Other");
	expect(f->rules, "", "", "Other");
	expect(f->rules, "mailchimp", "email", "Other");
	free(path);
}

/* check_error: loading text fails as a configuration error whose message
 * names the file and the line. */
static void
check_error(Fixture *f, const char *text, const char *where_suffix, const char *words)
{
	char *path = write_rules(f, text);
	char *logpath = malloc(strlen(f->dir) + 16);
	char *logged;
	char where[4096];
	FILE *fp;
	ClError err = CL_OK;
	ChannelRules *r = NULL;

	assert_non_null(logpath);
	snprintf(logpath, strlen(f->dir) + 16, "%s/log.txt", f->dir);
	fp = fopen(logpath, "w");
	assert_non_null(fp);
	log_set_fp(fp);
	assert_false(channels_load(path, true, f->pool, &r, &err));
	log_set_fp(stderr);
	assert_int_equal(fclose(fp), 0);
	assert_null(r);
	assert_int_equal(err, CL_ERR_CONFIG);
	logged = ts_read_file(logpath, NULL);
	snprintf(where, sizeof(where), "%s%s", path, where_suffix);
	if (strstr(logged, where) == NULL || strstr(logged, words) == NULL)
		fail_msg("expected \"%s\" and \"%s\" in: %s", where, words, logged);
	free(logged);
	free(logpath);
	free(path);
}

static void
test_transform_channels_bad_rules(void **state)
{
	Fixture *f = *state;
	ClError err;
	ChannelRules *r = NULL;

	check_error(f, "Good\tgoogle\tcpc\n# fine\nBad\t(unclosed\tcpc\n", ":3:",
				"bad source regex");
	check_error(f, "Bad\tgoogle\t[z-a]\n", ":1:", "bad medium regex");
	check_error(f, "\n\nTwo fields\tgoogle\n", ":3:", "expected 3 TAB-separated fields");
	check_error(f, "Four\ta\tb\tc\n", ":1:", "more than 3");
	check_error(f, " \tgoogle\tcpc\n", ":1:", "channel name is empty");

	assert_false(channels_load("/nonexistent/channels.tsv", true, f->pool, &r, &err));
	assert_int_equal(err, CL_ERR_CONFIG);
	assert_null(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_transform_channels_default_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transform_channels_rules_file_before_defaults,
										setup, teardown),
		cmocka_unit_test_setup_teardown(test_transform_channels_rules_file_without_defaults,
										setup, teardown),
		cmocka_unit_test_setup_teardown(test_transform_channels_bad_rules, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
