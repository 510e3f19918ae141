// Winograd F(2x2, 3x3) convolution (Lavin & Gray 2016) for 3x3, stride-1, padding-1 layers.
// Maps with an odd side end in tiles that overhang it: they read zeros past the edge and keep only the
// outputs inside.
//
// Each 4x4 input tile d gives a 2x2 output tile: Y = A^T [ (G g G^T) .* (B^T d B) ] A. The 16 element-wise
// products, summed over input channels, are 16 independent matrix products (tiles x in -> tiles x out),
// which run on the direct kernel's micro-kernel; the transforms are additions over 8 channels at a time.
// That is 16 multiplies per 4 outputs instead of 36: 2.25 times fewer.
#include "winograd_common.h"
#include <immintrin.h>

void ckernels_winograd_weights(const float *weights, int in_channels, int out_channels, float *transformed) {
    // U = G g G^T with G = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2], [0, 0, 1]], for every (in, out) pair.
    const int plane = in_channels * out_channels;
    for (int pair = 0; pair < plane; pair++) {
        float g[3][3], t[4][3];
        for (int y = 0; y < 3; y++) for (int x = 0; x < 3; x++) g[y][x] = weights[(y * 3 + x) * plane + pair];
        for (int x = 0; x < 3; x++) {
            t[0][x] = g[0][x];
            t[1][x] = 0.5f * (g[0][x] + g[1][x] + g[2][x]);
            t[2][x] = 0.5f * (g[0][x] - g[1][x] + g[2][x]);
            t[3][x] = g[2][x];
        }
        for (int y = 0; y < 4; y++) {
            transformed[(y * 4 + 0) * plane + pair] = t[y][0];
            transformed[(y * 4 + 1) * plane + pair] = 0.5f * (t[y][0] + t[y][1] + t[y][2]);
            transformed[(y * 4 + 2) * plane + pair] = 0.5f * (t[y][0] - t[y][1] + t[y][2]);
            transformed[(y * 4 + 3) * plane + pair] = t[y][2];
        }
    }
}

int ckernels_winograd_supported(int in_channels, int out_channels, int height, int width) {
    const int sides = (height % 2 == 0 && width % 2 == 0) || (height >= 5 && width >= 5);
    return in_channels % 8 == 0 && out_channels % 8 == 0 && height >= 2 && width >= 2 && sides;
}

size_t ckernels_winograd_scratch(int images, int in_channels, int out_channels, int height, int width) {
    const int tiles = images * winograd_tiles(height, 2) * winograd_tiles(width, 2);
    return 16 * (ckernels_winograd_plane(tiles, in_channels) + ckernels_winograd_plane(tiles, out_channels));
}

