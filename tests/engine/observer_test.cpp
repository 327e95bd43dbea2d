// The activation observer (quant/calibration.h) sees exactly the inputs of the linear layers:
// names and order of the calls, layer 0's attention input against an independent recomputation
// (embedding -> RMS norm * attn_norm, in double), the FFN-down input against silu(gate)*up
// recomputed from the observed FFN input, the output input against the returned logits, and
// an attached observer does not change the logits.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "engine/session.h"
#include "quant/calibration.h"
#include "testing/shared_data.h"

namespace quorum {
namespace {

struct Call {
  int64_t layer;
  std::vector<std::string> names;
  std::vector<float> x;  // [n, k]
  int64_t n, k;
};

class Recorder : public quant::ActivationObserver {
 public:
  void on_linear_input(const quant::LinearInput& in) override {
    Call c{in.layer, {in.weights.begin(), in.weights.end()},
           std::vector<float>(in.x, in.x + in.n * in.k), in.n, in.k};
    calls.push_back(std::move(c));
  }
  std::vector<Call> calls;
};

// Row `r` of a weight as doubles.
std::vector<double> weight_row(const Weight& w, int64_t r) {
  std::vector<float> f(static_cast<size_t>(w.k));
  traits(w.type).to_float(w.row(r), f.data(), w.k);
  return {f.begin(), f.end()};
}

double dot_row(const Weight& w, int64_t r, const float* x) {
  const std::vector<double> row = weight_row(w, r);
  double s = 0;
  for (int64_t i = 0; i < w.k; ++i) s += row[static_cast<size_t>(i)] * x[i];
  return s;
}

TEST(ActivationObserver, SeesTheLinearInputsOfTheForwardPass) {
  auto model = Model::load(testing::shared_path("taskmodels/qt-base.gguf"));
  ASSERT_TRUE(model.is_ok()) << model.status().to_string();
  const HParams& hp = (*model)->hparams();
  const ModelWeights& w = (*model)->weights();
  Recorder rec;
  SessionOptions so;
  so.n_ctx = 64;
  so.n_threads = 2;
  so.observer = &rec;
  auto s = Session::create(*model, so);
  ASSERT_TRUE(s.is_ok()) << s.status().to_string();
  const std::vector<int32_t> tokens = {1, 450, 3007, 17, 29, 901, 2000, 13};
  const int64_t n = static_cast<int64_t>(tokens.size());
  auto logits = (*s)->decode(tokens, LogitsMode::kAll);
  ASSERT_TRUE(logits.is_ok()) << logits.status().to_string();
  const std::vector<float> got_logits(logits->begin(), logits->end());

  // Order and names: per layer q/k/v, output, gate/up, down; then output.weight.
  ASSERT_EQ(rec.calls.size(), static_cast<size_t>(hp.n_layer * 4 + 1));
  for (int64_t il = 0; il < hp.n_layer; ++il) {
    const std::string p = "blk." + std::to_string(il) + ".";
    const Call* c = &rec.calls[static_cast<size_t>(il * 4)];
    EXPECT_EQ(c[0].names, (std::vector<std::string>{p + "attn_q.weight", p + "attn_k.weight",
                                                    p + "attn_v.weight"}));
    EXPECT_EQ(c[1].names, std::vector<std::string>{p + "attn_output.weight"});
    EXPECT_EQ(c[2].names, (std::vector<std::string>{p + "ffn_gate.weight", p + "ffn_up.weight"}));
    EXPECT_EQ(c[3].names, std::vector<std::string>{p + "ffn_down.weight"});
    for (int j = 0; j < 4; ++j) {
      EXPECT_EQ(c[j].layer, il);
      EXPECT_EQ(c[j].n, n);
    }
    EXPECT_EQ(c[0].k, hp.n_embd);
    EXPECT_EQ(c[1].k, hp.n_head * hp.head_dim);
    EXPECT_EQ(c[3].k, hp.n_ff);
  }
  const Call& out = rec.calls.back();
  EXPECT_EQ(out.layer, -1);
  EXPECT_EQ(out.names, std::vector<std::string>{"output.weight"});

  // Layer 0's attention input = rms_norm(embedding) * attn_norm, recomputed in double.
  const Call& a0 = rec.calls[0];
  const int64_t e = hp.n_embd;
  double worst = 0;
  for (int64_t t = 0; t < n; ++t) {
    const std::vector<double> emb = weight_row(w.token_embd, tokens[static_cast<size_t>(t)]);
    double ss = 0;
    for (double v : emb) ss += v * v;
    const double inv = 1.0 / std::sqrt(ss / static_cast<double>(e) + hp.norm_rms_eps);
    for (int64_t i = 0; i < e; ++i) {
      const double want = emb[static_cast<size_t>(i)] * inv * w.layers[0].attn_norm.data[i];
      const double err = std::fabs(a0.x[static_cast<size_t>(t * e + i)] - want);
      worst = std::max(worst, err / (1e-6 + std::fabs(want)));
    }
  }
  EXPECT_LT(worst, 1e-5) << "worst relative error of layer 0's attention input";

  // Last layer's ffn_down input = silu(x·Wgᵀ) * (x·Wuᵀ) of its observed FFN input.
  const LayerWeights& ll = w.layers.back();
  const Call& fin = rec.calls[rec.calls.size() - 3];
  const Call& down = rec.calls[rec.calls.size() - 2];
  worst = 0;
  for (int64_t t = 0; t < n; ++t) {
    for (int64_t j = 0; j < hp.n_ff; ++j) {
      const double g = dot_row(ll.ffn_gate, j, fin.x.data() + t * e);
      const double u = dot_row(ll.ffn_up, j, fin.x.data() + t * e);
      const double want = g / (1.0 + std::exp(-g)) * u;
      const double err = std::fabs(down.x[static_cast<size_t>(t * hp.n_ff + j)] - want);
      worst = std::max(worst, err / (1e-3 + std::fabs(want)));
    }
  }
  EXPECT_LT(worst, 1e-3) << "worst relative error of the ffn_down input";

  // Logits = (observed output input)·Woutᵀ.
  worst = 0;
  for (int64_t t = 0; t < n; ++t) {
    for (int64_t v = 0; v < hp.n_vocab; v += 7) {
      const double want = dot_row(w.output, v, out.x.data() + t * e);
      const double err = std::fabs(got_logits[static_cast<size_t>(t * hp.n_vocab + v)] - want);
      worst = std::max(worst, err / (1e-2 + std::fabs(want)));
    }
  }
  EXPECT_LT(worst, 1e-4) << "worst relative error of the logits from the observed input";

  // The observer does not change the computation.
  SessionOptions plain = so;
  plain.observer = nullptr;
  auto s2 = Session::create(*model, plain);
  ASSERT_TRUE(s2.is_ok());
  auto l2 = (*s2)->decode(tokens, LogitsMode::kAll);
  ASSERT_TRUE(l2.is_ok());
  EXPECT_EQ(std::vector<float>(l2->begin(), l2->end()), got_logits);
}

}  // namespace
}  // namespace quorum
