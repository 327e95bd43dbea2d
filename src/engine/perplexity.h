// Perplexity and KL divergence as llama.cpp's llama-perplexity computes them:
// the whole text is tokenized once (BOS added if the model adds one); it is cut into
// non-overlapping chunks of n_ctx tokens; each chunk is evaluated from an empty cache with its
// first token replaced by BOS (when the model uses BOS); only the second half of each chunk is
// scored (positions n_ctx/2 .. n_ctx-2 predict the next token), so every scored token has at
// least n_ctx/2 tokens of context.  PPL = exp(mean NLL), ± PPL * sqrt(var(NLL) / (N - 1)).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "core/context.h"
#include "core/status.h"
#include "engine/session.h"

namespace quorum {

struct PerplexityOptions {
  int64_t n_ctx = 512;
  int64_t n_chunks = -1;      // -1: as many as the text holds
  bool add_bos = true;        // replace each chunk's first token with bos_id
  int32_t bos_id = 1;
  ProgressFn progress;        // ("perplexity", chunks done, chunks total); may be empty
  // After each chunk: its index (0-based) and the running perplexity (of the test model when
  // computing a KL divergence); may be empty.
  std::function<void(int64_t chunk, double running_ppl)> on_chunk;
};

struct PerplexityResult {
  double ppl = 0.0;
  double ppl_err = 0.0;          // one standard error
  int64_t n_chunks = 0;
  int64_t n_scored = 0;          // scored tokens
  std::vector<double> chunk_ppl; // running PPL after each chunk (as llama-perplexity prints)
};

// Perplexity of `model` over `tokens` (the tokenized text).
Result<PerplexityResult> perplexity(const std::shared_ptr<const Model>& model,
                                    std::span<const int32_t> tokens,
                                    const PerplexityOptions& options,
                                    SessionOptions session_options = {});

struct KlResult {
  PerplexityResult base, test;
  double mean_kld = 0.0, kld_err = 0.0;     // mean KL(base || test) per scored token ± s.e.
  double max_kld = 0.0;
  double same_top = 0.0, same_top_err = 0.0;  // fraction with identical argmax ± s.e.
  double mean_dp = 0.0, rms_dp = 0.0;       // Δp = p_test(token) - p_base(token)
  double min_dp = 0.0, max_dp = 0.0;
  double ln_ppl_ratio = 0.0, ln_ppl_ratio_err = 0.0;  // ln(PPL(test)/PPL(base)) ± s.e.
  std::vector<float> token_kld;   // [n_scored] KL per scored token, in order (paired tests)
};

// KL divergence of `test` from `base` over the same chunks and scored positions. The models
// must share a vocabulary size. Evaluates both models on every chunk; to compare several test
// models against one base, compute the base once with kl_base (below).
Result<KlResult> kl_divergence(const std::shared_ptr<const Model>& base,
                               const std::shared_ptr<const Model>& test,
                               std::span<const int32_t> tokens, const PerplexityOptions& options,
                               SessionOptions session_options = {});

// The base model's side of kl_divergence, computed once and reused for any number of test
// models (llama-perplexity's --kl-divergence-base file, kept in memory at full precision): the
// logits of the scored positions of every chunk and the base perplexity. Memory:
// bytes(n_chunks, n_ctx, n_vocab) = n_chunks × (n_ctx - 1 - n_ctx/2) × n_vocab × 4.
struct KlBase {
  int64_t n_ctx = 0, n_chunks = 0, n_vocab = 0;
  std::vector<int32_t> tokens;  // the evaluated tokens (n_chunks × n_ctx), checked on reuse
  std::vector<float> logits;    // [n_chunks][n_ctx - 1 - n_ctx/2][n_vocab]
  PerplexityResult ppl;         // = perplexity(base, tokens, options)
  static uint64_t bytes(int64_t n_chunks, int64_t n_ctx, int64_t n_vocab);
};

Result<KlBase> kl_base(const std::shared_ptr<const Model>& base, std::span<const int32_t> tokens,
                       const PerplexityOptions& options, SessionOptions session_options = {});

// kl_divergence against a precomputed base: the same numbers, bit for bit, as
// kl_divergence(base model, test, ...) with the same tokens and options (n_ctx and the chunk
// count must match the base's; the tokens are checked).
Result<KlResult> kl_divergence(const KlBase& base, const std::shared_ptr<const Model>& test,
                               std::span<const int32_t> tokens, const PerplexityOptions& options,
                               SessionOptions session_options = {});

}  // namespace quorum
