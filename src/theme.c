/* theme: theme files, the built-in themes and colour fitting (see theme.h). */
#include "theme.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

#ifndef PROFTOP_SHAREDIR
#define PROFTOP_SHAREDIR "/usr/local/share/proftop"
#endif

/* The built-in themes: byte for byte themes/dark.theme and themes/mono.theme (the unit test
 * checks that they stay equal). */
static const char builtin_dark[] =
	"# proftop dark theme (the default; also built into the binary).\n"
	"# element = FG [BG] [ATTR...]   colours: default, black..white, bright-black..bright-white, 0-255\n"
	"# attributes: bold underline reverse dim none.  See THEMES in proftop(1).\n"
	"normal        = default default\n"
	"header        = 252 236\n"
	"header_value  = 81 236 bold\n"
	"paused        = 16 214 bold\n"
	"tab           = 250 236\n"
	"tab_active    = 16 81 bold\n"
	"table_header  = 16 71\n"
	"table_sort    = 16 81 bold\n"
	"cursor        = 16 81\n"
	"bar           = 71 default\n"
	"dim           = 244 default\n"
	"title         = 81 default bold\n"
	"source_hot    = 222 default\n"
	"status        = 252 default\n"
	"status_error  = 231 160 bold\n"
	"prompt        = 231 24 bold\n"
	"key           = 231 default bold\n"
	"key_label     = 16 73\n"
	"border        = 244 default\n"
	"banner        = 231 160 bold\n"
	"flame_main    = 16 209\n"
	"flame_lib     = 16 179\n"
	"flame_system  = 16 110\n"
	"flame_other   = 16 247\n"
	"flame_root    = 252 238\n"
	"flame_cursor  = 231 25 bold\n"
	"spark         = 81 default\n"
	"growing       = 231 166 bold\n"
	"deadlock      = 203 default bold\n"
	"long_wait     = 214 default\n"
	;
static const char builtin_mono[] =
	"# proftop monochrome theme: attributes only (also built in; used for --no-color and NO_COLOR).\n"
	"# element = FG [BG] [ATTR...]   See THEMES in proftop(1).\n"
	"normal        = default default\n"
	"header        = default default reverse\n"
	"header_value  = default default reverse bold\n"
	"paused        = default default bold\n"
	"tab           = default default reverse\n"
	"tab_active    = default default bold\n"
	"table_header  = default default reverse\n"
	"table_sort    = default default reverse bold underline\n"
	"cursor        = default default reverse\n"
	"bar           = default default\n"
	"dim           = default default dim\n"
	"title         = default default bold underline\n"
	"source_hot    = default default bold\n"
	"status        = default default\n"
	"status_error  = default default reverse bold\n"
	"prompt        = default default bold\n"
	"key           = default default bold\n"
	"key_label     = default default reverse\n"
	"border        = default default\n"
	"banner        = default default reverse bold\n"
	"flame_main    = default default reverse\n"
	"flame_lib     = default default reverse\n"
	"flame_system  = default default reverse\n"
	"flame_other   = default default reverse\n"
	"flame_root    = default default reverse dim\n"
	"flame_cursor  = default default bold underline\n"
	"spark         = default default\n"
	"growing       = default default reverse bold\n"
	"deadlock      = default default bold\n"
	"long_wait     = default default underline\n"
	;

static const char *const elem_names[] = {
#define THEME_NAME(e, name, what) name,
	THEME_ELEMENTS(THEME_NAME)
#undef THEME_NAME
};

static const char *const elem_whats[] = {
#define THEME_WHAT(e, name, what) what,
	THEME_ELEMENTS(THEME_WHAT)
#undef THEME_WHAT
};

const char *theme_elem_name(enum theme_elem e)
{
	return (unsigned)e < THEME_NELEMS ? elem_names[e] : NULL;
}

const char *theme_elem_what(enum theme_elem e)
{
	return (unsigned)e < THEME_NELEMS ? elem_whats[e] : NULL;
}

static const char *const color_names[] = {
	"black", "red", "green", "yellow", "blue", "magenta", "cyan", "white",
	"bright-black", "bright-red", "bright-green", "bright-yellow", "bright-blue",
	"bright-magenta", "bright-cyan", "bright-white",
};

static const struct {
	const char *name;
	unsigned bit;
} attr_names[] = {
	{ "bold", THEME_ATTR_BOLD },
	{ "underline", THEME_ATTR_UNDERLINE },
	{ "reverse", THEME_ATTR_REVERSE },
	{ "dim", THEME_ATTR_DIM },
	{ "none", 0 },
};

/* Parse a colour token: 0 with *out set, 1 when it is a number out of range, -1 when it is no
 * colour at all. */
static int parse_color(const char *tok, int *out)
{
	if (!strcmp(tok, "default")) {
		*out = THEME_COLOR_DEFAULT;
		return 0;
	}
	for (size_t i = 0; i < UTIL_ARRAY_LEN(color_names); i++) {
		if (!strcmp(tok, color_names[i])) {
			*out = (int)i;
			return 0;
		}
	}
	if (!*tok)
		return -1;
	long v = 0;
	for (const char *c = tok; *c; c++) {
		if (!isdigit((unsigned char)*c))
			return -1;
		if (v <= 1000)
			v = v * 10 + (*c - '0');
	}
	if (v > 255)
		return 1;
	*out = (int)v;
	return 0;
}

