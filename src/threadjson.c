/* threadjson: the threads and lock findings of a threadmodel as JSON (see threadjson.h). */
#include "threadjson.h"

#include <stdio.h>

static void json_hex(struct strbuf *out, uint64_t v)
{
	if (v)
		strbuf_printf(out, "\"0x%llx\"", (unsigned long long)v);
	else
		strbuf_puts(out, "null");
}

static void json_flags(struct strbuf *out, uint32_t flags)
{
	static const struct { uint32_t bit; const char *name; } names[] = {
		{ LOCK_F_WRITE, "write" },	 { LOCK_F_ROBUST, "robust" },
		{ LOCK_F_PI, "pi" },		 { LOCK_F_PP, "pp" },
		{ LOCK_F_PSHARED, "pshared" },	 { LOCK_F_READERS, "readers" },
		{ LOCK_F_EDEADLK, "edeadlk" },	 { LOCK_F_WAKING, "waking" },
		{ LOCK_F_TIMED, "timed" },	 { LOCK_F_OWNER_DIED, "owner_died" },
		{ LOCK_F_SIGNALER, "signaller" }, { LOCK_F_FOREIGN, "foreign" },
	};
	strbuf_putc(out, '[');
	int k = 0;
	for (size_t i = 0; i < UTIL_ARRAY_LEN(names); i++) {
		if (!(flags & names[i].bit))
			continue;
		if (k++)
			strbuf_putc(out, ',');
		strbuf_json_str(out, names[i].name);
	}
	strbuf_putc(out, ']');
}

static void json_wait(const struct threadmodel *tm, const struct thread_row *r, struct strbuf *out)
{
	const struct lock_thread *lt = r->lock;
	const struct lock_wait *w = &lt->wait;
	if (w->kind == LOCK_NONE) {
		strbuf_puts(out, "null");
		return;
	}
	strbuf_puts(out, "{\"kind\":");
	strbuf_json_str(out, lock_kind_name(w->kind));
	strbuf_puts(out, ",\"addr\":");
	json_hex(out, w->addr);
	strbuf_puts(out, ",\"futex\":");
	json_hex(out, w->futex);
	strbuf_printf(out, ",\"value\":%u,\"symbol\":", w->value);
	if (w->name[0])
		strbuf_json_str(out, w->name);
	else
		strbuf_puts(out, "null");
	strbuf_puts(out, ",\"type\":");
	if (w->kind == LOCK_MUTEX)
		strbuf_json_str(out, lock_type_name(w));
	else
		strbuf_puts(out, "null");
	if (w->owner > 0) {
		strbuf_printf(out, ",\"owner_tid\":%d,\"owner_name\":", (int)w->owner);
		strbuf_json_str(out, r->owner_name);
	} else {
		strbuf_puts(out, ",\"owner_tid\":null,\"owner_name\":null");
	}
	if (w->flags & LOCK_F_READERS)
		strbuf_printf(out, ",\"readers\":%u", w->readers);
	strbuf_puts(out, ",\"flags\":");
	json_flags(out, w->flags);
	strbuf_puts(out, ",\"unknown_why\":");
	if (w->why)
		strbuf_json_str(out, w->why);
	else
		strbuf_puts(out, "null");
	strbuf_printf(out, ",\"wait_s\":%.3f,\"wait_s_source\":\"%s\",\"long\":%s", lt->wait_s,
		      lt->wait_s_kernel ? "kernel" : "observed", lt->long_wait ? "true" : "false");
	strbuf_puts(out, ",\"deadlock\":");
	if (lt->deadlock >= 0)
		strbuf_printf(out, "%d", lt->deadlock);
	else
		strbuf_puts(out, "null");
	strbuf_puts(out, ",\"behind_deadlock\":");
	if (lt->behind >= 0)
		strbuf_printf(out, "%d", lt->behind);
	else
		strbuf_puts(out, "null");
	strbuf_puts(out, ",\"text\":");
	struct strbuf t = { 0 };
	threadmodel_wait_text(tm, r, &t);
	strbuf_json_str(out, t.s ? t.s : "");
	strbuf_done(&t);
	strbuf_putc(out, '}');
}

static void json_stack(struct symbols *sym, const struct thread_row *r, struct strbuf *out)
{
	strbuf_putc(out, '[');
	int k = 0;
	for (uint32_t i = 0; i < r->npcs; i++) {
		uint64_t pc = r->pcs[i];
		const struct sym_loc *loc = symbols_lookup(sym, i ? pc - 1 : pc);
		const struct sym_module *mod = symbols_module(sym, loc->module);
		for (uint32_t j = 0; j < loc->nlines; j++) {
			const struct sym_line *ln = &loc->lines[j];
			const struct sym_func *fn = symbols_func(sym, ln->func);
			strbuf_puts(out, k++ ? ",\n    {\"function\":" : "\n    {\"function\":");
			strbuf_json_str(out, fn ? fn->name : "?");
			strbuf_puts(out, ",\"file\":");
			strbuf_json_str(out, ln->file);
			strbuf_printf(out, ",\"line\":%d,\"module\":", ln->line);
			strbuf_json_str(out, mod ? mod->name : "");
			strbuf_printf(out, ",\"addr\":\"0x%llx\",\"inline\":%s}",
				      (unsigned long long)pc, j + 1 < loc->nlines ? "true" : "false");
		}
	}
	strbuf_putc(out, ']');
}

