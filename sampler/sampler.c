/* sampler: backend selection, thread scans, the tick queue and idle (off-CPU) sampling. */
#include "sampler.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procfs.h"
#include "util.h"

#define SCAN_INTERVAL_NS 100000000ull /* rescan the thread list every 100 ms */

static void sampler_idle_tick(struct sampler *s, uint64_t now_ns);

/* Idle sampling remembers each blocked thread's last stack, keyed by what /proc says of it:
 * a thread still in the same syscall with the same arguments, sp and pc has the same stack. */
struct idle_entry {
	pid_t tid;
	struct proc_syscall sc;
	uint32_t nframes;
	uint32_t flags;
	uint64_t pc[SAMPLE_MAX_FRAMES];
};

struct idle_cache {
	struct idle_entry *v;
	size_t n, cap;
};

/*
 * List the target's threads into s->tids.  Returns -1 with errno when the target has exited (or,
 * at the first scan, cannot be listed).  When /proc cannot be read for another reason (EMFILE,
 * ENOMEM...) the last list stays and the next tick tries again.  A zombie leader (main called
 * pthread_exit while other threads run on) is left out: it has no stack, and can be neither
 * traced nor sampled.
 */
static int scan_threads(struct sampler *s)
{
	pid_t pid = s->cfg.pid;
	struct proc_task_stat leader = { .state = 0 };
	switch (proc_target_state(pid, &leader)) {
	case PROC_TARGET_EXITED:
		return -1;
	case PROC_TARGET_UNKNOWN:
		return s->tids ? 0 : -1;
	case PROC_TARGET_ALIVE:
	default:
		break;
	}
	pid_t *tids;
	int n = proc_list_tids(pid, &tids);
	if (n < 0)
		return errno == ENOENT || errno == ESRCH || !s->tids ? -1 : 0;
	if (leader.state == 'Z') {
		for (int i = 0; i < n; i++) {
			if (tids[i] == pid) {
				memmove(&tids[i], &tids[i + 1], (size_t)(n - i - 1) * sizeof *tids);
				n--;
				break;
			}
		}
	}
	if (n == 0) { /* the last thread exited between the two reads */
		free(tids);
		errno = ESRCH;
		return -1;
	}
	free(s->tids);
	s->tids = tids;
	s->ntids = n;
	s->states = xreallocarray(s->states, (size_t)n, 1);
	memset(s->states, 'R', (size_t)n);
	s->stats.threads = n;
	return 0;
}

struct sampler *sampler_open(const struct sampler_config *cfg, char **cause)
{
	if (proc_target_check(cfg->pid, "attach to", cause) < 0)
		return NULL;
	struct sampler *s = xcalloc(1, sizeof *s);
	s->cfg = *cfg;
	s->exit_status = -1;
	if (s->cfg.rate_hz <= 0)
		s->cfg.rate_hz = 99;
	if (scan_threads(s) < 0) {
		if (errno == ENOENT || errno == ESRCH)
			*cause = xasprintf("no such process %d", (int)cfg->pid);
		else
			*cause = xasprintf("cannot list the threads of pid %d: %s", (int)cfg->pid,
					   strerror(errno));
		free(s);
		return NULL;
	}
	/* Stacks are read through a thread that has memory (not a zombie leader). */
	pid_t mm = proc_target_mm_pid(cfg->pid);
	s->unw = unwinder_new(mm > 0 ? mm : cfg->pid);
	s->last_scan_ns = util_now_ns();

	if (cfg->mode != SAMPLER_PTRACE) {
		char *why = NULL;
		s->ops = &sampler_perf_ops;
		if (s->ops->open(s, s->tids, s->ntids, &why) == 0) {
			free(why);
			return s;
		}
		if (cfg->mode == SAMPLER_PERF || errno == ESRCH) {
			*cause = why;
			sampler_close(s);
			return NULL;
		}
		s->note = xasprintf("perf mode unavailable (%s); using ptrace", why);
		free(why);
	}
	s->ops = &sampler_ptrace_ops;
	if (s->ops->open(s, s->tids, s->ntids, cause) < 0) {
		s->ops = NULL;
		sampler_close(s);
		return NULL;
	}
	return s;
}

