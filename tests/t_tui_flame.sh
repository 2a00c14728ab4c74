# The flame view (acceptance 2 of issue 8): burn_hot's bar is wider than burn_cold's (about
# 3:1), the cursor walks the frames, Enter zooms (the frame fills the width, burn_cold leaves
# the screen), Esc restores, i flips the graph, and live updates keep the cursor on its frame;
# a stack deeper than the screen (benchwork --depth 40 at 80x24) scrolls with the cursor.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui.sh"
start_fixture hotspots
tui_start fl 100 30 -- -p "$FIX_PID" -F 1999
wait_screen fl "mix_step"
tm send-keys -t fl 2
# Icicle: all / start_thread / worker_main / burn_cold burn_hot / mix_step mix_step.
wait_for "screen fl | grep -q 'burn_cold .*burn_hot'" 10 || fail "no burn row: $(screen fl)"
# Let the counts settle before measuring widths: since start (w), 3000 samples.
tm send-keys -t fl w
wait_screen fl "since start"
enough() { local n; n=$(header_samples fl); case "$n" in *M|*G) return 0;; esac; [ "${n:-0}" -ge 3000 ]; }
wait_for enough 120 || fail "too few samples: $(row fl 0)"
line=$(screen fl | grep 'burn_cold .*burn_hot' | head -1)
# Frames are laid out left to right in name order, each up to where the next begins; the
# burn frames fill worker_main's width (all 100 columns, but for a sliver of its self time).
cx=$(awk -v l="$line" 'BEGIN { print index(l, "burn_cold") - 1 }')
hx=$(awk -v l="$line" 'BEGIN { print index(l, "burn_hot") - 1 }')
cold_w=$((hx - cx)); hot_w=$((100 - hx))
note "burn_cold bar columns $cx..$((hx - 1)) ($cold_w), burn_hot $hx..99 ($hot_w)"
[ "$hot_w" -gt "$cold_w" ] || fail "burn_hot's bar ($hot_w) is not wider than burn_cold's ($cold_w)"
awk -v h="$hot_w" -v c="$cold_w" 'BEGIN { exit !(h / c >= 2.4 && h / c <= 3.6) }' ||
	fail "bar widths $hot_w:$cold_w are far from 3:1"

# The cursor starts on the root; Down goes to the widest child each time.
tm send-keys -t fl Down Down Down
wait_screen fl "▶ burn_hot "
screen fl | grep -q '▶ burn_hot .*samples .*% of all' || fail "info line: $(screen fl | tail -3)"
tm send-keys -t fl Enter
wait_for "! screen fl | grep -q burn_cold" 10 || fail "zoom kept burn_cold: $(screen fl)"
screen fl | grep -q '^burn_hot' || fail "zoomed frame does not start the row: $(screen fl)"
screen fl | grep -q '^mix_step' || fail "zoomed children do not fill the width: $(screen fl)"
# Live updates do not move the cursor or the zoom (several refreshes).
n0=$(header_samples fl)
wait_for "[ \"\$(header_samples fl)\" != '$n0' ]" 10 || fail "no refresh"
n1=$(header_samples fl)
wait_for "[ \"\$(header_samples fl)\" != '$n1' ]" 10 || fail "no refresh"
screen fl | grep -q '▶ burn_hot ' || fail "cursor moved during updates: $(screen fl | tail -3)"
screen fl | grep -q burn_cold && fail "zoom lost during updates"
# Down to mix_step, then Esc: zoomed out, cursor still on burn_hot's mix_step.
tm send-keys -t fl Down
wait_screen fl "▶ mix_step"
screen fl | grep -q "of burn_hot (zoomed)\|of burn_hot" || fail "no zoom share: $(screen fl | tail -3)"
tm send-keys -t fl Escape
wait_for "screen fl | grep -q 'burn_cold .*burn_hot'" 10 || fail "Esc did not restore: $(screen fl)"
screen fl | grep -q '▶ mix_step' || fail "cursor lost on zoom out"
# Left from burn_hot's mix_step goes to burn_cold's (same depth, across parents).
tm send-keys -t fl Left Up
wait_screen fl "▶ burn_cold"

# i: flame mode, root at the bottom.
tm send-keys -t fl i
wait_screen fl "flame: root at the bottom"
s=$(screen fl)
ya=$(echo "$s" | grep -n '^all' | head -1 | cut -d: -f1)
ym=$(echo "$s" | grep -n '^mix_step\|mix_step' | head -1 | cut -d: -f1)
[ -n "$ya" ] && [ -n "$ym" ] && [ "$ya" -gt "$ym" ] || fail "root not at the bottom: $s"
tm send-keys -t fl i q
wait_gone "$TUI_PID"
assert_exit fl 0
assert_untraced "$FIX_PID"
assert_progress "$FIX_PID"

# Deep stacks at 80x24: 19 graph rows for ~45 levels.
start_fixture benchwork --threads 1 --seconds 600 --depth 40
tui_start deep 80 24 -- -p "$FIX_PID" -F 499
wait_screen deep "descend"
tm send-keys -t deep 2
wait_screen deep "descend"
wait_for "row deep 2 | grep -q '^all'" 5 || fail "deep: root not on the first row"
wait_screen deep "(more below)"
for i in $(seq 50); do tm send-keys -t deep Down; done
wait_for "screen deep | grep -q '▶ work_'" 10 || fail "deep: cursor did not reach a work_ frame: $(screen deep)"
wait_screen deep "(more above)"
row deep 2 | grep -q '^all' && fail "deep: did not scroll with the cursor: $(screen deep)"
screen deep | grep -q '^work_' || fail "deep: the cursor's frame is not on screen: $(screen deep)"
tm send-keys -t deep Home
wait_screen deep "▶ all"
wait_for "row deep 2 | grep -q '^all'" 5 || fail "deep: Home did not scroll back: $(screen deep)"
tm send-keys -t deep PPage
tm send-keys -t deep NPage
wait_for "! row deep 2 | grep -q '^all'" 5 || fail "deep: PgDn did not scroll"
tm send-keys -t deep PPage
wait_for "row deep 2 | grep -q '^all'" 5 || fail "deep: PgUp did not scroll back"
tm send-keys -t deep q
wait_gone "$TUI_PID"
assert_untraced "$FIX_PID"
