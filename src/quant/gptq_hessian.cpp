// GPTQ's calibration side (see gptq.h): Hessian accumulation from the engine's linear-layer
// inputs, and the window of layers whose Hessians are held at once.
#include <fmt/format.h>

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
  // H[:, panel] += Xᵀ X restricted to the lower triangle; x [n, k] row-major = Xᵀ [k, n].
  const int64_t k = in.k;
  Eigen::Map<const MatF> xt(in.x, k, in.n);
  Eigen::Map<MatF> hm(h.sum.data(), k, k);
  constexpr int64_t kPanel = 64;
  const int64_t n_panels = (k + kPanel - 1) / kPanel;
  pool_.run_on_all([&](int t, int n_threads) {
    for (int64_t pnl = t; pnl < n_panels; pnl += n_threads) {
      const int64_t j0 = pnl * kPanel, w = std::min(kPanel, k - j0);
      hm.block(j0, j0, k - j0, w).noalias() +=
          xt.middleRows(j0, k - j0) * xt.middleRows(j0, w).transpose();
    }
  });
  h.n += in.n;
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
    : run_(std::move(run)), options_(options), pool_(pool) {
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
  if (sequential()) return run_with_(*window_, done_);
  return run_(*window_);
}

Result<bool> GptqQuantizer::quantize(const std::string& name, const float* w, int64_t rows,
                                     int64_t k, DType type, uint8_t* dst) {
  const auto layer = observed_layer(name);
  if (!layer || !handles(name, type)) return false;
  if (!window_ ||
      std::find(window_layers_.begin(), window_layers_.end(), *layer) == window_layers_.end()) {
    QUORUM_TRY(load_window(*layer));
  }
  const Hessian* h = window_->find(name);
  if (h == nullptr || h->n == 0) return false;
  QUORUM_TRY(gptq_quantize(w, rows, k, *h, type, options_, dst, pool_));
  if (sequential() && *layer >= 0) {
    done_[name] = {type, std::make_shared<const std::vector<uint8_t>>(
                             dst, dst + row_size(type, k) * static_cast<size_t>(rows))};
  }
  return true;
}

}  // namespace quorum::quant
