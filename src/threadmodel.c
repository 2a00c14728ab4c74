/* threadmodel: per-thread rows, stacks and waits across observations (see threadmodel.h). */
#include "threadmodel.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>

#define STOP_LIMIT_NS 2000000000ull /* give a running thread 2 s to stop (loaded machines) */

/* How long a running thread gets to stop.  PROFTOP_TEST_STOP_LIMIT_MS shortens it so tests can
 * make every stop come late (tests/t_late_stop.sh); it is not a user setting. */
static uint64_t stop_limit_ns(void)
{
	static uint64_t limit;
	static bool known;
	if (!known) {
		const char *e = getenv("PROFTOP_TEST_STOP_LIMIT_MS");
		char *end;
		unsigned long ms = e ? strtoul(e, &end, 10) : 0;
		limit = e && *e && !*end && ms < 2000 ? ms * 1000000ull : STOP_LIMIT_NS;
		known = true;
	}
	return limit;
}
#define DECODE_FRAMES 16           /* names of the innermost frames given to the decoder */
#define PARKED_STACK_WORDS 64      /* stack words searched for a parked thread's mutex */
#define PARK_AGAIN_NS 100000000ull /* wait for a parked thread to sleep again after a stop */

/* What the model remembers of a thread from one observation to the next. */
struct tm_thread {
	pid_t tid;
	/* time in state: the state letter and, blocked, the call */
	char state;
	long nr;
	uint64_t arg0;
	uint64_t state_since_ns;
	/* CPU% */
	uint64_t ticks, ticks_ns;
	bool have_ticks;
	double cpu_pct;
	/* stack */
	bool stack_valid;      /* pcs hold a stack */
	bool stack_from_stop;  /* taken by a ptrace stop (running) */
	bool stack_stale;
	struct proc_syscall sc; /* the call it was taken in (blocked) */
	uint64_t switches;
	uint64_t pcs[THREADMODEL_MAX_FRAMES];
	uint32_t npcs;
	bool truncated;
	const char *note;
	/* a parked thread's mutex, found once from its registers */
	bool parked_valid;
	bool parked_tried;       /* registers read once already, in this same call */
	struct lock_wait parked;
	int64_t parked_since_ns; /* when it last ran before our stop, -1 unknown */
};

struct threadmodel {
	pid_t pid;
	struct symbols *sym;
	struct unwinder *unw;
	struct threadmodel_config cfg;
	struct thread_reader *reader;
	struct thread_scan scan;
	struct tm_thread *th; /* parallel to scan.v */
	size_t capth;
	struct tm_thread *oldth;
	size_t capold;
	struct thread_row *rows;   /* parallel to scan.v */
	struct thread_row **order; /* the sorted view */
	size_t caprows;
	struct locks *locks;
	char glibc[32];
	bool has_glibc;
	uint32_t nobs;
	uint64_t first_ns, last_ns;
	enum threadmodel_sort sort_key;
	bool sort_desc;
	struct threadmodel_stats stats;
};

/* ---- the decoder's view of the target ---- */

static ssize_t tgt_read(void *arg, uint64_t addr, void *buf, size_t len)
{
	struct threadmodel *m = arg;
	return proc_mem_read(m->pid, addr, buf, len);
}

static bool tgt_alive(void *arg, pid_t tid)
{
	struct threadmodel *m = arg;
	const struct thread_fact *f = thread_scan_find(&m->scan, tid);
	return f && f->state != 'Z' && f->state != 'X';
}

static const char *tgt_symbol(void *arg, uint64_t addr, uint64_t *off)
{
	struct threadmodel *m = arg;
	return m->sym ? symbols_symbol_at(m->sym, addr, off) : NULL;
}

/* ---- life cycle ---- */

struct threadmodel *threadmodel_new(pid_t pid, struct symbols *sym, struct unwinder *unw,
				    const struct threadmodel_config *cfg, char **cause)
{
	struct threadmodel *m = xcalloc(1, sizeof *m);
	m->pid = pid;
	m->sym = sym;
	m->unw = unw;
	if (cfg)
		m->cfg = *cfg;
	if (m->cfg.long_wait_s <= 0)
		m->cfg.long_wait_s = 5;
	m->reader = thread_reader_new(pid, cause);
	if (!m->reader) {
		free(m);
		return NULL;
	}
	struct locks_config lc = { .long_wait_s = m->cfg.long_wait_s };
	m->locks = locks_new(&lc);
	m->has_glibc = thread_libc_version(pid, m->glibc, sizeof m->glibc) >= 0;
	return m;
}

