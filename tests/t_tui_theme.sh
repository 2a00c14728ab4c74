# Themes and colours (acceptance 5 of issue 8): the dark default and --theme light paint their
# own colours (seen in tmux's escape codes), --no-color and NO_COLOR give monochrome (no colour
# codes, attributes only), a theme is found by name in $XDG_CONFIG_HOME/proftop/themes, an
# 8-colour terminal gets the basic colours, and a malformed theme file gives "FILE:LINE: what
# is wrong" with a non-zero exit before anything is attached.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui.sh"
start_fixture hotspots
pid=$FIX_PID
colour_codes() { grep -o $'\e\[[0-9;]*m' | grep -E '\[(3[0-8]|4[0-8]|9[0-7]|10[0-7])(;|m)|[34]8;5;' ; }

tui_start dark 100 30 -- -p "$pid"
wait_screen dark "mix_step"
screen dark -e | grep -q '48;5;236' || fail "dark: no header background 236"
screen dark -e | grep -q '48;5;81' || fail "dark: no cursor background 81"

tui_start light 100 30 -- -p "$pid" --theme light
wait_screen light "mix_step"
screen light -e | grep -q '48;5;252' || fail "light: no header background 252"
screen light -e | grep -q '48;5;153' || fail "light: no cursor background 153"
screen light -e | grep -q '48;5;236' && fail "light: dark header colour"

for how in nocolor noenv; do
	if [ $how = nocolor ]; then
		tui_start $how 100 30 -- -p "$pid" --no-color
	else
		tui_start $how 100 30 NO_COLOR=1 -- -p "$pid" --theme light
	fi
	wait_screen $how "mix_step"
	tm send-keys -t $how 2
	wait_screen $how "worker_main"
	codes=$(screen $how -e | colour_codes)
	[ -z "$codes" ] || fail "$how: colour codes on a monochrome screen: $(echo "$codes" | sort -u | head)"
	screen $how -e | grep -q $'\e\[7m' || fail "$how: no reverse video (cursor, header)"
done

# By name from the config directory; and an 8-colour terminal.
mkdir -p "$T/cfg/proftop/themes"
sed 's/^header  *=.*/header = 231 22/' "$(dirname "$0")/../themes/dark.theme" >"$T/cfg/proftop/themes/green.theme"
tui_start named 100 30 XDG_CONFIG_HOME="$T/cfg" -- -p "$pid" --theme green
wait_screen named "mix_step"
screen named -e | grep -q '48;5;22' || fail "named theme from XDG_CONFIG_HOME not used"
tui_start eight 100 30 TERM=screen -- -p "$pid"
wait_screen eight "mix_step"
screen eight -e | grep -q '[34]8;5;' && fail "8-colour terminal got 256-colour codes"
screen eight -e | grep -qE $'\e\\[(4[0-7])m' || fail "8-colour terminal: no basic colours"

# A non-UTF-8 locale: ASCII only (bars of '#', boxes of '+-|'); UTF-8: block characters.
tui_start ascii 100 30 LANG=C LC_ALL=C -- -p "$pid"
wait_screen ascii "mix_step"
tm send-keys -t ascii t
wait_screen ascii "Limit to one thread"
screen ascii | grep -q '[^ -~]' && fail "ASCII locale: non-ASCII on screen: $(screen ascii | grep '[^ -~]' | head -3)"
screen ascii | grep -q ' #' || fail "ASCII locale: no '#' bars: $(screen ascii)"
screen ascii | grep -q '^ *+-' || fail "ASCII locale: no '+-' box: $(screen ascii)"
tm send-keys -t ascii Escape
screen dark | grep -q '█' || fail "UTF-8 locale: no block characters in the bars"

# Malformed: FILE:LINE: what is wrong, exit non-zero, nothing attached, nothing drawn.
printf '# comment\nnormal = default default\ncursor = red sparkly\n' >"$T/bad.theme"
"$PROFTOP" -p "$pid" --theme "$T/bad.theme" >"$T/out" 2>"$T/err" && fail "bad theme accepted"
[ "$(wc -l <"$T/err")" -eq 1 ] || fail "bad theme: not one line: $(cat "$T/err")"
grep -q "^$T/bad.theme:3: 'sparkly' is neither a colour nor an attribute" "$T/err" ||
	fail "bad theme message: $(cat "$T/err")"
[ ! -s "$T/out" ] || fail "bad theme: wrote to stdout"
printf 'cursor = red\nbogus = blue\n' >"$T/cfg/proftop/themes/broken.theme"
XDG_CONFIG_HOME="$T/cfg" "$PROFTOP" -p "$pid" --theme broken 2>"$T/err2" && fail "broken accepted"
grep -q "^$T/cfg/proftop/themes/broken.theme:2: unknown element 'bogus'" "$T/err2" ||
	fail "broken theme by name: $(cat "$T/err2")"
"$PROFTOP" -p "$pid" --theme nosuch 2>"$T/err3" && fail "unknown theme accepted"
grep -q "no theme 'nosuch'" "$T/err3" || fail "unknown theme: $(cat "$T/err3")"
# In a terminal too: the message is on the screen, no curses frame.
tui_start badtty 100 30 -- -p "$pid" --theme "$T/bad.theme"
wait_gone "$TUI_PID"
[ "$(pane_status badtty)" != 0 ] || fail "bad theme in a terminal: exit 0"
grep -q "bad.theme:3:" "$T/badtty.err" || fail "bad theme in a terminal: $(cat "$T/badtty.err")"
for s in dark light nocolor noenv named eight ascii; do tm send-keys -t $s q; done
for s in dark light nocolor noenv named eight ascii; do assert_exit $s 0; done
assert_untraced "$pid"
assert_progress "$pid"
