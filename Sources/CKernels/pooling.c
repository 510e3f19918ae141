// Max pooling over channels-last images, written in C so the loops vectorise (AVX-512 or AVX2 where the
// CPU has them, chosen at run time: multiversion.h).
#include "multiversion.h"

/// Channels a window is reduced over at a time: the running taps stay 32-bit, as wide as the values they
/// are selected with, so the selection vectorises, and are narrowed to bytes once per block.
enum { MAXPOOL_CHANNEL_BLOCK = 64 };

CKERNELS_BODY void ckernels_maxpool_forward_body(const float *restrict src, int width, int channels, int kernel, int stride,
                                     int out_height, int out_width, float *restrict dst, uint8_t *restrict taps) {
    for (int oy = 0; oy < out_height; oy++) {
        for (int ox = 0; ox < out_width; ox++) {
            const float *first = src + ((oy * stride) * width + ox * stride) * channels;
            for (int c0 = 0; c0 < channels; c0 += MAXPOOL_CHANNEL_BLOCK) {
                int block = channels - c0 < MAXPOOL_CHANNEL_BLOCK ? channels - c0 : MAXPOOL_CHANNEL_BLOCK;
                float *restrict best = dst + (oy * out_width + ox) * channels + c0;
                int32_t running[MAXPOOL_CHANNEL_BLOCK];
                for (int ch = 0; ch < block; ch++) {
                    best[ch] = first[c0 + ch];
                    running[ch] = 0;
                }
                for (int t = 1; t < kernel * kernel; t++) {
                    const float *restrict in =
                        src + ((oy * stride + t / kernel) * width + ox * stride + t % kernel) * channels + c0;
                    for (int ch = 0; ch < block; ch++) {
                        // Strictly greater: ties keep the first maximum, as PyTorch does.
                        int larger = in[ch] > best[ch];
                        best[ch] = larger ? in[ch] : best[ch];
                        running[ch] = larger ? t : running[ch];
                    }
                }
                uint8_t *restrict tap = taps + (oy * out_width + ox) * channels + c0;
                for (int ch = 0; ch < block; ch++) tap[ch] = (uint8_t)running[ch];
            }
        }
    }
}

CKERNELS_BODY void ckernels_maxpool_backward_body(const float *restrict grad_out, const uint8_t *restrict taps, int width, int channels,
                                      int kernel, int stride, int out_height, int out_width, float *restrict grad_in) {
    for (int oy = 0; oy < out_height; oy++) {
        for (int ox = 0; ox < out_width; ox++) {
            const float *restrict g = grad_out + (oy * out_width + ox) * channels;
            const uint8_t *restrict tap = taps + (oy * out_width + ox) * channels;
            for (int t = 0; t < kernel * kernel; t++) {
                float *restrict d = grad_in + ((oy * stride + t / kernel) * width + ox * stride + t % kernel) * channels;
                for (int ch = 0; ch < channels; ch++) d[ch] += (int)tap[ch] == t ? g[ch] : 0.0f;
            }
        }
    }
}

CKERNELS_MULTIVERSION(ckernels_maxpool_forward,
                          (const float *restrict src, int width, int channels, int kernel, int stride, int out_height,
                           int out_width, float *restrict dst, uint8_t *restrict taps),
                          (src, width, channels, kernel, stride, out_height, out_width, dst, taps))

CKERNELS_MULTIVERSION(ckernels_maxpool_backward,
                          (const float *restrict grad_out, const uint8_t *restrict taps, int width, int channels,
                           int kernel, int stride, int out_height, int out_width, float *restrict grad_in),
                          (grad_out, taps, width, channels, kernel, stride, out_height, out_width, grad_in))
