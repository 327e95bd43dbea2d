// Block decoding for the kernel tests, straight from the layouts in tensor/blocks.h, in double.
#include "quant_blocks.h"

#include <cmath>
#include <cstring>

#include "core/fp16.h"
#include "kernels/kernels.h"
#include "tensor/blocks.h"
#include "tensor/iq_grids.h"

namespace quorum::kernels::testing {
namespace {

double h(f16_t v) { return f16_to_f32(v); }

// 6-bit scale / min j of the 12-byte Q4_K/Q5_K field: j < 4 in the low 6 bits of bytes j and
// j + 4; j >= 4 split into a low nibble in byte j + 4 and the top 2 bits of bytes j - 4 / j.
void k4_scale_min(const uint8_t* s, int j, int* sc, int* mn) {
  if (j < 4) {
    *sc = s[j] & 63;
    *mn = s[j + 4] & 63;
  } else {
    *sc = (s[j + 4] & 15) | ((s[j - 4] >> 6) << 4);
    *mn = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
  }
}

// Q3_K scale j (0..15): low nibble from byte j (j < 8) or the high nibble of byte j - 8, top two
// bits from byte 8 + j % 4 at bit 2 * (j / 4); stored with +32.
int q3_scale(const uint8_t* s, int j) {
  const int lo = j < 8 ? (s[j] & 15) : (s[j - 8] >> 4);
  const int hi = (s[8 + j % 4] >> (2 * (j / 4))) & 3;
  return (lo | (hi << 4)) - 32;
}

void put(Decoded& out, int64_t i, double scaled, double offset) {
  out.value[i] = scaled - offset;
  out.bound[i] = std::fabs(scaled) + std::fabs(offset);
}

// Eight IQ2 weights from the block format: magnitude byte j of the grid point times the scale
// d * (0.5 + nibble) / 4, negated where bit j of the sign byte is set.
void put_grid8(Decoded& out, int64_t i, uint64_t grid, uint8_t signs, double scale) {
  for (int j = 0; j < 8; ++j) {
    const double mag = static_cast<double>((grid >> (8 * j)) & 0xFF);
    put(out, i + j, ((signs >> j) & 1) ? -scale * mag : scale * mag, 0);
  }
}

}  // namespace

Decoded decode_blocks(DType t, const void* data, int64_t k) {
  Decoded out{std::vector<double>(k), std::vector<double>(k)};
  const uint8_t* p = static_cast<const uint8_t*>(data);
  const int64_t nb = k / traits(t).block_size;
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* blk = p + b * traits(t).type_size;
    const int64_t o = b * traits(t).block_size;
    switch (t) {
      case DType::kQ4_0: {
        const auto* x = reinterpret_cast<const BlockQ4_0*>(blk);
        for (int j = 0; j < 16; ++j) {
          put(out, o + j, h(x->d) * ((x->qs[j] & 15) - 8), 0);
          put(out, o + j + 16, h(x->d) * ((x->qs[j] >> 4) - 8), 0);
        }
        break;
      }
      case DType::kQ4_1: {
        const auto* x = reinterpret_cast<const BlockQ4_1*>(blk);
        for (int j = 0; j < 16; ++j) {
          put(out, o + j, h(x->d) * (x->qs[j] & 15), -h(x->m));
          put(out, o + j + 16, h(x->d) * (x->qs[j] >> 4), -h(x->m));
        }
        break;
      }
      case DType::kQ5_0:
      case DType::kQ5_1: {
        const bool has_min = t == DType::kQ5_1;
        const auto* x0 = reinterpret_cast<const BlockQ5_0*>(blk);
        const auto* x1 = reinterpret_cast<const BlockQ5_1*>(blk);
        const uint8_t* qh = has_min ? x1->qh : x0->qh;
        const uint8_t* qs = has_min ? x1->qs : x0->qs;
        const double d = has_min ? h(x1->d) : h(x0->d);
        const double m = has_min ? h(x1->m) : 0.0;
        const int shift = has_min ? 0 : 16;
        for (int j = 0; j < 32; ++j) {
          const int bit = (qh[j / 8] >> (j % 8)) & 1;  // bit j of the little-endian 32-bit mask
          const int nib = j < 16 ? (qs[j] & 15) : (qs[j - 16] >> 4);
          put(out, o + j, d * ((nib | (bit << 4)) - shift), -m);
        }
        break;
      }
      case DType::kQ8_0: {
        const auto* x = reinterpret_cast<const BlockQ8_0*>(blk);
        for (int j = 0; j < 32; ++j) put(out, o + j, h(x->d) * x->qs[j], 0);
        break;
      }
      case DType::kQ8_1: {
        const auto* x = reinterpret_cast<const BlockQ8_1*>(blk);
        for (int j = 0; j < 32; ++j) put(out, o + j, h(x->d) * x->qs[j], 0);
        break;
      }
      case DType::kIQ4_NL: {
        const auto* x = reinterpret_cast<const BlockIQ4_NL*>(blk);
        for (int j = 0; j < 16; ++j) {
          put(out, o + j, h(x->d) * kValuesIQ4_NL[x->qs[j] & 15], 0);
          put(out, o + j + 16, h(x->d) * kValuesIQ4_NL[x->qs[j] >> 4], 0);
        }
        break;
      }
      case DType::kQ8_K: {
        const auto* x = reinterpret_cast<const BlockQ8_K*>(blk);
        for (int j = 0; j < 256; ++j) put(out, o + j, double(x->d) * x->qs[j], 0);
        break;
      }
      case DType::kQ2_K: {
        // Element e: 128-half e / 128, shift 2 * ((e % 128) / 32), byte (e % 32) of that half;
        // sub-block of 16 = e / 16, scale low nibble, min high nibble.
        const auto* x = reinterpret_cast<const BlockQ2_K*>(blk);
        for (int e = 0; e < 256; ++e) {
          const int q = (x->qs[32 * (e / 128) + e % 32] >> (2 * ((e % 128) / 32))) & 3;
          const int sc = x->scales[e / 16];
          put(out, o + e, h(x->d) * (sc & 15) * q, h(x->dmin) * (sc >> 4));
        }
        break;
      }
      case DType::kQ3_K: {
        const auto* x = reinterpret_cast<const BlockQ3_K*>(blk);
        for (int e = 0; e < 256; ++e) {
          const int lo = (x->qs[32 * (e / 128) + e % 32] >> (2 * ((e % 128) / 32))) & 3;
          const int hbit = (x->hmask[e % 32] >> (e / 32)) & 1;
          put(out, o + e, h(x->d) * q3_scale(x->scales, e / 16) * (lo - (hbit ? 0 : 4)), 0);
        }
        break;
      }
      case DType::kQ4_K:
      case DType::kQ5_K: {
        const bool five = t == DType::kQ5_K;
        const auto* x4 = reinterpret_cast<const BlockQ4_K*>(blk);
        const auto* x5 = reinterpret_cast<const BlockQ5_K*>(blk);
        const uint8_t* sc = five ? x5->scales : x4->scales;
        const uint8_t* qs = five ? x5->qs : x4->qs;
        const double d = five ? h(x5->d) : h(x4->d), dmin = five ? h(x5->dmin) : h(x4->dmin);
        for (int e = 0; e < 256; ++e) {
          const int sub = e / 32;  // 8 sub-blocks of 32; pairs share 32 bytes (low, high nibble)
          const uint8_t byte = qs[32 * (sub / 2) + e % 32];
          int q = (sub % 2 == 0) ? (byte & 15) : (byte >> 4);
          if (five) q += ((x5->qh[e % 32] >> sub) & 1) << 4;
          int s, m;
          k4_scale_min(sc, sub, &s, &m);
          put(out, o + e, d * s * q, dmin * m);
        }
        break;
      }
      case DType::kQ6_K: {
        const auto* x = reinterpret_cast<const BlockQ6_K*>(blk);
        for (int e = 0; e < 256; ++e) {
          const int half = e / 128, r = e % 128, quarter = r / 32, l = r % 32;
          const uint8_t lbyte = x->ql[64 * half + l + 32 * (quarter % 2)];
          const int lo = quarter < 2 ? (lbyte & 15) : (lbyte >> 4);
          const int hi = (x->qh[32 * half + l] >> (2 * quarter)) & 3;
          put(out, o + e, h(x->d) * x->scales[e / 16] * ((lo | (hi << 4)) - 32), 0);
        }
        break;
      }
      case DType::kIQ2_XXS: {
        // Per 32 weights, 8 bytes: 4 grid indices, then a 32-bit word of 4 x 7-bit sign indices
        // and the 4-bit scale in the top bits.
        const auto* x = reinterpret_cast<const BlockIQ2_XXS*>(blk);
        for (int s = 0; s < 8; ++s) {
          const uint8_t* q = reinterpret_cast<const uint8_t*>(x->qs + 4 * s);
          const uint32_t w = q[4] | (q[5] << 8) | (q[6] << 16) | (uint32_t{q[7]} << 24);
          const double scale = h(x->d) * (0.5 + (w >> 28)) * 0.25;
          for (int l = 0; l < 4; ++l) {
            put_grid8(out, o + 32 * s + 8 * l, kIQ2XXSGrid[q[l]],
                      kSignsIQ2XS[(w >> (7 * l)) & 127], scale);
          }
        }
        break;
      }
      case DType::kIQ2_XS: {
        // Per 8 weights a 16-bit word: 9-bit grid index, 7-bit sign index; a 4-bit scale per
        // 16 weights (low nibble of byte s for the first half of sub-block s).
        const auto* x = reinterpret_cast<const BlockIQ2_XS*>(blk);
        for (int g = 0; g < 32; ++g) {
          const int nib = (x->scales[g / 4] >> (4 * ((g / 2) % 2))) & 15;
          put_grid8(out, o + 8 * g, kIQ2XSGrid[x->qs[g] & 511], kSignsIQ2XS[x->qs[g] >> 9],
                    h(x->d) * (0.5 + nib) * 0.25);
        }
        break;
      }
      default:
        break;
    }
  }
  return out;
}

