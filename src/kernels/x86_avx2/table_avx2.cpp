// Registers the AVX2 kernels in the function table; entries not set here keep the reference.
#include "kernels/kernel_table.h"
#include "kernels/x86_avx2/avx2.h"

namespace quorum::kernels {

void fill_avx2(KernelTable& t) {
  t.dot[type_index(DType::kF32)] = avx2::dot_f32;
  t.dot[type_index(DType::kF16)] = avx2::dot_f16;
  t.dot[type_index(DType::kBF16)] = avx2::dot_bf16;
  t.quantize[type_index(DType::kF16)] = avx2::quantize_row_f16;
}

}  // namespace quorum::kernels
