// Building a synthetic model: metadata as llama.cpp's converter writes it, the tokenizer copied
// from a real vocabulary, and tensors generated row by row from a counter-based RNG (so the
// result does not depend on the thread count).
#include <fmt/format.h>

#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

#include "core/fp16.h"
#include "core/mmap_file.h"
#include "synth/synth.h"

namespace quorum::synth {
namespace {

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

uint64_t hash_name(const std::string& s) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

enum class Init { kNormal, kOnes, kZeros };

struct TensorPlan {
  std::string name;
  std::vector<int64_t> ne;
  Init init;
  bool one_dim;  // norms, biases and rope factors stay F32, as llama.cpp's converter keeps them
};

std::vector<float> llama3_rope_factors(const Shape& s) {
  // Llama-3.1 "llama3" rope scaling with low_freq_factor 1, high_freq_factor 4 and an original
  // context of 8192: long wavelengths are slowed by the factor, short ones kept, a smooth ramp
  // between (the factors llama.cpp reads from rope_freqs.weight and divides theta by).
  const int64_t n_rot = s.n_embd / s.n_head;
  const double low = 1.0, high = 4.0, orig = 8192.0;
  const double low_wavelen = orig / low, high_wavelen = orig / high;
  std::vector<float> f;
  for (int64_t i = 0; i < n_rot; i += 2) {
    const double freq = 1.0 / std::pow(static_cast<double>(s.rope_base), static_cast<double>(i) / n_rot);
    const double wavelen = 2 * M_PI / freq;
    if (wavelen < high_wavelen) {
      f.push_back(1.0f);
    } else if (wavelen > low_wavelen) {
      f.push_back(s.llama3_rope_factor);
    } else {
      const double smooth = (orig / wavelen - low) / (high - low);
      f.push_back(static_cast<float>(1.0 / ((1 - smooth) / s.llama3_rope_factor + smooth)));
    }
  }
  return f;
}

std::vector<TensorPlan> plan(const Shape& s) {
  const int64_t hd = s.n_embd / s.n_head;
  std::vector<TensorPlan> t;
  t.push_back({"token_embd.weight", {s.n_embd, s.n_vocab}, Init::kNormal, false});
  for (int64_t l = 0; l < s.n_layer; ++l) {
    auto b = [&](const char* n) { return fmt::format("blk.{}.{}", l, n); };
    t.push_back({b("attn_norm.weight"), {s.n_embd}, Init::kOnes, true});
    t.push_back({b("attn_q.weight"), {s.n_embd, s.n_head * hd}, Init::kNormal, false});
    t.push_back({b("attn_k.weight"), {s.n_embd, s.n_head_kv * hd}, Init::kNormal, false});
    t.push_back({b("attn_v.weight"), {s.n_embd, s.n_head_kv * hd}, Init::kNormal, false});
    if (s.qkv_bias) {
      t.push_back({b("attn_q.bias"), {s.n_head * hd}, Init::kZeros, true});
      t.push_back({b("attn_k.bias"), {s.n_head_kv * hd}, Init::kZeros, true});
      t.push_back({b("attn_v.bias"), {s.n_head_kv * hd}, Init::kZeros, true});
    }
    t.push_back({b("attn_output.weight"), {s.n_head * hd, s.n_embd}, Init::kNormal, false});
    t.push_back({b("ffn_norm.weight"), {s.n_embd}, Init::kOnes, true});
    t.push_back({b("ffn_gate.weight"), {s.n_embd, s.n_ff}, Init::kNormal, false});
    t.push_back({b("ffn_up.weight"), {s.n_embd, s.n_ff}, Init::kNormal, false});
    t.push_back({b("ffn_down.weight"), {s.n_ff, s.n_embd}, Init::kNormal, false});
  }
  t.push_back({"output_norm.weight", {s.n_embd}, Init::kOnes, true});
  if (!s.tied_output) t.push_back({"output.weight", {s.n_embd, s.n_vocab}, Init::kNormal, false});
  return t;
}

// llama.cpp's `general.file_type` (enum llama_ftype) of an unquantized file.
uint32_t file_type_of(DType t) {
  switch (t) {
    case DType::kF32: return 0;
    case DType::kF16: return 1;
    case DType::kBF16: return 32;
    default: return 0;
  }
}

}  // namespace

float normal_at(uint64_t seed, uint64_t key, uint64_t i) {
  // Box-Muller on two uniforms drawn from one 64-bit hash; even/odd i take cos/sin.
  const uint64_t h = splitmix64(seed ^ splitmix64(key ^ splitmix64(i >> 1)));
  const double u1 = (static_cast<double>(h >> 40) + 0.5) / 16777216.0;         // (0, 1)
  const double u2 = static_cast<double>((h >> 16) & 0xFFFFFF) / 16777216.0;   // [0, 1)
  const double r = std::sqrt(-2.0 * std::log(u1));
  const double a = 2.0 * M_PI * u2;
  return static_cast<float>((i & 1) ? r * std::sin(a) : r * std::cos(a));
}

Result<std::vector<std::pair<std::string, gguf::Value>>> tokenizer_metadata_from_hf(
    const std::string& path, const std::string& pre, int64_t n_vocab) {
  QUORUM_ASSIGN_OR_RETURN(std::string text, read_text_file(path));
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const std::exception& e) {
    return Error(ErrorCode::kCorruptFile, "tokenizer.json is not valid JSON").where(path).actual(e.what());
  }
  const auto& model = j.value("model", nlohmann::json::object());
  if (model.value("type", "") != "BPE" || !model.contains("vocab") || !model.contains("merges")) {
    return Error(ErrorCode::kUnsupported, "only BPE tokenizer.json files are supported here").where(path);
  }
  std::vector<std::string> tokens(static_cast<size_t>(n_vocab));
  std::vector<int32_t> types(static_cast<size_t>(n_vocab), 4);  // user-defined padding by default
  std::vector<bool> set(static_cast<size_t>(n_vocab), false);
  auto put = [&](int64_t id, const std::string& s, int32_t type) -> Status {
    if (id < 0 || id >= n_vocab) {
      return Error(ErrorCode::kOutOfRange, "token id beyond the model's vocabulary")
          .where(path).expected(fmt::format("< {}", n_vocab)).actual(fmt::format("{} ('{}')", id, s));
    }
    tokens[id] = s;
    types[id] = type;
    set[id] = true;
    return Status::ok();
  };
  for (const auto& [tok, id] : model["vocab"].items()) QUORUM_TRY(put(id.get<int64_t>(), tok, 1));
  int64_t bos = -1, eos = -1, eot = -1;
  for (const auto& a : j.value("added_tokens", nlohmann::json::array())) {
    const std::string content = a.value("content", "");
    const int64_t id = a.value("id", -1);
    QUORUM_TRY(put(id, content, a.value("special", false) ? 3 : 4));
    if (content == "<|begin_of_text|>") bos = id;
    if (content == "<|end_of_text|>" || (eos < 0 && content == "<|endoftext|>")) eos = id;
    if (content == "<|eot_id|>" || content == "<|im_end|>") eot = id;
  }
  for (int64_t i = 0; i < n_vocab; ++i) {
    if (!set[i]) tokens[i] = fmt::format("[PAD{}]", i);
  }
  std::vector<std::string> merges;
  for (const auto& m : model["merges"]) {
    merges.push_back(m.is_string() ? m.get<std::string>()
                                   : m.at(0).get<std::string>() + " " + m.at(1).get<std::string>());
  }
  std::vector<gguf::Value> type_values;
  for (int32_t t : types) type_values.push_back(gguf::Value::i32(t));
  std::vector<std::pair<std::string, gguf::Value>> kv = {
      {"tokenizer.ggml.model", gguf::Value::str("gpt2")},
      {"tokenizer.ggml.pre", gguf::Value::str(pre)},
      {"tokenizer.ggml.tokens", gguf::Value::string_array(tokens)},
      {"tokenizer.ggml.token_type", gguf::Value::array(gguf::ValueType::kInt32, type_values)},
      {"tokenizer.ggml.merges", gguf::Value::string_array(merges)},
  };
  if (bos < 0) bos = eos;
  if (bos >= 0) kv.push_back({"tokenizer.ggml.bos_token_id", gguf::Value::u32(static_cast<uint32_t>(bos))});
  if (eos >= 0) kv.push_back({"tokenizer.ggml.eos_token_id", gguf::Value::u32(static_cast<uint32_t>(eos))});
  if (eot >= 0) kv.push_back({"tokenizer.ggml.eot_token_id", gguf::Value::u32(static_cast<uint32_t>(eot))});
  kv.push_back({"tokenizer.ggml.add_bos_token", gguf::Value::boolean(pre == "llama-bpe")});
  return kv;
}

