// ConvScope's C kernels (convolution, Winograd, pooling, batch norm, GELU, int8 products), in versions for each
// instruction-set path, chosen at run time.
#ifndef CKERNELS_H
#define CKERNELS_H

#include <stddef.h>
#include <stdint.h>

/// Rounds K up to the multiple of 16 the int8 kernels work in.
static inline int ckernels_padded_depth(int k) { return (k + 15) & ~15; }

/// Widens int8 weights (n rows of k) to int16 rows of ckernels_padded_depth(k), zero-padded: the
/// layout ckernels_gemm_s8 takes for B.
void ckernels_pack_weights(const int8_t *weights, int n, int k, int16_t *packed);

/// C[m][n] = sum_k A[m][k] * B[n][k] in exact int32 arithmetic.
/// A: m rows of int8 with row stride lda (a multiple of 16, columns k..lda-1 zero);
/// B: packed by ckernels_pack_weights (n rows of lda int16); C: m rows of n int32, row stride ldc.
void ckernels_gemm_s8(const int8_t *a, int m, int lda, const int16_t *packed, int n, int32_t *c, int ldc);

/// Max pooling of one channels-last image: `dst` gets each window's maximum and `taps` which tap of the
/// window (row-major, so at most 256 taps) held it, the first one on ties.
void ckernels_maxpool_forward(const float *src, int width, int channels, int kernel, int stride,
                              int out_height, int out_width, float *dst, uint8_t *taps);

/// Adds each output gradient to the input that won its window; `grad_in` must be zeroed first.
void ckernels_maxpool_backward(const float *grad_out, const uint8_t *taps, int width, int channels, int kernel,
                               int stride, int out_height, int out_width, float *grad_in);

/// y = GELU(x) = x * Phi(x) (the erf form) for `count` values, to about 1e-7 of Phi.
void ckernels_gelu_forward(const float *x, float *y, size_t count);

/// dx = dy * GELU'(x) = dy * (Phi(x) + x * phi(x)) for `count` values.
void ckernels_gelu_backward(const float *x, const float *dy, float *dx, size_t count);

/// y = a + b (a alone where `b` is NULL), then with `rectify` max(y, 0), for `count` values; `y` may be `a`.
void ckernels_rectified_sum(const float *a, const float *b, int rectify, long count, float *y);

/// The gradient through max(., 0) from its output `y`: dx = dy where y > 0, else 0; with `guided`
/// (guided backpropagation) only where dy > 0 too. For `count` values.
void ckernels_rectified_gradient(const float *dy, const float *y, int guided, long count, float *dx);

/// What ckernels_bn_sums adds up per channel.
enum {
    /// sum a, sum a^2 (b, mean, scale and shift unused)
    CKERNELS_BN_SQUARES = 0,
    /// sum a, sum a (b - mean)
    CKERNELS_BN_PRODUCTS = 1,
    /// as CKERNELS_BN_PRODUCTS, each a counted only where b * scale + shift > 0
    CKERNELS_BN_RECTIFIED_PRODUCTS = 2,
};

/// Per-channel sums over `rows` channels-last rows into `totals` (the first sum in [0, channels), the
/// second after it), in float over blocks of 256 rows added into the double totals.
void ckernels_bn_sums(const float *a, const float *b, const float *mean, const float *scale, const float *shift,
                      int mode, long rows, int channels, double *totals);

/// y = x * scale + shift per channel; with `rectify`, max(y, 0); with `skip`, max(y + skip, 0).
void ckernels_bn_apply(const float *x, const float *skip, const float *scale, const float *shift, int rectify,
                       long rows, int channels, float *y);

/// dx = scale (dy' - mean_dy - xhat mean_dy_xhat), xhat = (x - mean) inverse_std, where dy' is dy, or with
/// `rectified` dy only where x * scale + shift > 0.
void ckernels_bn_input_gradient(const float *dy, const float *x, const float *mean, const float *inverse_std,
                                const float *scale, const float *shift, const float *mean_dy,
                                const float *mean_dy_xhat, int rectified, long rows, int channels, float *dx);

