/*
 * extract_cli.h: what cl-extract-crm, cl-extract-ads and cl-extract-email
 * share; each main() is one call to extract_main with its family.
 */
#ifndef CL_EXTRACT_CLI_H
#define CL_EXTRACT_CLI_H

#include "source.h"

/*
 * extract_main parses the command line, loads the configuration, runs
 * every enabled vendor of family (or those named by --vendor), logs the
 * run summary and returns the process exit code (DESIGN §8): the code of
 * the first vendor that failed, 78 when no vendor is enabled.
 */
int extract_main(SourceFamily family, int argc, char **argv);

#endif
