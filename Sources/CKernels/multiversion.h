// Compiles one loop nest three times, for AVX-512, AVX2 and baseline x86-64, and picks the copy by the
// kernels' path (dispatch.c) at each call: what GCC's target_clones did, without the ifunc resolver that
// kept sanitizer builds from starting. The compiler vectorises each copy for its instruction set.
#ifndef CKERNELS_MULTIVERSION_H
#define CKERNELS_MULTIVERSION_H

#include "ckernels.h"

/// The attributes of a loop nest that CKERNELS_MULTIVERSION compiles for each path: inlined into each
/// copy, so the compiler vectorises it for that copy's instruction set.
#define CKERNELS_BODY static inline __attribute__((always_inline))

/// Defines `void name params` to run `name##_body args` compiled for the path in use: AVX-512, AVX2 or
/// baseline x86-64.
#define CKERNELS_MULTIVERSION(name, params, args)                                                      \
    __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma"))) static void name##_avx512 params { \
        name##_body args;                                                                              \
    }                                                                                                  \
    __attribute__((target("avx2"))) static void name##_avx2 params { name##_body args; }               \
    static void name##_portable params { name##_body args; }                                           \
    void name params {                                                                                 \
        switch (ckernels_path()) {                                                                     \
        case CKERNELS_AVX512: name##_avx512 args; break;                                               \
        case CKERNELS_AVX2: name##_avx2 args; break;                                                   \
        default: name##_portable args;                                                                 \
        }                                                                                              \
    }

#endif
