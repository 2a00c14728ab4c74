# record in ptrace mode (PTRACE_INTERRUPT and libunwind on live memory), on a build without
# frame pointers (see record_truth in lib.sh).
. "$(dirname "$0")/lib.sh"
record_truth hotspots_nofp ptrace
