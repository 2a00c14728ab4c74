/* main: command line, and the headless front ends (record). */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "cli.h"
#include "snapshot.h"
#include "trigger.h"
#include "util.h"

#define PROFTOP_VERSION "0.1.0"

static const char usage_text[] =
	"usage: proftop [top] -p PID [options]          live TUI on a running process\n"
	"       proftop [top] [options] -- CMD [ARGS]   start CMD and watch it\n"
	"       proftop record -p PID -d SEC -o FILE [--format pprof|folded|json]\n"
	"       proftop record [options] -o FILE -- CMD [ARGS]\n"
	"       proftop record -p PID --trigger COND -d SEC -o DIR [--repeat N]\n"
	"       proftop dump -p PID [--json]            threads, waits, locks, deadlocks\n"
	"\n"
	"Options:\n"
	"  -p, --pid PID          process to attach to (no change to it, no restart)\n"
	"  -F, --rate HZ          samples per second per thread (default 99)\n"
	"      --mode MODE        auto (default), perf or ptrace\n"
	"      --call-graph CG    fp (frame pointers, default) or dwarf (unwind a stack copy)\n"
	"      --idle             also sample threads that are off CPU (wall-clock profile)\n"
	"  -d, --duration SEC     record: how long to record (default: until the target exits\n"
	"                         or SIGINT)\n"
	"  -o, --output FILE      record: where to write (default proftop.pb.gz, .folded, .json)\n"
	"      --format FMT       record: pprof (default), folded or json\n"
	"  -w, --window SEC       length of the live window (default 10)\n"
	"      --json             dump: print JSON\n"
	"      --stuck-after SEC  a lock wait longer than this is a long wait, and a Go mutex\n"
	"                         unchanged this long is stuck (default 5)\n"
	"      --trigger COND     record: watch, and capture -d SEC into the -o directory when\n"
	"                         COND holds: cpu>70%, rss>2G, rss-growth>10M/min, deadlock\n"
	"                         (repeatable)\n"
	"      --for SEC          how long cpu>N% must hold before it fires (default 10)\n"
	"      --repeat N         captures before record ends (default 1)\n"
	"      --cooldown SEC     pause between captures (default 60)\n"
	"      --snapshot-dir DIR where the s key writes snapshots (default: here)\n"
	"      --theme NAME       TUI colours: dark (default), light, mono, a NAME.theme in\n"
	"                         ~/.config/proftop/themes, or a file path\n"
	"      --no-color         TUI without colours (also when NO_COLOR is set)\n"
	"  -v, --log FILE         write diagnostics to FILE\n"
	"  -h, --help             this text\n"
	"  -V, --version          print the version\n"
	"\n"
	"Keys in the live view (views: 1 top functions, 2 flame graph, 3 threads, 4 memory):\n"
	"  1 2 3 4                show that view\n"
	"  Tab BTab               next / previous view\n"
	"  Space                  pause the display (sampling goes on)\n"
	"  w                      window: the last --window seconds, or since start\n"
	"  r                      reset the counts\n"
	"  + -                    raise / lower the sampling rate\n"
	"  /                      filter: stacks through a function whose name contains a text\n"
	"  t                      limit to one thread (again: all threads)\n"
	"  s                      snapshot: pprof + JSON of the window into --snapshot-dir\n"
	"  ? F1                   help\n"
	"  Ctrl-L                 redraw the screen\n"
	"  Ctrl-Z                 suspend: detach, stop proftop; fg attaches again\n"
	"  q F10                  quit; the target runs on, untraced\n"
	"  Up Down PgUp PgDn      move the cursor (top); parent / child frame (flame)\n"
	"  Home End               first / last row (top); Home: the zoomed frame (flame)\n"
	"  Left Right             previous / next frame at the same depth (flame)\n"
	"  h j k l                Left Down Up Right\n"
	"  Enter                  callers, callees and source lines (top); zoom (flame)\n"
	"  Esc Backspace          back (top); zoom out (flame)\n"
	"  < > F6                 sort by self, total or name (top)\n"
	"  i                      icicle (root on top) or flame (root at the bottom)\n"
	"  [ ]                    history interval: a point every 1 s, 10 s or 60 s (memory)\n"
	"  Enter                  a thread's stack; a goroutine group's ids and stack (threads)\n"
	"  < > F6                 sort by tid, name, state, cpu, time or wait (threads)\n"
	"  g                      goroutines of a Go program, by stack; again: threads\n"
	"  click wheel            mouse: click selects, wheel scrolls\n"
	"\n"
	"Exit status: 0 success, 1 error, 2 usage error, 3 dump found a deadlock.\n"
	"See proftop(1) for the views, keys and file formats.\n";

