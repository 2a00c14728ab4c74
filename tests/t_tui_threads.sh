# The threads view and the deadlock banner (acceptance 1 and 6 of issue 9), at 100x30:
#   abba: the red DEADLOCK banner naming both tids shows within 2 s of proftop's start (the
#   fixture is already deadlocked when its line prints) in view 1, and stays in views 2 and 3;
#   in view 3 the rows of t1 and t2 say which mutex (the fixture's addresses) each waits on and
#   who holds it, in the deadlock colour; Enter on t1 shows its stack with the fixture's
#   functions and file:line; the cursor keeps its thread across a re-sort; g on a non-Go target
#   says so.
#   manythreads --threads 1000: view 3 counts and lists them all (End reaches the last tid),
#   keys answer within 2 s each, proftop's own CPU stays modest, no deadlock is reported.
# Every run leaves the target untraced and running.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui.sh"

# ms_since T0: milliseconds since T0 (date +%s%N).
ms_since() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

# key_answers SESSION KEY REGEX: send KEY, wait (2 s at most) until the screen shows a line
# matching REGEX (extended); prints how long it took.
key_answers() {
	local t0
	t0=$(date +%s%N)
	tm send-keys -t "$1" "$2"
	wait_for "screen '$1' | grep -qE -- '$3'" 2 ||
		fail "key $2: '$3' not on the screen within 2 s: $(screen "$1")"
	ms_since "$t0"
}

# ---- AB-BA ----
start_fixture abba
A=$(fact A) B=$(fact B) T1=$(fact t1) T2=$(fact t2)
banner="DEADLOCK: $T1 holds lock_a waits lock_b; $T2 holds lock_b waits lock_a"
t0=$(date +%s%N)
tui_start ab 100 30 -- -p "$FIX_PID"
wait_screen ab "$banner" 10
ms=$(ms_since "$t0")
note "deadlock banner $ms ms after proftop started"
[ "$ms" -le 2000 ] || fail "the banner took $ms ms (more than 2 s)"
row ab 2 | grep -qF "$banner" || fail "the banner is not on line 3: $(screen ab)"
screen ab | grep -q "SELF%" || fail "not in view 1 with the banner: $(screen ab)"
# Red: the dark theme's banner element (white on 160).
screen ab -e | sed -n 3p | grep -q '48;5;160' || fail "the banner is not red: $(screen ab -e | sed -n 3p)"

tm send-keys -t ab 2
wait_for "row ab 1 | grep -q '2 flame' && row ab 3 | grep -q '^all'" 5 ||
	fail "no flame view: $(screen ab)"
row ab 2 | grep -qF "$banner" || fail "no banner in view 2: $(screen ab)"

tm send-keys -t ab 3
wait_screen ab "WAITS ON"
row ab 2 | grep -qF "$banner" || fail "no banner in view 3: $(screen ab)"
wait_screen ab "2 deadlocked"
s=$(screen ab)
echo "$s" | grep -qE "^ *$T1 +t1 +sleeping .* futex +mutex $B \(lock_b\) held by $T2 \(t2\)" ||
	fail "t1's row does not name lock_b ($B) held by $T2: $s"
echo "$s" | grep -qE "^ *$T2 +t2 +sleeping .* futex +mutex $A \(lock_a\) held by $T1 \(t1\)" ||
	fail "t2's row does not name lock_a ($A) held by $T1: $s"
# Deadlocked first (the default sort), both rows in the deadlock colour (203) but the one under
# the cursor (81).
y1=$(echo "$s" | grep -nE "^ *$T1 +t1 " | cut -d: -f1)
y2=$(echo "$s" | grep -nE "^ *$T2 +t2 " | cut -d: -f1)
[ "$y1" -le 7 ] && [ "$y2" -le 7 ] || fail "deadlocked threads are not the first rows: $s"
e=$(screen ab -e)
for y in $y1 $y2; do
	echo "$e" | sed -n "${y}p" | grep -qE '38;5;203|48;5;81' ||
		fail "row $y is not highlighted: $(echo "$e" | sed -n "${y}p")"
done
echo "$e" | sed -n "${y1}p;${y2}p" | grep -q '38;5;203' || fail "no row in the deadlock colour"