static int parse_attr(const char *tok, unsigned *bits)
{
	for (size_t i = 0; i < UTIL_ARRAY_LEN(attr_names); i++) {
		if (!strcmp(tok, attr_names[i].name)) {
			*bits |= attr_names[i].bit;
			return 0;
		}
	}
	return -1;
}

static int find_elem(const char *name)
{
	for (int i = 0; i < THEME_NELEMS; i++)
		if (!strcmp(name, elem_names[i]))
			return i;
	return -1;
}

/* Split s at blanks into at most max tokens (s is modified); returns the count, or max + 1
 * when there are more. */
static int tokenize(char *s, char **tok, int max)
{
	int n = 0;
	for (;;) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s)
			return n;
		if (n == max)
			return max + 1;
		tok[n++] = s;
		while (*s && *s != ' ' && *s != '\t')
			s++;
		if (*s)
			*s++ = '\0';
	}
}

/* Parse one line (already without its comment) into t; line_of[] remembers where each element
 * was set.  Returns NULL or an error message (without the FILE:LINE prefix). */
static char *parse_line(struct theme *t, char *line, int lineno, int *line_of)
{
	char *eq = strchr(line, '=');
	char *tok[8];
	if (!eq) {
		int n = tokenize(line, tok, 8);
		if (n == 0)
			return NULL;
		return xasprintf("expected 'element = FG [BG] [ATTR...]', got '%s'", tok[0]);
	}
	*eq = '\0';
	int nl = tokenize(line, tok, 2);
	if (nl == 0)
		return xstrdup("missing element name before '='");
	if (nl > 1)
		return xasprintf("expected one element name before '=', got '%s %s'", tok[0], tok[1]);
	int e = find_elem(tok[0]);
	if (e < 0)
		return xasprintf("unknown element '%s' (the elements are listed under THEMES in "
				 "proftop(1))", tok[0]);
	if (line_of[e])
		return xasprintf("element '%s' set twice (first on line %d)", tok[0], line_of[e]);
	const char *ename = elem_names[e];
	int n = tokenize(eq + 1, tok, 8);
	if (n == 0)
		return xasprintf("missing colour after '%s ='", ename);
	if (n > 8)
		return xasprintf("too many words after '%s ='", ename);
	struct theme_style st = { THEME_COLOR_DEFAULT, THEME_COLOR_DEFAULT, 0 };
	int r = parse_color(tok[0], &st.fg);
	if (r > 0)
		return xasprintf("colour %s out of range (0-255)", tok[0]);
	if (r < 0)
		return xasprintf("'%s' is not a colour (default, a name such as red or bright-blue, "
				 "or 0-255)", tok[0]);
	int i = 1;
	if (i < n) {
		int c;
		r = parse_color(tok[i], &c);
		if (r > 0)
			return xasprintf("colour %s out of range (0-255)", tok[i]);
		if (r == 0) {
			st.bg = c;
			i++;
		}
	}
	for (; i < n; i++) {
		if (parse_attr(tok[i], &st.attrs) == 0)
			continue;
		int c;
		if (parse_color(tok[i], &c) >= 0)
			return xasprintf("unexpected colour '%s': give FG, then BG, then attributes",
					 tok[i]);
		return xasprintf("'%s' is neither a colour nor an attribute (bold, underline, "
				 "reverse, dim, none)", tok[i]);
	}
	t->style[e] = st;
	t->set |= 1ull << e;
	line_of[e] = lineno;
	return NULL;
}

/* Parse text into t (without resetting it first). */
static int parse_into(struct theme *t, const char *text, const char *file, char **err)
{
	int line_of[THEME_NELEMS] = { 0 };
	int lineno = 0;
	const char *p = text;
	while (*p) {
		lineno++;
		const char *end = strchr(p, '\n');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char *line = xstrndup(p, len);
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		for (char *c = line; *c; c++)
			if (*c == '\r')
				*c = ' ';
		char *msg = parse_line(t, line, lineno, line_of);
		free(line);
		if (msg) {
			*err = xasprintf("%s:%d: %s", file, lineno, msg);
			free(msg);
			return -1;
		}
		if (!end)
			break;
		p = end + 1;
	}
	return 0;
}

/* The dark defaults every theme starts from. */
static void theme_defaults(struct theme *t)
{
	memset(t, 0, sizeof *t);
	char *err = NULL;
	if (parse_into(t, builtin_dark, "(built-in dark)", &err) < 0)
		util_fatal("%s", err); /* a bug: the unit test parses it */
	t->set = 0;
	snprintf(t->name, sizeof t->name, "dark");
}

const char *theme_builtin_text(const char *name)
{
	if (!strcmp(name, "dark"))
		return builtin_dark;
	if (!strcmp(name, "mono"))
		return builtin_mono;
	return NULL;
}

