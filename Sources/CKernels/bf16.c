// bf16 (bfloat16) conversion and the matrix product with bf16 operands and fp32 accumulation that the
// engine's `--precision bf16` mode runs its convolution and fully connected products through.
//
// The conversion rounds exactly as VCVTNEPS2BF16 does (checked against the instruction on this CPU
// family, and by the tests on any CPU that has it): round to nearest even, fp32 subnormals to a zero of
// their sign (the instruction treats input denormals as zero), NaNs kept NaN with the quiet bit set and
// their upper payload bits, infinities kept. A bf16 x bf16 product is exact in fp32 (8-bit significands),
// so a product of bf16-rounded operands summed in fp32 differs from VDPBF16PS's only by the order of the
// fp32 additions (and VDPBF16PS's flushing of results under 2^-126, which no training value reaches).
#include "ckernels.h"
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

uint16_t ckernels_bf16_from_float(float x) {
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    const uint32_t magnitude = u & 0x7FFFFFFFu;
    if (magnitude > 0x7F800000u) return (uint16_t)((u >> 16) | 0x0040u);   // NaN: quiet, payload truncated
    if (magnitude < 0x00800000u) return (uint16_t)((u >> 16) & 0x8000u);   // zero, subnormal: signed zero
    u += 0x7FFFu + ((u >> 16) & 1u);                                        // to nearest, ties to even
    return (uint16_t)(u >> 16);
}

float ckernels_float_from_bf16(uint16_t h) {
    const uint32_t u = (uint32_t)h << 16;
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/// The branch-free form of ckernels_bf16_from_float, which the compiler vectorises.
static inline uint32_t rounded_bits(uint32_t u) {
    const uint32_t magnitude = u & 0x7FFFFFFFu;
    const uint32_t nan = ((u >> 16) | 0x0040u) << 16;
    const uint32_t zero = u & 0x80000000u;
    const uint32_t normal = ((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16) << 16;
    return magnitude > 0x7F800000u ? nan : magnitude < 0x00800000u ? zero : normal;
}

void ckernels_bf16_round(const float *src, float *dst, size_t count) {
    for (size_t i = 0; i < count; i++) {
        uint32_t u;
        memcpy(&u, src + i, sizeof u);
        u = rounded_bits(u);
        memcpy(dst + i, &u, sizeof u);
    }
}

void ckernels_bf16_round_matrix(int rows, int columns, const float *src, int ld, float *dst) {
    for (int r = 0; r < rows; r++) ckernels_bf16_round(src + (size_t)r * ld, dst + (size_t)r * columns, (size_t)columns);
}

// ---- AVX-512 BF16 ---------------------------------------------------------------------------------------

#define BF16_TARGET __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,avx512bf16,avx2,fma")))

BF16_TARGET static void convert_hardware(const float *src, uint16_t *dst, size_t count) {
    size_t i = 0;
    for (; i + 16 <= count; i += 16) {
        __m256bh h = _mm512_cvtneps_pbh(_mm512_loadu_ps(src + i));
        _mm256_storeu_si256((__m256i *)(dst + i), (__m256i)h);
    }
    if (i < count) {
        const __mmask16 mask = (__mmask16)((1u << (count - i)) - 1);
        __m256bh h = _mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(mask, src + i));
        _mm256_mask_storeu_epi16(dst + i, mask, (__m256i)h);
    }
}

int ckernels_bf16_convert(const float *src, uint16_t *dst, size_t count, int hardware) {
    if (hardware) {
        if (!ckernels_has_bf16()) return 0;
        convert_hardware(src, dst, count);
        return 1;
    }
    for (size_t i = 0; i < count; i++) dst[i] = ckernels_bf16_from_float(src[i]);
    return 1;
}

// The product C = op(A) op(B) + beta C in GotoBLAS's blocking: K in blocks of KC (the pairs VDPBF16PS
// multiplies), B's block packed into panels of NR columns (a panel, KC x NR bf16, stays in L1), A's rows
// in blocks of MC packed as bf16 rows (in L2), an MR x NR micro-kernel of 16 accumulators. Packing
// converts to bf16, so each operand is rounded once per block rather than once per use.
enum { MR = 8, NR = 32, KC = 256, MC = 128 };

/// Per-thread packing buffers, grown as needed and kept: the engine's workers are long-lived threads.
static __thread uint32_t *packed_a = NULL, *packed_b = NULL;
static __thread size_t packed_a_size = 0, packed_b_size = 0;

static uint32_t *reserve(uint32_t **buffer, size_t *size, size_t count) {
    if (*size < count) {
        free(*buffer);
        *buffer = aligned_alloc(64, ((count * sizeof(uint32_t)) + 63) & ~(size_t)63);
        *size = *buffer ? count : 0;
    }
    return *buffer;
}

/// 16 words pairing row r0's values (low half) with row r1's (high half), both rounded to bf16; masked lanes
/// and, without `second`, the high halves are zero. The packing of both operands builds its words this way.
BF16_TARGET static inline __m512i paired_words(const float *r0, const float *r1, __mmask16 mask, int second) {
    __m256bh lo = _mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(mask, r0));
    __m256bh hi = _mm512_cvtneps_pbh(second ? _mm512_maskz_loadu_ps(mask, r1) : _mm512_setzero_ps());
    return _mm512_or_si512(_mm512_cvtepu16_epi32((__m256i)lo), _mm512_slli_epi32(_mm512_cvtepu16_epi32((__m256i)hi), 16));
}

