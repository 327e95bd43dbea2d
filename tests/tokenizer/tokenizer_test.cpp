// Tokenizer behaviour around the golden vectors: BOS/EOS per metadata, special-token parsing,
// byte fallback, thread safety, and clear errors for bad vocabularies.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <thread>

#include "io/gguf.h"
#include "testing/shared_data.h"
#include "tokenizer/tokenizer.h"

namespace quorum::tokenizer {
namespace {

using quorum::testing::shared_path;

std::shared_ptr<const Tokenizer> gguf_tok(const std::string& rel) {
  auto t = Tokenizer::from_gguf_path(shared_path(rel));
  EXPECT_TRUE(t) << t.status().to_string();
  return t ? *t : nullptr;
}

// Loaded once per test binary: parsing a 10 MB tokenizer.json takes seconds.
std::shared_ptr<const Tokenizer> hf_tok(const std::string& rel) {
  static std::map<std::string, std::shared_ptr<const Tokenizer>> cache;
  auto it = cache.find(rel);
  if (it != cache.end()) return it->second;
  auto v = Vocab::from_hf(shared_path(rel));
  EXPECT_TRUE(v) << v.status().to_string();
  if (!v) return nullptr;
  auto t = Tokenizer::create(std::move(*v));
  EXPECT_TRUE(t) << t.status().to_string();
  if (!t) return nullptr;
  cache[rel] = *t;
  return *t;
}

TEST(Tokenizer, BosEosFollowMetadata) {
  auto spm = gguf_tok("models/vocab-llamacpp/ggml-vocab-llama-spm.gguf");
  ASSERT_TRUE(spm);
  EXPECT_EQ(spm->type(), VocabType::kSpm);
  EXPECT_EQ(spm->n_vocab(), 32000);
  auto ids = spm->encode("Hello", true, false);
  ASSERT_GE(ids.size(), 2u);
  EXPECT_EQ(ids.front(), 1);  // add_bos_token = true, bos = 1
  EXPECT_NE(ids.back(), 2);   // add_eos_token = false
  EXPECT_EQ(spm->encode("", true, false), (std::vector<int32_t>{1}));
  EXPECT_TRUE(spm->encode("", false, false).empty());

  auto dsl = gguf_tok("models/vocab-llamacpp/ggml-vocab-deepseek-llm.gguf");
  ASSERT_TRUE(dsl);
  EXPECT_EQ(dsl->encode("Hello", true, false).front(), 100000);

  auto gpt2 = gguf_tok("models/vocab-llamacpp/ggml-vocab-gpt-2.gguf");  // no add_bos key
  ASSERT_TRUE(gpt2);
  EXPECT_EQ(gpt2->encode("Hello", true, false), gpt2->encode("Hello", false, false));
  EXPECT_TRUE(gpt2->is_eog(50256));

  auto llama3 = hf_tok("models/tokenizers/llama3-hf");
  ASSERT_TRUE(llama3);
  EXPECT_EQ(llama3->encode("Hello", true, false).front(), 128000);  // llama-bpe adds BOS
  EXPECT_TRUE(llama3->is_eog(llama3->find_token("<|eot_id|>")));
  auto qwen = hf_tok("models/tokenizers/qwen3-hf");
  ASSERT_TRUE(qwen);
  EXPECT_EQ(qwen->encode("Hello", true, false), qwen->encode("Hello", false, false));
  EXPECT_TRUE(qwen->is_eog(qwen->find_token("<|im_end|>")));

  // add_eos from the vocabulary appends EOS.
  auto f = gguf::File::open(shared_path("models/vocab-llamacpp/ggml-vocab-llama-spm.gguf"));
  ASSERT_TRUE(f);
  auto v = Vocab::from_gguf(*f);
  ASSERT_TRUE(v);
  v->add_eos = true;
  auto with_eos = Tokenizer::create(std::move(*v));
  ASSERT_TRUE(with_eos);
  EXPECT_EQ((*with_eos)->encode("Hello", true, false).back(), 2);
}

TEST(Tokenizer, ParseSpecialSplitsControlTokens) {
  auto llama3 = hf_tok("models/tokenizers/llama3-hf");
  ASSERT_TRUE(llama3);
  const int32_t start = llama3->find_token("<|start_header_id|>");
  ASSERT_NE(start, kNoToken);
  const auto parsed = llama3->encode("<|start_header_id|>user", false, true);
  ASSERT_EQ(parsed.size(), 2u);
  EXPECT_EQ(parsed[0], start);
  EXPECT_EQ(parsed[1], llama3->find_token("user"));
  const auto plain = llama3->encode("<|start_header_id|>user", false, false);
  EXPECT_EQ(std::count(plain.begin(), plain.end(), start), 0);
  EXPECT_EQ(llama3->decode(plain), "<|start_header_id|>user");
  EXPECT_EQ(llama3->decode(parsed, {.unparse_special = true}), "<|start_header_id|>user");
  EXPECT_EQ(llama3->decode(parsed), "user");

  // Qwen's <think> is an added token that is not special (USER_DEFINED): llama.cpp splits it
  // out even without parse_special.
  auto qwen = hf_tok("models/tokenizers/qwen3-hf");
  ASSERT_TRUE(qwen);
  const int32_t think = qwen->find_token("<think>");
  ASSERT_NE(think, kNoToken);
  const auto ids = qwen->encode("a<think>b", false, false);
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_EQ(ids[1], think);
}

TEST(Tokenizer, SpmByteFallbackAndPieces) {
  auto spm = gguf_tok("models/stories260K/stories260K.gguf");  // 512 tokens
  ASSERT_TRUE(spm);
  // A character outside the tiny vocabulary comes out as its UTF-8 bytes <0xE4><0xB8><0xAD>.
  const auto ids = spm->encode("中", false, false);
  ASSERT_GE(ids.size(), 3u);
  const std::vector<int32_t> tail(ids.end() - 3, ids.end());
  EXPECT_EQ(tail, (std::vector<int32_t>{spm->find_token("<0xE4>"), spm->find_token("<0xB8>"),
                                        spm->find_token("<0xAD>")}));
  EXPECT_EQ(spm->decode(ids), "中");
  EXPECT_EQ(spm->token_to_piece(spm->find_token("<0x41>")), "A");
  EXPECT_EQ(spm->token_to_piece(1, /*special=*/false), "");
  EXPECT_EQ(spm->token_to_piece(1, /*special=*/true), "<s>");
  EXPECT_EQ(spm->token_to_piece(-5), "");
  EXPECT_EQ(spm->token_to_piece(1 << 20), "");
}

// SPM words are merged separately when the vocabulary allows it; a vocabulary with one extra
// token that has U+2581 inside (and that never occurs in the text) forces the whole-text merge.
// Both must give the same ids.
TEST(Tokenizer, SpmWordSplittingMatchesWholeTextMerge) {
  auto f = gguf::File::open(shared_path("models/vocab-llamacpp/ggml-vocab-llama-spm.gguf"));
  ASSERT_TRUE(f);
  auto v = Vocab::from_gguf(*f);
  ASSERT_TRUE(v);
  Vocab whole_vocab = *v;
  whole_vocab.tokens.push_back({"\x01\xE2\x96\x81\x01", 0.0f, kAttrNormal});
  auto split = Tokenizer::create(std::move(*v));
  auto whole = Tokenizer::create(std::move(whole_vocab));
  ASSERT_TRUE(split && whole);
  std::string text = quorum::testing::read_file(shared_path("data/wikitext2_raw/wiki.test.raw"));
  text.resize(100000);
  text += "  double  spaces,\ttabs \xFF\xE2\xE2\x96\x81 bad bytes ▁ literal ▁▁x";
  EXPECT_EQ((*split)->encode(text, true, false), (*whole)->encode(text, true, false));
}

TEST(Tokenizer, SharedBetweenThreads) {
  auto tok = hf_tok("models/tokenizers/qwen3-hf");
  ASSERT_TRUE(tok);
  const std::string text = "The quick brown fox jumps over the lazy dog 12345 times. ";
  const auto want = tok->encode(text, true, false);
  std::vector<std::thread> threads;
  std::vector<int> ok(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) ok[t] += tok->encode(text, true, false) == want;
    });
  }
  for (auto& th : threads) th.join();
  for (int t = 0; t < 4; ++t) EXPECT_EQ(ok[t], 50);
}

