/* memory: memory and CPU points of the target from /proc (see memory.h). */
#include "memory.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "procfs.h"
#include "util.h"

/* A [heap] read (smaps) slower than this is next done MEMORY_HEAP_BACKOFF_NS later; the points
 * in between repeat its value. */
#define MEMORY_HEAP_SLOW_NS 2000000ull
#define MEMORY_HEAP_BACKOFF_NS 10000000000ull

const struct memory_metric_info memory_metric_info[MEM_NMETRICS] = {
#define MEMORY_INFO(e, n, u, k) { n, u, k },
	MEMORY_METRICS(MEMORY_INFO)
#undef MEMORY_INFO
};

void memory_reader_init(struct memory_reader *r, pid_t pid)
{
	memset(r, 0, sizeof *r);
	r->pid = pid;
	r->mm_pid = pid;
	r->heap = -1;
}

/* Value in kB of "Key:   123 kB" in a /proc status text, as bytes; -1 when absent. */
static double status_kb(const char *text, const char *key)
{
	const char *p = strstr(text, key);
	if (!p)
		return -1;
	p += strlen(key);
	while (*p == ' ' || *p == '\t')
		p++;
	return strtod(p, NULL) * 1024.0;
}

/* Open file descriptors of pid: the size of /proc/PID/fd where the kernel reports it (6.2 and
 * later: no directory walk), else by listing it. */
static int count_fds(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
	struct stat sb;
	if (stat(path, &sb) == 0 && sb.st_size > 0)
		return sb.st_size > INT_MAX ? INT_MAX : (int)sb.st_size;
	DIR *d = opendir(path);
	if (!d)
		return -1;
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/*
 * Resident bytes of the [heap] mapping(s) from /proc/PID/smaps, 0 when there is none; -1 when
 * unreadable.  smaps walks each mapping's page tables under the target's mmap_lock as it is
 * read, so the read stops right after the heap, or, with start_brk known, at the first other
 * mapping at or above it (mappings come in address order and the heap is the one that overlaps
 * [start_brk, brk]): only the program's own mappings and the heap are walked, not every library,
 * arena and thread stack after them.
 */
static double heap_rss(pid_t pid, uint64_t start_brk)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/smaps", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	char *line = NULL;
	size_t cap = 0;
	bool in_heap = false, seen_heap = false;
	double rss = 0;
	while (getline(&line, &cap, f) > 0) {
		unsigned long long a, b;
		int name_at = 0;
		if (isxdigit((unsigned char)line[0]) &&
		    sscanf(line, "%llx-%llx %*s %*s %*s %*s %n", &a, &b, &name_at) == 2) {
			const char *name = name_at ? line + name_at : "";
			in_heap = strncmp(name, "[heap]", 6) == 0;
			if (!in_heap && (seen_heap || (start_brk && a >= start_brk)))
				break;
			seen_heap |= in_heap;
		} else if (in_heap && strncmp(line, "Rss:", 4) == 0) {
			rss += strtod(line + 4, NULL) * 1024.0;
		}
	}
	free(line);
	fclose(f);
	return rss;
}

/* /proc/TID/status of the thread that shows the process's memory: the leader, or a live thread
 * once the leader is a zombie (main called pthread_exit).  NULL when the process is gone. */
static char *read_status(struct memory_reader *r)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/status", (int)r->mm_pid);
	char *status = util_read_file(path, NULL);
	const char *state = status ? strstr(status, "\nState:") : NULL;
	if (state)
		state += strspn(state + 7, " \t") + 7;
	if (state && *state != 'Z' && *state != 'X')
		return status;
	pid_t live = proc_target_mm_pid(r->pid);
	if (live <= 0 || live == r->mm_pid)
		return status; /* a zombie with no live thread: its status, without memory */
	free(status);
	r->mm_pid = live;
	snprintf(path, sizeof path, "/proc/%d/status", (int)live);
	return util_read_file(path, NULL);
}

