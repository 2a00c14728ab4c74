/*
 * symbols: target addresses -> functions, source lines, inline chains and modules, with
 * elfutils libdwfl (see symbols.h for the contract).
 *
 * Layout of the work:
 * - /proc/PID/maps is parsed here; each run of mappings of one file (or the vDSO) is a module.
 *   Its ELF is opened at once (map_files, then the target's root, then the path) and handed to
 *   libdwfl through find_elf, so that modules keep working after the target exits or the file
 *   is deleted.  Modules are never dropped: one Dwfl, dwfl_report_begin_add for new ones; our
 *   own sorted range table (not dwfl_addrmodule) maps addresses to the modules mapped now.
 * - Per module, lazily: a sorted table of function symbols and one of data symbols (from
 *   dwfl_module_getsym_info), and a table of compile-unit address ranges built with
 *   dwarf_get_units + dwarf_ranges (Go has no .debug_aranges).  Per CU, lazily: a sorted table
 *   of its subprograms, from which the inline chain of a pc is found by descending into the
 *   scopes that contain it (what dwarf_getscopes does, without walking the whole CU each time).
 * - Results are cached per address in an open-addressing table; unknown and JIT addresses are
 *   re-resolved in place when the maps or the JIT map change.
 * Nothing here writes to stdout or stderr.
 */
#include "symbols.h"

#include "elfsec.h"
#include "gopclntab.h"
#include "util.h"

#include <ctype.h>
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* libstdc++'s demangler (the Makefile links -lstdc++). */
char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);

/* The maps and the JIT map are reread at most this often when an address misses every module. */
static const uint64_t symbols_reload_ns = 100u * 1000u * 1000u;
/* The most of a perf-PID.map read (a bigger one is cut at a line end). */
static const size_t symbols_jit_map_max = (size_t)64 << 20;

enum {
	SYMBOLS_MAX_INLINE = 64, /* deepest inline chain kept for one address */
	SYMBOLS_SCAN_BACK = 32,  /* sorted-table entries looked at before an address for nesting */
};

enum module_kind { MODULE_FILE, MODULE_VDSO, MODULE_JIT };

/* One ELF symbol; addresses are ELF virtual addresses (runtime address - module bias). */
struct msym {
	uint64_t addr, end;   /* [addr, end); unsized symbols end at the next symbol */
	const char *raw;      /* in the ELF string table, valid while the Dwfl lives */
	const char *name;     /* demangled and interned, NULL until first use */
	uint32_t rank;        /* alias preference, lower is better */
	bool sized;
};

/* A scope inside a subprogram (inlined_subroutine, lexical block...), in DIE preorder. */
struct dw_scope {
	Dwarf_Die die;
	uint32_t next;        /* index of the first scope after its subtree */
	uint32_t range;       /* its address ranges: fn->ranges[range .. range + nranges) */
	uint32_t nranges;
	bool inlined;
};

struct dw_pc_range {
	uint64_t lo, hi;
};

/* A subprogram with code; its scopes are indexed on the first lookup of a pc inside it. */
struct dw_fn {
	Dwarf_Die die;
	struct dw_scope *scopes;
	struct dw_pc_range *ranges;
	uint32_t nscopes, nranges;
	size_t cap_scopes, cap_ranges;
	bool loaded;
};

struct dw_sub {
	uint64_t lo, hi;
	size_t fn;
};

struct dw_cu {
	Dwarf_Die cudie;      /* line table */
	Dwarf_Die subdie;     /* the DIE tree (the split unit of a skeleton, else cudie) */
	struct dw_fn *fns;
	size_t nfns, cap_fns;
	struct dw_sub *subs;  /* address ranges of fns, sorted */
	size_t nsubs;
	bool subs_loaded;
};

struct dw_range {
	uint64_t lo, hi;      /* DWARF addresses (runtime address - dwbias) */
	size_t cu;
};

struct module {
	struct sym_module pub;
	struct symbols *sym;
	enum module_kind kind;
	const char *clean_path;        /* path without " (deleted)" */
	uint64_t dev, ino;             /* identity in /proc/PID/maps */
	uint64_t map_start;            /* start of its first mapping */
	Dwfl_Module *dwmod;
	Elf *elf;
	uint64_t bias;                 /* runtime address - ELF virtual address */
	/* opened by us, handed to libdwfl by symbols_find_elf() */
	Elf *pending_elf;
	int pending_fd;
	char *pending_name;
	uint64_t dwfl_low, dwfl_high;
	bool syms_loaded;
	struct msym *funcs, *data;
	size_t nfuncs, ndata;
	bool dwarf_loaded;
	Dwarf *dw;
	uint64_t dwbias;
	struct dw_cu *cus;
	size_t ncus;
	struct dw_range *cu_ranges;
	size_t ncu_ranges;
	bool pcln_loaded;
	struct gopcln *pcln;           /* Go's pc-line table, for code without symbols */
};

struct mod_range {
	uint64_t start, end;
	struct module *m;
};

/* A run of mappings that is not a module (a data file): not reopened on every reload. */
struct ignored {
	uint64_t dev, ino, start;
};

struct map_ent {
	uint64_t start, end, offset, ino;
	unsigned int maj, min;
	bool exec;
	const char *path;
};

struct jit_sym {
	uint64_t start, end;
	const char *name;
	uint32_t seq;                  /* line number: later lines win */
};

struct loc_rec {
	struct sym_loc loc;
	uint32_t gen;                  /* sym->gen when resolved */
	bool dynamic;                  /* unknown or JIT: re-resolved when the maps change */
};

struct loc_slot {
	uint64_t addr;
	struct loc_rec *rec;           /* NULL: empty */
};

struct func_slot {
	const char *name;              /* interned; NULL: empty */
	uint32_t module;
	uint32_t id;
};

struct symbols {
	pid_t pid;
	pid_t nspid;                   /* the target's pid in its own namespace */
	Dwfl *dwfl;
	struct arena arena;            /* modules, funcs, locs and lines */
	struct strtab strs;            /* names, paths and file names */

	struct module **mods;
	size_t nmods, cap_mods;
	struct mod_range *ranges;      /* modules mapped now, sorted */
	size_t nranges;
	struct ignored *ignored;
	size_t nignored;
	char *maps_text;               /* last /proc/PID/maps, to skip unchanged rereads */
	char *exe;                     /* readlink(/proc/PID/exe) without " (deleted)" */
	uint32_t main_module;
	uint64_t maps_checked_ns;
	uint32_t gen;                  /* bumped when the modules or the JIT map change */

	struct sym_func **funcs;
	size_t nfuncs, cap_funcs;
	struct func_slot *fslots;
	size_t nfslots;
	uint32_t unknown_func;

	struct loc_slot *lslots;
	size_t nlslots, nlocs;

	struct jit_sym *jit;
	size_t njit;
	struct module *jit_mod;
	bool jit_checked, jit_seen;
	uint64_t jit_checked_ns;
	struct stat jit_st;

	struct symbols_stats stats;
};

static int symbols_find_elf(Dwfl_Module *dwmod, void **userdata, const char *modname,
			    Dwarf_Addr base, char **file_name, Elf **elfp);

static const Dwfl_Callbacks symbols_dwfl_callbacks = {
	.find_elf = symbols_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
};

/* ---- strings ---- */

static const char *symbols_intern(struct symbols *sym, const char *s)
{
	return strtab_intern(&sym->strs, s);
}

/* Intern the demangled form of a C++ (or Rust legacy) symbol name, else the name itself. */
static const char *symbols_demangle(struct symbols *sym, const char *raw)
{
	if (raw[0] == '_' && raw[1] == 'Z') {
		int status = -1;
		char *d = __cxa_demangle(raw, NULL, NULL, &status);
		if (d && status == 0) {
			const char *r = symbols_intern(sym, d);
			free(d);
			return r;
		}
		free(d);
	}
	return symbols_intern(sym, raw);
}

static bool ends_with_slash(const char *s)
{
	size_t n = strlen(s);
	return n > 0 && s[n - 1] == '/';
}

static bool path_is_deleted(const char *path, size_t *len)
{
	static const char suffix[] = " (deleted)";
	size_t n = strlen(path), k = sizeof suffix - 1;
	*len = n;
	if (n > k && strcmp(path + n - k, suffix) == 0) {
		*len = n - k;
		return true;
	}
	return false;
}

/* ---- functions and the address cache ---- */

