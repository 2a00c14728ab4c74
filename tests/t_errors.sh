# Bad input gets one clear line and a non-zero exit: missing pid, no permission (another user
# on pid 1), unwritable output.  Nothing is written half-way.
. "$(dirname "$0")/lib.sh"
one_line() { [ "$(wc -l <"$1")" -eq 1 ] || fail "expected one line, got: $(cat "$1")"; }

"$PROFTOP" record -p 999999 -d 1 -o "$T/x.pb.gz" 2>"$T/e1" && fail "missing pid accepted"
one_line "$T/e1"; grep -q "no such process" "$T/e1" || fail "missing pid: $(cat "$T/e1")"

cp "$PROFTOP" "$T/proftop"; chmod 755 "$T" "$T/proftop"
mkdir -m 777 "$T/w"
setpriv --reuid=nobody --regid=nogroup --clear-groups "$T/proftop" record -p 1 -d 1 \
	-o "$T/w/x.pb.gz" 2>"$T/e2" && fail "pid 1 accepted for user nobody"
one_line "$T/e2"
grep -q "permission denied" "$T/e2" || fail "no permission: $(cat "$T/e2")"
grep -q "CAP_SYS_PTRACE\|ptrace_scope\|perf_event_paranoid" "$T/e2" || fail "no remedy: $(cat "$T/e2")"

start_fixture hotspots
"$PROFTOP" record -p "$FIX_PID" -d 1 -o /nonexistent/dir/x.pb.gz 2>"$T/e3" && fail "bad -o accepted"
one_line "$T/e3"; grep -q "cannot write /nonexistent/dir/x.pb.gz" "$T/e3" || fail "bad -o: $(cat "$T/e3")"
mkdir -m 755 "$T/ro"
setpriv --reuid=nobody --regid=nogroup --clear-groups "$T/proftop" record -p "$FIX_PID" -d 1 \
	-o "$T/ro/x.pb.gz" 2>"$T/e4" && fail "read-only directory accepted"
one_line "$T/e4"; grep -q "cannot write" "$T/e4" || fail "read-only dir: $(cat "$T/e4")"
[ -z "$(ls -A "$T/ro")" ] || fail "left a file behind in $T/ro"

"$PROFTOP" record -p "$FIX_PID" --rate 0 2>"$T/e5"; [ $? -eq 2 ] || fail "bad rate: exit not 2"
one_line "$T/e5"
"$PROFTOP" record -p abc 2>"$T/e6"; [ $? -eq 2 ] || fail "bad pid: exit not 2"
one_line "$T/e6"
assert_untraced "$FIX_PID"
