// AVX2 blocked GEMM for Q8_0 weights x Q8_0 activations (prompt processing), in outer-product
// form like the AVX-512 one (x86_avx512/gemm_q8_0_avx512.cpp): 8 int32 lanes = 8 weight rows,
// two registers per 16-row panel. Without vpdpbusd, four products of a row are summed as ggml's
// AVX2 dot does: vpmaddubsw(|w|, sign(x, w)) -> int16 pairs (at most 2 * 128 * 127: the
// activation quantizer's values are within +-127), vpmaddwd by ones -> int32, exact.
//   - weights: a panel of 16 rows x kKB blocks is repacked once into [block][8 groups][16 rows]
//     dwords of 4 int8 plus the 16 row scales;
//   - activations: tiles of kNR rows, [tile][block]{8 x kNR dwords, kNR scales};
//   - per block: int32 sums are exact; then acc += float(isum) * (d_w * d_x) as ggml's
//     ggml_vec_dot_q8_0_q8_0 (same scale product), so only the float summation order differs.
#include <immintrin.h>

#include <cstring>

#include "kernels/x86_avx2/avx2.h"
#include "kernels/x86_avx2/avx2_util.h"
#include "kernels/x86_avx2/gemm_avx2.h"
#include "tensor/blocks.h"

namespace quorum::kernels::avx2 {
namespace {

constexpr int kMR = kGemmPanelRows;                    // weight rows per panel (2 registers)
constexpr int kNR = static_cast<int>(kGemmQ8_0Cols);  // activation rows per tile
constexpr int64_t kKB = 16;                            // blocks (of 32) per panel slice
constexpr int64_t kBlockPanels = 4;                    // panels per weight block (in L2)

// Panel bytes per block: q [8][kMR] dwords, then d [kMR] floats.
constexpr size_t kPanelBlock = 8 * kMR * 4 + kMR * 4;
// Tile bytes per block: q [8][kNR] dwords, d [kNR] floats.
constexpr size_t kTileBlock = 8 * kNR * 4 + kNR * 4;

void pack_panel(const uint8_t* w, size_t w_row, int64_t rows_valid, int64_t b0, int64_t nbk,
                uint8_t* panel) {
  std::memset(panel, 0, static_cast<size_t>(nbk) * kPanelBlock);
  for (int64_t b = 0; b < nbk; ++b) {
    uint32_t* q = reinterpret_cast<uint32_t*>(panel + b * kPanelBlock);  // [8][kMR]
    float* d = reinterpret_cast<float*>(panel + b * kPanelBlock + 8 * kMR * 4);
    for (int r = 0; r < rows_valid; ++r) {
      const BlockQ8_0& blk = reinterpret_cast<const BlockQ8_0*>(w + r * w_row)[b0 + b];
      d[r] = h2f(blk.d);
      for (int g = 0; g < 8; ++g) std::memcpy(&q[g * kMR + r], blk.qs + 4 * g, 4);
    }
  }
}

// One tile column: acc0/acc1 (rows 0-7 / 8-15) += sum of the 4 products per row.
inline void col_step(__m256i& acc0, __m256i& acc1, __m256i w0, __m256i w1, __m256i aw0,
                     __m256i aw1, int32_t x4) {
  const __m256i ones = _mm256_set1_epi16(1);
  const __m256i xb = _mm256_set1_epi32(x4);
  const __m256i p0 = _mm256_maddubs_epi16(aw0, _mm256_sign_epi8(xb, w0));
  const __m256i p1 = _mm256_maddubs_epi16(aw1, _mm256_sign_epi8(xb, w1));
  acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(p0, ones));
  acc1 = _mm256_add_epi32(acc1, _mm256_madd_epi16(p1, ones));
}

// Y rows c < n_valid, lanes 0..15 (+)= panel slice (nbk blocks) x tile.
static_assert(kNR == 4, "micro_kernel is written out for 4 activation rows");
void micro_kernel(const uint8_t* panel, const uint8_t* tile, int64_t nbk, float* y, int64_t ldy,
                  int n_valid, __m256i m0, __m256i m1, bool add) {
  alignas(32) float accf[kNR][kMR] = {};  // float sums over the blocks
  for (int64_t b = 0; b < nbk; ++b) {
    const uint8_t* pw = panel + b * kPanelBlock;
    const uint8_t* px = tile + b * kTileBlock;
    const int32_t* xq = reinterpret_cast<const int32_t*>(px);  // [8][kNR]
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, b0 = a0, b1 = a0, c0 = a0, c1 = a0, d0 = a0, d1 = a0;
    for (int g = 0; g < 8; ++g) {
      const __m256i w0 = load32(pw + g * kMR * 4), w1 = load32(pw + g * kMR * 4 + 32);
      const __m256i aw0 = _mm256_sign_epi8(w0, w0), aw1 = _mm256_sign_epi8(w1, w1);  // |w|
      const int32_t* x = xq + g * kNR;
      col_step(a0, a1, w0, w1, aw0, aw1, x[0]);
      col_step(b0, b1, w0, w1, aw0, aw1, x[1]);
      col_step(c0, c1, w0, w1, aw0, aw1, x[2]);
      col_step(d0, d1, w0, w1, aw0, aw1, x[3]);
    }
    const __m256i isum[8] = {a0, a1, b0, b1, c0, c1, d0, d1};
    const float* wd = reinterpret_cast<const float*>(pw + 8 * kMR * 4);
    const float* xd = reinterpret_cast<const float*>(px + 8 * kNR * 4);
    const __m256 dw[2] = {_mm256_loadu_ps(wd), _mm256_loadu_ps(wd + 8)};
    for (int c = 0; c < kNR; ++c) {
      const __m256 dx = _mm256_set1_ps(xd[c]);
      for (int v = 0; v < 2; ++v) {
        _mm256_store_ps(accf[c] + 8 * v,
                        _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum[2 * c + v]), _mm256_mul_ps(dw[v], dx),
                                        _mm256_load_ps(accf[c] + 8 * v)));
      }
    }
  }
  gemm_store_tile(accf, y, ldy, n_valid, m0, m1, add);
}

}  // namespace

