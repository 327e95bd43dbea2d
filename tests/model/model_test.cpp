// Model loading: hyper-parameters of the real models, tensor binding, and the errors for
// unknown architectures, missing tensors, wrong shapes and non-finite weights.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "io/gguf.h"
#include "model/architecture.h"
#include "model/model.h"
#include "testing/shared_data.h"

namespace quorum {
namespace {

using testing::shared_path;

TEST(ModelTest, LoadsStories260K) {
  auto m = Model::load(shared_path("models/stories260K/stories260K.gguf"));
  ASSERT_TRUE(m.is_ok()) << m.status().to_string();
  const HParams& hp = (*m)->hparams();
  EXPECT_EQ(hp.arch, "llama");
  EXPECT_EQ(hp.n_embd, 64);
  EXPECT_EQ(hp.n_layer, 5);
  EXPECT_EQ(hp.n_head, 8);
  EXPECT_EQ(hp.n_head_kv, 4);
  EXPECT_EQ(hp.n_ff, 172);
  EXPECT_EQ(hp.n_vocab, 512);
  EXPECT_EQ(hp.head_dim, 8);
  EXPECT_EQ(hp.n_rot, 8);
  EXPECT_EQ(hp.n_ctx_train, 2048);
  EXPECT_FLOAT_EQ(hp.rope_freq_base, 10000.0f);
  EXPECT_NEAR(hp.norm_rms_eps, 1e-5f, 1e-9f);
  EXPECT_EQ((*m)->rope_kind(), RopeKind::kNormal);
  const ModelWeights& w = (*m)->weights();
  ASSERT_EQ(w.layers.size(), 5u);
  EXPECT_EQ(w.layers[4].ffn_down.k, 172);
  EXPECT_EQ(w.layers[4].ffn_down.rows, 64);
  EXPECT_NE(w.output.data, w.token_embd.data);  // untied
  // Weights are views into the mapping, not copies.
  const gguf::TensorInfo* t = (*m)->file().find_tensor("blk.2.attn_q.weight");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(w.layers[2].wq.data, t->data);
}

TEST(ModelTest, LoadsQwen2WithTiedEmbeddingsAndBiases) {
  auto m = Model::load(shared_path("taskmodels/qt-qwen.gguf"));
  ASSERT_TRUE(m.is_ok()) << m.status().to_string();
  const HParams& hp = (*m)->hparams();
  EXPECT_EQ(hp.arch, "qwen2");
  EXPECT_EQ(hp.n_layer, 3);
  EXPECT_EQ(hp.n_head_kv, 2);
  EXPECT_EQ(hp.n_vocab, 4096);
  EXPECT_EQ((*m)->rope_kind(), RopeKind::kNeox);
  const ModelWeights& w = (*m)->weights();
  EXPECT_EQ(w.output.data, w.token_embd.data);
  EXPECT_EQ(w.output.type, DType::kF16);
  EXPECT_TRUE(w.layers[0].bq.present());
  EXPECT_EQ(w.layers[0].bk.n, 128);
}

TEST(ModelTest, LoadsF16Llama) {
  for (const char* rel : {"models/llama-2-tiny-random/llama-2-tiny-random.gguf",
                          "taskmodels/qt-wide.gguf"}) {
    auto m = Model::load(shared_path(rel));
    ASSERT_TRUE(m.is_ok()) << rel << ": " << m.status().to_string();
  }
}

TEST(ModelTest, RegistryListsArchitectures) {
  std::vector<std::string> names;
  for (const Architecture& a : architectures()) names.emplace_back(a.name);
  EXPECT_EQ(names, (std::vector<std::string>{"llama", "qwen2", "phi3"}));
  auto r = find_architecture("mamba");
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kUnsupported);
  EXPECT_NE(r.status().message().find("mamba"), std::string::npos);
  EXPECT_NE(r.status().message().find("llama, qwen2, phi3"), std::string::npos);
}

// Rewrites stories260K with one change and returns the load error.
class BrokenModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto f = gguf::File::open(shared_path("models/stories260K/stories260K.gguf"));
    ASSERT_TRUE(f.is_ok());
    src_ = std::move(f).value();
    dir_ = testing::temp_dir("model");
  }
  // `edit(name, ne, data)` may change a tensor; returning false drops it.
  template <typename Edit>
  Status write_and_load(Edit edit, const char* arch = nullptr) {
    gguf::Writer w;
    w.copy_metadata(src_);
    if (arch != nullptr) {
      w.set("general.architecture", gguf::Value::str(arch));
      for (const auto& [key, value] : src_.metadata()) {
        if (key.rfind("llama.", 0) == 0) w.set(std::string(arch) + key.substr(5), value);
      }
    }
    for (const gguf::TensorInfo& t : src_.tensors()) {
      std::vector<int64_t> ne = t.ne;
      std::vector<uint8_t> data(t.data, t.data + t.nbytes);
      if (!edit(t.name, ne, data)) continue;
      Status s = w.add_tensor(t.name, t.type, ne, std::move(data));
      if (!s) return s;
    }
    const std::string path = dir_ + "/m.gguf";
    Status s = w.write(path);
    if (!s) return s;
    auto m = Model::load(path);
    return m.status();
  }
  gguf::File src_;
  std::string dir_;
};

TEST_F(BrokenModelTest, MissingTensorIsNamed) {
  Status s = write_and_load([](const std::string& name, auto&, auto&) {
    return name != "blk.3.ffn_up.weight";
  });
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(s.code(), ErrorCode::kNotFound);
  EXPECT_NE(s.message().find("blk.3.ffn_up.weight"), std::string::npos) << s.message();
}

TEST_F(BrokenModelTest, WrongShapeNamesExpectedAndActual) {
  Status s = write_and_load([](const std::string& name, std::vector<int64_t>& ne, auto&) {
    if (name == "blk.1.attn_k.weight") ne = {32, 64};  // transposed
    return true;
  });
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(s.code(), ErrorCode::kCorruptFile);
  EXPECT_NE(s.message().find("blk.1.attn_k.weight"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("[64, 32]"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("[32, 64]"), std::string::npos) << s.message();
}

TEST_F(BrokenModelTest, UnknownArchitectureListsSupported) {
  Status s = write_and_load([](const std::string&, auto&, auto&) { return true; }, "gpt2");
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(s.code(), ErrorCode::kUnsupported) << s.to_string();
  EXPECT_NE(s.message().find("'gpt2'"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("llama, qwen2, phi3"), std::string::npos) << s.message();
}

TEST_F(BrokenModelTest, NonFiniteNormIsReported) {
  Status s = write_and_load([](const std::string& name, auto&, std::vector<uint8_t>& data) {
    if (name == "blk.0.ffn_norm.weight") {
      const float nan = std::numeric_limits<float>::quiet_NaN();
      std::memcpy(data.data() + 12, &nan, 4);
    }
    return true;
  });
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(s.code(), ErrorCode::kCorruptFile);
  EXPECT_NE(s.message().find("blk.0.ffn_norm.weight"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("element 3"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace quorum
