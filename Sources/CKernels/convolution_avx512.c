// The convolution kernels for AVX-512 (F, DQ, BW, VL; convolution_template.h on __m512). Its 32 vector
// registers hold larger blocks than AVX2's 16: the direct kernel computes CK_ROWS output pixels x CK_VECTORS
// vectors of 16 output channels, the weight-gradient kernel CK_GRADIENT_ROWS input channels x as many output
// channels; masks finish a row of channels that is 8 short of a multiple of 16.
#include <immintrin.h>
#define CK_WIDTH 16
#define CK_NAME(name) name##_avx512
#define CK_PATH CKERNELS_AVX512
#define CK_ROWS 8
#define CK_VECTORS 2
#define CK_GRADIENT_ROWS 8
#pragma clang attribute push(__attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma"))), apply_to = function)
#include "simd.h"
#include "convolution_template.h"
#pragma clang attribute pop
