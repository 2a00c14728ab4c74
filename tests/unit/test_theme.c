/*
 * Unit test of theme: the shipped theme files parse and set every element, the built-in
 * themes are byte for byte themes/dark.theme and themes/mono.theme, malformed files give
 * "FILE:LINE: what is wrong" naming the right line, lookup follows --theme NAME's documented
 * order, and colours are fitted to 8- and 16-colour terminals.
 */
#include "theme.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"
#include "check.h"


static const uint64_t all_set = (1ull << THEME_NELEMS) - 1;

/* The repository's themes/ directory (tests run from the top of the tree). */
static char *themes_dir(void)
{
	const char *t = getenv("TESTDIR");
	return t ? xasprintf("%s/../themes", t) : xstrdup("themes");
}

static bool same_styles(const struct theme *a, const struct theme *b)
{
	return memcmp(a->style, b->style, sizeof a->style) == 0;
}

static void test_shipped(void)
{
	char *dir = themes_dir();
	static const char *const names[] = { "dark", "light", "mono" };
	struct theme th[3];
	for (int i = 0; i < 3; i++) {
		char *path = xasprintf("%s/%s.theme", dir, names[i]);
		char *err = NULL;
		int r = theme_load_file(&th[i], path, &err);
		check(r == 0, "%s parses%s%s", path, err ? ": " : "", err ? err : "");
		check(th[i].set == all_set, "%s sets every one of the %d elements", names[i],
		      THEME_NELEMS);
		check(!strcmp(th[i].name, names[i]), "%s is named '%s'", path, th[i].name);
		free(err);
		free(path);
	}
	check(!same_styles(&th[0], &th[1]), "light differs from dark");
	for (int e = 0; e < THEME_NELEMS; e++) {
		const struct theme_style *s = &th[2].style[e];
		check(s->fg == THEME_COLOR_DEFAULT && s->bg == THEME_COLOR_DEFAULT,
		      "mono uses no colour for %s", theme_elem_name((enum theme_elem)e));
	}
	/* The cursor and the selected flame frame must stand out by attributes alone in mono. */
	check(th[2].style[THEME_CURSOR].attrs != th[2].style[THEME_NORMAL].attrs,
	      "mono cursor differs from normal text");
	check(th[2].style[THEME_FLAME_CURSOR].attrs != th[2].style[THEME_FLAME_MAIN].attrs,
	      "mono flame cursor differs from other frames");

	for (int i = 0; i < 3; i += 2) {
		char *path = xasprintf("%s/%s.theme", dir, names[i]);
		char *text = util_read_file(path, NULL);
		const char *builtin = theme_builtin_text(names[i]);
		check(text && builtin && !strcmp(text, builtin),
		      "built-in %s is byte for byte %s", names[i], path);
		struct theme b;
		check(theme_builtin(&b, names[i]) == 0 && same_styles(&b, &th[i]) &&
			      b.set == all_set,
		      "built-in %s parses to the same styles", names[i]);
		free(text);
		free(path);
	}
	struct theme x;
	check(theme_builtin(&x, "light") < 0, "light is not built in");
	free(dir);
}

