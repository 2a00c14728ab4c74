# A target in its own mount and PID namespaces, as in a container: its binary lives on a tmpfs
# that only the target sees, it is PID 1 in its namespace, and its JIT map is its own
# /tmp/perf-1.map.  proftop names the binary's functions (through /proc/PID/root or map_files)
# and the JIT code (the map read through /proc/PID/root with the namespace pid), in record and
# dump, and leaves the target untraced.
. "$(dirname "$0")/lib.sh"
command -v unshare >/dev/null || fail "unshare (util-linux) is missing"
# Inside: the fixtures are opened first (fds 4, 5), then the target gets a fresh /tmp and its
# binaries are copied there, so neither its binaries nor its /tmp are the host's (the test may
# itself run below /tmp).  Its output goes to fds opened out here.
D="/tmp/ctr-$$"
inner='exec 4<"$1/jit" 5<"$1/hotspots" && mount -t tmpfs tmpfs /tmp && mkdir "$2" &&
	cat <&4 >"$2/jit" && cat <&5 >"$2/hotspots" && chmod +x "$2/jit" "$2/hotspots" &&
	exec 4<&- 5<&- && { "$2/hotspots" >&3 & exec "$2/jit"; }'
unshare --mount --pid --fork --propagation private sh -c "$inner" sh "$TESTBIN" "$D" \
	>"$T/j.out" 3>"$T/h.out" 2>"$T/err" &
ns=$!
FIXTURE_PIDS="$FIXTURE_PIDS $ns"
wait_for "grep -q '^ready' '$T/j.out' && grep -q '^ready' '$T/h.out'" 20 ||
	fail "fixtures in the namespace did not start: $(cat "$T/j.out" "$T/h.out" "$T/err")"
grep -q "pid=1 " "$T/j.out" || fail "jit is not PID 1 in its namespace: $(cat "$T/j.out")"
jit=$(pgrep -P "$ns") || fail "no host pid for jit"
hot=$(pgrep -P "$jit") || fail "no host pid for hotspots"
FIXTURE_PIDS="$FIXTURE_PIDS $jit $hot"
[ "$(readlink "/proc/$hot/exe")" = "$D/hotspots" ] || fail "hotspots runs from $(readlink "/proc/$hot/exe")"
[ ! -e "$D/hotspots" ] || fail "the binary is visible outside the namespace (no private mount)"
[ -e "/proc/$jit/root/tmp/perf-1.map" ] || fail "no perf map in the target's /tmp"
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