std::vector<uint8_t> random_blocks(DType t, int64_t k, uint32_t seed, float scale) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> bytes(row_size(t, k));
  for (auto& b : bytes) b = static_cast<uint8_t>(rng());
  std::normal_distribution<float> dist(0.0f, scale);
  const size_t ts = traits(t).type_size;
  auto set_f16 = [&](uint8_t* at) {
    const f16_t v = f32_to_f16(dist(rng));
    std::memcpy(at, &v, 2);
  };
  for (size_t off = 0; off < bytes.size(); off += ts) {
    uint8_t* blk = bytes.data() + off;
    switch (t) {
      case DType::kQ4_0: case DType::kQ5_0: case DType::kIQ4_NL: case DType::kIQ2_XXS:
      case DType::kIQ2_XS:  // every grid, sign and scale index of the IQ2 types is valid
        set_f16(blk);
        break;
      case DType::kQ8_0:
        set_f16(blk);
        for (int j = 0; j < 32; ++j) {
          if (blk[2 + j] == 0x80) blk[2 + j] = 0x81;  // -128 -> -127
        }
        break;
      case DType::kQ4_1: case DType::kQ5_1: case DType::kQ4_K: case DType::kQ5_K:
        set_f16(blk);
        set_f16(blk + 2);
        break;
      case DType::kQ2_K:
        set_f16(blk + offsetof(BlockQ2_K, d));
        set_f16(blk + offsetof(BlockQ2_K, dmin));
        break;
      case DType::kQ3_K:
        set_f16(blk + offsetof(BlockQ3_K, d));
        break;
      case DType::kQ6_K:
        set_f16(blk + offsetof(BlockQ6_K, d));
        break;
      default:
        break;
    }
  }
  return bytes;
}

