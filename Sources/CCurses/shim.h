// ncursesw with wide-character support, plus `static inline` wrappers for the macros and C globals
// that Swift 6 cannot use directly.
#define NCURSES_WIDECHAR 1
#define _XOPEN_SOURCE_EXTENDED 1
#include <locale.h>
#include <ncursesw/curses.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

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

// ---------------------------------------------------------------------------------------------
// Terminal restoration that works from a signal handler.
//
// Everything the handlers do is async-signal-safe: they read and write `volatile sig_atomic_t`
// fields, copy prepared bytes with write(2), reset the tty with tcsetattr(3) and leave with
// _exit(2) or raise(3). No curses function is ever called from a handler.
//
// The state lives in a function-local static. These functions are `static`, so every object
// file that calls them gets its own copy of that state: call them from ONE Swift file only
// (ConvScopeUI's CursesScreen.swift).

struct ccurses_restore_state {
    volatile sig_atomic_t terminal_active;
    volatile sig_atomic_t interrupt_count;
    volatile sig_atomic_t last_interrupt;
    struct termios saved_termios;
    char restore_bytes[512];
    size_t restore_length;
    struct sigaction previous_actions[NSIG];
    int atexit_registered;
};

static inline struct ccurses_restore_state *ccurses_state(void) {
    static struct ccurses_restore_state state;
    return &state;
}

static const int ccurses_interrupt_signals[] = { SIGINT, SIGTERM, SIGHUP };
static const int ccurses_crash_signals[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP };
#define CCURSES_COUNT(array) (sizeof (array) / sizeof (array)[0])

/// Leaves the alternate screen, shows the cursor and puts the tty back into the mode it was in
/// before curses started; does nothing when curses is not active. Async-signal-safe.
static inline void ccurses_restore_terminal_now(void) {
    struct ccurses_restore_state *state = ccurses_state();
    if (!state->terminal_active) return;
    state->terminal_active = 0;
    size_t written = 0;
    while (written < state->restore_length) {
        ssize_t count = write(STDOUT_FILENO, state->restore_bytes + written, state->restore_length - written);
        if (count <= 0) break;
        written += (size_t)count;
    }
    tcsetattr(STDIN_FILENO, TCSADRAIN, &state->saved_termios);
}

static inline void ccurses_append_capability(const char *name) {
    struct ccurses_restore_state *state = ccurses_state();
    const char *value = tigetstr(name);
    if (value == NULL || value == (char *)-1) return;
    size_t length = strlen(value);
    if (state->restore_length + length > sizeof state->restore_bytes) return;
    memcpy(state->restore_bytes + state->restore_length, value, length);
    state->restore_length += length;
}

/// Records what the emergency restore must undo. Call after curses started, on the UI thread.
static inline void ccurses_prepare_restore(void) {
    ccurses_state()->restore_length = 0;
    ccurses_append_capability("sgr0");   // plain attributes
    ccurses_append_capability("op");     // default colour pair
    ccurses_append_capability("cnorm");  // visible cursor
    ccurses_append_capability("rmkx");   // keypad back to normal mode
    ccurses_append_capability("rmcup");  // leave the alternate screen
    ccurses_state()->terminal_active = 1;
}

/// Marks curses as properly ended, so no handler touches the terminal any more.
static inline void ccurses_mark_inactive(void) { ccurses_state()->terminal_active = 0; }

/// First SIGINT/SIGTERM/SIGHUP: only counted, for the UI thread to see (the app shuts down
/// cleanly). Any further one: restore the terminal and exit at once with 128 + signal.
static void ccurses_on_interrupt(int signal_number) {
    struct ccurses_restore_state *state = ccurses_state();
    state->last_interrupt = signal_number;
    state->interrupt_count += 1;
    if (state->interrupt_count >= 2) {
        ccurses_restore_terminal_now();
        _exit(128 + signal_number);
    }
}

/// A crash: restore the terminal, then let the previous handler (or the default action) report it.
static void ccurses_on_crash(int signal_number) {
    ccurses_restore_terminal_now();
    sigaction(signal_number, &ccurses_state()->previous_actions[signal_number], NULL);
    raise(signal_number);
}

static void ccurses_restore_at_exit(void) { ccurses_restore_terminal_now(); }

/// Saves the tty mode and installs the handlers (before curses starts, so ncurses keeps its own
/// hands off SIGINT and SIGTERM). Returns 0 on success.
static inline int ccurses_install_signal_handlers(void) {
    struct ccurses_restore_state *state = ccurses_state();
    if (tcgetattr(STDIN_FILENO, &state->saved_termios) != 0) return -1;
    state->interrupt_count = 0;
    state->last_interrupt = 0;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    sigemptyset(&action.sa_mask);
    for (size_t i = 0; i < CCURSES_COUNT(ccurses_interrupt_signals); i++) {
        sigaddset(&action.sa_mask, ccurses_interrupt_signals[i]);
    }
    action.sa_handler = ccurses_on_interrupt;
    for (size_t i = 0; i < CCURSES_COUNT(ccurses_interrupt_signals); i++) {
        int number = ccurses_interrupt_signals[i];
        sigaction(number, &action, &state->previous_actions[number]);
    }
    action.sa_handler = ccurses_on_crash;
    for (size_t i = 0; i < CCURSES_COUNT(ccurses_crash_signals); i++) {
        int number = ccurses_crash_signals[i];
        sigaction(number, &action, &state->previous_actions[number]);
    }
    if (!state->atexit_registered) {
        state->atexit_registered = 1;
        atexit(ccurses_restore_at_exit);
    }
    return 0;
}

/// Puts back the handlers that were in place before `ccurses_install_signal_handlers`.
static inline void ccurses_remove_signal_handlers(void) {
    struct ccurses_restore_state *state = ccurses_state();
    for (size_t i = 0; i < CCURSES_COUNT(ccurses_interrupt_signals); i++) {
        int number = ccurses_interrupt_signals[i];
        sigaction(number, &state->previous_actions[number], NULL);
    }
    for (size_t i = 0; i < CCURSES_COUNT(ccurses_crash_signals); i++) {
        int number = ccurses_crash_signals[i];
        sigaction(number, &state->previous_actions[number], NULL);
    }
}

/// How many SIGINT/SIGTERM/SIGHUP arrived since the handlers were installed, and the last one.
static inline int ccurses_interrupts_received(void) { return ccurses_state()->interrupt_count; }
static inline int ccurses_last_interrupt_signal(void) { return ccurses_state()->last_interrupt; }

/// Blocks (or unblocks) the interrupt signals for the calling thread, so that shutting curses down
/// and removing the handlers cannot be cut in half by a signal.
static inline void ccurses_block_interrupts(int block) {
    sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; i < CCURSES_COUNT(ccurses_interrupt_signals); i++) {
        sigaddset(&set, ccurses_interrupt_signals[i]);
    }
    pthread_sigmask(block ? SIG_BLOCK : SIG_UNBLOCK, &set, NULL);
}
