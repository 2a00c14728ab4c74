# Go services through `proftop dump`, from the runtime's memory with no agent in the target:
# goroutine counts by wait reason, the AB-BA over two package-level sync.Mutex (exit 3, both
# goroutines, both mutexes by symbol, stacks with file:line, within 2 s after the threshold),
# contention that is never stuck, a long wait that is not a deadlock, and -ldflags=-w.
. "$(dirname "$0")/lib.sh"

# 1. 1000 in chan receive, 10 sleeping, one busy: exact counts.
start_fixture go-goroutines
"$PROFTOP" dump -p "$FIX_PID" --json >"$T/g.json" 2>"$T/err"; rc=$?
[ $rc -eq 0 ] || fail "go-goroutines: exit $rc: $(cat "$T/err")"
python3 - "$T/g.json" <<'PY' || fail "goroutine counts"
import json, sys, collections
g = json.load(open(sys.argv[1]))["go"]
user = [x for x in g["goroutines"] if not x["system"]]
c = collections.Counter(x["wait_reason"] for x in user if x["status"] == "waiting")
assert c["chan receive"] == 1000, c
assert c["sleep"] == 10, c
busy = [x for x in user if x["status"] in ("running", "runnable")]
assert len(busy) == 1, [(x["id"], x["status"]) for x in busy]
assert any(f["function"] == "main.busyLoop" for f in busy[0]["stack"]), busy[0]["stack"][:3]
print("ok:", dict(c), "busy", busy[0]["status"])
PY
assert_untraced "$FIX_PID"
kill "$FIX_PID"

# 2. AB-BA: exit 3 within 2 s after --stuck-after passes.
start_fixture go-abba
ledger=$(fact ledger); accounts=$(fact accounts)
start=$(date +%s%N)
"$PROFTOP" dump -p "$FIX_PID" --stuck-after 2 >"$T/abba" 2>"$T/err"; rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
note "go-abba: exit $rc after $ms ms"
[ $rc -eq 3 ] || fail "go-abba: exit $rc, not 3: $(cat "$T/err")"
[ $ms -le 4000 ] || fail "go-abba: took $ms ms (threshold 2 s + 2 s)"
grep -q "watching" "$T/err" || fail "did not say it was watching: $(cat "$T/err")"
grep -E "^DEADLOCK \(Go\): goroutine [0-9]+ holds main\.(ledger|accounts), waits main\.(accounts|ledger)" "$T/abba" ||
	fail "no Go deadlock banner: $(grep -i deadlock "$T/abba")"
grep -q "main.ledgerThenAccounts.*main.go:[0-9]" "$T/abba" || fail "no stack with file:line"
grep -q "main.accountsThenLedger.*main.go:[0-9]" "$T/abba" || fail "no stack with file:line"
"$PROFTOP" dump -p "$FIX_PID" --stuck-after 1 --json >"$T/abba.json" 2>/dev/null; rc=$?
[ $rc -eq 3 ] || fail "go-abba --json: exit $rc"
python3 - "$T/abba.json" "$ledger" "$accounts" <<'PY' || fail "go-abba JSON"
import json, sys
g = json.load(open(sys.argv[1]))["go"]
ledger, accounts = int(sys.argv[2], 16), int(sys.argv[3], 16)
dl = g["deadlocks"]
assert len(dl) == 1, dl
ids = sorted(m["id"] for m in dl[0]["goroutines"])
assert len(ids) == 2, dl[0]
waits = {x["id"]: x["mutex"] for x in g["goroutines"] if x["id"] in ids}
syms = sorted(w["symbol"] for w in waits.values())
assert syms == ["main.accounts", "main.ledger"], syms
addrs = sorted(int(w["addr"], 16) if isinstance(w["addr"], str) else w["addr"] for w in waits.values())
assert addrs == sorted([ledger, accounts]), (addrs, ledger, accounts)
assert all(w["locked"] for w in waits.values())
print("ok: goroutines", ids, "on", syms)
PY
assert_untraced "$FIX_PID"
kill "$FIX_PID"

# 3. Contention: eight goroutines on one mutex, dumped every 200 ms for 10 s: never stuck.
start_fixture go-contention
end=$(( $(date +%s) + 10 )); n=0
while [ "$(date +%s)" -lt "$end" ]; do
	"$PROFTOP" dump -p "$FIX_PID" --stuck-after 1 >"$T/c" 2>/dev/null; rc=$?
	[ $rc -eq 0 ] || fail "contention: exit $rc: $(grep -i -A3 'deadlock\|stuck' "$T/c" | head)"
	grep -q "^Go long waits.*: 0$" "$T/c" || fail "contention reported as a long wait"
	n=$((n + 1)); sleep 0.2
done
note "contention: $n dumps, no stuck mutex"
kill "$FIX_PID"
start_fixture go-contention --longwait
"$PROFTOP" dump -p "$FIX_PID" --stuck-after 2 >"$T/lw" 2>/dev/null; rc=$?
[ $rc -eq 0 ] || fail "long wait called a deadlock (exit $rc)"
grep -A3 "^Go long waits" "$T/lw" | grep -q "main.slow" || fail "long wait on main.slow not reported: $(grep -A3 '^Go long' "$T/lw")"
kill "$FIX_PID"

# 5. No DWARF: one line says so, the OS threads are still shown.
start_fixture go-nodwarf
"$PROFTOP" dump -p "$FIX_PID" >"$T/nd" 2>"$T/err"; rc=$?
[ $rc -eq 0 ] || fail "nodwarf: exit $rc"
grep -q "^Go go1.*no DWARF (built with -ldflags=-w)" "$T/nd" || fail "no explanation: $(tail -3 "$T/nd")"
grep -q "^Thread $FIX_PID " "$T/nd" || fail "OS threads missing"
assert_untraced "$FIX_PID"
