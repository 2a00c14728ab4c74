/*
 * Unit test of src/locks: futex decoding from synthetic memory (glibc 2.36 layouts written by
 * hand), and the wait-for graph, cycles and the persistence filter from synthetic observations.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#include "locks.h"
#include "util.h"
#include "check.h"


/* ---- a fake target: a few memory regions, live threads and data symbols ---- */

struct region {
	uint64_t addr;
	uint8_t bytes[128];
};

static struct region mem[16];
static size_t nmem;
static pid_t live[16];
static size_t nlive;

/* The byte at addr, in a zeroed 128-byte region created on first use. */
static uint8_t *mem_at(uint64_t addr)
{
	for (size_t i = 0; i < nmem; i++)
		if (addr >= mem[i].addr && addr < mem[i].addr + sizeof mem[i].bytes)
			return &mem[i].bytes[addr - mem[i].addr];
	if (nmem == UTIL_ARRAY_LEN(mem))
		abort();
	struct region *r = &mem[nmem++];
	r->addr = addr & ~(uint64_t)0x7f;
	memset(r->bytes, 0, sizeof r->bytes);
	return &r->bytes[addr - r->addr];
}

static void put32(uint64_t addr, uint32_t v)
{
	memcpy(mem_at(addr), &v, sizeof v);
}

static ssize_t fake_read(void *arg, uint64_t addr, void *buf, size_t len)
{
	(void)arg;
	for (size_t i = 0; i < nmem; i++)
		if (addr >= mem[i].addr && addr + len <= mem[i].addr + sizeof mem[i].bytes) {
			memcpy(buf, &mem[i].bytes[addr - mem[i].addr], len);
			return (ssize_t)len;
		}
	return -1;
}

static bool fake_alive(void *arg, pid_t tid)
{
	(void)arg;
	for (size_t i = 0; i < nlive; i++)
		if (live[i] == tid)
			return true;
	return false;
}

static const struct { uint64_t addr, size; const char *name; } syms[] = {
	{ 0x1000, 40, "lock_a" }, { 0x1080, 40, "lock_b" }, { 0x2000, 56, "rw" },
	{ 0x3000, 48, "cv" },	  { 0x3400, 32, "sem" },
};

static const char *fake_symbol(void *arg, uint64_t addr, uint64_t *off)
{
	(void)arg;
	for (size_t i = 0; i < UTIL_ARRAY_LEN(syms); i++)
		if (addr >= syms[i].addr && addr < syms[i].addr + syms[i].size) {
			*off = addr - syms[i].addr;
			return syms[i].name;
		}
	return NULL;
}

static void reset(void)
{
	nmem = 0;
	nlive = 0;
	for (pid_t t = 100; t <= 106; t++)
		live[nlive++] = t;
}

static struct locks_target target(const char *glibc)
{
	return (struct locks_target){ .read = fake_read, .alive = fake_alive,
				      .symbol = fake_symbol, .glibc = glibc };
}

/* A pthread_mutex_t at base: __lock, __owner, __kind. */
static void mutex_at(uint64_t base, uint32_t lock, int owner, int kind)
{
	put32(base, lock);
	put32(base + 8, (uint32_t)owner);
	put32(base + 16, (uint32_t)kind);
}

static struct proc_syscall futex_call(uint64_t addr, unsigned op, uint32_t val)
{
	struct proc_syscall sc = { .nr = SYS_futex, .sp = 0x7000, .pc = 0x9000 };
	sc.args[0] = addr;
	sc.args[1] = op;
	sc.args[2] = val;
	return sc;
}

static struct lock_wait decode(const char *glibc, pid_t tid, struct proc_syscall sc, int n, ...)
{
	const char *frames[8];
	va_list ap;
	va_start(ap, n);
	for (int i = 0; i < n; i++)
		frames[i] = va_arg(ap, const char *);
	va_end(ap);
	struct locks_target t = target(glibc);
	struct lock_wait w;
	locks_decode(&t, tid, &sc, frames, n, &w);
	return w;
}

static char *text(const struct lock_wait *w, const char *owner_name)
{
	static char buf[256];
	struct strbuf sb = { 0 };
	lock_wait_text(w, owner_name, &sb);
	snprintf(buf, sizeof buf, "%s", sb.s ? sb.s : "");
	strbuf_done(&sb);
	return buf;
}

