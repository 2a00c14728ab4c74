# The shell's keys on hotspots at 80x24: Space pauses the display while sampling goes on, + and
# - change the rate, / filters by name, t limits to one thread (from the list or typed), r
# resets, w switches the window, Tab/BTab cycle the views, F6 sorts by name; a target that
# exits is marked EXITED and the view stays until q.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui.sh"
start_fixture hotspots
pid=$FIX_PID
tids=$(fact tids)
w0=${tids%%,*}
tui_start k 80 24 -- -p "$pid"
wait_screen k "mix_step"

# Pause: the PAUSED mark, the table frozen (samples since start), then resumed.
tm send-keys -t k w
wait_screen k "since start"
tm send-keys -t k Space
wait_screen k "PAUSED"
n0=$(header_samples k)
[ -n "$n0" ] || wait_for "[ -n \"\$(header_samples k)\" ]" 5
n0=$(header_samples k)
sleep 2.5 # a frozen display is checked over time: 2 rebuild periods must show no change
[ "$(header_samples k)" = "$n0" ] || fail "paused display changed: $n0 -> $(header_samples k)"
tm send-keys -t k Space
wait_for "! row k 0 | grep -q PAUSED" 5 || fail "PAUSED stayed"
wait_for "[ \"\$(header_samples k)\" != '$n0' ]" 10 || fail "display did not resume"
tm send-keys -t k w
wait_screen k "live 10s"

# Rate.
tm send-keys -t k +
wait_screen k "perf 199 Hz"
tm send-keys -t k - -
wait_screen k "perf 49 Hz"
tm send-keys -t k +
wait_screen k "perf 99 Hz"

# Filter by name: only stacks through burn_cold; then cleared.
tm send-keys -t k / b u r n _ c o l d Enter
wait_screen k "filter: burn_cold"
wait_for "! screen k | grep -q ' burn_hot '" 5 || fail "burn_hot still shown: $(screen k)"
screen k | grep -q ' burn_cold ' || fail "burn_cold gone: $(screen k)"
tm send-keys -t k / C-u Enter
wait_for "screen k | grep -q ' burn_hot '" 5 || fail "filter not cleared: $(screen k)"
screen k | grep -q "filter:" && fail "filter mark stayed"

# One thread from the list (typing narrows it), then all again; then a typed tid.
tm send-keys -t k t
wait_screen k "Limit to one thread"
wait_screen k "worker-1"
tm send-keys -t k w o r k e r - 0
wait_for "! screen k | grep -q worker-1" 5 || fail "typing did not narrow the list"
tm send-keys -t k Enter
wait_screen k "thread: $w0 worker-0"
tm send-keys -t k t
wait_for "! screen k | grep -q 'thread: '" 5 || fail "t did not clear the thread"
tm send-keys -t k t "$w0" Enter
wait_screen k "thread: $w0 worker-0"
tm send-keys -t k t

# Reset and window.
tm send-keys -t k w
wait_screen k "since start"
tm send-keys -t k r
wait_screen k "counts reset"
tm send-keys -t k w
wait_screen k "live 10s"

# Views: Tab, BTab, Ctrl-L; F6 sort by name.
tm send-keys -t k Tab
wait_screen k "worker_main"
wait_for "row k 2 | grep -q '^all'" 5 || fail "Tab: not the flame view"
tm send-keys -t k BTab
wait_screen k "SELF%"
tm send-keys -t k C-l F6
wait_screen k "Sort by"
tm send-keys -t k Down Down Enter
wait_screen k "sorted by name"
names=$(screen k | sed -n '4,20p' | awk '{for (i = 4; i <= NF; i++) if ($i ~ /^[a-z_]+$/) {print $i; break}}')
[ "$names" = "$(echo "$names" | LC_ALL=C sort)" ] || fail "not sorted by name: $names"

# The target exits: EXITED, the view stays, q still quits cleanly.
kill -TERM "$pid"
wait_screen k "EXITED"
screen k | grep -q 'mix_step\|burn_' || fail "view lost when the target exited"
kill -0 "$TUI_PID" || fail "proftop ended with the target"
tm send-keys -t k q
wait_gone "$TUI_PID"
assert_exit k 0
