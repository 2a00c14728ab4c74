/* ui: the interactive shell — terminal, header, key dispatch, prompt, pickers (see ui.h). */
#include "ui.h"

#include <errno.h>
#include <langinfo.h>
#include <limits.h>
#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <term.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include "cli.h"
#include "snapshot.h"
#include "util.h"

/* The views keys 1..4 select, in this order. */
static const struct view_ops *const ui_views[] = {
	&view_top,
	&view_flame,
	&view_threads,
	&view_memory,
};
#define UI_NVIEWS ((int)(sizeof ui_views / sizeof ui_views[0]))

const struct ui_keyhelp ui_global_keys[] = {
	{ "1 2 3 4", "show view 1 top functions, 2 flame graph, 3 threads, 4 memory" },
	{ "Tab BTab", "next / previous view" },
	{ "Space", "pause the display (sampling goes on); again to resume" },
	{ "w", "window: live (the last --window seconds) or since start" },
	{ "r", "reset the counts" },
	{ "+ -", "raise / lower the sampling rate" },
	{ "/", "filter: only stacks with a function whose name contains a text (empty: all)" },
	{ "t", "limit to one thread, picked from a list or typed as a tid; again: all threads" },
	{ "s", "snapshot: write the profile of the window (pprof) and everything else known "
	       "(JSON) to --snapshot-dir; the status line names both files" },
	{ "? F1", "this help" },
	{ "Ctrl-L", "redraw the screen" },
	{ "Ctrl-Z", "suspend (detaches; fg attaches again)" },
	{ "q F10", "quit (the target runs on, untraced)" },
	{ NULL, NULL },
};

/* The global entries of the key bar; "?" comes first and "q" last, always. */
static const struct ui_barkey bar_first = { "?", "Help", '?' };
static const struct ui_barkey bar_globals[] = {
	{ "Spc", "Pause", ' ' },
	{ "w", "Window", 'w' },
	{ "/", "Filter", '/' },
	{ "t", "Thread", 't' },
	{ "s", "Snap", 's' },
	{ "+-", "Rate", '+' },
	{ "r", "Reset", 'r' },
	{ "Tab", "View", '\t' },
};
static const struct ui_barkey bar_last = { "q", "Quit", 'q' };

/* Sampling rates that + and - step through. */
static const int rate_steps[] = { 1, 5, 10, 25, 49, 99, 199, 499, 999, 1999, 4999 };

#define STATUS_INFO_NS 4000000000ull
#define STATUS_ERROR_NS 10000000000ull

struct view_slot {
	const struct view_ops *ops;
	void *st;
	bool inited;
	uint64_t gen;  /* tree_gen the view last saw */
};

struct hit {
	int x0, x1, code;
};

struct picker {
	bool active;
	char title[96];
	char **items;
	int n;
	int *vis;       /* indices of items matching typed */
	int nvis;
	int sel;        /* index into vis */
	int top;        /* first vis shown */
	char typed[64];
	ui_picker_fn fn;
	void *arg;
	int y, x, h, w; /* where it was drawn, for clicks */
};

struct ui_priv {
	struct view_slot views[UI_NVIEWS];
	struct view_slot help;
	int current;          /* index into views, -1: help */
	int previous;
	bool dirty, rebuild_now, quit;
	bool no_color;
	bool curses_on;

	bool prompting;
	char prompt[128];

	struct picker picker;
	pid_t *pick_tids;

	char status[256];
	enum ui_status_kind status_kind;
	uint64_t status_until;
	char banner[256];
	bool banner_deadlock;   /* the banner is the monitor's deadlock alert */
	uint64_t mon_updates;   /* app->mon->updates at the last look */

	uint64_t next_rebuild, next_stats;
	uint64_t cpu_mark_ns, cpu_mark_ticks;
	long clk_tck;

	struct hit bar_hits[16];
	int nbar_hits;
	struct hit tab_hits[UI_NVIEWS];
	int ntab_hits;
};

int ui_nviews(void)
{
	return UI_NVIEWS;
}

const struct view_ops *ui_view_at(int i)
{
	return i >= 0 && i < UI_NVIEWS ? ui_views[i] : NULL;
}

void ui_dirty(struct ui *ui)
{
	ui->priv->dirty = true;
}

/* ---- text helpers ---- */

/* Decode one character of s (at most n bytes): its byte length (>= 1) and display width; bad
 * or non-printable characters count as one column shown as '?'. */
static int char_at(const struct ui *ui, const char *s, size_t n, int *width, bool *bad)
{
	unsigned char c = (unsigned char)*s;
	*bad = false;
	if (c < 0x80 || !ui->utf8) {
		*width = 1;
		*bad = c < 0x20 || c >= 0x7f;
		return 1;
	}
	mbstate_t mb;
	memset(&mb, 0, sizeof mb);
	wchar_t wc;
	size_t len = mbrtowc(&wc, s, n, &mb);
	if (len == (size_t)-1 || len == (size_t)-2 || len == 0) {
		*width = 1;
		*bad = true;
		return 1;
	}
	int w = wcwidth(wc);
	if (w < 0) {
		*width = 1;
		*bad = true;
	} else {
		*width = w;
	}
	return (int)len;
}

int ui_width(const struct ui *ui, const char *s)
{
	int cols = 0;
	size_t n = strlen(s);
	while (n) {
		int w;
		bool bad;
		int len = char_at(ui, s, n, &w, &bad);
		cols += w;
		s += len;
		n -= (size_t)len;
	}
	return cols;
}

int ui_text(struct ui *ui, int y, int x, int w, enum theme_elem e, const char *s)
{
	if (y < 0 || y >= LINES || x >= COLS || w <= 0)
		return 0;
	if (x < 0) {
		w += x;
		x = 0;
	}
	if (w > COLS - x)
		w = COLS - x;
	if (w <= 0)
		return 0;
	bool fits = ui_width(ui, s) <= w;
	int room = fits ? w : w - 1; /* one column for the ellipsis */
	char buf[1024];
	size_t blen = 0;
	int cols = 0;
	size_t n = strlen(s);
	while (n && blen + 8 < sizeof buf) {
		int cw;
		bool bad;
		int len = char_at(ui, s, n, &cw, &bad);
		if (cols + cw > room)
			break;
		if (bad) {
			buf[blen++] = '?';
		} else {
			memcpy(buf + blen, s, (size_t)len);
			blen += (size_t)len;
		}
		cols += cw;
		s += len;
		n -= (size_t)len;
	}
	if (!fits) {
		const char *ell = ui->utf8 ? "\xe2\x80\xa6" : "~";
		memcpy(buf + blen, ell, strlen(ell));
		blen += strlen(ell);
		cols++;
	}
	attrset(ui->attr[e]);
	mvaddnstr(y, x, buf, (int)blen);
	return cols;
}

bool ui_list_key(int key, long page, size_t n, size_t *pos)
{
	long d;
	switch (key) {
	case KEY_UP:
	case 'k':
		d = -1;
		break;
	case KEY_DOWN:
	case 'j':
		d = 1;
		break;
	case UI_KEY_WHEEL_UP:
		d = -3;
		break;
	case UI_KEY_WHEEL_DOWN:
		d = 3;
		break;
	case KEY_PPAGE:
		d = -page;
		break;
	case KEY_NPAGE:
		d = page;
		break;
	case KEY_HOME:
		d = LONG_MIN;
		break;
	case KEY_END:
		d = LONG_MAX;
		break;
	default:
		return false;
	}
	if (!n) {
		*pos = 0;
		return true;
	}
	long last = (long)(n - 1), c;
	if (d == LONG_MIN)
		c = 0;
	else if (d == LONG_MAX)
		c = last;
	else
		c = (*pos > (size_t)last ? last + 1 : (long)*pos) + d; /* past the end: one beyond */
	*pos = c < 0 ? 0 : c > last ? (size_t)last : (size_t)c;
	return true;
}

