/* app: attach, the event loop and clean detach (see app.h). */
#include "app.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "export.h"
#include "tracee.h"
#include "util.h"

static void app_cleanup_hook(void *arg)
{
	struct app *a = arg;
	/* Detach first: the target matters more than our own state. */
	sampler_close(a->sampler);
	a->sampler = NULL;
}

/* Start opt->cmd; returns its pid once it has exec'ed (a close-on-exec pipe tells). */
static pid_t spawn(char **cmd, bool quiet, char **cause)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0) {
		*cause = xasprintf("pipe: %s", strerror(errno));
		return -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		*cause = xasprintf("fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		close(p[0]);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL); /* ignored by proftop; exec would pass that on */
		if (quiet) {
			int fd = open("/dev/null", O_RDWR);
			if (fd >= 0) {
				dup2(fd, 0);
				dup2(fd, 1);
				dup2(fd, 2);
				if (fd > 2)
					close(fd);
			}
		}
		execvp(cmd[0], cmd);
		int e = errno;
		if (write(p[1], &e, sizeof e) < 0)
			_exit(127);
		_exit(127);
	}
	close(p[1]);
	int e = 0;
	ssize_t r;
	do
		r = read(p[0], &e, sizeof e);
	while (r < 0 && errno == EINTR);
	close(p[0]);
	if (r == (ssize_t)sizeof e) {
		waitpid(pid, NULL, 0);
		*cause = xasprintf("cannot run %s: %s", cmd[0], strerror(e));
		return -1;
	}
	return pid;
}

int app_init(struct app *a, const struct app_options *opt, bool quiet_child, char **cause)
{
	memset(a, 0, sizeof *a);
	a->opt = *opt;
	a->sigfd = a->timerfd = a->pidfd = -1;
	a->child_status = -1;

	/* Signals arrive through the signalfd, never asynchronously. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGWINCH);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTSTP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	a->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);

	if (opt->cmd) {
		a->pid = spawn(opt->cmd, quiet_child, cause);
		if (a->pid < 0)
			return -1;
		a->spawned = true;
	} else {
		a->pid = opt->pid;
	}
	util_proc_comm(a->pid, 0, a->comm, sizeof a->comm);

	struct sampler_config cfg = {
		.pid = a->pid,
		.rate_hz = opt->rate_hz > 0 ? opt->rate_hz : 99,
		.mode = opt->mode,
		.callgraph = opt->callgraph,
		.idle = opt->idle,
		.spawned = a->spawned,
	};
	a->sampler = sampler_open(&cfg, cause);
	if (!a->sampler)
		return -1;
	a->sampler_cfg = a->sampler->cfg; /* the mode chosen, for a reattach after a suspend */
	a->mode_name = sampler_name(a->sampler);
	a->rate_hz = a->sampler->cfg.rate_hz;
	util_log("attached to pid %d (%s): %s mode, %s call graph, %d Hz, %d threads%s%s", (int)a->pid,
		 a->comm, a->mode_name, opt->callgraph == SAMPLER_CG_DWARF ? "dwarf" : "fp", a->rate_hz,
		 a->sampler->ntids, sampler_note(a->sampler) ? "; " : "",
		 sampler_note(a->sampler) ? sampler_note(a->sampler) : "");
	util_cleanup_push(app_cleanup_hook, a);
	pid_t mm = proc_target_mm_pid(a->pid);
	a->sym = symbols_new(mm > 0 ? mm : a->pid, cause);
	if (!a->sym)
		return -1;
	uint64_t window = (uint64_t)((opt->window_s > 0 ? opt->window_s : 10) * 1e9);
	a->prof = profile_new(a->sym, a->pid, window);
	a->start_ns = util_now_ns();
	a->start_real_ns = util_realtime_ns();
	a->rate_mark_ns = a->start_ns;
	a->pidfd = (int)syscall(SYS_pidfd_open, a->pid, 0);
	a->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	return 0;
}

static void add_sample(void *arg, const struct sample *s)
{
	struct app *a = arg;
	profile_add(a->prof, s);
	a->samples_seen++;
}

void app_monitor_start(struct app *a)
{
	if (!a->mon)
		a->mon = monitor_new(a->pid, a->sym, a->opt.stuck_after_s);
}

