/* export: pprof, folded and JSON writers of a profile window (see export.h). */
#include "export.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "calltree.h"
#include "pprof.h"

/* ---- pprof ---- */

struct pprof_ctx {
	struct pprof *pp;
	struct symbols *sym;
	const struct profile *prof;
	uint64_t *mapping_ids; /* module id -> pprof mapping id (0 = not yet) */
	size_t nmodules;
	uint64_t *func_ids;    /* sym func id -> pprof function id */
	size_t nfuncs;
	uint64_t unknown_mapping;
};

static uint64_t ctx_mapping(struct pprof_ctx *c, uint32_t module)
{
	if (module == UINT32_MAX || module >= c->nmodules)
		return 0;
	if (!c->mapping_ids[module]) {
		const struct sym_module *m = symbols_module(c->sym, module);
		/* All has_* flags set: names and lines are final, go tool pprof must not look for
		 * binaries to re-symbolize (stripped code keeps its module+offset names). */
		c->mapping_ids[module] = pprof_add_mapping(c->pp, m->start, m->limit, m->offset, m->path,
							   m->build_id, true, true, true, true);
	}
	return c->mapping_ids[module];
}

static uint64_t ctx_function(struct pprof_ctx *c, uint32_t func)
{
	if (func >= c->nfuncs) {
		size_t n = symbols_nfuncs(c->sym);
		c->func_ids = xreallocarray(c->func_ids, n, sizeof *c->func_ids);
		memset(c->func_ids + c->nfuncs, 0, (n - c->nfuncs) * sizeof *c->func_ids);
		c->nfuncs = n;
	}
	if (!c->func_ids[func]) {
		const struct sym_func *f = symbols_func(c->sym, func);
		c->func_ids[func] = pprof_add_function(c->pp, f->name, f->system_name, f->file,
						       f->start_line);
	}
	return c->func_ids[func];
}

static void pprof_visit(void *arg, const struct profile_stack *st, pid_t tid, uint64_t count,
			uint64_t weight)
{
	struct pprof_ctx *c = arg;
	uint64_t locs[SAMPLE_MAX_FRAMES];
	for (uint32_t i = 0; i < st->npcs; i++) {
		const struct sym_loc *loc = symbols_lookup(c->sym, st->pcs[i]);
		struct pprof_line lines[64];
		size_t nl = 0;
		for (uint32_t j = 0; j < loc->nlines && nl < 64; j++) {
			lines[nl].function_id = ctx_function(c, loc->lines[j].func);
			lines[nl].line = loc->lines[j].line;
			nl++;
		}
		locs[i] = pprof_add_location(c->pp, ctx_mapping(c, loc->module), loc->addr, lines, nl);
	}
	int64_t values[2] = { (int64_t)count, (int64_t)weight };
	struct pprof_label labels[3] = {
		{ .key = "thread", .str = profile_thread_name(c->prof, tid) },
		{ .key = "tid", .num = tid },
		{ .key = "state", .str = (st->flags & SAMPLE_IDLE) ? "off-cpu" : "on-cpu" },
	};
	pprof_add_sample(c->pp, locs, st->npcs, values, 2, labels,
			 profile_has_idle(c->prof) ? 3 : 2);
}

int export_pprof(const struct profile *p, enum profile_window w, const struct export_meta *m,
		 int fd, char **cause)
{
	struct pprof_ctx c = { .pp = pprof_new(), .sym = profile_symbols(p), .prof = p };
	c.nmodules = symbols_nmodules(c.sym);
	c.mapping_ids = xcalloc(c.nmodules + 1, sizeof *c.mapping_ids);
	bool idle = profile_has_idle(p);
	const char *vtype = idle ? "wall" : "cpu";
	pprof_add_sample_type(c.pp, "samples", "count");
	pprof_add_sample_type(c.pp, vtype, "nanoseconds");
	pprof_set_period(c.pp, vtype, "nanoseconds", 1000000000 / (m->rate_hz > 0 ? m->rate_hz : 99));
	pprof_set_default_sample_type(c.pp, vtype);
	pprof_set_time(c.pp, (int64_t)m->time_real_ns, (int64_t)m->duration_ns);
	char *comment = xasprintf("proftop: pid %d (%s), %s mode, %s call graph, %d Hz%s", (int)m->pid,
				  m->comm, m->mode, m->callgraph, m->rate_hz,
				  idle ? ", with off-CPU samples" : "");
	pprof_add_comment(c.pp, comment);
	free(comment);
	profile_foreach(p, w, 0, pprof_visit, &c);
	int r = pprof_write_gz(c.pp, fd, cause);
	pprof_free(c.pp);
	free(c.mapping_ids);
	free(c.func_ids);
	return r;
}

/* ---- folded ---- */

/* Append the path from the root's child down to node, separated by ';'. */
static void folded_path(const struct calltree *t, uint32_t node, struct strbuf *out)
{
	uint32_t path[1024];
	size_t n = 0;
	for (uint32_t i = node; i != 0 && i != CALLTREE_NONE && n < 1024; i = t->nodes[i].parent)
		path[n++] = i;
	while (n-- > 0) {
		const char *name = calltree_node_name(t, path[n]);
		for (const char *s = name; *s; s++)
			strbuf_putc(out, *s == ';' ? ':' : *s == '\n' ? ' ' : *s);
		if (n)
			strbuf_putc(out, ';');
	}
}

void export_folded(const struct profile *p, enum profile_window w, struct strbuf *out)
{
	struct calltree_filter f = { .window = w };
	struct calltree *t = calltree_build(p, &f);
	for (size_t i = 1; i < t->n; i++) {
		if (!t->nodes[i].self)
			continue;
		folded_path(t, (uint32_t)i, out);
		strbuf_printf(out, " %llu\n", (unsigned long long)t->nodes[i].self);
	}
	calltree_free(t);
}

