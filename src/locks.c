/* locks: futex decoding, the wait-for graph and its deadlocks (see locks.h). */
#include "locks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

/* ---- glibc 2.36 facts (x86-64), see NOTES.md "What a blocked thread waits on" ---- */

enum {
	FUTEX_CMD_WAIT = 0,
	FUTEX_CMD_LOCK_PI = 6,
	FUTEX_CMD_WAIT_BITSET = 9,
	FUTEX_CMD_WAIT_REQUEUE_PI = 11,
	FUTEX_CMD_LOCK_PI2 = 13,
	FUTEX_OPT_FLAGS = 128 | 256, /* FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME */
};
#define FUTEX_TID_MASK_ 0x3fffffffu
#define FUTEX_OWNER_DIED_ 0x40000000u
#define FUTEX_WAITERS_ 0x80000000u

/* pthread_mutex_t.__data.__kind bits. */
enum {
	MUTEX_TYPE_MASK = 3, /* normal (timed) 0, recursive 1, errorcheck 2, adaptive 3 */
	MUTEX_ROBUST = 16,
	MUTEX_PI = 32,
	MUTEX_PP = 64,
	MUTEX_PSHARED = 128,
	MUTEX_ELISION = 256,
	MUTEX_NO_ELISION = 512,
	MUTEX_KNOWN_BITS = 3 | 16 | 32 | 64 | 128 | 256 | 512,
	MUTEX_OWNER_INCONSISTENT = 0x7fffffff,
	MUTEX_OWNER_NOTRECOVERABLE = 0x7ffffffe,
};

/* pthread_mutex_t, the fields read (glibc 2.36 x86-64: __lock +0, __owner +8, __kind +16). */
struct g_mutex {
	uint32_t lock;
	uint32_t count;
	int32_t owner;
	uint32_t nusers;
	int32_t kind;
};

/* pthread_rwlock_t (glibc 2.36 x86-64). */
struct g_rwlock {
	uint32_t readers;       /* +0: bit 0 WRPHASE, bit 1 WRLOCKED, bit 2 RWAITING, count << 3 */
	uint32_t writers;       /* +4 */
	uint32_t wrphase_futex; /* +8: readers (and the primary writer) wait here */
	uint32_t writers_futex; /* +12: writers wait here */
	uint32_t pad3, pad4;    /* +16, +20 */
	int32_t cur_writer;     /* +24: TID of the writer holding it */
	int32_t shared;         /* +28 */
	uint8_t elision_pad[8]; /* +32 */
	uint64_t pad2;          /* +40 */
	uint32_t flags;         /* +48: kind (prefer reader 0, writer 1, writer nonrecursive 2) */
	uint32_t tail_pad;
};
enum { RW_WRLOCKED = 2, RW_READER_SHIFT = 3, RW_FLAGS_MAX = 2, RW_PREFER_WRITER_NONREC = 2 };

_Static_assert(sizeof(struct g_mutex) == 20, "mutex prefix layout");
_Static_assert(sizeof(struct g_rwlock) == 56, "rwlock layout");

/* glibc versions whose layouts above were verified on a live target. */
static const char *const glibc_verified[] = { "2.36" };

bool locks_glibc_supported(const char *version)
{
	if (!version)
		return false;
	for (size_t i = 0; i < UTIL_ARRAY_LEN(glibc_verified); i++)
		if (!strcmp(version, glibc_verified[i]))
			return true;
	return false;
}

/* ---- names and text ---- */

const char *lock_kind_name(enum lock_kind k)
{
	switch (k) {
	case LOCK_NONE: return "none";
	case LOCK_FUTEX: return "futex";
	case LOCK_MUTEX: return "mutex";
	case LOCK_RWLOCK: return "rwlock";
	case LOCK_JOIN: return "join";
	case LOCK_COND: return "condvar";
	case LOCK_SEM: return "semaphore";
	case LOCK_BARRIER: return "barrier";
	case LOCK_INTERNAL: return "internal";
	case LOCK_KIND_COUNT: break;
	}
	return "?";
}

const char *lock_type_name(const struct lock_wait *w)
{
	if (w->kind != LOCK_MUTEX)
		return "";
	if (w->flags & LOCK_F_RECURSIVE)
		return "recursive";
	if (w->flags & LOCK_F_ERRORCHECK)
		return "errorcheck";
	if (w->flags & LOCK_F_ADAPTIVE)
		return "adaptive";
	return "normal";
}

