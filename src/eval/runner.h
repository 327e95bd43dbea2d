// The evaluation runner behind `quorum eval`: for each task, every model answers every item
// (through the answer cache), every strategy combines the answers, metrics are computed per model
// and per strategy, and the results are written as JSON plus per-item predictions as JSONL.
//
// Failures are contained: a missing data file fails its task, a model that cannot load or a server
// that times out fails that (model, task) part; everything else still runs, and results.json lists
// each problem under "problems" (the report shows them). Only config errors and an unusable output
// directory or cache stop the whole run.
//
// Output directory:
//   results.json                 every number the reports show (see report.h)
//   predictions/<task>.jsonl     one row per item per model / strategy (and seed)
//   answers.sqlite               the answer cache (unless the config puts it elsewhere)
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "backend/answer_cache.h"
#include "backend/backend.h"
#include "core/log.h"
#include "eval/eval_config.h"

namespace quorum::eval {

struct RunOptions {
  std::string output_dir;  // overrides the config's when non-empty
  int64_t limit = 0;       // > 0: at most this many items per task (overrides the config's)
  int jobs = 0;            // > 0: overrides the config's parallel items per model
  bool progress = true;    // progress bars on stderr
};

// Creates the (uncached) backend of one configured model. The cache is passed so a local backend
// can take its identity from the cached model-file hash.
using BackendFactory = std::function<Result<std::shared_ptr<backend::Backend>>(
    const ModelConfig& model, backend::AnswerCache& cache)>;

// Remote models get an HttpBackend (API key from the configured environment variable); local
// models a LocalBackend (engine) with up to `jobs` sessions of hardware threads / jobs threads
// each. Configured models naming the same file share one loaded Model.
BackendFactory default_backend_factory(int jobs = 1);

// Runs the evaluation and writes results.json and predictions/. Returns the results JSON.
Result<nlohmann::json> run_evaluation(const EvalConfig& config, const RunOptions& options,
                                      const BackendFactory& factory, const Logger& log);

}  // namespace quorum::eval
