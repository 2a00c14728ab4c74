/*
 * tracee: what every part of proftop that stops a thread alone shares (the threads view, dump,
 * the Go reader): the registers of a ptrace-stopped thread in the unwinder's numbering, and the
 * threads whose stop did not arrive in time.  Such a thread still has our interrupt pending and
 * will enter a ptrace stop later; it must then be detached at once, whoever is running — so the
 * list is process-wide, and the event loop flushes it on every pass (SIGCHLD wakes it when the
 * late stop arrives) and at exit.
 *
 * Not for the ptrace sampler's own seized threads (it keeps them and detaches them itself).
 * Not thread-safe (proftop has one thread).
 */
#ifndef PROFTOP_TRACEE_H
#define PROFTOP_TRACEE_H

#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

#include "unwind.h"

/* The registers of a stopped thread (PTRACE_GETREGS) in the unwinder's numbering. */
void tracee_regs_from_user(const struct user_regs_struct *ur, struct unwind_regs *regs);

/* tid was seized and interrupted, but its stop has not been seen: detach it when it comes. */
void tracee_pending_add(pid_t tid);
/* A wait status of tid that someone else's waitpid(-1) collected: detach it if it is stopped,
 * and forget it.  For threads proftop does not keep traced (anything not the ptrace sampler's). */
void tracee_release(pid_t tid, int status);
/* Detach pending threads whose stop (or exit) has arrived; never blocks. */
void tracee_pending_flush(void);
/* The same, waiting up to limit_ns for the rest (at exit). */
void tracee_pending_drain(uint64_t limit_ns);

#endif