bool lock_wait_has_owner(const struct lock_wait *w)
{
	return (w->kind == LOCK_MUTEX || w->kind == LOCK_RWLOCK || w->kind == LOCK_JOIN) &&
	       w->owner > 0;
}

void lock_label(const struct lock_wait *w, struct strbuf *out)
{
	if (w->name[0])
		strbuf_puts(out, w->name);
	else if (w->addr)
		strbuf_printf(out, "0x%llx", (unsigned long long)w->addr);
	else
		strbuf_puts(out, "?");
}

static void owner_text(pid_t owner, const char *owner_name, struct strbuf *out)
{
	strbuf_printf(out, "%d", (int)owner);
	if (owner_name && owner_name[0])
		strbuf_printf(out, " (%s)", owner_name);
}

void lock_wait_text(const struct lock_wait *w, const char *owner_name, struct strbuf *out)
{
	if (w->kind == LOCK_NONE)
		return;
	if (w->kind == LOCK_JOIN) {
		if (w->owner > 0) {
			strbuf_puts(out, "join: waits for ");
			owner_text(w->owner, owner_name, out);
			strbuf_puts(out, " to exit");
		} else {
			strbuf_puts(out, "join: the thread has exited");
		}
		return;
	}
	if (w->kind == LOCK_FUTEX) {
		strbuf_printf(out, "futex 0x%llx (unknown: %s)", (unsigned long long)w->futex,
			      w->why ? w->why : "not decoded");
		return;
	}
	if (w->kind == LOCK_INTERNAL) {
		strbuf_printf(out, "libc internal lock 0x%llx", (unsigned long long)w->addr);
		if (w->name[0])
			strbuf_printf(out, " (%s)", w->name);
		return;
	}
	strbuf_puts(out, lock_kind_name(w->kind));
	if (w->kind == LOCK_MUTEX) {
		const char *type = lock_type_name(w);
		if (strcmp(type, "normal"))
			strbuf_printf(out, " (%s)", type);
		if (w->flags & LOCK_F_PI)
			strbuf_puts(out, " (PI)");
	}
	if (w->addr)
		strbuf_printf(out, " 0x%llx", (unsigned long long)w->addr);
	else
		strbuf_puts(out, " at an unknown address");
	if (w->name[0])
		strbuf_printf(out, " (%s)", w->name);
	if (w->kind == LOCK_RWLOCK)
		strbuf_puts(out, w->flags & LOCK_F_WRITE ? " to write," : " to read,");
	if (w->kind == LOCK_SEM)
		strbuf_printf(out, " (value %u)", w->value);
	if (w->kind == LOCK_COND && (w->flags & LOCK_F_SIGNALER))
		strbuf_puts(out, " (signalling: waits for old waiters to leave)");
	if (w->flags & LOCK_F_EDEADLK) {
		strbuf_puts(out, w->owner > 0 ? " held by " : "");
		if (w->owner > 0)
			owner_text(w->owner, owner_name, out);
		strbuf_puts(out, ": the kernel refused it (EDEADLK), glibc parks the thread forever");
		return;
	}
	if (w->owner > 0) {
		strbuf_puts(out, w->kind == LOCK_RWLOCK ? " held by writer " : " held by ");
		owner_text(w->owner, owner_name, out);
		if (w->flags & LOCK_F_FOREIGN)
			strbuf_puts(out, " of another process");
		else if (w->flags & LOCK_F_OWNER_DIED)
			strbuf_puts(out, ", which has exited (owner died holding it)");
	} else if (w->flags & LOCK_F_READERS) {
		strbuf_printf(out, " held by %u reader%s", w->readers, w->readers == 1 ? "" : "s");
	} else if (w->flags & LOCK_F_OWNER_DIED) {
		strbuf_puts(out, ": its owner died holding it");
	}
	if (w->flags & LOCK_F_WAKING)
		strbuf_puts(out, " (being woken)");
}

/* ---- decoding ---- */

/* Which glibc function called futex(), from a frame's name. */
enum prim {
	PRIM_NONE,
	PRIM_LLL,          /* __lll_lock_wait: a mutex, or another lll lock */
	PRIM_LLL_PRIVATE,  /* __lll_lock_wait_private: a libc-internal lock */
	PRIM_MUTEX,
	PRIM_MUTEX_FULL,   /* __pthread_mutex_lock_full: robust, PI and PP mutexes */
	PRIM_RW_WRITE,
	PRIM_RW_READ,
	PRIM_RW,
	PRIM_COND_WAIT,
	PRIM_COND_SIGNAL,
	PRIM_SEM,
	PRIM_JOIN,
	PRIM_BARRIER,
};

