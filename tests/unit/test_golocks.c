/*
 * Unit test of golocks at scale, from synthetic snapshots (the small cases of the rules are in
 * test_goruntime):
 *   - 10,000 goroutines waiting on a few locks, one AB-BA among them, 5,000 of the waiters
 *     probable holders of the other lock: the one cycle is found, the crowd's lock is a long
 *     wait, and 13 observations take well under a second;
 *   - 4,000 stuck heap locks (holders unknown, 8,000 waiters): one deadlock of all of them,
 *     without an edge from every lock to every other;
 *   - a ring of 6,000 locks over package variables, each held by the waiter of the next, with
 *     golocks_observe() run on a 256 KiB thread stack: the cycle search recurses nowhere.
 * Prints "ok ..." / "FAIL ..." lines; exits non-zero on any failure.
 */
#include "golocks.h"
#include "goruntime.h"
#include "util.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"


/* A synthetic snapshot of any size: one frame per goroutine, goroutines grouped by that frame. */
struct big {
	struct goruntime_snapshot s;
	struct goruntime_goroutine *g;
	struct goruntime_lock *l;
	struct goruntime_group *grp;
	uint32_t *members;
	uint64_t *pcs;
	size_t gcap, lcap;
};

static void big_init(struct big *b, size_t ng, size_t nl)
{
	memset(b, 0, sizeof *b);
	b->gcap = ng;
	b->lcap = nl;
	b->g = xcalloc(ng, sizeof *b->g);
	b->l = xcalloc(nl, sizeof *b->l);
	b->grp = xcalloc(ng, sizeof *b->grp);
	b->members = xcalloc(ng, sizeof *b->members);
	b->pcs = xcalloc(ng, sizeof *b->pcs);
}

static void big_free(struct big *b)
{
	free(b->g);
	free(b->l);
	free(b->grp);
	free(b->members);
	free(b->pcs);
}

/* Start the snapshot taken t seconds into the test. */
static void big_reset(struct big *b, double t)
{
	memset(&b->s, 0, sizeof b->s);
	b->s.time_ns = (uint64_t)(t * 1e9) + 1000000000ull;
	b->s.g = b->g;
	b->s.locks = b->l;
	b->s.groups = b->grp;
}

/* A locked sync.Mutex (addresses ascending). */
static uint32_t big_lock(struct big *b, uint64_t addr)
{
	uint32_t i = (uint32_t)b->s.nlocks++;
	b->l[i] = (struct goruntime_lock){ .addr = addr, .kind = GORUNTIME_LOCK_MUTEX, .locked = true,
					   .state = 0x9 };
	return i;
}

/* A goroutine (ids ascending) waiting on lock at queue position pos, its one frame at pc. */
static void big_g(struct big *b, int64_t id, uint32_t lock, uint32_t pos, uint64_t pc)
{
	size_t i = b->s.n++;
	b->pcs[i] = pc;
	b->g[i] = (struct goruntime_goroutine){
		.id = id, .status = GORUNTIME_WAITING, .lock = lock, .sudog = 0x100000 + (uint64_t)id * 0x60,
		.queue_pos = pos, .wait_reason = "semacquire", .nframes = 1, .pcs = &b->pcs[i],
	};
	b->l[lock].nwaiters++;
}

static const struct big *big_sort_arg;

static int big_pc_cmp(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, c = *(const uint32_t *)y;
	uint64_t pa = big_sort_arg->pcs[a], pc = big_sort_arg->pcs[c];
	if (pa != pc)
		return pa < pc ? -1 : 1;
	return a < c ? -1 : a > c;
}

/* Group the goroutines by their frame (members ascending, as goruntime lists them). */
static void big_groups(struct big *b)
{
	for (size_t i = 0; i < b->s.n; i++)
		b->members[i] = (uint32_t)i;
	big_sort_arg = b;
	qsort(b->members, b->s.n, sizeof *b->members, big_pc_cmp);
	size_t ng = 0;
	for (size_t i = 0; i < b->s.n; i++) {
		if (i == 0 || b->pcs[b->members[i]] != b->pcs[b->members[i - 1]])
			b->grp[ng++] = (struct goruntime_group){ .members = &b->members[i], .max_wait_s = 0 };
		b->grp[ng - 1].count++;
	}
	b->s.ngroups = ng;
}

