/* calltree: call tree by function of one window of a profile (see calltree.h). */
#include "calltree.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

static uint64_t slot_hash(uint32_t parent, uint32_t func)
{
	return util_hash64(((uint64_t)parent << 32) | func);
}

static void slots_rebuild(struct calltree *t)
{
	size_t ns = t->nslots ? t->nslots * 2 : 1024;
	while (ns < t->n * 2 + 2)
		ns *= 2;
	free(t->slots);
	t->slots = xcalloc(ns, sizeof *t->slots);
	t->nslots = ns;
	for (size_t i = 1; i < t->n; i++) {
		size_t h = slot_hash(t->nodes[i].parent, t->nodes[i].func) & (ns - 1);
		while (t->slots[h])
			h = (h + 1) & (ns - 1);
		t->slots[h] = (uint32_t)i + 1;
	}
}

uint32_t calltree_child_find(const struct calltree *t, uint32_t parent, uint32_t func)
{
	if (!t->nslots)
		return CALLTREE_NONE;
	for (size_t h = slot_hash(parent, func) & (t->nslots - 1); t->slots[h];
	     h = (h + 1) & (t->nslots - 1)) {
		const struct calltree_node *nd = &t->nodes[t->slots[h] - 1];
		if (nd->parent == parent && nd->func == func)
			return t->slots[h] - 1;
	}
	return CALLTREE_NONE;
}

static uint32_t child_get(struct calltree *t, uint32_t parent, uint32_t func)
{
	uint32_t c = calltree_child_find(t, parent, func);
	if (c != CALLTREE_NONE)
		return c;
	util_grow((void **)&t->nodes, &t->cap, t->n + 1, sizeof *t->nodes);
	c = (uint32_t)t->n++;
	t->nodes[c] = (struct calltree_node){
		.func = func,
		.parent = parent,
		.first_child = t->nodes[parent].first_child,
		.next_sibling = CALLTREE_NONE,
		.depth = t->nodes[parent].depth + 1,
	};
	t->nodes[c].next_sibling = t->nodes[parent].first_child;
	t->nodes[c].first_child = CALLTREE_NONE;
	t->nodes[parent].first_child = c;
	if (t->n * 2 >= t->nslots) {
		slots_rebuild(t);
	} else {
		size_t h = slot_hash(parent, func) & (t->nslots - 1);
		while (t->slots[h])
			h = (h + 1) & (t->nslots - 1);
		t->slots[h] = c + 1;
	}
	return c;
}

static bool stack_matches(const struct symbols *sym, const struct profile_stack *st,
			  const char *match)
{
	for (uint32_t i = 0; i < st->nframes; i++) {
		const struct sym_func *f = symbols_func(sym, st->frames[i]->func);
		if (f && strstr(f->name, match))
			return true;
	}
	return false;
}

static void tree_add(struct calltree *t, const struct profile_stack *st, uint64_t count,
		     uint64_t weight)
{
	uint32_t node = 0;
	t->nodes[0].total += count;
	t->nodes[0].total_w += weight;
	for (uint32_t i = st->nframes; i-- > 0;) {
		node = child_get(t, node, st->frames[i]->func);
		t->nodes[node].total += count;
		t->nodes[node].total_w += weight;
	}
	t->nodes[node].self += count;
	t->nodes[node].self_w += weight;
	t->total += count;
	t->total_w += weight;
}

struct build_ctx {
	struct calltree *t;
	const char *match;
};

static void visit_add(void *arg, const struct profile_stack *st, pid_t tid, uint64_t count,
		      uint64_t weight)
{
	(void)tid;
	struct build_ctx *c = arg;
	if (c->match && !stack_matches(c->t->sym, st, c->match))
		return;
	tree_add(c->t, st, count, weight);
}

static const struct calltree *sort_tree;

static int cmp_child_name(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	int c = strcmp(calltree_node_name(sort_tree, x), calltree_node_name(sort_tree, y));
	return c ? c : (x > y) - (x < y);
}

