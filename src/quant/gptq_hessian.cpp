// GPTQ's calibration side (see gptq.h): Hessian accumulation from the engine's linear-layer
// inputs, and the window of layers whose Hessians are held at once.
#include <fmt/format.h>

#include <Eigen/Cholesky>
#include <Eigen/Core>
#include <algorithm>
#include <set>

#include "quant/gptq.h"
#include "quant/gptq_grid.h"
#include "tensor/quant_ref.h"

namespace quorum::quant {
namespace {

using MatF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic>;

constexpr const char* kObserved[] = {"attn_q",    "attn_k", "attn_v",  "attn_qkv",
                                     "attn_output", "ffn_gate", "ffn_up", "ffn_down"};

// Which input a weight multiplies: weights sharing an input share a Hessian.
std::string input_kind(const std::string& short_name) {
  if (short_name == "attn_k" || short_name == "attn_v" || short_name == "attn_qkv") return "attn_q";
  if (short_name == "ffn_up") return "ffn_gate";
  return short_name;
}

std::string short_name(const std::string& weight_name) {
  const size_t dot = weight_name.find('.', 4);
  const std::string rest = dot == std::string::npos ? "" : weight_name.substr(dot + 1);
  const size_t end = rest.rfind(".weight");
  return end == std::string::npos ? rest : rest.substr(0, end);
}

// Layer 0's attention input (attn_norm of the token embedding): the one linear input that is a
// function of the token alone.
bool is_layer0_attention(int64_t layer, const std::string& weight_name) {
  return layer == 0 && input_kind(short_name(weight_name)) == "attn_q";
}

// H += Σ x xᵀ over the n rows of x [n, k] row-major (= Xᵀ [k, n]), lower triangle only, in
// column panels spread over the pool.
void accumulate_rows(Hessian& h, const float* x, int64_t n, ThreadPool& pool) {
  const int64_t k = h.k;
  Eigen::Map<const MatF> xt(x, k, n);
  Eigen::Map<MatF> hm(h.sum.data(), k, k);
  constexpr int64_t kPanel = 64;
  const int64_t n_panels = (k + kPanel - 1) / kPanel;
  pool.run_on_all([&](int t, int n_threads) {
    for (int64_t pnl = t; pnl < n_panels; pnl += n_threads) {
      const int64_t j0 = pnl * kPanel, w = std::min(kPanel, k - j0);
      hm.block(j0, j0, k - j0, w).noalias() +=
          xt.middleRows(j0, k - j0) * xt.middleRows(j0, w).transpose();
    }
  });
  h.n += n;
}

// Forwards every input to `inner` and keeps a copy of layer 0's attention input rows.
class Layer0Recorder : public ActivationObserver {
 public:
  Layer0Recorder(ActivationObserver& inner, std::vector<float>& rows) : inner_(inner), rows_(rows) {}
  void on_linear_input(const LinearInput& in) override {
    inner_.on_linear_input(in);
    if (in.weights.empty() || !is_layer0_attention(in.layer, in.weights[0])) return;
    rows_.insert(rows_.end(), in.x, in.x + in.n * in.k);
  }
  bool observes_output() const override { return inner_.observes_output(); }

 private:
  ActivationObserver& inner_;
  std::vector<float>& rows_;
};

// The pass with the quantized embedding table: pairs its layer-0 attention rows x̃ with the
// recorded unquantized rows x of the same tokens (both passes run the same chunks in order).
class EmbeddingObserver : public ActivationObserver {
 public:
  EmbeddingObserver(const std::vector<float>& x, int64_t k) : x_(x), k_(k) {
    qq_ = Eigen::MatrixXd::Zero(k, k);
    qx_ = Eigen::MatrixXd::Zero(k, k);
  }
  void on_linear_input(const LinearInput& in) override {
    if (in.weights.empty() || !is_layer0_attention(in.layer, in.weights[0])) return;
    if (in.k != k_ || static_cast<size_t>((n_ + in.n) * k_) > x_.size()) {
      mismatch_ = true;
      return;
    }
    // Column-major [k, n] views of the row-major [n, k] rows.
    const Eigen::MatrixXd xq =
        Eigen::Map<const Eigen::MatrixXf>(in.x, k_, in.n).cast<double>();
    const Eigen::MatrixXd xo =
        Eigen::Map<const Eigen::MatrixXf>(x_.data() + n_ * k_, k_, in.n).cast<double>();
    qq_.noalias() += xq * xq.transpose();
    qx_.noalias() += xq * xo.transpose();
    n_ += in.n;
  }
  bool observes_output() const override { return false; }
  bool complete() const { return !mismatch_ && static_cast<size_t>(n_ * k_) == x_.size(); }
  int64_t n() const { return n_; }
  Eigen::MatrixXd& qq() { return qq_; }
  Eigen::MatrixXd& qx() { return qx_; }

