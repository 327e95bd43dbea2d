// AWQ: folding scales without quantizing leaves a model's logits unchanged (a strong property:
// any wrong fold — a norm not divided, a V row or bias missed, GQA heads mismatched — changes
// them), on the three architectures of the task models (GQA llama, MHA llama, qwen2 with V
// biases); the scale search never does worse than RTN on its own calibration error; a model
// quantized with AWQ loads and runs; missing calibration is a clear error.
#include "quant/awq.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <random>

#include "engine/calibrate.h"
#include "engine/session.h"
#include "model/model.h"
#include "quant/quantize.h"
#include "testing/shared_data.h"
#include "tokenizer/tokenizer.h"

namespace quorum::quant {
namespace {

std::vector<float> logits_of(const std::string& path, const std::vector<int32_t>& tokens) {
  auto model = Model::load(path);
  EXPECT_TRUE(model) << model.status().to_string();
  SessionOptions so;
  so.kv_type = KvType::kF32;
  so.n_threads = 2;
  auto s = Session::create(*model, so);
  EXPECT_TRUE(s) << s.status().to_string();
  auto l = (*s)->decode(tokens, LogitsMode::kAll);
  EXPECT_TRUE(l) << l.status().to_string();
  return std::vector<float>(l->begin(), l->end());
}

// Writes `in` with the overrides applied and every tensor kept in F32 (no quantization).
std::string write_f32(const std::string& in, const TensorOverrides& ov, const std::string& tag) {
  const std::string out = testing::temp_dir("awq_fold") + "/" + tag + ".gguf";
  QuantizeOptions opt;
  opt.ftype = FileType::kAllF32;
  opt.overrides = &ov;
  opt.threads = 2;
  auto rep = quantize_gguf(in, out, opt);
  EXPECT_TRUE(rep) << rep.status().to_string();
  return out;
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b, double* scale) {
  double d = 0, m = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    d = std::max(d, std::fabs(static_cast<double>(a[i]) - b[i]));
    m = std::max(m, std::fabs(static_cast<double>(a[i])));
  }
  *scale = m;
  return d;
}

class AwqFold : public ::testing::TestWithParam<const char*> {};

TEST_P(AwqFold, FoldedScalesLeaveLogitsUnchanged) {
  const std::string in = testing::shared_path(std::string("taskmodels/") + GetParam() + ".gguf");
  auto f = gguf::File::open(in);
  ASSERT_TRUE(f) << f.status().to_string();
  std::map<std::string, std::string> notes;
  const auto groups = awq_groups(*f, &notes);
  ASSERT_FALSE(groups.empty());
  // Scales spread over [1/8, 8] so that a missed fold is far outside float tolerance.
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-3.0f, 3.0f);
  std::map<std::string, std::vector<float>> scales;
  for (const auto& [name, n] : groups) {
    std::vector<float> s(static_cast<size_t>(n));
    for (float& v : s) v = std::exp2(u(rng));
    scales[name] = s;
  }
  auto ov = awq_fold(*f, scales);
  ASSERT_TRUE(ov) << ov.status().to_string();
  auto tok = tokenizer::Tokenizer::from_gguf(*f);
  ASSERT_TRUE(tok);
  const std::vector<int32_t> ids = (*tok)->encode("Task: sentiment\nText: a gripping, well acted film about two brothers.\nAnswer:", true, false);
  const std::vector<float> base = logits_of(in, ids);
  const std::vector<float> folded = logits_of(write_f32(in, *ov, GetParam()), ids);
  ASSERT_EQ(base.size(), folded.size());
  double scale = 0;
  const double diff = max_abs_diff(base, folded, &scale);
  EXPECT_LT(diff, 1e-3 * std::max(1.0, scale)) << "worst |Δlogit| " << diff << " of max |logit| " << scale;

  // Control: the same scaled weights without the compensating norm division change the output.
  TensorOverrides broken = *ov;
  broken.erase("blk.0.attn_norm.weight");
  const std::vector<float> wrong = logits_of(write_f32(in, broken, std::string(GetParam()) + "-broken"), ids);
  double s2 = 0;
  EXPECT_GT(max_abs_diff(base, wrong, &s2), 0.05);
}

INSTANTIATE_TEST_SUITE_P(TaskModels, AwqFold, ::testing::Values("qt-base", "qt-wide", "qt-qwen"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n) c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
                           return n;
                         });

TEST(Awq, GroupsCoverEveryLayerOfAGqaModel) {
  auto f = gguf::File::open(testing::shared_path("taskmodels/qt-base.gguf"));
  ASSERT_TRUE(f);
  std::map<std::string, std::string> notes;
  const auto groups = awq_groups(*f, &notes);
  EXPECT_EQ(groups.size(), 16u) << "4 layers x (attn_in, ffn_in, ffn_down, attn_out)";
  EXPECT_TRUE(notes.empty());
  for (const auto& [name, n] : groups) {
    if (name == "blk.0.attn_out") {
      EXPECT_EQ(n, 128) << "one scale per V row (4 KV heads x 32)";
    } else if (name == "blk.0.ffn_down") {
      EXPECT_EQ(n, 768);
    } else if (name == "blk.0.attn_in") {
      EXPECT_EQ(n, 256);
    }
  }
}

