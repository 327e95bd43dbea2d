// AVX2 dot products of IQ2_XXS / IQ2_XS with Q8_K activations. Per 32 weights: the four
// 8-byte grid points form one vector of unsigned magnitudes, the four sign bytes are spread to a
// byte mask (one bit per weight) that negates the matching activations, then maddubs (int16
// pairs, |value| <= 2 * 43 * 127) and madd with the odd scale 2 * s + 1 give exact int32 sums.
// Each super-block's integer total is reduced and scaled in scalar exactly as the reference
// (ref/iq2_dot_ref.cpp) does, so the result is the reference's to the bit.
#include <immintrin.h>

#include <cstring>

#include "kernels/x86_avx2/avx2.h"
#include "kernels/x86_avx2/avx2_util.h"
#include "tensor/blocks.h"
#include "tensor/iq_grids.h"

namespace quorum::kernels::avx2 {
namespace {

// Four grid points (8 magnitudes each) in element order.
inline __m256i grid4(const uint64_t* grid, int i0, int i1, int i2, int i3) {
  return _mm256_set_epi64x(static_cast<long long>(grid[i3]), static_cast<long long>(grid[i2]),
                           static_cast<long long>(grid[i1]), static_cast<long long>(grid[i0]));
}

// q8[32] with element 8 l + j negated where bit j of sign byte l (of `packed`) is set.
inline __m256i apply_signs(__m256i q8, uint32_t packed) {
  const __m256i neg = bits_to_bytes(packed);  // 0xFF: negate
  return _mm256_sub_epi8(_mm256_xor_si256(q8, neg), neg);
}

// 8 int32 partial sums of grid[32] * signed q8[32], the first 16 products times ls_lo and the
// last 16 times ls_hi.
inline __m256i scaled_dot(__m256i grid, __m256i sq8, int ls_lo, int ls_hi) {
  const __m256i sc = _mm256_set_m128i(_mm_set1_epi16(static_cast<int16_t>(ls_hi)),
                                      _mm_set1_epi16(static_cast<int16_t>(ls_lo)));
  return _mm256_madd_epi16(_mm256_maddubs_epi16(grid, sq8), sc);
}

}  // namespace

float dot_iq2_xxs_q8_K(const void* w, const void* x, int64_t k) {
  const BlockIQ2_XXS* a = static_cast<const BlockIQ2_XXS*>(w);  // (k / 256)
  const BlockQ8_K* b = static_cast<const BlockQ8_K*>(x);        // (k / 256)
  float sumf = 0.0f;
  for (int64_t i = 0; i < k / kQK_K; ++i) {
    __m256i sumi = _mm256_setzero_si256();
    for (int ib32 = 0; ib32 < kQK_K / 32; ++ib32) {
      uint32_t aux32[2];
      std::memcpy(aux32, a[i].qs + 4 * ib32, sizeof(aux32));
      uint8_t idx[4];
      std::memcpy(idx, &aux32[0], 4);
      const uint32_t sg = aux32[1];
      const uint32_t packed = kSignsIQ2XS[sg & 127] | (kSignsIQ2XS[(sg >> 7) & 127] << 8) |
                              (kSignsIQ2XS[(sg >> 14) & 127] << 16) |
                              (static_cast<uint32_t>(kSignsIQ2XS[(sg >> 21) & 127]) << 24);
      const __m256i g = grid4(kIQ2XXSGrid, idx[0], idx[1], idx[2], idx[3]);
      const __m256i sq8 = apply_signs(load32(b[i].qs + 32 * ib32), packed);
      const int ls = 2 * static_cast<int>(sg >> 28) + 1;
      sumi = _mm256_add_epi32(sumi, scaled_dot(g, sq8, ls, ls));
    }
    sumf += h2f(a[i].d) * b[i].d * static_cast<float>(hsum_i32(sumi));
  }
  return 0.125f * sumf;
}

float dot_iq2_xs_q8_K(const void* w, const void* x, int64_t k) {
  const BlockIQ2_XS* a = static_cast<const BlockIQ2_XS*>(w);  // (k / 256)
  const BlockQ8_K* b = static_cast<const BlockQ8_K*>(x);      // (k / 256)
  float sumf = 0.0f;
  for (int64_t i = 0; i < k / kQK_K; ++i) {
    __m256i sumi = _mm256_setzero_si256();
    for (int ib32 = 0; ib32 < kQK_K / 32; ++ib32) {
      const uint16_t* q2 = a[i].qs + 4 * ib32;
      const uint32_t packed = kSignsIQ2XS[q2[0] >> 9] | (kSignsIQ2XS[q2[1] >> 9] << 8) |
                              (kSignsIQ2XS[q2[2] >> 9] << 16) |
                              (static_cast<uint32_t>(kSignsIQ2XS[q2[3] >> 9]) << 24);
      const __m256i g = grid4(kIQ2XSGrid, q2[0] & 511, q2[1] & 511, q2[2] & 511, q2[3] & 511);
      const __m256i sq8 = apply_signs(load32(b[i].qs + 32 * ib32), packed);
      const int sc = a[i].scales[ib32];
      sumi = _mm256_add_epi32(sumi, scaled_dot(g, sq8, 2 * (sc & 0xF) + 1, 2 * (sc >> 4) + 1));
    }
    sumf += h2f(a[i].d) * b[i].d * static_cast<float>(hsum_i32(sumi));
  }
  return 0.125f * sumf;
}

}  // namespace quorum::kernels::avx2