static void usage(FILE *f)
{
	fputs(usage_text, f);
}

/* Print "proftop: MSG" and a hint, and exit 2 (usage errors). */
static void __attribute__((noreturn, format(printf, 1, 2))) usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("proftop: ", stderr);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see proftop --help)\n", stderr);
	exit(2);
}

enum {
	OPT_MODE = 1000, OPT_CALLGRAPH, OPT_IDLE, OPT_FORMAT, OPT_JSON, OPT_THEME, OPT_NOCOLOR,
	OPT_SNAPDIR, OPT_STUCK, OPT_TRIGGER, OPT_FOR, OPT_REPEAT, OPT_COOLDOWN,
};

static const struct option long_opts[] = {
	{ "pid", required_argument, NULL, 'p' },
	{ "rate", required_argument, NULL, 'F' },
	{ "mode", required_argument, NULL, OPT_MODE },
	{ "call-graph", required_argument, NULL, OPT_CALLGRAPH },
	{ "idle", no_argument, NULL, OPT_IDLE },
	{ "duration", required_argument, NULL, 'd' },
	{ "output", required_argument, NULL, 'o' },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "window", required_argument, NULL, 'w' },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "stuck-after", required_argument, NULL, OPT_STUCK },
	{ "snapshot-dir", required_argument, NULL, OPT_SNAPDIR },
	{ "trigger", required_argument, NULL, OPT_TRIGGER },
	{ "for", required_argument, NULL, OPT_FOR },
	{ "repeat", required_argument, NULL, OPT_REPEAT },
	{ "cooldown", required_argument, NULL, OPT_COOLDOWN },
	{ "theme", required_argument, NULL, OPT_THEME },
	{ "no-color", no_argument, NULL, OPT_NOCOLOR },
	{ "log", required_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static double parse_seconds_opt(const char *name, const char *arg)
{
	double v = util_parse_seconds(arg);
	if (v < 0)
		usage_error("%s wants a number of seconds from 0 to %.0f, not '%s'", name,
			    UTIL_SECONDS_MAX, arg);
	return v;
}

/* Parse argv (after the subcommand) into opt.  Exits on usage errors. */
static void parse_options(int argc, char **argv, struct app_options *opt)
{
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, "+p:F:d:o:w:v:hV", long_opts, NULL)) != -1) {
		switch (c) {
		case 'p': {
			long v = util_parse_long(optarg);
			if (v <= 0 || v > INT_MAX)
				usage_error("-p wants a process id, not '%s'", optarg);
			opt->pid = (pid_t)v;
			break;
		}
		case 'F': {
			long v = util_parse_long(optarg);
			if (v < 1 || v > 5000)
				usage_error("--rate wants a rate from 1 to 5000 Hz, not '%s'", optarg);
			opt->rate_hz = (int)v;
			break;
		}
		case OPT_MODE:
			if (!strcmp(optarg, "auto"))
				opt->mode = SAMPLER_AUTO;
			else if (!strcmp(optarg, "perf"))
				opt->mode = SAMPLER_PERF;
			else if (!strcmp(optarg, "ptrace"))
				opt->mode = SAMPLER_PTRACE;
			else
				usage_error("--mode wants auto, perf or ptrace, not '%s'", optarg);
			break;
		case OPT_CALLGRAPH:
			if (!strcmp(optarg, "fp"))
				opt->callgraph = SAMPLER_CG_FP;
			else if (!strcmp(optarg, "dwarf"))
				opt->callgraph = SAMPLER_CG_DWARF;
			else
				usage_error("--call-graph wants fp or dwarf, not '%s'", optarg);
			break;
		case OPT_IDLE:
			opt->idle = true;
			break;
		case 'd':
			opt->duration_s = parse_seconds_opt("--duration", optarg);
			break;
		case 'o':
			opt->output = optarg;
			break;
		case OPT_FORMAT:
			if (!strcmp(optarg, "pprof"))
				opt->format = EXPORT_PPROF;
			else if (!strcmp(optarg, "folded"))
				opt->format = EXPORT_FOLDED;
			else if (!strcmp(optarg, "json"))
				opt->format = EXPORT_JSON;
			else
				usage_error("--format wants pprof, folded or json, not '%s'", optarg);
			break;
		case 'w':
			opt->window_s = parse_seconds_opt("--window", optarg);
			if (opt->window_s < 1)
				usage_error("--window wants at least 1 second");
			break;
		case OPT_JSON:
			opt->json = true;
			break;
		case OPT_SNAPDIR:
			opt->snapshot_dir = optarg;
			break;
		case OPT_TRIGGER: {
			struct trigger t;
			char *why = NULL;
			if (trigger_parse(optarg, 1, &t, &why) < 0)
				usage_error("%s", why);
			opt->triggers = xreallocarray(opt->triggers, (size_t)opt->ntriggers + 2,
						      sizeof *opt->triggers);
			opt->triggers[opt->ntriggers++] = optarg;
			opt->triggers[opt->ntriggers] = NULL;
			break;
		}
		case OPT_FOR:
			opt->trigger_for_s = parse_seconds_opt("--for", optarg);
			break;
		case OPT_REPEAT: {
			long v = util_parse_long(optarg);
			if (v < 1 || v > 1000000)
				usage_error("--repeat wants a number of captures from 1, not '%s'", optarg);
			opt->repeat = (int)v;
			break;
		}
		case OPT_COOLDOWN:
			opt->cooldown_s = parse_seconds_opt("--cooldown", optarg);
			break;
		case OPT_STUCK:
			opt->stuck_after_s = parse_seconds_opt("--stuck-after", optarg);
			if (opt->stuck_after_s <= 0)
				usage_error("--stuck-after wants a positive number of seconds");
			break;
		case OPT_THEME:
			opt->theme = optarg;
			break;
		case OPT_NOCOLOR:
			opt->no_color = true;
			break;
		case 'v':
			opt->log_path = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case 'V':
			printf("proftop %s\n", PROFTOP_VERSION);
			exit(0);
		default:
			usage_error("bad option");
		}
	}
	if (optind < argc) {
		if (strcmp(argv[optind - 1], "--") != 0)
			usage_error("unexpected argument '%s'", argv[optind]);
		opt->cmd = &argv[optind];
	}
	if (opt->cmd && opt->pid)
		usage_error("give either -p PID or -- CMD, not both");
	if (!opt->cmd && !opt->pid)
		usage_error("which process? give -p PID or -- CMD");
}

