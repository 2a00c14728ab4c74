/*
 * export: a profile window as pprof (gzipped profile.proto), folded stacks (flamegraph.pl input)
 * or JSON.  Each writer fills an fd; atomicity (temp file + rename) is the caller's (app_export).
 * The JSON schema is documented in man/proftop.1 (FILES, "record --format json").
 */
#ifndef PROFTOP_EXPORT_H
#define PROFTOP_EXPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "profile.h"
#include "util.h"

struct export_meta {
	pid_t pid;
	const char *comm;
	const char *mode;        /* "perf" or "ptrace" */
	const char *callgraph;   /* "fp" or "dwarf" */
	int rate_hz;
	uint64_t time_real_ns;   /* wall-clock time of the window's start */
	uint64_t duration_ns;
};

int export_pprof(const struct profile *p, enum profile_window w, const struct export_meta *m,
		 int fd, char **cause);
/* One line per unique stack by function: "root;caller;leaf COUNT". */
void export_folded(const struct profile *p, enum profile_window w, struct strbuf *out);
void export_json(const struct profile *p, enum profile_window w, const struct export_meta *m,
		 struct strbuf *out);
/* The "top_functions" array of the JSON exports (also used by snapshots): at most limit rows. */
void export_json_top(const struct profile *p, enum profile_window w, size_t limit,
		     struct strbuf *out);

#endif
