// Terminal restoration for ConvScope's TUI, written in C because it runs inside signal handlers.
#define NCURSES_WIDECHAR 1
#define _XOPEN_SOURCE_EXTENDED 1
#include "cterminal.h"
#include "ccleanup.h"
#include <ncursesw/curses.h>
#include <ncursesw/term.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

// ---------------------------------------------------------------------------------------------
// Terminal restoration that works from a signal handler.
//
// Everything the handlers do is async-signal-safe: they read and write `volatile sig_atomic_t`
// fields, copy prepared bytes with write(2), reset the tty with tcsetattr(3) and leave with
// _exit(2) or raise(3). No curses function is ever called from a handler.
//
// This file is compiled once, so the state below has exactly one definition in the program.

struct cterminal_restore_state {
    volatile sig_atomic_t terminal_active;
    volatile sig_atomic_t interrupt_count;
    volatile sig_atomic_t last_interrupt;
    struct termios saved_termios;
    char restore_bytes[512];
    size_t restore_length;
    struct sigaction previous_actions[NSIG];
    int atexit_registered;
};

static struct cterminal_restore_state state_storage;
static inline struct cterminal_restore_state *cterminal_state(void) { return &state_storage; }

static const int cterminal_interrupt_signals[] = { SIGINT, SIGTERM, SIGHUP };
static const int cterminal_crash_signals[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP };
#define CTERMINAL_COUNT(array) (sizeof (array) / sizeof (array)[0])