/* ---- record ---- */

struct record_state {
	uint64_t end_ns;
};

static int record_refresh(struct app *a, void *arg, uint64_t now_ns)
{
	(void)a;
	struct record_state *r = arg;
	return r->end_ns && now_ns >= r->end_ns;
}

static const char *default_output(enum export_format f)
{
	return f == EXPORT_FOLDED ? "proftop.folded" : f == EXPORT_JSON ? "proftop.json" : "proftop.pb.gz";
}

/* ---- record --trigger: watch, capture when a condition holds ---- */

struct watch_state {
	struct app_options *opt;
	struct trigger *t;
	int nt;
	enum { WATCHING, CAPTURING, COOLING, DONE } phase;
	uint64_t until_ns;
	char *reason;
	int captures;
	int errors;
};

static void watch_print(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void watch_print(const char *fmt, ...)
{
	char stamp[16];
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%H:%M:%S", &tm);
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "proftop: %s ", stamp);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static int watch_refresh(struct app *a, void *arg, uint64_t now)
{
	struct watch_state *w = arg;
	switch (w->phase) {
	case WATCHING:
		for (int i = 0; i < w->nt; i++) {
			struct strbuf why = { 0 };
			if (!trigger_check(&w->t[i], a->mon, now, &why)) {
				strbuf_done(&why);
				continue;
			}
			free(w->reason);
			w->reason = xasprintf("%s: %s", w->t[i].text, why.s ? why.s : "");
			strbuf_done(&why);
			watch_print("trigger %s; capturing %g s", w->reason, w->opt->duration_s);
			/* The capture is the next duration_s seconds, from a clean profile. */
			app_drain(a);
			profile_reset(a->prof);
			w->phase = CAPTURING;
			w->until_ns = now + (uint64_t)(w->opt->duration_s * 1e9);
			break;
		}
		return 0;
	case CAPTURING: {
		if (now < w->until_ns && !a->target_gone)
			return 0;
		struct snapshot_paths paths;
		char *cause = NULL;
		if (snapshot_write(a, PROFILE_ALL, w->opt->output, w->reason, &paths, &cause) == 0) {
			watch_print("captured %s %s (%s)", paths.pprof, paths.json, w->reason);
			snapshot_paths_done(&paths);
		} else {
			watch_print("capture failed: %s", cause);
			free(cause);
			w->errors++;
		}
		w->captures++;
		for (int i = 0; i < w->nt; i++)
			trigger_rearm(&w->t[i]);
		if (w->captures >= w->opt->repeat) {
			w->phase = DONE;
			return 1;
		}
		w->phase = COOLING;
		w->until_ns = now + (uint64_t)(w->opt->cooldown_s * 1e9);
		if (w->opt->cooldown_s > 0)
			watch_print("cooling down for %.0f s", w->opt->cooldown_s);
		return 0;
	}
	case COOLING:
		if (now >= w->until_ns) {
			w->phase = WATCHING;
			watch_print("watching again");
		}
		return 0;
	case DONE:
		return 1;
	}
	return 0;
}

static int cmd_record_triggers(struct app_options *opt)
{
	if (!opt->output)
		opt->output = ".";
	if (opt->duration_s <= 0)
		opt->duration_s = 10;
	char *cause = NULL;
	/* -o is a directory: check it is one and takes files before attaching. */
	struct stat st;
	int sr = stat(opt->output, &st);
	if (sr < 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "proftop: cannot write captures into %s: %s\n", opt->output,
			sr < 0 ? strerror(errno) : "not a directory");
		return 1;
	}
	char *probe = xasprintf("%s/.proftop-probe", opt->output);
	struct util_atomic f;
	int r = util_atomic_open(&f, probe, &cause);
	free(probe);
	if (r < 0) {
		fprintf(stderr, "proftop: %s\n", cause);
		free(cause);
		return 1;
	}
	util_atomic_abort(&f);
	struct watch_state w = { .opt = opt, .nt = opt->ntriggers };
	w.t = xcalloc((size_t)opt->ntriggers, sizeof *w.t);
	for (int i = 0; i < opt->ntriggers; i++)
		if (trigger_parse(opt->triggers[i], opt->trigger_for_s, &w.t[i], &cause) < 0)
			util_fatal("%s", cause); /* parsed once already in parse_options */
	struct app a;
	if (app_init(&a, opt, false, &cause) < 0) {
		fprintf(stderr, "proftop: %s\n", cause);
		free(cause);
		app_done(&a);
		free(w.t);
		return 1;
	}
	app_monitor_start(&a);
	struct strbuf list = { 0 };
	for (int i = 0; i < opt->ntriggers; i++)
		strbuf_printf(&list, "%s%s", i ? ", " : "", opt->triggers[i]);
	watch_print("watching pid %d (%s), %s mode at %d Hz, for %s; each capture %g s into %s",
		    (int)a.pid, a.comm, a.mode_name, a.rate_hz, list.s, opt->duration_s, opt->output);
	strbuf_done(&list);
	struct app_hooks h = { .arg = &w, .refresh = watch_refresh, .refresh_ns = 100000000ull };
	app_run(&a, &h, true);
	if (w.phase == CAPTURING) /* ended by a signal or the target's exit: keep what we have */
		watch_refresh(&a, &w, UINT64_MAX);
	if (a.target_gone)
		watch_print("the target exited");
	int rc = w.errors ? 1 : 0;
	app_done(&a);
	free(w.reason);
	free(w.t);
	return rc;
}

