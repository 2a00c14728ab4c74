/*
 * Unit test of goruntime and golocks.
 *
 * First golocks alone, from synthetic snapshots (the rules of golocks.h: contention, long wait,
 * AB-BA with and without inferred holders, a 3-cycle, piling waiters, an unlocked lock).  Then
 * the real Go fixtures of tests/bin (built by `make fixtures`), attached for real while they run:
 *   hotspots (C)      not Go, told cheaply
 *   go-nodwarf        the one-line "no DWARF (built with -ldflags=-w)", OS threads still readable
 *   go-goroutines     exact counts by wait reason (1000 chan receive, 10 sleep), the busy one
 *                     running/runnable in main.busyLoop, layout cross-checked with Go 1.19
 *   go-abba           probable deadlock within 2 s after the threshold, both goroutines, both
 *                     mutexes by symbol and address, each stack with main.go:LINE
 *   go-contention     8 fighters observed every 200 ms for 10 s: nothing stuck; --longwait: a
 *                     long wait on main.slow held by main.slowHolder, never a deadlock
 *   go-rwlock         RWMutex waits (writerSem, w.sema, readerSem), a Mutex inside a struct
 *                     (main.bank+16), a WaitGroup; their long waits
 *   go-leak           goroutine count per observation, growing
 * After each: the target is neither stopped nor traced.  Runtime-internal goroutines are
 * counted apart (Go's own isSystemGoroutine rule), so user counts are exact.
 *
 * `test_goruntime --bench [N]` is bench/goroutines: read and group N (10,000) goroutines of
 * go-many and measure how much its busy counter goroutine slowed meanwhile.
 *
 * Prints "ok ..." / "FAIL ..." lines; exits non-zero on any failure.  A fixture binary that is
 * missing (make fixtures builds them; the Go ones need golang-go, which make deps installs) is a
 * failure.
 */
#include "golocks.h"
#include "goruntime.h"
#include "procfs.h"
#include "symbols.h"
#include "util.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "fixture.h"


static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void note(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("# ", stdout);
	vprintf(fmt, ap);
	fputc('\n', stdout);
	va_end(ap);
	fflush(stdout);
}

static double now_s(void)
{
	return (double)util_now_ns() / 1e9;
}

