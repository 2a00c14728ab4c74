# A Go program (Debian's golang-go) is profiled with Go's own function names.
. "$(dirname "$0")/lib.sh"
start_fixture go-gohot
"$PROFTOP" record -p "$FIX_PID" -d 2 -F 497 --format folded -o "$T/go.folded" 2>"$T/err" ||
	fail "record failed: $(cat "$T/err")"
work=$(folded_count "$T/go.folded" main.work)
note "main.work=$work"
[ "$work" -gt 50 ] || fail "main.work not found: $(sort -t' ' -k2 -n "$T/go.folded" | tail -5)"
grep -q "runtime.goexit;main.main.func1;main.work\|main\.work" "$T/go.folded" || fail "no Go frames"
assert_untraced "$FIX_PID"

# The same program built as production images are (-ldflags='-s -w': no symbol table, no DWARF):
# names and lines come from Go's own pc-line table (inlined calls as frames of their own), and
# the 3:1 truth of work:cold holds.
start_fixture go-gohot-stripped
"$PROFTOP" record -p "$FIX_PID" -d 2 -F 497 --format json -o "$T/s.json" 2>"$T/err" ||
	fail "record (stripped Go) failed: $(cat "$T/err")"
python3 - "$T/s.json" "$(dirname "$0")/fixtures/go/gohot/main.go" <<'PY' || fail "stripped Go: bad names or shares"
import json, re, sys
d = json.load(open(sys.argv[1]))
src = open(sys.argv[2]).read().split("\n")
top = {f["function"]: f for f in d["top_functions"]}
assert "main.work" in top and "main.cold" in top, sorted(top)[:20]
assert not any(re.search(r"\+0x[0-9a-f]+$", f) for f in top if top[f]["self"] > 5), "unnamed frames"
for name in ("main.work", "main.cold"):
    f = top[name]
    assert f["file"].endswith("gohot/main.go") and f["line"] > 0, f
    # The hottest line of each is inside that function in the source.
    fn = name.split(".")[1]
    start = next(i for i, l in enumerate(src, 1) if l.startswith("func %s(" % fn))
    assert start <= f["line"] <= start + 15, (name, f["line"], start)
# mixStep is inlined into both: a frame of its own, from the inline trees, with the self time.
assert top.get("main.mixStep", {}).get("self_pct", 0) > 50, top.get("main.mixStep")
w, c = top["main.work"]["total"], top["main.cold"]["total"]
n = w + c
assert abs(w / n - 0.75) <= 0.01 + 4 * (0.1875 / n) ** 0.5, (w, c)
print("ok: stripped Go names main.work:%d main.cold:%d, %d:%d" % (top["main.work"]["line"], top["main.cold"]["line"], w, c))
PY
assert_untraced "$FIX_PID"
