// Shared by the AVX2 GEMM compile units only (x86_avx2/gemm_*_avx2.cpp, all built with the same
// flags): the block / slice / tile loop of the blocked matrix product and the store of a 16-row
// block of Y. Kernel-specific parts (packing, micro-kernel, tile layout) stay in each unit.
//
// Loop (one thread, weight rows [i0, i1)), GotoBLAS order as the AVX-512 gemm_blocks:
//   for each block of block_panels x 16 weight rows:
//     for each slice of `slice_units` k units (element or block):
//       pack the slices of the block's panels once (scratch, stays in L2)
//       for each activation tile of nr rows: for each panel: micro-kernel (tile slice in L1)
// With 16 ymm registers the micro-kernels hold a 16 x nr block of Y (nr = 6: 12 accumulators,
// two weight registers and one broadcast).
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

namespace quorum::kernels::avx2 {
namespace {  // internal linkage, as avx2_util.h

inline constexpr int kGemmPanelRows = 16;

// Lane mask for vmaskmovps: lanes < n set.
inline __m256i gemm_lane_mask(int64_t n) {
  const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n < 0 ? 0 : (n > 8 ? 8 : n))), idx);
}

// Y[0..15] of one activation row at yc (lanes masked by m0 | m1) = acc (+ Y if add).
inline void gemm_store(__m256 a0, __m256 a1, float* yc, __m256i m0, __m256i m1, bool add) {
  if (add) {
    a0 = _mm256_add_ps(a0, _mm256_maskload_ps(yc, m0));
    a1 = _mm256_add_ps(a1, _mm256_maskload_ps(yc + 8, m1));
  }
  _mm256_maskstore_ps(yc, m0, a0);
  _mm256_maskstore_ps(yc + 8, m1, a1);
}

// Y rows c < n_valid, lanes 0..15 (+)= the float sums accf [nr][16] (integer micro-kernels).
template <int kNr>
inline void gemm_store_tile(const float (&accf)[kNr][kGemmPanelRows], float* y, int64_t ldy,
                            int n_valid, __m256i m0, __m256i m1, bool add) {
  for (int c = 0; c < n_valid; ++c) {
    gemm_store(_mm256_load_ps(accf[c]), _mm256_load_ps(accf[c] + 8), y + c * ldy, m0, m1, add);
  }
}

struct GemmShape {
  int nr;                  // activation rows per tile
  int64_t slice_units;     // k units per packed panel slice
  size_t tile_unit_bytes;  // bytes of one k unit in an activation tile
};

// pack(w_panel, w_row, rows_valid, unit0, units, panel);
// micro(panel, tile, units, y, ldy, n_valid, m0, m1, add).
template <typename Pack, typename Micro>
inline void gemm_blocks(const GemmShape& s, int64_t block_panels, size_t panel_bytes,
                        const uint8_t* w, size_t w_row, int64_t i0, int64_t i1, int64_t n_units,
                        const uint8_t* tiles, int64_t n, float* y, int64_t ldy, uint8_t* scratch,
                        Pack pack, Micro micro) {
  const int64_t n_tiles = (n + s.nr - 1) / s.nr;
  const int64_t block_rows = block_panels * kGemmPanelRows;
  const size_t unit_bytes = w_row / static_cast<size_t>(n_units);
  for (int64_t b0 = i0; b0 < i1; b0 += block_rows) {
    const int64_t b1 = i1 - b0 < block_rows ? i1 : b0 + block_rows;
    const int64_t n_panels = (b1 - b0 + kGemmPanelRows - 1) / kGemmPanelRows;
    for (int64_t u0 = 0; u0 < n_units; u0 += s.slice_units) {
      const int64_t units = n_units - u0 < s.slice_units ? n_units - u0 : s.slice_units;
      for (int64_t p = 0; p < n_panels; ++p) {
        const int64_t r0 = b0 + p * kGemmPanelRows;
        const int64_t rows_valid = b1 - r0 < kGemmPanelRows ? b1 - r0 : kGemmPanelRows;
        pack(w + r0 * w_row, w_row, rows_valid, u0, units, scratch + p * panel_bytes);
      }
      // The next slice's weights come from memory (each weight is read once per matmul): ask
      // for them into L2 while this slice computes, spread over the tiles.
      int64_t nb0 = b0, nu0 = u0 + s.slice_units;
      if (nu0 >= n_units) {
        nb0 = b1;
        nu0 = 0;
      }
      const int64_t next_units = n_units - nu0 < s.slice_units ? n_units - nu0 : s.slice_units;
      const int64_t next_rows = nb0 >= i1 ? 0 : (i1 - nb0 < block_rows ? i1 - nb0 : block_rows);
      const size_t next_bytes = static_cast<size_t>(next_units) * unit_bytes;
      for (int64_t t = 0; t < n_tiles; ++t) {
        for (int64_t r = t; r < next_rows; r += n_tiles) {
          const char* pw = reinterpret_cast<const char*>(w + (nb0 + r) * w_row + nu0 * unit_bytes);
          for (size_t off = 0; off < next_bytes; off += 64) _mm_prefetch(pw + off, _MM_HINT_T1);
        }
        const int n_valid = static_cast<int>(n - t * s.nr < s.nr ? n - t * s.nr : s.nr);
        const uint8_t* tile = tiles + static_cast<size_t>(t * n_units + u0) * s.tile_unit_bytes;
        float* yt = y + t * s.nr * ldy;
        for (int64_t p = 0; p < n_panels; ++p) {
          const int64_t r0 = b0 + p * kGemmPanelRows;
          const int64_t rows_valid = b1 - r0 < kGemmPanelRows ? b1 - r0 : kGemmPanelRows;
          micro(scratch + p * panel_bytes, tile, units, yt + r0, ldy, n_valid,
                gemm_lane_mask(rows_valid), gemm_lane_mask(rows_valid - 8), u0 > 0);
        }
      }
    }
  }
}

}  // namespace
}  // namespace quorum::kernels::avx2
