/*
 * Unit test of symbols: symbolize a forked copy of this program (same binary, same addresses
 * after fork), its libc, vDSO and a perf-PID.map JIT region; then the same after the copy has
 * exited; then, when Go is installed, a small Go program (names, lines, inlining, runtime.allgs).
 * Prints "ok ..." / "FAIL ..." lines; exits non-zero on any failure.
 */
#include "symbols.h"

#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"


/* ---- code and data of this program, symbolized in the forked copy ---- */

/* Functions whose address and name must stay as written (GCC would otherwise clone them). */
#if defined(__clang__)
#define TEST_NOINLINE __attribute__((noinline))
#else
#define TEST_NOINLINE __attribute__((noinline, noclone))
#endif

volatile uintptr_t test_sink;
int test_global_array[64] = { 1 };

enum { WHERE_LINE = __LINE__ + 1 };
static TEST_NOINLINE void *where_called(void)
{
	void *ra = __builtin_return_address(0);
	test_sink += (uintptr_t)ra;
	return ra;
}

static int call_line;
static TEST_NOINLINE void *call_site(void)
{
	call_line = __LINE__; void *ra = where_called();
	test_sink += 1;
	return ra;
}

static int inl_a_line, inl_b_line, inl_outer_line;
enum { INL_A_DECL = __LINE__ + 1 };
static inline __attribute__((always_inline)) void *inl_a(void)
{
	inl_a_line = __LINE__; void *ra = where_called();
	test_sink += 2;
	return ra;
}

enum { INL_B_DECL = __LINE__ + 1 };
static inline __attribute__((always_inline)) void *inl_b(void)
{
	inl_b_line = __LINE__; void *ra = inl_a();
	test_sink += 3;
	return ra;
}

static TEST_NOINLINE void *inl_outer(void)
{
	inl_outer_line = __LINE__; void *ra = inl_b();
	test_sink += 4;
	return ra;
}

/* ---- helpers ---- */

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && strcmp(s + a - b, suffix) == 0;
}

static const struct sym_func *line_func(struct symbols *sym, const struct sym_loc *loc, uint32_t i)
{
	return symbols_func(sym, loc->lines[i].func);
}

/* Name of the real (outermost) function of a location. */
static const char *loc_name(struct symbols *sym, const struct sym_loc *loc)
{
	const struct sym_func *f = line_func(sym, loc, loc->nlines - 1);
	return f ? f->name : "(null)";
}

static const char *loc_module(struct symbols *sym, const struct sym_loc *loc)
{
	const struct sym_module *m = symbols_module(sym, loc->module);
	return m ? m->name : "(none)";
}

/* A function of libc itself (not an interposer such as ASan's). */
static uint64_t libc_sym(const char *name)
{
	void *h = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
	void *p = h ? dlsym(h, name) : NULL;
	if (h)
		dlclose(h);
	return (uint64_t)(uintptr_t)p;
}

/* Fork a copy of this process that obeys commands on *keep until it is closed: 'd' dlopens
 * libthread_db and answers the address of td_init (0 if none) on *reply.  Returns its pid. */
static pid_t spawn_copy(int *keep, int *reply)
{
	int p[2], r[2];
	if (pipe(p) < 0)
		return -1;
	if (pipe(r) < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		close(p[1]);
		close(r[0]);
		char c;
		while (read(p[0], &c, 1) > 0) {
			if (c != 'd')
				continue;
			void *h = dlopen("libthread_db.so.1", RTLD_LAZY);
			uint64_t a = (uint64_t)(uintptr_t)(h ? dlsym(h, "td_init") : NULL);
			if (write(r[1], &a, sizeof a) != (ssize_t)sizeof a)
				_exit(1);
		}
		_exit(0);
	}
	close(p[0]);
	close(r[1]);
	*keep = p[1];
	*reply = r[0];
	return pid;
}

/* The copy loads a library after symbols_new(): found by symbols_refresh(), and by the
 * automatic reread (at most every 100 ms) for an address that was first unknown. */