int theme_builtin(struct theme *t, const char *name)
{
	const char *text = theme_builtin_text(name);
	if (!text)
		return -1;
	char *err = NULL;
	char file[80];
	snprintf(file, sizeof file, "(built-in %s)", name);
	if (theme_parse(t, text, file, &err) < 0)
		util_fatal("%s", err);
	snprintf(t->name, sizeof t->name, "%s", name);
	return 0;
}

int theme_parse(struct theme *t, const char *text, const char *file, char **err)
{
	theme_defaults(t);
	return parse_into(t, text, file, err);
}

int theme_load_file(struct theme *t, const char *path, char **err)
{
	size_t len = 0;
	char *text = util_read_file(path, &len);
	if (!text) {
		*err = xasprintf("cannot read theme %s: %s", path, strerror(errno));
		return -1;
	}
	if (strlen(text) != len) {
		/* A NUL byte: report the line it is on. */
		int line = 1;
		for (size_t i = 0; i < len && text[i]; i++)
			line += text[i] == '\n';
		*err = xasprintf("%s:%d: NUL byte in the line (not a text file)", path, line);
		free(text);
		return -2;
	}
	int r = theme_parse(t, text, path, err) < 0 ? -2 : 0;
	free(text);
	if (r == 0) {
		const char *base = strrchr(path, '/');
		base = base ? base + 1 : path;
		size_t n = strlen(base);
		if (n > 6 && !strcmp(base + n - 6, ".theme"))
			n -= 6;
		snprintf(t->name, sizeof t->name, "%.*s", (int)n, base);
	}
	return r;
}

/* The directories searched for NAME.theme, in order; *n gets the count.  Caller frees each. */
static int theme_dirs(const char *exe_dir, char **dirs)
{
	int n = 0;
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");
	if (xdg && xdg[0] == '/')
		dirs[n++] = xasprintf("%s/proftop/themes", xdg);
	else if (home && *home)
		dirs[n++] = xasprintf("%s/.config/proftop/themes", home);
	dirs[n++] = xstrdup(PROFTOP_SHAREDIR "/themes");
	if (exe_dir && *exe_dir) {
		/* installed under another PREFIX than the one built in, and the source tree */
		dirs[n++] = xasprintf("%s/../share/proftop/themes", exe_dir);
		dirs[n++] = xasprintf("%s/themes", exe_dir);
		dirs[n++] = xasprintf("%s/../themes", exe_dir);
	}
	return n;
}

char *theme_find(const char *name, const char *exe_dir)
{
	if (!name)
		name = "dark";
	if (strchr(name, '/'))
		return xstrdup(name);
	char *dirs[5];
	int n = theme_dirs(exe_dir, dirs);
	char *found = NULL;
	for (int i = 0; i < n; i++) {
		if (!found) {
			char *p = xasprintf("%s/%s.theme", dirs[i], name);
			if (access(p, F_OK) == 0)
				found = p;
			else
				free(p);
		}
		free(dirs[i]);
	}
	return found;
}

int theme_load(struct theme *t, const char *name, const char *exe_dir, char **err)
{
	if (!name)
		name = "dark";
	if (!*name || (!strchr(name, '/') && strstr(name, ".."))) {
		*err = xasprintf("bad theme name '%s'", name);
		return -1;
	}
	char *path = theme_find(name, exe_dir);
	if (path) {
		int r = theme_load_file(t, path, err);
		free(path);
		return r;
	}
	if (theme_builtin(t, name) == 0)
		return 0;
	char *dirs[5];
	int n = theme_dirs(exe_dir, dirs);
	struct strbuf sb = { 0 };
	strbuf_printf(&sb, "no theme '%s' (looked for %s.theme in ", name, name);
	for (int i = 0; i < n; i++) {
		strbuf_printf(&sb, "%s%s", i ? (i + 1 == n ? " and " : ", ") : "", dirs[i]);
		free(dirs[i]);
	}
	strbuf_puts(&sb, "; built in: dark, mono)");
	*err = sb.s;
	return -1;
}

/* One of the 6 levels of the xterm colour cube, as 0..5. */
static int cube_level(int c, int shift)
{
	return (c - 16) / shift % 6;
}

int theme_color_fit(int color, int ncolors)
{
	if (color < 0 || ncolors >= 256)
		return color;
	if (color < 16 && ncolors >= 16)
		return color;
	if (color < 8)
		return color;
	if (color < 16)
		return color - 8;
	int r, g, b;
	if (color >= 232) {
		/* Grey ramp 232..255: dark greys become black, light ones white. */
		int level = color - 232;
		if (ncolors >= 16 && level >= 6 && level < 14)
			return 8;
		return level < 10 ? 0 : 7;
	}
	r = cube_level(color, 36);
	g = cube_level(color, 6);
	b = cube_level(color, 1);
	int m = r > g ? (r > b ? r : b) : (g > b ? g : b);
	if (m == 0)
		return 0;
	/* A component is on when it is more than half of the strongest one. */
	int c = (r * 2 > m ? 1 : 0) | (g * 2 > m ? 2 : 0) | (b * 2 > m ? 4 : 0);
	if (ncolors >= 16 && m >= 4 && c != 7)
		c += 8;
	return c;
}
