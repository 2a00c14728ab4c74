/*
 * unwind: turn one thread's registers plus its stack memory into a list of return addresses,
 * using libunwind's remote API with our own accessors (no ptrace peeks, no stop of the target).
 *
 * Used by three callers:
 *   - perf --call-graph dwarf: registers and a copy of the user stack taken by the kernel;
 *   - ptrace mode: registers from PTRACE_GETREGS, stack read in bulk with process_vm_readv;
 *   - idle sampling: sp and pc from /proc/PID/task/TID/syscall, stack read with process_vm_readv.
 *
 * How memory is found, in order: the stack copy when the address falls inside it; the cached
 * image of the mapped ELF file (read-only sections such as .eh_frame never change); else a
 * process_vm_readv() of the live target.  find_proc_info locates the module's .eh_frame_hdr
 * (binary search table) and hands it to libunwind; modules without one (Go binaries) and frames
 * where CFI is missing fall back to the frame-pointer chain (rbp).
 *
 * The unwinder caches the target's executable mappings and per-module unwind tables; it rereads
 * /proc/PID/maps (at most once per 100 ms) when a pc falls outside every known mapping, and
 * after unwinder_maps_changed().  Not thread-safe; one per target process.
 */
#ifndef PROFTOP_UNWIND_H
#define PROFTOP_UNWIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* x86-64 registers in perf's numbering (asm/perf_regs.h: PERF_REG_X86_*). */
enum unwind_reg {
	UNWIND_AX, UNWIND_BX, UNWIND_CX, UNWIND_DX, UNWIND_SI, UNWIND_DI, UNWIND_BP, UNWIND_SP,
	UNWIND_IP, UNWIND_FLAGS, UNWIND_CS, UNWIND_SS, UNWIND_DS, UNWIND_ES, UNWIND_FS, UNWIND_GS,
	UNWIND_R8, UNWIND_R9, UNWIND_R10, UNWIND_R11, UNWIND_R12, UNWIND_R13, UNWIND_R14, UNWIND_R15,
	UNWIND_NREGS
};

/* The perf sample_regs_user mask that captures every register above except the segment ones. */
#define UNWIND_PERF_REGS_MASK 0xff01ffULL

struct unwind_regs {
	uint64_t r[UNWIND_NREGS];
	uint64_t valid; /* bit i set when r[i] is known; IP and SP are required */
};

struct unwinder;

struct unwinder *unwinder_new(pid_t pid);
/* NULL is a no-op. */
void unwinder_free(struct unwinder *u);
/* Reread /proc/PID/maps at the next unwind (e.g. after the target dlopen()ed). */
void unwinder_maps_changed(struct unwinder *u);

/*
 * Unwind one thread.  stack is a copy of target memory [stack_addr, stack_addr + stack_len)
 * (normally stack_addr == regs SP), or NULL to read the live thread's stack with
 * process_vm_readv (from SP up to 64 KiB or the end of its mapping).
 * Writes at most max pcs: pcs[0] is the IP, pcs[i > 0] are return addresses, outermost last.
 * Returns the number written (>= 1 when IP is valid, 0 otherwise).  *truncated (optional) is
 * set when unwinding stopped for a reason other than reaching the outermost frame.
 */
int unwinder_unwind(struct unwinder *u, const struct unwind_regs *regs, const void *stack,
		    size_t stack_len, uint64_t stack_addr, uint64_t *pcs, int max, bool *truncated);

/* Counters for benchmarks and -v logs. */
struct unwind_stats {
	uint64_t unwinds, frames, fp_fallbacks, mem_reads, maps_reloads;
};
const struct unwind_stats *unwinder_stats(const struct unwinder *u);

#endif
