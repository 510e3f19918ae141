// The convolution kernels of one instruction-set path, written once over the vector operations of simd.h
// and compiled once per path: convolution_portable.c (CK_WIDTH 1), convolution_avx2.c (8) and
// convolution_avx512.c (16) each include this file with their width, their register blocking and a name
// suffix (CK_NAME), under a target pragma. The arithmetic of each output (which products are summed, in
// which order, fused or not) is the same on every path; only how many outputs a block computes at once
// differs.
//
// Layouts: images channels-last; convolution weights HWIO ([tap][input channel][output channel]), so the
// output channels of one tap and input channel are contiguous; channel counts multiples of 8 on the vector
// paths.
//
// Required before inclusion: simd.h for CK_WIDTH, and
//   CK_NAME(name)      the name of a kernel on this path (name ## _avx2, ...), which the profiler shows;
//   CK_PATH            the path (CKERNELS_AVX2, ...), for the table of kernels this file exports;
//   CK_ROWS            output pixels per block of the direct kernel (rows of a product);
//   CK_VECTORS         vectors of output channels per block (CK_ROWS * CK_VECTORS accumulators);
//   CK_GRADIENT_ROWS   input channels per block of the weight-gradient kernel (x CK_VECTORS accumulators).

#include "internal.h"

// MARK: - Direct convolution

/// One block of the direct convolution: `rows` (1...CK_ROWS) output pixels from `p0` x `nv` vectors of output
/// channels from `co`, the last vector's lanes in `last`. `nv` is a constant at every call, so the loops over
/// the block unroll and the accumulators stay in registers. Rows past `rows` repeat the first and are not
/// stored.
CK_INLINE void conv_block(const float *input, int padded_width, int in_channels, const float *weights, const float *bias,
                          int out_channels, int kernel, int stride, int out_width, int p0, int oy0, int ox0, int rows,
                          int co, const int nv, vmask last, float *output) {
    // The window of each row's pixel; (oy0, ox0) is pixel p0's position (no divisions per block).
    // ox0 < out_width and ox grows by one per row, so one wrap at a time suffices; a loop without an inner loop
    // unrolls fully at -O2 and keeps base[] in registers, not on the stack (the 16-channel products were 1.6x
    // slower with an inner `while` here at SwiftPM's release -O2).
    const float *base[CK_ROWS];
    for (int r = 0, oy = oy0, ox = ox0; r < CK_ROWS; r++, ox++) {
        if (ox >= out_width) {
            ox -= out_width;
            oy++;
        }
        base[r] = r < rows ? input + ((size_t)(oy * stride) * padded_width + ox * stride) * in_channels : base[0];
    }
    vf acc[CK_ROWS][CK_VECTORS];
    for (int v = 0; v < nv; v++) {
        const vf b = bias == NULL ? vzero() : v < nv - 1 ? vload(bias + co + v * VW) : vload_part(bias + co + v * VW, last);
        for (int r = 0; r < CK_ROWS; r++) acc[r][v] = b;
    }
    for (int ky = 0; ky < kernel; ky++) {
        for (int kx = 0; kx < kernel; kx++) {
            const size_t offset = ((size_t)ky * padded_width + kx) * in_channels;
            const float *w = weights + ((size_t)(ky * kernel + kx) * in_channels) * out_channels + co;
            for (int ci = 0; ci < in_channels; ci++) {
                vf wv[CK_VECTORS];
                for (int v = 0; v < nv; v++) {
                    wv[v] = v < nv - 1 ? vload(w + (size_t)ci * out_channels + v * VW)
                                       : vload_part(w + (size_t)ci * out_channels + v * VW, last);
                }
                for (int r = 0; r < CK_ROWS; r++) {
                    const vf x = vset1(base[r][offset + ci]);
                    for (int v = 0; v < nv; v++) acc[r][v] = vfmadd(x, wv[v], acc[r][v]);
                }
            }
        }
    }
    for (int r = 0; r < rows; r++) {
        float *out = output + (size_t)(p0 + r) * out_channels + co;
        for (int v = 0; v < nv - 1; v++) vstore(out + v * VW, acc[r][v]);
        vstore_part(out + (nv - 1) * VW, last, acc[r][nv - 1]);
    }
}

/// The blocks of one direct convolution. Called with constant `kernel` and `stride` for the common shapes, so
/// that the tap loops of conv_block unroll or vanish (1x1: the Winograd products) without relying on the
/// compiler's -O3 loop unswitching; see ckernels_conv_forward.
CK_INLINE void conv_forward_blocks(const float *input, int padded_width, int in_channels, const float *weights,
                                   const float *bias, int out_channels, const int kernel, const int stride, int out_height,
                                   int out_width, float *output) {
    const int pixels = out_height * out_width, block = CK_VECTORS * VW;
    for (int co = 0; co < out_channels; co += block) {
        const int left = out_channels - co < block ? out_channels - co : block;
        const int nv = (left + VW - 1) / VW;
        const vmask last = vmask_lanes(left - (nv - 1) * VW);
        for (int p0 = 0, oy0 = 0, ox0 = 0; p0 < pixels; p0 += CK_ROWS) {
            const int rows = pixels - p0 < CK_ROWS ? pixels - p0 : CK_ROWS;
#define CK_BLOCK(n)                                                                                                   \
    case n:                                                                                                           \
        conv_block(input, padded_width, in_channels, weights, bias, out_channels, kernel, stride, out_width, p0, oy0, \
                   ox0, rows, co, n, last, output);                                                                   \
        break;
            switch (nv) {
                CK_BLOCK(1)
#if CK_VECTORS >= 2
                CK_BLOCK(2)
#endif
#if CK_VECTORS >= 3
                CK_BLOCK(3)
#endif
#if CK_VECTORS >= 4
                CK_BLOCK(4)
#endif
            }
#undef CK_BLOCK
            for (ox0 += CK_ROWS; ox0 >= out_width; ox0 -= out_width) oy0++;
        }
    }
}

