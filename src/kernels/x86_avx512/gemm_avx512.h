// Shared by the AVX-512 GEMM compile units only (x86_avx512/gemm_*_avx512.cpp, all built with
// the same flags): the panel / slice / tile loop of the blocked matrix product and the store
// of a 32-row block of Y. Kernel-specific parts (packing, micro-kernel, tile layout) stay in
// each unit.
//
// Loop (one thread, weight rows [i0, i1)):
//   for each panel of 32 weight rows:
//     for each slice of `slice_units` k units (element, block or super-block):
//       pack the panel slice once (scratch)            -> stays in L1
//       for each activation tile of nr rows: micro-kernel accumulates Y[tile rows, panel rows]
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "kernels/x86_avx512/avx512.h"
#include "kernels/x86_avx512/avx512_util.h"

namespace quorum::kernels::avx512 {
namespace {  // internal linkage, as avx512_util.h

inline constexpr int kGemmPanelRows = static_cast<int>(kGemmRows);

inline __mmask16 gemm_lane_mask(int64_t n) {
  return n >= 16 ? static_cast<__mmask16>(0xFFFF)
                 : (n <= 0 ? static_cast<__mmask16>(0) : static_cast<__mmask16>((1u << n) - 1u));
}

// Rows of Y at y, y + ldy, ...: (n_valid rows, lanes masked by m0 | m1) = acc (+ Y if add).
inline void gemm_store(__m512 a0, __m512 a1, float* yc, __mmask16 m0, __mmask16 m1, bool add) {
  if (add) {
    a0 = _mm512_add_ps(a0, _mm512_maskz_loadu_ps(m0, yc));
    a1 = _mm512_add_ps(a1, _mm512_maskz_loadu_ps(m1, yc + 16));
  }
  _mm512_mask_storeu_ps(yc, m0, a0);
  _mm512_mask_storeu_ps(yc + 16, m1, a1);
}

struct GemmShape {
  int nr;                   // activation rows per tile
  int64_t slice_units;      // k units per packed panel slice
  size_t tile_unit_bytes;   // bytes of one k unit in an activation tile
};

// pack(w_panel, w_row, rows_valid, unit0, units, panel);
// micro(panel, tile, units, y, ldy, n_valid, m0, m1, add).
template <typename Pack, typename Micro>
inline void gemm_panels(const GemmShape& s, const uint8_t* w, size_t w_row, int64_t i0, int64_t i1,
                        int64_t n_units, const uint8_t* tiles, int64_t n, float* y, int64_t ldy,
                        uint8_t* panel, Pack pack, Micro micro) {
  const int64_t n_tiles = (n + s.nr - 1) / s.nr;
  for (int64_t r0 = i0; r0 < i1; r0 += kGemmPanelRows) {
    const int64_t rows_valid = i1 - r0 < kGemmPanelRows ? i1 - r0 : kGemmPanelRows;
    const __mmask16 m0 = gemm_lane_mask(rows_valid), m1 = gemm_lane_mask(rows_valid - 16);
    for (int64_t u0 = 0; u0 < n_units; u0 += s.slice_units) {
      const int64_t units = n_units - u0 < s.slice_units ? n_units - u0 : s.slice_units;
      pack(w + r0 * w_row, w_row, rows_valid, u0, units, panel);
      // The next slice's weights come from memory (each weight is read once per matmul): ask
      // for them into L2 while this slice computes, spread over the tiles.
      int64_t nr0 = r0, nu0 = u0 + s.slice_units;
      if (nu0 >= n_units) {
        nr0 = r0 + kGemmPanelRows;
        nu0 = 0;
      }
      const int64_t next_units = n_units - nu0 < s.slice_units ? n_units - nu0 : s.slice_units;
      const int64_t next_rows = nr0 >= i1 ? 0 : (i1 - nr0 < kGemmPanelRows ? i1 - nr0 : kGemmPanelRows);
      const size_t unit_bytes = w_row / static_cast<size_t>(n_units);
      for (int64_t t = 0; t < n_tiles; ++t) {
        for (int64_t r = t; r < next_rows; r += n_tiles) {
          const char* p = reinterpret_cast<const char*>(w + (nr0 + r) * w_row + nu0 * unit_bytes);
          const size_t bytes = static_cast<size_t>(next_units) * unit_bytes;
          for (size_t off = 0; off < bytes; off += 64) _mm_prefetch(p + off, _MM_HINT_T1);
        }
        const int n_valid = static_cast<int>(n - t * s.nr < s.nr ? n - t * s.nr : s.nr);
        micro(panel, tiles + static_cast<size_t>(t * n_units + u0) * s.tile_unit_bytes, units,
              y + t * s.nr * ldy + r0, ldy, n_valid, m0, m1, u0 > 0);
      }
    }
  }
}

// The same product with the weights in blocks of up to `block_panels` panels (GotoBLAS order):
//   for each block of block_panels x 32 weight rows:
//     for each k slice:
//       pack the slices of all the block's panels (scratch: block_panels x panel_bytes, in L2)
//       for each activation tile: for each panel of the block: micro-kernel
// An activation tile's slice is then read from L3 / memory once per block and reused from L1
// by the block's panels, instead of once per panel: gemm_panels re-reads all n x k activations
// for every 32 weight rows, which at k = 8192 (16 MB of F32 tiles) does not stay in any cache.
// Each weight is still packed once and read from memory once per matmul.
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
      // The next slice's weights (of this block, or the first slice of the next block) come
      // from memory: ask for them into L2 while this slice computes, spread over the tiles.
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
        // The next tile's slice, into L2 while this tile computes: a share before each panel.
        const char* next_tile =
            reinterpret_cast<const char*>(tile + static_cast<size_t>(n_units) * s.tile_unit_bytes);
        const size_t tile_bytes = t + 1 < n_tiles ? static_cast<size_t>(units) * s.tile_unit_bytes : 0;
        const size_t share = (tile_bytes / 64 / static_cast<size_t>(n_panels) + 1) * 64;
        for (int64_t p = 0; p < n_panels; ++p) {
          const size_t off0 = static_cast<size_t>(p) * share;
          const size_t off1 = off0 + share < tile_bytes ? off0 + share : tile_bytes;
          for (size_t off = off0; off < off1; off += 64) _mm_prefetch(next_tile + off, _MM_HINT_T1);
          const int64_t r0 = b0 + p * kGemmPanelRows;
          const int64_t rows_valid = b1 - r0 < kGemmPanelRows ? b1 - r0 : kGemmPanelRows;
          micro(scratch + p * panel_bytes, tile, units, yt + r0, ldy, n_valid,
                gemm_lane_mask(rows_valid), gemm_lane_mask(rows_valid - 16), u0 > 0);
        }
      }
    }
  }
}

}  // namespace
}  // namespace quorum::kernels::avx512
