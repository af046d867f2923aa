/*
 * channels.c: the default channel grouping of DESIGN §4 and rules files.
 */
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channels.h"
#include "indexmap.h"
#include "log.h"
#include "txutil.h"

typedef enum RuleKind
{
	RULE_REGEX,
	RULE_EMAIL,
	RULE_AFFILIATES,
	RULE_DISPLAY,
	RULE_PAID_SOCIAL,
	RULE_PAID_SEARCH,
	RULE_ORGANIC_SOCIAL,
	RULE_ORGANIC_SEARCH,
	RULE_REFERRAL,
	RULE_DIRECT
} RuleKind;

typedef struct Rule
{
	RuleKind kind;
	const char *channel;    /* interned */
	regex_t *source;        /* owned; NULL: an empty regex, matches anything */
	regex_t *medium;        /* owned, like source */
} Rule;

/* A memoised classification: (source, medium) pointers -> channel. */
typedef struct Memo
{
	const char *source;
	const char *medium;
	const char *channel;
} Memo;

struct ChannelRules
{
	Rule *rules;            /* owned */
	size_t n;
	size_t cap;
	StrPool *pool;          /* borrowed */
	const char *other;      /* interned "Other" */
	Memo *memo;             /* owned */
	size_t n_memo;
	size_t cap_memo;
	IndexMap memo_index;
};

static const char *const social_sources[] = {
	"facebook", "instagram", "meta", "linkedin", "twitter", "x", "tiktok", "vk",
	"pinterest", "reddit", "snapchat", "youtube", NULL
};
static const char *const paid_media[] = {
	"cpc", "ppc", "cpm", "paid", "paidsearch", "paid_search", "sem", NULL
};
static const char *const email_media[] = { "email", "e-mail", "newsletter", NULL };
static const char *const display_media[] = { "display", "banner", "interstitial", NULL };
static const char *const paid_social_media[] = { "paid_social", "paidsocial", "social_paid", NULL };
/*
 * DESIGN says "medium ... none" for organic social: a social link without
 * a medium arrives as "none", "(none)" or no medium at all, so all three
 * count.
 */
static const char *const organic_social_media[] = {
	"social", "sm", "referral", "none", "(none)", "", NULL
};
static const char *const direct_sources[] = { "(direct)", "", NULL };
static const char *const direct_media[] = { "(none)", "(not set)", "", NULL };

static const struct
{
	RuleKind kind;
	const char *channel;
} default_rules[] = {
	{ RULE_EMAIL, "Email" },
	{ RULE_AFFILIATES, "Affiliates" },
	{ RULE_DISPLAY, "Display" },
	{ RULE_PAID_SOCIAL, "Paid Social" },
	{ RULE_PAID_SEARCH, "Paid Search" },
	{ RULE_ORGANIC_SOCIAL, "Organic Social" },
	{ RULE_ORGANIC_SEARCH, "Organic Search" },
	{ RULE_REFERRAL, "Referral" },
	{ RULE_DIRECT, "Direct" },
};

static bool
in_list(const char *v, const char *const *list)
{
	for (; *list != NULL; list++)
	{
		if (strcmp(v, *list) == 0)
			return true;
	}
	return false;
}

/*
 * default_match: the default rules on normalised values ("Other" is what
 * remains). DESIGN also lists search sources, but no rule as written uses
 * them: Paid Search takes a paid medium from any non-social source and
 * Organic Search any "organic" medium.
 */
static bool
default_match(RuleKind kind, const char *source, const char *medium)
{
	switch (kind)
	{
		case RULE_EMAIL:
			return in_list(medium, email_media);
		case RULE_AFFILIATES:
			return strcmp(medium, "affiliate") == 0;
		case RULE_DISPLAY:
			return in_list(medium, display_media);
		case RULE_PAID_SOCIAL:
			return in_list(medium, paid_social_media)
				|| (in_list(medium, paid_media) && in_list(source, social_sources));
		case RULE_PAID_SEARCH:
			return in_list(medium, paid_media);
		case RULE_ORGANIC_SOCIAL:
			return in_list(source, social_sources) && in_list(medium, organic_social_media);
		case RULE_ORGANIC_SEARCH:
			return strcmp(medium, "organic") == 0;
		case RULE_REFERRAL:
			return strcmp(medium, "referral") == 0;
		case RULE_DIRECT:
			return in_list(source, direct_sources) && in_list(medium, direct_media);
		case RULE_REGEX:
			break;
	}
	return false;
}

static bool
add_rule(ChannelRules *r, const Rule *rule)
{
	Rule *grown = tx_grow(r->rules, &r->cap, r->n + 1, sizeof(Rule));

	if (grown == NULL)
		return false;
	r->rules = grown;
	r->rules[r->n++] = *rule;
	return true;
}