static void CK_NAME(ckernels_conv_forward)(const float *input, int padded_width, int in_channels, const float *weights,
                                    const float *bias, int out_channels, int kernel, int stride, int out_height,
                                    int out_width, float *output) {
    // Constant shapes for the 1x1 shortcuts (1x1, stride 1) and the 3x3 layers; the same arithmetic in the same
    // order as the general case. (The Winograd products have a kernel of their own, product_block.)
    if (kernel == 1 && stride == 1) {
        conv_forward_blocks(input, padded_width, in_channels, weights, bias, out_channels, 1, 1, out_height, out_width,
                            output);
    } else if (kernel == 3 && stride == 1) {
        conv_forward_blocks(input, padded_width, in_channels, weights, bias, out_channels, 3, 1, out_height, out_width,
                            output);
    } else {
        conv_forward_blocks(input, padded_width, in_channels, weights, bias, out_channels, kernel, stride, out_height,
                            out_width, output);
    }
}

// MARK: - Weight gradient of "same" convolutions
//
// The images are stacked with zero borders (`x`, rows of `padded_width` pixels) and the output gradients
// placed the same way (`g`, zero outside each image). For tap t = (ky, kx) and grid row r:
//   dW[t][i][o] += x[r + ky * padded_width + kx][i] * g[r + p * padded_width + p][o]
// summed over all rows: border rows of g are zero, which cancels every product that would cross an image
// edge. A block of dW of up to CK_GRADIENT_ROWS input channels x CK_VECTORS vectors of output channels stays in
// registers while the rows stream by in chunks that stay in cache.

#define CK_CHUNK 256

/// dw[i0 ..< i0 + count][o0 ..< o0 + nv vectors] += sum over rows of x[r][i] * g[r][o]; `count` and `nv` are
/// constants at every call, so the loops unroll and the accumulators stay in registers.
CK_INLINE void gradient_block(const float *x, const float *g, int rows, int in_channels, int out_channels, int i0,
                              const int count, int o0, const int nv, vmask last, float *dw) {
    vf acc[CK_GRADIENT_ROWS][CK_VECTORS];
    for (int i = 0; i < count; i++) {
        float *row = dw + (size_t)(i0 + i) * out_channels + o0;
        for (int v = 0; v < nv; v++) acc[i][v] = v < nv - 1 ? vload(row + v * VW) : vload_part(row + v * VW, last);
    }
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * in_channels + i0, *gr = g + (size_t)r * out_channels + o0;
        vf gv[CK_VECTORS];
        for (int v = 0; v < nv; v++) gv[v] = v < nv - 1 ? vload(gr + v * VW) : vload_part(gr + v * VW, last);
        for (int i = 0; i < count; i++) {
            const vf b = vset1(xr[i]);
            for (int v = 0; v < nv; v++) acc[i][v] = vfmadd(b, gv[v], acc[i][v]);
        }
    }
    for (int i = 0; i < count; i++) {
        float *row = dw + (size_t)(i0 + i) * out_channels + o0;
        for (int v = 0; v < nv - 1; v++) vstore(row + v * VW, acc[i][v]);
        vstore_part(row + (nv - 1) * VW, last, acc[i][nv - 1]);
    }
}

/// gradient_block with `count` and `nv` turned into constants.
static void gradient_dispatch(const float *x, const float *g, int rows, int in_channels, int out_channels, int i0,
                              int count, int o0, int nv, vmask last, float *dw) {
#define CK_GRADIENT(c, n)                                                                             \
    if (count == c && nv == n) {                                                                      \
        gradient_block(x, g, rows, in_channels, out_channels, i0, c, o0, n, last, dw);                \
        return;                                                                                       \
    }
#if CK_VECTORS == 1
#define CK_GRADIENT_ROW(c) CK_GRADIENT(c, 1)
#elif CK_VECTORS == 2
#define CK_GRADIENT_ROW(c) CK_GRADIENT(c, 1) CK_GRADIENT(c, 2)
#elif CK_VECTORS == 3
#define CK_GRADIENT_ROW(c) CK_GRADIENT(c, 1) CK_GRADIENT(c, 2) CK_GRADIENT(c, 3)
#else
#define CK_GRADIENT_ROW(c) CK_GRADIENT(c, 1) CK_GRADIENT(c, 2) CK_GRADIENT(c, 3) CK_GRADIENT(c, 4)
#endif
    CK_GRADIENT_ROW(1)
#if CK_GRADIENT_ROWS >= 2
    CK_GRADIENT_ROW(2)
#endif
#if CK_GRADIENT_ROWS >= 3
    CK_GRADIENT_ROW(3)
#endif
#if CK_GRADIENT_ROWS >= 4
    CK_GRADIENT_ROW(4)
#endif
#if CK_GRADIENT_ROWS >= 5
    CK_GRADIENT_ROW(5)
#endif
#if CK_GRADIENT_ROWS >= 6
    CK_GRADIENT_ROW(6)
#endif
#if CK_GRADIENT_ROWS >= 7
    CK_GRADIENT_ROW(7)
#endif
#if CK_GRADIENT_ROWS >= 8
    CK_GRADIENT_ROW(8)
#endif
#if CK_GRADIENT_ROWS > 8
#error "CK_GRADIENT_ROWS above 8 needs more cases"
#endif
#undef CK_GRADIENT_ROW
#undef CK_GRADIENT
}

