/*
 * symbols: target addresses -> functions, source lines, inline chains and modules, with elfutils
 * libdwfl.  Also the ELF symbol table by name (for the Go runtime and lock decoding) and DWARF
 * access for type layouts.
 *
 * How binaries are found: each mapped file is opened through /proc/PID/map_files/START-END (works
 * for deleted or replaced files and for other mount namespaces), then /proc/PID/root/PATH, then
 * PATH.  Debug info comes from the file itself, .gnu_debuglink / build-id files under
 * /usr/lib/debug, or .gnu_debugdata (libdwfl's standard search).  JIT code is named from
 * /tmp/perf-PID.map (read through /proc/PID/root).  A file without symbols gives
 * "module+0xOFFSET" names; an address in no mapping gives "[unknown]" with its hex address.
 *
 * Cost: each module's symbol table is loaded once into a sorted array (binary search), line and
 * inline information is looked up once per address and cached, so a repeated address costs a hash
 * lookup.  The maps are reread (at most every 100 ms) when an address falls outside every module.
 *
 * Lifetime: every pointer returned (sym_loc, sym_func, sym_module, and the strings in them) stays
 * valid until symbols_free().  Ids are dense and start at 0; they never change.
 * Not thread-safe.
 */
#ifndef PROFTOP_SYMBOLS_H
#define PROFTOP_SYMBOLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct sym_module {
	uint32_t id;
	const char *path;      /* as mapped in the target ("/usr/lib/x86_64-linux-gnu/libc.so.6") */
	const char *name;      /* basename ("libc.so.6"), or "[vdso]", "[jit]" */
	uint64_t start, limit; /* lowest and highest address of its mappings */
	uint64_t offset;       /* file offset of the mapping at start */
	const char *build_id;  /* lowercase hex, "" when none */
	bool has_symbols;      /* an ELF symbol table was found */
	bool has_lines;        /* DWARF line information was found */
	bool has_inlines;      /* DWARF with inline information */
};

struct sym_func {
	uint32_t id;
	const char *name;        /* demangled ("ns::Cls::method(int)"), Go ("main.work"), or
				    "libfoo.so+0x1a2b" for stripped code */
	const char *system_name; /* the raw (mangled) symbol name, or name */
	const char *file;        /* source file of its definition, "" when unknown */
	int start_line;          /* line of its definition, 0 when unknown */
	uint32_t module;         /* sym_module id, UINT32_MAX when none */
};

/* One source position of an address; a location has several when code was inlined. */
struct sym_line {
	uint32_t func;    /* sym_func id */
	const char *file; /* "" when unknown */
	int line;         /* 0 when unknown */
};

struct sym_loc {
	uint64_t addr;          /* the address looked up */
	uint32_t module;        /* UINT32_MAX when in no known module */
	uint32_t nlines;        /* >= 1 */
	const struct sym_line *lines; /* innermost (inlined callee) first, the real function last */
};

struct symbols;

/* Start symbolizing pid.  Returns NULL with *cause when /proc/PID/maps cannot be read. */
struct symbols *symbols_new(pid_t pid, char **cause);
/* NULL is a no-op. */
void symbols_free(struct symbols *sym);

/*
 * Look up addr.  For return addresses pass addr - 1 (the call instruction), as unwinders do.
 * Never NULL.  The result is cached: the same addr returns the same pointer.
 */
const struct sym_loc *symbols_lookup(struct symbols *sym, uint64_t addr);

const struct sym_func *symbols_func(const struct symbols *sym, uint32_t id);
size_t symbols_nfuncs(const struct symbols *sym);
/* NULL for UINT32_MAX. */
const struct sym_module *symbols_module(const struct symbols *sym, uint32_t id);
size_t symbols_nmodules(const struct symbols *sym);

/* Address and size of the ELF symbol called name in any module (first match); -1 if none. */
int symbols_find_symbol(struct symbols *sym, const char *name, uint64_t *addr, uint64_t *size);
/* Name of the data or function symbol that contains addr, with *off the offset into it;
 * NULL when none.  Borrowed until symbols_free(). */
const char *symbols_symbol_at(struct symbols *sym, uint64_t addr, uint64_t *off);

/* Force a reread of /proc/PID/maps (new libraries loaded). */
void symbols_refresh(struct symbols *sym);

/*
 * DWARF of the module holding addr, for type layouts (e.g. Go's runtime.g).  Returns a Dwarf *
 * (elfutils, borrowed until symbols_free()) and the load bias, or NULL when the module has none.
 * Declared as void * so that callers without libdw headers can hold it.
 */
void *symbols_module_dwarf(struct symbols *sym, uint32_t module, uint64_t *bias);
/* The ELF handle (Elf *, borrowed) of a module, or NULL. */
void *symbols_module_elf(struct symbols *sym, uint32_t module, uint64_t *bias);
/* Module id of the target's main executable (/proc/PID/exe), UINT32_MAX when unknown. */
uint32_t symbols_main_module(struct symbols *sym);

/* Lookup statistics, for benchmarks. */
struct symbols_stats {
	uint64_t lookups, cache_hits, modules_loaded, maps_reloads;
};
const struct symbols_stats *symbols_stats(const struct symbols *sym);

#endif
