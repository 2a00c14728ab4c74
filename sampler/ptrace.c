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
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "procfs.h"
#include "util.h"

#define STOP_WAIT_NS 20000000ull    /* give up waiting for a sample stop after 20 ms */
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
};

struct pt_priv {
	struct pt_thread *t; /* sorted by tid */
	size_t n, cap;
	uint64_t tick_ns;
	struct sample smp;
};

static struct pt_thread *pt_find(struct pt_priv *p, pid_t tid)
{
	size_t lo = 0, hi = p->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (p->t[mid].tid < tid)
			lo = mid + 1;
		else
			hi = mid;
	}
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
	struct unwind_regs regs = { .valid = UNWIND_PERF_REGS_MASK };
	regs.r[UNWIND_AX] = ur.rax;
	regs.r[UNWIND_BX] = ur.rbx;
	regs.r[UNWIND_CX] = ur.rcx;
	regs.r[UNWIND_DX] = ur.rdx;
	regs.r[UNWIND_SI] = ur.rsi;
	regs.r[UNWIND_DI] = ur.rdi;
	regs.r[UNWIND_BP] = ur.rbp;
	regs.r[UNWIND_SP] = ur.rsp;
	regs.r[UNWIND_IP] = ur.rip;
	regs.r[UNWIND_FLAGS] = ur.eflags;
	regs.r[UNWIND_R8] = ur.r8;
	regs.r[UNWIND_R9] = ur.r9;
	regs.r[UNWIND_R10] = ur.r10;
	regs.r[UNWIND_R11] = ur.r11;
	regs.r[UNWIND_R12] = ur.r12;
	regs.r[UNWIND_R13] = ur.r13;
	regs.r[UNWIND_R14] = ur.r14;
	regs.r[UNWIND_R15] = ur.r15;
	struct sample *smp = &p->smp;
	smp->tid = t->tid;
	smp->flags = 0;
	smp->time_ns = util_now_ns();
	smp->weight_ns = 1000000000ull / (uint64_t)s->cfg.rate_hz;
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
		if (t->tid == s->cfg.pid)
			s->gone = true;
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
		if (t)
			pt_handle_status(s, p, t, status);
		else if (tid == s->cfg.pid && (WIFEXITED(status) || WIFSIGNALED(status)))
			s->gone = true;
	}
}

static bool pt_any_interrupted(const struct pt_priv *p)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->t[i].state == PT_INTERRUPTED && !p->t[i].gone)
			return true;
	return false;
}

/* Wait (polling, bounded) until every interrupted thread has stopped and been handled. */
static void pt_wait_stops(struct sampler *s, struct pt_priv *p, uint64_t limit_ns)
{
	uint64_t deadline = util_now_ns() + limit_ns;
	for (;;) {
		pt_reap(s, p);
		if (!pt_any_interrupted(p) || util_now_ns() > deadline)
			break;
		struct timespec ts = { 0, 20000 };
		nanosleep(&ts, NULL);
	}
}

static int pt_open(struct sampler *s, const pid_t *tids, int n, char **cause)
{
	struct pt_priv *p = xcalloc(1, sizeof *p);
	s->priv = p;
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

static void pt_tick(struct sampler *s, uint64_t now_ns, const pid_t *tids, const char *states,
		    int n)
{
	struct pt_priv *p = s->priv;
	p->tick_ns = now_ns;
	pt_reap(s, p);
	bool sent = false;
	for (int i = 0; i < n; i++) {
		if (states[i] != 'R')
			continue;
		struct pt_thread *t = pt_find(p, tids[i]);
		if (!t || t->state != PT_RUNNING)
			continue;
		if (ptrace(PTRACE_INTERRUPT, t->tid, 0, 0) < 0) {
			if (errno == ESRCH)
				t->gone = true;
			continue;
		}
		t->state = PT_INTERRUPTED;
		t->want_sample = true;
		sent = true;
	}
	if (sent)
		pt_wait_stops(s, p, STOP_WAIT_NS);
	pt_remove_gone(p);
}

static int pt_drain(struct sampler *s, sampler_sample_fn fn, void *arg)
{
	(void)fn;
	(void)arg;
	/* Samples were queued by tick; here only keep traced threads moving (signals, stops). */
	pt_reap(s, s->priv);
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
	free(p->t);
	free(p);
	s->priv = NULL;
}

const struct sampler_ops sampler_ptrace_ops = {
	.name = "ptrace",
	.open = pt_open,
	.sync = pt_sync,
	.pollfds = NULL,
	.polled = NULL,
	.tick = pt_tick,
	.drain = pt_drain,
	.set_rate = NULL,
	.close = pt_close,
};
