// What `quorum info` reports about a model file of any format, without loading it for
// inference: format, architecture and hyper-parameters, parameter count, tensor types, tokenizer
// and chat template.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/status.h"
#include "io/model_file.h"
#include "model/hparams.h"

namespace quorum {

struct TypeUsage {
  int64_t tensors = 0;
  int64_t params = 0;
  int64_t bytes = 0;
};

struct ModelSummary {
  std::string path;
  std::string format;        // "gguf", "safetensors", "llama2.c"
  int64_t file_bytes = 0;    // on disk (all files of a directory model)
  std::string name;          // general.name
  std::string architecture;  // general.architecture
  bool architecture_supported = false;
  std::optional<HParams> hparams;
  std::string hparams_error;  // why hparams are missing, if they are
  int64_t n_params = 0;
  int64_t n_tensors = 0;
  std::map<std::string, TypeUsage> types;  // by dtype name
  double bits_per_weight = 0;              // tensor bytes * 8 / params
  // Tokenizer (from tokenizer.ggml.*)
  std::string tokenizer_model;  // "llama" (SentencePiece), "gpt2" (byte-level BPE), ...
  std::string tokenizer_pre;
  int64_t n_tokens = 0;
  int64_t n_merges = 0;
  std::optional<int64_t> bos, eos, eot;
  bool has_chat_template = false;
};

Result<ModelSummary> summarize_model(const std::string& path, const OpenModelOptions& options = {});
nlohmann::json summary_to_json(const ModelSummary& s);
std::string summary_to_text(const ModelSummary& s);

}  // namespace quorum