/*
 * compile_whole compiles pattern anchored to the whole value. The pattern
 * is wrapped in a group so that alternations ("a|b") stay inside the
 * anchors. Returns an ALLOCATED regex (free with free_regex()), or NULL
 * with msg set to regerror's text. The regex_t is allocated once and never
 * moved, as POSIX does not promise that a compiled regex may be copied.
 */
static regex_t *
compile_whole(const char *pattern, char *msg, size_t msgsize)
{
	size_t n = strlen(pattern) + 5;
	char *anchored = malloc(n);
	regex_t *re = malloc(sizeof(regex_t));
	int rc;

	if (anchored == NULL || re == NULL)
	{
		free(anchored);
		free(re);
		(void) snprintf(msg, msgsize, "out of memory");
		return NULL;
	}
	(void) snprintf(anchored, n, "^(%s)$", pattern);
	rc = regcomp(re, anchored, REG_EXTENDED | REG_ICASE | REG_NOSUB);
	free(anchored);
	if (rc != 0)
	{
		(void) regerror(rc, re, msg, msgsize);
		free(re);
		return NULL;
	}
	return re;
}

static void
free_regex(regex_t *re)
{
	if (re == NULL)
		return;
	regfree(re);
	free(re);
}

static void
free_rule(Rule *rule)
{
	free_regex(rule->source);
	free_regex(rule->medium);
	rule->source = NULL;
	rule->medium = NULL;
}

/*
 * parse_line turns one line of a rules file into a rule. Returns false
 * with msg set when the line is malformed.
 */
static bool
parse_line(ChannelRules *r, char *line, Rule *rule, char *msg, size_t msgsize)
{
	char *fields[3];
	int nf = 0;
	char *p = line;
	size_t start;
	size_t len;

	for (;;)
	{
		char *tab = strchr(p, '\t');

		if (nf == 3)
		{
			(void) snprintf(msg, msgsize, "more than 3 TAB-separated fields");
			return false;
		}
		fields[nf++] = p;
		if (tab == NULL)
			break;
		*tab = '\0';
		p = tab + 1;
	}
	if (nf != 3)
	{
		(void) snprintf(msg, msgsize, "expected 3 TAB-separated fields (channel, source regex, "
						"medium regex), found %d", nf);
		return false;
	}
	tx_trim(fields[0], strlen(fields[0]), &start, &len);
	if (len == 0)
	{
		(void) snprintf(msg, msgsize, "the channel name is empty");
		return false;
	}
	memset(rule, 0, sizeof(*rule));
	rule->kind = RULE_REGEX;
	rule->channel = strpool_intern(r->pool, fields[0] + start, len);
	if (rule->channel == NULL)
	{
		(void) snprintf(msg, msgsize, "out of memory");
		return false;
	}
	for (int i = 1; i < 3; i++)
	{
		char *pat = fields[i];
		regex_t **re = i == 1 ? &rule->source : &rule->medium;
		char err[256];

		tx_trim(pat, strlen(pat), &start, &len);
		pat[start + len] = '\0';
		pat += start;
		if (len == 0)
			continue;
		*re = compile_whole(pat, err, sizeof(err));
		if (*re == NULL)
		{
			(void) snprintf(msg, msgsize, "bad %s regex \"%s\": %s",
							i == 1 ? "source" : "medium", pat, err);
			free_rule(rule);
			return false;
		}
	}
	return true;
}

/*
 * load_file reads the rules file line by line; the first bad line stops
 * the load with file and line in the message.
 */
static bool
load_file(ChannelRules *r, const char *path, ClError *err)
{
	FILE *fp = fopen(path, "r");
	char *line = NULL;
	size_t linecap = 0;
	ssize_t n;
	long lineno = 0;
	bool ok = false;

	if (fp == NULL)
	{
		log_error("cannot open [channels] rules_file %s: %s", path, strerror(errno));
		*err = CL_ERR_CONFIG;
		return false;
	}
	while ((n = getline(&line, &linecap, fp)) >= 0)
	{
		char msg[512];
		Rule rule;
		size_t start;
		size_t len;

		lineno++;
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		tx_trim(line, (size_t) n, &start, &len);
		if (len == 0 || line[start] == '#')
			continue;
		if (!parse_line(r, line, &rule, msg, sizeof(msg)))
		{
			log_error("%s:%ld: %s; fix the line in the [channels] rules_file", path, lineno, msg);
			*err = CL_ERR_CONFIG;
			goto cleanup;
		}
		if (!add_rule(r, &rule))
		{
			free_rule(&rule);
			*err = CL_ERR_INTERNAL;
			goto cleanup;
		}
	}
	if (ferror(fp))
	{
		log_error("cannot read [channels] rules_file %s: %s", path, strerror(errno));
		*err = CL_ERR_CONFIG;
		goto cleanup;
	}
	ok = true;

cleanup:
	free(line);
	(void) fclose(fp);
	return ok;
}

