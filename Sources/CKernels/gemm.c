#include "ckernels.h"

#include <immintrin.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* Every output element is one chain of fused multiply-adds over k in index order, whatever the number of rows,
 * the columns a thread is given, or the instruction set: the blocking below only decides which products are
 * computed when, never the order in which one element's sum is formed. A k-block resumes the chain from the
 * partial sum it left in c, which is an exact f32, so splitting k changes no bit either.
 *
 * Register tile: 6 rows × 16 columns, twelve ymm accumulators. Blocks: KC k-values of an NC-column slab of w
 * (192 KB packed as f32) stay in L2 while every 6-row strip of a streams past them. */
#define MR 6
#define NR 16
#define KC 256
#define NC 192

static _Atomic int chosen_path = -1;

static int best_path(void) {
    __builtin_cpu_init();
    if (moe_bf16_gemm_supported()) return MOE_KERNEL_AVX512_BF16;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return MOE_KERNEL_AVX2;
    return MOE_KERNEL_PORTABLE;
}

int moe_kernel_best(void) { return best_path(); }

int moe_kernel_path(void) {
    int path = atomic_load_explicit(&chosen_path, memory_order_relaxed);
    if (path < 0) {
        path = best_path();
        atomic_store_explicit(&chosen_path, path, memory_order_relaxed);
    }
    return path;
}

int moe_kernel_use(int path) {
    if (path < MOE_KERNEL_PORTABLE || path > best_path()) return 0;
    atomic_store_explicit(&chosen_path, path, memory_order_relaxed);
    return 1;
}

static inline float widen(uint16_t v) {
    uint32_t u = (uint32_t)v << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static inline float element(const moe_operand *x, size_t row, size_t column) {
    size_t index = row * x->stride + column;
    if (x->bf16) {
        uint16_t v;
        memcpy(&v, (const uint8_t *)x->base + 2 * index, 2);
        return widen(v);
    }
    float f;
    memcpy(&f, (const uint8_t *)x->base + 4 * index, 4);
    return f;
}

/* w's value for output n and input k, in either stored layout. */
static inline float weight(const moe_operand *w, size_t n, size_t k) {
    return w->input_major ? element(w, k, n) : element(w, n, k);
}

/* Panels of NR columns, k-major: out[(p·kc + j)·NR + col] = w(n0 + p·NR + col, k0 + j), zeros past `columns`. */
static void pack_w_portable(const moe_operand *w, size_t n0, size_t columns, size_t k0, size_t kc, float *out) {
    for (size_t p = 0; p * NR < columns; p++) {
        float *panel = out + p * kc * NR;
        for (size_t col = 0; col < NR; col++) {
            size_t n = p * NR + col;
            for (size_t j = 0; j < kc; j++) panel[j * NR + col] = n < columns ? weight(w, n0 + n, k0 + j) : 0;
        }
    }
}

/* The same panels from an output-major weight, eight rows of eight k-values widened and transposed in registers;
 * ragged edges go through the portable packer's rule. */
__attribute__((target("avx2,fma"))) static void pack_w_avx2(const moe_operand *w, size_t n0, size_t columns, size_t k0, size_t kc, float *out) {
    if (w->input_major) {
        pack_w_portable(w, n0, columns, k0, kc, out);
        return;
    }
    size_t whole_k = kc / 8 * 8;
    for (size_t p = 0; p * NR < columns; p++) {
        float *panel = out + p * kc * NR;
        for (size_t half = 0; half < NR; half += 8) {
            size_t first = p * NR + half;
            size_t done_k = first + 8 <= columns ? whole_k : 0;
            for (size_t j = 0; j < done_k; j += 8) {
                __m256 r[8];
                for (int i = 0; i < 8; i++) {
                    size_t index = (n0 + first + i) * w->stride + k0 + j;
                    if (w->bf16) {
                        __m128i h = _mm_loadu_si128((const __m128i *)((const uint8_t *)w->base + 2 * index));
                        r[i] = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
                    } else {
                        r[i] = _mm256_loadu_ps((const float *)((const uint8_t *)w->base + 4 * index));
                    }
                }
                __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
                __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
                __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
                __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
                __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xee);
                __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xee);
                __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xee);
                __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xee);
                __m256 v[8] = {
                    _mm256_permute2f128_ps(u0, u4, 0x20), _mm256_permute2f128_ps(u1, u5, 0x20),
                    _mm256_permute2f128_ps(u2, u6, 0x20), _mm256_permute2f128_ps(u3, u7, 0x20),
                    _mm256_permute2f128_ps(u0, u4, 0x31), _mm256_permute2f128_ps(u1, u5, 0x31),
                    _mm256_permute2f128_ps(u2, u6, 0x31), _mm256_permute2f128_ps(u3, u7, 0x31),
                };
                for (int i = 0; i < 8; i++) _mm256_storeu_ps(panel + (j + i) * NR + half, v[i]);
            }
            for (size_t col = half; col < half + 8; col++) {
                size_t n = p * NR + col;
                for (size_t j = done_k; j < kc; j++) panel[j * NR + col] = n < columns ? weight(w, n0 + n, k0 + j) : 0;
            }
        }
    }
}

/* A strip of up to MR rows, k-major: out[j·MR + r] = a(m0 + r, k0 + j), zeros for rows past `rows`. */
static void pack_a(const moe_operand *a, size_t m0, size_t rows, size_t k0, size_t kc, float *out) {
    for (size_t r = 0; r < MR; r++) {
        for (size_t j = 0; j < kc; j++) out[j * MR + r] = r < rows ? element(a, m0 + r, k0 + j) : 0;
    }
}