/* ---- JSON ---- */

static void json_time(struct strbuf *out, uint64_t real_ns)
{
	time_t secs = (time_t)(real_ns / 1000000000u);
	struct tm tm;
	gmtime_r(&secs, &tm);
	char buf[32];
	strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
	strbuf_json_str(out, buf);
}

static double pct(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

void export_json_top(const struct profile *p, enum profile_window w, size_t limit,
		     struct strbuf *out)
{
	struct calltree_filter f = { .window = w };
	struct calltree *t = calltree_build(p, &f);
	struct calltree_func *rows;
	size_t n = calltree_top(t, &rows);
	const struct symbols *sym = profile_symbols(p);
	strbuf_putc(out, '[');
	for (size_t i = 0; i < n && i < limit; i++) {
		const struct sym_func *fn = symbols_func(sym, rows[i].func);
		const struct sym_module *mod = symbols_module(sym, fn->module);
		strbuf_puts(out, i ? ",\n  {" : "\n  {");
		strbuf_puts(out, "\"function\":");
		strbuf_json_str(out, fn->name);
		strbuf_puts(out, ",\"file\":");
		strbuf_json_str(out, fn->file);
		strbuf_printf(out, ",\"line\":%d,\"module\":", fn->start_line);
		strbuf_json_str(out, mod ? mod->name : "");
		strbuf_printf(out,
			      ",\"self\":%llu,\"total\":%llu,\"self_pct\":%.2f,\"total_pct\":%.2f}",
			      (unsigned long long)rows[i].self, (unsigned long long)rows[i].total,
			      pct(rows[i].self, t->total), pct(rows[i].total, t->total));
	}
	strbuf_puts(out, n ? "\n]" : "]");
	free(rows);
	calltree_free(t);
}

static void json_node(const struct calltree *t, uint32_t i, int indent, struct strbuf *out)
{
	const struct calltree_node *nd = &t->nodes[i];
	strbuf_puts(out, "{\"function\":");
	strbuf_json_str(out, calltree_node_name(t, i));
	strbuf_printf(out, ",\"func_id\":%lld,\"self\":%llu,\"total\":%llu",
		      nd->func == CALLTREE_ROOT ? -1LL : (long long)nd->func,
		      (unsigned long long)nd->self, (unsigned long long)nd->total);
	if (nd->first_child == CALLTREE_NONE) {
		strbuf_putc(out, '}');
		return;
	}
	strbuf_puts(out, ",\"children\":[");
	for (uint32_t c = nd->first_child; c != CALLTREE_NONE; c = t->nodes[c].next_sibling) {
		strbuf_printf(out, "\n%*s", indent + 1, "");
		json_node(t, c, indent + 1, out);
		if (t->nodes[c].next_sibling != CALLTREE_NONE)
			strbuf_putc(out, ',');
	}
	strbuf_puts(out, "]}");
}

void export_json(const struct profile *p, enum profile_window w, const struct export_meta *m,
		 struct strbuf *out)
{
	const struct symbols *sym = profile_symbols(p);
	struct calltree_filter f = { .window = w };
	struct calltree *t = calltree_build(p, &f);
	strbuf_printf(out, "{\n\"pid\":%d,\"comm\":", (int)m->pid);
	strbuf_json_str(out, m->comm);
	strbuf_puts(out, ",\"mode\":");
	strbuf_json_str(out, m->mode);
	strbuf_puts(out, ",\"call_graph\":");
	strbuf_json_str(out, m->callgraph);
	strbuf_printf(out, ",\"rate_hz\":%d,\"idle\":%s,\"time\":", m->rate_hz,
		      profile_has_idle(p) ? "true" : "false");
	json_time(out, m->time_real_ns);
	strbuf_printf(out, ",\"duration_s\":%.3f,\"samples\":%llu,\n\"threads\":[",
		      (double)m->duration_ns / 1e9, (unsigned long long)t->total);
	size_t nt = profile_nthreads(p), k = 0;
	for (size_t i = 0; i < nt; i++) {
		const struct profile_thread *th = profile_thread_at(p, i);
		if (!th->count[w])
			continue;
		strbuf_printf(out, "%s\n  {\"tid\":%d,\"name\":", k++ ? "," : "", (int)th->tid);
		strbuf_json_str(out, th->name);
		strbuf_printf(out, ",\"samples\":%llu}", (unsigned long long)th->count[w]);
	}
	strbuf_puts(out, "],\n\"functions\":[");
	size_t nf = symbols_nfuncs(sym);
	for (size_t i = 0; i < nf; i++) {
		const struct sym_func *fn = symbols_func(sym, (uint32_t)i);
		const struct sym_module *mod = symbols_module(sym, fn->module);
		strbuf_printf(out, "%s\n  {\"id\":%zu,\"name\":", i ? "," : "", i);
		strbuf_json_str(out, fn->name);
		strbuf_puts(out, ",\"file\":");
		strbuf_json_str(out, fn->file);
		strbuf_printf(out, ",\"line\":%d,\"module\":", fn->start_line);
		strbuf_json_str(out, mod ? mod->name : "");
		strbuf_putc(out, '}');
	}
	strbuf_puts(out, "],\n\"top_functions\":");
	calltree_free(t);
	export_json_top(p, w, 50, out);
	t = calltree_build(p, &f);
	strbuf_puts(out, ",\n\"tree\":");
	json_node(t, 0, 0, out);
	strbuf_puts(out, "\n}\n");
	calltree_free(t);
}
