// Session life cycle: creation with memory checks, decode() batching and input validation,
// rewind / prefill (prefix reuse) / fork (cache copy). The forward pass is in forward.cpp.
#include "engine/session.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>

#include "core/progress.h"

#include "engine/scratch.h"

namespace quorum {

uint64_t kv_cache_bytes(const Model& model, int64_t n_ctx, KvType kv_type) {
  const HParams& hp = model.hparams();
  const uint64_t elem = kv_type == KvType::kF16 ? 2 : 4;
  return 2ull * static_cast<uint64_t>(hp.n_layer) * static_cast<uint64_t>(n_ctx) *
         static_cast<uint64_t>(hp.n_embd_kv()) * elem;
}

namespace {

// Every matrix the forward pass multiplies must have a kernel for its type.
Status check_kernel_support(const Model& model, const kernels::Kernels& k) {
  const ModelWeights& w = model.weights();
  auto check = [&](const Weight& m, const std::string& name) -> Status {
    if (!m.present() || k.supports(m.type)) return Status::ok();
    return Error(ErrorCode::kUnsupported, "no matmul kernel for this weight type")
        .where(name)
        .actual(dtype_name(m.type));
  };
  QUORUM_TRY(check(w.output, "output.weight"));
  for (size_t i = 0; i < w.layers.size(); ++i) {
    const LayerWeights& l = w.layers[i];
    const std::string p = fmt::format("blk.{}.", i);
    QUORUM_TRY(check(l.wq, p + "attn_q.weight"));
    QUORUM_TRY(check(l.wk, p + "attn_k.weight"));
    QUORUM_TRY(check(l.wv, p + "attn_v.weight"));
    QUORUM_TRY(check(l.wqkv, p + "attn_qkv.weight"));
    QUORUM_TRY(check(l.wo, p + "attn_output.weight"));
    QUORUM_TRY(check(l.ffn_gate, p + "ffn_gate.weight"));
    QUORUM_TRY(check(l.ffn_up, p + "ffn_up.weight"));
    QUORUM_TRY(check(l.ffn_down, p + "ffn_down.weight"));
  }
  return Status::ok();
}

// MemAvailable from /proc/meminfo (Linux); nullopt when unknown.
std::optional<uint64_t> available_memory_bytes() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  uint64_t kib = 0;
  std::string unit;
  while (in >> key >> kib) {
    std::getline(in, unit);
    if (key == "MemAvailable:") return kib * 1024;
  }
  return std::nullopt;
}

// The first row of logits [n_rows, n_vocab] holding a NaN or Inf, or -1.
int64_t first_non_finite_row(const float* logits, int64_t n_rows, int64_t n_vocab) {
  for (int64_t r = 0; r < n_rows; ++r) {
    const float* row = logits + r * n_vocab;
    for (int64_t i = 0; i < n_vocab; ++i) {
      if (!std::isfinite(row[i])) return r;
    }
  }
  return -1;
}

}  // namespace

uint64_t session_bytes(const Model& model, int64_t n_ctx, const SessionOptions& options,
                       int n_threads) {
  const HParams& hp = model.hparams();
  const auto nb = static_cast<uint64_t>(std::min(options.n_batch, n_ctx));
  const auto q_dim = static_cast<uint64_t>(hp.n_head * hp.head_dim);
  const auto kv_dim = static_cast<uint64_t>(hp.n_embd_kv());
  const auto e = static_cast<uint64_t>(hp.n_embd), ff = static_cast<uint64_t>(hp.n_ff);
  // Scratch (see scratch.h): batch activations, then per thread one head's K/V rows and scores.
  const uint64_t batch = nb * (3 * e + 2 * q_dim + 2 * kv_dim + (q_dim + 2 * kv_dim) + 6 * ff);
  const uint64_t per_thread = static_cast<uint64_t>(n_ctx) * (2 * static_cast<uint64_t>(hp.head_dim) + 1);
  const uint64_t logits = static_cast<uint64_t>(hp.n_vocab);  // one row; more for LogitsMode::kAll
  return kv_cache_bytes(model, n_ctx, options.kv_type) +
         4 * (batch + static_cast<uint64_t>(n_threads) * per_thread + logits);
}

Session::Session(std::shared_ptr<const Model> model, const SessionOptions& options,
                 std::shared_ptr<ThreadPool> pool, int64_t n_ctx)
    : model_(std::move(model)),
      options_(options),
      pool_(std::move(pool)),
      kernels_(CpuFeatures::detect(), options.max_isa),
      n_ctx_(n_ctx),
      kv_elem_size_(options.kv_type == KvType::kF16 ? 2 : 4) {}

