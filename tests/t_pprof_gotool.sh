# record writes a gzipped profile.proto that Debian's `go tool pprof` reads without
# re-symbolizing: the hottest entry is in hotspots.c with a line number, burn_hot outweighs
# burn_cold 3:1, and samples carry thread name and tid labels.
. "$(dirname "$0")/lib.sh"
command -v go >/dev/null || fail "go is not installed (make deps installs golang-go)"
start_fixture hotspots
"$PROFTOP" record -p "$FIX_PID" -d 3 -F 1999 -o "$T/p.pb.gz" 2>"$T/err" ||
	fail "record failed: $(cat "$T/err")"
export PPROF_TMPDIR="$T"
go tool pprof -top -lines "$T/p.pb.gz" >"$T/top" 2>"$T/top.err" || fail "pprof: $(cat "$T/top.err")"
cat "$T/top" | head -12
grep -qi "symboliz" "$T/top.err" && fail "pprof tried to symbolize: $(cat "$T/top.err")"
# First data row: the hottest line.  mix_step is inlined into burn_hot, so -lines names the
# innermost frame; either way it must be hotspots.c:LINE.
first=$(awk '/flat%/{getline; print; exit}' "$T/top")
echo "$first" | grep -Eq '(burn_hot|mix_step) .*hotspots\.c:[0-9]+' ||
	fail "first row is not the hot function with file:line: $first"
go tool pprof -top -sample_index=samples "$T/p.pb.gz" >"$T/byfunc" 2>/dev/null
go tool pprof -traces "$T/p.pb.gz" >"$T/traces" 2>/dev/null
grep -Eq "^ +thread: +worker-" "$T/traces" || fail "no thread labels in samples"
grep -Eq "^ +tid: +[0-9]+" "$T/traces" || fail "no tid labels in samples"
# Function-level shares (cum) of burn_hot and burn_cold: 3:1 (see share_ok).
hot=$(awk '$NF=="burn_hot"{print $4}' "$T/byfunc")
cold=$(awk '$NF=="burn_cold"{print $4}' "$T/byfunc")
note "cum samples burn_hot=$hot burn_cold=$cold"
share_ok "$hot" "$cold" 3 ||
	fail "pprof shares burn_hot:burn_cold = $hot:$cold, not 3:1"