static enum prim frame_prim(const char *name)
{
	if (!name)
		return PRIM_NONE;
	if (strstr(name, "pthread_mutex_lock_full"))
		return PRIM_MUTEX_FULL;
	if (strstr(name, "pthread_mutex_") && strstr(name, "lock") && !strstr(name, "unlock"))
		return PRIM_MUTEX;
	if (strstr(name, "lll_lock_wait_private"))
		return PRIM_LLL_PRIVATE;
	if (strstr(name, "lll_lock_wait"))
		return PRIM_LLL;
	if (strstr(name, "pthread_rwlock_")) {
		if (strstr(name, "wrlock"))
			return PRIM_RW_WRITE;
		if (strstr(name, "rdlock"))
			return PRIM_RW_READ;
		return PRIM_RW;
	}
	if (strstr(name, "pthread_cond_") || strstr(name, "__condvar_")) {
		if (strstr(name, "signal") || strstr(name, "broadcast") || strstr(name, "quiesce"))
			return PRIM_COND_SIGNAL;
		return PRIM_COND_WAIT;
	}
	if (strstr(name, "sem_wait") || strstr(name, "sem_timedwait") || strstr(name, "sem_clockwait"))
		return PRIM_SEM;
	if (strstr(name, "pthread_join") || strstr(name, "pthread_clockjoin") ||
	    strstr(name, "pthread_timedjoin"))
		return PRIM_JOIN;
	if (strstr(name, "pthread_barrier_wait"))
		return PRIM_BARRIER;
	return PRIM_NONE;
}

/* The innermost glibc primitive of a stack.  __lll_lock_wait is only a hint: the frame above it
 * says whether it is a mutex. */
static enum prim stack_prim(const char *const *frames, int n)
{
	enum prim weak = PRIM_NONE;
	for (int i = 0; i < n && i < 16; i++) {
		enum prim p = frame_prim(frames[i]);
		if (p == PRIM_NONE)
			continue;
		if (p == PRIM_LLL) {
			weak = p;
			continue;
		}
		return p;
	}
	return weak;
}

static bool target_read(const struct locks_target *t, uint64_t addr, void *buf, size_t len)
{
	return addr && t->read && t->read(t->arg, addr, buf, len) == (ssize_t)len;
}

static bool target_alive(const struct locks_target *t, pid_t tid)
{
	return !t->alive || t->alive(t->arg, tid);
}

static void name_object(const struct locks_target *t, struct lock_wait *w)
{
	w->name[0] = '\0';
	if (!t->symbol || !w->addr)
		return;
	uint64_t off = 0;
	const char *s = t->symbol(t->arg, w->addr, &off);
	if (!s || !s[0])
		return;
	if (off)
		snprintf(w->name, sizeof w->name, "%s+0x%llx", s, (unsigned long long)off);
	else
		snprintf(w->name, sizeof w->name, "%s", s);
}

/* The waited object is the futex word itself (an internal lock, a semaphore, a barrier). */
static void futex_object(const struct locks_target *t, struct lock_wait *w, enum lock_kind kind)
{
	w->kind = kind;
	w->addr = w->futex;
	name_object(t, w);
}

static void set_unknown(struct lock_wait *w, const char *why)
{
	w->kind = LOCK_FUTEX;
	w->addr = w->futex;
	w->owner = 0;
	w->why = why;
}

/* Whether m looks like a glibc 2.36 mutex. */
static bool mutex_plausible(const struct g_mutex *m)
{
	if (m->kind < 0 || (m->kind & ~MUTEX_KNOWN_BITS))
		return false;
	if ((m->kind & MUTEX_PI) && (m->kind & MUTEX_PP))
		return false;
	return true;
}

