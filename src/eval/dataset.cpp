// Dataset loaders (formats in dataset.h). Third-party JSON exceptions are caught here and turned
// into errors naming the file and line.
#include "eval/dataset.h"

#include <fmt/format.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "eval/prompt.h"

namespace quorum::eval {
namespace {

using nlohmann::json;

Result<std::string> read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error(ErrorCode::kNotFound, "cannot open dataset file").where(path).hint("check the path");
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Error(ErrorCode::kIoError, "reading the dataset file failed").where(path);
  return ss.str();
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    std::string line = text.substr(start, nl - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(std::move(line));
    start = nl + 1;
  }
  return lines;
}

std::string strip(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::string collapse_whitespace(const std::string& s) {
  std::string out;
  std::istringstream in(s);
  std::string w;
  while (in >> w) out += (out.empty() ? "" : " ") + w;
  return out;
}

std::string normalize_newlines(std::string s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r' && i + 1 < s.size() && s[i + 1] == '\n') continue;
    out.push_back(s[i]);
  }
  return out;
}

std::string scalar_text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  return v.dump();
}

// Fills prompt (if empty) and appends the item, honouring options.limit.
Status finish_item(const TaskSpec& task, Item item, Dataset& ds, const std::string& where) {
  item.task = task.name;
  if (item.prompt.empty()) {
    auto p = zero_shot_prompt(task, item);
    if (!p.is_ok()) {
      Status s = p.status();
      return s.with_context(where);
    }
    item.prompt = std::move(p).value();
  }
  if (item.target.empty() && !item.references.empty() && task.kind == TaskKind::kClassification) {
    item.target = " " + item.references[0];
  }
  ds.items.push_back(std::move(item));
  return Status::ok();
}

Status check_label(const TaskSpec& task, const std::string& label, const std::string& where) {
  if (task.kind != TaskKind::kClassification) return Status::ok();
  for (const auto& l : task.labels) {
    if (l == label) return Status::ok();
  }
  return Error(ErrorCode::kCorruptFile, "label is not one of the task's labels")
      .where(where)
      .expected(fmt::format("one of {}", fmt::join(task.labels, ", ")))
      .actual(fmt::format("'{}'", label));
}

// A row with an unknown gold label: the error, or (skip_unknown_labels) a skipped row.
// Returns true when the row is skipped.
Result<bool> skip_or_fail(Status label_status, const LoadOptions& o, const std::string& where,
                          const std::string& id, Dataset& ds) {
  if (label_status.is_ok()) return false;
  if (!o.skip_unknown_labels) return label_status;
  ds.skipped.push_back({where, id, label_status.to_string()});
  return true;
}

bool full(const Dataset& ds, const LoadOptions& o) { return o.limit > 0 && ds.items.size() >= o.limit; }

