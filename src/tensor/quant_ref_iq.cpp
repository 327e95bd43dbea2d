// Reference (de)quantizers of the IQ types: IQ4_NL (non-linear 4-bit code book, 32-weight
// blocks; quantizer searches 15 scales as ggml's quantize_row_iq4_nl_impl with ntry = 7) and the
// IQ2_XXS / IQ2_XS dequantizers (8-weight grid points from iq_grids.cpp plus sign patterns).
#include <cmath>
#include <cstring>

#include "tensor/blocks.h"
#include "tensor/dtype.h"
#include "tensor/iq_grids.h"
#include "tensor/quant_ref.h"
#include "tensor/quant_ref_util.h"

namespace quorum {

using qref::best_index_int8;

namespace {

// One IQ4_NL block (super_block_size == block_size == 32 in ggml's shared IQ4_NL/IQ4_XS code).
// `L` persists across blocks like ggml's caller-owned buffer (matters only for all-zero blocks,
// whose levels are recomputed anyway).
void iq4_nl_block(const float* x, const float* qw, BlockIQ4_NL& b, uint8_t* L) {
  constexpr int kN = kQK4_NL;
  constexpr int kTry = 7;
  const int8_t* values = kValuesIQ4_NL;
  float weight[kN];
  float sigma2 = 0;
  for (int j = 0; j < kN; ++j) sigma2 += x[j] * x[j];
  sigma2 *= 2.f / kN;
  std::memset(b.qs, 0, sizeof(b.qs));
  b.d = f32_to_f16(0.f);
  if (qw) {
    for (int j = 0; j < kN; ++j) weight[j] = qw[j] * std::sqrt(sigma2 + x[j] * x[j]);
  } else {
    for (int j = 0; j < kN; ++j) weight[j] = x[j] * x[j];
  }
  float amax = 0, max = 0;
  for (int j = 0; j < kN; ++j) {
    const float ax = std::fabs(x[j]);
    if (ax > amax) { amax = ax; max = x[j]; }
  }
  float scale = 0;
  if (!(amax < qref::kGroupMaxEps)) {
    float d = -max / values[0];
    float id = 1 / d;
    float sumqx = 0, sumq2 = 0;
    for (int j = 0; j < kN; ++j) {
      const int l = best_index_int8(16, values, id * x[j]);
      L[j] = static_cast<uint8_t>(l);
      const float q = values[l];
      const float w = weight[j];
      sumqx += w * q * x[j];
      sumq2 += w * q * q;
    }
    d = sumqx / sumq2;
    float best = d * sumqx;
    for (int itry = -kTry; itry <= kTry; ++itry) {
      id = (itry + values[0]) / max;
      sumqx = sumq2 = 0;
      for (int j = 0; j < kN; ++j) {
        const int l = best_index_int8(16, values, id * x[j]);
        const float q = values[l];
        const float w = weight[j];
        sumqx += w * q * x[j];
        sumq2 += w * q * q;
      }
      if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
        d = sumqx / sumq2;
        best = d * sumqx;
      }
    }
    scale = d;
  }
  b.d = f32_to_f16(scale);
  const float id = scale ? 1 / scale : 0;
  for (int j = 0; j < kN; ++j) L[j] = static_cast<uint8_t>(best_index_int8(16, values, id * x[j]));
  for (int j = 0; j < 16; ++j) b.qs[j] = static_cast<uint8_t>(L[j] | (L[16 + j] << 4));
}

}  // namespace

size_t quantize_iq4_nl(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* qw) {
  auto* y = static_cast<BlockIQ4_NL*>(dst);
  const int64_t nb = n_per_row / kQK4_NL;
  uint8_t L[kQK4_NL] = {};
  for (int64_t r = 0; r < nrows; ++r) {
    for (int64_t ib = 0; ib < nb; ++ib) {
      iq4_nl_block(src + r * n_per_row + ib * kQK4_NL, qw ? qw + kQK4_NL * ib : nullptr,
                   y[r * nb + ib], L);
    }
  }
  return static_cast<size_t>(nrows * nb) * sizeof(BlockIQ4_NL);
}

void quantize_row_iq4_nl_ref(const float* x, void* y, int64_t n) {
  quantize_iq4_nl(x, y, 1, n, nullptr);
}

void dequantize_row_iq4_nl(const void* vx, float* y, int64_t n) {
  const auto* x = static_cast<const BlockIQ4_NL*>(vx);
  for (int64_t i = 0; i < n / kQK4_NL; ++i, y += kQK4_NL) {
    const float d = f16_to_f32(x[i].d);
    for (int j = 0; j < kQK4_NL / 2; ++j) {
      y[j] = d * kValuesIQ4_NL[x[i].qs[j] & 0xf];
      y[j + kQK4_NL / 2] = d * kValuesIQ4_NL[x[i].qs[j] >> 4];
    }
  }
}

namespace {
// 8 weights = db * grid magnitudes with the signs of `signs` (bit j set: negative).
inline void emit_grid8(uint64_t grid, uint8_t signs, float db, float* y) {
  uint8_t g[8];
  std::memcpy(g, &grid, 8);
  for (int j = 0; j < 8; ++j) y[j] = db * g[j] * (signs & kMaskIQ2XS[j] ? -1.f : 1.f);
}
}  // namespace

void dequantize_row_iq2_xxs(const void* vx, float* y, int64_t n) {
  const auto* x = static_cast<const BlockIQ2_XXS*>(vx);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float d = f16_to_f32(x[i].d);
    for (int ib32 = 0; ib32 < kQK_K / 32; ++ib32) {
      uint32_t aux32[2];
      std::memcpy(aux32, x[i].qs + 4 * ib32, sizeof(aux32));
      uint8_t aux8[4];
      std::memcpy(aux8, &aux32[0], 4);
      const float db = d * (0.5f + (aux32[1] >> 28)) * 0.25f;
      for (int l = 0; l < 4; ++l, y += 8) {
        emit_grid8(kIQ2XXSGrid[aux8[l]], kSignsIQ2XS[(aux32[1] >> 7 * l) & 127], db, y);
      }
    }
  }
}

void dequantize_row_iq2_xs(const void* vx, float* y, int64_t n) {
  const auto* x = static_cast<const BlockIQ2_XS*>(vx);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float d = f16_to_f32(x[i].d);
    for (int ib32 = 0; ib32 < kQK_K / 32; ++ib32) {
      const float db[2] = {d * (0.5f + (x[i].scales[ib32] & 0xf)) * 0.25f,
                           d * (0.5f + (x[i].scales[ib32] >> 4)) * 0.25f};
      for (int l = 0; l < 4; ++l, y += 8) {
        const uint16_t q = x[i].qs[4 * ib32 + l];
        emit_grid8(kIQ2XSGrid[q & 511], kSignsIQ2XS[q >> 9], db[l / 2], y);
      }
    }
  }
}

}  // namespace quorum
