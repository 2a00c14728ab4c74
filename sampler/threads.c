/* threads: per-thread facts from libproc2 and /proc, and one thread's stack (see threads.h). */
#include "threads.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libproc2/pids.h>

#include "tracee.h"
#include "util.h"

/* The libproc2 items read per thread, in this order (PIDS_VAL indexes). */
enum { ITEM_TID, ITEM_CMD, ITEM_STATE, ITEM_TICS, NITEMS };
static enum pids_item reader_items[NITEMS] = { PIDS_ID_TID, PIDS_CMD, PIDS_STATE, PIDS_TICS_ALL };

struct thread_reader {
	pid_t pid;
	struct pids_info *info;
};

struct thread_reader *thread_reader_new(pid_t pid, char **cause)
{
	struct thread_reader *r = xcalloc(1, sizeof *r);
	r->pid = pid;
	int err = procps_pids_new(&r->info, reader_items, NITEMS);
	if (err < 0) {
		*cause = xasprintf("libproc2: cannot read processes: %s", strerror(-err));
		free(r);
		return NULL;
	}
	return r;
}

void thread_reader_free(struct thread_reader *r)
{
	if (!r)
		return;
	procps_pids_unref(&r->info);
	free(r);
}

void thread_scan_done(struct thread_scan *s)
{
	free(s->v);
	memset(s, 0, sizeof *s);
}

static int fact_cmp(const void *a, const void *b)
{
	pid_t x = ((const struct thread_fact *)a)->tid, y = ((const struct thread_fact *)b)->tid;
	return (x > y) - (x < y);
}

const struct thread_fact *thread_scan_find(const struct thread_scan *s, pid_t tid)
{
	size_t lo = util_lower_i32(s->v, s->n, UTIL_FIELD(s->v, tid), tid);
	return lo < s->n && s->v[lo].tid == tid ? &s->v[lo] : NULL;
}

/* The value of "key : value" in the text of a /proc/.../sched file, as a double; -1 if absent. */
static double sched_field(const char *text, const char *key)
{
	const char *p = text;
	size_t n = strlen(key);
	while ((p = strstr(p, key))) {
		if ((p == text || p[-1] == '\n') && (p[n] == ' ' || p[n] == ':')) {
			const char *c = strchr(p, ':');
			return c ? strtod(c + 1, NULL) : -1;
		}
		p += n;
	}
	return -1;
}

/* "se.exec_start" (ms of the runqueue clock) of a thread's sched file; -1 when unreadable. */
static double sched_exec_start(const char *path)
{
	char buf[512];
	/* exec_start is on the third line; the first 512 bytes are enough. */
	if (util_read_small(path, buf, sizeof buf) < 0)
		return -1;
	return sched_field(buf, "se.exec_start");
}

/* Our own runqueue clock "now": the exec_start of the running reader itself. */
static double sched_now_ms(void)
{
	return sched_exec_start("/proc/thread-self/sched");
}

uint64_t thread_switches(pid_t pid, pid_t tid)
{
	char path[96], buf[128];
	snprintf(path, sizeof path, "/proc/%d/task/%d/schedstat", (int)pid, (int)tid);
	unsigned long long run, wait, slices;
	if (util_read_small(path, buf, sizeof buf) > 0 &&
	    sscanf(buf, "%llu %llu %llu", &run, &wait, &slices) == 3)
		return slices;
	return UINT64_MAX;
}

/* Fill the facts of a thread that is off CPU. */
static void fact_blocked(pid_t pid, struct thread_fact *f, double now_ms)
{
	if (proc_task_syscall_read(pid, f->tid, &f->sc) == 0 && !f->sc.running)
		f->has_syscall = true;
	if (!f->has_syscall)
		return;
	proc_task_wchan_read(pid, f->tid, f->wchan, sizeof f->wchan);
	f->switches = thread_switches(pid, f->tid);
	char path[96];
	if (now_ms >= 0) {
		snprintf(path, sizeof path, "/proc/%d/task/%d/sched", (int)pid, (int)f->tid);
		double start = sched_exec_start(path);
		if (start >= 0)
			f->off_cpu_ns = now_ms > start ? (int64_t)((now_ms - start) * 1e6) : 0;
	}
}

