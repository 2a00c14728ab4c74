/*
 * threadmodel: the table behind the threads view and `proftop dump` — every thread of the target
 * with its state, CPU%, time in its state, the syscall it is blocked in, what it waits on (and
 * who holds it), its stack, and the deadlocks the waits form.
 *
 * Order of calls: threadmodel_new() -> threadmodel_refresh() at each observation (the TUI: every
 * refresh period; dump: two or more, a short interval apart) -> rows, sort, banner ->
 * threadmodel_free().  Nothing here writes to the terminal.
 *
 * How facts are taken (nothing stops the process):
 *   - thread list, names, states, CPU ticks: libproc2 (sampler/threads.h);
 *   - blocked threads: /proc/PID/task/TID/{syscall,wchan,sched,schedstat}; their stacks are
 *     unwound from the syscall's sp and pc with reads of live memory; a thread still in the same
 *     call with the same arguments, sp and pc, not run since, keeps its previous stack;
 *   - running threads (only with THREADMODEL_STOP_RUNNING): one brief ptrace stop of that thread
 *     alone for its registers and stack;
 *   - waits: src/locks.h decodes futex words with the target's glibc version checked first.
 *
 * For the threads view (view 3):
 *   - refresh every 0.5 to 1 s: a deadlock is confirmed by the second observation that sees it,
 *     so it shows within 2 s of forming; cost per refresh is a few small /proc reads per thread
 *     (about 0.1 ms each) plus unwinds of the threads whose call changed;
 *   - the table: threadmodel_count()/threadmodel_row() in the order of threadmodel_sort(); the
 *     wait column is threadmodel_wait_text() ("mutex 0x55..0c0 held by 4312 (worker-2)");
 *     highlight rows with row->lock->deadlock >= 0 (and behind >= 0), and the locks
 *     locks_deadlock(threadmodel_locks(m), i)->waits[k].addr;
 *   - Enter: threadmodel_stack_now(m, tid), then symbols_lookup(sym, k ? pc - 1 : pc) for each
 *     of row->pcs[k] (lines[] innermost first: inlined frames);
 *   - the red banner in every view: threadmodel_banner() ("DEADLOCK: 4311 holds lock_a waits
 *     lock_b; 4312 holds lock_b waits lock_a");
 *   - with the ptrace sampler every thread is already traced by proftop itself: pass no stop
 *     flags (a running thread's stack is then the profile's latest sample of it).
 *
 * Ownership: the model borrows sym and unw (both must outlive it).  Rows and every pointer in
 * them are valid until the next threadmodel_refresh() or threadmodel_free();
 * threadmodel_sort() only changes their order.  Not thread-safe.
 */
#ifndef PROFTOP_THREADMODEL_H
#define PROFTOP_THREADMODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "locks.h"
#include "symbols.h"
#include "threads.h"
#include "unwind.h"
#include "util.h"

#define THREADMODEL_MAX_FRAMES 128

struct threadmodel_config {
	double long_wait_s;  /* a lock wait longer than this is a long wait; default 5 */
	bool no_stacks;      /* do not unwind (a view that shows stacks only on demand) */
};

/* What one refresh does besides the cheap facts. */
enum threadmodel_refresh_flags {
	/* Running threads without a stack get one by a brief stop of each, alone; a stack taken so
	 * at an earlier observation is kept (marked stale). */
	THREADMODEL_STOP_RUNNING = 1u << 0,
	/* Stop every running thread again for a fresh stack. */
	THREADMODEL_RESTOP = 1u << 1,
};

/* One thread as a view shows it. */
struct thread_row {
	const struct thread_fact *fact;  /* tid, name, state letter, syscall, wchan */
	const char *state_word;          /* "running", "sleeping", "disk", ... */
	double cpu_pct;                  /* over the last interval between observations; -1 before
					    the second observation */
	double state_s;                  /* time in the current state (and, blocked, the same call) */
	bool state_s_kernel;             /* from the kernel's time since it last ran; else the time
					    it has been observed so (a lower bound) */
	const char *syscall_name;        /* "futex", NULL when running or unknown */
	const struct lock_thread *lock;  /* wait, deadlock membership, long wait; never NULL */
	const char *owner_name;          /* name of lock->wait.owner, "" when none */
	const uint64_t *pcs;             /* stack: pcs[0] the pc, then return addresses */
	uint32_t npcs;
	bool stack_truncated;
	bool stack_stale;                /* running: taken at an earlier observation */
	const char *stack_note;          /* why there is no stack, or NULL */
};

