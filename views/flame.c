/*
 * flame: view 2, a text flame graph of the call tree.  One row per stack depth, one bar per
 * frame, as wide as its share of its parent's samples (children in name order, as the call tree
 * keeps them, so the layout is stable while counts change); each bar ends with a blank column so
 * neighbours stay apart in any colour scheme.  Icicle (root on top, the default) or flame (root
 * at the bottom) with i.  Enter zooms into a frame: it fills the width and its ancestors are
 * drawn full width above it (dimmed); Esc/Backspace zooms back out.
 *
 * Stability: the cursor and the zoom root are kept as paths of function ids from the root and
 * found again in each new tree; a frame that left the window leaves the cursor on its nearest
 * remaining ancestor, never on an unrelated frame.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui.h"
#include "util.h"

#define FLAME_HIST 32

struct path {
	uint32_t *f;
	size_t n, cap;
};

struct frame {
	uint32_t node;
	int depth;
	int x0, x1;
};

struct flame {
	bool flame_mode;          /* root at the bottom */
	struct path want;         /* the cursor */
	struct path zoom;         /* the zoom root */
	struct path hist[FLAME_HIST];
	int nhist;
	int scroll;               /* first depth shown */
	uint32_t cur, znode;      /* resolved in ui->tree */
	uint32_t main_module;

	struct frame *frames;     /* layout, in depth-first order (x order within a depth) */
	size_t n, cap;
	int maxdepth;
	uint64_t layout_gen;
	int layout_cols;
	uint32_t layout_znode;
	bool layout_valid;
};

static void path_set(struct path *p, const uint32_t *f, size_t n)
{
	util_grow((void **)&p->f, &p->cap, n + 1, sizeof *p->f);
	if (n)
		memcpy(p->f, f, n * sizeof *f);
	p->n = n;
}

/* The path of node (function ids from the root's child down to node). */
static void path_of(const struct calltree *t, uint32_t node, struct path *p)
{
	size_t n = 0;
	for (uint32_t i = node; i != 0 && i != CALLTREE_NONE; i = t->nodes[i].parent)
		n++;
	util_grow((void **)&p->f, &p->cap, n + 1, sizeof *p->f);
	p->n = n;
	for (uint32_t i = node; i != 0 && i != CALLTREE_NONE; i = t->nodes[i].parent)
		p->f[--n] = t->nodes[i].func;
}

/* The deepest node of t along path p. */
static uint32_t path_resolve(const struct calltree *t, const struct path *p)
{
	uint32_t node = 0;
	for (size_t i = 0; i < p->n; i++) {
		uint32_t c = calltree_child_find(t, node, p->f[i]);
		if (c == CALLTREE_NONE || !t->nodes[c].total)
			break;
		node = c;
	}
	return node;
}

static bool is_ancestor(const struct calltree *t, uint32_t a, uint32_t n)
{
	for (; n != CALLTREE_NONE; n = t->nodes[n].parent)
		if (n == a)
			return true;
	return false;
}

/* ---- layout ---- */

static void frame_add(struct flame *fl, uint32_t node, int depth, int x0, int x1)
{
	util_grow((void **)&fl->frames, &fl->cap, fl->n + 1, sizeof *fl->frames);
	fl->frames[fl->n++] = (struct frame){ node, depth, x0, x1 };
	if (depth > fl->maxdepth)
		fl->maxdepth = depth;
}

static void lay(struct flame *fl, const struct calltree *t, uint32_t node, int x0, int x1)
{
	const struct calltree_node *nd = &t->nodes[node];
	frame_add(fl, node, (int)nd->depth, x0, x1);
	uint64_t total = nd->total, cum = 0, w = (uint64_t)(x1 - x0);
	if (!total)
		return;
	for (uint32_t c = nd->first_child; c != CALLTREE_NONE; c = t->nodes[c].next_sibling) {
		int cx0 = x0 + (int)(cum * w / total);
		cum += t->nodes[c].total;
		int cx1 = x0 + (int)(cum * w / total);
		if (cx1 > cx0)
			lay(fl, t, c, cx0, cx1);
	}
}

