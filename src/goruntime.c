/*
 * goruntime: goroutines of a running Go program read from its memory.  See goruntime.h for the
 * contract; the Go runtime facts used here come from runtime2.go (g, gobuf, m, sudog,
 * waitReasonStrings), sema.go (semtable, semaRoot treaps), proc.go (gopark/mcall, entersyscall,
 * newproc) and traceback.go (isSystemGoroutine) of the Go sources.
 */
#include "goruntime.h"

#include "elfsec.h"

#include "procfs.h"
#include "symbols.h"
#include "tracee.h"
#include "util.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <gelf.h>
#include <inttypes.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum {
	GR_GSCAN = 0x1000,                 /* _Gscan */
	GR_MAX_FRAMES_DEFAULT = 64,
	GR_MAX_FRAMES_LIMIT = 256,
	GR_STACK_READ = 64 * 1024,         /* stack bytes read at once above sp */
	GR_SYSCALL_SCAN = 4096,            /* bytes above syscallsp searched for the frame chain */
	GR_RETRIES = 4,                    /* reads of a goroutine before it is marked torn */
	GR_MAX_GOROUTINES = 16 * 1024 * 1024,
	GR_THREAD_TRIES = 3,               /* stops of a running goroutine's thread per scan */
	/* Bounds on the layouts a target's DWARF may describe (Go 1.19: g 400 bytes, sudog 88,
	 * semtable 251 x 64, RWMutex 24): each is a buffer of proftop's own. */
	GR_G_MAX = 64 * 1024,              /* bytes of a runtime.g read per goroutine */
	GR_SUDOG_MAX = 512,                /* bytes of a sudog (gr_sema_root's buffer) */
	GR_SEMTAB_MAX = 1024 * 1024,       /* bytes of runtime.semtable read per scan */
	GR_LOCK_READ = 64,                 /* bytes of a sync.Mutex / RWMutex / WaitGroup */
};

#define GR_STOP_WAIT_NS (500ull * 1000 * 1000)   /* for one interrupted thread to stop */

/* Go 1.19's waitReasonStrings, for targets whose table cannot be read. */
static const char *const gr_wait_names_119[] = {
	"", "GC assist marking", "IO wait", "chan receive (nil chan)", "chan send (nil chan)",
	"dumping heap", "garbage collection", "garbage collection scan", "panicwait", "select",
	"select (no cases)", "GC assist wait", "GC sweep wait", "GC scavenge wait", "chan receive",
	"chan send", "finalizer wait", "force gc (idle)", "semacquire", "sleep", "sync.Cond.Wait",
	"timer goroutine (idle)", "trace reader (blocked)", "wait for GC cycle", "GC worker (idle)",
	"preempted", "debug call",
};

static const char *const gr_status_names[GORUNTIME_NSTATUS] = {
	[GORUNTIME_IDLE] = "idle",           [GORUNTIME_RUNNABLE] = "runnable",
	[GORUNTIME_RUNNING] = "running",     [GORUNTIME_SYSCALL] = "syscall",
	[GORUNTIME_WAITING] = "waiting",     [GORUNTIME_MORIBUND] = "moribund",
	[GORUNTIME_DEAD] = "dead",           [GORUNTIME_ENQUEUE] = "enqueue",
	[GORUNTIME_COPYSTACK] = "copystack", [GORUNTIME_PREEMPTED] = "preempted",
	[GORUNTIME_UNKNOWN] = "unknown",
};

/* The fields of one runtime.g that are used; all 8-byte fields so that memcmp compares. */
struct gr_raw {
	uint64_t stack_lo, stack_hi, m, sched_sp, sched_pc, sched_bp, syscallsp, syscallpc;
	uint64_t startpc, gopc, waiting;
	int64_t goid, waitsince;
	uint64_t status, waitreason;
};

/* A waiter found in runtime.semtable. */
struct gr_semrec {
	uint64_t gaddr, elem, sudog;
	uint32_t pos;
};

/* Wait tracking across scans, keyed by g address. */
struct gr_wait {
	uint64_t gaddr; /* 0: empty slot */
	uint64_t sig;
	uint64_t since_ns;
	int64_t waitsince;
};

/* A function of the main module, for goruntime_code_refers(). */
struct gr_func {
	uint64_t lo, hi;
	bool scanned;
	uint32_t nrefs, nstrong;
	const uint64_t *refs;   /* sorted data addresses its code refers to */
	const uint64_t *strong; /* those followed by locking code */
};

struct goruntime {
	pid_t pid;
	struct symbols *sym;
	struct goruntime_options opt;
	char version[64];
	struct goruntime_layout L;
	uint32_t semtab_root;   /* offset of `root` in a semtable element */
	uint8_t goid_size, status_size, wr_size;
	uint32_t g_read;        /* bytes of a g read: up to the last field used (<= g_size) */
	uint32_t mutex_len, rw_len, wg_len; /* bytes of each lock kind read (<= GR_LOCK_READ) */
	uint64_t allgs_addr, semtab_addr, fing_addr;
	uint64_t text_lo, text_hi, data_lo, data_hi;
	uint64_t goexit_lo, goexit_hi, async_lo, async_hi;
	const char **wait_names;
	bool *wait_is_sema;
	uint32_t nwait_names;
	struct strtab strs;
	const char *goroot_src; /* NULL until looked up */
	uint64_t gen;

	/* scan buffers, reused */
	uint64_t *gptrs;
	size_t gptrs_cap;
	uint8_t *gbuf, *gbuf2, *stackbuf, *semtab_buf;
	struct goruntime_goroutine *gs;
	struct gr_raw *raws;
	uint32_t *pc_off;
	size_t gs_cap;
	uint64_t *pcs;
	size_t npcs, pcs_cap;
	struct gr_semrec *semrecs;
	size_t nsemrecs, semrecs_cap;
	uint64_t *semstack;
	size_t semstack_cap;
	struct goruntime_lock *locks;
	size_t locks_cap;
	struct goruntime_group *groups;
	size_t groups_cap;
	uint32_t *members;
	size_t members_cap;
	uint32_t *slots;         /* hash slots (group building, g address index) */
	size_t slots_cap;
	struct gr_wait *waits, *waits_new;
	size_t waits_cap, waits_new_cap;
	struct goruntime_snapshot snap;

	/* threads left traced after a stop that did not come in time: detached at the next chance */

	/* goruntime_code_refers */
	bool funcs_loaded;
	struct gr_func *funcs;
	size_t nfuncs;
	uint64_t *lockfns;      /* entries of sync.(*Mutex).* and sync.(*RWMutex).*, sorted */
	size_t nlockfns;
	struct arena arena;
};

/* ---- small helpers ---- */

static uint64_t gr_le(const uint8_t *p, unsigned size)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < size && i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* The field at off of a buffer of len bytes; 0 when absent (off < 0) or not inside it. */
static uint64_t gr_field(const uint8_t *buf, size_t len, int64_t off, unsigned size)
{
	if (off < 0 || (uint64_t)off > len || len - (size_t)off < size)
		return 0;
	return gr_le(buf + off, size);
}

static bool gr_in_text(const struct goruntime *gr, uint64_t pc)
{
	return pc >= gr->text_lo && pc < gr->text_hi;
}

static bool gr_mem(const struct goruntime *gr, uint64_t addr, void *buf, size_t len)
{
	return addr && proc_mem_read(gr->pid, addr, buf, len) == (ssize_t)len;
}

static bool gr_u64(const struct goruntime *gr, uint64_t addr, uint64_t *v)
{
	uint8_t b[8];
	if (!gr_mem(gr, addr, b, 8))
		return false;
	*v = gr_le(b, 8);
	return true;
}

