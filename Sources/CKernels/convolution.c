// Direct convolution of channels-last images with an AVX2/FMA micro-kernel (portable C otherwise).
//
// The input is pre-padded, so the inner loops have no bounds checks. A micro-kernel computes 6 output
// pixels x 16 output channels in 12 vector accumulators: for every tap and input channel it loads 16
// weights and broadcasts 6 input values, 12 fused multiply-adds per 8 loads. Weights are in HWIO order
// ([tap][input channel][output channel]) so the output channels of one tap and input channel are
// contiguous.
#include "internal.h"
#include <immintrin.h>

#define PIXELS 6

__attribute__((target("avx2,fma"))) void ckernels_conv_forward_avx2(
    const float *input, int padded_width, int in_channels, const float *weights, const float *bias, int out_channels,
    int kernel, int stride, int out_height, int out_width, float *output) {
    const int pixels = out_height * out_width;
    for (int co = 0; co < out_channels; co += 16) {
        const int wide = out_channels - co >= 16;
        for (int p0 = 0; p0 < pixels; p0 += PIXELS) {
            const int rows = pixels - p0 < PIXELS ? pixels - p0 : PIXELS;
            const float *base[PIXELS];
            for (int r = 0; r < PIXELS; r++) {
                int p = p0 + (r < rows ? r : 0), oy = p / out_width, ox = p % out_width;
                base[r] = input + ((oy * stride) * padded_width + ox * stride) * in_channels;
            }
            __m256 b0 = bias ? _mm256_loadu_ps(bias + co) : _mm256_setzero_ps();
            __m256 b1 = bias && wide ? _mm256_loadu_ps(bias + co + 8) : _mm256_setzero_ps();
            __m256 a00 = b0, a01 = b1, a10 = b0, a11 = b1, a20 = b0, a21 = b1;
            __m256 a30 = b0, a31 = b1, a40 = b0, a41 = b1, a50 = b0, a51 = b1;
            for (int ky = 0; ky < kernel; ky++) {
                for (int kx = 0; kx < kernel; kx++) {
                    const int offset = (ky * padded_width + kx) * in_channels;
                    const float *w = weights + ((ky * kernel + kx) * in_channels) * out_channels + co;
                    const float *x0 = base[0] + offset, *x1 = base[1] + offset, *x2 = base[2] + offset;
                    const float *x3 = base[3] + offset, *x4 = base[4] + offset, *x5 = base[5] + offset;
                    if (wide) {
                        for (int ci = 0; ci < in_channels; ci++) {
                            __m256 w0 = _mm256_loadu_ps(w + ci * out_channels), w1 = _mm256_loadu_ps(w + ci * out_channels + 8);
                            __m256 v = _mm256_broadcast_ss(x0 + ci);
                            a00 = _mm256_fmadd_ps(v, w0, a00); a01 = _mm256_fmadd_ps(v, w1, a01);
                            v = _mm256_broadcast_ss(x1 + ci);
                            a10 = _mm256_fmadd_ps(v, w0, a10); a11 = _mm256_fmadd_ps(v, w1, a11);
                            v = _mm256_broadcast_ss(x2 + ci);
                            a20 = _mm256_fmadd_ps(v, w0, a20); a21 = _mm256_fmadd_ps(v, w1, a21);
                            v = _mm256_broadcast_ss(x3 + ci);
                            a30 = _mm256_fmadd_ps(v, w0, a30); a31 = _mm256_fmadd_ps(v, w1, a31);
                            v = _mm256_broadcast_ss(x4 + ci);
                            a40 = _mm256_fmadd_ps(v, w0, a40); a41 = _mm256_fmadd_ps(v, w1, a41);
                            v = _mm256_broadcast_ss(x5 + ci);
                            a50 = _mm256_fmadd_ps(v, w0, a50); a51 = _mm256_fmadd_ps(v, w1, a51);
                        }
                    } else {
                        for (int ci = 0; ci < in_channels; ci++) {
                            __m256 w0 = _mm256_loadu_ps(w + ci * out_channels);
                            a00 = _mm256_fmadd_ps(_mm256_broadcast_ss(x0 + ci), w0, a00);
                            a10 = _mm256_fmadd_ps(_mm256_broadcast_ss(x1 + ci), w0, a10);
                            a20 = _mm256_fmadd_ps(_mm256_broadcast_ss(x2 + ci), w0, a20);
                            a30 = _mm256_fmadd_ps(_mm256_broadcast_ss(x3 + ci), w0, a30);
                            a40 = _mm256_fmadd_ps(_mm256_broadcast_ss(x4 + ci), w0, a40);
                            a50 = _mm256_fmadd_ps(_mm256_broadcast_ss(x5 + ci), w0, a50);
                        }
                    }
                }
            }
            __m256 results[2 * PIXELS] = {a00, a01, a10, a11, a20, a21, a30, a31, a40, a41, a50, a51};
            for (int r = 0; r < rows; r++) {
                float *out = output + (p0 + r) * out_channels + co;
                _mm256_storeu_ps(out, results[2 * r]);
                if (wide) _mm256_storeu_ps(out + 8, results[2 * r + 1]);
            }
        }
    }
}

void ckernels_conv_forward_portable(
    const float *input, int padded_width, int in_channels, const float *weights, const float *bias, int out_channels,
    int kernel, int stride, int out_height, int out_width, float *output) {
    for (int oy = 0; oy < out_height; oy++) {
        for (int ox = 0; ox < out_width; ox++) {
            float *out = output + (oy * out_width + ox) * out_channels;
            for (int co = 0; co < out_channels; co++) out[co] = bias ? bias[co] : 0;
            for (int ky = 0; ky < kernel; ky++) {
                for (int kx = 0; kx < kernel; kx++) {
                    const float *x = input + ((oy * stride + ky) * padded_width + ox * stride + kx) * in_channels;
                    const float *w = weights + ((ky * kernel + kx) * in_channels) * out_channels;
                    for (int ci = 0; ci < in_channels; ci++) {
                        for (int co = 0; co < out_channels; co++) out[co] += x[ci] * w[ci * out_channels + co];
                    }
                }
            }
        }
    }
}

void ckernels_direct_gemm_avx2(const float *input, int rows, int in_channels, const float *weights, int out_channels,
                              float *output) {
    // A 1x1 convolution over a row of `rows` pixels is exactly this matrix product.
    ckernels_conv_forward_avx2(input, rows, in_channels, weights, NULL, out_channels, 1, 1, 1, rows, output);
}