static void CK_NAME(ckernels_conv_weight_gradient)(const float *x, const float *g, int rows, int padded_width, int padding,
                                            int kernel, int in_channels, int out_channels, float *dw) {
    const int shift = padding * padded_width + padding, block = CK_VECTORS * VW;
    for (int start = 0; start < rows; start += CK_CHUNK) {
        const int count = rows - start < CK_CHUNK ? rows - start : CK_CHUNK;
        const float *gc = g + (size_t)(start + shift) * out_channels;
        for (int t = 0; t < kernel * kernel; t++) {
            const float *xc = x + (size_t)(start + (t / kernel) * padded_width + t % kernel) * in_channels;
            float *dwt = dw + (size_t)t * in_channels * out_channels;
            for (int i0 = 0; i0 < in_channels; i0 += CK_GRADIENT_ROWS) {
                const int inputs = in_channels - i0 < CK_GRADIENT_ROWS ? in_channels - i0 : CK_GRADIENT_ROWS;
                for (int o0 = 0; o0 < out_channels; o0 += block) {
                    const int left = out_channels - o0 < block ? out_channels - o0 : block, nv = (left + VW - 1) / VW;
                    gradient_dispatch(xc, gc, count, in_channels, out_channels, i0, inputs, o0, nv,
                                      vmask_lanes(left - (nv - 1) * VW), dwt);
                }
            }
        }
    }
}

// MARK: - What the Winograd tilings share

/// One vector of channels from `c` of pixel `column` of an image row (`row` NULL for a row outside the image),
/// or zeros outside the image's `width` columns: the transforms read an image as if it had a zero border,
/// without copying it into a bordered buffer.
CK_INLINE vf load_bordered(const float *row, int column, int width, int channels, int c, vmask m) {
    if (row == NULL || column < 0 || column >= width) return vzero();
    return vload_part(row + (size_t)column * channels + c, m);
}

/// load_bordered, then with `normalise` the input's affine map (`scale` and `shift`: its vectors at `c`) and
/// with `rectify` its ReLU (ckernels_input_affine). The border stays zero, as the convolution pads the mapped
/// values. The product and the sum are rounded apart, as in ckernels_bn_apply.
CK_INLINE vf load_mapped(const float *row, int column, int width, int channels, int c, vmask m, const int normalise,
                         const int rectify, vf scale, vf shift) {
#pragma clang fp contract(off)
    if (row == NULL || column < 0 || column >= width) return vzero();
    vf value = vload_part(row + (size_t)column * channels + c, m);
    if (normalise) {
        value = vadd(vmul(value, scale), shift);
        if (rectify) value = vrectify(value);
    }
    return value;
}

/// Calls `transform`, an input transform taking (..., normalise, rectify, scale, shift) after its other
/// arguments, with constant flags for `affine` (NULL: none), so that each case compiles to a loop of its own
/// and the plain one loses nothing.
#define CK_WITH_AFFINE(transform, affine, ...)                                                      \
    do {                                                                                         \
        if ((affine) == NULL) {                                                                  \
            transform(__VA_ARGS__, 0, 0, NULL, NULL);                                            \
        } else if ((affine)->rectify) {                                                          \
            transform(__VA_ARGS__, 1, 1, (affine)->scale, (affine)->shift);                      \
        } else {                                                                                 \
            transform(__VA_ARGS__, 1, 0, (affine)->scale, (affine)->shift);                      \
        }                                                                                        \
    } while (0)

/// The `count` rows of a tile starting at image row `top` (which may be -1 or run past the bottom):
/// pointers into the image, NULL outside it.
CK_INLINE void tile_rows(const float *image, int top, int count, int height, size_t row_stride, const float **rows) {
    for (int i = 0; i < count; i++) {
        const int y = top + i;
        rows[i] = y >= 0 && y < height ? image + (size_t)y * row_stride : NULL;
    }
}

/// One block of a Winograd product: `rows` (1...CK_ROWS) rows of `a` (`in` floats each) times the `nv` vectors
/// of `w`'s columns (`out` floats a row) from `co`, into the rows of `c` (`out` floats each). Each output is the
/// same sum in the same order as conv_block's for a 1x1 convolution (from zero, one fused multiply-add per input
/// channel in order), so it does not depend on which of the two computed it. `in` (for the common widths), `nv`
/// and `rows` are constants at every call: the rows' offsets become immediates on one pointer and the channel
/// loop unrolls, where conv_block keeps a pointer per row and works out each row's pixel.
CK_INLINE void product_block(const float *a, const int in, const float *w, int out, int co, const int nv,
                             const int rows, vmask last, float *c) {
    vf acc[CK_ROWS][CK_VECTORS];
    for (int r = 0; r < rows; r++) {
        for (int v = 0; v < nv; v++) acc[r][v] = vzero();
    }
    const float *wc = w + co;
    for (int ci = 0; ci < in; ci++, wc += out) {
        vf wv[CK_VECTORS];
        for (int v = 0; v < nv; v++) wv[v] = v < nv - 1 ? vload(wc + v * VW) : vload_part(wc + v * VW, last);
        for (int r = 0; r < rows; r++) {
            const vf x = vset1(a[r * in + ci]);
            for (int v = 0; v < nv; v++) acc[r][v] = vfmadd(x, wv[v], acc[r][v]);
        }
    }
    for (int r = 0; r < rows; r++) {
        float *row = c + (size_t)r * out + co;
        for (int v = 0; v < nv - 1; v++) vstore(row + v * VW, acc[r][v]);
        vstore_part(row + (nv - 1) * VW, last, acc[r][nv - 1]);
    }
}

/// Columns co ..< co + nv vectors of c (rows x out) = a (rows x in) * w (in x out): blocks of product_block,
/// then the rows past the last whole block one at a time (the same sums); `nv` is a constant at every call.
CK_INLINE void product_columns(const float *a, int rows, const int in, const float *w, int out, int co, const int nv,
                               vmask last, float *c) {
    int p0 = 0;
    for (; p0 + CK_ROWS <= rows; p0 += CK_ROWS) {
        product_block(a + (size_t)p0 * in, in, w, out, co, nv, CK_ROWS, last, c + (size_t)p0 * out);
    }
    for (; p0 < rows; p0++) product_block(a + (size_t)p0 * in, in, w, out, co, nv, 1, last, c + (size_t)p0 * out);
}

