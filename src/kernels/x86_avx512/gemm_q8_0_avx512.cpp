// AVX-512 VNNI blocked GEMM for Q8_0 weights x Q8_0 activations (prompt processing), in outer-
// product form: the 16 int32 lanes of a register are 16 weight rows, each summing 4 consecutive
// products per vpdpbusd, so a 32-element block of 16 rows x 1 activation row takes 8 vpdpbusd
// and one float fold — no horizontal sums.
//   - weights: a panel of 32 rows x kKB blocks is repacked once into [block][8 groups][32 rows]
//     dwords (4 weights each, +128 so they are unsigned for vpdpbusd) plus the 32 row scales;
//   - activations: tiles of kNR rows, [tile][block]{8 x kNR dwords, kNR scales, kNR offsets},
//     where the offset -128 * sum(x) of the block undoes the +128 of the weights exactly;
//   - per block: int32 sums are exact; then acc += float(isum) * (d_w * d_x) as ggml's
//     ggml_vec_dot_q8_0_q8_0 (same scale product), so only the float summation order differs.
#include <immintrin.h>

#include <cstring>

#include "kernels/x86_avx512/avx512.h"
#include "kernels/x86_avx512/gemm_avx512.h"
#include "tensor/blocks.h"

namespace quorum::kernels::avx512 {
namespace {

constexpr int kMR = kGemmPanelRows;  // weight rows per panel (2 registers)
constexpr int kNR = static_cast<int>(kGemmQ8_0Cols);  // activation rows per tile
constexpr int64_t kKB = 16;                           // blocks (of 32) per panel slice

// Panel bytes per block: q [8][kMR] dwords, then d [kMR] floats.
constexpr size_t kPanelBlock = 8 * kMR * 4 + kMR * 4;
// Tile bytes per block: q [8][kNR] dwords, d [kNR] floats, offset [kNR] int32.
constexpr size_t kTileBlock = 8 * kNR * 4 + 2 * kNR * 4;

void pack_panel(const uint8_t* w, size_t w_row, int64_t rows_valid, int64_t b0, int64_t nbk,
                uint8_t* panel) {
  for (int64_t b = 0; b < nbk; ++b) {
    uint32_t* q = reinterpret_cast<uint32_t*>(panel + b * kPanelBlock);  // [8][kMR]
    float* d = reinterpret_cast<float*>(panel + b * kPanelBlock + 8 * kMR * 4);
    for (int r = 0; r < kMR; ++r) {
      if (r >= rows_valid) {
        for (int g = 0; g < 8; ++g) q[g * kMR + r] = 0;
        d[r] = 0.0f;
        continue;
      }
      const BlockQ8_0& blk = reinterpret_cast<const BlockQ8_0*>(w + r * w_row)[b0 + b];
      d[r] = h2f(blk.d);
      for (int g = 0; g < 8; ++g) {
        uint32_t v;
        std::memcpy(&v, blk.qs + 4 * g, 4);
        q[g * kMR + r] = v ^ 0x80808080u;
      }
    }
  }
}

// Y rows c < n_valid, lanes 0..31 (+)= panel slice (nbk blocks) x tile.
void micro_kernel(const uint8_t* panel, const uint8_t* tile, int64_t nbk, float* y, int64_t ldy,
                  int n_valid, __mmask16 m0, __mmask16 m1, bool add) {
  __m512 acc[kNR][2];
  for (int c = 0; c < kNR; ++c) acc[c][0] = acc[c][1] = _mm512_setzero_ps();
  for (int64_t b = 0; b < nbk; ++b) {
    const uint8_t* pw = panel + b * kPanelBlock;
    const uint8_t* px = tile + b * kTileBlock;
    const int32_t* xq = reinterpret_cast<const int32_t*>(px);                // [8][kNR]
    const float* xd = reinterpret_cast<const float*>(px + 8 * kNR * 4);      // [kNR]
    const int32_t* xo = reinterpret_cast<const int32_t*>(px + 9 * kNR * 4);  // [kNR]
    __m512i ia[kNR][2];
    for (int c = 0; c < kNR; ++c) ia[c][0] = ia[c][1] = _mm512_set1_epi32(xo[c]);
    for (int g = 0; g < 8; ++g) {
      const __m512i w0 = _mm512_loadu_si512(pw + g * kMR * 4);
      const __m512i w1 = _mm512_loadu_si512(pw + g * kMR * 4 + 64);
      for (int c = 0; c < kNR; ++c) {
        const __m512i xb = _mm512_set1_epi32(xq[g * kNR + c]);
        ia[c][0] = _mm512_dpbusd_epi32(ia[c][0], w0, xb);
        ia[c][1] = _mm512_dpbusd_epi32(ia[c][1], w1, xb);
      }
    }
    const __m512 d0 = _mm512_loadu_ps(pw + 8 * kMR * 4);
    const __m512 d1 = _mm512_loadu_ps(pw + 8 * kMR * 4 + 64);
    for (int c = 0; c < kNR; ++c) {
      const __m512 dx = _mm512_set1_ps(xd[c]);
      acc[c][0] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(ia[c][0]), _mm512_mul_ps(d0, dx), acc[c][0]);
      acc[c][1] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(ia[c][1]), _mm512_mul_ps(d1, dx), acc[c][1]);
    }
  }
  for (int c = 0; c < n_valid; ++c) gemm_store(acc[c][0], acc[c][1], y + c * ldy, m0, m1, add);
}

}  // namespace

