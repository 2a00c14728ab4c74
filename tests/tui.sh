# Helpers of the TUI screen tests (sourced after lib.sh; not a test itself): one private tmux
# server per test, sessions of a fixed size running the real proftop, and waits on what the
# screen shows.  lib.sh's cleanup kills the server (TMUX_SOCK).
TMUX_SOCK="$T/tmux.sock"
printf 'set -g default-terminal tmux-256color\nset -g remain-on-exit on\nset -g status off\n' \
	>"$T/tmux.conf"

tm() { tmux -S "$TMUX_SOCK" "$@"; }

# tui_start SESSION W H [ENV=VALUE...] -- PROFTOP_ARGS...: run proftop in a new W x H session
# (UTF-8 locale, 256 colours unless ENV says otherwise); its stderr goes to $T/SESSION.err and
# its exit status to $T/SESSION.rc (written by the pane's shell: tmux itself may be slow to
# reap a pane's process).  Sets TUI_PID to proftop's pid (empty if it ended at once).
tui_start() {
	local s="$1" w="$2" h="$3"; shift 3
	local envs=()
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do envs+=("$1"); shift; done
	shift
	local cmd
	cmd="env LANG=C.UTF-8 ${envs[*]} $(printf '%q ' "$PROFTOP" "$@") 2>$T/$s.err; echo \$? >$T/$s.rc"
	rm -f "$T/$s.rc"
	if [ ! -S "$TMUX_SOCK" ]; then
		tm -f "$T/tmux.conf" new-session -d -x "$w" -y "$h" -s "$s" "$cmd" ||
			fail "tmux new-session failed"
	else
		tm new-session -d -x "$w" -y "$h" -s "$s" "$cmd" || fail "tmux new-session failed"
	fi
	local sh_pid
	sh_pid=$(tm display-message -p -t "$s" '#{pane_pid}')
	[ -n "$sh_pid" ] || fail "no pane pid for $s"
	TUI_PID=""
	wait_for "TUI_PID=\$(pgrep -P $sh_pid | head -1); [ -n \"\$TUI_PID\" ] || [ -e '$T/$s.rc' ]" 10 ||
		fail "proftop did not start in $s"
}

# screen SESSION [-e]: the visible text of the session (with -e, colour escapes too).
screen() { tm capture-pane -p ${2:+-e} -t "$1"; }

# wait_screen SESSION TEXT [TIMEOUT]: until the screen shows TEXT (a fixed string).
wait_screen() {
	wait_for "screen '$1' | grep -qF -- '$2'" "${3:-10}" ||
		fail "screen of $1 never showed '$2' within ${3:-10} s; it shows:
$(screen "$1")
stderr: $(cat "$T/$1.err" 2>/dev/null)"
}

# wait_gone PID [TIMEOUT]: until the process has exited (or never started: PID empty).
gone() { [ -z "$1" ] || ! kill -0 "$1" 2>/dev/null || [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ]; }
wait_gone() {
	wait_for "gone '${1:-}'" "${2:-10}" || fail "process $1 did not exit"
}

# pane_status SESSION: exit status of proftop in SESSION (128 + N after signal N).
pane_status() {
	wait_for "[ -s '$T/$1.rc' ]" 10 || { echo "(no exit status for $1)"; return; }
	cat "$T/$1.rc"
}

# row SESSION N: screen line N (0-based).
row() { screen "$1" | sed -n "$(($2 + 1))p"; }

# header_samples SESSION: the "samples N" count of the header.
header_samples() { row "$1" 0 | sed -n 's/.*samples \([0-9.]*[MG]\{0,1\}\).*/\1/p'; }

# click SESSION X Y [BUTTON]: a mouse press and release at column X, row Y (0-based), as the
# terminal reports it (X10 encoding, which tmux-256color's kmous names); BUTTON 64/65 is the
# wheel up/down (no release).
click() {
	local b="${4:-0}"
	local seq
	seq=$(printf '\033[M%b%b%b' "\\$(printf %o $((32 + b)))" "\\$(printf %o $((33 + $2)))" \
		"\\$(printf %o $((33 + $3)))")
	[ "$b" -lt 64 ] && seq="$seq$(printf '\033[M#%b%b' "\\$(printf %o $((33 + $2)))" \
		"\\$(printf %o $((33 + $3)))")"
	tm send-keys -t "$1" -l "$seq"
}

# assert_exit SESSION CODE: proftop in SESSION ended with exit status CODE and wrote nothing to
# stderr (CODE 0) — on failure, show what the pane and stderr had.
assert_exit() {
	local st
	st=$(pane_status "$1")
	[ "$st" = "$2" ] || fail "$1: exit status '$st', wanted $2; stderr: $(cat "$T/$1.err")
$(screen "$1")"
	[ "$2" != 0 ] || [ ! -s "$T/$1.err" ] || fail "$1: wrote to stderr: $(cat "$T/$1.err")"
}

# The memory view (4).  metric_row SESSION NAME: the row of metric NAME; points_of TEXT: how many
# points the window holds ("35/60 points") in a screen's text.
metric_row() { screen "$1" | grep -E "^ $2 " | head -1; }
points_of() { echo "$1" | sed -n 's/.*: \([0-9]*\)\/60 points.*/\1/p' | head -1; }