static void sleep_s(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ======================= golocks from synthetic snapshots ======================= */

enum { SYN_MAXG = 16, SYN_MAXL = 8, SYN_MAXF = 4 };

struct syn {
	struct goruntime_snapshot s;
	struct goruntime_goroutine g[SYN_MAXG];
	struct goruntime_lock l[SYN_MAXL];
	struct goruntime_group grp[SYN_MAXG];
	uint32_t members[SYN_MAXG];
	uint64_t pcs[SYN_MAXG][SYN_MAXF];
};

/* A code reference of the fake program: the function at pc locks (2) or refers to (1) addr. */
struct syn_ref {
	uint64_t pc, addr;
	int strength;
};
static struct syn_ref syn_refs[16];
static size_t syn_nrefs;

static int syn_refers(void *arg, uint64_t pc, uint64_t lo, uint64_t hi)
{
	(void)arg;
	int best = 0;
	for (size_t i = 0; i < syn_nrefs; i++)
		if (syn_refs[i].pc == pc && syn_refs[i].addr >= lo && syn_refs[i].addr < hi &&
		    syn_refs[i].strength > best)
			best = syn_refs[i].strength;
	return best;
}

static void syn_reset(struct syn *y, double t)
{
	memset(y, 0, sizeof *y);
	y->s.time_ns = (uint64_t)(t * 1e9) + 1000000000ull;
	y->s.g = y->g;
	y->s.locks = y->l;
	y->s.groups = y->grp;
	syn_nrefs = 0;
}

static uint32_t syn_lock(struct syn *y, uint64_t addr, bool locked, uint32_t state)
{
	uint32_t i = (uint32_t)y->s.nlocks++;
	y->l[i] = (struct goruntime_lock){ .addr = addr, .kind = GORUNTIME_LOCK_MUTEX,
					   .symbol = NULL, .locked = locked, .state = state };
	return i;
}

/* A goroutine (ids ascending) waiting on lock (UINT32_MAX: sleeping) with one frame at pc. */
static void syn_g(struct syn *y, int64_t id, uint32_t lock, uint64_t sudog, uint32_t pos, uint64_t pc)
{
	size_t i = y->s.n++;
	y->pcs[i][0] = pc;
	y->g[i] = (struct goruntime_goroutine){
		.id = id, .status = GORUNTIME_WAITING, .lock = lock, .sudog = sudog, .queue_pos = pos,
		.wait_reason = lock == UINT32_MAX ? "sleep" : "semacquire", .wait_s = 0,
		.nframes = 1, .pcs = y->pcs[i],
	};
	if (lock != UINT32_MAX)
		y->l[lock].nwaiters++;
	/* one group per goroutine */
	y->members[i] = (uint32_t)i;
	y->grp[y->s.ngroups++] = (struct goruntime_group){ .count = 1, .members = &y->members[i],
							   .max_wait_s = 0 };
}

static void syn_ref(uint64_t pc, uint64_t addr, int strength)
{
	syn_refs[syn_nrefs++] = (struct syn_ref){ pc, addr, strength };
}

static const struct golocks_lock *rep_lock(const struct golocks_report *r, uint64_t addr)
{
	for (size_t i = 0; i < r->nlocks; i++)
		if (r->locks[i].addr == addr)
			return &r->locks[i];
	return NULL;
}

enum { LA = 0x1000, LB = 0x2000, LC = 0x3000, PC_A = 0x400000, PC_B = 0x400100, PC_C = 0x400200,
       PC_SLEEP = 0x400300, PC_MAIN = 0x400400 };

static void test_golocks_contention(void)
{
	struct golocks *gl = golocks_new(5);
	struct syn y;
	bool stuck = false, dead = false, watching_late = false;
	for (int k = 0; k < 60; k++) { /* 12 s at 200 ms */
		syn_reset(&y, k * 0.2);
		/* the head of the queue changes at every look; the state word too */
		uint32_t l = syn_lock(&y, LA, true, 0x9 + (uint32_t)(k % 3) * 8);
		for (int w = 0; w < 3; w++)
			syn_g(&y, 10 + (k + w) % 8, l, 0x7000 + (uint64_t)((k + w) % 8) * 0x60, (uint32_t)w, PC_A);
		/* keep ids ascending */
		for (size_t a = 1; a < y.s.n; a++)
			for (size_t b = a; b > 0 && y.g[b - 1].id > y.g[b].id; b--) {
				struct goruntime_goroutine t = y.g[b];
				y.g[b] = y.g[b - 1];
				y.g[b - 1] = t;
			}
		golocks_observe(gl, &y.s, syn_refers, NULL);
		const struct golocks_report *r = golocks_report(gl);
		stuck = stuck || r->nstuck;
		dead = dead || r->deadlock;
		if (k > 1)
			watching_late = watching_late || r->watching;
	}
	check(!stuck && !dead && !watching_late,
	      "golocks: contention (head changes every look) for 12 s: nothing stuck, no deadlock, "
	      "no watching after progress");
	golocks_free(gl);
}

static void test_golocks_longwait(void)
{
	struct golocks *gl = golocks_new(5);
	struct syn y;
	const struct golocks_report *r = NULL;
	bool early = false, watched = false;
	for (int k = 0; k <= 30; k++) {
		syn_reset(&y, k * 0.2);
		uint32_t l = syn_lock(&y, LA, true, 0x9);
		syn_g(&y, 5, UINT32_MAX, 0, 0, PC_SLEEP); /* the holder, sleeping inside the lock */
		syn_g(&y, 6, l, 0x7000, 0, PC_A);         /* the waiter */
		syn_g(&y, 7, UINT32_MAX, 0, 0, PC_MAIN);  /* takes the lock's address only */
		syn_ref(PC_SLEEP, LA, 2);
		syn_ref(PC_A, LA, 2);
		syn_ref(PC_MAIN, LA, 1);
		golocks_observe(gl, &y.s, syn_refers, NULL);
		r = golocks_report(gl);
		if (k < 25)
			early = early || r->nstuck;
		if (k == 10)
			watched = r->watching && r->decide_in_s > 2.9 && r->decide_in_s < 3.1;
	}
	check(!early && watched, "golocks: before 5 s not stuck, watching (decide in ~3 s at 2 s)");
	const struct golocks_lock *a = rep_lock(r, LA);
	check(a && a->stuck && a->long_wait && !a->deadlocked && !r->deadlock && a->nstuck == 1 &&
	      a->stuck_ids[0] == 6 && a->nholders == 1 && a->holders[0] == 5,
	      "golocks: one stuck lock held by a sleeper is a long wait (waiter 6, holder 5, the "
	      "address-taker 7 not a holder)");
	golocks_free(gl);
}

/* Two goroutines, each waiting on the lock the other one's function locks. */
static void test_golocks_abba(bool known)
{
	struct golocks *gl = golocks_new(2);
	struct syn y;
	const struct golocks_report *r = NULL;
	for (int k = 0; k <= 12; k++) {
		syn_reset(&y, k * 0.2);
		uint32_t a = syn_lock(&y, LA, true, 0x9);
		uint32_t b = syn_lock(&y, LB, true, 0x9);
		syn_g(&y, 18, b, 0x7000, 0, PC_A); /* holds A (its function locks A), waits B */
		syn_g(&y, 19, a, 0x7100, 0, PC_B); /* holds B, waits A */
		syn_g(&y, 20, UINT32_MAX, 0, 0, PC_SLEEP);
		if (known) {
			syn_ref(PC_A, LA, 2);
			syn_ref(PC_A, LB, 2);
			syn_ref(PC_B, LA, 2);
			syn_ref(PC_B, LB, 2);
		}
		golocks_observe(gl, &y.s, known ? syn_refers : NULL, NULL);
		r = golocks_report(gl);
		if (k == 5)
			check(!r->deadlock && r->watching, "golocks: AB-BA %s: no verdict before the threshold",
			      known ? "known" : "heap");
	}
	bool members = r->nmembers == 2 && r->members[0].goroutine == 18 && r->members[1].goroutine == 19;
	const struct golocks_lock *m0 = members ? &r->locks[r->members[0].waits_on] : NULL;
	const struct golocks_lock *m1 = members ? &r->locks[r->members[1].waits_on] : NULL;
	if (known) {
		check(r->deadlock && r->holders_known && r->nstuck == 2 && members && m0->addr == LB &&
		      m1->addr == LA && r->locks[r->members[0].holds].addr == LA &&
		      r->locks[r->members[1].holds].addr == LB,
		      "golocks: AB-BA over package variables: deadlock, g18 holds A waits B, g19 holds B "
		      "waits A");
	} else {
		check(r->deadlock && !r->holders_known && members && m0->addr == LB && m1->addr == LA &&
		      r->members[0].holds == UINT32_MAX,
		      "golocks: AB-BA over heap mutexes: probable deadlock, holders unknown");
	}
	golocks_free(gl);
}

static void test_golocks_two_long_waits(void)
{
	struct golocks *gl = golocks_new(2);
	struct syn y;
	const struct golocks_report *r = NULL;
	for (int k = 0; k <= 12; k++) {
		syn_reset(&y, k * 0.2);
		uint32_t a = syn_lock(&y, LA, true, 0x9);
		uint32_t b = syn_lock(&y, LB, true, 0x9);
		/* (A waiter whose function also locked the other lock could hold it: that would be
		 * AB-BA.  Here each waiter's function knows only its own lock.) */
		syn_g(&y, 30, UINT32_MAX, 0, 0, PC_SLEEP); /* holds A, sleeps */
		syn_g(&y, 31, UINT32_MAX, 0, 0, PC_MAIN);  /* holds B, sleeps */
		syn_g(&y, 32, a, 0x7000, 0, PC_C);
		syn_g(&y, 33, b, 0x7100, 0, PC_B);
		syn_ref(PC_SLEEP, LA, 2);
		syn_ref(PC_MAIN, LB, 2);
		syn_ref(PC_C, LA, 2);
		syn_ref(PC_B, LB, 2);
		golocks_observe(gl, &y.s, syn_refers, NULL);
		r = golocks_report(gl);
	}
	check(r->nstuck == 2 && r->nlong_waits == 2 && !r->deadlock,
	      "golocks: two locks held by sleepers (holders known): two long waits, no deadlock");
	golocks_free(gl);
}

/* Two independent AB-BA pairs: two deadlocks, each member in its own cycle. */
static void test_golocks_two_cycles(void)
{
	enum { LD = 0x4000, PC_D = 0x400500 };
	struct golocks *gl = golocks_new(2);
	struct syn y;
	const struct golocks_report *r = NULL;
	for (int k = 0; k <= 12; k++) {
		syn_reset(&y, k * 0.2);
		uint32_t a = syn_lock(&y, LA, true, 0x9), b = syn_lock(&y, LB, true, 0x9);
		uint32_t c = syn_lock(&y, LC, true, 0x9), d = syn_lock(&y, LD, true, 0x9);
		syn_g(&y, 70, b, 0x7000, 0, PC_A); /* holds A */
		syn_g(&y, 71, a, 0x7100, 0, PC_B); /* holds B */
		syn_g(&y, 72, d, 0x7200, 0, PC_C); /* holds C */
		syn_g(&y, 73, c, 0x7300, 0, PC_D); /* holds D */
		syn_ref(PC_A, LA, 2);
		syn_ref(PC_B, LB, 2);
		syn_ref(PC_C, LC, 2);
		syn_ref(PC_D, LD, 2);
		golocks_observe(gl, &y.s, syn_refers, NULL);
		r = golocks_report(gl);
	}
	bool ok = r->deadlock && r->ndeadlocks == 2 && r->nmembers == 4;
	for (size_t m = 0; ok && m < r->nmembers; m++) {
		const struct golocks_member *mb = &r->members[m];
		ok = mb->holds != UINT32_MAX && r->locks[mb->waits_on].cycle == mb->cycle &&
		     r->locks[mb->holds].cycle == mb->cycle &&
		     mb->cycle == (mb->goroutine < 72 ? r->members[0].cycle : r->members[3].cycle);
	}
	struct strbuf b = { 0 };
	golocks_banner(r, NULL, NULL, &b);
	check(ok && r->members[0].cycle != r->members[3].cycle && b.s && strstr(b.s, "(+1 more)"),
	      "golocks: two independent AB-BA pairs are two deadlocks: %s", b.s ? b.s : "");
	strbuf_done(&b);
	golocks_free(gl);
}

static void test_golocks_cycle3_and_piling(void)
{
	struct golocks *gl = golocks_new(2);
	struct syn y;
	const struct golocks_report *r = NULL;
	for (int k = 0; k <= 12; k++) {
		syn_reset(&y, k * 0.2);
		/* waiters pile up behind A: the waiter count (state >> 3) grows, the head stays */
		uint32_t a = syn_lock(&y, LA, true, 0x9 + (uint32_t)k * 8);
		uint32_t b = syn_lock(&y, LB, true, 0x9);
		uint32_t c = syn_lock(&y, LC, true, 0x9);
		syn_g(&y, 40, b, 0x7000, 0, PC_A); /* holds A */
		syn_g(&y, 41, c, 0x7100, 0, PC_B); /* holds B */
		syn_g(&y, 42, a, 0x7200, 0, PC_C); /* holds C */
		for (int p = 0; p < k && p < 8; p++)
			syn_g(&y, 50 + p, a, 0x8000 + (uint64_t)p * 0x60, (uint32_t)p + 1, PC_SLEEP);
		syn_ref(PC_A, LA, 2);
		syn_ref(PC_B, LB, 2);
		syn_ref(PC_C, LC, 2);
		golocks_observe(gl, &y.s, syn_refers, NULL);
		r = golocks_report(gl);
	}
	const struct golocks_lock *a = rep_lock(r, LA);
	check(r->deadlock && r->holders_known && r->nmembers == 3 && a && a->deadlocked &&
	      a->nwaiters == 9 && a->nstuck >= 1 && a->stuck_ids[0] == 42,
	      "golocks: 3-cycle A->B->C with requests piling behind A: deadlock of 3 (A's head 42 "
	      "stuck, %zu waiters stuck)", a ? a->nstuck : 0);
	golocks_free(gl);

	gl = golocks_new(2);
	for (int k = 0; k <= 12; k++) {
		syn_reset(&y, k * 0.2);
		uint32_t l = syn_lock(&y, LA, false, 0x8); /* unlocked, a waiter about to wake */
		syn_g(&y, 60, l, 0x7000, 0, PC_A);
		golocks_observe(gl, &y.s, NULL, NULL);
		r = golocks_report(gl);
	}
	check(!r->nstuck && !r->watching, "golocks: an unlocked lock is never stuck");
	golocks_free(gl);
}

/* ======================= fixtures ======================= */

static const char *testdir(void)
{
	const char *d = getenv("TESTDIR");
	return d && *d ? d : "tests";
}

/* Every thread of pid is neither stopped nor traced, and pid is alive. */
static void check_untraced(pid_t pid, const char *what)
{
	pid_t *tids = NULL;
	int n = proc_list_tids(pid, &tids);
	int bad = 0;
	for (int i = 0; i < n; i++) {
		char path[128], buf[4096];
		snprintf(path, sizeof path, "/proc/%d/task/%d/status", (int)pid, (int)tids[i]);
		if (util_read_small(path, buf, sizeof buf) <= 0)
			continue;
		const char *st = strstr(buf, "\nState:\t"), *tp = strstr(buf, "\nTracerPid:\t");
		if ((st && (st[8] == 't' || st[8] == 'T')) || (tp && atoi(tp + 12) != 0))
			bad++;
	}
	free(tids);
	check(n > 0 && bad == 0, "%s: target alive, %d threads, none stopped or traced", what, n);
}

/* Line number (1-based) of the first line of the fixture source containing text. */
static int source_line(const char *fixture, const char *text)
{
	char path[512];
	snprintf(path, sizeof path, "%s/fixtures/go/%s/main.go", testdir(), fixture);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	char buf[1024];
	int line = 0, found = -1;
	while (fgets(buf, sizeof buf, f)) {
		line++;
		if (strstr(buf, text)) {
			found = line;
			break;
		}
	}
	fclose(f);
	return found;
}

static bool ends_with(const char *s, const char *x)
{
	size_t a = strlen(s), b = strlen(x);
	return a >= b && strcmp(s + a - b, x) == 0;
}

/* Does the goroutine's stack (inline frames expanded) contain function fn?  With file/line,
 * also at that file suffix and line (line 0: any). */
static bool stack_has(struct symbols *sym, const struct goruntime_goroutine *g, const char *fn,
		      const char *file, int line)
{
	for (uint32_t i = 0; i < g->nframes; i++) {
		const struct sym_loc *loc = symbols_lookup(sym, g->pcs[i]);
		for (uint32_t j = 0; j < loc->nlines; j++) {
			const struct sym_func *f = symbols_func(sym, loc->lines[j].func);
			if (!f || strcmp(f->name, fn) != 0)
				continue;
			if (!file || (ends_with(loc->lines[j].file, file) && (!line || loc->lines[j].line == line)))
				return true;
		}
	}
	return false;
}

static void print_goroutine(struct symbols *sym, const struct goruntime_goroutine *g)
{
	printf("#   goroutine %" PRId64 " [%s%s%s%s] flags %#x\n", g->id, goruntime_status_name(g->status),
	       g->wait_reason[0] ? ", " : "", g->wait_reason, g->system ? ", system" : "", g->flags);
	for (uint32_t i = 0; i < g->nframes; i++) {
		const struct sym_loc *loc = symbols_lookup(sym, g->pcs[i]);
		for (uint32_t j = 0; j < loc->nlines; j++) {
			const struct sym_func *f = symbols_func(sym, loc->lines[j].func);
			printf("#       %s  %s:%d\n", f ? f->name : "?", loc->lines[j].file, loc->lines[j].line);
		}
	}
}

/* Every frame of every goroutine resolves to a function of the main module: no garbage. */
static bool stacks_clean(struct symbols *sym, const struct goruntime_snapshot *s, size_t *bad_out)
{
	uint32_t main_mod = symbols_main_module(sym);
	size_t bad = 0;
	for (size_t i = 0; i < s->n; i++)
		for (uint32_t k = 0; k < s->g[i].nframes; k++)
			if (symbols_lookup(sym, s->g[i].pcs[k])->module != main_mod)
				bad++;
	if (bad_out)
		*bad_out = bad;
	return bad == 0;
}

struct target {
	struct fixture f;
	struct symbols *sym;
	struct goruntime *gr;
};

static bool target_open(struct target *t, const char *name, const char *arg,
			const struct goruntime_options *opt)
{
	memset(t, 0, sizeof *t);
	if (!fixture_start(&t->f, name, arg, NULL))
		return false;
	char *cause = NULL;
	t->sym = symbols_new(t->f.pid, &cause);
	if (t->sym)
		t->gr = goruntime_open(t->f.pid, t->sym, opt, &cause);
	check(t->gr != NULL, "%s: goruntime_open: %s", name, cause ? cause : "ok");
	free(cause);
	return t->gr != NULL;
}

static void target_close(struct target *t, const char *name)
{
	goruntime_close(t->gr);
	symbols_free(t->sym);
	if (t->f.pid > 0)
		check_untraced(t->f.pid, name);
	fixture_stop(&t->f);
}

static const struct goruntime_snapshot *scan(struct target *t, const char *what)
{
	char *cause = NULL;
	const struct goruntime_snapshot *s = goruntime_scan(t->gr, &cause);
	if (!s)
		check(false, "%s: scan: %s", what, cause ? cause : "");
	free(cause);
	return s;
}

/* Check a JSON document with a python3 snippet (sys.argv[1] is its file).  Returns false on
 * failure (python3 missing included: make deps installs it). */
static bool json_check(const char *json, const char *py, const char *what)
{
	if (system("command -v python3 >/dev/null 2>&1") != 0) {
		check(false, "%s: no python3 (make deps installs it)", what);
		return false;
	}
	char path[] = "/tmp/test_goruntime_json.XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0 || util_write_all(fd, json, strlen(json)) < 0) {
		check(false, "%s: temporary file", what);
		if (fd >= 0)
			close(fd);
		return false;
	}
	close(fd);
	char *cmd = xasprintf("python3 -c 'import json, sys\nd = json.load(open(sys.argv[1]))\n%s' %s", py,
			      path);
	fflush(stdout);
	int rc = system(cmd);
	free(cmd);
	unlink(path);
	return rc == 0;
}

