/* main: command line, and the headless front ends (record). */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "app.h"
#include "cli.h"
#include "util.h"

#define PROFTOP_VERSION "0.1.0"

static const char usage_text[] =
	"usage: proftop [top] -p PID [options]          live TUI on a running process\n"
	"       proftop [top] [options] -- CMD [ARGS]   start CMD and watch it\n"
	"       proftop record -p PID -d SEC -o FILE [--format pprof|folded|json]\n"
	"       proftop record [options] -o FILE -- CMD [ARGS]\n"
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
	"  ? F1                   help\n"
	"  Ctrl-L                 redraw the screen\n"
	"  q F10                  quit; the target runs on, untraced\n"
	"  Up Down PgUp PgDn      move the cursor (top); parent / child frame (flame)\n"
	"  Home End               first / last row (top); Home: the zoomed frame (flame)\n"
	"  Left Right             previous / next frame at the same depth (flame)\n"
	"  h j k l                Left Down Up Right\n"
	"  Enter                  callers, callees and source lines (top); zoom (flame)\n"
	"  Esc Backspace          back (top); zoom out (flame)\n"
	"  < > F6                 sort by self, total or name (top)\n"
	"  i                      icicle (root on top) or flame (root at the bottom)\n"
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
		usage_error("%s wants a number of seconds, not '%s'", name, arg);
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

static int cmd_record(struct app_options *opt)
{
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
	app_drain(&a);
	uint64_t lost = sampler_stats(a.sampler)->lost;
	sampler_close(a.sampler);
	a.sampler = NULL;
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

int main(int argc, char **argv)
{
	util_crash_handlers_install();
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
	if (!strcmp(sub, "record")) {
		parse_options(argc, argv, &opt);
		return cmd_record(&opt);
	}
	if (!strcmp(sub, "top")) {
		parse_options(argc, argv, &opt);
		return cli_top(&opt);
	}
	if (!strcmp(sub, "dump")) {
		parse_options(argc, argv, &opt);
		return cli_dump(&opt);
	}
	usage_error("unknown command '%s'", sub);
}
