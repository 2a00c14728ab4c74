/*
 * app: the program around the model: options, attaching to (or starting) the target, and the
 * event loop — one thread, one poll() over a signalfd (INT, TERM, HUP, QUIT, WINCH, CHLD, TSTP),
 * a timerfd,
 * the target's pidfd, the sampler's fds and (for the TUI) stdin.  Callbacks only update the model
 * and set flags; the front end (record, dump, TUI) redraws or writes from its hooks.
 *
 * Every exit path detaches: app_done() closes the sampler (threads resumed, untraced) and is also
 * registered as a cleanup hook so util_fatal() and crash handlers run it.
 */
#ifndef PROFTOP_APP_H
#define PROFTOP_APP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "calltree.h"
#include "monitor.h"
#include "profile.h"
#include "sampler.h"
#include "symbols.h"

enum export_format { EXPORT_PPROF, EXPORT_FOLDED, EXPORT_JSON };

struct app_options {
	pid_t pid;
	char **cmd;             /* -- CMD ARGS: start this instead of attaching */
	int rate_hz;
	enum sampler_mode mode;
	enum sampler_callgraph callgraph;
	bool idle;
	double duration_s;      /* record: how long (0 = until the target exits or a signal) */
	const char *output;     /* record: file (or directory with triggers) */
	enum export_format format;
	double window_s;        /* live window length */
	bool json;              /* dump: JSON output */
	const char *theme;
	bool no_color;
	const char *log_path;   /* -v FILE */
	const char *snapshot_dir;
	double stuck_after_s;
	char **triggers;        /* record --trigger COND (NULL-terminated) */
	int ntriggers;
	double trigger_for_s;
	int repeat;
	double cooldown_s;
};

struct app;

/* Front-end hooks; any may be NULL.  Return non-zero from a hook to end the loop. */
struct app_hooks {
	void *arg;
	/* Every refresh period (refresh_ns), after the sampler's tick and the window expiry. */
	int (*refresh)(struct app *a, void *arg, uint64_t now_ns);
	/* stdin is readable (only when want_stdin). */
	int (*input)(struct app *a, void *arg);
	/* SIGWINCH. */
	int (*resize)(struct app *a, void *arg);
	/* End of each loop pass: redraw if something changed. */
	void (*before_sleep)(struct app *a, void *arg);
	/* SIGTSTP (Ctrl-Z): give the terminal back before proftop stops; after SIGCONT take it
	 * again.  The sampler is closed in between (app_run does that), so the target runs free
	 * while proftop is suspended. */
	void (*suspend)(struct app *a, void *arg);
	void (*resume)(struct app *a, void *arg);
	uint64_t refresh_ns;
	bool want_stdin;
};

struct app {
	struct app_options opt;
	pid_t pid;
	char comm[64];
	bool spawned;
	struct sampler *sampler;
	struct sampler_config sampler_cfg; /* as opened (mode resolved), to reopen after a suspend */
	const char *mode_name;   /* "perf" or "ptrace", kept after the sampler is closed */
	int rate_hz;             /* current sampling rate */
	struct symbols *sym;
	struct profile *prof;
	/* Threads, goroutines, memory: created by front ends that show or trigger on them
	 * (app_monitor_start); app_run ticks it, app_done frees it. */
	struct monitor *mon;
	uint64_t start_ns;       /* monotonic, at attach */
	uint64_t start_real_ns;  /* realtime, at attach */
	bool target_gone;
	int child_status;        /* wait status of a spawned target, -1 unknown */
	int quit_signal;         /* signal that ended the loop, 0 if none */
	bool paused_sampling;
	int sigfd, timerfd, pidfd;
	uint64_t samples_seen;
	/* samples per second, measured over the last refresh */
	double sample_rate;
	uint64_t rate_mark_ns, rate_mark_samples;
};

/* Attach to opt->pid or start opt->cmd; open symbols, sampler and profile.
 * On failure returns -1 with *cause (one line, owned by the caller). */
int app_init(struct app *a, const struct app_options *opt, bool quiet_child, char **cause);
/* Run the loop until a hook asks to stop, a terminating signal arrives, or (when
 * stop_on_exit) the target exits.  Returns 0. */
int app_run(struct app *a, const struct app_hooks *h, bool stop_on_exit);
/* Detach from the target now (samples drained into the profile first, the exit status of a
 * spawned target kept); the model stays.  Returns the samples lost.  Safe to call twice. */
uint64_t app_detach(struct app *a);
/* Detach from the target and free everything.  Safe to call twice. */
void app_done(struct app *a);
/* Start watching threads, goroutines and memory (see monitor.h).  Idempotent. */
void app_monitor_start(struct app *a);
/* Drain pending samples into the profile now. */
void app_drain(struct app *a);
/* Change the sampling rate (clamped to 1..5000 Hz). */
void app_set_rate(struct app *a, int hz);

/* Write window w of the profile to path in fmt, atomically (temp file + rename; with
 * no_clobber never replacing an existing file).  -1 with *cause on failure. */
int app_export(struct app *a, enum profile_window w, enum export_format fmt, const char *path,
	       bool no_clobber, char **cause);

#endif
