// matvec / matvec_swiglu: activation conversion per distinct vec-dot type, then one
// parallel_for over the concatenated rows of all outputs.
#include "engine/matvec.h"

#include <algorithm>
#include <cassert>

namespace quorum {

namespace {

constexpr int kMaxOuts = 4;
constexpr int64_t kRowGrain = 16;

// Converted input rows, one per distinct activation type (at most two: the types of one
// layer's matrices differ at most between Q4_K and Q6_K, Q5_K, ...).
class Activations {
 public:
  Activations(const kernels::Kernels& kern, const float* x, int64_t k, uint8_t* scratch)
      : kern_(kern), x_(x), k_(k), scratch_(scratch) {}

  const void* get(DType weight_type) {
    const DType at = kernels::vec_dot_type(weight_type);
    if (at == DType::kF32) return x_;
    for (int i = 0; i < n_; ++i) {
      if (types_[i] == at) return rows_[i];
    }
    assert(n_ < 2);
    uint8_t* dst = scratch_ + static_cast<size_t>(n_) * half_bytes(k_);
    kern_.quantize_activation(weight_type, x_, dst, k_);
    types_[n_] = at;
    rows_[n_] = dst;
    ++n_;
    return dst;
  }

  // Every activation type takes at most 4 bytes per element (F32).
  static size_t half_bytes(int64_t k) { return static_cast<size_t>(k) * 4 + 64; }

 private:
  const kernels::Kernels& kern_;
  const float* x_;
  int64_t k_;
  uint8_t* scratch_;
  DType types_[2] = {};
  const void* rows_[2] = {};
  int n_ = 0;
};

}  // namespace

size_t matvec_scratch_bytes(int64_t k) { return 2 * Activations::half_bytes(k); }

void matvec(const kernels::Kernels& kern, ThreadPool& pool, const float* x, int64_t k,
            std::initializer_list<MatVecOut> outs, uint8_t* scratch) {
  assert(outs.size() <= kMaxOuts);
  Activations acts(kern, x, k, scratch);
  struct Part {
    const uint8_t* w;
    size_t row_bytes;
    DType type;
    const void* act;
    float* y;
    int64_t first;  // index of this output's row 0 in the concatenation
  };
  Part parts[kMaxOuts];
  int n_parts = 0;
  int64_t total = 0;
  for (const MatVecOut& o : outs) {
    assert(o.w->k == k);
    parts[n_parts++] = Part{o.w->data, row_size(o.w->type, k), o.w->type, acts.get(o.w->type),
                            o.y, total};
    total += o.w->rows;
  }
  pool.parallel_for(total, kRowGrain, [&](int64_t b, int64_t e, int) {
    for (int p = 0; p < n_parts; ++p) {
      const Part& pt = parts[p];
      const int64_t end = p + 1 < n_parts ? parts[p + 1].first : total;
      const int64_t lo = std::max(b, pt.first), hi = std::min(e, end);
      for (int64_t r = lo; r < hi; ++r) {
        const int64_t i = r - pt.first;
        pt.y[i] = kern.dot(pt.type, pt.w + static_cast<size_t>(i) * pt.row_bytes, pt.act, k);
      }
    }
  });
}

void matvec_swiglu(const kernels::Kernels& kern, ThreadPool& pool, const Weight& gate,
                   const Weight& up, const float* x, float* h, uint8_t* scratch) {
  assert(gate.k == up.k && gate.rows == up.rows);
  const int64_t k = gate.k;
  Activations acts(kern, x, k, scratch);
  const void* ag = acts.get(gate.type);
  const void* au = acts.get(up.type);
  const size_t gb = row_size(gate.type, k), ub = row_size(up.type, k);
  pool.parallel_for(gate.rows, kRowGrain, [&](int64_t b, int64_t e, int) {
    float g[kRowGrain], u[kRowGrain];
    for (int64_t i0 = b; i0 < e; i0 += kRowGrain) {
      const int64_t m = std::min(kRowGrain, e - i0);
      for (int64_t j = 0; j < m; ++j) {
        g[j] = kern.dot(gate.type, gate.data + static_cast<size_t>(i0 + j) * gb, ag, k);
      }
      for (int64_t j = 0; j < m; ++j) {
        u[j] = kern.dot(up.type, up.data + static_cast<size_t>(i0 + j) * ub, au, k);
      }
      kern.swiglu(g, u, h + i0, m);
    }
  });
}

}  // namespace quorum
