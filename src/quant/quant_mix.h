// llama.cpp's file-level quantization mixes ("Q4_K_M" etc.): for a file type, which type each
// tensor gets. Reproduces llama-quantize (llama.cpp c392e50, llama_tensor_get_type): the base
// type of the file type, bumps for sensitive tensors (output, token_embd, attn_v, ffn_down,
// attn_output) depending on the layer index and counts, fallback types for rows a block type
// cannot hold, and user overrides `--tensor-type PATTERN=TYPE` (regex search on the tensor name,
// first match wins, applied instead of the mix, as llama.cpp does since it gained the option).
#pragma once

#include <cstdint>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "tensor/dtype.h"

namespace quorum::quant {

// llama.cpp's `enum llama_ftype`, stored as general.file_type.
enum class FileType : uint32_t {
  kAllF32 = 0, kF16 = 1, kQ4_0 = 2, kQ4_1 = 3, kQ8_0 = 7, kQ5_0 = 8, kQ5_1 = 9, kQ2_K = 10,
  kQ3_K_S = 11, kQ3_K_M = 12, kQ3_K_L = 13, kQ4_K_S = 14, kQ4_K_M = 15, kQ5_K_S = 16,
  kQ5_K_M = 17, kQ6_K = 18, kIQ2_XXS = 19, kIQ2_XS = 20, kQ2_K_S = 21, kIQ3_XS = 22,
  kIQ3_XXS = 23, kIQ1_S = 24, kIQ4_NL = 25, kIQ3_S = 26, kIQ3_M = 27, kIQ2_S = 28, kIQ2_M = 29,
  kIQ4_XS = 30, kIQ1_M = 31, kBF16 = 32,
};

struct FileTypeInfo {
  FileType ftype;
  const char* name;     // as llama-quantize spells it: "Q4_K_M"
  DType base;           // the default tensor type of the mix
  const char* summary;
};

// The file types `quorum quantize` can produce (those whose every tensor type we can quantize).
const std::vector<FileTypeInfo>& file_types();
// Case-insensitive; accepts llama-quantize's aliases Q3_K, Q4_K, Q5_K (= the _M mixes).
std::optional<FileType> file_type_from_name(std::string_view name);
const FileTypeInfo& file_type_info(FileType t);

// What the mix needs to know about the model.
struct ModelShape {
  std::string arch;   // general.architecture
  int n_layer = 0;
  int n_head = 0;
  int n_head_kv = 0;
  int n_expert = 0;
  int n_gqa() const { return n_head_kv > 0 ? n_head / n_head_kv : 0; }
};

struct TensorDesc {
  std::string name;
  std::vector<int64_t> ne;
  DType type = DType::kF32;
};

struct TypeOverride {
  std::string pattern;  // ECMAScript regex, searched in the tensor name
  std::regex re;
  DType type;
};
// Parses "PATTERN=TYPE" (TYPE a tensor type name such as q4_k, q8_0, f16).
Result<TypeOverride> parse_type_override(const std::string& spec);

struct TensorPlan {
  DType type;            // the output type
  bool quantize = false; // converted (false: copied unchanged)
  bool fallback = false; // the mix's type could not hold the rows; a fallback was used
  bool overridden = false;
};

// Plans every tensor, in the order given (llama.cpp's order matters: layer counters advance in
// it; see quantization_order()). Error if a planned type needs an imatrix that is missing or
// cannot be produced.
Result<std::vector<TensorPlan>> plan_mix(FileType ftype, const ModelShape& shape,
                                         const std::vector<TensorDesc>& tensors,
                                         const std::vector<TypeOverride>& overrides,
                                         bool has_imatrix);

// llama.cpp's tensor order: tensors outside blocks first (by name), then by block index, by name
// within a block. Returns indices into `names`.
std::vector<size_t> quantization_order(const std::vector<std::string>& names);

}  // namespace quorum::quant
