// Prompt templates and answer parsing for the evaluation tasks (shared/taskmodels/PROMPTS.md).
//
// Templates use `{field}` placeholders filled verbatim from Item::fields (no escaping); `{{` and
// `}}` stand for literal braces. A few-shot prompt is each shot's filled template followed by its
// target, joined by TaskSpec::shot_separator, then the query's filled template.
//
// Parsing: the generated text is cut at the first '\n' and stripped (PROMPTS.md). For
// classification the label is then found by the LabelMatch mode; each mode also accepts what the
// stricter ones accept. An answer with no label is unparsed: it counts as wrong and is reported.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "eval/task.h"

namespace quorum::eval {

// Fills `{name}` placeholders; a placeholder without a field is an error naming it.
Result<std::string> fill_template(std::string_view tmpl, const std::map<std::string, std::string>& fields);

// The zero-shot prompt of `item` for `task` (template filled with item.fields).
Result<std::string> zero_shot_prompt(const TaskSpec& task, const Item& item);
// Few-shot: shots (each followed by its target, or " " + its first reference when the target is
// empty) then the query.
Result<std::string> few_shot_prompt(const TaskSpec& task, const Item& query, const std::vector<Item>& shots);

enum class LabelMatch {
  kExact,            // the stripped answer equals a label
  kCaseInsensitive,  // ... ignoring ASCII case
  kFirstLabelWord,   // ... or the first word (letters/digits, ASCII case ignored) that is a label
};

struct ParsedAnswer {
  std::string text;     // classification: the canonical label; QA/summary: the cut, stripped text
  bool parsed = false;  // QA/summary: true unless the text is empty
};

// Cut at the first newline, strip ASCII whitespace.
std::string cut_answer(std::string_view generated);
ParsedAnswer parse_answer(const TaskSpec& task, std::string_view generated,
                          LabelMatch match = LabelMatch::kFirstLabelWord);

}  // namespace quorum::eval
