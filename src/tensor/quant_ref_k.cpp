// Reference (de)quantizers of the K-quants (256-weight super-blocks): Q2_K, Q3_K, Q4_K, Q5_K,
// Q6_K and Q8_K, plus the importance-weighted variants llama-quantize uses with an imatrix.
// Bit-exact with ggml: each super-block first fits a scale (and min) per 16- or 32-weight group,
// quantizes those scales to 4/6/8 bits against a super-block scale stored as F16, then
// re-quantizes the weights with the rounded scales.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "tensor/blocks.h"
#include "tensor/dtype.h"
#include "tensor/quant_ref.h"
#include "tensor/quant_ref_util.h"

namespace quorum {

using qref::get_scale_min_k4;
using qref::make_q3_quants;
using qref::make_qkx2_quants;
using qref::make_qkx3_quants;
using qref::make_qp_quants;
using qref::make_qx_quants;
using qref::nearest_int;

namespace {

inline int clamp_i(int v, int lo, int hi) { return std::max(lo, std::min(hi, v)); }

// Packs 256 2-bit levels: byte l of each 32-byte chunk holds L[l], L[l+32], L[l+64], L[l+96].
void pack_2bit(const uint8_t* L, uint8_t* qs) {
  for (int j = 0; j < kQK_K; j += 128) {
    for (int l = 0; l < 32; ++l) {
      qs[j / 4 + l] = static_cast<uint8_t>(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) |
                                            (L[j + l + 96] << 6));
    }
  }
}

// Re-quantizes 16-weight groups of Q2_K with the stored scales/mins.
void q2_k_requantize(const float* x, const BlockQ2_K& b, uint8_t* L) {
  const float dall = f16_to_f32(b.d), mall = f16_to_f32(b.dmin);
  for (int j = 0; j < kQK_K / 16; ++j) {
    const float d = dall * (b.scales[j] & 0xF);
    if (!d) continue;
    const float dm = mall * (b.scales[j] >> 4);
    for (int ii = 0; ii < 16; ++ii) {
      L[16 * j + ii] = static_cast<uint8_t>(clamp_i(nearest_int((x[16 * j + ii] + dm) / d), 0, 3));
    }
  }
}

// Writes 16 6-bit signed Q3_K scales (already offset by 32) into the 12-byte packed layout.
void q3_k_pack_scales(const int* ls, uint8_t* scales) {
  std::memset(scales, 0, 12);
  for (int j = 0; j < 16; ++j) {
    int l = ls[j];
    if (j < 8) scales[j] = static_cast<uint8_t>(l & 0xF);
    else scales[j - 8] |= static_cast<uint8_t>((l & 0xF) << 4);
    l >>= 4;
    scales[j % 4 + 8] |= static_cast<uint8_t>(l << (2 * (j / 4)));
  }
}

// Re-quantizes with the stored scales and packs hmask/qs (shared by Q3_K ref and impl).
void q3_k_finish(const float* x, BlockQ3_K& b, int8_t* L) {
  for (int j = 0; j < kQK_K / 16; ++j) {
    int8_t sc = static_cast<int8_t>(j < 8 ? b.scales[j] & 0xF : b.scales[j - 8] >> 4);
    sc = static_cast<int8_t>((sc | (((b.scales[8 + j % 4] >> (2 * (j / 4))) & 3) << 4)) - 32);
    const float d = f16_to_f32(b.d) * sc;
    if (!d) continue;
    for (int ii = 0; ii < 16; ++ii) {
      L[16 * j + ii] = static_cast<int8_t>(clamp_i(nearest_int(x[16 * j + ii] / d), -4, 3) + 4);
    }
  }
  std::memset(b.hmask, 0, kQK_K / 8);
  int m = 0;
  uint8_t hm = 1;
  for (int j = 0; j < kQK_K; ++j) {
    if (L[j] > 3) {
      b.hmask[m] |= hm;
      L[j] = static_cast<int8_t>(L[j] - 4);
    }
    if (++m == kQK_K / 8) { m = 0; hm = static_cast<uint8_t>(hm << 1); }
  }
  pack_2bit(reinterpret_cast<const uint8_t*>(L), b.qs);
}

// Packs 8 6-bit scales and mins of Q4_K/Q5_K.
void pack_k4_scales(const uint8_t* ls, const uint8_t* lm, uint8_t* scales) {
  for (int j = 0; j < kQK_K / 32; ++j) {
    if (j < 4) {
      scales[j] = ls[j];
      scales[j + 4] = lm[j];
    } else {
      scales[j + 4] = static_cast<uint8_t>((ls[j] & 0xF) | ((lm[j] & 0xF) << 4));
      scales[j - 4] |= static_cast<uint8_t>((ls[j] >> 4) << 6);
      scales[j - 0] |= static_cast<uint8_t>((lm[j] >> 4) << 6);
    }
  }
}

// Re-quantizes 32-weight groups of Q4_K/Q5_K (levels 0..nmax) with the stored scales.
void k4_requantize(const float* x, const uint8_t* scales, f16_t d16, f16_t dmin16, int nmax,
                   uint8_t* L) {
  for (int j = 0; j < kQK_K / 32; ++j) {
    uint8_t sc, m;
    get_scale_min_k4(j, scales, &sc, &m);
    const float d = f16_to_f32(d16) * sc;
    if (!d) continue;
    const float dm = f16_to_f32(dmin16) * m;
    for (int ii = 0; ii < 32; ++ii) {
      L[32 * j + ii] = static_cast<uint8_t>(clamp_i(nearest_int((x[32 * j + ii] + dm) / d), 0, nmax));
    }
  }
}

void pack_q4_k(const uint8_t* L, uint8_t* q) {
  for (int j = 0; j < kQK_K; j += 64, q += 32) {
    for (int l = 0; l < 32; ++l) q[l] = static_cast<uint8_t>(L[j + l] | (L[j + l + 32] << 4));
  }
}

void pack_q5_k(const uint8_t* L, BlockQ5_K& b) {
  uint8_t* qh = b.qh;
  uint8_t* ql = b.qs;
  std::memset(qh, 0, kQK_K / 8);
  uint8_t m1 = 1, m2 = 2;
  for (int n = 0; n < kQK_K; n += 64, ql += 32) {
    for (int j = 0; j < 32; ++j) {
      int l1 = L[n + j];
      if (l1 > 15) { l1 -= 16; qh[j] |= m1; }
      int l2 = L[n + j + 32];
      if (l2 > 15) { l2 -= 16; qh[j] |= m2; }
      ql[j] = static_cast<uint8_t>(l1 | (l2 << 4));
    }
    m1 = static_cast<uint8_t>(m1 << 2);
    m2 = static_cast<uint8_t>(m2 << 2);
  }
}

// The part of Q4_K/Q5_K ref shared by both: per-group scale/min fits and their 6-bit encoding.
void k4_ref_scales(const float* x, int nmax, float rmin, float rdelta, int nstep, uint8_t* L,
                   uint8_t* scales, f16_t* d16, f16_t* dmin16) {
  uint8_t Laux[32];
  float weights[32], mins[kQK_K / 32], sc[kQK_K / 32];
  float max_scale = 0, max_min = 0;
  for (int j = 0; j < kQK_K / 32; ++j) {
    float sum_x2 = 0;
    for (int l = 0; l < 32; ++l) sum_x2 += x[32 * j + l] * x[32 * j + l];
    const float av_x = std::sqrt(sum_x2 / 32);
    for (int l = 0; l < 32; ++l) weights[l] = av_x + std::fabs(x[32 * j + l]);
    sc[j] = make_qkx2_quants(32, nmax, x + 32 * j, weights, L + 32 * j, &mins[j], Laux, rmin,
                             rdelta, nstep, false);
    if (sc[j] > max_scale) max_scale = sc[j];
    if (mins[j] > max_min) max_min = mins[j];
  }
  const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
  const float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
  uint8_t ls[kQK_K / 32], lm[kQK_K / 32];
  for (int j = 0; j < kQK_K / 32; ++j) {
    ls[j] = std::min<uint8_t>(63, static_cast<uint8_t>(nearest_int(inv_scale * sc[j])));
    lm[j] = std::min<uint8_t>(63, static_cast<uint8_t>(nearest_int(inv_min * mins[j])));
  }
  pack_k4_scales(ls, lm, scales);
  *d16 = f32_to_f16(max_scale / 63.f);
  *dmin16 = f32_to_f16(max_min / 63.f);
}

// The importance-weighted counterpart (ggml's quantize_row_q4_K_impl / q5_K_impl).
void k4_impl_scales(const float* x, const float* qw, int nmax, uint8_t* L, uint8_t* scales,
                    f16_t* d16, f16_t* dmin16) {
  uint8_t Laux[32], Ls[kQK_K / 32], Lm[kQK_K / 32];
  float weights[32], sw[kQK_K / 32], mins[kQK_K / 32], sc[kQK_K / 32];
  float sum_x2 = 0;
  for (int l = 0; l < kQK_K; ++l) sum_x2 += x[l] * x[l];
  const float sigma2 = 2 * sum_x2 / kQK_K;
  const float av_x = std::sqrt(sigma2);
  for (int j = 0; j < kQK_K / 32; ++j) {
    if (qw) {
      for (int l = 0; l < 32; ++l) {
        weights[l] = qw[32 * j + l] * std::sqrt(sigma2 + x[32 * j + l] * x[32 * j + l]);
      }
    } else {
      for (int l = 0; l < 32; ++l) weights[l] = av_x + std::fabs(x[32 * j + l]);
    }
    float sumw = 0;
    for (int l = 0; l < 32; ++l) sumw += weights[l];
    sw[j] = sumw;
    sc[j] = make_qkx3_quants(32, nmax, x + 32 * j, weights, L + 32 * j, &mins[j], Laux, -0.9f,
                             0.05f, 36, false);
  }
  const float d_block = make_qp_quants(kQK_K / 32, 63, sc, Ls, sw);
  const float m_block = make_qp_quants(kQK_K / 32, 63, mins, Lm, sw);
  for (int j = 0; j < kQK_K / 32; ++j) {
    Ls[j] = std::min<uint8_t>(63, Ls[j]);
    Lm[j] = std::min<uint8_t>(63, Lm[j]);
  }
  pack_k4_scales(Ls, Lm, scales);
  *d16 = f32_to_f16(d_block);
  *dmin16 = f32_to_f16(m_block);
}

template <typename Block, typename RowFn>
size_t k_rows(const float* src, void* dst, int64_t nrows, int64_t n_per_row, RowFn&& fn) {
  auto* y = static_cast<Block*>(dst);
  const int64_t nb = n_per_row / kQK_K;
  for (int64_t r = 0; r < nrows; ++r) {
    for (int64_t i = 0; i < nb; ++i) fn(src + r * n_per_row + i * kQK_K, y[r * nb + i], i);
  }
  return static_cast<size_t>(nrows * nb) * sizeof(Block);
}

}  // namespace

