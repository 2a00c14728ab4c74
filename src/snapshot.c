/* snapshot: the pprof + JSON pair written by the `s` key and by triggers (see snapshot.h). */
#include "snapshot.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "export.h"
#include "threadjson.h"
#include "util.h"

void snapshot_paths_done(struct snapshot_paths *p)
{
	free(p->pprof);
	free(p->json);
	p->pprof = p->json = NULL;
}

void snapshot_json_memory(const struct series *s, enum series_interval iv, struct strbuf *out)
{
	strbuf_putc(out, '{');
	for (int m = 0; m < MEM_NMETRICS; m++) {
		double v[SERIES_POINTS];
		size_t n = series_values(s, iv, (enum memory_metric)m, v, NULL);
		if (m == MEM_GOROUTINES && n == 0)
			continue; /* not a Go target */
		struct series_fit fit;
		series_fit(s, iv, (enum memory_metric)m, &fit);
		strbuf_printf(out, "%s\n  ", m ? "," : "");
		strbuf_json_str(out, memory_metric_info[m].name);
		strbuf_puts(out, ":{\"unit\":");
		strbuf_json_str(out, memory_metric_info[m].unit);
		strbuf_printf(out, ",\"interval_s\":%u,\"points\":[", series_interval_s[iv]);
		for (size_t i = 0; i < n; i++)
			strbuf_printf(out, "%s%.6g", i ? "," : "", v[i]);
		strbuf_printf(out, "],\"slope_per_min\":%.6g,\"r2\":%.4f,\"growing\":%s}",
			      fit.slope_per_min, fit.r2, fit.growing ? "true" : "false");
	}
	strbuf_puts(out, "}");
}

static void json_growth(const struct monitor *m, struct strbuf *out)
{
	strbuf_putc(out, '[');
	for (size_t i = 0; i < m->ngrowth && i < 20; i++) {
		const struct memory_growth *g = &m->growth[i];
		strbuf_printf(out, "%s\n  {\"start\":\"0x%llx\",\"end\":\"0x%llx\",\"name\":", i ? "," : "",
			      (unsigned long long)g->map.start, (unsigned long long)g->map.end);
		strbuf_json_str(out, g->map.name);
		strbuf_printf(out, ",\"rss\":%llu,\"growth\":%lld}", (unsigned long long)g->map.rss,
			      (long long)g->growth);
	}
	strbuf_putc(out, ']');
}

static void snapshot_json(struct app *a, enum profile_window w, const char *reason,
			  const char *stamp, struct strbuf *out)
{
	struct monitor *m = a->mon;
	strbuf_printf(out, "{\n\"pid\":%d,\"comm\":", (int)a->pid);
	strbuf_json_str(out, a->comm);
	strbuf_puts(out, ",\"time\":");
	strbuf_json_str(out, stamp);
	strbuf_puts(out, ",\"reason\":");
	strbuf_json_str(out, reason ? reason : "");
	strbuf_puts(out, ",\"mode\":");
	strbuf_json_str(out, a->mode_name);
	strbuf_printf(out, ",\"rate_hz\":%d,\"window\":\"%s\",\"window_s\":%.1f,\"samples\":%llu,",
		      a->rate_hz, w == PROFILE_LIVE ? "live" : "all",
		      w == PROFILE_LIVE ? (double)profile_window_ns(a->prof) / 1e9
					: (double)(util_now_ns() - a->start_ns) / 1e9,
		      (unsigned long long)profile_total(a->prof, w));
	strbuf_puts(out, "\n\"top_functions\":");
	export_json_top(a->prof, w, 50, out);
	strbuf_puts(out, ",\n\"threads\":");
	if (m && m->tm && threadmodel_observations(m->tm)) {
		threadjson_threads(m->tm, a->sym, out);
		strbuf_puts(out, ",\n");
		threadjson_locks(m->tm, out);
	} else {
		strbuf_puts(out, "[],\n\"deadlocks\":[],\"owner_died\":[],\"long_waits\":[]");
	}
	strbuf_puts(out, ",\n\"go\":");
	if (m && m->go.is_go && !m->go.gr) {
		strbuf_puts(out, "{\"version\":");
		strbuf_json_str(out, m->go.version);
		strbuf_puts(out, ",\"error\":");
		strbuf_json_str(out, m->go.error ? m->go.error : "");
		strbuf_putc(out, '}');
	} else if (m && m->go.gr && m->go.snap && m->go.rep) {
		golocks_dump_json(m->go.gr, m->go.snap, m->go.rep, out);
	} else {
		strbuf_puts(out, "null");
	}
	strbuf_puts(out, ",\n\"memory\":");
	if (m)
		snapshot_json_memory(&m->series, SERIES_1S, out);
	else
		strbuf_puts(out, "{}");
	strbuf_puts(out, ",\n\"mappings_growth\":");
	if (m)
		json_growth(m, out);
	else
		strbuf_puts(out, "[]");
	strbuf_puts(out, "\n}\n");
}

