# A thread whose stop comes after proftop gave up waiting for it is let go the moment the stop
# arrives, while proftop runs on, even when it is proftop's own child (-- CMD), whose stops a
# careless waitpid for the child's exit would swallow.  PROFTOP_TEST_STOP_LIMIT_MS=0 makes every
# stop taken for a running thread's stack come late: the stack detail of the threads view (Enter)
# reads the burning main thread of burnlater that way, each time it is opened.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui.sh"
tui_start late 120 30 PROFTOP_TEST_STOP_LIMIT_MS=0 -- --mode perf -- "$TESTBIN/burnlater" --idle 0
wait_for "pgrep -P $TUI_PID burnlater >/dev/null" 10 || fail "no burnlater child: $(cat "$T/late.err")"
child=$(pgrep -P "$TUI_PID" burnlater)
FIXTURE_PIDS="$FIXTURE_PIDS $child"
tm send-keys -t late 3
wait_screen late "burnlater"
for i in 1 2 3; do
	tm send-keys -t late Enter
	wait_screen late "did not stop in time"
	# The late stop has come (at once: the thread runs) or comes now; either way the thread
	# must run on, and not stay in a trace stop while proftop runs.
	assert_progress "$child"
	tm send-keys -t late Escape
	wait_for "! screen late | grep -qF 'did not stop in time'" 5 || fail "detail did not close"
done
wait_for "[ \"\$(awk '{print \$3}' /proc/$child/stat)\" = R ]" 5 ||
	fail "burnlater left stopped: state $(awk '{print $3}' "/proc/$child/stat")"
tm send-keys -t late q
wait_gone "$TUI_PID"
assert_exit late 0
