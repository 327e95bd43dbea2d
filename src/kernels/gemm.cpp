// run_gemm: the thread split and buffers of the blocked matrix product (see gemm.h).
#include "kernels/gemm.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <new>

namespace quorum::kernels {

namespace {

// Memory for the activation tiles, kept by the calling thread from one matmul to the next
// (grow-only, freed when the thread ends), 2 MiB-aligned and advised as transparent huge pages.
// The micro-kernels read each tile's k slice at a stride of k x (tile bytes per k), so a 512-row
// matmul touches thousands of 4 KiB pages of tiles (16 MB at k = 8192) and with 4 KiB pages
// misses the TLB on most tiles: the F16 GEMM at k = 8192 ran at about 55 % of its k = 2048
// speed per flop, and at 85-100 % with huge pages. Without THP it works as before, slower.
class TileBuffer {
 public:
  TileBuffer() = default;
  TileBuffer(const TileBuffer&) = delete;
  TileBuffer& operator=(const TileBuffer&) = delete;
  ~TileBuffer() { std::free(p_); }

  uint8_t* get(size_t bytes) {
    if (bytes > cap_) {
      std::free(p_);
      p_ = nullptr;
      cap_ = 0;
      const size_t size = (bytes + kHuge - 1) / kHuge * kHuge;
      void* p = std::aligned_alloc(kHuge, size);
      if (!p) throw std::bad_alloc();
      madvise(p, size, MADV_HUGEPAGE);  // advice only: an error leaves 4 KiB pages
      p_ = static_cast<uint8_t*>(p);
      cap_ = size;
    }
    return p_;
  }

 private:
  static constexpr size_t kHuge = size_t{2} << 20;
  uint8_t* p_ = nullptr;
  size_t cap_ = 0;
};

uint8_t* tile_buffer(size_t bytes) {
  thread_local TileBuffer buffer;
  return buffer.get(bytes);
}

}  // namespace

void run_gemm(const GemmEntry& g, ThreadPool& pool, const void* w, size_t w_row, int64_t rows,
              int64_t k, const uint8_t* act, size_t act_row, int64_t n, float* y) {
  // Tiles of the activations: (prep_bytes(n, k)) bytes, filled tile by tile in parallel (not
  // zeroed: prep writes every byte, and zero-filling megabytes per matmul shows).
  uint8_t* pp = tile_buffer(g.prep_bytes(n, k));
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
