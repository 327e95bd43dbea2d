// AWQ scale search, clip search and folding (awq.h).
#include "quant/awq.h"

#include <fmt/format.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <limits>

#include "tensor/quant_ref.h"

namespace quorum::quant {

namespace {

using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
constexpr int64_t kClipGroup = 32;  // weights per clip range (the legacy block size)

// One group of weights reading the same input.
struct GroupDef {
  GroupDef(std::string n, std::string key, std::vector<std::string> ws, std::string p, bool rows = false)
      : name(std::move(n)), stats_key(std::move(key)), weights(std::move(ws)), prev(std::move(p)),
        prev_rows(rows) {}
  std::string name;                  // "blk.0.attn_in"
  std::string stats_key;             // the first weight reading the input
  std::vector<std::string> weights;  // columns scaled by s
  std::string prev;                  // norm vector, or matrix whose rows are divided
  bool prev_rows = false;            // prev is a matrix (ffn_up, attn_v): divide its rows
  std::string prev_bias;             // attn_v.bias when present
  int64_t k = 0;                     // input width of `weights`
  int64_t n_scales = 0;              // scales searched: k, or V rows for attn_out
  int64_t head_dim = 0, gqa = 1;     // attn_out: channel c -> V row ((c / hd) / gqa) * hd + c % hd
  int64_t n_head = 0, n_head_kv = 0; // attn_in: heads of attn_q / attn_k (0: unknown)
  int64_t expand(int64_t c) const {
    return head_dim == 0 ? c : ((c / head_dim) / gqa) * head_dim + c % head_dim;
  }
};

const gguf::TensorInfo* find_tensor(const gguf::File& f, const std::string& name) {
  for (const auto& t : f.tensors()) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

Result<std::vector<float>> to_f32(const gguf::TensorInfo& t) {
  const TypeTraits& tr = traits(t.type);
  if (!tr.to_float) {
    return Error(ErrorCode::kUnsupported, "cannot read this tensor type as F32")
        .where("tensor '" + t.name + "'").actual(tr.name);
  }
  std::vector<float> out(static_cast<size_t>(t.n_elements()));
  const int64_t k = t.ne.empty() ? 0 : t.ne[0];
  const size_t rs = row_size(t.type, k);
  for (int64_t r = 0; r < t.n_rows(); ++r) tr.to_float(t.data + r * rs, out.data() + r * k, k);
  return out;
}

std::vector<GroupDef> group_defs(const gguf::File& f, std::map<std::string, std::string>* notes) {
  std::vector<GroupDef> out;
  const std::string arch = f.get_string_or("general.architecture", "").value_or("");
  const int64_t n_layer = f.get_int_or(arch + ".block_count", 0).value_or(0);
  const int64_t n_head = f.get_int_or(arch + ".attention.head_count", 0).value_or(0);
  const int64_t n_head_kv = f.get_int_or(arch + ".attention.head_count_kv", n_head).value_or(n_head);
  auto note = [&](const std::string& g, const std::string& why) {
    if (notes) (*notes)[g] = why;
  };
  for (int64_t il = 0; il < n_layer; ++il) {
    const std::string b = fmt::format("blk.{}.", il);
    auto t = [&](const char* s) { return find_tensor(f, b + s + ".weight"); };
    auto k_of = [](const gguf::TensorInfo* x) { return x ? x->ne[0] : int64_t{0}; };
    // attn_q/k/v after attn_norm
    {
      GroupDef g{b + "attn_in", b + "attn_q.weight", {}, b + "attn_norm.weight"};
      for (const char* w : {"attn_q", "attn_k", "attn_v"}) {
        if (t(w)) g.weights.push_back(b + w + ".weight");
      }
      g.k = g.n_scales = k_of(t("attn_q"));
      if (n_head > 0 && n_head_kv > 0 && n_head % n_head_kv == 0) g.n_head = n_head, g.n_head_kv = n_head_kv;
      const gguf::TensorInfo* norm = t("attn_norm");
      if (g.weights.size() == 3 && norm && norm->n_elements() == g.k && k_of(t("attn_k")) == g.k &&
          k_of(t("attn_v")) == g.k) {
        out.push_back(g);
      } else {
        note(g.name, "needs separate attn_q/attn_k/attn_v after attn_norm (fused or missing)");
      }
    }
    // ffn_gate/up after ffn_norm
    {
      GroupDef g{b + "ffn_in", b + "ffn_gate.weight", {b + "ffn_gate.weight", b + "ffn_up.weight"},
                 b + "ffn_norm.weight"};
      g.k = g.n_scales = k_of(t("ffn_gate"));
      const gguf::TensorInfo* norm = t("ffn_norm");
      if (t("ffn_gate") && t("ffn_up") && norm && norm->n_elements() == g.k && k_of(t("ffn_up")) == g.k) {
        out.push_back(g);
      } else {
        note(g.name, "needs ffn_gate and ffn_up after ffn_norm");
      }
    }
    // ffn_down after silu(gate) * up: scales fold into ffn_up rows
    {
      GroupDef g{b + "ffn_down", b + "ffn_down.weight", {b + "ffn_down.weight"}, b + "ffn_up.weight", true};
      g.k = g.n_scales = k_of(t("ffn_down"));
      const gguf::TensorInfo* up = t("ffn_up");
      if (t("ffn_down") && t("ffn_gate") && up && up->ne.size() == 2 && up->ne[1] == g.k) {
        out.push_back(g);
      } else {
        note(g.name, "needs a gated FFN whose ffn_up rows match ffn_down's inputs");
      }
    }
    // attn_output after attention: scales fold into attn_v rows (one per V row)
    {
      GroupDef g{b + "attn_out", b + "attn_output.weight", {b + "attn_output.weight"}, b + "attn_v.weight", true};
      const gguf::TensorInfo* wo = t("attn_output");
      const gguf::TensorInfo* wv = t("attn_v");
      g.k = k_of(wo);
      if (find_tensor(f, b + "attn_v.bias")) g.prev_bias = b + "attn_v.bias";
      const bool heads_ok = n_head > 0 && n_head_kv > 0 && n_head % n_head_kv == 0 && g.k % n_head == 0;
      if (wo && wv && heads_ok && wv->ne.size() == 2 && wv->ne[1] * n_head == g.k * n_head_kv) {
        g.head_dim = g.k / n_head;
        g.gqa = n_head / n_head_kv;
        g.n_scales = wv->ne[1];
        out.push_back(g);
      } else {
        note(g.name, fmt::format("attn_output skipped: V rows cannot carry its input scales "
                                 "(n_head {}, n_head_kv {}, attn_output k {})", n_head, n_head_kv, g.k));
      }
    }
  }
  return out;
}

// Quantizes rows (rows, k) to `type` and back to F32 with the file writer's own quantizer
// (`qw`: per-column importance [k] as the writer passes it, or nullptr).
void quant_dequant(const float* w, int64_t rows, int64_t k, DType type, const float* qw, float* out,
                   ThreadPool& pool) {
  const QuantizeFn qfn = quantize_fn(type);
  const TypeTraits& tr = traits(type);
  const size_t rs = row_size(type, k);
  pool.parallel_for(rows, 8, [&](int64_t r0, int64_t r1, int) {
    std::vector<uint8_t> buf(rs);
    for (int64_t r = r0; r < r1; ++r) {
      if (qfn) {
        qfn(w + r * k, buf.data(), 1, k, qw);
      } else {
        tr.from_float(w + r * k, buf.data(), k);
      }
      tr.to_float(buf.data(), out + r * k, k);
    }
  });
}

// Σ_rows w_r Δ_r H Δ_rᵀ for Δ (rows, k), H (k, k) and row weights w (empty: all 1).
double output_error(const float* delta, int64_t rows, int64_t k, const RowMat& h, ThreadPool& pool,
                    const std::vector<double>& row_w = {}) {
  std::vector<double> part(static_cast<size_t>(rows), 0.0);
  pool.parallel_for(rows, 16, [&](int64_t r0, int64_t r1, int) {
    Eigen::Map<const RowMat> d(delta + r0 * k, r1 - r0, k);
    const RowMat dh = d * h;
    for (int64_t r = r0; r < r1; ++r) {
      part[static_cast<size_t>(r)] = static_cast<double>(dh.row(r - r0).dot(d.row(r - r0))) *
                                     (row_w.empty() ? 1.0 : row_w[static_cast<size_t>(r)]);
    }
  });
  double s = 0;
  for (double v : part) s += v;
  return s;
}

struct GroupWeight {
  std::string name;
  DType type;
  int64_t rows = 0;
  std::vector<float> w;  // (rows, k) original
  bool clip = false;
  bool score = false;    // attn_q / attn_k: its output enters the attention scores
  // Score weights: E[k_r²] (attn_q row r) or Σ over the query heads sharing it of E[q_r²]
  // (attn_k row r), so that Σ_r w_r Δ_r H Δ_rᵀ is the squared error of the attention scores q·k
  // that Δ causes (other rows' cross terms and RoPE's rotation left out).
  std::vector<double> row_w;
};

// How a group's weights are quantized: scales (k, expanded) and optional importance (k).
struct Candidate {
  std::vector<float> s_full;
  std::vector<float> imp;  // empty: unweighted quantizer
  bool plain_scores = false;  // attn_q / attn_k keep the unweighted quantizer
  const float* qw(const GroupWeight& wt) const {
    return imp.empty() || (wt.score && plain_scores) ? nullptr : imp.data();
  }
};

// Error of quantizing `scaled` (rows, k, already multiplied by s) and dividing by s again.
// Leaves Δ = Q(scaled) / s - W in `tmp`.
double scaled_error(const GroupWeight& wt, const std::vector<float>& scaled, const Candidate& cand,
                    int64_t k, const RowMat& h, ThreadPool& pool, std::vector<float>& tmp) {
  const std::vector<float>& s_full = cand.s_full;
  tmp.resize(scaled.size());
  quant_dequant(scaled.data(), wt.rows, k, wt.type, cand.qw(wt), tmp.data(), pool);
  for (int64_t r = 0; r < wt.rows; ++r) {
    for (int64_t c = 0; c < k; ++c) {
      const size_t i = static_cast<size_t>(r * k + c);
      tmp[i] = tmp[i] / s_full[static_cast<size_t>(c)] - wt.w[i];
    }
  }
  return output_error(tmp.data(), wt.rows, k, h, pool, wt.row_w);
}

// Per (row, 32-group) range shrink: keeps, per group, the ratio with the lowest Δ_g H_gg Δ_gᵀ.
std::vector<float> clip_search(const GroupWeight& wt, const std::vector<float>& scaled,
                               const Candidate& cand, int64_t k, const RowMat& h,
                               const AwqOptions& o, ThreadPool& pool) {
  const std::vector<float>& s_full = cand.s_full;
  const int64_t n_groups = k / kClipGroup;
  std::vector<float> maxabs(static_cast<size_t>(wt.rows * n_groups), 0.0f);
  for (int64_t r = 0; r < wt.rows; ++r) {
    for (int64_t g = 0; g < n_groups; ++g) {
      float m = 0;
      for (int64_t c = g * kClipGroup; c < (g + 1) * kClipGroup; ++c) m = std::max(m, std::fabs(scaled[r * k + c]));
      maxabs[static_cast<size_t>(r * n_groups + g)] = m;
    }
  }
  std::vector<double> best_err(maxabs.size(), std::numeric_limits<double>::infinity());
  std::vector<float> best_ratio(maxabs.size(), 1.0f);
  std::vector<float> clipped(scaled.size()), deq(scaled.size());
  for (int step = 0; step < o.clip_grid; ++step) {
    const float ratio = 1.0f - (1.0f - o.clip_min) * static_cast<float>(step) / static_cast<float>(o.clip_grid);
    for (int64_t r = 0; r < wt.rows; ++r) {
      for (int64_t c = 0; c < k; ++c) {
        const float lim = ratio * maxabs[static_cast<size_t>(r * n_groups + c / kClipGroup)];
        clipped[r * k + c] = std::clamp(scaled[r * k + c], -lim, lim);
      }
    }
    quant_dequant(clipped.data(), wt.rows, k, wt.type, cand.qw(wt), deq.data(), pool);
    pool.parallel_for(wt.rows, 8, [&](int64_t r0, int64_t r1, int) {
      float d[kClipGroup];
      for (int64_t r = r0; r < r1; ++r) {
        for (int64_t g = 0; g < n_groups; ++g) {
          const int64_t c0 = g * kClipGroup;
          for (int64_t a = 0; a < kClipGroup; ++a) {
            const size_t i = static_cast<size_t>(r * k + c0 + a);
            d[a] = deq[i] / s_full[static_cast<size_t>(c0 + a)] - wt.w[i];
          }
          double e = 0;
          for (int64_t a = 0; a < kClipGroup; ++a) {
            double row = 0;
            for (int64_t b = 0; b < kClipGroup; ++b) row += static_cast<double>(h(c0 + a, c0 + b)) * d[b];
            e += row * d[a];
          }
          const size_t gi = static_cast<size_t>(r * n_groups + g);
          if (e < best_err[gi]) best_err[gi] = e, best_ratio[gi] = ratio;
        }
      }
    });
  }
  std::vector<float> out(scaled.size());
  for (int64_t r = 0; r < wt.rows; ++r) {
    for (int64_t c = 0; c < k; ++c) {
      const size_t gi = static_cast<size_t>(r * n_groups + c / kClipGroup);
      const float lim = best_ratio[gi] * maxabs[gi];
      out[r * k + c] = std::clamp(scaled[r * k + c], -lim, lim);
    }
  }
  return out;
}

// Working copies of tensors being rewritten.
class Overrides {
 public:
  explicit Overrides(const gguf::File& f) : f_(f) {}
  Result<std::vector<float>*> get(const std::string& name) {
    auto it = work_.find(name);
    if (it != work_.end()) return &it->second;
    const gguf::TensorInfo* t = find_tensor(f_, name);
    if (!t) return Error(ErrorCode::kNotFound, "tensor not found").where(name);
    QUORUM_ASSIGN_OR_RETURN(std::vector<float> v, to_f32(*t));
    return &(work_[name] = std::move(v));
  }
  TensorOverrides finish() {
    TensorOverrides out;
    for (auto& [k, v] : work_) out[k] = std::make_shared<const std::vector<float>>(std::move(v));
    return out;
  }

 private:
  const gguf::File& f_;
  std::map<std::string, std::vector<float>> work_;
};

// Divides the preceding norm (or rows + bias) by s: s has n_scales entries.
Status fold_prev(Overrides& ov, const GroupDef& g, const std::vector<float>& s) {
  QUORUM_ASSIGN_OR_RETURN(std::vector<float>* prev, ov.get(g.prev));
  if (!g.prev_rows) {
    for (size_t c = 0; c < s.size(); ++c) (*prev)[c] /= s[c];
    return Status::ok();
  }
  const int64_t row_len = static_cast<int64_t>(prev->size()) / static_cast<int64_t>(s.size());
  for (size_t j = 0; j < s.size(); ++j) {
    for (int64_t c = 0; c < row_len; ++c) (*prev)[j * row_len + c] /= s[j];
  }
  if (!g.prev_bias.empty()) {
    QUORUM_ASSIGN_OR_RETURN(std::vector<float>* bias, ov.get(g.prev_bias));
    for (size_t j = 0; j < s.size(); ++j) (*bias)[j] /= s[j];
  }
  return Status::ok();
}

std::vector<float> expand_scales(const GroupDef& g, const std::vector<float>& s) {
  std::vector<float> full(static_cast<size_t>(g.k));
  for (int64_t c = 0; c < g.k; ++c) full[static_cast<size_t>(c)] = s[static_cast<size_t>(g.expand(c))];
  return full;
}

}  // namespace

void AwqInputStats::add(const float* x, int64_t rows, int64_t cols, ThreadPool* pool) {
  if (k == 0) {
    k = cols;
    sum_abs.assign(static_cast<size_t>(k), 0.0);
    gram.assign(static_cast<size_t>(k * k), 0.0f);
  }
  if (cols != k || rows <= 0) return;
  for (int64_t r = 0; r < rows && sample_rows < kSampleRows; ++r) {
    if ((n + r) % kSampleStride != 0) continue;
    sample.insert(sample.end(), x + r * k, x + (r + 1) * k);
    ++sample_rows;
  }
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < k; ++c) sum_abs[static_cast<size_t>(c)] += std::fabs(x[r * k + c]);
  }
  n += rows;
  Eigen::Map<const RowMat> xm(x, rows, k);
  Eigen::Map<RowMat> gm(gram.data(), k, k);
  if (!pool) {
    gm.noalias() += xm.transpose() * xm;
    return;
  }
  pool->parallel_for(k, 16, [&](int64_t c0, int64_t c1, int) {
    gm.middleRows(c0, c1 - c0).noalias() += xm.middleCols(c0, c1 - c0).transpose() * xm;
  });
}

