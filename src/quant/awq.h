// AWQ: activation-aware weight quantization (Lin et al., "AWQ: Activation-aware Weight
// Quantization for LLM Compression and Acceleration", MLSys 2024, arXiv:2306.00978), producing
// ordinary GGUF files.
//
// For each group of linear layers that read the same input X (n, k), AWQ looks for per-input-
// channel scales s[k] that make the salient channels (large mean |x|) quantize more precisely:
//   W' = W · diag(s) is quantized, and the preceding operation is divided by s, so that
//   Q(W') · diag(s)⁻¹ X replaces W X at no run-time cost.
// The scales are s = mean|x|^α normalized by sqrt(max · min), α from a grid over [0, 1) chosen to
// minimize the output error ‖(Q(W·diag(s))·diag(s)⁻¹ − W) Xᵀ‖² summed over the group's weights,
// where Q is the real GGUF quantizer of each weight's target type (the file mix decides it). The
// error is computed through the Gram matrix H = XᵀX: Σ_rows Δ_r H Δ_rᵀ (exact, and independent
// of the number of calibration tokens). α = 0 is plain round-to-nearest, so AWQ never has a larger
// calibration error than RTN. An optional clip search then shrinks each 32-weight group's range
// (max |w| · r, r from a grid over [0.5, 1]) where that lowers the group's output error
// Δ_g H_gg Δ_gᵀ (not for attn_q / attn_k, whose errors the attention scores amplify).
//
// Groups per block (weights: scaled columns ← where s⁻¹ is folded):
//   attn_q, attn_k, attn_v  ← attn_norm weight
//   ffn_gate, ffn_up        ← ffn_norm weight
//   ffn_down                ← ffn_up rows (the input is silu(gate) · up, linear in up's rows)
//   attn_output             ← attn_v rows (and bias): each attention output channel h·hd + d is
//                             a mix of V rows (h / gqa)·hd + d, so one scale per V row serves
//                             all heads that share it (their mean |x| is averaged); skipped when
//                             the shapes do not divide so (the report says why)
// The scaled weights and the divided norms / rows are handed to the quantize driver as F32
// replacements (TensorOverrides); everything else is RTN, so the file loads everywhere.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/thread_pool.h"
#include "io/gguf.h"
#include "quant/calibration.h"
#include "tensor/dtype.h"

namespace quorum::quant {

// Replacement F32 contents of input tensors (same element count), applied before quantization.
using TensorOverrides = std::map<std::string, std::shared_ptr<const std::vector<float>>>;

// Statistics of one linear input X (n, k): per-channel sum of |x| and the Gram matrix XᵀX.
struct AwqInputStats {
  int64_t k = 0;
  int64_t n = 0;                // rows seen
  std::vector<double> sum_abs;  // [k]
  std::vector<float> gram;      // [k, k] row-major, Σ x xᵀ
  // Every kSampleStride-th input row, up to kSampleRows of them [sample_rows, k]: the block
  // objective of the ffn_gate/ffn_up group needs inputs, not only XᵀX (silu is not linear).
  static constexpr int64_t kSampleStride = 8, kSampleRows = 512;
  std::vector<float> sample;
  int64_t sample_rows = 0;
  void add(const float* x, int64_t rows, int64_t cols, ThreadPool* pool);
};

// Collects AwqInputStats from the engine's forward passes, keyed by the first weight that reads
// the input ("blk.0.attn_q.weight", "blk.0.ffn_gate.weight", "blk.0.ffn_down.weight",
// "blk.0.attn_output.weight"); output.weight is ignored.
class AwqCollector : public ActivationObserver {
 public:
  explicit AwqCollector(ThreadPool* pool) : pool_(pool) {}
  void on_linear_input(const LinearInput& input) override;
  const std::map<std::string, AwqInputStats>& stats() const { return stats_; }
  std::map<std::string, AwqInputStats>& stats() { return stats_; }

