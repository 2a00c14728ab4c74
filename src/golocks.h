/*
 * golocks: stuck sync.Mutex / sync.RWMutex and probable deadlocks of a Go program, decided across
 * a series of goroutine snapshots (goruntime_scan()).  A model: no I/O of its own, so it is
 * tested from synthetic snapshots as well as from live ones.
 *
 * The rules (stuck_after_s is --stuck-after, default 5 s):
 *
 *   Stuck lock.  A Mutex/RWMutex with waiters is stuck when, at every observation for at least
 *   stuck_after_s (and at least two observations), it was locked, the head of its wait queue was
 *   the same goroutine with the same sudog, and its state word — locked/woken/starving bits and
 *   the semaphore count — was the same.  Only the waiter count may grow: requests piling up
 *   behind a stuck lock do not hide it.  Passing contention changes the head or the bits between
 *   any two observations 200 ms apart (and Go hands a lock to the head waiter once it has waited
 *   1 ms, so a head that stays put for seconds means no unlock happened).
 *   A goroutine is stuck on it when it has waited on it (same sudog) for stuck_after_s.
 *
 *   Probable holders.  Go's Mutex records no owner.  A goroutine is a probable holder of a lock
 *   when the code of one of its frames locks or unlocks the lock (refs callback returns 2: the
 *   lock is a package variable and that function calls its Lock/Unlock), or, when no goroutine
 *   has such a frame, merely refers to it (1) — and it is not itself waiting on that lock (Go
 *   mutexes are not reentrant).  Heap locks have no inferred holder ("unknown").
 *
 *   Probable deadlock.  Among stuck locks, L -> M when a stuck waiter of M is a probable holder of
 *   L, or when L's holder is unknown (then any stuck waiter of another lock may hold it).  A cycle
 *   (a strongly connected set of >= 2 stuck locks, hence >= 2 goroutines stuck on >= 2 different
 *   locks at once) is a probable deadlock.  holders_known says the cycle was closed by inferred
 *   holders only (AB-BA over package variables), not by the unknown-holder assumption.
 *
 *   Long wait.  A stuck lock in no cycle: one stuck lock alone (a holder sleeping inside the lock,
 *   a holder blocked on a channel), or a lock whose probable holder is not stuck on a lock.
 *
 * Order of calls: golocks_new() -> golocks_observe() per snapshot, in time order ->
 * golocks_report() -> golocks_free().  The lock symbols in the report are borrowed from the
 * snapshots' goruntime: free the golocks first, or do not read old reports after
 * goruntime_close().
 */
#ifndef PROFTOP_GOLOCKS_H
#define PROFTOP_GOLOCKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "goruntime.h"
#include "util.h"

/* Does the function containing pc refer to an address in [lo, hi)?  2: and locks or unlocks
 * it there, 1: refers to it otherwise, 0: no.  (goruntime_code_refers) */
typedef int (*golocks_refs_fn)(void *arg, uint64_t pc, uint64_t lo, uint64_t hi);

#define GOLOCKS_STUCK_AFTER_DEFAULT 5.0

struct golocks_lock {
	uint64_t addr;
	enum goruntime_lock_kind kind;   /* GORUNTIME_LOCK_MUTEX or GORUNTIME_LOCK_RWMUTEX */
	const char *symbol;              /* NULL for a heap lock (name it by addr) */
	bool locked;
	double unchanged_s;              /* locked, same head and state for this long */
	bool stuck;
	bool deadlocked;                 /* part of a probable deadlock */
	uint32_t cycle;                  /* which deadlock (0, 1, ...), UINT32_MAX none */
	bool long_wait;                  /* stuck, not part of a deadlock */
	uint32_t nwaiters;               /* goroutines waiting on it now */
	double max_wait_s;               /* longest of them, as observed here */
	size_t nstuck;
	const int64_t *stuck_ids;        /* goroutines stuck on it (stuck locks only), longest
					    first */
	size_t nholders;
	const int64_t *holders;          /* probable holders (stuck locks only, ascending id);
					    none = unknown */
	uint32_t order;                  /* private */
};

/* One goroutine of a deadlock cycle: stuck waiting on locks[waits_on], holding locks[holds]. */
struct golocks_member {
	uint32_t cycle;                  /* which deadlock (0 .. ndeadlocks-1) */
	int64_t goroutine;
	uint32_t waits_on;               /* index into report.locks */
	uint32_t holds;                  /* index into report.locks; UINT32_MAX when unknown */
};

