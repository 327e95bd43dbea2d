// Hugging Face import: the stories260K model in HF layout (Q/K rows un-permuted to rotate-half,
// tied embeddings) opens to the same tensors and hyper-parameters as the original GGUF; the Q/K
// permutation is an involution pair; config mapping of each supported architecture.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <numeric>

#include "io/hf_config.h"
#include "io/model_file.h"
#include "testing/shared_data.h"

namespace quorum {
namespace {

using quorum::testing::shared_path;

TEST(HfImport, Stories260KHfEqualsGguf) {
  auto hf = open_model_file(shared_path("models/derived/stories260K-hf"));
  ASSERT_TRUE(hf) << hf.status().to_string();
  auto gg = gguf::File::open(shared_path("models/stories260K/stories260K.gguf"));
  ASSERT_TRUE(gg) << gg.status().to_string();

  // Every HF tensor equals the GGUF tensor of the same name, byte for byte (Q/K re-permuted).
  ASSERT_EQ(hf->tensors().size(), gg->tensors().size() - 1);  // GGUF has an explicit output.weight
  for (const gguf::TensorInfo& t : hf->tensors()) {
    const gguf::TensorInfo* g = gg->find_tensor(t.name);
    ASSERT_NE(g, nullptr) << t.name;
    EXPECT_EQ(t.type, g->type) << t.name;
    EXPECT_EQ(t.ne, g->ne) << t.name;
    ASSERT_EQ(t.nbytes, g->nbytes) << t.name;
    EXPECT_EQ(std::memcmp(t.data, g->data, t.nbytes), 0) << t.name;
  }
  // The HF config ties the classifier to the embeddings; the GGUF stores a copy.
  const gguf::TensorInfo* out = gg->find_tensor("output.weight");
  const gguf::TensorInfo* emb = hf->find_tensor("token_embd.weight");
  ASSERT_NE(out, nullptr);
  ASSERT_NE(emb, nullptr);
  EXPECT_EQ(hf->find_tensor("output.weight"), nullptr);
  EXPECT_EQ(std::memcmp(out->data, emb->data, out->nbytes), 0);

  for (const char* key : {"llama.embedding_length", "llama.feed_forward_length", "llama.block_count",
                          "llama.attention.head_count", "llama.attention.head_count_kv",
                          "llama.rope.dimension_count", "tokenizer.ggml.bos_token_id",
                          "tokenizer.ggml.eos_token_id"}) {
    auto a = hf->get_int(key);
    auto b = gg->get_int(key);
    ASSERT_TRUE(a && b) << key;
    EXPECT_EQ(*a, *b) << key;
  }
  EXPECT_EQ(*hf->get_string("general.architecture"), "llama");
  EXPECT_EQ(*hf->get_float("llama.attention.layer_norm_rms_epsilon"),
            *gg->get_float("llama.attention.layer_norm_rms_epsilon"));
  EXPECT_EQ(*hf->get_float("llama.rope.freq_base"), *gg->get_float_or("llama.rope.freq_base", 10000.0));
  // The derived config says max_position_embeddings 512; the GGUF says 2048 (llama2.c's
  // converter default). Both are what their files state.
  EXPECT_EQ(*hf->get_int("llama.context_length"), 512);
}

TEST(HfImport, PermutationRoundTripsAndMatchesDefinition) {
  // 2 heads of head_dim 4, one byte per row: HF row h*4 + s*2 + j -> GGUF row h*4 + 2j + s.
  std::vector<uint8_t> hf(8), gg(8), back(8);
  std::iota(hf.begin(), hf.end(), 0);
  ASSERT_TRUE(hf::permute_qk_rows(hf.data(), gg.data(), 8, 1, 2, hf::PermuteDirection::kHfToGguf));
  EXPECT_EQ(gg, (std::vector<uint8_t>{0, 2, 1, 3, 4, 6, 5, 7}));
  ASSERT_TRUE(hf::permute_qk_rows(gg.data(), back.data(), 8, 1, 2, hf::PermuteDirection::kGgufToHf));
  EXPECT_EQ(back, hf);
  auto bad = hf::permute_qk_rows(hf.data(), gg.data(), 6, 1, 2, hf::PermuteDirection::kHfToGguf);
  EXPECT_FALSE(bad.is_ok());
}

nlohmann::json base_config(const char* arch) {
  return {{"architectures", {arch}}, {"hidden_size", 64}, {"intermediate_size", 128},
          {"num_hidden_layers", 2}, {"num_attention_heads", 4}, {"num_key_value_heads", 2},
          {"rms_norm_eps", 1e-6}, {"rope_theta", 1000000.0}, {"max_position_embeddings", 4096}};
}

const gguf::Value* find(const hf::Metadata& m, const std::string& k) {
  for (const auto& [key, v] : m) {
    if (key == k) return &v;
  }
  return nullptr;
}

TEST(HfImport, ConfigMapsEachArchitecture) {
  for (auto [hf_arch, gg_arch, permute] :
       {std::tuple{"LlamaForCausalLM", "llama", true}, std::tuple{"MistralForCausalLM", "llama", true},
        std::tuple{"Qwen2ForCausalLM", "qwen2", false}, std::tuple{"Phi3ForCausalLM", "phi3", false}}) {
    auto r = hf::config_to_gguf(base_config(hf_arch), "config.json");
    ASSERT_TRUE(r) << r.status().to_string();
    EXPECT_EQ(r->arch.permute_qk, permute);
    const std::string a = gg_arch;
    EXPECT_EQ(find(r->metadata, "general.architecture")->s, a);
    EXPECT_EQ(find(r->metadata, a + ".embedding_length")->u, 64u);
    EXPECT_EQ(find(r->metadata, a + ".attention.head_count_kv")->u, 2u);
    EXPECT_EQ(find(r->metadata, a + ".context_length")->u, 4096u);
    EXPECT_EQ(find(r->metadata, a + ".rope.freq_base")->f, 1000000.0);
    EXPECT_EQ(find(r->metadata, a + ".rope.dimension_count")->u, 16u);
    EXPECT_FLOAT_EQ(static_cast<float>(find(r->metadata, a + ".attention.layer_norm_rms_epsilon")->f), 1e-6f);
  }
  auto unknown = hf::config_to_gguf(base_config("GPTNeoXForCausalLM"), "config.json");
  ASSERT_FALSE(unknown.is_ok());
  EXPECT_EQ(unknown.status().code(), ErrorCode::kUnsupported);
  EXPECT_NE(unknown.status().message().find("GPTNeoXForCausalLM"), std::string::npos);
}

TEST(HfImport, RopeScaling) {
  auto c = base_config("LlamaForCausalLM");
  c["rope_theta"] = 500000.0;
  c["head_dim"] = 16;
  c["rope_scaling"] = {{"rope_type", "llama3"}, {"factor", 8.0}, {"low_freq_factor", 1.0},
                       {"high_freq_factor", 4.0}, {"original_max_position_embeddings", 8192}};
  auto r = hf::config_to_gguf(c, "config.json");
  ASSERT_TRUE(r) << r.status().to_string();
  ASSERT_EQ(r->tensors.size(), 1u);
  EXPECT_EQ(r->tensors[0].name, "rope_freqs.weight");
  ASSERT_EQ(r->tensors[0].data.size(), 8u);
  // Hand-computed: freq_i = 500000^(-2i/16), wavelen = 2*pi/freq. i=0: wavelen 6.28 < 2048
  // (high-frequency band) -> 1; i=7: wavelen 2*pi*500000^(14/16) ~ 6.8e5 > 8192 -> factor 8;
  // i=4: wavelen 2*pi*500000^(0.5) = 4442.883, between 2048 and 8192 ->
  // smooth = (8192/4442.883 - 1)/3 = 0.281283, factor = 1/((1-0.281283)/8 + 0.281283) = 2.694530.
  EXPECT_FLOAT_EQ(r->tensors[0].data[0], 1.0f);
  EXPECT_FLOAT_EQ(r->tensors[0].data[7], 8.0f);
  EXPECT_NEAR(r->tensors[0].data[4], 2.694530, 1e-5);

  c["rope_scaling"] = {{"type", "linear"}, {"factor", 2.0}};
  r = hf::config_to_gguf(c, "config.json");
  ASSERT_TRUE(r);
  EXPECT_EQ(find(r->metadata, "llama.rope.scaling.type")->s, "linear");
  EXPECT_EQ(find(r->metadata, "llama.rope.scaling.factor")->f, 2.0);

  c["rope_scaling"] = {{"type", "yarn"}, {"factor", 4.0}};
  r = hf::config_to_gguf(c, "config.json");
  ASSERT_FALSE(r.is_ok());
  EXPECT_NE(r.status().message().find("yarn"), std::string::npos);
}

TEST(HfImport, TensorNames) {
  EXPECT_EQ(*hf::hf_to_gguf_name("model.layers.11.self_attn.q_proj.bias", "x"), "blk.11.attn_q.bias");
  EXPECT_EQ(*hf::hf_to_gguf_name("model.layers.0.self_attn.qkv_proj.weight", "x"), "blk.0.attn_qkv.weight");
  EXPECT_EQ(*hf::hf_to_gguf_name("model.layers.0.mlp.gate_up_proj.weight", "x"), "blk.0.ffn_up.weight");
  EXPECT_EQ(*hf::hf_to_gguf_name("lm_head.weight", "x"), "output.weight");
  EXPECT_EQ(*hf::hf_to_gguf_name("model.layers.0.self_attn.rotary_emb.inv_freq", "x"), "");
  EXPECT_FALSE(hf::hf_to_gguf_name("model.layers.0.mlp.experts.0.w1.weight", "x").is_ok());
  const auto phi3 = *hf::arch_from_gguf("phi3");
  const auto llama = *hf::arch_from_gguf("llama");
  EXPECT_EQ(*hf::gguf_to_hf_name("blk.2.ffn_up.weight", phi3), "model.layers.2.mlp.gate_up_proj.weight");
  EXPECT_EQ(*hf::gguf_to_hf_name("blk.2.ffn_up.weight", llama), "model.layers.2.mlp.up_proj.weight");
  EXPECT_EQ(*hf::gguf_to_hf_name("output_norm.weight", llama), "model.norm.weight");
}

}  // namespace
}  // namespace quorum
