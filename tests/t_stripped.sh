# A stripped binary (no symbol table) yields module+0xoffset frames, never garbage or a crash.
. "$(dirname "$0")/lib.sh"
cp "$TESTBIN/hotspots" "$T/hotspots-stripped"
strip --strip-all "$T/hotspots-stripped"
TESTBIN="$T" start_fixture hotspots-stripped
"$PROFTOP" record -p "$FIX_PID" -d 2 --format folded -o "$T/s.folded" 2>"$T/err" ||
	fail "record failed: $(cat "$T/err")"
grep -Eq 'hotspots-stripped\+0x[0-9a-f]+' "$T/s.folded" ||
	fail "no module+offset frames: $(head -3 "$T/s.folded")"
grep -q burn_hot "$T/s.folded" && fail "names of a stripped binary cannot be known"
true