/* Print a multi-line text as "# " lines. */
static void note_text(const char *s)
{
	while (s && *s) {
		size_t n = strcspn(s, "\n");
		printf("#   %.*s\n", (int)n, s);
		s += n + (s[n] == '\n');
	}
	fflush(stdout);
}

/* ---- not Go, no DWARF ---- */

static void test_not_go(void)
{
	struct fixture f;
	if (!fixture_start(&f, "hotspots", NULL, NULL))
		return;
	char *cause = NULL;
	struct symbols *sym = symbols_new(f.pid, &cause);
	char v[64] = "x";
	uint64_t t0 = util_now_ns();
	bool go = sym && goruntime_detect(sym, v, sizeof v);
	double us = (double)(util_now_ns() - t0) / 1e3;
	check(sym && !go && v[0] == '\0', "not Go: hotspots (C) detected as not Go in %.0f us", us);
	struct goruntime *gr = sym ? goruntime_open(f.pid, sym, NULL, &cause) : NULL;
	check(!gr && cause && strstr(cause, "not a Go program"), "not Go: goruntime_open: %s",
	      cause ? cause : "");
	free(cause);
	goruntime_close(gr);
	symbols_free(sym);
	fixture_stop(&f);
}

static void test_nodwarf(void)
{
	struct fixture f;
	if (!fixture_start(&f, "go-nodwarf", NULL, NULL))
		return;
	char *cause = NULL;
	struct symbols *sym = symbols_new(f.pid, &cause);
	char v[64] = "";
	bool go = sym && goruntime_detect(sym, v, sizeof v);
	check(go && strncmp(v, "go1.", 4) == 0, "nodwarf: a Go program, version %s", v);
	struct goruntime *gr = sym ? goruntime_open(f.pid, sym, NULL, &cause) : NULL;
	check(!gr && cause && strstr(cause, "no DWARF (built with -ldflags=-w)") && !strchr(cause, '\n'),
	      "nodwarf: one line: %s", cause ? cause : "");
	free(cause);
	goruntime_close(gr);
	/* The OS threads stay readable: listed, with their state and a symbolized pc. */
	pid_t *tids = NULL;
	int n = proc_list_tids(f.pid, &tids), readable = 0;
	for (int i = 0; i < n; i++) {
		struct proc_task_stat st;
		if (proc_task_stat_read(f.pid, tids[i], &st) == 0)
			readable++;
	}
	free(tids);
	uint64_t spin = 0;
	int found = sym ? symbols_find_symbol(sym, "main.spin", &spin, NULL) : -1;
	check(n >= 2 && readable == n && found == 0 && spin,
	      "nodwarf: OS threads still usable (%d threads, main.spin at %#" PRIx64 ")", n, spin);
	symbols_free(sym);
	check_untraced(f.pid, "nodwarf");
	fixture_stop(&f);
}