 private:
  ThreadPool* pool_;
  std::map<std::string, AwqInputStats> stats_;
};

struct AwqOptions {
  int grid = 20;          // α = 0, 1/grid, ..., (grid-1)/grid
  bool clip = true;       // per-group range shrink search
  int clip_grid = 10;     // r = 1, 1 - 0.5/clip_grid, ..., 0.5 + 0.5/clip_grid
  float clip_min = 0.5f;  // smallest r tried
  // Activation importance for the block quantizer (llama.cpp's AWQ + imatrix): the scaled
  // weights' column c is quantized with the weight E[x_c²] / s_c² (what an imatrix of the folded
  // model would hold), in the search and in the file. Plain RTN (α = 0, unweighted) stays a
  // candidate, so the calibration error is still at most RTN's.
  bool importance = true;
  // Only candidates under which every weight of the group has at most its RTN error.
  bool per_weight = true;
  // Also scale the attn_q/attn_k/attn_v group and weight attn_q/attn_k's quantizer (off: that
  // group stays plain RTN; scaling it lowered the calibration error by up to 65% yet raised the
  // KL divergence, and attn_v's importance alone raised qt-qwen's, docs/QUANT.md).
  bool scale_scores = false;
  // Choose the ffn_gate/ffn_up group's scales by the FFN block's output error,
  // || down(silu(x Gqᵀ) ⊙ x Uqᵀ) − down(silu(x Gᵀ) ⊙ x Uᵀ) ||² on sampled calibration inputs
  // (ffn_down unquantized), as the AWQ paper scores a group by the module it feeds, instead of
  // each linear's own output error; plain RTN stays a candidate, so on those inputs the block
  // error is at most RTN's. The per-linear error lowered by 60-75 % on qt-qwen yet raised its
  // KL (docs/QUANT.md).
  bool block_objective = true;
  // token_embd.weight, which no scale can protect (its input is one-hot and it feeds the
  // residual stream), is rounded as GPTQ rounds it (gptq_embedding_table: the output error of
  // layer 0's weights that read it; calibration-free) instead of RTN. On the llama task models
  // most of the 3- and 4-bit KL divergence is that table's error (docs/QUANT.md).
  bool embedding_rounding = true;
  // Diagnostics: search only the groups whose name contains this ("ffn_down", "attn_out", ...);
  // the others stay plain RTN. Empty: all groups.
  std::string only;
  std::string skip;  // and not those whose name contains this
  // Diagnostics: statistics of other (held-out) text; when set, every group report also gives
  // the output error of the chosen weights and of RTN under these inputs.
  const std::map<std::string, AwqInputStats>* holdout = nullptr;
};

struct AwqGroupReport {
  std::string name;          // "blk.0.attn_in"
  bool applied = false;
  std::string note;          // why a group was skipped
  double alpha = 0.0;
  double error_rtn = 0.0;    // calibration output error of plain RTN (α = 0, no clip)
  double error_awq = 0.0;    // after scale (and clip) search
  bool importance = false;   // the chosen weights are quantized with activation importance
  double holdout_rtn = 0.0;  // the same two errors under AwqOptions::holdout (when given)
  double holdout_awq = 0.0;
};

struct AwqResult {
  TensorOverrides overrides;
  // Per-column quantizer weights [k] for the tensors whose group chose importance; the file
  // writer passes them to the type's quantizer like imatrix values.
  std::map<std::string, std::shared_ptr<const std::vector<float>>> importance;
  std::vector<AwqGroupReport> groups;
};

// Searches scales (and clips) for every group, using `types[name]` (the target type of each
// weight; weights missing there are left alone) and the collected statistics.
Result<AwqResult> awq_search(const gguf::File& file, const std::map<std::string, DType>& types,
                             const std::map<std::string, AwqInputStats>& stats,
                             const AwqOptions& options, ThreadPool& pool);

// Folds given scales without quantizing: `scales` maps a group name ("blk.0.attn_in",
// "blk.0.ffn_in", "blk.0.ffn_down", "blk.0.attn_out") to s[k]. The model computes the same
// function afterwards (up to float rounding). Used by awq_search and by tests.
Result<TensorOverrides> awq_fold(const gguf::File& file,
                                 const std::map<std::string, std::vector<float>>& scales);

// The groups of a model and their input widths k ("blk.0.attn_in" -> 256); groups whose shapes
// do not allow folding are listed with a note and k = 0.
std::vector<std::pair<std::string, int64_t>> awq_groups(const gguf::File& file,
                                                        std::map<std::string, std::string>* notes);

}  // namespace quorum::quant
