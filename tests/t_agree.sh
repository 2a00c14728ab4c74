# proftop (perf and ptrace mode) and `perf record`, attached to the same workload in the same
# window, agree on the top-5 functions' self shares within 3 percentage points (bench/agree).
. "$(dirname "$0")/lib.sh"
command -v perf >/dev/null || fail "perf is not installed (make deps installs linux-perf)"
"$(dirname "$0")/../bench/agree" || fail "shares disagree"