/* ---- go-goroutines ---- */

static void test_goroutines(void)
{
	struct target t;
	if (!target_open(&t, "go-goroutines", NULL, NULL)) {
		target_close(&t, "goroutines");
		return;
	}
	const struct goruntime_layout *L = goruntime_layout(t.gr);
	const char *v = goruntime_version(t.gr);
	if (strncmp(v, "go1.19", 6) == 0)
		check(L->g_atomicstatus == 144 && L->g_goid == 152 && L->g_waitreason == 176 &&
		      L->g_sched == 56 && L->semtab_count == 251 && L->semtab_stride == 64 &&
		      L->sudog_g == 0 && L->sudog_next == 8 && L->sudog_prev == 16 &&
		      L->sudog_elem == 24 && L->sudog_waitlink == 64 && L->semroot_treap == 8,
		      "goroutines: %s layout from DWARF matches Go 1.19 (atomicstatus %d goid %d "
		      "waitreason %d sched %d; semtable %u x %u)", v, L->g_atomicstatus, L->g_goid,
		      L->g_waitreason, L->g_sched, L->semtab_count, L->semtab_stride);
	else
		note("goroutines: %s, not 1.19: layout not cross-checked", v);
	check(L->wait_reasons_from_target && L->wait_reasons > 20,
	      "goroutines: %u wait reason names read from the target's runtime.waitReasonStrings",
	      L->wait_reasons);

	int recv_line = source_line("goroutines", "\t<-ch");
	int sleep_line = source_line("goroutines", "\t\ttime.Sleep(time.Hour)");
	const struct goruntime_snapshot *s = NULL;
	int recv = 0, sleep = 0, busy = 0, other = 0, recv_at = 0, busy_in_loop = 0, tries = 0;
	const struct goruntime_goroutine *bg = NULL;
	/* The busy goroutine's stack comes from its thread; under load the thread may be between
	 * two states when looked at: look again (a few times) until it is seen in busyLoop. */
	for (tries = 1; tries <= 20; tries++) {
		if (!(s = scan(&t, "goroutines")))
			break;
		recv = sleep = busy = other = recv_at = busy_in_loop = 0;
		bg = NULL;
		for (size_t i = 0; i < s->n; i++) {
			const struct goruntime_goroutine *g = &s->g[i];
			if (g->system)
				continue;
			if (g->status == GORUNTIME_WAITING && strcmp(g->wait_reason, "chan receive") == 0) {
				recv++;
				recv_at += stack_has(t.sym, g, "main.receiver", "goroutines/main.go", recv_line);
			} else if (g->status == GORUNTIME_WAITING && strcmp(g->wait_reason, "sleep") == 0 &&
				   stack_has(t.sym, g, "main.sleeper", "goroutines/main.go", sleep_line)) {
				sleep++;
			} else if (g->status == GORUNTIME_RUNNING || g->status == GORUNTIME_RUNNABLE ||
				   g->status == GORUNTIME_PREEMPTED) {
				busy++;
				bg = g;
				busy_in_loop += stack_has(t.sym, g, "main.busyLoop", "goroutines/main.go", 0);
			} else {
				other++;
			}
		}
		if (busy_in_loop == 1)
			break;
		sleep_s(0.05);
	}
	if (!s) {
		target_close(&t, "goroutines");
		return;
	}
	check(recv == 1000 && recv_at == 1000,
	      "goroutines: 1000 in \"chan receive\" (%d), all in main.receiver at main.go:%d (%d)", recv,
	      recv_line, recv_at);
	check(sleep == 10, "goroutines: 10 in \"sleep\" in main.sleeper at main.go:%d (%d)", sleep_line,
	      sleep);
	check(busy == 1 && busy_in_loop == 1 && s->counts.user == 1011 && other == 0,
	      "goroutines: 1 busy (%s) in main.busyLoop (seen at look %d), 1011 user goroutines "
	      "(%u), %u runtime-internal ones counted apart",
	      bg ? goruntime_status_name(bg->status) : "none", tries, s->counts.user, s->counts.system);
	if (bg && !busy_in_loop)
		print_goroutine(t.sym, bg);
	check(s->counts.torn == 0 && stacks_clean(t.sym, s, NULL), "goroutines: no torn read, every "
	      "frame in the program (%zu groups, read in %.1f ms)", s->ngroups, (double)s->read_ns / 1e6);
	bool top = s->ngroups >= 2 && s->groups[0].count == 1000 && s->groups[1].count == 10 &&
		   stack_has(t.sym, &s->g[s->groups[0].members[0]], "main.receiver", NULL, 0);
	check(top, "goroutines: grouped by stack: 1000 main.receiver, then 10 main.sleeper");
	const struct goruntime_goroutine *r0 = &s->g[s->groups[0].members[0]];
	const struct sym_line *wf = goruntime_wait_frame(t.gr, r0);
	const struct sym_func *wfn = wf ? symbols_func(t.sym, wf->func) : NULL;
	check(wfn && strcmp(wfn->name, "main.receiver") == 0 && wf->line == recv_line,
	      "goroutines: wait frame of goroutine %" PRId64 ": %s:%d", r0->id,
	      wfn ? wfn->name : "none", wf ? wf->line : 0);

	/* Wait durations accumulate across scans. */
	int64_t rid = r0->id;
	sleep_s(1.0);
	s = scan(&t, "goroutines");
	const struct goruntime_goroutine *r1 = s ? goruntime_snapshot_find(s, rid) : NULL;
	check(r1 && r1->wait_s >= 0.9, "goroutines: goroutine %" PRId64 " waited %.2f s after 1 s", rid,
	      r1 ? r1->wait_s : -1.0);
	struct goruntime_counts c;
	char *cause = NULL;
	int rc = goruntime_count(t.gr, &c, &cause);
	check(rc == 0 && s && c.user == 1011 && c.system == s->counts.system,
	      "goroutines: goruntime_count: %u user, %u system", c.user, c.system);
	free(cause);
	target_close(&t, "goroutines");
}

