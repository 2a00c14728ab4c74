/*
 * procfs: small, allocation-free readers of /proc/PID/... and of the target's memory.
 * Every function returns -1 with errno set when the process or thread is gone (ENOENT/ESRCH)
 * or access is refused (EACCES/EPERM); callers treat a vanished thread as exited, not an error.
 */
#ifndef PROFTOP_PROCFS_H
#define PROFTOP_PROCFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Read len bytes of the target's memory at addr (process_vm_readv, falling back to
 * /proc/PID/mem; through a live thread when the leader is a zombie, see proc_target_state).
 * Returns the number of bytes read (may be short at a mapping end) or -1. */
ssize_t proc_mem_read(pid_t pid, uint64_t addr, void *buf, size_t len);

/* Thread ids of pid, ascending, into *tids (malloc'ed; caller frees).  Returns count or -1 with
 * errno: ENOENT/ESRCH when pid is gone, anything else (EMFILE, ENOMEM...) when it may not be. */
int proc_list_tids(pid_t pid, pid_t **tids);

/* The fields of /proc/PID/task/TID/stat that proftop uses. */
struct proc_task_stat {
	char state;          /* R S D T t Z X I ... */
	unsigned flags;      /* PF_* (include/linux/sched.h); PROC_PF_KTHREAD: a kernel thread */
	char comm[32];
	uint64_t utime, stime;      /* clock ticks */
	uint64_t minflt, majflt;
	uint64_t starttime;         /* clock ticks after boot */
	int processor;
	long num_threads;
	uint64_t vsize, rss_pages;
	uint64_t start_brk;         /* where the [heap] begins; 0 when hidden (no permission, no mm) */
};
#define PROC_PF_KTHREAD 0x00200000u
int proc_task_stat_read(pid_t pid, pid_t tid, struct proc_task_stat *st);
/* Parse the text of a stat file (comm may hold spaces and parentheses); -1 on junk. */
int proc_stat_parse(const char *buf, struct proc_task_stat *st);
/* tid <= 0 reads /proc/PID/stat (process-wide). */
int proc_stat_read(pid_t pid, struct proc_task_stat *st);

/* /proc/PID/task/TID/syscall: "running", or the syscall number, its 6 args, sp and pc. */
struct proc_syscall {
	bool running;  /* the thread is on CPU or runnable (no syscall to report) */
	long nr;       /* -1: blocked but not in a syscall (e.g. page fault) */
	uint64_t args[6];
	uint64_t sp, pc;
};
int proc_task_syscall_read(pid_t pid, pid_t tid, struct proc_syscall *sc);
/* Parse the text of a syscall file; -1 on junk. */
int proc_syscall_parse(const char *buf, struct proc_syscall *sc);

/* CPU time the thread has run, in ns (first field of /proc/PID/task/TID/schedstat). */
int proc_task_runtime_ns(pid_t pid, pid_t tid, uint64_t *ns);

/* /proc/PID/task/TID/wchan into buf ("" when 0). */
int proc_task_wchan_read(pid_t pid, pid_t tid, char *buf, size_t n);

/* Clock ticks per second (sysconf(_SC_CLK_TCK)), cached. */
long proc_clk_tck(void);

/* "Name of the word as the user sees it": a one-line description of why pid cannot be read,
 * including the remedy (sysctl, capability).  Returned string is static. */
const char *proc_access_hint(int err);

/*
 * The target process as a whole.  It is alive while any of its threads is: a zombie thread-group
 * leader whose other threads run on (main called pthread_exit, as C and Go programs may) is
 * ALIVE.  Such a leader's own /proc/PID/{maps,mem,status,fd} show no memory or files any more:
 * read those through proc_target_mm_pid().
 */
enum proc_target_state {
	PROC_TARGET_ALIVE,
	PROC_TARGET_EXITED,  /* gone from /proc, or a zombie (or dead) with no live thread */
	PROC_TARGET_UNKNOWN, /* /proc/PID/stat unreadable just now (EMFILE, ENOMEM...): ask later */
};
/* One read of /proc/PID/stat.  leader (may be NULL) receives it when it was read: its state is
 * 'Z' for a zombie leader of a live process.  errno says why for EXITED and UNKNOWN. */
enum proc_target_state proc_target_state(pid_t pid, struct proc_task_stat *leader);

/* A thread of pid whose /proc/TID entries show the process's memory and files: pid itself, or,
 * when the leader is a zombie, its first live thread (which may exit later: ask again then).
 * Returns -1 with errno (ESRCH: no live thread) when there is none. */
pid_t proc_target_mm_pid(pid_t pid);

/*
 * Whether pid can be profiled: it exists, is alive (as above) and its memory map is readable.
 * Returns 0, or -1 with errno set and *cause one line (owned by the caller) naming the cause and
 * the remedy:
 *   "no such process PID (check the pid: ps -p PID)"
 *   "cannot VERB pid PID: permission denied: ... CAP_SYS_PTRACE ... ptrace_scope ..."
 *   "process PID has exited (zombie)"
 * verb says what the caller wanted ("attach to", "read").
 */
int proc_target_check(pid_t pid, const char *verb, char **cause);

#endif
