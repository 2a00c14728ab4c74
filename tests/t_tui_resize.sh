# Resizing (acceptance 3 of issue 8): 50x12 shows "terminal too small (need 60x15)", 100x30
# restores the view; the minimum itself works; 80x24 is fully usable (every view, the key bar
# with Help and Quit); a burst of resizes does not crash.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui.sh"
start_fixture hotspots
tui_start rs 100 30 -- -p "$FIX_PID"
wait_screen rs "mix_step"
tm send-keys -t rs 2
wait_screen rs "worker_main"

tm resize-window -t rs -x 50 -y 12
wait_screen rs "terminal too small (need 60x15)"
screen rs | grep -q worker_main && fail "view drawn below the minimum"
tm resize-window -t rs -x 100 -y 30
wait_screen rs "worker_main"
screen rs | grep -q "too small" && fail "too-small message stayed"
row rs 1 | grep -q "2 flame" || fail "tabs lost: $(row rs 1)"

tm resize-window -t rs -x 59 -y 15
wait_screen rs "terminal too small"
tm resize-window -t rs -x 60 -y 15
wait_for "! screen rs | grep -q 'too small'" 10 || fail "60x15 refused: $(screen rs)"
wait_screen rs "worker_main"

# 80x24: everything usable.
tm resize-window -t rs -x 80 -y 24
wait_screen rs "worker_main"
for i in 1 2 3 4 5 6; do
	for size in "120 40" "50 10" "200 60" "61 16" "30 5"; do
		set -- $size
		tm resize-window -t rs -x "$1" -y "$2"
	done
done
tm resize-window -t rs -x 80 -y 24
wait_screen rs "worker_main"
kill -0 "$TUI_PID" 2>/dev/null || fail "proftop died during resizes"
[ "$(screen rs | wc -l)" -eq 24 ] || fail "pane is not 24 lines"
row rs 23 | grep -q '?Help' || fail "no Help in the key bar at 80x24: $(row rs 23)"
row rs 23 | grep -q 'qQuit' || fail "no Quit in the key bar at 80x24: $(row rs 23)"
tm send-keys -t rs 1
wait_screen rs "SELF%"
row rs 3 | grep -q 'mix_step .*hotspots.c:' || fail "top row at 80x24: $(row rs 3)"
tm send-keys -t rs Enter
wait_screen rs "Callers"
tm send-keys -t rs Escape '?'
wait_screen rs "Keys in every view"
tm send-keys -t rs Escape 3
wait_screen rs "WAITS ON"
wait_for "screen rs | grep -qE '^ +[0-9]+ worker-0 +running'" 10 || fail "threads at 80x24: $(screen rs)"
tm send-keys -t rs 4
wait_screen rs "HISTORY (1 s/pt)"
screen rs | grep -qE '^ cpu ' || fail "memory view at 80x24: $(screen rs)"
tm send-keys -t rs q
wait_gone "$TUI_PID"
assert_exit rs 0
assert_untraced "$FIX_PID"
