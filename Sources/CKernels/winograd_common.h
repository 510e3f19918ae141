// What the F(2x2, 3x3) and F(4x4, 3x3) kernels share: reading an image as if it had a zero border (without
// copying it into a bordered buffer), and the element-wise products of the transformed tiles.
#ifndef CKERNELS_WINOGRAD_COMMON_H
#define CKERNELS_WINOGRAD_COMMON_H

#include "internal.h"
#include <immintrin.h>
#include <stddef.h>

/// Tiles of `size` outputs along a side of `side` pixels, the last one overhanging an uneven side.
static inline int winograd_tiles(int side, int size) { return (side + size - 1) / size; }

/// Eight channels from `c` of pixel `column` of an image row (`row` NULL for a row outside the image), or
/// zeros outside the image's `width` columns.
__attribute__((target("avx2,fma"), always_inline)) static inline __m256 load_bordered(
    const float *row, int column, int width, int channels, int c) {
    if (row == NULL || column < 0 || column >= width) return _mm256_setzero_ps();
    return _mm256_loadu_ps(row + (size_t)column * channels + c);
}

/// The `count` rows of a tile starting at image row `top` (which may be -1 or run past the bottom):
/// pointers into the image, NULL outside it.
static inline void tile_rows(const float *image, int top, int count, int height, size_t row_stride, const float **rows) {
    for (int i = 0; i < count; i++) {
        const int y = top + i;
        rows[i] = y >= 0 && y < height ? image + (size_t)y * row_stride : NULL;
    }
}

/// The `planes` products M[xi] = V[xi] (total tiles x in) * U[xi] (in x out), each on the direct kernel's
/// micro-kernel; V's planes are `in_step` floats apart, M's `out_step`.
static inline void winograd_products(int planes, const float *v, size_t in_step, int total, int in_channels,
                                     const float *transformed, int out_channels, float *m, size_t out_step) {
    for (int xi = 0; xi < planes; xi++) {
        ckernels_direct_gemm_avx2(v + xi * in_step, total, in_channels, transformed + (size_t)xi * in_channels * out_channels,
                             out_channels, m + xi * out_step);
    }
}

#endif
