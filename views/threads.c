/*
 * threads: view 3 — every thread of the target, what it waits on and who holds that, and the
 * deadlocks the waits form (threadmodel.h); on a Go target `g` switches to its goroutines,
 * grouped by identical stack (goruntime.h, golocks.h).
 *
 * Data: the monitor (app->mon, monitor.h) refreshes the thread model and the goroutine snapshot
 * about once a second, whichever view is shown.  What it exposes is valid only until its next
 * tick, so the view keeps pointers into it only between ticks: every draw, key and click first
 * calls view_sync(), which — only when monitor->updates moved — takes the rows again, sorts
 * them (pointers, O(n log n) once per refresh and never per frame) and puts the cursor back on
 * its thread by tid (a goroutine group: by its lowest goroutine id).  Drawing touches only the
 * visible rows, so a process with 1000 threads draws as fast as one with 20.
 *
 * The cursor: until the user moves it, it sits on the first row (the sort puts deadlocked
 * threads there by default).  Once moved it stays on its thread across refreshes and re-sorts;
 * if the thread exits, the cursor keeps its row number.
 *
 * Enter opens a page with the thread's full stack, symbolized with file:line and inline frames,
 * taken at that moment by threadmodel_stack_now(): a blocked thread from its syscall registers
 * and memory reads, a running one by a brief stop of that thread alone — never the whole
 * process.  With the ptrace sampler every thread is already traced by proftop itself: nothing
 * is stopped for the page, which shows the model's last stack of the thread (for a running one,
 * its most frequent sampled stack of the live window) and says so.  A goroutine group's page
 * shows its members' ids and the stack they share.  A page is a copy made at Enter (Enter again
 * takes it anew), so it holds still while it is read.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ui.h"
#include "util.h"

/* The sortable columns, in screen order ('<' and '>' step through them). */
enum thr_col { COL_TID, COL_NAME, COL_STATE, COL_CPU, COL_TIME, COL_WAIT, NCOLS };

static const char *const sort_names[NCOLS] = { "tid", "name", "state", "cpu", "time in state",
					       "wait" };

/* One line of a stack page: text, or a frame (num >= 0). */
struct pline {
	enum theme_elem e;
	char *text;          /* the line; a frame: its function */
	char *where;         /* a frame: "file.c:47" or "" */
	const char *module;  /* a frame: module name (borrowed from the symbols) or NULL */
	int num;             /* frame number, -1 for a text line */
	bool inl;            /* an inlined frame */
};

/* A goroutine group of the snapshot and its place in the table. */
struct group_row {
	const struct goruntime_group *g;
	int rank;      /* deadlocked 0, stuck 1, program 2, runtime 3 */
	size_t order;  /* in snap->groups (by count) */
};

struct threads {
	bool go;                        /* goroutine groups instead of threads */
	bool synced;
	uint64_t seen;                  /* monitor->updates at the last sync */
	struct strbuf sb;               /* scratch for one cell */

	/* threads */
	enum thr_col sort;
	const struct thread_row **rows; /* sorted; valid until the monitor's next tick */
	size_t nrows, caprows;
	size_t cursor, scroll;
	pid_t cursor_tid;
	bool follow;
	uint64_t *dl_addrs;             /* addresses of the locks of the deadlocks */
	size_t ndl_addrs, capdl;
	char summary[256];

	/* goroutine groups: deadlocked, stuck, the program's, the runtime's; each by count */
	struct group_row *groups;
	size_t ngroups, capgroups;
	size_t gcursor, gscroll;
	int64_t gcursor_id;
	bool gfollow;
	char gsummary[256];

	/* the stack page */
	bool page;
	pid_t page_tid;
	int64_t page_gid;
	struct pline *pl;
	size_t npl, cappl;
	size_t pscroll;
};

static struct monitor *view_monitor(struct ui *ui)
{
	return ui->app ? ui->app->mon : NULL;
}

static bool ptrace_sampler(struct ui *ui)
{
	return ui->app && ui->app->mode_name && !strcmp(ui->app->mode_name, "ptrace");
}

/* A duration in at most 6 columns: "0.4s", "12s", "5m02", "3h12m", "12d". */
static const char *fmt_dur(char *buf, size_t n, double s)
{
	if (s < 0)
		snprintf(buf, n, "-");
	else if (s < 10)
		snprintf(buf, n, "%.1fs", s);
	else if (s < 60)
		snprintf(buf, n, "%.0fs", s);
	else if (s < 3600)
		snprintf(buf, n, "%dm%02d", (int)(s / 60), (int)s % 60);
	else if (s < 86400)
		snprintf(buf, n, "%dh%02dm", (int)(s / 3600), (int)s % 3600 / 60);
	else
		snprintf(buf, n, "%dd", (int)(s / 86400));
	return buf;
}

/* "file.c:47" (base name) or "". */
static void fmt_where(const struct sym_line *ln, char *buf, size_t n)
{
	buf[0] = '\0';
	if (!ln || !ln->file || !ln->file[0])
		return;
	const char *base = strrchr(ln->file, '/');
	base = base ? base + 1 : ln->file;
	if (ln->line > 0)
		snprintf(buf, n, "%s:%d", base, ln->line);
	else
		snprintf(buf, n, "%s", base);
}

/* ---- sorting the threads ---- */

static enum thr_col sort_col_g;

/* The model's order for each column (the columns are in the same order as its sort keys). */
static const enum threadmodel_sort col_key[NCOLS] = {
	[COL_TID] = THREADMODEL_SORT_TID,   [COL_NAME] = THREADMODEL_SORT_NAME,
	[COL_STATE] = THREADMODEL_SORT_STATE, [COL_CPU] = THREADMODEL_SORT_CPU,
	[COL_TIME] = THREADMODEL_SORT_TIME, [COL_WAIT] = THREADMODEL_SORT_WAIT,
};

