// Fitting strategy weights on validation answers and applying them unchanged to test.
//
// What is fitted: per-model weights (StrategyContext::model_weights) or, for the similarity-based
// strategies on QA/summaries, the per-metric weights (sim_rouge_l, sim_token_f1, sim_cosine).
// Objective: the task's main metric (accuracy / SQuAD EM / ROUGE-L F1) of the strategy's chosen
// answers, averaged over the validation items. Search, deterministic: every point of the simplex
// grid {k/steps, sum = 1} when it has at most max_grid_points points, otherwise coordinate search
// from uniform weights over the same grid values. Ties go to the weights closest to uniform
// (Euclidean), then to the first in enumeration order — so uninformative data keeps uniform
// weights. The result is normalized (sums to 1) and saved as JSON with the score it reached.
//
// Fitting on test is impossible by construction: fit_weights takes a ValidationSet, and the only
// way to build one is from a Dataset whose split is Split::kValidation.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "ensemble/strategy.h"
#include "eval/task.h"

namespace quorum::ensemble {

class ValidationSet {
 public:
  // Fails unless dataset.split == kValidation and answers has one row per item.
  static Result<ValidationSet> make(const eval::Dataset& dataset, std::vector<std::vector<Answer>> answers);
  const std::string& task() const { return task_; }
  const std::string& source() const { return source_; }
  const std::vector<Item>& items() const { return items_; }
  const std::vector<std::vector<Answer>>& answers() const { return answers_; }

 private:
  ValidationSet() = default;
  std::string task_, source_;
  std::vector<Item> items_;
  std::vector<std::vector<Answer>> answers_;
};

enum class WeightTarget { kModels, kSimilarityMetrics };

struct FitOptions {
  WeightTarget target = WeightTarget::kModels;
  int grid_steps = 10;             // weights are multiples of 1/grid_steps
  size_t max_grid_points = 3000;   // above this, coordinate search
  int max_passes = 5;              // coordinate search passes
};

struct FittedWeights {
  std::string strategy;
  std::string task;
  WeightTarget target = WeightTarget::kModels;
  std::vector<std::string> names;  // model names or metric parameter names
  std::vector<double> weights;     // same order, sum 1
  std::string metric;              // main metric name
  double validation_score = 0.0;   // with the fitted weights
  double uniform_score = 0.0;      // with uniform weights, for comparison
  size_t validation_items = 0;
  int evaluations = 0;             // strategy runs the search made
  std::string search;              // "grid" or "coordinate"
};

// Mean main-metric score of a strategy run's chosen answers (unparsed answers score 0).
double run_score(const TaskSpec& task, const std::vector<Item>& items, const StrategyRun& run);

Result<FittedWeights> fit_weights(const StrategyEntry& entry, const StrategyContext& ctx,
                                  const Params& params, const ValidationSet& validation,
                                  const FitOptions& options = {});

// Puts fitted weights into a context (model weights; the model list must match by name) or into
// parameters (metric weights). Errors name the mismatch.
Status apply_weights(const FittedWeights& fitted, StrategyContext& ctx, Params& params);

std::string weights_to_json(const FittedWeights& fitted);
Result<FittedWeights> weights_from_json(const std::string& text);
Status save_weights(const FittedWeights& fitted, const std::string& path);
Result<FittedWeights> load_weights(const std::string& path);

}  // namespace quorum::ensemble
