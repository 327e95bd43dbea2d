// Unit tests of the mix planner (hand-derived from llama.cpp's rules), overrides, fallbacks,
// and the method registry.
#include <gtest/gtest.h>

#include "quant/quant_mix.h"
#include "quant/quantize.h"

namespace quorum::quant {
namespace {

// A llama-shaped model: n_layer blocks of attn_q/k/v/output and ffn_gate/up/down.
std::vector<TensorDesc> llama_tensors(int n_layer, int64_t dim, int64_t ff) {
  std::vector<TensorDesc> t = {{"output.weight", {dim, 1000}}, {"output_norm.weight", {dim}},
                               {"token_embd.weight", {dim, 1000}}};
  for (int i = 0; i < n_layer; ++i) {
    const std::string b = "blk." + std::to_string(i) + ".";
    t.push_back({b + "attn_k.weight", {dim, dim}});
    t.push_back({b + "attn_norm.weight", {dim}});
    t.push_back({b + "attn_output.weight", {dim, dim}});
    t.push_back({b + "attn_q.weight", {dim, dim}});
    t.push_back({b + "attn_v.weight", {dim, dim}});
    t.push_back({b + "ffn_down.weight", {ff, dim}});
    t.push_back({b + "ffn_gate.weight", {dim, ff}});
    t.push_back({b + "ffn_up.weight", {dim, ff}});
  }
  return t;
}

DType planned(const std::vector<TensorDesc>& t, const std::vector<TensorPlan>& p,
              const std::string& name) {
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i].name == name) return p[i].type;
  }
  ADD_FAILURE() << "no tensor " << name;
  return DType::kF32;
}

ModelShape shape(int n_layer, int n_head = 8, int n_head_kv = 8) {
  return ModelShape{"llama", n_layer, n_head, n_head_kv, 0};
}

// Q4_K_M on 8 layers: use_more_bits(i, 8) is true for i = 0, 3, 6, 7 (i < 1, i >= 7,
// (i - 1) % 3 == 2), so those attn_v and ffn_down get Q6_K; output Q6_K; the rest Q4_K;
// norms stay F32.
TEST(QuantMix, Q4_K_MUsesMoreBitsWhereLlamaCppDoes) {
  const auto t = llama_tensors(8, 256, 512);
  auto p = plan_mix(FileType::kQ4_K_M, shape(8), t, {}, false);
  ASSERT_TRUE(p) << p.status().to_string();
  EXPECT_EQ(planned(t, *p, "output.weight"), DType::kQ6_K);
  EXPECT_EQ(planned(t, *p, "token_embd.weight"), DType::kQ4_K);
  EXPECT_EQ(planned(t, *p, "output_norm.weight"), DType::kF32);
  for (int i = 0; i < 8; ++i) {
    const std::string b = "blk." + std::to_string(i) + ".";
    const DType more = (i == 0 || i == 3 || i == 6 || i == 7) ? DType::kQ6_K : DType::kQ4_K;
    EXPECT_EQ(planned(t, *p, b + "attn_v.weight"), more) << i;
    EXPECT_EQ(planned(t, *p, b + "ffn_down.weight"), more) << i;
    EXPECT_EQ(planned(t, *p, b + "attn_q.weight"), DType::kQ4_K) << i;
  }
}

// Q3_K_M: first two attn_v Q5_K then Q4_K; attn_output Q4_K; ffn_down Q5_K below n_layer/16.
TEST(QuantMix, Q3_K_M) {
  const auto t = llama_tensors(32, 256, 512);
  auto p = plan_mix(FileType::kQ3_K_M, shape(32), t, {}, false);
  ASSERT_TRUE(p);
  EXPECT_EQ(planned(t, *p, "blk.1.attn_v.weight"), DType::kQ5_K);
  EXPECT_EQ(planned(t, *p, "blk.2.attn_v.weight"), DType::kQ4_K);
  EXPECT_EQ(planned(t, *p, "blk.1.ffn_down.weight"), DType::kQ5_K);
  EXPECT_EQ(planned(t, *p, "blk.2.ffn_down.weight"), DType::kQ4_K);
  EXPECT_EQ(planned(t, *p, "blk.5.attn_output.weight"), DType::kQ4_K);
  EXPECT_EQ(planned(t, *p, "blk.5.ffn_up.weight"), DType::kQ3_K);
}

// Q2_K: attn_v Q4_K only with GQA >= 4; ffn_down and attn_output Q3_K.
TEST(QuantMix, Q2_KDependsOnGqa) {
  const auto t = llama_tensors(4, 256, 512);
  auto mha = plan_mix(FileType::kQ2_K, shape(4, 8, 8), t, {}, false);
  auto gqa = plan_mix(FileType::kQ2_K, shape(4, 8, 2), t, {}, false);
  ASSERT_TRUE(mha && gqa);
  EXPECT_EQ(planned(t, *mha, "blk.0.attn_v.weight"), DType::kQ3_K);
  EXPECT_EQ(planned(t, *gqa, "blk.0.attn_v.weight"), DType::kQ4_K);
  EXPECT_EQ(planned(t, *mha, "blk.0.ffn_down.weight"), DType::kQ3_K);
  EXPECT_EQ(planned(t, *mha, "blk.0.attn_output.weight"), DType::kQ3_K);
  EXPECT_EQ(planned(t, *mha, "blk.0.attn_q.weight"), DType::kQ2_K);
}

