// One quant-study run for the tests: no progress bars, errors only in the log, the evaluation
// runner's default backends, output under `out`.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "core/log.h"
#include "core/status.h"
#include "eval/runner.h"
#include "quantstudy/study.h"

namespace quorum::quantstudy {

inline Result<nlohmann::json> run_study(const StudyConfig& config, const std::string& out) {
  StudyOptions options;
  options.output_dir = out;
  options.progress = false;
  const Logger log(LogLevel::kError);
  return run_quant_study(config, options, eval::default_backend_factory(), log);
}

}  // namespace quorum::quantstudy