static void symbols_fslots_grow(struct symbols *sym)
{
	size_t n = sym->nfslots ? sym->nfslots * 2 : 1024;
	struct func_slot *slots = xcalloc(n, sizeof *slots);
	for (size_t i = 0; i < sym->nfslots; i++) {
		struct func_slot *s = &sym->fslots[i];
		if (!s->name)
			continue;
		size_t h = util_hash64((uint64_t)(uintptr_t)s->name * 31 + s->module) & (n - 1);
		while (slots[h].name)
			h = (h + 1) & (n - 1);
		slots[h] = *s;
	}
	free(sym->fslots);
	sym->fslots = slots;
	sym->nfslots = n;
}

/* Id of the function (name, module), created with the given details on first sight.  All
 * strings are interned (or live as long as sym). */
static uint32_t symbols_func_get(struct symbols *sym, const char *name, const char *system_name,
				 const char *file, int line, uint32_t module)
{
	if ((sym->nfuncs + 1) * 2 > sym->nfslots)
		symbols_fslots_grow(sym);
	size_t mask = sym->nfslots - 1;
	size_t h = util_hash64((uint64_t)(uintptr_t)name * 31 + module) & mask;
	while (sym->fslots[h].name) {
		struct func_slot *s = &sym->fslots[h];
		if (s->name == name && s->module == module) {
			struct sym_func *f = sym->funcs[s->id];
			if (!f->file[0] && file[0]) {
				f->file = file;
				f->start_line = line;
			}
			return s->id;
		}
		h = (h + 1) & mask;
	}
	struct sym_func *f = arena_alloc(&sym->arena, sizeof *f);
	f->id = (uint32_t)sym->nfuncs;
	f->name = name;
	f->system_name = system_name;
	f->file = file;
	f->start_line = line;
	f->module = module;
	util_grow((void **)&sym->funcs, &sym->cap_funcs, sym->nfuncs + 1, sizeof *sym->funcs);
	sym->funcs[sym->nfuncs++] = f;
	sym->fslots[h] = (struct func_slot){ .name = name, .module = module, .id = f->id };
	return f->id;
}

static void symbols_lslots_grow(struct symbols *sym)
{
	size_t n = sym->nlslots ? sym->nlslots * 2 : 4096;
	struct loc_slot *slots = xcalloc(n, sizeof *slots);
	for (size_t i = 0; i < sym->nlslots; i++) {
		struct loc_slot *s = &sym->lslots[i];
		if (!s->rec)
			continue;
		size_t h = util_hash64(s->addr) & (n - 1);
		while (slots[h].rec)
			h = (h + 1) & (n - 1);
		slots[h] = *s;
	}
	free(sym->lslots);
	sym->lslots = slots;
	sym->nlslots = n;
}

/* ---- /proc helpers ---- */

/* The target's pid as its own pid namespace sees it (the name of its perf-PID.map). */
static pid_t symbols_nspid_read(pid_t pid)
{
	char path[64], buf[4096];
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	if (util_read_small(path, buf, sizeof buf) < 0)
		return pid;
	char *p = strstr(buf, "\nNSpid:");
	if (!p)
		return pid;
	p += 7;
	long last = pid;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!isdigit((unsigned char)*p))
			break;
		last = strtol(p, &p, 10);
	}
	return (pid_t)last;
}

static char *symbols_exe_read(pid_t pid)
{
	char path[64], buf[4096];
	snprintf(path, sizeof path, "/proc/%d/exe", (int)pid);
	ssize_t n = readlink(path, buf, sizeof buf - 1);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	size_t len;
	path_is_deleted(buf, &len);
	return xstrndup(buf, len);
}

/* Parse /proc/PID/maps text (modified in place: paths point into it). */
static size_t maps_parse(char *text, struct map_ent **out)
{
	struct map_ent *e = NULL;
	size_t n = 0, cap = 0;
	char *line = text;
	while (line && *line) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		struct map_ent m;
		char perms[8] = "";
		int pos = 0;
		memset(&m, 0, sizeof m);
		int r = sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %x:%x %" SCNu64 " %n",
			       &m.start, &m.end, perms, &m.offset, &m.maj, &m.min, &m.ino, &pos);
		if (r >= 7 && m.end > m.start) {
			m.exec = perms[2] == 'x';
			m.path = pos > 0 ? line + pos : "";
			util_grow((void **)&e, &cap, n + 1, sizeof *e);
			e[n++] = m;
		}
		line = nl ? nl + 1 : NULL;
	}
	*out = e;
	return n;
}

static bool map_is_file(const struct map_ent *e)
{
	return e->path[0] == '/' && e->ino != 0;
}

static bool map_is_vdso(const struct map_ent *e)
{
	return strcmp(e->path, "[vdso]") == 0;
}

/* ---- opening ELF files ---- */

/* Open the file behind a mapping: /proc/PID/map_files/START-END, then /proc/PID/root/PATH,
 * then PATH (only if it is still the mapped inode).  *name gets the path libdwfl should use
 * to look for .gnu_debuglink files. */
static int symbols_file_open(struct symbols *sym, const struct map_ent *e, char **name)
{
	size_t len;
	bool deleted = path_is_deleted(e->path, &len);
	char *clean = xstrndup(e->path, len);
	struct stat st;
	char *p = xasprintf("/proc/%d/map_files/%" PRIx64 "-%" PRIx64, (int)sym->pid, e->start,
			    e->end);
	int fd = -1;
	if (stat(p, &st) == 0 && S_ISREG(st.st_mode))
		fd = open(p, O_RDONLY | O_CLOEXEC);
	free(p);
	if (fd >= 0 || deleted) {
		*name = clean;
		return fd;
	}
	p = xasprintf("/proc/%d/root%s", (int)sym->pid, clean);
	if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
		fd = open(p, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			free(clean);
			*name = p;
			return fd;
		}
	}
	free(p);
	if (stat(clean, &st) == 0 && S_ISREG(st.st_mode) && st.st_ino == e->ino)
		fd = open(clean, O_RDONLY | O_CLOEXEC);
	*name = clean;
	return fd;
}

/* From the program headers, the load bias of a module whose lowest mapping is e, and the
 * address range libdwfl must be told so that it computes the same bias (it takes the module's
 * low address as the load address of the first PT_LOAD, aligned down to p_align). */
static bool elf_layout(Elf *elf, const struct map_ent *e, uint64_t *bias, uint64_t *low,
		       uint64_t *high)
{
	GElf_Ehdr eh;
	size_t phnum;
	if (!gelf_getehdr(elf, &eh) || elf_getphdrnum(elf, &phnum) != 0)
		return false;
	long page = sysconf(_SC_PAGESIZE);
	uint64_t pmask = (uint64_t)(page > 0 ? page : 4096) - 1;
	bool any = false, found = false;
	uint64_t first = 0, maxend = 0, b = 0;
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (!any)
			first = ph.p_vaddr & -ph.p_align;
		any = true;
		if (ph.p_vaddr + ph.p_memsz > maxend)
			maxend = ph.p_vaddr + ph.p_memsz;
		if (!found && e->offset >= (ph.p_offset & ~pmask) &&
		    e->offset < ph.p_offset + ph.p_filesz) {
			b = e->start - (ph.p_vaddr - ph.p_offset + e->offset);
			found = true;
		}
	}
	if (!any)
		return false;
	if (eh.e_type == ET_EXEC)
		b = 0;
	else if (!found)
		b = e->start - e->offset;
	*bias = b;
	*low = b + first;
	*high = b + ((maxend + pmask) & ~pmask);
	return *high > *low;
}

/* libdwfl's find_elf: hand over the ELF opened in symbols_module_new(), or read the vDSO
 * from the target's memory. */
static int symbols_find_elf(Dwfl_Module *dwmod, void **userdata, const char *modname,
			    Dwarf_Addr base, char **file_name, Elf **elfp)
{
	struct module *m = *userdata;
	(void)modname;
	if (!m)
		return -1;
	if (m->kind == MODULE_VDSO) {
		char name[64];
		snprintf(name, sizeof name, "[vdso: %d]", (int)m->sym->pid);
		return dwfl_linux_proc_find_elf(dwmod, userdata, name, base, file_name, elfp);
	}
	int fd = m->pending_fd;
	*elfp = m->pending_elf;
	*file_name = m->pending_name;
	m->pending_fd = -1;
	m->pending_elf = NULL;
	m->pending_name = NULL;
	return fd;
}

