/*
 * run.c: one generation from parsed options to the files on disk, kept
 * out of main.c so that the unit test can run it too.
 */
#include <inttypes.h>
#include <string.h>

#include "datagen.h"

/*
 * dg_run generates the world described by p into p->out_dir and prints a
 * one-line summary to stderr. Returns DG_EXIT_OK, DG_EXIT_CANTCREAT (output
 * or memory) or DG_EXIT_SOFTWARE (the truth does not add up: a bug).
 */
int
dg_run(const DgParams *p)
{
	DgWorld w;
	DgTruth t;
	int exit_code = DG_EXIT_CANTCREAT;

	memset(&w, 0, sizeof(w));
	if (!dg_mkdirs(p->out_dir))
	{
		/* errors have already been logged */
		return DG_EXIT_CANTCREAT;
	}

	/* Order matters: email activity needs the deals (engaged people click
	 * more), edge cases need the clicks, modification times need the final
	 * event times, and spend follows the final won revenue. */
	if (!dg_world_build(&w, p) || !dg_mail_generate(&w))
	{
		goto cleanup;
	}
	dg_world_edge_cases(&w);
	if (!dg_world_finish(&w) || !dg_ads_generate(&w))
	{
		goto cleanup;
	}
	if (!dg_truth_compute(&w, &t))
	{
		exit_code = DG_EXIT_SOFTWARE;
		goto cleanup;
	}
	if (!dg_emit_all(&w, &t))
	{
		goto cleanup;
	}
	fprintf(stderr, "cl-datagen: seed %" PRIu64 ": %d contacts (%" PRId64 " leads), %d deals "
			"(%" PRId64 " won in the window, %" PRId64 ".%02" PRId64 " USD), %d ad campaigns "
			"in %d account(s) (spend %" PRId64 ".%02" PRId64 " USD), %d email campaigns, "
			"%" PRId64 " activity rows -> %s\n",
			p->seed, w.n_contacts, t.leads, w.n_deals, t.won_deals, t.revenue / 100,
			t.revenue % 100, w.n_ads, p->customers, t.spend / 100, t.spend % 100,
			w.n_mails, w.activity_rows, p->out_dir);
	exit_code = DG_EXIT_OK;

cleanup:
	dg_world_free(&w);
	return exit_code;
}
