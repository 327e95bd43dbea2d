// One opener for every model format Quorum reads. Whatever the source (GGUF, Hugging Face
// safetensors + config.json, llama2.c .bin), the result is a gguf::File in GGUF's vocabulary:
// GGUF metadata keys, GGUF tensor names and layouts (Q/K rows in the interleaved RoPE order for
// llama-arch models). Tensors that had to be rearranged live in memory the File keeps alive.
#pragma once

#include <string>

#include "core/status.h"
#include "io/gguf.h"

namespace quorum {

enum class ModelFormat { kGguf, kSafetensors, kLlama2c };
const char* model_format_name(ModelFormat f);

// By content (GGUF magic, llama2.c header), then by layout (a directory with model.safetensors or
// model.safetensors.index.json, a .safetensors file).
Result<ModelFormat> detect_model_format(const std::string& path);

struct OpenModelOptions {
  // llama2.c only: tokenizer.bin, SentencePiece .model, .vocab text or a GGUF to take the vocab
  // from. Empty: tokenizer.bin / tokenizer.model next to the checkpoint if present.
  std::string vocab_path;
  // GGUF only: mmap the file (default) or read it into memory on huge pages (see LoadMode).
  // Safetensors and llama2.c checkpoints are always mapped.
  LoadMode load_mode = LoadMode::kMap;
};

Result<gguf::File> open_model_file(const std::string& path, const OpenModelOptions& options = {});

// A Hugging Face model: a directory (config.json, model.safetensors or a sharded index) or a
// .safetensors file with config.json beside it.
Result<gguf::File> open_hf_model(const std::string& path);

}  // namespace quorum
