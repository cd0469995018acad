#include "ckernels.h"

#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

/* Register tile: 12 rows of a × 32 columns of w, 24 zmm accumulators. Blocks: KC k-values of a 128-column
 * panel of w (256 KB packed) stay in L2 while every 12-row strip of a streams past them; a hidden size up to
 * 1024 is one block, so most tiles never reload their sums. */
#define MR 12
#define NR 32
#define KC 1024
#define NC 128

#define BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))

int moe_bf16_gemm_supported(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512bf16");
}

static inline uint16_t round_to_bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u) return 0xffff;
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

/* The same rounding sixteen lanes at a time: add 0x7fff plus the lowest kept bit, keep the high half. */
__attribute__((target("avx512f"))) static void f32_to_bf16_avx512(const float *x, uint16_t *out, size_t n) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 v = _mm512_loadu_ps(x + i);
        __m512i u = _mm512_castps_si512(v);
        __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(u, 16), _mm512_set1_epi32(1));
        __m512i r = _mm512_srli_epi32(_mm512_add_epi32(u, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7fff))), 16);
        r = _mm512_mask_mov_epi32(r, _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q), _mm512_set1_epi32(0xffff));
        _mm256_storeu_si256((__m256i *)(out + i), _mm512_cvtepi32_epi16(r));
    }
    for (; i < n; i++) out[i] = round_to_bf16(x[i]);
}

void moe_f32_to_bf16(const float *x, uint16_t *out, size_t n) {
    if (__builtin_cpu_supports("avx512f")) {
        f32_to_bf16_avx512(x, out, n);
        return;
    }
    for (size_t i = 0; i < n; i++) out[i] = round_to_bf16(x[i]);
}

