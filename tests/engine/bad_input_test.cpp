// Bad input to the engine: empty prompts, prompts longer than the context, contexts too large
// for memory (refused before allocating, with the size they would take), and NaN/Inf weights
// (found as non-finite logits after a forward pass, with the damaged tensor named).
#include <gtest/gtest.h>

#include <limits>

#include "engine/generate.h"
#include "engine/session.h"
#include "golden_util.h"
#include "poisoned_model.h"
#include "testing/shared_data.h"

namespace quorum {
namespace {

std::shared_ptr<const Model> load(const std::string& path) {
  auto m = Model::load(path);
  EXPECT_TRUE(m.is_ok()) << m.status().to_string();
  return m ? *m : nullptr;
}

std::unique_ptr<Session> session(std::shared_ptr<const Model> m, int64_t n_ctx) {
  SessionOptions so;
  so.n_ctx = n_ctx;
  so.n_threads = 2;
  auto s = Session::create(std::move(m), so);
  EXPECT_TRUE(s.is_ok()) << s.status().to_string();
  return s ? std::move(s).value() : nullptr;
}

std::string stories() { return testing::shared_path("models/stories260K/stories260K.gguf"); }

TEST(BadInput, EmptyPromptIsRefused) {
  auto s = session(load(stories()), 64);
  ASSERT_NE(s, nullptr);
  auto r = s->decode({});
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("prompt is empty"), std::string::npos) << r.status().to_string();
  auto g = generate(*s, {}, GenerateOptions{}, GenerateHooks{});
  ASSERT_FALSE(g.is_ok());
  EXPECT_EQ(g.status().code(), ErrorCode::kInvalidArgument);
}

TEST(BadInput, PromptLongerThanContextIsRefused) {
  auto s = session(load(stories()), 16);
  ASSERT_NE(s, nullptr);
  const std::vector<int32_t> prompt(17, 300);
  auto r = s->prefill(prompt);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kOutOfRange);
  EXPECT_NE(r.status().message().find("at most 16 tokens"), std::string::npos) << r.status().to_string();
  EXPECT_EQ(s->position(), 0);  // nothing was computed
}

TEST(BadInput, ContextTooLargeForMemorySaysHowMuch) {
  auto m = load(testing::golden_model_path("qt-base"));
  ASSERT_NE(m, nullptr);
  // qt-base: 4 layers x 128 K (or V) values per position (4 KV heads x 32) x 2 bytes (F16) x 2
  // (K and V) = 2 KiB per position, so 2^29 positions need exactly 1 TiB of cache.
  const int64_t n_ctx = int64_t{1} << 29;
  EXPECT_EQ(kv_cache_bytes(*m, n_ctx, KvType::kF16), uint64_t{1} << 40);
  SessionOptions so;
  so.n_ctx = n_ctx;
  so.n_threads = 1;
  so.max_cache_bytes = std::numeric_limits<uint64_t>::max();  // only the machine's memory limits
  auto s = Session::create(m, so);
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(s.status().code(), ErrorCode::kOutOfMemory);
  EXPECT_NE(s.status().message().find("1.0 TiB of KV cache"), std::string::npos) << s.status().to_string();
  EXPECT_NE(s.status().message().find("available"), std::string::npos) << s.status().to_string();
  // The configured cap is checked too, with the size it would take.
  so.max_cache_bytes = uint64_t{1} << 30;
  so.n_ctx = 1 << 22;  // 8 GiB of cache
  auto capped = Session::create(m, so);
  ASSERT_FALSE(capped.is_ok());
  EXPECT_NE(capped.status().message().find("8.0 GiB would be needed"), std::string::npos)
      << capped.status().to_string();
  // Absurd sizes are refused before any arithmetic can overflow.
  so.n_ctx = std::numeric_limits<int64_t>::max() / 2;
  auto absurd = Session::create(m, so);
  ASSERT_FALSE(absurd.is_ok());
  EXPECT_EQ(absurd.status().code(), ErrorCode::kOutOfMemory) << absurd.status().to_string();
  EXPECT_NE(absurd.status().message().find("context length too large"), std::string::npos);
}

// A NaN in a weight matrix (not scanned at load) turns the logits non-finite; the error names the
// tensor, found by scanning the weights only after the forward pass failed. (The NaN sits in
// ffn_down, whose output enters the residual stream; see docs/ENGINE.md for a NaN the
// attention softmax absorbs.)
TEST(BadInput, NanWeightIsNamedAfterTheForwardPass) {
  const std::string dir = testing::temp_dir("nan");
  const std::string path = testing::write_poisoned_copy(stories(), "blk.1.ffn_down.weight",
                                                        testing::f32_nan_bytes(), dir, "nan.gguf");
  auto m = load(path);  // loads: matrices are not scanned at load
  ASSERT_NE(m, nullptr);
  auto s = session(m, 64);
  ASSERT_NE(s, nullptr);
  const std::vector<int32_t> prompt = {1, 403, 407, 261, 378};
  auto r = s->decode(prompt);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kCorruptFile);
  const std::string msg = r.status().message();
  EXPECT_NE(msg.find("NaN or infinite logits"), std::string::npos) << msg;
  EXPECT_NE(msg.find("blk.1.ffn_down.weight"), std::string::npos) << msg;
  EXPECT_EQ(s->position(), 0);  // the garbage is not kept in the cache
}

// The same for a block-quantized file: an Inf block scale (F16 0x7c00) in a Q8_0 matrix of the
// last layer.
TEST(BadInput, InfScaleInQuantizedWeightIsNamed) {
  const std::string dir = testing::temp_dir("inf");
  const std::string path = testing::write_poisoned_copy(
      testing::golden_model_path("qt-base.Q8_0"), "blk.3.ffn_down.weight", {0x00, 0x7c},
      dir, "inf.gguf");
  auto m = load(path);
  ASSERT_NE(m, nullptr);
  EXPECT_FALSE(find_non_finite_weight(*m).is_ok());
  auto s = session(m, 64);
  ASSERT_NE(s, nullptr);
  const std::vector<int32_t> prompt = {1, 302, 4029, 331};
  auto r = s->decode(prompt);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("blk.3.ffn_down.weight"), std::string::npos)
      << r.status().to_string();
}

TEST(BadInput, FiniteModelsPassTheWeightScan) {
  auto m = load(testing::golden_model_path("qt-base.Q4_K_M"));
  ASSERT_NE(m, nullptr);
  EXPECT_TRUE(find_non_finite_weight(*m).is_ok());
}

}  // namespace
}  // namespace quorum
