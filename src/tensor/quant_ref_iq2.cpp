// IQ2_XXS and IQ2_XS quantizers, following ggml's quantize_row_iq2_xxs_impl /
// quantize_row_iq2_xs_impl (llama.cpp c392e50) so that files come out like llama-quantize's.
//
// Both types store groups of 8 weights as a point of a code book (256 or 512 points of the
// E8-like lattice with magnitudes {1, 3, 5} in units of the group scale) plus 7 sign bits; the
// 8th sign is implied by even parity. Quantizing a group therefore:
//   1. takes |x| and the signs; if the number of negative weights is odd, flips the sign of the
//      weight whose error costs least (smallest importance * x^2), so the parity is even;
//   2. searches the scale of 32 (XXS) or 16 (XS) weights over a small set of candidates; for
//      each, rounds |x| / scale to the levels {1, 3, 5} (index 0..2 per weight, 2 bits each, so
//      8 weights give a 16-bit key); when the key is not a code-book point, takes the nearest
//      code-book point among a precomputed neighbour list under the importance-weighted error;
//   3. keeps the scale with the best weighted least-squares fit and stores the group scales as
//      4-bit multiples of a per-256 F16 scale.
// Importance weights are required (llama.cpp refuses to make IQ2 files without an imatrix).
// The index structures (key -> grid point, neighbour lists) are built once from the code books
// in iq_grids.cpp exactly as ggml's iq2xs_init_impl builds them (same ordering of ties).
#include <algorithm>
#include <array>
#include <cfloat>
#include <climits>
#include <cmath>
#include <cstring>
#include <vector>

#include "tensor/blocks.h"
#include "tensor/iq_grids.h"
#include "tensor/quant_ref.h"
#include "tensor/quant_ref_util.h"

