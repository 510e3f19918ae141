// The worker pool behind Parallel.forEach (ConvKit/Tensor/Parallel.swift).
//
// Why: a training step runs a few hundred short parallel loops, and Dispatch parks its workers between
// them, so the second core arrived hundreds of microseconds late at every loop. These workers live for the
// whole process and spin for a short while after each loop, so the next loop usually finds them awake;
// after spin_nanoseconds without work they park on a condition variable, so an idle program costs no CPU.
//
// One loop at a time owns the pool (`owner`). A loop is published through `ticket`, one 64-bit word:
// the loop's generation (bits 32-63), whether it is still open to joiners (OPEN) and how many workers
// joined it (bits 0-30). A worker joins by a compare-and-swap that expects the generation it saw and the
// OPEN bit, so it cannot join a loop that was closed or replaced meanwhile. The owner writes the loop's
// fields before publishing the ticket (release) and a joiner reads them after its compare-and-swap
// (acquire); a joiner that runs out of iterations adds itself to `left` (release) and the owner, having
// closed the ticket and so learnt how many joined, waits until `left` says all of them left (acquire).
// Only then are the fields reused, and only joiners ever read them. Every iteration index is claimed from
// `next` by exactly one thread, so the iterations run once each, whichever threads run them.
#include "ckernels_pool.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#define OPEN ((uint64_t)1 << 31)
#define JOINED_MASK (OPEN - 1)

/// How long an idle worker spins before parking, and the owner before parking while its last joiners finish
/// (docs/performance.md, "A worker pool that spins between loops"). Short, because on a busy machine the
/// spin is CPU taken from other programs and a worker the kernel preempted gains nothing from it.
static const long spin_nanoseconds = 50000;

static struct {
    _Atomic int owner;           // 1 while a loop owns the pool
    _Atomic uint64_t ticket;     // generation << 32 | OPEN | joined
    _Atomic long next;           // the next unclaimed iteration
    _Atomic int left;            // joiners of the current loop that finished
    _Atomic int sleepers;        // workers parked on `wake`
    _Atomic int owner_waiting;   // 1 while the owner is parked on `done`
    // The current loop; written by its owner before the ticket is published, read by its joiners only.
    ckernels_pool_body body;
    void *context;
    long iterations;
    uint64_t generation;         // the owner's count of published loops
    pthread_mutex_t lock;
    pthread_cond_t wake;         // a loop was published
    pthread_cond_t done;         // a joiner left
    _Atomic int threads;         // how many workers started; set once, before any loop
} pool = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER, .done = PTHREAD_COND_INITIALIZER};

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static inline uint64_t generation_of(uint64_t ticket) { return ticket >> 32; }

static long monotonic_nanoseconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long)now.tv_sec * 1000000000L + now.tv_nsec;
}

/// Claims and runs iterations of the current loop until none is left.
static void run_iterations(void) {
    const long iterations = pool.iterations;
    ckernels_pool_body body = pool.body;
    void *context = pool.context;
    for (;;) {
        const long index = atomic_fetch_add_explicit(&pool.next, 1, memory_order_relaxed);
        if (index >= iterations) return;
        body(context, index);
    }
}

/// Waits until a loop newer than generation `seen` is published: spinning for spin_nanoseconds, then
/// parked. The spin does not call sched_yield: on a busy machine that hands the core to another program for
/// a whole time slice, and the worker then misses the next loops; parked, the kernel wakes it promptly.
/// Returns the ticket it saw.
static uint64_t wait_for_loop(uint64_t seen) {
    const long start = monotonic_nanoseconds();
    for (unsigned spins = 1;; spins++) {
        const uint64_t ticket = atomic_load_explicit(&pool.ticket, memory_order_acquire);
        if (generation_of(ticket) != seen) return ticket;
        cpu_relax();
        if (spins % 64 == 0 && monotonic_nanoseconds() - start > spin_nanoseconds) break;
    }
    pthread_mutex_lock(&pool.lock);
    // Sequentially consistent with the owner's publish-then-check-sleepers: either the owner sees this
    // worker counted and broadcasts (under the lock, so not before this worker waits), or this worker
    // sees the new ticket here and does not wait.
    atomic_fetch_add(&pool.sleepers, 1);
    uint64_t ticket;
    while (generation_of(ticket = atomic_load(&pool.ticket)) == seen) pthread_cond_wait(&pool.wake, &pool.lock);
    atomic_fetch_sub(&pool.sleepers, 1);
    pthread_mutex_unlock(&pool.lock);
    return ticket;
}

