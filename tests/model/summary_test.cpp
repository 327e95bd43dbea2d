// quorum info's summary works on every model file in ../shared (all three formats) and reports
// the facts the models' READMEs state.
#include <gtest/gtest.h>

#include <filesystem>

#include "model/summary.h"
#include "testing/shared_data.h"

namespace quorum {
namespace {

using quorum::testing::shared_path;

TEST(Summary, EverySharedModelFileIsSummarized) {
  std::vector<std::string> paths = {shared_path("models/derived/stories260K-hf"),
                                    shared_path("models/llama2c-260K-saltyduckegg/model.bin")};
  for (const char* dir : {"models", "taskmodels", "golden/quant"}) {
    for (const auto& e : std::filesystem::recursive_directory_iterator(shared_path(dir))) {
      const auto ext = e.path().extension();
      if (ext == ".gguf" || (ext == ".bin" && e.path().parent_path().filename() == "babyllama")) {
        paths.push_back(e.path().string());
      }
    }
  }
  ASSERT_GE(paths.size(), 35u);
  for (const auto& p : paths) {
    auto s = summarize_model(p);
    ASSERT_TRUE(s) << p << ": " << s.status().to_string();
    EXPECT_FALSE(s->architecture.empty()) << p;
    EXPECT_FALSE(summary_to_text(*s).empty());
    EXPECT_EQ(summary_to_json(*s)["path"], p);
  }
}

TEST(Summary, ReportsTheDocumentedFacts) {
  auto base = summarize_model(shared_path("taskmodels/qt-base.gguf"));
  ASSERT_TRUE(base) << base.status().to_string();
  ASSERT_TRUE(base->hparams.has_value());
  EXPECT_EQ(base->hparams->n_embd, 256);
  EXPECT_EQ(base->hparams->n_layer, 4);
  EXPECT_EQ(base->hparams->n_head, 8);
  EXPECT_EQ(base->hparams->n_head_kv, 4);
  EXPECT_EQ(base->hparams->n_ff, 768);
  EXPECT_NEAR(base->n_params / 1e6, 5.2, 0.05);  // "5.2M" in taskmodels/README.md
  EXPECT_EQ(base->tokenizer_model, "llama");
  EXPECT_EQ(base->n_tokens, 4096);
  EXPECT_EQ(base->bos, 1);
  EXPECT_EQ(base->eos, 2);
  EXPECT_NEAR(base->bits_per_weight, 32.0, 1e-9);

  auto q4 = summarize_model(shared_path("golden/quant/qt-base.Q4_K_M.gguf"));
  ASSERT_TRUE(q4);
  EXPECT_EQ(q4->n_params, base->n_params);
  EXPECT_GT(q4->types.count("q4_K"), 0u);
  EXPECT_GT(q4->bits_per_weight, 4.0);
  EXPECT_LT(q4->bits_per_weight, 6.5);

  auto hf = summarize_model(shared_path("models/derived/stories260K-hf"));
  ASSERT_TRUE(hf);
  EXPECT_EQ(hf->format, "safetensors");
  EXPECT_EQ(hf->hparams->n_ff, 172);

  auto vocab = summarize_model(shared_path("models/vocab-llamacpp/ggml-vocab-gpt-2.gguf"));
  ASSERT_TRUE(vocab);
  EXPECT_FALSE(vocab->architecture_supported);
  EXPECT_EQ(vocab->n_params, 0);
  EXPECT_EQ(vocab->n_tokens, 50257);

  auto missing = summarize_model("/nonexistent/model.gguf");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.status().code(), ErrorCode::kNotFound);
}

}  // namespace
}  // namespace quorum
