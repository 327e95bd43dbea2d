// The one-token products (matvec, matvec_swiglu) give bit for bit what Kernels::matmul (n = 1)
// and Kernels::swiglu give, for several weight types mixed in one call and any thread count.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "engine/matvec.h"

namespace quorum {
namespace {

struct OwnedWeight {
  std::vector<uint8_t> bytes;
  Weight w;
};

OwnedWeight random_weight(DType type, int64_t rows, int64_t k, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 0.05f);
  std::vector<float> f(static_cast<size_t>(rows * k));
  for (auto& x : f) x = dist(rng);
  OwnedWeight o;
  o.bytes.resize(row_size(type, k) * static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) {
    traits(type).from_float(f.data() + r * k, o.bytes.data() + r * row_size(type, k), k);
  }
  o.w = Weight{type, o.bytes.data(), k, rows};
  return o;
}

std::vector<float> random_input(int64_t k, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(k));
  for (auto& v : x) v = dist(rng);
  return x;
}

std::vector<float> reference(const kernels::Kernels& kern, ThreadPool& pool, const Weight& w,
                             const std::vector<float>& x) {
  std::vector<float> y(static_cast<size_t>(w.rows));
  kern.matmul(pool, w.type, w.data, w.rows, w.k, x.data(), 1, y.data());
  return y;
}

TEST(MatVec, SeveralOutputsEqualMatmulExactly) {
  const kernels::Kernels kern(CpuFeatures::detect());
  const int64_t k = 512;
  const std::vector<std::vector<DType>> groups = {
      {DType::kF32},
      {DType::kF16, DType::kF16, DType::kF16},
      {DType::kQ4_K, DType::kQ4_K, DType::kQ6_K},
      {DType::kQ8_0, DType::kQ4_0, DType::kQ4_K},
      {DType::kQ5_K}};
  for (int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    for (const auto& types : groups) {
      std::vector<OwnedWeight> ws;
      const int64_t rows[] = {96, 33, 200};  // not multiples of the row grain
      for (size_t i = 0; i < types.size(); ++i) {
        ws.push_back(random_weight(types[i], rows[i], k, 7 + static_cast<uint32_t>(i)));
      }
      const std::vector<float> x = random_input(k, 3);
      std::vector<std::vector<float>> ys;
      for (const auto& w : ws) ys.emplace_back(static_cast<size_t>(w.w.rows), -1.0f);
      std::vector<uint8_t> scratch(matvec_scratch_bytes(k));
      if (ws.size() == 1) {
        matvec(kern, pool, x.data(), k, {{&ws[0].w, ys[0].data()}}, scratch.data());
      } else {
        matvec(kern, pool, x.data(), k,
               {{&ws[0].w, ys[0].data()}, {&ws[1].w, ys[1].data()}, {&ws[2].w, ys[2].data()}},
               scratch.data());
      }
      for (size_t i = 0; i < ws.size(); ++i) {
        const std::vector<float> want = reference(kern, pool, ws[i].w, x);
        for (size_t r = 0; r < want.size(); ++r) {
          ASSERT_EQ(ys[i][r], want[r]) << dtype_name(types[i]) << " row " << r << " threads "
                                       << threads;
        }
      }
    }
  }
}

TEST(MatVec, SwigluEqualsMatmulThenSwigluExactly) {
  const kernels::Kernels kern(CpuFeatures::detect());
  const int64_t k = 256, rows = 300;
  for (auto [gt, ut] : {std::pair{DType::kQ4_K, DType::kQ4_K}, std::pair{DType::kF16, DType::kF16},
                        std::pair{DType::kQ8_0, DType::kQ6_K}}) {
    for (int threads : {1, 2}) {
      ThreadPool pool(threads);
      const OwnedWeight g = random_weight(gt, rows, k, 1), u = random_weight(ut, rows, k, 2);
      const std::vector<float> x = random_input(k, 5);
      std::vector<uint8_t> scratch(matvec_scratch_bytes(k));
      std::vector<float> h(rows);
      matvec_swiglu(kern, pool, g.w, u.w, x.data(), h.data(), scratch.data());
      const std::vector<float> yg = reference(kern, pool, g.w, x), yu = reference(kern, pool, u.w, x);
      std::vector<float> want(rows);
      kern.swiglu(yg.data(), yu.data(), want.data(), rows);
      for (int64_t i = 0; i < rows; ++i) ASSERT_EQ(h[i], want[i]) << dtype_name(gt) << " row " << i;
    }
  }
}

}  // namespace
}  // namespace quorum
