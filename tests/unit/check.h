/* check: the one assertion of the unit tests.  Each check prints "ok ..." or "FAIL ..." (the
 * description, printf-style) and counts failures; main returns check_status(). */
#ifndef PROFTOP_TEST_CHECK_H
#define PROFTOP_TEST_CHECK_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

static int failures;

static void check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3), unused));

static void check(bool ok, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs(ok ? "ok   " : "FAIL ", stdout);
	vprintf(fmt, ap);
	fputc('\n', stdout);
	va_end(ap);
	fflush(stdout); /* a crash later still shows what passed */
	if (!ok)
		failures++;
}

#endif
