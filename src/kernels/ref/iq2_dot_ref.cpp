// Scalar dot products of IQ2_XXS / IQ2_XS with Q8_K activations, as ggml's generic
// ggml_vec_dot_iq2_{xxs,xs}_q8_K: each group of 8 weights is a grid point (8 unsigned magnitudes
// 8/25/43, one byte each) with a sign pattern from kSignsIQ2XS; per 16 weights an exact integer
// sum is multiplied by the odd scale 2 * s + 1 (s the stored 4-bit nibble; IQ2_XXS has one s
// per 32 weights, which gives the same integers as ggml's per-32 sums), and per 256-weight
// super-block the integer total is scaled once by d_w * d_x. The whole row sum is finally
// multiplied by 0.125 (the grid magnitudes carry a factor 8 and (2s + 1) a factor 2 relative to
// the dequantized value d * (0.5 + s) * 0.25 * grid).
#include <cstring>

#include "core/fp16.h"
#include "kernels/ref/iq2_unpack.h"
#include "kernels/ref/ref.h"
#include "tensor/blocks.h"
#include "tensor/iq_grids.h"

namespace quorum::kernels::ref {

void unpack_iq2_xxs(const void* block, Iq2Block& out) {
  const BlockIQ2_XXS& b = *static_cast<const BlockIQ2_XXS*>(block);
  out.d = f16_to_f32(b.d);
  for (int ib32 = 0; ib32 < kQK_K / 32; ++ib32) {
    // 8 bytes per 32 weights: 4 grid indices, then 4 x 7-bit sign indices + 4-bit scale.
    uint32_t aux32[2];
    std::memcpy(aux32, b.qs + 4 * ib32, sizeof(aux32));
    for (int l = 0; l < 4; ++l) {
      out.grid[4 * ib32 + l] = static_cast<uint16_t>((aux32[0] >> (8 * l)) & 0xFF);
      out.signs[4 * ib32 + l] = kSignsIQ2XS[(aux32[1] >> (7 * l)) & 127];
    }
    out.scale[2 * ib32] = out.scale[2 * ib32 + 1] = static_cast<uint8_t>(2 * (aux32[1] >> 28) + 1);
  }
}

void unpack_iq2_xs(const void* block, Iq2Block& out) {
  const BlockIQ2_XS& b = *static_cast<const BlockIQ2_XS*>(block);
  out.d = f16_to_f32(b.d);
  for (int g = 0; g < kQK_K / 8; ++g) {
    // 16 bits per 8 weights: 9-bit grid index, 7-bit sign index.
    out.grid[g] = b.qs[g] & 511;
    out.signs[g] = kSignsIQ2XS[b.qs[g] >> 9];
  }
  for (int ib32 = 0; ib32 < kQK_K / 32; ++ib32) {
    // Low nibble: first 16 weights of the 32, high nibble: the second 16.
    out.scale[2 * ib32] = static_cast<uint8_t>(2 * (b.scales[ib32] & 0xF) + 1);
    out.scale[2 * ib32 + 1] = static_cast<uint8_t>(2 * (b.scales[ib32] >> 4) + 1);
  }
}

namespace {

// The common loop: nb super-blocks of `block_bytes` each, code book `grid`.
float dot_iq2(const uint8_t* w, size_t block_bytes, void (*unpack)(const void*, Iq2Block&),
              const uint64_t* grid, const BlockQ8_K* b, int64_t nb) {
  float sumf = 0.0f;
  Iq2Block u;
  for (int64_t i = 0; i < nb; ++i) {
    unpack(w + i * block_bytes, u);
    int32_t bsum = 0;
    for (int h = 0; h < 16; ++h) {  // 16 weights: two grid points, one scale
      int32_t sumi = 0;
      for (int g = 2 * h; g < 2 * h + 2; ++g) {
        uint8_t mag[8];
        std::memcpy(mag, &grid[u.grid[g]], 8);
        const int8_t* q8 = b[i].qs + 8 * g;
        for (int j = 0; j < 8; ++j) {
          const int v = mag[j] * q8[j];
          sumi += (u.signs[g] & kMaskIQ2XS[j]) ? -v : v;
        }
      }
      bsum += sumi * u.scale[h];
    }
    sumf += u.d * b[i].d * static_cast<float>(bsum);
  }
  return 0.125f * sumf;
}

}  // namespace

float dot_iq2_xxs_q8_K(const void* w, const void* x, int64_t k) {
  return dot_iq2(static_cast<const uint8_t*>(w), sizeof(BlockIQ2_XXS), unpack_iq2_xxs,
                 kIQ2XXSGrid, static_cast<const BlockQ8_K*>(x), k / kQK_K);
}

float dot_iq2_xs_q8_K(const void* w, const void* x, int64_t k) {
  return dot_iq2(static_cast<const uint8_t*>(w), sizeof(BlockIQ2_XS), unpack_iq2_xs, kIQ2XSGrid,
                 static_cast<const BlockQ8_K*>(x), k / kQK_K);
}

}  // namespace quorum::kernels::ref
