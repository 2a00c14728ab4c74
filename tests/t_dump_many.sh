# A process with 1000 threads: dump completes and its counts by wait are exact: every
# "mutexwait" thread waits on the mutex m held by "holder", every "condwait" on the condvar cv,
# the sleepers and the holder in clock_nanosleep; the busy thread is running in busy_work.
. "$(dirname "$0")/lib.sh"
start_fixture manythreads --threads 1000
"$PROFTOP" dump -p "$FIX_PID" --json >"$T/out.json" 2>"$T/err"
rc=$?
[ $rc -eq 0 ] || fail "exit $rc, not 0: $(cat "$T/err")"
python3 - "$T/out.json" "$FIX_LINE" <<'PY' || fail "JSON check failed"
import json, sys
d = json.load(open(sys.argv[1]))
F = dict(kv.split("=", 1) for kv in sys.argv[2].split()[1:])
th = d["threads"]
assert len(th) == int(F["threads"]) + 1, len(th)
assert d["deadlocks"] == [], d["deadlocks"]
holder = int(F["holder"])
mw = [t for t in th if t["wait"] and t["wait"]["kind"] == "mutex"]
assert len(mw) == int(F["mutex"]), ("mutex waits", len(mw))
assert all(t["name"] == "mutexwait" and t["wait"]["addr"] == F["m"] and t["wait"]["owner_tid"] == holder for t in mw)
cw = [t for t in th if t["wait"] and t["wait"]["kind"] == "condvar"]
assert len(cw) == int(F["cond"]), ("condvar waits", len(cw))
assert all(t["name"] == "condwait" and t["wait"]["addr"] == F["cv"] for t in cw)
sl = [t for t in th if t["syscall"] == "clock_nanosleep"]
assert len(sl) == int(F["sleep"]) + 1, ("sleepers", len(sl))
unknown = [t for t in th if t["wait"] and t["wait"]["kind"] == "futex"]
assert not unknown, unknown[:2]
busy = [t for t in th if t["tid"] == int(F["busy"])][0]
assert any(s["function"] == "busy_work" for s in busy["stack"]), busy
nostack = [t["tid"] for t in th if not t["stack"]]
assert not nostack, ("threads without a stack", nostack[:5])
print("ok: %d threads, %d mutex waits, %d condvar waits, %d sleepers" % (len(th), len(mw), len(cw), len(sl)))
PY
assert_untraced "$FIX_PID"
assert_progress "$FIX_PID"
