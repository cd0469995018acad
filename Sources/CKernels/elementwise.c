#include "ckernels.h"

#include <math.h>
#include <string.h>

/* Cloned per instruction set and picked once at load time, so the loops below run 16 lanes wide on
 * AVX-512 machines and still run everywhere else. */
#define VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

/* exp(x) to about 1 ulp (Cephes' expf: range reduction by ln 2 in two parts, degree-6 polynomial), written
 * without branches so the loops vectorise. Inputs below -87.33 give 0 as exp does for -inf; inputs above
 * 88.3 saturate at exp(88.3), which no caller reaches (their arguments are ≤ 0 or feed 1 / (1 + e)); NaN
 * stays NaN so bad logits are never silently dropped. */
static inline float exp_branchless(float x) {
    float clamped = fminf(fmaxf(x, -87.33f), 88.3f);
    float n = (clamped * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    float r = clamped - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    float y = p * r * r + r + 1.0f;
    int32_t bits = ((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    float e = x < -87.33f ? 0.0f : y * scale;
    return x != x ? x : e;
}

VECTOR_CLONES
void moe_silu_mul(float *gate, const float *up, size_t n) {
    for (size_t i = 0; i < n; i++) gate[i] = gate[i] / (1.0f + exp_branchless(-gate[i])) * up[i];
}

VECTOR_CLONES
float moe_exp_sum(float *x, size_t n, float shift) {
    float lanes[16] = {0};
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        for (size_t j = 0; j < 16; j++) {
            float e = exp_branchless(x[i + j] - shift);
            x[i + j] = e;
            lanes[j] += e;
        }
    }
    float sum = 0;
    for (; i < n; i++) {
        x[i] = exp_branchless(x[i] - shift);
        sum += x[i];
    }
    for (size_t j = 0; j < 16; j++) sum += lanes[j];
    return sum;
}

VECTOR_CLONES
double moe_log_sum_exp(const float *x, size_t n) {
    if (n == 0) return -INFINITY;
    float lanes_max[16];
    for (size_t j = 0; j < 16; j++) lanes_max[j] = -INFINITY;
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (size_t j = 0; j < 16; j++) lanes_max[j] = fmaxf(lanes_max[j], x[i + j]);
    float maximum = -INFINITY;
    for (; i < n; i++) maximum = fmaxf(maximum, x[i]);
    for (size_t j = 0; j < 16; j++) maximum = fmaxf(maximum, lanes_max[j]);
    if (isinf(maximum)) return maximum;
    double lanes[16] = {0};
    for (i = 0; i + 16 <= n; i += 16)
        for (size_t j = 0; j < 16; j++) lanes[j] += (double)exp_branchless(x[i + j] - maximum);
    double sum = 0;
    for (; i < n; i++) sum += (double)exp_branchless(x[i] - maximum);
    for (size_t j = 0; j < 16; j++) sum += lanes[j];
    return (double)maximum + log(sum);
}

VECTOR_CLONES
void moe_softmax_span(float *row, size_t length, size_t first, size_t last, float sink, int has_sink) {
    float maximum = has_sink ? sink : -INFINITY;
    for (size_t j = first; j <= last; j++) maximum = fmaxf(maximum, row[j]);
    float sum = moe_exp_sum(row + first, last - first + 1, maximum) + (has_sink ? exp_branchless(sink - maximum) : 0.0f);
    for (size_t j = 0; j < first; j++) row[j] = 0;
    for (size_t j = first; j <= last; j++) row[j] /= sum;
    for (size_t j = last + 1; j < length; j++) row[j] = 0;
}