/*
 * channels_load interns channel names in the run's pool, so that a name
 * given by the file and by a default rule is one pointer and aggregates as
 * one channel.
 */
bool
channels_load(const char *rules_file, bool defaults, StrPool *pool,
			  ChannelRules **out, ClError *err)
{
	ChannelRules *r = calloc(1, sizeof(ChannelRules));

	*out = NULL;
	*err = CL_OK;
	if (r == NULL)
	{
		log_error("out of memory loading channel rules");
		*err = CL_ERR_INTERNAL;
		return false;
	}
	r->pool = pool;
	r->other = strpool_intern_cstr(pool, CHANNEL_OTHER);
	if (r->other == NULL)
		goto oom;
	if (rules_file != NULL && !load_file(r, rules_file, err))
	{
		channels_free(r);
		return false;   /* errors have already been logged */
	}
	if (defaults)
	{
		for (size_t i = 0; i < sizeof(default_rules) / sizeof(default_rules[0]); i++)
		{
			Rule rule = { 0 };

			rule.kind = default_rules[i].kind;
			rule.channel = strpool_intern_cstr(pool, default_rules[i].channel);
			if (rule.channel == NULL || !add_rule(r, &rule))
				goto oom;
		}
	}
	*out = r;
	return true;

oom:
	log_error("out of memory loading channel rules");
	channels_free(r);
	*err = CL_ERR_INTERNAL;
	return false;
}

void
channels_free(ChannelRules *rules)
{
	if (rules == NULL)
		return;
	for (size_t i = 0; i < rules->n; i++)
		free_rule(&rules->rules[i]);
	free(rules->rules);
	free(rules->memo);
	indexmap_free(&rules->memo_index);
	free(rules);
}

int
channels_count(const ChannelRules *rules)
{
	return (int) rules->n;
}

static bool
memo_eq(const void *ctx, uint32_t index, const void *key)
{
	const Memo *a = &((const ChannelRules *) ctx)->memo[index];
	const Memo *b = key;

	return a->source == b->source && a->medium == b->medium;
}

/* match_rules runs the rules in order over normalised values. */
static const char *
match_rules(const ChannelRules *r, const char *source, const char *medium)
{
	for (size_t i = 0; i < r->n; i++)
	{
		const Rule *rule = &r->rules[i];

		if (rule->kind != RULE_REGEX)
		{
			if (default_match(rule->kind, source, medium))
				return rule->channel;
			continue;
		}
		if (rule->source != NULL && regexec(rule->source, source, 0, NULL, 0) != 0)
			continue;
		if (rule->medium != NULL && regexec(rule->medium, medium, 0, NULL, 0) != 0)
			continue;
		return rule->channel;
	}
	return r->other;
}

/*
 * channels_classify memoises by pointer pair: a run has millions of touches
 * but a few thousand distinct (source, medium) pairs, and regexec is the
 * expensive part.
 */
const char *
channels_classify(ChannelRules *rules, const char *source, const char *medium)
{
	Memo key = { source, medium, NULL };
	uint64_t h = tx_hash_u64(tx_hash_u64(TX_HASH_SEED, (uint64_t) (uintptr_t) source),
							 (uint64_t) (uintptr_t) medium);
	uint32_t index;
	Memo *grown;

	if (indexmap_find(&rules->memo_index, h, memo_eq, rules, &key, &index))
		return rules->memo[index].channel;
	key.channel = match_rules(rules, source != NULL ? source : "", medium != NULL ? medium : "");
	grown = tx_grow(rules->memo, &rules->cap_memo, rules->n_memo + 1, sizeof(Memo));
	if (grown == NULL)
		return NULL;
	rules->memo = grown;
	if (!indexmap_insert(&rules->memo_index, h, (uint32_t) rules->n_memo))
		return NULL;
	rules->memo[rules->n_memo++] = key;
	return key.channel;
}

/*
 * channels_classify_dataset classifies once per row up front: journeys,
 * credits and spend all read the stored channel.
 */
bool
channels_classify_dataset(ChannelRules *rules, Dataset *ds)
{
	for (size_t i = 0; i < ds->n_touches; i++)
	{
		Touch *t = &ds->touches[i];

		t->channel = channels_classify(rules, t->source, t->medium);
		if (t->channel == NULL)
			return false;
	}
	for (size_t i = 0; i < ds->n_spend; i++)
	{
		Spend *s = &ds->spend[i];

		s->channel = channels_classify(rules, s->source, s->medium);
		if (s->channel == NULL)
			return false;
	}
	return true;
}