/* Lay the tree out for the current width and zoom (cached until either changes). */
static void flame_layout(struct ui *ui, struct flame *fl)
{
	const struct calltree *t = ui->tree;
	if (!t) {
		fl->n = 0;
		fl->maxdepth = 0;
		return;
	}
	if (fl->layout_valid && fl->layout_gen == ui->tree_gen && fl->layout_cols == ui->cols &&
	    fl->layout_znode == fl->znode)
		return;
	fl->n = 0;
	fl->maxdepth = 0;
	/* The ancestors of the zoom root, full width. */
	uint32_t anc[1024];
	int na = 0;
	for (uint32_t a = t->nodes[fl->znode].parent; a != CALLTREE_NONE && na < 1024;
	     a = t->nodes[a].parent)
		anc[na++] = a;
	while (na > 0) {
		uint32_t a = anc[--na];
		frame_add(fl, a, (int)t->nodes[a].depth, 0, ui->cols);
	}
	lay(fl, t, fl->znode, 0, ui->cols);
	fl->layout_valid = true;
	fl->layout_gen = ui->tree_gen;
	fl->layout_cols = ui->cols;
	fl->layout_znode = fl->znode;
}

static long frame_index(const struct flame *fl, uint32_t node)
{
	for (size_t i = 0; i < fl->n; i++)
		if (fl->frames[i].node == node)
			return (long)i;
	return -1;
}

/* The cursor's frame, or its nearest ancestor that is drawn. */
static long visible_cursor(const struct ui *ui, const struct flame *fl)
{
	for (uint32_t n = fl->cur; n != CALLTREE_NONE; n = ui->tree->nodes[n].parent) {
		long i = frame_index(fl, n);
		if (i >= 0)
			return i;
	}
	return fl->n ? 0 : -1;
}

static int graph_rows(const struct ui *ui)
{
	return ui->body_h - 1 > 0 ? ui->body_h - 1 : 0;
}

static void clamp_scroll(struct ui *ui, struct flame *fl)
{
	int vis = graph_rows(ui);
	int max = fl->maxdepth + 1 - vis;
	if (fl->scroll > max)
		fl->scroll = max;
	if (fl->scroll < 0)
		fl->scroll = 0;
}

static void ensure_visible(struct ui *ui, struct flame *fl)
{
	if (!ui->tree)
		return;
	int d = (int)ui->tree->nodes[fl->cur].depth, vis = graph_rows(ui);
	if (d < fl->scroll)
		fl->scroll = d;
	if (vis > 0 && d >= fl->scroll + vis)
		fl->scroll = d - vis + 1;
	clamp_scroll(ui, fl);
}

/* ---- drawing ---- */

