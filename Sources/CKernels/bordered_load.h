// Reading an image as if it had a zero border, without copying it into a bordered buffer.
#ifndef CKERNELS_BORDERED_LOAD_H
#define CKERNELS_BORDERED_LOAD_H

#include <immintrin.h>
#include <stddef.h>

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

#endif
