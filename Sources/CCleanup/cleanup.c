// Temporary-file registry and interrupt handlers, in C because they run inside signal handlers.
//
// What a handler does is async-signal-safe: it reads atomics and fixed arrays, calls unlink(2),
// write(2), sigaction(2) and raise(3). This file is compiled once, so its state has one definition.
#include "ccleanup.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

// ---------------------------------------------------------------------------------------------
// The registry: a fixed table, so that a handler never meets a structure half-grown.

#define CCLEANUP_SLOTS 64
#define CCLEANUP_PATH_MAX 4096

enum { SLOT_FREE = 0, SLOT_CLAIMED = 1, SLOT_ARMED = 2 };

struct ccleanup_slot {
    _Atomic int state;
    char path[CCLEANUP_PATH_MAX];
};

static struct ccleanup_slot slots[CCLEANUP_SLOTS];
static _Atomic unsigned long name_counter;

static int claim_slot(void) {
    for (int i = 0; i < CCLEANUP_SLOTS; i++) {
        int expected = SLOT_FREE;
        if (atomic_compare_exchange_strong(&slots[i].state, &expected, SLOT_CLAIMED)) return i;
    }
    return -1;
}

int ccleanup_create_temporary(const char *prefix, char *path, size_t capacity, int *slot) {
    int index = claim_slot();
    *slot = index;
    char candidate[CCLEANUP_PATH_MAX];
    for (int attempt = 0; attempt < 1000; attempt++) {
        unsigned long number = atomic_fetch_add(&name_counter, 1);
        int length = snprintf(candidate, sizeof candidate, "%s%ld-%lu", prefix, (long)getpid(), number);
        if (length < 0 || (size_t)length >= sizeof candidate || (size_t)length >= capacity) {
            ccleanup_forget_temporary(index);
            *slot = -1;
            errno = ENAMETOOLONG;
            return -1;
        }
        if (index >= 0) {
            // Armed before the file exists, so no moment passes with the file on disk but not in the
            // table; a handler that runs now unlinks a name nobody holds (the pid in it is ours).
            memcpy(slots[index].path, candidate, (size_t)length + 1);
            atomic_store(&slots[index].state, SLOT_ARMED);
        }
        int fd = open(candidate, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0) {
            memcpy(path, candidate, (size_t)length + 1);
            return fd;
        }
        int error = errno;
        if (index >= 0) atomic_store(&slots[index].state, SLOT_CLAIMED);
        if (error != EEXIST) {
            ccleanup_forget_temporary(index);
            *slot = -1;
            errno = error;
            return -1;
        }
    }
    ccleanup_forget_temporary(index);
    *slot = -1;
    errno = EEXIST;
    return -1;
}

void ccleanup_forget_temporary(int slot) {
    if (slot < 0 || slot >= CCLEANUP_SLOTS) return;
    atomic_store(&slots[slot].state, SLOT_FREE);
}

void ccleanup_remove_temporaries(void) {
    for (int i = 0; i < CCLEANUP_SLOTS; i++) {
        if (atomic_load(&slots[i].state) == SLOT_ARMED) unlink(slots[i].path);
    }
}

// ---------------------------------------------------------------------------------------------
// The command line's handlers.

static const int interrupt_signals[] = { SIGINT, SIGTERM, SIGHUP };
static const int crash_signals[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP };
#define CCLEANUP_COUNT(array) (sizeof (array) / sizeof (array)[0])

static volatile sig_atomic_t interrupt_count;
static volatile sig_atomic_t last_interrupt;
static _Atomic int graceful;
static char graceful_notice[512];
static size_t graceful_notice_length;
static struct sigaction previous_actions[NSIG];

static void on_interrupt(int signal_number) {
    int saved_errno = errno;
    last_interrupt = signal_number;
    interrupt_count += 1;
    if (atomic_load(&graceful) && interrupt_count == 1) {
        if (graceful_notice_length > 0) {
            ssize_t ignored = write(STDERR_FILENO, graceful_notice, graceful_notice_length);
            (void)ignored;
        }
        errno = saved_errno;
        return;
    }
    ccleanup_remove_temporaries();
    // End by the same signal, with its default action, once this handler returns.
    struct sigaction fallback;
    memset(&fallback, 0, sizeof fallback);
    fallback.sa_handler = SIG_DFL;
    sigemptyset(&fallback.sa_mask);
    sigaction(signal_number, &fallback, NULL);
    raise(signal_number);
    errno = saved_errno;
}

static void on_crash(int signal_number) {
    ccleanup_remove_temporaries();
    sigaction(signal_number, &previous_actions[signal_number], NULL);
    raise(signal_number);
}

int ccleanup_install_handlers(void) {
    interrupt_count = 0;
    last_interrupt = 0;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    sigemptyset(&action.sa_mask);
    for (size_t i = 0; i < CCLEANUP_COUNT(interrupt_signals); i++) sigaddset(&action.sa_mask, interrupt_signals[i]);
    // Interrupted system calls resume: a graceful first interrupt must not fail a write or a read.
    action.sa_flags = SA_RESTART;
    action.sa_handler = on_interrupt;
    for (size_t i = 0; i < CCLEANUP_COUNT(interrupt_signals); i++) {
        int number = interrupt_signals[i];
        if (sigaction(number, NULL, &previous_actions[number]) != 0) return -1;
        // A signal ignored when the program started stays ignored: `nohup` (SIGHUP) and background jobs
        // of a non-interactive shell (SIGINT) ask for that.
        if (previous_actions[number].sa_handler == SIG_IGN) continue;
        if (sigaction(number, &action, NULL) != 0) return -1;
    }
    action.sa_handler = on_crash;
    for (size_t i = 0; i < CCLEANUP_COUNT(crash_signals); i++) {
        if (sigaction(crash_signals[i], &action, &previous_actions[crash_signals[i]]) != 0) return -1;
    }
    return 0;
}

void ccleanup_set_graceful(const char *notice) {
    // Called between interrupts from the main thread; the handler reads the notice only once graceful
    // is set, after it is complete.
    atomic_store(&graceful, 0);
    if (notice == NULL) return;
    size_t length = strlen(notice);
    if (length > sizeof graceful_notice) length = sizeof graceful_notice;
    memcpy(graceful_notice, notice, length);
    graceful_notice_length = length;
    atomic_store(&graceful, 1);
}

int ccleanup_interrupts_received(void) { return interrupt_count; }
int ccleanup_last_interrupt_signal(void) { return last_interrupt; }

// ---------------------------------------------------------------------------------------------
// Freed memory. glibc keeps what a job freed for reuse, and after a large block is freed it raises its
// mmap threshold, so the next large buffers come from the heap too and stay resident when freed: an
// app that ran one Score-CAM kept the few hundred MB it peaked at until it quit (docs/reliability.md).

void ccleanup_release_free_memory(void) {
#if defined(__GLIBC__)
    malloc_trim(0);
#endif
}
