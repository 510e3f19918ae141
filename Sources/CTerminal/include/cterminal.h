// Async-signal-safe terminal restoration for the TUI: signal handlers that put the terminal back
// even on Ctrl-C, SIGTERM or a crash. Call these from the UI thread only (handlers run anywhere).
#ifndef CTERMINAL_H
#define CTERMINAL_H

/// Leaves the alternate screen, shows the cursor and puts the tty back into the mode it was in
/// before curses started; does nothing when curses is not active. Async-signal-safe.
void cterminal_restore_terminal_now(void);

/// Records what the emergency restore must undo. Call after curses started, on the UI thread.
void cterminal_prepare_restore(void);

/// Marks curses as properly ended, so no handler touches the terminal any more.
void cterminal_mark_inactive(void);

/// Saves the tty mode and installs the handlers (before curses starts, so ncurses keeps its own
/// hands off SIGINT and SIGTERM). Returns 0 on success.
int cterminal_install_signal_handlers(void);

/// Puts back the handlers that were in place before `cterminal_install_signal_handlers`.
void cterminal_remove_signal_handlers(void);

/// After a failed key read: 1 when the terminal hung up (every request fails with EIO), which then counts as
/// a SIGHUP for `cterminal_interrupts_received` (once), so an app whose SIGHUP is ignored still ends.
int cterminal_note_hangup_if_gone(void);

/// How many SIGINT/SIGTERM/SIGHUP arrived since the handlers were installed, and the last one.
int cterminal_interrupts_received(void);
int cterminal_last_interrupt_signal(void);

/// Blocks (or unblocks) the interrupt signals for the calling thread, so that shutting curses down
/// and removing the handlers cannot be cut in half by a signal.
void cterminal_block_interrupts(int block);

#endif