/// Packs B's rows k0..k0+kc (pairs of rows interleaved) into panels of NR columns: panel q holds, for each
/// pair p, NR 32-bit words (bf16 of row 2p in the low half, row 2p+1 in the high half); zero-padded.
BF16_TARGET static void pack_b(int trans, const float *b, int ldb, int k0, int kc, int n, uint32_t *out) {
    const int pairs = (kc + 1) / 2, panels = (n + NR - 1) / NR;
    for (int q = 0; q < panels; q++) {
        uint32_t *panel = out + (size_t)q * pairs * NR;
        const int j0 = q * NR, width = n - j0 < NR ? n - j0 : NR;
        if (!trans) {
            // Rows of B are contiguous in j: convert 16 columns of two rows and interleave them.
            for (int p = 0; p < pairs; p++) {
                const int k = k0 + 2 * p;
                const float *r0 = b + (size_t)k * ldb + j0, *r1 = r0 + ldb;
                const int second = 2 * p + 1 < kc;
                for (int h = 0; h < NR; h += 16) {
                    const int lanes = width - h;
                    __m512i word = _mm512_setzero_si512();
                    if (lanes > 0) {
                        const __mmask16 mask = lanes >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << lanes) - 1);
                        word = paired_words(r0 + h, r1 + h, mask, second);
                    }
                    _mm512_storeu_si512(panel + (size_t)p * NR + h, word);
                }
            }
        } else {
            // Columns of B are contiguous in k: each pair is two adjacent floats.
            memset(panel, 0, (size_t)pairs * NR * sizeof(uint32_t));
            for (int j = 0; j < width; j++) {
                const float *column = b + (size_t)(j0 + j) * ldb + k0;
                int p = 0;
                for (; 2 * p + 32 <= kc; p += 16) {
                    __m512bh h = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(column + 2 * p + 16), _mm512_loadu_ps(column + 2 * p));
                    _mm512_i32scatter_epi32(panel + (size_t)p * NR + j, _mm512_setr_epi32(0, NR, 2 * NR, 3 * NR, 4 * NR, 5 * NR,
                        6 * NR, 7 * NR, 8 * NR, 9 * NR, 10 * NR, 11 * NR, 12 * NR, 13 * NR, 14 * NR, 15 * NR), (__m512i)h, 4);
                }
                for (; p < pairs; p++) {
                    const uint32_t lo = ckernels_bf16_from_float(column[2 * p]);
                    const uint32_t hi = 2 * p + 1 < kc ? ckernels_bf16_from_float(column[2 * p + 1]) : 0;
                    panel[(size_t)p * NR + j] = lo | (hi << 16);
                }
            }
        }
    }
}

