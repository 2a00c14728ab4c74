/*
 * golocks: stuck Go mutexes, long waits and probable deadlocks across goroutine snapshots.
 * The rules are stated in golocks.h; this file only keeps the per-lock and per-goroutine history
 * they need and builds the report.
 */
#include "golocks.h"

#include "symbols.h"
#include "util.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* A lock's history: its fingerprint and since when it has not changed. */
struct gl_lock {
	uint64_t addr;
	uint64_t fp;           /* locked bits, semaphore count and queue heads */
	uint64_t since_ns;     /* start of the current unchanged (and locked) window */
	uint32_t nobs;         /* observations in that window */
	bool progressed;       /* changed at least once since first seen */
};

/* A waiting goroutine's history: on which lock (and sudog) since when. */
struct gl_wait {
	int64_t id;
	uint64_t lock;
	uint64_t sudog;
	uint64_t since_ns;
};

/* Per lock of the current observation, while the report is built. */
struct gl_cur {
	uint32_t snap_lock;    /* index into snap->locks */
	size_t stuck_at, nstuck;   /* in the id pool */
	size_t holders_at, nholders;
	bool known;            /* holders inferred */
	/* graph (Tarjan) */
	int index, low;
	bool on_stack;
};

/* A probable holder of a deadlocked lock with inferred holders: goroutine id, lock index. */
struct gl_held {
	int64_t id;
	uint32_t lock;
};

struct golocks {
	double stuck_after_s;
	uint64_t thr_ns;
	struct gl_lock *locks, *locks_new;
	size_t nlocks, locks_cap, locks_new_cap;
	struct gl_wait *waits, *waits_new;
	size_t nwaits, waits_cap, waits_new_cap;
	/* report */
	struct golocks_report rep;
	struct golocks_lock *out;
	size_t out_cap;
	struct gl_cur *cur;
	size_t cur_cap;
	int64_t *pool;
	size_t npool, pool_cap;
	struct golocks_member *members;
	size_t members_cap;
	/* per snapshot goroutine: index into waits (or SIZE_MAX) */
	size_t *gw;
	size_t gw_cap;
	/* the graph over stuck locks (+ one virtual node) and Tarjan's stacks, all iterative */
	uint32_t *stack, *edges, *calls, *seen;
	size_t *edge_at, *call_e;
	size_t stack_cap, edges_cap, edge_at_cap, calls_cap, call_e_cap, seen_cap;
	int counter;
	struct gl_held *held;
	size_t held_cap;
	uint32_t *inv;
	size_t inv_cap;
	/* snapshot goroutines by lock: byl[byl_at[l] .. byl_at[l+1]) */
	uint32_t *byl;
	size_t *byl_at;
	size_t byl_cap, byl_at_cap;
};

struct golocks *golocks_new(double stuck_after_s)
{
	struct golocks *gl = xcalloc(1, sizeof *gl);
	gl->stuck_after_s = stuck_after_s > 0 ? stuck_after_s : GOLOCKS_STUCK_AFTER_DEFAULT;
	gl->thr_ns = (uint64_t)(gl->stuck_after_s * 1e9);
	gl->rep.stuck_after_s = gl->stuck_after_s;
	return gl;
}

void gowatch_open(struct gowatch *w, pid_t pid, struct symbols *sym, double stuck_after_s)
{
	memset(w, 0, sizeof *w);
	w->is_go = goruntime_detect(sym, w->version, sizeof w->version);
	if (!w->is_go)
		return;
	w->gr = goruntime_open(pid, sym, NULL, &w->error);
	if (w->gr)
		w->gl = golocks_new(stuck_after_s);
}

int gowatch_scan(struct gowatch *w, char **cause)
{
	*cause = NULL;
	if (!w->gr)
		return 0;
	const struct goruntime_snapshot *snap = goruntime_scan(w->gr, cause);
	if (!snap) {
		if (!*cause)
			*cause = xstrdup("goroutines could not be read");
		return -1;
	}
	w->snap = snap;
	golocks_observe(w->gl, snap, goruntime_code_refers, w->gr);
	w->rep = golocks_report(w->gl);
	return 0;
}

void gowatch_close(struct gowatch *w)
{
	golocks_free(w->gl);
	goruntime_close(w->gr);
	free(w->error);
	memset(w, 0, sizeof *w);
}

void golocks_free(struct golocks *gl)
{
	if (!gl)
		return;
	free(gl->locks);
	free(gl->locks_new);
	free(gl->waits);
	free(gl->waits_new);
	free(gl->out);
	free(gl->cur);
	free(gl->pool);
	free(gl->members);
	free(gl->gw);
	free(gl->stack);
	free(gl->edges);
	free(gl->calls);
	free(gl->seen);
	free(gl->edge_at);
	free(gl->call_e);
	free(gl->held);
	free(gl->inv);
	free(gl->byl);
	free(gl->byl_at);
	free(gl);
}

const struct golocks_report *golocks_report(const struct golocks *gl)
{
	return &gl->rep;
}

static bool gl_kind_tracked(enum goruntime_lock_kind k)
{
	return k == GORUNTIME_LOCK_MUTEX || k == GORUNTIME_LOCK_RWMUTEX;
}

static uint64_t gl_lock_size(enum goruntime_lock_kind k)
{
	return k == GORUNTIME_LOCK_RWMUTEX ? 24 : 8;
}

static const struct gl_lock *gl_lock_old(const struct golocks *gl, uint64_t addr)
{
	size_t lo = util_lower_u64(gl->locks, gl->nlocks, UTIL_FIELD(gl->locks, addr), addr);
	return lo < gl->nlocks && gl->locks[lo].addr == addr ? &gl->locks[lo] : NULL;
}

static const struct gl_wait *gl_wait_old(const struct golocks *gl, int64_t id)
{
	size_t lo = util_lower_i64(gl->waits, gl->nwaits, UTIL_FIELD(gl->waits, id), id);
	return lo < gl->nwaits && gl->waits[lo].id == id ? &gl->waits[lo] : NULL;
}

