// Max pooling over channels-last images, written in C so the loops vectorise (AVX-512 or AVX2 where the
// CPU has them, chosen at run time: multiversion.h).
#include "multiversion.h"

/// Channels a window is reduced over at a time: the running maxima and taps of a block stay in registers
/// (8 AVX2 registers, 4 AVX-512 ones), the taps 32-bit, as wide as the values they are selected with, so
/// the selection vectorises; they are stored, the taps narrowed to bytes, once per block.
enum { MAXPOOL_CHANNEL_BLOCK = 32 };

/// One window over `block` channels from `first`, the window's first tap; `block` is a constant where the
/// caller can make it one, so the loops unroll and the block's arrays live in registers.
CKERNELS_BODY void ckernels_maxpool_window(const float *restrict first, int block, int channels, int width, int kernel,
                                           float *restrict dst, uint8_t *restrict taps) {
    float best[MAXPOOL_CHANNEL_BLOCK];
    int32_t running[MAXPOOL_CHANNEL_BLOCK];
    for (int ch = 0; ch < block; ch++) {
        best[ch] = first[ch];
        running[ch] = 0;
    }
    for (int t = 1; t < kernel * kernel; t++) {
        const float *restrict in = first + ((t / kernel) * width + t % kernel) * channels;
        for (int ch = 0; ch < block; ch++) {
            // Strictly greater: ties keep the first maximum, as PyTorch does.
            int larger = in[ch] > best[ch];
            best[ch] = larger ? in[ch] : best[ch];
            running[ch] = larger ? t : running[ch];
        }
    }
    for (int ch = 0; ch < block; ch++) {
        dst[ch] = best[ch];
        taps[ch] = (uint8_t)running[ch];
    }
}

CKERNELS_BODY void ckernels_maxpool_forward_body(const float *restrict src, int width, int channels, int kernel, int stride,
                                     int out_height, int out_width, float *restrict dst, uint8_t *restrict taps) {
    for (int oy = 0; oy < out_height; oy++) {
        for (int ox = 0; ox < out_width; ox++) {
            const float *first = src + ((oy * stride) * width + ox * stride) * channels;
            size_t out = (size_t)(oy * out_width + ox) * channels;
            int c0 = 0;
            for (; c0 + MAXPOOL_CHANNEL_BLOCK <= channels; c0 += MAXPOOL_CHANNEL_BLOCK)
                ckernels_maxpool_window(first + c0, MAXPOOL_CHANNEL_BLOCK, channels, width, kernel, dst + out + c0, taps + out + c0);
            if (c0 < channels)
                ckernels_maxpool_window(first + c0, channels - c0, channels, width, kernel, dst + out + c0, taps + out + c0);
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
