// Matrix-vector products for one token (generation): several weight matrices that share one
// input row are multiplied in a single fork/join of the thread pool, the input converted once
// per activation type, each thread streaming its own disjoint block of weight rows through the
// kernels' dot products. The result of every row is exactly Kernels::matmul's for n = 1.
#pragma once

#include <cstdint>
#include <initializer_list>

#include "core/thread_pool.h"
#include "kernels/kernels.h"
#include "model/model.h"

namespace quorum {

struct MatVecOut {
  const Weight* w;  // (rows, k)
  float* y;         // [rows]
};

// Bytes of activation scratch matvec needs for inputs of up to k elements.
size_t matvec_scratch_bytes(int64_t k);

// y = W · x for every (W, y) in `outs` (all with row length k); x[k]. `scratch` holds
// matvec_scratch_bytes(k) bytes.
void matvec(const kernels::Kernels& kern, ThreadPool& pool, const float* x, int64_t k,
            std::initializer_list<MatVecOut> outs, uint8_t* scratch);

// h[i] = silu(gate_i · x) * (up_i · x) for i < gate.rows: the SwiGLU feed-forward input computed
// row by row in one pass (same arithmetic as Kernels::swiglu on the two products).
void matvec_swiglu(const kernels::Kernels& kern, ThreadPool& pool, const Weight& gate,
                   const Weight& up, const float* x, float* h, uint8_t* scratch);

}  // namespace quorum
