// The evaluation config (`quorum eval CONFIG.yaml`): which models answer, which tasks they answer,
// which consensus strategies combine the answers, seeds and where results go.
//
//   output: results/study          # relative paths are relative to the config file
//   cache: results/answers.sqlite  # default: <output>/answers.sqlite
//   seeds: [0, 1]                  # strategies with random choices run once per seed
//   jobs: 2                        # items answered in parallel per model
//   models:
//     - {name: qt-base, path: ../shared/taskmodels/qt-base.gguf, mode: generate, weight: 1}
//     - {name: remote, url: http://127.0.0.1:8080, model: qt-base, api_key_env: OPENAI_API_KEY,
//        timeout: 60, retries: 3, concurrency: 4}
//   tasks:
//     - {name: sst2, data: ../shared/taskmodels/data/sst2_test.jsonl, split: test, limit: 100}
//     - name: reviews                     # a generic JSONL task
//       kind: classification
//       labels: [bad, good]
//       prompt: "Review: {body}\nVerdict:"
//       data: reviews.jsonl
//       format: jsonl                     # default: task-model JSONL (see eval/dataset.h)
//       fields: {body: review_text}       # item field <- JSONL column
//       reference: verdict                # column holding the gold answer(s)
//       few_shot: {data: reviews_train.jsonl, n: 3}
//   strategies:
//     - majority_vote                     # a registry name, default parameters
//     - {name: tie_rerun, params: {variant: tied}, as: tie_rerun_tied}
//
// Every unknown key and every bad value is an error that names the file and line.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "eval/dataset.h"
#include "eval/task.h"

namespace YAML {
class Node;
}

namespace quorum::eval {

enum class ModelMode {
  kGenerate,  // the model writes its answer; it is parsed
  kScore,     // classification only: each label is scored by log-likelihood, the best one wins
};

const char* model_mode_name(ModelMode mode);

struct ModelConfig {
  std::string name;
  std::string path;           // local GGUF file, or
  std::string url;            // an OpenAI-compatible server ...
  std::string remote_model;   // ... and its model id
  std::string api_key_env;    // environment variable holding the API key (never the key itself)
  ModelMode mode = ModelMode::kGenerate;
  double weight = 1.0;
  double timeout_s = 120.0;
  int max_retries = 3;
  int concurrency = 4;
  int line = 0;  // 1-based line in the config, for messages

  bool is_remote() const { return !url.empty(); }
};

struct FewShotConfig {
  std::string data;  // JSONL with the same columns as the task's data
  int n = 0;         // the first n rows are the examples
};

struct TaskConfig {
  std::string name;  // display name; also the built-in task unless `task:` names another
  TaskSpec spec;     // the built-in definition with the config's overrides applied
  std::string data;  // data file (resolved path)
  // kTaskModelJsonl unless `format:` says otherwise, or kJsonl when `fields`/`reference` are given.
  DatasetFormat format = DatasetFormat::kTaskModelJsonl;
  Split split = Split::kTest;
  std::map<std::string, std::string> fields;  // item field -> JSONL column (default: same name)
  std::string reference_field;  // JSONL column with the gold answer(s); "" = "answers"/"label"
  FewShotConfig few_shot;
  int max_tokens = 64;
  int64_t limit = 0;  // 0 = all items
  int line = 0;
};

struct StrategyConfig {
  std::string name;      // how results are labelled ("as:", default = strategy)
  std::string strategy;  // registry name
  std::map<std::string, std::string> params;  // as written; validated by the runner
  int line = 0;
};

struct EvalConfig {
  std::string source;  // the config file
  std::string output_dir;
  std::string cache_path;
  std::vector<uint64_t> seeds = {0};
  int jobs = 1;
  std::vector<ModelConfig> models;
  std::vector<TaskConfig> tasks;
  std::vector<StrategyConfig> strategies;
};

// Reads and validates a config file.
Result<EvalConfig> load_eval_config(const std::string& path);
// Parses config text; relative paths resolve against `base_dir`; `source` names it in errors.
Result<EvalConfig> parse_eval_config(const std::string& text, const std::string& base_dir,
                                     const std::string& source);

// One entry of a `tasks:` / `strategies:` list, for configs that embed them (quant-study). The
// caller catches yaml-cpp exceptions; errors name `source` and the line.
Result<TaskConfig> parse_task_node(const YAML::Node& node, const std::string& base_dir,
                                   const std::string& source);
Result<StrategyConfig> parse_strategy_node(const YAML::Node& node, const std::string& source);

}  // namespace quorum::eval
