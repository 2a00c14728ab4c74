/* profile: unique stacks with live and cumulative counts (see profile.h). */
#include "profile.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

/* One logged sample of the live window. */
struct log_entry {
	uint64_t time_ns;
	uint64_t weight_ns;
	uint32_t stack;
	pid_t tid;
};

/* Cumulative counts of one (stack, thread) pair. */
struct pair {
	uint32_t stack;
	pid_t tid;
	uint64_t count, weight_ns;
};

struct profile {
	struct symbols *sym;
	pid_t pid;
	uint64_t window_ns;
	struct arena arena;

	struct profile_stack **stacks;
	size_t nstacks, capstacks;
	uint32_t *stack_slots; /* open addressing: stack id + 1, 0 = empty */
	size_t nstack_slots;

	struct log_entry *log; /* ring buffer */
	size_t log_head, log_len, log_cap;

	struct pair *pairs;
	size_t npairs, cappairs;
	uint32_t *pair_slots; /* pair index + 1 */
	size_t npair_slots;

	struct profile_thread **threads;
	size_t nthreads, capthreads;
	uint32_t *thread_slots; /* thread index + 1 */
	size_t nthread_slots;

	uint64_t total[PROFILE_NWINDOWS], total_w[PROFILE_NWINDOWS];
	uint64_t start_all_ns, last_ns;
	bool has_idle;
};

struct profile *profile_new(struct symbols *sym, pid_t pid, uint64_t window_ns)
{
	struct profile *p = xcalloc(1, sizeof *p);
	p->sym = sym;
	p->pid = pid;
	p->window_ns = window_ns;
	return p;
}

void profile_free(struct profile *p)
{
	if (!p)
		return;
	arena_done(&p->arena);
	free(p->stacks);
	free(p->stack_slots);
	free(p->log);
	free(p->pairs);
	free(p->pair_slots);
	free(p->threads);
	free(p->thread_slots);
	free(p);
}

static uint64_t stack_hash(uint32_t flags, const uint64_t *pcs, uint32_t n)
{
	return util_hash_bytes(pcs, n * sizeof *pcs, flags);
}

/* Rebuild an open-addressing index of n items whose hashes hash_of(i) gives. */
static void index_rebuild(uint32_t **slots, size_t *nslots, size_t n,
			  uint64_t (*hash_of)(const struct profile *, size_t), const struct profile *p)
{
	size_t ns = *nslots ? *nslots : 64;
	while (ns < n * 2 + 2)
		ns *= 2;
	free(*slots);
	*slots = xcalloc(ns, sizeof **slots);
	*nslots = ns;
	for (size_t i = 0; i < n; i++) {
		size_t h = hash_of(p, i) & (ns - 1);
		while ((*slots)[h])
			h = (h + 1) & (ns - 1);
		(*slots)[h] = (uint32_t)i + 1;
	}
}

static uint64_t stack_hash_of(const struct profile *p, size_t i)
{
	const struct profile_stack *st = p->stacks[i];
	return stack_hash(st->flags, st->pcs, st->npcs);
}

static uint64_t pair_hash(uint32_t stack, pid_t tid)
{
	return util_hash64(((uint64_t)stack << 32) | (uint32_t)tid);
}

static uint64_t pair_hash_of(const struct profile *p, size_t i)
{
	return pair_hash(p->pairs[i].stack, p->pairs[i].tid);
}

static uint64_t thread_hash_of(const struct profile *p, size_t i)
{
	return util_hash64((uint64_t)(uint32_t)p->threads[i]->tid);
}

/* The stack of a sample, created and symbolized on first sight. */
static struct profile_stack *stack_intern(struct profile *p, const struct sample *s)
{
	uint64_t pcs[SAMPLE_MAX_FRAMES];
	uint32_t n = s->nframes;
	for (uint32_t i = 0; i < n; i++)
		pcs[i] = i == 0 || s->pc[i] == 0 ? s->pc[i] : s->pc[i] - 1;
	uint32_t flags = s->flags & SAMPLE_IDLE;
	uint64_t h = stack_hash(flags, pcs, n);
	if (p->nstack_slots) {
		for (size_t k = h & (p->nstack_slots - 1); p->stack_slots[k];
		     k = (k + 1) & (p->nstack_slots - 1)) {
			struct profile_stack *st = p->stacks[p->stack_slots[k] - 1];
			if (st->flags == flags && st->npcs == n &&
			    memcmp(st->pcs, pcs, n * sizeof *pcs) == 0)
				return st;
		}
	}
	struct profile_stack *st = arena_alloc(&p->arena, sizeof *st);
	memset(st, 0, sizeof *st);
	st->id = (uint32_t)p->nstacks;
	st->flags = flags;
	st->npcs = n;
	uint64_t *copy = arena_alloc(&p->arena, n * sizeof *copy + 1);
	memcpy(copy, pcs, n * sizeof *copy);
	st->pcs = copy;
	const struct sym_loc *locs[SAMPLE_MAX_FRAMES];
	uint32_t nframes = 0;
	for (uint32_t i = 0; i < n; i++) {
		locs[i] = symbols_lookup(p->sym, pcs[i]);
		nframes += locs[i]->nlines;
	}
	const struct sym_line **frames = arena_alloc(&p->arena, nframes * sizeof *frames + 1);
	uint32_t k = 0;
	for (uint32_t i = 0; i < n; i++)
		for (uint32_t j = 0; j < locs[i]->nlines; j++)
			frames[k++] = &locs[i]->lines[j];
	st->frames = frames;
	st->nframes = nframes;