/// c (rows x out) = a (rows x in) * w (in x out), a block of columns at a time, with `in` a constant at the calls
/// for the common widths.
CK_INLINE void product_rows(const float *a, int rows, const int in, const float *w, int out, float *c) {
    const int block = CK_VECTORS * VW;
    for (int co = 0; co < out; co += block) {
        const int left = out - co < block ? out - co : block;
        const int nv = (left + VW - 1) / VW;
        const vmask last = vmask_lanes(left - (nv - 1) * VW);
        switch (nv) {
        case 1: product_columns(a, rows, in, w, out, co, 1, last, c); break;
#if CK_VECTORS >= 2
        case 2: product_columns(a, rows, in, w, out, co, 2, last, c); break;
#endif
#if CK_VECTORS >= 3
        case 3: product_columns(a, rows, in, w, out, co, 3, last, c); break;
#endif
#if CK_VECTORS >= 4
        case 4: product_columns(a, rows, in, w, out, co, 4, last, c); break;
#endif
#if CK_VECTORS > 4
#error "CK_VECTORS above 4 needs more cases"
#endif
        }
    }
}

/// The `planes` products M[xi] = V[xi] (total tiles x in) * U[xi] (in x out); V's planes are `in_step` floats
/// apart, M's `out_step`.
CK_INLINE void winograd_products(int planes, const float *v, size_t in_step, int total, int in_channels,
                                 const float *transformed, int out_channels, float *m, size_t out_step) {
    for (int xi = 0; xi < planes; xi++) {
        const float *a = v + xi * in_step, *w = transformed + (size_t)xi * in_channels * out_channels;
        float *c = m + xi * out_step;
        switch (in_channels) {
        case 16: product_rows(a, total, 16, w, out_channels, c); break;
        case 32: product_rows(a, total, 32, w, out_channels, c); break;
        case 64: product_rows(a, total, 64, w, out_channels, c); break;
        default: product_rows(a, total, in_channels, w, out_channels, c); break;
        }
    }
}

// MARK: - Winograd F(2x2, 3x3)
//
// Each 4x4 input tile d gives a 2x2 output tile: Y = A^T [ (G g G^T) .* (B^T d B) ] A. The 16 element-wise
// products, summed over input channels, are 16 independent matrix products (tiles x in -> tiles x out); the
// transforms are additions over a vector of channels at a time.

/// Input transform of every tile of one image (read with an implicit zero border): V = B^T d B with
/// B^T = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]], written to v[xi][first_tile + tile][c] for
/// xi = 0..15, planes `step` floats apart. Neighbouring tiles of a row share two columns, so the vertical half
/// (B^T d) is computed once per input column and reused by both tiles.
CK_INLINE void winograd2_transform(const float *input, int in_channels, int height, int width, int tiles_x, int tiles,
                                   size_t step, int first_tile, float *v, const int normalise, const int rectify,
                                   const float *scale, const float *shift) {
    const int tiles_y = tiles / tiles_x;
    const size_t row_stride = (size_t)width * in_channels;
    for (int ty = 0; ty < tiles_y; ty++) {
        const float *rows[4];
        tile_rows(input, 2 * ty - 1, 4, height, row_stride, rows);
        for (int c = 0; c < in_channels; c += VW) {
            const vmask m = vmask_at(c, in_channels);
            const vf sc = normalise ? vload_part(scale + c, m) : vzero();
            const vf sh = normalise ? vload_part(shift + c, m) : vzero();
            // t[i][k]: row i of B^T d for column k of the current tile (k = 0..3), kept across tiles.
            vf t[4][4];
#define CK_COLUMN(k, x)                                                        \
    do {                                                                       \
        const vf d0 = load_mapped(rows[0], (x) - 1, width, in_channels, c, m, normalise, rectify, sc, sh); \
        const vf d1 = load_mapped(rows[1], (x) - 1, width, in_channels, c, m, normalise, rectify, sc, sh); \
        const vf d2 = load_mapped(rows[2], (x) - 1, width, in_channels, c, m, normalise, rectify, sc, sh); \
        const vf d3 = load_mapped(rows[3], (x) - 1, width, in_channels, c, m, normalise, rectify, sc, sh); \
        t[0][k] = vsub(d0, d2);                                                \
        t[1][k] = vadd(d1, d2);                                                \
        t[2][k] = vsub(d2, d1);                                                \
        t[3][k] = vsub(d1, d3);                                                \
    } while (0)
            CK_COLUMN(0, 0);
            CK_COLUMN(1, 1);
            for (int tx = 0; tx < tiles_x; tx++) {
                CK_COLUMN(2, 2 * tx + 2);
                CK_COLUMN(3, 2 * tx + 3);
                const int tile = ty * tiles_x + tx;
                // Planes y * 4 + k, walked with one pointer (no multiplications by the plane stride).
                float *plane = v + (size_t)(first_tile + tile) * in_channels + c;
                for (int y = 0; y < 4; y++) {
                    vstore_part(plane, m, vsub(t[y][0], t[y][2]));
                    plane += step;
                    vstore_part(plane, m, vadd(t[y][1], t[y][2]));
                    plane += step;
                    vstore_part(plane, m, vsub(t[y][2], t[y][1]));
                    plane += step;
                    vstore_part(plane, m, vsub(t[y][1], t[y][3]));
                    plane += step;
                    t[y][0] = t[y][2];
                    t[y][1] = t[y][3];
                }
            }
#undef CK_COLUMN
        }
    }
}

/// winograd2_transform with `affine` (NULL: none) applied to each input value as it is read.
static void winograd2_transform_input(const float *input, const ckernels_input_affine *affine, int in_channels,
                                      int height, int width, int tiles_x, int tiles, size_t step, int first_tile,
                                      float *v) {
    CK_WITH_AFFINE(winograd2_transform, affine, input, in_channels, height, width, tiles_x, tiles, step, first_tile, v);
}

