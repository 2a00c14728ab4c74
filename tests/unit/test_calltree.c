/*
 * Unit test of the model (profile + calltree + folded export) from synthetic stacks with known
 * answers, in the manner of perf's hists tests: the addresses are real (functions of this test
 * binary, symbolized for real), the samples are made up.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "calltree.h"
#include "export.h"
#include "profile.h"
#include "symbols.h"
#include "util.h"

static int failures;

#define CHECK(cond, ...)                                                  \
	do {                                                              \
		if (cond) {                                               \
			printf("ok   ");                                  \
		} else {                                                  \
			printf("FAIL ");                                  \
			failures++;                                       \
		}                                                         \
		printf(__VA_ARGS__);                                      \
		printf("\n");                                             \
	} while (0)

__attribute__((noinline)) int f_root(int x);
__attribute__((noinline)) int f_mid(int x);
__attribute__((noinline)) int f_leaf(int x);
__attribute__((noinline)) int f_other(int x);

int f_leaf(int x) { __asm__ volatile("nop; nop; nop; nop"); return x * 3 + 1; }
int f_mid(int x) { __asm__ volatile("nop; nop; nop; nop"); return f_leaf(x) + 2; }
int f_other(int x) { __asm__ volatile("nop; nop; nop; nop"); return x - 7; }
int f_root(int x) { __asm__ volatile("nop; nop; nop; nop"); return f_mid(x) + f_other(x); }

/* An address inside f, as a sampled IP (leaf) or a return address (caller frames: the model
 * looks up ret - 1, which must still be inside f). */
static uint64_t in(int (*f)(int))
{
	return (uint64_t)(uintptr_t)f + 2;
}

static void add(struct profile *p, pid_t tid, uint64_t t, int n, ...)
{
	struct sample s = { .tid = tid, .time_ns = t, .weight_ns = 1000, .nframes = (uint32_t)n };
	va_list ap;
	va_start(ap, n);
	for (int i = 0; i < n; i++)
		s.pc[i] = va_arg(ap, uint64_t);
	va_end(ap);
	profile_add(p, &s);
}

static const struct calltree_func *top_row(const struct calltree_func *rows, size_t n,
					   const struct symbols *sym, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(symbols_func(sym, rows[i].func)->name, name))
			return &rows[i];
	return NULL;
}

