// AVX-512 dot products of IQ2_XXS / IQ2_XS with Q8_K activations, 64 weights (two 32-weight
// sub-blocks) per step: eight 8-byte grid points form one vector of unsigned magnitudes, the
// eight sign bytes are used directly as a 64-bit lane mask that negates the matching
// activations, and maddubs + madd with the odd scales 2 * s + 1 (one int16 per 128-bit lane of
// 16 weights) give exact int32 sums. Each super-block's integer total is reduced and scaled in
// scalar exactly as the reference (ref/iq2_dot_ref.cpp) does.
#include <immintrin.h>

#include <cstring>

#include "kernels/x86_avx512/avx512.h"
#include "kernels/x86_avx512/avx512_util.h"
#include "tensor/blocks.h"
#include "tensor/iq_grids.h"

namespace quorum::kernels::avx512 {
namespace {

// Eight grid points (8 magnitudes each) in element order.
inline __m512i grid8(const uint64_t* grid, const int* idx) {
  return _mm512_set_epi64(static_cast<long long>(grid[idx[7]]), static_cast<long long>(grid[idx[6]]),
                          static_cast<long long>(grid[idx[5]]), static_cast<long long>(grid[idx[4]]),
                          static_cast<long long>(grid[idx[3]]), static_cast<long long>(grid[idx[2]]),
                          static_cast<long long>(grid[idx[1]]), static_cast<long long>(grid[idx[0]]));
}

// 16 int32 partial sums of grid[64] * q8[64] with q8 negated where `neg` has a bit set, the
// products of 128-bit lane l times ls[l].
inline __m512i signed_scaled_dot(__m512i grid, const int8_t* q8, uint64_t neg, const int* ls) {
  const __m512i y = _mm512_loadu_si512(q8);
  const __m512i sy = _mm512_mask_sub_epi8(y, _cvtu64_mask64(neg), _mm512_setzero_si512(), y);
  __m512i sc = _mm512_castsi128_si512(_mm_set1_epi16(static_cast<int16_t>(ls[0])));
  sc = _mm512_inserti32x4(sc, _mm_set1_epi16(static_cast<int16_t>(ls[1])), 1);
  sc = _mm512_inserti32x4(sc, _mm_set1_epi16(static_cast<int16_t>(ls[2])), 2);
  sc = _mm512_inserti32x4(sc, _mm_set1_epi16(static_cast<int16_t>(ls[3])), 3);
  return _mm512_madd_epi16(_mm512_maddubs_epi16(grid, sy), sc);
}

}  // namespace

float dot_iq2_xxs_q8_K(const void* w, const void* x, int64_t k) {
  const BlockIQ2_XXS* a = static_cast<const BlockIQ2_XXS*>(w);  // (k / 256)
  const BlockQ8_K* b = static_cast<const BlockQ8_K*>(x);        // (k / 256)
  float sumf = 0.0f;
  for (int64_t i = 0; i < k / kQK_K; ++i) {
    __m512i sumi = _mm512_setzero_si512();
    for (int ib64 = 0; ib64 < kQK_K / 64; ++ib64) {
      // Two sub-blocks of 8 bytes: 4 grid indices, then 4 x 7-bit sign indices + 4-bit scale.
      uint32_t aux[4];
      std::memcpy(aux, a[i].qs + 8 * ib64, sizeof(aux));
      int idx[8], ls[4];
      uint64_t neg = 0;
      for (int h = 0; h < 2; ++h) {
        const uint32_t g = aux[2 * h], sg = aux[2 * h + 1];
        for (int l = 0; l < 4; ++l) {
          idx[4 * h + l] = static_cast<int>((g >> (8 * l)) & 0xFF);
          neg |= static_cast<uint64_t>(kSignsIQ2XS[(sg >> (7 * l)) & 127]) << (8 * (4 * h + l));
        }
        ls[2 * h] = ls[2 * h + 1] = 2 * static_cast<int>(sg >> 28) + 1;
      }
      sumi = _mm512_add_epi32(
          sumi, signed_scaled_dot(grid8(kIQ2XXSGrid, idx), b[i].qs + 64 * ib64, neg, ls));
    }
    sumf += h2f(a[i].d) * b[i].d * static_cast<float>(_mm512_reduce_add_epi32(sumi));
  }
  return 0.125f * sumf;
}

float dot_iq2_xs_q8_K(const void* w, const void* x, int64_t k) {
  const BlockIQ2_XS* a = static_cast<const BlockIQ2_XS*>(w);  // (k / 256)
  const BlockQ8_K* b = static_cast<const BlockQ8_K*>(x);      // (k / 256)
  float sumf = 0.0f;
  for (int64_t i = 0; i < k / kQK_K; ++i) {
    __m512i sumi = _mm512_setzero_si512();
    for (int ib64 = 0; ib64 < kQK_K / 64; ++ib64) {
      const uint16_t* q2 = a[i].qs + 8 * ib64;
      int idx[8];
      uint64_t neg = 0;
      for (int l = 0; l < 8; ++l) {
        idx[l] = q2[l] & 511;
        neg |= static_cast<uint64_t>(kSignsIQ2XS[q2[l] >> 9]) << (8 * l);
      }
      const int s0 = a[i].scales[2 * ib64], s1 = a[i].scales[2 * ib64 + 1];
      const int ls[4] = {2 * (s0 & 0xF) + 1, 2 * (s0 >> 4) + 1, 2 * (s1 & 0xF) + 1,
                         2 * (s1 >> 4) + 1};
      sumi = _mm512_add_epi32(
          sumi, signed_scaled_dot(grid8(kIQ2XSGrid, idx), b[i].qs + 64 * ib64, neg, ls));
    }
    sumf += h2f(a[i].d) * b[i].d * static_cast<float>(_mm512_reduce_add_epi32(sumi));
  }
  return 0.125f * sumf;
}

}  // namespace quorum::kernels::avx512