static void check_dlopen(struct symbols *sym, int keep, int reply)
{
	uint64_t a = 0;
	symbols_refresh(sym);
	if (write(keep, "d", 1) != 1 || read(reply, &a, sizeof a) != (ssize_t)sizeof a || !a) {
		check(false, "dlopen: the copy could not load libthread_db.so.1 (glibc ships it)");
		return;
	}
	/* Within 100 ms of the refresh the maps are not reread: the address is unknown (unless
	 * this machine is very slow), and is re-resolved in place once 100 ms have passed. */
	const struct sym_loc *first = symbols_lookup(sym, a + 2);
	bool was_unknown = first->module == UINT32_MAX;
	struct timespec ts = { 0, 150 * 1000 * 1000 };
	nanosleep(&ts, NULL);
	const struct sym_loc *loc = symbols_lookup(sym, a + 2);
	check(loc == first && strcmp(loc_name(sym, loc), "td_init") == 0 &&
	      strcmp(loc_module(sym, loc), "libthread_db.so.1") == 0,
	      "dlopen after attach, automatic reread: %s in %s (first lookup %s)", loc_name(sym, loc),
	      loc_module(sym, loc), was_unknown ? "unknown, re-resolved" : "already resolved");
	symbols_refresh(sym);
	loc = symbols_lookup(sym, a + 3);
	check(strcmp(loc_name(sym, loc), "td_init") == 0, "dlopen after attach, refresh: %s",
	      loc_name(sym, loc));
}

/* ---- the C checks ---- */

static void check_static_function(struct symbols *sym)
{
	uint64_t a = (uint64_t)(uintptr_t)&where_called;
	const struct sym_loc *loc = symbols_lookup(sym, a);
	const struct sym_func *f = line_func(sym, loc, loc->nlines - 1);
	check(loc->addr == a && loc->nlines >= 1, "static function: lookup returns the address");
	check(f && strcmp(f->name, "where_called") == 0, "static function name: %s", loc_name(sym, loc));
	check(f && ends_with(f->file, "test_symbols.c") && f->start_line == WHERE_LINE,
	      "static function definition: %s:%d (want line %d)", f ? f->file : "", f ? f->start_line : 0,
	      WHERE_LINE);
	check(loc->module == symbols_main_module(sym), "static function module: %s",
	      loc_module(sym, loc));
	check(symbols_lookup(sym, a) == loc, "same address returns the same pointer");
	const struct sym_loc *loc2 = symbols_lookup(sym, a + 1);
	check(loc2 != loc && loc2->lines[loc2->nlines - 1].func == loc->lines[loc->nlines - 1].func,
	      "two addresses of one function share one sym_func");
}

static void check_call_line(struct symbols *sym)
{
	uint64_t ra = (uint64_t)(uintptr_t)call_site();
	const struct sym_loc *loc = symbols_lookup(sym, ra - 1);
	const struct sym_line *l = &loc->lines[0];
	check(loc->nlines == 1 && strcmp(loc_name(sym, loc), "call_site") == 0,
	      "call site: %s (%u lines)", loc_name(sym, loc), loc->nlines);
	check(ends_with(l->file, "test_symbols.c") && l->line == call_line, "call site line: %s:%d (want %d)",
	      l->file, l->line, call_line);
}

static void check_inline_chain(struct symbols *sym)
{
	uint64_t ra = (uint64_t)(uintptr_t)inl_outer();
	const struct sym_loc *loc = symbols_lookup(sym, ra - 1);
	check(loc->nlines == 3, "inline chain depth: %u (want 3)", loc->nlines);
	if (loc->nlines != 3)
		return;
	static const char *const want[] = { "inl_a", "inl_b", "inl_outer" };
	const int lines[] = { inl_a_line, inl_b_line, inl_outer_line };
	for (uint32_t i = 0; i < 3; i++) {
		const struct sym_func *f = line_func(sym, loc, i);
		check(f && strcmp(f->name, want[i]) == 0 && loc->lines[i].line == lines[i] &&
		      ends_with(loc->lines[i].file, "test_symbols.c"),
		      "inline level %u: %s at %s:%d (want %s line %d)", i, f ? f->name : "?",
		      loc->lines[i].file, loc->lines[i].line, want[i], lines[i]);
	}
	const struct sym_func *a = line_func(sym, loc, 0), *b = line_func(sym, loc, 1);
	check(a && b && a->start_line == INL_A_DECL && b->start_line == INL_B_DECL,
	      "inlined functions' definitions: lines %d, %d (want %d, %d)", a ? a->start_line : 0,
	      b ? b->start_line : 0, INL_A_DECL, INL_B_DECL);
	const struct sym_module *m = symbols_module(sym, loc->module);
	check(m && m->has_symbols && m->has_lines && m->has_inlines, "main module has symbols, lines, inlines");
}

