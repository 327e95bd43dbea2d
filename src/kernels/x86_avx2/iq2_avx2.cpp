// AVX2 dot products of IQ2_XXS / IQ2_XS with Q8_K activations. Each super-block is unpacked by
// the reference's unpack_iq2_* (grid index and sign byte per 8 weights, odd scale per 16); per 32
// weights the four 8-byte grid points form one vector of unsigned magnitudes, the four sign bytes
// become a byte mask that negates the matching activations, then maddubs (int16 pairs,
// |value| <= 2 * 43 * 127) and madd with the scales give exact int32 sums. The eight int32 lanes
// are scaled by d_w * d_x into eight float lanes per super-block, summed at the end: the rounding
// order of ggml's AVX2 kernel, which llama.cpp runs on x86 (closer to its logits than a per-block
// scalar sum; the integers are the same).
#include <immintrin.h>

#include <cstring>

#include "kernels/ref/iq2_unpack.h"
#include "kernels/x86_avx2/avx2.h"
#include "kernels/x86_avx2/avx2_util.h"
#include "tensor/blocks.h"
#include "tensor/iq_grids.h"

namespace quorum::kernels::avx2 {
namespace {

float dot_iq2(const uint8_t* w, size_t block_bytes, void (*unpack)(const void*, ref::Iq2Block&),
              const uint64_t* grid, const BlockQ8_K* b, int64_t nb) {
  __m256 acc = _mm256_setzero_ps();
  ref::Iq2Block u;
  for (int64_t i = 0; i < nb; ++i) {
    unpack(w + i * block_bytes, u);
    __m256i sumi = _mm256_setzero_si256();
    for (int s = 0; s < kQK_K / 32; ++s) {
      const uint16_t* gi = u.grid + 4 * s;
      const __m256i mag = _mm256_set_epi64x(
          static_cast<long long>(grid[gi[3]]), static_cast<long long>(grid[gi[2]]),
          static_cast<long long>(grid[gi[1]]), static_cast<long long>(grid[gi[0]]));
      uint32_t signs;
      std::memcpy(&signs, u.signs + 4 * s, 4);
      const __m256i neg = bits_to_bytes(signs);  // 0xFF: negate the activation
      const __m256i q8 = load32(b[i].qs + 32 * s);
      const __m256i sq8 = _mm256_sub_epi8(_mm256_xor_si256(q8, neg), neg);
      const __m256i sc = _mm256_set_m128i(_mm_set1_epi16(u.scale[2 * s + 1]),
                                          _mm_set1_epi16(u.scale[2 * s]));
      sumi = _mm256_add_epi32(sumi, _mm256_madd_epi16(_mm256_maddubs_epi16(mag, sq8), sc));
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(u.d * b[i].d), _mm256_cvtepi32_ps(sumi), acc);
  }
  return 0.125f * hsum(acc);
}

}  // namespace

float dot_iq2_xxs_q8_K(const void* w, const void* x, int64_t k) {
  return dot_iq2(static_cast<const uint8_t*>(w), sizeof(BlockIQ2_XXS), ref::unpack_iq2_xxs,
                 kIQ2XXSGrid, static_cast<const BlockQ8_K*>(x), k / kQK_K);
}

float dot_iq2_xs_q8_K(const void* w, const void* x, int64_t k) {
  return dot_iq2(static_cast<const uint8_t*>(w), sizeof(BlockIQ2_XS), ref::unpack_iq2_xs,
                 kIQ2XSGrid, static_cast<const BlockQ8_K*>(x), k / kQK_K);
}

}  // namespace quorum::kernels::avx2