/* ---- 10,000 waiters on a few locks, one AB-BA ---- */

enum { LA = 0x1000, LB = 0x2000, LC = 0x3000, PC_A = 0x400000, PC_B = 0x400100, PC_PILE = 0x400200,
       PC_CROWD = 0x400300 };

/* The fake program: PC_A and PC_B lock both A and B, the goroutines piling behind A lock B
 * too (so each is a probable holder of B), the crowd's function refers to nothing. */
static int few_refers(void *arg, uint64_t pc, uint64_t lo, uint64_t hi)
{
	(void)arg;
	bool a = LA >= lo && LA < hi, b = LB >= lo && LB < hi;
	if (pc == PC_A || pc == PC_B)
		return a || b ? 2 : 0;
	if (pc == PC_PILE)
		return b ? 2 : 0;
	return 0;
}

static void test_many_waiters(void)
{
	enum { NPILE = 5000, NCROWD = 5000 };
	struct big b;
	big_init(&b, 2 + NPILE + NCROWD, 3);
	struct golocks *gl = golocks_new(2);
	const struct golocks_report *r = NULL;
	uint64_t t0 = util_now_ns();
	for (int k = 0; k <= 12; k++) {
		big_reset(&b, k * 0.2);
		uint32_t a = big_lock(&b, LA), lb = big_lock(&b, LB), c = big_lock(&b, LC);
		big_g(&b, 18, lb, 0, PC_A); /* holds A, waits B */
		big_g(&b, 19, a, 0, PC_B);  /* holds B, waits A */
		for (int i = 0; i < NPILE; i++)
			big_g(&b, 100 + i, a, 1 + (uint32_t)i, PC_PILE);
		for (int i = 0; i < NCROWD; i++)
			big_g(&b, 100 + NPILE + i, c, (uint32_t)i, PC_CROWD);
		big_groups(&b);
		golocks_observe(gl, &b.s, few_refers, NULL);
		r = golocks_report(gl);
	}
	double s = (double)(util_now_ns() - t0) / 1e9;
	const struct golocks_lock *lc = NULL;
	for (size_t i = 0; i < r->nlocks; i++)
		if (r->locks[i].addr == LC)
			lc = &r->locks[i];
	/* the goroutines piling behind A lock B in their function: probable holders of B too */
	bool members = r->nmembers == 2 + NPILE && r->members[0].goroutine == 18 &&
		       r->members[1].goroutine == 19 && r->locks[r->members[0].waits_on].addr == LB &&
		       r->locks[r->members[0].holds].addr == LA;
	for (size_t m = 1; members && m < r->nmembers; m++)
		members = r->members[m].goroutine == (m == 1 ? 19 : 100 + (int64_t)m - 2) &&
			  r->locks[r->members[m].waits_on].addr == LA &&
			  r->members[m].holds != UINT32_MAX && r->locks[r->members[m].holds].addr == LB;
	check(r->deadlock && r->ndeadlocks == 1 && r->holders_known && r->nstuck == 3 && members,
	      "golocks: 10,002 waiters on 3 locks: the one AB-BA found (g18 holds A waits B; g19 and "
	      "the %d piling behind A, whose code locks B, hold B)", NPILE);
	check(lc && lc->long_wait && !lc->deadlocked && lc->nstuck == NCROWD && lc->nholders == 0 &&
	      r->nlong_waits == 1,
	      "golocks: the crowd's lock (holder unknown) is a long wait, not part of the cycle");
	check(s < 2.0, "golocks: 13 observations of 10,002 waiters in %.3f s", s);
	golocks_free(gl);
	big_free(&b);
}

/* ---- many heap locks, holders unknown ---- */

