// Hyper-parameters of a decoder-only transformer, read from GGUF metadata under the
// architecture's prefix (`llama.embedding_length`, `qwen2.attention.head_count`, ...).
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"
#include "io/gguf.h"

namespace quorum {

enum class RopeScaling { kNone, kLinear, kLlama3 };

struct HParams {
  std::string arch;          // "llama", "qwen2", "phi3"
  int64_t n_vocab = 0;       // from tokenizer.ggml.tokens (or token_embd rows)
  int64_t n_ctx_train = 0;   // <arch>.context_length
  int64_t n_embd = 0;        // <arch>.embedding_length
  int64_t n_layer = 0;       // <arch>.block_count
  int64_t n_head = 0;        // <arch>.attention.head_count
  int64_t n_head_kv = 0;     // <arch>.attention.head_count_kv (defaults to n_head)
  int64_t n_ff = 0;          // <arch>.feed_forward_length
  int64_t head_dim = 0;      // n_embd / n_head (or <arch>.attention.key_length)
  int64_t n_rot = 0;         // <arch>.rope.dimension_count (defaults to head_dim)
  float rope_freq_base = 10000.0f;   // <arch>.rope.freq_base
  float rope_freq_scale = 1.0f;      // 1 / <arch>.rope.scaling.factor for linear scaling
  RopeScaling rope_scaling = RopeScaling::kNone;
  float norm_rms_eps = 1e-5f;        // <arch>.attention.layer_norm_rms_epsilon

  int64_t n_embd_kv() const { return n_head_kv * head_dim; }  // K (or V) width per token
  int64_t n_gqa() const { return n_head / n_head_kv; }        // query heads per KV head
};

// Reads and validates the hyper-parameters of `file` (architecture from general.architecture).
Result<HParams> read_hparams(const gguf::File& file);

}  // namespace quorum
