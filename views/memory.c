/*
 * memory: view 4, the target's memory and CPU over time.  One row per metric of the monitor's
 * series (memory.h; goroutines on Go targets only): a sparkline over the 60 points of the
 * current interval (1 s, 10 s or 60 s a point; [ and ] change it), the current value, the
 * window's min and max, the growth per minute of a least-squares line over the window and a
 * GROWING flag when the fit says so (series.h).  Below, the mappings whose resident size grew
 * most since attach ([heap], anonymous mappings by address, libraries by path).
 *
 * Data are copied from ui->app->mon in the refresh hook (with each rebuild: once a second,
 * frozen while the display is paused) and when the interval changes, so draw only paints.  The
 * page scrolls as a whole when it is taller than the body.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui.h"
#include "util.h"

#define MEMVIEW_MAPS 100 /* grown mappings kept for the table */

/* Display names of the metrics (the JSON names, which the man page and snapshots use). */
static const char *const metric_label[MEM_NMETRICS] = {
#define MEMVIEW_LABEL(e, name, unit, kind) name,
	MEMORY_METRICS(MEMVIEW_LABEL)
#undef MEMVIEW_LABEL
};

struct memrow {
	enum memory_metric m;
	double v[SERIES_POINTS]; /* the window's points, oldest first */
	size_t n;
	struct series_fit fit;
};

struct memview {
	enum series_interval iv;
	int scroll;
	int nlines;              /* lines of the page at the last draw */

	/* Copied from the monitor. */
	bool have_mon;
	size_t len;              /* points in the interval's ring */
	struct memrow rows[MEM_NMETRICS];
	int nrows;
	char go_note[160];       /* why a Go target has no goroutine counts, or "" */
	struct memory_growth maps[MEMVIEW_MAPS];
	size_t nmaps, ngrown;    /* rows kept, mappings grown in all */
	bool maps_compared;      /* the first comparison with attach time is done */
};

/* Column widths of a metric row. */
#define W_NAME 10
#define W_VAL 8
#define W_RATE 9
#define W_FLAG 7

/* ---- numbers ---- */

/* A size in at most 8 columns with three significant digits: "1.23 GiB", "12.3 MiB", "512 KiB". */
static const char *fmt_size(char *buf, size_t n, double bytes)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = fabs(bytes);
	size_t u = 0;
	while (v >= 1023.5 && u + 1 < UTIL_ARRAY_LEN(units)) {
		v /= 1024;
		u++;
	}
	const char *sign = bytes < 0 ? "-" : "";
	if (u == 0 || v >= 99.95)
		snprintf(buf, n, "%s%.0f %s", sign, v, units[u]);
	else if (v >= 9.995)
		snprintf(buf, n, "%s%.1f %s", sign, v, units[u]);
	else
		snprintf(buf, n, "%s%.2f %s", sign, v, units[u]);
	return buf;
}

/* A value of a metric of kind ('B', 'N', 'R', 'P') in human units. */
static const char *fmt_value(char *buf, size_t n, char kind, double v)
{
	switch (kind) {
	case 'B':
		return fmt_size(buf, n, v);
	case 'R':
		snprintf(buf, n, fabs(v) < 9.95 ? "%.1f/s" : "%.0f/s", v);
		return buf;
	case 'P':
		snprintf(buf, n, "%.1f%%", v);
		return buf;
	default:
		snprintf(buf, n, "%.0f", v);
		if (!strcmp(buf, "-0"))
			snprintf(buf, n, "0");
		return buf;
	}
}

/* A growth per minute with its sign: "+120 MiB", "-3", "0". */
static const char *fmt_growth(char *buf, size_t n, char kind, double per_min)
{
	char v[24];
	fmt_value(v, sizeof v, kind, fabs(per_min));
	/* What rounds to zero is shown as zero, without a sign. */
	if (strspn(v, "0.") == strcspn(v, " /%")) {
		snprintf(buf, n, "0");
		return buf;
	}
	if (n < 2)
		return "";
	buf[0] = per_min < 0 ? '-' : '+';
	snprintf(buf + 1, n - 1, "%s", v);
	return buf;
}