/* Transposes 16 rows of 16 32-bit k-pairs: on return r[j] holds pair j of rows 0..15. */
BF16_TARGET static inline void transpose16(__m512i r[16]) {
    __m512i t[16], u[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_epi32(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_epi32(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        u[i] = _mm512_unpacklo_epi64(t[i], t[i + 2]);
        u[i + 1] = _mm512_unpackhi_epi64(t[i], t[i + 2]);
        u[i + 2] = _mm512_unpacklo_epi64(t[i + 1], t[i + 3]);
        u[i + 3] = _mm512_unpackhi_epi64(t[i + 1], t[i + 3]);
    }
    for (int i = 0; i < 16; i += 8) {
        for (int j = 0; j < 4; j++) {
            t[i + j] = _mm512_shuffle_i32x4(u[i + j], u[i + j + 4], 0x88);
            t[i + j + 4] = _mm512_shuffle_i32x4(u[i + j], u[i + j + 4], 0xdd);
        }
    }
    for (int j = 0; j < 8; j++) {
        r[j] = _mm512_shuffle_i32x4(t[j], t[j + 8], 0x88);
        r[j + 8] = _mm512_shuffle_i32x4(t[j], t[j + 8], 0xdd);
    }
}

/* Interleaves k-pairs of NR consecutive w rows: out[(panel·kcp + pair)·NR + col] holds w[col][2·pair] in its
 * low half and w[col][2·pair+1] in its high half, the operand layout vdpbf16ps multiplies against a
 * broadcast pair of a. Rows past `columns` and k past `k` are zeros. Whole 16×16 blocks of pairs go
 * through registers; the ragged rest is copied one pair at a time. */
BF16_TARGET static void pack_w(const uint8_t *w, size_t ldw, size_t k, size_t n0, size_t columns, size_t k0, size_t kc, uint32_t *out) {
    size_t kcp = (kc + 1) / 2, panels = (columns + NR - 1) / NR;
    size_t whole = (k0 + 2 * kcp <= k) ? kcp : kcp - 1;
    for (size_t p = 0; p < panels; p++) {
        uint32_t *panel = out + p * kcp * NR;
        for (size_t half = 0; half < NR; half += 16) {
            size_t first = p * NR + half;
            size_t blocks = first + 16 <= columns ? whole / 16 : 0;
            for (size_t b = 0; b < blocks; b++) {
                __m512i r[16];
                for (int i = 0; i < 16; i++) r[i] = _mm512_loadu_si512(w + ((n0 + first + i) * ldw + k0) * 2 + b * 64);
                transpose16(r);
                for (int j = 0; j < 16; j++) _mm512_storeu_si512(panel + (b * 16 + j) * NR + half, r[j]);
            }
            for (size_t col = half; col < half + 16; col++) {
                uint32_t *dst = panel + col;
                size_t n = p * NR + col;
                if (n >= columns) {
                    for (size_t j = 0; j < kcp; j++) dst[j * NR] = 0;
                    continue;
                }
                const uint8_t *row = w + ((n0 + n) * ldw + k0) * 2;
                for (size_t j = blocks * 16; j < whole; j++) {
                    uint32_t pair;
                    memcpy(&pair, row + 4 * j, 4);
                    dst[j * NR] = pair;
                }
                if (whole < kcp) {
                    uint16_t last;
                    memcpy(&last, row + 4 * whole, 2);
                    dst[whole * NR] = last;
                }
            }
        }
    }
}

/* The same packed layout from an input-major weight (w[k][n], row stride ldw), as gpt-oss and Llama 4 store
 * their experts: a k-pair of one column is two rows' values at that column, so 32 columns of two rows
 * interleave with one permute each. */
BF16_TARGET static void pack_w_input_major(
    const uint8_t *w, size_t ldw, size_t k, size_t n0, size_t columns, size_t k0, size_t kc, uint32_t *out) {
    size_t kcp = (kc + 1) / 2, panels = (columns + NR - 1) / NR;
    const __m512i low = _mm512_set_epi16(
        47, 15, 46, 14, 45, 13, 44, 12, 43, 11, 42, 10, 41, 9, 40, 8, 39, 7, 38, 6, 37, 5, 36, 4, 35, 3, 34, 2, 33, 1, 32, 0);
    const __m512i high = _mm512_set_epi16(
        63, 31, 62, 30, 61, 29, 60, 28, 59, 27, 58, 26, 57, 25, 56, 24, 55, 23, 54, 22, 53, 21, 52, 20, 51, 19, 50, 18, 49, 17, 48, 16);
    for (size_t p = 0; p < panels; p++) {
        uint32_t *panel = out + p * kcp * NR;
        size_t first = p * NR;
        for (size_t j = 0; j < kcp; j++) {
            size_t even = k0 + 2 * j, odd = even + 1;
            if (first + NR <= columns && odd < k) {
                __m512i a = _mm512_loadu_si512(w + (even * ldw + n0 + first) * 2);
                __m512i b = _mm512_loadu_si512(w + (odd * ldw + n0 + first) * 2);
                _mm512_storeu_si512(panel + j * NR, _mm512_permutex2var_epi16(a, low, b));
                _mm512_storeu_si512(panel + j * NR + 16, _mm512_permutex2var_epi16(a, high, b));
                continue;
            }
            for (size_t col = 0; col < NR; col++) {
                uint16_t lo = 0, hi = 0;
                if (first + col < columns) {
                    memcpy(&lo, w + (even * ldw + n0 + first + col) * 2, 2);
                    if (odd < k) memcpy(&hi, w + (odd * ldw + n0 + first + col) * 2, 2);
                }
                panel[j * NR + col] = (uint32_t)lo | (uint32_t)hi << 16;
            }
        }
    }
}

#define ACC_DECLARE(r) __m512 c##r##0 = _mm512_setzero_ps(), c##r##1 = _mm512_setzero_ps();
#define ACC_STEP(r)                                                                       \
    {                                                                                     \
        __m512bh av = (__m512bh)_mm512_set1_epi32((int)a##r[j]);                          \
        c##r##0 = _mm512_dpbf16_ps(c##r##0, av, b0);                                      \
        c##r##1 = _mm512_dpbf16_ps(c##r##1, av, b1);                                      \
    }
#define ACC_STORE(r)                                                                      \
    if (r < mr) {                                                                         \
        float *row = c + r * ldc;                                                         \
        __m512 v0 = c##r##0, v1 = c##r##1;                                                \
        if (accumulate) {                                                                 \
            v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, row));                       \
            v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, row + 16));                  \
        }                                                                                 \
        _mm512_mask_storeu_ps(row, m0, v0);                                               \
        _mm512_mask_storeu_ps(row + 16, m1, v1);                                          \
    }

