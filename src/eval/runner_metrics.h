// Scores one system's answers (a model's or a strategy's) on a task: the metrics the report shows
// (percent), the main metric, and per-item scores for significance tests.
//   classification: accuracy, macro_f1, unparsed      (main: accuracy)
//   extractive QA:  exact_match, f1                   (main: exact_match, SQuAD v1.1 script)
//   summarization:  rougeL, rouge1, rouge2            (main: rougeL, max over references)
#pragma once

#include <vector>

#include <nlohmann/json.hpp>

#include "ensemble/answer.h"
#include "eval/task.h"

namespace quorum::eval {

struct SystemScores {
  nlohmann::json metrics;            // name -> value in percent (counts as integers)
  double main = 0.0;                 // the task's main metric, percent
  std::vector<double> item_scores;   // per item in [0, 1] under the main metric
  std::vector<bool> correct;         // per item: item_scores[i] == 1 (for McNemar)
};

SystemScores score_answers(const TaskSpec& spec, const std::vector<Item>& items,
                           const std::vector<ensemble::Answer>& answers);

}  // namespace quorum::eval
