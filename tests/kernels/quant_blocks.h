// Test-side decoding of quantized blocks, written from the block format (not shared with the
// kernels): each element's value and a bound |scale part| + |offset part| used by the error
// analysis. Plus random valid weight rows (random bytes with finite F16 scales).
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "tensor/dtype.h"

namespace quorum::kernels::testing {

struct Decoded {
  std::vector<double> value;  // (k) exact value of each element
  std::vector<double> bound;  // (k) |scaled quant| + |offset|: what float rounding scales with
};

// Decodes k elements of `t` (weight types listed in kQuantWeightTypes and Q8_0/Q8_1/Q8_K).
Decoded decode_blocks(DType t, const void* data, int64_t k);

// Random bytes for k elements of `t` with every F16/F32 scale replaced by a finite value of
// about `scale` and Q8_0 weights kept in [-127, 127] (what quantizers produce).
std::vector<uint8_t> random_blocks(DType t, int64_t k, uint32_t seed, float scale = 0.01f);

// The exact dot product of weight row w with converted activation row act (k elements) and
// the error bound of a kernel that sums each block's integers exactly and then accumulates a few
// float roundings per block: (n_blocks + 8) u sum |scaled w| |x|, plus the Q8_1 sum error.
struct ExpectedDot {
  double exact = 0.0, tol = 0.0;
};
ExpectedDot expected_dot(DType wt, const void* w, const void* act, int64_t k);

inline constexpr DType kQuantWeightTypes[] = {
    DType::kQ4_0, DType::kQ4_1, DType::kQ5_0, DType::kQ5_1, DType::kQ8_0, DType::kIQ4_NL,
    DType::kQ2_K, DType::kQ3_K, DType::kQ4_K, DType::kQ5_K, DType::kQ6_K,
    DType::kIQ2_XXS, DType::kIQ2_XS};

}  // namespace quorum::kernels::testing
