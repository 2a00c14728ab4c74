/*
 * top: view 1, the top functions.  A table of every function of the call tree with its self
 * and total share, sorted by self (the default: the function the CPU is in), total or name;
 * Enter shows one function's callers, callees and source lines with their shares.
 *
 * The cursor: until the user moves it, it sits on the first row (the hottest function).  Once
 * moved (keys or a click) it follows its function across refreshes and re-sorts; if the function
 * leaves the window, the cursor stays at the same row number.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui.h"
#include "util.h"

enum top_sort { TOP_SORT_SELF, TOP_SORT_TOTAL, TOP_SORT_NAME, TOP_NSORTS };
static const char *const sort_names[TOP_NSORTS] = { "self", "total", "name" };

enum drow_kind { DROW_TEXT, DROW_TITLE, DROW_CALLER, DROW_CALLEE, DROW_SOURCE, DROW_GAP };

/* One line of the detail page. */
struct drow {
	enum drow_kind kind;
	uint32_t func;          /* CALLER/CALLEE: that function (CALLTREE_ROOT: none) */
	uint64_t self, total;   /* samples */
	int line;               /* SOURCE: line number, 0 for a "..." gap */
	bool has_counts;
	char *text;
};

/* A source file read for the detail page. */
struct srcfile {
	char *path;
	char *buf;
	char **lines;   /* lines[i] is line i + 1 */
	int nlines;
	int err;        /* errno when unreadable */
};

#define SRC_CACHE 8
/* The most of one source file read (16 MiB: sqlite3.c is 9); lines past it are not shown. */
#define SRC_MAX_BYTES ((size_t)16 << 20)
#define HIST_MAX 32

struct top {
	struct calltree_func *rows;
	size_t nrows;
	enum top_sort sort;
	size_t cursor, scroll;
	uint32_t cursor_func;
	bool follow;

	bool detail;
	uint32_t dfunc;
	uint32_t hist[HIST_MAX];
	int nhist;
	struct drow *drows;
	size_t ndrows, capdrows;
	size_t dcursor, dscroll;
	bool dfollow_title;     /* reset scroll on the next build */

	struct srcfile src[SRC_CACHE];
	int nsrc;
};

/* ---- sorting ---- */

static struct ui *sort_ui;

static int cmp_name(const void *a, const void *b)
{
	const struct calltree_func *x = a, *y = b;
	int c = strcmp(ui_func_name(sort_ui, x->func), ui_func_name(sort_ui, y->func));
	return c ? c : (x->func > y->func) - (x->func < y->func);
}

static void top_sort_rows(struct ui *ui, struct top *t)
{
	sort_ui = ui;
	int (*cmp)(const void *, const void *) = t->sort == TOP_SORT_SELF    ? calltree_cmp_self
						 : t->sort == TOP_SORT_TOTAL ? calltree_cmp_total
									     : cmp_name;
	if (t->nrows > 1)
		qsort(t->rows, t->nrows, sizeof *t->rows, cmp);
	sort_ui = NULL;
}

/* Put the cursor back on cursor_func (when following) after the rows changed. */
static void top_track(struct top *t)
{
	if (!t->nrows) {
		t->cursor = 0;
		return;
	}
	if (t->follow) {
		for (size_t i = 0; i < t->nrows; i++) {
			if (t->rows[i].func == t->cursor_func) {
				t->cursor = i;
				return;
			}
		}
	} else {
		t->cursor = 0;
	}
	if (t->cursor >= t->nrows)
		t->cursor = t->nrows - 1;
	t->cursor_func = t->rows[t->cursor].func;
}

static const struct calltree_func *top_find(const struct top *t, uint32_t func)
{
	for (size_t i = 0; i < t->nrows; i++)
		if (t->rows[i].func == func)
			return &t->rows[i];
	return NULL;
}

/* ---- source files ---- */

static void src_free(struct srcfile *s)
{
	free(s->path);
	free(s->buf);
	free(s->lines);
	memset(s, 0, sizeof *s);
}

