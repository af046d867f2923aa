/*
 * main_ads.c: cl-extract-ads.
 */
#include "extract_cli.h"

int
main(int argc, char **argv)
{
	return extract_main(SOURCE_FAMILY_ADS, argc, argv);
}
