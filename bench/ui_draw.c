/*
 * bench/ui_draw: the time to draw one frame of each view of the TUI at 200x60 for a call tree
 * of at least 10,000 nodes (run by bench/ui; target under 5 ms a frame).
 *
 * The model is real: samples whose stacks are random paths through the code of this very
 * process (addresses inside the text of every library it has mapped, so names, modules and
 * colours are those of real functions), fed through profile_add() and symbolized by the
 * symbols module; the shell (views/ui.c) draws into a virtual screen (newterm on /dev/null,
 * xterm-256color, UTF-8).  Two costs per view: a frame when nothing changed on screen (compose
 * the whole frame plus curses' diff, what a refresh costs most of the time), and a frame with
 * a full repaint (clearok: every cell is sent).  Times are CPU time of the drawing thread
 * (CLOCK_THREAD_CPUTIME_ID), so other load on the machine does not inflate them.  Also the model rebuild the shell does once a
 * second (calltree_build plus the view's refresh).  Views 3 and 4 draw a real monitor watching
 * this process, with 64 extra threads blocked on a mutex one of them holds (so the threads view
 * has waits and owners to show) and a full minute of memory history.
 *
 * usage: ui_draw [MIN_NODES] [FRAMES]      (defaults 10000 and 200)
 */
#include <locale.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "calltree.h"
#include "profile.h"
#include "symbols.h"
#include "theme.h"
#include "ui.h"
#include "util.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

/* Threads for view 3: one holds the mutex, the others wait for it. */
static pthread_mutex_t bench_lock = PTHREAD_MUTEX_INITIALIZER;
static int bench_release[2];

static void *bench_holder(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&bench_lock);
	char c;
	if (read(bench_release[0], &c, 1) < 0)
		c = 0;
	pthread_mutex_unlock(&bench_lock);
	return NULL;
}

static void *bench_waiter(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&bench_lock);
	pthread_mutex_unlock(&bench_lock);
	return NULL;
}

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Addresses of distinct functions in this process's executable mappings. */
static size_t collect_functions(struct symbols *sym, uint64_t *out, size_t max)
{
	FILE *f = fopen("/proc/self/maps", "r");
	if (!f)
		return 0;
	uint64_t lo[64], hi[64];
	int nr = 0;
	char line[512];
	while (fgets(line, sizeof line, f) && nr < 64) {
		unsigned long long a, b;
		char perms[8];
		if (sscanf(line, "%llx-%llx %7s", &a, &b, perms) == 3 && perms[2] == 'x' &&
		    strchr(line, '/')) {
			lo[nr] = a;
			hi[nr] = b;
			nr++;
		}
	}
	fclose(f);
	if (!nr)
		return 0;
	size_t nf = 0;
	for (int tries = 0; tries < 200000 && nf < max; tries++) {
		int r = (int)(rnd() % (uint64_t)nr);
		uint64_t addr = lo[r] + rnd() % (hi[r] - lo[r]);
		/* Ids are dense and handed out on first sight: a new id is a new function. */
		size_t before = symbols_nfuncs(sym);
		const struct sym_loc *loc = symbols_lookup(sym, addr);
		if (loc->lines[loc->nlines - 1].func >= before)
			out[nf++] = addr;
	}
	return nf;
}

/* CPU time of this thread: the cost of a frame, whatever else the machine is doing. */
static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

struct node {
	uint32_t parent;
	uint32_t depth;
	uint64_t addr;
};