Session::~Session() = default;

Result<std::unique_ptr<Session>> Session::create(std::shared_ptr<const Model> model,
                                                 const SessionOptions& options) {
  if (model == nullptr) return Error(ErrorCode::kInvalidArgument, "no model given");
  const HParams& hp = model->hparams();
  const int64_t n_ctx = options.n_ctx > 0 ? options.n_ctx : hp.n_ctx_train;
  if (options.n_ctx < 0) {
    return Error(ErrorCode::kInvalidArgument, "context length must be positive")
        .actual(std::to_string(options.n_ctx));
  }
  if (options.n_batch <= 0) {
    return Error(ErrorCode::kInvalidArgument, "batch size must be positive")
        .actual(std::to_string(options.n_batch));
  }
  if (n_ctx > kMaxContext) {
    return Error(ErrorCode::kOutOfMemory, "context length too large")
        .expected(fmt::format("at most {} tokens", kMaxContext))
        .actual(std::to_string(n_ctx))
        .hint("use a smaller --ctx");
  }
  const uint64_t bytes = kv_cache_bytes(*model, n_ctx, options.kv_type);
  if (bytes > options.max_cache_bytes) {
    return Error(ErrorCode::kOutOfMemory, "the KV cache for this context does not fit")
        .where(fmt::format("n_ctx = {}", n_ctx))
        .expected(fmt::format("at most {} (SessionOptions::max_cache_bytes)",
                              format_bytes(static_cast<double>(options.max_cache_bytes))))
        .actual(fmt::format("{} would be needed", format_bytes(static_cast<double>(bytes))))
        .hint("use a smaller --ctx");
  }
  std::shared_ptr<ThreadPool> pool = options.pool;
  const int n_threads = pool != nullptr ? pool->size()
                        : options.n_threads > 0 ? options.n_threads
                                                : default_thread_count();
  // Refuse before allocating anything when the machine cannot hold the buffers.
  const uint64_t need = session_bytes(*model, n_ctx, options, n_threads);
  const std::optional<uint64_t> avail = available_memory_bytes();
  if (avail && need > *avail) {
    return Error(ErrorCode::kOutOfMemory, "not enough memory for this context")
        .where(fmt::format("n_ctx = {}", n_ctx))
        .expected(fmt::format("at most the {} of memory available",
                              format_bytes(static_cast<double>(*avail))))
        .actual(fmt::format("{} would be needed ({} of KV cache)",
                            format_bytes(static_cast<double>(need)),
                            format_bytes(static_cast<double>(bytes))))
        .hint("use a smaller --ctx");
  }
  if (pool == nullptr) pool = std::make_shared<ThreadPool>(n_threads);
  std::unique_ptr<Session> s(new Session(std::move(model), options, std::move(pool), n_ctx));
  QUORUM_TRY(check_kernel_support(*s->model_, s->kernels_));
  const size_t layer_bytes = static_cast<size_t>(n_ctx * hp.n_embd_kv()) * s->kv_elem_size_;
  try {
    s->k_cache_.assign(static_cast<size_t>(hp.n_layer), std::vector<uint8_t>(layer_bytes));
    s->v_cache_.assign(static_cast<size_t>(hp.n_layer), std::vector<uint8_t>(layer_bytes));
    s->scratch_ = std::make_unique<Scratch>(hp, std::min(options.n_batch, n_ctx), n_ctx,
                                            s->pool_->size(),
                                            options.kv_type == KvType::kF32);
  } catch (const std::bad_alloc&) {
    return Error(ErrorCode::kOutOfMemory, "cannot allocate the KV cache and scratch buffers")
        .actual(fmt::format("{} MiB of cache", bytes >> 20))
        .hint("use a smaller --ctx");
  }
  return s;
}

