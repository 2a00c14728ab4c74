# Eight threads fighting over one mutex, dumped every 200 ms for 10 s: never a deadlock (exit 0
# every time), while the waits on the mutex are decoded; the fighters keep running.  On a loaded
# machine a dump may take longer than 200 ms: then the loop goes on until 8 dumps are done.
. "$(dirname "$0")/lib.sh"
start_fixture contention
M=$(fact m)
end=$(( $(date +%s) + 10 ))
n=0 waits=0
while [ "$(date +%s)" -lt "$end" ] || [ "$n" -lt 8 ]; do
	"$PROFTOP" dump -p "$FIX_PID" --json >"$T/d.json" 2>"$T/err"
	rc=$?
	[ $rc -eq 0 ] || fail "dump $n: exit $rc: $(cat "$T/err"; python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["deadlocks"])' "$T/d.json" 2>/dev/null)"
	k=$(python3 - "$T/d.json" "$M" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["deadlocks"] == [], d["deadlocks"]
print(sum(1 for t in d["threads"] if t["wait"] and t["wait"]["kind"] == "mutex" and t["wait"]["addr"] == sys.argv[2]))
PY
) || fail "dump $n: bad JSON or a deadlock"
	waits=$((waits + k))
	n=$((n + 1))
	sleep 0.2
done
note "$n dumps, $waits mutex waits on $M decoded, no deadlock"
[ "$waits" -gt 0 ] || fail "no wait on the mutex was ever decoded"
assert_untraced "$FIX_PID"
assert_progress "$FIX_PID"