/// Packs A's rows i0..i0+mc, columns k0..k0+kc, as bf16 rows of `pairs` words (rounded up to MR rows,
/// the extra rows and the odd column zero).
BF16_TARGET static void pack_a(int trans, const float *a, int lda, int i0, int mc, int k0, int kc, uint32_t *out) {
    const int pairs = (kc + 1) / 2, rows = (mc + MR - 1) / MR * MR;
    if (!trans) {
        for (int r = 0; r < mc; r++) {
            uint16_t *row = (uint16_t *)(out + (size_t)r * pairs);
            convert_hardware(a + (size_t)(i0 + r) * lda + k0, row, (size_t)kc);
            if (kc & 1) row[kc] = 0;
        }
    } else {
        // Column i of A^T is row i of A: pair 16 values of two adjacent rows of A (contiguous in i) into words
        // and scatter them to their 16 packed rows, rather than convert and place one value at a time.
        const __m512i stride = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                                  _mm512_set1_epi32(pairs));
        for (int p = 0; p < pairs; p++) {
            const float *r0 = a + (size_t)(k0 + 2 * p) * lda + i0, *r1 = r0 + lda;
            const int second = 2 * p + 1 < kc;
            for (int r = 0; r < mc; r += 16) {
                const __mmask16 mask = mc - r >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (mc - r)) - 1);
                _mm512_mask_i32scatter_epi32(out + (size_t)r * pairs + p, mask, stride, paired_words(r0 + r, r1 + r, mask, second), 4);
            }
        }
    }
    if (rows > mc) memset(out + (size_t)mc * pairs, 0, (size_t)(rows - mc) * pairs * sizeof(uint32_t));
}

/// C[rows][width] (= or +=, times beta on the first block) the MR x NR product of packed rows `a` and
/// the packed panel `b` over `pairs` pairs.
BF16_TARGET static void micro_kernel(int pairs, const uint32_t *a, const uint32_t *b, float *c, int ldc, int rows,
                                     int width, float beta) {
    __m512 acc[MR][2];
#pragma GCC unroll 8
    for (int r = 0; r < MR; r++) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
    for (int p = 0; p < pairs; p++) {
        const __m512bh b0 = (__m512bh)_mm512_load_si512(b + (size_t)p * NR);
        const __m512bh b1 = (__m512bh)_mm512_load_si512(b + (size_t)p * NR + 16);
#pragma GCC unroll 8
        for (int r = 0; r < MR; r++) {
            const __m512bh x = (__m512bh)_mm512_set1_epi32((int)a[(size_t)r * pairs + p]);
            acc[r][0] = _mm512_dpbf16_ps(acc[r][0], x, b0);
            acc[r][1] = _mm512_dpbf16_ps(acc[r][1], x, b1);
        }
    }
    const __mmask16 m0 = width >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << width) - 1);
    const __mmask16 m1 = width >= 32 ? (__mmask16)0xFFFF : width <= 16 ? 0 : (__mmask16)((1u << (width - 16)) - 1);
    for (int r = 0; r < rows; r++) {
        float *row = c + (size_t)r * ldc;
        if (beta == 0) {
            _mm512_mask_storeu_ps(row, m0, acc[r][0]);
            _mm512_mask_storeu_ps(row + 16, m1, acc[r][1]);
        } else {
            const __m512 scale = _mm512_set1_ps(beta);
            _mm512_mask_storeu_ps(row, m0, _mm512_fmadd_ps(scale, _mm512_maskz_loadu_ps(m0, row), acc[r][0]));
            _mm512_mask_storeu_ps(row + 16, m1, _mm512_fmadd_ps(scale, _mm512_maskz_loadu_ps(m1, row + 16), acc[r][1]));
        }
    }
}

BF16_TARGET static void gemm_bf16_avx512(int trans_a, int trans_b, int m, int n, int k, const float *a, int lda,
                                          const float *b, int ldb, float beta, float *c, int ldc) {
    if (k == 0) {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) c[(size_t)i * ldc + j] = beta == 0 ? 0 : beta * c[(size_t)i * ldc + j];
        return;
    }
    const int panels = (n + NR - 1) / NR;
    for (int k0 = 0; k0 < k; k0 += KC) {
        const int kc = k - k0 < KC ? k - k0 : KC, pairs = (kc + 1) / 2;
        uint32_t *pb = reserve(&packed_b, &packed_b_size, (size_t)panels * pairs * NR);
        uint32_t *pa = reserve(&packed_a, &packed_a_size, (size_t)(MC + MR) * pairs);
        if (pb == NULL || pa == NULL) abort();  // a few hundred KiB; the engine's own buffers are far larger
        pack_b(trans_b, b, ldb, k0, kc, n, pb);
        const float block_beta = k0 == 0 ? beta : 1.0f;
        for (int i0 = 0; i0 < m; i0 += MC) {
            const int mc = m - i0 < MC ? m - i0 : MC;
            pack_a(trans_a, a, lda, i0, mc, k0, kc, pa);
            for (int q = 0; q < panels; q++) {
                const int width = n - q * NR < NR ? n - q * NR : NR;
                for (int r = 0; r < mc; r += MR) {
                    micro_kernel(pairs, pa + (size_t)r * pairs, pb + (size_t)q * pairs * NR,
                                 c + (size_t)(i0 + r) * ldc + q * NR, ldc, mc - r < MR ? mc - r : MR, width, block_beta);
                }
            }
        }
    }
}