void ui_scroll_fit(size_t cursor, size_t n, int vis, size_t *scroll)
{
	if (cursor < *scroll)
		*scroll = cursor;
	if (vis > 0 && cursor >= *scroll + (size_t)vis)
		*scroll = cursor - (size_t)vis + 1;
	if (*scroll + (size_t)vis > n)
		*scroll = n > (size_t)vis ? n - (size_t)vis : 0;
}

int ui_text_right(struct ui *ui, int y, int x, int w, enum theme_elem e, const char *s)
{
	int sw = ui_width(ui, s);
	if (sw > w)
		sw = w;
	return ui_text(ui, y, x + w - sw, sw, e, s);
}

int ui_printf(struct ui *ui, int y, int x, int w, enum theme_elem e, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	return ui_text(ui, y, x, w, e, buf);
}

void ui_fill(struct ui *ui, int y, int x, int w, enum theme_elem e)
{
	static const char blanks[] = "                                                                ";
	if (y < 0 || y >= LINES || x >= COLS)
		return;
	if (x < 0) {
		w += x;
		x = 0;
	}
	if (w > COLS - x)
		w = COLS - x;
	attrset(ui->attr[e]);
	move(y, x);
	while (w > 0) {
		int k = w < (int)sizeof blanks - 1 ? w : (int)sizeof blanks - 1;
		addnstr(blanks, k);
		w -= k;
	}
}

void ui_bar(struct ui *ui, int y, int x, int w, double frac, enum theme_elem e)
{
	static const char *const eighths[] = {
		"", "\xe2\x96\x8f", "\xe2\x96\x8e", "\xe2\x96\x8d", "\xe2\x96\x8c",
		"\xe2\x96\x8b", "\xe2\x96\x8a", "\xe2\x96\x89",
	};
	if (w <= 0 || y < 0 || y >= LINES)
		return;
	if (frac < 0)
		frac = 0;
	if (frac > 1)
		frac = 1;
	char buf[1024];
	size_t blen = 0;
	int cols = 0;
	if (ui->utf8) {
		int cells = (int)(frac * w * 8 + 0.5);
		for (; cells >= 8 && cols < w && blen + 4 < sizeof buf; cells -= 8, cols++) {
			memcpy(buf + blen, "\xe2\x96\x88", 3);
			blen += 3;
		}
		if (cells > 0 && cols < w) {
			memcpy(buf + blen, eighths[cells], 3);
			blen += 3;
			cols++;
		}
	} else {
		int full = (int)(frac * w + 0.5);
		for (; cols < full && blen + 1 < sizeof buf; cols++)
			buf[blen++] = '#';
	}
	ui_fill(ui, y, x, w, e);
	attrset(ui->attr[e]);
	mvaddnstr(y, x, buf, (int)blen);
}

void ui_box(struct ui *ui, int y, int x, int h, int w)
{
	if (h < 2 || w < 2)
		return;
	const char *hz = ui->utf8 ? "\xe2\x94\x80" : "-";
	const char *vt = ui->utf8 ? "\xe2\x94\x82" : "|";
	const char *c[4] = { "+", "+", "+", "+" };
	if (ui->utf8) {
		c[0] = "\xe2\x94\x8c";
		c[1] = "\xe2\x94\x90";
		c[2] = "\xe2\x94\x94";
		c[3] = "\xe2\x94\x98";
	}
	attrset(ui->attr[THEME_BORDER]);
	for (int i = 1; i < w - 1; i++) {
		mvaddstr(y, x + i, hz);
		mvaddstr(y + h - 1, x + i, hz);
	}
	for (int i = 1; i < h - 1; i++) {
		mvaddstr(y + i, x, vt);
		mvaddstr(y + i, x + w - 1, vt);
	}
	mvaddstr(y, x, c[0]);
	mvaddstr(y, x + w - 1, c[1]);
	mvaddstr(y + h - 1, x, c[2]);
	mvaddstr(y + h - 1, x + w - 1, c[3]);
}

const char *ui_pct(char *buf, size_t n, uint64_t part, uint64_t whole)
{
	double v = whole ? 100.0 * (double)part / (double)whole : 0;
	snprintf(buf, n, "%5.1f", v);
	return buf;
}

const char *ui_count(char *buf, size_t n, uint64_t v)
{
	if (v < 10000000ull)
		snprintf(buf, n, "%llu", (unsigned long long)v);
	else if (v < 10000000000ull)
		snprintf(buf, n, "%.1fM", (double)v / 1e6);
	else
		snprintf(buf, n, "%.1fG", (double)v / 1e9);
	return buf;
}

const char *ui_func_name(struct ui *ui, uint32_t func)
{
	const struct sym_func *f = func == CALLTREE_ROOT ? NULL : symbols_func(ui->sym, func);
	return f ? f->name : func == CALLTREE_ROOT ? "all" : "?";
}

const char *ui_func_where(struct ui *ui, uint32_t func, char *buf, size_t n)
{
	buf[0] = '\0';
	const struct sym_func *f = func == CALLTREE_ROOT ? NULL : symbols_func(ui->sym, func);
	if (!f)
		return buf;
	if (f->file && f->file[0]) {
		const char *base = strrchr(f->file, '/');
		base = base ? base + 1 : f->file;
		if (f->start_line > 0)
			snprintf(buf, n, "%s:%d", base, f->start_line);
		else
			snprintf(buf, n, "%s", base);
		return buf;
	}
	const struct sym_module *m = symbols_module(ui->sym, f->module);
	if (m)
		snprintf(buf, n, "%s", m->name);
	return buf;
}

/* ---- status, banner, picker ---- */

void ui_status(struct ui *ui, enum ui_status_kind kind, const char *fmt, ...)
{
	struct ui_priv *p = ui->priv;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->status, sizeof p->status, fmt, ap);
	va_end(ap);
	p->status_kind = kind;
	p->status_until = util_now_ns() + (kind == UI_STATUS_ERROR ? STATUS_ERROR_NS : STATUS_INFO_NS);
	p->dirty = true;
}

static void layout(struct ui *ui);

void ui_banner(struct ui *ui, const char *text)
{
	struct ui_priv *p = ui->priv;
	bool had = p->banner[0] != '\0';
	snprintf(p->banner, sizeof p->banner, "%s", text ? text : "");
	if (had != (p->banner[0] != '\0'))
		layout(ui);
	p->dirty = true;
}

static void picker_close(struct picker *pk)
{
	for (int i = 0; i < pk->n; i++)
		free(pk->items[i]);
	free(pk->items);
	free(pk->vis);
	memset(pk, 0, sizeof *pk);
}

/* The items that contain the typed text. */
static void picker_filter(struct picker *pk)
{
	pk->nvis = 0;
	for (int i = 0; i < pk->n; i++)
		if (!pk->typed[0] || strstr(pk->items[i], pk->typed))
			pk->vis[pk->nvis++] = i;
	if (pk->sel >= pk->nvis)
		pk->sel = pk->nvis ? pk->nvis - 1 : 0;
	if (pk->sel < 0)
		pk->sel = 0;
	pk->top = 0;
}