enum { WAIT_PRIVATE = 128, WAIT_BITSET_PRIVATE = 9 | 128, LOCK_PI_PRIVATE = 6 | 128 };

static void test_decode_mutexes(void)
{
	reset();
	mutex_at(0x1000, 2, 102, 0);
	struct lock_wait w = decode("2.36", 101, futex_call(0x1000, WAIT_PRIVATE, 2), 3,
				    "futex_wait", "__lll_lock_wait", "___pthread_mutex_lock");
	check(w.kind == LOCK_MUTEX && w.addr == 0x1000 && w.owner == 102 && !w.flags,
	      "normal mutex: owner from __owner (kind %s owner %d flags %#x)",
	      lock_kind_name(w.kind), (int)w.owner, w.flags);
	check(!strcmp(w.name, "lock_a"), "mutex named by its data symbol (%s)", w.name);
	check(!strcmp(text(&w, "t2"), "mutex 0x1000 (lock_a) held by 102 (t2)"), "text: %s",
	      text(&w, "t2"));

	mutex_at(0x1080, 2, 103, 1);
	w = decode("2.36", 101, futex_call(0x1080, WAIT_PRIVATE, 2), 2, "__lll_lock_wait",
		   "pthread_mutex_lock@GLIBC_2.2.5");
	check(w.kind == LOCK_MUTEX && (w.flags & LOCK_F_RECURSIVE) && w.owner == 103,
	      "recursive mutex (dynsym name)");
	check(!strcmp(lock_type_name(&w), "recursive"), "type recursive");
	mutex_at(0x1080, 2, 103, 2);
	w = decode("2.36", 101, futex_call(0x1080, WAIT_PRIVATE, 2), 2, "__lll_lock_wait",
		   "___pthread_mutex_lock");
	check(w.kind == LOCK_MUTEX && (w.flags & LOCK_F_ERRORCHECK), "errorcheck mutex");

	/* The word no longer holds 2: the waiter is being woken. */
	mutex_at(0x1000, 0, 0, 0);
	w = decode("2.36", 101, futex_call(0x1000, WAIT_PRIVATE, 2), 2, "__lll_lock_wait",
		   "___pthread_mutex_lock");
	check(w.kind == LOCK_MUTEX && (w.flags & LOCK_F_WAKING) && !lock_wait_has_owner(&w),
	      "released mutex: waking, no owner");

	/* PI: the owner is in the lock word; FUTEX_LOCK_PI tells it even without names. */
	mutex_at(0x1080, 0x80000000u | 102, 0, 32);
	w = decode("2.36", 101, futex_call(0x1080, LOCK_PI_PRIVATE, 0), 0);
	check(w.kind == LOCK_MUTEX && (w.flags & LOCK_F_PI) && w.owner == 102 &&
		      !(w.flags & LOCK_F_WAKING),
	      "PI mutex from FUTEX_LOCK_PI: owner %d flags %#x", (int)w.owner, w.flags);

	/* Owner no longer a thread of the process. */
	mutex_at(0x1000, 2, 999, 0);
	w = decode("2.36", 101, futex_call(0x1000, WAIT_PRIVATE, 2), 1, "___pthread_mutex_lock");
	check((w.flags & LOCK_F_OWNER_DIED) && w.owner == 999, "owner died flagged");
	check(strstr(text(&w, NULL), "owner died") != NULL, "owner died text: %s", text(&w, NULL));

	/* Garbage kind: not a mutex. */
	mutex_at(0x1000, 2, 102, 0x12345);
	w = decode("2.36", 101, futex_call(0x1000, WAIT_PRIVATE, 2), 1, "___pthread_mutex_lock");
	check(w.kind == LOCK_FUTEX && w.why, "implausible mutex is an unknown futex (%s)", w.why);
}

