/*
 * ui: the interactive shell (views/ui.c) and its contract with the views (views/NAME.c).
 *
 * The shell owns the terminal (ncurses on stdscr), the event-loop hooks, the shared state in
 * struct ui below, the header (two lines: target and sampler facts; the view tabs with the
 * filters), an optional banner line, the status line, the key bar, the modal inputs (the
 * filter prompt and list pickers) and the global keys.  A view owns the body, the rectangle of
 * rows body_y .. body_y + body_h - 1 across all cols columns, and its own state.
 *
 * The model: every refresh period (1 s; sooner just after attach) the shell rebuilds one call
 * tree (calltree.h) of the current window with the current filters into ui->tree, unless the
 * display is paused.  A key that changes a filter asks for a rebuild at once (VIEW_REBUILD).
 *
 * Order of calls to a view, all on the loop thread:
 *   init(ui)            once, before the first frame; returns the view's state (may be NULL)
 *   refresh(ui, st)     ui->tree was replaced (a rebuild): recompute rows, re-find the cursor.
 *                       A view that is not shown gets it when it is next shown, before draw.
 *   resize(ui, st)      the screen size (rows, cols, body_h) changed
 *   key(ui, st, key)    a key while the view is shown: a curses key (KEY_UP ...), a character,
 *                       or UI_KEY_WHEEL_UP/DOWN; returns VIEW_* flags, VIEW_IGNORED when the key
 *                       is not the view's (the shell's global keys then apply)
 *   click(ui, st, y, x) a mouse click at screen row y, column x inside the body
 *   draw(ui, st)        paint the body (the shell has erased it): ui_* helpers and curses calls
 *                       on stdscr only, within the body, no I/O, no model rebuilds
 *   done(st)            once, at exit
 * Every hook but draw may be NULL.  draw is called at most once per loop pass, only when
 * something changed (a key, a rebuild, a resize, a status message).
 *
 * Lifetime: ui->tree and everything reached through it (node indices included) is valid until
 * the next refresh; keep function ids (sym_func ids never change) or paths of them across
 * refreshes.  Strings from the symbols stay valid for the whole session.
 *
 * Adding a view: one file views/NAME.c exporting one `const struct view_ops view_NAME` with
 * designated initializers, declared below, and its line in the ui_views[] table at the top of
 * views/ui.c (the key that selects it is its position).  Data the view needs beyond the call
 * tree it reads from ui->app in its refresh hook; the monitor's (app->mon) changes at each of
 * its ticks instead, after which the shell redraws: views/threads.c re-reads it in draw and
 * key when monitor->updates moved.  Features of every view use ui_status() (e.g. a
 * snapshot's paths) and ui_banner() (the shell itself shows the monitor's deadlock alert,
 * monitor_deadlock(), after each of its refreshes, and clears it once the deadlock is gone); a
 * new global key goes in ui_key() and in ui_global_keys[] (the help view), --help and the man
 * page's KEYS (a test checks that the last two agree).
 */
#ifndef PROFTOP_UI_H
#define PROFTOP_UI_H

#include <curses.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app.h"
#include "calltree.h"
#include "theme.h"

/* Results of view_ops.key() and click(), or-ed. */
enum view_result {
	VIEW_IGNORED = 0,       /* not this view's key: the shell's global keys apply */
	VIEW_HANDLED = 1u << 0, /* taken, nothing to redraw */
	VIEW_REDRAW = 1u << 1,  /* taken; redraw */
	VIEW_REBUILD = 1u << 2, /* rebuild the call tree now (a filter changed), then redraw */
	VIEW_QUIT = 1u << 3,    /* end the program */
	VIEW_BACK = 1u << 4,    /* return to the previous view (help) */
};

/* Pseudo-keys after curses' own, for the mouse wheel. */
enum {
	UI_KEY_WHEEL_UP = KEY_MAX + 1,
	UI_KEY_WHEEL_DOWN,
};

/* One line of key help: keys as written in the man page ("Up Down", "Enter"), what they do. */
struct ui_keyhelp {
	const char *keys;
	const char *what;
};

/* One entry of the bottom key bar, htop-style: "Enter" "Detail". */
struct ui_barkey {
	const char *key;
	const char *label;
	int code;               /* the key a click on the entry sends */
};

struct ui;

struct view_ops {
	const char *name;                 /* in the tab line: "top", "flame" */
	const struct ui_keyhelp *help;    /* this view's keys for the help view, {NULL} ends */
	const struct ui_barkey *bar;      /* extra key-bar entries, {NULL} ends; may be NULL */
	void *(*init)(struct ui *ui);
	void (*done)(void *st);
	void (*draw)(struct ui *ui, void *st);
	int (*key)(struct ui *ui, void *st, int key);
	void (*resize)(struct ui *ui, void *st);
	void (*refresh)(struct ui *ui, void *st);
	int (*click)(struct ui *ui, void *st, int y, int x);
};

extern const struct view_ops view_top;      /* views/top.c */
extern const struct view_ops view_flame;    /* views/flame.c */
extern const struct view_ops view_help;     /* views/help.c */
extern const struct view_ops view_threads;   /* views/threads.c */
extern const struct view_ops view_memory;    /* views/memory.c */

/* The smallest usable screen; below it the shell shows "terminal too small". */
#define UI_MIN_COLS 60
#define UI_MIN_ROWS 15

enum ui_status_kind { UI_STATUS_INFO, UI_STATUS_ERROR };

struct ui_priv;

