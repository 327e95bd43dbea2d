// The subcommand table: each verb registers its options on a CLI11 subcommand and returns the
// function that runs it. main.cpp lists them in kCommands; adding a verb is one row there plus
// one cmd_<verb>.cpp.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

#include "core/status.h"
#include "model/model.h"

namespace quorum::cli {

// Runs after parsing; returns the process exit code.
using RunFn = std::function<int()>;

struct Command {
  const char* name;
  const char* summary;
  RunFn (*setup)(CLI::App& sub);
};

RunFn setup_info(CLI::App& sub);
RunFn setup_convert(CLI::App& sub);
RunFn setup_eval(CLI::App& sub);
RunFn setup_pull(CLI::App& sub);
RunFn setup_synth(CLI::App& sub);
RunFn setup_quantize(CLI::App& sub);
RunFn setup_tokenize(CLI::App& sub);
RunFn setup_bench(CLI::App& sub);
RunFn setup_quant_study(CLI::App& sub);
RunFn setup_run(CLI::App& sub);
RunFn setup_chat(CLI::App& sub);
RunFn setup_perplexity(CLI::App& sub);
RunFn setup_imatrix(CLI::App& sub);

// A calibration text tokenized for `model` (cmd_imatrix.cpp; also used by quantize).
struct CalibrationText {
  std::vector<int32_t> tokens;
  bool add_bos = true;
  int32_t bos_id = 1;
};
Result<CalibrationText> load_calibration_text(const Model& model, const std::string& path);

// Prints a library error as "error: <message>" and returns exit code 1.
int report_error(const Status& status);

}  // namespace quorum::cli
