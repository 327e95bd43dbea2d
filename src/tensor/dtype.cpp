// The traits table. Block sizes and byte sizes are ggml's (static_asserts in blocks.h tie the
// quantized ones to their struct layouts).
#include "tensor/dtype.h"

#include <array>
#include <cctype>
#include <cstring>

#include "core/fp16.h"
#include "tensor/quant_ref.h"

namespace quorum {
namespace {

void f32_to_float(const void* x, float* y, int64_t n) { std::memcpy(y, x, n * sizeof(float)); }
void f32_from_float(const float* x, void* y, int64_t n) { std::memcpy(y, x, n * sizeof(float)); }
void f16_to_float(const void* x, float* y, int64_t n) {
  f16_to_f32_row(static_cast<const f16_t*>(x), y, n);
}
void f16_from_float(const float* x, void* y, int64_t n) {
  f32_to_f16_row(x, static_cast<f16_t*>(y), n);
}
void bf16_to_float(const void* x, float* y, int64_t n) {
  bf16_to_f32_row(static_cast<const bf16_t*>(x), y, n);
}
void bf16_from_float(const float* x, void* y, int64_t n) {
  f32_to_bf16_row(x, static_cast<bf16_t*>(y), n);
}

#define Q(T, NAME, BS, TS, TO, FROM) {DType::T, NAME, BS, TS, true, true, TO, FROM}
#define P(T, NAME, TS, TO, FROM) {DType::T, NAME, 1, TS, false, true, TO, FROM}

const std::array<TypeTraits, kDTypeIdLimit> kTable = [] {
  std::array<TypeTraits, kDTypeIdLimit> t{};
  for (uint32_t i = 0; i < kDTypeIdLimit; ++i) {
    t[i] = {static_cast<DType>(i), "removed", 1, 0, false, false, nullptr, nullptr};
  }
  const TypeTraits rows[] = {
      P(kF32, "f32", 4, f32_to_float, f32_from_float),
      P(kF16, "f16", 2, f16_to_float, f16_from_float),
      Q(kQ4_0, "q4_0", 32, 18, dequantize_row_q4_0, quantize_row_q4_0_ref),
      Q(kQ4_1, "q4_1", 32, 20, dequantize_row_q4_1, quantize_row_q4_1_ref),
      Q(kQ5_0, "q5_0", 32, 22, dequantize_row_q5_0, quantize_row_q5_0_ref),
      Q(kQ5_1, "q5_1", 32, 24, dequantize_row_q5_1, quantize_row_q5_1_ref),
      Q(kQ8_0, "q8_0", 32, 34, dequantize_row_q8_0, quantize_row_q8_0_ref),
      Q(kQ8_1, "q8_1", 32, 36, nullptr, quantize_row_q8_1_ref),
      Q(kQ2_K, "q2_K", 256, 84, dequantize_row_q2_k, quantize_row_q2_k_ref),
      Q(kQ3_K, "q3_K", 256, 110, dequantize_row_q3_k, quantize_row_q3_k_ref),
      Q(kQ4_K, "q4_K", 256, 144, dequantize_row_q4_k, quantize_row_q4_k_ref),
      Q(kQ5_K, "q5_K", 256, 176, dequantize_row_q5_k, quantize_row_q5_k_ref),
      Q(kQ6_K, "q6_K", 256, 210, dequantize_row_q6_k, quantize_row_q6_k_ref),
      Q(kQ8_K, "q8_K", 256, 292, dequantize_row_q8_k, quantize_row_q8_k_ref),
      Q(kIQ2_XXS, "iq2_xxs", 256, 66, dequantize_row_iq2_xxs, nullptr),
      Q(kIQ2_XS, "iq2_xs", 256, 74, dequantize_row_iq2_xs, nullptr),
      Q(kIQ3_XXS, "iq3_xxs", 256, 98, nullptr, nullptr),
      Q(kIQ1_S, "iq1_s", 256, 50, nullptr, nullptr),
      Q(kIQ4_NL, "iq4_nl", 32, 18, dequantize_row_iq4_nl, quantize_row_iq4_nl_ref),
      Q(kIQ3_S, "iq3_s", 256, 110, nullptr, nullptr),
      Q(kIQ2_S, "iq2_s", 256, 82, nullptr, nullptr),
      Q(kIQ4_XS, "iq4_xs", 256, 136, nullptr, nullptr),
      P(kI8, "i8", 1, nullptr, nullptr),
      P(kI16, "i16", 2, nullptr, nullptr),
      P(kI32, "i32", 4, nullptr, nullptr),
      P(kI64, "i64", 8, nullptr, nullptr),
      P(kF64, "f64", 8, nullptr, nullptr),
      Q(kIQ1_M, "iq1_m", 256, 56, nullptr, nullptr),
      P(kBF16, "bf16", 2, bf16_to_float, bf16_from_float),
  };
  for (const TypeTraits& r : rows) t[static_cast<uint32_t>(r.type)] = r;
  return t;
}();

#undef Q
#undef P

}  // namespace

const TypeTraits* find_traits(uint32_t id) {
  if (id >= kDTypeIdLimit || !kTable[id].known) return nullptr;
  return &kTable[id];
}

const TypeTraits& traits(DType t) { return kTable[static_cast<uint32_t>(t)]; }

std::optional<DType> dtype_from_name(std::string_view name) {
  for (const TypeTraits& t : kTable) {
    if (!t.known || std::strlen(t.name) != name.size()) continue;
    bool eq = true;
    for (size_t i = 0; i < name.size() && eq; ++i) {
      eq = std::tolower(static_cast<unsigned char>(name[i])) ==
           std::tolower(static_cast<unsigned char>(t.name[i]));
    }
    if (eq) return t.type;
  }
  return std::nullopt;
}

}  // namespace quorum
