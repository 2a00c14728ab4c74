/*
 * threads: what the kernel says of each thread of a process at one moment, and the stack of one
 * thread, without stopping the process.  Addresses and numbers only; the meaning (which lock a
 * futex is, who holds it) is src/locks.h's business.
 *
 * Sources: libproc2 (procps_pids_select with PIDS_SELECT_PID_THREADS) for the thread list, the
 * names, the scheduler states and the CPU ticks; /proc/PID/task/TID/{syscall,wchan,sched} for
 * blocked threads (the syscall, its arguments, sp and pc; the kernel function it sleeps in; when
 * it last ran and how often it has been switched in).  Nothing here stops or traces anything,
 * except thread_stacks_stop(), which stops given running threads, each alone and only for the time
 * of its own unwind (PTRACE_SEIZE + PTRACE_INTERRUPT + PTRACE_GETREGS + PTRACE_DETACH): never the
 * whole process, never a blocked thread that does not need it.
 *
 * Order of calls: thread_reader_new() -> thread_reader_scan() as often as wanted ->
 * thread_reader_free().  A scan owns its arrays; thread_scan_done() frees them.
 */
#ifndef PROFTOP_THREADS_H
#define PROFTOP_THREADS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "procfs.h"
#include "unwind.h"

/* One thread at one moment. */
struct thread_fact {
	pid_t tid;
	char name[16];          /* comm, as the thread named itself (TASK_COMM_LEN) */
	char state;             /* the kernel's letter: R S D T t Z X I P W K */
	uint64_t cpu_ticks;     /* utime + stime so far, clock ticks (proc_clk_tck() per second) */
	bool has_syscall;       /* sc is valid: the thread was off CPU when read */
	struct proc_syscall sc; /* the syscall it is blocked in (nr -1: not in a syscall) */
	char wchan[48];         /* kernel function it sleeps in, "" when running or unknown */
	int64_t off_cpu_ns;     /* how long since it last ran (sched exec_start), -1 unknown */
	uint64_t switches;      /* times it was switched in so far (schedstat), UINT64_MAX unknown */
};

/* Every thread of the process at one moment, sorted by tid. */
struct thread_scan {
	uint64_t time_ns;       /* CLOCK_MONOTONIC when the scan started */
	uint64_t end_ns;        /* and when it ended */
	struct thread_fact *v;
	size_t n, cap;
};

struct thread_reader;

/* Start reading pid's threads.  NULL with *cause (owned by the caller) when libproc2 fails. */
struct thread_reader *thread_reader_new(pid_t pid, char **cause);
/* NULL is a no-op. */
void thread_reader_free(struct thread_reader *r);

/*
 * Fill out (its arrays reused) with every thread of the process.  Blocked threads (not R) get
 * their syscall, wchan and sched facts.  Returns 0, or -1 with errno ESRCH when the process is
 * gone or is a zombie.
 */
int thread_reader_scan(struct thread_reader *r, struct thread_scan *out);
void thread_scan_done(struct thread_scan *s);
/* The fact of tid in s, NULL when s has no such thread.  Binary search. */
const struct thread_fact *thread_scan_find(const struct thread_scan *s, pid_t tid);

/*
 * The version of the glibc mapped in pid ("2.36"), read from the banner string of its libc.so
 * file ("... release version 2.36."), the string gnu_get_libc_version() returns in the target.
 * Returns 1 with buf filled, 0 when a libc.so is mapped but its version cannot be read (buf
 * "unknown"), -1 when the process maps no glibc (static binaries, Go, musl).
 */
int thread_libc_version(pid_t pid, char *buf, size_t n);

/* Times tid was switched in so far (/proc/PID/task/TID/schedstat), UINT64_MAX when unknown. */
uint64_t thread_switches(pid_t pid, pid_t tid);

/* "running", "sleeping", "disk", "stopped", "traced", "zombie", "dead", "idle", "parked",
 * "waking", "wakekill" or "unknown". */
const char *thread_state_word(char state);
/* x86-64 syscall name ("futex"), NULL when nr is unknown. */
const char *thread_syscall_name(long nr);

/*
 * Stack of a thread blocked in the kernel, from the sp and pc of its syscall file and live
 * memory reads (the thread is not stopped).  Returns the number of pcs written (0 if none).
 */
int thread_stack_blocked(struct unwinder *u, const struct thread_fact *f, uint64_t *pcs, int max,
			 bool *truncated);

/* One thread to stop for its registers and stack (thread_stacks_stop). */
struct thread_stop {
	pid_t tid;               /* in */
	uint64_t *pcs;           /* in: where to unwind to (NULL with max 0: registers only) */
	int max;                 /* in */
	int n;                   /* out: pcs written (>= 0), or -1 with err set */
	int err;                 /* out: EPERM (traced by someone else, or not allowed), ESRCH
				    (exited), ETIMEDOUT (did not stop within the limit) */
	bool truncated;          /* out */
	uint64_t stopped_ns;     /* out: from PTRACE_INTERRUPT to PTRACE_DETACH, an upper bound of
				    how long the thread was stopped (it includes the time it took
				    to get a CPU and stop, and our delay in seeing it) */
	uint64_t held_ns;        /* out: from seeing it stopped to PTRACE_DETACH (registers, unwind) */
	struct unwind_regs regs; /* out: valid when n >= 0 */
};

/*
 * Stop each thread of v[0..n) (PTRACE_SEIZE + PTRACE_INTERRUPT, all at once), and as each one
 * stops read its registers, unwind its stack and let it go at once (PTRACE_DETACH; a signal that
 * arrived meanwhile is handed back, a group stop ordered by someone else is kept).  Threads not in
 * v run on.  A thread that does not stop within limit_ns is given up (ETIMEDOUT) and detached
 * as soon as its stop arrives (tracee_pending_flush(), which the event loop calls).  limit_ns
 * 0 gives every thread up at once, without looking (for tests of that path).
 */
void thread_stacks_stop(struct unwinder *u, struct thread_stop *v, size_t n, uint64_t limit_ns);

#endif
