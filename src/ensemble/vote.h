// Building blocks every strategy shares: which answers count, when two answers are "the same",
// answer similarity, and the two basic combiners (majority vote, weighted choice) on one item.
//
// Rules, stated once:
// - An answer counts when `parsed` is true and, for classification, its text is one of the task's
//   labels. Others are "dropped" and reported; they never win.
// - Same answer: classification — equal labels; QA — equal after SQuAD normalization;
//   summarization — equal ROUGE token sequences.
// - Majority vote: most votes wins; a tie is broken by the larger sum of model weights of the tied
//   answers; a remaining tie by a seeded random choice (the seed mixed with the item id, so the
//   choice does not depend on item order). Weights only break ties here.
// - Weighted choice: answer i scores sum_j w_j * S(i, j) over counting answers j (S(i, i) = 1).
//   Classification: S = 1 for the same label, else 0, i.e. identical answers add their weights.
//   QA / summarization: S is a weighted mean of similarity metrics (ROUGE-L F1, SQuAD token F1,
//   cosine of the answers' embeddings when both have one), so the winner is the most
//   representative answer. Ties: larger own weight, then seeded random. Answers of a model with
//   weight 0 never win, so weights (1, 0, ..., 0) reproduce model 0 exactly.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ensemble/answer.h"

namespace quorum::ensemble {

// Weights of the similarity metrics of the weighted choice (QA / summarization). At least one
// must be > 0; cosine counts only for pairs where both answers carry an embedding.
struct SimilarityWeights {
  double rouge_l = 1.0;
  double token_f1 = 0.0;
  double cosine = 0.0;
};

bool answer_counts(const TaskSpec& task, const Answer& answer);
// The equality class of an answer (see the rules above).
std::string answer_key(const TaskSpec& task, const Answer& answer);
// S(a, b) in [0, 1]; 1 for answers with the same key.
double answer_similarity(const TaskSpec& task, const Answer& a, const Answer& b,
                         const SimilarityWeights& sim);
// The per-item seed of every random choice for `item`.
uint64_t item_seed(uint64_t seed, const Item& item);
// Weight of model m (1 when `weights` is empty).
double weight_of(const std::vector<double>& weights, size_t m);

struct Choice {
  int chosen = -1;                     // index into the answers; -1 when no answer counts
  bool tie = false;                    // more than one answer shared the top score / count
  std::vector<std::string> tied_keys;  // the tied answers' keys, sorted (empty without a tie)
  std::vector<size_t> dropped;         // indices of answers that did not count
};

// Majority vote over the counting answers (weights break ties, then `seed`).
Choice majority_vote(const TaskSpec& task, const std::vector<Answer>& answers,
                     const std::vector<double>& weights, uint64_t seed);
// Weighted choice (see above).
Choice weighted_choice(const TaskSpec& task, const std::vector<Answer>& answers,
                       const std::vector<double>& weights, const SimilarityWeights& sim,
                       uint64_t seed);

// The strategy's answer for a choice: a copy of the chosen answer renamed to `strategy`, or an
// unparsed empty answer when nothing counted.
Answer chosen_answer(const std::vector<Answer>& answers, const Choice& choice,
                     const std::string& strategy);
// Fills StrategyResult fields common to all strategies (chosen, tie, dropped model names).
StrategyResult make_result(const std::vector<Answer>& answers, const Choice& choice,
                           const std::string& strategy);

}  // namespace quorum::ensemble