/* ---- go-abba ---- */

static void test_abba(void)
{
	struct target t;
	if (!target_open(&t, "go-abba", NULL, NULL)) {
		target_close(&t, "abba");
		return;
	}
	uint64_t ledger = fixture_fact(&t.f, "ledger"), accounts = fixture_fact(&t.f, "accounts");
	int line_la = source_line("abba", "accounts.Lock() // never returns");
	int line_al = source_line("abba", "ledger.Lock() // never returns");
	const double thr = GOLOCKS_STUCK_AFTER_DEFAULT;
	struct golocks *gl = golocks_new(thr);
	const struct golocks_report *r = NULL;
	const struct goruntime_snapshot *s = NULL;
	double t0 = 0, found = -1, decide = -1;
	bool early = false, watched = false;
	for (int k = 0;; k++) {
		if (!(s = scan(&t, "abba")))
			break;
		double at = (double)s->time_ns / 1e9;
		if (k == 0)
			t0 = at;
		golocks_observe(gl, s, goruntime_code_refers, t.gr);
		r = golocks_report(gl);
		if (k == 0) {
			watched = r->watching && !r->deadlock;
			decide = r->decide_in_s;
		}
		if (at - t0 < thr - 0.01)
			early = early || r->deadlock;
		if (r->deadlock) {
			found = at - (t0 + thr);
			break;
		}
		if (at - t0 > thr + 20)
			break;
		sleep_s(0.2);
	}
	check(watched && !early, "abba: first look watches (%.1f s to decide), no verdict before %.0f s",
	      decide, thr);
	check(found >= 0 && found <= 2.0, "abba: probable deadlock %.2f s after the threshold passed",
	      found);
	if (!r || !s || !r->deadlock) {
		golocks_free(gl);
		target_close(&t, "abba");
		return;
	}
	bool ok_la = false, ok_al = false;
	for (size_t m = 0; m < r->nmembers; m++) {
		const struct golocks_member *mb = &r->members[m];
		const struct goruntime_goroutine *g = goruntime_snapshot_find(s, mb->goroutine);
		const struct golocks_lock *w = &r->locks[mb->waits_on];
		const struct golocks_lock *h = mb->holds != UINT32_MAX ? &r->locks[mb->holds] : NULL;
		const struct sym_line *wf = g ? goruntime_wait_frame(t.gr, g) : NULL;
		const struct sym_func *fn = wf ? symbols_func(t.sym, wf->func) : NULL;
		printf("# goroutine %" PRId64 " waits for %s (%#" PRIx64 ", %s), holds %s, at %s %s:%d\n",
		       mb->goroutine, w->symbol ? w->symbol : "?", w->addr, w->locked ? "locked" : "unlocked",
		       h && h->symbol ? h->symbol : "?", fn ? fn->name : "?", wf ? wf->file : "?",
		       wf ? wf->line : 0);
		if (!g || !fn || !w->symbol || !h || !h->symbol || !w->locked || !h->locked)
			continue;
		if (strcmp(fn->name, "main.ledgerThenAccounts") == 0 && wf->line == line_la &&
		    ends_with(wf->file, "abba/main.go") && strcmp(w->symbol, "main.accounts") == 0 &&
		    w->addr == accounts && strcmp(h->symbol, "main.ledger") == 0 && h->addr == ledger)
			ok_la = true;
		if (strcmp(fn->name, "main.accountsThenLedger") == 0 && wf->line == line_al &&
		    ends_with(wf->file, "abba/main.go") && strcmp(w->symbol, "main.ledger") == 0 &&
		    w->addr == ledger && strcmp(h->symbol, "main.accounts") == 0 && h->addr == accounts)
			ok_al = true;
	}
	check(r->nmembers == 2 && r->holders_known && ok_la && ok_al,
	      "abba: both goroutines named, main.ledger and main.accounts by symbol and address, "
	      "each at main.go:%d / main.go:%d, holders inferred", line_la, line_al);
	/* the workers are not part of it: they keep working */
	size_t workers = 0;
	for (size_t i = 0; i < s->n; i++)
		workers += stack_has(t.sym, &s->g[i], "main.worker", NULL, 0) && s->g[i].lock == UINT32_MAX;
	check(workers == 4 && r->nstuck == 2 && r->nlong_waits == 0,
	      "abba: 4 workers outside the deadlock, 2 stuck locks, no long wait");

	/* The dump's text and JSON */
	struct strbuf txt = { 0 }, banner = { 0 }, js = { 0 };
	golocks_dump_text(t.gr, s, r, &txt);
	note_text(txt.s);
	bool has_banner = golocks_banner(r, t.gr, s, &banner);
	check(has_banner && strstr(banner.s, "DEADLOCK (Go): goroutine ") &&
	      strstr(banner.s, "holds main.ledger, waits main.accounts at main.ledgerThenAccounts") &&
	      strstr(banner.s, "holds main.accounts, waits main.ledger at main.accountsThenLedger") &&
	      strstr(txt.s, "Go deadlocks: 1") && strstr(txt.s, "Go long waits (") &&
	      strstr(txt.s, "[DEADLOCK 1]"), "abba: text: %s", banner.s ? banner.s : "no banner");
	golocks_dump_json(t.gr, s, r, &js);
	char py[1024];
	snprintf(py, sizeof py,
		 "w = [g for g in d[\"goroutines\"] if g[\"mutex\"] and g[\"mutex\"][\"symbol\"] in (\"main.ledger\", \"main.accounts\")]\n"
		 "assert len(w) == 2, w\n"
		 "for g in w:\n"
		 "  assert g[\"status\"] == \"waiting\" and g[\"wait_reason\"] == \"semacquire\" and g[\"mutex\"][\"locked\"], g\n"
		 "  assert g[\"wait_s\"] >= %.1f and g[\"mutex\"][\"kind\"] == \"sync.Mutex\", g\n"
		 "  assert any(f[\"file\"].endswith(\"abba/main.go\") and f[\"line\"] in (%d, %d) for f in g[\"stack\"]), g\n"
		 "assert int(w[0][\"mutex\"][\"addr\"], 16) in (%" PRIu64 ", %" PRIu64 ")\n"
		 "assert len(d[\"deadlocks\"]) == 1 and len(d[\"deadlocks\"][0][\"goroutines\"]) == 2\n"
		 "assert d[\"deadlocks\"][0][\"holders_known\"] and len(d[\"stuck_mutexes\"]) == 2\n"
		 "assert d[\"user\"] + d[\"system\"] == d[\"goroutines_total\"] == len(d[\"goroutines\"])\n",
		 thr - 0.5, line_la, line_al, ledger, accounts);
	check(json_check(js.s, py, "abba json"), "abba: JSON parses; goroutines[].{id, status, "
	      "wait_reason, wait_s, mutex{addr, symbol, locked}, stack[]} and deadlocks[] hold");
	strbuf_done(&txt);
	strbuf_done(&banner);
	strbuf_done(&js);
	golocks_free(gl);
	target_close(&t, "abba");
}