// The search on real activations (one calibration chunk of qt-base, every block weight Q4_K):
// no group's calibration error above RTN's (per-linear, or the FFN block's for ffn_gate/up),
// the attn_q/k/v group left plain RTN, and the importance handed to the file writer equal to E[x_c²] / s_c², with s read
// back from the folded norm (s_c = norm_c / norm'_c).
TEST(Awq, SearchOnRealActivationsKeepsItsInvariants) {
  const std::string in = testing::shared_path("taskmodels/qt-base.gguf");
  auto model = Model::load(in);
  ASSERT_TRUE(model) << model.status().to_string();
  auto tok = tokenizer::Tokenizer::from_gguf((*model)->file());
  ASSERT_TRUE(tok);
  const std::vector<int32_t> calib = (*tok)->encode(
      testing::read_file(testing::shared_path("data/calibration/groups_merged.txt")).substr(0, 8000), true, false);
  ThreadPool pool(2);
  AwqCollector col(&pool);
  CalibrationOptions co;
  co.n_ctx = 512;
  co.n_chunks = 1;
  co.add_bos = (*tok)->add_bos();
  co.bos_id = (*tok)->bos();
  SessionOptions so;
  so.n_threads = 2;
  ASSERT_TRUE(run_calibration(*model, calib, co, col, so));
  const gguf::File& f = (*model)->file();
  std::map<std::string, DType> types;
  for (const auto& t : f.tensors()) {
    if (t.name.rfind("blk.", 0) == 0 && t.ne.size() == 2) types[t.name] = DType::kQ4_K;
  }
  AwqOptions o;
  o.grid = 5;
  auto res = awq_search(f, types, col.stats(), o, pool);
  ASSERT_TRUE(res) << res.status().to_string();
  ASSERT_EQ(res->groups.size(), 16u);
  for (const auto& g : res->groups) {
    if (g.name.find("attn_in") != std::string::npos) {
      EXPECT_FALSE(g.applied) << g.name << " (attn_q/k/v stay RTN without scale_scores)";
      continue;
    }
    EXPECT_TRUE(g.applied) << g.name << ": " << g.note;
    EXPECT_LE(g.error_awq, g.error_rtn * (1 + 1e-9)) << g.name;
  }
  for (const auto& [name, imp] : res->importance) {
    EXPECT_EQ(name.find("attn_q."), std::string::npos) << name;
    EXPECT_EQ(name.find("attn_k."), std::string::npos) << name;
    EXPECT_EQ(name.find("attn_v."), std::string::npos) << name;
  }
  // ffn_gate / ffn_up (s from the folded ffn_norm) of the layers whose group chose importance.
  int checked = 0;
  for (int il = 0; il < 4; ++il) {
    const std::string b = "blk." + std::to_string(il) + ".";
    for (const auto& [w, stats_key, norm] :
         {std::tuple<std::string, std::string, std::string>{b + "ffn_up.weight", b + "ffn_gate.weight",
                                                             b + "ffn_norm.weight"}}) {
      auto it = res->importance.find(w);
      if (it == res->importance.end()) continue;  // the group kept plain RTN
      const AwqInputStats& st = col.stats().at(stats_key);
      const gguf::TensorInfo* nt = norm.empty() ? nullptr : f.find_tensor(norm);
      std::vector<float> n0, n1;
      if (nt) {
        n0.assign(reinterpret_cast<const float*>(nt->data), reinterpret_cast<const float*>(nt->data) + st.k);
        n1 = *res->overrides.at(norm);
      }
      for (int64_t c = 0; c < st.k; ++c) {
        const double s = nt ? static_cast<double>(n0[c]) / n1[c] : 1.0;
        const double want = static_cast<double>(st.gram[c * st.k + c]) / st.n / (s * s);
        EXPECT_NEAR((*it->second)[c], want, 1e-4 * want + 1e-12) << w << " column " << c;
      }
      ++checked;
    }
  }
  EXPECT_GE(checked, 1);
}

TEST(Awq, MissingCalibrationIsAClearErrorAndTheInputIsUntouched) {
  const std::string in = testing::shared_path("taskmodels/qt-base.gguf");
  const auto before = std::filesystem::last_write_time(in);
  QuantizeOptions opt;
  opt.method = "awq";
  opt.ftype = FileType::kQ4_K_M;
  const std::string out = testing::temp_dir("awq_nocalib") + "/out.gguf";
  auto rep = quantize_gguf(in, out, opt);
  ASSERT_FALSE(rep);
  EXPECT_NE(rep.status().message().find("calibration"), std::string::npos) << rep.status().to_string();
  EXPECT_FALSE(std::filesystem::exists(out));
  EXPECT_EQ(std::filesystem::last_write_time(in), before);
}

}  // namespace
}  // namespace quorum::quant
