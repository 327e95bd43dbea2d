// Scalar dot products of the K-quants with Q8_K activations, as ggml's generic
// ggml_vec_dot_<w>_q8_K: per 256-weight super-block, an exact integer sum of
// (sub-block scale x integer dot of the sub-block), scaled once by d_w * d_x; the min terms of
// Q2_K/Q4_K/Q5_K use the activation's 16-element sums (bsums).
#include <cstring>

#include "core/fp16.h"
#include "kernels/ref/ref.h"
#include "tensor/blocks.h"

namespace quorum::kernels::ref {

void unpack_q3_K_scales(const uint8_t* packed, int8_t* scales16) {
  constexpr uint32_t kMask1 = 0x03030303u, kMask2 = 0x0f0f0f0fu;
  uint32_t aux[4];
  std::memcpy(aux, packed, 12);
  const uint32_t tmp = aux[2];
  aux[2] = ((aux[0] >> 4) & kMask2) | (((tmp >> 4) & kMask1) << 4);
  aux[3] = ((aux[1] >> 4) & kMask2) | (((tmp >> 6) & kMask1) << 4);
  aux[0] = (aux[0] & kMask2) | (((tmp >> 0) & kMask1) << 4);
  aux[1] = (aux[1] & kMask2) | (((tmp >> 2) & kMask1) << 4);
  std::memcpy(scales16, aux, 16);
  for (int j = 0; j < 16; ++j) scales16[j] = static_cast<int8_t>(scales16[j] - 32);
}

float dot_q2_K_q8_K(const void* w, const void* x, int64_t k) {
  const BlockQ2_K* a = static_cast<const BlockQ2_K*>(w);  // (k / 256)
  const BlockQ8_K* b = static_cast<const BlockQ8_K*>(x);  // (k / 256)
  float sumf = 0.0f;
  for (int64_t i = 0; i < k / kQK_K; ++i) {
    const uint8_t* sc = a[i].scales;
    int summs = 0;
    for (int j = 0; j < 16; ++j) summs += b[i].bsums[j] * (sc[j] >> 4);
    const float dall = b[i].d * f16_to_f32(a[i].d);
    const float dmin = b[i].d * f16_to_f32(a[i].dmin);
    int isum = 0, is = 0;
    const uint8_t* q2 = a[i].qs;
    const int8_t* q8 = b[i].qs;
    for (int half = 0; half < kQK_K / 128; ++half) {
      for (int shift = 0; shift < 8; shift += 2) {
        for (int part = 0; part < 2; ++part) {
          const int d = sc[is++] & 0xF;
          int isuml = 0;
          for (int l = 16 * part; l < 16 * part + 16; ++l) isuml += q8[l] * ((q2[l] >> shift) & 3);
          isum += d * isuml;
        }
        q8 += 32;
      }
      q2 += 32;
    }
    sumf += dall * static_cast<float>(isum) - dmin * static_cast<float>(summs);
  }
  return sumf;
}

float dot_q3_K_q8_K(const void* w, const void* x, int64_t k) {
  const BlockQ3_K* a = static_cast<const BlockQ3_K*>(w);  // (k / 256)
  const BlockQ8_K* b = static_cast<const BlockQ8_K*>(x);  // (k / 256)
  float sumf = 0.0f;
  int8_t q[kQK_K];
  for (int64_t i = 0; i < k / kQK_K; ++i) {
    // Decode the 3-bit values: 2 low bits from qs, minus 4 when the hmask bit is clear.
    const uint8_t* q3 = a[i].qs;
    int8_t* out = q;
    uint8_t m = 1;
    for (int j = 0; j < kQK_K; j += 128) {
      for (int shift = 0; shift < 8; shift += 2) {
        for (int l = 0; l < 32; ++l) {
          out[l] = static_cast<int8_t>(((q3[l] >> shift) & 3) - ((a[i].hmask[l] & m) ? 0 : 4));
        }
        out += 32;
        m = static_cast<uint8_t>(m << 1);
      }
      q3 += 32;
    }
    int8_t scales[16];
    unpack_q3_K_scales(a[i].scales, scales);
    int isum = 0;
    for (int g = 0; g < 16; ++g) {
      int s = 0;
      for (int l = 0; l < 16; ++l) s += q[g * 16 + l] * b[i].qs[g * 16 + l];
      isum += scales[g] * s;
    }
    sumf += f16_to_f32(a[i].d) * b[i].d * static_cast<float>(isum);
  }
  return sumf;
}

namespace {

// Q4_K and Q5_K share the scale layout; `q` holds the decoded unsigned values of one block.
float k45_block(const uint8_t* scales_packed, f16_t d16, f16_t dmin16, const uint8_t* q,
                const BlockQ8_K& y) {
  uint8_t sc[8], mn[8];
  for (int j = 0; j < 8; ++j) get_scale_min_k4(j, scales_packed, &sc[j], &mn[j]);
  int summins = 0;
  for (int j = 0; j < 16; ++j) summins += y.bsums[j] * mn[j / 2];
  int isum = 0;
  for (int j = 0; j < 8; ++j) {
    int s = 0;
    for (int l = 0; l < 32; ++l) s += q[j * 32 + l] * y.qs[j * 32 + l];
    isum += sc[j] * s;
  }
  const float d = f16_to_f32(d16) * y.d;
  const float dmin = f16_to_f32(dmin16) * y.d;
  return d * static_cast<float>(isum) - dmin * static_cast<float>(summins);
}

}  // namespace

float dot_q4_K_q8_K(const void* w, const void* x, int64_t k) {
  const BlockQ4_K* a = static_cast<const BlockQ4_K*>(w);  // (k / 256)
  const BlockQ8_K* b = static_cast<const BlockQ8_K*>(x);  // (k / 256)
  float sumf = 0.0f;
  uint8_t q[kQK_K];
  for (int64_t i = 0; i < k / kQK_K; ++i) {
    // 64 weights per 32 bytes: low nibbles are weights 0..31, high nibbles 32..63.
    for (int j = 0; j < kQK_K / 64; ++j) {
      for (int l = 0; l < 32; ++l) {
        q[64 * j + l] = a[i].qs[32 * j + l] & 0xF;
        q[64 * j + 32 + l] = a[i].qs[32 * j + l] >> 4;
      }
    }
    sumf += k45_block(a[i].scales, a[i].d, a[i].dmin, q, b[i]);
  }
  return sumf;
}

float dot_q5_K_q8_K(const void* w, const void* x, int64_t k) {
  const BlockQ5_K* a = static_cast<const BlockQ5_K*>(w);  // (k / 256)
  const BlockQ8_K* b = static_cast<const BlockQ8_K*>(x);  // (k / 256)
  float sumf = 0.0f;
  uint8_t q[kQK_K];
  for (int64_t i = 0; i < k / kQK_K; ++i) {
    uint8_t m = 1;
    for (int j = 0; j < kQK_K / 64; ++j) {
      for (int l = 0; l < 32; ++l) {
        q[64 * j + l] = static_cast<uint8_t>((a[i].qs[32 * j + l] & 0xF) +
                                             ((a[i].qh[l] & m) ? 16 : 0));
        q[64 * j + 32 + l] = static_cast<uint8_t>((a[i].qs[32 * j + l] >> 4) +
                                                  ((a[i].qh[l] & (m << 1)) ? 16 : 0));
      }
      m = static_cast<uint8_t>(m << 2);
    }
    sumf += k45_block(a[i].scales, a[i].d, a[i].dmin, q, b[i]);
  }
  return sumf;
}

float dot_q6_K_q8_K(const void* w, const void* x, int64_t k) {
  const BlockQ6_K* a = static_cast<const BlockQ6_K*>(w);  // (k / 256)
  const BlockQ8_K* b = static_cast<const BlockQ8_K*>(x);  // (k / 256)
  float sumf = 0.0f;
  int8_t q[kQK_K];
  for (int64_t i = 0; i < k / kQK_K; ++i) {
    const uint8_t* ql = a[i].ql;
    const uint8_t* qh = a[i].qh;
    for (int j = 0; j < kQK_K; j += 128) {
      for (int l = 0; l < 32; ++l) {
        q[j + l + 0] = static_cast<int8_t>(((ql[l + 0] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32);
        q[j + l + 32] = static_cast<int8_t>(((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32);
        q[j + l + 64] = static_cast<int8_t>(((ql[l + 0] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
        q[j + l + 96] = static_cast<int8_t>(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
      }
      ql += 64;
      qh += 32;
    }
    int isum = 0;
    for (int g = 0; g < 16; ++g) {
      int s = 0;
      for (int l = 0; l < 16; ++l) s += q[g * 16 + l] * b[i].qs[g * 16 + l];
      isum += a[i].scales[g] * s;
    }
    sumf += f16_to_f32(a[i].d) * b[i].d * static_cast<float>(isum);
  }
  return sumf;
}

}  // namespace quorum::kernels::ref