int thread_reader_scan(struct thread_reader *r, struct thread_scan *out)
{
	out->time_ns = util_now_ns();
	out->n = 0;
	unsigned pid = (unsigned)r->pid;
	struct pids_fetch *fe = procps_pids_select(r->info, &pid, 1, PIDS_SELECT_PID_THREADS);
	if (!fe || fe->counts->total <= 0) {
		errno = ESRCH;
		return -1;
	}
	double now_ms = sched_now_ms();
	int total = fe->counts->total;
	util_grow((void **)&out->v, &out->cap, (size_t)total, sizeof *out->v);
	for (int i = 0; i < total; i++) {
		struct pids_stack *st = fe->stacks[i];
		struct thread_fact *f = &out->v[out->n];
		memset(f, 0, sizeof *f);
		f->tid = PIDS_VAL(ITEM_TID, s_int, st, r->info);
		const char *cmd = PIDS_VAL(ITEM_CMD, str, st, r->info);
		snprintf(f->name, sizeof f->name, "%s", cmd ? cmd : "?");
		f->state = (char)PIDS_VAL(ITEM_STATE, s_ch, st, r->info);
		f->cpu_ticks = PIDS_VAL(ITEM_TICS, ull_int, st, r->info);
		f->off_cpu_ns = -1;
		f->switches = UINT64_MAX;
		if (f->tid <= 0)
			continue;
		if (f->tid == r->pid) {
			/* libproc2 quirk: the main thread's row carries the process-wide counters. */
			struct proc_task_stat ts;
			if (proc_task_stat_read(r->pid, f->tid, &ts) == 0) {
				f->cpu_ticks = ts.utime + ts.stime;
				f->state = ts.state;
			}
		}
		if (f->state != 'R' && f->state != 'Z' && f->state != 'X')
			fact_blocked(r->pid, f, now_ms);
		out->n++;
	}
	if (out->n > 1)
		qsort(out->v, out->n, sizeof *out->v, fact_cmp);
	out->end_ns = util_now_ns();
	/* A zombie group leader with no live threads: the process has exited. */
	bool alive = false;
	for (size_t i = 0; i < out->n && !alive; i++)
		alive = out->v[i].state != 'Z' && out->v[i].state != 'X';
	if (!alive) {
		errno = ESRCH;
		return -1;
	}
	return 0;
}

/* Search an open libc file for its banner's version; 0 with buf filled, -1 if none. */
static int libc_file_version(int fd, char *buf, size_t n)
{
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_size <= 0)
		return -1;
	void *img = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (img == MAP_FAILED)
		return -1;
	static const char key[] = "release version ";
	const char *p = memmem(img, (size_t)st.st_size, key, sizeof key - 1);
	int rc = -1;
	if (p) {
		p += sizeof key - 1;
		const char *end = (const char *)img + st.st_size;
		size_t k = 0;
		while (p < end && k + 1 < n && ((*p >= '0' && *p <= '9') || *p == '.'))
			buf[k++] = *p++;
		while (k && buf[k - 1] == '.')
			k--; /* the banner ends "2.36." */
		buf[k] = '\0';
		rc = k ? 0 : -1;
	}
	munmap(img, (size_t)st.st_size);
	return rc;
}