static void test_decode_others(void)
{
	reset();
	/* rwlock held for writing by 101: __readers WRPHASE|WRLOCKED, __cur_writer 101. */
	put32(0x2000, 3);
	put32(0x200c, 3);
	put32(0x2018, 101);
	struct lock_wait w = decode("2.36", 102, futex_call(0x200c, WAIT_BITSET_PRIVATE, 3), 2,
				    "__futex_abstimed_wait_common", "pthread_rwlock_wrlock@@GLIBC_2.34");
	check(w.kind == LOCK_RWLOCK && w.addr == 0x2000 && w.owner == 101 && (w.flags & LOCK_F_WRITE),
	      "rwlock writer waits on __writers_futex: base %#llx owner %d", (unsigned long long)w.addr,
	      (int)w.owner);
	check(!strcmp(w.name, "rw"), "rwlock named (%s)", w.name);
	put32(0x2008, 3);
	w = decode("2.36", 103, futex_call(0x2008, WAIT_BITSET_PRIVATE, 3), 1,
		   "__pthread_rwlock_rdlock_full64");
	check(w.kind == LOCK_RWLOCK && w.addr == 0x2000 && w.owner == 101 && !(w.flags & LOCK_F_WRITE),
	      "rwlock reader waits on __wrphase_futex");
	put32(0x2000, 3u << 3); /* three readers, read phase */
	put32(0x2018, 0);
	w = decode("2.36", 104, futex_call(0x200c, WAIT_BITSET_PRIVATE, 3), 1, "___pthread_rwlock_wrlock");
	check(w.kind == LOCK_RWLOCK && (w.flags & LOCK_F_READERS) && w.readers == 3 && !w.owner,
	      "rwlock held by readers: %s", text(&w, NULL));

	/* condvar: waiters sleep on __g_signals[g] at +40 / +44. */
	put32(0x3028, 0);
	w = decode("2.36", 101, futex_call(0x3028, WAIT_BITSET_PRIVATE, 0), 2,
		   "__futex_abstimed_wait_common", "___pthread_cond_wait");
	check(w.kind == LOCK_COND && w.addr == 0x3000 && !w.owner, "condvar g=0 at +40");
	w = decode("2.36", 101, futex_call(0x302c, WAIT_BITSET_PRIVATE, 0), 1, "pthread_cond_timedwait");
	check(w.kind == LOCK_COND && w.addr == 0x3000 && !strcmp(w.name, "cv"), "condvar g=1 at +44");

	/* The mutex re-taken inside pthread_cond_wait is a mutex wait. */
	mutex_at(0x1000, 2, 102, 0);
	w = decode("2.36", 101, futex_call(0x1000, WAIT_PRIVATE, 2), 3, "__lll_lock_wait",
		   "__pthread_mutex_cond_lock", "___pthread_cond_wait");
	check(w.kind == LOCK_MUTEX && w.owner == 102, "mutex re-taken after a condvar wait");

	put32(0x3400, 0);
	w = decode("2.36", 101, futex_call(0x3400, WAIT_BITSET_PRIVATE, 0), 2, "do_futex_wait",
		   "__new_sem_wait_slow64");
	check(w.kind == LOCK_SEM && w.addr == 0x3400 && !w.owner, "semaphore");

	/* join: the word is the joined thread's tid. */
	put32(0x4010, 105);
	w = decode("2.36", 100, futex_call(0x4010, 9 | 256, 105), 2, "__futex_abstimed_wait_common",
		   "__pthread_clockjoin_ex");
	check(w.kind == LOCK_JOIN && w.owner == 105 && !(w.flags & LOCK_F_WAKING),
	      "join waits for the thread whose tid the word holds");
	check(!strcmp(text(&w, "worker"), "join: waits for 105 (worker) to exit"), "join text: %s",
	      text(&w, "worker"));

	/* Unknown glibc, no glibc, nothing recognisable, not a futex. */
	w = decode("2.35", 101, futex_call(0x1000, WAIT_PRIVATE, 2), 1, "___pthread_mutex_lock");
	check(w.kind == LOCK_FUTEX && w.why && !w.owner, "glibc 2.35: unknown futex (%s)", w.why);
	w = decode(NULL, 101, futex_call(0x1000, WAIT_PRIVATE, 2), 1, "runtime.futex");
	check(w.kind == LOCK_FUTEX && w.why, "no glibc: unknown futex (%s)", w.why);
	w = decode("2.36", 101, futex_call(0x1000, WAIT_PRIVATE, 2), 2, "my_futex_wait", "main");
	check(w.kind == LOCK_FUTEX, "no glibc primitive in the stack: unknown futex");
	struct proc_syscall rd = { .nr = SYS_read, .sp = 0x7000 };
	w = decode("2.36", 101, rd, 0);
	check(w.kind == LOCK_NONE, "read() is no lock wait");
	check(locks_glibc_supported("2.36") && !locks_glibc_supported("2.37") &&
		      !locks_glibc_supported(NULL),
	      "only verified glibc versions are decoded");
}