// ====================== Q2_K

void quantize_row_q2_k_ref(const float* x, void* vy, int64_t n) {
  auto* y = static_cast<BlockQ2_K*>(vy);
  const float q4scale = 15.f;
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    uint8_t L[kQK_K], Laux[16];
    float weights[16], mins[kQK_K / 16], scales[kQK_K / 16];
    float max_scale = 0, max_min = 0;
    for (int j = 0; j < kQK_K / 16; ++j) {
      for (int l = 0; l < 16; ++l) weights[l] = std::fabs(x[16 * j + l]);
      scales[j] = make_qkx2_quants(16, 3, x + 16 * j, weights, L + 16 * j, &mins[j], Laux, -0.5f,
                                   0.1f, 15, true);
      if (scales[j] > max_scale) max_scale = scales[j];
      if (mins[j] > max_min) max_min = mins[j];
    }
    if (max_scale > 0) {
      const float iscale = q4scale / max_scale;
      for (int j = 0; j < kQK_K / 16; ++j) y[i].scales[j] = static_cast<uint8_t>(nearest_int(iscale * scales[j]));
      y[i].d = f32_to_f16(max_scale / q4scale);
    } else {
      for (int j = 0; j < kQK_K / 16; ++j) y[i].scales[j] = 0;
      y[i].d = f32_to_f16(0.f);
    }
    if (max_min > 0) {
      const float iscale = q4scale / max_min;
      for (int j = 0; j < kQK_K / 16; ++j) {
        y[i].scales[j] |= static_cast<uint8_t>(nearest_int(iscale * mins[j]) << 4);
      }
      y[i].dmin = f32_to_f16(max_min / q4scale);
    } else {
      y[i].dmin = f32_to_f16(0.f);
    }
    q2_k_requantize(x, y[i], L);
    pack_2bit(L, y[i].qs);
  }
}