/// Output transform of one F(2x2, 3x3) tile: Y = A^T M A plus the bias, A^T = [[1, 1, 1, 0], [0, 1, -1, -1]],
/// from the tile's products at `products` (plane 0; planes `step` floats apart) into tile (ty, tx) of an image.
/// A tile on an odd side's edge keeps only the outputs inside the map.
CK_INLINE void winograd2_output_tile(const float *products, size_t step, const float *bias, int out_channels, int height,
                                     int width, int ty, int tx, float *image_output) {
    const int rows = height - 2 * ty < 2 ? 1 : 2, columns = width - 2 * tx < 2 ? 1 : 2;
    for (int c = 0; c < out_channels; c += VW) {
        const vmask mask = vmask_at(c, out_channels);
        vf q[4][4], t[2][4];
        const float *plane = products + c;
        for (int xi = 0; xi < 16; xi++, plane += step) q[xi / 4][xi % 4] = vload_part(plane, mask);
        for (int x = 0; x < 4; x++) {
            t[0][x] = vadd(vadd(q[0][x], q[1][x]), q[2][x]);
            t[1][x] = vsub(vsub(q[1][x], q[2][x]), q[3][x]);
        }
        const vf b = bias ? vload_part(bias + c, mask) : vzero();
        for (int y = 0; y < rows; y++) {
            float *out = image_output + ((size_t)(2 * ty + y) * width + 2 * tx) * out_channels + c;
            vstore_part(out, mask, vadd(b, vadd(vadd(t[y][0], t[y][1]), t[y][2])));
            if (columns == 2) vstore_part(out + out_channels, mask, vadd(b, vsub(vsub(t[y][1], t[y][2]), t[y][3])));
        }
    }
}

static void CK_NAME(ckernels_winograd_gradient_tiles)(const float *input, const ckernels_input_affine *affine,
                                               const float *grad_out, int in_channels, int out_channels, int height,
                                               int width, int total_tiles, int first_tile, float *v, float *u) {
    const int tiles_x = winograd_tiles(width, 2), tiles = winograd_tiles(height, 2) * tiles_x;
    winograd2_transform_input(input, affine, in_channels, height, width, tiles_x, tiles,
                              ckernels_winograd_plane(total_tiles, in_channels), first_tile, v);
    // Output-gradient transform: A y A^T for each 2x2 tile y, A = [[1, 0], [1, 1], [1, -1], [0, -1]]; a tile
    // past an odd side's edge reads zeros there.
    const size_t step = ckernels_winograd_plane(total_tiles, out_channels);
    for (int tile = 0; tile < tiles; tile++) {
        const int ty = tile / tiles_x, tx = tile % tiles_x;
        const float *rows[2];
        tile_rows(grad_out, 2 * ty, 2, height, (size_t)width * out_channels, rows);
        for (int c = 0; c < out_channels; c += VW) {
            const vmask m = vmask_at(c, out_channels);
            const vf y00 = load_bordered(rows[0], 2 * tx, width, out_channels, c, m);
            const vf y01 = load_bordered(rows[0], 2 * tx + 1, width, out_channels, c, m);
            const vf y10 = load_bordered(rows[1], 2 * tx, width, out_channels, c, m);
            const vf y11 = load_bordered(rows[1], 2 * tx + 1, width, out_channels, c, m);
            const vf zero = vzero();
            // Rows of A y, each with its two columns.
            const vf r[4][2] = {
                {y00, y01},
                {vadd(y00, y10), vadd(y01, y11)},
                {vsub(y00, y10), vsub(y01, y11)},
                {vsub(zero, y10), vsub(zero, y11)},
            };
            float *plane = u + (size_t)(first_tile + tile) * out_channels + c;
            for (int i = 0; i < 4; i++) {
                vstore_part(plane, m, r[i][0]);
                plane += step;
                vstore_part(plane, m, vadd(r[i][0], r[i][1]));
                plane += step;
                vstore_part(plane, m, vsub(r[i][0], r[i][1]));
                plane += step;
                vstore_part(plane, m, vsub(zero, r[i][1]));
                plane += step;
            }
        }
    }
}

/// U = G g G^T for every (in, out) pair of HWIO 3x3 weights ([9][in][out] -> [16][in][out]), with
/// G = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2], [0, 0, 1]]; a vector of pairs at a time.
static void CK_NAME(ckernels_winograd_weights)(const float *weights, int in_channels, int out_channels,
                                               float *transformed) {
    const int plane = in_channels * out_channels;
    const vf half = vset1(0.5f);
    for (int pair = 0; pair < plane; pair += VW) {
        const vmask m = vmask_at(pair, plane);
        vf g[3][3], t[4][3];
        for (int y = 0; y < 3; y++) for (int x = 0; x < 3; x++) g[y][x] = vload_part(weights + (y * 3 + x) * plane + pair, m);
        for (int x = 0; x < 3; x++) {
            t[0][x] = g[0][x];
            t[1][x] = vmul(half, vadd(vadd(g[0][x], g[1][x]), g[2][x]));
            t[2][x] = vmul(half, vadd(vsub(g[0][x], g[1][x]), g[2][x]));
            t[3][x] = g[2][x];
        }
        for (int y = 0; y < 4; y++) {
            vstore_part(transformed + (y * 4 + 0) * plane + pair, m, t[y][0]);
            vstore_part(transformed + (y * 4 + 1) * plane + pair, m, vmul(half, vadd(vadd(t[y][0], t[y][1]), t[y][2])));
            vstore_part(transformed + (y * 4 + 2) * plane + pair, m, vmul(half, vadd(vsub(t[y][0], t[y][1]), t[y][2])));
            vstore_part(transformed + (y * 4 + 3) * plane + pair, m, t[y][2]);
        }
    }
}

