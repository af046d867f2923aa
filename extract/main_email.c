/*
 * main_email.c: cl-extract-email.
 */
#include "extract_cli.h"

int
main(int argc, char **argv)
{
	return extract_main(SOURCE_FAMILY_EMAIL, argc, argv);
}