static bool has_prefix(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

static bool has_suffix(const char *s, const char *x)
{
	size_t a = strlen(s), b = strlen(x);
	return a >= b && strcmp(s + a - b, x) == 0;
}

const char *goruntime_status_name(enum goruntime_status s)
{
	return (unsigned)s < GORUNTIME_NSTATUS ? gr_status_names[s] : "unknown";
}

const char *goruntime_lock_kind_name(enum goruntime_lock_kind k)
{
	switch (k) {
	case GORUNTIME_LOCK_MUTEX:
		return "sync.Mutex";
	case GORUNTIME_LOCK_RWMUTEX:
		return "sync.RWMutex";
	case GORUNTIME_LOCK_WAITGROUP:
		return "sync.WaitGroup";
	case GORUNTIME_LOCK_SEMA:
		break;
	}
	return "semaphore";
}

/* ---- ELF: detection and version ---- */

/* Copy len bytes at link-time address vaddr out of the file's sections. */
static bool gr_elf_read(Elf *elf, uint64_t vaddr, void *buf, size_t len)
{
	size_t have = 0;
	const uint8_t *p = elfsec_bytes_at(elf, vaddr, &have);
	if (!p || len > have)
		return false;
	memcpy(buf, p, len);
	return true;
}

/* The Go version recorded in .go.buildinfo: inline since Go 1.18 (flag 2: varint-prefixed
 * string after the 32-byte header), before that a pointer to a Go string header. */
static void gr_buildinfo_version(Elf *elf, Elf_Scn *scn, char *out, size_t n)
{
	if (n)
		out[0] = '\0';
	Elf_Data *d = elf_getdata(scn, NULL);
	if (!d || !d->d_buf || d->d_size < 32 || n == 0)
		return;
	const uint8_t *p = d->d_buf;
	if (memcmp(p, "\xff Go buildinf:", 14) != 0)
		return;
	unsigned ptrsize = p[14], flags = p[15];
	if (flags & 2) {
		uint64_t len = 0;
		size_t i = 32;
		for (unsigned shift = 0; i < d->d_size && shift < 64; shift += 7) {
			uint8_t c = p[i++];
			len |= (uint64_t)(c & 0x7f) << shift;
			if (!(c & 0x80))
				break;
		}
		if (len == 0 || i > d->d_size || len > d->d_size - i)
			return;
		size_t k = len < n - 1 ? (size_t)len : n - 1;
		memcpy(out, p + i, k);
		out[k] = '\0';
		return;
	}
	if ((ptrsize != 8 && ptrsize != 4) || (flags & 1))
		return; /* big-endian or odd: not on this platform */
	uint64_t hdr = gr_le(p + 16, ptrsize);
	uint8_t sh[16];
	if (!gr_elf_read(elf, hdr, sh, 2 * ptrsize))
		return;
	uint64_t sptr = gr_le(sh, ptrsize), slen = gr_le(sh + ptrsize, ptrsize);
	if (slen == 0 || slen >= n || slen > 64)
		return;
	if (gr_elf_read(elf, sptr, out, (size_t)slen))
		out[slen] = '\0';
	else
		out[0] = '\0';
}

bool goruntime_detect(struct symbols *sym, char *version, size_t n)
{
	if (n)
		version[0] = '\0';
	uint32_t mod = symbols_main_module(sym);
	if (mod == UINT32_MAX)
		return false;
	Elf *elf = symbols_module_elf(sym, mod, NULL);
	if (!elf)
		return false;
	GElf_Shdr sh;
	Elf_Scn *scn = elfsec_named(elf, ".go.buildinfo", &sh);
	if (!scn)
		return false;
	if (n)
		gr_buildinfo_version(elf, scn, version, n);
	return true;
}

/* ---- DWARF layouts ---- */

enum gr_dwty { DW_G, DW_M, DW_SUDOG, DW_SEMAROOT, DW_MUTEX, DW_RWMUTEX, DW_WAITGROUP, DW_SEMTAB_VAR,
	       DW_SEMTAB_TY, DW_NTYPES };
static const char *const gr_dw_names[DW_NTYPES] = {
	[DW_G] = "runtime.g",         [DW_M] = "runtime.m",
	[DW_SUDOG] = "runtime.sudog", [DW_SEMAROOT] = "runtime.semaRoot",
	[DW_MUTEX] = "sync.Mutex",    [DW_RWMUTEX] = "sync.RWMutex",
	[DW_WAITGROUP] = "sync.WaitGroup",
	[DW_SEMTAB_VAR] = "runtime.semtable", [DW_SEMTAB_TY] = "runtime.semTable",
};

/* One pass over the top-level DIEs of every unit, keeping the ones named above. */
static void gr_dw_collect(Dwarf *dw, Dwarf_Die *out, bool *found)
{
	Dwarf_Off off = 0, next;
	size_t hsize;
	int nfound = 0;
	while (nfound < DW_NTYPES && dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
		Dwarf_Die cu, child;
		if (dwarf_offdie(dw, off + hsize, &cu) && dwarf_child(&cu, &child) == 0) {
			do {
				int tag = dwarf_tag(&child);
				if (tag != DW_TAG_structure_type && tag != DW_TAG_variable &&
				    tag != DW_TAG_array_type)
					continue;
				const char *name = dwarf_diename(&child);
				if (!name || (name[0] != 'r' && name[0] != 's'))
					continue;
				for (int i = 0; i < DW_NTYPES; i++) {
					if (found[i] || strcmp(name, gr_dw_names[i]) != 0)
						continue;
					bool var = i == DW_SEMTAB_VAR;
					if (var != (tag == DW_TAG_variable))
						continue;
					if (i == DW_SEMTAB_TY && tag != DW_TAG_array_type)
						continue;
					out[i] = child;
					found[i] = true;
					nfound++;
				}
			} while (dwarf_siblingof(&child, &child) == 0);
		}
		off = next;
	}
}

/* The type a DIE refers to, typedefs and qualifiers peeled. */
static bool gr_dw_type(Dwarf_Die *die, Dwarf_Die *type)
{
	Dwarf_Attribute a;
	Dwarf_Die t;
	if (!dwarf_attr(die, DW_AT_type, &a) || !dwarf_formref_die(&a, &t))
		return false;
	if (dwarf_peel_type(&t, type) != 0)
		*type = t;
	return true;
}

static uint32_t gr_dw_size(Dwarf_Die *type)
{
	Dwarf_Word sz;
	if (dwarf_aggregate_size(type, &sz) == 0 && sz > 0 && sz <= 1u << 20)
		return (uint32_t)sz;
	return 8;
}

/* Offset of member name in struct st (-1 when absent); its peeled type and size. */
static int32_t gr_dw_member(Dwarf_Die *st, const char *name, Dwarf_Die *type, uint32_t *size)
{
	Dwarf_Die child;
	if (dwarf_child(st, &child) != 0)
		return -1;
	do {
		if (dwarf_tag(&child) != DW_TAG_member)
			continue;
		const char *n = dwarf_diename(&child);
		if (!n || strcmp(n, name) != 0)
			continue;
		Dwarf_Attribute a;
		Dwarf_Word off;
		if (!dwarf_attr(&child, DW_AT_data_member_location, &a) || dwarf_formudata(&a, &off) != 0 ||
		    off > 1u << 20)
			return -1;
		Dwarf_Die t;
		bool typed = gr_dw_type(&child, &t);
		if (type && typed)
			*type = t;
		if (size)
			*size = typed ? gr_dw_size(&t) : 8;
		return (int32_t)off;
	} while (dwarf_siblingof(&child, &child) == 0);
	return -1;
}

/* Offset of a.b (a struct member of a struct member), -1 when either is absent. */
static int32_t gr_dw_member2(Dwarf_Die *st, const char *a, const char *b, uint32_t *size)
{
	Dwarf_Die t;
	int32_t o1 = gr_dw_member(st, a, &t, NULL);
	if (o1 < 0)
		return -1;
	int32_t o2 = gr_dw_member(&t, b, NULL, size);
	return o2 < 0 ? -1 : o1 + o2;
}

/* Element stride, count and the offset of `root` in runtime.semtable (an array type). */
static bool gr_dw_semtab(struct goruntime *gr, Dwarf_Die *arr, Dwarf_Die *root_type)
{
	Dwarf_Die elem, sub;
	if (dwarf_tag(arr) != DW_TAG_array_type || !gr_dw_type(arr, &elem))
		return false;
	uint64_t count = 0;
	if (dwarf_child(arr, &sub) == 0) {
		do {
			if (dwarf_tag(&sub) != DW_TAG_subrange_type)
				continue;
			Dwarf_Attribute a;
			Dwarf_Word v;
			if (dwarf_attr(&sub, DW_AT_count, &a) && dwarf_formudata(&a, &v) == 0)
				count = v;
			else if (dwarf_attr(&sub, DW_AT_upper_bound, &a) && dwarf_formudata(&a, &v) == 0)
				count = v + 1;
		} while (dwarf_siblingof(&sub, &sub) == 0);
	}
	int32_t root = gr_dw_member(&elem, "root", root_type, NULL);
	if (count == 0 || count > 65536 || root < 0)
		return false;
	gr->L.semtab_count = (uint32_t)count;
	gr->L.semtab_stride = gr_dw_size(&elem);
	gr->semtab_root = (uint32_t)root;
	return true;
}

/* Does member st.name (size bytes at off; off < 0: absent) lie inside the ssize bytes of st?
 * Else the cause in why. */
static bool gr_fits(const char *st, const char *name, int64_t off, uint32_t size, uint64_t ssize,
		    char *why, size_t n)
{
	if (off < 0 || ((uint64_t)off <= ssize && ssize - (uint64_t)off >= size))
		return true;
	snprintf(why, n, "%s.%s at +%" PRId64 " lies outside the %" PRIu64 " bytes of %s in its DWARF",
		 st, name, off, ssize, st);
	return false;
}

/* Is a struct's size (from DWARF) within what proftop reads of it?  Else the cause in why. */
static bool gr_size_ok(const char *st, uint64_t size, uint64_t max, char *why, size_t n)
{
	if (size <= max)
		return true;
	snprintf(why, n, "%s is %" PRIu64 " bytes in its DWARF (at most %" PRIu64 " expected)", st, size,
		 max);
	return false;
}

/* Sizes (bytes, from DWARF) of the sync types; 0 when the program has no such type. */
struct gr_sync_sizes {
	uint32_t mutex, rwmutex, waitgroup;
};

/*
 * Every offset of gr->L is about to index a buffer of proftop's own (a g, a sudog, the semtable,
 * a lock): check each field against its struct's size and each size against the buffer, and
 * set gr->g_read and the lock read lengths.  false with the cause in why: a layout no Go
 * toolchain writes (a damaged or hostile binary) is not used at all.
 */
static bool gr_layout_check(struct goruntime *gr, const struct gr_sync_sizes *ss, char *why,
			    size_t n)
{
	const struct goruntime_layout *L = &gr->L;
	const struct {
		const char *name;
		int32_t off;
		uint32_t size;
	} gf[] = {
		{ "stack.lo", L->g_stack_lo, 8 },      { "stack.hi", L->g_stack_hi, 8 },
		{ "m", L->g_m, 8 },                    { "sched.sp", L->g_sched_sp, 8 },
		{ "sched.pc", L->g_sched_pc, 8 },      { "sched.bp", L->g_sched_bp, 8 },
		{ "syscallsp", L->g_syscallsp, 8 },    { "syscallpc", L->g_syscallpc, 8 },
		{ "startpc", L->g_startpc, 8 },        { "gopc", L->g_gopc, 8 },
		{ "waiting", L->g_waiting, 8 },        { "waitsince", L->g_waitsince, 8 },
		{ "atomicstatus", L->g_atomicstatus, gr->status_size },
		{ "goid", L->g_goid, gr->goid_size },  { "waitreason", L->g_waitreason, gr->wr_size },
	};
	if (!gr_size_ok("runtime.g", L->g_size, GR_G_MAX, why, n))
		return false;
	gr->g_read = 0;
	for (size_t i = 0; i < UTIL_ARRAY_LEN(gf); i++) {
		if (!gr_fits("runtime.g", gf[i].name, gf[i].off, gf[i].size, L->g_size, why, n))
			return false;
		if (gf[i].off >= 0 && (uint32_t)gf[i].off + gf[i].size > gr->g_read)
			gr->g_read = (uint32_t)gf[i].off + gf[i].size;
	}

	if (L->semtab_count) {
		const struct {
			const char *name;
			int32_t off;
		} sf[] = { { "g", L->sudog_g },       { "next", L->sudog_next }, { "prev", L->sudog_prev },
			   { "elem", L->sudog_elem }, { "waitlink", L->sudog_waitlink } };
		if (!gr_size_ok("runtime.sudog", L->sudog_size, GR_SUDOG_MAX, why, n))
			return false;
		for (size_t i = 0; i < UTIL_ARRAY_LEN(sf); i++)
			if (!gr_fits("runtime.sudog", sf[i].name, sf[i].off, 8, L->sudog_size, why, n))
				return false;
		if (!gr_size_ok("runtime.semtable", (uint64_t)L->semtab_count * L->semtab_stride,
				GR_SEMTAB_MAX, why, n) ||
		    !gr_fits("runtime.semtable element", "root.treap",
			     (int64_t)gr->semtab_root + L->semroot_treap, 8, L->semtab_stride, why, n))
			return false;
	}

	/* The lock words read by gr_lock_fill(), inside GR_LOCK_READ and inside each type. */
	uint32_t mu = ss->mutex ? ss->mutex : GR_LOCK_READ;
	uint32_t rw = ss->rwmutex ? ss->rwmutex : GR_LOCK_READ;
	uint32_t wg = ss->waitgroup ? ss->waitgroup : GR_LOCK_READ;
	if (!gr_size_ok("sync.Mutex", mu, GR_LOCK_READ, why, n) ||
	    !gr_size_ok("sync.RWMutex", rw, GR_LOCK_READ, why, n) ||
	    !gr_size_ok("sync.WaitGroup", wg, GR_LOCK_READ, why, n) ||
	    !gr_fits("sync.Mutex", "state", L->mutex_state, 4, mu, why, n) ||
	    !gr_fits("sync.Mutex", "sema", L->mutex_sema, 4, mu, why, n))
		return false;
	gr->mutex_len = (uint32_t)(L->mutex_state > L->mutex_sema ? L->mutex_state : L->mutex_sema) + 4;
	if (!gr_fits("sync.RWMutex", "w", L->rw_w, gr->mutex_len, rw, why, n) ||
	    !gr_fits("sync.RWMutex", "writerSem", L->rw_writer_sem, 4, rw, why, n) ||
	    !gr_fits("sync.RWMutex", "readerSem", L->rw_reader_sem, 4, rw, why, n) ||
	    !gr_fits("sync.RWMutex", "readerCount", L->rw_reader_count, 4, rw, why, n) ||
	    !gr_fits("sync.WaitGroup", "sema", L->wg_sema, 4, wg, why, n))
		return false;
	gr->rw_len = (uint32_t)L->rw_w + gr->mutex_len;
	if ((uint32_t)L->rw_reader_count + 4 > gr->rw_len)
		gr->rw_len = (uint32_t)L->rw_reader_count + 4;
	gr->wg_len = (uint32_t)L->wg_sema + 4;
	return true;
}

/* Fill gr->L from the target's DWARF and check it (gr_layout_check).  false with the cause in
 * why: what is missing or out of bounds. */
static bool gr_layout(struct goruntime *gr, Dwarf *dw, char *why, size_t n)
{
	Dwarf_Die d[DW_NTYPES];
	bool found[DW_NTYPES] = { false };
	gr_dw_collect(dw, d, found);
	struct goruntime_layout *L = &gr->L;
	memset(L, 0xff, sizeof *L); /* every offset -1 */
	L->g_size = L->sudog_size = L->semtab_count = L->semtab_stride = L->wait_reasons = 0;
	L->wait_reasons_from_target = false;
	if (!found[DW_G]) {
		snprintf(why, n, "runtime.g not found in its DWARF");
		return false;
	}
	Dwarf_Die *g = &d[DW_G];
	L->g_size = gr_dw_size(g);
	uint32_t gsz = 8, wsz = 1;
	L->g_stack_lo = gr_dw_member2(g, "stack", "lo", NULL);
	L->g_stack_hi = gr_dw_member2(g, "stack", "hi", NULL);
	L->g_m = gr_dw_member(g, "m", NULL, NULL);
	L->g_sched = gr_dw_member(g, "sched", NULL, NULL);
	L->g_sched_sp = gr_dw_member2(g, "sched", "sp", NULL);
	L->g_sched_pc = gr_dw_member2(g, "sched", "pc", NULL);
	L->g_sched_bp = gr_dw_member2(g, "sched", "bp", NULL);
	L->g_syscallsp = gr_dw_member(g, "syscallsp", NULL, NULL);
	L->g_syscallpc = gr_dw_member(g, "syscallpc", NULL, NULL);
	L->g_atomicstatus = gr_dw_member(g, "atomicstatus", NULL, NULL);
	L->g_goid = gr_dw_member(g, "goid", NULL, &gsz);
	L->g_waitsince = gr_dw_member(g, "waitsince", NULL, NULL);
	L->g_waitreason = gr_dw_member(g, "waitreason", NULL, &wsz);
	L->g_startpc = gr_dw_member(g, "startpc", NULL, NULL);
	L->g_gopc = gr_dw_member(g, "gopc", NULL, NULL);
	L->g_waiting = gr_dw_member(g, "waiting", NULL, NULL);
	if (L->g_stack_lo < 0 || L->g_stack_hi < 0 || L->g_sched_sp < 0 || L->g_sched_pc < 0 ||
	    L->g_sched_bp < 0 || L->g_atomicstatus < 0 || L->g_goid < 0 || L->g_waitreason < 0 ||
	    L->g_startpc < 0) {
		snprintf(why, n, "members of runtime.g not found in its DWARF");
		return false;
	}
	/* uint32, or atomic.Uint32 (Go 1.20+): a struct whose value is at offset 0. */
	gr->status_size = 4;
	gr->goid_size = gsz == 4 ? 4 : 8;
	gr->wr_size = wsz == 1 || wsz == 2 || wsz == 4 ? (uint8_t)wsz : 1;

	if (found[DW_M]) {
		L->m_procid = gr_dw_member(&d[DW_M], "procid", NULL, NULL);
		L->m_curg = gr_dw_member(&d[DW_M], "curg", NULL, NULL);
	}
	if (found[DW_SUDOG]) {
		Dwarf_Die *s = &d[DW_SUDOG];
		L->sudog_size = gr_dw_size(s);
		L->sudog_g = gr_dw_member(s, "g", NULL, NULL);
		L->sudog_next = gr_dw_member(s, "next", NULL, NULL);
		L->sudog_prev = gr_dw_member(s, "prev", NULL, NULL);
		L->sudog_elem = gr_dw_member(s, "elem", NULL, NULL);
		L->sudog_waitlink = gr_dw_member(s, "waitlink", NULL, NULL);
	}
	Dwarf_Die root;
	bool have_tab = false;
	if (found[DW_SEMTAB_VAR]) {
		Dwarf_Die t;
		if (gr_dw_type(&d[DW_SEMTAB_VAR], &t))
			have_tab = gr_dw_semtab(gr, &t, &root);
	}
	if (!have_tab && found[DW_SEMTAB_TY])
		have_tab = gr_dw_semtab(gr, &d[DW_SEMTAB_TY], &root);
	if (have_tab) {
		L->semroot_treap = gr_dw_member(&root, "treap", NULL, NULL);
		L->semroot_nwait = gr_dw_member(&root, "nwait", NULL, NULL);
	}
	if (!have_tab || L->semroot_treap < 0 || L->sudog_size == 0 || L->sudog_g < 0 ||
	    L->sudog_next < 0 || L->sudog_prev < 0 || L->sudog_elem < 0 || L->sudog_waitlink < 0)
		L->semtab_count = L->semtab_stride = 0; /* goroutines without their locks */
	/* sync.Mutex{state int32; sema uint32} and RWMutex{w; writerSem; readerSem; readerCount;
	 * ...} have kept this layout in every Go release; the DWARF is used when the program
	 * has the types (it has them whenever it has such waiters). */
	L->mutex_state = 0;
	L->mutex_sema = 4;
	L->rw_w = 0;
	L->rw_writer_sem = 8;
	L->rw_reader_sem = 12;
	L->rw_reader_count = 16;
	L->wg_sema = 8;
	struct gr_sync_sizes ss = { 0, 0, 0 };
	if (found[DW_WAITGROUP]) {
		ss.waitgroup = gr_dw_size(&d[DW_WAITGROUP]);
		/* sema (Go 1.20+) or state2 (Go 1.18, 1.19 on 64-bit) */
		int32_t se = gr_dw_member(&d[DW_WAITGROUP], "sema", NULL, NULL);
		if (se < 0)
			se = gr_dw_member(&d[DW_WAITGROUP], "state2", NULL, NULL);
		if (se >= 0)
			L->wg_sema = se;
	}
	if (found[DW_MUTEX]) {
		ss.mutex = gr_dw_size(&d[DW_MUTEX]);
		int32_t st = gr_dw_member(&d[DW_MUTEX], "state", NULL, NULL);
		int32_t se = gr_dw_member(&d[DW_MUTEX], "sema", NULL, NULL);
		if (st >= 0 && se >= 0) {
			L->mutex_state = st;
			L->mutex_sema = se;
		}
	}
	if (found[DW_RWMUTEX]) {
		Dwarf_Die *r = &d[DW_RWMUTEX];
		ss.rwmutex = gr_dw_size(r);
		int32_t w = gr_dw_member(r, "w", NULL, NULL);
		int32_t ws = gr_dw_member(r, "writerSem", NULL, NULL);
		int32_t rs = gr_dw_member(r, "readerSem", NULL, NULL);
		int32_t rc = gr_dw_member(r, "readerCount", NULL, NULL);
		if (w >= 0 && ws >= 0 && rs >= 0 && rc >= 0) {
			L->rw_w = w;
			L->rw_writer_sem = ws;
			L->rw_reader_sem = rs;
			L->rw_reader_count = rc;
		}
	}
	return gr_layout_check(gr, &ss, why, n);
}

/* ---- wait reasons ---- */

static bool gr_printable(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

/* Is a goroutine parked with this wait reason asleep on a semaphore of semtable? */
static bool gr_reason_is_sema(const char *r)
{
	return strcmp(r, "semacquire") == 0 ||
	       (has_prefix(r, "sync.") && strcmp(r, "sync.Cond.Wait") != 0);
}

/* The target's own runtime.waitReasonStrings ([N]string), else the Go 1.19 table. */
static void gr_wait_names_load(struct goruntime *gr)
{
	uint64_t addr = 0, size = 0;
	uint32_t n = 0;
	if (symbols_find_symbol(gr->sym, "runtime.waitReasonStrings", &addr, &size) == 0 &&
	    size >= 16 && size % 16 == 0 && size <= 16 * 256) {
		n = (uint32_t)(size / 16);
		uint8_t *tab = xmalloc((size_t)size);
		gr->wait_names = xcalloc(n, sizeof *gr->wait_names);
		bool ok = gr_mem(gr, addr, tab, (size_t)size);
		for (uint32_t i = 0; ok && i < n; i++) {
			uint64_t p = gr_le(tab + 16 * i, 8), len = gr_le(tab + 16 * i + 8, 8);
			char s[128];
			if (len >= sizeof s || (len && !gr_mem(gr, p, s, (size_t)len)) ||
			    !gr_printable(s, (size_t)len)) {
				ok = false;
				break;
			}
			s[len] = '\0';
			gr->wait_names[i] = strtab_intern(&gr->strs, s);
		}
		free(tab);
		if (!ok) {
			free(gr->wait_names);
			gr->wait_names = NULL;
			n = 0;
		}
	}
	if (n) {
		gr->L.wait_reasons_from_target = true;
	} else {
		n = (uint32_t)UTIL_ARRAY_LEN(gr_wait_names_119);
		gr->wait_names = xcalloc(n, sizeof *gr->wait_names);
		for (uint32_t i = 0; i < n; i++)
			gr->wait_names[i] = strtab_intern(&gr->strs, gr_wait_names_119[i]);
	}
	gr->nwait_names = n;
	gr->L.wait_reasons = n;
	gr->wait_is_sema = xcalloc(n, sizeof *gr->wait_is_sema);
	for (uint32_t i = 0; i < n; i++)
		gr->wait_is_sema[i] = gr_reason_is_sema(gr->wait_names[i]);
}

static const char *gr_wait_name(struct goruntime *gr, uint64_t code)
{
	if (code < gr->nwait_names)
		return gr->wait_names[code];
	char buf[32];
	snprintf(buf, sizeof buf, "waitreason %" PRIu64, code);
	return strtab_intern(&gr->strs, buf);
}

/* ---- open / close ---- */

/* Address range of a function; assembly functions are NAME.abi0 in Go's symbol table. */
static void gr_symbol_range(struct goruntime *gr, const char *name, uint64_t *lo, uint64_t *hi)
{
	uint64_t a = 0, s = 0;
	char abi0[128];
	snprintf(abi0, sizeof abi0, "%s.abi0", name);
	if (symbols_find_symbol(gr->sym, name, &a, &s) == 0 ||
	    symbols_find_symbol(gr->sym, abi0, &a, &s) == 0) {
		*lo = a;
		*hi = a + (s ? s : 1);
	} else {
		*lo = *hi = 0;
	}
}

/* Text and writable data ranges of the main module (run-time addresses). */
static void gr_ranges(struct goruntime *gr, Elf *elf, uint64_t bias)
{
	gr->data_lo = UINT64_MAX;
	gr->data_hi = 0;
	Elf_Scn *scn = NULL;
	size_t shstrndx = 0;
	elf_getshdrstrndx(elf, &shstrndx);
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || !(sh.sh_flags & SHF_ALLOC))
			continue;
		const char *n = elf_strptr(elf, shstrndx, sh.sh_name);
		if (n && strcmp(n, ".text") == 0) {
			gr->text_lo = sh.sh_addr + bias;
			gr->text_hi = sh.sh_addr + sh.sh_size + bias;
		}
		if (sh.sh_flags & SHF_WRITE) {
			if (sh.sh_addr + bias < gr->data_lo)
				gr->data_lo = sh.sh_addr + bias;
			if (sh.sh_addr + sh.sh_size + bias > gr->data_hi)
				gr->data_hi = sh.sh_addr + sh.sh_size + bias;
		}
	}
	if (gr->data_lo > gr->data_hi)
		gr->data_lo = gr->data_hi = 0;
}