void AwqCollector::on_linear_input(const LinearInput& in) {
  if (in.layer < 0 || in.weights.empty()) return;
  stats_[in.weights.front()].add(in.x, in.n, in.k, pool_);
}

std::vector<std::pair<std::string, int64_t>> awq_groups(const gguf::File& file,
                                                        std::map<std::string, std::string>* notes) {
  std::vector<std::pair<std::string, int64_t>> out;
  for (const GroupDef& g : group_defs(file, notes)) out.emplace_back(g.name, g.n_scales);
  return out;
}

Result<TensorOverrides> awq_fold(const gguf::File& file,
                                 const std::map<std::string, std::vector<float>>& scales) {
  Overrides ov(file);
  for (const GroupDef& g : group_defs(file, nullptr)) {
    auto it = scales.find(g.name);
    if (it == scales.end()) continue;
    const std::vector<float>& s = it->second;
    if (static_cast<int64_t>(s.size()) != g.n_scales) {
      return Error(ErrorCode::kInvalidArgument, "wrong number of AWQ scales")
          .where(g.name).expected(std::to_string(g.n_scales)).actual(std::to_string(s.size()));
    }
    const std::vector<float> full = expand_scales(g, s);
    for (const std::string& wn : g.weights) {
      QUORUM_ASSIGN_OR_RETURN(std::vector<float>* w, ov.get(wn));
      const int64_t rows = static_cast<int64_t>(w->size()) / g.k;
      for (int64_t r = 0; r < rows; ++r) {
        for (int64_t c = 0; c < g.k; ++c) (*w)[r * g.k + c] *= full[static_cast<size_t>(c)];
      }
    }
    QUORUM_TRY(fold_prev(ov, g, s));
  }
  return ov.finish();
}

