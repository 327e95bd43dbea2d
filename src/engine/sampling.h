// Token sampling: repetition penalty, then greedy (temperature <= 0) or top-k -> top-p -> min-p
// -> temperature -> draw from the softmax, in llama.cpp's default chain order. A Sampler owns its
// RNG (std::mt19937_64 seeded from the params), so the same seed gives the same tokens.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <utility>
#include <vector>

#include "core/status.h"

namespace quorum {

struct SamplingParams {
  float temperature = 0.8f;     // <= 0: greedy (argmax)
  int32_t top_k = 40;           // <= 0: all tokens
  float top_p = 0.95f;          // 1: off
  float min_p = 0.05f;          // 0: off
  float repeat_penalty = 1.0f;  // 1: off; > 1 discourages tokens seen in the last repeat_last_n
  int32_t repeat_last_n = 64;
  uint64_t seed = 42;

  static SamplingParams greedy() {
    SamplingParams p;
    p.temperature = 0.0f;
    return p;
  }
};

// Checks ranges (top_p in (0, 1], min_p in [0, 1], temperature finite, penalty > 0).
Status validate(const SamplingParams& params);

// Index of the largest logit (the lowest index on ties).
int32_t argmax(std::span<const float> logits);

class Sampler {
 public:
  explicit Sampler(const SamplingParams& params);
  // Picks the next token from logits [n_vocab]; `history` holds the tokens so far (for the
  // repetition penalty).
  int32_t sample(std::span<const float> logits, std::span<const int32_t> history);
  const SamplingParams& params() const { return params_; }

 private:
  SamplingParams params_;
  std::mt19937_64 rng_;
  std::vector<std::pair<float, int32_t>> candidates_;  // (logit, id) scratch
  std::vector<float> probs_;
};

}  // namespace quorum