struct goruntime *goruntime_open(pid_t pid, struct symbols *sym, const struct goruntime_options *opt,
				 char **cause)
{
	char version[64];
	*cause = NULL;
	if (!goruntime_detect(sym, version, sizeof version)) {
		*cause = xstrdup("not a Go program (no .go.buildinfo section)");
		return NULL;
	}
	const char *vers = version[0] ? version : "Go";
	uint32_t mod = symbols_main_module(sym);
	uint64_t bias = 0, dwbias = 0, allgs = 0, size = 0;
	Elf *elf = symbols_module_elf(sym, mod, &bias);
	if (!elf) {
		*cause = xasprintf("%s program: its executable cannot be read", vers);
		return NULL;
	}
	if (symbols_find_symbol(sym, "runtime.allgs", &allgs, &size) != 0) {
		*cause = xasprintf("%s binary has no symbol table (built with -ldflags=-s): goroutines "
				   "cannot be read, OS threads only", vers);
		return NULL;
	}
	Dwarf *dw = symbols_module_dwarf(sym, mod, &dwbias);
	if (!dw) {
		*cause = xasprintf("%s binary has no DWARF (built with -ldflags=-w): goroutines cannot "
				   "be read, OS threads only", vers);
		return NULL;
	}
	struct goruntime *gr = xcalloc(1, sizeof *gr);
	gr->pid = pid;
	gr->sym = sym;
	if (opt)
		gr->opt = *opt;
	if (gr->opt.max_frames == 0)
		gr->opt.max_frames = GR_MAX_FRAMES_DEFAULT;
	if (gr->opt.max_frames > GR_MAX_FRAMES_LIMIT)
		gr->opt.max_frames = GR_MAX_FRAMES_LIMIT;
	snprintf(gr->version, sizeof gr->version, "%s", version);
	char why[192];
	if (!gr_layout(gr, dw, why, sizeof why)) {
		*cause = xasprintf("%s binary: %s: goroutines cannot be read", vers, why);
		goruntime_close(gr);
		return NULL;
	}
	gr->allgs_addr = allgs;
	uint64_t tsize = 0;
	if (gr->L.semtab_count &&
	    (symbols_find_symbol(sym, "runtime.semtable", &gr->semtab_addr, &tsize) != 0 ||
	     tsize < (uint64_t)gr->L.semtab_count * gr->L.semtab_stride))
		gr->L.semtab_count = gr->L.semtab_stride = 0;
	if (symbols_find_symbol(sym, "runtime.fingRunning", &gr->fing_addr, NULL) != 0)
		gr->fing_addr = 0;
	gr_ranges(gr, elf, bias);
	gr_symbol_range(gr, "runtime.goexit", &gr->goexit_lo, &gr->goexit_hi);
	gr_symbol_range(gr, "runtime.asyncPreempt", &gr->async_lo, &gr->async_hi);
	if (gr->text_hi <= gr->text_lo) {
		*cause = xasprintf("%s binary: no .text section", vers);
		goruntime_close(gr);
		return NULL;
	}
	gr_wait_names_load(gr);
	gr->gbuf = xmalloc(gr->g_read);
	gr->gbuf2 = xmalloc(gr->g_read);
	gr->stackbuf = xmalloc(GR_STACK_READ);
	if (gr->L.semtab_count)
		gr->semtab_buf = xmalloc((size_t)gr->L.semtab_count * gr->L.semtab_stride);
	return gr;
}

