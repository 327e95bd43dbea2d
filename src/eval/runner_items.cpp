// Task items from JSONL and answers from completions (see runner_items.h).
#include "eval/runner_items.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>

namespace quorum::eval {

namespace {

using nlohmann::json;

std::string strip(const std::string& s) {
  const char* ws = " \t\r\n\f\v";
  const size_t b = s.find_first_not_of(ws);
  if (b == std::string::npos) return "";
  const size_t e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string as_text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  return v.dump();
}

// The placeholders a template uses, in order.
std::vector<std::string> placeholders(const std::string& tmpl) {
  std::vector<std::string> out;
  for (size_t i = 0; (i = tmpl.find('{', i)) != std::string::npos;) {
    const size_t e = tmpl.find('}', i);
    if (e == std::string::npos) break;
    out.push_back(tmpl.substr(i + 1, e - i - 1));
    i = e + 1;
  }
  return out;
}

struct RowReader {
  const TaskConfig& task;
  std::vector<std::string> needed;

  // One JSONL row -> Item (prompt without few-shot prefix).
  Result<Item> read(const json& row, const std::string& where) const {
    if (!row.is_object()) return Error(ErrorCode::kCorruptFile, "row is not a JSON object").where(where);
    Item item;
    item.task = task.name;
    for (const auto& [k, v] : row.items()) item.fields[k] = as_text(v);
    for (const std::string& f : needed) {
      auto map = task.fields.find(f);
      const std::string col = map != task.fields.end() ? map->second : f;
      auto it = row.find(col);
      if (it == row.end()) {
        return Error(ErrorCode::kCorruptFile, fmt::format("row lacks column '{}'", col))
            .where(where)
            .hint(fmt::format("map the prompt field '{}' to a column with `fields: {{{}: COLUMN}}`", f, f));
      }
      item.fields[f] = as_text(*it);
    }
    item.id = row.contains("id") ? as_text(row["id"]) : "";
    std::string ref_col = task.reference_field;
    if (ref_col.empty()) ref_col = row.contains("answers") ? "answers" : "label";
    auto ref = row.find(ref_col);
    if (ref == row.end()) {
      return Error(ErrorCode::kCorruptFile, fmt::format("row lacks the reference column '{}'", ref_col))
          .where(where)
          .hint("name the gold-answer column with `reference: COLUMN`");
    }
    if (ref->is_array()) {
      for (const json& r : *ref) item.references.push_back(as_text(r));
    } else {
      item.references.push_back(as_text(*ref));
    }
    if (item.references.empty()) {
      return Error(ErrorCode::kCorruptFile, "row has no reference answer").where(where);
    }
    if (task.spec.kind == TaskKind::kClassification) {
      const auto& labels = task.spec.labels;
      if (std::find(labels.begin(), labels.end(), item.references[0]) == labels.end()) {
        std::string known;
        for (const auto& l : labels) known += (known.empty() ? "" : ", ") + l;
        return Error(ErrorCode::kCorruptFile,
                     fmt::format("unknown label '{}'", item.references[0]))
            .where(where)
            .expected("one of " + known);
      }
    }
    QUORUM_ASSIGN_OR_RETURN(std::string p, fill_template(task.spec.prompt_template, item.fields));
    item.prompt = std::move(p);
    item.target = row.contains("target") ? as_text(row["target"]) : " " + item.references[0];
    return item;
  }
};

Result<std::vector<Item>> read_jsonl(const RowReader& reader, const std::string& path, int64_t limit) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error(ErrorCode::kNotFound, "cannot open the task's data file")
        .where(path)
        .hint("check the task's 'data' path (relative paths start at the config file)");
  }
  std::vector<Item> items;
  std::string line;
  for (int64_t line_no = 1; std::getline(in, line); ++line_no) {
    if (strip(line).empty()) continue;
    if (limit > 0 && static_cast<int64_t>(items.size()) >= limit) break;
    const std::string where = fmt::format("{}:{}", path, line_no);
    json row = json::parse(line, nullptr, false);
    if (row.is_discarded()) return Error(ErrorCode::kCorruptFile, "line is not valid JSON").where(where);
    QUORUM_ASSIGN_OR_RETURN(Item item, reader.read(row, where));
    if (item.id.empty()) item.id = fmt::format("{}-{}", reader.task.name, line_no);
    items.push_back(std::move(item));
  }
  return items;
}

}  // namespace

Result<std::string> fill_template(const std::string& tmpl,
                                  const std::map<std::string, std::string>& fields) {
  std::string out;
  size_t i = 0;
  while (i < tmpl.size()) {
    const size_t b = tmpl.find('{', i);
    if (b == std::string::npos) break;
    const size_t e = tmpl.find('}', b);
    if (e == std::string::npos) break;
    const std::string name = tmpl.substr(b + 1, e - b - 1);
    auto it = fields.find(name);
    if (it == fields.end()) {
      return Error(ErrorCode::kInvalidArgument, fmt::format("prompt placeholder '{{{}}}' has no value", name))
          .hint("the item has no such field; map it with `fields:`");
    }
    out.append(tmpl, i, b - i);
    out += it->second;
    i = e + 1;
  }
  out.append(tmpl, i, std::string::npos);
  return out;
}

Result<Dataset> load_task_items(const TaskConfig& task, int64_t limit) {
  RowReader reader{task, placeholders(task.spec.prompt_template)};
  Dataset ds;
  ds.task = task.name;
  ds.split = task.split;
  ds.source = task.data;
  QUORUM_ASSIGN_OR_RETURN(ds.items, read_jsonl(reader, task.data, limit));
  if (ds.items.empty()) return Error(ErrorCode::kCorruptFile, "the task's data file has no rows").where(task.data);
  if (task.few_shot.n > 0) {
    QUORUM_ASSIGN_OR_RETURN(std::vector<Item> shots, read_jsonl(reader, task.few_shot.data, task.few_shot.n));
    if (static_cast<int>(shots.size()) < task.few_shot.n) {
      return Error(ErrorCode::kInvalidArgument, "not enough few-shot examples")
          .where(task.few_shot.data)
          .expected(fmt::format("{} rows", task.few_shot.n))
          .actual(fmt::format("{} rows", shots.size()));
    }
    std::string prefix;
    for (const Item& s : shots) prefix += s.prompt + s.target + task.spec.shot_separator;
    for (Item& item : ds.items) item.prompt = prefix + item.prompt;
  }
  return ds;
}

std::string answer_text(const std::string& raw) {
  return strip(raw.substr(0, raw.find('\n')));
}

std::string label_continuation(const std::string& label) { return " " + label; }

ensemble::Answer answer_from_completion(const TaskSpec& spec, const std::string& model,
                                        const backend::Completion& completion) {
  ensemble::Answer a;
  a.model = model;
  const backend::Choice& choice = completion.choices.front();
  a.raw = choice.text;
  const std::string text = answer_text(choice.text);
  if (spec.kind == TaskKind::kClassification) {
    for (const std::string& label : spec.labels) {
      if (lower(label) == lower(text)) {
        a.text = label;
        a.parsed = true;
      }
    }
  } else {
    a.text = text;
    a.parsed = true;
  }
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
