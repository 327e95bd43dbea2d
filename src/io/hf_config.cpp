// Hugging Face config.json / tensor names <-> GGUF keys / tensor names, and the Q/K permutation.
// Key names and the permutation follow llama.cpp's convert_hf_to_gguf.py (facts of the format).
#include "io/hf_config.h"

#include <fmt/format.h>

#include <cmath>
#include <cstring>
#include <regex>

namespace quorum::hf {
namespace {

using nlohmann::json;
using gguf::Value;

// HF layer-tensor suffix <-> GGUF layer-tensor suffix.
struct NamePair {
  const char* hf;
  const char* gguf;
};
constexpr NamePair kLayerNames[] = {
    {"input_layernorm.weight", "attn_norm.weight"},
    {"post_attention_layernorm.weight", "ffn_norm.weight"},
    {"self_attn.q_proj.weight", "attn_q.weight"},
    {"self_attn.q_proj.bias", "attn_q.bias"},
    {"self_attn.k_proj.weight", "attn_k.weight"},
    {"self_attn.k_proj.bias", "attn_k.bias"},
    {"self_attn.v_proj.weight", "attn_v.weight"},
    {"self_attn.v_proj.bias", "attn_v.bias"},
    {"self_attn.o_proj.weight", "attn_output.weight"},
    {"self_attn.o_proj.bias", "attn_output.bias"},
    {"self_attn.qkv_proj.weight", "attn_qkv.weight"},  // Phi-3: fused, kept fused as llama.cpp does
    {"mlp.gate_proj.weight", "ffn_gate.weight"},
    {"mlp.up_proj.weight", "ffn_up.weight"},
    {"mlp.down_proj.weight", "ffn_down.weight"},
    {"mlp.gate_up_proj.weight", "ffn_up.weight"},  // Phi-3: gate and up stacked in ffn_up
};
constexpr NamePair kGlobalNames[] = {
    {"model.embed_tokens.weight", "token_embd.weight"},
    {"model.norm.weight", "output_norm.weight"},
    {"lm_head.weight", "output.weight"},
};

Result<int64_t> get_int(const json& c, const char* key, const std::string& where) {
  auto it = c.find(key);
  if (it == c.end() || !it->is_number_integer() || it->get<int64_t>() <= 0) {
    return Error(ErrorCode::kCorruptFile, fmt::format("config.json lacks a positive '{}'", key))
        .where(where)
        .actual(it == c.end() ? "missing" : it->dump());
  }
  return it->get<int64_t>();
}

int64_t get_int_or(const json& c, const char* key, int64_t def) {
  auto it = c.find(key);
  return (it != c.end() && it->is_number_integer() && it->get<int64_t>() > 0) ? it->get<int64_t>()
                                                                                 : def;
}

double get_float_or(const json& c, const char* key, double def) {
  auto it = c.find(key);
  return (it != c.end() && it->is_number()) ? it->get<double>() : def;
}

// llama3 rope scaling: one factor per rotary frequency (llama.cpp's rope_freqs tensor).
std::vector<float> llama3_rope_factors(double theta, int64_t head_dim, double factor,
                                       double low_freq_factor, double high_freq_factor,
                                       double old_context) {
  const double low_wavelen = old_context / low_freq_factor;
  const double high_wavelen = old_context / high_freq_factor;
  std::vector<float> out;
  for (int64_t i = 0; i < head_dim; i += 2) {
    const double freq = 1.0 / std::pow(theta, static_cast<double>(i) / head_dim);
    const double wavelen = 2 * M_PI / freq;
    if (wavelen < high_wavelen) {
      out.push_back(1.0f);
    } else if (wavelen > low_wavelen) {
      out.push_back(static_cast<float>(factor));
    } else {
      const double smooth =
          (old_context / wavelen - low_freq_factor) / (high_freq_factor - low_freq_factor);
      out.push_back(static_cast<float>(1.0 / ((1 - smooth) / factor + smooth)));
    }
  }
  return out;
}

}  // namespace

const std::vector<ArchInfo>& supported_architectures() {
  static const std::vector<ArchInfo> kArchs = {
      {"LlamaForCausalLM", "llama", "llama", true},
      {"MistralForCausalLM", "mistral", "llama", true},
      {"Qwen2ForCausalLM", "qwen2", "qwen2", false},
      {"Phi3ForCausalLM", "phi3", "phi3", false},
  };
  return kArchs;
}

Result<ArchInfo> arch_from_config(const json& config, const std::string& where) {
  auto it = config.find("architectures");
  if (it == config.end() || !it->is_array() || it->empty() || !(*it)[0].is_string()) {
    return Error(ErrorCode::kCorruptFile, "config.json has no \"architectures\" list").where(where);
  }
  const std::string name = (*it)[0].get<std::string>();
  std::string known;
  for (const ArchInfo& a : supported_architectures()) {
    if (name == a.hf_name) return a;
    known += (known.empty() ? "" : ", ") + std::string(a.hf_name);
  }
  return Error(ErrorCode::kUnsupported, "unsupported architecture '" + name + "'")
      .where(where)
      .expected(known);
}

Result<ArchInfo> arch_from_gguf(const std::string& gguf_arch) {
  for (const ArchInfo& a : supported_architectures()) {
    if (gguf_arch == a.gguf_arch) return a;
  }
  return Error(ErrorCode::kUnsupported,
               "architecture '" + gguf_arch + "' has no Hugging Face equivalent here")
      .expected("llama, qwen2 or phi3");
}

Result<ConfigResult> config_to_gguf(const json& c, const std::string& where) {
  if (!c.is_object()) return Error(ErrorCode::kCorruptFile, "config.json is not an object").where(where);
  ConfigResult r;
  QUORUM_ASSIGN_OR_RETURN(r.arch, arch_from_config(c, where));
  const std::string a = r.arch.gguf_arch;
  QUORUM_ASSIGN_OR_RETURN(const int64_t hidden, get_int(c, "hidden_size", where));
  QUORUM_ASSIGN_OR_RETURN(const int64_t ff, get_int(c, "intermediate_size", where));
  QUORUM_ASSIGN_OR_RETURN(const int64_t n_layer, get_int(c, "num_hidden_layers", where));
  QUORUM_ASSIGN_OR_RETURN(r.n_head, get_int(c, "num_attention_heads", where));
  r.n_head_kv = get_int_or(c, "num_key_value_heads", r.n_head);
  const int64_t head_dim = get_int_or(c, "head_dim", hidden / r.n_head);
  const double theta = get_float_or(c, "rope_theta", 10000.0);
  auto u32 = [](int64_t v) { return Value::u32(static_cast<uint32_t>(v)); };
  Metadata& m = r.metadata;
  m.emplace_back("general.architecture", Value::str(a));
  m.emplace_back(a + ".context_length", u32(get_int_or(c, "max_position_embeddings", 2048)));
  m.emplace_back(a + ".embedding_length", u32(hidden));
  m.emplace_back(a + ".feed_forward_length", u32(ff));
  m.emplace_back(a + ".block_count", u32(n_layer));
  m.emplace_back(a + ".attention.head_count", u32(r.n_head));
  m.emplace_back(a + ".attention.head_count_kv", u32(r.n_head_kv));
  m.emplace_back(a + ".rope.freq_base", Value::f32(static_cast<float>(theta)));
  m.emplace_back(a + ".attention.layer_norm_rms_epsilon",
                 Value::f32(static_cast<float>(get_float_or(c, "rms_norm_eps", 1e-6))));
  double rotary = head_dim * get_float_or(c, "partial_rotary_factor", 1.0);
  m.emplace_back(a + ".rope.dimension_count", u32(static_cast<int64_t>(rotary)));
  if (head_dim != hidden / r.n_head) {
    m.emplace_back(a + ".attention.key_length", u32(head_dim));
    m.emplace_back(a + ".attention.value_length", u32(head_dim));
  }
  if (auto sw = c.find("sliding_window"); a == "phi3" && sw != c.end() && sw->is_number_integer()) {
    m.emplace_back(a + ".attention.sliding_window", u32(sw->get<int64_t>()));
  }
  if (auto rs = c.find("rope_scaling"); rs != c.end() && !rs->is_null()) {
    std::string type;
    if (rs->is_object()) {
      for (const char* k : {"rope_type", "type"}) {
        if (rs->contains(k) && (*rs)[k].is_string()) type = (*rs)[k].get<std::string>();
      }
    }
    const double factor = rs->is_object() ? get_float_or(*rs, "factor", 1.0) : 1.0;
    if (type == "linear") {
      m.emplace_back(a + ".rope.scaling.type", Value::str("linear"));
      m.emplace_back(a + ".rope.scaling.factor", Value::f32(static_cast<float>(factor)));
    } else if (type == "llama3") {
      r.tensors.push_back({"rope_freqs.weight",
                           llama3_rope_factors(theta, head_dim, factor,
                                               get_float_or(*rs, "low_freq_factor", 1.0),
                                               get_float_or(*rs, "high_freq_factor", 4.0),
                                               get_float_or(*rs, "original_max_position_embeddings",
                                                            8192.0))});
    } else if (type != "default") {
      return Error(ErrorCode::kUnsupported, "unsupported rope_scaling type '" + type + "'")
          .where(where)
          .expected("linear or llama3")
          .actual(rs->dump());
    }
  }
  for (const char* k : {"bos_token_id", "eos_token_id"}) {
    auto it = c.find(k);
    if (it == c.end()) continue;
    const json& v = it->is_array() && !it->empty() ? (*it)[0] : *it;
    if (v.is_number_integer() && v.get<int64_t>() >= 0) {
      m.emplace_back(fmt::format("tokenizer.ggml.{}", k), u32(v.get<int64_t>()));
    }
  }
  auto tie = c.find("tie_word_embeddings");
  r.tie_word_embeddings = tie != c.end() && tie->is_boolean() && tie->get<bool>();
  return r;
}

Result<json> gguf_to_config(const gguf::File& f, const std::string& torch_dtype) {
  QUORUM_ASSIGN_OR_RETURN(const std::string a, f.get_string("general.architecture"));
  QUORUM_ASSIGN_OR_RETURN(const ArchInfo arch, arch_from_gguf(a));
  json c;
  c["architectures"] = {arch.hf_name};
  c["model_type"] = arch.model_type;
  QUORUM_ASSIGN_OR_RETURN(const int64_t hidden, f.get_int(a + ".embedding_length"));
  QUORUM_ASSIGN_OR_RETURN(const int64_t n_head, f.get_int(a + ".attention.head_count"));
  c["hidden_size"] = hidden;
  QUORUM_ASSIGN_OR_RETURN(c["intermediate_size"], f.get_int(a + ".feed_forward_length"));
  QUORUM_ASSIGN_OR_RETURN(c["num_hidden_layers"], f.get_int(a + ".block_count"));
  c["num_attention_heads"] = n_head;
  QUORUM_ASSIGN_OR_RETURN(c["num_key_value_heads"], f.get_int_or(a + ".attention.head_count_kv", n_head));
  QUORUM_ASSIGN_OR_RETURN(const int64_t head_dim, f.get_int_or(a + ".attention.key_length", hidden / n_head));
  c["head_dim"] = head_dim;
  QUORUM_ASSIGN_OR_RETURN(c["max_position_embeddings"], f.get_int_or(a + ".context_length", 2048));
  QUORUM_ASSIGN_OR_RETURN(c["rms_norm_eps"], f.get_float_or(a + ".attention.layer_norm_rms_epsilon", 1e-6));
  QUORUM_ASSIGN_OR_RETURN(c["rope_theta"], f.get_float_or(a + ".rope.freq_base", 10000.0));
  QUORUM_ASSIGN_OR_RETURN(const int64_t rot, f.get_int_or(a + ".rope.dimension_count", head_dim));
  if (rot != head_dim) c["partial_rotary_factor"] = static_cast<double>(rot) / head_dim;
  if (f.has(a + ".rope.scaling.type")) {
    QUORUM_ASSIGN_OR_RETURN(const std::string t, f.get_string(a + ".rope.scaling.type"));
    if (t != "linear" && t != "none") {
      return Error(ErrorCode::kUnsupported, "rope scaling type '" + t + "' has no config.json form");
    }
    QUORUM_ASSIGN_OR_RETURN(const double factor, f.get_float_or(a + ".rope.scaling.factor", 1.0));
    if (t == "linear") c["rope_scaling"] = {{"type", "linear"}, {"factor", factor}};
  }
  if (f.find_tensor("rope_freqs.weight") != nullptr) {
    return Error(ErrorCode::kUnsupported,
                 "llama3 rope_freqs cannot be turned back into a config.json rope_scaling")
        .where(f.path());
  }
  if (const gguf::TensorInfo* emb = f.find_tensor("token_embd.weight"); emb && emb->ne.size() == 2) {
    c["vocab_size"] = emb->ne[1];
  }
  c["tie_word_embeddings"] = f.find_tensor("output.weight") == nullptr;
  for (const char* k : {"bos_token_id", "eos_token_id"}) {
    const std::string key = fmt::format("tokenizer.ggml.{}", k);
    if (f.has(key)) {
      QUORUM_ASSIGN_OR_RETURN(c[k], f.get_int(key));
    }
  }
  c["hidden_act"] = "silu";
  c["torch_dtype"] = torch_dtype;
  return c;
}

Result<std::string> hf_to_gguf_name(const std::string& hf_name, const std::string& where) {
  for (const NamePair& p : kGlobalNames) {
    if (hf_name == p.hf) return std::string(p.gguf);
  }
  static const std::regex kLayer(R"(model\.layers\.(\d+)\.(.+))");
  std::smatch mt;
  if (std::regex_match(hf_name, mt, kLayer)) {
    const std::string rest = mt[2].str();
    if (rest.ends_with("rotary_emb.inv_freq")) return std::string();
    for (const NamePair& p : kLayerNames) {
      if (rest == p.hf) return fmt::format("blk.{}.{}", mt[1].str(), p.gguf);
    }
  }
  return Error(ErrorCode::kUnsupported, "unknown Hugging Face tensor '" + hf_name + "'")
      .where(where)
      .hint("the architecture has tensors this importer does not map");
}

Result<std::string> gguf_to_hf_name(const std::string& gguf_name, const ArchInfo& arch) {
  for (const NamePair& p : kGlobalNames) {
    if (gguf_name == p.gguf) return std::string(p.hf);
  }
  static const std::regex kBlock(R"(blk\.(\d+)\.(.+))");
  std::smatch mt;
  if (std::regex_match(gguf_name, mt, kBlock)) {
    const std::string rest = mt[2].str();
    const bool phi3 = std::string(arch.gguf_arch) == "phi3";
    for (const NamePair& p : kLayerNames) {
      if (rest != p.gguf) continue;
      if (rest == "ffn_up.weight" && phi3 != (std::string(p.hf) == "mlp.gate_up_proj.weight")) continue;
      return fmt::format("model.layers.{}.{}", mt[1].str(), p.hf);
    }
  }
  return Error(ErrorCode::kUnsupported, "tensor '" + gguf_name + "' has no Hugging Face name")
      .expected("token_embd, output_norm, output and blk.N.{attn,ffn}_* tensors");
}

Status permute_qk_rows(const uint8_t* src, uint8_t* dst, int64_t n_rows, size_t row_bytes,
                       int64_t n_head, PermuteDirection dir) {
  if (n_head <= 0 || n_rows % (2 * n_head) != 0) {
    return Error(ErrorCode::kCorruptFile, "Q/K rows do not split into heads of even size")
        .expected(fmt::format("rows divisible by 2 x {} heads", n_head))
        .actual(fmt::format("{} rows", n_rows));
  }
  const int64_t head_dim = n_rows / n_head;
  const int64_t half = head_dim / 2;
  for (int64_t h = 0; h < n_head; ++h) {
    for (int64_t s = 0; s < 2; ++s) {
      for (int64_t j = 0; j < half; ++j) {
        const int64_t hf_row = h * head_dim + s * half + j;
        const int64_t gg_row = h * head_dim + 2 * j + s;
        const int64_t from = dir == PermuteDirection::kHfToGguf ? hf_row : gg_row;
        const int64_t to = dir == PermuteDirection::kHfToGguf ? gg_row : hf_row;
        std::memcpy(dst + to * row_bytes, src + from * row_bytes, row_bytes);
      }
    }
  }
  return Status::ok();
}

namespace {
constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
}  // namespace

Result<std::string> pack_gguf_metadata(const gguf::File& f) {
  gguf::Writer w;
  w.copy_metadata(f);
  QUORUM_ASSIGN_OR_RETURN(const std::vector<uint8_t> b, w.to_bytes());
  std::string out;
  out.reserve((b.size() + 2) / 3 * 4);
  for (size_t i = 0; i < b.size(); i += 3) {
    const uint32_t v = (uint32_t(b[i]) << 16) | (i + 1 < b.size() ? uint32_t(b[i + 1]) << 8 : 0) |
                       (i + 2 < b.size() ? uint32_t(b[i + 2]) : 0);
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += i + 1 < b.size() ? kB64[(v >> 6) & 63] : '=';
    out += i + 2 < b.size() ? kB64[v & 63] : '=';
  }
  return out;
}

Result<Metadata> unpack_gguf_metadata(const std::string& packed, const std::string& where) {
  auto bad = [&]() {
    return Error(ErrorCode::kCorruptFile, std::string(kPackedMetadataKey) + " is not valid base64")
        .where(where);
  };
  if (packed.size() % 4 != 0) return bad();
  auto b = std::make_shared<std::vector<uint8_t>>();
  b->reserve(packed.size() / 4 * 3);
  for (size_t i = 0; i < packed.size(); i += 4) {
    uint32_t v = 0;
    int pad = 0;
    for (size_t k = 0; k < 4; ++k) {
      const char ch = packed[i + k];
      const char* pos = std::strchr(kB64, ch);
      if (ch == '=' && i + 4 == packed.size() && k >= 2) {
        ++pad;
        v <<= 6;
      } else if (ch != 0 && pos != nullptr && pad == 0) {
        v = (v << 6) | static_cast<uint32_t>(pos - kB64);
      } else {
        return bad();
      }
    }
    b->push_back(static_cast<uint8_t>(v >> 16));
    if (pad < 2) b->push_back(static_cast<uint8_t>(v >> 8));
    if (pad < 1) b->push_back(static_cast<uint8_t>(v));
  }
  auto f = gguf::File::parse(b->data(), b->size(), where + " (" + kPackedMetadataKey + ")", b);
  if (!f) return f.status();
  return f->metadata();
}

}  // namespace quorum::hf
