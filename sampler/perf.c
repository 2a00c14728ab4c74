/*
 * perf backend: one PERF_COUNT_SW_CPU_CLOCK event per thread (pid = tid, cpu = -1), each with
 * its own mmap'ed ring buffer (per-task events cannot share one).  Frame-pointer callchains
 * (PERF_SAMPLE_CALLCHAIN) by default; with --call-graph dwarf the kernel copies 8 KiB of user
 * stack and the user registers into each sample and we unwind the copy with libunwind.
 */
#include "sampler.h"

#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "procfs.h"
#include "util.h"

#define STACK_USER_BYTES 8192
#define FP_DATA_PAGES 8     /* 32 KiB per thread: ~100 fp samples between drains */
#define DWARF_DATA_PAGES 64 /* 256 KiB per thread: ~30 dwarf samples; drained at half */

struct perf_thread {
	pid_t tid;
	int fd;
	void *ring;       /* header page + data pages */
	size_t data_size; /* bytes of data pages (power of two) */
	bool dead;        /* thread exited: drain its ring once more, then free */
};

struct perf_priv {
	struct perf_thread *t; /* sorted by tid */
	size_t n, cap;
	size_t page;
	uint8_t *rec;          /* scratch for records that wrap around the ring */
	size_t reccap;
	struct sample smp;
};

static int perf_open_fd(struct sampler *s, pid_t tid)
{
	struct perf_event_attr attr;
	memset(&attr, 0, sizeof attr);
	attr.size = sizeof attr;
	attr.type = PERF_TYPE_SOFTWARE;
	attr.config = PERF_COUNT_SW_CPU_CLOCK;
	attr.freq = 1;
	attr.sample_freq = (uint64_t)s->cfg.rate_hz;
	attr.sample_type = PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_PERIOD;
	if (s->cfg.callgraph == SAMPLER_CG_DWARF) {
		attr.sample_type |= PERF_SAMPLE_REGS_USER | PERF_SAMPLE_STACK_USER;
		attr.sample_regs_user = UNWIND_PERF_REGS_MASK;
		attr.sample_stack_user = STACK_USER_BYTES;
	} else {
		attr.sample_type |= PERF_SAMPLE_CALLCHAIN;
		attr.exclude_callchain_kernel = 1;
		attr.sample_max_stack = SAMPLE_MAX_FRAMES - 1;
	}
	attr.exclude_kernel = 1;
	attr.exclude_hv = 1;
	attr.use_clockid = 1;
	attr.clockid = CLOCK_MONOTONIC;
	attr.watermark = 1;
	return (int)syscall(SYS_perf_event_open, &attr, tid, -1, -1, PERF_FLAG_FD_CLOEXEC);
}

static size_t data_pages(const struct sampler *s)
{
	return s->cfg.callgraph == SAMPLER_CG_DWARF ? DWARF_DATA_PAGES : FP_DATA_PAGES;
}

/* One line saying why the kernel refused, and what would allow it. */
static char *refusal(int err, pid_t tid)
{
	char buf[32] = "?";
	util_read_small("/proc/sys/kernel/perf_event_paranoid", buf, sizeof buf);
	buf[strcspn(buf, "\n")] = '\0';
	switch (err) {
	case EACCES:
	case EPERM:
		return xasprintf("perf_event_open refused (kernel.perf_event_paranoid=%s); "
				 "sysctl kernel.perf_event_paranoid=2 or CAP_PERFMON enables perf mode",
				 buf);
	case ENOENT:
	case EOPNOTSUPP:
	case ENOSYS:
		return xasprintf("this kernel has no cpu-clock perf event (%s)", strerror(err));
	case ESRCH:
		return xasprintf("thread %d vanished", (int)tid);
	case EMFILE:
	case ENFILE:
		return xasprintf("out of file descriptors (%s); raise the limit with ulimit -n",
				 strerror(err));
	default:
		return xasprintf("perf_event_open: %s", strerror(err));
	}
}

