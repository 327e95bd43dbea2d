// The quantization study behind `quorum quant-study`: for each model × method × level it
// quantizes the model (files cached in the output directory; a re-run skips existing ones whose
// recipe is unchanged), then measures file size and bits per weight, quantization time,
// perplexity and KL divergence against the unquantized model with the same-top-1 rate
// (engine/perplexity.h, llama-perplexity's chunking; the unquantized model is evaluated once
// per model and its logits kept for every quantized file, KlBase), pp/tg speed
// (engine/bench.h), and task scores through the evaluation runner (each method+level's quantized
// models also as an ensemble). Methods are compared pairwise at each level — every method against RTN, AWQ against
// GPTQ — with a paired bootstrap over per-token KL and, on tasks, McNemar's test (classification)
// or a paired bootstrap over item scores.
//
// Failures are contained like in the evaluation runner: a method this build lacks, a failed
// quantization or measurement is listed under "problems" and everything else still runs.
//
// Output directory:
//   results.json                          every number the reports show (study_report.h)
//   models/<model>/<method>-<level>.gguf  quantized files, each with a .json recipe beside it
//   eval/<group>/                         the evaluation runner's output per method+level
//   answers.sqlite                        the answer cache shared by all groups
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "core/log.h"
#include "core/status.h"
#include "eval/runner.h"
#include "quantstudy/study_config.h"

namespace quorum::quantstudy {

struct StudyOptions {
  std::string output_dir;  // overrides the config's when non-empty
  bool progress = true;    // a progress bar on stderr
};

Result<nlohmann::json> run_quant_study(const StudyConfig& config, const StudyOptions& options,
                                       const eval::BackendFactory& factory, const Logger& log);

}  // namespace quorum::quantstudy
