// Parsing and validation of the quant-study config (study_config.h). yaml-cpp exceptions are
// caught here and turned into errors with the file and line.
#include "quantstudy/study_config.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "eval/yaml_util.h"
#include "quant/quantize.h"

namespace quorum::quantstudy {

namespace {

using eval::yaml::check_keys;
using eval::yaml::line_of;
using eval::yaml::number_in;
using eval::yaml::parse_document;
using eval::yaml::resolve;
using eval::yaml::Src;
using eval::yaml::str;

Status need_list(const Src& src, const YAML::Node& root, const char* key) {
  if (!root[key] || !root[key].IsSequence() || root[key].size() == 0) {
    return Error(ErrorCode::kInvalidArgument, fmt::format("the config needs a non-empty '{}' list", key))
        .where(root[key] ? src.at(root[key]) : src.file);
  }
  return Status::ok();
}

Result<StudyModel> parse_model(const Src& src, const YAML::Node& n, const std::string& base) {
  QUORUM_TRY(check_keys(src, n, "a model", {"name", "path"}));
  StudyModel m;
  m.line = line_of(n);
  if (!n["name"] || !n["path"]) {
    return Error(ErrorCode::kInvalidArgument, "a model needs 'name' and 'path' (an F32/F16/BF16 GGUF)")
        .where(src.at(n));
  }
  QUORUM_ASSIGN_OR_RETURN(m.name, str(src, n["name"], "name"));
  QUORUM_ASSIGN_OR_RETURN(std::string p, str(src, n["path"], "path"));
  m.path = resolve(base, p);
  return m;
}

// A method is a registry name, or {name, params}. Methods this build does not have are kept
// (the run reports them as missing); parameters of known methods must be declared ones.
Result<StudyMethod> parse_method(const Src& src, const YAML::Node& n) {
  StudyMethod m;
  m.line = line_of(n);
  if (n.IsScalar()) {
    m.name = n.Scalar();
  } else {
    QUORUM_TRY(check_keys(src, n, "a method", {"name", "params"}));
    if (!n["name"]) return Error(ErrorCode::kInvalidArgument, "a method needs a 'name'").where(src.at(n));
    QUORUM_ASSIGN_OR_RETURN(m.name, str(src, n["name"], "name"));
    if (n["params"]) {
      if (!n["params"].IsMap()) {
        return Error(ErrorCode::kInvalidArgument, "'params' must be a mapping").where(src.at(n["params"]));
      }
      for (const auto& kv : n["params"]) {
        const std::string key = kv.first.as<std::string>();
        QUORUM_ASSIGN_OR_RETURN(m.params[key], str(src, kv.second, key));
        if (const quant::QuantMethod* qm = quant::find_quant_method(m.name)) {
          bool declared = false;
          std::string names;
          for (const auto& p : qm->params) {
            declared |= key == p.name;
            names += (names.empty() ? "" : ", ") + std::string(p.name);
          }
          if (!declared) {
            return Error(ErrorCode::kInvalidArgument,
                         fmt::format("method '{}' has no parameter '{}'", m.name, key))
                .where(src.at(kv.first))
                .expected(names.empty() ? "no parameters" : "one of " + names);
          }
        }
      }
    }
  }
  if (m.name.empty()) return Error(ErrorCode::kInvalidArgument, "empty method name").where(src.at(n));
  return m;
}

Result<StudyLevel> parse_level(const Src& src, const YAML::Node& n) {
  QUORUM_ASSIGN_OR_RETURN(std::string name, str(src, n, "levels"));
  const auto ft = quant::file_type_from_name(name);
  if (!ft) {
    std::string known;
    for (const auto& f : quant::file_types()) known += (known.empty() ? "" : " ") + std::string(f.name);
    return Error(ErrorCode::kInvalidArgument, "unknown quantization level")
        .where(src.at(n))
        .expected(known)
        .actual(fmt::format("'{}'", name));
  }
  return StudyLevel{*ft, quant::file_type_info(*ft).name, line_of(n)};
}

Status parse_eval(const Src& src, const YAML::Node& n, const std::string& base, StudyConfig& c) {
  QUORUM_TRY(check_keys(src, n, "'eval'", {"tasks", "ensemble", "limit", "jobs"}));
  QUORUM_TRY(need_list(src, n, "tasks"));
  for (const auto& t : n["tasks"]) {
    QUORUM_ASSIGN_OR_RETURN(eval::TaskConfig tc, eval::parse_task_node(t, base, src.file));
    c.tasks.push_back(std::move(tc));
  }
  if (n["ensemble"]) {
    if (!n["ensemble"].IsSequence()) {
      return Error(ErrorCode::kInvalidArgument, "'ensemble' must be a list of strategies")
          .where(src.at(n["ensemble"]));
    }
    for (const auto& s : n["ensemble"]) {
      QUORUM_ASSIGN_OR_RETURN(eval::StrategyConfig sc, eval::parse_strategy_node(s, src.file));
      c.ensemble.push_back(std::move(sc));
    }
  }
  if (n["limit"]) {
    QUORUM_ASSIGN_OR_RETURN(c.eval_limit, number_in<int64_t>(src, n["limit"], "limit", 0, int64_t{1} << 40));
  }
  if (n["jobs"]) {
    QUORUM_ASSIGN_OR_RETURN(c.eval_jobs, number_in<int>(src, n["jobs"], "jobs", 1, 256));
  }
  return Status::ok();
}

Status parse_speed(const Src& src, const YAML::Node& n, StudyConfig& c) {
  if (n.IsScalar()) {
    bool on = true;
    if (!YAML::convert<bool>::decode(n, on)) {
      return Error(ErrorCode::kInvalidArgument, "'speed' must be a mapping {pp, tg, reps} or off")
          .where(src.at(n)).actual(fmt::format("'{}'", n.Scalar()));
    }
    c.speed = on;
    return Status::ok();
  }
  QUORUM_TRY(check_keys(src, n, "'speed'", {"pp", "tg", "reps"}));
  if (n["pp"]) {
    QUORUM_ASSIGN_OR_RETURN(c.speed_pp, number_in<int64_t>(src, n["pp"], "pp", 0, 8192));
  }
  if (n["tg"]) {
    QUORUM_ASSIGN_OR_RETURN(c.speed_tg, number_in<int64_t>(src, n["tg"], "tg", 0, 8192));
  }
  if (n["reps"]) {
    QUORUM_ASSIGN_OR_RETURN(c.speed_reps, number_in<int>(src, n["reps"], "reps", 1, 100));
  }
  if (c.speed_pp == 0 && c.speed_tg == 0) c.speed = false;
  return Status::ok();
}

template <typename T>
Status check_unique(const Src& src, const std::vector<T>& list, const char* what) {
  std::set<std::string> seen;
  for (const T& x : list) {
    if (!seen.insert(x.name).second) {
      return Error(ErrorCode::kInvalidArgument, fmt::format("duplicate {} '{}'", what, x.name))
          .where(fmt::format("{}:{}", src.file, x.line));
    }
  }
  return Status::ok();
}

Result<StudyConfig> parse_root(const Src& src, const YAML::Node& root, const std::string& base) {
  QUORUM_TRY(check_keys(src, root, "the config",
                        {"output", "threads", "models", "methods", "levels", "calibration",
                         "perplexity", "speed", "eval"}));
  StudyConfig c;
  c.source = src.file;
  std::string out = "quant-study";
  if (root["output"]) {
    QUORUM_ASSIGN_OR_RETURN(out, str(src, root["output"], "output"));
  }
  c.output_dir = resolve(base, out);
  if (root["threads"]) {
    QUORUM_ASSIGN_OR_RETURN(c.threads, number_in<int>(src, root["threads"], "threads", 0, 1024));
  }
  for (const char* list : {"models", "methods", "levels"}) QUORUM_TRY(need_list(src, root, list));
  for (const auto& m : root["models"]) {
    QUORUM_ASSIGN_OR_RETURN(StudyModel sm, parse_model(src, m, base));
    c.models.push_back(std::move(sm));
  }
  for (const auto& m : root["methods"]) {
    QUORUM_ASSIGN_OR_RETURN(StudyMethod sm, parse_method(src, m));
    c.methods.push_back(std::move(sm));
  }
  for (const auto& l : root["levels"]) {
    QUORUM_ASSIGN_OR_RETURN(StudyLevel sl, parse_level(src, l));
    c.levels.push_back(std::move(sl));
  }
  QUORUM_TRY(check_unique(src, c.models, "model"));
  QUORUM_TRY(check_unique(src, c.methods, "method"));
  QUORUM_TRY(check_unique(src, c.levels, "level"));
  if (root["calibration"]) {
    const YAML::Node n = root["calibration"];
    QUORUM_TRY(check_keys(src, n, "'calibration'", {"data", "tokens"}));
    if (n["data"]) {
      QUORUM_ASSIGN_OR_RETURN(std::string d, str(src, n["data"], "data"));
      c.calib_path = resolve(base, d);
    }
    if (n["tokens"]) {
      QUORUM_ASSIGN_OR_RETURN(c.calib_tokens, number_in<int64_t>(src, n["tokens"], "tokens", 16, int64_t{1} << 24));
    }
  }
  if (!root["perplexity"] || !root["perplexity"]["data"]) {
    return Error(ErrorCode::kInvalidArgument, "the config needs 'perplexity: {data: TEXT}'")
        .where(root["perplexity"] ? src.at(root["perplexity"]) : src.file)
        .hint("the wikitext-2 test text: shared/data/wikitext2_raw/wiki.test.raw");
  }
  {
    const YAML::Node n = root["perplexity"];
    QUORUM_TRY(check_keys(src, n, "'perplexity'", {"data", "ctx", "chunks"}));
    QUORUM_ASSIGN_OR_RETURN(std::string d, str(src, n["data"], "data"));
    c.ppl_path = resolve(base, d);
    if (n["ctx"]) {
      QUORUM_ASSIGN_OR_RETURN(c.ppl_ctx, number_in<int64_t>(src, n["ctx"], "ctx", 8, 1 << 20));
    }
    if (n["chunks"]) {
      QUORUM_ASSIGN_OR_RETURN(c.ppl_chunks, number_in<int64_t>(src, n["chunks"], "chunks", -1, 1 << 20));
    }
    if (c.ppl_chunks == 0) {
      return Error(ErrorCode::kInvalidArgument, "'chunks' must be positive or -1 (all)").where(src.at(n["chunks"]));
    }
  }
  if (root["speed"]) QUORUM_TRY(parse_speed(src, root["speed"], c));
  if (root["eval"]) QUORUM_TRY(parse_eval(src, root["eval"], base, c));
  return c;
}

}  // namespace

Result<StudyConfig> parse_study_config(const std::string& text, const std::string& base_dir,
                                       const std::string& source) {
  return parse_document(text, source, [&](const Src& src, const YAML::Node& root) {
    return parse_root(src, root, base_dir);
  });
}

Result<StudyConfig> load_study_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error(ErrorCode::kNotFound, "cannot open the config file").where(path);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string base = std::filesystem::absolute(path).parent_path().string();
  return parse_study_config(ss.str(), base, path);
}

}  // namespace quorum::quantstudy