/// Whether the direct convolution kernels handle this many output channels (a multiple of 8). A shape rule
/// only: the kernels exist on the AVX2 and wider paths (ckernels_convolution_kernels).
int ckernels_conv_supported(int out_channels);

/// Floats from one transformed Winograd plane (`tiles` rows of `channels`) to the next: one cache line more
/// than the plane, so that the 16 or 36 planes a transform reads or writes together do not all fall into
/// the same L1 set (planes of 4 KiB multiples would, and evict each other).
static inline size_t ckernels_winograd_plane(int tiles, int channels) { return (size_t)tiles * channels + 16; }

/// Whether the Winograd F(2x2, 3x3) kernels handle a 3x3, stride-1, padding-1 layer of this shape (channels
/// in multiples of 8, even sides or both sides at least 5: the edge tiles of an odd side overhang it). A
/// shape rule only: the kernels exist on the AVX2 and wider paths.
int ckernels_winograd_supported(int in_channels, int out_channels, int height, int width);
/// Whether the Winograd F(4x4, 3x3) kernels handle a 3x3, stride-1, padding-1 layer of this shape (channels
/// in multiples of 8, both sides at least 4). A shape rule only, as for F(2x2, 3x3).
int ckernels_winograd4_supported(int in_channels, int out_channels, int height, int width);

/// Floats of scratch space one call of the F(2x2, 3x3) `winograd_forward` on `images` images needs.
size_t ckernels_winograd_scratch(int images, int in_channels, int out_channels, int height, int width);
/// Floats of scratch space one call of the F(4x4, 3x3) `winograd4_forward` on `images` images needs.
size_t ckernels_winograd4_scratch(int images, int in_channels, int out_channels, int height, int width);

/// A batch norm's per-channel map `x * scale + shift`, then with `rectify` the ReLU after it, that the Winograd
/// transforms apply to each input value as they read it (the zero border stays zero): a convolution then reads
/// the batch norm's input instead of its output, which a training pass need not write at all. Each value is
/// rounded as `ckernels_bn_apply` rounds it (the product, then the sum; the ReLU keeps NaN and makes -0 +0), so
/// the convolution sees exactly the values the batch norm would have written. `scale` and `shift` hold one
/// float per input channel.
typedef struct ckernels_input_affine {
    const float *scale;
    const float *shift;
    int rectify;
} ckernels_input_affine;

