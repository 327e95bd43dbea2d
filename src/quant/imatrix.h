// llama.cpp importance-matrix files (the legacy binary ".imatrix"/".dat" format of llama-imatrix):
//   int32 n_entries; n_entries x { int32 name_len; char name[name_len]; int32 ncall; int32 nval;
//   float values[nval] }; optional trailer { int32 last_call; int32 len; char dataset[len] }.
// `values` are mean squared activations per input column of a weight (summed over experts for
// MoE tensors). The loader keeps them as stored; the quantize driver divides them by ncall
// once more, exactly as llama-quantize does (needed for bit-identical output).
// ImatrixCollector makes one from calibration activations as llama-imatrix does: for each
// weight, per input column j, the sum of x_j² over all rows of every call with at least 16 rows;
// a call (ncall) is one matmul of one forward pass; stored value = (sum / rows) * ncall.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "quant/calibration.h"

namespace quorum::quant {

struct ImatrixEntry {
  int32_t ncall = 0;
  std::vector<float> values;  // (n_per_row * n_experts)
};

struct Imatrix {
  std::map<std::string, ImatrixEntry> entries;
  int32_t last_call = 0;     // chunks processed (trailer), 0 if absent
  std::string dataset;       // calibration file name (trailer), empty if absent

  const ImatrixEntry* find(const std::string& tensor_name) const;
};

Result<Imatrix> load_imatrix(const std::string& path);
// The file's bytes (entries in name order) and an atomic write of them.
std::vector<uint8_t> serialize_imatrix(const Imatrix& imatrix);
Status save_imatrix(const Imatrix& imatrix, const std::string& path);

struct ImatrixCollectorOptions {
  bool process_output = false;  // also collect output.weight (llama-imatrix --process-output)
  int64_t min_rows = 16;        // llama-imatrix ignores matmuls of fewer rows
};

// An ActivationObserver accumulating llama-imatrix's statistics.
class ImatrixCollector : public ActivationObserver {
 public:
  explicit ImatrixCollector(ImatrixCollectorOptions options = {}) : options_(options) {}
  void on_linear_input(const LinearInput& input) override;
  // The statistics so far, in the file's convention; `dataset` goes into the trailer.
  Imatrix result(const std::string& dataset) const;

 private:
  struct Stats {
    std::vector<double> sum_sq;  // [k]
    int64_t rows = 0;
    int32_t ncall = 0;
  };
  ImatrixCollectorOptions options_;
  std::map<std::string, Stats> stats_;
  std::vector<double> scratch_;  // [k] sums of one call
};
// Parses bytes in memory (tests, fuzzing); `name` is used in error messages.
Result<Imatrix> parse_imatrix(const uint8_t* data, size_t size, const std::string& name);

}  // namespace quorum::quant
