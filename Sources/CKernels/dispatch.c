// Which of the kernels' instruction-set paths runs: chosen once, at the first call, from what the CPU and
// the operating system support and from the CONVSCOPE_KERNELS environment variable.
//
// The choice is made here, by cpuid and xgetbv, instead of through GCC's target_clones: those generate
// ifunc resolvers that the dynamic loader runs before a sanitizer's run time is set up, and a
// ThreadSanitizer build then dies in the resolver before main. A plain load of a cached value works under
// every sanitizer, and lets tests force each path on one machine.
#include "ckernels.h"
#include <cpuid.h>
#include <stdlib.h>
#include <string.h>

static uint64_t read_xcr0(void) {
    uint32_t eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((uint64_t)edx << 32) | eax;
}

/// The best path this CPU runs, with the OS saving the vector registers it needs (bit 0 of the result),
/// and whether it has the AVX-512 bf16 dot products (bit 8).
static int detect(void) {
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return CKERNELS_PORTABLE;
    const int osxsave = (ecx >> 27) & 1, avx = (ecx >> 28) & 1, fma = (ecx >> 12) & 1;
    if (!osxsave || !avx || !fma) return CKERNELS_PORTABLE;
    const uint64_t xcr0 = read_xcr0();
    if ((xcr0 & 0x6) != 0x6) return CKERNELS_PORTABLE;  // XMM and YMM state
    if (__get_cpuid_max(0, 0) < 7) return CKERNELS_PORTABLE;
    __cpuid_count(7, 0, eax, ebx, ecx, edx);
    const int avx2 = (ebx >> 5) & 1;
    if (!avx2) return CKERNELS_PORTABLE;
    const int avx512 = ((ebx >> 16) & 1) /* F */ && ((ebx >> 17) & 1) /* DQ */ && ((ebx >> 30) & 1) /* BW */
                       && ((ebx >> 31) & 1) /* VL */ && (xcr0 & 0xE6) == 0xE6 /* opmask, ZMM state */;
    if (!avx512) return CKERNELS_AVX2;
    unsigned a1 = 0, b1 = 0, c1 = 0, d1 = 0;
    __cpuid_count(7, 1, a1, b1, c1, d1);
    const int bf16 = (a1 >> 5) & 1;
    return CKERNELS_AVX512 | (bf16 ? CKERNELS_BF16_FLAG : 0);
}

/// -1 until the first call; then the CPU's detection result (the path in the low byte, flags above).
static int detected = -1;
/// -1 until the first call; then the path in use.
static int active = -1;
/// Set when CONVSCOPE_KERNELS names no path, or one this CPU cannot run.
static int environment_problem = 0;

static int cpu_features(void) {
    int value = __atomic_load_n(&detected, __ATOMIC_ACQUIRE);
    if (value < 0) {
        value = detect();
        __atomic_store_n(&detected, value, __ATOMIC_RELEASE);
    }
    return value;
}

int ckernels_best_path(void) { return cpu_features() & 0xFF; }

int ckernels_has_bf16(void) { return (cpu_features() & CKERNELS_BF16_FLAG) != 0; }

int ckernels_parse_path(const char *name) {
    if (name == NULL) return -1;
    if (strcmp(name, "portable") == 0) return CKERNELS_PORTABLE;
    if (strcmp(name, "avx2") == 0) return CKERNELS_AVX2;
    if (strcmp(name, "avx512") == 0) return CKERNELS_AVX512;
    if (strcmp(name, "auto") == 0 || name[0] == '\0') return ckernels_best_path();
    return -1;
}

/// The path CONVSCOPE_KERNELS asks for when the CPU runs it; otherwise the best one, noting the problem.
static int initial_path(void) {
    const char *requested = getenv("CONVSCOPE_KERNELS");
    if (requested == NULL) return ckernels_best_path();
    const int path = ckernels_parse_path(requested);
    if (path < 0 || path > ckernels_best_path()) {
        __atomic_store_n(&environment_problem, 1, __ATOMIC_RELAXED);
        return ckernels_best_path();
    }
    return path;
}

int ckernels_path(void) {
    int value = __atomic_load_n(&active, __ATOMIC_ACQUIRE);
    if (value < 0) {
        // Two threads that race here compute the same value; the store is atomic.
        value = initial_path();
        __atomic_store_n(&active, value, __ATOMIC_RELEASE);
    }
    return value;
}

int ckernels_environment_problem(void) {
    (void)ckernels_path();
    return __atomic_load_n(&environment_problem, __ATOMIC_RELAXED);
}

int ckernels_set_path(int path) {
    if (path < CKERNELS_PORTABLE || path > ckernels_best_path()) return 0;
    __atomic_store_n(&active, path, __ATOMIC_RELEASE);
    return 1;
}

int ckernels_uses_avx2(void) { return ckernels_path() >= CKERNELS_AVX2; }