void threadmodel_free(struct threadmodel *m)
{
	if (!m)
		return;
	thread_reader_free(m->reader);
	thread_scan_done(&m->scan);
	locks_free(m->locks);
	free(m->th);
	free(m->oldth);
	free(m->rows);
	free(m->order);
	free(m);
}

/* ---- one thread ---- */

static bool same_call(const struct proc_syscall *a, const struct proc_syscall *b)
{
	return a->nr == b->nr && a->sp == b->sp && a->pc == b->pc &&
	       memcmp(a->args, b->args, sizeof a->args) == 0;
}

static bool is_running(const struct thread_fact *f)
{
	return f->state == 'R' || (!f->has_syscall && f->state != 'Z' && f->state != 'X');
}

/* Keep the result of a stop of a running thread. */
static void stack_from_stop(struct threadmodel *m, struct tm_thread *t, const struct thread_stop *st)
{
	if (st->n < 0) {
		m->stats.stop_failures++;
		t->stack_valid = false;
		t->npcs = 0;
		t->note = st->err == EPERM	 ? "no stack: the thread is already traced (a debugger?)"
			  : st->err == ETIMEDOUT ? "no stack: the thread did not stop in time"
						 : "no stack: the thread exited";
		return;
	}
	t->npcs = (uint32_t)st->n;
	t->truncated = st->truncated;
	t->stack_valid = st->n > 0;
	t->stack_from_stop = true;
	t->stack_stale = false;
	t->parked_valid = t->parked_tried = false;
	t->note = st->n > 0 ? NULL : "no stack: unwinding failed";
}

/* Stop the running threads idx[0..n) (each alone, all at once) for their stacks. */
static void stacks_by_stop(struct threadmodel *m, const size_t *idx, size_t n)
{
	if (!n)
		return;
	uint64_t t0 = util_now_ns();
	struct thread_stop *v = xcalloc(n, sizeof *v);
	for (size_t k = 0; k < n; k++) {
		struct tm_thread *t = &m->th[idx[k]];
		v[k].tid = t->tid;
		v[k].pcs = t->pcs;
		v[k].max = m->cfg.no_stacks ? 0 : THREADMODEL_MAX_FRAMES;
	}
	thread_stacks_stop(m->unw, v, n, stop_limit_ns());
	for (size_t k = 0; k < n; k++) {
		stack_from_stop(m, &m->th[idx[k]], &v[k]);
		m->stats.stopped_ns_total += v[k].stopped_ns;
		if (v[k].stopped_ns > m->stats.stopped_ns_max)
			m->stats.stopped_ns_max = v[k].stopped_ns;
		if (v[k].held_ns > m->stats.held_ns_max)
			m->stats.held_ns_max = v[k].held_ns;
	}
	m->stats.stops += n;
	m->stats.stack_ns += util_now_ns() - t0;
	free(v);
}

/* Unwind a blocked thread from its syscall registers, unless its last stack still holds. */
static void stack_blocked(struct threadmodel *m, struct tm_thread *t, const struct thread_fact *f)
{
	if (t->stack_valid && !t->stack_from_stop && same_call(&t->sc, &f->sc) &&
	    (t->switches == f->switches || f->switches == UINT64_MAX)) {
		m->stats.unwinds_reused++;
		return;
	}
	uint64_t t0 = util_now_ns();
	bool trunc = false;
	int n = thread_stack_blocked(m->unw, f, t->pcs, THREADMODEL_MAX_FRAMES, &trunc);
	m->stats.unwinds++;
	m->stats.stack_ns += util_now_ns() - t0;
	t->sc = f->sc;
	t->switches = f->switches;
	t->npcs = (uint32_t)n;
	t->truncated = trunc;
	t->stack_valid = n > 0;
	t->stack_from_stop = false;
	t->stack_stale = false;
	t->parked_valid = t->parked_tried = false;
	t->note = n > 0 ? NULL : "no stack: unwinding failed";
}