int ckernels_gemm_bf16(int trans_a, int trans_b, int m, int n, int k, const float *a, int lda, const float *b, int ldb,
                       float beta, float *c, int ldc) {
    if (!ckernels_has_bf16()) return 0;
    if (m <= 0 || n <= 0) return 1;
    gemm_bf16_avx512(trans_a, trans_b, m, n, k, a, lda, b, ldb, beta, c, ldc);
    return 1;
}

// ---- Convolutions without lowering -------------------------------------------------------------------------
//
// A "same" stride-1 convolution (odd kernel, padding (k - 1) / 2) reads its operands straight from the images,
// as implicit matrix products: the images are copied once into a zero-bordered bf16 copy (NHWC, so the
// channels of a pixel are contiguous and each pair of channels is one 32-bit word, exactly the A operand's
// word that VDPBF16PS broadcasts), and the micro-kernel walks each output pixel's window tap by tap. Lowering
// instead wrote and read an fp32 column matrix 9x the images for a 3x3 layer and converted it while packing;
// the input gradient is the same convolution of the bordered output gradient with the kernel flipped in space
// and its input and output swapped, so it needs neither the column gradient nor its scatter back.

size_t ckernels_conv_bf16_packed_words(int out, int depth) {
    return (size_t)((out + NR - 1) / NR) * (size_t)((depth + 1) / 2) * NR;
}

int ckernels_conv_bf16_pack_weights(const float *ohwi, int out, int depth, uint32_t *packed) {
    if (!ckernels_has_bf16()) return 0;
    pack_b(1, ohwi, depth, 0, depth, out, packed);
    return 1;
}

BF16_TARGET static void border_hardware(const float *x, int images, int height, int width, int channels, int pad,
                                        uint16_t *out) {
    const int bw = width + 2 * pad, bh = height + 2 * pad;
    for (int n = 0; n < images; n++) {
        uint16_t *image = out + (size_t)n * bh * bw * channels;
        memset(image, 0, (size_t)pad * bw * channels * sizeof(uint16_t));
        memset(image + (size_t)(pad + height) * bw * channels, 0, (size_t)pad * bw * channels * sizeof(uint16_t));
        for (int y = 0; y < height; y++) {
            uint16_t *row = image + (size_t)(y + pad) * bw * channels;
            memset(row, 0, (size_t)pad * channels * sizeof(uint16_t));
            convert_hardware(x + ((size_t)n * height + y) * width * channels, row + (size_t)pad * channels,
                             (size_t)width * channels);
            memset(row + (size_t)(pad + width) * channels, 0, (size_t)pad * channels * sizeof(uint16_t));
        }
    }
}

int ckernels_conv_bf16_border(const float *x, int images, int height, int width, int channels, int pad, uint16_t *out) {
    if (!ckernels_has_bf16()) return 0;
    border_hardware(x, images, height, width, channels, pad, out);
    return 1;
}