/* The smallest range a sparkline spans, so that noise on a flat series stays flat: 1% of the
 * value for sizes and counts (at least 64 KiB, 1), 5% for rates and percentages (at least 1). */
static double spark_floor(char kind, double hi)
{
	double rel = fabs(hi) * (kind == 'B' || kind == 'N' ? 0.01 : 0.05);
	double abs_min = kind == 'B' ? 65536.0 : 1.0;
	return rel > abs_min ? rel : abs_min;
}

/* ---- data ---- */

/* Copy what the view shows from the monitor. */
static void memview_load(struct ui *ui, struct memview *v)
{
	const struct monitor *m = ui->app->mon;
	v->have_mon = m != NULL;
	v->nrows = 0;
	v->nmaps = v->ngrown = 0;
	v->go_note[0] = '\0';
	v->len = 0;
	if (!m)
		return;
	v->len = m->series.ring[v->iv].len;
	for (int i = 0; i < MEM_NMETRICS; i++) {
		enum memory_metric mm = (enum memory_metric)i;
		if (mm == MEM_GOROUTINES && !m->go.is_go)
			continue;
		struct memrow *r = &v->rows[v->nrows++];
		r->m = mm;
		r->n = series_values(&m->series, v->iv, mm, r->v, NULL);
		series_fit(&m->series, v->iv, mm, &r->fit);
	}
	if (m->go.is_go && !m->go.gr)
		snprintf(v->go_note, sizeof v->go_note, "goroutines unreadable: %s",
			 m->go.error ? m->go.error : "no runtime data");
	v->ngrown = m->ngrowth;
	v->nmaps = m->ngrowth < MEMVIEW_MAPS ? m->ngrowth : MEMVIEW_MAPS;
	if (v->nmaps)
		memcpy(v->maps, m->growth, v->nmaps * sizeof *v->maps);
	/* The first comparison is due one maps period after the monitor started. */
	v->maps_compared = m->growth != NULL || ui->app->target_gone ||
			   util_now_ns() > ui->app->start_ns + m->period_ns[MONITOR_MAPS] +
						   2000000000ull;
}

/* ---- drawing ---- */

struct memlayout {
	int x_name, x_spark, w_spark, x_now, x_min, x_max, x_rate, x_flag;
	bool minmax; /* room for the min and max columns */
};

static void memview_layout(const struct ui *ui, struct memlayout *l)
{
	memset(l, 0, sizeof *l);
	l->minmax = true;
	/* margin, name, spark, now, min, max, rate, flag, with a blank between columns */
	int fixed = 1 + W_NAME + 1 + 1 + W_VAL + 1 + W_VAL + 1 + W_VAL + 1 + W_RATE + 1 + W_FLAG + 1;
	int w = ui->cols - fixed;
	if (w < 16) { /* narrower than 75 columns: min and max give way to the history */
		l->minmax = false;
		w += 2 * (W_VAL + 1);
	}
	if (w > SERIES_POINTS)
		w = SERIES_POINTS;
	if (w < 4)
		w = 4;
	l->x_name = 1;
	l->x_spark = l->x_name + W_NAME + 1;
	l->w_spark = w;
	int x = l->x_spark + w + 1;
	l->x_now = x;
	x += W_VAL + 1;
	if (l->minmax) {
		l->x_min = x;
		x += W_VAL + 1;
		l->x_max = x;
		x += W_VAL + 1;
	}
	l->x_rate = x;
	x += W_RATE + 1;
	l->x_flag = x;
}

/* The sparkline of a row: the window's SERIES_POINTS slots squeezed into w columns (each the
 * mean of its points), the points at the right end while the window fills; scaled from the
 * lowest to the highest column (at least spark_floor() apart), eighth blocks in UTF-8, ASCII
 * levels otherwise. */
