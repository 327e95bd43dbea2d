// Parsing and validation of the evaluation config (see eval_config.h). yaml-cpp exceptions are
// caught here and turned into errors with the file and line.
#include "eval/eval_config.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "eval/yaml_util.h"

namespace quorum::eval {

namespace {

using yaml::check_keys;
using yaml::line_of;
using yaml::number_in;
using yaml::parse_document;
using yaml::resolve;
using yaml::scalar;
using yaml::Src;
using yaml::str;

Result<ModelConfig> parse_model(const Src& src, const YAML::Node& n, const std::string& base) {
  QUORUM_TRY(check_keys(src, n, "a model",
                        {"name", "path", "url", "model", "api_key_env", "mode", "weight",
                         "timeout", "retries", "concurrency"}));
  ModelConfig m;
  m.line = line_of(n);
  if (!n["name"]) return Error(ErrorCode::kInvalidArgument, "a model needs a 'name'").where(src.at(n));
  QUORUM_ASSIGN_OR_RETURN(m.name, str(src, n["name"], "name"));
  if (n["path"]) {
    QUORUM_ASSIGN_OR_RETURN(std::string p, str(src, n["path"], "path"));
    m.path = resolve(base, p);
  }
  if (n["url"]) {
    QUORUM_ASSIGN_OR_RETURN(m.url, str(src, n["url"], "url"));
  }
  if (n["model"]) {
    QUORUM_ASSIGN_OR_RETURN(m.remote_model, str(src, n["model"], "model"));
  }
  if (n["api_key_env"]) {
    QUORUM_ASSIGN_OR_RETURN(m.api_key_env, str(src, n["api_key_env"], "api_key_env"));
  }
  if (m.path.empty() == m.url.empty()) {
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("model '{}' needs exactly one of 'path' (local GGUF) and 'url' "
                             "(OpenAI-compatible server)", m.name))
        .where(src.at(n));
  }
  if (!m.url.empty() && m.remote_model.empty()) {
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("remote model '{}' needs 'model' (the server's model id)", m.name))
        .where(src.at(n));
  }
  if (m.url.empty() && (n["model"] || n["api_key_env"] || n["timeout"] || n["retries"])) {
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("model '{}': model/api_key_env/timeout/retries apply to remote "
                             "models (url:) only", m.name))
        .where(src.at(n));
  }
  if (n["mode"]) {
    QUORUM_ASSIGN_OR_RETURN(std::string mode, str(src, n["mode"], "mode"));
    if (mode == "generate") {
      m.mode = ModelMode::kGenerate;
    } else if (mode == "score") {
      m.mode = ModelMode::kScore;
    } else {
      return Error(ErrorCode::kInvalidArgument, "bad model mode")
          .where(src.at(n["mode"]))
          .expected("generate or score")
          .actual(fmt::format("'{}'", mode));
    }
  }
  if (n["weight"]) {
    QUORUM_ASSIGN_OR_RETURN(m.weight, number_in<double>(src, n["weight"], "weight", 0.0, 1e6));
  }
  if (n["timeout"]) {
    QUORUM_ASSIGN_OR_RETURN(m.timeout_s, number_in<double>(src, n["timeout"], "timeout", 0.001, 86400.0));
  }
  if (n["retries"]) {
    QUORUM_ASSIGN_OR_RETURN(m.max_retries, number_in<int>(src, n["retries"], "retries", 0, 100));
  }
  if (n["concurrency"]) {
    QUORUM_ASSIGN_OR_RETURN(m.concurrency, number_in<int>(src, n["concurrency"], "concurrency", 1, 1024));
  }
  return m;
}

