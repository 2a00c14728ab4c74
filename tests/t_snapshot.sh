# The s key (acceptance 3 of issue 10): in an 80x24 tmux pane on tests/bin/hotspots, s writes
# proftop-COMM-PID-STAMP.pb.gz and .json into --snapshot-dir and the status line names them;
# `go tool pprof -top` reads the profile (the hot function first); the JSON parses and has the
# documented members (pid, comm, time, threads as dump --json has them, deadlocks,
# top_functions[] naming the hot function, memory.<metric>{...}).  s works in every view, with
# the window shown (w: since start -> "window": "all"), and never overwrites: three more
# snapshots in a row make three more pairs, the first pair unchanged.  A read-only directory
# (proftop and the fixture run as user nobody) and a full disk (a 32 KiB tmpfs, filled, in a
# private mount namespace) give a one-line error on the status line, leave no file behind,
# and the UI keeps running: another view draws, q exits 0, the fixture runs on untraced.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui.sh"
command -v go >/dev/null || fail "go is not installed (make deps installs golang-go)"
export PPROF_TMPDIR="$T" HOME="$T" GOCACHE="$T/gocache"

status_line() { row "$1" $(($2 - 2)); }

start_fixture hotspots
HOT=$FIX_PID
tids=$(fact tids)
mkdir "$T/snap"
tui_start snap 80 24 -- -p "$HOT" --snapshot-dir "$T/snap"
wait_screen snap "pid $HOT" 10
wait_for "row snap 3 | grep -qE ' (mix_step|burn_hot) '" 20 || fail "no hot function: $(screen snap)"
# Enough samples for a profile worth reading.
wait_for "[ \"\$(header_samples snap | tr -d MG)\" -ge 100 ] 2>/dev/null" 30 ||
	fail "too few samples: $(row snap 0)"
tm send-keys -t snap s
wait_screen snap "snapshot: "
ls "$T/snap" >"$T/ls1"
[ "$(grep -c '\.pb\.gz$' "$T/ls1")" = 1 ] && [ "$(grep -c '\.json$' "$T/ls1")" = 1 ] &&
	[ "$(wc -l <"$T/ls1")" = 2 ] || fail "not one pair of files: $(cat "$T/ls1")"
json="$T/snap/$(grep '\.json$' "$T/ls1")"
pb="${json%.json}.pb.gz"
[ -f "$pb" ] || fail "no $pb beside $json"
base=$(basename "${json%.json}")
echo "$base" | grep -qE "^proftop-hotspots-$HOT-[0-9]{8}T[0-9]{6}Z$" || fail "bad file name $base"
status_line snap 24 | grep -qF "$base" || fail "status line does not name $base: $(status_line snap 24)"
note "status line: $(status_line snap 24)"

go tool pprof -top "$pb" >"$T/top" 2>"$T/top.err" || fail "go tool pprof: $(cat "$T/top.err")"
first=$(awk '/flat%/{getline; print; exit}' "$T/top")
note "pprof first row: $first"
echo "$first" | grep -Eq ' (burn_hot|mix_step)( \(inline\))?$' || fail "pprof's first row is not the hot function: $(head -12 "$T/top")"

python3 - "$json" "$HOT" "$tids" <<'EOF' || fail "snapshot JSON check failed"
import json, sys, re
d = json.load(open(sys.argv[1]))
pid, tids = int(sys.argv[2]), {int(t) for t in sys.argv[3].split(",")}
assert d["pid"] == pid and d["comm"] == "hotspots", (d["pid"], d["comm"])
assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", d["time"]), d["time"]
assert d["reason"] == "key s" and d["window"] == "live", (d["reason"], d["window"])
top = d["top_functions"]
for f in top:
    assert {"function", "file", "line", "self_pct", "total_pct"} <= f.keys(), f
print("# top_functions[0..1]: %s" % [(f["function"], f["self_pct"]) for f in top[:2]])
assert top[0]["function"] in ("burn_hot", "mix_step"), top[:3]
assert any(f["function"] == "burn_hot" and f["file"].endswith("hotspots.c") and f["line"] > 0 for f in top)
seen = {t["tid"] for t in d["threads"]}
assert tids <= seen, "workers %s not among threads %s" % (tids, seen)
assert d["deadlocks"] == [], d["deadlocks"]
want = {"rss", "anon", "file", "shmem", "swap", "heap", "threads", "fds", "minflt", "majflt", "cpu"}
assert set(d["memory"]) == want, set(d["memory"]) ^ want
for m, s in d["memory"].items():
    assert {"unit", "interval_s", "points", "slope_per_min", "r2", "growing"} <= s.keys(), (m, s)