static int row_cmp(const void *a, const void *b)
{
	const struct thread_row *x = *(const struct thread_row *const *)a;
	const struct thread_row *y = *(const struct thread_row *const *)b;
	int c = sort_col_g < NCOLS ? threadmodel_compare(x, y, col_key[sort_col_g]) : 0;
	if (!c)
		c = (x->fact->tid > y->fact->tid) - (x->fact->tid < y->fact->tid);
	return c;
}

static void rows_sort(struct threads *t)
{
	sort_col_g = t->sort;
	if (t->nrows > 1)
		qsort(t->rows, t->nrows, sizeof *t->rows, row_cmp);
}

/* Put the cursor back on cursor_tid (when following) after the rows changed. */
static void rows_track(struct threads *t)
{
	if (!t->nrows) {
		t->cursor = 0;
		return;
	}
	if (t->follow) {
		for (size_t i = 0; i < t->nrows; i++) {
			if (t->rows[i]->fact->tid == t->cursor_tid) {
				t->cursor = i;
				return;
			}
		}
	} else {
		t->cursor = 0;
	}
	if (t->cursor >= t->nrows)
		t->cursor = t->nrows - 1;
	t->cursor_tid = t->rows[t->cursor]->fact->tid;
}

/* ---- sync with the monitor ---- */

static void sync_threads(struct threads *t, struct monitor *m)
{
	struct threadmodel *tm = m->tm;
	size_t n = tm ? threadmodel_count(tm) : 0;
	util_grow((void **)&t->rows, &t->caprows, n ? n : 1, sizeof *t->rows);
	size_t by[4] = { 0 }; /* running, sleeping, disk, other */
	size_t ndead = 0, nbehind = 0, nlong = 0;
	for (size_t i = 0; i < n; i++) {
		const struct thread_row *r = threadmodel_row(tm, i);
		t->rows[i] = r;
		char s = r->fact->state;
		by[s == 'R' ? 0 : s == 'S' ? 1 : s == 'D' ? 2 : 3]++;
		ndead += r->lock->deadlock >= 0;
		nbehind += r->lock->behind >= 0;
		nlong += r->lock->long_wait && r->lock->deadlock < 0 && r->lock->behind < 0;
	}
	t->nrows = n;
	rows_sort(t);
	rows_track(t);

	t->ndl_addrs = 0;
	const struct locks *l = tm ? threadmodel_locks(tm) : NULL;
	size_t nd = l ? locks_ndeadlocks(l) : 0;
	for (size_t i = 0; i < nd; i++) {
		const struct lock_deadlock *d = locks_deadlock(l, i);
		for (size_t k = 0; k < d->n; k++) {
			util_grow((void **)&t->dl_addrs, &t->capdl, t->ndl_addrs + 1, sizeof *t->dl_addrs);
			t->dl_addrs[t->ndl_addrs++] = d->waits[k].addr;
		}
	}

	struct strbuf *sb = &t->sb;
	strbuf_reset(sb);
	strbuf_printf(sb, "%zu threads: %zu running, %zu sleeping", n, by[0], by[1]);
	if (by[2])
		strbuf_printf(sb, ", %zu disk", by[2]);
	if (by[3])
		strbuf_printf(sb, ", %zu other", by[3]);
	if (nd)
		strbuf_printf(sb, "  |  %zu deadlocked (%zu cycle%s)", ndead, nd, nd == 1 ? "" : "s");
	if (nbehind)
		strbuf_printf(sb, ", %zu blocked behind", nbehind);
	if (nlong)
		strbuf_printf(sb, "  |  %zu long wait%s", nlong, nlong == 1 ? "" : "s");
	const char *glibc = tm ? threadmodel_glibc(tm) : NULL;
	if (glibc && locks_glibc_supported(glibc))
		strbuf_printf(sb, "  |  glibc %s", glibc);
	else if (glibc)
		strbuf_printf(sb, "  |  glibc %s: futexes not decoded", glibc);
	else if (tm)
		strbuf_puts(sb, "  |  no glibc: futexes not decoded");
	snprintf(t->summary, sizeof t->summary, "%s", sb->s);
}

/* ---- goroutine groups ---- */

/* The lock every member of a group waits on, or NULL. */
static const struct goruntime_lock *group_lock(const struct goruntime_snapshot *s,
					       const struct goruntime_group *g)
{
	uint32_t l = s->g[g->members[0]].lock;
	if (l >= s->nlocks)
		return NULL;
	for (uint32_t k = 1; k < g->count; k++)
		if (s->g[g->members[k]].lock != l)
			return NULL;
	return &s->locks[l];
}

/* The golocks verdict on a lock (stuck, deadlocked), NULL when it has none. */
static const struct golocks_lock *group_verdict(const struct monitor *m,
						const struct goruntime_lock *gl)
{
	if (!gl || !m->go.rep)
		return NULL;
	for (size_t i = 0; i < m->go.rep->nlocks; i++)
		if (m->go.rep->locks[i].addr == gl->addr)
			return &m->go.rep->locks[i];
	return NULL;
}

/* "main.ledger (locked)", "sync.Mutex 0xc000012345 (unlocked)", "sync.WaitGroup 0x..". */
static void lock_text(const struct goruntime_lock *gl, struct strbuf *out)
{
	if (gl->symbol)
		strbuf_puts(out, gl->symbol);
	else
		strbuf_printf(out, "%s 0x%" PRIx64, goruntime_lock_kind_name(gl->kind), gl->addr);
	if (gl->kind == GORUNTIME_LOCK_MUTEX || gl->kind == GORUNTIME_LOCK_RWMUTEX)
		strbuf_puts(out, gl->locked ? " (locked)" : " (unlocked)");
}

/* "waiting: chan receive"; with runtime, " (runtime)" for the runtime's own goroutines. */
static void group_state(const struct goruntime_snapshot *s, const struct goruntime_group *g,
			bool runtime, struct strbuf *out)
{
	const struct goruntime_goroutine *first = &s->g[g->members[0]];
	strbuf_puts(out, goruntime_status_name(first->status));
	if (first->wait_reason[0])
		strbuf_printf(out, ": %s", first->wait_reason);
	if (runtime && g->system)
		strbuf_puts(out, " (runtime)");
}

