/*
 * goruntime: the goroutines of a running Go program, read from outside with process_vm_readv —
 * no agent in the target, nothing compiled in, and the process never stopped as a whole.
 *
 * What is read, and from where:
 *   - Detection: the main executable's .go.buildinfo section (and the Go version string in it).
 *   - runtime.allgs (a slice of *g) and the other runtime variables: their addresses from the ELF
 *     symbol table.  The layouts of runtime.g, gobuf, m, sudog, semaRoot, the semtable element,
 *     sync.Mutex and sync.RWMutex: from the binary's DWARF types, never from constants, so other
 *     Go versions than Debian's 1.19 work (goruntime_layout() shows what was found).  Without
 *     DWARF (a binary linked with -ldflags=-w) goruntime_open() fails with a one-line cause; the
 *     OS threads are still readable by the rest of proftop.
 *   - Wait reasons: the target's own runtime.waitReasonStrings table (so the names follow its Go
 *     version), with a built-in Go 1.19 table when that symbol cannot be read.
 *   - Stacks: frame pointers from g.sched (pc, sp, bp) within [g.stack.lo, g.stack.hi); for a
 *     goroutine in a syscall from g.syscallpc/syscallsp; for a running goroutine from its thread's
 *     registers: g.m->procid is the thread, which is stopped alone for a few microseconds
 *     (PTRACE_SEIZE, INTERRUPT, GETREGS, read its stack, DETACH) unless the options forbid it —
 *     then, or when the thread cannot be seized, the goroutine is marked GORUNTIME_G_NOSTACK.
 *   - The sync.Mutex / RWMutex a goroutine waits on: runtime.semtable (each root a treap of sudog
 *     with distinct elem = address of the semaphore word; same-address waiters chained through
 *     waitlink; sudog.g is the goroutine); the kind of lock and so its base address from the
 *     sync.* frames on the waiter's stack; its name from the ELF symbol covering it.
 *
 * Torn reads: the target runs while it is read.  A goroutine is read, its stack is read, then the
 * goroutine is read again; when anything differs the read is retried, and after a few attempts
 * the goroutine is marked GORUNTIME_G_TORN (id and status from the last read, no stack) — never
 * shown with a stack that mixes two moments.  Frame chains are checked (inside the stack,
 * growing, return addresses in the Go text); semtable entries are kept only when the goroutine
 * they name is itself seen waiting on a semaphore.
 *
 * Order of calls: goruntime_detect() (cheap; false for a non-Go target) -> goruntime_open() ->
 * goruntime_scan() as often as wanted -> goruntime_close().  Not thread-safe; one per target.
 * The struct symbols passed to goruntime_open() is borrowed and must outlive the goruntime.
 */
#ifndef PROFTOP_GORUNTIME_H
#define PROFTOP_GORUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "symbols.h"

/* Go's goroutine states (runtime2.go, _Gidle.._Gpreempted), without the _Gscan bit. */
enum goruntime_status {
	GORUNTIME_IDLE,
	GORUNTIME_RUNNABLE,
	GORUNTIME_RUNNING,
	GORUNTIME_SYSCALL,
	GORUNTIME_WAITING,
	GORUNTIME_MORIBUND,
	GORUNTIME_DEAD,
	GORUNTIME_ENQUEUE,
	GORUNTIME_COPYSTACK,
	GORUNTIME_PREEMPTED,
	GORUNTIME_UNKNOWN,
	GORUNTIME_NSTATUS
};

/* What a goroutine blocked on a semaphore waits for. */
enum goruntime_lock_kind {
	GORUNTIME_LOCK_MUTEX,     /* sync.Mutex */
	GORUNTIME_LOCK_RWMUTEX,   /* sync.RWMutex (writer or reader side: see goroutine.lock_read) */
	GORUNTIME_LOCK_WAITGROUP, /* sync.WaitGroup.Wait */
	GORUNTIME_LOCK_SEMA,      /* another semaphore (internal/poll, runtime, unknown caller) */
};

enum goruntime_g_flags {
	GORUNTIME_G_TORN = 1u << 0,      /* kept changing while read: id and status only, no stack */
	GORUNTIME_G_NOSTACK = 1u << 1,   /* no stack: running and its thread could not (or may not)
					    be stopped, on a system stack, or stack being copied */
	GORUNTIME_G_TRUNCATED = 1u << 2, /* the frame chain ended early (or max_frames reached) */
	GORUNTIME_G_LOCK_UNKNOWN = 1u << 3, /* waits on a semaphore not found in runtime.semtable */
};

