# A process whose main thread called pthread_exit runs on: its leader is a zombie (State Z) but
# Threads: is 2 (tests/bin/mainexit).  record in perf and ptrace mode profiles the worker rather
# than saying the process exited, dump shows the worker's stack (glibc found through it), and the
# target is left running and untraced.  A real zombie (exited, not reaped) gets one line each.
. "$(dirname "$0")/lib.sh"
start_fixture mainexit
W=$(fact worker)
[ "$(awk '/^State/{print $2}' "/proc/$FIX_PID/status")" = Z ] || fail "main is not a zombie"
[ "$(awk '/^Threads/{print $2}' "/proc/$FIX_PID/status")" = 2 ] || fail "not 2 threads"

for mode in perf ptrace; do
	"$PROFTOP" record -p "$FIX_PID" -d 2 --mode "$mode" --format folded -o "$T/$mode.folded" \
		2>"$T/$mode.err" || fail "record --mode $mode failed: $(cat "$T/$mode.err")"
	grep -q "exited" "$T/$mode.err" && fail "record --mode $mode: $(cat "$T/$mode.err")"
	n=$(folded_count "$T/$mode.folded" burn_worker)
	all=$(awk '{ s += $NF } END { print s + 0 }' "$T/$mode.folded")
	note "$mode: burn_worker $n of $all samples"
	[ "$n" -gt 20 ] || fail "record --mode $mode: $n samples in burn_worker: $(cat "$T/$mode.folded")"
	[ "$n" -eq "$all" ] || fail "record --mode $mode: samples outside the worker: $(cat "$T/$mode.folded")"
	assert_untraced "$FIX_PID"
done

"$PROFTOP" dump -p "$FIX_PID" --json >"$T/d.json" 2>"$T/d.err" || fail "dump: exit $?: $(cat "$T/d.err")"
python3 - "$T/d.json" "$FIX_PID" "$W" <<'PY' || fail "dump JSON check failed"
import json, sys
d = json.load(open(sys.argv[1]))
pid, w = int(sys.argv[2]), int(sys.argv[3])
th = {t["tid"]: t for t in d["threads"]}
assert set(th) == {pid, w}, sorted(th)
assert th[pid]["state"] == "zombie", th[pid]
assert th[w]["state"] == "running" and th[w]["name"] == "worker", th[w]
assert any(s["function"] == "burn_worker" for s in th[w]["stack"]), th[w]["stack"]
print("ok: dump of a zombie leader")
PY
"$PROFTOP" dump -p "$FIX_PID" >"$T/d.txt" 2>"$T/d.err" || fail "dump (text): exit $?: $(cat "$T/d.err")"
grep -q "no glibc" "$T/d.txt" && fail "glibc not found through the worker: $(head -1 "$T/d.txt")"
grep -q "burn_worker" "$T/d.txt" || fail "dump (text): no burn_worker: $(cat "$T/d.txt")"
assert_untraced "$FIX_PID"
assert_progress "$FIX_PID"

# A real zombie: a child that exits while its parent never reaps it.
python3 -c 'import os, sys, time
p = os.fork()
if p == 0: os._exit(0)
print(p, flush=True); time.sleep(30)' >"$T/z.out" &
ZP=$!
FIXTURE_PIDS="$FIXTURE_PIDS $ZP"
wait_for "[ -s '$T/z.out' ]" 5 || fail "no zombie child"
Z=$(cat "$T/z.out")
wait_for "[ \"\$(awk '/^State/{print \$2}' /proc/$Z/status 2>/dev/null)\" = Z ]" 5 || fail "$Z is not a zombie"
"$PROFTOP" record -p "$Z" -d 1 -o "$T/z.pb.gz" 2>"$T/z1" && fail "record of a zombie accepted"
[ "$(wc -l <"$T/z1")" -eq 1 ] && grep -q "process $Z has exited" "$T/z1" || fail "record: $(cat "$T/z1")"
"$PROFTOP" dump -p "$Z" >"$T/z.txt" 2>"$T/z2" && fail "dump of a zombie accepted"
[ "$(wc -l <"$T/z2")" -eq 1 ] && grep -q "process $Z has exited" "$T/z2" || fail "dump: $(cat "$T/z2")"
[ -s "$T/z.txt" ] && fail "output for a zombie"
exit 0