int main(void)
{
	char *cause = NULL;
	struct symbols *sym = symbols_new(getpid(), &cause);
	if (!sym) {
		printf("FAIL symbols_new: %s\n", cause);
		return 1;
	}
	pid_t me = getpid(), other = me + 1;
	struct profile *p = profile_new(sym, me, 10000000000ull);
	uint64_t leaf = in(f_leaf), mid = in(f_mid), root = in(f_root), oth = in(f_other);
	/* Old samples (t=1 s) and new ones (t=20 s): the live window of 10 s keeps the new. */
	for (int i = 0; i < 3; i++)
		add(p, me, 1000000000ull, 3, leaf, mid + 1, root + 1);
	add(p, other, 20000000000ull, 2, oth, root + 1);
	add(p, me, 20000000000ull, 2, mid, root + 1);
	add(p, me, 20000000000ull, 2, mid, root + 1);
	add(p, other, 20000000000ull, 4, leaf, mid + 1, mid + 1, root + 1); /* recursion */

	CHECK(profile_total(p, PROFILE_ALL) == 7, "7 samples in all (%llu)",
	      (unsigned long long)profile_total(p, PROFILE_ALL));
	CHECK(profile_nstacks(p) == 4, "4 unique stacks (%zu)", profile_nstacks(p));

	struct calltree_filter f = { .window = PROFILE_ALL };
	struct calltree *t = calltree_build(p, &f);
	struct calltree_func *rows;
	size_t n = calltree_top(t, &rows);
	const struct calltree_func *r_leaf = top_row(rows, n, sym, "f_leaf");
	const struct calltree_func *r_mid = top_row(rows, n, sym, "f_mid");
	const struct calltree_func *r_root = top_row(rows, n, sym, "f_root");
	const struct calltree_func *r_oth = top_row(rows, n, sym, "f_other");
	CHECK(n == 4 && r_leaf && r_mid && r_root && r_oth, "4 functions named from symbols");
	if (!(r_leaf && r_mid && r_root && r_oth))
		return 1;
	uint32_t leaf_func = r_leaf->func;
	{
		CHECK(r_leaf->self == 4 && r_leaf->total == 4, "f_leaf self 4 total 4");
		CHECK(r_mid->self == 2 && r_mid->total == 6, "f_mid self 2 total 6 (recursion once)");
		CHECK(r_root->self == 0 && r_root->total == 7, "f_root self 0 total 7");
		CHECK(r_oth->self == 1 && r_oth->total == 1, "f_other self 1 total 1");
		CHECK(rows[0].func == r_leaf->func, "top row by self is f_leaf");
	}
	/* Tree shape: all -> f_root -> {f_mid -> {f_leaf, f_mid -> f_leaf}, f_other}. */
	uint32_t n_root = calltree_child_find(t, 0, r_root ? r_root->func : 0);
	uint32_t n_mid = n_root != CALLTREE_NONE ? calltree_child_find(t, n_root, r_mid->func) : CALLTREE_NONE;
	CHECK(n_root != CALLTREE_NONE && t->nodes[n_root].total == 7, "node f_root total 7");
	CHECK(n_mid != CALLTREE_NONE && t->nodes[n_mid].total == 6 && t->nodes[n_mid].self == 2,
	      "node f_root;f_mid total 6 self 2");
	if (n_mid != CALLTREE_NONE) {
		uint32_t rec = calltree_child_find(t, n_mid, r_mid->func);
		CHECK(rec != CALLTREE_NONE && t->nodes[rec].total == 1, "recursive node total 1");
		/* children by name: f_leaf before f_mid */
		uint32_t c = t->nodes[n_mid].first_child;
		CHECK(c != CALLTREE_NONE && !strcmp(calltree_node_name(t, c), "f_leaf"),
		      "children ordered by name");
	}
	struct calltree_func *nb;
	size_t nn = calltree_neighbours(t, r_leaf->func, -1, &nb);
	CHECK(nn == 1 && nb[0].func == r_mid->func && nb[0].total == 4, "callers of f_leaf: f_mid 4");
	free(nb);
	nn = calltree_neighbours(t, r_mid->func, +1, &nb);
	CHECK(nn == 2 && nb[0].func == r_leaf->func && nb[0].total == 4, "callees of f_mid: f_leaf 4 first");
	free(nb);
	free(rows);
	calltree_free(t);

	/* Folded export, sorted for comparison. */
	struct strbuf sb = { 0 };
	export_folded(p, PROFILE_ALL, &sb);
	const char *want[] = { "f_root;f_mid 2", "f_root;f_mid;f_leaf 3", "f_root;f_mid;f_mid;f_leaf 1",
			       "f_root;f_other 1" };
	int found = 0;
	for (size_t i = 0; i < 4; i++) {
		char line[128];
		snprintf(line, sizeof line, "%s\n", want[i]);
		found += strstr(sb.s, line) != NULL;
	}
	CHECK(found == 4, "folded lines (%s)", sb.s);
	strbuf_done(&sb);

	/* Live window: at t = 25 s the samples at t = 1 s have expired. */
	profile_expire(p, 25000000000ull);
	CHECK(profile_total(p, PROFILE_LIVE) == 4 && profile_total(p, PROFILE_ALL) == 7,
	      "expiry: live 4, all 7");
	f.window = PROFILE_LIVE;
	t = calltree_build(p, &f);
	n = calltree_top(t, &rows);
	r_leaf = top_row(rows, n, sym, "f_leaf");
	CHECK(r_leaf && r_leaf->self == 1, "live f_leaf self 1");
	free(rows);
	calltree_free(t);

	/* Thread filter and substring filter. */
	f.window = PROFILE_ALL;
	f.tid = other;
	t = calltree_build(p, &f);
	CHECK(t->total == 2, "thread filter: 2 samples of the other thread (%llu)",
	      (unsigned long long)t->total);
	calltree_free(t);
	f.tid = 0;
	f.match = "other";
	t = calltree_build(p, &f);
	CHECK(t->total == 1, "match 'other': 1 sample");
	calltree_free(t);

	/* Per-line counts of f_leaf: its 4 samples are on its one line in this file. */
	f.match = NULL;
	struct calltree_line *lines;
	size_t nl = calltree_lines(p, &f, leaf_func, &lines);
	uint64_t sum = 0;
	for (size_t i = 0; i < nl; i++)
		sum += lines[i].total;
	CHECK(nl >= 1 && sum == 4 && strstr(lines[0].file, "test_calltree.c") && lines[0].line > 0,
	      "lines of f_leaf: %zu line(s), %llu samples, %s:%d", nl, (unsigned long long)sum,
	      nl ? lines[0].file : "", nl ? lines[0].line : 0);
	free(lines);

	profile_reset(p);
	CHECK(profile_total(p, PROFILE_ALL) == 0 && profile_total(p, PROFILE_LIVE) == 0, "reset");
	profile_free(p);
	symbols_free(sym);
	printf("%s\n", failures ? "FAILED" : "all passed");
	return failures ? 1 : 0;
}
