// AVX-512 VNNI blocked GEMM for Q4_K and Q6_K weights x Q8_K activations (prompt processing),
// in outer-product form like gemm_q8_0_avx512.cpp: 16 int32 lanes = 16 weight rows.
//   - weights: a panel of 32 rows x kKB super-blocks is unpacked once to bytes 0..15 in
//     [super-block][sub-block][8 groups][32 rows] dwords (vpdpbusd's unsigned operand, so no sign
//     trick), with the 6-bit sub-block scales as int32 [8][32], the mins as int16 pairs
//     [4][32] and d, dmin as floats;
//   - activations: tiles of kNR rows, [tile][super-block]{64 x kNR dwords of int8, kNR scales,
//     4 x kNR int16 pairs of 32-element sums (bsums[2j] + bsums[2j + 1]) for Q4_K's mins,
//     8 x kNR int16 pairs of the 16-element sums for Q6_K's -32 offset};
//   - per super-block, as ggml's ggml_vec_dot_q4_K_q8_K: isum = sum_j sc_j * (sum q x) and
//     summins = sum_j m_j * bsum_j exactly in int32 (vpdpbusd, vpmulld, vpdpwssd), then
//     acc += (d_w d_x) isum - (dmin_w d_x) summins in float;
//   - Q6_K likewise: 6-bit values 0..63 unpacked once, isum = sum_g sc_g (sum q x) -
//     32 sum_g sc_g bsum_g in int32 (16 signed 8-bit scales), acc += (d_w d_x) isum.
#include <immintrin.h>

#include <cstring>

#include "kernels/x86_avx512/avx512.h"
#include "kernels/x86_avx512/gemm_avx512.h"
#include "tensor/blocks.h"

namespace quorum::kernels::avx512 {
namespace {

constexpr int kMR = kGemmPanelRows;  // weight rows per panel (2 registers)
constexpr int kNR = static_cast<int>(kGemmQ8_KCols);  // activation rows per tile
constexpr int64_t kKB = 2;                            // super-blocks per panel slice

// Q4_K panel bytes per super-block.
constexpr size_t kPQ = 0;                        // q   [8 sub][8 groups][kMR] u32
constexpr size_t kPSc = kPQ + 64 * kMR * 4;      // sc  [8][kMR] int32
constexpr size_t kPMin = kPSc + 8 * kMR * 4;     // min [4][kMR] int16 pairs
constexpr size_t kPD = kPMin + 4 * kMR * 4;      // d   [kMR] float
constexpr size_t kPDmin = kPD + kMR * 4;         // dmin [kMR] float
constexpr size_t kPanelBlock = kPDmin + kMR * 4;
// Tile bytes per super-block.
constexpr size_t kTQ = 0;                        // q [64 groups][kNR] int8 x 4
constexpr size_t kTD = kTQ + 64 * kNR * 4;       // d [kNR] float
constexpr size_t kTBs = kTD + kNR * 4;           // 32-element sums [4][kNR] int16 pairs
constexpr size_t kTBs16 = kTBs + 4 * kNR * 4;    // 16-element sums [8][kNR] int16 pairs
constexpr size_t kTileBlock = kTBs16 + 8 * kNR * 4;

// The 8 six-bit scales and mins of a Q4_K super-block from its 12 packed bytes.
inline void k4_scales(const uint8_t* s, uint8_t* sc, uint8_t* mn) {
  for (int j = 0; j < 4; ++j) {
    sc[j] = s[j] & 63;
    mn[j] = s[j + 4] & 63;
    sc[j + 4] = static_cast<uint8_t>((s[j + 8] & 0xF) | ((s[j] >> 6) << 4));
    mn[j + 4] = static_cast<uint8_t>((s[j + 8] >> 4) | ((s[j + 4] >> 6) << 4));
  }
}

inline uint32_t pair16(int a, int b) {
  return static_cast<uint32_t>(static_cast<uint16_t>(a)) |
         (static_cast<uint32_t>(static_cast<uint16_t>(b)) << 16);
}

void pack_q4_K(const uint8_t* w, size_t w_row, int64_t rows_valid, int64_t b0, int64_t nbk,
                uint8_t* panel) {
  for (int64_t b = 0; b < nbk; ++b) {
    uint8_t* p = panel + b * kPanelBlock;
    uint32_t* q = reinterpret_cast<uint32_t*>(p + kPQ);
    int32_t* sc = reinterpret_cast<int32_t*>(p + kPSc);
    uint32_t* mp = reinterpret_cast<uint32_t*>(p + kPMin);
    float* d = reinterpret_cast<float*>(p + kPD);
    float* dmin = reinterpret_cast<float*>(p + kPDmin);
    for (int r = 0; r < kMR; ++r) {
      if (r >= rows_valid) {
        for (int g = 0; g < 64; ++g) q[g * kMR + r] = 0;
        for (int j = 0; j < 8; ++j) sc[j * kMR + r] = 0;
        for (int j = 0; j < 4; ++j) mp[j * kMR + r] = 0;
        d[r] = dmin[r] = 0.0f;
        continue;
      }
      const BlockQ4_K& blk = reinterpret_cast<const BlockQ4_K*>(w + r * w_row)[b0 + b];
      uint8_t s8[8], m8[8];
      k4_scales(blk.scales, s8, m8);
      for (int j = 0; j < 8; ++j) sc[j * kMR + r] = s8[j];
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
          q[(j * 8 + g) * kMR + r] = (v >> shift) & 0x0F0F0F0Fu;
        }
      }
    }
  }
}

