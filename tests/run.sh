#!/bin/bash
# Run every test: the unit tests (build/tests/unit/*) and the end-to-end scripts (tests/t_*.sh).
# Each test is one program or script; exit status 0 is a pass.  Output of a failing test is
# shown.  The last line is "N passed, N failed".
#   PROFTOP=path   binary under test (default ./proftop)   UNITDIR=dir   unit test binaries
#   TESTS="t_record_fp t_dump_abba"   run only these (names without .sh)
cd "$(dirname "$0")/.." || exit 1
export PROFTOP="${PROFTOP:-$PWD/proftop}"
UNITDIR="${UNITDIR:-$PWD/build/tests/unit}"
export TESTBIN="$PWD/tests/bin"
export TESTDIR="$PWD/tests"
passed=0
failed=0
failures=""
logdir=$(mktemp -d /tmp/proftop-tests.XXXXXX)

run_one() {
	local name="$1"; shift
	local log="$logdir/$name.log"
	local start=$(date +%s%N)
	local rc=0
	timeout --kill-after=10 "${TEST_TIMEOUT:-300}" "$@" >"$log" 2>&1 || rc=$?
	if [ $rc -eq 0 ]; then
		passed=$((passed + 1))
		local ms=$((($(date +%s%N) - start) / 1000000))
		printf 'ok   %-28s %3d.%01ds\n' "$name" $((ms / 1000)) $((ms % 1000 / 100))
	else
		failed=$((failed + 1))
		failures="$failures $name"
		printf 'FAIL %-28s (exit %s)\n' "$name" "$rc"
		sed 's/^/     | /' "$log" | tail -40
	fi
}

selected() {
	local want
	[ -z "${TESTS:-}" ] && return 0
	for want in $TESTS; do [ "$want" = "$1" ] && return 0; done
	return 1
}

for u in "$UNITDIR"/*; do
	[ -x "$u" ] || continue
	name=$(basename "$u")
	selected "$name" || continue
	run_one "$name" "$u"
done
for t in tests/t_*.sh; do
	[ -f "$t" ] || continue
	name=$(basename "$t" .sh)
	selected "$name" || continue
	run_one "$name" bash "$t"
done
rm -rf "$logdir"
[ -n "$failures" ] && echo "failed:$failures"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
