// Scalar references for the row ops (RMSNorm, softmax, SwiGLU) and RoPE, with ggml's arithmetic:
// sums in double, the scale applied as a float multiply, exp/sin/cos from libm in float.
#include <cmath>
#include <limits>

#include "kernels/kernels.h"
#include "kernels/ref/ref.h"

namespace quorum::kernels {
namespace ref {

void rms_norm(const float* x, const float* weight, float* y, int64_t n, float eps) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(x[i] * x[i]);
  const float mean = static_cast<float>(sum / static_cast<double>(n));
  const float scale = 1.0f / std::sqrt(mean + eps);
  if (weight) {
    for (int64_t i = 0; i < n; ++i) y[i] = (x[i] * scale) * weight[i];
  } else {
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] * scale;
  }
}

void softmax(float* x, int64_t n) {
  float max = -std::numeric_limits<float>::infinity();
  for (int64_t i = 0; i < n; ++i) max = std::fmax(max, x[i]);
  if (max == -std::numeric_limits<float>::infinity()) {
    // Every entry masked: define the result as all zeros rather than NaN.
    for (int64_t i = 0; i < n; ++i) x[i] = 0.0f;
    return;
  }
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - max);
    sum += static_cast<double>(x[i]);
  }
  const float inv = static_cast<float>(1.0 / sum);
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

void swiglu(const float* gate, const float* up, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float g = gate[i];
    y[i] = g / (1.0f + std::exp(-g)) * up[i];
  }
}

}  // namespace ref

// ggml's rope cache: theta advances by repeated float multiplication with base^(-2/n_dims).
void rope_cache(int64_t pos, const RopeParams& p, float* cs) {
  const int n_dims = p.n_dims;
  const float theta_scale = std::pow(p.base, -2.0f / static_cast<float>(n_dims));
  float theta_base = static_cast<float>(pos);
  const int64_t half = n_dims / 2;
  for (int64_t i = 0; i < half; ++i) {
    const float ff = p.freq_factors ? p.freq_factors[i] : 1.0f;
    const float theta = p.freq_scale * (theta_base / ff);
    cs[2 * i] = std::cos(theta);
    cs[2 * i + 1] = std::sin(theta);
    theta_base *= theta_scale;
  }
}

void rope_apply(float* x, const float* cs, const RopeParams& p) {
  const int64_t half = p.n_dims / 2;
  if (p.mode == RopeMode::kNormal) {
    for (int64_t i = 0; i < half; ++i) {
      const float c = cs[2 * i], s = cs[2 * i + 1];
      const float x0 = x[2 * i], x1 = x[2 * i + 1];
      x[2 * i] = x0 * c - x1 * s;
      x[2 * i + 1] = x0 * s + x1 * c;
    }
  } else {
    for (int64_t i = 0; i < half; ++i) {
      const float c = cs[2 * i], s = cs[2 * i + 1];
      const float x0 = x[i], x1 = x[i + half];
      x[i] = x0 * c - x1 * s;
      x[i + half] = x0 * s + x1 * c;
    }
  }
}

// The reference: angles computed as it goes.
void rope(float* x, int64_t head_dim, int64_t pos, const RopeParams& p) {
  const int n_dims = p.n_dims > 0 ? p.n_dims : static_cast<int>(head_dim);
  const float theta_scale = std::pow(p.base, -2.0f / static_cast<float>(n_dims));
  float theta_base = static_cast<float>(pos);
  const int64_t half = n_dims / 2;
  for (int64_t i = 0; i < half; ++i) {
    const float ff = p.freq_factors ? p.freq_factors[i] : 1.0f;
    const float theta = p.freq_scale * (theta_base / ff);
    const float c = std::cos(theta), s = std::sin(theta);
    const int64_t i0 = p.mode == RopeMode::kNormal ? 2 * i : i;
    const int64_t i1 = p.mode == RopeMode::kNormal ? 2 * i + 1 : i + half;
    const float x0 = x[i0], x1 = x[i1];
    x[i0] = x0 * c - x1 * s;
    x[i1] = x0 * s + x1 * c;
    theta_base *= theta_scale;
  }
}

}  // namespace quorum::kernels