struct goruntime_goroutine {
	int64_t id;                    /* goid */
	uint64_t gaddr;                /* address of its runtime.g */
	enum goruntime_status status;
	bool scan;                     /* _Gscan bit: the GC holds it for a stack scan right now */
	bool system;                   /* runtime-internal, by Go's own rule (isSystemGoroutine):
					  started in a runtime.* function other than runtime.main */
	uint32_t flags;                /* enum goruntime_g_flags */
	uint8_t wait_code;             /* g.waitreason as stored */
	const char *wait_reason;       /* Go's name ("chan receive", "semacquire"); "" when not
					  waiting.  Borrowed until goruntime_close(). */
	double wait_s;                 /* waiting or in a syscall: for how long at least (seconds):
					  observed across scans (continuous, same place), or since the
					  GC's g.waitsince when that is older; 0 at first sight; -1
					  when not waiting */
	pid_t tid;                     /* its thread (g.m->procid) when running, 0 otherwise */
	uint64_t startpc;              /* function it started in */
	uint64_t gopc;                 /* the go statement that created it (a return address) */
	/* Semaphore wait: the lock (index into snapshot.locks), UINT32_MAX when none. */
	uint32_t lock;
	bool lock_read;                /* RWMutex: waits to read (RLock), else to write */
	uint64_t sema;                 /* address of the semaphore word it sleeps on (sudog.elem) */
	uint64_t sudog;                /* its sudog in the semtable */
	uint32_t queue_pos;            /* 0: first in that semaphore's queue */
	/* Stack: lookup addresses, innermost first — the instruction itself for an exact pc (a
	 * running goroutine's leaf, a frame interrupted by async preemption), otherwise the return
	 * address - 1 (inside the call instruction), ready for symbols_lookup().  runtime.goexit is
	 * left out.  Valid until the next scan. */
	uint32_t nframes;
	const uint64_t *pcs;
};

struct goruntime_lock {
	uint64_t addr;                 /* the sync.Mutex / RWMutex / WaitGroup (other: the
					  semaphore word) */
	enum goruntime_lock_kind kind;
	const char *symbol;            /* "main.ledger", "main.table+16"; NULL when no symbol covers
					  it (heap).  Borrowed until goruntime_close(). */
	bool locked;                   /* Mutex: state & mutexLocked; RWMutex: writer holds w, or
					  readerCount != 0.  false for WaitGroup / sema. */
	uint32_t state;                /* Mutex.state (RWMutex: w.state) */
	uint32_t sema;                 /* Mutex.sema (RWMutex: w.sema) */
	int32_t readers;               /* RWMutex.readerCount, 0 otherwise */
	uint32_t nwaiters;             /* goroutines of the snapshot waiting on it */
};

/* Goroutines with the same stack, status and wait reason. */
struct goruntime_group {
	uint32_t count;
	const uint32_t *members;       /* indices into snapshot.g, ascending id */
	double max_wait_s;             /* -1 when none waits */
	bool system;                   /* every member is a system goroutine */
};

struct goruntime_counts {
	uint32_t live;                 /* every goroutine not dead or idle */
	uint32_t user, system;         /* live = user + system */
	uint32_t dead;                 /* dead / idle g structs kept for reuse (not listed) */
	uint32_t torn;                 /* marked GORUNTIME_G_TORN */
	uint32_t nostack;              /* marked GORUNTIME_G_NOSTACK */
	uint32_t by_status[GORUNTIME_NSTATUS];
};

struct goruntime_snapshot {
	uint64_t gen;                  /* scan number, from 1 */
	uint64_t time_ns;              /* CLOCK_MONOTONIC at the start of the scan */
	uint64_t read_ns;              /* how long the scan took */
	uint64_t max_stop_ns;          /* longest single-thread stop (running goroutines), 0: none */
	struct goruntime_counts counts;
	size_t n;
	struct goruntime_goroutine *g; /* live goroutines, ascending id */
	size_t nlocks;
	struct goruntime_lock *locks;  /* every semaphore with waiters, ascending address */
	size_t ngroups;
	struct goruntime_group *groups; /* by count (descending), then lowest id */
};

struct goruntime_options {
	bool no_thread_stop;  /* never stop a thread, even for microseconds: running goroutines get
				 no stack (GORUNTIME_G_NOSTACK) */
	uint32_t max_frames;  /* per goroutine; 0 = 64, at most 256 */
};

