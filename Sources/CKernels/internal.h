// What the kernel files share inside CKernels: each path's table of convolution kernels
// (convolution_template.h compiled per path) and the Winograd tile count.
#ifndef CKERNELS_INTERNAL_H
#define CKERNELS_INTERNAL_H

#include "ckernels.h"

/// The convolution kernels of each path (convolution_portable.c, convolution_avx2.c, convolution_avx512.c);
/// ckernels_convolution_kernels hands out only those the CPU runs.
extern const ckernels_convolution ckernels_convolution_table_portable;
extern const ckernels_convolution ckernels_convolution_table_avx2;
extern const ckernels_convolution ckernels_convolution_table_avx512;

/// Tiles of `size` outputs along a side of `side` pixels, the last one overhanging an uneven side.
static inline int winograd_tiles(int side, int size) { return (side + size - 1) / size; }

#endif
