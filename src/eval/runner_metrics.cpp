// Per-system metrics for the runner (see runner_metrics.h), built on ensemble's metric functions.
#include "eval/runner_metrics.h"

#include "eval/metrics.h"
#include "eval/text_metrics.h"

namespace quorum::eval {

SystemScores score_answers(const TaskSpec& spec, const std::vector<Item>& items,
                           const std::vector<ensemble::Answer>& answers) {
  SystemScores s;
  const size_t n = items.size();
  s.item_scores.resize(n);
  s.correct.resize(n);
  double sum_main = 0.0;
  for (size_t i = 0; i < n; ++i) {
    const std::string pred = answers[i].parsed ? answers[i].text : "";
    s.item_scores[i] = main_metric_score(spec.main_metric, pred, items[i].references);
    s.correct[i] = s.item_scores[i] >= 1.0;
    sum_main += s.item_scores[i];
  }
  s.main = n > 0 ? 100.0 * sum_main / static_cast<double>(n) : 0.0;
  s.metrics = nlohmann::json::object();
  s.metrics[main_metric_name(spec.main_metric)] = s.main;
  size_t unparsed = 0;
  for (const auto& a : answers) unparsed += a.parsed ? 0 : 1;
  s.metrics["unparsed"] = unparsed;
  if (spec.kind == TaskKind::kClassification) {
    std::vector<std::string> gold, pred;
    for (size_t i = 0; i < n; ++i) {
      gold.push_back(items[i].references.front());
      pred.push_back(answers[i].parsed ? answers[i].text : "");
    }
    if (auto r = classification_report(gold, pred, spec.labels); r.is_ok()) {
      s.metrics["macro_f1"] = 100.0 * r->macro_f1;
    }
  } else if (spec.kind == TaskKind::kExtractiveQa) {
    double f1 = 0;
    for (size_t i = 0; i < n; ++i) f1 += squad_f1(answers[i].text, items[i].references);
    s.metrics["f1"] = n > 0 ? 100.0 * f1 / static_cast<double>(n) : 0.0;
  } else {
    double r1 = 0, r2 = 0;
    for (size_t i = 0; i < n; ++i) {
      double b1 = 0, b2 = 0;
      for (const auto& ref : items[i].references) {
        b1 = std::max(b1, rouge_n(ref, answers[i].text, 1).f1);
        b2 = std::max(b2, rouge_n(ref, answers[i].text, 2).f1);
      }
      r1 += b1;
      r2 += b2;
    }
    s.metrics["rouge1"] = n > 0 ? 100.0 * r1 / static_cast<double>(n) : 0.0;
    s.metrics["rouge2"] = n > 0 ? 100.0 * r2 / static_cast<double>(n) : 0.0;
  }
  return s;
}

}  // namespace quorum::eval
