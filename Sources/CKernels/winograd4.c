// Winograd F(4x4, 3x3) convolution (Lavin & Gray 2016, interpolation points 0, +-1, +-2, infinity) for 3x3,
// stride-1, padding-1 layers on maps of at least 4 x 4; tiles that overhang an edge whose side is not a
// multiple of 4 read zeros past it and keep only the outputs inside.
//
// Each 6x6 input tile d gives a 4x4 output tile: Y = A^T [ (G g G^T) .* (B^T d B) ] A, with 36 element-wise
// products summed over input channels: 36 independent matrix products (tiles x in -> tiles x out) on the
// direct kernel's micro-kernel. 36 multiplies per 16 outputs instead of 144 (4x fewer; F(2x2, 3x3) saves
// 2.25x), and 36 transformed values per 16 outputs instead of 64, so the transforms move less memory too.
// The weight gradient uses the same tiles: M = sum over tiles of V^T (A dY A^T) per position, dW = G^T M G.
// The larger constants (up to 8 in A, 5 in B) cost some precision: in fp32 the results are off by about 4e-6
// of their largest value against double-precision sums (F(2x2, 3x3): 3e-7), well inside the 1e-4 tolerances
// against PyTorch.
#include "winograd_common.h"
#include <immintrin.h>

int ckernels_winograd4_supported(int in_channels, int out_channels, int height, int width) {
    return in_channels % 8 == 0 && out_channels % 8 == 0 && height >= 4 && width >= 4;
}

size_t ckernels_winograd4_scratch(int images, int in_channels, int out_channels, int height, int width) {
    const int tiles = images * winograd_tiles(height, 4) * winograd_tiles(width, 4);
    return 36 * (ckernels_winograd_plane(tiles, in_channels) + ckernels_winograd_plane(tiles, out_channels));
}

// The rows of G = [[1/4, 0, 0], [-1/6, -1/6, -1/6], [-1/6, 1/6, -1/6], [1/24, 1/12, 1/6], [1/24, -1/12, 1/6],
// [0, 0, 1]] applied to (a, b, c).
static void apply_g(float a, float b, float c, float out[6]) {
    out[0] = a / 4;
    out[1] = -(a + b + c) / 6;
    out[2] = -(a - b + c) / 6;
    out[3] = a / 24 + b / 12 + c / 6;
    out[4] = a / 24 - b / 12 + c / 6;
    out[5] = c;
}

void ckernels_winograd4_weights(const float *weights, int in_channels, int out_channels, float *transformed) {
    const int plane = in_channels * out_channels;
    for (int pair = 0; pair < plane; pair++) {
        float columns[3][6];  // G applied to each column of g
        for (int x = 0; x < 3; x++) apply_g(weights[x * plane + pair], weights[(3 + x) * plane + pair], weights[(6 + x) * plane + pair], columns[x]);
        for (int y = 0; y < 6; y++) {
            float row[6];
            apply_g(columns[0][y], columns[1][y], columns[2][y], row);
            for (int x = 0; x < 6; x++) transformed[(y * 6 + x) * plane + pair] = row[x];
        }
    }
}

// B^T applied to six vectors: B^T = [[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0],
// [0, -2, -1, 2, 1, 0], [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]].
__attribute__((target("avx2,fma"), always_inline)) static inline void apply_bt(const __m256 d[6], __m256 r[6]) {
    const __m256 two = _mm256_set1_ps(2), four = _mm256_set1_ps(4);
    const __m256 d4_minus_d2 = _mm256_sub_ps(d[4], d[2]), d3_minus_d1 = _mm256_sub_ps(d[3], d[1]);
    r[0] = _mm256_fmadd_ps(four, _mm256_sub_ps(d[0], d[2]), d4_minus_d2);
    r[1] = _mm256_fnmadd_ps(four, _mm256_add_ps(d[1], d[2]), _mm256_add_ps(d[3], d[4]));
    r[2] = _mm256_fmadd_ps(four, _mm256_sub_ps(d[1], d[2]), _mm256_sub_ps(d[4], d[3]));
    r[3] = _mm256_fmadd_ps(two, d3_minus_d1, d4_minus_d2);
    r[4] = _mm256_fnmadd_ps(two, d3_minus_d1, d4_minus_d2);
    r[5] = _mm256_fnmadd_ps(four, d3_minus_d1, _mm256_sub_ps(d[5], d[3]));
}

