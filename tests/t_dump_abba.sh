# dump on an AB-BA deadlock: exit 3, both TIDs and both mutex addresses named (as the fixture's
# deadlocked line has them), the banner line, the JSON schema, stacks with file:line; the busy
# thread keeps running and the target is left untraced and running.
. "$(dirname "$0")/lib.sh"
start_fixture abba
A=$(fact A) B=$(fact B) T1=$(fact t1) T2=$(fact t2)
"$PROFTOP" dump -p "$FIX_PID" >"$T/out" 2>"$T/err"
rc=$?
[ $rc -eq 3 ] || fail "exit $rc, not 3: $(cat "$T/err" "$T/out")"
grep -q "^DEADLOCK: $T1 holds lock_a waits lock_b; $T2 holds lock_b waits lock_a$" "$T/out" ||
	fail "no banner for $T1/$T2: $(head -3 "$T/out")"
grep -q "$T1 (t1): mutex $B (lock_b) held by $T2 (t2)" "$T/out" || fail "t1's wait not named: $(cat "$T/out")"
grep -q "$T2 (t2): mutex $A (lock_a) held by $T1 (t1)" "$T/out" || fail "t2's wait not named"
grep -q "take_a_then_b at .*abba.c:[0-9]" "$T/out" || fail "no file:line for take_a_then_b"

"$PROFTOP" dump -p "$FIX_PID" --json >"$T/out.json" 2>"$T/err"
rc=$?
[ $rc -eq 3 ] || fail "--json: exit $rc, not 3: $(cat "$T/err")"
python3 - "$T/out.json" "$FIX_PID" "$A" "$B" "$T1" "$T2" <<'PY' || fail "JSON: see above"
import json, sys
f, pid, A, B, t1, t2 = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
d = json.load(open(f))
assert d["pid"] == pid and d["comm"] == "abba", (d["pid"], d["comm"])
assert d["glibc"] == "2.36" and d["futex_decoding"] is True, d["glibc"]
assert len(d["deadlocks"]) == 1, d["deadlocks"]
dl = d["deadlocks"][0]
assert dl["tids"] == [t1, t2], dl
assert dl["locks"] == [B, A], dl
assert dl["kinds"] == ["mutex", "mutex"] and dl["symbols"] == ["lock_b", "lock_a"], dl
th = {t["tid"]: t for t in d["threads"]}
w = th[t1]["wait"]
assert w["kind"] == "mutex" and w["addr"] == B and w["owner_tid"] == t2 and w["owner_name"] == "t2", w
assert w["deadlock"] == 0 and w["type"] == "normal", w
assert th[t1]["state"] == "sleeping" and th[t1]["syscall"] == "futex", th[t1]
funcs = [s["function"] for s in th[t1]["stack"]]
assert "take_a_then_b" in funcs and "t1_main" in funcs, funcs
fr = [s for s in th[t1]["stack"] if s["function"] == "take_a_then_b"][0]
assert fr["file"].endswith("abba.c") and fr["line"] > 0 and fr["module"] == "abba" and fr["addr"].startswith("0x"), fr
busy = [t for t in d["threads"] if t["name"] == "busy"][0]
assert busy["wait"] is None, busy
assert any(s["function"] == "busy_work" for s in busy["stack"]), busy["stack"]
print("json ok: deadlock", dl["text"])
PY
assert_untraced "$FIX_PID"
assert_progress "$FIX_PID"
