// The blocked matrix product behind Kernels::matmul for prompt processing (n activation rows at
// once), driving the per-ISA GEMM entries of the kernel table (x86_avx512/gemm_*_avx512.cpp):
//   1. the activations, already converted to the weight type's vec_dot_type, are rearranged
//      once into the kernel's tile layout (split over the threads by tiles);
//   2. the weight rows are split over the threads in panels, so each thread streams its own
//      weights exactly once; inside, the kernel unpacks a panel slice once and reuses it for
//      every activation tile (register-tiled micro-kernel, no horizontal sums).
// The per-row dot products remain the reference and the path for small n.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/thread_pool.h"
#include "kernels/kernel_table.h"

namespace quorum::kernels {

// Below this many activation rows matmul uses the per-row dot products: unpacking a weight
// panel costs about as much as a few columns of products.
inline constexpr int64_t kGemmMinRows = 8;

// Y (n, rows) = X · Wᵀ with act the converted activations (n rows of act_row bytes).
void run_gemm(const GemmEntry& g, ThreadPool& pool, const void* w, size_t w_row, int64_t rows,
              int64_t k, const uint8_t* act, size_t act_row, int64_t n, float* y);

}  // namespace quorum::kernels
