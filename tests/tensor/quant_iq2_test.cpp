// Properties of the IQ2_XXS / IQ2_XS quantizers (quant_ref_iq2.cpp) that hold whatever the data:
// exact invariance under power-of-two scaling of the weights and of the importance matrix,
// refusal without importance weights, zero rows, and that importance weights steer the error.
// Byte agreement with llama-quantize is checked in tests/quant/quantize_iq2_test.cpp.
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

constexpr int64_t kN = 4 * kQK_K;  // four super-blocks per row
constexpr int64_t kRows = 6;

struct Case {
  DType type;
  QuantizeFn fn;
  ToFloatFn dequant;
};

class Iq2Quant : public ::testing::TestWithParam<Case> {
 protected:
  std::vector<float> data(uint32_t seed) const {
    std::mt19937 rng(seed);
    std::normal_distribution<float> nd(0.f, 0.02f);
    std::vector<float> x(static_cast<size_t>(kRows * kN));  // (kRows, kN)
    for (float& v : x) v = nd(rng);
    x[7] = 0.2f;  // an outlier
    return x;
  }
  std::vector<float> importance(uint32_t seed) const {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> ud(0.1f, 3.f);
    std::vector<float> w(static_cast<size_t>(kN));  // (kN)
    for (float& v : w) v = ud(rng);
    return w;
  }
  std::vector<uint8_t> quantize(const std::vector<float>& x, const float* qw) const {
    std::vector<uint8_t> out(row_size(GetParam().type, kN) * kRows);
    const size_t n = GetParam().fn(x.data(), out.data(), kRows, kN, qw);
    EXPECT_EQ(n, out.size());
    return out;
  }
  std::vector<float> dequantize(const std::vector<uint8_t>& q) const {
    std::vector<float> y(static_cast<size_t>(kRows * kN));
    GetParam().dequant(q.data(), y.data(), kRows * kN);
    return y;
  }
};

TEST_P(Iq2Quant, RefusesWithoutImportanceWeights) {
  EXPECT_TRUE(quantize_needs_imatrix(GetParam().type));
  const std::vector<float> x = data(1);
  std::vector<uint8_t> out(row_size(GetParam().type, kN) * kRows, 0xAB);
  EXPECT_EQ(GetParam().fn(x.data(), out.data(), kRows, kN, nullptr), 0u);
  for (uint8_t b : out) ASSERT_EQ(b, 0xAB) << "wrote output without an imatrix";
}

TEST_P(Iq2Quant, ZeroRowsGiveZeroBlocks) {
  const std::vector<float> x(static_cast<size_t>(kRows * kN), 0.f);
  const std::vector<float> w = importance(2);
  const std::vector<uint8_t> q = quantize(x, w.data());
  for (uint8_t b : q) ASSERT_EQ(b, 0);
}

// Every step (sqrt of a scaled sigma^2 + x^2, least squares, rounding of x / scale) is exact
// under scaling by 2^k, so the indices must be identical and the F16 scale exactly 2^k larger.
TEST_P(Iq2Quant, PowerOfTwoScalingOfWeightsIsExact) {
  const std::vector<float> x = data(3);
  std::vector<float> x4(x);
  for (float& v : x4) v *= 4.f;
  const std::vector<float> w = importance(4);
  const std::vector<float> a = dequantize(quantize(x, w.data()));
  const std::vector<float> b = dequantize(quantize(x4, w.data()));
  for (size_t i = 0; i < a.size(); ++i) ASSERT_EQ(b[i], 4.f * a[i]) << "element " << i;
}

// Importances only enter through ratios: multiplying them by 4 changes nothing.
TEST_P(Iq2Quant, ImportanceScaleDoesNotMatter) {
  const std::vector<float> x = data(5);
  const std::vector<float> w = importance(6);
  std::vector<float> w4(w);
  for (float& v : w4) v *= 4.f;
  EXPECT_EQ(quantize(x, w.data()), quantize(x, w4.data()));
}

// Reconstruction quality: well below the error of storing nothing, and the columns made 100x
// more important get a smaller error than with uniform importance.
TEST_P(Iq2Quant, ImportanceSteersTheError) {
  const std::vector<float> x = data(7);
  std::vector<float> uniform(static_cast<size_t>(kN), 1.f), focused(uniform);
  for (int64_t j = 0; j < kN; j += 2) focused[static_cast<size_t>(j)] = 100.f;
  const std::vector<float> yu = dequantize(quantize(x, uniform.data()));
  const std::vector<float> yf = dequantize(quantize(x, focused.data()));
  double e_u = 0, e_f = 0, e_u_all = 0, sx = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double du = x[i] - yu[i], df = x[i] - yf[i];
    e_u_all += du * du;
    sx += static_cast<double>(x[i]) * x[i];
    if ((i % kN) % 2 == 0) {
      e_u += du * du;
      e_f += df * df;
    }
  }
  const double rel = std::sqrt(e_u_all / sx);
  EXPECT_LT(rel, 0.6) << "relative RMS error of 2-bit lattice quantization";
  EXPECT_LT(e_f, 0.9 * e_u) << "important columns should be reproduced better";
}

INSTANTIATE_TEST_SUITE_P(Types, Iq2Quant,
                         ::testing::Values(Case{DType::kIQ2_XXS, quantize_iq2_xxs,
                                                dequantize_row_iq2_xxs},
                                           Case{DType::kIQ2_XS, quantize_iq2_xs,
                                                dequantize_row_iq2_xs}),
                         [](const auto& info) { return std::string(dtype_name(info.param.type)); });

}  // namespace
}  // namespace quorum
