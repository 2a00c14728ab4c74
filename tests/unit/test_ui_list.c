/* The list keys every view shares (ui_list_key) and the scroll that keeps the cursor shown
 * (ui_scroll_fit): bounds, pages, Home/End, empty lists, keys that are not list keys. */
#include "ui.h"

#include <curses.h>
#include <stdint.h>

#include "check.h"

int main(void)
{
	size_t pos = 5;
	check(ui_list_key(KEY_DOWN, 10, 20, &pos) && pos == 6, "Down: 5 -> 6 (%zu)", pos);
	check(ui_list_key('k', 10, 20, &pos) && pos == 5, "k: 6 -> 5 (%zu)", pos);
	check(ui_list_key(UI_KEY_WHEEL_DOWN, 10, 20, &pos) && pos == 8, "wheel down: 5 -> 8 (%zu)", pos);
	check(ui_list_key(KEY_NPAGE, 10, 20, &pos) && pos == 18, "PgDn: 8 -> 18 (%zu)", pos);
	check(ui_list_key(KEY_NPAGE, 10, 20, &pos) && pos == 19, "PgDn stops at the last row (%zu)", pos);
	check(ui_list_key('j', 10, 20, &pos) && pos == 19, "j at the last row stays (%zu)", pos);
	check(ui_list_key(KEY_PPAGE, 30, 20, &pos) && pos == 0, "PgUp past the top: 0 (%zu)", pos);
	check(ui_list_key(KEY_UP, 10, 20, &pos) && pos == 0, "Up at the top stays (%zu)", pos);
	check(ui_list_key(KEY_END, 10, 20, &pos) && pos == 19, "End: the last row (%zu)", pos);
	check(ui_list_key(KEY_HOME, 10, 20, &pos) && pos == 0, "Home: the first row (%zu)", pos);
	pos = 50;
	check(ui_list_key(KEY_UP, 10, 20, &pos) && pos == 19, "Up from beyond a shrunk list: the last row (%zu)", pos);
	pos = 50;
	check(ui_list_key(KEY_DOWN, 10, 20, &pos) && pos == 19, "Down from beyond: the last row (%zu)", pos);
	pos = 3;
	check(ui_list_key(KEY_DOWN, 10, 0, &pos) && pos == 0, "empty list: 0 (%zu)", pos);
	pos = 4;
	check(!ui_list_key('x', 10, 20, &pos) && pos == 4, "x is not a list key, pos kept");
	check(!ui_list_key('\n', 10, 20, &pos) && pos == 4, "Enter is not a list key");

	size_t scroll = 0;
	ui_scroll_fit(15, 100, 10, &scroll);
	check(scroll == 6, "cursor 15 below 10 shown rows: scroll 6 (%zu)", scroll);
	ui_scroll_fit(3, 100, 10, &scroll);
	check(scroll == 3, "cursor 3 above: scroll 3 (%zu)", scroll);
	scroll = 95;
	ui_scroll_fit(97, 100, 10, &scroll);
	check(scroll == 90, "no blank rows past the end: scroll 90 (%zu)", scroll);
	scroll = 7;
	ui_scroll_fit(2, 5, 10, &scroll);
	check(scroll == 0, "short list: scroll 0 (%zu)", scroll);
	return failures != 0;
}