/// dW = G^T M G: M ([16][in][out], the gradient of U = G g G^T) back to the HWIO 3x3 weight gradient.
static void CK_NAME(ckernels_winograd_weight_gradient)(const float *m, int in_channels, int out_channels, float *dw) {
    const int plane = in_channels * out_channels;
    const vf half = vset1(0.5f);
    for (int pair = 0; pair < plane; pair += VW) {
        const vmask mask = vmask_at(pair, plane);
        vf q[4][4], t[3][4];
        for (int xi = 0; xi < 16; xi++) q[xi / 4][xi % 4] = vload_part(m + xi * plane + pair, mask);
        for (int x = 0; x < 4; x++) {
            t[0][x] = vadd(q[0][x], vmul(half, vadd(q[1][x], q[2][x])));
            t[1][x] = vmul(half, vsub(q[1][x], q[2][x]));
            t[2][x] = vadd(vmul(half, vadd(q[1][x], q[2][x])), q[3][x]);
        }
        for (int y = 0; y < 3; y++) {
            vstore_part(dw + (y * 3 + 0) * plane + pair, mask, vadd(t[y][0], vmul(half, vadd(t[y][1], t[y][2]))));
            vstore_part(dw + (y * 3 + 1) * plane + pair, mask, vmul(half, vsub(t[y][1], t[y][2])));
            vstore_part(dw + (y * 3 + 2) * plane + pair, mask, vadd(vmul(half, vadd(t[y][1], t[y][2])), t[y][3]));
        }
    }
}

// MARK: - Winograd F(4x4, 3x3)
//
// Each 6x6 input tile d gives a 4x4 output tile: Y = A^T [ (G g G^T) .* (B^T d B) ] A, with 36 element-wise
// products summed over input channels: 36 independent matrix products. The weight gradient uses the same
// tiles: M = sum over tiles of V^T (A dY A^T) per position, dW = G^T M G (winograd4.c).

/// B^T applied to six vectors: B^T = [[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0],
/// [0, -2, -1, 2, 1, 0], [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]].
CK_INLINE void apply_bt(const vf d[6], vf r[6]) {
    const vf two = vset1(2), four = vset1(4);
    const vf d4_minus_d2 = vsub(d[4], d[2]), d3_minus_d1 = vsub(d[3], d[1]);
    r[0] = vfmadd(four, vsub(d[0], d[2]), d4_minus_d2);
    r[1] = vfnmadd(four, vadd(d[1], d[2]), vadd(d[3], d[4]));
    r[2] = vfmadd(four, vsub(d[1], d[2]), vsub(d[4], d[3]));
    r[3] = vfmadd(two, d3_minus_d1, d4_minus_d2);
    r[4] = vfnmadd(two, d3_minus_d1, d4_minus_d2);
    r[5] = vfnmadd(four, d3_minus_d1, vsub(d[5], d[3]));
}

/// A^T applied to six vectors: A^T = [[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0],
/// [0, 1, -1, 8, -8, 1]].
CK_INLINE void apply_at(const vf m[6], vf r[4]) {
    const vf sum12 = vadd(m[1], m[2]), difference12 = vsub(m[1], m[2]);
    const vf sum34 = vadd(m[3], m[4]), difference34 = vsub(m[3], m[4]);
    r[0] = vadd(vadd(m[0], sum12), sum34);
    r[1] = vfmadd(vset1(2), difference34, difference12);
    r[2] = vfmadd(vset1(4), sum34, sum12);
    r[3] = vadd(vfmadd(vset1(8), difference34, difference12), m[5]);
}

/// A applied to four vectors (A = transpose of A^T above, 6 x 4): the output-gradient transform.
CK_INLINE void apply_a(const vf y[4], vf r[6]) {
    const vf two = vset1(2), four = vset1(4), eight = vset1(8);
    const vf even = vadd(y[0], y[2]), odd = vadd(y[1], y[3]);
    const vf even4 = vfmadd(four, y[2], y[0]), odd8 = vfmadd(eight, y[3], vmul(two, y[1]));
    r[0] = y[0];
    r[1] = vadd(even, odd);
    r[2] = vsub(even, odd);
    r[3] = vadd(even4, odd8);
    r[4] = vsub(even4, odd8);
    r[5] = y[3];
}

/// V = B^T d B of every tile of one image (read with an implicit zero border), written to
/// v[xi][first_tile + tile][c] (xi = 0..35, planes `step` floats apart). Neighbouring tiles of a row share two
/// columns, so the vertical half (B^T d) of each input column is computed once.
CK_INLINE void winograd4_transform(const float *input, int in_channels, int height, int width, int tiles_x, int tiles,
                                   size_t step, int first_tile, float *v, const int normalise, const int rectify,
                                   const float *scale, const float *shift) {
    const int tiles_y = tiles / tiles_x;
    const size_t row_stride = (size_t)width * in_channels;
    for (int ty = 0; ty < tiles_y; ty++) {
        const float *rows[6];
        tile_rows(input, 4 * ty - 1, 6, height, row_stride, rows);
        for (int c = 0; c < in_channels; c += VW) {
            const vmask m = vmask_at(c, in_channels);
            const vf sc = normalise ? vload_part(scale + c, m) : vzero();
            const vf sh = normalise ? vload_part(shift + c, m) : vzero();
            vf t[6][6];  // t[i][k]: row i of B^T d for column k of the current tile
#define CK_COLUMN(k, x)                                                                           \
    do {                                                                                          \
        vf d[6], r[6];                                                                            \
        for (int i = 0; i < 6; i++)                                                              \
            d[i] = load_mapped(rows[i], (x) - 1, width, in_channels, c, m, normalise, rectify, sc, sh); \
        apply_bt(d, r);                                                                           \
        for (int i = 0; i < 6; i++) t[i][k] = r[i];                                               \
    } while (0)
            CK_COLUMN(0, 0);
            CK_COLUMN(1, 1);
            for (int tx = 0; tx < tiles_x; tx++) {
                for (int k = 2; k < 6; k++) CK_COLUMN(k, 4 * tx + k);
                // Planes i * 6 + j, walked with one pointer (no multiplications by the plane stride).
                float *plane = v + (size_t)(first_tile + ty * tiles_x + tx) * in_channels + c;
                for (int i = 0; i < 6; i++) {
                    vf r[6];
                    apply_bt(t[i], r);
                    for (int j = 0; j < 6; j++, plane += step) vstore_part(plane, m, r[j]);
                    t[i][0] = t[i][4];
                    t[i][1] = t[i][5];
                }
            }
#undef CK_COLUMN
        }
    }
}