Status load_jsonl(const TaskSpec& task, const std::string& path, const std::string& text,
                  const LoadOptions& o, Dataset& ds) {
  const bool generic = o.format == DatasetFormat::kJsonl;
  const auto lines = split_lines(text);
  for (size_t ln = 0; ln < lines.size() && !full(ds, o); ++ln) {
    if (strip(lines[ln]).empty()) continue;
    const std::string where = fmt::format("{}:{}", path, ln + 1);
    json row;
    try {
      row = json::parse(lines[ln]);
    } catch (const std::exception& e) {
      return Error(ErrorCode::kCorruptFile, "line is not valid JSON").where(where).actual(e.what());
    }
    if (!row.is_object()) return Error(ErrorCode::kCorruptFile, "JSONL row is not an object").where(where);
    Item item;
    const FieldMapping& m = o.mapping;
    const std::string id_key = generic ? m.id : "id";
    if (!id_key.empty()) {
      if (!row.contains(id_key)) return Error(ErrorCode::kCorruptFile, "row has no id").where(where).expected("key '" + id_key + "'");
      item.id = scalar_text(row[id_key]);
    } else {
      item.id = fmt::format("{}-{}-{}", task.name, split_name(o.split), ds.items.size());
    }
    if (!generic && row.contains("task") && row["task"].is_string() && row["task"] != task.name) {
      return Error(ErrorCode::kInvalidArgument, "row belongs to another task")
          .where(where)
          .expected(task.name)
          .actual(row["task"].get<std::string>());
    }
    for (auto it = row.begin(); it != row.end(); ++it) {
      const std::string& k = it.key();
      if (k == "answers" || k == "prompt" || k == "target" || k == "task") continue;
      if (it->is_string() || it->is_number() || it->is_boolean()) item.fields[k] = scalar_text(*it);
    }
    if (generic) {
      for (const auto& [field, key] : m.fields) {
        if (!row.contains(key)) {
          return Error(ErrorCode::kCorruptFile, "row lacks a mapped field").where(where).expected("key '" + key + "' (field '" + field + "')");
        }
        item.fields[field] = scalar_text(row[key]);
      }
    } else {
      if (row.contains("prompt") && row["prompt"].is_string()) item.prompt = row["prompt"].get<std::string>();
      if (row.contains("target") && row["target"].is_string()) item.target = row["target"].get<std::string>();
    }
    const std::string ref_key = generic ? m.references : "answers";
    if (row.contains(ref_key)) {
      const json& r = row[ref_key];
      try {
        if (r.is_array()) {
          for (const auto& x : r) item.references.push_back(scalar_text(x));
        } else {
          item.references.push_back(scalar_text(r));
        }
      } catch (const std::exception& e) {
        return Error(ErrorCode::kCorruptFile, "bad reference value").where(where).actual(e.what());
      }
    }
    bool skip = false;
    for (auto& ref : item.references) {
      auto mapped = m.label_values.find(ref);
      if (generic && mapped != m.label_values.end()) ref = mapped->second;
      QUORUM_ASSIGN_OR_RETURN(skip, skip_or_fail(check_label(task, ref, where), o, where, item.id, ds));
      if (skip) break;
    }
    if (skip) continue;
    QUORUM_TRY(finish_item(task, std::move(item), ds, where));
  }
  return Status::ok();
}

Status load_carer(const TaskSpec& task, const std::string& path, const std::string& text,
                  const LoadOptions& o, Dataset& ds) {
  const auto lines = split_lines(text);
  for (size_t ln = 0; ln < lines.size() && !full(ds, o); ++ln) {
    if (lines[ln].empty()) continue;
    const std::string where = fmt::format("{}:{}", path, ln + 1);
    size_t semi = lines[ln].rfind(';');
    if (semi == std::string::npos) {
      return Error(ErrorCode::kCorruptFile, "CARER line has no ';'").where(where).expected("text;label");
    }
    Item item;
    item.id = fmt::format("emotion-{}-{}", split_name(o.split), ds.items.size());
    item.fields["text"] = lines[ln].substr(0, semi);
    std::string label = lines[ln].substr(semi + 1);
    QUORUM_ASSIGN_OR_RETURN(const bool skip, skip_or_fail(check_label(task, label, where), o, where, item.id, ds));
    if (skip) continue;
    item.fields["label"] = label;
    item.references = {label};
    QUORUM_TRY(finish_item(task, std::move(item), ds, where));
  }
  return Status::ok();
}

Status load_sst2(const TaskSpec& task, const std::string& path, const std::string& text,
                 const LoadOptions& o, Dataset& ds) {
  const auto lines = split_lines(text);
  if (lines.empty()) return Error(ErrorCode::kCorruptFile, "empty SST-2 file").where(path);
  const std::string& header = lines[0];
  const bool labeled = header == "sentence\tlabel";
  if (!labeled && header != "index\tsentence") {
    return Error(ErrorCode::kCorruptFile, "unexpected SST-2 header")
        .where(path + ":1")
        .expected("'sentence<TAB>label' or 'index<TAB>sentence'")
        .actual(fmt::format("'{}'", header));
  }
  for (size_t ln = 1; ln < lines.size() && !full(ds, o); ++ln) {
    if (lines[ln].empty()) continue;
    const std::string where = fmt::format("{}:{}", path, ln + 1);
    size_t tab = lines[ln].find('\t');
    if (tab == std::string::npos) return Error(ErrorCode::kCorruptFile, "SST-2 row has no tab").where(where);
    Item item;
    item.id = fmt::format("sst2-{}-{}", split_name(o.split), ds.items.size());
    if (labeled) {
      item.fields["sentence"] = strip(lines[ln].substr(0, tab));
      std::string v = lines[ln].substr(tab + 1);
      if (v != "0" && v != "1") {
        QUORUM_ASSIGN_OR_RETURN(
            const bool skip,
            skip_or_fail(Error(ErrorCode::kCorruptFile, "SST-2 label is not 0 or 1").where(where).actual(fmt::format("'{}'", v)),
                         o, where, item.id, ds));
        if (skip) continue;
      }
      item.references = {v == "1" ? "positive" : "negative"};
      item.fields["label"] = item.references[0];
    } else {
      item.fields["sentence"] = strip(lines[ln].substr(tab + 1));
    }
    QUORUM_TRY(finish_item(task, std::move(item), ds, where));
  }
  return Status::ok();
}

