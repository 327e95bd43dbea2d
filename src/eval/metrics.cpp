// Classification metrics, ECE, paired bootstrap and McNemar's test (definitions in metrics.h).
#include "eval/metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "eval/rng.h"
#include "eval/text_metrics.h"

namespace quorum::eval {
namespace {

Status check_same_size(size_t a, size_t b, const char* what) {
  if (a == b) return Status::ok();
  return Error(ErrorCode::kInvalidArgument, "paired inputs have different lengths")
      .where(what)
      .expected(fmt::format("{} items", a))
      .actual(fmt::format("{} items", b));
}

double ratio(size_t num, size_t den) {
  return den > 0 ? static_cast<double>(num) / static_cast<double>(den) : 0.0;
}

double f_measure(double p, double r) { return p + r > 0 ? 2.0 * p * r / (p + r) : 0.0; }

// Percentile by linear interpolation between order statistics (numpy's default).
double percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  double pos = q * static_cast<double>(v.size() - 1);
  size_t lo = static_cast<size_t>(std::floor(pos));
  size_t hi = std::min(lo + 1, v.size() - 1);
  double frac = pos - static_cast<double>(lo);
  return v[lo] * (1.0 - frac) + v[hi] * frac;
}

}  // namespace

Result<ClassificationReport> classification_report(const std::vector<std::string>& gold,
                                                   const std::vector<std::string>& predicted,
                                                   const std::vector<std::string>& labels) {
  QUORUM_TRY(check_same_size(gold.size(), predicted.size(), "classification_report"));
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < labels.size(); ++i) index[labels[i]] = i;
  std::vector<size_t> tp(labels.size(), 0), fp(labels.size(), 0), fn(labels.size(), 0),
      support(labels.size(), 0);
  ClassificationReport rep;
  rep.n = gold.size();
  for (size_t i = 0; i < gold.size(); ++i) {
    auto g = index.find(gold[i]);
    if (g == index.end()) {
      return Error(ErrorCode::kInvalidArgument, "gold label is not one of the task's labels")
          .where(fmt::format("item {}", i))
          .actual(fmt::format("'{}'", gold[i]));
    }
    ++support[g->second];
    if (predicted[i].empty()) ++rep.unparsed;
    auto p = index.find(predicted[i]);
    if (p != index.end() && p->second == g->second) {
      ++rep.correct;
      ++tp[g->second];
    } else {
      ++fn[g->second];
      if (p != index.end()) ++fp[p->second];
    }
  }
  rep.accuracy = ratio(rep.correct, rep.n);
  double sum_f1 = 0.0;
  for (size_t c = 0; c < labels.size(); ++c) {
    ClassScore s;
    s.label = labels[c];
    s.precision = ratio(tp[c], tp[c] + fp[c]);
    s.recall = ratio(tp[c], tp[c] + fn[c]);
    s.f1 = f_measure(s.precision, s.recall);
    s.support = support[c];
    sum_f1 += s.f1;
    rep.per_class.push_back(s);
  }
  rep.macro_f1 = labels.empty() ? 0.0 : sum_f1 / static_cast<double>(labels.size());
  return rep;
}

Result<double> binary_f1(const std::vector<std::string>& gold,
                         const std::vector<std::string>& predicted, const std::string& positive) {
  QUORUM_TRY(check_same_size(gold.size(), predicted.size(), "binary_f1"));
  size_t tp = 0, fp = 0, fn = 0;
  for (size_t i = 0; i < gold.size(); ++i) {
    bool g = gold[i] == positive, p = predicted[i] == positive;
    tp += g && p;
    fp += !g && p;
    fn += g && !p;
  }
  return f_measure(ratio(tp, tp + fp), ratio(tp, tp + fn));
}

Result<double> expected_calibration_error(const std::vector<double>& confidence,
                                          const std::vector<bool>& correct, int bins) {
  QUORUM_TRY(check_same_size(confidence.size(), correct.size(), "expected_calibration_error"));
  if (bins < 1) {
    return Error(ErrorCode::kInvalidArgument, "ECE needs at least one bin")
        .actual(fmt::format("bins = {}", bins));
  }
  if (confidence.empty()) return 0.0;
  std::vector<double> conf_sum(static_cast<size_t>(bins), 0.0);
  std::vector<size_t> hits(static_cast<size_t>(bins), 0), count(static_cast<size_t>(bins), 0);
  for (size_t i = 0; i < confidence.size(); ++i) {
    double c = confidence[i];
    if (!(c >= 0.0 && c <= 1.0)) {
      return Error(ErrorCode::kInvalidArgument, "confidence outside [0, 1]")
          .where(fmt::format("item {}", i))
          .actual(fmt::format("{}", c));
    }
    // Bin b covers (b/M, (b+1)/M]; 0 goes to bin 0.
    int b = static_cast<int>(std::ceil(c * bins)) - 1;
    b = std::clamp(b, 0, bins - 1);
    conf_sum[static_cast<size_t>(b)] += c;
    hits[static_cast<size_t>(b)] += correct[i] ? 1 : 0;
    ++count[static_cast<size_t>(b)];
  }
  double ece = 0.0;
  const double n = static_cast<double>(confidence.size());
  for (size_t b = 0; b < count.size(); ++b) {
    if (count[b] == 0) continue;
    double nb = static_cast<double>(count[b]);
    ece += nb / n * std::fabs(static_cast<double>(hits[b]) / nb - conf_sum[b] / nb);
  }
  return ece;
}