// isum[c][v] = sum_j sc_j * (sum of q x over the n_groups dwords of sub-block j), exact in
// int32: per sub-block n_groups vpdpbusd into a zeroed sum, then one vpmulld by the scales.
// q: [n_sub * n_groups][kMR] u32, sc: [n_sub][kMR] int32, xq: [n_sub * n_groups][kNR] int32.
template <int kSub, int kGroups>
inline void scaled_sums(const uint8_t* q, const uint8_t* sc, const int32_t* xq,
                        __m512i isum[kNR][2]) {
  for (int c = 0; c < kNR; ++c) isum[c][0] = isum[c][1] = _mm512_setzero_si512();
  for (int j = 0; j < kSub; ++j) {
    __m512i s[kNR][2];
    for (int c = 0; c < kNR; ++c) s[c][0] = s[c][1] = _mm512_setzero_si512();
    for (int g = 0; g < kGroups; ++g) {
      const uint8_t* wq = q + (j * kGroups + g) * kMR * 4;
      const __m512i w0 = _mm512_loadu_si512(wq);
      const __m512i w1 = _mm512_loadu_si512(wq + 64);
      for (int c = 0; c < kNR; ++c) {
        const __m512i xb = _mm512_set1_epi32(xq[(j * kGroups + g) * kNR + c]);
        s[c][0] = _mm512_dpbusd_epi32(s[c][0], w0, xb);
        s[c][1] = _mm512_dpbusd_epi32(s[c][1], w1, xb);
      }
    }
    const __m512i sc0 = _mm512_loadu_si512(sc + j * kMR * 4);
    const __m512i sc1 = _mm512_loadu_si512(sc + j * kMR * 4 + 64);
    for (int c = 0; c < kNR; ++c) {
      isum[c][0] = _mm512_add_epi32(isum[c][0], _mm512_mullo_epi32(s[c][0], sc0));
      isum[c][1] = _mm512_add_epi32(isum[c][1], _mm512_mullo_epi32(s[c][1], sc1));
    }
  }
}

// acc[c][v] = sum_p dpwssd(pairs[p] (per row), tile pairs[p][c]) over n_pairs int16 pairs.
template <int kPairs>
inline void pair_sums(const uint8_t* pairs, const int32_t* xpairs, __m512i acc[kNR][2]) {
  for (int c = 0; c < kNR; ++c) acc[c][0] = acc[c][1] = _mm512_setzero_si512();
  for (int p = 0; p < kPairs; ++p) {
    const __m512i p0 = _mm512_loadu_si512(pairs + p * kMR * 4);
    const __m512i p1 = _mm512_loadu_si512(pairs + p * kMR * 4 + 64);
    for (int c = 0; c < kNR; ++c) {
      const __m512i bs = _mm512_set1_epi32(xpairs[p * kNR + c]);
      acc[c][0] = _mm512_dpwssd_epi32(acc[c][0], p0, bs);
      acc[c][1] = _mm512_dpwssd_epi32(acc[c][1], p1, bs);
    }
  }
}

