# Every way out of the TUI leaves the target running and untraced (acceptance 4 of issue 8):
# q (perf mode), SIGTERM and SIGHUP from closing the tmux pane (ptrace mode, where a missed
# detach would show), Ctrl-C; the terminal is restored; errors come as one line before the
# screen changes; with -- CMD the command's output does not reach the screen and q stops it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui.sh"
start_fixture hotspots
pid=$FIX_PID

# q, perf mode; the pane gets its shell state back (no alternate screen left behind).
tui_start q 100 30 -- -p "$pid" --mode perf
wait_screen q "mix_step"
tm send-keys -t q q
wait_gone "$TUI_PID"
assert_exit q 0
[ "$(tm display-message -p -t q '#{alternate_on}')" = 0 ] || fail "q: alternate screen left on"
assert_untraced "$pid"; assert_progress "$pid"
note "q: ok"

# SIGTERM, ptrace mode.
tui_start term 100 30 -- -p "$pid" --mode ptrace
wait_screen term "ptrace"
wait_screen term "mix_step" 20
grep -q "^TracerPid:[[:space:]]*$TUI_PID" /proc/"$pid"/task/*/status ||
	fail "ptrace mode is not tracing the target"
kill -TERM "$TUI_PID"
wait_gone "$TUI_PID"
assert_untraced "$pid"; assert_progress "$pid"
[ ! -s "$T/term.err" ] || fail "SIGTERM: stderr: $(cat "$T/term.err")"
note "SIGTERM: ok"

# SIGHUP: the pane (and its terminal) closed under proftop, ptrace mode.
tui_start hup 100 30 -- -p "$pid" --mode ptrace
wait_screen hup "mix_step" 20
tm kill-session -t hup
wait_gone "$TUI_PID"
assert_untraced "$pid"; assert_progress "$pid"
[ ! -s "$T/hup.err" ] || fail "SIGHUP: stderr: $(cat "$T/hup.err")"
note "SIGHUP (pane closed): ok"

# Ctrl-C.
tui_start int 100 30 -- -p "$pid" --mode ptrace
wait_screen int "mix_step" 20
tm send-keys -t int C-c
wait_gone "$TUI_PID"
assert_untraced "$pid"; assert_progress "$pid"
note "Ctrl-C: ok"

# Ctrl-Z in an interactive shell: proftop detaches before it stops (ptrace: the target runs
# untraced; perf: its events are closed) while it is suspended; fg attaches again and redraws.
# (A stop signal is only honoured in a job-control shell: the kernel drops it in an orphaned
# process group.)
perf_fds() { find "/proc/$1/fd" -lname 'anon_inode:*perf_event*' 2>/dev/null | wc -l; }
for mode in ptrace perf; do
	tm new-session -d -x 100 -y 30 -s "tstp$mode" \
		"env -i PATH=/usr/bin:/bin TERM=tmux-256color LANG=C.UTF-8 bash --norc --noprofile -i" ||
		fail "tmux new-session failed"
	sh_pid=$(tm display-message -p -t "tstp$mode" '#{pane_pid}')
	tm send-keys -t "tstp$mode" "$(printf '%q ' "$PROFTOP" -p "$pid" --mode "$mode")" Enter
	wait_for "TUI_PID=\$(pgrep -P $sh_pid proftop)" 10 || fail "Ctrl-Z ($mode): proftop did not start"
	wait_screen "tstp$mode" "mix_step" 20
	[ "$mode" = ptrace ] || [ "$(perf_fds "$TUI_PID")" -gt 0 ] || fail "perf mode without perf events"
	tm send-keys -t "tstp$mode" C-z
	wait_for "[ \"\$(awk '{print \$3}' /proc/$TUI_PID/stat)\" = T ]" 10 ||
		fail "Ctrl-Z ($mode): proftop did not stop"
	wait_screen "tstp$mode" "Stopped"
	assert_untraced "$pid"; assert_progress "$pid"
	[ "$(perf_fds "$TUI_PID")" -eq 0 ] || fail "Ctrl-Z ($mode): perf events left open while stopped"
	tm send-keys -t "tstp$mode" "fg" Enter
	wait_screen "tstp$mode" "resumed"
	if [ "$mode" = ptrace ]; then
		wait_for "grep -q '^TracerPid:[[:space:]]*$TUI_PID' /proc/$pid/task/*/status" 10 ||
			fail "fg: not tracing the target again"
	else
		wait_for "[ \$(perf_fds $TUI_PID) -gt 0 ]" 10 || fail "fg: perf events not opened again"
	fi
	wait_screen "tstp$mode" "mix_step"
	tm send-keys -t "tstp$mode" q
	wait_gone "$TUI_PID"
	assert_untraced "$pid"; assert_progress "$pid"
	tm kill-session -t "tstp$mode"
	note "Ctrl-Z/fg ($mode): ok"
done

# Errors: one line, before curses, exit 1.
tui_start err 100 30 -- -p 999999
wait_gone "$TUI_PID"
assert_exit err 1
[ "$(wc -l <"$T/err.err")" -eq 1 ] || fail "missing pid: not one line: $(cat "$T/err.err")"
grep -q "no such process" "$T/err.err" || fail "missing pid: $(cat "$T/err.err")"
"$PROFTOP" -p "$pid" </dev/null >"$T/notty.out" 2>"$T/notty.err" && fail "ran without a terminal"
grep -q "needs a terminal" "$T/notty.err" || fail "no terminal: $(cat "$T/notty.err")"
[ ! -s "$T/notty.out" ] || fail "wrote to stdout without a terminal"
assert_untraced "$pid"

# -- CMD: the command's stdout goes to /dev/null, not over the screen; q stops it.
tui_start cmd 100 30 -- -- "$TESTBIN/hotspots" --threads 2
wait_screen cmd "mix_step" 20
screen cmd | grep -q "^ready" && fail "the command's output reached the screen"
child=$(pgrep -P "$TUI_PID" hotspots)
[ -n "$child" ] || fail "no hotspots child of proftop"
tm send-keys -t cmd q
wait_gone "$TUI_PID"
wait_gone "$child" 5
assert_exit cmd 0
note "-- CMD: ok"
assert_untraced "$pid"; assert_progress "$pid"