static void test_decode_parked(void)
{
	reset();
	/* glibc parks a thread whose FUTEX_LOCK_PI failed with EDEADLK on a word of its stack. */
	put32(0x7054, 0);
	struct proc_syscall sc = futex_call(0x7054, 9 | 128 | 256, 0);
	struct lock_wait w = decode("2.36", 102, sc, 2, "__futex_abstimed_wait_common",
				    "__pthread_mutex_lock_full");
	check(w.kind == LOCK_MUTEX && (w.flags & LOCK_F_EDEADLK) && locks_needs_registers(&w),
	      "EDEADLK park recognised, mutex still to be found");
	mutex_at(0x1000, 0x80000000u | 101, 0, 32); /* lock_a: held by 101, waiters */
	mutex_at(0x1080, 0x80000000u | 102, 0, 32); /* lock_b: held by 102 itself */
	uint64_t words[] = { 0, 0x7054, 0x1080, 0x1010, 12345 };
	struct locks_target t = target("2.36");
	bool found = locks_decode_parked(&t, 102, words, UTIL_ARRAY_LEN(words), &w);
	check(found && w.addr == 0x1000 && w.owner == 101 && (w.flags & LOCK_F_EDEADLK) &&
		      (w.flags & LOCK_F_PI) && !locks_needs_registers(&w),
	      "parked thread's mutex found from a register pointing into it (%#llx owner %d)",
	      (unsigned long long)w.addr, (int)w.owner);
	uint64_t none[] = { 0x1080 };
	w = decode("2.36", 102, sc, 1, "__pthread_mutex_lock_full");
	found = locks_decode_parked(&t, 102, none, 1, &w);
	check(found && w.addr == 0x1080 && w.owner == 102, "only its own PI mutex: a self-lock");
}

/* ---- the graph ---- */

static struct lock_wait mutex_wait(uint64_t addr, pid_t owner, const char *name)
{
	struct lock_wait w = { .kind = LOCK_MUTEX, .addr = addr, .futex = addr, .value = 2,
			       .owner = owner };
	snprintf(w.name, sizeof w.name, "%s", name);
	return w;
}

static const struct lock_wait none_wait = { .kind = LOCK_NONE };

static void add(struct locks *l, pid_t tid, struct lock_wait w, uint64_t switches)
{
	locks_add(l, tid, &w, switches, -1);
}

/* One observation of AB-BA between 101 and 102, 100 joining 101, 103 idle. */
static void obs_abba(struct locks *l, uint64_t t, uint64_t sw101)
{
	locks_begin(l, t);
	struct lock_wait join = { .kind = LOCK_JOIN, .addr = 0x4010, .futex = 0x4010, .value = 101,
				  .owner = 101 };
	add(l, 100, join, 5);
	add(l, 101, mutex_wait(0x1080, 102, "lock_b"), sw101);
	add(l, 102, mutex_wait(0x1000, 101, "lock_a"), 7);
	add(l, 103, none_wait, UINT64_MAX);
	locks_end(l);
}

static const char *dl_text(const struct lock_deadlock *d)
{
	static char buf[256];
	struct strbuf sb = { 0 };
	locks_deadlock_text(d, &sb);
	snprintf(buf, sizeof buf, "%s", sb.s ? sb.s : "");
	strbuf_done(&sb);
	return buf;
}

