// Reference (de)quantizers of the legacy 32-weight block types Q4_0, Q4_1, Q5_0, Q5_1, Q8_0,
// Q8_1, and their importance-weighted variants, bit-exact with ggml.
//
// Q4_0/Q5_0: symmetric, d = max / -8 (resp. -16) where max is the signed value of largest
// magnitude; Q4_1/Q5_1: d = (max - min) / 15 (31) with offset m = min; Q8_0: d = amax / 127.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>

#include "tensor/blocks.h"
#include "tensor/dtype.h"
#include "tensor/quant_ref.h"
#include "tensor/quant_ref_util.h"

namespace quorum {

using qref::make_qkx3_quants;
using qref::make_qx_quants;

void quantize_row_q4_0_ref(const float* x, void* vy, int64_t n) {
  auto* y = static_cast<BlockQ4_0*>(vy);
  const int64_t nb = n / kQK4_0;
  for (int64_t i = 0; i < nb; ++i, x += kQK4_0) {
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < kQK4_0; ++j) {
      if (amax < std::fabs(x[j])) { amax = std::fabs(x[j]); max = x[j]; }
    }
    const float d = max / -8;
    const float id = d ? 1.0f / d : 0.0f;
    y[i].d = f32_to_f16(d);
    for (int j = 0; j < kQK4_0 / 2; ++j) {
      const float x0 = x[j] * id;
      const float x1 = x[kQK4_0 / 2 + j] * id;
      const uint8_t q0 = static_cast<uint8_t>(std::min(15, static_cast<int>(static_cast<int8_t>(x0 + 8.5f))));
      const uint8_t q1 = static_cast<uint8_t>(std::min(15, static_cast<int>(static_cast<int8_t>(x1 + 8.5f))));
      y[i].qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
    }
  }
}

void quantize_row_q4_1_ref(const float* x, void* vy, int64_t n) {
  auto* y = static_cast<BlockQ4_1*>(vy);
  const int64_t nb = n / kQK4_1;
  for (int64_t i = 0; i < nb; ++i, x += kQK4_1) {
    float min = FLT_MAX, max = -FLT_MAX;
    for (int j = 0; j < kQK4_1; ++j) {
      if (x[j] < min) min = x[j];
      if (x[j] > max) max = x[j];
    }
    const float d = (max - min) / ((1 << 4) - 1);
    const float id = d ? 1.0f / d : 0.0f;
    y[i].d = f32_to_f16(d);
    y[i].m = f32_to_f16(min);
    for (int j = 0; j < kQK4_1 / 2; ++j) {
      const float x0 = (x[j] - min) * id;
      const float x1 = (x[kQK4_1 / 2 + j] - min) * id;
      const uint8_t q0 = static_cast<uint8_t>(std::min(15, static_cast<int>(static_cast<int8_t>(x0 + 0.5f))));
      const uint8_t q1 = static_cast<uint8_t>(std::min(15, static_cast<int>(static_cast<int8_t>(x1 + 0.5f))));
      y[i].qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
    }
  }
}

namespace {
// Packs 32 5-bit levels L (L[j] low nibble with L[j+16] high nibble; 5th bits into qh).
template <typename Block>
void pack_q5(const uint8_t* L, Block& b) {
  uint32_t qh = 0;
  for (int j = 0; j < 16; ++j) {
    const uint8_t x0 = L[j], x1 = L[j + 16];
    b.qs[j] = static_cast<uint8_t>((x0 & 0x0F) | ((x1 & 0x0F) << 4));
    qh |= ((x0 & 0x10u) >> 4) << (j + 0);
    qh |= ((x1 & 0x10u) >> 4) << (j + 16);
  }
  std::memcpy(b.qh, &qh, sizeof(qh));
}
}  // namespace

