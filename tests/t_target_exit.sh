# A target that exits in the middle of a record still gets its profile, with named frames.
. "$(dirname "$0")/lib.sh"
start_fixture hotspots
"$PROFTOP" record -p "$FIX_PID" -d 30 --format folded -o "$T/x.folded" 2>"$T/err" &
rec=$!
wait_for "grep -q recording '$T/err'" 10 || fail "record did not start: $(cat "$T/err")"
# Let it collect samples (a condition: the target has burnt CPU since attach), then end it.
t0=$(cpu_ticks "$FIX_PID")
wait_for "[ \$(cpu_ticks $FIX_PID) -gt $((t0 + 50)) ]" 10 || fail "target burnt no CPU"
kill -TERM "$FIX_PID"
wait "$rec" || fail "record failed after the target exited: $(cat "$T/err")"
grep -q "target exited" "$T/err" || fail "did not say the target exited: $(cat "$T/err")"
[ "$(folded_count "$T/x.folded" burn_hot)" -gt 0 ] || fail "no burn_hot samples"
