// Classification metrics, calibration error and significance tests.
//
// Classification: predictions are label strings; an empty string means "unparseable" — it counts
// as wrong for accuracy and lowers the recall of the true class, but is no class of its own.
// Per-class precision/recall/F1 follow scikit-learn's conventions (a 0/0 ratio is 0). Macro-F1 is
// the unweighted mean over the task's declared labels (all of them, also those never predicted
// nor present), so numbers are comparable between models.
//
// ECE (Guo et al. 2017, "On Calibration of Modern Neural Networks"): M equal-width bins over
// [0, 1]; bin b holds confidences in (b/M, (b+1)/M], bin 0 also holds 0;
// ECE = sum_b |B_b|/n * |acc(B_b) - mean_conf(B_b)|.
//
// Significance: paired bootstrap over items (Koehn 2004, Berg-Kirkpatrick et al. 2012) and
// McNemar's test on the discordant pairs (exact two-sided binomial below `exact_below` pairs,
// chi-square with continuity correction otherwise).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "eval/task.h"

namespace quorum::eval {

struct ClassScore {
  std::string label;
  double precision = 0.0;
  double recall = 0.0;
  double f1 = 0.0;
  size_t support = 0;  // items whose true label is this one
};

struct ClassificationReport {
  size_t n = 0;
  size_t correct = 0;
  size_t unparsed = 0;  // predictions that were empty (unparseable)
  double accuracy = 0.0;
  double macro_f1 = 0.0;
  std::vector<ClassScore> per_class;  // in the order of `labels`
};

// Scores predictions against gold labels. Errors: different lengths, a gold label outside `labels`.
Result<ClassificationReport> classification_report(const std::vector<std::string>& gold,
                                                   const std::vector<std::string>& predicted,
                                                   const std::vector<std::string>& labels);
// F1 of `positive` as the positive class (binary F1, e.g. sst2 with "positive").
Result<double> binary_f1(const std::vector<std::string>& gold,
                         const std::vector<std::string>& predicted, const std::string& positive);

// Expected calibration error. confidence[i] in [0, 1]; correct[i] whether item i was right.
Result<double> expected_calibration_error(const std::vector<double>& confidence,
                                          const std::vector<bool>& correct, int bins = 10);

struct BootstrapResult {
  double delta = 0.0;     // mean(a) - mean(b) on the real sample
  double ci_low = 0.0;    // 2.5th percentile of the resampled deltas
  double ci_high = 0.0;   // 97.5th percentile
  double p_value = 1.0;   // two-sided: 2 * min(P(delta* <= 0), P(delta* >= 0)), at most 1
  int resamples = 0;
};

// Paired bootstrap on per-item scores of two systems (same items, same order).
Result<BootstrapResult> paired_bootstrap(const std::vector<double>& a, const std::vector<double>& b,
                                         int resamples = 1000, uint64_t seed = 0);

struct McNemarResult {
  size_t a_only = 0;  // items system A got right and B wrong
  size_t b_only = 0;  // items B got right and A wrong
  bool exact = false; // exact binomial test used
  double statistic = 0.0;  // chi-square (corrected) when !exact
  double p_value = 1.0;
};

// One item's score under a task's main metric: accuracy (prediction equals the first reference,
// the gold label), SQuAD exact match (max over references) or ROUGE-L F1 (max over references).
// An unparsed prediction is passed as "" and scores 0 for accuracy.
double main_metric_score(MainMetric metric, const std::string& prediction,
                         const std::vector<std::string>& references);

Result<McNemarResult> mcnemar_test(const std::vector<bool>& a_correct,
                                   const std::vector<bool>& b_correct, size_t exact_below = 25);

}  // namespace quorum::eval