/* ---- modules ---- */

static struct module *symbols_module_alloc(struct symbols *sym, enum module_kind kind,
					   const char *path)
{
	struct module *m = arena_alloc(&sym->arena, sizeof *m);
	memset(m, 0, sizeof *m);
	m->sym = sym;
	m->kind = kind;
	m->pending_fd = -1;
	size_t len;
	path_is_deleted(path, &len);
	char *clean = xstrndup(path, len);
	const char *slash = strrchr(clean, '/');
	m->pub.path = symbols_intern(sym, path);
	m->clean_path = symbols_intern(sym, clean);
	m->pub.name = symbols_intern(sym, slash ? slash + 1 : clean);
	m->pub.build_id = "";
	free(clean);
	m->pub.id = (uint32_t)sym->nmods;
	util_grow((void **)&sym->mods, &sym->cap_mods, sym->nmods + 1, sizeof *sym->mods);
	sym->mods[sym->nmods++] = m;
	return m;
}

/* A new module for a run of mappings of one file (or the vDSO) that starts with e and ends at
 * end, with its ELF opened; NULL when the file is no ELF and not executable (data files). */
static struct module *symbols_module_new(struct symbols *sym, const struct map_ent *e,
					 uint64_t end, bool exec)
{
	bool vdso = map_is_vdso(e);
	Elf *elf = NULL;
	int fd = -1;
	char *name = NULL;
	uint64_t bias = 0, low = e->start, high = end;
	if (!vdso) {
		fd = symbols_file_open(sym, e, &name);
		if (fd >= 0) {
			elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
			if (elf && (elf_kind(elf) != ELF_K_ELF || !elf_layout(elf, e, &bias, &low, &high))) {
				elf_end(elf);
				elf = NULL;
			}
			if (!elf) {
				close(fd);
				fd = -1;
			}
		}
		if (!elf && !exec) {
			free(name);
			return NULL;
		}
	}
	struct module *m = symbols_module_alloc(sym, vdso ? MODULE_VDSO : MODULE_FILE, e->path);
	m->dev = (uint64_t)e->maj << 32 | e->min;
	m->ino = e->ino;
	m->map_start = e->start;
	m->pub.start = e->start;
	m->pub.limit = end;
	m->pub.offset = e->offset;
	m->pending_elf = elf;
	m->pending_fd = fd;
	m->pending_name = name;
	m->bias = bias;
	m->dwfl_low = low;
	m->dwfl_high = high > low ? high : low + 1;
	if (vdso || elf) {
		uint64_t top = vdso ? end : high;
		if (top > m->pub.limit)
			m->pub.limit = top;
	}
	return m;
}

/* Report a new module to libdwfl (between dwfl_report_begin_add and dwfl_report_end). */
static void symbols_module_report(struct symbols *sym, struct module *m)
{
	if (m->kind == MODULE_FILE && !m->pending_elf)
		return;
	const char *name = m->kind == MODULE_VDSO ? "[vdso]" : m->clean_path;
	Dwfl_Module *d = dwfl_report_module(sym->dwfl, name, m->dwfl_low, m->dwfl_high);
	void **ud = NULL;
	if (d)
		dwfl_module_info(d, &ud, NULL, NULL, NULL, NULL, NULL, NULL);
	if (d && ud && *ud) {
		/* Same name and range as an older module (a file replaced in place): a new name. */
		char *uniq = xasprintf("%s#%" PRIu32, name, m->pub.id);
		d = dwfl_report_module(sym->dwfl, uniq, m->dwfl_low, m->dwfl_high);
		free(uniq);
		ud = NULL;
		if (d)
			dwfl_module_info(d, &ud, NULL, NULL, NULL, NULL, NULL, NULL);
	}
	if (!d || !ud)
		return;
	*ud = m;
	m->dwmod = d;
}

/* Open the module's ELF through libdwfl (after dwfl_report_end) and read its build ID. */
static void symbols_module_open(struct symbols *sym, struct module *m)
{
	if (!m->dwmod)
		return;
	GElf_Addr bias = 0;
	m->elf = dwfl_module_getelf(m->dwmod, &bias);
	if (!m->elf)
		return;
	m->bias = bias;
	const unsigned char *bits = NULL;
	GElf_Addr vaddr;
	int len = dwfl_module_build_id(m->dwmod, &bits, &vaddr);
	if (len > 0 && bits) {
		char *hex = arena_alloc(&sym->arena, (size_t)len * 2 + 1);
		for (int i = 0; i < len; i++)
			snprintf(hex + 2 * i, 3, "%02x", bits[i]);
		m->pub.build_id = hex;
	}
}

static struct module *symbols_module_match(struct symbols *sym, const struct map_ent *e)
{
	uint64_t dev = (uint64_t)e->maj << 32 | e->min;
	for (size_t i = 0; i < sym->nmods; i++) {
		struct module *m = sym->mods[i];
		if (m->kind != MODULE_JIT && m->map_start == e->start && m->ino == e->ino &&
		    m->dev == dev && strcmp(m->pub.path, e->path) == 0)
			return m;
	}
	return NULL;
}

static bool symbols_ignored_has(const struct symbols *sym, const struct ignored *g)
{
	for (size_t i = 0; i < sym->nignored; i++) {
		const struct ignored *x = &sym->ignored[i];
		if (x->start == g->start && x->ino == g->ino && x->dev == g->dev)
			return true;
	}
	return false;
}

static int mod_range_cmp(const void *a, const void *b)
{
	const struct mod_range *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

/* Reread /proc/PID/maps: new modules are created and opened, the range table rebuilt.
 * Returns 1 when something changed, 0 when the maps are the same, -1 when unreadable (the
 * target exited: the last range table stays). */
static int symbols_maps_reload(struct symbols *sym)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/maps", (int)sym->pid);
	sym->maps_checked_ns = util_now_ns();
	size_t len = 0;
	char *text = util_read_file(path, &len);
	if (!text)
		return -1;
	if (len == 0) {
		free(text);
		errno = ESRCH;
		return -1;
	}
	if (sym->maps_text && strcmp(text, sym->maps_text) == 0) {
		free(text);
		return 0;
	}
	sym->stats.maps_reloads++;
	free(sym->maps_text);
	sym->maps_text = xstrdup(text);

	char *exe = symbols_exe_read(sym->pid);
	if (exe) {
		free(sym->exe);
		sym->exe = exe;
	}

	struct map_ent *e;
	size_t n = maps_parse(text, &e);
	struct mod_range *ranges = NULL;
	size_t nranges = 0, cap_ranges = 0;
	struct module **fresh = NULL;
	size_t nfresh = 0, cap_fresh = 0;
	struct ignored *kept = NULL; /* the ignored runs still mapped */
	size_t nkept = 0, cap_kept = 0;
	size_t i = 0;
	while (i < n) {
		if (!map_is_file(&e[i]) && !map_is_vdso(&e[i])) {
			i++;
			continue;
		}
		/* A run: later mappings of the same file at growing offsets; anonymous mappings
		 * (.bss) in between do not break it, as in dwfl_linux_proc_report. */
		size_t first = i, j = i + 1;
		uint64_t end = e[i].end, off = e[i].offset;
		bool exec = e[i].exec;
		if (map_is_file(&e[i])) {
			for (; j < n; j++) {
				if (!map_is_file(&e[j])) {
					if (e[j].path[0] == '\0')
						continue;
					break;
				}
				if (e[j].ino != e[i].ino || e[j].maj != e[i].maj ||
				    e[j].min != e[i].min || e[j].offset < off ||
				    strcmp(e[j].path, e[i].path) != 0)
					break;
				end = e[j].end;
				off = e[j].offset;
				exec |= e[j].exec;
			}
		}
		i = j;
		struct module *m = symbols_module_match(sym, &e[first]);
		if (!m) {
			struct ignored g = {
				.dev = (uint64_t)e[first].maj << 32 | e[first].min,
				.ino = e[first].ino,
				.start = e[first].start,
			};
			bool ignore = symbols_ignored_has(sym, &g);
			if (!ignore) {
				m = symbols_module_new(sym, &e[first], end, exec);
				if (m) {
					util_grow((void **)&fresh, &cap_fresh, nfresh + 1, sizeof *fresh);
					fresh[nfresh++] = m;
				}
				ignore = !m;
			}
			if (ignore) {
				util_grow((void **)&kept, &cap_kept, nkept + 1, sizeof *kept);
				kept[nkept++] = g;
			}
		}
		if (!m)
			continue;
		if (end > m->pub.limit)
			m->pub.limit = end;
		util_grow((void **)&ranges, &cap_ranges, nranges + 1, sizeof *ranges);
		ranges[nranges++] = (struct mod_range){ m->pub.start, m->pub.limit, m };
	}
	free(e);
	free(text);
	free(sym->ignored);
	sym->ignored = kept;
	sym->nignored = nkept;

	if (nfresh) {
		dwfl_report_begin_add(sym->dwfl);
		for (size_t k = 0; k < nfresh; k++)
			symbols_module_report(sym, fresh[k]);
		dwfl_report_end(sym->dwfl, NULL, NULL);
		for (size_t k = 0; k < nfresh; k++)
			symbols_module_open(sym, fresh[k]);
	}
	free(fresh);

	qsort(ranges, nranges, sizeof *ranges, mod_range_cmp);
	for (size_t k = 0; k + 1 < nranges; k++)
		if (ranges[k].end > ranges[k + 1].start)
			ranges[k].end = ranges[k + 1].start;
	free(sym->ranges);
	sym->ranges = ranges;
	sym->nranges = nranges;

	sym->main_module = UINT32_MAX;
	for (size_t k = 0; sym->exe && k < nranges; k++) {
		if (strcmp(ranges[k].m->clean_path, sym->exe) == 0) {
			sym->main_module = ranges[k].m->pub.id;
			break;
		}
	}
	sym->gen++;
	return 1;
}

