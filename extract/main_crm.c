/*
 * main_crm.c: cl-extract-crm.
 */
#include "extract_cli.h"

int
main(int argc, char **argv)
{
	return extract_main(SOURCE_FAMILY_CRM, argc, argv);
}
