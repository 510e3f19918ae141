// Batch normalisation's loops over channels-last maps (BatchNorm2d.swift), in C so that they vectorise for
// the kernel path in use (multiversion.h). Swift compiles its loops for baseline x86-64, four floats at a
// time with its running sums in memory; these keep a block of channels' sums in vector registers.
//
// Every value is computed with the same operations, in the same order, as the Swift loops they replaced:
// per channel the rows are added one after the other, products are rounded before they are added (no fused
// multiply-add, hence the pragma), and max(v, 0) keeps a NaN, as Swift's max does. So the results are the
// same bit for bit on every path, and the same as before.
#include "multiversion.h"

#pragma clang fp contract(off)

/// Channels whose sums one pass over a block of rows keeps in registers (four AVX-512 registers per sum).
enum { BN_CHANNEL_BLOCK = 64 };
/// Rows added in float before the block's sums join the double totals: as fast as float, as accurate as
/// double over the 100,000+ rows of a batch.
enum { BN_ROW_BLOCK = 256 };

/// max(v, 0) as Swift computes it: `0 >= v ? 0 : v`, so NaN stays NaN.
CKERNELS_BODY float bn_rectify(float v) { return 0.0f >= v ? 0.0f : v; }

/// The sums of one block of rows over `block` channels from `c0` (a constant where the caller can make it
/// one, so the sums stay in registers), added to `totals` (sum in [0, channels), second sum after it).
CKERNELS_BODY void bn_sums_block(const float *restrict a, const float *restrict b, const float *restrict mean,
                                 const float *restrict scale, const float *restrict shift, int mode, long rows,
                                 int channels, int c0, int block, double *restrict totals) {
    float first[BN_CHANNEL_BLOCK], second[BN_CHANNEL_BLOCK];
    for (int ch = 0; ch < block; ch++) first[ch] = second[ch] = 0.0f;
    for (long r = 0; r < rows; r++) {
        const float *restrict ar = a + r * channels + c0;
        if (mode == CKERNELS_BN_SQUARES) {
            for (int ch = 0; ch < block; ch++) {
                first[ch] += ar[ch];
                second[ch] += ar[ch] * ar[ch];
            }
        } else {
            const float *restrict br = b + r * channels + c0;
            for (int ch = 0; ch < block; ch++) {
                float value = ar[ch];
                if (mode == CKERNELS_BN_RECTIFIED_PRODUCTS)
                    value = br[ch] * scale[c0 + ch] + shift[c0 + ch] > 0.0f ? value : 0.0f;
                first[ch] += value;
                second[ch] += value * (br[ch] - mean[c0 + ch]);
            }
        }
    }
    for (int ch = 0; ch < block; ch++) {
        totals[c0 + ch] += (double)first[ch];
        totals[channels + c0 + ch] += (double)second[ch];
    }
}

CKERNELS_BODY void ckernels_bn_sums_body(const float *restrict a, const float *restrict b, const float *restrict mean,
                                         const float *restrict scale, const float *restrict shift, int mode, long rows,
                                         int channels, double *restrict totals) {
    for (int ch = 0; ch < 2 * channels; ch++) totals[ch] = 0.0;
    for (long r = 0; r < rows; r += BN_ROW_BLOCK) {
        const long count = rows - r < BN_ROW_BLOCK ? rows - r : BN_ROW_BLOCK;
        const float *restrict ar = a + r * channels, *restrict br = b ? b + r * channels : b;
        int c0 = 0;
        for (; c0 + BN_CHANNEL_BLOCK <= channels; c0 += BN_CHANNEL_BLOCK)
            bn_sums_block(ar, br, mean, scale, shift, mode, count, channels, c0, BN_CHANNEL_BLOCK, totals);
        // The residual nets' 16- and 32-channel maps get blocks of their own width.
        for (; c0 + 16 <= channels; c0 += 16) bn_sums_block(ar, br, mean, scale, shift, mode, count, channels, c0, 16, totals);
        if (c0 < channels) bn_sums_block(ar, br, mean, scale, shift, mode, count, channels, c0, channels - c0, totals);
    }
}

CKERNELS_MULTIVERSION(ckernels_bn_sums,
                      (const float *restrict a, const float *restrict b, const float *restrict mean,
                       const float *restrict scale, const float *restrict shift, int mode, long rows, int channels,
                       double *restrict totals),
                      (a, b, mean, scale, shift, mode, rows, channels, totals))

CKERNELS_BODY void ckernels_bn_apply_body(const float *restrict x, const float *restrict skip, const float *restrict scale,
                                          const float *restrict shift, int rectify, long rows, int channels,
                                          float *restrict y) {
    for (long r = 0; r < rows; r++) {
        const float *restrict s = x + r * channels;
        float *restrict d = y + r * channels;
        if (skip) {
            const float *restrict a = skip + r * channels;
            for (int ch = 0; ch < channels; ch++) {
                const float normalized = s[ch] * scale[ch] + shift[ch];
                d[ch] = bn_rectify(normalized + a[ch]);
            }
        } else if (rectify) {
            for (int ch = 0; ch < channels; ch++) d[ch] = bn_rectify(s[ch] * scale[ch] + shift[ch]);
        } else {
            for (int ch = 0; ch < channels; ch++) d[ch] = s[ch] * scale[ch] + shift[ch];
        }
    }
}

CKERNELS_MULTIVERSION(ckernels_bn_apply,
                      (const float *restrict x, const float *restrict skip, const float *restrict scale,
                       const float *restrict shift, int rectify, long rows, int channels, float *restrict y),
                      (x, skip, scale, shift, rectify, rows, channels, y))

CKERNELS_BODY void ckernels_bn_input_gradient_body(const float *restrict dy, const float *restrict x,
                                                   const float *restrict mean, const float *restrict inverse_std,
                                                   const float *restrict scale, const float *restrict shift,
                                                   const float *restrict mean_dy, const float *restrict mean_dy_xhat,
                                                   int rectified, long rows, int channels, float *restrict dx) {
    for (long r = 0; r < rows; r++) {
        const float *restrict g = dy + r * channels, *restrict xr = x + r * channels;
        float *restrict o = dx + r * channels;
        if (rectified) {
            for (int ch = 0; ch < channels; ch++) {
                const float xhat = (xr[ch] - mean[ch]) * inverse_std[ch];
                const float masked = xr[ch] * scale[ch] + shift[ch] > 0.0f ? g[ch] : 0.0f;
                o[ch] = scale[ch] * (masked - mean_dy[ch] - xhat * mean_dy_xhat[ch]);
            }
        } else {
            for (int ch = 0; ch < channels; ch++) {
                const float xhat = (xr[ch] - mean[ch]) * inverse_std[ch];
                o[ch] = scale[ch] * (g[ch] - mean_dy[ch] - xhat * mean_dy_xhat[ch]);
            }
        }
    }
}

CKERNELS_MULTIVERSION(ckernels_bn_input_gradient,
                      (const float *restrict dy, const float *restrict x, const float *restrict mean,
                       const float *restrict inverse_std, const float *restrict scale, const float *restrict shift,
                       const float *restrict mean_dy, const float *restrict mean_dy_xhat, int rectified, long rows,
                       int channels, float *restrict dx),
                      (dy, x, mean, inverse_std, scale, shift, mean_dy, mean_dy_xhat, rectified, rows, channels, dx))
