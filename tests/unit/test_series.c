/* Unit test of series: bounded rings at three intervals and the growth verdict on known shapes
 * (steady growth, flat, sawtooth, step). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "series.h"
#include "check.h"

static struct mem_point point(int i, double rss)
{
	struct mem_point p = { .time_ns = (uint64_t)i * 1000000000ull };
	p.v[MEM_RSS] = rss;
	p.valid = 1u << MEM_RSS;
	return p;
}

static void fit_of(double (*shape)(int), struct series_fit *fit)
{
	struct series *s = malloc(sizeof *s);
	series_init(s);
	for (int i = 0; i < 200; i++) {
		struct mem_point p = point(i, shape(i));
		series_add(s, &p);
	}
	series_fit(s, SERIES_1S, MEM_RSS, fit);
	free(s);
}

/* 2 MiB/s growth with +-64 KiB of noise on top of 100 MiB. */
static double grow(int i) { return 100.0 * 1048576 + i * 2.0 * 1048576 + ((i * 7919) % 129 - 64) * 1024.0; }
static double flat(int i) { return 64.0 * 1048576 + ((i * 31) % 5) * 4096.0; }
/* Allocate up to 64 MiB over 20 s, free it all, again. */
static double saw(int i) { return 2.0 * 1048576 + (i % 20) * 3.2 * 1048576; }
/* One jump in the middle of the window: not a steady growth. */
static double step(int i) { return i < 170 ? 50.0 * 1048576 : 90.0 * 1048576; }

int main(void)
{
	struct series_fit f;
	fit_of(grow, &f);
	printf("     grow: slope %.2f MiB/min r2 %.3f n %zu\n", f.slope_per_min / 1048576, f.r2, f.n);
	check(f.n == SERIES_POINTS, "window holds 60 points");
	check(fabs(f.slope_per_min / (120.0 * 1048576) - 1) < 0.05, "slope of 2 MiB/s is 120 MiB/min (5%%)");
	check(f.growing, "steady growth is flagged growing");
	fit_of(flat, &f);
	check(!f.growing, "flat is not growing");
	fit_of(saw, &f);
	printf("     sawtooth: r2 %.3f\n", f.r2);
	check(!f.growing, "sawtooth is not growing");
	fit_of(step, &f);
	printf("     step: r2 %.3f\n", f.r2);
	check(!f.growing, "a single step is not growing");

	/* Bounded: 10,000 points leave 60 per interval; coarse points average the fine ones. */
	struct series *s = malloc(sizeof *s);
	series_init(s);
	for (int i = 0; i < 10000; i++) {
		struct mem_point p = point(i, (double)i);
		series_add(s, &p);
	}
	double v[SERIES_POINTS];
	size_t n1 = series_values(s, SERIES_1S, MEM_RSS, v, NULL);
	check(n1 == SERIES_POINTS && v[n1 - 1] == 9999, "1 s ring: last 60 points");
	size_t n10 = series_values(s, SERIES_10S, MEM_RSS, v, NULL);
	check(n10 == SERIES_POINTS && v[n10 - 1] == 9994.5, "10 s ring: average of the last 10");
	size_t n60 = series_values(s, SERIES_60S, MEM_RSS, v, NULL);
	check(n60 == SERIES_POINTS && v[n60 - 1] == 9929.5, "60 s ring: average of 60");
	series_fit(s, SERIES_10S, MEM_RSS, &f);
	check(fabs(f.slope_per_min - 60.0) < 1e-6, "10 s ring: slope 1/s = 60/min");
	free(s);
	return failures ? 1 : 0;
}
