# Shared helpers of the end-to-end tests (sourced).  Every test runs real fixture programs and
# the real proftop binary; nothing here sleeps and hopes: waits are for a condition, with a limit.
set -u
PROFTOP="${PROFTOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/proftop}"
TESTBIN="${TESTBIN:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/bin}"
T=$(mktemp -d /tmp/proftop-t.XXXXXX)
FIXTURE_PIDS=""
export GOCACHE="$T/gocache" HOME="${HOME:-$T}"

cleanup() {
	for p in $FIXTURE_PIDS; do kill -KILL "$p" 2>/dev/null; done
	[ -n "${TMUX_SOCK:-}" ] && tmux -S "$TMUX_SOCK" kill-server 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "# $*"; }

# wait_for COND_CMD TIMEOUT_S: poll a condition every 20 ms until true or the time is up.
wait_for() {
	local cond="$1" limit="${2:-10}" end=$(( $(date +%s%N) + ${2:-10} * 1000000000 ))
	while ! eval "$cond"; do
		[ "$(date +%s%N)" -lt "$end" ] || return 1
		sleep 0.02
	done
}

# start_fixture NAME [ARGS...]: start tests/bin/NAME, wait for its "ready"/"deadlocked" line.
# Sets FIX_PID and FIX_LINE (that line); the fixture's stdout is in $T/NAME.out.
start_fixture() {
	local name="$1"; shift
	local out="$T/$name.out"
	"$TESTBIN/$name" "$@" >"$out" 2>"$T/$name.err" &
	FIX_PID=$!
	disown "$FIX_PID"   # killed at the end by cleanup; no job-control noise in the log
	FIXTURE_PIDS="$FIXTURE_PIDS $FIX_PID"
	wait_for "grep -qE '^(ready|deadlocked)' '$out'" 20 ||
		fail "fixture $name did not get ready: $(cat "$out" "$T/$name.err")"
	FIX_LINE=$(grep -E '^(ready|deadlocked)' "$out" | head -1)
}

# fact KEY: value of KEY=VALUE on the fixture's ready line.
fact() { echo "$FIX_LINE" | tr ' ' '\n' | sed -n "s/^$1=//p"; }

# assert_untraced PID: the process is neither traced nor stopped, and still alive.
assert_untraced() {
	local pid="$1" tp st
	[ -d "/proc/$pid" ] || fail "process $pid is gone"
	tp=$(awk '/^TracerPid/{print $2}' "/proc/$pid/status")
	[ "$tp" = 0 ] || fail "process $pid still traced by $tp"
	for t in /proc/"$pid"/task/*; do
		st=$(awk '/^State/{print $2}' "$t/status" 2>/dev/null)
		tp=$(awk '/^TracerPid/{print $2}' "$t/status" 2>/dev/null)
		case "$st" in t|T) fail "thread $(basename "$t") of $pid left stopped ($st)";; esac
		[ -z "$tp" ] || [ "$tp" = 0 ] || fail "thread $(basename "$t") of $pid traced by $tp"
	done
}

# cpu_ticks PID: utime+stime of the process, to check it keeps making progress.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# assert_progress PID: the process uses CPU over the next moment (it is not frozen).
assert_progress() {
	local a b
	a=$(cpu_ticks "$1")
	wait_for "[ \$(cpu_ticks $1) -gt $a ]" 5 || fail "process $1 made no progress"
}

# share_ok HOT COLD RATIO: HOT:COLD counts agree with a true RATIO:1 split.  The allowed error of
# the hot share is 1 percentage point of bias plus 4 binomial standard deviations for the sample
# count, so a small sample is judged by what it can show (a test must not fail by chance) and a
# large one is held to about 10% of the ratio.
share_ok() {
	awk -v h="$1" -v c="$2" -v r="$3" 'BEGIN {
		n = h + c; if (n < 1) exit 1
		p = r / (r + 1); d = h / n - p; if (d < 0) d = -d
		exit !(d <= 0.01 + 4 * sqrt(p * (1 - p) / n)) }'
}

# folded_count FILE FUNC: samples whose stack contains FUNC as a frame (folded format).
folded_count() {
	awk -v f="$2" '{ n = $NF; $NF = ""; k = split($0, fr, ";");
		for (i = 1; i <= k; i++) { g = fr[i]; sub(/ +$/, "", g); if (g == f) { s += n; break } } }
		END { print s + 0 }' "$1"
}

# record_truth FIXTURE MODE [RECORD_ARGS...]: record FIXTURE (hotspots or hotspots_nofp, with a
# late thread) for 3 s in MODE with RECORD_ARGS, and check what every sampling mode must give:
# the 3:1 ground truth (share_ok), the thread started after attach, the full stack
# worker_main;burn_hot, and a target left running and untraced.
record_truth() {
	local fixture="$1" mode="$2" hot cold late
	shift 2
	start_fixture "$fixture" --late 1
	"$PROFTOP" record -p "$FIX_PID" -d 3 -F 4999 --mode "$mode" "$@" --format folded \
		-o "$T/out.folded" 2>"$T/err" || fail "record failed: $(cat "$T/err")"
	grep -q "$mode mode" "$T/err" || fail "not in $mode mode: $(cat "$T/err")"
	hot=$(folded_count "$T/out.folded" burn_hot)
	cold=$(folded_count "$T/out.folded" burn_cold)
	late=$(folded_count "$T/out.folded" late_spin)
	note "burn_hot=$hot burn_cold=$cold late_spin=$late"
	share_ok "$hot" "$cold" 3 ||
		fail "burn_hot:burn_cold = $hot:$cold, not 3:1 (1 pp + 4 sigma on the hot share)"
	[ "$late" -gt 0 ] || fail "the thread started after attach (late_spin) was not sampled"
	grep -q "worker_main;burn_hot" "$T/out.folded" || fail "no full stack worker_main;burn_hot"
	assert_untraced "$FIX_PID"
	assert_progress "$FIX_PID"
}