const char *sampler_name(const struct sampler *s)
{
	return s->ops->name;
}

const char *sampler_note(const struct sampler *s)
{
	return s->note;
}

int sampler_pollfds(struct sampler *s, struct pollfd *fds, int max)
{
	return s->ops->pollfds ? s->ops->pollfds(s, fds, max) : 0;
}

void sampler_polled(struct sampler *s, const struct pollfd *fds, int n)
{
	if (s->ops->polled)
		s->ops->polled(s, fds, n);
}

uint64_t sampler_interval_ns(struct sampler *s)
{
	if (s->ops->tick || s->cfg.idle)
		return 1000000000ull / (uint64_t)s->cfg.rate_hz;
	return SCAN_INTERVAL_NS;
}

/* Read every thread's scheduler state (for ptrace and idle sampling, which need it). */
static void read_states(struct sampler *s)
{
	for (int i = 0; i < s->ntids; i++) {
		struct proc_task_stat st;
		s->states[i] = proc_task_stat_read(s->cfg.pid, s->tids[i], &st) == 0 ? st.state : 'X';
	}
}

int sampler_tick(struct sampler *s, uint64_t now_ns)
{
	if (s->gone)
		return -1;
	if (now_ns - s->last_scan_ns >= SCAN_INTERVAL_NS) {
		s->last_scan_ns = now_ns;
		if (scan_threads(s) < 0) {
			s->gone = true;
			return -1;
		}
		s->ops->sync(s, s->tids, s->ntids);
	}
	if (!s->ops->tick && !s->cfg.idle)
		return 0;
	if (s->cfg.idle)
		read_states(s);
	if (s->ops->tick)
		s->ops->tick(s, now_ns, s->tids, s->states, s->ntids);
	if (s->cfg.idle)
		sampler_idle_tick(s, now_ns);
	s->last_tick_ns = now_ns;
	return 0;
}

void sampler_emit(struct sampler *s, const struct sample *smp)
{
	util_grow((void **)&s->queue, &s->capqueue, s->nqueue + 1, sizeof *s->queue);
	s->queue[s->nqueue++] = *smp;
}

int sampler_drain(struct sampler *s, sampler_sample_fn fn, void *arg)
{
	int n = s->ops->drain ? s->ops->drain(s, fn, arg) : 0;
	for (size_t i = 0; i < s->nqueue; i++, n++) {
		s->stats.samples++;
		if (s->queue[i].flags & SAMPLE_IDLE)
			s->stats.idle++;
		fn(arg, &s->queue[i]);
	}
	s->nqueue = 0;
	return n;
}

int sampler_set_rate(struct sampler *s, int hz)
{
	if (hz < 1)
		hz = 1;
	if (hz > 5000)
		hz = 5000;
	if (s->ops->set_rate && s->ops->set_rate(s, hz) < 0)
		return -1;
	s->cfg.rate_hz = hz;
	return 0;
}

const struct sampler_stats *sampler_stats(const struct sampler *s)
{
	return &s->stats;
}

void sampler_close(struct sampler *s)
{
	if (!s)
		return;
	if (s->ops && s->ops->close)
		s->ops->close(s);
	unwinder_free(s->unw);
	struct idle_cache *ic = s->idle_priv;
	if (ic)
		free(ic->v);
	free(ic);
	free(s->queue);
	free(s->tids);
	free(s->states);
	free(s->note);
	free(s);
}

int sampler_unwind_live(struct sampler *s, const struct unwind_regs *regs, struct sample *smp)
{
	bool truncated = false;
	int n = unwinder_unwind(s->unw, regs, NULL, 0, regs->r[UNWIND_SP], smp->pc,
				SAMPLE_MAX_FRAMES, &truncated);
	smp->nframes = n > 0 ? (uint32_t)n : 0;
	if (truncated)
		smp->flags |= SAMPLE_TRUNCATED;
	return n;
}

