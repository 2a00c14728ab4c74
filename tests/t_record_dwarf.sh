# record in perf mode with DWARF unwinding of a stack copy, on a build without frame pointers
# (see record_truth in lib.sh).
. "$(dirname "$0")/lib.sh"
record_truth hotspots_nofp perf --call-graph dwarf
