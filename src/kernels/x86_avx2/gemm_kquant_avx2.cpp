// AVX2 blocked GEMM for Q4_K, Q5_K and Q6_K weights x Q8_K activations (prompt processing), in
// outer-product form like the AVX-512 one (x86_avx512/gemm_kquant_avx512.cpp): 8 int32 lanes =
// 8 weight rows, two registers per 16-row panel. AVX2 has no vpdpbusd, so four products of a
// row are summed by vpmaddubsw (u8 weights x s8 activations -> int16 pairs; no saturation: a
// pair is at most 2 * 63 * 128) and vpmaddwd with the sub-block scale (-> int32), exact.
//   - weights: a panel of 16 rows x kKB super-blocks is unpacked once to bytes (Q4_K 0..15,
//     Q5_K 0..31, Q6_K 0..63) in [super-block][64 groups of 4][16 rows] dwords, with the scales as int16
//     pairs (s, s) per row and sub-block, the mins (Q4_K) or scales (Q6_K offset) as int16
//     pairs per two sub-blocks, and d (, dmin) as floats;
//   - activations: tiles of kNR rows, [tile][super-block]{64 x kNR dwords of int8, kNR scales,
//     4 x kNR int16 pairs of 32-element sums, 8 x kNR int16 pairs of 16-element sums};
//   - per super-block, as ggml's ggml_vec_dot_q4_K_q8_K: isum = sum_j sc_j (sum q x) and
//     summins = sum_j m_j bsum_j exactly in int32, then acc += (d_w d_x) isum -
//     (dmin_w d_x) summins in float; Q6_K: isum = sum_g sc_g (sum q x) - 32 sum_g sc_g bsum_g,
//     acc += (d_w d_x) isum.
#include <immintrin.h>

#include <cstring>
#include <type_traits>

#include "kernels/x86_avx2/avx2.h"
#include "kernels/x86_avx2/avx2_util.h"
#include "kernels/x86_avx2/gemm_avx2.h"
#include "tensor/blocks.h"

