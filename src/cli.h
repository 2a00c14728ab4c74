/*
 * cli: the front ends behind the subcommands.  Each takes the parsed options, runs to the end and
 * returns the process exit status (0 success, 1 error, 3 deadlock found by dump).
 */
#ifndef PROFTOP_CLI_H
#define PROFTOP_CLI_H

#include "app.h"

/* The interactive TUI (views/ui.c). */
int cli_top(struct app_options *opt);
/* One-shot dump of threads, waits, locks and deadlocks (src/dump.c). */
int cli_dump(struct app_options *opt);

#endif