assert d["memory"]["threads"]["points"][-1] == len(tids) + 1
assert d["memory"]["cpu"]["unit"] == "percent" and d["memory"]["minflt"]["unit"] == "per_second"
EOF
sum1=$(md5sum "$pb" "$json")

# s in the flame and memory views, with the whole run (w); never overwriting.
tm send-keys -t snap w
wait_screen snap "since start"
tm send-keys -t snap 2 s
wait_for "[ \$(ls '$T/snap' | wc -l) -ge 4 ]" 10 || fail "s in the flame view wrote nothing: $(status_line snap 24)"
tm send-keys -t snap 4 s s
wait_for "[ \$(ls '$T/snap' | wc -l) -ge 8 ]" 10 || fail "s in the memory view: $(ls "$T/snap")"
sleep 0.5
[ "$(ls "$T/snap" | wc -l)" = 8 ] || fail "not 4 pairs: $(ls "$T/snap")"
[ "$(ls "$T/snap" | sed 's/\.\(pb\.gz\|json\)$//' | sort -u | wc -l)" = 4 ] ||
	fail "files do not pair up: $(ls "$T/snap")"
[ "$sum1" = "$(md5sum "$pb" "$json")" ] || fail "the first snapshot changed"
last=$(ls -t "$T"/snap/*.json | head -1)
python3 -c 'import json,sys; d = json.load(open(sys.argv[1])); assert d["window"] == "all", d["window"]' "$last" ||
	fail "window is not 'all' after w: $last"
note "4 pairs: $(ls "$T/snap" | grep json | tr '\n' ' ')"
tm send-keys -t snap q
wait_gone "$TUI_PID"
assert_exit snap 0
assert_untraced "$HOT"

# A read-only directory: proftop and its target as user nobody, the directory root's.
chmod 755 "$T"
mkdir -m 755 "$T/ro"
setpriv --reuid=nobody --regid=nogroup --clear-groups "$TESTBIN/hotspots" >"$T/nb.out" 2>&1 &
NB=$!
disown "$NB"
FIXTURE_PIDS="$FIXTURE_PIDS $NB"
wait_for "grep -q '^ready' '$T/nb.out'" 20 || fail "hotspots as nobody did not start: $(cat "$T/nb.out")"
PROFTOP=setpriv tui_start ro 80 24 -- --reuid=nobody --regid=nogroup --clear-groups \
	"$PROFTOP" -p "$NB" --snapshot-dir "$T/ro"
wait_screen ro "pid $NB" 10
wait_for "row ro 3 | grep -qE ' (mix_step|burn_hot) '" 20 || fail "as nobody: no hot function: $(screen ro)"
tm send-keys -t ro s
wait_screen ro "snapshot failed"
st=$(status_line ro 24)
note "read-only: $st"
echo "$st" | grep -qF "cannot write in $T/ro: Permission denied" || fail "status line: $st"
[ -z "$(ls -A "$T/ro")" ] || fail "left files in the read-only directory: $(ls -A "$T/ro")"
tm send-keys -t ro 2
wait_for "row ro 2 | grep -q '^all'" 10 || fail "the flame view does not draw after the error: $(screen ro)"
n0=$(header_samples ro)
wait_for "[ \"\$(header_samples ro)\" != '$n0' ]" 10 || fail "the UI stopped updating after the error"
tm send-keys -t ro q
wait_gone "$TUI_PID"
assert_exit ro 0
assert_untraced "$NB"

# A full disk: a 32 KiB tmpfs, filled, mounted over $T/full in proftop's own mount namespace.
mkdir "$T/full"
# shellcheck disable=SC2016
PROFTOP=unshare tui_start full 80 24 -- -m --propagation private sh -c \
	'mount -t tmpfs -o size=32k tmpfs "$1" && { head -c 65536 /dev/zero >"$1/fill" 2>/dev/null; shift; exec "$@"; }' \
	sh "$T/full" "$PROFTOP" -p "$HOT" --snapshot-dir "$T/full"
wait_screen full "pid $HOT" 10
wait_for "row full 3 | grep -qE ' (mix_step|burn_hot) '" 20 || fail "full: no hot function: $(screen full)"
tm send-keys -t full s
wait_screen full "snapshot failed"
st=$(status_line full 24)
note "full disk: $st"
echo "$st" | grep -qE "cannot write in .*/full: No space left on device$" || fail "status line: $st"
left=$(nsenter -t "$TUI_PID" -m ls -A "$T/full")
[ "$left" = fill ] || fail "files left on the full disk: $left"
tm send-keys -t full 4
wait_screen full "HISTORY (1 s/pt)"
tm send-keys -t full q
wait_gone "$TUI_PID"
assert_exit full 0
assert_untraced "$HOT"
assert_progress "$HOT"