ExpectedDot expected_dot(DType wt, const void* w, const void* act, int64_t k) {
  constexpr double kU = 5.960464477539063e-08;  // 2^-24
  const DType at = vec_dot_type(wt);
  const Decoded dw = decode_blocks(wt, w, k);
  const Decoded dx = decode_blocks(at, act, k);
  ExpectedDot e;
  double sum_abs = 0.0;
  for (int64_t i = 0; i < k; ++i) {
    e.exact += dw.value[i] * dx.value[i];
    sum_abs += dw.bound[i] * std::fabs(dx.value[i]);
  }
  const int64_t nb = k / traits(wt).block_size;
  e.tol = (static_cast<double>(nb) + 8.0) * kU * sum_abs + 1e-30;
  if (at == DType::kQ8_1) {
    const auto* wb = static_cast<const uint8_t*>(w);
    const auto* xb = static_cast<const BlockQ8_1*>(act);
    for (int64_t b = 0; b < nb; ++b) {
      f16_t m;  // Q4_1 and Q5_1 both keep m right after d
      std::memcpy(&m, wb + b * traits(wt).type_size + 2, 2);
      e.tol += std::fabs(f16_to_f32(m)) * std::fabs(f16_to_f32(xb[b].s)) * std::ldexp(1.0, -10);
    }
  }
  return e;
}

}  // namespace quorum::kernels::testing
