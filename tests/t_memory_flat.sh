# The memory view never flags what does not leak (acceptance 1 of issue 10): tests/bin/flat
# (64 MiB allocated once, then nothing) and tests/bin/sawtooth (64 MiB allocated over 2 s, all
# freed and trimmed, again and again) are watched side by side in 100x30 tmux panes until their
# windows hold 35 points; no row ever shows GROWING on either screen, on any capture.  Their
# snapshots (s) agree: no memory.*.growing; flat's rss slope is near zero and the sawtooth's fit
# is poor (r2 < 0.8).  Then both quit with status 0, leaving the fixtures running untraced.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui.sh"


start_fixture flat
FLAT=$FIX_PID
start_fixture sawtooth
SAW=$FIX_PID
mkdir "$T/flat" "$T/saw"
tui_start flat 100 30 -- -p "$FLAT" --snapshot-dir "$T/flat"
FLAT_TUI=$TUI_PID
tui_start saw 100 30 -- -p "$SAW" --snapshot-dir "$T/saw"
SAW_TUI=$TUI_PID
wait_screen flat "pid $FLAT" 10
wait_screen saw "pid $SAW" 10
tm send-keys -t flat 4
tm send-keys -t saw 4
wait_screen flat "HISTORY (1 s/pt)"
wait_screen saw "HISTORY (1 s/pt)"

# Every capture until both hold 35 points: no GROWING row.
captures=0
watch_both() {
	local s n ok=0
	for sess in flat saw; do
		s=$(screen "$sess")
		captures=$((captures + 1))
		if echo "$s" | grep -qE ' GROWING *$'; then
			echo "$sess flagged with $(points_of "$s") points:
$s" >"$T/flagged"
			return 0
		fi
		n=$(points_of "$s")
		[ "${n:-0}" -ge 35 ] && ok=$((ok + 1))
	done
	[ "$ok" = 2 ]
}
# (Every 0.2 s, not wait_for's 20 ms: two panes for 35 s, and the machine has other work.)
end=$(($(date +%s) + 150))
until watch_both; do
	[ "$(date +%s)" -lt "$end" ] || fail "the windows did not reach 35 points in 150 s: $(screen flat)"
	sleep 0.2
done
[ ! -s "$T/flagged" ] || fail "$(cat "$T/flagged")"
note "$captures screens captured, none with GROWING"
screen saw | sed -n '3,17p'

for sess in flat saw; do
	tm send-keys -t "$sess" s
	wait_screen "$sess" "snapshot: "
done
python3 - "$T"/flat/*.json "$T"/saw/*.json <<'EOF' || fail "snapshot JSON check failed"
import json, sys
flat, saw = (json.load(open(p)) for p in sys.argv[1:3])
for name, d in (("flat", flat), ("sawtooth", saw)):
    for m, s in d["memory"].items():
        assert s["growing"] is False, "%s: %s growing (slope %g, r2 %g)" % (name, m, s["slope_per_min"], s["r2"])
    r = d["memory"]["rss"]
    print("# %s rss: %d points, slope %.3f MiB/min, r2 %.3f" % (name, len(r["points"]), r["slope_per_min"] / 2**20, r["r2"]))
    assert len(r["points"]) >= 35
assert abs(flat["memory"]["rss"]["slope_per_min"]) < 1 * 2**20, "flat rss slope not near zero"
assert saw["memory"]["rss"]["r2"] < 0.8, "sawtooth fits a line"
assert max(saw["memory"]["rss"]["points"]) - min(saw["memory"]["rss"]["points"]) > 16 * 2**20, "sawtooth not seen"
EOF

for sess in flat saw; do tm send-keys -t "$sess" q; done
wait_gone "$FLAT_TUI"
wait_gone "$SAW_TUI"
assert_exit flat 0
assert_exit saw 0
assert_untraced "$FLAT"
assert_untraced "$SAW"
assert_progress "$SAW"
