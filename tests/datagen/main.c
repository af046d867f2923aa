/*
 * main.c: cl-datagen's command line.
 *
 *   cl-datagen --out DIR [--seed N] [--leads N] [--from D --to D] [--customers N]
 *
 * Exit codes follow DESIGN §8 (datagen.h): 0 ok, 64 usage, 70 internal
 * error, 73 cannot write output.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "datagen.h"

#ifndef CLOSEDLOOP_VERSION
#define CLOSEDLOOP_VERSION "dev"
#endif

static void
usage(FILE *fp)
{
	fprintf(fp,
			"usage: cl-datagen --out DIR [--seed N] [--leads N] [--from YYYY-MM-DD --to YYYY-MM-DD]\n"
			"                  [--customers N]\n"
			"\n"
			"Generates a demo B2B company's vendor data (HubSpot, Google Ads, Mailchimp)\n"
			"for cl-fixture-server, and expected.json with the attribution ground truth.\n"
			"The same arguments always give byte-identical files.\n"
			"\n"
			"  --out DIR        output directory (created; files in it are overwritten)\n"
			"  --seed N         random seed, 0..18446744073709551615 (default 42)\n"
			"  --leads N        contacts created inside the window, 1..%d (default 3000)\n"
			"  --from DATE      first day of the window (default 2026-01-01)\n"
			"  --to DATE        last day of the window (default 2026-03-31)\n"
			"  --customers N    Google Ads accounts, 1..%d (default 2)\n"
			"  --help, --version\n",
			DG_MAX_LEADS, DG_MAX_CUSTOMERS);
}

/* parse_int accepts a whole decimal number in [lo, hi] and nothing else. */
static bool
parse_int(const char *opt, const char *s, long lo, long hi, long *out)
{
	char *end = NULL;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
	{
		fprintf(stderr, "cl-datagen: %s must be a whole number from %ld to %ld, not \"%s\"\n",
				opt, lo, hi, s);
		return false;
	}
	*out = v;
	return true;
}

static bool
parse_seed(const char *s, uint64_t *out)
{
	char *end = NULL;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (s[0] == '-' || s[0] == '+' || errno != 0 || end == s || *end != '\0')
	{
		fprintf(stderr, "cl-datagen: --seed must be a whole number from 0 to %" PRIu64 ", not \"%s\"\n",
				UINT64_MAX, s);
		return false;
	}
	*out = (uint64_t) v;
	return true;
}

/*
 * parse_options fills p from argv. Returns -1 to go on, else the exit code
 * (0 after --help or --version).
 */
static int
parse_options(int argc, char **argv, DgParams *p)
{
	static const struct option options[] = {
		{"out", required_argument, NULL, 'o'},
		{"seed", required_argument, NULL, 's'},
		{"leads", required_argument, NULL, 'l'},
		{"from", required_argument, NULL, 'f'},
		{"to", required_argument, NULL, 't'},
		{"customers", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0}
	};
	int opt;
	long v;

	p->out_dir = NULL;
	p->seed = 42;
	p->leads = 3000;
	p->from = dg_date_from_ymd(2026, 1, 1);
	p->to = dg_date_from_ymd(2026, 3, 31);
	p->customers = 2;

	while ((opt = getopt_long(argc, argv, "o:s:l:f:t:c:hV", options, NULL)) != -1)
	{
		switch (opt)
		{
			case 'o':
				p->out_dir = optarg;
				break;
			case 's':
				if (!parse_seed(optarg, &p->seed))
				{
					return DG_EXIT_USAGE;
				}
				break;
			case 'l':
				if (!parse_int("--leads", optarg, 1, DG_MAX_LEADS, &v))
				{
					return DG_EXIT_USAGE;
				}
				p->leads = (int) v;
				break;
			case 'f':
			case 't':
				if (!dg_date_parse(optarg, opt == 'f' ? &p->from : &p->to))
				{
					fprintf(stderr, "cl-datagen: --%s must be a date YYYY-MM-DD, not \"%s\"\n",
							opt == 'f' ? "from" : "to", optarg);
					return DG_EXIT_USAGE;
				}
				break;
			case 'c':
				if (!parse_int("--customers", optarg, 1, DG_MAX_CUSTOMERS, &v))
				{
					return DG_EXIT_USAGE;
				}
				p->customers = (int) v;
				break;
			case 'h':
				usage(stdout);
				return DG_EXIT_OK;
			case 'V':
				printf("cl-datagen %s\n", CLOSEDLOOP_VERSION);
				return DG_EXIT_OK;
			default:
				usage(stderr);
				return DG_EXIT_USAGE;
		}
	}
	if (optind < argc)
	{
		fprintf(stderr, "cl-datagen: unexpected argument \"%s\" (try --help)\n", argv[optind]);
		return DG_EXIT_USAGE;
	}
	if (p->out_dir == NULL || p->out_dir[0] == '\0')
	{
		fprintf(stderr, "cl-datagen: --out DIR is required (try --help)\n");
		return DG_EXIT_USAGE;
	}
	if (p->to < p->from || p->to - p->from + 1 > DG_MAX_SPAN_DAYS)
	{
		fprintf(stderr, "cl-datagen: the window --from .. --to must run forward and span at most %d days\n",
				DG_MAX_SPAN_DAYS);
		return DG_EXIT_USAGE;
	}
	return -1;
}

int
main(int argc, char **argv)
{
	DgParams p;
	int rc = parse_options(argc, argv, &p);

	if (rc >= 0)
	{
		return rc;
	}
	return dg_run(&p);
}
