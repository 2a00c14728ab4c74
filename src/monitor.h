/*
 * monitor: what proftop watches besides CPU samples while it is attached, at about one
 * observation per second: memory and CPU points into the series, the threads and what they wait
 * on (threadmodel, with deadlock detection), the goroutines of a Go target and their mutexes
 * (goruntime + golocks), and the growth of the mappings since attach.  Shared by the TUI (the
 * threads and memory views, the deadlock banner in every view, snapshots) and by record's
 * triggers.  Never stops the target: threads are read from /proc and memory only.
 *
 * Order of calls: monitor_new() after the symbols exist -> monitor_tick() from the event loop
 * (it does what is due and returns at once otherwise) -> monitor_free().
 *
 * Cost control: each part measures what its last refresh cost and stretches its own period so
 * that the monitor stays under about 2% of a core (a process with 1000 threads is refreshed less
 * often than one with 10; a deadlock is still seen within two periods).
 *
 * Lifetime: the pointers it exposes (tm rows, snap, go_rep, growth) are valid until the next
 * monitor_tick() or monitor_free().  Not thread-safe.
 */
#ifndef PROFTOP_MONITOR_H
#define PROFTOP_MONITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "golocks.h"
#include "goruntime.h"
#include "memory.h"
#include "series.h"
#include "symbols.h"
#include "threadmodel.h"
#include "unwind.h"
#include "util.h"

enum monitor_part { MONITOR_MEMORY, MONITOR_THREADS, MONITOR_GO, MONITOR_MAPS, MONITOR_NPARTS };

struct monitor {
	pid_t pid;
	struct symbols *sym;      /* borrowed */
	struct unwinder *unw;     /* owned: threads' stacks */
	double stuck_after_s;

	/* memory and CPU */
	struct memory_reader memr;
	struct series series;

	/* threads (and thread deadlocks) */
	struct threadmodel *tm;
	char *tm_error;           /* why threads cannot be watched, or NULL */

	/* Go */
	struct gowatch go;

	/* mappings: resident size at attach, and growth since */
	struct memory_mapping *maps_base;
	size_t nmaps_base;
	struct memory_growth *growth;
	size_t ngrowth;

	/* scheduling of each part */
	uint64_t next_ns[MONITOR_NPARTS];
	uint64_t period_ns[MONITOR_NPARTS];
	uint64_t cost_ns[MONITOR_NPARTS];  /* what the last refresh took */
	bool gone;                          /* the target has exited */
	uint64_t updates;                   /* counts refreshes, so views know something changed */
};

/* stuck_after_s: long waits (threads) and stuck mutexes (Go); <= 0 means 5. */
struct monitor *monitor_new(pid_t pid, struct symbols *sym, double stuck_after_s);
/* NULL is a no-op. */
void monitor_free(struct monitor *m);
/* Do whatever is due at now_ns.  Returns true when something was refreshed. */
bool monitor_tick(struct monitor *m, uint64_t now_ns);
/* When monitor_tick() next has work (for the event loop's timer). */
uint64_t monitor_next_ns(const struct monitor *m);
/* Refresh part p at the next tick (e.g. the user opened the threads view). */
void monitor_poke(struct monitor *m, enum monitor_part p);

/* True while threads or goroutines are deadlocked; *out gets the one-line explanation(s)
 * ("DEADLOCK: 4311 holds A waits B; 4312 holds B waits A"). */
bool monitor_deadlock(const struct monitor *m, struct strbuf *out);
/* Live goroutines at the last scan, -1 when not a Go target (or unreadable). */
long monitor_goroutines(const struct monitor *m);

#endif
