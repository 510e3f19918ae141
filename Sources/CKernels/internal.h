// The per-path convolution kernels behind the tables of ckernels_convolution_kernels (kernels.c): each is
// compiled for one instruction set, and only a table for a path the CPU runs hands them out.
#ifndef CKERNELS_INTERNAL_H
#define CKERNELS_INTERNAL_H

#include "ckernels.h"

void ckernels_conv_forward_portable(const float *input, int padded_width, int in_channels, const float *weights,
                                    const float *bias, int out_channels, int kernel, int stride, int out_height,
                                    int out_width, float *output);
void ckernels_conv_forward_avx2(const float *input, int padded_width, int in_channels, const float *weights,
                                const float *bias, int out_channels, int kernel, int stride, int out_height, int out_width,
                                float *output);
/// output (rows x out) = input (rows x in) * weights (in x out), with the direct kernel's AVX2 micro-kernel.
void ckernels_direct_gemm_avx2(const float *input, int rows, int in_channels, const float *weights, int out_channels,
                               float *output);
void ckernels_conv_weight_gradient_avx2(const float *x, const float *g, int rows, int padded_width, int padding, int kernel,
                                        int in_channels, int out_channels, float *dw);
void ckernels_winograd_forward_avx2(const float *input, int images, int in_channels, const float *transformed,
                                    const float *bias, int out_channels, int height, int width, float *output,
                                    float *scratch);
void ckernels_winograd_gradient_tiles_avx2(const float *input, const float *grad_out, int in_channels, int out_channels,
                                           int height, int width, int total_tiles, int first_tile, float *v, float *u);
void ckernels_winograd4_forward_avx2(const float *input, int images, int in_channels, const float *transformed,
                                     const float *bias, int out_channels, int height, int width, float *output,
                                     float *scratch);
void ckernels_winograd4_gradient_tiles_avx2(const float *input, const float *grad_out, int in_channels, int out_channels,
                                            int height, int width, int total_tiles, int first_tile, float *v, float *u);

#endif
