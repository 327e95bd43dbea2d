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

struct KernelTable {
  std::array<DotFn, kDTypeIdLimit> dot{};            // indexed by weight type id
  std::array<Dot4Fn, kDTypeIdLimit> dot4{};          // optional; null: matmul uses dot
  // F16 weights x four F32 rows that hold F16-rounded activations (matmul widens the converted
  // activations once so the inner loop converts only the weights). Optional.
  Dot4Fn dot4_f16_wide = nullptr;
  std::array<QuantizeFn, kDTypeIdLimit> quantize{};  // indexed by activation type id
  RmsNormFn rms_norm = nullptr;
  SoftmaxFn softmax = nullptr;
  SwigluFn swiglu = nullptr;
};

inline size_t type_index(DType t) { return static_cast<size_t>(t); }

void fill_ref(KernelTable& table);
void fill_avx2(KernelTable& table);    // x86_avx2/; requires AVX2 + FMA + F16C at run time
void fill_avx512(KernelTable& table);  // x86_avx512/; requires AVX-512 F/BW/VL/VNNI at run time

}  // namespace quorum::kernels
