/* Front ends still being written: they refuse honestly instead of pretending. */
#include <stdio.h>

#include "cli.h"

int cli_top(struct app_options *opt)
{
	(void)opt;
	fputs("proftop: the interactive view is not built yet; use proftop record\n", stderr);
	return 1;
}

int cli_dump(struct app_options *opt)
{
	(void)opt;
	fputs("proftop: dump is not built yet; use proftop record\n", stderr);
	return 1;
}
