// The convolution kernels of each instruction-set path, as tables that a layer looks up once, when it is
// built (ConvKit's ConvolutionPlan), and keeps: a layer never mixes two paths' kernels, whatever path is
// selected later.
#include "internal.h"

const ckernels_convolution *ckernels_convolution_kernels(int path) {
    if (path < CKERNELS_PORTABLE || path > ckernels_best_path()) return NULL;
    switch (path) {
    case CKERNELS_AVX512: return &ckernels_convolution_table_avx512;
    case CKERNELS_AVX2: return &ckernels_convolution_table_avx2;
    default: return &ckernels_convolution_table_portable;
    }
}

int ckernels_conv_supported(int out_channels) { return out_channels % 8 == 0; }