void ui_picker(struct ui *ui, const char *title, const char *const *items, int n, int selected,
	       ui_picker_fn chosen, void *arg)
{
	struct picker *pk = &ui->priv->picker;
	picker_close(pk);
	pk->active = true;
	snprintf(pk->title, sizeof pk->title, "%s", title);
	pk->items = xcalloc((size_t)n + 1, sizeof *pk->items);
	pk->vis = xcalloc((size_t)n + 1, sizeof *pk->vis);
	for (int i = 0; i < n; i++)
		pk->items[i] = xstrdup(items[i]);
	pk->n = n;
	pk->fn = chosen;
	pk->arg = arg;
	picker_filter(pk);
	pk->sel = selected >= 0 && selected < pk->nvis ? selected : 0;
	ui->priv->dirty = true;
}

static void picker_choose(struct ui *ui)
{
	struct picker *pk = &ui->priv->picker;
	ui_picker_fn fn = pk->fn;
	void *arg = pk->arg;
	int index = pk->nvis ? pk->vis[pk->sel] : -1;
	char typed[sizeof pk->typed];
	snprintf(typed, sizeof typed, "%s", pk->typed);
	picker_close(pk);
	if (fn && (index >= 0 || typed[0]))
		fn(ui, arg, index, typed);
	ui->priv->dirty = true;
}

/* A key while a picker is open: move, type to narrow, Enter chooses, Esc cancels. */
static void picker_key(struct ui *ui, int key)
{
	struct picker *pk = &ui->priv->picker;
	int page = pk->h > 4 ? pk->h - 4 : 1;
	switch (key) {
	case 27:
		picker_close(pk);
		break;
	case '\n':
	case '\r':
	case KEY_ENTER:
		picker_choose(ui);
		return;
	case KEY_UP:
	case UI_KEY_WHEEL_UP:
		pk->sel--;
		break;
	case KEY_DOWN:
	case UI_KEY_WHEEL_DOWN:
		pk->sel++;
		break;
	case KEY_PPAGE:
		pk->sel -= page;
		break;
	case KEY_NPAGE:
		pk->sel += page;
		break;
	case KEY_HOME:
		pk->sel = 0;
		break;
	case KEY_END:
		pk->sel = pk->nvis - 1;
		break;
	case KEY_BACKSPACE:
	case 127:
	case 8: {
		size_t l = strlen(pk->typed);
		if (l)
			pk->typed[l - 1] = '\0';
		picker_filter(pk);
		break;
	}
	default:
		if (key >= 32 && key < 127 && strlen(pk->typed) + 1 < sizeof pk->typed) {
			size_t l = strlen(pk->typed);
			pk->typed[l] = (char)key;
			pk->typed[l + 1] = '\0';
			picker_filter(pk);
		}
	}
	if (pk->sel >= pk->nvis)
		pk->sel = pk->nvis - 1;
	if (pk->sel < 0)
		pk->sel = 0;
	ui->priv->dirty = true;
}

/* The picker as a box over the middle of the body. */
static void picker_draw(struct ui *ui)
{
	struct picker *pk = &ui->priv->picker;
	int w = ui_width(ui, pk->title) + 6;
	for (int i = 0; i < pk->n; i++) {
		int iw = ui_width(ui, pk->items[i]) + 4;
		if (iw > w)
			w = iw;
	}
	if (w < 36)
		w = 36;
	if (w > ui->cols - 4)
		w = ui->cols - 4;
	int h = pk->nvis + 4;
	if (h < 6)
		h = 6;
	if (h > ui->body_h)
		h = ui->body_h;
	int y = ui->body_y + (ui->body_h - h) / 2, x = (ui->cols - w) / 2;
	pk->y = y;
	pk->x = x;
	pk->h = h;
	pk->w = w;
	for (int i = 0; i < h; i++)
		ui_fill(ui, y + i, x, w, THEME_NORMAL);
	ui_box(ui, y, x, h, w);
	ui_printf(ui, y, x + 2, w - 4, THEME_TITLE, " %s ", pk->title);
	int rows = h - 4;
	if (pk->sel < pk->top)
		pk->top = pk->sel;
	if (pk->sel >= pk->top + rows)
		pk->top = pk->sel - rows + 1;
	for (int r = 0; r < rows && pk->top + r < pk->nvis; r++) {
		int i = pk->top + r;
		enum theme_elem e = i == pk->sel ? THEME_CURSOR : THEME_NORMAL;
		ui_fill(ui, y + 1 + r, x + 1, w - 2, e);
		ui_text(ui, y + 1 + r, x + 2, w - 4, e, pk->items[pk->vis[i]]);
	}
	if (!pk->nvis)
		ui_text(ui, y + 1, x + 2, w - 4, THEME_DIM, "(nothing matches; Enter takes the text)");
	ui_printf(ui, y + h - 2, x + 2, w - 4, THEME_PROMPT, "> %s_", pk->typed);
	ui_text_right(ui, y + h - 1, x + 2, w - 4, THEME_BORDER, " Enter choose  Esc cancel ");
}

/* ---- model ---- */

void ui_rebuild(struct ui *ui)
{
	struct calltree_filter f = ui->filter;
	f.match = ui->match[0] ? ui->match : NULL;
	struct calltree *t = calltree_build(ui->prof, &f);
	calltree_free(ui->tree);
	ui->tree = t;
	ui->tree_gen++;
	ui->denom = profile_total(ui->prof, f.window);
	if (f.tid > 0) {
		ui->denom = 0;
		size_t n = profile_nthreads(ui->prof);
		for (size_t i = 0; i < n; i++) {
			const struct profile_thread *th = profile_thread_at(ui->prof, i);
			if (th->tid == f.tid)
				ui->denom = th->count[f.window];
		}
	}
	if (ui->denom < t->total)
		ui->denom = t->total;
	struct ui_priv *p = ui->priv;
	struct view_slot *s = p->current >= 0 ? &p->views[p->current] : &p->help;
	if (s->inited && s->ops->refresh) {
		(s->ops->refresh)(ui, s->st); /* parenthesized: curses has a refresh() macro */
		s->gen = ui->tree_gen;
	}
	p->dirty = true;
}

/* Bring a view up to date with the tree before it is drawn. */
static struct view_slot *slot_ready(struct ui *ui, struct view_slot *s)
{
	if (!s->inited) {
		s->st = s->ops->init ? s->ops->init(ui) : NULL;
		s->inited = true;
		s->gen = 0;
	}
	if (s->gen != ui->tree_gen && ui->tree) {
		if (s->ops->refresh)
			(s->ops->refresh)(ui, s->st); /* parenthesized: curses has a refresh() macro */
		s->gen = ui->tree_gen;
	}
	return s;
}

static struct view_slot *current_slot(struct ui *ui)
{
	struct ui_priv *p = ui->priv;
	return slot_ready(ui, p->current >= 0 ? &p->views[p->current] : &p->help);
}

void ui_show_view(struct ui *ui, int i)
{
	struct ui_priv *p = ui->priv;
	if (i >= UI_NVIEWS)
		return;
	if (i < 0 && p->current >= 0)
		p->previous = p->current;
	p->current = i < 0 ? -1 : i;
	current_slot(ui);
	p->dirty = true;
}

/* ---- layout and drawing ---- */

