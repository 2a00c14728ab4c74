/*
 * theme: the colours and attributes of the TUI, read from plain text files.  No curses here: a
 * theme is data (colour numbers and attribute bits) that views/ui.c turns into colour pairs.
 *
 * File format, one element per line, '#' starts a comment, blank lines are ignored:
 *
 *     element = FG [BG] [ATTR...]
 *
 * FG and BG are colour names (default, black, red, green, yellow, blue, magenta, cyan, white,
 * and bright-black .. bright-white for 8..15) or numbers 0-255 (the xterm palette); "default"
 * is the terminal's own colour.  ATTR is bold, underline, reverse, dim or none.  Elements are
 * the names of THEME_ELEMENTS below.  Elements a file does not set keep the built-in dark
 * theme's values; an element given twice is an error.
 *
 * Lookup of `--theme NAME` (theme_load()): NAME containing '/' is a path; otherwise
 * NAME.theme in $XDG_CONFIG_HOME/proftop/themes (default ~/.config/proftop/themes), then
 * PROFTOP_SHAREDIR/themes (the installed copies), then themes/ beside the executable or its
 * parent directory (an uninstalled build).  "dark" (the default) and "mono" are also built in,
 * so the program runs with no theme files at all.
 *
 * Errors are one line, "FILE:LINE: what is wrong" for a malformed file, owned by the caller.
 */
#ifndef PROFTOP_THEME_H
#define PROFTOP_THEME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* X(ENUM_SUFFIX, "name in theme files", "what it colours") */
#define THEME_ELEMENTS(X) \
	X(NORMAL, "normal", "text of the views") \
	X(HEADER, "header", "the header line") \
	X(HEADER_VALUE, "header_value", "values in the header") \
	X(PAUSED, "paused", "the PAUSED and EXITED marks") \
	X(TAB, "tab", "view names in the tab line") \
	X(TAB_ACTIVE, "tab_active", "the current view's name") \
	X(TABLE_HEADER, "table_header", "column titles") \
	X(TABLE_SORT, "table_sort", "the title of the sort column") \
	X(CURSOR, "cursor", "the selected row") \
	X(BAR, "bar", "share bars") \
	X(DIM, "dim", "secondary text: locations, zero counts") \
	X(TITLE, "title", "section titles in details and help") \
	X(SOURCE_HOT, "source_hot", "source lines with samples") \
	X(STATUS, "status", "status messages") \
	X(STATUS_ERROR, "status_error", "error messages") \
	X(PROMPT, "prompt", "the filter prompt and pickers") \
	X(KEY, "key", "keys in the key bar") \
	X(KEY_LABEL, "key_label", "labels in the key bar") \
	X(BORDER, "border", "boxes") \
	X(BANNER, "banner", "alerts shown above every view") \
	X(FLAME_MAIN, "flame_main", "flame frames in the main executable") \
	X(FLAME_LIB, "flame_lib", "flame frames in other shared libraries") \
	X(FLAME_SYSTEM, "flame_system", "flame frames in libc, ld.so, libstdc++, vdso") \
	X(FLAME_OTHER, "flame_other", "flame frames of unknown modules") \
	X(FLAME_ROOT, "flame_root", "the flame graph's root and zoomed-out ancestors") \
	X(FLAME_CURSOR, "flame_cursor", "the selected flame frame") \
	X(SPARK, "spark", "sparklines of the memory view") \
	X(GROWING, "growing", "the GROWING flag and the growth of a growing metric") \
	X(DEADLOCK, "deadlock", "deadlocked threads and goroutines, and their locks") \
	X(LONG_WAIT, "long_wait", "long waits, stuck locks, locks whose owner died")

enum theme_elem {
#define THEME_ENUM(e, name, what) THEME_##e,
	THEME_ELEMENTS(THEME_ENUM)
#undef THEME_ENUM
	THEME_NELEMS
};

enum theme_attr {
	THEME_ATTR_BOLD = 1u << 0,
	THEME_ATTR_UNDERLINE = 1u << 1,
	THEME_ATTR_REVERSE = 1u << 2,
	THEME_ATTR_DIM = 1u << 3,
};

#define THEME_COLOR_DEFAULT (-1)

struct theme_style {
	int fg, bg;      /* 0-255, or THEME_COLOR_DEFAULT */
	unsigned attrs;  /* enum theme_attr bits */
};

struct theme {
	char name[64];
	struct theme_style style[THEME_NELEMS];
	uint64_t set;    /* bit e: element e was given by the file (not inherited) */
};

/* Name of element e in theme files; NULL when out of range. */
const char *theme_elem_name(enum theme_elem e);
/* One-line description of element e. */
const char *theme_elem_what(enum theme_elem e);

/* Fill *t with a built-in theme ("dark" or "mono"); -1 for other names. */
int theme_builtin(struct theme *t, const char *name);
/* The text of a built-in theme (as its themes/NAME.theme file holds it), NULL if none. */
const char *theme_builtin_text(const char *name);

/* Parse theme text over the dark defaults.  file names the source in messages.
 * Returns 0, or -1 with *err = "FILE:LINE: what is wrong". */
int theme_parse(struct theme *t, const char *text, const char *file, char **err);
/* Read and parse a file; -1 with *err when unreadable, -2 when malformed (*err is then
 * "FILE:LINE: what is wrong"). */
int theme_load_file(struct theme *t, const char *path, char **err);
/*
 * Find and load theme NAME (NULL: "dark") as described above; exe_dir is the directory of
 * the running executable (NULL to skip that step).  -1 with *err when no theme of that name
 * exists or it cannot be read, -2 when the file is malformed ("FILE:LINE: what is wrong").
 */
int theme_load(struct theme *t, const char *name, const char *exe_dir, char **err);
/* The path theme_load() would read for name, or NULL (built-in or not found); caller frees. */
char *theme_find(const char *name, const char *exe_dir);

/* A colour fitted to a terminal with ncolors colours (>= 256: unchanged; 16 or 88: the
 * first 16 kept, others approximated; 8: approximated to the 8 basic colours). */
int theme_color_fit(int color, int ncolors);

#endif