Result<std::span<const float>> Session::decode(std::span<const int32_t> tokens,
                                               LogitsMode mode) {
  const int64_t n = static_cast<int64_t>(tokens.size());
  if (n == 0) {
    return Error(ErrorCode::kInvalidArgument, "no tokens to decode")
        .hint("the prompt is empty; give at least one token");
  }
  if (position() + n > n_ctx_) {
    return Error(ErrorCode::kOutOfRange, "the tokens do not fit in the context")
        .expected(fmt::format("at most {} tokens after the {} cached", n_ctx_ - position(),
                              position()))
        .actual(fmt::format("{} tokens", n))
        .hint("shorten the prompt or use a larger --ctx");
  }
  const int64_t n_vocab = model_->hparams().n_vocab;
  for (int64_t i = 0; i < n; ++i) {
    if (tokens[i] < 0 || tokens[i] >= n_vocab) {
      return Error(ErrorCode::kInvalidArgument, "token id out of the vocabulary")
          .where(fmt::format("token {} of {}", i, n))
          .expected(fmt::format("0 <= id < {}", n_vocab))
          .actual(std::to_string(tokens[i]));
    }
  }
  const int64_t n_out = mode == LogitsMode::kAll ? n : 1;
  logits_.resize(static_cast<size_t>(n_out * n_vocab));
  const int64_t nb = scratch_->n_batch;
  for (int64_t b = 0; b < n; b += nb) {
    const int64_t m = std::min(nb, n - b);
    const bool last = b + m == n;
    if (mode == LogitsMode::kAll) {
      forward(tokens.data() + b, m, LogitsMode::kAll, b);
    } else {
      forward(tokens.data() + b, m, last ? LogitsMode::kLast : LogitsMode::kAll, last ? 0 : -1);
    }
    tokens_.insert(tokens_.end(), tokens.begin() + b, tokens.begin() + b + m);
  }
  // A NaN or Inf anywhere in the computation reaches the logits; catch it here rather than let
  // the sampler pick garbage.
  const int64_t bad = first_non_finite_row(logits_.data(), n_out, n_vocab);
  if (bad >= 0) {
    const Status err = non_finite_logits_error(position() - n_out + bad);
    tokens_.resize(tokens_.size() - static_cast<size_t>(n));  // the cache holds garbage now
    return err;
  }
  return std::span<const float>(logits_.data(), logits_.size());
}

Status Session::non_finite_logits_error(int64_t pos) const {
  // Find the likely cause only now: scanning every weight at load would cost every user.
  const Status weights = find_non_finite_weight(*model_);
  if (!weights) {
    return Status(ErrorCode::kCorruptFile,
                  fmt::format("the forward pass produced NaN or infinite logits (at token position "
                              "{}) because {}",
                              pos, weights.message()));
  }
  return Error(ErrorCode::kCorruptFile, "the forward pass produced NaN or infinite logits")
      .where(fmt::format("token position {}", pos))
      .actual("every weight is finite, so an activation overflowed")
      .hint(options_.kv_type == KvType::kF16 ? "try an F32 KV cache; F16 overflows above 65504"
                                              : "the weights' scale is out of range for this model");
}

Result<std::span<const float>> Session::prefill(std::span<const int32_t> tokens) {
  if (tokens.empty()) {
    return Error(ErrorCode::kInvalidArgument, "no tokens to decode")
        .hint("the prompt is empty; give at least one token");
  }
  size_t common = 0;
  while (common < tokens_.size() && common < tokens.size() && tokens_[common] == tokens[common]) {
    ++common;
  }
  if (common == tokens.size()) --common;  // recompute the last token to get its logits
  QUORUM_TRY(rewind(static_cast<int64_t>(common)));
  return decode(tokens.subspan(common), LogitsMode::kLast);
}

Status Session::rewind(int64_t n_past) {
  if (n_past < 0 || n_past > position()) {
    return Error(ErrorCode::kOutOfRange, "cannot rewind past the cached positions")
        .expected(fmt::format("0 <= n_past <= {}", position()))
        .actual(std::to_string(n_past));
  }
  tokens_.resize(static_cast<size_t>(n_past));
  return Status::ok();
}

Result<std::unique_ptr<Session>> Session::fork() const {
  SessionOptions o = options_;
  o.n_ctx = n_ctx_;
  o.pool = pool_;
  QUORUM_ASSIGN_OR_RETURN(std::unique_ptr<Session> s, create(model_, o));
  const size_t used = tokens_.size() * static_cast<size_t>(model_->hparams().n_embd_kv()) *
                      kv_elem_size_;
  for (size_t il = 0; il < k_cache_.size(); ++il) {
    std::memcpy(s->k_cache_[il].data(), k_cache_[il].data(), used);
    std::memcpy(s->v_cache_[il].data(), v_cache_[il].data(), used);
  }
  s->tokens_ = tokens_;
  return s;
}

}  // namespace quorum
