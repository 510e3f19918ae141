// ncursesw with wide-character support, plus `static inline` wrappers for the macros and C globals
// that Swift 6 cannot use directly.
#define NCURSES_WIDECHAR 1
#define _XOPEN_SOURCE_EXTENDED 1
#include <locale.h>
#include <ncursesw/curses.h>

static inline int ccurses_colors(void) { return COLORS; }
static inline int ccurses_color_pairs(void) { return COLOR_PAIRS; }
static inline int ccurses_lines(void) { return LINES; }
static inline int ccurses_cols(void) { return COLS; }
static inline WINDOW *ccurses_stdscr(void) { return stdscr; }
static inline int ccurses_key_resize(void) { return KEY_RESIZE; }