/* Fill w as the mutex at base from its fields m. */
static void mutex_fill(const struct locks_target *t, uint64_t base, const struct g_mutex *m,
		       struct lock_wait *w)
{
	w->kind = LOCK_MUTEX;
	w->addr = base;
	w->why = NULL;
	switch (m->kind & MUTEX_TYPE_MASK) {
	case 1: w->flags |= LOCK_F_RECURSIVE; break;
	case 2: w->flags |= LOCK_F_ERRORCHECK; break;
	case 3: w->flags |= LOCK_F_ADAPTIVE; break;
	default: break;
	}
	if (m->kind & MUTEX_ROBUST)
		w->flags |= LOCK_F_ROBUST;
	if (m->kind & MUTEX_PP)
		w->flags |= LOCK_F_PP;
	if (m->kind & MUTEX_PSHARED)
		w->flags |= LOCK_F_PSHARED;
	pid_t owner;
	if (m->kind & MUTEX_PI) {
		w->flags |= LOCK_F_PI;
		owner = (pid_t)(m->lock & FUTEX_TID_MASK_);
		if (m->lock & FUTEX_OWNER_DIED_)
			w->flags |= LOCK_F_OWNER_DIED;
	} else {
		owner = m->owner;
		if (owner == MUTEX_OWNER_INCONSISTENT || owner == MUTEX_OWNER_NOTRECOVERABLE) {
			owner = 0;
			w->flags |= LOCK_F_OWNER_DIED;
		}
	}
	w->owner = owner > 0 ? owner : 0;
	if (w->owner && !target_alive(t, w->owner))
		w->flags |= (w->flags & LOCK_F_PSHARED) ? LOCK_F_FOREIGN : LOCK_F_OWNER_DIED;
	name_object(t, w);
}

static void decode_mutex(const struct locks_target *t, uint64_t base, struct lock_wait *w)
{
	struct g_mutex m;
	if (!target_read(t, base, &m, sizeof m)) {
		set_unknown(w, "mutex unreadable");
		return;
	}
	if (!mutex_plausible(&m)) {
		set_unknown(w, "not a glibc mutex");
		return;
	}
	mutex_fill(t, base, &m, w);
}

static bool rwlock_plausible(const struct g_rwlock *r)
{
	return r->pad3 == 0 && r->pad4 == 0 && r->flags <= RW_FLAGS_MAX && r->cur_writer >= 0;
}

static void decode_rwlock(const struct locks_target *t, enum prim p, struct lock_wait *w)
{
	uint64_t f = w->futex;
	struct g_rwlock r;
	uint64_t base;
	/* pthread_rwlock_t is 8-byte aligned: a word at 4 mod 8 is __writers_futex (+12); one at
	 * 0 mod 8 is __wrphase_futex (+8), or __readers (+0) for readers of a prefer-writer
	 * nonrecursive lock. */
	if (f % 8 == 4) {
		base = f - 12;
		w->flags |= LOCK_F_WRITE;
	} else {
		base = f - 8;
		if (p == PRIM_RW_WRITE)
			w->flags |= LOCK_F_WRITE;
		if (p != PRIM_RW_WRITE && target_read(t, f, &r, sizeof r) && rwlock_plausible(&r) &&
		    r.flags == RW_PREFER_WRITER_NONREC)
			base = f;
	}
	if (!target_read(t, base, &r, sizeof r)) {
		set_unknown(w, "rwlock unreadable");
		return;
	}
	if (!rwlock_plausible(&r)) {
		set_unknown(w, "not a glibc rwlock");
		return;
	}
	w->kind = LOCK_RWLOCK;
	w->addr = base;
	w->why = NULL;
	if (r.shared)
		w->flags |= LOCK_F_PSHARED;
	if ((r.readers & RW_WRLOCKED) && r.cur_writer > 0) {
		w->owner = r.cur_writer;
		if (!target_alive(t, w->owner))
			w->flags |= (w->flags & LOCK_F_PSHARED) ? LOCK_F_FOREIGN : LOCK_F_OWNER_DIED;
	} else if (r.readers >> RW_READER_SHIFT) {
		w->flags |= LOCK_F_READERS;
		w->readers = r.readers >> RW_READER_SHIFT;
	}
	name_object(t, w);
}

