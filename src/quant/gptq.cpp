// The GPTQ column loop over GGUF block grids (see gptq.h). Rows are independent once U is known,
// so each thread runs the whole column loop on its own slice of rows.
#include "quant/gptq.h"

#include <fmt/format.h>

#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <algorithm>
#include <numeric>

#include "quant/gptq_grid.h"
#include "tensor/quant_ref.h"

namespace quorum::quant {
namespace {

using MatD = Eigen::MatrixXd;
using MatF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic>;

// Everything the row slices share: permutation, U, importance weights, the grid.
struct Plan {
  int64_t rows = 0, k = 0, qk = 0, batch = 0;
  std::vector<int64_t> perm;     // position -> original column
  std::vector<int64_t> inv;      // original column -> position
  std::vector<char> dead;        // [k] original order
  std::vector<float> importance; // [k] original order, RTN weights (empty: none)
  MatF u;                        // [k, k] upper Cholesky factor of (H + λI)⁻¹, permuted order
  const BlockGrid* grid = nullptr;
  QuantizeFn rtn = nullptr;
  size_t row_bytes = 0;
  int scale_passes = 1;
};

// U = the upper Cholesky factor of (H + λI)⁻¹, raising λ tenfold while H + λI is not positive
// definite. With J the reversal permutation and J(H + λI)J = L Lᵀ, R = J L J is upper and
// H + λI = R Rᵀ, so (H + λI)⁻¹ = R⁻ᵀ R⁻¹ and U = R⁻¹: one Cholesky and one triangular inverse,
// in place in `h` (destroyed) plus one k x k matrix.
Status inverse_cholesky(MatD& h, double damp, MatF& u) {
  const int64_t k = h.rows();
  h.reverseInPlace();  // J H J
  const Eigen::VectorXd diag = h.diagonal();
  const double mean_diag = diag.mean();
  double lambda = damp * mean_diag;
  if (!(lambda > 0)) lambda = 1e-8;
  for (int attempt = 0; attempt < 8; ++attempt, lambda *= 10) {
    // The in-place factorization overwrites the lower triangle only: restore it from the upper.
    h.triangularView<Eigen::StrictlyLower>() = h.transpose().triangularView<Eigen::StrictlyLower>();
    h.diagonal() = diag.array() + lambda;
    Eigen::LLT<Eigen::Ref<MatD>> llt(h);
    if (llt.info() != Eigen::Success) continue;
    h.reverseInPlace();  // lower L -> upper R = J L J
    MatD r_inv = MatD::Identity(k, k);
    h.triangularView<Eigen::Upper>().solveInPlace(r_inv);
    u = r_inv.triangularView<Eigen::Upper>().toDenseMatrix().cast<float>();
    return Status::ok();
  }
  return Error(ErrorCode::kInternal, "GPTQ: the Hessian is not positive definite")
      .actual(fmt::format("k = {}, mean diag = {:.3g}", k, mean_diag))
      .hint("raise the damping (--gptq-damp) or use more calibration tokens");
}

// One column loop over rows [r0, r0 + m). When a column first touches a block, the block's scales
// are chosen by the RTN quantizer on `fit` (original column order, [m, k]) if given, else on the
// block's current, error-updated weights. Writes the rows' blocks (scales and codes) to `blocks`
// [m, row_bytes], the value each weight had when it was rounded to `rounded_from` [m, k] (original
// order), and per row the loss Σ ((w - q) / U_ii)², which equals the row's ΔW (H + λI) ΔWᵀ.
void column_loop(const Plan& p, const float* w, int64_t r0, int64_t m, const float* fit,
                 uint8_t* blocks, float* rounded_from, double* loss) {
  const int64_t k = p.k, qk = p.qk;
  MatF wm(m, k);  // current weights, permuted column order
  for (int64_t r = 0; r < m; ++r) {
    for (int64_t i = 0; i < k; ++i) {
      const int64_t c = p.perm[static_cast<size_t>(i)];
      wm(r, i) = p.dead[static_cast<size_t>(c)] ? 0.0f : w[(r0 + r) * k + c];
    }
  }
  const auto mk = static_cast<size_t>(m * k);
  std::vector<float> ga(mk), gb(mk);  // grid of every weight [m, k], original order
  std::vector<uint8_t> codes(mk);     // [m, k], original order
  std::vector<char> have_grid(static_cast<size_t>(k / qk), 0);
  MatF err(m, p.batch);
  std::vector<float> seg(static_cast<size_t>(qk));
  std::vector<uint8_t> scratch;
  std::vector<float> values;
  std::fill(loss, loss + m, 0.0);

  for (int64_t i1 = 0; i1 < k; i1 += p.batch) {
    const int64_t i2 = std::min(i1 + p.batch, k), nb = i2 - i1;
    err.setZero();
    for (int64_t i = i1; i < i2; ++i) {
      const int64_t c = p.perm[static_cast<size_t>(i)];
      const int64_t g = c / qk;
      if (!have_grid[static_cast<size_t>(g)]) {
        for (int64_t r = 0; r < m; ++r) {
          if (fit != nullptr) {
            std::copy_n(fit + r * k + g * qk, qk, seg.begin());
          } else {
            // The block's current weights: columns of this batch are up to date; later columns
            // still lack this batch's pending update for the columns done so far.
            for (int64_t t = 0; t < qk; ++t) {
              const int64_t pos = p.inv[static_cast<size_t>(g * qk + t)];
              float v = wm(r, pos);
              if (pos >= i2 && i > i1) {
                v -= err.row(r).head(i - i1).dot(p.u.col(pos).segment(i1, i - i1));
              }
              seg[static_cast<size_t>(t)] = v;
            }
          }
          uint8_t* blk = blocks + r * p.row_bytes + g * p.grid->block_bytes();
          p.rtn(seg.data(), blk, 1, qk, p.importance.empty() ? nullptr : &p.importance[g * qk]);
          const size_t off = static_cast<size_t>(r * k + g * qk);
          p.grid->grid(blk, &ga[off], &gb[off], scratch, values);
        }
        have_grid[static_cast<size_t>(g)] = 1;
      }
      const float d = p.u(i, i);
      for (int64_t r = 0; r < m; ++r) {
        const size_t at = static_cast<size_t>(r * k + c);
        float q = 0;
        rounded_from[at] = wm(r, i);
        codes[at] = p.grid->round(wm(r, i), ga[at], gb[at], &q);
        const float e = (wm(r, i) - q) / d;
        err(r, i - i1) = e;
        loss[r] += static_cast<double>(e) * e;
      }
      if (i + 1 < i2) {
        wm.block(0, i + 1, m, i2 - i - 1).noalias() -=
            err.col(i - i1) * p.u.row(i).segment(i + 1, i2 - i - 1);
      }
    }
    if (i2 < k) {
      wm.rightCols(k - i2).noalias() -= err.leftCols(nb) * p.u.block(i1, i2, nb, k - i2);
    }
  }
  for (int64_t r = 0; r < m; ++r) {
    for (int64_t g = 0; g < k / qk; ++g) {
      p.grid->pack(&codes[static_cast<size_t>(r * k + g * qk)],
                   blocks + r * p.row_bytes + g * p.grid->block_bytes());
    }
  }
}

// Rows [r0, r1): the first column loop picks block scales on the error-updated weights as it
// reaches each block (the scales cannot see the updates that later columns of the block still
// receive); each further pass fits the scales to the values the previous pass actually rounded,
// and a row keeps the pass with the lowest loss. Writes the rows' blocks into dst.
void quantize_rows(const Plan& p, const float* w, int64_t r0, int64_t r1, uint8_t* dst) {
  const int64_t m = r1 - r0, k = p.k;
  if (m <= 0) return;
  const auto mk = static_cast<size_t>(m * k);
  uint8_t* out = dst + r0 * p.row_bytes;
  std::vector<float> fit(mk), next(p.scale_passes > 1 ? mk : 0);
  std::vector<double> best(static_cast<size_t>(m)), loss(static_cast<size_t>(m));
  column_loop(p, w, r0, m, nullptr, out, fit.data(), best.data());
  std::vector<uint8_t> blocks(p.scale_passes > 1 ? static_cast<size_t>(m) * p.row_bytes : 0);
  for (int pass = 1; pass < p.scale_passes; ++pass) {
    column_loop(p, w, r0, m, fit.data(), blocks.data(), next.data(), loss.data());
    for (int64_t r = 0; r < m; ++r) {
      if (loss[static_cast<size_t>(r)] < best[static_cast<size_t>(r)]) {
        best[static_cast<size_t>(r)] = loss[static_cast<size_t>(r)];
        std::copy_n(blocks.data() + r * p.row_bytes, p.row_bytes, out + r * p.row_bytes);
      }
    }
    fit.swap(next);
  }
}

}  // namespace

Status gptq_quantize(const float* w, int64_t rows, int64_t k, const Hessian& h, DType type,
                     const GptqOptions& o, uint8_t* dst, ThreadPool& pool) {
  Plan p;
  p.grid = BlockGrid::find(type);
  p.rtn = quantize_fn(type);
  if (p.grid == nullptr || p.rtn == nullptr) {
    return Error(ErrorCode::kUnsupported, "GPTQ cannot round to this type")
        .actual(dtype_name(type)).hint("use --method rtn for this type");
  }
  p.qk = p.grid->block_size();
  if (rows <= 0 || k <= 0 || k % p.qk != 0 || h.k != k ||
      h.sum.size() != static_cast<size_t>(k * k)) {
    return Error(ErrorCode::kInvalidArgument, "GPTQ: tensor and Hessian shapes do not fit")
        .expected(fmt::format("row length a multiple of {} and a {}x{} Hessian", p.qk, k, k))
        .actual(fmt::format("rows {}, k {}, Hessian k {}", rows, k, h.k));
  }
  if (h.n <= 0) {
    return Error(ErrorCode::kInvalidArgument, "GPTQ: no calibration rows for this input");
  }
  if (o.block_size <= 0 || !(o.damp >= 0) || o.scale_passes < 1) {
    return Error(ErrorCode::kInvalidArgument, "GPTQ: bad parameters")
        .actual(fmt::format("block size {}, damp {}, scale passes {}", o.block_size, o.damp,
                            o.scale_passes));
  }
  p.rows = rows;
  p.k = k;
  p.batch = o.block_size;
  p.scale_passes = o.scale_passes;
  p.row_bytes = row_size(type, k);

  // H = 2/n Σ x xᵀ (symmetric from the lower triangle), in double.
  MatD hd(k, k);
  const double scale = 2.0 / static_cast<double>(h.n);
  for (int64_t j = 0; j < k; ++j) {
    for (int64_t i = j; i < k; ++i) {
      const double v = scale * h.sum[static_cast<size_t>(j * k + i)];
      hd(i, j) = v;
      hd(j, i) = v;
    }
  }
  p.dead.assign(static_cast<size_t>(k), 0);
  double mean_diag = 0;
  for (int64_t i = 0; i < k; ++i) mean_diag += hd(i, i) / static_cast<double>(k);
  if (o.hessian_weights) {
    // diag H as importance (an imatrix up to a factor), floored so no block has all-zero weights.
    p.importance.resize(static_cast<size_t>(k));
    for (int64_t i = 0; i < k; ++i) {
      p.importance[static_cast<size_t>(i)] = static_cast<float>(hd(i, i) + 1e-3 * mean_diag + 1e-12);
    }
  }
  for (int64_t i = 0; i < k; ++i) {
    if (hd(i, i) == 0) {
      hd(i, i) = 1;
      p.dead[static_cast<size_t>(i)] = 1;
    }
  }
  p.perm.resize(static_cast<size_t>(k));
  std::iota(p.perm.begin(), p.perm.end(), 0);
  if (o.act_order) {
    std::stable_sort(p.perm.begin(), p.perm.end(),
                     [&](int64_t a, int64_t b) { return hd(a, a) > hd(b, b); });
    MatD hp(k, k);
    for (int64_t j = 0; j < k; ++j) {
      for (int64_t i = 0; i < k; ++i) {
        hp(i, j) = hd(p.perm[static_cast<size_t>(i)], p.perm[static_cast<size_t>(j)]);
      }
    }
    hd.swap(hp);
  }
  p.inv.resize(static_cast<size_t>(k));
  for (int64_t i = 0; i < k; ++i) p.inv[static_cast<size_t>(p.perm[static_cast<size_t>(i)])] = i;
  QUORUM_TRY(inverse_cholesky(hd, o.damp, p.u));
  hd.resize(0, 0);

  // One slice of rows per thread (at least 16 rows each), and more slices when a slice's working
  // set (quantize_rows: about 25 bytes per weight) would pass 256 MiB, e.g. a 128K-row
  // embedding table (6.5 GB in two slices). Rows are independent: the result is the same.
  const int64_t max_rows = std::max<int64_t>(16, (int64_t{256} << 20) / (25 * k));
  const int64_t n_slices = std::max<int64_t>(
      {int64_t{1}, std::min<int64_t>(pool.size(), rows / 16), (rows + max_rows - 1) / max_rows});
  pool.parallel_for(n_slices, 1, [&](int64_t s0, int64_t s1, int) {
    for (int64_t s = s0; s < s1; ++s) {
      quantize_rows(p, w, rows * s / n_slices, rows * (s + 1) / n_slices, dst);
    }
  });
  return Status::ok();
}

}  // namespace quorum::quant
