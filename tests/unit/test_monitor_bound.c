/* Unit test of the memory bound of the history (acceptance 5 of issue 10), in seconds rather
 * than 30 minutes: the monitor watches a real process (tests/bin/leak at 64 KiB/s) through 30
 * minutes of simulated time (monitor_tick() takes the clock as an argument, so each call is
 * one due refresh: a memory point a second, the threads, the mappings every 10 s), and the heap
 * in use stops growing after the first simulated minute while the rings keep 60 points per
 * interval.  bench/memory measures the whole program over a real 30 minutes. */
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "monitor.h"
#include "symbols.h"
#include "util.h"
#include "check.h"
#include "fixture.h"

#define NS 1000000000ull

static size_t heap_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();
	return mi.uordblks;
}

int main(void)
{
	printf("     history: %zu bytes (%d intervals x %d points x %d metrics; a point is %zu bytes)\n",
	       sizeof(struct series), SERIES_NINTERVALS, SERIES_POINTS, MEM_NMETRICS,
	       sizeof(struct mem_point));
	check(sizeof(struct series) < 32 * 1024, "the history is a fixed block under 32 KiB");

	struct fixture fx;
	if (!fixture_start(&fx, "leak", "--rate", "65536"))
		return 1;
	pid_t pid = fx.pid;
	char *cause = NULL;
	struct symbols *sym = symbols_new(pid, &cause);
	if (!sym) {
		printf("symbols: %s\n", cause);
		fixture_stop(&fx);
		return 1;
	}
	struct monitor *m = monitor_new(pid, sym, 5);
	uint64_t t0 = util_now_ns(), end = t0 + 1800 * NS, warm = t0 + 60 * NS, now = t0;
	size_t at_warm = 0, ticks = 0;
	while (now < end && !m->gone) {
		if (now >= warm && !at_warm)
			at_warm = heap_in_use();
		monitor_tick(m, now);
		ticks++;
		now = monitor_next_ns(m);
	}
	size_t at_end = heap_in_use();
	printf("     %zu refreshes over 1800 simulated seconds; heap in use after 60 s %zu bytes, "
	       "after 1800 s %zu bytes (%+lld)\n",
	       ticks, at_warm, at_end, (long long)at_end - (long long)at_warm);
	check(!m->gone, "the target stayed watched");
	size_t len[SERIES_NINTERVALS];
	for (int i = 0; i < SERIES_NINTERVALS; i++)
		len[i] = m->series.ring[i].len;
	printf("     ring points: 1 s %zu, 10 s %zu, 60 s %zu\n", len[0], len[1], len[2]);
	check(len[SERIES_1S] == SERIES_POINTS && len[SERIES_10S] == SERIES_POINTS,
	      "the 1 s and 10 s rings are full and hold 60 points");
	/* Exactly 30 when every second got its point; a machine slow enough to stretch the
	 * memory part's period (monitor.h, cost control) gives fewer. */
	check(len[SERIES_60S] >= 20 && len[SERIES_60S] <= 30, "the 60 s ring holds 20 to 30 points");
	check(at_end <= at_warm + 64 * 1024,
	      "heap in use grows by at most 64 KiB from minute 1 to minute 30");
	struct series_fit fit;
	series_fit(&m->series, SERIES_1S, MEM_RSS, &fit);
	printf("     rss slope over the last minute of simulated time %.1f KiB/min\n",
	       fit.slope_per_min / 1024);
	monitor_free(m);
	symbols_free(sym);
	fixture_stop(&fx);
	return failures ? 1 : 0;
}
