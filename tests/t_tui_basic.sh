# The TUI's top-functions view on hotspots at 100x30 (acceptance 1 of issue 8): the first frame
# comes at once, the first row shows the hottest function within 3 s, and the shares agree
# with the fixture's ground truth (burn_hot:burn_cold total = 3:1 within 10%).
#
# "Hottest function" under the default sort (self): mix_step, the always-inline step both burn
# functions run, which the symbolizer expands as the innermost frame, so nearly all self time
# is its own; burn_hot and burn_cold carry the 3:1 in their total.
# Also: Enter shows callers, callees and source lines; Esc returns; the cursor keeps its
# function across refreshes and a re-sort.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui.sh"
start_fixture hotspots
t0=$(date +%s%N)
tui_start top 100 30 -- -p "$FIX_PID" -F 1999
wait_screen top "pid $FIX_PID" 5
t1=$(date +%s%N)
note "first frame after $(( (t1 - t0) / 1000000 )) ms"
wait_for "row top 3 | grep -q ' mix_step '" 3 ||
	fail "first row is not mix_step 3 s after the first frame: $(screen top)"
t2=$(date +%s%N)
note "mix_step on the first row after $(( (t2 - t0) / 1000000 )) ms"
row top 2 | grep -q 'SELF%.*TOTAL%.*SAMPLES.*FUNCTION.*LOCATION' || fail "no column titles: $(row top 2)"
row top 3 | grep -q 'hotspots.c:[0-9]' || fail "no file:line on the first row: $(row top 3)"

# Shares: since start (w), once there are enough samples for a tight ratio.
tm send-keys -t top w
wait_screen top "since start"
enough() {
	local n
	n=$(header_samples top)
	case "$n" in *M|*G) return 0;; esac
	[ "${n:-0}" -ge 8000 ]
}
wait_for enough 120 || fail "too few samples: $(row top 0)"
s=$(screen top)
hot=$(echo "$s" | awk '/ burn_hot /{print $2; exit}')
cold=$(echo "$s" | awk '/ burn_cold /{print $2; exit}')
note "samples $(header_samples top): total% burn_hot=$hot burn_cold=$cold"
[ -n "$hot" ] && [ -n "$cold" ] || fail "burn_hot/burn_cold rows missing: $s"
awk -v h="$hot" -v c="$cold" 'BEGIN { r = h / c; exit !(r >= 2.7 && r <= 3.3) }' ||
	fail "burn_hot:burn_cold total = $hot:$cold, not 3:1 within 10%"
row top 3 | grep -q ' mix_step ' || fail "first row is no longer mix_step: $(row top 3)"

# Detail of the first row: callers with shares, and the source lines of the fixture.
tm send-keys -t top Enter
wait_screen top "Callers"
wait_screen top "Source lines"
s=$(screen top)
row top 2 | grep -q '^mix_step' || fail "detail title is not mix_step: $(row top 2)"
echo "$s" | grep -q '%.* burn_hot ' || fail "burn_hot not among the callers: $s"
echo "$s" | grep -q '%.* burn_cold ' || fail "burn_cold not among the callers: $s"
echo "$s" | grep -q 'x ^= x >> 33' || fail "no source text of mix_step: $s"
tm send-keys -t top Escape
wait_screen top "SELF%"

# The cursor follows its function: select row 2, let refreshes and a re-sort happen, open it.
want=$(row top 4 | awk '{for (i = 4; i <= NF; i++) if ($i ~ /^[a-z_]+$/) {print $i; exit}}')
[ -n "$want" ] || fail "no function on row 2: $(row top 4)"
tm send-keys -t top Down
n0=$(header_samples top)
wait_for "[ \"\$(header_samples top)\" != '$n0' ]" 10 || fail "no refresh"
tm send-keys -t top '>'
wait_screen top "sorted by total"
tm send-keys -t top Enter
wait_screen top "Callers"
row top 2 | grep -q "^$want" || fail "cursor left $want: detail shows $(row top 2)"
note "cursor stayed on $want across a refresh and a re-sort"


# The mouse: a click on a tab switches views; a click selects a row, a second opens it; the
# wheel moves the cursor.
tm send-keys -t top Escape
wait_screen top "SELF%"
click top 11 1
wait_screen top "worker_main"
wait_for "row top 2 | grep -q '^all'" 5 || fail "click on tab 2: no flame view: $(screen top)"
click top 3 1
wait_screen top "SELF%"
want=$(row top 5 | awk '{for (i = 4; i <= NF; i++) if ($i ~ /^[a-z_]+$/) {print $i; exit}}')
click top 40 5
click top 40 5
wait_screen top "Callers"
row top 2 | grep -q "^$want" || fail "click on row 3 ($want) opened $(row top 2)"
tm send-keys -t top Escape
wait_screen top "SELF%"
first=$(row top 3 | awk '{for (i = 4; i <= NF; i++) if ($i ~ /^[a-z_]+$/) {print $i; exit}}')
click top 40 6 64
tm send-keys -t top Enter
wait_screen top "Callers"
row top 2 | grep -q "^$first" || fail "wheel up from row 3 did not reach row 1 ($first): $(row top 2)"
note "mouse: tabs, rows, wheel"

tm send-keys -t top q
wait_gone "$TUI_PID"
assert_exit top 0
assert_untraced "$FIX_PID"
assert_progress "$FIX_PID"