/// The owner's wait for the `joined` workers of its loop to finish their last iterations: a short spin (they
/// are usually finishing one chunk), then parked until the last of them signals.
static void wait_for_joiners(int joined) {
    const long start = monotonic_nanoseconds();
    for (unsigned spins = 1; atomic_load_explicit(&pool.left, memory_order_acquire) != joined; spins++) {
        cpu_relax();
        if (spins % 64 == 0 && monotonic_nanoseconds() - start > spin_nanoseconds) {
            pthread_mutex_lock(&pool.lock);
            atomic_store(&pool.owner_waiting, 1);  // then the check: see worker_main
            while (atomic_load(&pool.left) != joined) pthread_cond_wait(&pool.done, &pool.lock);
            atomic_store(&pool.owner_waiting, 0);
            pthread_mutex_unlock(&pool.lock);
            return;
        }
    }
}

static void *worker_main(void *unused) {
    (void)unused;
    uint64_t seen = 0;
    for (;;) {
        uint64_t ticket = wait_for_loop(seen);
        seen = generation_of(ticket);
        int joined = 0;
        while ((ticket & OPEN) && generation_of(ticket) == seen) {
            if (atomic_compare_exchange_weak_explicit(&pool.ticket, &ticket, ticket + 1, memory_order_acquire,
                                                      memory_order_acquire)) {
                joined = 1;
                break;
            }
        }
        if (!joined) continue;  // closed before this worker arrived: its owner no longer needs it
        run_iterations();
        // Sequentially consistent with the owner's flag-then-check in wait_for_joiners.
        atomic_fetch_add(&pool.left, 1);
        if (atomic_load(&pool.owner_waiting)) {
            pthread_mutex_lock(&pool.lock);
            pthread_cond_broadcast(&pool.done);
            pthread_mutex_unlock(&pool.lock);
        }
    }
    return NULL;
}

static pthread_once_t start_once = PTHREAD_ONCE_INIT;
static int requested_threads;

static void start_workers(void) {
    // The workers block every signal, as Dispatch's threads do, so signals reach the same threads as they
    // did before the pool.
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    int started = 0;
    for (int i = 0; i < requested_threads; i++) {
        pthread_t thread;
        pthread_attr_t attributes;
        pthread_attr_init(&attributes);
        pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
        const int failed = pthread_create(&thread, &attributes, worker_main, NULL);
        pthread_attr_destroy(&attributes);
        if (failed) break;
        started++;
    }
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    atomic_store_explicit(&pool.threads, started, memory_order_release);
}

int ckernels_pool_start(int threads) {
    requested_threads = threads > 0 ? threads : 0;
    pthread_once(&start_once, start_workers);
    return atomic_load_explicit(&pool.threads, memory_order_acquire);
}

int ckernels_pool_run(long iterations, ckernels_pool_body body, void *context) {
    if (atomic_load_explicit(&pool.threads, memory_order_acquire) == 0) return 0;
    int free_pool = 0;
    if (!atomic_compare_exchange_strong_explicit(&pool.owner, &free_pool, 1, memory_order_acquire,
                                                 memory_order_relaxed))
        return 0;
    pool.body = body;
    pool.context = context;
    pool.iterations = iterations;
    atomic_store_explicit(&pool.next, 0, memory_order_relaxed);
    atomic_store_explicit(&pool.left, 0, memory_order_relaxed);
    pool.generation++;
    atomic_store(&pool.ticket, (pool.generation << 32) | OPEN);  // publishes the fields above
    if (atomic_load(&pool.sleepers) > 0) {
        pthread_mutex_lock(&pool.lock);
        pthread_cond_broadcast(&pool.wake);
        pthread_mutex_unlock(&pool.lock);
    }
    run_iterations();
    // Closing tells how many workers joined; those still running an iteration finish it, and a joiner that
    // arrived after the last claim leaves at once.
    const uint64_t closed = atomic_fetch_and_explicit(&pool.ticket, ~OPEN, memory_order_acq_rel);
    wait_for_joiners((int)(closed & JOINED_MASK));
    atomic_store_explicit(&pool.owner, 0, memory_order_release);
    return 1;
}
