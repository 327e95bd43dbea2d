// Shared helpers of the reference quantizers (internal to src/tensor): ggml's rounding trick and
// its per-group scale searches. Every float expression keeps ggml's operation order, so results
// are bit-identical; these files are compiled with -ffp-contract=off (no fused multiply-add).
#pragma once

#include <cstdint>
#include <cstring>

namespace quorum::qref {

inline constexpr float kGroupMaxEps = 1e-15f;

// Round to nearest (ties to even) via the 1.5 * 2^23 trick; |fval| must be below 2^22.
inline int nearest_int(float fval) {
  const float val = fval + 12582912.f;
  int i;
  std::memcpy(&i, &val, sizeof(int));
  return (i & 0x007fffff) - 0x00400000;
}

// Symmetric scale for n values with levels -nmax..nmax-1 (stored as L + nmax); rmse_type 1
// searches 18 nearby scales weighting by qw (or x^2 when qw is null).
float make_qx_quants(int n, int nmax, const float* x, int8_t* L, int rmse_type, const float* qw);
// Q3_K's symmetric scale with coordinate-descent refinement (weights x^2).
float make_q3_quants(int n, int nmax, const float* x, int8_t* L, bool do_rmse);
// Asymmetric scale + min (levels 0..nmax) searched over nstep+1 candidate scales.
float make_qkx2_quants(int n, int nmax, const float* x, const float* weights, uint8_t* L,
                       float* the_min, uint8_t* Laux, float rmin, float rdelta, int nstep,
                       bool use_mad);
// As make_qkx2_quants, but weights may be null (then x^2) — the importance-weighted path.
float make_qkx3_quants(int n, int nmax, const float* x, const float* weights, uint8_t* L,
                       float* the_min, uint8_t* Laux, float rmin, float rdelta, int nstep,
                       bool use_mad);
// Positive scale for non-negative values (the sub-block scales) with weights.
float make_qp_quants(int n, int nmax, const float* x, uint8_t* L, const float* quant_weights);

// Unpacks the j-th 6-bit scale and min of Q4_K/Q5_K.
inline void get_scale_min_k4(int j, const uint8_t* q, uint8_t* d, uint8_t* m) {
  if (j < 4) {
    *d = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *d = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
    *m = (q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4);
  }
}

// Index of the entry of the sorted table val[n] nearest to x (ties to the upper entry).
inline int best_index_int8(int n, const int8_t* val, float x) {
  if (x <= val[0]) return 0;
  if (x >= val[n - 1]) return n - 1;
  int ml = 0, mu = n - 1;
  while (mu - ml > 1) {
    const int mav = (ml + mu) / 2;
    if (x < val[mav]) mu = mav; else ml = mav;
  }
  return x - val[mu - 1] < val[mu] - x ? mu - 1 : mu;
}

}  // namespace quorum::qref
