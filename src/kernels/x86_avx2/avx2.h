// AVX2 + FMA + F16C kernels (this folder is compiled with -mavx2 -mfma -mf16c; only call these
// after Kernels checked the CPU). Rule for this folder: no inline functions or templates shared
// with generic code (no <algorithm>, no core/fp16.h helpers), so the linker can never pick an
// AVX2-compiled copy of a function the generic code also uses.
#pragma once

#include <cstdint>

namespace quorum::kernels::avx2 {

float dot_f32(const void* w, const void* x, int64_t k);
// Row ops (ops_avx2.cpp), same contracts as Kernels::softmax / swiglu.
void softmax(float* x, int64_t n);
void swiglu(const float* gate, const float* up, float* y, int64_t n);
void attn_scores_f16(const uint16_t* k, int64_t stride, const float* q, int64_t n_q,
                     int64_t n_kv, int64_t hd, float* scores);
void attn_values_f16(const uint16_t* v, int64_t stride, const float* p, int64_t n_q,
                     int64_t n_kv, int64_t hd, float* out);
float dot_f16(const void* w, const void* x, int64_t k);
float dot_bf16(const void* w, const void* x, int64_t k);
void quantize_row_f16(const float* x, void* y, int64_t k);
void quantize_row_q8_0(const float* x, void* y, int64_t k);
void quantize_row_q8_1(const float* x, void* y, int64_t k);
void quantize_row_q8_K(const float* x, void* y, int64_t k);

float dot_q8_0_q8_0(const void* w, const void* x, int64_t k);
float dot_q4_0_q8_0(const void* w, const void* x, int64_t k);
float dot_q4_1_q8_1(const void* w, const void* x, int64_t k);
float dot_q5_0_q8_0(const void* w, const void* x, int64_t k);
float dot_q5_1_q8_1(const void* w, const void* x, int64_t k);
float dot_iq4_nl_q8_0(const void* w, const void* x, int64_t k);
float dot_q2_K_q8_K(const void* w, const void* x, int64_t k);
float dot_q3_K_q8_K(const void* w, const void* x, int64_t k);
float dot_q4_K_q8_K(const void* w, const void* x, int64_t k);
float dot_q5_K_q8_K(const void* w, const void* x, int64_t k);
float dot_q6_K_q8_K(const void* w, const void* x, int64_t k);
float dot_iq2_xxs_q8_K(const void* w, const void* x, int64_t k);
float dot_iq2_xs_q8_K(const void* w, const void* x, int64_t k);

}  // namespace quorum::kernels::avx2