/// The convolution kernels of one instruction-set path (the portable path's are plain C, which its fp32
/// layers leave for the lowered OpenBLAS product).
typedef struct ckernels_convolution {
    /// The path these kernels are compiled for (CKERNELS_PORTABLE, ...).
    int path;

    /// Direct convolution of one channels-last image: `input` is the image already padded (row length
    /// `padded_width` pixels of `in_channels`), `weights` are HWIO (`[kernel*kernel][in][out]`), `bias`
    /// may be NULL; `output` gets `out_height * out_width` pixels of `out_channels` (a multiple of 8 on the
    /// vector paths).
    void (*forward)(const float *input, int padded_width, int in_channels, const float *weights, const float *bias,
                    int out_channels, int kernel, int stride, int out_height, int out_width, float *output);

    /// Adds the weight gradient of a "same" stride-1 convolution into `dw` ([kernel*kernel][in][out]).
    /// `x`: stacked zero-bordered images on a grid `padded_width` pixels wide, `rows + s` rows readable
    /// (s = padding * (padded_width + 1), the extra rows zero); `g`: the output gradients placed on the
    /// same grid (zero outside the images), `rows + s` rows.
    void (*weight_gradient)(const float *x, const float *g, int rows, int padded_width, int padding, int kernel,
                            int in_channels, int out_channels, float *dw);

    /// 3x3, stride-1, padding-1 convolution of `images` consecutive channels-last images (height x width
    /// pixels each; the transform reads the zero border without a bordered copy) with F(2x2, 3x3)
    /// transformed weights; `bias` may be NULL. The tiles of all the images go through each of the products
    /// together, so the transformed weights are read once per call. `affine`, when not NULL, maps each input
    /// value as it is read.
    void (*winograd_forward)(const float *input, const ckernels_input_affine *affine, int images, int in_channels,
                             const float *transformed, const float *bias, int out_channels, int height, int width,
                             float *output, float *scratch);

    /// The F(2x2, 3x3) pieces of one image's weight gradient (3x3, stride 1, padding 1): its input tiles
    /// V = B^T d B (from the image, height x width x in, bordered as winograd_forward reads it) into 16
    /// planes of total_tiles x in at v, and its output-gradient tiles A dY A^T (dY: height x width x out)
    /// into 16 planes of total_tiles x out at u, both at tile `first_tile`; planes ckernels_winograd_plane
    /// apart. Summing V^T u over tiles for each of the 16 positions gives M, the gradient of the
    /// transformed weights. `affine`, when not NULL, maps each input value as winograd_forward does.
    void (*winograd_gradient_tiles)(const float *input, const ckernels_input_affine *affine, const float *grad_out,
                                    int in_channels, int out_channels, int height, int width, int total_tiles,
                                    int first_tile, float *v, float *u);

    /// winograd_forward with F(4x4, 3x3) tiles and weights from winograd4_weights.
    void (*winograd4_forward)(const float *input, const ckernels_input_affine *affine, int images, int in_channels,
                              const float *transformed, const float *bias, int out_channels, int height, int width,
                              float *output, float *scratch);

    /// winograd_gradient_tiles for F(4x4, 3x3): 36 planes of V = B^T d B and of A dY A^T (4x4 tiles).
    void (*winograd4_gradient_tiles)(const float *input, const ckernels_input_affine *affine, const float *grad_out,
                                     int in_channels, int out_channels, int height, int width, int total_tiles,
                                     int first_tile, float *v, float *u);

    /// Transforms HWIO 3x3 weights ([9][in][out]) into F(2x2, 3x3)'s 16 matrices U = G g G^T ([16][in][out]).
    void (*winograd_weights)(const float *weights, int in_channels, int out_channels, float *transformed);
    /// Transforms HWIO 3x3 weights ([9][in][out]) into F(4x4, 3x3)'s 36 matrices U = G g G^T ([36][in][out]).
    void (*winograd4_weights)(const float *weights, int in_channels, int out_channels, float *transformed);
    /// Maps M ([16][in][out], the gradient of F(2x2, 3x3)'s U = G g G^T) back to the 3x3 weight gradient
    /// G^T M G, HWIO ([9][in][out]).
    void (*winograd_weight_gradient)(const float *m, int in_channels, int out_channels, float *dw);
    /// Maps F(4x4, 3x3)'s M ([36][in][out]) back to the HWIO 3x3 weight gradient G^T M G.
    void (*winograd4_weight_gradient)(const float *m, int in_channels, int out_channels, float *dw);
} ckernels_convolution;

/// The convolution kernels of `path`, or NULL when this CPU cannot run it.
const ckernels_convolution *ckernels_convolution_kernels(int path);

/// The kernels' instruction-set paths, from the portable C that any x86-64 CPU runs up.
enum {
    CKERNELS_PORTABLE = 0,
    CKERNELS_AVX2 = 1,
    CKERNELS_AVX512 = 2,
    /// Not a path: the flag ckernels_has_bf16 reads from the detection result.
    CKERNELS_BF16_FLAG = 0x100,
};

