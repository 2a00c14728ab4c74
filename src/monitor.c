/* monitor: memory, threads, goroutines and mappings watched once a second (see monitor.h). */
#include "monitor.h"

#include <stdlib.h>
#include <string.h>

#include "procfs.h"

#define NS 1000000000ull
/* Each part may take this share of a core: its period stretches to cost / share. */
#define MONITOR_SHARE 0.02
/* The second observation of the threads comes this soon after the first (as dump's do): a
 * deadlock is confirmed by the second observation that sees it, and the first one's cost is
 * mostly cold caches (symbols, unwind tables), not what a refresh costs later. */
#define MONITOR_THREADS_SECOND_NS 250000000ull

static const uint64_t base_period_ns[MONITOR_NPARTS] = {
	[MONITOR_MEMORY] = NS,
	[MONITOR_THREADS] = NS,
	[MONITOR_GO] = NS,
	[MONITOR_MAPS] = 10 * NS,
};

struct monitor *monitor_new(pid_t pid, struct symbols *sym, double stuck_after_s)
{
	struct monitor *m = xcalloc(1, sizeof *m);
	m->pid = pid;
	m->sym = sym;
	m->stuck_after_s = stuck_after_s > 0 ? stuck_after_s : 5;
	pid_t mm = proc_target_mm_pid(pid); /* stacks are read through a thread with memory */
	m->unw = unwinder_new(mm > 0 ? mm : pid);
	memory_reader_init(&m->memr, pid);
	series_init(&m->series);
	struct threadmodel_config cfg = { .long_wait_s = m->stuck_after_s };
	m->tm = threadmodel_new(pid, sym, m->unw, &cfg, &m->tm_error);
	gowatch_open(&m->go, pid, sym, m->stuck_after_s);
	int n = memory_mappings_read(pid, &m->maps_base);
	m->nmaps_base = n > 0 ? (size_t)n : 0;
	uint64_t now = util_now_ns();
	for (int p = 0; p < MONITOR_NPARTS; p++) {
		m->period_ns[p] = base_period_ns[p];
		m->next_ns[p] = now; /* everything at the first tick */
	}
	m->next_ns[MONITOR_MAPS] = now + base_period_ns[MONITOR_MAPS];
	return m;
}

void monitor_free(struct monitor *m)
{
	if (!m)
		return;
	gowatch_close(&m->go);
	threadmodel_free(m->tm);
	free(m->tm_error);
	unwinder_free(m->unw);
	free(m->maps_base);
	free(m->growth);
	free(m);
}

static void refresh_go(struct monitor *m)
{
	char *cause;
	if (gowatch_scan(&m->go, &cause) < 0)
		free(cause); /* a passing failure: the last snapshot stands */
}

static void refresh_memory(struct monitor *m, uint64_t now)
{
	struct mem_point pt;
	if (memory_read(&m->memr, now, &pt) < 0) {
		m->gone = true;
		return;
	}
	long g = monitor_goroutines(m);
	if (g >= 0) {
		pt.v[MEM_GOROUTINES] = (double)g;
		pt.valid |= 1u << MEM_GOROUTINES;
	}
	series_add(&m->series, &pt);
}

static void refresh_maps(struct monitor *m)
{
	struct memory_mapping *now = NULL;
	int n = memory_mappings_read(m->pid, &now);
	if (n < 0)
		return;
	free(m->growth);
	m->growth = NULL;
	m->ngrowth = memory_growth(m->maps_base, m->nmaps_base, now, (size_t)n, &m->growth);
	free(now);
}

bool monitor_tick(struct monitor *m, uint64_t now)
{
	if (m->gone)
		return false;
	bool did = false;
	/* Go first: the memory point carries the goroutine count of this second. */
	static const enum monitor_part order[] = { MONITOR_GO, MONITOR_MEMORY, MONITOR_THREADS,
						   MONITOR_MAPS };
	for (size_t i = 0; i < UTIL_ARRAY_LEN(order); i++) {
		enum monitor_part p = order[i];
		if (now < m->next_ns[p])
			continue;
		uint64_t t0 = util_now_ns();
		switch (p) {
		case MONITOR_GO:
			refresh_go(m);
			break;
		case MONITOR_MEMORY:
			refresh_memory(m, now);
			break;
		case MONITOR_THREADS:
			if (m->tm && threadmodel_refresh(m->tm, 0) < 0)
				m->gone = true;
			break;
		case MONITOR_MAPS:
			refresh_maps(m);
			break;
		default:
			break;
		}
		uint64_t cost = util_now_ns() - t0;
		m->cost_ns[p] = cost;
		uint64_t stretched = (uint64_t)((double)cost / MONITOR_SHARE);
		m->period_ns[p] = stretched > base_period_ns[p] ? stretched : base_period_ns[p];
		m->next_ns[p] = now + m->period_ns[p];
		if (p == MONITOR_THREADS && m->tm && threadmodel_observations(m->tm) == 1)
			m->next_ns[p] = now + MONITOR_THREADS_SECOND_NS;
		did = true;
	}
	if (did)
		m->updates++;
	return did;
}

uint64_t monitor_next_ns(const struct monitor *m)
{
	uint64_t next = UINT64_MAX;
	for (int p = 0; p < MONITOR_NPARTS; p++)
		if (m->next_ns[p] < next)
			next = m->next_ns[p];
	return next;
}

void monitor_poke(struct monitor *m, enum monitor_part p)
{
	m->next_ns[p] = 0;
}

bool monitor_deadlock(const struct monitor *m, struct strbuf *out)
{
	bool any = false;
	if (m->tm && threadmodel_observations(m->tm) > 0)
		any = threadmodel_banner(m->tm, out);
	if (m->go.gr && m->go.rep && m->go.rep->deadlock) {
		if (any)
			strbuf_puts(out, " | ");
		any |= golocks_banner(m->go.rep, m->go.gr, m->go.snap, out);
	}
	return any;
}

long monitor_goroutines(const struct monitor *m)
{
	return m->go.snap ? (long)m->go.snap->counts.live : -1;
}