static bool is_system_module(const char *name)
{
	static const char *const prefixes[] = {
		"libc.so", "libc-", "ld-linux", "ld-", "ld.so", "libpthread", "libm.so", "libm-",
		"libdl", "librt", "libstdc++", "libgcc_s", "[vdso]", "linux-vdso", "[vsyscall]",
	};
	for (size_t i = 0; i < UTIL_ARRAY_LEN(prefixes); i++)
		if (!strncmp(name, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

static enum theme_elem module_elem(struct ui *ui, const struct flame *fl, uint32_t func)
{
	const struct sym_func *f = symbols_func(ui->sym, func);
	if (!f || f->module == UINT32_MAX)
		return THEME_FLAME_OTHER;
	if (f->module == fl->main_module)
		return THEME_FLAME_MAIN;
	const struct sym_module *m = symbols_module(ui->sym, f->module);
	if (!m)
		return THEME_FLAME_OTHER;
	return is_system_module(m->name) ? THEME_FLAME_SYSTEM : THEME_FLAME_LIB;
}

static int depth_row(const struct ui *ui, const struct flame *fl, int depth)
{
	int vis = graph_rows(ui), r = depth - fl->scroll;
	if (r < 0 || r >= vis)
		return -1;
	return ui->body_y + (fl->flame_mode ? vis - 1 - r : r);
}

/* A share without the padding ui_pct() adds. */
static const char *pct(char *buf, size_t n, uint64_t part, uint64_t whole)
{
	ui_pct(buf, n, part, whole);
	return buf + strspn(buf, " ");
}

/* The line under the graph: the selected frame's full name, where, samples and shares. */
static void draw_info(struct ui *ui, struct flame *fl)
{
	const struct calltree *t = ui->tree;
	int y = ui->body_y + ui->body_h - 1;
	ui_fill(ui, y, 0, ui->cols, THEME_STATUS);
	if (!t)
		return;
	const struct calltree_node *nd = &t->nodes[fl->cur];
	const struct sym_func *f = nd->func == CALLTREE_ROOT ? NULL : symbols_func(ui->sym, nd->func);
	char a[16], b[16], c[16], full[512], base[256], zoom[256];
	full[0] = zoom[0] = '\0';
	if (f && f->file[0])
		snprintf(full, sizeof full, "%s:%d", f->file, f->start_line);
	ui_func_where(ui, nd->func, base, sizeof base);
	if (fl->znode != 0 && fl->cur != fl->znode && is_ancestor(t, fl->znode, fl->cur))
		snprintf(zoom, sizeof zoom, ", %s%% of %s", pct(b, sizeof b, nd->total,
							       t->nodes[fl->znode].total),
			 calltree_node_name(t, fl->znode));
	/* The longest form that fits: full path, then the file's name, then without the zoom. */
	const char *wheres[2] = { full[0] ? full : base, base };
	char line[1024];
	for (int i = 0; i < 3; i++) {
		snprintf(line, sizeof line, "%s %s  %s  %s samples  %s%% of all%s",
			 ui->utf8 ? "\xe2\x96\xb6" : ">", calltree_node_name(t, fl->cur),
			 wheres[i ? 1 : 0][0] ? wheres[i ? 1 : 0] : "-",
			 ui_count(c, sizeof c, nd->total), pct(a, sizeof a, nd->total, ui->denom),
			 i < 2 ? zoom : "");
		if (ui_width(ui, line) <= ui->cols)
			break;
	}
	ui_text(ui, y, 0, ui->cols, THEME_STATUS, line);
}

static void flame_draw(struct ui *ui, void *st)
{
	struct flame *fl = st;
	const struct calltree *t = ui->tree;
	if (!t || !t->total) {
		ui_text(ui, ui->body_y + 1, 2, ui->cols - 4, THEME_DIM,
			ui->match[0] ? "no stack matches the filter (/ to change it)"
				     : "waiting for samples...");
		return;
	}
	flame_layout(ui, fl);
	clamp_scroll(ui, fl);
	uint32_t zdepth = t->nodes[fl->znode].depth;
	for (size_t i = 0; i < fl->n; i++) {
		const struct frame *fr = &fl->frames[i];
		int y = depth_row(ui, fl, fr->depth);
		if (y < 0)
			continue;
		const struct calltree_node *nd = &t->nodes[fr->node];
		enum theme_elem e;
		if (fr->node == fl->cur)
			e = THEME_FLAME_CURSOR;
		else if (fr->node == 0 || nd->depth < zdepth)
			e = THEME_FLAME_ROOT;
		else
			e = module_elem(ui, fl, nd->func);
		int w = fr->x1 - fr->x0;
		int inner = w >= 2 ? w - 1 : w;
		ui_fill(ui, y, fr->x0, inner, e);
		if (inner >= 3)
			ui_text(ui, y, fr->x0, inner, e, calltree_node_name(t, fr->node));
	}
	/* Marks for rows scrolled out of sight. */
	int vis = graph_rows(ui);
	if (fl->scroll > 0)
		ui_text_right(ui, depth_row(ui, fl, fl->scroll), 0, ui->cols, THEME_DIM,
			      fl->flame_mode ? " (more below) " : " (more above) ");
	if (fl->maxdepth >= fl->scroll + vis && vis > 0)
		ui_text_right(ui, depth_row(ui, fl, fl->scroll + vis - 1), 0, ui->cols, THEME_DIM,
			      fl->flame_mode ? " (more above) " : " (more below) ");
	draw_info(ui, fl);
}

/* ---- hooks ---- */

static void *flame_init(struct ui *ui)
{
	(void)ui;
	return xcalloc(1, sizeof(struct flame));
}

static void flame_done(void *st)
{
	struct flame *fl = st;
	free(fl->want.f);
	free(fl->zoom.f);
	for (int i = 0; i < FLAME_HIST; i++)
		free(fl->hist[i].f);
	free(fl->frames);
	free(fl);
}

static void flame_refresh(struct ui *ui, void *st)
{
	struct flame *fl = st;
	fl->layout_valid = false;
	if (!ui->tree)
		return;
	fl->main_module = symbols_main_module(ui->sym);
	fl->znode = path_resolve(ui->tree, &fl->zoom);
	fl->cur = path_resolve(ui->tree, &fl->want);
}

static void flame_resize(struct ui *ui, void *st)
{
	struct flame *fl = st;
	fl->layout_valid = false;
	clamp_scroll(ui, fl);
}

/* Move the cursor to node (remembered as a path) and keep it on screen. */
static void cursor_set(struct ui *ui, struct flame *fl, uint32_t node)
{
	fl->cur = node;
	path_of(ui->tree, node, &fl->want);
	ensure_visible(ui, fl);
}

static void zoom_to(struct ui *ui, struct flame *fl, uint32_t node)
{
	if (node == fl->znode)
		return;
	if (fl->nhist == FLAME_HIST) {
		free(fl->hist[0].f);
		memmove(fl->hist, fl->hist + 1, (FLAME_HIST - 1) * sizeof *fl->hist);
		memset(&fl->hist[FLAME_HIST - 1], 0, sizeof fl->hist[0]);
		fl->nhist--;
	}
	path_set(&fl->hist[fl->nhist++], fl->zoom.f, fl->zoom.n);
	path_of(ui->tree, node, &fl->zoom);
	fl->znode = node;
	fl->layout_valid = false;
	ensure_visible(ui, fl);
}

static int zoom_out(struct ui *ui, struct flame *fl)
{
	if (fl->nhist > 0) {
		struct path *h = &fl->hist[--fl->nhist];
		path_set(&fl->zoom, h->f, h->n);
	} else if (fl->zoom.n) {
		fl->zoom.n = 0;
	} else {
		return VIEW_HANDLED;
	}
	fl->znode = path_resolve(ui->tree, &fl->zoom);
	fl->layout_valid = false;
	ensure_visible(ui, fl);
	return VIEW_REDRAW;
}

/* The widest drawn child of the cursor. */
static long widest_child(const struct flame *fl, uint32_t parent, const struct calltree *t)
{
	long best = -1;
	for (size_t i = 0; i < fl->n; i++) {
		const struct frame *fr = &fl->frames[i];
		if (t->nodes[fr->node].parent != parent)
			continue;
		if (best < 0 || fr->x1 - fr->x0 > fl->frames[best].x1 - fl->frames[best].x0)
			best = (long)i;
	}
	return best;
}

static int flame_key(struct ui *ui, void *st, int key)
{
	struct flame *fl = st;
	const struct calltree *t = ui->tree;
	if (key == 'i') {
		fl->flame_mode = !fl->flame_mode;
		ui_status(ui, UI_STATUS_INFO, fl->flame_mode ? "flame: root at the bottom"
							     : "icicle: root on top");
		return VIEW_REDRAW;
	}
	if (!t || !t->total)
		return VIEW_IGNORED;
	flame_layout(ui, fl);
	long ci = visible_cursor(ui, fl);
	if (ci < 0)
		return VIEW_IGNORED;
	const struct frame *cf = &fl->frames[ci];
	int vis = graph_rows(ui);
	bool up_is_deeper = fl->flame_mode;
	switch (key) {
	case KEY_LEFT:
	case 'h':
		for (long i = ci - 1; i >= 0; i--)
			if (fl->frames[i].depth == cf->depth) {
				cursor_set(ui, fl, fl->frames[i].node);
				break;
			}
		return VIEW_REDRAW;
	case KEY_RIGHT:
	case 'l':
		for (size_t i = (size_t)ci + 1; i < fl->n; i++)
			if (fl->frames[i].depth == cf->depth) {
				cursor_set(ui, fl, fl->frames[i].node);
				break;
			}
		return VIEW_REDRAW;
	case KEY_UP:
	case KEY_DOWN:
	case 'k':
	case 'j': {
		bool deeper = (key == KEY_UP || key == 'k') == up_is_deeper;
		if (deeper) {
			long c = widest_child(fl, cf->node, t);
			if (c >= 0)
				cursor_set(ui, fl, fl->frames[c].node);
		} else if (t->nodes[cf->node].parent != CALLTREE_NONE) {
			cursor_set(ui, fl, t->nodes[cf->node].parent);
		}
		return VIEW_REDRAW;
	}
	case '\n':
	case '\r':
	case KEY_ENTER:
		zoom_to(ui, fl, cf->node);
		if (!is_ancestor(t, fl->znode, fl->cur))
			cursor_set(ui, fl, fl->znode);
		return VIEW_REDRAW;
	case 27:
	case KEY_BACKSPACE:
	case 127:
	case 8:
		return zoom_out(ui, fl);
	case KEY_HOME:
		cursor_set(ui, fl, fl->znode);
		return VIEW_REDRAW;
	case KEY_PPAGE:
	case KEY_NPAGE:
	case UI_KEY_WHEEL_UP:
	case UI_KEY_WHEEL_DOWN: {
		int step = key == KEY_PPAGE || key == KEY_NPAGE ? (vis > 1 ? vis - 1 : 1) : 3;
		bool screen_up = key == KEY_PPAGE || key == UI_KEY_WHEEL_UP;
		fl->scroll += screen_up == fl->flame_mode ? step : -step;
		clamp_scroll(ui, fl);
		return VIEW_REDRAW;
	}
	default:
		return VIEW_IGNORED;
	}
}

static int flame_click(struct ui *ui, void *st, int y, int x)
{
	struct flame *fl = st;
	if (!ui->tree || !ui->tree->total)
		return VIEW_HANDLED;
	flame_layout(ui, fl);
	for (size_t i = 0; i < fl->n; i++) {
		const struct frame *fr = &fl->frames[i];
		if (depth_row(ui, fl, fr->depth) == y && x >= fr->x0 && x < fr->x1) {
			if (fr->node == fl->cur)
				return flame_key(ui, st, '\n');
			cursor_set(ui, fl, fr->node);
			return VIEW_REDRAW;
		}
	}
	return VIEW_HANDLED;
}

static const struct ui_keyhelp flame_help[] = {
	{ "Left Right", "previous / next frame at the same depth (h l too)" },
	{ "Up Down", "parent / widest child (in flame mode the other way round)" },
	{ "Enter", "zoom: the frame fills the width (a click on the selected frame too)" },
	{ "Esc Backspace", "zoom back out" },
	{ "i", "icicle (root on top) or flame (root at the bottom)" },
	{ "Home", "cursor to the zoomed frame" },
	{ "PgUp PgDn", "scroll deep stacks" },
	{ NULL, NULL },
};

static const struct ui_barkey flame_bar[] = {
	{ "Enter", "Zoom", '\n' },
	{ "Esc", "Out", 27 },
	{ "i", "Flip", 'i' },
	{ NULL, NULL, 0 },
};

const struct view_ops view_flame = {
	.name = "flame",
	.help = flame_help,
	.bar = flame_bar,
	.init = flame_init,
	.done = flame_done,
	.draw = flame_draw,
	.key = flame_key,
	.resize = flame_resize,
	.refresh = flame_refresh,
	.click = flame_click,
};