	util_grow((void **)&p->stacks, &p->capstacks, p->nstacks + 1, sizeof *p->stacks);
	p->stacks[p->nstacks++] = st;
	if (p->nstacks * 2 >= p->nstack_slots) {
		index_rebuild(&p->stack_slots, &p->nstack_slots, p->nstacks, stack_hash_of, p);
	} else {
		size_t slot = h & (p->nstack_slots - 1);
		while (p->stack_slots[slot])
			slot = (slot + 1) & (p->nstack_slots - 1);
		p->stack_slots[slot] = st->id + 1;
	}
	return st;
}

static struct pair *pair_get(struct profile *p, uint32_t stack, pid_t tid)
{
	uint64_t h = pair_hash(stack, tid);
	if (p->npair_slots) {
		for (size_t k = h & (p->npair_slots - 1); p->pair_slots[k];
		     k = (k + 1) & (p->npair_slots - 1)) {
			struct pair *pr = &p->pairs[p->pair_slots[k] - 1];
			if (pr->stack == stack && pr->tid == tid)
				return pr;
		}
	}
	util_grow((void **)&p->pairs, &p->cappairs, p->npairs + 1, sizeof *p->pairs);
	struct pair *pr = &p->pairs[p->npairs++];
	*pr = (struct pair){ .stack = stack, .tid = tid };
	if (p->npairs * 2 >= p->npair_slots) {
		index_rebuild(&p->pair_slots, &p->npair_slots, p->npairs, pair_hash_of, p);
	} else {
		size_t slot = h & (p->npair_slots - 1);
		while (p->pair_slots[slot])
			slot = (slot + 1) & (p->npair_slots - 1);
		p->pair_slots[slot] = (uint32_t)p->npairs;
	}
	return pr;
}

static struct profile_thread *thread_find(const struct profile *p, pid_t tid)
{
	if (!p->nthread_slots)
		return NULL;
	for (size_t k = util_hash64((uint64_t)(uint32_t)tid) & (p->nthread_slots - 1);
	     p->thread_slots[k]; k = (k + 1) & (p->nthread_slots - 1)) {
		struct profile_thread *t = p->threads[p->thread_slots[k] - 1];
		if (t->tid == tid)
			return t;
	}
	return NULL;
}

static struct profile_thread *thread_get(struct profile *p, pid_t tid)
{
	struct profile_thread *t = thread_find(p, tid);
	if (t)
		return t;
	t = arena_alloc(&p->arena, sizeof *t);
	memset(t, 0, sizeof *t);
	t->tid = tid;
	util_proc_comm(p->pid, tid, t->name, sizeof t->name);
	util_grow((void **)&p->threads, &p->capthreads, p->nthreads + 1, sizeof *p->threads);
	p->threads[p->nthreads++] = t;
	if (p->nthreads * 2 >= p->nthread_slots) {
		index_rebuild(&p->thread_slots, &p->nthread_slots, p->nthreads, thread_hash_of, p);
	} else {
		size_t slot = util_hash64((uint64_t)(uint32_t)tid) & (p->nthread_slots - 1);
		while (p->thread_slots[slot])
			slot = (slot + 1) & (p->nthread_slots - 1);
		p->thread_slots[slot] = (uint32_t)p->nthreads;
	}
	return t;
}

void profile_add(struct profile *p, const struct sample *s)
{
	if (s->nframes == 0)
		return;
	struct profile_stack *st = stack_intern(p, s);
	struct profile_thread *t = thread_get(p, s->tid);
	for (int w = 0; w < PROFILE_NWINDOWS; w++) {
		st->count[w]++;
		st->weight_ns[w] += s->weight_ns;
		t->count[w]++;
		p->total[w]++;
		p->total_w[w] += s->weight_ns;
	}
	if (s->flags & SAMPLE_IDLE)
		p->has_idle = true;
	struct pair *pr = pair_get(p, st->id, s->tid);
	pr->count++;
	pr->weight_ns += s->weight_ns;
	if (!p->start_all_ns)
		p->start_all_ns = s->time_ns;
	if (s->time_ns > p->last_ns)
		p->last_ns = s->time_ns;

	if (p->log_len == p->log_cap) {
		size_t cap = p->log_cap ? p->log_cap * 2 : 1024;
		struct log_entry *v = xreallocarray(NULL, cap, sizeof *v);
		for (size_t i = 0; i < p->log_len; i++)
			v[i] = p->log[(p->log_head + i) % p->log_cap];
		free(p->log);
		p->log = v;
		p->log_cap = cap;
		p->log_head = 0;
	}
	p->log[(p->log_head + p->log_len) % p->log_cap] = (struct log_entry){
		.time_ns = s->time_ns, .weight_ns = s->weight_ns, .stack = st->id, .tid = s->tid
	};
	p->log_len++;
}