/* Shared UI state.  Views read it; they change only what the comments allow. */
struct ui {
	struct app *app;             /* the target, sampler and model (borrowed) */
	struct profile *prof;        /* app->prof */
	struct symbols *sym;         /* app->sym */

	/* The model snapshot of the current window and filters; NULL before the first rebuild. */
	struct calltree *tree;
	uint64_t tree_gen;           /* bumped at every rebuild */
	uint64_t denom;              /* samples the shares are relative to: the window's (the
					thread's, with a thread filter) total, filters aside */
	struct calltree_filter filter; /* .window, .tid, .match (NULL or ui->match) */
	char match[128];
	bool paused;                 /* display frozen; sampling goes on */

	/* Terminal. */
	bool utf8;                   /* block, box and ellipsis characters available */
	int colors;                  /* 0 (monochrome), 8, 16 or 256 */
	struct theme theme;
	attr_t attr[THEME_NELEMS];   /* curses attributes (with colour pairs) per element */
	int rows, cols;
	int body_y, body_h;          /* the view's rows */
	bool too_small;

	/* Process facts for the header, updated each second. */
	double proc_cpu;             /* CPU of the target, % of one core */

	struct ui_priv *priv;        /* the shell's own state */
};

/*
 * The shell, for cli_top() and for bench/ui_draw.c (which drives it on a virtual screen).
 * ui_new() needs a started app (or a stub with prof and sym set) and a theme; ui_screen_init()
 * runs after initscr()/newterm() and sets modes, colours and the layout; ui_rebuild() makes a
 * new tree; ui_draw() paints a whole frame and updates the terminal; ui_key() handles one key.
 */
struct ui *ui_new(struct app *a, const struct theme *th, bool no_color);
void ui_free(struct ui *ui);
void ui_screen_init(struct ui *ui);
void ui_rebuild(struct ui *ui);
void ui_draw(struct ui *ui);
void ui_key(struct ui *ui, int key);
/* Show view i of ui_views (0: top, 1: flame, ...) or the help view (-1). */
void ui_show_view(struct ui *ui, int i);
/* The number of views that keys 1..N select, and view i (0-based) of them. */
int ui_nviews(void);
const struct view_ops *ui_view_at(int i);
/* The shell's own keys (all views), for the help view; {NULL} ends. */
extern const struct ui_keyhelp ui_global_keys[];

/* Ask for a redraw at the end of this loop pass. */
void ui_dirty(struct ui *ui);

/* A one-line message on the status line for a few seconds (errors longer).  Also for other
 * features: snapshot paths, write errors.  Never printed to stdout/stderr. */
void ui_status(struct ui *ui, enum ui_status_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A line above every view (e.g. a deadlock alert) until cleared with NULL. */
void ui_banner(struct ui *ui, const char *text);

/*
 * A modal list: title, items (copied), a type-to-filter line.  chosen(ui, arg, index, typed) is
 * called on Enter with the index of the chosen item, or -1 and the typed text when no item
 * matches it (for "type a tid"); nothing is called on Esc.
 */
typedef void (*ui_picker_fn)(struct ui *ui, void *arg, int index, const char *typed);
void ui_picker(struct ui *ui, const char *title, const char *const *items, int n, int selected,
	       ui_picker_fn chosen, void *arg);

/* ---- drawing helpers (stdscr, clipped to the screen) ---- */

/*
 * The list keys every view shares: Up/k and Down/j (one row), the wheel (three), PgUp and PgDn
 * (page rows), Home and End move *pos within [0, n - 1] (0 when n is 0).  Returns false, and
 * changes nothing, for any other key.
 */
bool ui_list_key(int key, long page, size_t n, size_t *pos);
/* Adjust *scroll so that row cursor of n shows among vis rows. */
void ui_scroll_fit(size_t cursor, size_t n, int vis, size_t *scroll);

/* Display columns of s (UTF-8 when ui->utf8, else one per byte). */
int ui_width(const struct ui *ui, const char *s);
/* Draw s at (y, x) in element e within w columns; a longer s is cut with an ellipsis ("…" or
 * "~").  Returns the columns drawn.  Non-printable characters show as '?'. */
int ui_text(struct ui *ui, int y, int x, int w, enum theme_elem e, const char *s);
/* As ui_text, right-aligned in w columns (the padding is left as is). */
int ui_text_right(struct ui *ui, int y, int x, int w, enum theme_elem e, const char *s);
/* printf into w columns at (y, x). */
int ui_printf(struct ui *ui, int y, int x, int w, enum theme_elem e, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
/* Fill w columns at (y, x) with blanks in element e. */
void ui_fill(struct ui *ui, int y, int x, int w, enum theme_elem e);
/* A bar of w columns filled frac (0..1) of the way: eighth blocks in UTF-8, '#' in ASCII. */
void ui_bar(struct ui *ui, int y, int x, int w, double frac, enum theme_elem e);
/* A box (border element) around the rectangle, box characters or "+-|". */
void ui_box(struct ui *ui, int y, int x, int h, int w);
/* part/whole as "75.0" in buf (5 columns, "100.0" at most; "" whole 0 gives "  0.0"). */
const char *ui_pct(char *buf, size_t n, uint64_t part, uint64_t whole);
/* A count in at most 7 columns: "1234567", "12.3M". */
const char *ui_count(char *buf, size_t n, uint64_t v);
/* Where func is: "file.c:47" (basename), else its module ("libc.so.6"), else "". */
const char *ui_func_where(struct ui *ui, uint32_t func, char *buf, size_t n);
/* The function's name ("?" when unknown); valid for the session. */
const char *ui_func_name(struct ui *ui, uint32_t func);

#endif