void dequantize_row_q2_k(const void* vx, float* y, int64_t n) {
  const auto* x = static_cast<const BlockQ2_K*>(vx);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float d = f16_to_f32(x[i].d);
    const float min = f16_to_f32(x[i].dmin);
    const uint8_t* q = x[i].qs;
    int is = 0;
    for (int nn = 0; nn < kQK_K; nn += 128, q += 32) {
      int shift = 0;
      for (int j = 0; j < 4; ++j, shift += 2) {
        for (int half = 0; half < 2; ++half) {
          const uint8_t sc = x[i].scales[is++];
          const float dl = d * (sc & 0xF), ml = min * (sc >> 4);
          for (int l = 0; l < 16; ++l) *y++ = dl * ((q[l + 16 * half] >> shift) & 3) - ml;
        }
      }
    }
  }
}

size_t quantize_q2_k(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* qw) {
  if (!qw) {
    quantize_row_q2_k_ref(src, dst, nrows * n_per_row);
    return nrows * row_size(DType::kQ2_K, n_per_row);
  }
  return k_rows<BlockQ2_K>(src, dst, nrows, n_per_row, [&](const float* x, BlockQ2_K& b, int64_t i) {
    uint8_t L[kQK_K], Laux[16], Ls[kQK_K / 16], Lm[kQK_K / 16];
    float mins[kQK_K / 16], scales[kQK_K / 16], sw[kQK_K / 16], weight[16];
    std::memset(sw, 0, sizeof(sw));
    float sumx2 = 0;
    for (int j = 0; j < kQK_K; ++j) sumx2 += x[j] * x[j];
    const float sigma2 = sumx2 / kQK_K;
    for (int j = 0; j < kQK_K / 16; ++j) {
      const float* w = qw + kQK_K * i + 16 * j;
      for (int l = 0; l < 16; ++l) weight[l] = w[l] * std::sqrt(sigma2 + x[16 * j + l] * x[16 * j + l]);
      for (int l = 0; l < kQK_K / 16; ++l) sw[j] += weight[l];
      scales[j] = make_qkx3_quants(16, 3, x + 16 * j, weight, L + 16 * j, &mins[j], Laux, -0.9f,
                                   0.05f, 36, false);
    }
    const float dm = make_qp_quants(kQK_K / 16, 15, scales, Ls, sw);
    const float mm = make_qp_quants(kQK_K / 16, 15, mins, Lm, sw);
    b.d = f32_to_f16(dm);
    b.dmin = f32_to_f16(mm);
    for (int j = 0; j < kQK_K / 16; ++j) b.scales[j] = static_cast<uint8_t>(Ls[j] | (Lm[j] << 4));
    q2_k_requantize(x, b, L);
    pack_2bit(L, b.qs);
  });
}

