# Frames are named from every source proftop promises: a binary deleted while it runs (through
# /proc/PID/map_files), JIT code named in /tmp/perf-PID.map, and C++ (demangled names).
. "$(dirname "$0")/lib.sh"

# Deleted binary: copy, start, delete, record.
cp "$TESTBIN/hotspots" "$T/hotspots-deleted"
TESTBIN="$T" start_fixture hotspots-deleted
rm "$T/hotspots-deleted"
grep -q "hotspots-deleted (deleted)" "/proc/$FIX_PID/maps" || fail "binary not shown as deleted"
"$PROFTOP" record -p "$FIX_PID" -d 1 --format folded -o "$T/del.folded" 2>"$T/err" ||
	fail "record (deleted binary): $(cat "$T/err")"
[ "$(folded_count "$T/del.folded" burn_hot)" -gt 0 ] ||
	fail "deleted binary not symbolized: $(head -3 "$T/del.folded")"

# JIT code named by the perf map.
start_fixture jit
"$PROFTOP" record -p "$FIX_PID" -d 1 -F 499 --format folded -o "$T/jit.folded" 2>"$T/err" ||
	fail "record (jit): $(cat "$T/err")"
kill -TERM "$FIX_PID"   # removes its /tmp/perf-PID.map
[ "$(folded_count "$T/jit.folded" jit_hot_loop)" -gt 5 ] ||
	fail "JIT code not named from the perf map: $(cat "$T/jit.folded")"

# C++: demangled names with namespace, template arguments and parameter types.
start_fixture cppwork
"$PROFTOP" record -p "$FIX_PID" -d 1 -F 499 --format folded -o "$T/cpp.folded" 2>"$T/err" ||
	fail "record (c++): $(cat "$T/err")"
[ "$(folded_count "$T/cpp.folded" 'shop::Cart<int>::total(int)')" -gt 10 ] ||
	fail "no demangled shop::Cart<int>::total(int): $(cat "$T/cpp.folded")"
[ "$(folded_count "$T/cpp.folded" 'shop::Ledger::balance(long)')" -gt 3 ] ||
	fail "no demangled shop::Ledger::balance(long)"
grep -q "_ZN4shop" "$T/cpp.folded" && fail "mangled names in the output"
true