// Tied embeddings (no output.weight): token_embd gets the output's Q6_K.
TEST(QuantMix, TiedEmbeddingsGetOutputType) {
  auto t = llama_tensors(2, 256, 512);
  t.erase(t.begin());
  auto p = plan_mix(FileType::kQ4_0, shape(2), t, {}, false);
  ASSERT_TRUE(p);
  EXPECT_EQ(planned(t, *p, "token_embd.weight"), DType::kQ6_K);
}

// stories260K: ffn_down rows of 172 cannot hold 256-blocks nor 32-blocks: Q4_K -> Q5_0 -> F16;
// with a legacy type there is no fallback (llama.cpp refuses too).
TEST(QuantMix, FallbackForOddRows) {
  const auto t = llama_tensors(5, 64, 172);
  auto p = plan_mix(FileType::kQ4_K_S, shape(5), t, {}, false);
  ASSERT_TRUE(p) << p.status().to_string();
  auto get = [&](const std::string& n) {
    for (size_t i = 0; i < t.size(); ++i) if (t[i].name == n) return (*p)[i];
    return TensorPlan{DType::kF32};
  };
  EXPECT_EQ(get("blk.0.ffn_down.weight").type, DType::kF16);
  EXPECT_TRUE(get("blk.0.ffn_down.weight").fallback);
  // rows of 64: not a multiple of 256 -> Q5_0 (Q4_K's fallback)
  EXPECT_EQ(get("blk.0.attn_q.weight").type, DType::kQ5_0);
  EXPECT_EQ(get("output.weight").type, DType::kQ8_0);  // output: nx % 256 != 0 -> Q8_0
  auto legacy = plan_mix(FileType::kQ4_0, shape(5), t, {}, false);
  ASSERT_FALSE(legacy);
  EXPECT_NE(legacy.status().message().find("172"), std::string::npos)
      << legacy.status().message();
}

TEST(QuantMix, OverridesReplaceTheMixFirstMatchWins) {
  const auto t = llama_tensors(4, 256, 512);
  auto a = parse_type_override("blk\\.[01]\\.attn_v=q8_0");
  auto b = parse_type_override("attn_v=f16");
  ASSERT_TRUE(a && b);
  auto p = plan_mix(FileType::kQ4_K_M, shape(4), t, {*a, *b}, false);
  ASSERT_TRUE(p);
  EXPECT_EQ(planned(t, *p, "blk.0.attn_v.weight"), DType::kQ8_0);
  EXPECT_EQ(planned(t, *p, "blk.1.attn_v.weight"), DType::kQ8_0);
  EXPECT_EQ(planned(t, *p, "blk.2.attn_v.weight"), DType::kF16);
  EXPECT_EQ(planned(t, *p, "blk.2.attn_q.weight"), DType::kQ4_K);
}

TEST(QuantMix, BadOverridesAreClearErrors) {
  EXPECT_FALSE(parse_type_override("attn_v"));
  EXPECT_FALSE(parse_type_override("attn_v=q9_9"));
  EXPECT_FALSE(parse_type_override("attn_v=iq3_xxs"));  // cannot be produced
  auto bad = parse_type_override("attn_v[=q8_0");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.status().message().find("regular expression"), std::string::npos);
}

// IQ2 types cannot be made without importance weights (llama.cpp refuses too).
TEST(QuantMix, Iq2NeedsAnImatrix) {
  const auto t = llama_tensors(4, 256, 512);
  auto none = plan_mix(FileType::kIQ2_XXS, shape(4), t, {}, false);
  ASSERT_FALSE(none);
  EXPECT_NE(none.status().message().find("importance matrix"), std::string::npos);
  auto with = plan_mix(FileType::kIQ2_XS, shape(4), t, {}, true);
  ASSERT_TRUE(with) << with.status().to_string();
  EXPECT_EQ(planned(t, *with, "blk.1.attn_q.weight"), DType::kIQ2_XS);
  EXPECT_EQ(planned(t, *with, "token_embd.weight"), DType::kQ2_K);
  EXPECT_EQ(planned(t, *with, "output.weight"), DType::kQ5_K);
  auto o = parse_type_override("attn_q=iq2_xxs");
  ASSERT_TRUE(o);
  EXPECT_FALSE(plan_mix(FileType::kQ4_K_M, shape(4), t, {*o}, false));
}

TEST(QuantMix, FileTypeNamesAndOrder) {
  EXPECT_EQ(file_type_from_name("q4_k_m"), FileType::kQ4_K_M);
  EXPECT_EQ(file_type_from_name("Q4_K"), FileType::kQ4_K_M);
  EXPECT_EQ(file_type_from_name("IQ4_NL"), FileType::kIQ4_NL);
  EXPECT_FALSE(file_type_from_name("Q7_K").has_value());
  const auto order = quantization_order({"blk.10.a", "output.weight", "blk.2.b", "blk.2.a",
                                         "token_embd.weight"});
  const std::vector<size_t> want = {1, 4, 3, 2, 0};
  EXPECT_EQ(order, want);
}

TEST(Quantize, MethodRegistryListsRtn) {
  ASSERT_NE(find_quant_method("rtn"), nullptr);
  ASSERT_NE(find_quant_method("gptq"), nullptr);
  EXPECT_EQ(find_quant_method("no-such-method"), nullptr);
  QuantizeOptions opt;
  opt.method = "no-such-method";
  auto r = quantize_gguf("a.gguf", "b.gguf", opt);
  EXPECT_FALSE(r);
}

}  // namespace
}  // namespace quorum::quant