/* Function names of the innermost frames, inline frames included. */
static int frame_names(struct threadmodel *m, const struct tm_thread *t, const char **names,
		       int max)
{
	int k = 0;
	for (uint32_t i = 0; i < t->npcs && k < max; i++) {
		const struct sym_loc *loc = symbols_lookup(m->sym, i ? t->pcs[i] - 1 : t->pcs[i]);
		for (uint32_t j = 0; j < loc->nlines && k < max; j++) {
			const struct sym_func *fn = symbols_func(m->sym, loc->lines[j].func);
			names[k++] = fn ? fn->name : NULL;
		}
	}
	return k;
}

/* What a thread blocked in futex() waits on. */
static void decode_wait(struct threadmodel *m, struct tm_thread *t, const struct thread_fact *f,
			struct lock_wait *w, uint64_t *switches)
{
	struct locks_target tg = {
		.arg = m,
		.read = tgt_read,
		.alive = tgt_alive,
		.symbol = tgt_symbol,
		.glibc = m->has_glibc ? m->glibc : NULL,
	};
	const char *names[DECODE_FRAMES];
	int n = m->sym ? frame_names(m, t, names, DECODE_FRAMES) : 0;
	m->stats.decodes++;
	locks_decode(&tg, f->tid, &f->sc, names, n, w);
	if (lock_wait_has_owner(w) && f->switches != UINT64_MAX &&
	    thread_switches(m->pid, f->tid) != f->switches) {
		/* It ran while we read its lock: what we read may be its next state, not this wait
		 * (a waiter that just took the lock would look like it waits on itself). */
		w->flags |= LOCK_F_WAKING;
	}
	if (!locks_needs_registers(w))
		return;
	if (t->parked_valid) {
		/* Parked forever in the same call: the mutex found before; read its owner again. */
		uint64_t word = t->parked.addr;
		struct lock_wait again = *w;
		if (locks_decode_parked(&tg, f->tid, &word, 1, &again)) {
			*w = again;
			return;
		}
	}
	if (t->parked_tried)
		return; /* not found in its registers: the kernel's refusal is all there is */
	/* Its mutex is in a register or a stack word: stop this thread alone to read them. */
	t->parked_tried = true;
	struct unwind_regs regs;
	memset(&regs, 0, sizeof regs);
	m->stats.stops++;
	struct thread_stop st = { .tid = f->tid };
	thread_stacks_stop(m->unw, &st, 1, stop_limit_ns());
	m->stats.stopped_ns_total += st.stopped_ns;
	if (st.stopped_ns > m->stats.stopped_ns_max)
		m->stats.stopped_ns_max = st.stopped_ns;
	if (st.held_ns > m->stats.held_ns_max)
		m->stats.held_ns_max = st.held_ns;
	regs = st.regs;
	int rc = st.n;
	/* The stop made it run: let it park again (bounded), and keep counting the wait from when
	 * it last ran before. */
	uint64_t until = util_now_ns() + PARK_AGAIN_NS;
	struct proc_syscall sc;
	while (util_now_ns() < until &&
	       (proc_task_syscall_read(m->pid, f->tid, &sc) < 0 || !same_call(&sc, &f->sc))) {
		struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL);
	}
	*switches = t->switches = thread_switches(m->pid, f->tid);
	if (rc < 0) {
		m->stats.stop_failures++;
		return;
	}
	uint64_t words[UNWIND_NREGS + PARKED_STACK_WORDS];
	size_t nw = 0;
	for (int r = 0; r < UNWIND_NREGS; r++)
		if (regs.valid & (1ull << r))
			words[nw++] = regs.r[r];
	uint64_t stack[PARKED_STACK_WORDS];
	ssize_t got = proc_mem_read(m->pid, f->sc.sp, stack, sizeof stack);
	for (ssize_t i = 0; got > 0 && i < got / 8; i++)
		words[nw++] = stack[i];
	if (locks_decode_parked(&tg, f->tid, words, nw, w)) {
		t->parked = *w;
		t->parked_valid = true;
		t->parked_since_ns = f->off_cpu_ns >= 0 ? (int64_t)m->scan.time_ns - f->off_cpu_ns : -1;
	}
}

