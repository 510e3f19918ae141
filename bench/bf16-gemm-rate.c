// The bf16 matrix product (`ckernels_gemm_bf16`) on the shapes `--precision bf16` training gives it: one
// lowered group of `simple`'s convolutions (1024 rows), forward, weight gradient and input gradient.
// Prints GFLOP/s per shape, best of 5 rounds; run it under `perf stat -e cycles:u` for cycles, which a
// loaded machine does not change as it changes time.
//
//   cc -O2 -ISources/CKernels/include bench/bf16-gemm-rate.c Sources/CKernels/bf16.c Sources/CKernels/dispatch.c -o /tmp/bf16-gemm-rate
//   /tmp/bf16-gemm-rate [forward|weight|input|all|peak] [CALLS]
//
// `peak` times 12 independent chains of VDPBF16PS and nothing else: the ceiling for the product; then the same
// for fp32 FMAs on zmm registers, the ceiling of the fp32 kernels.
#include "ckernels.h"
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

__attribute__((target("avx512f,avx512bf16"))) static void peak(void) {
    enum { CHAINS = 12 };
    __m512 acc[CHAINS];
    for (int i = 0; i < CHAINS; i++) acc[i] = _mm512_setzero_ps();
    const __m512bh x = (__m512bh)_mm512_set1_epi32(0x3f803f80);
    const long rounds = 20000000;
    const double start = seconds();
    for (long i = 0; i < rounds; i++) {
#pragma GCC unroll 12
        for (int j = 0; j < CHAINS; j++) acc[j] = _mm512_dpbf16_ps(acc[j], x, x);
    }
    const double t = seconds() - start;
    float sum = 0;
    for (int i = 0; i < CHAINS; i++) sum += _mm512_reduce_add_ps(acc[i]);
    printf("peak: %d chains of vdpbf16ps  %6.1f GFLOP/s (checksum %g)\n", CHAINS, rounds * CHAINS * 64.0 / t * 1e-9, sum);
}

/// The same for fp32 (`vfmadd` on zmm registers, 32 flops each): what bf16's dot products are measured against.
/// Where one vdpbf16ps costs what two FMAs do, bf16 halves nothing; Winograd's fewer multiplies then win.
__attribute__((target("avx512f"))) static void peak_fp32(void) {
    enum { CHAINS = 12 };
    __m512 acc[CHAINS];
    for (int i = 0; i < CHAINS; i++) acc[i] = _mm512_set1_ps(i * 1e-9f);
    const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
    const long rounds = 20000000;
    const double start = seconds();
    for (long i = 0; i < rounds; i++) {
#pragma GCC unroll 12
        for (int j = 0; j < CHAINS; j++) acc[j] = _mm512_fmadd_ps(acc[j], a, b);
    }
    const double t = seconds() - start;
    float sum = 0;
    for (int i = 0; i < CHAINS; i++) sum += _mm512_reduce_add_ps(acc[i]);
    printf("peak: %d chains of fp32 FMA   %6.1f GFLOP/s (checksum %g)\n", CHAINS, rounds * CHAINS * 32.0 / t * 1e-9, sum);
}

struct shape { const char *name, *pass; int trans_a, trans_b, m, n, k; };

// rows = 1024 output positions, K = 9 x input channels, N = output channels (LoweredConvolution's calls).
static const struct shape shapes[] = {
    {"conv2 32->32", "forward", 0, 1, 1024, 32, 288},
    {"conv2 32->32", "weight", 1, 0, 32, 288, 1024},
    {"conv2 32->32", "input", 0, 0, 1024, 288, 32},
    {"conv4 64->64", "forward", 0, 1, 1024, 64, 576},
    {"conv4 64->64", "weight", 1, 0, 64, 576, 1024},
    {"conv4 64->64", "input", 0, 0, 1024, 576, 64},
};

static void fill(float *x, size_t count, unsigned seed) {
    for (size_t i = 0; i < count; i++) {
        seed = seed * 1664525u + 1013904223u;
        x[i] = (float)((seed >> 8) & 0xFFFF) / 32768.0f - 1.0f;
    }
}

int main(int argc, char **argv) {
    const char *which = argc > 1 ? argv[1] : "all";
    const int calls = argc > 2 ? atoi(argv[2]) : 200;
    if (calls < 1) {
        fprintf(stderr, "CALLS must be a positive number, not '%s'\n", argv[2]);
        return 2;
    }
    if (!ckernels_has_bf16()) {
        fprintf(stderr, "this CPU has no avx512_bf16: nothing to measure\n");
        return 1;
    }
    if (strcmp(which, "peak") == 0) {
        peak();
        peak_fp32();
        return 0;
    }
    int matched = 0;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const struct shape *sh = &shapes[s];
        if (strcmp(which, "all") != 0 && strcmp(which, sh->pass) != 0) continue;
        matched = 1;
        const int lda = sh->trans_a ? sh->m : sh->k, ldb = sh->trans_b ? sh->k : sh->n;
        float *a = malloc(sizeof(float) * sh->m * sh->k), *b = malloc(sizeof(float) * sh->k * sh->n);
        float *c = malloc(sizeof(float) * sh->m * sh->n);
        if (!a || !b || !c) return 1;
        fill(a, (size_t)sh->m * sh->k, 1);
        fill(b, (size_t)sh->k * sh->n, 2);
        double best = 1e30;
        for (int round = 0; round < 5; round++) {
            double start = seconds();
            for (int i = 0; i < calls; i++)
                ckernels_gemm_bf16(sh->trans_a, sh->trans_b, sh->m, sh->n, sh->k, a, lda, b, ldb, 0, c, sh->n);
            double t = (seconds() - start) / calls;
            if (t < best) best = t;
        }
        printf("%s %-8s m %4d n %4d k %4d  %7.1f us  %6.1f GFLOP/s\n", sh->name, sh->pass, sh->m, sh->n, sh->k,
               best * 1e6, 2.0 * sh->m * sh->n * sh->k / best * 1e-9);
        free(a);
        free(b);
        free(c);
    }
    if (!matched) {
        fprintf(stderr, "the pass must be forward, weight, input or all, not '%s'\n", which);
        return 2;
    }
    return 0;
}
