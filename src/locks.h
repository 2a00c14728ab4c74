/*
 * locks: what a blocked thread waits on, and whether the waits form a deadlock.
 *
 * Two halves, both free of any target so that unit tests drive them with synthetic data:
 *
 * 1. Decoding (locks_decode): a thread asleep in futex() is turned into a struct lock_wait, from
 *    its syscall arguments, the function names of its innermost frames (which glibc primitive
 *    called futex: __pthread_mutex_lock*, __pthread_rwlock_*, pthread_cond_*, __new_sem_wait*,
 *    __pthread_clockjoin_ex...) and reads of the target's memory through a callback.  Layouts are
 *    those of glibc 2.36 on x86-64 (see NOTES.md); on any other glibc version, or without glibc,
 *    the wait is an honest "unknown futex" (LOCK_FUTEX), never a guess.
 *
 * 2. The wait-for graph (struct locks): one observation is the set of every thread's wait
 *    (locks_begin, locks_add per thread, locks_end).  An edge goes from a waiting thread to the
 *    thread that holds what it waits on (mutex owner, rwlock writer, joined thread).  A cycle is a
 *    deadlock only when every one of its waits was seen unchanged — same futex word, value and
 *    owner, and the thread not run in between — in at least two consecutive observations:
 *    passing contention never is.  The model also derives, per thread: the deadlock it is part
 *    of, the deadlock it waits on through others (a join on a deadlocked thread), how long it
 *    has waited, a long wait (a lock wait longer than the threshold), and an owner that died.
 *
 * Lifetime: everything returned by the graph functions is borrowed and valid until the next
 * locks_begin() or locks_free().  Not thread-safe.
 */
#ifndef PROFTOP_LOCKS_H
#define PROFTOP_LOCKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "procfs.h"
#include "util.h"

enum lock_kind {
	LOCK_NONE,     /* not waiting on a futex */
	LOCK_FUTEX,    /* a futex proftop cannot attribute: "unknown futex" (why says why) */
	LOCK_MUTEX,    /* pthread_mutex_t: owner is the holder */
	LOCK_RWLOCK,   /* pthread_rwlock_t: owner is the writer holding it, if any */
	LOCK_JOIN,     /* pthread_join: owner is the thread being joined */
	LOCK_COND,     /* pthread_cond_t: no owner */
	LOCK_SEM,      /* sem_t: no owner */
	LOCK_BARRIER,  /* pthread_barrier_t: no owner */
	LOCK_INTERNAL, /* a glibc-internal lock (stdio, malloc, dynamic loader): no owner recorded */
	LOCK_KIND_COUNT
};

enum lock_flag {
	LOCK_F_WRITE = 1u << 0,       /* rwlock: waits to write (else to read) */
	LOCK_F_RECURSIVE = 1u << 1,   /* mutex types */
	LOCK_F_ERRORCHECK = 1u << 2,
	LOCK_F_ADAPTIVE = 1u << 3,
	LOCK_F_ROBUST = 1u << 4,
	LOCK_F_PI = 1u << 5,          /* priority inheritance: the kernel knows the owner */
	LOCK_F_PP = 1u << 6,          /* priority protection */
	LOCK_F_PSHARED = 1u << 7,     /* process-shared: the owner may be in another process */
	LOCK_F_READERS = 1u << 8,     /* rwlock held for reading (readers says how many) */
	LOCK_F_EDEADLK = 1u << 9,     /* the kernel refused this PI lock with EDEADLK; glibc parks
					 the thread forever (the lock was found in its registers) */
	LOCK_F_WAKING = 1u << 10,     /* the word no longer holds what the thread sleeps on: it is
					 being woken; never part of a deadlock */
	LOCK_F_TIMED = 1u << 11,      /* the wait has a timeout */
	LOCK_F_OWNER_DIED = 1u << 12, /* the owner is no longer a thread of the process */
	LOCK_F_SIGNALER = 1u << 13,   /* condvar: a signaller waiting for old waiters to leave */
	LOCK_F_FOREIGN = 1u << 14,    /* process-shared, held by a thread of another process */
};

struct lock_wait {
	enum lock_kind kind;
	uint32_t flags;       /* enum lock_flag */
	uint64_t addr;        /* the object (mutex, rwlock, condvar, semaphore, barrier); join: the
				 joined thread's tid word; 0 when unknown */
	uint64_t futex;       /* the word the thread sleeps on (futex() arg 0) */
	uint32_t value;       /* that word's value when read */
	pid_t owner;          /* holder (mutex, rwlock writer) or joined thread; 0 none/unknown */
	uint32_t readers;     /* rwlock held for reading: by how many (LOCK_F_READERS) */
	const char *why;      /* LOCK_FUTEX: why it is not decoded (static string), else NULL */
	char name[48];        /* data symbol of addr ("lock_a", "table+0x40"), "" when none */
};

/* "mutex", "rwlock", "join", "condvar", "semaphore", "barrier", "internal", "futex", "none". */
const char *lock_kind_name(enum lock_kind k);
/* Mutex type as a word: "normal", "recursive", "errorcheck", "adaptive"; "" for other kinds. */
const char *lock_type_name(const struct lock_wait *w);
/* How to call the lock in one line: its symbol, else its address ("0x55d76285020"). */
void lock_label(const struct lock_wait *w, struct strbuf *out);
/*
 * One line for a view's wait column or a dump: "mutex 0x55e4529e9160 (lock_b) held by 4312
 * (t2)", "rwlock 0x... (rw) held for writing by 4311 (t1)", "join: waits for 4312 (t1) to exit",
 * "condvar 0x...", "futex 0x... (unknown: glibc 2.35 not verified)".  owner_name may be NULL.
 */
