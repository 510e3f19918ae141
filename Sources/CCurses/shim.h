// ncursesw with wide-character support, plus `static inline` wrappers for the macros and C globals
// that Swift 6 cannot use directly.
#define NCURSES_WIDECHAR 1
#define _XOPEN_SOURCE_EXTENDED 1
#include <locale.h>
#include <ncursesw/curses.h>
#include <ncursesw/term.h>
#include <stdio.h>

static inline int ccurses_colors(void) { return COLORS; }
static inline int ccurses_color_pairs(void) { return COLOR_PAIRS; }
static inline int ccurses_lines(void) { return LINES; }
static inline int ccurses_cols(void) { return COLS; }
static inline WINDOW *ccurses_stdscr(void) { return stdscr; }
static inline int ccurses_key_resize(void) { return KEY_RESIZE; }

/// Opens curses on stdout/stdin for $TERM. Unlike initscr, returns NULL (instead of exiting the
/// process) when the terminal type is unknown.
static inline SCREEN *ccurses_newterm(void) { return newterm(NULL, stdout, stdin); }

/// Writes one cell without moving on to the next: `pair` may exceed 255 because it goes through
/// setcchar's `opts` pointer (the extended-pair convention), not the attribute bits.
static inline int ccurses_put_cell(WINDOW *window, int y, int x, wchar_t glyph, int bold, int reverse, int pair) {
    cchar_t cell;
    wchar_t text[2] = { glyph, L'\0' };
    attr_t attributes = A_NORMAL;
    if (bold) attributes |= A_BOLD;
    if (reverse) attributes |= A_REVERSE;
    if (setcchar(&cell, text, attributes, 0, &pair) == ERR) return ERR;
    return mvwadd_wchnstr(window, y, x, &cell, 1);
}

/// Whether the terminfo entry is a direct-colour one (the `RGB` extended capability).
static inline int ccurses_terminfo_is_direct(void) { return tigetflag("RGB") > 0; }

/// How many low colour numbers a direct-colour entry keeps for the ANSI palette (its `CO`
/// capability), 8 when the entry does not say.
static inline int ccurses_reserved_direct_colors(void) {
    int reserved = tigetnum("CO");
    return reserved > 0 ? reserved : 8;
}