// A^T applied to six vectors: A^T = [[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0],
// [0, 1, -1, 8, -8, 1]].
__attribute__((target("avx2,fma"), always_inline)) static inline void apply_at(const __m256 m[6], __m256 r[4]) {
    const __m256 sum12 = _mm256_add_ps(m[1], m[2]), difference12 = _mm256_sub_ps(m[1], m[2]);
    const __m256 sum34 = _mm256_add_ps(m[3], m[4]), difference34 = _mm256_sub_ps(m[3], m[4]);
    r[0] = _mm256_add_ps(_mm256_add_ps(m[0], sum12), sum34);
    r[1] = _mm256_fmadd_ps(_mm256_set1_ps(2), difference34, difference12);
    r[2] = _mm256_fmadd_ps(_mm256_set1_ps(4), sum34, sum12);
    r[3] = _mm256_add_ps(_mm256_fmadd_ps(_mm256_set1_ps(8), difference34, difference12), m[5]);
}

// V = B^T d B of every tile of one image (read with an implicit zero border), written to v[xi][first_tile + tile][c]
// (xi = 0..35, planes `step` floats apart). Neighbouring tiles
// of a row share two columns, so the vertical half (B^T d) of each input column is computed once.
__attribute__((target("avx2,fma"))) static void transform_input(
    const float *input, int in_channels, int height, int width, int tiles_x, int tiles, size_t step, int first_tile,
    float *v) {
    const int tiles_y = tiles / tiles_x;
    const size_t row_stride = (size_t)width * in_channels;
    for (int ty = 0; ty < tiles_y; ty++) {
        const float *rows[6];
        tile_rows(input, 4 * ty - 1, 6, height, row_stride, rows);
        for (int c = 0; c < in_channels; c += 8) {
            __m256 t[6][6];  // t[i][k]: row i of B^T d for column k of the current tile
#define COLUMN(k, x)                                                                                     \
    do {                                                                                                 \
        __m256 d[6], r[6];                                                                               \
        for (int i = 0; i < 6; i++) d[i] = load_bordered(rows[i], (x) - 1, width, in_channels, c);      \
        apply_bt(d, r);                                                                                  \
        for (int i = 0; i < 6; i++) t[i][k] = r[i];                                                      \
    } while (0)
            COLUMN(0, 0);
            COLUMN(1, 1);
            for (int tx = 0; tx < tiles_x; tx++) {
                for (int k = 2; k < 6; k++) COLUMN(k, 4 * tx + k);
                float *tile = v + (size_t)(first_tile + ty * tiles_x + tx) * in_channels + c;
                for (int i = 0; i < 6; i++) {
                    __m256 r[6];
                    apply_bt(t[i], r);
                    for (int j = 0; j < 6; j++) _mm256_storeu_ps(tile + (i * 6 + j) * step, r[j]);
                    t[i][0] = t[i][4];
                    t[i][1] = t[i][5];
                }
            }
#undef COLUMN
        }
    }
}

__attribute__((target("avx2,fma"))) void ckernels_winograd4_forward_avx2(
    const float *input, int images, int in_channels, const float *transformed, const float *bias, int out_channels,
    int height, int width, float *output, float *scratch) {
    const int tiles_x = winograd_tiles(width, 4), tiles = winograd_tiles(height, 4) * tiles_x, total = images * tiles;
    const size_t in_step = ckernels_winograd_plane(total, in_channels), step = ckernels_winograd_plane(total, out_channels);
    float *v = scratch, *m = scratch + 36 * in_step;
    for (int image = 0; image < images; image++) {
        transform_input(input + (size_t)image * height * width * in_channels, in_channels, height, width, tiles_x, tiles,
                        in_step, image * tiles, v);
    }
    winograd_products(36, v, in_step, total, in_channels, transformed, out_channels, m, step);
    // Y = A^T M A plus the bias.
    for (int tile = 0; tile < total; tile++) {
        const int local = tile % tiles, ty = local / tiles_x, tx = local % tiles_x;
        float *image_output = output + (size_t)(tile / tiles) * height * width * out_channels;
        for (int c = 0; c < out_channels; c += 8) {
            const float *products = m + (size_t)tile * out_channels + c;
            __m256 vertical[4][6];  // A^T applied down each of the six columns
            for (int x = 0; x < 6; x++) {
                __m256 column[6], r[4];
                for (int y = 0; y < 6; y++) column[y] = _mm256_loadu_ps(products + (y * 6 + x) * step);
                apply_at(column, r);
                for (int y = 0; y < 4; y++) vertical[y][x] = r[y];
            }
            const __m256 b = bias ? _mm256_loadu_ps(bias + c) : _mm256_setzero_ps();
            // A tile overhanging the map's edge keeps only the outputs inside.
            const int rows = height - 4 * ty < 4 ? height - 4 * ty : 4, columns = width - 4 * tx < 4 ? width - 4 * tx : 4;
            for (int y = 0; y < rows; y++) {
                __m256 r[4];
                apply_at(vertical[y], r);
                float *out = image_output + ((size_t)(4 * ty + y) * width + 4 * tx) * out_channels + c;
                for (int x = 0; x < columns; x++) _mm256_storeu_ps(out + x * out_channels, _mm256_add_ps(b, r[x]));
            }
        }
    }
}

