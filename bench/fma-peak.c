// One core's fused multiply-add rate: independent 8-lane AVX2 FMA chains (10 accumulators, enough to hide
// the FMA latency), the speed of light for the engine's AVX2 kernels on this core at this moment. On a
// shared machine the figure moves with the machine's phase, which is what docs/results.md used it for.
//
//   cc -O3 -mavx2 -mfma bench/fma-peak.c -o /tmp/fma-peak && /tmp/fma-peak
#include <immintrin.h>
#include <stdio.h>
#include <time.h>

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(void) {
    enum { chains = 10 };
    const long iterations = 200000000;
    __m256 acc[chains];
    const __m256 x = _mm256_set1_ps(0.999999f), y = _mm256_set1_ps(1e-7f);
    for (int i = 0; i < chains; i++) acc[i] = _mm256_set1_ps((float)i);
    double best = 1e30;
    for (int round = 0; round < 3; round++) {
        double start = seconds();
        for (long k = 0; k < iterations / chains; k++) {
            for (int i = 0; i < chains; i++) acc[i] = _mm256_fmadd_ps(acc[i], x, y);
        }
        double took = seconds() - start;
        if (took < best) best = took;
    }
    float sink = 0;
    for (int i = 0; i < chains; i++) sink += _mm256_cvtss_f32(acc[i]);
    // Each FMA is 8 lanes x 2 flops.
    printf("AVX2 FMA, one core: %.1f GFLOP/s (best of 3; checksum %g)\n", (double)iterations * 16 / best * 1e-9, sink);
    return 0;
}
