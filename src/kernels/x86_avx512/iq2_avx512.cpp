// AVX-512 dot products of IQ2_XXS / IQ2_XS with Q8_K activations, 64 weights per step. Each
// super-block is unpacked by the reference's unpack_iq2_* (grid index and sign byte per 8
// weights, odd scale per 16); eight 8-byte grid points form one vector of unsigned magnitudes,
// the eight sign bytes are used directly as a 64-bit lane mask that negates the matching
// activations, and maddubs + madd with the scales (one int16 per 128-bit lane of 16 weights) give
// exact int32 sums. The 16 lanes fold to ggml's AVX2 layout (8 lanes) and are scaled into float
// lanes per super-block, as in x86_avx2/iq2_avx2.cpp. The four-column versions (dot4) unpack each
// super-block once for four activation columns.
#include <immintrin.h>

#include <cstring>

#include "kernels/ref/iq2_unpack.h"
#include "kernels/x86_avx512/avx512.h"
#include "kernels/x86_avx512/avx512_util.h"
#include "tensor/blocks.h"
#include "tensor/iq_grids.h"

namespace quorum::kernels::avx512 {
namespace {

// NC activation columns (column c: Q8_K blocks at x + c * x_stride bytes); each super-block is
// unpacked once and its 64-weight steps (magnitudes, sign masks, scales) reused for every column,
// whose arithmetic is the same as with one column.
template <int NC>
void dot_iq2(const uint8_t* w, size_t block_bytes, void (*unpack)(const void*, ref::Iq2Block&),
             const uint64_t* grid, const uint8_t* x, size_t x_stride, int64_t nb, float* out) {
  __m256 acc[NC];
  for (int c = 0; c < NC; ++c) acc[c] = _mm256_setzero_ps();
  ref::Iq2Block u;
  __m512i mag[kQK_K / 64], sc[kQK_K / 64];
  __mmask64 neg[kQK_K / 64];
  for (int64_t i = 0; i < nb; ++i) {
    unpack(w + i * block_bytes, u);
    for (int s = 0; s < kQK_K / 64; ++s) {
      const uint16_t* gi = u.grid + 8 * s;
      mag[s] = _mm512_set_epi64(
          static_cast<long long>(grid[gi[7]]), static_cast<long long>(grid[gi[6]]),
          static_cast<long long>(grid[gi[5]]), static_cast<long long>(grid[gi[4]]),
          static_cast<long long>(grid[gi[3]]), static_cast<long long>(grid[gi[2]]),
          static_cast<long long>(grid[gi[1]]), static_cast<long long>(grid[gi[0]]));
      uint64_t bits;
      std::memcpy(&bits, u.signs + 8 * s, 8);
      neg[s] = _cvtu64_mask64(bits);
      const uint8_t* ls = u.scale + 4 * s;
      sc[s] = _mm512_castsi128_si512(_mm_set1_epi16(ls[0]));
      sc[s] = _mm512_inserti32x4(sc[s], _mm_set1_epi16(ls[1]), 1);
      sc[s] = _mm512_inserti32x4(sc[s], _mm_set1_epi16(ls[2]), 2);
      sc[s] = _mm512_inserti32x4(sc[s], _mm_set1_epi16(ls[3]), 3);
    }
    for (int c = 0; c < NC; ++c) {
      const BlockQ8_K& b = reinterpret_cast<const BlockQ8_K*>(x + c * x_stride)[i];
      __m512i sumi = _mm512_setzero_si512();
      for (int s = 0; s < kQK_K / 64; ++s) {
        const __m512i y = load64(b.qs + 64 * s);
        const __m512i sy = _mm512_mask_sub_epi8(y, neg[s], _mm512_setzero_si512(), y);
        sumi = _mm512_add_epi32(sumi, _mm512_madd_epi16(_mm512_maddubs_epi16(mag[s], sy), sc[s]));
      }
      // Fold to 8 lanes: lane j then holds weights 4 j .. 4 j + 3 of every 32, as ggml's AVX2.
      const __m256i sum8 =
          _mm256_add_epi32(_mm512_castsi512_si256(sumi), _mm512_extracti64x4_epi64(sumi, 1));
      acc[c] = _mm256_fmadd_ps(_mm256_set1_ps(u.d * b.d), _mm256_cvtepi32_ps(sum8), acc[c]);
    }
  }
  for (int c = 0; c < NC; ++c) out[c] = 0.125f * hsum256(acc[c]);
}

}  // namespace

float dot_iq2_xxs_q8_K(const void* w, const void* x, int64_t k) {
  float out;
  dot_iq2<1>(static_cast<const uint8_t*>(w), sizeof(BlockIQ2_XXS), ref::unpack_iq2_xxs, kIQ2XXSGrid,
             static_cast<const uint8_t*>(x), 0, k / kQK_K, &out);
  return out;
}
void dot4_iq2_xxs_q8_K(const void* w, const void* x, size_t x_stride, int64_t k, float* out) {
  dot_iq2<4>(static_cast<const uint8_t*>(w), sizeof(BlockIQ2_XXS), ref::unpack_iq2_xxs, kIQ2XXSGrid,
             static_cast<const uint8_t*>(x), x_stride, k / kQK_K, out);
}

float dot_iq2_xs_q8_K(const void* w, const void* x, int64_t k) {
  float out;
  dot_iq2<1>(static_cast<const uint8_t*>(w), sizeof(BlockIQ2_XS), ref::unpack_iq2_xs, kIQ2XSGrid,
             static_cast<const uint8_t*>(x), 0, k / kQK_K, &out);
  return out;
}
void dot4_iq2_xs_q8_K(const void* w, const void* x, size_t x_stride, int64_t k, float* out) {
  dot_iq2<4>(static_cast<const uint8_t*>(w), sizeof(BlockIQ2_XS), ref::unpack_iq2_xs, kIQ2XSGrid,
             static_cast<const uint8_t*>(x), x_stride, k / kQK_K, out);
}

}  // namespace quorum::kernels::avx512