/* The source file at path (read once, cached; also tried under /proc/PID/root). */
static const struct srcfile *src_get(struct ui *ui, struct top *t, const char *path)
{
	for (int i = 0; i < t->nsrc; i++)
		if (!strcmp(t->src[i].path, path))
			return &t->src[i];
	if (t->nsrc == SRC_CACHE) {
		for (int i = 0; i < t->nsrc; i++)
			src_free(&t->src[i]);
		t->nsrc = 0;
	}
	struct srcfile *s = &t->src[t->nsrc++];
	s->path = xstrdup(path);
	size_t len = 0;
	errno = 0;
	/* The path comes from the target's debug info: a regular file only, not all of a huge one. */
	s->buf = util_read_regular(path, SRC_MAX_BYTES, &len, NULL);
	if (!s->buf && path[0] == '/') {
		int e = errno;
		char *alt = xasprintf("/proc/%d/root%s", (int)ui->app->pid, path);
		s->buf = util_read_regular(alt, SRC_MAX_BYTES, &len, NULL);
		free(alt);
		if (!s->buf)
			errno = e;
	}
	if (!s->buf) {
		s->err = errno ? errno : ENOENT;
		return s;
	}
	size_t cap = 0;
	char *p = s->buf;
	while (p < s->buf + len) {
		util_grow((void **)&s->lines, &cap, (size_t)s->nlines + 1, sizeof *s->lines);
		s->lines[s->nlines++] = p;
		char *nl = memchr(p, '\n', (size_t)(s->buf + len - p));
		if (!nl)
			break;
		*nl = '\0';
		p = nl + 1;
	}
	return s;
}

/* Line text with tabs expanded, owned by the caller. */
static char *expand_tabs(const char *s)
{
	struct strbuf sb = { 0 };
	strbuf_puts(&sb, "");
	int col = 0;
	for (; *s; s++) {
		if (*s == '\t') {
			do
				strbuf_putc(&sb, ' ');
			while (++col % 8);
		} else if (*s != '\r') {
			strbuf_putc(&sb, *s);
			col++;
		}
	}
	return sb.s;
}

/* ---- the detail page ---- */

static void drows_clear(struct top *t)
{
	for (size_t i = 0; i < t->ndrows; i++)
		free(t->drows[i].text);
	t->ndrows = 0;
}

static struct drow *drow_add(struct top *t, enum drow_kind kind, char *text)
{
	util_grow((void **)&t->drows, &t->capdrows, t->ndrows + 1, sizeof *t->drows);
	struct drow *d = &t->drows[t->ndrows++];
	*d = (struct drow){ .kind = kind, .func = CALLTREE_ROOT, .text = text };
	return d;
}

static void detail_neighbours(struct ui *ui, struct top *t, int dir)
{
	struct calltree_func *nb = NULL;
	size_t n = calltree_neighbours(ui->tree, t->dfunc, dir, &nb);
	for (size_t i = 0; i < n; i++) {
		bool none = nb[i].func == CALLTREE_ROOT;
		struct drow *d = drow_add(t, dir < 0 ? DROW_CALLER : DROW_CALLEE,
					  xstrdup(none ? "(start of the stack)"
						       : ui_func_name(ui, nb[i].func)));
		d->func = nb[i].func;
		d->total = nb[i].total;
		d->has_counts = true;
	}
	free(nb);
	if (!n && dir < 0)
		drow_add(t, DROW_TEXT, xstrdup("  (none)"));
}

/* The source lines of one file of the function: every line from the function's start (or the
 * first sampled line) to the last sampled one; long spans keep only the sampled lines with one
 * line of context around each. */
