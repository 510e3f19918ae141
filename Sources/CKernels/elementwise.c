// Element-wise passes of the residual blocks and ReLUs (ConvolutionEpilogue.swift, ResidualBlock.swift,
// Activation.swift), compiled for each kernel path (multiversion.h): one kernel for what were four Swift loops,
// which Swift compiled for baseline x86-64. Reading the shortcut from memory, not the vector width, is what
// these passes wait on (docs/performance.md, change log), so the wider paths are not faster here.
//
// Each value is computed as the Swift loops computed it: one rounded sum, then max(v, 0) as Swift's max
// takes it (`0 >= v ? 0 : v`, so NaN stays NaN). So the results are the same bit for bit on every path.
#include "multiversion.h"

/// max(v, 0) as Swift computes it.
CKERNELS_BODY float elementwise_rectify(float v) { return 0.0f >= v ? 0.0f : v; }

CKERNELS_BODY void ckernels_rectified_sum_body(const float *a, const float *b, int rectify, long count, float *y) {
    // `y` may be `a` (the epilogue works in place). Each iteration reads its own index before writing it and
    // no other, so vectorising is safe even then; without the pragma the overlap check would run it scalar.
    if (b && rectify) {
#pragma clang loop vectorize(assume_safety)
        for (long i = 0; i < count; i++) y[i] = elementwise_rectify(a[i] + b[i]);
    } else if (b) {
#pragma clang loop vectorize(assume_safety)
        for (long i = 0; i < count; i++) y[i] = a[i] + b[i];
    } else if (rectify) {
#pragma clang loop vectorize(assume_safety)
        for (long i = 0; i < count; i++) y[i] = elementwise_rectify(a[i]);
    } else if (y != a) {
        for (long i = 0; i < count; i++) y[i] = a[i];
    }
}

CKERNELS_MULTIVERSION(ckernels_rectified_sum, (const float *a, const float *b, int rectify, long count, float *y),
                      (a, b, rectify, count, y))

CKERNELS_BODY void ckernels_rectified_gradient_body(const float *restrict dy, const float *restrict y, int guided,
                                                    long count, float *restrict dx) {
    if (guided) {
        for (long i = 0; i < count; i++) dx[i] = y[i] > 0.0f && dy[i] > 0.0f ? dy[i] : 0.0f;
    } else {
        for (long i = 0; i < count; i++) dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
    }
}

CKERNELS_MULTIVERSION(ckernels_rectified_gradient,
                      (const float *restrict dy, const float *restrict y, int guided, long count, float *restrict dx),
                      (dy, y, guided, count, dx))
