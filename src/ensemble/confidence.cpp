// Confidence parsing and the `confidence` strategy (drop low-confidence answers, then combine).
#include "ensemble/confidence.h"

#include <algorithm>
#include <cmath>
#include <regex>
#include <string>

#include "ensemble/strategies.h"

namespace quorum::ensemble {
namespace {

std::optional<double> to_fraction(double v, bool percent) {
  if (percent || v > 1.0) v /= 100.0;
  if (!(v >= 0.0 && v <= 1.0)) return std::nullopt;
  return v;
}

}  // namespace

std::optional<double> parse_self_confidence(std::string_view text) {
  const std::string s(text);
  static const std::regex kNamed(R"(confidence\s*(?:is|:|=)?\s*([0-9]*\.?[0-9]+)\s*(%)?)",
                                 std::regex::icase);
  static const std::regex kPercent(R"(([0-9]{1,3}(?:\.[0-9]+)?)\s*%)");
  std::smatch m;
  if (std::regex_search(s, m, kNamed)) return to_fraction(std::stod(m[1].str()), m[2].matched);
  if (std::regex_search(s, m, kPercent)) return to_fraction(std::stod(m[1].str()), true);
  return std::nullopt;
}

std::optional<double> answer_confidence(const Answer& answer, ConfidenceSource source) {
  auto self = [&]() -> std::optional<double> {
    if (answer.self_confidence) return answer.self_confidence;
    return parse_self_confidence(answer.raw);
  };
  auto logprob = [&]() -> std::optional<double> {
    auto it = answer.label_logprobs.find(answer.text);
    if (it == answer.label_logprobs.end()) return std::nullopt;
    double mx = -1e300;
    for (const auto& [l, lp] : answer.label_logprobs) mx = std::max(mx, lp);
    double z = 0.0;
    for (const auto& [l, lp] : answer.label_logprobs) z += std::exp(lp - mx);
    return std::exp(it->second - mx) / z;
  };
  switch (source) {
    case ConfidenceSource::kSelf: return self();
    case ConfidenceSource::kToken: return answer.token_confidence;
    case ConfidenceSource::kLogprob: return logprob();
    case ConfidenceSource::kAny: {
      if (auto c = self()) return c;
      if (answer.token_confidence) return answer.token_confidence;
      return logprob();
    }
  }
  return std::nullopt;
}

namespace detail {

Result<StrategyRun> run_confidence(const StrategyContext& ctx, const Params& params,
                                   const std::vector<Item>& items,
                                   const std::vector<std::vector<Answer>>& answers) {
  const double threshold = params.get_double("threshold");
  const std::string& src = params.get_string("source");
  const ConfidenceSource source = src == "self"    ? ConfidenceSource::kSelf
                                  : src == "token" ? ConfidenceSource::kToken
                                  : src == "logprob" ? ConfidenceSource::kLogprob
                                                     : ConfidenceSource::kAny;
  const bool drop_missing = params.get_string("missing") == "drop";
  std::string then = params.get_string("then");
  if (then == "auto") then = ctx.task.kind == TaskKind::kSummarization ? "weight" : "vote";
  if (then == "vote" && ctx.task.kind == TaskKind::kSummarization) {
    return Error(ErrorCode::kInvalidArgument, "voting does not apply to summaries")
        .where("strategy 'confidence', parameter 'then'")
        .expected("weight or auto")
        .actual("vote");
  }
  const SimilarityWeights sim = similarity_from(params);
  StrategyRun run;
  size_t fallbacks = 0, dropped_total = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    const uint64_t seed = item_seed(ctx.seed, items[i]);
    // Keep the answers at or above the threshold; the rest stay in place with parsed = false so
    // indices (and model weights) still line up.
    std::vector<Answer> kept = answers[i];
    std::vector<std::string> low;
    for (Answer& a : kept) {
      auto c = answer_confidence(a, source);
      bool drop = c ? *c < threshold : drop_missing;
      if (drop && answer_counts(ctx.task, a)) {
        a.parsed = false;
        low.push_back(a.model);
      }
    }
    bool any_left = false;
    for (const Answer& a : kept) any_left = any_left || answer_counts(ctx.task, a);
    const std::vector<Answer>& use = any_left ? kept : answers[i];
    // Fallback when everything was dropped: the plain combiner over all answers.
    Choice c = then == "vote" ? majority_vote(ctx.task, use, ctx.model_weights, seed)
                              : weighted_choice(ctx.task, use, ctx.model_weights, sim, seed);
    StrategyResult r = make_result(use, c, "confidence");
    r.chosen.model = "confidence";
    if (!any_left && !low.empty()) {
      ++fallbacks;
      r.notes["fallback"] = "all answers below threshold; plain " + then;
    } else {
      dropped_total += low.size();
      r.dropped = low;  // models dropped for low confidence
      for (size_t k : c.dropped) {
        const std::string& m = use[k].model;
        if (std::find(low.begin(), low.end(), m) == low.end()) r.dropped.push_back(m);
      }
    }
    run.items.push_back(std::move(r));
  }
  run.summary["fallback_items"] = static_cast<double>(fallbacks);
  run.summary["dropped_answers"] = static_cast<double>(dropped_total);
  return run;
}

}  // namespace detail
}  // namespace quorum::ensemble
