// Test data for strategies that ask models again: a table of answers per (model, item), one per
// call in order (round 1, round 2, ...), parsed for a classification task like a backend's answer
// would be. It is recorded test data, not a stand-in for an engine: strategies only ever see
// Answers, and this is the table the test asserts against. Every prompt is kept for inspection.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "ensemble/answer.h"

namespace quorum::ensemble::testing {

inline Answer label_answer(const TaskSpec& task, const std::string& model, const std::string& text) {
  Answer a;
  a.model = model;
  a.raw = " " + text;
  a.text = text;
  a.parsed = false;
  for (const auto& l : task.labels) a.parsed = a.parsed || l == text;
  if (!a.parsed) a.text.clear();
  return a;
}

class ScriptedAnswers {
 public:
  explicit ScriptedAnswers(TaskSpec task) : task_(std::move(task)) {}
  // The answers `model` gives to `item_id` on its 1st, 2nd, ... extra call.
  void script(const std::string& model, const std::string& item_id, std::vector<std::string> texts) {
    table_[{model, item_id}] = std::move(texts);
  }
  AskFn ask() {
    return [this](const std::string& model, const Item& item, const std::string& prompt) -> Result<Answer> {
      prompts_.push_back({model, prompt});
      auto it = table_.find({model, item.id});
      size_t& n = calls_[{model, item.id}];
      if (it == table_.end() || n >= it->second.size()) {
        return Error(ErrorCode::kNotFound, "no scripted answer").where(model + " / " + item.id);
      }
      return label_answer(task_, model, it->second[n++]);
    };
  }
  size_t total_calls() const {
    size_t n = 0;
    for (const auto& [k, v] : calls_) n += v;
    return n;
  }
  const std::vector<std::pair<std::string, std::string>>& prompts() const { return prompts_; }

 private:
  TaskSpec task_;
  std::map<std::pair<std::string, std::string>, std::vector<std::string>> table_;
  std::map<std::pair<std::string, std::string>, size_t> calls_;
  std::vector<std::pair<std::string, std::string>> prompts_;
};

}  // namespace quorum::ensemble::testing
