// What the evaluation runner needs between a config's task and the models: loading a task's
// JSONL split into Items (field mapping, references, few-shot prefix, prompt template) and turning
// a backend's completion or label scores into an ensemble::Answer.
//
// Prompts follow shared/taskmodels/PROMPTS.md: `{field}` placeholders filled verbatim; the answer
// is the generated text cut at the first newline and stripped; a classification answer is parsed
// when it equals one of the task's labels (compared case-insensitively, stored canonically).
#pragma once

#include <string>
#include <vector>

#include "backend/backend.h"
#include "ensemble/answer.h"
#include "eval/eval_config.h"
#include "eval/task.h"

namespace quorum::eval {

// Fills `{name}` placeholders from `fields`; an unknown placeholder is an error naming it.
Result<std::string> fill_template(const std::string& tmpl,
                                  const std::map<std::string, std::string>& fields);

// Loads the task's data file: every row becomes an Item (fields mapped, references from the
// reference column or "answers"/"label", prompt = few-shot prefix + filled template). `limit` > 0
// keeps the first `limit` rows. Errors name the file and line.
Result<Dataset> load_task_items(const TaskConfig& task, int64_t limit);

// The prediction text of a generated answer: cut at the first '\n', then stripped.
std::string answer_text(const std::string& raw);

// A model's generated completion as an Answer for `spec`.
ensemble::Answer answer_from_completion(const TaskSpec& spec, const std::string& model,
                                        const backend::Completion& completion);
// A model's label scores (one per spec.labels, natural log) as an Answer: the best label wins.
ensemble::Answer answer_from_scores(const TaskSpec& spec, const std::string& model,
                                    const backend::Scores& scores);

// The continuation scored for a label: " <label>" (the models answer with a leading space).
std::string label_continuation(const std::string& label);

}  // namespace quorum::eval