Status load_squad(const TaskSpec& task, const std::string& path, const std::string& text,
                  const LoadOptions& o, Dataset& ds) {
  try {
    json doc = json::parse(text);
    const json& data = doc.at("data");
    for (size_t a = 0; a < data.size() && !full(ds, o); ++a) {
      const std::string title = data[a].value("title", "");
      for (const json& para : data[a].at("paragraphs")) {
        const std::string context = para.at("context").get<std::string>();
        for (const json& qa : para.at("qas")) {
          if (full(ds, o)) break;
          Item item;
          item.id = qa.at("id").get<std::string>();
          item.fields["title"] = title;
          item.fields["article_index"] = std::to_string(a);
          item.fields["context"] = context;
          item.fields["question"] = qa.at("question").get<std::string>();
          for (const json& ans : qa.at("answers")) item.references.push_back(ans.at("text").get<std::string>());
          if (!item.references.empty()) item.target = " " + strip(item.references[0]);
          QUORUM_TRY(finish_item(task, std::move(item), ds, path));
        }
      }
    }
  } catch (const std::exception& e) {
    return Error(ErrorCode::kCorruptFile, "not a SQuAD v1.1 json file")
        .where(path)
        .expected("{\"data\": [{\"title\", \"paragraphs\": [{\"context\", \"qas\": [...]}]}]}")
        .actual(e.what());
  }
  return Status::ok();
}

Item samsum_item(const std::string& id, const std::string& dialogue, const std::string& summary) {
  Item item;
  item.id = "samsum-" + id;
  item.fields["dialogue"] = normalize_newlines(dialogue);
  item.fields["summary"] = summary;
  item.references = {summary};
  item.target = " " + collapse_whitespace(summary);
  return item;
}

Status load_samsum_json(const TaskSpec& task, const std::string& path, const std::string& text,
                        const LoadOptions& o, Dataset& ds) {
  try {
    json doc = json::parse(text);
    for (const json& row : doc) {
      if (full(ds, o)) break;
      QUORUM_TRY(finish_item(task,
                             samsum_item(scalar_text(row.at("id")), row.at("dialogue").get<std::string>(),
                                         row.at("summary").get<std::string>()),
                             ds, path));
    }
  } catch (const std::exception& e) {
    return Error(ErrorCode::kCorruptFile, "not a SAMSum json file")
        .where(path)
        .expected("[{\"id\", \"dialogue\", \"summary\"}, ...]")
        .actual(e.what());
  }
  return Status::ok();
}

// RFC 4180 CSV: fields separated by ',', optionally quoted; "" is a quote inside quotes; quoted
// fields may contain newlines. Returns rows of fields.
Result<std::vector<std::vector<std::string>>> parse_csv(const std::string& text, const std::string& path) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false, in_quotes = false;
  size_t line = 1;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field.push_back('"');
          ++i;
        } else {
          in_quotes = false;
        }
      } else {
        if (c == '\n') ++line;
        field.push_back(c);
      }
    } else if (c == '"' && field.empty() && !quoted) {
      in_quotes = quoted = true;
    } else if (c == ',') {
      row.push_back(std::move(field));
      field.clear();
      quoted = false;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      row.push_back(std::move(field));
      field.clear();
      quoted = false;
      rows.push_back(std::move(row));
      row.clear();
      ++line;
    } else {
      field.push_back(c);
    }
  }
  if (in_quotes) {
    return Error(ErrorCode::kCorruptFile, "CSV ends inside a quoted field").where(fmt::format("{}:{}", path, line));
  }
  if (!field.empty() || !row.empty()) {
    row.push_back(std::move(field));
    rows.push_back(std::move(row));
  }
  return rows;
}

