/*
 * ptrace backend: PTRACE_SEIZE every thread (no SIGSTOP, nothing visible to the target), and at
 * each tick PTRACE_INTERRUPT the threads that are running, read their registers, unwind their
 * stacks from live memory (process_vm_readv, in bulk) and PTRACE_CONT them: a stop of a few tens
 * of microseconds per sample.  Signals the target receives while traced are passed on at once;
 * a group stop (SIGSTOP from someone else) is kept with PTRACE_LISTEN.  PTRACE_O_EXITKILL is
 * never set, so if proftop dies the kernel detaches and the threads run on.
 */
#include "sampler.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/ptrace.h>
#include <sys/signalfd.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "procfs.h"
#include "tracee.h"
#include "util.h"

#define DETACH_WAIT_NS 200000000ull /* and for the stop needed to detach after 200 ms */

enum pt_state {
	PT_RUNNING,
	PT_INTERRUPTED, /* PTRACE_INTERRUPT sent, stop not yet seen */
	PT_LISTENING,   /* in a group stop, kept with PTRACE_LISTEN */
};

struct pt_thread {
	pid_t tid;
	enum pt_state state;
	bool want_sample;
	bool gone;
	bool seen;           /* runtime below has been read once */
	uint64_t runtime_ns; /* CPU time at the last tick (schedstat) */
	uint64_t credit_ns;  /* CPU time run since its last sample */
	uint64_t weight_ns;  /* what the pending sample stands for */
};

struct pt_priv {
	struct pt_thread *t; /* sorted by tid */
	size_t n, cap;
	int chld_fd;         /* signalfd of SIGCHLD: wakes us the moment a tracee stops */
	uint64_t tick_ns;
	struct sample smp;
};

static struct pt_thread *pt_find(struct pt_priv *p, pid_t tid)
{
	size_t lo = util_lower_i32(p->t, p->n, UTIL_FIELD(p->t, tid), tid);
	return lo < p->n && p->t[lo].tid == tid ? &p->t[lo] : NULL;
}

/* Seize tid and insert it at index at; -1 with errno on refusal. */
static int pt_seize(struct pt_priv *p, pid_t tid, size_t at)
{
	if (ptrace(PTRACE_SEIZE, tid, 0, 0) < 0)
		return -1;
	util_grow((void **)&p->t, &p->cap, p->n + 1, sizeof *p->t);
	memmove(&p->t[at + 1], &p->t[at], (p->n - at) * sizeof *p->t);
	p->t[at] = (struct pt_thread){ .tid = tid, .state = PT_RUNNING };
	p->n++;
	return 0;
}

static void pt_remove_gone(struct pt_priv *p)
{
	size_t j = 0;
	for (size_t i = 0; i < p->n; i++)
		if (!p->t[i].gone)
			p->t[j++] = p->t[i];
	p->n = j;
}

static void pt_take_sample(struct sampler *s, struct pt_priv *p, struct pt_thread *t)
{
	struct user_regs_struct ur;
	if (ptrace(PTRACE_GETREGS, t->tid, 0, &ur) < 0)
		return;
	struct unwind_regs regs;
	tracee_regs_from_user(&ur, &regs);
	struct sample *smp = &p->smp;
	smp->tid = t->tid;
	smp->flags = 0;
	smp->time_ns = util_now_ns();
	smp->weight_ns = t->weight_ns;
	if (sampler_unwind_live(s, &regs, smp) > 0)
		sampler_emit(s, smp);
	else
		s->stats.lost++;
}

/* React to one wait status of a traced thread: sample, resume, pass a signal on, or forget it. */
static void pt_handle_status(struct sampler *s, struct pt_priv *p, struct pt_thread *t, int status)
{
	if (WIFEXITED(status) || WIFSIGNALED(status)) {
		t->gone = true;
		if (t->tid == s->cfg.pid) {
			s->gone = true;
			s->exit_status = status;
		}
		return;
	}
	if (!WIFSTOPPED(status))
		return;
	int sig = WSTOPSIG(status);
	int event = status >> 16;
	if (event == PTRACE_EVENT_STOP) {
		if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU) {
			/* A group stop ordered by someone else: keep the thread stopped, as it would be
			 * without us, and get notified when it continues. */
			ptrace(PTRACE_LISTEN, t->tid, 0, 0);
			t->state = PT_LISTENING;
			return;
		}
		if (t->want_sample && t->state == PT_INTERRUPTED)
			pt_take_sample(s, p, t);
		t->want_sample = false;
		t->state = PT_RUNNING;
		if (ptrace(PTRACE_CONT, t->tid, 0, 0) < 0 && errno == ESRCH)
			t->gone = true;
		return;
	}
	/* Signal-delivery stop: deliver the signal as if we were not there.  An interrupt we sent
	 * stays pending and is reported afterwards. */
	if (ptrace(PTRACE_CONT, t->tid, 0, (void *)(intptr_t)(event ? 0 : sig)) < 0 && errno == ESRCH)
		t->gone = true;
}

