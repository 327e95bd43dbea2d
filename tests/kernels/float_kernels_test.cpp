// F32 / F16 / BF16 dot products and matmul, every ISA against a double-precision reference,
// over swept sizes and misaligned pointers.
#include <gtest/gtest.h>

#include <vector>

#include "core/thread_pool.h"
#include "kernels/kernels.h"
#include "kernel_test_util.h"
#include "tensor/dtype.h"

namespace quorum::kernels {
namespace {

using testing::available_isas;
using testing::float_dot_tolerance;
using testing::OffsetBuffer;
using testing::random_floats;
using testing::WorstError;

constexpr DType kPlainTypes[] = {DType::kF32, DType::kF16, DType::kBF16};

// Decodes n elements of a plain type to double.
std::vector<double> decode(DType t, const void* p, int64_t n) {
  std::vector<float> f(static_cast<size_t>(n));
  traits(t).to_float(p, f.data(), n);
  return std::vector<double>(f.begin(), f.end());
}

TEST(FloatKernels, ActivationTypesAreGgmls) {
  EXPECT_EQ(vec_dot_type(DType::kF32), DType::kF32);
  EXPECT_EQ(vec_dot_type(DType::kF16), DType::kF16);
  EXPECT_EQ(vec_dot_type(DType::kBF16), DType::kBF16);
  EXPECT_EQ(vec_dot_type(DType::kQ4_0), DType::kQ8_0);
  EXPECT_EQ(vec_dot_type(DType::kQ4_1), DType::kQ8_1);
  EXPECT_EQ(vec_dot_type(DType::kQ4_K), DType::kQ8_K);
  EXPECT_EQ(vec_dot_type(DType::kIQ4_NL), DType::kQ8_0);
  EXPECT_EQ(activation_row_size(DType::kF16, 64), 128u);
  EXPECT_EQ(activation_row_size(DType::kQ4_K, 512), 2u * 292u);
  EXPECT_EQ(activation_row_size(DType::kQ5_1, 64), 2u * 36u);
}

TEST(FloatKernels, DotMatchesDoubleReferenceAllIsas) {
  const std::vector<int64_t> sizes = {1,  7,  8,  15,  16,  17,  31,  32,   33,  63,
                                      64, 65, 100, 255, 256, 257, 1000, 2048, 4099};
  const std::vector<size_t> offsets = {0, 4, 12, 36};
  for (Isa isa : available_isas()) {
    const Kernels kern(CpuFeatures::detect(), isa);
    for (DType t : kPlainTypes) {
      WorstError worst;
      for (int64_t k : sizes) {
        for (size_t off : offsets) {
          const std::vector<float> wf = random_floats(k, 11 + static_cast<uint32_t>(k));
          const std::vector<float> xf = random_floats(k, 97 + static_cast<uint32_t>(k));
          OffsetBuffer w(row_size(t, k), off), a(activation_row_size(t, k), off + 2 * (off % 8));
          traits(t).from_float(wf.data(), w.data(), k);
          kern.quantize_activation(t, xf.data(), a.data(), k);
          // The converted activations must be exactly the reference conversion.
          std::vector<uint8_t> a_ref(activation_row_size(t, k));
          traits(vec_dot_type(t)).from_float(xf.data(), a_ref.data(), k);
          ASSERT_EQ(std::memcmp(a_ref.data(), a.data(), a_ref.size()), 0)
              << dtype_name(t) << " activation conversion differs, isa " << isa_name(isa)
              << " k " << k;
          const std::vector<double> wd = decode(t, w.data(), k);
          const std::vector<double> xd = decode(vec_dot_type(t), a.data(), k);
          double exact = 0.0, sum_abs = 0.0;
          for (int64_t i = 0; i < k; ++i) {
            exact += wd[i] * xd[i];
            sum_abs += std::fabs(wd[i] * xd[i]);
          }
          const float got = kern.dot(t, w.data(), a.data(), k);
          worst.add(got, exact, float_dot_tolerance(sum_abs, k),
                    std::string(dtype_name(t)) + " isa " + isa_name(isa) +
                        " k " + std::to_string(k) + " offset " + std::to_string(off));
        }
      }
      SCOPED_TRACE(std::string(dtype_name(t)) + " " + isa_name(isa));
      worst.expect_ok();
    }
  }
}

// Y[j, i] = sum_k W[i, k] X[j, k] for several shapes (tile edges, n = 1 and n > tile), 1 and 2
// threads, every ISA, against double sums over the decoded weights and converted activations.
TEST(FloatKernels, MatmulMatchesDoubleReference) {
  struct Shape { int64_t rows, k, n; };
  const Shape shapes[] = {{1, 64, 1}, {37, 200, 1}, {37, 200, 3}, {50, 96, 70}, {16, 33, 65}};
  for (int threads : {1, 2}) {
    ThreadPool pool(threads);
    for (Isa isa : available_isas()) {
      const Kernels kern(CpuFeatures::detect(), isa);
      for (DType t : kPlainTypes) {
        WorstError worst;
        for (const Shape& s : shapes) {
          const std::vector<float> wf = random_floats(s.rows * s.k, 5);
          const std::vector<float> xf = random_floats(s.n * s.k, 6);
          std::vector<uint8_t> w(row_size(t, s.k) * s.rows);
          traits(t).from_float(wf.data(), w.data(), s.rows * s.k);
          std::vector<float> y(static_cast<size_t>(s.rows * s.n), -1.0f);
          kern.matmul(pool, t, w.data(), s.rows, s.k, xf.data(), s.n, y.data());
          const std::vector<double> wd = decode(t, w.data(), s.rows * s.k);
          std::vector<uint8_t> a(activation_row_size(t, s.k) * s.n);
          traits(vec_dot_type(t)).from_float(xf.data(), a.data(), s.n * s.k);
          const std::vector<double> xd = decode(vec_dot_type(t), a.data(), s.n * s.k);
          for (int64_t j = 0; j < s.n; ++j) {
            for (int64_t i = 0; i < s.rows; ++i) {
              double exact = 0.0, sum_abs = 0.0;
              for (int64_t c = 0; c < s.k; ++c) {
                const double p = wd[i * s.k + c] * xd[j * s.k + c];
                exact += p;
                sum_abs += std::fabs(p);
              }
              worst.add(y[j * s.rows + i], exact, float_dot_tolerance(sum_abs, s.k),
                        "shape " + std::to_string(s.rows) + "x" + std::to_string(s.k) + " n " +
                            std::to_string(s.n) + " at (" + std::to_string(j) + ", " +
                            std::to_string(i) + ")");
            }
          }
        }
        SCOPED_TRACE(std::string(dtype_name(t)) + " " + isa_name(isa) + " threads " +
                     std::to_string(threads));
        worst.expect_ok();
      }
    }
  }
}

TEST(FloatKernels, SupportsListsImplementedTypes) {
  const Kernels kern(CpuFeatures::detect());
  for (DType t : {DType::kF32, DType::kF16, DType::kBF16, DType::kQ4_0, DType::kQ4_1,
                  DType::kQ5_0, DType::kQ5_1, DType::kQ8_0, DType::kQ2_K, DType::kQ3_K,
                  DType::kQ4_K, DType::kQ5_K, DType::kQ6_K, DType::kIQ4_NL}) {
    EXPECT_TRUE(kern.supports(t)) << dtype_name(t);
  }
  EXPECT_FALSE(kern.supports(DType::kI32));
  EXPECT_FALSE(kern.supports(DType::kIQ1_M));
}

}  // namespace
}  // namespace quorum::kernels
