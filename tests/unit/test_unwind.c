/*
 * test_unwind: unwind real children of this test through sampler/unwind.c.
 *
 * The child runs a chain of noinline functions built without frame pointers (so only DWARF CFI
 * can unwind them), ending in a blocking read() or a CPU loop.  Its stack is unwound:
 *   1. idle: sp and pc from /proc/CHILD/task/CHILD/syscall, stack read live (stack == NULL);
 *   2. ptrace: PTRACE_SEIZE + PTRACE_INTERRUPT + PTRACE_GETREGS, stack live and copied (as perf
 *      copies it), and through frames without unwind info (a hand-written assembly trampoline in
 *      the binary, and the same code copied into an anonymous executable page, like JIT code),
 *      which need the frame-pointer fallback;
 *   3. the time per warm unwind.
 * Return addresses are checked against the functions' extents from this binary's .symtab (the
 * child is a fork, so addresses are the same).  Prints "ok ..." / "FAIL ..." lines.
 */
#include "unwind.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

/* Built without a frame pointer whatever the command line says (the sanitize build adds
 * -fno-omit-frame-pointer); noclone keeps the symbol names and extents exact. */
#define TEST_NOFP __attribute__((noinline, noclone, optimize("omit-frame-pointer")))

enum test_mode { MODE_BLOCK, MODE_SPIN };
enum test_variant { VARIANT_PURE, VARIANT_FPLEAF, VARIANT_ASM, VARIANT_ANON, VARIANT_COUNT };
static const char *const variant_names[] = { "dwarf only", "leaf with frame pointer",
					     "asm frame without CFI",
					     "anonymous exec page (JIT-like)" };

static int failures;
static volatile int g_mode;
static volatile int g_variant;
static volatile int g_stop;
static volatile unsigned long g_sink;
static int g_ready_w = -1, g_block_r = -1;

/* A frame-pointer trampoline without any CFI: calls fn(x) under a push %rbp / mov %rsp,%rbp
 * frame.  Its bytes are also copied to an anonymous executable page. */
long test_unwind_fp_tramp(long (*fn)(long), long x);
__asm__(".text\n"
	".globl test_unwind_fp_tramp\n"
	".type test_unwind_fp_tramp,@function\n"
	"test_unwind_fp_tramp:\n"
	"\tpush %rbp\n"
	"\tmov %rsp,%rbp\n"
	"\tmov %rdi,%rax\n"
	"\tmov %rsi,%rdi\n"
	"\tcall *%rax\n"
	"\tpop %rbp\n"
	"\tret\n"
	".size test_unwind_fp_tramp,.-test_unwind_fp_tramp\n");
static const uint8_t tramp_code[] = {
	0x55,             /* push %rbp */
	0x48, 0x89, 0xe5, /* mov %rsp,%rbp */
	0x48, 0x89, 0xf8, /* mov %rdi,%rax */
	0x48, 0x89, 0xf7, /* mov %rsi,%rdi */
	0xff, 0xd0,       /* call *%rax */
	0x5d,             /* pop %rbp */
	0xc3,             /* ret */
};
static long (*volatile g_tramp)(long (*)(long), long);
static uint8_t *g_anon; /* page holding tramp_code */

static void ok(const char *what)
{
	printf("ok %s\n", what);
}

static void fail(const char *what)
{
	printf("FAIL %s\n", what);
	failures++;
}

/* ---- the child's call chain ---------------------------------------------------------------- */

TEST_NOFP static long chain_leaf(long x)
{
	volatile char pad[24];
	pad[0] = (char)x;
	char c = 'r';
	if (write(g_ready_w, &c, 1) != 1)
		_exit(3);
	if (g_mode == MODE_BLOCK) {
		char b;
		ssize_t r = read(g_block_r, &b, 1); /* never written: blocks until killed */
		return x + r + pad[0];
	}
	while (!g_stop)
		g_sink++;
	return x + pad[0];
}

/* The same leaf built with a frame pointer: its CFA is rbp-based, so unwinding it from sp and
 * pc alone (idle sampling) needs the frame-pointer search. */
__attribute__((noinline, noclone, optimize("no-omit-frame-pointer"))) static long
chain_leaf_fp(long x)
{
	volatile char pad[24];
	pad[0] = (char)x;
	char c = 'r';
	if (write(g_ready_w, &c, 1) != 1)
		_exit(3);
	if (g_mode == MODE_BLOCK) {
		char b;
		ssize_t r = read(g_block_r, &b, 1);
		return x + r + pad[0];
	}
	while (!g_stop)
		g_sink++;
	return x + pad[0];
}