namespace quorum::kernels::avx2 {
namespace {

constexpr int kMR = kGemmPanelRows;                    // weight rows per panel (2 registers)
constexpr int kNR = static_cast<int>(kGemmQ8_KCols);  // activation rows per tile
constexpr int64_t kKB = 2;                             // super-blocks per panel slice
constexpr int64_t kBlockPanels = 4;                    // panels per weight block (in L2)

// Q4_K / Q5_K panel bytes per super-block.
constexpr size_t kPQ = 0;                     // q   [64 groups][kMR] u32, bytes 0..15 / 0..31
constexpr size_t kPSc = kPQ + 64 * kMR * 4;   // sc  [8][kMR] int16 pairs (s, s)
constexpr size_t kPMin = kPSc + 8 * kMR * 4;  // min [4][kMR] int16 pairs
constexpr size_t kPD = kPMin + 4 * kMR * 4;   // d   [kMR] float
constexpr size_t kPDmin = kPD + kMR * 4;      // dmin [kMR] float
constexpr size_t kPanelBlock = kPDmin + kMR * 4;
// Q6_K panel bytes per super-block.
constexpr size_t kP6Q = 0;                       // q  [64 groups][kMR] u32, bytes 0..63
constexpr size_t kP6Sc = kP6Q + 64 * kMR * 4;    // sc [16][kMR] int16 pairs (s, s)
constexpr size_t kP6ScP = kP6Sc + 16 * kMR * 4;  // sc [8][kMR] int16 pairs (offset term)
constexpr size_t kP6D = kP6ScP + 8 * kMR * 4;    // d  [kMR] float
constexpr size_t kP6Block = kP6D + kMR * 4;
// Tile bytes per super-block.
constexpr size_t kTQ = 0;                      // q [64 groups][kNR] int8 x 4
constexpr size_t kTD = kTQ + 64 * kNR * 4;     // d [kNR] float
constexpr size_t kTBs = kTD + kNR * 4;         // 32-element sums [4][kNR] int16 pairs
constexpr size_t kTBs16 = kTBs + 4 * kNR * 4;  // 16-element sums [8][kNR] int16 pairs
constexpr size_t kTileBlock = kTBs16 + 8 * kNR * 4;

inline uint32_t pair16(int a, int b) {
  return static_cast<uint32_t>(static_cast<uint16_t>(a)) |
         (static_cast<uint32_t>(static_cast<uint16_t>(b)) << 16);
}

// Q4_K and Q5_K share the scale / min layout; Q5_K adds bit s of qh[l] as bit 4 of element l of
// sub-block s (bytes 0..31; a vpmaddubsw pair stays below 2 * 31 * 128).
template <typename Block>
void pack_k45(const uint8_t* w, size_t w_row, int64_t rows_valid, int64_t b0, int64_t nbk,
              uint8_t* panel) {
  std::memset(panel, 0, static_cast<size_t>(nbk) * kPanelBlock);
  for (int64_t b = 0; b < nbk; ++b) {
    uint8_t* p = panel + b * kPanelBlock;
    uint32_t* q = reinterpret_cast<uint32_t*>(p + kPQ);
    uint32_t* sc = reinterpret_cast<uint32_t*>(p + kPSc);
    uint32_t* mp = reinterpret_cast<uint32_t*>(p + kPMin);
    float* d = reinterpret_cast<float*>(p + kPD);
    float* dmin = reinterpret_cast<float*>(p + kPDmin);
    for (int r = 0; r < rows_valid; ++r) {
      const Block& blk = reinterpret_cast<const Block*>(w + r * w_row)[b0 + b];
      // The 8 six-bit scales and mins from the 12 packed bytes.
      const uint8_t* s = blk.scales;
      uint8_t s8[8], m8[8];
      for (int j = 0; j < 4; ++j) {
        s8[j] = s[j] & 63;
        m8[j] = s[j + 4] & 63;
        s8[j + 4] = static_cast<uint8_t>((s[j + 8] & 0xF) | ((s[j] >> 6) << 4));
        m8[j + 4] = static_cast<uint8_t>((s[j + 8] >> 4) | ((s[j + 4] >> 6) << 4));
      }
      for (int j = 0; j < 8; ++j) sc[j * kMR + r] = pair16(s8[j], s8[j]);
      for (int j = 0; j < 4; ++j) mp[j * kMR + r] = pair16(m8[2 * j], m8[2 * j + 1]);
      d[r] = h2f(blk.d);
      dmin[r] = h2f(blk.dmin);
      // Sub-block j: low nibbles (j even) or high nibbles (j odd) of bytes 32 (j / 2) ...
      for (int j = 0; j < 8; ++j) {
        const uint8_t* src = blk.qs + 32 * (j / 2);
        const int shift = 4 * (j % 2);
        for (int g = 0; g < 8; ++g) {
          uint32_t v;
          std::memcpy(&v, src + 4 * g, 4);
          v = (v >> shift) & 0x0F0F0F0Fu;
          if constexpr (std::is_same_v<Block, BlockQ5_K>) {
            uint32_t h;
            std::memcpy(&h, blk.qh + 4 * g, 4);
            v |= ((h >> j) & 0x01010101u) << 4;
          }
          q[(j * 8 + g) * kMR + r] = v;
        }
      }
    }
  }
}

void pack_q6_K(const uint8_t* w, size_t w_row, int64_t rows_valid, int64_t b0, int64_t nbk,
               uint8_t* panel) {
  std::memset(panel, 0, static_cast<size_t>(nbk) * kP6Block);
  for (int64_t b = 0; b < nbk; ++b) {
    uint8_t* p = panel + b * kP6Block;
    uint32_t* q = reinterpret_cast<uint32_t*>(p + kP6Q);
    uint32_t* sc = reinterpret_cast<uint32_t*>(p + kP6Sc);
    uint32_t* sp = reinterpret_cast<uint32_t*>(p + kP6ScP);
    float* d = reinterpret_cast<float*>(p + kP6D);
    for (int r = 0; r < rows_valid; ++r) {
      const BlockQ6_K& blk = reinterpret_cast<const BlockQ6_K*>(w + r * w_row)[b0 + b];
      for (int j = 0; j < 16; ++j) sc[j * kMR + r] = pair16(blk.scales[j], blk.scales[j]);
      for (int j = 0; j < 8; ++j) sp[j * kMR + r] = pair16(blk.scales[2 * j], blk.scales[2 * j + 1]);
      d[r] = h2f(blk.d);
      // Element e = 128 h + 32 quarter + l: low 4 bits from ql[64 h + 32 (quarter % 2) + l]
      // (low nibble for quarters 0, 1, high for 2, 3), high 2 bits from qh[32 h + l] >> 2 quarter.
      for (int g = 0; g < 64; ++g) {
        const int e = 4 * g, h = e / 128, quarter = (e % 128) / 32, l = e % 32;
        uint32_t lo, hi;
        std::memcpy(&lo, blk.ql + 64 * h + 32 * (quarter % 2) + l, 4);
        std::memcpy(&hi, blk.qh + 32 * h + l, 4);
        const uint32_t nib = (quarter < 2 ? lo : lo >> 4) & 0x0F0F0F0Fu;
        q[g * kMR + r] = nib | (((hi >> (2 * quarter)) & 0x03030303u) << 4);
      }
    }
  }
}

// One tile column: acc0/acc1 (rows 0-7 / 8-15) += scale * (sum of the 4 products per row).
inline void col_step(__m256i& acc0, __m256i& acc1, __m256i w0, __m256i w1, __m256i s0, __m256i s1,
                     int32_t x4) {
  const __m256i xb = _mm256_set1_epi32(x4);
  acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(_mm256_maddubs_epi16(w0, xb), s0));
  acc1 = _mm256_add_epi32(acc1, _mm256_madd_epi16(_mm256_maddubs_epi16(w1, xb), s1));
}

// isum[2c + v] = sum over the super-block's 64 groups of sc(group) * (sum q x), exact in int32.
// q: [64][kMR] u32, sc: [64 / kGroups][kMR] (s, s) pairs, one per kGroups groups.
static_assert(kNR == 4, "scaled_sums is written out for 4 activation rows");
template <int kGroups>
inline void scaled_sums(const uint8_t* q, const uint8_t* sc, const int32_t* xq, __m256i isum[8]) {
  __m256i a0 = _mm256_setzero_si256(), a1 = a0, b0 = a0, b1 = a0, c0 = a0, c1 = a0, d0 = a0, d1 = a0;
  for (int j = 0; j < 64 / kGroups; ++j) {
    const __m256i s0 = load32(sc + j * kMR * 4), s1 = load32(sc + j * kMR * 4 + 32);
    for (int g = j * kGroups; g < (j + 1) * kGroups; ++g) {
      const __m256i w0 = load32(q + g * kMR * 4), w1 = load32(q + g * kMR * 4 + 32);
      const int32_t* x = xq + g * kNR;
      col_step(a0, a1, w0, w1, s0, s1, x[0]);
      col_step(b0, b1, w0, w1, s0, s1, x[1]);
      col_step(c0, c1, w0, w1, s0, s1, x[2]);
      col_step(d0, d1, w0, w1, s0, s1, x[3]);
    }
  }
  isum[0] = a0, isum[1] = a1, isum[2] = b0, isum[3] = b1;
  isum[4] = c0, isum[5] = c1, isum[6] = d0, isum[7] = d1;
}

// acc[2c + v] = sum_p madd(pairs[p] (per row), tile pairs[p][c]) over kPairs int16 pairs.
template <int kPairs>
inline void pair_sums(const uint8_t* pairs, const int32_t* xpairs, __m256i acc[8]) {
  for (int i = 0; i < 8; ++i) acc[i] = _mm256_setzero_si256();
  for (int p = 0; p < kPairs; ++p) {
    const __m256i p0 = load32(pairs + p * kMR * 4), p1 = load32(pairs + p * kMR * 4 + 32);
    for (int c = 0; c < kNR; ++c) {
      const __m256i bs = _mm256_set1_epi32(xpairs[p * kNR + c]);
      acc[2 * c] = _mm256_add_epi32(acc[2 * c], _mm256_madd_epi16(p0, bs));
      acc[2 * c + 1] = _mm256_add_epi32(acc[2 * c + 1], _mm256_madd_epi16(p1, bs));
    }
  }
}

void micro_q4_K(const uint8_t* panel, const uint8_t* tile, int64_t nbk, float* y, int64_t ldy,
                int n_valid, __m256i m0, __m256i m1, bool add) {
  alignas(32) float accf[kNR][kMR] = {};  // float sums over the super-blocks
  for (int64_t b = 0; b < nbk; ++b) {
    const uint8_t* pw = panel + b * kPanelBlock;
    const uint8_t* px = tile + b * kTileBlock;
    __m256i isum[8], mins[8];
    scaled_sums<8>(pw + kPQ, pw + kPSc, reinterpret_cast<const int32_t*>(px + kTQ), isum);
    pair_sums<4>(pw + kPMin, reinterpret_cast<const int32_t*>(px + kTBs), mins);
    const float* xd = reinterpret_cast<const float*>(px + kTD);
    const __m256 d[2] = {_mm256_loadu_ps(reinterpret_cast<const float*>(pw + kPD)),
                         _mm256_loadu_ps(reinterpret_cast<const float*>(pw + kPD) + 8)};
    const __m256 dm[2] = {_mm256_loadu_ps(reinterpret_cast<const float*>(pw + kPDmin)),
                          _mm256_loadu_ps(reinterpret_cast<const float*>(pw + kPDmin) + 8)};
    for (int c = 0; c < kNR; ++c) {
      const __m256 dx = _mm256_set1_ps(xd[c]);
      for (int v = 0; v < 2; ++v) {
        __m256 a = _mm256_load_ps(accf[c] + 8 * v);
        a = _mm256_fmadd_ps(_mm256_mul_ps(d[v], dx), _mm256_cvtepi32_ps(isum[2 * c + v]), a);
        a = _mm256_fnmadd_ps(_mm256_mul_ps(dm[v], dx), _mm256_cvtepi32_ps(mins[2 * c + v]), a);
        _mm256_store_ps(accf[c] + 8 * v, a);
      }
    }
  }
  gemm_store_tile(accf, y, ldy, n_valid, m0, m1, add);
}

void micro_q6_K(const uint8_t* panel, const uint8_t* tile, int64_t nbk, float* y, int64_t ldy,
                int n_valid, __m256i m0, __m256i m1, bool add) {
  alignas(32) float accf[kNR][kMR] = {};
  for (int64_t b = 0; b < nbk; ++b) {
    const uint8_t* pw = panel + b * kP6Block;
    const uint8_t* px = tile + b * kTileBlock;
    // The -32 of every value: isum -= 32 sum_g sc_g bsum_g.
    __m256i isum[8], off[8];
    scaled_sums<4>(pw + kP6Q, pw + kP6Sc, reinterpret_cast<const int32_t*>(px + kTQ), isum);
    pair_sums<8>(pw + kP6ScP, reinterpret_cast<const int32_t*>(px + kTBs16), off);
    const float* xd = reinterpret_cast<const float*>(px + kTD);
    const __m256 d[2] = {_mm256_loadu_ps(reinterpret_cast<const float*>(pw + kP6D)),
                         _mm256_loadu_ps(reinterpret_cast<const float*>(pw + kP6D) + 8)};
    for (int c = 0; c < kNR; ++c) {
      const __m256 dx = _mm256_set1_ps(xd[c]);
      for (int v = 0; v < 2; ++v) {
        const __m256i i = _mm256_sub_epi32(isum[2 * c + v], _mm256_slli_epi32(off[2 * c + v], 5));
        _mm256_store_ps(accf[c] + 8 * v, _mm256_fmadd_ps(_mm256_mul_ps(d[v], dx), _mm256_cvtepi32_ps(i),
                                                         _mm256_load_ps(accf[c] + 8 * v)));
      }
    }
  }
  gemm_store_tile(accf, y, ldy, n_valid, m0, m1, add);
}

}  // namespace