Result<TaskConfig> parse_task(const Src& src, const YAML::Node& n, const std::string& base) {
  QUORUM_TRY(check_keys(src, n, "a task",
                        {"name", "task", "kind", "labels", "prompt", "data", "format", "split", "fields",
                         "reference", "few_shot", "max_tokens", "limit", "truncate"}));
  TaskConfig t;
  t.line = line_of(n);
  if (!n["name"]) return Error(ErrorCode::kInvalidArgument, "a task needs a 'name'").where(src.at(n));
  QUORUM_ASSIGN_OR_RETURN(t.name, str(src, n["name"], "name"));
  std::string builtin = t.name;
  if (n["task"]) {
    QUORUM_ASSIGN_OR_RETURN(builtin, str(src, n["task"], "task"));
  }
  if (auto found = find_task(builtin); found.is_ok()) {
    t.spec = *found;
  } else if (n["kind"]) {
    t.spec = TaskSpec{};
    t.spec.name = t.name;
  } else {
    Status s = found.status();
    return s.with_context(src.at(n["task"] ? n["task"] : n["name"]) +
                          " (a custom task needs 'kind', 'prompt' and, for classification, 'labels')");
  }
  if (n["kind"]) {
    QUORUM_ASSIGN_OR_RETURN(std::string kind, str(src, n["kind"], "kind"));
    if (kind == "classification") {
      t.spec.kind = TaskKind::kClassification;
      t.spec.main_metric = MainMetric::kAccuracy;
    } else if (kind == "extractive_qa" || kind == "qa") {
      t.spec.kind = TaskKind::kExtractiveQa;
      t.spec.main_metric = MainMetric::kExactMatch;
    } else if (kind == "summarization") {
      t.spec.kind = TaskKind::kSummarization;
      t.spec.main_metric = MainMetric::kRougeL;
    } else {
      return Error(ErrorCode::kInvalidArgument, "bad task kind")
          .where(src.at(n["kind"]))
          .expected("classification, extractive_qa or summarization")
          .actual(fmt::format("'{}'", kind));
    }
  }
  if (n["labels"]) {
    if (!n["labels"].IsSequence() || n["labels"].size() < 2) {
      return Error(ErrorCode::kInvalidArgument, "'labels' must be a list of at least two labels")
          .where(src.at(n["labels"]));
    }
    t.spec.labels.clear();
    for (const auto& l : n["labels"]) {
      QUORUM_ASSIGN_OR_RETURN(std::string s, str(src, l, "labels"));
      t.spec.labels.push_back(s);
    }
  }
  if (n["prompt"]) {
    QUORUM_ASSIGN_OR_RETURN(t.spec.prompt_template, str(src, n["prompt"], "prompt"));
  }
  if (n["truncate"]) {
    QUORUM_ASSIGN_OR_RETURN(t.spec.truncatable_field, str(src, n["truncate"], "truncate"));
  }
  if (t.spec.prompt_template.empty()) {
    return Error(ErrorCode::kInvalidArgument, fmt::format("task '{}' needs a 'prompt' template", t.name))
        .where(src.at(n));
  }
  if (t.spec.kind == TaskKind::kClassification && t.spec.labels.size() < 2) {
    return Error(ErrorCode::kInvalidArgument,
                 fmt::format("classification task '{}' needs 'labels'", t.name))
        .where(src.at(n));
  }
  if (!n["data"]) {
    return Error(ErrorCode::kInvalidArgument, fmt::format("task '{}' needs 'data' (a JSONL file)", t.name))
        .where(src.at(n));
  }
  QUORUM_ASSIGN_OR_RETURN(std::string data, str(src, n["data"], "data"));
  t.data = resolve(base, data);
  if (n["split"]) {
    QUORUM_ASSIGN_OR_RETURN(std::string split, str(src, n["split"], "split"));
    auto s = parse_split(split);
    if (!s) {
      Status st = s.status();
      return st.with_context(src.at(n["split"]));
    }
    t.split = *s;
  }
  if (n["fields"]) {
    if (!n["fields"].IsMap()) {
      return Error(ErrorCode::kInvalidArgument, "'fields' must map item fields to JSONL columns")
          .where(src.at(n["fields"]));
    }
    for (const auto& kv : n["fields"]) {
      QUORUM_ASSIGN_OR_RETURN(std::string col, str(src, kv.second, "fields"));
      t.fields[kv.first.as<std::string>()] = col;
    }
  }
  if (n["reference"]) {
    QUORUM_ASSIGN_OR_RETURN(t.reference_field, str(src, n["reference"], "reference"));
  }
  if (n["format"]) {
    QUORUM_ASSIGN_OR_RETURN(std::string f, str(src, n["format"], "format"));
    auto fmt_r = parse_dataset_format(f);
    if (!fmt_r) {
      Status st = fmt_r.status();
      return st.with_context(src.at(n["format"]));
    }
    t.format = *fmt_r;
  } else if (n["fields"] || n["reference"]) {
    t.format = DatasetFormat::kJsonl;
  }
  if (n["few_shot"]) {
    const YAML::Node fs = n["few_shot"];
    QUORUM_TRY(check_keys(src, fs, "few_shot", {"data", "n"}));
    if (!fs["data"] || !fs["n"]) {
      return Error(ErrorCode::kInvalidArgument, "'few_shot' needs 'data' and 'n'").where(src.at(fs));
    }
    QUORUM_ASSIGN_OR_RETURN(std::string d, str(src, fs["data"], "few_shot.data"));
    t.few_shot.data = resolve(base, d);
    QUORUM_ASSIGN_OR_RETURN(t.few_shot.n, number_in<int>(src, fs["n"], "few_shot.n", 0, 64));
  }
  if (n["max_tokens"]) {
    QUORUM_ASSIGN_OR_RETURN(t.max_tokens, number_in<int>(src, n["max_tokens"], "max_tokens", 1, 32768));
  }
  if (n["limit"]) {
    QUORUM_ASSIGN_OR_RETURN(t.limit, number_in<int64_t>(src, n["limit"], "limit", 0, int64_t{1} << 40));
  }
  return t;
}