int thread_libc_version(pid_t pid, char *buf, size_t n)
{
	pid_t mm = proc_target_mm_pid(pid); /* a zombie leader has no maps */
	if (mm > 0)
		pid = mm;
	char path[PATH_MAX + 64];
	snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
	char *maps = util_read_file(path, NULL);
	if (!maps)
		return -1;
	int rc = -1;
	for (char *line = maps, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		unsigned long long lo, hi;
		int off = 0;
		if (sscanf(line, "%llx-%llx %*s %*s %*s %*s %n", &lo, &hi, &off) < 2 || !off)
			continue;
		const char *file = line + off;
		const char *base = strrchr(file, '/');
		base = base ? base + 1 : file;
		bool is_libc = !strncmp(base, "libc.so.", 8) ||
			       (!strncmp(base, "libc-", 5) && strstr(base, ".so"));
		if (file[0] != '/' || !is_libc)
			continue;
		rc = 0;
		snprintf(buf, n, "unknown");
		/* The mapped file itself (deleted, or in another mount namespace), then by path. */
		snprintf(path, sizeof path, "/proc/%d/map_files/%llx-%llx", (int)pid, lo, hi);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			snprintf(path, sizeof path, "/proc/%d/root%s", (int)pid, file);
			fd = open(path, O_RDONLY | O_CLOEXEC);
		}
		if (fd < 0)
			fd = open(file, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			if (libc_file_version(fd, buf, n) == 0)
				rc = 1;
			else
				snprintf(buf, n, "unknown");
			close(fd);
		}
		break;
	}
	free(maps);
	return rc;
}

const char *thread_state_word(char state)
{
	switch (state) {
	case 'R': return "running";
	case 'S': return "sleeping";
	case 'D': return "disk";
	case 'T': return "stopped";
	case 't': return "traced";
	case 'Z': return "zombie";
	case 'X': case 'x': return "dead";
	case 'I': return "idle";
	case 'P': return "parked";
	case 'W': return "waking";
	case 'K': return "wakekill";
	default: return "unknown";
	}
}