/* Screen size to rows, cols and the body; tell the views. */
static void layout(struct ui *ui)
{
	ui->rows = LINES;
	ui->cols = COLS;
	ui->too_small = ui->rows < UI_MIN_ROWS || ui->cols < UI_MIN_COLS;
	ui->body_y = 2 + (ui->priv->banner[0] ? 1 : 0);
	ui->body_h = ui->rows - ui->body_y - 2;
	if (ui->body_h < 0)
		ui->body_h = 0;
	struct ui_priv *p = ui->priv;
	for (int i = 0; i < UI_NVIEWS; i++)
		if (p->views[i].inited && p->views[i].ops->resize)
			p->views[i].ops->resize(ui, p->views[i].st);
	if (p->help.inited && p->help.ops->resize)
		p->help.ops->resize(ui, p->help.st);
	p->dirty = true;
}

struct header_item {
	const char *label;
	char value[80];
	int prio;       /* lower numbers stay longer when the line is too narrow */
};

/* The header: target, sampler and window facts, as many as fit (least important dropped
 * first), and the PAUSED/EXITED mark at the right end. */
static void draw_header(struct ui *ui)
{
	struct app *a = ui->app;
	char b2[32];
	struct header_item it[7];
	int n = 0;
	it[n] = (struct header_item){ .label = "pid", .prio = 0 };
	snprintf(it[n++].value, sizeof it[0].value, "%d %s", (int)a->pid, a->comm);
	it[n] = (struct header_item){ .label = "", .prio = 3 };
	snprintf(it[n++].value, sizeof it[0].value, "%s %d Hz", a->mode_name ? a->mode_name : "?",
		 a->rate_hz);
	it[n] = (struct header_item){ .label = "smp/s", .prio = 6 };
	snprintf(it[n++].value, sizeof it[0].value, "%.0f", a->sample_rate);
	it[n] = (struct header_item){ .label = "CPU", .prio = 4 };
	snprintf(it[n++].value, sizeof it[0].value, "%.0f%%", ui->proc_cpu);
	it[n] = (struct header_item){ .label = "thr", .prio = 5 };
	snprintf(it[n++].value, sizeof it[0].value, "%d", a->sampler ? a->sampler->ntids : 0);
	it[n] = (struct header_item){ .label = "", .prio = 1 };
	if (ui->filter.window == PROFILE_LIVE)
		snprintf(it[n++].value, sizeof it[0].value, "live %.0fs",
			 (double)profile_window_ns(ui->prof) / 1e9);
	else
		snprintf(it[n++].value, sizeof it[0].value, "since start");
	it[n] = (struct header_item){ .label = "samples", .prio = 2 };
	snprintf(it[n++].value, sizeof it[0].value, "%s",
		 ui_count(b2, sizeof b2, ui->tree ? ui->tree->total : 0));

	const char *mark = ui->paused ? "PAUSED" : a->target_gone ? "EXITED" : "";
	int limit = ui->cols - (mark[0] ? 8 : 0) - 1;
	int width[7], total = 0;
	bool keep[7];
	for (int i = 0; i < n; i++) {
		width[i] = (it[i].label[0] ? ui_width(ui, it[i].label) + 1 : 0) +
			   ui_width(ui, it[i].value) + 2;
		keep[i] = true;
		total += width[i];
	}
	for (int prio = 6; prio > 0 && total > limit; prio--)
		for (int i = 0; i < n; i++)
			if (keep[i] && it[i].prio == prio) {
				keep[i] = false;
				total -= width[i];
			}
	ui_fill(ui, 0, 0, ui->cols, THEME_HEADER);
	int x = 1;
	for (int i = 0; i < n; i++) {
		if (!keep[i])
			continue;
		if (it[i].label[0]) {
			x += ui_text(ui, 0, x, limit - x, THEME_HEADER, it[i].label);
			x++;
		}
		x += ui_text(ui, 0, x, limit - x, THEME_HEADER_VALUE, it[i].value);
		x += 2;
	}
	if (mark[0])
		ui_printf(ui, 0, ui->cols - 8, 8, THEME_PAUSED, " %-6s ", mark);
}

/* Line 2: the views (clickable) and, right-aligned, the filters in force. */
static void draw_tabs(struct ui *ui)
{
	struct ui_priv *p = ui->priv;
	ui_fill(ui, 1, 0, ui->cols, THEME_TAB);
	int x = 0;
	p->ntab_hits = 0;
	for (int i = 0; i < UI_NVIEWS; i++) {
		char buf[48];
		snprintf(buf, sizeof buf, " %d %s ", i + 1, ui_views[i]->name);
		int w = ui_width(ui, buf);
		if (x + w > ui->cols)
			break;
		ui_text(ui, 1, x, w, i == p->current ? THEME_TAB_ACTIVE : THEME_TAB, buf);
		p->tab_hits[p->ntab_hits++] = (struct hit){ x, x + w, i };
		x += w + 1;
	}
	if (p->current < 0 && x + 8 <= ui->cols) {
		ui_text(ui, 1, x, 8, THEME_TAB_ACTIVE, " ? help ");
		x += 9;
	}
	/* Filters, right-aligned. */
	char buf[256];
	size_t len = 0;
	buf[0] = '\0';
	if (ui->match[0])
		len += (size_t)snprintf(buf + len, sizeof buf - len, "filter: %s  ", ui->match);
	if (ui->filter.tid > 0 && len < sizeof buf)
		snprintf(buf + len, sizeof buf - len, "thread: %d %s  ", (int)ui->filter.tid,
			 profile_thread_name(ui->prof, ui->filter.tid));
	if (buf[0] && x < ui->cols)
		ui_text_right(ui, 1, x, ui->cols - x, THEME_HEADER_VALUE, buf);
}

/* The next-to-last line: the filter prompt, a message, or what happened to the target. */
static void draw_status(struct ui *ui)
{
	struct ui_priv *p = ui->priv;
	int y = ui->rows - 2;
	ui_fill(ui, y, 0, ui->cols, THEME_STATUS);
	if (p->prompting) {
		int x = ui_text(ui, y, 0, ui->cols, THEME_PROMPT, "Filter (Enter apply, Esc cancel): ");
		int w = ui_text(ui, y, x, ui->cols - x - 1, THEME_NORMAL, p->prompt);
		ui_text(ui, y, x + w, 1, THEME_CURSOR, " ");
		return;
	}
	if (p->status[0]) {
		ui_text(ui, y, 0, ui->cols,
			p->status_kind == UI_STATUS_ERROR ? THEME_STATUS_ERROR : THEME_STATUS,
			p->status);
		return;
	}
	if (ui->app->target_gone)
		ui_text(ui, y, 0, ui->cols, THEME_STATUS,
			"the target exited; what was sampled stays on screen (q quits)");
}

static int bar_width(struct ui *ui, const struct ui_barkey *k)
{
	return ui_width(ui, k->key) + ui_width(ui, k->label) + 1;
}

static int bar_item(struct ui *ui, int x, const struct ui_barkey *k)
{
	struct ui_priv *p = ui->priv;
	int x0 = x;
	x += ui_text(ui, ui->rows - 1, x, ui->cols - x, THEME_KEY, k->key);
	x += ui_text(ui, ui->rows - 1, x, ui->cols - x, THEME_KEY_LABEL, k->label);
	if (p->nbar_hits < (int)UTIL_ARRAY_LEN(p->bar_hits))
		p->bar_hits[p->nbar_hits++] = (struct hit){ x0, x, k->code };
	return x + 1;
}

