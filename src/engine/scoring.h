// Scoring with a Session: log-probabilities of tokens, top-n alternatives per position, the
// log-likelihood of a continuation given a prompt (one batched pass), and constrained choice
// among candidate continuations (the shared prompt prefix is computed once and reused).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/status.h"
#include "engine/session.h"

namespace quorum {

struct TokenLogprob {
  int32_t id = 0;
  float logit = 0.0f;
  float logprob = 0.0f;
};

// log softmax of logits[n] (max-subtracted, sum in double, as llama-perplexity).
std::vector<float> log_softmax(std::span<const float> logits);
// log p(id) under softmax(logits).
float token_logprob(std::span<const float> logits, int32_t id);
// The n most likely tokens, most likely first (ties: lower id first).
std::vector<TokenLogprob> top_logprobs(std::span<const float> logits, int n);

struct ContinuationScore {
  double logprob = 0.0;                // sum over the continuation's tokens
  std::vector<float> token_logprobs;   // one per continuation token
  bool greedy = true;                  // every token was the argmax
};

// log p(continuation | prompt). Reuses the session's cached prefix; leaves the session holding
// prompt + continuation. The prompt must be non-empty (start it with BOS).
Result<ContinuationScore> score_continuation(Session& session, std::span<const int32_t> prompt,
                                             std::span<const int32_t> continuation);

struct ChoiceResult {
  int best = -1;                        // index of the highest total log-probability
  std::vector<ContinuationScore> scores;
};

// Scores each choice as a continuation of `prompt` and picks the most likely (sum of token
// log-probabilities). The prompt is decoded once; each choice reuses it.
Result<ChoiceResult> choose(Session& session, std::span<const int32_t> prompt,
                            const std::vector<std::vector<int32_t>>& choices);

}  // namespace quorum