void locks_decode(const struct locks_target *t, pid_t tid, const struct proc_syscall *sc,
		  const char *const *frames, int nframes, struct lock_wait *w)
{
	memset(w, 0, sizeof *w);
	w->kind = LOCK_NONE;
	if (!sc || sc->running || sc->nr != SYS_futex)
		return;
	unsigned cmd = (unsigned)sc->args[1] & ~(unsigned)FUTEX_OPT_FLAGS;
	bool pi_op = cmd == FUTEX_CMD_LOCK_PI || cmd == FUTEX_CMD_LOCK_PI2;
	if (!pi_op && cmd != FUTEX_CMD_WAIT && cmd != FUTEX_CMD_WAIT_BITSET &&
	    cmd != FUTEX_CMD_WAIT_REQUEUE_PI)
		return; /* a wake or requeue: not a wait */
	w->futex = sc->args[0];
	if (sc->args[3])
		w->flags |= LOCK_F_TIMED;
	if (!target_read(t, w->futex, &w->value, sizeof w->value)) {
		set_unknown(w, "futex word unreadable");
		return;
	}
	if (pi_op ? (w->value & FUTEX_TID_MASK_) == 0 : w->value != (uint32_t)sc->args[2])
		w->flags |= LOCK_F_WAKING;
	if (!t->glibc) {
		set_unknown(w, "no glibc in the target");
		return;
	}
	if (!locks_glibc_supported(t->glibc)) {
		set_unknown(w, "layouts not verified for this glibc version");
		return;
	}
	enum prim p = stack_prim(frames, nframes);
	switch (p) {
	case PRIM_MUTEX:
	case PRIM_MUTEX_FULL:
		if (!pi_op && w->futex >= sc->sp && w->futex - sc->sp < 65536 && w->value == 0 &&
		    sc->args[2] == 0) {
			/* A word on its own stack: after FUTEX_LOCK_PI failed with EDEADLK, glibc
			 * "delays the thread indefinitely" (pthread_mutex_lock.c). */
			w->kind = LOCK_MUTEX;
			w->flags = (w->flags & LOCK_F_TIMED) | LOCK_F_EDEADLK | LOCK_F_PI;
			w->addr = 0;
			return;
		}
		decode_mutex(t, w->futex, w);
		return;
	case PRIM_LLL: {
		struct g_mutex m;
		if (target_read(t, w->futex, &m, sizeof m) && mutex_plausible(&m) && m.owner > 0) {
			mutex_fill(t, w->futex, &m, w);
			return;
		}
		futex_object(t, w, LOCK_INTERNAL);
		return;
	}
	case PRIM_LLL_PRIVATE:
		futex_object(t, w, LOCK_INTERNAL);
		return;
	case PRIM_RW_WRITE:
	case PRIM_RW_READ:
	case PRIM_RW:
		decode_rwlock(t, p, w);
		return;
	case PRIM_COND_WAIT:
	case PRIM_COND_SIGNAL: {
		/* Waiters sleep on __g_signals[g] (+40/+44), a signaller switching groups on
		 * __g_refs[g] (+16/+20); the condvar is 8-byte aligned, so the word's alignment
		 * gives g. */
		uint64_t off = p == PRIM_COND_SIGNAL ? 16 : 40;
		if (p == PRIM_COND_SIGNAL)
			w->flags |= LOCK_F_SIGNALER;
		w->kind = LOCK_COND;
		w->addr = w->futex - off - (w->futex % 8 == 4 ? 4 : 0);
		name_object(t, w);
		return;
	}
	case PRIM_SEM:
		futex_object(t, w, LOCK_SEM);
		return;
	case PRIM_JOIN:
		/* The word is the joined thread's tid field: the kernel clears it at exit. */
		w->kind = LOCK_JOIN;
		w->addr = w->futex;
		w->owner = (pid_t)w->value > 0 ? (pid_t)w->value : 0;
		if (w->owner == tid)
			set_unknown(w, "join word holds the waiter's own tid");
		else if (!w->owner)
			w->flags |= LOCK_F_WAKING;
		else if (!target_alive(t, w->owner))
			w->flags |= LOCK_F_OWNER_DIED;
		return;
	case PRIM_BARRIER:
		futex_object(t, w, LOCK_BARRIER);
		return;
	case PRIM_NONE:
		break;
	}
	if (pi_op) {
		decode_mutex(t, w->futex, w);
		return;
	}
	set_unknown(w, "no glibc lock function in its stack");
}

bool locks_needs_registers(const struct lock_wait *w)
{
	return w->kind == LOCK_MUTEX && (w->flags & LOCK_F_EDEADLK) && !w->addr;
}

bool locks_decode_parked(const struct locks_target *t, pid_t tid, const uint64_t *words, size_t n,
			 struct lock_wait *w)
{
	uint64_t best = 0, self = 0;
	struct g_mutex bm, sm;
	for (size_t i = 0; i < n; i++) {
		uint64_t v = words[i];
		if (v < 4096)
			continue;
		/* The register may point at the mutex or at one of its fields. */
		for (uint64_t k = 0; k <= 32; k += 4) {
			uint64_t base = v - k;
			if (base % 8 || base == best || base == self)
				continue;
			struct g_mutex m;
			if (!target_read(t, base, &m, sizeof m) || !mutex_plausible(&m) ||
			    !(m.kind & MUTEX_PI) || !(m.lock & FUTEX_WAITERS_))
				continue;
			pid_t owner = (pid_t)(m.lock & FUTEX_TID_MASK_);
			if (owner <= 0)
				continue;
			if (owner == tid) {
				if (!self) {
					self = base;
					sm = m;
				}
			} else if (!best && target_alive(t, owner)) {
				best = base;
				bm = m;
			}
		}
	}
	if (!best && !self)
		return false;
	uint32_t keep = w->flags & (LOCK_F_TIMED | LOCK_F_EDEADLK);
	w->flags = keep;
	mutex_fill(t, best ? best : self, best ? &bm : &sm, w);
	w->flags |= LOCK_F_EDEADLK;
	return true;
}

