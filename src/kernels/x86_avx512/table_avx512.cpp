// Registers the AVX-512 kernels in the function table (after fill_avx2, so anything not set here
// keeps the AVX2 or reference entry).
#include "kernels/kernel_table.h"
#include "kernels/x86_avx512/avx512.h"

namespace quorum::kernels {

void fill_avx512(KernelTable& t) {
  t.dot[type_index(DType::kF32)] = avx512::dot_f32;
  t.dot[type_index(DType::kF16)] = avx512::dot_f16;
  t.dot[type_index(DType::kBF16)] = avx512::dot_bf16;
  t.quantize[type_index(DType::kF16)] = avx512::quantize_row_f16;
  t.dot[type_index(DType::kQ8_0)] = avx512::dot_q8_0_q8_0;
  t.dot[type_index(DType::kQ4_K)] = avx512::dot_q4_K_q8_K;
  t.dot4[type_index(DType::kQ8_0)] = avx512::dot4_q8_0_q8_0;
  t.dot4[type_index(DType::kQ4_K)] = avx512::dot4_q4_K_q8_K;
  t.dot[type_index(DType::kQ6_K)] = avx512::dot_q6_K_q8_K;
  t.dot4[type_index(DType::kQ6_K)] = avx512::dot4_q6_K_q8_K;
  t.dot4_f16_wide = avx512::dot4_f16_f32;
  t.dot[type_index(DType::kIQ2_XXS)] = avx512::dot_iq2_xxs_q8_K;
  t.dot[type_index(DType::kIQ2_XS)] = avx512::dot_iq2_xs_q8_K;
}

}  // namespace quorum::kernels
