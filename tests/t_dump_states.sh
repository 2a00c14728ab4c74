# Thread states and blocked calls in words (idle fixture), errors in one line with exit 1, and a
# lock whose owner exited while holding it (reported as owner died, not as a deadlock).
. "$(dirname "$0")/lib.sh"
start_fixture idle
# main enters pause() just after its ready line.
wait_for "grep -q '^34 ' /proc/$FIX_PID/syscall" 10 || fail "idle: main never paused"
"$PROFTOP" dump -p "$FIX_PID" --json >"$T/idle.json" 2>"$T/err" || fail "idle: exit $?: $(cat "$T/err")"
python3 - "$T/idle.json" "$FIX_LINE" <<'PY' || fail "idle: JSON check failed"
import json, sys
d = json.load(open(sys.argv[1]))
F = dict(kv.split("=", 1) for kv in sys.argv[2].split()[1:])
th = {t["tid"]: t for t in d["threads"]}
want = {"main": "pause", "reader": "read", "sleeper": "clock_nanosleep"}
for k, sc in want.items():
    t = th[int(F[k])]
    assert t["state"] == "sleeping" and t["syscall"] == sc and t["wait"] is None, t
    assert t["state_s_source"] == "kernel" and t["state_s"] >= 0, t
    assert t["wchan"] != "", t
assert any(s["function"] == "wait_in_read" for s in th[int(F["reader"])]["stack"])
print("ok: idle states")
PY
assert_untraced "$FIX_PID"

"$PROFTOP" dump -p 999999 >"$T/o" 2>"$T/e1" && fail "missing pid accepted"
[ "$(wc -l <"$T/e1")" -eq 1 ] && grep -q "no such process" "$T/e1" || fail "missing pid: $(cat "$T/e1")"
[ -s "$T/o" ] && fail "output for a missing pid"
"$PROFTOP" dump --json -- /bin/true 2>"$T/e2"; [ $? -eq 2 ] || fail "dump -- CMD: exit not 2 (a usage error)"
grep -q "give -p PID" "$T/e2" || fail "dump -- CMD: $(cat "$T/e2")"

# A thread exits holding a mutex; another then waits on it forever.
cat >"$T/ownerdied.c" <<'C'
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
pthread_mutex_t orphan = PTHREAD_MUTEX_INITIALIZER;
static volatile pid_t dead, waiter;
static void *doomed(void *a) { (void)a; dead = syscall(SYS_gettid); pthread_mutex_lock(&orphan); return NULL; }
static void *wait_orphan(void *a) { (void)a; waiter = syscall(SYS_gettid); pthread_mutex_lock(&orphan); return NULL; }
int main(void)
{
	pthread_t t;
	pthread_create(&t, NULL, doomed, NULL);
	pthread_join(t, NULL);
	pthread_create(&t, NULL, wait_orphan, NULL);
	char path[64], buf[256];
	for (int i = 0; i < 10000; i++) {
		usleep(1000);
		if (!waiter) continue;
		snprintf(path, sizeof path, "/proc/self/task/%d/syscall", (int)waiter);
		FILE *f = fopen(path, "r");
		if (!f) continue;
		int ok = fgets(buf, sizeof buf, f) && !strncmp(buf, "202 ", 4);
		fclose(f);
		if (ok) break;
	}
	printf("ready pid=%d dead=%d waiter=%d m=%p\n", (int)getpid(), (int)dead, (int)waiter, (void *)&orphan);
	fflush(stdout);
	for (;;) pause();
}
C
cc -O1 -g -pthread -o "$T/ownerdied" "$T/ownerdied.c" || fail "cannot build the owner-died program"
TESTBIN="$T" start_fixture ownerdied
"$PROFTOP" dump -p "$FIX_PID" --json >"$T/od.json" 2>"$T/err"
rc=$?
[ $rc -eq 0 ] || fail "owner died: exit $rc, not 0: $(cat "$T/err")"
python3 - "$T/od.json" "$FIX_LINE" <<'PY' || fail "owner died: JSON check failed"
import json, sys
d = json.load(open(sys.argv[1]))
F = dict(kv.split("=", 1) for kv in sys.argv[2].split()[1:])
assert d["deadlocks"] == [], d["deadlocks"]
assert d["owner_died"] == [{"tid": int(F["waiter"]), "owner_tid": int(F["dead"]), "addr": F["m"]}], d["owner_died"]
print("ok: owner died reported")
PY
"$PROFTOP" dump -p "$FIX_PID" | grep -q "held by $(fact dead), which has exited (owner died holding it)" ||
	fail "owner died: no text"
assert_untraced "$FIX_PID"
