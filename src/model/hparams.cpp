// Reading HParams from GGUF metadata, with the same defaults llama.cpp applies.
#include "model/hparams.h"

#include <fmt/format.h>

namespace quorum {

namespace {

Status require_positive(const std::string& key, int64_t v) {
  if (v > 0) return Status::ok();
  return Error(ErrorCode::kCorruptFile, "hyper-parameter must be positive")
      .where(key)
      .expected("> 0")
      .actual(std::to_string(v));
}

}  // namespace

Result<HParams> read_hparams(const gguf::File& f) {
  HParams hp;
  QUORUM_ASSIGN_OR_RETURN(hp.arch, f.get_string("general.architecture"));
  const std::string p = hp.arch + ".";
  QUORUM_ASSIGN_OR_RETURN(hp.n_embd, f.get_int(p + "embedding_length"));
  QUORUM_ASSIGN_OR_RETURN(hp.n_layer, f.get_int(p + "block_count"));
  QUORUM_ASSIGN_OR_RETURN(hp.n_head, f.get_int(p + "attention.head_count"));
  QUORUM_ASSIGN_OR_RETURN(hp.n_ff, f.get_int(p + "feed_forward_length"));
  QUORUM_TRY(require_positive(p + "embedding_length", hp.n_embd));
  QUORUM_TRY(require_positive(p + "block_count", hp.n_layer));
  QUORUM_TRY(require_positive(p + "attention.head_count", hp.n_head));
  QUORUM_TRY(require_positive(p + "feed_forward_length", hp.n_ff));
  QUORUM_ASSIGN_OR_RETURN(hp.n_head_kv, f.get_int_or(p + "attention.head_count_kv", hp.n_head));
  QUORUM_TRY(require_positive(p + "attention.head_count_kv", hp.n_head_kv));
  if (hp.n_head % hp.n_head_kv != 0) {
    return Error(ErrorCode::kCorruptFile, "query heads are not a multiple of key/value heads")
        .where(p + "attention.head_count_kv")
        .expected(fmt::format("a divisor of head_count {}", hp.n_head))
        .actual(std::to_string(hp.n_head_kv));
  }
  if (hp.n_embd % hp.n_head != 0 && !f.has(p + "attention.key_length")) {
    return Error(ErrorCode::kCorruptFile, "embedding length is not a multiple of head count")
        .where(p + "embedding_length")
        .expected(fmt::format("a multiple of {}", hp.n_head))
        .actual(std::to_string(hp.n_embd));
  }
  QUORUM_ASSIGN_OR_RETURN(hp.head_dim, f.get_int_or(p + "attention.key_length", hp.n_embd / hp.n_head));
  QUORUM_TRY(require_positive(p + "attention.key_length", hp.head_dim));
  QUORUM_ASSIGN_OR_RETURN(hp.n_rot, f.get_int_or(p + "rope.dimension_count", hp.head_dim));
  if (hp.n_rot <= 0 || hp.n_rot > hp.head_dim || hp.n_rot % 2 != 0) {
    return Error(ErrorCode::kCorruptFile, "invalid rotary dimension count")
        .where(p + "rope.dimension_count")
        .expected(fmt::format("an even number in [2, {}]", hp.head_dim))
        .actual(std::to_string(hp.n_rot));
  }
  QUORUM_ASSIGN_OR_RETURN(hp.n_ctx_train, f.get_int_or(p + "context_length", 2048));
  QUORUM_TRY(require_positive(p + "context_length", hp.n_ctx_train));
  QUORUM_ASSIGN_OR_RETURN(double base, f.get_float_or(p + "rope.freq_base", 10000.0));
  hp.rope_freq_base = static_cast<float>(base);
  QUORUM_ASSIGN_OR_RETURN(double eps, f.get_float_or(p + "attention.layer_norm_rms_epsilon", 1e-5));
  hp.norm_rms_eps = static_cast<float>(eps);

  // RoPE scaling: linear divides positions by the factor; llama3 uses rope_freqs.weight factors
  // (bound by the architecture), so only the type is recorded here.
  QUORUM_ASSIGN_OR_RETURN(std::string scaling, f.get_string_or(p + "rope.scaling.type", "none"));
  if (scaling == "linear") {
    QUORUM_ASSIGN_OR_RETURN(double factor, f.get_float_or(p + "rope.scaling.factor", 1.0));
    if (factor <= 0) {
      return Error(ErrorCode::kCorruptFile, "rope scaling factor must be positive")
          .where(p + "rope.scaling.factor")
          .actual(fmt::format("{}", factor));
    }
    hp.rope_scaling = RopeScaling::kLinear;
    hp.rope_freq_scale = static_cast<float>(1.0 / factor);
  } else if (scaling == "llama3") {
    hp.rope_scaling = RopeScaling::kLlama3;
  } else if (scaling != "none") {
    return Error(ErrorCode::kUnsupported, "rope scaling type not supported")
        .where(p + "rope.scaling.type")
        .expected("none, linear or llama3")
        .actual(scaling);
  }

  if (const gguf::Value* tokens = f.find("tokenizer.ggml.tokens"); tokens != nullptr) {
    hp.n_vocab = static_cast<int64_t>(tokens->arr.size());
  } else if (const gguf::TensorInfo* emb = f.find_tensor("token_embd.weight");
             emb != nullptr && emb->ne.size() == 2) {
    hp.n_vocab = emb->ne[1];
  }
  QUORUM_TRY(require_positive("vocabulary size (tokenizer.ggml.tokens)", hp.n_vocab));
  return hp;
}

}  // namespace quorum
