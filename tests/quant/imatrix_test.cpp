// Importance matrices: the writer round-trips through the reader; the collector's statistics
// equal hand-computed means (and follow llama-imatrix's call rules); and `run_calibration` +
// ImatrixCollector on qt-base reproduce llama-imatrix's golden file (same text, ctx 512,
// 40 chunks) to a stated relative error per tensor.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "core/mmap_file.h"
#include "engine/calibrate.h"
#include "quant/imatrix.h"
#include "testing/shared_data.h"
#include "tokenizer/tokenizer.h"

namespace quorum::quant {
namespace {

TEST(Imatrix, WriterRoundTripsThroughTheReader) {
  Imatrix m;
  m.entries["blk.0.attn_q.weight"] = {7, {1.5f, 0.0f, 3.25f}};
  m.entries["blk.1.ffn_down.weight"] = {3, {2.0f, 4.0f}};
  m.last_call = 7;
  m.dataset = "calib.txt";
  const std::vector<uint8_t> bytes = serialize_imatrix(m);
  // 4 (count) + 2 x (4 + name + 8) + values + trailer (8 + 9)
  EXPECT_EQ(bytes.size(), 4u + (4 + 19 + 8) + (4 + 21 + 8) + 5 * 4 + 8 + 9);
  auto back = parse_imatrix(bytes.data(), bytes.size(), "mem");
  ASSERT_TRUE(back.is_ok()) << back.status().to_string();
  EXPECT_EQ(back->last_call, 7);
  EXPECT_EQ(back->dataset, "calib.txt");
  ASSERT_EQ(back->entries.size(), 2u);
  EXPECT_EQ(back->entries.at("blk.0.attn_q.weight").ncall, 7);
  EXPECT_EQ(back->entries.at("blk.0.attn_q.weight").values, (std::vector<float>{1.5f, 0, 3.25f}));
  EXPECT_EQ(back->entries.at("blk.1.ffn_down.weight").values, (std::vector<float>{2, 4}));
}

TEST(Imatrix, CollectorStoresMeanSquareTimesCalls) {
  ImatrixCollector c;
  const std::vector<std::string> qkv = {"blk.0.attn_q.weight", "blk.0.attn_k.weight"};
  // Two calls of 16 rows x 2 columns: column 0 is all 1 then all 3; column 1 alternates ±2.
  std::vector<float> x(32);
  for (int r = 0; r < 16; ++r) {
    x[static_cast<size_t>(2 * r)] = 1;
    x[static_cast<size_t>(2 * r + 1)] = r % 2 ? 2.0f : -2.0f;
  }
  c.on_linear_input({0, qkv, x.data(), 16, 2});
  for (int r = 0; r < 16; ++r) x[static_cast<size_t>(2 * r)] = 3;
  c.on_linear_input({0, qkv, x.data(), 16, 2});
  c.on_linear_input({0, qkv, x.data(), 15, 2});  // fewer than 16 rows: ignored, as llama.cpp
  const std::vector<std::string> out = {"output.weight"};
  c.on_linear_input({-1, out, x.data(), 16, 2});  // output.weight: not collected by default
  const Imatrix m = c.result("d");
  ASSERT_EQ(m.entries.size(), 2u);
  EXPECT_EQ(m.last_call, 2);
  for (const std::string& n : qkv) {
    const ImatrixEntry& e = m.entries.at(n);
    EXPECT_EQ(e.ncall, 2);
    // mean x² = (1 + 9) / 2 = 5 and 4; stored times ncall = 2.
    EXPECT_FLOAT_EQ(e.values[0], 10.0f);
    EXPECT_FLOAT_EQ(e.values[1], 8.0f);
  }
}

TEST(Imatrix, MatchesLlamaImatrixOnQtBase) {
  auto model = Model::load(testing::shared_path("taskmodels/qt-base.gguf"));
  ASSERT_TRUE(model.is_ok()) << model.status().to_string();
  auto golden = load_imatrix(testing::shared_path("golden/quant/qt-base.imatrix"));
  ASSERT_TRUE(golden.is_ok()) << golden.status().to_string();
  auto text = read_text_file(testing::shared_path("data/calibration/groups_merged.txt"));
  ASSERT_TRUE(text.is_ok());
  auto tok = tokenizer::Tokenizer::from_gguf((*model)->file());
  ASSERT_TRUE(tok.is_ok());
  const std::vector<int32_t> tokens = (*tok)->encode(*text, true, false);
  CalibrationOptions co;
  co.n_ctx = 512;
  co.n_chunks = golden->last_call;  // 40, as stored in the file's trailer
  co.bos_id = (*tok)->bos();
  co.add_bos = (*tok)->add_bos();
  SessionOptions so;
  so.n_threads = 2;
  ImatrixCollector collector;
  auto ran = run_calibration(*model, tokens, co, collector, so);
  ASSERT_TRUE(ran.is_ok()) << ran.status().to_string();
  const Imatrix ours = collector.result("groups_merged.txt");
  ASSERT_EQ(ours.entries.size(), golden->entries.size());
  EXPECT_EQ(ours.last_call, golden->last_call);
  double worst_l2 = 0, worst_elem = 0;
  std::string worst_name;
  for (const auto& [name, g] : golden->entries) {
    const ImatrixEntry* e = ours.find(name);
    ASSERT_NE(e, nullptr) << name;
    EXPECT_EQ(e->ncall, g.ncall) << name;
    ASSERT_EQ(e->values.size(), g.values.size()) << name;
    double num = 0, den = 0;
    for (size_t j = 0; j < g.values.size(); ++j) {
      const double d = static_cast<double>(e->values[j]) - g.values[j];
      num += d * d;
      den += static_cast<double>(g.values[j]) * g.values[j];
      worst_elem = std::max(worst_elem, std::fabs(d) / (1e-3 + std::fabs(g.values[j])));
    }
    const double rel = std::sqrt(num / den);
    if (rel > worst_l2) {
      worst_l2 = rel;
      worst_name = name;
    }
  }
  std::printf("[imatrix] vs llama-imatrix: worst per-tensor relative L2 error %.3g (%s), worst "
              "element relative error %.3g\n", worst_l2, worst_name.c_str(), worst_elem);
  EXPECT_LT(worst_l2, 1e-3);
  EXPECT_LT(worst_elem, 1e-2);
}

}  // namespace
}  // namespace quorum::quant