/* Does group g of snap have the goroutine id? */
static bool group_has(const struct goruntime_snapshot *s, const struct goruntime_group *g,
		      int64_t id)
{
	for (uint32_t k = 0; k < g->count; k++)
		if (s->g[g->members[k]].id == id)
			return true;
	return false;
}

static int group_row_cmp(const void *a, const void *b)
{
	const struct group_row *x = a, *y = b;
	if (x->rank != y->rank)
		return x->rank - y->rank;
	return (x->order > y->order) - (x->order < y->order);
}

static void sync_groups(struct threads *t, struct monitor *m)
{
	const struct goruntime_snapshot *s = m->go.snap;
	t->ngroups = s ? s->ngroups : 0;
	util_grow((void **)&t->groups, &t->capgroups, t->ngroups ? t->ngroups : 1,
		  sizeof *t->groups);
	for (size_t k = 0; k < t->ngroups; k++) {
		const struct goruntime_group *g = &s->groups[k];
		const struct golocks_lock *v = group_verdict(m, group_lock(s, g));
		t->groups[k] = (struct group_row){
			.g = g,
			.rank = v && v->deadlocked ? 0 : v && v->long_wait ? 1 : g->system ? 3 : 2,
			.order = k,
		};
	}
	if (t->ngroups > 1)
		qsort(t->groups, t->ngroups, sizeof *t->groups, group_row_cmp);
	if (!t->ngroups) {
		t->gcursor = 0;
	} else if (t->gfollow) {
		size_t k;
		for (k = 0; k < t->ngroups && !group_has(s, t->groups[k].g, t->gcursor_id); k++)
			;
		if (k < t->ngroups)
			t->gcursor = k;
	} else {
		t->gcursor = 0;
	}
	if (t->ngroups && t->gcursor >= t->ngroups)
		t->gcursor = t->ngroups - 1;
	if (t->ngroups)
		t->gcursor_id = s->g[t->groups[t->gcursor].g->members[0]].id;
	if (s)
		snprintf(t->gsummary, sizeof t->gsummary,
			 "Go %s: %u goroutines (%u user, %u runtime) with %zu different stacks  |  "
			 "read in %.1f ms",
			 m->go.version[0] ? m->go.version : "", s->counts.live, s->counts.user,
			 s->counts.system, s->ngroups, (double)s->read_ns / 1e6);
	else
		t->gsummary[0] = '\0';
}

/* Bring the rows up to date with the monitor's last refresh (cheap when nothing changed). */
static struct monitor *view_sync(struct ui *ui, struct threads *t)
{
	struct monitor *m = view_monitor(ui);
	if (!m) {
		t->nrows = t->ngroups = 0;
		return NULL;
	}
	if (t->synced && m->updates == t->seen)
		return m;
	t->synced = true;
	t->seen = m->updates;
	sync_threads(t, m);
	sync_groups(t, m);
	return m;
}

/* ---- the stack page ---- */

static void page_clear(struct threads *t)
{
	for (size_t i = 0; i < t->npl; i++) {
		free(t->pl[i].text);
		free(t->pl[i].where);
	}
	t->npl = 0;
}

static struct pline *page_add(struct threads *t, enum theme_elem e, char *text)
{
	util_grow((void **)&t->pl, &t->cappl, t->npl + 1, sizeof *t->pl);
	struct pline *p = &t->pl[t->npl++];
	*p = (struct pline){ .e = e, .text = text, .num = -1 };
	return p;
}