void goruntime_close(struct goruntime *gr)
{
	if (!gr)
		return;
	tracee_pending_flush(); /* the rest: the event loop, or the kernel when proftop exits */
	free(gr->wait_names);
	free(gr->wait_is_sema);
	strtab_done(&gr->strs);
	free(gr->gptrs);
	free(gr->gbuf);
	free(gr->gbuf2);
	free(gr->stackbuf);
	free(gr->semtab_buf);
	free(gr->gs);
	free(gr->raws);
	free(gr->pc_off);
	free(gr->pcs);
	free(gr->semrecs);
	free(gr->semstack);
	free(gr->locks);
	free(gr->groups);
	free(gr->members);
	free(gr->slots);
	free(gr->waits);
	free(gr->waits_new);
	free(gr->funcs);
	free(gr->lockfns);
	arena_done(&gr->arena);
	free(gr);
}

const char *goruntime_version(const struct goruntime *gr)
{
	return gr->version;
}

struct symbols *goruntime_symbols(const struct goruntime *gr)
{
	return gr->sym;
}

const struct goruntime_layout *goruntime_layout(const struct goruntime *gr)
{
	return &gr->L;
}

/* ---- reading goroutines ---- */

/* The fields of a g read into b (gr->g_read bytes: gr_layout_check() saw them all inside). */
static void gr_parse(const struct goruntime *gr, const uint8_t *b, struct gr_raw *r)
{
	const struct goruntime_layout *L = &gr->L;
	size_t n = gr->g_read;
	memset(r, 0, sizeof *r);
	r->stack_lo = gr_field(b, n, L->g_stack_lo, 8);
	r->stack_hi = gr_field(b, n, L->g_stack_hi, 8);
	r->m = gr_field(b, n, L->g_m, 8);
	r->sched_sp = gr_field(b, n, L->g_sched_sp, 8);
	r->sched_pc = gr_field(b, n, L->g_sched_pc, 8);
	r->sched_bp = gr_field(b, n, L->g_sched_bp, 8);
	r->syscallsp = gr_field(b, n, L->g_syscallsp, 8);
	r->syscallpc = gr_field(b, n, L->g_syscallpc, 8);
	r->startpc = gr_field(b, n, L->g_startpc, 8);
	r->gopc = gr_field(b, n, L->g_gopc, 8);
	r->waiting = gr_field(b, n, L->g_waiting, 8);
	r->goid = (int64_t)gr_field(b, n, L->g_goid, gr->goid_size);
	r->waitsince = (int64_t)gr_field(b, n, L->g_waitsince, 8);
	r->status = gr_field(b, n, L->g_atomicstatus, gr->status_size);
	r->waitreason = gr_field(b, n, L->g_waitreason, gr->wr_size);
}

static bool gr_read_g(struct goruntime *gr, uint64_t gaddr, uint8_t *buf, struct gr_raw *r)
{
	if (!gr_mem(gr, gaddr, buf, gr->g_read))
		return false;
	gr_parse(gr, buf, r);
	return true;
}

static enum goruntime_status gr_status(uint64_t raw)
{
	uint64_t s = raw & ~(uint64_t)GR_GSCAN;
	return s < GORUNTIME_UNKNOWN ? (enum goruntime_status)s : GORUNTIME_UNKNOWN;
}

static void gr_pc_push(struct goruntime *gr, uint64_t pc)
{
	if (gr->npcs == gr->pcs_cap)
		util_grow((void **)&gr->pcs, &gr->pcs_cap, gr->npcs + 1, sizeof *gr->pcs);
	gr->pcs[gr->npcs++] = pc;
}

/* A stack word: from the copy when inside it, else read from the target. */
static bool gr_word(const struct goruntime *gr, uint64_t addr, const uint8_t *buf, uint64_t base,
		    size_t len, uint64_t *v)
{
	if (addr >= base && addr - base <= len && len - (addr - base) >= 8) {
		*v = gr_le(buf + (addr - base), 8);
		return true;
	}
	return gr_u64(gr, addr, v);
}

static bool gr_in(uint64_t pc, uint64_t lo, uint64_t hi)
{
	return pc >= lo && pc < hi;
}

/* Does the frame-pointer chain from bp run, frame by frame, to runtime.goexit? */
static bool gr_chain_ok(const struct goruntime *gr, uint64_t bp, uint64_t hi, const uint8_t *buf,
			uint64_t base, size_t len)
{
	for (int i = 0; i < GR_MAX_FRAMES_LIMIT * 4; i++) {
		uint64_t ret, nbp;
		if ((bp & 7) || bp < base || bp >= hi || hi - bp < 16 ||
		    !gr_word(gr, bp + 8, buf, base, len, &ret) ||
		    !gr_word(gr, bp, buf, base, len, &nbp))
			return false;
		if (gr_in(ret, gr->goexit_lo, gr->goexit_hi))
			return true;
		if (!gr_in_text(gr, ret) || nbp <= bp)
			return false;
		bp = nbp;
	}
	return false;
}

/* A goroutine in a syscall has no saved bp: the first word above sp from which a frame chain
 * runs, well formed, to runtime.goexit is its caller's frame pointer. */
static uint64_t gr_find_bp(const struct goruntime *gr, uint64_t sp, uint64_t hi, const uint8_t *buf,
			   size_t len)
{
	size_t limit = len < GR_SYSCALL_SCAN ? len : GR_SYSCALL_SCAN;
	for (uint64_t a = (sp + 7) & ~7ull; a + 16 <= sp + limit; a += 8) {
		uint64_t ret = gr_le(buf + (a - sp) + 8, 8), nbp = gr_le(buf + (a - sp), 8);
		if (!gr_in_text(gr, ret) || (nbp != 0 && (nbp <= a || nbp >= hi)))
			continue;
		if (gr_chain_ok(gr, a, hi, buf, sp, len))
			return a;
	}
	return 0;
}

/*
 * Walk the frame-pointer chain of a goroutine's stack whose words [base, base+len) are in buf,
 * pushing lookup addresses onto gr->pcs.  pc is the leaf (exact or a return address).  Returns
 * the frame count, or -1 when the start itself is impossible (a torn read).
 */
static int gr_walk(struct goruntime *gr, uint64_t pc, bool exact, uint64_t sp, uint64_t bp,
		   uint64_t hi, const uint8_t *buf, size_t len, uint32_t *flags)
{
	if (!gr_in_text(gr, pc))
		return -1;
	uint32_t max = gr->opt.max_frames, n = 0;
	gr_pc_push(gr, exact ? pc : pc - 1);
	n++;
	bool prev_async = gr_in(pc, gr->async_lo, gr->async_hi);
	uint64_t last = 0;
	for (;;) {
		if (bp == 0)
			break;
		if ((bp & 7) || bp < sp || bp >= hi || hi - bp < 16 || bp <= last) {
			*flags |= GORUNTIME_G_TRUNCATED;
			break;
		}
		uint64_t ret, nbp;
		if (!gr_word(gr, bp + 8, buf, sp, len, &ret) || !gr_word(gr, bp, buf, sp, len, &nbp)) {
			*flags |= GORUNTIME_G_TRUNCATED;
			break;
		}
		if (ret == 0 || gr_in(ret, gr->goexit_lo, gr->goexit_hi))
			break;
		if (!gr_in_text(gr, ret)) {
			*flags |= GORUNTIME_G_TRUNCATED;
			break;
		}
		if (n == max) {
			*flags |= GORUNTIME_G_TRUNCATED;
			break;
		}
		/* The frame a signal interrupted (asyncPreempt's caller) holds an exact pc. */
		gr_pc_push(gr, prev_async ? ret : ret - 1);
		n++;
		prev_async = gr_in(ret, gr->async_lo, gr->async_hi);
		last = bp;
		bp = nbp;
	}
	return (int)n;
}