int main(int argc, char **argv)
{
	size_t min_nodes = argc > 1 ? (size_t)atol(argv[1]) : 10000;
	int frames = argc > 2 ? atoi(argv[2]) : 200;
	if (!setlocale(LC_ALL, "C.UTF-8"))
		setlocale(LC_ALL, "");
	setlocale(LC_NUMERIC, "C");

	char *cause = NULL;
	struct symbols *sym = symbols_new(getpid(), &cause);
	if (!sym) {
		fprintf(stderr, "ui_draw: %s\n", cause);
		return 1;
	}
	uint64_t *funcs = xcalloc(4000, sizeof *funcs);
	size_t nfuncs = collect_functions(sym, funcs, 4000);
	if (nfuncs < 100) {
		fprintf(stderr, "ui_draw: only %zu functions found\n", nfuncs);
		return 1;
	}
	struct profile *prof = profile_new(sym, getpid(), 3600ull * 1000000000ull);

	/* A random tree: each new node hangs under a recent one (deep stacks) or any one (wide
	 * ones); every node gets samples, leaves more.  Grown until the call tree is big enough. */
	size_t cap = 0, n = 1;
	struct node *nodes = NULL;
	util_grow((void **)&nodes, &cap, 1, sizeof *nodes);
	nodes[0] = (struct node){ UINT32_MAX, 0, 0 };
	struct calltree_filter flt = { .window = PROFILE_LIVE };
	struct calltree *t = NULL;
	uint64_t nsamples = 0;
	struct sample s;
	memset(&s, 0, sizeof s);
	s.tid = getpid();
	s.weight_ns = 10000000;
	for (;;) {
		for (int k = 0; k < 2000; k++) {
			uint32_t parent = (rnd() % 10 < 7 && n > 60) ? (uint32_t)(n - 1 - rnd() % 60)
								     : (uint32_t)(rnd() % n);
			if (nodes[parent].depth >= 90)
				parent = (uint32_t)(rnd() % n);
			util_grow((void **)&nodes, &cap, n + 1, sizeof *nodes);
			nodes[n] = (struct node){ parent, nodes[parent].depth + 1,
						  funcs[rnd() % nfuncs] };
			/* The stack of node n, leaf first. */
			s.nframes = 0;
			for (uint32_t i = (uint32_t)n; i != 0 && s.nframes < SAMPLE_MAX_FRAMES;
			     i = nodes[i].parent) {
				/* Callers are return addresses: profile_add() looks up pc - 1. */
				s.pc[s.nframes] = nodes[i].addr + (s.nframes ? 1 : 0);
				s.nframes++;
			}
			int count = 1 + (int)(rnd() % 8 == 0 ? rnd() % 200 : rnd() % 5);
			for (int c = 0; c < count; c++) {
				s.time_ns = util_now_ns();
				profile_add(prof, &s);
				nsamples++;
			}
			n++;
		}
		calltree_free(t);
		t = calltree_build(prof, &flt);
		if (t->n >= min_nodes)
			break;
	}
	uint32_t maxdepth = 0;
	for (size_t i = 0; i < t->n; i++)
		if (t->nodes[i].depth > maxdepth)
			maxdepth = t->nodes[i].depth;
	size_t tree_nodes = t->n;
	calltree_free(t);

	/* The shell on a virtual 200x60 screen. */
	struct app a;
	memset(&a, 0, sizeof a);
	a.pid = getpid();
	snprintf(a.comm, sizeof a.comm, "ui_draw");
	a.mode_name = "perf";
	a.rate_hz = 99;
	a.sym = sym;
	a.prof = prof;
	a.sample_rate = 198;
	a.start_ns = util_now_ns();
	a.sigfd = a.timerfd = a.pidfd = -1;
	pthread_t threads[65];
	if (pipe(bench_release) < 0)
		return 1;
	pthread_create(&threads[0], NULL, bench_holder, NULL);
	for (int i = 1; i < 65; i++)
		pthread_create(&threads[i], NULL, bench_waiter, NULL);
	a.mon = monitor_new(getpid(), sym, 5);
	uint64_t t_mon = util_now_ns();
	for (int i = 0; i < 61; i++)
		monitor_tick(a.mon, t_mon + (uint64_t)i * 1000000000ull);
	struct theme th;
	theme_builtin(&th, "dark");
	struct ui *ui = ui_new(&a, &th, false);
	setenv("TERM", "xterm-256color", 1);
	setenv("LINES", "60", 1);
	setenv("COLUMNS", "200", 1);
	FILE *out = fopen("/dev/null", "w"), *in = fopen("/dev/null", "r");
	SCREEN *scr = out && in ? newterm("xterm-256color", out, in) : NULL;
	if (!scr) {
		fprintf(stderr, "ui_draw: cannot open a virtual screen\n");
		return 1;
	}
	set_term(scr);
	ui_screen_init(ui);

	double t0 = now_ms();
	int rebuilds = 20;
	for (int i = 0; i < rebuilds; i++)
		ui_rebuild(ui);
	double rebuild_ms = (now_ms() - t0) / rebuilds;

	struct result {
		const char *name;
		double diff_ms, full_ms, full_max;
	} res[8];
	int nres = 0;
	/* views 1..4, the detail page of view 1, the help view */
	int plan[] = { 0, 1, 2, 3, 100, -1 };
	const char *names[] = { "1 top", "2 flame", "3 threads (66)", "4 memory (60 s)",
				"1 top: function page", "help" };
	for (size_t v = 0; v < UTIL_ARRAY_LEN(plan); v++) {
		if (plan[v] == 100) {
			ui_show_view(ui, 0);
			ui_key(ui, KEY_DOWN);
			ui_key(ui, '\n');
		} else {
			ui_show_view(ui, plan[v]);
		}
		if (plan[v] == 1) {
			/* The cursor a few levels down, as after some browsing. */
			for (int k = 0; k < 6; k++)
				ui_key(ui, KEY_DOWN);
		}
		for (int i = 0; i < 5; i++)
			ui_draw(ui);
		double d0 = now_ms();
		for (int i = 0; i < frames; i++)
			ui_draw(ui);
		double diff = (now_ms() - d0) / frames, worst = 0;
		d0 = now_ms();
		for (int i = 0; i < frames; i++) {
			double f0 = now_ms();
			clearok(curscr, TRUE);
			ui_draw(ui);
			double f = now_ms() - f0;
			if (f > worst)
				worst = f;
		}
		double full = (now_ms() - d0) / frames;
		res[nres++] = (struct result){ names[v], diff, full, worst };
		if (plan[v] == 100)
			ui_key(ui, 27);
	}
	int rows = LINES, cols = COLS;
	endwin();
	delscreen(scr);
	if (write(bench_release[1], "x", 1) == 1)
		for (int i = 0; i < 65; i++)
			pthread_join(threads[i], NULL);
	monitor_free(a.mon);
	a.mon = NULL;
	fclose(out);
	fclose(in);

	printf("ui draw: %dx%d screen, call tree of %zu nodes (%zu functions sampled, depth up to "
	       "%u, %llu samples), %d frames each\n",
	       cols, rows, tree_nodes, nfuncs, maxdepth, (unsigned long long)nsamples, frames);
	printf("  %-26s %14s %18s %10s   (CPU ms per frame)\n", "view", "frame ms",
	       "full repaint ms", "worst ms");
	double worst_all = 0;
	for (int i = 0; i < nres; i++) {
		printf("  %-26s %14.3f %18.3f %10.3f\n", res[i].name, res[i].diff_ms, res[i].full_ms,
		       res[i].full_max);
		if (res[i].full_ms > worst_all)
			worst_all = res[i].full_ms;
	}
	printf("  %-26s %14.3f   (calltree_build + the view's refresh, once a second)\n",
	       "model rebuild", rebuild_ms);
	printf("  target: a frame under 5 ms: %s (slowest full repaint %.3f ms)\n",
	       worst_all < 5 ? "met" : "NOT MET", worst_all);

	ui_free(ui);
	profile_free(prof);
	symbols_free(sym);
	free(nodes);
	free(funcs);
	return 0;
}