/// winograd4_transform with `affine` (NULL: none) applied to each input value as it is read.
static void winograd4_transform_input(const float *input, const ckernels_input_affine *affine, int in_channels,
                                      int height, int width, int tiles_x, int tiles, size_t step, int first_tile,
                                      float *v) {
    CK_WITH_AFFINE(winograd4_transform, affine, input, in_channels, height, width, tiles_x, tiles, step, first_tile, v);
}

/// Output transform of one F(4x4, 3x3) tile: Y = A^T M A plus the bias, from the tile's products at `products`
/// (plane 0; planes `step` floats apart) into tile (ty, tx) of an image. A tile overhanging the map's edge keeps
/// only the outputs inside.
CK_INLINE void winograd4_output_tile(const float *products, size_t step, const float *bias, int out_channels, int height,
                                     int width, int ty, int tx, float *image_output) {
    const int rows = height - 4 * ty < 4 ? height - 4 * ty : 4, columns = width - 4 * tx < 4 ? width - 4 * tx : 4;
    const size_t step6 = 6 * step;
    for (int c = 0; c < out_channels; c += VW) {
        const vmask mask = vmask_at(c, out_channels);
        vf vertical[4][6];  // A^T applied down each of the six columns
        const float *column_top = products + c;  // plane x of the first row
        for (int x = 0; x < 6; x++, column_top += step) {
            vf column[6], r[4];
            const float *plane = column_top;  // plane y * 6 + x
            for (int y = 0; y < 6; y++, plane += step6) column[y] = vload_part(plane, mask);
            apply_at(column, r);
            for (int y = 0; y < 4; y++) vertical[y][x] = r[y];
        }
        const vf b = bias ? vload_part(bias + c, mask) : vzero();
        for (int y = 0; y < rows; y++) {
            vf r[4];
            apply_at(vertical[y], r);
            float *out = image_output + ((size_t)(4 * ty + y) * width + 4 * tx) * out_channels + c;
            for (int x = 0; x < columns; x++) vstore_part(out + x * out_channels, mask, vadd(b, r[x]));
        }
    }
}

/// The forward pass of either tiling: the input transform of each image, the products, then the output
/// transform of each tile. `n` is the output tile's side (2 or 4), a constant at both calls, so the branches
/// on it fold away.
CK_INLINE void winograd_forward(const int n, const float *input, const ckernels_input_affine *affine, int images,
                                int in_channels, const float *transformed, const float *bias, int out_channels, int height,
                                int width, float *output, float *scratch) {
    const int planes = (n + 2) * (n + 2);
    const int tiles_x = winograd_tiles(width, n), tiles_y = winograd_tiles(height, n), tiles = tiles_y * tiles_x;
    const int total = images * tiles;
    const size_t in_step = ckernels_winograd_plane(total, in_channels), step = ckernels_winograd_plane(total, out_channels);
    float *v = scratch, *m = scratch + (size_t)planes * in_step;
    for (int image = 0; image < images; image++) {
        const float *image_input = input + (size_t)image * height * width * in_channels;
        if (n == 2) {
            winograd2_transform_input(image_input, affine, in_channels, height, width, tiles_x, tiles, in_step,
                                      image * tiles, v);
        } else {
            winograd4_transform_input(image_input, affine, in_channels, height, width, tiles_x, tiles, in_step,
                                      image * tiles, v);
        }
    }
    winograd_products(planes, v, in_step, total, in_channels, transformed, out_channels, m, step);
    for (int image = 0, tile = 0; image < images; image++) {
        float *image_output = output + (size_t)image * height * width * out_channels;
        for (int ty = 0; ty < tiles_y; ty++) {
            for (int tx = 0; tx < tiles_x; tx++, tile++) {
                const float *products = m + (size_t)tile * out_channels;
                if (n == 2) {
                    winograd2_output_tile(products, step, bias, out_channels, height, width, ty, tx, image_output);
                } else {
                    winograd4_output_tile(products, step, bias, out_channels, height, width, ty, tx, image_output);
                }
            }
        }
    }
}

static void CK_NAME(ckernels_winograd_forward)(const float *input, const ckernels_input_affine *affine, int images,
                                               int in_channels, const float *transformed, const float *bias,
                                               int out_channels, int height, int width, float *output, float *scratch) {
    winograd_forward(2, input, affine, images, in_channels, transformed, bias, out_channels, height, width, output, scratch);
}

static void CK_NAME(ckernels_winograd4_forward)(const float *input, const ckernels_input_affine *affine, int images,
                                                int in_channels, const float *transformed, const float *bias,
                                                int out_channels, int height, int width, float *output, float *scratch) {
    winograd_forward(4, input, affine, images, in_channels, transformed, bias, out_channels, height, width, output, scratch);
}