/* ---- the wait-for graph ---- */

struct lt {
	struct lock_thread pub;
	int64_t kernel_wait_ns;
	int next;       /* index of the thread it waits for in cur, -1 */
};

struct locks {
	struct locks_config cfg;
	uint64_t time_ns;
	uint32_t nobs;
	struct lt *cur, *prev;
	size_t ncur, nprev, capcur, capprev;
	struct lock_deadlock *dl, *cand;
	size_t ndl, ncand, capdl, capcand;
};

struct locks *locks_new(const struct locks_config *cfg)
{
	struct locks *l = xcalloc(1, sizeof *l);
	l->cfg = *cfg;
	if (l->cfg.long_wait_s <= 0)
		l->cfg.long_wait_s = 5;
	return l;
}

static void deadlocks_clear(struct lock_deadlock *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free((void *)v[i].tids);
		free((void *)v[i].waits);
	}
}

void locks_free(struct locks *l)
{
	if (!l)
		return;
	deadlocks_clear(l->dl, l->ndl);
	deadlocks_clear(l->cand, l->ncand);
	free(l->dl);
	free(l->cand);
	free(l->cur);
	free(l->prev);
	free(l);
}

void locks_begin(struct locks *l, uint64_t time_ns)
{
	struct lt *tv = l->prev;
	size_t tc = l->capprev;
	l->prev = l->cur;
	l->capprev = l->capcur;
	l->nprev = l->ncur;
	l->cur = tv;
	l->capcur = tc;
	l->ncur = 0;
	deadlocks_clear(l->dl, l->ndl);
	deadlocks_clear(l->cand, l->ncand);
	l->ndl = l->ncand = 0;
	l->time_ns = time_ns;
}

void locks_add(struct locks *l, pid_t tid, const struct lock_wait *w, uint64_t switches,
	       int64_t kernel_wait_ns)
{
	util_grow((void **)&l->cur, &l->capcur, l->ncur + 1, sizeof *l->cur);
	struct lt *e = &l->cur[l->ncur++];
	memset(e, 0, sizeof *e);
	e->pub.tid = tid;
	e->pub.wait = *w;
	e->pub.switches = switches;
	e->kernel_wait_ns = kernel_wait_ns;
	e->next = -1;
}

static int lt_cmp(const void *a, const void *b)
{
	pid_t x = ((const struct lt *)a)->pub.tid, y = ((const struct lt *)b)->pub.tid;
	return (x > y) - (x < y);
}

static long lt_find(const struct lt *v, size_t n, pid_t tid)
{
	size_t lo = util_lower_i32(v, n, UTIL_FIELD(v, pub.tid), tid);
	return lo < n && v[lo].pub.tid == tid ? (long)lo : -1;
}

/* The same wait as last time: same word, value, object and owner, and the thread did not run. */
static bool same_wait(const struct lt *a, const struct lt *b)
{
	const struct lock_wait *x = &a->pub.wait, *y = &b->pub.wait;
	if (x->kind != y->kind || x->futex != y->futex || x->value != y->value ||
	    x->addr != y->addr || x->owner != y->owner || x->flags != y->flags)
		return false;
	if (a->pub.switches != UINT64_MAX && b->pub.switches != UINT64_MAX &&
	    a->pub.switches != b->pub.switches)
		return false;
	return true;
}

static bool is_lock_wait(const struct lock_wait *w)
{
	return w->kind == LOCK_MUTEX || w->kind == LOCK_RWLOCK || w->kind == LOCK_INTERNAL;
}

