# A crash of the TUI (SIGSEGV, SIGABRT) leaves a usable terminal and a running, untraced target:
# the handler only resets the terminal (alternate screen off, cursor and mouse back, the modes
# of before) and dies of the same signal; the kernel detaches the tracees.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui.sh"
ulimit -c 0   # no core files from the crashes we cause
start_fixture hotspots
pid=$FIX_PID

# The pane runs proftop through a wrapper that, once proftop is dead, records the terminal's
# modes as the next program on that terminal (the shell) finds them.
REAL="$PROFTOP"
PROFTOP="$T/wrap"
printf '#!/bin/bash\n%q "$@"\nrc=$?\nstty -a >"%s/stty.$rc" 2>&1\nexit $rc\n' "$REAL" "$T" >"$PROFTOP"
chmod 755 "$PROFTOP"

# crash SESSION SIGNAL MODE: run the TUI, send SIGNAL, check the pane and the target.
crash() {
	local s="$1" sig="$2" mode="$3"
	local want=$((128 + $(kill -l "$sig")))
	rm -f "$T/stty.$want"
	tui_start "$s" 100 30 -- -p "$pid" --mode "$mode"
	wait_screen "$s" "mix_step" 20
	local tui
	tui=$(pgrep -P "$TUI_PID" proftop)
	[ -n "$tui" ] || fail "$s: no proftop under the wrapper"
	kill -"$sig" "$tui"
	wait_gone "$tui"
	local rc
	rc=$(pane_status "$s")
	[ "$rc" = "$want" ] || fail "$s: exit status $rc, not death by SIG$sig"
	[ "$(tm display-message -p -t "$s" '#{alternate_on}')" = 0 ] ||
		fail "$s: alternate screen left on"
	[ "$(tm display-message -p -t "$s" '#{mouse_any_flag}')" = 0 ] ||
		fail "$s: mouse reporting left on"
	[ "$(tm display-message -p -t "$s" '#{keypad_cursor_flag}')" = 0 ] ||
		fail "$s: keypad application mode left on"
	wait_for "[ -s '$T/stty.$want' ]" 5 || fail "$s: no stty output"
	grep -qE '(^| )icanon( |;|$)' "$T/stty.$want" && grep -qE '(^| )echo( |;|$)' "$T/stty.$want" ||
		fail "$s: terminal modes not restored: $(cat "$T/stty.$want")"
	assert_untraced "$pid"; assert_progress "$pid"
	note "$s: SIG$sig in $mode mode: ok"
}

crash segv SEGV ptrace
crash abrt ABRT perf
