// Row ops (RMSNorm, softmax, SwiGLU) and RoPE against double-precision references.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "kernels/kernels.h"
#include "kernel_test_util.h"

namespace quorum::kernels {
namespace {

using testing::available_isas;
using testing::random_floats;
using testing::WorstError;

constexpr double kU = 5.960464477539063e-08;  // 2^-24

TEST(Ops, RmsNormMatchesDouble) {
  for (Isa isa : available_isas()) {
    const Kernels kern(CpuFeatures::detect(), isa);
    WorstError worst;
    for (int64_t n : {1, 7, 64, 2048, 4097}) {
      const std::vector<float> x = random_floats(n, 3, 2.5f);
      const std::vector<float> wt = random_floats(n, 4);
      for (bool with_weight : {false, true}) {
        std::vector<float> y(n);
        const float eps = 1e-5f;
        kern.rms_norm(x.data(), with_weight ? wt.data() : nullptr, y.data(), n, eps);
        double ss = 0.0;
        for (float v : x) ss += double(v) * v;
        const double scale = 1.0 / std::sqrt(ss / double(n) + eps);
        for (int64_t i = 0; i < n; ++i) {
          const double want = x[i] * scale * (with_weight ? wt[i] : 1.0);
          // Relative error: mean (n-term sum), sqrt, divide, two products: a few ulps each.
          worst.add(y[i], want, 16 * kU * std::fabs(want) + 1e-30,
                    "n " + std::to_string(n) + " i " + std::to_string(i));
        }
      }
    }
    SCOPED_TRACE(isa_name(isa));
    worst.expect_ok();
  }
}

TEST(Ops, SoftmaxMatchesDoubleAndHandlesMasks) {
  const float kNegInf = -std::numeric_limits<float>::infinity();
  for (Isa isa : available_isas()) {
    const Kernels kern(CpuFeatures::detect(), isa);
    WorstError worst;
    for (int64_t n : {1, 5, 32, 1000}) {
      std::vector<float> x = random_floats(n, 9, 4.0f);
      if (n > 4) x[1] = x[n - 1] = kNegInf;
      std::vector<double> want(n);
      double mx = -1e300;
      for (float v : x) mx = std::max(mx, double(v));
      double sum = 0.0;
      for (int64_t i = 0; i < n; ++i) sum += want[i] = std::exp(double(x[i]) - mx);
      for (auto& v : want) v /= sum;
      kern.softmax(x.data(), n);
      double total = 0.0;
      for (int64_t i = 0; i < n; ++i) {
        total += x[i];
        // expf has ~1 ulp of error on an argument carrying up to |x - max| ulps of rounding.
        worst.add(x[i], want[i], 64 * kU * want[i] + 1e-30,
                  "n " + std::to_string(n) + " i " + std::to_string(i));
      }
      EXPECT_NEAR(total, 1.0, 1e-5);
      if (n > 4) {
        EXPECT_EQ(x[1], 0.0f);
      }
    }
    SCOPED_TRACE(isa_name(isa));
    worst.expect_ok();
    std::vector<float> all_masked(8, kNegInf);
    kern.softmax(all_masked.data(), 8);
    for (float v : all_masked) EXPECT_EQ(v, 0.0f);
  }
}

TEST(Ops, SwigluMatchesDouble) {
  for (Isa isa : available_isas()) {
    const Kernels kern(CpuFeatures::detect(), isa);
    WorstError worst;
    for (int64_t n : {1, 9, 64, 8192}) {
      const std::vector<float> g = random_floats(n, 21, 3.0f), u = random_floats(n, 22);
      std::vector<float> y(n);
      kern.swiglu(g.data(), u.data(), y.data(), n);
      for (int64_t i = 0; i < n; ++i) {
        const double want = double(g[i]) / (1.0 + std::exp(-double(g[i]))) * u[i];
        worst.add(y[i], want, 32 * kU * std::fabs(want) + 1e-30, "i " + std::to_string(i));
      }
    }
    SCOPED_TRACE(isa_name(isa));
    worst.expect_ok();
  }
}

// The SIMD softmax / SwiGLU against the scalar reference (libm expf) over swept sizes (every tail
// length, vector multiples ±1), masked entries, and exp arguments out to overflow, underflow and
// the subnormal range.
TEST(Ops, SoftmaxAndSwigluSimdMatchScalarReference) {
  const float kNegInf = -std::numeric_limits<float>::infinity();
  const Kernels ref(CpuFeatures::detect(), Isa::kScalar);
  std::vector<int64_t> sizes;
  for (int64_t n = 1; n <= 48; ++n) sizes.push_back(n);
  for (int64_t n : {63, 64, 65, 127, 255, 256, 257, 1000, 4097, 8192}) sizes.push_back(n);
  for (Isa isa : available_isas()) {
    if (isa == Isa::kScalar) continue;
    const Kernels kern(CpuFeatures::detect(), isa);
    SCOPED_TRACE(isa_name(isa));
    WorstError soft, swi;
    for (int64_t n : sizes) {
      for (float scale : {1.0f, 8.0f, 60.0f}) {
        std::vector<float> x = random_floats(n, 31 + static_cast<uint32_t>(n), scale);
        if (n > 2) x[n / 2] = kNegInf;
        std::vector<float> a = x, b = x;
        ref.softmax(a.data(), n);
        kern.softmax(b.data(), n);
        for (int64_t i = 0; i < n; ++i) {
          // exp within a few ulps of expf; the sums differ in order (double accumulation).
          soft.add(b[i], a[i], 8 * kU * std::fabs(a[i]) + 1e-37,
                   "softmax n " + std::to_string(n) + " i " + std::to_string(i));
        }
        if (n > 2) {
          EXPECT_EQ(b[n / 2], 0.0f);
        }
        const std::vector<float> u = random_floats(n, 77 + static_cast<uint32_t>(n));
        std::vector<float> ya(n), yb(n);
        ref.swiglu(x.data(), u.data(), ya.data(), n);
        kern.swiglu(x.data(), u.data(), yb.data(), n);
        for (int64_t i = 0; i < n; ++i) {
          if (std::isinf(x[i])) continue;  // -inf * u: NaN for both, as -inf / inf
          swi.add(yb[i], ya[i], 8 * kU * std::fabs(ya[i]) + 1e-37,
                  "swiglu n " + std::to_string(n) + " i " + std::to_string(i));
        }
      }
    }
    // exp's whole range through SwiGLU (gate g: e^-g from e^-120 to e^120) with up = 1.
    std::vector<float> g, one;
    for (float v = -120.0f; v <= 120.0f; v += 0.0625f) g.push_back(v);
    for (float v : {-88.72f, -88.73f, -103.9f, 87.3f, 88.73f, 0.0f, -0.0f, 1e-30f, -1e-30f}) g.push_back(v);
    one.assign(g.size(), 1.0f);
    std::vector<float> ya(g.size()), yb(g.size());
    ref.swiglu(g.data(), one.data(), ya.data(), static_cast<int64_t>(g.size()));
    kern.swiglu(g.data(), one.data(), yb.data(), static_cast<int64_t>(g.size()));
    for (size_t i = 0; i < g.size(); ++i) {
      swi.add(yb[i], ya[i], 8 * kU * std::fabs(ya[i]) + 1e-44, "swiglu g " + std::to_string(g[i]));
    }
    // Softmax whose entries reach far below the maximum (e^-100: subnormal, e^-200: 0).
    std::vector<float> x;
    for (float v = -200.0f; v <= 0.0f; v += 0.25f) x.push_back(v);
    std::vector<float> a = x, b = x;
    ref.softmax(a.data(), static_cast<int64_t>(a.size()));
    kern.softmax(b.data(), static_cast<int64_t>(b.size()));
    for (size_t i = 0; i < x.size(); ++i) {
      soft.add(b[i], a[i], 8 * kU * std::fabs(a[i]) + 1e-44, "softmax x " + std::to_string(x[i]));
    }
    soft.expect_ok();
    swi.expect_ok();
  }
}

// theta_i = pos * freq_scale * base^(-2i/n_dims) / ff_i in double; the kernel advances theta by
// repeated float products (as ggml does), so its angle error grows like (i + 2) * u * theta.
TEST(Ops, RopeMatchesDoubleBothModes) {
  const int64_t head_dim = 64;
  std::vector<float> ff(32);  // n_dims / 2 for the largest n_dims
  for (int i = 0; i < 32; ++i) ff[i] = 1.0f + 0.25f * i;
  for (RopeMode mode : {RopeMode::kNormal, RopeMode::kNeox}) {
    for (int n_dims : {64, 32}) {
      const std::vector<const float*> factor_sets = {nullptr, ff.data()};
      for (const float* factors : factor_sets) {
        WorstError worst;
        for (int64_t pos : {0, 1, 17, 1000, 4095}) {
          const std::vector<float> x0 = random_floats(head_dim, 40 + static_cast<uint32_t>(pos));
          std::vector<float> x = x0;
          RopeParams p;
          p.mode = mode;
          p.n_dims = n_dims;
          p.base = 500000.0f;
          p.freq_scale = 0.5f;
          p.freq_factors = factors;
          rope(x.data(), head_dim, pos, p);
          const int64_t half = n_dims / 2;
          for (int64_t i = 0; i < half; ++i) {
            const double f = factors ? factors[i] : 1.0;
            const double theta =
                double(pos) * 0.5 * std::pow(500000.0, -2.0 * double(i) / n_dims) / f;
            const int64_t i0 = mode == RopeMode::kNormal ? 2 * i : i;
            const int64_t i1 = mode == RopeMode::kNormal ? 2 * i + 1 : i + half;
            const double a = x0[i0], b = x0[i1];
            const double y0 = a * std::cos(theta) - b * std::sin(theta);
            const double y1 = a * std::sin(theta) + b * std::cos(theta);
            const double tol = (std::fabs(a) + std::fabs(b)) * ((i + 4) * 2 * kU * theta + 8 * kU);
            const std::string at = "pos " + std::to_string(pos) + " pair " + std::to_string(i);
            worst.add(x[i0], y0, tol, at);
            worst.add(x[i1], y1, tol, at);
          }
          for (int64_t i = n_dims; i < head_dim; ++i) EXPECT_EQ(x[i], x0[i]) << "unrotated " << i;
        }
        SCOPED_TRACE(std::string(mode == RopeMode::kNormal ? "normal" : "neox") + " n_dims " +
                     std::to_string(n_dims) + (factors ? " with freq_factors" : ""));
        worst.expect_ok();
      }
    }
  }
}

}  // namespace
}  // namespace quorum::kernels
