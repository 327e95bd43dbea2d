// Calibration passes: runs a tokenized calibration text through a model with an
// ActivationObserver attached (quant/calibration.h), chunked as llama-imatrix does it: the text
// is cut into non-overlapping chunks of n_ctx tokens, each evaluated from an empty cache in one
// batch with its first token replaced by BOS (when the model uses BOS), all rows computed.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "core/context.h"
#include "core/status.h"
#include "engine/session.h"
#include "quant/calibration.h"

namespace quorum {

struct CalibrationOptions {
  int64_t n_ctx = 512;
  int64_t n_chunks = -1;  // -1: as many as the text holds
  bool add_bos = true;    // replace each chunk's first token with bos_id
  int32_t bos_id = 1;
  ProgressFn progress;    // ("calibrate", chunks done, chunks total); may be empty
};

// Number of chunks `options` takes from `n_tokens` tokens (error if the text is too short).
Result<int64_t> calibration_chunks(int64_t n_tokens, const CalibrationOptions& options);

// Runs the chunks through `model`, reporting every linear layer's input to `observer`.
// Returns the number of chunks run.
Result<int64_t> run_calibration(const std::shared_ptr<const Model>& model,
                                std::span<const int32_t> tokens, const CalibrationOptions& options,
                                quant::ActivationObserver& observer,
                                SessionOptions session_options = {});

// A CalibrationRun (for quant algorithms that make several passes) over shared copies of the
// model and tokens.
quant::CalibrationRun make_calibration_run(std::shared_ptr<const Model> model,
                                           std::vector<int32_t> tokens, CalibrationOptions options,
                                           SessionOptions session_options = {});

// The same with weights replaced per pass: each pass with replacements builds a model over the
// original mapping with those tensors swapped (no copy of the other weights).
quant::CalibrationRunWith make_calibration_run_with(std::shared_ptr<const Model> model,
                                                    std::vector<int32_t> tokens,
                                                    CalibrationOptions options,
                                                    SessionOptions session_options = {});

}  // namespace quorum
