// LocalBackend: the Backend interface over Quorum's own engine, so `quorum eval`, the strategies
// and the server can use local model files exactly like remote servers.
//
// One LocalBackend serves one model: a shared, immutable Model (any number of backends may share
// it, see `create(options, model)`) and a pool of Sessions, one per request in flight. Sessions are
// created on demand up to `max_sessions` (more concurrent callers wait) and are kept after use;
// a request takes the idle session whose cached tokens share the longest prefix with its prompt,
// so a few-shot prefix common to many prompts is computed once per session, not once per request.
//
// Requests:
// - plain prompt: BOS as the model's metadata says (tokenizer.ggml.add_bos_token), then the text;
//   special-token text in the prompt is not parsed (as llama.cpp's completion endpoint);
// - chat messages: rendered with the model's chat template (the GGUF's, else the built-in one of
//   its family), special tokens parsed, BOS added unless the template already wrote it;
// - greedy when temperature <= 0, otherwise plain temperature sampling (no top-k/top-p/min-p, as
//   OpenAI's API) seeded by `seed` (+ choice index);
// - stop strings end the text before them; the end-of-generation token ends it too and is not
//   part of the text nor of the logprobs; logprobs are natural-log probabilities of the sampled
//   tokens with the `top_logprobs` most likely alternatives.
// - score: log P(continuation | prompt) for each continuation, natural log. The continuation's
//   tokens are those of tokenize(prompt + continuation) after its longest common prefix with
//   tokenize(prompt) (so " positive" after "Answer:" is the single token "▁positive", not a
//   dummy-prefix space plus a word); the prompt is decoded once and every continuation reuses it
//   (Session cache rewind), in one batched pass per continuation.
// Timing is the wall time of each request in seconds. All methods are thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "engine/session.h"
#include "model/model.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

namespace quorum::backend {

struct LocalBackendOptions {
  std::string name;               // as configured; Completion::model and messages use it
  std::string path;               // model file (GGUF, safetensors directory, llama2.c .bin)
  std::string identity;           // sha256 of the model file; computed from `path` when empty
  int max_sessions = 16;          // requests served at once; further callers wait
  int threads_per_session = 1;    // compute threads of each request
  int64_t n_ctx = 0;              // context per session; 0 = the model's training context
  KvType kv_type = KvType::kF16;  // F16 reproduces llama.cpp's default cache
  std::string chat_template;      // Jinja source; empty = the model's (or its family's built-in)
};

class LocalBackend final : public Backend {
 public:
  // Loads the model from options.path.
  static Result<std::unique_ptr<LocalBackend>> create(const LocalBackendOptions& options);
  // Serves an already loaded model (shared with other backends); options.path names it in
  // messages and, when options.identity is empty, is hashed for the identity.
  static Result<std::unique_ptr<LocalBackend>> create(const LocalBackendOptions& options,
                                                      std::shared_ptr<const Model> model);
  ~LocalBackend() override;

  const std::string& name() const override { return options_.name; }
  std::string identity() const override { return identity_; }
  Result<Completion> complete(const CompletionRequest& request) override;
  Result<Scores> score(const std::string& prompt,
                       const std::vector<std::string>& continuations) override;
  Result<int64_t> count_tokens(const std::string& prompt) override;
  int64_t context_length() const override { return n_ctx_; }

  // The token ids a request's prompt becomes (plain: BOS + text; chat: the rendered template).
  Result<std::vector<int32_t>> prompt_tokens(const CompletionRequest& request) const;
  const Model& model() const { return *model_; }
  const tokenizer::Tokenizer& tokenizer() const { return *tokenizer_; }
  // Sessions created so far (at most max_sessions).
  int sessions_created() const;

 private:
  class Lease;
  LocalBackend(LocalBackendOptions options, std::shared_ptr<const Model> model,
               std::shared_ptr<const tokenizer::Tokenizer> tok, std::string identity, int64_t n_ctx);
  // An idle session (the one sharing the longest prefix with `tokens`) or a new one.
  Result<Lease> acquire(const std::vector<int32_t>& tokens);
  void release(std::unique_ptr<Session> session);
  Status check_prompt(const std::vector<int32_t>& tokens, const char* what) const;

  LocalBackendOptions options_;
  std::shared_ptr<const Model> model_;
  std::shared_ptr<const tokenizer::Tokenizer> tokenizer_;
  std::string identity_;
  int64_t n_ctx_;
  std::optional<ChatTemplate> chat_template_;  // absent: chat requests fail with template_error_
  Status template_error_;
  mutable std::mutex template_mu_;  // rendering is serialized (the Jinja evaluator is not audited for sharing)

  mutable std::mutex pool_mu_;
  std::condition_variable pool_cv_;
  std::vector<std::unique_ptr<Session>> idle_;
  int created_ = 0;
};

}  // namespace quorum::backend
