// `quorum quantize`: converts a GGUF model (F32/F16/BF16 weights) to a quantized GGUF with one of
// llama.cpp's file-level mixes (quant_mix.h), byte-identical to llama-quantize for the RTN
// method. Also the registry of quantization methods: "rtn" (round-to-nearest with ggml's scale
// searches, optionally importance-weighted by an imatrix), "hqq" (quant/hqq.h) and "gptq"
// (gptq.h) and "awq" (awq.h), which need a calibration run.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/status.h"
#include "quant/calibration.h"
#include "quant/gptq.h"
#include "quant/awq.h"
#include "quant/quant_mix.h"
#include "tensor/dtype.h"

namespace quorum::quant {

struct QuantMethodParam {
  const char* name;
  const char* default_value;
  const char* help;
};

struct QuantMethod {
  const char* name;       // "rtn"
  const char* summary;
  const char* reference;  // paper or source it follows
  std::vector<QuantMethodParam> params;
};

const std::vector<QuantMethod>& quant_methods();
const QuantMethod* find_quant_method(const std::string& name);

struct QuantizeOptions {
  std::string method = "rtn";
  FileType ftype = FileType::kQ4_K_M;
  std::vector<std::string> tensor_types;  // "PATTERN=TYPE" overrides, first match wins
  std::string imatrix_path;               // empty: none
  std::vector<std::string> method_params; // "name=value" for the method's declared parameters
  int threads = 0;                        // 0: default_thread_count()
  // gptq: runs the calibration text through the input model (set by the application, which
  // links the engine) and the method's parameters.
  CalibrationRun calibrate;
  // gptq, optional: a calibration pass with replaced weights, for sequential GPTQ
  // (GptqOptions::sequential); without it GPTQ takes every Hessian from the unquantized model.
  CalibrationRunWith calibrate_with;
  GptqOptions gptq;
  AwqOptions awq;                          // awq: scale/clip search grids
  // F32 replacements of input tensors (same element count), used instead of the file's data:
  // what weight-transforming methods produce (AWQ's folded scales); tests use it directly.
  const TensorOverrides* overrides = nullptr;
  // The input file already open (e.g. the calibration model's file(), a copy shares its
  // mapping), used instead of mapping `in` a second time; null: quantize_gguf opens `in`.
  const gguf::File* input = nullptr;
  // Called before each tensor is written: (index, count, name, output type).
  std::function<void(size_t, size_t, const std::string&, DType)> on_tensor;
};

struct QuantizeReport {
  size_t n_tensors = 0;
  size_t n_quantized = 0;
  size_t n_fallback = 0;
  size_t n_with_imatrix = 0;
  size_t n_gptq = 0;        // tensors quantized with GPTQ
  int calibration_passes = 0;
  uint64_t bytes_in = 0;   // tensor data of the input
  uint64_t bytes_out = 0;  // tensor data of the output
  std::vector<AwqGroupReport> awq_groups;  // awq: per group, chosen α and calibration errors
};

// Reads `in`, writes `out` (atomically). Refuses out == in; never modifies the input.
Result<QuantizeReport> quantize_gguf(const std::string& in, const std::string& out,
                                     const QuantizeOptions& options);

}  // namespace quorum::quant
