// llama2.c import: headers and shapes of the shared checkpoints, the three vocabulary readers
// agreeing with each other and with the GGUF vocab of stories260K, and bad headers.
#include <gtest/gtest.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "io/llama2c.h"
#include "io/model_file.h"
#include "testing/shared_data.h"

namespace quorum {
namespace {

using quorum::testing::shared_path;

struct Expect {
  const char* file;
  const char* vocab;
  int64_t dim, hidden, layers, heads, kv_heads, vocab_size, seq_len;
};

TEST(Llama2c, SharedCheckpointsOpenWithTheirShapes) {
  const Expect cases[] = {
      {"models/llama2c-260K-saltyduckegg/model.bin", "models/derived/stories260K-tok512.vocab",
       64, 192, 5, 8, 4, 512, 256},
      {"models/babyllama/babyllama-v105-iter5000.bin", "models/babyllama/tok105.model",
       128, 352, 5, 8, 4, 105, 256},
      {"models/babyllama/babyllama-v361-iter5000.bin", "models/derived/babyllama-tok361.vocab",
       128, 352, 5, 8, 4, 361, 256},
  };
  for (const Expect& e : cases) {
    OpenModelOptions o;
    o.vocab_path = shared_path(e.vocab);
    auto fmt = detect_model_format(shared_path(e.file));
    ASSERT_TRUE(fmt) << fmt.status().to_string();
    EXPECT_EQ(*fmt, ModelFormat::kLlama2c);
    auto f = open_model_file(shared_path(e.file), o);
    ASSERT_TRUE(f) << e.file << ": " << f.status().to_string();
    EXPECT_EQ(*f->get_string("general.architecture"), "llama");
    EXPECT_EQ(*f->get_int("llama.embedding_length"), e.dim);
    EXPECT_EQ(*f->get_int("llama.feed_forward_length"), e.hidden);
    EXPECT_EQ(*f->get_int("llama.block_count"), e.layers);
    EXPECT_EQ(*f->get_int("llama.attention.head_count"), e.heads);
    EXPECT_EQ(*f->get_int("llama.attention.head_count_kv"), e.kv_heads);
    EXPECT_EQ(*f->get_int("llama.context_length"), e.seq_len);
    EXPECT_EQ(*f->get_int("llama.rope.dimension_count"), e.dim / e.heads);
    EXPECT_EQ(f->get_string_array("tokenizer.ggml.tokens")->size(), static_cast<size_t>(e.vocab_size));
    EXPECT_EQ(*f->get_int("tokenizer.ggml.bos_token_id"), 1);
    EXPECT_EQ(*f->get_int("tokenizer.ggml.eos_token_id"), 2);
    EXPECT_EQ(*f->get_string("tokenizer.ggml.model"), "llama");
    // 2 global + 9 per layer; tied classifier (vocab_size > 0 in the header): no output.weight.
    EXPECT_EQ(f->tensors().size(), static_cast<size_t>(2 + 9 * e.layers));
    EXPECT_EQ(f->find_tensor("output.weight"), nullptr);
    EXPECT_EQ(f->find_tensor("token_embd.weight")->ne, (std::vector<int64_t>{e.dim, e.vocab_size}));
    EXPECT_EQ(f->find_tensor("blk.4.attn_k.weight")->ne,
              (std::vector<int64_t>{e.dim, e.kv_heads * (e.dim / e.heads)}));
    EXPECT_EQ(f->find_tensor("blk.0.ffn_down.weight")->ne, (std::vector<int64_t>{e.hidden, e.dim}));
    // The tensors tile the file: the last layer's ffn_up ends right before rms_final.
    const auto* up = f->find_tensor("blk.4.ffn_up.weight");
    const auto* norm = f->find_tensor("output_norm.weight");
    EXPECT_EQ(up->data + up->nbytes, norm->data);
  }
}

TEST(Llama2c, ReferenceLogitsCoverTheVocabulary) {
  // derived/reference-greedy.json holds top-5 first-position logits for the engine to reproduce;
  // here: every listed token id exists in the imported vocabulary.
  const auto j = nlohmann::json::parse(quorum::testing::read_file(shared_path("models/derived/reference-greedy.json")));
  const std::pair<const char*, const char*> cases[] = {
      {"llama2c-260K-saltyduckegg/model.bin", "models/derived/stories260K-tok512.vocab"},
      {"babyllama/babyllama-v105-iter5000.bin", "models/babyllama/tok105.model"},
      {"babyllama/babyllama-v361-iter5000.bin", "models/derived/babyllama-tok361.vocab"}};
  for (auto [file, vocab] : cases) {
    OpenModelOptions o;
    o.vocab_path = shared_path(vocab);
    auto f = open_model_file(shared_path(std::string("models/") + file), o);
    ASSERT_TRUE(f) << f.status().to_string();
    const int64_t n_vocab = f->find_tensor("token_embd.weight")->ne[1];
    for (const auto& pair : j.at(file).at("pos0_top5_logits")) {
      EXPECT_LT(pair[0].get<int64_t>(), n_vocab) << file;
    }
  }
}

TEST(Llama2c, VocabReadersAgree) {
  // llama2.c's tokenizer.bin and the SentencePiece model it was exported from: same pieces,
  // scores and types once llama2.c's export transformations are undone.
  auto bin = llama2c::read_vocab(shared_path("models/tokenizers/llama2-spm/tokenizer.bin"));
  auto spm = llama2c::read_vocab(shared_path("models/tokenizers/llama2-spm/tokenizer.model"));
  ASSERT_TRUE(bin) << bin.status().to_string();
  ASSERT_TRUE(spm) << spm.status().to_string();
  ASSERT_EQ(bin->tokens.size(), 32000u);
  ASSERT_EQ(spm->tokens.size(), 32000u);
  EXPECT_EQ(bin->tokens, spm->tokens);
  EXPECT_EQ(bin->scores, spm->scores);
  EXPECT_EQ(bin->types, spm->types);
  EXPECT_EQ(spm->tokens[1], "<s>");
  EXPECT_EQ(spm->types[3], llama2c::kTokenByte);

  // The .vocab export of stories260K's tokenizer equals the vocab inside stories260K.gguf.
  auto txt = llama2c::read_vocab(shared_path("models/derived/stories260K-tok512.vocab"));
  auto gg = llama2c::read_vocab(shared_path("models/stories260K/stories260K.gguf"));
  ASSERT_TRUE(txt) << txt.status().to_string();
  ASSERT_TRUE(gg) << gg.status().to_string();
  EXPECT_EQ(txt->tokens, gg->tokens);
  EXPECT_EQ(txt->scores, gg->scores);
  EXPECT_EQ(txt->types, gg->types);

  // tok105: the .model and the .vocab agree on pieces and scores.
  auto m105 = llama2c::read_vocab(shared_path("models/babyllama/tok105.model"));
  auto v105 = llama2c::read_vocab(shared_path("models/babyllama/tok105.vocab"));
  ASSERT_TRUE(m105 && v105);
  EXPECT_EQ(m105->tokens, v105->tokens);
  EXPECT_EQ(m105->scores, v105->scores);
}

TEST(Llama2c, VocabSizeMismatchIsAnError) {
  OpenModelOptions o;
  o.vocab_path = shared_path("models/babyllama/tok105.model");
  auto f = open_model_file(shared_path("models/babyllama/babyllama-v361-iter5000.bin"), o);
  ASSERT_FALSE(f.is_ok());
  EXPECT_NE(f.status().message().find("vocabulary size"), std::string::npos) << f.status().to_string();
}

TEST(Llama2c, BadHeaders) {
  std::vector<int32_t> h = {64, 192, 5, 8, 4, 512, 256};
  auto parse = [&](const std::vector<int32_t>& hdr, size_t extra) {
    std::vector<uint8_t> b(hdr.size() * 4 + extra);
    std::memcpy(b.data(), hdr.data(), hdr.size() * 4);
    return llama2c::read_config(b.data(), b.size(), "mem");
  };
  auto ok = parse(h, 1125148 - 28);
  EXPECT_TRUE(ok) << ok.status().to_string();
  auto r = parse(h, 1000);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("size does not match"), std::string::npos);
  r = parse({64, 192, 5, 7, 4, 512, 256}, 0);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("head"), std::string::npos);
  r = parse({64, 192, -5, 8, 4, 512, 256}, 0);
  ASSERT_FALSE(r.is_ok());
  r = parse({1 << 20, 1 << 20, 1 << 20, 1, 1, 1 << 20, 1 << 20}, 0);  // overflow-sized
  ASSERT_FALSE(r.is_ok());
  r = parse({64, 192, 5}, 0);
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("shorter"), std::string::npos);
  // v1 header with version 2 (int8) is named as unsupported.
  std::vector<uint8_t> v1(256, 0);
  const uint32_t magic = 0x616b3432, version = 2;
  std::memcpy(v1.data(), &magic, 4);
  std::memcpy(v1.data() + 4, &version, 4);
  auto r2 = llama2c::read_config(v1.data(), v1.size(), "mem");
  ASSERT_FALSE(r2.is_ok());
  EXPECT_EQ(r2.status().code(), ErrorCode::kUnsupported);
}

TEST(Llama2c, HostileVocabs) {
  const uint8_t bad_proto[] = {0x0a, 0x7f, 0x0a};  // piece message claims 127 bytes
  auto r = llama2c::parse_sentencepiece_model(bad_proto, sizeof(bad_proto), "mem");
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("malformed"), std::string::npos);
  const uint8_t bad_bin[] = {16, 0, 0, 0, 0, 0, 0, 0, 100, 0, 0, 0, 'a'};
  r = llama2c::parse_tokenizer_bin(bad_bin, sizeof(bad_bin), "mem");
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("impossible length"), std::string::npos);
  r = llama2c::parse_vocab_text("a\t1\nb 2\n", "mem");
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("line 2"), std::string::npos);
}

}  // namespace
}  // namespace quorum