// A applied to four vectors (A = transpose of A^T above, 6 x 4): the output-gradient transform.
__attribute__((target("avx2,fma"), always_inline)) static inline void apply_a(const __m256 y[4], __m256 r[6]) {
    const __m256 two = _mm256_set1_ps(2), four = _mm256_set1_ps(4), eight = _mm256_set1_ps(8);
    const __m256 even = _mm256_add_ps(y[0], y[2]), odd = _mm256_add_ps(y[1], y[3]);
    const __m256 even4 = _mm256_fmadd_ps(four, y[2], y[0]), odd8 = _mm256_fmadd_ps(eight, y[3], _mm256_mul_ps(two, y[1]));
    r[0] = y[0];
    r[1] = _mm256_add_ps(even, odd);
    r[2] = _mm256_sub_ps(even, odd);
    r[3] = _mm256_add_ps(even4, odd8);
    r[4] = _mm256_sub_ps(even4, odd8);
    r[5] = y[3];
}

__attribute__((target("avx2,fma"))) void ckernels_winograd4_gradient_tiles_avx2(
    const float *input, const float *grad_out, int in_channels, int out_channels, int height, int width, int total_tiles,
    int first_tile, float *v, float *u) {
    const int tiles_x = winograd_tiles(width, 4), tiles = winograd_tiles(height, 4) * tiles_x;
    transform_input(
        input, in_channels, height, width, tiles_x, tiles, ckernels_winograd_plane(total_tiles, in_channels), first_tile, v);
    // Output-gradient transform: A y A^T for each 4x4 tile y (zeros past the map's edge).
    const size_t step = ckernels_winograd_plane(total_tiles, out_channels);
    for (int tile = 0; tile < tiles; tile++) {
        const int ty = tile / tiles_x, tx = tile % tiles_x;
        const float *rows[4];
        tile_rows(grad_out, 4 * ty, 4, height, (size_t)width * out_channels, rows);
        for (int c = 0; c < out_channels; c += 8) {
            __m256 columns[4][6];  // A applied down each of the tile's four columns
            for (int x = 0; x < 4; x++) {
                __m256 y[4];
                for (int i = 0; i < 4; i++) y[i] = load_bordered(rows[i], 4 * tx + x, width, out_channels, c);
                __m256 r[6];
                apply_a(y, r);
                for (int i = 0; i < 6; i++) columns[x][i] = r[i];
            }
            float *row = u + (size_t)(first_tile + tile) * out_channels + c;
            for (int i = 0; i < 6; i++) {
                const __m256 y[4] = {columns[0][i], columns[1][i], columns[2][i], columns[3][i]};
                __m256 r[6];
                apply_a(y, r);
                for (int j = 0; j < 6; j++) _mm256_storeu_ps(row + (i * 6 + j) * step, r[j]);
            }
        }
    }
}

// The rows of G^T (3 x 6) applied to m[0..5].
static void apply_gt(const float m[6], float out[3]) {
    out[0] = m[0] / 4 - (m[1] + m[2]) / 6 + (m[3] + m[4]) / 24;
    out[1] = (m[2] - m[1]) / 6 + (m[3] - m[4]) / 12;
    out[2] = (m[3] + m[4] - m[1] - m[2]) / 6 + m[5];
}

void ckernels_winograd4_weight_gradient(const float *m, int in_channels, int out_channels, float *dw) {
    // dg = G^T M G, with G as in ckernels_winograd4_weights.
    const int plane = in_channels * out_channels;
    for (int pair = 0; pair < plane; pair++) {
        float rows[6][3];  // G^T applied along each row of M
        for (int y = 0; y < 6; y++) {
            float row[6];
            for (int x = 0; x < 6; x++) row[x] = m[(y * 6 + x) * plane + pair];
            apply_gt(row, rows[y]);
        }
        for (int x = 0; x < 3; x++) {
            const float column[6] = {rows[0][x], rows[1][x], rows[2][x], rows[3][x], rows[4][x], rows[5][x]};
            float out[3];
            apply_gt(column, out);
            for (int y = 0; y < 3; y++) dw[(y * 3 + x) * plane + pair] = out[y];
        }
    }
}