void gemm_prep_q8_0(const void* act, size_t act_row, int64_t n, int64_t k, void* out) {
  const uint8_t* a = static_cast<const uint8_t*>(act);  // n rows of (k / 32) BlockQ8_0
  uint8_t* o = static_cast<uint8_t*>(out);
  const int64_t nb = k / kQK8_0;
  const int64_t n_tiles = (n + kNR - 1) / kNR;
  for (int64_t t = 0; t < n_tiles; ++t) {
    for (int64_t b = 0; b < nb; ++b) {
      uint8_t* px = o + (t * nb + b) * kTileBlock;
      int32_t* xq = reinterpret_cast<int32_t*>(px);
      float* xd = reinterpret_cast<float*>(px + 8 * kNR * 4);
      int32_t* xo = reinterpret_cast<int32_t*>(px + 9 * kNR * 4);
      for (int c = 0; c < kNR; ++c) {
        const int64_t j = t * kNR + c;
        if (j >= n) {
          for (int g = 0; g < 8; ++g) xq[g * kNR + c] = 0;
          xd[c] = 0.0f;
          xo[c] = 0;
          continue;
        }
        const BlockQ8_0& blk = reinterpret_cast<const BlockQ8_0*>(a + j * act_row)[b];
        int sum = 0;
        for (int i = 0; i < kQK8_0; ++i) sum += blk.qs[i];
        for (int g = 0; g < 8; ++g) std::memcpy(&xq[g * kNR + c], blk.qs + 4 * g, 4);
        xd[c] = h2f(blk.d);
        xo[c] = -128 * sum;
      }
    }
  }
}

size_t gemm_prep_bytes_q8_0(int64_t n, int64_t k) {
  return static_cast<size_t>((n + kNR - 1) / kNR * (k / kQK8_0)) * kTileBlock;
}

size_t gemm_scratch_bytes_q8_0(int64_t, int64_t) { return kKB * kPanelBlock; }

void gemm_run_q8_0(const void* w, size_t w_row, int64_t i0, int64_t i1, int64_t k,
                   const void* prepped, int64_t n, float* y, int64_t ldy, void* scratch) {
  const GemmShape shape{kNR, kKB, kTileBlock};
  gemm_panels(shape, static_cast<const uint8_t*>(w), w_row, i0, i1, k / kQK8_0,
              static_cast<const uint8_t*>(prepped), n, y, ldy, static_cast<uint8_t*>(scratch),
              pack_panel, micro_kernel);
}

}  // namespace quorum::kernels::avx512
