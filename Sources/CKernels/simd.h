// The vector operations the width-generic kernels (convolution_template.h) are written in, for the width
// the including file chooses with CK_WIDTH: 1 (plain C for the portable path), 8 (AVX2 + FMA, __m256) or
// 16 (AVX-512, __m512). One kernel source thus serves every path; only the register blocking (CK_ROWS,
// CK_VECTORS, CK_GRADIENT_ROWS) differs, because AVX-512 has 32 vector registers where AVX2 has 16.
//
// Channel counts are multiples of 8, so an AVX2 vector is always full; an AVX-512 vector may be half full
// at the end of a row of channels, which the masked loads and stores (vload_part, vstore_part) handle.
// Include once per translation unit, after <immintrin.h> and inside the target pragma.
#ifndef CKERNELS_SIMD_H
#define CKERNELS_SIMD_H

#include <stdint.h>
#include <string.h>

#define CK_INLINE static inline __attribute__((always_inline))

#if CK_WIDTH == 16
typedef __m512 vf;
typedef __mmask16 vmask;
CK_INLINE vf vzero(void) { return _mm512_setzero_ps(); }
CK_INLINE vf vset1(float a) { return _mm512_set1_ps(a); }
CK_INLINE vf vload(const float *p) { return _mm512_loadu_ps(p); }
CK_INLINE void vstore(float *p, vf a) { _mm512_storeu_ps(p, a); }
CK_INLINE vf vadd(vf a, vf b) { return _mm512_add_ps(a, b); }
CK_INLINE vf vsub(vf a, vf b) { return _mm512_sub_ps(a, b); }
CK_INLINE vf vmul(vf a, vf b) { return _mm512_mul_ps(a, b); }
CK_INLINE vf vdiv(vf a, vf b) { return _mm512_div_ps(a, b); }
CK_INLINE vf vneg(vf a) { return _mm512_xor_ps(a, _mm512_set1_ps(-0.0f)); }
CK_INLINE vf vmax(vf a, vf b) { return _mm512_max_ps(a, b); }
/// `0 >= a ? 0 : a` per lane, as Swift's `max(a, 0)` and batchnorm.c compute it: NaN kept, -0 becomes +0
/// (`vmax` would differ in both).
CK_INLINE vf vrectify(vf a) { return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(a, _mm512_setzero_ps(), _CMP_NLE_UQ), a); }
/// a * b + c, rounded once.
CK_INLINE vf vfmadd(vf a, vf b, vf c) { return _mm512_fmadd_ps(a, b, c); }
/// c - a * b, rounded once.
CK_INLINE vf vfnmadd(vf a, vf b, vf c) { return _mm512_fnmadd_ps(a, b, c); }
/// The lanes below `lanes` (1...16).
CK_INLINE vmask vmask_lanes(int lanes) { return (vmask)(lanes >= 16 ? 0xFFFF : (1u << lanes) - 1); }
CK_INLINE vf vload_part(const float *p, vmask m) { return _mm512_maskz_loadu_ps(m, p); }
CK_INLINE void vstore_part(float *p, vmask m, vf a) { _mm512_mask_storeu_ps(p, m, a); }
#elif CK_WIDTH == 8
typedef __m256 vf;
typedef int vmask;
CK_INLINE vf vzero(void) { return _mm256_setzero_ps(); }
CK_INLINE vf vset1(float a) { return _mm256_set1_ps(a); }
CK_INLINE vf vload(const float *p) { return _mm256_loadu_ps(p); }
CK_INLINE void vstore(float *p, vf a) { _mm256_storeu_ps(p, a); }
CK_INLINE vf vadd(vf a, vf b) { return _mm256_add_ps(a, b); }
CK_INLINE vf vsub(vf a, vf b) { return _mm256_sub_ps(a, b); }
CK_INLINE vf vmul(vf a, vf b) { return _mm256_mul_ps(a, b); }
CK_INLINE vf vdiv(vf a, vf b) { return _mm256_div_ps(a, b); }
CK_INLINE vf vneg(vf a) { return _mm256_xor_ps(a, _mm256_set1_ps(-0.0f)); }
CK_INLINE vf vmax(vf a, vf b) { return _mm256_max_ps(a, b); }
CK_INLINE vf vrectify(vf a) { return _mm256_and_ps(_mm256_cmp_ps(a, _mm256_setzero_ps(), _CMP_NLE_UQ), a); }
CK_INLINE vf vfmadd(vf a, vf b, vf c) { return _mm256_fmadd_ps(a, b, c); }
CK_INLINE vf vfnmadd(vf a, vf b, vf c) { return _mm256_fnmadd_ps(a, b, c); }
// Channel counts are multiples of 8: an AVX2 vector is always full.
CK_INLINE vmask vmask_lanes(int lanes) { return lanes; }
CK_INLINE vf vload_part(const float *p, vmask m) { (void)m; return _mm256_loadu_ps(p); }
CK_INLINE void vstore_part(float *p, vmask m, vf a) { (void)m; _mm256_storeu_ps(p, a); }
#elif CK_WIDTH == 1
typedef float vf;
typedef int vmask;
CK_INLINE vf vzero(void) { return 0.0f; }
CK_INLINE vf vset1(float a) { return a; }
CK_INLINE vf vload(const float *p) { return *p; }
CK_INLINE void vstore(float *p, vf a) { *p = a; }
CK_INLINE vf vadd(vf a, vf b) { return a + b; }
CK_INLINE vf vsub(vf a, vf b) { return a - b; }
CK_INLINE vf vmul(vf a, vf b) { return a * b; }
CK_INLINE vf vdiv(vf a, vf b) { return a / b; }
CK_INLINE vf vneg(vf a) { return -a; }
CK_INLINE vf vmax(vf a, vf b) { return a > b ? a : b; }
CK_INLINE vf vrectify(vf a) { return 0.0f >= a ? 0.0f : a; }
// Baseline x86-64 has no fused multiply-add: the product is rounded, then the sum.
CK_INLINE vf vfmadd(vf a, vf b, vf c) { return a * b + c; }
CK_INLINE vf vfnmadd(vf a, vf b, vf c) { return c - a * b; }
CK_INLINE vmask vmask_lanes(int lanes) { return lanes; }
CK_INLINE vf vload_part(const float *p, vmask m) { (void)m; return *p; }
CK_INLINE void vstore_part(float *p, vmask m, vf a) { (void)m; *p = a; }
#else
#error "CK_WIDTH must be 1, 8 or 16"
#endif

/// Lanes per vector.
#define VW CK_WIDTH

/// The mask of the vector at channel `c` of a row of `channels`: full but for a half-full last one.
CK_INLINE vmask vmask_at(int c, int channels) { return vmask_lanes(channels - c < VW ? channels - c : VW); }

#endif
