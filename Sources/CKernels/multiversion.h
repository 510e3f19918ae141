// Compiles one loop nest twice, for AVX2 and for baseline x86-64, and picks the copy by the kernels'
// path (dispatch.c) at each call: what GCC's target_clones did, without the ifunc resolver that kept
// sanitizer builds from starting.
#ifndef CKERNELS_MULTIVERSION_H
#define CKERNELS_MULTIVERSION_H

#include "ckernels.h"

/// The attributes of a loop nest that CKERNELS_AVX2_OR_PORTABLE compiles twice: inlined into each copy,
/// so the compiler vectorises it for that copy's instruction set.
#define CKERNELS_BODY static inline __attribute__((always_inline))

/// Defines `void name params` to run `name##_body args` compiled for AVX2 on the AVX2 (or a wider) path
/// and for baseline x86-64 on the portable one.
#define CKERNELS_AVX2_OR_PORTABLE(name, params, args)                                            \
    __attribute__((target("avx2"))) static void name##_avx2 params { name##_body args; }          \
    static void name##_portable params { name##_body args; }                                      \
    void name params {                                                                            \
        if (ckernels_uses_avx2()) name##_avx2 args;                                               \
        else name##_portable args;                                                                \
    }

#endif
