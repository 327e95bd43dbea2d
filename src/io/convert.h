// Model conversion between formats: any input open_model_file reads (GGUF, Hugging Face
// safetensors, llama2.c) to GGUF or to a Hugging Face directory / .safetensors file, optionally
// changing the float type. Outputs are written atomically and never over the input.
#pragma once

#include <optional>
#include <string>

#include "core/status.h"
#include "io/gguf.h"
#include "tensor/dtype.h"

namespace quorum {

enum class OutputFormat { kGguf, kSafetensors };

struct ConvertOptions {
  std::optional<DType> type;  // F32, F16 or BF16; unset keeps each tensor's type
  std::string vocab_path;     // llama2.c inputs: where the vocabulary comes from
};

// By OUT's name: *.gguf -> GGUF; *.safetensors or anything else (a directory) -> safetensors.
OutputFormat output_format_for(const std::string& out);

Status convert_model(const std::string& in, const std::string& out, const ConvertOptions& options);

// The writers convert_model uses, for a File already open.
// GGUF: 1-D tensors (norms, biases) stay F32 when converting to F16/BF16, as llama.cpp does.
Status write_gguf_model(const gguf::File& src, const std::string& out, std::optional<DType> type);
// Hugging Face layout: `out` is a directory (model.safetensors + config.json) or a .safetensors
// path (config.json beside it). The GGUF metadata rides along in __metadata__ so tokenizers and
// every key survive a round trip; `copy_from_dir` (if set) supplies tokenizer files to copy.
Status write_hf_model(const gguf::File& src, const std::string& out, std::optional<DType> type,
                      const std::string& copy_from_dir = "");

}  // namespace quorum
