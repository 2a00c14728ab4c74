# The main thread joining a thread that is itself deadlocked is reported as waiting for that
# thread to exit, behind the deadlock (not as a member of it).
. "$(dirname "$0")/lib.sh"
start_fixture joindead
T1=$(fact t1) T2=$(fact t2) MAIN=$(fact main)
"$PROFTOP" dump -p "$FIX_PID" >"$T/out" 2>"$T/err"
rc=$?
[ $rc -eq 3 ] || fail "exit $rc, not 3: $(cat "$T/err")"
grep -q "waits: join: waits for $T1 (t1) to exit  \[behind DEADLOCK 1: $T1 is deadlocked\]" "$T/out" ||
	fail "main's join not reported: $(grep -A2 "^Thread $MAIN " "$T/out")"
grep -q "blocked behind it: $MAIN (joindead): join: waits for $T1 (t1) to exit" "$T/out" ||
	fail "deadlock does not list main behind it: $(sed -n '/^Deadlocks/,$p' "$T/out")"
"$PROFTOP" dump -p "$FIX_PID" --json >"$T/out.json" 2>"$T/err"
[ $? -eq 3 ] || fail "--json: exit not 3"
python3 - "$T/out.json" "$MAIN" "$T1" "$T2" <<'PY' || fail "JSON check failed"
import json, sys
d = json.load(open(sys.argv[1])); main, t1, t2 = map(int, sys.argv[2:5])
th = {t["tid"]: t for t in d["threads"]}
w = th[main]["wait"]
assert w["kind"] == "join" and w["owner_tid"] == t1 and w["deadlock"] is None and w["behind_deadlock"] == 0, w
assert any(s["function"] == "join_t1" for s in th[main]["stack"]), th[main]["stack"]
assert d["deadlocks"][0]["tids"] == [t1, t2] and d["deadlocks"][0]["blocked_behind"] == [main], d["deadlocks"]
print("ok:", w["text"])
PY
assert_untraced "$FIX_PID"