/* ---- refresh ---- */

static struct tm_thread *old_find(struct tm_thread *v, size_t n, pid_t tid)
{
	size_t lo = util_lower_i32(v, n, UTIL_FIELD(v, tid), tid);
	return lo < n && v[lo].tid == tid ? &v[lo] : NULL;
}

static void rows_build(struct threadmodel *m);

int threadmodel_refresh(struct threadmodel *m, unsigned flags)
{
	uint64_t t0 = util_now_ns();
	/* Keep the previous threads' memory aside, read the new facts. */
	struct tm_thread *tmp = m->oldth;
	size_t tcap = m->capold;
	m->oldth = m->th;
	m->capold = m->capth;
	m->th = tmp;
	m->capth = tcap;
	size_t nold = m->scan.n;
	if (thread_reader_scan(m->reader, &m->scan) < 0) {
		m->scan.n = 0;
		errno = ESRCH;
		return -1;
	}
	m->stats.scan_ns += util_now_ns() - t0;
	const uint64_t now = m->scan.time_ns;
	const size_t n = m->scan.n;
	util_grow((void **)&m->th, &m->capth, n, sizeof *m->th);
	size_t *stop = xcalloc(n ? n : 1, sizeof *stop);
	size_t nstop = 0;
	for (size_t i = 0; i < n; i++) {
		const struct thread_fact *f = &m->scan.v[i];
		struct tm_thread *t = &m->th[i];
		struct tm_thread *o = old_find(m->oldth, nold, f->tid);
		if (o) {
			*t = *o;
		} else {
			memset(t, 0, sizeof *t);
			t->tid = f->tid;
			t->state_since_ns = now;
			t->cpu_pct = -1;
		}
		/* CPU% over the interval since the last observation. */
		if (t->have_ticks && now > t->ticks_ns && f->cpu_ticks >= t->ticks) {
			double secs = (double)(now - t->ticks_ns) / 1e9;
			t->cpu_pct = 100.0 * (double)(f->cpu_ticks - t->ticks) / (double)proc_clk_tck() /
				     secs;
		}
		t->ticks = f->cpu_ticks;
		t->ticks_ns = now;
		t->have_ticks = true;
		/* Time in state: a new state, or another call, starts it again. */
		long nr = f->has_syscall ? f->sc.nr : -2;
		uint64_t arg0 = f->has_syscall ? f->sc.args[0] : 0;
		if (!o || t->state != f->state || t->nr != nr || t->arg0 != arg0) {
			t->state = f->state;
			t->nr = nr;
			t->arg0 = arg0;
			t->state_since_ns = now;
		}
		/* Stacks of running threads: all stopped together below, each alone. */
		if (f->has_syscall || !is_running(f))
			continue;
		if (t->stack_valid && t->stack_from_stop && !(flags & THREADMODEL_RESTOP)) {
			t->stack_stale = true;
		} else if (flags & (THREADMODEL_STOP_RUNNING | THREADMODEL_RESTOP)) {
			stop[nstop++] = i;
		} else {
			t->stack_valid = false;
			t->npcs = 0;
			t->note = "running: its stack is taken by a brief stop of the thread";
		}
	}
	locks_begin(m->locks, now);
	for (size_t i = 0; i < n; i++) {
		const struct thread_fact *f = &m->scan.v[i];
		struct tm_thread *t = &m->th[i];
		bool futex = f->has_syscall && f->sc.nr == SYS_futex;
		if (f->has_syscall) {
			if (!m->cfg.no_stacks || futex)
				stack_blocked(m, t, f);
		} else if (!is_running(f)) {
			t->stack_valid = false;
			t->npcs = 0;
			t->note = f->state == 'Z' ? "zombie: no stack" : "no stack";
		}
		/* Wait. */
		struct lock_wait w;
		memset(&w, 0, sizeof w);
		w.kind = LOCK_NONE;
		uint64_t switches = f->switches;
		int64_t waited = f->off_cpu_ns;
		if (futex)
			decode_wait(m, t, f, &w, &switches);
		if ((w.flags & LOCK_F_EDEADLK) && t->parked_valid) {
			/* Parked for good by glibc: our own stops make it run; they do not end it. */
			switches = UINT64_MAX;
			if (t->parked_since_ns >= 0)
				waited = (int64_t)now - t->parked_since_ns;
		}
		locks_add(m->locks, f->tid, &w, switches, waited);
	}
	/* Running threads last: the blocked ones have warmed the unwinder's module caches, so each
	 * stop lasts one unwind and nothing else. */
	stacks_by_stop(m, stop, nstop);
	free(stop);
	locks_end(m->locks);
	m->nobs++;
	if (m->nobs == 1)
		m->first_ns = now;
	m->last_ns = now;
	rows_build(m);
	return 0;
}

