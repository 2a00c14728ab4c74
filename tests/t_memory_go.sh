# A goroutine leak is flagged growing in the memory view (acceptance 4 of issue 11, acceptance 1
# of issue 10 for counts): tests/bin/go-leak starts 100 goroutines a second that block forever.
# In an 80x24 pane view 4 has a goroutines row (Go targets only) that gets GROWING with a
# growth within 20% of 6000 a minute, and the snapshot (s) has memory.goroutines with
# unit "count", growing true and the same slope.  The Go program keeps running, untraced.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui.sh"
command -v go >/dev/null || fail "go is not installed (make deps installs golang-go)"

# per_min ROW: the PER MIN column (the only signed number) of a count metric's row.
per_min() { echo "$1" | awk '{ for (i = 2; i <= NF; i++) if ($i ~ /^[+-][0-9.]+$/) { print $i + 0; exit } }'; }

start_fixture go-leak
rate=$(fact rate)
truth=$(awk -v r="$rate" 'BEGIN { print r * 60 }')
note "go-leak starts $rate goroutines/s: $truth a minute"
mkdir "$T/snap"
tui_start gol 80 24 -- -p "$FIX_PID" --snapshot-dir "$T/snap"
wait_screen gol "pid $FIX_PID" 10
tm send-keys -t gol 4
wait_screen gol "HISTORY (1 s/pt)"
wait_for "[ -n \"\$(metric_row gol goroutines)\" ]" 10 || fail "no goroutines row: $(screen gol)"
screen gol | grep -q "more: Down" && fail "the page does not fit 80x24 on a Go target: $(screen gol)"

end=$(($(date +%s) + 120))
until metric_row gol goroutines | grep -qE ' GROWING *$'; do
	s=$(screen gol)
	n=$(points_of "$s")
	[ "${n:-0}" -lt 30 ] && echo "$s" | grep -qE ' GROWING *$' && fail "GROWING with $n points: $s"
	[ "$(date +%s)" -lt "$end" ] || fail "goroutines not GROWING after 120 s: $s"
	sleep 0.2
done
row=$(metric_row gol goroutines)
g=$(per_min "$row")
note "view: $row"
awk -v g="${g:-0}" -v t="$truth" 'BEGIN { exit !(g >= 0.8 * t && g <= 1.2 * t) }' ||
	fail "goroutines grow $g a minute, not within 20% of $truth: $row"

tm send-keys -t gol s
wait_screen gol "snapshot: "
python3 - "$T"/snap/*.json "$truth" <<'EOF' || fail "snapshot JSON check failed"
import json, sys
d = json.load(open(sys.argv[1]))
truth = float(sys.argv[2])
g = d["memory"]["goroutines"]
print("# json goroutines: unit %s, %d points (last %d), slope %.0f/min (truth %.0f), r2 %.4f, growing %s"
      % (g["unit"], len(g["points"]), g["points"][-1], g["slope_per_min"], truth, g["r2"], g["growing"]))
assert g["unit"] == "count" and g["interval_s"] == 1
assert g["growing"] is True
assert abs(g["slope_per_min"] / truth - 1) < 0.2
assert d["go"] is not None
EOF

tm send-keys -t gol q
wait_gone "$TUI_PID"
assert_exit gol 0
assert_untraced "$FIX_PID"
assert_progress "$FIX_PID"