static void detail_source_file(struct ui *ui, struct top *t, const struct calltree_line *l,
			       size_t n, const struct sym_func *f)
{
	const struct srcfile *s = src_get(ui, t, l[0].file);
	if (!s->buf) {
		const char *why = s->err == EINVAL ? "not a regular file" : strerror(s->err);
		drow_add(t, DROW_TEXT, xasprintf("  %s: %s (lines listed without text)", l[0].file,
						 why));
	}
	int lo = l[0].line, hi = l[n - 1].line;
	if (f && f->start_line > 0 && f->start_line <= lo && lo - f->start_line < 60 &&
	    !strcmp(f->file, l[0].file))
		lo = f->start_line;
	bool sparse = hi - lo > 120 || !s->buf;
	size_t k = 0;
	int last = 0;
	for (int line = lo; line <= hi + 1; line++) {
		while (k < n && l[k].line < line)
			k++;
		bool sampled = k < n && l[k].line == line;
		bool near = sampled || (k < n && l[k].line == line + 1) ||
			    (k > 0 && l[k - 1].line == line - 1);
		if (line < 1 || (s->buf && line > s->nlines))
			continue;
		if (sparse && !(s->buf ? near : sampled))
			continue;
		if (sparse && last && line > last + 1)
			drow_add(t, DROW_SOURCE, xstrdup(""))->line = 0;
		struct drow *d = drow_add(t, DROW_SOURCE,
					  s->buf ? expand_tabs(s->lines[line - 1]) : xstrdup(""));
		d->line = line;
		if (sampled) {
			d->self = l[k].self;
			d->total = l[k].total;
			d->has_counts = true;
		}
		last = line;
	}
}

static void detail_build(struct ui *ui, struct top *t)
{
	drows_clear(t);
	if (!ui->tree)
		return;
	uint32_t fn = t->dfunc;
	const struct sym_func *f = symbols_func(ui->sym, fn);
	const struct calltree_func *row = top_find(t, fn);
	uint64_t self = row ? row->self : 0, total = row ? row->total : 0;
	char a[16], b[16];
	drow_add(t, DROW_TITLE, xstrdup(ui_func_name(ui, fn)));
	const struct sym_module *m = f ? symbols_module(ui->sym, f->module) : NULL;
	if (f && f->file[0])
		drow_add(t, DROW_TEXT, xasprintf("  %s:%d   %s", f->file, f->start_line,
						 m ? m->name : ""));
	else if (m)
		drow_add(t, DROW_TEXT, xasprintf("  %s (no source information)", m->path));
	drow_add(t, DROW_TEXT, xasprintf("  self %s%%  total %s%% of all samples  (%llu self, "
					 "%llu total)",
					 ui_pct(a, sizeof a, self, ui->denom),
					 ui_pct(b, sizeof b, total, ui->denom),
					 (unsigned long long)self, (unsigned long long)total));
	if (!total) {
		drow_add(t, DROW_TEXT, xstrdup("  no samples of this function in the window"));
		return;
	}
	drow_add(t, DROW_GAP, NULL);
	drow_add(t, DROW_TITLE, xasprintf("Callers  (share of %s's samples through each)",
					  ui_func_name(ui, fn)));
	detail_neighbours(ui, t, -1);
	drow_add(t, DROW_GAP, NULL);
	drow_add(t, DROW_TITLE, xstrdup("Callees  (share of its samples in each)"));
	struct drow *d = drow_add(t, DROW_CALLEE, xstrdup("(self)"));
	d->total = self;
	d->has_counts = true;
	detail_neighbours(ui, t, +1);

	struct calltree_line *lines = NULL;
	struct calltree_filter flt = ui->filter;
	flt.match = ui->match[0] ? ui->match : NULL;
	size_t n = calltree_lines(ui->prof, &flt, fn, &lines);
	drow_add(t, DROW_GAP, NULL);
	drow_add(t, DROW_TITLE, xstrdup("Source lines  (self and total share of its samples)"));
	if (!n || (n == 1 && !lines[0].file[0]))
		drow_add(t, DROW_TEXT, xstrdup("  no line information"));
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j < n && !strcmp(lines[j].file, lines[i].file))
			j++;
		if (lines[i].file[0]) {
			drow_add(t, DROW_TEXT, xasprintf("  %s", lines[i].file));
			detail_source_file(ui, t, lines + i, j - i, f);
		}
		i = j;
	}
	free(lines);
	if (t->dcursor >= t->ndrows)
		t->dcursor = t->ndrows ? t->ndrows - 1 : 0;
}