TEST_NOFP static long chain_h(long x)
{
	volatile char pad[40];
	pad[3] = (char)x;
	long r = g_variant == VARIANT_FPLEAF ? chain_leaf_fp(x + pad[3]) : chain_leaf(x + pad[3]);
	g_sink += (unsigned long)r;
	return r * 3 + 1;
}

TEST_NOFP static long chain_g(long x)
{
	long r = chain_h(x + 1);
	g_sink += (unsigned long)r;
	return r * 5 + 2;
}

TEST_NOFP static long chain_f(long x)
{
	volatile long pad[9];
	pad[8] = x;
	long r = chain_g(pad[8] + 1);
	g_sink += (unsigned long)r;
	return r * 7 + 3;
}

TEST_NOFP static long chain_e(long x)
{
	long r;
	if (g_variant == VARIANT_ASM || g_variant == VARIANT_ANON)
		r = g_tramp(chain_f, x + 1);
	else
		r = chain_f(x + 1);
	g_sink += (unsigned long)r;
	return r * 11 + 4;
}

TEST_NOFP static long chain_d(long x)
{
	volatile char pad[100];
	pad[99] = (char)x;
	long r = chain_e(x + pad[99]);
	g_sink += (unsigned long)r;
	return r * 13 + 5;
}

TEST_NOFP static long chain_c(long x)
{
	long r = chain_d(x + 1);
	g_sink += (unsigned long)r;
	return r * 17 + 6;
}

TEST_NOFP static long chain_b(long x)
{
	long r = chain_c(x + 1);
	g_sink += (unsigned long)r;
	return r * 19 + 7;
}

TEST_NOFP static long chain_a(long x)
{
	long r = chain_b(x + 1);
	g_sink += (unsigned long)r;
	return r * 23 + 8;
}

TEST_NOFP static void child_run(void)
{
	g_sink += (unsigned long)chain_a(1);
	_exit(0);
}

/* ---- symbols of this binary ---------------------------------------------------------------- */

struct test_sym {
	char *name;
	uint64_t lo, hi;
};
static struct test_sym *syms;
static size_t nsyms;

/* Read the function symbols of /proc/self/exe, relocated to where they are. */
static int syms_load(void)
{
	elf_version(EV_CURRENT);
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	Elf *e = elf_begin(fd, ELF_C_READ, NULL);
	size_t cap = 0;
	Elf_Scn *scn = NULL;
	while (e && (scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB || !sh.sh_entsize)
			continue;
		Elf_Data *d = elf_getdata(scn, NULL);
		for (size_t i = 0; d && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym s;
			if (!gelf_getsym(d, (int)i, &s) || GELF_ST_TYPE(s.st_info) != STT_FUNC ||
			    !s.st_value || !s.st_size)
				continue;
			const char *name = elf_strptr(e, sh.sh_link, s.st_name);
			if (!name)
				continue;
			util_grow((void **)&syms, &cap, nsyms + 1, sizeof(*syms));
			syms[nsyms].name = xstrdup(name);
			syms[nsyms].lo = s.st_value;
			syms[nsyms].hi = s.st_value + s.st_size;
			nsyms++;
		}
	}
	if (e)
		elf_end(e);
	close(fd);
	/* PIE: shift by where chain_a really is. */
	uint64_t bias = 0;
	bool found = false;
	for (size_t i = 0; i < nsyms; i++) {
		if (strcmp(syms[i].name, "chain_a") == 0) {
			bias = (uint64_t)(uintptr_t)chain_a - syms[i].lo;
			found = true;
		}
	}
	for (size_t i = 0; i < nsyms; i++) {
		syms[i].lo += bias;
		syms[i].hi += bias;
	}
	return found ? 0 : -1;
}

static void syms_free(void)
{
	for (size_t i = 0; i < nsyms; i++)
		free(syms[i].name);
	free(syms);
}

static const struct test_sym *sym_by_name(const char *name)
{
	for (size_t i = 0; i < nsyms; i++)
		if (strcmp(syms[i].name, name) == 0)
			return &syms[i];
	return NULL;
}

/* Name of the function containing pc, for diagnostics. */
static const char *sym_name(uint64_t pc)
{
	if (g_anon && pc >= (uint64_t)(uintptr_t)g_anon &&
	    pc < (uint64_t)(uintptr_t)g_anon + sizeof(tramp_code))
		return "[anon tramp]";
	for (size_t i = 0; i < nsyms; i++)
		if (pc >= syms[i].lo && pc < syms[i].hi)
			return syms[i].name;
	return "?";
}

