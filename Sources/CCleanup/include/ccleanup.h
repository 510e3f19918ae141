// Async-signal-safe cleanup for ConvScope: a registry of the temporary files being written, which
// signal handlers delete before the process dies, and the command line's interrupt handlers.
#ifndef CCLEANUP_H
#define CCLEANUP_H

#include <stddef.h>

/// Creates the file `<prefix><pid>-<n>` (the first free n) exclusively with mode 0600 and registers it,
/// so that `ccleanup_remove_temporaries` deletes it if a signal ends the process before the file is
/// renamed or removed. Writes its path into `path` (`capacity` bytes) and its registry slot into `*slot`
/// (-1 when all slots are taken: the file is then created but not registered). Returns the open
/// descriptor, or -1 with errno set.
int ccleanup_create_temporary(const char *prefix, char *path, size_t capacity, int *slot);

/// Forgets the temporary in `slot` (after it was renamed into place or unlinked); ignores -1.
void ccleanup_forget_temporary(int slot);

/// Unlinks every registered temporary. Async-signal-safe; any thread.
void ccleanup_remove_temporaries(void);

/// Installs the command line's handlers: SIGINT, SIGTERM and SIGHUP remove the registered temporaries and
/// end the process by the same signal, unless graceful stopping is on (`ccleanup_set_graceful`), when the
/// first one is only counted (and the notice written to standard error) for the program to stop at a
/// good moment; crash signals remove the temporaries and go on to the handler that was there before.
/// Interrupt signals ignored when the program started (`nohup`) stay ignored. Returns 0 on success.
int ccleanup_install_handlers(void);

/// Turns graceful stopping on (with the notice the first interrupt writes, copied) or off (`notice` NULL).
void ccleanup_set_graceful(const char *notice);

/// How many SIGINT/SIGTERM/SIGHUP arrived since the handlers were installed, and the last one (0: none).
int ccleanup_interrupts_received(void);
int ccleanup_last_interrupt_signal(void);

/// Hands the heap memory freed so far back to the system (glibc's malloc_trim; nothing elsewhere). Not
/// async-signal-safe: for threads that just finished a one-off job whose buffers peaked far above the
/// process's steady size.
void ccleanup_release_free_memory(void);

#endif