namespace quorum {

using qref::nearest_int;

namespace {

constexpr int kMaxQ = 3;             // levels 2 * l + 1, l in 0..kMaxQ-1
constexpr int kIq2KeyCount = 43692;  // keys with 2 bits per weight and l <= 2: up to 0xAAAA

// Index of a code book: the grid points as 8 int8 magnitudes in {1, 3, 5}, the map from a
// 16-bit key to its grid point (>= 0) or to its neighbour list (-(offset + 1)), and the lists
// themselves ({count, point...}).
struct Iq2Index {
  std::vector<uint64_t> grid;  // (grid_size) 8 magnitudes each
  std::vector<int> map;        // (kIq2KeyCount)
  std::vector<uint16_t> neighbours;
};

uint16_t key_of(const int8_t* pos) {
  uint16_t key = 0;
  for (int k = 0; k < 8; ++k) key |= static_cast<uint16_t>(((pos[k] - 1) / 2) << 2 * k);
  return key;
}

// The two nearest distance shells of grid points around an off-grid key (ggml's nwant = 2), in
// (distance, index) order — what ggml gets by sorting all (distance, index) pairs.
void nearest_points(const Iq2Index& ix, int key, std::vector<int>& dist,
                    std::vector<uint16_t>& out) {
  int8_t pos[8];
  for (int k = 0; k < 8; ++k) pos[k] = static_cast<int8_t>(2 * ((key >> 2 * k) & 3) + 1);
  dist.resize(ix.grid.size());
  int d_first = INT32_MAX, d_second = INT32_MAX;
  for (size_t j = 0; j < ix.grid.size(); ++j) {
    int8_t pg[8];
    std::memcpy(pg, &ix.grid[j], 8);
    int d2 = 0;
    for (int k = 0; k < 8; ++k) d2 += (pg[k] - pos[k]) * (pg[k] - pos[k]);
    dist[j] = d2;
    if (d2 < d_first) {
      d_second = d_first;
      d_first = d2;
    } else if (d2 > d_first && d2 < d_second) {
      d_second = d2;
    }
  }
  out.clear();
  for (int shell : {d_first, d_second}) {
    for (size_t j = 0; j < dist.size(); ++j) {
      if (dist[j] == shell) out.push_back(static_cast<uint16_t>(j));
    }
  }
}

Iq2Index build_index(const uint64_t* code_book, int grid_size) {
  Iq2Index ix;
  ix.grid.resize(static_cast<size_t>(grid_size));
  for (int i = 0; i < grid_size; ++i) {
    uint8_t bytes[8];
    std::memcpy(bytes, &code_book[i], 8);
    int8_t pos[8];
    for (int k = 0; k < 8; ++k) {
      // Stored magnitudes 8, 25, 43 are the levels 1, 3, 5.
      pos[k] = static_cast<int8_t>(bytes[k] == 8 ? 1 : bytes[k] == 25 ? 3 : 5);
    }
    std::memcpy(&ix.grid[static_cast<size_t>(i)], pos, 8);
  }
  ix.map.assign(kIq2KeyCount, -1);
  for (int i = 0; i < grid_size; ++i) {
    int8_t pos[8];
    std::memcpy(pos, &ix.grid[static_cast<size_t>(i)], 8);
    ix.map[key_of(pos)] = i;
  }
  std::vector<int> dist;
  std::vector<uint16_t> near;
  for (int key = 0; key < kIq2KeyCount; ++key) {
    if (ix.map[key] >= 0) continue;
    nearest_points(ix, key, dist, near);
    ix.map[key] = -(static_cast<int>(ix.neighbours.size()) + 1);
    ix.neighbours.push_back(static_cast<uint16_t>(near.size()));
    ix.neighbours.insert(ix.neighbours.end(), near.begin(), near.end());
  }
  return ix;
}

// Built on first use; immutable afterwards (C++ guarantees one thread-safe initialisation).
const Iq2Index& iq2xxs_index() {
  static const Iq2Index ix = build_index(kIQ2XXSGrid, 256);
  return ix;
}
const Iq2Index& iq2xs_index() {
  static const Iq2Index ix = build_index(kIQ2XSGrid, 512);
  return ix;
}

// The neighbour of an off-grid key with the least weighted error at `scale`; writes its levels
// to L[8] and returns its grid index.
int best_neighbour(const Iq2Index& ix, int key, const float* xval, const float* weight,
                   float scale, int8_t* L) {
  const uint16_t* nb = ix.neighbours.data() + (-ix.map[key] - 1);
  float best_d2 = FLT_MAX;
  int grid_index = nb[1];
  for (int j = 1; j <= nb[0]; ++j) {
    int8_t pg[8];
    std::memcpy(pg, &ix.grid[nb[j]], 8);
    float d2 = 0;
    for (int i = 0; i < 8; ++i) {
      const float q = pg[i];
      const float diff = scale * q - xval[i];
      d2 += weight[i] * diff * diff;
    }
    if (d2 < best_d2) {
      best_d2 = d2;
      grid_index = nb[j];
    }
  }
  int8_t pg[8];
  std::memcpy(pg, &ix.grid[static_cast<size_t>(grid_index)], 8);
  for (int i = 0; i < 8; ++i) L[i] = static_cast<int8_t>((pg[i] - 1) / 2);
  return grid_index;
}

// Rounds 8 magnitudes at inverse scale `id` to levels L[8]; returns the key.
uint16_t round_octet(const float* xval, float id, int8_t* L) {
  uint16_t u = 0;
  for (int i = 0; i < 8; ++i) {
    const int l = std::clamp(nearest_int(0.5f * (id * xval[i] - 1)), 0, kMaxQ - 1);
    L[i] = static_cast<int8_t>(l);
    u |= static_cast<uint16_t>(l << 2 * i);
  }
  return u;
}

// Rounds an octet and moves an off-grid result to its best neighbour (at `scale`). Returns
// whether the rounded point was on the grid.
bool quantize_octet(const Iq2Index& ix, const float* xval, const float* waux, float id,
                    float scale, int8_t* L) {
  const uint16_t u = round_octet(xval, id, L);
  if (ix.map[u] >= 0) return true;
  best_neighbour(ix, u, xval, waux, scale, L);
  return false;
}

// |x| of 8 weights into xval with even parity of the sign bits: an odd count flips the sign of
// the weight with the smallest weight * x^2. Returns the 7 stored sign bits.
uint8_t split_signs(const float* xb, const float* weight, float* xval) {
  int nflip = 0;
  uint8_t s = 0;
  for (int i = 0; i < 8; ++i) {
    if (xb[i] >= 0) {
      xval[i] = xb[i];
    } else {
      xval[i] = -xb[i];
      ++nflip;
      s |= static_cast<uint8_t>(1 << i);
    }
  }
  if (nflip % 2) {
    int imin = 0;
    float min = weight[0] * xb[0] * xb[0];
    for (int i = 1; i < 8; ++i) {
      const float ax = weight[i] * xb[i] * xb[i];
      if (ax < min) {
        min = ax;
        imin = i;
      }
    }
    xval[imin] = -xval[imin];
    s ^= static_cast<uint8_t>(1 << imin);
  }
  return s & 127;
}

// Importance-weighted least squares of xval against levels 2 L + 1.
void fit_sums(int n, const float* weight, const float* xval, const int8_t* L, float* sumqx,
              float* sumq2) {
  float sx = 0, s2 = 0;
  for (int i = 0; i < n; ++i) {
    const float w = weight[i];
    const float q = 2 * L[i] + 1;
    sx += w * xval[i] * q;
    s2 += w * q * q;
  }
  *sumqx = sx;
  *sumq2 = s2;
}

// Per-weight importance of a 256-block: qw * sqrt(sigma^2 + x^2) with sigma^2 = mean(x^2).
float block_sigma2(const float* xbl) {
  float sumx2 = 0;
  for (int i = 0; i < kQK_K; ++i) sumx2 += xbl[i] * xbl[i];
  return sumx2 / kQK_K;
}

int grid_index_of(const Iq2Index& ix, const int8_t* L) {
  uint16_t u = 0;
  for (int i = 0; i < 8; ++i) u |= static_cast<uint16_t>(L[i] << 2 * i);
  return ix.map[u];
}

// Importances, |x| and sign bits of one group of n weights (n / 8 octets). Returns false when
// the group is all zero (its scale is then 0).
bool prepare_group(int n, const float* xb, const float* qw, float sigma2, float* weight,
                   float* waux, float* xval, uint8_t* signs) {
  for (int i = 0; i < n; ++i) weight[i] = qw[i] * std::sqrt(sigma2 + xb[i] * xb[i]);
  for (int i = 0; i < n; ++i) waux[i] = std::sqrt(weight[i]);
  for (int k = 0; k < n / 8; ++k) signs[k] = split_signs(xb + 8 * k, weight + 8 * k, xval + 8 * k);
  float max = xval[0];
  for (int i = 1; i < n; ++i) max = std::max(max, xval[i]);
  return !(max < qref::kGroupMaxEps);
}

void iq2_xxs_row(const Iq2Index& ix, const float* x, BlockIQ2_XXS* y, int64_t n,
                 const float* quant_weights) {
  constexpr int kG = 32;  // weights per scale
  int8_t L[kG] = {};      // kept across groups, as in ggml (matters only for zero-weight groups)
  for (int64_t ibl = 0; ibl < n / kQK_K; ++ibl) {
    const float* xbl = x + kQK_K * ibl;
    uint32_t q2[2 * (kQK_K / kG)] = {};
    float scales[kQK_K / kG];
    float max_scale = 0;
    const float sigma2 = block_sigma2(xbl);
    for (int ib = 0; ib < kQK_K / kG; ++ib) {
      const float* xb = xbl + kG * ib;
      const float* qw = quant_weights + kQK_K * ibl + kG * ib;
      float weight[kG], waux[kG], xval[kG];
      int8_t Laux[kG];
      uint8_t signs[4];
      if (!prepare_group(kG, xb, qw, sigma2, weight, waux, xval, signs)) {
        scales[ib] = 0;
        std::memset(L, 0, kG);
        continue;
      }
      uint8_t Lqp[kG];
      float scale = qref::make_qp_quants(kG, kMaxQ + 1, xval, Lqp, weight);
      const float eff_max = scale * kMaxQ;
      float best = 0;
      for (int is = -6; is <= 6; ++is) {
        const float id = (2 * kMaxQ - 1 + is * 0.1f) / eff_max;
        const float this_scale = 1 / id;
        for (int k = 0; k < 4; ++k) {
          quantize_octet(ix, xval + 8 * k, waux + 8 * k, id, this_scale, Laux + 8 * k);
        }
        float sumqx, sumq2;
        fit_sums(kG, weight, xval, Laux, &sumqx, &sumq2);
        if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
          scale = sumqx / sumq2;
          best = scale * sumqx;
          std::memcpy(L, Laux, kG);
        }
      }
      if (scale > 0) {
        // Requantize at the fitted scale, then refit.
        const float id = 1 / scale;
        for (int k = 0; k < 4; ++k) {
          quantize_octet(ix, xval + 8 * k, waux + 8 * k, id, scale, L + 8 * k);
        }
        float sumqx, sumq2;
        fit_sums(kG, weight, xval, L, &sumqx, &sumq2);
        if (sumq2 > 0) scale = sumqx / sumq2;
      }
      if (scale < 0) {  // cannot happen with non-negative weights; keep the stored scale unsigned
        scale = -scale;
        for (uint8_t& s : signs) s = static_cast<uint8_t>(~s & 127);
      }
      if (!(scale > 0)) {  // nothing representable: an all-zero group (ggml would abort here)
        scales[ib] = 0;
        continue;
      }
      for (int k = 0; k < 4; ++k) {
        const int gi = std::max(0, grid_index_of(ix, L + 8 * k));
        q2[2 * ib + 0] |= static_cast<uint32_t>(gi) << 8 * k;
        q2[2 * ib + 1] |= static_cast<uint32_t>(signs[k]) << 7 * k;
      }
      scales[ib] = scale;
      max_scale = std::max(max_scale, scale);
    }
    BlockIQ2_XXS& b = y[ibl];
    if (!max_scale) {
      b.d = f32_to_f16(0.f);
      std::memset(b.qs, 0, sizeof(b.qs));
      continue;
    }
    const float d = max_scale / 31;
    b.d = f32_to_f16(d);
    const float id = 1 / d;
    for (int ib = 0; ib < kQK_K / kG; ++ib) {
      const int l = std::clamp(nearest_int(0.5f * (id * scales[ib] - 1)), 0, 15);
      q2[2 * ib + 1] |= static_cast<uint32_t>(l) << 28;
    }
    std::memcpy(b.qs, q2, sizeof(b.qs));
  }
}

void iq2_xs_row(const Iq2Index& ix, const float* x, BlockIQ2_XS* y, int64_t n,
                const float* quant_weights) {
  constexpr int kG = 16;  // weights per scale
  int8_t L[kG] = {};      // kept across groups, as in ggml (matters only for zero-weight groups)
  for (int64_t ibl = 0; ibl < n / kQK_K; ++ibl) {
    const float* xbl = x + kQK_K * ibl;
    uint16_t q2[2 * (kQK_K / kG)] = {};
    float scales[kQK_K / kG];
    float max_scale = 0;
    const float sigma2 = block_sigma2(xbl);
    for (int ib = 0; ib < kQK_K / kG; ++ib) {
      const float* xb = xbl + kG * ib;
      const float* qw = quant_weights + kQK_K * ibl + kG * ib;
      float weight[kG], waux[kG], xval[kG];
      int8_t Laux[kG];
      uint8_t signs[2];
      if (!prepare_group(kG, xb, qw, sigma2, weight, waux, xval, signs)) {
        scales[ib] = 0;
        std::memset(L, 0, kG);
        continue;
      }
      float max = xval[0];
      for (int i = 1; i < kG; ++i) max = std::max(max, xval[i]);
      float best = 0;
      float scale = max / (2 * kMaxQ - 1);
      bool on_grid[2] = {true, true};
      for (int is = -9; is <= 9; ++is) {
        const float id = (2 * kMaxQ - 1 + is * 0.1f) / max;
        const float this_scale = 1 / id;
        bool on_grid_aux[2];
        for (int k = 0; k < 2; ++k) {
          on_grid_aux[k] =
              quantize_octet(ix, xval + 8 * k, waux + 8 * k, id, this_scale, Laux + 8 * k);
        }
        float sumqx, sumq2;
        fit_sums(kG, weight, xval, Laux, &sumqx, &sumq2);
        if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
          scale = sumqx / sumq2;
          best = scale * sumqx;
          std::memcpy(L, Laux, kG);
          on_grid[0] = on_grid_aux[0];
          on_grid[1] = on_grid_aux[1];
        }
      }
      if ((!on_grid[0] || !on_grid[1]) && scale > 0) {
        // Only the octets that had to move to a neighbour are requantized at the fitted scale.
        const float id = 1 / scale;
        for (int k = 0; k < 2; ++k) {
          if (on_grid[k]) continue;
          quantize_octet(ix, xval + 8 * k, waux + 8 * k, id, scale, L + 8 * k);
        }
        float sumqx, sumq2;
        fit_sums(kG, weight, xval, L, &sumqx, &sumq2);
        if (sumq2 > 0) scale = sumqx / sumq2;
      }
      if (scale < 0) {
        scale = -scale;
        for (uint8_t& s : signs) s = static_cast<uint8_t>(~s & 127);
      }
      for (int k = 0; k < 2; ++k) {
        const int gi = std::max(0, grid_index_of(ix, L + 8 * k));
        q2[2 * ib + k] = static_cast<uint16_t>(gi | (signs[k] << 9));
      }
      scales[ib] = scale;
      max_scale = std::max(max_scale, scale);
    }
    BlockIQ2_XS& b = y[ibl];
    std::memset(b.scales, 0, sizeof(b.scales));
    if (!max_scale) {
      b.d = f32_to_f16(0.f);
      std::memset(b.qs, 0, sizeof(b.qs));
      continue;
    }
    const float d = max_scale / 31;
    b.d = f32_to_f16(d);
    const float id = 1 / d;
    for (int ib = 0; ib < kQK_K / kG; ++ib) {
      const int l = std::clamp(nearest_int(0.5f * (id * scales[ib] - 1)), 0, 15);
      b.scales[ib / 2] |= static_cast<uint8_t>(ib % 2 == 0 ? l : l << 4);
    }
    std::memcpy(b.qs, q2, sizeof(b.qs));
  }
}

}  // namespace