/* Whether pc lies in the function called name ("[anon tramp]" for the page). */
static bool pc_in(uint64_t pc, const char *name)
{
	return strcmp(sym_name(pc), name) == 0;
}

static void print_stack(const uint64_t *pcs, int n)
{
	for (int i = 0; i < n; i++)
		printf("#   #%d %#" PRIx64 " %s\n", i, pcs[i], sym_name(pcs[i]));
}

/* The chain must appear in order, leaf first, with nothing in between. */
static bool check_chain(const char *what, const uint64_t *pcs, int n, int variant)
{
	const char *expect[16];
	size_t k = 0;
	const char *leaf = variant == VARIANT_FPLEAF ? "chain_leaf_fp" : "chain_leaf";
	expect[k++] = leaf;
	expect[k++] = "chain_h";
	expect[k++] = "chain_g";
	expect[k++] = "chain_f";
	if (variant == VARIANT_ASM)
		expect[k++] = "test_unwind_fp_tramp";
	else if (variant == VARIANT_ANON)
		expect[k++] = "[anon tramp]";
	expect[k++] = "chain_e";
	expect[k++] = "chain_d";
	expect[k++] = "chain_c";
	expect[k++] = "chain_b";
	expect[k++] = "chain_a";
	expect[k++] = "child_run";
	int start = -1;
	for (int i = 0; i < n && i < 4; i++) {
		if (pc_in(pcs[i], leaf)) {
			start = i;
			break;
		}
	}
	bool good = start >= 0 && (size_t)(n - start) >= k;
	for (size_t j = 0; good && j < k; j++)
		good = pc_in(pcs[(size_t)start + j], expect[j]);
	if (good) {
		ok(what);
		if (getenv("TEST_UNWIND_VERBOSE"))
			print_stack(pcs, n);
	} else {
		fail(what);
		print_stack(pcs, n);
	}
	return good;
}

/* ---- child control ------------------------------------------------------------------------- */

struct test_child {
	pid_t pid;
	int ready_r, block_w;
};

/* Kill and reap the child, close our pipe ends. */
static void child_stop(struct test_child *c)
{
	if (c->pid > 0) {
		kill(c->pid, SIGKILL);
		while (waitpid(c->pid, NULL, __WALL) < 0 && errno == EINTR)
			;
	}
	close(c->ready_r);
	close(c->block_w);
	c->pid = 0;
}

/* Fork a child running the chain; returns once it has reached the leaf. */
static int child_start(struct test_child *c, int mode, int variant)
{
	int ready[2], block[2];
	if (pipe2(ready, O_CLOEXEC) < 0)
		return -1;
	if (pipe2(block, O_CLOEXEC) < 0) {
		close(ready[0]);
		close(ready[1]);
		return -1;
	}
	fflush(stdout);
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		close(ready[0]);
		close(ready[1]);
		close(block[0]);
		close(block[1]);
		return -1;
	}
	if (pid == 0) {
		/* Die with the test, whatever kills it (a spinning orphan would burn a CPU). */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
			_exit(2);
		close(ready[0]);
		close(block[1]);
		g_ready_w = ready[1];
		g_block_r = block[0];
		g_mode = mode;
		g_variant = variant;
		g_tramp = variant == VARIANT_ANON ? (long (*)(long (*)(long), long))(void *)g_anon
						  : test_unwind_fp_tramp;
		child_run();
	}
	close(ready[1]);
	close(block[0]);
	c->pid = pid;
	c->ready_r = ready[0];
	c->block_w = block[1];
	char b;
	struct pollfd pfd = { .fd = c->ready_r, .events = POLLIN };
	if (poll(&pfd, 1, 10000) != 1 || read(c->ready_r, &b, 1) != 1) {
		child_stop(c);
		return -1;
	}
	return 0;
}

