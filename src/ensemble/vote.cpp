// Majority vote, weighted choice and the answer rules they share (see vote.h).
#include "ensemble/vote.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "eval/rng.h"
#include "eval/text_metrics.h"

namespace quorum::ensemble {
namespace {

bool nearly_equal(double a, double b) {
  return std::fabs(a - b) <= 1e-12 * std::max({1.0, std::fabs(a), std::fabs(b)});
}

double cosine(const std::vector<float>& a, const std::vector<float>& b) {
  double dot = 0.0, na = 0.0, nb = 0.0;
  for (size_t i = 0; i < a.size(); ++i) {
    dot += static_cast<double>(a[i]) * b[i];
    na += static_cast<double>(a[i]) * a[i];
    nb += static_cast<double>(b[i]) * b[i];
  }
  if (na <= 0.0 || nb <= 0.0) return 0.0;
  return std::clamp(dot / std::sqrt(na * nb), 0.0, 1.0);  // negative similarity counts as none
}

// Picks one of `keys` (sorted, non-empty) with the per-item seed.
size_t seeded_pick(size_t n, uint64_t seed) {
  if (n <= 1) return 0;
  eval::SplitMix64 rng(seed);
  return static_cast<size_t>(rng.below(n));
}

}  // namespace

bool answer_counts(const TaskSpec& task, const Answer& answer) {
  if (!answer.parsed) return false;
  if (task.kind == TaskKind::kClassification) {
    return std::find(task.labels.begin(), task.labels.end(), answer.text) != task.labels.end();
  }
  return true;
}

std::string answer_key(const TaskSpec& task, const Answer& answer) {
  switch (task.kind) {
    case TaskKind::kClassification: return answer.text;
    case TaskKind::kExtractiveQa: return eval::squad_normalize(answer.text);
    case TaskKind::kSummarization: {
      std::string key;
      for (const auto& t : eval::rouge_tokens(answer.text)) key += (key.empty() ? "" : " ") + t;
      return key;
    }
  }
  return answer.text;
}

double answer_similarity(const TaskSpec& task, const Answer& a, const Answer& b,
                         const SimilarityWeights& sim) {
  if (answer_key(task, a) == answer_key(task, b)) return 1.0;
  if (task.kind == TaskKind::kClassification) return 0.0;
  double num = 0.0, den = 0.0;
  if (sim.rouge_l > 0.0) {
    num += sim.rouge_l * eval::rouge_l(a.text, b.text).f1;  // symmetric in its arguments
    den += sim.rouge_l;
  }
  if (sim.token_f1 > 0.0) {
    num += sim.token_f1 * eval::squad_f1_single(a.text, b.text);
    den += sim.token_f1;
  }
  if (sim.cosine > 0.0 && !a.embedding.empty() && a.embedding.size() == b.embedding.size()) {
    num += sim.cosine * cosine(a.embedding, b.embedding);
    den += sim.cosine;
  }
  return den > 0.0 ? num / den : 0.0;
}

uint64_t item_seed(uint64_t seed, const Item& item) { return eval::mix_seed(seed, item.id); }

double weight_of(const std::vector<double>& weights, size_t m) {
  return weights.empty() ? 1.0 : weights[m];
}

Choice majority_vote(const TaskSpec& task, const std::vector<Answer>& answers,
                     const std::vector<double>& weights, uint64_t seed) {
  Choice c;
  struct Group {
    size_t count = 0;
    double weight = 0.0;
    size_t first = 0;
  };
  std::map<std::string, Group> groups;  // sorted by key: deterministic iteration
  for (size_t i = 0; i < answers.size(); ++i) {
    if (!answer_counts(task, answers[i])) {
      c.dropped.push_back(i);
      continue;
    }
    auto [it, inserted] = groups.try_emplace(answer_key(task, answers[i]));
    if (inserted) it->second.first = i;
    ++it->second.count;
    it->second.weight += weight_of(weights, i);
  }
  if (groups.empty()) return c;
  size_t top = 0;
  for (const auto& [k, g] : groups) top = std::max(top, g.count);
  std::vector<std::string> tied;
  for (const auto& [k, g] : groups) {
    if (g.count == top) tied.push_back(k);
  }
  if (tied.size() > 1) {
    c.tie = true;
    c.tied_keys = tied;
  }
  double best_w = -1e300;
  for (const auto& k : tied) best_w = std::max(best_w, groups[k].weight);
  std::vector<std::string> heaviest;
  for (const auto& k : tied) {
    if (nearly_equal(groups[k].weight, best_w)) heaviest.push_back(k);
  }
  const std::string& winner = heaviest[seeded_pick(heaviest.size(), seed)];
  c.chosen = static_cast<int>(groups[winner].first);
  return c;
}

Choice weighted_choice(const TaskSpec& task, const std::vector<Answer>& answers,
                       const std::vector<double>& weights, const SimilarityWeights& sim,
                       uint64_t seed) {
  Choice c;
  std::vector<size_t> voters;
  for (size_t i = 0; i < answers.size(); ++i) {
    if (answer_counts(task, answers[i])) {
      voters.push_back(i);
    } else {
      c.dropped.push_back(i);
    }
  }
  // score[i] = sum_j w_j S(i, j); candidates are counting answers with weight > 0.
  std::vector<std::pair<size_t, double>> scored;
  for (size_t i : voters) {
    if (!(weight_of(weights, i) > 0.0)) continue;
    double s = 0.0;
    for (size_t j : voters) {
      double w = weight_of(weights, j);
      if (w != 0.0) s += w * (i == j ? 1.0 : answer_similarity(task, answers[i], answers[j], sim));
    }
    scored.emplace_back(i, s);
  }
  if (scored.empty()) return c;
  double best = -1e300;
  for (const auto& [i, s] : scored) best = std::max(best, s);
  // Top candidates grouped by key; within a key keep the answer with the largest own weight.
  std::map<std::string, size_t> top;
  for (const auto& [i, s] : scored) {
    if (!nearly_equal(s, best)) continue;
    auto [it, inserted] = top.try_emplace(answer_key(task, answers[i]), i);
    if (!inserted && weight_of(weights, i) > weight_of(weights, it->second)) it->second = i;
  }
  if (top.size() > 1) {
    c.tie = true;
    for (const auto& [k, i] : top) c.tied_keys.push_back(k);
  }
  double best_own = -1e300;
  for (const auto& [k, i] : top) best_own = std::max(best_own, weight_of(weights, i));
  std::vector<size_t> finalists;
  for (const auto& [k, i] : top) {
    if (nearly_equal(weight_of(weights, i), best_own)) finalists.push_back(i);
  }
  c.chosen = static_cast<int>(finalists[seeded_pick(finalists.size(), seed)]);
  return c;
}

Answer chosen_answer(const std::vector<Answer>& answers, const Choice& choice,
                     const std::string& strategy) {
  Answer a;
  if (choice.chosen >= 0) a = answers[static_cast<size_t>(choice.chosen)];
  a.model = strategy;
  return a;
}

StrategyResult make_result(const std::vector<Answer>& answers, const Choice& choice,
                           const std::string& strategy) {
  StrategyResult r;
  r.chosen = chosen_answer(answers, choice, strategy);
  r.tie = choice.tie;
  for (size_t i : choice.dropped) r.dropped.push_back(answers[i].model);
  if (choice.chosen >= 0) r.notes["from_model"] = answers[static_cast<size_t>(choice.chosen)].model;
  return r;
}

}  // namespace quorum::ensemble
