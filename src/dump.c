/*
 * dump: `proftop dump -p PID [--json]`, one look at every thread — state, CPU, the call it is
 * blocked in, what it waits on and who holds it, its symbolized stack — then the deadlocks,
 * owners that died and long waits.  Exit status 3 when a deadlock is found, 0 when none, 1 on
 * error (one line on stderr).
 *
 * The process is never stopped: blocked threads are read from /proc and memory; a running
 * thread is stopped alone for the time of one unwind.  A deadlock must persist: the dump takes
 * a second observation (and, while a cycle is unconfirmed, more, DUMP_SETTLE_NS apart) and
 * reports only cycles whose waits did not change in between.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "golocks.h"
#include "goruntime.h"
#include "locks.h"
#include "procfs.h"
#include "symbols.h"
#include "threadjson.h"
#include "threadmodel.h"
#include "tracee.h"
#include "unwind.h"
#include "util.h"

#define DUMP_SETTLE_NS 150000000ull /* a cycle must hold this long (and >= 2 observations) */
#define DUMP_MAX_OBS 4
#define DUMP_GO_INTERVAL_NS 200000000ull /* between goroutine scans while watching a mutex */

struct dump {
	pid_t pid;
	char comm[64];
	struct symbols *sym;
	struct unwinder *unw;
	struct threadmodel *tm;
	double long_wait_s;
	uint64_t t_start, t_ready, t_observed; /* for PROFTOP_DUMP_STATS */
	/* Go targets: goroutines and their sync.Mutex waits, read from the runtime's memory. */
	struct gowatch go;
};

