// AVX-512 attention over an F16 KV cache: keys and values widened to F32 on load. Scores: each
// key row is loaded once per query head of the group (it stays in L1); values: 16 output
// elements at a time, up to four query heads sharing each widened value vector.
#include <immintrin.h>

#include "kernels/x86_avx512/avx512.h"

namespace quorum::kernels::avx512 {
namespace {

inline __mmask16 mask_for(int64_t left) {
  return left >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << left) - 1u);
}

inline __m512 load_f16_masked(const uint16_t* p, __mmask16 m) {
  return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p));
}

}  // namespace

void attn_scores_f16(const uint16_t* k, int64_t stride, const float* q, int64_t n_q,
                     int64_t n_kv, int64_t hd, float* scores) {
  for (int64_t j = 0; j < n_kv; ++j) {
    const uint16_t* kj = k + j * stride;  // (hd) F16
    for (int64_t g = 0; g < n_q; ++g) {
      const float* qg = q + g * hd;
      __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
      int64_t d = 0;
      for (; d + 32 <= hd; d += 32) {
        acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(qg + d), load_f16_masked(kj + d, 0xFFFF), acc0);
        acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(qg + d + 16), load_f16_masked(kj + d + 16, 0xFFFF),
                               acc1);
      }
      for (; d < hd; d += 16) {
        const __mmask16 m = mask_for(hd - d);
        acc0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, qg + d), load_f16_masked(kj + d, m), acc0);
      }
      scores[g * n_kv + j] = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
    }
  }
}

void attn_values_f16(const uint16_t* v, int64_t stride, const float* p, int64_t n_q,
                     int64_t n_kv, int64_t hd, float* out) {
  for (int64_t g0 = 0; g0 < n_q; g0 += 4) {
    const int64_t ng = n_q - g0 < 4 ? n_q - g0 : 4;
    for (int64_t d = 0; d < hd; d += 16) {
      const __mmask16 m = mask_for(hd - d);
      __m512 acc[4] = {_mm512_setzero_ps(), _mm512_setzero_ps(), _mm512_setzero_ps(),
                       _mm512_setzero_ps()};
      for (int64_t j = 0; j < n_kv; ++j) {
        const __m512 vj = load_f16_masked(v + j * stride + d, m);
        for (int64_t g = 0; g < ng; ++g) {
          acc[g] = _mm512_fmadd_ps(_mm512_set1_ps(p[(g0 + g) * n_kv + j]), vj, acc[g]);
        }
      }
      for (int64_t g = 0; g < ng; ++g) _mm512_mask_storeu_ps(out + (g0 + g) * hd + d, m, acc[g]);
    }
  }
}

}  // namespace quorum::kernels::avx512