# Enter on t1: its whole stack, symbolized, with file:line, taken without stopping anything.
for _ in $(seq $((y1 - 6))); do tm send-keys -t ab Down; done
tm send-keys -t ab Enter
wait_screen ab "Thread $T1 (t1)"
s=$(screen ab)
echo "$s" | grep -qE "#[0-9]+ +take_a_then_b +abba\.c:[0-9]+" || fail "no take_a_then_b at abba.c:N: $s"
echo "$s" | grep -qE "#[0-9]+ +t1_main +abba\.c:[0-9]+" || fail "no t1_main at abba.c:N: $s"
echo "$s" | grep -q "pthread_mutex_lock" || fail "no pthread_mutex_lock frame: $s"
echo "$s" | grep -qF "waits: mutex $B (lock_b) held by $T2 (t2)" || fail "no wait on the page: $s"
echo "$s" | grep -q "nothing was stopped" || fail "the page does not say how the stack was taken: $s"
tm send-keys -t ab Escape
wait_screen ab "WAITS ON"

# The cursor stays on t1 across a re-sort and refreshes.
tm send-keys -t ab '>'
wait_screen ab "threads sorted by tid"
n0=$(screen ab | grep -E "^ *$T1 " | awk '{print $5}')
wait_for "[ \"\$(screen ab | grep -E '^ *$T1 ' | awk '{print \$5}')\" != '$n0' ]" 10 ||
	fail "no refresh of the time in state"
tm send-keys -t ab Enter
wait_screen ab "Thread $T1 (t1)"
tm send-keys -t ab Escape
wait_screen ab "WAITS ON"
note "cursor stayed on $T1 across a re-sort and a refresh"

tm send-keys -t ab g
wait_screen ab "not a Go program"
tm send-keys -t ab q
wait_gone "$TUI_PID"
assert_exit ab 0
assert_untraced "$FIX_PID"
assert_progress "$FIX_PID"
kill "$FIX_PID"

# ---- 1000 threads ----
start_fixture manythreads --threads 1000
N=$(fact threads)
last=$(ls /proc/"$FIX_PID"/task | sort -n | tail -1)
tui_start mt 100 30 -- -p "$FIX_PID"
wait_screen mt "pid $FIX_PID"
tm send-keys -t mt 3
wait_screen mt "$((N + 1)) threads:" 20
# Settled: the mutex waiters behind the holder have become long waits (over 5 s).
wait_screen mt "long waits" 30
c0=$(cpu_ticks "$TUI_PID")
w0=$(date +%s%N)
ms1=$(key_answers mt '>' "threads sorted by tid")
ms2=$(key_answers mt End "^ +$last ")
ms3=$(key_answers mt Home "^ +$FIX_PID manythre")
ms4=$(key_answers mt F6 "Sort threads by")
tm send-keys -t mt Escape
ms5=$(key_answers mt '<' "threads sorted by wait")
tm send-keys -t mt End
ms6=$(key_answers mt Enter "^Thread [0-9]+ [(]")
tm send-keys -t mt Escape
wait_screen mt "WAITS ON"
note "1000 threads: keys answered in $ms1 $ms2 $ms3 $ms4 $ms5 $ms6 ms"
screen mt | grep -q DEADLOCK && fail "a deadlock reported among 1000 threads: $(screen mt)"
# proftop's own CPU over a few more refreshes.
wait_for "[ \$(( (\$(date +%s%N) - $w0) / 1000000 )) -ge 6000 ]" 10
c1=$(cpu_ticks "$TUI_PID")
pct=$(( (c1 - c0) * 100 * 1000 / $(getconf CLK_TCK) / $(ms_since "$w0") ))
note "proftop used $pct% of a core meanwhile (1000 threads, view 3 shown)"
[ "$pct" -le 30 ] || fail "proftop used $pct% of a core watching 1000 threads"
screen mt | grep -q DEADLOCK && fail "a deadlock reported among 1000 threads: $(screen mt)"
tm send-keys -t mt q
wait_gone "$TUI_PID"
assert_exit mt 0
assert_untraced "$FIX_PID"
assert_progress "$FIX_PID"
