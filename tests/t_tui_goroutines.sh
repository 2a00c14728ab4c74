# Goroutines in the TUI (issue 11: "Where it shows", acceptance 1, 2 and 5), at 100x30:
#   go-abba with --stuck-after 2: the Go DEADLOCK banner naming main.ledger and main.accounts
#   shows in every view; g in view 3 lists the goroutine groups, the two deadlocked ones first
#   with their mutex by symbol, locked, and the frame where each waits; Enter shows a group's
#   ids and stack with file:line; g again returns to the threads.
#   go-goroutines: g shows the group of 1000 goroutines in chan receive, the 10 sleeping and
#   the busy one in main.busyLoop; Enter lists the 1000 ids.
#   go-nodwarf: the view says in one line why goroutines cannot be read, shows the threads.
# Every run leaves the target untraced and running.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tui.sh"

# in_view SESSION N MARK: show view N, wait for MARK (a regex only that view shows).
in_view() {
	tm send-keys -t "$1" "$2"
	wait_for "screen '$1' | grep -qE -- '$3'" 5 || fail "view $2 not shown: $(screen "$1")"
}

# ---- AB-BA over two package-level sync.Mutex ----
start_fixture go-abba
tui_start ga 100 30 -- -p "$FIX_PID" --stuck-after 2
wait_screen ga "pid $FIX_PID"
t0=$(date +%s%N)
wait_screen ga "DEADLOCK (Go): goroutine" 15
note "Go deadlock banner $(( ($(date +%s%N) - t0) / 1000000 )) ms after the first frame (--stuck-after 2)"
b=$(row ga 2)
echo "$b" | grep -qE "^ DEADLOCK \(Go\): goroutine [0-9]+ holds main\.(ledger|accounts), waits main\.(accounts|ledger) at main\." ||
	fail "banner: $b"
echo "$b" | grep -q "main.ledger" && echo "$b" | grep -q "main.accounts" || fail "banner: $b"
screen ga -e | sed -n 3p | grep -q '48;5;160' || fail "the banner is not red"
for v in "1 SELF%" "2 ^all" "3 WAITS ON" "4 ^ *rss " "1 SELF%"; do
	in_view ga "${v%% *}" "${v#* }"
	row ga 2 | grep -qF "$b" || fail "no banner in view ${v%% *}: $(screen ga)"
done

in_view ga 3 "WAITS ON"
tm send-keys -t ga g
wait_screen ga "COUNT"
s=$(screen ga)
echo "$s" | grep -q "^Go go1\.[0-9.]*: [0-9]* goroutines" || fail "no goroutine summary: $s"
# The two deadlocked groups come first: one goroutine each, on the other's mutex.
g1=$(row ga 5) g2=$(row ga 6)
printf '%s\n%s\n' "$g1" "$g2" |
	grep -qE "^ +1 waiting: semacquire .* main\.accounts \(locked\) +main\.ledgerThenAccounts main\.go:[0-9]+" ||
	fail "no ledgerThenAccounts group waiting on main.accounts first: $s"
printf '%s\n%s\n' "$g1" "$g2" |
	grep -qE "^ +1 waiting: semacquire .* main\.ledger \(locked\) +main\.accountsThenLedger main\.go:[0-9]+" ||
	fail "no accountsThenLedger group waiting on main.ledger first: $s"
screen ga -e | sed -n 7p | grep -q '38;5;203' || fail "deadlocked group not highlighted: $(screen ga -e | sed -n 7p)"
# The 4 workers sleep 10 ms after each 1 ms of work: one may be running at the scan.
echo "$s" | grep -qE "^ +[1-4] waiting: sleep .*main\.worker main\.go:[0-9]+" || fail "no sleeping workers: $s"
tm send-keys -t ga Enter
wait_screen ga "Goroutine ids (1)"
s=$(screen ga)
echo "$s" | grep -qE "^1 goroutine \[waiting: semacquire\]" || fail "group page title: $s"
echo "$s" | grep -qE "on sync.Mutex main\.(accounts|ledger) \(locked\)" || fail "no mutex on the page: $s"
echo "$s" | grep -qE "#[0-9]+ +sync\.\(\*Mutex\)\.Lock" || fail "no sync.(*Mutex).Lock frame: $s"
echo "$s" | grep -qE "#[0-9]+ +main\.(ledgerThenAccounts|accountsThenLedger) +main\.go:[0-9]+" ||
	fail "no main frame with file:line: $s"
tm send-keys -t ga Escape
wait_screen ga "COUNT"
tm send-keys -t ga g
wait_screen ga "WAITS ON"
tm send-keys -t ga q
wait_gone "$TUI_PID"
assert_exit ga 0
assert_untraced "$FIX_PID"
assert_progress "$FIX_PID"
kill "$FIX_PID"

# ---- 1000 goroutines in chan receive, 10 sleeping, one busy ----
start_fixture go-goroutines
tui_start gg 100 30 -- -p "$FIX_PID"
wait_screen gg "pid $FIX_PID"
in_view gg 3 "WAITS ON"
tm send-keys -t gg g
wait_screen gg "COUNT"
wait_for "screen gg | grep -qE '^ +1000 waiting: chan receive .*main\.receiver main\.go:[0-9]+'" 10 ||
	fail "no group of 1000 in chan receive: $(screen gg)"
s=$(screen gg)
echo "$s" | grep -qE "^ +10 waiting: sleep .*main\.sleeper main\.go:[0-9]+" || fail "no group of 10 sleeping: $s"
echo "$s" | grep -qE "^ +1 (running|runnable) .*main\.busyLoop main\.go:[0-9]+" || fail "no busy goroutine: $s"
row gg 4 | grep -q "^ *1000 waiting: chan receive" || fail "the 1000 are not the first row: $s"
tm send-keys -t gg Enter
wait_screen gg "Goroutine ids (1000)"
tm send-keys -t gg End
wait_screen gg "main.receiver"
tm send-keys -t gg Escape
wait_screen gg "COUNT"
tm send-keys -t gg q
wait_gone "$TUI_PID"
assert_exit gg 0
assert_untraced "$FIX_PID"
assert_progress "$FIX_PID"
kill "$FIX_PID"

# ---- no DWARF ----
start_fixture go-nodwarf
tui_start gn 100 30 -- -p "$FIX_PID"
wait_screen gn "pid $FIX_PID"
in_view gn 3 "WAITS ON"
wait_screen gn "no DWARF (built with -ldflags=-w): goroutines cannot be read"
screen gn | grep -qE "^ +$FIX_PID go-nodwa" || fail "the OS threads are not shown: $(screen gn)"
tm send-keys -t gn g
wait_for "row gn 28 | grep -q 'no DWARF'" 5 || fail "g: no reason on the status line: $(screen gn)"
screen gn | grep -q "WAITS ON" || fail "g left the threads: $(screen gn)"
tm send-keys -t gn q
wait_gone "$TUI_PID"
assert_exit gn 0
assert_untraced "$FIX_PID"
assert_progress "$FIX_PID"
