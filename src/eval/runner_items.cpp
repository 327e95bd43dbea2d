// Task items from JSONL and answers from completions (see runner_items.h).
#include "eval/runner_items.h"

#include <fmt/format.h>

#include <cmath>

#include "eval/dataset.h"
#include "eval/prompt.h"

namespace quorum::eval {

Result<Dataset> load_task_items(const TaskConfig& task, int64_t limit) {
  LoadOptions options;
  options.format = task.format;
  options.split = task.split;
  options.limit = limit > 0 ? static_cast<size_t>(limit) : 0;
  options.mapping.fields = task.fields;
  if (!task.reference_field.empty()) options.mapping.references = task.reference_field;
  // Rows with an unknown gold label are left out and reported (docs/STUDY.md); few-shot
  // examples are loaded strictly: a wrong example label would teach the models a wrong answer.
  options.skip_unknown_labels = true;
  QUORUM_ASSIGN_OR_RETURN(Dataset ds, load_dataset(task.spec, task.data, options));
  options.skip_unknown_labels = false;
  if (ds.items.empty()) return Error(ErrorCode::kCorruptFile, "the task's data file has no items").where(task.data);
  if (task.few_shot.n > 0) {
    LoadOptions shot_options = options;
    shot_options.limit = static_cast<size_t>(task.few_shot.n);
    QUORUM_ASSIGN_OR_RETURN(Dataset shots, load_dataset(task.spec, task.few_shot.data, shot_options));
    if (static_cast<int>(shots.items.size()) < task.few_shot.n) {
      return Error(ErrorCode::kInvalidArgument, "not enough few-shot examples")
          .where(task.few_shot.data)
          .expected(fmt::format("{} items", task.few_shot.n))
          .actual(fmt::format("{} items", shots.items.size()));
    }
    for (Item& item : ds.items) {
      QUORUM_ASSIGN_OR_RETURN(item.prompt, few_shot_prompt(task.spec, item, shots.items));
    }
  }
  return ds;
}

Result<FittedPrompt> fit_prompt(const TaskSpec& spec, const Item& item, int64_t budget,
                                const TokenCounter& count_tokens) {
  FittedPrompt out{item.prompt, 0};
  if (spec.truncatable_field.empty()) return out;
  QUORUM_ASSIGN_OR_RETURN(int64_t n, count_tokens(item.prompt));
  if (n <= budget) return out;
  const auto field = item.fields.find(spec.truncatable_field);
  if (field == item.fields.end() || field->second.empty()) return out;
  const std::string& value = field->second;
  const size_t at = item.prompt.rfind(value);
  if (at == std::string::npos) return out;
  auto is_space = [](char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; };
  // word_end[w] = one past the last byte of word w.
  std::vector<size_t> word_end;
  for (size_t i = 0; i < value.size(); ++i) {
    if (!is_space(value[i]) && (i + 1 == value.size() || is_space(value[i + 1]))) word_end.push_back(i + 1);
  }
  const std::string head = item.prompt.substr(0, at);
  const std::string tail = item.prompt.substr(at + value.size());
  const int n_words = static_cast<int>(word_end.size());
  for (int cut = 1; cut <= n_words; ++cut) {
    const size_t keep = cut == n_words ? 0 : word_end[static_cast<size_t>(n_words - cut - 1)];
    std::string prompt = head + value.substr(0, keep) + tail;
    QUORUM_ASSIGN_OR_RETURN(n, count_tokens(prompt));
    out = {std::move(prompt), cut};
    if (n <= budget) break;
  }
  return out;
}

std::string answer_text(const std::string& raw) { return cut_answer(raw); }

std::string label_continuation(const std::string& label) { return " " + label; }

ensemble::Answer answer_from_completion(const TaskSpec& spec, const std::string& model,
                                        const backend::Completion& completion) {
  ensemble::Answer a;
  a.model = model;
  const backend::Choice& choice = completion.choices.front();
  a.raw = choice.text;
  const ParsedAnswer parsed = parse_answer(spec, choice.text, LabelMatch::kExact);
  a.text = parsed.text;
  a.parsed = parsed.parsed;
  if (!choice.logprobs.empty()) {
    // Token confidence: geometric-mean probability of the answer's tokens up to the newline.
    double sum = 0.0;
    size_t n = 0;
    for (const auto& t : choice.logprobs) {
      if (t.token.find('\n') != std::string::npos) break;
      sum += t.logprob;
      ++n;
    }
    if (n > 0) a.token_confidence = std::exp(sum / static_cast<double>(n));
  }
  a.latency_s = completion.seconds;
  a.prompt_tokens = completion.prompt_tokens;
  a.completion_tokens = completion.completion_tokens;
  return a;
}

ensemble::Answer answer_from_scores(const TaskSpec& spec, const std::string& model,
                                    const backend::Scores& scores) {
  ensemble::Answer a;
  a.model = model;
  double best = -INFINITY;
  double norm = 0.0;
  for (size_t i = 0; i < spec.labels.size() && i < scores.logprobs.size(); ++i) {
    a.label_logprobs[spec.labels[i]] = scores.logprobs[i];
    if (scores.logprobs[i] > best) {
      best = scores.logprobs[i];
      a.text = spec.labels[i];
      a.parsed = true;
    }
  }
  for (double lp : scores.logprobs) norm += std::exp(lp - best);
  if (a.parsed) a.token_confidence = 1.0 / norm;  // softmax probability of the chosen label
  a.raw = label_continuation(a.text);
  a.latency_s = scores.seconds;
  return a;
}

}  // namespace quorum::eval