/* x86-64 syscall names, from <asm/unistd_64.h> (Linux 6.1). */
static const char *const syscall_names[] = {
	[0] = "read", [1] = "write", [2] = "open", [3] = "close", [4] = "stat", [5] = "fstat",
	[6] = "lstat", [7] = "poll", [8] = "lseek", [9] = "mmap", [10] = "mprotect", [11] = "munmap",
	[12] = "brk", [13] = "rt_sigaction", [14] = "rt_sigprocmask", [15] = "rt_sigreturn",
	[16] = "ioctl", [17] = "pread64", [18] = "pwrite64", [19] = "readv", [20] = "writev",
	[21] = "access", [22] = "pipe", [23] = "select", [24] = "sched_yield", [25] = "mremap",
	[26] = "msync", [27] = "mincore", [28] = "madvise", [29] = "shmget", [30] = "shmat",
	[31] = "shmctl", [32] = "dup", [33] = "dup2", [34] = "pause", [35] = "nanosleep",
	[36] = "getitimer", [37] = "alarm", [38] = "setitimer", [39] = "getpid", [40] = "sendfile",
	[41] = "socket", [42] = "connect", [43] = "accept", [44] = "sendto", [45] = "recvfrom",
	[46] = "sendmsg", [47] = "recvmsg", [48] = "shutdown", [49] = "bind", [50] = "listen",
	[51] = "getsockname", [52] = "getpeername", [53] = "socketpair", [54] = "setsockopt",
	[55] = "getsockopt", [56] = "clone", [57] = "fork", [58] = "vfork", [59] = "execve",
	[60] = "exit", [61] = "wait4", [62] = "kill", [63] = "uname", [64] = "semget", [65] = "semop",
	[66] = "semctl", [67] = "shmdt", [68] = "msgget", [69] = "msgsnd", [70] = "msgrcv",
	[71] = "msgctl", [72] = "fcntl", [73] = "flock", [74] = "fsync", [75] = "fdatasync",
	[76] = "truncate", [77] = "ftruncate", [78] = "getdents", [79] = "getcwd", [80] = "chdir",
	[81] = "fchdir", [82] = "rename", [83] = "mkdir", [84] = "rmdir", [85] = "creat", [86] = "link",
	[87] = "unlink", [88] = "symlink", [89] = "readlink", [90] = "chmod", [91] = "fchmod",
	[92] = "chown", [93] = "fchown", [94] = "lchown", [95] = "umask", [96] = "gettimeofday",
	[97] = "getrlimit", [98] = "getrusage", [99] = "sysinfo", [100] = "times", [101] = "ptrace",
	[102] = "getuid", [103] = "syslog", [104] = "getgid", [105] = "setuid", [106] = "setgid",
	[107] = "geteuid", [108] = "getegid", [109] = "setpgid", [110] = "getppid", [111] = "getpgrp",
	[112] = "setsid", [113] = "setreuid", [114] = "setregid", [115] = "getgroups",
	[116] = "setgroups", [117] = "setresuid", [118] = "getresuid", [119] = "setresgid",
	[120] = "getresgid", [121] = "getpgid", [122] = "setfsuid", [123] = "setfsgid", [124] = "getsid",
	[125] = "capget", [126] = "capset", [127] = "rt_sigpending", [128] = "rt_sigtimedwait",
	[129] = "rt_sigqueueinfo", [130] = "rt_sigsuspend", [131] = "sigaltstack", [132] = "utime",
	[133] = "mknod", [134] = "uselib", [135] = "personality", [136] = "ustat", [137] = "statfs",
	[138] = "fstatfs", [139] = "sysfs", [140] = "getpriority", [141] = "setpriority",
	[142] = "sched_setparam", [143] = "sched_getparam", [144] = "sched_setscheduler",
	[145] = "sched_getscheduler", [146] = "sched_get_priority_max", [147] = "sched_get_priority_min",
	[148] = "sched_rr_get_interval", [149] = "mlock", [150] = "munlock", [151] = "mlockall",
	[152] = "munlockall", [153] = "vhangup", [154] = "modify_ldt", [155] = "pivot_root",
	[156] = "_sysctl", [157] = "prctl", [158] = "arch_prctl", [159] = "adjtimex", [160] = "setrlimit",
	[161] = "chroot", [162] = "sync", [163] = "acct", [164] = "settimeofday", [165] = "mount",
	[166] = "umount2", [167] = "swapon", [168] = "swapoff", [169] = "reboot", [170] = "sethostname",
	[171] = "setdomainname", [172] = "iopl", [173] = "ioperm", [174] = "create_module",
	[175] = "init_module", [176] = "delete_module", [177] = "get_kernel_syms", [178] = "query_module",
	[179] = "quotactl", [180] = "nfsservctl", [181] = "getpmsg", [182] = "putpmsg",
	[183] = "afs_syscall", [184] = "tuxcall", [185] = "security", [186] = "gettid",
	[187] = "readahead", [188] = "setxattr", [189] = "lsetxattr", [190] = "fsetxattr",
	[191] = "getxattr", [192] = "lgetxattr", [193] = "fgetxattr", [194] = "listxattr",
	[195] = "llistxattr", [196] = "flistxattr", [197] = "removexattr", [198] = "lremovexattr",
	[199] = "fremovexattr", [200] = "tkill", [201] = "time", [202] = "futex",
	[203] = "sched_setaffinity", [204] = "sched_getaffinity", [205] = "set_thread_area",
	[206] = "io_setup", [207] = "io_destroy", [208] = "io_getevents", [209] = "io_submit",
	[210] = "io_cancel", [211] = "get_thread_area", [212] = "lookup_dcookie", [213] = "epoll_create",
	[214] = "epoll_ctl_old", [215] = "epoll_wait_old", [216] = "remap_file_pages",
	[217] = "getdents64", [218] = "set_tid_address", [219] = "restart_syscall", [220] = "semtimedop",
	[221] = "fadvise64", [222] = "timer_create", [223] = "timer_settime", [224] = "timer_gettime",
	[225] = "timer_getoverrun", [226] = "timer_delete", [227] = "clock_settime",
	[228] = "clock_gettime", [229] = "clock_getres", [230] = "clock_nanosleep", [231] = "exit_group",
	[232] = "epoll_wait", [233] = "epoll_ctl", [234] = "tgkill", [235] = "utimes", [236] = "vserver",
	[237] = "mbind", [238] = "set_mempolicy", [239] = "get_mempolicy", [240] = "mq_open",
	[241] = "mq_unlink", [242] = "mq_timedsend", [243] = "mq_timedreceive", [244] = "mq_notify",
	[245] = "mq_getsetattr", [246] = "kexec_load", [247] = "waitid", [248] = "add_key",
	[249] = "request_key", [250] = "keyctl", [251] = "ioprio_set", [252] = "ioprio_get",
	[253] = "inotify_init", [254] = "inotify_add_watch", [255] = "inotify_rm_watch",
	[256] = "migrate_pages", [257] = "openat", [258] = "mkdirat", [259] = "mknodat",
	[260] = "fchownat", [261] = "futimesat", [262] = "newfstatat", [263] = "unlinkat",
	[264] = "renameat", [265] = "linkat", [266] = "symlinkat", [267] = "readlinkat",
	[268] = "fchmodat", [269] = "faccessat", [270] = "pselect6", [271] = "ppoll", [272] = "unshare",
	[273] = "set_robust_list", [274] = "get_robust_list", [275] = "splice", [276] = "tee",
	[277] = "sync_file_range", [278] = "vmsplice", [279] = "move_pages", [280] = "utimensat",
	[281] = "epoll_pwait", [282] = "signalfd", [283] = "timerfd_create", [284] = "eventfd",
	[285] = "fallocate", [286] = "timerfd_settime", [287] = "timerfd_gettime", [288] = "accept4",
	[289] = "signalfd4", [290] = "eventfd2", [291] = "epoll_create1", [292] = "dup3", [293] = "pipe2",
	[294] = "inotify_init1", [295] = "preadv", [296] = "pwritev", [297] = "rt_tgsigqueueinfo",
	[298] = "perf_event_open", [299] = "recvmmsg", [300] = "fanotify_init", [301] = "fanotify_mark",
	[302] = "prlimit64", [303] = "name_to_handle_at", [304] = "open_by_handle_at",
	[305] = "clock_adjtime", [306] = "syncfs", [307] = "sendmmsg", [308] = "setns", [309] = "getcpu",
	[310] = "process_vm_readv", [311] = "process_vm_writev", [312] = "kcmp", [313] = "finit_module",
	[314] = "sched_setattr", [315] = "sched_getattr", [316] = "renameat2", [317] = "seccomp",
	[318] = "getrandom", [319] = "memfd_create", [320] = "kexec_file_load", [321] = "bpf",
	[322] = "execveat", [323] = "userfaultfd", [324] = "membarrier", [325] = "mlock2",
	[326] = "copy_file_range", [327] = "preadv2", [328] = "pwritev2", [329] = "pkey_mprotect",
	[330] = "pkey_alloc", [331] = "pkey_free", [332] = "statx", [333] = "io_pgetevents",
	[334] = "rseq", [424] = "pidfd_send_signal", [425] = "io_uring_setup", [426] = "io_uring_enter",
	[427] = "io_uring_register", [428] = "open_tree", [429] = "move_mount", [430] = "fsopen",
	[431] = "fsconfig", [432] = "fsmount", [433] = "fspick", [434] = "pidfd_open", [435] = "clone3",
	[436] = "close_range", [437] = "openat2", [438] = "pidfd_getfd", [439] = "faccessat2",
	[440] = "process_madvise", [441] = "epoll_pwait2", [442] = "mount_setattr", [443] = "quotactl_fd",
	[444] = "landlock_create_ruleset", [445] = "landlock_add_rule", [446] = "landlock_restrict_self",
	[447] = "memfd_secret", [448] = "process_mrelease", [449] = "futex_waitv",
	[450] = "set_mempolicy_home_node",
};