/* Read the stack of a parked (or syscall) goroutine and walk it.  -1: inconsistent. */
static int gr_stack_parked(struct goruntime *gr, const struct gr_raw *r, enum goruntime_status st,
			   uint32_t *flags)
{
	bool sys = st == GORUNTIME_SYSCALL;
	uint64_t sp = sys ? r->syscallsp : r->sched_sp;
	uint64_t pc = sys ? r->syscallpc : r->sched_pc;
	if (r->stack_hi <= r->stack_lo || r->stack_hi - r->stack_lo > (1ull << 30) || sp < r->stack_lo ||
	    sp >= r->stack_hi || pc == 0)
		return -1;
	size_t len = r->stack_hi - sp < GR_STACK_READ ? (size_t)(r->stack_hi - sp) : GR_STACK_READ;
	if (!gr_mem(gr, sp, gr->stackbuf, len))
		return -1;
	uint64_t bp = sys ? gr_find_bp(gr, sp, r->stack_hi, gr->stackbuf, len) : r->sched_bp;
	if (sys && bp == 0)
		*flags |= GORUNTIME_G_TRUNCATED;
	/* A goroutine that never ran is parked at its function's entry (not after a call). */
	bool exact = !sys && pc == r->startpc;
	return gr_walk(gr, pc, exact, sp, bp, r->stack_hi, gr->stackbuf, len, flags);
}

enum gr_read_result { GR_LIVE, GR_DEAD, GR_UNREADABLE };

/* Read goroutine gaddr (g, stack, g again) into out/raw; pcs are pushed onto gr->pcs. */
static enum gr_read_result gr_read_one(struct goruntime *gr, uint64_t gaddr,
				       struct goruntime_goroutine *out, struct gr_raw *raw)
{
	struct gr_raw ra, rb;
	if (!gr_read_g(gr, gaddr, gr->gbuf, &ra))
		return GR_UNREADABLE;
	memset(out, 0, sizeof *out);
	out->gaddr = gaddr;
	out->lock = UINT32_MAX;
	out->wait_s = -1;
	for (int attempt = 1;; attempt++) {
		enum goruntime_status st = gr_status(ra.status);
		if (st == GORUNTIME_DEAD || st == GORUNTIME_IDLE)
			return GR_DEAD;
		size_t mark = gr->npcs;
		uint32_t flags = 0;
		int n = 0;
		switch (st) {
		case GORUNTIME_RUNNING:    /* registers in its thread: later, gr_running_stacks() */
		case GORUNTIME_COPYSTACK:  /* the stack is moving */
		case GORUNTIME_UNKNOWN:
			flags |= GORUNTIME_G_NOSTACK;
			break;
		default:
			n = gr_stack_parked(gr, &ra, st, &flags);
			break;
		}
		if (!gr_read_g(gr, gaddr, gr->gbuf2, &rb))
			return GR_UNREADABLE;
		bool stable = ra.goid > 0 && memcmp(&ra, &rb, sizeof ra) == 0;
		if (stable && n < 0) {
			/* The goroutine held still, but its saved registers lead nowhere. */
			gr->npcs = mark;
			n = 0;
			flags = GORUNTIME_G_NOSTACK;
		}
		if (!stable && attempt < GR_RETRIES) {
			gr->npcs = mark;
			ra = rb;
			continue;
		}
		if (!stable) {
			gr->npcs = mark;
			n = 0;
			flags = GORUNTIME_G_TORN;
			ra = rb;
			if (ra.goid <= 0 || gr_status(ra.status) == GORUNTIME_DEAD ||
			    gr_status(ra.status) == GORUNTIME_IDLE)
				return GR_UNREADABLE;
			st = gr_status(ra.status);
		}
		out->id = ra.goid;
		out->status = st;
		out->scan = (ra.status & GR_GSCAN) != 0;
		out->flags = flags;
		out->nframes = (uint32_t)n;
		out->wait_code = (uint8_t)ra.waitreason;
		out->wait_reason = st == GORUNTIME_WAITING ? gr_wait_name(gr, ra.waitreason) : "";
		out->startpc = ra.startpc;
		out->gopc = ra.gopc;
		*raw = ra;
		return GR_LIVE;
	}
}

/* ---- running goroutines: their thread's registers ---- */

/* PTRACE_INTERRUPT a seized thread and wait for its stop.  *sig gets a signal that was on its
 * way (to hand back at detach).  false when it did not stop in time or is gone. */
static bool gr_thread_stop(pid_t tid, int *sig, bool *gone)
{
	*sig = 0;
	*gone = false;
	if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) < 0) {
		*gone = errno == ESRCH;
		return false;
	}
	uint64_t start = util_now_ns(), deadline = start + GR_STOP_WAIT_NS;
	for (;;) {
		int status = 0;
		pid_t r = waitpid(tid, &status, __WALL | WNOHANG);
		if (r == tid) {
			if (WIFEXITED(status) || WIFSIGNALED(status)) {
				*gone = true;
				return false;
			}
			if (WIFSTOPPED(status)) {
				if ((status >> 16) == 0)
					*sig = WSTOPSIG(status); /* signal-delivery stop */
				return true;
			}
		} else if (r < 0 && errno != EINTR) {
			*gone = errno == ECHILD;
			return false;
		}
		uint64_t now = util_now_ns();
		if (now > deadline)
			return false;
		/* Stay runnable for the first moments (so the stop is seen at once and the thread
		 * resumed at once on a busy machine), then poll gently. */
		if (now - start < 2000 * 1000) {
			sched_yield();
		} else {
			struct timespec ts = { 0, 50 * 1000 };
			nanosleep(&ts, NULL);
		}
	}
}

/*
 * The stack of a running goroutine from its thread's registers: stop that one thread, check
 * that it still runs this goroutine on the goroutine's own stack, copy the stack, resume it.
 * true when frames were pushed.
 */
static bool gr_running_stack(struct goruntime *gr, struct goruntime_goroutine *g, struct gr_raw *r,
			     uint32_t *nframes, uint32_t *flags)
{
	const struct goruntime_layout *L = &gr->L;
	if (L->m_procid < 0 || L->m_curg < 0 || !r->m)
		return false;
	uint64_t procid, curg;
	if (!gr_u64(gr, r->m + (uint64_t)L->m_procid, &procid) ||
	    !gr_u64(gr, r->m + (uint64_t)L->m_curg, &curg) || curg != g->gaddr || procid == 0 ||
	    procid > INT_MAX)
		return false;
	pid_t tid = (pid_t)procid;
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/task/%d", (int)gr->pid, (int)tid);
	if (access(path, F_OK) != 0)
		return false;
	g->tid = tid;
	if (gr->opt.no_thread_stop)
		return false;
	if (ptrace(PTRACE_SEIZE, tid, 0, 0) < 0)
		return false;
	int sig = 0;
	bool gone = false, ok = false;
	size_t len = 0;
	struct user_regs_struct ur;
	memset(&ur, 0, sizeof ur);
	bool stopped = gr_thread_stop(tid, &sig, &gone);
	uint64_t t0 = util_now_ns(); /* the thread is stopped from about here */
	/* Stopped: only the registers and one read of the stack, then let it go. */
	if (stopped && ptrace(PTRACE_GETREGS, tid, 0, &ur) == 0 && ur.rsp >= r->stack_lo &&
	    ur.rsp < r->stack_hi) {
		len = r->stack_hi - ur.rsp < GR_STACK_READ ? (size_t)(r->stack_hi - ur.rsp) : GR_STACK_READ;
		ok = gr_mem(gr, ur.rsp, gr->stackbuf, len);
	}
	if (stopped)
		ptrace(PTRACE_DETACH, tid, 0, (void *)(intptr_t)sig); /* ESRCH: it is gone */
	else if (!gone)
		tracee_pending_add(tid); /* the stop is still to come: detach when it does */
	uint64_t stop = util_now_ns() - t0;
	if (stopped && stop > gr->snap.max_stop_ns)
		gr->snap.max_stop_ns = stop;
	/* Still the same goroutine on the same thread: the registers (on its own stack) were its. */
	struct gr_raw now;
	uint64_t c2 = 0;
	if (!ok || !gr_read_g(gr, g->gaddr, gr->gbuf2, &now) || gr_status(now.status) != GORUNTIME_RUNNING ||
	    now.goid != r->goid || now.m != r->m || now.stack_lo != r->stack_lo ||
	    now.stack_hi != r->stack_hi || !gr_u64(gr, r->m + (uint64_t)L->m_curg, &c2) || c2 != g->gaddr)
		return false;
	uint32_t f = 0;
	int n = gr_walk(gr, ur.rip, true, ur.rsp, ur.rbp, r->stack_hi, gr->stackbuf, len, &f);
	if (n <= 0)
		return false;
	*nframes = (uint32_t)n;
	*flags = f;
	return true;
}

/* Give every running goroutine a stack from its thread, a few tries each: between tries it may
 * have parked (then its saved registers give the stack) or its thread may have left the
 * scheduler or a signal handler. */
static void gr_running_stacks(struct goruntime *gr, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct goruntime_goroutine *g = &gr->gs[i];
		if (g->status != GORUNTIME_RUNNING || (g->flags & GORUNTIME_G_TORN))
			continue;
		for (int t = 0; t < GR_THREAD_TRIES; t++) {
			size_t mark = gr->npcs;
			uint32_t nf = 0, fl = 0;
			if (gr_running_stack(gr, g, &gr->raws[i], &nf, &fl)) {
				gr->pc_off[i] = (uint32_t)mark;
				g->nframes = nf;
				g->flags = fl;
				break;
			}
			gr->npcs = mark;
			if (gr->opt.no_thread_stop || t + 1 == GR_THREAD_TRIES)
				break;
			struct timespec ts = { 0, 200 * 1000 };
			nanosleep(&ts, NULL);
			struct goruntime_goroutine again;
			struct gr_raw raw;
			pid_t tid = g->tid;
			if (gr_read_one(gr, g->gaddr, &again, &raw) != GR_LIVE || again.id != g->id)
				break; /* gone: keep what was read first */
			gr->raws[i] = raw;
			if (again.status != GORUNTIME_RUNNING) {
				*g = again; /* parked meanwhile: its stack is the one just read */
				gr->pc_off[i] = (uint32_t)mark;
				break;
			}
			g->tid = tid;
		}
	}
}

/* ---- allgs ---- */

/* Read the allgs slice into gr->gptrs; returns the count or -1. */
static long gr_allgs(struct goruntime *gr, char **cause)
{
	for (int attempt = 0; attempt < 3; attempt++) {
		uint8_t h[24], h2[24];
		if (!gr_mem(gr, gr->allgs_addr, h, sizeof h)) {
			if (cause)
				*cause = xasprintf("cannot read runtime.allgs: %s", strerror(errno));
			return -1;
		}
		uint64_t ptr = gr_le(h, 8), len = gr_le(h + 8, 8), cap = gr_le(h + 16, 8);
		if (len > cap || len > GR_MAX_GOROUTINES || (len && !ptr)) {
			if (cause)
				*cause = xstrdup("runtime.allgs does not look like a slice");
			return -1;
		}
		util_grow((void **)&gr->gptrs, &gr->gptrs_cap, len + 1, sizeof *gr->gptrs);
		if (len && !gr_mem(gr, ptr, gr->gptrs, (size_t)len * 8))
			continue;
		if (!gr_mem(gr, gr->allgs_addr, h2, sizeof h2))
			continue;
		/* allgs only grows (append): the same array still holds what was read. */
		if (gr_le(h2, 8) == ptr && gr_le(h2 + 8, 8) >= len)
			return (long)len;
	}
	if (cause)
		*cause = xstrdup("runtime.allgs kept changing while read");
	return -1;
}

