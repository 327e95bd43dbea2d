// Unit tests of the reference quantizers: round-trip error bounds per type over random rows,
// hand-computed blocks, the imatrix = null path equal to the _ref path, and importance weighting
// lowering the weighted error it targets.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "tensor/blocks.h"
#include "tensor/dtype.h"
#include "tensor/quant_ref.h"

namespace quorum {
namespace {

std::vector<float> random_rows(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> nd(0.f, 1.f);
  std::vector<float> x(n);
  for (auto& v : x) v = nd(rng);
  // A few outliers, as real weights have.
  for (int64_t i = 0; i < n; i += 97) x[i] *= 6.f;
  return x;
}

struct Bound { DType type; double max_rel_rmse; };

// Relative RMS error bounds: measured values (seeded data) times ~1.3; a broken scale search or
// packing bug gives errors of order 1.
const Bound kBounds[] = {
    {DType::kQ4_0, 0.13}, {DType::kQ4_1, 0.11}, {DType::kQ5_0, 0.065}, {DType::kQ5_1, 0.055},
    {DType::kQ8_0, 0.0085}, {DType::kQ2_K, 0.42}, {DType::kQ3_K, 0.22}, {DType::kQ4_K, 0.11},
    {DType::kQ5_K, 0.055}, {DType::kQ6_K, 0.027}, {DType::kQ8_K, 0.019},
    {DType::kIQ4_NL, 0.11},
};

TEST(QuantRef, RoundTripErrorWithinBound) {
  const int64_t n = 256 * 64;
  const std::vector<float> x = random_rows(n, 42);
  double sum_x2 = 0;
  for (float v : x) sum_x2 += double(v) * v;
  for (const Bound& b : kBounds) {
    const TypeTraits& tr = traits(b.type);
    ASSERT_NE(tr.from_float, nullptr) << tr.name;
    ASSERT_NE(tr.to_float, nullptr) << tr.name;
    std::vector<uint8_t> q(row_size(b.type, n));
    std::vector<float> y(n);
    tr.from_float(x.data(), q.data(), n);
    tr.to_float(q.data(), y.data(), n);
    double err2 = 0, worst = 0;
    int64_t worst_i = 0;
    for (int64_t i = 0; i < n; ++i) {
      const double e = double(y[i]) - x[i];
      err2 += e * e;
      if (std::fabs(e) > worst) { worst = std::fabs(e); worst_i = i; }
    }
    const double rel = std::sqrt(err2 / sum_x2);
    fmt::print("{:8} relative rmse {:.5f} (bound {})\n", tr.name, rel, b.max_rel_rmse);
    EXPECT_LT(rel, b.max_rel_rmse) << tr.name << ": worst element " << worst_i << " x="
                                   << x[worst_i] << " y=" << y[worst_i];
  }
}

// x[j] = j - 16: amax 16 at x[0] = -16, so d = -16 / -8 = 2 and q = trunc(x / 2 + 8.5), capped
// at 15: y = 2 * (q - 8).
TEST(QuantRef, Q4_0HandComputedBlock) {
  float x[32], y[32];
  for (int j = 0; j < 32; ++j) x[j] = float(j - 16);
  BlockQ4_0 b;
  quantize_row_q4_0_ref(x, &b, 32);
  EXPECT_EQ(f16_to_f32(b.d), 2.0f);
  dequantize_row_q4_0(&b, y, 32);
  for (int j = 0; j < 32; ++j) {
    const int q = std::min(15, int(std::trunc(x[j] / 2 + 8.5f)));
    EXPECT_EQ(y[j], 2.0f * (q - 8)) << "j=" << j;
  }
}

// Values already on the Q8_0 grid come back exactly: x = k * (amax / 127).
TEST(QuantRef, Q8_0ExactOnGrid) {
  float x[32], y[32];
  for (int j = 0; j < 32; ++j) x[j] = float(j * 8 - 127) / 4.0f;  // amax 127/4 -> d = 0.25
  x[31] = 127.0f / 4.0f;
  BlockQ8_0 b;
  quantize_row_q8_0_ref(x, &b, 32);
  EXPECT_EQ(f16_to_f32(b.d), 0.25f);
  dequantize_row_q8_0(&b, y, 32);
  for (int j = 0; j < 32; ++j) EXPECT_EQ(y[j], x[j]) << "j=" << j;
}

TEST(QuantRef, AllZeroRowsGiveZeros) {
  const int64_t n = 512;
  std::vector<float> x(n, 0.f), y(n, 1.f);
  for (const Bound& b : kBounds) {
    const TypeTraits& tr = traits(b.type);
    std::vector<uint8_t> q(row_size(b.type, n));
    tr.from_float(x.data(), q.data(), n);
    tr.to_float(q.data(), y.data(), n);
    for (int64_t i = 0; i < n; ++i) ASSERT_EQ(y[i], 0.f) << tr.name << " i=" << i;
  }
}

// quantize_<t>(imatrix = null) is the _ref path, byte for byte (ggml's contract).
TEST(QuantRef, NullImatrixEqualsRef) {
  const int64_t n_per_row = 512, nrows = 6;
  const std::vector<float> x = random_rows(n_per_row * nrows, 7);
  for (const Bound& b : kBounds) {
    const QuantizeFn fn = quantize_fn(b.type);
    if (!fn) continue;  // Q8_K: activation type only
    const TypeTraits& tr = traits(b.type);
    std::vector<uint8_t> a(row_size(b.type, n_per_row) * nrows), r(a.size());
    EXPECT_EQ(fn(x.data(), a.data(), nrows, n_per_row, nullptr), a.size()) << tr.name;
    tr.from_float(x.data(), r.data(), n_per_row * nrows);
    EXPECT_EQ(0, std::memcmp(a.data(), r.data(), a.size())) << tr.name;
  }
}

// With importance weights, the error weighted by those weights is lower than without them
// (summed over many rows; this is what the weights are for).
TEST(QuantRef, ImatrixLowersWeightedError) {
  const int64_t n_per_row = 512, nrows = 32;
  const std::vector<float> x = random_rows(n_per_row * nrows, 11);
  std::vector<float> imatrix(n_per_row);
  std::mt19937 rng(3);
  std::exponential_distribution<float> ed(1.f);
  for (auto& v : imatrix) v = ed(rng) * ed(rng) * 10.f;
  for (const Bound& b : kBounds) {
    const QuantizeFn fn = quantize_fn(b.type);
    if (!fn || b.type == DType::kQ8_0) continue;  // Q8_0 ignores weights
    const TypeTraits& tr = traits(b.type);
    auto weighted_err = [&](const float* w) {
      std::vector<uint8_t> q(row_size(b.type, n_per_row) * nrows);
      std::vector<float> y(x.size());
      fn(x.data(), q.data(), nrows, n_per_row, w);
      tr.to_float(q.data(), y.data(), int64_t(x.size()));
      double e = 0;
      for (size_t i = 0; i < x.size(); ++i) {
        const double d = double(y[i]) - x[i];
        e += imatrix[i % n_per_row] * d * d;
      }
      return e;
    };
    const double plain = weighted_err(nullptr), weighted = weighted_err(imatrix.data());
    fmt::print("{:8} weighted error plain {:.4f} imatrix {:.4f}\n", tr.name, plain, weighted);
    EXPECT_LT(weighted, plain) << tr.name;
  }
}

// IQ2 grids: every byte of every grid point is one of the three magnitudes 8, 25, 43, so the
// dequantized values of any block are multiples of db by those magnitudes; check a block.
TEST(QuantRef, Iq2XxsDequantizesGridPoints) {
  BlockIQ2_XXS b{};
  b.d = f32_to_f16(1.0f);
  // Sub-block 0: grid indices 0 and 255 in the first two bytes, scale nibble 3 (bits 28..31),
  // sign index 1 for the first 8 weights (ksigns[1] = 129: weights 0 and 7 negative).
  const uint32_t aux0 = 0x0000ff00u;           // grid idx: l0 = 0x00, l1 = 0xff, l2 = l3 = 0
  const uint32_t aux1 = (3u << 28) | 1u;       // scale 3, signs of group 0 = index 1
  std::memcpy(&b.qs[0], &aux0, 4);
  std::memcpy(&b.qs[2], &aux1, 4);
  std::vector<float> y(256);
  dequantize_row_iq2_xxs(&b, y.data(), 256);
  const float db = 1.0f * (0.5f + 3) * 0.25f;
  // group 0: grid 0 = all 8s, signs 129 -> weights 0 and 7 negative.
  for (int j = 0; j < 8; ++j) EXPECT_EQ(y[j], db * 8 * ((j == 0 || j == 7) ? -1 : 1)) << j;
  // group 1: grid 255 = 0x2b2b2b1908081908 (bytes little-endian: 08 19 08 08 19 2b 2b 2b).
  const int g255[8] = {8, 25, 8, 8, 25, 43, 43, 43};
  for (int j = 0; j < 8; ++j) EXPECT_EQ(y[8 + j], db * g255[j]) << j;
}

}  // namespace
}  // namespace quorum