/* Reread the maps if the last look is at least 100 ms old; true when modules changed. */
static bool symbols_maps_maybe_reload(struct symbols *sym)
{
	if (util_now_ns() - sym->maps_checked_ns < symbols_reload_ns)
		return false;
	return symbols_maps_reload(sym) > 0;
}

static struct module *symbols_module_at(const struct symbols *sym, uint64_t addr)
{
	size_t lo = util_upper_u64(sym->ranges, sym->nranges, UTIL_FIELD(sym->ranges, start), addr);
	if (lo == 0 || addr >= sym->ranges[lo - 1].end)
		return NULL;
	return sym->ranges[lo - 1].m;
}

/* ---- ELF symbol tables ---- */

static uint32_t msym_rank(int type, int bind, const char *name)
{
	uint32_t t = type == STT_NOTYPE ? 1 : 0;
	uint32_t u = 0;
	while (name[u] == '_' && u < 15)
		u++;
	uint32_t b = bind == STB_GLOBAL ? 0 : bind == STB_WEAK ? 1 : bind == STB_LOCAL ? 2 : 3;
	size_t len = strlen(name);
	uint32_t l = len > 4095 ? 4095 : (uint32_t)len;
	/* Function over untyped, fewer leading underscores ("read" over "__read"), global over
	 * weak over local, then the shorter name. */
	return t << 24 | u << 16 | b << 12 | l;
}

static int msym_cmp(const void *a, const void *b)
{
	const struct msym *x = a, *y = b;
	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	if (x->sized != y->sized)
		return x->sized ? -1 : 1;
	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	return strcmp(x->raw, y->raw);
}

/* Sort, keep one symbol per address (the preferred alias), bound unsized symbols by the
 * next one.  Returns the new count. */
static size_t msym_finish(struct msym *t, size_t n, bool data)
{
	if (n == 0)
		return 0;
	qsort(t, n, sizeof *t, msym_cmp);
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (k == 0 || t[k - 1].addr != t[i].addr)
			t[k++] = t[i];
	for (size_t i = 0; i < k; i++) {
		if (t[i].sized)
			continue;
		if (data)
			t[i].end = t[i].addr + 1;
		else if (i + 1 < k && t[i + 1].addr < t[i].end)
			t[i].end = t[i + 1].addr;
	}
	return k;
}

/* Load the module's function and data symbols into sorted arrays (once). */
static void module_syms_load(struct symbols *sym, struct module *m)
{
	if (m->syms_loaded)
		return;
	m->syms_loaded = true;
	if (!m->dwmod || !m->elf)
		return;
	sym->stats.modules_loaded++; /* counts symbol tables loaded */
	int n = dwfl_module_getsymtab(m->dwmod);
	if (n <= 1)
		return;
	struct msym *funcs = xcalloc((size_t)n, sizeof *funcs);
	struct msym *data = xcalloc((size_t)n, sizeof *data);
	size_t nf = 0, nd = 0;
	for (int i = 1; i < n; i++) {
		GElf_Sym s;
		GElf_Addr a;
		GElf_Word shndx = SHN_UNDEF;
		Elf *elf = NULL;
		Dwarf_Addr b = 0;
		const char *name = dwfl_module_getsym_info(m->dwmod, i, &s, &a, &shndx, &elf, &b);
		if (!name || !name[0] || shndx == SHN_UNDEF || shndx == SHN_ABS)
			continue;
		int type = GELF_ST_TYPE(s.st_info);
		GElf_Shdr shm, *sh = NULL;
		if (elf && shndx < SHN_LORESERVE)
			sh = gelf_getshdr(elf_getscn(elf, shndx), &shm);
		bool text = sh && (sh->sh_flags & SHF_EXECINSTR);
		struct msym *ms;
		if (type == STT_FUNC || type == STT_GNU_IFUNC || (type == STT_NOTYPE && text))
			ms = &funcs[nf++];
		else if (type == STT_OBJECT || type == STT_COMMON)
			ms = &data[nd++];
		else
			continue;
		ms->addr = a - m->bias;
		ms->sized = s.st_size > 0;
		if (ms->sized)
			ms->end = ms->addr + s.st_size;
		else if (sh)
			ms->end = sh->sh_addr + sh->sh_size + b - m->bias;
		else
			ms->end = UINT64_MAX;
		ms->raw = name;
		ms->rank = msym_rank(type, GELF_ST_BIND(s.st_info), name);
	}
	m->nfuncs = msym_finish(funcs, nf, false);
	m->ndata = msym_finish(data, nd, true);
	if (m->nfuncs) {
		m->funcs = xreallocarray(funcs, m->nfuncs, sizeof *funcs);
	} else {
		free(funcs);
	}
	if (m->ndata) {
		m->data = xreallocarray(data, m->ndata, sizeof *data);
	} else {
		free(data);
	}
	m->pub.has_symbols = m->nfuncs + m->ndata > 0;
}

/* The symbol of t containing vaddr: the nearest sized one, else an unsized one (which runs up
 * to the next symbol or its section's end); NULL when none. */
static struct msym *msym_find(struct msym *t, size_t n, uint64_t vaddr)
{
	size_t lo = util_upper_u64(t, n, UTIL_FIELD(t, addr), vaddr);
	if (lo == 0)
		return NULL;
	struct msym *s = &t[lo - 1];
	if (s->sized && vaddr < s->end)
		return s;
	for (size_t i = lo - 1, k = 0; i-- > 0 && k < SYMBOLS_SCAN_BACK; k++)
		if (t[i].sized && vaddr < t[i].end)
			return &t[i];
	if (!s->sized && vaddr < s->end)
		return s;
	return NULL;
}

/* Display name of an ELF symbol: without a symbol version ("clock_nanosleep@@GLIBC_2.17" in
 * glibc's debug .symtab), demangled. */
static const char *msym_name(struct symbols *sym, struct msym *s)
{
	if (!s->name) {
		const char *at = strchr(s->raw, '@');
		if (at && at != s->raw) {
			char *base = xstrndup(s->raw, (size_t)(at - s->raw));
			s->name = symbols_demangle(sym, base);
			free(base);
		} else {
			s->name = symbols_demangle(sym, s->raw);
		}
	}
	return s->name;
}

/* runtime.firstmoduledata: the word in the module's writable data that points at the table
 * (pcHeader) with the text start where moduledata keeps it; from it, the inline trees' base. */
