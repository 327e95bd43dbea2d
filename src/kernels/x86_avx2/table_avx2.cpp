// Registers the AVX2 kernels in the function table; entries not set here keep the reference.
#include "kernels/kernel_table.h"
#include "kernels/x86_avx2/avx2.h"

namespace quorum::kernels {

void fill_avx2(KernelTable& t) {
  t.dot[type_index(DType::kF32)] = avx2::dot_f32;
  t.softmax = avx2::softmax;
  t.swiglu = avx2::swiglu;
  t.attn_scores_f16 = avx2::attn_scores_f16;
  t.attn_values_f16 = avx2::attn_values_f16;
  t.dot[type_index(DType::kF16)] = avx2::dot_f16;
  t.dot[type_index(DType::kBF16)] = avx2::dot_bf16;
  t.quantize[type_index(DType::kF16)] = avx2::quantize_row_f16;
  t.quantize[type_index(DType::kQ8_0)] = avx2::quantize_row_q8_0;
  t.quantize[type_index(DType::kQ8_1)] = avx2::quantize_row_q8_1;
  t.quantize[type_index(DType::kQ8_K)] = avx2::quantize_row_q8_K;
  t.dot[type_index(DType::kQ8_0)] = avx2::dot_q8_0_q8_0;
  t.dot[type_index(DType::kQ4_0)] = avx2::dot_q4_0_q8_0;
  t.dot[type_index(DType::kQ4_1)] = avx2::dot_q4_1_q8_1;
  t.dot[type_index(DType::kQ5_0)] = avx2::dot_q5_0_q8_0;
  t.dot[type_index(DType::kQ5_1)] = avx2::dot_q5_1_q8_1;
  t.dot[type_index(DType::kIQ4_NL)] = avx2::dot_iq4_nl_q8_0;
  t.dot4[type_index(DType::kQ4_0)] = avx2::dot4_q4_0_q8_0;
  t.dot4[type_index(DType::kQ4_1)] = avx2::dot4_q4_1_q8_1;
  t.dot4[type_index(DType::kQ5_0)] = avx2::dot4_q5_0_q8_0;
  t.dot4[type_index(DType::kQ5_1)] = avx2::dot4_q5_1_q8_1;
  t.dot4[type_index(DType::kIQ4_NL)] = avx2::dot4_iq4_nl_q8_0;
  t.dot[type_index(DType::kQ2_K)] = avx2::dot_q2_K_q8_K;
  t.dot[type_index(DType::kQ3_K)] = avx2::dot_q3_K_q8_K;
  t.dot4[type_index(DType::kQ2_K)] = avx2::dot4_q2_K_q8_K;
  t.dot4[type_index(DType::kQ3_K)] = avx2::dot4_q3_K_q8_K;
  t.dot[type_index(DType::kQ4_K)] = avx2::dot_q4_K_q8_K;
  t.dot[type_index(DType::kQ5_K)] = avx2::dot_q5_K_q8_K;
  t.dot[type_index(DType::kQ6_K)] = avx2::dot_q6_K_q8_K;
  t.dot[type_index(DType::kIQ2_XXS)] = avx2::dot_iq2_xxs_q8_K;
  t.dot[type_index(DType::kIQ2_XS)] = avx2::dot_iq2_xs_q8_K;
  t.gemm[type_index(DType::kF16)] = GemmEntry{avx2::gemm_prep_f16, avx2::gemm_prep_bytes_float,
                                              avx2::gemm_run_f16, avx2::gemm_scratch_bytes_float,
                                              avx2::kGemmRows, avx2::kGemmFloatCols};
  t.gemm[type_index(DType::kBF16)] = GemmEntry{avx2::gemm_prep_bf16, avx2::gemm_prep_bytes_float,
                                               avx2::gemm_run_bf16, avx2::gemm_scratch_bytes_float,
                                               avx2::kGemmRows, avx2::kGemmFloatCols};
  t.gemm[type_index(DType::kQ8_0)] = GemmEntry{avx2::gemm_prep_q8_0, avx2::gemm_prep_bytes_q8_0,
                                               avx2::gemm_run_q8_0, avx2::gemm_scratch_bytes_q8_0,
                                               avx2::kGemmRows, avx2::kGemmQ8_0Cols};
  t.gemm[type_index(DType::kQ4_K)] = GemmEntry{avx2::gemm_prep_q8_K, avx2::gemm_prep_bytes_q8_K,
                                               avx2::gemm_run_q4_K, avx2::gemm_scratch_bytes_q4_K,
                                               avx2::kGemmRows, avx2::kGemmQ8_KCols};
  t.gemm[type_index(DType::kQ5_K)] = GemmEntry{avx2::gemm_prep_q8_K, avx2::gemm_prep_bytes_q8_K,
                                               avx2::gemm_run_q5_K, avx2::gemm_scratch_bytes_q4_K,
                                               avx2::kGemmRows, avx2::kGemmQ8_KCols};
  t.gemm[type_index(DType::kQ6_K)] = GemmEntry{avx2::gemm_prep_q8_K, avx2::gemm_prep_bytes_q8_K,
                                               avx2::gemm_run_q6_K, avx2::gemm_scratch_bytes_q6_K,
                                               avx2::kGemmRows, avx2::kGemmQ8_KCols};
}

}  // namespace quorum::kernels