static int cmd_record(struct app_options *opt)
{
	if (opt->ntriggers)
		return cmd_record_triggers(opt);
	if (!opt->output)
		opt->output = default_output(opt->format);
	/* Fail on an unwritable output before touching the target. */
	char *cause = NULL;
	struct util_atomic probe;
	if (util_atomic_open(&probe, opt->output, &cause) < 0) {
		fprintf(stderr, "proftop: %s\n", cause);
		free(cause);
		return 1;
	}
	util_atomic_abort(&probe);

	struct app a;
	if (app_init(&a, opt, false, &cause) < 0) {
		fprintf(stderr, "proftop: %s\n", cause);
		free(cause);
		app_done(&a);
		return 1;
	}
	if (sampler_note(a.sampler))
		fprintf(stderr, "proftop: %s\n", sampler_note(a.sampler));
	fprintf(stderr, "proftop: recording pid %d (%s), %s mode at %d Hz%s\n", (int)a.pid, a.comm,
		sampler_name(a.sampler), a.sampler->cfg.rate_hz,
		opt->duration_s > 0 ? "" : ", until it exits or Ctrl-C");
	struct record_state r = { 0 };
	if (opt->duration_s > 0)
		r.end_ns = a.start_ns + (uint64_t)(opt->duration_s * 1e9);
	struct app_hooks h = {
		.arg = &r,
		.refresh = record_refresh,
		.refresh_ns = 100000000ull,
	};
	app_run(&a, &h, true);
	/* Detach before writing: the target runs free while we symbolize and compress. */
	uint64_t lost = app_detach(&a);
	int rc = 0;
	uint64_t n = profile_total(a.prof, PROFILE_ALL);
	if (app_export(&a, PROFILE_ALL, opt->format, opt->output, false, &cause) < 0) {
		fprintf(stderr, "proftop: %s\n", cause);
		free(cause);
		rc = 1;
	} else {
		char lostbuf[64] = "";
		if (lost)
			snprintf(lostbuf, sizeof lostbuf, ", %llu lost", (unsigned long long)lost);
		fprintf(stderr, "proftop: wrote %llu samples%s to %s%s\n", (unsigned long long)n,
			lostbuf, opt->output, a.target_gone ? " (the target exited)" : "");
	}
	app_done(&a);
	return rc;
}