void app_drain(struct app *a)
{
	if (a->sampler)
		sampler_drain(a->sampler, add_sample, a);
}

void app_set_rate(struct app *a, int hz)
{
	if (a->sampler && sampler_set_rate(a->sampler, hz) == 0)
		a->rate_hz = a->sampler->cfg.rate_hz;
}

static void arm_timer(int fd, uint64_t interval_ns)
{
	struct itimerspec its = {
		.it_interval = { (time_t)(interval_ns / 1000000000u), (long)(interval_ns % 1000000000u) },
		.it_value = { (time_t)(interval_ns / 1000000000u), (long)(interval_ns % 1000000000u) },
	};
	timerfd_settime(fd, 0, &its, NULL);
}

/*
 * Collect the exit status of a spawned target, never blocking.  Peek first: the child may be a
 * tracee (ptrace sampler, a thread stopped alone for its stack), and a plain waitpid would
 * swallow its ptrace stop and leave it stopped for good.  Only an exit is reaped here.
 */
static void reap_child(struct app *a)
{
	if (!a->spawned || a->child_status != -1)
		return;
	if (a->sampler && a->sampler->exit_status != -1) {
		a->child_status = a->sampler->exit_status; /* the ptrace sampler reaped it */
		return;
	}
	siginfo_t si;
	memset(&si, 0, sizeof si);
	if (waitid(P_PID, (id_t)a->pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0 || si.si_pid != a->pid)
		return;
	if (si.si_code != CLD_EXITED && si.si_code != CLD_KILLED && si.si_code != CLD_DUMPED)
		return;
	int st;
	if (waitpid(a->pid, &st, WNOHANG) == a->pid)
		a->child_status = st;
}

/* Signal the spawned child, never another process that got its pid after it was reaped: through
 * its pidfd, or (no pidfd) only while it is still ours to reap. */
static int signal_child(struct app *a, int sig)
{
	if (a->pidfd >= 0)
		return (int)syscall(SYS_pidfd_send_signal, a->pidfd, sig, NULL, 0);
	siginfo_t si;
	if (waitid(P_PID, (id_t)a->pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0)
		return -1; /* ECHILD: reaped already */
	return kill(a->pid, sig);
}

/* A command proftop started does not outlive proftop: SIGTERM, SIGKILL after 2 s. */
static void stop_child(struct app *a)
{
	if (signal_child(a, SIGTERM) < 0)
		return;
	for (int i = 0; i < 200; i++) {
		int st;
		if (waitpid(a->pid, &st, WNOHANG) == a->pid) {
			a->child_status = st;
			return;
		}
		struct timespec ts = { 0, 10000000 };
		nanosleep(&ts, NULL);
	}
	if (signal_child(a, SIGKILL) == 0)
		waitpid(a->pid, NULL, 0);
}

/*
 * SIGTSTP: proftop is about to be stopped (Ctrl-Z).  A stopped tracer must hold nothing, so
 * close the sampler first (every thread detached and running, perf events gone), let the front
 * end give the terminal back, stop, and on SIGCONT attach again with the same mode and rate.
 */
static void suspend(struct app *a, const struct app_hooks *h)
{
	util_log("suspended (SIGTSTP)");
	app_detach(a);
	tracee_pending_drain(200ull * 1000 * 1000);
	if (h->suspend)
		h->suspend(a, h->arg);
	/* Stop with the default action; the signal is blocked for the signalfd, so unblock it
	 * just for this. */
	sigset_t tstp;
	sigemptyset(&tstp);
	sigaddset(&tstp, SIGTSTP);
	signal(SIGTSTP, SIG_DFL);
	raise(SIGTSTP); /* pending until unblocked: the terminal already stopped the rest of the job */
	sigprocmask(SIG_UNBLOCK, &tstp, NULL); /* the pending SIGTSTP stops us here */
	sigprocmask(SIG_BLOCK, &tstp, NULL);
	/* Continued. */
	if (!a->target_gone) {
		char *cause = NULL;
		a->sampler = sampler_open(&a->sampler_cfg, &cause);
		if (!a->sampler) {
			util_log("reattach after SIGCONT failed: %s", cause ? cause : "?");
			free(cause);
			a->target_gone = true;
		} else {
			util_log("resumed: attached to pid %d again", (int)a->pid);
		}
	}
	if (h->resume)
		h->resume(a, h->arg);
}

int app_run(struct app *a, const struct app_hooks *h, bool stop_on_exit)
{
	uint64_t tick_ns = sampler_interval_ns(a->sampler);
	uint64_t refresh_ns = h->refresh_ns ? h->refresh_ns : 1000000000ull;
	uint64_t timer_ns = tick_ns < refresh_ns ? tick_ns : refresh_ns;
	arm_timer(a->timerfd, timer_ns);
	uint64_t next_tick = util_now_ns() + tick_ns, next_refresh = util_now_ns() + refresh_ns;
	struct pollfd *fds = NULL;
	size_t capfds = 0;
	bool stop = false, want_suspend = false;

	while (!stop) {
		int nsamp = a->sampler ? a->sampler->ntids + 8 : 8;
		util_grow((void **)&fds, &capfds, (size_t)nsamp + 8, sizeof *fds);
		int n = 0;
		fds[n++] = (struct pollfd){ .fd = a->sigfd, .events = POLLIN };
		fds[n++] = (struct pollfd){ .fd = a->timerfd, .events = POLLIN };
		int pidfd_at = -1, stdin_at = -1;
		if (a->pidfd >= 0 && !a->target_gone) {
			pidfd_at = n;
			fds[n++] = (struct pollfd){ .fd = a->pidfd, .events = POLLIN };
		}
		if (h->want_stdin) {
			stdin_at = n;
			fds[n++] = (struct pollfd){ .fd = 0, .events = POLLIN };
		}
		if (h->before_sleep)
			h->before_sleep(a, h->arg);
		/* Late stops of threads stopped alone (threads view, Go reader) go free at once. */
		tracee_pending_flush();
		/* The tick comes last before poll(): the ptrace sampler's interrupted threads then
		 * wait only for poll() to report their stops, never for monitor work or drawing. */
		uint64_t now = util_now_ns();
		if (a->sampler && !a->target_gone && now >= next_tick) {
			/* Keep the tick grid (no drift from our own latency); skip ticks we missed. */
			next_tick += tick_ns;
			if (next_tick <= now)
				next_tick = now + tick_ns;
			if (sampler_tick(a->sampler, now) < 0)
				a->target_gone = true;
			uint64_t t2 = sampler_interval_ns(a->sampler);
			if (t2 != tick_ns) {
				tick_ns = t2;
				timer_ns = tick_ns < refresh_ns ? tick_ns : refresh_ns;
				arm_timer(a->timerfd, timer_ns);
			}
		}
		int samp_at = n;
		if (a->sampler && !a->target_gone)
			n += sampler_pollfds(a->sampler, fds + n, (int)(capfds - (size_t)n));
		int r = poll(fds, (nfds_t)n, -1);
		if (r < 0 && errno != EINTR)
			break;

		if (fds[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			while (read(a->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
				switch (si.ssi_signo) {
				case SIGWINCH:
					if (h->resize && h->resize(a, h->arg))
						stop = true;
					break;
				case SIGCHLD:
					reap_child(a);
					break;
				case SIGTSTP:
					want_suspend = true; /* once the polled fds are handled */
					break;
				default:
					a->quit_signal = (int)si.ssi_signo;
					stop = true;
				}
			}
		}
		if (stdin_at >= 0 && (fds[stdin_at].revents & (POLLIN | POLLHUP | POLLERR))) {
			if (fds[stdin_at].revents & (POLLHUP | POLLERR)) {
				/* The terminal went away (SSH dropped): leave as for SIGHUP. */
				a->quit_signal = SIGHUP;
				stop = true;
			} else if (h->input && h->input(a, h->arg)) {
				stop = true;
			}
		}
		if (pidfd_at >= 0 && (fds[pidfd_at].revents & POLLIN)) {
			a->target_gone = true;
			reap_child(a);
		}
		if (a->sampler && n > samp_at)
			sampler_polled(a->sampler, fds + samp_at, n - samp_at);
		if (want_suspend && !stop)
			suspend(a, h); /* the sampler is new afterwards: nothing of this poll is used */
		want_suspend = false;
		now = util_now_ns();
		if (fds[1].revents & POLLIN) {
			uint64_t exp;
			if (read(a->timerfd, &exp, sizeof exp) < 0)
				exp = 0;
		}
		app_drain(a);
		if (a->mon && !a->target_gone && now >= monitor_next_ns(a->mon))
			monitor_tick(a->mon, now);
		if (a->target_gone) {
			reap_child(a);
			if (stop_on_exit)
				stop = true;
		}
		if (now >= next_refresh || stop) {
			next_refresh += refresh_ns;
			if (next_refresh <= now)
				next_refresh = now + refresh_ns;
			profile_expire(a->prof, now);
			if (now > a->rate_mark_ns + 500000000ull) {
				a->sample_rate = (double)(a->samples_seen - a->rate_mark_samples) * 1e9 /
						 (double)(now - a->rate_mark_ns);
				a->rate_mark_ns = now;
				a->rate_mark_samples = a->samples_seen;
			}
			if (h->refresh && h->refresh(a, h->arg, now))
				stop = true;
		}
	}
	free(fds);
	return 0;
}

uint64_t app_detach(struct app *a)
{
	if (!a->sampler)
		return 0;
	const struct sampler_stats *st = sampler_stats(a->sampler);
	uint64_t lost = st->lost;
	util_log("detaching from pid %d: %llu samples, %llu lost", (int)a->pid,
		 (unsigned long long)st->samples, (unsigned long long)lost);
	app_drain(a);
	reap_child(a); /* while the sampler still holds a status it reaped */
	sampler_close(a->sampler);
	a->sampler = NULL;
	return lost;
}

void app_done(struct app *a)
{
	app_detach(a);
	util_cleanup_remove(app_cleanup_hook, a);
	monitor_free(a->mon);
	a->mon = NULL;
	tracee_pending_drain(200ull * 1000 * 1000);
	reap_child(a);
	if (a->spawned && a->child_status == -1)
		stop_child(a);
	profile_free(a->prof);
	a->prof = NULL;
	symbols_free(a->sym);
	a->sym = NULL;
	if (a->sigfd >= 0)
		close(a->sigfd);
	if (a->timerfd >= 0)
		close(a->timerfd);
	if (a->pidfd >= 0)
		close(a->pidfd);
	a->sigfd = a->timerfd = a->pidfd = -1;
}

int app_export(struct app *a, enum profile_window w, enum export_format fmt, const char *path,
	       bool no_clobber, char **cause)
{
	struct export_meta m = {
		.pid = a->pid,
		.comm = a->comm,
		.mode = a->mode_name,
		.callgraph = a->opt.callgraph == SAMPLER_CG_DWARF ? "dwarf" : "fp",
		.rate_hz = a->rate_hz,
	};
	uint64_t start = profile_start_ns(a->prof, w);
	uint64_t now = util_now_ns();
	if (!start)
		start = w == PROFILE_ALL ? a->start_ns : now;
	m.time_real_ns = a->start_real_ns + (start > a->start_ns ? start - a->start_ns : 0);
	uint64_t last = profile_last_ns(a->prof);
	m.duration_ns = (a->target_gone && last > start ? last : now) - start;

	struct util_atomic f;
	if (util_atomic_open(&f, path, cause) < 0)
		return -1;
	int r = 0;
	if (fmt == EXPORT_PPROF) {
		r = export_pprof(a->prof, w, &m, f.fd, cause);
	} else {
		struct strbuf sb = { 0 };
		if (fmt == EXPORT_FOLDED)
			export_folded(a->prof, w, &sb);
		else
			export_json(a->prof, w, &m, &sb);
		if (util_write_all(f.fd, sb.s ? sb.s : "", sb.len) < 0) {
			*cause = xasprintf("cannot write %s: %s", path, strerror(errno));
			r = -1;
		}
		strbuf_done(&sb);
	}
	if (r < 0) {
		util_atomic_abort(&f);
		return -1;
	}
	return util_atomic_commit(&f, no_clobber, cause);
}
