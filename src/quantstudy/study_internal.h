// What the study's parts share (study.cpp measures, study_eval.cpp runs tasks and compares):
// one record per model × method × level, and the pairs of methods the study compares.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/log.h"
#include "eval/runner.h"
#include "quantstudy/study_config.h"

namespace quorum::quantstudy::detail {

struct RunRecord {
  const StudyModel* model = nullptr;
  const StudyMethod* method = nullptr;
  const StudyLevel* level = nullptr;
  std::string file;               // the quantized GGUF
  bool ok = false;                // quantized and loadable
  nlohmann::json j;               // the row in results.json "runs"
  std::vector<float> token_kld;   // per scored token (paired tests)
};

// Method pairs (a, b) compared at each level: every method against "rtn", and "awq" against
// "gptq", when both are in the study.
std::vector<std::pair<std::string, std::string>> compared_pairs(const StudyConfig& config);

// Group name of a method+level in eval/: "rtn-Q4_K_M"; the unquantized models are "original".
std::string group_name(const std::string& method, const std::string& level);

// Task scores through the evaluation runner: one evaluation per method+level over its quantized
// models (plus one of the originals), ensembles of each, McNemar / bootstrap between the method
// pairs per task. Fills runs[i].j["tasks"], results["original_tasks"], results["ensembles"],
// results["task_comparisons"], and appends to results["problems"].
void run_task_scores(const StudyConfig& config, const std::string& out_dir,
                     std::vector<RunRecord>& runs, const eval::BackendFactory& factory,
                     const Logger& log, nlohmann::json& results);

}  // namespace quorum::quantstudy::detail
