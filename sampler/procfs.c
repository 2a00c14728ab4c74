/* procfs: readers of /proc/PID/... and of the target's memory (see procfs.h). */
#include "procfs.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "util.h"

/* process_vm_readv of pid, or /proc/PID/mem where that is filtered. */
static ssize_t mem_read_once(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { .iov_base = buf, .iov_len = len };
	struct iovec remote = { .iov_base = (void *)(uintptr_t)addr, .iov_len = len };
	ssize_t r = process_vm_readv(pid, &local, 1, &remote, 1, 0);
	if (r >= 0 || (errno != ENOSYS && errno != EPERM))
		return r;
	/* Some container runtimes filter process_vm_readv; /proc/PID/mem does the same job. */
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/mem", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	r = pread(fd, buf, len, (off_t)addr);
	int e = errno;
	close(fd);
	errno = e;
	return r;
}

/* The thread proc_mem_read() reads through for a target whose leader is a zombie (one entry:
 * proftop has one target). */
static pid_t mem_zombie_pid, mem_live_tid;

ssize_t proc_mem_read(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	pid_t via = pid == mem_zombie_pid ? mem_live_tid : pid;
	ssize_t r = mem_read_once(via, addr, buf, len);
	if (r >= 0 || errno != ESRCH)
		return r;
	/* A zombie leader has no memory any more; a live thread of it shares the process's. */
	pid_t live = proc_target_mm_pid(pid);
	if (live <= 0 || live == via) {
		errno = ESRCH;
		return -1;
	}
	mem_zombie_pid = pid;
	mem_live_tid = live;
	return mem_read_once(live, addr, buf, len);
}

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
	return (x > y) - (x < y);
}

int proc_list_tids(pid_t pid, pid_t **tids)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
	DIR *d = opendir(path);
	if (!d)
		return -1;
	size_t n = 0, cap = 0;
	pid_t *v = NULL;
	struct dirent *de;
	while ((errno = 0, de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		util_grow((void **)&v, &cap, n + 1, sizeof *v);
		v[n++] = (pid_t)atoi(de->d_name);
	}
	int e = errno;
	closedir(d);
	if (e) {
		free(v);
		errno = e;
		return -1;
	}
	if (n > 1)
		qsort(v, n, sizeof *v, cmp_pid);
	*tids = v;
	return (int)n;
}

int proc_stat_parse(const char *buf, struct proc_task_stat *st)
{
	const char *open = strchr(buf, '(');
	const char *close = strrchr(buf, ')');
	if (!open || !close || close < open || close[1] != ' ' || close[2] == '\0')
		return -1;
	size_t n = (size_t)(close - open - 1);
	if (n >= sizeof st->comm)
		n = sizeof st->comm - 1;
	memcpy(st->comm, open + 1, n);
	st->comm[n] = '\0';
	const char *p = close + 2;
	/* Fields after comm, numbered from 3 (state) as in proc(5). */
	unsigned long long f[52] = { 0 };
	char state = *p;
	p += 1;
	int i = 4;
	while (*p && i < 52) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		char *end;
		f[i] = strtoull(p, &end, 10);
		if (end == p) { /* negative numbers: strtoull takes them, so only junk gets here */
			while (*p && *p != ' ')
				p++;
		} else {
			p = end;
		}
		i++;
	}
	st->state = state;
	st->flags = (unsigned)f[9];
	st->minflt = f[10];
	st->majflt = f[12];
	st->utime = f[14];
	st->stime = f[15];
	st->num_threads = (long)f[20];
	st->starttime = f[22];
	st->vsize = f[23];
	st->rss_pages = f[24];
	st->processor = (int)f[39];
	st->start_brk = f[47];
	return 0;
}