/* ---- go-contention ---- */

static void test_contention(bool longwait)
{
	const char *name = longwait ? "contention --longwait" : "contention";
	struct target t;
	if (!target_open(&t, "go-contention", longwait ? "--longwait" : NULL, NULL)) {
		target_close(&t, name);
		return;
	}
	uint64_t shared = fixture_fact(&t.f, "shared"), slow = fixture_fact(&t.f, "slow");
	struct golocks *gl = golocks_new(GOLOCKS_STUCK_AFTER_DEFAULT);
	int looks = 0, shared_waited = 0, dead = 0, shared_stuck = 0, torn = 0, long_wait = 0;
	size_t garbage = 0;
	double t0 = now_s(), seen_long = -1;
	const double span = longwait ? 16 : 10;
	bool holder_ok = false, text_ok = false;
	while (now_s() - t0 < span) {
		const struct goruntime_snapshot *s = scan(&t, name);
		if (!s)
			break;
		looks++;
		torn += (int)s->counts.torn;
		size_t bad = 0;
		stacks_clean(t.sym, s, &bad);
		garbage += bad;
		golocks_observe(gl, s, goruntime_code_refers, t.gr);
		const struct golocks_report *r = golocks_report(gl);
		dead += r->deadlock;
		for (size_t i = 0; i < r->nlocks; i++) {
			const struct golocks_lock *l = &r->locks[i];
			if (l->addr == shared) {
				shared_waited += l->nwaiters > 0;
				shared_stuck += l->stuck;
			}
			if (l->addr == slow && l->long_wait && !l->deadlocked) {
				long_wait++;
				if (seen_long < 0) {
					seen_long = now_s() - t0;
					for (size_t h = 0; h < l->nholders; h++) {
						const struct goruntime_goroutine *g =
							goruntime_snapshot_find(s, l->holders[h]);
						if (g && stack_has(t.sym, g, "main.slowHolder", NULL, 0))
							holder_ok = l->nholders == 1;
					}
					struct strbuf txt = { 0 };
					golocks_dump_text(t.gr, s, r, &txt);
					const char *lw = strstr(txt.s, "Go long waits");
					note_text(lw);
					text_ok = lw && strstr(lw, ": 1\n  main.slow ") &&
						  strstr(lw, "at main.slowWaiter (main.go:") &&
						  strstr(lw, "[waiting: sleep] at main.slowHolder (main.go:") &&
						  !strstr(txt.s, "DEADLOCK");
					strbuf_done(&txt);
				}
			}
		}
		sleep_s(0.2);
	}
	check(looks >= 10 && shared_waited > 0,
	      "%s: %d looks in %.0f s, main.shared had waiters in %d of them", name, looks, span,
	      shared_waited);
	check(shared_stuck == 0 && dead == 0, "%s: main.shared never stuck, never a deadlock", name);
	check(garbage == 0, "%s: no frame outside the program in any stack (%d torn reads retried "
	      "into marks)", name, torn);
	if (longwait)
		check(long_wait > 0 && holder_ok && text_ok,
		      "%s: main.slow reported as a long wait (after %.1f s of watching), held by "
		      "main.slowHolder, not a deadlock", name, seen_long);
	golocks_free(gl);
	target_close(&t, name);
}

