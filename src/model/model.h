// Model: an immutable, memory-mapped decoder-only transformer (weights + hyper-parameters).
//
// Built once by Model::load(path, options); const afterwards and shared by any number of
// sessions and threads (std::shared_ptr<const Model>). Weights are views into the file mapping
// in their stored type; only tiny 1-D tensors (norms, biases) are converted to F32 when a file
// stores them otherwise.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "io/gguf.h"
#include "model/hparams.h"

namespace quorum {

// A 2-D weight matrix W: (rows, k) row-major in `type`; ggml shape [k, rows] (ne0 = k).
struct Weight {
  DType type = DType::kF32;
  const uint8_t* data = nullptr;  // into the file mapping
  int64_t k = 0;                  // row length (ggml ne0)
  int64_t rows = 0;               // number of rows (ggml ne1)
  bool present() const { return data != nullptr; }
  const uint8_t* row(int64_t i) const { return data + static_cast<size_t>(i) * row_size(type, k); }
};

// A 1-D F32 vector (norm weight, bias): a view of the mapping, or an owned converted copy.
struct Vector {
  const float* data = nullptr;  // [n]
  int64_t n = 0;
  std::shared_ptr<std::vector<float>> owned;  // set when converted at load
  bool present() const { return data != nullptr; }
};

enum class RopeKind { kNormal, kNeox };

struct LayerWeights {
  Vector attn_norm;           // [n_embd]
  Weight wq, wk, wv;          // (n_head*hd, n_embd), (n_head_kv*hd, n_embd) x2
  Weight wqkv;                // fused (phi3): (n_embd + 2*n_embd_kv, n_embd)
  Vector bq, bk, bv;          // qwen2 biases [n_head*hd], [n_embd_kv] x2
  Weight wo;                  // (n_embd, n_head*hd)
  Vector ffn_norm;            // [n_embd]
  Weight ffn_gate, ffn_up;    // (n_ff, n_embd); for phi3 ffn_up is (2*n_ff, n_embd): gate rows then up rows
  Weight ffn_down;            // (n_embd, n_ff)
  bool fused_gate_up = false; // phi3
};

struct ModelWeights {
  Weight token_embd;     // (n_vocab, n_embd)
  Vector output_norm;    // [n_embd]
  Weight output;         // (n_vocab, n_embd); token_embd when tied
  Vector rope_freqs;     // [n_rot / 2] llama3 frequency factors, optional
  std::vector<LayerWeights> layers;
};

enum class WeightCheck { kNone, kNormsAndEmbeddings, kAll };

struct ModelOptions {
  // Scan weights for NaN/Inf at load. kNormsAndEmbeddings scans F32/F16 norms, biases and
  // embeddings (cheap); kAll also scans every F32/F16 matrix.
  WeightCheck check_weights = WeightCheck::kNormsAndEmbeddings;
  // llama2.c checkpoints only: the vocabulary file (see OpenModelOptions::vocab_path).
  std::string vocab_path;
  // GGUF files: mmap (default) or read into huge-page memory (OpenModelOptions::load_mode).
  LoadMode load_mode = LoadMode::kMap;
};

class Model {
 public:
  // Any format open_model_file reads: GGUF, Hugging Face safetensors, llama2.c .bin.
  static Result<std::shared_ptr<const Model>> load(const std::string& path,
                                                   const ModelOptions& options = {});
  // Builds a model from an already opened file (GGUF, or a converted safetensors/llama2.c file).
  static Result<std::shared_ptr<const Model>> from_file(gguf::File file,
                                                        const ModelOptions& options = {});

  const HParams& hparams() const { return hp_; }
  const ModelWeights& weights() const { return w_; }
  const gguf::File& file() const { return file_; }
  RopeKind rope_kind() const { return rope_kind_; }
  const std::string& path() const { return file_.path(); }
  // Scale applied to Q before the attention dot product (phi3 pre-scales Q; others use 1 and
  // scale the scores by 1/sqrt(head_dim)).
  bool prescale_q() const { return prescale_q_; }

 private:
  friend struct ModelBuilder;
  Model() = default;
  gguf::File file_;
  HParams hp_;
  ModelWeights w_;
  RopeKind rope_kind_ = RopeKind::kNormal;
  bool prescale_q_ = false;
};

// Scans every tensor of `model` (block-quantized ones dequantized row by row) for NaN/Inf and
// returns an error naming the first bad tensor and element; ok when all are finite. Reads all the
// weights, so it is meant for diagnosing a non-finite forward pass, not for every load.
Status find_non_finite_weight(const Model& model);

}  // namespace quorum
