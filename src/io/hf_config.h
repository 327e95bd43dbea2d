// Hugging Face <-> GGUF vocabulary: config.json hyper-parameters to GGUF metadata keys and back,
// tensor names both ways, and the Q/K row permutation between HF's rotate-half RoPE layout and
// GGUF's interleaved-pair layout (llama-arch models only; Qwen2 and Phi-3 use rotate-half in
// llama.cpp too, so their rows stay as they are).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "io/gguf.h"

namespace quorum::hf {

// One supported Hugging Face architecture.
struct ArchInfo {
  const char* hf_name;    // config.json "architectures"[0]
  const char* model_type; // config.json "model_type"
  const char* gguf_arch;  // general.architecture
  bool permute_qk;        // Q/K rows need the rotate-half <-> interleaved permutation
};
const std::vector<ArchInfo>& supported_architectures();
// By config.json "architectures"[0]; Unsupported error naming it if unknown.
Result<ArchInfo> arch_from_config(const nlohmann::json& config, const std::string& where);
// By general.architecture (first match: llama -> LlamaForCausalLM).
Result<ArchInfo> arch_from_gguf(const std::string& gguf_arch);

using Metadata = std::vector<std::pair<std::string, gguf::Value>>;

// Extra tensors a config implies (llama3 rope scaling -> rope_freqs.weight, ne = [head_dim/2]).
struct ConfigTensor {
  std::string name;
  std::vector<float> data;
};

struct ConfigResult {
  ArchInfo arch;
  Metadata metadata;                  // general.architecture, {arch}.* and bos/eos ids
  std::vector<ConfigTensor> tensors;  // owned F32 tensors to add
  int64_t n_head = 0, n_head_kv = 0;  // for the Q/K permutation
  bool tie_word_embeddings = false;
};
Result<ConfigResult> config_to_gguf(const nlohmann::json& config, const std::string& where);
// The config.json that describes `f` (a GGUF in our vocabulary); torch_dtype from `dtype`.
Result<nlohmann::json> gguf_to_config(const gguf::File& f, const std::string& torch_dtype);

// "model.layers.3.self_attn.q_proj.weight" -> "blk.3.attn_q.weight"; "" for tensors to drop
// (rotary_emb.inv_freq); Unsupported naming the tensor if unknown.
Result<std::string> hf_to_gguf_name(const std::string& hf_name, const std::string& where);
Result<std::string> gguf_to_hf_name(const std::string& gguf_name, const ArchInfo& arch);

enum class PermuteDirection { kHfToGguf, kGgufToHf };
// Reorders the rows of a Q or K weight (or bias) of `n_rows` rows of `row_bytes` bytes each,
// n_rows = n_head * head_dim: within each head, HF row s * head_dim/2 + j <-> GGUF row 2j + s.
Status permute_qk_rows(const uint8_t* src, uint8_t* dst, int64_t n_rows, size_t row_bytes,
                       int64_t n_head, PermuteDirection dir);

// The GGUF metadata of a file, packed into a string (base64 of a tensor-less GGUF) so a
// safetensors `__metadata__` can carry a tokenizer and every key exactly; and back.
Result<std::string> pack_gguf_metadata(const gguf::File& f);
Result<Metadata> unpack_gguf_metadata(const std::string& packed, const std::string& where);
inline constexpr const char* kPackedMetadataKey = "quorum.gguf_metadata";

}  // namespace quorum::hf