static void test_parse(void)
{
	struct theme t, dark;
	char *err = NULL;
	theme_builtin(&dark, "dark");
	int r = theme_parse(&t,
			    "# a comment\n"
			    "\n"
			    "cursor=red\r\n"
			    "  bar = 200   17 bold underline   # trailing comment\n"
			    "dim = bright-black default dim\n"
			    "title = default none\n"
			    "header = white blue reverse",
			    "t.theme", &err);
	check(r == 0, "valid text parses%s%s", err ? ": " : "", err ? err : "");
	free(err);
	err = NULL;
	check(t.style[THEME_CURSOR].fg == 1 && t.style[THEME_CURSOR].bg == THEME_COLOR_DEFAULT &&
		      t.style[THEME_CURSOR].attrs == 0,
	      "'cursor=red' (no blanks, CRLF): fg red, default bg, no attributes");
	check(t.style[THEME_BAR].fg == 200 && t.style[THEME_BAR].bg == 17 &&
		      t.style[THEME_BAR].attrs == (THEME_ATTR_BOLD | THEME_ATTR_UNDERLINE),
	      "'bar = 200 17 bold underline'");
	check(t.style[THEME_DIM].fg == 8 && t.style[THEME_DIM].attrs == THEME_ATTR_DIM,
	      "bright-black is 8, dim attribute");
	check(t.style[THEME_HEADER].fg == 7 && t.style[THEME_HEADER].bg == 4 &&
		      t.style[THEME_HEADER].attrs == THEME_ATTR_REVERSE,
	      "last line without a newline");
	check(!memcmp(&t.style[THEME_NORMAL], &dark.style[THEME_NORMAL], sizeof t.style[0]) &&
		      !memcmp(&t.style[THEME_FLAME_MAIN], &dark.style[THEME_FLAME_MAIN],
			      sizeof t.style[0]),
	      "elements not given keep the dark values");
	check(t.set == ((1ull << THEME_CURSOR) | (1ull << THEME_BAR) | (1ull << THEME_DIM) |
			(1ull << THEME_TITLE) | (1ull << THEME_HEADER)),
	      "set records exactly the given elements");

	static const struct {
		const char *text;
		int line;
		const char *what;
	} bad[] = {
		{ "normal = default\nbogus = red\n", 2, "unknown element 'bogus'" },
		{ "normal = default\n\n# c\ncursor red\n", 4, "expected 'element = FG" },
		{ "cursor = 256\n", 1, "colour 256 out of range" },
		{ "cursor = red 999\n", 1, "colour 999 out of range" },
		{ "cursor = purple\n", 1, "'purple' is not a colour" },
		{ "cursor = bold\n", 1, "'bold' is not a colour" },
		{ "cursor =\n", 1, "missing colour" },
		{ " = red\n", 1, "missing element name" },
		{ "cursor = red blue green\n", 1, "unexpected colour 'green'" },
		{ "cursor = red blue blink\n", 1, "'blink' is neither a colour nor an attribute" },
		{ "cursor = red\nbar = red\ncursor = blue\n", 3, "set twice (first on line 1)" },
		{ "a b = red\n", 1, "one element name" },
		{ "cursor = -1\n", 1, "'-1' is not a colour" },
	};
	for (size_t i = 0; i < UTIL_ARRAY_LEN(bad); i++) {
		err = NULL;
		r = theme_parse(&t, bad[i].text, "x/bad.theme", &err);
		char *prefix = xasprintf("x/bad.theme:%d: ", bad[i].line);
		check(r < 0 && err && !strncmp(err, prefix, strlen(prefix)) &&
			      strstr(err, bad[i].what),
		      "bad theme %zu: \"%s\" (want %s%s...)", i, err ? err : "(no error)", prefix,
		      bad[i].what);
		check(!err || !strchr(err, '\n'), "bad theme %zu: message is one line", i);
		free(prefix);
		free(err);
	}
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		check(false, "cannot write %s", path);
		return;
	}
	fputs(text, f);
	fclose(f);
}

