// GELU (x * Phi(x), PyTorch's exact, erf-based form) and its derivative, in plain C that vectorises
// (AVX-512 or AVX2 where the CPU has them, chosen at run time: multiversion.h): libm's erf and exp, called
// element by element from a Swift loop, made GELU networks much slower than ReLU ones (docs/performance.md,
// "GELU").
//
// Phi(x) = 1/2 (1 + erf(x / sqrt 2)) comes from Abramowitz & Stegun 7.1.26, erf(z) = 1 - q(t) e^(-z^2)
// with t = 1 / (1 + p z) for z >= 0 (absolute error below 1.5e-7), and the Gaussian density
// phi(x) = e^(-x^2/2) / sqrt(2 pi) shares its exponential.
#include "multiversion.h"
#include <string.h>

/// e^v for v <= 0: v = n ln 2 + r with |r| <= ln 2 / 2, e^r by its Taylor series to r^7 (relative error
/// below 1e-8), 2^n put into the exponent bits. Below -87 it returns 0.
CKERNELS_BODY float exp_nonpositive(float v) {
    v = v < -87.0f ? -87.0f : v;
    const float n = __builtin_floorf(v * 1.44269504088896341f + 0.5f);
    const float r = (v - n * 0.693145751953125f) - n * 1.42860682030941723e-6f;
    float series = 1.0f / 5040.0f;
    series = series * r + 1.0f / 720.0f;
    series = series * r + 1.0f / 120.0f;
    series = series * r + 1.0f / 24.0f;
    series = series * r + 1.0f / 6.0f;
    series = series * r + 0.5f;
    series = series * r + 1.0f;
    series = series * r + 1.0f;
    const int32_t bits = ((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return v <= -87.0f ? 0.0f : series * scale;
}

/// Phi(x), and phi(x) through `density`.
CKERNELS_BODY float normal_cdf(float x, float *density) {
    const float gaussian = exp_nonpositive(-0.5f * x * x);
    const float z = __builtin_fabsf(x) * 0.70710678118654752f;
    const float t = 1.0f / (1.0f + 0.3275911f * z);
    const float q = ((((1.061405429f * t - 1.453152027f) * t + 1.421413741f) * t - 0.284496736f) * t + 0.254829592f) * t;
    const float tail = 0.5f * q * gaussian;  // Phi(-|x|)
    *density = gaussian * 0.398942280401432678f;
    return x >= 0 ? 1.0f - tail : tail;
}

CKERNELS_BODY void ckernels_gelu_forward_body(const float *restrict x, float *restrict y, size_t count) {
    for (size_t i = 0; i < count; i++) {
        float density;
        y[i] = x[i] * normal_cdf(x[i], &density);
    }
}

CKERNELS_BODY void ckernels_gelu_backward_body(const float *restrict x, const float *restrict dy, float *restrict dx, size_t count) {
    for (size_t i = 0; i < count; i++) {
        float density;
        const float cdf = normal_cdf(x[i], &density);
        dx[i] = dy[i] * (cdf + x[i] * density);
    }
}

CKERNELS_MULTIVERSION(ckernels_gelu_forward, (const float *restrict x, float *restrict y, size_t count), (x, y, count))

CKERNELS_MULTIVERSION(ckernels_gelu_backward,
                          (const float *restrict x, const float *restrict dy, float *restrict dx, size_t count),
                          (x, dy, dx, count))