enum threadmodel_sort {
	THREADMODEL_SORT_TID,
	THREADMODEL_SORT_NAME,
	THREADMODEL_SORT_STATE,
	THREADMODEL_SORT_CPU,
	THREADMODEL_SORT_TIME,
	THREADMODEL_SORT_WAIT, /* deadlocked first, then long waits, then by wait kind and lock */
};

struct threadmodel;

/* NULL with *cause (one line, owned by the caller) when the threads cannot be read. */
struct threadmodel *threadmodel_new(pid_t pid, struct symbols *sym, struct unwinder *unw,
				    const struct threadmodel_config *cfg, char **cause);
/* NULL is a no-op. */
void threadmodel_free(struct threadmodel *m);

/* Take one observation (flags: enum threadmodel_refresh_flags).  Returns 0, or -1 with errno
 * ESRCH when the target has exited. */
int threadmodel_refresh(struct threadmodel *m, unsigned flags);

/* Rows in the current sort order (TID ascending until threadmodel_sort is called). */
size_t threadmodel_count(const struct threadmodel *m);
const struct thread_row *threadmodel_row(const struct threadmodel *m, size_t i);
/* NULL when tid is not a thread of the last observation. */
const struct thread_row *threadmodel_find(const struct threadmodel *m, pid_t tid);
void threadmodel_sort(struct threadmodel *m, enum threadmodel_sort key, bool descending);
/* Order of two rows by key, as the threads view lists them (0 when equal by key): name; state
 * (running, disk, sleeping, stopped, other, zombie); CPU and time in state, highest first;
 * wait (deadlocked, behind a deadlock, owner died, long wait, other waits by kind, then by
 * lock).  THREADMODEL_SORT_TID gives 0: callers break ties by tid. */
int threadmodel_compare(const struct thread_row *a, const struct thread_row *b,
			enum threadmodel_sort key);

/* Re-take the stack of one thread now (a view's Enter): unwinds a blocked thread from its
 * syscall registers, stops a running one briefly.  Returns the row (updated) or NULL. */
const struct thread_row *threadmodel_stack_now(struct threadmodel *m, pid_t tid);

/* The wait column: "mutex 0x55e4529e9160 (lock_b) held by 4312 (t2)"; "" when not waiting. */
void threadmodel_wait_text(const struct threadmodel *m, const struct thread_row *r,
			   struct strbuf *out);
/* The deadlock banner ("DEADLOCK: 4311 holds lock_a waits lock_b; 4312 holds lock_b waits
 * lock_a"); false when there is no deadlock. */
bool threadmodel_banner(const struct threadmodel *m, struct strbuf *out);

/* The wait-for graph of the last observation (deadlocks, candidates, per-thread facts). */
const struct locks *threadmodel_locks(const struct threadmodel *m);
/* The target's glibc version ("2.36"), NULL when it has none or it could not be read. */
const char *threadmodel_glibc(const struct threadmodel *m);
/* Observations so far, and the time of the first and the last (CLOCK_MONOTONIC). */
uint32_t threadmodel_observations(const struct threadmodel *m);
uint64_t threadmodel_first_ns(const struct threadmodel *m);
uint64_t threadmodel_last_ns(const struct threadmodel *m);

/* Counters for benchmarks. */
struct threadmodel_stats {
	uint64_t unwinds, unwinds_reused, stops, stop_failures, decodes;
	uint64_t scan_ns, stack_ns; /* time spent reading facts, taking stacks */
	uint64_t stopped_ns_max;    /* longest stop of a thread (upper bound: from the interrupt
				       to the detach), and all together */
	uint64_t stopped_ns_total;
	uint64_t held_ns_max;       /* longest time a thread was held once seen stopped */
};
const struct threadmodel_stats *threadmodel_stats(const struct threadmodel *m);

#endif