static void test_graph_abba(void)
{
	struct locks_config cfg = { .long_wait_s = 5 };
	struct locks *l = locks_new(&cfg);
	obs_abba(l, 1000000000ull, 3);
	check(locks_ndeadlocks(l) == 0 && locks_ncandidates(l) == 1,
	      "one observation: a candidate, not a deadlock");
	struct strbuf b = { 0 };
	check(!locks_banner(l, &b), "no banner before confirmation");
	obs_abba(l, 1150000000ull, 3);
	check(locks_ndeadlocks(l) == 1 && locks_ncandidates(l) == 0, "two unchanged: a deadlock");
	const struct lock_deadlock *d = locks_deadlock(l, 0);
	check(d->n == 2 && d->tids[0] == 101 && d->tids[1] == 102 && d->waits[0].addr == 0x1080 &&
		      d->waits[1].addr == 0x1000 && d->confirmed && !d->kernel,
	      "cycle 101 -> 102 -> 101 with both locks");
	check(!strcmp(dl_text(d), "101 holds lock_a waits lock_b; 102 holds lock_b waits lock_a"),
	      "text: %s", dl_text(d));
	bool shown = locks_banner(l, &b);
	check(shown && !strcmp(b.s, "DEADLOCK: 101 holds lock_a waits lock_b; 102 holds lock_b waits lock_a"),
	      "banner: %s", b.s ? b.s : "");
	strbuf_done(&b);
	const struct lock_thread *j = locks_thread(l, 100);
	check(j && j->deadlock == -1 && j->behind == 0 && j->behind_tid == 101,
	      "the joiner is behind the deadlock, waiting for 101");
	check(locks_thread(l, 101)->deadlock == 0 && locks_thread(l, 102)->deadlock == 0 &&
		      locks_thread(l, 103)->deadlock == -1,
	      "members marked");
	check(locks_thread(l, 101)->observations == 2, "observations counted");
	locks_free(l);

	/* The thread ran between the observations: not the same wait, not yet a deadlock. */
	l = locks_new(&cfg);
	obs_abba(l, 0, 3);
	obs_abba(l, 150000000ull, 4);
	check(locks_ndeadlocks(l) == 0 && locks_ncandidates(l) == 1, "a thread that ran resets it");
	obs_abba(l, 300000000ull, 4);
	check(locks_ndeadlocks(l) == 1, "then unchanged again: a deadlock");
	locks_free(l);
}

static void test_graph_contention(void)
{
	struct locks_config cfg = { .long_wait_s = 5 };
	struct locks *l = locks_new(&cfg);
	/* A torn read makes 101 and 102 wait for each other on one mutex, once. */
	locks_begin(l, 0);
	add(l, 101, mutex_wait(0x1000, 102, "m"), 10);
	add(l, 102, mutex_wait(0x1000, 101, "m"), 20);
	add(l, 103, mutex_wait(0x1000, 101, "m"), 30);
	locks_end(l);
	check(locks_ncandidates(l) == 1 && locks_ndeadlocks(l) == 0, "torn read: only a candidate");
	locks_begin(l, 200000000ull);
	add(l, 101, mutex_wait(0x1000, 103, "m"), 12);
	add(l, 102, none_wait, 21);
	add(l, 103, none_wait, 33);
	locks_end(l);
	check(locks_ncandidates(l) == 0 && locks_ndeadlocks(l) == 0, "passing contention: nothing");
	/* A cycle through a waking edge is no cycle. */
	locks_begin(l, 400000000ull);
	struct lock_wait w = mutex_wait(0x1000, 102, "m");
	w.flags |= LOCK_F_WAKING;
	add(l, 101, w, 12);
	add(l, 102, mutex_wait(0x1000, 101, "m"), 21);
	locks_end(l);
	check(locks_ncandidates(l) == 0, "waking edges are not in the graph");
	locks_free(l);
}