static void gl_pool_push(struct golocks *gl, int64_t v)
{
	if (gl->npool == gl->pool_cap)
		util_grow((void **)&gl->pool, &gl->pool_cap, gl->npool + 1, sizeof *gl->pool);
	gl->pool[gl->npool++] = v;
}

static int gl_i64_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/* ---- history ---- */

/* Update the per-goroutine wait history; fills gl->gw (snapshot index -> waits index). */
static void gl_waits_update(struct golocks *gl, const struct goruntime_snapshot *snap, uint64_t now)
{
	size_t nw = 0;
	util_grow((void **)&gl->gw, &gl->gw_cap, snap->n + 1, sizeof *gl->gw);
	for (size_t i = 0; i < snap->n; i++) {
		const struct goruntime_goroutine *g = &snap->g[i];
		gl->gw[i] = SIZE_MAX;
		if (g->lock == UINT32_MAX || g->lock >= snap->nlocks ||
		    !gl_kind_tracked(snap->locks[g->lock].kind))
			continue;
		uint64_t addr = snap->locks[g->lock].addr;
		const struct gl_wait *old = gl_wait_old(gl, g->id);
		struct gl_wait w = { g->id, addr, g->sudog, now };
		if (old && old->lock == addr && old->sudog == g->sudog)
			w.since_ns = old->since_ns;
		util_grow((void **)&gl->waits_new, &gl->waits_new_cap, nw + 1, sizeof *gl->waits_new);
		gl->gw[i] = nw;
		gl->waits_new[nw++] = w; /* snapshot goroutines come in ascending id */
	}
	struct gl_wait *t = gl->waits;
	gl->waits = gl->waits_new;
	gl->waits_new = t;
	size_t c = gl->waits_cap;
	gl->waits_cap = gl->waits_new_cap;
	gl->waits_new_cap = c;
	gl->nwaits = nw;
}

/* Fingerprint of every tracked lock: its words and the heads of its queues. */
static void gl_locks_update(struct golocks *gl, const struct goruntime_snapshot *snap, uint64_t now)
{
	uint64_t *heads = xcalloc(snap->nlocks + 1, sizeof *heads);
	for (size_t i = 0; i < snap->n; i++) {
		const struct goruntime_goroutine *g = &snap->g[i];
		if (g->lock < snap->nlocks && g->queue_pos == 0)
			heads[g->lock] ^= util_hash64(util_hash64((uint64_t)g->id) ^ g->sudog);
	}
	size_t nl = 0;
	for (size_t i = 0; i < snap->nlocks; i++) {
		const struct goruntime_lock *l = &snap->locks[i];
		if (!gl_kind_tracked(l->kind))
			continue;
		uint64_t fp = util_hash64(l->state & 7);
		fp = util_hash64(fp ^ ((uint64_t)l->sema << 8) ^ (uint64_t)(l->readers < 0 ? 1 : l->readers > 0 ? 2 : 0));
		fp = util_hash64(fp ^ heads[i]);
		const struct gl_lock *old = gl_lock_old(gl, l->addr);
		struct gl_lock s = { l->addr, fp, now, 1, false };
		if (old) {
			s.progressed = old->progressed;
			if (old->fp == fp && l->locked) {
				s.since_ns = old->since_ns;
				s.nobs = old->nobs + 1;
			} else if (old->fp != fp) {
				s.progressed = true;
			}
		}
		util_grow((void **)&gl->locks_new, &gl->locks_new_cap, nl + 1, sizeof *gl->locks_new);
		gl->locks_new[nl++] = s; /* snapshot locks come in ascending address */
	}
	free(heads);
	struct gl_lock *t = gl->locks;
	gl->locks = gl->locks_new;
	gl->locks_new = t;
	size_t c = gl->locks_cap;
	gl->locks_cap = gl->locks_new_cap;
	gl->locks_new_cap = c;
	gl->nlocks = nl;
}

/* ---- the wait-for graph of stuck locks ---- */

static void gl_edge_add(struct golocks *gl, size_t *n, uint32_t to)
{
	if (*n == gl->edges_cap)
		util_grow((void **)&gl->edges, &gl->edges_cap, *n + 1, sizeof *gl->edges);
	gl->edges[(*n)++] = to;
}

/* Index into cur[] (and gl->locks) of the stuck lock the goroutine with this id has been stuck
 * on for the threshold, or UINT32_MAX: two binary searches. */
static uint32_t gl_stuck_on(const struct golocks *gl, size_t nl, int64_t id, uint64_t now)
{
	const struct gl_wait *w = gl_wait_old(gl, id);
	if (!w || now - w->since_ns < gl->thr_ns)
		return UINT32_MAX;
	const struct gl_lock *l = gl_lock_old(gl, w->lock);
	size_t k = l ? (size_t)(l - gl->locks) : SIZE_MAX;
	return k < nl && gl->out[k].stuck ? (uint32_t)k : UINT32_MAX;
}

/* Tarjan: number v and push it on the component stack and the call stack. */
static void gl_tarjan_visit(struct golocks *gl, uint32_t v, size_t *sp, size_t *cp)
{
	gl->cur[v].index = gl->cur[v].low = gl->counter++;
	gl->cur[v].on_stack = true;
	gl->stack[(*sp)++] = v;
	gl->calls[*cp] = v;
	gl->call_e[(*cp)++] = gl->edge_at[v];
}

/*
 * Tarjan's strongly connected components from root, with an explicit call stack (a chain of
 * many thousand locks needs no deep C stack); the stacks hold every node at most once, sized
 * by the caller.  Components are completed in the order of the recursive algorithm.  One of
 * >= 2 real locks (nodes below nreal; the virtual node does not count) is a deadlock.
 */