/* Is the goroutine started at startpc runtime-internal?  (traceback.go isSystemGoroutine) */
static bool gr_system(struct goruntime *gr, uint64_t startpc, bool fing_running)
{
	const struct sym_loc *loc = symbols_lookup(gr->sym, startpc);
	const struct sym_func *f = symbols_func(gr->sym, loc->lines[loc->nlines - 1].func);
	if (!f || !has_prefix(f->name, "runtime."))
		return false;
	if (strcmp(f->name, "runtime.main") == 0 || strcmp(f->name, "runtime.handleAsyncEvent") == 0)
		return false;
	if (strcmp(f->name, "runtime.runfinq") == 0)
		return !fing_running;
	return true;
}

static bool gr_fing_running(struct goruntime *gr)
{
	uint8_t b = 0;
	return gr->fing_addr && gr_mem(gr, gr->fing_addr, &b, 1) && b != 0;
}

static void gr_gs_reserve(struct goruntime *gr, size_t n)
{
	if (n <= gr->gs_cap)
		return;
	size_t cap = gr->gs_cap;
	util_grow((void **)&gr->gs, &cap, n, sizeof *gr->gs);
	gr->raws = xreallocarray(gr->raws, cap, sizeof *gr->raws);
	gr->pc_off = xreallocarray(gr->pc_off, cap, sizeof *gr->pc_off);
	gr->gs_cap = cap;
}

/* ---- hash slots: g address -> index ---- */

/* Slots of an open-addressing table for n keys: a power of two, at most half full. */
static size_t gr_table_cap(size_t n)
{
	size_t cap = 16;
	while (cap < 2 * n + 16)
		cap *= 2;
	return cap;
}

static size_t gr_slots_prepare(struct goruntime *gr, size_t n)
{
	size_t cap = gr_table_cap(n);
	if (cap > gr->slots_cap) {
		free(gr->slots);
		gr->slots = xcalloc(cap, sizeof *gr->slots);
		gr->slots_cap = cap;
	}
	memset(gr->slots, 0xff, cap * sizeof *gr->slots);
	return cap;
}

static void gr_gindex_build(struct goruntime *gr, size_t n, size_t cap)
{
	for (size_t i = 0; i < n; i++) {
		size_t h = util_hash64(gr->gs[i].gaddr) & (cap - 1);
		while (gr->slots[h] != UINT32_MAX)
			h = (h + 1) & (cap - 1);
		gr->slots[h] = (uint32_t)i;
	}
}

static uint32_t gr_gindex_find(const struct goruntime *gr, size_t cap, uint64_t gaddr)
{
	size_t h = util_hash64(gaddr) & (cap - 1);
	while (gr->slots[h] != UINT32_MAX) {
		if (gr->gs[gr->slots[h]].gaddr == gaddr)
			return gr->slots[h];
		h = (h + 1) & (cap - 1);
	}
	return UINT32_MAX;
}

/* ---- semtable ---- */

static void gr_semrec_add(struct goruntime *gr, uint64_t gaddr, uint64_t elem, uint64_t sudog,
			  uint32_t pos)
{
	if (gr->nsemrecs == gr->semrecs_cap)
		util_grow((void **)&gr->semrecs, &gr->semrecs_cap, gr->nsemrecs + 1,
			  sizeof *gr->semrecs);
	gr->semrecs[gr->nsemrecs++] = (struct gr_semrec){ gaddr, elem, sudog, pos };
}

static void gr_semstack_push(struct goruntime *gr, size_t *n, uint64_t v)
{
	if (*n == gr->semstack_cap)
		util_grow((void **)&gr->semstack, &gr->semstack_cap, *n + 1, sizeof *gr->semstack);
	gr->semstack[(*n)++] = v;
}

/* Walk root idx's treap of sudogs and their waitlink queues.  false when what was read does
 * not hold together (the treap changed meanwhile). */
static bool gr_sema_root(struct goruntime *gr, uint32_t idx, uint64_t treap, size_t limit)
{
	const struct goruntime_layout *L = &gr->L;
	uint8_t sb[GR_SUDOG_MAX];
	size_t sl = L->sudog_size; /* <= sizeof sb, every member inside: gr_layout_check() */
	if (sl > sizeof sb)
		return false;
	size_t sp = 0, nodes = 0;
	gr_semstack_push(gr, &sp, treap);
	while (sp) {
		uint64_t s = gr->semstack[--sp];
		if (++nodes > limit || !gr_mem(gr, s, sb, sl))
			return false;
		uint64_t elem = gr_field(sb, sl, L->sudog_elem, 8);
		if (!elem || (elem >> 3) % L->semtab_count != idx)
			return false;
		uint64_t prev = gr_field(sb, sl, L->sudog_prev, 8), next = gr_field(sb, sl, L->sudog_next, 8);
		gr_semrec_add(gr, gr_field(sb, sl, L->sudog_g, 8), elem, s, 0);
		uint64_t w = gr_field(sb, sl, L->sudog_waitlink, 8);
		for (uint32_t pos = 1; w; pos++) {
			if (++nodes > limit || !gr_mem(gr, w, sb, sl) ||
			    gr_field(sb, sl, L->sudog_elem, 8) != elem)
				return false;
			gr_semrec_add(gr, gr_field(sb, sl, L->sudog_g, 8), elem, w, pos);
			w = gr_field(sb, sl, L->sudog_waitlink, 8);
		}
		if (prev)
			gr_semstack_push(gr, &sp, prev);
		if (next)
			gr_semstack_push(gr, &sp, next);
	}
	return true;
}

/* Every semaphore waiter of runtime.semtable into gr->semrecs. */
static void gr_sema_walk(struct goruntime *gr, size_t ngoroutines)
{
	const struct goruntime_layout *L = &gr->L;
	gr->nsemrecs = 0;
	if (!L->semtab_count)
		return;
	size_t tlen = (size_t)L->semtab_count * L->semtab_stride;
	if (!gr_mem(gr, gr->semtab_addr, gr->semtab_buf, tlen))
		return;
	size_t limit = ngoroutines + 64;
	for (uint32_t i = 0; i < L->semtab_count; i++) {
		uint64_t rootaddr = (uint64_t)i * L->semtab_stride + gr->semtab_root;
		uint64_t treap = gr_field(gr->semtab_buf, tlen, (int64_t)rootaddr + L->semroot_treap, 8);
		for (int attempt = 0; treap && attempt < 3; attempt++) {
			size_t mark = gr->nsemrecs;
			bool ok = gr_sema_root(gr, i, treap, limit);
			uint64_t again = 0;
			if (!gr_u64(gr, gr->semtab_addr + rootaddr + (uint64_t)L->semroot_treap, &again))
				again = 0;
			if (ok && again == treap)
				break;
			gr->nsemrecs = mark;
			treap = again;
		}
	}
}

/* Function name of one source line of a location. */
static const char *gr_line_name(struct goruntime *gr, const struct sym_line *l)
{
	const struct sym_func *f = symbols_func(gr->sym, l->func);
	return f ? f->name : "";
}

static bool gr_is_mutex_fn(const char *n)
{
	return (has_prefix(n, "sync.") || has_prefix(n, "internal/sync.")) &&
	       (has_suffix(n, "(*Mutex).lockSlow") || has_suffix(n, "(*Mutex).Lock"));
}

/* What kind of lock the waiter's stack shows, and the lock's base address. */
static enum goruntime_lock_kind gr_sema_kind(struct goruntime *gr, const struct goruntime_goroutine *g,
					     uint64_t *base, bool *read)
{
	const struct goruntime_layout *L = &gr->L;
	*read = false;
	*base = g->sema;
	bool in_mutex = false;
	for (uint32_t i = 0; i < g->nframes; i++) {
		const struct sym_loc *loc = symbols_lookup(gr->sym, g->pcs[i]);
		for (uint32_t j = 0; j < loc->nlines; j++) {
			const char *n = gr_line_name(gr, &loc->lines[j]);
			if (has_prefix(n, "runtime.") || strstr(n, "runtime_Semacquire"))
				continue;
			if (gr_is_mutex_fn(n)) {
				in_mutex = true;
				continue;
			}
			if (in_mutex) {
				uint64_t m = g->sema - (uint64_t)L->mutex_sema;
				if (strcmp(n, "sync.(*RWMutex).Lock") == 0) {
					*base = m - (uint64_t)L->rw_w;
					return GORUNTIME_LOCK_RWMUTEX;
				}
				*base = m;
				return GORUNTIME_LOCK_MUTEX;
			}
			if (strcmp(n, "sync.(*RWMutex).RLock") == 0) {
				*read = true;
				*base = g->sema - (uint64_t)L->rw_reader_sem;
				return GORUNTIME_LOCK_RWMUTEX;
			}
			if (strcmp(n, "sync.(*RWMutex).Lock") == 0) {
				*base = g->sema - (uint64_t)L->rw_writer_sem;
				return GORUNTIME_LOCK_RWMUTEX;
			}
			if (strcmp(n, "sync.(*WaitGroup).Wait") == 0) {
				*base = g->sema - (uint64_t)L->wg_sema;
				return GORUNTIME_LOCK_WAITGROUP;
			}
			return GORUNTIME_LOCK_SEMA;
		}
	}
	if (in_mutex) {
		*base = g->sema - (uint64_t)L->mutex_sema;
		return GORUNTIME_LOCK_MUTEX;
	}
	return GORUNTIME_LOCK_SEMA;
}

