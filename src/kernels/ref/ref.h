// Scalar reference kernels: the exact arithmetic of ggml's portable (generic) code paths. They
// define what every SIMD version must compute (up to float summation order) and serve as the
// fallback for types and shapes a fast kernel does not cover.
//
// Dot products take one weight row w (k elements of the weight type) and one activation row x
// (k elements of the weight type's vec_dot_type) and return sum_k w[k] * x[k].
#pragma once

#include <cstdint>

#include "tensor/quant_ref.h"

namespace quorum::kernels::ref {

// --- plain types (accumulate in double, as ggml's scalar ggml_vec_dot_{f32,f16,bf16}) ---
float dot_f32(const void* w, const void* x, int64_t k);
float dot_f16(const void* w, const void* x, int64_t k);
float dot_bf16(const void* w, const void* x, int64_t k);

// --- activation converters: F32 row x[k] -> y ---
void quantize_row_f32(const float* x, void* y, int64_t k);
void quantize_row_f16(const float* x, void* y, int64_t k);
void quantize_row_bf16(const float* x, void* y, int64_t k);
// ggml's quantize_row_q8_0_ref / q8_1_ref / q8_K_ref (k a multiple of 32 / 32 / 256): the
// tensor layer's bit-exact quantizers, named here as the activation converters' references.
inline void quantize_row_q8_0(const float* x, void* y, int64_t k) { quantize_row_q8_0_ref(x, y, k); }
inline void quantize_row_q8_1(const float* x, void* y, int64_t k) { quantize_row_q8_1_ref(x, y, k); }
inline void quantize_row_q8_K(const float* x, void* y, int64_t k) { quantize_row_q8_k_ref(x, y, k); }

// --- quantized dot products, ggml_vec_dot_<w>_<act> generic ---
float dot_q4_0_q8_0(const void* w, const void* x, int64_t k);
float dot_q4_1_q8_1(const void* w, const void* x, int64_t k);
float dot_q5_0_q8_0(const void* w, const void* x, int64_t k);
float dot_q5_1_q8_1(const void* w, const void* x, int64_t k);
float dot_q8_0_q8_0(const void* w, const void* x, int64_t k);
float dot_iq4_nl_q8_0(const void* w, const void* x, int64_t k);
float dot_q2_K_q8_K(const void* w, const void* x, int64_t k);
float dot_q3_K_q8_K(const void* w, const void* x, int64_t k);
float dot_q4_K_q8_K(const void* w, const void* x, int64_t k);
float dot_q5_K_q8_K(const void* w, const void* x, int64_t k);
float dot_q6_K_q8_K(const void* w, const void* x, int64_t k);
float dot_iq2_xxs_q8_K(const void* w, const void* x, int64_t k);
float dot_iq2_xs_q8_K(const void* w, const void* x, int64_t k);

// --- row ops ---
void rms_norm(const float* x, const float* weight, float* y, int64_t n, float eps);
void softmax(float* x, int64_t n);
void swiglu(const float* gate, const float* up, float* y, int64_t n);

// --- attention over an F16 cache (see Kernels::attn_scores_f16 / attn_values_f16) ---
void attn_scores_f16(const uint16_t* k, int64_t stride, const float* q, int64_t n_q,
                     int64_t n_kv, int64_t hd, float* scores);
void attn_values_f16(const uint16_t* v, int64_t stride, const float* p, int64_t n_q,
                     int64_t n_kv, int64_t hd, float* out);

// Unpacks the 6-bit scale and min of sub-block j (0..7) of a Q4_K/Q5_K block's 12 scale bytes.
inline void get_scale_min_k4(int j, const uint8_t* q, uint8_t* d, uint8_t* m) {
  if (j < 4) {
    *d = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *d = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
    *m = (q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4);
  }
}

// Unpacks Q3_K's 16 signed 6-bit sub-block scales (stored +32) from its 12 scale bytes.
void unpack_q3_K_scales(const uint8_t* packed, int8_t* scales16);

}  // namespace quorum::kernels::ref
