# make install PREFIX=... puts the binary, the man page and the themes in place, and the
# installed binary finds its themes there (even though it was built for another prefix).
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.." || exit 1
make -s install PREFIX="$T/prefix" >"$T/log" 2>&1 || fail "make install: $(cat "$T/log")"
for f in bin/proftop share/man/man1/proftop.1 share/proftop/themes/dark.theme \
	share/proftop/themes/light.theme share/proftop/themes/mono.theme; do
	[ -f "$T/prefix/$f" ] || fail "not installed: $f"
done
"$T/prefix/bin/proftop" --version | grep -q '^proftop ' || fail "installed binary does not run"
mandoc -T utf8 "$T/prefix/share/man/man1/proftop.1" 2>/dev/null | grep -q "record" ||
	fail "installed man page does not render"
# A theme by name is found in PREFIX/share/proftop/themes: a broken copy there is reported with
# its own path (so it was the one read), before any attach.
printf 'bogus line\n' >"$T/prefix/share/proftop/themes/broken.theme"
HOME="$T" XDG_CONFIG_HOME="$T/none" "$T/prefix/bin/proftop" --theme broken -p 1 2>"$T/err" && fail "broken theme accepted"
grep -Eq "^$T/prefix/(bin/\.\./)?share/proftop/themes/broken.theme:1:" "$T/err" || fail "theme not looked up under the prefix: $(cat "$T/err")"