static void CK_NAME(ckernels_winograd4_gradient_tiles)(const float *input, const ckernels_input_affine *affine,
                                                const float *grad_out, int in_channels, int out_channels, int height,
                                                int width, int total_tiles, int first_tile, float *v, float *u) {
    const int tiles_x = winograd_tiles(width, 4), tiles = winograd_tiles(height, 4) * tiles_x;
    winograd4_transform_input(input, affine, in_channels, height, width, tiles_x, tiles,
                              ckernels_winograd_plane(total_tiles, in_channels), first_tile, v);
    // Output-gradient transform: A y A^T for each 4x4 tile y (zeros past the map's edge).
    const size_t step = ckernels_winograd_plane(total_tiles, out_channels);
    for (int tile = 0; tile < tiles; tile++) {
        const int ty = tile / tiles_x, tx = tile % tiles_x;
        const float *rows[4];
        tile_rows(grad_out, 4 * ty, 4, height, (size_t)width * out_channels, rows);
        for (int c = 0; c < out_channels; c += VW) {
            const vmask m = vmask_at(c, out_channels);
            vf columns[4][6];  // A applied down each of the tile's four columns
            for (int x = 0; x < 4; x++) {
                vf y[4], r[6];
                for (int i = 0; i < 4; i++) y[i] = load_bordered(rows[i], 4 * tx + x, width, out_channels, c, m);
                apply_a(y, r);
                for (int i = 0; i < 6; i++) columns[x][i] = r[i];
            }
            float *plane = u + (size_t)(first_tile + tile) * out_channels + c;  // plane i * 6 + j
            for (int i = 0; i < 6; i++) {
                const vf y[4] = {columns[0][i], columns[1][i], columns[2][i], columns[3][i]};
                vf r[6];
                apply_a(y, r);
                for (int j = 0; j < 6; j++, plane += step) vstore_part(plane, m, r[j]);
            }
        }
    }
}

/// The rows of G = [[1/4, 0, 0], [-1/6, -1/6, -1/6], [-1/6, 1/6, -1/6], [1/24, 1/12, 1/6], [1/24, -1/12, 1/6],
/// [0, 0, 1]] applied to (a, b, c).
CK_INLINE void apply_g(vf a, vf b, vf c, vf out[6]) {
    const vf four = vset1(4), six = vset1(6), twelve = vset1(12), twenty_four = vset1(24);
    out[0] = vdiv(a, four);
    out[1] = vdiv(vneg(vadd(vadd(a, b), c)), six);
    out[2] = vdiv(vneg(vadd(vsub(a, b), c)), six);
    out[3] = vadd(vadd(vdiv(a, twenty_four), vdiv(b, twelve)), vdiv(c, six));
    out[4] = vadd(vsub(vdiv(a, twenty_four), vdiv(b, twelve)), vdiv(c, six));
    out[5] = c;
}

/// U = G g G^T for F(4x4, 3x3): HWIO 3x3 weights ([9][in][out]) to 36 matrices ([36][in][out]).
static void CK_NAME(ckernels_winograd4_weights)(const float *weights, int in_channels, int out_channels,
                                                float *transformed) {
    const int plane = in_channels * out_channels;
    for (int pair = 0; pair < plane; pair += VW) {
        const vmask m = vmask_at(pair, plane);
        vf columns[3][6];  // G applied to each column of g
        for (int x = 0; x < 3; x++) {
            apply_g(vload_part(weights + x * plane + pair, m), vload_part(weights + (3 + x) * plane + pair, m),
                    vload_part(weights + (6 + x) * plane + pair, m), columns[x]);
        }
        for (int y = 0; y < 6; y++) {
            vf row[6];
            apply_g(columns[0][y], columns[1][y], columns[2][y], row);
            for (int x = 0; x < 6; x++) vstore_part(transformed + (y * 6 + x) * plane + pair, m, row[x]);
        }
    }
}

/// The rows of G^T (3 x 6) applied to m[0..5].
CK_INLINE void apply_gt(const vf m[6], vf out[3]) {
    const vf four = vset1(4), six = vset1(6), twelve = vset1(12), twenty_four = vset1(24);
    out[0] = vadd(vsub(vdiv(m[0], four), vdiv(vadd(m[1], m[2]), six)), vdiv(vadd(m[3], m[4]), twenty_four));
    out[1] = vadd(vdiv(vsub(m[2], m[1]), six), vdiv(vsub(m[3], m[4]), twelve));
    out[2] = vadd(vdiv(vsub(vsub(vadd(m[3], m[4]), m[1]), m[2]), six), m[5]);
}

/// dW = G^T M G for F(4x4, 3x3): M ([36][in][out]) to the HWIO 3x3 weight gradient.
static void CK_NAME(ckernels_winograd4_weight_gradient)(const float *m, int in_channels, int out_channels, float *dw) {
    const int plane = in_channels * out_channels;
    for (int pair = 0; pair < plane; pair += VW) {
        const vmask mask = vmask_at(pair, plane);
        vf rows[6][3];  // G^T applied along each row of M
        for (int y = 0; y < 6; y++) {
            vf row[6];
            for (int x = 0; x < 6; x++) row[x] = vload_part(m + (y * 6 + x) * plane + pair, mask);
            apply_gt(row, rows[y]);
        }
        for (int x = 0; x < 3; x++) {
            const vf column[6] = {rows[0][x], rows[1][x], rows[2][x], rows[3][x], rows[4][x], rows[5][x]};
            vf out[3];
            apply_gt(column, out);
            for (int y = 0; y < 3; y++) vstore_part(dw + (y * 3 + x) * plane + pair, mask, out[y]);
        }
    }
}

const ckernels_convolution CK_NAME(ckernels_convolution_table) = {
    .path = CK_PATH,
    .forward = CK_NAME(ckernels_conv_forward),
    .weight_gradient = CK_NAME(ckernels_conv_weight_gradient),
    .winograd_forward = CK_NAME(ckernels_winograd_forward),
    .winograd_gradient_tiles = CK_NAME(ckernels_winograd_gradient_tiles),
    .winograd4_forward = CK_NAME(ckernels_winograd4_forward),
    .winograd4_gradient_tiles = CK_NAME(ckernels_winograd4_gradient_tiles),
    .winograd_weights = CK_NAME(ckernels_winograd_weights),
    .winograd4_weights = CK_NAME(ckernels_winograd4_weights),
    .winograd_weight_gradient = CK_NAME(ckernels_winograd_weight_gradient),
    .winograd4_weight_gradient = CK_NAME(ckernels_winograd4_weight_gradient),
};