/// Leaves the alternate screen, shows the cursor and puts the tty back into the mode it was in
/// before curses started; does nothing when curses is not active. Async-signal-safe.
void cterminal_restore_terminal_now(void) {
    struct cterminal_restore_state *state = cterminal_state();
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

static void cterminal_append_capability(const char *name) {
    struct cterminal_restore_state *state = cterminal_state();
    const char *value = tigetstr(name);
    if (value == NULL || value == (char *)-1) return;
    size_t length = strlen(value);
    if (state->restore_length + length > sizeof state->restore_bytes) return;
    memcpy(state->restore_bytes + state->restore_length, value, length);
    state->restore_length += length;
}

/// Records what the emergency restore must undo. Call after curses started, on the UI thread.
void cterminal_prepare_restore(void) {
    cterminal_state()->restore_length = 0;
    cterminal_append_capability("sgr0");   // plain attributes
    cterminal_append_capability("op");     // default colour pair
    cterminal_append_capability("cnorm");  // visible cursor
    cterminal_append_capability("rmkx");   // keypad back to normal mode
    cterminal_append_capability("rmcup");  // leave the alternate screen
    cterminal_state()->terminal_active = 1;
}

/// Marks curses as properly ended, so no handler touches the terminal any more.
void cterminal_mark_inactive(void) { cterminal_state()->terminal_active = 0; }

/// First SIGINT/SIGTERM/SIGHUP: only counted, for the UI thread to see (the app shuts down
/// cleanly). Any further one: restore the terminal, delete the temporaries of writes in progress and
/// exit at once with 128 + signal.
static void cterminal_on_interrupt(int signal_number) {
    struct cterminal_restore_state *state = cterminal_state();
    state->last_interrupt = signal_number;
    state->interrupt_count += 1;
    if (state->interrupt_count >= 2) {
        cterminal_restore_terminal_now();
        ccleanup_remove_temporaries();  // a save or export cut short leaves no temporary behind
        _exit(128 + signal_number);
    }
}

/// A crash: restore the terminal, then let the previous handler (or the default action) report it.
static void cterminal_on_crash(int signal_number) {
    cterminal_restore_terminal_now();
    ccleanup_remove_temporaries();
    sigaction(signal_number, &cterminal_state()->previous_actions[signal_number], NULL);
    raise(signal_number);
}

static void cterminal_restore_at_exit(void) { cterminal_restore_terminal_now(); }

/// Saves the tty mode and installs the handlers (before curses starts, so ncurses keeps its own
/// hands off SIGINT and SIGTERM). Returns 0 on success.
int cterminal_install_signal_handlers(void) {
    struct cterminal_restore_state *state = cterminal_state();
    if (tcgetattr(STDIN_FILENO, &state->saved_termios) != 0) return -1;
    state->interrupt_count = 0;
    state->last_interrupt = 0;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    sigemptyset(&action.sa_mask);
    for (size_t i = 0; i < CTERMINAL_COUNT(cterminal_interrupt_signals); i++) {
        sigaddset(&action.sa_mask, cterminal_interrupt_signals[i]);
    }
    action.sa_handler = cterminal_on_interrupt;
    for (size_t i = 0; i < CTERMINAL_COUNT(cterminal_interrupt_signals); i++) {
        int number = cterminal_interrupt_signals[i];
        sigaction(number, NULL, &state->previous_actions[number]);
        // A signal ignored when the app started stays ignored, as in the command line's handlers (CCleanup):
        // `nohup` asks for that with SIGHUP. The app still ends when its terminal hangs up:
        // `cterminal_note_hangup_if_gone` sees the dead terminal on the next key read.
        if (state->previous_actions[number].sa_handler == SIG_IGN) continue;
        sigaction(number, &action, NULL);
    }
    action.sa_handler = cterminal_on_crash;
    for (size_t i = 0; i < CTERMINAL_COUNT(cterminal_crash_signals); i++) {
        int number = cterminal_crash_signals[i];
        sigaction(number, &action, &state->previous_actions[number]);
    }
    if (!state->atexit_registered) {
        state->atexit_registered = 1;
        atexit(cterminal_restore_at_exit);
    }
    return 0;
}

/// Puts back the handlers that were in place before `cterminal_install_signal_handlers`.
void cterminal_remove_signal_handlers(void) {
    struct cterminal_restore_state *state = cterminal_state();
    for (size_t i = 0; i < CTERMINAL_COUNT(cterminal_interrupt_signals); i++) {
        int number = cterminal_interrupt_signals[i];
        sigaction(number, &state->previous_actions[number], NULL);
    }
    for (size_t i = 0; i < CTERMINAL_COUNT(cterminal_crash_signals); i++) {
        int number = cterminal_crash_signals[i];
        sigaction(number, &state->previous_actions[number], NULL);
    }
}

/// A terminal that hung up (its SSH session or tmux server gone) fails every terminal request with EIO, so
/// a key read returns at once instead of after its timeout: without this check an app whose SIGHUP is ignored
/// would spin on the dead terminal for ever. Counts the hang-up as a SIGHUP (once), so the app ends as if the
/// signal had arrived. Returns 1 when the terminal is gone. Call from the UI thread after a failed key read.
int cterminal_note_hangup_if_gone(void) {
    struct termios current;
    if (tcgetattr(STDIN_FILENO, &current) == 0 || errno != EIO) return 0;
    struct cterminal_restore_state *state = cterminal_state();
    if (state->last_interrupt != SIGHUP || state->interrupt_count == 0) {
        state->last_interrupt = SIGHUP;
        state->interrupt_count += 1;
    }
    return 1;
}

/// How many SIGINT/SIGTERM/SIGHUP arrived since the handlers were installed, and the last one.
int cterminal_interrupts_received(void) { return cterminal_state()->interrupt_count; }
int cterminal_last_interrupt_signal(void) { return cterminal_state()->last_interrupt; }

/// Blocks (or unblocks) the interrupt signals for the calling thread, so that shutting curses down
/// and removing the handlers cannot be cut in half by a signal.
void cterminal_block_interrupts(int block) {
    sigset_t set;
    sigemptyset(&set);
    for (size_t i = 0; i < CTERMINAL_COUNT(cterminal_interrupt_signals); i++) {
        sigaddset(&set, cterminal_interrupt_signals[i]);
    }
    pthread_sigmask(block ? SIG_BLOCK : SIG_UNBLOCK, &set, NULL);
}