/* The file-system-safe command name for file names. */
static void safe_comm(const char *comm, char *buf, size_t n)
{
	size_t k = 0;
	for (const char *p = comm; *p && k + 1 < n; p++)
		buf[k++] = (*p == '/' || *p == ' ' || (unsigned char)*p < 0x20) ? '_' : *p;
	buf[k] = '\0';
	if (!k)
		snprintf(buf, n, "target");
}

/* Write text to path, atomically and never replacing a file: -1 with errno (EEXIST...). */
static int write_new(const char *path, const char *text, size_t len, char **cause)
{
	struct util_atomic f;
	if (util_atomic_open(&f, path, cause) < 0)
		return -1;
	if (util_write_all(f.fd, text, len) < 0) {
		int e = errno;
		*cause = xasprintf("cannot write %s: %s", path, strerror(e));
		util_atomic_abort(&f);
		errno = e;
		return -1;
	}
	return util_atomic_commit(&f, true, cause);
}

int snapshot_write(struct app *a, enum profile_window w, const char *dir, const char *reason,
		   struct snapshot_paths *paths, char **cause)
{
	memset(paths, 0, sizeof *paths);
	if (!a->mon) {
		app_monitor_start(a);
		monitor_tick(a->mon, util_now_ns());
	}
	app_drain(a);
	char comm[64], stamp[32], fstamp[32];
	safe_comm(a->comm, comm, sizeof comm);
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
	strftime(fstamp, sizeof fstamp, "%Y%m%dT%H%M%SZ", &tm);
	const char *d = dir && *dir ? dir : ".";

	struct strbuf json = { 0 };
	snapshot_json(a, w, reason, stamp, &json);
	int rc = -1;
	for (int n = 1; n < 100; n++) {
		char suffix[16] = "";
		if (n > 1)
			snprintf(suffix, sizeof suffix, "-%d", n);
		char *base = xasprintf("%s/proftop-%s-%d-%s%s", d, comm, (int)a->pid, fstamp, suffix);
		paths->pprof = xasprintf("%s.pb.gz", base);
		paths->json = xasprintf("%s.json", base);
		free(base);
		char *why = NULL;
		if (app_export(a, w, EXPORT_PPROF, paths->pprof, true, &why) == 0) {
			if (write_new(paths->json, json.s, json.len, &why) == 0) {
				rc = 0;
				break;
			}
			/* The pair goes together: without its JSON, the profile is taken back. */
			int e = errno;
			unlink(paths->pprof);
			errno = e;
		}
		int e = errno;
		snapshot_paths_done(paths);
		if (e != EEXIST) {
			/* One line that fits a status line: the directory matters, not the new
			 * file's name (the details go to the -v log). */
			util_log("snapshot: %s", why ? why : "?");
			if (e) {
				free(why);
				why = xasprintf("cannot write in %s: %s", d, strerror(e));
			}
			*cause = why;
			break;
		}
		free(why);
	}
	if (rc < 0 && !*cause)
		*cause = xasprintf("cannot name a new snapshot in %s", d);
	strbuf_done(&json);
	return rc;
}