/* The last line, htop-style: ?Help, the view's keys, the global ones as room allows, qQuit. */
static void draw_keybar(struct ui *ui, const struct view_ops *ops)
{
	struct ui_priv *p = ui->priv;
	const struct ui_barkey *items[32];
	int n = 0;
	items[n++] = &bar_first;
	if (ops->bar)
		for (const struct ui_barkey *k = ops->bar; k->key && n < 20; k++)
			items[n++] = k;
	for (size_t i = 0; i < UTIL_ARRAY_LEN(bar_globals); i++)
		items[n++] = &bar_globals[i];
	int total = bar_width(ui, &bar_last);
	int keep = 0;
	for (; keep < n; keep++) {
		int w = bar_width(ui, items[keep]);
		if (total + w > ui->cols)
			break;
		total += w;
	}
	ui_fill(ui, ui->rows - 1, 0, ui->cols, THEME_NORMAL);
	p->nbar_hits = 0;
	int x = 0;
	for (int i = 0; i < keep; i++)
		x = bar_item(ui, x, items[i]);
	bar_item(ui, x, &bar_last);
}

static void draw_too_small(struct ui *ui)
{
	char msg[64];
	snprintf(msg, sizeof msg, "terminal too small (need %dx%d)", UI_MIN_COLS, UI_MIN_ROWS);
	int w = (int)strlen(msg);
	int y = ui->rows / 2, x = (ui->cols - w) / 2;
	if (x < 0)
		x = 0;
	ui_text(ui, y, x, ui->cols - x, THEME_NORMAL, msg);
	char now[32];
	snprintf(now, sizeof now, "now %dx%d", ui->cols, ui->rows);
	w = (int)strlen(now);
	if (y + 1 < ui->rows)
		ui_text(ui, y + 1, (ui->cols - w) / 2 > 0 ? (ui->cols - w) / 2 : 0, ui->cols,
			THEME_DIM, now);
}

void ui_draw(struct ui *ui)
{
	struct ui_priv *p = ui->priv;
	if (LINES != ui->rows || COLS != ui->cols)
		layout(ui);
	attrset(ui->attr[THEME_NORMAL]);
	erase();
	if (ui->too_small) {
		draw_too_small(ui);
	} else {
		struct view_slot *s = current_slot(ui);
		draw_header(ui);
		draw_tabs(ui);
		if (p->banner[0]) {
			ui_fill(ui, 2, 0, ui->cols, THEME_BANNER);
			ui_text(ui, 2, 1, ui->cols - 2, THEME_BANNER, p->banner);
		}
		s->ops->draw(ui, s->st);
		if (p->picker.active)
			picker_draw(ui);
		draw_status(ui);
		draw_keybar(ui, s->ops);
	}
	attrset(ui->attr[THEME_NORMAL]);
	refresh();
	p->dirty = false;
}

/* ---- keys ---- */

/* + and -: the next sampling rate of rate_steps up or down. */
static void set_rate_step(struct ui *ui, int dir)
{
	struct app *a = ui->app;
	int cur = a->rate_hz, next = cur;
	int n = (int)UTIL_ARRAY_LEN(rate_steps);
	if (dir > 0) {
		for (int i = 0; i < n; i++)
			if (rate_steps[i] > cur) {
				next = rate_steps[i];
				break;
			}
	} else {
		for (int i = n - 1; i >= 0; i--)
			if (rate_steps[i] < cur) {
				next = rate_steps[i];
				break;
			}
	}
	if (next == cur) {
		ui_status(ui, UI_STATUS_INFO, "the rate is already at its %s (%d Hz)",
			  dir > 0 ? "maximum" : "minimum", cur);
		return;
	}
	app_set_rate(a, next);
	if (a->rate_hz == next)
		ui_status(ui, UI_STATUS_INFO, "sampling at %d Hz", a->rate_hz);
	else
		ui_status(ui, UI_STATUS_ERROR, "could not change the rate to %d Hz (still %d Hz)",
			  next, a->rate_hz);
}

static void thread_chosen(struct ui *ui, void *arg, int index, const char *typed)
{
	(void)arg;
	struct ui_priv *p = ui->priv;
	pid_t tid;
	if (index >= 0) {
		tid = p->pick_tids[index];
	} else {
		long v = util_parse_long(typed);
		if (v <= 0 || v > INT_MAX) {
			ui_status(ui, UI_STATUS_ERROR, "not a thread id: %s", typed);
			return;
		}
		tid = (pid_t)v;
	}
	ui->filter.tid = tid;
	p->rebuild_now = true;
	ui_status(ui, UI_STATUS_INFO, "showing thread %d (%s); t again shows all threads",
		  (int)tid, profile_thread_name(ui->prof, tid));
}

struct pick_thread {
	pid_t tid;
	uint64_t count;
	char name[32];
};

static int cmp_pick(const void *a, const void *b)
{
	const struct pick_thread *x = a, *y = b;
	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return (x->tid > y->tid) - (x->tid < y->tid);
}

/* t: clear the thread filter, or pick a thread: those with samples in the window and the
 * live ones the sampler sees, busiest first. */
static void thread_pick(struct ui *ui)
{
	struct ui_priv *p = ui->priv;
	if (ui->filter.tid > 0) {
		ui->filter.tid = 0;
		p->rebuild_now = true;
		ui_status(ui, UI_STATUS_INFO, "all threads");
		return;
	}
	enum profile_window w = ui->filter.window;
	size_t n = profile_nthreads(ui->prof), k = 0;
	const struct sampler *smp = ui->app->sampler;
	size_t ns = smp ? (size_t)smp->ntids : 0;
	struct pick_thread *pt = xcalloc(n + ns + 1, sizeof *pt);
	for (size_t i = 0; i < n; i++) {
		const struct profile_thread *t = profile_thread_at(ui->prof, i);
		if (!t->count[w] && t->exited)
			continue;
		pt[k].tid = t->tid;
		pt[k].count = t->count[w];
		snprintf(pt[k].name, sizeof pt[k].name, "%s", t->name);
		k++;
	}
	for (size_t i = 0; i < ns; i++) {
		bool known = false;
		for (size_t j = 0; j < n && !known; j++)
			known = profile_thread_at(ui->prof, j)->tid == smp->tids[i];
		if (known)
			continue;
		pt[k].tid = smp->tids[i];
		util_proc_comm(ui->app->pid, smp->tids[i], pt[k].name, sizeof pt[k].name);
		k++;
	}
	qsort(pt, k, sizeof *pt, cmp_pick);
	if (k > 2000)
		k = 2000;
	uint64_t total = profile_total(ui->prof, w);
	char **items = xcalloc(k + 1, sizeof *items);
	free(p->pick_tids);
	p->pick_tids = xcalloc(k + 1, sizeof *p->pick_tids);
	for (size_t i = 0; i < k; i++) {
		char pct[16];
		items[i] = xasprintf("%7d  %-16s %8llu samples %s%%", (int)pt[i].tid, pt[i].name,
				     (unsigned long long)pt[i].count,
				     ui_pct(pct, sizeof pct, pt[i].count, total));
		p->pick_tids[i] = pt[i].tid;
	}
	ui_picker(ui, "Limit to one thread (type to search, or a tid)", (const char *const *)items,
		  (int)k, 0, thread_chosen, NULL);
	for (size_t i = 0; i < k; i++)
		free(items[i]);
	free(items);
	free(pt);
}

/* s: a snapshot of the window shown (pprof + JSON) into --snapshot-dir; both paths, or the
 * one-line cause of a failure, on the status line. */