int memory_read(struct memory_reader *r, uint64_t now_ns, struct mem_point *pt)
{
	memset(pt, 0, sizeof *pt);
	pt->time_ns = now_ns;
	char *status = read_status(r);
	if (!status)
		return -1;
	static const struct {
		enum memory_metric m;
		const char *key;
	} keys[] = {
		{ MEM_RSS, "VmRSS:" }, { MEM_ANON, "RssAnon:" }, { MEM_FILE, "RssFile:" },
		{ MEM_SHMEM, "RssShmem:" }, { MEM_SWAP, "VmSwap:" },
	};
	for (size_t i = 0; i < UTIL_ARRAY_LEN(keys); i++) {
		double v = status_kb(status, keys[i].key);
		if (v >= 0) {
			pt->v[keys[i].m] = v;
			pt->valid |= 1u << keys[i].m;
		}
	}
	const char *th = strstr(status, "Threads:");
	if (th) {
		pt->v[MEM_THREADS] = strtod(th + 8, NULL);
		pt->valid |= 1u << MEM_THREADS;
	}
	free(status);

	struct proc_task_stat st, mst;
	if (proc_stat_read(r->pid, &st) < 0)
		return -1;
	int fds = count_fds(r->mm_pid);
	if (fds >= 0) {
		pt->v[MEM_FDS] = fds;
		pt->valid |= 1u << MEM_FDS;
	}
	if (now_ns >= r->heap_next_ns) {
		uint64_t start_brk = st.start_brk;
		if (r->mm_pid != r->pid && proc_task_stat_read(r->pid, r->mm_pid, &mst) == 0)
			start_brk = mst.start_brk;
		uint64_t t0 = util_now_ns();
		r->heap = heap_rss(r->mm_pid, start_brk);
		uint64_t cost = util_now_ns() - t0;
		r->heap_next_ns = cost > MEMORY_HEAP_SLOW_NS ? now_ns + MEMORY_HEAP_BACKOFF_NS : 0;
	}
	if (r->heap >= 0) {
		pt->v[MEM_HEAP] = r->heap;
		pt->valid |= 1u << MEM_HEAP;
	}
	uint64_t ticks = st.utime + st.stime;
	if (r->primed && now_ns > r->last_ns) {
		double dt = (double)(now_ns - r->last_ns) / 1e9;
		pt->v[MEM_MINFLT] = (double)(st.minflt - r->minflt) / dt;
		pt->v[MEM_MAJFLT] = (double)(st.majflt - r->majflt) / dt;
		pt->v[MEM_CPU] = 100.0 * (double)(ticks - r->cpu_ticks) / (double)proc_clk_tck() / dt;
		pt->valid |= (1u << MEM_MINFLT) | (1u << MEM_MAJFLT) | (1u << MEM_CPU);
	}
	r->primed = true;
	r->last_ns = now_ns;
	r->minflt = st.minflt;
	r->majflt = st.majflt;
	r->cpu_ticks = ticks;
	return 0;
}

int memory_mappings_read(pid_t pid, struct memory_mapping **out)
{
	pid_t mm = proc_target_mm_pid(pid); /* a zombie leader has no mappings; a live thread does */
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/smaps", (int)(mm > 0 ? mm : pid));
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	struct memory_mapping *v = NULL;
	size_t n = 0, cap = 0;
	char line[1024];
	while (fgets(line, sizeof line, f)) {
		unsigned long long start, end;
		int name_at = 0;
		if (isxdigit((unsigned char)line[0]) &&
		    sscanf(line, "%llx-%llx %*s %*s %*s %*s %n", &start, &end, &name_at) == 2) {
			util_grow((void **)&v, &cap, n + 1, sizeof *v);
			struct memory_mapping *m = &v[n++];
			memset(m, 0, sizeof *m);
			m->start = start;
			m->end = end;
			if (name_at > 0) {
				const char *name = line + name_at;
				while (*name == ' ')
					name++;
				snprintf(m->name, sizeof m->name, "%s", name);
				m->name[strcspn(m->name, "\n")] = '\0';
			}
		} else if (n && strncmp(line, "Rss:", 4) == 0) {
			v[n - 1].rss = (uint64_t)(strtod(line + 4, NULL) * 1024.0);
		}
	}
	fclose(f);
	*out = v;
	return (int)n;
}

static int cmp_growth(const void *a, const void *b)
{
	const struct memory_growth *x = a, *y = b;
	return (x->growth < y->growth) - (x->growth > y->growth);
}

size_t memory_growth(const struct memory_mapping *base, size_t nbase,
		     const struct memory_mapping *now, size_t nnow, struct memory_growth **out)
{
	struct memory_growth *rows = NULL;
	size_t n = 0, cap = 0;
	for (size_t i = 0; i < nnow; i++) {
		int64_t before = 0;
		/* Both lists are in address order (as the kernel prints them): a merge would do,
		 * but mappings are few (hundreds); keep it simple and exact. */
		for (size_t j = 0; j < nbase; j++) {
			if (base[j].start == now[i].start && !strcmp(base[j].name, now[i].name)) {
				before = (int64_t)base[j].rss;
				break;
			}
		}
		int64_t g = (int64_t)now[i].rss - before;
		if (g <= 0)
			continue;
		util_grow((void **)&rows, &cap, n + 1, sizeof *rows);
		rows[n].map = now[i];
		rows[n].growth = g;
		n++;
	}
	if (n > 1)
		qsort(rows, n, sizeof *rows, cmp_growth);
	*out = rows;
	return n;
}
