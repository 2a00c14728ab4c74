# record in perf mode with frame-pointer call chains: the 3:1 ground truth of hotspots holds,
# a thread started after attach appears, and the target is left running and untraced.
. "$(dirname "$0")/lib.sh"
start_fixture hotspots --late 1
"$PROFTOP" record -p "$FIX_PID" -d 3 -F 4999 --mode perf --format folded -o "$T/out.folded" \
	2>"$T/err" || fail "record failed: $(cat "$T/err")"
grep -q "perf mode" "$T/err" || fail "not in perf mode: $(cat "$T/err")"
hot=$(folded_count "$T/out.folded" burn_hot)
cold=$(folded_count "$T/out.folded" burn_cold)
late=$(folded_count "$T/out.folded" late_spin)
note "burn_hot=$hot burn_cold=$cold late_spin=$late"
[ "$cold" -gt 100 ] || fail "too few samples in burn_cold ($cold)"
share_ok "$hot" "$cold" 3 ||
	fail "burn_hot:burn_cold = $hot:$cold, not 3:1 (1 pp + 4 sigma on the hot share)"
[ "$late" -gt 0 ] || fail "the thread started after attach (late_spin) was not sampled"
grep -q "worker_main;burn_hot" "$T/out.folded" || fail "no full stack worker_main;burn_hot"
assert_untraced "$FIX_PID"
assert_progress "$FIX_PID"
