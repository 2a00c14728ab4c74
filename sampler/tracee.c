/* tracee: registers of stopped threads, and late stops released wherever they arrive. */
#include "tracee.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>

#include "util.h"

void tracee_regs_from_user(const struct user_regs_struct *ur, struct unwind_regs *regs)
{
	memset(regs, 0, sizeof *regs);
	regs->valid = UNWIND_PERF_REGS_MASK;
	regs->r[UNWIND_AX] = ur->rax;
	regs->r[UNWIND_BX] = ur->rbx;
	regs->r[UNWIND_CX] = ur->rcx;
	regs->r[UNWIND_DX] = ur->rdx;
	regs->r[UNWIND_SI] = ur->rsi;
	regs->r[UNWIND_DI] = ur->rdi;
	regs->r[UNWIND_BP] = ur->rbp;
	regs->r[UNWIND_SP] = ur->rsp;
	regs->r[UNWIND_IP] = ur->rip;
	regs->r[UNWIND_FLAGS] = ur->eflags;
	regs->r[UNWIND_R8] = ur->r8;
	regs->r[UNWIND_R9] = ur->r9;
	regs->r[UNWIND_R10] = ur->r10;
	regs->r[UNWIND_R11] = ur->r11;
	regs->r[UNWIND_R12] = ur->r12;
	regs->r[UNWIND_R13] = ur->r13;
	regs->r[UNWIND_R14] = ur->r14;
	regs->r[UNWIND_R15] = ur->r15;
}

static pid_t *pending;
static size_t npending, cappending;

void tracee_pending_add(pid_t tid)
{
	for (size_t i = 0; i < npending; i++)
		if (pending[i] == tid)
			return;
	util_grow((void **)&pending, &cappending, npending + 1, sizeof *pending);
	pending[npending++] = tid;
}

static void release(pid_t tid, int status)
{
	/* Stopped: detach, handing back a signal that was on its way; a group stop stays a stop
	 * after detach, as whoever stopped it wants.  Exited: nothing to do. */
	if (WIFSTOPPED(status)) {
		int sig = (status >> 16) == 0 ? WSTOPSIG(status) : 0;
		ptrace(PTRACE_DETACH, tid, 0, (void *)(intptr_t)sig);
	}
}

void tracee_release(pid_t tid, int status)
{
	release(tid, status);
	for (size_t i = 0; i < npending; i++)
		if (pending[i] == tid) {
			pending[i] = pending[--npending];
			break;
		}
}

void tracee_pending_flush(void)
{
	size_t j = 0;
	for (size_t i = 0; i < npending; i++) {
		int status;
		pid_t r = waitpid(pending[i], &status, __WALL | WNOHANG);
		if (r == 0 || (r < 0 && errno == EINTR)) {
			pending[j++] = pending[i];
			continue;
		}
		if (r > 0)
			release(pending[i], status); /* else not ours any more (ECHILD): drop */
	}
	npending = j;
	if (!npending) {
		free(pending);
		pending = NULL;
		cappending = 0;
	}
}

void tracee_pending_drain(uint64_t limit_ns)
{
	uint64_t deadline = util_now_ns() + limit_ns;
	for (;;) {
		tracee_pending_flush();
		if (!npending || util_now_ns() >= deadline)
			break;
		struct timespec ts = { 0, 200000 };
		nanosleep(&ts, NULL);
	}
	/* What never stopped is released by the kernel when proftop exits. */
}
