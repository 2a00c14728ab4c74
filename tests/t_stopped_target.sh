# A target that someone else stopped (SIGSTOP, Ctrl-Z) stays stopped while proftop samples it in
# ptrace mode and after it detaches (proftop never resumes what it did not stop); SIGCONT then
# resumes it.  And a SIGSTOP/SIGCONT arriving during a ptrace record is honoured the same way.
. "$(dirname "$0")/lib.sh"
start_fixture hotspots
state() { awk '/^State/{print $2}' /proc/$FIX_PID/status; }
# Stopped: T, or t while proftop traces it (a group stop kept with PTRACE_LISTEN).
all_stopped() { for t in /proc/$FIX_PID/task/*; do s=$(awk '/^State/{print $2}' $t/status); [ "$s" = T ] || [ "$s" = t ] || return 1; done; }
tracer() { awk '/^TracerPid/{print $2}' /proc/$FIX_PID/status; }
kill -STOP "$FIX_PID"
wait_for all_stopped 5 || fail "fixture did not stop"
"$PROFTOP" record --mode ptrace -p "$FIX_PID" -d 1 -o "$T/a.pb.gz" 2>"$T/err" || fail "record: $(cat "$T/err")"
[ "$(tracer)" = 0 ] || fail "still traced"
all_stopped || fail "proftop resumed a target someone else had stopped"
kill -CONT "$FIX_PID"
assert_untraced "$FIX_PID"
assert_progress "$FIX_PID"

# Stop and continue it in the middle of a ptrace-mode record.
"$PROFTOP" record --mode ptrace -p "$FIX_PID" -d 30 -o "$T/b.pb.gz" 2>"$T/err2" &
rec=$!
FIXTURE_PIDS="$FIXTURE_PIDS $rec"
wait_for '[ "$(tracer)" != 0 ]' 10 || fail "record did not attach"
kill -STOP "$FIX_PID"
wait_for all_stopped 5 || fail "SIGSTOP not honoured while traced"
t0=$(cpu_ticks "$FIX_PID")
kill -CONT "$FIX_PID"
wait_for "[ \$(cpu_ticks $FIX_PID) -gt $t0 ]" 5 || fail "SIGCONT not honoured while traced"
kill -INT "$rec"
wait "$rec" || fail "record: $(cat "$T/err2")"
assert_untraced "$FIX_PID"
assert_progress "$FIX_PID"
