/*
 * exitcode.h: the process exit codes every closedloop binary shares
 * (sysexits-style, see DESIGN §8). A scheduler retries on EXIT_TEMPFAIL only.
 */
#ifndef CL_EXITCODE_H
#define CL_EXITCODE_H

#define EXIT_CODE_OK          0   /* success */
#define EXIT_CODE_USAGE       64  /* bad command line */
#define EXIT_CODE_DATAERR     65  /* bad input data (vendor payload, staging file) */
#define EXIT_CODE_UNAVAILABLE 69  /* a service stayed unavailable after retries */
#define EXIT_CODE_SOFTWARE    70  /* internal error: a bug */
#define EXIT_CODE_CANTCREAT   73  /* cannot write output */
#define EXIT_CODE_TEMPFAIL    75  /* temporary failure: the scheduler should retry */
#define EXIT_CODE_CONFIG      78  /* configuration error */

/*
 * ClError classifies a failure so that main() can pick the exit code and
 * callers can decide whether to retry. Functions return bool and record the
 * class in the handle or context they own; main() maps it with
 * cl_error_exit_code().
 */
typedef enum ClError
{
	CL_OK = 0,
	CL_ERR_USAGE,
	CL_ERR_DATA,
	CL_ERR_UNAVAILABLE,
	CL_ERR_INTERNAL,
	CL_ERR_OUTPUT,
	CL_ERR_TEMPORARY,
	CL_ERR_CONFIG
} ClError;

int cl_error_exit_code(ClError err);
const char *cl_error_name(ClError err);

#endif