Result<AwqResult> awq_search(const gguf::File& file, const std::map<std::string, DType>& types,
                             const std::map<std::string, AwqInputStats>& stats,
                             const AwqOptions& o, ThreadPool& pool) {
  if (o.grid < 1 || o.clip_grid < 1 || o.clip_min <= 0.0f || o.clip_min > 1.0f) {
    return Error(ErrorCode::kInvalidArgument, "bad AWQ search grid")
        .expected("grid >= 1, clip_grid >= 1, 0 < clip_min <= 1");
  }
  std::map<std::string, std::string> notes;
  const std::vector<GroupDef> defs = group_defs(file, &notes);
  AwqResult res;
  for (const auto& [name, why] : notes) {
    AwqGroupReport skipped;
    skipped.name = name;
    skipped.note = why;
    res.groups.push_back(skipped);
  }
  Overrides ov(file);
  for (const GroupDef& g : defs) {
    AwqGroupReport rep;
    rep.name = g.name;
    if ((!o.only.empty() && g.name.find(o.only) == std::string::npos) ||
        (!o.skip.empty() && g.name.find(o.skip) != std::string::npos)) {
      rep.note = "not selected (AwqOptions::only / skip)";
      res.groups.push_back(rep);
      continue;
    }
    auto st = stats.find(g.stats_key);
    if (st == stats.end() || st->second.n == 0 || st->second.k != g.k) {
      return Error(ErrorCode::kInvalidArgument, "no calibration activations for an AWQ group")
          .where(g.name + " (input of " + g.stats_key + ")")
          .hint("the calibration run must pass every layer of this model");
    }
    const AwqInputStats& in = st->second;
    std::vector<GroupWeight> ws;
    for (const std::string& wn : g.weights) {
      auto ti = types.find(wn);
      if (ti == types.end() || !traits(ti->second).quantized) continue;
      const gguf::TensorInfo* t = find_tensor(file, wn);
      QUORUM_ASSIGN_OR_RETURN(std::vector<float> w, to_f32(*t));
      const bool score = wn.find("attn_q.") != std::string::npos || wn.find("attn_k.") != std::string::npos;
      const bool clip = o.clip && g.k % kClipGroup == 0 && !score;
      ws.push_back({wn, ti->second, t->n_rows(), std::move(w), clip, score, {}});
    }
    if (ws.empty()) {
      rep.note = "no weight of the group is block-quantized";
      res.groups.push_back(rep);
      continue;
    }
    // H = XᵀX / n; mean |x| per scale (V rows of attn_out average over the heads sharing them).
    RowMat h = Eigen::Map<const RowMat>(in.gram.data(), g.k, g.k) / static_cast<float>(in.n);
    std::vector<double> m(static_cast<size_t>(g.n_scales), 0.0), cnt(m.size(), 0.0);
    for (int64_t c = 0; c < g.k; ++c) {
      m[static_cast<size_t>(g.expand(c))] += in.sum_abs[static_cast<size_t>(c)] / static_cast<double>(in.n);
      cnt[static_cast<size_t>(g.expand(c))] += 1.0;
    }
    for (size_t j = 0; j < m.size(); ++j) m[j] = std::max(m[j] / std::max(cnt[j], 1.0), 1e-4);
    // attn_q/attn_k errors reach the output through the attention scores q·k: their linear output
    // error alone does not predict the KL divergence (docs/QUANT.md). When the group is scaled,
    // they are measured as score errors (row weights from the other side's energy per head dim).
    bool has_scores = false;
    for (const GroupWeight& wt : ws) has_scores |= wt.score;
    // Without scale_scores the attn_q/k/v group keeps s = 1; its only remaining choice, attn_v's
    // importance weights, was scored by attn_v's own output error, which raised qt-qwen's KL
    // (Q3_K_M +0.00004, p < 0.001; docs/QUANT.md) as the per-linear errors of q/k and gate/up
    // did. With no attention-block objective, the group stays plain RTN.
    if (has_scores && !o.scale_scores) {
      rep.note = "attn_q/k/v kept RTN (no attention-block objective; scale_scores searches it)";
      res.groups.push_back(rep);
      continue;
    }
    const bool score_objective = has_scores && o.scale_scores && g.n_head > 0 && ws.size() == 3;
    if (score_objective) {
      auto row_energy = [&](const GroupWeight& wt) {  // E[(W x)_r²] = W_r H W_rᵀ
        Eigen::Map<const RowMat> w(wt.w.data(), wt.rows, g.k);
        const RowMat wh = w * h;
        std::vector<double> e(static_cast<size_t>(wt.rows));
        for (int64_t r = 0; r < wt.rows; ++r) e[static_cast<size_t>(r)] = wh.row(r).dot(w.row(r));
        return e;
      };
      GroupWeight& q = ws[0];
      GroupWeight& kw = ws[1];
      const int64_t hd = q.rows / g.n_head, gqa = g.n_head / g.n_head_kv;
      if (q.score && kw.score && q.rows == g.n_head * hd && kw.rows == g.n_head_kv * hd) {
        const std::vector<double> eq = row_energy(q), ek = row_energy(kw);
        q.row_w.assign(static_cast<size_t>(q.rows), 0.0);
        kw.row_w.assign(static_cast<size_t>(kw.rows), 0.0);
        for (int64_t r = 0; r < q.rows; ++r) {
          const int64_t kr = (r / hd) / gqa * hd + r % hd;
          q.row_w[static_cast<size_t>(r)] = ek[static_cast<size_t>(kr)];
          kw.row_w[static_cast<size_t>(kr)] += eq[static_cast<size_t>(r)];
        }
      }
    }
    // Objective: the sum of the weights' errors; with score errors, whose unit differs, the sum of
    // each part's error relative to RTN's (q and k together, v).
    auto unit_of = [&](size_t i) { return score_objective && ws[i].score ? size_t{0} : i + 1; };
    auto combine = [&](const std::vector<double>& e, const std::vector<double>& rtn) {
      if (!score_objective) {
        double sum = 0;
        for (double v : e) sum += v;
        return sum;
      }
      std::map<size_t, std::pair<double, double>> units;
      for (size_t i = 0; i < e.size(); ++i) units[unit_of(i)].first += e[i], units[unit_of(i)].second += rtn[i];
      double sum = 0;
      for (const auto& [u, er] : units) sum += er.first / std::max(er.second, 1e-30);
      return sum;
    };

    // Held-out inputs (diagnostics only).
    RowMat h_hold;
    if (o.holdout) {
      auto hs = o.holdout->find(g.stats_key);
      if (hs != o.holdout->end() && hs->second.n > 0 && hs->second.k == g.k) {
        h_hold = Eigen::Map<const RowMat>(hs->second.gram.data(), g.k, g.k) / static_cast<float>(hs->second.n);
      }
    }
    auto scale_weights = [&](const GroupWeight& wt, const std::vector<float>& full, std::vector<float>& out) {
      out = wt.w;
      for (int64_t r = 0; r < wt.rows; ++r) {
        for (int64_t c = 0; c < g.k; ++c) out[r * g.k + c] *= full[static_cast<size_t>(c)];
      }
    };
    // Candidate α: s = m^α normalized; with importance, the quantizer weighs column c by
    // E[x_c²] / s_c² (the input of the scaled weights is x / s).
    auto make_candidate = [&](double alpha, bool with_importance) {
      std::vector<float> s(m.size());
      double smax = 0, smin = std::numeric_limits<double>::infinity();
      for (size_t j = 0; j < m.size(); ++j) {
        const double v = std::max(std::pow(m[j], alpha), 1e-4);
        s[j] = static_cast<float>(v);
        smax = std::max(smax, v), smin = std::min(smin, v);
      }
      const double norm = std::sqrt(smax * smin);
      for (float& v : s) v = static_cast<float>(v / norm);
      Candidate cand;
      cand.s_full = expand_scales(g, s);
      if (with_importance) {
        cand.imp.resize(static_cast<size_t>(g.k));
        for (int64_t c = 0; c < g.k; ++c) {
          const double sc = cand.s_full[static_cast<size_t>(c)];
          cand.imp[static_cast<size_t>(c)] = static_cast<float>(std::max(static_cast<double>(h(c, c)), 1e-12) / (sc * sc));
        }
      }
      return std::make_pair(std::move(s), std::move(cand));
    };
    // The FFN block objective (AwqOptions::block_objective): gate = ws[0], up = ws[1], ffn_down
    // unquantized; x = the sampled inputs [ns, k].
    const bool ffn_block = o.block_objective && in.sample_rows > 0 && ws.size() == 2 &&
                           ws[0].name.find("ffn_gate.") != std::string::npos &&
                           ws[1].name.find("ffn_up.") != std::string::npos;
    RowMat down, y_ref;
    Eigen::Map<const RowMat> xs(in.sample.data(), in.sample_rows, g.k);
    auto silu_mul = [](const RowMat& a, const RowMat& b) {  // silu(a) ⊙ b
      RowMat y(a.rows(), a.cols());
      for (int64_t i = 0; i < a.size(); ++i) {
        const float v = a.data()[i];
        y.data()[i] = v / (1.f + std::exp(-v)) * b.data()[i];
      }
      return y;
    };
    if (ffn_block) {
      const std::string dn = ws[0].name.substr(0, ws[0].name.find("ffn_gate.")) + "ffn_down.weight";
      const gguf::TensorInfo* dt = find_tensor(file, dn);
      if (dt && dt->ne.size() == 2 && dt->ne[0] == ws[0].rows) {
        QUORUM_ASSIGN_OR_RETURN(std::vector<float> dw, to_f32(*dt));
        down = Eigen::Map<const RowMat>(dw.data(), dt->ne[1], dt->ne[0]);  // [dim, ff]
        const RowMat gx = xs * Eigen::Map<const RowMat>(ws[0].w.data(), ws[0].rows, g.k).transpose();
        const RowMat ux = xs * Eigen::Map<const RowMat>(ws[1].w.data(), ws[1].rows, g.k).transpose();
        y_ref = silu_mul(gx, ux) * down.transpose();  // [ns, dim]
      }
    }
    const bool use_block = y_ref.size() > 0;
    // Block output error of the candidate: effective weights Q(W s) / s on the sampled inputs.
    auto block_error = [&](const Candidate& cand) {
      std::vector<float> sc, q0, q1;
      scale_weights(ws[0], cand.s_full, sc);
      q0.resize(sc.size());
      quant_dequant(sc.data(), ws[0].rows, g.k, ws[0].type, cand.qw(ws[0]), q0.data(), pool);
      scale_weights(ws[1], cand.s_full, sc);
      q1.resize(sc.size());
      quant_dequant(sc.data(), ws[1].rows, g.k, ws[1].type, cand.qw(ws[1]), q1.data(), pool);
      for (std::vector<float>* q : {&q0, &q1}) {
        const int64_t rows = static_cast<int64_t>(q->size()) / g.k;
        for (int64_t r = 0; r < rows; ++r) {
          for (int64_t c = 0; c < g.k; ++c) (*q)[r * g.k + c] /= cand.s_full[static_cast<size_t>(c)];
        }
      }
      const RowMat gx = xs * Eigen::Map<const RowMat>(q0.data(), ws[0].rows, g.k).transpose();
      const RowMat ux = xs * Eigen::Map<const RowMat>(q1.data(), ws[1].rows, g.k).transpose();
      const RowMat d = silu_mul(gx, ux) * down.transpose() - y_ref;
      return static_cast<double>(d.squaredNorm());
    };
    // Unless asked, a group with attn_q/attn_k keeps s = 1 and they keep the unweighted quantizer.
    const int grid = has_scores && !o.scale_scores ? 1 : o.grid;
    std::vector<float> best_s, tmp, scaled;
    Candidate best_cand;
    double best = std::numeric_limits<double>::infinity();
    std::vector<double> rtn_err(ws.size(), 0.0), err_w(ws.size(), 0.0);
    // Plain RTN first (α = 0, unweighted), then the α grid (weighted when importance is on).
    for (int step = -1; step < grid; ++step) {
      if (step == -1 && !o.importance) continue;
      const double alpha = step < 0 ? 0.0 : static_cast<double>(step) / o.grid;
      auto [s, cand] = make_candidate(alpha, step >= 0 && o.importance);
      cand.plain_scores = !o.scale_scores;
      for (size_t i = 0; i < ws.size(); ++i) {
        scale_weights(ws[i], cand.s_full, scaled);
        err_w[i] = scaled_error(ws[i], scaled, cand, g.k, h, pool, tmp);
      }
      const bool is_rtn = step == -1 || (step == 0 && !o.importance);
      if (is_rtn) rtn_err = err_w;
      const double err = use_block ? block_error(cand) : combine(err_w, rtn_err);
      if (is_rtn) rep.error_rtn = err;
      // A candidate may not trade one part's error for another's (q/k for v, gate for up):
      // their errors reach the model's output through different paths.
      bool admissible = true;
      if (o.per_weight && !is_rtn && !use_block) {
        std::map<size_t, std::pair<double, double>> units;
        for (size_t i = 0; i < ws.size(); ++i) units[unit_of(i)].first += err_w[i], units[unit_of(i)].second += rtn_err[i];
        for (const auto& [u, er] : units) admissible &= er.first <= er.second;
      }
      if (admissible && err < best) {
        best = err, best_s = std::move(s), best_cand = std::move(cand), rep.alpha = alpha;
        rep.importance = !best_cand.imp.empty();
      }
    }
    // Final weights: scaled, optionally clipped; their error is what the file will have.
    const std::vector<float>& full = best_cand.s_full;
    std::vector<double> final_w;
    for (const GroupWeight& wt : ws) {
      scale_weights(wt, full, scaled);
      if (wt.clip && !use_block) {  // the clip search scores per-linear error; not the block's
        std::vector<float> clipped = clip_search(wt, scaled, best_cand, g.k, h, o, pool);
        const double e_clip = scaled_error(wt, clipped, best_cand, g.k, h, pool, tmp);
        const double e_plain = scaled_error(wt, scaled, best_cand, g.k, h, pool, tmp);
        if (e_clip < e_plain) scaled = std::move(clipped);
        final_w.push_back(std::min(e_clip, e_plain));
      } else {
        final_w.push_back(scaled_error(wt, scaled, best_cand, g.k, h, pool, tmp));
      }
      if (h_hold.size() > 0) {
        rep.holdout_awq += scaled_error(wt, scaled, best_cand, g.k, h_hold, pool, tmp);
        std::vector<float> plain;
        const Candidate rtn{std::vector<float>(static_cast<size_t>(g.k), 1.0f), {}};
        scale_weights(wt, rtn.s_full, plain);
        rep.holdout_rtn += scaled_error(wt, plain, rtn, g.k, h_hold, pool, tmp);
      }
      if (best_cand.qw(wt)) {
        res.importance[wt.name] = std::make_shared<const std::vector<float>>(best_cand.imp);
      }
      QUORUM_ASSIGN_OR_RETURN(std::vector<float>* w, ov.get(wt.name));
      *w = std::move(scaled);
    }
    // Weights of the group that stay unquantized still need the scale for the fold to hold.
    for (const std::string& wn : g.weights) {
      bool done = false;
      for (const GroupWeight& wt : ws) done |= wt.name == wn;
      if (done) continue;
      QUORUM_ASSIGN_OR_RETURN(std::vector<float>* w, ov.get(wn));
      const int64_t rows = static_cast<int64_t>(w->size()) / g.k;
      for (int64_t r = 0; r < rows; ++r) {
        for (int64_t c = 0; c < g.k; ++c) (*w)[r * g.k + c] *= full[static_cast<size_t>(c)];
      }
    }
    QUORUM_TRY(fold_prev(ov, g, best_s));
    rep.applied = true;
    rep.error_awq = use_block ? best : combine(final_w, rtn_err);
    res.groups.push_back(rep);
  }
  res.overrides = ov.finish();
  return res;
}

}  // namespace quorum::quant
