// Shared pieces of the engine verbs (see engine_cli.h).
#include "engine_cli.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <limits>

namespace quorum::cli {

namespace {

// The model file's own tokenizer; else --vocab (a GGUF, or a Hugging Face tokenizer.json or
// folder); else a tokenizer.json next to a Hugging Face model.
Result<std::shared_ptr<const tokenizer::Tokenizer>> open_tokenizer(const Model& model,
                                                                   const std::string& path,
                                                                   const std::string& vocab_path) {
  using tokenizer::Tokenizer;
  if (model.file().has("tokenizer.ggml.model")) return Tokenizer::from_gguf(model.file());
  std::string source = vocab_path;
  std::error_code ec;
  const std::filesystem::path dir =
      std::filesystem::is_directory(path, ec) ? std::filesystem::path(path)
                                              : std::filesystem::path(path).parent_path();
  if (source.empty() && std::filesystem::exists(dir / "tokenizer.json", ec)) source = dir.string();
  if (source.empty()) {
    return Error(ErrorCode::kNotFound, "the model file carries no tokenizer")
        .where(path)
        .hint("pass --vocab with a GGUF or a Hugging Face tokenizer.json of the same vocabulary");
  }
  if (source.ends_with(".gguf")) return Tokenizer::from_gguf_path(source);
  QUORUM_ASSIGN_OR_RETURN(tokenizer::Vocab vocab, tokenizer::Vocab::from_hf(source));
  return Tokenizer::create(std::move(vocab));
}

}  // namespace

Result<LoadedModel> load_model_and_tokenizer(const std::string& path,
                                             const std::string& vocab_path, LoadMode load_mode) {
  ModelOptions mo;
  mo.vocab_path = vocab_path;
  mo.load_mode = load_mode;
  QUORUM_ASSIGN_OR_RETURN(std::shared_ptr<const Model> model, Model::load(path, mo));
  auto tok = open_tokenizer(*model, path, vocab_path);
  if (!tok) return Status(tok.status()).with_context("reading the tokenizer of " + path);
  LoadedModel m{std::move(model), std::move(tok).value()};
  if (m.tokenizer->n_vocab() > m.model->hparams().n_vocab) {
    return Error(ErrorCode::kCorruptFile, "the tokenizer has more tokens than the model's embeddings")
        .where(path)
        .expected(fmt::format("at most {} tokens", m.model->hparams().n_vocab))
        .actual(fmt::format("{} tokens", m.tokenizer->n_vocab()));
  }
  return m;
}

void add_generation_flags(CLI::App& sub, GenerationFlags& f) {
  SamplingParams& s = f.gen.sampling;
  sub.add_option("-n,--n-predict", f.gen.max_tokens,
                 "Tokens to generate at most (-1: until end of generation or a full context)")
      ->capture_default_str();
  sub.add_option("--temp", s.temperature, "Temperature; 0 = greedy (argmax)")
      ->check(CLI::Range(0.0f, 100.0f))
      ->capture_default_str();
  sub.add_option("--top-k", s.top_k, "Keep the K most likely tokens (0 = all)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  sub.add_option("--top-p", s.top_p, "Nucleus sampling: smallest set with probability >= P (1 = off)")
      ->check(CLI::Range(0.0f, 1.0f))
      ->capture_default_str();
  sub.add_option("--min-p", s.min_p, "Drop tokens below P x the top probability (0 = off)")
      ->check(CLI::Range(0.0f, 1.0f))
      ->capture_default_str();
  sub.add_option("--repeat-penalty", s.repeat_penalty,
                 "Penalise tokens seen in the last --repeat-last-n (1 = off)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sub.add_option("--repeat-last-n", s.repeat_last_n, "Window of the repetition penalty")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  sub.add_option("--seed", s.seed, "Sampling seed (same seed, same tokens)")->capture_default_str();
  sub.add_option("--stop", f.gen.stop, "Stop before this string (repeatable)");
  sub.add_option("-c,--ctx", f.n_ctx, "Context length in tokens (0 = the model's training context)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  sub.add_option("-t,--threads", f.threads, "Threads (0 = all cores)")
      ->check(CLI::Range(0, 512))
      ->capture_default_str();
  sub.add_option("--vocab", f.vocab,
                 "Tokenizer when the model file has none: llama2.c tokenizer.bin/.model, a GGUF, "
                 "or a Hugging Face tokenizer.json");
  sub.add_flag("--no-mmap", f.no_mmap,
               "Read the GGUF file into memory on 2 MiB pages instead of mapping it (faster "
               "generation from large F16/F32 files; costs a copy at load)");
}

SessionOptions session_options(const GenerationFlags& f) {
  SessionOptions so;
  so.n_ctx = f.n_ctx;
  so.n_threads = f.threads;
  // The limit is the machine's available memory (checked by Session::create), not a fixed cap.
  so.max_cache_bytes = std::numeric_limits<uint64_t>::max();
  return so;
}

Result<ChatTemplate> load_chat_template(const LoadedModel& m, const std::string& family) {
  if (!family.empty()) return ChatTemplate::builtin(family);
  auto t = ChatTemplate::from_gguf(m.model->file());
  if (!t) {
    Status s = t.status();
    return s.with_context(
        "a chat needs the model's chat template (or --chat-template FAMILY for a built-in one)");
  }
  return t;
}

Result<std::vector<int32_t>> chat_prompt_tokens(const LoadedModel& m, const ChatTemplate& tmpl,
                                                const std::vector<ChatTurn>& turns) {
  const tokenizer::Tokenizer& tok = *m.tokenizer;
  nlohmann::json messages = nlohmann::json::array();
  for (const ChatTurn& t : turns) messages.push_back({{"role", t.role}, {"content", t.content}});
  ChatRenderOptions ro;
  ro.bos_token = tok.bos() >= 0 ? tok.token_to_piece(tok.bos(), true) : "";
  ro.eos_token = tok.eos() >= 0 ? tok.token_to_piece(tok.eos(), true) : "";
  QUORUM_ASSIGN_OR_RETURN(std::string text, tmpl.render(messages, ro));
  // Templates that write bos_token themselves would get a second BOS from the tokenizer;
  // llama.cpp strips the template's copy.
  if (tok.add_bos() && !ro.bos_token.empty() && text.starts_with(ro.bos_token)) {
    text.erase(0, ro.bos_token.size());
  }
  return tok.encode(text, /*add_special=*/true, /*parse_special=*/true);
}

GenerateHooks tokenizer_hooks(const tokenizer::Tokenizer& tok) {
  GenerateHooks h;
  // Control tokens print nothing (as llama-cli without --special).
  h.piece = [&tok](int32_t id) { return tok.token_to_piece(id, false); };
  h.is_eog = [&tok](int32_t id) { return tok.is_eog(id); };
  return h;
}

Status check_prompt_fits(std::span<const int32_t> prompt, int64_t n_ctx) {
  if (prompt.empty()) {
    return Error(ErrorCode::kInvalidArgument, "the prompt is empty")
        .hint("give a prompt with -p TEXT or -f FILE");
  }
  if (static_cast<int64_t>(prompt.size()) >= n_ctx) {
    return Error(ErrorCode::kOutOfRange, "the prompt is longer than the context")
        .expected(fmt::format("fewer than {} tokens (the context, leaving room for one new token)",
                              n_ctx))
        .actual(fmt::format("{} tokens", prompt.size()))
        .hint("shorten the prompt or raise --ctx");
  }
  return Status::ok();
}

void StopSafeStream::add(const std::string& piece) {
  text_ += piece;
  // Everything from the first complete stop string, or from the longest tail that may still
  // grow into one, waits. A match never starts in printed text: its beginning was held back.
  size_t safe = text_.size();
  for (const std::string& s : stops_) {
    if (s.empty()) continue;
    const size_t at = text_.find(s, printed_);
    if (at != std::string::npos) safe = std::min(safe, at);
    for (size_t len = std::min(s.size() - 1, text_.size() - printed_); len > 0; --len) {
      if (text_.compare(text_.size() - len, len, s, 0, len) == 0) {
        safe = std::min(safe, text_.size() - len);
        break;
      }
    }
  }
  if (safe > printed_) {
    std::fwrite(text_.data() + printed_, 1, safe - printed_, stdout);
    std::fflush(stdout);
    printed_ = safe;
  }
}

void StopSafeStream::finish(const std::string& final_text) {
  if (final_text.size() > printed_) {
    std::fwrite(final_text.data() + printed_, 1, final_text.size() - printed_, stdout);
  }
  printed_ = final_text.size();
  std::fflush(stdout);
}

}  // namespace quorum::cli