static void rows_build(struct threadmodel *m)
{
	size_t n = m->scan.n;
	util_grow((void **)&m->rows, &m->caprows, n ? n : 1, sizeof *m->rows);
	m->order = xreallocarray(m->order, n ? n : 1, sizeof *m->order);
	static const struct lock_thread none = { .deadlock = -1, .behind = -1 };
	for (size_t i = 0; i < n; i++) {
		const struct thread_fact *f = &m->scan.v[i];
		const struct tm_thread *t = &m->th[i];
		struct thread_row *r = &m->rows[i];
		memset(r, 0, sizeof *r);
		r->fact = f;
		r->state_word = thread_state_word(f->state);
		r->cpu_pct = t->cpu_pct;
		if (t->parked_valid && t->parked_since_ns >= 0 && f->has_syscall) {
			r->state_s = (double)((int64_t)m->last_ns - t->parked_since_ns) / 1e9;
			r->state_s_kernel = true;
		} else if (f->has_syscall && f->off_cpu_ns >= 0) {
			r->state_s = (double)f->off_cpu_ns / 1e9;
			r->state_s_kernel = true;
		} else {
			r->state_s = (double)(m->last_ns - t->state_since_ns) / 1e9;
		}
		r->syscall_name = f->has_syscall ? thread_syscall_name(f->sc.nr) : NULL;
		const struct lock_thread *lt = locks_thread(m->locks, f->tid);
		r->lock = lt ? lt : &none;
		r->owner_name = "";
		if (r->lock->wait.owner > 0) {
			const struct thread_fact *of = thread_scan_find(&m->scan, r->lock->wait.owner);
			if (of)
				r->owner_name = of->name;
		}
		r->pcs = t->pcs;
		r->npcs = t->stack_valid ? t->npcs : 0;
		r->stack_truncated = t->truncated;
		r->stack_stale = t->stack_stale;
		r->stack_note = t->stack_valid ? NULL : t->note;
		m->order[i] = r;
	}
	if (m->sort_key != THREADMODEL_SORT_TID || m->sort_desc)
		threadmodel_sort(m, m->sort_key, m->sort_desc);
}

/* ---- reading ---- */

size_t threadmodel_count(const struct threadmodel *m)
{
	return m->scan.n;
}

const struct thread_row *threadmodel_row(const struct threadmodel *m, size_t i)
{
	return i < m->scan.n ? m->order[i] : NULL;
}

const struct thread_row *threadmodel_find(const struct threadmodel *m, pid_t tid)
{
	const struct thread_fact *f = thread_scan_find(&m->scan, tid);
	return f ? &m->rows[f - m->scan.v] : NULL;
}

/* Deadlocked first, then behind a deadlock, owner died, long waits, other waits by kind. */
static int wait_rank(const struct thread_row *r)
{
	const struct lock_thread *l = r->lock;
	if (l->deadlock >= 0)
		return 0;
	if (l->behind >= 0)
		return 1;
	if (l->owner_died)
		return 2;
	if (l->long_wait)
		return 3;
	if (l->wait.kind != LOCK_NONE)
		return 4 + (int)l->wait.kind;
	return 100;
}

/* Running first, then disk, sleeping, stopped, the rest, zombies last. */
static int state_rank(char s)
{
	switch (s) {
	case 'R':
		return 0;
	case 'D':
		return 1;
	case 'S':
		return 2;
	case 'T':
	case 't':
		return 3;
	case 'Z':
		return 5;
	default:
		return 4;
	}
}