static void test_unknown_holders(void)
{
	enum { NL = 4000 };
	struct big b;
	big_init(&b, 2 * NL, NL);
	struct golocks *gl = golocks_new(2);
	const struct golocks_report *r = NULL;
	uint64_t t0 = util_now_ns();
	for (int k = 0; k <= 12; k++) {
		big_reset(&b, k * 0.2);
		for (int i = 0; i < NL; i++)
			big_lock(&b, 0xc000000000ull + (uint64_t)i * 0x40);
		for (int i = 0; i < NL; i++) {
			big_g(&b, 1000 + 2 * i, (uint32_t)i, 0, PC_CROWD);
			big_g(&b, 1001 + 2 * i, (uint32_t)i, 1, PC_CROWD);
		}
		golocks_observe(gl, &b.s, NULL, NULL);
		r = golocks_report(gl);
	}
	double s = (double)(util_now_ns() - t0) / 1e9;
	size_t dead = 0;
	for (size_t i = 0; i < r->nlocks; i++)
		dead += r->locks[i].deadlocked && r->locks[i].cycle == 0;
	check(r->deadlock && r->ndeadlocks == 1 && !r->holders_known && dead == NL && r->nmembers == NL &&
	      r->members[0].holds == UINT32_MAX && r->nlong_waits == 0,
	      "golocks: %d stuck heap locks, holders unknown: one probable deadlock of all of them", NL);
	check(s < 2.0, "golocks: 13 observations of %d unknown-holder locks in %.3f s", NL, s);
	golocks_free(gl);
	big_free(&b);
}

/* ---- a ring of locks over package variables, on a small stack ---- */

enum { RING = 6000, RING_PC = 0x500000, RING_ADDR = 0x600000 };

/* Frame i's function locks lock i. */
static int ring_refers(void *arg, uint64_t pc, uint64_t lo, uint64_t hi)
{
	(void)arg;
	if (pc < RING_PC || pc >= RING_PC + RING * 16ull)
		return 0;
	uint64_t addr = RING_ADDR + (pc - RING_PC) / 16 * 0x40;
	return addr >= lo && addr < hi ? 2 : 0;
}

struct ring_run {
	struct big *b;
	struct golocks *gl;
};

static void *ring_thread(void *arg)
{
	struct ring_run *rr = arg;
	for (int k = 0; k <= 1; k++) {
		big_reset(rr->b, k * 1.0);
		for (int i = 0; i < RING; i++)
			big_lock(rr->b, RING_ADDR + (uint64_t)i * 0x40);
		/* goroutine i holds lock i and waits on lock i+1 */
		for (int i = 0; i < RING; i++)
			big_g(rr->b, 10 + i, (uint32_t)((i + 1) % RING), 0, RING_PC + (uint64_t)i * 16);
		big_groups(rr->b);
		golocks_observe(rr->gl, &rr->b->s, ring_refers, NULL);
	}
	return NULL;
}

static void test_ring(void)
{
	struct big b;
	big_init(&b, RING, RING);
	struct ring_run rr = { &b, golocks_new(1) };
	pthread_attr_t at;
	pthread_t t;
	pthread_attr_init(&at);
	pthread_attr_setstacksize(&at, 256 * 1024);
	bool ran = pthread_create(&t, &at, ring_thread, &rr) == 0 && pthread_join(t, NULL) == 0;
	pthread_attr_destroy(&at);
	const struct golocks_report *r = golocks_report(rr.gl);
	bool members = ran && r->nmembers == RING;
	for (size_t m = 0; members && m < r->nmembers; m++) {
		const struct golocks_member *mb = &r->members[m];
		int64_t i = mb->goroutine - 10;
		members = mb->holds != UINT32_MAX &&
			  r->locks[mb->holds].addr == RING_ADDR + (uint64_t)i * 0x40 &&
			  r->locks[mb->waits_on].addr == RING_ADDR + (uint64_t)((i + 1) % RING) * 0x40;
	}
	check(ran && r->deadlock && r->ndeadlocks == 1 && r->holders_known && members,
	      "golocks: a ring of %d locks (each held by the waiter of the next) on a 256 KiB stack: "
	      "one deadlock, every goroutine holding its own lock", RING);
	golocks_free(rr.gl);
	big_free(&b);
}

int main(void)
{
	test_many_waiters();
	test_unknown_holders();
	test_ring();
	printf("%s: %d failure%s\n", failures ? "FAIL" : "ok", failures, failures == 1 ? "" : "s");
	return failures ? 1 : 0;
}
