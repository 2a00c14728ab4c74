/*
 * libFuzzer: the futex decoder against arbitrary target memory.  The input is the syscall
 * record (nr, op, address), the innermost function names to pretend the stack has, and the
 * bytes of "target memory" the decoder may read around the futex word.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "locks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fake {
	const uint8_t *mem;
	size_t len;
	uint64_t base;
};

static ssize_t fake_read(void *arg, uint64_t addr, void *buf, size_t len)
{
	struct fake *f = arg;
	if (addr < f->base || addr - f->base >= f->len)
		return -1;
	size_t off = (size_t)(addr - f->base);
	size_t n = f->len - off < len ? f->len - off : len;
	memcpy(buf, f->mem + off, n);
	return (ssize_t)n;
}

static bool fake_alive(void *arg, pid_t tid)
{
	(void)arg;
	return tid > 0 && tid % 3 != 0;
}

static const char *fake_symbol(void *arg, uint64_t addr, uint64_t *off)
{
	(void)arg;
	*off = addr & 7;
	return (addr & 8) ? "lock_a" : NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = {
		"__pthread_mutex_lock", "__pthread_mutex_lock_full", "__pthread_rwlock_wrlock_full64",
		"__pthread_rwlock_rdlock", "pthread_cond_wait", "__new_sem_wait_slow64",
		"__pthread_clockjoin_ex", "pthread_barrier_wait", "__lll_lock_wait", "main", NULL,
	};
	if (size < 4)
		return 0;
	struct proc_syscall sc;
	memset(&sc, 0, sizeof sc);
	sc.nr = data[0] & 1 ? 202 : (long)data[0];
	sc.args[1] = data[1];
	struct fake f = { .mem = data + 4, .len = size - 4, .base = 0x10000 };
	sc.args[0] = f.base + (data[2] % 64);
	const char *frames[3];
	int nframes = data[3] % 4;
	for (int i = 0; i < nframes; i++)
		frames[i] = names[(data[3] / 4 + i * 5) % (sizeof names / sizeof names[0])];
	struct locks_target t = {
		.arg = &f, .read = fake_read, .alive = fake_alive, .symbol = fake_symbol,
		.glibc = (data[2] & 64) ? "2.36" : "2.35",
	};
	struct lock_wait w;
	locks_decode(&t, 1234, &sc, frames, nframes, &w);
	if (locks_needs_registers(&w)) {
		uint64_t words[8];
		for (int i = 0; i < 8; i++)
			words[i] = f.base + (uint64_t)((data[1] + i * 8) % 64);
		(void)locks_decode_parked(&t, 1234, words, 8, &w);
	}
	struct strbuf sb = { 0 };
	lock_wait_text(&w, "owner", &sb);
	strbuf_done(&sb);
	return 0;
}
