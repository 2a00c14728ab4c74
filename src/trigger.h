/*
 * trigger: conditions on the watched target that start a capture by themselves, as
 * `record --trigger COND` uses them (what go-zero's CpuThreshold and "save the scene" do inside a
 * service, done from outside).  Conditions:
 *   cpu>70%            process CPU above 70% of one core, sustained for --for seconds
 *   rss>2G             resident size above 2 GiB (K, M, G, T: powers of 1024; plain: bytes)
 *   rss-growth>10M/min RSS growing faster than 10 MiB a minute (a steady fit over >= 30 s;
 *                      /s and /h also accepted)
 *   deadlock           threads (or goroutines) in a deadlock
 * They are evaluated on the monitor's observations (monitor.h).
 */
#ifndef PROFTOP_TRIGGER_H
#define PROFTOP_TRIGGER_H

#include <stdbool.h>
#include <stdint.h>

#include "monitor.h"

enum trigger_kind { TRIGGER_CPU, TRIGGER_RSS, TRIGGER_RSS_GROWTH, TRIGGER_DEADLOCK };

struct trigger {
	enum trigger_kind kind;
	char text[64];         /* as given: "cpu>70%" */
	double threshold;      /* percent, bytes, or bytes per minute */
	double for_s;          /* sustained this long (cpu) */
	uint64_t since_ns;     /* condition true continuously since (0: not true) */
	uint64_t seen_update;  /* last monitor update evaluated */
};

/* Parse COND; -1 with *cause (one line naming the accepted forms) when it is not one. */
int trigger_parse(const char *cond, double for_s, struct trigger *t, char **cause);
/* Evaluate on the monitor's latest observations; true when it fires.  why (optional) gets a
 * one-line reason with the values seen ("cpu 98.0% > 50% for 1.0 s"). */
bool trigger_check(struct trigger *t, const struct monitor *m, uint64_t now_ns, struct strbuf *why);
/* Forget how long a condition has held (after a capture). */
void trigger_rearm(struct trigger *t);

#endif