static int gr_lock_cmp(const void *a, const void *b)
{
	const struct goruntime_lock *x = a, *y = b;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static uint32_t gr_lock_find(const struct goruntime *gr, size_t n, uint64_t addr)
{
	size_t lo = util_lower_u64(gr->locks, n, UTIL_FIELD(gr->locks, addr), addr);
	return lo < n && gr->locks[lo].addr == addr ? (uint32_t)lo : UINT32_MAX;
}

/* Read a lock's words (gr->*_len bytes, checked against the layout) and name it. */
static void gr_lock_fill(struct goruntime *gr, struct goruntime_lock *l)
{
	const struct goruntime_layout *L = &gr->L;
	uint8_t b[GR_LOCK_READ];
	memset(b, 0, sizeof b);
	size_t len = l->kind == GORUNTIME_LOCK_RWMUTEX	 ? gr->rw_len
		     : l->kind == GORUNTIME_LOCK_MUTEX	 ? gr->mutex_len
		     : l->kind == GORUNTIME_LOCK_WAITGROUP ? gr->wg_len
							   : 4;
	if (len >= 4 && len <= sizeof b && gr_mem(gr, l->addr, b, len)) {
		if (l->kind == GORUNTIME_LOCK_MUTEX) {
			l->state = (uint32_t)gr_field(b, len, L->mutex_state, 4);
			l->sema = (uint32_t)gr_field(b, len, L->mutex_sema, 4);
			l->locked = l->state & 1;
		} else if (l->kind == GORUNTIME_LOCK_RWMUTEX) {
			l->state = (uint32_t)gr_field(b, len, (int64_t)L->rw_w + L->mutex_state, 4);
			l->sema = (uint32_t)gr_field(b, len, (int64_t)L->rw_w + L->mutex_sema, 4);
			l->readers = (int32_t)(uint32_t)gr_field(b, len, L->rw_reader_count, 4);
			l->locked = (l->state & 1) || l->readers != 0;
		} else {
			l->sema = (uint32_t)gr_le(b + len - 4, 4);
		}
	}
	uint64_t off = 0;
	const char *name = symbols_symbol_at(gr->sym, l->addr, &off);
	if (name && off) {
		char *s = xasprintf("%s+%" PRIu64, name, off);
		l->symbol = strtab_intern(&gr->strs, s);
		free(s);
	} else {
		l->symbol = name ? strtab_intern(&gr->strs, name) : NULL;
	}
}

/* Attach semtable waiters to goroutines and build the lock table. */
static size_t gr_locks_build(struct goruntime *gr, size_t n)
{
	size_t cap = gr_slots_prepare(gr, n);
	gr_gindex_build(gr, n, cap);
	for (size_t i = 0; i < gr->nsemrecs; i++) {
		const struct gr_semrec *s = &gr->semrecs[i];
		uint32_t k = gr_gindex_find(gr, cap, s->gaddr);
		if (k == UINT32_MAX)
			continue;
		struct goruntime_goroutine *g = &gr->gs[k];
		/* Kept only when the goroutine itself is asleep on a semaphore: a stale sudog
		 * (reused for a channel, or already woken) is dropped. */
		if (g->status != GORUNTIME_WAITING || g->sema || (g->flags & GORUNTIME_G_TORN) ||
		    g->wait_code >= gr->nwait_names || !gr->wait_is_sema[g->wait_code])
			continue;
		g->sema = s->elem;
		g->sudog = s->sudog;
		g->queue_pos = s->pos;
	}
	size_t nl = 0;
	uint64_t *base = xmalloc((n ? n : 1) * sizeof *base);
	for (size_t i = 0; i < n; i++) {
		struct goruntime_goroutine *g = &gr->gs[i];
		if (g->status == GORUNTIME_WAITING && !(g->flags & GORUNTIME_G_TORN) &&
		    g->wait_code < gr->nwait_names && gr->wait_is_sema[g->wait_code] && !g->sema &&
		    gr->L.semtab_count)
			g->flags |= GORUNTIME_G_LOCK_UNKNOWN;
		if (!g->sema)
			continue;
		bool read;
		enum goruntime_lock_kind kind = gr_sema_kind(gr, g, &base[i], &read);
		g->lock_read = read;
		util_grow((void **)&gr->locks, &gr->locks_cap, nl + 1, sizeof *gr->locks);
		gr->locks[nl++] = (struct goruntime_lock){ .addr = base[i], .kind = kind };
	}
	if (nl)
		qsort(gr->locks, nl, sizeof *gr->locks, gr_lock_cmp);
	size_t u = 0;
	for (size_t i = 0; i < nl; i++)
		if (u == 0 || gr->locks[u - 1].addr != gr->locks[i].addr)
			gr->locks[u++] = gr->locks[i];
	for (size_t i = 0; i < u; i++)
		gr_lock_fill(gr, &gr->locks[i]);
	for (size_t i = 0; i < n; i++) {
		struct goruntime_goroutine *g = &gr->gs[i];
		if (!g->sema)
			continue;
		g->lock = gr_lock_find(gr, u, base[i]);
		if (g->lock != UINT32_MAX)
			gr->locks[g->lock].nwaiters++;
	}
	free(base);
	return u;
}

/* ---- wait durations across scans ---- */

static uint64_t gr_wait_sig(const struct goruntime_goroutine *g, const struct gr_raw *r)
{
	bool sys = g->status == GORUNTIME_SYSCALL;
	uint64_t pc = sys ? r->syscallpc : r->sched_pc;
	uint64_t depth = r->stack_hi - (sys ? r->syscallsp : r->sched_sp);
	uint64_t h = util_hash64((uint64_t)g->id);
	h = util_hash64(h ^ ((uint64_t)g->status << 8 | r->waitreason));
	h = util_hash64(h ^ pc);
	h = util_hash64(h ^ depth);
	h = util_hash64(h ^ g->sema);
	return h ? h : 1;
}

static struct gr_wait *gr_wait_slot(struct gr_wait *t, size_t cap, uint64_t gaddr)
{
	size_t h = util_hash64(gaddr) & (cap - 1);
	while (t[h].gaddr && t[h].gaddr != gaddr)
		h = (h + 1) & (cap - 1);
	return &t[h];
}

static void gr_waits_update(struct goruntime *gr, size_t n, uint64_t now)
{
	size_t cap = gr_table_cap(n);
	if (cap > gr->waits_new_cap) {
		free(gr->waits_new);
		gr->waits_new = xcalloc(cap, sizeof *gr->waits_new);
		gr->waits_new_cap = cap;
	} else {
		cap = gr->waits_new_cap;
		memset(gr->waits_new, 0, cap * sizeof *gr->waits_new);
	}
	for (size_t i = 0; i < n; i++) {
		struct goruntime_goroutine *g = &gr->gs[i];
		const struct gr_raw *r = &gr->raws[i];
		struct gr_wait *old = gr->waits ? gr_wait_slot(gr->waits, gr->waits_cap, g->gaddr) : NULL;
		if (old && !old->gaddr)
			old = NULL;
		if (g->flags & GORUNTIME_G_TORN) {
			if (old)
				*gr_wait_slot(gr->waits_new, cap, g->gaddr) = *old;
			continue;
		}
		if (g->status != GORUNTIME_WAITING && g->status != GORUNTIME_SYSCALL)
			continue;
		struct gr_wait w = { g->gaddr, gr_wait_sig(g, r), now, r->waitsince };
		if (old && old->sig == w.sig && (old->waitsince == 0 || old->waitsince == r->waitsince))
			w.since_ns = old->since_ns;
		*gr_wait_slot(gr->waits_new, cap, g->gaddr) = w;
		double s = (double)(now - w.since_ns) / 1e9;
		/* g.waitsince (set by the GC, cleared when the goroutine runs) is Go's nanotime():
		 * CLOCK_MONOTONIC, the clock of util_now_ns(). */
		if (r->waitsince > 0 && (uint64_t)r->waitsince < now) {
			double gc = (double)(now - (uint64_t)r->waitsince) / 1e9;
			if (gc > s && gc < 10 * 365 * 86400.0)
				s = gc;
		}
		g->wait_s = s;
	}
	struct gr_wait *t = gr->waits;
	gr->waits = gr->waits_new;
	gr->waits_new = t;
	size_t c = gr->waits_cap;
	gr->waits_cap = cap;
	gr->waits_new_cap = c;
}

/* ---- groups ---- */

static uint64_t gr_group_hash(const struct goruntime_goroutine *g)
{
	uint64_t h = util_hash64((uint64_t)g->status << 32 | (g->flags & (GORUNTIME_G_TORN | GORUNTIME_G_NOSTACK)));
	h = util_hash64(h ^ (uint64_t)(uintptr_t)g->wait_reason);
	return util_hash_bytes(g->pcs, (size_t)g->nframes * sizeof *g->pcs, h);
}

static bool gr_group_same(const struct goruntime_goroutine *a, const struct goruntime_goroutine *b)
{
	return a->status == b->status && a->wait_reason == b->wait_reason && a->nframes == b->nframes &&
	       (a->flags & (GORUNTIME_G_TORN | GORUNTIME_G_NOSTACK)) ==
		       (b->flags & (GORUNTIME_G_TORN | GORUNTIME_G_NOSTACK)) &&
	       (a->nframes == 0 || memcmp(a->pcs, b->pcs, a->nframes * sizeof *a->pcs) == 0);
}

static int gr_group_cmp(const void *a, const void *b, void *arg)
{
	const struct goruntime_group *x = a, *y = b;
	const struct goruntime_goroutine *gs = arg;
	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	int64_t ix = gs[x->members[0]].id, iy = gs[y->members[0]].id;
	return ix < iy ? -1 : ix > iy;
}

static void gr_groups_build(struct goruntime *gr, size_t n)
{
	size_t cap = gr_slots_prepare(gr, n);
	uint32_t *gid = xmalloc((n ? n : 1) * sizeof *gid);
	uint32_t *rep = xmalloc((n ? n : 1) * sizeof *rep); /* a member standing for the key */
	size_t ng = 0;
	for (size_t i = 0; i < n; i++) {
		const struct goruntime_goroutine *g = &gr->gs[i];
		size_t h = gr_group_hash(g) & (cap - 1);
		uint32_t k;
		for (;;) {
			k = gr->slots[h];
			if (k == UINT32_MAX) {
				util_grow((void **)&gr->groups, &gr->groups_cap, ng + 1, sizeof *gr->groups);
				k = (uint32_t)ng++;
				gr->groups[k] = (struct goruntime_group){ .count = 0, .max_wait_s = -1,
									  .system = true };
				rep[k] = (uint32_t)i;
				gr->slots[h] = k;
				break;
			}
			if (gr_group_same(&gr->gs[rep[k]], g))
				break;
			h = (h + 1) & (cap - 1);
		}
		gid[i] = k;
		struct goruntime_group *grp = &gr->groups[k];
		grp->count++;
		if (g->wait_s > grp->max_wait_s)
			grp->max_wait_s = g->wait_s;
		if (!g->system)
			grp->system = false;
	}
	util_grow((void **)&gr->members, &gr->members_cap, n + 1, sizeof *gr->members);
	size_t at = 0;
	for (size_t k = 0; k < ng; k++) {
		rep[k] = (uint32_t)at; /* now: where the group's members start */
		gr->groups[k].members = gr->members + at;
		at += gr->groups[k].count;
	}
	for (size_t i = 0; i < n; i++)
		gr->members[rep[gid[i]]++] = (uint32_t)i;
	free(rep);
	free(gid);
	if (ng > 1)
		qsort_r(gr->groups, ng, sizeof *gr->groups, gr_group_cmp, gr->gs);
	gr->snap.groups = gr->groups;
	gr->snap.ngroups = ng;
}

static int gr_g_cmp(const void *a, const void *b)
{
	const struct goruntime_goroutine *x = a, *y = b;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* ---- scan ---- */

const struct goruntime_snapshot *goruntime_scan(struct goruntime *gr, char **cause)
{
	if (cause)
		*cause = NULL;
	tracee_pending_flush();
	uint64_t t0 = util_now_ns();
	struct goruntime_snapshot *s = &gr->snap;
	memset(s, 0, sizeof *s);
	s->time_ns = t0;
	long total = gr_allgs(gr, cause);
	if (total < 0)
		return NULL;
	bool fing = gr_fing_running(gr);
	gr_gs_reserve(gr, (size_t)total + 1);
	gr->npcs = 0;
	size_t n = 0;
	for (long i = 0; i < total; i++) {
		uint64_t gaddr = gr->gptrs[i];
		if (!gaddr || (gaddr & 7))
			continue;
		size_t mark = gr->npcs;
		enum gr_read_result res = gr_read_one(gr, gaddr, &gr->gs[n], &gr->raws[n]);
		if (res == GR_DEAD)
			s->counts.dead++;
		if (res != GR_LIVE)
			continue;
		gr->pc_off[n] = (uint32_t)mark;
		n++;
	}
	gr_running_stacks(gr, n);
	for (size_t i = 0; i < n; i++) {
		struct goruntime_goroutine *g = &gr->gs[i];
		g->pcs = g->nframes ? gr->pcs + gr->pc_off[i] : NULL;
		if (g->nframes)
			g->flags &= ~(uint32_t)GORUNTIME_G_NOSTACK;
		g->system = gr_system(gr, g->startpc, fing);
	}
	gr_sema_walk(gr, n);
	size_t nl = gr_locks_build(gr, n);
	gr_waits_update(gr, n, t0);
	/* Sort by id; raws are not needed any more (they stay in scan order). */
	qsort(gr->gs, n, sizeof *gr->gs, gr_g_cmp);
	for (size_t i = 0; i < n; i++) {
		const struct goruntime_goroutine *g = &gr->gs[i];
		s->counts.live++;
		if (g->system)
			s->counts.system++;
		else
			s->counts.user++;
		if (g->flags & GORUNTIME_G_TORN)
			s->counts.torn++;
		if (g->flags & GORUNTIME_G_NOSTACK)
			s->counts.nostack++;
		s->counts.by_status[g->status]++;
	}
	s->gen = ++gr->gen;
	s->n = n;
	s->g = gr->gs;
	s->nlocks = nl;
	s->locks = gr->locks;
	gr_groups_build(gr, n);
	s->read_ns = util_now_ns() - t0;
	return s;
}

int goruntime_count(struct goruntime *gr, struct goruntime_counts *c, char **cause)
{
	memset(c, 0, sizeof *c);
	long total = gr_allgs(gr, cause);
	if (total < 0)
		return -1;
	bool fing = gr_fing_running(gr);
	for (long i = 0; i < total; i++) {
		struct gr_raw r;
		if (!gr->gptrs[i] || !gr_read_g(gr, gr->gptrs[i], gr->gbuf, &r))
			continue;
		enum goruntime_status st = gr_status(r.status);
		if (st == GORUNTIME_DEAD || st == GORUNTIME_IDLE) {
			c->dead++;
			continue;
		}
		c->live++;
		c->by_status[st]++;
		if (gr_system(gr, r.startpc, fing))
			c->system++;
		else
			c->user++;
	}
	return 0;
}

const struct goruntime_goroutine *goruntime_snapshot_find(const struct goruntime_snapshot *snap,
							 int64_t id)
{
	size_t lo = util_lower_i64(snap->g, snap->n, UTIL_FIELD(snap->g, id), id);
	return lo < snap->n && snap->g[lo].id == id ? &snap->g[lo] : NULL;
}

/* The target's GOROOT/src/ ("/usr/lib/go-1.19/src/"), from the file of runtime.main; "" when
 * the paths are trimmed (-trimpath). */
static const char *gr_goroot_src(struct goruntime *gr)
{
	if (gr->goroot_src)
		return gr->goroot_src;
	gr->goroot_src = "";
	uint64_t a = 0;
	if (symbols_find_symbol(gr->sym, "runtime.main", &a, NULL) != 0)
		return gr->goroot_src;
	const struct sym_loc *loc = symbols_lookup(gr->sym, a);
	const char *file = loc->lines[loc->nlines - 1].file;
	const char *at = strstr(file, "/src/runtime/");
	if (at) {
		char *p = xstrndup(file, (size_t)(at - file) + 5);
		gr->goroot_src = strtab_intern(&gr->strs, p);
		free(p);
	}
	return gr->goroot_src;
}

/* First line (innermost first) that passes: pass 0 wants the user's own code (not under
 * GOROOT), pass 1 anything outside the runtime, sync and internal/ packages. */
const struct sym_line *goruntime_wait_frame(struct goruntime *gr, const struct goruntime_goroutine *g)
{
	const char *goroot = gr_goroot_src(gr);
	for (int pass = goroot[0] ? 0 : 1; pass < 2; pass++) {
		for (uint32_t i = 0; i < g->nframes; i++) {
			const struct sym_loc *loc = symbols_lookup(gr->sym, g->pcs[i]);
			for (uint32_t j = 0; j < loc->nlines; j++) {
				const char *n = gr_line_name(gr, &loc->lines[j]);
				if (!n[0] || has_prefix(n, "runtime.") || has_prefix(n, "sync.") ||
				    has_prefix(n, "internal/"))
					continue;
				if (pass == 0 && has_prefix(loc->lines[j].file, goroot))
					continue;
				return &loc->lines[j];
			}
		}
	}
	return NULL;
}

/* ---- code references (probable lock holders) ---- */

static int gr_func_cmp(const void *a, const void *b)
{
	const struct gr_func *x = a, *y = b;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static int gr_u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* The methods of sync.Mutex and sync.RWMutex (Lock, lockSlow, Unlock, RLock, ...). */
static bool gr_is_lock_method(const char *n)
{
	return has_prefix(n, "sync.(*Mutex).") || has_prefix(n, "sync.(*RWMutex).") ||
	       has_prefix(n, "internal/sync.(*Mutex).");
}

/* The sized function symbols of the main module, sorted, and the entries of the lock methods. */
static void gr_funcs_load(struct goruntime *gr)
{
	gr->funcs_loaded = true;
	uint64_t bias = 0;
	Elf *elf = symbols_module_elf(gr->sym, symbols_main_module(gr->sym), &bias);
	if (!elf)
		return;
	size_t cap = 0, lcap = 0;
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB || !sh.sh_entsize)
			continue;
		Elf_Data *d = elf_getdata(scn, NULL);
		size_t count = d ? sh.sh_size / sh.sh_entsize : 0;
		for (size_t i = 0; i < count; i++) {
			GElf_Sym s;
			if (!gelf_getsym(d, (int)i, &s) || GELF_ST_TYPE(s.st_info) != STT_FUNC ||
			    s.st_size == 0 || s.st_size > (1u << 24))
				continue;
			util_grow((void **)&gr->funcs, &cap, gr->nfuncs + 1, sizeof *gr->funcs);
			gr->funcs[gr->nfuncs++] = (struct gr_func){ .lo = s.st_value + bias,
								    .hi = s.st_value + bias + s.st_size };
			const char *n = elf_strptr(elf, sh.sh_link, s.st_name);
			if (n && gr_is_lock_method(n)) {
				util_grow((void **)&gr->lockfns, &lcap, gr->nlockfns + 1,
					  sizeof *gr->lockfns);
				gr->lockfns[gr->nlockfns++] = s.st_value + bias;
			}
		}
	}
	if (gr->nfuncs)
		qsort(gr->funcs, gr->nfuncs, sizeof *gr->funcs, gr_func_cmp);
	if (gr->nlockfns)
		qsort(gr->lockfns, gr->nlockfns, sizeof *gr->lockfns, gr_u64_cmp);
}

static struct gr_func *gr_func_at(struct goruntime *gr, uint64_t pc)
{
	size_t lo = util_upper_u64(gr->funcs, gr->nfuncs, UTIL_FIELD(gr->funcs, lo), pc);
	if (lo == 0 || pc >= gr->funcs[lo - 1].hi)
		return NULL;
	return &gr->funcs[lo - 1];
}

/* Does the code right after offset at (a few instructions) lock or unlock: a LOCK CMPXCHG or
 * LOCK XADD (the inlined fast paths of Mutex.Lock, RWMutex.RLock/RUnlock) or a call of a
 * Mutex/RWMutex method? */
static bool gr_locks_near(const struct goruntime *gr, uint64_t lo, const uint8_t *code, size_t len,
			  size_t at)
{
	size_t end = at + 32 < len ? at + 32 : len;
	for (size_t j = at; j + 3 <= end; j++) {
		/* LOCK [REX] 0F B1 (CMPXCHG: Mutex.Lock) or 0F C1 (XADD: RWMutex.RLock) */
		size_t k = j + 1;
		if (code[j] == 0xf0 && k < end && (code[k] & 0xf0) == 0x40)
			k++;
		if (code[j] == 0xf0 && k + 2 <= end && code[k] == 0x0f &&
		    (code[k + 1] == 0xb1 || code[k + 1] == 0xc1))
			return true;
		if (code[j] == 0xe8 && j + 5 <= len) {
			int32_t rel = (int32_t)(uint32_t)gr_le(code + j + 1, 4);
			uint64_t t = lo + j + 5 + (uint64_t)(int64_t)rel;
			if (bsearch(&t, gr->lockfns, gr->nlockfns, sizeof *gr->lockfns, gr_u64_cmp))
				return true;
		}
	}
	return false;
}

/* Every RIP-relative operand of the function that lands in writable data: at each byte offset
 * i, a disp32 ending the instruction gives target = lo + i + 4 + disp32 (LEAQ main.ledger(SB)
 * ends with it).  Offsets that are not operands give random targets; only exact lock addresses
 * are asked for.  A reference followed by locking code goes to the strong list too. */
static void gr_func_scan(struct goruntime *gr, struct gr_func *f)
{
	f->scanned = true;
	size_t len = (size_t)(f->hi - f->lo);
	uint8_t *code = xmalloc(len);
	if (len < 4 || !gr_mem(gr, f->lo, code, len)) {
		free(code);
		return;
	}
	uint64_t *refs = NULL, *strong = NULL;
	size_t nrefs = 0, cap = 0, nstrong = 0, scap = 0;
	for (size_t i = 0; i + 4 <= len; i++) {
		int32_t disp = (int32_t)(uint32_t)gr_le(code + i, 4);
		uint64_t target = f->lo + i + 4 + (uint64_t)(int64_t)disp;
		if (target < gr->data_lo || target >= gr->data_hi)
			continue;
		util_grow((void **)&refs, &cap, nrefs + 1, sizeof *refs);
		refs[nrefs++] = target;
		if (gr_locks_near(gr, f->lo, code, len, i + 4)) {
			util_grow((void **)&strong, &scap, nstrong + 1, sizeof *strong);
			strong[nstrong++] = target;
		}
	}
	free(code);
	if (nrefs) {
		qsort(refs, nrefs, sizeof *refs, gr_u64_cmp);
		uint64_t *keep = arena_alloc(&gr->arena, nrefs * sizeof *keep);
		memcpy(keep, refs, nrefs * sizeof *keep);
		f->refs = keep;
		f->nrefs = (uint32_t)nrefs;
	}
	if (nstrong) {
		qsort(strong, nstrong, sizeof *strong, gr_u64_cmp);
		uint64_t *keep = arena_alloc(&gr->arena, nstrong * sizeof *keep);
		memcpy(keep, strong, nstrong * sizeof *keep);
		f->strong = keep;
		f->nstrong = (uint32_t)nstrong;
	}
	free(refs);
	free(strong);
}

/* Is some element of the sorted t[0..n) in [lo, hi)? */
static bool gr_any_in(const uint64_t *t, uint32_t n, uint64_t lo, uint64_t hi)
{
	size_t a = 0, b = n;
	while (a < b) {
		size_t mid = a + (b - a) / 2;
		if (t[mid] < lo)
			a = mid + 1;
		else
			b = mid;
	}
	return a < n && t[a] < hi;
}

int goruntime_code_refers(void *arg, uint64_t pc, uint64_t lo, uint64_t hi)
{
	struct goruntime *gr = arg;
	if (!gr->funcs_loaded)
		gr_funcs_load(gr);
	if (hi <= lo || hi <= gr->data_lo || lo >= gr->data_hi)
		return 0;
	struct gr_func *f = gr_func_at(gr, pc);
	if (!f)
		return 0;
	if (!f->scanned)
		gr_func_scan(gr, f);
	if (gr_any_in(f->strong, f->nstrong, lo, hi))
		return 2;
	return gr_any_in(f->refs, f->nrefs, lo, hi) ? 1 : 0;
}
