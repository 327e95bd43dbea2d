// Backend: the one interface through which evaluation, consensus strategies and the server ask a
// model for text. Two implementations: HttpBackend (any OpenAI-compatible server) and
// LocalBackend (Quorum's own engine). CachingBackend wraps either with the SQLite AnswerCache.
//
// A request is either a plain prompt (`/v1/completions` semantics, no chat template) or a list
// of chat messages (`/v1/chat/completions`). `score` returns the log-likelihood of each
// continuation after a prompt (label scoring); remote servers usually cannot do that and return
// ErrorCode::kUnsupported.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace quorum::backend {

struct ChatMessage {
  std::string role;  // "system", "user", "assistant"
  std::string content;
};

struct CompletionRequest {
  std::string prompt;                 // used when `messages` is empty
  std::vector<ChatMessage> messages;  // non-empty: a chat request
  int max_tokens = 64;
  double temperature = 0.0;           // 0 = greedy
  std::optional<uint64_t> seed;       // sampling seed (ignored when greedy by most servers)
  std::vector<std::string> stop;      // generation ends before any of these strings
  bool logprobs = false;              // return the log-probability of each generated token
  int top_logprobs = 0;               // and of the k most likely alternatives (0 = none)
  int n = 1;                          // number of choices

  bool is_chat() const { return !messages.empty(); }
};

// One alternative token at a position and its natural-log probability.
struct TopLogprob {
  std::string token;
  double logprob = 0.0;
};

struct TokenLogprob {
  std::string token;
  double logprob = 0.0;
  std::vector<TopLogprob> top;  // most likely first; empty unless top_logprobs > 0
};

struct Choice {
  std::string text;                   // generated text (chat: the assistant message content)
  std::string finish_reason;          // "stop", "length", ...
  std::vector<TokenLogprob> logprobs; // one per generated token when requested and offered
};

struct Completion {
  std::vector<Choice> choices;  // request.n of them
  std::string model;            // as reported by the backend
  int prompt_tokens = 0;
  int completion_tokens = 0;
  double seconds = 0.0;         // wall time of the inference (kept when served from the cache)
  bool from_cache = false;      // set by CachingBackend on a hit

  const std::string& text() const { return choices.front().text; }
};

// Log-likelihoods of continuations after one prompt (label scoring).
struct Scores {
  std::vector<double> logprobs;  // natural log, one per continuation, in request order
  double seconds = 0.0;          // wall time of the inference (kept when served from the cache)
  bool from_cache = false;
};

class Backend {
 public:
  virtual ~Backend() = default;

  // The model name as configured, for messages.
  virtual const std::string& name() const = 0;
  // What identifies this model's answers in the cache: the model file's sha256 for local models,
  // "endpoint|model id" for remote ones. Two backends with the same identity answer alike.
  virtual std::string identity() const = 0;

  virtual Result<Completion> complete(const CompletionRequest& request) = 0;
  // log P(continuation | prompt) for each continuation, in natural log.
  virtual Result<Scores> score(const std::string& prompt,
                               const std::vector<std::string>& continuations) = 0;

  // The number of tokens `prompt` takes as the model sees it (BOS included when the model adds
  // one), so a caller can shorten inputs to fit the context. Backends that cannot tokenize
  // (most remote servers) return ErrorCode::kUnsupported.
  virtual Result<int64_t> count_tokens(const std::string& prompt);
  // The model's context window in tokens; 0 when unknown.
  virtual int64_t context_length() const { return 0; }
};

// JSON forms used by the cache (and usable for logging); round-trip exactly.
nlohmann::json to_json(const CompletionRequest& request);
nlohmann::json to_json(const Completion& completion);
Result<Completion> completion_from_json(const nlohmann::json& j);

}  // namespace quorum::backend