static void take_snapshot(struct ui *ui)
{
	struct snapshot_paths sp;
	char *cause = NULL;
	if (snapshot_write(ui->app, ui->filter.window, ui->app->opt.snapshot_dir, "key s", &sp,
			   &cause) < 0) {
		util_log("snapshot failed: %s", cause ? cause : "?");
		char msg[sizeof ui->priv->status];
		snprintf(msg, sizeof msg, "snapshot failed: %s", cause ? cause : "unknown error");
		/* Too wide: the directory in the cause cut at its start, so the reason shows. */
		const char *dir = ui->app->opt.snapshot_dir;
		const char *at = dir && *dir ? strstr(msg, dir) : NULL;
		int over = ui_width(ui, msg) - ui->cols;
		if (over > 0 && at) {
			int dlen = (int)strlen(dir), skip = over + 1;
			if (skip > dlen)
				skip = dlen;
			while (skip < dlen && ((unsigned char)dir[skip] & 0xc0) == 0x80)
				skip++;
			char cut[sizeof msg];
			snprintf(cut, sizeof cut, "%.*s%s%s", (int)(at - msg), msg,
				 ui->utf8 ? "\xe2\x80\xa6" : "~", at + skip);
			snprintf(msg, sizeof msg, "%s", cut);
		}
		ui_status(ui, UI_STATUS_ERROR, "%s", msg);
		free(cause);
		return;
	}
	util_log("snapshot: %s %s", sp.pprof, sp.json);
	/* Both paths in full when they fit; else their shared part once, DIR/NAME.{pb.gz,json};
	 * else the name first and the directory cut at its start: NAME.{pb.gz,json} in ...DIR. */
	char msg[sizeof ui->priv->status];
	snprintf(msg, sizeof msg, "snapshot: %s %s", sp.pprof, sp.json);
	int base = (int)(strlen(sp.json) - strlen(".json"));
	if (ui_width(ui, msg) > ui->cols)
		snprintf(msg, sizeof msg, "snapshot: %.*s.{pb.gz,json}", base, sp.json);
	const char *slash = strrchr(sp.json, '/');
	if (ui_width(ui, msg) > ui->cols && slash) {
		const char *name = slash + 1, *dir = sp.json, *cut = "";
		int nlen = base - (int)(name - sp.json), dlen = (int)(slash - sp.json);
		int room = ui->cols - (int)strlen("snapshot: .{pb.gz,json} in ") - nlen;
		if (dlen > room) {
			cut = ui->utf8 ? "\xe2\x80\xa6" : "~";
			int skip = dlen - (room > 1 ? room - 1 : 0);
			while (skip < dlen && ((unsigned char)dir[skip] & 0xc0) == 0x80)
				skip++; /* not in the middle of a UTF-8 character */
			dir += skip;
			dlen -= skip;
		}
		snprintf(msg, sizeof msg, "snapshot: %.*s.{pb.gz,json} in %s%.*s", nlen, name, cut,
			 dlen, dir);
	}
	ui_status(ui, UI_STATUS_INFO, "%s", msg);
	snapshot_paths_done(&sp);
}

/* A key while the filter prompt is open (a one-line editor). */
static void prompt_key(struct ui *ui, int key)
{
	struct ui_priv *p = ui->priv;
	size_t l = strlen(p->prompt);
	switch (key) {
	case '\n':
	case '\r':
	case KEY_ENTER:
		p->prompting = false;
		if (strcmp(ui->match, p->prompt) != 0) {
			snprintf(ui->match, sizeof ui->match, "%s", p->prompt);
			p->rebuild_now = true;
		}
		if (ui->match[0])
			ui_status(ui, UI_STATUS_INFO, "only stacks through a function matching '%s'",
				  ui->match);
		else
			ui_status(ui, UI_STATUS_INFO, "no filter");
		break;
	case 27:
		p->prompting = false;
		break;
	case KEY_BACKSPACE:
	case 127:
	case 8:
		/* Remove one UTF-8 character. */
		while (l > 0) {
			l--;
			if (((unsigned char)p->prompt[l] & 0xc0) != 0x80)
				break;
		}
		p->prompt[l] = '\0';
		break;
	case 21: /* Ctrl-U */
		p->prompt[0] = '\0';
		break;
	default:
		if (((key >= 32 && key < 127) || (key >= 128 && key < 256)) &&
		    l + 1 < sizeof p->prompt && l + 1 < sizeof ui->match) {
			p->prompt[l] = (char)key;
			p->prompt[l + 1] = '\0';
		}
	}
	p->dirty = true;
}

/* Act on a view's VIEW_* flags. */
static void apply_result(struct ui *ui, int r)
{
	struct ui_priv *p = ui->priv;
	if (r & VIEW_REBUILD)
		p->rebuild_now = true;
	if (r & (VIEW_REDRAW | VIEW_REBUILD))
		p->dirty = true;
	if (r & VIEW_QUIT)
		p->quit = true;
	if (r & VIEW_BACK)
		ui_show_view(ui, p->previous);
}

/* KEY_MOUSE: the wheel goes to the view as a key; a click to the picker, the tabs, the key
 * bar or the view. */
static void mouse_event(struct ui *ui)
{
	struct ui_priv *p = ui->priv;
	MEVENT ev;
	if (getmouse(&ev) != OK || ui->too_small)
		return;
	int code = 0;
	if (ev.bstate & BUTTON4_PRESSED)
		code = UI_KEY_WHEEL_UP;
#ifdef BUTTON5_PRESSED
	else if (ev.bstate & BUTTON5_PRESSED)
		code = UI_KEY_WHEEL_DOWN;
#endif
	if (code) {
		if (p->picker.active) {
			picker_key(ui, code);
			return;
		}
		struct view_slot *s = current_slot(ui);
		if (s->ops->key)
			apply_result(ui, s->ops->key(ui, s->st, code));
		return;
	}
	if (!(ev.bstate & (BUTTON1_PRESSED | BUTTON1_CLICKED)))
		return;
	int y = ev.y, x = ev.x;
	if (p->picker.active) {
		struct picker *pk = &p->picker;
		int r = y - pk->y - 1;
		if (x > pk->x && x < pk->x + pk->w - 1 && r >= 0 && r < pk->h - 4 &&
		    pk->top + r < pk->nvis) {
			pk->sel = pk->top + r;
			picker_choose(ui);
		} else if (y < pk->y || y >= pk->y + pk->h || x < pk->x || x >= pk->x + pk->w) {
			picker_close(pk);
		}
		p->dirty = true;
		return;
	}
	if (y == 1) {
		for (int i = 0; i < p->ntab_hits; i++)
			if (x >= p->tab_hits[i].x0 && x < p->tab_hits[i].x1)
				ui_show_view(ui, p->tab_hits[i].code);
		return;
	}
	if (y == ui->rows - 1) {
		for (int i = 0; i < p->nbar_hits; i++)
			if (x >= p->bar_hits[i].x0 && x < p->bar_hits[i].x1) {
				ui_key(ui, p->bar_hits[i].code);
				return;
			}
		return;
	}
	if (y >= ui->body_y && y < ui->body_y + ui->body_h) {
		struct view_slot *s = current_slot(ui);
		if (s->ops->click)
			apply_result(ui, s->ops->click(ui, s->st, y, x));
	}
}

