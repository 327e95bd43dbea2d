// HQQ solver and its GGUF writers (see hqq.h). Notation per group of n weights x:
//   q = clamp(round((x - m) / d), 0, nmax)        the stored levels
//   r = d * q + m                                  the reconstruction
//   e = shrink_p(x - r, beta)                      the half-quadratic error variable
//   m = argmin || (x - e) - (d * q + m) ||^2       closed form: mean((x - e) - d * q)
// with shrink_p(v, beta) = sign(v) * max(|v| - |v|^(p-1) / beta, 0) (the proximal operator of
// the lp "norm", p < 1), beta *= kappa after each iteration, and HQQ's early stop: the loop ends
// when the reconstruction error stops improving; the best (d, m) seen is kept. After every
// update (d, m) are snapped to what the format can store (F16 for Q4_1/Q5_1; integer codes
// under the super-block scales for K-quants), so the optimization sees the real rounding. As in
// HQQ the solver moves only the offset; the scale stays that of its start (a least-squares scale
// update lowered the squared error by 14% on qt-base Q4_1 but raised the KL divergence).
//
// K-quants (start=both, error=weighted by default): each group is solved from two starts, the
// min-max fit (HQQ's own) and ggml's searched fit (make_qkx2_quants with the weights and search
// parameters of ggml's reference quantizer, i.e. RTN's fit before its 6-bit/4-bit code
// rounding), and the fit with the lower error is kept. The error the solver keeps and compares
// is weighted like ggml's search (rms(group) + |x| for the 32-groups, |x| for Q2_K's 16):
// min-max alone lost to RTN badly on qt-qwen (Q4_K_M KL +117%, Q2_K +122%, docs/QUANT.md), where
// a wide range wastes levels on one weight; from the two starts no group's float fit is worse
// than RTN's under RTN's own objective, and the lp-norm steps can still move it. This is a
// calibration-free safeguard, not part of the HQQ paper.
#include "quant/hqq.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/fp16.h"
#include "tensor/blocks.h"
#include "tensor/quant_ref.h"
#include "tensor/quant_ref_util.h"

