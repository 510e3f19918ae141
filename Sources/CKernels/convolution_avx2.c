// The convolution kernels for AVX2 + FMA (convolution_template.h on __m256). With 16 vector registers a block
// of the direct kernel is 6 output pixels x 16 output channels (12 accumulators; per input channel 2 weight
// loads and 6 broadcasts feed 12 fused multiply-adds), and a block of the weight-gradient kernel 6 input x 16
// output channels.
#include <immintrin.h>
#define CK_WIDTH 8
#define CK_NAME(name) name##_avx2
#define CK_PATH CKERNELS_AVX2
#define CK_ROWS 6
#define CK_VECTORS 2
#define CK_GRADIENT_ROWS 6
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#include "simd.h"
#include "convolution_template.h"
#pragma clang attribute pop