// ====================== Q3_K

void quantize_row_q3_k_ref(const float* x, void* vy, int64_t n) {
  auto* y = static_cast<BlockQ3_K*>(vy);
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    int8_t L[kQK_K];
    float scales[kQK_K / 16];
    float max_scale = 0, amax = 0;
    for (int j = 0; j < kQK_K / 16; ++j) {
      scales[j] = make_q3_quants(16, 4, x + 16 * j, L + 16 * j, true);
      const float scale = std::fabs(scales[j]);
      if (scale > amax) { amax = scale; max_scale = scales[j]; }
    }
    if (max_scale) {
      const float iscale = -32.f / max_scale;
      int ls[16];
      for (int j = 0; j < kQK_K / 16; ++j) {
        int8_t l = static_cast<int8_t>(nearest_int(iscale * scales[j]));
        ls[j] = clamp_i(l, -32, 31) + 32;
      }
      q3_k_pack_scales(ls, y[i].scales);
      y[i].d = f32_to_f16(1 / iscale);
    } else {
      std::memset(y[i].scales, 0, 12);
      y[i].d = f32_to_f16(0.f);
    }
    q3_k_finish(x, y[i], L);
  }
}

void dequantize_row_q3_k(const void* vx, float* y, int64_t n) {
  const auto* x = static_cast<const BlockQ3_K*>(vx);
  const uint32_t kmask1 = 0x03030303, kmask2 = 0x0f0f0f0f;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float d_all = f16_to_f32(x[i].d);
    const uint8_t* q = x[i].qs;
    const uint8_t* hm = x[i].hmask;
    uint8_t m = 1;
    uint32_t aux[4];
    std::memcpy(aux, x[i].scales, 12);
    const uint32_t tmp = aux[2];
    aux[2] = ((aux[0] >> 4) & kmask2) | (((tmp >> 4) & kmask1) << 4);
    aux[3] = ((aux[1] >> 4) & kmask2) | (((tmp >> 6) & kmask1) << 4);
    aux[0] = (aux[0] & kmask2) | (((tmp >> 0) & kmask1) << 4);
    aux[1] = (aux[1] & kmask2) | (((tmp >> 2) & kmask1) << 4);
    int8_t scales[16];
    std::memcpy(scales, aux, 16);
    int is = 0;
    for (int nn = 0; nn < kQK_K; nn += 128, q += 32) {
      int shift = 0;
      for (int j = 0; j < 4; ++j, shift += 2, m = static_cast<uint8_t>(m << 1)) {
        for (int half = 0; half < 2; ++half) {
          const float dl = d_all * (scales[is++] - 32);
          for (int l = 0; l < 16; ++l) {
            const int k = l + 16 * half;
            *y++ = dl * (((q[k] >> shift) & 3) - ((hm[k] & m) ? 0 : 4));
          }
        }
      }
    }
  }
}

