// Small AVX-512 helpers shared by this folder's compile units (all built with the same AVX-512
// flags). Internal linkage on purpose: each unit keeps its own copy, so the linker can never
// merge them with a same-named function compiled for another instruction set.
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace quorum::kernels::avx512 {
namespace {

inline float h2f(uint16_t h) { return _cvtsh_ss(h); }
inline __m256i load32(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }
inline __m512i load64(const void* p) { return _mm512_loadu_si512(p); }
inline __m512i join(__m256i lo, __m256i hi) {
  return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}
// Sum of 8 floats.
inline float hsum256(__m256 m) {
  __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
  s4 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
  s4 = _mm_add_ss(s4, _mm_movehdup_ps(s4));
  return _mm_cvtss_f32(s4);
}

}  // namespace
}  // namespace quorum::kernels::avx512
