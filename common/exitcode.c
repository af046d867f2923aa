#include "exitcode.h"

int
cl_error_exit_code(ClError err)
{
	switch (err)
	{
		case CL_OK: return EXIT_CODE_OK;
		case CL_ERR_USAGE: return EXIT_CODE_USAGE;
		case CL_ERR_DATA: return EXIT_CODE_DATAERR;
		case CL_ERR_UNAVAILABLE: return EXIT_CODE_UNAVAILABLE;
		case CL_ERR_INTERNAL: return EXIT_CODE_SOFTWARE;
		case CL_ERR_OUTPUT: return EXIT_CODE_CANTCREAT;
		case CL_ERR_TEMPORARY: return EXIT_CODE_TEMPFAIL;
		case CL_ERR_CONFIG: return EXIT_CODE_CONFIG;
	}
	return EXIT_CODE_SOFTWARE;
}

const char *
cl_error_name(ClError err)
{
	switch (err)
	{
		case CL_OK: return "ok";
		case CL_ERR_USAGE: return "usage";
		case CL_ERR_DATA: return "bad input data";
		case CL_ERR_UNAVAILABLE: return "service unavailable";
		case CL_ERR_INTERNAL: return "internal error";
		case CL_ERR_OUTPUT: return "cannot write output";
		case CL_ERR_TEMPORARY: return "temporary failure";
		case CL_ERR_CONFIG: return "configuration error";
	}
	return "unknown";
}