static struct rlimit nofile_orig;

/* In a forked child (the -- CMD we start): the soft limit it would have had without us. */
static void restore_nofile_limit(void)
{
	setrlimit(RLIMIT_NOFILE, &nofile_orig);
}

/* Raise the soft limit on open files to the hard one: perf mode opens one event per target
 * thread, and a target with a thousand threads passes the usual 1024. */
static void raise_nofile_limit(void)
{
	if (getrlimit(RLIMIT_NOFILE, &nofile_orig) < 0 ||
	    nofile_orig.rlim_cur >= nofile_orig.rlim_max)
		return;
	struct rlimit rl = { .rlim_cur = nofile_orig.rlim_max, .rlim_max = nofile_orig.rlim_max };
	if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
		pthread_atfork(NULL, NULL, restore_nofile_limit);
}

int main(int argc, char **argv)
{
	util_crash_handlers_install();
	raise_nofile_limit();
	/* Never let libdwfl fetch debug info over the network while a target waits on us. */
	unsetenv("DEBUGINFOD_URLS");
	struct app_options opt = {
		.rate_hz = 99,
		.mode = SAMPLER_AUTO,
		.callgraph = SAMPLER_CG_FP,
		.window_s = 10,
		.stuck_after_s = 5,
		.trigger_for_s = 10,
		.repeat = 1,
		.cooldown_s = 60,
	};
	const char *sub = "top";
	if (argc > 1 && argv[1][0] != '-') {
		sub = argv[1];
		argv++;
		argc--;
	}
	int (*run)(struct app_options *) = !strcmp(sub, "record") ? cmd_record
					  : !strcmp(sub, "top")    ? cli_top
					  : !strcmp(sub, "dump")   ? cli_dump
								   : NULL;
	if (!run)
		usage_error("unknown command '%s'", sub);
	parse_options(argc, argv, &opt);
	if (run == cli_dump && opt.cmd)
		usage_error("dump looks at a running process: give -p PID, not -- CMD");
	if (opt.log_path) {
		char *cause = NULL;
		if (util_log_open(opt.log_path, &cause) < 0) {
			fprintf(stderr, "proftop: %s\n", cause);
			free(cause);
			return 1;
		}
		util_log("proftop %s %s: pid %d", PROFTOP_VERSION, sub, (int)opt.pid);
	}
	int rc = run(&opt);
	util_log("exit status %d", rc);
	util_log_close();
	free(opt.triggers);
	return rc;
}