static void module_gofunc(struct module *m, uint64_t pclntab_addr)
{
	int at = gopcln_gofunc_offset(m->pcln);
	if (at < 0)
		return;
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(m->elf, scn)) != NULL) {
		GElf_Shdr sh;
		Elf_Data *d;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS || !(sh.sh_flags & SHF_WRITE) ||
		    !(d = elf_getdata(scn, NULL)) || !d->d_buf)
			continue;
		const uint8_t *b = d->d_buf;
		for (size_t off = 0; off + (size_t)at + 8 <= d->d_size; off += 8) {
			uint64_t w, text, gofunc;
			memcpy(&w, b + off, 8);
			if (w != pclntab_addr)
				continue;
			memcpy(&text, b + off + 176, 8); /* moduledata.text */
			memcpy(&gofunc, b + off + (size_t)at, 8);
			size_t len = 0;
			const uint8_t *g;
			if (text == gopcln_text_start(m->pcln) && (g = elfsec_bytes_at(m->elf, gofunc, &len))) {
				gopcln_set_gofunc(m->pcln, g, len);
				return;
			}
		}
	}
}

/* Go's .gopclntab of the module (once): names stripped Go code (see gopclntab.h). */
static struct gopcln *module_gopcln(struct module *m)
{
	if (m->pcln_loaded)
		return m->pcln;
	m->pcln_loaded = true;
	GElf_Shdr sh;
	Elf_Scn *scn = m->elf ? elfsec_named(m->elf, ".gopclntab", &sh) : NULL;
	Elf_Data *d = scn && sh.sh_type == SHT_PROGBITS ? elf_getdata(scn, NULL) : NULL;
	if (d && d->d_buf)
		m->pcln = gopcln_parse(d->d_buf, d->d_size);
	if (m->pcln)
		module_gofunc(m, sh.sh_addr);
	return m->pcln;
}

/* ---- DWARF ---- */