void quantize_row_q5_0_ref(const float* x, void* vy, int64_t n) {
  auto* y = static_cast<BlockQ5_0*>(vy);
  const int64_t nb = n / kQK5_0;
  for (int64_t i = 0; i < nb; ++i, x += kQK5_0) {
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < kQK5_0; ++j) {
      if (amax < std::fabs(x[j])) { amax = std::fabs(x[j]); max = x[j]; }
    }
    const float d = max / -16;
    const float id = d ? 1.0f / d : 0.0f;
    y[i].d = f32_to_f16(d);
    uint8_t L[kQK5_0];
    for (int j = 0; j < kQK5_0; ++j) {
      L[j] = static_cast<uint8_t>(std::min(31, static_cast<int>(static_cast<int8_t>(x[j] * id + 16.5f))));
    }
    pack_q5(L, y[i]);
  }
}

void quantize_row_q5_1_ref(const float* x, void* vy, int64_t n) {
  auto* y = static_cast<BlockQ5_1*>(vy);
  const int64_t nb = n / kQK5_1;
  for (int64_t i = 0; i < nb; ++i, x += kQK5_1) {
    float min = FLT_MAX, max = -FLT_MAX;
    for (int j = 0; j < kQK5_1; ++j) {
      if (x[j] < min) min = x[j];
      if (x[j] > max) max = x[j];
    }
    const float d = (max - min) / ((1 << 5) - 1);
    const float id = d ? 1.0f / d : 0.0f;
    y[i].d = f32_to_f16(d);
    y[i].m = f32_to_f16(min);
    uint8_t L[kQK5_1];
    for (int j = 0; j < kQK5_1; ++j) L[j] = static_cast<uint8_t>((x[j] - min) * id + 0.5f);
    pack_q5(L, y[i]);
  }
}

