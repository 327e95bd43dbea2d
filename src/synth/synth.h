// Synthetic models of real shapes (`quorum synth`): the hyper-parameters, tensor names and
// tokenizer of a real model family with seeded random weights of realistic scale (N(0, 0.02)
// matrices, unit norms, zero biases), so speed benchmarks run the same work as the real model
// without downloading it. llama.cpp loads the files (standard GGUF names and metadata).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/thread_pool.h"
#include "io/gguf.h"
#include "tensor/dtype.h"

namespace quorum::synth {

// Where a shape's tokenizer comes from: a vocab-only GGUF or a Hugging Face tokenizer.json,
// both relative to the shared models folder.
enum class VocabSource { kGguf, kHfTokenizerJson };

struct Shape {
  const char* name;
  const char* summary;
  const char* arch;  // "llama" | "qwen2"
  int64_t n_embd, n_layer, n_head, n_head_kv, n_ff, n_vocab, n_ctx;
  float rope_base, rms_eps;
  bool tied_output;  // no output.weight: the embedding is reused
  bool qkv_bias;     // qwen2
  float llama3_rope_factor;  // > 0: Llama-3.1 rope scaling (rope_freqs.weight)
  VocabSource vocab_source;
  const char* vocab_path;  // relative to <shared>/models
  const char* bpe_pre;     // tokenizer.ggml.pre for tokenizer.json sources
};

// The registry of shapes (explicit table).
const std::vector<Shape>& shapes();
Result<const Shape*> find_shape(const std::string& name);

struct SynthOptions {
  DType type = DType::kF16;  // F32, F16 or BF16 (quantized types: quantize the result)
  uint64_t seed = 42;
  std::string models_dir;    // the shared models folder holding the vocabularies
};

// Adds the shape's metadata, tokenizer and lazily generated tensors to `w`.
Status build(const Shape& shape, const SynthOptions& opts, ThreadPool& pool, gguf::Writer* w);

// Parameter count of a shape (for --help and the report).
int64_t parameter_count(const Shape& shape);

// Tokenizer metadata (tokenizer.ggml.*) from a Hugging Face tokenizer.json, padded with
// "[PAD<i>]" tokens to n_vocab as llama.cpp's converter does.
Result<std::vector<std::pair<std::string, gguf::Value>>> tokenizer_metadata_from_hf(
    const std::string& tokenizer_json_path, const std::string& pre, int64_t n_vocab);

// The seeded generator: value i of the stream `key` (deterministic, thread-independent).
float normal_at(uint64_t seed, uint64_t key, uint64_t i);

}  // namespace quorum::synth