Result<BootstrapResult> paired_bootstrap(const std::vector<double>& a, const std::vector<double>& b,
                                         int resamples, uint64_t seed) {
  QUORUM_TRY(check_same_size(a.size(), b.size(), "paired_bootstrap"));
  if (a.empty() || resamples < 1) {
    return Error(ErrorCode::kInvalidArgument, "paired bootstrap needs items and resamples")
        .actual(fmt::format("{} items, {} resamples", a.size(), resamples));
  }
  const size_t n = a.size();
  std::vector<double> d(n);
  double delta = 0.0;
  for (size_t i = 0; i < n; ++i) {
    d[i] = a[i] - b[i];
    delta += d[i];
  }
  BootstrapResult res;
  res.delta = delta / static_cast<double>(n);
  res.resamples = resamples;
  SplitMix64 rng(seed);
  std::vector<double> deltas(static_cast<size_t>(resamples));
  size_t le0 = 0, ge0 = 0;
  for (int r = 0; r < resamples; ++r) {
    double s = 0.0;
    for (size_t i = 0; i < n; ++i) s += d[rng.below(n)];
    s /= static_cast<double>(n);
    deltas[static_cast<size_t>(r)] = s;
    le0 += s <= 0.0;
    ge0 += s >= 0.0;
  }
  res.ci_low = percentile(deltas, 0.025);
  res.ci_high = percentile(deltas, 0.975);
  res.p_value = std::min(1.0, 2.0 * ratio(std::min(le0, ge0), static_cast<size_t>(resamples)));
  return res;
}

double main_metric_score(MainMetric metric, const std::string& prediction,
                         const std::vector<std::string>& references) {
  switch (metric) {
    case MainMetric::kAccuracy:
      return !references.empty() && !prediction.empty() && prediction == references[0] ? 1.0 : 0.0;
    case MainMetric::kExactMatch:
      return squad_exact_match(prediction, references);
    case MainMetric::kRougeL: {
      double best = 0.0;
      for (const auto& r : references) best = std::max(best, rouge_l(r, prediction).f1);
      return best;
    }
  }
  return 0.0;
}

Result<McNemarResult> mcnemar_test(const std::vector<bool>& a_correct,
                                   const std::vector<bool>& b_correct, size_t exact_below) {
  QUORUM_TRY(check_same_size(a_correct.size(), b_correct.size(), "mcnemar_test"));
  McNemarResult res;
  for (size_t i = 0; i < a_correct.size(); ++i) {
    res.a_only += a_correct[i] && !b_correct[i];
    res.b_only += !a_correct[i] && b_correct[i];
  }
  const size_t n = res.a_only + res.b_only;
  if (n < exact_below || n == 0) {
    // (No discordant pairs: the exact test's p = 1, no evidence of a difference.)
    // Two-sided exact binomial: 2 * P(X <= min(b, c)), X ~ Binomial(n, 1/2). Computed in log
    // space so large n cannot overflow.
    res.exact = true;
    const size_t k_max = std::min(res.a_only, res.b_only);
    double tail = 0.0;
    for (size_t k = 0; k <= k_max; ++k) {
      double log_c = std::lgamma(static_cast<double>(n) + 1) - std::lgamma(static_cast<double>(k) + 1) -
                     std::lgamma(static_cast<double>(n - k) + 1);
      tail += std::exp(log_c - static_cast<double>(n) * std::log(2.0));
    }
    res.p_value = std::min(1.0, 2.0 * tail);
    return res;
  }
  const double diff = std::fabs(static_cast<double>(res.a_only) - static_cast<double>(res.b_only));
  const double corrected = std::max(0.0, diff - 1.0);  // Edwards' continuity correction
  res.statistic = corrected * corrected / static_cast<double>(n);
  res.p_value = std::erfc(std::sqrt(res.statistic / 2.0));  // chi-square, 1 degree of freedom
  return res;
}

}  // namespace quorum::eval
