// The blocked GEMM path (Kernels::matmul with MatmulPath::kGemm; kAuto takes it for n >= kGemmMinRows) against a
// double-precision reference computed from the decoded weights and converted activations, over
// swept shapes: weight rows around the 32-row panel, k around the 16-lane and k-slice edges,
// n = 1, n below / at / above the activation tile and several tiles; misaligned inputs.
//
// Error analysis (F16, BF16): the kernel sums each k slice of at most 256 products in order
// from zero (each product of F16/BF16 values is exact in F32), then
// adds the slice into Y, so |error| <= (min(k, 256) + k / 256 + 2) u sum |w x|.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "kernel_test_util.h"
#include "kernels/gemm.h"
#include "kernels/kernels.h"
#include "quant_blocks.h"
#include "tensor/dtype.h"

namespace quorum::kernels {
namespace {

using testing::available_isas;
using testing::OffsetBuffer;
using testing::random_floats;
using testing::WorstError;

constexpr double kU = 5.960464477539063e-08;  // 2^-24

std::vector<double> decode_plain(DType t, const void* p, int64_t n) {
  std::vector<float> f(static_cast<size_t>(n));
  traits(t).to_float(p, f.data(), n);
  return std::vector<double>(f.begin(), f.end());
}

struct Shape {
  int64_t rows, k, n;
};

std::string describe(const Shape& s) {
  return "rows " + std::to_string(s.rows) + " k " + std::to_string(s.k) + " n " +
         std::to_string(s.n);
}

TEST(Gemm, FloatTypesMatchDoubleReferenceOverShapes) {
  std::vector<Shape> shapes;
  for (int64_t rows : {1, 17, 32, 33, 70}) {
    for (int64_t k : {1, 15, 16, 33, 256, 257, 600}) {
      for (int64_t n : {1, 5, 12, 13, 30}) shapes.push_back({rows, k, n});
    }
  }
  shapes.push_back({64, 2048, 40});
  // Several blocks of 8 panels per thread (gemm_blocks), the last block and panel partial.
  shapes.push_back({601, 600, 30});
  shapes.push_back({1030, 257, 13});
  ThreadPool pool(2);
  int tested = 0;
  for (Isa isa : available_isas()) {
    const Kernels kern(CpuFeatures::detect(), isa);
    for (DType t : {DType::kF16, DType::kBF16}) {
      if (!kern.has_gemm(t)) continue;
      ++tested;
      WorstError worst;
      for (const Shape& s : shapes) {
        const size_t wr = row_size(t, s.k), ar = activation_row_size(t, s.k);
        const std::vector<float> wf = random_floats(s.rows * s.k, 5 + static_cast<uint32_t>(s.k));
        const std::vector<float> xf = random_floats(s.n * s.k, 9 + static_cast<uint32_t>(s.n));
        OffsetBuffer w(wr * s.rows, 4);  // rows of w_row bytes, misaligned
        for (int64_t i = 0; i < s.rows; ++i) {
          traits(t).from_float(wf.data() + i * s.k, w.data() + i * wr, s.k);
        }
        std::vector<float> y(static_cast<size_t>(s.rows * s.n), -1.0f);
        kern.matmul(pool, t, w.data(), s.rows, s.k, xf.data(), s.n, y.data(), MatmulPath::kGemm);
        std::vector<uint8_t> a(ar);
        for (int64_t j = 0; j < s.n; ++j) {
          kern.quantize_activation(t, xf.data() + j * s.k, a.data(), s.k);
          const std::vector<double> xd = decode_plain(vec_dot_type(t), a.data(), s.k);
          for (int64_t i = 0; i < s.rows; ++i) {
            const std::vector<double> wd = decode_plain(t, w.data() + i * wr, s.k);
            double exact = 0.0, sum_abs = 0.0;
            for (int64_t q = 0; q < s.k; ++q) {
              exact += wd[q] * xd[q];
              sum_abs += std::fabs(wd[q] * xd[q]);
            }
            const double steps = static_cast<double>(std::min<int64_t>(s.k, 256) + s.k / 256 + 2);
            worst.add(y[j * s.rows + i], exact, steps * kU * sum_abs + 1e-30,
                      describe(s) + " at (" + std::to_string(j) + ", " + std::to_string(i) + ")");
          }
        }
      }
      SCOPED_TRACE(std::string(dtype_name(t)) + " isa " + isa_name(isa));
      worst.expect_ok();
    }
  }
  if (tested == 0) GTEST_SKIP() << "no ISA with a float GEMM on this CPU";
}

// Quantized weights: the integer part of every block is exact, so the kernel must land within
// expected_dot's bound (n_blocks + 8 roundings); k slices add at most k / 512 more, covered by
// the slack for the k tested here.
TEST(Gemm, QuantTypesMatchDoubleReferenceOverShapes) {
  ThreadPool pool(2);
  int tested = 0;
  for (Isa isa : available_isas()) {
    const Kernels kern(CpuFeatures::detect(), isa);
    for (DType t : testing::kQuantWeightTypes) {
      if (!kern.has_gemm(t)) continue;
      ++tested;
      const int64_t bs = traits(t).block_size;
      std::vector<Shape> shapes;
      for (int64_t rows : {1, 17, 32, 33, 70}) {
        for (int64_t k : {bs, 2 * bs, int64_t{768}, int64_t{2048}}) {
          for (int64_t n : {1, 4, 6, 7, 12, 13, 30}) shapes.push_back({rows, k, n});
        }
      }
      WorstError worst;
      for (const Shape& s : shapes) {
        const size_t wr = row_size(t, s.k), ar = activation_row_size(t, s.k);
        const std::vector<uint8_t> wv =
            testing::random_blocks(t, s.rows * s.k, 17 + static_cast<uint32_t>(s.k + s.rows));
        OffsetBuffer w(wv.size(), 2);
        std::memcpy(w.data(), wv.data(), wv.size());
        const std::vector<float> x = random_floats(s.n * s.k, 23 + static_cast<uint32_t>(s.n));
        std::vector<float> y(static_cast<size_t>(s.rows * s.n), -1.0f);
        kern.matmul(pool, t, w.data(), s.rows, s.k, x.data(), s.n, y.data(), MatmulPath::kGemm);
        std::vector<uint8_t> a(ar);
        for (int64_t j = 0; j < s.n; ++j) {
          kern.quantize_activation(t, x.data() + j * s.k, a.data(), s.k);
          for (int64_t i = 0; i < s.rows; ++i) {
            const testing::ExpectedDot e = testing::expected_dot(t, w.data() + i * wr, a.data(), s.k);
            worst.add(y[j * s.rows + i], e.exact, e.tol,
                      describe(s) + " at (" + std::to_string(j) + ", " + std::to_string(i) + ")");
          }
        }
      }
      SCOPED_TRACE(std::string(dtype_name(t)) + " isa " + isa_name(isa));
      worst.expect_ok();
    }
  }
  if (tested == 0) GTEST_SKIP() << "no ISA with a quantized GEMM on this CPU";
}

// matmul switches to the GEMM at kGemmMinRows; both sides of the switch agree with the per-row
// dot products within the float tolerance (F16 x 2048, a model-sized k).
TEST(Gemm, MatmulAgreesWithDotPathAcrossTheSwitch) {
  ThreadPool pool(2);
  const Kernels kern(CpuFeatures::detect());
  const DType t = DType::kF16;
  if (!kern.has_gemm(t)) GTEST_SKIP() << "no F16 GEMM on this CPU";
  const int64_t rows = 96, k = 2048;
  const std::vector<float> wf = random_floats(rows * k, 3);
  std::vector<uint8_t> w(row_size(t, k) * rows);
  for (int64_t i = 0; i < rows; ++i) traits(t).from_float(wf.data() + i * k, w.data() + i * row_size(t, k), k);
  for (int64_t n : {kGemmMinRows - 1, kGemmMinRows, kGemmMinRows + 5}) {
    const std::vector<float> x = random_floats(n * k, 8);
    std::vector<float> y(static_cast<size_t>(rows * n));
    kern.matmul(pool, t, w.data(), rows, k, x.data(), n, y.data());
    std::vector<uint8_t> a(activation_row_size(t, k));
    for (int64_t j = 0; j < n; ++j) {
      kern.quantize_activation(t, x.data() + j * k, a.data(), k);
      for (int64_t i = 0; i < rows; ++i) {
        const float want = kern.dot(t, w.data() + i * row_size(t, k), a.data(), k);
        EXPECT_NEAR(y[j * rows + i], want, 1e-4 * (1.0 + std::fabs(want)))
            << "n " << n << " (" << j << ", " << i << ")";
      }
    }
  }
}

}  // namespace
}  // namespace quorum::kernels