size_t quantize_iq2_xxs(const float* src, void* dst, int64_t nrows, int64_t n_per_row,
                        const float* imatrix) {
  const int64_t nb = n_per_row / kQK_K;
  auto* y = static_cast<BlockIQ2_XXS*>(dst);
  if (!imatrix) return 0;  // the caller checks; IQ2 needs importance weights
  const Iq2Index& ix = iq2xxs_index();
  for (int64_t r = 0; r < nrows; ++r) iq2_xxs_row(ix, src + r * n_per_row, y + r * nb, n_per_row, imatrix);
  return static_cast<size_t>(nrows * nb) * sizeof(BlockIQ2_XXS);
}

size_t quantize_iq2_xs(const float* src, void* dst, int64_t nrows, int64_t n_per_row,
                       const float* imatrix) {
  const int64_t nb = n_per_row / kQK_K;
  auto* y = static_cast<BlockIQ2_XS*>(dst);
  if (!imatrix) return 0;
  const Iq2Index& ix = iq2xs_index();
  for (int64_t r = 0; r < nrows; ++r) iq2_xs_row(ix, src + r * n_per_row, y + r * nb, n_per_row, imatrix);
  return static_cast<size_t>(nrows * nb) * sizeof(BlockIQ2_XS);
}

}  // namespace quorum
