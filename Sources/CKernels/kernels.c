// The convolution kernels of each instruction-set path, as tables that a layer looks up once, when it is
// built (ConvKit's ConvolutionPlan), and keeps: a layer never mixes two paths' kernels, whatever path
// is selected later.
#include "internal.h"

static const ckernels_convolution portable = {
    .path = CKERNELS_PORTABLE,
    .forward = ckernels_conv_forward_portable,
};

static const ckernels_convolution avx2 = {
    .path = CKERNELS_AVX2,
    .forward = ckernels_conv_forward_avx2,
    .weight_gradient = ckernels_conv_weight_gradient_avx2,
    .winograd_forward = ckernels_winograd_forward_avx2,
    .winograd_gradient_tiles = ckernels_winograd_gradient_tiles_avx2,
    .winograd4_forward = ckernels_winograd4_forward_avx2,
    .winograd4_gradient_tiles = ckernels_winograd4_gradient_tiles_avx2,
};

const ckernels_convolution *ckernels_convolution_kernels(int path) {
    if (path < CKERNELS_PORTABLE || path > ckernels_best_path()) return NULL;
    // The AVX-512 path has no kernels of its own yet: it runs the AVX2 ones.
    return path == CKERNELS_PORTABLE ? &portable : &avx2;
}

int ckernels_conv_supported(int out_channels) { return out_channels % 8 == 0; }