namespace quorum::quant {
namespace {

constexpr int kMaxGroup = 32;  // largest group of the supported types

inline float f16_round(float v) { return f16_to_f32(f32_to_f16(v)); }

// The level of x for scale d and offset m.
inline int level(float x, float d, float m, int nmax) {
  if (d == 0) return 0;
  return std::clamp(static_cast<int>(std::lround((x - m) / d)), 0, nmax);
}

double sq_error(const float* x, int n, int nmax, float d, float m, const float* w = nullptr) {
  double e = 0;
  for (int i = 0; i < n; ++i) {
    const double r = static_cast<double>(d) * level(x[i], d, m, nmax) + m;
    e += (w ? w[i] : 1.0) * (x[i] - r) * (x[i] - r);
  }
  return e;
}


inline float shrink_lp(float v, float beta, float p) {
  const float a = std::fabs(v);
  if (a == 0) return 0;
  const float t = a - std::pow(a, p - 1) / beta;
  return t > 0 ? std::copysign(t, v) : 0.f;
}

// The half-quadratic loop from (d, m): HQQ keeps the scale of the min-max start and optimizes the
// zero point (here the offset m = -zero * d). `snap(d, m)` maps the parameters to representable
// ones after each update.
template <class Snap>
HqqGroupFit solve(const float* x, int n, int nmax, float d, float m, const HqqParams& p,
                  Snap&& snap, const float* w = nullptr) {
  snap(d, m);
  HqqGroupFit best{d, m, sq_error(x, n, nmax, d, m, w)};
  float beta = p.beta;
  for (int it = 0; it < p.iterations; ++it) {
    // m = mean((x - e) - d q): the closed-form minimizer of || (x - e) - (d q + m) ||^2.
    double sum = 0;
    for (int i = 0; i < n; ++i) {
      const int q = level(x[i], d, m, nmax);
      const float r = d * q + m;
      const float t = x[i] - shrink_lp(x[i] - r, beta, p.lp_norm);  // x - e
      sum += t - static_cast<double>(d) * q;
    }
    m = static_cast<float>(sum / n);
    snap(d, m);
    beta *= p.kappa;
    const double e = sq_error(x, n, nmax, d, m, w);
    if (e < best.err) {
      best = {d, m, e};
    } else if (p.early_stop) {
      break;
    }
  }
  return best;
}

// Min-max start of an affine group (m = min(x), clamped to <= 0 for K-quants).
void minmax_start(const float* x, int n, int nmax, bool allow_positive_min, float* d, float* m) {
  float lo = x[0], hi = x[0];
  for (int i = 1; i < n; ++i) {
    lo = std::min(lo, x[i]);
    hi = std::max(hi, x[i]);
  }
  if (!allow_positive_min) lo = std::min(lo, 0.f);
  *m = lo;
  *d = (hi - lo) / nmax;
}

// ---- legacy 32-blocks with offset (Q4_1, Q5_1): d and m are F16.

template <class Block>
void legacy_block(const float* x, int nmax, const HqqParams& p, Block& b, uint8_t* L) {
  constexpr int n = 32;
  float d, m;
  minmax_start(x, n, nmax, true, &d, &m);
  const HqqGroupFit f = solve(x, n, nmax, d, m, p, [](float& dd, float& mm) {
    dd = f16_round(std::max(dd, 0.f));
    mm = f16_round(mm);
  });
  b.d = f32_to_f16(f.d);
  b.m = f32_to_f16(f.m);
  for (int i = 0; i < n; ++i) L[i] = static_cast<uint8_t>(level(x[i], f.d, f.m, nmax));
}

void q4_1_row(const float* x, BlockQ4_1* y, int64_t nb, const HqqParams& p) {
  for (int64_t i = 0; i < nb; ++i, x += 32) {
    uint8_t L[32];
    legacy_block(x, 15, p, y[i], L);
    for (int j = 0; j < 16; ++j) y[i].qs[j] = static_cast<uint8_t>(L[j] | (L[j + 16] << 4));
  }
}

void q5_1_row(const float* x, BlockQ5_1* y, int64_t nb, const HqqParams& p) {
  for (int64_t i = 0; i < nb; ++i, x += 32) {
    uint8_t L[32];
    legacy_block(x, 31, p, y[i], L);
    uint32_t qh = 0;
    for (int j = 0; j < 16; ++j) {
      y[i].qs[j] = static_cast<uint8_t>((L[j] & 0xF) | ((L[j + 16] & 0xF) << 4));
      qh |= static_cast<uint32_t>(L[j] >> 4) << j;
      qh |= static_cast<uint32_t>(L[j + 16] >> 4) << (j + 16);
    }
    std::memcpy(y[i].qh, &qh, 4);
  }
}

// ---- K-quants: per-group fits, scale codes under an F16 super-block scale, then a second
// solver pass whose snap keeps scale and min on their integer code grids.

struct KLayout {
  int group;   // weights per group
  int nmax;    // highest level
  int smax;    // highest scale/min code
};

KLayout k_layout(DType t) {
  switch (t) {
    case DType::kQ2_K: return {16, 3, 15};
    case DType::kQ4_K: return {32, 15, 63};
    default: return {32, 31, 63};  // Q5_K
  }
}

void k_block_affine(DType t, const KLayout& k, const float* x, const HqqParams& p, void* out) {
  const int ng = kQK_K / k.group;
  float d[16], m[16];
  float max_d = 0, max_min = 0;
  // ggml's search weights per group (also the solver's error weights when p.weighted).
  float wts[16][32];
  for (int g = 0; g < ng; ++g) {
    const float* xg = x + g * k.group;
    float* wg = wts[g];
    if (k.group == 16) {
      for (int l = 0; l < 16; ++l) wg[l] = std::fabs(xg[l]);
    } else {
      float sum_x2 = 0;
      for (int l = 0; l < 32; ++l) sum_x2 += xg[l] * xg[l];
      const float av_x = std::sqrt(sum_x2 / 32);
      for (int l = 0; l < 32; ++l) wg[l] = av_x + std::fabs(xg[l]);
    }
  }
  for (int g = 0; g < ng; ++g) {
    const float* xg = x + g * k.group;
    const float* wc = p.weighted ? wts[g] : nullptr;
    auto snap0 = [](float& dd, float& mm) {
      dd = std::max(dd, 0.f);
      mm = std::min(mm, 0.f);
    };
    HqqGroupFit f;
    if (p.start != HqqStart::kRtn) {
      float d0, m0;
      minmax_start(xg, k.group, k.nmax, false, &d0, &m0);
      f = solve(xg, k.group, k.nmax, d0, m0, p, snap0, wc);
    }
    if (p.start != HqqStart::kMinMax) {
      // ggml's fit as quantize_row_q{2,4,5}_k_ref searches it (returns d; mn = -m >= 0).
      uint8_t L[32], Laux[32];
      float mn = 0, d1;
      if (k.group == 16) {
        d1 = qref::make_qkx2_quants(16, 3, xg, wts[g], L, &mn, Laux, -0.5f, 0.1f, 15, true);
      } else if (k.nmax == 15) {
        d1 = qref::make_qkx2_quants(32, 15, xg, wts[g], L, &mn, Laux, -1.f, 0.1f, 20, false);
      } else {
        d1 = qref::make_qkx2_quants(32, 31, xg, wts[g], L, &mn, Laux, -0.5f, 0.1f, 15, false);
      }
      const HqqGroupFit f1 = solve(xg, k.group, k.nmax, d1, -mn, p, snap0, wc);
      if (p.start == HqqStart::kRtn || f1.err < f.err) f = f1;
    }
    d[g] = f.d;
    m[g] = f.m;
    max_d = std::max(max_d, f.d);
    max_min = std::max(max_min, -f.m);
  }
  KScaleCodes c;
  c.d = f16_round(max_d / k.smax);
  c.dmin = f16_round(max_min / k.smax);
  for (int g = 0; g < ng; ++g) {
    const float* xg = x + g * k.group;
    const float ds = c.d, dm = c.dmin;
    const int smax = k.smax;
    auto code = [smax](float v, float unit) {
      return unit > 0 ? std::clamp(static_cast<int>(std::lround(v / unit)), 0, smax) : 0;
    };
    const HqqGroupFit f = solve(xg, k.group, k.nmax, d[g], m[g], p,
                                [&](float& dd, float& mm) {
                                  dd = ds * static_cast<float>(code(dd, ds));
                                  mm = -dm * static_cast<float>(code(-mm, dm));
                                }, p.weighted ? wts[g] : nullptr);
    c.sc[g] = static_cast<uint8_t>(code(f.d, ds));
    c.m[g] = static_cast<uint8_t>(code(-f.m, dm));
  }
  write_k_block(t, x, c, out);
}

// ---- Q3_K: symmetric groups of 16, x = d * q with q in -4..3 (no offset). The format has no
// zero point, so the half-quadratic step updates the scale instead:
//   e = shrink_p(x - d q, beta),  d = <q, x - e> / <q, q>   (closed-form least squares)
// from ggml's own fit (make_q3_quants, the RTN scale), keeping a step only when it lowers the
// error weighted as ggml's Q3 search weights it (x^2). As for the affine K-quants, a second pass
// repeats this with d on the super-block's 6-bit signed code grid.

inline int sym_level(float x, float d) {
  if (d == 0) return 0;
  return std::clamp(static_cast<int>(std::lround(x / d)), -4, 3);
}

double sym_error(const float* x, int n, float d) {
  double e = 0;
  for (int i = 0; i < n; ++i) {
    const double r = static_cast<double>(d) * sym_level(x[i], d);
    e += static_cast<double>(x[i]) * x[i] * (x[i] - r) * (x[i] - r);
  }
  return e;
}

template <class Snap>
float solve_sym(const float* x, int n, float d, const HqqParams& p, Snap&& snap) {
  d = snap(d);
  float best_d = d;
  double best = sym_error(x, n, d);
  float beta = p.beta;
  for (int it = 0; it < p.iterations; ++it) {
    double qx = 0, qq = 0;
    for (int i = 0; i < n; ++i) {
      const int q = sym_level(x[i], d);
      const float t = x[i] - shrink_lp(x[i] - d * q, beta, p.lp_norm);  // x - e
      qx += static_cast<double>(q) * t;
      qq += static_cast<double>(q) * q;
    }
    if (qq == 0) break;
    d = snap(static_cast<float>(qx / qq));
    beta *= p.kappa;
    const double e = sym_error(x, n, d);
    if (e < best) {
      best = e;
      best_d = d;
    } else if (p.early_stop) {
      break;
    }
  }
  return best_d;
}

void k_block_q3(const float* x, const HqqParams& p, void* out) {
  float s[16];
  float max_scale = 0, amax = 0;
  for (int g = 0; g < 16; ++g) {
    int8_t L[16];
    const float s0 = qref::make_q3_quants(16, 4, x + 16 * g, L, true);
    s[g] = solve_sym(x + 16 * g, 16, s0, p, [](float v) { return v; });
    if (std::fabs(s[g]) > amax) {
      amax = std::fabs(s[g]);
      max_scale = s[g];
    }
  }
  KScaleCodes c;
  if (max_scale != 0) {
    // ggml's encoding: the largest |scale| gets code -32 (so d may be negative).
    c.d = f16_round(-max_scale / 32);
    const float ds = c.d;
    auto code = [ds](float v) { return std::clamp(static_cast<int>(std::lround(v / ds)), -32, 31); };
    for (int g = 0; g < 16; ++g) {
      const float d = solve_sym(x + 16 * g, 16, s[g], p, [&](float v) { return ds * code(v); });
      c.sc[g] = static_cast<uint8_t>(code(d) + 32);
    }
  } else {
    for (int g = 0; g < 16; ++g) c.sc[g] = 32;
  }
  write_k_block(DType::kQ3_K, x, c, out);
}

}  // namespace

HqqGroupFit hqq_fit_group(const float* x, int n, int nmax, bool allow_positive_min,
                          const HqqParams& params) {
  float d, m;
  minmax_start(x, std::min(n, kMaxGroup), nmax, allow_positive_min, &d, &m);
  return solve(x, std::min(n, kMaxGroup), nmax, d, m, params,
               [allow_positive_min](float& dd, float& mm) {
                 dd = std::max(dd, 0.f);
                 if (!allow_positive_min) mm = std::min(mm, 0.f);
               });
}

Result<HqqParams> parse_hqq_params(const std::vector<std::string>& kv) {
  HqqParams p;
  for (const std::string& s : kv) {
    const size_t eq = s.find('=');
    const std::string name = s.substr(0, eq);
    const std::string value = eq == std::string::npos ? "" : s.substr(eq + 1);
    char* end = nullptr;
    const double v = std::strtod(value.c_str(), &end);
    const bool number = !value.empty() && end == value.c_str() + value.size() && std::isfinite(v);
    auto bad = [&](const char* expected) {
      return Error(ErrorCode::kInvalidArgument, "invalid hqq parameter")
          .where(s).expected(expected).actual(value.empty() ? "no value" : value);
    };
    if (name == "iterations") {
      if (!number || v < 0 || v > 1000 || v != std::floor(v)) return bad("an integer 0..1000");
      p.iterations = static_cast<int>(v);
    } else if (name == "lp_norm") {
      if (!number || v <= 0 || v > 2) return bad("a number in (0, 2]");
      p.lp_norm = static_cast<float>(v);
    } else if (name == "beta") {
      if (!number || v <= 0) return bad("a positive number");
      p.beta = static_cast<float>(v);
    } else if (name == "start") {
      if (value == "minmax") {
        p.start = HqqStart::kMinMax;
      } else if (value == "rtn") {
        p.start = HqqStart::kRtn;
      } else if (value == "both") {
        p.start = HqqStart::kBoth;
      } else {
        return bad("minmax, rtn or both");
      }
    } else if (name == "error") {
      if (value != "squared" && value != "weighted") return bad("squared or weighted");
      p.weighted = value == "weighted";
    } else if (name == "kappa") {
      if (!number || v < 1) return bad("a number >= 1");
      p.kappa = static_cast<float>(v);
    } else {
      return Error(ErrorCode::kInvalidArgument, "unknown hqq parameter")
          .where(s).expected("iterations, lp_norm, beta, kappa, start or error").actual(name);
    }
  }
  return p;
}

bool hqq_supports(DType t) {
  return t == DType::kQ4_1 || t == DType::kQ5_1 || t == DType::kQ2_K || t == DType::kQ3_K ||
         t == DType::kQ4_K || t == DType::kQ5_K;
}

size_t quantize_hqq(DType t, const float* src, void* dst, int64_t nrows, int64_t n_per_row,
                    const HqqParams& p) {
  if (!hqq_supports(t)) return 0;
  const TypeTraits& tr = traits(t);
  const int64_t nb = n_per_row / tr.block_size;
  auto* out = static_cast<uint8_t*>(dst);
  for (int64_t r = 0; r < nrows; ++r) {
    const float* x = src + r * n_per_row;
    uint8_t* y = out + r * nb * static_cast<int64_t>(tr.type_size);
    if (t == DType::kQ4_1) {
      q4_1_row(x, reinterpret_cast<BlockQ4_1*>(y), nb, p);
    } else if (t == DType::kQ5_1) {
      q5_1_row(x, reinterpret_cast<BlockQ5_1*>(y), nb, p);
    } else if (t == DType::kQ3_K) {
      for (int64_t b = 0; b < nb; ++b) {
        k_block_q3(x + b * kQK_K, p, y + b * static_cast<int64_t>(tr.type_size));
      }
    } else {
      const KLayout k = k_layout(t);
      for (int64_t b = 0; b < nb; ++b) {
        void* blk = y + b * static_cast<int64_t>(tr.type_size);
        k_block_affine(t, k, x + b * kQK_K, p, blk);
      }
    }
  }
  return static_cast<size_t>(nrows * nb) * tr.type_size;
}

}  // namespace quorum::quant
