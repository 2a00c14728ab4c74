# record in perf mode with frame-pointer call chains (see record_truth in lib.sh).
. "$(dirname "$0")/lib.sh"
record_truth hotspots perf
