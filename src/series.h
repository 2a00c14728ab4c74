/*
 * series: the history of the target's memory and CPU points, kept at three intervals (1 s, 10 s
 * and 60 s per point) in fixed ring buffers, so memory use is bounded however long proftop
 * runs: SERIES_POINTS points per interval, each point averaging the finer ones.  And a linear
 * fit per metric over a window, with a "growing" verdict that a flat or sawtooth series never
 * gets.
 */
#ifndef PROFTOP_SERIES_H
#define PROFTOP_SERIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memory.h"

#define SERIES_POINTS 60

enum series_interval { SERIES_1S, SERIES_10S, SERIES_60S, SERIES_NINTERVALS };
extern const unsigned series_interval_s[SERIES_NINTERVALS];

struct series_ring {
	struct mem_point pts[SERIES_POINTS];
	size_t head, len;        /* oldest at head */
	struct mem_point acc;    /* sum of the finer points not yet folded in */
	uint32_t acc_n[MEM_NMETRICS];
	unsigned nacc;
};

struct series {
	struct series_ring ring[SERIES_NINTERVALS];
	struct mem_point last;
	bool have_last;
};

void series_init(struct series *s);
/* Add a 1-second point; every 10th and 60th fold into the coarser rings. */
void series_add(struct series *s, const struct mem_point *p);
/* Points of one metric at an interval, oldest first, into v (and t, optional: time in ns);
 * at most SERIES_POINTS.  Points where the metric was not read are skipped. */
size_t series_values(const struct series *s, enum series_interval iv, enum memory_metric m,
		     double *v, uint64_t *t);

struct series_fit {
	size_t n;
	double cur, min, max;
	double slope_per_min; /* units of the metric per minute */
	double r2;            /* goodness of the fit, 0..1 (0 for a constant series) */
	bool growing;
};
/*
 * Least-squares line over the interval's window.  growing: at least 30 points, slope > 0,
 * r2 >= 0.8, and the rise over the window is more than noise: >= 1% of the mean and at least
 * 256 KiB for bytes, 2 for counts.  A flat series (r2 0) or a sawtooth (poor fit) never grows.
 */
void series_fit(const struct series *s, enum series_interval iv, enum memory_metric m,
		struct series_fit *fit);
/* The same verdict for bare arrays (x in seconds), for tests and other series. */
void series_fit_values(const double *x_s, const double *y, size_t n, char kind,
		       struct series_fit *fit);

#endif
