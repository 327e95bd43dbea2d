// Pieces shared by the engine verbs (run, chat, perplexity): opening a model together with its
// tokenizer, the sampling flags (one list drives parsing, --help and defaults), chat prompt
// rendering with the model's template, and stop-string-safe streaming of generated text.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "engine/generate.h"
#include "engine/session.h"
#include "model/model.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace quorum::cli {

struct LoadedModel {
  std::shared_ptr<const Model> model;
  std::shared_ptr<const tokenizer::Tokenizer> tokenizer;
};

// Opens any format Model::load reads and the tokenizer stored with it (`vocab_path`: llama2.c
// checkpoints only). The tokenizer must cover the model's vocabulary.
// `load_mode`: see LoadMode (the --no-mmap flag).
Result<LoadedModel> load_model_and_tokenizer(const std::string& path,
                                             const std::string& vocab_path = "",
                                             LoadMode load_mode = LoadMode::kMap);

// The flags of a generation: sampling, length, stops, context and threads.
struct GenerationFlags {
  GenerateOptions gen;
  int64_t n_ctx = 0;  // 0: the model's training context
  int threads = 0;    // 0: all cores
  std::string vocab;  // llama2.c tokenizer
  bool no_mmap = false;  // read the GGUF into huge-page memory (LoadMode::kRead)
};
void add_generation_flags(CLI::App& sub, GenerationFlags& flags);
SessionOptions session_options(const GenerationFlags& flags);

// Chat template: the model's own, or a built-in family given with --chat-template.
Result<ChatTemplate> load_chat_template(const LoadedModel& m, const std::string& family);

struct ChatTurn {
  std::string role, content;
};
// Renders `turns` with the template (ending with the assistant header) and tokenizes the result
// as llama.cpp does for chat prompts: special tokens in the text are parsed, BOS is added when
// the vocabulary asks for it (and a BOS the template itself wrote is not doubled).
Result<std::vector<int32_t>> chat_prompt_tokens(const LoadedModel& m, const ChatTemplate& tmpl,
                                                const std::vector<ChatTurn>& turns);

// The hooks generate() needs, from the tokenizer.
GenerateHooks tokenizer_hooks(const tokenizer::Tokenizer& tok);

// Checks a tokenized prompt against the session's context before any work is done.
Status check_prompt_fits(std::span<const int32_t> prompt, int64_t n_ctx);

// Streams generated text to stdout while holding back any tail that may be the beginning of a
// stop string (generate() cuts the text there), so stop strings never appear in the output.
class StopSafeStream {
 public:
  explicit StopSafeStream(const std::vector<std::string>& stops) : stops_(stops) {}
  void add(const std::string& piece);
  // Prints what remains of the final text (a prefix of everything added).
  void finish(const std::string& final_text);

 private:
  const std::vector<std::string>& stops_;
  std::string text_;
  size_t printed_ = 0;
};

}  // namespace quorum::cli