void ui_key(struct ui *ui, int key)
{
	struct ui_priv *p = ui->priv;
	if (key == KEY_RESIZE) {
		layout(ui);
		return;
	}
	if (key == 12) { /* Ctrl-L */
		clearok(curscr, TRUE);
		p->dirty = true;
		return;
	}
	if (p->prompting) {
		prompt_key(ui, key);
		return;
	}
	if (key == KEY_MOUSE) {
		mouse_event(ui);
		return;
	}
	if (p->picker.active) {
		picker_key(ui, key);
		return;
	}
	if (ui->too_small) {
		if (key == 'q' || key == KEY_F(10))
			p->quit = true;
		return;
	}
	struct view_slot *s = current_slot(ui);
	int r = s->ops->key ? s->ops->key(ui, s->st, key) : VIEW_IGNORED;
	if (r) {
		apply_result(ui, r);
		return;
	}
	p->dirty = true;
	switch (key) {
	case '1':
	case '2':
	case '3':
	case '4':
	case '5':
	case '6':
	case '7':
	case '8':
	case '9':
		if (key - '1' < UI_NVIEWS)
			ui_show_view(ui, key - '1');
		break;
	case '\t':
		ui_show_view(ui, p->current < 0 ? p->previous : (p->current + 1) % UI_NVIEWS);
		break;
	case KEY_BTAB:
		ui_show_view(ui, p->current < 0 ? p->previous
						: (p->current + UI_NVIEWS - 1) % UI_NVIEWS);
		break;
	case ' ':
		ui->paused = !ui->paused;
		if (!ui->paused)
			p->rebuild_now = true;
		ui_status(ui, UI_STATUS_INFO, ui->paused ? "display paused; sampling goes on (Space "
							   "resumes)"
							 : "display resumed");
		break;
	case 'w':
		ui->filter.window = ui->filter.window == PROFILE_LIVE ? PROFILE_ALL : PROFILE_LIVE;
		p->rebuild_now = true;
		if (ui->filter.window == PROFILE_LIVE)
			ui_status(ui, UI_STATUS_INFO, "window: the last %.0f s",
				  (double)profile_window_ns(ui->prof) / 1e9);
		else
			ui_status(ui, UI_STATUS_INFO, "window: since start");
		break;
	case 'r':
		profile_reset(ui->prof);
		p->rebuild_now = true;
		ui_status(ui, UI_STATUS_INFO, "counts reset");
		break;
	case '+':
		set_rate_step(ui, 1);
		break;
	case '-':
		set_rate_step(ui, -1);
		break;
	case '/':
		p->prompting = true;
		snprintf(p->prompt, sizeof p->prompt, "%s", ui->match);
		break;
	case 't':
		thread_pick(ui);
		break;
	case 's':
		take_snapshot(ui);
		break;
	case '?':
	case KEY_F(1):
		ui_show_view(ui, p->current < 0 ? p->previous : -1);
		break;
	case 'q':
	case KEY_F(10):
		p->quit = true;
		break;
	default:
		break;
	}
}

/* ---- lifetime ---- */

struct ui *ui_new(struct app *a, const struct theme *th, bool no_color)
{
	struct ui *ui = xcalloc(1, sizeof *ui);
	struct ui_priv *p = xcalloc(1, sizeof *p);
	ui->priv = p;
	ui->app = a;
	ui->prof = a->prof;
	ui->sym = a->sym;
	ui->filter.window = PROFILE_LIVE;
	ui->theme = *th;
	p->no_color = no_color;
	const char *cs = nl_langinfo(CODESET);
	ui->utf8 = cs && (!strcmp(cs, "UTF-8") || !strcmp(cs, "utf8"));
	for (int i = 0; i < UI_NVIEWS; i++)
		p->views[i].ops = ui_views[i];
	p->help.ops = &view_help;
	p->current = 0;
	p->previous = 0;
	p->clk_tck = sysconf(_SC_CLK_TCK);
	if (p->clk_tck <= 0)
		p->clk_tck = 100;
	return ui;
}

void ui_free(struct ui *ui)
{
	if (!ui)
		return;
	struct ui_priv *p = ui->priv;
	for (int i = 0; i < UI_NVIEWS; i++)
		if (p->views[i].inited && p->views[i].ops->done)
			p->views[i].ops->done(p->views[i].st);
	if (p->help.inited && p->help.ops->done)
		p->help.ops->done(p->help.st);
	picker_close(&p->picker);
	free(p->pick_tids);
	calltree_free(ui->tree);
	free(p);
	free(ui);
}

static attr_t curses_attrs(unsigned a)
{
	attr_t r = A_NORMAL;
	if (a & THEME_ATTR_BOLD)
		r |= A_BOLD;
	if (a & THEME_ATTR_UNDERLINE)
		r |= A_UNDERLINE;
	if (a & THEME_ATTR_REVERSE)
		r |= A_REVERSE;
	if (a & THEME_ATTR_DIM)
		r |= A_DIM;
	return r;
}

void ui_screen_init(struct ui *ui)
{
	struct ui_priv *p = ui->priv;
	cbreak();
	noecho();
	nonl();
	intrflush(stdscr, FALSE);
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	curs_set(0);
	set_escdelay(25);
	mouseinterval(0);
	mmask_t mask = BUTTON1_PRESSED | BUTTON4_PRESSED;
#ifdef BUTTON5_PRESSED
	mask |= BUTTON5_PRESSED;
#endif
	mousemask(mask, NULL);

	ui->colors = 0;
	bool defaults = false;
	if (!p->no_color && has_colors() && start_color() == OK) {
		defaults = use_default_colors() == OK;
		ui->colors = COLORS >= 256 ? 256 : COLORS >= 16 ? 16 : COLORS >= 8 ? 8 : 0;
		if (COLOR_PAIRS <= THEME_NELEMS)
			ui->colors = 0;
	}
	if (!ui->colors)
		theme_builtin(&ui->theme, "mono");
	for (int e = 0; e < THEME_NELEMS; e++) {
		const struct theme_style *s = &ui->theme.style[e];
		ui->attr[e] = curses_attrs(s->attrs);
		if (!ui->colors)
			continue;
		int fg = theme_color_fit(s->fg, ui->colors), bg = theme_color_fit(s->bg, ui->colors);
		if (!defaults) {
			if (fg < 0)
				fg = COLOR_WHITE;
			if (bg < 0)
				bg = COLOR_BLACK;
		}
		init_pair((short)(e + 1), (short)fg, (short)bg);
		ui->attr[e] |= COLOR_PAIR(e + 1);
	}
	bkgdset(ui->attr[THEME_NORMAL] | ' ');
	layout(ui);
	p->curses_on = true;
}

/* ---- the TUI front end ---- */

/* CPU of the target (% of one core) since the last call, from /proc/PID/stat. */
static void update_cpu(struct ui *ui, uint64_t now)
{
	struct ui_priv *p = ui->priv;
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)ui->app->pid);
	if (ui->app->target_gone || util_read_small(path, buf, sizeof buf) <= 0) {
		ui->proc_cpu = 0;
		return;
	}
	const char *s = strrchr(buf, ')');
	unsigned long long ut = 0, st = 0;
	if (!s || sscanf(s + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
			 &st) != 2)
		return;
	uint64_t ticks = ut + st;
	if (p->cpu_mark_ns && now > p->cpu_mark_ns && ticks >= p->cpu_mark_ticks)
		ui->proc_cpu = (double)(ticks - p->cpu_mark_ticks) / (double)p->clk_tck * 100.0 /
			       ((double)(now - p->cpu_mark_ns) / 1e9);
	p->cpu_mark_ns = now;
	p->cpu_mark_ticks = ticks;
}