static int dw_range_cmp(const void *a, const void *b)
{
	const struct dw_range *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static int dw_sub_cmp(const void *a, const void *b)
{
	const struct dw_sub *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Open the module's DWARF and index its compile units by address (once). */
static bool module_dwarf_load(struct module *m)
{
	if (m->dwarf_loaded)
		return m->dw != NULL;
	m->dwarf_loaded = true;
	if (!m->dwmod || !m->elf)
		return false;
	Dwarf_Addr bias = 0;
	Dwarf *dw = dwfl_module_getdwarf(m->dwmod, &bias);
	if (!dw)
		return false;
	m->dw = dw;
	m->dwbias = bias;
	size_t cap_cus = 0, cap_r = 0;
	Dwarf_CU *cu = NULL;
	Dwarf_Half version;
	uint8_t unit_type;
	Dwarf_Die cudie, subdie;
	while (dwarf_get_units(dw, cu, &cu, &version, &unit_type, &cudie, &subdie) == 0) {
		if (unit_type != DW_UT_compile && unit_type != DW_UT_skeleton &&
		    unit_type != DW_UT_partial)
			continue;
		size_t before = m->ncu_ranges;
		ptrdiff_t off = 0;
		Dwarf_Addr base, lo, hi;
		while ((off = dwarf_ranges(&cudie, off, &base, &lo, &hi)) > 0) {
			if (hi <= lo || lo == 0)
				continue;
			util_grow((void **)&m->cu_ranges, &cap_r, m->ncu_ranges + 1,
				  sizeof *m->cu_ranges);
			m->cu_ranges[m->ncu_ranges++] = (struct dw_range){ lo, hi, m->ncus };
		}
		if (m->ncu_ranges == before)
			continue;
		util_grow((void **)&m->cus, &cap_cus, m->ncus + 1, sizeof *m->cus);
		struct dw_cu *c = &m->cus[m->ncus++];
		memset(c, 0, sizeof *c);
		c->cudie = cudie;
		c->subdie = unit_type == DW_UT_skeleton && subdie.addr ? subdie : cudie;
	}
	if (m->ncu_ranges)
		qsort(m->cu_ranges, m->ncu_ranges, sizeof *m->cu_ranges, dw_range_cmp);
	m->pub.has_lines = m->ncu_ranges > 0;
	/* Inline frames are expanded wherever there is DWARF with code ranges. */
	m->pub.has_inlines = m->ncu_ranges > 0;
	return true;
}

static struct dw_cu *module_cu_find(struct module *m, uint64_t pc)
{
	size_t lo = util_upper_u64(m->cu_ranges, m->ncu_ranges, UTIL_FIELD(m->cu_ranges, lo), pc);
	for (size_t i = lo, k = 0; i-- > 0 && k < 8; k++)
		if (pc < m->cu_ranges[i].hi)
			return &m->cus[m->cu_ranges[i].cu];
	return NULL;
}

static bool dw_tag_is_scope_owner(int tag)
{
	return tag == DW_TAG_namespace || tag == DW_TAG_class_type ||
	       tag == DW_TAG_structure_type || tag == DW_TAG_union_type || tag == DW_TAG_module;
}

static void dw_subs_collect(struct dw_cu *cu, Dwarf_Die *parent, int depth, size_t *cap)
{
	Dwarf_Die child;
	if (dwarf_child(parent, &child) != 0)
		return;
	do {
		int tag = dwarf_tag(&child);
		if (tag == DW_TAG_subprogram) {
			ptrdiff_t off = 0;
			Dwarf_Addr base, lo, hi;
			size_t before = cu->nsubs;
			while ((off = dwarf_ranges(&child, off, &base, &lo, &hi)) > 0) {
				if (hi <= lo || lo == 0)
					continue;
				util_grow((void **)&cu->subs, cap, cu->nsubs + 1, sizeof *cu->subs);
				cu->subs[cu->nsubs++] = (struct dw_sub){ lo, hi, cu->nfns };
			}
			if (cu->nsubs > before) {
				util_grow((void **)&cu->fns, &cu->cap_fns, cu->nfns + 1, sizeof *cu->fns);
				memset(&cu->fns[cu->nfns], 0, sizeof *cu->fns);
				cu->fns[cu->nfns++].die = child;
			}
		} else if (depth < 8 && dw_tag_is_scope_owner(tag)) {
			dw_subs_collect(cu, &child, depth + 1, cap);
		}
	} while (dwarf_siblingof(&child, &child) == 0);
}

static const struct dw_sub *dw_cu_sub_find(struct dw_cu *cu, uint64_t pc)
{
	if (!cu->subs_loaded) {
		cu->subs_loaded = true;
		size_t cap = 0;
		dw_subs_collect(cu, &cu->subdie, 0, &cap);
		if (cu->nsubs)
			qsort(cu->subs, cu->nsubs, sizeof *cu->subs, dw_sub_cmp);
	}
	size_t lo = util_upper_u64(cu->subs, cu->nsubs, UTIL_FIELD(cu->subs, lo), pc);
	for (size_t i = lo, k = 0; i-- > 0 && k < 8; k++)
		if (pc < cu->subs[i].hi)
			return &cu->subs[i];
	return NULL;
}

static bool dw_tag_has_scopes(int tag)
{
	return tag == DW_TAG_inlined_subroutine || tag == DW_TAG_lexical_block ||
	       tag == DW_TAG_try_block || tag == DW_TAG_catch_block || tag == DW_TAG_with_stmt ||
	       tag == DW_TAG_entry_point;
}

/* Index the scopes below parent, in preorder, with their address ranges. */
static void dw_fn_collect(struct dw_fn *fn, Dwarf_Die *parent, int depth)
{
	Dwarf_Die child;
	if (dwarf_child(parent, &child) != 0)
		return;
	do {
		int tag = dwarf_tag(&child);
		if (!dw_tag_has_scopes(tag))
			continue;
		uint32_t idx = fn->nscopes++;
		util_grow((void **)&fn->scopes, &fn->cap_scopes, fn->nscopes, sizeof *fn->scopes);
		fn->scopes[idx] = (struct dw_scope){
			.die = child,
			.range = fn->nranges,
			.inlined = tag == DW_TAG_inlined_subroutine,
		};
		ptrdiff_t off = 0;
		Dwarf_Addr base, lo, hi;
		while ((off = dwarf_ranges(&child, off, &base, &lo, &hi)) > 0) {
			if (hi <= lo)
				continue;
			util_grow((void **)&fn->ranges, &fn->cap_ranges, fn->nranges + 1,
				  sizeof *fn->ranges);
			fn->ranges[fn->nranges++] = (struct dw_pc_range){ lo, hi };
		}
		fn->scopes[idx].nranges = fn->nranges - fn->scopes[idx].range;
		if (depth < 256)
			dw_fn_collect(fn, &child, depth + 1);
		fn->scopes[idx].next = fn->nscopes;
	} while (dwarf_siblingof(&child, &child) == 0);
}

/* The inlined_subroutine DIEs of fn containing pc, outermost first: descend through the scopes
 * that contain pc, skipping the subtrees of those that do not (as dwarf_getscopes does). */
static size_t dw_fn_inline_chain(struct dw_fn *fn, uint64_t pc, Dwarf_Die *inl)
{
	if (!fn->loaded) {
		fn->loaded = true;
		dw_fn_collect(fn, &fn->die, 0);
	}
	size_t n = 0;
	uint32_t i = 0, end = fn->nscopes;
	while (i < end) {
		const struct dw_scope *s = &fn->scopes[i];
		bool has = false;
		for (uint32_t r = s->range; r < s->range + s->nranges && !has; r++)
			has = fn->ranges[r].lo <= pc && pc < fn->ranges[r].hi;
		if (!has) {
			i = s->next;
			continue;
		}
		if (s->inlined) {
			if (n == SYMBOLS_MAX_INLINE)
				break;
			inl[n++] = s->die;
		}
		end = s->next;
		i++;
	}
	return n;
}

/* From a subprogram containing pc, the inlined_subroutine DIEs containing pc, outermost first
 * (walking the DIEs: for code outside the subprogram index). */
static size_t dw_inline_chain(Dwarf_Die *sub, uint64_t pc, Dwarf_Die *inl)
{
	size_t n = 0;
	Dwarf_Die cur = *sub;
	for (;;) {
		Dwarf_Die child;
		if (dwarf_child(&cur, &child) != 0)
			break;
		bool found = false;
		do {
			if (dw_tag_has_scopes(dwarf_tag(&child)) && dwarf_haspc(&child, pc) == 1) {
				found = true;
				break;
			}
		} while (dwarf_siblingof(&child, &child) == 0);
		if (!found)
			break;
		if (dwarf_tag(&child) == DW_TAG_inlined_subroutine) {
			if (n == SYMBOLS_MAX_INLINE)
				break;
			inl[n++] = child;
		}
		cur = child;
	}
	return n;
}

/* The subprogram containing pc and its inline chain (outermost first); false when DWARF does
 * not know pc.  Falls back to dwarf_getscopes for code outside the subprogram index (nested
 * functions). */
static bool dw_cu_scopes(struct dw_cu *cu, uint64_t pc, Dwarf_Die *sub, Dwarf_Die *inl,
			 size_t *ninl)
{
	*ninl = 0;
	const struct dw_sub *s = dw_cu_sub_find(cu, pc);
	if (s) {
		struct dw_fn *fn = &cu->fns[s->fn];
		*sub = fn->die;
		*ninl = dw_fn_inline_chain(fn, pc, inl);
		return true;
	}
	Dwarf_Die *scopes = NULL;
	int n = dwarf_getscopes(&cu->subdie, pc, &scopes);
	bool found = false;
	for (int i = 0; i < n && !found; i++) {
		if (dwarf_tag(&scopes[i]) == DW_TAG_subprogram && dwarf_haspc(&scopes[i], pc) == 1) {
			*sub = scopes[i];
			found = true;
		}
	}
	free(scopes);
	if (!found)
		return false;
	*ninl = dw_inline_chain(sub, pc, inl);
	return true;
}

/* Name of the function a subprogram or inlined_subroutine DIE stands for (through
 * DW_AT_abstract_origin / DW_AT_specification): the demangled linkage name, else DW_AT_name. */
static bool dw_die_names(struct symbols *sym, Dwarf_Die *die, const char **name,
			 const char **system_name)
{
	Dwarf_Attribute attr;
	const char *link = NULL;
	if (dwarf_attr_integrate(die, DW_AT_linkage_name, &attr) ||
	    dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr))
		link = dwarf_formstring(&attr);
	if (link && link[0]) {
		*system_name = symbols_intern(sym, link);
		*name = symbols_demangle(sym, link);
		return true;
	}
	const char *n = dwarf_formstring(dwarf_attr_integrate(die, DW_AT_name, &attr));
	if (!n || !n[0])
		return false;
	*name = *system_name = symbols_intern(sym, n);
	return true;
}

/* Intern a source path, made absolute with the CU's DW_AT_comp_dir when it is relative. */
static const char *dw_path(struct symbols *sym, Dwarf_Die *cudie, const char *f)
{
	if (f[0] != '/' && cudie) {
		Dwarf_Attribute attr;
		const char *dir = dwarf_formstring(dwarf_attr(cudie, DW_AT_comp_dir, &attr));
		if (dir && dir[0] && strcmp(dir, ".") != 0) {
			while (f[0] == '.' && f[1] == '/')
				f += 2;
			char *p = xasprintf("%s%s%s", dir, ends_with_slash(dir) ? "" : "/", f);
			const char *r = symbols_intern(sym, p);
			free(p);
			return r;
		}
	}
	return symbols_intern(sym, f);
}

/* DW_AT_decl_file / DW_AT_decl_line (through abstract origins).  Not dwarf_decl_file(): libdw
 * 0.188 takes file index 0 for "none", but from DWARF 5 on it is the primary file (clang). */
static void dw_decl(struct symbols *sym, Dwarf_Die *die, const char **file, int *line)
{
	Dwarf_Attribute attr;
	Dwarf_Word idx;
	Dwarf_Die cudie;
	Dwarf_Half version = 0;
	Dwarf_Files *files;
	size_t nfiles;
	int l = 0;
	*line = dwarf_decl_line(die, &l) == 0 ? l : 0;
	*file = "";
	if (dwarf_formudata(dwarf_attr_integrate(die, DW_AT_decl_file, &attr), &idx) != 0 ||
	    !dwarf_cu_die(attr.cu, &cudie, &version, NULL, NULL, NULL, NULL, NULL) ||
	    (idx == 0 && version < 5) || dwarf_getsrcfiles(&cudie, &files, &nfiles) != 0 ||
	    idx >= nfiles)
		return;
	const char *f = dwarf_filesrc(files, idx, NULL, NULL);
	if (f && strcmp(f, "???") != 0)
		*file = dw_path(sym, &cudie, f);
}

/* Where an inlined_subroutine was called from (DW_AT_call_file / DW_AT_call_line). */
static void dw_call_site(struct symbols *sym, Dwarf_Die *inl, const char **file, int *line)
{
	Dwarf_Attribute attr;
	Dwarf_Word v;
	*file = "";
	*line = 0;
	if (dwarf_formudata(dwarf_attr(inl, DW_AT_call_line, &attr), &v) == 0)
		*line = (int)v;
	if (dwarf_formudata(dwarf_attr(inl, DW_AT_call_file, &attr), &v) != 0)
		return;
	Dwarf_Die cudie;
	Dwarf_Files *files;
	size_t nfiles;
	if (!dwarf_diecu(inl, &cudie, NULL, NULL) || dwarf_getsrcfiles(&cudie, &files, &nfiles) != 0 ||
	    v >= nfiles)
		return;
	const char *f = dwarf_filesrc(files, v, NULL, NULL);
	if (f && strcmp(f, "???") != 0)
		*file = dw_path(sym, &cudie, f);
}

static uint32_t dw_die_func(struct symbols *sym, Dwarf_Die *die, uint32_t module)
{
	const char *name, *system_name, *file;
	int line;
	if (!dw_die_names(sym, die, &name, &system_name))
		name = system_name = symbols_intern(sym, "??");
	dw_decl(sym, die, &file, &line);
	return symbols_func_get(sym, name, system_name, file, line, module);
}

/* ---- JIT map ---- */

static int jit_cmp(const void *a, const void *b)
{
	const struct jit_sym *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Reread the target's /tmp/perf-PID.map when it changed (at most every 100 ms unless forced). */
static void symbols_jit_reload(struct symbols *sym, bool force)
{
	uint64_t now = util_now_ns();
	if (!force && sym->jit_checked && now - sym->jit_checked_ns < symbols_reload_ns)
		return;
	sym->jit_checked = true;
	sym->jit_checked_ns = now;
	char *path = xasprintf("/proc/%d/root/tmp/perf-%d.map", (int)sym->pid, (int)sym->nspid);
	struct stat st;
	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (sym->jit_seen && st.st_ino == sym->jit_st.st_ino && st.st_size == sym->jit_st.st_size &&
	     st.st_mtim.tv_sec == sym->jit_st.st_mtim.tv_sec &&
	     st.st_mtim.tv_nsec == sym->jit_st.st_mtim.tv_nsec)) {
		free(path);
		return;
	}
	/* The target writes this file (and could make the name a FIFO or a link to /dev/zero):
	 * read only a regular file, and only its first symbols_jit_map_max bytes. */
	size_t nread = 0;
	char *text = util_read_regular(path, symbols_jit_map_max, &nread, &st);
	if (!text) {
		free(path);
		return;
	}
	if (nread == symbols_jit_map_max) {
		util_log("%s: read only the first %zu bytes", path, nread);
		char *last = strrchr(text, '\n');
		if (last)
			last[1] = '\0'; /* not a line cut in the middle */
	}
	free(path);
	sym->jit_seen = true;
	sym->jit_st = st;
	struct jit_sym *jit = NULL;
	size_t n = 0, cap = 0;
	uint64_t lo = UINT64_MAX, hi = 0;
	char *line = text;
	for (uint32_t seq = 0; line && *line; seq++) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		char *p, *q;
		uint64_t start = strtoull(line, &p, 16);
		uint64_t size = p != line ? strtoull(p, &q, 16) : 0;
		if (p != line && q != p && size > 0 && start + size > start) {
			while (*q == ' ' || *q == '\t')
				q++;
			size_t len = strlen(q);
			while (len > 0 && (q[len - 1] == ' ' || q[len - 1] == '\r'))
				q[--len] = '\0';
			util_grow((void **)&jit, &cap, n + 1, sizeof *jit);
			jit[n++] = (struct jit_sym){ start, start + size,
						     symbols_demangle(sym, len ? q : "[jit]"), seq };
			if (start < lo)
				lo = start;
			if (start + size > hi)
				hi = start + size;
		}
		line = nl ? nl + 1 : NULL;
	}
	free(text);
	if (n)
		qsort(jit, n, sizeof *jit, jit_cmp);
	free(sym->jit);
	sym->jit = jit;
	sym->njit = n;
	if (n && !sym->jit_mod) {
		char *mpath = xasprintf("/tmp/perf-%d.map", (int)sym->nspid);
		sym->jit_mod = symbols_module_alloc(sym, MODULE_JIT, mpath);
		free(mpath);
		sym->jit_mod->pub.name = symbols_intern(sym, "[jit]");
		sym->jit_mod->pub.has_symbols = true;
	}
	if (n) {
		sym->jit_mod->pub.start = lo;
		sym->jit_mod->pub.limit = hi;
	}
	sym->gen++;
}