/* ---- go-rwlock: RWMutex (three ways to wait), a mutex inside a struct, a WaitGroup ---- */

static const struct goruntime_lock *snap_lock(const struct goruntime_snapshot *s, uint64_t addr)
{
	for (size_t i = 0; i < s->nlocks; i++)
		if (s->locks[i].addr == addr)
			return &s->locks[i];
	return NULL;
}

static void test_rwlock(void)
{
	struct target t;
	if (!target_open(&t, "go-rwlock", NULL, NULL)) {
		target_close(&t, "rwlock");
		return;
	}
	uint64_t table = fixture_fact(&t.f, "table"), bankmu = fixture_fact(&t.f, "bankmu"), done = fixture_fact(&t.f, "done");
	struct golocks *gl = golocks_new(1.0);
	const struct goruntime_snapshot *s = NULL;
	double t0 = now_s();
	while (now_s() - t0 < 1.6) {
		if (!(s = scan(&t, "rwlock")))
			break;
		golocks_observe(gl, s, goruntime_code_refers, t.gr);
		sleep_s(0.2);
	}
	if (!s) {
		golocks_free(gl);
		target_close(&t, "rwlock");
		return;
	}
	const struct goruntime_lock *lt = snap_lock(s, table), *lb = snap_lock(s, bankmu),
				    *ld = snap_lock(s, done);
	check(lt && lt->kind == GORUNTIME_LOCK_RWMUTEX && lt->symbol && strcmp(lt->symbol, "main.table") == 0 &&
	      lt->locked && lt->readers != 0 && lt->nwaiters == 5,
	      "rwlock: sync.RWMutex main.table, locked (readerCount %d), 5 waiters", lt ? lt->readers : 0);
	check(lb && lb->kind == GORUNTIME_LOCK_MUTEX && lb->symbol && strcmp(lb->symbol, "main.bank+16") == 0 &&
	      lb->locked && lb->nwaiters == 1, "rwlock: the sync.Mutex of a struct is main.bank+16, locked");
	check(ld && ld->kind == GORUNTIME_LOCK_WAITGROUP && ld->symbol && strcmp(ld->symbol, "main.done") == 0 &&
	      !ld->locked && ld->nwaiters == 1, "rwlock: sync.WaitGroup main.done, 1 waiter");
	int writers = 0, readers = 0, teller = 0, joiner = 0;
	for (size_t i = 0; i < s->n; i++) {
		const struct goruntime_goroutine *g = &s->g[i];
		const struct goruntime_lock *l = g->lock < s->nlocks ? &s->locks[g->lock] : NULL;
		if (!l)
			continue;
		if ((stack_has(t.sym, g, "main.writer", NULL, 0) || stack_has(t.sym, g, "main.writer2", NULL, 0)) &&
		    l == lt && !g->lock_read)
			writers++;
		if (stack_has(t.sym, g, "main.reader", NULL, 0) && l == lt && g->lock_read)
			readers++;
		teller += stack_has(t.sym, g, "main.teller", NULL, 0) && l == lb;
		joiner += stack_has(t.sym, g, "main.joiner", NULL, 0) && l == ld;
	}
	check(writers == 2 && readers == 3 && teller == 1 && joiner == 1,
	      "rwlock: 2 writers (writerSem, w.sema) and 3 readers (readerSem) on main.table, the "
	      "teller on main.bank+16, the joiner on main.done");
	const struct golocks_report *r = golocks_report(gl);
	const struct golocks_lock *gt = rep_lock(r, table), *gb = rep_lock(r, bankmu);
	bool main_holds = gt && gt->nholders == 1 && gt->holders[0] == 1 && gb && gb->nholders == 1 &&
			  gb->holders[0] == 1;
	check(!r->deadlock && r->nlong_waits == 2 && gt && gt->long_wait && gb && gb->long_wait &&
	      main_holds && !rep_lock(r, done),
	      "rwlock: after 1 s both locks are long waits, held by goroutine 1 (main.main), no "
	      "deadlock; the WaitGroup is no lock");
	golocks_free(gl);
	target_close(&t, "rwlock");
}

