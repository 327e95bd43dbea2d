// Scoring implementation.
#include "engine/scoring.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "engine/sampling.h"

namespace quorum {

std::vector<float> log_softmax(std::span<const float> logits) {
  float max = -INFINITY;
  for (float l : logits) max = std::max(max, l);
  double sum = 0;
  for (float l : logits) sum += std::exp(static_cast<double>(l - max));
  const double log_sum = std::log(sum);
  std::vector<float> out(logits.size());
  for (size_t i = 0; i < logits.size(); ++i) {
    out[i] = static_cast<float>(static_cast<double>(logits[i] - max) - log_sum);
  }
  return out;
}

float token_logprob(std::span<const float> logits, int32_t id) {
  float max = -INFINITY;
  for (float l : logits) max = std::max(max, l);
  double sum = 0;
  for (float l : logits) sum += std::exp(static_cast<double>(l - max));
  return static_cast<float>(static_cast<double>(logits[static_cast<size_t>(id)] - max) -
                            std::log(sum));
}

std::vector<TokenLogprob> top_logprobs(std::span<const float> logits, int n) {
  std::vector<int32_t> ids(logits.size());
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<int32_t>(i);
  const size_t k = std::min(ids.size(), static_cast<size_t>(std::max(n, 0)));
  std::partial_sort(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(k), ids.end(),
                    [&](int32_t a, int32_t b) {
                      const float la = logits[static_cast<size_t>(a)];
                      const float lb = logits[static_cast<size_t>(b)];
                      return la > lb || (la == lb && a < b);
                    });
  float max = -INFINITY;
  for (float l : logits) max = std::max(max, l);
  double sum = 0;
  for (float l : logits) sum += std::exp(static_cast<double>(l - max));
  const double log_sum = std::log(sum);
  std::vector<TokenLogprob> out(k);
  for (size_t i = 0; i < k; ++i) {
    const float l = logits[static_cast<size_t>(ids[i])];
    out[i] = {ids[i], l, static_cast<float>(static_cast<double>(l - max) - log_sum)};
  }
  return out;
}

Result<ContinuationScore> score_continuation(Session& session, std::span<const int32_t> prompt,
                                             std::span<const int32_t> continuation) {
  if (prompt.empty()) {
    return Error(ErrorCode::kInvalidArgument, "cannot score a continuation of an empty prompt")
        .hint("start the prompt with the BOS token");
  }
  ContinuationScore out;
  if (continuation.empty()) return out;
  std::vector<int32_t> full(prompt.begin(), prompt.end());
  full.insert(full.end(), continuation.begin(), continuation.end());
  // Reuse the cached prefix, but recompute at least the last prompt token: its logits predict
  // the first continuation token.
  const std::vector<int32_t>& cached = session.tokens();
  size_t common = 0;
  while (common < cached.size() && common < full.size() && cached[common] == full[common]) {
    ++common;
  }
  const size_t from = std::min(common, prompt.size() - 1);
  QUORUM_TRY(session.rewind(static_cast<int64_t>(from)));
  const std::span<const int32_t> rest(full.data() + from, full.size() - from);
  QUORUM_ASSIGN_OR_RETURN(std::span<const float> logits, session.decode(rest, LogitsMode::kAll));
  const auto n_vocab = static_cast<size_t>(session.n_vocab());
  for (size_t i = 0; i < continuation.size(); ++i) {
    const size_t row = prompt.size() - 1 + i - from;
    const std::span<const float> l = logits.subspan(row * n_vocab, n_vocab);
    const float lp = token_logprob(l, continuation[i]);
    out.token_logprobs.push_back(lp);
    out.logprob += lp;
    if (argmax(l) != continuation[i]) out.greedy = false;
  }
  return out;
}

Result<ChoiceResult> choose(Session& session, std::span<const int32_t> prompt,
                            const std::vector<std::vector<int32_t>>& choices) {
  if (choices.empty()) return Error(ErrorCode::kInvalidArgument, "no choices to score");
  ChoiceResult out;
  for (size_t c = 0; c < choices.size(); ++c) {
    if (choices[c].empty()) {
      return Error(ErrorCode::kInvalidArgument, "a choice has no tokens")
          .where(fmt::format("choice {}", c));
    }
    QUORUM_ASSIGN_OR_RETURN(ContinuationScore s, score_continuation(session, prompt, choices[c]));
    if (out.best < 0 || s.logprob > out.scores[static_cast<size_t>(out.best)].logprob) {
      out.best = static_cast<int>(c);
    }
    out.scores.push_back(std::move(s));
  }
  return out;
}

}  // namespace quorum