static void detail_open(struct ui *ui, struct top *t, uint32_t func, bool push)
{
	if (push && t->detail && t->nhist < HIST_MAX)
		t->hist[t->nhist++] = t->dfunc;
	t->detail = true;
	t->dfunc = func;
	t->dcursor = 0;
	t->dscroll = 0;
	detail_build(ui, t);
}

/* ---- hooks ---- */

static void *top_init(struct ui *ui)
{
	(void)ui;
	struct top *t = xcalloc(1, sizeof *t);
	t->sort = TOP_SORT_SELF;
	return t;
}

static void top_done(void *st)
{
	struct top *t = st;
	free(t->rows);
	drows_clear(t);
	free(t->drows);
	for (int i = 0; i < t->nsrc; i++)
		src_free(&t->src[i]);
	free(t);
}

static void top_refresh(struct ui *ui, void *st)
{
	struct top *t = st;
	free(t->rows);
	t->rows = NULL;
	t->nrows = ui->tree ? calltree_top(ui->tree, &t->rows) : 0;
	top_sort_rows(ui, t);
	top_track(t);
	if (t->detail)
		detail_build(ui, t);
}

static int list_rows(const struct ui *ui)
{
	return ui->body_h - 1 > 0 ? ui->body_h - 1 : 0;
}

static void top_draw_table(struct ui *ui, struct top *t)
{
	int y0 = ui->body_y, W = ui->cols, vis = list_rows(ui);
	bool bar = W >= 100;
	int loc_w = W >= 120 ? 32 : W >= 100 ? 26 : 20;
	int x_self = 0, x_total = 7, x_samp = 15, x_bar = 25;
	int x_func = bar ? 38 : 25;
	int func_w = W - x_func - loc_w - 1;
	int x_loc = W - loc_w;
	ui_fill(ui, y0, 0, W, THEME_TABLE_HEADER);
	ui_text_right(ui, y0, x_self, 6, t->sort == TOP_SORT_SELF ? THEME_TABLE_SORT
								  : THEME_TABLE_HEADER, "SELF%");
	ui_text_right(ui, y0, x_total, 7, t->sort == TOP_SORT_TOTAL ? THEME_TABLE_SORT
								    : THEME_TABLE_HEADER, "TOTAL%");
	ui_text_right(ui, y0, x_samp, 8, THEME_TABLE_HEADER, "SAMPLES");
	ui_text(ui, y0, x_func, func_w, t->sort == TOP_SORT_NAME ? THEME_TABLE_SORT
								  : THEME_TABLE_HEADER, "FUNCTION");
	ui_text(ui, y0, x_loc, loc_w, THEME_TABLE_HEADER, "LOCATION");
	if (!t->nrows) {
		const char *msg = ui->match[0] ? "no stack matches the filter (/ to change it)"
				  : ui->filter.tid ? "no samples of this thread in the window"
				  : ui->app->target_gone ? "no samples"
							 : "waiting for samples...";
		ui_text(ui, y0 + 2, 2, W - 4, THEME_DIM, msg);
		return;
	}
	ui_scroll_fit(t->cursor, t->nrows, vis, &t->scroll);
	for (int r = 0; r < vis && t->scroll + (size_t)r < t->nrows; r++) {
		size_t i = t->scroll + (size_t)r;
		const struct calltree_func *f = &t->rows[i];
		int y = y0 + 1 + r;
		bool cur = i == t->cursor;
		enum theme_elem e = cur ? THEME_CURSOR : THEME_NORMAL;
		char a[16], b[16], c[16], loc[256];
		if (cur)
			ui_fill(ui, y, 0, W, THEME_CURSOR);
		ui_text_right(ui, y, x_self, 6, e, ui_pct(a, sizeof a, f->self, ui->denom));
		ui_text_right(ui, y, x_total, 7, e, ui_pct(b, sizeof b, f->total, ui->denom));
		ui_text_right(ui, y, x_samp, 8, e, ui_count(c, sizeof c, f->self));
		if (bar)
			ui_bar(ui, y, x_bar, 11,
			       ui->denom ? (double)f->self / (double)ui->denom : 0,
			       cur ? THEME_CURSOR : THEME_BAR);
		ui_text(ui, y, x_func, func_w, e, ui_func_name(ui, f->func));
		ui_text(ui, y, x_loc, loc_w, cur ? e : THEME_DIM,
			ui_func_where(ui, f->func, loc, sizeof loc));
	}
}