/* Read the child's /proc/PID/task/PID/syscall once it is blocked in read(2). */
static int child_syscall_wait(pid_t pid, uint64_t *sp, uint64_t *pc)
{
	char fn[64], buf[512];
	snprintf(fn, sizeof(fn), "/proc/%d/task/%d/syscall", (int)pid, (int)pid);
	/* The child told us it is about to call read(); wait (bounded) until it is inside. */
	for (int tries = 0; tries < 10000; tries++) {
		ssize_t n = util_read_small(fn, buf, sizeof(buf));
		long nr;
		uint64_t a[6];
		if (n > 0 && sscanf(buf, "%ld %" SCNx64 " %" SCNx64 " %" SCNx64 " %" SCNx64
				    " %" SCNx64 " %" SCNx64 " %" SCNx64 " %" SCNx64,
				    &nr, &a[0], &a[1], &a[2], &a[3], &a[4], &a[5], sp, pc) == 9 &&
		    nr == 0 /* read */)
			return 0;
		poll(NULL, 0, 1);
	}
	return -1;
}

static void regs_from_user(const struct user_regs_struct *ur, struct unwind_regs *r)
{
	memset(r, 0, sizeof(*r));
	r->r[UNWIND_AX] = ur->rax;
	r->r[UNWIND_BX] = ur->rbx;
	r->r[UNWIND_CX] = ur->rcx;
	r->r[UNWIND_DX] = ur->rdx;
	r->r[UNWIND_SI] = ur->rsi;
	r->r[UNWIND_DI] = ur->rdi;
	r->r[UNWIND_BP] = ur->rbp;
	r->r[UNWIND_SP] = ur->rsp;
	r->r[UNWIND_IP] = ur->rip;
	r->r[UNWIND_FLAGS] = ur->eflags;
	r->r[UNWIND_CS] = ur->cs;
	r->r[UNWIND_SS] = ur->ss;
	r->r[UNWIND_DS] = ur->ds;
	r->r[UNWIND_ES] = ur->es;
	r->r[UNWIND_FS] = ur->fs;
	r->r[UNWIND_GS] = ur->gs;
	r->r[UNWIND_R8] = ur->r8;
	r->r[UNWIND_R9] = ur->r9;
	r->r[UNWIND_R10] = ur->r10;
	r->r[UNWIND_R11] = ur->r11;
	r->r[UNWIND_R12] = ur->r12;
	r->r[UNWIND_R13] = ur->r13;
	r->r[UNWIND_R14] = ur->r14;
	r->r[UNWIND_R15] = ur->r15;
	r->valid = (1ULL << UNWIND_NREGS) - 1;
}

/* Nanoseconds per warm unwind: the best of 5 batches (the machine may be busy). */
static double time_unwind(struct unwinder *u, const struct unwind_regs *r, const void *stack,
			  size_t len, uint64_t addr, int *frames)
{
	uint64_t pcs[128];
	bool trunc;
	for (int i = 0; i < 1000; i++)
		unwinder_unwind(u, r, stack, len, addr, pcs, 128, &trunc);
	const int iters = 4000;
	uint64_t best = UINT64_MAX;
	int n = 0;
	for (int batch = 0; batch < 5; batch++) {
		uint64_t t0 = util_now_ns();
		for (int i = 0; i < iters; i++)
			n = unwinder_unwind(u, r, stack, len, addr, pcs, 128, &trunc);
		uint64_t t = util_now_ns() - t0;
		if (t < best)
			best = t;
	}
	*frames = n;
	return (double)best / iters;
}

/* ---- the tests ----------------------------------------------------------------------------- */

/* The chain functions must really lack frame pointers, or the test proves nothing. */
static void test_no_frame_pointers(void)
{
	static const char *const names[] = { "chain_leaf", "chain_h", "chain_g", "chain_f",
					     "chain_e",    "chain_d", "chain_c", "chain_b",
					     "chain_a" };
	bool good = true;
	for (size_t i = 0; i < UTIL_ARRAY_LEN(names); i++) {
		const struct test_sym *s = sym_by_name(names[i]);
		if (!s) {
			printf("#   no symbol %s\n", names[i]);
			good = false;
			continue;
		}
		const uint8_t *p = (const uint8_t *)(uintptr_t)s->lo;
		if (p[0] == 0xf3 && p[1] == 0x0f && p[2] == 0x1e && p[3] == 0xfa)
			p += 4; /* endbr64 */
		if (p[0] == 0x55 && p[1] == 0x48 && p[2] == 0x89 && p[3] == 0xe5) {
			printf("#   %s sets up a frame pointer\n", names[i]);
			good = false;
		}
	}
	if (good)
		ok("chain functions are built without frame pointers");
	else
		fail("chain functions are built without frame pointers");
}

