/* soon: placeholders for views 3 (threads) and 4 (memory) until their issues land. */
#include "ui.h"

static void soon_draw(struct ui *ui, const char *what, const char *issue)
{
	int y = ui->body_y + ui->body_h / 3;
	ui_printf(ui, y, 2, ui->cols - 4, THEME_TITLE, "The %s view arrives with issue %s.", what,
		  issue);
	ui_text(ui, y + 2, 2, ui->cols - 4, THEME_DIM,
		"Press 1 for the top functions or 2 for the flame graph; ? for help.");
}

static void threads_draw(struct ui *ui, void *st)
{
	(void)st;
	soon_draw(ui, "threads", "9 (threads, waits and deadlocks)");
}

static void memory_draw(struct ui *ui, void *st)
{
	(void)st;
	soon_draw(ui, "memory", "10 (memory trends and snapshots)");
}

static const struct ui_keyhelp soon_help[] = { { NULL, NULL } };

const struct view_ops view_threads_soon = {
	.name = "threads",
	.help = soon_help,
	.draw = threads_draw,
};

const struct view_ops view_memory_soon = {
	.name = "memory",
	.help = soon_help,
	.draw = memory_draw,
};