void lock_wait_text(const struct lock_wait *w, const char *owner_name, struct strbuf *out);
/* Whether w is a wait on something a thread holds (an edge of the wait-for graph). */
bool lock_wait_has_owner(const struct lock_wait *w);

/* ---- decoding ---- */

/* What the decoder may ask of the target. */
struct locks_target {
	void *arg;
	/* Read len bytes at addr; the count read (may be short) or -1. */
	ssize_t (*read)(void *arg, uint64_t addr, void *buf, size_t len);
	/* Whether tid is a thread of the target right now. */
	bool (*alive)(void *arg, pid_t tid);
	/* Data symbol containing addr, *off the offset into it; NULL when none.  Optional. */
	const char *(*symbol)(void *arg, uint64_t addr, uint64_t *off);
	/* The target's glibc version ("2.36"); NULL when it has no glibc or it is unknown. */
	const char *glibc;
};

/* Whether proftop knows the futex layouts of this glibc version. */
bool locks_glibc_supported(const char *version);

/*
 * Decode what thread tid, blocked in the syscall sc, waits on.  frames[0..nframes) are the
 * function names of its stack, innermost first, inline frames included (NULL entries allowed).
 * Fills *w (kind LOCK_NONE when not in a futex wait).  When the thread is parked by glibc after
 * the kernel refused a PI lock (LOCK_F_EDEADLK), addr is still 0: the caller reads the thread's
 * registers and calls locks_decode_parked().
 */
void locks_decode(const struct locks_target *t, pid_t tid, const struct proc_syscall *sc,
		  const char *const *frames, int nframes, struct lock_wait *w);
/* Whether w is a LOCK_F_EDEADLK wait whose mutex is still to be found. */
bool locks_needs_registers(const struct lock_wait *w);
/*
 * Find the PI mutex a parked thread tried to lock among words[0..n) (its registers and the words
 * of its innermost stack frames): a value pointing into a PI mutex that is locked, has waiters
 * and is held by another live thread (or by tid itself when nothing else fits).  Fills addr,
 * owner, name.  Returns whether one was found.
 */
bool locks_decode_parked(const struct locks_target *t, pid_t tid, const uint64_t *words, size_t n,
			 struct lock_wait *w);

/* ---- the wait-for graph across observations ---- */

struct locks_config {
	double long_wait_s; /* a lock wait longer than this is a long wait (default 5) */
};

/* Per thread, after locks_end(). */
struct lock_thread {
	pid_t tid;
	struct lock_wait wait;
	uint64_t switches;      /* as given to locks_add */
	uint32_t observations;  /* consecutive observations with this same wait (>= 1) */
	uint64_t since_ns;      /* time of the first of them */
	double wait_s;          /* how long it has waited: the kernel's time since it last ran when
				   known (wait_s_kernel), else the time observed */
	bool wait_s_kernel;
	bool long_wait;         /* a lock wait (mutex, rwlock, internal) longer than long_wait_s */
	bool owner_died;        /* its lock's owner is no longer a thread of the process */
	int deadlock;           /* index of the deadlock it is part of, -1 */
	int behind;             /* index of a deadlock its chain of waits leads into, -1 */
	pid_t behind_tid;       /* the deadlocked thread its chain reaches (a join's target) */
};

struct lock_deadlock {
	size_t n;                      /* threads in the cycle: 1 for a self-lock */
	const pid_t *tids;             /* tids[i] waits on waits[i], held by tids[(i + 1) % n] */
	const struct lock_wait *waits;
	uint64_t since_ns;             /* first observation in which all its waits were as now */
	double wait_s;                 /* how long all its threads have waited (the least of their
					  wait_s: the kernel's time since they last ran, if known) */
	bool confirmed;                /* seen unchanged in >= 2 observations */
	bool kernel;                   /* the kernel itself refused a lock of it with EDEADLK */
};

struct locks;

struct locks *locks_new(const struct locks_config *cfg);
/* NULL is a no-op. */
void locks_free(struct locks *l);

/* One observation: begin, then one locks_add per thread of the process (waiting or not), end. */
void locks_begin(struct locks *l, uint64_t time_ns);
/* switches: times the thread was switched in so far (UINT64_MAX unknown): a change means it ran
 * and its wait is not the same wait.  kernel_wait_ns: the kernel's time since it last ran, -1. */
void locks_add(struct locks *l, pid_t tid, const struct lock_wait *w, uint64_t switches,
	       int64_t kernel_wait_ns);
void locks_end(struct locks *l);

/* Number of observations so far. */
uint32_t locks_observations(const struct locks *l);
/* Confirmed deadlocks (cycles that persisted), in order of their smallest tid. */
size_t locks_ndeadlocks(const struct locks *l);
const struct lock_deadlock *locks_deadlock(const struct locks *l, size_t i);
/* Cycles seen in the last observation that are not confirmed yet: worth another look. */
size_t locks_ncandidates(const struct locks *l);
const struct lock_deadlock *locks_candidate(const struct locks *l, size_t i);
/* Threads of the last observation, sorted by tid. */
size_t locks_nthreads(const struct locks *l);
const struct lock_thread *locks_thread_at(const struct locks *l, size_t i);
/* NULL when tid was not in the last observation. */
const struct lock_thread *locks_thread(const struct locks *l, pid_t tid);

/* "4311 holds lock_a waits lock_b; 4312 holds lock_b waits lock_a" (joins: "4311 waits for
 * 4312 to exit"). */
void locks_deadlock_text(const struct lock_deadlock *d, struct strbuf *out);
/* The banner a view shows while a deadlock lasts: "DEADLOCK: " and the text of the first,
 * " (+N more)" when there are others.  Returns false (out untouched) when there is none. */
bool locks_banner(const struct locks *l, struct strbuf *out);

#endif