static void test_lookup(void)
{
	char tmpl[] = "/tmp/test_theme.XXXXXX";
	char *dir = mkdtemp(tmpl);
	if (!dir) {
		check(false, "mkdtemp");
		return;
	}
	char *cfg = xasprintf("%s/cfg", dir);
	char *p1 = xasprintf("%s/proftop", cfg);
	char *p2 = xasprintf("%s/proftop/themes", cfg);
	char *exe = xasprintf("%s/bin", dir);
	char *exethemes = xasprintf("%s/bin/themes", dir);
	mkdir(cfg, 0755);
	mkdir(p1, 0755);
	mkdir(p2, 0755);
	mkdir(exe, 0755);
	mkdir(exethemes, 0755);
	char *custom = xasprintf("%s/custom.theme", p2);
	char *local = xasprintf("%s/local.theme", exethemes);
	char *both_cfg = xasprintf("%s/both.theme", p2);
	char *both_exe = xasprintf("%s/both.theme", exethemes);
	char *darkfile = xasprintf("%s/dark.theme", p2);
	char *broken = xasprintf("%s/broken.theme", p2);
	write_file(custom, "cursor = 1 2\n");
	write_file(local, "cursor = 3 4\n");
	write_file(both_cfg, "cursor = 5 6\n");
	write_file(both_exe, "cursor = 7 0\n");
	write_file(broken, "# fine\ncursor = 1 2 shiny\n");
	setenv("XDG_CONFIG_HOME", cfg, 1);

	struct theme t;
	char *err = NULL;
	check(theme_load(&t, "custom", exe, &err) == 0 && t.style[THEME_CURSOR].fg == 1 &&
		      !strcmp(t.name, "custom"),
	      "--theme custom found in $XDG_CONFIG_HOME/proftop/themes");
	check(theme_load(&t, "local", exe, &err) == 0 && t.style[THEME_CURSOR].fg == 3,
	      "--theme local found in themes/ beside the executable");
	check(theme_load(&t, "both", exe, &err) == 0 && t.style[THEME_CURSOR].fg == 5,
	      "the config directory comes before the executable's");
	check(theme_load(&t, local, NULL, &err) == 0 && t.style[THEME_CURSOR].fg == 3 &&
		      !strcmp(t.name, "local"),
	      "a name with '/' is a path");
	check(theme_load(&t, NULL, exe, &err) == 0 && !strcmp(t.name, "dark") &&
		      t.style[THEME_CURSOR].fg != 1,
	      "no --theme: dark (built in)");
	check(theme_load(&t, "mono", exe, &err) == 0 && !strcmp(t.name, "mono") &&
		      t.style[THEME_CURSOR].attrs == THEME_ATTR_REVERSE,
	      "mono is built in");
	write_file(darkfile, "cursor = 1 2\n");
	check(theme_load(&t, NULL, exe, &err) == 0 && t.style[THEME_CURSOR].fg == 1,
	      "a dark.theme in the config directory overrides the built-in dark");

	err = NULL;
	check(theme_load(&t, "nosuch", exe, &err) < 0 && err && strstr(err, "no theme 'nosuch'") &&
		      strstr(err, p2),
	      "unknown theme: \"%s\"", err ? err : "");
	free(err);
	err = NULL;
	char *want = xasprintf("%s:2: ", broken);
	check(theme_load(&t, "broken", exe, &err) < 0 && err && !strncmp(err, want, strlen(want)),
	      "malformed file found by name: \"%s\"", err ? err : "");
	free(want);
	free(err);
	err = NULL;
	char *missing = xasprintf("%s/missing.theme", dir);
	check(theme_load(&t, missing, exe, &err) < 0 && err && strstr(err, "cannot read theme"),
	      "missing path: \"%s\"", err ? err : "");
	free(err);
	err = NULL;
	check(theme_load(&t, "../x", exe, &err) < 0, "'..' in a name is refused");
	free(err);

	/* XDG_CONFIG_HOME unset: ~/.config is used. */
	unsetenv("XDG_CONFIG_HOME");
	char *home = xasprintf("%s/home", dir);
	char *hc = xasprintf("%s/home/.config", dir);
	mkdir(home, 0755);
	mkdir(hc, 0755);
	char *hc2 = xasprintf("%s/home/.config/proftop", dir);
	char *hc3 = xasprintf("%s/home/.config/proftop/themes", dir);
	mkdir(hc2, 0755);
	mkdir(hc3, 0755);
	char *hfile = xasprintf("%s/home/.config/proftop/themes/h.theme", dir);
	write_file(hfile, "cursor = 9\n");
	setenv("HOME", home, 1);
	check(theme_load(&t, "h", NULL, &err) == 0 && t.style[THEME_CURSOR].fg == 9,
	      "without XDG_CONFIG_HOME, ~/.config/proftop/themes");

	char *cmd = xasprintf("rm -rf '%s'", dir);
	if (system(cmd) != 0)
		check(false, "cleanup %s", dir);
	free(cmd);
	char *ptrs[] = { cfg, p1, p2, exe, exethemes, custom, local, both_cfg, both_exe, darkfile,
			 broken, missing, home, hc, hc2, hc3, hfile };
	for (size_t i = 0; i < UTIL_ARRAY_LEN(ptrs); i++)
		free(ptrs[i]);
}

static void test_fit(void)
{
	check(theme_color_fit(196, 256) == 196, "256 colours: unchanged");
	check(theme_color_fit(-1, 8) == -1, "default stays default");
	check(theme_color_fit(3, 8) == 3, "basic colours stay");
	check(theme_color_fit(9, 8) == 1 && theme_color_fit(9, 16) == 9, "bright red: 1 on 8, 9 on 16");
	check(theme_color_fit(196, 8) == 1, "cube red -> red");
	check(theme_color_fit(21, 8) == 4, "cube blue -> blue");
	check(theme_color_fit(24, 8) == 4, "dark blue (0,1,2) -> blue, not black");
	check(theme_color_fit(16, 8) == 0, "cube black -> black");
	check(theme_color_fit(231, 8) == 7, "cube white -> white");
	check(theme_color_fit(81, 8) == 6, "sky blue (1,4,5) -> cyan");
	check(theme_color_fit(214, 8) == 3, "orange (5,3,0) -> yellow");
	check(theme_color_fit(236, 8) == 0 && theme_color_fit(252, 8) == 7, "greys -> black/white");
	check(theme_color_fit(196, 16) == 9, "16 colours: bright red");
	for (int c = 0; c < 256; c++) {
		int f8 = theme_color_fit(c, 8), f16 = theme_color_fit(c, 16);
		if (f8 < 0 || f8 > 7 || f16 < 0 || f16 > 15) {
			check(false, "colour %d fits to %d/%d", c, f8, f16);
			return;
		}
	}
	check(true, "every colour fits in range");
}

int main(void)
{
	test_shipped();
	test_parse();
	test_lookup();
	test_fit();
	for (int e = 0; e < THEME_NELEMS; e++)
		if (!theme_elem_name((enum theme_elem)e) || !theme_elem_what((enum theme_elem)e))
			check(false, "element %d has a name and a description", e);
	printf("%s\n", failures ? "FAILED" : "all passed");
	return failures != 0;
}
