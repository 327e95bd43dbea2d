// Evaluation tasks and their items: what a task is (kind, labels, prompt template, main metric)
// and one dataset row as every later stage sees it (Item).
//
// The four built-in tasks are the ones the qt-* task models were trained on
// (shared/taskmodels/PROMPTS.md): emotion (CARER, 6 labels), sst2 (binary sentiment), squad
// (extractive QA, SQuAD v1.1) and samsum (dialogue summarization). Their prompt templates are the
// exact strings of PROMPTS.md, `{field}` placeholders filled verbatim from Item::fields.
//
// Layering: this part of `eval` (library quorum_evaldata: tasks, datasets, prompts, answer parsing,
// metrics) sits below `ensemble`, so strategies can use items and similarity metrics; the
// evaluation runner and report (library quorum_eval) sit above `ensemble`.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/status.h"

namespace quorum::eval {

// What kind of answer a task expects; decides parsing, metrics and which strategies apply.
enum class TaskKind {
  kClassification,  // one label out of TaskSpec::labels
  kExtractiveQa,    // a short span of text (SQuAD)
  kSummarization,   // free text (SAMSum)
};

const char* task_kind_name(TaskKind kind);

// Which part of a dataset a set of items comes from. Weight fitting accepts only kValidation.
enum class Split { kTrain, kValidation, kTest };

const char* split_name(Split split);
Result<Split> parse_split(const std::string& name);  // "train", "validation"/"val", "test"

// The main metric a task is scored (and weights are fitted) by.
enum class MainMetric {
  kAccuracy,     // classification
  kExactMatch,   // SQuAD EM (official normalization, max over references)
  kRougeL,       // summary-level LCS F1 (rouge-score "rougeL")
};

const char* main_metric_name(MainMetric metric);

// A task definition. The built-in table (builtin_tasks) holds the four tasks above; a generic
// JSONL task can be described by the same struct (kind, labels, template) from a config.
struct TaskSpec {
  std::string name;            // "emotion", "sst2", "squad", "samsum"
  TaskKind kind = TaskKind::kClassification;
  std::vector<std::string> labels;  // classification only, in canonical order
  // Zero-shot prompt with `{field}` placeholders, e.g. "Task: sentiment\nText: {sentence}\nAnswer:".
  std::string prompt_template;
  // The field(s) that may be shortened from the end to fit a context (squad: context,
  // samsum: dialogue); empty when the input is never cut.
  std::string truncatable_field;
  MainMetric main_metric = MainMetric::kAccuracy;
  // Separator put between few-shot examples and the query (each example is the filled template
  // followed by its target).
  std::string shot_separator = "\n\n";
};

// The built-in tasks, in a fixed order: emotion, sst2, squad, samsum.
const std::vector<TaskSpec>& builtin_tasks();
// Looks a built-in task up by name ("emotion", "carer" alias, "sst2", "squad", "samsum").
Result<TaskSpec> find_task(const std::string& name);

// One dataset row. `fields` holds the task's inputs by name (sst2: sentence; emotion: text;
// squad: title, context, question; samsum: dialogue) plus any extra columns as text.
struct Item {
  std::string id;                       // unique within a dataset, e.g. "sst2-dev-0"
  std::string task;                     // TaskSpec::name
  std::map<std::string, std::string> fields;
  std::vector<std::string> references;  // all reference answers (label(s), spans, summaries)
  std::string prompt;                   // the exact model input after BOS (no chat template)
  std::string target;                   // the training target (" positive"), may be empty
};

// A row left out of a dataset (LoadOptions::skip_unknown_labels): where it is, its id if it had
// one, and why.
struct SkippedRow {
  std::string where;  // "file:line"
  std::string id;
  std::string error;  // the full error, naming the file, line and label
};

// A loaded split of one task. Items keep the file order.
struct Dataset {
  std::string task;
  Split split = Split::kTest;
  std::string source;  // file the items came from (for reports and errors)
  std::vector<Item> items;
  std::vector<SkippedRow> skipped;  // rows left out (only with skip_unknown_labels)
};

}  // namespace quorum::eval
