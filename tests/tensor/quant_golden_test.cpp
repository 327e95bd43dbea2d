// Golden test: our reference quantizers reproduce llama-quantize's bytes for every tensor of the
// golden qt-base.<TYPE>.gguf files (made by llama.cpp c392e50 from ../taskmodels/qt-base.gguf),
// without an imatrix (with the imatrix beside them only Q8_0, which ignores it, would match).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "io/gguf.h"
#include "quant/imatrix.h"
#include "tensor/quant_ref.h"
#include "testing/shared_data.h"

namespace quorum {
namespace {

// First differing block of two byte strings of blocks of `bs` bytes; -1 if equal.
int64_t first_diff_block(const uint8_t* a, const uint8_t* b, size_t n, size_t bs) {
  for (size_t i = 0; i < n; ++i) {
    if (a[i] != b[i]) return static_cast<int64_t>(i / bs);
  }
  return -1;
}

std::string hex_block(const uint8_t* p, size_t bs) {
  std::string s;
  for (size_t i = 0; i < bs; ++i) s += fmt::format("{:02x}", p[i]);
  return s;
}

// Every quantized tensor of the golden file equals our quantizer's output for the same type
// (without imatrix: the golden files were made without one, see the report of the imatrix
// variant printed below, which is informational).
void check_golden(const std::string& type_name) {
  auto src = gguf::File::open(testing::shared_path("taskmodels/qt-base.gguf"));
  ASSERT_TRUE(src) << src.status().to_string();
  auto gold = gguf::File::open(testing::shared_path("golden/quant/qt-base." + type_name + ".gguf"));
  ASSERT_TRUE(gold) << gold.status().to_string();
  auto im = quant::load_imatrix(testing::shared_path("golden/quant/qt-base.imatrix"));
  ASSERT_TRUE(im) << im.status().to_string();
  int n_q = 0, n_match = 0, n_imatrix_match = 0, n_imatrix = 0;
  for (const auto& gt : gold->tensors()) {
    if (!traits(gt.type).quantized) continue;
    const auto* st = src->find_tensor(gt.name);
    ASSERT_NE(st, nullptr) << gt.name;
    ASSERT_EQ(st->type, DType::kF32);
    const QuantizeFn fn = quantize_fn(gt.type);
    ASSERT_NE(fn, nullptr) << dtype_name(gt.type);
    ++n_q;
    const int64_t n_per_row = st->ne[0], nrows = st->n_rows();
    const size_t bs = traits(gt.type).type_size;
    std::vector<uint8_t> out(gt.nbytes);
    const auto* x = reinterpret_cast<const float*>(st->data);
    ASSERT_EQ(fn(x, out.data(), nrows, n_per_row, nullptr), gt.nbytes) << gt.name;
    const int64_t d = first_diff_block(out.data(), gt.data, gt.nbytes, bs);
    EXPECT_EQ(d, -1) << type_name << " " << gt.name << " (" << dtype_name(gt.type)
                     << "): first differing block " << d << "\n  ours:   "
                     << hex_block(out.data() + d * bs, bs) << "\n  golden: "
                     << hex_block(gt.data + d * bs, bs);
    if (d < 0) ++n_match;
    if (const quant::ImatrixEntry* e = im->find(gt.name)) {
      ++n_imatrix;
      std::vector<float> w(e->values);
      for (float& v : w) v /= static_cast<float>(e->ncall);  // as llama-quantize loads it
      fn(x, out.data(), nrows, n_per_row, w.data());
      if (first_diff_block(out.data(), gt.data, gt.nbytes, bs) < 0) ++n_imatrix_match;
    }
  }
  fmt::print("{}: {} quantized tensors, {} bit-exact; with the imatrix {} of {} would match\n",
             type_name, n_q, n_match, n_imatrix_match, n_imatrix);
}

// The IQ2 golden files were made with the imatrix. Their K-quant tensors check our
// importance-weighted path (with llama-quantize's division of the stored means by ncall) (attn_v
// is Q2_K with an imatrix entry; token_embd/output have none); their IQ2 tensors check our IQ2
// quantizers (bit-exact too) and the dequantizers and grids: decoded values must approximate
// the F32 source (a wrong grid entry or sign table gives errors of order 1).
void check_iq2_golden(const std::string& type_name, double max_rel_rmse) {
  auto src = gguf::File::open(testing::shared_path("taskmodels/qt-base.gguf"));
  ASSERT_TRUE(src) << src.status().to_string();
  auto gold = gguf::File::open(testing::shared_path("golden/quant/qt-base." + type_name + ".gguf"));
  ASSERT_TRUE(gold) << gold.status().to_string();
  auto im = quant::load_imatrix(testing::shared_path("golden/quant/qt-base.imatrix"));
  ASSERT_TRUE(im) << im.status().to_string();
  int n_k = 0, n_k_imatrix = 0, n_iq2 = 0;
  double worst = 0;
  for (const auto& gt : gold->tensors()) {
    const TypeTraits& tr = traits(gt.type);
    if (!tr.quantized) continue;
    const auto* st = src->find_tensor(gt.name);
    ASSERT_NE(st, nullptr) << gt.name;
    const auto* x = reinterpret_cast<const float*>(st->data);
    const int64_t n = st->n_elements();
    if (const QuantizeFn fn = quantize_fn(gt.type)) {
      const quant::ImatrixEntry* e = im->find(gt.name);
      std::vector<uint8_t> out(gt.nbytes);
      // llama-quantize divides the stored means by ncall once more when it loads the file.
      std::vector<float> w;
      if (e) {
        w = e->values;
        for (float& v : w) v /= static_cast<float>(e->ncall);
      }
      fn(x, out.data(), st->n_rows(), st->ne[0], e ? w.data() : nullptr);
      const int64_t d = first_diff_block(out.data(), gt.data, gt.nbytes, tr.type_size);
      EXPECT_EQ(d, -1) << type_name << " " << gt.name << " (" << tr.name
                       << (e ? ", imatrix" : "") << "): first differing block " << d;
      if (e) ++n_k_imatrix; else ++n_k;
      if (!quantize_needs_imatrix(gt.type)) continue;  // IQ2: also check the decoded values
    }
    ASSERT_NE(tr.to_float, nullptr) << tr.name;
    std::vector<float> y(n);
    tr.to_float(gt.data, y.data(), n);
    double err2 = 0, sum2 = 0;
    for (int64_t i = 0; i < n; ++i) {
      err2 += (double(y[i]) - x[i]) * (double(y[i]) - x[i]);
      sum2 += double(x[i]) * x[i];
    }
    const double rel = std::sqrt(err2 / sum2);
    worst = std::max(worst, rel);
    EXPECT_LT(rel, max_rel_rmse) << type_name << " " << gt.name;
    ++n_iq2;
  }
  EXPECT_GT(n_k, 0);
  EXPECT_GT(n_k_imatrix, 0);
  EXPECT_GT(n_iq2, 0);
  fmt::print("{}: {} K-quant tensors without imatrix bit-exact; {} with imatrix bit-exact; "
             "{} {} tensors decoded (worst relative rmse {:.3f})\n", type_name, n_k, n_k_imatrix, n_iq2,
             type_name, worst);
}

TEST(QuantGoldenIq2, Iq2Xxs) { check_iq2_golden("IQ2_XXS", 0.7); }
TEST(QuantGoldenIq2, Iq2Xs) { check_iq2_golden("IQ2_XS", 0.7); }

class QuantGolden : public ::testing::TestWithParam<const char*> {};
TEST_P(QuantGolden, TensorsMatch) { check_golden(GetParam()); }
INSTANTIATE_TEST_SUITE_P(Types, QuantGolden,
                         ::testing::Values("Q2_K", "Q3_K_M", "Q4_0", "Q4_1", "Q4_K_M", "Q5_0",
                                           "Q5_1", "Q5_K_M", "Q6_K", "Q8_0", "IQ4_NL"));

}  // namespace
}  // namespace quorum