Result<StrategyConfig> parse_strategy(const Src& src, const YAML::Node& n) {
  StrategyConfig s;
  s.line = line_of(n);
  if (n.IsScalar()) {
    s.strategy = s.name = n.Scalar();
    return s;
  }
  QUORUM_TRY(check_keys(src, n, "a strategy", {"name", "params", "as"}));
  if (!n["name"]) return Error(ErrorCode::kInvalidArgument, "a strategy needs a 'name'").where(src.at(n));
  QUORUM_ASSIGN_OR_RETURN(s.strategy, str(src, n["name"], "name"));
  s.name = s.strategy;
  if (n["as"]) {
    QUORUM_ASSIGN_OR_RETURN(s.name, str(src, n["as"], "as"));
  }
  if (n["params"]) {
    if (!n["params"].IsMap()) {
      return Error(ErrorCode::kInvalidArgument, "'params' must be a mapping").where(src.at(n["params"]));
    }
    for (const auto& kv : n["params"]) {
      QUORUM_ASSIGN_OR_RETURN(std::string v, str(src, kv.second, kv.first.as<std::string>()));
      s.params[kv.first.as<std::string>()] = v;
    }
  }
  return s;
}

Status check_unique(const Src& src, const std::vector<std::pair<std::string, int>>& names,
                    const char* what) {
  std::set<std::string> seen;
  for (const auto& [name, line] : names) {
    if (!seen.insert(name).second) {
      return Error(ErrorCode::kInvalidArgument, fmt::format("duplicate {} name '{}'", what, name))
          .where(fmt::format("{}:{}", src.file, line))
          .hint(std::string("give each ") + what + " a distinct name (strategies: use 'as:')");
    }
  }
  return Status::ok();
}

