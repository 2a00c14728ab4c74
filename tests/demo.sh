#!/bin/bash
# make demo: start the demo target (tests/bin/hotspots: worker threads with known hot functions)
# and watch it with proftop.  On a terminal this is the live TUI (q quits; DEMO_RECORD=1 asks
# for the other way); otherwise a 5 s record whose top functions are printed.  The demo target
# is stopped at the end either way.
cd "$(dirname "$0")/.." || exit 1
./tests/bin/hotspots --threads 3 >/dev/null &
target=$!
trap 'kill $target 2>/dev/null' EXIT
if [ -t 0 ] && [ -t 1 ] && [ -z "${DEMO_RECORD:-}" ]; then
	# The live view: 1 top functions, 2 flame graph, ? help, q quits.
	./proftop -p "$target"
else
	out=$(mktemp /tmp/proftop-demo.XXXXXX.json)
	./proftop record -p "$target" -d 5 --format json -o "$out" || exit 1
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print("pid %d (%s): %d samples in %.1f s, %s mode" % (d["pid"], d["comm"], d["samples"], d["duration_s"], d["mode"]))
print("%7s %7s  %s" % ("self%", "total%", "function"))
for f in d["top_functions"][:10]:
    print("%6.1f%% %6.1f%%  %s  %s:%d" % (f["self_pct"], f["total_pct"], f["function"], f["file"].split("/")[-1], f["line"]))
' "$out"
	rm -f "$out"
fi
