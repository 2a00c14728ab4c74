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
 * /proc/PID/mem).  Returns the number of bytes read (may be short at a mapping end) or -1. */
ssize_t proc_mem_read(pid_t pid, uint64_t addr, void *buf, size_t len);

/* Thread ids of pid, ascending, into *tids (malloc'ed; caller frees).  Returns count or -1. */
int proc_list_tids(pid_t pid, pid_t **tids);

/* The fields of /proc/PID/task/TID/stat that proftop uses. */
struct proc_task_stat {
	char state;          /* R S D T t Z X I ... */
	char comm[32];
	uint64_t utime, stime;      /* clock ticks */
	uint64_t minflt, majflt;
	uint64_t starttime;         /* clock ticks after boot */
	int processor;
	long num_threads;
	uint64_t vsize, rss_pages;
};
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

#endif