/* Record the cycle starting at index start (following next) as a deadlock or a candidate. */
static void cycle_add(struct locks *l, size_t start)
{
	size_t n = 0;
	size_t first = start;
	for (size_t j = start;;) {
		n++;
		if (l->cur[j].pub.tid < l->cur[first].pub.tid)
			first = j;
		j = (size_t)l->cur[j].next;
		if (j == start)
			break;
	}
	pid_t *tids = xcalloc(n, sizeof *tids);
	struct lock_wait *waits = xcalloc(n, sizeof *waits);
	struct lock_deadlock d = { .n = n, .tids = tids, .waits = waits, .confirmed = true,
				   .wait_s = -1 };
	size_t j = first;
	for (size_t i = 0; i < n; i++) {
		const struct lt *e = &l->cur[j];
		tids[i] = e->pub.tid;
		waits[i] = e->pub.wait;
		if (e->pub.observations < 2)
			d.confirmed = false;
		if (e->pub.since_ns > d.since_ns)
			d.since_ns = e->pub.since_ns;
		if (d.wait_s < 0 || e->pub.wait_s < d.wait_s)
			d.wait_s = e->pub.wait_s;
		if (e->pub.wait.flags & LOCK_F_EDEADLK)
			d.kernel = true;
		j = (size_t)e->next;
	}
	if (d.confirmed) {
		util_grow((void **)&l->dl, &l->capdl, l->ndl + 1, sizeof *l->dl);
		l->dl[l->ndl++] = d;
	} else {
		util_grow((void **)&l->cand, &l->capcand, l->ncand + 1, sizeof *l->cand);
		l->cand[l->ncand++] = d;
	}
}

/* A thread parked after EDEADLK whose mutex was not found: the kernel's word is enough. */
static void parked_add(struct locks *l, size_t i)
{
	const struct lt *e = &l->cur[i];
	pid_t *tids = xcalloc(1, sizeof *tids);
	struct lock_wait *waits = xcalloc(1, sizeof *waits);
	tids[0] = e->pub.tid;
	waits[0] = e->pub.wait;
	struct lock_deadlock d = { .n = 1, .tids = tids, .waits = waits, .since_ns = e->pub.since_ns,
				   .wait_s = e->pub.wait_s,
				   .confirmed = e->pub.observations >= 2, .kernel = true };
	if (d.confirmed) {
		util_grow((void **)&l->dl, &l->capdl, l->ndl + 1, sizeof *l->dl);
		l->dl[l->ndl++] = d;
	} else {
		util_grow((void **)&l->cand, &l->capcand, l->ncand + 1, sizeof *l->cand);
		l->cand[l->ncand++] = d;
	}
}

static int deadlock_cmp(const void *a, const void *b)
{
	pid_t x = ((const struct lock_deadlock *)a)->tids[0];
	pid_t y = ((const struct lock_deadlock *)b)->tids[0];
	return (x > y) - (x < y);
}

