/* trigger: capture conditions on the monitor's observations (see trigger.h). */
#include "trigger.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TRIGGER_FORMS "cpu>N%, rss>SIZE, rss-growth>SIZE/min or deadlock (e.g. cpu>70%, rss>2G, " \
		      "rss-growth>10M/min)"

/* "2G" -> bytes; -1 on junk.  end (optional) gets what follows. */
static double parse_size(const char *s, const char **end)
{
	char *e;
	double v = strtod(s, &e);
	if (e == s || v < 0 || !isfinite(v))
		return -1;
	switch (*e) {
	case 'k': case 'K': v *= 1024.0; e++; break;
	case 'm': case 'M': v *= 1048576.0; e++; break;
	case 'g': case 'G': v *= 1073741824.0; e++; break;
	case 't': case 'T': v *= 1099511627776.0; e++; break;
	default: break;
	}
	if (*e == 'i' && e[1] == 'B')
		e += 2;
	else if (*e == 'B')
		e++;
	if (end)
		*end = e;
	return v;
}

int trigger_parse(const char *cond, double for_s, struct trigger *t, char **cause)
{
	memset(t, 0, sizeof *t);
	snprintf(t->text, sizeof t->text, "%s", cond);
	t->for_s = for_s;
	const char *end = NULL;
	if (!strcmp(cond, "deadlock")) {
		t->kind = TRIGGER_DEADLOCK;
		return 0;
	}
	if (!strncmp(cond, "cpu>", 4)) {
		char *e;
		t->kind = TRIGGER_CPU;
		t->threshold = strtod(cond + 4, &e);
		if (e != cond + 4 && t->threshold >= 0 && (!strcmp(e, "%") || !*e))
			return 0;
	} else if (!strncmp(cond, "rss-growth>", 11)) {
		t->kind = TRIGGER_RSS_GROWTH;
		double v = parse_size(cond + 11, &end);
		double per_min = !strcmp(end, "/min") ? 1 : !strcmp(end, "/s") ? 60
			       : !strcmp(end, "/h") ? 1.0 / 60 : -1;
		if (v >= 0 && per_min > 0) {
			t->threshold = v * per_min;
			return 0;
		}
	} else if (!strncmp(cond, "rss>", 4)) {
		t->kind = TRIGGER_RSS;
		t->threshold = parse_size(cond + 4, &end);
		if (t->threshold >= 0 && !*end)
			return 0;
	}
	*cause = xasprintf("bad trigger '%s': want %s", cond, TRIGGER_FORMS);
	return -1;
}

void trigger_rearm(struct trigger *t)
{
	t->since_ns = 0;
}

/* The newest value of metric m, false when none yet. */
static bool latest(const struct monitor *mon, enum memory_metric m, double *v)
{
	double vals[SERIES_POINTS];
	size_t n = series_values(&mon->series, SERIES_1S, m, vals, NULL);
	if (!n)
		return false;
	*v = vals[n - 1];
	return true;
}

bool trigger_check(struct trigger *t, const struct monitor *m, uint64_t now_ns, struct strbuf *why)
{
	char a[32], b[32];
	double v;
	switch (t->kind) {
	case TRIGGER_CPU: {
		if (!latest(m, MEM_CPU, &v))
			return false;
		if (v <= t->threshold) {
			t->since_ns = 0;
			return false;
		}
		if (!t->since_ns)
			t->since_ns = now_ns;
		double held = (double)(now_ns - t->since_ns) / 1e9;
		if (held < t->for_s)
			return false;
		if (why)
			strbuf_printf(why, "cpu %.1f%% > %g%% for %.1f s", v, t->threshold, held);
		return true;
	}
	case TRIGGER_RSS:
		if (!latest(m, MEM_RSS, &v) || v <= t->threshold)
			return false;
		if (why)
			strbuf_printf(why, "rss %s > %s", util_fmt_bytes(a, sizeof a, v),
				      util_fmt_bytes(b, sizeof b, t->threshold));
		return true;
	case TRIGGER_RSS_GROWTH: {
		struct series_fit fit;
		series_fit(&m->series, SERIES_1S, MEM_RSS, &fit);
		if (fit.n < 30 || fit.r2 < 0.8 || fit.slope_per_min <= t->threshold)
			return false;
		if (why)
			strbuf_printf(why, "rss growing %s/min > %s/min (r2 %.2f over %zu s)",
				      util_fmt_bytes(a, sizeof a, fit.slope_per_min),
				      util_fmt_bytes(b, sizeof b, t->threshold), fit.r2, fit.n);
		return true;
	}
	case TRIGGER_DEADLOCK: {
		struct strbuf text = { 0 };
		bool dl = monitor_deadlock(m, &text);
		if (dl && why)
			strbuf_puts(why, text.s);
		strbuf_done(&text);
		return dl;
	}
	}
	return false;
}
