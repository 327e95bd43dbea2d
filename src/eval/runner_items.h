// What the evaluation runner needs between a config's task and the models: loading a task's split
// (ensemble's dataset loaders, with the config's format, field mapping and few-shot examples) and
// turning a backend's completion or label scores into an ensemble::Answer.
//
// Answers follow shared/taskmodels/PROMPTS.md: the generated text cut at the first newline and
// stripped (eval/prompt.h); a classification answer is parsed when it equals a label exactly, as
// the reference scores were computed.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "ensemble/answer.h"
#include "eval/eval_config.h"
#include "eval/task.h"

namespace quorum::eval {

// Loads the task's split (the first `limit` items when > 0) and applies its few-shot prefix.
// Rows whose gold label is not one of the task's labels are left out and listed in
// Dataset::skipped (the limit counts kept items); a file where every row is like that fails.
Result<Dataset> load_task_items(const TaskConfig& task, int64_t limit);

// A prompt shortened to fit a model's context (shared/taskmodels/PROMPTS.md): when the prompt
// (as the model tokenizes it, BOS included) takes more than `budget` tokens, whole words are
// removed from the END of the task's truncatable field (squad: context, samsum: dialogue) until it
// fits. A word is a maximal run of non-whitespace; cutting k words keeps the field's text up to
// the end of its (n - k)-th word, so the whitespace inside the kept part (newlines between
// dialogue turns) is unchanged. The field is found as its last occurrence in the prompt (the
// query comes after any few-shot examples). Prompts of tasks without a truncatable field, and
// prompts that fit, are returned unchanged with words_cut = 0.
struct FittedPrompt {
  std::string prompt;
  int words_cut = 0;
};
using TokenCounter = std::function<Result<int64_t>(const std::string&)>;
Result<FittedPrompt> fit_prompt(const TaskSpec& spec, const Item& item, int64_t budget,
                                const TokenCounter& count_tokens);

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