/// One block of up to `rows` output pixels (the A words of pixel r at tap t: `base[r] + offsets[t]`) times
/// the packed panel `b` over `taps` taps of `pairs` channel pairs, into `c` (row stride `ldc`), with the
/// bias and the ReLU. `WIDE`: two 16-channel columns (panels of 32 output channels) or one (16 or fewer).
#define CONV_BLOCK(NAME, MROWS, COLUMNS)                                                                          \
    BF16_TARGET static void NAME(const uint32_t *const *base, const size_t *offsets, int taps, int pairs,          \
                                 const uint32_t *b, float *c, int ldc, int rows, int width, const float *bias,     \
                                 int rectify) {                                                                   \
        __m512 acc[MROWS][COLUMNS];                                                                              \
        _Pragma("GCC unroll 16") for (int r = 0; r < MROWS; r++)                                                 \
            _Pragma("GCC unroll 2") for (int h = 0; h < COLUMNS; h++) acc[r][h] = _mm512_setzero_ps();           \
        for (int t = 0; t < taps; t++) {                                                                         \
            const size_t offset = offsets[t];                                                                    \
            const uint32_t *bt = b + (size_t)t * pairs * NR;                                                     \
            for (int p = 0; p < pairs; p++) {                                                                    \
                __m512bh w[COLUMNS];                                                                             \
                _Pragma("GCC unroll 2") for (int h = 0; h < COLUMNS; h++)                                        \
                    w[h] = (__m512bh)_mm512_load_si512(bt + (size_t)p * NR + 16 * h);                            \
                _Pragma("GCC unroll 16") for (int r = 0; r < MROWS; r++) {                                       \
                    const __m512bh x = (__m512bh)_mm512_set1_epi32((int)base[r][offset + p]);                   \
                    _Pragma("GCC unroll 2") for (int h = 0; h < COLUMNS; h++)                                    \
                        acc[r][h] = _mm512_dpbf16_ps(acc[r][h], x, w[h]);                                        \
                }                                                                                                \
            }                                                                                                    \
        }                                                                                                        \
        for (int h = 0; h < COLUMNS; h++) {                                                                      \
            const int lanes = width - 16 * h;                                                                    \
            if (lanes <= 0) break;                                                                               \
            const __mmask16 mask = lanes >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << lanes) - 1);             \
            const __m512 shift = bias ? _mm512_maskz_loadu_ps(mask, bias + 16 * h) : _mm512_setzero_ps();       \
            for (int r = 0; r < rows; r++) {                                                                     \
                __m512 v = _mm512_add_ps(acc[r][h], shift);                                                      \
                if (rectify) v = _mm512_max_ps(v, _mm512_setzero_ps());                                          \
                _mm512_mask_storeu_ps(c + (size_t)r * ldc + 16 * h, mask, v);                                    \
            }                                                                                                    \
        }                                                                                                        \
    }

CONV_BLOCK(conv_block_wide, 8, 2)
CONV_BLOCK(conv_block_narrow, 16, 1)

BF16_TARGET static void conv_same_avx512(const uint16_t *bordered, int images, int height, int width, int channels,
                                         int kernel, const uint32_t *packed, int out, const float *bias, int rectify,
                                         float *y) {
    const int pad = (kernel - 1) / 2, bw = width + 2 * pad, bh = height + 2 * pad;
    const int pairs = channels / 2, taps = kernel * kernel, depthPairs = taps * pairs;
    size_t offsets[taps];
    for (int ky = 0; ky < kernel; ky++)
        for (int kx = 0; kx < kernel; kx++) offsets[ky * kernel + kx] = ((size_t)ky * bw + kx) * pairs;
    const uint32_t *words = (const uint32_t *)bordered;
    const int narrow = out <= 16, block = narrow ? 16 : 8;
    const int panels = (out + NR - 1) / NR, perImage = height * width, total = images * perImage;
    const uint32_t *base[16];
    for (int first = 0; first < total; first += block) {
        const int rows = total - first < block ? total - first : block;
        for (int r = 0; r < block; r++) {
            const int pixel = first + (r < rows ? r : 0), n = pixel / perImage, rest = pixel % perImage;
            base[r] = words + (((size_t)n * bh + rest / width) * bw + rest % width) * pairs;
        }
        for (int q = 0; q < panels; q++) {
            const int lanes = out - q * NR < NR ? out - q * NR : NR;
            float *c = y + (size_t)first * out + q * NR;
            const float *shift = bias ? bias + q * NR : NULL;
            const uint32_t *panel = packed + (size_t)q * depthPairs * NR;
            if (narrow)
                conv_block_narrow(base, offsets, taps, pairs, panel, c, out, rows, lanes, shift, rectify);
            else
                conv_block_wide(base, offsets, taps, pairs, panel, c, out, rows, lanes, shift, rectify);
        }
    }
}

int ckernels_conv_bf16_same(const uint16_t *bordered, int images, int height, int width, int channels, int kernel,
                            const uint32_t *packed, int out, const float *bias, int rectify, float *y) {
    if (!ckernels_has_bf16()) return 0;
    if (channels % 2 != 0 || kernel % 2 == 0) return 0;
    conv_same_avx512(bordered, images, height, width, channels, kernel, packed, out, bias, rectify, y);
    return 1;
}
