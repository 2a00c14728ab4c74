# A target in its own mount and PID namespaces, as in a container: its binary lives on a tmpfs
# that only the target sees, it is PID 1 in its namespace, and its JIT map is its own
# /tmp/perf-1.map.  proftop names the binary's functions (through /proc/PID/root or map_files)
# and the JIT code (the map read through /proc/PID/root with the namespace pid), in record and
# dump, and leaves the target untraced.
. "$(dirname "$0")/lib.sh"
command -v unshare >/dev/null || fail "unshare (util-linux) is missing"
# The target gets a new /tmp, so what both sides see (its output, the directory its binaries
# are mounted on) lives outside /tmp, in the build tree, removed at the end.
OUT="$(pwd)/build/t_container.$$"
CTR="$OUT/ctr"
mkdir -p "$CTR"
trap 'rm -rf "$OUT"; cleanup' EXIT
inner='mount -t tmpfs tmpfs "$1" && cp "$2/jit" "$2/hotspots" "$1/" && mount -t tmpfs tmpfs /tmp &&
	{ "$1/hotspots" >"$3/h.out" & exec "$1/jit"; }'
unshare --mount --pid --fork --propagation private sh -c "$inner" sh "$CTR" "$TESTBIN" "$OUT" \
	>"$OUT/j.out" 2>"$OUT/err" &
FIXTURE_PIDS="$FIXTURE_PIDS $!"
wait_for "grep -q '^ready' '$OUT/j.out' && grep -q '^ready' '$OUT/h.out'" 20 ||
	fail "fixtures in the namespace did not start: $(cat "$OUT"/*)"
grep -q "pid=1 " "$OUT/j.out" || fail "jit is not PID 1 in its namespace: $(cat "$OUT/j.out")"
jit=$(pgrep -f -x "$CTR/jit") || fail "no host pid for jit"
hot=$(pgrep -f -x "$CTR/hotspots") || fail "no host pid for hotspots"
FIXTURE_PIDS="$FIXTURE_PIDS $jit $hot"
[ ! -e "$CTR/jit" ] || fail "the binary is visible outside the namespace (no private mount)"
[ ! -e /tmp/perf-1.map ] || [ "$(stat -c %i /tmp/perf-1.map)" != "$(stat -c %i "/proc/$jit/root/tmp/perf-1.map")" ] ||
	fail "the target's /tmp is the host's"

"$PROFTOP" record -p "$jit" -d 1 -F 499 --format folded -o "$T/jit.folded" 2>"$T/err" ||
	fail "record (jit in a namespace): $(cat "$T/err")"
[ "$(folded_count "$T/jit.folded" jit_hot_loop)" -gt 5 ] ||
	fail "JIT code in a namespace not named: $(head -5 "$T/jit.folded")"
"$PROFTOP" record -p "$hot" -d 1 -F 499 --format folded -o "$T/hot.folded" 2>"$T/err" ||
	fail "record (hotspots in a namespace): $(cat "$T/err")"
[ "$(folded_count "$T/hot.folded" burn_hot)" -gt 5 ] ||
	fail "binary on the namespace's tmpfs not symbolized: $(head -5 "$T/hot.folded")"
"$PROFTOP" dump -p "$hot" >"$T/dump" 2>"$T/err" || fail "dump (namespace): $(cat "$T/err")"
grep -q "worker_main" "$T/dump" || fail "dump (namespace) has no worker_main: $(head -20 "$T/dump")"
assert_untraced "$jit"
assert_untraced "$hot"
