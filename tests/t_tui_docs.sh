# The documentation names every key and option (acceptance 7 of issue 8): the keys and options
# that `proftop --help` lists and those of the man page's KEYS and OPTIONS sections are the same
# sets; every key of --help is on the TUI's own help screen; every theme element of
# src/theme.h is described under THEMES; the man page lints clean.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui.sh"
MAN="$(dirname "$0")/../man/proftop.1"
THEME_H="$(dirname "$0")/../src/theme.h"
"$PROFTOP" --help >"$T/help" || fail "--help failed"

# --help: "Options:" lines start with -x, or --long; key lines are "  KEYS  description" in
# the "Keys ..." paragraph, keys separated by single blanks.
sed -n '/^Options:/,/^$/p' "$T/help" | grep -oE '^ +(-[A-Za-z], )?--[a-z-]+' |
	grep -oE -- '--?[A-Za-z][a-z-]*' | sort -u >"$T/help.opts"
sed -n '/^Keys/,/^$/p' "$T/help" | sed -n '2,$p' | grep -v '^$' |
	sed -E 's/^ +//; s/ {2,}.*//' | tr ' ' '\n' | grep -v '^$' | sort -u >"$T/help.keys"

# Man page: .It Fl lines of OPTIONS; every Ic argument of KEYS.
unroff() { sed -e 's/\\-/-/g' -e 's/\\&//g'; }
sed -n '/^\.Sh OPTIONS/,/^\.Sh /p' "$MAN" | grep '^\.It Fl' | unroff |
	awk '{ for (i = 3; i <= NF; i++) { if ($i == "Ar" || $i == "Cm") break;
		if ($i != ",") print "-" $i } }' | sort -u >"$T/man.opts"
sed -n '/^\.Sh KEYS/,/^\.Sh /p' "$MAN" | grep -E '^\.(It )?Ic ' | unroff |
	sed -E 's/^\.(It )?Ic //' | tr ' ' '\n' | grep -vE '^(,|too|)$' | sort -u >"$T/man.keys"

[ "$(wc -l <"$T/help.opts")" -ge 15 ] || fail "parsed too few options from --help: $(cat "$T/help.opts")"
[ "$(wc -l <"$T/help.keys")" -ge 30 ] || fail "parsed too few keys from --help: $(cat "$T/help.keys")"
diff "$T/help.opts" "$T/man.opts" >"$T/d1" ||
	fail "options differ (< only in --help, > only in the man page): $(cat "$T/d1")"
diff "$T/help.keys" "$T/man.keys" >"$T/d2" ||
	fail "keys differ (< only in --help, > only in the man page): $(cat "$T/d2")"
note "$(wc -l <"$T/help.opts") options and $(wc -l <"$T/help.keys") keys agree"

# Theme elements.
for e in $(sed -n 's/^\tX([A-Z_]*, "\([a-z_]*\)".*/\1/p' "$THEME_H"); do
	sed -n '/^\.Sh THEMES/,/^\.Sh /p' "$MAN" | grep -qE "^\.It Cm .*\\b$e\\b" ||
		fail "theme element $e not described under THEMES"
done

# The help screen inside the TUI shows every key of --help.
start_fixture hotspots
tui_start hv 100 60 -- -p "$FIX_PID"
wait_screen hv "SELF%"
tm send-keys -t hv '?'
wait_screen hv "Keys in every view"
screen hv | tr ' ' '\n' | sed -E 's/^[(]//; s/[),;:]+$//' | grep -v '^$' | sort -u >"$T/screen.words"
missing=$(comm -23 "$T/help.keys" "$T/screen.words" | tr '\n' ' ')
[ -z "$missing" ] || fail "keys of --help missing from the help screen: $missing
$(screen hv)"
tm send-keys -t hv Escape
wait_screen hv "SELF%"
tm send-keys -t hv q
wait_gone "$TUI_PID"
mandoc -T lint -W warning "$MAN" >"$T/lint" 2>&1 || fail "mandoc lint: $(cat "$T/lint")"
[ ! -s "$T/lint" ] || fail "mandoc lint: $(cat "$T/lint")"