void gemm_prep_q8_K(const void* act, size_t act_row, int64_t n, int64_t k, void* out) {
  const uint8_t* a = static_cast<const uint8_t*>(act);  // n rows of (k / 256) BlockQ8_K
  uint8_t* o = static_cast<uint8_t*>(out);
  const int64_t nb = k / kQK_K;
  const int64_t n_tiles = (n + kNR - 1) / kNR;
  std::memset(o, 0, static_cast<size_t>(n_tiles * nb) * kTileBlock);
  for (int64_t t = 0; t < n_tiles; ++t) {
    for (int64_t b = 0; b < nb; ++b) {
      uint8_t* px = o + (t * nb + b) * kTileBlock;
      int32_t* xq = reinterpret_cast<int32_t*>(px + kTQ);
      float* xd = reinterpret_cast<float*>(px + kTD);
      uint32_t* xbs = reinterpret_cast<uint32_t*>(px + kTBs);
      uint32_t* xbs16 = reinterpret_cast<uint32_t*>(px + kTBs16);
      for (int c = 0; c < kNR && t * kNR + c < n; ++c) {
        const BlockQ8_K& blk = reinterpret_cast<const BlockQ8_K*>(a + (t * kNR + c) * act_row)[b];
        for (int g = 0; g < 64; ++g) std::memcpy(&xq[g * kNR + c], blk.qs + 4 * g, 4);
        xd[c] = blk.d;
        for (int p = 0; p < 4; ++p) {
          const int s0 = blk.bsums[4 * p] + blk.bsums[4 * p + 1];
          const int s1 = blk.bsums[4 * p + 2] + blk.bsums[4 * p + 3];
          xbs[p * kNR + c] = pair16(s0, s1);
        }
        for (int p = 0; p < 8; ++p) xbs16[p * kNR + c] = pair16(blk.bsums[2 * p], blk.bsums[2 * p + 1]);
      }
    }
  }
}

