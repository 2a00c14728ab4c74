# proftop SIGKILLed in the middle of a ptrace-mode record leaves the target running, untraced.
# Also: a normal end of record, and SIGINT/SIGTERM/SIGHUP, each detach.
. "$(dirname "$0")/lib.sh"
start_fixture hotspots
traced() { [ "$(awk '/^TracerPid/{print $2}' /proc/$FIX_PID/status)" != 0 ]; }
for sig in KILL INT TERM HUP; do
	"$PROFTOP" record --mode ptrace -p "$FIX_PID" -d 60 -F 499 -o "$T/k.pb.gz" 2>"$T/err.$sig" &
	rec=$!
	wait_for traced 10 || fail "record never attached: $(cat "$T/err.$sig")"
	# Let it take samples (stopping and resuming threads) before the signal.
	wait_for "[ \$(cpu_ticks $FIX_PID) -gt $(( $(cpu_ticks "$FIX_PID") + 20 )) ]" 10
	kill -"$sig" "$rec"
	wait "$rec"; rc=$?
	case $sig in KILL) [ $rc -eq 137 ] || fail "record survived SIGKILL";;
	             *) [ $rc -eq 0 ] || fail "record exit $rc after SIG$sig: $(cat "$T/err.$sig")"
	                [ -s "$T/k.pb.gz" ] || fail "no profile written after SIG$sig";;
	esac
	wait_for "! traced" 5 || fail "still traced after SIG$sig"
	assert_untraced "$FIX_PID"
	assert_progress "$FIX_PID"
	note "SIG$sig: target untraced and running"
done
"$PROFTOP" record --mode ptrace -p "$FIX_PID" -d 1 -o "$T/n.pb.gz" 2>"$T/err.n" || fail "record: $(cat "$T/err.n")"
assert_untraced "$FIX_PID"
assert_progress "$FIX_PID"
