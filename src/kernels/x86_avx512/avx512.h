// AVX-512 (F/BW/VL/DQ/VNNI) kernels (this folder's *_avx512.cpp files are compiled with those
// flags; only call them after Kernels checked the CPU). Same rule as x86_avx2/: no inline
// functions or templates shared with generic code.
#pragma once

#include <cstddef>
#include <cstdint>

namespace quorum::kernels::avx512 {

float dot_f32(const void* w, const void* x, int64_t k);
float dot_f16(const void* w, const void* x, int64_t k);
float dot_bf16(const void* w, const void* x, int64_t k);
void quantize_row_f16(const float* x, void* y, int64_t k);

float dot_q8_0_q8_0(const void* w, const void* x, int64_t k);
float dot_q4_K_q8_K(const void* w, const void* x, int64_t k);
float dot_q6_K_q8_K(const void* w, const void* x, int64_t k);
float dot_iq2_xxs_q8_K(const void* w, const void* x, int64_t k);
float dot_iq2_xs_q8_K(const void* w, const void* x, int64_t k);
// Four activation rows at x, x + x_stride, ... (bytes): out[c] = dot(w, row c).
void dot4_q8_0_q8_0(const void* w, const void* x, size_t x_stride, int64_t k, float* out);
// F16 weights with four F32 rows holding F16-rounded activations (exactly the F16 values).
void dot4_f16_f32(const void* w, const void* x, size_t x_stride, int64_t k, float* out);
void dot4_q4_K_q8_K(const void* w, const void* x, size_t x_stride, int64_t k, float* out);
void dot4_q6_K_q8_K(const void* w, const void* x, size_t x_stride, int64_t k, float* out);

}  // namespace quorum::kernels::avx512
