// AVX2 dot products of the plain types: four 8-lane F32 FMA accumulators (32 elements per step),
// scalar tail; F16 and BF16 are widened to F32 on load.
#include <immintrin.h>

#include "kernels/x86_avx2/avx2.h"
#include "kernels/x86_avx2/avx2_util.h"

namespace quorum::kernels::avx2 {
namespace {

inline __m256 load_f16(const uint16_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

inline __m256 load_bf16(const uint16_t* p) {
  const __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
}

inline float bf16_scalar(uint16_t h) {
  const uint32_t u = static_cast<uint32_t>(h) << 16;
  float f;
  __builtin_memcpy(&f, &u, 4);
  return f;
}

}  // namespace

float dot_f32(const void* w, const void* x, int64_t k) {
  const float* a = static_cast<const float*>(w);  // (k)
  const float* b = static_cast<const float*>(x);  // (k)
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                   _mm256_setzero_ps()};
  int64_t i = 0;
  for (; i + 32 <= k; i += 32) {
    for (int u = 0; u < 4; ++u) {
      acc[u] = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8 * u), _mm256_loadu_ps(b + i + 8 * u),
                               acc[u]);
    }
  }
  for (; i + 8 <= k; i += 8) {
    acc[0] = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc[0]);
  }
  float sum = hsum(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3])));
  for (; i < k; ++i) sum += a[i] * b[i];
  return sum;
}

float dot_f16(const void* w, const void* x, int64_t k) {
  const uint16_t* a = static_cast<const uint16_t*>(w);  // (k) F16
  const uint16_t* b = static_cast<const uint16_t*>(x);  // (k) F16
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                   _mm256_setzero_ps()};
  int64_t i = 0;
  for (; i + 32 <= k; i += 32) {
    for (int u = 0; u < 4; ++u) {
      acc[u] = _mm256_fmadd_ps(load_f16(a + i + 8 * u), load_f16(b + i + 8 * u), acc[u]);
    }
  }
  for (; i + 8 <= k; i += 8) acc[0] = _mm256_fmadd_ps(load_f16(a + i), load_f16(b + i), acc[0]);
  float sum = hsum(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3])));
  for (; i < k; ++i) sum += _cvtsh_ss(a[i]) * _cvtsh_ss(b[i]);
  return sum;
}

float dot_bf16(const void* w, const void* x, int64_t k) {
  const uint16_t* a = static_cast<const uint16_t*>(w);  // (k) BF16
  const uint16_t* b = static_cast<const uint16_t*>(x);  // (k) BF16
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                   _mm256_setzero_ps()};
  int64_t i = 0;
  for (; i + 32 <= k; i += 32) {
    for (int u = 0; u < 4; ++u) {
      acc[u] = _mm256_fmadd_ps(load_bf16(a + i + 8 * u), load_bf16(b + i + 8 * u), acc[u]);
    }
  }
  for (; i + 8 <= k; i += 8) acc[0] = _mm256_fmadd_ps(load_bf16(a + i), load_bf16(b + i), acc[0]);
  float sum = hsum(_mm256_add_ps(_mm256_add_ps(acc[0], acc[1]), _mm256_add_ps(acc[2], acc[3])));
  for (; i < k; ++i) sum += bf16_scalar(a[i]) * bf16_scalar(b[i]);
  return sum;
}

// F32 -> F16 with round to nearest even, bit-identical to the reference for finite values.
void quantize_row_f16(const float* x, void* vy, int64_t k) {
  uint16_t* y = static_cast<uint16_t*>(vy);  // (k)
  int64_t i = 0;
  for (; i + 8 <= k; i += 8) {
    const __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y + i), h);
  }
  for (; i < k; ++i) y[i] = _cvtss_sh(x[i], _MM_FROUND_TO_NEAREST_INT);
}

}  // namespace quorum::kernels::avx2
