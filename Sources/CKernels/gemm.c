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
 * (384 KB packed as f32, for the 512 KB to 2 MB L2 of server cores) stay in L2 while every 6-row strip of a
 * streams past them; a strip is packed once per slab and k-block. */
#define MR 6
#define NR 16
#define KC 256
#define NC 384

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

/* Eight consecutive values of one stored row, widened. */
__attribute__((target("avx2,fma"))) static inline __m256 load8(const moe_operand *x, size_t index) {
    if (x->bf16) {
        __m128i h = _mm_loadu_si128((const __m128i *)((const uint8_t *)x->base + 2 * index));
        return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
    }
    return _mm256_loadu_ps((const float *)((const uint8_t *)x->base + 4 * index));
}

/* The same panels from an input-major weight, whose stored rows already run along the panel's columns. */
__attribute__((target("avx2,fma"))) static void pack_w_input_major_avx2(
    const moe_operand *w, size_t n0, size_t columns, size_t k0, size_t kc, float *out) {
    for (size_t p = 0; p * NR < columns; p++) {
        float *panel = out + p * kc * NR;
        size_t first = p * NR;
        for (size_t j = 0; j < kc; j++) {
            size_t row = (k0 + j) * w->stride + n0 + first;
            for (size_t half = 0; half < NR; half += 8) {
                if (first + half + 8 <= columns) {
                    _mm256_storeu_ps(panel + j * NR + half, load8(w, row + half));
                } else {
                    for (size_t col = half; col < half + 8; col++) {
                        panel[j * NR + col] = first + col < columns ? element(w, k0 + j, n0 + first + col) : 0;
                    }
                }
            }
        }
    }
}

/* The same panels from an output-major weight, eight rows of eight k-values widened and transposed in registers;
 * ragged edges go through the portable packer's rule. */
__attribute__((target("avx2,fma"))) static void pack_w_avx2(const moe_operand *w, size_t n0, size_t columns, size_t k0, size_t kc, float *out) {
    if (w->input_major) {
        pack_w_input_major_avx2(w, n0, columns, k0, kc, out);
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
                for (int i = 0; i < 8; i++) r[i] = load8(w, (n0 + first + i) * w->stride + k0 + j);
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
        if (r >= rows) {
            for (size_t j = 0; j < kc; j++) out[j * MR + r] = 0;
        } else if (a->bf16) {
            const uint16_t *row = (const uint16_t *)a->base + (m0 + r) * a->stride + k0;
            for (size_t j = 0; j < kc; j++) out[j * MR + r] = widen(row[j]);
        } else {
            const float *row = (const float *)a->base + (m0 + r) * a->stride + k0;
            for (size_t j = 0; j < kc; j++) out[j * MR + r] = row[j];
        }
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

/* `rows` accumulator rows of two ymm each; inlined with a constant `rows`, so the loops unroll and the sums stay in
 * registers, and a strip of fewer than MR rows does no work for the missing ones. */
__attribute__((target("avx2,fma"), always_inline)) static inline void tile_avx2_rows(
    int rows, size_t kc, const float *ap, const float *bp, const float *src, float *dst, size_t lds, int resume) {
    __m256 acc[MR][2];
    for (int r = 0; r < rows; r++) {
        acc[r][0] = resume ? _mm256_loadu_ps(src + r * lds) : _mm256_setzero_ps();
        acc[r][1] = resume ? _mm256_loadu_ps(src + r * lds + 8) : _mm256_setzero_ps();
    }
    for (size_t j = 0; j < kc; j++) {
        __m256 b0 = _mm256_load_ps(bp + j * NR), b1 = _mm256_load_ps(bp + j * NR + 8);
        for (int r = 0; r < rows; r++) {
            __m256 av = _mm256_broadcast_ss(ap + j * MR + r);
            acc[r][0] = _mm256_fmadd_ps(av, b0, acc[r][0]);
            acc[r][1] = _mm256_fmadd_ps(av, b1, acc[r][1]);
        }
    }
    for (int r = 0; r < rows; r++) {
        _mm256_storeu_ps(dst + r * lds, acc[r][0]);
        _mm256_storeu_ps(dst + r * lds + 8, acc[r][1]);
    }
}

__attribute__((target("avx2,fma"))) static void tile_avx2(
    size_t kc, const float *ap, const float *bp, float *c, size_t ldc, size_t mr, size_t nr, int resume) {
    /* Fewer than NR columns compute in a full-width scratch tile, so every row is two whole vectors. */
    float edge[MR * NR];
    int narrow = nr < NR;
    if (narrow && resume) {
        for (size_t r = 0; r < mr; r++) {
            for (size_t col = 0; col < NR; col++) edge[r * NR + col] = col < nr ? c[r * ldc + col] : 0;
        }
    }
    const float *src = narrow ? edge : c;
    float *dst = narrow ? edge : c;
    size_t lds = narrow ? NR : ldc;
    switch (mr) {
    case 1: tile_avx2_rows(1, kc, ap, bp, src, dst, lds, resume); break;
    case 2: tile_avx2_rows(2, kc, ap, bp, src, dst, lds, resume); break;
    case 3: tile_avx2_rows(3, kc, ap, bp, src, dst, lds, resume); break;
    case 4: tile_avx2_rows(4, kc, ap, bp, src, dst, lds, resume); break;
    case 5: tile_avx2_rows(5, kc, ap, bp, src, dst, lds, resume); break;
    default: tile_avx2_rows(MR, kc, ap, bp, src, dst, lds, resume); break;
    }
    if (narrow) {
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