void profile_expire(struct profile *p, uint64_t now_ns)
{
	if (now_ns < p->window_ns)
		return;
	uint64_t cutoff = now_ns - p->window_ns;
	while (p->log_len) {
		struct log_entry *e = &p->log[p->log_head];
		if (e->time_ns >= cutoff)
			break;
		struct profile_stack *st = p->stacks[e->stack];
		st->count[PROFILE_LIVE]--;
		st->weight_ns[PROFILE_LIVE] -= e->weight_ns;
		struct profile_thread *t = thread_find(p, e->tid);
		if (t)
			t->count[PROFILE_LIVE]--;
		p->total[PROFILE_LIVE]--;
		p->total_w[PROFILE_LIVE] -= e->weight_ns;
		p->log_head = (p->log_head + 1) % p->log_cap;
		p->log_len--;
	}
}

void profile_reset(struct profile *p)
{
	for (size_t i = 0; i < p->nstacks; i++) {
		memset(p->stacks[i]->count, 0, sizeof p->stacks[i]->count);
		memset(p->stacks[i]->weight_ns, 0, sizeof p->stacks[i]->weight_ns);
	}
	for (size_t i = 0; i < p->nthreads; i++)
		memset(p->threads[i]->count, 0, sizeof p->threads[i]->count);
	p->npairs = 0;
	if (p->pair_slots)
		memset(p->pair_slots, 0, p->npair_slots * sizeof *p->pair_slots);
	p->log_len = 0;
	p->log_head = 0;
	memset(p->total, 0, sizeof p->total);
	memset(p->total_w, 0, sizeof p->total_w);
	p->start_all_ns = 0;
	p->has_idle = false;
}

uint64_t profile_window_ns(const struct profile *p)
{
	return p->window_ns;
}

struct symbols *profile_symbols(const struct profile *p)
{
	return p->sym;
}

uint64_t profile_total(const struct profile *p, enum profile_window w)
{
	return p->total[w];
}

uint64_t profile_total_weight(const struct profile *p, enum profile_window w)
{
	return p->total_w[w];
}

uint64_t profile_start_ns(const struct profile *p, enum profile_window w)
{
	if (w == PROFILE_LIVE)
		return p->log_len ? p->log[p->log_head].time_ns : 0;
	return p->start_all_ns;
}

uint64_t profile_last_ns(const struct profile *p)
{
	return p->last_ns;
}

bool profile_has_idle(const struct profile *p)
{
	return p->has_idle;
}

size_t profile_nstacks(const struct profile *p)
{
	return p->nstacks;
}

const struct profile_stack *profile_stack(const struct profile *p, uint32_t id)
{
	return id < p->nstacks ? p->stacks[id] : NULL;
}

size_t profile_nthreads(const struct profile *p)
{
	return p->nthreads;
}

const struct profile_thread *profile_thread_at(const struct profile *p, size_t i)
{
	return i < p->nthreads ? p->threads[i] : NULL;
}

const char *profile_thread_name(const struct profile *p, pid_t tid)
{
	const struct profile_thread *t = thread_find(p, tid);
	return t ? t->name : "?";
}

void profile_threads_update(struct profile *p, const pid_t *tids, int n)
{
	for (size_t i = 0; i < p->nthreads; i++) {
		struct profile_thread *t = p->threads[i];
		size_t lo = util_lower_i32(tids, (size_t)n, sizeof *tids, 0, t->tid);
		t->exited = !(lo < (size_t)n && tids[lo] == t->tid);
	}
}

void profile_foreach(const struct profile *p, enum profile_window w, pid_t tid_filter,
		     profile_visit_fn fn, void *arg)
{
	if (w == PROFILE_ALL) {
		for (size_t i = 0; i < p->npairs; i++) {
			const struct pair *pr = &p->pairs[i];
			if (tid_filter > 0 && pr->tid != tid_filter)
				continue;
			fn(arg, p->stacks[pr->stack], pr->tid, pr->count, pr->weight_ns);
		}
		return;
	}
	for (size_t i = 0; i < p->log_len; i++) {
		const struct log_entry *e = &p->log[(p->log_head + i) % p->log_cap];
		if (tid_filter > 0 && e->tid != tid_filter)
			continue;
		fn(arg, p->stacks[e->stack], e->tid, 1, e->weight_ns);
	}
}