// Input transform of every tile of one image (read with an implicit zero border): V = B^T d B with
// B^T = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]], written to v[xi][first_tile + tile][c] for
// xi = 0..15, planes `step` floats apart. Neighbouring tiles of a row share two columns, so
// the vertical half (B^T d) is computed once per input column and reused by both tiles.
__attribute__((target("avx2,fma"))) static void transform_input(
    const float *input, int in_channels, int height, int width, int tiles_x, int tiles, size_t step, int first_tile,
    float *v) {
    const int tiles_y = tiles / tiles_x;
    const size_t row_stride = (size_t)width * in_channels;
    for (int ty = 0; ty < tiles_y; ty++) {
        const float *rows[4];
        tile_rows(input, 2 * ty - 1, 4, height, row_stride, rows);
        for (int c = 0; c < in_channels; c += 8) {
            // t[i][k]: row i of B^T d for column k of the current tile (k = 0..3), kept across tiles.
            __m256 t[4][4];
#define COLUMN(k, x)                                                                                    \
    do {                                                                                                \
        const __m256 d0 = load_bordered(rows[0], (x) - 1, width, in_channels, c);                     \
        const __m256 d1 = load_bordered(rows[1], (x) - 1, width, in_channels, c);                     \
        const __m256 d2 = load_bordered(rows[2], (x) - 1, width, in_channels, c);                     \
        const __m256 d3 = load_bordered(rows[3], (x) - 1, width, in_channels, c);                     \
        t[0][k] = _mm256_sub_ps(d0, d2);                                                                \
        t[1][k] = _mm256_add_ps(d1, d2);                                                                \
        t[2][k] = _mm256_sub_ps(d2, d1);                                                                \
        t[3][k] = _mm256_sub_ps(d1, d3);                                                                \
    } while (0)
            COLUMN(0, 0);
            COLUMN(1, 1);
            for (int tx = 0; tx < tiles_x; tx++) {
                COLUMN(2, 2 * tx + 2);
                COLUMN(3, 2 * tx + 3);
                const int tile = ty * tiles_x + tx;
                for (int y = 0; y < 4; y++) {
                    float *row = v + (size_t)(y * 4) * step + (size_t)(first_tile + tile) * in_channels + c;
                    _mm256_storeu_ps(row, _mm256_sub_ps(t[y][0], t[y][2]));
                    _mm256_storeu_ps(row + step, _mm256_add_ps(t[y][1], t[y][2]));
                    _mm256_storeu_ps(row + 2 * step, _mm256_sub_ps(t[y][2], t[y][1]));
                    _mm256_storeu_ps(row + 3 * step, _mm256_sub_ps(t[y][1], t[y][3]));
                    t[y][0] = t[y][2];
                    t[y][1] = t[y][3];
                }
            }
#undef COLUMN
        }
    }
}

__attribute__((target("avx2,fma"))) void ckernels_winograd_forward_avx2(
    const float *input, int images, int in_channels, const float *transformed, const float *bias, int out_channels,
    int height, int width, float *output, float *scratch) {
    const int tiles_x = winograd_tiles(width, 2), tiles = winograd_tiles(height, 2) * tiles_x, total = images * tiles;
    const size_t in_step = ckernels_winograd_plane(total, in_channels), step = ckernels_winograd_plane(total, out_channels);
    float *v = scratch, *m = scratch + 16 * in_step;
    for (int image = 0; image < images; image++) {
        transform_input(input + (size_t)image * height * width * in_channels, in_channels, height, width, tiles_x, tiles,
                        in_step, image * tiles, v);
    }
    winograd_products(16, v, in_step, total, in_channels, transformed, out_channels, m, step);
    // Output transform: Y = A^T M A, A^T = [[1, 1, 1, 0], [0, 1, -1, -1]], plus the bias.
    for (int tile = 0; tile < total; tile++) {
        const int local = tile % tiles, ty = local / tiles_x, tx = local % tiles_x;
        float *image_output = output + (size_t)(tile / tiles) * height * width * out_channels;
        for (int c = 0; c < out_channels; c += 8) {
            __m256 q[4][4], t[2][4];
            for (int xi = 0; xi < 16; xi++) q[xi / 4][xi % 4] = _mm256_loadu_ps(m + xi * step + (size_t)tile * out_channels + c);
            for (int x = 0; x < 4; x++) {
                t[0][x] = _mm256_add_ps(_mm256_add_ps(q[0][x], q[1][x]), q[2][x]);
                t[1][x] = _mm256_sub_ps(_mm256_sub_ps(q[1][x], q[2][x]), q[3][x]);
            }
            const __m256 b = bias ? _mm256_loadu_ps(bias + c) : _mm256_setzero_ps();
            // A tile on an odd side's edge keeps only the outputs inside the map.
            const int rows = height - 2 * ty < 2 ? 1 : 2, columns = width - 2 * tx < 2 ? 1 : 2;
            for (int y = 0; y < rows; y++) {
                float *out = image_output + ((2 * ty + y) * width + 2 * tx) * out_channels + c;
                _mm256_storeu_ps(out, _mm256_add_ps(b, _mm256_add_ps(_mm256_add_ps(t[y][0], t[y][1]), t[y][2])));
                if (columns == 2)
                    _mm256_storeu_ps(out + out_channels, _mm256_add_ps(b, _mm256_sub_ps(_mm256_sub_ps(t[y][1], t[y][2]), t[y][3])));
            }
        }
    }
}