size_t gemm_prep_bytes_q8_K(int64_t n, int64_t k) {
  return static_cast<size_t>((n + kNR - 1) / kNR * (k / kQK_K)) * kTileBlock;
}

size_t gemm_scratch_bytes_q4_K(int64_t, int64_t) { return kBlockPanels * kKB * kPanelBlock; }
size_t gemm_scratch_bytes_q6_K(int64_t, int64_t) { return kBlockPanels * kKB * kP6Block; }

namespace {
template <typename Pack, typename Micro>
void run_k(size_t panel_block, Pack pack, Micro micro, const void* w, size_t w_row, int64_t i0,
           int64_t i1, int64_t k, const void* prepped, int64_t n, float* y, int64_t ldy,
           void* scratch) {
  const GemmShape shape{kNR, kKB, kTileBlock};
  gemm_blocks(shape, kBlockPanels, kKB * panel_block, static_cast<const uint8_t*>(w), w_row, i0,
              i1, k / kQK_K, static_cast<const uint8_t*>(prepped), n, y, ldy,
              static_cast<uint8_t*>(scratch), pack, micro);
}
}  // namespace

void gemm_run_q4_K(const void* w, size_t w_row, int64_t i0, int64_t i1, int64_t k,
                   const void* prepped, int64_t n, float* y, int64_t ldy, void* scratch) {
  run_k(kPanelBlock, pack_k45<BlockQ4_K>, micro_q4_K, w, w_row, i0, i1, k, prepped, n, y, ldy, scratch);
}
// Q5_K: the Q4_K micro-kernel on 5-bit bytes (isum = sum_j sc_j (sum q x), the same mins term).
void gemm_run_q5_K(const void* w, size_t w_row, int64_t i0, int64_t i1, int64_t k,
                   const void* prepped, int64_t n, float* y, int64_t ldy, void* scratch) {
  run_k(kPanelBlock, pack_k45<BlockQ5_K>, micro_q4_K, w, w_row, i0, i1, k, prepped, n, y, ldy, scratch);
}
void gemm_run_q6_K(const void* w, size_t w_row, int64_t i0, int64_t i1, int64_t k,
                   const void* prepped, int64_t n, float* y, int64_t ldy, void* scratch) {
  run_k(kP6Block, pack_q6_K, micro_q6_K, w, w_row, i0, i1, k, prepped, n, y, ldy, scratch);
}

}  // namespace quorum::kernels::avx2
