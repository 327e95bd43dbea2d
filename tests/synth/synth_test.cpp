// Synthetic models: shapes agree with the published parameter counts, the generator is
// deterministic and standard normal, tokenizers come through intact, and a whole file written by
// `synth` reads back with the right tensors.
#include <gtest/gtest.h>

#include <cmath>

#include "core/fp16.h"
#include "synth/synth.h"
#include "testing/shared_data.h"

namespace quorum::synth {
namespace {

TEST(Synth, ParameterCountsMatchThePublishedModels) {
  // Published totals (Hugging Face model cards / safetensors metadata).
  EXPECT_EQ(parameter_count(**find_shape("smollm2-135m")), 134515008);
  EXPECT_EQ(parameter_count(**find_shape("qwen2.5-0.5b")), 494032768);
  EXPECT_EQ(parameter_count(**find_shape("llama-3.2-1b")), 1235814400);
  EXPECT_EQ(parameter_count(**find_shape("mistral-7b")), 7241732096);
  EXPECT_FALSE(find_shape("gpt-5").is_ok());
}

TEST(Synth, GeneratorIsDeterministicAndStandardNormal) {
  EXPECT_EQ(normal_at(1, 2, 3), normal_at(1, 2, 3));
  EXPECT_NE(normal_at(1, 2, 3), normal_at(2, 2, 3));
  double sum = 0, sum2 = 0, sum4 = 0;
  const int n = 1 << 20;
  for (int i = 0; i < n; ++i) {
    const double x = normal_at(7, 11, i);
    sum += x;
    sum2 += x * x;
    sum4 += x * x * x * x;
  }
  const double mean = sum / n, var = sum2 / n - mean * mean;
  EXPECT_NEAR(mean, 0.0, 5.0 / std::sqrt(n));
  EXPECT_NEAR(var, 1.0, 0.01);
  EXPECT_NEAR(sum4 / n, 3.0, 0.05);  // normal kurtosis
}

TEST(Synth, HfTokenizerBecomesGgufMetadata) {
  auto kv = tokenizer_metadata_from_hf(
      quorum::testing::shared_path("models/tokenizers/llama3-hf/tokenizer.json"), "llama-bpe", 128256);
  ASSERT_TRUE(kv) << kv.status().to_string();
  std::map<std::string, gguf::Value> m(kv->begin(), kv->end());
  EXPECT_EQ(m["tokenizer.ggml.model"].s, "gpt2");
  ASSERT_EQ(m["tokenizer.ggml.tokens"].arr.size(), 128256u);
  EXPECT_EQ(m["tokenizer.ggml.tokens"].arr[128000].s, "<|begin_of_text|>");
  EXPECT_EQ(m["tokenizer.ggml.token_type"].arr[128000].i, 3);  // control
  EXPECT_EQ(m["tokenizer.ggml.token_type"].arr[1000].i, 1);    // normal
  EXPECT_EQ(m["tokenizer.ggml.bos_token_id"].u, 128000u);
  EXPECT_EQ(m["tokenizer.ggml.eos_token_id"].u, 128001u);
  EXPECT_EQ(m["tokenizer.ggml.eot_token_id"].u, 128009u);
  EXPECT_GT(m["tokenizer.ggml.merges"].arr.size(), 280000u);

  auto small = tokenizer_metadata_from_hf(
      quorum::testing::shared_path("models/tokenizers/llama3-hf/tokenizer.json"), "llama-bpe", 1000);
  ASSERT_FALSE(small);
  EXPECT_EQ(small.status().code(), ErrorCode::kOutOfRange);
}

TEST(Synth, Smollm2FileReadsBackWithTheRightTensors) {
  const std::string out = quorum::testing::temp_dir("synth") + "/smol.gguf";
  ThreadPool pool(2);
  gguf::Writer w;
  SynthOptions opts;
  opts.models_dir = quorum::testing::shared_path("models");
  ASSERT_TRUE(build(**find_shape("smollm2-135m"), opts, pool, &w));
  ASSERT_TRUE(w.write(out));
  auto f = gguf::File::open(out);
  ASSERT_TRUE(f) << f.status().to_string();
  EXPECT_EQ(*f->get_int("llama.block_count"), 30);
  EXPECT_EQ(*f->get_int("llama.attention.head_count_kv"), 3);
  EXPECT_EQ(f->get_string_array("tokenizer.ggml.tokens")->size(), 49152u);
  int64_t n = 0;
  for (const auto& t : f->tensors()) n += t.n_elements();
  EXPECT_EQ(n, 134515008);
  EXPECT_EQ(f->find_tensor("output.weight"), nullptr);  // tied
  const gguf::TensorInfo* q = f->find_tensor("blk.3.attn_q.weight");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->type, DType::kF16);
  EXPECT_EQ(q->ne, (std::vector<int64_t>{576, 576}));
  // Weights have the requested scale: std 0.02 (F16-rounded).
  double s2 = 0;
  const auto* h = reinterpret_cast<const uint16_t*>(q->data);
  for (int64_t i = 0; i < q->n_elements(); ++i) s2 += std::pow(f16_to_f32(h[i]), 2);
  EXPECT_NEAR(std::sqrt(s2 / q->n_elements()), 0.02, 0.0005);
  const gguf::TensorInfo* norm = f->find_tensor("blk.0.attn_norm.weight");
  ASSERT_NE(norm, nullptr);
  EXPECT_EQ(norm->type, DType::kF32);
  EXPECT_EQ(reinterpret_cast<const float*>(norm->data)[5], 1.0f);
}

}  // namespace
}  // namespace quorum::synth
