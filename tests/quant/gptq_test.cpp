// GPTQ: the block-grid layouts agree with the dequantizers (RTN blocks repack byte-identically);
// with an uncorrelated Hessian GPTQ reduces to RTN exactly; with correlated inputs it lowers
// the layer's output error ||X Wᵀ - X Ŵᵀ|| below RTN's for every supported type.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <random>
#include <vector>

#include "quant/gptq.h"
#include "quant/gptq_grid.h"
#include "quant/quantize.h"
#include "tensor/quant_ref.h"
#include "testing/shared_data.h"

namespace quorum::quant {
namespace {

const DType kTypes[] = {DType::kQ4_0, DType::kQ4_1, DType::kQ5_0, DType::kQ5_1, DType::kQ8_0,
                        DType::kQ2_K, DType::kQ3_K, DType::kQ4_K, DType::kQ5_K, DType::kQ6_K,
                        DType::kIQ4_NL};

std::vector<float> gaussian(size_t n, uint32_t seed, float sigma = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, sigma);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

TEST(BlockGrid, RtnBlocksLieOnTheirGridAndRepackIdentically) {
  for (DType type : kTypes) {
    const BlockGrid* g = BlockGrid::find(type);
    ASSERT_NE(g, nullptr) << dtype_name(type);
    const int64_t n = 1024;
    const std::vector<float> x = gaussian(static_cast<size_t>(n), 7);
    std::vector<uint8_t> q(row_size(type, n));
    quantize_fn(type)(x.data(), q.data(), 1, n, nullptr);
    std::vector<float> deq(static_cast<size_t>(n));
    traits(type).to_float(q.data(), deq.data(), n);
    const int bs = g->block_size();
    std::vector<float> a(static_cast<size_t>(bs)), b(static_cast<size_t>(bs));
    std::vector<uint8_t> scratch, codes(static_cast<size_t>(bs));
    std::vector<float> values;
    int checked = 0;
    double worst = 0;
    for (int64_t blk = 0; blk < n / bs; ++blk) {
      const uint8_t* block = q.data() + blk * g->block_bytes();
      g->grid(block, a.data(), b.data(), scratch, values);
      bool degenerate = false;
      for (int i = 0; i < bs; ++i) {
        const float want = deq[static_cast<size_t>(blk * bs + i)];
        float v = 0;
        codes[static_cast<size_t>(i)] = g->round(want, a[static_cast<size_t>(i)],
                                                 b[static_cast<size_t>(i)], &v);
        degenerate |= a[static_cast<size_t>(i)] == 0.0f;
        worst = std::max(worst, static_cast<double>(std::fabs(v - want)) / (1e-6 + std::fabs(want)));
      }
      if (degenerate) continue;
      std::vector<uint8_t> repacked(block, block + g->block_bytes());
      g->pack(codes.data(), repacked.data());
      EXPECT_EQ(repacked, std::vector<uint8_t>(block, block + g->block_bytes()))
          << dtype_name(type) << " block " << blk;
      ++checked;
    }
    EXPECT_GE(checked, static_cast<int>(n / bs) - 1) << dtype_name(type);
    EXPECT_LT(worst, 1e-5) << dtype_name(type) << ": RTN values off their derived grid";
  }
}

// x [n, k] with correlated columns of varying scale: x = z · M, M random with column scales.
std::vector<float> correlated_inputs(int64_t n, int64_t k, uint32_t seed) {
  const std::vector<float> z = gaussian(static_cast<size_t>(n * k), seed);
  const std::vector<float> m = gaussian(static_cast<size_t>(k * k), seed + 1, 0.2f);
  std::vector<float> x(static_cast<size_t>(n * k), 0.0f);
  for (int64_t r = 0; r < n; ++r) {
    for (int64_t j = 0; j < k; ++j) {
      float s = z[static_cast<size_t>(r * k + j)];
      for (int64_t t = 0; t < 8; ++t) {  // each column mixes 8 others (sparse correlation)
        const int64_t c = (j * 7 + t * 13) % k;
        s += m[static_cast<size_t>(j * k + c)] * z[static_cast<size_t>(r * k + c)] * 4.0f;
      }
      x[static_cast<size_t>(r * k + j)] = s * (1.0f + static_cast<float>(j % 5));
    }
  }
  return x;
}

Hessian hessian_of(const std::vector<float>& x, int64_t n, int64_t k) {
  ThreadPool pool(2);
  HessianCollector c({0}, pool);
  const std::vector<std::string> names = {"blk.0.attn_q.weight"};
  c.on_linear_input({0, names, x.data(), n, k});
  const Hessian* h = c.find("blk.0.attn_q.weight");
  return h ? *h : Hessian{};
}

// ||X (W - Ŵ)ᵀ||² / ||X Wᵀ||²
double output_error(const std::vector<float>& x, const std::vector<float>& w,
                    const std::vector<uint8_t>& q, DType type, int64_t n, int64_t rows, int64_t k) {
  std::vector<float> wq(static_cast<size_t>(rows * k));
  traits(type).to_float(q.data(), wq.data(), rows * k);
  double num = 0, den = 0;
  for (int64_t t = 0; t < n; ++t) {
    for (int64_t r = 0; r < rows; ++r) {
      double y = 0, yq = 0;
      for (int64_t j = 0; j < k; ++j) {
        const double xv = x[static_cast<size_t>(t * k + j)];
        y += xv * w[static_cast<size_t>(r * k + j)];
        yq += xv * wq[static_cast<size_t>(r * k + j)];
      }
      num += (y - yq) * (y - yq);
      den += y * y;
    }
  }
  return num / den;
}

TEST(Gptq, UncorrelatedInputsGiveTheRtnResult) {
  // H = c·I: no error is propagated and every block's scales come from the original weights,
  // so GPTQ (without Hessian weights) must reproduce RTN's bytes for the types whose RTN
  // rounds to the nearest level of its final scales.
  const int64_t rows = 8, k = 512;
  const std::vector<float> w = gaussian(static_cast<size_t>(rows * k), 3);
  Hessian h;
  h.k = k;
  h.n = 100;
  h.sum.assign(static_cast<size_t>(k * k), 0.0f);
  for (int64_t i = 0; i < k; ++i) h.sum[static_cast<size_t>(i * k + i)] = 50.0f;
  ThreadPool pool(2);
  GptqOptions o;
  o.hessian_weights = false;
  for (DType type : {DType::kQ2_K, DType::kQ3_K, DType::kQ4_K, DType::kQ5_K, DType::kQ6_K}) {
    std::vector<uint8_t> rtn(row_size(type, k) * rows), got(rtn.size());
    quantize_fn(type)(w.data(), rtn.data(), rows, k, nullptr);
    ASSERT_TRUE(gptq_quantize(w.data(), rows, k, h, type, o, got.data(), pool).is_ok());
    EXPECT_EQ(got, rtn) << dtype_name(type);
  }
}

TEST(Gptq, LowersTheLayerOutputErrorBelowRtn) {
  const int64_t n = 1024, rows = 32, k = 256;
  const std::vector<float> x = correlated_inputs(n, k, 11);
  const std::vector<float> w = gaussian(static_cast<size_t>(rows * k), 12);
  const Hessian h = hessian_of(x, n, k);
  ASSERT_EQ(h.n, n);
  ThreadPool pool(2);
  for (DType type : kTypes) {
    std::vector<uint8_t> rtn(row_size(type, k) * rows);
    quantize_fn(type)(w.data(), rtn.data(), rows, k, nullptr);
    const double e_rtn = output_error(x, w, rtn, type, n, rows, k);
    // RTN with diag(H) as its importance matrix (what GPTQ's block scales use).
    std::vector<float> diag(static_cast<size_t>(k));
    for (int64_t i = 0; i < k; ++i) diag[static_cast<size_t>(i)] = h.sum[static_cast<size_t>(i * k + i)];
    std::vector<uint8_t> rtn_w(rtn.size());
    quantize_fn(type)(w.data(), rtn_w.data(), rows, k, diag.data());
    const double e_rtn_w = output_error(x, w, rtn_w, type, n, rows, k);
    for (bool act_order : {false, true}) {
      GptqOptions o;
      o.act_order = act_order;
      std::vector<uint8_t> got(rtn.size());
      ASSERT_TRUE(gptq_quantize(w.data(), rows, k, h, type, o, got.data(), pool).is_ok());
      const double e = output_error(x, w, got, type, n, rows, k);
      std::printf("[gptq] %-7s act_order=%d relative output error: rtn %.3e rtn+diag(H) %.3e "
                  "gptq %.3e\n", dtype_name(type), act_order, e_rtn, e_rtn_w, e);
      EXPECT_LT(e, 0.9 * e_rtn) << dtype_name(type) << " act_order " << act_order;
      EXPECT_LT(e, 0.9 * e_rtn_w) << dtype_name(type) << " act_order " << act_order;
    }
  }
}

TEST(Gptq, RefusesTypesWithoutAGridAndBadShapes) {
  Hessian h;
  h.k = 64;
  h.n = 1;
  h.sum.assign(64 * 64, 1.0f);
  ThreadPool pool(1);
  std::vector<float> w(64 * 4, 1.0f);
  std::vector<uint8_t> out(4096);
  EXPECT_FALSE(gptq_quantize(w.data(), 4, 64, h, DType::kIQ2_XS, {}, out.data(), pool).is_ok());
  EXPECT_FALSE(gptq_quantize(w.data(), 4, 64, h, DType::kQ4_K, {}, out.data(), pool).is_ok());
  EXPECT_FALSE(gptq_quantize(w.data(), 4, 32, h, DType::kQ4_0, {}, out.data(), pool).is_ok());
}

TEST(Gptq, ObservedLayerNames) {
  EXPECT_EQ(observed_layer("blk.12.ffn_down.weight"), 12);
  EXPECT_EQ(observed_layer("blk.0.attn_q.weight"), 0);
  EXPECT_EQ(observed_layer("output.weight"), -1);
  EXPECT_EQ(observed_layer("token_embd.weight"), std::nullopt);
  EXPECT_EQ(observed_layer("blk.3.attn_norm.weight"), std::nullopt);
  EXPECT_EQ(observed_layer("blk.x.attn_q.weight"), std::nullopt);
}

TEST(GptqQuantize, NeedsCalibrationAndNeverWritesWithoutIt) {
  const std::string out = testing::temp_dir("gptq_nocalib") + "/out.gguf";
  QuantizeOptions o;
  o.method = "gptq";
  o.ftype = FileType::kQ4_0;
  auto r = quantize_gguf(testing::shared_path("taskmodels/qt-base.gguf"), out, o);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().to_string().find("calibration"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(out));
}

}  // namespace
}  // namespace quorum::quant
