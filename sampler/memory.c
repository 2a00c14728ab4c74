/* memory: memory and CPU points of the target from /proc (see memory.h). */
#include "memory.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procfs.h"
#include "util.h"

const struct memory_metric_info memory_metric_info[MEM_NMETRICS] = {
#define MEMORY_INFO(e, n, u, k) { n, u, k },
	MEMORY_METRICS(MEMORY_INFO)
#undef MEMORY_INFO
};

void memory_reader_init(struct memory_reader *r, pid_t pid)
{
	memset(r, 0, sizeof *r);
	r->pid = pid;
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

static int count_fds(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
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

/* Resident bytes of the [heap] mapping, 0 when there is none. */
static double heap_rss(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/smaps", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	char line[512];
	bool in_heap = false;
	double rss = 0;
	while (fgets(line, sizeof line, f)) {
		unsigned long long a, b;
		if (isxdigit((unsigned char)line[0]) && sscanf(line, "%llx-%llx ", &a, &b) == 2) {
			in_heap = strstr(line, "[heap]") != NULL;
		} else if (in_heap && strncmp(line, "Rss:", 4) == 0) {
			rss += strtod(line + 4, NULL) * 1024.0;
		}
	}
	fclose(f);
	return rss;
}

int memory_read(struct memory_reader *r, uint64_t now_ns, struct mem_point *pt)
{
	memset(pt, 0, sizeof *pt);
	pt->time_ns = now_ns;
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/status", (int)r->pid);
	char *status = util_read_file(path, NULL);
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

	double heap = heap_rss(r->pid);
	if (heap >= 0) {
		pt->v[MEM_HEAP] = heap;
		pt->valid |= 1u << MEM_HEAP;
	}
	int fds = count_fds(r->pid);
	if (fds >= 0) {
		pt->v[MEM_FDS] = fds;
		pt->valid |= 1u << MEM_FDS;
	}
	struct proc_task_stat st;
	if (proc_stat_read(r->pid, &st) < 0)
		return -1;
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
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/smaps", (int)pid);
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