static const struct jit_sym *symbols_jit_find(const struct symbols *sym, uint64_t addr)
{
	size_t lo = util_upper_u64(sym->jit, sym->njit, UTIL_FIELD(sym->jit, start), addr);
	const struct jit_sym *best = NULL;
	for (size_t i = lo, k = 0; i-- > 0 && k < SYMBOLS_SCAN_BACK; k++)
		if (addr < sym->jit[i].end && (!best || sym->jit[i].seq > best->seq))
			best = &sym->jit[i];
	return best;
}

/* ---- resolving ---- */

static void loc_set_single(struct symbols *sym, struct loc_rec *rec, uint32_t module, uint32_t func)
{
	/* A re-resolved unknown or JIT address reuses its line (ours, in the arena). */
	struct sym_line *line = rec->loc.nlines == 1 ? (struct sym_line *)rec->loc.lines
						     : arena_alloc(&sym->arena, sizeof *line);
	line->func = func;
	line->file = "";
	line->line = 0;
	rec->loc.module = module;
	rec->loc.nlines = 1;
	rec->loc.lines = line;
}

/* Symbolize an address inside module m (with an ELF): symbol table, line table, inline chain. */
static void module_resolve(struct symbols *sym, struct module *m, struct loc_rec *rec)
{
	uint64_t addr = rec->loc.addr;
	uint64_t vaddr = addr - m->bias;
	uint32_t mid = m->pub.id;
	module_syms_load(sym, m);
	struct msym *fs = msym_find(m->funcs, m->nfuncs, vaddr);

	Dwarf_Die sub, inl[SYMBOLS_MAX_INLINE];
	size_t ninl = 0;
	bool have_sub = false;
	const char *lfile = "";
	int lline = 0;
	if (module_dwarf_load(m)) {
		uint64_t pc = addr - m->dwbias;
		struct dw_cu *cu = module_cu_find(m, pc);
		if (cu) {
			Dwarf_Line *l = dwarf_getsrc_die(&cu->cudie, pc);
			const char *f = l ? dwarf_linesrc(l, NULL, NULL) : NULL;
			int ln = 0;
			if (f)
				lfile = dw_path(sym, &cu->cudie, f);
			if (l && dwarf_lineno(l, &ln) == 0)
				lline = ln;
			have_sub = dw_cu_scopes(cu, pc, &sub, inl, &ninl);
		}
	}

	struct sym_line *lines = arena_alloc(&sym->arena, (ninl + 1) * sizeof *lines);
	for (size_t k = 0; k < ninl; k++) {
		lines[k].func = dw_die_func(sym, &inl[ninl - 1 - k], mid);
		if (k == 0) {
			lines[k].file = lfile;
			lines[k].line = lline;
		} else {
			dw_call_site(sym, &inl[ninl - k], &lines[k].file, &lines[k].line);
		}
	}

	struct sym_line *out = &lines[ninl];
	if (ninl == 0) {
		out->file = lfile;
		out->line = lline;
	} else {
		dw_call_site(sym, &inl[0], &out->file, &out->line);
	}
	const char *ffile = "";
	int fline = 0;
	if (have_sub)
		dw_decl(sym, &sub, &ffile, &fline);
	const char *name, *system_name;
	struct gopcln_frame gf[SYMBOLS_MAX_INLINE + 1];
	size_t ngf;
	if (fs) {
		out->func = symbols_func_get(sym, msym_name(sym, fs), fs->raw, ffile, fline, mid);
	} else if (have_sub && dw_die_names(sym, &sub, &name, &system_name)) {
		out->func = symbols_func_get(sym, name, system_name, ffile, fline, mid);
	} else if (ninl == 0 && module_gopcln(m) &&
		   (ngf = gopcln_frames(m->pcln, vaddr, gf, SYMBOLS_MAX_INLINE + 1)) > 0) {
		/* Stripped Go: its own table names the function, the calls inlined into it and
		 * the lines. */
		lines = arena_alloc(&sym->arena, ngf * sizeof *lines);
		for (size_t k = 0; k < ngf; k++) {
			name = symbols_intern(sym, gf[k].name);
			lines[k].func = symbols_func_get(sym, name, name, symbols_intern(sym, gf[k].decl_file),
							 gf[k].decl_line, mid);
			lines[k].file = symbols_intern(sym, gf[k].file);
			lines[k].line = gf[k].line;
		}
		ninl = ngf - 1;
	} else {
		/* Stripped code: the ELF virtual address (addr - load bias), as perf and pprof show. */
		char buf[512];
		snprintf(buf, sizeof buf, "%s+0x%" PRIx64, m->pub.name, vaddr);
		name = symbols_intern(sym, buf);
		out->func = symbols_func_get(sym, name, name, "", 0, mid);
	}
	rec->loc.module = mid;
	rec->loc.nlines = (uint32_t)(ninl + 1);
	rec->loc.lines = lines;
}

static uint32_t symbols_unknown_func(struct symbols *sym)
{
	if (sym->unknown_func == UINT32_MAX) {
		const char *name = symbols_intern(sym, "[unknown]");
		sym->unknown_func = symbols_func_get(sym, name, name, "", 0, UINT32_MAX);
	}
	return sym->unknown_func;
}

/* Fill rec (whose loc.addr is set) for the current modules and JIT map. */
static void symbols_resolve(struct symbols *sym, struct loc_rec *rec)
{
	uint64_t addr = rec->loc.addr;
	struct module *m = symbols_module_at(sym, addr);
	if (!m && symbols_maps_maybe_reload(sym))
		m = symbols_module_at(sym, addr);
	if (m && m->elf) {
		rec->dynamic = false;
		rec->gen = sym->gen;
		module_resolve(sym, m, rec);
		return;
	}
	rec->dynamic = true;
	symbols_jit_reload(sym, false);
	rec->gen = sym->gen;
	const struct jit_sym *j = symbols_jit_find(sym, addr);
	if (j && sym->jit_mod) {
		uint32_t id = sym->jit_mod->pub.id;
		loc_set_single(sym, rec, id, symbols_func_get(sym, j->name, j->name, "", 0, id));
		return;
	}
	if (m) {
		/* An executable mapping that is no ELF: offset into the file. */
		char buf[512];
		snprintf(buf, sizeof buf, "%s+0x%" PRIx64, m->pub.name,
			 addr - m->pub.start + m->pub.offset);
		const char *name = symbols_intern(sym, buf);
		loc_set_single(sym, rec, m->pub.id,
			       symbols_func_get(sym, name, name, "", 0, m->pub.id));
		return;
	}
	loc_set_single(sym, rec, UINT32_MAX, symbols_unknown_func(sym));
}

