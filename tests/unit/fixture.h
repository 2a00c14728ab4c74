/* fixture: run a fixture program (tests/bin/NAME, or $TESTBIN/NAME) from a unit test: start it,
 * wait for its "ready" (or "deadlocked") line, read KEY=VALUE facts off that line, stop it.
 * Include after check.h: a fixture that is missing or never gets ready is a failed check. */
#ifndef PROFTOP_TEST_FIXTURE_H
#define PROFTOP_TEST_FIXTURE_H

#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util.h"

struct fixture {
	pid_t pid;
	int out;          /* its stdout */
	char line[512];   /* the ready / deadlocked line */
};

static const char *fixture_dir(void) __attribute__((unused));
static const char *fixture_dir(void)
{
	const char *d = getenv("TESTBIN");
	return d && *d ? d : "tests/bin";
}

/* Start NAME with up to two arguments (NULL for none) and wait up to 60 s for its line. */
static bool fixture_start(struct fixture *f, const char *name, const char *arg, const char *arg2)
	__attribute__((unused));
static bool fixture_start(struct fixture *f, const char *name, const char *arg, const char *arg2)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", fixture_dir(), name);
	memset(f, 0, sizeof *f);
	f->pid = f->out = -1;
	if (access(path, X_OK) != 0) {
		check(false, "%s: not built (make fixtures)", path);
		return false;
	}
	int p[2];
	if (pipe(p) < 0)
		return false;
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		execl(path, path, arg, arg2, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	f->pid = pid;
	f->out = p[0];
	size_t len = 0;
	uint64_t end = util_now_ns() + 60ull * 1000000000;
	while (util_now_ns() < end && len + 1 < sizeof f->line) {
		struct pollfd pfd = { .fd = f->out, .events = POLLIN };
		if (poll(&pfd, 1, 200) <= 0)
			continue;
		if (read(f->out, f->line + len, 1) <= 0)
			break;
		if (f->line[len] == '\n') {
			f->line[len] = '\0';
			if (strncmp(f->line, "ready", 5) == 0 || strncmp(f->line, "deadlocked", 10) == 0)
				return true;
			len = 0;
			continue;
		}
		len++;
	}
	check(false, "%s: did not get ready", name);
	return false;
}

static void fixture_stop(struct fixture *f) __attribute__((unused));
static void fixture_stop(struct fixture *f)
{
	if (f->pid > 0) {
		kill(f->pid, SIGKILL);
		waitpid(f->pid, NULL, 0);
	}
	if (f->out >= 0)
		close(f->out);
	f->pid = f->out = -1;
}

/* KEY=VALUE of the ready line, as a number (0x... or decimal); 0 when absent. */
static uint64_t fixture_fact(const struct fixture *f, const char *key) __attribute__((unused));
static uint64_t fixture_fact(const struct fixture *f, const char *key)
{
	char pat[64];
	snprintf(pat, sizeof pat, " %s=", key);
	const char *p = strstr(f->line, pat);
	return p ? strtoull(p + strlen(pat), NULL, 0) : 0;
}

#endif
