// Scalar dot products of IQ2_XXS / IQ2_XS with Q8_K activations, as ggml's generic
// ggml_vec_dot_iq2_{xxs,xs}_q8_K: each group of 8 weights is a grid point (8 unsigned magnitudes
// 8/25/43, one byte each) with a sign pattern from kSignsIQ2XS; per 32 (XXS) or 16 (XS) weights
// an exact integer sum is multiplied by the odd scale 2 * s + 1 (s the stored 4-bit nibble), and
// per 256-weight super-block the integer total is scaled once by d_w * d_x. The whole row sum
// is finally multiplied by 0.125 (the grid magnitudes carry a factor 8 and (2s + 1) a factor 2
// relative to the dequantized value d * (0.5 + s) * 0.25 * grid).
#include <cstring>

#include "core/fp16.h"
#include "kernels/ref/ref.h"
#include "tensor/blocks.h"
#include "tensor/iq_grids.h"

namespace quorum::kernels::ref {
namespace {

// sum_j grid[j] * q8[j] * (sign bit j of `signs` ? -1 : 1) over one 8-weight group.
int grid8_dot(uint64_t grid, uint8_t signs, const int8_t* q8) {
  uint8_t g[8];
  std::memcpy(g, &grid, 8);
  int sum = 0;
  for (int j = 0; j < 8; ++j) {
    const int v = g[j] * q8[j];
    sum += (signs & kMaskIQ2XS[j]) ? -v : v;
  }
  return sum;
}

}  // namespace

float dot_iq2_xxs_q8_K(const void* w, const void* x, int64_t k) {
  const BlockIQ2_XXS* a = static_cast<const BlockIQ2_XXS*>(w);  // (k / 256)
  const BlockQ8_K* b = static_cast<const BlockQ8_K*>(x);        // (k / 256)
  float sumf = 0.0f;
  for (int64_t i = 0; i < k / kQK_K; ++i) {
    const float d = f16_to_f32(a[i].d) * b[i].d;
    const int8_t* q8 = b[i].qs;
    int32_t bsum = 0;
    for (int ib32 = 0; ib32 < kQK_K / 32; ++ib32) {
      // 8 bytes per 32 weights: 4 grid indices, then 4 x 7-bit sign indices + 4-bit scale.
      uint32_t aux32[2];
      std::memcpy(aux32, a[i].qs + 4 * ib32, sizeof(aux32));
      uint8_t idx[4];
      std::memcpy(idx, &aux32[0], 4);
      const int32_t ls = 2 * static_cast<int32_t>(aux32[1] >> 28) + 1;
      int32_t sumi = 0;
      for (int l = 0; l < 4; ++l, q8 += 8) {
        sumi += grid8_dot(kIQ2XXSGrid[idx[l]], kSignsIQ2XS[(aux32[1] >> (7 * l)) & 127], q8);
      }
      bsum += sumi * ls;
    }
    sumf += d * static_cast<float>(bsum);
  }
  return 0.125f * sumf;
}

float dot_iq2_xs_q8_K(const void* w, const void* x, int64_t k) {
  const BlockIQ2_XS* a = static_cast<const BlockIQ2_XS*>(w);  // (k / 256)
  const BlockQ8_K* b = static_cast<const BlockQ8_K*>(x);      // (k / 256)
  float sumf = 0.0f;
  for (int64_t i = 0; i < k / kQK_K; ++i) {
    const float d = f16_to_f32(a[i].d) * b[i].d;
    const uint16_t* q2 = a[i].qs;
    const int8_t* q8 = b[i].qs;
    int32_t bsum = 0;
    for (int ib32 = 0; ib32 < kQK_K / 32; ++ib32, q2 += 4) {
      // Two 16-weight halves, each with its own 4-bit scale nibble (low nibble first).
      for (int half = 0; half < 2; ++half) {
        const int32_t ls = 2 * ((a[i].scales[ib32] >> (4 * half)) & 0xF) + 1;
        int32_t sumi = 0;
        for (int l = 2 * half; l < 2 * half + 2; ++l, q8 += 8) {
          sumi += grid8_dot(kIQ2XSGrid[q2[l] & 511], kSignsIQ2XS[q2[l] >> 9], q8);
        }
        bsum += sumi * ls;
      }
    }
    sumf += d * static_cast<float>(bsum);
  }
  return 0.125f * sumf;
}

}  // namespace quorum::kernels::ref
