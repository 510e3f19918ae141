// Max pooling over channels-last images, written in C so the loops vectorise (AVX-512 or AVX2 where the
// CPU has them, chosen at run time: multiversion.h).
#include "multiversion.h"

CKERNELS_BODY void ckernels_maxpool_forward_body(const float *restrict src, int width, int channels, int kernel, int stride,
                                     int out_height, int out_width, float *restrict dst, int32_t *restrict taps) {
    for (int oy = 0; oy < out_height; oy++) {
        for (int ox = 0; ox < out_width; ox++) {
            float *restrict best = dst + (oy * out_width + ox) * channels;
            int32_t *restrict tap = taps + (oy * out_width + ox) * channels;
            const float *first = src + ((oy * stride) * width + ox * stride) * channels;
            for (int ch = 0; ch < channels; ch++) {
                best[ch] = first[ch];
                tap[ch] = 0;
            }
            for (int t = 1; t < kernel * kernel; t++) {
                const float *restrict in = src + ((oy * stride + t / kernel) * width + ox * stride + t % kernel) * channels;
                for (int ch = 0; ch < channels; ch++) {
                    // Strictly greater: ties keep the first maximum, as PyTorch does.
                    int larger = in[ch] > best[ch];
                    best[ch] = larger ? in[ch] : best[ch];
                    tap[ch] = larger ? t : tap[ch];
                }
            }
        }
    }
}

CKERNELS_BODY void ckernels_maxpool_backward_body(const float *restrict grad_out, const int32_t *restrict taps, int width, int channels,
                                      int kernel, int stride, int out_height, int out_width, float *restrict grad_in) {
    for (int oy = 0; oy < out_height; oy++) {
        for (int ox = 0; ox < out_width; ox++) {
            const float *restrict g = grad_out + (oy * out_width + ox) * channels;
            const int32_t *restrict tap = taps + (oy * out_width + ox) * channels;
            for (int t = 0; t < kernel * kernel; t++) {
                float *restrict d = grad_in + ((oy * stride + t / kernel) * width + ox * stride + t % kernel) * channels;
                for (int ch = 0; ch < channels; ch++) d[ch] += tap[ch] == t ? g[ch] : 0.0f;
            }
        }
    }
}

CKERNELS_MULTIVERSION(ckernels_maxpool_forward,
                          (const float *restrict src, int width, int channels, int kernel, int stride, int out_height,
                           int out_width, float *restrict dst, int32_t *restrict taps),
                          (src, width, channels, kernel, stride, out_height, out_width, dst, taps))

CKERNELS_MULTIVERSION(ckernels_maxpool_backward,
                          (const float *restrict grad_out, const int32_t *restrict taps, int width, int channels,
                           int kernel, int stride, int out_height, int out_width, float *restrict grad_in),
                          (grad_out, taps, width, channels, kernel, stride, out_height, out_width, grad_in))