/* Order every node's children by function name. */
static void sort_children(struct calltree *t)
{
	uint32_t *kids = NULL;
	size_t cap = 0;
	sort_tree = t;
	for (size_t i = 0; i < t->n; i++) {
		size_t k = 0;
		for (uint32_t c = t->nodes[i].first_child; c != CALLTREE_NONE;
		     c = t->nodes[c].next_sibling) {
			util_grow((void **)&kids, &cap, k + 1, sizeof *kids);
			kids[k++] = c;
		}
		if (k < 2)
			continue;
		qsort(kids, k, sizeof *kids, cmp_child_name);
		t->nodes[i].first_child = kids[0];
		for (size_t j = 0; j < k; j++)
			t->nodes[kids[j]].next_sibling = j + 1 < k ? kids[j + 1] : CALLTREE_NONE;
	}
	sort_tree = NULL;
	free(kids);
}

struct calltree *calltree_build(const struct profile *p, const struct calltree_filter *f)
{
	struct calltree *t = xcalloc(1, sizeof *t);
	t->sym = profile_symbols(p);
	util_grow((void **)&t->nodes, &t->cap, 1, sizeof *t->nodes);
	t->nodes[0] = (struct calltree_node){
		.func = CALLTREE_ROOT,
		.parent = CALLTREE_NONE,
		.first_child = CALLTREE_NONE,
		.next_sibling = CALLTREE_NONE,
	};
	t->n = 1;
	slots_rebuild(t);
	const char *match = f->match && *f->match ? f->match : NULL;
	if (f->tid > 0) {
		struct build_ctx c = { t, match };
		profile_foreach(p, f->window, f->tid, visit_add, &c);
	} else {
		/* Without a thread filter each stack's window count is enough. */
		size_t n = profile_nstacks(p);
		for (uint32_t i = 0; i < n; i++) {
			const struct profile_stack *st = profile_stack(p, i);
			if (!st->count[f->window])
				continue;
			if (match && !stack_matches(t->sym, st, match))
				continue;
			tree_add(t, st, st->count[f->window], st->weight_ns[f->window]);
		}
	}
	sort_children(t);
	return t;
}

void calltree_free(struct calltree *t)
{
	if (!t)
		return;
	free(t->nodes);
	free(t->slots);
	free(t);
}

const char *calltree_node_name(const struct calltree *t, uint32_t i)
{
	if (t->nodes[i].func == CALLTREE_ROOT)
		return "all";
	const struct sym_func *f = symbols_func(t->sym, t->nodes[i].func);
	return f ? f->name : "?";
}

int calltree_cmp_self(const void *a, const void *b)
{
	const struct calltree_func *x = a, *y = b;
	if (x->self != y->self)
		return x->self < y->self ? 1 : -1;
	if (x->total != y->total)
		return x->total < y->total ? 1 : -1;
	return (x->func > y->func) - (x->func < y->func);
}

int calltree_cmp_total(const void *a, const void *b)
{
	const struct calltree_func *x = a, *y = b;
	if (x->total != y->total)
		return x->total < y->total ? 1 : -1;
	if (x->self != y->self)
		return x->self < y->self ? 1 : -1;
	return (x->func > y->func) - (x->func < y->func);
}

size_t calltree_top(const struct calltree *t, struct calltree_func **out)
{
	size_t nf = symbols_nfuncs(t->sym);
	uint32_t *onpath = xcalloc(nf + 1, sizeof *onpath);
	uint32_t *index = xcalloc(nf + 1, sizeof *index); /* func -> row + 1 */
	struct calltree_func *rows = NULL;
	size_t nrows = 0, cap = 0;
	/* Iterative DFS; a node is entered once and left once. */
	uint32_t node = t->nodes[0].first_child;
	while (node != CALLTREE_NONE) {
		const struct calltree_node *nd = &t->nodes[node];
		uint32_t f = nd->func < nf ? nd->func : (uint32_t)nf;
		if (!index[f]) {
			util_grow((void **)&rows, &cap, nrows + 1, sizeof *rows);
			rows[nrows] = (struct calltree_func){ .func = nd->func };
			index[f] = (uint32_t)++nrows;
		}
		struct calltree_func *r = &rows[index[f] - 1];
		r->self += nd->self;
		r->self_w += nd->self_w;
		if (onpath[f]++ == 0) {
			r->total += nd->total;
			r->total_w += nd->total_w;
		}
		if (nd->first_child != CALLTREE_NONE) {
			node = nd->first_child;
			continue;
		}
		/* Leave nodes until one has a next sibling. */
		for (;;) {
			const struct calltree_node *cur = &t->nodes[node];
			uint32_t cf = cur->func < nf ? cur->func : (uint32_t)nf;
			onpath[cf]--;
			if (cur->next_sibling != CALLTREE_NONE) {
				node = cur->next_sibling;
				break;
			}
			node = cur->parent;
			if (node == 0 || node == CALLTREE_NONE) {
				node = CALLTREE_NONE;
				break;
			}
		}
	}
	free(onpath);
	free(index);
	if (nrows > 1)
		qsort(rows, nrows, sizeof *rows, calltree_cmp_self);
	*out = rows;
	return nrows;
}

