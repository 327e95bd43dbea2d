// AVX-512 (F/BW/VL/DQ/VNNI) kernels (this folder's *_avx512.cpp files are compiled with those
// flags; only call them after Kernels checked the CPU). Same rule as x86_avx2/: no inline
// functions or templates shared with generic code.
#pragma once

#include <cstdint>

namespace quorum::kernels::avx512 {

float dot_f32(const void* w, const void* x, int64_t k);
float dot_f16(const void* w, const void* x, int64_t k);
float dot_bf16(const void* w, const void* x, int64_t k);
void quantize_row_f16(const float* x, void* y, int64_t k);

}  // namespace quorum::kernels::avx512
