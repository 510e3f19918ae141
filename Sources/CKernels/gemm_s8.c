// int8 x int8 -> int32 matrix products for the quantised inference path.
//
// The AVX2 kernel widens 16 activations to int16 (vpmovsxbw) and multiplies them with 16 pre-widened
// int16 weights, adding adjacent products into int32 lanes (vpmaddwd): exact, no saturation, 16
// multiply-adds per instruction. It computes a 2 x 4 block of outputs at a time.
#include "ckernels.h"
#include <immintrin.h>
#include <string.h>

void ckernels_pack_weights(const int8_t *weights, int n, int k, int16_t *packed) {
    int kp = ckernels_padded_depth(k);
    for (int row = 0; row < n; row++) {
        for (int i = 0; i < kp; i++) packed[row * kp + i] = i < k ? weights[row * k + i] : 0;
    }
}

static void gemm_portable(const int8_t *a, int m, int lda, const int16_t *b, int n, int32_t *c, int ldc) {
    for (int i = 0; i < m; i++) {
        for (int j = 0; j < n; j++) {
            int32_t sum = 0;
            for (int k = 0; k < lda; k++) sum += (int32_t)a[i * lda + k] * b[j * lda + k];
            c[i * ldc + j] = sum;
        }
    }
}

__attribute__((target("avx2"))) static inline int32_t hsum(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
    return _mm_cvtsi128_si32(s);
}

__attribute__((target("avx2"))) static inline __m256i widen(const int8_t *p) {
    return _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)p));
}

__attribute__((target("avx2"))) static void gemm_avx2(const int8_t *a, int m, int lda, const int16_t *b, int n, int32_t *c, int ldc) {
    int i = 0;
    for (; i + 2 <= m; i += 2) {
        const int8_t *a0 = a + i * lda, *a1 = a0 + lda;
        int j = 0;
        for (; j + 4 <= n; j += 4) {
            const int16_t *b0 = b + j * lda, *b1 = b0 + lda, *b2 = b1 + lda, *b3 = b2 + lda;
            __m256i s00 = _mm256_setzero_si256(), s01 = s00, s02 = s00, s03 = s00;
            __m256i s10 = s00, s11 = s00, s12 = s00, s13 = s00;
            for (int k = 0; k < lda; k += 16) {
                __m256i x0 = widen(a0 + k), x1 = widen(a1 + k);
                __m256i w0 = _mm256_loadu_si256((const __m256i *)(b0 + k));
                __m256i w1 = _mm256_loadu_si256((const __m256i *)(b1 + k));
                __m256i w2 = _mm256_loadu_si256((const __m256i *)(b2 + k));
                __m256i w3 = _mm256_loadu_si256((const __m256i *)(b3 + k));
                s00 = _mm256_add_epi32(s00, _mm256_madd_epi16(x0, w0));
                s01 = _mm256_add_epi32(s01, _mm256_madd_epi16(x0, w1));
                s02 = _mm256_add_epi32(s02, _mm256_madd_epi16(x0, w2));
                s03 = _mm256_add_epi32(s03, _mm256_madd_epi16(x0, w3));
                s10 = _mm256_add_epi32(s10, _mm256_madd_epi16(x1, w0));
                s11 = _mm256_add_epi32(s11, _mm256_madd_epi16(x1, w1));
                s12 = _mm256_add_epi32(s12, _mm256_madd_epi16(x1, w2));
                s13 = _mm256_add_epi32(s13, _mm256_madd_epi16(x1, w3));
            }
            int32_t *c0 = c + i * ldc + j, *c1 = c0 + ldc;
            c0[0] = hsum(s00); c0[1] = hsum(s01); c0[2] = hsum(s02); c0[3] = hsum(s03);
            c1[0] = hsum(s10); c1[1] = hsum(s11); c1[2] = hsum(s12); c1[3] = hsum(s13);
        }
        for (; j < n; j++) {
            const int16_t *bj = b + j * lda;
            __m256i s0 = _mm256_setzero_si256(), s1 = s0;
            for (int k = 0; k < lda; k += 16) {
                __m256i w = _mm256_loadu_si256((const __m256i *)(bj + k));
                s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(widen(a0 + k), w));
                s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(widen(a1 + k), w));
            }
            c[i * ldc + j] = hsum(s0);
            c[(i + 1) * ldc + j] = hsum(s1);
        }
    }
    for (; i < m; i++) {
        const int8_t *ai = a + i * lda;
        for (int j = 0; j < n; j++) {
            const int16_t *bj = b + j * lda;
            __m256i s = _mm256_setzero_si256();
            for (int k = 0; k < lda; k += 16) s = _mm256_add_epi32(s, _mm256_madd_epi16(widen(ai + k), _mm256_loadu_si256((const __m256i *)(bj + k))));
            c[i * ldc + j] = hsum(s);
        }
    }
}

void ckernels_gemm_s8(const int8_t *a, int m, int lda, const int16_t *packed, int n, int32_t *c, int ldc) {
    if (ckernels_uses_avx2()) gemm_avx2(a, m, lda, packed, n, c, ldc);
    else gemm_portable(a, m, lda, packed, n, c, ldc);
}