__attribute__((target("avx2,fma"))) void ckernels_winograd_gradient_tiles_avx2(
    const float *input, const float *grad_out, int in_channels, int out_channels, int height, int width, int total_tiles,
    int first_tile, float *v, float *u) {
    const int tiles_x = winograd_tiles(width, 2), tiles = winograd_tiles(height, 2) * tiles_x;
    transform_input(
        input, in_channels, height, width, tiles_x, tiles, ckernels_winograd_plane(total_tiles, in_channels), first_tile, v);
    // Output-gradient transform: A y A^T for each 2x2 tile y, A = [[1, 0], [1, 1], [1, -1], [0, -1]]; a tile
    // past an odd side's edge reads zeros there.
    const size_t step = ckernels_winograd_plane(total_tiles, out_channels);
    for (int tile = 0; tile < tiles; tile++) {
        const int ty = tile / tiles_x, tx = tile % tiles_x;
        const float *rows[2];
        tile_rows(grad_out, 2 * ty, 2, height, (size_t)width * out_channels, rows);
        for (int c = 0; c < out_channels; c += 8) {
            const __m256 y00 = load_bordered(rows[0], 2 * tx, width, out_channels, c);
            const __m256 y01 = load_bordered(rows[0], 2 * tx + 1, width, out_channels, c);
            const __m256 y10 = load_bordered(rows[1], 2 * tx, width, out_channels, c);
            const __m256 y11 = load_bordered(rows[1], 2 * tx + 1, width, out_channels, c);
            const __m256 zero = _mm256_setzero_ps();
            // Rows of A y, each with its two columns.
            const __m256 r[4][2] = {
                {y00, y01},
                {_mm256_add_ps(y00, y10), _mm256_add_ps(y01, y11)},
                {_mm256_sub_ps(y00, y10), _mm256_sub_ps(y01, y11)},
                {_mm256_sub_ps(zero, y10), _mm256_sub_ps(zero, y11)},
            };
            for (int i = 0; i < 4; i++) {
                float *row = u + (size_t)(i * 4) * step + (size_t)(first_tile + tile) * out_channels + c;
                _mm256_storeu_ps(row, r[i][0]);
                _mm256_storeu_ps(row + step, _mm256_add_ps(r[i][0], r[i][1]));
                _mm256_storeu_ps(row + 2 * step, _mm256_sub_ps(r[i][0], r[i][1]));
                _mm256_storeu_ps(row + 3 * step, _mm256_sub_ps(zero, r[i][1]));
            }
        }
    }
}

void ckernels_winograd_weight_gradient(const float *m, int in_channels, int out_channels, float *dw) {
    // dg = G^T M G, with G as in ckernels_winograd_weights.
    const int plane = in_channels * out_channels;
    for (int pair = 0; pair < plane; pair++) {
        float q[4][4], t[3][4];
        for (int xi = 0; xi < 16; xi++) q[xi / 4][xi % 4] = m[xi * plane + pair];
        for (int x = 0; x < 4; x++) {
            t[0][x] = q[0][x] + 0.5f * (q[1][x] + q[2][x]);
            t[1][x] = 0.5f * (q[1][x] - q[2][x]);
            t[2][x] = 0.5f * (q[1][x] + q[2][x]) + q[3][x];
        }
        for (int y = 0; y < 3; y++) {
            dw[(y * 3 + 0) * plane + pair] = t[y][0] + 0.5f * (t[y][1] + t[y][2]);
            dw[(y * 3 + 1) * plane + pair] = 0.5f * (t[y][1] - t[y][2]);
            dw[(y * 3 + 2) * plane + pair] = 0.5f * (t[y][1] + t[y][2]) + t[y][3];
        }
    }
}
