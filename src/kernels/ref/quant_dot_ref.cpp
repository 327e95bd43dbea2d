// Scalar dot products of the 32-element block types with Q8_0/Q8_1 activations, as ggml's generic
// ggml_vec_dot_<w>_<act>: an exact integer dot within each block, then one float multiply-add
// with the two block scales (plus the min term m * s for the _1 types).
#include <cstring>

#include "core/fp16.h"
#include "kernels/ref/ref.h"
#include "tensor/blocks.h"

namespace quorum::kernels::ref {

float dot_q4_0_q8_0(const void* w, const void* x, int64_t k) {
  const BlockQ4_0* a = static_cast<const BlockQ4_0*>(w);  // (k / 32)
  const BlockQ8_0* b = static_cast<const BlockQ8_0*>(x);  // (k / 32)
  float sumf = 0.0f;
  for (int64_t i = 0; i < k / kQK4_0; ++i) {
    int sumi = 0;
    for (int j = 0; j < kQK4_0 / 2; ++j) {
      const int v0 = (a[i].qs[j] & 0x0F) - 8;
      const int v1 = (a[i].qs[j] >> 4) - 8;
      sumi += v0 * b[i].qs[j] + v1 * b[i].qs[j + kQK4_0 / 2];
    }
    sumf += static_cast<float>(sumi) * f16_to_f32(a[i].d) * f16_to_f32(b[i].d);
  }
  return sumf;
}

float dot_q4_1_q8_1(const void* w, const void* x, int64_t k) {
  const BlockQ4_1* a = static_cast<const BlockQ4_1*>(w);  // (k / 32)
  const BlockQ8_1* b = static_cast<const BlockQ8_1*>(x);  // (k / 32)
  float sumf = 0.0f;
  for (int64_t i = 0; i < k / kQK4_1; ++i) {
    int sumi = 0;
    for (int j = 0; j < kQK4_1 / 2; ++j) {
      sumi += (a[i].qs[j] & 0x0F) * b[i].qs[j] + (a[i].qs[j] >> 4) * b[i].qs[j + kQK4_1 / 2];
    }
    sumf += (f16_to_f32(a[i].d) * f16_to_f32(b[i].d)) * static_cast<float>(sumi) +
            f16_to_f32(a[i].m) * f16_to_f32(b[i].s);
  }
  return sumf;
}

float dot_q5_0_q8_0(const void* w, const void* x, int64_t k) {
  const BlockQ5_0* a = static_cast<const BlockQ5_0*>(w);  // (k / 32)
  const BlockQ8_0* b = static_cast<const BlockQ8_0*>(x);  // (k / 32)
  float sumf = 0.0f;
  for (int64_t i = 0; i < k / kQK5_0; ++i) {
    uint32_t qh;
    std::memcpy(&qh, a[i].qh, sizeof(qh));
    int sumi = 0;
    for (int j = 0; j < kQK5_0 / 2; ++j) {
      const int h0 = static_cast<int>((qh >> j) & 1u) << 4;
      const int h1 = static_cast<int>((qh >> (j + 16)) & 1u) << 4;
      const int v0 = ((a[i].qs[j] & 0x0F) | h0) - 16;
      const int v1 = ((a[i].qs[j] >> 4) | h1) - 16;
      sumi += v0 * b[i].qs[j] + v1 * b[i].qs[j + kQK5_0 / 2];
    }
    sumf += (f16_to_f32(a[i].d) * f16_to_f32(b[i].d)) * static_cast<float>(sumi);
  }
  return sumf;
}

float dot_q5_1_q8_1(const void* w, const void* x, int64_t k) {
  const BlockQ5_1* a = static_cast<const BlockQ5_1*>(w);  // (k / 32)
  const BlockQ8_1* b = static_cast<const BlockQ8_1*>(x);  // (k / 32)
  float sumf = 0.0f;
  for (int64_t i = 0; i < k / kQK5_1; ++i) {
    uint32_t qh;
    std::memcpy(&qh, a[i].qh, sizeof(qh));
    int sumi = 0;
    for (int j = 0; j < kQK5_1 / 2; ++j) {
      const int h0 = static_cast<int>((qh >> j) & 1u) << 4;
      const int h1 = static_cast<int>((qh >> (j + 16)) & 1u) << 4;
      const int v0 = (a[i].qs[j] & 0x0F) | h0;
      const int v1 = (a[i].qs[j] >> 4) | h1;
      sumi += v0 * b[i].qs[j] + v1 * b[i].qs[j + kQK5_1 / 2];
    }
    sumf += (f16_to_f32(a[i].d) * f16_to_f32(b[i].d)) * static_cast<float>(sumi) +
            f16_to_f32(a[i].m) * f16_to_f32(b[i].s);
  }
  return sumf;
}

float dot_q8_0_q8_0(const void* w, const void* x, int64_t k) {
  const BlockQ8_0* a = static_cast<const BlockQ8_0*>(w);  // (k / 32)
  const BlockQ8_0* b = static_cast<const BlockQ8_0*>(x);  // (k / 32)
  float sumf = 0.0f;
  for (int64_t i = 0; i < k / kQK8_0; ++i) {
    int sumi = 0;
    for (int j = 0; j < kQK8_0; ++j) sumi += a[i].qs[j] * b[i].qs[j];
    sumf += static_cast<float>(sumi) * (f16_to_f32(a[i].d) * f16_to_f32(b[i].d));
  }
  return sumf;
}

float dot_iq4_nl_q8_0(const void* w, const void* x, int64_t k) {
  const BlockIQ4_NL* a = static_cast<const BlockIQ4_NL*>(w);  // (k / 32)
  const BlockQ8_0* b = static_cast<const BlockQ8_0*>(x);      // (k / 32)
  float sumf = 0.0f;
  for (int64_t i = 0; i < k / kQK4_NL; ++i) {
    int sumi1 = 0, sumi2 = 0;
    for (int j = 0; j < kQK4_NL / 2; ++j) {
      sumi1 += b[i].qs[j] * kValuesIQ4_NL[a[i].qs[j] & 0x0F];
      sumi2 += b[i].qs[j + kQK4_NL / 2] * kValuesIQ4_NL[a[i].qs[j] >> 4];
    }
    sumf += f16_to_f32(a[i].d) * f16_to_f32(b[i].d) * static_cast<float>(sumi1 + sumi2);
  }
  return sumf;
}

}  // namespace quorum::kernels::ref