Status load_samsum_csv(const TaskSpec& task, const std::string& path, const std::string& text,
                       const LoadOptions& o, Dataset& ds) {
  QUORUM_ASSIGN_OR_RETURN(auto rows, parse_csv(text, path));
  if (rows.empty() || rows[0] != std::vector<std::string>{"id", "dialogue", "summary"}) {
    return Error(ErrorCode::kCorruptFile, "unexpected SAMSum CSV header").where(path).expected("id,dialogue,summary");
  }
  for (size_t r = 1; r < rows.size() && !full(ds, o); ++r) {
    if (rows[r].size() == 1 && rows[r][0].empty()) continue;
    if (rows[r].size() != 3) {
      return Error(ErrorCode::kCorruptFile, "SAMSum CSV row does not have 3 fields")
          .where(fmt::format("{}: row {}", path, r))
          .actual(fmt::format("{} fields", rows[r].size()));
    }
    QUORUM_TRY(finish_item(task, samsum_item(rows[r][0], rows[r][1], rows[r][2]), ds, path));
  }
  return Status::ok();
}

}  // namespace

Result<DatasetFormat> parse_dataset_format(const std::string& name) {
  static const std::pair<const char*, DatasetFormat> kNames[] = {
      {"taskmodel_jsonl", DatasetFormat::kTaskModelJsonl}, {"carer", DatasetFormat::kCarer},
      {"sst2_tsv", DatasetFormat::kSst2Tsv},               {"squad_json", DatasetFormat::kSquadJson},
      {"samsum_json", DatasetFormat::kSamsumJson},         {"samsum_csv", DatasetFormat::kSamsumCsv},
      {"jsonl", DatasetFormat::kJsonl}};
  std::string known;
  for (const auto& [n, f] : kNames) {
    if (name == n) return f;
    known += (known.empty() ? "" : ", ") + std::string(n);
  }
  return Error(ErrorCode::kInvalidArgument, "unknown dataset format").expected(known).actual(fmt::format("'{}'", name));
}

Result<Dataset> load_dataset(const TaskSpec& task, const std::string& path, const LoadOptions& options) {
  QUORUM_ASSIGN_OR_RETURN(std::string text, read_text(path));
  Dataset ds;
  ds.task = task.name;
  ds.split = options.split;
  ds.source = path;
  Status st;
  switch (options.format) {
    case DatasetFormat::kTaskModelJsonl:
    case DatasetFormat::kJsonl: st = load_jsonl(task, path, text, options, ds); break;
    case DatasetFormat::kCarer: st = load_carer(task, path, text, options, ds); break;
    case DatasetFormat::kSst2Tsv: st = load_sst2(task, path, text, options, ds); break;
    case DatasetFormat::kSquadJson: st = load_squad(task, path, text, options, ds); break;
    case DatasetFormat::kSamsumJson: st = load_samsum_json(task, path, text, options, ds); break;
    case DatasetFormat::kSamsumCsv: st = load_samsum_csv(task, path, text, options, ds); break;
  }
  QUORUM_TRY(st);
  if (ds.items.empty()) {
    if (!ds.skipped.empty()) {
      return Error(ErrorCode::kCorruptFile,
                   fmt::format("dataset file has no usable items: all {} rows have a label that is "
                               "not one of the task's labels (first: {})",
                               ds.skipped.size(), ds.skipped.front().error))
          .where(path)
          .hint("is this the data file of another task?");
    }
    return Error(ErrorCode::kCorruptFile, "dataset file has no items").where(path);
  }
  return ds;
}

}  // namespace quorum::eval
