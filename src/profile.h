/*
 * profile: the samples of one target, aggregated.  The ground truth is a table of unique stacks
 * (raw addresses plus their symbolized, inline-expanded frames) with counts for two windows:
 * PROFILE_LIVE (the last N seconds; a log of recent samples is replayed backwards to expire old
 * ones) and PROFILE_ALL (since start or the last reset).  Per-thread counts for PROFILE_ALL are
 * kept per (stack, thread); for PROFILE_LIVE the log has them.
 *
 * Views and exporters do not read stacks one by one; they build a call tree (calltree.h) or walk
 * profile_foreach().  Symbolization happens once per new unique stack, at profile_add(), while the
 * target is still alive (so a target that exits mid-record still gets named frames).
 *
 * Lifetime: pointers into the profile (stacks, thread names) stay valid until profile_reset()
 * or profile_free().  Not thread-safe.
 */
#ifndef PROFTOP_PROFILE_H
#define PROFTOP_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sampler.h"
#include "symbols.h"

enum profile_window { PROFILE_LIVE, PROFILE_ALL, PROFILE_NWINDOWS };

struct profile_stack {
	uint32_t id;
	uint32_t flags;         /* SAMPLE_IDLE when these are off-CPU samples */
	uint32_t npcs;
	uint32_t nframes;
	const uint64_t *pcs;    /* lookup addresses, leaf first (return addresses minus one) */
	const struct sym_line **frames; /* expanded with inlines, leaf (innermost) first */
	uint64_t count[PROFILE_NWINDOWS];
	uint64_t weight_ns[PROFILE_NWINDOWS];
};

struct profile_thread {
	pid_t tid;
	char name[32];
	uint64_t count[PROFILE_NWINDOWS];
	bool exited;
};

struct profile;

/* sym is borrowed and must outlive the profile.  window_ns: length of PROFILE_LIVE. */
struct profile *profile_new(struct symbols *sym, pid_t pid, uint64_t window_ns);
/* NULL is a no-op. */
void profile_free(struct profile *p);

void profile_add(struct profile *p, const struct sample *s);
/* Expire PROFILE_LIVE samples older than now_ns - window. */
void profile_expire(struct profile *p, uint64_t now_ns);
/* Forget every count (both windows), keep the symbol cache. */
void profile_reset(struct profile *p);
uint64_t profile_window_ns(const struct profile *p);

struct symbols *profile_symbols(const struct profile *p);
uint64_t profile_total(const struct profile *p, enum profile_window w);
uint64_t profile_total_weight(const struct profile *p, enum profile_window w);
/* Monotonic time of the first sample of the window (0 when empty). */
uint64_t profile_start_ns(const struct profile *p, enum profile_window w);
uint64_t profile_last_ns(const struct profile *p);
/* True when any sample was off-CPU (--idle). */
bool profile_has_idle(const struct profile *p);

size_t profile_nstacks(const struct profile *p);
const struct profile_stack *profile_stack(const struct profile *p, uint32_t id);

size_t profile_nthreads(const struct profile *p);
const struct profile_thread *profile_thread_at(const struct profile *p, size_t i);
/* Name of tid ("?" when never seen); borrowed until profile_free(). */
const char *profile_thread_name(const struct profile *p, pid_t tid);
/* Mark threads not in the sorted list tids as exited (names stay known). */
void profile_threads_update(struct profile *p, const pid_t *tids, int n);

/*
 * Visit (stack, tid, count, weight) for every sample group of window w: for PROFILE_ALL one
 * call per (stack, thread) pair, for PROFILE_LIVE one per logged sample group.  tid_filter > 0
 * keeps only that thread.
 */
typedef void (*profile_visit_fn)(void *arg, const struct profile_stack *st, pid_t tid,
				 uint64_t count, uint64_t weight_ns);
void profile_foreach(const struct profile *p, enum profile_window w, pid_t tid_filter,
		     profile_visit_fn fn, void *arg);

#endif
