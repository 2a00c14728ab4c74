# Files the target controls cannot hang or exhaust proftop: the perf map of a JIT (its
# /tmp/perf-PID.map, read for addresses in no module) made a FIFO that nobody writes, a link to
# /dev/zero, or a 1 GiB file.  Each record ends on time, writes its profile, and reads at most
# 64 MiB of the map, cut at a line end.
. "$(dirname "$0")/lib.sh"
start_fixture jit
map="/tmp/perf-$FIX_PID.map"
line=$(head -1 "$map")
trap 'rm -f "$map"; cleanup' EXIT

# record_with WHAT: record 1 s with the map in place; at most 20 s, and less than 400 MB.
record_with() {
	local what="$1"
	rm -f "$T/$what.folded"
	timeout 20 /usr/bin/time -f '%M' -o "$T/$what.rss" "$PROFTOP" record -p "$FIX_PID" -d 1 \
		--format folded -o "$T/$what.folded" -v "$T/$what.log" 2>"$T/$what.err" ||
		fail "$what: record failed or hung: $(cat "$T/$what.err")"
	[ -s "$T/$what.folded" ] || fail "$what: an empty profile"
	local kb
	kb=$(tail -1 "$T/$what.rss")
	[ "$kb" -lt 400000 ] || fail "$what: proftop grew to $kb KiB"
	note "$what: ok, max RSS $kb KiB"
}

rm -f "$map"; mkfifo "$map"
record_with fifo
rm -f "$map"; ln -s /dev/zero "$map"
record_with devzero
rm -f "$map"; echo "$line" >"$map"; truncate -s 1G "$map"
record_with huge
grep -q "read only the first" "$T/huge.log" || fail "huge: the 64 MiB cap was not logged"
[ "$(folded_count "$T/huge.folded" jit_hot_loop)" -gt 5 ] ||
	fail "huge: the map's first line did not name the JIT code: $(cat "$T/huge.folded")"
rm -f "$map"
assert_untraced "$FIX_PID"
