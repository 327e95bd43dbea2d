// Sampler implementation (see sampling.h for the chain order).
#include "engine/sampling.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <unordered_set>

namespace quorum {

Status validate(const SamplingParams& p) {
  if (!std::isfinite(p.temperature)) {
    return Error(ErrorCode::kInvalidArgument, "temperature must be a finite number")
        .actual(fmt::format("{}", p.temperature));
  }
  if (!(p.top_p > 0.0f && p.top_p <= 1.0f)) {
    return Error(ErrorCode::kInvalidArgument, "top-p out of range")
        .expected("0 < top_p <= 1")
        .actual(fmt::format("{}", p.top_p));
  }
  if (!(p.min_p >= 0.0f && p.min_p <= 1.0f)) {
    return Error(ErrorCode::kInvalidArgument, "min-p out of range")
        .expected("0 <= min_p <= 1")
        .actual(fmt::format("{}", p.min_p));
  }
  if (!(p.repeat_penalty > 0.0f) || !std::isfinite(p.repeat_penalty)) {
    return Error(ErrorCode::kInvalidArgument, "repeat penalty must be positive")
        .actual(fmt::format("{}", p.repeat_penalty));
  }
  return Status::ok();
}

int32_t argmax(std::span<const float> logits) {
  int32_t best = 0;
  for (size_t i = 1; i < logits.size(); ++i) {
    if (logits[i] > logits[static_cast<size_t>(best)]) best = static_cast<int32_t>(i);
  }
  return best;
}

Sampler::Sampler(const SamplingParams& params) : params_(params), rng_(params.seed) {}

int32_t Sampler::sample(std::span<const float> logits, std::span<const int32_t> history) {
  const auto n = static_cast<int32_t>(logits.size());
  candidates_.resize(logits.size());
  for (int32_t i = 0; i < n; ++i) candidates_[static_cast<size_t>(i)] = {logits[static_cast<size_t>(i)], i};

  // Repetition penalty over the distinct tokens of the last repeat_last_n (as llama.cpp).
  if (params_.repeat_penalty != 1.0f && params_.repeat_last_n != 0 && !history.empty()) {
    const size_t last = params_.repeat_last_n < 0
                            ? history.size()
                            : std::min(history.size(), static_cast<size_t>(params_.repeat_last_n));
    std::unordered_set<int32_t> seen(history.end() - static_cast<std::ptrdiff_t>(last), history.end());
    for (int32_t id : seen) {
      if (id < 0 || id >= n) continue;
      float& l = candidates_[static_cast<size_t>(id)].first;
      l = l > 0 ? l / params_.repeat_penalty : l * params_.repeat_penalty;
    }
  }

  auto by_logit = [](const auto& a, const auto& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  };
  if (params_.temperature <= 0.0f) {
    return std::min_element(candidates_.begin(), candidates_.end(), by_logit)->second;
  }

  // top-k: keep the k largest, sorted descending.
  size_t keep = candidates_.size();
  if (params_.top_k > 0 && static_cast<size_t>(params_.top_k) < keep) keep = static_cast<size_t>(params_.top_k);
  std::partial_sort(candidates_.begin(), candidates_.begin() + static_cast<std::ptrdiff_t>(keep),
                    candidates_.end(), by_logit);
  candidates_.resize(keep);

  // Softmax of the (untempered) candidates for top-p and min-p.
  auto softmax = [this](float temp) {
    probs_.resize(candidates_.size());
    const float max = candidates_[0].first;
    double sum = 0;
    for (size_t i = 0; i < candidates_.size(); ++i) {
      probs_[i] = std::exp((candidates_[i].first - max) / temp);
      sum += probs_[i];
    }
    for (float& p : probs_) p = static_cast<float>(p / sum);
  };
  if (params_.top_p < 1.0f) {
    softmax(1.0f);
    double cum = 0;
    size_t k = 0;
    while (k < candidates_.size()) {
      cum += probs_[k++];
      if (cum >= params_.top_p) break;
    }
    candidates_.resize(std::max<size_t>(k, 1));
  }
  if (params_.min_p > 0.0f) {
    // p_i >= min_p * p_max  <=>  logit_i >= logit_max + log(min_p)
    const float threshold = candidates_[0].first + std::log(params_.min_p);
    size_t k = 1;
    while (k < candidates_.size() && candidates_[k].first >= threshold) ++k;
    candidates_.resize(k);
  }
  softmax(params_.temperature);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  const double r = uniform(rng_);
  double cum = 0;
  for (size_t i = 0; i < candidates_.size(); ++i) {
    cum += probs_[i];
    if (r < cum) return candidates_[i].second;
  }
  return candidates_.back().second;
}

}  // namespace quorum