static void draw_spark(struct ui *ui, int y, int x, int w, const struct memrow *r)
{
	static const char *const blocks[8] = {
		"\xe2\x96\x81", "\xe2\x96\x82", "\xe2\x96\x83", "\xe2\x96\x84",
		"\xe2\x96\x85", "\xe2\x96\x86", "\xe2\x96\x87", "\xe2\x96\x88",
	};
	static const char ascii[] = "_.-~=+*#";
	if (!r->n) {
		ui_text(ui, y, x, w, THEME_DIM, "(no points yet)");
		return;
	}
	if (w > SERIES_POINTS)
		w = SERIES_POINTS;
	double col[SERIES_POINTS];
	bool has[SERIES_POINTS];
	double lo = 0, hi = 0;
	bool any = false;
	size_t first = SERIES_POINTS - r->n;
	for (int c = 0; c < w; c++) {
		size_t a = (size_t)c * SERIES_POINTS / (size_t)w;
		size_t b = (size_t)(c + 1) * SERIES_POINTS / (size_t)w;
		double sum = 0;
		int k = 0;
		for (size_t s = a; s < b; s++) {
			if (s >= first) {
				sum += r->v[s - first];
				k++;
			}
		}
		has[c] = k > 0;
		if (!k)
			continue;
		col[c] = sum / k;
		if (!any || col[c] < lo)
			lo = col[c];
		if (!any || col[c] > hi)
			hi = col[c];
		any = true;
	}
	double fl = spark_floor(memory_metric_info[r->m].kind, hi);
	if (hi - lo < fl)
		hi = lo + fl;
	char buf[SERIES_POINTS * 3 + 1];
	size_t len = 0;
	for (int c = 0; c < w; c++) {
		if (!has[c]) {
			buf[len++] = ' ';
			continue;
		}
		int level = (int)((col[c] - lo) / (hi - lo) * 7.0 + 0.5);
		if (level < 0)
			level = 0;
		if (level > 7)
			level = 7;
		if (ui->utf8) {
			memcpy(buf + len, blocks[level], 3);
			len += 3;
		} else {
			buf[len++] = ascii[level];
		}
	}
	buf[len] = '\0';
	ui_text(ui, y, x, w, THEME_SPARK, buf);
}

static void draw_metric(struct ui *ui, int y, const struct memlayout *l, const struct memrow *r,
			const struct memview *v)
{
	char kind = memory_metric_info[r->m].kind;
	char b[32];
	ui_text(ui, y, l->x_name, W_NAME, THEME_NORMAL, metric_label[r->m]);
	if (r->m == MEM_GOROUTINES && !r->n && v->go_note[0]) {
		ui_text(ui, y, l->x_spark, ui->cols - l->x_spark - 1, THEME_DIM, v->go_note);
		return;
	}
	draw_spark(ui, y, l->x_spark, l->w_spark, r);
	if (!r->n)
		return;
	ui_text_right(ui, y, l->x_now, W_VAL, THEME_NORMAL, fmt_value(b, sizeof b, kind, r->fit.cur));
	if (l->minmax) {
		ui_text_right(ui, y, l->x_min, W_VAL, THEME_DIM, fmt_value(b, sizeof b, kind, r->fit.min));
		ui_text_right(ui, y, l->x_max, W_VAL, THEME_DIM, fmt_value(b, sizeof b, kind, r->fit.max));
	}
	if (r->fit.n >= 2)
		fmt_growth(b, sizeof b, kind, r->fit.slope_per_min);
	else
		snprintf(b, sizeof b, "-");
	ui_text_right(ui, y, l->x_rate, W_RATE, r->fit.growing ? THEME_GROWING : THEME_NORMAL, b);
	if (r->fit.growing)
		ui_text(ui, y, l->x_flag, W_FLAG, THEME_GROWING, "GROWING");
}

