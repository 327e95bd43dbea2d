// run_gemm: the thread split and buffers of the blocked matrix product (see gemm.h).
#include "kernels/gemm.h"

#include <algorithm>
#include <memory>

namespace quorum::kernels {

void run_gemm(const GemmEntry& g, ThreadPool& pool, const void* w, size_t w_row, int64_t rows,
              int64_t k, const uint8_t* act, size_t act_row, int64_t n, float* y) {
  // Tiles of the activations: (prep_bytes(n, k)) bytes, filled tile by tile in parallel (left
  // uninitialised here: prep writes every byte, and zero-filling megabytes per matmul shows).
  const std::unique_ptr<uint8_t[]> prepped(new uint8_t[g.prep_bytes(n, k) + 64]);
  uint8_t* pp = prepped.get() + (64 - reinterpret_cast<uintptr_t>(prepped.get()) % 64) % 64;
  const int64_t n_tiles = (n + g.col_block - 1) / g.col_block;
  pool.parallel_for(n_tiles, 1, [&](int64_t b, int64_t e, int) {
    const int64_t j0 = b * g.col_block, j1 = std::min(n, e * g.col_block);
    g.prep(act + j0 * act_row, act_row, j1 - j0, k, pp + g.prep_bytes(j0, k));
  });
  // Weight rows in panels of row_block, contiguous ranges per thread; one scratch per thread.
  const size_t scratch = g.scratch_bytes(0, k);
  const int64_t n_panels = (rows + g.row_block - 1) / g.row_block;
  pool.parallel_for(n_panels, 1, [&](int64_t b, int64_t e, int) {
    const std::unique_ptr<uint8_t[]> s(new uint8_t[scratch + 64]);
    uint8_t* sp = s.get() + (64 - reinterpret_cast<uintptr_t>(s.get()) % 64) % 64;
    g.run(w, w_row, b * g.row_block, std::min(rows, e * g.row_block), k, pp, n, y, rows, sp);
  });
}

}  // namespace quorum::kernels
