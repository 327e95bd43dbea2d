// Template filling, few-shot prompts and answer parsing (see prompt.h).
#include "eval/prompt.h"

#include <fmt/format.h>

namespace quorum::eval {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f'; }

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

}  // namespace

Result<std::string> fill_template(std::string_view tmpl, const std::map<std::string, std::string>& fields) {
  std::string out;
  out.reserve(tmpl.size() + 256);
  size_t i = 0;
  while (i < tmpl.size()) {
    char c = tmpl[i];
    if (c == '{' && i + 1 < tmpl.size() && tmpl[i + 1] == '{') {
      out.push_back('{');
      i += 2;
    } else if (c == '}' && i + 1 < tmpl.size() && tmpl[i + 1] == '}') {
      out.push_back('}');
      i += 2;
    } else if (c == '{') {
      size_t close = tmpl.find('}', i);
      if (close == std::string_view::npos) {
        return Error(ErrorCode::kInvalidArgument, "unclosed '{' in prompt template")
            .where(fmt::format("template offset {}", i))
            .hint("write '{{' for a literal brace");
      }
      std::string name(tmpl.substr(i + 1, close - i - 1));
      auto it = fields.find(name);
      if (it == fields.end()) {
        std::string known;
        for (const auto& [k, v] : fields) known += (known.empty() ? "" : ", ") + k;
        return Error(ErrorCode::kNotFound, "prompt template names a field the item does not have")
            .where("{" + name + "}")
            .expected("one of: " + known);
      }
      out += it->second;
      i = close + 1;
    } else {
      out.push_back(c);
      ++i;
    }
  }
  return out;
}

Result<std::string> zero_shot_prompt(const TaskSpec& task, const Item& item) {
  auto p = fill_template(task.prompt_template, item.fields);
  if (!p.is_ok()) {
    Status s = p.status();
    return s.with_context("item '" + item.id + "'");
  }
  return p;
}

Result<std::string> few_shot_prompt(const TaskSpec& task, const Item& query, const std::vector<Item>& shots) {
  std::string out;
  for (const Item& shot : shots) {
    QUORUM_ASSIGN_OR_RETURN(std::string p, zero_shot_prompt(task, shot));
    std::string target = shot.target;
    if (target.empty() && !shot.references.empty()) target = " " + shot.references[0];
    if (target.empty()) {
      return Error(ErrorCode::kInvalidArgument, "few-shot example has no target or reference")
          .where("item '" + shot.id + "'");
    }
    out += p + target + task.shot_separator;
  }
  QUORUM_ASSIGN_OR_RETURN(std::string q, zero_shot_prompt(task, query));
  return out + q;
}

std::string cut_answer(std::string_view generated) {
  size_t nl = generated.find('\n');
  std::string_view s = generated.substr(0, nl);
  size_t b = 0, e = s.size();
  while (b < e && is_space(s[b])) ++b;
  while (e > b && is_space(s[e - 1])) --e;
  return std::string(s.substr(b, e - b));
}

ParsedAnswer parse_answer(const TaskSpec& task, std::string_view generated, LabelMatch match) {
  ParsedAnswer out;
  const std::string cut = cut_answer(generated);
  if (task.kind != TaskKind::kClassification) {
    out.text = cut;
    out.parsed = !cut.empty();
    return out;
  }
  for (const auto& l : task.labels) {
    if (cut == l) return {l, true};
  }
  if (match == LabelMatch::kExact) return out;
  const std::string low = lower(cut);
  for (const auto& l : task.labels) {
    if (low == lower(l)) return {l, true};
  }
  if (match == LabelMatch::kCaseInsensitive) return out;
  size_t i = 0;
  while (i < low.size()) {
    while (i < low.size() && !is_alnum(low[i])) ++i;
    size_t j = i;
    while (j < low.size() && is_alnum(low[j])) ++j;
    std::string_view word(low.data() + i, j - i);
    for (const auto& l : task.labels) {
      if (!word.empty() && word == lower(l)) return {l, true};
    }
    i = j;
  }
  return out;
}

}  // namespace quorum::eval
