/* Unit test of memory_read() against the whole of /proc/PID/smaps: the [heap] figure (read from
 * the start of smaps only, see memory.h) equals the sum of the Rss of every [heap] mapping, for
 * this process (a heap grown by 8 MiB of small mallocs) and for tests/bin/mainexit, whose leader
 * is a zombie (main called pthread_exit): there every metric is read through the live worker
 * (rss, anon, fds and heap as that thread's /proc shows them, threads 2), not left out. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "memory.h"
#include "util.h"
#include "check.h"
#include "fixture.h"

/* Sum of the Rss of the [heap] mappings in /proc/TID/smaps, read to the end; -1 if unreadable. */
static double heap_truth(pid_t tid)
{
	char path[64], line[1024];
	snprintf(path, sizeof path, "/proc/%d/smaps", (int)tid);
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	int in_heap = 0;
	double rss = 0;
	while (fgets(line, sizeof line, f)) {
		unsigned long long a, b;
		if (sscanf(line, "%llx-%llx ", &a, &b) == 2 && strchr(line, ' '))
			in_heap = strstr(line, " [heap]") != NULL;
		else if (in_heap && !strncmp(line, "Rss:", 4))
			rss += strtod(line + 4, NULL) * 1024;
	}
	fclose(f);
	return rss;
}

static int has(const struct mem_point *pt, enum memory_metric m)
{
	return (pt->valid >> m) & 1;
}

int main(void)
{
	/* 8 MiB of 16 KiB chunks, touched: below the mmap threshold, so in [heap]. */
	static void *chunks[512];
	for (size_t i = 0; i < 512; i++) {
		chunks[i] = malloc(16384);
		if (chunks[i])
			memset(chunks[i], 1, 16384);
	}
	struct memory_reader r;
	memory_reader_init(&r, getpid());
	struct mem_point pt;
	check(memory_read(&r, util_now_ns(), &pt) == 0, "memory_read of this process");
	double truth = heap_truth(getpid());
	printf("     heap %.0f KiB, whole smaps says %.0f KiB\n", pt.v[MEM_HEAP] / 1024, truth / 1024);
	/* (A sanitizer's allocator uses mmap, not brk: then there is no [heap] and both are 0.) */
	check(has(&pt, MEM_HEAP) && (pt.v[MEM_HEAP] >= 8 << 20 || truth == 0),
	      "heap holds the 8 MiB malloc'ed");
	check(pt.v[MEM_HEAP] > truth - 65536 && pt.v[MEM_HEAP] < truth + 65536,
	      "heap equals the [heap] Rss of the whole smaps (within 64 KiB)");
	check(has(&pt, MEM_FDS) && pt.v[MEM_FDS] >= 3, "fds counted");
	check(has(&pt, MEM_RSS) && pt.v[MEM_RSS] >= pt.v[MEM_HEAP], "rss at least the heap");

	struct fixture fx;
	if (!fixture_start(&fx, "mainexit", NULL, NULL))
		return 1;
	pid_t pid = fx.pid, worker = (pid_t)fixture_fact(&fx, "worker");
	check(worker > 0 && (pid_t)fixture_fact(&fx, "pid") == pid, "mainexit ready: %s", fx.line);
	memory_reader_init(&r, pid);
	int rc = memory_read(&r, util_now_ns(), &pt);
	check(rc == 0, "memory_read of a process whose leader is a zombie");
	printf("     zombie leader %d: read through %d; rss %.0f KiB, threads %.0f, fds %.0f, heap %.0f\n",
	       (int)pid, (int)r.mm_pid, pt.v[MEM_RSS] / 1024, pt.v[MEM_THREADS], pt.v[MEM_FDS],
	       pt.v[MEM_HEAP]);
	check(r.mm_pid == worker, "read through the live worker");
	check(has(&pt, MEM_RSS) && pt.v[MEM_RSS] > 0 && has(&pt, MEM_ANON), "rss and anon read");
	check(has(&pt, MEM_THREADS) && pt.v[MEM_THREADS] == 2, "2 threads");
	check(has(&pt, MEM_FDS) && pt.v[MEM_FDS] >= 3, "fds counted");
	double wtruth = heap_truth(worker);
	check(has(&pt, MEM_HEAP) && pt.v[MEM_HEAP] == wtruth, "heap as the worker's smaps says");
	struct memory_mapping *maps = NULL;
	int n = memory_mappings_read(pid, &maps);
	check(n > 5, "mappings read through the worker");
	free(maps);
	fixture_stop(&fx);
	for (size_t i = 0; i < 512; i++)
		free(chunks[i]);
	return failures ? 1 : 0;
}