static void check_libc(struct symbols *sym, const char *name)
{
	uint64_t a = libc_sym(name);
	const struct sym_loc *loc = symbols_lookup(sym, a + 4);
	check(a && strcmp(loc_name(sym, loc), name) == 0 && strcmp(loc_module(sym, loc), "libc.so.6") == 0,
	      "libc function: %s in %s (want %s)", loc_name(sym, loc), loc_module(sym, loc), name);
}

static void check_unknown(struct symbols *sym)
{
	const struct sym_loc *a = symbols_lookup(sym, 0x1000);
	const struct sym_loc *b = symbols_lookup(sym, 0x2345);
	const struct sym_func *f = line_func(sym, a, 0);
	check(a->module == UINT32_MAX && a->nlines == 1 && f && strcmp(f->name, "[unknown]") == 0 &&
	      f->module == UINT32_MAX && a->addr == 0x1000,
	      "unknown address: %s", f ? f->name : "(null)");
	check(b->lines[0].func == a->lines[0].func, "unknown addresses share one function");
	check(symbols_module(sym, UINT32_MAX) == NULL && symbols_func(sym, UINT32_MAX) == NULL,
	      "UINT32_MAX ids give NULL");
}

static void check_data(struct symbols *sym)
{
	uint64_t addr = 0, size = 0, off = 99;
	int r = symbols_find_symbol(sym, "test_global_array", &addr, &size);
	check(r == 0 && addr == (uint64_t)(uintptr_t)test_global_array && size >= sizeof test_global_array,
	      "find_symbol test_global_array: 0x%" PRIx64 " size %" PRIu64, addr, size);
	const char *n = symbols_symbol_at(sym, (uint64_t)(uintptr_t)&test_global_array[5], &off);
	check(n && strcmp(n, "test_global_array") == 0 && off == 5 * sizeof(int),
	      "symbol_at global + 20: %s+%" PRIu64, n ? n : "(null)", off);
	n = symbols_symbol_at(sym, (uint64_t)(uintptr_t)&where_called + 3, &off);
	check(n && strcmp(n, "where_called") == 0 && off == 3, "symbol_at function + 3: %s+%" PRIu64,
	      n ? n : "(null)", off);
	check(symbols_find_symbol(sym, "no_such_symbol_anywhere", &addr, &size) == -1,
	      "find_symbol of a missing name fails");
}

static void check_modules(struct symbols *sym)
{
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	exe[n > 0 ? n : 0] = '\0';
	const struct sym_module *m = symbols_module(sym, symbols_main_module(sym));
	check(m && strcmp(m->path, exe) == 0, "main module: %s", m ? m->path : "(none)");
	if (!m)
		return;
	const char *base = strrchr(exe, '/');
	check(strcmp(m->name, base ? base + 1 : exe) == 0, "main module name: %s", m->name);
	bool hex = strlen(m->build_id) >= 16;
	for (const char *p = m->build_id; *p; p++)
		hex = hex && ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'));
	check(hex, "main module build id: %s", m->build_id);
	uint64_t b1 = 1, b2 = 1;
	check(symbols_module_dwarf(sym, m->id, &b1) != NULL && symbols_module_elf(sym, m->id, &b2) != NULL,
	      "main module DWARF and ELF handles");
	uint64_t fa = (uint64_t)(uintptr_t)&where_called;
	check(m->start <= fa && fa < m->limit, "main module range contains its code");
	check(symbols_nmodules(sym) >= 3, "%zu modules", symbols_nmodules(sym));
	for (size_t i = 0; i < symbols_nmodules(sym); i++) {
		const struct sym_module *x = symbols_module(sym, (uint32_t)i);
		if (!x || x->id != i) {
			check(false, "module ids are dense");
			return;
		}
	}
}

