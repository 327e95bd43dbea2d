// Attention over an F16 cache (every ISA against a double-precision reference) and the cached
// RoPE angles (bit-identical to rope()).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/fp16.h"
#include "kernel_test_util.h"
#include "kernels/kernels.h"

namespace quorum::kernels {
namespace {

using testing::available_isas;
using testing::float_dot_tolerance;
using testing::random_floats;
using testing::WorstError;

std::vector<f16_t> to_f16(const std::vector<float>& x) {
  std::vector<f16_t> y(x.size());
  for (size_t i = 0; i < x.size(); ++i) y[i] = f32_to_f16(x[i]);
  return y;
}

struct AttnShape {
  int64_t n_q, n_kv, hd, stride;
};

TEST(Attention, ScoresAndValuesMatchDoubleAllIsas) {
  const std::vector<AttnShape> shapes = {
      {1, 1, 64, 64}, {4, 37, 64, 512}, {2, 130, 128, 256}, {3, 5, 20, 40}, {5, 17, 8, 24},
      {8, 64, 32, 32}, {1, 300, 80, 160}};
  for (Isa isa : available_isas()) {
    const Kernels kern(CpuFeatures::detect(), isa);
    WorstError ws, wv;
    for (const AttnShape& s : shapes) {
      const std::string at = "n_q " + std::to_string(s.n_q) + " n_kv " + std::to_string(s.n_kv) +
                             " hd " + std::to_string(s.hd);
      // Cache rows of `stride` halves; the head's values start at column 0 (keys) and at an
      // offset (values) so a non-zero column start is covered too.
      const int64_t col = s.stride - s.hd;
      const std::vector<f16_t> kc = to_f16(random_floats(s.n_kv * s.stride, 11));
      const std::vector<f16_t> vc = to_f16(random_floats(s.n_kv * s.stride, 12));
      const std::vector<float> q = random_floats(s.n_q * s.hd, 13);
      std::vector<float> p = random_floats(s.n_q * s.n_kv, 14);
      for (float& x : p) x = std::fabs(x);
      std::vector<float> scores(static_cast<size_t>(s.n_q * s.n_kv));
      std::vector<float> out(static_cast<size_t>(s.n_q * s.hd));
      kern.attn_scores_f16(kc.data(), s.stride, q.data(), s.n_q, s.n_kv, s.hd, scores.data());
      kern.attn_values_f16(vc.data() + col, s.stride, p.data(), s.n_q, s.n_kv, s.hd, out.data());
      for (int64_t g = 0; g < s.n_q; ++g) {
        for (int64_t j = 0; j < s.n_kv; ++j) {
          double want = 0, sum_abs = 0;
          for (int64_t d = 0; d < s.hd; ++d) {
            const double t = double(q[g * s.hd + d]) * f16_to_f32(kc[j * s.stride + d]);
            want += t;
            sum_abs += std::fabs(t);
          }
          ws.add(scores[g * s.n_kv + j], want, float_dot_tolerance(sum_abs, s.hd), at);
        }
        for (int64_t d = 0; d < s.hd; ++d) {
          double want = 0, sum_abs = 0;
          for (int64_t j = 0; j < s.n_kv; ++j) {
            const double t = double(p[g * s.n_kv + j]) * f16_to_f32(vc[j * s.stride + col + d]);
            want += t;
            sum_abs += std::fabs(t);
          }
          // Values sum over positions in order in every version (n_kv terms, one lane).
          wv.add(out[g * s.hd + d], want,
                 (double(s.n_kv) + 2) * std::ldexp(1.0, -24) * sum_abs + 1e-30, at);
        }
      }
    }
    SCOPED_TRACE(isa_name(isa));
    ws.expect_ok();
    wv.expect_ok();
  }
}

// The reference computes exactly the engine's original loop: summing in position order, float.
TEST(Attention, ScalarValuesSumPositionsInOrder) {
  const Kernels kern(CpuFeatures::detect(), Isa::kScalar);
  const int64_t n_kv = 9, hd = 4;
  const std::vector<f16_t> v = to_f16(random_floats(n_kv * hd, 21));
  const std::vector<float> p = random_floats(n_kv, 22);
  std::vector<float> out(hd);
  kern.attn_values_f16(v.data(), hd, p.data(), 1, n_kv, hd, out.data());
  for (int64_t d = 0; d < hd; ++d) {
    float acc = 0.0f;
    for (int64_t j = 0; j < n_kv; ++j) acc += p[j] * f16_to_f32(v[j * hd + d]);
    EXPECT_EQ(out[d], acc) << d;
  }
}

TEST(Rope, CachedAnglesAreBitIdenticalToRope) {
  std::vector<float> ff(64);
  for (int i = 0; i < 64; ++i) ff[i] = 1.0f + 0.125f * i;
  for (RopeMode mode : {RopeMode::kNormal, RopeMode::kNeox}) {
    for (int64_t head_dim : {64, 128}) {
      for (int n_dims : {32, 64}) {
        for (const float* factors : {static_cast<const float*>(nullptr), static_cast<const float*>(ff.data())}) {
          RopeParams p;
          p.mode = mode;
          p.n_dims = n_dims;
          p.base = 500000.0f;
          p.freq_scale = 0.25f;
          p.freq_factors = factors;
          for (int64_t pos : {0, 3, 511, 4000}) {
            const std::vector<float> x0 = random_floats(head_dim, 30 + static_cast<uint32_t>(pos));
            std::vector<float> a = x0, b = x0;
            rope(a.data(), head_dim, pos, p);
            std::vector<float> cs(static_cast<size_t>(n_dims));
            rope_cache(pos, p, cs.data());
            rope_apply(b.data(), cs.data(), p);
            for (int64_t i = 0; i < head_dim; ++i) {
              ASSERT_EQ(f32_to_bits(a[i]), f32_to_bits(b[i]))
                  << "pos " << pos << " i " << i << " n_dims " << n_dims;
            }
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace quorum::kernels