size_t quantize_q3_k(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* qw) {
  if (!qw) {
    quantize_row_q3_k_ref(src, dst, nrows * n_per_row);
    return nrows * row_size(DType::kQ3_K, n_per_row);
  }
  return k_rows<BlockQ3_K>(src, dst, nrows, n_per_row, [&](const float* x, BlockQ3_K& b, int64_t i) {
    int8_t L[kQK_K], Ls[kQK_K / 16];
    float scales[kQK_K / 16], weight[16], sw[kQK_K / 16];
    float sumx2 = 0;
    for (int j = 0; j < kQK_K; ++j) sumx2 += x[j] * x[j];
    const float sigma2 = 2 * sumx2 / kQK_K;
    for (int j = 0; j < kQK_K / 16; ++j) {
      const float* w = qw + kQK_K * i + 16 * j;
      for (int l = 0; l < 16; ++l) weight[l] = w[l] * std::sqrt(sigma2 + x[16 * j + l] * x[16 * j + l]);
      float sumw = 0;
      for (int l = 0; l < 16; ++l) sumw += weight[l];
      sw[j] = sumw;
      scales[j] = make_qx_quants(16, 4, x + 16 * j, L + 16 * j, 1, weight);
    }
    const float d_block = make_qx_quants(kQK_K / 16, 32, scales, Ls, 1, sw);
    int ls[16];
    for (int j = 0; j < 16; ++j) ls[j] = Ls[j];
    q3_k_pack_scales(ls, b.scales);
    b.d = f32_to_f16(d_block);
    q3_k_finish(x, b, L);
  });
}

// ====================== Q4_K

void quantize_row_q4_k_ref(const float* x, void* vy, int64_t n) {
  auto* y = static_cast<BlockQ4_K*>(vy);
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    uint8_t L[kQK_K];
    k4_ref_scales(x, 15, -1.f, 0.1f, 20, L, y[i].scales, &y[i].d, &y[i].dmin);
    k4_requantize(x, y[i].scales, y[i].d, y[i].dmin, 15, L);
    pack_q4_k(L, y[i].qs);
  }
}