/* 1. A blocked thread: sp and pc from /proc, stack read live. */
static void test_idle(int variant)
{
	char what[160];
	const char *vn = variant_names[variant];
	struct test_child c;
	if (child_start(&c, MODE_BLOCK, variant) < 0) {
		fail("idle: start child");
		return;
	}
	uint64_t sp = 0, pc = 0;
	if (child_syscall_wait(c.pid, &sp, &pc) < 0) {
		fail("idle: child blocked in read (/proc/PID/syscall)");
		child_stop(&c);
		return;
	}
	struct unwinder *u = unwinder_new(c.pid);
	struct unwind_regs r = { .valid = 1ULL << UNWIND_IP | 1ULL << UNWIND_SP };
	r.r[UNWIND_IP] = pc;
	r.r[UNWIND_SP] = sp;
	uint64_t pcs[128];
	bool trunc = true;
	int n = unwinder_unwind(u, &r, NULL, 0, 0, pcs, 128, &trunc);
	snprintf(what, sizeof(what), "idle (%s): sp/pc from /proc/PID/syscall, live stack", vn);
	check_chain(what, pcs, n, variant);
	snprintf(what, sizeof(what), "idle (%s): unwinds to _start, not truncated", vn);
	if (!trunc && n > 0 && pc_in(pcs[n - 1], "_start")) {
		ok(what);
	} else {
		fail(what);
		print_stack(pcs, n);
	}

	int frames;
	const struct unwind_stats *s = unwinder_stats(u);
	struct unwind_stats s0 = *s;
	double ns = time_unwind(u, &r, NULL, 0, 0, &frames);
	printf("# idle (%s), sp/pc, live stack: %.2f us per unwind of %d frames "
	       "(%.1f syscall reads per unwind, %" PRIu64 " maps reloads)\n",
	       vn, ns / 1000, frames,
	       (double)(s->mem_reads - s0.mem_reads) / (double)(s->unwinds - s0.unwinds),
	       s->maps_reloads - s0.maps_reloads);

	/* A cap on frames is a truncation. */
	n = unwinder_unwind(u, &r, NULL, 0, 0, pcs, 3, &trunc);
	snprintf(what, sizeof(what), "idle (%s): max frames honoured, reported as truncated", vn);
	if (n == 3 && trunc)
		ok(what);
	else
		fail(what);

	/* After the target is gone: no crash, the ip still comes back. */
	child_stop(&c);
	n = unwinder_unwind(u, &r, NULL, 0, 0, pcs, 128, &trunc);
	snprintf(what, sizeof(what), "idle (%s): vanished target gives the ip only", vn);
	if (n == 1 && pcs[0] == pc && trunc)
		ok(what);
	else
		fail(what);
	unwinder_free(u);
}