 private:
  const std::vector<float>& x_;
  int64_t k_ = 0, n_ = 0;
  bool mismatch_ = false;
  Eigen::MatrixXd qq_, qx_;  // Σ x̃ x̃ᵀ, Σ x̃ xᵀ
};

}  // namespace

std::optional<int64_t> observed_layer(const std::string& name) {
  if (name == "output.weight") return -1;
  if (name.rfind("blk.", 0) != 0) return std::nullopt;
  const size_t dot = name.find('.', 4);
  if (dot == std::string::npos || dot == 4) return std::nullopt;
  int64_t layer = 0;
  for (size_t i = 4; i < dot; ++i) {
    if (name[i] < '0' || name[i] > '9') return std::nullopt;
    layer = layer * 10 + (name[i] - '0');
  }
  const std::string s = short_name(name);
  for (const char* o : kObserved) {
    if (s == o && name == fmt::format("blk.{}.{}.weight", layer, s)) return layer;
  }
  return std::nullopt;
}

HessianCollector::HessianCollector(std::vector<int64_t> layers, ThreadPool& pool)
    : layers_(std::move(layers)), pool_(pool) {}

void HessianCollector::on_linear_input(const LinearInput& in) {
  if (in.weights.empty() || in.n <= 0) return;
  if (std::find(layers_.begin(), layers_.end(), in.layer) == layers_.end()) return;
  if (in.weights[0] == "token_embd.weight") return;  // tied output: also the embedding table
  std::shared_ptr<Hessian>& slot = by_weight_[in.weights[0]];
  if (!slot) {
    slot = std::make_shared<Hessian>();
    slot->k = in.k;
    slot->sum.assign(static_cast<size_t>(in.k * in.k), 0.0f);
    for (const std::string& w : in.weights) by_weight_[w] = slot;
  }
  Hessian& h = *slot;
  if (h.k != in.k) return;  // a shape change would be an engine bug; keep what we have
  accumulate_rows(h, in.x, in.n, pool_);
}

bool HessianCollector::observes_output() const {
  return std::find(layers_.begin(), layers_.end(), -1) != layers_.end();
}

const Hessian* HessianCollector::find(const std::string& weight_name) const {
  auto it = by_weight_.find(weight_name);
  return it == by_weight_.end() ? nullptr : it->second.get();
}

uint64_t HessianCollector::bytes() const {
  std::set<const Hessian*> seen;
  uint64_t total = 0;
  for (const auto& [name, h] : by_weight_) {
    if (seen.insert(h.get()).second) total += h->sum.size() * sizeof(float);
  }
  return total;
}

GptqQuantizer::GptqQuantizer(const gguf::File& file, CalibrationRun run, GptqOptions options,
                             ThreadPool& pool)
    : run_(std::move(run)), options_(options), pool_(pool), file_(file) {
  std::set<std::pair<int64_t, std::string>> inputs;
  for (const gguf::TensorInfo& t : file.tensors()) {
    const auto layer = observed_layer(t.name);
    if (!layer || t.ne.size() != 2) continue;
    const std::string kind = *layer < 0 ? "output" : input_kind(short_name(t.name));
    if (inputs.insert({*layer, kind}).second) {
      layer_bytes_[*layer] += static_cast<uint64_t>(t.ne[0] * t.ne[0]) * sizeof(float);
    }
  }
}

bool GptqQuantizer::handles(const std::string& name, DType type) const {
  if (name == "token_embd.weight") {
    return options_.embedding_rounding && BlockGrid::find(type) != nullptr &&
           quantize_fn(type) != nullptr;
  }
  const auto layer = observed_layer(name);
  return layer && layer_bytes_.count(*layer) && BlockGrid::find(type) != nullptr &&
         quantize_fn(type) != nullptr;
}

Status GptqQuantizer::load_window(int64_t layer) {
  window_.reset();  // free the previous window's Hessians first
  window_layers_.clear();
  uint64_t bytes = 0;
  for (auto it = layer_bytes_.find(layer); it != layer_bytes_.end(); ++it) {
    if (!window_layers_.empty() && bytes + it->second > options_.max_hessian_bytes) break;
    // Sequential: a window ends before the first layer whose inputs depend on quantized layers
    // of the window (output.weight, quantized first, shares the window of layer 0).
    if (sequential() && !window_layers_.empty() && window_layers_.back() >= 0) break;
    window_layers_.push_back(it->first);
    bytes += it->second;
  }
  window_ = std::make_unique<HessianCollector>(window_layers_, pool_);
  ++passes_;
  const bool compensate = options_.embedding_compensation && run_with_ && embedding_type_ &&
                          quantize_fn(*embedding_type_) != nullptr &&
                          std::find(window_layers_.begin(), window_layers_.end(), 0) !=
                              window_layers_.end();
  if (!compensate) {
    if (sequential()) return run_with_(*window_, done_);
    return run_(*window_);
  }
  layer0_x_.clear();
  Layer0Recorder recorder(*window_, layer0_x_);
  QUORUM_TRY(sequential() ? run_with_(recorder, done_) : run_(recorder));
  return embedding_pass();
}

Result<Hessian> embedding_hessian(const gguf::File& file, ThreadPool& pool) {
  const gguf::TensorInfo* e = file.find_tensor("token_embd.weight");
  if (e == nullptr || e->ne.size() != 2) {
    return Error(ErrorCode::kInvalidArgument, "GPTQ: the model has no 2-D token_embd.weight");
  }
  Hessian h;
  h.k = e->ne[0];
  h.sum.assign(static_cast<size_t>(h.k * h.k), 0.0f);
  constexpr int64_t kRowsPerStep = 256;
  for (const auto& [norm_name, kind] : {std::pair{"blk.0.attn_norm.weight", "attn_q"},
                                        std::pair{"blk.0.ffn_norm.weight", "ffn_gate"}}) {
    const gguf::TensorInfo* norm = file.find_tensor(norm_name);
    if (norm == nullptr) continue;
    const TypeTraits& nt = traits(norm->type);
    if (norm->n_elements() != h.k || nt.to_float == nullptr) {
      return Error(ErrorCode::kInvalidArgument, "GPTQ: a norm does not fit the embedding width")
          .where(std::string("tensor '") + norm_name + "'")
          .expected(fmt::format("{} values of a float type", h.k))
          .actual(fmt::format("{} {}", norm->shape_string(), nt.name));
    }
    std::vector<float> gain(static_cast<size_t>(h.k));
    nt.to_float(norm->data, gain.data(), h.k);
    for (const gguf::TensorInfo& t : file.tensors()) {
      const auto layer = observed_layer(t.name);
      if (!layer || *layer != 0 || t.ne.size() != 2 || input_kind(short_name(t.name)) != kind) {
        continue;
      }
      const TypeTraits& tr = traits(t.type);
      if (t.ne[0] != h.k || tr.to_float == nullptr) {
        return Error(ErrorCode::kInvalidArgument, "GPTQ: a layer-0 weight does not read the embedding width")
            .where("tensor '" + t.name + "'")
            .expected(fmt::format("rows of {} values of a float type", h.k))
            .actual(fmt::format("{} {}", t.shape_string(), tr.name));
      }
      // Rows of diag(g) Wᵀ, i.e. g ⊙ W[r, :], accumulated like calibration inputs.
      const size_t in_row = row_size(t.type, h.k);
      std::vector<float> rows(static_cast<size_t>(kRowsPerStep * h.k));
      for (int64_t r0 = 0; r0 < t.ne[1]; r0 += kRowsPerStep) {
        const int64_t n = std::min(kRowsPerStep, t.ne[1] - r0);
        for (int64_t r = 0; r < n; ++r) {
          float* row = rows.data() + r * h.k;
          tr.to_float(t.data + (r0 + r) * in_row, row, h.k);
          for (int64_t c = 0; c < h.k; ++c) row[c] *= gain[static_cast<size_t>(c)];
        }
        accumulate_rows(h, rows.data(), n, pool);
      }
    }
  }
  return h;  // h.n == 0: layer 0 has no such weights (the caller rounds the table with RTN)
}

Result<std::shared_ptr<const std::vector<uint8_t>>> gptq_embedding_table(
    const gguf::File& file, DType type, const GptqOptions& options, ThreadPool& pool) {
  using Table = std::shared_ptr<const std::vector<uint8_t>>;
  const gguf::TensorInfo* t = file.find_tensor("token_embd.weight");
  if (t == nullptr || t->ne.size() != 2 || BlockGrid::find(type) == nullptr ||
      quantize_fn(type) == nullptr) {
    return Table{};
  }
  const TypeTraits& src = traits(t->type);
  if (src.to_float == nullptr || src.quantized) return Table{};
  QUORUM_ASSIGN_OR_RETURN(const Hessian h, embedding_hessian(file, pool));
  if (h.n == 0) return Table{};
  const int64_t k = t->ne[0], rows = t->n_rows();
  const size_t in_row = row_size(t->type, k);
  std::vector<float> w(static_cast<size_t>(rows * k));  // [rows, k]
  pool.parallel_for(rows, 64, [&](int64_t r0, int64_t r1, int) {
    for (int64_t r = r0; r < r1; ++r) src.to_float(t->data + r * in_row, w.data() + r * k, k);
  });
  auto table = std::make_shared<std::vector<uint8_t>>(row_size(type, k) * static_cast<size_t>(rows));
  QUORUM_TRY(gptq_quantize(w.data(), rows, k, h, type, options, table->data(), pool));
  return Table(std::move(table));
}

Result<std::shared_ptr<const std::vector<uint8_t>>> GptqQuantizer::embedding_table(DType type) {
  if (embedding_table_ && embedding_table_type_ == type) return embedding_table_;
  std::shared_ptr<const std::vector<uint8_t>> table;
  if (options_.embedding_rounding) {
    QUORUM_ASSIGN_OR_RETURN(table, gptq_embedding_table(file_, type, options_, pool_));
  }
  const gguf::TensorInfo* t = file_.find_tensor("token_embd.weight");
  if (!table && t != nullptr && t->ne.size() == 2 && traits(t->type).to_float != nullptr &&
      !traits(t->type).quantized && quantize_fn(type) != nullptr) {
    // The type's RTN quantizer, row by row, no importance (what the writer stores otherwise).
    const TypeTraits& src = traits(t->type);
    const int64_t k = t->ne[0], rows = t->n_rows();
    const size_t in_row = row_size(t->type, k), out_row = row_size(type, k);
    auto rtn = std::make_shared<std::vector<uint8_t>>(out_row * static_cast<size_t>(rows));
    const QuantizeFn qfn = quantize_fn(type);
    pool_.parallel_for(rows, 64, [&](int64_t r0, int64_t r1, int) {
      std::vector<float> buf(static_cast<size_t>(k));
      for (int64_t r = r0; r < r1; ++r) {
        src.to_float(t->data + r * in_row, buf.data(), k);
        qfn(buf.data(), rtn->data() + r * out_row, 1, k, nullptr);
      }
    });
    table = std::move(rtn);
  }
  embedding_table_ = table;
  embedding_table_type_ = type;
  return table;
}

Status GptqQuantizer::embedding_pass() {
  embedding_input_.reset();
  const Hessian* h = window_->find("blk.0.attn_q.weight");
  if (h == nullptr) h = window_->find("blk.0.attn_qkv.weight");
  if (h == nullptr || layer0_x_.empty()) return Status::ok();
  // The table as the file will store it.
  const DType type = *embedding_type_;
  QUORUM_ASSIGN_OR_RETURN(auto table, embedding_table(type));
  if (!table) return Status::ok();
  EmbeddingObserver obs(layer0_x_, h->k);
  WeightReplacements replaced = sequential() ? done_ : WeightReplacements{};
  replaced["token_embd.weight"] = {type, table};
  ++passes_;
  QUORUM_TRY(run_with_(obs, replaced));
  if (!obs.complete()) {
    return Error(ErrorCode::kInternal, "GPTQ: the embedding pass saw other tokens than the first")
        .actual(fmt::format("{} rows of {} values, {} recorded", obs.n(), h->k,
                            layer0_x_.size() / static_cast<size_t>(h->k)));
  }
  auto e = std::make_unique<EmbeddingInput>();
  e->k = h->k;
  e->n = obs.n();
  e->qq.assign(obs.qq().data(), obs.qq().data() + obs.qq().size());
  e->qx.assign(obs.qx().data(), obs.qx().data() + obs.qx().size());
  embedding_input_ = std::move(e);
  layer0_x_ = {};
  if (embedding_written_) embedding_table_.reset();
  return Status::ok();
}

Result<bool> GptqQuantizer::quantize(const std::string& name, const float* w, int64_t rows,
                                     int64_t k, DType type, uint8_t* dst) {
  if (name == "token_embd.weight") {
    if (!handles(name, type)) return false;
    QUORUM_ASSIGN_OR_RETURN(auto table, embedding_table(type));
    if (!table || table->size() != row_size(type, k) * static_cast<size_t>(rows)) return false;
    std::copy(table->begin(), table->end(), dst);
    embedding_written_ = true;
    // Keep the table only while layer 0's embedding pass still needs it.
    if (embedding_input_ || !options_.embedding_compensation || !run_with_) embedding_table_.reset();
    return true;
  }
  const auto layer = observed_layer(name);
  if (!layer || !handles(name, type)) return false;
  if (!window_ ||
      std::find(window_layers_.begin(), window_layers_.end(), *layer) == window_layers_.end()) {
    QUORUM_TRY(load_window(*layer));
  }
  const Hessian* h = window_->find(name);
  if (h == nullptr || h->n == 0) return false;
  if (embedding_input_ && is_layer0_attention(*layer, name) && embedding_input_->k == k) {
    // W' = W (Σ x x̃ᵀ + λI)(Σ x̃ x̃ᵀ + λI)⁻¹, i.e. W'ᵀ = (Σ x̃ x̃ᵀ + λI)⁻¹ (Σ x̃ xᵀ + λI) Wᵀ.
    const EmbeddingInput& e = *embedding_input_;
    Eigen::Map<const Eigen::MatrixXd> qq(e.qq.data(), k, k), qx(e.qx.data(), k, k);
    const double lambda = std::max(options_.damp, 1e-6) * qq.diagonal().mean();
    Eigen::MatrixXd a = qq;
    a.diagonal().array() += lambda;
    Eigen::MatrixXd b = qx;
    b.diagonal().array() += lambda;
    const Eigen::LLT<Eigen::MatrixXd> llt(a);
    if (llt.info() == Eigen::Success) {
      const Eigen::MatrixXd wt =
          Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic>>(w, k, rows)
              .cast<double>();
      const Eigen::MatrixXd target_t = llt.solve(b * wt);  // [k, rows] = W'ᵀ
      std::vector<float> target(static_cast<size_t>(rows * k));
      Eigen::Map<Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic>>(target.data(), k, rows) =
          target_t.cast<float>();
      Hessian hq;
      hq.k = k;
      hq.n = e.n;
      hq.sum.resize(static_cast<size_t>(k * k));
      for (size_t i = 0; i < hq.sum.size(); ++i) hq.sum[i] = static_cast<float>(e.qq[i]);
      QUORUM_TRY(gptq_quantize(target.data(), rows, k, hq, type, options_, dst, pool_));
      if (sequential()) {
        done_[name] = {type, std::make_shared<const std::vector<uint8_t>>(
                                 dst, dst + row_size(type, k) * static_cast<size_t>(rows))};
      }
      return true;
    }
  }
  QUORUM_TRY(gptq_quantize(w, rows, k, *h, type, options_, dst, pool_));
  if (sequential() && *layer >= 0) {
    done_[name] = {type, std::make_shared<const std::vector<uint8_t>>(
                             dst, dst + row_size(type, k) * static_cast<size_t>(rows))};
  }
  return true;
}

}  // namespace quorum::quant
