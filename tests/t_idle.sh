# --idle samples threads that are off CPU too (wall-clock profile), marked off-cpu, with their
# blocking call stacks, without stopping them; perf and ptrace mode.
. "$(dirname "$0")/lib.sh"
start_fixture idle
for mode in perf ptrace; do
	"$PROFTOP" record -p "$FIX_PID" --mode $mode --idle -d 2 --format folded -o "$T/i.$mode" \
		2>"$T/err" || fail "record --idle ($mode): $(cat "$T/err")"
	r=$(folded_count "$T/i.$mode" wait_in_read)
	s=$(folded_count "$T/i.$mode" wait_in_sleep)
	note "$mode: wait_in_read=$r wait_in_sleep=$s"
	[ "$r" -gt 5 ] && [ "$s" -gt 5 ] || fail "$mode: blocked threads not sampled: $(cat "$T/i.$mode")"
	"$PROFTOP" record -p "$FIX_PID" --mode $mode -d 1 --format folded -o "$T/n.$mode" 2>"$T/err"
	[ "$(folded_count "$T/n.$mode" wait_in_read)" -eq 0 ] || fail "$mode: off-CPU samples without --idle"
done
"$PROFTOP" record -p "$FIX_PID" --idle -d 1 -o "$T/i.pb.gz" 2>"$T/err" || fail "record: $(cat "$T/err")"
PPROF_TMPDIR=$T go tool pprof -traces "$T/i.pb.gz" 2>/dev/null | grep -Eq "^ +state: +off-cpu" ||
	fail "off-CPU samples not labelled"
PPROF_TMPDIR=$T go tool pprof -raw "$T/i.pb.gz" 2>/dev/null | grep -q "wall/nanoseconds" ||
	fail "no wall/nanoseconds sample type"
assert_untraced "$FIX_PID"