static int dbl_desc(double a, double b)
{
	return (a < b) - (a > b);
}

int threadmodel_compare(const struct thread_row *x, const struct thread_row *y,
			enum threadmodel_sort key)
{
	switch (key) {
	case THREADMODEL_SORT_TID:
		return 0;
	case THREADMODEL_SORT_NAME:
		return strcmp(x->fact->name, y->fact->name);
	case THREADMODEL_SORT_STATE:
		return state_rank(x->fact->state) - state_rank(y->fact->state);
	case THREADMODEL_SORT_CPU:
		return dbl_desc(x->cpu_pct, y->cpu_pct);
	case THREADMODEL_SORT_TIME:
		return dbl_desc(x->state_s, y->state_s);
	case THREADMODEL_SORT_WAIT: {
		/* Then by lock, so that the waiters of one lock stay together. */
		int c = wait_rank(x) - wait_rank(y);
		if (!c)
			c = (x->lock->wait.addr > y->lock->wait.addr) -
			    (x->lock->wait.addr < y->lock->wait.addr);
		return c;
	}
	}
	return 0;
}

static enum threadmodel_sort sort_key_g;
static bool sort_desc_g;

static int row_cmp(const void *a, const void *b)
{
	const struct thread_row *x = *(const struct thread_row *const *)a;
	const struct thread_row *y = *(const struct thread_row *const *)b;
	int c = threadmodel_compare(x, y, sort_key_g);
	if (sort_desc_g)
		c = -c;
	if (!c)
		c = (x->fact->tid > y->fact->tid) - (x->fact->tid < y->fact->tid);
	return c;
}

void threadmodel_sort(struct threadmodel *m, enum threadmodel_sort key, bool descending)
{
	m->sort_key = key;
	m->sort_desc = descending;
	sort_key_g = key;
	sort_desc_g = descending;
	if (m->scan.n > 1)
		qsort(m->order, m->scan.n, sizeof *m->order, row_cmp);
}

const struct thread_row *threadmodel_stack_now(struct threadmodel *m, pid_t tid)
{
	const struct thread_fact *f = thread_scan_find(&m->scan, tid);
	if (!f)
		return NULL;
	size_t i = (size_t)(f - m->scan.v);
	struct tm_thread *t = &m->th[i];
	struct thread_fact now = *f;
	struct proc_syscall sc;
	if (proc_task_syscall_read(m->pid, tid, &sc) < 0)
		return NULL;
	now.has_syscall = !sc.running;
	now.sc = sc;
	bool keep = m->cfg.no_stacks;
	m->cfg.no_stacks = false;
	if (now.has_syscall) {
		t->stack_valid = false;
		stack_blocked(m, t, &now);
	} else {
		stacks_by_stop(m, &i, 1);
	}
	m->cfg.no_stacks = keep;
	struct thread_row *r = &m->rows[i];
	r->pcs = t->pcs;
	r->npcs = t->stack_valid ? t->npcs : 0;
	r->stack_truncated = t->truncated;
	r->stack_stale = false;
	r->stack_note = t->stack_valid ? NULL : t->note;
	return r;
}

void threadmodel_wait_text(const struct threadmodel *m, const struct thread_row *r,
			   struct strbuf *out)
{
	(void)m;
	lock_wait_text(&r->lock->wait, r->owner_name, out);
}

bool threadmodel_banner(const struct threadmodel *m, struct strbuf *out)
{
	return locks_banner(m->locks, out);
}

const struct locks *threadmodel_locks(const struct threadmodel *m)
{
	return m->locks;
}

const char *threadmodel_glibc(const struct threadmodel *m)
{
	return m->has_glibc ? m->glibc : NULL;
}

uint32_t threadmodel_observations(const struct threadmodel *m)
{
	return m->nobs;
}

uint64_t threadmodel_first_ns(const struct threadmodel *m)
{
	return m->first_ns;
}

uint64_t threadmodel_last_ns(const struct threadmodel *m)
{
	return m->last_ns;
}

const struct threadmodel_stats *threadmodel_stats(const struct threadmodel *m)
{
	return &m->stats;
}
