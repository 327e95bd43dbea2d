// The built-in task table (PROMPTS.md) and the names of the task enums.
#include "eval/task.h"

#include <fmt/format.h>

namespace quorum::eval {

const char* task_kind_name(TaskKind kind) {
  switch (kind) {
    case TaskKind::kClassification: return "classification";
    case TaskKind::kExtractiveQa: return "extractive_qa";
    case TaskKind::kSummarization: return "summarization";
  }
  return "?";
}

const char* split_name(Split split) {
  switch (split) {
    case Split::kTrain: return "train";
    case Split::kValidation: return "validation";
    case Split::kTest: return "test";
  }
  return "?";
}

Result<Split> parse_split(const std::string& name) {
  if (name == "train") return Split::kTrain;
  if (name == "validation" || name == "val" || name == "dev") return Split::kValidation;
  if (name == "test") return Split::kTest;
  return Error(ErrorCode::kInvalidArgument, "unknown split name")
      .expected("train, validation (val, dev) or test")
      .actual(fmt::format("'{}'", name));
}

const char* main_metric_name(MainMetric metric) {
  switch (metric) {
    case MainMetric::kAccuracy: return "accuracy";
    case MainMetric::kExactMatch: return "exact_match";
    case MainMetric::kRougeL: return "rougeL";
  }
  return "?";
}

const std::vector<TaskSpec>& builtin_tasks() {
  // Prompt strings are exactly those of shared/taskmodels/PROMPTS.md.
  static const std::vector<TaskSpec> kTasks = {
      {"emotion", TaskKind::kClassification,
       {"sadness", "joy", "love", "anger", "fear", "surprise"},
       "Task: emotion\nText: {text}\nAnswer:", "", MainMetric::kAccuracy, "\n\n"},
      {"sst2", TaskKind::kClassification, {"negative", "positive"},
       "Task: sentiment\nText: {sentence}\nAnswer:", "", MainMetric::kAccuracy, "\n\n"},
      {"squad", TaskKind::kExtractiveQa, {},
       "Task: qa\nContext: {context}\nQuestion: {question}\nAnswer:", "context",
       MainMetric::kExactMatch, "\n\n"},
      {"samsum", TaskKind::kSummarization, {},
       "Task: summary\nDialogue: {dialogue}\nAnswer:", "dialogue", MainMetric::kRougeL, "\n\n"},
  };
  return kTasks;
}

Result<TaskSpec> find_task(const std::string& name) {
  std::string key = name == "carer" ? "emotion" : name;
  std::string known;
  for (const TaskSpec& t : builtin_tasks()) {
    if (t.name == key) return t;
    known += (known.empty() ? "" : ", ") + t.name;
  }
  return Error(ErrorCode::kNotFound, "unknown task")
      .expected("one of " + known)
      .actual(fmt::format("'{}'", name))
      .hint("other datasets: use a generic JSONL task with a field mapping");
}

}  // namespace quorum::eval