/* ---- public interface ---- */

struct symbols *symbols_new(pid_t pid, char **cause)
{
	struct symbols *sym = xcalloc(1, sizeof *sym);
	sym->pid = pid;
	sym->nspid = symbols_nspid_read(pid);
	sym->main_module = UINT32_MAX;
	sym->unknown_func = UINT32_MAX;
	elf_version(EV_CURRENT);
	sym->dwfl = dwfl_begin(&symbols_dwfl_callbacks);
	if (!sym->dwfl) {
		*cause = xasprintf("libdwfl: %s", dwfl_errmsg(-1));
		free(sym);
		return NULL;
	}
	if (symbols_maps_reload(sym) < 0) {
		int e = errno;
		*cause = xasprintf("cannot read /proc/%d/maps: %s", (int)pid, strerror(e));
		symbols_free(sym);
		return NULL;
	}
	return sym;
}

void symbols_free(struct symbols *sym)
{
	if (!sym)
		return;
	for (size_t i = 0; i < sym->nmods; i++) {
		struct module *m = sym->mods[i];
		free(m->funcs);
		free(m->data);
		for (size_t k = 0; k < m->ncus; k++) {
			struct dw_cu *cu = &m->cus[k];
			for (size_t f = 0; f < cu->nfns; f++) {
				free(cu->fns[f].scopes);
				free(cu->fns[f].ranges);
			}
			free(cu->fns);
			free(cu->subs);
		}
		free(m->cus);
		free(m->cu_ranges);
		gopcln_free(m->pcln);
		if (m->pending_elf)
			elf_end(m->pending_elf);
		if (m->pending_fd >= 0)
			close(m->pending_fd);
		free(m->pending_name);
	}
	if (sym->dwfl)
		dwfl_end(sym->dwfl);
	free(sym->mods);
	free(sym->ranges);
	free(sym->ignored);
	free(sym->maps_text);
	free(sym->exe);
	free(sym->funcs);
	free(sym->fslots);
	free(sym->lslots);
	free(sym->jit);
	strtab_done(&sym->strs);
	arena_done(&sym->arena);
	free(sym);
}

const struct sym_loc *symbols_lookup(struct symbols *sym, uint64_t addr)
{
	sym->stats.lookups++;
	if (sym->nlslots) {
		size_t mask = sym->nlslots - 1;
		for (size_t h = util_hash64(addr) & mask; sym->lslots[h].rec; h = (h + 1) & mask) {
			if (sym->lslots[h].addr != addr)
				continue;
			struct loc_rec *rec = sym->lslots[h].rec;
			sym->stats.cache_hits++;
			if (rec->dynamic) {
				/* Maybe its library or JIT code has been mapped since. */
				symbols_maps_maybe_reload(sym);
				symbols_jit_reload(sym, false);
				if (rec->gen != sym->gen)
					symbols_resolve(sym, rec);
			}
			return &rec->loc;
		}
	}
	struct loc_rec *rec = arena_alloc(&sym->arena, sizeof *rec);
	memset(rec, 0, sizeof *rec);
	rec->loc.addr = addr;
	symbols_resolve(sym, rec);
	if ((sym->nlocs + 1) * 2 > sym->nlslots)
		symbols_lslots_grow(sym);
	size_t mask = sym->nlslots - 1;
	size_t h = util_hash64(addr) & mask;
	while (sym->lslots[h].rec)
		h = (h + 1) & mask;
	sym->lslots[h] = (struct loc_slot){ addr, rec };
	sym->nlocs++;
	return &rec->loc;
}

const struct sym_func *symbols_func(const struct symbols *sym, uint32_t id)
{
	return id < sym->nfuncs ? sym->funcs[id] : NULL;
}

size_t symbols_nfuncs(const struct symbols *sym)
{
	return sym->nfuncs;
}

const struct sym_module *symbols_module(const struct symbols *sym, uint32_t id)
{
	return id < sym->nmods ? &sym->mods[id]->pub : NULL;
}

size_t symbols_nmodules(const struct symbols *sym)
{
	return sym->nmods;
}

/* Linear search of one module's whole ELF symbol table (rare: Go runtime variables). */
static int module_find_symbol(struct module *m, const char *name, uint64_t *addr, uint64_t *size)
{
	if (!m->dwmod || !m->elf)
		return -1;
	int n = dwfl_module_getsymtab(m->dwmod);
	size_t len = strlen(name);
	for (int i = 1; i < n; i++) {
		GElf_Sym s;
		GElf_Addr a;
		GElf_Word shndx = SHN_UNDEF;
		const char *sn = dwfl_module_getsym_info(m->dwmod, i, &s, &a, &shndx, NULL, NULL);
		/* "name" also matches a versioned "name@VERSION" / "name@@VERSION". */
		if (!sn || shndx == SHN_UNDEF || strncmp(sn, name, len) != 0 ||
		    (sn[len] != '\0' && sn[len] != '@'))
			continue;
		int type = GELF_ST_TYPE(s.st_info);
		if (type == STT_SECTION || type == STT_FILE || type == STT_TLS)
			continue;
		*addr = a;
		*size = s.st_size;
		return 0;
	}
	return -1;
}

int symbols_find_symbol(struct symbols *sym, const char *name, uint64_t *addr, uint64_t *size)
{
	uint64_t a = 0, s = 0;
	if (sym->main_module < sym->nmods &&
	    module_find_symbol(sym->mods[sym->main_module], name, &a, &s) == 0)
		goto found;
	for (size_t i = 0; i < sym->nranges; i++) {
		struct module *m = sym->ranges[i].m;
		if (m->pub.id != sym->main_module && module_find_symbol(m, name, &a, &s) == 0)
			goto found;
	}
	return -1;
found:
	if (addr)
		*addr = a;
	if (size)
		*size = s;
	return 0;
}

const char *symbols_symbol_at(struct symbols *sym, uint64_t addr, uint64_t *off)
{
	struct module *m = symbols_module_at(sym, addr);
	if (!m && symbols_maps_maybe_reload(sym))
		m = symbols_module_at(sym, addr);
	const char *name = NULL;
	uint64_t start = 0;
	if (m && m->elf) {
		module_syms_load(sym, m);
		uint64_t vaddr = addr - m->bias;
		struct msym *s = msym_find(m->data, m->ndata, vaddr);
		if (!s)
			s = msym_find(m->funcs, m->nfuncs, vaddr);
		if (s) {
			name = msym_name(sym, s);
			start = s->addr + m->bias;
		}
	} else {
		symbols_jit_reload(sym, false);
		const struct jit_sym *j = symbols_jit_find(sym, addr);
		if (j) {
			name = j->name;
			start = j->start;
		}
	}
	if (name && off)
		*off = addr - start;
	return name;
}

void symbols_refresh(struct symbols *sym)
{
	symbols_maps_reload(sym);
	symbols_jit_reload(sym, true);
}

void *symbols_module_dwarf(struct symbols *sym, uint32_t module, uint64_t *bias)
{
	if (module >= sym->nmods)
		return NULL;
	struct module *m = sym->mods[module];
	if (!module_dwarf_load(m))
		return NULL;
	if (bias)
		*bias = m->dwbias;
	return m->dw;
}

void *symbols_module_elf(struct symbols *sym, uint32_t module, uint64_t *bias)
{
	if (module >= sym->nmods || !sym->mods[module]->elf)
		return NULL;
	if (bias)
		*bias = sym->mods[module]->bias;
	return sym->mods[module]->elf;
}

uint32_t symbols_main_module(struct symbols *sym)
{
	return sym->main_module;
}

const struct symbols_stats *symbols_stats(const struct symbols *sym)
{
	return &sym->stats;
}
