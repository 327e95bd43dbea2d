// Tensor element types and the one traits table that describes them (ggml's type ids, so GGUF
// files read and write them unchanged). This table is the only place that switches on a type:
// everything else asks traits(type).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace quorum {

// Values are ggml's `enum ggml_type` ids as stored in GGUF.
enum class DType : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  kQ5_0 = 6,
  kQ5_1 = 7,
  kQ8_0 = 8,
  kQ8_1 = 9,
  kQ2_K = 10,
  kQ3_K = 11,
  kQ4_K = 12,
  kQ5_K = 13,
  kQ6_K = 14,
  kQ8_K = 15,
  kIQ2_XXS = 16,
  kIQ2_XS = 17,
  kIQ3_XXS = 18,
  kIQ1_S = 19,
  kIQ4_NL = 20,
  kIQ3_S = 21,
  kIQ2_S = 22,
  kIQ4_XS = 23,
  kI8 = 24,
  kI16 = 25,
  kI32 = 26,
  kI64 = 27,
  kF64 = 28,
  kIQ1_M = 29,
  kBF16 = 30,
};
inline constexpr uint32_t kDTypeIdLimit = 31;

// x[n] (n a multiple of block_size) -> y[n] floats.
using ToFloatFn = void (*)(const void* x, float* y, int64_t n);
// x[n] floats -> y (n / block_size blocks); round-to-nearest reference quantizer.
using FromFloatFn = void (*)(const float* x, void* y, int64_t n);

struct TypeTraits {
  DType type;
  const char* name;       // ggml's name: "f32", "q4_K", "iq2_xxs", ...
  int64_t block_size;     // elements per block (1 for plain types)
  size_t type_size;       // bytes per block
  bool quantized;         // block-quantized
  bool known;             // false for ids we cannot handle at all (gaps, removed types)
  ToFloatFn to_float;     // scalar reference dequantizer; null if not implemented
  FromFloatFn from_float; // scalar reference quantizer; null if not implemented
};

// Traits of an id; nullptr for ids outside the table (the caller reports the error).
const TypeTraits* find_traits(uint32_t id);
const TypeTraits& traits(DType t);
inline const char* dtype_name(DType t) { return traits(t).name; }
// Case-insensitive lookup by name ("Q4_K", "q4_k", "F16", "bf16").
std::optional<DType> dtype_from_name(std::string_view name);

// Bytes of one row of n elements; n must be a multiple of block_size.
inline size_t row_size(DType t, int64_t n) {
  const TypeTraits& tr = traits(t);
  return static_cast<size_t>(n / tr.block_size) * tr.type_size;
}

}  // namespace quorum
