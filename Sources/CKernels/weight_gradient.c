// Weight gradient of a "same" stride-1 convolution without lowering, with an AVX2/FMA micro-kernel.
//
// The images are stacked with zero borders (`x`, rows of `padded_width` pixels) and the output
// gradients placed the same way (`g`, zero outside each image). For tap t = (ky, kx) and grid row r:
//   dW[t][i][o] += x[r + ky * padded_width + kx][i] * g[r + p * padded_width + p][o]
// summed over all rows: border rows of g are zero, which cancels every product that would cross an
// image edge. The micro-kernel keeps a block of dW of up to 6 input x 16 output channels in 12
// accumulators and streams the rows in chunks that stay in cache.
#include "internal.h"
#include <immintrin.h>

#define CHUNK 256

// A block of `count` (1...6, a compile-time constant at every call) input channels x 16 output channels, or
// 8 when not `wide`. Inlined with a constant count, the loops over the block unroll and the accumulators
// stay in registers; a runtime count would keep them in memory.
__attribute__((target("avx2,fma"), always_inline)) static inline void accumulate_block(
    const float *x, const float *g, int rows, int in_channels, int out_channels, int i0, const int count, int o0,
    const int wide, float *dw) {
    __m256 acc[6][2];
    for (int i = 0; i < count; i++) {
        acc[i][0] = _mm256_loadu_ps(dw + (i0 + i) * out_channels + o0);
        acc[i][1] = wide ? _mm256_loadu_ps(dw + (i0 + i) * out_channels + o0 + 8) : _mm256_setzero_ps();
    }
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * in_channels + i0, *gr = g + (size_t)r * out_channels + o0;
        const __m256 g0 = _mm256_loadu_ps(gr);
        if (wide) {
            const __m256 g1 = _mm256_loadu_ps(gr + 8);
            for (int i = 0; i < count; i++) {
                const __m256 v = _mm256_broadcast_ss(xr + i);
                acc[i][0] = _mm256_fmadd_ps(v, g0, acc[i][0]);
                acc[i][1] = _mm256_fmadd_ps(v, g1, acc[i][1]);
            }
        } else {
            for (int i = 0; i < count; i++) acc[i][0] = _mm256_fmadd_ps(_mm256_broadcast_ss(xr + i), g0, acc[i][0]);
        }
    }
    for (int i = 0; i < count; i++) {
        _mm256_storeu_ps(dw + (i0 + i) * out_channels + o0, acc[i][0]);
        if (wide) _mm256_storeu_ps(dw + (i0 + i) * out_channels + o0 + 8, acc[i][1]);
    }
}

// dw[i0 ..< i0 + count][o0 ..< o0 + 16 (or 8)] += sum over rows of x[r][i] * g[r][o].
__attribute__((target("avx2,fma"))) static void accumulate(
    const float *x, const float *g, int rows, int in_channels, int out_channels, int i0, int count, int o0, int wide,
    float *dw) {
#define BLOCK(n)                                                                                              \
    case n:                                                                                                   \
        if (wide) accumulate_block(x, g, rows, in_channels, out_channels, i0, n, o0, 1, dw);                  \
        else accumulate_block(x, g, rows, in_channels, out_channels, i0, n, o0, 0, dw);                       \
        break;
    switch (count) {
        BLOCK(1) BLOCK(2) BLOCK(3) BLOCK(4) BLOCK(5) BLOCK(6)
    }
#undef BLOCK
}

__attribute__((target("avx2,fma"))) void ckernels_conv_weight_gradient_avx2(const float *x, const float *g, int rows, int padded_width, int padding, int kernel,
                                   int in_channels, int out_channels, float *dw) {
    const int shift = padding * padded_width + padding;
    for (int start = 0; start < rows; start += CHUNK) {
        const int count = rows - start < CHUNK ? rows - start : CHUNK;
        const float *gc = g + (size_t)(start + shift) * out_channels;
        for (int t = 0; t < kernel * kernel; t++) {
            const float *xc = x + (size_t)(start + (t / kernel) * padded_width + t % kernel) * in_channels;
            float *dwt = dw + (size_t)t * in_channels * out_channels;
            for (int i0 = 0; i0 < in_channels; i0 += 6) {
                const int block = in_channels - i0 < 6 ? in_channels - i0 : 6;
                for (int o0 = 0; o0 < out_channels; o0 += 16) {
                    accumulate(xc, gc, count, in_channels, out_channels, i0, block, o0, out_channels - o0 >= 16, dwt);
                }
            }
        }
    }
}
