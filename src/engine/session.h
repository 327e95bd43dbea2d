// Session: one generation or evaluation stream over a shared, immutable Model.
//
// Holds the KV cache (F16 by default, as llama.cpp), the position, scratch buffers and the
// kernels. decode() runs a batch of tokens through the transformer at the next positions and
// returns logits (last row, or every row for scoring/perplexity). rewind() drops cached
// positions; prefill() reuses the longest cached prefix; fork() copies the cache so a prompt
// prefix computed once serves several continuations. One Session is used by one thread at a
// time; any number of Sessions may share one Model.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "core/context.h"
#include "core/status.h"
#include "kernels/kernels.h"
#include "model/model.h"

namespace quorum {

namespace quant {
class ActivationObserver;  // quant/calibration.h
}

enum class KvType { kF16, kF32 };
enum class LogitsMode { kLast, kAll };

struct SessionOptions {
  int64_t n_ctx = 0;             // context length; 0 = the model's training context
  KvType kv_type = KvType::kF16; // F16 reproduces llama.cpp's default cache rounding
  int64_t n_batch = 512;         // tokens per forward pass (bounds scratch memory)
  int n_threads = 0;             // 0 = default_thread_count(); ignored when `pool` is set
  std::shared_ptr<ThreadPool> pool;          // optional pool shared with other work
  uint64_t max_cache_bytes = 16ull << 30;    // refuse KV caches larger than this
  kernels::Isa max_isa = kernels::Isa::kAvx512;
  // When set, receives the input of every linear layer before its matmul (calibration for
  // imatrix/GPTQ/AWQ); not owned, must outlive the session. Null: no cost.
  quant::ActivationObserver* observer = nullptr;
};

// Bytes the KV cache of `n_ctx` positions takes for `model`.
uint64_t kv_cache_bytes(const Model& model, int64_t n_ctx, KvType kv_type);
// Bytes a session allocates: KV cache, scratch for one batch and per-thread attention buffers.
// Session::create refuses a context whose buffers exceed the memory available.
uint64_t session_bytes(const Model& model, int64_t n_ctx, const SessionOptions& options,
                       int n_threads);
// Positions are int32 in llama.cpp; larger contexts are refused before any size arithmetic.
inline constexpr int64_t kMaxContext = int64_t{1} << 31;

class Session {
 public:
  static Result<std::unique_ptr<Session>> create(std::shared_ptr<const Model> model,
                                                 const SessionOptions& options = {});
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Runs `tokens` at positions [position(), position() + n). Returns the logits of the last
  // token ([n_vocab]) or of every token ([n, n_vocab] row-major), valid until the next call.
  Result<std::span<const float>> decode(std::span<const int32_t> tokens,
                                        LogitsMode mode = LogitsMode::kLast);
  // Makes the cache hold exactly `tokens`, reusing the longest common prefix already cached,
  // and returns the last token's logits (at least one token is always recomputed).
  Result<std::span<const float>> prefill(std::span<const int32_t> tokens);

  // Keeps the first n_past cached positions (0 clears the session).
  Status rewind(int64_t n_past);
  // A new session with a copy of this one's cache and position (the prefix-cache primitive).
  Result<std::unique_ptr<Session>> fork() const;

  int64_t position() const { return static_cast<int64_t>(tokens_.size()); }
  int64_t n_ctx() const { return n_ctx_; }
  int64_t n_vocab() const { return model_->hparams().n_vocab; }
  const std::vector<int32_t>& tokens() const { return tokens_; }  // what the cache holds
  const Model& model() const { return *model_; }
  const std::shared_ptr<const Model>& model_ptr() const { return model_; }
  const SessionOptions& options() const { return options_; }
  ThreadPool& pool() const { return *pool_; }
  const kernels::Kernels& kernels() const { return kernels_; }

 private:
  struct Scratch;
  Session(std::shared_ptr<const Model> model, const SessionOptions& options,
          std::shared_ptr<ThreadPool> pool, int64_t n_ctx);
  // One forward pass over n <= n_batch tokens at positions [position(), +n); writes logits of
  // rows selected by `mode` into logits_ at row offset `out_row`.
  void forward(const int32_t* tokens, int64_t n, LogitsMode mode, int64_t out_row);
  // The error for non-finite logits at position `pos`, naming the likely cause.
  Status non_finite_logits_error(int64_t pos) const;
  // Attention of n query rows q [n, n_head*hd] at positions p0.. over cache layer `il`.
  void attention(int64_t il, const float* q, int64_t n, int64_t p0, float* out);
  void store_kv(int64_t il, const float* k, const float* v, int64_t n, int64_t p0);

  std::shared_ptr<const Model> model_;
  SessionOptions options_;
  std::shared_ptr<ThreadPool> pool_;
  kernels::Kernels kernels_;
  int64_t n_ctx_;
  size_t kv_elem_size_;
  // Per layer: K and V caches [n_ctx, n_embd_kv] in kv_type (row = one position).
  std::vector<std::vector<uint8_t>> k_cache_, v_cache_;
  std::vector<int32_t> tokens_;
  std::vector<float> logits_;  // [n_out, n_vocab]
  std::unique_ptr<Scratch> scratch_;
};

}  // namespace quorum