static void top_draw_detail(struct ui *ui, struct top *t)
{
	int y0 = ui->body_y, W = ui->cols, vis = ui->body_h;
	if (t->dcursor < t->dscroll)
		t->dscroll = t->dcursor;
	if (vis > 0 && t->dcursor >= t->dscroll + (size_t)vis)
		t->dscroll = t->dcursor - (size_t)vis + 1;
	uint64_t ftotal = 0;
	const struct calltree_func *row = top_find(t, t->dfunc);
	if (row)
		ftotal = row->total;
	for (int r = 0; r < vis && t->dscroll + (size_t)r < t->ndrows; r++) {
		size_t i = t->dscroll + (size_t)r;
		const struct drow *d = &t->drows[i];
		int y = y0 + r;
		bool cur = i == t->dcursor;
		enum theme_elem e = cur ? THEME_CURSOR : THEME_NORMAL;
		if (cur)
			ui_fill(ui, y, 0, W, THEME_CURSOR);
		char a[16], b[16], c[16], loc[256];
		switch (d->kind) {
		case DROW_GAP:
			break;
		case DROW_TITLE:
			ui_text(ui, y, 0, W, cur ? e : THEME_TITLE, d->text);
			break;
		case DROW_TEXT:
			ui_text(ui, y, 0, W, cur ? e : THEME_DIM, d->text);
			break;
		case DROW_CALLER:
		case DROW_CALLEE:
			ui_text_right(ui, y, 2, 6, e, ui_pct(a, sizeof a, d->total, ftotal));
			ui_text(ui, y, 8, 1, e, "%");
			ui_text_right(ui, y, 10, 8, e, ui_count(c, sizeof c, d->total));
			ui_text(ui, y, 20, W - 20 - 22, e, d->text);
			if (d->func != CALLTREE_ROOT)
				ui_text(ui, y, W - 21, 21, cur ? e : THEME_DIM,
					ui_func_where(ui, d->func, loc, sizeof loc));
			break;
		case DROW_SOURCE:
			if (!d->line) {
				ui_text(ui, y, 16, 6, cur ? e : THEME_DIM, "...");
				break;
			}
			if (d->has_counts) {
				ui_text_right(ui, y, 0, 6, e, ui_pct(a, sizeof a, d->self, ftotal));
				ui_text_right(ui, y, 7, 6, e, ui_pct(b, sizeof b, d->total, ftotal));
			}
			ui_printf(ui, y, 14, 6, cur ? e : THEME_DIM, "%6d", d->line);
			ui_text(ui, y, 22, W - 22, cur ? e : d->has_counts ? THEME_SOURCE_HOT
									  : THEME_NORMAL,
				d->text);
			break;
		}
	}
}

static void top_draw(struct ui *ui, void *st)
{
	struct top *t = st;
	if (t->detail)
		top_draw_detail(ui, t);
	else
		top_draw_table(ui, t);
}

static void sort_chosen(struct ui *ui, void *arg, int index, const char *typed)
{
	(void)typed;
	struct top *t = arg;
	if (index < 0 || index >= TOP_NSORTS)
		return;
	t->sort = (enum top_sort)index;
	top_sort_rows(ui, t);
	t->follow = true;
	top_track(t);
	ui_status(ui, UI_STATUS_INFO, "sorted by %s", sort_names[t->sort]);
}

