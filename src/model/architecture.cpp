// The architecture table (llama, qwen2, phi3) and the shape-checked tensor binder.
#include "model/architecture.h"

#include <fmt/format.h>

#include "core/fp16.h"

namespace quorum {

namespace {

std::string shape_str(const std::vector<int64_t>& ne) {
  std::string s = "[";
  for (size_t i = 0; i < ne.size(); ++i) s += (i ? ", " : "") + std::to_string(ne[i]);
  return s + "]";
}

Error missing(const std::string& name) {
  return Error(ErrorCode::kNotFound, fmt::format("tensor '{}' is missing", name))
      .hint("the file is incomplete or was written for another architecture");
}

Error bad_shape(const std::string& name, const std::vector<int64_t>& expected,
                const std::vector<int64_t>& actual) {
  return Error(ErrorCode::kCorruptFile, fmt::format("tensor '{}' has the wrong shape", name))
      .expected(shape_str(expected))
      .actual(shape_str(actual));
}

}  // namespace

Result<Weight> TensorBinder::matrix(const std::string& name, int64_t k, int64_t rows) const {
  const gguf::TensorInfo* t = file_.find_tensor(name);
  if (t == nullptr) return missing(name);
  const std::vector<int64_t> want = {k, rows};
  std::vector<int64_t> got = t->ne;
  while (got.size() > 2 && got.back() == 1) got.pop_back();
  if (got != want) return bad_shape(name, want, t->ne);
  const TypeTraits& tr = traits(t->type);
  if (k % tr.block_size != 0) {
    return Error(ErrorCode::kCorruptFile, fmt::format("tensor '{}' rows do not fill whole blocks", name))
        .expected(fmt::format("row length a multiple of {} for {}", tr.block_size, tr.name))
        .actual(std::to_string(k));
  }
  Weight w;
  w.type = t->type;
  w.data = t->data;
  w.k = k;
  w.rows = rows;
  return w;
}

Result<Weight> TensorBinder::matrix_optional(const std::string& name, int64_t k,
                                             int64_t rows) const {
  if (!has(name)) return Weight{};
  return matrix(name, k, rows);
}

Result<Vector> TensorBinder::vector(const std::string& name, int64_t n) const {
  const gguf::TensorInfo* t = file_.find_tensor(name);
  if (t == nullptr) return missing(name);
  if (t->n_elements() != n || t->ne[0] != n) return bad_shape(name, {n}, t->ne);
  Vector v;
  v.n = n;
  if (t->type == DType::kF32) {
    v.data = reinterpret_cast<const float*>(t->data);
    return v;
  }
  const TypeTraits& tr = traits(t->type);
  if (tr.to_float == nullptr || n % tr.block_size != 0) {
    return Error(ErrorCode::kUnsupported, fmt::format("tensor '{}' has a type we cannot read", name))
        .expected("f32, f16, bf16 or a type with a dequantizer")
        .actual(tr.name);
  }
  v.owned = std::make_shared<std::vector<float>>(static_cast<size_t>(n));
  tr.to_float(t->data, v.owned->data(), n);
  v.data = v.owned->data();
  return v;
}

Result<Vector> TensorBinder::vector_optional(const std::string& name, int64_t n) const {
  if (!has(name)) return Vector{};
  return vector(name, n);
}

namespace {

std::string blk(int64_t i, const char* what) { return fmt::format("blk.{}.{}", i, what); }

// Shared by every architecture: embeddings, output norm and output (tied when absent).
Status bind_common(const TensorBinder& b, const HParams& hp, ModelWeights& w) {
  QUORUM_ASSIGN_OR_RETURN(w.token_embd, b.matrix("token_embd.weight", hp.n_embd, hp.n_vocab));
  QUORUM_ASSIGN_OR_RETURN(w.output_norm, b.vector("output_norm.weight", hp.n_embd));
  QUORUM_ASSIGN_OR_RETURN(w.output, b.matrix_optional("output.weight", hp.n_embd, hp.n_vocab));
  if (!w.output.present()) w.output = w.token_embd;  // tied embeddings
  return Status::ok();
}

Status bind_ffn(const TensorBinder& b, const HParams& hp, int64_t i, LayerWeights& l) {
  QUORUM_ASSIGN_OR_RETURN(l.ffn_norm, b.vector(blk(i, "ffn_norm.weight"), hp.n_embd));
  QUORUM_ASSIGN_OR_RETURN(l.ffn_gate, b.matrix(blk(i, "ffn_gate.weight"), hp.n_embd, hp.n_ff));
  QUORUM_ASSIGN_OR_RETURN(l.ffn_up, b.matrix(blk(i, "ffn_up.weight"), hp.n_embd, hp.n_ff));
  QUORUM_ASSIGN_OR_RETURN(l.ffn_down, b.matrix(blk(i, "ffn_down.weight"), hp.n_ff, hp.n_embd));
  return Status::ok();
}

// llama: Llama 1/2/3 (incl. llama3 rope scaling through rope_freqs.weight), Mistral, SmolLM,
// TinyLlama. GGUF stores Q/K rows permuted for the "normal" (adjacent pairs) RoPE.
Result<ArchitectureBinding> bind_llama(const TensorBinder& b, const HParams& hp) {
  ArchitectureBinding out;
  out.rope = RopeKind::kNormal;
  ModelWeights& w = out.weights;
  QUORUM_TRY(bind_common(b, hp, w));
  QUORUM_ASSIGN_OR_RETURN(w.rope_freqs, b.vector_optional("rope_freqs.weight", hp.n_rot / 2));
  const int64_t q_dim = hp.n_head * hp.head_dim;
  w.layers.resize(static_cast<size_t>(hp.n_layer));
  for (int64_t i = 0; i < hp.n_layer; ++i) {
    LayerWeights& l = w.layers[static_cast<size_t>(i)];
    QUORUM_ASSIGN_OR_RETURN(l.attn_norm, b.vector(blk(i, "attn_norm.weight"), hp.n_embd));
    QUORUM_ASSIGN_OR_RETURN(l.wq, b.matrix(blk(i, "attn_q.weight"), hp.n_embd, q_dim));
    QUORUM_ASSIGN_OR_RETURN(l.wk, b.matrix(blk(i, "attn_k.weight"), hp.n_embd, hp.n_embd_kv()));
    QUORUM_ASSIGN_OR_RETURN(l.wv, b.matrix(blk(i, "attn_v.weight"), hp.n_embd, hp.n_embd_kv()));
    QUORUM_ASSIGN_OR_RETURN(l.wo, b.matrix(blk(i, "attn_output.weight"), q_dim, hp.n_embd));
    // Some llama-family exports carry Q/K/V biases; llama.cpp applies them when present.
    QUORUM_ASSIGN_OR_RETURN(l.bq, b.vector_optional(blk(i, "attn_q.bias"), q_dim));
    QUORUM_ASSIGN_OR_RETURN(l.bk, b.vector_optional(blk(i, "attn_k.bias"), hp.n_embd_kv()));
    QUORUM_ASSIGN_OR_RETURN(l.bv, b.vector_optional(blk(i, "attn_v.bias"), hp.n_embd_kv()));
    QUORUM_TRY(bind_ffn(b, hp, i, l));
  }
  return out;
}

// qwen2: llama with Q/K/V biases, NeoX RoPE, usually tied embeddings.
Result<ArchitectureBinding> bind_qwen2(const TensorBinder& b, const HParams& hp) {
  ArchitectureBinding out;
  out.rope = RopeKind::kNeox;
  ModelWeights& w = out.weights;
  QUORUM_TRY(bind_common(b, hp, w));
  const int64_t q_dim = hp.n_head * hp.head_dim;
  w.layers.resize(static_cast<size_t>(hp.n_layer));
  for (int64_t i = 0; i < hp.n_layer; ++i) {
    LayerWeights& l = w.layers[static_cast<size_t>(i)];
    QUORUM_ASSIGN_OR_RETURN(l.attn_norm, b.vector(blk(i, "attn_norm.weight"), hp.n_embd));
    QUORUM_ASSIGN_OR_RETURN(l.wq, b.matrix(blk(i, "attn_q.weight"), hp.n_embd, q_dim));
    QUORUM_ASSIGN_OR_RETURN(l.wk, b.matrix(blk(i, "attn_k.weight"), hp.n_embd, hp.n_embd_kv()));
    QUORUM_ASSIGN_OR_RETURN(l.wv, b.matrix(blk(i, "attn_v.weight"), hp.n_embd, hp.n_embd_kv()));
    QUORUM_ASSIGN_OR_RETURN(l.bq, b.vector(blk(i, "attn_q.bias"), q_dim));
    QUORUM_ASSIGN_OR_RETURN(l.bk, b.vector(blk(i, "attn_k.bias"), hp.n_embd_kv()));
    QUORUM_ASSIGN_OR_RETURN(l.bv, b.vector(blk(i, "attn_v.bias"), hp.n_embd_kv()));
    QUORUM_ASSIGN_OR_RETURN(l.wo, b.matrix(blk(i, "attn_output.weight"), q_dim, hp.n_embd));
    QUORUM_TRY(bind_ffn(b, hp, i, l));
  }
  return out;
}

// phi3: fused QKV projection, fused gate+up (gate rows first), NeoX RoPE, Q pre-scaled by
// 1/sqrt(head_dim) as llama.cpp's graph does.
Result<ArchitectureBinding> bind_phi3(const TensorBinder& b, const HParams& hp) {
  ArchitectureBinding out;
  out.rope = RopeKind::kNeox;
  out.prescale_q = true;
  ModelWeights& w = out.weights;
  QUORUM_TRY(bind_common(b, hp, w));
  const int64_t q_dim = hp.n_head * hp.head_dim;
  w.layers.resize(static_cast<size_t>(hp.n_layer));
  for (int64_t i = 0; i < hp.n_layer; ++i) {
    LayerWeights& l = w.layers[static_cast<size_t>(i)];
    QUORUM_ASSIGN_OR_RETURN(l.attn_norm, b.vector(blk(i, "attn_norm.weight"), hp.n_embd));
    if (b.has(blk(i, "attn_qkv.weight"))) {
      QUORUM_ASSIGN_OR_RETURN(
          l.wqkv, b.matrix(blk(i, "attn_qkv.weight"), hp.n_embd, q_dim + 2 * hp.n_embd_kv()));
    } else {
      QUORUM_ASSIGN_OR_RETURN(l.wq, b.matrix(blk(i, "attn_q.weight"), hp.n_embd, q_dim));
      QUORUM_ASSIGN_OR_RETURN(l.wk, b.matrix(blk(i, "attn_k.weight"), hp.n_embd, hp.n_embd_kv()));
      QUORUM_ASSIGN_OR_RETURN(l.wv, b.matrix(blk(i, "attn_v.weight"), hp.n_embd, hp.n_embd_kv()));
    }
    QUORUM_ASSIGN_OR_RETURN(l.wo, b.matrix(blk(i, "attn_output.weight"), q_dim, hp.n_embd));
    QUORUM_ASSIGN_OR_RETURN(l.ffn_norm, b.vector(blk(i, "ffn_norm.weight"), hp.n_embd));
    QUORUM_ASSIGN_OR_RETURN(l.ffn_up, b.matrix(blk(i, "ffn_up.weight"), hp.n_embd, 2 * hp.n_ff));
    QUORUM_ASSIGN_OR_RETURN(l.ffn_down, b.matrix(blk(i, "ffn_down.weight"), hp.n_ff, hp.n_embd));
    l.fused_gate_up = true;
  }
  return out;
}

}  // namespace

const std::vector<Architecture>& architectures() {
  static const std::vector<Architecture> kTable = {
      {"llama", "Llama 1/2/3 (incl. llama3 RoPE scaling), Mistral, SmolLM, TinyLlama", bind_llama},
      {"qwen2", "Qwen2/2.5: Q/K/V biases, NeoX RoPE, tied embeddings", bind_qwen2},
      {"phi3", "Phi-3/3.5: fused QKV and gate+up projections, NeoX RoPE", bind_phi3},
  };
  return kTable;
}

Result<const Architecture*> find_architecture(const std::string& name) {
  std::string names;
  for (const Architecture& a : architectures()) {
    if (name == a.name) return &a;
    names += (names.empty() ? "" : ", ") + std::string(a.name);
  }
  return Error(ErrorCode::kUnsupported, fmt::format("architecture '{}' is not supported", name))
      .where("general.architecture")
      .expected("one of: " + names)
      .actual(name);
}

}  // namespace quorum