/* Start sampling tid; -1 with errno when the kernel refuses. */
static int perf_thread_add(struct sampler *s, struct perf_priv *p, pid_t tid, size_t at)
{
	int fd = perf_open_fd(s, tid);
	if (fd < 0)
		return -1;
	size_t pages = data_pages(s);
	void *ring = MAP_FAILED;
	/* Unprivileged users have a small mlock budget (perf_event_mlock_kb): shrink and retry. */
	while (pages >= 1) {
		ring = mmap(NULL, (pages + 1) * p->page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (ring != MAP_FAILED || errno != EPERM)
			break;
		pages /= 2;
	}
	if (ring == MAP_FAILED) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	util_grow((void **)&p->t, &p->cap, p->n + 1, sizeof *p->t);
	memmove(&p->t[at + 1], &p->t[at], (p->n - at) * sizeof *p->t);
	p->t[at] = (struct perf_thread){
		.tid = tid, .fd = fd, .ring = ring, .data_size = pages * p->page
	};
	p->n++;
	return 0;
}

static void perf_thread_free(struct perf_priv *p, struct perf_thread *t)
{
	munmap(t->ring, t->data_size + p->page);
	close(t->fd);
}

static int perf_open(struct sampler *s, const pid_t *tids, int n, char **cause)
{
	struct perf_priv *p = xcalloc(1, sizeof *p);
	p->page = (size_t)sysconf(_SC_PAGESIZE);
	s->priv = p;
	int added = 0, first_err = 0;
	for (int i = 0; i < n; i++) {
		if (perf_thread_add(s, p, tids[i], p->n) == 0) {
			added++;
		} else if (errno != ESRCH && !first_err) {
			first_err = errno;
			break;
		}
	}
	if (added == 0 || first_err) {
		int e = first_err ? first_err : ESRCH;
		*cause = refusal(e, n ? tids[0] : s->cfg.pid);
		s->ops->close(s);
		s->priv = NULL;
		errno = e;
		return -1;
	}
	return 0;
}

/* Bring the event set in line with the current thread list (both sorted by tid). */
static void perf_sync(struct sampler *s, const pid_t *tids, int n)
{
	struct perf_priv *p = s->priv;
	size_t i = 0;
	int j = 0;
	while (i < p->n || j < n) {
		if (j >= n || (i < p->n && p->t[i].tid < tids[j])) {
			/* Thread gone: its ring stays readable; the next drain empties and frees it. */
			p->t[i++].dead = true;
		} else if (i >= p->n || tids[j] < p->t[i].tid) {
			if (perf_thread_add(s, p, tids[j], i) == 0)
				i++;
			j++;
		} else {
			i++;
			j++;
		}
	}
}

static int perf_pollfds(struct sampler *s, struct pollfd *fds, int max)
{
	struct perf_priv *p = s->priv;
	int k = 0;
	for (size_t i = 0; i < p->n && k < max; i++)
		if (!p->t[i].dead)
			fds[k++] = (struct pollfd){ .fd = p->t[i].fd, .events = POLLIN };
	return k;
}

/* A thread that exited hangs up its event fd: stop polling it (the next drain frees it). */
static void perf_polled(struct sampler *s, const struct pollfd *fds, int n)
{
	struct perf_priv *p = s->priv;
	for (int k = 0; k < n; k++) {
		if (!(fds[k].revents & (POLLHUP | POLLERR)))
			continue;
		for (size_t i = 0; i < p->n; i++)
			if (p->t[i].fd == fds[k].fd)
				p->t[i].dead = true;
	}
}

/* Copy len bytes at ring offset off (wrapping) into dst. */
static void ring_copy(const struct perf_thread *t, const uint8_t *data, uint64_t off, void *dst,
		      size_t len)
{
	size_t start = (size_t)(off & (t->data_size - 1));
	size_t first = t->data_size - start < len ? t->data_size - start : len;
	memcpy(dst, data + start, first);
	if (first < len)
		memcpy((uint8_t *)dst + first, data, len - first);
}

/* Decode one PERF_RECORD_SAMPLE into p->smp; 0 when usable. */
static int decode_sample(struct sampler *s, struct perf_priv *p, const uint8_t *r, size_t len)
{
	const uint8_t *end = r + len;
	struct sample *smp = &p->smp;
	r += sizeof(struct perf_event_header);
	uint64_t ip;
	uint32_t pid_tid[2];
	uint64_t time, period;
	if (end - r < 32)
		return -1;
	memcpy(&ip, r, 8);
	memcpy(pid_tid, r + 8, 8);
	memcpy(&time, r + 16, 8);
	memcpy(&period, r + 24, 8);
	r += 32;
	smp->tid = (pid_t)pid_tid[1];
	smp->flags = 0;
	smp->time_ns = time;
	smp->weight_ns = period;
	smp->nframes = 0;
	if (s->cfg.callgraph != SAMPLER_CG_DWARF) {
		uint64_t nr;
		if (end - r < 8)
			return -1;
		memcpy(&nr, r, 8);
		r += 8;
		if (nr > (uint64_t)(end - r) / 8)
			return -1;
		for (uint64_t i = 0; i < nr && smp->nframes < SAMPLE_MAX_FRAMES; i++) {
			uint64_t pc;
			memcpy(&pc, r + i * 8, 8);
			if (pc >= (uint64_t)PERF_CONTEXT_MAX)
				continue; /* PERF_CONTEXT_USER and friends */
			smp->pc[smp->nframes++] = pc;
		}
		if (smp->nframes == 0 && ip)
			smp->pc[smp->nframes++] = ip;
		return smp->nframes ? 0 : -1;
	}
	/* REGS_USER: abi, then one u64 per bit of the mask; STACK_USER: size, data, dyn_size. */
	uint64_t abi;
	if (end - r < 8)
		return -1;
	memcpy(&abi, r, 8);
	r += 8;
	struct unwind_regs regs = { .valid = 0 };
	if (abi != PERF_SAMPLE_REGS_ABI_NONE) {
		for (int bit = 0; bit < 64; bit++) {
			if (!(UNWIND_PERF_REGS_MASK & (1ull << bit)))
				continue;
			if (end - r < 8)
				return -1;
			if (bit < UNWIND_NREGS) {
				memcpy(&regs.r[bit], r, 8);
				regs.valid |= 1ull << bit;
			}
			r += 8;
		}
	}
	uint64_t size = 0, dyn = 0;
	const uint8_t *stack = NULL;
	if (end - r >= 8) {
		memcpy(&size, r, 8);
		r += 8;
		if (size && (uint64_t)(end - r) >= 8 && size <= (uint64_t)(end - r) - 8) {
			stack = r;
			memcpy(&dyn, r + size, 8);
			if (dyn > size)
				dyn = size;
		}
	}
	if (!(regs.valid & (1ull << UNWIND_IP))) {
		/* No user registers (the sample hit while the thread was in a kernel thread?). */
		if (!ip)
			return -1;
		smp->pc[smp->nframes++] = ip;
		smp->flags |= SAMPLE_TRUNCATED;
		return 0;
	}
	bool truncated = false;
	int n = unwinder_unwind(s->unw, &regs, stack, stack ? (size_t)dyn : 0, regs.r[UNWIND_SP],
				smp->pc, SAMPLE_MAX_FRAMES, &truncated);
	if (n <= 0)
		return -1;
	smp->nframes = (uint32_t)n;
	if (truncated)
		smp->flags |= SAMPLE_TRUNCATED;
	return 0;
}

static int perf_drain_thread(struct sampler *s, struct perf_priv *p, struct perf_thread *t,
			     sampler_sample_fn fn, void *arg)
{
	struct perf_event_mmap_page *meta = t->ring;
	const uint8_t *data = (const uint8_t *)t->ring + p->page;
	uint64_t head = __atomic_load_n(&meta->data_head, __ATOMIC_ACQUIRE);
	uint64_t tail = meta->data_tail;
	int n = 0;
	while (tail + sizeof(struct perf_event_header) <= head) {
		struct perf_event_header h;
		ring_copy(t, data, tail, &h, sizeof h);
		if (h.size < sizeof h || tail + h.size > head)
			break;
		util_grow((void **)&p->rec, &p->reccap, h.size, 1);
		ring_copy(t, data, tail, p->rec, h.size);
		if (h.type == PERF_RECORD_SAMPLE) {
			if (decode_sample(s, p, p->rec, h.size) == 0) {
				s->stats.samples++;
				fn(arg, &p->smp);
				n++;
			} else {
				s->stats.lost++;
			}
		} else if (h.type == PERF_RECORD_LOST && h.size >= sizeof h + 16) {
			uint64_t lost;
			memcpy(&lost, p->rec + sizeof h + 8, 8);
			s->stats.lost += lost;
		}
		tail += h.size;
	}
	__atomic_store_n(&meta->data_tail, tail, __ATOMIC_RELEASE);
	return n;
}

static int perf_drain(struct sampler *s, sampler_sample_fn fn, void *arg)
{
	struct perf_priv *p = s->priv;
	int n = 0;
	size_t j = 0;
	for (size_t i = 0; i < p->n; i++) {
		n += perf_drain_thread(s, p, &p->t[i], fn, arg);
		if (p->t[i].dead)
			perf_thread_free(p, &p->t[i]);
		else
			p->t[j++] = p->t[i];
	}
	p->n = j;
	return n;
}

static int perf_set_rate(struct sampler *s, int hz)
{
	struct perf_priv *p = s->priv;
	uint64_t freq = (uint64_t)hz;
	for (size_t i = 0; i < p->n; i++)
		ioctl(p->t[i].fd, PERF_EVENT_IOC_PERIOD, &freq);
	return 0;
}

static void perf_close(struct sampler *s)
{
	struct perf_priv *p = s->priv;
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++)
		perf_thread_free(p, &p->t[i]);
	free(p->t);
	free(p->rec);
	free(p);
	s->priv = NULL;
}

const struct sampler_ops sampler_perf_ops = {
	.name = "perf",
	.open = perf_open,
	.sync = perf_sync,
	.pollfds = perf_pollfds,
	.polled = perf_polled,
	.tick = NULL,
	.drain = perf_drain,
	.set_rate = perf_set_rate,
	.close = perf_close,
};
