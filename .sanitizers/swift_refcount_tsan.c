// Tells ThreadSanitizer how the Swift runtime's reference counts order threads, for `make sanitize-thread`
// (loaded with LD_PRELOAD into the sanitised test process and the binaries it starts).
//
// Swift's copy-on-write values cross threads safely: a reader copies an array out under a lock, reads it and
// releases it; the owner, once the buffer is uniquely referenced again, mutates it in place. What orders the
// reader's last read before the owner's write is the atomic release of the count (release ordering) and the
// uniqueness check (acquire ordering) inside libswiftCore, which is not built with ThreadSanitizer. In a
// release build the array code is specialised into our modules and instrumented, so every such hand-over
// is reported as a race (cow-false-positive.swift in this folder reproduces it with an NSLock-guarded array).
// These wrappers annotate exactly those two operations on the object's address: a release publishes the
// thread's accesses and acquires the earlier releasers' (an acq_rel decrement, which also orders the final
// free after every other owner's accesses); a successful uniqueness check acquires. Nothing else is hidden.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

// Weak: in a process without ThreadSanitizer (tmux, the shell) they are absent and the wrappers only pass through.
extern void __tsan_acquire(void *address) __attribute__((weak));
extern void __tsan_release(void *address) __attribute__((weak));

// Only native objects are annotated: bridge objects (swift_bridgeObjectRelease) can be tagged values that
// point nowhere, such as small strings, and the copy-on-write buffers of arrays on Linux are native.

static void released(void *object) {
    if (object == NULL || __tsan_release == NULL) return;
    __tsan_release(object);
    __tsan_acquire(object);
}

typedef void (*release_function)(void *);
typedef void (*release_n_function)(void *, uint32_t);
typedef bool (*uniqueness_function)(const void *);

/// The runtime's own `name`, looked up once (this file is not instrumented, so the lookup races are invisible
/// and harmless: every thread finds the same address).
#define NEXT(name, type) \
    static type next_##name; \
    if (!next_##name) next_##name = (type)dlsym(RTLD_NEXT, #name)

void swift_release(void *object) {
    NEXT(swift_release, release_function);
    released(object);
    next_swift_release(object);
}

void swift_release_n(void *object, uint32_t count) {
    NEXT(swift_release_n, release_n_function);
    released(object);
    next_swift_release_n(object, count);
}

bool swift_isUniquelyReferenced_nonNull_native(const void *object) {
    NEXT(swift_isUniquelyReferenced_nonNull_native, uniqueness_function);
    const bool unique = next_swift_isUniquelyReferenced_nonNull_native(object);
    if (unique && __tsan_acquire != NULL) __tsan_acquire((void *)object);
    return unique;
}
