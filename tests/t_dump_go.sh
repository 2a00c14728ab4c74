# A Go program with 1000 idle goroutines, 10 sleeping and a busy one: dump reports no deadlock
# (exit 0), says the futexes of a binary without glibc are not decoded, and leaves it running.
. "$(dirname "$0")/lib.sh"
start_fixture go-goroutines
"$PROFTOP" dump -p "$FIX_PID" --json >"$T/out.json" 2>"$T/err"
rc=$?
[ $rc -eq 0 ] || fail "exit $rc, not 0: $(cat "$T/err")"
python3 - "$T/out.json" <<'PY' || fail "JSON check failed"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["deadlocks"] == [] and d["glibc"] is None and d["futex_decoding"] is False, (d["deadlocks"], d["glibc"])
assert len(d["threads"]) >= 2, len(d["threads"])
for t in d["threads"]:
    assert t["wait"] is None or t["wait"]["kind"] == "futex", t["wait"]
print("ok:", len(d["threads"]), "threads, states", sorted(set(t["state"] for t in d["threads"])))
PY
"$PROFTOP" dump -p "$FIX_PID" >"$T/out" 2>"$T/err" || fail "text dump failed: $(cat "$T/err")"
grep -q "no glibc (futexes not decoded)" "$T/out" || fail "no explanation: $(head -2 "$T/out")"
grep -q "^Deadlocks: 0$" "$T/out" || fail "deadlocks reported"
assert_untraced "$FIX_PID"
assert_progress "$FIX_PID"