void threadjson_threads(const struct threadmodel *tm, struct symbols *sym, struct strbuf *out)
{
	strbuf_putc(out, '[');
	size_t n = threadmodel_count(tm);
	for (size_t i = 0; i < n; i++) {
		const struct thread_row *r = threadmodel_row(tm, i);
		const struct thread_fact *f = r->fact;
		strbuf_printf(out, "%s\n {\"tid\":%d,\"name\":", i ? "," : "", (int)f->tid);
		strbuf_json_str(out, f->name);
		strbuf_puts(out, ",\"state\":");
		strbuf_json_str(out, r->state_word);
		strbuf_printf(out, ",\"state_s\":%.3f,\"state_s_source\":\"%s\",\"cpu_pct\":", r->state_s,
			      r->state_s_kernel ? "kernel" : "observed");
		if (r->cpu_pct >= 0)
			strbuf_printf(out, "%.1f", r->cpu_pct);
		else
			strbuf_puts(out, "null");
		strbuf_puts(out, ",\"syscall\":");
		if (f->has_syscall && f->sc.nr >= 0) {
			if (r->syscall_name)
				strbuf_json_str(out, r->syscall_name);
			else
				strbuf_printf(out, "\"%ld\"", f->sc.nr);
		} else {
			strbuf_puts(out, "null");
		}
		strbuf_puts(out, ",\"wchan\":");
		strbuf_json_str(out, f->wchan);
		strbuf_puts(out, ",\n  \"wait\":");
		json_wait(tm, r, out);
		strbuf_puts(out, ",\n  \"stack_note\":");
		if (!r->npcs && r->stack_note)
			strbuf_json_str(out, r->stack_note);
		else
			strbuf_puts(out, "null");
		strbuf_puts(out, ",\"stack\":");
		json_stack(sym, r, out);
		strbuf_putc(out, '}');
	}
	strbuf_putc(out, ']');
}

void threadjson_locks(const struct threadmodel *tm, struct strbuf *out)
{
	const struct locks *l = threadmodel_locks(tm);
	strbuf_puts(out, "\"deadlocks\":[");
	for (size_t i = 0; i < locks_ndeadlocks(l); i++) {
		const struct lock_deadlock *dl = locks_deadlock(l, i);
		strbuf_puts(out, i ? ",\n {\"tids\":[" : "\n {\"tids\":[");
		for (size_t k = 0; k < dl->n; k++)
			strbuf_printf(out, "%s%d", k ? "," : "", (int)dl->tids[k]);
		strbuf_puts(out, "],\"locks\":[");
		for (size_t k = 0; k < dl->n; k++) {
			if (k)
				strbuf_putc(out, ',');
			json_hex(out, dl->waits[k].addr);
		}
		strbuf_puts(out, "],\"kinds\":[");
		for (size_t k = 0; k < dl->n; k++) {
			if (k)
				strbuf_putc(out, ',');
			strbuf_json_str(out, lock_kind_name(dl->waits[k].kind));
		}
		strbuf_puts(out, "],\"symbols\":[");
		for (size_t k = 0; k < dl->n; k++) {
			if (k)
				strbuf_putc(out, ',');
			if (dl->waits[k].name[0])
				strbuf_json_str(out, dl->waits[k].name);
			else
				strbuf_puts(out, "null");
		}
		strbuf_printf(out, "],\"kernel\":%s,\"wait_s\":%.3f,\"unchanged_s\":%.3f,"
			      "\"blocked_behind\":[", dl->kernel ? "true" : "false", dl->wait_s,
			      (double)(threadmodel_last_ns(tm) - dl->since_ns) / 1e9);
		int k = 0;
		for (size_t t = 0; t < locks_nthreads(l); t++) {
			const struct lock_thread *lt = locks_thread_at(l, t);
			if (lt->behind == (int)i)
				strbuf_printf(out, "%s%d", k++ ? "," : "", (int)lt->tid);
		}
		strbuf_puts(out, "],\"text\":");
		struct strbuf t = { 0 };
		locks_deadlock_text(dl, &t);
		strbuf_json_str(out, t.s ? t.s : "");
		strbuf_done(&t);
		strbuf_putc(out, '}');
	}
	strbuf_puts(out, "],\n\"owner_died\":[");
	int k = 0;
	for (size_t t = 0; t < locks_nthreads(l); t++) {
		const struct lock_thread *lt = locks_thread_at(l, t);
		if (!lt->owner_died)
			continue;
		strbuf_printf(out, "%s{\"tid\":%d,\"owner_tid\":%d,\"addr\":", k++ ? "," : "",
			      (int)lt->tid, (int)lt->wait.owner);
		json_hex(out, lt->wait.addr);
		strbuf_putc(out, '}');
	}
	strbuf_puts(out, "],\n\"long_waits\":[");
	k = 0;
	for (size_t t = 0; t < locks_nthreads(l); t++) {
		const struct lock_thread *lt = locks_thread_at(l, t);
		if (!lt->long_wait)
			continue;
		strbuf_printf(out, "%s{\"tid\":%d,\"wait_s\":%.3f,\"kind\":", k++ ? "," : "", (int)lt->tid,
			      lt->wait_s);
		strbuf_json_str(out, lock_kind_name(lt->wait.kind));
		strbuf_puts(out, ",\"addr\":");
		json_hex(out, lt->wait.addr);
		strbuf_puts(out, ",\"owner_tid\":");
		if (lt->wait.owner > 0)
			strbuf_printf(out, "%d", (int)lt->wait.owner);
		else
			strbuf_puts(out, "null");
		strbuf_putc(out, '}');
	}
	strbuf_putc(out, ']');
}
