/*
 * calltree: the call tree (stack trie by function) of one window of a profile, built on demand
 * from the profile's stacks; the source of the top-functions table, the flame view and the
 * folded/JSON exports.  A tree is a snapshot: it does not change when the profile does, and is
 * rebuilt for each refresh (cost: one pass over the window's sample groups and their frames).
 *
 * Node 0 is the root (func == CALLTREE_ROOT).  Children of a node are ordered by function name,
 * so the layout of a flame graph is stable while counts change.
 */
#ifndef PROFTOP_CALLTREE_H
#define PROFTOP_CALLTREE_H

#include <stddef.h>
#include <stdint.h>

#include "profile.h"

#define CALLTREE_ROOT UINT32_MAX
#define CALLTREE_NONE UINT32_MAX

struct calltree_node {
	uint32_t func;           /* sym_func id, CALLTREE_ROOT for node 0 */
	uint32_t parent;         /* CALLTREE_NONE for the root */
	uint32_t first_child, next_sibling;
	uint32_t depth;          /* root 0 */
	uint64_t self, total;    /* samples */
	uint64_t self_w, total_w; /* weight (ns) */
};

struct calltree_filter {
	enum profile_window window;
	pid_t tid;           /* > 0: only this thread */
	const char *match;   /* non-NULL: only stacks with a function whose name contains it */
};

struct calltree {
	struct calltree_node *nodes;
	size_t n, cap;
	uint64_t total, total_w;
	const struct symbols *sym;
	/* internal: (parent, func) -> node index */
	uint32_t *slots;
	size_t nslots;
};

/* One row of the top-functions table. */
struct calltree_func {
	uint32_t func;
	uint64_t self, total;        /* total counts a recursive function once per stack */
	uint64_t self_w, total_w;
};

struct calltree *calltree_build(const struct profile *p, const struct calltree_filter *f);
/* NULL is a no-op. */
void calltree_free(struct calltree *t);

/* Name of node i's function ("all" for the root). Borrowed from the symbols. */
const char *calltree_node_name(const struct calltree *t, uint32_t i);
/* The child of parent whose function is func, CALLTREE_NONE if none. */
uint32_t calltree_child_find(const struct calltree *t, uint32_t parent, uint32_t func);

/* Every function of the tree with self/total counts, into *out (malloc'ed; caller frees),
 * ordered by self, then total, descending.  Returns the count. */
size_t calltree_top(const struct calltree *t, struct calltree_func **out);
/* qsort orders of struct calltree_func: self, then total, descending (calltree_top's order);
 * total, then self.  Ties by function id. */
int calltree_cmp_self(const void *a, const void *b);
int calltree_cmp_total(const void *a, const void *b);

/* Callers (direction -1) or callees (+1) of func, aggregated by function, by total desc. */
size_t calltree_neighbours(const struct calltree *t, uint32_t func, int direction,
			   struct calltree_func **out);

/* Per source line of func: samples whose frame of func is at that line (total) and those where
 * it is also the leaf (self).  Lines ascending. */
struct calltree_line {
	const char *file;
	int line;
	uint64_t self, total;
};
size_t calltree_lines(const struct profile *p, const struct calltree_filter *f, uint32_t func,
		      struct calltree_line **out);

#endif