/* Collect pending wait statuses without blocking. */
static void pt_reap(struct sampler *s, struct pt_priv *p)
{
	for (;;) {
		int status;
		pid_t tid = waitpid(-1, &status, __WALL | WNOHANG);
		if (tid <= 0)
			break;
		struct pt_thread *t = pt_find(p, tid);
		if (t) {
			pt_handle_status(s, p, t, status);
		} else if (tid == s->cfg.pid && (WIFEXITED(status) || WIFSIGNALED(status))) {
			s->gone = true;
			s->exit_status = status;
		} else {
			/* Not one of ours: a late stop of a thread another part of proftop stopped
			 * alone (threads, Go reader).  waitpid(-1) took it, so release it here. */
			tracee_release(tid, status);
		}
	}
}

static int pt_open(struct sampler *s, const pid_t *tids, int n, char **cause)
{
	struct pt_priv *p = xcalloc(1, sizeof *p);
	s->priv = p;
	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	p->chld_fd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
	for (int i = 0; i < n; i++) {
		if (pt_seize(p, tids[i], p->n) == 0 || errno == ESRCH)
			continue;
		int e = errno;
		*cause = xasprintf("cannot trace pid %d: %s", (int)s->cfg.pid,
				   e == EPERM || e == EACCES ? proc_access_hint(e) : strerror(e));
		s->ops->close(s);
		errno = e;
		return -1;
	}
	if (p->n == 0) {
		*cause = xasprintf("no such process %d", (int)s->cfg.pid);
		s->ops->close(s);
		errno = ESRCH;
		return -1;
	}
	return 0;
}

static void pt_sync(struct sampler *s, const pid_t *tids, int n)
{
	struct pt_priv *p = s->priv;
	pt_reap(s, p);
	size_t i = 0;
	int j = 0;
	while (j < n) {
		if (i < p->n && p->t[i].tid < tids[j]) {
			i++; /* not listed: exited; its exit status removes it */
		} else if (i < p->n && p->t[i].tid == tids[j]) {
			i++;
			j++;
		} else {
			if (pt_seize(p, tids[j], i) == 0)
				i++;
			j++;
		}
	}
	/* Threads that vanished without a status we saw (reaped elsewhere): forget them. */
	for (size_t k = 0; k < p->n; k++) {
		char path[64];
		snprintf(path, sizeof path, "/proc/%d/task/%d", (int)s->cfg.pid, (int)p->t[k].tid);
		if (access(path, F_OK) < 0)
			p->t[k].gone = true;
	}
	pt_remove_gone(p);
}

/*
 * Which threads to sample: like perf's cpu-clock, one sample per period of CPU time.  Each tick
 * adds the CPU time a thread ran since the last tick (schedstat) to its credit; a thread with a
 * period's worth is interrupted and sampled.  A runnable thread waiting for a CPU earns nothing,
 * so contention does not inflate it (the scheduler state 'R' alone would).
 */