void quantize_row_q8_0_ref(const float* x, void* vy, int64_t n) {
  auto* y = static_cast<BlockQ8_0*>(vy);
  const int64_t nb = n / kQK8_0;
  for (int64_t i = 0; i < nb; ++i, x += kQK8_0) {
    float amax = 0.0f;
    for (int j = 0; j < kQK8_0; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / ((1 << 7) - 1);
    const float id = d ? 1.0f / d : 0.0f;
    y[i].d = f32_to_f16(d);
    for (int j = 0; j < kQK8_0; ++j) y[i].qs[j] = static_cast<int8_t>(std::round(x[j] * id));
  }
}

void quantize_row_q8_1_ref(const float* x, void* vy, int64_t n) {
  auto* y = static_cast<BlockQ8_1*>(vy);
  const int64_t nb = n / kQK8_1;
  for (int64_t i = 0; i < nb; ++i, x += kQK8_1) {
    float amax = 0.0f;
    for (int j = 0; j < kQK8_1; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / ((1 << 7) - 1);
    const float id = d ? 1.0f / d : 0.0f;
    y[i].d = f32_to_f16(d);
    int sum = 0;
    for (int j = 0; j < kQK8_1 / 2; ++j) {
      y[i].qs[j] = static_cast<int8_t>(std::round(x[j] * id));
      y[i].qs[kQK8_1 / 2 + j] = static_cast<int8_t>(std::round(x[kQK8_1 / 2 + j] * id));
      sum += y[i].qs[j] + y[i].qs[kQK8_1 / 2 + j];
    }
    y[i].s = f32_to_f16(sum * d);
  }
}

void dequantize_row_q4_0(const void* vx, float* y, int64_t n) {
  const auto* x = static_cast<const BlockQ4_0*>(vx);
  for (int64_t i = 0; i < n / kQK4_0; ++i, y += kQK4_0) {
    const float d = f16_to_f32(x[i].d);
    for (int j = 0; j < kQK4_0 / 2; ++j) {
      y[j] = ((x[i].qs[j] & 0x0F) - 8) * d;
      y[j + kQK4_0 / 2] = ((x[i].qs[j] >> 4) - 8) * d;
    }
  }
}

void dequantize_row_q4_1(const void* vx, float* y, int64_t n) {
  const auto* x = static_cast<const BlockQ4_1*>(vx);
  for (int64_t i = 0; i < n / kQK4_1; ++i, y += kQK4_1) {
    const float d = f16_to_f32(x[i].d);
    const float m = f16_to_f32(x[i].m);
    for (int j = 0; j < kQK4_1 / 2; ++j) {
      y[j] = (x[i].qs[j] & 0x0F) * d + m;
      y[j + kQK4_1 / 2] = (x[i].qs[j] >> 4) * d + m;
    }
  }
}

void dequantize_row_q5_0(const void* vx, float* y, int64_t n) {
  const auto* x = static_cast<const BlockQ5_0*>(vx);
  for (int64_t i = 0; i < n / kQK5_0; ++i, y += kQK5_0) {
    const float d = f16_to_f32(x[i].d);
    uint32_t qh;
    std::memcpy(&qh, x[i].qh, sizeof(qh));
    for (int j = 0; j < kQK5_0 / 2; ++j) {
      const uint8_t xh0 = ((qh >> (j + 0)) << 4) & 0x10;
      const uint8_t xh1 = ((qh >> (j + 12))) & 0x10;
      y[j] = (((x[i].qs[j] & 0x0F) | xh0) - 16) * d;
      y[j + kQK5_0 / 2] = (((x[i].qs[j] >> 4) | xh1) - 16) * d;
    }
  }
}

void dequantize_row_q5_1(const void* vx, float* y, int64_t n) {
  const auto* x = static_cast<const BlockQ5_1*>(vx);
  for (int64_t i = 0; i < n / kQK5_1; ++i, y += kQK5_1) {
    const float d = f16_to_f32(x[i].d);
    const float m = f16_to_f32(x[i].m);
    uint32_t qh;
    std::memcpy(&qh, x[i].qh, sizeof(qh));
    for (int j = 0; j < kQK5_1 / 2; ++j) {
      const uint8_t xh0 = ((qh >> (j + 0)) << 4) & 0x10;
      const uint8_t xh1 = ((qh >> (j + 12))) & 0x10;
      y[j] = ((x[i].qs[j] & 0x0F) | xh0) * d + m;
      y[j + kQK5_1 / 2] = ((x[i].qs[j] >> 4) | xh1) * d + m;
    }
  }
}

void dequantize_row_q8_0(const void* vx, float* y, int64_t n) {
  const auto* x = static_cast<const BlockQ8_0*>(vx);
  for (int64_t i = 0; i < n / kQK8_0; ++i, y += kQK8_0) {
    const float d = f16_to_f32(x[i].d);
    for (int j = 0; j < kQK8_0; ++j) y[j] = x[i].qs[j] * d;
  }
}

// ---- importance-weighted variants (ggml's quantize_row_<t>_impl): per-row sigma2 = mean x^2,
// weights qw * sqrt(sigma2 + x^2).
namespace {

float row_sigma2(const float* x, int64_t n) {
  float sum_x2 = 0;
  for (int64_t j = 0; j < n; ++j) sum_x2 += x[j] * x[j];
  return sum_x2 / n;
}

void fill_weights(const float* xb, const float* qw, float sigma2, float* w) {
  for (int j = 0; j < 32; ++j) w[j] = qw[j] * std::sqrt(sigma2 + xb[j] * xb[j]);
}

template <typename RowFn>
size_t for_rows(const float* src, void* dst, int64_t nrows, int64_t n_per_row, DType t,
                RowFn&& fn) {
  const size_t rs = row_size(t, n_per_row);
  auto* out = static_cast<uint8_t*>(dst);
  for (int64_t r = 0; r < nrows; ++r) fn(src + r * n_per_row, out + r * rs);
  return static_cast<size_t>(nrows) * rs;
}

}  // namespace

size_t quantize_q4_0(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* qw) {
  if (!qw) {
    quantize_row_q4_0_ref(src, dst, nrows * n_per_row);
    return nrows * row_size(DType::kQ4_0, n_per_row);
  }
  return for_rows(src, dst, nrows, n_per_row, DType::kQ4_0, [&](const float* x, uint8_t* out) {
    auto* y = reinterpret_cast<BlockQ4_0*>(out);
    const float sigma2 = row_sigma2(x, n_per_row);
    float w[32];
    int8_t L[32];
    for (int64_t ib = 0; ib < n_per_row / 32; ++ib) {
      const float* xb = x + 32 * ib;
      fill_weights(xb, qw + 32 * ib, sigma2, w);
      y[ib].d = f32_to_f16(make_qx_quants(32, 8, xb, L, 1, w));
      for (int j = 0; j < 16; ++j) y[ib].qs[j] = static_cast<uint8_t>(L[j] | (L[j + 16] << 4));
    }
  });
}

size_t quantize_q4_1(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* qw) {
  if (!qw) {
    quantize_row_q4_1_ref(src, dst, nrows * n_per_row);
    return nrows * row_size(DType::kQ4_1, n_per_row);
  }
  return for_rows(src, dst, nrows, n_per_row, DType::kQ4_1, [&](const float* x, uint8_t* out) {
    auto* y = reinterpret_cast<BlockQ4_1*>(out);
    const float sigma2 = row_sigma2(x, n_per_row);
    float w[32];
    uint8_t L[32], Laux[32];
    for (int64_t ib = 0; ib < n_per_row / 32; ++ib) {
      const float* xb = x + 32 * ib;
      fill_weights(xb, qw + 32 * ib, sigma2, w);
      float min;
      const float d = make_qkx3_quants(32, 15, xb, w, L, &min, Laux, -0.9f, 0.05f, 36, false);
      y[ib].d = f32_to_f16(d);
      y[ib].m = f32_to_f16(-min);
      for (int j = 0; j < 16; ++j) y[ib].qs[j] = static_cast<uint8_t>(L[j] | (L[j + 16] << 4));
    }
  });
}

size_t quantize_q5_0(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* qw) {
  if (!qw) {
    quantize_row_q5_0_ref(src, dst, nrows * n_per_row);
    return nrows * row_size(DType::kQ5_0, n_per_row);
  }
  return for_rows(src, dst, nrows, n_per_row, DType::kQ5_0, [&](const float* x, uint8_t* out) {
    auto* y = reinterpret_cast<BlockQ5_0*>(out);
    const float sigma2 = row_sigma2(x, n_per_row);
    float w[32];
    int8_t L[32];
    for (int64_t ib = 0; ib < n_per_row / 32; ++ib) {
      const float* xb = x + 32 * ib;
      fill_weights(xb, qw + 32 * ib, sigma2, w);
      y[ib].d = f32_to_f16(make_qx_quants(32, 16, xb, L, 1, w));
      pack_q5(reinterpret_cast<const uint8_t*>(L), y[ib]);
    }
  });
}

size_t quantize_q5_1(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* qw) {
  if (!qw) {
    quantize_row_q5_1_ref(src, dst, nrows * n_per_row);
    return nrows * row_size(DType::kQ5_1, n_per_row);
  }
  return for_rows(src, dst, nrows, n_per_row, DType::kQ5_1, [&](const float* x, uint8_t* out) {
    auto* y = reinterpret_cast<BlockQ5_1*>(out);
    const float sigma2 = row_sigma2(x, n_per_row);
    float w[32];
    uint8_t L[32], Laux[32];
    for (int64_t ib = 0; ib < n_per_row / 32; ++ib) {
      const float* xb = x + 32 * ib;
      fill_weights(xb, qw + 32 * ib, sigma2, w);
      float min;
      const float d = make_qkx3_quants(32, 31, xb, w, L, &min, Laux, -0.9f, 0.05f, 36, false);
      y[ib].d = f32_to_f16(d);
      y[ib].m = f32_to_f16(-min);
      pack_q5(L, y[ib]);
    }
  });
}

size_t quantize_q8_0(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float*) {
  // ggml ignores importance weights for Q8_0.
  quantize_row_q8_0_ref(src, dst, nrows * n_per_row);
  return nrows * row_size(DType::kQ8_0, n_per_row);
}

}  // namespace quorum
