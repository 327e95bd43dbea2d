// HQQ: half-quadratic quantization (Badri & Shaji, "Half-Quadratic Quantization of Large
// Machine Learning Models", 2023), calibration-free. For each group of weights (the GGUF block's
// sub-block) the scale and zero point are optimized for an lp-norm (p < 1) reconstruction error
// with a half-quadratic splitting: an extra variable W_e takes the error, updated by the lp
// shrinkage operator, and the zero point gets a closed-form least-squares update against
// W - W_e (the scale stays that of the min-max start, as in the paper), while beta grows by kappa
// each iteration. The result is written into GGUF types that carry a scale and an offset per
// group (Q4_1, Q5_1, Q2_K, Q4_K, Q5_K), and into Q3_K (no offset: the same step updates the
// scale); the K-quants' own rounding of scales and mins (6- or 4-bit codes under F16
// super-block scales) is part of the optimization: a second pass optimizes the min (Q3_K: the
// scale) on its code grid. For K-quants the solver also starts from ggml's own searched fit and
// keeps the better of the two under ggml's weighted error (see hqq.cpp; a safeguard against
// min-max ranges, not part of the paper).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "tensor/dtype.h"

namespace quorum::quant {

// Where the K-quant group solver starts (see hqq.cpp).
enum class HqqStart { kMinMax = 0, kRtn = 1, kBoth = 2 };

struct HqqParams {
  int iterations = 20;   // maximum solver iterations per group (stops early when no better)
  float lp_norm = 0.7f;  // p of the lp-norm error (p < 1 makes it robust to outliers)
  float beta = 10.f;     // initial half-quadratic penalty
  float kappa = 1.01f;   // beta *= kappa each iteration
  bool early_stop = true; // HQQ's rule: stop at the first iteration that does not improve
  HqqStart start = HqqStart::kBoth;  // K-quants: min-max, ggml's searched fit, or the better
  bool weighted = true;  // K-quants: error weighted like ggml's search (av|x| + |x|) or plain
};

// Parses "name=value" strings (names: iterations, lp_norm, beta, kappa).
Result<HqqParams> parse_hqq_params(const std::vector<std::string>& kv);

// Types HQQ writes itself; others are quantized round-to-nearest by the caller.
bool hqq_supports(DType t);

// x (nrows, n_per_row) -> dst in type t (hqq_supports(t), n_per_row a multiple of its block).
// Returns the bytes written.
size_t quantize_hqq(DType t, const float* src, void* dst, int64_t nrows, int64_t n_per_row,
                    const HqqParams& params);

// One group: x[n] ≈ d * q + m with q in 0..nmax, (d, m) from min-max refined by the solver.
// `allow_positive_min` false forces m <= 0 (K-quants store -m as an unsigned code).
struct HqqGroupFit {
  float d = 0, m = 0;
  double err = 0;  // sum of squared errors of the final (d, m)
};
HqqGroupFit hqq_fit_group(const float* x, int n, int nmax, bool allow_positive_min,
                          const HqqParams& params);

}  // namespace quorum::quant