void dequantize_row_q4_k(const void* vx, float* y, int64_t n) {
  const auto* x = static_cast<const BlockQ4_K*>(vx);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const uint8_t* q = x[i].qs;
    const float d = f16_to_f32(x[i].d);
    const float min = f16_to_f32(x[i].dmin);
    int is = 0;
    for (int j = 0; j < kQK_K; j += 64, q += 32, is += 2) {
      uint8_t sc, m;
      get_scale_min_k4(is + 0, x[i].scales, &sc, &m);
      const float d1 = d * sc, m1 = min * m;
      get_scale_min_k4(is + 1, x[i].scales, &sc, &m);
      const float d2 = d * sc, m2 = min * m;
      for (int l = 0; l < 32; ++l) *y++ = d1 * (q[l] & 0xF) - m1;
      for (int l = 0; l < 32; ++l) *y++ = d2 * (q[l] >> 4) - m2;
    }
  }
}

size_t quantize_q4_k(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* qw) {
  if (!qw) {
    quantize_row_q4_k_ref(src, dst, nrows * n_per_row);
    return nrows * row_size(DType::kQ4_K, n_per_row);
  }
  return k_rows<BlockQ4_K>(src, dst, nrows, n_per_row, [&](const float* x, BlockQ4_K& b, int64_t i) {
    uint8_t L[kQK_K];
    k4_impl_scales(x, qw + kQK_K * i, 15, L, b.scales, &b.d, &b.dmin);
    k4_requantize(x, b.scales, b.d, b.dmin, 15, L);
    pack_q4_k(L, b.qs);
  });
}

// ====================== Q5_K

void quantize_row_q5_k_ref(const float* x, void* vy, int64_t n) {
  auto* y = static_cast<BlockQ5_K*>(vy);
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    uint8_t L[kQK_K];
    k4_ref_scales(x, 31, -0.5f, 0.1f, 15, L, y[i].scales, &y[i].d, &y[i].dmin);
    k4_requantize(x, y[i].scales, y[i].d, y[i].dmin, 31, L);
    pack_q5_k(L, y[i]);
  }
}

void dequantize_row_q5_k(const void* vx, float* y, int64_t n) {
  const auto* x = static_cast<const BlockQ5_K*>(vx);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const uint8_t* ql = x[i].qs;
    const uint8_t* qh = x[i].qh;
    const float d = f16_to_f32(x[i].d);
    const float min = f16_to_f32(x[i].dmin);
    int is = 0;
    uint8_t u1 = 1, u2 = 2;
    for (int j = 0; j < kQK_K; j += 64, ql += 32, is += 2) {
      uint8_t sc, m;
      get_scale_min_k4(is + 0, x[i].scales, &sc, &m);
      const float d1 = d * sc, m1 = min * m;
      get_scale_min_k4(is + 1, x[i].scales, &sc, &m);
      const float d2 = d * sc, m2 = min * m;
      for (int l = 0; l < 32; ++l) *y++ = d1 * ((ql[l] & 0xF) + (qh[l] & u1 ? 16 : 0)) - m1;
      for (int l = 0; l < 32; ++l) *y++ = d2 * ((ql[l] >> 4) + (qh[l] & u2 ? 16 : 0)) - m2;
      u1 = static_cast<uint8_t>(u1 << 2);
      u2 = static_cast<uint8_t>(u2 << 2);
    }
  }
}

size_t quantize_q5_k(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* qw) {
  if (!qw) {
    quantize_row_q5_k_ref(src, dst, nrows * n_per_row);
    return nrows * row_size(DType::kQ5_K, n_per_row);
  }
  return k_rows<BlockQ5_K>(src, dst, nrows, n_per_row, [&](const float* x, BlockQ5_K& b, int64_t i) {
    uint8_t L[kQK_K];
    k4_impl_scales(x, qw + kQK_K * i, 31, L, b.scales, &b.d, &b.dmin);
    k4_requantize(x, b.scales, b.d, b.dmin, 31, L);
    pack_q5_k(L, b);
  });
}

