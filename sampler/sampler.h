/*
 * sampler: turns a running process into call-stack samples.  Addresses only, no strings.
 *
 * Order of calls:  sampler_open() -> loop { poll(sampler_pollfds()); sampler_tick() when
 * sampler_interval_ns() has passed; sampler_drain() } -> sampler_close().
 *
 * Backends (each a `const struct sampler_ops`):
 *   perf    one PERF_COUNT_SW_CPU_CLOCK event per thread, mmap'ed ring buffers; frame-pointer
 *           callchains, or user stack + registers unwound with libunwind (--call-graph dwarf).
 *   ptrace  PTRACE_SEIZE every thread; at each tick PTRACE_INTERRUPT the running ones, unwind,
 *           resume.  Used when perf_event_open is refused, or with --mode ptrace.
 * With --idle, threads that are off CPU are sampled too (marked SAMPLE_IDLE) from
 * /proc/PID/task/TID/syscall (their sp and pc) and memory reads, without stopping them.
 *
 * The target is never harmed: sampler_close() detaches and resumes every thread; if proftop is
 * killed, the kernel releases tracees (PTRACE_O_EXITKILL is never set).  Threads that appear
 * after open are picked up at the next tick; threads that exit are dropped silently.
 */
#ifndef PROFTOP_SAMPLER_H
#define PROFTOP_SAMPLER_H

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "unwind.h"

#define SAMPLE_MAX_FRAMES 128

enum sample_flags {
	SAMPLE_IDLE = 1u << 0,      /* thread was off CPU (wall-clock sample) */
	SAMPLE_TRUNCATED = 1u << 1, /* unwinding stopped early (stack copy too small, no info) */
};

/* One call stack.  pc[0] is the sampled instruction; pc[i>0] are return addresses. */
struct sample {
	pid_t tid;
	uint32_t flags;
	uint64_t time_ns;   /* CLOCK_MONOTONIC */
	uint64_t weight_ns; /* CPU (or wall) time this sample stands for */
	uint32_t nframes;
	uint64_t pc[SAMPLE_MAX_FRAMES];
};

enum sampler_mode { SAMPLER_AUTO, SAMPLER_PERF, SAMPLER_PTRACE };
enum sampler_callgraph { SAMPLER_CG_FP, SAMPLER_CG_DWARF };

struct sampler_config {
	pid_t pid;
	int rate_hz;                     /* samples per second per thread */
	enum sampler_mode mode;
	enum sampler_callgraph callgraph;
	bool idle;                       /* also sample off-CPU threads */
	bool spawned;                    /* target is our child (started with -- CMD) */
};

struct sampler_stats {
	uint64_t samples;  /* delivered */
	uint64_t lost;     /* dropped by the kernel (ring full) or failed unwinds */
	uint64_t idle;     /* of samples, off-CPU ones */
	int threads;       /* threads currently sampled */
};

struct sampler;
typedef void (*sampler_sample_fn)(void *arg, const struct sample *s);

/*
 * Per-backend operations.  The core (sampler.c) lists the target's threads at most every 100 ms
 * and hands the list to sync(); the backend starts sampling new threads and forgets gone ones.
 * tick() (optional) runs every 1/rate seconds; drain() delivers what the kernel buffered.
 * close() must leave every thread running and untraced.
 */
struct sampler_ops {
	const char *name;
	int (*open)(struct sampler *s, const pid_t *tids, int n, char **cause);
	void (*sync)(struct sampler *s, const pid_t *tids, int n);
	int (*pollfds)(struct sampler *s, struct pollfd *fds, int max);
	void (*polled)(struct sampler *s, const struct pollfd *fds, int n);
	void (*tick)(struct sampler *s, uint64_t now_ns, const pid_t *tids, const char *states, int n);
	int (*drain)(struct sampler *s, sampler_sample_fn fn, void *arg);
	int (*set_rate)(struct sampler *s, int hz);
	void (*close)(struct sampler *s);
};

extern const struct sampler_ops sampler_perf_ops;
extern const struct sampler_ops sampler_ptrace_ops;

struct sampler {
	const struct sampler_ops *ops;
	struct sampler_config cfg;
	struct sampler_stats stats;
	struct unwinder *unw;  /* shared by the backends and the idle sampler */
	char *note;            /* why auto mode fell back to ptrace, or NULL */
	void *priv;
	void *idle_priv;
	struct sample *queue; /* samples taken in tick(), delivered by drain() */
	size_t nqueue, capqueue;
	pid_t *tids;          /* the target's threads at the last scan */
	char *states;         /* their scheduler states (R, S, D...) at the last tick (--idle) */
	int ntids;
	size_t captids;
	uint64_t last_scan_ns, last_tick_ns;
	bool gone;            /* the target has exited */
	int exit_status;      /* its wait status when the sampler reaped it (ptrace), else -1 */
};

/*
 * Open a sampler on cfg->pid.  In SAMPLER_AUTO mode perf is tried first and ptrace used when the
 * kernel refuses; sampler_note() then says why.  Returns NULL with *cause set (one line naming
 * the cause and the remedy, owned by the caller) when the target cannot be sampled.
 */
struct sampler *sampler_open(const struct sampler_config *cfg, char **cause);
const char *sampler_name(const struct sampler *s);
const char *sampler_note(const struct sampler *s);
int sampler_pollfds(struct sampler *s, struct pollfd *fds, int max);
/* After poll(): hand back the fds (with revents) that sampler_pollfds() filled. */
void sampler_polled(struct sampler *s, const struct pollfd *fds, int n);
/* How often sampler_tick() wants to run. */
uint64_t sampler_interval_ns(struct sampler *s);
/* Periodic work: rescan threads, take ptrace samples, take idle samples.
 * Returns -1 when the target is gone. */
int sampler_tick(struct sampler *s, uint64_t now_ns);
/* Deliver every pending sample to fn.  Returns the number delivered. */
int sampler_drain(struct sampler *s, sampler_sample_fn fn, void *arg);
int sampler_set_rate(struct sampler *s, int hz);
const struct sampler_stats *sampler_stats(const struct sampler *s);
/* Detach from every thread (leaving it running) and free.  NULL is a no-op. */
void sampler_close(struct sampler *s);

/* Internal helpers shared by the backends (sampler.c). */
/* Queue a sample taken during tick() or the backend's drain(); sampler_drain() delivers it. */
void sampler_emit(struct sampler *s, const struct sample *smp);
/* Unwind a thread of the target that is stopped or blocked, from its registers, reading its
 * stack live.  Fills smp->pc/nframes; returns nframes. */
int sampler_unwind_live(struct sampler *s, const struct unwind_regs *regs, struct sample *smp);

#endif
