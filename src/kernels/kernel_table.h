// The function table behind Kernels: one entry per weight type (dot product) and per activation
// type (row converter), plus the row ops. fill_ref() sets every entry; fill_avx2()/fill_avx512()
// (each in its own compile unit built for that instruction set) overwrite the entries they
// implement, so anything they do not cover falls back to the scalar reference.
#pragma once

#include <array>
#include <cstdint>

#include "tensor/dtype.h"

namespace quorum::kernels {

// Dot of one weight row w[k] (weight type) with one converted activation row x[k].
using DotFn = float (*)(const void* w, const void* x, int64_t k);
// Four activation rows at once: out[c] = dot(w, x + c * x_stride bytes), c < 4 (matmul n > 1).
using Dot4Fn = void (*)(const void* w, const void* x, size_t x_stride, int64_t k, float* out);
// One F32 row x[k] -> activation type (bytes = row_size(act_type, k)).
using QuantizeFn = void (*)(const float* x, void* y, int64_t k);
using RmsNormFn = void (*)(const float* x, const float* weight, float* y, int64_t n, float eps);
using SoftmaxFn = void (*)(float* x, int64_t n);
using SwigluFn = void (*)(const float* gate, const float* up, float* y, int64_t n);
// Attention of n_q query heads over one KV head of an F16 cache (rows `stride` elements apart).
using AttnScoresF16Fn = void (*)(const uint16_t* k, int64_t stride, const float* q, int64_t n_q,
                                 int64_t n_kv, int64_t hd, float* scores);
using AttnValuesF16Fn = void (*)(const uint16_t* v, int64_t stride, const float* p, int64_t n_q,
                                 int64_t n_kv, int64_t hd, float* out);

// Blocked matrix product for prompt processing (n activation rows at once; see gemm.h).
// prep converts n rows of converted activations (vec_dot_type rows of act_row bytes each) into
// the kernel's tile layout (prep_bytes(n, k) bytes at out). run computes
//   y[j * ldy + i] = dot(w row i, activation row j)   for i in [i0, i1), j in [0, n)
// from that layout; w points at row 0 (w_row bytes per row); scratch holds scratch_bytes(k).
// Each call streams its weight rows once (threads split the rows).
using GemmPrepFn = void (*)(const void* act, size_t act_row, int64_t n, int64_t k, void* out);
using GemmBytesFn = size_t (*)(int64_t n, int64_t k);
using GemmRunFn = void (*)(const void* w, size_t w_row, int64_t i0, int64_t i1, int64_t k,
                           const void* prepped, int64_t n, float* y, int64_t ldy, void* scratch);
struct GemmEntry {
  GemmPrepFn prep = nullptr;
  GemmBytesFn prep_bytes = nullptr;
  GemmRunFn run = nullptr;
  GemmBytesFn scratch_bytes = nullptr;  // called with n = 0
  int64_t row_block = 32;               // weight rows per panel (threads split on multiples)
  int64_t col_block = 1;                // activation rows per tile (prep splits on multiples)
};

struct KernelTable {
  std::array<DotFn, kDTypeIdLimit> dot{};            // indexed by weight type id
  std::array<Dot4Fn, kDTypeIdLimit> dot4{};          // optional; null: matmul uses dot
  // F16 weights x four F32 rows that hold F16-rounded activations (matmul widens the converted
  // activations once so the inner loop converts only the weights). Optional.
  Dot4Fn dot4_f16_wide = nullptr;
  std::array<QuantizeFn, kDTypeIdLimit> quantize{};  // indexed by activation type id
  std::array<GemmEntry, kDTypeIdLimit> gemm{};       // optional; by weight type id
  RmsNormFn rms_norm = nullptr;
  SoftmaxFn softmax = nullptr;
  SwigluFn swiglu = nullptr;
  AttnScoresF16Fn attn_scores_f16 = nullptr;
  AttnValuesF16Fn attn_values_f16 = nullptr;
};

inline size_t type_index(DType t) { return static_cast<size_t>(t); }

void fill_ref(KernelTable& table);
void fill_avx2(KernelTable& table);    // x86_avx2/; requires AVX2 + FMA + F16C at run time
void fill_avx512(KernelTable& table);  // x86_avx512/; requires AVX-512 F/BW/VL/VNNI at run time

}  // namespace quorum::kernels
