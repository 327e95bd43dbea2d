// The shape registry: hyper-parameters of real model families (from their published
// config.json files) and where their tokenizer comes from in ../shared/models.
#include <fmt/format.h>

#include "synth/synth.h"

namespace quorum::synth {

const std::vector<Shape>& shapes() {
  // name, summary, arch, n_embd, n_layer, n_head, n_head_kv, n_ff, n_vocab, n_ctx, rope_base,
  // rms_eps, tied_output, qkv_bias, llama3_rope_factor, vocab source, vocab path, bpe pre
  static const std::vector<Shape> kShapes = {
      {"llama-1b-spm", "Llama-3.2-1B layers with the Llama-2 SentencePiece vocabulary (the shape of ../shared/golden/BENCH.md)",
       "llama", 2048, 16, 32, 8, 8192, 32000, 4096, 500000.0f, 1e-5f, false, false, 0.0f,
       VocabSource::kGguf, "vocab-llamacpp/ggml-vocab-llama-spm.gguf", ""},
      {"llama-3.2-1b", "Llama-3.2-1B (tied embeddings, Llama-3 rope scaling, 128K BPE vocabulary)",
       "llama", 2048, 16, 32, 8, 8192, 128256, 131072, 500000.0f, 1e-5f, true, false, 32.0f,
       VocabSource::kHfTokenizerJson, "tokenizers/llama3-hf/tokenizer.json", "llama-bpe"},
      {"llama-3.2-3b", "Llama-3.2-3B (tied embeddings, Llama-3 rope scaling, 128K BPE vocabulary)",
       "llama", 3072, 28, 24, 8, 8192, 128256, 131072, 500000.0f, 1e-5f, true, false, 32.0f,
       VocabSource::kHfTokenizerJson, "tokenizers/llama3-hf/tokenizer.json", "llama-bpe"},
      {"qwen2.5-0.5b", "Qwen2.5-0.5B (q/k/v biases, tied embeddings, 152K BPE vocabulary)",
       "qwen2", 896, 24, 14, 2, 4864, 151936, 32768, 1000000.0f, 1e-6f, true, true, 0.0f,
       VocabSource::kHfTokenizerJson, "tokenizers/qwen3-hf/tokenizer.json", "qwen2"},
      {"smollm2-135m", "SmolLM2-135M (30 thin layers, tied embeddings, 49K BPE vocabulary)",
       "llama", 576, 30, 9, 3, 1536, 49152, 8192, 100000.0f, 1e-5f, true, false, 0.0f,
       VocabSource::kGguf, "vocab-llamacpp/ggml-vocab-starcoder.gguf", ""},
      {"mistral-7b", "Mistral-7B-v0.1 (GQA 32/8, 32K SentencePiece vocabulary)",
       "llama", 4096, 32, 32, 8, 14336, 32000, 32768, 10000.0f, 1e-5f, false, false, 0.0f,
       VocabSource::kGguf, "vocab-llamacpp/ggml-vocab-llama-spm.gguf", ""},
  };
  return kShapes;
}

Result<const Shape*> find_shape(const std::string& name) {
  std::string names;
  for (const Shape& s : shapes()) {
    if (name == s.name) return &s;
    names += (names.empty() ? "" : ", ") + std::string(s.name);
  }
  return Error(ErrorCode::kNotFound, "unknown shape").expected("one of " + names).actual(name);
}

int64_t parameter_count(const Shape& s) {
  const int64_t hd = s.n_embd / s.n_head;
  const int64_t per_layer = 2 * s.n_embd                                  // norms
                            + s.n_embd * hd * (2 * s.n_head + 2 * s.n_head_kv)  // q, o, k, v
                            + (s.qkv_bias ? hd * (s.n_head + 2 * s.n_head_kv) : 0)
                            + 3 * s.n_embd * s.n_ff;                      // gate, up, down
  return s.n_vocab * s.n_embd * (s.tied_output ? 1 : 2) + s.n_embd + s.n_layer * per_layer;
}

}  // namespace quorum::synth