/* ---- go-leak ---- */

static void test_leak(void)
{
	struct target t;
	if (!target_open(&t, "go-leak", NULL, NULL)) {
		target_close(&t, "leak");
		return;
	}
	uint32_t counts[8];
	bool up = true;
	size_t garbage = 0;
	char series[256] = "";
	for (int k = 0; k < 8; k++) {
		const struct goruntime_snapshot *s = scan(&t, "leak");
		if (!s) {
			up = false;
			break;
		}
		size_t bad = 0;
		stacks_clean(t.sym, s, &bad);
		garbage += bad;
		counts[k] = s->counts.user;
		if (k && counts[k] < counts[k - 1])
			up = false;
		size_t l = strlen(series);
		snprintf(series + l, sizeof series - l, "%s%u", k ? " " : "", counts[k]);
		sleep_s(0.4);
	}
	check(up && counts[7] >= counts[0] + 100, "leak: goroutines per observation grow: %s", series);
	check(garbage == 0, "leak: no garbage frame while goroutines were being created");
	target_close(&t, "leak");
}

/* ======================= bench/goroutines ======================= */

static uint64_t read_count(pid_t pid, uint64_t addr)
{
	uint64_t v = 0;
	if (proc_mem_read(pid, addr, &v, sizeof v) != (ssize_t)sizeof v)
		return 0;
	return v;
}

/* Progress of the busy goroutine during one scan relative to a quiet interval as long. */
static void bench_round(struct target *t, uint64_t count_addr, double *scan_s, double *ratio,
			uint64_t *stop_ns, uint32_t *live, size_t *groups)
{
	uint64_t a0 = read_count(t->f.pid, count_addr);
	double q0 = now_s();
	const struct goruntime_snapshot *s = scan(t, "bench");
	double q1 = now_s();
	uint64_t a1 = read_count(t->f.pid, count_addr);
	double dur = q1 - q0;
	uint64_t b0 = read_count(t->f.pid, count_addr);
	sleep_s(dur);
	uint64_t b1 = read_count(t->f.pid, count_addr);
	*scan_s = s ? (double)s->read_ns / 1e9 : dur;
	*ratio = b1 > b0 ? (double)(a1 - a0) / (double)(b1 - b0) : 0;
	*stop_ns = s ? s->max_stop_ns : 0;
	*live = s ? s->counts.live : 0;
	*groups = s ? s->ngroups : 0;
}

static int bench(const char *n)
{
	char arg[64];
	snprintf(arg, sizeof arg, "--n=%s", n ? n : "10000");
	const struct goruntime_options modes[2] = { { .no_thread_stop = false },
						    { .no_thread_stop = true } };
	const char *names[2] = { "registers of running goroutines (a thread stopped for microseconds)",
				 "no thread stopped at all (running goroutines without a stack)" };
	printf("bench/goroutines: read and group the goroutines of go-many %s (7/10 chan receive, "
	       "2/10 sleep, 1/10 on one sync.Mutex) while main.counter spins\n", arg);
	double worst = 0;
	for (int m = 0; m < 2; m++) {
		struct target t;
		if (!target_open(&t, "go-many", arg, &modes[m])) {
			target_close(&t, "bench");
			return 1;
		}
		uint64_t count_addr = fixture_fact(&t.f, "count");
		double best = 1e9, sum = 0, rmin = 1e9, rsum = 0;
		uint64_t stop = 0;
		uint32_t live = 0;
		size_t groups = 0;
		const int rounds = 7;
		for (int k = 0; k < rounds; k++) {
			double sc, ratio;
			uint64_t st;
			bench_round(&t, count_addr, &sc, &ratio, &st, &live, &groups);
			best = sc < best ? sc : best;
			sum += sc;
			rmin = ratio < rmin ? ratio : rmin;
			rsum += ratio;
			stop = st > stop ? st : stop;
		}
		printf("  %s:\n", names[m]);
		printf("    %u goroutines in %zu groups: read+group %.0f ms (best), %.0f ms (mean of %d)\n",
		       live, groups, best * 1e3, sum / rounds * 1e3, rounds);
		printf("    busy goroutine progress during a read: %.0f%% of its rate outside reads "
		       "(mean; worst %.0f%%), longest thread stop %.0f us\n",
		       rsum / rounds * 100, rmin * 100, (double)stop / 1e3);
		worst = sum / rounds > worst ? sum / rounds : worst;
		target_close(&t, "bench");
	}
	char load[64] = "?";
	if (util_read_small("/proc/loadavg", load, sizeof load) > 0)
		load[strcspn(load, " ")] = '\0';
	printf("  target: under 500 ms -> %s (worst mean %.0f ms); load average %s on %ld CPUs\n",
	       worst < 0.5 ? "met" : "NOT met", worst * 1e3, load, sysconf(_SC_NPROCESSORS_ONLN));
	return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--bench") == 0)
		return bench(argc > 2 ? argv[2] : NULL);
	test_golocks_contention();
	test_golocks_longwait();
	test_golocks_abba(true);
	test_golocks_abba(false);
	test_golocks_two_long_waits();
	test_golocks_two_cycles();
	test_golocks_cycle3_and_piling();
	test_not_go();
	test_nodwarf();
	test_goroutines();
	test_abba();
	test_rwlock();
	test_contention(false);
	test_contention(true);
	test_leak();
	printf("%s: %d failure%s\n", failures ? "FAIL" : "ok", failures, failures == 1 ? "" : "s");
	return failures ? 1 : 0;
}