/* Offsets (bytes) found in the target's DWARF; -1 when absent.  For tests and -v logs. */
struct goruntime_layout {
	uint32_t g_size;
	int32_t g_stack_lo, g_stack_hi, g_m, g_sched, g_sched_sp, g_sched_pc, g_sched_bp;
	int32_t g_syscallsp, g_syscallpc, g_atomicstatus, g_goid, g_waitsince, g_waitreason;
	int32_t g_startpc, g_gopc, g_waiting;
	int32_t m_procid, m_curg;
	uint32_t sudog_size;
	int32_t sudog_g, sudog_next, sudog_prev, sudog_elem, sudog_waitlink;
	uint32_t semtab_count, semtab_stride;  /* 0 when runtime.semtable was not found */
	int32_t semroot_treap, semroot_nwait;
	int32_t mutex_state, mutex_sema, rw_w, rw_writer_sem, rw_reader_sem, rw_reader_count, wg_sema;
	uint32_t wait_reasons;                 /* entries in the wait reason table */
	bool wait_reasons_from_target;         /* read from runtime.waitReasonStrings */
};

struct goruntime;

/*
 * Is the target's main executable a Go program?  Looks only for the .go.buildinfo section (no
 * DWARF, no memory reads), so it is cheap for any target.  With version (n > 0) the Go version
 * ("go1.19.8", "" when unknown) is copied there.
 */
bool goruntime_detect(struct symbols *sym, char *version, size_t n);

/*
 * Prepare to read the goroutines of pid (whose symbols are sym; borrowed).  opt may be NULL.
 * NULL with *cause (one line, owned by the caller) when the target is not Go, was linked
 * without DWARF ("no DWARF (built with -ldflags=-w)") or without a symbol table, or its
 * runtime layout cannot be found or does not fit the buffers it is read into (a member of
 * runtime.g, sudog, the semtable or a sync type outside its struct, a struct larger than any Go
 * release has: "runtime.sudog.elem at +600 lies outside the 88 bytes of runtime.sudog in its
 * DWARF").
 */
struct goruntime *goruntime_open(pid_t pid, struct symbols *sym, const struct goruntime_options *opt,
				 char **cause);
/* NULL is a no-op.  Never leaves a thread stopped or traced. */
void goruntime_close(struct goruntime *gr);

/* "go1.19.8" (borrowed until close). */
const char *goruntime_version(const struct goruntime *gr);
/* The symbols given to goruntime_open(). */
struct symbols *goruntime_symbols(const struct goruntime *gr);
const struct goruntime_layout *goruntime_layout(const struct goruntime *gr);

/*
 * Read every goroutine, its stack and what it waits on, and group them.  The snapshot (and every
 * pointer in it) stays valid until the next scan or goruntime_close().  NULL with *cause when
 * the process is gone or allgs cannot be read.  Cost: about 3 memory reads per goroutine.
 */
const struct goruntime_snapshot *goruntime_scan(struct goruntime *gr, char **cause);

/* Only the counts (no stacks, no locks, no thread stopped): cheap enough for a series sampled
 * every second on a large program.  -1 with *cause. */
int goruntime_count(struct goruntime *gr, struct goruntime_counts *c, char **cause);

/* The goroutine with this id in snap, or NULL. */
const struct goruntime_goroutine *goruntime_snapshot_find(const struct goruntime_snapshot *snap,
							 int64_t id);

/*
 * The frame where a goroutine waits, as a user sees it: the first source line of its stack
 * (innermost first, inline frames expanded) in the program's own code — not under the target's
 * GOROOT — e.g. main.ledgerThenAccounts at main.go:46; when there is none (os/signal.loop), the
 * first outside the runtime, sync and internal/ packages.  NULL when it has no such frame.
 * Borrowed from the symbols until symbols_free().
 */
const struct sym_line *goruntime_wait_frame(struct goruntime *gr, const struct goruntime_goroutine *g);

/*
 * Does the code of the function containing pc refer to an address in [lo, hi)?  Read from its
 * machine code (x86-64 RIP-relative operands), so it finds package-level variables, never heap
 * ones.  Returns 2 when a reference is followed by locking code (LOCK CMPXCHG, the inlined fast
 * path of Mutex.Lock, or a call of a sync.Mutex / RWMutex method: "ledger.Lock()" in the
 * function), 1 for another reference (taking its address), 0 for none.  Cached per function.
 * arg is the struct goruntime: this is a golocks_refs_fn.
 */
int goruntime_code_refers(void *arg, uint64_t pc, uint64_t lo, uint64_t hi);

const char *goruntime_status_name(enum goruntime_status s);
/* "sync.Mutex", "sync.RWMutex", "sync.WaitGroup", "semaphore". */
const char *goruntime_lock_kind_name(enum goruntime_lock_kind k);

#endif