static void gl_tarjan(struct golocks *gl, uint32_t root, uint32_t nreal)
{
	size_t sp = 0, cp = 0;
	gl_tarjan_visit(gl, root, &sp, &cp);
	while (cp) {
		uint32_t v = gl->calls[cp - 1];
		if (gl->call_e[cp - 1] < gl->edge_at[v + 1]) {
			uint32_t w = gl->edges[gl->call_e[cp - 1]++];
			if (gl->cur[w].index < 0)
				gl_tarjan_visit(gl, w, &sp, &cp);
			else if (gl->cur[w].on_stack && gl->cur[w].index < gl->cur[v].low)
				gl->cur[v].low = gl->cur[w].index;
			continue;
		}
		/* v is done: its low goes to its caller, and it may close a component. */
		cp--;
		if (cp && gl->cur[v].low < gl->cur[gl->calls[cp - 1]].low)
			gl->cur[gl->calls[cp - 1]].low = gl->cur[v].low;
		if (gl->cur[v].low != gl->cur[v].index)
			continue;
		size_t at = sp, nr = 0;
		do {
			at--;
			gl->cur[gl->stack[at]].on_stack = false;
			nr += gl->stack[at] < nreal;
		} while (gl->stack[at] != v);
		if (nr >= 2) {
			/* A cycle: its locks are deadlocked. */
			for (size_t k = at; k < sp; k++) {
				if (gl->stack[k] >= nreal)
					continue;
				gl->out[gl->stack[k]].deadlocked = true;
				gl->out[gl->stack[k]].cycle = (uint32_t)gl->rep.ndeadlocks;
			}
			gl->rep.deadlock = true;
			gl->rep.ndeadlocks++;
		}
		sp = at;
	}
}

/*
 * The graph over stuck locks: L -> M when a stuck waiter of M probably holds L, in CSR form
 * (edges[edge_at[L] .. edge_at[L+1])).  A lock whose holder is unknown may be held by any
 * stuck waiter: rather than an edge to every other stuck lock (ns² of them), it has one edge to
 * a virtual node nl, which has one to every stuck lock.  Paths between distinct locks stay the
 * same (nl -> L itself only closes L -> nl -> L, which gl_tarjan() does not count as a cycle).
 * Each holder costs two binary searches; edges to the same lock are kept once.
 */
static void gl_graph_build(struct golocks *gl, size_t nl, uint64_t now)
{
	util_grow((void **)&gl->edge_at, &gl->edge_at_cap, nl + 2, sizeof *gl->edge_at);
	util_grow((void **)&gl->seen, &gl->seen_cap, nl + 1, sizeof *gl->seen);
	memset(gl->seen, 0, (nl + 1) * sizeof *gl->seen);
	uint32_t virt = (uint32_t)nl;
	bool unknown = false;
	size_t ne = 0;
	for (size_t i = 0; i < nl; i++) {
		gl->edge_at[i] = ne;
		const struct gl_cur *c = &gl->cur[i];
		if (!gl->out[i].stuck)
			continue;
		if (!c->known) {
			gl_edge_add(gl, &ne, virt);
			unknown = true;
			continue;
		}
		for (size_t h = 0; h < c->nholders; h++) {
			uint32_t s = gl_stuck_on(gl, nl, gl->pool[c->holders_at + h], now);
			if (s != UINT32_MAX && s != i && gl->seen[s] != i + 1) {
				gl->seen[s] = (uint32_t)i + 1;
				gl_edge_add(gl, &ne, s);
			}
		}
	}
	gl->edge_at[nl] = ne;
	for (size_t i = 0; unknown && i < nl; i++)
		if (gl->out[i].stuck)
			gl_edge_add(gl, &ne, (uint32_t)i);
	gl->edge_at[nl + 1] = ne;
}

/* ---- report ---- */