const char *thread_syscall_name(long nr)
{
	if (nr < 0 || (size_t)nr >= UTIL_ARRAY_LEN(syscall_names))
		return NULL;
	return syscall_names[nr];
}

int thread_stack_blocked(struct unwinder *u, const struct thread_fact *f, uint64_t *pcs, int max,
			 bool *truncated)
{
	if (!f->has_syscall || !f->sc.pc || !f->sc.sp)
		return 0;
	struct unwind_regs regs = { .valid = (1u << UNWIND_IP) | (1u << UNWIND_SP) };
	regs.r[UNWIND_IP] = f->sc.pc;
	regs.r[UNWIND_SP] = f->sc.sp;
	int n = unwinder_unwind(u, &regs, NULL, 0, f->sc.sp, pcs, max, truncated);
	return n > 0 ? n : 0;
}

/* ---- one thread, stopped alone ---- */

#define STOP_SPIN_NS 1000000ull /* poll for stops without sleeping this long */

/* A stopped thread: registers, stack, detach. */
static void stop_take(struct unwinder *u, struct thread_stop *t, int sig)
{
	uint64_t seen = util_now_ns();
	struct user_regs_struct ur;
	t->n = 0;
	if (ptrace(PTRACE_GETREGS, t->tid, 0, &ur) == 0) {
		tracee_regs_from_user(&ur, &t->regs);
		if (t->max > 0 && t->pcs) {
			int k = unwinder_unwind(u, &t->regs, NULL, 0, t->regs.r[UNWIND_SP], t->pcs,
						t->max, &t->truncated);
			t->n = k > 0 ? k : 0;
		}
	} else {
		t->n = -1;
		t->err = errno;
	}
	ptrace(PTRACE_DETACH, t->tid, 0, (void *)(intptr_t)sig);
	uint64_t now = util_now_ns();
	t->stopped_ns = now - t->stopped_ns;
	t->held_ns = now - seen;
}

