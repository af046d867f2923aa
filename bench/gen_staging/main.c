/*
 * main.c: cl-gen-staging's command line.
 *
 *   cl-gen-staging --out STAGING_DIR [--touches N] [--leads N] [--won-deals N]
 *                  [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--seed N]
 *
 * Exit codes follow DESIGN §8: 0 ok, 64 usage, 73 cannot write.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "exitcode.h"
#include "gen_staging.h"
#include "log.h"

/* Touch ids are 32-bit sequence numbers, old versions included. */
#define GEN_MAX_TOUCHES INT64_C(2000000000)
#define GEN_MAX_LEADS INT64_C(100000000)
#define GEN_MAX_SPAN_DAYS 3660

static void
usage(FILE *fp)
{
	fprintf(fp,
			"usage: cl-gen-staging --out STAGING_DIR [--touches N] [--leads N] [--won-deals N]\n"
			"                      [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--seed N]\n"
			"\n"
			"Writes canonical staging (lead, deal, touch and spend rows with committed\n"
			"manifests) for a company of any size, for benchmarks. The same arguments\n"
			"give byte-identical data files.\n"
			"\n"
			"  --out DIR        staging directory (created; existing runs of the same\n"
			"                   parameters are overwritten)\n"
			"  --touches N      distinct touches (default 1000000); about 1%% more rows\n"
			"                   are older versions of some of them\n"
			"  --leads N        distinct leads, i.e. people (default 100000)\n"
			"  --won-deals N    won deals (default 10000), plus as many lost and half as\n"
			"                   many open deals; about 1%% of all deals are deleted\n"
			"  --from DATE      first day of the data (default 2025-01-01)\n"
			"  --to DATE        last day of the data (default 2025-12-31)\n"
			"  --seed N         random seed (default 42)\n"
			"  --help\n");
}

/* parse_count accepts a whole decimal number in [lo, hi] and nothing else. */
static bool
parse_count(const char *opt, const char *s, int64_t lo, int64_t hi, int64_t *out)
{
	char *end = NULL;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
	{
		fprintf(stderr, "cl-gen-staging: %s must be a whole number from %" PRId64 " to %" PRId64
				", not \"%s\"\n", opt, lo, hi, s);
		return false;
	}
	*out = (int64_t) v;
	return true;
}

/* parse_options fills p; -1 to go on, else the exit code. */
static int
parse_options(int argc, char **argv, GenParams *p)
{
	static const struct option options[] = {
		{"out", required_argument, NULL, 'o'},
		{"touches", required_argument, NULL, 'T'},
		{"leads", required_argument, NULL, 'l'},
		{"won-deals", required_argument, NULL, 'w'},
		{"from", required_argument, NULL, 'f'},
		{"to", required_argument, NULL, 't'},
		{"seed", required_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}
	};
	int64_t seed = 42;
	int opt;

	p->out_dir = NULL;
	p->touches = 1000000;
	p->leads = 100000;
	p->won_deals = 10000;
	p->from = date_from_ymd(2025, 1, 1);
	p->to = date_from_ymd(2025, 12, 31);
	while ((opt = getopt_long(argc, argv, "o:T:l:w:f:t:s:h", options, NULL)) != -1)
	{
		switch (opt)
		{
			case 'o':
				p->out_dir = optarg;
				break;
			case 'T':
				if (!parse_count("--touches", optarg, 0, GEN_MAX_TOUCHES, &p->touches))
					return EXIT_CODE_USAGE;
				break;
			case 'l':
				if (!parse_count("--leads", optarg, 0, GEN_MAX_LEADS, &p->leads))
					return EXIT_CODE_USAGE;
				break;
			case 'w':
				if (!parse_count("--won-deals", optarg, 0, GEN_MAX_LEADS, &p->won_deals))
					return EXIT_CODE_USAGE;
				break;
			case 'f':
			case 't':
				if (!date_parse(optarg, opt == 'f' ? &p->from : &p->to))
				{
					fprintf(stderr, "cl-gen-staging: --%s must be a date YYYY-MM-DD, not \"%s\"\n",
							opt == 'f' ? "from" : "to", optarg);
					return EXIT_CODE_USAGE;
				}
				break;
			case 's':
				if (!parse_count("--seed", optarg, 0, INT64_MAX, &seed))
					return EXIT_CODE_USAGE;
				break;
			case 'h':
				usage(stdout);
				return EXIT_CODE_OK;
			default:
				usage(stderr);
				return EXIT_CODE_USAGE;
		}
	}
	p->seed = (uint64_t) seed;
	if (optind < argc)
	{
		fprintf(stderr, "cl-gen-staging: unexpected argument \"%s\" (try --help)\n", argv[optind]);
		return EXIT_CODE_USAGE;
	}
	if (p->out_dir == NULL || p->out_dir[0] == '\0')
	{
		fprintf(stderr, "cl-gen-staging: --out DIR is required (try --help)\n");
		return EXIT_CODE_USAGE;
	}
	if (p->to < p->from || p->to - p->from + 1 > GEN_MAX_SPAN_DAYS || p->to - p->from < 1)
	{
		fprintf(stderr, "cl-gen-staging: --from .. --to must run forward over 2 to %d days\n",
				GEN_MAX_SPAN_DAYS);
		return EXIT_CODE_USAGE;
	}
	if (p->touches > 0 && p->touches + p->touches / 50 > GEN_MAX_TOUCHES)
	{
		fprintf(stderr, "cl-gen-staging: --touches is too large\n");
		return EXIT_CODE_USAGE;
	}
	return -1;
}

int
main(int argc, char **argv)
{
	GenParams p;
	int rc = parse_options(argc, argv, &p);

	if (rc >= 0)
		return rc;
	log_init("cl-gen-staging", NULL);
	return gen_run(&p) ? EXIT_CODE_OK : EXIT_CODE_CANTCREAT;
}
