// The `debate` strategy (Du et al. 2023, arXiv:2305.14325), classification only.
//
// Round 0 is the models' given answers (label + reason; the raw text stands in when an answer has
// no reason). In each further round every model sees, for each item that is not yet unanimous,
// the other models' current answers and reasons — anonymized ("Agent 1", ...) and shuffled with
// the seed — plus its own previous answer, and answers again. Unanimous items are not asked again
// (their answers cannot change the agreement; this saves calls). Stopping, checked after every
// round including round 0: all models agree on >= `agreement` of the items; or agreement did not
// increase over the previous round; or max_rounds were run. The final answer per item is the
// majority vote over the last round. With equal_compute_baseline, a plain vote over as many
// samples per item as the debate used (the original answers plus one more sample per extra call,
// asked with the original prompt round-robin over the models) is reported in
// StrategyRun::baselines["vote_equal_compute"]; it differs from the plain vote only when the
// backend samples (temperature > 0) and does not cache repeated prompts.
#include <fmt/format.h>

#include <algorithm>
#include <numeric>

#include "ensemble/strategies.h"
#include "eval/rng.h"

namespace quorum::ensemble::detail {
namespace {

bool unanimous(const TaskSpec& task, const std::vector<Answer>& answers) {
  if (answers.empty() || !answer_counts(task, answers[0])) return false;
  const std::string key = answer_key(task, answers[0]);
  for (const Answer& a : answers) {
    if (!answer_counts(task, a) || answer_key(task, a) != key) return false;
  }
  return true;
}

double agreement(const TaskSpec& task, const std::vector<std::vector<Answer>>& answers) {
  if (answers.empty()) return 1.0;
  size_t n = 0;
  for (const auto& a : answers) n += unanimous(task, a) ? 1 : 0;
  return static_cast<double>(n) / static_cast<double>(answers.size());
}

std::string strip_answer_tail(const std::string& prompt) {
  const std::string tail = "Answer:";
  if (prompt.size() >= tail.size() &&
      prompt.compare(prompt.size() - tail.size(), tail.size(), tail) == 0) {
    return prompt.substr(0, prompt.size() - tail.size());
  }
  return prompt + "\n";
}

std::string shown(const Answer& a) {
  std::string label = a.parsed && !a.text.empty() ? a.text : "(no valid answer)";
  std::string reason = !a.reason.empty() ? a.reason : a.raw;
  std::replace(reason.begin(), reason.end(), '\n', ' ');
  return reason.empty() ? label : label + ". Reason: " + reason;
}

std::string debate_prompt(const TaskSpec& task, const Item& item,
                          const std::vector<Answer>& current, size_t self, uint64_t seed) {
  std::vector<size_t> others;
  for (size_t m = 0; m < current.size(); ++m) {
    if (m != self) others.push_back(m);
  }
  // Fisher-Yates with the per-(item, round, model) seed: anonymous and in a seeded order.
  eval::SplitMix64 rng(seed);
  for (size_t k = others.size(); k > 1; --k) std::swap(others[k - 1], others[rng.below(k)]);
  std::string p = strip_answer_tail(item.prompt) + "Other agents' answers:\n";
  for (size_t k = 0; k < others.size(); ++k) {
    p += fmt::format("Agent {}: {}\n", k + 1, shown(current[others[k]]));
  }
  p += fmt::format("Your previous answer: {}\n", shown(current[self]));
  p += fmt::format("Considering the other answers, give your answer (one of: {}) and a short reason.\n",
                   fmt::join(task.labels, ", "));
  return p + "Answer:";
}

}  // namespace

Result<StrategyRun> run_debate(const StrategyContext& ctx, const Params& params,
                               const std::vector<Item>& items,
                               const std::vector<std::vector<Answer>>& answers) {
  const int max_rounds = static_cast<int>(params.get_int("max_rounds"));
  const double target = params.get_double("agreement");
  const size_t n_models = ctx.models.size();
  StrategyRun run;
  std::vector<std::vector<Answer>> current = answers;
  for (auto& row : current) {
    for (size_t m = 0; m < n_models; ++m) row[m].model = ctx.models[m];
  }
  std::vector<int> item_rounds(items.size(), 0);
  std::vector<int> item_calls(items.size(), 0);
  double agree = agreement(ctx.task, current);
  run.summary["agreement_round_0"] = agree;
  std::string stop = agree >= target ? "agreement" : "max_rounds";
  size_t failed = 0;
  for (int round = 1; round <= max_rounds && agree < target; ++round) {
    std::vector<std::vector<Answer>> next = current;
    for (size_t i = 0; i < items.size(); ++i) {
      if (unanimous(ctx.task, current[i])) continue;
      ++item_rounds[i];
      for (size_t m = 0; m < n_models; ++m) {
        const uint64_t seed = eval::mix_seed(ctx.seed, fmt::format("{}#{}#{}", items[i].id, round, m));
        Result<Answer> a = ctx.ask(ctx.models[m], items[i],
                                   debate_prompt(ctx.task, items[i], current[i], m, seed));
        ++item_calls[i];
        if (!a.is_ok()) {
          ++failed;  // keep the model's previous answer
          continue;
        }
        next[i][m] = std::move(a).value();
        next[i][m].model = ctx.models[m];
      }
    }
    current = std::move(next);
    run.rounds = round;
    const double now = agreement(ctx.task, current);
    run.summary[fmt::format("agreement_round_{}", round)] = now;
    const bool improved = now > agree;
    agree = now;
    if (agree >= target) {
      stop = "agreement";
      break;
    }
    if (!improved) {
      stop = "no_improvement";
      break;
    }
  }
  run.notes["stop_reason"] = stop;
  run.summary["failed_calls"] = static_cast<double>(failed);
  for (size_t i = 0; i < items.size(); ++i) {
    const uint64_t seed = item_seed(ctx.seed, items[i]);
    Choice c = majority_vote(ctx.task, current[i], ctx.model_weights, seed);
    StrategyResult r = make_result(current[i], c, "debate");
    r.rounds = item_rounds[i];
    r.extra_calls = item_calls[i];
    run.extra_calls += item_calls[i];
    run.items.push_back(std::move(r));
  }
  if (params.get_bool("equal_compute_baseline")) {
    std::vector<Answer> base;
    int baseline_calls = 0;
    for (size_t i = 0; i < items.size(); ++i) {
      std::vector<Answer> pool = answers[i];
      std::vector<double> weights;
      for (size_t m = 0; m < n_models; ++m) weights.push_back(weight_of(ctx.model_weights, m));
      for (int k = 0; k < item_calls[i]; ++k) {
        const size_t m = static_cast<size_t>(k) % n_models;
        Result<Answer> a = ctx.ask(ctx.models[m], items[i], items[i].prompt);
        ++baseline_calls;
        if (!a.is_ok()) continue;
        pool.push_back(std::move(a).value());
        pool.back().model = ctx.models[m];
        weights.push_back(weight_of(ctx.model_weights, m));
      }
      Choice c = majority_vote(ctx.task, pool, weights, item_seed(ctx.seed, items[i]));
      base.push_back(chosen_answer(pool, c, "vote_equal_compute"));
    }
    run.baselines["vote_equal_compute"] = std::move(base);
    run.summary["baseline_calls"] = baseline_calls;
  }
  return run;
}

}  // namespace quorum::ensemble::detail