// Y rows c < n_valid, lanes 0..31 (+)= panel slice (nbk super-blocks) x tile.
void micro_q4_K(const uint8_t* panel, const uint8_t* tile, int64_t nbk, float* y, int64_t ldy,
                  int n_valid, __mmask16 m0, __mmask16 m1, bool add) {
  alignas(64) float accf[kNR][kMR];  // float sums over the super-blocks
  for (int c = 0; c < kNR; ++c) {
    for (int r = 0; r < kMR; ++r) accf[c][r] = 0.0f;
  }
  for (int64_t b = 0; b < nbk; ++b) {
    const uint8_t* pw = panel + b * kPanelBlock;
    const uint8_t* px = tile + b * kTileBlock;
    const int32_t* xq = reinterpret_cast<const int32_t*>(px + kTQ);
    __m512i isum[kNR][2], mins[kNR][2];
    scaled_sums<8, 8>(pw + kPQ, pw + kPSc, xq, isum);
    pair_sums<4>(pw + kPMin, reinterpret_cast<const int32_t*>(px + kTBs), mins);
    const float* xd = reinterpret_cast<const float*>(px + kTD);
    const __m512 d0 = _mm512_loadu_ps(pw + kPD), d1 = _mm512_loadu_ps(pw + kPD + 64);
    const __m512 dm0 = _mm512_loadu_ps(pw + kPDmin), dm1 = _mm512_loadu_ps(pw + kPDmin + 64);
    for (int c = 0; c < kNR; ++c) {
      const __m512 dx = _mm512_set1_ps(xd[c]);
      __m512 a0 = _mm512_load_ps(accf[c]), a1 = _mm512_load_ps(accf[c] + 16);
      a0 = _mm512_fmadd_ps(_mm512_mul_ps(d0, dx), _mm512_cvtepi32_ps(isum[c][0]), a0);
      a1 = _mm512_fmadd_ps(_mm512_mul_ps(d1, dx), _mm512_cvtepi32_ps(isum[c][1]), a1);
      a0 = _mm512_fnmadd_ps(_mm512_mul_ps(dm0, dx), _mm512_cvtepi32_ps(mins[c][0]), a0);
      a1 = _mm512_fnmadd_ps(_mm512_mul_ps(dm1, dx), _mm512_cvtepi32_ps(mins[c][1]), a1);
      _mm512_store_ps(accf[c], a0);
      _mm512_store_ps(accf[c] + 16, a1);
    }
  }
  for (int c = 0; c < n_valid; ++c) {
    gemm_store(_mm512_load_ps(accf[c]), _mm512_load_ps(accf[c] + 16), y + c * ldy, m0, m1, add);
  }
}

// Q6_K panel bytes per super-block.
constexpr size_t kP6Q = 0;                       // q  [16 groups of 16][4][kMR] u32, 0..63
constexpr size_t kP6Sc = kP6Q + 64 * kMR * 4;    // sc [16][kMR] int32
constexpr size_t kP6ScP = kP6Sc + 16 * kMR * 4;  // sc [8][kMR] int16 pairs (offset term)
constexpr size_t kP6D = kP6ScP + 8 * kMR * 4;    // d  [kMR] float
constexpr size_t kP6Block = kP6D + kMR * 4;