BF16_TARGET static void tile(
    size_t kcp, const uint32_t *const *rows, const uint32_t *b, float *c, size_t ldc, size_t mr, size_t nr, int accumulate) {
    const uint32_t *a0 = rows[0], *a1 = rows[1], *a2 = rows[2], *a3 = rows[3], *a4 = rows[4], *a5 = rows[5];
    const uint32_t *a6 = rows[6], *a7 = rows[7], *a8 = rows[8], *a9 = rows[9], *a10 = rows[10], *a11 = rows[11];
    ACC_DECLARE(0) ACC_DECLARE(1) ACC_DECLARE(2) ACC_DECLARE(3) ACC_DECLARE(4) ACC_DECLARE(5)
    ACC_DECLARE(6) ACC_DECLARE(7) ACC_DECLARE(8) ACC_DECLARE(9) ACC_DECLARE(10) ACC_DECLARE(11)
    for (size_t j = 0; j < kcp; j++) {
        __m512bh b0 = (__m512bh)_mm512_loadu_si512(b + j * NR);
        __m512bh b1 = (__m512bh)_mm512_loadu_si512(b + j * NR + 16);
        ACC_STEP(0) ACC_STEP(1) ACC_STEP(2) ACC_STEP(3) ACC_STEP(4) ACC_STEP(5)
        ACC_STEP(6) ACC_STEP(7) ACC_STEP(8) ACC_STEP(9) ACC_STEP(10) ACC_STEP(11)
    }
    __mmask16 m0 = nr >= 16 ? 0xffff : (__mmask16)((1u << nr) - 1);
    __mmask16 m1 = nr >= 32 ? 0xffff : nr > 16 ? (__mmask16)((1u << (nr - 16)) - 1) : 0;
    ACC_STORE(0) ACC_STORE(1) ACC_STORE(2) ACC_STORE(3) ACC_STORE(4) ACC_STORE(5)
    ACC_STORE(6) ACC_STORE(7) ACC_STORE(8) ACC_STORE(9) ACC_STORE(10) ACC_STORE(11)
}

static const uint32_t zero_pairs[KC / 2];

void moe_bf16_gemm(
    const uint16_t *a, size_t lda, size_t m, size_t k, const void *w, size_t ldw, int w_input_major, size_t n_begin,
    size_t n_end, float *c, size_t ldc, int accumulate) {
    if (m == 0 || n_end <= n_begin) return;
    uint32_t *packed = aligned_alloc(64, (size_t)(KC / 2) * NC * sizeof(uint32_t));
    if (!packed) abort();
    for (size_t n0 = n_begin; n0 < n_end; n0 += NC) {
        size_t nc = n_end - n0 < NC ? n_end - n0 : NC;
        for (size_t k0 = 0; k0 < k || k0 == 0; k0 += KC) {
            size_t kc = k - k0 < KC ? k - k0 : KC, kcp = (kc + 1) / 2;
            if (w_input_major) pack_w_input_major(w, ldw, k, n0, nc, k0, kc, packed);
            else pack_w(w, ldw, k, n0, nc, k0, kc, packed);
            int add = accumulate || k0 > 0;
            for (size_t m0 = 0; m0 < m; m0 += MR) {
                size_t mr = m - m0 < MR ? m - m0 : MR;
                const uint32_t *rows[MR];
                for (size_t r = 0; r < MR; r++) rows[r] = r < mr ? (const uint32_t *)(a + (m0 + r) * lda + k0) : zero_pairs;
                for (size_t p = 0; p * NR < nc; p++) {
                    size_t nr = nc - p * NR < NR ? nc - p * NR : NR;
                    tile(kcp, rows, packed + p * kcp * NR, c + m0 * ldc + n0 + p * NR, ldc, mr, nr, add);
                }
            }
            if (k == 0) break;
        }
    }
    free(packed);
}
