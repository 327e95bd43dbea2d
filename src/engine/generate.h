// The generation loop: prompt -> tokens until max_tokens, an end-of-generation token or a stop
// string, with optional top-n log-probabilities per generated token. Text comes from a
// caller-supplied detokenizer so the engine does not depend on a tokenizer implementation.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "engine/sampling.h"
#include "engine/scoring.h"
#include "engine/session.h"

namespace quorum {

struct GenerateOptions {
  int64_t max_tokens = 128;
  SamplingParams sampling;
  std::vector<std::string> stop;  // stop strings (not included in the text)
  int top_logprobs = 0;           // alternatives recorded per generated token
};

struct GeneratedToken {
  int32_t id = 0;
  float logprob = 0.0f;
  std::vector<TokenLogprob> top;  // top_logprobs alternatives
};

enum class StopReason { kMaxTokens, kEndOfGeneration, kStopString, kContextFull };
const char* stop_reason_name(StopReason r);

struct Generation {
  std::vector<GeneratedToken> tokens;
  std::string text;
  StopReason reason = StopReason::kMaxTokens;
};

struct GenerateHooks {
  std::function<std::string(int32_t)> piece;    // token -> text (required for text/stops)
  std::function<bool(int32_t)> is_eog;          // end-of-generation token?
  std::function<void(const GeneratedToken&, const std::string&)> on_token;  // streaming
};

// Generates from `prompt` (reusing the session's cached prefix).
Result<Generation> generate(Session& session, std::span<const int32_t> prompt,
                            const GenerateOptions& options, const GenerateHooks& hooks);

}  // namespace quorum
