// AVX2 + FMA + F16C kernels (this folder is compiled with -mavx2 -mfma -mf16c; only call these
// after Kernels checked the CPU). Rule for this folder: no inline functions or templates shared
// with generic code (no <algorithm>, no core/fp16.h helpers), so the linker can never pick an
// AVX2-compiled copy of a function the generic code also uses.
#pragma once

#include <cstddef>
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
// Four activation rows (Dot4Fn); the same bits as the one-row dots.
void dot4_q4_0_q8_0(const void* w, const void* x, size_t x_stride, int64_t k, float* out);
void dot4_q4_1_q8_1(const void* w, const void* x, size_t x_stride, int64_t k, float* out);
void dot4_q5_0_q8_0(const void* w, const void* x, size_t x_stride, int64_t k, float* out);
void dot4_q5_1_q8_1(const void* w, const void* x, size_t x_stride, int64_t k, float* out);
void dot4_iq4_nl_q8_0(const void* w, const void* x, size_t x_stride, int64_t k, float* out);
float dot_q2_K_q8_K(const void* w, const void* x, int64_t k);
float dot_q3_K_q8_K(const void* w, const void* x, int64_t k);
void dot4_q2_K_q8_K(const void* w, const void* x, size_t x_stride, int64_t k, float* out);
void dot4_q3_K_q8_K(const void* w, const void* x, size_t x_stride, int64_t k, float* out);
float dot_q4_K_q8_K(const void* w, const void* x, int64_t k);
float dot_q5_K_q8_K(const void* w, const void* x, int64_t k);
float dot_q6_K_q8_K(const void* w, const void* x, int64_t k);
float dot_iq2_xxs_q8_K(const void* w, const void* x, int64_t k);
float dot_iq2_xs_q8_K(const void* w, const void* x, int64_t k);

// Blocked GEMM entries (GemmEntry in kernel_table.h), gemm_*_avx2.cpp: panels of kGemmRows
// weight rows, activation tiles of kGemm<type>Cols rows.
inline constexpr int64_t kGemmRows = 16;
inline constexpr int64_t kGemmFloatCols = 6;
void gemm_prep_f16(const void* act, size_t act_row, int64_t n, int64_t k, void* out);
void gemm_prep_bf16(const void* act, size_t act_row, int64_t n, int64_t k, void* out);
size_t gemm_prep_bytes_float(int64_t n, int64_t k);
size_t gemm_scratch_bytes_float(int64_t n, int64_t k);
void gemm_run_f16(const void* w, size_t w_row, int64_t i0, int64_t i1, int64_t k,
                  const void* prepped, int64_t n, float* y, int64_t ldy, void* scratch);
void gemm_run_bf16(const void* w, size_t w_row, int64_t i0, int64_t i1, int64_t k,
                   const void* prepped, int64_t n, float* y, int64_t ldy, void* scratch);
inline constexpr int64_t kGemmQ8_0Cols = 4;
void gemm_prep_q8_0(const void* act, size_t act_row, int64_t n, int64_t k, void* out);
size_t gemm_prep_bytes_q8_0(int64_t n, int64_t k);
size_t gemm_scratch_bytes_q8_0(int64_t n, int64_t k);
void gemm_run_q8_0(const void* w, size_t w_row, int64_t i0, int64_t i1, int64_t k,
                   const void* prepped, int64_t n, float* y, int64_t ldy, void* scratch);
inline constexpr int64_t kGemmQ8_KCols = 4;
void gemm_prep_q8_K(const void* act, size_t act_row, int64_t n, int64_t k, void* out);
size_t gemm_prep_bytes_q8_K(int64_t n, int64_t k);
size_t gemm_scratch_bytes_q4_K(int64_t n, int64_t k);
size_t gemm_scratch_bytes_q6_K(int64_t n, int64_t k);
void gemm_run_q4_K(const void* w, size_t w_row, int64_t i0, int64_t i1, int64_t k,
                   const void* prepped, int64_t n, float* y, int64_t ldy, void* scratch);
void gemm_run_q6_K(const void* w, size_t w_row, int64_t i0, int64_t i1, int64_t k,
                   const void* prepped, int64_t n, float* y, int64_t ldy, void* scratch);
void gemm_run_q5_K(const void* w, size_t w_row, int64_t i0, int64_t i1, int64_t k,
                   const void* prepped, int64_t n, float* y, int64_t ldy, void* scratch);

}  // namespace quorum::kernels::avx2