struct golocks_report {
	uint64_t time_ns;                /* of the last snapshot observed */
	double stuck_after_s;
	size_t nlocks;
	const struct golocks_lock *locks; /* Mutex/RWMutex with waiters: deadlocked, then long
					    waits, then the others; longest wait first */
	size_t nstuck, nlong_waits;
	bool deadlock;
	size_t ndeadlocks;               /* independent cycles */
	bool holders_known;              /* every deadlocked lock had inferred holders */
	size_t nmembers;
	const struct golocks_member *members; /* by cycle, then ascending goroutine id */
	/* Some locked lock with waiters has not changed once since it was first observed and has
	 * not been so for stuck_after_s yet: a one-shot dump keeps observing (for decide_in_s at
	 * most) before it trusts the verdict. */
	bool watching;
	double decide_in_s;
	uint32_t nwatched;               /* goroutines waiting on the locks being watched */
};

/* stuck_after_s <= 0 means GOLOCKS_STUCK_AFTER_DEFAULT. */
struct golocks *golocks_new(double stuck_after_s);
/* NULL is a no-op. */
void golocks_free(struct golocks *gl);

/*
 * Take one snapshot into account (snapshots in time order; several goruntime targets are not
 * mixed).  refs (may be NULL: every holder unknown) is called with refs_arg to infer holders of
 * stuck locks only.
 */
void golocks_observe(struct golocks *gl, const struct goruntime_snapshot *snap, golocks_refs_fn refs,
		     void *refs_arg);

/* The verdict after the last observation; valid until the next golocks_observe() or free. */
const struct golocks_report *golocks_report(const struct golocks *gl);

/*
 * Output shared by `proftop dump` and the TUI.  gr names frames (through its symbols); snap is
 * the snapshot last observed.  Everything is appended to out.
 */

/* "main.ledger", or "sync.Mutex 0xc000012345" for a lock no symbol names. */
void golocks_lock_name(const struct golocks_lock *l, struct strbuf *out);

/* The banner every view shows while a deadlock lasts, like the threads' one:
 * "DEADLOCK (Go): goroutine 23 holds main.ledger, waits main.accounts at main.go:46; goroutine
 * 24 holds main.accounts, waits main.ledger at main.go:55" (+N more).  false when none. */
bool golocks_banner(const struct golocks_report *r, struct goruntime *gr,
		    const struct goruntime_snapshot *snap, struct strbuf *out);

/* The Go part of `proftop dump` as text: a header line, the banner, the goroutines grouped by
 * identical stack (count, state, wait, ids, frames with file:line, as `go tool pprof -traces`
 * groups them), then "Go stuck mutexes", "Go deadlocks" and "Go long waits". */
void golocks_dump_text(struct goruntime *gr, const struct goruntime_snapshot *snap,
		       const struct golocks_report *r, struct strbuf *out);

/* The same as one JSON object (the value of dump's "go" member): version, counts,
 * goroutines[].{id, status, wait_reason, wait_s, system, tid, flags, mutex{addr, symbol, kind,
 * locked, read} or null, stack[].{function, file, line, addr, inline}}, stuck_mutexes[],
 * deadlocks[].  (To be documented in man/proftop.1 with dump --json.) */
void golocks_dump_json(struct goruntime *gr, const struct goruntime_snapshot *snap,
		       const struct golocks_report *r, struct strbuf *out);

/*
 * gowatch: the Go side of a target as the monitor and dump hold it — is it Go (and which
 * version), the runtime reader, the lock watch over its snapshots, the last snapshot and report.
 */
struct gowatch {
	bool is_go;
	char version[32];
	char *error;                          /* why goroutines cannot be read, or NULL */
	struct goruntime *gr;                 /* NULL when not Go or not readable */
	struct golocks *gl;
	const struct goruntime_snapshot *snap; /* the last scan (NULL before the first) */
	const struct golocks_report *rep;      /* its report */
};

/* Detect Go in sym's binary and open the reader (error set when that fails). */
void gowatch_open(struct gowatch *w, pid_t pid, struct symbols *sym, double stuck_after_s);
/* Scan the goroutines and update the lock watch.  -1 with *cause (caller frees) when the scan
 * failed; snap and rep then stay those of the last good scan. */
int gowatch_scan(struct gowatch *w, char **cause);
void gowatch_close(struct gowatch *w);

#endif
