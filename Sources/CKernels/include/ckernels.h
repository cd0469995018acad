#ifndef MOE_SLIM_CKERNELS_H
#define MOE_SLIM_CKERNELS_H
#include <stddef.h>
#include <stdint.h>

/// 1 when this CPU has AVX512-BF16 (vdpbf16ps), the only instruction set moe_bf16_gemm runs on. Elsewhere bf16
/// products go through moe_gemm, which widens the same bf16 operands exactly.
int moe_bf16_gemm_supported(void);

/// The kernel paths, each including the ones below it: portable C, AVX2 with FMA, and AVX512-BF16 for bf16
/// products. moe_gemm gives the same bits on the portable and AVX2 paths.
enum { MOE_KERNEL_PORTABLE = 0, MOE_KERNEL_AVX2 = 1, MOE_KERNEL_AVX512_BF16 = 2 };

/// The best path this CPU supports.
int moe_kernel_best(void);

/// The path in use: the best one unless moe_kernel_use chose a lower one.
int moe_kernel_path(void);

/// Uses `path` from now on (tests force each path the machine supports). Returns 0, changing nothing, when the
/// CPU lacks it.
int moe_kernel_use(int path);

/// A row-major matrix of f32 or bf16 values, `stride` elements between rows. As a weight, possibly unaligned (read
/// in place in a checkpoint's mmap), rows are outputs (nn.Linear's [out, in]) or, with `input_major`, inputs
/// ([in, out]); as activations, aligned to the element type.
typedef struct {
    const void *base;
    size_t stride;
    int bf16;
    int input_major;
} moe_operand;

/// c[m, n_begin..<n_end] = a[m, k] · Wᵀ, each element one chain of fused multiply-adds over k in index order
/// starting from 0 (from c's value with `accumulate`), on every path and for any m or column range; bf16 values
/// are widened exactly. c is f32 with row stride `ldc`. Threads split the columns: ranges must not overlap.
void moe_gemm(const moe_operand *a, size_t m, size_t k, const moe_operand *w, size_t n_begin, size_t n_end, float *c, size_t ldc, int accumulate);

/// Rounds n floats to bf16 as torch's CPU `.to(torch.bfloat16)` does: to nearest, ties to even, subnormals
/// kept, every NaN as 0xFFFF.
void moe_f32_to_bf16(const float *x, uint16_t *out, size_t n);

/// c[m, n_begin..<n_end] (+)= a[m, k] · Wᵀ with bf16 inputs and f32 accumulation, W the Linear weight [n, k].
/// `a` is bf16 row-major with an even row stride `lda` (zero-padded past k). W is stored bf16, read in place
/// and possibly unaligned: output-major (w[n][k], row stride `ldw`) or, with `w_input_major`, input-major
/// (w[k][n], row stride `ldw`). c is f32 with row stride `ldc`. With `accumulate` 0, c is overwritten.
/// Threads split the columns: ranges must not overlap. Needs moe_bf16_gemm_supported().
void moe_bf16_gemm(
    const uint16_t *a, size_t lda, size_t m, size_t k, const void *w, size_t ldw, int w_input_major, size_t n_begin,
    size_t n_end, float *c, size_t ldc, int accumulate);

/// gate[i] = SiLU(gate[i]) · up[i], the SwiGLU of every expert and dense MLP.
void moe_silu_mul(float *gate, const float *up, size_t n);

/// x[i] = exp(x[i] − shift) in place; returns their sum. The body of a softmax row.
float moe_exp_sum(float *x, size_t n, float shift);

/// Softmax of row[first...last] (with an extra sink logit in the denominator when has_sink), every other entry
/// of the row's `length` set to exactly 0: one attention row with its causal, window and chunk mask.
void moe_softmax_span(float *row, size_t length, size_t first, size_t last, float sink, int has_sink);

/// log Σ exp(x[i]), max-shifted, summed in double: the normaliser of a log-softmax over a whole vocabulary.
/// Inputs all −inf give −inf; any +inf gives +inf.
double moe_log_sum_exp(const float *x, size_t n);

#endif
