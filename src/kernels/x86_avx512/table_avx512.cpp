// Registers the AVX-512 kernels in the function table (after fill_avx2, so anything not set here
// keeps the AVX2 or reference entry).
#include "kernels/kernel_table.h"
#include "kernels/x86_avx512/avx512.h"

namespace quorum::kernels {

void fill_avx512(KernelTable& t) {
  t.dot[type_index(DType::kF32)] = avx512::dot_f32;
  t.softmax = avx512::softmax;
  t.swiglu = avx512::swiglu;
  t.attn_scores_f16 = avx512::attn_scores_f16;
  t.attn_values_f16 = avx512::attn_values_f16;
  t.dot[type_index(DType::kF16)] = avx512::dot_f16;
  t.dot[type_index(DType::kBF16)] = avx512::dot_bf16;
  t.quantize[type_index(DType::kF16)] = avx512::quantize_row_f16;
  t.quantize[type_index(DType::kQ8_0)] = avx512::quantize_row_q8_0;
  t.quantize[type_index(DType::kQ8_1)] = avx512::quantize_row_q8_1;
  t.quantize[type_index(DType::kQ8_K)] = avx512::quantize_row_q8_K;
  t.dot[type_index(DType::kQ8_0)] = avx512::dot_q8_0_q8_0;
  t.dot[type_index(DType::kQ4_0)] = avx512::dot_q4_0_q8_0;
  t.dot[type_index(DType::kQ4_1)] = avx512::dot_q4_1_q8_1;
  t.dot[type_index(DType::kQ5_0)] = avx512::dot_q5_0_q8_0;
  t.dot[type_index(DType::kQ5_1)] = avx512::dot_q5_1_q8_1;
  t.dot[type_index(DType::kIQ4_NL)] = avx512::dot_iq4_nl_q8_0;
  t.dot4[type_index(DType::kQ4_0)] = avx512::dot4_q4_0_q8_0;
  t.dot4[type_index(DType::kQ4_1)] = avx512::dot4_q4_1_q8_1;
  t.dot4[type_index(DType::kQ5_0)] = avx512::dot4_q5_0_q8_0;
  t.dot4[type_index(DType::kQ5_1)] = avx512::dot4_q5_1_q8_1;
  t.dot4[type_index(DType::kIQ4_NL)] = avx512::dot4_iq4_nl_q8_0;
  t.dot[type_index(DType::kQ2_K)] = avx512::dot_q2_K_q8_K;
  t.dot[type_index(DType::kQ3_K)] = avx512::dot_q3_K_q8_K;
  t.dot[type_index(DType::kQ4_K)] = avx512::dot_q4_K_q8_K;
  t.dot[type_index(DType::kQ5_K)] = avx512::dot_q5_K_q8_K;
  t.dot4[type_index(DType::kQ8_0)] = avx512::dot4_q8_0_q8_0;
  t.dot4[type_index(DType::kQ4_K)] = avx512::dot4_q4_K_q8_K;
  t.dot4[type_index(DType::kQ2_K)] = avx512::dot4_q2_K_q8_K;
  t.dot4[type_index(DType::kQ3_K)] = avx512::dot4_q3_K_q8_K;
  t.dot4[type_index(DType::kQ5_K)] = avx512::dot4_q5_K_q8_K;
  t.dot[type_index(DType::kQ6_K)] = avx512::dot_q6_K_q8_K;
  t.dot4[type_index(DType::kQ6_K)] = avx512::dot4_q6_K_q8_K;
  t.dot4_f16_wide = avx512::dot4_f16_f32;
  t.dot[type_index(DType::kIQ2_XXS)] = avx512::dot_iq2_xxs_q8_K;
  t.dot[type_index(DType::kIQ2_XS)] = avx512::dot_iq2_xs_q8_K;
  t.dot4[type_index(DType::kIQ2_XXS)] = avx512::dot4_iq2_xxs_q8_K;
  t.dot4[type_index(DType::kIQ2_XS)] = avx512::dot4_iq2_xs_q8_K;

  // F32 weights keep the per-row dots: F32 models (the small test models) then give the same
  // logits bit for bit whether tokens come in a batch or one by one.
  auto set_gemm = [&](DType d, GemmPrepFn prep, GemmBytesFn prep_bytes, GemmRunFn run,
                      GemmBytesFn scratch_bytes, int64_t row_block, int64_t col_block) {
    t.gemm[type_index(d)] = GemmEntry{prep, prep_bytes, run, scratch_bytes, row_block, col_block};
  };
  set_gemm(DType::kF16, avx512::gemm_prep_f16, avx512::gemm_prep_bytes_float, avx512::gemm_run_f16,
           avx512::gemm_scratch_bytes_float, avx512::kGemmRows, avx512::kGemmFloatCols);
  set_gemm(DType::kBF16, avx512::gemm_prep_bf16, avx512::gemm_prep_bytes_float,
           avx512::gemm_run_bf16, avx512::gemm_scratch_bytes_float, avx512::kGemmRows,
           avx512::kGemmFloatCols);
  set_gemm(DType::kQ8_0, avx512::gemm_prep_q8_0, avx512::gemm_prep_bytes_q8_0,
           avx512::gemm_run_q8_0, avx512::gemm_scratch_bytes_q8_0, avx512::kGemmRows,
           avx512::kGemmQ8_0Cols);
  set_gemm(DType::kQ4_K, avx512::gemm_prep_q8_K, avx512::gemm_prep_bytes_q8_K,
           avx512::gemm_run_q4_K, avx512::gemm_scratch_bytes_q4_K, avx512::kGemmRows,
           avx512::kGemmQ8_KCols);
  set_gemm(DType::kQ6_K, avx512::gemm_prep_q8_K, avx512::gemm_prep_bytes_q8_K,
           avx512::gemm_run_q6_K, avx512::gemm_scratch_bytes_q6_K, avx512::kGemmRows,
           avx512::kGemmQ8_KCols);
}

}  // namespace quorum::kernels
