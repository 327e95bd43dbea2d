// Scalar reference quantizers and dequantizers for ggml's block types, bit-exact with ggml's
// reference functions (ggml-quants.c as of llama.cpp c392e50): the same rounding helper
// (nearest_int), the same scale searches (make_qx_quants, make_q3_quants, make_qkx2_quants,
// make_qkx3_quants, make_qp_quants) and the same F16 conversions (core/fp16.h). The files are
// split by family: quant_ref_legacy.cpp (Q4_0..Q8_1), quant_ref_k.cpp (K-quants),
// quant_ref_iq.cpp (IQ4_NL; IQ2_XXS, IQ2_XS dequantizers; grids in iq_grids.cpp),
// quant_ref_iq2.cpp (IQ2_XXS, IQ2_XS quantizers, which need importance weights).
//
// Row functions: x[n] floats <-> n / block_size blocks. n must be a multiple of the block size.
// quantize_<t>(src, dst, nrows, n_per_row, imatrix): what llama-quantize calls per tensor
// (ggml_quantize_chunk). `imatrix` holds n_per_row importance weights (the same for every row)
// or is null; with null the result equals the _ref path, exactly as ggml does it.
#pragma once

#include <cstddef>
#include <cstdint>

namespace quorum {

// ---- legacy 32-weight blocks
void quantize_row_q4_0_ref(const float* x, void* y, int64_t n);
void quantize_row_q4_1_ref(const float* x, void* y, int64_t n);
void quantize_row_q5_0_ref(const float* x, void* y, int64_t n);
void quantize_row_q5_1_ref(const float* x, void* y, int64_t n);
void quantize_row_q8_0_ref(const float* x, void* y, int64_t n);
void quantize_row_q8_1_ref(const float* x, void* y, int64_t n);
void dequantize_row_q4_0(const void* x, float* y, int64_t n);
void dequantize_row_q4_1(const void* x, float* y, int64_t n);
void dequantize_row_q5_0(const void* x, float* y, int64_t n);
void dequantize_row_q5_1(const void* x, float* y, int64_t n);
void dequantize_row_q8_0(const void* x, float* y, int64_t n);

// ---- K-quants (256-weight super-blocks)
void quantize_row_q2_k_ref(const float* x, void* y, int64_t n);
void quantize_row_q3_k_ref(const float* x, void* y, int64_t n);
void quantize_row_q4_k_ref(const float* x, void* y, int64_t n);
void quantize_row_q5_k_ref(const float* x, void* y, int64_t n);
void quantize_row_q6_k_ref(const float* x, void* y, int64_t n);
void quantize_row_q8_k_ref(const float* x, void* y, int64_t n);
void dequantize_row_q2_k(const void* x, float* y, int64_t n);
void dequantize_row_q3_k(const void* x, float* y, int64_t n);
void dequantize_row_q4_k(const void* x, float* y, int64_t n);
void dequantize_row_q5_k(const void* x, float* y, int64_t n);
void dequantize_row_q6_k(const void* x, float* y, int64_t n);
void dequantize_row_q8_k(const void* x, float* y, int64_t n);

// ---- IQ types
void quantize_row_iq4_nl_ref(const float* x, void* y, int64_t n);
void dequantize_row_iq4_nl(const void* x, float* y, int64_t n);
void dequantize_row_iq2_xxs(const void* x, float* y, int64_t n);
void dequantize_row_iq2_xs(const void* x, float* y, int64_t n);

// ---- whole-tensor quantizers with optional importance weights (imatrix[n_per_row]).
// Each returns the bytes written: nrows * row_size(type, n_per_row).
size_t quantize_q4_0(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* imatrix);
size_t quantize_q4_1(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* imatrix);
size_t quantize_q5_0(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* imatrix);
size_t quantize_q5_1(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* imatrix);
size_t quantize_q8_0(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* imatrix);
size_t quantize_q2_k(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* imatrix);
size_t quantize_q3_k(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* imatrix);
size_t quantize_q4_k(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* imatrix);
size_t quantize_q5_k(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* imatrix);
size_t quantize_q6_k(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* imatrix);
size_t quantize_iq4_nl(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* imatrix);
// IQ2 (quant_ref_iq2.cpp): `imatrix` is required; with null nothing is written and 0 returned.
size_t quantize_iq2_xxs(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* imatrix);
size_t quantize_iq2_xs(const float* src, void* dst, int64_t nrows, int64_t n_per_row, const float* imatrix);

}  // namespace quorum

#include "tensor/dtype.h"

namespace quorum {

// Scale codes of one K-quant super-block chosen by a method other than ggml's own search (HQQ,
// GPTQ): write_k_block stores them and re-quantizes x[256] to the nearest level with the stored
// (F16-rounded) scales, exactly as ggml's quantizers finish a block.
//   Q2_K: 16 groups of 16, x = d * sc * q - dmin * m, sc and m 4-bit, q 0..3
//   Q3_K: 16 groups of 16, x = d * (sc - 32) * q, sc 6-bit (offset by 32), q -4..3
//   Q4_K / Q5_K: 8 groups of 32, x = d * sc * q - dmin * m, sc and m 6-bit, q 0..15 / 0..31
struct KScaleCodes {
  float d = 0, dmin = 0;
  uint8_t sc[16] = {};
  uint8_t m[16] = {};
};
// t is one of Q2_K, Q3_K, Q4_K, Q5_K (other types: nothing is written).
void write_k_block(DType t, const float* x, const KScaleCodes& codes, void* block);

}  // namespace quorum

namespace quorum {

// The whole-tensor quantizer of a type (what ggml_quantize_chunk dispatches to); nullptr for
// types we cannot produce (plain types, IQ3/IQ1/IQ2_S, Q8_1/Q8_K which are activation-only).
using QuantizeFn = size_t (*)(const float* src, void* dst, int64_t nrows, int64_t n_per_row,
                              const float* imatrix);
QuantizeFn quantize_fn(DType t);
// True for types whose quantizer cannot work without importance weights (IQ2_XXS, IQ2_XS).
bool quantize_needs_imatrix(DType t);

}  // namespace quorum
