// Winograd F(2x2, 3x3) convolution (Lavin & Gray 2016) for 3x3, stride-1, padding-1 layers.
// Maps with an odd side end in tiles that overhang it: they read zeros past the edge and keep only the
// outputs inside.
//
// Each 4x4 input tile d gives a 2x2 output tile: Y = A^T [ (G g G^T) .* (B^T d B) ] A. The 16 element-wise
// products, summed over input channels, are 16 independent matrix products (tiles x in -> tiles x out),
// which run on the direct kernel's micro-kernel: 16 multiplies per 4 outputs instead of 36, 2.25 times fewer.
// This file holds the shape rules every path shares; the transforms and the products are in
// convolution_template.h, compiled per path.
#include "internal.h"

int ckernels_winograd_supported(int in_channels, int out_channels, int height, int width) {
    const int sides = (height % 2 == 0 && width % 2 == 0) || (height >= 5 && width >= 5);
    return in_channels % 8 == 0 && out_channels % 8 == 0 && height >= 2 && width >= 2 && sides;
}

size_t ckernels_winograd_scratch(int images, int in_channels, int out_channels, int height, int width) {
    const int tiles = images * winograd_tiles(height, 2) * winograd_tiles(width, 2);
    return 16 * (ckernels_winograd_plane(tiles, in_channels) + ckernels_winograd_plane(tiles, out_channels));
}