static void test_graph_shapes(void)
{
	struct locks_config cfg = { .long_wait_s = 5 };
	struct locks *l = locks_new(&cfg);
	for (int k = 0; k < 2; k++) {
		locks_begin(l, (uint64_t)k * 200000000ull);
		/* self-lock */
		add(l, 110, mutex_wait(0x1100, 110, "m"), 1);
		/* 3-cycle over mutex, rwlock, mutex */
		add(l, 121, mutex_wait(0x1200, 122, "m1"), 1);
		struct lock_wait rw = { .kind = LOCK_RWLOCK, .addr = 0x2000, .futex = 0x200c, .value = 3,
					.owner = 123, .flags = LOCK_F_WRITE };
		snprintf(rw.name, sizeof rw.name, "rw");
		add(l, 122, rw, 1);
		add(l, 123, mutex_wait(0x1300, 121, "m3"), 1);
		/* a chain into the 3-cycle */
		add(l, 130, mutex_wait(0x1400, 131, "x"), 1);
		add(l, 131, mutex_wait(0x1200, 122, "m1"), 1);
		/* owner gone */
		add(l, 140, mutex_wait(0x1500, 999, "lost"), 1);
		locks_end(l);
	}
	check(locks_ndeadlocks(l) == 2, "self-lock and 3-cycle: %zu deadlocks", locks_ndeadlocks(l));
	const struct lock_deadlock *a = locks_deadlock(l, 0), *b = locks_deadlock(l, 1);
	check(a && a->n == 1 && a->tids[0] == 110 && !strcmp(dl_text(a), "110 holds m waits m"),
	      "self-lock: %s", a ? dl_text(a) : "");
	check(b && b->n == 3 && b->tids[0] == 121 &&
		      !strcmp(dl_text(b), "121 holds m3 waits m1; 122 holds m1 waits rw; 123 holds rw waits m3"),
	      "3-cycle: %s", b ? dl_text(b) : "");
	check(locks_thread(l, 130)->behind == 1 && locks_thread(l, 130)->behind_tid == 122 &&
		      locks_thread(l, 131)->behind == 1,
	      "a chain of waits leads behind the cycle");
	check(locks_thread(l, 140)->owner_died && locks_thread(l, 140)->deadlock == -1,
	      "owner died: reported, no edge");
	locks_free(l);
}

static void test_graph_waits(void)
{
	struct locks_config cfg = { .long_wait_s = 5 };
	struct locks *l = locks_new(&cfg);
	locks_begin(l, 0);
	struct lock_wait w = mutex_wait(0x1000, 106, "m");
	locks_add(l, 105, &w, 1, 7000000000ll); /* off CPU 7 s per the kernel */
	locks_add(l, 104, &w, 1, 2000000000ll);
	struct lock_wait cv = { .kind = LOCK_COND, .addr = 0x3000, .futex = 0x3028 };
	locks_add(l, 103, &cv, 1, 60000000000ll);
	locks_add(l, 106, &none_wait, UINT64_MAX, -1);
	locks_end(l);
	const struct lock_thread *t105 = locks_thread(l, 105), *t104 = locks_thread(l, 104);
	check(t105->long_wait && t105->wait_s_kernel && t105->wait_s > 6.9,
	      "a 7 s mutex wait is long (%.1f s)", t105->wait_s);
	check(!t104->long_wait, "a 2 s one is not");
	check(!locks_thread(l, 103)->long_wait, "an idle condvar wait is not a long wait");
	locks_free(l);

	/* Without the kernel's time, the observed time counts. */
	l = locks_new(&cfg);
	for (int k = 0; k < 4; k++) {
		locks_begin(l, (uint64_t)k * 2000000000ull);
		locks_add(l, 105, &w, 1, -1);
		locks_add(l, 106, &none_wait, UINT64_MAX, -1);
		locks_end(l);
	}
	t105 = locks_thread(l, 105);
	check(t105->long_wait && !t105->wait_s_kernel && t105->wait_s > 5.9,
	      "observed for 6 s: long (%.1f s)", t105->wait_s);
	locks_free(l);

	/* A thread glibc parked after EDEADLK, its mutex not found: still a deadlock. */
	l = locks_new(&cfg);
	struct lock_wait parked = { .kind = LOCK_MUTEX, .futex = 0x7054,
				    .flags = LOCK_F_EDEADLK | LOCK_F_PI };
	for (int k = 0; k < 2; k++) {
		locks_begin(l, (uint64_t)k * 200000000ull);
		locks_add(l, 102, &parked, UINT64_MAX, -1);
		locks_end(l);
	}
	check(locks_ndeadlocks(l) == 1 && locks_deadlock(l, 0)->kernel &&
		      locks_deadlock(l, 0)->tids[0] == 102,
	      "EDEADLK park: a deadlock on the kernel's word: %s", dl_text(locks_deadlock(l, 0)));
	locks_free(l);
}

int main(void)
{
	test_decode_mutexes();
	test_decode_others();
	test_decode_parked();
	test_graph_abba();
	test_graph_contention();
	test_graph_shapes();
	test_graph_waits();
	if (failures)
		printf("%d check(s) failed\n", failures);
	return failures ? 1 : 0;
}