static int cmp_total(const void *a, const void *b)
{
	const struct calltree_func *x = a, *y = b;
	if (x->total != y->total)
		return x->total < y->total ? 1 : -1;
	return (x->func > y->func) - (x->func < y->func);
}

size_t calltree_neighbours(const struct calltree *t, uint32_t func, int direction,
			   struct calltree_func **out)
{
	struct calltree_func *rows = NULL;
	size_t nrows = 0, cap = 0;
	for (size_t i = 1; i < t->n; i++) {
		const struct calltree_node *nd = &t->nodes[i];
		if (nd->func != func)
			continue;
		uint32_t others[1024];
		size_t nothers = 0;
		if (direction < 0) {
			others[nothers++] = nd->parent;
		} else {
			for (uint32_t c = nd->first_child; c != CALLTREE_NONE && nothers < 1024;
			     c = t->nodes[c].next_sibling)
				others[nothers++] = c;
		}
		for (size_t k = 0; k < nothers; k++) {
			const struct calltree_node *o = &t->nodes[others[k]];
			uint64_t cnt = direction < 0 ? nd->total : o->total;
			uint64_t w = direction < 0 ? nd->total_w : o->total_w;
			size_t r;
			for (r = 0; r < nrows && rows[r].func != o->func; r++)
				;
			if (r == nrows) {
				util_grow((void **)&rows, &cap, nrows + 1, sizeof *rows);
				rows[nrows++] = (struct calltree_func){ .func = o->func };
			}
			rows[r].total += cnt;
			rows[r].total_w += w;
		}
	}
	if (nrows > 1)
		qsort(rows, nrows, sizeof *rows, cmp_total);
	*out = rows;
	return nrows;
}

struct lines_ctx {
	const struct symbols *sym;
	const char *match;
	uint32_t func;
	struct calltree_line *rows;
	size_t n, cap;
};

static void lines_add(struct lines_ctx *c, const char *file, int line, uint64_t self,
		      uint64_t total)
{
	for (size_t i = 0; i < c->n; i++) {
		if (c->rows[i].line == line && strcmp(c->rows[i].file, file) == 0) {
			c->rows[i].self += self;
			c->rows[i].total += total;
			return;
		}
	}
	util_grow((void **)&c->rows, &c->cap, c->n + 1, sizeof *c->rows);
	c->rows[c->n++] = (struct calltree_line){ file, line, self, total };
}

static void visit_lines(void *arg, const struct profile_stack *st, pid_t tid, uint64_t count,
			uint64_t weight)
{
	(void)tid;
	(void)weight;
	struct lines_ctx *c = arg;
	if (c->match && !stack_matches(c->sym, st, c->match))
		return;
	/* Count each line once per stack (recursion), the leaf-most occurrence first. */
	for (uint32_t i = 0; i < st->nframes; i++) {
		const struct sym_line *l = st->frames[i];
		if (l->func != c->func)
			continue;
		bool seen = false;
		for (uint32_t j = 0; j < i && !seen; j++)
			seen = st->frames[j]->func == c->func && st->frames[j]->line == l->line &&
			       strcmp(st->frames[j]->file, l->file) == 0;
		if (!seen)
			lines_add(c, l->file, l->line, i == 0 ? count : 0, count);
	}
}

static int cmp_line(const void *a, const void *b)
{
	const struct calltree_line *x = a, *y = b;
	int c = strcmp(x->file, y->file);
	return c ? c : (x->line > y->line) - (x->line < y->line);
}

size_t calltree_lines(const struct profile *p, const struct calltree_filter *f, uint32_t func,
		      struct calltree_line **out)
{
	struct lines_ctx c = {
		.sym = profile_symbols(p),
		.match = f->match && *f->match ? f->match : NULL,
		.func = func,
	};
	profile_foreach(p, f->window, f->tid, visit_lines, &c);
	if (c.n > 1)
		qsort(c.rows, c.n, sizeof *c.rows, cmp_line);
	*out = c.rows;
	return c.n;
}