/* Tile sums start from c when `resume` (a later k-block, or accumulation into c), else from zero. */
static void tile_portable(size_t kc, const float *ap, const float *bp, float *c, size_t ldc, size_t mr, size_t nr, int resume) {
    float acc[MR][NR];
    for (size_t r = 0; r < MR; r++) {
        for (size_t col = 0; col < NR; col++) acc[r][col] = resume && r < mr && col < nr ? c[r * ldc + col] : 0;
    }
    for (size_t j = 0; j < kc; j++) {
        for (size_t r = 0; r < MR; r++) {
            for (size_t col = 0; col < NR; col++) acc[r][col] = fmaf(ap[j * MR + r], bp[j * NR + col], acc[r][col]);
        }
    }
    for (size_t r = 0; r < mr; r++) {
        for (size_t col = 0; col < nr; col++) c[r * ldc + col] = acc[r][col];
    }
}

#define ROW_DECLARE(r) __m256 c##r##0, c##r##1;
#define ROW_LOAD(r)                                                                    \
    c##r##0 = resume ? _mm256_loadu_ps(src + r * lds) : _mm256_setzero_ps();           \
    c##r##1 = resume ? _mm256_loadu_ps(src + r * lds + 8) : _mm256_setzero_ps();
#define ROW_STEP(r)                                                                    \
    {                                                                                  \
        __m256 av = _mm256_broadcast_ss(ap + j * MR + r);                              \
        c##r##0 = _mm256_fmadd_ps(av, b0, c##r##0);                                    \
        c##r##1 = _mm256_fmadd_ps(av, b1, c##r##1);                                    \
    }
#define ROW_STORE(r)                                                                   \
    _mm256_storeu_ps(dst + r * lds, c##r##0);                                          \
    _mm256_storeu_ps(dst + r * lds + 8, c##r##1);

__attribute__((target("avx2,fma"))) static void tile_avx2(
    size_t kc, const float *ap, const float *bp, float *c, size_t ldc, size_t mr, size_t nr, int resume) {
    /* A ragged tile computes in a full-size scratch tile, so the loop below has one shape. */
    float edge[MR * NR];
    int ragged = mr < MR || nr < NR;
    if (ragged && resume) {
        for (size_t r = 0; r < MR; r++) {
            for (size_t col = 0; col < NR; col++) edge[r * NR + col] = r < mr && col < nr ? c[r * ldc + col] : 0;
        }
    }
    const float *src = ragged ? edge : c;
    float *dst = ragged ? edge : c;
    size_t lds = ragged ? NR : ldc;
    ROW_DECLARE(0) ROW_DECLARE(1) ROW_DECLARE(2) ROW_DECLARE(3) ROW_DECLARE(4) ROW_DECLARE(5)
    ROW_LOAD(0) ROW_LOAD(1) ROW_LOAD(2) ROW_LOAD(3) ROW_LOAD(4) ROW_LOAD(5)
    for (size_t j = 0; j < kc; j++) {
        __m256 b0 = _mm256_load_ps(bp + j * NR), b1 = _mm256_load_ps(bp + j * NR + 8);
        ROW_STEP(0) ROW_STEP(1) ROW_STEP(2) ROW_STEP(3) ROW_STEP(4) ROW_STEP(5)
    }
    ROW_STORE(0) ROW_STORE(1) ROW_STORE(2) ROW_STORE(3) ROW_STORE(4) ROW_STORE(5)
    if (ragged) {
        for (size_t r = 0; r < mr; r++) {
            for (size_t col = 0; col < nr; col++) c[r * ldc + col] = edge[r * NR + col];
        }
    }
}

void moe_gemm(const moe_operand *a, size_t m, size_t k, const moe_operand *w, size_t n_begin, size_t n_end, float *c, size_t ldc, int accumulate) {
    if (m == 0 || n_end <= n_begin) return;
    if (k == 0) {
        if (!accumulate) {
            for (size_t r = 0; r < m; r++) memset(c + r * ldc + n_begin, 0, (n_end - n_begin) * sizeof(float));
        }
        return;
    }
    int avx2 = moe_kernel_path() >= MOE_KERNEL_AVX2;
    float *packed_w = aligned_alloc(64, (size_t)KC * NC * sizeof(float));
    float *packed_a = aligned_alloc(64, (size_t)KC * MR * sizeof(float));
    if (!packed_w || !packed_a) abort();
    for (size_t n0 = n_begin; n0 < n_end; n0 += NC) {
        size_t nc = n_end - n0 < NC ? n_end - n0 : NC;
        for (size_t k0 = 0; k0 < k; k0 += KC) {
            size_t kc = k - k0 < KC ? k - k0 : KC;
            if (avx2) pack_w_avx2(w, n0, nc, k0, kc, packed_w);
            else pack_w_portable(w, n0, nc, k0, kc, packed_w);
            int resume = accumulate || k0 > 0;
            for (size_t m0 = 0; m0 < m; m0 += MR) {
                size_t mr = m - m0 < MR ? m - m0 : MR;
                pack_a(a, m0, mr, k0, kc, packed_a);
                for (size_t p = 0; p * NR < nc; p++) {
                    size_t nr = nc - p * NR < NR ? nc - p * NR : NR;
                    float *tile_c = c + m0 * ldc + n0 + p * NR;
                    if (avx2) tile_avx2(kc, packed_a, packed_w + p * kc * NR, tile_c, ldc, mr, nr, resume);
                    else tile_portable(kc, packed_a, packed_w + p * kc * NR, tile_c, ldc, mr, nr, resume);
                }
            }
        }
    }
    free(packed_w);
    free(packed_a);
}