void gemm_prep_q8_0(const void* act, size_t act_row, int64_t n, int64_t k, void* out) {
  const uint8_t* a = static_cast<const uint8_t*>(act);  // n rows of (k / 32) BlockQ8_0
  uint8_t* o = static_cast<uint8_t*>(out);
  const int64_t nb = k / kQK8_0;
  const int64_t n_tiles = (n + kNR - 1) / kNR;
  std::memset(o, 0, static_cast<size_t>(n_tiles * nb) * kTileBlock);
  for (int64_t t = 0; t < n_tiles; ++t) {
    for (int64_t b = 0; b < nb; ++b) {
      uint8_t* px = o + (t * nb + b) * kTileBlock;
      int32_t* xq = reinterpret_cast<int32_t*>(px);
      float* xd = reinterpret_cast<float*>(px + 8 * kNR * 4);
      for (int c = 0; c < kNR && t * kNR + c < n; ++c) {
        const BlockQ8_0& blk = reinterpret_cast<const BlockQ8_0*>(a + (t * kNR + c) * act_row)[b];
        for (int g = 0; g < 8; ++g) std::memcpy(&xq[g * kNR + c], blk.qs + 4 * g, 4);
        xd[c] = h2f(blk.d);
      }
    }
  }
}

size_t gemm_prep_bytes_q8_0(int64_t n, int64_t k) {
  return static_cast<size_t>((n + kNR - 1) / kNR * (k / kQK8_0)) * kTileBlock;
}

size_t gemm_scratch_bytes_q8_0(int64_t, int64_t) { return kBlockPanels * kKB * kPanelBlock; }

void gemm_run_q8_0(const void* w, size_t w_row, int64_t i0, int64_t i1, int64_t k,
                   const void* prepped, int64_t n, float* y, int64_t ldy, void* scratch) {
  const GemmShape shape{kNR, kKB, kTileBlock};
  gemm_blocks(shape, kBlockPanels, kKB * kPanelBlock, static_cast<const uint8_t*>(w), w_row, i0,
              i1, k / kQK8_0, static_cast<const uint8_t*>(prepped), n, y, ldy,
              static_cast<uint8_t*>(scratch), pack_panel, micro_kernel);
}

}  // namespace quorum::kernels::avx2
