// Winograd F(4x4, 3x3) convolution (Lavin & Gray 2016, interpolation points 0, +-1, +-2, infinity) for 3x3,
// stride-1, padding-1 layers on maps of at least 4 x 4; tiles that overhang an edge whose side is not a
// multiple of 4 read zeros past it and keep only the outputs inside.
//
// Each 6x6 input tile d gives a 4x4 output tile: Y = A^T [ (G g G^T) .* (B^T d B) ] A, with 36 element-wise
// products summed over input channels: 36 independent matrix products (tiles x in -> tiles x out) on the
// direct kernel's micro-kernel. 36 multiplies per 16 outputs instead of 144 (4x fewer; F(2x2, 3x3) saves
// 2.25x), and 36 transformed values per 16 outputs instead of 64, so the transforms move less memory too.
// The weight gradient uses the same tiles: M = sum over tiles of V^T (A dY A^T) per position, dW = G^T M G.
// This file holds the shape rules every path shares; the transforms and the products are in
// convolution_template.h, compiled per path.
// The larger constants (up to 8 in A, 5 in B) cost some precision: in fp32 the results are off by about 4e-6
// of their largest value against double-precision sums (F(2x2, 3x3): 3e-7), well inside the 1e-4 tolerances
// against PyTorch.
#include "internal.h"

int ckernels_winograd4_supported(int in_channels, int out_channels, int height, int width) {
    return in_channels % 8 == 0 && out_channels % 8 == 0 && height >= 4 && width >= 4;
}

size_t ckernels_winograd4_scratch(int images, int in_channels, int out_channels, int height, int width) {
    const int tiles = images * winograd_tiles(height, 4) * winograd_tiles(width, 4);
    return 36 * (ckernels_winograd_plane(tiles, in_channels) + ckernels_winograd_plane(tiles, out_channels));
}
