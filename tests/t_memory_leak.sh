# The memory view on a leak (acceptance 1 and 2 of issue 10, and "fits at 80x24"): tests/bin/leak
# grows its [heap] at a known rate (its ready line says rate=BYTES/s: 2 MiB/s, 120 MiB a minute).
# In an 80x24 tmux pane view 4 shows every metric and the mappings table without scrolling; rss
# and heap get GROWING (only rss, anon and heap: nothing else grows) with a growth per minute
# within 20% of the truth; [heap] tops the mappings grown since attach.  A snapshot (s) says the
# same in JSON: memory.{rss,heap}.slope_per_min within 20%, .growing true, mappings_growth[0]
# is [heap].  The 10 s interval (]) keeps its own, shorter history.  "growing" needs 30 points
# of the 1 s history, so this takes about 35 s.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui.sh"

# per_min_mib ROW: the PER MIN column of a size metric's row, in MiB (the only signed value).
per_min_mib() {
	echo "$1" | awk '{ for (i = 2; i < NF; i++) if ($i ~ /^[+-][0-9.]+$/) { v = $i + 0; u = $(i + 1);
		if (u == "KiB") v /= 1024; else if (u == "GiB") v *= 1024; else if (u == "B") v /= 1048576;
		print v; exit } }'
}
# first_mapping SESSION: the first row of the mappings table.
first_mapping() { screen "$1" | awk 'f { print; exit } /MAPPING \(grown since attach/ { f = 1 }'; }

start_fixture leak
rate=$(fact rate)
truth=$(awk -v r="$rate" 'BEGIN { printf "%.1f", r * 60 / 1048576 }')
note "leak grows $rate bytes/s: $truth MiB/min"
mkdir "$T/snap"
tui_start mem 80 24 -- -p "$FIX_PID" --snapshot-dir "$T/snap"
wait_screen mem "pid $FIX_PID" 10
tm send-keys -t mem 4
wait_screen mem "HISTORY (1 s/pt)"

# Everything fits at 80x24: every metric row, the mappings title, no "(more: Down)".
for m in rss anon file shmem swap heap threads fds minflt majflt cpu; do
	[ -n "$(metric_row mem "$m")" ] || fail "no row for $m at 80x24: $(screen mem)"
done
screen mem | grep -q "GROWTH *RESIDENT *MAPPING" || fail "no mappings table at 80x24: $(screen mem)"
screen mem | grep -q "more: Down" && fail "the page does not fit 80x24: $(screen mem)"
[ -z "$(metric_row mem goroutines)" ] || fail "a goroutines row on a C target"

# Nothing is flagged before 30 points; rss and heap are once there are enough.
grown() { metric_row mem rss | grep -qE ' GROWING *$' && metric_row mem heap | grep -qE ' GROWING *$'; }
early() {
	local s n
	s=$(screen mem)
	n=$(echo "$s" | sed -n 's/.*: \([0-9]*\)\/60 points.*/\1/p' | head -1)
	if [ "${n:-0}" -lt 30 ] && echo "$s" | grep -qE ' GROWING *$'; then
		echo "GROWING with $n points: $s" >"$T/early"
	fi
	grown
}
wait_for early 120 || fail "rss and heap not GROWING after 120 s: $(screen mem)"
[ ! -s "$T/early" ] || fail "flagged too early: $(cat "$T/early")"
s=$(screen mem)
note "$(points_of "$(screen mem)") points:"
echo "$s" | sed -n '3,17p'
for m in rss heap; do
	g=$(per_min_mib "$(metric_row mem "$m")")
	note "$m grows $g MiB/min in the view (truth $truth)"
	awk -v g="${g:-0}" -v t="$truth" 'BEGIN { exit !(g >= 0.8 * t && g <= 1.2 * t) }' ||
		fail "$m growth $g MiB/min is not within 20% of $truth: $(metric_row mem "$m")"
done
flagged=$(echo "$s" | grep -E ' GROWING *$' | awk '{print $1}' | sort | tr '\n' ' ')
[ "$flagged" = "anon heap rss " ] || fail "GROWING on '$flagged', wanted anon heap rss: $s"

# [heap] tops the mappings that grew (compared every 10 s).
wait_for "first_mapping mem | grep -q '\[heap\]'" 20 ||
	fail "[heap] does not top the mappings table: $(screen mem)"
first_mapping mem | grep -qE '^ +\+[0-9.]+ MiB +[0-9.]+ MiB +\[heap\]' ||
	fail "[heap] row is not '+N MiB  N MiB  [heap]': $(first_mapping mem)"
note "first grown mapping: $(first_mapping mem)"

# The snapshot says the same, in JSON.
tm send-keys -t mem s
wait_screen mem "snapshot: "
json=$(ls "$T"/snap/*.json)
[ "$(echo "$json" | wc -l)" = 1 ] || fail "not one JSON file: $json"
[ -f "${json%.json}.pb.gz" ] || fail "no .pb.gz next to $json"
screen mem | grep -qF "$(basename "${json%.json}")" || fail "the status line does not name $json: $(row mem 22)"
python3 - "$json" "$rate" <<'EOF' || fail "snapshot JSON check failed"
import json, sys
d = json.load(open(sys.argv[1]))
truth = float(sys.argv[2]) * 60
for m in ("rss", "heap"):
    s = d["memory"][m]
    print("# json %s: slope %.1f MiB/min (truth %.1f), r2 %.4f, growing %s, %d points"
          % (m, s["slope_per_min"] / 2**20, truth / 2**20, s["r2"], s["growing"], len(s["points"])))
    assert s["unit"] == "bytes" and s["interval_s"] == 1, s
    assert abs(s["slope_per_min"] / truth - 1) < 0.2, "%s slope off by more than 20%%" % m
    assert s["growing"] is True, "%s not growing" % m
for m in ("file", "shmem", "swap", "threads", "fds", "minflt", "majflt", "cpu"):
    assert d["memory"][m]["growing"] is False, "%s growing" % m
assert "goroutines" not in d["memory"], "goroutines on a C target"
g = d["mappings_growth"]
print("# json mappings_growth[0]: %s +%.1f MiB" % (g[0]["name"], g[0]["growth"] / 2**20))
assert g[0]["name"] == "[heap]", g[:3]
assert d["pid"] > 0 and d["comm"] == "leak" and d["reason"] == "key s", d["reason"]
EOF

# ]: the 10 s interval, a history of its own (a point per 10 s: a few so far, no verdict).
tm send-keys -t mem ']'
wait_screen mem "HISTORY (10 s/pt)"
n10=$(points_of "$(screen mem)")
[ "${n10:-99}" -le 10 ] || fail "10 s interval holds $n10 points after a minute"
screen mem | grep -qE ' GROWING *$' && fail "GROWING with $n10 points of 10 s: $(screen mem)"
tm send-keys -t mem ']'
wait_screen mem "HISTORY (60 s/pt)"
tm send-keys -t mem '[' '['
wait_screen mem "HISTORY (1 s/pt)"

tm send-keys -t mem q
wait_gone "$TUI_PID"
assert_exit mem 0
assert_untraced "$FIX_PID"
r0=$(awk '/^VmRSS/{print $2}' "/proc/$FIX_PID/status")
wait_for "[ \$(awk '/^VmRSS/{print \$2}' /proc/$FIX_PID/status) -gt $((r0 + 1024)) ]" 10 ||
	fail "the leak stopped growing after proftop left"