// ====================== K-quant blocks from given scale codes

namespace {
// Scales, mins and levels (0..nmax) of a Q4_K or Q5_K block from its codes.
template <class Block>
void k4_block_from_codes(const float* x, const KScaleCodes& c, int nmax, Block& b, uint8_t* L) {
  pack_k4_scales(c.sc, c.m, b.scales);
  b.d = f32_to_f16(c.d);
  b.dmin = f32_to_f16(c.dmin);
  k4_requantize(x, b.scales, b.d, b.dmin, nmax, L);
}
}  // namespace

void write_k_block(DType t, const float* x, const KScaleCodes& c, void* block) {
  uint8_t L[kQK_K] = {};
  switch (t) {
    case DType::kQ2_K: {
      auto& b = *static_cast<BlockQ2_K*>(block);
      for (int j = 0; j < kQK_K / 16; ++j) b.scales[j] = static_cast<uint8_t>(c.sc[j] | (c.m[j] << 4));
      b.d = f32_to_f16(c.d);
      b.dmin = f32_to_f16(c.dmin);
      q2_k_requantize(x, b, L);
      pack_2bit(L, b.qs);
      break;
    }
    case DType::kQ3_K: {
      auto& b = *static_cast<BlockQ3_K*>(block);
      int ls[kQK_K / 16];
      for (int j = 0; j < kQK_K / 16; ++j) ls[j] = c.sc[j];
      q3_k_pack_scales(ls, b.scales);
      b.d = f32_to_f16(c.d);
      q3_k_finish(x, b, reinterpret_cast<int8_t*>(L));
      break;
    }
    case DType::kQ4_K: {
      auto& b = *static_cast<BlockQ4_K*>(block);
      k4_block_from_codes(x, c, 15, b, L);
      pack_q4_k(L, b.qs);
      break;
    }
    case DType::kQ5_K: {
      auto& b = *static_cast<BlockQ5_K*>(block);
      k4_block_from_codes(x, c, 31, b, L);
      pack_q5_k(L, b);
      break;
    }
    default:
      break;
  }
}

// ====================== Q6_K

namespace {

// Everything after the per-group scales of Q6_K (ref and impl share it).
void q6_k_finish(const float* x, const float* scales, float max_scale, float max_abs_scale,
                 BlockQ6_K& b, int8_t* L) {
  if (max_abs_scale < qref::kGroupMaxEps) {
    std::memset(&b, 0, sizeof(BlockQ6_K));
    b.d = f32_to_f16(0.f);
    return;
  }
  const float iscale = -128.f / max_scale;
  b.d = f32_to_f16(1 / iscale);
  for (int ib = 0; ib < kQK_K / 16; ++ib) {
    b.scales[ib] = static_cast<int8_t>(std::min(127, nearest_int(iscale * scales[ib])));
  }
  for (int j = 0; j < kQK_K / 16; ++j) {
    const float d = f16_to_f32(b.d) * b.scales[j];
    if (!d) continue;
    for (int ii = 0; ii < 16; ++ii) {
      L[16 * j + ii] = static_cast<int8_t>(clamp_i(nearest_int(x[16 * j + ii] / d), -32, 31) + 32);
    }
  }
  uint8_t* ql = b.ql;
  uint8_t* qh = b.qh;
  for (int j = 0; j < kQK_K; j += 128, ql += 64, qh += 32) {
    for (int l = 0; l < 32; ++l) {
      const uint8_t q1 = L[j + l + 0] & 0xF;
      const uint8_t q2 = L[j + l + 32] & 0xF;
      const uint8_t q3 = L[j + l + 64] & 0xF;
      const uint8_t q4 = L[j + l + 96] & 0xF;
      ql[l + 0] = static_cast<uint8_t>(q1 | (q3 << 4));
      ql[l + 32] = static_cast<uint8_t>(q2 | (q4 << 4));
      qh[l] = static_cast<uint8_t>((L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) |
                                   ((L[j + l + 64] >> 4) << 4) | ((L[j + l + 96] >> 4) << 6));
    }
  }
}

void q6_k_block(const float* x, const float* qw, BlockQ6_K& b) {
  int8_t L[kQK_K];
  float scales[kQK_K / 16];
  float max_scale = 0, max_abs_scale = 0;
  for (int ib = 0; ib < kQK_K / 16; ++ib) {
    const float scale = make_qx_quants(16, 32, x + 16 * ib, L + 16 * ib, 1, qw ? qw + 16 * ib : nullptr);
    scales[ib] = scale;
    const float abs_scale = std::fabs(scale);
    if (abs_scale > max_abs_scale) { max_abs_scale = abs_scale; max_scale = scale; }
  }
  q6_k_finish(x, scales, max_scale, max_abs_scale, b, L);
}

}  // namespace