int proc_task_stat_read(pid_t pid, pid_t tid, struct proc_task_stat *st)
{
	char path[64], buf[1024];
	if (tid > 0)
		snprintf(path, sizeof path, "/proc/%d/task/%d/stat", (int)pid, (int)tid);
	else
		snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if (util_read_small(path, buf, sizeof buf) < 0)
		return -1;
	if (proc_stat_parse(buf, st) < 0) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

int proc_stat_read(pid_t pid, struct proc_task_stat *st)
{
	return proc_task_stat_read(pid, 0, st);
}

int proc_syscall_parse(const char *buf, struct proc_syscall *sc)
{
	memset(sc, 0, sizeof *sc);
	if (strncmp(buf, "running", 7) == 0) {
		sc->running = true;
		sc->nr = -1;
		return 0;
	}
	const char *p = buf;
	char *end;
	sc->nr = strtol(p, &end, 10);
	if (end == p) {
		errno = EINVAL;
		return -1;
	}
	p = end;
	if (sc->nr == -1) {
		/* "-1 SP PC": blocked, but not in a system call. */
		sc->sp = strtoull(p, &end, 16);
		sc->pc = strtoull(end, &end, 16);
		return 0;
	}
	for (int i = 0; i < 6; i++) {
		sc->args[i] = strtoull(p, &end, 16);
		p = end;
	}
	sc->sp = strtoull(p, &end, 16);
	p = end;
	sc->pc = strtoull(p, &end, 16);
	return 0;
}

int proc_task_syscall_read(pid_t pid, pid_t tid, struct proc_syscall *sc)
{
	char path[64], buf[512];
	snprintf(path, sizeof path, "/proc/%d/task/%d/syscall", (int)pid, (int)tid);
	memset(sc, 0, sizeof *sc);
	if (util_read_small(path, buf, sizeof buf) < 0)
		return -1;
	return proc_syscall_parse(buf, sc);
}

int proc_task_runtime_ns(pid_t pid, pid_t tid, uint64_t *ns)
{
	char path[64], buf[128];
	snprintf(path, sizeof path, "/proc/%d/task/%d/schedstat", (int)pid, (int)tid);
	if (util_read_small(path, buf, sizeof buf) < 0)
		return -1;
	char *end;
	*ns = strtoull(buf, &end, 10);
	if (end == buf) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

int proc_task_wchan_read(pid_t pid, pid_t tid, char *buf, size_t n)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/task/%d/wchan", (int)pid, (int)tid);
	if (util_read_small(path, buf, n) < 0) {
		buf[0] = '\0';
		return -1;
	}
	if (strcmp(buf, "0") == 0)
		buf[0] = '\0';
	return 0;
}

long proc_clk_tck(void)
{
	static long tck;
	if (!tck) {
		tck = sysconf(_SC_CLK_TCK);
		if (tck <= 0)
			tck = 100;
	}
	return tck;
}

const char *proc_access_hint(int err)
{
	switch (err) {
	case ESRCH:
	case ENOENT:
		return "no such process (check the pid: ps -p PID)";
	case EACCES:
	case EPERM:
		return "permission denied: run as the target's user or as root, or grant CAP_SYS_PTRACE "
		       "(sudo setcap cap_sys_ptrace,cap_perfmon+ep proftop); where "
		       "/proc/sys/kernel/yama/ptrace_scope is 1, set it to 0 "
		       "(sysctl kernel.yama.ptrace_scope=0)";
	default:
		return strerror(err);
	}
}

enum proc_target_state proc_target_state(pid_t pid, struct proc_task_stat *leader)
{
	struct proc_task_stat st;
	if (proc_stat_read(pid, &st) < 0)
		return errno == ENOENT || errno == ESRCH ? PROC_TARGET_EXITED : PROC_TARGET_UNKNOWN;
	if (leader)
		*leader = st;
	/* num_threads counts the zombie leader itself until the last thread is gone. */
	if (st.state == 'X' || (st.state == 'Z' && st.num_threads <= 1)) {
		errno = ESRCH;
		return PROC_TARGET_EXITED;
	}
	return PROC_TARGET_ALIVE;
}

pid_t proc_target_mm_pid(pid_t pid)
{
	struct proc_task_stat st;
	if (proc_stat_read(pid, &st) < 0)
		return -1;
	if (st.state != 'Z' && st.state != 'X')
		return pid;
	pid_t *tids;
	int n = proc_list_tids(pid, &tids);
	if (n < 0)
		return -1;
	pid_t live = -1;
	for (int i = 0; i < n && live < 0; i++) {
		struct proc_task_stat ts;
		if (tids[i] != pid && proc_task_stat_read(pid, tids[i], &ts) == 0 && ts.state != 'Z' &&
		    ts.state != 'X')
			live = tids[i];
	}
	free(tids);
	if (live < 0)
		errno = ESRCH;
	return live;
}

int proc_target_check(pid_t pid, const char *verb, char **cause)
{
	if (pid <= 0) {
		*cause = xasprintf("invalid pid %d", (int)pid);
		errno = EINVAL;
		return -1;
	}
	struct proc_task_stat st = { .state = 0 };
	enum proc_target_state ts = kill(pid, 0) < 0 && errno == ESRCH ? PROC_TARGET_EXITED
								       : proc_target_state(pid, &st);
	int e = errno;
	if (ts == PROC_TARGET_EXITED) {
		if (st.state) /* its stat was read: a zombie not yet reaped by its parent */
			*cause = xasprintf("process %d has exited (zombie)", (int)pid);
		else
			*cause = xasprintf("no such process %d (check the pid: ps -p %d)", (int)pid,
					   (int)pid);
		errno = ESRCH;
		return -1;
	}
	if (ts == PROC_TARGET_UNKNOWN) {
		*cause = xasprintf("cannot read /proc/%d/stat: %s", (int)pid, strerror(e));
		errno = e;
		return -1;
	}
	/* The memory map: refused (another user, ptrace_scope) or empty when we may not look. */
	pid_t mm = proc_target_mm_pid(pid);
	char path[64], buf[256];
	snprintf(path, sizeof path, "/proc/%d/maps", (int)(mm > 0 ? mm : pid));
	ssize_t r = util_read_small(path, buf, sizeof buf);
	e = r < 0 ? errno : EACCES;
	if (r > 0)
		return 0;
	if (st.flags & PROC_PF_KTHREAD) {
		*cause = xasprintf("pid %d (%s) is a kernel thread: it runs no user-space code to "
				   "profile", (int)pid, st.comm);
		errno = EINVAL;
		return -1;
	}
	if (e == ENOENT || e == ESRCH)
		*cause = xasprintf("no such process %d (check the pid: ps -p %d)", (int)pid, (int)pid);
	else if (e == EACCES || e == EPERM)
		*cause = xasprintf("cannot %s pid %d: %s", verb, (int)pid, proc_access_hint(EACCES));
	else
		*cause = xasprintf("cannot read %s: %s", path, strerror(e));
	errno = e;
	return -1;
}
