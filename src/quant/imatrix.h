// llama.cpp importance-matrix files (the legacy binary ".imatrix"/".dat" format of llama-imatrix):
//   int32 n_entries; n_entries x { int32 name_len; char name[name_len]; int32 ncall; int32 nval;
//   float values[nval] }; optional trailer { int32 last_call; int32 len; char dataset[len] }.
// `values` are mean squared activations per input column of a weight (summed over experts for
// MoE tensors). The loader keeps them as stored; the quantize driver divides them by ncall
// once more, exactly as llama-quantize does (needed for bit-identical output).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/status.h"

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
// Parses bytes in memory (tests, fuzzing); `name` is used in error messages.
Result<Imatrix> parse_imatrix(const uint8_t* data, size_t size, const std::string& name);

}  // namespace quorum::quant
