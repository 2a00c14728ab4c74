# Bad input gets one clear line and a non-zero exit: missing pid, no permission (another user
# on pid 1), unwritable output, an output that is a directory or a device, durations that are no
# number of seconds, dump given a command.  Nothing is written half-way.
. "$(dirname "$0")/lib.sh"
one_line() { [ "$(wc -l <"$1")" -eq 1 ] || fail "expected one line, got: $(cat "$1")"; }

"$PROFTOP" record -p 999999 -d 1 -o "$T/x.pb.gz" 2>"$T/e1" && fail "missing pid accepted"
one_line "$T/e1"; grep -q "no such process" "$T/e1" || fail "missing pid: $(cat "$T/e1")"
# A kernel thread has no user space: said as such, not as a permission problem.
kt=$(pgrep -x kthreadd | head -1)
if [ -n "$kt" ]; then
	"$PROFTOP" record -p "$kt" -d 1 -o "$T/k.pb.gz" 2>"$T/ek" && fail "kernel thread accepted"
	one_line "$T/ek"; grep -q "is a kernel thread" "$T/ek" || fail "kernel thread: $(cat "$T/ek")"
	"$PROFTOP" dump -p "$kt" >/dev/null 2>"$T/ek2" && fail "dump of a kernel thread accepted"
	grep -q "is a kernel thread" "$T/ek2" || fail "dump, kernel thread: $(cat "$T/ek2")"
else
	note "no kthreadd in this pid namespace: the kernel-thread message is not checked here"
fi

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

# -o names a directory or a device: refused before attaching, naming the path and the cause.
"$PROFTOP" record -p "$FIX_PID" -d 1 -o "$T/w" 2>"$T/e7" && fail "directory as -o accepted"
one_line "$T/e7"; grep -q "cannot write $T/w: is a directory" "$T/e7" || fail "-o dir: $(cat "$T/e7")"
"$PROFTOP" record -p "$FIX_PID" -d 1 -o "$T/w/" 2>"$T/e8" && fail "-o dir/ accepted"
one_line "$T/e8"; grep -q "is a directory" "$T/e8" || fail "-o dir/: $(cat "$T/e8")"
"$PROFTOP" record -p "$FIX_PID" -d 1 -o /dev/null 2>"$T/e9" && fail "-o /dev/null accepted"
one_line "$T/e9"; grep -q "cannot write /dev/null: not a regular file" "$T/e9" ||
	fail "-o /dev/null: $(cat "$T/e9")"
[ -z "$(ls -A "$T/w")" ] || fail "left a file behind in $T/w"
[ -c /dev/null ] || fail "/dev/null is no longer a device"
# With --trigger, -o is a directory: a file there is refused the same way.
: >"$T/plain"
"$PROFTOP" record -p "$FIX_PID" --trigger deadlock -o "$T/plain" 2>"$T/e10" &&
	fail "--trigger -o FILE accepted"
one_line "$T/e10"; grep -q "$T/plain: not a directory" "$T/e10" || fail "--trigger -o: $(cat "$T/e10")"
grep -q "^TracerPid:[[:space:]]*0" "/proc/$FIX_PID/status" || fail "attached before the -o check"

# Durations: inf, nan, signs and absurd sizes are usage errors (exit 2, one line).
for d in inf nan -1 1e8 1e999 3x; do
	"$PROFTOP" record -p "$FIX_PID" -d "$d" -o "$T/d.pb.gz" 2>"$T/e11"
	[ $? -eq 2 ] || fail "-d $d: exit not 2"
	one_line "$T/e11"; grep -q "seconds" "$T/e11" || fail "-d $d: $(cat "$T/e11")"
done
"$PROFTOP" dump -p "$FIX_PID" --stuck-after inf 2>"$T/e12"; [ $? -eq 2 ] || fail "--stuck-after inf: exit not 2"
one_line "$T/e12"
"$PROFTOP" dump -p "$FIX_PID" --stuck-after 1e300 2>"$T/e12"; [ $? -eq 2 ] || fail "--stuck-after 1e300: exit not 2"
one_line "$T/e12"
[ ! -e "$T/d.pb.gz" ] || fail "a bad duration still wrote a profile"

# dump does not start commands: a usage error.
"$PROFTOP" dump -- "$TESTBIN/hotspots" >"$T/o13" 2>"$T/e13"; [ $? -eq 2 ] || fail "dump -- CMD: exit not 2"
one_line "$T/e13"; grep -q "dump" "$T/e13" || fail "dump -- CMD: $(cat "$T/e13")"
[ ! -s "$T/o13" ] || fail "dump -- CMD wrote to stdout"

"$PROFTOP" record -p "$FIX_PID" --rate 0 2>"$T/e5"; [ $? -eq 2 ] || fail "bad rate: exit not 2"
one_line "$T/e5"
"$PROFTOP" record -p abc 2>"$T/e6"; [ $? -eq 2 ] || fail "bad pid: exit not 2"
one_line "$T/e6"
assert_untraced "$FIX_PID"
