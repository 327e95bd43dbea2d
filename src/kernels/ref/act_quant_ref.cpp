// Activation quantizers with ggml's reference semantics: quantize_row_q8_0_ref (absmax / 127,
// roundf), quantize_row_q8_1_ref (plus s = d * sum(q)) and quantize_row_q8_K_ref (scale from the
// signed extreme, -127 / max, round half to even, 16-element sums kept in bsums).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/fp16.h"
#include "kernels/ref/ref.h"
#include "tensor/blocks.h"

namespace quorum::kernels::ref {
namespace {

// ggml's nearest_int: round half to even through the float magic number 1.5 * 2^23.
inline int nearest_int(float v) {
  const float t = v + 12582912.0f;
  int32_t i;
  std::memcpy(&i, &t, 4);
  return (i & 0x007fffff) - 0x00400000;
}

}  // namespace

void quantize_row_q8_0(const float* x, void* vy, int64_t k) {
  BlockQ8_0* y = static_cast<BlockQ8_0*>(vy);  // (k / 32)
  for (int64_t b = 0; b < k / kQK8_0; ++b) {
    const float* xb = x + b * kQK8_0;
    float amax = 0.0f;
    for (int j = 0; j < kQK8_0; ++j) amax = std::max(amax, std::fabs(xb[j]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[b].d = f32_to_f16(d);
    for (int j = 0; j < kQK8_0; ++j) y[b].qs[j] = static_cast<int8_t>(std::round(xb[j] * id));
  }
}

void quantize_row_q8_1(const float* x, void* vy, int64_t k) {
  BlockQ8_1* y = static_cast<BlockQ8_1*>(vy);  // (k / 32)
  for (int64_t b = 0; b < k / kQK8_1; ++b) {
    const float* xb = x + b * kQK8_1;
    float amax = 0.0f;
    for (int j = 0; j < kQK8_1; ++j) amax = std::max(amax, std::fabs(xb[j]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    y[b].d = f32_to_f16(d);
    int sum = 0;
    for (int j = 0; j < kQK8_1; ++j) {
      y[b].qs[j] = static_cast<int8_t>(std::round(xb[j] * id));
      sum += y[b].qs[j];
    }
    y[b].s = f32_to_f16(static_cast<float>(sum) * d);
  }
}

void quantize_row_q8_K(const float* x, void* vy, int64_t k) {
  BlockQ8_K* y = static_cast<BlockQ8_K*>(vy);  // (k / 256)
  for (int64_t b = 0; b < k / kQK_K; ++b) {
    const float* xb = x + b * kQK_K;
    float max = 0.0f, amax = 0.0f;
    for (int j = 0; j < kQK_K; ++j) {
      const float ax = std::fabs(xb[j]);
      if (ax > amax) {
        amax = ax;
        max = xb[j];
      }
    }
    if (amax == 0.0f) {
      y[b].d = 0.0f;
      std::memset(y[b].qs, 0, sizeof(y[b].qs));
      std::memset(y[b].bsums, 0, sizeof(y[b].bsums));
      continue;
    }
    const float iscale = -127.0f / max;
    for (int j = 0; j < kQK_K; ++j) {
      y[b].qs[j] = static_cast<int8_t>(std::min(127, nearest_int(iscale * xb[j])));
    }
    for (int g = 0; g < kQK_K / 16; ++g) {
      int sum = 0;
      for (int j = 0; j < 16; ++j) sum += y[b].qs[g * 16 + j];
      y[b].bsums[g] = static_cast<int16_t>(sum);
    }
    y[b].d = 1.0f / iscale;
  }
}

}  // namespace quorum::kernels::ref
