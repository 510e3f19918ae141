// Integer kernels for ConvScope's int8 inference path, with an AVX2 version chosen at run time.
#ifndef CKERNELS_H
#define CKERNELS_H

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
/// window (row-major) held it, the first one on ties.
void ckernels_maxpool_forward(const float *src, int width, int channels, int kernel, int stride,
                              int out_height, int out_width, float *dst, int32_t *taps);

/// Adds each output gradient to the input that won its window; `grad_in` must be zeroed first.
void ckernels_maxpool_backward(const float *grad_out, const int32_t *taps, int width, int channels, int kernel,
                               int stride, int out_height, int out_width, float *grad_in);

/// Whether the direct convolution handles this many output channels (a multiple of 8).
int ckernels_conv_supported(int out_channels);

/// Direct convolution of one channels-last image: `input` is the image already padded (row length
/// `padded_width` pixels of `in_channels`), `weights` are HWIO (`[kernel*kernel][in][out]`), `bias`
/// may be NULL; `output` gets `out_height * out_width` pixels of `out_channels`.
void ckernels_conv_forward(const float *input, int padded_width, int in_channels, const float *weights, const float *bias,
                           int out_channels, int kernel, int stride, int out_height, int out_width, float *output);

/// 1 when the AVX2 kernel is in use, 0 for the portable one.
int ckernels_uses_avx2(void);

#endif