static int top_key_detail(struct ui *ui, struct top *t, int key)
{
	long page = ui->body_h > 1 ? ui->body_h - 1 : 1;
	if (ui_list_key(key, page, t->ndrows, &t->dcursor))
		return VIEW_REDRAW;
	switch (key) {
	case '\n':
	case '\r':
	case KEY_ENTER:
		if (t->dcursor < t->ndrows) {
			const struct drow *d = &t->drows[t->dcursor];
			if ((d->kind == DROW_CALLER || d->kind == DROW_CALLEE) &&
			    d->func != CALLTREE_ROOT && d->func != t->dfunc)
				detail_open(ui, t, d->func, true);
		}
		return VIEW_REDRAW;
	case 27:
	case KEY_BACKSPACE:
	case 127:
	case 8:
	case KEY_LEFT:
	case 'h':
		if (t->nhist > 0) {
			detail_open(ui, t, t->hist[--t->nhist], false);
		} else {
			t->detail = false;
			drows_clear(t);
		}
		return VIEW_REDRAW;
	default:
		return VIEW_IGNORED;
	}
}

static int top_key(struct ui *ui, void *st, int key)
{
	struct top *t = st;
	if (t->detail)
		return top_key_detail(ui, t, key);
	long page = list_rows(ui) > 1 ? list_rows(ui) - 1 : 1;
	if (ui_list_key(key, page, t->nrows, &t->cursor)) {
		if (t->cursor < t->nrows) {
			t->follow = true;
			t->cursor_func = t->rows[t->cursor].func;
		}
		return VIEW_REDRAW;
	}
	switch (key) {
	case '\n':
	case '\r':
	case KEY_ENTER:
		if (t->cursor < t->nrows) {
			t->follow = true;
			t->cursor_func = t->rows[t->cursor].func;
			t->nhist = 0;
			detail_open(ui, t, t->cursor_func, false);
		}
		return VIEW_REDRAW;
	case '<':
	case '>':
		t->sort = (enum top_sort)((t->sort + (key == '>' ? 1 : TOP_NSORTS - 1)) % TOP_NSORTS);
		sort_chosen(ui, t, (int)t->sort, "");
		return VIEW_REDRAW;
	case KEY_F(6): {
		const char *items[TOP_NSORTS] = { "self: the function itself (default)",
						  "total: the function and what it calls",
						  "name" };
		ui_picker(ui, "Sort by", items, TOP_NSORTS, (int)t->sort, sort_chosen, t);
		return VIEW_REDRAW;
	}
	default:
		return VIEW_IGNORED;
	}
}

static int top_click(struct ui *ui, void *st, int y, int x)
{
	(void)x;
	struct top *t = st;
	if (t->detail) {
		size_t i = t->dscroll + (size_t)(y - ui->body_y);
		if (i >= t->ndrows)
			return VIEW_HANDLED;
		if (i == t->dcursor)
			return top_key_detail(ui, t, '\n');
		t->dcursor = i;
		return VIEW_REDRAW;
	}
	if (y == ui->body_y)
		return VIEW_HANDLED;
	size_t i = t->scroll + (size_t)(y - ui->body_y - 1);
	if (i >= t->nrows)
		return VIEW_HANDLED;
	if (i == t->cursor && t->follow)
		return top_key(ui, st, '\n');
	t->cursor = i;
	t->follow = true;
	t->cursor_func = t->rows[i].func;
	return VIEW_REDRAW;
}

static const struct ui_keyhelp top_help[] = {
	{ "Up Down PgUp PgDn Home End", "move the cursor (j k too)" },
	{ "Enter", "the function's callers, callees and source lines with their shares" },
	{ "Esc Backspace", "back from the detail page (Left, h too)" },
	{ "< >", "sort by self, total or name" },
	{ "F6", "choose the sort column" },
	{ NULL, NULL },
};

static const struct ui_barkey top_bar[] = {
	{ "Enter", "Detail", '\n' },
	{ "F6", "Sort", KEY_F(6) },
	{ NULL, NULL, 0 },
};

const struct view_ops view_top = {
	.name = "top",
	.help = top_help,
	.bar = top_bar,
	.init = top_init,
	.done = top_done,
	.draw = top_draw,
	.key = top_key,
	.refresh = top_refresh,
	.click = top_click,
};