/// The best path this CPU (and its operating system) runs.
int ckernels_best_path(void);
/// Whether the CPU has the AVX-512 bf16 dot products (vdpbf16ps).
int ckernels_has_bf16(void);
/// The path the kernels use: the CPU's best, or what CONVSCOPE_KERNELS (portable, avx2, avx512, auto)
/// asks for when the CPU runs it. Fixed at the first call unless ckernels_set_path changes it.
int ckernels_path(void);
/// 1 when CONVSCOPE_KERNELS names no path or one this CPU cannot run (the best path is used instead).
int ckernels_environment_problem(void);
/// The path a name (portable, avx2, avx512, auto) stands for, or -1.
int ckernels_parse_path(const char *name);
/// Switches the kernels to `path` if the CPU runs it (1), else changes nothing (0). Not for use while
/// another thread runs kernels. Convolution layers keep the path they were built on.
int ckernels_set_path(int path);
/// 1 when the AVX2 (or a wider) path is in use, 0 for the portable one.
int ckernels_uses_avx2(void);

/// fp32 to bf16 exactly as VCVTNEPS2BF16 rounds: to nearest, ties to even; subnormals to a zero of their
/// sign; NaNs stay NaN with the quiet bit set; infinities stay.
uint16_t ckernels_bf16_from_float(float x);
/// bf16 to fp32 (exact).
float ckernels_float_from_bf16(uint16_t h);
/// dst[i] = fp32(bf16(src[i])) for `count` values, rounding as ckernels_bf16_from_float (portable C).
void ckernels_bf16_round(const float *src, float *dst, size_t count);
/// The `rows x columns` matrix at `src` (row stride `ld`) rounded to bf16 values into `dst`, dense.
void ckernels_bf16_round_matrix(int rows, int columns, const float *src, int ld, float *dst);
/// `count` values to bf16 bits, by VCVTNEPS2BF16 when `hardware` (0 and nothing written when the CPU
/// lacks it) or by ckernels_bf16_from_float; returns 1 when converted.
int ckernels_bf16_convert(const float *src, uint16_t *dst, size_t count, int hardware);
/// Row-major C = op(A) op(B) + beta C (op(A) m x k, op(B) k x n; transposed when trans_a / trans_b) with
/// A and B rounded to bf16 and products summed in fp32 (VDPBF16PS). Returns 0, computing nothing, when
/// the CPU lacks avx512_bf16. Single-threaded; packing buffers are per thread.
int ckernels_gemm_bf16(int trans_a, int trans_b, int m, int n, int k, const float *a, int lda, const float *b, int ldb,
                       float beta, float *c, int ldc);

/// "Same" stride-1 convolutions (odd kernel, padding (kernel - 1) / 2, an even number of input channels)
/// with bf16 operands and fp32 sums, read straight from the images instead of lowered (bf16.c says how).
/// Each returns 0, doing nothing, when the CPU lacks avx512_bf16 (or, for the convolution, the shape is not one
/// it takes).
///
/// The words ckernels_conv_bf16_pack_weights writes for `out` output channels of `depth` (taps x input
/// channels) weights each.
size_t ckernels_conv_bf16_packed_words(int out, int depth);
/// Packs OHWI fp32 weights ([out][depth]) as bf16 pairs in panels of 32 output channels.
int ckernels_conv_bf16_pack_weights(const float *ohwi, int out, int depth, uint32_t *packed);
/// Copies NHWC fp32 images into bf16 images with a zero border of `pad` pixels
/// ([images][height + 2 pad][width + 2 pad][channels]).
int ckernels_conv_bf16_border(const float *x, int images, int height, int width, int channels, int pad, uint16_t *out);
/// y ([images][height][width][out], NHWC) = the convolution of the bordered images with the packed weights,
/// plus `bias` when not NULL, clamped at zero when `rectify`. Single-threaded.
int ckernels_conv_bf16_same(const uint16_t *bordered, int images, int height, int width, int channels, int kernel,
                            const uint32_t *packed, int out, const float *bias, int rectify, float *y);

// The worker pool of the parallel loops, in its own header (pool.c).
#include "ckernels_pool.h"

#endif