void quantize_row_q6_k_ref(const float* x, void* vy, int64_t n) {
  auto* y = static_cast<BlockQ6_K*>(vy);
  for (int64_t i = 0; i < n / kQK_K; ++i) q6_k_block(x + i * kQK_K, nullptr, y[i]);
}

void dequantize_row_q6_k(const void* vx, float* y, int64_t n) {
  const auto* x = static_cast<const BlockQ6_K*>(vx);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    const float d = f16_to_f32(x[i].d);
    const uint8_t* ql = x[i].ql;
    const uint8_t* qh = x[i].qh;
    const int8_t* sc = x[i].scales;
    for (int nn = 0; nn < kQK_K; nn += 128, y += 128, ql += 64, qh += 32, sc += 8) {
      for (int l = 0; l < 32; ++l) {
        const int is = l / 16;
        const int8_t q1 = static_cast<int8_t>(((ql[l + 0] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32);
        const int8_t q2 = static_cast<int8_t>(((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32);
        const int8_t q3 = static_cast<int8_t>(((ql[l + 0] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
        const int8_t q4 = static_cast<int8_t>(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
        y[l + 0] = d * sc[is + 0] * q1;
        y[l + 32] = d * sc[is + 2] * q2;
        y[l + 64] = d * sc[is + 4] * q3;
        y[l + 96] = d * sc[is + 6] * q4;
      }
    }
  }
}

size_t quantize_q6_k(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* qw) {
  if (!qw) {
    quantize_row_q6_k_ref(src, dst, nrows * n_per_row);
    return nrows * row_size(DType::kQ6_K, n_per_row);
  }
  return k_rows<BlockQ6_K>(src, dst, nrows, n_per_row, [&](const float* x, BlockQ6_K& b, int64_t i) {
    q6_k_block(x, qw + kQK_K * i, b);
  });
}

// ====================== Q8_K (F32 scale; used as the activation type of K-quant dot products)

void quantize_row_q8_k_ref(const float* x, void* vy, int64_t n) {
  auto* y = static_cast<BlockQ8_K*>(vy);
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    float max = 0, amax = 0;
    for (int j = 0; j < kQK_K; ++j) {
      const float ax = std::fabs(x[j]);
      if (ax > amax) { amax = ax; max = x[j]; }
    }
    if (!amax) {
      y[i].d = 0;
      std::memset(y[i].qs, 0, kQK_K);
      std::memset(y[i].bsums, 0, sizeof(y[i].bsums));
      continue;
    }
    const float iscale = -127.f / max;
    for (int j = 0; j < kQK_K; ++j) y[i].qs[j] = static_cast<int8_t>(std::min(127, nearest_int(iscale * x[j])));
    for (int j = 0; j < kQK_K / 16; ++j) {
      int sum = 0;
      for (int ii = 0; ii < 16; ++ii) sum += y[i].qs[j * 16 + ii];
      y[i].bsums[j] = static_cast<int16_t>(sum);
    }
    y[i].d = 1 / iscale;
  }
}

void dequantize_row_q8_k(const void* vx, float* y, int64_t n) {
  const auto* x = static_cast<const BlockQ8_K*>(vx);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    for (int j = 0; j < kQK_K; ++j) *y++ = x[i].d * x[i].qs[j];
  }
}

}  // namespace quorum