/* app hook, every 250 ms: header facts each second, a rebuild when due, messages expire. */
static int on_refresh(struct app *a, void *arg, uint64_t now)
{
	struct ui *ui = arg;
	struct ui_priv *p = ui->priv;
	if (now >= p->next_stats) {
		update_cpu(ui, now);
		p->next_stats = now + 1000000000ull;
		p->dirty = true;
	}
	if (!ui->paused && now >= p->next_rebuild) {
		ui_rebuild(ui);
		/* Faster while the first samples arrive, then once a second. */
		bool young = now - a->start_ns < 2000000000ull || !ui->tree->total;
		p->next_rebuild = now + (young ? 250000000ull : 1000000000ull);
	}
	if (p->status[0] && now >= p->status_until) {
		p->status[0] = '\0';
		p->dirty = true;
	}
	return p->quit;
}

/* app hook, stdin readable: every pending key, then one rebuild if a filter changed. */
static int on_input(struct app *a, void *arg)
{
	(void)a;
	struct ui *ui = arg;
	struct ui_priv *p = ui->priv;
	int ch, n = 0;
	while (!p->quit && n++ < 512 && (ch = getch()) != ERR)
		ui_key(ui, ch);
	if (p->rebuild_now) {
		p->rebuild_now = false;
		ui_rebuild(ui);
	}
	return p->quit;
}

/* app hook, SIGWINCH (through the signalfd): the new size to curses, then relayout. */
static int on_resize(struct app *a, void *arg)
{
	(void)a;
	struct ui *ui = arg;
	struct winsize ws;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0)
		resizeterm(ws.ws_row, ws.ws_col);
	layout(ui);
	return ui->priv->quit;
}

/* The deadlock banner after each refresh of the monitor: its text while threads or goroutines
 * are deadlocked, none once they are not (or the target is gone). */
static void deadlock_banner(struct ui *ui)
{
	struct ui_priv *p = ui->priv;
	struct monitor *m = ui->app->mon;
	struct strbuf sb = { 0 };
	if (!ui->app->target_gone && !m->gone && monitor_deadlock(m, &sb) && sb.s) {
		if (!p->banner_deadlock || strncmp(p->banner, sb.s, sizeof p->banner - 1) != 0)
			ui_banner(ui, sb.s);
		p->banner_deadlock = true;
	} else if (p->banner_deadlock) {
		ui_banner(ui, NULL);
		p->banner_deadlock = false;
	}
	strbuf_done(&sb);
}

/* app hook, end of each loop pass: the banner and the views follow the monitor's refreshes;
 * then the one redraw, if anything changed. */
static void on_before_sleep(struct app *a, void *arg)
{
	struct ui *ui = arg;
	struct ui_priv *p = ui->priv;
	if (a->mon && a->mon->updates != p->mon_updates) {
		p->mon_updates = a->mon->updates;
		deadlock_banner(ui);
		if (!ui->paused)
			p->dirty = true;
	}
	if (p->dirty)
		ui_draw(ui);
}

/* app hooks, SIGTSTP: the shell gets the terminal back while proftop is stopped (and the target
 * detached); on SIGCONT the screen is drawn again in full. */
static void on_suspend(struct app *a, void *arg)
{
	(void)a;
	struct ui *ui = arg;
	if (ui->priv->curses_on)
		endwin();
}

static void on_resume(struct app *a, void *arg)
{
	(void)a;
	struct ui *ui = arg;
	if (!ui->priv->curses_on)
		return;
	refresh();
	clearok(curscr, TRUE);
	ui_status(ui, UI_STATUS_INFO, "resumed: attached again after a suspend (Ctrl-Z)");
	ui->priv->dirty = true;
}

/* Restore the terminal (exit paths, util_fatal, crash handlers). */
static void ui_cleanup_hook(void *arg)
{
	struct ui *ui = arg;
	if (ui->priv->curses_on) {
		ui->priv->curses_on = false;
		endwin();
	}
}

/* Directory of the running executable, for themes/ beside an uninstalled build. */
static void exe_dir(char *buf, size_t n)
{
	ssize_t r = readlink("/proc/self/exe", buf, n - 1);
	if (r <= 0) {
		buf[0] = '\0';
		return;
	}
	buf[r] = '\0';
	char *slash = strrchr(buf, '/');
	if (slash)
		*slash = '\0';
}

/* Is the terminal usable for a full-screen view?  NULL, or why not. */
static char *terminal_problem(void)
{
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
		return xstrdup("the live view needs a terminal on stdin and stdout (use proftop "
			       "record to write a profile instead)");
	const char *term = getenv("TERM");
	int err = 0;
	if (!term || !*term)
		return xstrdup("TERM is not set");
	if (setupterm(NULL, STDOUT_FILENO, &err) != OK)
		return xasprintf("unknown terminal type '%s' (try TERM=xterm-256color)", term);
	char *cup = tigetstr("cup");
	char *why = NULL;
	if (!cup || cup == (char *)-1)
		why = xasprintf("terminal '%s' cannot move the cursor (try TERM=xterm-256color)",
				term);
	del_curterm(cur_term);
	return why;
}

int cli_top(struct app_options *opt)
{
	setlocale(LC_ALL, "");
	setlocale(LC_NUMERIC, "C");

	/* Everything that can fail is checked before the screen changes. */
	char dir[PATH_MAX];
	exe_dir(dir, sizeof dir);
	struct theme th;
	char *err = NULL;
	int tr = theme_load(&th, opt->theme, dir, &err);
	if (tr < 0) {
		fprintf(stderr, tr == -2 ? "%s\n" : "proftop: %s\n", err);
		free(err);
		return 1;
	}
	const char *nc = getenv("NO_COLOR");
	bool mono = opt->no_color || (nc && *nc);
	if ((err = terminal_problem())) {
		fprintf(stderr, "proftop: %s\n", err);
		free(err);
		return 1;
	}
	struct app a;
	if (app_init(&a, opt, true, &err) < 0) {
		fprintf(stderr, "proftop: %s\n", err);
		free(err);
		app_done(&a);
		return 1;
	}
	/* Threads, goroutines and the memory history, from attach on. */
	app_monitor_start(&a);
	struct ui *ui = ui_new(&a, &th, mono);
	SCREEN *scr = newterm(NULL, stdout, stdin);
	if (!scr) {
		app_done(&a);
		ui_free(ui);
		fprintf(stderr, "proftop: cannot start the terminal interface\n");
		return 1;
	}
	set_term(scr);
	util_cleanup_push(ui_cleanup_hook, ui);
	ui_screen_init(ui);
	if (sampler_note(a.sampler))
		ui_status(ui, UI_STATUS_INFO, "%s", sampler_note(a.sampler));
	/* The first frame now, with what is known; the model fills in. */
	ui_draw(ui);
	ui->priv->next_rebuild = util_now_ns() + 200000000ull;

	struct app_hooks h = {
		.arg = ui,
		.refresh = on_refresh,
		.input = on_input,
		.resize = on_resize,
		.before_sleep = on_before_sleep,
		.suspend = on_suspend,
		.resume = on_resume,
		.refresh_ns = 250000000ull,
		.want_stdin = true,
	};
	app_run(&a, &h, false);

	ui_cleanup_hook(ui);
	util_cleanup_remove(ui_cleanup_hook, ui);
	delscreen(scr);
	/* Detach first: the target matters more than our own tidying. */
	app_done(&a);
	ui_free(ui);
	return 0;
}