/* The title line: the intervals (the current one marked) and how full its window is. */
static void draw_title(struct ui *ui, int y, const struct memview *v)
{
	static const char *const span[SERIES_NINTERVALS] = { "1 min", "10 min", "1 h" };
	int x = 1;
	x += ui_text(ui, y, x, ui->cols - x - 1, THEME_TITLE, "Interval");
	for (int i = 0; i < SERIES_NINTERVALS; i++) {
		char b[16];
		snprintf(b, sizeof b, " %u s ", series_interval_s[i]);
		x += 1;
		x += ui_text(ui, y, x, ui->cols - x - 1,
			     i == (int)v->iv ? THEME_TAB_ACTIVE : THEME_NORMAL, b);
	}
	char b[96];
	snprintf(b, sizeof b, " ([ ])  last %s: %zu/%d points%s", span[v->iv], v->len, SERIES_POINTS,
		 v->len < 30 ? ", GROWING from 30" : "");
	ui_text(ui, y, x, ui->cols - x - 1, THEME_DIM, b);
}

/* A mapping's name as the table shows it: [heap], "anon 0x7f..." or the path. */
static void mapping_name(const struct memory_mapping *mp, char *buf, size_t n)
{
	if (!mp->name[0])
		snprintf(buf, n, "anon 0x%llx-0x%llx", (unsigned long long)mp->start,
			 (unsigned long long)mp->end);
	else
		snprintf(buf, n, "%s", mp->name);
}

/* Draw s in w columns keeping its end (paths: the file name matters most). */
static void text_tail(struct ui *ui, int y, int x, int w, enum theme_elem e, const char *s)
{
	int sw = ui_width(ui, s);
	if (sw <= w || w < 2) {
		ui_text(ui, y, x, w, e, s);
		return;
	}
	const char *ell = ui->utf8 ? "\xe2\x80\xa6" : "~";
	while (*s && ui_width(ui, s) > w - 1)
		s++;
	while (((unsigned char)*s & 0xc0) == 0x80)
		s++;
	int ew = ui_text(ui, y, x, 1, e, ell);
	ui_text(ui, y, x + ew, w - ew, e, s);
}

/* Line i of the page at screen row y. */
static void draw_line(struct ui *ui, struct memview *v, const struct memlayout *l, int i, int y)
{
	int mhead = 2 + v->nrows + 1; /* the mappings' column titles */
	if (i == 0) {
		draw_title(ui, y, v);
	} else if (i == 1) {
		char b[32];
		ui_fill(ui, y, 0, ui->cols, THEME_TABLE_HEADER);
		ui_text(ui, y, l->x_name, W_NAME, THEME_TABLE_HEADER, "METRIC");
		snprintf(b, sizeof b, "HISTORY (%u s/pt)", series_interval_s[v->iv]);
		ui_text(ui, y, l->x_spark, l->w_spark, THEME_TABLE_HEADER, b);
		ui_text_right(ui, y, l->x_now, W_VAL, THEME_TABLE_HEADER, "NOW");
		if (l->minmax) {
			ui_text_right(ui, y, l->x_min, W_VAL, THEME_TABLE_HEADER, "MIN");
			ui_text_right(ui, y, l->x_max, W_VAL, THEME_TABLE_HEADER, "MAX");
		}
		ui_text_right(ui, y, l->x_rate, W_RATE, THEME_TABLE_HEADER, "PER MIN");
	} else if (i < 2 + v->nrows) {
		draw_metric(ui, y, l, &v->rows[i - 2], v);
	} else if (i == mhead) {
		char b[96];
		ui_fill(ui, y, 0, ui->cols, THEME_TABLE_HEADER);
		ui_text_right(ui, y, 1, 10, THEME_TABLE_HEADER, "GROWTH");
		ui_text_right(ui, y, 12, 10, THEME_TABLE_HEADER, "RESIDENT");
		snprintf(b, sizeof b, "MAPPING (grown since attach: %zu)", v->ngrown);
		ui_text(ui, y, 24, ui->cols - 25, THEME_TABLE_HEADER, b);
	} else if (i > mhead) {
		size_t k = (size_t)(i - mhead - 1);
		if (k >= v->nmaps) {
			ui_text(ui, y, 2, ui->cols - 3, THEME_DIM,
				!v->maps_compared ? "(the first comparison comes 10 s after attach)"
						  : "(no mapping has grown since attach)");
			return;
		}
		const struct memory_growth *g = &v->maps[k];
		char b[32], name[200];
		snprintf(b, sizeof b, "+%s", util_fmt_bytes(name, sizeof name, (double)g->growth));
		ui_text_right(ui, y, 1, 10, THEME_NORMAL, b);
		ui_text_right(ui, y, 12, 10, THEME_DIM,
			      util_fmt_bytes(b, sizeof b, (double)g->map.rss));
		mapping_name(&g->map, name, sizeof name);
		text_tail(ui, y, 24, ui->cols - 25, THEME_NORMAL, name);
	}
}