/* 2 and 3. A running thread stopped with ptrace, for each variant of the chain. */
static void test_ptrace(int variant)
{
	char what[160];
	struct test_child c;
	if (child_start(&c, MODE_SPIN, variant) < 0) {
		fail("ptrace: start child");
		return;
	}
	int st;
	struct user_regs_struct ur;
	if (ptrace(PTRACE_SEIZE, c.pid, NULL, NULL) < 0 ||
	    ptrace(PTRACE_INTERRUPT, c.pid, NULL, NULL) < 0 ||
	    waitpid(c.pid, &st, __WALL) != c.pid || !WIFSTOPPED(st) ||
	    ptrace(PTRACE_GETREGS, c.pid, NULL, &ur) < 0) {
		snprintf(what, sizeof(what), "ptrace (%s): seize, interrupt, getregs: %s",
			 variant_names[variant], strerror(errno));
		fail(what);
		child_stop(&c);
		return;
	}
	struct unwind_regs r;
	regs_from_user(&ur, &r);
	struct unwinder *u = unwinder_new(c.pid);
	uint64_t pcs[128];
	bool trunc = true;

	int n = unwinder_unwind(u, &r, NULL, 0, 0, pcs, 128, &trunc);
	snprintf(what, sizeof(what), "ptrace (%s): live stack", variant_names[variant]);
	check_chain(what, pcs, n, variant);
	snprintf(what, sizeof(what), "ptrace (%s): reaches _start, not truncated",
		 variant_names[variant]);
	if (!trunc && n > 0 && pc_in(pcs[n - 1], "_start"))
		ok(what);
	else
		fail(what);
	const struct unwind_stats *s = unwinder_stats(u);
	snprintf(what, sizeof(what), "ptrace (%s): frame-pointer fallback %s",
		 variant_names[variant], variant <= VARIANT_FPLEAF ? "not used" : "used");
	if ((s->fp_fallbacks != 0) == (variant > VARIANT_FPLEAF))
		ok(what);
	else
		fail(what);

	/* The perf case: a copy of the stack taken at the sample. */
	static uint8_t copy[16384];
	struct iovec l = { .iov_base = copy, .iov_len = sizeof(copy) };
	struct iovec rv = { .iov_base = (void *)(uintptr_t)ur.rsp, .iov_len = sizeof(copy) };
	ssize_t got = process_vm_readv(c.pid, &l, 1, &rv, 1, 0);
	if (got <= 0) {
		/* At the top of the stack mapping: retry page by page. */
		got = 0;
		for (size_t len = sizeof(copy) - 4096; len >= 4096 && got <= 0; len -= 4096) {
			l.iov_len = rv.iov_len = len;
			got = process_vm_readv(c.pid, &l, 1, &rv, 1, 0);
		}
	}
	uint64_t before = s->mem_reads;
	uint64_t pcs2[128];
	int n2 = unwinder_unwind(u, &r, copy, got > 0 ? (size_t)got : 0, ur.rsp, pcs2, 128, &trunc);
	snprintf(what, sizeof(what), "ptrace (%s): copied stack (%zd bytes)",
		 variant_names[variant], got);
	check_chain(what, pcs2, n2, variant);
	snprintf(what, sizeof(what), "ptrace (%s): copied stack gives the same frames",
		 variant_names[variant]);
	if (n2 == n && memcmp(pcs, pcs2, (size_t)n * sizeof(*pcs)) == 0 && !trunc)
		ok(what);
	else
		fail(what);
	snprintf(what, sizeof(what),
		 "ptrace (%s): warm unwind from a copy reads no live memory (%" PRIu64 ")",
		 variant_names[variant], s->mem_reads - before);
	if (s->mem_reads == before)
		ok(what);
	else
		fail(what);

	int frames;
	double ns = time_unwind(u, &r, copy, got > 0 ? (size_t)got : 0, ur.rsp, &frames);
	printf("# ptrace (%s), copied stack: %.2f us per unwind of %d frames\n",
	       variant_names[variant], ns / 1000, frames);
	ns = time_unwind(u, &r, NULL, 0, 0, &frames);
	printf("# ptrace (%s), live stack: %.2f us per unwind of %d frames\n",
	       variant_names[variant], ns / 1000, frames);

	/* A copy too small for the whole chain: the rest is read live (the header's order). */
	n2 = unwinder_unwind(u, &r, copy, 64, ur.rsp, pcs2, 128, &trunc);
	snprintf(what, sizeof(what), "ptrace (%s): short copy completed from live memory",
		 variant_names[variant]);
	if (n2 == n && memcmp(pcs, pcs2, (size_t)n * sizeof(*pcs)) == 0)
		ok(what);
	else
		fail(what);

	/* A maps reload keeps working (modules reused). */
	uint64_t reloads = s->maps_reloads;
	unwinder_maps_changed(u);
	n2 = unwinder_unwind(u, &r, NULL, 0, 0, pcs2, 128, &trunc);
	snprintf(what, sizeof(what), "ptrace (%s): unwind after unwinder_maps_changed",
		 variant_names[variant]);
	if (s->maps_reloads == reloads + 1 && n2 == n &&
	    memcmp(pcs, pcs2, (size_t)n * sizeof(*pcs)) == 0)
		ok(what);
	else
		fail(what);

	unwinder_free(u);
	if (ptrace(PTRACE_DETACH, c.pid, NULL, NULL) < 0)
		fail("ptrace: detach");
	child_stop(&c);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (syms_load() < 0) {
		fail("read this binary's symbol table");
		return 1;
	}
	g_anon = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g_anon == MAP_FAILED) {
		fail("mmap");
		return 1;
	}
	memcpy(g_anon, tramp_code, sizeof(tramp_code));
	if (mprotect(g_anon, 4096, PROT_READ | PROT_EXEC) < 0) {
		fail("mprotect");
		return 1;
	}

	test_no_frame_pointers();
	for (int v = 0; v < VARIANT_COUNT; v++)
		test_idle(v);
	for (int v = 0; v < VARIANT_COUNT; v++)
		test_ptrace(v);

	unwinder_free(NULL);
	munmap(g_anon, 4096);
	syms_free();
	if (failures) {
		printf("FAIL test_unwind: %d failure(s)\n", failures);
		return 1;
	}
	printf("ok test_unwind\n");
	return 0;
}
