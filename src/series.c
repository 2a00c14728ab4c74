/* series: bounded multi-interval history and linear fits (see series.h). */
#include "series.h"

#include <math.h>
#include <string.h>

const unsigned series_interval_s[SERIES_NINTERVALS] = { 1, 10, 60 };

void series_init(struct series *s)
{
	memset(s, 0, sizeof *s);
}

static void ring_push(struct series_ring *r, const struct mem_point *p)
{
	size_t at = (r->head + r->len) % SERIES_POINTS;
	r->pts[at] = *p;
	if (r->len < SERIES_POINTS)
		r->len++;
	else
		r->head = (r->head + 1) % SERIES_POINTS;
}

/* Fold p into ring r's accumulator; every `every` points, push their average. */
static void ring_fold(struct series_ring *r, const struct mem_point *p, unsigned every)
{
	for (int m = 0; m < MEM_NMETRICS; m++) {
		if (p->valid & (1u << m)) {
			r->acc.v[m] += p->v[m];
			r->acc_n[m]++;
		}
	}
	r->acc.time_ns = p->time_ns;
	if (++r->nacc < every)
		return;
	struct mem_point avg = { .time_ns = r->acc.time_ns };
	for (int m = 0; m < MEM_NMETRICS; m++) {
		if (r->acc_n[m]) {
			avg.v[m] = r->acc.v[m] / r->acc_n[m];
			avg.valid |= 1u << m;
		}
	}
	ring_push(r, &avg);
	memset(&r->acc, 0, sizeof r->acc);
	memset(r->acc_n, 0, sizeof r->acc_n);
	r->nacc = 0;
}

void series_add(struct series *s, const struct mem_point *p)
{
	ring_push(&s->ring[SERIES_1S], p);
	ring_fold(&s->ring[SERIES_10S], p, series_interval_s[SERIES_10S]);
	ring_fold(&s->ring[SERIES_60S], p, series_interval_s[SERIES_60S]);
	s->last = *p;
	s->have_last = true;
}

size_t series_values(const struct series *s, enum series_interval iv, enum memory_metric m,
		     double *v, uint64_t *t)
{
	const struct series_ring *r = &s->ring[iv];
	size_t n = 0;
	for (size_t i = 0; i < r->len; i++) {
		const struct mem_point *p = &r->pts[(r->head + i) % SERIES_POINTS];
		if (!(p->valid & (1u << m)))
			continue;
		v[n] = p->v[m];
		if (t)
			t[n] = p->time_ns;
		n++;
	}
	return n;
}

void series_fit_values(const double *x, const double *y, size_t n, char kind,
		       struct series_fit *fit)
{
	memset(fit, 0, sizeof *fit);
	fit->n = n;
	if (n == 0)
		return;
	fit->cur = y[n - 1];
	fit->min = fit->max = y[0];
	double sx = 0, sy = 0;
	for (size_t i = 0; i < n; i++) {
		sx += x[i];
		sy += y[i];
		if (y[i] < fit->min)
			fit->min = y[i];
		if (y[i] > fit->max)
			fit->max = y[i];
	}
	if (n < 2)
		return;
	double mx = sx / (double)n, my = sy / (double)n;
	double sxx = 0, sxy = 0, syy = 0;
	for (size_t i = 0; i < n; i++) {
		sxx += (x[i] - mx) * (x[i] - mx);
		sxy += (x[i] - mx) * (y[i] - my);
		syy += (y[i] - my) * (y[i] - my);
	}
	if (sxx <= 0)
		return;
	double slope = sxy / sxx; /* per second */
	fit->slope_per_min = slope * 60.0;
	fit->r2 = syy > 0 ? (sxy * sxy) / (sxx * syy) : 0.0;
	double span = x[n - 1] - x[0];
	double rise = slope * span;
	double floor_abs = kind == 'B' ? 256.0 * 1024.0 : kind == 'N' ? 2.0 : 0.0;
	double floor_rel = fabs(my) * 0.01;
	fit->growing = n >= 30 && slope > 0 && fit->r2 >= 0.8 && rise >= floor_abs &&
		       rise >= floor_rel;
}

void series_fit(const struct series *s, enum series_interval iv, enum memory_metric m,
		struct series_fit *fit)
{
	double y[SERIES_POINTS], x[SERIES_POINTS];
	uint64_t t[SERIES_POINTS];
	size_t n = series_values(s, iv, m, y, t);
	for (size_t i = 0; i < n; i++)
		x[i] = (double)(t[i] - (n ? t[0] : 0)) / 1e9;
	series_fit_values(x, y, n, memory_metric_info[m].kind, fit);
}
