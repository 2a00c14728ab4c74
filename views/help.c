/* help: every key of the shell and of each view (their own tables), the mouse, the colours. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui.h"
#include "util.h"

struct help {
	int scroll;
	int nlines;     /* lines of the last draw */
	char screen[128];
	char titles[8][64];
};

/* One screen line: a title or text (keys NULL), or keys with (part of) their description. */
struct pline {
	enum theme_elem e;
	const char *keys;
	const char *text;
	int len;        /* bytes of text, -1: all */
};

struct plines {
	struct pline l[400];
	int n;
};

static void add(struct plines *p, enum theme_elem e, const char *keys, const char *text, int len)
{
	if (p->n < (int)UTIL_ARRAY_LEN(p->l))
		p->l[p->n++] = (struct pline){ e, keys, text, len };
}

/* Add keys and their description, wrapped at blanks to w columns (ASCII text). */
static void add_wrapped(struct plines *p, const char *keys, const char *text, int w, bool own_line)
{
	if (own_line) {
		add(p, THEME_NORMAL, keys, "", 0);
		keys = "";
	}
	const char *s = text;
	do {
		int n = (int)strlen(s);
		if (n > w) {
			n = w;
			while (n > 0 && s[n] != ' ')
				n--;
			if (n == 0)
				n = w;
		}
		add(p, THEME_NORMAL, keys, s, n);
		keys = "";
		s += n;
		while (*s == ' ')
			s++;
	} while (*s);
}

static void add_keys(struct plines *p, const struct ui_keyhelp *k, int kw, int dw)
{
	for (; k->keys; k++)
		add_wrapped(p, k->keys, k->what, dw, (int)strlen(k->keys) > kw - 4);
}

/* The help text laid out for the screen width. */
static void help_layout(struct ui *ui, struct help *h, struct plines *p, int *kwp)
{
	int maxk = 0;
	for (const struct ui_keyhelp *k = ui_global_keys; k->keys; k++)
		if ((int)strlen(k->keys) > maxk)
			maxk = (int)strlen(k->keys);
	for (int i = 0; i < ui_nviews(); i++)
		for (const struct ui_keyhelp *k = ui_view_at(i)->help; k && k->keys; k++)
			if ((int)strlen(k->keys) > maxk)
				maxk = (int)strlen(k->keys);
	int kw = maxk + 6;
	if (kw > ui->cols / 3)
		kw = ui->cols / 3;
	int dw = ui->cols - kw - 1;
	*kwp = kw;
	p->n = 0;
	add(p, THEME_TITLE, NULL, "Keys in every view", -1);
	add_keys(p, ui_global_keys, kw, dw);
	for (int i = 0; i < ui_nviews() && i < 8; i++) {
		const struct view_ops *v = ui_view_at(i);
		if (!v->help || !v->help->keys)
			continue;
		snprintf(h->titles[i], sizeof h->titles[i], "View %d: %s", i + 1, v->name);
		add(p, THEME_NORMAL, NULL, "", -1);
		add(p, THEME_TITLE, NULL, h->titles[i], -1);
		add_keys(p, v->help, kw, dw);
	}
	static const struct ui_keyhelp mouse[] = {
		{ "click", "select a row, a frame, a view tab or a key bar entry; click the "
			   "selection to open it" },
		{ "wheel", "scroll" },
		{ NULL, NULL },
	};
	add(p, THEME_NORMAL, NULL, "", -1);
	add(p, THEME_TITLE, NULL, "Mouse", -1);
	add_keys(p, mouse, kw, dw);
	add(p, THEME_NORMAL, NULL, "", -1);
	add(p, THEME_TITLE, NULL, "This screen", -1);
	snprintf(h->screen, sizeof h->screen, "theme '%s', %s, %s", ui->theme.name,
		 ui->colors >= 256 ? "256 colours"
		 : ui->colors >= 16 ? "16 colours"
		 : ui->colors ? "8 colours"
			      : "no colours",
		 ui->utf8 ? "UTF-8" : "ASCII");
	add(p, THEME_DIM, NULL, h->screen, -1);
	add(p, THEME_DIM, NULL, "Esc, Backspace, Enter or ? returns; man proftop has it all", -1);
}

static void *help_init(struct ui *ui)
{
	(void)ui;
	return xcalloc(1, sizeof(struct help));
}

static void help_done(void *st)
{
	free(st);
}

static void help_draw(struct ui *ui, void *st)
{
	struct help *h = st;
	struct plines *p = xmalloc(sizeof *p);
	int kw;
	help_layout(ui, h, p, &kw);
	h->nlines = p->n;
	int vis = ui->body_h;
	if (h->scroll > p->n - vis)
		h->scroll = p->n - vis;
	if (h->scroll < 0)
		h->scroll = 0;
	for (int r = 0; r < vis && h->scroll + r < p->n; r++) {
		const struct pline *l = &p->l[h->scroll + r];
		int y = ui->body_y + r;
		char buf[512];
		snprintf(buf, sizeof buf, "%.*s", l->len < 0 ? (int)strlen(l->text) : l->len,
			 l->text);
		if (!l->keys) {
			ui_text(ui, y, 1, ui->cols - 2, l->e, buf);
			continue;
		}
		ui_text(ui, y, 3, ui->cols - 4, THEME_KEY, l->keys);
		ui_text(ui, y, kw, ui->cols - kw - 1, l->e, buf);
	}
	if (h->scroll + vis < p->n)
		ui_text_right(ui, ui->body_y + vis - 1, 0, ui->cols, THEME_DIM, " (more: Down) ");
	free(p);
}

static int help_key(struct ui *ui, void *st, int key)
{
	struct help *h = st;
	int page = ui->body_h > 1 ? ui->body_h - 1 : 1;
	switch (key) {
	case 27:
	case KEY_BACKSPACE:
	case 127:
	case 8:
	case '\n':
	case '\r':
	case KEY_ENTER:
	case '?':
	case KEY_F(1):
		return VIEW_BACK;
	default:
		break;
	}
	/* The page scrolls as a whole (the draw keeps it within the page). */
	size_t pos = h->scroll > 0 ? (size_t)h->scroll : 0;
	if (!ui_list_key(key, page, (size_t)(h->nlines > 0 ? h->nlines : 0) + 1, &pos))
		return VIEW_IGNORED;
	h->scroll = (int)pos;
	return VIEW_REDRAW;
}

static const struct ui_keyhelp help_help[] = { { NULL, NULL } };

static const struct ui_barkey help_bar[] = {
	{ "Esc", "Back", 27 },
	{ NULL, NULL, 0 },
};

const struct view_ops view_help = {
	.name = "help",
	.help = help_help,
	.bar = help_bar,
	.init = help_init,
	.done = help_done,
	.draw = help_draw,
	.key = help_key,
};
