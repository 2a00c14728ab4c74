# `record -- CMD` starts the command, profiles it until it exits, and writes JSON that parses,
# with the tree, the threads and the top functions documented in proftop(1).
. "$(dirname "$0")/lib.sh"
# hotspots runs forever; `timeout` ends it after 2 s (the profiled command is timeout's child,
# so use the fixture directly and end it from outside once it is ready).
"$PROFTOP" record -F 999 --format json -o "$T/c.json" -- "$TESTBIN/hotspots" >"$T/out" 2>"$T/err" &
rec=$!
wait_for "grep -q '^ready' '$T/out'" 10 || fail "command did not start: $(cat "$T/err")"
pid=$(sed -n 's/^ready pid=\([0-9]*\).*/\1/p' "$T/out")
FIXTURE_PIDS="$FIXTURE_PIDS $pid"
wait_for "[ \$(cpu_ticks $pid) -gt 300 ]" 20
kill -TERM "$pid"
wait "$rec" || fail "record -- CMD failed: $(cat "$T/err")"
python3 - "$T/c.json" <<'PY' || fail "bad JSON"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["comm"] == "hotspots", d["comm"]
assert d["samples"] > 50, d["samples"]
names = [t["name"] for t in d["threads"]]
assert any(n.startswith("worker-") for n in names), names
top = {f["function"]: f for f in d["top_functions"]}
# mix_step is inlined into both burn functions: it has the self time, burn_hot the total.
hot, cold = top["burn_hot"], top["burn_cold"]
assert hot["file"].endswith("hotspots.c") and hot["line"] > 0, hot
n = hot["total"] + cold["total"]
# 3:1 truth: hot share 0.75, within 1 pp of bias plus 4 binomial standard deviations.
assert abs(hot["total"] / n - 0.75) <= 0.01 + 4 * (0.1875 / n) ** 0.5, (hot, cold)
assert top["mix_step"]["self_pct"] > 50, top["mix_step"]
def walk(n, path):
    if n["function"] == "burn_hot":
        assert "worker_main" in path, path
        return n["total"]
    return sum(walk(c, path + [n["function"]]) for c in n.get("children", []))
assert walk(d["tree"], []) > 0
assert d["tree"]["total"] == d["samples"]
PY
# With -d, a command still running at the end is stopped (SIGTERM): proftop leaves nothing behind.
"$PROFTOP" record -d 1 --format folded -o "$T/d.folded" -- "$TESTBIN/hotspots" >"$T/out2" 2>"$T/err2" ||
	fail "record -d 1 -- CMD failed: $(cat "$T/err2")"
pid2=$(sed -n 's/^ready pid=\([0-9]*\).*/\1/p' "$T/out2")
[ -n "$pid2" ] || fail "the command never got ready: $(cat "$T/err2")"
FIXTURE_PIDS="$FIXTURE_PIDS $pid2"
[ ! -d "/proc/$pid2" ] || fail "the command outlived record -d 1 (state $(awk '{print $3}' /proc/$pid2/stat))"
[ "$(folded_count "$T/d.folded" burn_hot)" -gt 0 ] || fail "record -d 1 -- CMD has no burn_hot samples"
