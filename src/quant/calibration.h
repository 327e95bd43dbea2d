// The activation-capture interface between `engine` and the quantization algorithms that need
// calibration data (imatrix, GPTQ, AWQ). Declared here in `quant` so that `quant` stays below
// `engine`: the engine calls an ActivationObserver (when one is set in SessionOptions) with the
// F32 input of every linear layer just before the matrix multiplication, and the application,
// which links both layers, runs the calibration text through a Session (a CalibrationRun).
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "tensor/dtype.h"

namespace quorum::quant {

// The input X of one or more linear layers that multiply the same activations
// (attn_q/attn_k/attn_v share one; ffn_gate/ffn_up share one).
struct LinearInput {
  int64_t layer = -1;                   // block index; -1 for output.weight
  std::span<const std::string> weights; // GGUF names of the weights applied to X, e.g.
                                        // "blk.0.attn_q.weight" (only weights present in the model)
  const float* x = nullptr;             // [n, k] row-major F32, valid during the call only
  int64_t n = 0;                        // rows (tokens of this forward pass)
  int64_t k = 0;                        // columns (= the weights' row length, ggml ne0)
};

// Receives the linear-layer inputs of each forward pass, in graph order, from the thread that
// calls Session::decode (never concurrently from one session).
class ActivationObserver {
 public:
  virtual ~ActivationObserver() = default;
  virtual void on_linear_input(const LinearInput& input) = 0;
  // Whether the input of output.weight (layer -1) is wanted for every row; if not, a
  // calibration pass computes only the last row's logits (the input of the LM head is then
  // reported for that row only), which saves the largest matrix product of a small model.
  virtual bool observes_output() const { return true; }
};

// Runs calibration text through a model with `observer` attached (supplied by the application,
// which links the engine; quant algorithms call it once per pass they need).
using CalibrationRun = std::function<Status(ActivationObserver& observer)>;

// A weight used instead of the model's in a calibration pass: the same shape in any type the
// engine runs (sequential GPTQ passes the already-quantized blocks of the earlier layers).
struct ReplacedWeight {
  DType type = DType::kF32;
  std::shared_ptr<const std::vector<uint8_t>> data;  // row_size(type, ne[0]) * rows bytes
};
using WeightReplacements = std::map<std::string, ReplacedWeight>;

// A calibration pass on the model with the given weights replaced (none: the model as is).
using CalibrationRunWith =
    std::function<Status(ActivationObserver& observer, const WeightReplacements& replaced)>;

// Builds the GGUF weight names ("blk.<layer>.<short>.weight", or "output.weight" for layer -1)
// and calls `observer`. Used by the engine's forward pass (only when an observer is set).
void notify_linear_input(ActivationObserver& observer, int64_t layer,
                         std::initializer_list<const char*> short_names, const float* x,
                         int64_t n, int64_t k);

}  // namespace quorum::quant