static void pt_tick(struct sampler *s, uint64_t now_ns, const pid_t *tids, const char *states,
		    int n)
{
	(void)tids;
	(void)states;
	(void)n;
	struct pt_priv *p = s->priv;
	uint64_t period = 1000000000ull / (uint64_t)s->cfg.rate_hz;
	p->tick_ns = now_ns;
	pt_reap(s, p);
	for (size_t i = 0; i < p->n; i++) {
		struct pt_thread *t = &p->t[i];
		uint64_t rt;
		if (t->gone || proc_task_runtime_ns(s->cfg.pid, t->tid, &rt) < 0)
			continue;
		if (t->seen && rt > t->runtime_ns)
			t->credit_ns += rt - t->runtime_ns;
		t->seen = true;
		t->runtime_ns = rt;
		if (t->state != PT_RUNNING || t->credit_ns < period)
			continue;
		if (ptrace(PTRACE_INTERRUPT, t->tid, 0, 0) < 0) {
			if (errno == ESRCH)
				t->gone = true;
			continue;
		}
		t->state = PT_INTERRUPTED;
		t->want_sample = true;
		/* One period per sample; what is left over is paid by the next ticks, so a loop that
		 * was late (proftop starved of CPU) catches up.  A backlog beyond a quarter of a
		 * second (or 8 periods at low rates) is dropped and counted as lost. */
		t->weight_ns = period;
		t->credit_ns -= period;
		uint64_t cap = 8 * period > 250000000ull ? 8 * period : 250000000ull;
		if (t->credit_ns > cap) {
			s->stats.lost += (t->credit_ns - cap) / period;
			t->credit_ns = cap;
		}
	}
	/* The stops arrive as SIGCHLD on chld_fd, which the event loop polls: samples are taken
	 * in drain() the moment each thread stops, so a thread waiting for a CPU does not hold
	 * up the loop or the other threads' samples. */
	pt_remove_gone(p);
}

static int pt_pollfds(struct sampler *s, struct pollfd *fds, int max)
{
	struct pt_priv *p = s->priv;
	if (p->chld_fd < 0 || max < 1)
		return 0;
	fds[0] = (struct pollfd){ .fd = p->chld_fd, .events = POLLIN };
	return 1;
}

static int pt_drain(struct sampler *s, sampler_sample_fn fn, void *arg)
{
	(void)fn;
	(void)arg;
	struct pt_priv *p = s->priv;
	struct signalfd_siginfo si;
	while (p->chld_fd >= 0 && read(p->chld_fd, &si, sizeof si) == (ssize_t)sizeof si)
		;
	/* Take the samples of threads that stopped, keep the others moving (signals, stops).
	 * Samples go to the queue, which sampler_drain() delivers next time round. */
	pt_reap(s, p);
	return 0;
}

static void pt_close(struct sampler *s)
{
	struct pt_priv *p = s->priv;
	if (!p)
		return;
	/* PTRACE_DETACH needs a stopped tracee: interrupt every running thread first. */
	pt_reap(s, p);
	for (size_t i = 0; i < p->n; i++) {
		struct pt_thread *t = &p->t[i];
		if (t->gone || t->state != PT_RUNNING)
			continue;
		t->want_sample = false;
		if (ptrace(PTRACE_INTERRUPT, t->tid, 0, 0) == 0)
			t->state = PT_INTERRUPTED;
		else
			t->gone = true;
	}
	uint64_t deadline = util_now_ns() + DETACH_WAIT_NS;
	size_t left;
	do {
		left = 0;
		for (size_t i = 0; i < p->n; i++) {
			struct pt_thread *t = &p->t[i];
			if (t->gone)
				continue;
			int status = 0, sig = 0;
			if (t->state == PT_INTERRUPTED) {
				pid_t r = waitpid(t->tid, &status, __WALL | WNOHANG);
				if (r == 0) {
					left++;
					continue;
				}
				if (r < 0 || WIFEXITED(status) || WIFSIGNALED(status)) {
					t->gone = true;
					continue;
				}
				if (WIFSTOPPED(status) && (status >> 16) == 0)
					sig = WSTOPSIG(status); /* a signal on its way: hand it back */
			}
			/* Stopped (interrupt, signal or group stop): detach, leaving it running (or
			 * group-stopped, as whoever stopped it wants). */
			ptrace(PTRACE_DETACH, t->tid, 0, (void *)(intptr_t)sig);
			t->gone = true;
		}
		if (left) {
			struct timespec ts = { 0, 50000 };
			nanosleep(&ts, NULL);
		}
	} while (left && util_now_ns() < deadline);
	/* Threads that never stopped are exiting; the kernel releases them when we exit. */
	if (p->chld_fd >= 0)
		close(p->chld_fd);
	free(p->t);
	free(p);
	s->priv = NULL;
}

const struct sampler_ops sampler_ptrace_ops = {
	.name = "ptrace",
	.open = pt_open,
	.sync = pt_sync,
	.pollfds = pt_pollfds,
	.polled = NULL,
	.tick = pt_tick,
	.drain = pt_drain,
	.set_rate = NULL,
	.close = pt_close,
};
