# A Go program (Debian's golang-go) is profiled with Go's own function names.
. "$(dirname "$0")/lib.sh"
start_fixture go-gohot
"$PROFTOP" record -p "$FIX_PID" -d 2 -F 497 --format folded -o "$T/go.folded" 2>"$T/err" ||
	fail "record failed: $(cat "$T/err")"
work=$(folded_count "$T/go.folded" main.work)
note "main.work=$work"
[ "$work" -gt 50 ] || fail "main.work not found: $(sort -t' ' -k2 -n "$T/go.folded" | tail -5)"
grep -q "runtime.goexit;main.main.func1;main.work\|main\.work" "$T/go.folded" || fail "no Go frames"
assert_untraced "$FIX_PID"
