// OpenBLAS's CBLAS interface, plus the thread-control calls OpenBLAS adds to it.
#include <cblas.h>

// OpenBLAS's dynamic-architecture entry points, which cblas.h does not declare. Every DYNAMIC_ARCH build
// exports them (Debian's does); they are weak here so that a build of OpenBLAS for one fixed CPU, which
// lacks them, still links, and `convscope_openblas_reselect_core` then reports that it could do nothing.
void gotoblas_dynamic_init(void) __attribute__((weak));
void gotoblas_dynamic_quit(void) __attribute__((weak));

/// Makes a DYNAMIC_ARCH OpenBLAS choose its kernel family again, reading OPENBLAS_CORETYPE as it does when it
/// loads. Returns 0 (nothing done) when this OpenBLAS cannot. Only safe before the first BLAS call and while
/// no other thread runs: it swaps the table of kernels every call goes through.
static inline int convscope_openblas_reselect_core(void) {
    if (!gotoblas_dynamic_init || !gotoblas_dynamic_quit) return 0;
    gotoblas_dynamic_quit();
    gotoblas_dynamic_init();
    return 1;
}