TEST(Tokenizer, BadVocabulariesGiveClearErrors) {
  {  // no tokenizer at all
    gguf::Writer w;
    w.set("general.architecture", gguf::Value::str("llama"));
    const auto bytes = w.to_bytes();
    ASSERT_TRUE(bytes) << bytes.status().to_string();
    auto f = gguf::File::parse(bytes->data(), bytes->size(), "mem");
    ASSERT_TRUE(f);
    auto v = Vocab::from_gguf(*f);
    ASSERT_FALSE(v);
    EXPECT_EQ(v.status().code(), ErrorCode::kUnsupported);
  }
  {  // unknown pre-tokenizer
    gguf::Writer w;
    w.set("tokenizer.ggml.model", gguf::Value::str("gpt2"));
    w.set("tokenizer.ggml.pre", gguf::Value::str("martian"));
    w.set("tokenizer.ggml.tokens", gguf::Value::string_array({"a", "b"}));
    w.set("tokenizer.ggml.merges", gguf::Value::string_array({"a b"}));
    const auto bytes = w.to_bytes();
    ASSERT_TRUE(bytes) << bytes.status().to_string();
    auto f = gguf::File::parse(bytes->data(), bytes->size(), "mem");
    ASSERT_TRUE(f);
    auto v = Vocab::from_gguf(*f);
    ASSERT_FALSE(v);
    EXPECT_NE(v.status().message().find("martian"), std::string::npos) << v.status().to_string();
  }
  {  // scores of the wrong length
    gguf::Writer w;
    w.set("tokenizer.ggml.model", gguf::Value::str("llama"));
    w.set("tokenizer.ggml.tokens", gguf::Value::string_array({"<unk>", "<s>", "</s>"}));
    w.set("tokenizer.ggml.scores", gguf::Value::f32_array({0.0f}));
    const auto bytes = w.to_bytes();
    ASSERT_TRUE(bytes) << bytes.status().to_string();
    auto f = gguf::File::parse(bytes->data(), bytes->size(), "mem");
    ASSERT_TRUE(f);
    auto v = Vocab::from_gguf(*f);
    ASSERT_FALSE(v);
    EXPECT_EQ(v.status().code(), ErrorCode::kCorruptFile);
  }
  {  // not JSON
    const std::string dir = quorum::testing::temp_dir("tok");
    std::ofstream(dir + "/tokenizer.json") << "{ not json";
    auto v = Vocab::from_hf(dir);
    ASSERT_FALSE(v);
    EXPECT_EQ(v.status().code(), ErrorCode::kCorruptFile);
    auto missing = Vocab::from_hf(dir + "/nope");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.status().code(), ErrorCode::kNotFound);
  }
}

}  // namespace
}  // namespace quorum::tokenizer