static void page_addf(struct threads *t, enum theme_elem e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void page_addf(struct threads *t, enum theme_elem e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = xvasprintf(fmt, ap);
	va_end(ap);
	page_add(t, e, s);
}

/* The frames of one address, inline frames first (innermost), as page lines. */
static void page_frames_at(struct threads *t, struct symbols *sym, uint64_t lookup, int *num)
{
	const struct sym_loc *loc = symbols_lookup(sym, lookup);
	const struct sym_module *mod = symbols_module(sym, loc->module);
	for (uint32_t j = 0; j < loc->nlines; j++) {
		const struct sym_line *ln = &loc->lines[j];
		const struct sym_func *fn = symbols_func(sym, ln->func);
		char where[256];
		fmt_where(ln, where, sizeof where);
		struct pline *p = page_add(t, THEME_NORMAL, xstrdup(fn ? fn->name : "?"));
		p->where = xstrdup(where);
		p->module = mod ? mod->name : NULL;
		p->num = (*num)++;
		p->inl = j + 1 < loc->nlines;
	}
}

struct stack_count {
	uint64_t *count;
	size_t n;
};

static void count_stack(void *arg, const struct profile_stack *st, pid_t tid, uint64_t count,
			uint64_t weight_ns)
{
	(void)tid;
	(void)weight_ns;
	struct stack_count *c = arg;
	if (st->id < c->n)
		c->count[st->id] += count;
}

/* The thread's most frequent sampled stack in the live window; NULL when none. */
static const struct profile_stack *sampled_stack(struct ui *ui, pid_t tid, uint64_t *count)
{
	size_t n = profile_nstacks(ui->prof);
	if (!n)
		return NULL;
	struct stack_count c = { xcalloc(n, sizeof(uint64_t)), n };
	profile_foreach(ui->prof, PROFILE_LIVE, tid, count_stack, &c);
	size_t best = n;
	for (size_t i = 0; i < n; i++)
		if (c.count[i] && (best == n || c.count[i] > c.count[best]))
			best = i;
	*count = best < n ? c.count[best] : 0;
	free(c.count);
	return best < n ? profile_stack(ui->prof, (uint32_t)best) : NULL;
}

static void page_thread(struct ui *ui, struct threads *t, struct monitor *m)
{
	page_clear(t);
	t->pscroll = 0;
	struct threadmodel *tm = m->tm;
	const struct thread_row *r = tm ? threadmodel_find(tm, t->page_tid) : NULL;
	if (!r) {
		page_addf(t, THEME_TITLE, "Thread %d", (int)t->page_tid);
		page_add(t, THEME_DIM, xstrdup("  the thread has exited"));
		return;
	}
	const char *how;
	bool ptrace = ptrace_sampler(ui);
	if (ptrace) {
		how = "the ptrace sampler traces every thread already: nothing is stopped for this "
		      "page;\n  this is the stack of the last observation";
	} else {
		uint64_t stops = threadmodel_stats(tm)->stops;
		const struct thread_row *now = threadmodel_stack_now(tm, t->page_tid);
		if (now)
			r = now;
		how = threadmodel_stats(tm)->stops != stops
			      ? "taken now by a brief stop of this thread alone; the others ran on"
			      : "taken now from its syscall registers and memory; nothing was stopped";
	}
	const struct thread_fact *f = r->fact;
	const struct lock_thread *lt = r->lock;
	page_addf(t, lt->deadlock >= 0 ? THEME_DEADLOCK : THEME_TITLE, "Thread %d (%s)", (int)f->tid,
		  f->name);
	struct strbuf *sb = &t->sb;
	strbuf_reset(sb);
	strbuf_printf(sb, "  %s for %.1f s%s", r->state_word, r->state_s,
		      r->state_s_kernel ? "" : " (as observed)");
	if (f->has_syscall && f->sc.nr >= 0) {
		if (r->syscall_name)
			strbuf_printf(sb, " in %s()", r->syscall_name);
		else
			strbuf_printf(sb, " in syscall %ld", f->sc.nr);
	}
	if (f->wchan[0])
		strbuf_printf(sb, " [%s]", f->wchan);
	if (r->cpu_pct >= 0)
		strbuf_printf(sb, ", cpu %.0f%%", r->cpu_pct);
	page_add(t, THEME_NORMAL, xstrdup(sb->s));
	if (lt->wait.kind != LOCK_NONE) {
		strbuf_reset(sb);
		strbuf_puts(sb, "  waits: ");
		threadmodel_wait_text(tm, r, sb);
		page_add(t, lt->deadlock >= 0 || lt->behind >= 0 ? THEME_DEADLOCK
			    : lt->long_wait || lt->owner_died ? THEME_LONG_WAIT
							      : THEME_NORMAL,
			 xstrdup(sb->s));
	}
	const struct locks *l = threadmodel_locks(tm);
	if (lt->deadlock >= 0 && (size_t)lt->deadlock < locks_ndeadlocks(l)) {
		strbuf_reset(sb);
		strbuf_puts(sb, "  DEADLOCK: ");
		locks_deadlock_text(locks_deadlock(l, (size_t)lt->deadlock), sb);
		page_add(t, THEME_DEADLOCK, xstrdup(sb->s));
	} else if (lt->behind >= 0) {
		page_addf(t, THEME_DEADLOCK, "  blocked behind a deadlock: %d is deadlocked",
			  (int)lt->behind_tid);
	}
	if (lt->long_wait && lt->deadlock < 0)
		page_addf(t, THEME_LONG_WAIT, "  long wait: %.1f s", lt->wait_s);
	if (lt->owner_died)
		page_add(t, THEME_LONG_WAIT,
			 xstrdup("  the owner of its lock is no longer a thread of the process"));
	page_add(t, THEME_NORMAL, xstrdup(""));
	page_add(t, THEME_TITLE, xstrdup("Stack"));
	for (const char *p = how; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		page_addf(t, THEME_DIM, "  %.*s", (int)len, p);
		p += len + (nl ? 1 : 0);
	}
	int num = 0;
	for (uint32_t k = 0; k < r->npcs; k++)
		page_frames_at(t, ui->sym, k ? r->pcs[k] - 1 : r->pcs[k], &num);
	if (r->npcs && r->stack_truncated)
		page_add(t, THEME_DIM, xstrdup("  ... (stack truncated)"));
	if (r->npcs && r->stack_stale)
		page_add(t, THEME_DIM, xstrdup("  (taken at an earlier observation)"));
	if (!r->npcs) {
		uint64_t cnt = 0;
		const struct profile_stack *st = ptrace && !f->has_syscall
							 ? sampled_stack(ui, f->tid, &cnt)
							 : NULL;
		if (st) {
			page_addf(t, THEME_DIM,
				  "  running: its most frequent sampled stack of the live window "
				  "(%llu samples)", (unsigned long long)cnt);
			for (uint32_t k = 0; k < st->npcs; k++)
				page_frames_at(t, ui->sym, st->pcs[k], &num);
		} else {
			page_addf(t, THEME_DIM, "  (%s)",
				  r->stack_note ? r->stack_note
				  : ptrace      ? "running, and not sampled in the live window"
						: "no stack");
		}
	}
}

static void page_group(struct ui *ui, struct threads *t, struct monitor *m)
{
	page_clear(t);
	t->pscroll = 0;
	const struct goruntime_snapshot *s = m->go.snap;
	const struct goruntime_group *g = NULL;
	for (size_t k = 0; s && k < s->ngroups && !g; k++)
		if (group_has(s, &s->groups[k], t->page_gid))
			g = &s->groups[k];
	if (!g) {
		page_addf(t, THEME_TITLE, "Goroutine %" PRId64, t->page_gid);
		page_add(t, THEME_DIM, xstrdup("  the goroutine has exited"));
		return;
	}
	struct strbuf *sb = &t->sb;
	const struct goruntime_lock *gl = group_lock(s, g);
	const struct golocks_lock *v = group_verdict(m, gl);
	strbuf_reset(sb);
	strbuf_printf(sb, "%u goroutine%s [", g->count, g->count == 1 ? "" : "s");
	group_state(s, g, true, sb);
	strbuf_putc(sb, ']');
	if (g->max_wait_s >= 0)
		strbuf_printf(sb, ", waiting up to %.1f s", g->max_wait_s);
	page_add(t, v && v->deadlocked ? THEME_DEADLOCK : THEME_TITLE, xstrdup(sb->s));
	if (gl) {
		strbuf_reset(sb);
		strbuf_printf(sb, "  on %s ", goruntime_lock_kind_name(gl->kind));
		lock_text(gl, sb);
		if (gl->symbol)
			strbuf_printf(sb, " at 0x%" PRIx64, gl->addr);
		page_add(t, v && v->deadlocked ? THEME_DEADLOCK
			    : v && v->long_wait ? THEME_LONG_WAIT
						: THEME_NORMAL,
			 xstrdup(sb->s));
	}
	if (v && v->deadlocked) {
		strbuf_reset(sb);
		strbuf_puts(sb, "  ");
		if (golocks_banner(m->go.rep, m->go.gr, s, sb))
			page_add(t, THEME_DEADLOCK, xstrdup(sb->s));
	} else if (v && v->long_wait) {
		page_addf(t, THEME_LONG_WAIT, "  stuck: the lock has not changed for %.1f s",
			  v->unchanged_s);
	}
	const struct goruntime_goroutine *first = &s->g[g->members[0]];
	if (first->gopc) {
		const struct sym_loc *loc = symbols_lookup(ui->sym, first->gopc - 1);
		const struct sym_line *ln = &loc->lines[loc->nlines - 1];
		const struct sym_func *fn = symbols_func(ui->sym, ln->func);
		char where[256];
		fmt_where(ln, where, sizeof where);
		page_addf(t, THEME_NORMAL, "  created by %s%s%s", fn ? fn->name : "?",
			  where[0] ? " at " : "", where);
	}
	page_add(t, THEME_NORMAL, xstrdup(""));
	page_addf(t, THEME_TITLE, "Goroutine ids (%u)", g->count);
	int w = ui->cols - 4 > 20 ? ui->cols - 4 : 20;
	strbuf_reset(sb);
	strbuf_puts(sb, " ");
	for (uint32_t k = 0; k < g->count; k++) {
		char id[32];
		int n = snprintf(id, sizeof id, " %" PRId64, s->g[g->members[k]].id);
		if ((int)sb->len + n > w) {
			page_add(t, THEME_NORMAL, xstrdup(sb->s));
			strbuf_reset(sb);
			strbuf_puts(sb, " ");
		}
		strbuf_puts(sb, id);
	}
	page_add(t, THEME_NORMAL, xstrdup(sb->s));
	page_add(t, THEME_NORMAL, xstrdup(""));
	page_addf(t, THEME_TITLE, "Stack of goroutine %" PRId64 " (the same for all)", first->id);
	int num = 0;
	for (uint32_t k = 0; k < first->nframes; k++)
		page_frames_at(t, ui->sym, first->pcs[k], &num);
	if (first->flags & GORUNTIME_G_TORN)
		page_add(t, THEME_DIM, xstrdup("  (it changed while read: no stack)"));
	else if (!first->nframes && first->tid)
		page_addf(t, THEME_DIM, "  (running on thread %d: its stack was not read)",
			  (int)first->tid);
	else if (!first->nframes)
		page_add(t, THEME_DIM, xstrdup("  (no stack)"));
	if (first->flags & GORUNTIME_G_TRUNCATED)
		page_add(t, THEME_DIM, xstrdup("  ... (stack truncated)"));
}

static void page_open(struct ui *ui, struct threads *t, struct monitor *m)
{
	t->page = true;
	if (t->go)
		page_group(ui, t, m);
	else
		page_thread(ui, t, m);
}

/* ---- drawing ---- */

enum { TC_TID, TC_NAME, TC_STATE, TC_CPU, TC_TIME, TC_SYSCALL, TC_WAIT, TC_N };

struct cols {
	int x[TC_N], w[TC_N];
};

/* Column positions for a screen W wide: the wait text gets what the others leave. */
static void cols_layout(int W, struct cols *c)
{
	int w[TC_N] = { 7, 8, 8, 5, 5, 7, 0 };
	if (W >= 140) {
		w[TC_NAME] = 16;
		w[TC_SYSCALL] = 16;
	} else if (W >= 120) {
		w[TC_NAME] = 15;
		w[TC_SYSCALL] = 12;
	} else if (W >= 100) {
		w[TC_NAME] = 9;
		w[TC_SYSCALL] = 8;
	}
	int x = 0;
	for (int i = 0; i < TC_WAIT; i++) {
		c->x[i] = x;
		c->w[i] = w[i];
		x += w[i] + 1;
	}
	c->x[TC_WAIT] = x;
	c->w[TC_WAIT] = W - x > 0 ? W - x : 0;
}

/* A wait text too wide for w columns names its lock by symbol alone: "mutex 0x55e4529e9160
 * (lock_b) held by 4312 (t2)" becomes "mutex lock_b held by 4312 (t2)". */
static void wait_fit(const struct ui *ui, const struct lock_wait *w, struct strbuf *sb, int cols)
{
	if (!w->name[0] || !w->addr || ui_width(ui, sb->s) <= cols)
		return;
	char needle[96];
	snprintf(needle, sizeof needle, "0x%llx (%s)", (unsigned long long)w->addr, w->name);
	char *at = strstr(sb->s, needle);
	if (!at)
		return;
	size_t nl = strlen(needle), name = strlen(w->name);
	memmove(at, w->name, name);
	memmove(at + name, at + nl, strlen(at + nl) + 1);
	sb->len -= nl - name;
}

static bool lock_in_deadlock(const struct threads *t, uint64_t addr)
{
	for (size_t i = 0; addr && i < t->ndl_addrs; i++)
		if (t->dl_addrs[i] == addr)
			return true;
	return false;
}

/* Rows of the table (the body less the summary, a Go note and the column titles). */
static int table_top(struct ui *ui, const struct monitor *m, const struct threads *t)
{
	(void)ui;
	int top = 2;
	if (!t->go && m && m->go.is_go && !m->go.gr)
		top++;
	return top;
}

static int table_rows(struct ui *ui, const struct monitor *m, const struct threads *t)
{
	int v = ui->body_h - table_top(ui, m, t);
	return v > 0 ? v : 0;
}

static void draw_message(struct ui *ui, int y, const char *msg)
{
	ui_text(ui, y, 2, ui->cols - 4, THEME_DIM, msg);
}

static void draw_threads(struct ui *ui, struct threads *t, struct monitor *m)
{
	int y0 = ui->body_y, W = ui->cols;
	struct threadmodel *tm = m->tm;
	if (!tm) {
		ui_printf(ui, y0 + 1, 2, W - 4, THEME_STATUS_ERROR, "cannot read the threads: %s",
			  m->tm_error ? m->tm_error : "unknown error");
		return;
	}
	if (!threadmodel_observations(tm)) {
		draw_message(ui, y0 + 1, "reading the threads...");
		return;
	}
	ui_text(ui, y0, 0, W, THEME_TITLE, t->summary);
	int y = y0 + 1;
	if (m->go.is_go && !m->go.gr) {
		ui_printf(ui, y++, 0, W, THEME_STATUS_ERROR, "%s",
			  m->go.error ? m->go.error : "goroutines cannot be read");
	}
	struct cols c;
	cols_layout(W, &c);
	static const char *const titles[TC_N] = { "TID", "NAME", "STATE", "CPU%", "TIME",
						  "SYSCALL", "WAITS ON" };
	static const int sort_of[TC_N] = { COL_TID, COL_NAME, COL_STATE, COL_CPU, COL_TIME, -1,
					   COL_WAIT };
	ui_fill(ui, y, 0, W, THEME_TABLE_HEADER);
	for (int i = 0; i < TC_N; i++) {
		enum theme_elem e = sort_of[i] == (int)t->sort ? THEME_TABLE_SORT : THEME_TABLE_HEADER;
		if (i == TC_TID || i == TC_CPU || i == TC_TIME)
			ui_text_right(ui, y, c.x[i], c.w[i], e, titles[i]);
		else
			ui_text(ui, y, c.x[i], c.w[i], e, titles[i]);
	}
	y++;
	int vis = table_rows(ui, m, t);
	if (!t->nrows) {
		draw_message(ui, y + 1, ui->app->target_gone ? "the target has exited" : "no threads");
		return;
	}
	ui_scroll_fit(t->cursor, t->nrows, vis, &t->scroll);
	for (int k = 0; k < vis && t->scroll + (size_t)k < t->nrows; k++) {
		size_t i = t->scroll + (size_t)k;
		const struct thread_row *r = t->rows[i];
		const struct thread_fact *f = r->fact;
		const struct lock_thread *lt = r->lock;
		bool cur = i == t->cursor;
		enum theme_elem e = lt->deadlock >= 0 ? THEME_DEADLOCK : THEME_NORMAL;
		enum theme_elem ew = e;
		if (lt->deadlock < 0) {
			if (lt->behind >= 0 || lock_in_deadlock(t, lt->wait.addr))
				ew = THEME_DEADLOCK;
			else if (lt->long_wait || lt->owner_died)
				ew = THEME_LONG_WAIT;
		}
		if (cur) {
			ui_fill(ui, y + k, 0, W, THEME_CURSOR);
			e = ew = THEME_CURSOR;
		}
		char buf[64];
		snprintf(buf, sizeof buf, "%d", (int)f->tid);
		ui_text_right(ui, y + k, c.x[TC_TID], c.w[TC_TID], e, buf);
		ui_text(ui, y + k, c.x[TC_NAME], c.w[TC_NAME], e, f->name);
		ui_text(ui, y + k, c.x[TC_STATE], c.w[TC_STATE], e, r->state_word);
		if (r->cpu_pct >= 0)
			snprintf(buf, sizeof buf, "%.1f", r->cpu_pct);
		else
			snprintf(buf, sizeof buf, "-");
		ui_text_right(ui, y + k, c.x[TC_CPU], c.w[TC_CPU], e, buf);
		ui_text_right(ui, y + k, c.x[TC_TIME], c.w[TC_TIME], e,
			      fmt_dur(buf, sizeof buf, r->state_s));
		const char *sc = r->syscall_name ? r->syscall_name : f->wchan;
		if (!r->syscall_name && f->has_syscall && f->sc.nr >= 0 && !f->wchan[0]) {
			snprintf(buf, sizeof buf, "sys %ld", f->sc.nr);
			sc = buf;
		}
		ui_text(ui, y + k, c.x[TC_SYSCALL], c.w[TC_SYSCALL], cur ? e : THEME_DIM, sc);
		if (lt->wait.kind != LOCK_NONE) {
			strbuf_reset(&t->sb);
			threadmodel_wait_text(tm, r, &t->sb);
			if (t->sb.s) {
				wait_fit(ui, &lt->wait, &t->sb, c.w[TC_WAIT]);
				ui_text(ui, y + k, c.x[TC_WAIT], c.w[TC_WAIT], ew, t->sb.s);
			}
		}
	}
}

static void draw_groups(struct ui *ui, struct threads *t, struct monitor *m)
{
	int y0 = ui->body_y, W = ui->cols;
	const struct goruntime_snapshot *s = m->go.snap;
	if (!s) {
		draw_message(ui, y0 + 1, "reading the goroutines...");
		return;
	}
	ui_text(ui, y0, 0, W, THEME_TITLE, t->gsummary);
	int y = y0 + 1;
	int wc = 6, ws = W >= 120 ? 28 : W >= 100 ? 21 : 18, ww = 6;
	int wm = W >= 120 ? 28 : W >= 100 ? 22 : 18;
	int xc = 0, xs = xc + wc + 1, xw = xs + ws + 1, xm = xw + ww + 1, xf = xm + wm + 1;
	int wf = W - xf > 0 ? W - xf : 0;
	ui_fill(ui, y, 0, W, THEME_TABLE_HEADER);
	ui_text_right(ui, y, xc, wc, THEME_TABLE_SORT, "COUNT");
	ui_text(ui, y, xs, ws, THEME_TABLE_HEADER, "STATE");
	ui_text_right(ui, y, xw, ww, THEME_TABLE_HEADER, "WAIT");
	ui_text(ui, y, xm, wm, THEME_TABLE_HEADER, "MUTEX");
	ui_text(ui, y, xf, wf, THEME_TABLE_HEADER, "WAITS AT");
	y++;
	int vis = table_rows(ui, m, t);
	ui_scroll_fit(t->gcursor, t->ngroups, vis, &t->gscroll);
	for (int k = 0; k < vis && t->gscroll + (size_t)k < t->ngroups; k++) {
		size_t i = t->gscroll + (size_t)k;
		const struct goruntime_group *g = t->groups[i].g;
		const struct goruntime_goroutine *first = &s->g[g->members[0]];
		const struct goruntime_lock *gl = group_lock(s, g);
		const struct golocks_lock *v = group_verdict(m, gl);
		bool cur = i == t->gcursor;
		enum theme_elem e = v && v->deadlocked ? THEME_DEADLOCK
				    : v && v->long_wait ? THEME_LONG_WAIT
				    : g->system		? THEME_DIM
							: THEME_NORMAL;
		if (cur) {
			ui_fill(ui, y + k, 0, W, THEME_CURSOR);
			e = THEME_CURSOR;
		}
		char buf[64];
		snprintf(buf, sizeof buf, "%u", g->count);
		ui_text_right(ui, y + k, xc, wc, e, buf);
		strbuf_reset(&t->sb);
		group_state(s, g, false, &t->sb);
		ui_text(ui, y + k, xs, ws, e, t->sb.s);
		if (g->max_wait_s >= 0)
			ui_text_right(ui, y + k, xw, ww, e, fmt_dur(buf, sizeof buf, g->max_wait_s));
		if (gl) {
			strbuf_reset(&t->sb);
			lock_text(gl, &t->sb);
			ui_text(ui, y + k, xm, wm, e, t->sb.s);
		}
		const struct sym_line *ln = goruntime_wait_frame(m->go.gr, first);
		if (ln) {
			const struct sym_func *fn = symbols_func(ui->sym, ln->func);
			char where[256];
			fmt_where(ln, where, sizeof where);
			strbuf_reset(&t->sb);
			strbuf_printf(&t->sb, "%s %s", fn ? fn->name : "?", where);
			ui_text(ui, y + k, xf, wf, e, t->sb.s);
		} else if (first->flags & GORUNTIME_G_TORN) {
			ui_text(ui, y + k, xf, wf, cur ? e : THEME_DIM, "(changed while read)");
		}
	}
}

static void draw_page(struct ui *ui, struct threads *t)
{
	int y0 = ui->body_y, W = ui->cols, vis = ui->body_h;
	if (t->npl <= (size_t)vis)
		t->pscroll = 0;
	else if (t->pscroll > t->npl - (size_t)vis)
		t->pscroll = t->npl - (size_t)vis;
	int ww = W >= 120 ? 36 : W >= 100 ? 28 : 22;
	int wm = W >= 120 ? 20 : W >= 100 ? 16 : 0;
	int xf = 7, xm = W - wm, xw = xm - ww - (wm ? 1 : 0);
	int wf = xw - xf - 1;
	for (int k = 0; k < vis && t->pscroll + (size_t)k < t->npl; k++) {
		const struct pline *p = &t->pl[t->pscroll + (size_t)k];
		int y = y0 + k;
		if (p->num < 0) {
			ui_text(ui, y, 0, W, p->e, p->text);
			continue;
		}
		char num[16];
		snprintf(num, sizeof num, "#%d", p->num);
		ui_text(ui, y, 2, 4, THEME_DIM, num);
		if (p->inl) {
			strbuf_reset(&t->sb);
			strbuf_printf(&t->sb, "%s (inlined)", p->text);
			ui_text(ui, y, xf, wf, p->e, t->sb.s);
		} else {
			ui_text(ui, y, xf, wf, p->e, p->text);
		}
		ui_text(ui, y, xw, ww, THEME_NORMAL, p->where);
		if (wm && p->module)
			ui_text(ui, y, xm, wm, THEME_DIM, p->module);
	}
	if (t->pscroll + (size_t)vis < t->npl)
		ui_text_right(ui, y0 + vis - 1, 0, W, THEME_DIM, " (more: Down) ");
}

static void threads_draw(struct ui *ui, void *st)
{
	struct threads *t = st;
	struct monitor *m = view_sync(ui, t);
	if (!m) {
		draw_message(ui, ui->body_y + 1, "threads are not watched in this session");
		return;
	}
	if (t->page)
		draw_page(ui, t);
	else if (t->go && m->go.gr)
		draw_groups(ui, t, m);
	else
		draw_threads(ui, t, m);
}

/* ---- keys ---- */

static void sort_set(struct ui *ui, struct threads *t, enum thr_col col)
{
	t->sort = col;
	rows_sort(t);
	rows_track(t); /* a cursor never moved stays on the first row */
	ui_status(ui, UI_STATUS_INFO, "threads sorted by %s", sort_names[col]);
}

static void sort_chosen(struct ui *ui, void *arg, int index, const char *typed)
{
	(void)typed;
	struct threads *t = arg;
	if (index < 0 || index >= NCOLS)
		return;
	/* The model may have been refreshed while the list was open. */
	view_sync(ui, t);
	sort_set(ui, t, (enum thr_col)index);
}

static int key_page(struct ui *ui, struct threads *t, struct monitor *m, int key)
{
	long page = ui->body_h > 1 ? ui->body_h - 1 : 1;
	size_t max = t->npl > (size_t)ui->body_h ? t->npl - (size_t)ui->body_h : 0;
	if (ui_list_key(key, page, max + 1, &t->pscroll))
		return VIEW_REDRAW;
	switch (key) {
	case '\n':
	case '\r':
	case KEY_ENTER:
		page_open(ui, t, m);
		ui_status(ui, UI_STATUS_INFO, "stack taken again");
		return VIEW_REDRAW;
	case 27:
	case KEY_BACKSPACE:
	case 127:
	case 8:
	case KEY_LEFT:
	case 'h':
		t->page = false;
		page_clear(t);
		return VIEW_REDRAW;
	default:
		return VIEW_IGNORED;
	}
}

static int key_go_toggle(struct ui *ui, struct threads *t, struct monitor *m)
{
	if (!m->go.is_go) {
		ui_status(ui, UI_STATUS_INFO, "not a Go program: there are no goroutines to show");
		return VIEW_REDRAW;
	}
	if (!m->go.gr) {
		ui_status(ui, UI_STATUS_ERROR, "%s",
			  m->go.error ? m->go.error : "goroutines cannot be read");
		return VIEW_REDRAW;
	}
	t->go = !t->go;
	t->page = false;
	page_clear(t);
	ui_status(ui, UI_STATUS_INFO, t->go ? "goroutines, grouped by stack (g: threads)"
					    : "threads (g: goroutines)");
	return VIEW_REDRAW;
}

static int threads_key(struct ui *ui, void *st, int key)
{
	struct threads *t = st;
	struct monitor *m = view_sync(ui, t);
	if (!m)
		return VIEW_IGNORED;
	if (t->page) {
		if (key == 'g') {
			t->page = false;
			page_clear(t);
			return key_go_toggle(ui, t, m);
		}
		return key_page(ui, t, m, key);
	}
	bool go = t->go && m->go.gr;
	size_t n = go ? t->ngroups : t->nrows;
	size_t *cursor = go ? &t->gcursor : &t->cursor;
	long page = table_rows(ui, m, t) > 1 ? table_rows(ui, m, t) - 1 : 1;
	if (ui_list_key(key, page, n, cursor)) {
		if (go && *cursor < n) {
			t->gfollow = true;
			t->gcursor_id = m->go.snap->g[t->groups[*cursor].g->members[0]].id;
		} else if (!go && *cursor < n) {
			t->follow = true;
			t->cursor_tid = t->rows[*cursor]->fact->tid;
		}
		return VIEW_REDRAW;
	}
	switch (key) {
	case '\n':
	case '\r':
	case KEY_ENTER:
		if (*cursor >= n)
			return VIEW_HANDLED;
		if (go) {
			t->gfollow = true;
			t->gcursor_id = m->go.snap->g[t->groups[t->gcursor].g->members[0]].id;
			t->page_gid = t->gcursor_id;
		} else {
			t->follow = true;
			t->cursor_tid = t->rows[t->cursor]->fact->tid;
			t->page_tid = t->cursor_tid;
		}
		page_open(ui, t, m);
		return VIEW_REDRAW;
	case '<':
	case '>':
		if (go) {
			ui_status(ui, UI_STATUS_INFO, "goroutine groups: deadlocked and stuck first, then by count");
			return VIEW_REDRAW;
		}
		sort_set(ui, t, (enum thr_col)((t->sort + (key == '>' ? 1 : NCOLS - 1)) % NCOLS));
		return VIEW_REDRAW;
	case KEY_F(6): {
		if (go) {
			ui_status(ui, UI_STATUS_INFO, "goroutine groups: deadlocked and stuck first, then by count");
			return VIEW_REDRAW;
		}
		static const char *const items[NCOLS] = {
			"tid",
			"name",
			"state: running, disk, sleeping, stopped",
			"cpu: busiest first",
			"time in state: longest first",
			"wait: deadlocked first, then long waits (default)",
		};
		ui_picker(ui, "Sort threads by", items, NCOLS, (int)t->sort, sort_chosen, t);
		return VIEW_REDRAW;
	}
	case 'g':
		return key_go_toggle(ui, t, m);
	default:
		return VIEW_IGNORED;
	}
}

static int threads_click(struct ui *ui, void *st, int y, int x)
{
	(void)x;
	struct threads *t = st;
	struct monitor *m = view_sync(ui, t);
	if (!m)
		return VIEW_HANDLED;
	if (t->page)
		return VIEW_HANDLED;
	bool go = t->go && m->go.gr;
	int r = y - ui->body_y - table_top(ui, m, t);
	if (r < 0)
		return VIEW_HANDLED;
	size_t n = go ? t->ngroups : t->nrows;
	size_t i = (go ? t->gscroll : t->scroll) + (size_t)r;
	if (i >= n)
		return VIEW_HANDLED;
	size_t *cursor = go ? &t->gcursor : &t->cursor;
	bool following = go ? t->gfollow : t->follow;
	if (i == *cursor && following)
		return threads_key(ui, st, '\n');
	*cursor = i;
	if (go) {
		t->gfollow = true;
		t->gcursor_id = m->go.snap->g[t->groups[i].g->members[0]].id;
	} else {
		t->follow = true;
		t->cursor_tid = t->rows[i]->fact->tid;
	}
	return VIEW_REDRAW;
}

/* ---- hooks ---- */

static void *threads_init(struct ui *ui)
{
	(void)ui;
	struct threads *t = xcalloc(1, sizeof *t);
	t->sort = COL_WAIT;
	return t;
}

static void threads_done(void *st)
{
	struct threads *t = st;
	page_clear(t);
	free(t->pl);
	free(t->rows);
	free(t->groups);
	free(t->dl_addrs);
	strbuf_done(&t->sb);
	free(t);
}

static const struct ui_keyhelp threads_help[] = {
	{ "Up Down PgUp PgDn Home End", "move the cursor (j k too)" },
	{ "Enter", "the thread's full stack, taken now (only that thread may stop, briefly); "
		   "a goroutine group's stack and ids" },
	{ "Esc Backspace", "back from the stack (Left, h too)" },
	{ "< >", "sort by tid, name, state, cpu, time in state or wait (default)" },
	{ "F6", "choose the sort column" },
	{ "g", "goroutines of a Go program, grouped by stack; again: the threads" },
	{ NULL, NULL },
};

static const struct ui_barkey threads_bar[] = {
	{ "Enter", "Stack", '\n' },
	{ "F6", "Sort", KEY_F(6) },
	{ "g", "Gorout", 'g' },
	{ NULL, NULL, 0 },
};

const struct view_ops view_threads = {
	.name = "threads",
	.help = threads_help,
	.bar = threads_bar,
	.init = threads_init,
	.done = threads_done,
	.draw = threads_draw,
	.key = threads_key,
	.click = threads_click,
};
