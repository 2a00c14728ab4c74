/*
 * memory: one point of the target's memory and CPU state per call, from /proc (no stop, no
 * ptrace): /proc/PID/status (RSS split, swap, threads: kernel counters, no page-table walk),
 * /proc/PID/stat (faults, CPU time), /proc/PID/fd (count) and the resident size of the [heap]
 * mapping from /proc/PID/smaps.  smaps walks page tables under the target's mmap_lock, so that
 * read stops just past the heap, and when it took more than 2 ms the next one is 10 s later
 * (the points in between repeat the last value).  And a table of mappings by resident size
 * (the whole smaps), to tell which grew since attach.
 *
 * A process whose main thread called pthread_exit has a zombie leader with no memory of its
 * own: its memory, fds and mappings are read through one of its live threads.
 *
 * The metric list is an X-macro so that the series, the memory view and the JSON writers share
 * one table of names and units.
 */
#ifndef PROFTOP_MEMORY_H
#define PROFTOP_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* X(enum suffix, json name, unit, kind): kind B = bytes, N = count, R = per second, P = percent */
#define MEMORY_METRICS(X)                  \
	X(RSS, "rss", "bytes", 'B')        \
	X(ANON, "anon", "bytes", 'B')      \
	X(FILE, "file", "bytes", 'B')      \
	X(SHMEM, "shmem", "bytes", 'B')    \
	X(SWAP, "swap", "bytes", 'B')      \
	X(HEAP, "heap", "bytes", 'B')      \
	X(THREADS, "threads", "count", 'N') \
	X(FDS, "fds", "count", 'N')        \
	X(MINFLT, "minflt", "per_second", 'R') \
	X(MAJFLT, "majflt", "per_second", 'R') \
	X(CPU, "cpu", "percent", 'P')      \
	X(GOROUTINES, "goroutines", "count", 'N')

enum memory_metric {
#define MEMORY_ENUM(e, name, unit, kind) MEM_##e,
	MEMORY_METRICS(MEMORY_ENUM)
#undef MEMORY_ENUM
	MEM_NMETRICS
};

struct memory_metric_info {
	const char *name; /* "rss" */
	const char *unit; /* "bytes" */
	char kind;        /* 'B' bytes, 'N' count, 'R' rate per second, 'P' percent */
};
extern const struct memory_metric_info memory_metric_info[MEM_NMETRICS];

struct mem_point {
	uint64_t time_ns;          /* CLOCK_MONOTONIC */
	double v[MEM_NMETRICS];
	uint32_t valid;            /* bit i set when v[i] was read (GOROUTINES: Go targets only) */
};

/* Counters between two reads (faults and CPU are rates: they need the previous read). */
struct memory_reader {
	pid_t pid;
	pid_t mm_pid;        /* whose status, fds and smaps are read: pid, or a live thread of it */
	bool primed;
	uint64_t last_ns;
	uint64_t minflt, majflt, cpu_ticks;
	double heap;         /* [heap] resident bytes at the last smaps read; < 0 unread */
	uint64_t heap_next_ns; /* when to read it again (0: at the next point) */
};

void memory_reader_init(struct memory_reader *r, pid_t pid);
/* Read one point now.  Returns -1 with errno when the process is gone. */
int memory_read(struct memory_reader *r, uint64_t now_ns, struct mem_point *pt);

/* One mapping of /proc/PID/smaps with its resident size. */
struct memory_mapping {
	uint64_t start, end;
	char name[160]; /* "[heap]", "[stack]", a path, or "" for anonymous */
	uint64_t rss;   /* bytes */
};

/* Read /proc/PID/smaps (all of it: a costly read, for every few seconds at most) into *out
 * (malloc'ed; caller frees).  Returns the count or -1. */
int memory_mappings_read(pid_t pid, struct memory_mapping **out);

/* Growth of mappings between two reads, largest first: each row is a mapping of `now` and
 * how much its resident size grew since `base` (a mapping absent from base grew by all of it).
 * Mappings are matched by start address and name.  Returns the count (rows with growth > 0). */
struct memory_growth {
	struct memory_mapping map;
	int64_t growth; /* bytes */
};
size_t memory_growth(const struct memory_mapping *base, size_t nbase,
		     const struct memory_mapping *now, size_t nnow, struct memory_growth **out);

#endif