/* The cache entry of tid, created if missing; entries are kept sorted by tid. */
static struct idle_entry *idle_find(struct idle_cache *ic, pid_t tid)
{
	size_t i = util_lower_i32(ic->v, ic->n, UTIL_FIELD(ic->v, tid), tid);
	if (i < ic->n && ic->v[i].tid == tid)
		return &ic->v[i];
	util_grow((void **)&ic->v, &ic->cap, ic->n + 1, sizeof *ic->v);
	memmove(&ic->v[i + 1], &ic->v[i], (ic->n - i) * sizeof *ic->v);
	ic->n++;
	struct idle_entry *e = &ic->v[i];
	memset(e, 0, sizeof *e);
	e->tid = tid;
	e->sc.nr = -2; /* matches no record read from /proc */
	return e;
}

/* Drop cache entries of threads that no longer exist (tids is sorted). */
static void idle_prune(struct idle_cache *ic, const pid_t *tids, int n)
{
	size_t j = 0;
	for (size_t i = 0; i < ic->n; i++) {
		size_t k = util_lower_i32(tids, (size_t)n, sizeof *tids, 0, ic->v[i].tid);
		if (k < (size_t)n && tids[k] == ic->v[i].tid)
			ic->v[j++] = ic->v[i];
	}
	ic->n = j;
}

static bool same_syscall(const struct proc_syscall *a, const struct proc_syscall *b)
{
	return a->nr == b->nr && a->sp == b->sp && a->pc == b->pc &&
	       memcmp(a->args, b->args, sizeof a->args) == 0;
}

/*
 * Off-CPU samples: every thread not running gets one sample per tick, its stack unwound from
 * the sp/pc in /proc/PID/task/TID/syscall with live memory reads (the thread is not stopped).
 * A thread still blocked in the same call has the same stack, so the last one is reused.
 */
static void sampler_idle_tick(struct sampler *s, uint64_t now_ns)
{
	struct idle_cache *ic = s->idle_priv;
	if (!ic)
		s->idle_priv = ic = xcalloc(1, sizeof *ic);
	idle_prune(ic, s->tids, s->ntids);
	uint64_t weight = s->last_tick_ns && now_ns > s->last_tick_ns
				  ? now_ns - s->last_tick_ns
				  : 1000000000ull / (uint64_t)s->cfg.rate_hz;
	for (int i = 0; i < s->ntids; i++) {
		char st = s->states[i];
		if (st == 'R' || st == 'X' || st == 'Z')
			continue;
		struct proc_syscall sc;
		if (proc_task_syscall_read(s->cfg.pid, s->tids[i], &sc) < 0 || sc.running)
			continue;
		struct idle_entry *e = idle_find(ic, s->tids[i]);
		if (!same_syscall(&e->sc, &sc) || e->nframes == 0) {
			struct unwind_regs regs = { .valid = (1u << UNWIND_IP) | (1u << UNWIND_SP) };
			regs.r[UNWIND_IP] = sc.pc;
			regs.r[UNWIND_SP] = sc.sp;
			struct sample tmp = { .tid = s->tids[i] };
			sampler_unwind_live(s, &regs, &tmp);
			e->sc = sc;
			e->nframes = tmp.nframes;
			e->flags = tmp.flags;
			memcpy(e->pc, tmp.pc, tmp.nframes * sizeof tmp.pc[0]);
		}
		if (e->nframes == 0)
			continue;
		struct sample smp = {
			.tid = s->tids[i],
			.flags = SAMPLE_IDLE | e->flags,
			.time_ns = now_ns,
			.weight_ns = weight,
			.nframes = e->nframes,
		};
		memcpy(smp.pc, e->pc, e->nframes * sizeof e->pc[0]);
		sampler_emit(s, &smp);
	}
}