static int memview_nlines(const struct memview *v)
{
	int nmaps = v->nmaps ? (int)v->nmaps : 1;
	return 2 + v->nrows + 1 + 1 + nmaps;
}

static void memview_draw(struct ui *ui, void *st)
{
	struct memview *v = st;
	if (!v->have_mon) {
		ui_text(ui, ui->body_y + 1, 2, ui->cols - 4, THEME_DIM,
			"No memory history: the monitor is not running.");
		return;
	}
	struct memlayout l;
	memview_layout(ui, &l);
	v->nlines = memview_nlines(v);
	int vis = ui->body_h;
	if (v->scroll > v->nlines - vis)
		v->scroll = v->nlines - vis;
	if (v->scroll < 0)
		v->scroll = 0;
	for (int r = 0; r < vis && v->scroll + r < v->nlines; r++)
		draw_line(ui, v, &l, v->scroll + r, ui->body_y + r);
	if (v->scroll + vis < v->nlines)
		ui_text_right(ui, ui->body_y + vis - 1, 0, ui->cols, THEME_DIM, " (more: Down) ");
}

/* ---- hooks ---- */

static void *memview_init(struct ui *ui)
{
	struct memview *v = xcalloc(1, sizeof *v);
	memview_load(ui, v);
	return v;
}

static void memview_done(void *st)
{
	free(st);
}

static void memview_refresh(struct ui *ui, void *st)
{
	memview_load(ui, st);
}

static int memview_key(struct ui *ui, void *st, int key)
{
	struct memview *v = st;
	int page = ui->body_h > 1 ? ui->body_h - 1 : 1;
	switch (key) {
	case '[':
	case ']': {
		int iv = (int)v->iv + (key == ']' ? 1 : -1);
		if (iv < 0 || iv >= SERIES_NINTERVALS) {
			ui_status(ui, UI_STATUS_INFO, "the interval is already the %s (%u s a point)",
				  iv < 0 ? "finest" : "coarsest", series_interval_s[v->iv]);
			return VIEW_REDRAW;
		}
		v->iv = (enum series_interval)iv;
		memview_load(ui, v);
		ui_status(ui, UI_STATUS_INFO, "history: one point every %u s, %d points kept",
			  series_interval_s[v->iv], SERIES_POINTS);
		return VIEW_REDRAW;
	}
	default:
		break;
	}
	/* The page scrolls as a whole (the draw keeps it within the page). */
	size_t pos = v->scroll > 0 ? (size_t)v->scroll : 0;
	if (!ui_list_key(key, page, (size_t)(v->nlines > 0 ? v->nlines : 0) + 1, &pos))
		return VIEW_IGNORED;
	v->scroll = (int)pos;
	return VIEW_REDRAW;
}

static const struct ui_keyhelp memview_help[] = {
	{ "[ ]", "history interval: one point every 1 s, 10 s or 60 s (60 points each)" },
	{ "Up Down PgUp PgDn", "scroll (k j too)" },
	{ "Home End", "top, bottom of the page" },
	{ NULL, NULL },
};

static const struct ui_barkey memview_bar[] = {
	{ "[]", "Interval", ']' },
	{ NULL, NULL, 0 },
};

const struct view_ops view_memory = {
	.name = "memory",
	.help = memview_help,
	.bar = memview_bar,
	.init = memview_init,
	.done = memview_done,
	.draw = memview_draw,
	.key = memview_key,
	.refresh = memview_refresh,
};
