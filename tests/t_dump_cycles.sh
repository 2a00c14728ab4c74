# dump finds each kind of cycle (exit 3 each time): three threads over mutexes of three types
# (normal, recursive, error-checking), a thread relocking its own normal mutex (a cycle of one,
# with main joining it), a rwlock writer / mutex cycle, and AB-BA over priority-inheritance
# mutexes (where the kernel refuses the second lock with EDEADLK).
. "$(dirname "$0")/lib.sh"

# dump_json NAME: dump the current fixture into $T/NAME.json, expecting exit 3.
dump_json() {
	"$PROFTOP" dump -p "$FIX_PID" --json >"$T/$1.json" 2>"$T/$1.err"
	local rc=$?
	[ $rc -eq 3 ] || fail "$1: exit $rc, not 3: $(cat "$T/$1.err")"
}

# check NAME PYTHON: run assertions on $T/NAME.json (d: the dump, th: threads by tid, F: facts).
check() {
	python3 - "$T/$1.json" "$FIX_LINE" "$2" <<'PY' || fail "$1: JSON check failed"
import json, sys
d = json.load(open(sys.argv[1]))
F = dict(kv.split("=", 1) for kv in sys.argv[2].split()[1:])
th = {t["tid"]: t for t in d["threads"]}
def tid(k): return int(F[k])
exec(sys.argv[3])
PY
}

start_fixture cycle3
dump_json cycle3
check cycle3 '
dl = d["deadlocks"]
assert len(dl) == 1 and dl[0]["tids"] == [tid("t1"), tid("t2"), tid("t3")], dl
assert dl[0]["locks"] == [F["m2"], F["m3"], F["m1"]], dl
types = [th[tid(k)]["wait"]["type"] for k in ("t1", "t2", "t3")]
assert types == ["recursive", "errorcheck", "normal"], types
print("cycle3:", dl[0]["text"])'
assert_untraced "$FIX_PID"

start_fixture selflock
dump_json selflock
check selflock '
dl = d["deadlocks"]
assert len(dl) == 1 and dl[0]["tids"] == [tid("tid")] and dl[0]["locks"] == [F["m"]], dl
assert dl[0]["text"] == "%d holds m waits m" % tid("tid"), dl[0]["text"]
j = th[tid("pid")]["wait"]
assert j["kind"] == "join" and j["owner_tid"] == tid("tid") and j["behind_deadlock"] == 0, j
assert dl[0]["blocked_behind"] == [tid("pid")], dl
print("selflock:", dl[0]["text"], "/", j["text"])'
assert_untraced "$FIX_PID"

start_fixture rwcycle
dump_json rwcycle
check rwcycle '
dl = d["deadlocks"]
assert len(dl) == 1 and dl[0]["tids"] == [tid("t1"), tid("t2")], dl
assert dl[0]["locks"] == [F["m"], F["rw"]] and dl[0]["kinds"] == ["mutex", "rwlock"], dl
w = th[tid("t2")]["wait"]
assert w["kind"] == "rwlock" and w["addr"] == F["rw"] and w["owner_tid"] == tid("t1") and "write" in w["flags"], w
print("rwcycle:", dl[0]["text"])'
assert_untraced "$FIX_PID"

start_fixture pimutex
dump_json pimutex
check pimutex '
dl = d["deadlocks"]
assert len(dl) == 1 and dl[0]["tids"] == [tid("t1"), tid("t2")], dl
assert sorted(dl[0]["locks"]) == sorted([F["A"], F["B"]]) and dl[0]["kernel"] is True, dl
w1, w2 = th[tid("t1")]["wait"], th[tid("t2")]["wait"]
assert w1["addr"] == F["B"] and w1["owner_tid"] == tid("t2") and "pi" in w1["flags"], w1
assert w2["addr"] == F["A"] and w2["owner_tid"] == tid("t1") and "edeadlk" in w2["flags"], w2
print("pimutex:", dl[0]["text"])'
assert_untraced "$FIX_PID"