void locks_end(struct locks *l)
{
	l->nobs++;
	if (l->ncur > 1)
		qsort(l->cur, l->ncur, sizeof *l->cur, lt_cmp);
	/* Persistence, wait times and edges. */
	for (size_t i = 0; i < l->ncur; i++) {
		struct lt *e = &l->cur[i];
		struct lock_thread *p = &e->pub;
		long k = lt_find(l->prev, l->nprev, p->tid);
		if (k >= 0 && same_wait(&l->prev[k], e)) {
			p->observations = l->prev[k].pub.observations + 1;
			p->since_ns = l->prev[k].pub.since_ns;
		} else {
			p->observations = 1;
			p->since_ns = l->time_ns;
		}
		p->deadlock = p->behind = -1;
		p->behind_tid = 0;
		if (p->wait.kind == LOCK_NONE)
			continue;
		p->wait_s = (double)(l->time_ns - p->since_ns) / 1e9;
		if (e->kernel_wait_ns >= 0 && (double)e->kernel_wait_ns / 1e9 > p->wait_s) {
			p->wait_s = (double)e->kernel_wait_ns / 1e9;
			p->wait_s_kernel = true;
		}
		if (lock_wait_has_owner(&p->wait) && !(p->wait.flags & (LOCK_F_FOREIGN))) {
			long o = lt_find(l->cur, l->ncur, p->wait.owner);
			if (o < 0 || (p->wait.flags & LOCK_F_OWNER_DIED)) {
				p->wait.flags |= LOCK_F_OWNER_DIED;
				p->owner_died = true;
			} else if (!(p->wait.flags & LOCK_F_WAKING)) {
				e->next = (int)o;
			}
		} else if (p->wait.flags & LOCK_F_OWNER_DIED) {
			p->owner_died = true;
		}
		p->long_wait = is_lock_wait(&p->wait) && !(p->wait.flags & LOCK_F_WAKING) &&
			       p->wait_s > l->cfg.long_wait_s;
	}
	/* Cycles: each thread has at most one out-edge, so walk and colour. */
	int *mark = xcalloc(l->ncur ? l->ncur : 1, sizeof *mark); /* 0 new, i + 1 on walk i, -1 done */
	for (size_t i = 0; i < l->ncur; i++) {
		if (mark[i])
			continue;
		int jj = (int)i;
		while (jj >= 0 && mark[jj] == 0) {
			mark[jj] = (int)i + 1;
			jj = l->cur[jj].next;
		}
		if (jj >= 0 && mark[jj] == (int)i + 1)
			cycle_add(l, (size_t)jj);
		for (jj = (int)i; jj >= 0 && mark[jj] == (int)i + 1; jj = l->cur[jj].next)
			mark[jj] = -1;
	}
	free(mark);
	for (size_t i = 0; i < l->ncur; i++)
		if (locks_needs_registers(&l->cur[i].pub.wait))
			parked_add(l, i);
	if (l->ndl > 1)
		qsort(l->dl, l->ndl, sizeof *l->dl, deadlock_cmp);
	if (l->ncand > 1)
		qsort(l->cand, l->ncand, sizeof *l->cand, deadlock_cmp);
	for (size_t d = 0; d < l->ndl; d++)
		for (size_t k = 0; k < l->dl[d].n; k++) {
			long i = lt_find(l->cur, l->ncur, l->dl[d].tids[k]);
			if (i >= 0)
				l->cur[i].pub.deadlock = (int)d;
		}
	/* Threads whose chain of waits leads into a deadlock. */
	for (size_t i = 0; i < l->ncur; i++) {
		struct lock_thread *p = &l->cur[i].pub;
		if (p->deadlock >= 0)
			continue;
		int j = l->cur[i].next;
		for (size_t steps = 0; j >= 0 && steps < l->ncur; steps++) {
			if (l->cur[j].pub.deadlock >= 0) {
				p->behind = l->cur[j].pub.deadlock;
				p->behind_tid = l->cur[j].pub.tid;
				break;
			}
			j = l->cur[j].next;
		}
	}
}

uint32_t locks_observations(const struct locks *l)
{
	return l->nobs;
}

size_t locks_ndeadlocks(const struct locks *l)
{
	return l->ndl;
}

const struct lock_deadlock *locks_deadlock(const struct locks *l, size_t i)
{
	return i < l->ndl ? &l->dl[i] : NULL;
}

size_t locks_ncandidates(const struct locks *l)
{
	return l->ncand;
}

const struct lock_deadlock *locks_candidate(const struct locks *l, size_t i)
{
	return i < l->ncand ? &l->cand[i] : NULL;
}

size_t locks_nthreads(const struct locks *l)
{
	return l->ncur;
}

const struct lock_thread *locks_thread_at(const struct locks *l, size_t i)
{
	return i < l->ncur ? &l->cur[i].pub : NULL;
}

const struct lock_thread *locks_thread(const struct locks *l, pid_t tid)
{
	long i = lt_find(l->cur, l->ncur, tid);
	return i >= 0 ? &l->cur[i].pub : NULL;
}

void locks_deadlock_text(const struct lock_deadlock *d, struct strbuf *out)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct lock_wait *w = &d->waits[i];
		const struct lock_wait *held = &d->waits[(i + d->n - 1) % d->n];
		if (i)
			strbuf_puts(out, "; ");
		strbuf_printf(out, "%d ", (int)d->tids[i]);
		if (w->kind == LOCK_JOIN) {
			strbuf_printf(out, "waits for %d to exit", (int)w->owner);
			continue;
		}
		if (!w->addr && (w->flags & LOCK_F_EDEADLK)) {
			strbuf_puts(out, "waits for a PI mutex the kernel refused (EDEADLK)");
			continue;
		}
		if (d->n > 1 || w->owner == d->tids[i]) {
			if (held->kind != LOCK_JOIN && held->owner == d->tids[i]) {
				strbuf_puts(out, "holds ");
				lock_label(held, out);
				strbuf_putc(out, ' ');
			}
		}
		strbuf_puts(out, "waits ");
		lock_label(w, out);
	}
}

bool locks_banner(const struct locks *l, struct strbuf *out)
{
	if (!l->ndl)
		return false;
	strbuf_puts(out, "DEADLOCK: ");
	locks_deadlock_text(&l->dl[0], out);
	if (l->ndl > 1)
		strbuf_printf(out, " (+%zu more)", l->ndl - 1);
	return true;
}