void thread_stacks_stop(struct unwinder *u, struct thread_stop *v, size_t n, uint64_t limit_ns)
{
	tracee_pending_flush();
	size_t pending = 0;
	for (size_t i = 0; i < n; i++) {
		struct thread_stop *t = &v[i];
		t->n = -1;
		t->err = 0;
		t->truncated = false;
		t->stopped_ns = t->held_ns = 0;
		memset(&t->regs, 0, sizeof t->regs);
		if (ptrace(PTRACE_SEIZE, t->tid, 0, 0) < 0) {
			t->err = errno;
			continue;
		}
		if (ptrace(PTRACE_INTERRUPT, t->tid, 0, 0) < 0) {
			/* Seized but exiting: its exit status is reaped when it comes. */
			t->err = ESRCH;
			tracee_pending_add(t->tid);
			continue;
		}
		t->err = EINPROGRESS;
		t->stopped_ns = util_now_ns(); /* until stop_take() */
		pending++;
	}
	uint64_t deadline = util_now_ns() + limit_ns;
	uint64_t spin_until = util_now_ns() + STOP_SPIN_NS;
	/* limit_ns 0: give up before looking, so every stop comes late (tests). */
	while (pending && limit_ns) {
		for (size_t i = 0; i < n; i++) {
			struct thread_stop *t = &v[i];
			if (t->err != EINPROGRESS)
				continue;
			int status;
			pid_t w = waitpid(t->tid, &status, __WALL | WNOHANG);
			if (w == 0 || (w < 0 && errno == EINTR))
				continue;
			if (w < 0 || WIFEXITED(status) || WIFSIGNALED(status)) {
				t->err = ESRCH;
				t->stopped_ns = 0;
				pending--;
				continue;
			}
			if (!WIFSTOPPED(status))
				continue;
			if ((status >> 16) == PTRACE_EVENT_STOP) {
				/* Our interrupt, or a group stop: either way it is stopped now. */
				t->err = 0;
				stop_take(u, t, 0);
				pending--;
				continue;
			}
			/* A signal on its way: deliver it; our interrupt stays pending. */
			if (ptrace(PTRACE_CONT, t->tid, 0, (void *)(intptr_t)WSTOPSIG(status)) < 0) {
				t->err = 0;
				stop_take(u, t, WSTOPSIG(status));
				pending--;
			}
		}
		if (!pending)
			break;
		if (util_now_ns() > deadline)
			break;
		/* A running thread stops within microseconds once it has a CPU: poll without
		 * sleeping for a moment (each of our sleeps could cost it a scheduler latency of
		 * stop on a loaded machine), then gently. */
		if (util_now_ns() > spin_until) {
			struct timespec ts = { 0, 20000 };
			nanosleep(&ts, NULL);
		}
	}
	/* Given up: the stop may still come; it is released then (tracee_pending_flush). */
	for (size_t i = 0; i < n; i++) {
		if (v[i].err != EINPROGRESS)
			continue;
		v[i].err = ETIMEDOUT;
		v[i].stopped_ns = 0;
		tracee_pending_add(v[i].tid);
	}
}