static int gl_out_cmp(const void *a, const void *b)
{
	const struct golocks_lock *x = a, *y = b;
	int rx = x->deadlocked ? 0 : x->long_wait ? 1 : 2, ry = y->deadlocked ? 0 : y->long_wait ? 1 : 2;
	if (rx != ry)
		return rx < ry ? -1 : 1;
	if (x->cycle != y->cycle)
		return x->cycle < y->cycle ? -1 : 1;
	if (x->max_wait_s != y->max_wait_s)
		return x->max_wait_s > y->max_wait_s ? -1 : 1;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static int gl_member_cmp(const void *a, const void *b)
{
	const struct golocks_member *x = a, *y = b;
	if (x->cycle != y->cycle)
		return x->cycle < y->cycle ? -1 : 1;
	return x->goroutine < y->goroutine ? -1 : x->goroutine > y->goroutine;
}

struct gl_pair {
	uint64_t since;
	int64_t id;
};

static int gl_pair_cmp(const void *a, const void *b)
{
	const struct gl_pair *x = a, *y = b;
	if (x->since != y->since)
		return x->since < y->since ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* Stuck waiters of one lock, longest first (ids into the pool); the lock's longest wait. */
static void gl_stuck_collect(struct golocks *gl, const struct goruntime_snapshot *snap, uint32_t li,
			     uint64_t now, struct gl_cur *c, struct golocks_lock *o)
{
	size_t n = gl->byl_at[li + 1] - gl->byl_at[li], k = 0;
	struct gl_pair *p = xmalloc((n ? n : 1) * sizeof *p);
	for (size_t b = gl->byl_at[li]; b < gl->byl_at[li + 1]; b++) {
		size_t i = gl->byl[b];
		const struct goruntime_goroutine *g = &snap->g[i];
		if (gl->gw[i] == SIZE_MAX)
			continue;
		uint64_t since = gl->waits[gl->gw[i]].since_ns;
		double w = (double)(now - since) / 1e9;
		if (g->wait_s > w)
			w = g->wait_s;
		if (w > o->max_wait_s)
			o->max_wait_s = w;
		if (now - since >= gl->thr_ns)
			p[k++] = (struct gl_pair){ since, g->id };
	}
	qsort(p, k, sizeof *p, gl_pair_cmp);
	c->stuck_at = gl->npool;
	c->nstuck = k;
	for (size_t i = 0; i < k; i++)
		gl_pool_push(gl, p[i].id);
	free(p);
}

/* Probable holders of a stuck lock: goroutines (groups share a stack) with a frame whose code
 * refers to the lock and that do not wait on it themselves; when some frames lock or unlock it,
 * only those (a function that merely takes its address is not a holder). */
static void gl_holders_collect(struct golocks *gl, const struct goruntime_snapshot *snap, uint32_t li,
			       golocks_refs_fn refs, void *arg, struct gl_cur *c)
{
	c->holders_at = gl->npool;
	c->nholders = 0;
	c->known = false;
	if (!refs || !snap->ngroups)
		return;
	const struct goruntime_lock *l = &snap->locks[li];
	uint64_t lo = l->addr, hi = l->addr + gl_lock_size(l->kind);
	int *strength = xcalloc(snap->ngroups, sizeof *strength);
	for (size_t k = 0; k < snap->ngroups; k++) {
		const struct goruntime_group *grp = &snap->groups[k];
		if (grp->system || !grp->count)
			continue;
		const struct goruntime_goroutine *g0 = &snap->g[grp->members[0]];
		for (uint32_t f = 0; f < g0->nframes && strength[k] < 2; f++) {
			int s = refs(arg, g0->pcs[f], lo, hi);
			if (s > strength[k])
				strength[k] = s;
		}
	}
	for (int pass = 2; pass >= 1 && gl->npool == c->holders_at; pass--) {
		for (size_t k = 0; k < snap->ngroups; k++) {
			const struct goruntime_group *grp = &snap->groups[k];
			if (strength[k] != pass)
				continue;
			for (uint32_t m = 0; m < grp->count; m++) {
				const struct goruntime_goroutine *g = &snap->g[grp->members[m]];
				if (g->lock != li)
					gl_pool_push(gl, g->id);
			}
		}
	}
	free(strength);
	c->nholders = gl->npool - c->holders_at;
	c->known = c->nholders > 0;
	qsort(gl->pool + c->holders_at, c->nholders, sizeof *gl->pool, gl_i64_cmp);
}

static int gl_held_cmp(const void *a, const void *b)
{
	const struct gl_held *x = a, *y = b;
	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return x->lock < y->lock ? -1 : x->lock > y->lock;
}

/* Every probable holder of a deadlocked lock with inferred holders, as (id, lock) sorted by id
 * then lock; returns the count. */
static size_t gl_held_build(struct golocks *gl, size_t nl)
{
	size_t n = 0;
	for (size_t j = 0; j < nl; j++) {
		const struct gl_cur *c = &gl->cur[j];
		if (!gl->out[j].deadlocked || !c->known)
			continue;
		util_grow((void **)&gl->held, &gl->held_cap, n + c->nholders + 1, sizeof *gl->held);
		for (size_t h = 0; h < c->nholders; h++)
			gl->held[n++] = (struct gl_held){ gl->pool[c->holders_at + h], (uint32_t)j };
	}
	if (n > 1)
		qsort(gl->held, n, sizeof *gl->held, gl_held_cmp);
	return n;
}

/* The first lock (lowest index) other than lock i, of cycle, that goroutine id probably holds;
 * UINT32_MAX when none. */
static uint32_t gl_held_find(const struct golocks *gl, size_t n, int64_t id, uint32_t i,
			     uint32_t cycle)
{
	size_t lo = util_lower_i64(gl->held, n, UTIL_FIELD(gl->held, id), id);
	for (; lo < n && gl->held[lo].id == id; lo++)
		if (gl->held[lo].lock != i && gl->out[gl->held[lo].lock].cycle == cycle)
			return gl->held[lo].lock;
	return UINT32_MAX;
}

/* Goroutine indices of the snapshot grouped by the lock they wait on (counting sort). */
static void gl_bucket(struct golocks *gl, const struct goruntime_snapshot *snap)
{
	util_grow((void **)&gl->byl_at, &gl->byl_at_cap, snap->nlocks + 2, sizeof *gl->byl_at);
	util_grow((void **)&gl->byl, &gl->byl_cap, snap->n + 1, sizeof *gl->byl);
	memset(gl->byl_at, 0, (snap->nlocks + 2) * sizeof *gl->byl_at);
	for (size_t i = 0; i < snap->n; i++)
		if (snap->g[i].lock < snap->nlocks)
			gl->byl_at[snap->g[i].lock + 2]++;
	for (size_t l = 2; l < snap->nlocks + 2; l++)
		gl->byl_at[l] += gl->byl_at[l - 1];
	for (size_t i = 0; i < snap->n; i++)
		if (snap->g[i].lock < snap->nlocks)
			gl->byl[gl->byl_at[snap->g[i].lock + 1]++] = (uint32_t)i;
}

void golocks_observe(struct golocks *gl, const struct goruntime_snapshot *snap, golocks_refs_fn refs,
		     void *refs_arg)
{
	uint64_t now = snap->time_ns;
	gl_locks_update(gl, snap, now);
	gl_waits_update(gl, snap, now);

	struct golocks_report *r = &gl->rep;
	memset(r, 0, sizeof *r);
	r->time_ns = now;
	r->stuck_after_s = gl->stuck_after_s;
	gl->npool = 0;
	gl_bucket(gl, snap);
	size_t nl = gl->nlocks;
	util_grow((void **)&gl->out, &gl->out_cap, nl + 1, sizeof *gl->out);
	util_grow((void **)&gl->cur, &gl->cur_cap, nl + 1, sizeof *gl->cur);
	/* locks of the snapshot that are tracked, in the same (address) order as gl->locks */
	size_t k = 0;
	for (size_t i = 0; i < snap->nlocks && k < nl; i++) {
		const struct goruntime_lock *l = &snap->locks[i];
		if (!gl_kind_tracked(l->kind))
			continue;
		const struct gl_lock *h = &gl->locks[k];
		struct gl_cur *c = &gl->cur[k];
		struct golocks_lock *o = &gl->out[k];
		memset(c, 0, sizeof *c);
		c->snap_lock = (uint32_t)i;
		c->index = -1;
		*o = (struct golocks_lock){ .addr = l->addr, .kind = l->kind, .symbol = l->symbol,
					    .locked = l->locked, .nwaiters = l->nwaiters,
					    .max_wait_s = 0, .cycle = UINT32_MAX };
		o->unchanged_s = l->locked ? (double)(now - h->since_ns) / 1e9 : 0;
		gl_stuck_collect(gl, snap, (uint32_t)i, now, c, o);
		o->stuck = l->locked && h->nobs >= 2 && now - h->since_ns >= gl->thr_ns && c->nstuck > 0;
		if (o->stuck) {
			r->nstuck++;
			gl_holders_collect(gl, snap, (uint32_t)i, refs, refs_arg, c);
		} else if (l->locked && l->nwaiters && !h->progressed) {
			double left = gl->stuck_after_s - (double)(now - h->since_ns) / 1e9;
			if (left < 0)
				left = 0;
			if (!r->watching || left < r->decide_in_s)
				r->decide_in_s = left;
			r->watching = true;
			r->nwatched += l->nwaiters;
		}
		k++;
	}
	nl = k;

	/* The wait-for graph and its cycles (the virtual node is cur[nl]); roots in address order. */
	gl_graph_build(gl, nl, now);
	util_grow((void **)&gl->stack, &gl->stack_cap, nl + 2, sizeof *gl->stack);
	util_grow((void **)&gl->calls, &gl->calls_cap, nl + 2, sizeof *gl->calls);
	util_grow((void **)&gl->call_e, &gl->call_e_cap, nl + 2, sizeof *gl->call_e);
	memset(&gl->cur[nl], 0, sizeof gl->cur[nl]);
	gl->cur[nl].index = -1;
	gl->counter = 0;
	bool all_known = true;
	for (size_t i = 0; i < nl; i++)
		if (gl->out[i].stuck && gl->cur[i].index < 0)
			gl_tarjan(gl, (uint32_t)i, (uint32_t)nl);
	/* holders_known: every deadlocked lock had inferred holders */
	bool any = false;
	for (size_t i = 0; i < nl; i++) {
		if (!gl->out[i].deadlocked)
			continue;
		any = true;
		all_known = all_known && gl->cur[i].known;
	}
	r->holders_known = any && all_known;
	for (size_t i = 0; i < nl; i++) {
		struct golocks_lock *o = &gl->out[i];
		o->long_wait = o->stuck && !o->deadlocked;
		if (o->long_wait)
			r->nlong_waits++;
	}

	/* Deadlock members, by lock of the cycle: its stuck waiters that probably hold another
	 * lock of the cycle, else its longest-waiting one. */
	size_t nm = 0, nheld = gl_held_build(gl, nl);
	for (size_t i = 0; i < nl; i++) {
		if (!gl->out[i].deadlocked)
			continue;
		const struct gl_cur *c = &gl->cur[i];
		size_t before = nm;
		for (size_t w = 0; w < c->nstuck; w++) {
			int64_t id = gl->pool[c->stuck_at + w];
			uint32_t holds = gl_held_find(gl, nheld, id, (uint32_t)i, gl->out[i].cycle);
			if (holds == UINT32_MAX)
				continue;
			util_grow((void **)&gl->members, &gl->members_cap, nm + 1, sizeof *gl->members);
			gl->members[nm++] = (struct golocks_member){ gl->out[i].cycle, id, (uint32_t)i, holds };
		}
		if (nm == before && c->nstuck) {
			util_grow((void **)&gl->members, &gl->members_cap, nm + 1, sizeof *gl->members);
			gl->members[nm++] = (struct golocks_member){ gl->out[i].cycle, gl->pool[c->stuck_at],
								     (uint32_t)i, UINT32_MAX };
		}
	}

	/* The pool has stopped growing: point into it, then put the locks in report order and
	 * renumber the members' lock indices. */
	for (size_t i = 0; i < nl; i++) {
		struct golocks_lock *o = &gl->out[i];
		const struct gl_cur *c = &gl->cur[i];
		o->nstuck = o->stuck ? c->nstuck : 0;
		o->stuck_ids = o->nstuck ? gl->pool + c->stuck_at : NULL;
		o->nholders = o->stuck ? c->nholders : 0;
		o->holders = o->nholders ? gl->pool + c->holders_at : NULL;
		o->order = (uint32_t)i;
	}
	if (nl > 1)
		qsort(gl->out, nl, sizeof *gl->out, gl_out_cmp);
	util_grow((void **)&gl->inv, &gl->inv_cap, nl + 1, sizeof *gl->inv);
	for (size_t i = 0; i < nl; i++)
		gl->inv[gl->out[i].order] = (uint32_t)i;
	for (size_t m = 0; m < nm; m++) {
		struct golocks_member *mb = &gl->members[m];
		mb->waits_on = gl->inv[mb->waits_on];
		if (mb->holds != UINT32_MAX)
			mb->holds = gl->inv[mb->holds];
	}
	if (nm > 1)
		qsort(gl->members, nm, sizeof *gl->members, gl_member_cmp);
	r->nlocks = nl;
	r->locks = gl->out;
	r->members = nm ? gl->members : NULL;
	r->nmembers = nm;
}

/* ---- text and JSON ---- */

enum { GL_IDS_SHOWN = 12 };

void golocks_lock_name(const struct golocks_lock *l, struct strbuf *out)
{
	if (l->symbol)
		strbuf_puts(out, l->symbol);
	else
		strbuf_printf(out, "%s 0x%" PRIx64, goruntime_lock_kind_name(l->kind), l->addr);
}

/* Where a goroutine waits, "main.ledgerThenAccounts (main.go:46)" with the file's base name. */
static void gl_frame_short(struct goruntime *gr, const struct goruntime_snapshot *snap, int64_t id,
			   bool full_path, struct strbuf *out)
{
	const struct goruntime_goroutine *g = gr && snap ? goruntime_snapshot_find(snap, id) : NULL;
	const struct sym_line *ln = g ? goruntime_wait_frame(gr, g) : NULL;
	if (!ln)
		return;
	const struct sym_func *fn = symbols_func(goruntime_symbols(gr), ln->func);
	const char *file = ln->file, *slash = strrchr(file, '/');
	if (!full_path && slash)
		file = slash + 1;
	strbuf_printf(out, " at %s (%s:%d)", fn ? fn->name : "?", file, ln->line);
}

/* The first member of a cycle (members are sorted by cycle); r->nmembers when it has none. */
static size_t gl_member_first(const struct golocks_report *r, uint32_t cycle)
{
	return util_lower_u32(r->members, r->nmembers, UTIL_FIELD(r->members, cycle), cycle);
}

/* One cycle: "goroutine 23 holds main.ledger, waits main.accounts at ...; goroutine 24 ...". */
static void gl_cycle_text(const struct golocks_report *r, uint32_t cycle, struct goruntime *gr,
			  const struct goruntime_snapshot *snap, struct strbuf *out)
{
	int k = 0;
	for (size_t m = gl_member_first(r, cycle); m < r->nmembers && r->members[m].cycle == cycle; m++) {
		const struct golocks_member *mb = &r->members[m];
		strbuf_printf(out, "%sgoroutine %" PRId64 " ", k++ ? "; " : "", mb->goroutine);
		if (mb->holds != UINT32_MAX) {
			strbuf_puts(out, "holds ");
			golocks_lock_name(&r->locks[mb->holds], out);
			strbuf_puts(out, ", ");
		}
		strbuf_puts(out, "waits ");
		golocks_lock_name(&r->locks[mb->waits_on], out);
		gl_frame_short(gr, snap, mb->goroutine, false, out);
	}
}

/* Were the holders of every lock of this cycle inferred (not assumed)?  The report's locks
 * are deadlocked first, by cycle (the others have cycle UINT32_MAX): a binary search. */
static bool gl_cycle_known(const struct golocks_report *r, uint32_t cycle)
{
	size_t lo = util_lower_u32(r->locks, r->nlocks, UTIL_FIELD(r->locks, cycle), cycle);
	for (; lo < r->nlocks && r->locks[lo].cycle == cycle; lo++)
		if (!r->locks[lo].nholders)
			return false;
	return true;
}

bool golocks_banner(const struct golocks_report *r, struct goruntime *gr,
		    const struct goruntime_snapshot *snap, struct strbuf *out)
{
	if (!r->deadlock)
		return false;
	strbuf_puts(out, "DEADLOCK (Go): ");
	gl_cycle_text(r, 0, gr, snap, out);
	if (r->ndeadlocks > 1)
		strbuf_printf(out, " (+%zu more)", r->ndeadlocks - 1);
	return true;
}

static void gl_group_state(const struct goruntime_snapshot *snap, const struct goruntime_group *grp,
			   struct strbuf *out)
{
	const struct goruntime_goroutine *g = &snap->g[grp->members[0]];
	strbuf_puts(out, goruntime_status_name(g->status));
	if (g->wait_reason[0])
		strbuf_printf(out, ": %s", g->wait_reason);
	if (grp->max_wait_s >= 0)
		strbuf_printf(out, ", %.1f s", grp->max_wait_s);
	if (grp->system)
		strbuf_puts(out, ", runtime");
}

static void gl_ids(const struct goruntime_snapshot *snap, const struct goruntime_group *grp,
		   struct strbuf *out)
{
	for (uint32_t m = 0; m < grp->count && m < GL_IDS_SHOWN; m++)
		strbuf_printf(out, " %" PRId64, snap->g[grp->members[m]].id);
	if (grp->count > GL_IDS_SHOWN)
		strbuf_printf(out, " ... (+%u)", grp->count - GL_IDS_SHOWN);
}

static void gl_frames_text(struct symbols *sym, const struct goruntime_goroutine *g, struct strbuf *out)
{
	if (g->flags & GORUNTIME_G_TORN) {
		strbuf_puts(out, "    (changed while read: no stack)\n");
		return;
	}
	if (!g->nframes) {
		if (g->tid)
			strbuf_printf(out, "    (running on thread %d: stack not read)\n", (int)g->tid);
		else
			strbuf_puts(out, "    (no stack)\n");
		return;
	}
	for (uint32_t i = 0; i < g->nframes; i++) {
		const struct sym_loc *loc = symbols_lookup(sym, g->pcs[i]);
		for (uint32_t j = 0; j < loc->nlines; j++) {
			const struct sym_func *fn = symbols_func(sym, loc->lines[j].func);
			strbuf_printf(out, "    %-36s %s:%d%s\n", fn ? fn->name : "?", loc->lines[j].file,
				      loc->lines[j].line, j + 1 < loc->nlines ? " (inlined)" : "");
		}
	}
	if (g->flags & GORUNTIME_G_TRUNCATED)
		strbuf_puts(out, "    ...\n");
}

/* The lock of a group when every member waits on the same one, else NULL. */
static const struct goruntime_lock *gl_group_lock(const struct goruntime_snapshot *snap,
						  const struct goruntime_group *grp)
{
	uint32_t l = snap->g[grp->members[0]].lock;
	if (l >= snap->nlocks)
		return NULL;
	for (uint32_t m = 1; m < grp->count; m++)
		if (snap->g[grp->members[m]].lock != l)
			return NULL;
	return &snap->locks[l];
}

void golocks_dump_text(struct goruntime *gr, const struct goruntime_snapshot *snap,
		       const struct golocks_report *r, struct strbuf *out)
{
	struct symbols *sym = goruntime_symbols(gr);
	const struct goruntime_counts *c = &snap->counts;
	strbuf_printf(out, "\nGo %s: %u goroutines (%u user, %u runtime), %zu stacks, %zu semaphores "
			   "waited on\n", goruntime_version(gr), c->live, c->user, c->system, snap->ngroups,
		      snap->nlocks);
	if (golocks_banner(r, gr, snap, out))
		strbuf_putc(out, '\n');
	for (size_t k = 0; k < snap->ngroups; k++) {
		const struct goruntime_group *grp = &snap->groups[k];
		strbuf_printf(out, "\n%u goroutine%s [", grp->count, grp->count == 1 ? "" : "s");
		gl_group_state(snap, grp, out);
		strbuf_putc(out, ']');
		const struct goruntime_lock *l = gl_group_lock(snap, grp);
		if (l) {
			strbuf_printf(out, " on %s %s", goruntime_lock_kind_name(l->kind),
				      l->symbol ? l->symbol : "");
			if (!l->symbol)
				strbuf_printf(out, "0x%" PRIx64, l->addr);
			if (l->kind == GORUNTIME_LOCK_MUTEX || l->kind == GORUNTIME_LOCK_RWMUTEX)
				strbuf_puts(out, l->locked ? " (locked)" : " (unlocked)");
		}
		strbuf_putc(out, ':');
		gl_ids(snap, grp, out);
		strbuf_putc(out, '\n');
		gl_frames_text(sym, &snap->g[grp->members[0]], out);
	}

	strbuf_printf(out, "\nGo stuck mutexes (unchanged for %.0f s): %zu\n", r->stuck_after_s,
		      r->nstuck);
	for (size_t i = 0; i < r->nlocks; i++) {
		const struct golocks_lock *l = &r->locks[i];
		if (!l->stuck)
			continue;
		strbuf_printf(out, "  %s ", goruntime_lock_kind_name(l->kind));
		golocks_lock_name(l, out);
		strbuf_printf(out, " (0x%" PRIx64 ") locked, unchanged %.1f s, %u waiting, stuck:", l->addr,
			      l->unchanged_s, l->nwaiters);
		for (size_t k = 0; k < l->nstuck && k < GL_IDS_SHOWN; k++)
			strbuf_printf(out, " %" PRId64, l->stuck_ids[k]);
		if (l->nstuck > GL_IDS_SHOWN)
			strbuf_printf(out, " ... (+%zu)", l->nstuck - GL_IDS_SHOWN);
		if (l->nholders) {
			strbuf_puts(out, "; probably held by");
			for (size_t k = 0; k < l->nholders && k < GL_IDS_SHOWN; k++)
				strbuf_printf(out, "%s %" PRId64, k ? "," : "", l->holders[k]);
			if (l->nholders > GL_IDS_SHOWN)
				strbuf_printf(out, " ... (+%zu)", l->nholders - GL_IDS_SHOWN);
		} else {
			strbuf_puts(out, "; holder unknown");
		}
		if (l->deadlocked)
			strbuf_printf(out, "  [DEADLOCK %u]", l->cycle + 1);
		else
			strbuf_puts(out, "  [long wait]");
		strbuf_putc(out, '\n');
	}
	strbuf_printf(out, "\nGo deadlocks: %zu\n", r->ndeadlocks);
	for (uint32_t d = 0; d < r->ndeadlocks; d++) {
		strbuf_printf(out, "  %u. ", d + 1);
		gl_cycle_text(r, d, NULL, NULL, out);
		strbuf_printf(out, "%s\n", gl_cycle_known(r, d) ? "" : "  (holders unknown: assumed from "
									  "the waits alone)");
		for (size_t m = gl_member_first(r, d); m < r->nmembers && r->members[m].cycle == d; m++) {
			strbuf_printf(out, "     goroutine %" PRId64 " waits", r->members[m].goroutine);
			gl_frame_short(gr, snap, r->members[m].goroutine, true, out);
			strbuf_putc(out, '\n');
		}
	}
	strbuf_printf(out, "\nGo long waits (locked mutexes unchanged for %.0f s, no cycle): %zu\n",
		      r->stuck_after_s, r->nlong_waits);
	for (size_t i = 0; i < r->nlocks; i++) {
		const struct golocks_lock *l = &r->locks[i];
		if (!l->long_wait)
			continue;
		strbuf_puts(out, "  ");
		golocks_lock_name(l, out);
		strbuf_printf(out, " %.1f s:", l->max_wait_s);
		for (size_t k = 0; k < l->nstuck && k < GL_IDS_SHOWN; k++) {
			strbuf_printf(out, "%s goroutine %" PRId64, k ? "," : "", l->stuck_ids[k]);
			if (k == 0)
				gl_frame_short(gr, snap, l->stuck_ids[k], false, out);
		}
		if (l->nholders == 1) {
			strbuf_printf(out, "; held by goroutine %" PRId64, l->holders[0]);
			const struct goruntime_goroutine *h = goruntime_snapshot_find(snap, l->holders[0]);
			if (h)
				strbuf_printf(out, " [%s%s%s]", goruntime_status_name(h->status),
					      h->wait_reason[0] ? ": " : "", h->wait_reason);
			gl_frame_short(gr, snap, l->holders[0], false, out);
		}
		strbuf_putc(out, '\n');
	}
}

static void gl_json_hex(struct strbuf *out, uint64_t v)
{
	strbuf_printf(out, "\"0x%" PRIx64 "\"", v);
}

static void gl_json_frames(struct symbols *sym, const struct goruntime_goroutine *g, struct strbuf *out)
{
	strbuf_putc(out, '[');
	int k = 0;
	for (uint32_t i = 0; i < g->nframes; i++) {
		const struct sym_loc *loc = symbols_lookup(sym, g->pcs[i]);
		for (uint32_t j = 0; j < loc->nlines; j++) {
			const struct sym_func *fn = symbols_func(sym, loc->lines[j].func);
			strbuf_puts(out, k++ ? ",{\"function\":" : "{\"function\":");
			strbuf_json_str(out, fn ? fn->name : "?");
			strbuf_puts(out, ",\"file\":");
			strbuf_json_str(out, loc->lines[j].file);
			strbuf_printf(out, ",\"line\":%d,\"addr\":", loc->lines[j].line);
			gl_json_hex(out, g->pcs[i]);
			strbuf_printf(out, ",\"inline\":%s}", j + 1 < loc->nlines ? "true" : "false");
		}
	}
	strbuf_putc(out, ']');
}

static void gl_json_ids(const int64_t *ids, size_t n, struct strbuf *out)
{
	strbuf_putc(out, '[');
	for (size_t i = 0; i < n; i++)
		strbuf_printf(out, "%s%" PRId64, i ? "," : "", ids[i]);
	strbuf_putc(out, ']');
}

static void gl_json_symbol(const char *s, struct strbuf *out)
{
	if (s)
		strbuf_json_str(out, s);
	else
		strbuf_puts(out, "null");
}

void golocks_dump_json(struct goruntime *gr, const struct goruntime_snapshot *snap,
		       const struct golocks_report *r, struct strbuf *out)
{
	struct symbols *sym = goruntime_symbols(gr);
	const struct goruntime_counts *c = &snap->counts;
	strbuf_puts(out, "{\"version\":");
	strbuf_json_str(out, goruntime_version(gr));
	strbuf_printf(out, ",\"goroutines_total\":%u,\"user\":%u,\"system\":%u,\"torn\":%u,"
			   "\"stuck_after_s\":%.3f,\n\"goroutines\":[",
		      c->live, c->user, c->system, c->torn, r->stuck_after_s);
	for (size_t i = 0; i < snap->n; i++) {
		const struct goruntime_goroutine *g = &snap->g[i];
		strbuf_printf(out, "%s\n {\"id\":%" PRId64 ",\"status\":", i ? "," : "", g->id);
		strbuf_json_str(out, goruntime_status_name(g->status));
		strbuf_puts(out, ",\"wait_reason\":");
		strbuf_json_str(out, g->wait_reason);
		if (g->wait_s >= 0)
			strbuf_printf(out, ",\"wait_s\":%.3f", g->wait_s);
		else
			strbuf_puts(out, ",\"wait_s\":null");
		strbuf_printf(out, ",\"system\":%s,\"tid\":", g->system ? "true" : "false");
		if (g->tid)
			strbuf_printf(out, "%d", (int)g->tid);
		else
			strbuf_puts(out, "null");
		strbuf_puts(out, ",\"flags\":[");
		int f = 0;
		if (g->scan)
			strbuf_printf(out, "%s\"gc_scan\"", f++ ? "," : "");
		if (g->flags & GORUNTIME_G_TORN)
			strbuf_printf(out, "%s\"torn\"", f++ ? "," : "");
		if (g->flags & GORUNTIME_G_NOSTACK)
			strbuf_printf(out, "%s\"no_stack\"", f++ ? "," : "");
		if (g->flags & GORUNTIME_G_TRUNCATED)
			strbuf_printf(out, "%s\"truncated\"", f++ ? "," : "");
		if (g->flags & GORUNTIME_G_LOCK_UNKNOWN)
			strbuf_printf(out, "%s\"lock_unknown\"", f++ ? "," : "");
		strbuf_puts(out, "],\"mutex\":");
		if (g->lock < snap->nlocks) {
			const struct goruntime_lock *l = &snap->locks[g->lock];
			strbuf_puts(out, "{\"addr\":");
			gl_json_hex(out, l->addr);
			strbuf_puts(out, ",\"symbol\":");
			gl_json_symbol(l->symbol, out);
			strbuf_puts(out, ",\"kind\":");
			strbuf_json_str(out, goruntime_lock_kind_name(l->kind));
			strbuf_printf(out, ",\"locked\":%s,\"read\":%s}", l->locked ? "true" : "false",
				      g->lock_read ? "true" : "false");
		} else {
			strbuf_puts(out, "null");
		}
		strbuf_puts(out, ",\"stack\":");
		gl_json_frames(sym, g, out);
		strbuf_putc(out, '}');
	}
	strbuf_puts(out, "],\n\"stuck_mutexes\":[");
	int k = 0;
	for (size_t i = 0; i < r->nlocks; i++) {
		const struct golocks_lock *l = &r->locks[i];
		if (!l->stuck)
			continue;
		strbuf_puts(out, k++ ? ",\n {\"addr\":" : "\n {\"addr\":");
		gl_json_hex(out, l->addr);
		strbuf_puts(out, ",\"symbol\":");
		gl_json_symbol(l->symbol, out);
		strbuf_puts(out, ",\"kind\":");
		strbuf_json_str(out, goruntime_lock_kind_name(l->kind));
		strbuf_printf(out, ",\"locked\":%s,\"unchanged_s\":%.3f,\"max_wait_s\":%.3f,"
				   "\"waiting\":%u,\"stuck\":",
			      l->locked ? "true" : "false", l->unchanged_s, l->max_wait_s, l->nwaiters);
		gl_json_ids(l->stuck_ids, l->nstuck, out);
		strbuf_puts(out, ",\"holders\":");
		gl_json_ids(l->holders, l->nholders, out);
		strbuf_puts(out, ",\"deadlock\":");
		if (l->deadlocked)
			strbuf_printf(out, "%u", l->cycle);
		else
			strbuf_puts(out, "null");
		strbuf_printf(out, ",\"long_wait\":%s}", l->long_wait ? "true" : "false");
	}
	strbuf_puts(out, "],\n\"deadlocks\":[");
	for (uint32_t d = 0; d < r->ndeadlocks; d++) {
		strbuf_printf(out, "%s\n {\"holders_known\":%s,\"goroutines\":[", d ? "," : "",
			      gl_cycle_known(r, d) ? "true" : "false");
		int m2 = 0;
		for (size_t m = gl_member_first(r, d); m < r->nmembers && r->members[m].cycle == d; m++) {
			const struct golocks_member *mb = &r->members[m];
			strbuf_printf(out, "%s{\"id\":%" PRId64 ",\"waits\":", m2++ ? "," : "", mb->goroutine);
			gl_json_hex(out, r->locks[mb->waits_on].addr);
			strbuf_puts(out, ",\"holds\":");
			if (mb->holds != UINT32_MAX)
				gl_json_hex(out, r->locks[mb->holds].addr);
			else
				strbuf_puts(out, "null");
			const struct goruntime_goroutine *g = goruntime_snapshot_find(snap, mb->goroutine);
			const struct sym_line *ln = g ? goruntime_wait_frame(gr, g) : NULL;
			strbuf_puts(out, ",\"frame\":");
			if (ln) {
				const struct sym_func *fn = symbols_func(sym, ln->func);
				strbuf_puts(out, "{\"function\":");
				strbuf_json_str(out, fn ? fn->name : "?");
				strbuf_puts(out, ",\"file\":");
				strbuf_json_str(out, ln->file);
				strbuf_printf(out, ",\"line\":%d}", ln->line);
			} else {
				strbuf_puts(out, "null");
			}
			strbuf_putc(out, '}');
		}
		strbuf_puts(out, "],\"text\":");
		struct strbuf t = { 0 };
		gl_cycle_text(r, d, gr, snap, &t);
		strbuf_json_str(out, t.s ? t.s : "");
		strbuf_done(&t);
		strbuf_putc(out, '}');
	}
	strbuf_puts(out, "]}");
}