static void check_vdso(struct symbols *sym)
{
	uint64_t base = getauxval(AT_SYSINFO_EHDR), addr = 0, size = 0;
	if (!base) {
		check(false, "vdso: no AT_SYSINFO_EHDR (x86-64 Linux always maps one)");
		return;
	}
	int r = symbols_find_symbol(sym, "__vdso_clock_gettime", &addr, &size);
	check(r == 0 && addr >= base && addr < base + 65536, "vdso symbol __vdso_clock_gettime at 0x%" PRIx64,
	      addr);
	if (r != 0)
		return;
	const struct sym_loc *loc = symbols_lookup(sym, addr + 1);
	check(strcmp(loc_module(sym, loc), "[vdso]") == 0 && strstr(loc_name(sym, loc), "clock_gettime"),
	      "vdso lookup: %s in %s", loc_name(sym, loc), loc_module(sym, loc));
}

static void check_jit(struct symbols *sym, uint64_t region)
{
	const struct sym_loc *a = symbols_lookup(sym, region + 0x10);
	const struct sym_loc *b = symbols_lookup(sym, region + 0x110);
	const struct sym_loc *c = symbols_lookup(sym, region + 0x1800);
	check(strcmp(loc_name(sym, a), "jit_func_one") == 0 && strcmp(loc_module(sym, a), "[jit]") == 0,
	      "JIT map: %s in %s", loc_name(sym, a), loc_module(sym, a));
	check(strcmp(loc_name(sym, b), "jitfunc(int)") == 0, "JIT map demangled: %s", loc_name(sym, b));
	check(c->module == UINT32_MAX, "JIT region outside the map entries: %s", loc_name(sym, c));
}

static void bench(struct symbols *sym)
{
	uint64_t base = libc_sym("malloc");
	enum { N = 4000, REPEAT = 200 };
	uint64_t t0 = now_ns();
	for (int i = 0; i < N; i++)
		symbols_lookup(sym, base + 0x40000 + (uint64_t)i * 13);
	uint64_t t1 = now_ns();
	for (int r = 0; r < REPEAT; r++)
		for (int i = 0; i < N; i++)
			symbols_lookup(sym, base + 0x40000 + (uint64_t)i * 13);
	uint64_t t2 = now_ns();
	const struct symbols_stats *st = symbols_stats(sym);
	check(st->cache_hits >= (uint64_t)N * REPEAT, "bench: uncached %.2f us/lookup, cached %.1f ns/lookup "
	      "(%" PRIu64 " lookups, %" PRIu64 " hits, %" PRIu64 " maps reloads, %zu funcs)",
	      (double)(t1 - t0) / N / 1000.0, (double)(t2 - t1) / ((double)N * REPEAT),
	      st->lookups, st->cache_hits, st->maps_reloads, symbols_nfuncs(sym));
}

