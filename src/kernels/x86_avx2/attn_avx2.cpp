// AVX2 attention over an F16 KV cache (see the AVX-512 version): 8 lanes, scalar tails.
#include <immintrin.h>

#include "kernels/x86_avx2/avx2.h"

namespace quorum::kernels::avx2 {
namespace {

inline float half_to_float(uint16_t h) {
  return _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(static_cast<int>(h))));
}

inline __m256 load8_f16(const uint16_t* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

inline float hsum(__m256 v) {
  const __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 t = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(t, _mm_shuffle_ps(t, t, 1)));
}

}  // namespace

void attn_scores_f16(const uint16_t* k, int64_t stride, const float* q, int64_t n_q,
                     int64_t n_kv, int64_t hd, float* scores) {
  for (int64_t j = 0; j < n_kv; ++j) {
    const uint16_t* kj = k + j * stride;  // (hd) F16
    for (int64_t g = 0; g < n_q; ++g) {
      const float* qg = q + g * hd;
      __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
      int64_t d = 0;
      for (; d + 16 <= hd; d += 16) {
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(qg + d), load8_f16(kj + d), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(qg + d + 8), load8_f16(kj + d + 8), acc1);
      }
      for (; d + 8 <= hd; d += 8) {
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(qg + d), load8_f16(kj + d), acc0);
      }
      float dot = hsum(_mm256_add_ps(acc0, acc1));
      for (; d < hd; ++d) dot += qg[d] * half_to_float(kj[d]);
      scores[g * n_kv + j] = dot;
    }
  }
}

void attn_values_f16(const uint16_t* v, int64_t stride, const float* p, int64_t n_q,
                     int64_t n_kv, int64_t hd, float* out) {
  for (int64_t g0 = 0; g0 < n_q; g0 += 4) {
    const int64_t ng = n_q - g0 < 4 ? n_q - g0 : 4;
    int64_t d = 0;
    for (; d + 8 <= hd; d += 8) {
      __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(),
                       _mm256_setzero_ps()};
      for (int64_t j = 0; j < n_kv; ++j) {
        const __m256 vj = load8_f16(v + j * stride + d);
        for (int64_t g = 0; g < ng; ++g) {
          acc[g] = _mm256_fmadd_ps(_mm256_set1_ps(p[(g0 + g) * n_kv + j]), vj, acc[g]);
        }
      }
      for (int64_t g = 0; g < ng; ++g) _mm256_storeu_ps(out + (g0 + g) * hd + d, acc[g]);
    }
    for (; d < hd; ++d) {
      for (int64_t g = 0; g < ng; ++g) {
        float acc = 0.0f;
        for (int64_t j = 0; j < n_kv; ++j) {
          acc += p[(g0 + g) * n_kv + j] * half_to_float(v[j * stride + d]);
        }
        out[(g0 + g) * hd + d] = acc;
      }
    }
  }
}

}  // namespace quorum::kernels::avx2