Result<EvalConfig> parse_root(const Src& src, const YAML::Node& root, const std::string& base) {
  QUORUM_TRY(check_keys(src, root, "the config",
                        {"output", "cache", "seeds", "jobs", "models", "tasks", "strategies"}));
  EvalConfig c;
  c.source = src.file;
  std::string out = "results";
  if (root["output"]) {
    QUORUM_ASSIGN_OR_RETURN(out, str(src, root["output"], "output"));
  }
  c.output_dir = resolve(base, out);
  if (root["cache"]) {
    QUORUM_ASSIGN_OR_RETURN(std::string cache, str(src, root["cache"], "cache"));
    c.cache_path = resolve(base, cache);
  }
  if (root["seeds"]) {
    if (!root["seeds"].IsSequence() || root["seeds"].size() == 0) {
      return Error(ErrorCode::kInvalidArgument, "'seeds' must be a non-empty list of integers")
          .where(src.at(root["seeds"]));
    }
    c.seeds.clear();
    for (const auto& s : root["seeds"]) {
      QUORUM_ASSIGN_OR_RETURN(uint64_t v, scalar<uint64_t>(src, s, "seeds", "non-negative integer"));
      c.seeds.push_back(v);
    }
  }
  if (root["jobs"]) {
    QUORUM_ASSIGN_OR_RETURN(c.jobs, number_in<int>(src, root["jobs"], "jobs", 1, 256));
  }
  for (const char* list : {"models", "tasks"}) {
    if (!root[list] || !root[list].IsSequence() || root[list].size() == 0) {
      return Error(ErrorCode::kInvalidArgument, fmt::format("the config needs a non-empty '{}' list", list))
          .where(root[list] ? src.at(root[list]) : src.file);
    }
  }
  for (const auto& m : root["models"]) {
    QUORUM_ASSIGN_OR_RETURN(ModelConfig mc, parse_model(src, m, base));
    c.models.push_back(std::move(mc));
  }
  for (const auto& t : root["tasks"]) {
    QUORUM_ASSIGN_OR_RETURN(TaskConfig tc, parse_task(src, t, base));
    c.tasks.push_back(std::move(tc));
  }
  if (root["strategies"]) {
    if (!root["strategies"].IsSequence()) {
      return Error(ErrorCode::kInvalidArgument, "'strategies' must be a list").where(src.at(root["strategies"]));
    }
    for (const auto& s : root["strategies"]) {
      QUORUM_ASSIGN_OR_RETURN(StrategyConfig sc, parse_strategy(src, s));
      c.strategies.push_back(std::move(sc));
    }
  }
  std::vector<std::pair<std::string, int>> names;
  for (const auto& m : c.models) names.emplace_back(m.name, m.line);
  QUORUM_TRY(check_unique(src, names, "model"));
  names.clear();
  for (const auto& t : c.tasks) names.emplace_back(t.name, t.line);
  QUORUM_TRY(check_unique(src, names, "task"));
  names.clear();
  for (const auto& s : c.strategies) names.emplace_back(s.name, s.line);
  QUORUM_TRY(check_unique(src, names, "strategy"));
  if (c.cache_path.empty()) c.cache_path = (std::filesystem::path(c.output_dir) / "answers.sqlite").string();
  return c;
}

}  // namespace

const char* model_mode_name(ModelMode mode) {
  return mode == ModelMode::kScore ? "score" : "generate";
}

Result<EvalConfig> parse_eval_config(const std::string& text, const std::string& base_dir,
                                     const std::string& source) {
  return parse_document(text, source, [&](const Src& src, const YAML::Node& root) {
    return parse_root(src, root, base_dir);
  });
}

Result<TaskConfig> parse_task_node(const YAML::Node& node, const std::string& base_dir,
                                   const std::string& source) {
  return parse_task(Src{source}, node, base_dir);
}

Result<StrategyConfig> parse_strategy_node(const YAML::Node& node, const std::string& source) {
  return parse_strategy(Src{source}, node);
}

Result<EvalConfig> load_eval_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(ErrorCode::kNotFound, "cannot open the config file").where(path);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string base = std::filesystem::absolute(path).parent_path().string();
  return parse_eval_config(ss.str(), base, path);
}

}  // namespace quorum::eval