static void test_c(void)
{
	long page = sysconf(_SC_PAGESIZE);
	void *region = mmap(NULL, (size_t)page * 2, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (region == MAP_FAILED) {
		check(false, "mmap: %s", strerror(errno));
		return;
	}
	int keep = -1, reply = -1;
	pid_t pid = spawn_copy(&keep, &reply);
	if (pid < 0) {
		check(false, "fork: %s", strerror(errno));
		return;
	}
	char mapfile[64];
	snprintf(mapfile, sizeof mapfile, "/tmp/perf-%d.map", (int)pid);
	FILE *f = fopen(mapfile, "w");
	if (f) {
		uint64_t r = (uint64_t)(uintptr_t)region;
		fprintf(f, "%" PRIx64 " 100 jit_func_one\n%" PRIx64 " 80 _Z7jitfunci\n", r, r + 0x100);
		fclose(f);
	}

	char *cause = NULL;
	struct symbols *sym = symbols_new(pid, &cause);
	check(sym != NULL, "symbols_new(%d) %s", (int)pid, cause ? cause : "");
	free(cause);
	if (!sym) {
		close(keep);
		close(reply);
		waitpid(pid, NULL, 0);
		unlink(mapfile);
		return;
	}
	check_static_function(sym);
	check_call_line(sym);
	check_inline_chain(sym);
	check_libc(sym, "nanosleep");
	check_libc(sym, "read");
	check_unknown(sym);
	check_data(sym);
	check_modules(sym);
	check_vdso(sym);
	check_jit(sym, (uint64_t)(uintptr_t)region);
	check_dlopen(sym, keep, reply);
	bench(sym);

	/* The copy exits: cached and new lookups keep working. */
	const struct sym_loc *before = symbols_lookup(sym, (uint64_t)(uintptr_t)&where_called);
	close(keep);
	close(reply);
	waitpid(pid, NULL, 0);
	unlink(mapfile);
	symbols_refresh(sym);
	check(symbols_lookup(sym, (uint64_t)(uintptr_t)&where_called) == before, "after exit: cached lookup");
	const struct sym_loc *loc = symbols_lookup(sym, (uint64_t)(uintptr_t)&inl_outer + 2);
	check(strcmp(loc_name(sym, loc), "inl_outer") == 0, "after exit: new lookup in the program: %s",
	      loc_name(sym, loc));
	check_libc(sym, "write");
	check_unknown(sym);
	check_vdso(sym);
	check_jit(sym, (uint64_t)(uintptr_t)region);
	symbols_free(sym);
	symbols_free(NULL);
	munmap(region, (size_t)page * 2);

	cause = NULL;
	sym = symbols_new(pid, &cause);
	check(sym == NULL && cause != NULL, "symbols_new of a gone pid fails: %s", cause ? cause : "");
	free(cause);
	symbols_free(sym);
}

/* ---- Go ---- */

static const char go_source[] =
	"package main\n"                                          /* 1 */
	"\n"                                                      /* 2 */
	"import \"os\"\n"                                         /* 3 */
	"\n"                                                      /* 4 */
	"var counter int64\n"                                     /* 5 */
	"\n"                                                      /* 6 */
	"func leaf(x int64) int64 {\n"                            /* 7 */
	"\treturn x*3 + 1\n"                                      /* 8 */
	"}\n"                                                     /* 9 */
	"\n"                                                      /* 10 */
	"//go:noinline\n"                                         /* 11 */
	"func work(n int64) int64 {\n"                            /* 12 */
	"\ts := int64(0)\n"                                       /* 13 */
	"\tfor i := int64(0); i < n; i++ {\n"                     /* 14 */
	"\t\ts += leaf(i)\n"                                      /* 15 */
	"\t}\n"                                                   /* 16 */
	"\treturn s\n"                                            /* 17 */
	"}\n"                                                     /* 18 */
	"\n"                                                      /* 19 */
	"func main() {\n"                                         /* 20 */
	"\tcounter += work(1000)\n"                               /* 21 */
	"\tos.Stdout.Write([]byte(\"ready\\n\"))\n"               /* 22 */
	"\tbuf := make([]byte, 1)\n"                              /* 23 */
	"\tos.Stdin.Read(buf)\n"                                  /* 24 */
	"\tos.Exit(int(counter & 0))\n"                           /* 25 */
	"}\n";
enum { GO_LEAF_LINE = 8, GO_CALL_LINE = 15 };

/* Build the Go program into dir; false when Go is missing (make deps installs golang-go) or the
 * build fails. */
static bool go_build(const char *dir)
{
	if (access("/usr/bin/go", X_OK) != 0 && system("command -v go >/dev/null 2>&1") != 0)
		return false;
	char path[512];
	snprintf(path, sizeof path, "%s/main.go", dir);
	FILE *f = fopen(path, "w");
	if (!f)
		return false;
	fputs(go_source, f);
	fclose(f);
	const char *cache = getenv("GOCACHE");
	char cmd[2048];
	snprintf(cmd, sizeof cmd,
		 "cd '%s' && GOCACHE='%s' GO111MODULE=off GOFLAGS= go build -o gobin main.go "
		 ">/dev/null 2>&1",
		 dir, cache && *cache ? cache : "/tmp/proftop-gocache");
	return system(cmd) == 0;
}

static void test_go_target(pid_t pid, int keep)
{
	char *cause = NULL;
	struct symbols *sym = symbols_new(pid, &cause);
	check(sym != NULL, "go: symbols_new %s", cause ? cause : "");
	free(cause);
	if (!sym)
		return;
	uint64_t work = 0, size = 0;
	int r = symbols_find_symbol(sym, "main.work", &work, &size);
	check(r == 0 && size > 0, "go: find_symbol main.work: 0x%" PRIx64 " size %" PRIu64, work, size);
	if (r == 0) {
		const struct sym_loc *loc = symbols_lookup(sym, work);
		const struct sym_func *f = line_func(sym, loc, loc->nlines - 1);
		check(f && strcmp(f->name, "main.work") == 0 && ends_with(loc->lines[loc->nlines - 1].file, "main.go"),
		      "go: %s at %s:%d", loc_name(sym, loc), loc->lines[loc->nlines - 1].file,
		      loc->lines[loc->nlines - 1].line);
		const struct sym_module *m = symbols_module(sym, loc->module);
		check(m && m->id == symbols_main_module(sym) && m->has_lines, "go: main module %s",
		      m ? m->name : "(none)");
		const struct sym_loc *inl = NULL;
		for (uint64_t pc = work; pc < work + size && !inl; pc++) {
			loc = symbols_lookup(sym, pc);
			if (loc->nlines >= 2 && strcmp(line_func(sym, loc, 0)->name, "main.leaf") == 0)
				inl = loc;
		}
		check(inl && inl->nlines == 2 && strcmp(line_func(sym, inl, 1)->name, "main.work") == 0 &&
		      inl->lines[0].line == GO_LEAF_LINE && inl->lines[1].line == GO_CALL_LINE &&
		      ends_with(inl->lines[1].file, "main.go"),
		      "go: inlined main.leaf at line %d, called from %s:%d", inl ? inl->lines[0].line : 0,
		      inl ? inl->lines[inl->nlines - 1].file : "", inl ? inl->lines[inl->nlines - 1].line : 0);
	}
	uint64_t allgs = 0, off = 0;
	r = symbols_find_symbol(sym, "runtime.allgs", &allgs, &size);
	check(r == 0 && size == 24, "go: runtime.allgs at 0x%" PRIx64 " size %" PRIu64, allgs, size);
	const char *n = symbols_symbol_at(sym, allgs + 8, &off);
	check(n && strcmp(n, "runtime.allgs") == 0 && off == 8, "go: symbol_at allgs+8: %s+%" PRIu64,
	      n ? n : "(null)", off);
	uint64_t mallocgc = 0;
	if (symbols_find_symbol(sym, "runtime.mallocgc", &mallocgc, &size) == 0) {
		const struct sym_loc *loc = symbols_lookup(sym, mallocgc + size / 2);
		check(strcmp(loc_name(sym, loc), "runtime.mallocgc") == 0 &&
		      ends_with(loc->lines[loc->nlines - 1].file, "runtime/malloc.go"),
		      "go: runtime.mallocgc+%" PRIu64 ": %s (%s:%d, %u lines)", size / 2,
		      line_func(sym, loc, 0)->name, loc->lines[0].file, loc->lines[0].line, loc->nlines);
	}

	close(keep);
	waitpid(pid, NULL, 0);
	const struct sym_loc *loc = symbols_lookup(sym, work + 3);
	check(strcmp(loc_name(sym, loc), "main.work") == 0, "go: after exit: %s", loc_name(sym, loc));
	symbols_free(sym);
}

static void test_go(void)
{
	char dir[] = "/tmp/test_symbols_go.XXXXXX";
	if (!mkdtemp(dir)) {
		check(false, "go: no temporary directory");
		return;
	}
	char bin[512], src[512];
	snprintf(bin, sizeof bin, "%s/gobin", dir);
	snprintf(src, sizeof src, "%s/main.go", dir);
	if (!go_build(dir)) {
		check(false, "go: not installed or the build failed (make deps installs golang-go)");
		goto out;
	}
	int in[2], outp[2];
	if (pipe(in) < 0 || pipe(outp) < 0) {
		check(false, "go: pipe");
		goto out;
	}
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(outp[1], 1);
		close(in[0]);
		close(in[1]);
		close(outp[0]);
		close(outp[1]);
		execl(bin, bin, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(outp[1]);
	char buf[16];
	ssize_t n = read(outp[0], buf, sizeof buf);
	close(outp[0]);
	if (pid < 0 || n < 6 || memcmp(buf, "ready\n", 6) != 0) {
		check(false, "go: program did not start");
		close(in[1]);
		if (pid > 0)
			waitpid(pid, NULL, 0);
		goto out;
	}
	test_go_target(pid, in[1]);
out:
	unlink(bin);
	unlink(src);
	rmdir(dir);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_c();
	test_go();
	printf("%s: %d failure%s\n", failures ? "FAIL" : "ok", failures, failures == 1 ? "" : "s");
	return failures ? 1 : 0;
}