Status build(const Shape& s, const SynthOptions& opts, ThreadPool& pool, gguf::Writer* w) {
  if (opts.type != DType::kF32 && opts.type != DType::kF16 && opts.type != DType::kBF16) {
    return Error(ErrorCode::kInvalidArgument, "synth writes F32, F16 or BF16")
        .actual(dtype_name(opts.type))
        .hint("quantize the result with `quorum quantize`");
  }
  const std::string a = s.arch;
  const int64_t hd = s.n_embd / s.n_head;
  w->set("general.architecture", gguf::Value::str(a));
  w->set("general.name", gguf::Value::str(std::string("synthetic ") + s.name));
  w->set(a + ".context_length", gguf::Value::u32(static_cast<uint32_t>(s.n_ctx)));
  w->set(a + ".embedding_length", gguf::Value::u32(static_cast<uint32_t>(s.n_embd)));
  w->set(a + ".block_count", gguf::Value::u32(static_cast<uint32_t>(s.n_layer)));
  w->set(a + ".feed_forward_length", gguf::Value::u32(static_cast<uint32_t>(s.n_ff)));
  w->set(a + ".rope.dimension_count", gguf::Value::u32(static_cast<uint32_t>(hd)));
  w->set(a + ".attention.head_count", gguf::Value::u32(static_cast<uint32_t>(s.n_head)));
  w->set(a + ".attention.head_count_kv", gguf::Value::u32(static_cast<uint32_t>(s.n_head_kv)));
  w->set(a + ".attention.layer_norm_rms_epsilon", gguf::Value::f32(s.rms_eps));
  w->set(a + ".rope.freq_base", gguf::Value::f32(s.rope_base));
  w->set(a + ".vocab_size", gguf::Value::u32(static_cast<uint32_t>(s.n_vocab)));
  w->set("general.file_type", gguf::Value::u32(file_type_of(opts.type)));

  const std::string vocab = opts.models_dir + "/" + s.vocab_path;
  if (s.vocab_source == VocabSource::kGguf) {
    QUORUM_ASSIGN_OR_RETURN(gguf::File v, gguf::File::open(vocab));
    QUORUM_ASSIGN_OR_RETURN(std::vector<std::string> toks, v.get_string_array("tokenizer.ggml.tokens"));
    if (static_cast<int64_t>(toks.size()) != s.n_vocab) {
      return Error(ErrorCode::kCorruptFile, "vocabulary size does not match the shape")
          .where(vocab).expected(std::to_string(s.n_vocab)).actual(std::to_string(toks.size()));
    }
    for (const auto& [k, val] : v.metadata()) {
      if (k.rfind("tokenizer.", 0) == 0) w->set(k, val);
    }
  } else {
    QUORUM_ASSIGN_OR_RETURN(auto kv, tokenizer_metadata_from_hf(vocab, s.bpe_pre, s.n_vocab));
    for (auto& [k, val] : kv) w->set(k, std::move(val));
  }

  if (s.llama3_rope_factor > 0) {
    const std::vector<float> f = llama3_rope_factors(s);
    std::vector<uint8_t> bytes(f.size() * 4);
    std::memcpy(bytes.data(), f.data(), bytes.size());
    QUORUM_TRY(w->add_tensor("rope_freqs.weight", DType::kF32, {static_cast<int64_t>(f.size())}, std::move(bytes)));
  }
  for (const TensorPlan& t : plan(s)) {
    const DType type = t.one_dim ? DType::kF32 : opts.type;
    const uint64_t key = hash_name(t.name);
    const uint64_t seed = opts.seed;
    const int64_t row = t.ne[0];
    const Init init = t.init;
    QUORUM_TRY(w->add_tensor_lazy(t.name, type, t.ne, [=, &pool](uint8_t* out, size_t nbytes) {
      const int64_t rows = static_cast<int64_t>(nbytes / row_size(type, row));
      const TypeTraits& tr = traits(type);
      pool.parallel_for(rows, 16, [&](int64_t r0, int64_t r1, int) {
        std::vector<float> buf(static_cast<size_t>(row));
        for (int64_t r = r0; r < r1; ++r) {
          for (int64_t i = 0; i < row; ++i) {
            buf[i] = init == Init::kOnes    ? 1.0f
                     : init == Init::kZeros ? 0.0f
                                            : 0.02f * normal_at(seed, key, static_cast<uint64_t>(r * row + i));
          }
          tr.from_float(buf.data(), out + r * row_size(type, row), row);
        }
      });
      return Status::ok();
    }));
  }
  return Status::ok();
}

}  // namespace quorum::synth
