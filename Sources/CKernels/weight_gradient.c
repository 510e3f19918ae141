// Weight gradient of a "same" stride-1 convolution without lowering, with an AVX2/FMA micro-kernel.
//
// The images are stacked with zero borders (`x`, rows of `padded_width` pixels) and the output
// gradients placed the same way (`g`, zero outside each image). For tap t = (ky, kx) and grid row r:
//   dW[t][i][o] += x[r + ky * padded_width + kx][i] * g[r + p * padded_width + p][o]
// summed over all rows: border rows of g are zero, which cancels every product that would cross an
// image edge. The micro-kernel keeps a 6 x 16 block of dW (6 input x 16 output channels) in 12
// accumulators and streams the rows in chunks that stay in cache.
#include "ckernels.h"
#include <immintrin.h>

#define CHUNK 256

__attribute__((target("avx2,fma"))) static void accumulate(
    const float *x, const float *g, int rows, int in_channels, int out_channels, int i0, int count, int o0, int wide,
    float *dw) {
    __m256 acc[6][2];
    for (int i = 0; i < 6; i++) {
        acc[i][0] = i < count ? _mm256_loadu_ps(dw + (i0 + i) * out_channels + o0) : _mm256_setzero_ps();
        acc[i][1] = i < count && wide ? _mm256_loadu_ps(dw + (i0 + i) * out_channels + o0 + 8) : _mm256_setzero_ps();
    }
    if (count == 6 && wide) {
        for (int r = 0; r < rows; r++) {
            const float *xr = x + (size_t)r * in_channels + i0;
            const __m256 g0 = _mm256_loadu_ps(g + (size_t)r * out_channels + o0), g1 = _mm256_loadu_ps(g + (size_t)r * out_channels + o0 + 8);
            __m256 v = _mm256_broadcast_ss(xr);
            acc[0][0] = _mm256_fmadd_ps(v, g0, acc[0][0]); acc[0][1] = _mm256_fmadd_ps(v, g1, acc[0][1]);
            v = _mm256_broadcast_ss(xr + 1);
            acc[1][0] = _mm256_fmadd_ps(v, g0, acc[1][0]); acc[1][1] = _mm256_fmadd_ps(v, g1, acc[1][1]);
            v = _mm256_broadcast_ss(xr + 2);
            acc[2][0] = _mm256_fmadd_ps(v, g0, acc[2][0]); acc[2][1] = _mm256_fmadd_ps(v, g1, acc[2][1]);
            v = _mm256_broadcast_ss(xr + 3);
            acc[3][0] = _mm256_fmadd_ps(v, g0, acc[3][0]); acc[3][1] = _mm256_fmadd_ps(v, g1, acc[3][1]);
            v = _mm256_broadcast_ss(xr + 4);
            acc[4][0] = _mm256_fmadd_ps(v, g0, acc[4][0]); acc[4][1] = _mm256_fmadd_ps(v, g1, acc[4][1]);
            v = _mm256_broadcast_ss(xr + 5);
            acc[5][0] = _mm256_fmadd_ps(v, g0, acc[5][0]); acc[5][1] = _mm256_fmadd_ps(v, g1, acc[5][1]);
        }
    } else {
        for (int r = 0; r < rows; r++) {
            const float *xr = x + (size_t)r * in_channels + i0;
            const __m256 g0 = _mm256_loadu_ps(g + (size_t)r * out_channels + o0);
            const __m256 g1 = wide ? _mm256_loadu_ps(g + (size_t)r * out_channels + o0 + 8) : _mm256_setzero_ps();
            for (int i = 0; i < count; i++) {
                const __m256 v = _mm256_broadcast_ss(xr + i);
                acc[i][0] = _mm256_fmadd_ps(v, g0, acc[i][0]);
                acc[i][1] = _mm256_fmadd_ps(v, g1, acc[i][1]);
            }
        }
    }
    for (int i = 0; i < count; i++) {
        _mm256_storeu_ps(dw + (i0 + i) * out_channels + o0, acc[i][0]);
        if (wide) _mm256_storeu_ps(dw + (i0 + i) * out_channels + o0 + 8, acc[i][1]);
    }
}

void ckernels_conv_weight_gradient(const float *x, const float *g, int rows, int padded_width, int padding, int kernel,
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