void pack_q6_K(const uint8_t* w, size_t w_row, int64_t rows_valid, int64_t b0, int64_t nbk,
               uint8_t* panel) {
  for (int64_t b = 0; b < nbk; ++b) {
    uint8_t* p = panel + b * kP6Block;
    uint32_t* q = reinterpret_cast<uint32_t*>(p + kP6Q);
    int32_t* sc = reinterpret_cast<int32_t*>(p + kP6Sc);
    uint32_t* sp = reinterpret_cast<uint32_t*>(p + kP6ScP);
    float* d = reinterpret_cast<float*>(p + kP6D);
    for (int r = 0; r < kMR; ++r) {
      if (r >= rows_valid) {
        for (int g = 0; g < 64; ++g) q[g * kMR + r] = 0;
        for (int j = 0; j < 16; ++j) sc[j * kMR + r] = 0;
        for (int j = 0; j < 8; ++j) sp[j * kMR + r] = 0;
        d[r] = 0.0f;
        continue;
      }
      const BlockQ6_K& blk = reinterpret_cast<const BlockQ6_K*>(w + r * w_row)[b0 + b];
      for (int j = 0; j < 16; ++j) sc[j * kMR + r] = blk.scales[j];
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

void micro_q6_K(const uint8_t* panel, const uint8_t* tile, int64_t nbk, float* y, int64_t ldy,
                int n_valid, __mmask16 m0, __mmask16 m1, bool add) {
  alignas(64) float accf[kNR][kMR];  // float sums over the super-blocks
  for (int c = 0; c < kNR; ++c) {
    for (int r = 0; r < kMR; ++r) accf[c][r] = 0.0f;
  }
  for (int64_t b = 0; b < nbk; ++b) {
    const uint8_t* pw = panel + b * kP6Block;
    const uint8_t* px = tile + b * kTileBlock;
    const int32_t* xq = reinterpret_cast<const int32_t*>(px + kTQ);
    // The -32 of every value: isum -= 32 sum_g sc_g bsum_g.
    __m512i isum[kNR][2], off[kNR][2];
    scaled_sums<16, 4>(pw + kP6Q, pw + kP6Sc, xq, isum);
    pair_sums<8>(pw + kP6ScP, reinterpret_cast<const int32_t*>(px + kTBs16), off);
    const float* xd = reinterpret_cast<const float*>(px + kTD);
    const __m512 d0 = _mm512_loadu_ps(pw + kP6D), d1 = _mm512_loadu_ps(pw + kP6D + 64);
    for (int c = 0; c < kNR; ++c) {
      const __m512 dx = _mm512_set1_ps(xd[c]);
      const __m512i i0 = _mm512_sub_epi32(isum[c][0], _mm512_slli_epi32(off[c][0], 5));
      const __m512i i1 = _mm512_sub_epi32(isum[c][1], _mm512_slli_epi32(off[c][1], 5));
      const __m512 a0 = _mm512_fmadd_ps(_mm512_mul_ps(d0, dx), _mm512_cvtepi32_ps(i0),
                                        _mm512_load_ps(accf[c]));
      const __m512 a1 = _mm512_fmadd_ps(_mm512_mul_ps(d1, dx), _mm512_cvtepi32_ps(i1),
                                        _mm512_load_ps(accf[c] + 16));
      _mm512_store_ps(accf[c], a0);
      _mm512_store_ps(accf[c] + 16, a1);
    }
  }
  for (int c = 0; c < n_valid; ++c) {
    gemm_store(_mm512_load_ps(accf[c]), _mm512_load_ps(accf[c] + 16), y + c * ldy, m0, m1, add);
  }
}

}  // namespace

void gemm_prep_q8_K(const void* act, size_t act_row, int64_t n, int64_t k, void* out) {
  const uint8_t* a = static_cast<const uint8_t*>(act);  // n rows of (k / 256) BlockQ8_K
  uint8_t* o = static_cast<uint8_t*>(out);
  const int64_t nb = k / kQK_K;
  const int64_t n_tiles = (n + kNR - 1) / kNR;
  for (int64_t t = 0; t < n_tiles; ++t) {
    for (int64_t b = 0; b < nb; ++b) {
      uint8_t* px = o + (t * nb + b) * kTileBlock;
      int32_t* xq = reinterpret_cast<int32_t*>(px + kTQ);
      float* xd = reinterpret_cast<float*>(px + kTD);
      uint32_t* xbs = reinterpret_cast<uint32_t*>(px + kTBs);
      uint32_t* xbs16 = reinterpret_cast<uint32_t*>(px + kTBs16);
      for (int c = 0; c < kNR; ++c) {
        const int64_t j = t * kNR + c;
        if (j >= n) {
          for (int g = 0; g < 64; ++g) xq[g * kNR + c] = 0;
          for (int p = 0; p < 4; ++p) xbs[p * kNR + c] = 0;
          for (int p = 0; p < 8; ++p) xbs16[p * kNR + c] = 0;
          xd[c] = 0.0f;
          continue;
        }
        const BlockQ8_K& blk = reinterpret_cast<const BlockQ8_K*>(a + j * act_row)[b];
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

size_t gemm_scratch_bytes_q4_K(int64_t, int64_t) { return kKB * kPanelBlock; }

void gemm_run_q4_K(const void* w, size_t w_row, int64_t i0, int64_t i1, int64_t k,
                   const void* prepped, int64_t n, float* y, int64_t ldy, void* scratch) {
  const GemmShape shape{kNR, kKB, kTileBlock};
  gemm_panels(shape, static_cast<const uint8_t*>(w), w_row, i0, i1, k / kQK_K,
              static_cast<const uint8_t*>(prepped), n, y, ldy, static_cast<uint8_t*>(scratch),
              pack_q4_K, micro_q4_K);
}

size_t gemm_scratch_bytes_q6_K(int64_t, int64_t) { return kKB * kP6Block; }

void gemm_run_q6_K(const void* w, size_t w_row, int64_t i0, int64_t i1, int64_t k,
                   const void* prepped, int64_t n, float* y, int64_t ldy, void* scratch) {
  const GemmShape shape{kNR, kKB, kTileBlock};
  gemm_panels(shape, static_cast<const uint8_t*>(w), w_row, i0, i1, k / kQK_K,
              static_cast<const uint8_t*>(prepped), n, y, ldy, static_cast<uint8_t*>(scratch),
              pack_q6_K, micro_q6_K);
}

}  // namespace quorum::kernels::avx512
