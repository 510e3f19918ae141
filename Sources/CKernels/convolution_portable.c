// The convolution kernels in plain C for baseline x86-64 (convolution_template.h with scalar "vectors").
// The portable path lowers its fp32 convolutions into OpenBLAS products instead, which are far faster than
// scalar loops; these kernels give the other paths' algorithms a reference that any CPU runs.
#define CK_WIDTH 1
#define CK_NAME(name) name##_portable
#define CK_PATH CKERNELS_PORTABLE
#define CK_ROWS 4
#define CK_VECTORS 4
#define CK_GRADIENT_ROWS 4
#include "simd.h"
#include "convolution_template.h"