static void sleep_until(uint64_t t_ns)
{
	uint64_t now = util_now_ns();
	if (now >= t_ns)
		return;
	struct timespec ts = { (time_t)((t_ns - now) / 1000000000ull),
			       (long)((t_ns - now) % 1000000000ull) };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Observe until cycles are confirmed or ruled out: >= 2 observations, and while a cycle is a
 * candidate, more of them DUMP_SETTLE_NS apart. */
static int dump_observe(struct dump *d)
{
	if (threadmodel_refresh(d->tm, THREADMODEL_STOP_RUNNING) < 0)
		return -1;
	const struct locks *l = threadmodel_locks(d->tm);
	while (threadmodel_observations(d->tm) < DUMP_MAX_OBS) {
		bool pending = locks_ncandidates(l) > 0;
		if (pending && getenv("PROFTOP_DUMP_STATS")) {
			struct strbuf t = { 0 };
			locks_deadlock_text(locks_candidate(l, 0), &t);
			fprintf(stderr, "proftop: candidate at observation %u: %s\n",
				threadmodel_observations(d->tm), t.s);
			strbuf_done(&t);
		}
		if (!pending && threadmodel_observations(d->tm) >= 2)
			break;
		if (pending)
			sleep_until(threadmodel_last_ns(d->tm) + DUMP_SETTLE_NS);
		if (threadmodel_refresh(d->tm, THREADMODEL_STOP_RUNNING) < 0)
			return -1;
	}
	return 0;
}

/*
 * Goroutines of a Go target.  A mutex that is locked with waiters may be a passing moment or a
 * stuck lock: while that is undecided (golocks' `watching`), scan again every 200 ms for up to
 * the stuck-after threshold, and say so on stderr, since the dump then takes seconds.
 */
static void dump_observe_go(struct dump *d, double stuck_after_s, bool quiet)
{
	gowatch_open(&d->go, d->pid, d->sym, stuck_after_s);
	if (!d->go.gr)
		return;
	uint64_t deadline = util_now_ns() + (uint64_t)((stuck_after_s + 1.5) * 1e9);
	bool said = false;
	for (;;) {
		char *cause;
		if (gowatch_scan(&d->go, &cause) < 0) {
			free(d->go.error);
			d->go.error = cause;
			return;
		}
		if (!d->go.rep->watching || util_now_ns() >= deadline)
			break;
		if (!said && !quiet) {
			fprintf(stderr,
				"proftop: watching %u goroutines waiting on locked mutexes for up to "
				"%.1f s before deciding whether they are stuck\n",
				d->go.rep->nwatched, d->go.rep->decide_in_s);
			said = true;
		}
		sleep_until(util_now_ns() + DUMP_GO_INTERVAL_NS);
	}
}

/* ---- text ---- */

static void text_frames(struct dump *d, const struct thread_row *r, struct strbuf *out)
{
	int k = 0;
	for (uint32_t i = 0; i < r->npcs; i++) {
		uint64_t pc = r->pcs[i];
		const struct sym_loc *loc = symbols_lookup(d->sym, i ? pc - 1 : pc);
		const struct sym_module *mod = symbols_module(d->sym, loc->module);
		for (uint32_t j = 0; j < loc->nlines; j++) {
			const struct sym_line *ln = &loc->lines[j];
			const struct sym_func *fn = symbols_func(d->sym, ln->func);
			strbuf_printf(out, "    #%-2d 0x%016llx %s", k++, (unsigned long long)pc,
				      fn ? fn->name : "?");
			if (ln->file[0])
				strbuf_printf(out, " at %s:%d", ln->file, ln->line);
			if (mod)
				strbuf_printf(out, " (%s)", mod->name);
			if (j + 1 < loc->nlines)
				strbuf_puts(out, " [inlined]");
			strbuf_putc(out, '\n');
		}
	}
	if (r->stack_truncated && r->npcs)
		strbuf_puts(out, "    ... (stack truncated)\n");
	if (r->stack_stale && r->npcs)
		strbuf_puts(out, "    (stack taken at the first observation)\n");
	if (!r->npcs && r->stack_note)
		strbuf_printf(out, "    (%s)\n", r->stack_note);
}

static void text_thread(struct dump *d, const struct thread_row *r, struct strbuf *out)
{
	const struct thread_fact *f = r->fact;
	strbuf_printf(out, "\nThread %d \"%s\" %s", (int)f->tid, f->name, r->state_word);
	if (r->state_s_kernel)
		strbuf_printf(out, " for %.1f s", r->state_s);
	else
		strbuf_printf(out, " (so for the %.2f s observed)", r->state_s);
	if (f->has_syscall) {
		if (f->sc.nr < 0)
			strbuf_puts(out, ", not in a syscall");
		else if (r->syscall_name)
			strbuf_printf(out, " in %s()", r->syscall_name);
		else
			strbuf_printf(out, " in syscall %ld", f->sc.nr);
		if (f->wchan[0])
			strbuf_printf(out, " [%s]", f->wchan);
	}
	if (r->cpu_pct >= 0)
		strbuf_printf(out, ", cpu %.0f%%", r->cpu_pct);
	strbuf_putc(out, '\n');
	const struct lock_thread *lt = r->lock;
	if (lt->wait.kind != LOCK_NONE) {
		strbuf_puts(out, "  waits: ");
		threadmodel_wait_text(d->tm, r, out);
		if (lt->deadlock >= 0)
			strbuf_printf(out, "  [DEADLOCK %d]", lt->deadlock + 1);
		else if (lt->behind >= 0)
			strbuf_printf(out, "  [behind DEADLOCK %d: %d is deadlocked]", lt->behind + 1,
				      (int)lt->behind_tid);
		else if (lt->long_wait)
			strbuf_printf(out, "  [LONG WAIT %.1f s]", lt->wait_s);
		strbuf_putc(out, '\n');
	}
	text_frames(d, r, out);
}

static const char *name_of(struct dump *d, pid_t tid)
{
	const struct thread_row *r = threadmodel_find(d->tm, tid);
	return r ? r->fact->name : "";
}

static void text_report(struct dump *d, struct strbuf *out)
{
	struct threadmodel *tm = d->tm;
	const struct locks *l = threadmodel_locks(tm);
	const char *glibc = threadmodel_glibc(tm);
	size_t n = threadmodel_count(tm);
	strbuf_printf(out, "pid %d (%s): %zu threads, ", (int)d->pid, d->comm, n);
	if (!glibc)
		strbuf_puts(out, "no glibc (futexes not decoded)");
	else if (!locks_glibc_supported(glibc))
		strbuf_printf(out, "glibc %s (layouts not verified: futexes shown as unknown)", glibc);
	else
		strbuf_printf(out, "glibc %s", glibc);
	strbuf_printf(out, "; %u observations over %.3f s\n", threadmodel_observations(tm),
		      (double)(threadmodel_last_ns(tm) - threadmodel_first_ns(tm)) / 1e9);
	struct strbuf banner = { 0 };
	if (threadmodel_banner(tm, &banner))
		strbuf_printf(out, "%s\n", banner.s);
	strbuf_done(&banner);
	for (size_t i = 0; i < n; i++)
		text_thread(d, threadmodel_row(tm, i), out);

	size_t nd = locks_ndeadlocks(l);
	strbuf_printf(out, "\nDeadlocks: %zu\n", nd);
	for (size_t i = 0; i < nd; i++) {
		const struct lock_deadlock *dl = locks_deadlock(l, i);
		strbuf_printf(out, "  %zu. ", i + 1);
		locks_deadlock_text(dl, out);
		strbuf_printf(out, "%s\n", dl->kernel ? "  (the kernel refused a lock: EDEADLK)" : "");
		for (size_t k = 0; k < dl->n; k++) {
			strbuf_printf(out, "     %d (%s): ", (int)dl->tids[k], name_of(d, dl->tids[k]));
			lock_wait_text(&dl->waits[k], name_of(d, dl->waits[k].owner), out);
			strbuf_putc(out, '\n');
		}
		strbuf_printf(out, "     all blocked for %.1f s; seen unchanged for %.2f s\n", dl->wait_s,
			      (double)(threadmodel_last_ns(tm) - dl->since_ns) / 1e9);
		for (size_t t = 0; t < locks_nthreads(l); t++) {
			const struct lock_thread *lt = locks_thread_at(l, t);
			if (lt->behind != (int)i)
				continue;
			strbuf_printf(out, "     blocked behind it: %d (%s): ", (int)lt->tid,
				      name_of(d, lt->tid));
			lock_wait_text(&lt->wait, name_of(d, lt->wait.owner), out);
			strbuf_putc(out, '\n');
		}
	}
	size_t nod = 0, nlong = 0;
	for (size_t t = 0; t < locks_nthreads(l); t++) {
		const struct lock_thread *lt = locks_thread_at(l, t);
		nod += lt->owner_died;
		nlong += lt->long_wait && lt->deadlock < 0 && lt->behind < 0;
	}
	if (nod) {
		strbuf_printf(out, "\nOwner died: %zu\n", nod);
		for (size_t t = 0; t < locks_nthreads(l); t++) {
			const struct lock_thread *lt = locks_thread_at(l, t);
			if (!lt->owner_died)
				continue;
			strbuf_printf(out, "  %d (%s): ", (int)lt->tid, name_of(d, lt->tid));
			lock_wait_text(&lt->wait, NULL, out);
			strbuf_putc(out, '\n');
		}
	}
	strbuf_printf(out, "\nLong waits (lock waits over %.0f s): %zu\n", d->long_wait_s, nlong);
	for (size_t t = 0; t < locks_nthreads(l); t++) {
		const struct lock_thread *lt = locks_thread_at(l, t);
		if (!lt->long_wait || lt->deadlock >= 0 || lt->behind >= 0)
			continue;
		strbuf_printf(out, "  %d (%s) %.1f s: ", (int)lt->tid, name_of(d, lt->tid), lt->wait_s);
		lock_wait_text(&lt->wait, name_of(d, lt->wait.owner), out);
		strbuf_putc(out, '\n');
	}
	if (d->go.is_go && d->go.error) {
		strbuf_printf(out, "\nGo %s: %s\n", d->go.version[0] ? d->go.version : "program",
			      d->go.error);
	} else if (d->go.gr && d->go.snap) {
		strbuf_putc(out, '\n');
		golocks_dump_text(d->go.gr, d->go.snap, d->go.rep, out);
	}
}

/* ---- JSON ---- */

static void json_time(struct strbuf *out)
{
	time_t secs = (time_t)(util_realtime_ns() / 1000000000u);
	struct tm tm;
	gmtime_r(&secs, &tm);
	char buf[32];
	strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
	strbuf_json_str(out, buf);
}

static void json_report(struct dump *d, struct strbuf *out)
{
	struct threadmodel *tm = d->tm;
	const char *glibc = threadmodel_glibc(tm);
	strbuf_printf(out, "{\n\"pid\":%d,\"comm\":", (int)d->pid);
	strbuf_json_str(out, d->comm);
	strbuf_puts(out, ",\"time\":");
	json_time(out);
	strbuf_puts(out, ",\"glibc\":");
	if (glibc)
		strbuf_json_str(out, glibc);
	else
		strbuf_puts(out, "null");
	strbuf_printf(out, ",\"futex_decoding\":%s,\"observations\":%u,\"interval_s\":%.3f,"
		      "\"long_wait_s\":%.3f,\n\"threads\":",
		      locks_glibc_supported(glibc) ? "true" : "false", threadmodel_observations(tm),
		      (double)(threadmodel_last_ns(tm) - threadmodel_first_ns(tm)) / 1e9, d->long_wait_s);
	threadjson_threads(tm, d->sym, out);
	strbuf_puts(out, ",\n");
	threadjson_locks(tm, out);
	strbuf_puts(out, ",\n\"go\":");
	if (d->go.is_go && d->go.error) {
		strbuf_puts(out, "{\"version\":");
		strbuf_json_str(out, d->go.version);
		strbuf_puts(out, ",\"error\":");
		strbuf_json_str(out, d->go.error);
		strbuf_putc(out, '}');
	} else if (d->go.gr && d->go.snap) {
		golocks_dump_json(d->go.gr, d->go.snap, d->go.rep, out);
	} else {
		strbuf_puts(out, "null");
	}
	strbuf_puts(out, "\n}\n");
}

int cli_dump(struct app_options *opt)
{
	if (opt->cmd || opt->pid <= 0) {
		fputs("proftop: dump looks at a running process: give -p PID\n", stderr);
		return 1;
	}
	struct dump d = { .pid = opt->pid, .long_wait_s = opt->stuck_after_s > 0 ? opt->stuck_after_s : 5,
			  .t_start = util_now_ns() };
	char *cause = NULL;
	int rc = 1;
	if (proc_target_check(d.pid, "read", &cause) < 0)
		goto out;
	util_proc_comm(d.pid, 0, d.comm, sizeof d.comm);
	/* Maps and stacks are read through a thread that has memory (not a zombie leader). */
	pid_t mm = proc_target_mm_pid(d.pid);
	d.sym = symbols_new(mm > 0 ? mm : d.pid, &cause);
	if (!d.sym)
		goto out;
	d.unw = unwinder_new(mm > 0 ? mm : d.pid);
	struct threadmodel_config cfg = { .long_wait_s = d.long_wait_s };
	d.tm = threadmodel_new(d.pid, d.sym, d.unw, &cfg, &cause);
	if (!d.tm)
		goto out;
	d.t_ready = util_now_ns();
	if (dump_observe(&d) < 0) {
		cause = xasprintf("process %d exited during the dump", (int)d.pid);
		goto out;
	}
	dump_observe_go(&d, d.long_wait_s, false);
	d.t_observed = util_now_ns();
	struct strbuf out = { 0 };
	if (opt->json)
		json_report(&d, &out);
	else
		text_report(&d, &out);
	if (util_write_all(STDOUT_FILENO, out.s, out.len) < 0) {
		cause = xasprintf("cannot write the dump: %s", strerror(errno));
		strbuf_done(&out);
		goto out;
	}
	strbuf_done(&out);
	rc = locks_ndeadlocks(threadmodel_locks(d.tm)) || (d.go.rep && d.go.rep->deadlock) ? 3 : 0;
	if (getenv("PROFTOP_DUMP_STATS")) {
		/* For bench/dump: what the dump cost and how many threads it stopped. */
		const struct threadmodel_stats *st = threadmodel_stats(d.tm);
		fprintf(stderr,
			"proftop: stats threads=%zu observations=%u unwinds=%llu reused=%llu stops=%llu "
			"stop_failures=%llu stopped_max_ms=%.3f stopped_total_ms=%.3f held_max_ms=%.3f scan_ms=%.1f "
			"stack_ms=%.1f init_ms=%.1f observe_ms=%.1f report_ms=%.1f\n",
			threadmodel_count(d.tm), threadmodel_observations(d.tm),
			(unsigned long long)st->unwinds, (unsigned long long)st->unwinds_reused,
			(unsigned long long)st->stops, (unsigned long long)st->stop_failures,
			(double)st->stopped_ns_max / 1e6, (double)st->stopped_ns_total / 1e6,
			(double)st->held_ns_max / 1e6,
			(double)st->scan_ns / 1e6, (double)st->stack_ns / 1e6,
			(double)(d.t_ready - d.t_start) / 1e6, (double)(d.t_observed - d.t_ready) / 1e6,
			(double)(util_now_ns() - d.t_observed) / 1e6);
	}
out:
	if (cause) {
		fprintf(stderr, "proftop: %s\n", cause);
		free(cause);
	}
	gowatch_close(&d.go);
	threadmodel_free(d.tm);
	unwinder_free(d.unw);
	symbols_free(d.sym);
	/* A thread whose stop came late is released now rather than by our exit. */
	tracee_pending_drain(200ull * 1000 * 1000);
	return rc;
}
