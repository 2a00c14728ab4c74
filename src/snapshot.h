/*
 * snapshot: everything proftop knows about the target, saved as a pair of files:
 *   proftop-COMM-PID-YYYYmmddTHHMMSSZ.pb.gz  the profile of a window, as `record` writes it;
 *   proftop-COMM-PID-YYYYmmddTHHMMSSZ.json   threads, waits, deadlocks (as `dump --json`),
 *                                             goroutines (Go), top functions, memory series.
 * Both are written to temporary names and linked into place: an existing file is never
 * replaced (a second snapshot in the same second gets "-2", "-3"...), and a failure (full disk,
 * unwritable directory) leaves no file and returns a one-line cause.  The JSON schema is in
 * man/proftop.1 (FILES, "snapshot").
 */
#ifndef PROFTOP_SNAPSHOT_H
#define PROFTOP_SNAPSHOT_H

#include "app.h"

struct snapshot_paths {
	char *pprof; /* malloc'ed, owned by the caller */
	char *json;
};

/*
 * Write a snapshot of window w into dir (NULL: the current directory).  reason (optional) is
 * recorded ("key s", "trigger cpu>70%").  Starts the monitor when it was not running, so the
 * threads are in.  Returns 0, or -1 with *cause (owned by the caller).
 */
int snapshot_write(struct app *a, enum profile_window w, const char *dir, const char *reason,
		   struct snapshot_paths *paths, char **cause);
void snapshot_paths_done(struct snapshot_paths *p);

/* The "memory" member of the snapshot JSON: {"rss":{"unit":..,"interval_s":..,"points":[..],
 * "slope_per_min":..,"r2":..,"growing":..},..}, for one interval of the series. */
void snapshot_json_memory(const struct series *s, enum series_interval iv, struct strbuf *out);

#endif
